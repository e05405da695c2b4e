// SPDX-License-Identifier: MIT
/*
 * recoveryctl status: what the daemon is doing, for a person at 3 a.m. or a
 * script. From the database, opened read-only beside the running daemon
 * (WAL lets a reader in while it writes): people and their last result,
 * devices, the outbox backlog, the last analysis. From the broker, when one
 * is named (--broker, or the configuration): the daemon's online/offline
 * word and its retained state on <base>/gateway (storage health, clock).
 * What neither says is shown as unknown, with what would tell.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <mosquitto.h>
#include <sqlite3.h>

#include "gateway/common/json-text.h"
#include "gateway/common/quote.h"
#include "gateway/core/clock.h"
#include "gateway/core/config.h"
#include "gateway/core/store.h"
#include "gateway/ctl/ctl.h"
#include "mqtt/password.h"
#include "mqtt/topic.h"

#define DEFAULT_CONFIG "/etc/recoveryd/recoveryd.conf"
/* The broker is asked for this long at most. */
#define BROKER_WAIT_MS 3000
/* Retained messages follow the SUBACK at once: this long after it, what
 * has not come does not exist. */
#define RETAINED_GRACE_MS 500
/* A retained state bigger than this is not ours. */
#define GATEWAY_MAX_BYTES (64 * 1024)
/* A device not heard for this long is shown as silent. */
#define SILENT_MS (15 * 60 * 1000)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

static const char status_usage[] =
    "usage: recoveryctl status [--db PATH] [--config FILE] "
    "[--broker HOST:PORT]\n"
    "                          [--base TOPIC] [--json]\n";

/* --- what the database says ---------------------------------------------- */

struct person_row {
	int64_t id;
	char *name;
	bool has_result;
	int32_t day;
	int score; /* -1: none */
	char *zone;
	int64_t computed_ms;
};

struct device_row {
	char *address;
	char *kind;
	char *user; /* NULL: shared or unknown */
	int battery_pct;
	int rssi_dbm; /* 0: unknown */
	int64_t last_seen_ms;
	bool configured_only; /* in the configuration, never in the table */
};

struct db_view {
	int schema_version;
	GArray *people;	 /* struct person_row */
	GArray *devices; /* struct device_row */
	int64_t backlog;
	int64_t oldest_unsent_ms; /* 0: none */
	int64_t last_analysis_ms; /* 0: none */
	unsigned unreadable;	  /* rows skipped: not what they should be */
};

static void person_row_clear(void *data)
{
	struct person_row *p = data;

	g_free(p->name);
	g_free(p->zone);
}

static void device_row_clear(void *data)
{
	struct device_row *d = data;

	g_free(d->address);
	g_free(d->kind);
	g_free(d->user);
}

static void db_view_clear(struct db_view *v)
{
	g_clear_pointer(&v->people, g_array_unref);
	g_clear_pointer(&v->devices, g_array_unref);
}

/* A text column, valid UTF-8 and short, or NULL (a damaged row). */
static char *column_text(sqlite3_stmt *st, int col)
{
	const char *text;
	int len;

	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return NULL;
	text = (const char *)sqlite3_column_text(st, col);
	len = sqlite3_column_bytes(st, col);
	if (!text || len > 256 || !g_utf8_validate_len(text, (gsize)len, NULL))
		return NULL;
	return g_strndup(text, (gsize)len);
}

static bool column_int(sqlite3_stmt *st, int col, int64_t *ret)
{
	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return false;
	*ret = sqlite3_column_int64(st, col);
	return true;
}

static gboolean db_fail(sqlite3 *db, const char *what, GError **error)
{
	g_set_error(error, STORE_ERROR, STORE_ERROR_SQL, "%s: %s", what,
		    sqlite3_errmsg(db));
	return FALSE;
}

static gboolean prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret,
			GError **error)
{
	if (sqlite3_prepare_v2(db, sql, -1, ret, NULL) != SQLITE_OK)
		return db_fail(db, "reading the database", error);
	return TRUE;
}

static int latest_schema(void)
{
	int v = 1;

	while (store_migration_sql(v + 1))
		v++;
	return v;
}

