// SPDX-License-Identifier: MIT
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "tests/support/test-db.h"

/* The format of gateway/core/beats.h, read here without it. */
#define ENTRY_SIZE 10
#define MINUTE_MS  60000

static void exec_or_fail(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", sql, msg);
}

/* Calls @each for every beat of @table (rr_minutes or hr_minutes). */
static void for_each_beat(sqlite3 *db, const char *table,
			  void (*each)(int64_t user, int64_t t_ms, double value,
				       void *data),
			  void *data)
{
	g_autofree char *select = g_strdup_printf(
	    "SELECT user_id, minute, beats FROM main.%s", table);
	sqlite3_stmt *rows = NULL;
	int rc;

	g_assert_cmpint(sqlite3_prepare_v2(db, select, -1, &rows, NULL), ==,
			SQLITE_OK);
	while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
		int64_t user = sqlite3_column_int64(rows, 0);
		int64_t minute = sqlite3_column_int64(rows, 1);
		const uint8_t *p = sqlite3_column_blob(rows, 2);
		int size = sqlite3_column_bytes(rows, 2);
		int last = -1;

		g_assert_cmpint(size % ENTRY_SIZE, ==, 0);
		for (int i = 0; i < size; i += ENTRY_SIZE) {
			int offset = p[i] | p[i + 1] << 8;
			uint64_t bits = 0;
			double value;

			for (int b = 7; b >= 0; b--)
				bits = bits << 8 | p[i + 2 + b];
			memcpy(&value, &bits, sizeof(value));
			/* Sorted, each instant once, within its minute. */
			g_assert_cmpint(offset, >, last);
			g_assert_cmpint(offset, <, MINUTE_MS);
			last = offset;
			each(user, minute * MINUTE_MS + offset, value, data);
		}
	}
	g_assert_cmpint(rc, ==, SQLITE_DONE);
	sqlite3_finalize(rows);
}

static void insert_beat(int64_t user, int64_t t_ms, double value, void *data)
{
	sqlite3_stmt *add = data;

	sqlite3_bind_int64(add, 1, user);
	sqlite3_bind_int64(add, 2, t_ms);
	sqlite3_bind_double(add, 3, value);
	g_assert_cmpint(sqlite3_step(add), ==, SQLITE_DONE);
	sqlite3_reset(add);
}

static void unpack_table(sqlite3 *db, const char *from, const char *into)
{
	g_autofree char *insert =
	    g_strdup_printf("INSERT INTO temp.%s VALUES (?1, ?2, ?3)", into);
	sqlite3_stmt *add = NULL;

	g_assert_cmpint(sqlite3_prepare_v2(db, insert, -1, &add, NULL), ==,
			SQLITE_OK);
	for_each_beat(db, from, insert_beat, add);
	sqlite3_finalize(add);
}

struct sum {
	int64_t before_ms;
	struct test_db_beats *ret;
};

static void sum_beat(int64_t user, int64_t t_ms, double value, void *data)
{
	struct sum *sum = data;
	struct test_db_beats *r = sum->ret;

	(void)user;
	(void)value;
	if (r->count == 0 || t_ms < r->first_ms)
		r->first_ms = t_ms;
	if (r->count == 0 || t_ms > r->last_ms)
		r->last_ms = t_ms;
	r->count++;
	r->before += t_ms < sum->before_ms;
}

void test_db_sum_beats(sqlite3 *db, const char *table, int64_t before_ms,
		       struct test_db_beats *ret)
{
	struct sum sum = { before_ms, ret };

	*ret = (struct test_db_beats){ 0 };
	for_each_beat(db, table, sum_beat, &sum);
}

void test_db_unpack_beats(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int packed;

	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT count(*) FROM main."
					   "sqlite_master WHERE name = "
					   "'rr_minutes'",
					   -1, &st, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	packed = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!packed)
		return;
	exec_or_fail(db, "DROP TABLE IF EXISTS temp.rr;"
			 "DROP TABLE IF EXISTS temp.hr;"
			 "CREATE TEMP TABLE rr (user_id INTEGER, t_ms INTEGER, "
			 "rr_ms REAL, PRIMARY KEY (user_id, t_ms));"
			 "CREATE TEMP TABLE hr (user_id INTEGER, t_ms INTEGER, "
			 "bpm REAL, PRIMARY KEY (user_id, t_ms));"
			 "SAVEPOINT unpack;");
	unpack_table(db, "rr_minutes", "rr");
	unpack_table(db, "hr_minutes", "hr");
	exec_or_fail(db, "RELEASE unpack;");
}

static bool names_table(const char *sql, const char *table)
{
	size_t len = strlen(table);

	for (const char *p = strstr(sql, table); p; p = strstr(p + 1, table))
		if ((p == sql || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ' ' || p[len] == ';' ||
		     p[len] == ')'))
			return true;
	return false;
}

void test_db_unpack_for(sqlite3 *db, const char *sql)
{
	if (names_table(sql, "rr") || names_table(sql, "hr"))
		test_db_unpack_beats(db);
}
