// SPDX-License-Identifier: MIT
#include "gateway/engine/advice.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EN_DASH	   "\xe2\x80\x93"
#define PLUS_MINUS "\xc2\xb1"

#define SLUMP_DAYS	   5
#define SLUMP_MIN_DAYS	   3
#define SLUMP_SCORE_BELOW  50
#define LOW_MOOD_MAX	   2.0
#define COMEBACK_FIRST_AGE 2 /* the day before yesterday */
#define COMEBACK_LAST_AGE  8 /* ... and the 6 days before it */
#define WEEK_DAYS	   7
#define WEEK_MIN_NIGHTS	   3
#define STALE_MONOTONY	   2.0
#define SLEEP_NEED_MIN	   480.0
#define SLEEP_DEBT_MAX_MIN 300.0
#define WEIGHT_DROP_PCT	   1.0
/* 1 % written as a decimal is rarely exact in binary: "1 % or more" must
 * not hinge on the last bit of a division. */
#define WEIGHT_DROP_EPSILON   1e-9
#define HRV_NORMAL_HALF_WIDTH 0.5

enum week_hrv {
	WEEK_HRV_UNKNOWN,
	WEEK_HRV_BELOW,
	WEEK_HRV_WITHIN,
	WEEK_HRV_ABOVE,
};

/* Everything the rules look at, worked out once so that the state and its
 * reasons cannot disagree. */
struct facts {
	const struct advice_input *in;
	const struct night_metrics *night; /* NULL: nothing for today */
	const struct score_result *score;
	int32_t day;
	double need_min;

	bool no_window;
	bool no_component;
	enum score_zone zone;
	int32_t today_score;

	enum week_hrv hrv_week;
	double hrv_low, hrv_high; /* the normal range */
	bool rhr_week_high;

	int low_days;			/* scored under 50, of the last 5 */
	int32_t low_scores[SLUMP_DAYS]; /* oldest first */
	int low_mood_days;		/* mood 2 or lower, of the last 5 */

	bool yesterday_green;
	int32_t yesterday_score;
	int empty_age; /* days since running on empty, 0 for none */

	bool monotony_high;
	bool flat_checkin;

	double sleep_debt_min;
	double weight_kg;
	double weight_median_kg;
	double weight_drop_pct;
};

