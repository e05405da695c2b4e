// SPDX-License-Identifier: MIT
/*
 * mqtt/client.c against a real mosquitto (tests/integration/broker.c) on
 * free loopback ports: plain and MQTT 5, the last will, TLS with a CA and
 * certificates made here with the openssl CLI, a password file and an ACL,
 * inbound messages, live values collapsed while away, and the outbox on a
 * real store (gateway/core/store.c) through a broker outage and a gateway
 * SIGKILL.
 *
 * What "in order, none lost, duplicates only as QoS 1 allows" means here
 * (check_sequence): the messages that arrive for the first time arrive in
 * outbox order with no gap, every row arrives, and a message arrives again
 * only in a replay: after a reconnect the client starts again from the
 * oldest row not acknowledged, so the receiver may see a run of messages
 * it has seen (those in flight when the connection broke: at most
 * max_inflight of them; after a gateway crash, every row whose "sent" mark
 * had not been committed yet) before the new ones. A replay starts with a
 * step back, so the number of steps back is at most the number of
 * reconnects. "Remove consecutive duplicates and get 1..n" is not the rule:
 * with 20 messages in flight a replay repeats a window, not one message.
 *
 * MQTT_OUTAGE_S shortens the 30 s broker outage when iterating by hand.
 * Needs mosquitto (skipped without it) and openssl (TLS tests skipped).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tests/integration/broker.h"
#include "mqtt/client.h"
#include "tests/integration/outbox-wiring.h"
#include "mqtt/password.h"
#include "gateway/core/store.h"
#include "tests/support/test-support.h"

#define SEQ_TOPIC    "recovery/test/alert"
#define STATUS	     "recovery/status"
#define ROWS	     500
#define WAIT_MS	     10000
#define MAX_INFLIGHT 20
#define OUTAGE_S     30
#define KILL_AFTER   200
#define PACE_MS	     4

/* --- a test's world: store, client, what the client reported -------------- */

struct ctx {
	char *dir;
	store *store;
	struct outbox_wiring wiring;
	mqtt_client *client;
	unsigned connects;
	unsigned disconnects;
	unsigned clean_disconnects;
	GError *reason;	    /* the last one */
	GPtrArray *inbound; /* struct probe_message * */
	GPtrArray *logs;    /* char *: "LEVEL text" */
};

static void on_connected(void *data)
{
	struct ctx *t = data;

	t->connects++;
}

static void on_disconnected(void *data, const GError *reason)
{
	struct ctx *t = data;

	t->disconnects++;
	if (!reason) {
		t->clean_disconnects++;
		return;
	}
	g_clear_error(&t->reason);
	t->reason = g_error_copy(reason);
	g_test_message("disconnected: %s", reason->message);
}

static void on_message(void *data, const char *topic, const void *payload,
		       size_t len, bool retained)
{
	struct ctx *t = data;
	struct probe_message *m = g_new0(struct probe_message, 1);

	/* The client promises a NUL after the payload. */
	g_assert_cmpint(((const char *)payload)[len], ==, '\0');
	m->topic = g_strdup(topic);
	m->payload = g_strndup(payload, len);
	m->len = len;
	g_ptr_array_add(t->inbound, m);
}

static void on_log(void *data, GLogLevelFlags level, const char *text)
{
	struct ctx *t = data;

	g_ptr_array_add(
	    t->logs,
	    g_strdup_printf("%s %s",
			    level & G_LOG_LEVEL_WARNING ? "WARNING" : "DEBUG",
			    text));
	g_test_message("client: %s", text);
}

static const struct mqtt_client_ops chain_ops = {
	.connected = on_connected,
	.disconnected = on_disconnected,
	.message = on_message,
	.log = on_log,
};

static void ctx_init(struct ctx *t)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	memset(t, 0, sizeof(*t));
	t->dir = test_tmp_dir_new("test-mqtt-XXXXXX");
	path = g_build_filename(t->dir, "recoveryd.db", NULL);
	t->store = store_open(path, NULL, &error);
	g_assert_no_error(error);
	t->wiring.store = t->store;
	t->wiring.chain = &chain_ops;
	t->wiring.chain_data = t;
	t->inbound =
	    g_ptr_array_new_with_free_func((GDestroyNotify)probe_message_free);
	t->logs = g_ptr_array_new_with_free_func(g_free);
}

static void ctx_clear(struct ctx *t)
{
	g_clear_pointer(&t->client, mqtt_client_free);
	g_clear_pointer(&t->store, store_close);
	g_clear_error(&t->reason);
	g_clear_pointer(&t->inbound, g_ptr_array_unref);
	g_clear_pointer(&t->logs, g_ptr_array_unref);
	if (t->dir)
		test_remove_tree(t->dir);
	g_clear_pointer(&t->dir, g_free);
	/* Let sources that were destroyed run their last dispatch. */
	test_run_pending();
}

static struct mqtt_client_config base_config(int port)
{
	return (struct mqtt_client_config){
		.host = "127.0.0.1",
		.port = port,
		.client_id = "test-gateway",
		.reconnect_min_ms = 100,
		.reconnect_max_ms = 1000,
	};
}

static mqtt_client *ctx_client(struct ctx *t,
			       const struct mqtt_client_config *cfg)
{
	struct mqtt_client_ops ops;
	g_autoptr(GError) error = NULL;

	outbox_wiring_ops(&ops);
	t->client = mqtt_client_new(cfg, &ops, &t->wiring, &error);
	g_assert_no_error(error);
	g_assert_true(mqtt_client_start(t->client, &error));
	g_assert_no_error(error);
	return t->client;
}

/* --- running the main loop until something holds -------------------------- */

static bool is_connected(void *arg)
{
	struct ctx *t = arg;

	return mqtt_client_is_connected(t->client);
}

static bool has_disconnected(void *arg)
{
	struct ctx *t = arg;

	return t->disconnects > 0;
}

struct count_wait {
	probe *p;
	unsigned n;
};

static bool probe_has(void *arg)
{
	struct count_wait *w = arg;

	return probe_count(w->p) >= w->n;
}

static bool run_until_probe(probe *p, unsigned n, unsigned timeout_ms)
{
	struct count_wait w = { p, n };

	return test_run_until(probe_has, &w, timeout_ms);
}

/* Index of the first message on @topic with @payload from @from, or -1. */
static int probe_find(probe *p, unsigned from, const char *topic,
		      const char *payload, bool *ret_retain)
{
	unsigned n = probe_count(p);

	for (unsigned i = from; i < n; i++) {
		g_autoptr(probe_message) m = probe_get(p, i);

		if (strcmp(m->topic, topic) == 0 &&
		    (!payload || strcmp(m->payload, payload) == 0)) {
			if (ret_retain)
				*ret_retain = m->retain;
			return (int)i;
		}
	}
	return -1;
}

struct find_wait {
	probe *p;
	const char *topic;
	const char *payload;
};

static bool probe_has_message(void *arg)
{
	struct find_wait *w = arg;

	return probe_find(w->p, 0, w->topic, w->payload, NULL) >= 0;
}

static bool run_until_message(probe *p, const char *topic, const char *payload,
			      unsigned timeout_ms)
{
	struct find_wait w = { p, topic, payload };

	return test_run_until(probe_has_message, &w, timeout_ms);
}

