// SPDX-License-Identifier: MIT
/*
 * Bad inputs as a person (or a broken disk) hands them over, through the
 * real programs (RECOVERYD, RECOVERYCTL): CSV files for `recoveryctl
 * import`, configurations for `recoveryd --check-config`, and database
 * files that are not what they should be for `recoveryd` and `recoveryctl
 * status`. Every case: the exit status expected, one clear message on
 * stderr of bounded length with the fragment that says what is wrong, no
 * crash (the tests run with G_DEBUG=fatal-warnings, which the programs
 * inherit: a GLib critical would abort them), and nothing stored before
 * lost (the rows of an earlier import are all there, a database that
 * was refused is byte for byte what it was).
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "tests/support/test-db.h"
#include "tests/support/test-support.h"

/* An earlier import: three heart rates of alice, all good. */
static const char earlier_csv[] = "time,user,kind,value\n"
				  "2026-03-01T22:00:00Z,alice,hr_bpm,55\n"
				  "2026-03-01T22:00:01Z,alice,hr_bpm,56\n"
				  "2026-03-01T22:00:02Z,alice,hr_bpm,57\n";

/* Placeholders a case's text may hold, filled in before it runs. */
#define BIG_NUMBER "@BIG_NUMBER@" /* 10 MB of digits */
#define BIG_NAME   "@BIG_NAME@"	  /* 100 kB of letters */
#define NUL	   "@NUL@"	  /* a NUL byte */

enum target {
	CSV_IMPORT,   /* recoveryctl import FILE into a database */
	CONFIG_CHECK, /* recoveryd --check-config --config FILE */
	DB_DAEMON,    /* recoveryd --config with database=FILE */
	DB_STATUS,    /* recoveryctl status --db FILE */
	DB_IMPORT,    /* recoveryctl import of a good row into FILE */
};

struct bad_case {
	const char *name;
	enum target target;
	const char *text; /* the file; NULL for DB_* cases made by sql */
	const char *sql;  /* DB_*: made with sqlite3 (NULL: text as bytes) */
	const char *const *args; /* extra arguments (import) */
	int status;
	const char *want[3]; /* in stderr */
	int rows_after;	     /* CSV_IMPORT: heart rates then (-1: any) */
};

static const char *const tz_path[] = { "--timezone", "../../etc/passwd", NULL };
static const char *const tz_not_zone[] = { "--timezone", "leapseconds", NULL };

