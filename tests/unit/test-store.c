// SPDX-License-Identifier: MIT
/*
 * The store against real SQLite files in a temporary directory. A second,
 * raw connection plays the part of the outside world: it checks what is
 * really on disk, builds old schemas and damages rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "gateway/core/store.h"
#include "tests/support/test-db.h"
#include "tests/support/test-support.h"

#define T0_MS	  INT64_C(1732600000000) /* 2024-11-26 */
#define DAY_MS	  INT64_C(86400000)
#define DAY0	  20053 /* the day of T0_MS */
#define NO_CHANGE (-1)

struct fixture {
	char *dir;
	char *path;
	int64_t now_ms; /* the injected monotonic clock */
	struct store_options opts;
};

static int64_t fake_now(void *user_data)
{
	return *(const int64_t *)user_data;
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	f->dir = test_tmp_dir_new("test-store-XXXXXX");
	f->path = g_build_filename(f->dir, "recoveryd.db", NULL);
	f->now_ms = 5000000;
	f->opts = (struct store_options){
		.now_ms = fake_now,
		.now_user_data = &f->now_ms,
	};
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_assert_true(test_remove_tree(f->dir));
	g_free(f->path);
	g_free(f->dir);
}

static store *open_store(struct fixture *f)
{
	GError *error = NULL;
	store *s = store_open(f->path, &f->opts, &error);

	g_assert_no_error(error);
	g_assert_nonnull(s);
	return s;
}

static int64_t user_id(store *s, const char *name)
{
	GError *error = NULL;
	int64_t id = 0;

	g_assert_true(store_user_id(s, name, &id, &error));
	g_assert_no_error(error);
	return id;
}

static void flush(store *s)
{
	GError *error = NULL;

	g_assert_true(store_flush(s, &error));
	g_assert_no_error(error);
}

static struct store_stats stats(store *s)
{
	struct store_stats st;

	store_get_stats(s, &st);
	return st;
}

/* --- the raw connection -------------------------------------------------- */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(
	    sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	    ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", sql, msg);
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t value;

	test_db_unpack_for(db, sql);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

static char *raw_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *value;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	value = g_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return value;
}

static int64_t path_int(const char *path, const char *sql)
{
	sqlite3 *db = raw_open(path);
	int64_t value = raw_int(db, sql);

	sqlite3_close(db);
	return value;
}

static int latest_version(void)
{
	int v = 0;

	while (store_migration_sql(v + 1))
		v++;
	return v;
}

/* --- open and migrate ---------------------------------------------------- */

static void assert_mode_0600(const char *path)
{
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
}

/* The mode must depend on the caller's umask neither way. */
static const mode_t umasks[] = { 0, 0022, 0277 };

static void test_open_mode_wal(struct fixture *f, gconstpointer data)
{
	g_autofree char *mode = NULL;
	sqlite3 *db;

	for (size_t i = 0; i < G_N_ELEMENTS(umasks); i++) {
		g_autofree char *name =
		    g_strdup_printf("umask-%03o.db", (unsigned)umasks[i]);
		g_autofree char *path = g_build_filename(f->dir, name, NULL);
		g_autofree char *wal = g_strconcat(path, "-wal", NULL);
		mode_t old_umask = umask(umasks[i]);
		GError *error = NULL;
		store *s = store_open(path, &f->opts, &error);

		umask(old_umask);
		g_assert_no_error(error);
		g_assert_cmpint(store_schema_version(s), ==, latest_version());
		assert_mode_0600(path);
		/* SQLite gives the write-ahead log the database's mode. */
		g_assert_cmpint(user_id(s, "alice"), ==, 1);
		assert_mode_0600(wal);
		store_close(s);
		g_free(f->path);
		f->path = g_steal_pointer(&path);
	}

	db = raw_open(f->path);
	mode = raw_text(db, "PRAGMA journal_mode");
	g_assert_cmpstr(mode, ==, "wal");
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==,
			latest_version());
	sqlite3_close(db);
}

static void test_open_not_a_database(struct fixture *f, gconstpointer data)
{
	static const char junk[] = "this is not an SQLite database, but it "
				   "is longer than a header would be.....";
	GError *error = NULL;
	store *s;

	g_assert_true(g_file_set_contents(f->path, junk, sizeof(junk), NULL));
	s = store_open(f->path, &f->opts, &error);
	g_assert_null(s);
	g_assert_error(error, STORE_ERROR, STORE_ERROR_OPEN);
	g_assert_nonnull(strstr(error->message, f->path));
	g_clear_error(&error);
}

