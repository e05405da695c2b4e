/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/engine/load.h"
#include "gateway/engine/metrics.h"

/*
 * The recovery score (DESIGN §5): z-scores of tonight against the person's
 * own baselines, clamped, weighted, renormalised over what is present.
 * Pure: no I/O, no clock, no allocation, no globals.
 */

#define SCORE_BASELINE_NIGHTS	 60
#define SCORE_CALIBRATION_NIGHTS 7
#define SCORE_LN_RMSSD_SD_FLOOR	 0.05
#define SCORE_RHR_SD_FLOOR	 1.0
#define SCORE_Z_MIN		 (-3.0)
#define SCORE_Z_MAX		 2.0

enum score_zone {
	SCORE_ZONE_NONE, /* no score: calibrating or no data */
	SCORE_ZONE_RED,	 /* <= 33 */
	SCORE_ZONE_YELLOW,
	SCORE_ZONE_GREEN, /* >= 67 */
};

struct score_component {
	bool present;
	double value;  /* the input: ln RMSSD, bpm, minutes..., or ACWR */
	double z;      /* clamped to [-3, +2] */
	double weight; /* nominal weight (0.40, 0.20, ...) */
};

struct score_baseline {
	/*
	 * Whose HRV values the ln_rmssd fields are (DESIGN §4: a spot value
	 * and a night value are different physiology, each with its own
	 * baseline): today's source; on a day without HRV, the source with
	 * more values in the 60 days (the night on a tie); none when neither
	 * has any (a band that sends no RR).
	 */
	enum hrv_source hrv_source;
	int32_t nights;	      /* earlier values of that source in the 60 */
	double ln_rmssd_mean; /* METRIC_NONE without any */
	double ln_rmssd_sd;   /* sample SD, floored */
	int32_t rhr_nights;
	double rhr_mean;
	double rhr_sd;
	int32_t week_nights; /* values of the source in the last 7, today
				included */
	double ln_rmssd_7d;  /* their mean; METRIC_NONE with fewer than 3 */
	double rhr_7d;	     /* mean RHR over the same 7 days, likewise */
};

struct score_result {
	int32_t day;
	/*
	 * Fewer than 7 earlier values (calibration_count): HRV values of the
	 * baseline's source, or, with no HRV source at all, nights with a
	 * resting HR (DESIGN §5: a person whose band sends no RR is scored
	 * without HRV).
	 */
	bool calibrating;
	int32_t calibration_count;
	int32_t score; /* 0-100, or -1 when none */
	enum score_zone zone;
	double z_total; /* weighted mean of present components */
	struct score_component hrv;
	struct score_component rhr;
	struct score_component sleep;
	struct score_component checkin;
	struct score_component load;
	struct score_baseline baseline;
	struct load_trend load_trend;
};

struct score_params {
	double sleep_need_min; /* default 480 */
};

/*
 * Scores the last of @nights (sorted by day, oldest first; days may be
 * missing). Baselines use the up to 60 nights with days in [D-60, D-1];
 * the 7-night mean uses days [D-6, D]; the load trend uses the load_trimp of
 * days [D-27, D] (missing days count as no load). The HRV baseline is of
 * one source (score_baseline.hrv_source): night values are the days whose
 * hrv_source is night (a day with ln_rmssd and no source, made before
 * sources existed, counts as a night), spot values every clean morning
 * spot check (spot_ln_rmssd), through spot_baseline(). With fewer than 7
 * earlier values the result is calibrating, with no score; a night without
 * any component present gets no score either. Returns 0, or -EINVAL when
 * @count is 0.
 */
int score_night(const struct night_metrics *nights, size_t count,
		const struct score_params *p, struct score_result *ret);

/* "red", "yellow", "green", or "none". */
const char *score_zone_name(enum score_zone zone);

/* The zone a 0-100 score falls in. */
enum score_zone score_zone_of(int32_t score);
