// SPDX-License-Identifier: MIT
/*
 * The morning spot check (spot.h): which sessions are spot checks, the 30 s
 * settling, the 60-180 s window and its 80 % rule, the later clean session,
 * live progress (and a session followed as it happens), the day's HRV
 * source and the spot baseline.
 *
 * Sessions are generated here. A session alternates RR of 1000 - swing and
 * 1000 + swing ms, its first beat stamped at its start: every pair sums to
 * 2000 ms, so beat k (even) is stamped exactly k seconds after the start,
 * and every successive difference is 2 * swing, which is then the RMSSD.
 * An artefact is a beat of 400 ms: more than 20 % from either neighbour,
 * so Malik's rule drops it and nothing else.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "gateway/engine/hrv.h"
#include "gateway/engine/spot.h"

#define EPS 1e-9
/* 2026-03-04T06:00:00Z, the wake time of every case. */
#define WAKE	  INT64_C(1772604000000)
#define S(x)	  ((int64_t)(x)*1000)
#define MAX_BEATS 8192
#define ARTEFACT  400.0

struct noise {
	int32_t from_s; /* stamps in [from_s, to_s) after the start */
	int32_t to_s;
	int every; /* beats with k % every == phase; 0: none */
	int phase;
};

struct session_spec {
	int64_t start_ms; /* from WAKE */
	int32_t dur_s;	  /* last stamp at most this long after the start */
	double swing_ms;  /* 0: 50, an RMSSD of 100 */
	struct noise noise;
};

struct beats {
	struct rr_sample rr[MAX_BEATS];
	size_t n;
	struct hr_sample hr[MAX_BEATS];
	size_t hr_n;
};

static double swing_of(const struct session_spec *s)
{
	return s->swing_ms > 0 ? s->swing_ms : 50.0;
}

static bool is_artefact(const struct noise *noise, size_t k, int64_t off_ms)
{
	return noise->every > 0 &&
	       (int)(k % (size_t)noise->every) == noise->phase &&
	       off_ms >= S(noise->from_s) && off_ms < S(noise->to_s);
}

static void add_session(struct beats *b, const struct session_spec *s,
			double hr_bpm)
{
	int64_t start = WAKE + s->start_ms;
	int64_t t = start;
	double swing = swing_of(s);

	for (size_t k = 0;; k++) {
		double rr = k % 2 ? 1000.0 + swing : 1000.0 - swing;

		if (k > 0)
			t += (int64_t)rr;
		if (t - start > S(s->dur_s))
			break;
		g_assert_cmpuint(b->n, <, MAX_BEATS);
		b->rr[b->n].t_ms = t;
		b->rr[b->n].rr_ms =
		    is_artefact(&s->noise, k, t - start) ? ARTEFACT : rr;
		b->n++;
	}
	for (int64_t h = start; hr_bpm > 0 && h <= start + S(s->dur_s);
	     h += 1000) {
		g_assert_cmpuint(b->hr_n, <, MAX_BEATS);
		b->hr[b->hr_n].t_ms = h;
		b->hr[b->hr_n].bpm = hr_bpm;
		b->hr_n++;
	}
}

/* --- spot_find ------------------------------------------------------ */

#define NO_NIGHT INT64_MIN

struct find_case {
	const char *name;
	int64_t night_end_ms; /* from WAKE; NO_NIGHT */
	struct session_spec s[3];
	double hr_bpm; /* HR samples each second; 0: none */
	enum spot_status status;
	int32_t sessions;
	int reported;	   /* index of the session reported */
	double rmssd_ms;   /* when ok */
	int32_t beats;	   /* 0: not checked */
	int32_t kept;	   /* likewise */
	int64_t window_ms; /* window_end - window_start; 0: not checked */
	int first_attempt; /* index + 1 of the first attempt; 0: reported */
};

/* A plain 5-minute session ten minutes after waking. */
#define FIVE_MIN(start)                                                        \
	{                                                                      \
		.start_ms = (start), .dur_s = 300                              \
	}

