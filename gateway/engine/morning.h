/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * When a person's night is over: the decision that starts the morning's
 * analysis and alert. Pure: no I/O, no clock, no globals. The caller feeds
 * it what the person's bed sensor and strap say, and asks at times of its
 * choosing whether the night of @today is ready to be analysed.
 *
 * The night ends at the first of:
 *   - the sleep window closing: after the morning gate (wake hint minus
 *     MORNING_GATE_BEFORE_WAKE_MIN), the bed empty for MORNING_BED_EMPTY_MIN
 *     after a stay of at least MORNING_MIN_NIGHT_MIN, or the strap silent
 *     for MORNING_STRAP_OFF_MIN after as long a wear (the strap decides
 *     only without a bed sensor, or when the bed was left before the strap
 *     went on: a night spent elsewhere);
 *   - the person's alert time, when they set one;
 *   - the latest time (11:00 by default), for a night that never closes
 *     (a sensor left on, a night away).
 * Stays and wear merge across gaps shorter than MORNING_MERGE_GAP_MIN, so a
 * trip to the bathroom or a strap dropping out for a minute is one night.
 * Before the gate a closed window waits: someone up at 02:00 for a quarter
 * of an hour has not finished the night.
 */

#define MORNING_MIN_NIGHT_MIN	     180
#define MORNING_BED_EMPTY_MIN	     10
#define MORNING_STRAP_OFF_MIN	     10
#define MORNING_MERGE_GAP_MIN	     60
#define MORNING_GATE_BEFORE_WAKE_MIN 120

/* morning_params.alert_s for "at wake": no fixed alert time. */
#define MORNING_AT_WAKE (-1)

struct morning_params {
	int alert_s;  /* local seconds of the day, or MORNING_AT_WAKE */
	int latest_s; /* local seconds of the day */
	int wake_min; /* the usual wake time, local minutes of the day */
};

/* A span of presence (in bed, or strap worn): first and last instant. */
struct morning_span {
	int64_t start_ms; /* 0: none */
	int64_t last_ms;
};

struct morning_tracker {
	int32_t done_day; /* the last day whose night was announced */
	struct morning_span bed;
	bool bed_known;	      /* a bed sensor has reported */
	bool bed_occupied;    /* its last state */
	int64_t bed_state_ms; /* when it said so */
	struct morning_span strap;
};

enum morning_reason {
	MORNING_NOT_YET,
	MORNING_BED_EMPTY,  /* the bed left after a night in it */
	MORNING_STRAP_OFF,  /* the strap taken off after a night's wear */
	MORNING_ALERT_TIME, /* the person's alert time came first */
	MORNING_LATEST,	    /* nothing closed the night by the latest time */
	MORNING_DONE,	    /* @today was announced already */
};

/* A tracker with nothing seen, whose last announced day is @done_day. */
void morning_init(struct morning_tracker *t, int32_t done_day);

/* The bed sensor said occupied (@occupied) or empty at @t_ms. Readings
 * older than the last one are ignored. */
void morning_bed(struct morning_tracker *t, int64_t t_ms, bool occupied);

/* The strap sent a heart rate with skin contact at @t_ms. */
void morning_strap(struct morning_tracker *t, int64_t t_ms);

/*
 * Whether the night ending on the morning of @today is over at @now_ms,
 * which is @now_s local seconds into @today. MORNING_NOT_YET until then;
 * MORNING_DONE once morning_announced() was called for @today.
 */
enum morning_reason morning_check(const struct morning_tracker *t,
				  const struct morning_params *p, int32_t today,
				  int now_s, int64_t now_ms);

/*
 * The first instant after @now_ms (@now_s local seconds into @today) at
 * which morning_check() could answer otherwise than at @now_ms with no new
 * input (no reading, no morning_announced()): the gate, a stay or a wear
 * running out of its quiet time, the alert time, the latest time. Early
 * rather than late: it may name an instant at which nothing changes.
 * INT64_MAX when nothing is due today (announced already). For a caller
 * that sleeps until then instead of asking every few seconds.
 */
int64_t morning_next_check_ms(const struct morning_tracker *t,
			      const struct morning_params *p, int32_t today,
			      int now_s, int64_t now_ms);

/* The night of @day was analysed and announced: the presence spans start
 * over for the next night. */
void morning_announced(struct morning_tracker *t, int32_t day);

/* "bed empty", "strap off", "alert time", "latest time", ... for logs. */
const char *morning_reason_name(enum morning_reason reason);