static void test_open_reopen(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	struct store_span span = { 0 };
	store *s = open_store(f);
	int64_t alice = user_id(s, "alice");

	g_assert_true(store_add_rr(s, alice, T0_MS, 812.5, &error));
	g_assert_true(store_add_hr(s, alice, T0_MS, 61, &error));
	g_assert_no_error(error);
	store_close(s); /* commits the open batch */

	s = open_store(f);
	g_assert_cmpint(user_id(s, "alice"), ==, alice);
	g_assert_true(
	    store_load_span(s, alice, T0_MS, T0_MS + 1, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.rr->len, ==, 1);
	g_assert_cmpfloat(g_array_index(span.rr, struct rr_sample, 0).rr_ms, ==,
			  812.5);
	g_assert_cmpuint(span.hr->len, ==, 1);
	g_assert_cmpfloat(g_array_index(span.hr, struct hr_sample, 0).bpm, ==,
			  61);
	store_span_clear(&span);
	store_close(s);
}

/* A database as the first release left it: exactly version 1's SQL. */
static void make_v1(const char *path)
{
	sqlite3 *db = raw_open(path);

	raw_exec(db, "PRAGMA journal_mode = WAL");
	raw_exec(db, store_migration_sql(1));
	raw_exec(db, "PRAGMA user_version = 1");
	raw_exec(db,
		 "INSERT INTO users (id, name) VALUES (1, 'alice');"
		 "INSERT INTO rr VALUES (1, 1732600000000, 900.0);"
		 "INSERT INTO rr VALUES (1, 1732600000900, 910.0);"
		 "INSERT INTO results (user_id, day, score, zone, calibrating,"
		 " advice_state, state_json, computed_ms) VALUES"
		 " (1, 20053, 71, 'green', 0, 'ready', '{\"score\":71}',"
		 " 1732600000000);"
		 "INSERT INTO outbox (topic, payload, qos, retain, created_ms)"
		 " VALUES ('recovery/alice/state', X'7B7D', 1, 1, 5);"
		 "INSERT INTO nights (user_id, day, window_from_bed_sensor,"
		 " out_of_bed_episodes, rmssd_ms, ln_rmssd, hrv_windows, beats,"
		 " dropped_beats) VALUES (1, 20052, 0, 0, 50.0, 3.912, 60,"
		 " 20000, 3), (1, 20053, 0, 0, NULL, NULL, 2, 300, 0);");
	sqlite3_close(db);
}

/*
 * A database at version 6, the last with a row a reading, holding two
 * nights of beats of two people (a strap's RR: whole 1/1024 s, as ms;
 * heart rates, some not whole, as an import brings them), beats before
 * 1970 and on minute edges, and a damaged value: version 7 packs them a
 * minute a row, and every one reads back the same to the last bit.
 */
#define MIGRATE_BEATS 6000

static double migrate_rr(int i)
{
	return (double)(600 + (i * 37) % 700) * 1000.0 / 1024.0;
}

static double migrate_bpm(int i)
{
	return 40.0 + (double)(i % 90) + (i % 3 ? 0.0 : 1.0 / 3.0);
}

static int64_t migrate_t(int i)
{
	/* Some 900 ms apart, so minutes hold 66 or 67; the first few before
	 * 1970 (negative instants), the rest in November 2024. */
	return i < 100 ? -INT64_C(60000) * 3 + i * 901
		       : T0_MS + (int64_t)i * 901;
}

static void test_migrate_beats(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	struct store_span span = { 0 };
	g_autoptr(store) s = NULL;
	sqlite3 *db = raw_open(f->path);
	sqlite3_stmt *rr = NULL, *hr = NULL;

	raw_exec(db, "PRAGMA journal_mode = WAL");
	for (int v = 1; v <= 6; v++)
		raw_exec(db, store_migration_sql(v));
	raw_exec(db, "PRAGMA user_version = 6;"
		     "INSERT INTO users (id, name) VALUES (1, 'alice'), "
		     "(2, 'bob');"
		     "BEGIN");
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "INSERT INTO rr VALUES (?1, ?2, ?3)",
					   -1, &rr, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "INSERT INTO hr VALUES (?1, ?2, ?3)",
					   -1, &hr, NULL),
			==, SQLITE_OK);
	for (int user = 1; user <= 2; user++)
		for (int i = 0; i < MIGRATE_BEATS; i++) {
			sqlite3_bind_int64(rr, 1, user);
			sqlite3_bind_int64(rr, 2, migrate_t(i) + user);
			sqlite3_bind_double(rr, 3, migrate_rr(i + user));
			g_assert_cmpint(sqlite3_step(rr), ==, SQLITE_DONE);
			sqlite3_reset(rr);
			sqlite3_bind_int64(hr, 1, user);
			sqlite3_bind_int64(hr, 2, migrate_t(i) + user);
			sqlite3_bind_double(hr, 3, migrate_bpm(i + user));
			g_assert_cmpint(sqlite3_step(hr), ==, SQLITE_DONE);
			sqlite3_reset(hr);
		}
	sqlite3_finalize(rr);
	sqlite3_finalize(hr);
	/* Minute edges: the last ms of a minute and the first of the
	 * next; and a value no reader took for a beat (text). */
	raw_exec(db, "INSERT INTO rr VALUES (1, 1799999999999, 1000.0), "
		     "(1, 1800000000000, 999.0), (1, 1800000000001, 'x');"
		     "COMMIT");
	sqlite3_close(db);

	s = open_store(f);
	g_assert_cmpint(store_schema_version(s), ==, latest_version());
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM sqlite_master "
					  "WHERE name IN ('rr', 'hr')"),
			==, 0);
	/* A minute a row: some 91 s of beats in 1.5 minutes... */
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM rr_minutes"), <,
			2 * MIGRATE_BEATS / 60);

	for (int user = 1; user <= 2; user++) {
		g_assert_true(store_load_span(s, user, -(INT64_C(1) << 40),
					      INT64_C(1) << 42, &span, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(span.rr->len, ==,
				 MIGRATE_BEATS + (user == 1 ? 2 : 0));
		g_assert_cmpuint(span.hr->len, ==, MIGRATE_BEATS);
		for (int i = 0; i < MIGRATE_BEATS; i++) {
			const struct rr_sample *r =
			    &g_array_index(span.rr, struct rr_sample, i);
			const struct hr_sample *h =
			    &g_array_index(span.hr, struct hr_sample, i);
			double want_rr = migrate_rr(i + user);
			double want_bpm = migrate_bpm(i + user);

			g_assert_cmpint(r->t_ms, ==, migrate_t(i) + user);
			g_assert_true(
			    memcmp(&r->rr_ms, &want_rr, sizeof(double)) == 0);
			g_assert_cmpint(h->t_ms, ==, migrate_t(i) + user);
			g_assert_true(
			    memcmp(&h->bpm, &want_bpm, sizeof(double)) == 0);
		}
		if (user == 1) {
			const struct rr_sample *edge = &g_array_index(
			    span.rr, struct rr_sample, MIGRATE_BEATS);

			g_assert_cmpint(edge[0].t_ms, ==, 1799999999999);
			g_assert_cmpfloat(edge[0].rr_ms, ==, 1000.0);
			g_assert_cmpint(edge[1].t_ms, ==, 1800000000000);
			g_assert_cmpfloat(edge[1].rr_ms, ==, 999.0);
		}
		store_span_clear(&span);
	}
	/* Beats stored after the migration join the packed minutes, and an
	 * instant already stored keeps its first value. */
	g_assert_true(store_add_rr(s, 1, migrate_t(200) + 1, 5.0, &error));
	g_assert_true(store_add_rr(s, 1, migrate_t(200) + 2, 6.0, &error));
	g_assert_no_error(error);
	flush(s);
	g_assert_true(store_load_span(s, 1, migrate_t(200) + 1,
				      migrate_t(200) + 3, &span, &error));
	g_assert_cmpuint(span.rr->len, ==, 2);
	g_assert_cmpfloat(g_array_index(span.rr, struct rr_sample, 0).rr_ms, ==,
			  migrate_rr(201));
	g_assert_cmpfloat(g_array_index(span.rr, struct rr_sample, 1).rr_ms, ==,
			  6.0);
	store_span_clear(&span);
}

/* A batch of beats from more minutes than the grouping's table holds, in
 * reverse order, a repeat among them: all stored once, in order. */
static void test_beats_scattered(struct fixture *f, gconstpointer data)
{
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct store_span span = { 0 };
	GError *error = NULL;
	const int n = 40; /* two a minute, over twenty minutes */

	for (int i = n - 1; i >= 0; i--) {
		g_assert_true(store_add_rr(s, alice, T0_MS + i * 30000,
					   700.0 + i, &error));
		g_assert_true(store_add_hr(s, alice, T0_MS + i * 30000,
					   50.0 + i, &error));
	}
	g_assert_true(store_add_rr(s, alice, T0_MS, 1.0, &error));
	g_assert_no_error(error);
	flush(s);
	g_assert_true(
	    store_load_span(s, alice, T0_MS, T0_MS + n * 30000, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.rr->len, ==, n);
	g_assert_cmpuint(span.hr->len, ==, n);
	for (int i = 0; i < n; i++) {
		g_assert_cmpint(
		    g_array_index(span.rr, struct rr_sample, i).t_ms, ==,
		    T0_MS + i * 30000);
		g_assert_cmpfloat(
		    g_array_index(span.rr, struct rr_sample, i).rr_ms, ==,
		    700.0 + i);
		g_assert_cmpfloat(
		    g_array_index(span.hr, struct hr_sample, i).bpm, ==,
		    50.0 + i);
	}
	store_span_clear(&span);
}

static void test_migrate_from_v1(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	struct store_span span = { 0 };
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GPtrArray) pending = g_ptr_array_new();
	g_autoptr(GArray) nights =
	    g_array_new(FALSE, FALSE, sizeof(struct night_metrics));
	g_autoptr(store) s = NULL;
	const struct night_metrics *n;
	struct store_result *r;
	sqlite3 *db;

	g_assert_cmpint(latest_version(), >=, 3);
	make_v1(f->path);
	s = open_store(f);
	g_assert_cmpint(store_schema_version(s), ==, latest_version());
	g_assert_cmpint(path_int(f->path, "PRAGMA user_version"), ==,
			latest_version());

	g_assert_true(
	    store_load_span(s, 1, T0_MS, T0_MS + 1000, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.rr->len, ==, 2);
	g_assert_cmpfloat(g_array_index(span.rr, struct rr_sample, 1).rr_ms, ==,
			  910);
	store_span_clear(&span);

	/* Version 2's column arrives empty and works. */
	g_assert_true(store_get_results(s, 1, DAY0, DAY0, results, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(results->len, ==, 1);
	r = &g_array_index(results, struct store_result, 0);
	g_assert_cmpint(r->score, ==, 71);
	g_assert_cmpstr(r->zone, ==, "green");
	g_assert_cmpstr(r->state_json, ==, "{\"score\":71}");
	g_assert_cmpint(r->alerted_ms, ==, 0);
	g_assert_cmpstr(r->alerted_state, ==, "");
	g_assert_true(
	    store_mark_alerted(s, 1, DAY0, T0_MS + 5, "primed", &error));
	g_assert_no_error(error);

	g_assert_true(store_outbox_pending(s, 0, 10, pending, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pending->len, ==, 1);

	/* Version 3: every HRV stored before is the night's; no spot. */
	g_assert_true(store_get_nights(s, 1, DAY0 - 1, DAY0, nights, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(nights->len, ==, 2);
	n = &g_array_index(nights, struct night_metrics, 0);
	g_assert_cmpint(n->hrv_source, ==, HRV_SOURCE_NIGHT);
	g_assert_cmpint(n->spot_status, ==, SPOT_NONE);
	g_assert_true(isnan(n->spot_rmssd_ms));
	n = &g_array_index(nights, struct night_metrics, 1);
	g_assert_cmpint(n->hrv_source, ==, HRV_SOURCE_NONE);
	g_assert_cmpint(n->spot_start_ms, ==, 0);

	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT alerted_ms FROM results"), ==,
			T0_MS + 5);
	{
		g_autofree char *state =
		    raw_text(db, "SELECT alerted_state FROM results");

		/* Version 3's column, written by the mark. */
		g_assert_cmpstr(state, ==, "primed");
	}
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_master "
				    "WHERE name = 'outbox_unsent'"),
			==, 1);
	sqlite3_close(db);
}

/* A migration that fails leaves the database at the version before it. */
static void test_migrate_atomic(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	store *s;
	sqlite3 *db;

	make_v1(f->path);
	db = raw_open(f->path);
	/* Version 2 creates an index of this name: make that fail after
	 * its ALTER TABLE went through. */
	raw_exec(db, "CREATE TABLE outbox_unsent (x)");
	sqlite3_close(db);

	s = store_open(f->path, &f->opts, &error);
	g_assert_null(s);
	g_assert_error(error, STORE_ERROR, STORE_ERROR_SCHEMA);
	g_assert_nonnull(strstr(error->message, "version 2"));
	g_clear_error(&error);

	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM "
				    "pragma_table_info('results') "
				    "WHERE name = 'alerted_ms'"),
			==, 0);
	sqlite3_close(db);
}

static void test_migrate_newer_refused(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autofree char *latest = g_strdup_printf("%d", latest_version());
	sqlite3 *db = raw_open(f->path);
	store *s;

	raw_exec(db, "PRAGMA user_version = 999");
	sqlite3_close(db);

	s = store_open(f->path, &f->opts, &error);
	g_assert_null(s);
	g_assert_error(error, STORE_ERROR, STORE_ERROR_SCHEMA);
	g_assert_nonnull(strstr(error->message, "999"));
	g_assert_nonnull(strstr(error->message, latest));
	g_clear_error(&error);
	g_assert_cmpint(path_int(f->path, "PRAGMA user_version"), ==, 999);
}

/* --- ingest -------------------------------------------------------------- */

static void test_ingest_idempotent(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	sqlite3 *db;

	for (int i = 0; i < 2; i++) {
		g_assert_true(store_add_rr(s, alice, T0_MS, 800, &error));
		g_assert_true(store_add_hr(s, alice, T0_MS, 70, &error));
		g_assert_true(store_add_state(s, alice, STORE_STATE_BED, T0_MS,
					      true, &error));
		g_assert_true(store_add_env(s, alice, STORE_ENV_TEMPERATURE_C,
					    T0_MS, 18.5, &error));
		g_assert_true(
		    store_add_checkin(s, alice, T0_MS, 4, 2, 3, &error));
		g_assert_no_error(error);
	}
	/* One scale measurement arriving as weight, then body composition,
	 * then weight again without the others. */
	g_assert_true(store_add_body(s, alice, T0_MS, 72.4, METRIC_NONE,
				     METRIC_NONE, &error));
	g_assert_true(
	    store_add_body(s, alice, T0_MS, METRIC_NONE, 18.1, 480, &error));
	g_assert_true(store_add_body(s, alice, T0_MS, 72.4, METRIC_NONE,
				     METRIC_NONE, &error));
	/* A check-in sent in two parts. */
	g_assert_true(store_add_checkin(s, alice, T0_MS + 1, 5, METRIC_NONE,
					METRIC_NONE, &error));
	g_assert_true(store_add_checkin(s, alice, T0_MS + 1, METRIC_NONE,
					METRIC_NONE, 2, &error));
	g_assert_no_error(error);
	flush(s);

	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM rr"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM hr"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM env"), ==, 2);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM body"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM body WHERE "
				    "weight_kg = 72.4 AND body_fat_pct = 18.1 "
				    "AND impedance_ohm = 480"),
			==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM checkins"), ==, 2);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM checkins WHERE "
				    "mood = 5 AND soreness IS NULL AND "
				    "energy = 2"),
			==, 1);
	sqlite3_close(db);
}

