/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "gateway/core/clock.h"
#include "gateway/engine/load.h"
#include "gateway/engine/recovery.h"
#include "gateway/core/store.h"

/*
 * The analysis pipeline over the store: a night's raw samples become its
 * metrics, and stored nights become each day's result (score, advice and
 * the state message). Used by the daemon each morning and by `recoveryctl
 * import` for the nights an import touched.
 */

struct analyze_person {
	int64_t user_id;
	struct recovery_params recovery;
	int bedtime_min; /* usual bedtime, local minutes (e.g. 23:00) */
	int wake_min;	 /* usual wake time */
	double hr_max_bpm;
	enum load_sex sex;
};

/* Defaults for a person with no configuration beyond a name. */
void analyze_person_defaults(struct analyze_person *p, int64_t user_id);

/*
 * The metrics of the night ending on the morning of @day (local, in @zone)
 * from @span, the person's samples of local 00:00 of D-1 to the end of D:
 * night analysis, the morning spot check (spot.h) and the day's HRV source
 * (the night with 6 counted windows, else a clean spot check), plus the
 * training load of D-1. No I/O.
 */
void analyze_metrics(const clock_zone *zone, const struct analyze_person *p,
		     int32_t day, const struct store_span *span,
		     struct night_metrics *ret);

/*
 * Analyses the night ending on the morning of @day (local, in @zone): loads
 * local 00:00 of D-1 to the end of D, runs night analysis, adds the
 * training load of D-1, and stores the night. Sees readings still in the
 * open batch. @ret (may be NULL) gets the metrics.
 */
gboolean analyze_night(store *s, const clock_zone *zone,
		       const struct analyze_person *p, int32_t day,
		       struct night_metrics *ret, GError **error);

/*
 * Scores and advises days [@from_day, @to_day] from the stored nights and
 * stores each day's result with its state message; @fn (may be NULL) sees
 * each day. The alert mark of a day already alerted is kept.
 */
gboolean analyze_results(store *s, const struct analyze_person *p,
			 int32_t from_day, int32_t to_day, int64_t now_ms,
			 recovery_day_fn fn, void *data, GError **error);
