// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/engine/score.h"

/*
 * Every expected value below is worked out by hand from DESIGN §5, so a
 * change in the arithmetic shows up as a failing vector, not a new number.
 *
 * The reference history H7 (7 earlier nights, oldest first):
 *   ln RMSSD 4.0 4.1 3.9 4.0 4.1 3.9 4.0: mean 4.0; squared deviations
 *   0 .01 .01 0 .01 .01 0 = 0.04; sample variance 0.04 / 6 = 0.006667;
 *   SD 0.08165.
 *   resting HR 50 52 54 52 50 54 52: mean 52; squared deviations
 *   4 0 4 0 4 4 0 = 16; variance 16 / 6 = 2.667; SD 1.633.
 * Weights: HRV 0.40, RHR 0.20, sleep 0.25, check-in 0.10, load 0.05.
 * score = clamp(round(70 + 15 Z), 0, 100); red <= 33, green >= 67.
 */

#define N	    NAN
#define TODAY	    1000
#define MAX_EARLIER 8
#define EPS	    1e-3

#define H7_LN                                                                  \
	{                                                                      \
		4.0, 4.1, 3.9, 4.0, 4.1, 3.9, 4.0                              \
	}
#define H7_RHR                                                                 \
	{                                                                      \
		50, 52, 54, 52, 50, 54, 52                                     \
	}
#define FLAT_LN                                                                \
	{                                                                      \
		4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0                              \
	}
#define NO_RHR                                                                 \
	{                                                                      \
		N, N, N, N, N, N, N, N                                         \
	}

/* Tonight: ln RMSSD, resting HR, sleep min, efficiency %, mood, soreness,
 * energy; N where absent. */
struct tonight {
	double ln, rhr, sleep_min, eff_pct, mood, soreness, energy;
};

#define ONLY_LN(v)                                                             \
	{                                                                      \
		v, N, N, N, N, N, N                                            \
	}
#define ONLY_RHR(v)                                                            \
	{                                                                      \
		N, v, N, N, N, N, N                                            \
	}
#define ONLY_SLEEP(min, eff)                                                   \
	{                                                                      \
		N, N, min, eff, N, N, N                                        \
	}
#define NOTHING                                                                \
	{                                                                      \
		N, N, N, N, N, N, N                                            \
	}

/* Earlier nights; ages (days before tonight) all 0 means consecutive days
 * ending yesterday. */
struct history {
	size_t earlier;
	int32_t age[MAX_EARLIER];
	double ln[MAX_EARLIER];
	double rhr[MAX_EARLIER];
};

#define H7                                                                     \
	{                                                                      \
		7, { 0 }, H7_LN, H7_RHR                                        \
	}

struct score_vector {
	const char *name;
	struct history h;
	struct tonight t;
	bool calibrating;
	int32_t score;
	enum score_zone zone;
	/* expected clamped z per component; N: absent */
	double z_hrv, z_rhr, z_sleep, z_checkin;
};

