// SPDX-License-Identifier: MIT
/*
 * HRV time domain (Task Force 1996), Malik cleaning and the night's 5-minute
 * windows. Every expected value is worked out by hand in the comment beside
 * it; the series are generated here, never copied from elsewhere.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/engine/hrv.h"

#define EPS 1e-9

static void assert_metric(double got, double want)
{
	if (isnan(want))
		g_assert_true(isnan(got));
	else
		g_assert_cmpfloat_with_epsilon(got, want, EPS);
}

/* --- hrv_clean ------------------------------------------------------ */

struct clean_vector {
	const char *name;
	size_t n;
	double rr_ms[8];
	const char *keep; /* K kept, D dropped, one letter per interval */
	size_t out_of_range;
	size_t jumps;
};

static const struct clean_vector clean_vectors[] = {
	{ "/hrv/clean/empty", 0, { 0 }, "", 0, 0 },
	{ "/hrv/clean/steady", 4, { 800, 810, 805, 790 }, "KKKK", 0, 0 },
	/* The range is closed: 300 and 2000 are physiological (200 and 30
	 * bpm), the next representable step beyond is not. */
	{ "/hrv/clean/range/min-kept", 1, { 300 }, "K", 0, 0 },
	{ "/hrv/clean/range/max-kept", 1, { 2000 }, "K", 0, 0 },
	{ "/hrv/clean/range/below-min", 3, { 300, 299.9, 300 }, "KDK", 1, 0 },
	{ "/hrv/clean/range/above-max",
	  3,
	  { 2000, 2000.1, 2000 },
	  "KDK",
	  1,
	  0 },
	{ "/hrv/clean/range/zero-negative-nan",
	  4,
	  { 0, -800, NAN, 800 },
	  "DDDK",
	  3,
	  0 },
	{ "/hrv/clean/range/huge", 3, { 800, 65535, 810 }, "KDK", 1, 0 },
	/* Malik: 20 % of 800 is 160. 960 and 640 are exactly 20 % away and
	 * stay; 960.8 and 639.2 are 20.1 % away and go. */
	{ "/hrv/clean/malik/up-20pct", 2, { 800, 960 }, "KK", 0, 0 },
	{ "/hrv/clean/malik/up-20.1pct", 2, { 800, 960.8 }, "KD", 0, 1 },
	{ "/hrv/clean/malik/down-20pct", 2, { 800, 640 }, "KK", 0, 0 },
	{ "/hrv/clean/malik/down-20.1pct", 2, { 800, 639.2 }, "KD", 0, 1 },
	/* The yardstick is the previous *accepted* beat: after the dropped
	 * 400, 790 is 1.25 % from 800 (kept) although it is 97.5 % from 400. */
	{ "/hrv/clean/malik/vs-accepted", 3, { 800, 400, 790 }, "KDK", 0, 1 },
	/* ... so a sustained jump of 37.5 % never becomes the reference. */
	{ "/hrv/clean/malik/sustained-jump",
	  4,
	  { 800, 1100, 1100, 1100 },
	  "KDDD",
	  0,
	  3 },
	/* Gradual change within 20 % per beat is followed: each step is 15 %
	 * of the previous accepted beat (800 * 1.15 = 920, * 1.15 = 1058). */
	{ "/hrv/clean/malik/gradual", 3, { 800, 920, 1058 }, "KKK", 0, 0 },
	/* An out-of-range beat is not a reference either. */
	{ "/hrv/clean/malik/after-out-of-range",
	  3,
	  { 800, 2500, 810 },
	  "KDK",
	  1,
	  0 },
	/* The first in-range beat is the reference, wherever it is. */
	{ "/hrv/clean/first-in-range-is-reference",
	  4,
	  { 250, 800, 1000, 810 },
	  "DKDK",
	  1,
	  1 },
};