static const struct bad_case cases[] = {
	/* CSV: each bad row named with its line, the good ones stored. */
	{ "/bad-inputs/csv/1970-and-9999",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z,alice,hr_bpm,58\n"
	  "1970-01-01T00:00:00Z,alice,hr_bpm,60\n"
	  "9999-12-31T23:59:59Z,alice,hr_bpm,60\n",
	  NULL,
	  NULL,
	  1,
	  { ":2: time '1970-01-01T00:00:00Z' is before 2000-01-01",
	    ":3: time '9999-12-31T23:59:59Z' is more than a day ahead" },
	  4 },
	{ "/bad-inputs/csv/10-mb-number",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z,alice,hr_bpm," BIG_NUMBER "\n",
	  NULL,
	  NULL,
	  1,
	  { "hr_bpm value '999999", "... (10000000 bytes) is not 20-300" },
	  3 },
	{ "/bad-inputs/csv/100-kb-user",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z," BIG_NAME ",hr_bpm,60\n",
	  NULL,
	  NULL,
	  1,
	  { "user 'aaaa", "... (100000 bytes) is not a name" },
	  3 },
	{ "/bad-inputs/csv/nul-in-row",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z,alice,hr_bpm,60" NUL "junk\n",
	  NULL,
	  NULL,
	  1,
	  { ":1: a NUL byte in the line" },
	  3 },
	{ "/bad-inputs/csv/not-utf8",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z,al\xff"
	  "ce,hr_bpm,60\n",
	  NULL,
	  NULL,
	  1,
	  { ":1: not UTF-8 text" },
	  3 },
	{ "/bad-inputs/csv/escape-sequence-value",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z,alice,hr_bpm,\x1b[2J60\n",
	  NULL,
	  NULL,
	  1,
	  { "hr_bpm value '?[2J60' is not 20-300 bpm" },
	  3 },
	{ "/bad-inputs/csv/timezone-path",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z,alice,hr_bpm,60\n",
	  NULL,
	  tz_path,
	  2,
	  { "Time zone \"../../etc/passwd\" is not an IANA zone name" },
	  3 },
	{ "/bad-inputs/csv/timezone-not-a-zone",
	  CSV_IMPORT,
	  "2026-03-02T22:00:00Z,alice,hr_bpm,60\n",
	  NULL,
	  tz_not_zone,
	  2,
	  { "leapseconds is not a time zone file" },
	  3 },

	/* Configurations: one line with the file and the line. */
	{ "/bad-inputs/config/timezone-path",
	  CONFIG_CHECK,
	  "[gateway]\ntimezone=../../etc/passwd\n",
	  NULL,
	  NULL,
	  1,
	  { ":2: [gateway] timezone: \"../../etc/passwd\" is not a known "
	    "time zone" } },
	{ "/bad-inputs/config/timezone-absolute",
	  CONFIG_CHECK,
	  "[gateway]\ntimezone=/etc/passwd\n",
	  NULL,
	  NULL,
	  1,
	  { ":2: [gateway] timezone: \"/etc/passwd\"" } },
	{ "/bad-inputs/config/100-kb-host",
	  CONFIG_CHECK,
	  "[mqtt]\nhost=" BIG_NAME "\n",
	  NULL,
	  NULL,
	  1,
	  { ":2: [mqtt] host: \"aaaa", "\"... (100000 bytes)" } },
	{ "/bad-inputs/config/nul-in-key",
	  CONFIG_CHECK,
	  "[gateway]\nadap" NUL "ter=hci0\n",
	  NULL,
	  NULL,
	  1,
	  { "recoveryd: " } },

	/* Databases that are not ours: refused with what they are, and not
	 * touched. */
	{ "/bad-inputs/db/daemon/not-sqlite",
	  DB_DAEMON,
	  "SQLite format 2\nthis is a shopping list\n",
	  NULL,
	  NULL,
	  1,
	  { "not an SQLite database" } },
	{ "/bad-inputs/db/daemon/foreign-tables",
	  DB_DAEMON,
	  NULL,
	  "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT);"
	  "INSERT INTO photos (path) VALUES ('beach.jpg');",
	  NULL,
	  1,
	  { "holds tables that are not recoveryd's ('photos'" } },
	{ "/bad-inputs/db/daemon/newer-schema",
	  DB_DAEMON,
	  NULL,
	  "PRAGMA user_version = 99;",
	  NULL,
	  1,
	  { "schema version 99, newer than version" } },
	{ "/bad-inputs/db/daemon/wrong-tables",
	  DB_DAEMON,
	  NULL,
	  "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
	  "PRAGMA user_version = 2;",
	  NULL,
	  1,
	  { "the tables are not recoveryd's schema version 2" } },
	{ "/bad-inputs/db/status/not-sqlite",
	  DB_STATUS,
	  "SQLite format 2\nthis is a shopping list\n",
	  NULL,
	  NULL,
	  1,
	  { "not an SQLite database" } },
	{ "/bad-inputs/db/status/newer-schema",
	  DB_STATUS,
	  NULL,
	  "PRAGMA user_version = 99;",
	  NULL,
	  1,
	  { "schema version 99 is not one this program reads" } },
	{ "/bad-inputs/db/import/foreign-tables",
	  DB_IMPORT,
	  NULL,
	  "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT);",
	  NULL,
	  1,
	  { "holds tables that are not recoveryd's" } },
};

/* @text with the placeholders filled in; @ret_len its length (NULs). */
static char *expand(const char *text, gsize *ret_len)
{
	g_autoptr(GString) s = g_string_new(text);
	g_autofree char *big_number = g_strnfill(10 * 1000 * 1000, '9');
	g_autofree char *big_name = g_strnfill(100 * 1000, 'a');
	const char *nul;

	g_string_replace(s, BIG_NUMBER, big_number, 0);
	g_string_replace(s, BIG_NAME, big_name, 0);
	while ((nul = strstr(s->str, NUL)) != NULL) {
		gssize at = nul - s->str;

		g_string_erase(s, at, strlen(NUL));
		g_string_insert_len(s, at, "", 1);
	}
	*ret_len = s->len;
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static int64_t db_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	test_db_unpack_for(db, sql);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void make_db(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", sql, msg);
	sqlite3_close(db);
}

static int run(const char *const *argv, char **ret_out, char **ret_err)
{
	int status = test_spawn(argv, NULL, ret_out, ret_err);

	g_test_message("exit %d\nstdout: %.300s\nstderr: %.600s", status,
		       *ret_out, *ret_err);
	return status;
}

static void test_case(gconstpointer data)
{
	const struct bad_case *c = data;
	g_autofree char *dir = test_tmp_dir_new("test-bad-inputs-XXXXXX");
	g_autofree char *file = g_build_filename(dir, "input", NULL);
	g_autofree char *db = g_build_filename(dir, "recoveryd.db", NULL);
	g_autofree char *conf = g_build_filename(dir, "recoveryd.conf", NULL);
	g_autofree char *good = g_build_filename(dir, "good.csv", NULL);
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *before = NULL, *after = NULL;
	gsize before_len = 0, after_len = 0;
	const char *argv[16] = { NULL };
	size_t n = 0;
	const char *ctl = g_getenv("RECOVERYCTL");
	const char *daemon = g_getenv("RECOVERYD");
	const char *target_file = file;
	int status;

	if (c->text) {
		gsize len;
		g_autofree char *text = expand(c->text, &len);

		g_assert_true(
		    g_file_set_contents(file, text, (gssize)len, NULL));
	}
	if (c->sql) {
		make_db(file, c->sql);
	}

	switch (c->target) {
	case CSV_IMPORT: {
		const char *const earlier[] = { ctl,  "import",	    "--db",
						db,   "--timezone", "UTC",
						good, NULL };
		g_autofree char *o = NULL, *e = NULL;

		g_assert_true(g_file_set_contents(good, earlier_csv, -1, NULL));
		g_assert_cmpint(run(earlier, &o, &e), ==, 0);
		argv[n++] = ctl;
		argv[n++] = "import";
		argv[n++] = "--db";
		argv[n++] = db;
		if (!c->args) {
			argv[n++] = "--timezone";
			argv[n++] = "UTC";
		}
		for (size_t i = 0; c->args && c->args[i]; i++)
			argv[n++] = c->args[i];
		argv[n++] = file;
		target_file = db;
		break;
	}
	case CONFIG_CHECK:
		argv[n++] = daemon;
		argv[n++] = "--check-config";
		argv[n++] = "--config";
		argv[n++] = file;
		break;
	case DB_DAEMON: {
		g_autofree char *text = g_strdup_printf(
		    "[gateway]\ndatabase=%s\ntimezone=UTC\n"
		    "[mqtt]\nhost=127.0.0.1\nport=1\n"
		    "[user alice]\nheart-rate=C4:7C:8D:6A:12:34\n",
		    file);

		g_assert_true(g_file_set_contents(conf, text, -1, NULL));
		argv[n++] = daemon;
		argv[n++] = "--config";
		argv[n++] = conf;
		break;
	}
	case DB_STATUS:
		argv[n++] = ctl;
		argv[n++] = "status";
		argv[n++] = "--db";
		argv[n++] = file;
		break;
	case DB_IMPORT:
		g_assert_true(g_file_set_contents(good, earlier_csv, -1, NULL));
		argv[n++] = ctl;
		argv[n++] = "import";
		argv[n++] = "--db";
		argv[n++] = file;
		argv[n++] = "--timezone";
		argv[n++] = "UTC";
		argv[n++] = good;
		break;
	}
	g_assert_cmpuint(n, <, G_N_ELEMENTS(argv));
	if (c->target != CONFIG_CHECK)
		g_assert_true(g_file_get_contents(target_file, &before,
						  &before_len, NULL));

	status = run(argv, &out, &err);
	g_assert_cmpint(status, ==, c->status);
	for (size_t i = 0; i < G_N_ELEMENTS(c->want) && c->want[i]; i++)
		if (!strstr(err, c->want[i]))
			g_error("stderr lacks \"%s\"", c->want[i]);
	/* Every line of it short enough to read, whatever came in. */
	{
		g_auto(GStrv) lines = g_strsplit(err, "\n", -1);

		for (size_t i = 0; lines[i]; i++)
			g_assert_cmpuint(strlen(lines[i]), <, 400);
	}

	/* Nothing that was stored before is lost. */
	if (c->target == CSV_IMPORT) {
		g_assert_cmpint(
		    db_int(db, "SELECT count(*) FROM hr WHERE bpm IN (55, 56, "
			       "57)"),
		    ==, 3);
		if (c->rows_after >= 0)
			g_assert_cmpint(db_int(db, "SELECT count(*) FROM hr"),
					==, c->rows_after);
	} else if (c->target != CONFIG_CHECK) {
		g_assert_true(
		    g_file_get_contents(target_file, &after, &after_len, NULL));
		g_assert_cmpuint(after_len, ==, before_len);
		g_assert_true(memcmp(before, after, before_len) == 0);
	}
	test_remove_tree(dir);
}

/* The import that used to walk every day from 1970 to 9999: two rows
 * decades apart are two nights (and the next mornings), quickly. */
static void test_far_apart(void)
{
	g_autofree char *dir = test_tmp_dir_new("test-bad-inputs-XXXXXX");
	g_autofree char *file = g_build_filename(dir, "far.csv", NULL);
	g_autofree char *db = g_build_filename(dir, "recoveryd.db", NULL);
	const char *argv[] = { g_getenv("RECOVERYCTL"),
			       "import",
			       "--db",
			       db,
			       "--timezone",
			       "UTC",
			       file,
			       NULL };
	g_autofree char *out = NULL, *err = NULL;
	int64_t start = g_get_monotonic_time();

	g_assert_true(
	    g_file_set_contents(file,
				"2000-01-01T00:00:00Z,alice,hr_bpm,60\n"
				"2026-03-02T22:00:00Z,alice,hr_bpm,60\n",
				-1, NULL));
	g_assert_cmpint(run(argv, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "imported 2 rows for 1 person, analysed "
				     "4 nights"));
	g_assert_cmpint(db_int(db, "SELECT count(*) FROM nights"), ==, 4);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 20 * G_USEC_PER_SEC);
	test_remove_tree(dir);
}

/* A row that does not read back: export and history go on without it,
 * name it, and export says by its exit status that the copy is not full. */
static void test_damaged_row(void)
{
	g_autofree char *dir = test_tmp_dir_new("test-bad-inputs-XXXXXX");
	g_autofree char *csv = g_build_filename(dir, "good.csv", NULL);
	g_autofree char *db = g_build_filename(dir, "recoveryd.db", NULL);
	const char *import[] = { g_getenv("RECOVERYCTL"),
				 "import",
				 "--db",
				 db,
				 "--timezone",
				 "UTC",
				 csv,
				 NULL };
	const char *export[] = { g_getenv("RECOVERYCTL"),
				 "export",
				 "--db",
				 db,
				 "--format",
				 "csv",
				 "--timezone",
				 "UTC",
				 NULL };
	const char *history[] = { g_getenv("RECOVERYCTL"),
				  "history",
				  "--db",
				  db,
				  "--user",
				  "alice",
				  NULL };
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *out2 = NULL, *err2 = NULL;
	g_autofree char *out3 = NULL, *err3 = NULL;

	g_assert_true(g_file_set_contents(csv, earlier_csv, -1, NULL));
	g_assert_cmpint(run(import, &out, &err), ==, 0);
	/* The three share a minute (beats.h: 10 bytes each, ms 0, 1000 and
	 * 2000): the middle one's value becomes -56.0. */
	make_db(db, "UPDATE hr_minutes SET beats = CAST(substr(beats, 1, 10) "
		    "|| X'e803000000000000' || X'4cc0' || substr(beats, 21) "
		    "AS BLOB)");
	g_assert_cmpint(run(export, &out2, &err2), ==, 1);
	g_assert_nonnull(strstr(err2, "recoveryctl export: skipped a damaged "
				      "row: table hr_minutes, column beats"));
	g_test_message("%s", err2);
	g_assert_nonnull(strstr(err2, "entry 1: -56 is outside"));
	g_assert_nonnull(strstr(out2, ",alice,hr_bpm,55"));
	g_assert_nonnull(strstr(out2, ",alice,hr_bpm,57"));
	g_assert_null(strstr(out2, "hr_bpm,56"));
	g_assert_null(strstr(out2, "hr_bpm,-56"));
	g_assert_cmpint(run(history, &out3, &err3), ==, 0);
	test_remove_tree(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (!g_getenv("RECOVERYCTL") || !g_getenv("RECOVERYD")) {
		g_printerr(
		    "RECOVERYCTL and RECOVERYD must name the programs\n");
		return 1;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_test_add_data_func(cases[i].name, &cases[i], test_case);
	g_test_add_func("/bad-inputs/csv/far-apart", test_far_apart);
	g_test_add_func("/bad-inputs/db/damaged-row", test_damaged_row);
	return g_test_run();
}