__attribute__((format(printf, 3, 4))) static void
set_text(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	/* Truncation is acceptable here: a shortened text is still
	 * terminated, and every fixed text fits. */
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
add_item(char (*items)[ADVICE_TEXT], size_t *count, const char *fmt, ...)
{
	va_list ap;

	if (*count >= ADVICE_MAX_ITEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(items[*count], ADVICE_TEXT, fmt, ap);
	va_end(ap);
	(*count)++;
}

/* "6 h 10 min": easier to picture than 370 minutes. */
static void format_duration(char *buf, size_t size, double minutes)
{
	long m = lround(fmax(minutes, 0.0));

	snprintf(buf, size, "%ld h %ld min", m / 60, m % 60);
}

static const struct advice_day *history_day(const struct advice_input *in,
					    int32_t day)
{
	if (!in->history)
		return NULL;
	for (size_t i = in->history_count; i-- > 0;) {
		const struct advice_day *d = &in->history[i];

		if (d->night.day == day)
			return d;
		if (d->night.day < day)
			break;
	}
	return NULL;
}

/* The night of @age days ago, today being 0; NULL when there is none. */
static const struct night_metrics *night_at(const struct facts *f, int age)
{
	const struct advice_day *d;

	if (age == 0)
		return f->night;
	d = history_day(f->in, f->day - age);
	return d ? &d->night : NULL;
}

static int32_t score_at(const struct facts *f, int age)
{
	const struct advice_day *d;

	if (age == 0)
		return f->today_score;
	d = history_day(f->in, f->day - age);
	return d ? d->score.score : -1;
}

static bool checkin_present(const struct night_metrics *n)
{
	return n && metric_present(n->mood) && metric_present(n->energy) &&
	       metric_present(n->soreness);
}

static bool any_component(const struct score_result *s)
{
	/* Load is yesterday's training, not a measurement of last night. */
	return s->hrv.present || s->rhr.present || s->sleep.present ||
	       s->checkin.present;
}

static void weigh_week(struct facts *f)
{
	double w[WEEK_DAYS];
	size_t n = 0;

	f->weight_kg = f->night ? f->night->weight_kg : METRIC_NONE;
	f->weight_median_kg = METRIC_NONE;
	f->weight_drop_pct = METRIC_NONE;
	if (!metric_present(f->weight_kg))
		return;

	for (int age = 0; age < WEEK_DAYS; age++) {
		const struct night_metrics *nm = night_at(f, age);
		size_t j;

		if (!nm || !metric_present(nm->weight_kg) ||
		    nm->weight_kg <= 0.0)
			continue;
		/* insertion sort: seven values at most */
		for (j = n; j > 0 && w[j - 1] > nm->weight_kg; j--)
			w[j] = w[j - 1];
		w[j] = nm->weight_kg;
		n++;
	}
	if (n == 0)
		return;
	f->weight_median_kg =
	    n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2.0;
	f->weight_drop_pct =
	    (f->weight_median_kg - f->weight_kg) / f->weight_median_kg * 100.0;
}

static void gather(const struct advice_input *in, struct facts *f)
{
	const struct score_result *s = in->score;
	const struct night_metrics *today = in->night;

	memset(f, 0, sizeof(*f));
	f->in = in;
	f->night = today;
	f->score = s;
	f->day = today ? today->day : s ? s->day : 0;
	f->need_min =
	    metric_present(in->sleep_need_min) && in->sleep_need_min > 0.0
		? in->sleep_need_min
		: SLEEP_NEED_MIN;
	f->today_score = s ? s->score : -1;
	f->zone = s ? s->zone : SCORE_ZONE_NONE;
	f->no_window = !today || today->window_start_ms == 0;
	f->no_component = !s || !any_component(s);

	f->hrv_week = WEEK_HRV_UNKNOWN;
	if (s && metric_present(s->baseline.ln_rmssd_mean) &&
	    metric_present(s->baseline.ln_rmssd_sd)) {
		double half = HRV_NORMAL_HALF_WIDTH * s->baseline.ln_rmssd_sd;

		f->hrv_low = s->baseline.ln_rmssd_mean - half;
		f->hrv_high = s->baseline.ln_rmssd_mean + half;
		if (metric_present(s->baseline.ln_rmssd_7d))
			f->hrv_week = s->baseline.ln_rmssd_7d < f->hrv_low
					  ? WEEK_HRV_BELOW
				      : s->baseline.ln_rmssd_7d > f->hrv_high
					  ? WEEK_HRV_ABOVE
					  : WEEK_HRV_WITHIN;
	}
	f->rhr_week_high =
	    s && metric_present(s->baseline.rhr_7d) &&
	    metric_present(s->baseline.rhr_mean) &&
	    metric_present(s->baseline.rhr_sd) &&
	    s->baseline.rhr_7d > s->baseline.rhr_mean + s->baseline.rhr_sd;

	/* Calendar days, not entries: a missing day is not a low day. */
	for (int age = SLUMP_DAYS - 1; age >= 0; age--) {
		int32_t sc = score_at(f, age);
		const struct night_metrics *nm = night_at(f, age);

		if (sc >= 0 && sc < SLUMP_SCORE_BELOW)
			f->low_scores[f->low_days++] = sc;
		if (nm && metric_present(nm->mood) && nm->mood <= LOW_MOOD_MAX)
			f->low_mood_days++;
	}

	{
		const struct advice_day *y = history_day(in, f->day - 1);

		f->yesterday_green = y && y->score.zone == SCORE_ZONE_GREEN;
		f->yesterday_score = y ? y->score.score : -1;
	}
	for (int age = COMEBACK_FIRST_AGE; age <= COMEBACK_LAST_AGE; age++) {
		const struct advice_day *d = history_day(in, f->day - age);

		if (d && d->state == ADVICE_RUNNING_ON_EMPTY) {
			f->empty_age = age;
			break;
		}
	}

	f->monotony_high = s && metric_present(s->load_trend.monotony) &&
			   s->load_trend.monotony > STALE_MONOTONY;
	f->flat_checkin = checkin_present(today);
	for (int age = 1; f->flat_checkin && age < WEEK_DAYS; age++) {
		const struct night_metrics *nm = night_at(f, age);

		f->flat_checkin = checkin_present(nm) &&
				  nm->mood == today->mood &&
				  nm->energy == today->energy &&
				  nm->soreness == today->soreness;
	}

	/* A short night is a debt; a long one does not pay back another. */
	for (int age = 0; age < WEEK_DAYS; age++) {
		const struct night_metrics *nm = night_at(f, age);

		if (nm && metric_present(nm->sleep_min))
			f->sleep_debt_min +=
			    fmax(0.0, f->need_min - nm->sleep_min);
	}
	weigh_week(f);
}

static bool running_on_empty_by_scores(const struct facts *f)
{
	return f->low_days >= SLUMP_MIN_DAYS && f->today_score >= 0 &&
	       f->today_score < SLUMP_SCORE_BELOW &&
	       (f->hrv_week == WEEK_HRV_BELOW || f->rhr_week_high);
}

static bool running_on_empty_by_mood(const struct facts *f)
{
	/* Today as well: a brighter morning is the first sign of recovery,
	 * and should be allowed to show. */
	return f->low_mood_days >= SLUMP_MIN_DAYS && f->night &&
	       metric_present(f->night->mood) && f->night->mood <= LOW_MOOD_MAX;
}

static enum advice_state choose(const struct facts *f)
{
	/* No sleep window: nothing about the night to read. */
	if (f->no_window || !f->score)
		return ADVICE_NO_DATA;
	if (f->score->calibrating)
		return ADVICE_CALIBRATING;
	if (running_on_empty_by_scores(f) || running_on_empty_by_mood(f))
		return ADVICE_RUNNING_ON_EMPTY;
	switch (f->zone) {
	case SCORE_ZONE_RED:
		/* One low night among good ones; a second low day in a row
		 * is already a trend: easy movement, not "one-off". */
		return f->low_days > 1 ? ADVICE_STRAINED : ADVICE_ONE_OFF_DIP;
	case SCORE_ZONE_YELLOW:
		return ADVICE_STRAINED;
	case SCORE_ZONE_GREEN:
		if (f->hrv_week == WEEK_HRV_BELOW)
			return ADVICE_STRAINED;
		if (f->yesterday_green && f->empty_age > 0)
			return ADVICE_COMEBACK;
		if (f->monotony_high || f->flat_checkin)
			return ADVICE_STALE;
		/* An unknown 7-day HRV (fewer than 3 nights this week) is not
		 * a low one: today's green already includes tonight's HRV. */
		return ADVICE_PRIMED;
	case SCORE_ZONE_NONE:
		/* A sleep window, but nothing in it that can be scored. */
		return ADVICE_NO_DATA;
	default:
		return ADVICE_NO_DATA;
	}
}

static void reason_hrv_week(const struct facts *f, struct advice *a)
{
	const struct score_baseline *b = &f->score->baseline;
	const char *where;

	switch (f->hrv_week) {
	case WEEK_HRV_BELOW:
		where = "below";
		break;
	case WEEK_HRV_WITHIN:
		where = "within";
		break;
	case WEEK_HRV_ABOVE:
		where = "above";
		break;
	case WEEK_HRV_UNKNOWN:
		add_item(a->reasons, &a->reason_count,
			 "HRV 7-day mean not known yet (%d of the %d nights "
			 "it needs this week)",
			 (int)b->week_nights, WEEK_MIN_NIGHTS);
		return;
	default:
		return;
	}
	add_item(a->reasons, &a->reason_count,
		 "HRV 7-day mean %.2f is %s your normal range %.2f" EN_DASH
		 "%.2f",
		 b->ln_rmssd_7d, where, f->hrv_low, f->hrv_high);
}

static void reason_low_days(const struct facts *f, struct advice *a)
{
	char list[64] = "";
	size_t used = 0;

	for (int i = 0; i < f->low_days; i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%d",
				 i ? ", " : "", (int)f->low_scores[i]);

		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;
		used += (size_t)n;
	}
	if (f->low_days > 0)
		add_item(a->reasons, &a->reason_count,
			 "%d of the last %d days scored under %d (%s)",
			 f->low_days, SLUMP_DAYS, SLUMP_SCORE_BELOW, list);
	else
		add_item(a->reasons, &a->reason_count,
			 "none of the last %d days scored under %d", SLUMP_DAYS,
			 SLUMP_SCORE_BELOW);
}

/* The component that pulled today down most, in words, if any did. */
static void reason_weakest(const struct facts *f, struct advice *a)
{
	const struct score_result *s = f->score;
	const struct score_component *parts[] = { &s->hrv, &s->rhr, &s->sleep,
						  &s->checkin, &s->load };
	const struct score_component *w = NULL;
	char slept[32], need[32];

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i]->present && parts[i]->z < 0.0 &&
		    (!w || parts[i]->z < w->z))
			w = parts[i];
	if (!w)
		return;

	if (w == &s->hrv) {
		add_item(a->reasons, &a->reason_count,
			 "last night's HRV %.2f is under your usual %.2f",
			 s->hrv.value, s->baseline.ln_rmssd_mean);
	} else if (w == &s->rhr) {
		add_item(a->reasons, &a->reason_count,
			 "last night's resting HR %.0f bpm is over your usual "
			 "%.0f",
			 s->rhr.value, s->baseline.rhr_mean);
	} else if (w == &s->sleep) {
		format_duration(slept, sizeof(slept), s->sleep.value);
		format_duration(need, sizeof(need), f->need_min);
		add_item(a->reasons, &a->reason_count,
			 "slept %s of the %s you need, efficiency %.0f %%",
			 slept, need,
			 f->night ? f->night->sleep_efficiency_pct : NAN);
	} else if (w == &s->checkin && f->night) {
		add_item(a->reasons, &a->reason_count,
			 "today's check-in: mood %g, energy %g, soreness %g",
			 f->night->mood, f->night->energy, f->night->soreness);
	} else if (w == &s->load) {
		add_item(a->reasons, &a->reason_count,
			 "training load is up: acute:chronic ratio %.2f "
			 "(over 1.0)",
			 s->load.value);
	}
}

