// SPDX-License-Identifier: MIT
/*
 * recoveryctl import, history and export as a person uses them: the real
 * binary (RECOVERYCTL), a real SQLite file, and nine days of the scenario
 * household written as CSV with a few bad rows in it. Checks that bad rows
 * are reported by line and the good ones still land, that the store-backed
 * pipeline scores the same as the pure one, that importing twice changes
 * nothing, and that export -> import round-trips. Then a plain RR file
 * (one interval in ms a line) imported for one person.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gateway/core/analyze.h"
#include "gateway/core/clock.h"
#include "gateway/engine/recovery.h"
#include "gateway/core/scenario.h"
#include "tests/support/test-support.h"

#define DAYS	   9
#define FIRST_DATE "2026-03-02"
#define ZONE	   "Europe/Berlin"

struct writer {
	FILE *f;
	unsigned lines;
	unsigned good;
	/* person 0's samples, for the pure pipeline */
	struct store_span span[DAYS];
	int day;
};

static const char *const names[SCENARIO_PEOPLE] = { "alice", "bob" };

static void write_row(struct writer *w, int person, int64_t t_ms,
		      const char *kind, double value)
{
	time_t s = (time_t)(t_ms / 1000);
	struct tm tm;
	char number[G_ASCII_DTOSTR_BUF_SIZE];

	gmtime_r(&s, &tm);
	fprintf(w->f, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ,%s,%s,%s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (int)(t_ms % 1000), names[person], kind,
		g_ascii_formatd(number, sizeof(number), "%.6f", value));
	w->lines++;
	w->good++;
}

static void on_rr(void *data, int person, int64_t t, double rr)
{
	struct writer *w = data;
	/* The CSV carries 6 decimals: analyse what was written. */
	struct rr_sample x = { t, round(rr * 1e6) / 1e6 };

	/* Bob keeps his strap in the drawer: it keeps the file small. */
	if (person != 0)
		return;
	write_row(w, person, t, "rr_ms", rr);
	g_array_append_val(w->span[w->day].rr, x);
}

static void on_hr(void *data, int person, int64_t t, double bpm)
{
	struct writer *w = data;
	struct hr_sample x = { t, bpm };

	if (person != 0)
		return;
	write_row(w, person, t, "hr_bpm", bpm);
	g_array_append_val(w->span[w->day].hr, x);
}

static void on_bed(void *data, int person, int64_t t, bool on)
{
	struct writer *w = data;
	struct state_sample x = { t, on };

	write_row(w, person, t, "bed", on);
	if (person == 0)
		g_array_append_val(w->span[w->day].bed, x);
}

static void on_motion(void *data, int person, int64_t t, bool on)
{
	struct writer *w = data;
	struct state_sample x = { t, on };

	write_row(w, person, t, "motion", on);
	if (person == 0)
		g_array_append_val(w->span[w->day].motion, x);
}

static void on_weight(void *data, int person, int scale_user, int64_t t,
		      double kg, double fat)
{
	struct writer *w = data;
	struct weight_sample x = { t, kg, fat };

	write_row(w, person, t, "weight_kg", kg);
	write_row(w, person, t, "body_fat_pct", fat);
	if (person == 0)
		g_array_append_val(w->span[w->day].weights, x);
}

static void on_checkin(void *data, int person, int64_t t, double mood,
		       double soreness, double energy)
{
	struct writer *w = data;
	struct checkin_sample x = { t, mood, soreness, energy };

	write_row(w, person, t, "checkin_mood", mood);
	write_row(w, person, t, "checkin_soreness", soreness);
	write_row(w, person, t, "checkin_energy", energy);
	if (person == 0)
		g_array_append_val(w->span[w->day].checkins, x);
}

static int run(const char *args, char **ret_out, char **ret_err)
{
	const char *binary = g_getenv("RECOVERYCTL");
	g_auto(GStrv) argv = NULL;
	g_autofree char *line = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(binary);
	line = g_strdup_printf("%s %s", binary, args);
	g_assert_true(g_shell_parse_argv(line, NULL, &argv, &error));
	g_assert_no_error(error);
	return test_spawn((const char *const *)argv, NULL, ret_out, ret_err);
}