static const struct find_case find_cases[] = {
	/* Window beats are stamped 30..210 s: 181 of them, 180 s. */
	{ "/spot/window/ok",
	  NO_NIGHT,
	  { FIVE_MIN(S(600)) },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100,
	  181,
	  181,
	  S(180) },
	{ "/spot/window/hr-samples",
	  NO_NIGHT,
	  { FIVE_MIN(S(600)) },
	  57.5,
	  SPOT_OK,
	  1,
	  0,
	  100,
	  181,
	  181,
	  S(180) },
	/* 90 s: the last beat at 90 s, 60 s after settling; 61 beats. */
	{ "/spot/window/min-60s",
	  NO_NIGHT,
	  { { S(600), 90 } },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100,
	  61,
	  61,
	  S(60) },
	/* 89 s: the last beat at 88 s, 58 s after settling (59 beats). */
	{ "/spot/window/too-short",
	  NO_NIGHT,
	  { { S(600), 89 } },
	  0,
	  SPOT_TOO_SHORT,
	  1,
	  0,
	  0,
	  59,
	  59,
	  S(58) },
	/* Shorter than the settling: nothing left at all. */
	{ "/spot/window/settling-only",
	  NO_NIGHT,
	  { { S(600), 25 } },
	  0,
	  SPOT_TOO_SHORT,
	  1,
	  0,
	  0,
	  0,
	  0,
	  0 },
	/* Past 210 s every other beat is an artefact: not analysed. */
	{ "/spot/window/max-180s",
	  NO_NIGHT,
	  { { S(600), 540, 0, { 211, 600, 2, 1 } } },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100,
	  181,
	  181,
	  S(180) },
	/* Every other beat of the first 30 s is an artefact: dropped. */
	{ "/spot/window/settle-drop",
	  NO_NIGHT,
	  { { S(600), 300, 0, { 0, 30, 2, 1 } } },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100,
	  181,
	  181,
	  S(180) },
	/* k % 4 == 1 for k in 33..209: 45 of 181 dropped, 75.1 % kept. */
	{ "/spot/window/too-noisy",
	  NO_NIGHT,
	  { { S(600), 300, 0, { 0, 600, 4, 1 } } },
	  0,
	  SPOT_TOO_NOISY,
	  1,
	  0,
	  0,
	  181,
	  136,
	  S(180) },
	/* k % 6 == 3 for k in 33..207: 30 of 181 dropped, 83.4 % kept; the
	 * neighbours of a dropped beat make no difference, the rest 100. */
	{ "/spot/window/noisy-enough",
	  NO_NIGHT,
	  { { S(600), 300, 0, { 0, 600, 6, 3 } } },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100,
	  181,
	  151,
	  S(180) },
	/* Two clean sessions: the later (RMSSD 80) counts. */
	{ "/spot/morning/two-sessions-later-counts",
	  NO_NIGHT,
	  { FIVE_MIN(S(300)), { S(1200), 300, 40 } },
	  0,
	  SPOT_OK,
	  2,
	  1,
	  80,
	  0,
	  0,
	  0,
	  1 },
	/* A clean one, then a noisy one: the later *clean* one counts. */
	{ "/spot/morning/later-noisy-earlier-clean",
	  NO_NIGHT,
	  { FIVE_MIN(S(300)), { S(1200), 300, 40, { 0, 600, 4, 1 } } },
	  0,
	  SPOT_OK,
	  2,
	  0,
	  100 },
	/* Nothing clean: the last attempt's verdict. */
	{ "/spot/morning/none-clean-last-reported",
	  NO_NIGHT,
	  { { S(300), 60 }, { S(1200), 300, 0, { 0, 600, 4, 1 } } },
	  0,
	  SPOT_TOO_NOISY,
	  2,
	  1,
	  0,
	  0,
	  0,
	  0,
	  1 },
	{ "/spot/morning/too-short-after-noisy",
	  NO_NIGHT,
	  { { S(300), 300, 0, { 0, 600, 4, 1 } }, { S(1200), 60 } },
	  0,
	  SPOT_TOO_SHORT,
	  2,
	  1,
	  0,
	  0,
	  0,
	  0,
	  1 },
	/* The night ended at wake: a session 20 minutes before is the
	 * night's, not a spot check. */
	{ "/spot/night/during-night",
	  0,
	  { FIVE_MIN(-S(1200)) },
	  0,
	  SPOT_NONE,
	  0,
	  -1 },
	/* The overnight strap kept on into the morning: it started in the
	 * night, so it is no spot check (and too long for one anyway). */
	{ "/spot/night/strap-kept-on",
	  0,
	  { { -S(3600), 3900 } },
	  0,
	  SPOT_NONE,
	  0,
	  -1 },
	/* ... nor when it started just before the end of the night. */
	{ "/spot/night/starts-before-end",
	  S(60),
	  { FIVE_MIN(S(59)) },
	  0,
	  SPOT_NONE,
	  0,
	  -1 },
	{ "/spot/night/starts-at-end",
	  S(60),
	  { FIVE_MIN(S(60)) },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100 },
	/* Up early: the night ended an hour and a half before the usual wake
	 * time, and the spot check came right after. */
	{ "/spot/night/early-wake",
	  -S(5400),
	  { FIVE_MIN(-S(5000)) },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100 },
	/* With a night, a session up to 3 h after the later of waking and the
	 * usual wake time. */
	{ "/spot/night/late-morning",
	  -S(600),
	  { FIVE_MIN(S(10799)) },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100 },
	{ "/spot/night/afternoon",
	  -S(600),
	  { FIVE_MIN(S(10800)) },
	  0,
	  SPOT_NONE,
	  0,
	  -1 },
	{ "/spot/night/slept-in",
	  S(7200),
	  { FIVE_MIN(S(7200 + 10799)) },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100 },
	/* No night: wake - 1 h (included) to wake + 3 h (excluded). */
	{ "/spot/no-night/before-window",
	  NO_NIGHT,
	  { FIVE_MIN(-S(3601)) },
	  0,
	  SPOT_NONE,
	  0,
	  -1 },
	{ "/spot/no-night/window-start",
	  NO_NIGHT,
	  { FIVE_MIN(-S(3600)) },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100 },
	{ "/spot/no-night/window-end-inside",
	  NO_NIGHT,
	  { FIVE_MIN(S(10799)) },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100 },
	{ "/spot/no-night/window-end",
	  NO_NIGHT,
	  { FIVE_MIN(S(10800)) },
	  0,
	  SPOT_NONE,
	  0,
	  -1 },
	/* 1-10 minutes: a longer session is training or a nap. */
	{ "/spot/session/ten-minutes",
	  NO_NIGHT,
	  { { S(600), 600 } },
	  0,
	  SPOT_OK,
	  1,
	  0,
	  100 },
	{ "/spot/session/too-long",
	  NO_NIGHT,
	  { { S(600), 602 } },
	  0,
	  SPOT_NONE,
	  0,
	  -1 },
	/* The first session ends at 180 s; the next beat 20 s later is the
	 * same session, 20.001 s later another. */
	{ "/spot/session/gap-20s-joins",
	  NO_NIGHT,
	  { { S(600), 180 }, { S(600 + 180 + 20), 180 } },
	  0,
	  SPOT_OK,
	  1,
	  0 },
	{ "/spot/session/gap-over-20s-splits",
	  NO_NIGHT,
	  { { S(600), 180 }, { S(600 + 180 + 20) + 1, 180 } },
	  0,
	  SPOT_OK,
	  2,
	  1,
	  100,
	  0,
	  0,
	  0,
	  1 },
	/* A brief strap contact before the real measurement. */
	{ "/spot/session/blip-then-measurement",
	  NO_NIGHT,
	  { { S(600), 4 }, FIVE_MIN(S(700)) },
	  0,
	  SPOT_OK,
	  2,
	  1,
	  100,
	  0,
	  0,
	  0,
	  1 },
	{ "/spot/none/no-beats", NO_NIGHT, { { 0 } }, 0, SPOT_NONE, 0, -1 },
};