static const struct score_vector vectors[] = {
	/* (3.8 - 4.0) / 0.08165 = -2.449; 70 - 36.74 = 33.26 -> 33, red */
	{ "/score/hrv/alone", H7, ONLY_LN(3.8), false, 33, SCORE_ZONE_RED,
	  -2.449, N, N, N },
	/* -(55 - 52) / 1.633 = -1.837; 70 - 27.56 = 42.44 -> 42 */
	{ "/score/rhr/alone", H7, ONLY_RHR(55), false, 42, SCORE_ZONE_YELLOW, N,
	  -1.837, N, N },
	/* (450 - 480) / 60 = -0.5, plus min((90 - 85) / 10, 0.5) = 0.5 */
	{ "/score/sleep/neutral", H7, ONLY_SLEEP(450, 90), false, 70,
	  SCORE_ZONE_GREEN, N, N, 0.0, N },
	/* min(60 / 60, 1) + min(10 / 10, 0.5) = 1.5; 92.5 rounds to 93 */
	{ "/score/sleep/both-halves-capped", H7, ONLY_SLEEP(540, 95), false, 93,
	  SCORE_ZONE_GREEN, N, N, 1.5, N },
	/* (180 - 480) / 60 = -5 clamped to -3; 70 - 45 = 25 */
	{ "/score/sleep/clamped-low", H7, ONLY_SLEEP(180, 85), false, 25,
	  SCORE_ZONE_RED, N, N, -3.0, N },
	/* both are needed: efficiency absent leaves HRV alone (33) */
	{ "/score/sleep/needs-efficiency",
	  H7,
	  { 3.8, N, 450, N, N, N, N },
	  false,
	  33,
	  SCORE_ZONE_RED,
	  -2.449,
	  N,
	  N,
	  N },
	/* mean(mood 4, energy 5, 6 - soreness 2 = 4) = 4.333, z 1.333; but
	 * a check-in alone says nothing about the night: no score */
	{ "/score/checkin/alone",
	  H7,
	  { N, N, N, N, 4, 2, 5 },
	  false,
	  -1,
	  SCORE_ZONE_NONE,
	  N,
	  N,
	  N,
	  1.333 },
	/* with a neutral sleep (450 min: -0.5, 90 %: +0.5, z 0):
	 * Z = 0.10 x 1.333 / 0.35 = 0.381; 70 + 5.71 = 75.7 -> 76 */
	{ "/score/checkin/with-sleep",
	  H7,
	  { N, N, 450, 90, 4, 2, 5 },
	  false,
	  76,
	  SCORE_ZONE_GREEN,
	  N,
	  N,
	  0.0,
	  1.333 },
	/* soreness missing: no check-in component, HRV alone (33) */
	{ "/score/checkin/needs-all-three",
	  H7,
	  { 3.8, N, N, N, 5, N, 5 },
	  false,
	  33,
	  SCORE_ZONE_RED,
	  -2.449,
	  N,
	  N,
	  N },
	/* 0.40 (-2.449) + 0.20 (-1.837) + 0.25 (0) + 0.10 (1.333) = -1.2139
	 * over 0.95 = -1.2778; 70 - 19.17 = 50.83 -> 51 */
	{ "/score/four-components",
	  H7,
	  { 3.8, 55, 450, 90, 4, 2, 5 },
	  false,
	  51,
	  SCORE_ZONE_YELLOW,
	  -2.449,
	  -1.837,
	  0.0,
	  1.333 },
	/* No HRV tonight: 0.20 (-1.837) + 0.25 (1.5) = 0.00758 over 0.45
	 * = 0.0168; 70.25 -> 70 */
	{ "/score/renormalised/no-hrv",
	  H7,
	  { N, 55, 540, 95, N, N, N },
	  false,
	  70,
	  SCORE_ZONE_GREEN,
	  N,
	  -1.837,
	  1.5,
	  N },
	/* (3.5 - 4.0) / 0.08165 = -6.12 clamped to -3 -> 25 */
	{ "/score/clamp/low", H7, ONLY_LN(3.5), false, 25, SCORE_ZONE_RED, -3.0,
	  N, N, N },
	/* (4.4 - 4.0) / 0.08165 = +4.90 clamped to +2 -> 100 */
	{ "/score/clamp/high", H7, ONLY_LN(4.4), false, 100, SCORE_ZONE_GREEN,
	  2.0, N, N, N },
	/* seven nights of 4.0: SD 0, floored to 0.05; (3.95 - 4) / 0.05 = -1
	 * -> 55 */
	{ "/score/floor/ln-rmssd",
	  { 7, { 0 }, FLAT_LN, NO_RHR },
	  ONLY_LN(3.95),
	  false,
	  55,
	  SCORE_ZONE_YELLOW,
	  -1.0,
	  N,
	  N,
	  N },
	/* seven nights of 52 bpm: SD floored to 1; -(53.5 - 52) = -1.5;
	 * 70 - 22.5 = 47.5 -> 48 */
	{ "/score/floor/rhr",
	  { 7, { 0 }, FLAT_LN, { 52, 52, 52, 52, 52, 52, 52 } },
	  ONLY_RHR(53.5),
	  false,
	  48,
	  SCORE_ZONE_YELLOW,
	  N,
	  -1.5,
	  N,
	  N },
	/* one earlier night: its SD is the floor, (3.9 - 4.0) / 0.05 = -2;
	 * still calibrating, so no score */
	{ "/score/floor/single-night",
	  { 1, { 0 }, { 4.0 }, { 52 } },
	  { 3.9, 53, N, N, N, N, N },
	  true,
	  -1,
	  SCORE_ZONE_NONE,
	  -2.0,
	  -1.0,
	  N,
	  N },
	/* six earlier nights 4.0 4.1 3.9 4.0 4.1 3.9: mean 4.0, variance
	 * 0.04 / 5, SD 0.08944; z -2.236 is shown but there is no score */
	{ "/score/calibration/6-nights",
	  { 6, { 0 }, { 4.0, 4.1, 3.9, 4.0, 4.1, 3.9 }, NO_RHR },
	  ONLY_LN(3.8),
	  true,
	  -1,
	  SCORE_ZONE_NONE,
	  -2.236,
	  N,
	  N,
	  N },
	{ "/score/calibration/7-nights", H7, ONLY_LN(3.8), false, 33,
	  SCORE_ZONE_RED, -2.449, N, N, N },
	/* a night 61 days back is outside [D-60, D-1]: six count. Their ln
	 * RMSSD 4.1 3.9 4.0 4.1 3.9 4.0: mean 4.0, SD 0.08944 */
	{ "/score/gap/outside-baseline",
	  { 7, { 61, 6, 5, 4, 3, 2, 1 }, H7_LN, NO_RHR },
	  ONLY_LN(3.8),
	  true,
	  -1,
	  SCORE_ZONE_NONE,
	  -2.236,
	  N,
	  N,
	  N },
	/* no night yesterday: the same seven nights, a day earlier, still
	 * make the baseline; the missing day is not a night */
	{ "/score/gap/yesterday-missing",
	  { 7, { 8, 7, 6, 5, 4, 3, 2 }, H7_LN, NO_RHR },
	  ONLY_LN(3.8),
	  false,
	  33,
	  SCORE_ZONE_RED,
	  -2.449,
	  N,
	  N,
	  N },
	/* RHR tonight but none before: no baseline, no component; sleep
	 * alone gives 70 */
	{ "/score/rhr/needs-baseline",
	  { 7, { 0 }, H7_LN, NO_RHR },
	  { N, 55, 450, 90, N, N, N },
	  false,
	  70,
	  SCORE_ZONE_GREEN,
	  N,
	  N,
	  0.0,
	  N },
	{ "/score/none-present", H7, NOTHING, false, -1, SCORE_ZONE_NONE, N, N,
	  N, N },
	/* Zone edges through sleep alone, efficiency 85 (second half 0):
	 * -12 / 60 = -0.2 -> 67; -16 / 60 = -0.267 -> 66;
	 * -144 / 60 = -2.4 -> 34; -148 / 60 = -2.467 -> 33 */
	{ "/score/zone/67-green", H7, ONLY_SLEEP(468, 85), false, 67,
	  SCORE_ZONE_GREEN, N, N, -0.2, N },
	{ "/score/zone/66-yellow", H7, ONLY_SLEEP(464, 85), false, 66,
	  SCORE_ZONE_YELLOW, N, N, -0.267, N },
	{ "/score/zone/34-yellow", H7, ONLY_SLEEP(336, 85), false, 34,
	  SCORE_ZONE_YELLOW, N, N, -2.4, N },
	{ "/score/zone/33-red", H7, ONLY_SLEEP(332, 85), false, 33,
	  SCORE_ZONE_RED, N, N, -2.467, N },
};

