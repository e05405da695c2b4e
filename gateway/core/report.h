/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>

#include "gateway/engine/metrics.h"
#include "gateway/core/store.h"
#include "gateway/engine/recovery.h"

/*
 * The JSON shapes of a day's result, with the key names that are the same
 * in the MQTT state message, `recoveryctl history --json` and `recoveryctl
 * export --format json` (README, "Key names").
 */

/*
 * Adds the night's metrics to the object @b has open: date and every
 * present metric (time_in_bed_min, sleep_min, sleep_efficiency_pct,
 * latency_min, out_of_bed_episodes, rmssd_ms, ln_rmssd, hrv_source
 * ("night" or "spot", with HRV), sdnn_ms, pnn50_pct,
 * resting_hr_bpm, weight_kg, body_fat_pct, mood, soreness, energy,
 * load_trimp). Absent metrics are left out.
 */
void report_add_metrics(JsonBuilder *b, const struct night_metrics *m);

/*
 * Adds a stored day's result to the object @b has open: score (null when
 * none), zone and advice_state, the key names of history and export.
 */
void report_add_result(JsonBuilder *b, const struct store_result *r);

/*
 * The advice of a stored day as its state message told it: a new object
 * node {state, headline, detail, actions, reasons} taken from
 * @r->state_json, or {state} alone (the result's advice_state) when the row
 * has no state message or one without advice (rows of older versions).
 * Reads what was stored, never recomputes it.
 */
JsonNode *report_stored_advice(const struct store_result *r);

/*
 * The state message of one day: date, score (null when none), zone,
 * calibrating (and calibration_nights of 7 while calibrating: spot checks
 * for a spot-check person, nights with a resting HR when there is no HRV),
 * hrv_source ("night", "spot", or "none": no HRV in the day or its score),
 * spot {status, reason, rmssd_ms, ln_rmssd, mean_hr_bpm} when a morning
 * spot check was tried, components, metrics, advice {state, headline,
 * detail, actions, reasons}, and baseline {hrv_source, nights,
 * rmssd_normal_low_ms, rmssd_normal_high_ms, resting_hr_mean_bpm,
 * resting_hr_sd_bpm} with what the score measured against (the normal
 * band is exp(mean ± SD) of the 60-night ln RMSSD baseline; members
 * without a baseline are left out). Returns a new node.
 */
JsonNode *report_state_build(const struct recovery_day *d);

/* The night of @day in @nights (night_metrics, any order; NULL-safe), or
 * NULL. */
const struct night_metrics *report_find_night(GArray *nights, int32_t day);

/* The days the retained <base>/<user>/history topic carries. */
#define REPORT_HISTORY_DAYS 90

/*
 * A person's days as a JSON array, oldest first, one object per stored
 * result in @results (store_result; oldest first): the night's metrics
 * (report_add_metrics; date alone when @nights, night_metrics sorted or
 * not, has none for the day), the result (report_add_result), and the
 * normal band the day was scored against (rmssd_normal_low_ms,
 * rmssd_normal_high_ms, resting_hr_mean_bpm from the stored state
 * message's baseline, when it has one). @with_advice adds each day's
 * whole advice as it was told (report_stored_advice). Returns a new node.
 */
JsonNode *report_history_build(GArray *results, GArray *nights,
			       bool with_advice);
