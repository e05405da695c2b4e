// SPDX-License-Identifier: MIT
#include "gateway/engine/load.h"

#include <math.h>

/*
 * Banister's training impulse (Banister E.W., "Modeling elite athletic
 * performance", in Physiological Testing of the High-Performance Athlete, 1991;
 * weighting after Morton, Fitz-Clarke and Banister, J Appl Physiol 69 (1990)
 * 1171-1177): minutes times the fraction of heart rate reserve, weighted by
 * an exponential that follows the blood lactate curve, with a steeper curve
 * for men.
 */
#define TRIMP_MALE_K   0.64
#define TRIMP_MALE_B   1.92
#define TRIMP_FEMALE_K 0.86
#define TRIMP_FEMALE_B 1.67

#define SESSION_MAX_GAP_MS	 (2 * 60 * 1000)
#define SESSION_MIN_MS		 (10 * 60 * 1000)
#define SESSION_MIN_RESERVE_FRAC 0.20

#define ACUTE_DAYS   7
#define CHRONIC_DAYS 28

static double banister(double duration_min, double hrr, double k, double b)
{
	return duration_min * hrr * k * exp(b * hrr);
}

static bool params_valid(const struct load_params *p)
{
	return p && isfinite(p->hr_rest_bpm) && isfinite(p->hr_max_bpm) &&
	       p->hr_max_bpm > p->hr_rest_bpm;
}

/*
 * Returns METRIC_NONE when the parameters cannot define a reserve (no
 * params, max not above rest, not finite) or @duration_min or @hr_bpm is not
 * a finite number, or the duration is negative.
 */
double load_trimp(double duration_min, double hr_bpm,
		  const struct load_params *p)
{
	double hrr;

	if (!params_valid(p) || !isfinite(duration_min) || duration_min < 0.0 ||
	    !isfinite(hr_bpm))
		return METRIC_NONE;
	hrr = (hr_bpm - p->hr_rest_bpm) / (p->hr_max_bpm - p->hr_rest_bpm);
	hrr = fmin(fmax(hrr, 0.0), 1.0);

	switch (p->sex) {
	case LOAD_SEX_MALE:
		return banister(duration_min, hrr, TRIMP_MALE_K, TRIMP_MALE_B);
	case LOAD_SEX_FEMALE:
		return banister(duration_min, hrr, TRIMP_FEMALE_K,
				TRIMP_FEMALE_B);
	case LOAD_SEX_UNSPECIFIED:
	default:
		/* No reason to favour either curve: take the middle. */
		return 0.5 * (banister(duration_min, hrr, TRIMP_MALE_K,
				       TRIMP_MALE_B) +
			      banister(duration_min, hrr, TRIMP_FEMALE_K,
				       TRIMP_FEMALE_B));
	}
}

struct session {
	bool open;
	int64_t first_ms;
	int64_t last_ms;
	double last_bpm;
	double trimp;
	double bpm_ms; /* sum of bpm * time, for the time-weighted mean */
};

static void session_start(struct session *s, int64_t t_ms, double bpm)
{
	*s = (struct session){
		.open = true,
		.first_ms = t_ms,
		.last_ms = t_ms,
		.last_bpm = bpm,
	};
}

/* The previous sample covers the time up to this one. */
static void session_extend(struct session *s, int64_t t_ms, double bpm,
			   const struct load_params *p)
{
	int64_t dt_ms = t_ms - s->last_ms;

	s->trimp += load_trimp((double)dt_ms / 60000.0, s->last_bpm, p);
	s->bpm_ms += s->last_bpm * (double)dt_ms;
	s->last_ms = t_ms;
	s->last_bpm = bpm;
}

/*
 * The last sample of a run covers nothing: what follows it is a gap (or the
 * sleep, or the next day), so a session lasts from its first sample to its
 * last and its TRIMP covers exactly that time.
 */
static double session_close(struct session *s, const struct load_params *p)
{
	int64_t span_ms = s->last_ms - s->first_ms;
	double threshold;
	bool open = s->open;

	s->open = false;
	if (!open || span_ms < SESSION_MIN_MS)
		return 0.0;
	/* A walk to the shops is not training: the strap must show effort. */
	threshold = p->hr_rest_bpm +
		    SESSION_MIN_RESERVE_FRAC * (p->hr_max_bpm - p->hr_rest_bpm);
	if (s->bpm_ms / (double)span_ms <= threshold)
		return 0.0;
	return s->trimp;
}

