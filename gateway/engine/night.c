// SPDX-License-Identifier: MIT
#include "gateway/engine/night.h"

#include <stdbool.h>
#include <string.h>

#include "gateway/engine/hrv.h"
#include "gateway/engine/morning.h"

/* The alert waits for the night to close across gaps shorter than this;
 * the analysis must cut the same night. */
_Static_assert(NIGHT_MERGE_GAP_MS == MORNING_MERGE_GAP_MIN * 60 * 1000,
	       "night and morning merge gaps differ");

/*
 * The search span is 20-21 hours; a day of epochs leaves room for a DST
 * night and keeps the arrays below (about 30 KiB) on the stack.
 */
#define NIGHT_MAX_EPOCHS       1440
#define NIGHT_HR_WAKE_FACTOR   1.15
#define NIGHT_RESTING_MS       (5 * 60 * 1000)
#define NIGHT_RESTING_MIN_HR_N 3

enum {
	EPOCH_OUT_OF_BED = 1 << 0,
	EPOCH_MOTION = 1 << 1,
};

struct window {
	int64_t start_ms;
	int64_t end_ms;
	int64_t out_of_bed_ms;
	int32_t episodes;
};

struct epochs {
	int64_t start_ms;
	int64_t end_ms;
	size_t n;
	uint8_t flags[NIGHT_MAX_EPOCHS];
	uint32_t hr_n[NIGHT_MAX_EPOCHS];
	uint32_t rr_n[NIGHT_MAX_EPOCHS];
	double hr_mean[NIGHT_MAX_EPOCHS]; /* a sum until epochs_hr() ends */
	double scratch[NIGHT_MAX_EPOCHS];
};