static void write_no_data(const struct facts *f, struct advice *a)
{
	set_text(a->headline, sizeof(a->headline), "No score today");
	set_text(a->detail, sizeof(a->detail),
		 "Not enough came through from last night to work out a "
		 "score. That happens; go by how you feel today.");
	add_item(a->actions, &a->action_count,
		 "Charge the strap and put it on at bedtime tonight.");
	if (f->no_window)
		add_item(a->reasons, &a->reason_count,
			 "no sleep window and no readings for last night");
	else
		add_item(a->reasons, &a->reason_count,
			 "a sleep window, but no HRV, resting HR, sleep or "
			 "check-in to score");
}

static void write_calibrating(const struct facts *f, struct advice *a)
{
	int nights = (int)f->score->baseline.nights;

	set_text(a->headline, sizeof(a->headline),
		 "Getting to know you: %d of %d nights", nights,
		 SCORE_CALIBRATION_NIGHTS);
	set_text(a->detail, sizeof(a->detail),
		 "Your score learns what normal looks like for you first. "
		 "Until then, train the way you feel.");
	add_item(a->actions, &a->action_count,
		 "Wear the strap tonight: your first score comes after %d "
		 "nights with HRV.",
		 SCORE_CALIBRATION_NIGHTS);
	add_item(a->reasons, &a->reason_count,
		 "%d of %d nights with HRV so far", nights,
		 SCORE_CALIBRATION_NIGHTS);
}

