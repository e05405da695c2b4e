// SPDX-License-Identifier: MIT
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/core/import.h"

struct row_vector {
	const char *name;
	const char *line;
	bool ok;
	bool derived;
	int64_t t_ms;
	const char *user;
	enum import_kind kind;
	double value;
	const char *reason; /* substring of the reason when !ok */
};

/* 2026-03-01T23:15:00+01:00 is 22:15 UTC: 1772403300 s. */
#define T0 INT64_C(1772403300000)
/* The import runs at 2026-03-02T22:15:00Z, a day after T0. */
#define NOW (T0 + INT64_C(86400000))

static const struct row_vector rows[] = {
	{ "/import/row/rr", "2026-03-01T23:15:00+01:00,alice,rr_ms,912.5", true,
	  false, T0, "alice", IMPORT_RR_MS, 912.5 },
	{ "/import/row/utc-z-millis", "2026-03-01T22:15:00.250Z,bob,hr_bpm,61",
	  true, false, T0 + 250, "bob", IMPORT_HR_BPM, 61 },
	{ "/import/row/spaces", " 2026-03-01T23:15:00+01:00 , alice , bed , 1 ",
	  true, false, T0, "alice", IMPORT_BED, 1 },
	{ "/import/row/checkin",
	  "2026-03-01T23:15:00+01:00,a-1_b,checkin_mood,5", true, false, T0,
	  "a-1_b", IMPORT_CHECKIN_MOOD, 5 },
	{ "/import/row/derived-score", "2026-03-02,alice,score,74", true,
	  true },
	{ "/import/row/derived-weight", "2026-03-02,alice,weight_kg,62.1", true,
	  true },
	/* export writes the day's HRV source as a word, not a number */
	{ "/import/row/derived-hrv-source", "2026-03-02,alice,hrv_source,spot",
	  true, true },
	{ "/import/bad/fields", "2026-03-01T23:15:00+01:00,alice,rr_ms", false,
	  false, 0, NULL, 0, 0, "expected 4 fields" },
	{ "/import/bad/no-offset", "2026-03-01T23:15:00,alice,rr_ms,900", false,
	  false, 0, NULL, 0, 0, "is not ISO 8601 with an offset" },
	{ "/import/bad/date-only-reading", "2026-03-01,alice,rr_ms,900", false,
	  false, 0, NULL, 0, 0, "is not ISO 8601 with an offset" },
	{ "/import/bad/user", "2026-03-01T23:15:00+01:00,al ice,rr_ms,900",
	  false, false, 0, NULL, 0, 0, "user 'al ice' is not a name" },
	{ "/import/bad/user-empty", "2026-03-01T23:15:00+01:00,,rr_ms,900",
	  false, false, 0, NULL, 0, 0, "user '' is not a name" },
	{ "/import/bad/kind", "2026-03-01T23:15:00+01:00,alice,steps,900",
	  false, false, 0, NULL, 0, 0, "unknown kind 'steps'" },
	{ "/import/bad/value-text", "2026-03-01T23:15:00+01:00,alice,rr_ms,abc",
	  false, false, 0, NULL, 0, 0, "rr_ms value 'abc' is not 100-5000 ms" },
	{ "/import/bad/value-trailing",
	  "2026-03-01T23:15:00+01:00,alice,rr_ms,9x", false, false, 0, NULL, 0,
	  0, "rr_ms value '9x'" },
	{ "/import/bad/value-range",
	  "2026-03-01T23:15:00+01:00,alice,hr_bpm,400", false, false, 0, NULL,
	  0, 0, "hr_bpm value '400' is not 20-300 bpm" },
	{ "/import/bad/value-nan", "2026-03-01T23:15:00+01:00,alice,hr_bpm,nan",
	  false, false, 0, NULL, 0, 0, "hr_bpm value 'nan'" },
	{ "/import/bad/checkin-fraction",
	  "2026-03-01T23:15:00+01:00,alice,checkin_energy,2.5", false, false, 0,
	  NULL, 0, 0, "is not a whole 1-5" },
	{ "/import/bad/bed-2", "2026-03-01T23:15:00+01:00,alice,bed,2", false,
	  false, 0, NULL, 0, 0, "bed value '2' is not 0 (empty) or 1" },
	/* Reading times from 2000-01-01 to a day after now, no further. */
	{ "/import/time/2000", "2000-01-01T00:00:00Z,alice,hr_bpm,60", true,
	  false, INT64_C(946684800000), "alice", IMPORT_HR_BPM, 60 },
	{ "/import/time/a-day-ahead", "2026-03-03T22:15:00Z,alice,hr_bpm,60",
	  true, false, NOW + INT64_C(86400000), "alice", IMPORT_HR_BPM, 60 },
	{ "/import/time/before-2000", "1999-12-31T23:59:59Z,alice,hr_bpm,60",
	  false, false, 0, NULL, 0, 0,
	  "time '1999-12-31T23:59:59Z' is before 2000-01-01" },
	{ "/import/time/1970", "1970-01-01T00:00:00Z,alice,hr_bpm,60", false,
	  false, 0, NULL, 0, 0, "is before 2000-01-01" },
	{ "/import/time/more-than-a-day-ahead",
	  "2026-03-03T22:15:01Z,alice,hr_bpm,60", false, false, 0, NULL, 0, 0,
	  "is more than a day ahead of now (expected a reading time from "
	  "2000-01-01 to 2026-03-03T22:15:00Z)" },
	{ "/import/time/9999", "9999-12-31T23:59:59Z,alice,hr_bpm,60", false,
	  false, 0, NULL, 0, 0, "is more than a day ahead" },
	{ "/import/bad/derived-kind-with-time",
	  "2026-03-01T23:15:00+01:00,alice,score,70", false, false, 0, NULL, 0,
	  0, "unknown kind 'score'" },
};

