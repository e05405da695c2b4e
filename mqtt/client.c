// SPDX-License-Identifier: MIT
/*
 * libmosquitto in the GLib main loop, without its thread.
 *
 * One struct mosquitto per connection attempt ("session"): created by
 * session_begin, destroyed by teardown, never reused. libmosquitto 2.0
 * re-sends its in-flight QoS 1 messages itself after a reconnect, even with
 * a clean session (handle__connack -> message__retry_check), and it would do
 * so ahead of the outbox rows the drain sends again; with a fresh object the
 * only copy of an unacknowledged message is the outbox row, and the order on
 * the wire is the outbox order.
 *
 * The socket is watched by a small GSource (G_IO_IN always, G_IO_OUT while
 * mosquitto_want_write()), made anew for every session because the socket
 * is new; a timer runs mosquitto_loop_misc (keepalive; every second while
 * connecting, once connected when the next PINGREQ is due) and the connect
 * timeout. libmosquitto's callbacks only record what happened (struct event)
 * and pump() acts on it after libmosquitto returns: no ops callback runs
 * inside libmosquitto, and a session is never destroyed from within one of
 * its own callbacks.
 */
#include "mqtt/client.h"

#include "gateway/common/owner-log.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "mqtt/password.h"

#define DEFAULT_PORT		1883
#define DEFAULT_TLS_PORT	8883
#define DEFAULT_BASE		"recovery"
#define DEFAULT_PREFIX		"homeassistant"
#define DEFAULT_KEEPALIVE_S	30
#define DEFAULT_MAX_INFLIGHT	20
#define DEFAULT_RECONNECT_MIN	1000
#define DEFAULT_RECONNECT_MAX	60000
#define DEFAULT_STOP_TIMEOUT	2000
#define DEFAULT_CONNECT_TIMEOUT 10000
#define MISC_INTERVAL_MS	1000
#define DRAIN_RETRY_MS		1000
#define BATCH_ROWS		100
#define JITTER			0.2
#define LIB_ERRORS_MAX		400 /* bytes of libmosquitto errors kept */
#define LIVE_TOPICS_MAX		4096
#define EXTRA_SUBS_MAX		64
/* A hung-up socket whose reads keep "succeeding" (an SSL_ERROR_SYSCALL in
 * the handshake) is given up after this many reads in one wakeup. */
#define HUP_READS_MAX 64

GQuark mqtt_client_error_quark(void)
{
	return g_quark_from_static_string("mqtt-client-error-quark");
}

typedef struct mosquitto mosq_handle;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(mosq_handle, mosquitto_destroy)

enum event_kind {
	EV_PUBLISHED, /* PUBACK (QoS 1) or written (QoS 0): mid, code */
	EV_MESSAGE,   /* inbound: topic, payload */
	EV_SUBACK,    /* code: how many topics the broker refused */
	EV_CONNACK,   /* accepted (a refusal is recorded at once) */
};

struct event {
	enum event_kind kind;
	int mid;
	int code;
	char *topic;
	GBytes *payload; /* with a NUL byte after the data, not counted */
	bool retained;
};

/* An outbox row handed to libmosquitto, awaiting on_publish. */
struct inflight {
	int mid;
	int64_t id;
};

struct live_value {
	GBytes *payload;
	bool retain;
};

struct io_source {
	GSource source;
	struct mqtt_client *client;
	gpointer tag;
	GIOCondition cond;
};

struct mqtt_client {
	/* configuration, copied */
	char *host;
	int port;
	char *client_id;
	char *username;
	char *password; /* wiped on free */
	bool tls;
	char *ca_file;
	char *ca_dir;
	char *cert_file;
	char *key_file;
	int protocol; /* MQTT_PROTOCOL_V311 or MQTT_PROTOCOL_V5 */
	int keepalive_s;
	unsigned max_inflight;
	unsigned reconnect_min_ms;
	unsigned reconnect_max_ms;
	unsigned stop_timeout_ms;
	unsigned connect_timeout_ms;
	bool persistent_session;
	char *status_topic;
	char *subscriptions[2];
	GPtrArray *extra_subs; /* char *: mqtt_client_subscribe's filters */

	struct mqtt_client_ops ops;
	void *data;

	GMainContext *context; /* while running */
	bool running;
	unsigned backoff_ms;
	GSource *reconnect_timer;
	GSource *drain_retry_timer;

	/* the session: everything below is reset by teardown */
	mosq_handle *mosq;
	struct io_source *io;
	GSource *misc_timer;
	/* When libmosquitto last said it sent and received a packet (its
	 * debug log): a PINGREQ is due keepalive_s after the older. */
	gint64 sent_us, received_us;
	int64_t attempt_started_us;
	bool connected; /* CONNACK accepted */
	int refused;	/* CONNACK reason of a refusal; -1: none */
	GString *lib_errors;
	GArray *inflight; /* struct inflight, in publish order */
	GQueue batch;	  /* struct mqtt_message *, fetched, not published */
	int64_t fetch_after_id;
	GQueue events; /* struct event * */
	/* SUBSCRIBE mid -> a copy of the extra filter it carries, until its
	 * SUBACK: a refusal names the filter. */
	GHashTable *sub_mids;
	int stop_mid; /* "offline" sent by mqtt_client_stop */
	bool stop_acked;

	bool pumping;
	bool want_drain;
	GHashTable *live; /* topic -> struct live_value *, kept while away */
	struct mqtt_client_stats stats;
};

/* --- small things --------------------------------------------------------- */

struct mqtt_message *mqtt_message_new(int64_t id, const char *topic,
				      GBytes *payload, int qos, bool retain)
{
	struct mqtt_message *msg = g_new0(struct mqtt_message, 1);

	msg->id = id;
	msg->topic = g_strdup(topic);
	msg->payload = payload ? g_bytes_ref(payload) : g_bytes_new(NULL, 0);
	msg->qos = qos;
	msg->retain = retain;
	return msg;
}

/* Frees @holder, a message or an event, with its topic and payload. */
static void free_with_topic_payload(void *holder, char *topic, GBytes *payload)
{
	g_free(topic);
	if (payload)
		g_bytes_unref(payload);
	g_free(holder);
}

void mqtt_message_free(struct mqtt_message *msg)
{
	if (msg)
		free_with_topic_payload(msg, msg->topic, msg->payload);
}

static void event_free(struct event *ev)
{
	if (ev)
		free_with_topic_payload(ev, ev->topic, ev->payload);
}

static void live_value_free(struct live_value *v)
{
	if (!v)
		return;
	g_clear_pointer(&v->payload, g_bytes_unref);
	g_free(v);
}

static bool is_v5(const struct mqtt_client *c)
{
	return c->protocol == MQTT_PROTOCOL_V5;
}

/* The text of a CONNACK, PUBACK or SUBACK reason in the protocol in use. */
static const char *reason_text(const struct mqtt_client *c, int reason)
{
	return is_v5(c) ? mosquitto_reason_string(reason)
			: mosquitto_connack_string(reason);
}