static gboolean read_people(sqlite3 *db, struct db_view *v, GError **error)
{
	g_autoptr(sqlite3_stmt) users = NULL;
	g_autoptr(sqlite3_stmt) last = NULL;
	int rc;

	if (!prepare(db, "SELECT id, name FROM users ORDER BY name", &users,
		     error) ||
	    !prepare(db,
		     "SELECT day, score, zone, computed_ms FROM results "
		     "WHERE user_id = ?1 ORDER BY day DESC LIMIT 1",
		     &last, error))
		return FALSE;
	while ((rc = sqlite3_step(users)) == SQLITE_ROW) {
		struct person_row p = { .score = -1 };
		int64_t value;

		p.name = column_text(users, 1);
		if (!column_int(users, 0, &p.id) || !p.name) {
			person_row_clear(&p);
			v->unreadable++;
			continue;
		}
		sqlite3_reset(last);
		sqlite3_bind_int64(last, 1, p.id);
		if (sqlite3_step(last) == SQLITE_ROW &&
		    column_int(last, 0, &value) && value >= 0 &&
		    value <= INT32_MAX) {
			p.has_result = true;
			p.day = (int32_t)value;
			if (column_int(last, 1, &value) && value >= 0 &&
			    value <= 100)
				p.score = (int)value;
			p.zone = column_text(last, 2);
			if (!column_int(last, 3, &p.computed_ms))
				p.computed_ms = 0;
		}
		g_array_append_val(v->people, p);
	}
	if (rc != SQLITE_DONE)
		return db_fail(db, "reading the people", error);
	return TRUE;
}

static char *user_name(struct db_view *v, int64_t id)
{
	for (guint i = 0; i < v->people->len; i++) {
		const struct person_row *p =
		    &g_array_index(v->people, struct person_row, i);

		if (p->id == id)
			return g_strdup(p->name);
	}
	return NULL;
}

static gboolean read_devices(sqlite3 *db, struct db_view *v, GError **error)
{
	g_autoptr(sqlite3_stmt) st = NULL;
	int rc;

	if (!prepare(db,
		     "SELECT address, kind, user_id, battery_pct, rssi, "
		     "last_seen_ms FROM devices ORDER BY address",
		     &st, error))
		return FALSE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct device_row d = { .battery_pct = -1 };
		int64_t value;

		d.address = column_text(st, 0);
		d.kind = column_text(st, 1);
		if (!d.address || !d.kind ||
		    !column_int(st, 5, &d.last_seen_ms)) {
			device_row_clear(&d);
			v->unreadable++;
			continue;
		}
		if (column_int(st, 2, &value))
			d.user = user_name(v, value);
		if (column_int(st, 3, &value) && value >= 0 && value <= 100)
			d.battery_pct = (int)value;
		if (column_int(st, 4, &value) && value >= -127 && value < 0)
			d.rssi_dbm = (int)value;
		g_array_append_val(v->devices, d);
	}
	if (rc != SQLITE_DONE)
		return db_fail(db, "reading the devices", error);
	return TRUE;
}

static gboolean read_one_row(sqlite3 *db, const char *sql, const char *what,
			     int64_t *ret_a, int64_t *ret_b, GError **error)
{
	g_autoptr(sqlite3_stmt) st = NULL;

	if (!prepare(db, sql, &st, error))
		return FALSE;
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_fail(db, what, error);
	if (!column_int(st, 0, ret_a))
		*ret_a = 0;
	if (ret_b && !column_int(st, 1, ret_b))
		*ret_b = 0;
	return TRUE;
}

/*
 * A WAL database whose -shm file does not exist (the daemon closed it) in
 * a directory that cannot be written (a read-only file system): SQLite
 * cannot set up its shared memory and refuses a read-only reader. Nobody
 * can write there either, so the file is read as immutable. TRUE when @db
 * (replaced then) can be read.
 */
static bool wal_readable(sqlite3 **db, const char *path)
{
	g_autofree char *uri = NULL;
	g_autofree char *escaped = NULL;
	sqlite3 *again = NULL;

	if (sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
			 NULL) == SQLITE_OK ||
	    sqlite3_errcode(*db) != SQLITE_CANTOPEN)
		return true;
	escaped = g_uri_escape_string(path, "/", FALSE);
	uri = g_strdup_printf("file:%s?immutable=1", escaped);
	if (sqlite3_open_v2(uri, &again, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			    NULL) != SQLITE_OK) {
		sqlite3_close(again);
		return false;
	}
	sqlite3_close(*db);
	*db = again;
	return true;
}

/*
 * Reads @path without writing a byte: SQLITE_OPEN_READONLY and query_only.
 * Beside a running daemon a reader sees the last committed batch.
 */