/* Lays out the history and tonight as a store would hand them over. */
static size_t build(const struct history *h, const struct tonight *t,
		    struct night_metrics *out)
{
	size_t n = 0;

	for (size_t i = 0; i < h->earlier; i++) {
		int32_t age = h->age[0] ? h->age[i] : (int32_t)(h->earlier - i);

		out[n] = night_metrics_empty(TODAY - age);
		out[n].ln_rmssd = h->ln[i];
		out[n].resting_hr_bpm = h->rhr[i];
		n++;
	}
	out[n] = night_metrics_empty(TODAY);
	out[n].ln_rmssd = t->ln;
	out[n].resting_hr_bpm = t->rhr;
	out[n].sleep_min = t->sleep_min;
	out[n].sleep_efficiency_pct = t->eff_pct;
	out[n].mood = t->mood;
	out[n].soreness = t->soreness;
	out[n].energy = t->energy;
	return n + 1;
}

static void check_component(const struct score_component *c, double z,
			    double weight)
{
	g_assert_cmpfloat_with_epsilon(c->weight, weight, 1e-12);
	if (isnan(z)) {
		g_assert_false(c->present);
		return;
	}
	g_assert_true(c->present);
	g_assert_cmpfloat_with_epsilon(c->z, z, EPS);
}

