// SPDX-License-Identifier: MIT
/*
 * Ten weeks of a simulated household through the real analysis: the
 * scenario generator's raw readings -> night analysis -> load -> score ->
 * advice, day by day, as the daemon runs them. Asserts the advice sequence
 * the scenario's events call for, the true length of both DST nights, and
 * scores equal to a hand computation from the night metrics. Then single
 * people's stories (DESIGN §6): a healthy person over several seeds (easy-only
 * on at most 15 % of scored mornings, early warning on at most 10 %),
 * burnout, a load-driven dip, and flat motivation, each state's entry and
 * exit. Then three weeks of a person who sleeps without a strap and does
 * the morning spot check, and of one whose band sends no RR (DESIGN §4-§5).
 * Last, the demo household (four people, 56 days): at least 10 of the 11
 * states between them. `test-scenario --verbose` prints every day and the
 * share of each state.
 */
#include <math.h>

#include <glib.h>

#include <json-glib/json-glib.h>

#include "gateway/core/analyze.h"
#include "gateway/core/report.h"
#include "gateway/engine/assign.h"
#include "gateway/core/clock.h"
#include "gateway/engine/recovery.h"
#include "gateway/core/scenario.h"

#define DAYS 70

/* One person's samples of one scenario day. */
struct day_samples {
	GArray *rr, *hr, *bed, *motion, *weights, *checkins;
};

static void day_samples_init(struct day_samples *d)
{
	d->rr = g_array_new(FALSE, FALSE, sizeof(struct rr_sample));
	d->hr = g_array_new(FALSE, FALSE, sizeof(struct hr_sample));
	d->bed = g_array_new(FALSE, FALSE, sizeof(struct state_sample));
	d->motion = g_array_new(FALSE, FALSE, sizeof(struct state_sample));
	d->weights = g_array_new(FALSE, FALSE, sizeof(struct weight_sample));
	d->checkins = g_array_new(FALSE, FALSE, sizeof(struct checkin_sample));
}

static void day_samples_clear(struct day_samples *d)
{
	g_array_unref(d->rr);
	g_array_unref(d->hr);
	g_array_unref(d->bed);
	g_array_unref(d->motion);
	g_array_unref(d->weights);
	g_array_unref(d->checkins);
}

struct household {
	/* A story's person may be any demo person. */
	struct day_samples people[SCENARIO_DEMO_PEOPLE];
	struct assign_person recent[SCENARIO_PEOPLE];
	unsigned weigh_ins[SCENARIO_DEMO_PEOPLE];
	bool scale_user_matches;
	bool one_person; /* a story's person alone: no shared scale */
};

static void on_rr(void *data, int person, int64_t t_ms, double rr_ms)
{
	struct household *h = data;
	struct rr_sample s = { t_ms, rr_ms };

	g_array_append_val(h->people[person].rr, s);
}

static void on_hr(void *data, int person, int64_t t_ms, double bpm)
{
	struct household *h = data;
	struct hr_sample s = { t_ms, bpm };

	g_array_append_val(h->people[person].hr, s);
}

static void on_bed(void *data, int person, int64_t t_ms, bool on)
{
	struct household *h = data;
	struct state_sample s = { t_ms, on };

	g_array_append_val(h->people[person].bed, s);
}

static void on_motion(void *data, int person, int64_t t_ms, bool on)
{
	struct household *h = data;
	struct state_sample s = { t_ms, on };

	g_array_append_val(h->people[person].motion, s);
}

static void on_weight(void *data, int person, int scale_user, int64_t t_ms,
		      double kg, double fat)
{
	struct household *h = data;
	struct weight_sample s = { t_ms, kg, fat };

	/* The shared Mi scale sends no user index: the gateway tells people
	 * apart by configured weight ranges, and by their latest weights. */
	const struct assign_person ranges[SCENARIO_PEOPLE] = {
		{ 0, 45, 70, NAN },
		{ 0, 70, 100, NAN },
	};

	if (h->one_person) {
		h->weigh_ins[person]++;
		g_array_append_val(h->people[person].weights, s);
		return;
	}
	if (assign_weight(ranges, SCENARIO_PEOPLE, 0, kg) != person)
		h->scale_user_matches = false;
	if (h->weigh_ins[0] && h->weigh_ins[1] &&
	    assign_weight(h->recent, SCENARIO_PEOPLE, 0, kg) != person)
		h->scale_user_matches = false;
	h->recent[person].recent_kg = kg;
	(void)scale_user;
	h->weigh_ins[person]++;
	g_array_append_val(h->people[person].weights, s);
}

static void on_checkin(void *data, int person, int64_t t_ms, double mood,
		       double soreness, double energy)
{
	struct household *h = data;
	struct checkin_sample s = { t_ms, mood, soreness, energy };

	g_array_append_val(h->people[person].checkins, s);
}

static const struct scenario_sink sink = {
	.rr = on_rr,
	.hr = on_hr,
	.bed = on_bed,
	.motion = on_motion,
	.weight = on_weight,
	.checkin = on_checkin,
};

/* prev + cur, keeping what lies at or after @from (and, for the bed, the
 * last state before it). */
static GArray *join(GArray *prev, GArray *cur, size_t elem, int64_t from,
		    bool keep_last_before)
{
	GArray *out = g_array_new(FALSE, FALSE, (guint)elem);
	GArray *parts[2] = { prev, cur };
	const void *last_before = NULL;

	for (int p = 0; p < 2; p++) {
		for (guint i = 0; i < parts[p]->len; i++) {
			const char *item = parts[p]->data + i * elem;
			/* every sample struct starts with its int64 time */
			int64_t t;

			memcpy(&t, item, sizeof(t));
			if (t < from) {
				last_before = item;
				continue;
			}
			if (last_before && keep_last_before) {
				g_array_append_vals(out, last_before, 1);
				last_before = NULL;
			}
			g_array_append_vals(out, item, 1);
		}
	}
	return out;
}

struct run {
	const char *first_date;
	int dst_index; /* the night of the DST change */
	double dst_expected_tib_min;
	struct night_metrics nights[SCENARIO_PEOPLE][DAYS];
	struct recovery_day days[DAYS];
	bool scale_user_matches;
	unsigned weigh_ins[SCENARIO_PEOPLE];
};

