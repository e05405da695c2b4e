/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/engine/hrv.h"
#include "gateway/engine/metrics.h"

/*
 * The morning spot check (DESIGN §4; the HRV4Training / Elite HRV method):
 * a short strap session after waking, for people who will not sleep in a
 * strap. Its first 30 s settle and are dropped; RMSSD and mean HR come from
 * the next 60-180 s, cleaned by hrv.h's rules. A spot value is not a night
 * value (lying awake for 3 minutes is other physiology than 5-minute windows
 * of sleep), so it has a baseline of its own (spot_baseline) and the day
 * says which source its HRV came from (spot_day_hrv).
 *
 * Pure: no I/O, no clock, no allocation, no globals. Times are UTC
 * milliseconds; beats are stamped with the time of the beat that ends them.
 */

/*
 * A session is a run of beats with no gap between stamps longer than this.
 * A strap that is working sends every beat (2 s apart at 30 bpm, the
 * slowest kept interval); missed notifications or a moment without skin
 * contact lose a few seconds, and such a hole must not split a 3-minute
 * measurement. 20 s is more than ten missed notifications in a row: by
 * then the strap is off (or out of range), and 20 s is over a tenth of the
 * 180 s window, so what follows is another recording, not the same one.
 */
#define SPOT_GAP_MS	    (20 * 1000)
#define SPOT_SETTLE_MS	    (30 * 1000)		 /* dropped at the start */
#define SPOT_WINDOW_MIN_MS  (60 * 1000)		 /* usable after settling */
#define SPOT_WINDOW_MAX_MS  (180 * 1000)	 /* analysed after settling */
#define SPOT_SESSION_MAX_MS (10 * 60 * 1000)	 /* longer: not a spot check */
#define SPOT_BEFORE_WAKE_MS (60 * 60 * 1000)	 /* no night: from wake - 1 h */
#define SPOT_AFTER_WAKE_MS  (3 * 60 * 60 * 1000) /* ... to wake + 3 h */
#define SPOT_KEEP	    HRV_WINDOW_KEEP	 /* 80 % of the window kept */
/* Live progress judges noise only once this much has been measured. */
#define SPOT_NOISE_JUDGE_MS (30 * 1000)

/* enum spot_status and spot_status_name() are in metrics.h: the day keeps
 * the verdict. */

struct spot_result {
	enum spot_status status;
	bool found;	  /* a session was found (status != SPOT_NONE) */
	int32_t sessions; /* spot-check sessions this morning, good or not */
	/* The first of them: its first beat; 0 when none. What came from it
	 * on is the morning's measuring, not the night's sleep. */
	int64_t first_start_ms;
	/* The session reported: the later clean one, else the last one. */
	int64_t start_ms; /* its first beat; 0 when none */
	int64_t end_ms;	  /* its last beat */
	/* The analysed span: settling dropped, at most 180 s; 0 when none. */
	int64_t window_start_ms;
	int64_t window_end_ms; /* the last beat used */
	int32_t beats;	       /* intervals in the span */
	int32_t kept;	       /* of which cleaning kept */
	/* METRIC_NONE unless status is SPOT_OK */
	double rmssd_ms;
	double ln_rmssd;
	double mean_hr_bpm; /* HR samples in the span, else 60000 / mean NN */
};

struct spot_input {
	/* The day's samples, each sorted by time; HR may be empty. */
	const struct rr_sample *rr;
	size_t rr_count;
	const struct hr_sample *hr;
	size_t hr_count;
	/*
	 * The night's final awakening (night_metrics.wake_ms), 0 when there
	 * was no night. The final awakening and not the end of the sleep
	 * window: the method is taken lying in bed right after waking, and a
	 * bed sensor still says "in bed" then.
	 */
	int64_t night_end_ms;
	/* The person's wake time (the bedtime hint) on this morning. */
	int64_t wake_ms;
};

/*
 * Finds the morning's spot check. Sessions are runs of beats (SPOT_GAP_MS);
 * one is a spot-check attempt when it lasts at most 10 minutes and starts
 * in the morning window: at or after @night_end_ms and before 3 h past the
 * later of @night_end_ms and @wake_ms; with no night, in [@wake_ms - 1 h,
 * @wake_ms + 3 h). A session that starts before the night ended is the
 * night's, whatever its length; a longer one is training or a nap. A
 * session shorter than a minute is still an attempt (someone stopped too
 * early) and says "too short".
 *
 * Each attempt is judged on its beats stamped from 30 s to 210 s after its
 * first beat: at least 60 s of them (first to last stamp after settling),
 * and at least 80 % kept by hrv.h's cleaning. The later clean attempt
 * counts; when none is clean, the last attempt's verdict is reported.
 *
 * Returns 0 with @ret filled (status SPOT_NONE when there was no attempt),
 * or -EINVAL when the beats are not sorted (@ret filled as SPOT_NONE).
 */
int spot_find(const struct spot_input *in, struct spot_result *ret);

/*
 * What to tell the person about @status, a sentence (static): e.g. "spot
 * check too noisy: lie still for 3 minutes and try again".
 */
const char *spot_status_reason(enum spot_status status);

/* --- live progress ------------------------------------------------- */

enum spot_phase {
	SPOT_PHASE_SETTLING,  /* the first 30 s */
	SPOT_PHASE_MEASURING, /* in the window; measured_s says how far */
	SPOT_PHASE_DONE,      /* 180 s measured, or stopped after >= 60 s */
	SPOT_PHASE_TOO_NOISY, /* under 80 % kept (after 30 s measured) */
	SPOT_PHASE_TOO_SHORT, /* stopped before 60 s were measured */
};