static gboolean read_database(const char *path, struct db_view *v,
			      GError **error)
{
	g_autoptr(sqlite3_stmt) version = NULL;
	sqlite3 *db = NULL;
	gboolean ok = FALSE;
	int latest = latest_schema();

	*v = (struct db_view){
		.people = g_array_new(FALSE, TRUE, sizeof(struct person_row)),
		.devices = g_array_new(FALSE, TRUE, sizeof(struct device_row)),
	};
	g_array_set_clear_func(v->people, person_row_clear);
	g_array_set_clear_func(v->devices, device_row_clear);
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "no such database");
		return FALSE;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "cannot open it: %s",
			    db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 2000);
	if (!wal_readable(&db, path)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "cannot read it: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_exec(db, "PRAGMA query_only = ON", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &version, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(version) != SQLITE_ROW) {
		if (sqlite3_errcode(db) == SQLITE_NOTADB)
			g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
				    "not an SQLite database (%s): is the path "
				    "right?",
				    sqlite3_errmsg(db));
		else
			db_fail(db, "reading the schema version", error);
		goto out;
	}
	v->schema_version = sqlite3_column_int(version, 0);
	if (v->schema_version < 1 || v->schema_version > latest) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
			    "schema version %d is not one this program reads "
			    "(1-%d): not recoveryd's database, or a newer "
			    "one",
			    v->schema_version, latest);
		goto out;
	}
	ok = read_people(db, v, error) && read_devices(db, v, error) &&
	     read_one_row(db,
			  "SELECT count(*), min(created_ms) FROM outbox "
			  "WHERE sent_ms IS NULL",
			  "counting the outbox", &v->backlog,
			  &v->oldest_unsent_ms, error) &&
	     read_one_row(db, "SELECT max(computed_ms) FROM results",
			  "reading the last analysis", &v->last_analysis_ms,
			  NULL, error);
out:
	/* v2: the version statement is finalized after this, on return. */
	sqlite3_close_v2(db);
	return ok;
}

/* Configured devices the table does not have yet: never heard. */
static void add_configured_devices(struct db_view *v,
				   const struct config *config)
{
	for (size_t i = 0; i < config->person_count; i++) {
		const struct config_person *p = &config->people[i];
		const struct {
			const char *address;
			const char *kind;
		} mine[] = {
			{ p->heart_rate, "heart-rate" },
			{ p->scale, "scale" },
			{ p->bed_sensor, "bed-sensor" },
		};

		for (size_t k = 0; k < G_N_ELEMENTS(mine); k++) {
			struct device_row d = { .battery_pct = -1,
						.configured_only = true };
			bool known = false;

			if (!mine[k].address || !mine[k].address[0])
				continue;
			for (guint j = 0; j < v->devices->len && !known; j++)
				known = !g_ascii_strcasecmp(
				    g_array_index(v->devices, struct device_row,
						  j)
					.address,
				    mine[k].address);
			if (known)
				continue;
			d.address = g_ascii_strup(mine[k].address, -1);
			d.kind = g_strdup(mine[k].kind);
			d.user = g_strdup(p->name);
			g_array_append_val(v->devices, d);
		}
	}
}

/* --- what the broker says ------------------------------------------------- */

struct broker_target {
	char *host;
	int port;
	const struct config *config; /* TLS and login, NULL: plain */
	char *base;
};

struct broker_view {
	bool asked;
	bool reached;
	char *error;
	char *status_topic;
	char *gateway_topic;
	char *status;	     /* "online" / "offline" as retained, or NULL */
	JsonNode *gateway;   /* the retained state, or NULL */
	char *gateway_error; /* why the retained state was not read */
	bool subscribed;     /* the SUBACK came */
	int64_t subscribed_us;
	bool connack;
	int connack_rc;
};

static void broker_view_clear(struct broker_view *b)
{
	g_free(b->error);
	g_free(b->status_topic);
	g_free(b->gateway_topic);
	g_free(b->status);
	g_clear_pointer(&b->gateway, json_node_unref);
	g_free(b->gateway_error);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct broker_view *b = obj;
	char *const topics[] = { b->status_topic, b->gateway_topic };

	b->connack = true;
	b->connack_rc = rc;
	if (rc != 0)
		return;
	/* One SUBSCRIBE, one SUBACK; the retained messages follow it. */
	mosquitto_subscribe_multiple(mosq, NULL, 2, topics, 0, 0, NULL);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count,
			 const int *granted)
{
	struct broker_view *b = obj;

	b->subscribed_us = g_get_monotonic_time();
	b->subscribed = true;
}