/* mosquitto_lib_init is not thread-safe and sets up OpenSSL for the whole
 * process; it is never undone, because OpenSSL may be shared. */
static gboolean lib_init_once(GError **error)
{
	static gsize done;
	static int rc;

	if (g_once_init_enter(&done)) {
		rc = mosquitto_lib_init();
		g_once_init_leave(&done, 1);
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		g_set_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FAILED,
			    "libmosquitto: %s", mosquitto_strerror(rc));
		return FALSE;
	}
	return TRUE;
}

/* --- validation ----------------------------------------------------------- */

gboolean mqtt_client_invalid(GError **error, const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID,
			    text);
	return FALSE;
}

/*
 * Only what needs no resolver: a name could resolve anywhere. "localhost"
 * is trusted as RFC 6761 §6.3 lets resolvers treat it.
 */
static bool host_is_loopback(const char *host)
{
	g_autoptr(GInetAddress) addr = NULL;
	g_autofree char *bare = NULL;
	size_t len = strlen(host);

	if (g_ascii_strcasecmp(host, "localhost") == 0 ||
	    g_ascii_strcasecmp(host, "localhost.") == 0)
		return true;
	if (len > 2 && host[0] == '[' && host[len - 1] == ']')
		bare = g_strndup(host + 1, len - 2);
	addr = g_inet_address_new_from_string(bare ? bare : host);
	return addr && g_inet_address_get_is_loopback(addr);
}

static gboolean check_readable(const char *path, const char *what, bool dir,
			       GError **error)
{
	if (!path)
		return TRUE;
	if (dir ? !g_file_test(path, G_FILE_TEST_IS_DIR)
		: !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FILE,
			    "%s %s: %s", what, path,
			    g_file_test(path, G_FILE_TEST_EXISTS)
				? (dir ? "not a directory" : "not a file")
				: "does not exist");
		return FALSE;
	}
	if (g_access(path, dir ? R_OK | X_OK : R_OK) < 0) {
		g_set_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FILE,
			    "%s %s: %s", what, path, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static gboolean check_topic_part(const char *what, const char *value,
				 GError **error)
{
	g_autofree char *probe = NULL;

	if (!*value || strchr(value, '+') || strchr(value, '#') ||
	    g_str_has_suffix(value, "/"))
		return mqtt_client_invalid(
		    error, "%s \"%s\": not a topic prefix", what, value);
	probe = g_strconcat(value, "/status", NULL);
	if (mosquitto_validate_utf8(probe, (int)strlen(probe)) !=
		MOSQ_ERR_SUCCESS ||
	    mosquitto_pub_topic_check(probe) != MOSQ_ERR_SUCCESS)
		return mqtt_client_invalid(
		    error, "%s \"%s\": not a topic prefix", what, value);
	return TRUE;
}

static gboolean check_config(const struct mqtt_client_config *cfg,
			     GError **error)
{
	struct sigaction sa;

	if (!cfg->host || !*cfg->host)
		return mqtt_client_invalid(error, "no broker host");
	if (cfg->port < 0 || cfg->port > 65535)
		return mqtt_client_invalid(error, "port %d", cfg->port);
	if (cfg->protocol != 0 && cfg->protocol != 311 && cfg->protocol != 5)
		return mqtt_client_invalid(error, "MQTT protocol %d (311 or 5)",
					   cfg->protocol);
	if (cfg->keepalive_s != 0 &&
	    (cfg->keepalive_s < 5 || cfg->keepalive_s > 65535))
		return mqtt_client_invalid(error, "keepalive %d s (5..65535)",
					   cfg->keepalive_s);
	if (cfg->max_inflight > 65535)
		return mqtt_client_invalid(error,
					   "max_inflight %u (at most 65535)",
					   cfg->max_inflight);
	if (cfg->reconnect_min_ms && cfg->reconnect_max_ms &&
	    cfg->reconnect_min_ms > cfg->reconnect_max_ms)
		return mqtt_client_invalid(
		    error,
		    "reconnect delay %u ms above its %u ms "
		    "maximum",
		    cfg->reconnect_min_ms, cfg->reconnect_max_ms);
	if (cfg->client_id &&
	    (!*cfg->client_id || !g_utf8_validate(cfg->client_id, -1, NULL) ||
	     strlen(cfg->client_id) > 65535))
		return mqtt_client_invalid(error,
					   "client id: empty, too long or not "
					   "UTF-8");
	if (cfg->base_topic &&
	    !check_topic_part("base topic", cfg->base_topic, error))
		return FALSE;
	if (cfg->discovery_prefix &&
	    !check_topic_part("discovery prefix", cfg->discovery_prefix, error))
		return FALSE;
	if (cfg->password && cfg->password_file)
		return mqtt_client_invalid(error,
					   "a password and a password file");
	if ((cfg->password || cfg->password_file) && !cfg->username)
		return mqtt_client_invalid(error,
					   "a password without a username");
	if (cfg->username && (!g_utf8_validate(cfg->username, -1, NULL) ||
			      strlen(cfg->username) > 65535))
		return mqtt_client_invalid(error,
					   "username: too long or not UTF-8");
	if (!cfg->tls &&
	    (cfg->ca_file || cfg->ca_dir || cfg->cert_file || cfg->key_file))
		/* Certificates configured with TLS off is a mistake that
		 * would otherwise send everything in plain text. */
		return mqtt_client_invalid(error,
					   "TLS files given but TLS is off");
	if (!cfg->cert_file != !cfg->key_file)
		return mqtt_client_invalid(
		    error, "a client certificate needs its key, "
			   "and a key its certificate");
	if (!cfg->tls && !cfg->allow_insecure && !host_is_loopback(cfg->host)) {
		g_set_error(error, MQTT_CLIENT_ERROR,
			    MQTT_CLIENT_ERROR_INSECURE,
			    "refusing to send health data in plain text to %s, "
			    "which is not this machine: turn TLS on, or set "
			    "allow-insecure=true",
			    cfg->host);
		return FALSE;
	}
	if (!check_readable(cfg->ca_file, "CA file", false, error) ||
	    !check_readable(cfg->ca_dir, "CA directory", true, error) ||
	    !check_readable(cfg->cert_file, "certificate", false, error) ||
	    !check_readable(cfg->key_file, "key", false, error))
		return FALSE;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		return mqtt_client_invalid(
		    error, "SIGPIPE is not ignored: a broker going "
			   "away would kill the process");
	return TRUE;
}

/* --- construction --------------------------------------------------------- */

mqtt_client *mqtt_client_new(const struct mqtt_client_config *cfg,
			     const struct mqtt_client_ops *ops, void *data,
			     GError **error)
{
	g_autoptr(mqtt_client) c = NULL;
	const char *base, *prefix;

	if (!cfg || !ops || !ops->outbox_pending || !ops->outbox_sent) {
		mqtt_client_invalid(error,
				    "no configuration or outbox callbacks");
		return NULL;
	}
	if (!check_config(cfg, error) || !lib_init_once(error))
		return NULL;

	c = g_new0(struct mqtt_client, 1);
	c->ops = *ops;
	c->data = data;
	c->refused = -1;
	c->lib_errors = g_string_new(NULL);
	c->inflight = g_array_new(FALSE, FALSE, sizeof(struct inflight));
	g_queue_init(&c->batch);
	g_queue_init(&c->events);
	c->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					(GDestroyNotify)live_value_free);
	c->extra_subs = g_ptr_array_new_with_free_func(g_free);
	c->sub_mids = g_hash_table_new_full(NULL, NULL, NULL, g_free);

	c->host = g_strdup(cfg->host);
	c->tls = cfg->tls;
	c->port = cfg->port ? cfg->port
			    : (cfg->tls ? DEFAULT_TLS_PORT : DEFAULT_PORT);
	c->client_id = cfg->client_id
			   ? g_strdup(cfg->client_id)
			   : g_strconcat("recoveryd-", g_get_host_name(), NULL);
	c->username = g_strdup(cfg->username);
	c->ca_file = g_strdup(cfg->ca_file);
	c->ca_dir = g_strdup(cfg->ca_dir);
	c->cert_file = g_strdup(cfg->cert_file);
	c->key_file = g_strdup(cfg->key_file);
	c->protocol =
	    cfg->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
	c->keepalive_s =
	    cfg->keepalive_s ? cfg->keepalive_s : DEFAULT_KEEPALIVE_S;
	c->max_inflight =
	    cfg->max_inflight ? cfg->max_inflight : DEFAULT_MAX_INFLIGHT;
	c->reconnect_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms
						    : DEFAULT_RECONNECT_MIN;
	c->reconnect_max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms
						    : DEFAULT_RECONNECT_MAX;
	c->reconnect_max_ms = MAX(c->reconnect_max_ms, c->reconnect_min_ms);
	c->stop_timeout_ms =
	    cfg->stop_timeout_ms ? cfg->stop_timeout_ms : DEFAULT_STOP_TIMEOUT;
	c->connect_timeout_ms = cfg->connect_timeout_ms
				    ? cfg->connect_timeout_ms
				    : DEFAULT_CONNECT_TIMEOUT;
	c->backoff_ms = c->reconnect_min_ms;
	c->persistent_session = cfg->persistent_session;

	base = cfg->base_topic ? cfg->base_topic : DEFAULT_BASE;
	prefix = cfg->discovery_prefix ? cfg->discovery_prefix : DEFAULT_PREFIX;
	c->status_topic = g_strconcat(base, "/status", NULL);
	c->subscriptions[0] = g_strconcat(base, "/+/checkin/set", NULL);
	c->subscriptions[1] = g_strconcat(prefix, "/status", NULL);

	if (cfg->password) {
		c->password = g_strdup(cfg->password);
	} else if (cfg->password_file) {
		bool exposed = false;

		if (!mqtt_password_read(cfg->password_file, &c->password,
					&exposed, error))
			return NULL;
		if (exposed)
			owner_log(
			    c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			    "password file %s can be read by group or others; "
			    "chmod 600 it",
			    cfg->password_file);
	}
	return g_steal_pointer(&c);
}

