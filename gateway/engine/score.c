// SPDX-License-Identifier: MIT
#include "gateway/engine/score.h"

#include <errno.h>
#include <math.h>

#include "gateway/engine/spot.h"

#define WEEK_DAYS	   7
#define WEEK_MIN_NIGHTS	   3
#define LOAD_DAYS	   28
#define SLEEP_NEED_MIN	   480.0
#define SLEEP_EFF_PCT	   85.0
#define SCORE_CENTRE	   70.0
#define SCORE_SCALE	   15.0
#define ZONE_RED_MAX	   33
#define ZONE_YELLOW_MAX	   66
#define WEIGHT_HRV	   0.40
#define WEIGHT_RHR	   0.20
#define WEIGHT_SLEEP	   0.25
#define WEIGHT_CHECKIN	   0.10
#define WEIGHT_LOAD	   0.05
#define LOAD_ACWR_NEUTRAL  1.0
#define LOAD_ACWR_PER_UNIT 0.3

static double clamp_z(double z)
{
	return fmin(fmax(z, SCORE_Z_MIN), SCORE_Z_MAX);
}

static void component_set(struct score_component *c, double value, double z,
			  double weight)
{
	c->present = true;
	c->value = value;
	c->z = clamp_z(z);
	c->weight = weight;
}

static void component_absent(struct score_component *c, double weight)
{
	c->present = false;
	c->value = METRIC_NONE;
	c->z = METRIC_NONE;
	c->weight = weight;
}

/* The source of @n's HRV value (ln_rmssd), none without one. */
static enum hrv_source day_source(const struct night_metrics *n)
{
	if (!metric_present(n->ln_rmssd))
		return HRV_SOURCE_NONE;
	/* A day stored before sources existed has only night values. */
	return n->hrv_source == HRV_SOURCE_NONE ? HRV_SOURCE_NIGHT
						: n->hrv_source;
}

/*
 * One pass from tonight backwards over the three windows (baseline 60,
 * week 7, load 28). The HRV fields are the night source's: a spot value
 * has a baseline of its own (spot_baseline()). Only strictly decreasing days
 * are taken, so a duplicated day counts once (the later entry wins) and input
 * out of order cannot make a night count twice.
 */
static void scan_history(const struct night_metrics *nights, size_t count,
			 struct score_baseline *b, double *daily_load)
{
	int32_t day = nights[count - 1].day;
	int64_t last_age = -1;
	struct metric_running hrv60 = { 0 }, rhr60 = { 0 };
	struct metric_running hrv7 = { 0 }, rhr7 = { 0 };

	for (size_t i = 0; i < LOAD_DAYS; i++)
		daily_load[i] = METRIC_NONE;

	for (size_t i = count; i-- > 0;) {
		const struct night_metrics *n = &nights[i];
		/* 64-bit so that absurd days cannot overflow the difference */
		int64_t age = (int64_t)day - n->day;

		if (age <= last_age)
			continue;
		if (age > SCORE_BASELINE_NIGHTS)
			break;
		last_age = age;

		if (age >= 1) {
			if (day_source(n) == HRV_SOURCE_NIGHT)
				metric_running_add(&hrv60, n->ln_rmssd);
			if (metric_present(n->resting_hr_bpm))
				metric_running_add(&rhr60, n->resting_hr_bpm);
		}
		if (age < WEEK_DAYS) {
			if (day_source(n) == HRV_SOURCE_NIGHT)
				metric_running_add(&hrv7, n->ln_rmssd);
			if (metric_present(n->resting_hr_bpm))
				metric_running_add(&rhr7, n->resting_hr_bpm);
		}
		if (age < LOAD_DAYS)
			daily_load[LOAD_DAYS - 1 - age] = n->load_trimp;
	}

	b->hrv_source = HRV_SOURCE_NIGHT;
	b->nights = hrv60.n;
	b->ln_rmssd_mean = metric_running_mean(&hrv60, 1);
	b->ln_rmssd_sd = metric_running_sd(&hrv60, SCORE_LN_RMSSD_SD_FLOOR);
	b->rhr_nights = rhr60.n;
	b->rhr_mean = metric_running_mean(&rhr60, 1);
	b->rhr_sd = metric_running_sd(&rhr60, SCORE_RHR_SD_FLOOR);
	b->week_nights = hrv7.n;
	b->ln_rmssd_7d = metric_running_mean(&hrv7, WEEK_MIN_NIGHTS);
	b->rhr_7d = metric_running_mean(&rhr7, WEEK_MIN_NIGHTS);
}