static double ms_to_min(int64_t ms)
{
	return (double)ms / (double)NIGHT_EPOCH_MS;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* A strap sends 0 bpm (or nothing sensible) while it has no skin contact. */
static bool hr_valid(const struct hr_sample *s)
{
	return isfinite(s->bpm) && s->bpm > 0.0;
}

/* Index of the first HR sample at or after @t_ms. */
static size_t hr_lower_bound(const struct night_input *in, int64_t t_ms)
{
	size_t lo = 0, hi = in->hr_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->hr[mid].t_ms < t_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first RR interval at or after @t_ms. */
static size_t rr_lower_bound(const struct night_input *in, int64_t t_ms)
{
	size_t lo = 0, hi = in->rr_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->rr[mid].t_ms < t_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A beat the heart can have made (hrv.h's range); artefacts aside. */
static bool rr_valid(const struct rr_sample *s)
{
	return isfinite(s->rr_ms) && s->rr_ms >= HRV_RR_MIN_MS &&
	       s->rr_ms <= HRV_RR_MAX_MS;
}

static bool any_hr(const struct night_input *in)
{
	for (size_t i = 0; i < in->hr_count; i++)
		if (hr_valid(&in->hr[i]))
			return true;
	return false;
}

/*
 * Walks the bed states as occupied periods clipped to the search span. The
 * state before the span (the input carries it) opens a period at the span's
 * start; a period still open at its end is closed there. Repeated states are
 * no change. Calls @fn for every occupied period of nonzero length, in order.
 */
static void bed_periods(const struct night_input *in,
			void (*fn)(void *data, int64_t from_ms, int64_t to_ms),
			void *data)
{
	bool occupied = false;
	int64_t since = 0;

	for (size_t i = 0; i < in->bed_count; i++) {
		const struct state_sample *s = &in->bed[i];
		int64_t t = max64(s->t_ms, in->search_start_ms);

		if (s->t_ms >= in->search_end_ms)
			break;
		if (s->on && !occupied) {
			occupied = true;
			since = t;
		} else if (!s->on && occupied) {
			occupied = false;
			if (t > since)
				fn(data, since, t);
		}
	}
	if (occupied && in->search_end_ms > since)
		fn(data, since, in->search_end_ms);
}

struct bed_merge {
	bool have_cur, have_best;
	struct window cur, best;
};

static void bed_merge_finish(struct bed_merge *bm)
{
	int64_t cur_len = bm->cur.end_ms - bm->cur.start_ms;

	/* Ties go to the later period: it is the one nearer the morning. */
	if (bm->have_cur && (!bm->have_best ||
			     cur_len >= bm->best.end_ms - bm->best.start_ms)) {
		bm->best = bm->cur;
		bm->have_best = true;
	}
}

static void bed_merge_period(void *data, int64_t from_ms, int64_t to_ms)
{
	struct bed_merge *bm = data;

	if (bm->have_cur && from_ms - bm->cur.end_ms < NIGHT_MERGE_GAP_MS) {
		bm->cur.out_of_bed_ms += from_ms - bm->cur.end_ms;
		bm->cur.episodes++;
		bm->cur.end_ms = to_ms;
		return;
	}
	bed_merge_finish(bm);
	bm->cur = (struct window){ .start_ms = from_ms, .end_ms = to_ms };
	bm->have_cur = true;
}

static bool bed_reported(const struct night_input *in)
{
	for (size_t i = 0; i < in->bed_count; i++)
		if (in->bed[i].t_ms >= in->search_start_ms &&
		    in->bed[i].t_ms < in->search_end_ms)
			return true;
	return false;
}

/* The longest occupied period with short absences merged in. */
static bool bed_window(const struct night_input *in, struct window *ret)
{
	struct bed_merge bm = { 0 };

	bed_periods(in, bed_merge_period, &bm);
	bed_merge_finish(&bm);
	if (!bm.have_best)
		return false;
	*ret = bm.best;
	return true;
}

/*
 * The longest stretch of strap wear inside the hints: consecutive valid HR
 * samples less than NIGHT_WEAR_GAP_MS apart, from the first sample to the
 * last, clipped to the hints (and the search span). Stretches are compared
 * after clipping, so an afternoon's wear cannot outweigh the night's.
 * Hints that are unset (end not after start) leave the whole search span.
 */
static bool strap_window(const struct night_input *in, struct window *ret)
{
	int64_t lo = in->search_start_ms, hi = in->search_end_ms;
	int64_t first = 0, last = 0, best_len = -1;
	bool in_stretch = false;
	/* An RR-only recording (an imported RR file) is worn where its
	 * beats are. */
	bool by_rr = !any_hr(in);
	size_t count = by_rr ? in->rr_count : in->hr_count;

	if (in->hint_end_ms > in->hint_start_ms) {
		lo = max64(lo, in->hint_start_ms);
		hi = min64(hi, in->hint_end_ms);
	}
	if (hi <= lo)
		return false;

	/* One sample past the end closes the last stretch. */
	for (size_t i = 0; i <= count; i++) {
		bool end = i == count;
		int64_t t = end ? 0 : by_rr ? in->rr[i].t_ms : in->hr[i].t_ms;

		if (!end &&
		    (by_rr ? !rr_valid(&in->rr[i]) : !hr_valid(&in->hr[i])))
			continue;
		if (!end && in_stretch && t - last < NIGHT_WEAR_GAP_MS) {
			last = t;
			continue;
		}
		if (in_stretch) {
			int64_t a = max64(first, lo), b = min64(last, hi);

			/* Ties go to the later stretch, as for the bed. */
			if (b > a && b - a >= best_len) {
				best_len = b - a;
				*ret = (struct window){ .start_ms = a,
							.end_ms = b };
			}
		}
		in_stretch = !end;
		first = last = t;
	}
	return best_len > 0;
}

/*
 * Sets @flag on the epochs that [@from_ms, @to_ms) overlaps; an interval of
 * no length is an instant and marks the epoch holding it.
 */
static void epochs_mark(struct epochs *ep, int64_t from_ms, int64_t to_ms,
			uint8_t flag)
{
	int64_t first, last;

	if (to_ms == from_ms) {
		if (from_ms < ep->start_ms || from_ms >= ep->end_ms)
			return;
		first = last = (from_ms - ep->start_ms) / NIGHT_EPOCH_MS;
	} else {
		from_ms = max64(from_ms, ep->start_ms);
		to_ms = min64(to_ms, ep->end_ms);
		if (to_ms <= from_ms)
			return;
		first = (from_ms - ep->start_ms) / NIGHT_EPOCH_MS;
		last = (to_ms - ep->start_ms - 1) / NIGHT_EPOCH_MS;
	}
	for (int64_t e = first; e <= last && e < (int64_t)ep->n; e++)
		ep->flags[e] |= flag;
}

/*
 * An epoch with any moment out of bed in it is awake: whoever left the bed
 * in that minute was not asleep for all of it. Only an off report opens an
 * absence; the window starts occupied, so what came before cannot matter.
 */
static void epochs_bed(const struct night_input *in, struct epochs *ep)
{
	bool occupied = true;
	int64_t left = 0;

	for (size_t i = 0; i < in->bed_count; i++) {
		const struct state_sample *s = &in->bed[i];

		if (s->t_ms >= ep->end_ms)
			break;
		if (!s->on && occupied) {
			occupied = false;
			left = s->t_ms;
		} else if (s->on && !occupied) {
			occupied = true;
			epochs_mark(ep, left, s->t_ms, EPOCH_OUT_OF_BED);
		}
	}
	if (!occupied)
		epochs_mark(ep, left, ep->end_ms, EPOCH_OUT_OF_BED);
}

/*
 * Motion is a state, like the bed: "on" holds from an on report until the
 * next off report (repeated ons just confirm it), so an epoch is marked when
 * the state was on at any moment of it, whether the on report fell inside
 * the epoch or an earlier one persisted into it. An on and an off at the
 * same instant still mark that instant's epoch. An "on" that is neither
 * repeated nor cleared holds at most NIGHT_MOTION_HOLD_MS: a lost "off"
 * (an advertisement the radio missed) must not keep a person awake all
 * night. Returns whether the sensor reported at all inside the window; if
 * it did not, it does not speak for this night and nothing is marked.
 */
static bool epochs_motion(const struct night_input *in, struct epochs *ep)
{
	bool moving = false, spoke = false;
	int64_t since = 0, last_on = 0;

	for (size_t i = 0; i < in->motion_count; i++) {
		int64_t t = in->motion[i].t_ms;

		if (t >= ep->start_ms && t < ep->end_ms) {
			spoke = true;
			break;
		}
	}
	if (!spoke)
		return false;

	for (size_t i = 0; i < in->motion_count; i++) {
		const struct state_sample *s = &in->motion[i];

		if (s->t_ms >= ep->end_ms)
			break;
		if (moving && s->t_ms > last_on + NIGHT_MOTION_HOLD_MS) {
			epochs_mark(ep, since, last_on + NIGHT_MOTION_HOLD_MS,
				    EPOCH_MOTION);
			moving = false;
		}
		if (s->on) {
			if (!moving) {
				moving = true;
				since = s->t_ms;
			}
			last_on = s->t_ms;
		} else if (moving) {
			moving = false;
			epochs_mark(ep, since, s->t_ms, EPOCH_MOTION);
		}
	}
	if (moving) {
		int64_t until = last_on + NIGHT_MOTION_HOLD_MS;

		epochs_mark(ep, since, until < ep->end_ms ? until : ep->end_ms,
			    EPOCH_MOTION);
	}
	return true;
}

static void epochs_hr(const struct night_input *in, struct epochs *ep)
{
	for (size_t i = hr_lower_bound(in, ep->start_ms);
	     i < in->hr_count && in->hr[i].t_ms < ep->end_ms; i++) {
		size_t e;

		if (!hr_valid(&in->hr[i]))
			continue;
		e = (size_t)((in->hr[i].t_ms - ep->start_ms) / NIGHT_EPOCH_MS);
		ep->hr_mean[e] += in->hr[i].bpm;
		ep->hr_n[e]++;
	}
	for (size_t e = 0; e < ep->n; e++)
		if (ep->hr_n[e])
			ep->hr_mean[e] /= (double)ep->hr_n[e];
}

/* An epoch without heart-rate samples takes its rate from its beats:
 * 60,000 / their mean. The scratch array holds the sums until the median. */
static void epochs_rr(const struct night_input *in, struct epochs *ep)
{
	for (size_t e = 0; e < ep->n; e++) {
		ep->scratch[e] = 0.0;
		ep->rr_n[e] = 0;
	}
	for (size_t i = rr_lower_bound(in, ep->start_ms);
	     i < in->rr_count && in->rr[i].t_ms < ep->end_ms; i++) {
		size_t e;

		if (!rr_valid(&in->rr[i]))
			continue;
		e = (size_t)((in->rr[i].t_ms - ep->start_ms) / NIGHT_EPOCH_MS);
		ep->scratch[e] += in->rr[i].rr_ms;
		ep->rr_n[e]++;
	}
	for (size_t e = 0; e < ep->n; e++) {
		if (ep->hr_n[e] || ep->rr_n[e] < NIGHT_RESTING_MIN_HR_N)
			continue;
		ep->hr_mean[e] = 60000.0 * (double)ep->rr_n[e] / ep->scratch[e];
		ep->hr_n[e] = ep->rr_n[e];
	}
}

static void swap_d(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

/*
 * The @k-th smallest of @a[0..n) (reordering it). Three-way partitioning
 * keeps it linear when many epochs share one mean, as a steady night does.
 */
static double select_kth(double *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
		/* Median of three, against sorted and reversed input. */
		double pivot = x < y ? (y < z ? y : (x < z ? z : x))
				     : (x < z ? x : (y < z ? z : y));
		size_t lt = lo, i = lo, gt = hi;

		while (i < gt) {
			if (a[i] < pivot)
				swap_d(&a[lt++], &a[i++]);
			else if (a[i] > pivot)
				swap_d(&a[i], &a[--gt]);
			else
				i++;
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return pivot;
	}
	return a[k];
}

/* Median of the epochs' mean heart rates; NAN when no epoch has one. */
static double epochs_hr_median(struct epochs *ep)
{
	size_t m = 0;

	for (size_t e = 0; e < ep->n; e++)
		if (ep->hr_n[e])
			ep->scratch[m++] = ep->hr_mean[e];
	if (m == 0)
		return METRIC_NONE;
	if (m % 2)
		return select_kth(ep->scratch, m, m / 2);
	return (select_kth(ep->scratch, m, m / 2 - 1) +
		select_kth(ep->scratch, m, m / 2)) /
	       2.0;
}

static int64_t epoch_start(const struct epochs *ep, size_t e)
{
	return ep->start_ms + (int64_t)e * NIGHT_EPOCH_MS;
}

static int64_t epoch_end(const struct epochs *ep, size_t e)
{
	return min64(epoch_start(ep, e + 1), ep->end_ms);
}

/*
 * The mean heart rate of [@from_ms, @to_ms): of its heart-rate samples, or,
 * when it has none, 60,000 / the mean of its RR intervals (DESIGN §4). A
 * window needs a few samples so that one stray beat cannot set the night's
 * value; METRIC_NONE otherwise.
 */
static double window_hr(const struct night_input *in, int64_t from_ms,
			int64_t to_ms)
{
	double sum = 0.0;
	unsigned n = 0;

	for (size_t i = hr_lower_bound(in, from_ms);
	     i < in->hr_count && in->hr[i].t_ms < to_ms; i++) {
		if (!hr_valid(&in->hr[i]))
			continue;
		sum += in->hr[i].bpm;
		n++;
	}
	if (n)
		return n >= NIGHT_RESTING_MIN_HR_N ? sum / (double)n
						   : METRIC_NONE;
	for (size_t i = rr_lower_bound(in, from_ms);
	     i < in->rr_count && in->rr[i].t_ms < to_ms; i++) {
		if (!rr_valid(&in->rr[i]))
			continue;
		sum += in->rr[i].rr_ms;
		n++;
	}
	return n >= NIGHT_RESTING_MIN_HR_N ? 60000.0 * (double)n / sum
					   : METRIC_NONE;
}

/* Lowest mean heart rate over 5-minute windows cut from @onset_ms. */
static double resting_hr(const struct night_input *in, int64_t onset_ms,
			 int64_t wake_ms)
{
	double lowest = METRIC_NONE;

	for (int64_t t = onset_ms; t < wake_ms; t += NIGHT_RESTING_MS) {
		double hr =
		    window_hr(in, t, min64(t + NIGHT_RESTING_MS, wake_ms));

		if (metric_present(hr) &&
		    (!metric_present(lowest) || hr < lowest))
			lowest = hr;
	}
	return lowest;
}

static void morning_weight(const struct night_input *in, int64_t from_ms,
			   struct night_metrics *ret)
{
	for (size_t i = 0; i < in->weight_count; i++) {
		const struct weight_sample *w = &in->weights[i];

		if (w->t_ms >= in->day_end_ms)
			break;
		if (w->t_ms < from_ms || !isfinite(w->weight_kg) ||
		    w->weight_kg <= 0.0)
			continue;
		ret->weight_kg = w->weight_kg;
		ret->body_fat_pct = w->body_fat_pct;
		return;
	}
}

/* Each field is averaged over the check-ins that carry it. */
static void day_checkin(const struct night_input *in, int64_t from_ms,
			struct night_metrics *ret)
{
	double sum[3] = { 0 };
	unsigned n[3] = { 0 };

	for (size_t i = 0; i < in->checkin_count; i++) {
		const struct checkin_sample *c = &in->checkins[i];
		const double v[3] = { c->mood, c->soreness, c->energy };

		if (c->t_ms >= in->day_end_ms)
			break;
		if (c->t_ms < from_ms)
			continue;
		for (int f = 0; f < 3; f++) {
			if (metric_present(v[f])) {
				sum[f] += v[f];
				n[f]++;
			}
		}
	}
	ret->mood = n[0] ? sum[0] / (double)n[0] : METRIC_NONE;
	ret->soreness = n[1] ? sum[1] / (double)n[1] : METRIC_NONE;
	ret->energy = n[2] ? sum[2] / (double)n[2] : METRIC_NONE;
}

/* Fills the sleep metrics of @w; returns the instant the day starts from
 * (wake, or leaving bed when no sleep was found). */
static int64_t analyze_window(const struct night_input *in,
			      const struct window *w, struct epochs *ep,
			      struct night_metrics *ret)
{
	bool motion, found_onset = false;
	size_t onset = 0, last_asleep = 0, run = 0;
	double median, sleep_min = 0.0, tib_min;
	struct hrv_night hrv;

	ep->start_ms = w->start_ms;
	ep->end_ms = w->end_ms;
	ep->n = (size_t)((w->end_ms - w->start_ms + NIGHT_EPOCH_MS - 1) /
			 NIGHT_EPOCH_MS);
	memset(ep->flags, 0, ep->n * sizeof(ep->flags[0]));
	memset(ep->hr_n, 0, ep->n * sizeof(ep->hr_n[0]));
	for (size_t e = 0; e < ep->n; e++)
		ep->hr_mean[e] = 0.0;

	if (ret->window_from_bed_sensor)
		epochs_bed(in, ep);
	motion = epochs_motion(in, ep);
	epochs_hr(in, ep);
	epochs_rr(in, ep);
	/* Heart rate judges wakefulness only when no motion sensor can. */
	median = motion ? METRIC_NONE : epochs_hr_median(ep);

	for (size_t e = 0; e < ep->n; e++) {
		bool awake = ep->flags[e] != 0 ||
			     (metric_present(median) && ep->hr_n[e] &&
			      ep->hr_mean[e] > NIGHT_HR_WAKE_FACTOR * median);

		/* From here on a flag only says awake. */
		ep->flags[e] = awake;
		if (awake) {
			run = 0;
			continue;
		}
		last_asleep = e;
		if (!found_onset && ++run == NIGHT_ONSET_EPOCHS) {
			onset = e + 1 - NIGHT_ONSET_EPOCHS;
			found_onset = true;
		}
	}

	tib_min = ms_to_min(w->end_ms - w->start_ms - w->out_of_bed_ms);
	ret->time_in_bed_min = tib_min;
	ret->out_of_bed_episodes = w->episodes;
	if (!found_onset) {
		/* In bed and never asleep: a real zero, but no latency and
		 * nothing to take HRV or resting HR from. */
		ret->sleep_min = 0.0;
		ret->sleep_efficiency_pct = 0.0;
		return w->end_ms;
	}

	for (size_t e = onset; e <= last_asleep; e++)
		if (!ep->flags[e])
			sleep_min +=
			    ms_to_min(epoch_end(ep, e) - epoch_start(ep, e));
	ret->sleep_onset_ms = epoch_start(ep, onset);
	ret->wake_ms = epoch_end(ep, last_asleep);
	ret->sleep_min = sleep_min;
	ret->sleep_efficiency_pct = sleep_min / tib_min * 100.0;
	ret->latency_min = ms_to_min(ret->sleep_onset_ms - w->start_ms);
	ret->resting_hr_bpm = resting_hr(in, ret->sleep_onset_ms, ret->wake_ms);

	/* -ENODATA still fills @hrv, with the metrics absent. */
	hrv_night(in->rr, in->rr_count, ret->sleep_onset_ms, ret->wake_ms,
		  &hrv);
	ret->rmssd_ms = hrv.rmssd_ms;
	ret->ln_rmssd = hrv.ln_rmssd;
	ret->sdnn_ms = hrv.sdnn_ms;
	ret->pnn50_pct = hrv.pnn50_pct;
	ret->hrv_windows = hrv.counted;
	ret->beats = hrv.beats;
	ret->dropped_beats = hrv.dropped;
	return ret->wake_ms;
}

int night_analyze(const struct night_input *in, struct night_metrics *ret)
{
	struct epochs ep;
	struct window w = { 0 };
	bool found;
	int64_t day_from = in->search_start_ms;

	*ret = night_metrics_empty(in->day);

	ret->window_from_bed_sensor = bed_reported(in);
	found = ret->window_from_bed_sensor ? bed_window(in, &w)
					    : strap_window(in, &w);
	if (found && w.end_ms - w.start_ms >
			 (int64_t)NIGHT_MAX_EPOCHS * NIGHT_EPOCH_MS) {
		/* Only a malformed search span gets here; keep the part
		 * nearest the morning so the arrays hold it. The out-of-bed
		 * time may then overstate what the kept part held. */
		w.start_ms =
		    w.end_ms - (int64_t)NIGHT_MAX_EPOCHS * NIGHT_EPOCH_MS;
		w.out_of_bed_ms = min64(w.out_of_bed_ms, w.end_ms - w.start_ms);
	}
	if (found && w.end_ms - w.start_ms >= NIGHT_MIN_WINDOW_MS) {
		ret->window_start_ms = w.start_ms;
		ret->window_end_ms = w.end_ms;
		day_from = analyze_window(in, &w, &ep, ret);
	} else {
		ret->window_from_bed_sensor = false;
	}

	morning_weight(in, day_from, ret);
	day_checkin(in, day_from, ret);
	return 0;
}