/* --- the session: teardown and failure ------------------------------------ */

static void clear_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_source_unref(*source);
		*source = NULL;
	}
}

/* Drops the connection and everything tied to it; nothing is reported. */
static void teardown(struct mqtt_client *c)
{
	struct event *ev;
	GSource *io = c->io ? &c->io->source : NULL;

	clear_source(&io);
	c->io = NULL;
	clear_source(&c->misc_timer);
	/* Closes the socket without DISCONNECT; the broker will publish the
	 * will if the connection was up. */
	g_clear_pointer(&c->mosq, mosquitto_destroy);
	c->connected = false;
	c->refused = -1;
	g_string_truncate(c->lib_errors, 0);
	g_array_set_size(c->inflight, 0);
	g_queue_clear_full(&c->batch, (GDestroyNotify)mqtt_message_free);
	/* Rows fetched or in flight are still unsent in the outbox: the next
	 * session starts again from the oldest. */
	c->fetch_after_id = 0;
	while ((ev = g_queue_pop_head(&c->events)))
		event_free(ev);
	g_hash_table_remove_all(c->sub_mids);
	c->stop_mid = 0;
	c->stop_acked = false;
}

static gboolean reconnect_cb(gpointer user_data);

static void schedule_reconnect(struct mqtt_client *c)
{
	double factor = 1.0 - JITTER + 2.0 * JITTER * g_random_double();
	guint delay_ms = (guint)((double)c->backoff_ms * factor);

	clear_source(&c->reconnect_timer);
	c->reconnect_timer = g_timeout_source_new(delay_ms);
	g_source_set_callback(c->reconnect_timer, reconnect_cb, c, NULL);
	g_source_attach(c->reconnect_timer, c->context);
	c->backoff_ms = MIN(c->backoff_ms * 2, c->reconnect_max_ms);
}

/*
 * Turns what libmosquitto returned (@rc, with @err the errno it left) into
 * the reason a session ended.
 */
static GError *session_error(struct mqtt_client *c, int rc, int err)
{
	const char *detail = c->lib_errors->len ? c->lib_errors->str : NULL;
	int code;

	if (c->refused >= 0) {
		bool auth =
		    is_v5(c)
			? (c->refused == MQTT_RC_BAD_USERNAME_OR_PASSWORD ||
			   c->refused == MQTT_RC_NOT_AUTHORIZED ||
			   c->refused == MQTT_RC_BAD_AUTHENTICATION_METHOD)
			: (c->refused ==
			       CONNACK_REFUSED_BAD_USERNAME_PASSWORD ||
			   c->refused == CONNACK_REFUSED_NOT_AUTHORIZED);

		return g_error_new(
		    MQTT_CLIENT_ERROR,
		    auth ? MQTT_CLIENT_ERROR_NOT_AUTHORIZED
			 : MQTT_CLIENT_ERROR_REFUSED,
		    "broker %s:%d refused the connection%s: %s", c->host,
		    c->port,
		    auth && c->username ? " (check username and password)" : "",
		    reason_text(c, c->refused));
	}
	/* Before CONNACK, an OpenSSL failure surfaces as MOSQ_ERR_TLS from
	 * the handshake, or later (TLS 1.3 checks a client certificate after
	 * the client's side is done) as EPROTO or a closed connection, with
	 * OpenSSL's reason in libmosquitto's log. */
	if (c->tls && !c->connected && rc != MOSQ_ERR_TIMEOUT &&
	    (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE ||
	     (rc == MOSQ_ERR_ERRNO && err == EPROTO) ||
	     (detail && strstr(detail, "SSL"))))
		return g_error_new(MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_TLS,
				   "TLS with %s:%d failed: %s", c->host,
				   c->port,
				   detail ? detail
					  : "protocol error (does the broker "
					    "want a client certificate?)");
	switch (rc) {
	case MOSQ_ERR_EAI:
		/* libmosquitto leaves getaddrinfo's code in errno. */
		return g_error_new(MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_CONNECT,
				   "cannot resolve %s: %s", c->host,
				   gai_strerror(err));
	case MOSQ_ERR_ERRNO:
		code = c->connected ? MQTT_CLIENT_ERROR_LOST
				    : MQTT_CLIENT_ERROR_CONNECT;
		return g_error_new(
		    MQTT_CLIENT_ERROR, code, "%s %s:%d: %s%s%s",
		    c->connected ? "connection to" : "cannot connect to",
		    c->host, c->port, err ? g_strerror(err) : "unknown error",
		    detail ? ": " : "", detail ? detail : "");
	case MOSQ_ERR_CONN_LOST:
	case MOSQ_ERR_NO_CONN:
	case MOSQ_ERR_TLS:
	case MOSQ_ERR_TLS_HANDSHAKE:
		code = c->connected ? MQTT_CLIENT_ERROR_LOST
				    : MQTT_CLIENT_ERROR_CONNECT;
		return g_error_new(
		    MQTT_CLIENT_ERROR, code, "%s:%d closed the connection%s%s",
		    c->host, c->port, detail ? ": " : "", detail ? detail : "");
	case MOSQ_ERR_KEEPALIVE:
		return g_error_new(MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_LOST,
				   "%s:%d did not answer within the keepalive "
				   "(%d s)",
				   c->host, c->port, c->keepalive_s);
	case MOSQ_ERR_TIMEOUT:
		return g_error_new(MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_TIMEOUT,
				   "no CONNACK from %s:%d within %u ms%s%s",
				   c->host, c->port, c->connect_timeout_ms,
				   detail ? ": " : "", detail ? detail : "");
	default:
		return g_error_new(MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FAILED,
				   "%s:%d: %s%s%s", c->host, c->port,
				   mosquitto_strerror(rc), detail ? ": " : "",
				   detail ? detail : "");
	}
}