static void test_row(gconstpointer data)
{
	const struct row_vector *v = data;
	g_autofree char *reason = NULL;
	struct import_row row;

	g_assert_cmpint(import_parse_row(v->line, NOW, &row, &reason), ==,
			v->ok);
	if (!v->ok) {
		g_assert_nonnull(reason);
		if (!strstr(reason, v->reason))
			g_error("reason \"%s\" lacks \"%s\"", reason,
				v->reason);
		return;
	}
	g_assert_null(reason);
	g_assert_cmpint(row.derived, ==, v->derived);
	if (v->derived)
		return;
	g_assert_cmpint(row.t_ms, ==, v->t_ms);
	g_assert_cmpstr(row.user, ==, v->user);
	g_assert_cmpint(row.kind, ==, v->kind);
	g_assert_cmpfloat(row.value, ==, v->value);
	g_assert_cmpstr(import_kind_name(row.kind), !=, "?");
}

/* --- the plain RR format ------------------------------------------- */

enum rr_line_kind { RR_SKIP, RR_BEAT, RR_BAD };

struct rr_line {
	const char *text;
	enum rr_line_kind kind;
	int64_t t_offset_ms; /* from the start, for a beat */
	double rr_ms;
	const char *reason; /* substring, for a bad line */
};

struct rr_vector {
	const char *name;
	struct rr_line lines[6];
};

