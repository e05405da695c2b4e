// SPDX-License-Identifier: MIT
#include "gateway/engine/advice.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gateway/engine/spot.h"

#define EN_DASH "\xe2\x80\x93"

#define SLUMP_DAYS	    5
#define SLUMP_MIN_DAYS	    3
#define LOW_SCORE_BELOW	    50 /* a "low day" */
#define GREEN_FROM	    67
#define RED_TO		    33
#define WARNING_FROM	    34
#define RECENT_DAYS	    3 /* early warning: 2 of the last 3 days low */
#define RECENT_MIN_LOW	    2
#define WARNING_SIGNALS	    2
#define CHECKIN_LOOKBACK    10 /* days in which "the last 5 check-ins" lie */
#define CHECKINS	    5
#define CHECKIN_MIN_LOW	    3
#define LOW_CHECKIN_MAX	    2.0
#define COMEBACK_WITHIN	    14
#define COMEBACK_MORNINGS   3
#define WEEK_DAYS	    7
#define WEEK_MIN_NIGHTS	    3
#define STALE_MONOTONY	    2.0
#define LOAD_UP_MEAN_FACTOR 1.2
#define LOAD_UP_ACWR	    1.3
#define SLEEP_NEED_MIN	    480.0
#define SLEEP_DEBT_MAX_MIN  300.0
#define BED_STEP_MIN	    15 /* the earlier bedtime, rounded up to this */
#define BED_EARLIER_MAX_MIN 120
#define WEIGHT_DROP_PCT	    1.0
/* 1 % written as a decimal is rarely exact in binary: "1 % or more" must
 * not hinge on the last bit of a division. */
#define WEIGHT_DROP_EPSILON   1e-9
#define HRV_NORMAL_HALF_WIDTH 0.5
#define PUSH_NAME_MAX_CHARS   40

enum trend {
	TREND_UNKNOWN,
	TREND_BELOW,
	TREND_WITHIN,
	TREND_ABOVE,
};

/* What an action is about: two actions never share a topic. */
enum topic {
	TOPIC_TRAIN = 1 << 0, /* what to do with today's training */
	TOPIC_SLEEP = 1 << 1,
	TOPIC_WATER = 1 << 2,
	TOPIC_CLUB = 1 << 3,
	TOPIC_TALK = 1 << 4,
	TOPIC_CHECKIN = 1 << 5,
	TOPIC_REFLECT = 1 << 6,
	TOPIC_DEVICE = 1 << 7,
};

/* Everything the rules look at, worked out once so that the state and its
 * reasons cannot disagree. */
struct facts {
	const struct advice_input *in;
	const struct night_metrics *night; /* NULL: nothing for today */
	const struct score_result *score;  /* NULL: nothing for today */
	int32_t day;
	double need_min;

	bool no_window;
	bool no_component;
	enum score_zone zone;
	int32_t today_score;

	enum trend hrv;
	double hrv_low_ms, hrv_high_ms; /* the usual range */
	double hrv_week_ms;
	bool hrv_below;
	bool rhr_high;
	bool trend_normal;     /* HRV within or above; unknown with RHR fine */
	bool trend_was_normal; /* the same, of the 7 days up to yesterday */

	int low_days;			/* scored under 50, of the last 5 */
	int32_t low_scores[SLUMP_DAYS]; /* oldest first */
	int recent_low;			/* of the last 3 */
	int32_t yesterday_score;	/* -1: none */

	bool load_up;

	int checkins; /* of the last 5 */
	int low_mood, low_energy;
	bool mood_low, flat_motivation, today_mood_low;
	bool flat_checkin;
	bool monotony_high;

	double sleep_debt_min;
	double usual_sleep_min;
	bool sleep_debt;

	double weight_kg, weight_median_kg, weight_drop_pct;

	enum advice_state slump; /* running-on-empty, overreaching, or 0 */
	int slump_age;		 /* days since, 0 for none in 14 */
	int comeback_mornings;	 /* comeback days in a row up to yesterday */
	bool comeback_done;	 /* a comeback since the slump, now over */
	bool by_scores, by_mood; /* which running-on-empty rule fired */
	int warning_signals;
};

struct builder {
	struct advice *a;
	unsigned topics;
};

