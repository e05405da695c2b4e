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
 * Every text is ours (but for the person's goal) and carries its numbers;
 * every text lives in a fixed buffer of the result, so nothing is owned.
 */

/* In the order the rules try them: the first that matches wins. The names
 * (advice_state_name()) are the API: MQTT, history, Home Assistant. */
enum advice_state {
	ADVICE_NO_DATA,		 /* nothing measured last night */
	ADVICE_CALIBRATING,	 /* fewer than 7 nights (or spot checks)
				    with HRV */
	ADVICE_RUNNING_ON_EMPTY, /* burnout: rest without guilt */
	ADVICE_OVERREACHING,	 /* load-driven: back off the plan */
	ADVICE_ONE_OFF_DIP,	 /* one red day on a normal trend */
	ADVICE_COMEBACK,	 /* good days again after a slump */
	ADVICE_EARLY_WARNING,	 /* two signals off: easy to moderate */
	ADVICE_STRAINED,	 /* easy movement only */
	ADVICE_STALE,		 /* the body is fine, the routine is flat */
	ADVICE_STEADY,		 /* train as planned, keep it aerobic */
	ADVICE_PRIMED,		 /* a quality session is welcome */
};

#define ADVICE_STATE_COUNT (ADVICE_PRIMED + 1)

#define ADVICE_MAX_ACTIONS 3   /* the most important first */
#define ADVICE_MAX_ITEMS   6   /* reasons; also enough for any action list */
#define ADVICE_TEXT	   240 /* bytes of an action or a reason, NUL included */
#define ADVICE_HEADLINE	   96
#define ADVICE_DETAIL	   560
/* The push text: at most this many characters (not bytes). */
#define ADVICE_PUSH_MAX_CHARS 200
#define ADVICE_PUSH_TEXT      (ADVICE_PUSH_MAX_CHARS * 4 + 1)
/* Each state has this many phrasings of its headline and of its detail. */
#define ADVICE_PHRASINGS 3

struct advice {
	enum advice_state state;
	char headline[ADVICE_HEADLINE];
	char detail[ADVICE_DETAIL];
	size_t action_count; /* at most ADVICE_MAX_ACTIONS */
	char actions[ADVICE_MAX_ACTIONS][ADVICE_TEXT];
	size_t reason_count; /* at most ADVICE_MAX_ITEMS */
	char reasons[ADVICE_MAX_ITEMS][ADVICE_TEXT];
	/* Which phrasing was chosen (0 .. ADVICE_PHRASINGS - 1): by the date,
	 * so that the same day always reads the same and the detail of two
	 * consecutive days always differs. */
	uint8_t headline_index;
	uint8_t detail_index;
	bool checked_in; /* today's check-in was there when this was decided */
	/* advice_push_text() of this advice without a name. */
	char push_text[ADVICE_PUSH_TEXT];
};

/* One earlier day as advice remembers it. */
struct advice_day {
	struct night_metrics night;
	struct score_result score;
	enum advice_state state;
};

struct advice_input {
	/* Earlier days, oldest first, up to yesterday (days may be missing).
	 * The rules look back at most 14 days. */
	const struct advice_day *history;
	size_t history_count;
	const struct night_metrics *night; /* today's night */
	const struct score_result *score;  /* today's score */
	double sleep_need_min;
	bool club_day;	  /* today is one of the person's club days */
	const char *goal; /* the person's own reason, or NULL; copied */
	/* The person's usual bedtime (local minutes after midnight): with
	 * it, the sleep-debt add-on names a clock time. */
	bool bedtime_known;
	int bedtime_min;
};

/*
 * Decides today's advice (DESIGN §6). The signals: the HRV trend (7-day
 * mean of ln RMSSD against mean60 -/+ 0.5 sd60: below, within, above, or
 * unknown with fewer than 3 nights), the RHR trend high (7-day mean over
 * mean60 + sd60), low days (scored under 50, of the last 5, today
 * included), load up (the 7-day mean daily load over 1.2 x the 28-day
 * mean, or ACWR over 1.3), mood low (mood 2 or lower on 3 of the last 5
 * check-ins of the last 10 days, today's among them and low), flat
 * motivation (energy 2 or lower likewise, today's check-in included),
 * sleep debt (over 5 h under need in 7 days). An unknown HRV trend counts
 * as normal unless the RHR trend is high.
 *
 * States, first match wins:
 *  no-data          - no sleep window (and no morning spot check with
 *                     HRV), or nothing in it to score;
 *  calibrating      - fewer than 7 earlier values (score.h's
 *                     calibration_count: nights with HRV, spot checks,
 *                     or, with no HRV at all, nights with a resting HR);
 *  running-on-empty - 3 low days, today under 67, HRV below or RHR high,
 *                     and load not up; or mood low with HRV below, RHR
 *                     high or sleep debt;
 *  overreaching     - 3 low days or today red, HRV below or RHR high, and
 *                     load up;
 *  one-off-dip      - today red on a normal trend, no other low day of 5;
 *  comeback         - running on empty or overreaching in the 14 days
 *                     before, today and yesterday 50 or more; once begun it
 *                     holds 3 mornings (while scores stay 50 or more), then
 *                     as long as a 7-day trend still lags;
 *  early-warning    - today 34 or more and two of: HRV below, RHR high, 2
 *                     of the last 3 days low, sleep debt, today's mood 2 or
 *                     lower;
 *  strained         - today red, or yellow with HRV below or yesterday low;
 *  stale            - today 50 or more on a normal trend, and monotony over
 *                     2.0, the same check-in 7 days running, or flat
 *                     motivation;
 *  steady           - yellow otherwise, or green with the HRV trend below;
 *  primed           - green on a normal trend.
 * Then the add-ons, each once and only when not already said: sleep debt
 * (bed at a clock time), morning weight 1 % or more under its 7-day median
 * (drink), club day (run with them, or walk it on an easy day). At most 3
 * actions, no two on the same topic. The reasons also say where today's
 * HRV came from when that is news: a failed spot check (spot.h's reason),
 * HRV from the spot check, or a score with no HRV in it. Returns 0, or
 * -EINVAL for NULL.
 */
int advice_decide(const struct advice_input *in, struct advice *ret);

/*
 * The push text of @a (a phone notification, a TTS line): "@name: " when
 * @name is neither NULL nor empty, the headline, the first action, and,
 * when @a was decided without a check-in today, a one-line invitation to
 * check in. At most ADVICE_PUSH_MAX_CHARS characters: the action, then the
 * name, is cut at a word (ending in "...") to fit, never the invitation.
 * Writes a terminated string into @buf (@size bytes; ADVICE_PUSH_TEXT is
 * always enough) and returns its length in characters; 0 with @buf empty
 * when @size is 0 or too small for the headline.
 */
size_t advice_push_text(const struct advice *a, const char *name, char *buf,
			size_t size);

/* "no-data", "calibrating", "running-on-empty", "overreaching",
 * "one-off-dip", "comeback", "early-warning", "strained", "stale",
 * "steady", "primed". */
const char *advice_state_name(enum advice_state state);

/* The inverse; false for an unknown name. */
bool advice_state_parse(const char *name, enum advice_state *ret);

/* Whether @state tells the person to go easy or rest: running-on-empty,
 * overreaching, one-off-dip, strained. */
bool advice_state_easy_only(enum advice_state state);