static void collect_day(const struct recovery_day *d, void *data)
{
	struct run *run = data;
	int32_t first;
	int index;

	g_assert_true(clock_day_parse(run->first_date, &first));
	index = d->day - first;
	g_assert_cmpint(index, >=, 0);
	g_assert_cmpint(index, <, DAYS);
	run->days[index] = *d;
}

/* One person's day @i analysed from their samples of that day and the day
 * before (as the store would hand them over); @cur becomes @prev. */
static void analyze_day(const clock_zone *zone, int32_t day,
			struct day_samples *prev, struct day_samples *cur,
			struct night_metrics *ret)
{
	struct analyze_person person;
	int64_t from = clock_day_start_ms(zone, day - 1);
	struct store_span span = {
		.rr = join(prev->rr, cur->rr, sizeof(struct rr_sample), from,
			   false),
		.hr = join(prev->hr, cur->hr, sizeof(struct hr_sample), from,
			   false),
		.bed = join(prev->bed, cur->bed, sizeof(struct state_sample),
			    from, true),
		.motion = join(prev->motion, cur->motion,
			       sizeof(struct state_sample), from, false),
		.weights = join(prev->weights, cur->weights,
				sizeof(struct weight_sample), from, false),
		.checkins = join(prev->checkins, cur->checkins,
				 sizeof(struct checkin_sample), from, false),
	};

	analyze_person_defaults(&person, 1);
	analyze_metrics(zone, &person, day, &span, ret);
	store_span_clear(&span);
	day_samples_clear(prev);
	*prev = *cur;
	day_samples_init(cur);
}

static void run_scenario(struct run *run, const clock_zone *zone)
{
	struct household h = {
		.scale_user_matches = true,
		.recent = { { 0, 0, 0, NAN }, { 0, 0, 0, NAN } },
	};
	struct day_samples prev[SCENARIO_PEOPLE];
	struct scenario sc = { .seed = 20261126, .days = DAYS, .zone = zone };
	struct recovery_params params = { .score = { .sleep_need_min = 480 } };

	g_assert_true(clock_day_parse(run->first_date, &sc.first_day));
	for (int p = 0; p < SCENARIO_PEOPLE; p++) {
		day_samples_init(&prev[p]);
		day_samples_init(&h.people[p]);
	}

	for (int i = 0; i < DAYS; i++) {
		int32_t day = sc.first_day + i;

		scenario_emit_day(&sc, i, &sink, &h);
		for (int p = 0; p < SCENARIO_PEOPLE; p++)
			analyze_day(zone, day, &prev[p], &h.people[p],
				    &run->nights[p][i]);
	}
	for (int p = 0; p < SCENARIO_PEOPLE; p++) {
		day_samples_clear(&prev[p]);
		day_samples_clear(&h.people[p]);
		run->weigh_ins[p] = h.weigh_ins[p];
	}
	run->scale_user_matches = h.scale_user_matches;

	/* Every night is kept, as the store keeps them: the missed one
	 * carries only its morning check-in. */
	g_assert_cmpint(recovery_replay(run->nights[0], DAYS, sc.first_day,
					sc.first_day + DAYS - 1, &params,
					collect_day, run),
			==, 0);
}

static enum advice_state state_at(const struct run *run, int index)
{
	return run->days[index].advice.state;
}

static int first_state_in(const struct run *run, enum advice_state state,
			  int from, int to)
{
	for (int i = from; i <= to && i < DAYS; i++)
		if (state_at(run, i) == state)
			return i;
	return -1;
}

static void print_run(const struct run *run)
{
	for (int i = 0; i < DAYS; i++) {
		const struct recovery_day *d = &run->days[i];

		g_test_message(
		    "day %2d %-9s score %3d z %5.2f tib %5.0f sleep "
		    "%5.0f ln %.3f rhr %5.1f load %6.1f %s",
		    i,
		    scenario_event_of(0, i) == SCENARIO_NORMAL ? "" : "(event)",
		    d->score.score, d->score.z_total, d->night.time_in_bed_min,
		    d->night.sleep_min, d->night.ln_rmssd,
		    d->night.resting_hr_bpm, d->night.load_trimp,
		    advice_state_name(d->advice.state));
	}
}

/* The score recomputed by hand from DESIGN §5, for checking score.c. */
static int hand_score(const struct run *run, int index)
{
	const struct night_metrics *tonight = &run->nights[0][index];
	double ln_sum = 0, ln_sq = 0, rhr_sum = 0, rhr_sq = 0;
	int ln_n = 0, rhr_n = 0;
	double z_sum = 0, w_sum = 0, z, mean, sd, cm;

	for (int i = index - 60; i < index; i++) {
		const struct night_metrics *n;

		if (i < 0)
			continue;
		n = &run->nights[0][i];
		if (metric_present(n->ln_rmssd)) {
			ln_sum += n->ln_rmssd;
			ln_sq += n->ln_rmssd * n->ln_rmssd;
			ln_n++;
		}
		if (metric_present(n->resting_hr_bpm)) {
			rhr_sum += n->resting_hr_bpm;
			rhr_sq += n->resting_hr_bpm * n->resting_hr_bpm;
			rhr_n++;
		}
	}
	mean = ln_sum / ln_n;
	sd = fmax(sqrt((ln_sq - ln_n * mean * mean) / (ln_n - 1)), 0.05);
	z = fmin(fmax((tonight->ln_rmssd - mean) / sd, -3), 2);
	z_sum += 0.40 * z;
	w_sum += 0.40;

	mean = rhr_sum / rhr_n;
	sd = fmax(sqrt((rhr_sq - rhr_n * mean * mean) / (rhr_n - 1)), 1.0);
	z = fmin(fmax(-(tonight->resting_hr_bpm - mean) / sd, -3), 2);
	z_sum += 0.20 * z;
	w_sum += 0.20;

	z = fmin((tonight->sleep_min - 480) / 60, 1) +
	    fmin((tonight->sleep_efficiency_pct - 85) / 10, 0.5);
	z_sum += 0.25 * fmin(fmax(z, -3), 2);
	w_sum += 0.25;

	cm = (tonight->mood + tonight->energy + 6 - tonight->soreness) / 3 - 3;
	z_sum += 0.10 * fmin(fmax(cm, -3), 2);
	w_sum += 0.10;

	/* Load: the score's own ACWR (checked against loads elsewhere). */
	if (run->days[index].score.load.present) {
		z_sum += 0.05 * run->days[index].score.load.z;
		w_sum += 0.05;
	}
	return (int)fmin(fmax(round(70 + 15 * z_sum / w_sum), 0), 100);
}