/* Ends the session for @reason (taken), schedules the next attempt and
 * tells the owner. */
static void session_fail(struct mqtt_client *c, GError *reason)
{
	g_autoptr(GError) owned = reason;

	teardown(c);
	if (c->running)
		schedule_reconnect(c);
	if (c->ops.disconnected)
		c->ops.disconnected(c->data, owned);
}

static void session_fail_rc(struct mqtt_client *c, int rc, int err)
{
	session_fail(c, session_error(c, rc, err));
}

/* --- libmosquitto callbacks: record only ---------------------------------- */

static void push_event(struct mqtt_client *c, enum event_kind kind, int mid,
		       int code)
{
	struct event *ev = g_new0(struct event, 1);

	ev->kind = kind;
	ev->mid = mid;
	ev->code = code;
	g_queue_push_tail(&c->events, ev);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	struct mqtt_client *c = obj;

	if (rc != 0) {
		/* Recorded here: libmosquitto returns an error right after
		 * this callback, and the session ends before events run. */
		c->refused = rc;
		return;
	}
	push_event(c, EV_CONNACK, 0, 0);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
		       const mosquitto_property *props)
{
	struct mqtt_client *c = obj;

	/* mqtt_client_stop waits for this without pumping events. */
	if (c->stop_mid && mid == c->stop_mid)
		c->stop_acked = true;
	push_event(c, EV_PUBLISHED, mid, reason);
}

static void on_message(struct mosquitto *mosq, void *obj,
		       const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct mqtt_client *c = obj;
	struct event *ev = g_new0(struct event, 1);
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	char *copy = g_malloc(len + 1);

	if (len)
		memcpy(copy, msg->payload, len);
	copy[len] = '\0';
	ev->kind = EV_MESSAGE;
	ev->topic = g_strdup(msg->topic);
	ev->payload = g_bytes_new_take(copy, len + 1);
	ev->retained = msg->retain;
	g_queue_push_tail(&c->events, ev);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count,
			 const int *granted, const mosquitto_property *props)
{
	struct mqtt_client *c = obj;
	int refused = 0;

	/* 0x80 is "failure" in 3.1.1 (§3.9.3) and every reason >= 0x80 is
	 * one in 5 (§3.9.3). */
	for (int i = 0; i < count; i++)
		if (granted[i] >= 0x80)
			refused++;
	push_event(c, EV_SUBACK, mid, refused);
}

static void on_log(struct mosquitto *mosq, void *obj, int level,
		   const char *text)
{
	struct mqtt_client *c = obj;

	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
		/* Kept to explain the failure that usually follows
		 * ("host name verification failed"). */
		if (c->lib_errors->len < LIB_ERRORS_MAX) {
			if (c->lib_errors->len)
				g_string_append(c->lib_errors, "; ");
			g_string_append(c->lib_errors, text);
		}
	}
	/* Every packet is logged at debug level ("Client ID sending
	 * PINGREQ", "... received PUBLISH ..."): when the next keepalive is
	 * due. Logged before the packet goes, so never later than
	 * libmosquitto's own count; a library that words it otherwise only
	 * makes the timer look more often (start_misc_timer). */
	if (level & MOSQ_LOG_DEBUG) {
		gint64 now = g_get_monotonic_time();

		if (strstr(text, " sending "))
			c->sent_us = now;
		else if (strstr(text, " received "))
			c->received_us = now;
		/* libmosquitto waits a keepalive from now for the
		 * PINGRESP. */
		if (strstr(text, " sending PINGREQ"))
			c->received_us = now;
	}
	/* Every packet is logged at debug level; that is noise. */
	if (!(level & MOSQ_LOG_DEBUG))
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_DEBUG,
			  "libmosquitto: %s", text);
}

/* --- acting on events ----------------------------------------------------- */

static void flush_and_watch(struct mqtt_client *c);
static void drain(struct mqtt_client *c);

static gboolean publish_status(struct mqtt_client *c, const char *value,
			       int *ret_mid)
{
	return mosquitto_publish(c->mosq, ret_mid, c->status_topic,
				 (int)strlen(value), value, 1,
				 true) == MOSQ_ERR_SUCCESS;
}

static void publish_live_values(struct mqtt_client *c)
{
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, c->live);
	while (c->mosq && c->connected &&
	       g_hash_table_iter_next(&it, &key, &value)) {
		const struct live_value *v = value;
		gsize len;
		const void *p = g_bytes_get_data(v->payload, &len);

		if (mosquitto_publish(c->mosq, NULL, key, (int)len, p, 0,
				      v->retain) != MOSQ_ERR_SUCCESS)
			break; /* the socket watch will notice why */
		c->stats.live_sent++;
		g_hash_table_iter_remove(&it);
	}
}

/* Sends SUBSCRIBE for one extra filter and remembers its mid, so that a
 * refusal can name it. */
static void subscribe_extra(struct mqtt_client *c, const char *filter)
{
	int mid = 0;
	int rc = mosquitto_subscribe(c->mosq, &mid, filter, 1);

	if (rc != MOSQ_ERR_SUCCESS) {
		/* The connection is going; the next CONNACK sends it. */
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_DEBUG,
			  "could not subscribe to %s: %s", filter,
			  mosquitto_strerror(rc));
		return;
	}
	g_hash_table_replace(c->sub_mids, GINT_TO_POINTER(mid),
			     g_strdup(filter));
}

