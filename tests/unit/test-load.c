// SPDX-License-Identifier: MIT
/*
 * Training load: Banister TRIMP, sessions of a day, Foster's monotony and
 * strain, and the acute:chronic ratio. Expected values are worked out by
 * hand in the comments; the heart rate series are generated here.
 */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/engine/load.h"

#define EPS 1e-9

static void assert_metric(double got, double want)
{
	if (isnan(want))
		g_assert_true(isnan(got));
	else
		g_assert_cmpfloat_with_epsilon(got, want, EPS);
}

/*
 * Rest 50, max 190: a reserve of 140 bpm. 120 bpm is HRr 0.5, 190 is 1.
 *   e^0.96 = 2.611696473423118   e^0.835 = 2.3048140482870125
 *   e^1.92 = 6.8209584692907494  e^1.67  = 5.312167797181167
 *   e^0.48 = 1.6160744021928934  e^0.4175 = 1.5181614038984828
 */
#define HR_REST 50
#define HR_MAX	190

/* Male TRIMP per minute: 0.5 * 0.64 * e^0.96 and 1 * 0.64 * e^1.92. */
#define MALE_HALF_PER_MIN 0.8357428714953977
#define MALE_FULL_PER_MIN 4.36541342034608

struct trimp_vector {
	const char *name;
	double duration_min;
	double hr_bpm;
	double rest, max;
	enum load_sex sex;
	double trimp;
};

static const struct trimp_vector trimp_vectors[] = {
	/* 60 * 0.5 * 0.64 * e^0.96 = 19.2 * 2.611696473423118 */
	{ "/load/trimp/male/half", 60, 120, HR_REST, HR_MAX, LOAD_SEX_MALE,
	  50.14457228972386 },
	/* 60 * 0.5 * 0.86 * e^0.835 = 25.8 * 2.3048140482870125 */
	{ "/load/trimp/female/half", 60, 120, HR_REST, HR_MAX, LOAD_SEX_FEMALE,
	  59.46420244580492 },
	/* (50.14457228972386 + 59.46420244580492) / 2 */
	{ "/load/trimp/unspecified/half", 60, 120, HR_REST, HR_MAX,
	  LOAD_SEX_UNSPECIFIED, 54.80438736776439 },
	/* 60 * 0.25 * 0.64 * e^0.48 = 9.6 * 1.6160744021928934 */
	{ "/load/trimp/male/quarter", 60, 85, HR_REST, HR_MAX, LOAD_SEX_MALE,
	  15.514314261051776 },
	/* 60 * 0.25 * 0.86 * e^0.4175 = 12.9 * 1.5181614038984828 */
	{ "/load/trimp/female/quarter", 60, 85, HR_REST, HR_MAX,
	  LOAD_SEX_FEMALE, 19.584282110290427 },
	/* 1 * 1 * 0.64 * e^1.92 and 0.86 * e^1.67 */
	{ "/load/trimp/male/max", 1, 190, HR_REST, HR_MAX, LOAD_SEX_MALE,
	  4.36541342034608 },
	{ "/load/trimp/female/max", 1, 190, HR_REST, HR_MAX, LOAD_SEX_FEMALE,
	  4.568464305575803 },
	/* HRr is clamped to [0, 1]. */
	{ "/load/trimp/above-max", 1, 200, HR_REST, HR_MAX, LOAD_SEX_MALE,
	  4.36541342034608 },
	{ "/load/trimp/at-rest", 60, 50, HR_REST, HR_MAX, LOAD_SEX_MALE, 0 },
	{ "/load/trimp/below-rest", 60, 40, HR_REST, HR_MAX, LOAD_SEX_FEMALE,
	  0 },
	{ "/load/trimp/no-time", 0, 150, HR_REST, HR_MAX, LOAD_SEX_MALE, 0 },
	/* No reserve, no HRr. */
	{ "/load/trimp/bad/max-equals-rest", 60, 120, 60, 60, LOAD_SEX_MALE,
	  NAN },
	{ "/load/trimp/bad/max-below-rest", 60, 120, 190, 50, LOAD_SEX_MALE,
	  NAN },
	{ "/load/trimp/bad/nan-rest", 60, 120, NAN, HR_MAX, LOAD_SEX_MALE,
	  NAN },
	{ "/load/trimp/bad/nan-hr", 60, NAN, HR_REST, HR_MAX, LOAD_SEX_MALE,
	  NAN },
	{ "/load/trimp/bad/negative-duration", -1, 120, HR_REST, HR_MAX,
	  LOAD_SEX_MALE, NAN },
};