/* Beat k is stamped at the start plus intervals 0..k. */
static const struct rr_vector rr_vectors[] = {
	{ "/import/rr/elite-hrv",
	  { { "812", RR_BEAT, 812, 812 },
	    { "830", RR_BEAT, 1642, 830 },
	    { "799", RR_BEAT, 2441, 799 } } },
	{ "/import/rr/header",
	  { { "RR-interval [ms]", RR_SKIP },
	    { "1000", RR_BEAT, 1000, 1000 } } },
	{ "/import/rr/header-after-blank-and-comment",
	  { { "", RR_SKIP },
	    { "# exported 2026-03-02", RR_SKIP },
	    { "RR", RR_SKIP },
	    { "1000", RR_BEAT, 1000, 1000 } } },
	/* A UTF-8 byte order mark and Windows line ends. */
	{ "/import/rr/bom-crlf",
	  { { "\xef\xbb\xbfRR\r", RR_SKIP }, { "900\r", RR_BEAT, 900, 900 } } },
	{ "/import/rr/bom-before-value",
	  { { "\xef\xbb\xbf"
	      "900",
	      RR_BEAT, 900, 900 } } },
	/* A fraction is kept; the stamp rounds to the millisecond. */
	{ "/import/rr/decimal",
	  { { "812.4", RR_BEAT, 812, 812.4 },
	    { "812.4", RR_BEAT, 1625, 812.4 } } },
	{ "/import/rr/range-ends",
	  { { "100", RR_BEAT, 100, 100 }, { "5000", RR_BEAT, 5100, 5000 } } },
	{ "/import/rr/spaces", { { "  900\t", RR_BEAT, 900, 900 } } },
	/* A header only first: later, words are a bad line. */
	{ "/import/rr/header-late",
	  { { "900", RR_BEAT, 900, 900 },
	    { "RR", RR_BAD, 0, 0,
	      "'RR' is not an RR interval (expected one number of "
	      "milliseconds a line, 100-5000 ms)" } } },
	/* A bad line does not advance the time. */
	{ "/import/rr/bad-keeps-time",
	  { { "900", RR_BEAT, 900, 900 },
	    { "9OO", RR_BAD, 0, 0, "'9OO' is not an RR interval" },
	    { "900", RR_BEAT, 1800, 900 } } },
	{ "/import/rr/bad/number-first",
	  { { "800ms", RR_BAD, 0, 0, "'800ms' is not an RR interval" } } },
	{ "/import/rr/bad/no-letters-first",
	  { { "--", RR_BAD, 0, 0, "'--' is not an RR interval" } } },
	{ "/import/rr/bad/negative",
	  { { "-800", RR_BAD, 0, 0, "'-800' is not an RR interval" } } },
	{ "/import/rr/bad/exponent",
	  { { "8e2", RR_BAD, 0, 0, "'8e2' is not an RR interval" } } },
	{ "/import/rr/bad/hex",
	  { { "0x320", RR_BAD, 0, 0, "'0x320' is not an RR interval" } } },
	{ "/import/rr/bad/two-columns",
	  { { "900", RR_BEAT, 900, 900 },
	    { "2026-03-02 07:05:01;812", RR_BAD, 0, 0,
	      "'2026-03-02 07:05:01;812' is not an RR interval" } } },
	{ "/import/rr/bad/decimal-comma",
	  { { "812,5", RR_BAD, 0, 0, "'812,5' is not an RR interval" } } },
	{ "/import/rr/bad/dot-only",
	  { { ".", RR_BAD, 0, 0, "'.' is not an RR interval" } } },
	{ "/import/rr/bad/below",
	  { { "99", RR_BAD, 0, 0, "RR interval '99' is not 100-5000 ms" } } },
	{ "/import/rr/bad/above",
	  { { "5001", RR_BAD, 0, 0,
	      "RR interval '5001' is not 100-5000 ms" } } },
	{ "/import/rr/bad/zero",
	  { { "0", RR_BAD, 0, 0, "RR interval '0' is not 100-5000 ms" } } },
	{ "/import/rr/bad/seconds",
	  { { "0.812", RR_BAD, 0, 0,
	      "RR interval '0.812' is not 100-5000 ms (in seconds? the file "
	      "must hold milliseconds)" } } },
	/* Control characters are not printed as they are. */
	{ "/import/rr/bad/control",
	  { { "9\x1b[2J00", RR_BAD, 0, 0, "'9?[2J00' is not" } } },
};

/* 2026-03-02T07:05:00+01:00 */
#define RR_START INT64_C(1772431500000)