static gboolean misc_cb(gpointer user_data);

/*
 * Every second while connecting (the connect timeout). Once connected, a
 * second after libmosquitto's keepalive check will send a PINGREQ (or give
 * up on a PINGRESP that did not come): keepalive_s after the older of the
 * last packet sent and received. An idle gateway wakes twice a keepalive
 * (the PINGREQ, its PINGRESP), and the broker, which allows 1.5 times the
 * keepalive, hears from it in time. A due time already past (a packet not
 * seen in the log) looks again a second later: early is harmless. A
 * seconds timer, so that GLib wakes for it together with the daemon's.
 */
static void start_misc_timer(struct mqtt_client *c, bool connected)
{
	gint64 now = g_get_monotonic_time();
	gint64 due_us = MIN(c->sent_us, c->received_us) +
			(gint64)(c->keepalive_s + 1) * G_USEC_PER_SEC;
	gint64 delay_s =
	    CLAMP((due_us - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1,
		  (gint64)c->keepalive_s + 1);

	clear_source(&c->misc_timer);
	c->misc_timer = connected ? g_timeout_source_new_seconds((guint)delay_s)
				  : g_timeout_source_new(MISC_INTERVAL_MS);
	g_source_set_callback(c->misc_timer, misc_cb, c, NULL);
	g_source_attach(c->misc_timer, c->context);
}

static void handle_connack(struct mqtt_client *c)
{
	int rc;

	c->connected = true;
	c->sent_us = c->received_us = g_get_monotonic_time();
	start_misc_timer(c, true);
	c->backoff_ms = c->reconnect_min_ms;
	c->stats.connects++;
	g_string_truncate(c->lib_errors, 0);
	if (!publish_status(c, "online", NULL))
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "could not queue \"online\" on %s", c->status_topic);
	rc = mosquitto_subscribe_multiple(c->mosq, NULL, 2, c->subscriptions, 1,
					  0, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "could not subscribe: %s", mosquitto_strerror(rc));
	/* A clean session forgets subscriptions: every CONNACK needs them
	 * all again. */
	for (guint i = 0; i < c->extra_subs->len; i++)
		subscribe_extra(c, c->extra_subs->pdata[i]);
	publish_live_values(c);
	c->want_drain = true;
	/* Last: the owner may call anything, even mqtt_client_stop. */
	if (c->ops.connected)
		c->ops.connected(c->data);
}

static void mark_sent(struct mqtt_client *c, int64_t id)
{
	g_autoptr(GError) error = NULL;

	c->stats.acknowledged++;
	if (!c->ops.outbox_sent(c->data, id, &error))
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "outbox row %" G_GINT64_FORMAT
			  " was delivered but could "
			  "not be marked sent (it will be sent again): %s",
			  id, error ? error->message : "unknown error");
}

static void handle_published(struct mqtt_client *c, int mid, int reason)
{
	struct inflight *f = NULL;
	int64_t id;
	guint i;

	for (i = 0; i < c->inflight->len; i++) {
		f = &g_array_index(c->inflight, struct inflight, i);
		if (f->mid == mid)
			break;
	}
	/* "online", "offline" and live values are not outbox rows. */
	if (i == c->inflight->len)
		return;
	id = f->id;
	g_array_remove_index(c->inflight, i);
	c->want_drain = true;
	if (reason >= 0x80)
		/* MQTT 5 only: the broker will never take this message;
		 * keeping it would block the outbox. */
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "broker refused outbox row %" G_GINT64_FORMAT ": %s",
			  id, mosquitto_reason_string(reason));
	mark_sent(c, id);
}

static void handle_event(struct mqtt_client *c, struct event *ev)
{
	switch (ev->kind) {
	case EV_CONNACK:
		handle_connack(c);
		break;
	case EV_PUBLISHED:
		handle_published(c, ev->mid, ev->code);
		break;
	case EV_SUBACK: {
		const char *extra =
		    g_hash_table_lookup(c->sub_mids, GINT_TO_POINTER(ev->mid));

		if (ev->code && extra)
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
				  "broker refused the subscription to %s",
				  extra);
		else if (ev->code)
			owner_log(
			    c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			    "broker refused the subscription to %s or %s: "
			    "check-ins or Home Assistant restarts will be "
			    "missed",
			    c->subscriptions[0], c->subscriptions[1]);
		g_hash_table_remove(c->sub_mids, GINT_TO_POINTER(ev->mid));
		break;
	}
	case EV_MESSAGE:
		if (c->ops.message) {
			gsize size;
			const void *p = g_bytes_get_data(ev->payload, &size);

			c->stats.received++;
			c->ops.message(c->data, ev->topic, p, size - 1,
				       ev->retained);
		}
		break;
	default:
		break;
	}
}

/*
 * Runs recorded events and the drain until neither has work, then writes
 * what is queued and adjusts the socket watch. Re-entrant calls (an ops
 * callback calling mqtt_client_outbox_changed) leave their work to the
 * outer call.
 */
static void pump(struct mqtt_client *c)
{
	if (c->pumping)
		return;
	c->pumping = true;
	for (;;) {
		struct event *ev = g_queue_pop_head(&c->events);

		if (ev) {
			handle_event(c, ev);
			event_free(ev);
			continue;
		}
		if (c->want_drain) {
			c->want_drain = false;
			drain(c);
			continue;
		}
		break;
	}
	c->pumping = false;
	flush_and_watch(c);
}

/* --- the outbox drain ----------------------------------------------------- */

static gboolean drain_retry_cb(gpointer user_data)
{
	struct mqtt_client *c = user_data;

	g_clear_pointer(&c->drain_retry_timer, g_source_unref);
	c->want_drain = true;
	pump(c);
	return G_SOURCE_REMOVE;
}

/* Refills the batch; false when there is nothing (or the outbox failed). */
static bool fetch_batch(struct mqtt_client *c)
{
	g_autoptr(GPtrArray) rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)mqtt_message_free);
	g_autoptr(GError) error = NULL;

	if (!c->ops.outbox_pending(c->data, c->fetch_after_id, BATCH_ROWS, rows,
				   &error)) {
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "cannot read the outbox (retrying in %u ms): %s",
			  DRAIN_RETRY_MS,
			  error ? error->message : "unknown error");
		if (!c->drain_retry_timer) {
			c->drain_retry_timer =
			    g_timeout_source_new(DRAIN_RETRY_MS);
			g_source_set_callback(c->drain_retry_timer,
					      drain_retry_cb, c, NULL);
			g_source_attach(c->drain_retry_timer, c->context);
		}
		return false;
	}
	for (guint i = 0; i < rows->len; i++) {
		struct mqtt_message *m = g_ptr_array_index(rows, i);

		/* A row out of order would break the cursor; never send
		 * it ahead of its turn. */
		if (m->id <= c->fetch_after_id)
			continue;
		c->fetch_after_id = m->id;
		g_queue_push_tail(&c->batch, g_steal_pointer(&rows->pdata[i]));
	}
	return !g_queue_is_empty(&c->batch);
}