static void check_run(struct run *run)
{
	int dip, empty, comeback, stale;

	print_run(run);

	/* The shared scale: both people weighed in, each told apart. */
	g_assert_true(run->scale_user_matches);
	g_assert_cmpuint(run->weigh_ins[0], >=, DAYS - 1);
	g_assert_cmpuint(run->weigh_ins[1], ==, DAYS);

	/* Calibration first: no score until 7 earlier nights with HRV. */
	for (int i = 0; i < 7; i++) {
		g_assert_cmpint(state_at(run, i), ==, ADVICE_CALIBRATING);
		g_assert_cmpint(run->days[i].score.score, ==, -1);
	}
	g_assert_cmpint(run->days[7].score.score, >=, 0);

	/* The isolated bad night is a one-off dip, never a slump. */
	dip = first_state_in(run, ADVICE_ONE_OFF_DIP, 16, 16);
	g_assert_cmpint(dip, ==, 16);
	g_assert_cmpint(first_state_in(run, ADVICE_RUNNING_ON_EMPTY, 7, 29), ==,
			-1);

	/* The slump starts on day 30: running on empty within 3 days. */
	empty = first_state_in(run, ADVICE_RUNNING_ON_EMPTY, 30, 35);
	g_assert_cmpint(empty, >=, 30);
	g_assert_cmpint(empty, <=, 32);

	/* Then the comeback, after the last running-on-empty day. */
	comeback = first_state_in(run, ADVICE_COMEBACK, 36, 49);
	g_assert_cmpint(comeback, >, 35);
	for (int i = comeback; i < 50; i++)
		g_assert_cmpint(state_at(run, i), !=, ADVICE_RUNNING_ON_EMPTY);

	/* ... at least 3 mornings of it, and nothing primed before. */
	for (int i = 36; i < comeback; i++)
		g_assert_cmpint(state_at(run, i), !=, ADVICE_PRIMED);
	for (int i = comeback; i < comeback + 3; i++)
		g_assert_cmpint(state_at(run, i), ==, ADVICE_COMEBACK);

	/* Each state ends with its event: the dip the next morning. */
	g_assert_cmpint(state_at(run, 17), !=, ADVICE_ONE_OFF_DIP);
	/* The slump is recognised early: its first morning is a warning,
	 * its second already an easy-only day. */
	g_assert_cmpint(state_at(run, 30), ==, ADVICE_EARLY_WARNING);
	g_assert_true(advice_state_easy_only(state_at(run, 31)));
	g_assert_cmpint(first_state_in(run, ADVICE_EARLY_WARNING, 7, 29), ==,
			-1);

	/* The missed night is a gap, not a zero. */
	g_assert_cmpint(state_at(run, 42), ==, ADVICE_NO_DATA);
	g_assert_cmpint(run->days[42].score.score, ==, -1);
	g_assert_false(metric_present(run->days[42].night.sleep_min));
	g_assert_cmpint(state_at(run, 43), !=, ADVICE_NO_DATA);

	/* A week of the same session: stale. */
	stale = first_state_in(run, ADVICE_STALE, 50, 59);
	g_assert_cmpint(stale, >=, 51);
	g_assert_cmpint(first_state_in(run, ADVICE_STALE, 7, 49), ==, -1);

	/* The DST night has its true length; its neighbours 8 hours. */
	g_assert_cmpfloat(fabs(run->nights[0][run->dst_index].time_in_bed_min -
			       run->dst_expected_tib_min),
			  <, 25.0);
	g_assert_cmpfloat(
	    fabs(run->nights[0][run->dst_index - 1].time_in_bed_min - 480.0), <,
	    25.0);

	/* Scores equal a hand computation on ordinary and event nights. */
	{
		const int checked[] = { 10, 16, 24, 31, 47, 58 };

		for (size_t i = 0; i < G_N_ELEMENTS(checked); i++) {
			int index = checked[i];

			g_test_message("day %d: score %d, by hand %d", index,
				       run->days[index].score.score,
				       hand_score(run, index));
			g_assert_cmpint(run->days[index].score.score, ==,
					hand_score(run, index));
		}
	}
}

static void test_spring(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(clock_zone) zone = clock_zone_new("Europe/Berlin", &error);
	g_autofree struct run *run = g_new0(struct run, 1);

	if (!zone) {
		g_test_skip("no tzdata for Europe/Berlin (install tzdata)");
		return;
	}
	/* 2026-03-02 + 27 days = 2026-03-29, when clocks go forward. */
	run->first_date = "2026-03-02";
	run->dst_index = 27;
	run->dst_expected_tib_min = 420;
	run_scenario(run, zone);
	check_run(run);
}

static void test_autumn(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(clock_zone) zone = clock_zone_new("Europe/Berlin", &error);
	g_autofree struct run *run = g_new0(struct run, 1);

	if (!zone) {
		g_test_skip("no tzdata for Europe/Berlin (install tzdata)");
		return;
	}
	/* 2026-09-28 + 27 days = 2026-10-25, when clocks go back. */
	run->first_date = "2026-09-28";
	run->dst_index = 27;
	run->dst_expected_tib_min = 540;
	run_scenario(run, zone);
	check_run(run);
}

/* --- one person's story ------------------------------------------------ */

#define STORY_DAYS 70

struct story_run {
	int32_t first_day;
	struct night_metrics nights[STORY_DAYS];
	struct recovery_day days[STORY_DAYS];
};

static void collect_story_day(const struct recovery_day *d, void *data)
{
	struct story_run *run = data;
	int index = d->day - run->first_day;

	g_assert_cmpint(index, >=, 0);
	g_assert_cmpint(index, <, STORY_DAYS);
	run->days[index] = *d;
}