/*
 * The spot checks' baseline for tonight's day: the clean spot values of
 * days [D-60, D], oldest first, handed to spot_baseline() (which also
 * drops repeated days and days out of order).
 */
static void scan_spot(const struct night_metrics *nights, size_t count,
		      struct spot_baseline *ret)
{
	struct spot_value values[SCORE_BASELINE_NIGHTS + 1];
	size_t n = 0, at = sizeof(values) / sizeof(values[0]);
	int32_t day = nights[count - 1].day;

	for (size_t i = count; i-- > 0 && at > 0;) {
		int64_t age = (int64_t)day - nights[i].day;

		if (age < 0)
			continue;
		if (age > SCORE_BASELINE_NIGHTS)
			break;
		values[--at] = (struct spot_value){
			.day = nights[i].day,
			.ln_rmssd = nights[i].spot_status == SPOT_OK
					? nights[i].spot_ln_rmssd
					: METRIC_NONE,
		};
		n++;
	}
	spot_baseline(values + at, n, day, ret);
}

/*
 * Chooses the HRV baseline's source (score_baseline.hrv_source) and, for
 * the spot check, puts its baseline in place of the night's.
 */
static void choose_hrv_source(const struct night_metrics *nights, size_t count,
			      struct score_baseline *b)
{
	enum hrv_source today = day_source(&nights[count - 1]);
	struct spot_baseline spot;

	scan_spot(nights, count, &spot);
	if (today == HRV_SOURCE_NONE) {
		/* A morning without HRV is read against the usual source. */
		if (b->nights == 0 && spot.count == 0)
			today = HRV_SOURCE_NONE;
		else
			today = spot.count > b->nights ? HRV_SOURCE_SPOT
						       : HRV_SOURCE_NIGHT;
	}
	b->hrv_source = today;
	if (today == HRV_SOURCE_SPOT) {
		b->nights = spot.count;
		b->ln_rmssd_mean = spot.ln_rmssd_mean;
		b->ln_rmssd_sd = spot.ln_rmssd_sd;
		b->week_nights = spot.week_count;
		b->ln_rmssd_7d = spot.ln_rmssd_7d;
	}
}