/*
 * Publishes outbox rows, oldest first, while fewer than max_inflight await
 * their acknowledgement. Rows are fetched BATCH_ROWS at a time after the
 * last one fetched in this session.
 */
static void drain(struct mqtt_client *c)
{
	while (c->running && c->mosq && c->connected &&
	       c->inflight->len < c->max_inflight) {
		g_autoptr(mqtt_message) m = NULL;
		struct inflight f;
		const void *p;
		gsize len;
		int rc;

		if (g_queue_is_empty(&c->batch) && !fetch_batch(c))
			return;
		m = g_queue_pop_head(&c->batch);
		p = g_bytes_get_data(m->payload, &len);
		rc = mosquitto_publish(c->mosq, &f.mid, m->topic,
				       len > MQTT_MAX_PAYLOAD ? -1 : (int)len,
				       p, MIN(m->qos, 1), m->retain);
		switch (rc) {
		case MOSQ_ERR_SUCCESS:
			f.id = m->id;
			g_array_append_val(c->inflight, f);
			c->stats.published++;
			break;
		case MOSQ_ERR_INVAL:
		case MOSQ_ERR_MALFORMED_UTF8:
		case MOSQ_ERR_PAYLOAD_SIZE:
		case MOSQ_ERR_OVERSIZE_PACKET:
		case MOSQ_ERR_QOS_NOT_SUPPORTED:
			/* No broker will ever take it; waiting would block
			 * every row behind it. */
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
				  "dropping outbox row %" G_GINT64_FORMAT
				  " on \"%s\": %s",
				  m->id, m->topic, mosquitto_strerror(rc));
			mark_sent(c, m->id);
			break;
		default:
			/* The connection is going; the socket watch ends the
			 * session and the row goes out after the reconnect. */
			g_queue_push_head(&c->batch, g_steal_pointer(&m));
			return;
		}
	}
}

/* --- the socket ----------------------------------------------------------- */

static void set_watch(struct mqtt_client *c, GIOCondition cond)
{
	if (c->io && c->io->cond != cond) {
		g_source_modify_unix_fd(&c->io->source, c->io->tag, cond);
		c->io->cond = cond;
	}
}

/* Writes what libmosquitto has queued if the socket takes it now (saves a
 * trip through poll), and watches for writability while some is left. */
static void flush_and_watch(struct mqtt_client *c)
{
	int rc;

	if (!c->mosq || !c->io)
		return;
	if (mosquitto_want_write(c->mosq)) {
		errno = 0;
		rc = mosquitto_loop_write(c->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			session_fail_rc(c, rc, errno);
			return;
		}
	}
	set_watch(c,
		  mosquitto_want_write(c->mosq) ? G_IO_IN | G_IO_OUT : G_IO_IN);
}

static void handle_io(struct mqtt_client *c, GIOCondition rev)
{
	bool hup = rev & (G_IO_HUP | G_IO_ERR | G_IO_NVAL);
	int rc = MOSQ_ERR_SUCCESS;
	int err = 0;

	/* Until CONNACK, writability may mean the TCP connect finished and
	 * the TLS handshake can go on: only loop_read drives it. */
	if ((rev & (G_IO_IN | G_IO_PRI)) || hup ||
	    ((rev & G_IO_OUT) && !c->connected)) {
		errno = 0;
		rc = mosquitto_loop_read(c->mosq, 1);
		err = errno;
	}
	/* A hang-up: read until libmosquitto sees the end (EOF, reset), so
	 * packets that came before it are handled and the error is its own.
	 * A TLS handshake can keep "succeeding" on a dead socket; bounded. */
	for (int i = 0; hup && rc == MOSQ_ERR_SUCCESS && i < HUP_READS_MAX;
	     i++) {
		errno = 0;
		rc = mosquitto_loop_read(c->mosq, 1);
		err = errno;
	}
	if (hup && rc == MOSQ_ERR_SUCCESS) {
		int so_error = 0;
		socklen_t sl = sizeof(so_error);

		if (getsockopt(mosquitto_socket(c->mosq), SOL_SOCKET, SO_ERROR,
			       &so_error, &sl) < 0)
			so_error = errno;
		rc = MOSQ_ERR_ERRNO;
		err = so_error ? so_error : ECONNRESET;
	}
	if (rc == MOSQ_ERR_SUCCESS && (rev & G_IO_OUT)) {
		errno = 0;
		rc = mosquitto_loop_write(c->mosq, 1);
		err = errno;
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		session_fail_rc(c, rc, err);
		return;
	}
	pump(c);
}

static gboolean io_dispatch(GSource *source, GSourceFunc callback,
			    gpointer user_data)
{
	struct io_source *io = (struct io_source *)source;

	handle_io(io->client, g_source_query_unix_fd(source, io->tag));
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs io_funcs = {
	.dispatch = io_dispatch,
};

static gboolean misc_cb(gpointer user_data)
{
	struct mqtt_client *c = user_data;
	int64_t age_ms = (g_get_monotonic_time() - c->attempt_started_us) /
			 G_TIME_SPAN_MILLISECOND;
	int rc;

	if (!c->connected && age_ms >= c->connect_timeout_ms) {
		session_fail_rc(c, MOSQ_ERR_TIMEOUT, 0);
		return G_SOURCE_REMOVE; /* teardown destroyed this source */
	}
	errno = 0;
	rc = mosquitto_loop_misc(c->mosq);
	if (rc != MOSQ_ERR_SUCCESS) {
		session_fail_rc(c, rc, errno);
		return G_SOURCE_REMOVE;
	}
	pump(c);
	if (!c->connected || c->misc_timer != g_main_current_source())
		return G_SOURCE_CONTINUE;
	/* Connected: the next check when the next PINGREQ is due (this
	 * source is destroyed by the new one). */
	start_misc_timer(c, true);
	return G_SOURCE_REMOVE;
}

/* --- connecting ----------------------------------------------------------- */

/* Sets up a fresh libmosquitto object for one connection attempt. */
static int configure(struct mqtt_client *c, struct mosquitto *mosq,
		     int *ret_code)
{
	/* "online" and "offline" take a slot too. */
	int send_max = (int)MIN(c->max_inflight + 2, 65535u);
	int rc;

	*ret_code = MQTT_CLIENT_ERROR_FAILED;
	if ((rc = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
				       c->protocol)) ||
	    (rc =
		 mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, send_max)) ||
	    /* Nagle would hold a lone PUBLISH for the broker's delayed ACK:
	     * tens of milliseconds of latency for nothing. */
	    (rc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1)) ||
	    (rc = mosquitto_will_set(mosq, c->status_topic, 7, "offline", 1,
				     true)))
		return rc;
	if (c->username &&
	    (rc = mosquitto_username_pw_set(mosq, c->username, c->password)))
		return rc;
	if (c->tls) {
		*ret_code = MQTT_CLIENT_ERROR_FILE;
		if (!c->ca_file && !c->ca_dir &&
		    (rc = mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS,
					       1)))
			return rc;
		if (c->ca_file || c->ca_dir || c->cert_file) {
			rc = mosquitto_tls_set(mosq, c->ca_file, c->ca_dir,
					       c->cert_file, c->key_file, NULL);
			if (rc)
				return rc;
		}
		/* SSL_VERIFY_PEER (1), TLS 1.2 or newer. Host name checking
		 * is libmosquitto's, on unless tls_insecure is set, which
		 * it never is here. */
		if ((rc = mosquitto_tls_opts_set(mosq, 1, "tlsv1.2", NULL)))
			return rc;
	}
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_publish_v5_callback_set(mosq, on_publish);
	mosquitto_message_v5_callback_set(mosq, on_message);
	mosquitto_subscribe_v5_callback_set(mosq, on_subscribe);
	mosquitto_log_callback_set(mosq, on_log);
	return MOSQ_ERR_SUCCESS;
}