static broker *start_broker(const struct broker_config *cfg)
{
	g_autoptr(GError) error = NULL;
	broker *b = broker_new(cfg, &error);

	if (!broker_check(error))
		return NULL;
	return b;
}

static probe *start_probe(broker *b, const char *user, const char *password,
			  const char *const *topics)
{
	g_autoptr(GError) error = NULL;
	probe *p =
	    probe_new(broker_probe_port(b), user, password, topics, &error);

	g_assert_no_error(error);
	return p;
}

/* --- the sequence rule ---------------------------------------------------- */

/*
 * Checks the sequence numbers that arrived on SEQ_TOPIC against the rule in
 * the header: first arrivals are exactly 1..@n in order, at most
 * @max_rewinds steps back, at most @max_dups repeats. Returns the repeats.
 */
static unsigned check_sequence(probe *p, int n, unsigned max_rewinds,
			       unsigned max_dups)
{
	unsigned count = probe_count(p), dups = 0, rewinds = 0;
	int max_seen = 0, prev = 0;

	for (unsigned i = 0; i < count; i++) {
		g_autoptr(probe_message) m = probe_get(p, i);
		int v;

		if (strcmp(m->topic, SEQ_TOPIC) != 0)
			continue;
		g_assert_true(g_str_has_prefix(m->payload, "seq="));
		v = (int)g_ascii_strtoll(m->payload + 4, NULL, 10);
		g_assert_cmpint(v, >=, 1);
		g_assert_cmpint(v, <=, n);
		if (v == max_seen + 1) {
			max_seen = v;
		} else {
			/* Not new: a repeat. Ahead of the next new one: a
			 * message lost or overtaken. */
			g_assert_cmpint(v, <=, max_seen);
			dups++;
		}
		if (v <= prev)
			rewinds++;
		prev = v;
	}
	g_assert_cmpint(max_seen, ==, n);
	g_assert_cmpuint(rewinds, <=, max_rewinds);
	g_assert_cmpuint(dups, <=, max_dups);
	return dups;
}

static unsigned distinct_seq(probe *p)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	unsigned count = probe_count(p);

	for (unsigned i = 0; i < count; i++) {
		g_autoptr(probe_message) m = probe_get(p, i);

		if (strcmp(m->topic, SEQ_TOPIC) == 0)
			g_hash_table_add(seen, GINT_TO_POINTER(g_ascii_strtoll(
						   m->payload + 4, NULL, 10)));
	}
	return g_hash_table_size(seen);
}

/* --- password file -------------------------------------------------------- */

struct password_case {
	const char *name;
	const char *content;
	size_t len;	      /* 0: strlen */
	const char *expected; /* NULL: refused */
	const char *why;      /* part of the error */
};

static const struct password_case password_cases[] = {
	{ "plain", "s3cret", 0, "s3cret" },
	{ "newline", "s3cret\n", 0, "s3cret" },
	{ "crlf", "s3cret\r\n", 0, "s3cret" },
	{ "one-newline-only", "s3cret\n\n", 0, "s3cret\n" },
	{ "spaces-kept", " pass word ", 0, " pass word " },
	{ "utf8", "p\xc3\xa4ss", 0, "p\xc3\xa4ss" },
	{ "empty", "", 0, NULL, "empty" },
	{ "only-newline", "\n", 0, NULL, "empty" },
	{ "nul", "ab\0cd\n", 6, NULL, "NUL" },
	{ "not-utf8", "\xff\xfe\n", 0, NULL, "UTF-8" },
};

static void write_file(const char *path, const char *content, size_t len,
		       int mode)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, content, (gssize)len, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

static void test_password_case(gconstpointer data)
{
	const struct password_case *pc = data;
	g_autofree char *dir = test_tmp_dir_new("test-pw-XXXXXX");
	g_autofree char *path = g_build_filename(dir, "pw", NULL);
	g_autoptr(GError) error = NULL;
	char *password = NULL;
	bool exposed = true;

	write_file(path, pc->content, pc->len ? pc->len : strlen(pc->content),
		   0600);
	if (pc->expected) {
		g_assert_true(
		    mqtt_password_read(path, &password, &exposed, &error));
		g_assert_no_error(error);
		g_assert_cmpstr(password, ==, pc->expected);
		g_assert_false(exposed);
	} else {
		g_assert_false(
		    mqtt_password_read(path, &password, &exposed, &error));
		g_assert_error(error, MQTT_CLIENT_ERROR,
			       MQTT_CLIENT_ERROR_FILE);
		g_assert_nonnull(strstr(error->message, path));
		g_assert_nonnull(strstr(error->message, pc->why));
		g_assert_null(password);
	}
	mqtt_password_free(password);
	test_remove_tree(dir);
}

