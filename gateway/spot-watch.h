/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "gateway/core/clock.h"
#include "gateway/core/household.h"

/*
 * The morning spot check followed as it happens (DESIGN §4): a person's
 * strap session that starts in the morning window (the usual wake time
 * - 1 h to + 3 h) is a spot-check attempt while it lasts at most 10
 * minutes. Beats come in with every notification (spot_watch_beat: an
 * append, nothing more); about once a second, and only while an attempt is
 * under way, spot_live_progress() judges it and the person's live value
 * gets its phase, measured seconds and, when done, the RMSSD
 * (household_live.spot*). The owner is told through ops.live_changed: at
 * once for a new phase, rate-limited like the heart rate for the seconds.
 * While an attempt is under way the morning waits for it
 * (spot_watch_in_progress), so the analysis sees it whole.
 */

struct spot_watch_ops {
	/* The wall clock in ms (the simulated one in demo mode). */
	int64_t (*now_ms)(void *data);
	/* Person @person's live value changed; @urgent: a new phase. */
	void (*live_changed)(void *data, int person, bool urgent);
	/* Person @person's spot-check attempt in the morning window of local
	 * day @day stopped with its verdict (done, too noisy or too short);
	 * its last beat arrived at @last_arrival_ms (wall clock). Once per
	 * attempt; never for a session outside the window, one that outgrew
	 * a spot check (training, the strap kept on) or the night's wear
	 * taken up again. May be NULL. */
	void (*finished)(void *data, int person, int32_t day,
			 int64_t last_arrival_ms);
};

typedef struct spot_watch spot_watch;

/* A watch over @h's people (borrowed; spot_watch_set_household() after a
 * reload) with wake times read in @zone (borrowed). */
spot_watch *spot_watch_new(household *h, const clock_zone *zone,
			   const struct spot_watch_ops *ops, void *data);
/* Stops the timer and frees the sessions. NULL-safe. */
void spot_watch_free(spot_watch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(spot_watch, spot_watch_free)

/*
 * The household was replaced (a reload: people may have moved): sessions
 * start over, and a phase that was still under way is taken out of the
 * new household's live values rather than left standing.
 */
void spot_watch_set_household(spot_watch *w, household *h);

/* household_ops.beat: person @person's beat that ended at @t_ms and
 * arrived at @arrival_ms. */
void spot_watch_beat(spot_watch *w, int person, int64_t t_ms, double rr_ms,
		     int64_t arrival_ms);

/* Judges every attempt under way at ops.now_ms(), as the watch's own
 * 1 s timer does: for demo mode, whose simulated clock runs days in a
 * second and calls it every simulated second. */
void spot_watch_tick(spot_watch *w);

/* Whether person @person's spot check is under way now (judged at the
 * call: not yet stopped, at most 10 minutes and 20 s): the morning waits
 * for it. */
bool spot_watch_in_progress(const spot_watch *w, int person);
