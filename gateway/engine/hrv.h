/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/engine/metrics.h"

/*
 * Heart rate variability, time domain (Task Force of the ESC and NASPE,
 * 1996). Pure: no I/O, no allocation, no globals.
 */

#define HRV_RR_MIN_MS	  300.0
#define HRV_RR_MAX_MS	  2000.0
#define HRV_MAX_JUMP	  0.20 /* Malik: vs the previous accepted beat */
#define HRV_WINDOW_MS	  (5 * 60 * 1000)
#define HRV_WINDOW_KEEP	  0.80 /* share of a window's beats that must survive */
#define HRV_NIGHT_WINDOWS 6    /* counted windows needed for a night value */

struct hrv_clean_stats {
	size_t total;
	size_t kept;
	size_t out_of_range; /* outside 300-2000 ms */
	size_t jumps;	     /* > 20 % from the previous accepted beat */
};

/*
 * Marks each of @n intervals kept or dropped in @ret_keep (n entries): out
 * of 300-2000 ms, or differing by more than 20 % from the previous accepted
 * beat (Malik). The first in-range beat is accepted as the reference.
 * @ret_stats may be NULL.
 */
void hrv_clean(const double *rr_ms, size_t n, bool *ret_keep,
	       struct hrv_clean_stats *ret_stats);

struct hrv_metrics {
	size_t count; /* NN intervals used */
	size_t diffs; /* successive differences used */
	double mean_nn_ms;
	double sdnn_ms; /* sample SD (n - 1) */
	double rmssd_ms;
	double ln_rmssd;
	size_t nn50;	    /* |diff| > 50 ms */
	double pnn50_pct;   /* nn50 / diffs * 100 */
	double mean_hr_bpm; /* 60000 / mean NN */
};

/*
 * Time-domain metrics of @n intervals, those with @keep[i] false (or all,
 * when @keep is NULL) left out. Successive differences are taken only
 * between two kept beats that are adjacent in the recording, so a dropped
 * artefact never makes a difference across its gap. Returns 0, or -ENODATA
 * with fewer than 2 kept intervals or no difference (@ret untouched).
 */
int hrv_compute(const double *rr_ms, const bool *keep, size_t n,
		struct hrv_metrics *ret);

/*
 * Metrics of the stamped beats @rr[0..n), cleaned on their own by the rules
 * of hrv_clean (300-2000 ms, Malik from the first in-range beat), the way a
 * night's window is. A stretch of a longer recording is read in place: no
 * copy, no allocation. @ret_stats (may be NULL) is filled in any case.
 * Returns 0, or -ENODATA with fewer than 2 kept intervals or no successive
 * difference (@ret untouched).
 */
int hrv_span(const struct rr_sample *rr, size_t n,
	     struct hrv_clean_stats *ret_stats, struct hrv_metrics *ret);

struct hrv_night {
	int32_t windows;  /* 5-minute windows with any beat */
	int32_t counted;  /* windows that passed the 80 % rule */
	double rmssd_ms;  /* mean RMSSD of counted windows */
	double ln_rmssd;  /* ln of rmssd_ms */
	double sdnn_ms;	  /* mean SDNN of counted windows */
	double pnn50_pct; /* mean pNN50 of counted windows */
	int32_t beats;	  /* intervals inside [start, end) */
	int32_t dropped;  /* of which cleaning dropped */
};

/*
 * Night HRV from beats (sorted by time) inside [@start_ms, @end_ms): the
 * span is cut into 5-minute windows from @start_ms; each window is cleaned
 * on its own beats and counts when at least 80 % of them survive and its
 * beats cover at least half the window (a strap that was off does not
 * count). Night values are the means over counted windows. Returns 0 with
 * @ret filled, or -ENODATA (with @ret still filled, metrics METRIC_NONE)
 * when fewer than 6 windows counted.
 */
int hrv_night(const struct rr_sample *rr, size_t n, int64_t start_ms,
	      int64_t end_ms, struct hrv_night *ret);