static const clock_zone *berlin(void)
{
	static clock_zone *zone;

	if (!zone)
		zone = clock_zone_new("Europe/Berlin", NULL);
	return zone;
}

/* Sees each day's own samples (@cur) before they are analysed. */
typedef void (*story_day_fn)(int index, const struct day_samples *cur,
			     void *data);

/* @story lived by @person's body under @seed from @first_date, analysed
 * and replayed as the daemon does it; NULL when there is no tzdata. @fn
 * (may be NULL) sees each day's samples first. */
static struct story_run *run_story_full(enum scenario_story story, int person,
					uint64_t seed, const char *first_date,
					story_day_fn fn, void *fn_data)
{
	const clock_zone *zone = berlin();
	struct household h = { .one_person = true };
	struct day_samples prev;
	struct scenario sc = { .seed = seed, .days = STORY_DAYS, .zone = zone };
	struct recovery_params params = {
		.score = { .sleep_need_min = 480 },
		.club_days = 1 << 1 | 1 << 5, /* tue, sat */
		.goal = "to clear my head",
		.bedtime_known = true,
		.bedtime_min = SCENARIO_BEDTIME_MIN,
	};
	struct story_run *run;

	if (!zone)
		return NULL;
	run = g_new0(struct story_run, 1);
	g_assert_true(clock_day_parse(first_date, &sc.first_day));
	run->first_day = sc.first_day;
	day_samples_init(&prev);
	for (int p = 0; p < SCENARIO_DEMO_PEOPLE; p++)
		day_samples_init(&h.people[p]);
	for (int i = 0; i < STORY_DAYS; i++) {
		scenario_emit_story_day(&sc, story, person, i, &sink, &h);
		if (fn)
			fn(i, &h.people[person], fn_data);
		analyze_day(zone, sc.first_day + i, &prev, &h.people[person],
			    &run->nights[i]);
	}
	day_samples_clear(&prev);
	for (int p = 0; p < SCENARIO_DEMO_PEOPLE; p++)
		day_samples_clear(&h.people[p]);
	g_assert_cmpint(recovery_replay(run->nights, STORY_DAYS, sc.first_day,
					sc.first_day + STORY_DAYS - 1, &params,
					collect_story_day, run),
			==, 0);
	return run;
}

static struct story_run *run_story_from(enum scenario_story story, int person,
					uint64_t seed, const char *first_date)
{
	return run_story_full(story, person, seed, first_date, NULL, NULL);
}

/* From a Monday in spring, DST included, @fn seeing each day's samples. */
static struct story_run *run_story_days(enum scenario_story story, int person,
					uint64_t seed, story_day_fn fn,
					void *fn_data)
{
	return run_story_full(story, person, seed, "2026-03-02", fn, fn_data);
}

/* From a Monday in spring, DST included. */
static struct story_run *run_story(enum scenario_story story, int person,
				   uint64_t seed)
{
	return run_story_from(story, person, seed, "2026-03-02");
}

static enum advice_state story_state(const struct story_run *run, int i)
{
	return run->days[i].advice.state;
}

static int story_first(const struct story_run *run, enum advice_state state,
		       int from, int to)
{
	for (int i = from; i <= to && i < STORY_DAYS; i++)
		if (story_state(run, i) == state)
			return i;
	return -1;
}

static int story_count(const struct story_run *run, enum advice_state state,
		       int from, int to)
{
	int n = 0;

	for (int i = from; i <= to && i < STORY_DAYS; i++)
		n += story_state(run, i) == state;
	return n;
}

static void print_story(const struct story_run *run, enum scenario_story story)
{
	int shares[ADVICE_STATE_COUNT] = { 0 };
	int scored = 0;
	GString *line = g_string_new("shares:");

	for (int i = 0; i < STORY_DAYS; i++) {
		const struct recovery_day *d = &run->days[i];
		const struct load_trend *t = &d->score.load_trend;

		g_test_message(
		    "day %2d %-3s score %3d ln %.3f/7d %.3f rhr %5.1f load "
		    "%5.0f/%5.0f mood %g energy %g %-16s %s",
		    i,
		    scenario_story_event(story, i) == SCENARIO_NORMAL ? ""
								      : "(e)",
		    d->score.score, d->night.ln_rmssd,
		    d->score.baseline.ln_rmssd_7d, d->night.resting_hr_bpm,
		    t->acute, t->chronic, d->night.mood, d->night.energy,
		    advice_state_name(d->advice.state), d->advice.headline);
		/* A state's first morning in full, as the runner reads it. */
		if (i == 0 ||
		    d->advice.state != run->days[i - 1].advice.state) {
			g_test_message("  push: %s", d->advice.push_text);
			g_test_message("  detail: %s", d->advice.detail);
			for (size_t k = 0; k < d->advice.action_count; k++)
				g_test_message("  action: %s",
					       d->advice.actions[k]);
			for (size_t k = 0; k < d->advice.reason_count; k++)
				g_test_message("  reason: %s",
					       d->advice.reasons[k]);
		}
		if (d->score.score >= 0) {
			scored++;
			shares[d->advice.state]++;
		}
	}
	for (int st = 0; st < ADVICE_STATE_COUNT; st++)
		if (shares[st])
			g_string_append_printf(
			    line, " %s %.0f %%",
			    advice_state_name((enum advice_state)st),
			    100.0 * shares[st] / scored);
	g_test_message("%s (of %d scored mornings)", line->str, scored);
	g_string_free(line, TRUE);
}

/* A healthy person: easy-only on at most 15 % of scored mornings, early
 * warning on at most 10 % (DESIGN §6), whatever the seed. */
struct healthy_vector {
	const char *name;
	uint64_t seed;
	int person;
};

static const struct healthy_vector healthy_vectors[] = {
	{ "/scenario/healthy/seed-1/person-0", 1, 0 },
	{ "/scenario/healthy/seed-1/person-1", 1, 1 },
	{ "/scenario/healthy/seed-7/person-0", 7, 0 },
	{ "/scenario/healthy/seed-7/person-1", 7, 1 },
	{ "/scenario/healthy/seed-42/person-0", 42, 0 },
	{ "/scenario/healthy/seed-42/person-1", 42, 1 },
	{ "/scenario/healthy/seed-20261126/person-0", 20261126, 0 },
	{ "/scenario/healthy/seed-20261126/person-1", 20261126, 1 },
	{ "/scenario/healthy/seed-99991/person-0", 99991, 0 },
	{ "/scenario/healthy/seed-99991/person-1", 99991, 1 },
};