static void test_vector(gconstpointer data)
{
	const struct score_vector *v = data;
	struct night_metrics nights[MAX_EARLIER + 1];
	struct score_params p = { .sleep_need_min = 480 };
	struct score_result r;
	size_t n = build(&v->h, &v->t, nights);

	memset(&r, 0xa5, sizeof(r));
	g_assert_cmpint(score_night(nights, n, &p, &r), ==, 0);
	g_assert_cmpint(r.day, ==, TODAY);
	g_assert_cmpint(r.calibrating, ==, v->calibrating);
	g_assert_cmpint(r.score, ==, v->score);
	g_assert_cmpint(r.zone, ==, v->zone);
	check_component(&r.hrv, v->z_hrv, 0.40);
	check_component(&r.rhr, v->z_rhr, 0.20);
	check_component(&r.sleep, v->z_sleep, 0.25);
	check_component(&r.checkin, v->z_checkin, 0.10);
	/* no load recorded anywhere: chronic 0, no ratio, no component */
	check_component(&r.load, N, 0.05);
	if (v->score >= 0)
		g_assert_cmpint(score_zone_of(r.score), ==, r.zone);
}

struct week_vector {
	const char *name;
	struct history h;
	struct tonight t;
	int32_t nights;
	double ln_mean, ln_sd, rhr_mean, rhr_sd;
	int32_t week_nights;
	double ln_7d, rhr_7d; /* N: fewer than 3 nights */
};

static const struct week_vector weeks[] = {
	/* [D-6, D] holds H7's last six and tonight:
	 * ln (4.1 + 3.9 + 4.0 + 4.1 + 3.9 + 4.0 + 3.8) / 7 = 27.8 / 7 = 3.9714
	 * RHR (52 + 54 + 52 + 50 + 54 + 52 + 55) / 7 = 369 / 7 = 52.714 */
	{ "/score/week/includes-tonight",
	  H7,
	  { 3.8, 55, N, N, N, N, N },
	  7,
	  4.0,
	  0.08165,
	  52,
	  1.633,
	  7,
	  3.9714,
	  52.714 },
	/* earlier nights at ages 12..8 and 2, 1; ln 4.0 4.1 3.9 4.0 4.1 | 3.9
	 * 4.0: the week is 3.9, 4.0 and tonight 3.8, mean 3.9 */
	{ "/score/week/three-nights",
	  { 7, { 12, 11, 10, 9, 8, 2, 1 }, H7_LN, NO_RHR },
	  ONLY_LN(3.8),
	  7,
	  4.0,
	  0.08165,
	  N,
	  N,
	  3,
	  3.9,
	  N },
	/* ages 13..7: only tonight falls in [D-6, D], too few for a mean */
	{ "/score/week/too-few",
	  { 7, { 13, 12, 11, 10, 9, 8, 7 }, H7_LN, H7_RHR },
	  { 3.8, 55, N, N, N, N, N },
	  7,
	  4.0,
	  0.08165,
	  52,
	  1.633,
	  1,
	  N,
	  N },
	/* no earlier nights: no baseline at all */
	{ "/score/week/first-night",
	  { 0 },
	  { 3.8, 55, N, N, N, N, N },
	  0,
	  N,
	  N,
	  N,
	  N,
	  1,
	  N,
	  N },
};

