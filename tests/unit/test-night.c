// SPDX-License-Identifier: MIT
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/engine/night.h"

/*
 * Each vector describes a synthetic night in seconds from midnight of day D
 * (EVE() is the evening before, MORN() the morning of D), and the metrics
 * worked out by hand. The builder turns it into sorted sample arrays:
 *  - bed: the state before the search span (empty since 08:00 of D-1), then
 *    an on and an off report per occupied span;
 *  - motion: an on report every minute of each burst (as a PIR sensor
 *    repeats itself) and an off report at its end;
 *  - HR every 5 s at hr_bpm (60 unless set) over the hr span, except where
 *    a level says otherwise (bpm 0: the strap is silent), plus extra samples;
 *  - RR alternating 975 / 1025 ms (60 bpm, RMSSD exactly 50 ms) over rr.
 */

#define D0	   20500 /* any day: night analysis knows no time zones */
#define DAY_MS	   (INT64_C(86400) * 1000)
#define EVE(h, m)  ((((h)*60 + (m)) - 24 * 60) * 60)
#define MORN(h, m) (((h)*60 + (m)) * 60)
#define MAX_ITEMS  6

/* The usual strap: on at 22:00, off at 07:30. */
#define STRAP                                                                  \
	.hr = { EVE(22, 0), MORN(7, 30) }, .rr = { EVE(22, 0), MORN(7, 30) }

struct span {
	int from_s, to_s;
};

struct hr_level {
	int from_s, to_s;
	double bpm;
};

struct hr_extra {
	int t_s;
	double bpm;
};

struct weigh_in {
	int t_s;
	double weight_kg, body_fat_pct; /* fat 0: not measured */
};

struct check_in {
	int t_s;
	double mood, soreness, energy; /* 0: not answered */
};

struct night_vector {
	const char *name;

	/* Input. search and hints default (when zero) to 18:00-14:00 and
	 * 22:30-07:00. */
	struct span search, hints;
	size_t n_bed;
	struct span bed[MAX_ITEMS];
	size_t n_motion;
	struct span motion[MAX_ITEMS];
	struct span hr;
	double hr_bpm;
	size_t n_levels;
	struct hr_level levels[MAX_ITEMS];
	size_t n_extra;
	struct hr_extra extra[MAX_ITEMS];
	struct span rr;
	size_t n_weights;
	struct weigh_in weights[MAX_ITEMS];
	size_t n_checkins;
	struct check_in checkins[MAX_ITEMS];

	/* Expected; a 0 weight, fat, check-in field or resting HR means
	 * METRIC_NONE. */
	bool night;
	bool from_bed;
	bool no_onset;
	struct span window;
	int onset_s, wake_s;
	double tib_min, sleep_min, efficiency_pct, latency_min;
	int episodes;
	double resting_hr_bpm;
	bool hrv;
	double weight_kg, body_fat_pct;
	double mood, soreness, energy;
};