static void test_trimp(gconstpointer data)
{
	const struct trimp_vector *v = data;
	const struct load_params p = { v->rest, v->max, v->sex };

	assert_metric(load_trimp(v->duration_min, v->hr_bpm, &p), v->trimp);
}

static void test_trimp_no_params(void)
{
	g_assert_true(isnan(load_trimp(60, 120, NULL)));
}

/* --- load_day ------------------------------------------------------- */

#define SECONDS(s) ((int64_t)(s)*1000)
#define MINUTES(m) ((int64_t)(m)*60000)
#define HOURS(h)   ((int64_t)(h)*3600000)
#define T0	   INT64_C(1700000000000)

/* Samples at from, from + step, ... up to and including to. */
struct hr_segment {
	int64_t from_ms, to_ms, step_ms;
	double bpm;
};

struct day_vector {
	const char *name;
	struct hr_segment seg[3];
	int64_t from_ms, to_ms;		  /* the day, relative to T0 */
	int64_t skip_from_ms, skip_to_ms; /* the sleep, relative to T0 */
	double trimp;
};

#define WHOLE_DAY -HOURS(1), HOURS(23)
#define NO_SKIP	  HOURS(30), HOURS(30)

/* A session needs > 50 + 0.2 * 140 = 78 bpm on average, 10 minutes, and no
 * gap over 2 minutes. Its TRIMP covers first to last sample. */
