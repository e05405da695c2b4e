/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include <sqlite3.h>

/*
 * Raw looks into a database the store wrote. Since schema 7 the store keeps
 * RR intervals and heart rates a minute a row (gateway/core/beats.h); a test
 * that counts or lists them reads them as rows a reading, as the tables rr
 * (user_id, t_ms, rr_ms) and hr (user_id, t_ms, bpm) were before.
 *
 * test_db_unpack_beats() fills TEMP tables rr and hr of connection @db from
 * rr_minutes and hr_minutes as they are now (call it again after the file
 * changed). It decodes the documented format on its own, not with the
 * store's code, so that it checks what the file holds. A malformed minute
 * fails the test. Databases before schema 7 are left as they are.
 */
void test_db_unpack_beats(sqlite3 *db);

/* test_db_unpack_beats() when @sql names the table rr or hr: the raw
 * helpers of the tests call it before each query. */
void test_db_unpack_for(sqlite3 *db, const char *sql);

/* The beats of @table (rr_minutes or hr_minutes) summed up without a copy,
 * for files too big to unpack: how many, the first and the last instant,
 * how many before @before_ms. */
struct test_db_beats {
	int64_t count;
	int64_t first_ms, last_ms; /* 0 when count is 0 */
	int64_t before;
};
void test_db_sum_beats(sqlite3 *db, const char *table, int64_t before_ms,
		       struct test_db_beats *ret);