static void test_healthy(gconstpointer data)
{
	const struct healthy_vector *v = data;
	g_autofree struct story_run *run =
	    run_story(SCENARIO_STORY_HEALTHY, v->person, v->seed);
	int scored = 0, easy = 0, warning = 0;

	if (!run) {
		g_test_skip("no tzdata for Europe/Berlin (install tzdata)");
		return;
	}
	print_story(run, SCENARIO_STORY_HEALTHY);
	for (int i = 0; i < STORY_DAYS; i++) {
		const struct recovery_day *d = &run->days[i];

		if (d->score.score < 0)
			continue;
		scored++;
		easy += advice_state_easy_only(d->advice.state);
		warning += d->advice.state == ADVICE_EARLY_WARNING;
		/* Ordinary variation is never a slump. */
		g_assert_cmpint(d->advice.state, !=, ADVICE_RUNNING_ON_EMPTY);
		g_assert_cmpint(d->advice.state, !=, ADVICE_OVERREACHING);
	}
	g_assert_cmpint(scored, >=, STORY_DAYS - 8);
	g_test_message("easy-only %d, early-warning %d of %d", easy, warning,
		       scored);
	g_assert_cmpfloat(easy, <=, 0.15 * scored);
	g_assert_cmpfloat(warning, <=, 0.10 * scored);
}

/* After the last slump day before @to: comeback on at least 3 mornings in
 * a row before any primed. Returns the first comeback day. */
static int assert_comeback_holds(const struct story_run *run, int from, int to)
{
	int last_slump = -1, first;

	for (int i = from; i <= to; i++)
		if (story_state(run, i) == ADVICE_RUNNING_ON_EMPTY ||
		    story_state(run, i) == ADVICE_OVERREACHING)
			last_slump = i;
	g_assert_cmpint(last_slump, >=, 0);
	first =
	    story_first(run, ADVICE_COMEBACK, last_slump + 1, last_slump + 14);
	g_assert_cmpint(first, >, last_slump);
	for (int i = last_slump + 1; i < first + 3; i++)
		g_assert_cmpint(story_state(run, i), !=, ADVICE_PRIMED);
	for (int i = first; i < first + 3; i++)
		g_assert_cmpint(story_state(run, i), ==, ADVICE_COMEBACK);
	return first;
}

struct story_vector {
	const char *name;
	enum scenario_story story;
	uint64_t seed;
	int person;
};

static const struct story_vector story_vectors[] = {
	{ "/scenario/burnout/seed-5", SCENARIO_STORY_BURNOUT, 5, 0 },
	{ "/scenario/burnout/seed-11", SCENARIO_STORY_BURNOUT, 11, 0 },
	{ "/scenario/burnout/seed-77/person-1", SCENARIO_STORY_BURNOUT, 77, 1 },
	{ "/scenario/overreach/seed-5", SCENARIO_STORY_OVERREACH, 5, 0 },
	{ "/scenario/overreach/seed-11", SCENARIO_STORY_OVERREACH, 11, 0 },
	{ "/scenario/overreach/seed-77/person-1", SCENARIO_STORY_OVERREACH, 77,
	  1 },
	{ "/scenario/flat/seed-5", SCENARIO_STORY_FLAT, 5, 0 },
	{ "/scenario/flat/seed-11", SCENARIO_STORY_FLAT, 11, 0 },
	{ "/scenario/flat/seed-77/person-1", SCENARIO_STORY_FLAT, 77, 1 },
};

/* Burnout without load: running on empty by its 3rd day, never
 * overreaching; then a comeback of at least 3 mornings before primed. */
static void check_burnout(const struct story_run *run)
{
	int empty = story_first(run, ADVICE_RUNNING_ON_EMPTY, 28, 45);

	g_assert_cmpint(empty, >=, 28);
	g_assert_cmpint(empty, <=, 30);
	g_assert_cmpint(story_first(run, ADVICE_RUNNING_ON_EMPTY, 7, 27), ==,
			-1);
	/* It holds while the burnout lasts: no training-plan advice. */
	for (int i = empty; i <= 37; i++)
		g_assert_true(advice_state_easy_only(story_state(run, i)));
	g_assert_cmpint(story_count(run, ADVICE_OVERREACHING, 0, 69), ==, 0);
	assert_comeback_holds(run, 28, 40);
	/* Exits: no slump state once recovered. */
	g_assert_cmpint(story_first(run, ADVICE_RUNNING_ON_EMPTY, 42, 69), ==,
			-1);
}

/* A load-driven dip: overreaching, never running on empty. */
static void check_overreach(const struct story_run *run)
{
	int over = story_first(run, ADVICE_OVERREACHING, 24, 34);

	g_assert_cmpint(over, >=, 24);
	g_assert_cmpint(over, <=, 27);
	g_assert_cmpint(story_count(run, ADVICE_RUNNING_ON_EMPTY, 0, 69), ==,
			0);
	g_assert_cmpint(story_first(run, ADVICE_OVERREACHING, 0, 23), ==, -1);
	assert_comeback_holds(run, 24, 34);
	g_assert_cmpint(story_first(run, ADVICE_OVERREACHING, 36, 69), ==, -1);
}

/* Flat motivation with a fine body: stale, never a slump or a warning. */
static void check_flat(const struct story_run *run)
{
	int stale = story_first(run, ADVICE_STALE, 28, 41);

	g_assert_cmpint(stale, >=, 28);
	g_assert_cmpint(stale, <=, 30);
	for (int i = 30; i <= 41; i++) {
		enum advice_state st = story_state(run, i);

		g_assert_false(advice_state_easy_only(st));
		g_assert_cmpint(st, !=, ADVICE_EARLY_WARNING);
		g_assert_cmpint(st, !=, ADVICE_COMEBACK);
	}
	/* Stale on most of those days; gone once the energy is back. */
	g_assert_cmpint(story_count(run, ADVICE_STALE, 30, 41), >=, 9);
	g_assert_cmpint(story_count(run, ADVICE_STALE, 44, 69), ==, 0);
}