static void test_clean(gconstpointer data)
{
	const struct clean_vector *v = data;
	struct hrv_clean_stats stats;
	bool keep[G_N_ELEMENTS(v->rr_ms)];
	size_t kept = 0;

	g_assert_cmpuint(strlen(v->keep), ==, v->n);
	memset(&stats, 0xa5, sizeof(stats));
	hrv_clean(v->rr_ms, v->n, keep, &stats);
	for (size_t i = 0; i < v->n; i++) {
		g_assert_cmpint(keep[i], ==, v->keep[i] == 'K');
		kept += keep[i];
	}
	g_assert_cmpuint(stats.total, ==, v->n);
	g_assert_cmpuint(stats.kept, ==, kept);
	g_assert_cmpuint(stats.out_of_range, ==, v->out_of_range);
	g_assert_cmpuint(stats.jumps, ==, v->jumps);

	/* The statistics are optional. */
	hrv_clean(v->rr_ms, v->n, keep, NULL);
}

/* --- hrv_compute ---------------------------------------------------- */

struct compute_vector {
	const char *name;
	size_t n;
	double rr_ms[10];
	const char *keep; /* K/D per interval; NULL: pass no mask */
	int ret;
	size_t count, diffs, nn50;
	double mean_nn_ms, sdnn_ms, rmssd_ms, ln_rmssd, pnn50_pct, mean_hr_bpm;
};

static const struct compute_vector compute_vectors[] = {
	/* Constant: no deviation, no difference. ln 0 does not exist. */
	{ "/hrv/compute/constant",
	  5,
	  { 800, 800, 800, 800, 800 },
	  NULL,
	  0,
	  5,
	  4,
	  0,
	  800,
	  0,
	  0,
	  NAN,
	  0,
	  75 },
	/* 800/850 x3: mean 825; deviations +-25, SS = 6 * 625 = 3750,
	 * SDNN = sqrt(3750 / 5) = sqrt(750) = 27.386127875258307;
	 * differences all +-50: RMSSD 50, ln 50 = 3.912023005428146;
	 * NN50 counts |d| > 50, so 0; HR = 60000 / 825 = 72.727272... */
	{ "/hrv/compute/alternating-50",
	  6,
	  { 800, 850, 800, 850, 800, 850 },
	  NULL,
	  0,
	  6,
	  5,
	  0,
	  825,
	  27.386127875258307,
	  50,
	  3.912023005428146,
	  0,
	  72.72727272727273 },
	/* 800/851 x2: mean 825.5; SS = 4 * 25.5^2 = 2601, SDNN = sqrt(867)
	 * = 29.444863728670914; |d| = 51 > 50 three times of three:
	 * pNN50 100, RMSSD 51, ln 51 = 3.9318256327243257;
	 * HR 60000 / 825.5 = 72.6832222895215 */
	{ "/hrv/compute/alternating-51",
	  4,
	  { 800, 851, 800, 851 },
	  NULL,
	  0,
	  4,
	  3,
	  3,
	  825.5,
	  29.444863728670914,
	  51,
	  3.9318256327243257,
	  100,
	  72.6832222895215 },
	/* The textbook set {2,4,4,4,5,5,7,9} as 500 + 50x ms: mean 750,
	 * population SD 100, sample SD 50 * sqrt(32 / 7) = 106.90449676496976.
	 * Differences 100,0,0,50,0,100,100: RMSSD = sqrt(32500 / 7) =
	 * 68.1385143869247 (ln 4.221542609631258), NN50 = 3 (the 50 is not >
	 * 50), pNN50 = 3 / 7 * 100 = 42.857142857142854; HR 60000 / 750 = 80.
	 */
	{ "/hrv/compute/sample-sd",
	  8,
	  { 600, 700, 700, 700, 750, 750, 850, 950 },
	  NULL,
	  0,
	  8,
	  7,
	  3,
	  750,
	  106.90449676496976,
	  68.1385143869247,
	  4.221542609631258,
	  42.857142857142854,
	  80 },
	/* The 1500 is masked out: 810 -> 900 is not a difference (that
	 * would be 90 ms, an NN50). Differences 10 and 10: RMSSD 10, ln 10 =
	 * 2.302585092994046, NN50 0. Mean (800+810+900+910)/4 = 855, SS =
	 * 55^2+45^2+45^2+55^2 = 10100, SDNN = sqrt(10100/3) =
	 * 58.02298395176403; HR 60000 / 855 = 70.17543859649123. */
	{ "/hrv/compute/artefact-gap",
	  5,
	  { 800, 810, 1500, 900, 910 },
	  "KKDKK",
	  0,
	  4,
	  2,
	  0,
	  855,
	  58.02298395176403,
	  10,
	  2.302585092994046,
	  0,
	  70.17543859649123 },
	/* Unmasked, the same series: mean 4920/5 = 984; deviations -184,
	 * -174, 516, -84, -74: SS = 33856+30276+266256+7056+5476 = 342920,
	 * SDNN = sqrt(85730) = 292.7968579066381; differences 10, 690, -600,
	 * 10: SS = 100+476100+360000+100 = 836300, RMSSD = sqrt(209075) =
	 * 457.2471979137762; NN50 2 of 4 = 50 %; HR 60000/984. */
	{ "/hrv/compute/artefact-unmasked",
	  5,
	  { 800, 810, 1500, 900, 910 },
	  NULL,
	  0,
	  5,
	  4,
	  2,
	  984,
	  292.7968579066381,
	  457.2471979137762,
	  6.125224159124863,
	  50,
	  60.97560975609756 },
	/* A cancellation trap for sum(x^2) - n mean^2: SD 0.1 on top of a
	 * million. Sample SD of {a-0.1, a, a+0.1} is 0.1; differences 0.1. */
	{ "/hrv/compute/large-offset",
	  3,
	  { 1000000.0 - 0.1, 1000000.0, 1000000.0 + 0.1 },
	  NULL,
	  0,
	  3,
	  2,
	  0,
	  1000000.0,
	  0.1,
	  0.1,
	  -2.3025850929940455,
	  0,
	  0.06 },
	/* Too little to measure: no metric, output untouched. */
	{ "/hrv/compute/nodata/empty", 0, { 0 }, NULL, -ENODATA },
	{ "/hrv/compute/nodata/one", 1, { 800 }, NULL, -ENODATA },
	{ "/hrv/compute/nodata/one-kept", 2, { 800, 810 }, "KD", -ENODATA },
	/* Two NNs, but not adjacent: no successive difference. */
	{ "/hrv/compute/nodata/no-adjacent-pair",
	  3,
	  { 800, 1500, 810 },
	  "KDK",
	  -ENODATA },
	{ "/hrv/compute/nodata/all-dropped", 2, { 800, 810 }, "DD", -ENODATA },
	/* Uncleaned input that no metric could mean anything for. */
	{ "/hrv/compute/invalid/zero", 3, { 800, 0, 810 }, NULL, -EINVAL },
	{ "/hrv/compute/invalid/negative", 2, { 800, -810 }, NULL, -EINVAL },
	{ "/hrv/compute/invalid/nan", 2, { NAN, 810 }, NULL, -EINVAL },
	{ "/hrv/compute/invalid/inf", 2, { 800, INFINITY }, NULL, -EINVAL },
	/* ... but a masked-out value is never looked at. */
	{ "/hrv/compute/masked-nan",
	  4,
	  { 800, NAN, 800, 800 },
	  "KDKK",
	  0,
	  3,
	  1,
	  0,
	  800,
	  0,
	  0,
	  NAN,
	  0,
	  75 },
};