static const struct day_vector day_vectors[] = {
	{ "/load/day/none", { { 0 } }, WHOLE_DAY, NO_SKIP, 0 },
	{ "/load/day/9-minutes",
	  { { 0, MINUTES(9), SECONDS(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  0 },
	{ "/load/day/10-minutes-less-1s",
	  { { 0, MINUTES(10) - SECONDS(1), SECONDS(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  0 },
	{ "/load/day/10-minutes",
	  { { 0, MINUTES(10), SECONDS(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  10 * MALE_HALF_PER_MIN },
	/* 8 + 8 minutes: a 3-minute gap makes two short runs, none counts. */
	{ "/load/day/gap-3-minutes-splits",
	  { { 0, MINUTES(8), SECONDS(1), 120 },
	    { MINUTES(11), MINUTES(19), SECONDS(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  0 },
	{ "/load/day/gap-2-minutes-1ms-splits",
	  { { 0, MINUTES(8), SECONDS(1), 120 },
	    { MINUTES(10) + 1, MINUTES(18) + 1, SECONDS(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  0 },
	/* Exactly 2 minutes is no gap "over 2 minutes": one run of 18. */
	{ "/load/day/gap-2-minutes-joins",
	  { { 0, MINUTES(8), SECONDS(1), 120 },
	    { MINUTES(10), MINUTES(18), SECONDS(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  18 * MALE_HALF_PER_MIN },
	{ "/load/day/two-sessions",
	  { { 0, MINUTES(10), SECONDS(1), 120 },
	    { HOURS(1), HOURS(1) + MINUTES(15), SECONDS(1), 190 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  10 * MALE_HALF_PER_MIN + 15 * MALE_FULL_PER_MIN },
	/* Each sample carries its own HR to the next one: 10 minutes at 190
	 * then 10 at 120 (the sample at 20 minutes covers nothing). */
	{ "/load/day/per-sample",
	  { { 0, MINUTES(9), MINUTES(1), 190 },
	    { MINUTES(10), MINUTES(20), MINUTES(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  10 * MALE_FULL_PER_MIN + 10 * MALE_HALF_PER_MIN },
	/* 78 bpm is rest + 20 % of the reserve: not above it. */
	{ "/load/day/at-threshold",
	  { { 0, MINUTES(30), SECONDS(1), 78 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  0 },
	/* 79 bpm: HRr 29/140 = 0.20714285714285716, e^(1.92 HRr) =
	 * 1.4884187066620898; 30 * 0.2071428... * 0.64 * 1.4884187... */
	{ "/load/day/above-threshold",
	  { { 0, MINUTES(30), SECONDS(1), 79 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  5.91965382763894 },
	/* Zero-bpm samples (strap lost contact) are absent, not effort: 32 s
	 * without a sample is no gap; the session still spans 10 minutes. */
	{ "/load/day/zero-bpm-ignored",
	  { { 0, SECONDS(299), SECONDS(1), 120 },
	    { SECONDS(300), SECONDS(330), SECONDS(1), 0 },
	    { SECONDS(331), MINUTES(10), SECONDS(1), 120 } },
	  WHOLE_DAY,
	  NO_SKIP,
	  10 * MALE_HALF_PER_MIN },
	/* Samples each minute, 0..30. The sleep [10, 11) hides one sample;
	 * the gap 9 -> 11 is only 2 minutes, yet the sleep splits the run:
	 * 0..9 (9 minutes, nothing) and 11..30 (19 minutes). */
	{ "/load/day/skip-splits",
	  { { 0, MINUTES(30), MINUTES(1), 120 } },
	  WHOLE_DAY,
	  MINUTES(10),
	  MINUTES(11),
	  19 * MALE_HALF_PER_MIN },
	/* The sleep is [from, to): the sample at 15 is awake. */
	{ "/load/day/skip-covers-start",
	  { { 0, MINUTES(30), MINUTES(1), 120 } },
	  WHOLE_DAY,
	  -HOURS(8),
	  MINUTES(15),
	  15 * MALE_HALF_PER_MIN },
	/* The day is [from, to): the sample at 20 belongs to tomorrow. */
	{ "/load/day/day-end-cuts",
	  { { 0, MINUTES(30), MINUTES(1), 120 } },
	  -HOURS(1),
	  MINUTES(20),
	  NO_SKIP,
	  19 * MALE_HALF_PER_MIN },
	{ "/load/day/day-start-cuts",
	  { { 0, MINUTES(30), MINUTES(1), 120 } },
	  MINUTES(5),
	  HOURS(23),
	  NO_SKIP,
	  25 * MALE_HALF_PER_MIN },
};

static void test_day(gconstpointer data)
{
	const struct day_vector *v = data;
	const struct load_params p = { HR_REST, HR_MAX, LOAD_SEX_MALE };
	g_autoptr(GArray) hr =
	    g_array_new(FALSE, FALSE, sizeof(struct hr_sample));

	for (size_t s = 0; s < G_N_ELEMENTS(v->seg); s++) {
		const struct hr_segment *seg = &v->seg[s];

		if (seg->step_ms == 0)
			break;
		for (int64_t t = seg->from_ms; t <= seg->to_ms;
		     t += seg->step_ms) {
			struct hr_sample sample = { T0 + t, seg->bpm };

			g_array_append_val(hr, sample);
		}
	}
	assert_metric(load_day((const struct hr_sample *)hr->data, hr->len,
			       T0 + v->from_ms, T0 + v->to_ms,
			       T0 + v->skip_from_ms, T0 + v->skip_to_ms, &p),
		      v->trimp);
}

static void test_day_bad_params(void)
{
	const struct hr_sample hr[] = { { T0, 120 },
					{ T0 + MINUTES(20), 120 } };
	const struct load_params p = { 60, 60, LOAD_SEX_MALE };

	g_assert_true(isnan(load_day(hr, 2, T0, T0 + HOURS(1), 0, 0, &p)));
	g_assert_true(isnan(load_day(hr, 2, T0, T0 + HOURS(1), 0, 0, NULL)));
}

/* --- load_trend ----------------------------------------------------- */

/* n days, oldest first: all @base, except the last @recent_n which are
 * @recent. */
struct trend_vector {
	const char *name;
	size_t n;
	double base;
	size_t recent_n;
	double recent[7];
	double acute, chronic, acwr, monotony, strain;
};

static const struct trend_vector trend_vectors[] = {
	{ "/load/trend/none", 0, 0, 0, { 0 }, NAN, NAN, NAN, NAN, NAN },
	/* Means of what there is; no week, no monotony. */
	{ "/load/trend/one-day", 1, 100, 0, { 0 }, 100, 100, NAN, NAN, NAN },
	{ "/load/trend/six-days", 6, 100, 0, { 0 }, 100, 100, NAN, NAN, NAN },
	/* SD 0 floored at max(1 % of 100, 1.0) = 1: monotony 100 / 1, strain
	 * 700 * 100. Large, finite. */
	{ "/load/trend/flat-week-100",
	  7,
	  100,
	  0,
	  { 0 },
	  100,
	  100,
	  NAN,
	  100,
	  70000 },
	/* Floor max(5, 1.0) = 5: monotony 500 / 5 = 100, strain 3500 * 100 */
	{ "/load/trend/flat-week-500",
	  7,
	  500,
	  0,
	  { 0 },
	  500,
	  500,
	  NAN,
	  100,
	  350000 },
	/* Floor max(0.5, 1.0) = 1: monotony 50, strain 350 * 50 */
	{ "/load/trend/flat-week-50", 7, 50, 0, { 0 }, 50, 50, NAN, 50, 17500 },
	/* A week of rest: 0 / 1 */
	{ "/load/trend/rest-week", 7, 0, 0, { 0 }, 0, 0, NAN, 0, 0 },
	{ "/load/trend/flat-27", 27, 50, 0, { 0 }, 50, 50, NAN, 50, 17500 },
	{ "/load/trend/flat-28", 28, 50, 0, { 0 }, 50, 50, 1, 50, 17500 },
	{ "/load/trend/zero-28", 28, 0, 0, { 0 }, 0, 0, NAN, 0, 0 },
	/* 21 days of 50, a week of 100: chronic (1050 + 700) / 28 = 62.5,
	 * ACWR 100 / 62.5 = 1.6 */
	{ "/load/trend/spike",
	  28,
	  50,
	  7,
	  { 100, 100, 100, 100, 100, 100, 100 },
	  100,
	  62.5,
	  1.6,
	  100,
	  70000 },
	/* Only the last 28 of 35 days: chronic 700 / 28 = 25 (not 700 / 35),
	 * ACWR 4 */
	{ "/load/trend/last-28-only",
	  35,
	  0,
	  7,
	  { 100, 100, 100, 100, 100, 100, 100 },
	  100,
	  25,
	  4,
	  100,
	  70000 },
	/* NAN days are rest days: 100,0,100,0,100,0,100. Mean 400/7; a share
	 * p = 4/7 at 100: population SD 100 * sqrt(p(1-p)) = 100 sqrt(12)/7;
	 * monotony (4/7) / (sqrt(12)/7) = 2/sqrt(3) = 1.1547005383792517,
	 * strain 400 * 2/sqrt(3) = 461.88021535170066 */
	{ "/load/trend/nan-is-rest",
	  7,
	  0,
	  7,
	  { 100, NAN, 100, NAN, 100, NAN, 100 },
	  57.142857142857146,
	  57.142857142857146,
	  NAN,
	  1.1547005383792517,
	  461.88021535170066 },
	{ "/load/trend/zero-is-rest",
	  7,
	  0,
	  7,
	  { 100, 0, 100, 0, 100, 0, 100 },
	  57.142857142857146,
	  57.142857142857146,
	  NAN,
	  1.1547005383792517,
	  461.88021535170066 },
	/* A varied week: mean 350; deviations 250,-150,50,150,-250,300,-350,
	 * SS 385000, population SD sqrt(55000) = 234.5207879911715;
	 * monotony 1.4924050144892729, strain 2450 * that */
	{ "/load/trend/varied-week",
	  7,
	  0,
	  7,
	  { 600, 200, 400, 500, 100, 650, 0 },
	  350,
	  350,
	  NAN,
	  1.4924050144892729,
	  3656.3922854987186 },
	/* Missing days before the 28 are rest days too: chronic (0 * 21 +
	 * 7 * 100) / 28 = 25 */
	{ "/load/trend/nan-chronic",
	  28,
	  NAN,
	  7,
	  { 100, 100, 100, 100, 100, 100, 100 },
	  100,
	  25,
	  4,
	  100,
	  70000 },
};

static void test_trend(gconstpointer data)
{
	const struct trend_vector *v = data;
	double daily[64];
	struct load_trend t;

	g_assert_cmpuint(v->n, <=, G_N_ELEMENTS(daily));
	g_assert_cmpuint(v->recent_n, <=, v->n);
	for (size_t i = 0; i < v->n; i++) {
		size_t first_recent = v->n - v->recent_n;

		daily[i] =
		    i < first_recent ? v->base : v->recent[i - first_recent];
	}
	memset(&t, 0xa5, sizeof(t));
	load_trend(daily, v->n, &t);
	assert_metric(t.acute, v->acute);
	assert_metric(t.chronic, v->chronic);
	assert_metric(t.acwr, v->acwr);
	assert_metric(t.monotony, v->monotony);
	assert_metric(t.strain, v->strain);
	if (metric_present(t.monotony))
		g_assert_true(isfinite(t.monotony));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(trimp_vectors); i++)
		g_test_add_data_func(trimp_vectors[i].name, &trimp_vectors[i],
				     test_trimp);
	g_test_add_func("/load/trimp/bad/no-params", test_trimp_no_params);
	for (size_t i = 0; i < G_N_ELEMENTS(day_vectors); i++)
		g_test_add_data_func(day_vectors[i].name, &day_vectors[i],
				     test_day);
	g_test_add_func("/load/day/bad-params", test_day_bad_params);
	for (size_t i = 0; i < G_N_ELEMENTS(trend_vectors); i++)
		g_test_add_data_func(trend_vectors[i].name, &trend_vectors[i],
				     test_trend);
	return g_test_run();
}