static void on_message(struct mosquitto *mosq, void *obj,
		       const struct mosquitto_message *msg)
{
	struct broker_view *b = obj;
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;

	if (g_strcmp0(msg->topic, b->status_topic) == 0) {
		g_free(b->status);
		/* Our two words as they are; anything else quoted. */
		if (len == 6 && !memcmp(msg->payload, "online", 6))
			b->status = g_strdup("online");
		else if (len == 7 && !memcmp(msg->payload, "offline", 7))
			b->status = g_strdup("offline");
		else
			b->status = quote_text(len ? msg->payload : "",
					       (gssize)len, QUOTE_PLAIN);
		return;
	}
	if (g_strcmp0(msg->topic, b->gateway_topic) != 0)
		return;
	g_clear_pointer(&b->gateway, json_node_unref);
	g_clear_pointer(&b->gateway_error, g_free);
	if (len == 0 || len > GATEWAY_MAX_BYTES ||
	    !g_utf8_validate_len(msg->payload, len, NULL)) {
		b->gateway_error = g_strdup_printf(
		    "%zu bytes that are not the gateway's state", len);
		return;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, msg->payload, (gssize)len,
					&error) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		b->gateway_error = g_strdup("not a JSON object");
		return;
	}
	b->gateway = json_node_copy(json_parser_get_root(parser));
}

/* Connects, subscribes to the status and the gateway's state, and waits
 * for their retained messages: BROKER_WAIT_MS at most. */
static void ask_broker(const struct broker_target *t, struct broker_view *b)
{
	struct mosquitto *mosq;
	g_autofree char *client_id =
	    g_strdup_printf("recoveryctl-status-%d", (int)getpid());
	int64_t deadline = g_get_monotonic_time() + BROKER_WAIT_MS * 1000;
	char *password = NULL;
	g_autoptr(GError) error = NULL;
	int rc;

	b->asked = true;
	b->status_topic = mqtt_topic_status(t->base);
	b->gateway_topic = mqtt_topic_gateway(t->base);
	mosquitto_lib_init();
	mosq = mosquitto_new(client_id, true, b);
	if (!mosq) {
		b->error = g_strdup("out of memory");
		goto out;
	}
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_subscribe_callback_set(mosq, on_subscribe);
	mosquitto_message_callback_set(mosq, on_message);
	if (t->config && t->config->username) {
		bool exposed;

		if (t->config->password_file &&
		    !mqtt_password_read(t->config->password_file, &password,
					&exposed, &error)) {
			b->error = g_strdup(error->message);
			goto out;
		}
		mosquitto_username_pw_set(mosq, t->config->username, password);
	}
	if (t->config && t->config->tls) {
		rc = mosquitto_tls_set(mosq, t->config->ca_file,
				       t->config->ca_dir, t->config->cert_file,
				       t->config->key_file, NULL);
		if (rc == MOSQ_ERR_SUCCESS && t->config->allow_insecure)
			rc = mosquitto_tls_insecure_set(mosq, true);
		if (rc != MOSQ_ERR_SUCCESS) {
			b->error =
			    g_strdup_printf("TLS: %s", mosquitto_strerror(rc));
			goto out;
		}
	}
	/* Asynchronous: a host that does not answer costs the wait, not the
	 * system's connect timeout. */
	rc = mosquitto_connect_async(mosq, t->host, t->port, 10);
	while (rc == MOSQ_ERR_SUCCESS && g_get_monotonic_time() < deadline) {
		rc = mosquitto_loop(mosq, 50, 1);
		if (b->connack && b->connack_rc != 0)
			break;
		if (b->subscribed &&
		    ((b->status && (b->gateway || b->gateway_error)) ||
		     g_get_monotonic_time() - b->subscribed_us >
			 RETAINED_GRACE_MS * 1000))
			break;
	}
	if (b->connack && b->connack_rc != 0)
		b->error =
		    g_strdup_printf("refused the connection: %s",
				    mosquitto_connack_string(b->connack_rc));
	else if (rc == MOSQ_ERR_ERRNO)
		b->error = g_strdup(g_strerror(errno));
	else if (rc != MOSQ_ERR_SUCCESS)
		b->error = g_strdup(mosquitto_strerror(rc));
	else if (!b->subscribed)
		b->error = g_strdup_printf("no answer within %d s",
					   BROKER_WAIT_MS / 1000);
	else
		b->reached = true;
	mosquitto_disconnect(mosq);
out:
	mqtt_password_free(password);
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
}

/* --- the gateway's retained state, read with care ---------------------------
 */

/* @key of @node (or of its member object @object) when it holds a value
 * of @type; NULL otherwise. */
