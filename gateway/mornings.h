/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "gateway/daemon.h"

/*
 * The daemon's mornings: asks each person's morning tracker whether the
 * night is over (gateway/engine/morning.h), analyses it (with any nights
 * missed while the daemon was down), and hands the state and the alert to
 * the publisher; a morning first handled long after its latest time gets
 * its state but no alert. Every announced morning is recorded in the store
 * with the advice state its alert told, so a restart sends no second alert.
 *
 * Late data counts (DESIGN §6): a check-in, a weigh-in or a spot check
 * that arrives after its day's morning was announced analyses that day
 * again (at most once a minute per person, MORNINGS_LATE_SETTLE_MS after
 * the first of a burst):
 * the result and the retained state are updated, and the alert goes out
 * again with "update": true only when the advice state differs from the
 * one the last alert told. With alert-wait-checkin=MIN the morning alert
 * waits up to MIN minutes after the night is over for the day's check-in,
 * and goes out at once (analysed again, the check-in in it) when it comes.
 *
 * Times are the daemon's wall clock (daemon_now_ms(): simulated in demo
 * mode, where the demo's steps call mornings_check()).
 */

/* Every person whose night is over now: analysed and announced; then every
 * held alert and late re-analysis that is due. Nothing before the wall
 * clock is trusted. */
void mornings_check(struct daemon *d);

/* The first instant (daemon_now_ms()) at which mornings_check() may have
 * a night to announce with no reading coming first (morning_next_check_ms
 * of every person); now when a night is over but its announcement waits
 * (a spot check under way); INT64_MAX when none today, or before the
 * clock is trusted. Held alerts and late re-analyses have their own
 * timer. */
int64_t mornings_next_check_ms(struct daemon *d);

/* The household's day_input: person @person's weighing or check-in
 * (@kind) stored at @t_ms. Data of a day whose morning is still to come is
 * left to it; a check-in of a day whose alert is held releases it; other
 * data of an announced day schedules its re-analysis. */
void mornings_day_input(struct daemon *d, int person, int64_t t_ms,
			enum household_input kind);

/* The spot watch's finished: person @person's spot-check attempt of the
 * morning of local day @day stopped, its last beat in at @last_arrival_ms
 * (DESIGN §6: a spot check that arrives after the morning's analysis
 * counts). A day whose morning is still to come, whose alert is held, or
 * whose last analysis ran after that beat reads it anyway; else the day is
 * analysed again as for a late check-in. */
void mornings_spot_check(struct daemon *d, int person, int32_t day,
			 int64_t last_arrival_ms);

/* Drops the held alerts and pending re-analyses and their timer (at stop).
 */
void mornings_stop(struct daemon *d);

/* The latest stored state of person @p between @from_day and @to_day,
 * queued again (retained). */
void mornings_queue_state(struct daemon *d, struct household_person *p,
			  int32_t from_day, int32_t to_day);

/* Nights analysed again when a morning finds them missing: at most this
 * many days back. */
#define MORNINGS_BACKFILL_DAYS 7
/* Late data is analysed this long after it arrived, so that a burst (three
 * check-in values one after the other) is one re-analysis ... */
#define MORNINGS_LATE_SETTLE_MS 5000
/* ... and a person's day at most this often. */
#define MORNINGS_LATE_MIN_INTERVAL_MS 60000