static void write_running_on_empty(const struct facts *f, struct advice *a)
{
	const struct score_baseline *b = &f->score->baseline;

	set_text(a->headline, sizeof(a->headline),
		 "Running on empty: time to refill");
	set_text(a->detail, sizeof(a->detail),
		 "Your body has been asking for a break for a few days. That "
		 "is feedback, not failure: rest now and the fitness comes "
		 "back stronger.");
	add_item(a->actions, &a->action_count,
		 "Take guilt-free rest days: today off, tomorrow easy at "
		 "most. Rest is productive; it is when training turns into "
		 "fitness.");
	add_item(a->actions, &a->action_count,
		 "Sleep an extra hour and keep water nearby. Tell your "
		 "training partner or coach, and shrink this week's goal to "
		 "one you can meet on a tired day.");

	if (running_on_empty_by_scores(f)) {
		reason_low_days(f, a);
		if (f->hrv_week == WEEK_HRV_BELOW)
			reason_hrv_week(f, a);
		if (f->rhr_week_high)
			add_item(a->reasons, &a->reason_count,
				 "resting HR 7-day mean %.0f bpm is above "
				 "your usual %.0f " PLUS_MINUS " %.0f",
				 b->rhr_7d, b->rhr_mean, b->rhr_sd);
	}
	if (running_on_empty_by_mood(f))
		add_item(a->reasons, &a->reason_count,
			 "mood %.0f or lower on %d of the last %d days",
			 LOW_MOOD_MAX, f->low_mood_days, SLUMP_DAYS);
}

