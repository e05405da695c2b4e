// SPDX-License-Identifier: MIT
#include "gateway/engine/spot.h"

#include <errno.h>
#include <math.h>

#include "gateway/engine/score.h"

/*
 * The method: Plews et al. 2013 (Sports Med 43:773) for ln RMSSD as the
 * daily vagal index; Esco & Flatt 2014 (J Sports Sci Med 13:535) for 60 s
 * of lnRMSSD agreeing with a 5-minute recording (ICC 0.98); Bourdillon et
 * al. 2017 (Front Neurosci 11:456) for 2 minutes after a stabilisation
 * period. DESIGN §4 fixes the numbers: 30 s settling, then at least 60 s,
 * at most 180 s analysed.
 *
 * The window is cleaned on its own beats, like a night's 5-minute window
 * (hrv_span), so a spot value and a night value are made by the same rules
 * and differ only in the physiology they measure.
 */

/*
 * Times come from outside (a strap's stamps, an import): add and compare
 * without overflow, whatever they hold.
 */
static int64_t add_ms(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN - d)
		return INT64_MIN;
	return t + d;
}

/* @b - @a for @b >= @a, saturated. */
static int64_t span_ms(int64_t a, int64_t b)
{
	uint64_t d = (uint64_t)b - (uint64_t)a;

	return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
}