static void test_ingest_invalid(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");

	g_assert_false(store_add_rr(s, alice, T0_MS, METRIC_NONE, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_add_rr(s, alice, T0_MS, -1, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_add_hr(s, alice + 7, T0_MS, 60, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_add_state(s, alice, (enum store_state_kind)9,
				       T0_MS, true, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_add_body(s, alice, T0_MS, METRIC_NONE, METRIC_NONE,
				      METRIC_NONE, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_add_checkin(s, alice, T0_MS, 6, METRIC_NONE,
					 METRIC_NONE, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_user_id(s, "", &alice, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);

	/* The failed foreign key did not break the batch. */
	g_assert_true(store_add_rr(s, alice, T0_MS, 800, &error));
	g_assert_no_error(error);
	flush(s);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM rr"), ==, 1);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM hr"), ==, 0);
}

static void test_users(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	int64_t bob = user_id(s, "bob");
	int64_t alice = user_id(s, "alice");

	g_assert_cmpint(bob, !=, alice);
	g_assert_cmpint(user_id(s, "bob"), ==, bob);
	g_assert_true(store_list_users(s, ids, names, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(ids->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "alice");
	g_assert_cmpint(g_array_index(ids, int64_t, 0), ==, alice);
	g_assert_cmpstr(g_ptr_array_index(names, 1), ==, "bob");
	g_assert_cmpint(g_array_index(ids, int64_t, 1), ==, bob);
}

/* A scale's User Data Service index per person: kept across a reopen,
 * replaced by a new registration, refused out of range. */
static void test_scale_users(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	store *s = open_store(f);
	int64_t bob = user_id(s, "bob");
	int64_t alice = user_id(s, "alice");
	struct store_scale_user u;

	g_assert_true(
	    store_scale_user(s, "AA:BB:CC:DD:EE:07", bob, &u, &error));
	g_assert_no_error(error);
	g_assert_false(u.found);
	g_assert_true(store_put_scale_user(s, "AA:BB:CC:DD:EE:07", bob, 3, 0,
					   1000, &error));
	g_assert_no_error(error);
	g_assert_false(store_put_scale_user(s, "AA:BB:CC:DD:EE:07", alice, 255,
					    0, 1000, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_put_scale_user(s, "AA:BB:CC:DD:EE:07", alice, 1,
					    10000, 1000, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	store_close(s);

	s = open_store(f);
	g_assert_true(
	    store_scale_user(s, "AA:BB:CC:DD:EE:07", bob, &u, &error));
	g_assert_true(u.found);
	g_assert_cmpint(u.user_index, ==, 3);
	g_assert_cmpint(u.consent_code, ==, 0);
	g_assert_true(
	    store_scale_user(s, "AA:BB:CC:DD:EE:07", alice, &u, &error));
	g_assert_false(u.found);
	g_assert_true(
	    store_scale_user(s, "AA:BB:CC:DD:EE:08", bob, &u, &error));
	g_assert_false(u.found);
	g_assert_true(store_put_scale_user(s, "AA:BB:CC:DD:EE:07", bob, 4, 1234,
					   2000, &error));
	g_assert_true(
	    store_scale_user(s, "AA:BB:CC:DD:EE:07", bob, &u, &error));
	g_assert_cmpint(u.user_index, ==, 4);
	g_assert_cmpint(u.consent_code, ==, 1234);
	g_assert_no_error(error);
	store_close(s);
}

static void test_devices(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	struct store_device d = {
		.address = "C4:7C:8D:6A:12:34",
		.kind = "heart-rate",
		.name = "Polar H10",
		.user = user_id(s, "alice"),
		.battery_pct = 80,
		.rssi = -60,
		.last_seen_ms = T0_MS,
	};
	struct store_stats before = stats(s);
	sqlite3 *db;

	g_assert_true(store_put_device(s, &d, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).pending_rows, ==, before.pending_rows + 1);
	/* An advert without a battery level does not forget the last one. */
	d.battery_pct = -1;
	d.rssi = -70;
	d.last_seen_ms = T0_MS + 1000;
	g_assert_true(store_put_device(s, &d, &error));
	g_assert_no_error(error);
	flush(s);

	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM devices"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT battery_pct FROM devices"), ==, 80);
	g_assert_cmpint(raw_int(db, "SELECT rssi FROM devices"), ==, -70);
	g_assert_cmpint(raw_int(db, "SELECT last_seen_ms FROM devices"), ==,
			T0_MS + 1000);
	sqlite3_close(db);
}

/* --- batching ------------------------------------------------------------ */

static void test_batch_rows(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct store_stats before = stats(s);
	sqlite3 *db = raw_open(f->path);

	for (int i = 0; i < 999; i++) {
		g_assert_true(
		    store_add_rr(s, alice, T0_MS + i * 1000, 1000, &error));
		g_assert_no_error(error);
	}
	g_assert_cmpuint(stats(s).commits, ==, before.commits);
	g_assert_cmpuint(stats(s).pending_rows, ==, 999);
	/* Nobody else sees an open batch. */
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM rr"), ==, 0);

	g_assert_true(store_add_rr(s, alice, T0_MS + 999000, 1000, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).commits, ==, before.commits + 1);
	g_assert_cmpuint(stats(s).rows_committed, ==,
			 before.rows_committed + 1000);
	g_assert_cmpuint(stats(s).pending_rows, ==, 0);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM rr"), ==, 1000);
	sqlite3_close(db);
}

static void test_batch_age(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct store_stats before = stats(s);

	g_assert_true(store_tick(s, &error)); /* nothing open: nothing */
	for (int i = 0; i < 10; i++) {
		g_assert_true(
		    store_add_hr(s, alice, T0_MS + i * 1000, 60, &error));
		f->now_ms += 1000;
	}
	g_assert_no_error(error);
	/* The age counts from the batch's first row, not its last. */
	f->now_ms += 19999;
	g_assert_true(store_tick(s, &error));
	g_assert_cmpuint(stats(s).commits, ==, before.commits);
	f->now_ms += 1;
	g_assert_true(store_tick(s, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).commits, ==, before.commits + 1);
	g_assert_cmpuint(stats(s).rows_committed, ==,
			 before.rows_committed + 10);

	/* An add notices the age too, and its row goes with the batch. */
	for (int i = 0; i < 10; i++)
		g_assert_true(
		    store_add_hr(s, alice, T0_MS + 100000 + i, 60, &error));
	f->now_ms += 30000;
	g_assert_true(store_add_hr(s, alice, T0_MS + 200000, 60, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).commits, ==, before.commits + 2);
	g_assert_cmpuint(stats(s).rows_committed, ==,
			 before.rows_committed + 21);
	g_assert_cmpuint(stats(s).pending_rows, ==, 0);
}

static void test_batch_visible(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct store_span span = { 0 };

	/* Out of order on purpose: the span comes back sorted. */
	for (int i = 4; i >= 0; i--)
		g_assert_true(
		    store_add_rr(s, alice, T0_MS + i * 1000, 900 + i, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).pending_rows, ==, 5);
	g_assert_true(
	    store_load_span(s, alice, T0_MS, T0_MS + 5000, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.rr->len, ==, 5);
	for (guint i = 0; i < span.rr->len; i++) {
		struct rr_sample *v =
		    &g_array_index(span.rr, struct rr_sample, i);

		g_assert_cmpint(v->t_ms, ==, T0_MS + i * 1000);
		g_assert_cmpfloat(v->rr_ms, ==, 900 + i);
	}
	store_span_clear(&span);
	/* The read wrote the batch in one commit (no write lock is left
	 * open behind it): another connection sees the rows too. */
	g_assert_cmpuint(stats(s).pending_rows, ==, 0);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM rr"), ==, 5);
}

/*
 * A batch filling in memory holds no write lock: another program (recoveryctl
 * import) writes at once, without waiting, while the daemon's batch is open
 * for its full 30 s, and the batch is written after it all the same.
 */
static void test_batch_lock_free(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct store_device d = {
		.address = "C4:7C:8D:6A:12:34",
		.kind = "heart-rate",
		.name = "Polar H10",
		.user = alice,
		.battery_pct = 80,
		.last_seen_ms = T0_MS,
	};
	sqlite3 *db = raw_open(f->path);
	char *msg = NULL;

	for (int i = 0; i < 50; i++) {
		g_assert_true(
		    store_add_hr(s, alice, T0_MS + i * 1000, 60, &error));
		g_assert_true(
		    store_add_rr(s, alice, T0_MS + i * 1000, 1000, &error));
	}
	g_assert_true(store_put_device(s, &d, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).pending_rows, ==, 101);

	/* No waiting: a lock held by the daemon would fail here at once. */
	sqlite3_busy_timeout(db, 0);
	g_assert_cmpint(
	    sqlite3_exec(db,
			 "BEGIN IMMEDIATE; INSERT INTO users (name) "
			 "VALUES ('imported'); INSERT INTO hr_minutes "
			 /* 1 ms into minute 0: 50.0 bpm (beats.h) */
			 "(user_id, minute, beats) VALUES (1, 0, "
			 "X'01000000000000004940'); "
			 "COMMIT",
			 NULL, NULL, &msg),
	    ==, SQLITE_OK);
	g_assert_null(msg);
	sqlite3_close(db);

	flush(s);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM hr"), ==, 51);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM rr"), ==, 50);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM devices"), ==,
			1);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM users"), ==, 2);
}

/* What must be durable at once takes the open batch with it; marking a
 * message sent and a device's state join the batch instead. */
static void test_batch_durable(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct night_metrics night = night_metrics_empty(DAY0);
	struct store_stats before;
	int64_t id;

	for (int i = 0; i < 5; i++)
		g_assert_true(store_add_rr(s, alice, T0_MS + i, 900, &error));
	before = stats(s);
	g_assert_true(store_put_night(s, alice, &night, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).commits, ==, before.commits + 1);
	g_assert_cmpuint(stats(s).rows_committed, ==,
			 before.rows_committed + 5);
	g_assert_cmpuint(stats(s).pending_rows, ==, 0);

	g_assert_true(
	    store_outbox_add(s, "t", "x", 1, 1, false, T0_MS, &id, &error));
	g_assert_cmpuint(stats(s).commits, ==, before.commits + 2);
	g_assert_true(store_outbox_mark_sent(s, id, T0_MS, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats(s).commits, ==, before.commits + 2);
	g_assert_cmpuint(stats(s).pending_rows, ==, 1);
	g_assert_true(store_user_id(s, "bob", &id, &error));
	g_assert_cmpuint(stats(s).commits, ==, before.commits + 3);
	g_assert_cmpuint(stats(s).pending_rows, ==, 0);
	g_assert_cmpuint(stats(s).rows_committed, ==,
			 before.rows_committed + 6);
}

/* --- spans ---------------------------------------------------------------- */

static void test_span_states(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	int64_t bob = user_id(s, "bob");
	int64_t from = T0_MS, to = T0_MS + 10000;
	struct store_span span = { 0 };
	struct state_sample *st;

	g_assert_true(store_add_state(s, alice, STORE_STATE_BED, from - 3000,
				      false, &error));
	g_assert_true(store_add_state(s, alice, STORE_STATE_BED, from - 2000,
				      true, &error));
	g_assert_true(store_add_state(s, alice, STORE_STATE_MOTION, from - 1000,
				      true, &error));
	g_assert_true(store_add_state(s, bob, STORE_STATE_BED, from - 500,
				      false, &error));
	g_assert_true(store_add_state(s, alice, STORE_STATE_BED, from + 5000,
				      false, &error));
	g_assert_true(
	    store_add_state(s, alice, STORE_STATE_BED, to, true, &error));
	g_assert_true(store_add_state(s, alice, STORE_STATE_MOTION, from + 100,
				      false, &error));
	g_assert_true(store_add_body(s, alice, from + 1, METRIC_NONE, 20,
				     METRIC_NONE, &error));
	g_assert_true(store_add_body(s, alice, from + 2, 70, METRIC_NONE,
				     METRIC_NONE, &error));
	g_assert_true(
	    store_add_checkin(s, alice, from + 3, 3, 3, METRIC_NONE, &error));
	g_assert_no_error(error);

	g_assert_true(store_load_span(s, alice, from, to, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.bed->len, ==, 2);
	st = &g_array_index(span.bed, struct state_sample, 0);
	g_assert_cmpint(st->t_ms, ==, from - 2000);
	g_assert_true(st->on);
	st = &g_array_index(span.bed, struct state_sample, 1);
	g_assert_cmpint(st->t_ms, ==, from + 5000);
	g_assert_false(st->on);
	g_assert_cmpuint(span.motion->len, ==, 1);
	g_assert_cmpint(g_array_index(span.motion, struct state_sample, 0).t_ms,
			==, from + 100);
	/* Only readings with a weight are weights. */
	g_assert_cmpuint(span.weights->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(span.weights, struct weight_sample, 0).weight_kg, ==,
	    70);
	g_assert_true(isnan(
	    g_array_index(span.weights, struct weight_sample, 0).body_fat_pct));
	g_assert_cmpuint(span.checkins->len, ==, 1);
	g_assert_true(isnan(
	    g_array_index(span.checkins, struct checkin_sample, 0).energy));
	store_span_clear(&span);

	/* No earlier state: the bed array starts inside the span. */
	g_assert_true(store_load_span(s, bob, from - 1000, to, &span, &error));
	g_assert_cmpuint(span.bed->len, ==, 1);
	store_span_clear(&span);
	store_span_clear(&span);
	store_span_clear(NULL);
}

/* --- nights and results -------------------------------------------------- */

static void assert_metric(double got, double want)
{
	if (isnan(want))
		g_assert_true(isnan(got));
	else
		g_assert_cmpfloat(got, ==, want);
}

static void assert_night_equal(const struct night_metrics *a,
			       const struct night_metrics *b)
{
	g_assert_cmpint(a->day, ==, b->day);
	g_assert_cmpint(a->window_start_ms, ==, b->window_start_ms);
	g_assert_cmpint(a->window_end_ms, ==, b->window_end_ms);
	g_assert_cmpint(a->sleep_onset_ms, ==, b->sleep_onset_ms);
	g_assert_cmpint(a->wake_ms, ==, b->wake_ms);
	g_assert_cmpint(a->window_from_bed_sensor, ==,
			b->window_from_bed_sensor);
	assert_metric(a->time_in_bed_min, b->time_in_bed_min);
	assert_metric(a->sleep_min, b->sleep_min);
	assert_metric(a->sleep_efficiency_pct, b->sleep_efficiency_pct);
	assert_metric(a->latency_min, b->latency_min);
	g_assert_cmpint(a->out_of_bed_episodes, ==, b->out_of_bed_episodes);
	assert_metric(a->rmssd_ms, b->rmssd_ms);
	assert_metric(a->ln_rmssd, b->ln_rmssd);
	assert_metric(a->sdnn_ms, b->sdnn_ms);
	assert_metric(a->pnn50_pct, b->pnn50_pct);
	g_assert_cmpint(a->hrv_windows, ==, b->hrv_windows);
	g_assert_cmpint(a->beats, ==, b->beats);
	g_assert_cmpint(a->dropped_beats, ==, b->dropped_beats);
	assert_metric(a->resting_hr_bpm, b->resting_hr_bpm);
	assert_metric(a->weight_kg, b->weight_kg);
	assert_metric(a->body_fat_pct, b->body_fat_pct);
	assert_metric(a->mood, b->mood);
	assert_metric(a->soreness, b->soreness);
	assert_metric(a->energy, b->energy);
	assert_metric(a->load_trimp, b->load_trimp);
	g_assert_cmpint(a->hrv_source, ==, b->hrv_source);
	g_assert_cmpint(a->spot_status, ==, b->spot_status);
	g_assert_cmpint(a->spot_start_ms, ==, b->spot_start_ms);
	assert_metric(a->spot_rmssd_ms, b->spot_rmssd_ms);
	assert_metric(a->spot_ln_rmssd, b->spot_ln_rmssd);
	assert_metric(a->spot_hr_bpm, b->spot_hr_bpm);
}

static void test_nights_round_trip(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	g_autoptr(GArray) got =
	    g_array_new(FALSE, FALSE, sizeof(struct night_metrics));
	int64_t alice = user_id(s, "alice");
	struct night_metrics full = night_metrics_empty(DAY0);
	struct night_metrics empty = night_metrics_empty(DAY0 + 1);

	full.window_start_ms = T0_MS - 8 * 3600 * 1000;
	full.window_end_ms = T0_MS;
	full.sleep_onset_ms = full.window_start_ms + 600000;
	full.wake_ms = T0_MS - 60000;
	full.window_from_bed_sensor = true;
	full.time_in_bed_min = 480;
	full.sleep_min = 431.5;
	full.sleep_efficiency_pct = 89.9;
	full.latency_min = 10;
	full.out_of_bed_episodes = 2;
	full.rmssd_ms = 48.25;
	full.ln_rmssd = log(48.25);
	full.sdnn_ms = 61.0;
	full.pnn50_pct = 23.4;
	full.hrv_windows = 80;
	full.beats = 25000;
	full.dropped_beats = 12;
	full.resting_hr_bpm = 52.3;
	full.weight_kg = 71.9;
	full.hrv_source = HRV_SOURCE_NIGHT;
	/* A clean spot check on a night with HRV: kept for its baseline. */
	full.spot_status = SPOT_OK;
	full.spot_start_ms = T0_MS + 600000;
	full.spot_rmssd_ms = 61.5;
	full.spot_ln_rmssd = log(61.5);
	full.spot_hr_bpm = 57.25;
	/* body fat, check-in and load stay absent */

	g_assert_true(store_put_night(s, alice, &full, &error));
	g_assert_true(store_put_night(s, alice, &empty, &error));
	g_assert_no_error(error);
	g_assert_true(
	    store_get_nights(s, alice, DAY0 - 5, DAY0 + 5, got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 2);
	assert_night_equal(&g_array_index(got, struct night_metrics, 0), &full);
	assert_night_equal(&g_array_index(got, struct night_metrics, 1),
			   &empty);

	/* Analysed again: replaced, not added. */
	full.sleep_min = 440;
	full.mood = 4;
	g_assert_true(store_put_night(s, alice, &full, &error));
	g_array_set_size(got, 0);
	g_assert_true(store_get_nights(s, alice, DAY0, DAY0, got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 1);
	assert_night_equal(&g_array_index(got, struct night_metrics, 0), &full);

	/* A day whose HRV is the spot check's, and one with a noisy one. */
	full.day = DAY0 + 2;
	full.hrv_source = HRV_SOURCE_SPOT;
	full.hrv_windows = 2;
	full.rmssd_ms = full.spot_rmssd_ms;
	full.ln_rmssd = full.spot_ln_rmssd;
	g_assert_true(store_put_night(s, alice, &full, &error));
	empty.day = DAY0 + 3;
	empty.spot_status = SPOT_TOO_NOISY;
	empty.spot_start_ms = T0_MS + 3 * DAY_MS;
	g_assert_true(store_put_night(s, alice, &empty, &error));
	g_array_set_size(got, 0);
	g_assert_true(
	    store_get_nights(s, alice, DAY0 + 2, DAY0 + 3, got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 2);
	assert_night_equal(&g_array_index(got, struct night_metrics, 0), &full);
	assert_night_equal(&g_array_index(got, struct night_metrics, 1),
			   &empty);
	{
		sqlite3 *db = raw_open(f->path);
		g_autofree char *source = raw_text(
		    db, "SELECT hrv_source FROM nights WHERE day = 20055");
		g_autofree char *status = raw_text(
		    db, "SELECT spot_status FROM nights WHERE day = 20056");

		/* Names on disk, as in the state message. */
		g_assert_cmpstr(source, ==, "spot");
		g_assert_cmpstr(status, ==, "too-noisy");
		g_assert_cmpint(raw_int(db, "SELECT count(*) FROM nights "
					    "WHERE day = 20056 AND "
					    "hrv_source IS NULL"),
				==, 1);
		sqlite3_close(db);
	}

	full.sleep_efficiency_pct = 101;
	g_assert_false(store_put_night(s, alice, &full, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	full.sleep_efficiency_pct = 90;
	full.hrv_source = (enum hrv_source)7;
	g_assert_false(store_put_night(s, alice, &full, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "hrv_source 7"));
	g_clear_error(&error);
}

static void test_results_round_trip(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	g_autoptr(GArray) got =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	int64_t alice = user_id(s, "alice");
	char json[] = "{\"score\":72,\"zone\":\"green\"}";
	struct store_result scored = {
		.day = DAY0,
		.score = 72,
		.zone = "green",
		.advice_state = "ready",
		.state_json = json,
		.computed_ms = T0_MS,
	};
	struct store_result calibrating = {
		.day = DAY0 + 1,
		.score = -1,
		.zone = "none",
		.calibrating = true,
		.advice_state = "calibrating",
		.computed_ms = T0_MS + DAY_MS,
	};
	struct store_result *r;

	g_assert_true(store_put_result(s, alice, &scored, &error));
	g_assert_true(store_put_result(s, alice, &calibrating, &error));
	g_assert_no_error(error);
	g_assert_true(store_get_results(s, alice, DAY0, DAY0 + 1, got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 2);
	r = &g_array_index(got, struct store_result, 0);
	g_assert_cmpint(r->day, ==, DAY0);
	g_assert_cmpint(r->score, ==, 72);
	g_assert_cmpstr(r->zone, ==, "green");
	g_assert_false(r->calibrating);
	g_assert_cmpstr(r->advice_state, ==, "ready");
	g_assert_cmpstr(r->state_json, ==, scored.state_json);
	g_assert_cmpint(r->computed_ms, ==, T0_MS);
	g_assert_cmpint(r->alerted_ms, ==, 0);
	g_assert_cmpstr(r->alerted_state, ==, "");
	r = &g_array_index(got, struct store_result, 1);
	g_assert_cmpint(r->score, ==, -1);
	g_assert_cmpstr(r->zone, ==, "none");
	g_assert_true(r->calibrating);
	g_assert_null(r->state_json);

	/* The alert mark, and the state it told, survive a recomputed
	 * result. */
	g_assert_true(
	    store_mark_alerted(s, alice, DAY0, T0_MS + 7, "steady", &error));
	scored.score = 74;
	memcpy(scored.advice_state, "stale", sizeof("stale"));
	g_assert_true(store_put_result(s, alice, &scored, &error));
	g_assert_no_error(error);
	g_array_set_size(got, 0);
	g_assert_true(store_get_results(s, alice, DAY0, DAY0, got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 1);
	r = &g_array_index(got, struct store_result, 0);
	g_assert_cmpint(r->score, ==, 74);
	g_assert_cmpstr(r->advice_state, ==, "stale");
	g_assert_cmpint(r->alerted_ms, ==, T0_MS + 7);
	g_assert_cmpstr(r->alerted_state, ==, "steady");

	/* An update alert replaces the state told; a morning announced
	 * without an alert records none. */
	g_assert_true(
	    store_mark_alerted(s, alice, DAY0, T0_MS + 9, "stale", &error));
	g_array_set_size(got, 0);
	g_assert_true(store_get_results(s, alice, DAY0, DAY0, got, &error));
	r = &g_array_index(got, struct store_result, 0);
	g_assert_cmpint(r->alerted_ms, ==, T0_MS + 9);
	g_assert_cmpstr(r->alerted_state, ==, "stale");
	g_assert_true(
	    store_mark_alerted(s, alice, DAY0 + 1, T0_MS + 9, NULL, &error));
	g_array_set_size(got, 0);
	g_assert_true(
	    store_get_results(s, alice, DAY0 + 1, DAY0 + 1, got, &error));
	g_assert_no_error(error);
	r = &g_array_index(got, struct store_result, 0);
	g_assert_cmpint(r->alerted_ms, ==, T0_MS + 9);
	g_assert_cmpstr(r->alerted_state, ==, "");

	g_assert_false(
	    store_mark_alerted(s, alice, DAY0 + 9, T0_MS, "primed", &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	/* A state name that does not fit is refused, nothing written. */
	g_assert_false(store_mark_alerted(s, alice, DAY0, T0_MS + 11,
					  "a-state-name-far-too-long-to-fit",
					  &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	memcpy(scored.zone, "greenish", sizeof(scored.zone)); /* no NUL */
	g_assert_false(store_put_result(s, alice, &scored, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
}

/* --- outbox -------------------------------------------------------------- */

static int64_t outbox_add(store *s, const char *topic, const void *payload,
			  size_t len)
{
	GError *error = NULL;
	int64_t id = 0;

	g_assert_true(store_outbox_add(s, topic, payload, len, 1, true, T0_MS,
				       &id, &error));
	g_assert_no_error(error);
	return id;
}

static void assert_pending(store *s, int64_t after_id, unsigned limit,
			   const int64_t *ids, guint n)
{
	GError *error = NULL;
	g_autoptr(GPtrArray) rows = g_ptr_array_new();

	g_assert_true(store_outbox_pending(s, after_id, limit, rows, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, n);
	for (guint i = 0; i < n; i++) {
		struct store_outbox_row *row = g_ptr_array_index(rows, i);

		g_assert_cmpint(row->id, ==, ids[i]);
	}
}

static void test_outbox(struct fixture *f, gconstpointer data)
{
	static const uint8_t binary[] = { 0x7b, 0x00, 0x7d };
	GError *error = NULL;
	g_autoptr(GPtrArray) rows = g_ptr_array_new();
	store *s = open_store(f);
	int64_t a = outbox_add(s, "recovery/alice/state", "{}", 2);
	int64_t b =
	    outbox_add(s, "recovery/alice/alert", binary, sizeof(binary));
	int64_t c = outbox_add(s, "recovery/status", NULL, 0);
	int64_t d;
	uint64_t backlog = 99, commits;
	struct store_outbox_row *row;

	g_assert_cmpint(a, <, b);
	g_assert_cmpint(b, <, c);
	g_assert_true(store_outbox_pending(s, 0, 10, rows, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 3);
	row = g_ptr_array_index(rows, 1);
	g_assert_cmpint(row->id, ==, b);
	g_assert_cmpstr(row->topic, ==, "recovery/alice/alert");
	g_assert_cmpuint(g_bytes_get_size(row->payload), ==, sizeof(binary));
	g_assert_cmpint(memcmp(g_bytes_get_data(row->payload, NULL), binary,
			       sizeof(binary)),
			==, 0);
	g_assert_cmpint(row->qos, ==, 1);
	g_assert_true(row->retain);
	g_assert_cmpint(row->created_ms, ==, T0_MS);
	row = g_ptr_array_index(rows, 2);
	g_assert_cmpuint(g_bytes_get_size(row->payload), ==, 0);

	g_assert_true(store_outbox_backlog(s, &backlog, &error));
	g_assert_cmpuint(backlog, ==, 3);
	g_assert_true(store_outbox_mark_sent(s, b, T0_MS + 10, &error));
	g_assert_no_error(error);
	/* The mark joins the batch, and the count sees it without writing
	 * the batch (the gateway's state asks often). */
	commits = stats(s).commits;
	g_assert_true(store_outbox_backlog(s, &backlog, &error));
	g_assert_cmpuint(backlog, ==, 2);
	g_assert_cmpuint(stats(s).commits, ==, commits);
	g_assert_cmpuint(stats(s).pending_rows, ==, 1);
	assert_pending(s, 0, 10, (const int64_t[]){ a, c }, 2);
	assert_pending(s, a, 1, (const int64_t[]){ c }, 1);
	assert_pending(s, 0, 1, (const int64_t[]){ a }, 1);
	g_assert_false(store_outbox_mark_sent(s, c + 100, T0_MS, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);

	/* Only sent rows older than the cut go. */
	g_assert_true(store_outbox_prune(s, T0_MS + 10, &error));
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM outbox"), ==,
			3);
	g_assert_true(store_outbox_prune(s, T0_MS + 11, &error));
	g_assert_no_error(error);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM outbox"), ==,
			2);

	/* Ids keep growing after a restart, even once every row is gone. */
	g_assert_true(store_outbox_mark_sent(s, a, T0_MS, &error));
	g_assert_true(store_outbox_mark_sent(s, c, T0_MS, &error));
	g_assert_true(store_outbox_prune(s, T0_MS + 1, &error));
	g_assert_no_error(error);
	store_close(s);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM outbox"), ==,
			0);
	s = open_store(f);
	d = outbox_add(s, "recovery/status", "online", 6);
	g_assert_cmpint(d, >, c);
	assert_pending(s, 0, 10, (const int64_t[]){ d }, 1);
	store_close(s);
}

/* --- retention ----------------------------------------------------------- */

static void test_prune_retention(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	int64_t now = T0_MS;
	int64_t old = now - 91 * DAY_MS, recent = now - 89 * DAY_MS;
	struct night_metrics night = night_metrics_empty(DAY0 - 91);
	sqlite3 *db;

	g_assert_true(store_add_rr(s, alice, old, 900, &error));
	g_assert_true(store_add_rr(s, alice, recent, 900, &error));
	g_assert_true(store_add_hr(s, alice, old, 60, &error));
	g_assert_true(store_add_hr(s, alice, recent, 60, &error));
	g_assert_true(store_add_body(s, alice, old, 70, METRIC_NONE,
				     METRIC_NONE, &error));
	g_assert_true(store_add_checkin(s, alice, old, 3, 3, 3, &error));
	g_assert_true(
	    store_add_state(s, alice, STORE_STATE_BED, old, true, &error));
	g_assert_true(store_put_night(s, alice, &night, &error));
	g_assert_true(store_prune(s, now, &error));
	g_assert_no_error(error);

	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM rr"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT t_ms FROM rr"), ==, recent);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM hr"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM body"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM checkins"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM nights"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM env"), ==, 1);
	sqlite3_close(db);
}

/* --- damaged rows -------------------------------------------------------- */

enum reader {
	READ_SPAN,
	READ_NIGHTS,
	READ_RESULTS,
	READ_OUTBOX,
	READ_USERS,
};

struct corrupt_case {
	const char *name;
	const char *sql; /* run on a database holding one row of each */
	enum reader reader;
	const char *expect[3]; /* substrings of the message */
};

static const struct corrupt_case corrupt_cases[] = {
	/* The one beat, 1732600000000 ms, is 40,000 ms (0x9c40) into minute
	 * 28876666 (gateway/core/beats.h's format). */
	{ "/store/corrupt/rr-text",
	  "UPDATE rr_minutes SET beats = 'x'",
	  READ_SPAN,
	  { "table rr_minutes, column beats", "minute=28876666", "text" } },
	{ "/store/corrupt/rr-negative",
	  "UPDATE rr_minutes SET beats = X'409c00000000000014c0'",
	  READ_SPAN,
	  { "table rr_minutes, column beats", "user_id=1", "-5 is outside" } },
	{ "/store/corrupt/rr-offset",
	  "UPDATE rr_minutes SET beats = X'60ea0000000000208c40'",
	  READ_SPAN,
	  { "table rr_minutes, column beats", "minute=28876666",
	    "entry 0 of 1 is not a beat" } },
	{ "/store/corrupt/hr-short",
	  "UPDATE hr_minutes SET beats = X'00'",
	  READ_SPAN,
	  { "table hr_minutes, column beats", "minute=28876666",
	    "1 bytes are not a whole number" } },
	{ "/store/corrupt/bed-half",
	  "UPDATE env SET value = 0.5",
	  READ_SPAN,
	  { "table env, column value", "kind=bed", "neither on" } },
	{ "/store/corrupt/weight-infinite",
	  "UPDATE body SET weight_kg = 9e999",
	  READ_SPAN,
	  { "table body, column weight_kg", "inf" } },
	{ "/store/corrupt/checkin-mood",
	  "UPDATE checkins SET mood = 9",
	  READ_SPAN,
	  { "table checkins, column mood", "9 is outside" } },
	{ "/store/corrupt/night-efficiency",
	  "UPDATE nights SET sleep_efficiency_pct = 250",
	  READ_NIGHTS,
	  { "table nights, column sleep_efficiency_pct", "day=20053", "250" } },
	{ "/store/corrupt/night-beats-text",
	  "UPDATE nights SET beats = 'many'",
	  READ_NIGHTS,
	  { "table nights, column beats", "text" } },
	{ "/store/corrupt/night-window-negative",
	  "UPDATE nights SET wake_ms = -1",
	  READ_NIGHTS,
	  { "column wake_ms", "-1 is outside" } },
	{ "/store/corrupt/night-source-unknown",
	  "UPDATE nights SET hrv_source = 'dream'",
	  READ_NIGHTS,
	  { "table nights, column hrv_source", "day=20053",
	    "'dream' is not a name" } },
	{ "/store/corrupt/night-spot-status-blob",
	  "UPDATE nights SET spot_status = X'6F6B'",
	  READ_NIGHTS,
	  { "table nights, column spot_status", "a blob, not text" } },
	{ "/store/corrupt/result-zone-long",
	  "UPDATE results SET zone = 'ultraviolet'",
	  READ_RESULTS,
	  { "table results, column zone", "day=20053", "at most 7" } },
	{ "/store/corrupt/result-score",
	  "UPDATE results SET score = 101",
	  READ_RESULTS,
	  { "column score", "101 is outside" } },
	{ "/store/corrupt/result-state-nul",
	  "UPDATE results SET state_json = CAST(X'7B007D' AS TEXT)",
	  READ_RESULTS,
	  { "column state_json", "NUL" } },
	{ "/store/corrupt/outbox-qos",
	  "UPDATE outbox SET qos = 7",
	  READ_OUTBOX,
	  { "table outbox, column qos", "id=1", "7 is outside" } },
	{ "/store/corrupt/outbox-payload-text",
	  "UPDATE outbox SET payload = 'text'",
	  READ_OUTBOX,
	  { "column payload", "text, not a blob" } },
	{ "/store/corrupt/user-name-blob",
	  "UPDATE users SET name = X'00'",
	  READ_USERS,
	  { "table users, column name", "id=1", "blob" } },
};

static void test_corrupt(struct fixture *f, gconstpointer data)
{
	const struct corrupt_case *c = data;
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct night_metrics night = night_metrics_empty(DAY0);
	char json[] = "{}";
	struct store_result result = { .day = DAY0,
				       .score = 50,
				       .zone = "yellow",
				       .advice_state = "steady",
				       .state_json = json,
				       .computed_ms = T0_MS };
	g_autoptr(GArray) nights =
	    g_array_new(FALSE, FALSE, sizeof(struct night_metrics));
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GPtrArray) rows = g_ptr_array_new();
	g_autoptr(GArray) damage =
	    g_array_new(FALSE, FALSE, sizeof(struct store_damage));
	const struct store_damage *d;
	struct store_span span = { 0 };
	gboolean ok = FALSE;
	sqlite3 *db;

	night.wake_ms = T0_MS;
	night.beats = 100;
	night.sleep_efficiency_pct = 90;
	g_assert_true(store_add_rr(s, alice, T0_MS, 900, &error));
	g_assert_true(store_add_hr(s, alice, T0_MS, 60, &error));
	g_assert_true(
	    store_add_state(s, alice, STORE_STATE_BED, T0_MS, true, &error));
	g_assert_true(
	    store_add_body(s, alice, T0_MS, 70, 20, METRIC_NONE, &error));
	g_assert_true(store_add_checkin(s, alice, T0_MS, 3, 3, 3, &error));
	g_assert_true(store_put_night(s, alice, &night, &error));
	g_assert_true(store_put_result(s, alice, &result, &error));
	outbox_add(s, "recovery/alice/state", "{}", 2);
	g_assert_no_error(error);

	db = raw_open(f->path);
	raw_exec(db, c->sql);
	g_assert_cmpint(sqlite3_changes(db), ==, 1);
	sqlite3_close(db);

	/*
	 * The reader goes on without the damaged row (every table holds one
	 * row here, the span one of each kind) and records it: a damaged row
	 * no longer stops whoever reads (the daemon refused to start on a
	 * text in a night).
	 */
	switch (c->reader) {
	case READ_SPAN:
		ok = store_load_span(s, alice, T0_MS, T0_MS + 1, &span, &error);
		g_assert_cmpuint(span.rr->len + span.hr->len + span.bed->len +
				     span.weights->len + span.checkins->len,
				 ==, 4);
		store_span_clear(&span);
		break;
	case READ_NIGHTS:
		ok = store_get_nights(s, alice, DAY0, DAY0, nights, &error);
		g_assert_cmpuint(nights->len, ==, 0);
		break;
	case READ_RESULTS:
		ok = store_get_results(s, alice, DAY0, DAY0, results, &error);
		g_assert_cmpuint(results->len, ==, 0);
		break;
	case READ_OUTBOX:
		ok = store_outbox_pending(s, 0, 10, rows, &error);
		g_assert_cmpuint(rows->len, ==, 0);
		break;
	case READ_USERS:
		ok = store_list_users(s, ids, names, &error);
		g_assert_cmpuint(ids->len, ==, 0);
		break;
	}
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpuint(store_take_damage(s, damage), ==, 0);
	g_assert_cmpuint(damage->len, ==, 1);
	d = &g_array_index(damage, struct store_damage, 0);
	g_test_message("%s", d->message);
	for (size_t i = 0; i < G_N_ELEMENTS(c->expect) && c->expect[i]; i++) {
		if (!strstr(d->message, c->expect[i]))
			g_error("\"%s\" lacks \"%s\"", d->message,
				c->expect[i]);
	}
	/* Nights and results are computed again from the readings: the
	 * owner is told whose and which day. */
	g_assert_cmpint(d->derived, ==,
			c->reader == READ_NIGHTS || c->reader == READ_RESULTS);
	if (d->derived) {
		g_assert_cmpint(d->user, ==, alice);
		g_assert_cmpint(d->day, ==, DAY0);
	}
	/* Taken once. */
	g_array_set_size(damage, 0);
	g_assert_cmpuint(store_take_damage(s, damage), ==, 0);
	g_assert_cmpuint(damage->len, ==, 0);
}

/* --- storage failures ------------------------------------------------------
 */

/* What the owner heard through health_changed, and when. */
struct health_log {
	store *s;
	GArray *events; /* struct store_health, at each call */
};

static void on_health(void *data)
{
	struct health_log *log = data;
	struct store_health h;

	store_get_health(log->s, &h);
	g_array_append_val(log->events, h);
}

static store *open_failing_store(struct fixture *f, struct health_log *log,
				 unsigned hold_max_rows)
{
	f->opts.batch_rows = 5;
	f->opts.busy_timeout_ms = 20;
	f->opts.hold_max_rows = hold_max_rows;
	f->opts.health_changed = on_health;
	f->opts.health_data = log;
	log->events = g_array_new(FALSE, FALSE, sizeof(struct store_health));
	log->s = open_store(f);
	return log->s;
}

static struct store_health health(store *s)
{
	struct store_health h;

	store_get_health(s, &h);
	return h;
}

/* Another program holds the write lock: writes fail after the busy
 * timeout, as they do on a full or read-only disk. */
static sqlite3 *lock_database(const char *path)
{
	sqlite3 *db = raw_open(path);

	raw_exec(db, "BEGIN IMMEDIATE");
	return db;
}

static void unlock_database(sqlite3 *db)
{
	raw_exec(db, "COMMIT");
	sqlite3_close(db);
}

/*
 * The whole life of a failure: the first failed commit holds its batch and
 * says so once; later readings are held without touching the disk; nights
 * are refused; retries back off 1, 2, 4 ... 60 s; once the lock is gone the
 * next retry writes everything, and the owner hears once more.
 */
static void test_fail_retry(struct fixture *f, gconstpointer data)
{
	struct health_log log;
	g_autoptr(store) s = open_failing_store(f, &log, 0);
	int64_t alice = user_id(s, "alice");
	struct night_metrics night = night_metrics_empty(DAY0);
	int64_t expect_backoff = STORE_RETRY_FIRST_MS;
	GError *error = NULL;
	sqlite3 *lock;
	struct store_health h;
	int i;

	lock = lock_database(f->path);
	/* Four rows join the batch; the fifth fills it and the commit (here:
	 * the BEGIN of the first) fails. */
	for (i = 0; i < 5; i++)
		g_assert_true(
		    store_add_hr(s, alice, T0_MS + i * 1000, 60 + i, &error));
	g_assert_no_error(error);
	h = health(s);
	g_assert_true(h.failing);
	g_assert_cmpstr(h.cause, ==, "locked by another program");
	g_assert_nonnull(strstr(h.detail, "locked"));
	g_assert_cmpuint(h.held_rows, ==, 5);
	g_assert_cmpint(h.failing_since_ms, ==, f->now_ms);
	g_assert_cmpint(h.next_retry_ms, ==, f->now_ms + STORE_RETRY_FIRST_MS);
	g_assert_cmpuint(log.events->len, ==, 1);
	g_assert_true(
	    g_array_index(log.events, struct store_health, 0).failing);

	/* Held without a write: far more than a batch, no error. */
	for (; i < 40; i++)
		g_assert_true(
		    store_add_hr(s, alice, T0_MS + i * 1000, 60, &error));
	g_assert_cmpuint(health(s).held_rows, ==, 40);
	/* What is not held is refused at once, saying why. */
	g_assert_false(store_put_night(s, alice, &night, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message, "locked by another program"));
	g_assert_nonnull(strstr(error->message, "40 readings held"));
	g_clear_error(&error);

	/* Not before the backoff; then 1, 2, 4 ... 60, 60 s apart. */
	f->now_ms += STORE_RETRY_FIRST_MS - 1;
	g_assert_true(store_tick(s, &error));
	g_assert_cmpuint(health(s).attempts, ==, 0);
	for (int attempt = 1; attempt <= 9; attempt++) {
		f->now_ms = health(s).next_retry_ms;
		g_assert_true(store_tick(s, &error));
		g_assert_no_error(error);
		h = health(s);
		g_assert_true(h.failing);
		g_assert_cmpuint(h.attempts, ==, attempt);
		expect_backoff = MIN(expect_backoff * 2, STORE_RETRY_MAX_MS);
		g_assert_cmpint(h.next_retry_ms - f->now_ms, ==,
				expect_backoff);
	}
	g_assert_cmpint(expect_backoff, ==, STORE_RETRY_MAX_MS);
	g_assert_cmpuint(log.events->len, ==, 1);
	g_assert_cmpuint(h.held_rows, ==, 40);

	/* The lock goes: the next retry writes all forty, once. */
	unlock_database(lock);
	f->now_ms = h.next_retry_ms;
	g_assert_true(store_tick(s, &error));
	h = health(s);
	g_assert_false(h.failing);
	g_assert_null(h.cause);
	g_assert_cmpuint(h.held_rows, ==, 0);
	g_assert_cmpuint(h.outages, ==, 1);
	g_assert_cmpuint(h.last_outage.written_rows, ==, 40);
	g_assert_cmpuint(h.last_outage.dropped_rows, ==, 0);
	g_assert_cmpint(h.last_outage.duration_ms, ==,
			f->now_ms -
			    g_array_index(log.events, struct store_health, 0)
				.failing_since_ms);
	g_assert_cmpuint(log.events->len, ==, 2);
	g_assert_false(
	    g_array_index(log.events, struct store_health, 1).failing);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM hr"), ==, 40);
	g_assert_cmpint(path_int(f->path, "SELECT sum(bpm) FROM hr"), ==,
			60 * 40 + 0 + 1 + 2 + 3 + 4);

	/* And the store works as before. */
	g_assert_true(store_put_night(s, alice, &night, &error));
	g_assert_no_error(error);
	g_array_free(log.events, TRUE);
}

/* The bound: beyond hold_max_rows the oldest go, counted; the newest are
 * written when the disk is back. store_flush tries at once and says what
 * is still held. */
static void test_fail_bound(struct fixture *f, gconstpointer data)
{
	struct health_log log;
	g_autoptr(store) s = open_failing_store(f, &log, 100);
	int64_t alice = user_id(s, "alice");
	GError *error = NULL;
	sqlite3 *lock = lock_database(f->path);
	struct store_health h;

	for (int i = 0; i < 250; i++)
		g_assert_true(store_add_rr(s, alice, T0_MS + i, 900, &error));
	h = health(s);
	g_assert_cmpuint(h.held_rows, ==, 100);
	g_assert_cmpuint(h.dropped_rows, ==, 150);

	g_assert_false(store_flush(s, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message,
				"100 readings held in memory are not written: "
				"locked by another program"));
	g_clear_error(&error);

	unlock_database(lock);
	flush(s);
	h = health(s);
	g_assert_cmpuint(h.last_outage.written_rows, ==, 100);
	g_assert_cmpuint(h.last_outage.dropped_rows, ==, 150);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM rr"), ==, 100);
	g_assert_cmpint(path_int(f->path, "SELECT min(t_ms) FROM rr"), ==,
			T0_MS + 150);
	g_assert_cmpint(path_int(f->path, "SELECT max(t_ms) FROM rr"), ==,
			T0_MS + 249);
	g_array_free(log.events, TRUE);
}

/* Every raw kind held and written back as it was: values, absent fields,
 * a sent mark. */
static void test_fail_kinds(struct fixture *f, gconstpointer data)
{
	struct health_log log;
	g_autoptr(store) s = open_failing_store(f, &log, 0);
	int64_t alice = user_id(s, "alice");
	int64_t id = outbox_add(s, "recovery/alice/state", "{}", 2);
	GError *error = NULL;
	sqlite3 *lock = lock_database(f->path);

	g_assert_true(store_add_rr(s, alice, T0_MS, 812.5, &error));
	g_assert_true(store_add_hr(s, alice, T0_MS, 61.5, &error));
	g_assert_true(
	    store_add_state(s, alice, STORE_STATE_BED, T0_MS, true, &error));
	g_assert_true(store_add_env(s, alice, STORE_ENV_HUMIDITY_PCT, T0_MS,
				    45.5, &error));
	g_assert_true(
	    store_add_body(s, alice, T0_MS, 72.35, 18.1, METRIC_NONE, &error));
	g_assert_true(
	    store_add_checkin(s, alice, T0_MS, 4, METRIC_NONE, 2, &error));
	g_assert_true(store_outbox_mark_sent(s, id, T0_MS + 5, &error));
	g_assert_no_error(error);
	g_assert_true(health(s).failing);
	g_assert_cmpuint(health(s).held_rows, ==, 7);
	unlock_database(lock);
	flush(s);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM rr WHERE "
					  "rr_ms = 812.5"),
			==, 1);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM hr WHERE "
					  "bpm = 61.5"),
			==, 1);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM env WHERE "
					  "kind = 'bed' AND value = 1"),
			==, 1);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM env WHERE "
					  "kind = 'humidity_pct' AND value = "
					  "45.5"),
			==, 1);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM body WHERE "
					  "weight_kg = 72.35 AND body_fat_pct "
					  "= 18.1 AND impedance_ohm IS NULL"),
			==, 1);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM checkins "
					  "WHERE mood = 4 AND soreness IS "
					  "NULL AND energy = 2"),
			==, 1);
	g_assert_cmpint(path_int(f->path, "SELECT sent_ms FROM outbox"), ==,
			T0_MS + 5);
	g_array_free(log.events, TRUE);
}

/* An unknown user is the row's fault, not the disk's: refused, the rest
 * of the batch goes on, nothing held. */
static void test_fail_not_storage(struct fixture *f, gconstpointer data)
{
	struct health_log log;
	g_autoptr(store) s = open_failing_store(f, &log, 0);
	int64_t alice = user_id(s, "alice");
	GError *error = NULL;

	g_assert_true(store_add_hr(s, alice, T0_MS, 60, &error));
	g_assert_false(store_add_hr(s, alice + 7, T0_MS, 60, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_true(store_add_hr(s, alice, T0_MS + 1, 60, &error));
	flush(s);
	g_assert_false(health(s).failing);
	g_assert_cmpuint(log.events->len, ==, 0);
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM hr"), ==, 2);
	g_array_free(log.events, TRUE);
}

/*
 * The disk itself: a small tmpfs in this test's own mount namespace (main
 * makes one when it can) that fills up, and one remounted read-only.
 */
static bool have_mount_namespace;

static char *mount_tmpfs(const char *dir, const char *size)
{
	g_autofree char *options = g_strdup_printf("size=%s,mode=0700", size);
	char *mnt = g_build_filename(dir, "mnt", NULL);

	g_assert_cmpint(g_mkdir(mnt, 0700), ==, 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, options) != 0)
		g_error("mounting a tmpfs on %s: %s", mnt, g_strerror(errno));
	return mnt;
}

static void unmount(const char *mnt)
{
	g_assert_cmpint(umount2(mnt, MNT_DETACH), ==, 0);
}

/* Fills the file system of @dir but for a few KiB; returns the filler. */
static char *fill_disk(const char *dir)
{
	char *filler = g_build_filename(dir, "filler", NULL);
	static const char block[4096];
	int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	g_assert_cmpint(fd, >=, 0);
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	g_assert_cmpint(errno, ==, ENOSPC);
	close(fd);
	return filler;
}

static void test_fail_disk_full(struct fixture *f, gconstpointer data)
{
	struct health_log log;
	g_autofree char *mnt = NULL;
	g_autofree char *filler = NULL;
	store *s;
	int64_t alice;
	GError *error = NULL;
	struct store_health h;
	int i;

	if (!have_mount_namespace) {
		g_test_skip("needs root for a private mount namespace (to "
			    "mount a tmpfs that fills up)");
		return;
	}
	mnt = mount_tmpfs(f->dir, "2m");
	g_free(f->path);
	f->path = g_build_filename(mnt, "recoveryd.db", NULL);
	s = open_failing_store(f, &log, 0);
	f->opts.batch_rows = 200;
	alice = user_id(s, "alice");
	/* A checkpoint now, so that the WAL starts empty and must grow. */
	flush(s);
	filler = fill_disk(mnt);
	for (i = 0; i < 5000 && !health(s).failing; i++)
		g_assert_true(store_add_rr(s, alice, T0_MS + i, 900, &error));
	g_assert_no_error(error);
	h = health(s);
	g_assert_true(h.failing);
	g_test_message("full: %s (%s), %u held after %d rows", h.cause,
		       h.detail, h.held_rows, i);
	g_assert_cmpstr(h.cause, ==, "disk full");
	for (int k = 0; k < 100; k++, i++)
		g_assert_true(store_add_rr(s, alice, T0_MS + i, 900, &error));
	g_assert_cmpuint(health(s).held_rows, >=, 100);

	g_assert_cmpint(g_unlink(filler), ==, 0);
	f->now_ms = health(s).next_retry_ms;
	g_assert_true(store_tick(s, &error));
	h = health(s);
	g_assert_false(h.failing);
	g_assert_cmpuint(h.last_outage.dropped_rows, ==, 0);
	store_close(s);
	/* Every row, once. */
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM rr"), ==, i);
	g_array_free(log.events, TRUE);
	unmount(mnt);
}

/*
 * A file system gone read-only, found at start-up (a read-only remount
 * needs no file open for writing: with the store open it is refused as
 * busy, so the running case is the full disk and the lock above): the
 * store opens and reads, store_check_writable says why it cannot write.
 */
static void test_fail_read_only(struct fixture *f, gconstpointer data)
{
	g_autofree char *mnt = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	store *s;
	GError *error = NULL;

	if (!have_mount_namespace) {
		g_test_skip("needs root for a private mount namespace (to "
			    "remount a file system read-only)");
		return;
	}
	mnt = mount_tmpfs(f->dir, "8m");
	g_free(f->path);
	f->path = g_build_filename(mnt, "recoveryd.db", NULL);
	s = open_store(f);
	user_id(s, "alice");
	g_assert_true(store_check_writable(s, &error));
	g_assert_no_error(error);
	store_close(s);

	g_assert_cmpint(mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL),
			==, 0);
	s = store_open(f->path, &f->opts, &error);
	if (s) {
		g_assert_true(store_list_users(s, ids, names, &error));
		g_assert_cmpuint(ids->len, ==, 1);
		g_assert_false(store_check_writable(s, &error));
		store_close(s);
	}
	g_assert_nonnull(error);
	g_test_message("%s", error->message);
	g_assert_true(strstr(error->message, "read-only") ||
		      strstr(error->message, "readonly"));
	g_clear_error(&error);
	g_assert_cmpint(mount(NULL, mnt, NULL, MS_REMOUNT, NULL), ==, 0);
	unmount(mnt);
}

/* A database that is not ours stops the opener with a message that says
 * so; one that is ours but damaged in a row does not. */
static void test_open_foreign_tables(struct fixture *f, gconstpointer data)
{
	sqlite3 *db = raw_open(f->path);
	GError *error = NULL;
	store *s;

	raw_exec(db, "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)");
	sqlite3_close(db);
	s = store_open(f->path, &f->opts, &error);
	g_assert_null(s);
	g_assert_error(error, STORE_ERROR, STORE_ERROR_SCHEMA);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message,
				"holds tables that are not recoveryd's "
				"('photos'"));
	g_clear_error(&error);
	/* Not touched. */
	g_assert_cmpint(path_int(f->path, "SELECT count(*) FROM sqlite_master"),
			==, 1);
}

static void test_open_wrong_schema(struct fixture *f, gconstpointer data)
{
	sqlite3 *db = raw_open(f->path);
	g_autofree char *sql = g_strdup_printf(
	    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); "
	    "PRAGMA user_version = %d",
	    latest_version());
	GError *error = NULL;
	store *s;

	raw_exec(db, sql);
	sqlite3_close(db);
	s = store_open(f->path, &f->opts, &error);
	g_assert_null(s);
	g_assert_error(error, STORE_ERROR, STORE_ERROR_SCHEMA);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, "the tables are not "
						"recoveryd's schema version"));
	g_assert_nonnull(strstr(error->message, "(no table devices)"));
	g_clear_error(&error);
}

/* --- readings held while the clock is not trusted ----------------------- */

#define BOOT_A "0f2b3c4d-1111-4222-8333-444455556666"
#define BOOT_B "9a8b7c6d-aaaa-4bbb-8ccc-ddddeeeeffff"

static void hold(store *s, const char *boot, int64_t mono_ms, int64_t user,
		 enum store_reading_kind kind, int sub, double v0, double v1,
		 double v2)
{
	GError *error = NULL;
	struct store_reading r = {
		.user = user, .kind = kind, .sub = sub, .v = { v0, v1, v2 }
	};

	g_assert_true(store_hold_reading(s, boot, mono_ms, &r, &error));
	g_assert_no_error(error);
}

static uint64_t held_count(store *s, const char *boot)
{
	GError *error = NULL;
	uint64_t n = 0;

	g_assert_true(store_held_count(s, boot, &n, &error));
	g_assert_no_error(error);
	return n;
}

/* A database as the previous release left it (version 2) gains the held
 * tables, empty, and keeps its rows. */
static void test_migrate_from_v2(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	struct store_span span = { 0 };
	g_autoptr(store) s = NULL;
	sqlite3 *db;

	g_assert_cmpint(latest_version(), >=, 3);
	make_v1(f->path);
	db = raw_open(f->path);
	raw_exec(db, store_migration_sql(2));
	raw_exec(db, "PRAGMA user_version = 2");
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_master "
				    "WHERE name = 'held'"),
			==, 0);
	sqlite3_close(db);

	s = open_store(f);
	g_assert_cmpint(store_schema_version(s), ==, latest_version());
	g_assert_true(
	    store_load_span(s, 1, T0_MS, T0_MS + 1000, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.rr->len, ==, 2);
	store_span_clear(&span);
	g_assert_cmpuint(held_count(s, BOOT_A), ==, 0);
	hold(s, BOOT_A, 5000, 1, STORE_READING_HR, 0, 61, NAN, NAN);
	g_assert_cmpuint(held_count(s, BOOT_A), ==, 1);
	flush(s);

	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM held"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM "
				    "readings_unknown_time"),
			==, 0);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM results"), ==, 1);
	sqlite3_close(db);
}

