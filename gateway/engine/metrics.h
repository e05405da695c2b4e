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
 * Where a day's HRV came from (DESIGN §4): the night's 5-minute windows or
 * the morning spot check (spot.h chooses). Here, not in hrv.h, because the
 * day keeps it (struct night_metrics) and the store writes its name.
 */
enum hrv_source {
	HRV_SOURCE_NONE,
	HRV_SOURCE_NIGHT,
	HRV_SOURCE_SPOT,
};

/* "night", "spot", or "none": the state's and history's `hrv_source`. */
const char *hrv_source_name(enum hrv_source source);

/* The morning spot check's verdict (spot.h judges; the day keeps it). */
enum spot_status {
	SPOT_NONE,	/* no spot-check session this morning */
	SPOT_TOO_SHORT, /* under 60 s usable after the 30 s settling */
	SPOT_TOO_NOISY, /* under 80 % of the window's beats kept */
	SPOT_OK,
};

/* "none", "too-short", "too-noisy" or "ok". */
const char *spot_status_name(enum spot_status status);

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

	/*
	 * The day's HRV: rmssd_ms and ln_rmssd are the night's (the mean of
	 * its 5-minute windows, hrv.h) when hrv_source is night, the morning
	 * spot check's when it is spot (the night then had under 6 windows,
	 * so no value of its own), absent when none. SDNN and pNN50 are the
	 * night's only.
	 */
	enum hrv_source hrv_source;
	double rmssd_ms;
	double ln_rmssd;
	double sdnn_ms;
	double pnn50_pct;
	int32_t hrv_windows; /* the night's windows that counted */
	int32_t beats;	     /* RR intervals inside the sleep */
	int32_t dropped_beats;

	/*
	 * The morning spot check (spot.h), whatever the day's source: a
	 * clean one on a night with HRV still belongs to the spot baseline.
	 */
	enum spot_status spot_status;
	int64_t spot_start_ms; /* its first beat; 0 without one */
	double spot_rmssd_ms;  /* METRIC_NONE unless spot_status is ok */
	double spot_ln_rmssd;
	double spot_hr_bpm; /* mean HR of the analysed span */

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
