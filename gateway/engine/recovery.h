/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/engine/advice.h"
#include "gateway/engine/metrics.h"
#include "gateway/engine/score.h"

/*
 * From a person's stored nights to each day's score and advice: the one
 * place that runs score and advice over time, used by the daemon, by
 * `recoveryctl import` and by the scenario tests. Pure: no I/O, no clock,
 * no allocation, no globals.
 */

/* Days replayed before the first day asked for, so that trend states
 * (a slump, a comeback) are known on it. */
#define RECOVERY_WARMUP_DAYS 21
/* Nights a score looks back over: 60 of baseline, 28 of load. */
#define RECOVERY_LOOKBACK_DAYS 61

struct recovery_params {
	struct score_params score;
	uint8_t club_days; /* bit 0 Monday ... bit 6 Sunday */
	const char *goal;  /* the person's own reason, or NULL */
	/* The usual bedtime (local minutes after midnight), for the sleep-debt
	 * add-on's clock time; unknown unless bedtime_known. */
	bool bedtime_known;
	int bedtime_min;
};

struct recovery_day {
	int32_t day;
	struct night_metrics night; /* empty (all absent) for a gap */
	struct score_result score;
	struct advice advice;
};

typedef void (*recovery_day_fn)(const struct recovery_day *d, void *data);

/*
 * Replays days [@from_day - RECOVERY_WARMUP_DAYS, @to_day] over @nights
 * (sorted by day, oldest first; days without a night are gaps) and calls
 * @fn for each day in [@from_day, @to_day], in order. Returns 0, or
 * -EINVAL when the range is empty or @nights is not sorted.
 */
int recovery_replay(const struct night_metrics *nights, size_t count,
		    int32_t from_day, int32_t to_day,
		    const struct recovery_params *p, recovery_day_fn fn,
		    void *data);

/* 0 = Monday ... 6 = Sunday, for day numbers since 1970-01-01. */
int recovery_weekday(int32_t day);