static void test_find(gconstpointer data)
{
	const struct find_case *c = data;
	g_autofree struct beats *b = g_new0(struct beats, 1);
	struct spot_input in = { .wake_ms = WAKE };
	struct spot_result r;

	for (size_t i = 0; i < G_N_ELEMENTS(c->s); i++)
		if (c->s[i].dur_s > 0)
			add_session(b, &c->s[i], c->hr_bpm);
	in.rr = b->rr;
	in.rr_count = b->n;
	in.hr = b->hr;
	in.hr_count = b->hr_n;
	in.night_end_ms =
	    c->night_end_ms == NO_NIGHT ? 0 : WAKE + c->night_end_ms;

	g_assert_cmpint(spot_find(&in, &r), ==, 0);
	g_test_message("%s: %s, %d sessions, %d/%d beats, rmssd %.3f", c->name,
		       spot_status_name(r.status), r.sessions, r.kept, r.beats,
		       r.rmssd_ms);
	g_assert_cmpint(r.status, ==, c->status);
	g_assert_cmpint(r.sessions, ==, c->sessions);
	g_assert_cmpint(r.found, ==, c->status != SPOT_NONE);
	if (c->reported >= 0)
		g_assert_cmpint(r.start_ms, ==,
				WAKE + c->s[c->reported].start_ms);
	else
		g_assert_cmpint(r.start_ms, ==, 0);
	if (c->first_attempt)
		g_assert_cmpint(r.first_start_ms, ==,
				WAKE + c->s[c->first_attempt - 1].start_ms);
	else
		g_assert_cmpint(r.first_start_ms, ==, r.start_ms);
	if (c->beats) {
		g_assert_cmpint(r.beats, ==, c->beats);
		g_assert_cmpint(r.kept, ==, c->kept);
	}
	if (c->window_ms) {
		g_assert_cmpint(r.window_start_ms, ==, r.start_ms + S(30));
		g_assert_cmpint(r.window_end_ms - r.window_start_ms, ==,
				c->window_ms);
	}
	if (c->status != SPOT_OK) {
		g_assert_true(isnan(r.rmssd_ms));
		g_assert_true(isnan(r.ln_rmssd));
		g_assert_true(isnan(r.mean_hr_bpm));
		return;
	}
	if (c->rmssd_ms > 0) {
		g_assert_cmpfloat_with_epsilon(r.rmssd_ms, c->rmssd_ms, EPS);
		g_assert_cmpfloat_with_epsilon(r.ln_rmssd, log(c->rmssd_ms),
					       EPS);
	}
	if (c->hr_bpm > 0) {
		g_assert_cmpfloat_with_epsilon(r.mean_hr_bpm, c->hr_bpm, EPS);
	} else {
		/* 60000 / mean NN; the window's NN average about 1000 ms. */
		g_assert_cmpfloat(r.mean_hr_bpm, >, 59.0);
		g_assert_cmpfloat(r.mean_hr_bpm, <, 61.0);
	}
}

static void test_find_unsorted(void)
{
	const struct rr_sample rr[] = {
		{ WAKE + 1000, 1000 },
		{ WAKE, 1000 },
	};
	struct spot_input in = { .rr = rr, .rr_count = 2, .wake_ms = WAKE };
	struct spot_result r;

	g_assert_cmpint(spot_find(&in, &r), ==, -EINVAL);
	g_assert_cmpint(r.status, ==, SPOT_NONE);
	g_assert_false(r.found);
	g_assert_true(isnan(r.rmssd_ms));
}

/* Times at the ends of int64_t must not overflow (UBSan checks). */
static void test_find_extreme_times(void)
{
	const struct rr_sample rr[] = {
		{ INT64_MIN, 1000 },
		{ INT64_MIN + 1000, 1000 },
		{ INT64_MAX - 1000, 1000 },
		{ INT64_MAX, 1000 },
	};
	struct spot_input in = { .rr = rr, .rr_count = 4, .wake_ms = 0 };
	struct spot_result r;
	struct spot_progress p;

	g_assert_cmpint(spot_find(&in, &r), ==, 0);
	in.wake_ms = INT64_MAX;
	g_assert_cmpint(spot_find(&in, &r), ==, 0);
	in.night_end_ms = INT64_MIN;
	g_assert_cmpint(spot_find(&in, &r), ==, 0);
	g_assert_cmpint(spot_progress(rr, 4, INT64_MIN, &p), ==, 0);
	g_assert_cmpint(spot_progress(rr, 4, INT64_MAX, &p), ==, 0);
	g_assert_cmpint(spot_progress(rr, 2, INT64_MAX, &p), ==, 0);
	g_assert_true(p.stopped);
}

