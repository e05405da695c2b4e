// SPDX-License-Identifier: MIT
/*
 * Analysis speed: run on demand, not a test.
 *
 *   build/tests/bench/bench-analysis
 *
 * (a) one night of the scenario household (about 30,000 RR intervals and
 *     as many heart-rate samples, bed and motion) through night analysis and
 *     the day's training load;
 * (b) score and advice replayed over 5 years of stored nights.
 * Each figure is the median of 7 rounds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <glib.h>

#include "gateway/core/analyze.h"
#include "gateway/engine/recovery.h"
#include "gateway/core/scenario.h"

#define ROUNDS 7

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void on_rr(void *data, int person, int64_t t, double rr)
{
	struct store_span *s = data;
	struct rr_sample x = { t, rr };

	if (person == 0)
		g_array_append_val(s->rr, x);
}

static void on_hr(void *data, int person, int64_t t, double bpm)
{
	struct store_span *s = data;
	struct hr_sample x = { t, bpm };

	if (person == 0)
		g_array_append_val(s->hr, x);
}

static void on_bed(void *data, int person, int64_t t, bool on)
{
	struct store_span *s = data;
	struct state_sample x = { t, on };

	if (person == 0)
		g_array_append_val(s->bed, x);
}

static void on_motion(void *data, int person, int64_t t, bool on)
{
	struct store_span *s = data;
	struct state_sample x = { t, on };

	if (person == 0)
		g_array_append_val(s->motion, x);
}

static void count_day(const struct recovery_day *d, void *data)
{
	unsigned *days = data;

	(*days) += d->score.score >= 0;
}

int main(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(clock_zone) zone = clock_zone_new("UTC", &error);
	struct store_span span;
	const struct scenario_sink sink = {
		.rr = on_rr,
		.hr = on_hr,
		.bed = on_bed,
		.motion = on_motion,
	};
	struct scenario sc = { .seed = 1, .first_day = 20500, .zone = zone };
	struct analyze_person person;
	struct recovery_params params = { .score = { .sleep_need_min = 480 } };
	struct night_metrics m;
	double rounds[ROUNDS];
	struct night_metrics *years;
	const int nights = 5 * 365 + 1;
	unsigned scored = 0;

	if (!zone) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	store_span_init(&span);
	analyze_person_defaults(&person, 1);
	scenario_emit_day(&sc, 9, &sink, &span);
	for (int r = 0; r < ROUNDS; r++) {
		double start = now_ms();

		for (int i = 0; i < 20; i++)
			analyze_metrics(zone, &person, sc.first_day + 9, &span,
					&m);
		rounds[r] = (now_ms() - start) / 20;
	}
	qsort(rounds, ROUNDS, sizeof(double), cmp_double);
	printf("(a) one night: %u RR, %u HR samples, %u motion reports: "
	       "%.2f ms (goal <= 20 ms); RMSSD %.1f ms, sleep %.0f min\n",
	       span.rr->len, span.hr->len, span.motion->len, rounds[ROUNDS / 2],
	       m.rmssd_ms, m.sleep_min);

	/* Five years of nights with day-to-day variation and a weekly
	 * training rhythm. */
	years = g_new(struct night_metrics, nights);
	for (int i = 0; i < nights; i++) {
		struct night_metrics *n = &years[i];

		*n = night_metrics_empty(20000 + i);
		n->window_start_ms = 1;
		n->ln_rmssd = 4.0 + 0.1 * sin(i * 0.7) + 0.05 * cos(i * 1.3);
		n->rmssd_ms = exp(n->ln_rmssd);
		n->resting_hr_bpm = 52 + 1.5 * sin(i * 0.9);
		n->sleep_min = 450 + 20 * sin(i * 0.5);
		n->sleep_efficiency_pct = 90;
		n->mood = 3 + (i % 3);
		n->soreness = 2;
		n->energy = 4;
		n->load_trimp = (i % 7) == 3 ? 0 : 40 + (i % 5) * 15;
	}
	for (int r = 0; r < ROUNDS; r++) {
		double start = now_ms();

		scored = 0;
		recovery_replay(years, (size_t)nights, years[0].day,
				years[nights - 1].day, &params, count_day,
				&scored);
		rounds[r] = now_ms() - start;
	}
	qsort(rounds, ROUNDS, sizeof(double), cmp_double);
	printf("(b) re-scoring 5 years: %d nights, %u scored, score and "
	       "advice each day: %.2f ms (goal <= 50 ms)\n",
	       nights, scored, rounds[ROUNDS / 2]);
	g_free(years);
	store_span_clear(&span);
	return 0;
}