static void session_begin(struct mqtt_client *c)
{
	g_autoptr(mosq_handle) mosq = NULL;
	GSource *source;
	int rc, err, code, fd;

	c->stats.attempts++;
	g_string_truncate(c->lib_errors, 0);
	c->refused = -1;
	c->attempt_started_us = g_get_monotonic_time();

	/* Clean session: the broker keeps nothing for us between
	 * connections; the outbox is the only queue of what we send.
	 * Persistent: it keeps what others send us while we are away. */
	mosq = mosquitto_new(c->client_id, !c->persistent_session, c);
	if (!mosq) {
		session_fail(
		    c, g_error_new(MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FAILED,
				   "libmosquitto: %s", g_strerror(errno)));
		return;
	}
	rc = configure(c, mosq, &code);
	if (rc != MOSQ_ERR_SUCCESS) {
		session_fail(c, g_error_new(MQTT_CLIENT_ERROR, code,
					    "setting up the connection: %s%s%s",
					    mosquitto_strerror(rc),
					    c->lib_errors->len ? ": " : "",
					    c->lib_errors->str));
		return;
	}

	/* Resolving the name blocks (getaddrinfo); a connect does not. */
	errno = 0;
	rc = mosquitto_connect_async(mosq, c->host, c->port, c->keepalive_s);
	err = errno;
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_CONN_PENDING) {
		/* Reported from the half-made session, so the reason can
		 * say what libmosquitto logged. */
		session_fail_rc(c, rc, err);
		return;
	}
	fd = mosquitto_socket(mosq);
	if (fd < 0) {
		session_fail_rc(c, MOSQ_ERR_NO_CONN, 0);
		return;
	}
	c->mosq = g_steal_pointer(&mosq);

	source = g_source_new(&io_funcs, sizeof(struct io_source));
	c->io = (struct io_source *)source;
	c->io->client = c;
	c->io->cond = G_IO_IN;
	c->io->tag = g_source_add_unix_fd(source, fd, G_IO_IN);
	g_source_attach(source, c->context);

	start_misc_timer(c, false);
	pump(c);
}

static gboolean reconnect_cb(gpointer user_data)
{
	struct mqtt_client *c = user_data;

	/* The source is unreferenced here, destroyed by returning REMOVE. */
	g_clear_pointer(&c->reconnect_timer, g_source_unref);
	session_begin(c);
	return G_SOURCE_REMOVE;
}

/* --- public --------------------------------------------------------------- */

gboolean mqtt_client_start(mqtt_client *c, GError **error)
{
	if (c->running)
		return mqtt_client_invalid(
		    error, "the MQTT client is already running");
	c->running = true;
	c->backoff_ms = c->reconnect_min_ms;
	c->context = g_main_context_ref_thread_default();
	/* The first attempt runs from the loop too, so start() never calls
	 * back into its caller. */
	c->reconnect_timer = g_timeout_source_new(0);
	g_source_set_callback(c->reconnect_timer, reconnect_cb, c, NULL);
	g_source_attach(c->reconnect_timer, c->context);
	return TRUE;
}

static bool stop_acked(struct mqtt_client *c)
{
	return c->stop_acked;
}

static bool socket_closed(struct mqtt_client *c)
{
	return mosquitto_socket(c->mosq) < 0;
}

/*
 * Runs the socket by hand (poll, not the main loop: stop must not
 * dispatch the owner's other sources) until @done or @deadline_us.
 */
