/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/*
 * A real mosquitto for tests: a private configuration in a temporary
 * directory, listeners on 127.0.0.1 only, on free ports (bound with port 0,
 * so parallel tests do not collide), the broker a child process that dies
 * with the test (PR_SET_PDEATHSIG). It can be stopped, killed and started
 * again on the same ports.
 *
 * Plus a probe: a second MQTT client (libmosquitto with its own thread) that
 * subscribes and records what it receives, or publishes, on behalf of the
 * test.
 */

#define BROKER_ERROR (broker_error_quark())
GQuark broker_error_quark(void);

enum broker_error_code {
	BROKER_ERROR_MISSING, /* no mosquitto binary: skip the test */
	BROKER_ERROR_FAILED,  /* it would not start; the message has its log */
};

struct broker_config {
	bool allow_anonymous;
	/* NULL-terminated name, password, name, password, ...: a
	 * password_file made with mosquitto_passwd -b. */
	const char *const *users;
	const char *acl; /* the contents of an acl_file, or NULL */
	/* TLS on the main listener when certfile is set; the probe
	 * listener stays plain. */
	const char *cafile;
	const char *certfile;
	const char *keyfile;
	bool require_certificate; /* clients must present one (from cafile) */
	/* Sessions, queued and retained messages saved in the broker's
	 * directory at a stop (SIGTERM) and read at the next start. */
	bool persistence;
	/* More lines for the end of mosquitto.conf (a bridge's
	 * "connection" section), or NULL; borrowed: it must outlive the
	 * broker, which writes it again at each start. */
	const char *extra;
};

typedef struct broker broker;

/*
 * Writes the configuration, starts mosquitto and waits (at most 5 s) until
 * it accepts connections. BROKER_ERROR_MISSING when mosquitto cannot be
 * found (set MOSQUITTO=/path to point at one).
 */
broker *broker_new(const struct broker_config *config, GError **error);

/* Kills the broker if it runs and removes its directory. NULL-safe. */
void broker_free(broker *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(broker, broker_free)

/* The main listener (TLS when configured). */
int broker_port(broker *b);
/* A plain listener with the same users and ACL, for the probe. */
int broker_probe_port(broker *b);
/* The broker's private directory (configuration, password file, log). */
const char *broker_dir(broker *b);

/* Starts it again on the same ports and waits until it accepts. */
gboolean broker_start(broker *b, GError **error);
/* SIGTERM and wait. */
void broker_stop(broker *b);
/* SIGKILL and wait: no goodbye, in-memory state lost. */
void broker_kill(broker *b);
bool broker_running(broker *b);

/* A NULL-terminated copy of @args (owned, free with g_strfreev), for
 * g_spawn_*, which wants char **. */
char **broker_argv(const char *const *args);

/* The tail of the broker's log, for a failure message. */
char *broker_log_tail(broker *b);

/* Skips the current test (g_test_skip) when @error says mosquitto is
 * missing, fails it on any other error. Returns whether to go on. */
bool broker_check(const GError *error);

/* --- the probe ------------------------------------------------------------ */

struct probe_message {
	char *topic;
	char *payload; /* NUL-terminated copy */
	size_t len;
	bool retain;
	int64_t received_us; /* g_get_monotonic_time() at arrival */
};

typedef struct probe_message probe_message;
typedef struct probe probe;

/*
 * Connects to 127.0.0.1:@port (plain, as @username / @password if not
 * NULL), subscribes to the NULL-terminated @topics at QoS 0 and waits (at
 * most 5 s) for the SUBACK. It reconnects and subscribes again by itself
 * (every second) when the broker comes back.
 *
 * QoS 0 on purpose: a QoS 1 subscriber writes PUBACKs, and when the broker
 * is killed a failed write makes libmosquitto drop what it had received
 * but not yet read; with QoS 0 it reads everything the broker sent before
 * it died.
 */
probe *probe_new(int port, const char *username, const char *password,
		 const char *const *topics, GError **error);
void probe_free(probe *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(probe, probe_free)

/* Waits (at most @timeout_ms) until subscribed again after a reconnect. */
bool probe_wait_ready(probe *p, unsigned timeout_ms);
/* Waits (at most @timeout_ms) until at least @count messages arrived. */
bool probe_wait_count(probe *p, unsigned count, unsigned timeout_ms);
/* How many messages arrived so far. */
unsigned probe_count(probe *p);
/* A copy of message @i (free with probe_message_free), or NULL. */
struct probe_message *probe_get(probe *p, unsigned i);
void probe_message_free(struct probe_message *m);

/*
 * A test's broker (@config) and a probe subscribed to @topics on it: TRUE
 * with both set, or FALSE after broker_check() skipped the test (no
 * mosquitto); any other failure fails the test.
 */
bool probe_new_with_broker(const struct broker_config *config,
			   const char *const *topics, broker **ret_broker,
			   probe **ret_probe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(probe_message, probe_message_free)
/* Index of the first message from index @from on @topic whose payload
 * holds @needle (NULL: any), waiting at most @timeout_ms; -1 if none came. */
int probe_wait_message(probe *p, unsigned from, const char *topic,
		       const char *needle, unsigned timeout_ms);
/* Forgets the messages received so far. */
void probe_clear(probe *p);
/* Publishes and waits (at most 5 s) until it is written (QoS 0) or
 * acknowledged (QoS 1). */
bool probe_publish(probe *p, const char *topic, const char *payload, int qos,
		   bool retain);
