// SPDX-License-Identifier: MIT
#include "gateway/engine/hrv.h"

#include <errno.h>
#include <math.h>

/*
 * Time-domain HRV as defined by the Task Force of the European Society of
 * Cardiology and the North American Society of Pacing and Electrophysiology,
 * "Heart rate variability: standards of measurement, physiological
 * interpretation and clinical use", Circulation 93 (1996) 1043-1065, table 1:
 * SDNN, RMSSD, NN50 and pNN50 over normal-to-normal (NN) intervals.
 *
 * Nothing here keeps a copy of the beats: a night's windows are contiguous
 * runs of its sorted samples, read in place, so hrv_night needs no
 * allocation or window-sized array however many beats a window holds. A
 * window and hrv_compute share one implementation and cannot disagree.
 */

#define NN50_MS 50.0

/*
 * Malik's rule (Malik M. et al., "Heart rate variability in relation to
 * prognosis after myocardial infarction: selection of optimal processing
 * techniques", Eur Heart J 10 (1989) 1060-1074): an interval differing from
 * the last accepted one by more than 20 % is an ectopic beat or a missed or
 * extra detection. Comparing with the last *accepted* beat, not the previous
 * raw one, stops an artefact from becoming the yardstick for the next beat.
 */
struct malik {
	bool have_ref;
	double ref_ms;
};

static inline bool rr_in_range(double rr_ms)
{
	/* Written so that NAN fails too. */
	return rr_ms >= HRV_RR_MIN_MS && rr_ms <= HRV_RR_MAX_MS;
}

static inline bool malik_accept(struct malik *m, double rr_ms,
				struct hrv_clean_stats *stats)
{
	stats->total++;
	if (!rr_in_range(rr_ms)) {
		stats->out_of_range++;
		return false;
	}
	if (m->have_ref && fabs(rr_ms - m->ref_ms) > HRV_MAX_JUMP * m->ref_ms) {
		stats->jumps++;
		return false;
	}
	m->have_ref = true;
	m->ref_ms = rr_ms;
	stats->kept++;
	return true;
}

void hrv_clean(const double *rr_ms, size_t n, bool *ret_keep,
	       struct hrv_clean_stats *ret_stats)
{
	struct hrv_clean_stats stats = { 0 };
	struct malik m = { 0 };

	for (size_t i = 0; i < n; i++)
		ret_keep[i] = malik_accept(&m, rr_ms[i], &stats);
	if (ret_stats)
		*ret_stats = stats;
}

/*
 * The intervals a metric is computed over: a plain array with an optional
 * mask (hrv_compute), or a stretch of stamped samples whose mask is Malik's
 * rule replayed from the first beat (hrv_night). Replaying the rule costs
 * less than storing its verdicts and needs no buffer however many beats a
 * window holds.
 */
struct beats {
	const double *rr_ms;
	const struct rr_sample *samples; /* used instead of rr_ms when set */
	const bool *keep;		 /* NULL: every beat is an NN */
	bool clean;			 /* Malik decides instead of keep */
};

static inline double beat_ms(const struct beats *b, size_t i)
{
	return b->samples ? b->samples[i].rr_ms : b->rr_ms[i];
}

static inline bool beat_is_nn(const struct beats *b, size_t i, struct malik *m,
			      struct hrv_clean_stats *stats)
{
	if (b->clean)
		return malik_accept(m, beat_ms(b, i), stats);
	return !b->keep || b->keep[i];
}

/* What the first pass over a stretch of beats finds. */
struct nn_scan {
	struct hrv_clean_stats stats; /* when cleaning */
	size_t count;		      /* NN intervals */
	double sum_ms;		      /* of the NN intervals */
	double covered_ms;	      /* of all intervals in 300-2000 ms */
	bool invalid;		      /* an NN is not positive and finite */
};

static void nn_scan(const struct beats *b, size_t from, size_t to,
		    struct nn_scan *ret)
{
	struct nn_scan s = { 0 };
	struct malik m = { 0 };