static bool run_until(struct mqtt_client *c, bool (*done)(struct mqtt_client *),
		      int64_t deadline_us)
{
	while (!done(c)) {
		int64_t left_ms = (deadline_us - g_get_monotonic_time()) / 1000;
		struct pollfd p = { .fd = mosquitto_socket(c->mosq) };
		int n, rc = MOSQ_ERR_SUCCESS;

		if (p.fd < 0 || left_ms <= 0)
			return false;
		p.events = POLLIN;
		if (mosquitto_want_write(c->mosq))
			p.events |= POLLOUT;
		n = poll(&p, 1, (int)MIN(left_ms, 100));
		if (n < 0 && errno != EINTR)
			return false;
		if (n <= 0)
			continue;
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			rc = mosquitto_loop_read(c->mosq, 1);
		if (rc == MOSQ_ERR_SUCCESS && (p.revents & POLLOUT))
			rc = mosquitto_loop_write(c->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			return done(c);
		if (!c->pumping) {
			/* Acknowledged rows are marked sent on the way. */
			c->pumping = true;
			for (struct event *ev;
			     (ev = g_queue_pop_head(&c->events));
			     event_free(ev))
				if (ev->kind == EV_PUBLISHED)
					handle_event(c, ev);
			c->pumping = false;
		}
	}
	return true;
}

void mqtt_client_stop(mqtt_client *c)
{
	bool was_connected;

	if (!c || !c->running)
		return;
	c->running = false;
	clear_source(&c->reconnect_timer);
	clear_source(&c->drain_retry_timer);
	was_connected = c->connected;
	if (c->mosq && c->connected) {
		int64_t deadline =
		    g_get_monotonic_time() + (int64_t)c->stop_timeout_ms * 1000;

		/* The will covers a crash, not a goodbye: DISCONNECT
		 * discards it, so "offline" is published by hand, and
		 * acknowledged before we go. */
		if (publish_status(c, "offline", &c->stop_mid)) {
			if (!run_until(c, stop_acked, deadline))
				owner_log(c->ops.log, c->data,
					  G_LOG_LEVEL_WARNING,
					  "\"offline\" not acknowledged within "
					  "%u ms",
					  c->stop_timeout_ms);
		}
		if (c->mosq && mosquitto_socket(c->mosq) >= 0 &&
		    mosquitto_disconnect(c->mosq) == MOSQ_ERR_SUCCESS)
			run_until(c, socket_closed, deadline);
	}
	teardown(c);
	c->want_drain = false;
	g_clear_pointer(&c->context, g_main_context_unref);
	if (was_connected && c->ops.disconnected)
		c->ops.disconnected(c->data, NULL);
}

void mqtt_client_free(mqtt_client *c)
{
	if (!c)
		return;
	c->running = false;
	clear_source(&c->reconnect_timer);
	clear_source(&c->drain_retry_timer);
	teardown(c);
	g_clear_pointer(&c->context, g_main_context_unref);
	g_hash_table_destroy(c->live);
	g_ptr_array_unref(c->extra_subs);
	g_hash_table_destroy(c->sub_mids);
	g_array_free(c->inflight, TRUE);
	g_string_free(c->lib_errors, TRUE);
	g_free(c->host);
	g_free(c->client_id);
	g_free(c->username);
	mqtt_password_free(c->password);
	g_free(c->ca_file);
	g_free(c->ca_dir);
	g_free(c->cert_file);
	g_free(c->key_file);
	g_free(c->status_topic);
	g_free(c->subscriptions[0]);
	g_free(c->subscriptions[1]);
	g_free(c);
}

bool mqtt_client_is_connected(mqtt_client *c)
{
	return c && c->connected;
}

void mqtt_client_outbox_changed(mqtt_client *c)
{
	if (!c || !c->connected)
		return;
	c->want_drain = true;
	pump(c);
}

/* A topic we may publish to and a payload MQTT can carry. */
static gboolean publish_args_valid(const char *topic, const void *payload,
				   size_t len, GError **error)
{
	if (!topic || mosquitto_validate_utf8(topic, (int)strlen(topic)) ||
	    mosquitto_pub_topic_check(topic) != MOSQ_ERR_SUCCESS)
		return mqtt_client_invalid(
		    error, "\"%s\" is not a topic to publish to",
		    topic ? topic : "(null)");
	if (len > MQTT_MAX_PAYLOAD || (len && !payload))
		return mqtt_client_invalid(error, "a payload of %zu bytes",
					   len);
	return TRUE;
}

gboolean mqtt_client_publish_live(mqtt_client *c, const char *topic,
				  const void *payload, size_t len, bool retain,
				  GError **error)
{
	struct live_value *v;

	if (!publish_args_valid(topic, payload, len, error))
		return FALSE;
	if (!c->running) {
		g_set_error(error, MQTT_CLIENT_ERROR,
			    MQTT_CLIENT_ERROR_NOT_RUNNING,
			    "the MQTT client is not running");
		return FALSE;
	}
	if (c->mosq && c->connected &&
	    mosquitto_publish(c->mosq, NULL, topic, (int)len, payload, 0,
			      retain) == MOSQ_ERR_SUCCESS) {
		c->stats.live_sent++;
		pump(c);
		return TRUE;
	}
	/* Away (or going): only the newest value per topic is worth
	 * sending when the broker is back. */
	if (g_hash_table_contains(c->live, topic)) {
		c->stats.live_dropped++;
	} else if (g_hash_table_size(c->live) >= LIVE_TOPICS_MAX) {
		c->stats.live_dropped++;
		return mqtt_client_invalid(
		    error, "more than %d live topics waiting", LIVE_TOPICS_MAX);
	}
	v = g_new0(struct live_value, 1);
	v->payload = g_bytes_new(payload, len);
	v->retain = retain;
	g_hash_table_replace(c->live, g_strdup(topic), v);
	return TRUE;
}

/* Whether @filter is a topic filter a broker will take (MQTT 3.1.1
 * §4.7.1): '#' last and alone in its level, '+' alone in its level. */
static gboolean check_filter(const char *filter, GError **error)
{
	if (!filter || !*filter ||
	    mosquitto_validate_utf8(filter, (int)strlen(filter)) ||
	    mosquitto_sub_topic_check(filter) != MOSQ_ERR_SUCCESS)
		return mqtt_client_invalid(error,
					   "\"%s\" is not a topic filter",
					   filter ? filter : "(null)");
	return TRUE;
}

static gboolean is_fixed(const struct mqtt_client *c, const char *filter)
{
	return strcmp(filter, c->subscriptions[0]) == 0 ||
	       strcmp(filter, c->subscriptions[1]) == 0;
}

static gboolean find_extra(const struct mqtt_client *c, const char *filter,
			   guint *ret_index)
{
	return g_ptr_array_find_with_equal_func(c->extra_subs, filter,
						g_str_equal, ret_index);
}

gboolean mqtt_client_subscribe(mqtt_client *c, const char *filter,
			       GError **error)
{
	if (!check_filter(filter, error))
		return FALSE;
	if (is_fixed(c, filter) || find_extra(c, filter, NULL))
		return TRUE;
	if (c->extra_subs->len >= EXTRA_SUBS_MAX)
		return mqtt_client_invalid(
		    error, "more than %d extra subscriptions", EXTRA_SUBS_MAX);
	g_ptr_array_add(c->extra_subs, g_strdup(filter));
	if (c->mosq && c->connected) {
		subscribe_extra(c, filter);
		pump(c);
	}
	return TRUE;
}

gboolean mqtt_client_unsubscribe(mqtt_client *c, const char *filter,
				 GError **error)
{
	guint i;
	int rc;

	if (!check_filter(filter, error))
		return FALSE;
	if (is_fixed(c, filter))
		return mqtt_client_invalid(
		    error, "%s is one of the client's own subscriptions",
		    filter);
	if (!find_extra(c, filter, &i))
		return TRUE;
	g_ptr_array_remove_index(c->extra_subs, i);
	if (c->mosq && c->connected) {
		rc = mosquitto_unsubscribe(c->mosq, NULL, filter);
		/* A failure means the connection is going, and with it
		 * (clean session) the subscription. */
		if (rc != MOSQ_ERR_SUCCESS)
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_DEBUG,
				  "could not unsubscribe from %s: %s", filter,
				  mosquitto_strerror(rc));
		pump(c);
	}
	return TRUE;
}

gboolean mqtt_client_publish(mqtt_client *c, const char *topic,
			     const void *payload, size_t len, int qos,
			     bool retain, GError **error)
{
	int rc;

	if (!publish_args_valid(topic, payload, len, error))
		return FALSE;
	if (qos < 0 || qos > 2)
		return mqtt_client_invalid(error, "QoS %d", qos);
	if (!c->running || !c->mosq || !c->connected) {
		g_set_error(error, MQTT_CLIENT_ERROR,
			    MQTT_CLIENT_ERROR_NOT_RUNNING,
			    "not connected: message on %s dropped", topic);
		return FALSE;
	}
	rc = mosquitto_publish(c->mosq, NULL, topic, (int)len, payload,
			       MIN(qos, 1), retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		g_set_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FAILED,
			    "publishing on %s: %s", topic,
			    mosquitto_strerror(rc));
		return FALSE;
	}
	c->stats.direct_sent++;
	pump(c);
	return TRUE;
}

void mqtt_client_get_stats(mqtt_client *c, struct mqtt_client_stats *ret)
{
	*ret = c->stats;
}

const char *mqtt_client_status_topic(mqtt_client *c)
{
	return c->status_topic;
}