static void check_metric(double got, double want)
{
	if (isnan(want))
		g_assert_true(isnan(got));
	else
		g_assert_cmpfloat_with_epsilon(got, want, EPS);
}

static void test_week(gconstpointer data)
{
	const struct week_vector *v = data;
	struct night_metrics nights[MAX_EARLIER + 1];
	struct score_result r;
	size_t n = build(&v->h, &v->t, nights);

	g_assert_cmpint(score_night(nights, n, NULL, &r), ==, 0);
	g_assert_cmpint(r.baseline.nights, ==, v->nights);
	check_metric(r.baseline.ln_rmssd_mean, v->ln_mean);
	check_metric(r.baseline.ln_rmssd_sd, v->ln_sd);
	check_metric(r.baseline.rhr_mean, v->rhr_mean);
	check_metric(r.baseline.rhr_sd, v->rhr_sd);
	g_assert_cmpint(r.baseline.week_nights, ==, v->week_nights);
	check_metric(r.baseline.ln_rmssd_7d, v->ln_7d);
	check_metric(r.baseline.rhr_7d, v->rhr_7d);
}

/*
 * Load: 28 nights on days D-27..D, the earlier ones with ln RMSSD 4.0 so the
 * score is calibrated, tonight with only a neutral sleep (450 min at 90 %:
 * z 0, weight 0.25) beside yesterday's training, so the load component's
 * effect is plain: Z = 0.05 z / 0.30. TRIMP @old on D-27..D-7 (21 days),
 * @recent on D-6..D (7 days); ACWR = recent / ((21 old + 7 recent) / 28).
 */
struct load_vector {
	const char *name;
	double old_trimp, recent_trimp;
	double acwr; /* N: no ratio, no component */
	double z;
	int32_t score;
};

static const struct load_vector loads[] = {
	/* chronic (21 x 90 + 7 x 130) / 28 = 2800 / 28 = 100; acute 130;
	 * ACWR 1.3, z -(0.3 / 0.3) = -1; Z -0.1667, 70 - 2.5 = 67.5 -> 68 */
	{ "/score/load/acwr-1.3", 90, 130, 1.3, -1.0, 68 },
	/* steady training: ACWR 1.0, no penalty */
	{ "/score/load/acwr-1.0", 100, 100, 1.0, 0.0, 70 },
	/* chronic (2100 + 350) / 28 = 87.5; 50 / 87.5 = 0.571: a light week
	 * is no bonus, z 0 */
	{ "/score/load/acwr-below-1", 100, 50, 0.5714, 0.0, 70 },
	/* chronic (210 + 1400) / 28 = 57.5; 200 / 57.5 = 3.478,
	 * z -8.26 clamped to -3; Z -0.5, 70 - 7.5 = 62.5 -> 63 */
	{ "/score/load/clamped", 10, 200, 3.4783, -3.0, 63 },
	/* within the known history, days without training count as rest:
	 * chronic 700 / 28 = 25, ACWR 4, clamped -> 63 */
	{ "/score/load/missing-days-are-zero", N, 100, 4.0, -3.0, 63 },
	/* no training at all: chronic 0, no ratio; the sleep alone, 70 */
	{ "/score/load/none", N, N, N, N, 70 },
};

