/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/*
 * The MQTT client (DESIGN §7): libmosquitto driven by the GLib main loop of
 * the thread that calls mqtt_client_start, with no thread of its own.
 *
 * - Connection: MQTT 3.1.1 (or 5) with a clean session (or a kept one:
 *   persistent_session), asynchronous
 *   connect, reconnect with jittered exponential backoff. Last will
 *   <base>/status = "offline" (retained, QoS 1); "online" (retained) after
 *   every CONNACK; "offline" again on mqtt_client_stop.
 * - Security: TLS with the peer's certificate and host name verified, an
 *   optional client certificate, username and password. Plain text to a
 *   broker that is not on the loopback interface is refused unless
 *   allow_insecure is set: the payloads are health data.
 * - Outbox: the caller writes every QoS 1 message to its outbox first
 *   (gateway/core/store.c) and calls mqtt_client_outbox_changed. The client
 *   drains the outbox in id order with at most max_inflight messages
 *   awaiting their PUBACK and reports each acknowledged row through
 *   ops->outbox_sent. After a reconnect it starts again from the oldest
 *   unsent row, so a message whose PUBACK was lost with the connection is
 *   sent again: at least once, in order, which is what QoS 1 promises.
 * - Live values (QoS 0, not in the outbox): while disconnected only the
 *   newest per topic is kept, and sent on reconnect.
 * - Inbound: <base>/+/checkin/set and <discovery>/status, plus the extra
 *   filters of mqtt_client_subscribe, handed raw to ops->message
 *   (mqtt/inbound.c validates them).
 * - Direct publishes (mqtt_client_publish): for what is rebuilt on every
 *   connect anyway (Home Assistant discovery), not worth an outbox row.
 *
 * Nothing here logs: errors are GErrors in MQTT_CLIENT_ERROR, returned or
 * passed to ops->disconnected, and remarks go to ops->log.
 *
 * The process must ignore SIGPIPE: libmosquitto writes to its socket with
 * write(2), and a broker that goes away would otherwise kill the process.
 * mqtt_client_new refuses to run without it.
 */

#define MQTT_CLIENT_ERROR (mqtt_client_error_quark())
GQuark mqtt_client_error_quark(void);

enum mqtt_client_error_code {
	MQTT_CLIENT_ERROR_INVALID,  /* a bad configuration or argument */
	MQTT_CLIENT_ERROR_INSECURE, /* plain text to a non-loopback host */
	MQTT_CLIENT_ERROR_FILE,	    /* a TLS or password file is unusable */
	MQTT_CLIENT_ERROR_CONNECT,  /* resolving or TCP connect failed */
	MQTT_CLIENT_ERROR_TLS,	    /* TLS handshake or verification */
	MQTT_CLIENT_ERROR_NOT_AUTHORIZED, /* CONNACK: bad credentials or not
					     authorised */
	MQTT_CLIENT_ERROR_REFUSED,	  /* CONNACK: any other refusal */
	MQTT_CLIENT_ERROR_LOST,		  /* an established connection broke */
	MQTT_CLIENT_ERROR_TIMEOUT,	  /* no CONNACK in time */
	MQTT_CLIENT_ERROR_NOT_RUNNING,	  /* the call needs mqtt_client_start */
	MQTT_CLIENT_ERROR_FAILED, /* anything else libmosquitto reports */
};

/* Sets @error to MQTT_CLIENT_ERROR_INVALID with the formatted text; returns
 * FALSE (for `return mqtt_client_invalid(error, …);`). */