static void test_status_names(void)
{
	g_assert_cmpstr(spot_status_name(SPOT_NONE), ==, "none");
	g_assert_cmpstr(spot_status_name(SPOT_TOO_SHORT), ==, "too-short");
	g_assert_cmpstr(spot_status_name(SPOT_TOO_NOISY), ==, "too-noisy");
	g_assert_cmpstr(spot_status_name(SPOT_OK), ==, "ok");
	g_assert_cmpstr(spot_status_reason(SPOT_TOO_NOISY), ==,
			"spot check too noisy: lie still for 3 minutes and "
			"try again");
	g_assert_nonnull(strstr(spot_status_reason(SPOT_TOO_SHORT), "short"));
	g_assert_cmpstr(spot_phase_name(SPOT_PHASE_SETTLING), ==, "settling");
	g_assert_cmpstr(spot_phase_name(SPOT_PHASE_MEASURING), ==, "measuring");
	g_assert_cmpstr(spot_phase_name(SPOT_PHASE_DONE), ==, "done");
	g_assert_cmpstr(spot_phase_name(SPOT_PHASE_TOO_NOISY), ==, "too-noisy");
	g_assert_cmpstr(spot_phase_name(SPOT_PHASE_TOO_SHORT), ==, "too-short");
	g_assert_cmpstr(hrv_source_name(HRV_SOURCE_NIGHT), ==, "night");
	g_assert_cmpstr(hrv_source_name(HRV_SOURCE_SPOT), ==, "spot");
	g_assert_cmpstr(hrv_source_name(HRV_SOURCE_NONE), ==, "none");
}

/* --- spot_progress --------------------------------------------------- */

struct progress_case {
	const char *name;
	struct session_spec s[2];
	int32_t now_s; /* after the last session's start */
	enum spot_phase phase;
	bool stopped;
	int32_t measured_s;
	int32_t elapsed_s;
};

static const struct progress_case progress_cases[] = {
	{ "/spot/progress/settling",
	  { { 0, 20 } },
	  20,
	  SPOT_PHASE_SETTLING,
	  false,
	  0,
	  20 },
	{ "/spot/progress/settling-last-second",
	  { { 0, 28 } },
	  29,
	  SPOT_PHASE_SETTLING,
	  false,
	  0,
	  29 },
	{ "/spot/progress/measuring",
	  { { 0, 100 } },
	  100,
	  SPOT_PHASE_MEASURING,
	  false,
	  70,
	  100 },
	/* The clock runs on between beats. */
	{ "/spot/progress/measuring-between-beats",
	  { { 0, 100 } },
	  101,
	  SPOT_PHASE_MEASURING,
	  false,
	  71,
	  101 },
	{ "/spot/progress/done",
	  { { 0, 212 } },
	  212,
	  SPOT_PHASE_DONE,
	  false,
	  180,
	  212 },
	{ "/spot/progress/done-at-210s",
	  { { 0, 210 } },
	  210,
	  SPOT_PHASE_DONE,
	  false,
	  180,
	  210 },
	/* The strap came off after 120 s: 90 s measured, enough. */
	{ "/spot/progress/done-stopped",
	  { { 0, 120 } },
	  141,
	  SPOT_PHASE_DONE,
	  true,
	  90,
	  120 },
	/* ... but not yet stopped 20 s after the last beat. */
	{ "/spot/progress/not-yet-stopped",
	  { { 0, 120 } },
	  140,
	  SPOT_PHASE_MEASURING,
	  false,
	  110,
	  140 },
	{ "/spot/progress/too-short-stopped",
	  { { 0, 70 } },
	  91,
	  SPOT_PHASE_TOO_SHORT,
	  true,
	  40,
	  70 },
	/* Noise is judged once 30 s are measured. */
	{ "/spot/progress/noise-not-yet-judged",
	  { { 0, 58, 0, { 0, 600, 4, 1 } } },
	  58,
	  SPOT_PHASE_MEASURING,
	  false,
	  28,
	  58 },
	{ "/spot/progress/too-noisy-live",
	  { { 0, 80, 0, { 0, 600, 4, 1 } } },
	  80,
	  SPOT_PHASE_TOO_NOISY,
	  false,
	  50,
	  80 },
	{ "/spot/progress/too-noisy-final",
	  { { 0, 212, 0, { 0, 600, 4, 1 } } },
	  212,
	  SPOT_PHASE_TOO_NOISY,
	  false,
	  180,
	  212 },
	/* Noise only in the settling does not count. */
	{ "/spot/progress/noisy-settling",
	  { { 0, 100, 0, { 0, 30, 2, 1 } } },
	  100,
	  SPOT_PHASE_MEASURING,
	  false,
	  70,
	  100 },
	/* An earlier session, off for 30 s, then a new one: the new one. */
	{ "/spot/progress/last-run",
	  { { 0, 200 }, { S(230), 10 } },
	  10,
	  SPOT_PHASE_SETTLING,
	  false,
	  0,
	  10 },
};

static void test_progress(gconstpointer data)
{
	const struct progress_case *c = data;
	g_autofree struct beats *b = g_new0(struct beats, 1);
	const struct session_spec *last = &c->s[0];
	struct spot_progress p;

	for (size_t i = 0; i < G_N_ELEMENTS(c->s); i++) {
		if (c->s[i].dur_s > 0) {
			add_session(b, &c->s[i], 0);
			last = &c->s[i];
		}
	}
	g_assert_cmpint(
	    spot_progress(b->rr, b->n, WAKE + last->start_ms + S(c->now_s), &p),
	    ==, 0);
	g_test_message("%s: %s %d s (%d s), %d/%d", c->name,
		       spot_phase_name(p.phase), p.measured_s, p.elapsed_s,
		       p.kept, p.beats);
	g_assert_cmpint(p.phase, ==, c->phase);
	g_assert_cmpint(p.stopped, ==, c->stopped);
	g_assert_cmpint(p.measured_s, ==, c->measured_s);
	g_assert_cmpint(p.elapsed_s, ==, c->elapsed_s);
	if (p.phase == SPOT_PHASE_DONE) {
		g_assert_cmpfloat_with_epsilon(p.rmssd_ms, 100, EPS);
		g_assert_cmpfloat_with_epsilon(p.ln_rmssd, log(100), EPS);
		g_assert_true(p.mean_hr_bpm > 59 && p.mean_hr_bpm < 61);
	} else {
		g_assert_true(isnan(p.rmssd_ms));
	}
}

