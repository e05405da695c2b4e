// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/engine/advice.h"

/*
 * Each vector is the smallest history that makes one rule fire (or just
 * miss). Days run D-9 .. D, today last; the rules look at the last 5 days
 * (indexes 5-9), the last 7 (3-9), and for a comeback at D-8 .. D-2 (1-7).
 * Today's baseline is fixed: ln RMSSD 4.00 +/- 0.10 (normal range
 * 4.00 -/+ 0.05 = 3.95-4.05), resting HR 52 +/- 2 (high above 54).
 */

#define N     NAN
#define DAYS  10
#define T     (DAYS - 1)
#define TODAY 2000
#define GOAL  "to clear my head"
#define EMPTY ADVICE_RUNNING_ON_EMPTY

#define GREEN(today)                                                           \
	{                                                                      \
		75, 75, 75, 75, 75, 75, 75, 75, 75, today                      \
	}
/* 3 of the last 5 under 50, today too */
#define SLUMP(today)                                                           \
	{                                                                      \
		[5] = 41, [6] = 70, [7] = 38, [8] = 72, [9] = today            \
	}

struct advice_vector {
	const char *name;
	int32_t score[DAYS];	       /* 0: no entry that day; -1: no score */
	enum advice_state state[DAYS]; /* what the earlier days were told */
	double mood[DAYS];	       /* 0: no check-in */
	int flat_days; /* the last n days check in mood 3, energy 3, sore 3 */
	double energy[DAYS];	/* 0: as mood says */
	double sleep_min[DAYS]; /* 0: not measured */
	double weight_kg[DAYS]; /* 0: not weighed */
	double ln_7d;		/* 0: 4.00 (normal); N: unknown */
	double rhr_7d;		/* 0: 52 */
	double ln_tonight;	/* 0: 4.00 */
	double monotony;
	double load_acute, load_chronic; /* 0: no load at all */
	bool calibrating;
	int32_t hrv_nights; /* with calibrating */
	bool no_window;
	bool no_component;
	bool club_day;
	int bedtime_min; /* 0: unknown */
	const char *goal;
	enum advice_state expect;
	const char *reasons[4];		   /* each a substring of some reason */
	const char *actions[4];		   /* each a substring of some action */
	const char *detail[3];		   /* each a substring of the detail */
	const char *absent[3];		   /* in no text at all */
	size_t action_count, reason_count; /* 0: not checked */
};

#define HRV_BELOW_49                                                           \
	"HRV 7-day average RMSSD 49 ms, below your usual 52" EN "57 ms"
#define HRV_WITHIN_55                                                          \
	"HRV 7-day average RMSSD 55 ms, within your usual 52" EN "57 ms"
#define EN	   "\xe2\x80\x93"
#define SELF_CHECK "has your mood been off for days?"