	for (size_t i = from; i < to; i++) {
		double x = beat_ms(b, i);

		/*
		 * Coverage is the time the beats account for, not the span of
		 * their stamps, so a strap that was off shows as missing
		 * time. A beat dropped by Malik's rule still took its time
		 * (an ectopic beat and its pause are real); an impossible
		 * value did not.
		 */
		if (rr_in_range(x))
			s.covered_ms += x;
		if (!beat_is_nn(b, i, &m, &s.stats))
			continue;
		/* Unmasked input may hold anything. */
		if (!(isfinite(x) && x > 0.0))
			s.invalid = true;
		s.count++;
		s.sum_ms += x;
	}
	*ret = s;
}

/*
 * The second pass: deviations from the mean the first pass found, and
 * successive differences. Two passes because summing x^2 in one would
 * cancel catastrophically (RR values near 1000 ms with an SD of a few ms
 * lose most of their digits) and Welford's update divides on every beat, a
 * chain of dependent divisions that made a night several times slower. The
 * deviations themselves are also summed: they are zero but for the rounding
 * of the mean, and subtracting their square corrects for it (the
 * corrected two-pass algorithm in Chan, Golub and LeVeque, "Algorithms for
 * computing the sample variance", Am Stat 37 (1983) 242-247).
 */
static int nn_metrics(const struct beats *b, size_t from, size_t to,
		      const struct nn_scan *scan, struct hrv_metrics *ret)
{
	struct hrv_clean_stats stats = { 0 };
	struct malik malik = { 0 };
	struct hrv_metrics m = { 0 };
	double dev_sum = 0.0, dev_sq = 0.0, diff_sq = 0.0;
	double prev_ms = 0.0;
	bool prev_nn = false;

	if (scan->count < 2)
		return -ENODATA;
	m.count = scan->count;
	m.mean_nn_ms = scan->sum_ms / (double)scan->count;

	for (size_t i = from; i < to; i++) {
		double x = beat_ms(b, i);
		double d;

		if (!beat_is_nn(b, i, &malik, &stats)) {
			/* A dropped beat's neighbours are not successive. */
			prev_nn = false;
			continue;
		}
		d = x - m.mean_nn_ms;
		dev_sum += d;
		dev_sq += d * d;
		if (prev_nn) {
			double diff = x - prev_ms;

			m.diffs++;
			diff_sq += diff * diff;
			/* Task Force: NN50 counts differences *greater* than
			 * 50 ms. */
			m.nn50 += fabs(diff) > NN50_MS;
		}
		prev_nn = true;
		prev_ms = x;
	}
	if (m.diffs == 0)
		return -ENODATA;

	dev_sq -= dev_sum * dev_sum / (double)m.count;
	m.sdnn_ms = sqrt(fmax(dev_sq, 0.0) / (double)(m.count - 1));
	m.rmssd_ms = sqrt(diff_sq / (double)m.diffs);
	/* A perfectly regular rhythm (a paced heart) has no logarithm. */
	m.ln_rmssd = m.rmssd_ms > 0.0 ? log(m.rmssd_ms) : METRIC_NONE;
	m.pnn50_pct = (double)m.nn50 / (double)m.diffs * 100.0;
	m.mean_hr_bpm = 60000.0 / m.mean_nn_ms;
	*ret = m;
	return 0;
}

/*
 * Returns -EINVAL, besides the documented -ENODATA, when an interval it
 * uses is not a positive finite number (possible only with no mask or a
 * mask that did not come from hrv_clean).
 */
int hrv_compute(const double *rr_ms, const bool *keep, size_t n,
		struct hrv_metrics *ret)
{
	const struct beats b = { .rr_ms = rr_ms, .keep = keep };
	struct nn_scan scan;

	nn_scan(&b, 0, n, &scan);
	if (scan.invalid)
		return -EINVAL;
	return nn_metrics(&b, 0, n, &scan, ret);
}

int hrv_span(const struct rr_sample *rr, size_t n,
	     struct hrv_clean_stats *ret_stats, struct hrv_metrics *ret)
{
	const struct beats b = { .samples = rr, .clean = true };
	struct nn_scan scan;

