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
	double sleep_min[DAYS]; /* 0: not measured */
	double weight_kg[DAYS]; /* 0: not weighed */
	double ln_7d;		/* 0: 4.00 (normal); N: unknown */
	double rhr_7d;		/* 0: 52 */
	double ln_tonight;	/* 0: 4.00 */
	double monotony;
	bool calibrating;
	int32_t hrv_nights; /* with calibrating */
	bool no_window;
	bool no_component;
	bool club_day;
	const char *goal;
	enum advice_state expect;
	const char *reasons[4];		   /* each a substring of some reason */
	const char *actions[4];		   /* each a substring of some action */
	const char *absent[2];		   /* in no text at all */
	size_t action_count, reason_count; /* 0: not checked */
};

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
	  .actions = { "after 7 nights" },
	  .absent = { GOAL } },

	/* 41, 38, 45 under 50 and the week's HRV 3.90 < 3.95 */
	{ .name = "/advice/running-on-empty/hrv-low",
	  .score = SLUMP(45),
	  .ln_7d = 3.90,
	  .goal = GOAL,
	  .expect = EMPTY,
	  .reasons = { "3 of the last 5 days scored under 50 (41, 38, 45)",
		       "HRV 7-day mean 3.90 is below your normal range "
		       "3.95\xe2\x80\x93"
		       "4.05" },
	  .actions = { "guilt-free rest", "Remember your own reason: " GOAL },
	  .absent = { "resting HR" } },
	/* 55 > 52 + 2 */
	{ .name = "/advice/running-on-empty/rhr-high",
	  .score = SLUMP(45),
	  .rhr_7d = 55,
	  .expect = EMPTY,
	  .reasons = { "resting HR 7-day mean 55 bpm is above your usual "
		       "52 \xc2\xb1 2" },
	  .absent = { "HRV 7-day mean" } },
	/* mood 2, 1, 2 on D-4, D-2, D: three of five, scores all green */
	{ .name = "/advice/running-on-empty/low-mood",
	  .score = GREEN(75),
	  .mood = { [5] = 2, [6] = 3, [7] = 1, [8] = 4, [9] = 2 },
	  .goal = GOAL,
	  .expect = EMPTY,
	  .reasons = { "mood 2 or lower on 3 of the last 5 days" },
	  .actions = { GOAL },
	  .absent = { "scored under" } },
	/* the low mood on D-5 is outside the 5 days: two of five */
	{ .name = "/advice/running-on-empty/mood-two-of-five",
	  .score = GREEN(75),
	  .mood = { [4] = 1, [5] = 2, [6] = 3, [7] = 3, [8] = 4, [9] = 2 },
	  .expect = ADVICE_PRIMED },
	/* the 3 of 5 lows again, but HRV and RHR are normal */
	{ .name = "/advice/running-on-empty/not-with-normal-trend",
	  .score = SLUMP(45),
	  .goal = GOAL,
	  .expect = ADVICE_STRAINED,
	  .absent = { GOAL } },
	/* three lows, but today 60 is not one of them */
	{ .name = "/advice/running-on-empty/not-when-today-fine",
	  .score = { [5] = 41, [6] = 38, [7] = 45, [8] = 70, [9] = 60 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_STRAINED,
	  .reasons = { "today's score 60 is yellow (34\xe2\x80\x93"
		       "66)" } },
	/* lows on D-6 and D-5 fall outside the 5 days: 44 and 45 only */
	{ .name = "/advice/running-on-empty/older-lows-dont-count",
	  .score = { [3] = 40,
		     [4] = 42,
		     [5] = 70,
		     [6] = 71,
		     [7] = 44,
		     [8] = 72,
		     [9] = 45 },
	  .ln_7d = 3.90,
	  .expect = ADVICE_STRAINED },
	/* D-3 and D-1 have no entry: a missing day is neither low nor fine */
	{ .name = "/advice/running-on-empty/missing-days",
	  .score = { [5] = 41, [7] = 38, [9] = 45 },
	  .ln_7d = 3.90,
	  .expect = EMPTY,
	  .reasons = { "3 of the last 5 days scored under 50 (41, 38, 45)" } },

	/* Red after a low day is a trend starting, not a one-off. */
	{ .name = "/advice/one-off-dip/not-after-a-low-day",
	  .score = { 75, 75, 75, 75, 75, 75, 75, 75, 45, 30 },
	  .expect = ADVICE_STRAINED,
	  .reasons = { "2 of the last 5 days scored under 50 (45, 30)" },
	  .absent = { "yellow", "is green" } },
	/* Three low moods of five, but a brighter one today: recovering. */
	{ .name = "/advice/running-on-empty/mood-lifting-today",
	  .score = GREEN(75),
	  .mood = { [5] = 2, [6] = 2, [7] = 2, [8] = 4, [9] = 3 },
	  .expect = ADVICE_PRIMED },
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
	  .reasons = { "today's score 30 is in the red (33 or lower)",
		       "1 of the last 5 days scored under 50 (30)",
		       "HRV 7-day mean 4.00 is within your normal range "
		       "3.95\xe2\x80\x93"
		       "4.05" },
	  .actions = { "a walk still counts",
		       "Remember your own reason: " GOAL },
	  .absent = { "running on empty" } },
	/* HRV 3.70 tonight: z (3.70 - 4.00) / 0.10 = -3 is the weakest */
	{ .name = "/advice/one-off-dip/weakest-component",
	  .score = GREEN(30),
	  .ln_tonight = 3.70,
	  .expect = ADVICE_ONE_OFF_DIP,
	  .reasons = { "last night's HRV 3.70 is under your usual 4.00" } },
	/* red today and a slump behind it: running on empty comes first */
	{ .name = "/advice/precedence/empty-before-dip",
	  .score = SLUMP(30),
	  .ln_7d = 3.90,
	  .goal = GOAL,
	  .expect = EMPTY,
	  .reasons = { "3 of the last 5 days scored under 50 (41, 38, 30)" },
	  .actions = { GOAL } },
	/* a slump by mood beats a green-but-stale week */
	{ .name = "/advice/precedence/empty-before-stale",
	  .score = GREEN(80),
	  .mood = { [5] = 2, [7] = 2, [9] = 1 },
	  .monotony = 2.4,
	  .expect = EMPTY },

	{ .name = "/advice/strained/yellow",
	  .score = GREEN(58),
	  .goal = GOAL,
	  .expect = ADVICE_STRAINED,
	  .reasons = { "today's score 58 is yellow (34\xe2\x80\x93"
		       "66)" },
	  .actions = { "a walk, some stretching, or an easy jog without the "
		       "watch" },
	  .absent = { GOAL } },
	{ .name = "/advice/strained/green-but-low-week",
	  .score = GREEN(72),
	  .ln_7d = 3.90,
	  .expect = ADVICE_STRAINED,
	  .reasons = { "today's score 72 is green, but",
		       "HRV 7-day mean 3.90 is below" } },
	/* yellow beats stale: stale needs green */
	{ .name = "/advice/strained/before-stale",
	  .score = GREEN(60),
	  .monotony = 2.4,
	  .expect = ADVICE_STRAINED },

	/* running on empty on D-5; 70 yesterday and 74 today are green, and
	 * the last 5 days hold only two lows (45, 48) */
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
	  .reasons = { "2 green days in a row (70, 74) after running on "
		       "empty 5 days ago" },
	  .actions = { "three 30-minute sessions this week",
		       "Build gradually" },
	  .absent = { GOAL } },
	{ .name = "/advice/comeback/needs-green-yesterday",
	  .score = { [4] = 40,
		     [5] = 45,
		     [6] = 48,
		     [7] = 70,
		     [8] = 60,
		     [9] = 74 },
	  .state = { [4] = EMPTY },
	  .expect = ADVICE_PRIMED },
	{ .name = "/advice/comeback/8-days-back",
	  .score = GREEN(74),
	  .state = { [1] = EMPTY },
	  .expect = ADVICE_COMEBACK,
	  .reasons = { "after running on empty 8 days ago" } },
	{ .name = "/advice/comeback/9-days-back",
	  .score = GREEN(74),
	  .state = { [0] = EMPTY },
	  .expect = ADVICE_PRIMED },
	/* yesterday was still running on empty (by mood, though green):
	 * today is only the first good day after it */
	{ .name = "/advice/comeback/not-the-day-after",
	  .score = GREEN(74),
	  .state = { [8] = EMPTY },
	  .expect = ADVICE_PRIMED },
	/* a comeback is only after running on empty, not after a dip */
	{ .name = "/advice/comeback/not-after-dip",
	  .score = GREEN(74),
	  .state = { [5] = ADVICE_ONE_OFF_DIP },
	  .expect = ADVICE_PRIMED },

	{ .name = "/advice/stale/monotony",
	  .score = GREEN(80),
	  .monotony = 2.4,
	  .expect = ADVICE_STALE,
	  .reasons = { "training monotony 2.4 this week (over 2.0)" },
	  .actions = { "new route or trail", "45 minutes on the bike",
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
	  .actions = { "a day with no pace target" } },
	{ .name = "/advice/stale/six-flat-days",
	  .score = GREEN(80),
	  .flat_days = 6,
	  .expect = ADVICE_PRIMED },

	{ .name = "/advice/primed",
	  .score = GREEN(80),
	  .goal = GOAL,
	  .expect = ADVICE_PRIMED,
	  .reasons = { "today's score 80 is green (67 or more)",
		       "HRV 7-day mean 4.00 is within your normal range "
		       "3.95\xe2\x80\x93"
		       "4.05" },
	  .actions = { "Train as planned" },
	  .absent = { GOAL, "an hour earlier" },
	  .action_count = 1,
	  .reason_count = 2 },
	{ .name = "/advice/primed/above-normal",
	  .score = GREEN(80),
	  .ln_7d = 4.10,
	  .expect = ADVICE_PRIMED,
	  .reasons = { "HRV 7-day mean 4.10 is above your normal range" } },
	/* fewer than 3 nights this week: unknown is not low */
	{ .name = "/advice/primed/week-unknown",
	  .score = GREEN(80),
	  .ln_7d = N,
	  .expect = ADVICE_PRIMED,
	  .reasons = { "HRV 7-day mean not known yet" } },

	/* 7 x (480 - 430) = 350 min > 300 */
	{ .name = "/advice/add-on/sleep-debt",
	  .score = GREEN(80),
	  .sleep_min = { [3] = 430, 430, 430, 430, 430, 430, 430 },
	  .expect = ADVICE_PRIMED,
	  .reasons = { "sleep debt 5 h 50 min over 7 days" },
	  .actions = { "Go to bed an hour earlier tonight." } },
	/* 6 x 50 = 300, not over 300; the 300-minute night on D-7 is
	 * outside the 7 days */
	{ .name = "/advice/add-on/sleep-debt-300-is-not-over",
	  .score = GREEN(80),
	  .sleep_min = { [2] = 300, 430, 430, 430, 430, 430, 430, 480 },
	  .expect = ADVICE_PRIMED,
	  .absent = { "an hour earlier", "sleep debt" } },
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
	{ .name = "/advice/add-on/club-day",
	  .score = GREEN(80),
	  .club_day = true,
	  .expect = ADVICE_PRIMED,
	  .actions = { "It's club day: join the group run." } },
	{ .name = "/advice/add-on/club-day-when-low",
	  .score = GREEN(58),
	  .club_day = true,
	  .expect = ADVICE_STRAINED,
	  .actions = { "join the group run at an easy pace" } },
	/* everything at once still fits: 2 + 4 actions, 4 + 2 reasons */
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
	  .reasons = { "mood 2 or lower on 3 of the last 5 days",
		       "sleep debt 9 h 20 min over 7 days",
		       "morning weight 69.0 kg is 1.4 % under" },
	  .actions = { "an hour earlier", "water", "club day", GOAL },
	  .action_count = 6,
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

static void test_vector(gconstpointer data)
{
	const struct advice_vector *v = data;
	struct advice_day history[DAYS];
	struct night_metrics night;
	struct score_result score;
	struct advice_input in = { 0 };
	struct advice a;
	size_t n = 0;
	double ln = or_default(v->ln_tonight, 4.0);

	for (int i = 0; i < T; i++) {
		if (v->score[i] == 0)
			continue;
		fill_day(v, i, &history[n].night);
		fill_score(history[n].night.day, v->score[i],
			   &history[n].score);
		history[n].state = v->state[i];
		n++;
	}

	fill_day(v, T, &night);
	if (v->no_window)
		night.window_start_ms = night.window_end_ms = 0;
	fill_score(TODAY, v->score[T], &score);
	score.calibrating = v->calibrating;
	score.baseline = (struct score_baseline){
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
	score.load_trend.monotony = v->monotony;
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

	memset(&a, 0xa5, sizeof(a));
	g_assert_cmpint(advice_decide(&in, &a), ==, 0);
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

/* A goal longer than the text is cut, and still terminated. */
static void test_long_goal(void)
{
	char goal[600];
	struct night_metrics night = night_metrics_empty(TODAY);
	struct score_result score;
	struct advice_input in = { 0 };
	struct advice a;

	memset(goal, 'x', sizeof(goal) - 1);
	goal[sizeof(goal) - 1] = '\0';
	night.window_start_ms = 1;
	night.mood = 1;
	fill_score(TODAY, 30, &score);
	score.baseline.ln_rmssd_mean = N;
	score.baseline.ln_rmssd_sd = N;
	score.baseline.ln_rmssd_7d = N;
	score.baseline.rhr_mean = N;
	score.baseline.rhr_sd = N;
	score.baseline.rhr_7d = N;
	score.hrv.present = true;
	in.night = &night;
	in.score = &score;
	in.goal = goal;

	g_assert_cmpint(advice_decide(&in, &a), ==, 0);
	g_assert_cmpint(a.state, ==, ADVICE_ONE_OFF_DIP);
	check_advice(&a);
	g_assert_true(
	    contains_in(a.actions, a.action_count, "Remember your own reason"));
	g_assert_cmpuint(strlen(a.actions[a.action_count - 1]), ==,
			 ADVICE_TEXT - 1);
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
	{ "/advice/name/one-off-dip", ADVICE_ONE_OFF_DIP, "one-off-dip" },
	{ "/advice/name/strained", ADVICE_STRAINED, "strained" },
	{ "/advice/name/comeback", ADVICE_COMEBACK, "comeback" },
	{ "/advice/name/stale", ADVICE_STALE, "stale" },
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
	g_test_add_func("/advice/long-goal", test_long_goal);
	return g_test_run();
}