static JsonNode *member_value(JsonNode *node, const char *object,
			      const char *key, GType type)
{
	JsonObject *o;
	JsonNode *m;

	if (!node || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	o = json_node_get_object(node);
	if (object) {
		m = json_object_get_member(o, object);
		if (!m || !JSON_NODE_HOLDS_OBJECT(m))
			return NULL;
		o = json_node_get_object(m);
	}
	m = json_object_get_member(o, key);
	if (!m || !JSON_NODE_HOLDS_VALUE(m) ||
	    json_node_get_value_type(m) != type)
		return NULL;
	return m;
}

static const char *member_string(JsonNode *node, const char *object,
				 const char *key)
{
	JsonNode *m = member_value(node, object, key, G_TYPE_STRING);

	return m ? json_node_get_string(m) : NULL;
}

static bool member_int(JsonNode *node, const char *object, const char *key,
		       int64_t *ret)
{
	JsonNode *m = member_value(node, object, key, G_TYPE_INT64);

	if (!m)
		return false;
	*ret = json_node_get_int(m);
	return true;
}

/* --- output
 * ------------------------------------------------------------------- */

static char *format_local(int64_t ms)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(ms / 1000);

	return t ? g_date_time_format(t, "%Y-%m-%d %H:%M") : g_strdup("?");
}

static char *format_utc(int64_t ms)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(ms / 1000);

	return t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

/* "just now", "4 min ago", "3 h ago", "2 days ago". */
static char *format_ago(int64_t ms, int64_t now_ms)
{
	int64_t s = (now_ms - ms) / 1000;

	if (s < 60)
		return g_strdup(s < -60 ? "in the future?" : "just now");
	if (s < 3600)
		return g_strdup_printf("%" PRId64 " min ago", s / 60);
	if (s < 2 * 86400)
		return g_strdup_printf("%" PRId64 " h ago", s / 3600);
	return g_strdup_printf("%" PRId64 " days ago", s / 86400);
}

/* A home gateway's satellites, from its state's "satellites" array
 * (DESIGN §13): nothing when it has none. */
static void print_satellites(JsonNode *gateway, int64_t now)
{
	JsonNode *list = NULL;
	JsonArray *a;

	if (gateway && JSON_NODE_HOLDS_OBJECT(gateway))
		list = json_object_get_member(json_node_get_object(gateway),
					      "satellites");
	if (!list || !JSON_NODE_HOLDS_ARRAY(list))
		return;
	a = json_node_get_array(list);
	printf("  satellites:%s\n",
	       json_array_get_length(a) ? "" : " none heard yet");
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonNode *item = json_array_get_element(a, i);
		const char *name = member_string(item, NULL, "name");
		const char *state = member_string(item, NULL, "status");
		const char *heard = member_string(item, NULL, "last_heard");
		g_autoptr(GDateTime) t =
		    heard ? g_date_time_new_from_iso8601(heard, NULL) : NULL;
		g_autofree char *ago =
		    t ? format_ago(g_date_time_to_unix(t) * 1000, now)
		      : g_strdup("never");
		int64_t filed = 0, dropped = 0;

		if (!name)
			continue;
		member_int(item, NULL, "readings", &filed);
		member_int(item, NULL, "dropped", &dropped);
		printf("    %-16s %s, last heard %s, %" PRId64
		       " readings filed, %" PRId64 " dropped\n",
		       name, state ? state : "status unknown", ago, filed,
		       dropped);
	}
}