/*
 * A final progress word and the morning's verdict on the same beats agree,
 * whatever the session's length and noise.
 */
static void test_progress_agrees(void)
{
	static const struct noise noises[] = {
		{ 0 },
		{ 0, 600, 4, 1 },
		{ 0, 600, 6, 3 },
		{ 0, 30, 2, 1 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(noises); i++) {
		for (int32_t dur = 20; dur <= 300; dur += 7) {
			g_autofree struct beats *b = g_new0(struct beats, 1);
			const struct session_spec s = { S(600), dur, 0,
							noises[i] };
			struct spot_input in = { .wake_ms = WAKE };
			struct spot_progress p;
			struct spot_result r;
			enum spot_phase want;

			add_session(b, &s, 0);
			in.rr = b->rr;
			in.rr_count = b->n;
			g_assert_cmpint(spot_find(&in, &r), ==, 0);
			/* Stopped: the last beat 21 s ago. */
			g_assert_cmpint(
			    spot_progress(b->rr, b->n,
					  b->rr[b->n - 1].t_ms + S(21), &p),
			    ==, 0);
			g_assert_true(p.stopped);
			want = r.status == SPOT_OK ? SPOT_PHASE_DONE
			       : r.status == SPOT_TOO_NOISY
				   ? SPOT_PHASE_TOO_NOISY
				   : SPOT_PHASE_TOO_SHORT;
			g_assert_cmpint(p.phase, ==, want);
			g_assert_cmpint(p.beats, ==, r.beats);
			g_assert_cmpint(p.kept, ==, r.kept);
			if (r.status == SPOT_OK)
				g_assert_cmpfloat(p.rmssd_ms, ==, r.rmssd_ms);
		}
	}
}

static void test_progress_errors(void)
{
	const struct rr_sample rr[] = {
		{ WAKE + 1000, 1000 },
		{ WAKE, 1000 },
	};
	struct spot_progress p = { .elapsed_s = 7 };

	g_assert_cmpint(spot_progress(rr, 0, WAKE, &p), ==, -ENODATA);
	g_assert_cmpint(spot_progress(rr, 2, WAKE, &p), ==, -EINVAL);
	g_assert_cmpint(p.elapsed_s, ==, 7);
}

/* --- the day's HRV source -------------------------------------------- */

struct source_case {
	const char *name;
	bool night;
	int32_t windows;
	double night_rmssd;
	bool spot;
	enum spot_status spot_status;
	enum hrv_source source;
	double rmssd;
};

static const struct source_case source_cases[] = {
	{ "/spot/source/night-6-windows", true, 6, 40, true, SPOT_OK,
	  HRV_SOURCE_NIGHT, 40 },
	{ "/spot/source/night-5-windows-spot", true, 5, 40, true, SPOT_OK,
	  HRV_SOURCE_SPOT, 55 },
	{ "/spot/source/night-without-value", true, 8, NAN, true, SPOT_OK,
	  HRV_SOURCE_SPOT, 55 },
	{ "/spot/source/no-night-spot", false, 0, 0, true, SPOT_OK,
	  HRV_SOURCE_SPOT, 55 },
	{ "/spot/source/spot-noisy", true, 5, 40, true, SPOT_TOO_NOISY,
	  HRV_SOURCE_NONE, NAN },
	{ "/spot/source/spot-too-short", false, 0, 0, true, SPOT_TOO_SHORT,
	  HRV_SOURCE_NONE, NAN },
	{ "/spot/source/nothing", false, 0, 0, false, SPOT_NONE,
	  HRV_SOURCE_NONE, NAN },
	{ "/spot/source/night-only", true, 9, 33, false, SPOT_NONE,
	  HRV_SOURCE_NIGHT, 33 },
};

static void test_source(gconstpointer data)
{
	const struct source_case *c = data;
	struct night_metrics night = night_metrics_empty(20000);
	struct spot_result spot = {
		.status = c->spot_status,
		.found = c->spot_status != SPOT_NONE,
		.rmssd_ms = c->spot_status == SPOT_OK ? 55 : NAN,
		.ln_rmssd = c->spot_status == SPOT_OK ? log(55) : NAN,
		.mean_hr_bpm = NAN,
	};
	struct spot_day_hrv d;

	night.hrv_windows = c->windows;
	night.rmssd_ms = c->night_rmssd;
	night.ln_rmssd = log(c->night_rmssd);
	g_assert_cmpint(
	    spot_day_hrv(c->night ? &night : NULL, c->spot ? &spot : NULL, &d),
	    ==, c->source);
	g_assert_cmpint(d.source, ==, c->source);
	if (isnan(c->rmssd)) {
		g_assert_true(isnan(d.rmssd_ms));
		g_assert_true(isnan(d.ln_rmssd));
	} else {
		g_assert_cmpfloat_with_epsilon(d.rmssd_ms, c->rmssd, EPS);
		g_assert_cmpfloat_with_epsilon(d.ln_rmssd, log(c->rmssd), EPS);
	}
	g_assert_cmpint(spot_day_hrv(c->night ? &night : NULL,
				     c->spot ? &spot : NULL, NULL),
			==, c->source);
}

/* --- the spot baseline ------------------------------------------------ */

#define D 20500 /* the day scored */

static void test_baseline_empty(void)
{
	struct spot_baseline b;

	spot_baseline(NULL, 0, D, &b);
	g_assert_cmpint(b.count, ==, 0);
	g_assert_true(isnan(b.ln_rmssd_mean));
	g_assert_true(isnan(b.ln_rmssd_sd));
	g_assert_cmpint(b.week_count, ==, 0);
	g_assert_true(isnan(b.ln_rmssd_7d));
}

/* One earlier value: its mean, and the floor as its SD. */
static void test_baseline_one(void)
{
	const struct spot_value v[] = { { D - 3, 4.0 } };
	struct spot_baseline b;

	spot_baseline(v, G_N_ELEMENTS(v), D, &b);
	g_assert_cmpint(b.count, ==, 1);
	g_assert_cmpfloat_with_epsilon(b.ln_rmssd_mean, 4.0, EPS);
	g_assert_cmpfloat_with_epsilon(b.ln_rmssd_sd, 0.05, EPS);
	g_assert_cmpint(b.week_count, ==, 1);
	g_assert_true(isnan(b.ln_rmssd_7d));
}

/*
 * Days D-61 (too old), D-60, D-30 twice (the later entry counts), D-5,
 * D-2 (none), D-1 and D (today: the week, not the baseline), D+1 (later).
 * Baseline: 3.0, 3.4, 3.6, 4.0: mean 3.5, deviations -.5 -.1 .1 .5, sum of
 * squares .52, SD sqrt(.52 / 3) = 0.416333. Week: D-5, D-1, D = 3.6, 4.0,
 * 4.4: mean 4.0.
 */
static void test_baseline_window(void)
{
	const struct spot_value v[] = {
		{ D - 61, 9.0 }, { D - 60, 3.0 }, { D - 30, 1.0 },
		{ D - 30, 3.4 }, { D - 5, 3.6 },  { D - 2, NAN },
		{ D - 1, 4.0 },	 { D, 4.4 },	  { D + 1, 9.0 },
	};
	struct spot_baseline b;

	spot_baseline(v, G_N_ELEMENTS(v), D, &b);
	g_assert_cmpint(b.count, ==, 4);
	g_assert_cmpfloat_with_epsilon(b.ln_rmssd_mean, 3.5, EPS);
	g_assert_cmpfloat_with_epsilon(b.ln_rmssd_sd, sqrt(0.52 / 3), EPS);
	g_assert_cmpint(b.week_count, ==, 3);
	g_assert_cmpfloat_with_epsilon(b.ln_rmssd_7d, 4.0, EPS);
}

/* A very steady person: the SD is floored at 0.05. */
static void test_baseline_floor(void)
{
	struct spot_value v[10];
	struct spot_baseline b;

	for (int i = 0; i < 10; i++)
		v[i] = (struct spot_value){ D - 10 + i, 4.0 + 0.001 * (i % 2) };
	spot_baseline(v, G_N_ELEMENTS(v), D, &b);
	g_assert_cmpint(b.count, ==, 10);
	g_assert_cmpfloat_with_epsilon(b.ln_rmssd_sd, 0.05, EPS);
}

/* --- accuracy --------------------------------------------------------- */

/*
 * An independent computation of what the spot check should give for one
 * session of stamped beats: written out plainly from DESIGN §4 (30 s
 * settling, then up to 180 s; 300-2000 ms; 20 % from the last accepted
 * beat; successive differences between adjacent kept beats) rather than
 * through hrv.c.
 */
static double reference_rmssd(const struct rr_sample *rr, size_t n,
			      double *ret_kept_share)
{
	double ref = 0, prev = 0, sum_sq = 0;
	bool have_ref = false, prev_kept = false;
	size_t diffs = 0, total = 0, kept = 0;

	for (size_t i = 0; i < n; i++) {
		double off_s = (double)(rr[i].t_ms - rr[0].t_ms) / 1000.0;
		double x = rr[i].rr_ms;
		bool ok;

		if (off_s < 30.0 || off_s > 210.0)
			continue;
		total++;
		ok = x >= 300 && x <= 2000 &&
		     (!have_ref || fabs(x - ref) / ref <= 0.20);
		if (ok) {
			kept++;
			have_ref = true;
			ref = x;
			if (prev_kept) {
				sum_sq += (x - prev) * (x - prev);
				diffs++;
			}
			prev = x;
		}
		prev_kept = ok;
	}
	*ret_kept_share = total ? (double)kept / (double)total : 0;
	return diffs ? sqrt(sum_sq / (double)diffs) : NAN;
}

/* RMSSD of a whole series with no cleaning, as a published value is. */
static double plain_rmssd(const double *rr, size_t n)
{
	double sum_sq = 0;

	for (size_t i = 1; i < n; i++)
		sum_sq += (rr[i] - rr[i - 1]) * (rr[i] - rr[i - 1]);
	return sqrt(sum_sq / (double)(n - 1));
}

static void check_accuracy(const char *what, const struct rr_sample *rr,
			   size_t n)
{
	struct spot_input in = {
		.rr = rr,
		.rr_count = n,
		.wake_ms = WAKE,
	};
	struct spot_result r;
	double kept_share;
	double want = reference_rmssd(rr, n, &kept_share);

	g_assert_cmpint(spot_find(&in, &r), ==, 0);
	g_test_message("%s: spot RMSSD %.4f ms (%d/%d beats kept, HR %.1f), "
		       "independent %.4f ms (%.1f %% kept), off by %.4f %%",
		       what, r.rmssd_ms, r.kept, r.beats, r.mean_hr_bpm, want,
		       kept_share * 100, (r.rmssd_ms - want) / want * 100);
	g_assert_cmpint(r.status, ==, SPOT_OK);
	g_assert_cmpfloat(kept_share, >=, 0.80);
	g_assert_cmpfloat(fabs(r.rmssd_ms - want), <=, 0.03 * want);
}

/*
 * A generated morning: breathing at 15 a minute swings RR by +-60 ms
 * around 900 ms, with +-15 ms of jitter (a fixed linear congruential
 * generator, so the series is the same everywhere), and a premature beat
 * with its compensatory pause every 47 beats, both for Malik to drop.
 */
static void test_accuracy_generated(void)
{
	g_autofree struct rr_sample *rr = g_new0(struct rr_sample, 1000);
	int64_t t = WAKE + S(600);
	uint32_t seed = 12345;
	double t_s = 0;
	size_t n = 0;

	while (t_s < 300 && n < 1000) {
		double x, jitter;

		seed = seed * 1103515245u + 12345u;
		jitter = ((double)(seed >> 16 & 0x7fff) / 32767.0 - 0.5) * 30;
		x = 900 + 60 * sin(2 * G_PI * t_s / 4.0) + jitter;
		if (n % 47 == 46)
			x *= 0.6;
		else if (n % 47 == 0 && n > 0)
			x *= 1.4;
		if (n > 0)
			t += (int64_t)lround(x);
		rr[n].t_ms = t;
		rr[n].rr_ms = x;
		t_s += x / 1000.0;
		n++;
	}
	check_accuracy("generated", rr, n);
}

/*
 * Public RR data: the 1,000 NN intervals of the hrv-analysis project's test
 * data (Aura-healthcare/hrv-analysis, tests/test_nn_intervals.txt). Its
 * licence (GPL-3.0) keeps the file out of this tree: the build passes its
 * path in RECOVERYD_HRV_REFERENCE (cmake -DRECOVERYD_HRV_REFERENCE=...),
 * and without it the test is skipped. The project publishes an RMSSD of
 * 19.5194 ms for the whole series, which checks the independent
 * computation first; its first 5 minutes then serve as a morning session.
 */
static void test_accuracy_reference(void)
{
	const char *path = g_getenv("RECOVERYD_HRV_REFERENCE");
	g_autofree char *text = NULL;
	g_autofree double *values = NULL;
	g_autofree struct rr_sample *rr = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GError) error = NULL;
	size_t n = 0, session = 0;
	int64_t t = WAKE + S(600);

	if (!path || !*path) {
		g_test_skip("set RECOVERYD_HRV_REFERENCE to the hrv-analysis "
			    "test_nn_intervals.txt");
		return;
	}
	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	g_assert_no_error(error);
	lines = g_strsplit(text, "\n", -1);
	values = g_new0(double, g_strv_length(lines));
	rr = g_new0(struct rr_sample, g_strv_length(lines));
	for (size_t i = 0; lines[i]; i++) {
		g_strstrip(lines[i]);
		if (*lines[i])
			values[n++] = g_ascii_strtod(lines[i], NULL);
	}
	g_assert_cmpuint(n, ==, 1000);
	g_test_message("whole series: RMSSD %.4f ms (published 19.5194)",
		       plain_rmssd(values, n));
	g_assert_cmpfloat_with_epsilon(plain_rmssd(values, n), 19.5194, 1e-4);

	/* Beats timed by accumulating RR, as an RR file import does. */
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			t += (int64_t)lround(values[i]);
		if (t - (WAKE + S(600)) > S(300))
			break;
		rr[i].t_ms = t;
		rr[i].rr_ms = values[i];
		session++;
	}
	check_accuracy("hrv-analysis test data", rr, session);
}