/* Scores of person 0 through the pure pipeline, for days 0..DAYS-1. */
struct pure_scores {
	int32_t first_day;
	int32_t score[DAYS];
	enum advice_state state[DAYS];
	char headline[DAYS][ADVICE_HEADLINE];
};

static void collect(const struct recovery_day *d, void *data)
{
	struct pure_scores *p = data;
	int i = d->day - p->first_day;

	p->score[i] = d->score.score;
	p->state[i] = d->advice.state;
	g_strlcpy(p->headline[i], d->advice.headline, sizeof(p->headline[i]));
}

static void pure_pipeline(struct writer *w, const clock_zone *zone,
			  int32_t first_day, struct pure_scores *ret)
{
	struct night_metrics nights[DAYS];
	struct analyze_person person;
	struct recovery_params params = { .score = { .sleep_need_min = 480 } };

	analyze_person_defaults(&person, 1);
	for (int i = 0; i < DAYS; i++) {
		/* Day i's night needs day i-1's evening too: join them. */
		struct store_span joined;

		store_span_init(&joined);
		for (int d = i > 0 ? i - 1 : 0; d <= i; d++) {
			g_array_append_vals(joined.rr, w->span[d].rr->data,
					    w->span[d].rr->len);
			g_array_append_vals(joined.hr, w->span[d].hr->data,
					    w->span[d].hr->len);
			g_array_append_vals(joined.bed, w->span[d].bed->data,
					    w->span[d].bed->len);
			g_array_append_vals(joined.motion,
					    w->span[d].motion->data,
					    w->span[d].motion->len);
			g_array_append_vals(joined.weights,
					    w->span[d].weights->data,
					    w->span[d].weights->len);
			g_array_append_vals(joined.checkins,
					    w->span[d].checkins->data,
					    w->span[d].checkins->len);
		}
		analyze_metrics(zone, &person, first_day + i, &joined,
				&nights[i]);
		store_span_clear(&joined);
	}
	ret->first_day = first_day;
	g_assert_cmpint(recovery_replay(nights, DAYS, first_day,
					first_day + DAYS - 1, &params, collect,
					ret),
			==, 0);
}

static JsonArray *history_json(const char *db, const char *user,
			       JsonParser *parser)
{
	g_autofree char *args = g_strdup_printf(
	    "history --db %s --user %s --days 100 --json", db, user);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_true(json_parser_load_from_data(parser, out, -1, NULL));
	g_assert_true(JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser)));
	return json_node_get_array(json_parser_get_root(parser));
}

static JsonObject *history_day(JsonArray *a, const char *date)
{
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *o = json_array_get_object_element(a, i);

		if (g_str_equal(json_object_get_string_member(o, "date"), date))
			return o;
	}
	return NULL;
}