static void print_human(const char *db_path, const struct db_view *v,
			const struct broker_view *b,
			const struct broker_target *t)
{
	int64_t now = g_get_real_time() / 1000;
	const char *storage = member_string(b->gateway, "storage", "state");
	const char *clock_state = member_string(b->gateway, NULL, "clock");
	const char *unknown_why =
	    b->asked ? (b->reached ? "the gateway has not published it"
				   : "the broker could not be asked")
		     : "no broker asked: --broker HOST:PORT or --config FILE";
	/* A daemon that is offline said this before it went. */
	const char *stale = g_strcmp0(b->status, "online") != 0
				? " (as the daemon last said it)"
				: "";
	int64_t n;

	printf("recoveryd status: database %s (schema %d)\n", db_path,
	       v->schema_version);

	/* The daemon, as the broker knows it. */
	if (!b->asked)
		printf("  daemon:    unknown (%s)\n", unknown_why);
	else if (!b->reached)
		printf("  daemon:    unknown: broker %s:%d: %s\n", t->host,
		       t->port, b->error);
	else if (!b->status)
		printf("  daemon:    never connected to broker %s:%d\n",
		       t->host, t->port);
	else
		printf("  daemon:    %s (broker %s:%d)\n",
		       g_str_equal(b->status, "online") ? "online"
		       : g_str_equal(b->status, "offline")
			   ? "OFFLINE: not running, or lost the broker"
			   : b->status,
		       t->host, t->port);

	/* Storage: only the daemon knows it, through the broker. */
	if (!storage) {
		printf("  storage:   unknown (%s)\n", unknown_why);
	} else if (g_str_equal(storage, "ok")) {
		printf("  storage:   ok%s\n", stale);
	} else {
		const char *cause =
		    member_string(b->gateway, "storage", "cause");
		const char *since =
		    member_string(b->gateway, "storage", "since");
		int64_t held = 0, dropped = 0;

		member_int(b->gateway, "storage", "held_readings", &held);
		member_int(b->gateway, "storage", "dropped_readings", &dropped);
		printf("  storage:   FAILING: %s since %s: %" PRId64
		       " readings held in memory, %" PRId64 " dropped%s\n",
		       cause ? cause : "?", since ? since : "?", held, dropped,
		       stale);
	}
	if (!clock_state)
		printf("  clock:     unknown (%s)\n", unknown_why);
	else if (g_str_equal(clock_state, "synchronised"))
		printf("  clock:     synchronised%s\n", stale);
	else
		printf("  clock:     WAITING for synchronisation: readings "
		       "held, no morning alerts%s\n",
		       stale);

	if (v->backlog == 0) {
		printf("  outbox:    empty (everything sent)\n");
	} else {
		g_autofree char *oldest = format_local(v->oldest_unsent_ms);

		printf("  outbox:    %" PRId64 " %s not sent yet (oldest %s)\n",
		       v->backlog, v->backlog == 1 ? "message" : "messages",
		       oldest);
	}
	if (v->last_analysis_ms) {
		g_autofree char *when = format_local(v->last_analysis_ms);
		g_autofree char *ago = format_ago(v->last_analysis_ms, now);

		printf("  analysis:  last %s (%s)\n", when, ago);
	} else {
		printf("  analysis:  none yet\n");
	}

	printf("  people:%s\n", v->people->len ? "" : "    none yet");
	for (guint i = 0; i < v->people->len; i++) {
		const struct person_row *p =
		    &g_array_index(v->people, struct person_row, i);
		char date[16];

		if (!p->has_result) {
			printf("    %-16s no result yet\n", p->name);
			continue;
		}
		clock_day_format(p->day, date, sizeof(date));
		if (p->score >= 0)
			printf("    %-16s %s: score %d, %s\n", p->name, date,
			       p->score, p->zone ? p->zone : "?");
		else
			printf("    %-16s %s: no score (%s)\n", p->name, date,
			       p->zone ? p->zone : "?");
	}

	printf("  devices:%s\n", v->devices->len ? "" : "   none heard yet");
	for (guint i = 0; i < v->devices->len; i++) {
		const struct device_row *d =
		    &g_array_index(v->devices, struct device_row, i);
		g_autofree char *ago = NULL;
		g_autoptr(GString) extra = g_string_new(NULL);

		if (d->configured_only) {
			printf("    %s %-10s %-10s never heard\n", d->address,
			       d->kind, d->user ? d->user : "shared");
			continue;
		}
		ago = format_ago(d->last_seen_ms, now);
		if (d->battery_pct >= 0)
			g_string_append_printf(extra, ", battery %d %%",
					       d->battery_pct);
		if (d->rssi_dbm)
			g_string_append_printf(extra, ", %d dBm", d->rssi_dbm);
		printf("    %s %-10s %-10s heard %s%s%s\n", d->address, d->kind,
		       d->user ? d->user : "shared", ago, extra->str,
		       now - d->last_seen_ms > SILENT_MS ? " (silent)" : "");
	}
	print_satellites(b->gateway, now);
	if (member_int(b->gateway, NULL, "outbox_backlog", &n) &&
	    n != v->backlog)
		printf("  (the daemon counted %" PRId64
		       " unsent when it last published)\n",
		       n);
	if (v->unreadable)
		printf("  %u damaged rows not shown\n", v->unreadable);
}

static void add_time(JsonBuilder *j, const char *key, int64_t ms)
{
	g_autofree char *text = ms ? format_utc(ms) : NULL;

	json_builder_set_member_name(j, key);
	if (text)
		json_builder_add_string_value(j, text);
	else
		json_builder_add_null_value(j);
}

static void add_string_or_null(JsonBuilder *j, const char *key,
			       const char *value)
{
	json_builder_set_member_name(j, key);
	if (value)
		json_builder_add_string_value(j, value);
	else
		json_builder_add_null_value(j);
}