static void test_load(gconstpointer data)
{
	const struct load_vector *v = data;
	struct night_metrics nights[28];
	struct score_result r;

	for (int32_t i = 0; i < 28; i++) {
		int32_t age = 27 - i;

		nights[i] = night_metrics_empty(TODAY - age);
		if (age > 0)
			nights[i].ln_rmssd = 4.0;
		else {
			nights[i].sleep_min = 450;
			nights[i].sleep_efficiency_pct = 90;
		}
		nights[i].load_trimp =
		    age >= 7 ? v->old_trimp : v->recent_trimp;
	}
	g_assert_cmpint(score_night(nights, 28, NULL, &r), ==, 0);
	g_assert_false(r.calibrating);
	g_assert_false(r.hrv.present);
	check_metric(r.load_trend.acwr, v->acwr);
	check_component(&r.load, v->z, 0.05);
	if (r.load.present)
		g_assert_cmpfloat_with_epsilon(r.load.value, v->acwr, EPS);
	g_assert_cmpint(r.score, ==, v->score);
	g_assert_cmpint(r.zone, ==, score_zone_of(v->score));
}

/*
 * A person with eight nights so far: the days before the first are not rest
 * days, so there is no 28-day chronic load yet and no ACWR (a new user's
 * first week must not read as a spike).
 */
static void test_load_short_history(void)
{
	struct night_metrics nights[8];
	struct score_result r;

	for (int32_t i = 0; i < 8; i++) {
		nights[i] = night_metrics_empty(TODAY - 7 + i);
		nights[i].ln_rmssd = 4.0;
		nights[i].load_trimp = 100;
	}
	g_assert_cmpint(score_night(nights, 8, NULL, &r), ==, 0);
	g_assert_false(r.calibrating);
	g_assert_false(metric_present(r.load_trend.acwr));
	g_assert_false(r.load.present);
	g_assert_cmpfloat_with_epsilon(r.load_trend.acute, 100, EPS);
	g_assert_cmpint(r.score, ==, 70);
}

/* Only strictly earlier days count: a duplicated yesterday is one night. */
static void test_duplicate_day(void)
{
	static const struct history h = H7;
	static const struct tonight t = ONLY_LN(3.8);
	struct night_metrics nights[MAX_EARLIER + 2];
	struct score_result r;
	size_t n = build(&h, &t, nights);

	nights[n] = nights[n - 1];
	nights[n - 1] = nights[n - 2];
	n++;
	g_assert_cmpint(score_night(nights, n, NULL, &r), ==, 0);
	g_assert_cmpint(r.baseline.nights, ==, 7);
	g_assert_cmpint(r.score, ==, 33);
}

/* A sleep need of 420 min turns 450 min into +0.5 (+0.5 eff. at 90 %):
 * z 1.0, 70 + 15 = 85. */
static void test_sleep_need(void)
{
	static const struct history h = H7;
	static const struct tonight t = ONLY_SLEEP(450, 90);
	struct night_metrics nights[MAX_EARLIER + 1];
	struct score_params p = { .sleep_need_min = 420 };
	struct score_result r;
	size_t n = build(&h, &t, nights);

	g_assert_cmpint(score_night(nights, n, &p, &r), ==, 0);
	g_assert_cmpfloat_with_epsilon(r.sleep.z, 1.0, EPS);
	g_assert_cmpint(r.score, ==, 85);
}

static void test_invalid(void)
{
	struct night_metrics night = night_metrics_empty(TODAY);
	struct score_result r;

	g_assert_cmpint(score_night(&night, 0, NULL, &r), ==, -EINVAL);
	g_assert_cmpint(score_night(NULL, 1, NULL, &r), ==, -EINVAL);
	g_assert_cmpint(score_night(&night, 1, NULL, NULL), ==, -EINVAL);
	/* a lone night is calibrating 0/7 */
	g_assert_cmpint(score_night(&night, 1, NULL, &r), ==, 0);
	g_assert_true(r.calibrating);
	g_assert_cmpint(r.baseline.nights, ==, 0);
	g_assert_cmpint(r.score, ==, -1);
}