static void test_compute(gconstpointer data)
{
	const struct compute_vector *v = data;
	struct hrv_metrics m, untouched;
	bool keep[G_N_ELEMENTS(v->rr_ms)];

	if (v->keep) {
		g_assert_cmpuint(strlen(v->keep), ==, v->n);
		for (size_t i = 0; i < v->n; i++)
			keep[i] = v->keep[i] == 'K';
	}
	memset(&m, 0xa5, sizeof(m));
	untouched = m;
	g_assert_cmpint(hrv_compute(v->rr_ms, v->keep ? keep : NULL, v->n, &m),
			==, v->ret);
	if (v->ret < 0) {
		g_assert_true(memcmp(&m, &untouched, sizeof(m)) == 0);
		return;
	}
	g_assert_cmpuint(m.count, ==, v->count);
	g_assert_cmpuint(m.diffs, ==, v->diffs);
	g_assert_cmpuint(m.nn50, ==, v->nn50);
	assert_metric(m.mean_nn_ms, v->mean_nn_ms);
	/* 1e-9 of a million is below the last bit: compare relatively. */
	g_assert_cmpfloat_with_epsilon(m.sdnn_ms, v->sdnn_ms,
				       EPS * fmax(1.0, v->mean_nn_ms / 1000));
	g_assert_cmpfloat_with_epsilon(m.rmssd_ms, v->rmssd_ms,
				       EPS * fmax(1.0, v->mean_nn_ms / 1000));
	if (isnan(v->ln_rmssd))
		g_assert_true(isnan(m.ln_rmssd));
	else
		g_assert_cmpfloat_with_epsilon(m.ln_rmssd, v->ln_rmssd, 1e-6);
	assert_metric(m.pnn50_pct, v->pnn50_pct);
	assert_metric(m.mean_hr_bpm, v->mean_hr_bpm);
}

