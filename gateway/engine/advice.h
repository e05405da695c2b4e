/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/engine/metrics.h"
#include "gateway/engine/score.h"

/*
 * What the morning alert recommends (DESIGN §6): readiness read as a trend,
 * never as one bad night. Pure: no I/O, no clock, no allocation, no globals.
 * Every text is ours and carries its numbers.
 */

enum advice_state {
	ADVICE_NO_DATA,	    /* nothing measured last night */
	ADVICE_CALIBRATING, /* fewer than 7 nights with HRV */
	ADVICE_RUNNING_ON_EMPTY,
	ADVICE_ONE_OFF_DIP,
	ADVICE_STRAINED,
	ADVICE_COMEBACK,
	ADVICE_STALE,
	ADVICE_PRIMED,
};

#define ADVICE_MAX_ITEMS 6
#define ADVICE_TEXT	 240

struct advice {
	enum advice_state state;
	char headline[96];
	char detail[ADVICE_TEXT];
	size_t action_count;
	char actions[ADVICE_MAX_ITEMS][ADVICE_TEXT];
	size_t reason_count;
	char reasons[ADVICE_MAX_ITEMS][ADVICE_TEXT];
};

/* One earlier day as advice remembers it. */
struct advice_day {
	struct night_metrics night;
	struct score_result score;
	enum advice_state state;
};

struct advice_input {
	/* Earlier days, oldest first, up to yesterday (days may be missing). */
	const struct advice_day *history;
	size_t history_count;
	const struct night_metrics *night; /* today's night */
	const struct score_result *score;  /* today's score */
	double sleep_need_min;
	bool club_day;	  /* today is one of the person's club days */
	const char *goal; /* the person's own reason, or NULL */
};

/*
 * Decides today's advice; first match wins:
 *  no data       - no sleep window and no component last night;
 *  calibrating   - fewer than 7 nights with HRV;
 *  running on empty - 3 of the last 5 days (today included) scored under
 *                  50, today too, and the 7-day ln RMSSD mean is below the
 *                  normal range (mean60 - 0.5 sd60) or the 7-day RHR mean
 *                  above mean60 + sd60; or mood 2 or lower on 3 of the last
 *                  5 days with a check-in;
 *  one-off dip   - today red, trend normal;
 *  strained      - today yellow, or green with the 7-day HRV below normal;
 *  comeback      - green today and yesterday, and running on empty within
 *                  the 7 days before;
 *  stale         - green but 7-day monotony over 2.0, or the same check-in
 *                  on each of the last 7 days;
 *  primed        - green with the 7-day HRV within or above normal.
 * Then the add-ons: sleep debt over 5 h in 7 days, morning weight 1 % or
 * more under its 7-day median, club day, and the goal in slump states.
 * Always returns 0.
 */
int advice_decide(const struct advice_input *in, struct advice *ret);

/* "no-data", "calibrating", "running-on-empty", "one-off-dip", "strained",
 * "comeback", "stale", "primed". */
const char *advice_state_name(enum advice_state state);

/* The inverse; false for an unknown name. */
bool advice_state_parse(const char *name, enum advice_state *ret);
