/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gateway/core/clock.h"
#include "gateway/engine/metrics.h"

/*
 * A seeded, deterministic household: two people, a strap each, a bed sensor
 * each, a motion sensor in one bedroom and a scale they share. It produces
 * raw readings (RR intervals, heart rate, bed and motion states, weights,
 * check-ins) day by day, with known events on the first person's timeline,
 * for tests, benchmarks and the daemon's demo mode.
 *
 * Person 0's timeline (day index from the first day):
 *   0-6    calibration week, normal nights
 *   16     one isolated bad night (low HRV, high RHR, short sleep)
 *   30-35  a slump: suppressed HRV, RHR +5 bpm, short sleep, low mood
 *   36-41  recovery back to normal
 *   42     a missed night: strap and bed sensor silent
 *   50-59  a monotone training block: the same session every day
 * Person 1 has normal variation throughout and weighs in on the same scale.
 * Each person trains on varied days otherwise (rest days included).
 */

#define SCENARIO_PEOPLE 2
/* The demo household (demo mode): the two above, a third person whose
 * training block overreaches (SCENARIO_STORY_OVERREACH) and a fourth who
 * sleeps without a strap and spot-checks each morning (SCENARIO_STORY_SPOT).
 */
#define SCENARIO_DEMO_PEOPLE 4

enum scenario_event {
	SCENARIO_NORMAL,
	SCENARIO_CALIBRATION,
	SCENARIO_BAD_NIGHT,
	SCENARIO_SLUMP,
	SCENARIO_RECOVERY,
	SCENARIO_MISSED,
	SCENARIO_MONOTONE,
	SCENARIO_BURNOUT,     /* mood and energy flat, body down, no training */
	SCENARIO_BUILD,	      /* a training block: more and harder each day */
	SCENARIO_OVERREACHED, /* the block goes on; the body is down under it */
	SCENARIO_TAPER,	      /* easy days after the block */
	SCENARIO_FLAT,	      /* not feeling it: energy 2, the body fine */
};

/*
 * One person's story, for tests that need more than the household: each
 * is a life of its own, emitted with scenario_emit_story_day().
 *   HOUSEHOLD     person 0's timeline above
 *   HEALTHY       ordinary night-to-night variation throughout
 *   BURNOUT       28-37 burnout (low mood and energy, HRV down, RHR up,
 *                 short nights, training dropped), 38-43 recovery
 *   OVERREACH     14-23 a training block building up, 24-30 the block
 *                 goes on with the body down (HRV, RHR, sleep), 31-34
 *                 easy days, back to normal after
 *   FLAT          28-41 not feeling it: energy 2, mood 3, the body fine
 *   SPOT          sleeps without a strap (a bed sensor only) and takes a
 *                 morning spot check in bed right after waking: 3.5
 *                 minutes of RR and HR (DESIGN §4); too noisy on the days
 *                 of scenario_spot_noisy(), on day 12 a noisy attempt and
 *                 a clean one after it, none on day 15; weighs in
 *                 and checks in once up, after it
 *   NO_RR         an optical band that sends heart rate but no RR
 *                 intervals, worn at night; no bed sensor
 * Both last ordinary lives otherwise (check-ins, weigh-ins, training).
 */
enum scenario_story {
	SCENARIO_STORY_HOUSEHOLD,
	SCENARIO_STORY_HEALTHY,
	SCENARIO_STORY_BURNOUT,
	SCENARIO_STORY_OVERREACH,
	SCENARIO_STORY_FLAT,
	SCENARIO_STORY_SPOT,
	SCENARIO_STORY_NO_RR,
};

/* The SPOT story's days with a spot check, and those whose only (or first)
 * attempt is too noisy to use. */
bool scenario_spot_taken(int index);
bool scenario_spot_noisy(int index);

struct scenario_sink {
	void (*rr)(void *data, int person, int64_t t_ms, double rr_ms);
	void (*hr)(void *data, int person, int64_t t_ms, double bpm);
	void (*bed)(void *data, int person, int64_t t_ms, bool occupied);
	void (*motion)(void *data, int person, int64_t t_ms, bool moving);
	/* The shared scale: @person is who stood on it (for checking the
	 * gateway's assignment), @scale_user the index the scale sent. */
	void (*weight)(void *data, int person, int scale_user, int64_t t_ms,
		       double weight_kg, double body_fat_pct);
	void (*checkin)(void *data, int person, int64_t t_ms, double mood,
			double soreness, double energy);
};

struct scenario {
	uint64_t seed;
	int32_t first_day; /* local day of the first night's morning */
	int days;	   /* default 70 */
	const clock_zone *zone;
};

/* What happens to @person on day index @index (the night ending that
 * morning and the day that follows). */
enum scenario_event scenario_event_of(int person, int index);

/* What happens on day index @index of @story. */
enum scenario_event scenario_story_event(enum scenario_story story, int index);

/*
 * Emits everything of day index @index, in time order per person: the
 * night that ends on the morning of first_day + index (from the evening
 * before), the morning weigh-in and check-in, and the day's training.
 * Calling it for each index in turn gives the whole scenario; the same seed
 * always gives the same readings, whatever order the days are asked in.
 */
void scenario_emit_day(const struct scenario *sc, int index,
		       const struct scenario_sink *sink, void *data);

/*
 * Emits day index @index of one person living @story, as scenario_emit_day()
 * does for the household: the sink sees @person (0 to SCENARIO_DEMO_PEOPLE
 * - 1), whose body (typical RMSSD, resting HR, weight, motion sensor) it
 * also picks. The same seed, story, person and index always give the same
 * readings.
 */
void scenario_emit_story_day(const struct scenario *sc,
			     enum scenario_story story, int person, int index,
			     const struct scenario_sink *sink, void *data);

/*
 * The demo household's people: person 0 lives the household timeline
 * (SCENARIO_STORY_HOUSEHOLD: a bad night, a slump and its comeback, a
 * missed night, a monotone block), person 1 ordinary variation with no
 * events at all (SCENARIO_STORY_HEALTHY), person 2 a training block that
 * overreaches, then tapers (SCENARIO_STORY_OVERREACH), person 3 no strap at
 * night and a spot check each morning (SCENARIO_STORY_SPOT). Between them
 * the 56 days of the demo show every advice state but at most one.
 */
enum scenario_story scenario_demo_story(int person);

/* Emits day index @index of every demo person (scenario_emit_story_day()
 * with scenario_demo_story()); the first two are scenario_emit_day()'s. */
void scenario_emit_demo_day(const struct scenario *sc, int index,
			    const struct scenario_sink *sink, void *data);

/* The local bedtime and wake time (minutes of day) the people keep. */
#define SCENARIO_BEDTIME_MIN (23 * 60)
#define SCENARIO_WAKE_MIN    (7 * 60)