static void write_one_off_dip(const struct facts *f, struct advice *a)
{
	set_text(a->headline, sizeof(a->headline),
		 "A low night, not a low week");
	set_text(a->detail, sizeof(a->detail),
		 "Today is in the red, but your trend is fine. One low day "
		 "does not define the week.");
	add_item(a->actions, &a->action_count,
		 "Rest, or keep it very easy: a walk still counts.");
	add_item(a->actions, &a->action_count,
		 "Wind down a little earlier tonight and see how tomorrow "
		 "looks.");
	add_item(a->reasons, &a->reason_count,
		 "today's score %d is in the red (33 or lower)",
		 (int)f->today_score);
	reason_low_days(f, a);
	reason_hrv_week(f, a);
	reason_weakest(f, a);
}

static void write_strained(const struct facts *f, struct advice *a)
{
	set_text(a->headline, sizeof(a->headline), "Take it easy today");
	set_text(a->detail, sizeof(a->detail),
		 "Your body is still absorbing recent effort. Easy movement "
		 "keeps the streak alive without digging deeper.");
	add_item(a->actions, &a->action_count,
		 "Easy movement only: a walk, some stretching, or an easy "
		 "jog without the watch.");
	if (f->zone == SCORE_ZONE_YELLOW)
		add_item(a->reasons, &a->reason_count,
			 "today's score %d is yellow (34" EN_DASH "66)",
			 (int)f->today_score);
	else if (f->zone == SCORE_ZONE_RED)
		reason_low_days(f, a);
	else
		add_item(a->reasons, &a->reason_count,
			 "today's score %d is green, but the week is running "
			 "low",
			 (int)f->today_score);
	reason_hrv_week(f, a);
	reason_weakest(f, a);
}

static void write_comeback(const struct facts *f, struct advice *a)
{
	set_text(a->headline, sizeof(a->headline), "You're bouncing back");
	set_text(a->detail, sizeof(a->detail),
		 "Two good days after a rough patch. The fitness is still "
		 "there; start small and let it build.");
	add_item(a->actions, &a->action_count,
		 "Start small: three 30-minute sessions this week, easy to "
		 "moderate.");
	add_item(a->actions, &a->action_count,
		 "Build gradually, a little more each week, and keep one "
		 "guilt-free rest day.");
	add_item(a->reasons, &a->reason_count,
		 "2 green days in a row (%d, %d) after running on empty %d "
		 "days ago",
		 (int)f->yesterday_score, (int)f->today_score, f->empty_age);
}

static void write_stale(const struct facts *f, struct advice *a)
{
	set_text(a->headline, sizeof(a->headline), "Time for something new");
	set_text(a->detail, sizeof(a->detail),
		 "You are recovering well, but the days look alike. A new "
		 "stimulus keeps training fun and keeps you adapting.");
	add_item(a->actions, &a->action_count,
		 "Change the stimulus: a new route or trail, some hills, or "
		 "a day with no pace target.");
	add_item(a->actions, &a->action_count,
		 "Or cross-train: 45 minutes on the bike, an easy swim, or "
		 "strength work with bands.");
	add_item(a->reasons, &a->reason_count, "today's score %d is green",
		 (int)f->today_score);
	if (f->monotony_high)
		add_item(a->reasons, &a->reason_count,
			 "training monotony %.1f this week (over %.1f)",
			 f->score->load_trend.monotony, STALE_MONOTONY);
	if (f->flat_checkin)
		add_item(a->reasons, &a->reason_count,
			 "the same check-in %d days running (mood %g, energy "
			 "%g, soreness %g)",
			 WEEK_DAYS, f->night->mood, f->night->energy,
			 f->night->soreness);
}

static void write_primed(const struct facts *f, struct advice *a)
{
	set_text(a->headline, sizeof(a->headline), "Ready to go");
	set_text(a->detail, sizeof(a->detail),
		 "You have recovered well. Train as planned; a quality "
		 "session is welcome today.");
	add_item(a->actions, &a->action_count,
		 "Train as planned: if a hard session is on the schedule, "
		 "today is a good day for it.");
	add_item(a->reasons, &a->reason_count,
		 "today's score %d is green (67 or more)", (int)f->today_score);
	reason_hrv_week(f, a);
}