static void test_story(gconstpointer data)
{
	const struct story_vector *v = data;
	g_autofree struct story_run *run =
	    run_story(v->story, v->person, v->seed);

	if (!run) {
		g_test_skip("no tzdata for Europe/Berlin (install tzdata)");
		return;
	}
	print_story(run, v->story);
	/* Calibration, then a score: entry into and exit from calibrating. */
	for (int i = 0; i < 7; i++)
		g_assert_cmpint(story_state(run, i), ==, ADVICE_CALIBRATING);
	g_assert_cmpint(story_first(run, ADVICE_CALIBRATING, 7, 69), ==, -1);
	switch (v->story) {
	case SCENARIO_STORY_BURNOUT:
		check_burnout(run);
		break;
	case SCENARIO_STORY_OVERREACH:
		check_overreach(run);
		break;
	case SCENARIO_STORY_FLAT:
		check_flat(run);
		break;
	case SCENARIO_STORY_HOUSEHOLD:
	case SCENARIO_STORY_HEALTHY:
	case SCENARIO_STORY_SPOT:
	case SCENARIO_STORY_NO_RR:
	default:
		g_assert_not_reached();
	}
	/* Every morning's texts keep the rules, in a real run too. */
	for (int i = 0; i < STORY_DAYS; i++) {
		const struct advice *a = &run->days[i].advice;

		g_assert_cmpuint(a->action_count, >=, 1);
		g_assert_cmpuint(a->action_count, <=, ADVICE_MAX_ACTIONS);
		g_assert_cmpuint(g_utf8_strlen(a->push_text, -1), <=,
				 ADVICE_PUSH_MAX_CHARS);
		if (i > 0)
			g_assert_cmpstr(a->detail, !=,
					run->days[i - 1].advice.detail);
	}
}

/* --- the demo household ------------------------------------------------ */

/* What demo mode runs (gateway/demo-run.c): its seed and its 56 days. */
#define DEMO_SEED 20260302
#define DEMO_DAYS 56

/* The spot-check story's events are its mornings: noisy checks and a
 * morning without one (scenario_spot_noisy, scenario_spot_taken). */
static bool story_has_events(enum scenario_story story, int days)
{
	for (int i = 0; i < days; i++) {
		enum scenario_event e = scenario_story_event(story, i);

		if (e != SCENARIO_NORMAL && e != SCENARIO_CALIBRATION)
			return true;
		if (story == SCENARIO_STORY_SPOT &&
		    (scenario_spot_noisy(i) || !scenario_spot_taken(i)))
			return true;
	}
	return false;
}

/*
 * The demo household through the same analysis, from a few first days (the
 * demo ends today, so its dates move; DST inside or not): between its
 * people at least 10 of the 11 advice states of DESIGN §6 in 56 days, one
 * person with no simulated events, every day's check-in in that day's
 * analysis, no push text over 200 characters. The share of each state per
 * person is printed with --verbose.
 */
static void test_demo_household(gconstpointer data)
{
	const char *first_date = data;
	struct story_run *runs[SCENARIO_DEMO_PEOPLE] = { 0 };
	bool seen[ADVICE_STATE_COUNT] = { false };
	int kinds = 0, eventless = 0;
	g_autoptr(GString) missing = g_string_new(NULL);

	for (int p = 0; p < SCENARIO_DEMO_PEOPLE; p++) {
		enum scenario_story story = scenario_demo_story(p);
		int count[ADVICE_STATE_COUNT] = { 0 };
		g_autoptr(GString) line = g_string_new(NULL);

		runs[p] = run_story_from(story, p, DEMO_SEED, first_date);
		if (!runs[p]) {
			g_test_skip("no tzdata for Europe/Berlin (install "
				    "tzdata)");
			return;
		}
		eventless += !story_has_events(story, DEMO_DAYS);
		for (int i = 0; i < DEMO_DAYS; i++) {
			const struct recovery_day *d = &runs[p]->days[i];

			count[d->advice.state]++;
			seen[d->advice.state] = true;
			/* The day's check-in is in the day's analysis. */
			g_assert_true(metric_present(d->night.mood));
			g_assert_true(metric_present(d->night.energy));
			g_assert_cmpuint(g_utf8_strlen(d->advice.push_text, -1),
					 <=, ADVICE_PUSH_MAX_CHARS);
		}
		for (int st = 0; st < ADVICE_STATE_COUNT; st++)
			if (count[st])
				g_string_append_printf(
				    line, " %s %d (%.0f %%)",
				    advice_state_name((enum advice_state)st),
				    count[st], 100.0 * count[st] / DEMO_DAYS);
		g_test_message("demo person %d (%s) from %s:%s", p,
			       story_has_events(story, DEMO_DAYS) ? "events"
								  : "no events",
			       first_date, line->str);
	}
	for (int st = 0; st < ADVICE_STATE_COUNT; st++) {
		if (seen[st])
			kinds++;
		else
			g_string_append_printf(
			    missing, " %s",
			    advice_state_name((enum advice_state)st));
	}
	g_test_message("%d of %d states; not shown:%s", kinds,
		       ADVICE_STATE_COUNT,
		       missing->len ? missing->str : " none");
	g_assert_cmpint(kinds, >=, 10);
	g_assert_cmpint(eventless, ==, 1);
	for (int p = 0; p < SCENARIO_DEMO_PEOPLE; p++)
		g_free(runs[p]);
}

/* --- the morning spot check and a band without RR (DESIGN §4-§5) ------ */

#define THREE_WEEKS	21
#define SPOT_GAP_MS	20000
#define SPOT_SETTLE_MS	30000
#define SPOT_MEASURE_MS 180000

/*
 * The spot check's RMSSD worked out here from the raw beats, DESIGN §4's
 * words taken literally: a session is a run of beats with no gap over
 * 20 s; the clean attempt is the last one; its first 30 s are dropped and
 * the next 180 s used, every successive difference counted (the story's
 * clean checks have no artefacts to clean). NAN without beats.
 */
