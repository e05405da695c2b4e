/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "gateway/engine/metrics.h"

/*
 * Night analysis: from one night's raw samples to struct night_metrics.
 * Pure: no I/O, no clock, no allocation, no globals. Every array is sorted
 * by time; any may be empty.
 */

#define NIGHT_EPOCH_MS (60 * 1000)
/* Out of bed this long ends a period: the same as morning.h's
 * MORNING_MERGE_GAP_MIN, so the night the alert waited for is one night. */
#define NIGHT_MERGE_GAP_MS (60 * 60 * 1000)
#define NIGHT_WEAR_GAP_MS  (5 * 60 * 1000) /* strap silent this long: off */
#define NIGHT_MIN_WINDOW_MS                                                    \
	(60 * 60 * 1000)      /* shorter is a nap, not a night                 \
			       */
#define NIGHT_ONSET_EPOCHS 10 /* asleep epochs in a row: onset */
/* An unrepeated, uncleared motion "on" lasts this long. */
#define NIGHT_MOTION_HOLD_MS (30 * 60 * 1000)

struct night_input {
	int32_t day;
	/*
	 * Where the night may lie: local 18:00 of D-1 to 14:00 of D (clock.h
	 * computes it across DST changes).
	 */
	int64_t search_start_ms;
	int64_t search_end_ms;
	/*
	 * The user's bedtime hints (local bedtime of D-1 to wake time of D),
	 * used when no bed sensor speaks: strap wear counts only inside.
	 */
	int64_t hint_start_ms;
	int64_t hint_end_ms;
	/* End of local day D, for the morning weight and the check-in. */
	int64_t day_end_ms;

	const struct rr_sample *rr;
	size_t rr_count;
	const struct hr_sample *hr;
	size_t hr_count;
	/* Bed occupancy, including the last state before search_start. */
	const struct state_sample *bed;
	size_t bed_count;
	const struct state_sample *motion;
	size_t motion_count;
	const struct weight_sample *weights;
	size_t weight_count;
	const struct checkin_sample *checkins;
	size_t checkin_count;
};

/*
 * Analyses one night. The sleep window comes from the bed sensor when it
 * reported inside the search span: the longest occupied period, with
 * absences shorter than 60 minutes merged into it (and counted as out-of-bed
 * episodes). Otherwise it is the longest stretch of strap wear (heart-rate
 * samples with gaps under 5 minutes) inside the bedtime hints. A window
 * under an hour is no night.
 *
 * The window is cut into 1-minute epochs; an epoch is awake when out of bed,
 * when motion was reported in it, or (without a motion sensor) when its mean
 * heart rate is 15 % above the window's median; otherwise asleep. Sleep
 * onset is the first of 10 asleep epochs in a row; wake is the end of the
 * last asleep epoch. HRV and resting HR come from [onset, wake): resting HR
 * is the lowest mean over 5-minute windows, a window without heart-rate
 * samples taking 60,000 / its mean RR (an RR-only recording has a resting
 * HR); without heart-rate samples at all, strap wear is read from the RR
 * intervals. The morning
 * weight is the first weight after wake up to @day_end_ms; the check-in
 * fields are the means of the check-ins of day D (wake to day end, or the
 * search span when there was no window); load_trimp is left METRIC_NONE
 * (load.h computes it from the previous day).
 *
 * Always returns 0 and fills @ret; a night with no window has every sleep,
 * HRV and HR metric absent (METRIC_NONE) but may still carry a weight or a
 * check-in.
 */
int night_analyze(const struct night_input *in, struct night_metrics *ret);