/*
 * The HRV baseline's source (DESIGN §4-§5): a spot value and a night value
 * are different physiology, each with its own baseline and its own 7 for
 * calibration; a person with no HRV at all calibrates on resting HR.
 * Days are letters, oldest first, tonight last:
 *   n  the night's HRV          s  a clean spot check, the day's HRV
 *   b  night HRV and a clean spot check (spot value ln + 0.5)
 *   x  a noisy spot check, no HRV   r  resting HR only   -  nothing
 * Each day's ln is ln[i] (4.0 when 0), its resting HR rhr[i] when given.
 */
#define SOURCE_DAYS 12

struct source_vector {
	const char *name;
	const char *days;
	double ln[SOURCE_DAYS];
	double rhr[SOURCE_DAYS];
	bool sleep_tonight; /* 480 min at 95 %: sleep z 0.5 */
	enum hrv_source source;
	int32_t count; /* calibration_count */
	bool calibrating;
	double mean; /* the HRV baseline's mean; N when none */
	int32_t week;
	int32_t score;
};

static const struct source_vector source_vectors[] = {
	{ "/score/source/spot/calibrating",
	  "sssssss",
	  { 0 },
	  { 0 },
	  false,
	  HRV_SOURCE_SPOT,
	  6,
	  true,
	  4.0,
	  7,
	  -1 },
	/* H7 as spot values, tonight 3.8: z -2.449, 70 - 36.7 = 33. */
	{ "/score/source/spot/scored",
	  "ssssssss",
	  { 4.0, 4.1, 3.9, 4.0, 4.1, 3.9, 4.0, 3.8 },
	  { 0 },
	  false,
	  HRV_SOURCE_SPOT,
	  7,
	  false,
	  4.0,
	  7,
	  33 },
	/* Seven nights at 3.0 do not calibrate a spot-check morning. */
	{ "/score/source/spot/not-mixed-with-nights",
	  "nnnnnnnssss",
	  { 3, 3, 3, 3, 3, 3, 3 },
	  { 0 },
	  false,
	  HRV_SOURCE_SPOT,
	  3,
	  true,
	  4.0,
	  4,
	  -1 },
	/* The spot values (4.5) of nights with HRV stay out of the night's
	 * baseline: H7 again, 33. */
	{ "/score/source/night/spot-values-apart",
	  "bbbbbbbn",
	  { 4.0, 4.1, 3.9, 4.0, 4.1, 3.9, 4.0, 3.8 },
	  { 0 },
	  false,
	  HRV_SOURCE_NIGHT,
	  7,
	  false,
	  4.0,
	  7,
	  33 },
	/* A noisy morning is read against the spot checks: no HRV, but not
	 * calibrating; the sleep alone scores 70 + 7.5. */
	{ "/score/source/spot/noisy-morning",
	  "sssssssx",
	  { 0 },
	  { 0 },
	  true,
	  HRV_SOURCE_SPOT,
	  7,
	  false,
	  4.0,
	  6,
	  78 },
	{ "/score/source/no-hrv/day-without",
	  "nnnsssss-",
	  { 0 },
	  { 0 },
	  true,
	  HRV_SOURCE_SPOT,
	  5,
	  true,
	  4.0,
	  5,
	  -1 },
	{ "/score/source/no-hrv/tie-is-night",
	  "nnnsss-",
	  { 0 },
	  { 0 },
	  true,
	  HRV_SOURCE_NIGHT,
	  3,
	  true,
	  4.0,
	  3,
	  -1 },
	/* A band without RR: seven nights of resting HR (H7's) calibrate;
	 * 52 is their mean, z 0, 70. */
	{ "/score/source/no-rr/scored",
	  "rrrrrrrr",
	  { 0 },
	  { 50, 52, 54, 52, 50, 54, 52, 52 },
	  false,
	  HRV_SOURCE_NONE,
	  7,
	  false,
	  N,
	  0,
	  70 },
	{ "/score/source/no-rr/calibrating",
	  "rrrrrrr",
	  { 0 },
	  { 50, 52, 54, 52, 50, 54, 52 },
	  false,
	  HRV_SOURCE_NONE,
	  6,
	  true,
	  N,
	  0,
	  -1 },
};