gboolean mqtt_client_invalid(GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* One message, as the outbox hands it over. */
struct mqtt_message {
	int64_t id; /* the outbox row: increasing, the order to send in */
	char *topic;
	GBytes *payload;
	int qos; /* 0 or 1 (2 is sent as 1) */
	bool retain;
};

typedef struct mqtt_message mqtt_message;

/* A new message owning a copy of @topic and a reference to @payload (NULL:
 * empty). Free with mqtt_message_free. */
struct mqtt_message *mqtt_message_new(int64_t id, const char *topic,
				      GBytes *payload, int qos, bool retain);
/* Frees @msg, its topic and its payload reference. NULL-safe. */
void mqtt_message_free(struct mqtt_message *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(mqtt_message, mqtt_message_free)

struct mqtt_client_config {
	const char *host; /* required: a name or an address */
	int port;	  /* 0: 1883, or 8883 with TLS */
	/* NULL: "recoveryd-<hostname>". Unique per broker: a second
	 * client with the same id takes the connection over. */
	const char *client_id;
	const char *base_topic;	      /* NULL: "recovery" */
	const char *discovery_prefix; /* NULL: "homeassistant" */

	const char *username; /* NULL: no credentials */
	/* At most one of the two; a password needs a username. The file is
	 * read once, by mqtt_client_new (mqtt/password.h), with a warning
	 * through ops->log when group or others may read it. */
	const char *password;
	const char *password_file;

	bool tls;
	/* CA certificates that sign the broker's: a PEM file, a hashed
	 * directory (c_rehash), or neither for the system's CAs. */
	const char *ca_file;
	const char *ca_dir;
	const char *cert_file; /* client certificate, PEM; with key_file */
	const char *key_file;  /* its unencrypted private key, PEM */
	bool allow_insecure;   /* plain text to a non-loopback broker */

	int protocol;	       /* 0 or 311: MQTT 3.1.1; 5: MQTT 5 */
	int keepalive_s;       /* 0: 30; else 5..65535 */
	unsigned max_inflight; /* QoS 1 awaiting PUBACK; 0: 20; at most 65535 */
	/* Reconnect delay: min_ms doubled after each failure up to max_ms,
	 * each delay drawn within ±20 %; back to min_ms once connected.
	 * 0: 1000 and 60000. */
	unsigned reconnect_min_ms;
	unsigned reconnect_max_ms;
	/* How long mqtt_client_stop waits for "offline" to be acknowledged
	 * and the DISCONNECT to be written; 0: 2000. */
	unsigned stop_timeout_ms;
	/* How long a connection attempt may take from TCP connect to
	 * CONNACK; 0: 10000. */
	unsigned connect_timeout_ms;
	/*
	 * Asks the broker to keep the session (clean session off, MQTT
	 * 3.1.1): the subscriptions stay and QoS 1 messages for them are
	 * queued while the client is away (a home gateway's satellites'
	 * readings, check-ins), as the broker's max_queued_messages allows,
	 * and across a broker restart with its persistence on. The client id
	 * must then be this client's alone. With MQTT 5 libmosquitto's
	 * asynchronous connect sends no session expiry interval, so the
	 * broker ends the session at the disconnect.
	 */
	bool persistent_session;
};

/*
 * What the client needs from, and tells, its owner. Every callback may be
 * NULL except outbox_pending and outbox_sent, and gets @data as its first
 * argument. They run in the client's main context (the thread that called
 * mqtt_client_start), never from inside libmosquitto (log excepted), so
 * they may call any mqtt_client_* function except mqtt_client_free.
 */
struct mqtt_client_ops {
	/*
	 * Appends up to @limit unsent outbox rows with id > @after_id, in id
	 * order, to @ret (struct mqtt_message *, owned by the array: its free
	 * function is mqtt_message_free). FALSE with @error set on failure;
	 * the client reports it through log and tries again a second later.
	 */
	gboolean (*outbox_pending)(void *data, int64_t after_id, unsigned limit,
				   GPtrArray *ret, GError **error);
	/*
	 * Marks row @id sent: the broker acknowledged it (QoS 1) or it was
	 * written to the socket (QoS 0). Also called, after a warning through
	 * log, for a row no broker can ever accept (a topic libmosquitto
	 * refuses, a payload over the broker's maximum packet size, a PUBACK
	 * with an MQTT 5 error reason), so that one bad row cannot block the
	 * outbox for ever. On failure the row stays unsent and goes out
	 * again after the next reconnect.
	 */
	gboolean (*outbox_sent)(void *data, int64_t id, GError **error);
	/* The broker accepted the connection; "online" is on its way. */
	void (*connected)(void *data);
	/*
	 * A connection attempt failed or an established connection broke
	 * (@reason says which and why, in MQTT_CLIENT_ERROR: NOT_AUTHORIZED
	 * for a wrong password, TLS for a certificate that does not verify),
	 * and a reconnect is scheduled; or mqtt_client_stop ended the
	 * connection (@reason NULL). Called once per attempt, so the owner
	 * decides how loudly to log repeats.
	 */
	void (*disconnected)(void *data, const GError *reason);
	/*
	 * An inbound message on a subscribed topic, raw: the caller validates
	 * it (mqtt/inbound.c). @payload is valid during the call only and is
	 * followed by a NUL byte not counted in @len. @retained: the broker
	 * sent it as a retained message, kept from before our subscription
	 * (not a message someone sent just now).
	 */
	void (*message)(void *data, const char *topic, const void *payload,
			size_t len, bool retained);
	/* A remark for the daemon's log: warnings (a password file others can
	 * read, a message dropped), and libmosquitto's own messages at debug
	 * level. Must not call into the client. */
	void (*log)(void *data, GLogLevelFlags level, const char *message);
};

struct mqtt_client_stats {
	uint64_t connects;     /* CONNACKs accepted */
	uint64_t attempts;     /* connection attempts begun */
	uint64_t published;    /* outbox rows handed to libmosquitto */
	uint64_t acknowledged; /* outbox rows reported through outbox_sent */
	uint64_t live_sent;    /* live values published */
	uint64_t live_dropped; /* live values replaced by a newer one while
				  disconnected */
	uint64_t received;     /* inbound messages passed to ops->message */
	uint64_t direct_sent;  /* handed to libmosquitto by
				  mqtt_client_publish */
};

typedef struct mqtt_client mqtt_client;

/*
 * A stopped client for @config (copied; the caller's strings need not
 * outlive the call) and @ops (copied). Initialises libmosquitto on first
 * use (mosquitto_lib_init, once per process, never undone: it sets up
 * OpenSSL, which other code in the process may share).
 *
 * Checks everything that can be checked before a connection: the host is
 * set and, without TLS, on the loopback interface (127.0.0.0/8, ::1 or
 * "localhost", MQTT_CLIENT_ERROR_INSECURE otherwise) unless allow_insecure;
 * TLS files exist and are readable; the password file (MQTT_CLIENT_ERROR_
 * FILE); the numbers are in range; SIGPIPE is ignored. Returns NULL with
 * @error set on failure.
 */
mqtt_client *mqtt_client_new(const struct mqtt_client_config *config,
			     const struct mqtt_client_ops *ops, void *data,
			     GError **error);

/*
 * Frees @client. A client still running is not stopped cleanly: the socket
 * is closed without DISCONNECT and the broker publishes the last will
 * ("offline"), as after a crash; call mqtt_client_stop first for a clean
 * goodbye. Not from an ops callback. NULL-safe.
 */
void mqtt_client_free(mqtt_client *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(mqtt_client, mqtt_client_free)

/*
 * Starts connecting, in the thread-default main context of the caller, and
 * returns at once; everything else happens in that context's main loop.
 * Connection failures are not errors here: they go to ops->disconnected and
 * are retried. On every CONNACK the client publishes "online", subscribes,
 * sends the live values kept while disconnected, then drains the outbox.
 * FALSE (MQTT_CLIENT_ERROR_INVALID) if already running.
 */
gboolean mqtt_client_start(mqtt_client *client, GError **error);

/*
 * Says goodbye: publishes "offline" (retained) and waits for its PUBACK,
 * sends DISCONNECT, and waits for it to be written, all within
 * stop_timeout_ms, without running the main loop. Then closes the
 * connection and cancels reconnects; ops->disconnected gets a NULL reason
 * if a connection was up. Rows still in flight stay unsent in the outbox.
 * A stopped client can be started again. No-op when not running.
 */
void mqtt_client_stop(mqtt_client *client);

/* Whether the broker has accepted the current connection. */
bool mqtt_client_is_connected(mqtt_client *client);

/*
 * Tells the client that rows were added to the outbox. When connected, it
 * fetches and publishes them at once (up to max_inflight awaiting PUBACK);
 * otherwise they wait for the next CONNACK. Cheap to call after every row.
 */
void mqtt_client_outbox_changed(mqtt_client *client);

/*
 * Publishes a live value at QoS 0, outside the outbox. While disconnected,
 * keeps only the newest value per topic (an older one for the same topic is
 * dropped and counted) and publishes them after the next CONNACK. FALSE
 * with MQTT_CLIENT_ERROR_INVALID for a topic that is not a valid publish
 * topic or a payload over 256 MiB; MQTT_CLIENT_ERROR_NOT_RUNNING if the
 * client is not started.
 */
gboolean mqtt_client_publish_live(mqtt_client *client, const char *topic,
				  const void *payload, size_t len, bool retain,
				  GError **error);

/*
 * Adds @filter (a valid MQTT topic filter, wildcards allowed) to the
 * subscriptions sent, at QoS 1, after every CONNACK, after the client's own
 * two; when connected it is also sent at once. The broker then delivers
 * matching messages, retained ones first, through ops->message. Returns
 * TRUE, doing nothing, for a filter already subscribed (one of the
 * client's own included). FALSE with MQTT_CLIENT_ERROR_INVALID for an
 * invalid filter or more than 64 extra filters. Works on a stopped client
 * too. A refusal in the SUBACK is reported through ops->log.
 */
gboolean mqtt_client_subscribe(mqtt_client *client, const char *filter,
			       GError **error);

/*
 * Removes @filter from the extra subscriptions and, when connected, sends
 * UNSUBSCRIBE; messages already on their way may still arrive. TRUE, doing
 * nothing, for a filter not subscribed. FALSE with
 * MQTT_CLIENT_ERROR_INVALID for an invalid filter or one of the client's
 * own two subscriptions, which stay.
 */
gboolean mqtt_client_unsubscribe(mqtt_client *client, const char *filter,
				 GError **error);

/*
 * Publishes at once, outside the outbox (@qos 0 or 1; 2 is sent as 1),
 * for messages the owner sends again after every connect anyway (Home
 * Assistant discovery configs: QoS 1, retained). Nothing is kept: while
 * not connected the message is dropped and the call returns FALSE with
 * MQTT_CLIENT_ERROR_NOT_RUNNING, and a QoS 1 message whose PUBACK the
 * connection loses is not sent again. TRUE once libmosquitto has queued
 * it (it may wait behind max_inflight others). FALSE with
 * MQTT_CLIENT_ERROR_INVALID for a topic that is not a valid publish topic,
 * a payload over 256 MiB or a QoS outside 0-2; MQTT_CLIENT_ERROR_FAILED
 * if libmosquitto refuses it.
 */
gboolean mqtt_client_publish(mqtt_client *client, const char *topic,
			     const void *payload, size_t len, int qos,
			     bool retain, GError **error);

/* Fills @ret with the counters since mqtt_client_new. */
void mqtt_client_get_stats(mqtt_client *client, struct mqtt_client_stats *ret);

/* The status topic, "<base>/status" (owned by the client). */
const char *mqtt_client_status_topic(mqtt_client *client);