	nn_scan(&b, 0, n, &scan);
	if (ret_stats)
		*ret_stats = scan.stats;
	/* Cleaning keeps only 300-2000 ms, so scan.invalid cannot be set. */
	return nn_metrics(&b, 0, n, &scan, ret);
}

static int32_t saturate_i32(size_t v)
{
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

struct night_sums {
	size_t windows;
	size_t counted;
	size_t beats;
	size_t dropped;
	double rmssd_ms;
	double sdnn_ms;
	double pnn50_pct;
};

/*
 * The window [@from, @to) of @rr: cleaned on its own beats, counted when
 * at least 80 % survive and they cover at least half of the window.
 */
static void window_add(const struct rr_sample *rr, size_t from, size_t to,
		       struct night_sums *s)
{
	const struct beats b = { .samples = rr, .clean = true };
	struct hrv_metrics m;
	struct nn_scan scan;

	if (from == to)
		return;
	nn_scan(&b, from, to, &scan);
	s->windows++;
	s->beats += scan.stats.total;
	s->dropped += scan.stats.total - scan.stats.kept;

	if ((double)scan.stats.kept <
	    HRV_WINDOW_KEEP * (double)scan.stats.total)
		return;
	/*
	 * Half of the nominal window, also for a shorter last one: a stub of a
	 * few minutes is too short a recording for the Task Force's 5-minute
	 * short-term measures.
	 */
	if (scan.covered_ms < 0.5 * (double)HRV_WINDOW_MS)
		return;
	if (nn_metrics(&b, from, to, &scan, &m) < 0)
		return;
	s->counted++;
	s->rmssd_ms += m.rmssd_ms;
	s->sdnn_ms += m.sdnn_ms;
	s->pnn50_pct += m.pnn50_pct;
}

/*
 * Returns -EINVAL, besides the documented 0 and -ENODATA, when the samples
 * are not sorted by time; @ret is then filled as for a night without any
 * beat, so that a caller relying on "-ENODATA still fills @ret" never reads
 * garbage.
 */
int hrv_night(const struct rr_sample *rr, size_t n, int64_t start_ms,
	      int64_t end_ms, struct hrv_night *ret)
{
	struct night_sums sums = { 0 };
	struct hrv_night night = {
		.rmssd_ms = METRIC_NONE,
		.ln_rmssd = METRIC_NONE,
		.sdnn_ms = METRIC_NONE,
		.pnn50_pct = METRIC_NONE,
	};
	size_t i = 0;

	for (size_t k = 1; k < n; k++) {
		if (rr[k].t_ms < rr[k - 1].t_ms) {
			*ret = night;
			return -EINVAL;
		}
	}

	while (i < n && rr[i].t_ms < start_ms)
		i++;
	while (i < n && rr[i].t_ms < end_ms) {
		int64_t window = (rr[i].t_ms - start_ms) / HRV_WINDOW_MS;
		int64_t window_end = start_ms + (window + 1) * HRV_WINDOW_MS;
		size_t from = i;

		if (window_end > end_ms)
			window_end = end_ms;
		while (i < n && rr[i].t_ms < window_end)
			i++;
		window_add(rr, from, i, &sums);
	}

	night.windows = saturate_i32(sums.windows);
	night.counted = saturate_i32(sums.counted);
	night.beats = saturate_i32(sums.beats);
	night.dropped = saturate_i32(sums.dropped);
	if (sums.counted < HRV_NIGHT_WINDOWS) {
		*ret = night;
		return -ENODATA;
	}
	night.rmssd_ms = sums.rmssd_ms / (double)sums.counted;
	night.ln_rmssd =
	    night.rmssd_ms > 0.0 ? log(night.rmssd_ms) : METRIC_NONE;
	night.sdnn_ms = sums.sdnn_ms / (double)sums.counted;
	night.pnn50_pct = sums.pnn50_pct / (double)sums.counted;
	*ret = night;
	return 0;
}