static const struct advice_vector vectors[] = {
	{ .name = "/advice/no-data/nothing",
	  .score = { [T] = -1 },
	  .no_window = true,
	  .no_component = true,
	  .expect = ADVICE_NO_DATA,
	  .reasons = { "no sleep window" } },
	{ .name = "/advice/no-data/window-but-nothing-scored",
	  .score = { [T] = -1 },
	  .no_component = true,
	  .expect = ADVICE_NO_DATA,
	  .reasons = { "a sleep window, but no HRV" } },
	{ .name = "/advice/calibrating",
	  .score = { [T] = -1 },
	  .calibrating = true,
	  .hrv_nights = 3,
	  .goal = GOAL,
	  .expect = ADVICE_CALIBRATING,
	  .reasons = { "3 of 7 nights with HRV so far" },
	  .actions = { "your first score comes in 4 nights" },
	  .absent = { GOAL } },

	/* 41, 38, 45 under 50 and the week's HRV 3.90 < 3.95 (49 ms under
	 * 52-57 ms); no load at all, so not load up */
	{ .name = "/advice/running-on-empty/hrv-low",
	  .score = SLUMP(45),
	  .ln_7d = 3.90,
	  .goal = GOAL,
	  .expect = EMPTY,
	  .reasons = { "3 of the last 5 days scored under 50 (41, 38, 45)",
		       HRV_BELOW_49 },
	  .actions = { "guilt-free rest", "extra hour", "slumps are common" },
	  .detail = { "Remember why you started: " GOAL ".", SELF_CHECK },
	  .absent = { "resting HR", "ln" } },
	/* 55 > 52 + 2 */
	{ .name = "/advice/running-on-empty/rhr-high",
	  .score = SLUMP(45),
	  .rhr_7d = 55,
	  .expect = EMPTY,
	  .reasons = { "resting HR 7-day average 55 bpm, above your usual "
		       "50" EN "54 bpm" },
	  .detail = { "Remember why you started; it was never about a "
		      "race." },
	  .absent = { "HRV 7-day" } },
	/* 54.3 > 52 + 2, though whole numbers would read "54, above 50-54":
	 * a reason never looks like it contradicts itself */
	{ .name = "/advice/reason/rounding-never-contradicts",
	  .score = SLUMP(45),
	  .rhr_7d = 54.3,
	  .expect = EMPTY,
	  .reasons = { "resting HR 7-day average 54.3 bpm, above your usual "
		       "50.0" EN "54.0 bpm" } },
	/* mood 2, 1, 2 on D-4, D-2, D with the week's HRV low: burnout
	 * even on green scores */
	{ .name = "/advice/running-on-empty/low-mood",
	  .score = GREEN(75),
	  .mood = { [5] = 2, [6] = 3, [7] = 1, [8] = 4, [9] = 2 },
	  .ln_7d = 3.90,
	  .goal = GOAL,
	  .expect = EMPTY,
	  .reasons = { "mood 2 or lower on 3 of your last 5 check-ins",
		       HRV_BELOW_49 },
	  .detail = { GOAL },
	  .absent = { "scored under" } },
	/* The same moods with nothing wrong in the body: §6 asks for a body
	 * signal (or sleep debt) beside the mood; one signal is no warning. */
	{ .name = "/advice/running-on-empty/low-mood-body-fine",
	  .score = GREEN(75),
	  .mood = { [5] = 2, [6] = 3, [7] = 1, [8] = 4, [9] = 2 },
	  .expect = ADVICE_PRIMED },
	/* ... but with a week's sleep debt it is */
	{ .name = "/advice/running-on-empty/low-mood-sleep-debt",
	  .score = GREEN(75),
	  .mood = { [5] = 2, [6] = 3, [7] = 1, [8] = 4, [9] = 2 },
	  .sleep_min = { [3] = 400, 400, 400, 400, 400, 400, 400 },
	  .expect = EMPTY,
	  .reasons = { "mood 2 or lower", "sleep debt 9 h 20 min" } },
	/* the low mood on D-5 is outside the last 5 check-ins */
	{ .name = "/advice/running-on-empty/mood-two-of-five",
	  .score = GREEN(75),
	  .mood = { [4] = 1, [5] = 2, [6] = 3, [7] = 3, [8] = 4, [9] = 2 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_EARLY_WARNING,
	  .absent = { "mood 2 or lower on" } },
	/* the 3 of 5 lows again, but HRV and RHR are normal: yellow on a
	 * normal trend is steady (§6), not a slump */
	{ .name = "/advice/running-on-empty/not-with-normal-trend",
	  .score = SLUMP(45),
	  .goal = GOAL,
	  .expect = ADVICE_STEADY,
	  .absent = { GOAL } },
	/* three lows and today 60: under 67 still counts (§6) */
	{ .name = "/advice/running-on-empty/today-yellow-counts",
	  .score = { [5] = 41, [6] = 38, [7] = 45, [8] = 70, [9] = 60 },
	  .ln_7d = 3.90,
	  .expect = EMPTY },
	/* ... and 67 does not: three lows, HRV low, green today */
	{ .name = "/advice/running-on-empty/not-when-today-green",
	  .score = { [5] = 41, [6] = 38, [7] = 45, [8] = 70, [9] = 67 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_STEADY },
	/* lows on D-6 and D-5 fall outside the 5 days: 44 and 45 only, but
	 * two of the last three days low and the HRV low: early warning */
	{ .name = "/advice/early-warning/low-days-and-hrv",
	  .score = { [3] = 40,
		     [4] = 42,
		     [5] = 70,
		     [6] = 71,
		     [7] = 44,
		     [8] = 72,
		     [9] = 45 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_EARLY_WARNING,
	  .reasons = { HRV_BELOW_49, "2 of the last 3 days scored under 50" },
	  .actions = { "skip the hard session", "Check in tonight" },
	  .detail = { SELF_CHECK, "body stiff whatever the stretching",
		      "easy runs slower than they should be" } },
	/* HRV low and a low mood today: two signals */
	{ .name = "/advice/early-warning/hrv-and-mood",
	  .score = GREEN(70),
	  .mood = { [9] = 2 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_EARLY_WARNING,
	  .reasons = { "today's mood 2 of 5" } },
	/* one signal is not a warning */
	{ .name = "/advice/early-warning/one-signal",
	  .score = GREEN(70),
	  .mood = { [9] = 2 },
	  .expect = ADVICE_PRIMED },
	/* D-3 and D-1 have no entry: a missing day is neither low nor fine */
	{ .name = "/advice/running-on-empty/missing-days",
	  .score = { [5] = 41, [7] = 38, [9] = 45 },
	  .ln_7d = 3.90,
	  .expect = EMPTY,
	  .reasons = { "3 of the last 5 days scored under 50 (41, 38, 45)" } },
	/* The same slump with the load up: overreaching, not burnout. */
	{ .name = "/advice/overreaching/load-up",
	  .score = SLUMP(45),
	  .ln_7d = 3.90,
	  .load_acute = 130,
	  .load_chronic = 100,
	  .goal = GOAL,
	  .expect = ADVICE_OVERREACHING,
	  .reasons = { "3 of the last 5 days scored under 50", HRV_BELOW_49,
		       "training load up: 130 a day this week against 100" },
	  .actions = { "Back off the plan", "no intervals" },
	  .detail = { "load, not burnout" },
	  .absent = { GOAL, "burnout territory" } },
	/* red today on a normal HRV week, the load flat: a one-off (§6
	 * reads the HRV trend there), whatever the resting HR */
	{ .name = "/advice/overreaching/red-today-load-flat",
	  .score = GREEN(30),
	  .rhr_7d = 55,
	  .load_acute = 100,
	  .load_chronic = 100,
	  .expect = ADVICE_ONE_OFF_DIP },
	/* red today is enough with the load up */
	{ .name = "/advice/overreaching/red-today-load-up",
	  .score = GREEN(30),
	  .rhr_7d = 55,
	  .load_acute = 125,
	  .load_chronic = 100,
	  .expect = ADVICE_OVERREACHING },
	/* 1.2 x is not over 1.2 x */
	{ .name = "/advice/overreaching/load-1.2-is-not-up",
	  .score = SLUMP(45),
	  .ln_7d = 3.90,
	  .load_acute = 120,
	  .load_chronic = 100,
	  .expect = EMPTY,
	  .reasons = { "training load not up" } },

	/* Red after a low day is a trend starting, not a one-off. */
	{ .name = "/advice/one-off-dip/not-after-a-low-day",
	  .score = { 75, 75, 75, 75, 75, 75, 75, 75, 45, 30 },
	  .expect = ADVICE_STRAINED,
	  .reasons = { "2 of the last 5 days scored under 50 (45, 30)" },
	  .actions = { "Easy movement only", "Keep the thread" },
	  .absent = { "yellow", "is green" } },
	/* Three low moods of five, but a brighter one today: recovering. */
	{ .name = "/advice/running-on-empty/mood-lifting-today",
	  .score = GREEN(75),
	  .mood = { [5] = 2, [6] = 2, [7] = 2, [8] = 4, [9] = 3 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_STEADY },
	/* The strap and the bed were silent: a check-in is no night. */
	{ .name = "/advice/no-data/checkin-without-night",
	  .score = { [T] = -1 },
	  .mood = { [9] = 4 },
	  .no_window = true,
	  .expect = ADVICE_NO_DATA },
	{ .name = "/advice/one-off-dip",
	  .score = GREEN(30),
	  .goal = GOAL,
	  .expect = ADVICE_ONE_OFF_DIP,
	  .reasons = { "none of the other 4 days scored under 50",
		       "HRV 7-day average up to yesterday RMSSD 55 ms, "
		       "within your usual 52" EN "57 ms" },
	  .actions = { "a walk still counts" },
	  .absent = { "running on empty", GOAL, "below your usual" } },
	/* HRV 3.70 tonight: z (3.70 - 4.00) / 0.10 = -3 is the weakest */
	{ .name = "/advice/one-off-dip/weakest-component",
	  .score = GREEN(30),
	  .ln_tonight = 3.70,
	  .expect = ADVICE_ONE_OFF_DIP,
	  .reasons = { "last night's RMSSD 40 ms, usual 52" EN "57 ms" } },
	/* red today and a slump behind it: running on empty comes first */
	{ .name = "/advice/precedence/empty-before-dip",
	  .score = SLUMP(30),
	  .ln_7d = 3.90,
	  .goal = GOAL,
	  .expect = EMPTY,
	  .reasons = { "3 of the last 5 days scored under 50 (41, 38, 30)" },
	  .detail = { GOAL } },
	/* a slump by mood beats a green-but-stale week */
	{ .name = "/advice/precedence/empty-before-stale",
	  .score = GREEN(80),
	  .mood = { [5] = 2, [7] = 2, [9] = 1 },
	  .ln_7d = 3.90,
	  .monotony = 2.4,
	  .expect = EMPTY },

	{ .name = "/advice/steady/yellow",
	  .score = GREEN(58),
	  .goal = GOAL,
	  .expect = ADVICE_STEADY,
	  .reasons = { HRV_WITHIN_55 },
	  .actions = { "keep it aerobic" },
	  .absent = { GOAL, "today's score" } },
	/* green with only the HRV trend below (§6) */
	{ .name = "/advice/steady/green-but-low-week",
	  .score = GREEN(72),
	  .ln_7d = 3.90,
	  .expect = ADVICE_STEADY,
	  .reasons = { HRV_BELOW_49 } },
	/* yellow after a low day */
	{ .name = "/advice/strained/yellow-after-low-day",
	  .score = { 75, 75, 75, 75, 75, 75, 75, 75, 45, 58 },
	  .expect = ADVICE_STRAINED,
	  .reasons = { "yesterday scored 45" } },
	{ .name = "/advice/strained/yellow-hrv-below",
	  .score = GREEN(58),
	  .ln_7d = 3.90,
	  .expect = ADVICE_STRAINED,
	  .reasons = { HRV_BELOW_49 },
	  .actions = { "a walk, some stretching, or an easy jog without the "
		       "watch" } },
	/* yellow 50 or more can be stale (§6) */
	{ .name = "/advice/stale/yellow-counts",
	  .score = GREEN(60),
	  .monotony = 2.4,
	  .expect = ADVICE_STALE },

	/* running on empty on D-5; 70 yesterday and 74 today, and the last
	 * 5 days hold only two lows (45, 48) */
	{ .name = "/advice/comeback",
	  .score = { [4] = 40,
		     [5] = 45,
		     [6] = 48,
		     [7] = 60,
		     [8] = 70,
		     [9] = 74 },
	  .state = { [4] = EMPTY },
	  .goal = GOAL,
	  .expect = ADVICE_COMEBACK,
	  .reasons = { "comeback morning 1: yesterday 70 and today 74",
		       "after running on empty 5 days ago" },
	  .actions = { "three 30-minute sessions this week",
		       "Build gradually" },
	  .detail = { "Hold on to your own reason: " GOAL "." } },
	{ .name = "/advice/comeback/needs-yesterday-50",
	  .score = { [4] = 40,
		     [5] = 45,
		     [6] = 48,
		     [7] = 70,
		     [8] = 45,
		     [9] = 74 },
	  .state = { [4] = EMPTY },
	  .expect = ADVICE_PRIMED },
	{ .name = "/advice/comeback/after-overreaching",
	  .score = GREEN(74),
	  .state = { [1] = ADVICE_OVERREACHING },
	  .expect = ADVICE_COMEBACK,
	  .reasons = { "after overreaching 8 days ago" } },
	{ .name = "/advice/comeback/9-days-back",
	  .score = GREEN(74),
	  .state = { [0] = EMPTY },
	  .expect = ADVICE_COMEBACK,
	  .reasons = { "after running on empty 9 days ago" } },
	/* yesterday still running on empty (by mood, though green) */
	{ .name = "/advice/comeback/the-day-after",
	  .score = GREEN(74),
	  .state = { [8] = EMPTY },
	  .expect = ADVICE_COMEBACK },
	/* a comeback is only after a slump, not after a dip */
	{ .name = "/advice/comeback/not-after-dip",
	  .score = GREEN(74),
	  .state = { [5] = ADVICE_ONE_OFF_DIP },
	  .expect = ADVICE_PRIMED },
	/* ahead of the lagging trend: the week's HRV is still low */
	{ .name = "/advice/comeback/ahead-of-the-trend",
	  .score = GREEN(70),
	  .state = { [6] = EMPTY },
	  .ln_7d = 3.90,
	  .expect = ADVICE_COMEBACK,
	  .reasons = { HRV_BELOW_49, "lag behind good mornings" } },
	/* two mornings done: the third is a comeback too */
	{ .name = "/advice/comeback/third-morning",
	  .score = GREEN(80),
	  .state = { [5] = EMPTY,
		     [7] = ADVICE_COMEBACK,
		     [8] = ADVICE_COMEBACK },
	  .expect = ADVICE_COMEBACK,
	  .reasons = { "comeback morning 3" } },
	/* three done and the trends are normal: primed */
	{ .name = "/advice/comeback/after-three-mornings",
	  .score = GREEN(80),
	  .state = { [5] = EMPTY,
		     [6] = ADVICE_COMEBACK,
		     [7] = ADVICE_COMEBACK,
		     [8] = ADVICE_COMEBACK },
	  .expect = ADVICE_PRIMED },
	/* three done, the week's HRV still low: it goes on */
	{ .name = "/advice/comeback/goes-on-while-trend-lags",
	  .score = GREEN(80),
	  .state = { [5] = EMPTY,
		     [6] = ADVICE_COMEBACK,
		     [7] = ADVICE_COMEBACK,
		     [8] = ADVICE_COMEBACK },
	  .ln_7d = 3.90,
	  .expect = ADVICE_COMEBACK },
	/* one comeback per slump */
	{ .name = "/advice/comeback/once-per-slump",
	  .score = GREEN(80),
	  .state = { [3] = EMPTY,
		     [4] = ADVICE_COMEBACK,
		     [5] = ADVICE_COMEBACK,
		     [6] = ADVICE_COMEBACK,
		     [7] = ADVICE_PRIMED,
		     [8] = ADVICE_PRIMED },
	  .expect = ADVICE_PRIMED },

	{ .name = "/advice/stale/monotony",
	  .score = GREEN(80),
	  .monotony = 2.4,
	  .expect = ADVICE_STALE,
	  .reasons = { "training monotony 2.4 this week (over 2.0)",
		       HRV_WITHIN_55 },
	  .actions = { "Change the stimulus", "45 minutes on the bike",
		       "strength work with bands" } },
	{ .name = "/advice/stale/monotony-2.0-is-fine",
	  .score = GREEN(80),
	  .monotony = 2.0,
	  .expect = ADVICE_PRIMED },
	{ .name = "/advice/stale/flat-checkins",
	  .score = GREEN(80),
	  .flat_days = 7,
	  .expect = ADVICE_STALE,
	  .reasons = { "the same check-in 7 days running (mood 3, energy 3, "
		       "soreness 3)" },
	  .actions = { "a day with no watch" } },
	{ .name = "/advice/stale/six-flat-days",
	  .score = GREEN(80),
	  .flat_days = 6,
	  .expect = ADVICE_PRIMED },
	/* not feeling it, the body fine: discipline fatigue, not burnout */
	{ .name = "/advice/stale/flat-motivation",
	  .score = GREEN(70),
	  .mood = { [5] = 3, [6] = 3, [7] = 3, [8] = 3, [9] = 3 },
	  .energy = { [5] = 2, [6] = 4, [7] = 2, [8] = 3, [9] = 2 },
	  .expect = ADVICE_STALE,
	  .reasons = { "energy 2 or lower on 3 of your last 5 check-ins",
		       HRV_WITHIN_55 },
	  .absent = { "burnout territory", "guilt-free" } },
	/* the same energy with the HRV low is not "the body is fine" */
	{ .name = "/advice/stale/flat-motivation-needs-normal-hrv",
	  .score = GREEN(70),
	  .mood = { [5] = 3, [6] = 3, [7] = 3, [8] = 3, [9] = 3 },
	  .energy = { [5] = 2, [6] = 4, [7] = 2, [8] = 3, [9] = 2 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_STEADY },

	{ .name = "/advice/primed",
	  .score = GREEN(80),
	  .goal = GOAL,
	  .expect = ADVICE_PRIMED,
	  .reasons = { HRV_WITHIN_55 },
	  .actions = { "Train as planned" },
	  .absent = { GOAL, "earlier" },
	  .action_count = 1,
	  .reason_count = 1 },
	{ .name = "/advice/primed/above-normal",
	  .score = GREEN(80),
	  .ln_7d = 4.10,
	  .expect = ADVICE_PRIMED,
	  .reasons = { "HRV 7-day average RMSSD 60 ms, above your usual" } },
	/* fewer than 3 nights this week: unknown is not low */
	{ .name = "/advice/primed/week-unknown",
	  .score = GREEN(80),
	  .ln_7d = N,
	  .expect = ADVICE_PRIMED,
	  .reasons = { "resting HR 7-day average 52 bpm, within" } },

	/* 7 x (480 - 430) = 350 min > 300; the usual night is 50 short */
	{ .name = "/advice/add-on/sleep-debt",
	  .score = GREEN(80),
	  .sleep_min = { [3] = 430, 430, 430, 430, 430, 430, 430 },
	  .expect = ADVICE_PRIMED,
	  .reasons = { "sleep debt 5 h 50 min over 7 days" },
	  .actions = { "go to bed 60 minutes earlier than usual" } },
	/* with a bedtime: a clock time */
	{ .name = "/advice/add-on/sleep-debt-bedtime",
	  .score = GREEN(80),
	  .sleep_min = { [3] = 430, 430, 430, 430, 430, 430, 430 },
	  .bedtime_min = 23 * 60 + 30,
	  .expect = ADVICE_PRIMED,
	  .actions = { "be in bed by 22:30 tonight, 60 minutes earlier" } },
	/* running on empty has its own sleep line: one sleep line only */
	{ .name = "/advice/add-on/sleep-debt-once",
	  .score = SLUMP(45),
	  .ln_7d = 3.90,
	  .sleep_min = { [5] = 400, 400, 400, 400, 400 },
	  .bedtime_min = 23 * 60,
	  .expect = EMPTY,
	  .actions = { "be in bed by 21:30 tonight, 90 minutes earlier" },
	  .absent = { "extra hour" } },
	/* 6 x 50 = 300, not over 300; the 300-minute night on D-7 is
	 * outside the 7 days */
	{ .name = "/advice/add-on/sleep-debt-300-is-not-over",
	  .score = GREEN(80),
	  .sleep_min = { [2] = 300, 430, 430, 430, 430, 430, 430, 480 },
	  .expect = ADVICE_PRIMED,
	  .absent = { "earlier", "sleep debt" } },
	/* a 600-minute night pays nothing back: 6 x 55 = 330 */
	{ .name = "/advice/add-on/sleep-debt-no-payback",
	  .score = GREEN(80),
	  .sleep_min = { [3] = 600, 425, 425, 425, 425, 425, 425 },
	  .expect = ADVICE_PRIMED,
	  .reasons = { "sleep debt 5 h 30 min over 7 days" } },
	/* D-6..D sorted 69.2 69.8 69.9 70.0 70.0 70.2 70.4: median 70.0;
	 * 0.8 / 70 = 1.14 %. The 75s before D-6 would make it 70.1. */
	{ .name = "/advice/add-on/weight",
	  .score = GREEN(80),
	  .weight_kg = { 75, 75, 75, 70.0, 70.2, 69.8, 70.0, 70.4, 69.9, 69.2 },
	  .expect = ADVICE_PRIMED,
	  .reasons = { "morning weight 69.2 kg is 1.1 % under your 7-day "
		       "median 70.0 kg" },
	  .actions = { "Drink more water" } },
	/* 0.6 / 70 = 0.86 % */
	{ .name = "/advice/add-on/weight-small-drop",
	  .score = GREEN(80),
	  .weight_kg = { [3] = 70.0, 70.2, 69.8, 70.0, 70.4, 69.9, 69.4 },
	  .expect = ADVICE_PRIMED,
	  .absent = { "water", "morning weight" } },
	/* median of 79.2 80 80 80 is 80; 0.8 / 80 is 1 % (0.99999... in
	 * binary, which must still count) */
	{ .name = "/advice/add-on/weight-exactly-1pct",
	  .score = GREEN(80),
	  .weight_kg = { [6] = 80, 80, 80, 79.2 },
	  .expect = ADVICE_PRIMED,
	  .reasons = { "morning weight 79.2 kg is 1.0 % under your 7-day "
		       "median 80.0 kg" } },
	/* running on empty keeps water by the bed: one water line */
	{ .name = "/advice/add-on/water-once",
	  .score = SLUMP(45),
	  .ln_7d = 3.90,
	  .weight_kg = { [3] = 70, 70, 70, 70, 70, 70, 69 },
	  .expect = EMPTY,
	  .actions = { "Drink more water" },
	  .absent = { "water by the bed" } },
	{ .name = "/advice/add-on/club-day",
	  .score = GREEN(80),
	  .club_day = true,
	  .expect = ADVICE_PRIMED,
	  .actions = { "It's club day: join the group run." } },
	/* a rest day: go for the company, walk it */
	{ .name = "/advice/add-on/club-day-when-low",
	  .score = GREEN(30),
	  .club_day = true,
	  .expect = ADVICE_ONE_OFF_DIP,
	  .actions = { "go for the company, and walk it with them" },
	  .absent = { "join the group run" } },
	{ .name = "/advice/add-on/club-day-early-warning",
	  .score = GREEN(70),
	  .mood = { [9] = 2 },
	  .ln_7d = 3.90,
	  .club_day = true,
	  .expect = ADVICE_EARLY_WARNING,
	  .actions = { "run with the easiest group" },
	  .absent = { "join the group run" } },
	/* everything at once: at most 3 actions, the most important first,
	 * then the add-ons; the goal in the detail */
	{ .name = "/advice/add-on/all-at-once",
	  .score = { [3] = 75,
		     [4] = 75,
		     [5] = 41,
		     [6] = 70,
		     [7] = 38,
		     [8] = 72,
		     [9] = 45 },
	  .ln_7d = 3.90,
	  .rhr_7d = 55,
	  .mood = { [5] = 2, [7] = 2, [9] = 1 },
	  .sleep_min = { [3] = 400, 400, 400, 400, 400, 400, 400 },
	  .weight_kg = { [3] = 70, 70, 70, 70, 70, 70, 69 },
	  .club_day = true,
	  .goal = GOAL,
	  .expect = EMPTY,
	  .reasons = { "mood 2 or lower on 3 of your last 3 check-ins",
		       "sleep debt 9 h 20 min over 7 days" },
	  .actions = { "guilt-free rest", "earlier than usual", "water" },
	  .detail = { GOAL },
	  .action_count = 3,
	  .reason_count = 6 },
};

static void fill_day(const struct advice_vector *v, int i,
		     struct night_metrics *night)
{
	*night = night_metrics_empty(TODAY - (T - i));
	night->window_start_ms = 1;
	night->window_end_ms = 2;
	if (v->mood[i] > 0)
		night->mood = v->mood[i];
	if (v->energy[i] > 0)
		night->energy = v->energy[i];
	if (T - i < v->flat_days)
		night->mood = night->energy = night->soreness = 3;
	if (v->sleep_min[i] > 0) {
		night->sleep_min = v->sleep_min[i];
		night->sleep_efficiency_pct = 90;
	}
	if (v->weight_kg[i] > 0)
		night->weight_kg = v->weight_kg[i];
}

static void fill_score(int32_t day, int32_t value, struct score_result *s)
{
	memset(s, 0, sizeof(*s));
	s->day = day;
	s->score = value;
	s->zone = score_zone_of(value);
}

static double or_default(double value, double fallback)
{
	return value == 0 ? fallback : value;
}

static bool contains_in(const char (*items)[ADVICE_TEXT], size_t count,
			const char *needle)
{
	for (size_t i = 0; i < count; i++)
		if (strstr(items[i], needle))
			return true;
	return false;
}

/* Everything we say is ASCII, but for the en dash and the plus-minus sign. */
static void check_text(const char *text, size_t size, bool required)
{
	size_t len = strnlen(text, size);

	g_assert_cmpuint(len, <, size);
	if (required)
		g_assert_cmpuint(len, >, 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == 0xe2) {
			g_assert_true(memcmp(text + i, "\xe2\x80\x93", 3) == 0);
			i += 2;
		} else if (c == 0xc2) {
			g_assert_cmpuint((unsigned char)text[i + 1], ==, 0xb1);
			i += 1;
		} else {
			g_assert_true(c >= 0x20 && c < 0x7f);
		}
	}
}

static void check_advice(const struct advice *a)
{
	check_text(a->headline, sizeof(a->headline), true);
	check_text(a->detail, sizeof(a->detail), true);
	g_assert_cmpuint(a->action_count, >=, 1);
	g_assert_cmpuint(a->action_count, <=, ADVICE_MAX_ITEMS);
	g_assert_cmpuint(a->reason_count, >=, 1);
	g_assert_cmpuint(a->reason_count, <=, ADVICE_MAX_ITEMS);
	for (size_t i = 0; i < a->action_count; i++)
		check_text(a->actions[i], ADVICE_TEXT, true);
	for (size_t i = 0; i < a->reason_count; i++)
		check_text(a->reasons[i], ADVICE_TEXT, true);
}

static bool said_anywhere(const struct advice *a, const char *needle)
{
	return strstr(a->headline, needle) || strstr(a->detail, needle) ||
	       contains_in(a->actions, a->action_count, needle) ||
	       contains_in(a->reasons, a->reason_count, needle);
}

/* The vector @v decided on day @today (its last day). */
static void decide(const struct advice_vector *v, int32_t today,
		   struct advice *ret)
{
	struct advice_day history[DAYS];
	struct night_metrics night;
	struct score_result score;
	struct advice_input in = { 0 };
	size_t n = 0;
	double ln = or_default(v->ln_tonight, 4.0);
	struct score_baseline baseline = {
		.hrv_source = HRV_SOURCE_NIGHT,
		.nights = v->calibrating ? v->hrv_nights : 30,
		.ln_rmssd_mean = 4.0,
		.ln_rmssd_sd = 0.1,
		.rhr_nights = 30,
		.rhr_mean = 52,
		.rhr_sd = 2,
		.week_nights = isnan(v->ln_7d) ? 2 : 7,
		.ln_rmssd_7d = or_default(v->ln_7d, 4.0),
		.rhr_7d = or_default(v->rhr_7d, 52),
	};
	struct load_trend load = {
		.acute = v->load_acute > 0 ? v->load_acute : N,
		.chronic = v->load_chronic > 0 ? v->load_chronic : N,
		.acwr = N,
		.monotony = v->monotony > 0 ? v->monotony : N,
		.strain = N,
	};

	/* Earlier days had the same week as today, as seen then. */
	for (int i = 0; i < T; i++) {
		if (v->score[i] == 0)
			continue;
		fill_day(v, i, &history[n].night);
		history[n].night.day = today - (T - i);
		fill_score(history[n].night.day, v->score[i],
			   &history[n].score);
		history[n].score.baseline = baseline;
		history[n].score.load_trend = load;
		history[n].state = v->state[i];
		n++;
	}

	fill_day(v, T, &night);
	night.day = today;
	if (v->no_window)
		night.window_start_ms = night.window_end_ms = 0;
	fill_score(today, v->score[T], &score);
	score.calibrating = v->calibrating;
	score.baseline = baseline;
	/* score.c counts the HRV source's values while there is one */
	score.calibration_count = baseline.nights;
	score.load_trend = load;
	if (!v->no_component) {
		night.ln_rmssd = ln;
		score.hrv = (struct score_component){
			.present = true,
			.value = ln,
			.z = fmax((ln - 4.0) / 0.1, -3.0),
			.weight = 0.40,
		};
	}

	in.history = n ? history : NULL;
	in.history_count = n;
	in.night = &night;
	in.score = &score;
	in.sleep_need_min = 480;
	in.club_day = v->club_day;
	in.goal = v->goal;
	in.bedtime_known = v->bedtime_min > 0;
	in.bedtime_min = v->bedtime_min;

	memset(ret, 0xa5, sizeof(*ret));
	g_assert_cmpint(advice_decide(&in, ret), ==, 0);
}

static void test_vector(gconstpointer data)
{
	const struct advice_vector *v = data;
	struct advice a;

	decide(v, TODAY, &a);
	if (g_test_verbose()) {
		for (size_t i = 0; i < a.action_count; i++)
			g_test_message("action: %s", a.actions[i]);
		for (size_t i = 0; i < a.reason_count; i++)
			g_test_message("reason: %s", a.reasons[i]);
	}
	g_assert_cmpstr(advice_state_name(a.state), ==,
			advice_state_name(v->expect));
	check_advice(&a);
	for (size_t i = 0; i < G_N_ELEMENTS(v->reasons) && v->reasons[i]; i++)
		if (!contains_in(a.reasons, a.reason_count, v->reasons[i]))
			g_error("no reason contains \"%s\"", v->reasons[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(v->actions) && v->actions[i]; i++)
		if (!contains_in(a.actions, a.action_count, v->actions[i]))
			g_error("no action contains \"%s\"", v->actions[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(v->detail) && v->detail[i]; i++)
		if (!strstr(a.detail, v->detail[i]))
			g_error("the detail \"%s\" lacks \"%s\"", a.detail,
				v->detail[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(v->absent) && v->absent[i]; i++)
		if (said_anywhere(&a, v->absent[i]))
			g_error("\"%s\" should not be said", v->absent[i]);
	if (v->action_count)
		g_assert_cmpuint(a.action_count, ==, v->action_count);
	if (v->reason_count)
		g_assert_cmpuint(a.reason_count, ==, v->reason_count);
}

/* Nothing handed over at all is "no data", not a crash. */
static void test_null_night(void)
{
	struct advice_input in = { .sleep_need_min = 480, .goal = GOAL };
	struct advice a;

	g_assert_cmpint(advice_decide(&in, &a), ==, 0);
	g_assert_cmpint(a.state, ==, ADVICE_NO_DATA);
	check_advice(&a);
	g_assert_cmpint(advice_decide(NULL, &a), ==, -EINVAL);
	g_assert_cmpint(advice_decide(&in, NULL), ==, -EINVAL);
}

/*
 * Where the day's HRV came from, told (DESIGN §4-§5): the spot check's
 * calibration counts spot checks, a failed one says why and what to do, a
 * spot value is named as one, and a score with no HRV says so.
 */
struct source_case {
	const char *name;
	bool window;		/* a sleep window (beats 0: HR only) */
	enum hrv_source source; /* today's HRV: RMSSD 48 ms */
	enum spot_status spot;	/* this morning's spot check */
	enum hrv_source basis;	/* the score's HRV baseline */
	int32_t count;		/* calibration_count */
	int32_t score;		/* -1: none (calibrating when count < 7) */
	enum advice_state state;
	const char *said[4]; /* each somewhere in the advice */
	const char *not_said;
};

static const struct source_case source_cases[] = {
	{ "/advice/source/spot/calibrating",
	  false,
	  HRV_SOURCE_SPOT,
	  SPOT_OK,
	  HRV_SOURCE_SPOT,
	  3,
	  -1,
	  ADVICE_CALIBRATING,
	  { ": 3 of 7 spot checks", "again tomorrow right after waking",
	    "3 of 7 morning spot checks with HRV so far",
	    "HRV from this morning's spot check: RMSSD 48 ms" },
	  "tonight" },
	{ "/advice/source/spot/too-noisy",
	  false,
	  HRV_SOURCE_NONE,
	  SPOT_TOO_NOISY,
	  HRV_SOURCE_SPOT,
	  12,
	  -1,
	  ADVICE_NO_DATA,
	  { "spot check too noisy: lie still for 3 minutes and try again",
	    "do the spot check again" },
	  "no sleep window" },
	{ "/advice/source/spot/too-short",
	  false,
	  HRV_SOURCE_NONE,
	  SPOT_TOO_SHORT,
	  HRV_SOURCE_SPOT,
	  12,
	  -1,
	  ADVICE_NO_DATA,
	  { "spot check too short" },
	  "no sleep window" },
	{ "/advice/source/spot/scored",
	  false,
	  HRV_SOURCE_SPOT,
	  SPOT_OK,
	  HRV_SOURCE_SPOT,
	  20,
	  80,
	  ADVICE_PRIMED,
	  { "this morning's spot-check RMSSD 48 ms",
	    "spot-check HRV 7-day average RMSSD" },
	  /* said once: the component's reason names the spot value */
	  "HRV from this morning's spot check" },
	{ "/advice/source/no-rr/scored",
	  true,
	  HRV_SOURCE_NONE,
	  SPOT_NONE,
	  HRV_SOURCE_NONE,
	  10,
	  70,
	  ADVICE_PRIMED,
	  { "no HRV in this score: your heart-rate band sends no RR "
	    "intervals" },
	  "spot check" },
	{ "/advice/source/no-rr/calibrating",
	  true,
	  HRV_SOURCE_NONE,
	  SPOT_NONE,
	  HRV_SOURCE_NONE,
	  3,
	  -1,
	  ADVICE_CALIBRATING,
	  { ": 3 of 7 nights", "3 of 7 nights with a resting HR so far",
	    "your score will come from resting HR, sleep and check-ins" },
	  "spot check" },
};

static void test_source(gconstpointer data)
{
	const struct source_case *c = data;
	struct night_metrics night = night_metrics_empty(TODAY);
	struct score_result score = { .day = TODAY };
	struct advice_input in = {
		.night = &night,
		.score = &score,
		.sleep_need_min = 480,
	};
	struct advice a;

	if (c->window) {
		night.window_start_ms = (int64_t)TODAY * 86400000 - 28800000;
		night.window_end_ms = (int64_t)TODAY * 86400000;
		night.sleep_min = 460;
		night.sleep_efficiency_pct = 92;
		night.resting_hr_bpm = 52;
		score.rhr = (struct score_component){ true, 52, 0, 0.20 };
		score.sleep = (struct score_component){ true, 460, 0.37, 0.25 };
	}
	night.hrv_source = c->source;
	night.spot_status = c->spot;
	if (c->source != HRV_SOURCE_NONE) {
		night.rmssd_ms = 48;
		night.ln_rmssd = log(48);
		score.hrv = (struct score_component){ true, log(48), 0.5, 0.4 };
	}
	if (c->spot == SPOT_OK) {
		night.spot_rmssd_ms = 48;
		night.spot_ln_rmssd = log(48);
	}
	score.baseline = (struct score_baseline){
		.hrv_source = c->basis,
		.nights = c->basis == HRV_SOURCE_NONE ? 0 : c->count,
		.ln_rmssd_mean = c->basis == HRV_SOURCE_NONE ? N : log(45),
		.ln_rmssd_sd = c->basis == HRV_SOURCE_NONE ? N : 0.1,
		.rhr_nights = c->basis == HRV_SOURCE_NONE ? c->count : 0,
		.rhr_mean = c->window ? 52 : N,
		.rhr_sd = c->window ? 2 : N,
		.week_nights = 7,
		.ln_rmssd_7d = c->basis == HRV_SOURCE_NONE ? N : log(46),
		.rhr_7d = c->window ? 52 : N,
	};
	score.calibration_count = c->count;
	score.calibrating = c->count < 7;
	score.score = c->score;
	score.zone = score_zone_of(c->score);
	score.load_trend = (struct load_trend){ N, N, N, N, N };

	g_assert_cmpint(advice_decide(&in, &a), ==, 0);
	for (size_t i = 0; i < a.reason_count; i++)
		g_test_message("reason: %s", a.reasons[i]);
	g_test_message("headline: %s; action: %s", a.headline, a.actions[0]);
	g_assert_cmpint(a.state, ==, c->state);
	check_advice(&a);
	for (size_t i = 0; i < G_N_ELEMENTS(c->said) && c->said[i]; i++)
		if (!said_anywhere(&a, c->said[i]))
			g_error("\"%s\" not said", c->said[i]);
	if (said_anywhere(&a, c->not_said))
		g_error("\"%s\" said", c->not_said);
}

static const struct advice_vector *find_vector(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++)
		if (strcmp(vectors[i].name, name) == 0)
			return &vectors[i];
	g_error("no vector %s", name);
	return NULL;
}

/* A goal longer than the detail is cut, still terminated and valid UTF-8,
 * however many bytes its characters take. */
static void test_long_goal(void)
{
	struct advice_vector v =
	    *find_vector("/advice/running-on-empty/hrv-low");
	char goal[601] = "";
	struct advice a;

	for (size_t i = 0; i + 2 < sizeof(goal); i += 2)
		memcpy(goal + i, "\xc3\xa9", 3);
	v.goal = goal;
	decide(&v, TODAY, &a);
	g_assert_cmpint(a.state, ==, ADVICE_RUNNING_ON_EMPTY);
	g_assert_nonnull(
	    strstr(a.detail, "Remember why you started: \xc3\xa9"));
	g_assert_cmpuint(strlen(a.detail), <, sizeof(a.detail));
	g_assert_cmpuint(strlen(a.detail), >=, sizeof(a.detail) - 2);
	g_assert_true(g_utf8_validate(a.detail, -1, NULL));
	g_assert_true(g_utf8_validate(a.push_text, -1, NULL));
}

/*
 * One vector per state, with the add-ons switched on (sleep debt, weight
 * down, club day, a goal) so that they compete for the three actions. Each
 * is decided on 9 consecutive dates and held to the text rules of §6.
 */
struct state_vector {
	const char *name;
	const char *vector;
	enum advice_state state;
};

static const struct state_vector state_vectors[] = {
	{ "/advice/text/no-data", "/advice/no-data/window-but-nothing-scored",
	  ADVICE_NO_DATA },
	{ "/advice/text/calibrating", "/advice/calibrating",
	  ADVICE_CALIBRATING },
	{ "/advice/text/running-on-empty", "/advice/running-on-empty/hrv-low",
	  ADVICE_RUNNING_ON_EMPTY },
	{ "/advice/text/overreaching", "/advice/overreaching/load-up",
	  ADVICE_OVERREACHING },
	{ "/advice/text/one-off-dip", "/advice/one-off-dip",
	  ADVICE_ONE_OFF_DIP },
	{ "/advice/text/comeback", "/advice/comeback", ADVICE_COMEBACK },
	{ "/advice/text/early-warning",
	  "/advice/early-warning/low-days-and-hrv", ADVICE_EARLY_WARNING },
	{ "/advice/text/strained", "/advice/one-off-dip/not-after-a-low-day",
	  ADVICE_STRAINED },
	{ "/advice/text/stale", "/advice/stale/monotony", ADVICE_STALE },
	{ "/advice/text/steady", "/advice/steady/yellow", ADVICE_STEADY },
	{ "/advice/text/primed", "/advice/primed", ADVICE_PRIMED },
};

static size_t count_in(const struct advice *a, const char *const *words)
{
	size_t n = 0;

	for (size_t i = 0; i < a->action_count; i++)
		for (size_t w = 0; words[w]; w++)
			if (strstr(a->actions[i], words[w])) {
				n++;
				break;
			}
	return n;
}

static void assert_no_ln(const char *text)
{
	/* HRV is told in ms, never as ln RMSSD (3.93). */
	g_assert_null(strstr(text, "ln "));
	g_assert_null(strstr(text, "ln("));
	g_assert_null(strstr(text, "ln_"));
	g_assert_null(strstr(text, "3.9"));
	g_assert_null(strstr(text, "4.0"));
}

static void check_rules(const struct advice *a, bool with_goal)
{
	static const char *const sleep_words[] = { "sleep", "bed", NULL };
	static const char *const water_words[] = { "water", "Drink", NULL };
	static const char *const club_words[] = { "club day", NULL };
	/* What a rest day must not suggest. */
	static const char *const hard[] = { "join the group run",
					    "quality session",
					    "Train as planned", NULL };

	check_advice(a);
	g_assert_cmpuint(a->action_count, <=, ADVICE_MAX_ACTIONS);
	for (size_t i = 0; i < a->action_count; i++)
		for (size_t j = 0; j < i; j++)
			g_assert_cmpstr(a->actions[i], !=, a->actions[j]);
	g_assert_cmpuint(count_in(a, sleep_words), <=, 1);
	g_assert_cmpuint(count_in(a, water_words), <=, 1);
	g_assert_cmpuint(count_in(a, club_words), <=, 1);
	if (advice_state_easy_only(a->state))
		g_assert_cmpuint(count_in(a, hard), ==, 0);

	assert_no_ln(a->headline);
	assert_no_ln(a->detail);
	for (size_t i = 0; i < a->action_count; i++)
		assert_no_ln(a->actions[i]);
	for (size_t i = 0; i < a->reason_count; i++) {
		assert_no_ln(a->reasons[i]);
		/* No reason only restates the score. */
		g_assert_null(strstr(a->reasons[i], "today's score"));
	}

	/* Reasons never contradict the state. */
	if (a->state == ADVICE_ONE_OFF_DIP || a->state == ADVICE_PRIMED ||
	    a->state == ADVICE_STALE)
		for (size_t i = 0; i < a->reason_count; i++)
			g_assert_null(
			    strstr(a->reasons[i], "below your usual"));
	if (a->state == ADVICE_RUNNING_ON_EMPTY ||
	    a->state == ADVICE_OVERREACHING || a->state == ADVICE_STRAINED)
		g_assert_null(strstr(a->detail, "trend is fine"));

	/* The person's own reason in running-on-empty and comeback only. */
	if (with_goal)
		g_assert_cmpint(strstr(a->detail, GOAL) != NULL, ==,
				a->state == ADVICE_RUNNING_ON_EMPTY ||
				    a->state == ADVICE_COMEBACK);
	/* The seed's self-check questions. */
	g_assert_cmpint(strstr(a->detail, SELF_CHECK) != NULL, ==,
			a->state == ADVICE_RUNNING_ON_EMPTY ||
			    a->state == ADVICE_EARLY_WARNING);
	if (a->state == ADVICE_RUNNING_ON_EMPTY)
		g_assert_nonnull(strstr(a->detail, "not a failure"));

	/* The push text: headline and first action, at most 200 characters,
	 * the check-in invitation when there is no check-in today. */
	g_assert_cmpuint(g_utf8_strlen(a->push_text, -1), <=,
			 ADVICE_PUSH_MAX_CHARS);
	g_assert_true(g_str_has_prefix(a->push_text, a->headline));
	g_assert_cmpint(g_str_has_suffix(a->push_text, "soreness."), ==,
			!a->checked_in);
}

static void test_state_texts(gconstpointer data)
{
	const struct state_vector *sv = data;
	struct advice_vector v = *find_vector(sv->vector);
	g_autoptr(GHashTable) headlines =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) details =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char yesterday[ADVICE_DETAIL] = "";
	struct advice plain;

	/* Without add-ons first: the state's own actions in full. */
	decide(&v, TODAY, &plain);
	g_assert_cmpint(plain.state, ==, sv->state);
	check_rules(&plain, v.goal != NULL);

	/* Then everything competing for three actions. */
	v.club_day = true;
	v.goal = GOAL;
	for (int i = 3; i < DAYS; i++) {
		if (v.sleep_min[i] == 0)
			v.sleep_min[i] = 400;
		if (v.weight_kg[i] == 0)
			v.weight_kg[i] = i == T ? 69.0 : 70.0;
	}
	for (int32_t day = TODAY; day < TODAY + 9; day++) {
		struct advice a;

		decide(&v, day, &a);
		g_assert_cmpint(a.state, ==, sv->state);
		check_rules(&a, true);
		/* Club day and the add-ons adapt to the state: a rest day
		 * keeps the company but walks. */
		if (advice_state_easy_only(a.state))
			for (size_t i = 0; i < a.action_count; i++)
				g_assert_null(
				    strstr(a.actions[i], "group run"));
		/* Reproducible by the date, never the same detail twice in a
		 * row. */
		{
			struct advice again;

			decide(&v, day, &again);
			g_assert_cmpstr(again.detail, ==, a.detail);
			g_assert_cmpstr(again.headline, ==, a.headline);
		}
		g_assert_cmpstr(a.detail, !=, yesterday);
		memcpy(yesterday, a.detail, sizeof(yesterday));
		g_hash_table_add(headlines, g_strdup(a.headline));
		g_hash_table_add(details, g_strdup(a.detail));
	}
	g_assert_cmpuint(g_hash_table_size(headlines), >=, ADVICE_PHRASINGS);
	g_assert_cmpuint(g_hash_table_size(details), >=, ADVICE_PHRASINGS);
}

/* Every point of the seed is said somewhere, by the state it belongs to. */
struct seed_vector {
	const char *name;
	const char *vector;
	const char *where; /* "detail", "actions", "headline" */
	const char *text;
	bool club_day;
};

static const struct seed_vector seed_vectors[] = {
	{ "/advice/seed/recognise-early",
	  "/advice/early-warning/low-days-and-hrv", "detail",
	  "Are easy runs slower than they should be?" },
	{ "/advice/seed/slumps-are-normal", "/advice/running-on-empty/hrv-low",
	  "actions", "slumps are common, you're not alone" },
	{ "/advice/seed/change-the-stimulus", "/advice/stale/monotony",
	  "actions", "Change the stimulus" },
	{ "/advice/seed/reset-the-why", "/advice/running-on-empty/hrv-low",
	  "detail", "Remember why you started: " GOAL },
	{ "/advice/seed/community", "/advice/running-on-empty/hrv-low",
	  "actions", "Talk about it with your partner, coach or club" },
	{ "/advice/seed/community-club-day", "/advice/one-off-dip", "actions",
	  "go for the company", true },
	{ "/advice/seed/recovery", "/advice/running-on-empty/hrv-low",
	  "actions", "guilt-free rest days" },
	{ "/advice/seed/consistency", "/advice/one-off-dip/not-after-a-low-day",
	  "actions", "still count as showing up" },
	{ "/advice/seed/a-cycle-not-a-failure",
	  "/advice/running-on-empty/hrv-low", "detail", "not a failure" },
	{ "/advice/seed/load-not-burnout", "/advice/overreaching/load-up",
	  "actions", "Back off the plan" },
	{ "/advice/seed/the-comeback", "/advice/comeback", "actions",
	  "Start small" },
	{ "/advice/seed/reflect", "/advice/comeback", "actions",
	  "note what got you out of the slump" },
	{ "/advice/seed/discipline-fatigue", "/advice/stale/flat-motivation",
	  "reasons", "energy 2 or lower" },
};

static void test_seed(gconstpointer data)
{
	const struct seed_vector *sv = data;
	struct advice_vector v = *find_vector(sv->vector);
	struct advice a;

	v.club_day = sv->club_day;
	/* Every date: a point that only some phrasings make is not made. */
	for (int32_t day = TODAY; day < TODAY + ADVICE_PHRASINGS; day++) {
		decide(&v, day, &a);
		if (strcmp(sv->where, "detail") == 0)
			g_assert_nonnull(strstr(a.detail, sv->text));
		else if (strcmp(sv->where, "reasons") == 0)
			g_assert_true(
			    contains_in(a.reasons, a.reason_count, sv->text));
		else
			g_assert_true(
			    contains_in(a.actions, a.action_count, sv->text));
	}
}

/* The push text's bound holds for any name and any action. */
static void test_push_text(void)
{
	struct advice a = { .state = ADVICE_PRIMED };
	char buf[ADVICE_PUSH_TEXT], small[16];
	char name[300];
	size_t chars;

	g_strlcpy(a.headline, "Ready to go", sizeof(a.headline));
	a.action_count = 1;
	memset(a.actions[0], 0, sizeof(a.actions[0]));
	for (size_t i = 0; i + 3 < ADVICE_TEXT - 1; i += 3)
		memcpy(a.actions[0] + i, "\xe2\x80\x93", 3); /* en dashes */
	for (size_t i = 0; i + 2 < sizeof(name); i += 2)
		memcpy(name + i, "\xc3\xa9", 3);

	/* No check-in: headline, action cut, invitation. */
	chars = advice_push_text(&a, name, buf, sizeof(buf));
	g_assert_cmpuint(chars, ==, g_utf8_strlen(buf, -1));
	g_assert_cmpuint(chars, <=, ADVICE_PUSH_MAX_CHARS);
	g_assert_true(g_utf8_validate(buf, -1, NULL));
	g_assert_nonnull(strstr(buf, "Ready to go. "));
	g_assert_true(
	    g_str_has_suffix(buf, "Check in: mood, energy, soreness."));
	g_assert_nonnull(strstr(buf, "..."));

	/* Checked in: no invitation; a short text is whole. */
	a.checked_in = true;
	g_strlcpy(a.actions[0], "Train as planned.", ADVICE_TEXT);
	chars = advice_push_text(&a, "Alice", buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "Alice: Ready to go. Train as planned.");
	g_assert_cmpuint(chars, ==, strlen(buf));
	chars = advice_push_text(&a, NULL, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "Ready to go. Train as planned.");

	/* A buffer too small is filled as far as it goes, terminated. */
	advice_push_text(&a, NULL, small, sizeof(small));
	g_assert_cmpuint(strlen(small), ==, sizeof(small) - 1);
	g_assert_cmpuint(advice_push_text(&a, NULL, small, 0), ==, 0);
}

struct name_vector {
	const char *name;
	enum advice_state state;
	const char *label;
};

static const struct name_vector names[] = {
	{ "/advice/name/no-data", ADVICE_NO_DATA, "no-data" },
	{ "/advice/name/calibrating", ADVICE_CALIBRATING, "calibrating" },
	{ "/advice/name/running-on-empty", ADVICE_RUNNING_ON_EMPTY,
	  "running-on-empty" },
	{ "/advice/name/overreaching", ADVICE_OVERREACHING, "overreaching" },
	{ "/advice/name/one-off-dip", ADVICE_ONE_OFF_DIP, "one-off-dip" },
	{ "/advice/name/comeback", ADVICE_COMEBACK, "comeback" },
	{ "/advice/name/early-warning", ADVICE_EARLY_WARNING, "early-warning" },
	{ "/advice/name/strained", ADVICE_STRAINED, "strained" },
	{ "/advice/name/stale", ADVICE_STALE, "stale" },
	{ "/advice/name/steady", ADVICE_STEADY, "steady" },
	{ "/advice/name/primed", ADVICE_PRIMED, "primed" },
};

static void test_name(gconstpointer data)
{
	const struct name_vector *v = data;
	enum advice_state parsed = ADVICE_NO_DATA;

	g_assert_cmpstr(advice_state_name(v->state), ==, v->label);
	g_assert_true(advice_state_parse(v->label, &parsed));
	g_assert_cmpint(parsed, ==, v->state);
}

static void test_name_unknown(void)
{
	enum advice_state parsed = ADVICE_PRIMED;

	g_assert_false(advice_state_parse("sleepy", &parsed));
	g_assert_false(advice_state_parse("", &parsed));
	g_assert_false(advice_state_parse("Primed", &parsed));
	g_assert_false(advice_state_parse(NULL, &parsed));
	g_assert_cmpint(parsed, ==, ADVICE_PRIMED);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++)
		g_test_add_data_func(vectors[i].name, &vectors[i], test_vector);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		g_test_add_data_func(names[i].name, &names[i], test_name);
	g_test_add_func("/advice/name/unknown", test_name_unknown);
	g_test_add_func("/advice/no-data/null-night", test_null_night);
	for (size_t i = 0; i < G_N_ELEMENTS(source_cases); i++)
		g_test_add_data_func(source_cases[i].name, &source_cases[i],
				     test_source);
	g_test_add_func("/advice/long-goal", test_long_goal);
	g_test_add_func("/advice/push-text", test_push_text);
	for (size_t i = 0; i < G_N_ELEMENTS(state_vectors); i++)
		g_test_add_data_func(state_vectors[i].name, &state_vectors[i],
				     test_state_texts);
	for (size_t i = 0; i < G_N_ELEMENTS(seed_vectors); i++)
		g_test_add_data_func(seed_vectors[i].name, &seed_vectors[i],
				     test_seed);
	return g_test_run();
}