/* Drops a UTF-8 sequence that a cut left incomplete at the end of @buf. */
static void trim_partial_utf8(char *buf)
{
	size_t len = strlen(buf), start = len, need;
	unsigned char lead;

	while (start > 0 && ((unsigned char)buf[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0)
		return;
	lead = (unsigned char)buf[start - 1];
	if (lead < 0x80)
		return;
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (len - (start - 1) < need)
		buf[start - 1] = '\0';
}

/* Truncation is acceptable: every fixed text fits, and only the person's
 * goal can make one long; a cut text stays terminated and valid UTF-8. */
__attribute__((format(printf, 3, 0))) static void
vset_text(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	if (n >= 0 && (size_t)n >= size)
		trim_partial_utf8(buf);
}

__attribute__((format(printf, 3, 4))) static void
set_text(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_text(buf, size, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
append_text(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vset_text(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Adds an action unless one on any of its @topics was said already, or
 * three were. */
__attribute__((format(printf, 3, 4))) static void
action(struct builder *b, unsigned topics, const char *fmt, ...)
{
	struct advice *a = b->a;
	va_list ap;

	if (a->action_count >= ADVICE_MAX_ACTIONS || (b->topics & topics))
		return;
	b->topics |= topics;
	va_start(ap, fmt);
	vset_text(a->actions[a->action_count], ADVICE_TEXT, fmt, ap);
	va_end(ap);
	a->action_count++;
}

__attribute__((format(printf, 2, 3))) static void reason(struct advice *a,
							 const char *fmt, ...)
{
	va_list ap;

	if (a->reason_count >= ADVICE_MAX_ITEMS)
		return;
	va_start(ap, fmt);
	vset_text(a->reasons[a->reason_count], ADVICE_TEXT, fmt, ap);
	va_end(ap);
	a->reason_count++;
}

/* "6 h 10 min": easier to picture than 370 minutes. */
static void format_duration(char *buf, size_t size, double minutes)
{
	long m = lround(fmax(minutes, 0.0));

	if (m % 60 == 0)
		snprintf(buf, size, "%ld h", m / 60);
	else
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

static bool is_low(int32_t score)
{
	return score >= 0 && score < LOW_SCORE_BELOW;
}

static bool checkin_any(const struct night_metrics *n)
{
	return n && (metric_present(n->mood) || metric_present(n->energy) ||
		     metric_present(n->soreness));
}

static bool checkin_full(const struct night_metrics *n)
{
	return n && metric_present(n->mood) && metric_present(n->energy) &&
	       metric_present(n->soreness);
}

static bool low_value(double v)
{
	return metric_present(v) && v <= LOW_CHECKIN_MAX;
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

static void gather_trends(struct facts *f)
{
	const struct score_result *s = f->score;
	const struct score_baseline *b;

	f->hrv = TREND_UNKNOWN;
	f->hrv_low_ms = f->hrv_high_ms = f->hrv_week_ms = METRIC_NONE;
	if (!s)
		return;
	b = &s->baseline;
	if (metric_present(b->ln_rmssd_mean) &&
	    metric_present(b->ln_rmssd_sd)) {
		double half = HRV_NORMAL_HALF_WIDTH * b->ln_rmssd_sd;
		double low = b->ln_rmssd_mean - half;
		double high = b->ln_rmssd_mean + half;

		f->hrv_low_ms = exp(low);
		f->hrv_high_ms = exp(high);
		if (metric_present(b->ln_rmssd_7d)) {
			f->hrv_week_ms = exp(b->ln_rmssd_7d);
			f->hrv = b->ln_rmssd_7d < low	 ? TREND_BELOW
				 : b->ln_rmssd_7d > high ? TREND_ABOVE
							 : TREND_WITHIN;
		}
	}
	f->hrv_below = f->hrv == TREND_BELOW;
	f->rhr_high =
	    metric_present(b->rhr_7d) && metric_present(b->rhr_mean) &&
	    metric_present(b->rhr_sd) && b->rhr_7d > b->rhr_mean + b->rhr_sd;
	/* Someone without HRV (an optical band) is read by resting HR. */
	f->trend_normal = f->hrv == TREND_WITHIN || f->hrv == TREND_ABOVE ||
			  (f->hrv == TREND_UNKNOWN && !f->rhr_high);

	f->load_up = (metric_present(s->load_trend.acute) &&
		      metric_present(s->load_trend.chronic) &&
		      s->load_trend.chronic > 0.0 &&
		      s->load_trend.acute >
			  LOAD_UP_MEAN_FACTOR * s->load_trend.chronic) ||
		     (metric_present(s->load_trend.acwr) &&
		      s->load_trend.acwr > LOAD_UP_ACWR);
	f->monotony_high = metric_present(s->load_trend.monotony) &&
			   s->load_trend.monotony > STALE_MONOTONY;
}

/* Whether the week up to yesterday was normal against today's range: a
 * single bad night drags the 7-day mean it is part of, and must not make
 * itself a trend (one-off dip). Today's trend when yesterday is unknown. */
static bool trend_was_normal(const struct facts *f)
{
	const struct advice_day *y = history_day(f->in, f->day - 1);
	const struct score_baseline *b = &f->score->baseline;
	double ln7, rhr7;
	bool rhr_high;

	if (!y)
		return f->trend_normal;
	ln7 = y->score.baseline.ln_rmssd_7d;
	rhr7 = y->score.baseline.rhr_7d;
	rhr_high = metric_present(rhr7) && metric_present(b->rhr_mean) &&
		   metric_present(b->rhr_sd) && rhr7 > b->rhr_mean + b->rhr_sd;
	if (!metric_present(ln7) || !metric_present(f->hrv_low_ms))
		return !rhr_high;
	return exp(ln7) >= f->hrv_low_ms;
}

static void gather_checkins(struct facts *f)
{
	const struct night_metrics *today = f->night;

	for (int age = 0; age < CHECKIN_LOOKBACK && f->checkins < CHECKINS;
	     age++) {
		const struct night_metrics *nm = night_at(f, age);

		if (!checkin_any(nm))
			continue;
		f->checkins++;
		f->low_mood += low_value(nm->mood);
		f->low_energy += low_value(nm->energy);
	}
	/* Today's check-in among them, and low: a brighter morning is the
	 * first sign of recovery and should be allowed to show. */
	f->today_mood_low = today && low_value(today->mood);
	f->mood_low = f->today_mood_low && f->low_mood >= CHECKIN_MIN_LOW;
	f->flat_motivation = today && low_value(today->energy) &&
			     f->low_energy >= CHECKIN_MIN_LOW &&
			     f->trend_normal;

	f->flat_checkin = checkin_full(today);
	for (int age = 1; f->flat_checkin && age < WEEK_DAYS; age++) {
		const struct night_metrics *nm = night_at(f, age);

		f->flat_checkin = checkin_full(nm) && nm->mood == today->mood &&
				  nm->energy == today->energy &&
				  nm->soreness == today->soreness;
	}
}

static void gather_sleep(struct facts *f)
{
	double slept = 0.0;
	int nights = 0;

	/* A short night is a debt; a long one does not pay back another. */
	for (int age = 0; age < WEEK_DAYS; age++) {
		const struct night_metrics *nm = night_at(f, age);

		if (!nm || !metric_present(nm->sleep_min))
			continue;
		f->sleep_debt_min += fmax(0.0, f->need_min - nm->sleep_min);
		slept += nm->sleep_min;
		nights++;
	}
	f->usual_sleep_min = nights ? slept / nights : METRIC_NONE;
	f->sleep_debt = f->sleep_debt_min > SLEEP_DEBT_MAX_MIN;
}

static void gather_history(struct facts *f)
{
	const struct advice_input *in = f->in;

	/* Calendar days, not entries: a missing day is not a low day. */
	for (int age = SLUMP_DAYS - 1; age >= 0; age--) {
		int32_t sc = score_at(f, age);

		if (is_low(sc)) {
			f->low_scores[f->low_days++] = sc;
			f->recent_low += age < RECENT_DAYS;
		}
	}
	f->yesterday_score = score_at(f, 1);

	for (int age = 1; age <= COMEBACK_WITHIN; age++) {
		const struct advice_day *d = history_day(in, f->day - age);

		if (d && (d->state == ADVICE_RUNNING_ON_EMPTY ||
			  d->state == ADVICE_OVERREACHING)) {
			f->slump = d->state;
			f->slump_age = age;
			break;
		}
	}
	for (int age = 1; age <= COMEBACK_WITHIN; age++) {
		const struct advice_day *d = history_day(in, f->day - age);

		if (!d || d->state != ADVICE_COMEBACK)
			break;
		f->comeback_mornings++;
	}
	/* One comeback per slump: once it has run its course, good days are
	 * just good days again. */
	for (int age = 1; age < f->slump_age; age++) {
		const struct advice_day *d = history_day(in, f->day - age);

		if (d && d->state == ADVICE_COMEBACK) {
			f->comeback_done = f->comeback_mornings == 0;
			break;
		}
	}
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
	/* A morning spot check is data without a night (DESIGN §4). */
	f->no_window = !today || (today->window_start_ms == 0 &&
				  today->hrv_source != HRV_SOURCE_SPOT);
	/* A first spot check is a measurement before it can be a component
	 * (no baseline yet): calibrating, not "no data". */
	f->no_component = !s || (!any_component(s) &&
				 !(today && metric_present(today->ln_rmssd)));

	gather_trends(f);
	if (s)
		f->trend_was_normal = trend_was_normal(f);
	gather_history(f);
	gather_checkins(f);
	gather_sleep(f);
	weigh_week(f);

	f->warning_signals = f->hrv_below + f->rhr_high +
			     (f->recent_low >= RECENT_MIN_LOW) + f->sleep_debt +
			     f->today_mood_low;
}

static bool body_down(const struct facts *f)
{
	return f->hrv_below || f->rhr_high;
}

static enum advice_state choose(struct facts *f)
{
	int32_t today = f->today_score;

	if (f->no_window || !f->score || f->no_component)
		return ADVICE_NO_DATA;
	if (f->score->calibrating)
		return ADVICE_CALIBRATING;
	if (f->zone == SCORE_ZONE_NONE)
		/* A sleep window, but nothing in it that can be scored. */
		return ADVICE_NO_DATA;

	f->by_scores = f->low_days >= SLUMP_MIN_DAYS && today < GREEN_FROM &&
		       body_down(f) && !f->load_up;
	f->by_mood = f->mood_low && (body_down(f) || f->sleep_debt);
	if (f->by_scores || f->by_mood)
		return ADVICE_RUNNING_ON_EMPTY;
	if ((f->low_days >= SLUMP_MIN_DAYS || f->zone == SCORE_ZONE_RED) &&
	    body_down(f) && f->load_up)
		return ADVICE_OVERREACHING;
	if (f->zone == SCORE_ZONE_RED && f->trend_was_normal &&
	    f->low_days == 1)
		return ADVICE_ONE_OFF_DIP;
	/* Ahead of the lagging 7-day trends: good mornings are news before
	 * the week's mean can show them. */
	if (f->slump_age > 0 && !f->comeback_done && today >= LOW_SCORE_BELOW &&
	    f->yesterday_score >= LOW_SCORE_BELOW &&
	    (f->comeback_mornings < COMEBACK_MORNINGS || body_down(f)))
		return ADVICE_COMEBACK;
	if (today >= WARNING_FROM && f->warning_signals >= WARNING_SIGNALS)
		return ADVICE_EARLY_WARNING;
	if (f->zone == SCORE_ZONE_RED ||
	    (f->zone == SCORE_ZONE_YELLOW &&
	     (f->hrv_below || is_low(f->yesterday_score))))
		return ADVICE_STRAINED;
	if (today >= LOW_SCORE_BELOW && f->trend_normal &&
	    (f->monotony_high || f->flat_checkin || f->flat_motivation))
		return ADVICE_STALE;
	if (f->zone == SCORE_ZONE_YELLOW || f->hrv_below)
		return ADVICE_STEADY;
	return ADVICE_PRIMED;
}

/* --- reasons: the signals, in plain words with numbers ------------------ */

/*
 * "<what> 54 bpm, above your usual 51-54 bpm" reads as a contradiction:
 * when whole numbers would make the value look inside its range while it
 * is outside (or the reverse), all three get a decimal.
 */
static void reason_range(struct advice *a, const char *what, double value,
			 const char *where, double low, double high,
			 const char *unit)
{
	double v = round(value), l = round(low), h = round(high);
	bool inside = v >= l && v <= h;
	int d = inside != (strcmp(where, "within") == 0);

	reason(a, "%s %.*f %s, %s your usual %.*f" EN_DASH "%.*f %s", what, d,
	       value, unit, where, d, low, d, high, unit);
}

/* Whether today's HRV is read against the spot checks' own range. */
static bool spot_based(const struct facts *f)
{
	return f->score && f->score->baseline.hrv_source == HRV_SOURCE_SPOT;
}

static void reason_hrv_trend(const struct facts *f, struct advice *a)
{
	const char *where = "within";

	switch (f->hrv) {
	case TREND_BELOW:
		where = "below";
		break;
	case TREND_ABOVE:
		where = "above";
		break;
	case TREND_WITHIN:
		break;
	case TREND_UNKNOWN:
		if (metric_present(f->hrv_low_ms))
			reason(a,
			       "HRV 7-day average not known yet (%d of the %d "
			       "%s it needs this week)",
			       (int)f->score->baseline.week_nights,
			       WEEK_MIN_NIGHTS,
			       spot_based(f) ? "spot checks" : "nights");
		return;
	default:
		return;
	}
	reason_range(a,
		     spot_based(f) ? "spot-check HRV 7-day average RMSSD"
				   : "HRV 7-day average RMSSD",
		     f->hrv_week_ms, where, f->hrv_low_ms, f->hrv_high_ms,
		     "ms");
}

static void reason_rhr_trend(const struct facts *f, struct advice *a)
{
	const struct score_baseline *b = &f->score->baseline;

	if (!metric_present(b->rhr_7d) || !metric_present(b->rhr_mean) ||
	    !metric_present(b->rhr_sd))
		return;
	reason_range(a, "resting HR 7-day average", b->rhr_7d,
		     f->rhr_high ? "above" : "within", b->rhr_mean - b->rhr_sd,
		     b->rhr_mean + b->rhr_sd, "bpm");
}

static void reason_low_days(const struct facts *f, struct advice *a)
{
	char list[64] = "";

	for (int i = 0; i < f->low_days; i++)
		append_text(list, sizeof(list), "%s%d", i ? ", " : "",
			    (int)f->low_scores[i]);
	if (f->low_days > 0)
		reason(a, "%d of the last %d days scored under %d (%s)",
		       f->low_days, SLUMP_DAYS, LOW_SCORE_BELOW, list);
	else
		reason(a, "none of the last %d days scored under %d",
		       SLUMP_DAYS, LOW_SCORE_BELOW);
}

static void reason_load(const struct facts *f, struct advice *a)
{
	const struct load_trend *t = &f->score->load_trend;

	if (!metric_present(t->acute) || !metric_present(t->chronic))
		return;
	if (f->load_up)
		reason(a,
		       "training load up: %.0f a day this week against %.0f "
		       "over 4 weeks",
		       t->acute, t->chronic);
	else
		reason(a,
		       "training load not up (%.0f a day this week, %.0f over "
		       "4 weeks): this is not overreaching",
		       t->acute, t->chronic);
}

static void reason_checkins(const struct facts *f, struct advice *a, bool mood,
			    bool energy)
{
	if (mood)
		reason(a, "mood 2 or lower on %d of your last %d check-ins",
		       f->low_mood, f->checkins);
	if (energy)
		reason(a, "energy 2 or lower on %d of your last %d check-ins",
		       f->low_energy, f->checkins);
}

static void reason_sleep_debt(const struct facts *f, struct advice *a)
{
	char debt[32];

	format_duration(debt, sizeof(debt), f->sleep_debt_min);
	reason(a, "sleep debt %s over %d days", debt, WEEK_DAYS);
}

/* Last night's component that pulled today down most (@low) or lifted it
 * most, in words; false when there is none. */
static bool reason_component(const struct facts *f, struct advice *a, bool low)
{
	const struct score_result *s = f->score;
	const struct score_baseline *b = &s->baseline;
	const struct score_component *parts[] = { &s->hrv, &s->rhr, &s->sleep,
						  &s->checkin };
	const struct score_component *w = NULL;
	char slept[32], need[32];

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const struct score_component *c = parts[i];

		if (!c->present || !metric_present(c->z))
			continue;
		if (low ? c->z < 0.0 && (!w || c->z < w->z)
			: c->z > 0.0 && (!w || c->z > w->z))
			w = c;
	}
	if (!w)
		return false;

	if (w == &s->hrv && metric_present(f->hrv_low_ms)) {
		reason(a, "%s %.0f ms, usual %.0f" EN_DASH "%.0f ms",
		       spot_based(f) ? "this morning's spot-check RMSSD"
				     : "last night's RMSSD",
		       exp(s->hrv.value), f->hrv_low_ms, f->hrv_high_ms);
	} else if (w == &s->rhr) {
		reason(a,
		       "last night's resting HR %.0f bpm, usual %.0f" EN_DASH
		       "%.0f bpm",
		       s->rhr.value, b->rhr_mean - b->rhr_sd,
		       b->rhr_mean + b->rhr_sd);
	} else if (w == &s->sleep) {
		format_duration(slept, sizeof(slept), s->sleep.value);
		format_duration(need, sizeof(need), f->need_min);
		reason(a, "slept %s of the %s you need, efficiency %.0f %%",
		       slept, need,
		       f->night ? f->night->sleep_efficiency_pct : NAN);
	} else if (w == &s->checkin && f->night) {
		reason(a, "today's check-in: mood %g, energy %g, soreness %g",
		       f->night->mood, f->night->energy, f->night->soreness);
	} else {
		return false;
	}
	return true;
}

/* --- the states' texts ---------------------------------------------------- */

struct phrasing {
	const char *headline[ADVICE_PHRASINGS];
	const char *detail[ADVICE_PHRASINGS];
};

static const char *const self_check =
    " Ask yourself: has your mood been off for days? Is your body stiff "
    "whatever the stretching? Are easy runs slower than they should be?";

static const struct phrasing phrasings[ADVICE_STATE_COUNT] = {
	[ADVICE_NO_DATA] = { { "No score today", "Nothing from last night",
			       "A night without numbers" },
			     { "Not enough came through from last night to "
			       "work out a score. "
			       "That happens; go by how you feel today.",
			       "The strap or the bed sensor stayed quiet last "
			       "night, so there "
			       "is nothing to read. Listen to your body today.",
			       "No readings, no verdict: today is yours to "
			       "judge, and tonight's "
			       "data picks up the thread again." } },
	[ADVICE_CALIBRATING] = { { "Getting to know you",
				   "Learning your normal",
				   "Your baseline is forming" },
				 { "Your score learns what normal looks like "
				   "for you first. Until "
				   "then, train the way you feel.",
				   "A week of nights teaches the score your "
				   "own normal; nobody "
				   "else's numbers count here. Train by feel "
				   "meanwhile.",
				   "Every night you wear the strap sharpens "
				   "your baseline. For now, "
				   "let how you feel lead." } },
	[ADVICE_RUNNING_ON_EMPTY] = { { "Running on empty: time to refill",
					"Your tank is low: rest without guilt",
					"A slump, and that is allowed" },
				      { "Your body has been asking for a break "
					"for days. Slumps are "
					"common and you're not alone; this is "
					"a cycle, not a failure.",
					"This looks like burnout, not "
					"laziness, "
					"and it is not a failure. Every "
					"runner has these weeks: rest, shrink "
					"the goal, forget the race for a bit.",
					"Low days in a row, and your body "
					"agrees. It is a phase, not a "
					"failure: rest is what turns it "
					"around, and it will." } },
	[ADVICE_OVERREACHING] = { { "Overreaching: back off the plan",
				    "The load caught up with you",
				    "Too much, too soon: ease off" },
				  { "Your body is down because the training "
				    "load went up. This is "
				    "load, not burnout: a few easy days and it "
				    "turns into fitness.",
				    "The extra training shows in your recovery "
				    "numbers. This is load, not burnout: the "
				    "plan asked a little too much.",
				    "Recent weeks were harder than your body "
				    "is used to: load, not burnout. Back off "
				    "now and you keep the gains; push on and "
				    "you lose them." } },
	[ADVICE_ONE_OFF_DIP] = { { "A low night, not a low week",
				   "One off night", "A dip, not a trend" },
				 { "Today is in the red, but your week is in "
				   "range. One low day "
				   "does not define the week.",
				   "Everyone has a rough night now and then. "
				   "Your 7-day numbers are "
				   "fine, so rest today and expect a better "
				   "tomorrow.",
				   "A single low morning on a normal week: "
				   "take it easy and don't "
				   "read too much into it." } },
	[ADVICE_COMEBACK] = { { "You're bouncing back", "The comeback is on",
				"Back on your feet" },
			      { "Good mornings again after a rough patch: the "
				"fitness is still "
				"there. Start small and let it build; the "
				"7-day numbers will "
				"catch up.",
				"The slump is behind you. Ease back in, and "
				"take a moment to "
				"notice what helped: more sleep, fewer hard "
				"days, company.",
				"This is the comeback. Slumps come and go in "
				"cycles; what counts "
				"is building back gradually, not all at "
				"once." } },
	[ADVICE_EARLY_WARNING] = { { "Early warning: go easy to moderate",
				     "A few signs worth watching",
				     "Ease off before it becomes a slump" },
				   { "Two of your signals are off at once. "
				     "Nothing dramatic yet; "
				     "catching it early is how a slump is "
				     "avoided.",
				     "Your body is sending early signs of "
				     "strain. A lighter day now "
				     "costs little and can save you weeks.",
				     "Something is building up. Recognising it "
				     "early is the whole "
				     "trick: ease off today and look again "
				     "tomorrow." } },
	[ADVICE_STRAINED] = { { "Take it easy today", "Easy movement only",
				"A gentle day" },
			      { "Your body is still absorbing recent effort. "
				"Easy movement keeps "
				"the thread without digging deeper.",
				"Not a day for pushing. A walk still counts: "
				"keep the habit "
				"alive, don't vanish.",
				"Recovery is training too. Move a little, "
				"gently, and let the "
				"body catch up." } },
	[ADVICE_STALE] = { { "Time for something new", "Same old? Change it up",
			     "Freshen up the routine" },
			   { "Your body is recovering fine; it is the routine "
			     "that has gone "
			     "flat. Not feeling it is normal: a new stimulus "
			     "brings the fun "
			     "back.",
			     "Recovery looks good, motivation less so. That is "
			     "discipline "
			     "fatigue, not burnout: push through gently, and "
			     "showing up "
			     "counts.",
			     "The numbers say you're fine, the days say they "
			     "all look alike. "
			     "Change something today; keeping the habit "
			     "matters more than "
			     "the pace." } },
	[ADVICE_STEADY] = { { "Steady: train as planned", "A normal day",
			      "Business as usual, a notch easier" },
			    { "Nothing alarming, nothing sparkling. Train as "
			      "planned but keep "
			      "it aerobic.",
			      "An ordinary morning. Do the planned session at "
			      "a comfortable "
			      "effort; consistency beats heroics.",
			      "You're in your normal range, if not at your "
			      "best. Keep to the "
			      "plan and let the hard bits go if they feel "
			      "flat." } },
	[ADVICE_PRIMED] = { { "Ready to go", "Green light",
			      "Primed for a good session" },
			    { "You have recovered well. Train as planned; a "
			      "quality session is "
			      "welcome today.",
			      "Your body is ready for work. If something hard "
			      "is on the plan, "
			      "today is the day for it.",
			      "Good night, good trend. Make the most of it, "
			      "and enjoy the "
			      "session." } },
};

/* Consecutive days always get a different detail; headlines change more
 * slowly, but never all in step with the detail. */
static void choose_phrasing(const struct facts *f, struct advice *a)
{
	uint32_t day = (uint32_t)f->day;
	const struct phrasing *p = &phrasings[a->state];

	a->detail_index = (uint8_t)(day % ADVICE_PHRASINGS);
	a->headline_index =
	    (uint8_t)((day / ADVICE_PHRASINGS + day) % ADVICE_PHRASINGS);
	set_text(a->headline, sizeof(a->headline), "%s",
		 p->headline[a->headline_index]);
	set_text(a->detail, sizeof(a->detail), "%s",
		 p->detail[a->detail_index]);
}

/* " <lead> <goal>." or " <lead>.", @lead saying what the goal is to them. */
static void append_goal(const struct facts *f, struct advice *a,
			const char *lead, const char *without)
{
	const char *goal = f->in->goal;

	if (goal && goal[0])
		append_text(a->detail, sizeof(a->detail), " %s: %s.", lead,
			    goal);
	else
		append_text(a->detail, sizeof(a->detail), " %s.", without);
}

/* A spot check this morning that gave no value: what went wrong. */
static bool spot_failed(const struct facts *f)
{
	return f->night &&
	       (f->night->spot_status == SPOT_TOO_NOISY ||
		f->night->spot_status == SPOT_TOO_SHORT) &&
	       f->night->hrv_source == HRV_SOURCE_NONE;
}

static void write_no_data(const struct facts *f, struct builder *b)
{
	if (spot_failed(f))
		action(b, TOPIC_DEVICE,
		       "Lie still with the strap on for 3 minutes and do the "
		       "spot check again.");
	else
		action(b, TOPIC_DEVICE,
		       "Charge the strap and put it on at bedtime tonight, or "
		       "do a 3-minute morning spot check lying still.");
	if (spot_failed(f))
		/* spot_day_reasons() says what went wrong with it */
		return;
	if (f->no_window)
		reason(b->a, "no sleep window and no readings for last night");
	else
		reason(b->a, "a sleep window, but no HRV, resting HR or sleep "
			     "to score");
}

static const char *const spot_calibrating_detail[ADVICE_PHRASINGS] = {
	"Your score learns what your morning spot check looks like first. "
	"Until then, train the way you feel.",
	"A week of spot checks teaches the score your own normal; nobody "
	"else's numbers count here. Train by feel meanwhile.",
	"Every spot check sharpens your baseline: same time, same posture, "
	"right after waking. For now, let how you feel lead.",
};

static void write_calibrating(const struct facts *f, struct builder *b)
{
	enum hrv_source source = f->score->baseline.hrv_source;
	int count = (int)f->score->calibration_count;
	int left = SCORE_CALIBRATION_NIGHTS - count;
	bool spot = source == HRV_SOURCE_SPOT;

	if (left < 1)
		left = 1;
	if (spot)
		/* The state's phrasings speak of nights; a spot-check person
		 * sleeps without the strap. */
		set_text(b->a->detail, sizeof(b->a->detail), "%s",
			 spot_calibrating_detail[b->a->detail_index]);
	append_text(b->a->headline, sizeof(b->a->headline), ": %d of %d %s",
		    count, SCORE_CALIBRATION_NIGHTS,
		    spot ? "spot checks" : "nights");
	if (spot)
		action(b, TOPIC_DEVICE,
		       "Spot check again tomorrow right after waking, lying "
		       "still: a first score in %d %s.",
		       left, left == 1 ? "morning" : "mornings");
	else
		action(b, TOPIC_DEVICE,
		       "Wear the strap tonight: your first score comes in %d "
		       "%s.",
		       left, left == 1 ? "night" : "nights");
	switch (source) {
	case HRV_SOURCE_SPOT:
		reason(b->a, "%d of %d morning spot checks with HRV so far",
		       count, SCORE_CALIBRATION_NIGHTS);
		break;
	case HRV_SOURCE_NONE:
		reason(b->a, "%d of %d nights with a resting HR so far", count,
		       SCORE_CALIBRATION_NIGHTS);
		break;
	case HRV_SOURCE_NIGHT:
	default:
		reason(b->a, "%d of %d nights with HRV so far", count,
		       SCORE_CALIBRATION_NIGHTS);
		break;
	}
}

/* Whether a reason of @a holds @text. */
static bool said(const struct advice *a, const char *text)
{
	for (size_t i = 0; i < a->reason_count; i++)
		if (strstr(a->reasons[i], text))
			return true;
	return false;
}

/*
 * Where today's HRV came from, when that is news: a spot check that gave
 * no value (DESIGN §4's "too noisy, lie still and try again"), the spot
 * check standing in for the night, or no HRV at all in the score (DESIGN
 * §5: a band that sends no RR).
 */
static void spot_day_reasons(const struct facts *f, struct advice *a)
{
	const struct night_metrics *n = f->night;

	if (!n || !f->score)
		return;
	if (spot_failed(f))
		reason(a, "%s", spot_status_reason(n->spot_status));
	/* Unless the state's reasons named the spot value already. */
	if (n->hrv_source == HRV_SOURCE_SPOT &&
	    !said(a, "this morning's spot-check RMSSD"))
		reason(a,
		       "HRV from this morning's spot check: RMSSD %.0f ms, "
		       "read against your spot checks, not your nights",
		       n->rmssd_ms);
	if (f->score->baseline.hrv_source != HRV_SOURCE_NONE ||
	    a->state == ADVICE_NO_DATA)
		return;
	if (f->score->calibrating) {
		/* A strap's first night without HRV is no news yet. */
		if (n->beats == 0 && metric_present(n->resting_hr_bpm))
			reason(a, "no HRV: your heart-rate band sends no RR "
				  "intervals, so your score will come from "
				  "resting HR, sleep and check-ins");
	} else if (n->beats == 0 && metric_present(n->resting_hr_bpm)) {
		reason(a, "no HRV in this score: your heart-rate band sends "
			  "no RR intervals, so it comes from resting HR, "
			  "sleep and check-ins");
	} else {
		reason(a, "no HRV in this score: it comes from resting HR, "
			  "sleep and check-ins");
	}
}

static void write_running_on_empty(const struct facts *f, struct builder *b)
{
	append_goal(f, b->a, "Remember why you started",
		    "Remember why you started; it was never about a race");
	append_text(b->a->detail, sizeof(b->a->detail), "%s", self_check);

	action(b, TOPIC_TRAIN,
	       "Take guilt-free rest days: today off, tomorrow easy at most.");
	if (f->by_scores) {
		reason_low_days(f, b->a);
		if (f->hrv_below)
			reason_hrv_trend(f, b->a);
		if (f->rhr_high)
			reason_rhr_trend(f, b->a);
		reason_load(f, b->a);
	}
	if (f->by_mood) {
		reason_checkins(f, b->a, true, false);
		if (!f->by_scores && f->hrv_below)
			reason_hrv_trend(f, b->a);
		if (!f->by_scores && f->rhr_high)
			reason_rhr_trend(f, b->a);
		if (f->sleep_debt)
			reason_sleep_debt(f, b->a);
	}
}

static void actions_running_on_empty(struct builder *b)
{
	action(b, TOPIC_SLEEP | TOPIC_WATER,
	       "Sleep an extra hour tonight and keep water by the bed.");
	action(b, TOPIC_TALK,
	       "Talk about it with your partner, coach or club: slumps are "
	       "common, you're not alone.");
}

static void write_overreaching(const struct facts *f, struct builder *b)
{
	action(b, TOPIC_TRAIN,
	       "Back off the plan: two or three easy days, no intervals, then "
	       "look again.");
	if (f->low_days >= SLUMP_MIN_DAYS)
		reason_low_days(f, b->a);
	else
		reason_component(f, b->a, true);
	if (f->hrv_below)
		reason_hrv_trend(f, b->a);
	if (f->rhr_high)
		reason_rhr_trend(f, b->a);
	reason_load(f, b->a);
}

static void actions_overreaching(struct builder *b)
{
	action(b, TOPIC_SLEEP,
	       "Protect your sleep: it is where the extra load turns into "
	       "fitness.");
	action(b, TOPIC_REFLECT,
	       "Keep the easy days truly easy: conversational pace, no watch.");
}

/* The week up to yesterday, which a one-off dip is read against. */
static void reason_week_before(const struct facts *f, struct advice *a)
{
	const struct advice_day *y = history_day(f->in, f->day - 1);
	double ln7 = y ? y->score.baseline.ln_rmssd_7d : METRIC_NONE;

	if (!y) {
		if (f->hrv != TREND_UNKNOWN)
			reason_hrv_trend(f, a);
		else
			reason_rhr_trend(f, a);
		return;
	}
	if (metric_present(ln7) && metric_present(f->hrv_low_ms))
		reason_range(a, "HRV 7-day average up to yesterday RMSSD",
			     exp(ln7),
			     exp(ln7) > f->hrv_high_ms ? "above" : "within",
			     f->hrv_low_ms, f->hrv_high_ms, "ms");
	else
		reason(a, "resting HR 7-day average up to yesterday within "
			  "your usual range");
}

static void write_one_off_dip(const struct facts *f, struct builder *b)
{
	action(b, TOPIC_TRAIN,
	       "Rest, or keep it very easy: a walk still counts.");
	reason_component(f, b->a, true);
	reason(b->a, "none of the other %d days scored under %d",
	       SLUMP_DAYS - 1, LOW_SCORE_BELOW);
	reason_week_before(f, b->a);
}

static void actions_one_off_dip(struct builder *b)
{
	action(b, TOPIC_SLEEP,
	       "Wind down a little earlier tonight and see how tomorrow "
	       "looks.");
}

static const char *state_words(enum advice_state state)
{
	return state == ADVICE_OVERREACHING ? "overreaching"
					    : "running on empty";
}

static void write_comeback(const struct facts *f, struct builder *b)
{
	append_goal(f, b->a, "Hold on to your own reason",
		    "Hold on to your own reason for doing this");
	action(b, TOPIC_TRAIN,
	       "Start small: three 30-minute sessions this week, a new trail "
	       "if you like.");
	reason(b->a,
	       "comeback morning %d: yesterday %d and today %d, both 50 or "
	       "more, after %s %d %s ago",
	       f->comeback_mornings + 1, (int)f->yesterday_score,
	       (int)f->today_score, state_words(f->slump), f->slump_age,
	       f->slump_age == 1 ? "day" : "days");
	if (f->hrv_below) {
		reason_hrv_trend(f, b->a);
		reason(b->a, "the 7-day averages lag behind good mornings");
	}
	if (f->rhr_high)
		reason_rhr_trend(f, b->a);
}

static void actions_comeback(struct builder *b)
{
	action(b, TOPIC_REFLECT,
	       "Build gradually, a little more each week, and note what got "
	       "you out of the slump.");
}

static void write_early_warning(const struct facts *f, struct builder *b)
{
	append_text(b->a->detail, sizeof(b->a->detail), "%s", self_check);
	action(b, TOPIC_TRAIN,
	       "Train easy to moderate today and skip the hard session.");
	if (f->hrv_below)
		reason_hrv_trend(f, b->a);
	if (f->rhr_high)
		reason_rhr_trend(f, b->a);
	if (f->recent_low >= RECENT_MIN_LOW)
		reason(b->a, "%d of the last %d days scored under %d",
		       f->recent_low, RECENT_DAYS, LOW_SCORE_BELOW);
	if (f->sleep_debt)
		reason_sleep_debt(f, b->a);
	if (f->today_mood_low)
		reason(b->a, "today's mood %g of 5", f->night->mood);
}

static void actions_early_warning(struct builder *b)
{
	action(b, TOPIC_CHECKIN,
	       "Check in tonight: how did the day feel, and how is your "
	       "mood?");
	action(b, TOPIC_SLEEP,
	       "Protect your sleep tonight: screens off and lights down "
	       "early.");
}

static void write_strained(const struct facts *f, struct builder *b)
{
	action(b, TOPIC_TRAIN,
	       "Easy movement only: a walk, some stretching, or an easy jog "
	       "without the watch.");
	if (f->zone == SCORE_ZONE_RED) {
		reason_low_days(f, b->a);
	} else if (f->hrv_below) {
		reason_hrv_trend(f, b->a);
	} else {
		reason(b->a,
		       "yesterday scored %d, under %d, and today is not "
		       "back to green",
		       (int)f->yesterday_score, LOW_SCORE_BELOW);
	}
	reason_component(f, b->a, true);
}

static void actions_strained(struct builder *b)
{
	action(b, TOPIC_REFLECT,
	       "Keep the thread: ten easy minutes still count as showing up.");
}

static void write_stale(const struct facts *f, struct builder *b)
{
	static const char *const stimulus[ADVICE_PHRASINGS] = {
		"Change the stimulus: a new route or trail, or some hills.",
		"Change the stimulus: go shorter and faster, or longer and "
		"slower, than usual.",
		"Change the stimulus: a day with no watch, where movement is "
		"the only metric.",
	};

	action(b, TOPIC_TRAIN, "%s",
	       stimulus[(uint32_t)f->day % ADVICE_PHRASINGS]);
	if (f->monotony_high)
		reason(b->a, "training monotony %.1f this week (over %.1f)",
		       f->score->load_trend.monotony, STALE_MONOTONY);
	if (f->flat_checkin)
		reason(b->a,
		       "the same check-in %d days running (mood %g, energy "
		       "%g, soreness %g)",
		       WEEK_DAYS, f->night->mood, f->night->energy,
		       f->night->soreness);
	if (f->flat_motivation)
		reason_checkins(f, b->a, false, true);
	if (f->hrv != TREND_UNKNOWN)
		reason_hrv_trend(f, b->a);
	else
		reason_rhr_trend(f, b->a);
}

static void actions_stale(struct builder *b)
{
	action(b, TOPIC_REFLECT,
	       "Or cross-train: 45 minutes on the bike, an easy swim, or "
	       "strength work with bands.");
}

static void write_steady(const struct facts *f, struct builder *b)
{
	action(b, TOPIC_TRAIN,
	       "Train as planned but keep it aerobic; drop the hardest "
	       "interval if it feels flat.");
	if (f->hrv_below) {
		reason_hrv_trend(f, b->a);
		reason_component(f, b->a, false);
		return;
	}
	reason_component(f, b->a, true);
	if (f->hrv != TREND_UNKNOWN)
		reason_hrv_trend(f, b->a);
	else
		reason_rhr_trend(f, b->a);
}

static void write_primed(const struct facts *f, struct builder *b)
{
	action(b, TOPIC_TRAIN,
	       "Train as planned: a quality session is welcome today.");
	if (f->hrv != TREND_UNKNOWN)
		reason_hrv_trend(f, b->a);
	else
		reason_rhr_trend(f, b->a);
	reason_component(f, b->a, false);
}

/* --- add-ons -------------------------------------------------------------- */

static void addon_sleep_debt(const struct facts *f, struct builder *b)
{
	double short_min = f->need_min - f->usual_sleep_min;
	int earlier;

	if (!f->sleep_debt)
		return;
	/* The usual night's shortfall, in quarter hours, within reason. */
	earlier = metric_present(short_min)
		      ? (int)ceil(short_min / BED_STEP_MIN) * BED_STEP_MIN
		      : BED_STEP_MIN * 4;
	if (earlier < BED_STEP_MIN)
		earlier = BED_STEP_MIN;
	if (earlier > BED_EARLIER_MAX_MIN)
		earlier = BED_EARLIER_MAX_MIN;
	if (f->in->bedtime_known) {
		int at = ((f->in->bedtime_min - earlier) % 1440 + 1440) % 1440;

		action(b, TOPIC_SLEEP,
		       "Pay back some sleep: be in bed by %02d:%02d tonight, "
		       "%d minutes earlier than usual.",
		       at / 60, at % 60, earlier);
	} else {
		action(b, TOPIC_SLEEP,
		       "Pay back some sleep: go to bed %d minutes earlier than "
		       "usual tonight.",
		       earlier);
	}
}

static void addon_water(const struct facts *f, struct builder *b)
{
	if (!metric_present(f->weight_drop_pct) ||
	    f->weight_drop_pct < WEIGHT_DROP_PCT - WEIGHT_DROP_EPSILON)
		return;
	action(b, TOPIC_WATER,
	       "Drink more water today: a glass with each meal is an easy "
	       "start.");
}

static void addon_club(const struct facts *f, struct builder *b)
{
	if (!f->in->club_day)
		return;
	switch (b->a->state) {
	case ADVICE_PRIMED:
	case ADVICE_STEADY:
		action(b, TOPIC_CLUB, "It's club day: join the group run.");
		break;
	case ADVICE_STALE:
		action(b, TOPIC_CLUB,
		       "It's club day: join the group run and ask them for a "
		       "route you've never run.");
		break;
	case ADVICE_COMEBACK:
		action(b, TOPIC_CLUB,
		       "It's club day: join the group run at the easy end of "
		       "the pack.");
		break;
	case ADVICE_EARLY_WARNING:
		action(
		    b, TOPIC_CLUB,
		    "It's club day: run with the easiest group, or walk part "
		    "of it with them.");
		break;
	case ADVICE_RUNNING_ON_EMPTY:
	case ADVICE_OVERREACHING:
	case ADVICE_ONE_OFF_DIP:
	case ADVICE_STRAINED:
		action(b, TOPIC_CLUB,
		       "It's club day: go for the company, and walk it with "
		       "them.");
		break;
	case ADVICE_NO_DATA:
	case ADVICE_CALIBRATING:
		action(b, TOPIC_CLUB,
		       "It's club day: go by how you feel; the company "
		       "counts.");
		break;
	default:
		break;
	}
}

/* The state's own further actions, after its first and the add-ons. */
static void state_actions(struct builder *b)
{
	switch (b->a->state) {
	case ADVICE_RUNNING_ON_EMPTY:
		actions_running_on_empty(b);
		break;
	case ADVICE_OVERREACHING:
		actions_overreaching(b);
		break;
	case ADVICE_ONE_OFF_DIP:
		actions_one_off_dip(b);
		break;
	case ADVICE_COMEBACK:
		actions_comeback(b);
		break;
	case ADVICE_EARLY_WARNING:
		actions_early_warning(b);
		break;
	case ADVICE_STRAINED:
		actions_strained(b);
		break;
	case ADVICE_STALE:
		actions_stale(b);
		break;
	case ADVICE_NO_DATA:
	case ADVICE_CALIBRATING:
	case ADVICE_STEADY:
	case ADVICE_PRIMED:
	default:
		break;
	}
}

int advice_decide(const struct advice_input *in, struct advice *ret)
{
	struct facts f;
	struct builder b = { .a = ret };

	if (!in || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	gather(in, &f);
	ret->state = choose(&f);
	ret->checked_in = checkin_any(f.night);
	choose_phrasing(&f, ret);

	/* The first action is the state's own (the push text carries it);
	 * the add-ons come before the state's lesser ones. */
	switch (ret->state) {
	case ADVICE_NO_DATA:
		write_no_data(&f, &b);
		break;
	case ADVICE_CALIBRATING:
		write_calibrating(&f, &b);
		break;
	case ADVICE_RUNNING_ON_EMPTY:
		write_running_on_empty(&f, &b);
		break;
	case ADVICE_OVERREACHING:
		write_overreaching(&f, &b);
		break;
	case ADVICE_ONE_OFF_DIP:
		write_one_off_dip(&f, &b);
		break;
	case ADVICE_COMEBACK:
		write_comeback(&f, &b);
		break;
	case ADVICE_EARLY_WARNING:
		write_early_warning(&f, &b);
		break;
	case ADVICE_STRAINED:
		write_strained(&f, &b);
		break;
	case ADVICE_STALE:
		write_stale(&f, &b);
		break;
	case ADVICE_STEADY:
		write_steady(&f, &b);
		break;
	case ADVICE_PRIMED:
		write_primed(&f, &b);
		break;
	default:
		write_no_data(&f, &b);
		break;
	}
	spot_day_reasons(&f, ret);
	addon_sleep_debt(&f, &b);
	addon_water(&f, &b);
	addon_club(&f, &b);
	state_actions(&b);

	/* Every advice says why: the add-ons' own signals complete it. */
	if (f.sleep_debt && ret->state != ADVICE_RUNNING_ON_EMPTY &&
	    ret->state != ADVICE_EARLY_WARNING)
		reason_sleep_debt(&f, ret);
	if (metric_present(f.weight_drop_pct) &&
	    f.weight_drop_pct >= WEIGHT_DROP_PCT - WEIGHT_DROP_EPSILON)
		reason(ret,
		       "morning weight %.1f kg is %.1f %% under your 7-day "
		       "median %.1f kg",
		       f.weight_kg, f.weight_drop_pct, f.weight_median_kg);
	if (ret->reason_count == 0)
		reason_hrv_trend(&f, ret);
	if (ret->reason_count == 0)
		reason(ret, "nothing stands out in last night's numbers");

	advice_push_text(ret, NULL, ret->push_text, sizeof(ret->push_text));
	return 0;
}

/* --- the push text -------------------------------------------------------- */

static size_t utf8_chars(const char *s, size_t bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* Bytes of the longest prefix of @s with at most @max_chars characters. */
static size_t utf8_prefix(const char *s, size_t max_chars)
{
	size_t i = 0, n = 0;

	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == max_chars)
			break;
	}
	return i;
}

struct out {
	char *buf;
	size_t size, len, chars;
};

static void out_put(struct out *o, const char *s, size_t bytes)
{
	size_t room = o->size - 1 - o->len;

	if (bytes > room) {
		bytes = room;
		while (bytes > 0 && ((unsigned char)s[bytes] & 0xc0) == 0x80)
			bytes--;
	}
	memcpy(o->buf + o->len, s, bytes);
	o->len += bytes;
	o->buf[o->len] = '\0';
	o->chars += utf8_chars(s, bytes);
}

/* @s, or as much of it as fits in @max_chars, cut at a word and marked. */
static void out_put_cut(struct out *o, const char *s, size_t max_chars)
{
	static const char more[] = "...";
	size_t len = strlen(s), keep;

	if (utf8_chars(s, len) <= max_chars) {
		out_put(o, s, len);
		return;
	}
	if (max_chars <= sizeof(more) - 1)
		return;
	keep = utf8_prefix(s, max_chars - (sizeof(more) - 1));
	for (size_t i = keep; i > keep / 2; i--) {
		if (s[i] == ' ') {
			keep = i;
			break;
		}
	}
	while (keep > 0 && strchr(" ,;:.", s[keep - 1]))
		keep--;
	out_put(o, s, keep);
	out_put(o, more, sizeof(more) - 1);
}

static const char checkin_invite[] =
    " How do you feel? Check in: mood, energy, soreness.";

size_t advice_push_text(const struct advice *a, const char *name, char *buf,
			size_t size)
{
	struct out o = { .buf = buf, .size = size };
	size_t headline_chars, invite_chars, budget;
	const char *h;
	size_t hlen;
	bool stop;

	if (!buf || size == 0)
		return 0;
	buf[0] = '\0';
	if (!a)
		return 0;
	h = a->headline;
	hlen = strnlen(h, sizeof(a->headline) - 1);
	/* A headline is a title ("Ready to go"); in a line it needs a stop. */
	stop = hlen > 0 && !strchr(".!?:", h[hlen - 1]);
	headline_chars = utf8_chars(h, hlen) + stop;
	invite_chars = a->checked_in
			   ? 0
			   : utf8_chars(checkin_invite, strlen(checkin_invite));
	if (headline_chars + invite_chars > ADVICE_PUSH_MAX_CHARS)
		return 0;
	budget = ADVICE_PUSH_MAX_CHARS - headline_chars - invite_chars;

	if (name && name[0] && budget > 2) {
		size_t cap = budget / 2 < PUSH_NAME_MAX_CHARS
				 ? budget / 2
				 : PUSH_NAME_MAX_CHARS;

		out_put_cut(&o, name, cap);
		if (o.chars > 0)
			out_put(&o, ": ", 2);
		budget -= o.chars;
	}
	out_put(&o, h, hlen);
	if (stop)
		out_put(&o, ".", 1);
	if (a->action_count > 0 && budget > 1) {
		out_put(&o, " ", 1);
		out_put_cut(&o, a->actions[0], budget - 1);
	}
	if (!a->checked_in)
		out_put(&o, checkin_invite, strlen(checkin_invite));
	return o.chars;
}

/* --- names ---------------------------------------------------------------- */

static const char *const state_names[ADVICE_STATE_COUNT] = {
	[ADVICE_NO_DATA] = "no-data",
	[ADVICE_CALIBRATING] = "calibrating",
	[ADVICE_RUNNING_ON_EMPTY] = "running-on-empty",
	[ADVICE_OVERREACHING] = "overreaching",
	[ADVICE_ONE_OFF_DIP] = "one-off-dip",
	[ADVICE_COMEBACK] = "comeback",
	[ADVICE_EARLY_WARNING] = "early-warning",
	[ADVICE_STRAINED] = "strained",
	[ADVICE_STALE] = "stale",
	[ADVICE_STEADY] = "steady",
	[ADVICE_PRIMED] = "primed",
};

const char *advice_state_name(enum advice_state state)
{
	switch (state) {
	case ADVICE_NO_DATA:
	case ADVICE_CALIBRATING:
	case ADVICE_RUNNING_ON_EMPTY:
	case ADVICE_OVERREACHING:
	case ADVICE_ONE_OFF_DIP:
	case ADVICE_COMEBACK:
	case ADVICE_EARLY_WARNING:
	case ADVICE_STRAINED:
	case ADVICE_STALE:
	case ADVICE_STEADY:
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
	for (size_t i = 0; i < ADVICE_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			if (ret)
				*ret = (enum advice_state)i;
			return true;
		}
	}
	return false;
}

bool advice_state_easy_only(enum advice_state state)
{
	return state == ADVICE_RUNNING_ON_EMPTY ||
	       state == ADVICE_OVERREACHING || state == ADVICE_ONE_OFF_DIP ||
	       state == ADVICE_STRAINED;
}