/* Cleaning then computing, as the command and the night do. */
static void test_clean_then_compute(void)
{
	/* The 1500 (87.5 % above 800) is dropped; the rest as artefact-gap
	 * above, but 900 is within 20 % of 810 (11 %) so it stays. */
	static const double rr[] = { 800, 810, 1500, 900, 910 };
	bool keep[G_N_ELEMENTS(rr)];
	struct hrv_clean_stats stats;
	struct hrv_metrics m;

	hrv_clean(rr, G_N_ELEMENTS(rr), keep, &stats);
	g_assert_cmpuint(stats.kept, ==, 4);
	g_assert_cmpuint(stats.jumps, ==, 1);
	g_assert_cmpint(hrv_compute(rr, keep, G_N_ELEMENTS(rr), &m), ==, 0);
	g_assert_cmpuint(m.diffs, ==, 2);
	g_assert_cmpfloat_with_epsilon(m.rmssd_ms, 10.0, EPS);
}

/*
 * hrv_span on stamped beats is hrv_clean then hrv_compute on their values:
 * the same beats dropped, the same metrics, for every start in the series
 * (a stretch is cleaned on its own, from its first in-range beat).
 */
static void test_span(void)
{
	static const double rr[] = { 250,  800, 810, 1500, 900, 910,
				     2100, 400, 905, 880,  870, 1200 };
	const size_t n = G_N_ELEMENTS(rr);
	struct rr_sample samples[G_N_ELEMENTS(rr)];
	int64_t t = 0;

	for (size_t i = 0; i < n; i++) {
		t += 1000;
		samples[i] = (struct rr_sample){ t, rr[i] };
	}
	for (size_t from = 0; from <= n; from++) {
		bool keep[G_N_ELEMENTS(rr)];
		struct hrv_clean_stats want_stats, stats;
		struct hrv_metrics want = { 0 }, m = { 0 };
		int want_err, err;

		hrv_clean(rr + from, n - from, keep, &want_stats);
		want_err = hrv_compute(rr + from, keep, n - from, &want);
		err = hrv_span(samples + from, n - from, &stats, &m);
		g_assert_cmpint(err, ==, want_err);
		g_assert_cmpmem(&stats, sizeof(stats), &want_stats,
				sizeof(want_stats));
		if (err == 0) {
			g_assert_cmpuint(m.count, ==, want.count);
			g_assert_cmpuint(m.diffs, ==, want.diffs);
			assert_metric(m.rmssd_ms, want.rmssd_ms);
			assert_metric(m.sdnn_ms, want.sdnn_ms);
			assert_metric(m.mean_hr_bpm, want.mean_hr_bpm);
		}
		g_assert_cmpint(hrv_span(samples + from, n - from, NULL, &m),
				==, want_err);
	}
}

/* --- hrv_night ------------------------------------------------------ */

#define NIGHT_START_MS	 INT64_C(1700000000000)
#define WINDOW_MAX_BEATS 500

