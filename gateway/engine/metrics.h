/* SPDX-License-Identifier: MIT */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The plain data that flows between night analysis, scoring, advice and the
 * store. Times are UTC milliseconds since the epoch; a "day" is a local
 * calendar date as days since 1970-01-01 (clock.h converts). A metric that
 * could not be computed is NAN (METRIC_NONE): "no data" is never a zero.
 */

#define METRIC_NONE NAN

static inline bool metric_present(double value)
{
	return !isnan(value);
}

/* One RR interval, stamped with the time of the beat that ends it. */
struct rr_sample {
	int64_t t_ms;
	double rr_ms;
};

struct hr_sample {
	int64_t t_ms;
	double bpm;
};

/* A bed-occupancy or motion sensor changing state (or repeating it). */
struct state_sample {
	int64_t t_ms;
	bool on; /* occupied / moving */
};

struct weight_sample {
	int64_t t_ms;
	double weight_kg;
	double body_fat_pct; /* METRIC_NONE when not measured */
};

struct checkin_sample {
	int64_t t_ms;
	double mood;	 /* 1-5 */
	double soreness; /* 1-5 */
	double energy;	 /* 1-5 */
};

/*
 * What night analysis makes of one night, and what the store keeps forever.
 * The night of day D is the main sleep period that ends on the morning of D.
 */
struct night_metrics {
	int32_t day;

	/* Sleep window: 0 when no window was found (a gap, not a zero). */
	int64_t window_start_ms; /* into bed / strap on */
	int64_t window_end_ms;	 /* out of bed / strap off */
	int64_t sleep_onset_ms;
	int64_t wake_ms; /* final awakening */
	bool window_from_bed_sensor;

	double time_in_bed_min;
	double sleep_min;
	double sleep_efficiency_pct;
	double latency_min;
	int32_t out_of_bed_episodes;

	/* HRV over 5-minute windows inside the sleep (hrv.h) */
	double rmssd_ms;
	double ln_rmssd;
	double sdnn_ms;
	double pnn50_pct;
	int32_t hrv_windows; /* windows that counted */
	int32_t beats;	     /* RR intervals inside the sleep */
	int32_t dropped_beats;

	double resting_hr_bpm; /* lowest 5-minute mean inside the sleep */

	double weight_kg; /* first reading after wake, day D */
	double body_fat_pct;

	/* Check-in of day D (the mean when there were several) */
	double mood;
	double soreness;
	double energy;

	/* Banister TRIMP of day D-1, outside its sleep (load.h) */
	double load_trimp;
};

/* A night_metrics of @day with every metric absent. */
struct night_metrics night_metrics_empty(int32_t day);

/* Welford's running mean and variance: one pass, no cancellation. */
struct metric_running {
	int32_t n;
	double mean;
	double m2;
};

void metric_running_add(struct metric_running *r, double x);
/* The mean, or METRIC_NONE with fewer than @min_n values. */
double metric_running_mean(const struct metric_running *r, int32_t min_n);
/*
 * The sample SD, never under @floor_sd (a single value has no spread to
 * speak of, and a very steady person would otherwise turn a tiny wobble
 * into a huge z: the floor stands in for both); METRIC_NONE with no value.
 */
double metric_running_sd(const struct metric_running *r, double floor_sd);