static void test_rr(gconstpointer data)
{
	const struct rr_vector *v = data;
	struct import_rr_reader reader;

	import_rr_reader_init(&reader, RR_START, NOW);
	for (size_t i = 0; i < G_N_ELEMENTS(v->lines) && v->lines[i].text;
	     i++) {
		const struct rr_line *l = &v->lines[i];
		g_autofree char *reason = NULL;
		struct rr_sample beat = { -1, -1 };
		int r = import_rr_read_line(&reader, l->text, &beat, &reason);

		switch (l->kind) {
		case RR_SKIP:
			g_assert_cmpint(r, ==, 0);
			g_assert_null(reason);
			break;
		case RR_BEAT:
			g_assert_cmpint(r, ==, 1);
			g_assert_null(reason);
			g_assert_cmpint(beat.t_ms, ==,
					RR_START + l->t_offset_ms);
			g_assert_cmpfloat(beat.rr_ms, ==, l->rr_ms);
			break;
		case RR_BAD:
		default:
			g_assert_cmpint(r, ==, -1);
			g_assert_nonnull(reason);
			if (!strstr(reason, l->reason))
				g_error("reason \"%s\" lacks \"%s\"", reason,
					l->reason);
			break;
		}
	}
}

/* A line of any length makes a reason of bounded length. */
static void test_rr_long_line(void)
{
	g_autofree char *line = g_strnfill(100000, '7');
	g_autofree char *reason = NULL;
	struct import_rr_reader reader;
	struct rr_sample beat;

	import_rr_reader_init(&reader, RR_START, NOW);
	g_assert_cmpint(import_rr_read_line(&reader, line, &beat, &reason), ==,
			-1);
	g_assert_nonnull(strstr(reason, "... (100000 bytes)"));
	g_assert_cmpuint(strlen(reason), <, 200);
	line[50000] = 'x';
	g_clear_pointer(&reason, g_free);
	g_assert_cmpint(import_rr_read_line(&reader, line, &beat, &reason), ==,
			-1);
	g_assert_nonnull(strstr(reason, "... (100000 bytes) is not an RR"));
	g_assert_cmpuint(strlen(reason), <, 200);
}

/* A field of any length makes a reason of bounded length, with its length
 * named: each field in turn. */
static void test_row_long_fields(void)
{
	g_autofree char *big = g_strnfill(10 * 1000 * 1000, '9');

	for (int i = 0; i < 4; i++) {
		const char *fields[] = { "2026-03-01T22:15:00Z", "alice",
					 "hr_bpm", "60" };
		g_autofree char *line = NULL;
		g_autofree char *reason = NULL;
		struct import_row row;

		fields[i] = big;
		line = g_strjoin(",", fields[0], fields[1], fields[2],
				 fields[3], NULL);
		g_assert_false(import_parse_row(line, NOW, &row, &reason));
		g_test_message("%s", reason);
		g_assert_nonnull(strstr(reason, "... (10000000 bytes)"));
		g_assert_cmpuint(strlen(reason), <, 400);
	}
}

/* A recording whose beats run more than a day past now: the beat that
 * does is refused, the ones before are taken. */
static void test_rr_future(void)
{
	g_autofree char *reason = NULL;
	struct import_rr_reader reader;
	struct rr_sample beat;

	import_rr_reader_init(&reader, NOW + INT64_C(86400000) - 1500, NOW);
	g_assert_cmpint(import_rr_read_line(&reader, "1000", &beat, &reason),
			==, 1);
	g_assert_cmpint(import_rr_read_line(&reader, "1000", &beat, &reason),
			==, -1);
	g_assert_nonnull(strstr(reason, "more than a day ahead of now"));
	g_clear_pointer(&reason, g_free);

	import_rr_reader_init(&reader, INT64_C(946684800000) - 5000, NOW);
	g_assert_cmpint(import_rr_read_line(&reader, "1000", &beat, &reason),
			==, -1);
	g_assert_nonnull(strstr(reason, "before 2000-01-01"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		g_test_add_data_func(rows[i].name, &rows[i], test_row);
	for (size_t i = 0; i < G_N_ELEMENTS(rr_vectors); i++)
		g_test_add_data_func(rr_vectors[i].name, &rr_vectors[i],
				     test_rr);
	g_test_add_func("/import/rr/long-line", test_rr_long_line);
	g_test_add_func("/import/row/long-fields", test_row_long_fields);
	g_test_add_func("/import/rr/future", test_rr_future);
	return g_test_run();
}