/*
 * One letter per 5-minute window. Beats are stamped 500 ms into the window
 * plus the intervals before them, so each window holds exactly its beats.
 *   G  300 beats alternating 970/1030 ms (mean 1000, every |d| = 60 > 50):
 *      RMSSD 60, pNN50 100, SDNN 30 * sqrt(300/299) = 30.050125348238005
 *   A  G with every 4th beat an artefact of 1500 ms (Malik: 45 % above
 *      1030): 75 of 300 dropped, 75 % survive: not counted
 *   F  G with every 5th beat 1500: 60 dropped, exactly 80 % survive:
 *      counted. Kept beats still alternate 120/120 and every difference
 *      between adjacent kept ones is 60: SDNN 30 * sqrt(240/239)
 *   O  the strap on for 2 minutes: 120 beats of G, RR sum 120 s < 150 s:
 *      not counted although every beat survives
 *   H  150 beats of G: RR sum 150 s, exactly half: counted,
 *      SDNN 30 * sqrt(150/149)
 *   T  180 beats of G: the strap off for 2 of 5 minutes: counted,
 *      SDNN 30 * sqrt(180/179)
 *   P  160 beats of G in which every 10th pair is an ectopic beat and its
 *      compensatory pause, 600 + 1400 ms in the time of 970 + 1030: both
 *      dropped, 80 % survive. The 128 NNs cover 128 s, but the heart beat
 *      for 160 s and the window counts. SDNN 30 * sqrt(128/127)
 *   Q  500 beats alternating 570/630 (a faster heart): mean 600, RMSSD 60,
 *      pNN50 100, SDNN 30 * sqrt(500/499)
 *   E  no beat at all
 */
static size_t night_build(const char *pattern, struct rr_sample *out)
{
	size_t n = 0;

	for (size_t w = 0; pattern[w]; w++) {
		int64_t t = NIGHT_START_MS + (int64_t)w * HRV_WINDOW_MS + 500;
		double lo = 970, hi = 1030;
		size_t beats = 300;
		size_t artefact_every = 0;
		bool ectopic = false;

		switch (pattern[w]) {
		case 'G':
			break;
		case 'A':
			artefact_every = 4;
			break;
		case 'F':
			artefact_every = 5;
			break;
		case 'P':
			beats = 160;
			ectopic = true;
			break;
		case 'O':
			beats = 120;
			break;
		case 'H':
			beats = 150;
			break;
		case 'T':
			beats = 180;
			break;
		case 'Q':
			lo = 570;
			hi = 630;
			beats = 500;
			break;
		case 'E':
			beats = 0;
			break;
		default:
			g_assert_not_reached();
		}
		for (size_t i = 0; i < beats; i++) {
			double nominal = i % 2 ? hi : lo;
			bool artefact =
			    artefact_every &&
			    i % artefact_every == artefact_every - 1;

			out[n].t_ms = t;
			out[n].rr_ms = artefact ? 1500 : nominal;
			if (ectopic && i % 10 >= 8)
				out[n].rr_ms = i % 10 == 8 ? 600 : 1400;
			n++;
			/* An artefact is a mismeasured interval; the heart
			 * kept its rhythm. */
			t += (int64_t)nominal;
		}
	}
	return n;
}

static struct rr_sample *night_new(const char *pattern, size_t *ret_n)
{
	struct rr_sample *rr =
	    g_new0(struct rr_sample, strlen(pattern) * WINDOW_MAX_BEATS);

	*ret_n = night_build(pattern, rr);
	return rr;
}

#define SD30(n) (30.0 * sqrt((double)(n) / ((double)(n)-1.0)))

struct night_vector {
	const char *name;
	const char *pattern;
	int ret;
	int32_t windows, counted, beats, dropped;
	double sdnn_ms; /* RMSSD is 60 and pNN50 100 in every counted window */
};

static const struct night_vector night_vectors[] = {
	{ "/hrv/night/six-good", "GGGGGG", 0, 6, 6, 1800, 0,
	  30.050125348238005 },
	{ "/hrv/night/five-good", "GGGGG", -ENODATA, 5, 5, 1500, 0 },
	{ "/hrv/night/empty", "", -ENODATA, 0, 0, 0, 0 },
	{ "/hrv/night/artefacts-25pct", "GGGGGA", -ENODATA, 6, 5, 1800, 75 },
	{ "/hrv/night/artefacts-25pct-plus-good", "GGGAGGG", 0, 7, 6, 2100, 75,
	  30.050125348238005 },
	/* (5 * SD30(300) + SD30(240)) / 6 */
	{ "/hrv/night/artefacts-20pct", "GGGGGF", 0, 6, 6, 1800, 60,
	  (5 * 30.050125348238005 + 30.0626959931502) / 6 },
	{ "/hrv/night/ectopic-time-counts", "GGGGGP", 0, 6, 6, 1660, 32,
	  (5 * 30.050125348238005 + 30.117878646631613) / 6 },
	{ "/hrv/night/strap-off-3-of-5", "GGGGGO", -ENODATA, 6, 5, 1620, 0 },
	{ "/hrv/night/strap-off-half", "GGGGGH", 0, 6, 6, 1650, 0,
	  (5 * 30.050125348238005 + 30.1005027940793) / 6 },
	{ "/hrv/night/strap-off-2-of-5", "TGGGGG", 0, 6, 6, 1680, 0,
	  (5 * 30.050125348238005 + 30.083682170919403) / 6 },
	/* A window without beats is no window; the night goes on. */
	{ "/hrv/night/empty-window", "GGGEGGG", 0, 6, 6, 1800, 0,
	  30.050125348238005 },
	/* Cleaned across windows, the 570-630 ms beats would be the yardstick
	 * for the 970s (70 % away) and the next window would be lost. */
	{ "/hrv/night/each-window-cleaned-alone", "QGGGGGG", 0, 7, 7, 2300, 0,
	  (30.030045075131483 + 6 * 30.050125348238005) / 7 },
};