static int32_t saturate_i32(int64_t v)
{
	if (v > INT32_MAX)
		return INT32_MAX;
	return v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

static bool rr_sorted(const struct rr_sample *rr, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (rr[i].t_ms < rr[i - 1].t_ms)
			return false;
	return true;
}

static struct spot_result result_none(void)
{
	return (struct spot_result){
		.status = SPOT_NONE,
		.rmssd_ms = METRIC_NONE,
		.ln_rmssd = METRIC_NONE,
		.mean_hr_bpm = METRIC_NONE,
	};
}

/* The index one past the run of beats that starts at @from. */
static size_t session_end(const struct rr_sample *rr, size_t n, size_t from)
{
	size_t i = from + 1;

	while (i < n && span_ms(rr[i - 1].t_ms, rr[i].t_ms) <= SPOT_GAP_MS)
		i++;
	return i;
}

/* Mean of the HR samples stamped in [@from_ms, @to_ms], or METRIC_NONE. */
static double mean_hr(const struct hr_sample *hr, size_t n, int64_t from_ms,
		      int64_t to_ms)
{
	double sum = 0.0;
	size_t count = 0;

	for (size_t i = 0; i < n && hr[i].t_ms <= to_ms; i++) {
		if (hr[i].t_ms < from_ms)
			continue;
		/* Written so that NAN fails too. */
		if (!(hr[i].bpm > 0.0 && isfinite(hr[i].bpm)))
			continue;
		sum += hr[i].bpm;
		count++;
	}
	return count ? sum / (double)count : METRIC_NONE;
}

/*
 * Judges the session @rr[from, to) (one run, sorted): everything in @r but
 * found and sessions.
 */
static void judge(const struct rr_sample *rr, size_t from, size_t to,
		  const struct hr_sample *hr, size_t hr_count,
		  struct spot_result *r)
{
	int64_t win_start = add_ms(rr[from].t_ms, SPOT_SETTLE_MS);
	int64_t win_last = add_ms(win_start, SPOT_WINDOW_MAX_MS);
	struct hrv_clean_stats stats = { 0 };
	struct hrv_metrics m;
	size_t a = from, b;
	int err;

	*r = result_none();
	r->start_ms = rr[from].t_ms;
	r->end_ms = rr[to - 1].t_ms;

	/* Settling: the beats of the first 30 s are dropped. */
	while (a < to && rr[a].t_ms < win_start)
		a++;
	for (b = a; b < to && rr[b].t_ms <= win_last; b++)
		;
	r->window_start_ms = win_start;
	r->window_end_ms = b > a ? rr[b - 1].t_ms : win_start;

	err = hrv_span(rr + a, b - a, &stats, &m);
	r->beats = saturate_i32((int64_t)stats.total);
	r->kept = saturate_i32((int64_t)stats.kept);

	if (span_ms(win_start, r->window_end_ms) < SPOT_WINDOW_MIN_MS) {
		r->status = SPOT_TOO_SHORT;
		return;
	}
	if ((double)stats.kept < SPOT_KEEP * (double)stats.total || err < 0) {
		r->status = SPOT_TOO_NOISY;
		return;
	}
	r->status = SPOT_OK;
	r->rmssd_ms = m.rmssd_ms;
	r->ln_rmssd = m.ln_rmssd;
	r->mean_hr_bpm = mean_hr(hr, hr_count, win_start, r->window_end_ms);
	/* An RR-only source (an imported RR file) has no HR samples. */
	if (!metric_present(r->mean_hr_bpm))
		r->mean_hr_bpm = m.mean_hr_bpm;
}

int spot_find(const struct spot_input *in, struct spot_result *ret)
{
	const struct rr_sample *rr = in->rr;
	size_t n = in->rr_count;
	struct spot_result last = result_none(), clean = result_none();
	int64_t from_ms, until_ms, first_start = 0;
	int32_t sessions = 0;

	if (!rr_sorted(rr, n)) {
		*ret = result_none();
		return -EINVAL;
	}

	if (in->night_end_ms != 0) {
		/*
		 * After the night; until 3 h past the later of waking and the
		 * usual wake time, so that a short session in the afternoon
		 * (a warm-up, a walk) is not taken for a morning measurement.
		 */
		from_ms = in->night_end_ms;
		until_ms =
		    add_ms(in->night_end_ms > in->wake_ms ? in->night_end_ms
							  : in->wake_ms,
			   SPOT_AFTER_WAKE_MS);
	} else {
		from_ms = add_ms(in->wake_ms, -SPOT_BEFORE_WAKE_MS);
		until_ms = add_ms(in->wake_ms, SPOT_AFTER_WAKE_MS);
	}

	for (size_t i = 0; i < n;) {
		size_t end = session_end(rr, n, i);
		int64_t start = rr[i].t_ms;
		struct spot_result r;

		if (start >= from_ms && start < until_ms &&
		    span_ms(start, rr[end - 1].t_ms) <= SPOT_SESSION_MAX_MS) {
			judge(rr, i, end, in->hr, in->hr_count, &r);
			if (sessions++ == 0)
				first_start = start;
			if (r.status == SPOT_OK)
				clean = r;
			last = r;
		}
		i = end;
	}

	*ret = clean.status == SPOT_OK ? clean : last;
	ret->sessions = sessions;
	ret->first_start_ms = first_start;
	ret->found = sessions > 0;
	return 0;
}

const char *spot_status_reason(enum spot_status status)
{
	switch (status) {
	case SPOT_TOO_SHORT:
		return "spot check too short: keep the strap on for at least "
		       "90 seconds (30 to settle, 60 to measure)";
	case SPOT_TOO_NOISY:
		return "spot check too noisy: lie still for 3 minutes and try "
		       "again";
	case SPOT_OK:
		return "spot check measured";
	case SPOT_NONE:
	default:
		return "no spot check this morning";
	}
}

int spot_progress(const struct rr_sample *rr, size_t n, int64_t now_ms,
		  struct spot_progress *ret)
{
	struct spot_progress p = {
		.rmssd_ms = METRIC_NONE,
		.ln_rmssd = METRIC_NONE,
		.mean_hr_bpm = METRIC_NONE,
	};
	struct spot_result r;
	int64_t start, last, until, measured_ms;
	size_t from;

	if (n == 0)
		return -ENODATA;
	if (!rr_sorted(rr, n))
		return -EINVAL;

	/* The session in progress is the last run of beats. */
	from = n - 1;
	while (from > 0 &&
	       span_ms(rr[from - 1].t_ms, rr[from].t_ms) <= SPOT_GAP_MS)
		from--;
	start = rr[from].t_ms;
	last = rr[n - 1].t_ms;

	p.stopped = now_ms > last && span_ms(last, now_ms) > SPOT_GAP_MS;
	/* A clock a little behind the stamps must not run time backwards. */
	until = p.stopped || now_ms < last ? last : now_ms;
	p.elapsed_s = saturate_i32(span_ms(start, until) / 1000);
	measured_ms = span_ms(start, until) - SPOT_SETTLE_MS;
	if (measured_ms < 0)
		measured_ms = 0;
	if (measured_ms > SPOT_WINDOW_MAX_MS)
		measured_ms = SPOT_WINDOW_MAX_MS;
	p.measured_s = (int32_t)(measured_ms / 1000);

	judge(rr, from, n, NULL, 0, &r);
	p.beats = r.beats;
	p.kept = r.kept;

	if (p.stopped || measured_ms >= SPOT_WINDOW_MAX_MS) {
		/* Final: the verdict spot_find gives this session. */
		switch (r.status) {
		case SPOT_OK:
			p.phase = SPOT_PHASE_DONE;
			p.rmssd_ms = r.rmssd_ms;
			p.ln_rmssd = r.ln_rmssd;
			p.mean_hr_bpm = r.mean_hr_bpm;
			break;
		case SPOT_TOO_NOISY:
			p.phase = SPOT_PHASE_TOO_NOISY;
			break;
		case SPOT_TOO_SHORT:
		case SPOT_NONE:
		default:
			p.phase = SPOT_PHASE_TOO_SHORT;
			break;
		}
	} else if (span_ms(start, until) < SPOT_SETTLE_MS) {
		p.phase = SPOT_PHASE_SETTLING;
	} else if (measured_ms >= SPOT_NOISE_JUDGE_MS &&
		   (double)r.kept < SPOT_KEEP * (double)r.beats) {
		p.phase = SPOT_PHASE_TOO_NOISY;
	} else {
		p.phase = SPOT_PHASE_MEASURING;
	}
	*ret = p;
	return 0;
}

const char *spot_phase_name(enum spot_phase phase)
{
	switch (phase) {
	case SPOT_PHASE_SETTLING:
		return "settling";
	case SPOT_PHASE_MEASURING:
		return "measuring";
	case SPOT_PHASE_DONE:
		return "done";
	case SPOT_PHASE_TOO_NOISY:
		return "too-noisy";
	case SPOT_PHASE_TOO_SHORT:
		return "too-short";
	default:
		return "?";
	}
}

void spot_live_beat(struct spot_live *s, int64_t t_ms, double rr_ms,
		    int64_t arrival_ms)
{
	if (s->n > 0) {
		int64_t last = s->rr[s->n - 1].t_ms;

		if (t_ms < last || span_ms(last, t_ms) > SPOT_GAP_MS) {
			s->prev_end_ms = last;
			s->prev_long =
			    s->too_long ||
			    span_ms(s->rr[0].t_ms, last) > SPOT_SESSION_MAX_MS;
			s->n = 0;
			s->too_long = false;
		}
	}
	s->last_arrival_ms = arrival_ms;
	if (s->n == SPOT_LIVE_MAX_BEATS) {
		/* Over 10 minutes of beats: training or a night, and the
		 * newest beats would need room the session must not take. */
		s->too_long = true;
		return;
	}
	s->rr[s->n++] = (struct rr_sample){ t_ms, rr_ms };
}

bool spot_live_progress(const struct spot_live *s, int64_t now_ms,
			int64_t from_ms, int64_t until_ms,
			struct spot_progress *ret)
{
	int64_t start, last, beat_now;

	if (s->n == 0 || s->too_long)
		return false;
	start = s->rr[0].t_ms;
	last = s->rr[s->n - 1].t_ms;
	if (start < from_ms || start >= until_ms ||
	    span_ms(start, last) > SPOT_SESSION_MAX_MS)
		return false;
	if (s->prev_long && start >= s->prev_end_ms &&
	    span_ms(s->prev_end_ms, start) < SPOT_LIVE_REJOIN_MS)
		return false;
	/* Now on the beat clock: the last beat plus the time since it came. */
	beat_now = now_ms > s->last_arrival_ms
		       ? add_ms(last, span_ms(s->last_arrival_ms, now_ms))
		       : last;
	return spot_progress(s->rr, s->n, beat_now, ret) == 0;
}

enum hrv_source spot_day_hrv(const struct night_metrics *night,
			     const struct spot_result *spot,
			     struct spot_day_hrv *ret)
{
	struct spot_day_hrv d = {
		.source = HRV_SOURCE_NONE,
		.rmssd_ms = METRIC_NONE,
		.ln_rmssd = METRIC_NONE,
	};

	if (night && night->hrv_windows >= HRV_NIGHT_WINDOWS &&
	    metric_present(night->ln_rmssd)) {
		d.source = HRV_SOURCE_NIGHT;
		d.rmssd_ms = night->rmssd_ms;
		d.ln_rmssd = night->ln_rmssd;
	} else if (spot && spot->status == SPOT_OK &&
		   metric_present(spot->ln_rmssd)) {
		d.source = HRV_SOURCE_SPOT;
		d.rmssd_ms = spot->rmssd_ms;
		d.ln_rmssd = spot->ln_rmssd;
	}
	if (ret)
		*ret = d;
	return d.source;
}

void spot_baseline(const struct spot_value *values, size_t count, int32_t day,
		   struct spot_baseline *ret)
{
	struct metric_running base = { 0 }, week = { 0 };
	int64_t last_age = -1;

	for (size_t i = count; i-- > 0;) {
		const struct spot_value *v = &values[i];
		/* 64-bit so that absurd days cannot overflow the difference */
		int64_t age = (int64_t)day - v->day;

		/* Later days than @day, a repeated day, or one out of order */
		if (age < 0 || age <= last_age)
			continue;
		if (age > SCORE_BASELINE_NIGHTS)
			break;
		last_age = age;
		if (!metric_present(v->ln_rmssd))
			continue;
		if (age >= 1)
			metric_running_add(&base, v->ln_rmssd);
		if (age < 7)
			metric_running_add(&week, v->ln_rmssd);
	}

	ret->count = base.n;
	ret->ln_rmssd_mean = metric_running_mean(&base, 1);
	ret->ln_rmssd_sd = metric_running_sd(&base, SCORE_LN_RMSSD_SD_FLOOR);
	ret->week_count = week.n;
	ret->ln_rmssd_7d = metric_running_mean(&week, 3);
}
