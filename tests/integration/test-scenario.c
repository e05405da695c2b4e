// SPDX-License-Identifier: MIT
/*
 * Ten weeks of a simulated household through the real analysis: the
 * scenario generator's raw readings -> night analysis -> load -> score ->
 * advice, day by day, as the daemon runs them. Asserts the advice sequence
 * the scenario's events call for, the true length of both DST nights, and
 * scores equal to a hand computation from the night metrics.
 */
#include <math.h>

#include <glib.h>

#include "gateway/core/analyze.h"
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
	struct day_samples people[SCENARIO_PEOPLE];
	struct assign_person recent[SCENARIO_PEOPLE];
	unsigned weigh_ins[SCENARIO_PEOPLE];
	bool scale_user_matches;
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

static void run_scenario(struct run *run, const clock_zone *zone)
{
	struct household h = {
		.scale_user_matches = true,
		.recent = { { 0, 0, 0, NAN }, { 0, 0, 0, NAN } },
	};
	struct day_samples prev[SCENARIO_PEOPLE];
	struct scenario sc = { .seed = 20261126, .days = DAYS, .zone = zone };
	struct analyze_person person;
	struct recovery_params params = { .score = { .sleep_need_min = 480 } };

	g_assert_true(clock_day_parse(run->first_date, &sc.first_day));
	analyze_person_defaults(&person, 1);
	for (int p = 0; p < SCENARIO_PEOPLE; p++) {
		day_samples_init(&prev[p]);
		day_samples_init(&h.people[p]);
	}

	for (int i = 0; i < DAYS; i++) {
		int32_t day = sc.first_day + i;

		scenario_emit_day(&sc, i, &sink, &h);
		for (int p = 0; p < SCENARIO_PEOPLE; p++) {
			int64_t from = clock_day_start_ms(zone, day - 1);
			struct day_samples *c = &h.people[p];
			struct store_span span = {
				.rr =
				    join(prev[p].rr, c->rr,
					 sizeof(struct rr_sample), from, false),
				.hr =
				    join(prev[p].hr, c->hr,
					 sizeof(struct hr_sample), from, false),
				.bed = join(prev[p].bed, c->bed,
					    sizeof(struct state_sample), from,
					    true),
				.motion = join(prev[p].motion, c->motion,
					       sizeof(struct state_sample),
					       from, false),
				.weights = join(prev[p].weights, c->weights,
						sizeof(struct weight_sample),
						from, false),
				.checkins = join(prev[p].checkins, c->checkins,
						 sizeof(struct checkin_sample),
						 from, false),
			};

			analyze_metrics(zone, &person, day, &span,
					&run->nights[p][i]);
			store_span_clear(&span);
			day_samples_clear(&prev[p]);
			prev[p] = *c;
			day_samples_init(c);
		}
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

	/* The missed night is a gap, not a zero. */
	g_assert_cmpint(state_at(run, 42), ==, ADVICE_NO_DATA);
	g_assert_cmpint(run->days[42].score.score, ==, -1);
	g_assert_false(metric_present(run->days[42].night.sleep_min));

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scenario/spring", test_spring);
	g_test_add_func("/scenario/autumn", test_autumn);
	return g_test_run();
}