static double independent_spot_rmssd(GArray *rr)
{
	const struct rr_sample *b = (const struct rr_sample *)(void *)rr->data;
	guint first = 0, n = rr->len;
	double sum = 0.0;
	int diffs = 0;
	int64_t from, to;

	if (n == 0)
		return NAN;
	for (guint i = 1; i < n; i++)
		if (b[i].t_ms - b[i - 1].t_ms > SPOT_GAP_MS)
			first = i;
	from = b[first].t_ms + SPOT_SETTLE_MS;
	to = from + SPOT_MEASURE_MS;
	for (guint i = first + 1; i < n; i++) {
		double d;

		if (b[i - 1].t_ms < from || b[i].t_ms > to)
			continue;
		d = b[i].rr_ms - b[i - 1].rr_ms;
		sum += d * d;
		diffs++;
	}
	return diffs ? sqrt(sum / diffs) : NAN;
}

struct spot_truth {
	double rmssd_ms[THREE_WEEKS];
};

static void keep_spot_truth(int index, const struct day_samples *cur,
			    void *data)
{
	struct spot_truth *t = data;

	if (index < THREE_WEEKS)
		t->rmssd_ms[index] = independent_spot_rmssd(cur->rr);
}

/* The day's state message, parsed. */
static JsonObject *state_of(const struct recovery_day *d, JsonParser *parser)
{
	g_autoptr(JsonNode) node = report_state_build(d);
	g_autofree char *text = json_to_string(node, FALSE);

	g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
	return json_node_get_object(json_parser_get_root(parser));
}

static bool has_reason(const struct advice *a, const char *needle)
{
	for (size_t i = 0; i < a->reason_count; i++)
		if (strstr(a->reasons[i], needle))
			return true;
	return false;
}

static void print_source_day(int i, const struct recovery_day *d)
{
	g_test_message(
	    "day %2d %-5s spot %-9s rmssd %5.1f rhr %5.1f sleep "
	    "%4.0f score %3d (%d/7) %s",
	    i, hrv_source_name(d->night.hrv_source),
	    spot_status_name(d->night.spot_status), d->night.rmssd_ms,
	    d->night.resting_hr_bpm, d->night.sleep_min, d->score.score,
	    d->score.calibration_count, advice_state_name(d->advice.state));
	g_test_message("  push: %s", d->advice.push_text);
	for (size_t k = 0; k < d->advice.reason_count; k++)
		g_test_message("  reason: %s", d->advice.reasons[k]);
}

/*
 * Three weeks of a person who sleeps without a strap and does the morning
 * spot check: each clean morning's RMSSD within 3 % of the independent
 * computation and the day's HRV source "spot"; no HRV from a noisy check,
 * with the reason in the state; a bed-sensor night whose resting HR is
 * never the spot check's; calibration over 7 clean spot checks, a score on
 * the morning after the 7th.
 */
static void test_spot_person(void)
{
	g_autofree struct spot_truth *truth = g_new0(struct spot_truth, 1);
	g_autofree struct story_run *run = run_story_days(
	    SCENARIO_STORY_SPOT, 0, 20260302, keep_spot_truth, truth);
	int clean = 0, first_score = -1;

	if (!run) {
		g_test_skip("no tzdata for Europe/Berlin (install tzdata)");
		return;
	}
	for (int i = 0; i < THREE_WEEKS; i++) {
		const struct recovery_day *d = &run->days[i];
		const struct night_metrics *n = &d->night;
		g_autoptr(JsonParser) parser = json_parser_new();
		JsonObject *state = state_of(d, parser);
		bool noisy = scenario_spot_noisy(i) && i != 12;

		print_source_day(i, d);
		/* The bed sensor's night, never the spot check's heart. */
		g_assert_true(metric_present(n->sleep_min));
		g_assert_cmpfloat(n->sleep_min, >, 360);
		g_assert_false(metric_present(n->resting_hr_bpm));
		g_assert_cmpint(n->hrv_windows, <, 6);

		if (!scenario_spot_taken(i)) {
			g_assert_cmpint(n->spot_status, ==, SPOT_NONE);
			g_assert_cmpint(n->hrv_source, ==, HRV_SOURCE_NONE);
			g_assert_false(json_object_has_member(state, "spot"));
		} else if (noisy) {
			g_assert_cmpint(n->spot_status, ==, SPOT_TOO_NOISY);
			g_assert_cmpint(n->hrv_source, ==, HRV_SOURCE_NONE);
			g_assert_false(metric_present(n->rmssd_ms));
			g_assert_false(d->score.hrv.present);
			g_assert_true(has_reason(
			    &d->advice, "spot check too noisy: lie still for "
					"3 minutes and try again"));
			g_assert_cmpstr(
			    json_object_get_string_member(
				json_object_get_object_member(state, "spot"),
				"reason"),
			    ==,
			    "spot check too noisy: lie still for 3 minutes "
			    "and try again");
			g_assert_cmpstr(
			    json_object_get_string_member(state, "hrv_source"),
			    ==, "none");
		} else {
			double want = truth->rmssd_ms[i];

			g_test_message("  RMSSD %.2f ms, independent %.2f ms "
				       "(%+.2f %%)",
				       n->rmssd_ms, want,
				       100.0 * (n->rmssd_ms - want) / want);
			g_assert_cmpint(n->spot_status, ==, SPOT_OK);
			g_assert_cmpint(n->hrv_source, ==, HRV_SOURCE_SPOT);
			g_assert_cmpfloat(fabs(n->rmssd_ms - want) / want, <,
					  0.03);
			g_assert_cmpfloat(n->rmssd_ms, ==, n->spot_rmssd_ms);
			g_assert_cmpstr(
			    json_object_get_string_member(state, "hrv_source"),
			    ==, "spot");
			g_assert_cmpstr(
			    json_object_get_string_member(
				json_object_get_object_member(state, "metrics"),
				"hrv_source"),
			    ==, "spot");
		}

		/* Calibrating on the spot checks until 7 were clean. */
		g_assert_cmpint(d->score.baseline.hrv_source, ==,
				HRV_SOURCE_SPOT);
		g_assert_cmpint(d->score.calibration_count, ==, clean);
		if (clean < 7) {
			g_assert_true(d->score.calibrating);
			g_assert_cmpint(d->advice.state, ==,
					ADVICE_CALIBRATING);
		} else {
			g_assert_false(d->score.calibrating);
			g_assert_cmpint(d->score.score, >=, 0);
			if (first_score < 0)
				first_score = i;
			/* A clean morning's score holds its HRV. */
			g_assert_cmpint(d->score.hrv.present, ==,
					n->hrv_source == HRV_SOURCE_SPOT);
		}
		clean += n->hrv_source == HRV_SOURCE_SPOT;
	}
	/* Seven clean checks by day 7 (day 3 was noisy): scored on day 8. */
	g_assert_cmpint(first_score, ==, 8);
}

