/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/engine/metrics.h"

/*
 * Training load from heart rate: Banister's TRIMP per session, daily load,
 * and its 7-day trend (Foster's monotony and strain; acute:chronic ratio).
 * Pure: no I/O, no allocation, no globals.
 */

enum load_sex {
	LOAD_SEX_UNSPECIFIED, /* the mean of the two weightings */
	LOAD_SEX_MALE,
	LOAD_SEX_FEMALE,
};

struct load_params {
	double hr_rest_bpm;
	double hr_max_bpm;
	enum load_sex sex;
};

/*
 * Banister TRIMP of @duration_min at mean heart rate @hr_bpm:
 * duration * HRr * k * exp(b * HRr), HRr = (hr - rest) / (max - rest)
 * clamped to [0, 1]; k, b = 0.64, 1.92 (male), 0.86, 1.67 (female).
 */
double load_trimp(double duration_min, double hr_bpm,
		  const struct load_params *p);

/*
 * Daily load: TRIMP summed over the sessions in @hr (sorted by time) inside
 * [@from_ms, @to_ms). A session is a run of samples with no gap over 2
 * minutes, lasting at least 10 minutes, whose mean is above rest + 20 % of
 * the reserve; samples inside [@skip_from_ms, @skip_to_ms) (the sleep) are
 * ignored. Each sample contributes TRIMP for the time to the next one
 * (at most 2 minutes). Returns 0.0 when there was no session.
 */
double load_day(const struct hr_sample *hr, size_t n, int64_t from_ms,
		int64_t to_ms, int64_t skip_from_ms, int64_t skip_to_ms,
		const struct load_params *p);

struct load_trend {
	double acute;	/* mean daily load, last 7 days */
	double chronic; /* mean daily load, last 28 days */
	double acwr; /* acute / chronic; METRIC_NONE without 28 days or chronic
			0 */
	double monotony; /* 7-day mean / SD (SD floored), METRIC_NONE without 7
			    days */
	double strain;	 /* 7-day total * monotony */
};

/*
 * The trend of @n daily loads (oldest first, the last being the most recent
 * day; NAN days count as 0 load). Monotony's SD is floored at 1 % of the
 * mean (and at 1.0) so that identical days give a large, finite value.
 */
void load_trend(const double *daily, size_t n, struct load_trend *ret);
