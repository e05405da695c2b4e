/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "gateway/daemon.h"

/*
 * The daemon's mornings: asks each person's morning tracker whether the
 * night is over (gateway/engine/morning.h), analyses it (with any nights
 * missed while the daemon was down), and hands the state and the alert to
 * the publisher; a morning first handled long after its latest time gets
 * its state but no alert. Every announced morning is recorded in the store,
 * so a restart sends no second alert.
 */

/* Every person whose night is over now: analysed and announced. Nothing
 * before the wall clock is trusted. */
void mornings_check(struct daemon *d);

/* The latest stored state of person @p between @from_day and @to_day,
 * queued again (retained). */
void mornings_queue_state(struct daemon *d, struct household_person *p,
			  int32_t from_day, int32_t to_day);

/* Nights analysed again when a morning finds them missing: at most this
 * many days back. */
#define MORNINGS_BACKFILL_DAYS 7