/* --- a session followed as it happens (spot_live) ------------------ */

/*
 * A 210 s session at wake + 10 min fed beat by beat: each beat arrives
 * @lag_ms after it ended, or, with @burst, the whole session arrives within
 * a few seconds of its start (a strap that sends faster than the beats, or
 * a test): the beat clock then runs ahead of the wall clock, and "stopped"
 * must still mean 20 s without a notification.
 */
struct live_case {
	const char *name;
	int32_t dur_s;
	bool burst;
	int64_t start_ms; /* from WAKE */
	int32_t now_s;	  /* after the last arrival */
	bool found;
	enum spot_phase phase;
	int32_t measured_s;
};

static const struct live_case live_cases[] = {
	{ "/spot/live/measuring", 100, false, S(600), 0, true,
	  SPOT_PHASE_MEASURING, 70 },
	{ "/spot/live/done-at-210s", 212, false, S(600), 0, true,
	  SPOT_PHASE_DONE, 180 },
	{ "/spot/live/stopped-after-120s", 120, false, S(600), 21, true,
	  SPOT_PHASE_DONE, 90 },
	/* Until then the clock runs on between beats, as in spot_progress. */
	{ "/spot/live/burst-not-yet-stopped", 120, true, S(600), 19, true,
	  SPOT_PHASE_MEASURING, 109 },
	{ "/spot/live/burst-stopped", 120, true, S(600), 21, true,
	  SPOT_PHASE_DONE, 90 },
	{ "/spot/live/burst-too-short", 70, true, S(600), 21, true,
	  SPOT_PHASE_TOO_SHORT, 40 },
	/* Outside the morning window, or longer than a spot check. */
	{ "/spot/live/before-window", 200, false, -S(3601), 0, false },
	{ "/spot/live/window-end", 200, false, S(10800), 0, false },
	{ "/spot/live/too-long", 602, false, S(600), 0, false },
};