static bool slump_state(enum advice_state state)
{
	return state == ADVICE_RUNNING_ON_EMPTY || state == ADVICE_ONE_OFF_DIP;
}

static void write_add_ons(const struct facts *f, struct advice *a)
{
	char debt[32];

	if (f->sleep_debt_min > SLEEP_DEBT_MAX_MIN) {
		format_duration(debt, sizeof(debt), f->sleep_debt_min);
		add_item(a->actions, &a->action_count,
			 "Go to bed an hour earlier tonight.");
		add_item(a->reasons, &a->reason_count,
			 "sleep debt %s over %d days", debt, WEEK_DAYS);
	}
	if (metric_present(f->weight_drop_pct) &&
	    f->weight_drop_pct >= WEIGHT_DROP_PCT - WEIGHT_DROP_EPSILON) {
		add_item(a->actions, &a->action_count,
			 "Drink more water today: a glass with each meal is an "
			 "easy start.");
		add_item(a->reasons, &a->reason_count,
			 "morning weight %.1f kg is %.1f %% under your 7-day "
			 "median %.1f kg",
			 f->weight_kg, f->weight_drop_pct, f->weight_median_kg);
	}
	if (f->in->club_day) {
		/* On a low day the club still matters, for the company. */
		if (a->state == ADVICE_PRIMED || a->state == ADVICE_STALE ||
		    a->state == ADVICE_COMEBACK)
			add_item(a->actions, &a->action_count,
				 "It's club day: join the group run.");
		else
			add_item(a->actions, &a->action_count,
				 "It's club day: join the group run at an "
				 "easy pace, or walk part of it; the company "
				 "counts.");
	}
	if (slump_state(a->state) && f->in->goal && f->in->goal[0])
		add_item(a->actions, &a->action_count,
			 "Remember your own reason: %s", f->in->goal);
}

int advice_decide(const struct advice_input *in, struct advice *ret)
{
	struct facts f;

	if (!in || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	gather(in, &f);
	ret->state = choose(&f);

	switch (ret->state) {
	case ADVICE_NO_DATA:
		write_no_data(&f, ret);
		break;
	case ADVICE_CALIBRATING:
		write_calibrating(&f, ret);
		break;
	case ADVICE_RUNNING_ON_EMPTY:
		write_running_on_empty(&f, ret);
		break;
	case ADVICE_ONE_OFF_DIP:
		write_one_off_dip(&f, ret);
		break;
	case ADVICE_STRAINED:
		write_strained(&f, ret);
		break;
	case ADVICE_COMEBACK:
		write_comeback(&f, ret);
		break;
	case ADVICE_STALE:
		write_stale(&f, ret);
		break;
	case ADVICE_PRIMED:
		write_primed(&f, ret);
		break;
	default:
		write_no_data(&f, ret);
		break;
	}
	write_add_ons(&f, ret);
	return 0;
}

static const char *const state_names[] = {
	[ADVICE_NO_DATA] = "no-data",
	[ADVICE_CALIBRATING] = "calibrating",
	[ADVICE_RUNNING_ON_EMPTY] = "running-on-empty",
	[ADVICE_ONE_OFF_DIP] = "one-off-dip",
	[ADVICE_STRAINED] = "strained",
	[ADVICE_COMEBACK] = "comeback",
	[ADVICE_STALE] = "stale",
	[ADVICE_PRIMED] = "primed",
};

const char *advice_state_name(enum advice_state state)
{
	switch (state) {
	case ADVICE_NO_DATA:
	case ADVICE_CALIBRATING:
	case ADVICE_RUNNING_ON_EMPTY:
	case ADVICE_ONE_OFF_DIP:
	case ADVICE_STRAINED:
	case ADVICE_COMEBACK:
	case ADVICE_STALE:
	case ADVICE_PRIMED:
		return state_names[state];
	default:
		return "no-data";
	}
}

bool advice_state_parse(const char *name, enum advice_state *ret)
{
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]);
	     i++) {
		if (strcmp(name, state_names[i]) == 0) {
			if (ret)
				*ret = (enum advice_state)i;
			return true;
		}
	}
	return false;
}