static const struct night_vector vectors[] = {
	{
	    .name = "/night/bed/window",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* 10 minutes out: merged, one episode, 470 minutes in bed.
	     * Motion around the trip wakes 02:58-03:00 and 03:10-03:12:
	     * 14 awake minutes in all, 466 asleep. */
	    .name = "/night/bed/bathroom-trip-merged",
	    .n_bed = 2,
	    .bed = { { EVE(23, 0), MORN(3, 0) }, { MORN(3, 10), MORN(7, 0) } },
	    .n_motion = 2,
	    .motion = { { MORN(2, 58), MORN(3, 1) },
			{ MORN(3, 10), MORN(3, 12) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 470,
	    .sleep_min = 466,
	    .efficiency_pct = 466.0 / 470.0 * 100.0,
	    .latency_min = 0,
	    .episodes = 1,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* An hour out ends the period (as the morning alert's gate
	     * sees it): 150 vs 320 minutes. */
	    .name = "/night/bed/long-absence-later-wins",
	    .n_bed = 2,
	    .bed = { { EVE(22, 0), MORN(0, 30) }, { MORN(1, 40), MORN(7, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { MORN(1, 40), MORN(7, 0) },
	    .onset_s = MORN(1, 40),
	    .wake_s = MORN(7, 0),
	    .tib_min = 320,
	    .sleep_min = 320,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* 360 vs 140 minutes. */
	    .name = "/night/bed/long-absence-earlier-wins",
	    .n_bed = 2,
	    .bed = { { EVE(22, 0), MORN(4, 0) }, { MORN(5, 10), MORN(7, 30) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(22, 0), MORN(4, 0) },
	    .onset_s = EVE(22, 0),
	    .wake_s = MORN(4, 0),
	    .tib_min = 360,
	    .sleep_min = 360,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* 40 minutes up at 03:00 is one night with an episode (the
	     * morning alert waits across gaps under 60 minutes too): 440
	     * minutes in bed, the 40 out awake, the rest asleep. */
	    .name = "/night/bed/40-minutes-out-one-night",
	    .n_bed = 2,
	    .bed = { { EVE(23, 0), MORN(3, 0) }, { MORN(3, 40), MORN(7, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 440,
	    .sleep_min = 440,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .episodes = 1,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* 59 minutes: still one night. */
	    .name = "/night/bed/59-minutes-out-one-night",
	    .n_bed = 2,
	    .bed = { { EVE(23, 0), MORN(3, 0) }, { MORN(3, 59), MORN(7, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 421,
	    .sleep_min = 421,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .episodes = 1,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* 60 minutes: two periods, 240 vs 180 minutes. */
	    .name = "/night/bed/60-minutes-out-splits",
	    .n_bed = 2,
	    .bed = { { EVE(23, 0), MORN(3, 0) }, { MORN(4, 0), MORN(7, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(3, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(3, 0),
	    .tib_min = 240,
	    .sleep_min = 240,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* In bed before the search span opens: the window starts with
	     * it. 18:00-22:00 has no heart rate and no motion: asleep. */
	    .name = "/night/bed/occupied-before-search",
	    .n_bed = 1,
	    .bed = { { EVE(17, 30), MORN(2, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(18, 0), MORN(2, 0) },
	    .onset_s = EVE(18, 0),
	    .wake_s = MORN(2, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    .name = "/night/bed/exactly-an-hour",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(0, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(0, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(0, 0),
	    .tib_min = 60,
	    .sleep_min = 60,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    .name = "/night/bed/nap-50-minutes",
	    .n_bed = 1,
	    .bed = { { EVE(20, 0), EVE(20, 50) } },
	    .hr = { EVE(20, 0), EVE(20, 50) },
	    .rr = { EVE(20, 0), EVE(20, 50) },
	},
	{
	    /* Occupied for 43 hours of a malformed 44-hour search span:
	     * the last 24 hours are kept. */
	    .name = "/night/bed/capped-at-a-day",
	    .search = { EVE(18, 0) - 86400, MORN(14, 0) },
	    .n_bed = 1,
	    .bed = { { EVE(17, 0) - 86400, MORN(13, 0) } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(13, 0), MORN(13, 0) },
	    .onset_s = EVE(13, 0),
	    .wake_s = MORN(13, 0),
	    .tib_min = 1440,
	    .sleep_min = 1440,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	},
	{
	    .name = "/night/strap/clipped-to-hints",
	    .hints = { EVE(23, 0), MORN(7, 0) },
	    .hr = { EVE(22, 0), MORN(8, 0) },
	    .rr = { EVE(22, 0), MORN(8, 0) },
	    .night = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    .name = "/night/strap/on-before-hint",
	    .hints = { EVE(22, 30), MORN(6, 30) },
	    .hr = { EVE(21, 0), MORN(7, 0) },
	    .rr = { EVE(21, 0), MORN(7, 0) },
	    .night = true,
	    .window = { EVE(22, 30), MORN(6, 30) },
	    .onset_s = EVE(22, 30),
	    .wake_s = MORN(6, 30),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* Silent from 00:59:55 to 01:10: off, two stretches; the
	     * later one (01:10-06:30 once clipped) is longer. Silent from
	     * 02:59:55 to 03:04: still worn. */
	    .name = "/night/strap/gap-splits",
	    .hints = { EVE(22, 30), MORN(6, 30) },
	    .hr = { EVE(22, 0), MORN(7, 0) },
	    .n_levels = 2,
	    .levels = { { MORN(1, 0), MORN(1, 10), 0 },
			{ MORN(3, 0), MORN(3, 4), 0 } },
	    .rr = { EVE(22, 0), MORN(7, 0) },
	    .night = true,
	    .window = { MORN(1, 10), MORN(6, 30) },
	    .onset_s = MORN(1, 10),
	    .wake_s = MORN(6, 30),
	    .tib_min = 320,
	    .sleep_min = 320,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    .name = "/night/strap/nap-50-minutes",
	    .hr = { EVE(23, 0), EVE(23, 50) },
	    .rr = { EVE(23, 0), EVE(23, 50) },
	},
	{
	    /* Motion marks 23:02-23:04, 23:12-23:13 (with a repeated on),
	     * 23:19-23:20 (on at 23:19:30 persists into 23:20), and
	     * 06:55-06:59. Onset: the first 10 quiet minutes in a row
	     * start at 23:21; wake at 06:55. The fast heart at 03:00 is
	     * no wake sign when a motion sensor speaks. */
	    .name = "/night/latency/motion",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    .n_motion = 4,
	    .motion = { { EVE(23, 2), EVE(23, 5) },
			{ EVE(23, 12), EVE(23, 14) },
			{ EVE(23, 19) + 30, EVE(23, 20) + 10 },
			{ MORN(6, 55), MORN(7, 0) } },
	    STRAP,
	    .n_levels = 1,
	    .levels = { { MORN(3, 0), MORN(3, 10), 90 } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 21),
	    .wake_s = MORN(6, 55),
	    .tib_min = 480,
	    .sleep_min = 454,
	    .efficiency_pct = 454.0 / 480.0 * 100.0,
	    .latency_min = 21,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* No motion sensor: the median epoch is 60 bpm, so above 69
	     * is awake: 23:00-23:14 (75), 03:00-03:04 (70), 06:45-06:59
	     * (80); 68 at 02:00 is not. Onset 23:15, wake 06:45, 450
	     * minutes between of which 5 awake. */
	    .name = "/night/hr-wake/no-motion-sensor",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .n_levels = 4,
	    .levels = { { EVE(23, 0), EVE(23, 15), 75 },
			{ MORN(2, 0), MORN(2, 5), 68 },
			{ MORN(3, 0), MORN(3, 5), 70 },
			{ MORN(6, 45), MORN(7, 30), 80 } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 15),
	    .wake_s = MORN(6, 45),
	    .tib_min = 480,
	    .sleep_min = 445,
	    .efficiency_pct = 445.0 / 480.0 * 100.0,
	    .latency_min = 15,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* 50 bpm from 03:02 to 03:07 straddles two windows cut from
	     * the 23:00 onset: 03:00-03:05 holds 36 samples at 50 and 24
	     * at 62 (54.8), 03:05-03:10 24 and 36 (57.2). The 40 before
	     * bed and 45 after wake lie outside the sleep. */
	    .name = "/night/resting-hr/lowest-5-minutes",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .hr_bpm = 62,
	    .n_levels = 3,
	    .levels = { { EVE(22, 0), EVE(22, 40), 40 },
			{ MORN(3, 2), MORN(3, 7), 50 },
			{ MORN(7, 5), MORN(7, 25), 45 } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 54.8,
	    .hrv = true,
	},
	{
	    /* Two samples at 40 in an otherwise silent window do not
	     * make a window; three at 45 do. */
	    .name = "/night/resting-hr/three-samples",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .n_levels = 2,
	    .levels = { { MORN(3, 0), MORN(3, 5), 0 },
			{ MORN(4, 0), MORN(4, 5), 0 } },
	    .n_extra = 5,
	    .extra = { { MORN(3, 1), 40 },
		       { MORN(3, 2), 40 },
		       { MORN(4, 1), 45 },
		       { MORN(4, 2), 45 },
		       { MORN(4, 3), 45 } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 45,
	    .hrv = true,
	},
	{
	    /* A restless night: moving all the time, never asleep. In
	     * bed is measured; sleep is a real zero; there is no onset to
	     * measure latency, HRV or resting HR from. */
	    .name = "/night/no-onset/restless",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    .n_motion = 1,
	    .motion = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .night = true,
	    .from_bed = true,
	    .no_onset = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .tib_min = 480,
	},
	{
	    .name = "/night/weight/first-after-wake",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .n_weights = 4,
	    .weights = { { EVE(21, 0), 80.0, 21.0 },
			 { MORN(7, 10), 79.4, 19.5 },
			 { MORN(7, 12), 79.6, 0 },
			 { MORN(20, 0), 80.2, 20.0 } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	    .weight_kg = 79.4,
	    .body_fat_pct = 19.5,
	},
	{
	    /* The evening's weigh-in is not the morning's; the next
	     * day's is not this day's. */
	    .name = "/night/weight/none-after-wake",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .n_weights = 2,
	    .weights = { { EVE(21, 0), 80.0, 21.0 },
			 { MORN(24, 30), 79.0, 20.0 } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	},
	{
	    /* Means over the check-ins from wake to midnight, each field
	     * over the check-ins that answered it. */
	    .name = "/night/checkin/mean",
	    .n_bed = 1,
	    .bed = { { EVE(23, 0), MORN(7, 0) } },
	    STRAP,
	    .n_checkins = 5,
	    .checkins = { { EVE(21, 0), 1, 1, 1 },
			  { MORN(6, 50), 2, 2, 2 },
			  { MORN(8, 0), 4, 2, 3 },
			  { MORN(12, 0), 5, 3, 0 },
			  { MORN(24, 10), 1, 1, 1 } },
	    .night = true,
	    .from_bed = true,
	    .window = { EVE(23, 0), MORN(7, 0) },
	    .onset_s = EVE(23, 0),
	    .wake_s = MORN(7, 0),
	    .tib_min = 480,
	    .sleep_min = 480,
	    .efficiency_pct = 100,
	    .latency_min = 0,
	    .resting_hr_bpm = 60,
	    .hrv = true,
	    .mood = 4.5,
	    .soreness = 2.5,
	    .energy = 3,
	},
	{
	    /* No night at all: the day still has its check-in (from the
	     * search span's start) and its weight. */
	    .name = "/night/no-window/checkin-and-weight",
	    .n_weights = 1,
	    .weights = { { MORN(9, 0), 81.0, 22.0 } },
	    .n_checkins = 2,
	    .checkins = { { EVE(17, 0), 1, 1, 1 }, { EVE(20, 0), 3, 2, 4 } },
	    .weight_kg = 81.0,
	    .body_fat_pct = 22.0,
	    .mood = 3,
	    .soreness = 2,
	    .energy = 4,
	},
};

static int64_t at(int s)
{
	return (int64_t)D0 * DAY_MS + (int64_t)s * 1000;
}

static double or_none(double v)
{
	return v != 0.0 ? v : METRIC_NONE;
}

struct night_fixture {
	GArray *rr, *hr, *bed, *motion, *weights, *checkins;
	struct night_input in;
};

static gint hr_cmp(gconstpointer a, gconstpointer b)
{
	const struct hr_sample *x = a, *y = b;

	return (x->t_ms > y->t_ms) - (x->t_ms < y->t_ms);
}

static void push_state(GArray *a, int t_s, bool on)
{
	struct state_sample s = { at(t_s), on };

	g_array_append_val(a, s);
}

static void fixture_build(struct night_fixture *f, const struct night_vector *v)
{
	struct span search = v->search, hints = v->hints;

	if (!search.from_s && !search.to_s)
		search = (struct span){ EVE(18, 0), MORN(14, 0) };
	if (!hints.from_s && !hints.to_s)
		hints = (struct span){ EVE(22, 30), MORN(7, 0) };

	f->rr = g_array_new(FALSE, FALSE, sizeof(struct rr_sample));
	f->hr = g_array_new(FALSE, FALSE, sizeof(struct hr_sample));
	f->bed = g_array_new(FALSE, FALSE, sizeof(struct state_sample));
	f->motion = g_array_new(FALSE, FALSE, sizeof(struct state_sample));
	f->weights = g_array_new(FALSE, FALSE, sizeof(struct weight_sample));
	f->checkins = g_array_new(FALSE, FALSE, sizeof(struct checkin_sample));

	if (v->n_bed)
		push_state(f->bed, search.from_s - 10 * 3600, false);
	for (size_t i = 0; i < v->n_bed; i++) {
		push_state(f->bed, v->bed[i].from_s, true);
		push_state(f->bed, v->bed[i].to_s, false);
	}
	for (size_t i = 0; i < v->n_motion; i++) {
		for (int t = v->motion[i].from_s; t < v->motion[i].to_s;
		     t += 60)
			push_state(f->motion, t, true);
		push_state(f->motion, v->motion[i].to_s, false);
	}

	for (int t = v->hr.from_s; t < v->hr.to_s; t += 5) {
		struct hr_sample s = { at(t),
				       v->hr_bpm > 0.0 ? v->hr_bpm : 60.0 };

		for (size_t i = 0; i < v->n_levels; i++)
			if (t >= v->levels[i].from_s && t < v->levels[i].to_s)
				s.bpm = v->levels[i].bpm;
		if (s.bpm > 0.0)
			g_array_append_val(f->hr, s);
	}
	for (size_t i = 0; i < v->n_extra; i++) {
		struct hr_sample s = { at(v->extra[i].t_s), v->extra[i].bpm };

		g_array_append_val(f->hr, s);
	}
	g_array_sort(f->hr, hr_cmp);

	for (int64_t t = at(v->rr.from_s), k = 0; t < at(v->rr.to_s); k++) {
		struct rr_sample s = { 0, k % 2 ? 1025.0 : 975.0 };

		t += (int64_t)s.rr_ms;
		s.t_ms = t;
		g_array_append_val(f->rr, s);
	}

	for (size_t i = 0; i < v->n_weights; i++) {
		struct weight_sample s = {
			at(v->weights[i].t_s), v->weights[i].weight_kg,
			or_none(v->weights[i].body_fat_pct)
		};

		g_array_append_val(f->weights, s);
	}
	for (size_t i = 0; i < v->n_checkins; i++) {
		const struct check_in *c = &v->checkins[i];
		struct checkin_sample s = { at(c->t_s), or_none(c->mood),
					    or_none(c->soreness),
					    or_none(c->energy) };

		g_array_append_val(f->checkins, s);
	}

	f->in = (struct night_input){
		.day = D0,
		.search_start_ms = at(search.from_s),
		.search_end_ms = at(search.to_s),
		.hint_start_ms = at(hints.from_s),
		.hint_end_ms = at(hints.to_s),
		.day_end_ms = at(MORN(24, 0)),
		.rr = (const struct rr_sample *)(void *)f->rr->data,
		.rr_count = f->rr->len,
		.hr = (const struct hr_sample *)(void *)f->hr->data,
		.hr_count = f->hr->len,
		.bed = (const struct state_sample *)(void *)f->bed->data,
		.bed_count = f->bed->len,
		.motion = (const struct state_sample *)(void *)f->motion->data,
		.motion_count = f->motion->len,
		.weights =
		    (const struct weight_sample *)(void *)f->weights->data,
		.weight_count = f->weights->len,
		.checkins =
		    (const struct checkin_sample *)(void *)f->checkins->data,
		.checkin_count = f->checkins->len,
	};
}

static void fixture_clear(struct night_fixture *f)
{
	g_array_unref(f->rr);
	g_array_unref(f->hr);
	g_array_unref(f->bed);
	g_array_unref(f->motion);
	g_array_unref(f->weights);
	g_array_unref(f->checkins);
}

static void assert_metric(double got, double want)
{
	if (!metric_present(want))
		g_assert_true(isnan(got));
	else
		g_assert_cmpfloat_with_epsilon(got, want, 1e-9);
}

static void assert_sleep_absent(const struct night_metrics *m)
{
	g_assert_cmpint(m->window_start_ms, ==, 0);
	g_assert_cmpint(m->window_end_ms, ==, 0);
	g_assert_cmpint(m->sleep_onset_ms, ==, 0);
	g_assert_cmpint(m->wake_ms, ==, 0);
	g_assert_false(m->window_from_bed_sensor);
	g_assert_true(isnan(m->time_in_bed_min));
	g_assert_true(isnan(m->sleep_min));
	g_assert_true(isnan(m->sleep_efficiency_pct));
	g_assert_true(isnan(m->latency_min));
	g_assert_cmpint(m->out_of_bed_episodes, ==, 0);
}

static void assert_hrv_absent(const struct night_metrics *m)
{
	g_assert_true(isnan(m->rmssd_ms));
	g_assert_true(isnan(m->ln_rmssd));
	g_assert_true(isnan(m->sdnn_ms));
	g_assert_true(isnan(m->pnn50_pct));
	g_assert_true(isnan(m->resting_hr_bpm));
	g_assert_cmpint(m->hrv_windows, ==, 0);
	g_assert_cmpint(m->beats, ==, 0);
}

/* The RR pattern gives RMSSD 50 ms exactly and no difference above 50. */
static void assert_hrv(const struct night_fixture *f,
		       const struct night_metrics *m)
{
	const struct rr_sample *rr = f->in.rr;
	int32_t beats = 0;

	for (size_t i = 0; i < f->in.rr_count; i++)
		beats +=
		    rr[i].t_ms >= m->sleep_onset_ms && rr[i].t_ms < m->wake_ms;
	g_assert_cmpfloat_with_epsilon(m->rmssd_ms, 50.0, 1e-9);
	g_assert_cmpfloat_with_epsilon(m->ln_rmssd, log(50.0), 1e-9);
	g_assert_cmpfloat_with_epsilon(m->pnn50_pct, 0.0, 1e-9);
	/* 25 ms around the mean, as a sample SD of a finite window. */
	g_assert_cmpfloat(m->sdnn_ms, >=, 25.0);
	g_assert_cmpfloat(m->sdnn_ms, <, 25.5);
	g_assert_cmpint(m->hrv_windows, >=, 6);
	g_assert_cmpint(m->beats, ==, beats);
	g_assert_cmpint(m->dropped_beats, ==, 0);
}

static void test_night(gconstpointer data)
{
	const struct night_vector *v = data;
	struct night_fixture f;
	struct night_metrics m;

	fixture_build(&f, v);
	memset(&m, 0xa5, sizeof(m));
	g_assert_cmpint(night_analyze(&f.in, &m), ==, 0);

	g_assert_cmpint(m.day, ==, D0);
	g_assert_true(isnan(m.load_trimp));
	if (!v->night) {
		assert_sleep_absent(&m);
		assert_hrv_absent(&m);
	} else {
		g_assert_cmpint(m.window_start_ms, ==, at(v->window.from_s));
		g_assert_cmpint(m.window_end_ms, ==, at(v->window.to_s));
		g_assert_cmpint(m.window_from_bed_sensor, ==, v->from_bed);
		assert_metric(m.time_in_bed_min, v->tib_min);
		assert_metric(m.sleep_min, v->sleep_min);
		assert_metric(m.sleep_efficiency_pct, v->efficiency_pct);
		g_assert_cmpint(m.out_of_bed_episodes, ==, v->episodes);
		if (v->no_onset) {
			g_assert_cmpint(m.sleep_onset_ms, ==, 0);
			g_assert_cmpint(m.wake_ms, ==, 0);
			g_assert_true(isnan(m.latency_min));
		} else {
			g_assert_cmpint(m.sleep_onset_ms, ==, at(v->onset_s));
			g_assert_cmpint(m.wake_ms, ==, at(v->wake_s));
			assert_metric(m.latency_min, v->latency_min);
		}
		assert_metric(m.resting_hr_bpm, or_none(v->resting_hr_bpm));
		if (v->hrv)
			assert_hrv(&f, &m);
		else
			assert_hrv_absent(&m);
	}
	assert_metric(m.weight_kg, or_none(v->weight_kg));
	assert_metric(m.body_fat_pct, or_none(v->body_fat_pct));
	assert_metric(m.mood, or_none(v->mood));
	assert_metric(m.soreness, or_none(v->soreness));
	assert_metric(m.energy, or_none(v->energy));

	fixture_clear(&f);
}

/*
 * A motion sensor's "clear" lost on the air: the "on" at 02:00 is never
 * followed by an "off". It holds 30 minutes, not the rest of the night,
 * while a 10-minute "on" that is cleared holds all 10. In bed 23:00-07:00,
 * restless 23:00-23:10: onset 23:10, awake 02:00-02:30, asleep otherwise to
 * 07:00: 470 - 30 = 440 minutes of sleep.
 */
static void test_motion_lost_off(void)
{
	const int64_t base = D0 * DAY_MS;
	const struct state_sample bed[] = {
		{ base + EVE(23, 0) * INT64_C(1000), true },
		{ base + MORN(7, 0) * INT64_C(1000), false },
	};
	const struct state_sample motion[] = {
		{ base + EVE(23, 0) * INT64_C(1000), true },
		{ base + EVE(23, 10) * INT64_C(1000), false },
		{ base + MORN(2, 0) * INT64_C(1000), true },
	};
	struct night_input in = {
		.day = D0,
		.search_start_ms = base + EVE(18, 0) * INT64_C(1000),
		.search_end_ms = base + MORN(14, 0) * INT64_C(1000),
		.hint_start_ms = base + EVE(22, 30) * INT64_C(1000),
		.hint_end_ms = base + MORN(7, 0) * INT64_C(1000),
		.day_end_ms = base + DAY_MS,
		.bed = bed,
		.bed_count = G_N_ELEMENTS(bed),
		.motion = motion,
		.motion_count = G_N_ELEMENTS(motion),
	};
	struct night_metrics m;

	g_assert_cmpint(night_analyze(&in, &m), ==, 0);
	g_assert_cmpint(m.sleep_onset_ms, ==, bed[0].t_ms + 10 * 60000);
	g_assert_cmpint(m.wake_ms, ==, bed[1].t_ms);
	g_assert_cmpfloat_with_epsilon(m.sleep_min, 440.0, 1e-9);
}

/*
 * An RR-only recording (an imported RR file): no heart-rate rows at all.
 * 23:00-07:00 at 1000 ms (alternating 975/1025), slower beats in a span;
 * each 5-minute window's HR is 60,000 / its mean RR (DESIGN §4), so a
 * span straddling two windows half and half gives 300 s / (150 + 125
 * beats) = 1090.9 ms: 55.0 bpm in each, not the 54.5 of mean 60,000/RR.
 */
struct rr_only_vector {
	const char *name;
	bool bed;
	int slow_from_s, slow_to_s;
	double slow_rr_ms;
	double resting_hr_bpm;
};

static const struct rr_only_vector rr_only_vectors[] = {
	{ "/night/rr-only/bed/steady", true, 0, 0, 0, 60.0 },
	{ "/night/rr-only/bed/slow-window", true, MORN(3, 0), MORN(3, 5),
	  1200.0, 50.0 },
	{ "/night/rr-only/bed/straddling", true, MORN(3, 2) + 30,
	  MORN(3, 7) + 30, 1200.0, 55.0 },
	{ "/night/rr-only/strap/slow-window", false, MORN(3, 0), MORN(3, 5),
	  1200.0, 50.0 },
};

static void test_rr_only(gconstpointer data)
{
	const struct rr_only_vector *v = data;
	g_autoptr(GArray) rr =
	    g_array_new(FALSE, FALSE, sizeof(struct rr_sample));
	const struct state_sample bed[] = {
		{ at(EVE(23, 0)), true },
		{ at(MORN(7, 0)), false },
	};
	struct night_input in = {
		.day = D0,
		.search_start_ms = at(EVE(18, 0)),
		.search_end_ms = at(MORN(14, 0)),
		.hint_start_ms = at(EVE(22, 30)),
		.hint_end_ms = at(MORN(7, 0)),
		.day_end_ms = at(MORN(24, 0)),
		.bed = v->bed ? bed : NULL,
		.bed_count = v->bed ? G_N_ELEMENTS(bed) : 0,
	};
	struct night_metrics m;
	int64_t k = 0;

	for (int64_t t = at(EVE(23, 0)); t < at(MORN(7, 0)); k++) {
		bool slow = t >= at(v->slow_from_s) && t < at(v->slow_to_s);
		double base = slow ? v->slow_rr_ms : 1000.0;
		struct rr_sample s = { 0, base + (k % 2 ? 25.0 : -25.0) };

		/* A pair spans exactly 2 x base, so the span's beats have
		 * base as their mean. */
		t += (int64_t)s.rr_ms;
		s.t_ms = t;
		g_array_append_val(rr, s);
	}
	in.rr = (const struct rr_sample *)(void *)rr->data;
	in.rr_count = rr->len;

	g_assert_cmpint(night_analyze(&in, &m), ==, 0);
	g_assert_cmpint(m.window_start_ms, !=, 0);
	g_assert_cmpint(m.window_from_bed_sensor, ==, v->bed);
	g_assert_true(metric_present(m.resting_hr_bpm));
	g_assert_cmpfloat_with_epsilon(m.resting_hr_bpm, v->resting_hr_bpm,
				       0.2);
	g_assert_true(metric_present(m.rmssd_ms));
	g_assert_cmpfloat(m.sleep_min, >, 400.0);
}

static void test_empty(void)
{
	struct night_input in = {
		.day = D0,
		.search_start_ms = at(EVE(18, 0)),
		.search_end_ms = at(MORN(14, 0)),
		.hint_start_ms = at(EVE(22, 30)),
		.hint_end_ms = at(MORN(7, 0)),
		.day_end_ms = at(MORN(24, 0)),
	};
	struct night_metrics m;

	memset(&m, 0xa5, sizeof(m));
	g_assert_cmpint(night_analyze(&in, &m), ==, 0);
	g_assert_cmpint(m.day, ==, D0);
	assert_sleep_absent(&m);
	assert_hrv_absent(&m);
	g_assert_cmpint(m.dropped_beats, ==, 0);
	g_assert_true(isnan(m.weight_kg));
	g_assert_true(isnan(m.body_fat_pct));
	g_assert_true(isnan(m.mood));
	g_assert_true(isnan(m.soreness));
	g_assert_true(isnan(m.energy));
	g_assert_true(isnan(m.load_trimp));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++)
		g_test_add_data_func(vectors[i].name, &vectors[i], test_night);
	for (size_t i = 0; i < G_N_ELEMENTS(rr_only_vectors); i++)
		g_test_add_data_func(rr_only_vectors[i].name,
				     &rr_only_vectors[i], test_rr_only);
	g_test_add_func("/night/empty", test_empty);
	g_test_add_func("/night/motion/lost-off", test_motion_lost_off);
	return g_test_run();
}