static void test_password_limits(void)
{
	g_autofree char *dir = test_tmp_dir_new("test-pw-XXXXXX");
	g_autofree char *path = g_build_filename(dir, "pw", NULL);
	g_autofree char *sub = g_build_filename(dir, "sub", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	char buf[MQTT_PASSWORD_MAX + 3];
	char *password = NULL;
	bool exposed = false;
	GError *error = NULL;

	/* The longest, with its newline: accepted. */
	memset(buf, 'x', sizeof(buf));
	buf[MQTT_PASSWORD_MAX] = '\n';
	write_file(path, buf, MQTT_PASSWORD_MAX + 1, 0600);
	g_assert_true(mqtt_password_read(path, &password, &exposed, &error));
	g_assert_cmpuint(strlen(password), ==, MQTT_PASSWORD_MAX);
	g_clear_pointer(&password, mqtt_password_free);

	/* One byte more: refused, whatever follows. */
	memset(buf, 'x', sizeof(buf));
	for (size_t extra = 1; extra <= 3; extra++) {
		write_file(path, buf, MQTT_PASSWORD_MAX + extra, 0600);
		g_assert_false(
		    mqtt_password_read(path, &password, &exposed, &error));
		g_assert_nonnull(strstr(error->message, "longer"));
		g_clear_error(&error);
	}

	/* Group or others may read it: read, and said so. */
	write_file(path, "s3cret\n", 7, 0640);
	g_assert_true(mqtt_password_read(path, &password, &exposed, &error));
	g_assert_true(exposed);
	g_clear_pointer(&password, mqtt_password_free);
	g_assert_cmpint(g_chmod(path, 0604), ==, 0);
	g_assert_true(mqtt_password_read(path, &password, &exposed, &error));
	g_assert_true(exposed);
	g_clear_pointer(&password, mqtt_password_free);

	g_assert_false(
	    mqtt_password_read(missing, &password, &exposed, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FILE);
	g_assert_nonnull(strstr(error->message, missing));
	g_clear_error(&error);

	g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
	g_assert_false(mqtt_password_read(sub, &password, &exposed, &error));
	g_assert_nonnull(strstr(error->message, "regular"));
	g_clear_error(&error);
	test_remove_tree(dir);
}

/* --- configuration checked by new() --------------------------------------- */

static mqtt_client *try_new(const struct mqtt_client_config *cfg, struct ctx *t,
			    GError **error)
{
	struct mqtt_client_ops ops;

	outbox_wiring_ops(&ops);
	return mqtt_client_new(cfg, &ops, &t->wiring, error);
}

static void test_config_insecure(void)
{
	static const char *const loopback[] = { "127.0.0.1", "127.8.9.10",
						"::1",	     "[::1]",
						"localhost", "LocalHost" };
	static const char *const remote[] = { "192.0.2.10", "broker.example",
					      "10.0.0.1", "::ffff:10.0.0.1",
					      "localhost.example" };
	struct ctx t;

	ctx_init(&t);
	for (size_t i = 0; i < G_N_ELEMENTS(loopback); i++) {
		struct mqtt_client_config cfg = base_config(1883);
		g_autoptr(GError) error = NULL;
		g_autoptr(mqtt_client) c = NULL;

		cfg.host = loopback[i];
		c = try_new(&cfg, &t, &error);
		g_assert_no_error(error);
		g_assert_nonnull(c);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(remote); i++) {
		struct mqtt_client_config cfg = base_config(1883);
		g_autoptr(GError) error = NULL;
		g_autoptr(mqtt_client) c = NULL;

		cfg.host = remote[i];
		c = try_new(&cfg, &t, &error);
		g_assert_error(error, MQTT_CLIENT_ERROR,
			       MQTT_CLIENT_ERROR_INSECURE);
		g_assert_null(c);
		g_assert_nonnull(strstr(error->message, "allow-insecure"));
		g_clear_error(&error);

		cfg.allow_insecure = true;
		c = try_new(&cfg, &t, &error);
		g_assert_no_error(error);
		g_assert_nonnull(c);
		g_clear_pointer(&c, mqtt_client_free);

		/* With TLS the host may be anywhere. */
		cfg.allow_insecure = false;
		cfg.tls = true;
		c = try_new(&cfg, &t, &error);
		g_assert_no_error(error);
		g_assert_nonnull(c);
	}
	ctx_clear(&t);
}

static void test_config_invalid(void)
{
	struct ctx t;
	struct mqtt_client_config cfg;
	g_autoptr(GError) error = NULL;
	g_autofree char *pw = NULL, *pem = NULL;
	mqtt_client *c;

	ctx_init(&t);
	pw = g_build_filename(t.dir, "pw", NULL);
	pem = g_build_filename(t.dir, "some.pem", NULL);
	write_file(pem, "not a certificate\n", 18, 0600);

#define REFUSED(code, what)                                                    \
	do {                                                                   \
		c = try_new(&cfg, &t, &error);                                 \
		g_assert_null(c);                                              \
		g_assert_error(error, MQTT_CLIENT_ERROR, code);                \
		g_test_message("%s: %s", what, error->message);                \
		g_clear_error(&error);                                         \
	} while (0)

	cfg = base_config(1883);
	cfg.host = "";
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "empty host");
	cfg = base_config(70000);
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "port");
	cfg = base_config(1883);
	cfg.protocol = 4;
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "protocol");
	cfg = base_config(1883);
	cfg.keepalive_s = 2;
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "keepalive");
	cfg = base_config(1883);
	cfg.base_topic = "recovery/#";
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "base topic");
	cfg = base_config(1883);
	cfg.password = "x";
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "password without user");
	cfg = base_config(1883);
	cfg.username = "u";
	cfg.password = "x";
	cfg.password_file = pw;
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "password twice");
	cfg = base_config(1883);
	cfg.ca_file = pem;
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "CA without TLS");
	cfg = base_config(1883);
	cfg.tls = true;
	cfg.cert_file = pem;
	REFUSED(MQTT_CLIENT_ERROR_INVALID, "certificate without key");
	cfg = base_config(1883);
	cfg.tls = true;
	cfg.ca_file = "/nonexistent/ca.crt";
	REFUSED(MQTT_CLIENT_ERROR_FILE, "missing CA file");
	cfg = base_config(1883);
	cfg.tls = true;
	cfg.ca_dir = pem;
	REFUSED(MQTT_CLIENT_ERROR_FILE, "CA dir not a directory");
	cfg = base_config(1883);
	cfg.username = "u";
	cfg.password_file = pw; /* does not exist yet */
	REFUSED(MQTT_CLIENT_ERROR_FILE, "missing password file");
	write_file(pw, "", 0, 0600);
	REFUSED(MQTT_CLIENT_ERROR_FILE, "empty password file");