static void print_json(const char *db_path, const struct db_view *v,
		       const struct broker_view *b,
		       const struct broker_target *t)
{
	g_autoptr(JsonBuilder) j = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(j);
	add_string_or_null(j, "database", db_path);
	json_text_member_int(j, "schema_version", v->schema_version);

	json_builder_set_member_name(j, "broker");
	if (b->asked) {
		g_autofree char *address =
		    g_strdup_printf("%s:%d", t->host, t->port);

		json_builder_begin_object(j);
		add_string_or_null(j, "address", address);
		json_text_member_bool(j, "reached", b->reached);
		add_string_or_null(j, "error", b->error);
		json_builder_end_object(j);
	} else {
		json_builder_add_null_value(j);
	}
	/* online / offline / null (unknown) */
	add_string_or_null(j, "daemon", b->reached ? b->status : NULL);
	json_builder_set_member_name(j, "gateway");
	if (b->gateway)
		json_builder_add_value(j, json_node_copy(b->gateway));
	else
		json_builder_add_null_value(j);

	json_builder_set_member_name(j, "outbox");
	json_builder_begin_object(j);
	json_text_member_int(j, "backlog", v->backlog);
	add_time(j, "oldest", v->oldest_unsent_ms);
	json_builder_end_object(j);
	add_time(j, "last_analysis", v->last_analysis_ms);

	json_builder_set_member_name(j, "people");
	json_builder_begin_array(j);
	for (guint i = 0; i < v->people->len; i++) {
		const struct person_row *p =
		    &g_array_index(v->people, struct person_row, i);
		char date[16];

		json_builder_begin_object(j);
		add_string_or_null(j, "name", p->name);
		json_builder_set_member_name(j, "last_result");
		if (p->has_result) {
			clock_day_format(p->day, date, sizeof(date));
			json_builder_begin_object(j);
			add_string_or_null(j, "date", date);
			json_builder_set_member_name(j, "score");
			if (p->score >= 0)
				json_builder_add_int_value(j, p->score);
			else
				json_builder_add_null_value(j);
			add_string_or_null(j, "zone", p->zone);
			add_time(j, "computed", p->computed_ms);
			json_builder_end_object(j);
		} else {
			json_builder_add_null_value(j);
		}
		json_builder_end_object(j);
	}
	json_builder_end_array(j);

	json_builder_set_member_name(j, "devices");
	json_builder_begin_array(j);
	for (guint i = 0; i < v->devices->len; i++) {
		const struct device_row *d =
		    &g_array_index(v->devices, struct device_row, i);

		json_builder_begin_object(j);
		add_string_or_null(j, "address", d->address);
		add_string_or_null(j, "kind", d->kind);
		add_string_or_null(j, "user", d->user);
		json_builder_set_member_name(j, "battery_pct");
		if (d->battery_pct >= 0)
			json_builder_add_int_value(j, d->battery_pct);
		else
			json_builder_add_null_value(j);
		json_builder_set_member_name(j, "rssi_dbm");
		if (d->rssi_dbm)
			json_builder_add_int_value(j, d->rssi_dbm);
		else
			json_builder_add_null_value(j);
		add_time(j, "last_seen",
			 d->configured_only ? 0 : d->last_seen_ms);
		json_builder_end_object(j);
	}
	json_builder_end_array(j);
	json_text_member_int(j, "damaged_rows", v->unreadable);
	json_builder_end_object(j);
	root = json_builder_get_root(j);
	text = json_text_from_node(root);
	printf("%s\n", text);
}

/* --- the command
 * ------------------------------------------------------------------ */

/* "HOST:PORT" (the last ':' splits, so "[::1]:1883" works unbracketed
 * too). FALSE for anything else. */