struct spot_progress {
	enum spot_phase phase;
	bool stopped;	    /* no beat for SPOT_GAP_MS: the session is over */
	int32_t elapsed_s;  /* since the session's first beat */
	int32_t measured_s; /* of the window, 0-180 */
	int32_t beats;	    /* in the window so far */
	int32_t kept;
	/* Once the phase is final (done), as spot_find reports it. */
	double rmssd_ms;
	double ln_rmssd;
	double mean_hr_bpm; /* from the RR intervals */
};

/*
 * Live progress of the session in progress: the last run of @rr (sorted;
 * the morning's beats so far, or the session's own) at @now_ms. It is
 * over (stopped) when its last beat is more than SPOT_GAP_MS before
 * @now_ms. Settling for the first 30 s; then measuring N s; done when 180 s
 * are measured, or when it stopped after at least 60 s. Too noisy is said
 * as soon as 30 s of the window are measured and fewer than 80 % of its
 * beats so far survive cleaning: that is the moment to lie still and start
 * again. While measuring the verdict is on the beats so far and may go back
 * to measuring; once 180 s are measured or the session stopped it is final
 * and agrees with spot_find's for the same session.
 *
 * Returns 0 with @ret filled, -ENODATA when @n is 0, -EINVAL when the beats
 * are not sorted (@ret untouched on error).
 */
int spot_progress(const struct rr_sample *rr, size_t n, int64_t now_ms,
		  struct spot_progress *ret);

/* "settling", "measuring", "done", "too-noisy" or "too-short". */
const char *spot_phase_name(enum spot_phase phase);

/* --- following a session as it happens ------------------------------ */

/* Beats a live session keeps: 10 minutes at 200 bpm. */
#define SPOT_LIVE_MAX_BEATS 2000

/*
 * One person's strap session in progress, as the daemon hears it: the
 * beats of the current run (a gap over SPOT_GAP_MS starts a new one) and
 * when its last beat arrived. Fixed size, no allocation: the path of every
 * notification only appends. Zero-initialised it is empty.
 */
struct spot_live {
	size_t n;
	bool too_long; /* the run outgrew the buffer: not a spot check */
	int64_t last_arrival_ms;
	/* The run before: its last beat, and whether it was longer than a
	 * spot check (a night's wear, training). */
	int64_t prev_end_ms;
	bool prev_long;
	struct rr_sample rr[SPOT_LIVE_MAX_BEATS];
};

/*
 * A beat that ended at @t_ms (the strap's beat clock) and arrived at
 * @arrival_ms (the wall clock). A beat more than SPOT_GAP_MS after the
 * last one, or before it, starts a new session.
 */
void spot_live_beat(struct spot_live *s, int64_t t_ms, double rr_ms,
		    int64_t arrival_ms);

/* A run that starts this soon after a longer one ended continues that
 * wear (a strap worn all night dropping out for a moment): the night's
 * strap-off gap (night.h's NIGHT_WEAR_GAP_MS). */
#define SPOT_LIVE_REJOIN_MS (5 * 60 * 1000)

/*
 * The progress of @s's session at @now_ms (wall clock) when it is a
 * spot-check attempt: its first beat in [@from_ms, @until_ms) (the morning
 * window), at most 10 minutes long, and not the night's wear taken up
 * again (SPOT_LIVE_REJOIN_MS after a longer run). The beat clock may run
 * ahead of the wall clock or behind it (a strap's intervals, a delayed
 * notification): "stopped" is judged by how long ago the last beat
 * arrived. Returns true
 * with @ret filled (spot_progress()), false when there is no such session.
 */
bool spot_live_progress(const struct spot_live *s, int64_t now_ms,
			int64_t from_ms, int64_t until_ms,
			struct spot_progress *ret);

/* --- the day's HRV and the spot check's own baseline --------------- */

struct spot_day_hrv {
	enum hrv_source source;
	double rmssd_ms; /* METRIC_NONE with no source */
	double ln_rmssd;
};

/*
 * The day's HRV (DESIGN §4): the night's when it counted at least 6
 * windows (HRV_NIGHT_WINDOWS) and has a value, else the spot check's when
 * it is SPOT_OK, else none. Either argument may be NULL. Returns the
 * source, also set in @ret.
 */
enum hrv_source spot_day_hrv(const struct night_metrics *night,
			     const struct spot_result *spot,
			     struct spot_day_hrv *ret);

/* One morning's spot value, for the baseline. */
struct spot_value {
	int32_t day;
	double ln_rmssd; /* METRIC_NONE: no clean spot check that day */
};

struct spot_baseline {
	int32_t count;	      /* spot values in days [D-60, D-1] */
	double ln_rmssd_mean; /* METRIC_NONE without any */
	double ln_rmssd_sd;   /* sample SD, floored at 0.05; METRIC_NONE
				 without any */
	int32_t week_count;   /* values in days [D-6, D], D included */
	double ln_rmssd_7d;   /* their mean; METRIC_NONE with fewer than 3 */
};

/*
 * The spot check's own baseline for day @day, with DESIGN §5's rules for
 * the night baseline: mean and sample SD of ln RMSSD over the spot values
 * of days [@day - 60, @day - 1] (that day excluded), the SD floored at
 * SCORE_LN_RMSSD_SD_FLOOR (0.05; a single value has the floor as its SD),
 * and the mean of days [@day - 6, @day] when at least 3 of them have one.
 * Only spot values belong in @values: night values have a baseline of
 * their own (score.h). @values is sorted by day, oldest first; as in
 * score.h, a day given twice counts once (the later entry) and an entry out
 * of order is ignored.
 */
void spot_baseline(const struct spot_value *values, size_t count, int32_t day,
		   struct spot_baseline *ret);