static void test_live(gconstpointer data)
{
	const struct live_case *c = data;
	g_autofree struct beats *b = g_new0(struct beats, 1);
	g_autofree struct spot_live *live = g_new0(struct spot_live, 1);
	const struct session_spec spec = { c->start_ms, c->dur_s };
	struct spot_progress p;
	int64_t arrival = 0;
	bool found;

	/* A beat an hour earlier, the night's strap: another session. */
	spot_live_beat(live, WAKE - S(3600), 1000, WAKE - S(3600));
	add_session(b, &spec, 0);
	for (size_t i = 0; i < b->n; i++) {
		arrival = c->burst ? WAKE + c->start_ms + (int64_t)i * 20
				   : b->rr[i].t_ms + 150;
		spot_live_beat(live, b->rr[i].t_ms, b->rr[i].rr_ms, arrival);
	}
	found = spot_live_progress(live, arrival + S(c->now_s), WAKE - S(3600),
				   WAKE + S(10800), &p);
	g_assert_cmpint(found, ==, c->found);
	if (!found)
		return;
	g_test_message("%s: %s %d s", c->name, spot_phase_name(p.phase),
		       p.measured_s);
	g_assert_cmpint(p.phase, ==, c->phase);
	g_assert_cmpint(p.measured_s, ==, c->measured_s);
	if (p.phase == SPOT_PHASE_DONE)
		g_assert_cmpfloat_with_epsilon(p.rmssd_ms, 100, EPS);
}