/*
 * Returns METRIC_NONE when @p cannot define a heart rate reserve. Samples
 * whose bpm is not a positive finite number are ignored as if absent (the
 * 2-minute gap rule then decides), and so are samples stamped earlier than
 * the one before. Leaving the day or entering the skip span ends a session:
 * a session crossing midnight is judged in each day on its own part.
 */
double load_day(const struct hr_sample *hr, size_t n, int64_t from_ms,
		int64_t to_ms, int64_t skip_from_ms, int64_t skip_to_ms,
		const struct load_params *p)
{
	struct session s = { 0 };
	double total = 0.0;

	if (!params_valid(p))
		return METRIC_NONE;
	for (size_t i = 0; i < n; i++) {
		int64_t t = hr[i].t_ms;
		double bpm = hr[i].bpm;

		if (t < from_ms || t >= to_ms ||
		    (t >= skip_from_ms && t < skip_to_ms)) {
			total += session_close(&s, p);
			continue;
		}
		if (!isfinite(bpm) || bpm <= 0.0)
			continue;
		if (s.open && t < s.last_ms)
			continue;
		if (s.open && t - s.last_ms <= SESSION_MAX_GAP_MS) {
			session_extend(&s, t, bpm, p);
			continue;
		}
		total += session_close(&s, p);
		session_start(&s, t, bpm);
	}
	total += session_close(&s, p);
	return total;
}

static double day_load(double v)
{
	/* A day with no reading had no recorded training. */
	return isnan(v) ? 0.0 : v;
}

static double mean_last(const double *daily, size_t n, size_t days)
{
	double sum = 0.0;
	size_t k = n < days ? n : days;

	for (size_t i = n - k; i < n; i++)
		sum += day_load(daily[i]);
	return sum / (double)k;
}

/*
 * Foster C., "Monitoring training in athletes with reference to
 * overtraining syndrome", Med Sci Sports Exerc 30 (1998) 1164-1168:
 * monotony = mean daily load of the week / its SD, strain = weekly load *
 * monotony. The SD is the population SD of the seven days (the week is the
 * whole population, not a sample of it). The floor keeps identical days
 * finite without changing any real week: max(1 % of the mean, 1.0).
 */
static double monotony(const double *daily, size_t n, double mean)
{
	double m2 = 0.0;
	double sd;

	for (size_t i = n - ACUTE_DAYS; i < n; i++) {
		double d = day_load(daily[i]) - mean;

		m2 += d * d;
	}
	sd = sqrt(m2 / ACUTE_DAYS);
	sd = fmax(sd, fmax(0.01 * mean, 1.0));
	return mean / sd;
}

/*
 * With fewer days than a span, acute and chronic are the means of the days
 * there are (METRIC_NONE with none at all). Only the last 28 days are read.
 */
void load_trend(const double *daily, size_t n, struct load_trend *ret)
{
	struct load_trend t = {
		.acute = METRIC_NONE,
		.chronic = METRIC_NONE,
		.acwr = METRIC_NONE,
		.monotony = METRIC_NONE,
		.strain = METRIC_NONE,
	};

	if (!daily)
		n = 0;
	if (n > 0) {
		t.acute = mean_last(daily, n, ACUTE_DAYS);
		t.chronic = mean_last(daily, n, CHRONIC_DAYS);
	}
	/*
	 * The acute:chronic workload ratio (Hulin et al., Br J Sports Med 48
	 * (2014) 708-712; Gabbett, Br J Sports Med 50 (2016) 273-280) means
	 * nothing until the chronic side spans its full 28 days.
	 */
	if (n >= CHRONIC_DAYS && t.chronic > 0.0)
		t.acwr = t.acute / t.chronic;
	if (n >= ACUTE_DAYS) {
		t.monotony = monotony(daily, n, t.acute);
		t.strain = t.acute * ACUTE_DAYS * t.monotony;
	}
	*ret = t;
}