#undef REFUSED

	/* A password file others can read: accepted, with a warning. */
	write_file(pw, "s3cret\n", 7, 0644);
	c = try_new(&cfg, &t, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(t.logs->len, ==, 1);
	g_assert_true(g_str_has_prefix(t.logs->pdata[0], "WARNING"));
	g_assert_nonnull(strstr(t.logs->pdata[0], pw));
	mqtt_client_free(c);

	/* Not started: nothing to publish with. */
	cfg = base_config(1883);
	c = try_new(&cfg, &t, &error);
	g_assert_false(mqtt_client_publish_live(c, "recovery/a/live", "x", 1,
						false, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_NOT_RUNNING);
	g_clear_error(&error);
	g_assert_false(mqtt_client_publish_live(c, "recovery/+/live", "x", 1,
						false, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpstr(mqtt_client_status_topic(c), ==, STATUS);
	mqtt_client_free(c);
	ctx_clear(&t);
}

/* --- plain: online, offline, will ----------------------------------------- */

static void test_plain_online(gconstpointer data)
{
	int protocol = GPOINTER_TO_INT(data);
	static const char *const topics[] = { STATUS, NULL };
	g_autoptr(broker) b = start_broker(NULL);
	g_autoptr(probe) p = NULL;
	g_autoptr(probe) late = NULL;
	struct mqtt_client_config cfg;
	bool retained = false;
	struct ctx t;

	if (!b)
		return;
	ctx_init(&t);
	p = start_probe(b, NULL, NULL, topics);
	cfg = base_config(broker_port(b));
	cfg.protocol = protocol;
	ctx_client(&t, &cfg);
	g_assert_true(test_run_until(is_connected, &t, WAIT_MS));
	g_assert_cmpuint(t.connects, ==, 1);
	g_assert_true(run_until_message(p, STATUS, "online", WAIT_MS));

	/* Retained: a subscriber that comes later gets it too. */
	late = start_probe(b, NULL, NULL, topics);
	g_assert_true(run_until_probe(late, 1, WAIT_MS));
	g_assert_cmpint(probe_find(late, 0, STATUS, "online", &retained), ==,
			0);
	g_assert_true(retained);

	mqtt_client_stop(t.client);
	g_assert_false(mqtt_client_is_connected(t.client));
	g_assert_cmpuint(t.clean_disconnects, ==, 1);
	/* Acknowledged before stop returned: already at the broker. */
	g_assert_true(run_until_message(p, STATUS, "offline", WAIT_MS));
	g_clear_pointer(&late, probe_free);
	late = start_probe(b, NULL, NULL, topics);
	g_assert_true(run_until_probe(late, 1, WAIT_MS));
	g_assert_cmpint(probe_find(late, 0, STATUS, "offline", &retained), ==,
			0);
	g_assert_true(retained);

	/* A stopped client starts again. */
	probe_clear(p);
	g_assert_true(mqtt_client_start(t.client, NULL));
	g_assert_true(test_run_until(is_connected, &t, WAIT_MS));
	g_assert_true(run_until_message(p, STATUS, "online", WAIT_MS));
	mqtt_client_stop(t.client);
	ctx_clear(&t);
}

static void test_plain_will(void)
{
	static const char *const topics[] = { STATUS, NULL };
	g_autoptr(broker) b = start_broker(NULL);
	g_autoptr(probe) p = NULL;
	struct mqtt_client_config cfg;
	struct ctx t;

	if (!b)
		return;
	ctx_init(&t);
	p = start_probe(b, NULL, NULL, topics);
	cfg = base_config(broker_port(b));
	ctx_client(&t, &cfg);
	g_assert_true(run_until_message(p, STATUS, "online", WAIT_MS));
	/* Freed while running: the socket closes without DISCONNECT, as
	 * when the gateway dies; the broker publishes the will. */
	g_clear_pointer(&t.client, mqtt_client_free);
	g_assert_true(run_until_message(p, STATUS, "offline", WAIT_MS));
	ctx_clear(&t);
}

/* --- inbound -------------------------------------------------------------- */

static bool has_inbound(void *arg)
{
	struct ctx *t = arg;

	return t->inbound->len >= 2;
}

static void check_inbound(struct ctx *t, probe *p)
{
	static const char checkin[] =
	    "{\"mood\":4,\"soreness\":2,\"energy\":5}";
	const struct probe_message *m;

	/* Not subscribed: never delivered. */
	g_assert_true(
	    probe_publish(p, "recovery/alice/checkin", "no", 1, false));
	g_assert_true(
	    probe_publish(p, "recovery/alice/bob/checkin/set", "no", 1, false));
	g_assert_true(
	    probe_publish(p, "recovery/alice/checkin/set", checkin, 1, false));
	g_assert_true(
	    probe_publish(p, "homeassistant/status", "online", 1, false));
	g_assert_true(test_run_until(has_inbound, t, WAIT_MS));
	test_run_for(100);
	g_assert_cmpuint(t->inbound->len, ==, 2);
	m = t->inbound->pdata[0];
	g_assert_cmpstr(m->topic, ==, "recovery/alice/checkin/set");
	g_assert_cmpstr(m->payload, ==, checkin);
	g_assert_cmpuint(m->len, ==, strlen(checkin));
	m = t->inbound->pdata[1];
	g_assert_cmpstr(m->topic, ==, "homeassistant/status");
	g_assert_cmpstr(m->payload, ==, "online");
}

static void test_inbound(void)
{
	static const char *const topics[] = { STATUS, NULL };
	g_autoptr(broker) b = start_broker(NULL);
	g_autoptr(probe) p = NULL;
	struct mqtt_client_config cfg;
	struct ctx t;

	if (!b)
		return;
	ctx_init(&t);
	p = start_probe(b, NULL, NULL, topics);
	cfg = base_config(broker_port(b));
	ctx_client(&t, &cfg);
	g_assert_true(run_until_message(p, STATUS, "online", WAIT_MS));
	/* "online" is queued after the SUBSCRIBE; its arrival does not
	 * prove the SUBACK. A round trip through the broker does. */
	test_run_for(200);
	check_inbound(&t, p);
	mqtt_client_stop(t.client);
	ctx_clear(&t);
}

/* --- extra subscriptions and direct publishes ----------------------------- */

struct inbound_wait {
	struct ctx *t;
	const char *topic;
};

static bool has_inbound_on(void *arg)
{
	const struct inbound_wait *w = arg;

	for (guint i = 0; i < w->t->inbound->len; i++) {
		const struct probe_message *m = w->t->inbound->pdata[i];

		if (strcmp(m->topic, w->topic) == 0)
			return true;
	}
	return false;
}

static bool run_until_inbound(struct ctx *t, const char *topic)
{
	struct inbound_wait w = { t, topic };

	return test_run_until(has_inbound_on, &w, WAIT_MS);
}

static void test_subscribe_publish(void)
{
	static const char *const topics[] = { "extra/#", "recovery/direct",
					      NULL };
	static const char *const direct[] = { "recovery/direct", NULL };
	g_autoptr(broker) b = start_broker(NULL);
	g_autoptr(probe) p = NULL;
	g_autoptr(probe) late = NULL;
	g_autoptr(GError) error = NULL;
	struct mqtt_client_config cfg;
	struct mqtt_client_stats st;
	bool retained = false;
	struct ctx t;

	if (!b)
		return;
	ctx_init(&t);
	p = start_probe(b, NULL, NULL, topics);
	cfg = base_config(broker_port(b));
	ctx_client(&t, &cfg);

	/* Not connected yet: a direct publish is dropped, a subscription
	 * waits for the CONNACK. */
	g_assert_false(mqtt_client_publish(t.client, "recovery/direct", "x", 1,
					   1, true, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_NOT_RUNNING);
	g_clear_error(&error);
	g_assert_true(mqtt_client_subscribe(t.client, "extra/+/in", &error));
	g_assert_no_error(error);
	g_assert_true(mqtt_client_subscribe(t.client, "extra/+/in", &error));
	g_assert_false(mqtt_client_subscribe(t.client, "extra/#/in", &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(mqtt_client_unsubscribe(
	    t.client, "recovery/+/checkin/set", &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(
	    mqtt_client_publish(t.client, "extra/+", "x", 1, 1, false, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);

	g_assert_true(test_run_until(is_connected, &t, WAIT_MS));
	test_run_for(200); /* the SUBACK */
	g_assert_true(probe_publish(p, "extra/a/in", "one", 1, false));
	g_assert_true(run_until_inbound(&t, "extra/a/in"));

	/* Direct, QoS 1, retained: a later subscriber gets it too. */
	g_assert_true(mqtt_client_publish(t.client, "recovery/direct",
					  "{\"v\":1}", 7, 1, true, &error));
	g_assert_no_error(error);
	g_assert_true(
	    run_until_message(p, "recovery/direct", "{\"v\":1}", WAIT_MS));
	late = start_probe(b, NULL, NULL, direct);
	g_assert_true(run_until_probe(late, 1, WAIT_MS));
	g_assert_cmpint(
	    probe_find(late, 0, "recovery/direct", "{\"v\":1}", &retained), ==,
	    0);
	g_assert_true(retained);
	mqtt_client_get_stats(t.client, &st);
	g_assert_cmpuint(st.direct_sent, ==, 1);

	/* A clean session forgets it; the client subscribes again. */
	broker_stop(b);
	g_assert_true(test_run_until(has_disconnected, &t, WAIT_MS));
	g_assert_true(broker_start(b, &error));
	g_assert_no_error(error);
	g_assert_true(probe_wait_ready(p, WAIT_MS));
	g_assert_true(test_run_until(is_connected, &t, WAIT_MS));
	test_run_for(200);
	g_assert_true(probe_publish(p, "extra/b/in", "two", 1, false));
	g_assert_true(run_until_inbound(&t, "extra/b/in"));

	/* Unsubscribed: no more, and twice is fine. A check-in (a fixed
	 * subscription) sent after it proves the broker had the chance. */
	g_assert_true(mqtt_client_unsubscribe(t.client, "extra/+/in", &error));
	g_assert_true(mqtt_client_unsubscribe(t.client, "extra/+/in", &error));
	g_assert_no_error(error);
	test_run_for(200);
	g_assert_true(probe_publish(p, "extra/c/in", "three", 1, false));
	g_assert_true(
	    probe_publish(p, "recovery/alice/checkin/set", "{}", 1, false));
	g_assert_true(run_until_inbound(&t, "recovery/alice/checkin/set"));
	g_assert_false(
	    has_inbound_on(&(struct inbound_wait){ &t, "extra/c/in" }));
	mqtt_client_stop(t.client);
	ctx_clear(&t);
}

/* --- live values ---------------------------------------------------------- */

static void test_live_collapse(void)
{
	static const char *const topics[] = { "recovery/alice/live", NULL };
	g_autoptr(broker) b = start_broker(NULL);
	g_autoptr(probe) p = NULL;
	g_autoptr(GError) error = NULL;
	struct mqtt_client_config cfg;
	struct mqtt_client_stats st;
	struct ctx t;

	if (!b)
		return;
	ctx_init(&t);
	cfg = base_config(broker_port(b));
	broker_stop(b);
	ctx_client(&t, &cfg);
	g_assert_true(test_run_until(has_disconnected, &t, WAIT_MS));
	g_assert_error(t.reason, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_CONNECT);

	for (int i = 1; i <= 10; i++) {
		g_autofree char *v = g_strdup_printf("{\"bpm\":%d}", 50 + i);

		g_assert_true(
		    mqtt_client_publish_live(t.client, "recovery/alice/live", v,
					     strlen(v), false, &error));
		g_assert_no_error(error);
		test_run_for(20);
	}

	/* The probe subscribes before the client may connect: the main loop
	 * (and with it the client) waits meanwhile. */
	g_assert_true(broker_start(b, &error));
	g_assert_no_error(error);
	p = start_probe(b, NULL, NULL, topics);
	g_assert_true(run_until_probe(p, 1, WAIT_MS));
	test_run_for(300);
	g_assert_cmpuint(probe_count(p), ==, 1);
	g_assert_cmpint(
	    probe_find(p, 0, "recovery/alice/live", "{\"bpm\":60}", NULL), ==,
	    0);
	mqtt_client_get_stats(t.client, &st);
	g_assert_cmpuint(st.live_dropped, ==, 9);
	g_assert_cmpuint(st.live_sent, ==, 1);

	/* Connected: sent at once. */
	g_assert_true(mqtt_client_publish_live(t.client, "recovery/alice/live",
					       "{\"bpm\":61}", 10, false,
					       &error));
	g_assert_true(run_until_probe(p, 2, WAIT_MS));
	mqtt_client_stop(t.client);
	ctx_clear(&t);
}

/* --- TLS ------------------------------------------------------------------ */

static bool openssl(const char *const *argv)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) args = broker_argv(argv);
	int status;

	if (!g_spawn_sync(NULL, args, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			  &out, &err, &status, &error) ||
	    !g_spawn_check_wait_status(status, &error)) {
		g_test_message("openssl %s: %s\n%s", argv[1],
			       error ? error->message : "", err ? err : "");
		return false;
	}
	return true;
}

/* A CA @name.crt / @name.key in @dir. */
static void make_ca(const char *dir, const char *name)
{
	g_autofree char *key = g_strdup_printf("%s/%s.key", dir, name);
	g_autofree char *crt = g_strdup_printf("%s/%s.crt", dir, name);
	g_autofree char *subj = g_strdup_printf("/CN=recoveryd test %s", name);
	const char *argv[] = { "openssl",
			       "req",
			       "-x509",
			       "-new",
			       "-newkey",
			       "ec",
			       "-pkeyopt",
			       "ec_paramgen_curve:prime256v1",
			       "-nodes",
			       "-keyout",
			       key,
			       "-out",
			       crt,
			       "-days",
			       "2",
			       "-subj",
			       subj,
			       "-addext",
			       "basicConstraints=critical,CA:TRUE",
			       "-addext",
			       "keyUsage=critical,keyCertSign,cRLSign",
			       NULL };

	g_assert_true(openssl(argv));
}

/* A leaf @name.crt / @name.key signed by @ca, for @cn and @san. */
static void make_leaf(const char *dir, const char *ca, const char *name,
		      const char *cn, const char *san, const char *usage)
{
	static int serial = 100;
	g_autofree char *key = g_strdup_printf("%s/%s.key", dir, name);
	g_autofree char *csr = g_strdup_printf("%s/%s.csr", dir, name);
	g_autofree char *crt = g_strdup_printf("%s/%s.crt", dir, name);
	g_autofree char *ext = g_strdup_printf("%s/%s.ext", dir, name);
	g_autofree char *ca_crt = g_strdup_printf("%s/%s.crt", dir, ca);
	g_autofree char *ca_key = g_strdup_printf("%s/%s.key", dir, ca);
	g_autofree char *subj = g_strdup_printf("/CN=%s", cn);
	g_autofree char *ser = g_strdup_printf("%d", ++serial);
	g_autofree char *ext_text =
	    g_strdup_printf("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
			    "keyUsage=digitalSignature,keyEncipherment\n"
			    "extendedKeyUsage=%s\n",
			    san, usage);
	const char *req[] = { "openssl",
			      "req",
			      "-new",
			      "-newkey",
			      "ec",
			      "-pkeyopt",
			      "ec_paramgen_curve:prime256v1",
			      "-nodes",
			      "-keyout",
			      key,
			      "-out",
			      csr,
			      "-subj",
			      subj,
			      NULL };
	const char *sign[] = { "openssl", "x509",	 "-req", "-in",
			       csr,	  "-CA",	 ca_crt, "-CAkey",
			       ca_key,	  "-set_serial", ser,	 "-days",
			       "2",	  "-out",	 crt,	 "-extfile",
			       ext,	  NULL };

	write_file(ext, ext_text, strlen(ext_text), 0600);
	g_assert_true(openssl(req));
	g_assert_true(openssl(sign));
}

struct pki {
	char *dir;
	char *ca;	  /* trusted by the client */
	char *server_crt; /* CN and SAN localhost, IP 127.0.0.1 */
	char *server_key;
	char *other_crt; /* for other.example: wrong host */
	char *other_key;
	char *foreign_crt; /* localhost, signed by another CA */
	char *foreign_key;
	char *client_crt;
	char *client_key;
	char *ca_dir; /* hashed directory holding ca */
};

static bool make_pki(struct pki *k)
{
	g_autofree char *path = g_find_program_in_path("openssl");
	g_autofree char *ca_copy = NULL;
	g_autofree char *pem = NULL;
	gsize len;

	memset(k, 0, sizeof(*k));
	if (!path) {
		g_test_skip("openssl not found");
		return false;
	}
	k->dir = test_tmp_dir_new("test-pki-XXXXXX");
	make_ca(k->dir, "ca");
	make_ca(k->dir, "other-ca");
	make_leaf(k->dir, "ca", "server", "localhost",
		  "DNS:localhost,IP:127.0.0.1", "serverAuth");
	make_leaf(k->dir, "ca", "wrong", "other.example", "DNS:other.example",
		  "serverAuth");
	make_leaf(k->dir, "other-ca", "foreign", "localhost",
		  "DNS:localhost,IP:127.0.0.1", "serverAuth");
	make_leaf(k->dir, "ca", "client", "recoveryd", "DNS:recoveryd",
		  "clientAuth");
#define P(name) g_strdup_printf("%s/%s", k->dir, name)
	k->ca = P("ca.crt");
	k->server_crt = P("server.crt");
	k->server_key = P("server.key");
	k->other_crt = P("wrong.crt");
	k->other_key = P("wrong.key");
	k->foreign_crt = P("foreign.crt");
	k->foreign_key = P("foreign.key");
	k->client_crt = P("client.crt");
	k->client_key = P("client.key");
	k->ca_dir = P("cadir");
#undef P
	g_assert_cmpint(g_mkdir(k->ca_dir, 0700), ==, 0);
	ca_copy = g_build_filename(k->ca_dir, "ca.pem", NULL);
	g_assert_true(g_file_get_contents(k->ca, &pem, &len, NULL));
	write_file(ca_copy, pem, len, 0600);
	{
		const char *argv[] = { "openssl", "rehash", k->ca_dir, NULL };

		g_assert_true(openssl(argv));
	}
	return true;
}

static void pki_clear(struct pki *k)
{
	if (k->dir)
		test_remove_tree(k->dir);
	g_free(k->dir);
	g_free(k->ca);
	g_free(k->server_crt);
	g_free(k->server_key);
	g_free(k->other_crt);
	g_free(k->other_key);
	g_free(k->foreign_crt);
	g_free(k->foreign_key);
	g_free(k->client_crt);
	g_free(k->client_key);
	g_free(k->ca_dir);
}

static bool settled(void *arg)
{
	struct ctx *t = arg;

	return t->connects > 0 || t->disconnects > 0;
}

/* Connects through TLS to @b as configured by @cfg; true if online. */
static bool tls_connects(broker *b, struct mqtt_client_config *cfg,
			 GError **ret_reason)
{
	static const char *const topics[] = { STATUS, NULL };
	g_autoptr(probe) p = start_probe(b, NULL, NULL, topics);
	struct ctx t;
	bool ok;

	ctx_init(&t);
	cfg->port = broker_port(b);
	cfg->tls = true;
	ctx_client(&t, cfg);
	g_assert_true(test_run_until(settled, &t, WAIT_MS));
	ok = t.connects > 0;
	if (ok) {
		g_assert_true(run_until_message(p, STATUS, "online", WAIT_MS));
	} else {
		g_assert_nonnull(t.reason);
		*ret_reason = g_steal_pointer(&t.reason);
	}
	mqtt_client_stop(t.client);
	ctx_clear(&t);
	return ok;
}

static void test_tls_verified(void)
{
	static const char *const hosts[] = { "127.0.0.1", "localhost" };
	struct broker_config bc = { .allow_anonymous = true };
	g_autoptr(broker) b = NULL;
	struct pki k;

	if (!make_pki(&k))
		return;
	bc.certfile = k.server_crt;
	bc.keyfile = k.server_key;
	b = start_broker(&bc);
	if (b) {
		for (size_t i = 0; i < G_N_ELEMENTS(hosts); i++) {
			struct mqtt_client_config cfg = base_config(0);
			g_autoptr(GError) reason = NULL;

			cfg.host = hosts[i];
			cfg.ca_file = k.ca;
			g_assert_true(tls_connects(b, &cfg, &reason));
			cfg = base_config(0);
			cfg.host = hosts[i];
			cfg.ca_dir = k.ca_dir;
			cfg.protocol = 5;
			g_assert_true(tls_connects(b, &cfg, &reason));
		}
	}
	pki_clear(&k);
}

static void test_tls_refused(void)
{
	struct broker_config bc = { .allow_anonymous = true };
	struct mqtt_client_config cfg;
	struct pki k;

	if (!make_pki(&k))
		return;
	/* A certificate for another host name, from the trusted CA. */
	bc.certfile = k.other_crt;
	bc.keyfile = k.other_key;
	{
		g_autoptr(broker) b = start_broker(&bc);
		g_autoptr(GError) reason = NULL;

		if (!b)
			goto out;
		cfg = base_config(0);
		cfg.ca_file = k.ca;
		g_assert_false(tls_connects(b, &cfg, &reason));
		g_assert_error(reason, MQTT_CLIENT_ERROR,
			       MQTT_CLIENT_ERROR_TLS);
		g_test_message("wrong host: %s", reason->message);
		g_assert_nonnull(strstr(reason->message, "host name"));
	}
	/* The right name, signed by a CA the client does not trust. */
	bc.certfile = k.foreign_crt;
	bc.keyfile = k.foreign_key;
	{
		g_autoptr(broker) b = start_broker(&bc);
		g_autoptr(GError) reason = NULL;

		cfg = base_config(0);
		cfg.ca_file = k.ca;
		g_assert_false(tls_connects(b, &cfg, &reason));
		g_assert_error(reason, MQTT_CLIENT_ERROR,
			       MQTT_CLIENT_ERROR_TLS);
		g_test_message("unknown CA: %s", reason->message);
		g_assert_nonnull(strstr(reason->message, "verify"));
	}
out:
	pki_clear(&k);
}

static void test_tls_client_cert(void)
{
	struct broker_config bc = { .allow_anonymous = true,
				    .require_certificate = true };
	g_autoptr(broker) b = NULL;
	struct mqtt_client_config cfg;
	struct pki k;

	if (!make_pki(&k))
		return;
	bc.certfile = k.server_crt;
	bc.keyfile = k.server_key;
	bc.cafile = k.ca;
	b = start_broker(&bc);
	if (b) {
		g_autoptr(GError) reason = NULL;

		cfg = base_config(0);
		cfg.ca_file = k.ca;
		cfg.cert_file = k.client_crt;
		cfg.key_file = k.client_key;
		g_assert_true(tls_connects(b, &cfg, &reason));

		/* Without one, the broker ends the handshake. */
		cfg = base_config(0);
		cfg.ca_file = k.ca;
		g_assert_false(tls_connects(b, &cfg, &reason));
		g_test_message("no client certificate: %s", reason->message);
		g_assert_error(reason, MQTT_CLIENT_ERROR,
			       MQTT_CLIENT_ERROR_TLS);
	}
	pki_clear(&k);
}

/* --- password file and ACL ------------------------------------------------ */

static bool all_sent(void *arg)
{
	struct ctx *t = arg;

	return outbox_wiring_unsent(t->store) == 0;
}

static const char acl[] = "user recoveryd\n"
			  "topic write recovery/#\n"
			  "topic write homeassistant/#\n"
			  "topic read recovery/+/checkin/set\n"
			  "topic read homeassistant/status\n"
			  "\n"
			  "user probe\n"
			  "topic readwrite #\n";

static const char *const acl_users[] = { "recoveryd", "s3cret pass", "probe",
					 "probe-pw", NULL };

static void test_auth_acl(void)
{
	static const char *const topics[] = { "recovery/#", "homeassistant/#",
					      "forbidden/#", NULL };
	struct broker_config bc = { .users = acl_users, .acl = acl };
	g_autoptr(broker) b = start_broker(&bc);
	g_autoptr(probe) p = NULL;
	g_autofree char *pw = NULL;
	struct mqtt_client_config cfg;
	int state, config;
	struct ctx t;

	if (!b)
		return;
	ctx_init(&t);
	pw = g_build_filename(t.dir, "mqtt-password", NULL);
	write_file(pw, "s3cret pass\n", 12, 0600);
	p = start_probe(b, "probe", "probe-pw", topics);

	/* Queued while away: the forbidden row first, so that when the
	 * allowed ones arrive it would have arrived before them. */
	outbox_wiring_add(t.store, "forbidden/x", "must not arrive");
	outbox_wiring_add(t.store, "recovery/alice/state", "{\"score\":71}");
	outbox_wiring_add(t.store, "homeassistant/sensor/rd_alice/config",
			  "{}");

	cfg = base_config(broker_port(b));
	cfg.username = "recoveryd";
	cfg.password_file = pw;
	ctx_client(&t, &cfg);
	g_assert_true(test_run_until(is_connected, &t, WAIT_MS));
	g_assert_true(run_until_message(
	    p, "homeassistant/sensor/rd_alice/config", "{}", WAIT_MS));
	state =
	    probe_find(p, 0, "recovery/alice/state", "{\"score\":71}", NULL);
	config = probe_find(p, 0, "homeassistant/sensor/rd_alice/config", "{}",
			    NULL);
	g_assert_cmpint(state, >=, 0);
	g_assert_cmpint(state, <, config);
	g_assert_cmpint(probe_find(p, 0, STATUS, "online", NULL), >=, 0);
	g_assert_cmpint(probe_find(p, 0, "forbidden/x", NULL, NULL), ==, -1);
	/* MQTT 3.1.1 has no way to say "denied": the broker acknowledges
	 * and drops, so the row counts as sent. (The PUBACK may follow the
	 * delivery to the probe: wait for it.) */
	g_assert_true(test_run_until(all_sent, &t, WAIT_MS));
	/* No warning: the password file is private. */
	for (guint i = 0; i < t.logs->len; i++)
		g_assert_false(g_str_has_prefix(t.logs->pdata[i], "WARNING"));

	check_inbound(&t, p);
	mqtt_client_stop(t.client);
	ctx_clear(&t);
}

static void test_auth_wrong_password(gconstpointer data)
{
	int protocol = GPOINTER_TO_INT(data);
	struct broker_config bc = { .users = acl_users, .acl = acl };
	g_autoptr(broker) b = start_broker(&bc);
	struct mqtt_client_config cfg;
	struct ctx t;

	if (!b)
		return;
	ctx_init(&t);
	cfg = base_config(broker_port(b));
	cfg.protocol = protocol;
	cfg.username = "recoveryd";
	cfg.password = "not the password";
	ctx_client(&t, &cfg);
	g_assert_true(test_run_until(has_disconnected, &t, WAIT_MS));
	g_assert_cmpuint(t.connects, ==, 0);
	g_assert_error(t.reason, MQTT_CLIENT_ERROR,
		       MQTT_CLIENT_ERROR_NOT_AUTHORIZED);
	g_test_message("wrong password: %s", t.reason->message);
	g_assert_nonnull(strstr(t.reason->message, "refused"));
	/* It keeps trying: the password may be fixed on the broker. */
	test_run_for(1500);
	g_assert_cmpuint(t.disconnects, >, 1);
	mqtt_client_stop(t.client);
	ctx_clear(&t);
}

/* --- the outbox through a broker outage ----------------------------------- */

struct producer {
	struct ctx *t;
	int next; /* sequence number of the next row */
	int last;
	guint id;
};

static void produce_one(struct producer *pr)
{
	g_autofree char *payload = g_strdup_printf("seq=%d", pr->next++);

	outbox_wiring_add(pr->t->store, SEQ_TOPIC, payload);
	mqtt_client_outbox_changed(pr->t->client);
}

static gboolean produce_cb(gpointer data)
{
	struct producer *pr = data;

	produce_one(pr);
	if (pr->next > pr->last) {
		pr->id = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

struct acked_wait {
	struct ctx *t;
	uint64_t n;
};

static bool acked(void *arg)
{
	struct acked_wait *w = arg;
	struct mqtt_client_stats st;

	mqtt_client_get_stats(w->t->client, &st);
	return st.acknowledged >= w->n;
}

struct drained_wait {
	struct ctx *t;
	probe *p;
};

static bool drained(void *arg)
{
	struct drained_wait *w = arg;
	struct mqtt_client_stats st;

	mqtt_client_get_stats(w->t->client, &st);
	return st.acknowledged >= ROWS && distinct_seq(w->p) >= ROWS;
}

static unsigned outage_s(void)
{
	const char *env = g_getenv("MQTT_OUTAGE_S");

	return env ? (unsigned)g_ascii_strtoull(env, NULL, 10) : OUTAGE_S;
}

static void test_outbox_broker_outage(void)
{
	static const char *const topics[] = { SEQ_TOPIC, NULL };
	g_autoptr(broker) b = start_broker(NULL);
	g_autoptr(probe) p = NULL;
	g_autoptr(GError) error = NULL;
	struct mqtt_client_config cfg;
	struct mqtt_client_stats st;
	struct producer pr;
	struct ctx t;
	unsigned first = 100, dups, outage = outage_s();
	int64_t t0;

	if (!b)
		return;
	ctx_init(&t);
	p = start_probe(b, NULL, NULL, topics);
	cfg = base_config(broker_port(b));
	cfg.max_inflight = MAX_INFLIGHT;
	cfg.reconnect_max_ms = 2000;
	ctx_client(&t, &cfg);
	g_assert_true(test_run_until(is_connected, &t, WAIT_MS));

	/* 100 rows at once; the broker dies with about 20 in flight. */
	pr = (struct producer){ .t = &t, .next = 1, .last = ROWS };
	while (pr.next <= (int)first)
		produce_one(&pr);
	g_assert_true(
	    test_run_until(acked, &(struct acked_wait){ &t, 50 }, WAIT_MS));
	broker_kill(b);
	t0 = g_get_monotonic_time();
	mqtt_client_get_stats(t.client, &st);
	g_test_message("broker killed after %" G_GUINT64_FORMAT
		       " acknowledged; down for %u s",
		       st.acknowledged, outage);

	/* The other 400 while it is away, spread over the outage. */
	pr.id = g_timeout_add(outage * 1000 / (ROWS - first), produce_cb, &pr);
	test_run_for(outage * 1000);
	/* Timers slip by the time each row takes to commit: the rest now. */
	g_clear_handle_id(&pr.id, g_source_remove);
	while (pr.next <= ROWS)
		produce_one(&pr);
	g_assert_false(mqtt_client_is_connected(t.client));
	g_assert_cmpuint(t.disconnects, >=, 2); /* lost, then refused */
	g_assert_cmpuint(outbox_wiring_unsent(t.store), >=, ROWS - first);

	g_test_message("broker down for %.1f s",
		       (double)(g_get_monotonic_time() - t0) / 1e6);
	g_assert_true(broker_start(b, &error));
	g_assert_no_error(error);
	/* The probe is back before the client may reconnect. */
	g_assert_true(probe_wait_ready(p, WAIT_MS));
	g_assert_true(
	    test_run_until(drained, &(struct drained_wait){ &t, p }, 30000));
	test_run_for(200);
	g_test_message("drained %.1f s after the kill",
		       (double)(g_get_monotonic_time() - t0) / 1e6);

	dups = check_sequence(p, ROWS, 1, MAX_INFLIGHT);
	g_test_message("%u received, %u repeated (in flight at the kill)",
		       probe_count(p), dups);
	g_assert_cmpuint(outbox_wiring_unsent(t.store), ==, 0);
	mqtt_client_get_stats(t.client, &st);
	g_assert_cmpuint(st.acknowledged, ==, ROWS);
	/* Rows in flight at the kill went out again after the reconnect
	 * (if the broker had read them first, they are the repeats). */
	g_assert_cmpuint(st.published, >, ROWS);
	g_test_message("%" G_GUINT64_FORMAT " rows published again after the "
		       "reconnect",
		       st.published - ROWS);
	g_assert_cmpuint(t.connects, ==, 2);
	mqtt_client_stop(t.client);
	ctx_clear(&t);
}

/* --- the outbox through a gateway SIGKILL --------------------------------- */

static void child_setup(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GPid spawn_helper(const char *db, int port)
{
	const char *helper = g_getenv("MQTT_DRAIN_HELPER");
	g_autofree char *port_s = g_strdup_printf("%d", port);
	g_autofree char *pace = g_strdup_printf("%d", PACE_MS);
	const char *argv[] = {
		helper,	       "--db",	       db,	    "--port", port_s,
		"--client-id", "test-gateway", "--pace-ms", pace,     NULL
	};
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) args = NULL;
	GPid pid = 0;

	g_assert_nonnull(helper);
	args = broker_argv(argv);
	g_spawn_async(NULL, args, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_setup,
		      NULL, &pid, &error);
	g_assert_no_error(error);
	return pid;
}

static int wait_child(GPid pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		g_assert_cmpint(errno, ==, EINTR);
	g_spawn_close_pid(pid);
	return status;
}

static unsigned count_on(probe *p, const char *topic, const char *payload)
{
	unsigned n = 0;
	int i = -1;

	while ((i = probe_find(p, (unsigned)(i + 1), topic, payload, NULL)) >=
	       0)
		n++;
	return n;
}

static void test_outbox_gateway_kill(void)
{
	static const char *const topics[] = { SEQ_TOPIC, STATUS, NULL };
	g_autoptr(broker) b = start_broker(NULL);
	g_autoptr(probe) p = NULL;
	g_autofree char *db = NULL;
	unsigned at_kill, dups;
	int64_t deadline;
	GPid pid;
	int status;
	struct ctx t;

	if (!b)
		return;
	if (!g_getenv("MQTT_DRAIN_HELPER")) {
		g_test_skip("MQTT_DRAIN_HELPER not set (run through ctest)");
		return;
	}
	ctx_init(&t);
	for (int i = 1; i <= ROWS; i++) {
		g_autofree char *payload = g_strdup_printf("seq=%d", i);

		outbox_wiring_add(t.store, SEQ_TOPIC, payload);
	}
	db = g_build_filename(t.dir, "recoveryd.db", NULL);
	g_clear_pointer(&t.store, store_close);
	p = start_probe(b, NULL, NULL, topics);

	pid = spawn_helper(db, broker_port(b));
	deadline = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
	while (distinct_seq(p) < KILL_AFTER &&
	       g_get_monotonic_time() < deadline)
		g_usleep(1000);
	kill(pid, SIGKILL);
	status = wait_child(pid);
	g_assert_true(WIFSIGNALED(status));
	at_kill = distinct_seq(p);
	g_test_message("helper killed with %u rows delivered", at_kill);
	g_assert_cmpuint(at_kill, >=, KILL_AFTER);
	g_assert_cmpuint(at_kill, <, ROWS);
	/* The crash is announced by the will. */
	deadline = g_get_monotonic_time() + WAIT_MS * G_TIME_SPAN_MILLISECOND;
	while (count_on(p, STATUS, "offline") == 0 &&
	       g_get_monotonic_time() < deadline)
		g_usleep(1000);
	g_assert_cmpuint(count_on(p, STATUS, "offline"), ==, 1);

	pid = spawn_helper(db, broker_port(b));
	deadline = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
	while (distinct_seq(p) < ROWS && g_get_monotonic_time() < deadline)
		g_usleep(1000);
	g_usleep(200 * 1000);
	kill(pid, SIGTERM);
	status = wait_child(pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);

	/* Rows marked sent in the store's open batch died with the helper
	 * (store.h: marks join the batch), so the second run may repeat
	 * everything the first delivered, plus what was in flight. */
	dups = check_sequence(p, ROWS, 1, at_kill + MAX_INFLIGHT);
	g_test_message("%u received, %u repeated after the restart",
		       probe_count(p), dups);
	g_assert_cmpuint(count_on(p, STATUS, "online"), ==, 2);
	g_assert_cmpuint(count_on(p, STATUS, "offline"), ==, 2);

	t.store = store_open(db, NULL, NULL);
	g_assert_nonnull(t.store);
	g_assert_cmpuint(outbox_wiring_unsent(t.store), ==, 0);
	ctx_clear(&t);
}

int main(int argc, char **argv)
{
	/* The client refuses to run otherwise (client.h). */
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(password_cases); i++) {
		g_autofree char *name = g_strdup_printf("/mqtt/password/%s",
							password_cases[i].name);

		g_test_add_data_func(name, &password_cases[i],
				     test_password_case);
	}
	g_test_add_func("/mqtt/password/limits", test_password_limits);
	g_test_add_func("/mqtt/config/insecure", test_config_insecure);
	g_test_add_func("/mqtt/config/invalid", test_config_invalid);
	g_test_add_data_func("/mqtt/plain/online-311", GINT_TO_POINTER(311),
			     test_plain_online);
	g_test_add_data_func("/mqtt/plain/online-5", GINT_TO_POINTER(5),
			     test_plain_online);
	g_test_add_func("/mqtt/plain/will", test_plain_will);
	g_test_add_func("/mqtt/inbound", test_inbound);
	g_test_add_func("/mqtt/live/collapse", test_live_collapse);
	g_test_add_func("/mqtt/subscribe-publish", test_subscribe_publish);
	g_test_add_func("/mqtt/tls/verified", test_tls_verified);
	g_test_add_func("/mqtt/tls/refused", test_tls_refused);
	g_test_add_func("/mqtt/tls/client-cert", test_tls_client_cert);
	g_test_add_func("/mqtt/auth/acl", test_auth_acl);
	g_test_add_data_func("/mqtt/auth/wrong-password-311",
			     GINT_TO_POINTER(311), test_auth_wrong_password);
	g_test_add_data_func("/mqtt/auth/wrong-password-5", GINT_TO_POINTER(5),
			     test_auth_wrong_password);
	g_test_add_func("/mqtt/outbox/gateway-kill", test_outbox_gateway_kill);
	g_test_add_func("/mqtt/outbox/broker-outage",
			test_outbox_broker_outage);
	return g_test_run();
}