/* A strap worn all night fills the buffer: never a spot check, and the
 * next beat after a gap starts afresh. */
static void test_live_overflow(void)
{
	g_autofree struct spot_live *live = g_new0(struct spot_live, 1);
	struct spot_progress p;
	int64_t t = WAKE + S(60);

	for (int i = 0; i < SPOT_LIVE_MAX_BEATS + 50; i++) {
		t += 300;
		spot_live_beat(live, t, 300, t);
	}
	g_assert_true(live->too_long);
	g_assert_cmpuint(live->n, ==, SPOT_LIVE_MAX_BEATS);
	g_assert_false(
	    spot_live_progress(live, t, WAKE - S(3600), WAKE + S(10800), &p));
	t += S(21);
	spot_live_beat(live, t, 1000, t);
	g_assert_false(live->too_long);
	g_assert_cmpuint(live->n, ==, 1);
	g_assert_true(live->prev_long);
	/* ... the night's wear taken up again, until 5 minutes off. */
	g_assert_false(
	    spot_live_progress(live, t, WAKE - S(3600), WAKE + S(10800), &p));
	t += S(300);
	spot_live_beat(live, t, 1000, t);
	g_assert_true(
	    spot_live_progress(live, t, WAKE - S(3600), WAKE + S(10800), &p));
	g_assert_cmpint(p.phase, ==, SPOT_PHASE_SETTLING);
}

/* The night's strap dropping out for a minute in the morning window and
 * coming back is the night's wear, not a spot check; five minutes after
 * it was taken off, a new session is one. */
static void test_live_rejoin(void)
{
	g_autofree struct spot_live *live = g_new0(struct spot_live, 1);
	struct spot_progress p;
	int64_t t = WAKE - S(2 * 3600);

	for (; t < WAKE + S(60); t += 1000)
		spot_live_beat(live, t, 1000, t);
	t += S(60);
	spot_live_beat(live, t, 1000, t);
	g_assert_false(
	    spot_live_progress(live, t, WAKE - S(3600), WAKE + S(10800), &p));
	t += S(5 * 60);
	spot_live_beat(live, t, 1000, t);
	g_assert_true(
	    spot_live_progress(live, t, WAKE - S(3600), WAKE + S(10800), &p));
	g_assert_cmpint(p.phase, ==, SPOT_PHASE_SETTLING);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(find_cases); i++)
		g_test_add_data_func(find_cases[i].name, &find_cases[i],
				     test_find);
	g_test_add_func("/spot/find/unsorted", test_find_unsorted);
	g_test_add_func("/spot/find/extreme-times", test_find_extreme_times);
	g_test_add_func("/spot/names", test_status_names);
	for (size_t i = 0; i < G_N_ELEMENTS(progress_cases); i++)
		g_test_add_data_func(progress_cases[i].name, &progress_cases[i],
				     test_progress);
	g_test_add_func("/spot/progress/agrees-with-find",
			test_progress_agrees);
	g_test_add_func("/spot/progress/errors", test_progress_errors);
	for (size_t i = 0; i < G_N_ELEMENTS(live_cases); i++)
		g_test_add_data_func(live_cases[i].name, &live_cases[i],
				     test_live);
	g_test_add_func("/spot/live/overflow", test_live_overflow);
	g_test_add_func("/spot/live/night-strap-rejoins", test_live_rejoin);
	for (size_t i = 0; i < G_N_ELEMENTS(source_cases); i++)
		g_test_add_data_func(source_cases[i].name, &source_cases[i],
				     test_source);
	g_test_add_func("/spot/baseline/empty", test_baseline_empty);
	g_test_add_func("/spot/baseline/one", test_baseline_one);
	g_test_add_func("/spot/baseline/window", test_baseline_window);
	g_test_add_func("/spot/baseline/floor", test_baseline_floor);
	g_test_add_func("/spot/accuracy/generated", test_accuracy_generated);
	g_test_add_func("/spot/accuracy/hrv-analysis", test_accuracy_reference);
	return g_test_run();
}