/*
 * Three weeks of a person whose optical band sends heart rate but no RR:
 * a resting HR every night, the lowest 5-minute mean of its heart rate
 * (worked out here from the samples over the night's sleep); no RMSSD;
 * calibration on nights with a resting HR and a score after 7; the state
 * and the advice say the score has no HRV in it.
 */
static void test_no_rr_person(void)
{
	g_autoptr(GArray) hr =
	    g_array_new(FALSE, FALSE, sizeof(struct hr_sample));
	g_autofree struct story_run *run =
	    run_story_days(SCENARIO_STORY_NO_RR, 1, 20260302, NULL, NULL);
	int first_score = -1;

	if (!run) {
		g_test_skip("no tzdata for Europe/Berlin (install tzdata)");
		return;
	}
	/* The band's heart rate again, all of it, for the resting HR. */
	{
		struct household h = { .one_person = true };
		struct scenario sc = { .seed = 20260302,
				       .days = THREE_WEEKS,
				       .zone = berlin(),
				       .first_day = run->first_day };

		for (int p = 0; p < SCENARIO_PEOPLE; p++)
			day_samples_init(&h.people[p]);
		for (int i = 0; i < THREE_WEEKS; i++)
			scenario_emit_story_day(&sc, SCENARIO_STORY_NO_RR, 1, i,
						&sink, &h);
		g_assert_cmpuint(h.people[1].rr->len, ==, 0);
		g_array_append_vals(hr, h.people[1].hr->data,
				    h.people[1].hr->len);
		for (int p = 0; p < SCENARIO_PEOPLE; p++)
			day_samples_clear(&h.people[p]);
	}

	for (int i = 0; i < THREE_WEEKS; i++) {
		const struct recovery_day *d = &run->days[i];
		const struct night_metrics *n = &d->night;
		const struct hr_sample *x = (const void *)hr->data;
		g_autoptr(JsonParser) parser = json_parser_new();
		JsonObject *state = state_of(d, parser);
		double lowest = INFINITY;

		print_source_day(i, d);
		g_assert_cmpint(n->sleep_onset_ms, >, 0);
		/* Windows of 5 minutes from sleep onset to waking. */
		for (int64_t t = n->sleep_onset_ms; t < n->wake_ms;
		     t += 300000) {
			int64_t end = MIN(t + 300000, n->wake_ms);
			double sum = 0;
			int count = 0;

			for (guint k = 0; k < hr->len; k++) {
				if (x[k].t_ms >= t && x[k].t_ms < end) {
					sum += x[k].bpm;
					count++;
				}
			}
			if (count >= 3)
				lowest = MIN(lowest, sum / count);
		}
		g_test_message("  resting HR %.2f, independent %.2f",
			       n->resting_hr_bpm, lowest);
		g_assert_true(metric_present(n->resting_hr_bpm));
		g_assert_cmpfloat(fabs(n->resting_hr_bpm - lowest), <, 0.01);
		/* The generator's resting rate is 58 bpm (+/- 1 a night). */
		g_assert_cmpfloat(n->resting_hr_bpm, >, 54);
		g_assert_cmpfloat(n->resting_hr_bpm, <, 63);

		g_assert_false(metric_present(n->rmssd_ms));
		g_assert_cmpint(n->beats, ==, 0);
		g_assert_cmpint(n->hrv_source, ==, HRV_SOURCE_NONE);
		g_assert_cmpint(d->score.baseline.hrv_source, ==,
				HRV_SOURCE_NONE);
		g_assert_cmpint(d->score.calibration_count, ==, MIN(i, 60));
		g_assert_cmpstr(
		    json_object_get_string_member(state, "hrv_source"), ==,
		    "none");
		g_assert_false(d->score.hrv.present);
		if (i < 7) {
			g_assert_true(d->score.calibrating);
			g_assert_cmpint(d->advice.state, ==,
					ADVICE_CALIBRATING);
			g_assert_true(
			    has_reason(&d->advice, "sends no RR intervals"));
		} else {
			g_assert_false(d->score.calibrating);
			g_assert_cmpint(d->score.score, >=, 0);
			g_assert_true(d->score.rhr.present);
			g_assert_true(has_reason(&d->advice,
						 "no HRV in this score: your "
						 "heart-rate band sends no RR "
						 "intervals"));
			if (first_score < 0)
				first_score = i;
		}
	}
	g_assert_cmpint(first_score, ==, 7);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scenario/spring", test_spring);
	g_test_add_func("/scenario/autumn", test_autumn);
	for (size_t i = 0; i < G_N_ELEMENTS(healthy_vectors); i++)
		g_test_add_data_func(healthy_vectors[i].name,
				     &healthy_vectors[i], test_healthy);
	for (size_t i = 0; i < G_N_ELEMENTS(story_vectors); i++)
		g_test_add_data_func(story_vectors[i].name, &story_vectors[i],
				     test_story);
	g_test_add_data_func("/scenario/demo-household/spring", "2026-03-02",
			     test_demo_household);
	g_test_add_data_func("/scenario/demo-household/summer", "2026-06-01",
			     test_demo_household);
	g_test_add_data_func("/scenario/demo-household/autumn", "2026-09-14",
			     test_demo_household);
	g_test_add_data_func("/scenario/demo-household/winter", "2026-12-07",
			     test_demo_household);
	g_test_add_func("/scenario/spot-check", test_spot_person);
	g_test_add_func("/scenario/no-rr", test_no_rr_person);
	return g_test_run();
}