static gboolean parse_broker(const char *text, char **ret_host, int *ret_port)
{
	const char *colon = strrchr(text, ':');
	char *end = NULL;
	gint64 port;
	g_autofree char *host = NULL;

	if (!colon || colon == text)
		return FALSE;
	errno = 0;
	port = g_ascii_strtoll(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return FALSE;
	host = g_strndup(text, (gsize)(colon - text));
	if (host[0] == '[' && g_str_has_suffix(host, "]")) {
		char *inner = g_strndup(host + 1, strlen(host) - 2);

		g_free(host);
		host = inner;
	}
	for (const char *p = host; *p; p++)
		if (g_ascii_iscntrl(*p) || *p == ' ' || *p == '/')
			return FALSE;
	*ret_host = g_steal_pointer(&host);
	*ret_port = (int)port;
	return TRUE;
}

static const struct ctl_command status_command = {
	.name = "status",
	.usage = status_usage,
	.summary =
	    "What the daemon is doing: its people and their last result,\n"
	    "devices (last heard, battery), the outbox backlog and the last\n"
	    "analysis from the database (read-only, beside the running\n"
	    "daemon); with a broker (--broker, or the [mqtt] section of\n"
	    "--config) also whether the daemon is online, its storage health\n"
	    "and clock, from its retained state on <base>/gateway.\n"
	    "\n"
	    "Without --db and --config, the configuration is "
	    "/etc/recoveryd/recoveryd.conf.\n"
	    "Exit status: 0 shown, 1 the database or the broker named could\n"
	    "not be read, 2 usage error.",
	.no_arguments = true,
};

int ctl_status(int argc, char **argv)
{
	g_autofree char *db = NULL;
	g_autofree char *config_path = NULL;
	g_autofree char *broker = NULL;
	g_autofree char *base = NULL;
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
		  "the database (default: the configuration's)", "PATH" },
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  "recoveryd's configuration: database, broker, base topic",
		  "FILE" },
		{ "broker", 0, 0, G_OPTION_ARG_STRING, &broker,
		  "ask this broker (plain MQTT, no login) for the daemon's "
		  "state",
		  "HOST:PORT" },
		{ "base", 0, 0, G_OPTION_ARG_STRING, &base,
		  "the base topic (default: the configuration's, or recovery)",
		  "TOPIC" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json,
		  "one JSON object (keys in the README)", NULL },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	struct config *config = NULL;
	struct broker_target target = { 0 };
	struct broker_view view = { 0 };
	struct db_view dbv = { 0 };
	int status = CTL_EXIT_OK;

	if (!ctl_parse_options(&status_command, entries, &argc, &argv))
		return CTL_EXIT_USAGE;
	if (broker && !parse_broker(broker, &target.host, &target.port)) {
		g_autofree char *quoted = quote_text(broker, -1, QUOTE_PLAIN);

		return ctl_usage_error("status", status_usage,
				       "--broker %s is not HOST:PORT (e.g. "
				       "127.0.0.1:1883)",
				       quoted);
	}
	if (base && !mqtt_topic_base_valid(base)) {
		g_autofree char *quoted = quote_text(base, -1, QUOTE_PLAIN);

		return ctl_usage_error("status", status_usage,
				       "--base %s is not a base topic", quoted);
	}
	if (!db && !config_path) {
		if (!g_file_test(DEFAULT_CONFIG, G_FILE_TEST_EXISTS))
			return ctl_usage_error("status", status_usage,
					       "--db PATH or --config FILE is "
					       "needed (no %s)",
					       DEFAULT_CONFIG);
		config_path = g_strdup(DEFAULT_CONFIG);
	}
	if (config_path) {
		config = config_load(config_path, &error);
		if (!config) {
			fprintf(stderr, "recoveryctl status: %s\n",
				error->message);
			g_free(target.host);
			return CTL_EXIT_FAILED;
		}
		if (!db)
			db = g_strdup(config->database);
		if (!target.host) {
			target.host = g_strdup(config->host);
			target.port = config->port  ? config->port
				      : config->tls ? 8883
						    : 1883;
			target.config = config;
		}
	}
	/* A satellite's state is under its own subtree. */
	if (!base && config && config->role == CONFIG_ROLE_SATELLITE)
		target.base = mqtt_topic_satellite_base(config->base_topic,
							config->satellite_name);
	else
		target.base = g_strdup(base	? base
				       : config ? config->base_topic
						: MQTT_TOPIC_DEFAULT_BASE);

	if (!read_database(db, &dbv, &error)) {
		fprintf(stderr, "recoveryctl status: %s: %s\n", db,
			error->message);
		status = CTL_EXIT_FAILED;
		goto out;
	}
	if (config)
		add_configured_devices(&dbv, config);
	if (target.host)
		ask_broker(&target, &view);
	if (json)
		print_json(db, &dbv, &view, &target);
	else
		print_human(db, &dbv, &view, &target);
	if (view.asked && !view.reached) {
		fprintf(stderr, "recoveryctl status: broker %s:%d: %s\n",
			target.host, target.port, view.error);
		status = CTL_EXIT_FAILED;
	}
out:
	db_view_clear(&dbv);
	broker_view_clear(&view);
	g_free(target.host);
	g_free(target.base);
	config_free(config);
	return status;
}