static void test_night(gconstpointer data)
{
	const struct night_vector *v = data;
	size_t n;
	g_autofree struct rr_sample *rr = night_new(v->pattern, &n);
	int64_t end_ms =
	    NIGHT_START_MS + (int64_t)strlen(v->pattern) * HRV_WINDOW_MS;
	struct hrv_night night;

	memset(&night, 0xa5, sizeof(night));
	g_assert_cmpint(hrv_night(rr, n, NIGHT_START_MS, end_ms, &night), ==,
			v->ret);
	g_assert_cmpint(night.windows, ==, v->windows);
	g_assert_cmpint(night.counted, ==, v->counted);
	g_assert_cmpint(night.beats, ==, v->beats);
	g_assert_cmpint(night.dropped, ==, v->dropped);
	if (v->ret < 0) {
		g_assert_false(metric_present(night.rmssd_ms));
		g_assert_false(metric_present(night.ln_rmssd));
		g_assert_false(metric_present(night.sdnn_ms));
		g_assert_false(metric_present(night.pnn50_pct));
		return;
	}
	g_assert_cmpfloat_with_epsilon(night.rmssd_ms, 60.0, EPS);
	/* ln 60 = 4.0943445622221 */
	g_assert_cmpfloat_with_epsilon(night.ln_rmssd, 4.0943445622221, 1e-12);
	g_assert_cmpfloat_with_epsilon(night.pnn50_pct, 100.0, EPS);
	g_assert_cmpfloat_with_epsilon(night.sdnn_ms, v->sdnn_ms, EPS);
}

/* The hand-worked SDs used above, so a typo in a table shows. */
static void test_night_sd_values(void)
{
	g_assert_cmpfloat_with_epsilon(SD30(300), 30.050125348238005, 1e-12);
	g_assert_cmpfloat_with_epsilon(SD30(240), 30.0626959931502, 1e-12);
	g_assert_cmpfloat_with_epsilon(SD30(150), 30.1005027940793, 1e-12);
	g_assert_cmpfloat_with_epsilon(SD30(180), 30.083682170919403, 1e-12);
	g_assert_cmpfloat_with_epsilon(SD30(500), 30.030045075131483, 1e-12);
	g_assert_cmpfloat_with_epsilon(SD30(128), 30.117878646631613, 1e-12);
}

/* [start, end): a beat one millisecond early or exactly at the end is out,
 * and the windows are counted from start. */
static void test_night_bounds(void)
{
	size_t n;
	g_autofree struct rr_sample *rr = night_new("GGGGGG", &n);
	g_autofree struct rr_sample *all = g_new0(struct rr_sample, n + 2);
	int64_t end_ms = NIGHT_START_MS + 6 * HRV_WINDOW_MS;
	struct hrv_night night;

	/* Both would be dropped by Malik (1500 vs 970-1030) if looked at. */
	all[0] = (struct rr_sample){ NIGHT_START_MS - 1, 1500 };
	memcpy(all + 1, rr, n * sizeof(*rr));
	all[n + 1] = (struct rr_sample){ end_ms, 1500 };
	g_assert_cmpint(hrv_night(all, n + 2, NIGHT_START_MS, end_ms, &night),
			==, 0);
	g_assert_cmpint(night.beats, ==, 1800);
	g_assert_cmpint(night.dropped, ==, 0);
	g_assert_cmpint(night.windows, ==, 6);

	/* Starting a window later drops the first window's beats. */
	g_assert_cmpint(hrv_night(all, n + 2, NIGHT_START_MS + HRV_WINDOW_MS,
				  end_ms, &night),
			==, -ENODATA);
	g_assert_cmpint(night.windows, ==, 5);
	g_assert_cmpint(night.beats, ==, 1500);
}