int score_night(const struct night_metrics *nights, size_t count,
		const struct score_params *p, struct score_result *ret)
{
	const struct night_metrics *tonight;
	struct score_result r = { 0 };
	double daily_load[LOAD_DAYS];
	double need_min = SLEEP_NEED_MIN;
	double sum_wz = 0.0, sum_w = 0.0;
	const struct score_component *parts[5];
	int64_t known_days;

	if (!nights || count == 0 || !ret)
		return -EINVAL;
	if (p && metric_present(p->sleep_need_min) && p->sleep_need_min > 0.0)
		need_min = p->sleep_need_min;

	tonight = &nights[count - 1];
	r.day = tonight->day;
	scan_history(nights, count, &r.baseline, daily_load);
	choose_hrv_source(nights, count, &r.baseline);
	/* Days before the person's first night are unknown, not rest: a
	 * new user's first week must not read as a load spike. */
	known_days = (int64_t)tonight->day - nights[0].day + 1;
	if (known_days > LOAD_DAYS)
		known_days = LOAD_DAYS;
	load_trend(daily_load + LOAD_DAYS - known_days, (size_t)known_days,
		   &r.load_trend);

	/* A baseline of one night is thin, but the floored SD keeps its z
	 * sane, and calibration withholds the score until there are seven. */
	if (metric_present(tonight->ln_rmssd) && r.baseline.nights >= 1)
		component_set(&r.hrv, tonight->ln_rmssd,
			      (tonight->ln_rmssd - r.baseline.ln_rmssd_mean) /
				  r.baseline.ln_rmssd_sd,
			      WEIGHT_HRV);
	else
		component_absent(&r.hrv, WEIGHT_HRV);

	/* A resting HR above normal means less recovery: the sign flips. */
	if (metric_present(tonight->resting_hr_bpm) &&
	    r.baseline.rhr_nights >= 1)
		component_set(&r.rhr, tonight->resting_hr_bpm,
			      -(tonight->resting_hr_bpm - r.baseline.rhr_mean) /
				  r.baseline.rhr_sd,
			      WEIGHT_RHR);
	else
		component_absent(&r.rhr, WEIGHT_RHR);

	/* Each half is capped so a long lie-in cannot mask a bad HRV night;
	 * efficiency is a percentage in the metrics, hence 85 and 10. */
	if (metric_present(tonight->sleep_min) &&
	    metric_present(tonight->sleep_efficiency_pct))
		component_set(
		    &r.sleep, tonight->sleep_min,
		    fmin((tonight->sleep_min - need_min) / 60.0, 1.0) +
			fmin((tonight->sleep_efficiency_pct - SLEEP_EFF_PCT) /
				 10.0,
			     0.5),
		    WEIGHT_SLEEP);
	else
		component_absent(&r.sleep, WEIGHT_SLEEP);

	/* Soreness runs the other way (5 = very sore), so it is mirrored
	 * onto the same 1-5 scale before the mean. */
	if (metric_present(tonight->mood) && metric_present(tonight->energy) &&
	    metric_present(tonight->soreness)) {
		double mean = (tonight->mood + tonight->energy +
			       (6.0 - tonight->soreness)) /
			      3.0;

		component_set(&r.checkin, mean, mean - 3.0, WEIGHT_CHECKIN);
	} else {
		component_absent(&r.checkin, WEIGHT_CHECKIN);
	}

	/* Only a load spike costs readiness; a light week is not a bonus. */
	if (metric_present(r.load_trend.acwr)) {
		double acwr = r.load_trend.acwr;
		double z =
		    acwr > LOAD_ACWR_NEUTRAL
			? -(acwr - LOAD_ACWR_NEUTRAL) / LOAD_ACWR_PER_UNIT
			: 0.0;

		component_set(&r.load, acwr, z, WEIGHT_LOAD);
	} else {
		component_absent(&r.load, WEIGHT_LOAD);
	}

	parts[0] = &r.hrv;
	parts[1] = &r.rhr;
	parts[2] = &r.sleep;
	parts[3] = &r.checkin;
	parts[4] = &r.load;
	for (size_t i = 0; i < 5; i++) {
		if (!parts[i]->present)
			continue;
		sum_wz += parts[i]->weight * parts[i]->z;
		sum_w += parts[i]->weight;
	}

	/* Without any HRV (a band that sends no RR), the nights with a
	 * resting HR are what the score stands on. */
	r.calibration_count = r.baseline.hrv_source == HRV_SOURCE_NONE
				  ? r.baseline.rhr_nights
				  : r.baseline.nights;
	r.calibrating = r.calibration_count < SCORE_CALIBRATION_NIGHTS;
	r.z_total = sum_w > 0.0 ? sum_wz / sum_w : METRIC_NONE;
	/* A score is about a night: a check-in or yesterday's load alone,
	 * with the strap and bed silent, is no readiness to report. */
	if (!r.calibrating && metric_present(r.z_total) &&
	    (r.hrv.present || r.rhr.present || r.sleep.present)) {
		double s = round(SCORE_CENTRE + SCORE_SCALE * r.z_total);

		r.score = (int32_t)fmin(fmax(s, 0.0), 100.0);
		r.zone = score_zone_of(r.score);
	} else {
		r.score = -1;
		r.zone = SCORE_ZONE_NONE;
	}

	*ret = r;
	return 0;
}

const char *score_zone_name(enum score_zone zone)
{
	switch (zone) {
	case SCORE_ZONE_RED:
		return "red";
	case SCORE_ZONE_YELLOW:
		return "yellow";
	case SCORE_ZONE_GREEN:
		return "green";
	case SCORE_ZONE_NONE:
		return "none";
	default:
		return "none";
	}
}

enum score_zone score_zone_of(int32_t score)
{
	if (score < 0)
		return SCORE_ZONE_NONE;
	if (score <= ZONE_RED_MAX)
		return SCORE_ZONE_RED;
	if (score <= ZONE_YELLOW_MAX)
		return SCORE_ZONE_YELLOW;
	return SCORE_ZONE_GREEN;
}