/* Held rows of one boot are filed at mono + offset, every kind in its
 * table; a value the store refuses is counted and dropped; another boot's
 * rows are left alone, then set aside. */
static void test_held_file(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	struct store_span span = { 0 };
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	uint64_t filed = 0, refused = 0, moved = 0, dropped = 0;
	int64_t newest = -1;
	sqlite3 *db;

	hold(s, BOOT_A, 1000, alice, STORE_READING_RR, 0, 800, NAN, NAN);
	hold(s, BOOT_A, 1000, alice, STORE_READING_HR, 0, 60, NAN, NAN);
	hold(s, BOOT_A, 2000, alice, STORE_READING_STATE, STORE_STATE_BED, 1,
	     NAN, NAN);
	hold(s, BOOT_A, 2000, alice, STORE_READING_ENV, STORE_ENV_TEMPERATURE_C,
	     21.5, NAN, NAN);
	hold(s, BOOT_A, 3000, alice, STORE_READING_BODY, 0, 61.2, NAN, 500);
	hold(s, BOOT_A, 4000, alice, STORE_READING_CHECKIN, 0, 4, NAN, 3);
	hold(s, BOOT_A, 4500, alice, STORE_READING_RR, 0, -5, NAN, NAN);
	hold(s, BOOT_B, 1000, alice, STORE_READING_RR, 0, 900, NAN, NAN);
	g_assert_cmpuint(held_count(s, BOOT_A), ==, 7);
	g_assert_cmpuint(held_count(s, BOOT_B), ==, 1);
	g_assert_true(store_newest_reading_ms(s, &newest, &error));
	g_assert_cmpint(newest, ==, 0); /* held rows have no wall time */

	g_assert_true(
	    store_held_file(s, BOOT_A, T0_MS, &filed, &refused, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(filed, ==, 6);
	g_assert_cmpuint(refused, ==, 1);
	g_assert_cmpuint(held_count(s, BOOT_A), ==, 0);
	g_assert_cmpuint(held_count(s, BOOT_B), ==, 1);

	g_assert_true(
	    store_load_span(s, alice, T0_MS, T0_MS + 10000, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.rr->len, ==, 1);
	g_assert_cmpint(g_array_index(span.rr, struct rr_sample, 0).t_ms, ==,
			T0_MS + 1000);
	g_assert_cmpfloat(g_array_index(span.rr, struct rr_sample, 0).rr_ms, ==,
			  800);
	g_assert_cmpuint(span.hr->len, ==, 1);
	g_assert_cmpint(g_array_index(span.hr, struct hr_sample, 0).t_ms, ==,
			T0_MS + 1000);
	g_assert_cmpuint(span.bed->len, ==, 1);
	g_assert_cmpint(g_array_index(span.bed, struct state_sample, 0).t_ms,
			==, T0_MS + 2000);
	g_assert_true(g_array_index(span.bed, struct state_sample, 0).on);
	g_assert_cmpuint(span.weights->len, ==, 1);
	g_assert_cmpint(
	    g_array_index(span.weights, struct weight_sample, 0).t_ms, ==,
	    T0_MS + 3000);
	g_assert_true(isnan(
	    g_array_index(span.weights, struct weight_sample, 0).body_fat_pct));
	g_assert_cmpuint(span.checkins->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(span.checkins, struct checkin_sample, 0).energy, ==,
	    3);
	store_span_clear(&span);
	g_assert_true(store_newest_reading_ms(s, &newest, &error));
	g_assert_cmpint(newest, ==, T0_MS + 4000);

	g_assert_true(
	    store_held_set_aside(s, BOOT_A, 100, &moved, &dropped, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(moved, ==, 1);
	g_assert_cmpuint(dropped, ==, 0);
	g_assert_cmpuint(held_count(s, BOOT_B), ==, 0);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM env WHERE kind = "
				    "'temperature_c' AND value = 21.5"),
			==, 1);
	g_assert_cmpint(raw_int(db,
				"SELECT count(*) FROM "
				"readings_unknown_time WHERE boot_id = '" BOOT_B
				"' AND mono_ms = 1000 AND v0 = 900"),
			==, 1);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM held"), ==, 0);
	sqlite3_close(db);
}

/* Held rows are in the database, not in memory: a store opened again (a
 * restart) finds them; the oldest can be dropped; an unknown kind is
 * refused before anything is written. */
static void test_held_persist(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	store *s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct store_reading bad = { .user = alice, .kind = 99 };
	struct store_span span = { 0 };
	uint64_t filed, refused;

	for (int i = 1; i <= 5; i++)
		hold(s, BOOT_A, i * 1000, alice, STORE_READING_HR, 0, 60 + i,
		     NAN, NAN);
	g_assert_false(store_hold_reading(s, BOOT_A, 1, &bad, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	store_close(s);

	s = open_store(f);
	g_assert_cmpuint(held_count(s, BOOT_A), ==, 5);
	g_assert_true(store_held_drop_oldest(s, BOOT_A, 2, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(held_count(s, BOOT_A), ==, 3);
	g_assert_true(
	    store_held_file(s, BOOT_A, T0_MS, &filed, &refused, &error));
	g_assert_cmpuint(filed, ==, 3);
	g_assert_true(
	    store_load_span(s, alice, T0_MS, T0_MS + 10000, &span, &error));
	g_assert_cmpuint(span.hr->len, ==, 3);
	g_assert_cmpint(g_array_index(span.hr, struct hr_sample, 0).t_ms, ==,
			T0_MS + 3000);
	g_assert_cmpfloat(g_array_index(span.hr, struct hr_sample, 0).bpm, ==,
			  63);
	store_span_clear(&span);
	store_close(s);
}

/* readings_unknown_time keeps at most the newest @keep rows. */
static void test_held_set_aside_keep(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	uint64_t moved, dropped;
	sqlite3 *db;

	for (int i = 1; i <= 5; i++)
		hold(s, BOOT_B, i * 1000, alice, STORE_READING_RR, 0, 800, NAN,
		     NAN);
	hold(s, BOOT_A, 1, alice, STORE_READING_RR, 0, 800, NAN, NAN);
	g_assert_true(
	    store_held_set_aside(s, BOOT_A, 3, &moved, &dropped, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(moved, ==, 5);
	g_assert_cmpuint(dropped, ==, 2);
	g_assert_cmpuint(held_count(s, BOOT_A), ==, 1);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM "
				    "readings_unknown_time"),
			==, 3);
	g_assert_cmpint(raw_int(db, "SELECT min(mono_ms) FROM "
				    "readings_unknown_time"),
			==, 3000);
	sqlite3_close(db);
}

/* A distinct reading at a taken instant goes to the next free millisecond;
 * without @distinct it is a repeat of the one standing there. Body rows
 * merge either way. */
static void test_add_reading_distinct(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice");
	struct store_reading rr = { alice, STORE_READING_RR, 0, { 810 } };
	struct store_reading hr = { alice, STORE_READING_HR, 0, { 70 } };
	struct store_reading bed = {
		alice, STORE_READING_STATE, STORE_STATE_BED, { 1 }
	};
	struct store_reading fat = {
		alice, STORE_READING_BODY, 0, { METRIC_NONE, 20, METRIC_NONE }
	};
	struct store_span span = { 0 };

	g_assert_true(store_add_rr(s, alice, T0_MS, 800, &error));
	g_assert_true(store_add_hr(s, alice, T0_MS, 70, &error));
	g_assert_true(
	    store_add_state(s, alice, STORE_STATE_BED, T0_MS, false, &error));
	g_assert_true(store_add_body(s, alice, T0_MS, 60, METRIC_NONE,
				     METRIC_NONE, &error));
	g_assert_true(store_add_reading(s, &rr, T0_MS, false, &error));
	g_assert_true(store_add_reading(s, &rr, T0_MS, true, &error));
	g_assert_true(store_add_reading(s, &rr, T0_MS, true, &error));
	g_assert_true(store_add_reading(s, &hr, T0_MS, true, &error));
	g_assert_true(store_add_reading(s, &bed, T0_MS, true, &error));
	g_assert_true(store_add_reading(s, &fat, T0_MS, true, &error));
	g_assert_no_error(error);

	g_assert_true(
	    store_load_span(s, alice, T0_MS, T0_MS + 100, &span, &error));
	g_assert_cmpuint(span.rr->len, ==, 3);
	g_assert_cmpfloat(g_array_index(span.rr, struct rr_sample, 0).rr_ms, ==,
			  800);
	g_assert_cmpint(g_array_index(span.rr, struct rr_sample, 1).t_ms, ==,
			T0_MS + 1);
	g_assert_cmpint(g_array_index(span.rr, struct rr_sample, 2).t_ms, ==,
			T0_MS + 2);
	/* The same heart rate, but a distinct reading: kept beside it. */
	g_assert_cmpuint(span.hr->len, ==, 2);
	g_assert_cmpint(g_array_index(span.hr, struct hr_sample, 1).t_ms, ==,
			T0_MS + 1);
	g_assert_cmpuint(span.bed->len, ==, 2);
	g_assert_true(g_array_index(span.bed, struct state_sample, 1).on);
	g_assert_cmpuint(span.weights->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(span.weights, struct weight_sample, 0).body_fat_pct,
	    ==, 20);
	store_span_clear(&span);
}

/* The newest reading of any person in any raw table, states and the
 * environment included: the wall clock's floor. */
static void test_newest_reading(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	g_autoptr(store) s = open_store(f);
	int64_t alice = user_id(s, "alice"), bob = user_id(s, "bob");
	int64_t newest = -1;

	g_assert_true(store_newest_reading_ms(s, &newest, &error));
	g_assert_cmpint(newest, ==, 0);
	g_assert_true(store_add_env(s, alice, STORE_ENV_ILLUMINANCE_LX,
				    T0_MS + 99, 3, &error));
	g_assert_true(store_add_hr(s, alice, T0_MS + 50, 60, &error));
	g_assert_true(store_newest_reading_ms(s, &newest, &error));
	g_assert_cmpint(newest, ==, T0_MS + 99);
	g_assert_true(store_add_state(s, bob, STORE_STATE_MOTION, T0_MS + 150,
				      true, &error));
	g_assert_true(store_newest_reading_ms(s, &newest, &error));
	g_assert_cmpint(newest, ==, T0_MS + 150);
	g_assert_true(store_add_rr(s, alice, T0_MS + 200, 800, &error));
	g_assert_true(store_add_checkin(s, bob, T0_MS + 300, 3, METRIC_NONE,
					METRIC_NONE, &error));
	g_assert_true(store_newest_reading_ms(s, &newest, &error));
	g_assert_no_error(error);
	g_assert_cmpint(newest, ==, T0_MS + 300);
}

int main(int argc, char **argv)
{
	/* Before any thread: a mount namespace of our own (as root), where
	 * the failure tests may mount a tmpfs that fills up or goes
	 * read-only without touching the system's mounts. */
	have_mount_namespace =
	    unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn)                                                          \
	g_test_add(name, struct fixture, NULL, fixture_setup, fn,              \
		   fixture_teardown)
	ADD("/store/open/mode-wal", test_open_mode_wal);
	ADD("/store/open/reopen", test_open_reopen);
	ADD("/store/open/not-a-database", test_open_not_a_database);
	ADD("/store/migrate/from-v1", test_migrate_from_v1);
	ADD("/store/migrate/beats", test_migrate_beats);
	ADD("/store/beats/scattered", test_beats_scattered);
	ADD("/store/migrate/atomic", test_migrate_atomic);
	ADD("/store/migrate/newer-refused", test_migrate_newer_refused);
	ADD("/store/migrate/from-v2", test_migrate_from_v2);
	ADD("/store/held/file", test_held_file);
	ADD("/store/held/persist", test_held_persist);
	ADD("/store/held/set-aside-keep", test_held_set_aside_keep);
	ADD("/store/reading/distinct", test_add_reading_distinct);
	ADD("/store/reading/newest", test_newest_reading);
	ADD("/store/ingest/idempotent", test_ingest_idempotent);
	ADD("/store/ingest/invalid", test_ingest_invalid);
	ADD("/store/users", test_users);
	ADD("/store/devices", test_devices);
	ADD("/store/scale-users", test_scale_users);
	ADD("/store/batch/rows", test_batch_rows);
	ADD("/store/batch/age", test_batch_age);
	ADD("/store/batch/visible", test_batch_visible);
	ADD("/store/batch/lock-free", test_batch_lock_free);
	ADD("/store/batch/durable", test_batch_durable);
	ADD("/store/span/states", test_span_states);
	ADD("/store/nights/round-trip", test_nights_round_trip);
	ADD("/store/results/round-trip", test_results_round_trip);
	ADD("/store/outbox", test_outbox);
	ADD("/store/prune/retention", test_prune_retention);
	ADD("/store/open/foreign-tables", test_open_foreign_tables);
	ADD("/store/open/wrong-schema", test_open_wrong_schema);
	ADD("/store/fail/retry", test_fail_retry);
	ADD("/store/fail/bound", test_fail_bound);
	ADD("/store/fail/kinds", test_fail_kinds);
	ADD("/store/fail/not-storage", test_fail_not_storage);
	ADD("/store/fail/disk-full", test_fail_disk_full);
	ADD("/store/fail/read-only", test_fail_read_only);
#undef ADD
	for (size_t i = 0; i < G_N_ELEMENTS(corrupt_cases); i++)
		g_test_add(corrupt_cases[i].name, struct fixture,
			   &corrupt_cases[i], fixture_setup, test_corrupt,
			   fixture_teardown);
	return g_test_run();
}