/* A last window cut short by the end of the sleep is judged against the
 * full 5 minutes: 2.4 minutes of good beats (144 s of RR) do not count. */
static void test_night_short_last_window(void)
{
	size_t n;
	g_autofree struct rr_sample *rr = night_new("GGGGGGG", &n);
	int64_t end_ms = NIGHT_START_MS + 6 * HRV_WINDOW_MS + 144000;
	struct hrv_night night;

	g_assert_cmpint(hrv_night(rr, n, NIGHT_START_MS, end_ms, &night), ==,
			0);
	g_assert_cmpint(night.windows, ==, 7);
	g_assert_cmpint(night.counted, ==, 6);
	/* Stamps 500 + k * 1000 ms (pairs of 2000) below 144000: k <= 143. */
	g_assert_cmpint(night.beats, ==, 1800 + 144);
}

static void test_night_unsorted(void)
{
	size_t n;
	g_autofree struct rr_sample *rr = night_new("GGGGGG", &n);
	struct hrv_night night;
	struct rr_sample tmp = rr[100];

	rr[100] = rr[101];
	rr[101] = tmp;
	memset(&night, 0xa5, sizeof(night));
	g_assert_cmpint(hrv_night(rr, n, NIGHT_START_MS,
				  NIGHT_START_MS + 6 * HRV_WINDOW_MS, &night),
			==, -EINVAL);
	/* Filled as an empty night: a caller ignoring the error is safe. */
	g_assert_cmpint(night.windows, ==, 0);
	g_assert_cmpint(night.counted, ==, 0);
	g_assert_cmpint(night.beats, ==, 0);
	g_assert_cmpint(night.dropped, ==, 0);
	g_assert_false(metric_present(night.rmssd_ms));
	g_assert_false(metric_present(night.ln_rmssd));
	g_assert_false(metric_present(night.sdnn_ms));
	g_assert_false(metric_present(night.pnn50_pct));
}

/* A whole 8-hour night: 96 windows, 28,800 beats, streamed. */
static void test_night_whole(void)
{
	char pattern[97];
	size_t n;
	g_autofree struct rr_sample *rr = NULL;
	struct hrv_night night;

	memset(pattern, 'G', 96);
	pattern[96] = '\0';
	rr = night_new(pattern, &n);
	g_assert_cmpuint(n, ==, 28800);
	g_assert_cmpint(hrv_night(rr, n, NIGHT_START_MS,
				  NIGHT_START_MS + 96 * HRV_WINDOW_MS, &night),
			==, 0);
	g_assert_cmpint(night.counted, ==, 96);
	g_assert_cmpfloat_with_epsilon(night.rmssd_ms, 60.0, EPS);
	g_assert_cmpfloat_with_epsilon(night.sdnn_ms, 30.050125348238005, EPS);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(clean_vectors); i++)
		g_test_add_data_func(clean_vectors[i].name, &clean_vectors[i],
				     test_clean);
	for (size_t i = 0; i < G_N_ELEMENTS(compute_vectors); i++)
		g_test_add_data_func(compute_vectors[i].name,
				     &compute_vectors[i], test_compute);
	g_test_add_func("/hrv/compute/after-clean", test_clean_then_compute);
	g_test_add_func("/hrv/span/as-clean-then-compute", test_span);
	for (size_t i = 0; i < G_N_ELEMENTS(night_vectors); i++)
		g_test_add_data_func(night_vectors[i].name, &night_vectors[i],
				     test_night);
	g_test_add_func("/hrv/night/sd-values", test_night_sd_values);
	g_test_add_func("/hrv/night/bounds", test_night_bounds);
	g_test_add_func("/hrv/night/short-last-window",
			test_night_short_last_window);
	g_test_add_func("/hrv/night/unsorted", test_night_unsorted);
	g_test_add_func("/hrv/night/whole", test_night_whole);
	return g_test_run();
}