static void test_source(gconstpointer data)
{
	const struct source_vector *v = data;
	struct night_metrics nights[SOURCE_DAYS];
	size_t n = strlen(v->days);
	struct score_result r;

	g_assert_cmpuint(n, <=, SOURCE_DAYS);
	for (size_t i = 0; i < n; i++) {
		struct night_metrics *m = &nights[i];
		double ln = v->ln[i] != 0 ? v->ln[i] : 4.0;

		*m = night_metrics_empty(TODAY - (int32_t)(n - 1 - i));
		if (v->rhr[i] != 0)
			m->resting_hr_bpm = v->rhr[i];
		switch (v->days[i]) {
		case 'n':
		case 'b':
			m->hrv_source = HRV_SOURCE_NIGHT;
			m->ln_rmssd = ln;
			if (v->days[i] == 'b') {
				m->spot_status = SPOT_OK;
				m->spot_ln_rmssd = ln + 0.5;
			}
			break;
		case 's':
			m->hrv_source = HRV_SOURCE_SPOT;
			m->ln_rmssd = m->spot_ln_rmssd = ln;
			m->spot_status = SPOT_OK;
			break;
		case 'x':
			m->spot_status = SPOT_TOO_NOISY;
			break;
		default:
			break;
		}
	}
	if (v->sleep_tonight) {
		nights[n - 1].sleep_min = 480;
		nights[n - 1].sleep_efficiency_pct = 95;
	}
	g_assert_cmpint(score_night(nights, n, NULL, &r), ==, 0);
	g_assert_cmpint(r.baseline.hrv_source, ==, v->source);
	g_assert_cmpint(r.calibration_count, ==, v->count);
	g_assert_cmpint(r.calibrating, ==, v->calibrating);
	check_metric(r.baseline.ln_rmssd_mean, v->mean);
	g_assert_cmpint(r.baseline.week_nights, ==, v->week);
	g_assert_cmpint(r.score, ==, v->score);
}

struct zone_vector {
	const char *name;
	int32_t score;
	enum score_zone zone;
	const char *label;
};

static const struct zone_vector zones[] = {
	{ "/score/zone-of/none", -1, SCORE_ZONE_NONE, "none" },
	{ "/score/zone-of/0", 0, SCORE_ZONE_RED, "red" },
	{ "/score/zone-of/33", 33, SCORE_ZONE_RED, "red" },
	{ "/score/zone-of/34", 34, SCORE_ZONE_YELLOW, "yellow" },
	{ "/score/zone-of/66", 66, SCORE_ZONE_YELLOW, "yellow" },
	{ "/score/zone-of/67", 67, SCORE_ZONE_GREEN, "green" },
	{ "/score/zone-of/100", 100, SCORE_ZONE_GREEN, "green" },
};

static void test_zone(gconstpointer data)
{
	const struct zone_vector *v = data;

	g_assert_cmpint(score_zone_of(v->score), ==, v->zone);
	g_assert_cmpstr(score_zone_name(v->zone), ==, v->label);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++)
		g_test_add_data_func(vectors[i].name, &vectors[i], test_vector);
	for (size_t i = 0; i < G_N_ELEMENTS(weeks); i++)
		g_test_add_data_func(weeks[i].name, &weeks[i], test_week);
	for (size_t i = 0; i < G_N_ELEMENTS(loads); i++)
		g_test_add_data_func(loads[i].name, &loads[i], test_load);
	for (size_t i = 0; i < G_N_ELEMENTS(zones); i++)
		g_test_add_data_func(zones[i].name, &zones[i], test_zone);
	for (size_t i = 0; i < G_N_ELEMENTS(source_vectors); i++)
		g_test_add_data_func(source_vectors[i].name, &source_vectors[i],
				     test_source);
	g_test_add_func("/score/duplicate-day", test_duplicate_day);
	g_test_add_func("/score/load/short-history", test_load_short_history);
	g_test_add_func("/score/sleep/need-from-params", test_sleep_need);
	g_test_add_func("/score/invalid", test_invalid);
	return g_test_run();
}