static void test_engine(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(clock_zone) zone = clock_zone_new(ZONE, &error);
	g_autofree char *dir = NULL;
	g_autofree char *csv = NULL, *db = NULL, *db2 = NULL, *csv2 = NULL;
	g_autofree char *out = NULL, *err = NULL, *args = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(JsonParser) parser2 = json_parser_new();
	struct writer w = { 0 };
	struct scenario sc = { .seed = 7, .days = DAYS };
	struct pure_scores pure = { 0 };
	const struct scenario_sink sink = {
		.rr = on_rr,
		.hr = on_hr,
		.bed = on_bed,
		.motion = on_motion,
		.weight = on_weight,
		.checkin = on_checkin,
	};
	unsigned bad_lines[3];
	JsonArray *history, *history2;
	g_autofree char *expect_import = NULL;

	if (!zone) {
		g_test_skip("no tzdata for " ZONE " (install tzdata)");
		return;
	}
	sc.zone = zone;
	g_assert_true(clock_day_parse(FIRST_DATE, &sc.first_day));
	dir = test_tmp_dir_new("recoveryctl-engine-XXXXXX");
	csv = g_build_filename(dir, "readings.csv", NULL);
	db = g_build_filename(dir, "recovery.db", NULL);
	db2 = g_build_filename(dir, "roundtrip.db", NULL);
	csv2 = g_build_filename(dir, "export.csv", NULL);

	/* The household's readings, with three bad lines among them. */
	w.f = fopen(csv, "w");
	g_assert_nonnull(w.f);
	fprintf(w.f, "time,user,kind,value\n");
	w.lines = 1;
	for (int i = 0; i < DAYS; i++) {
		store_span_init(&w.span[i]);
		w.day = i;
		scenario_emit_day(&sc, i, &sink, &w);
		if (i == 3) {
			fprintf(w.f, "2026-03-05T12:00:00,alice,rr_ms,900\n");
			bad_lines[0] = ++w.lines;
			fprintf(w.f,
				"2026-03-05T12:00:00+01:00,alice,steps,10\n");
			bad_lines[1] = ++w.lines;
			fprintf(w.f,
				"2026-03-05T12:00:00+01:00,alice,hr_bpm,999\n");
			bad_lines[2] = ++w.lines;
		}
	}
	fclose(w.f);

	/* Bad rows: reported by line, exit 1, the good rows still land. */
	args =
	    g_strdup_printf("import --db %s --timezone " ZONE " %s", db, csv);
	g_assert_cmpint(run(args, &out, &err), ==, 1);
	g_test_message("import: %s", out);
	for (int i = 0; i < 3; i++) {
		g_autofree char *where =
		    g_strdup_printf("%s:%u: ", csv, bad_lines[i]);

		if (!strstr(err, where))
			g_error("no error for line %u in: %s", bad_lines[i],
				err);
	}
	g_assert_nonnull(strstr(err, "is not ISO 8601 with an offset"));
	g_assert_nonnull(strstr(err, "unknown kind 'steps'"));
	g_assert_nonnull(strstr(err, "hr_bpm value '999' is not 20-300 bpm"));
	expect_import =
	    g_strdup_printf("imported %u rows for 2 people", w.good);
	g_assert_nonnull(strstr(out, expect_import));
	g_assert_nonnull(strstr(out, "3 rows rejected"));

	/* The store-backed pipeline scores as the pure one does. */
	pure_pipeline(&w, zone, sc.first_day, &pure);
	history = history_json(db, "alice", parser);
	for (int i = 0; i < DAYS; i++) {
		char date[16];
		JsonObject *o;

		clock_day_format(sc.first_day + i, date, sizeof(date));
		o = history_day(history, date);
		g_assert_nonnull(o);
		g_test_message("%s: store %" G_GINT64_FORMAT ", pure %d", date,
			       json_object_get_null_member(o, "score")
				   ? -1
				   : json_object_get_int_member(o, "score"),
			       pure.score[i]);
		if (pure.score[i] < 0) {
			g_assert_true(json_object_get_null_member(o, "score"));
		} else {
			g_assert_cmpint(json_object_get_int_member(o, "score"),
					==, pure.score[i]);
		}
		g_assert_true(json_object_has_member(o, "sleep_min"));
		g_assert_true(json_object_has_member(o, "rmssd_ms"));
		g_assert_cmpstr(json_object_get_string_member(o, "hrv_source"),
				==, "night");
		g_assert_true(json_object_has_member(o, "resting_hr_bpm"));
		g_assert_true(json_object_has_member(o, "weight_kg"));
		g_assert_true(json_object_has_member(o, "advice_state"));
		/* Each day's advice as it was told: the stored state
		 * message's, the same as the pure pipeline's. */
		{
			JsonObject *a =
			    json_object_get_object_member(o, "advice");

			g_assert_nonnull(a);
			g_assert_cmpstr(
			    json_object_get_string_member(a, "state"), ==,
			    json_object_get_string_member(o, "advice_state"));
			g_assert_cmpstr(
			    json_object_get_string_member(a, "state"), ==,
			    advice_state_name(pure.state[i]));
			g_assert_cmpstr(
			    json_object_get_string_member(a, "headline"), ==,
			    pure.headline[i]);
			g_assert_cmpuint(
			    json_array_get_length(
				json_object_get_array_member(a, "actions")),
			    >=, 1);
			g_assert_true(json_object_has_member(a, "reasons"));
			g_assert_true(json_object_has_member(a, "detail"));
		}
	}
	g_assert_cmpint(pure.score[DAYS - 1], >=, 0);

	/* The table a person reads. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf("history --db %s --user alice", db);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "date"));
	g_assert_nonnull(strstr(out, "calib"));
	g_assert_nonnull(strstr(out, "calibrating"));
	/* ... with each day's headline. */
	g_assert_nonnull(strstr(out, "headline"));
	g_assert_nonnull(strstr(out, pure.headline[DAYS - 1]));

	/* Importing the same file again changes nothing. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args =
	    g_strdup_printf("import --db %s --timezone " ZONE " %s", db, csv);
	g_assert_cmpint(run(args, &out, &err), ==, 1);
	history2 = history_json(db, "alice", parser2);
	g_assert_true(json_node_equal(json_parser_get_root(parser),
				      json_parser_get_root(parser2)));

	/* export -> import into a new database: the same history. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args =
	    g_strdup_printf("export --db %s --format csv --timezone " ZONE, db);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_true(g_file_set_contents(csv2, out, -1, NULL));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args =
	    g_strdup_printf("import --db %s --timezone " ZONE " %s", db2, csv2);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "derived rows"));
	{
		g_autoptr(JsonParser) parser3 = json_parser_new();

		(void)history_json(db2, "alice", parser3);
		g_assert_true(json_node_equal(json_parser_get_root(parser),
					      json_parser_get_root(parser3)));
	}
	(void)history2;

	/* JSON export: every reading and every day. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf("export --db %s --format json --user bob "
			       "--since 2026-03-05",
			       db);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	{
		g_autoptr(JsonParser) p = json_parser_new();
		JsonObject *root;

		g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
		root = json_node_get_object(json_parser_get_root(p));
		g_assert_cmpuint(
		    json_array_get_length(
			json_object_get_array_member(root, "readings")),
		    >, 20);
		g_assert_cmpuint(
		    json_array_get_length(
			json_object_get_array_member(root, "days")),
		    >=, 5);
	}

	/* Errors a person makes. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf("history --db %s --user carol", db);
	g_assert_cmpint(run(args, &out, &err), ==, 1);
	g_assert_nonnull(strstr(err, "no person 'carol' in the database "
				     "(known: alice, bob)"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run("import readings.csv", &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "--db PATH is required"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(
	    run("export --db /nonexistent/x.db --format csv", &out, &err), ==,
	    1);
	g_assert_nonnull(strstr(err, "no such database"));

	for (int i = 0; i < DAYS; i++)
		store_span_clear(&w.span[i]);
	test_remove_tree(dir);
}

static unsigned count_lines_with(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/*
 * A plain RR file (Elite HRV's export: a header, then one interval in ms a
 * line) for one person: filed as rr_ms rows timed from --start; a file with
 * a bad line is refused whole, with its line number and the value cut
 * short, and what was stored stays; --user without --start is a usage
 * error.
 */
static void test_import_rr(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(clock_zone) zone = clock_zone_new(ZONE, &error);
	g_autofree char *dir = NULL, *db = NULL, *good = NULL, *bad = NULL;
	g_autofree char *out = NULL, *err = NULL, *args = NULL;
	g_autofree char *long_value = g_strnfill(200, '8');
	g_autofree char *where = NULL;
	FILE *f;

	if (!zone) {
		g_test_skip("no tzdata for " ZONE " (install tzdata)");
		return;
	}
	dir = g_dir_make_tmp("recoveryctl-rr-XXXXXX", &error);
	g_assert_no_error(error);
	db = g_build_filename(dir, "recovery.db", NULL);
	good = g_build_filename(dir, "elite.txt", NULL);
	bad = g_build_filename(dir, "bad.txt", NULL);

	/* Five minutes of 950/1050 ms: 300 beats. */
	f = fopen(good, "w");
	g_assert_nonnull(f);
	fprintf(f, "RR\r\n");
	for (int i = 0; i < 300; i++)
		fprintf(f, "%d\r\n", i % 2 ? 1050 : 950);
	fclose(f);
	args =
	    g_strdup_printf("import --db %s --timezone " ZONE
			    " --user carol --start 2026-03-02T07:05:00+01:00 "
			    "%s",
			    db, good);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_test_message("import: %s%s", out, err);
	g_assert_nonnull(strstr(out, "imported 300 rows for 1 person"));

	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf("export --db %s --format csv --user carol "
			       "--timezone " ZONE,
			       db);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_cmpuint(count_lines_with(out, ",carol,rr_ms,"), ==, 300);
	/* Beat k ends at the start plus intervals 0..k. */
	g_assert_nonnull(
	    strstr(out, "2026-03-02T07:05:00.950+01:00,carol,rr_ms,950\n"));
	g_assert_nonnull(
	    strstr(out, "2026-03-02T07:05:02.000+01:00,carol,rr_ms,1050\n"));
	g_assert_nonnull(
	    strstr(out, "2026-03-02T07:10:00.000+01:00,carol,rr_ms,1050\n"));
	/* Five minutes at 07:05 with no night before: a morning spot check
	 * (DESIGN §4), RMSSD 100 ms, the day's HRV. */
	g_assert_nonnull(strstr(out, "2026-03-02,carol,rmssd_ms,100\n"));
	g_assert_nonnull(strstr(out, "2026-03-02,carol,hrv_source,spot\n"));
	{
		g_autoptr(JsonParser) parser = json_parser_new();
		JsonObject *o;

		o = history_day(history_json(db, "carol", parser),
				"2026-03-02");
		g_assert_nonnull(o);
		g_assert_cmpstr(json_object_get_string_member(o, "hrv_source"),
				==, "spot");
		g_assert_cmpfloat(json_object_get_double_member(o, "rmssd_ms"),
				  ==, 100.0);
		g_assert_cmpstr(
		    json_object_get_string_member(o, "advice_state"), ==,
		    "calibrating");
	}

	/* Line 43 is a typo, line 78 a runaway value: nothing imported. */
	f = fopen(bad, "w");
	g_assert_nonnull(f);
	fprintf(f, "RR\n");
	for (int line = 2; line <= 100; line++) {
		if (line == 43)
			fprintf(f, "8l2\n");
		else if (line == 78)
			fprintf(f, "%s\n", long_value);
		else
			fprintf(f, "%d\n", 800 + line);
	}
	fclose(f);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args =
	    g_strdup_printf("import --db %s --timezone " ZONE
			    " --user carol --start 2026-03-03T07:05:00+01:00 "
			    "%s",
			    db, bad);
	g_assert_cmpint(run(args, &out, &err), ==, 1);
	g_test_message("bad file: %s", err);
	where = g_strdup_printf("%s:43: '8l2' is not an RR interval "
				"(expected one number of milliseconds a line, "
				"100-5000 ms)",
				bad);
	g_assert_nonnull(strstr(err, where));
	g_clear_pointer(&where, g_free);
	where = g_strdup_printf("%s:78: RR interval '", bad);
	g_assert_nonnull(strstr(err, where));
	g_assert_nonnull(strstr(err, "... (200 bytes) is not 100-5000 ms"));
	g_assert_null(strstr(err, long_value));
	g_assert_nonnull(strstr(err, "2 bad lines, nothing imported"));

	/* What was stored before is all still there, and nothing more. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf("export --db %s --format csv --user carol "
			       "--timezone " ZONE,
			       db);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_cmpuint(count_lines_with(out, ",carol,rr_ms,"), ==, 300);

	/* Usage errors: exit 2, the store untouched. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf("import --db %s --user carol %s", db, good);
	g_assert_cmpint(run(args, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "--user needs --start ISO-TIME"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf("import --db %s --user carol --start "
			       "2026-03-02T07:05:00 %s",
			       db, good);
	g_assert_cmpint(run(args, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "is not ISO 8601 with an offset"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args = g_strdup_printf(
	    "import --db %s --start 2026-03-02T07:05:00+01:00 %s", db, good);
	g_assert_cmpint(run(args, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "it needs --user NAME"));

	g_remove(good);
	g_remove(bad);
	{
		const char *suffixes[] = { "", "-wal", "-shm" };

		for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			g_autofree char *a = g_strconcat(db, suffixes[i], NULL);

			g_remove(a);
		}
	}
	g_rmdir(dir);
}

/*
 * An RR-only night (a Polar or Elite HRV RR file, no heart-rate rows)
 * imported with `import --user --start`: the night gets a resting HR, the
 * lowest 5-minute mean of 60,000 / RR (DESIGN §4). Eight hours of
 * 980/1020 ms (60 bpm) with half an hour of 1100 ms (54.5 bpm) at 03:00:
 * every 5-minute window inside that half hour is the lowest.
 */
static void test_import_rr_night(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(clock_zone) zone = clock_zone_new(ZONE, &error);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree char *dir = NULL, *db = NULL, *file = NULL;
	g_autofree char *out = NULL, *err = NULL, *args = NULL;
	JsonArray *days;
	JsonObject *night = NULL;
	double t_s = 0;
	FILE *f;

	if (!zone) {
		g_test_skip("no tzdata for " ZONE " (install tzdata)");
		return;
	}
	dir = test_tmp_dir_new("recoveryctl-rr-night-XXXXXX");
	db = g_build_filename(dir, "recovery.db", NULL);
	file = g_build_filename(dir, "night.txt", NULL);
	f = fopen(file, "w");
	g_assert_nonnull(f);
	/* From 23:00 to 07:00; 03:00-03:30 is 4 h to 4.5 h in. */
	for (unsigned i = 0; t_s < 8 * 3600.0; i++) {
		int rr = t_s >= 4 * 3600.0 && t_s < 4.5 * 3600.0 ? 1100
			 : i % 2				 ? 1020
								 : 980;

		fprintf(f, "%d\n", rr);
		t_s += rr / 1000.0;
	}
	fclose(f);
	args = g_strdup_printf("import --db %s --timezone " ZONE
			       " --user dora --start 2026-03-01T23:00:00+01:00 "
			       "%s",
			       db, file);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_test_message("import: %s%s", out, err);

	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&args, g_free);
	args =
	    g_strdup_printf("history --user dora --db %s --json --days 60", db);
	g_assert_cmpint(run(args, &out, &err), ==, 0);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	days = json_node_get_array(json_parser_get_root(parser));
	for (guint i = 0; i < json_array_get_length(days); i++) {
		JsonObject *d = json_array_get_object_element(days, i);

		if (g_str_equal(json_object_get_string_member(d, "date"),
				"2026-03-02"))
			night = d;
	}
	g_assert_nonnull(night);
	g_assert_true(json_object_has_member(night, "resting_hr_bpm"));
	g_assert_cmpfloat_with_epsilon(
	    json_object_get_double_member(night, "resting_hr_bpm"),
	    60000.0 / 1100.0, 0.1);
	g_assert_true(json_object_has_member(night, "rmssd_ms"));
	test_remove_tree(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/recoveryctl/engine", test_engine);
	g_test_add_func("/recoveryctl/import-rr", test_import_rr);
	g_test_add_func("/recoveryctl/import-rr-night", test_import_rr_night);
	return g_test_run();
}
