// SPDX-License-Identifier: MIT
#include <math.h>

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
	{ "/import/bad/derived-kind-with-time",
	  "2026-03-01T23:15:00+01:00,alice,score,70", false, false, 0, NULL, 0,
	  0, "unknown kind 'score'" },
};

static void test_row(gconstpointer data)
{
	const struct row_vector *v = data;
	g_autofree char *reason = NULL;
	struct import_row row;

	g_assert_cmpint(import_parse_row(v->line, &row, &reason), ==, v->ok);
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		g_test_add_data_func(rows[i].name, &rows[i], test_row);
	return g_test_run();
}
