// SPDX-License-Identifier: MIT
#include "gateway/engine/metrics.h"

struct night_metrics night_metrics_empty(int32_t day)
{
	return (struct night_metrics){
		.day = day,
		.time_in_bed_min = METRIC_NONE,
		.sleep_min = METRIC_NONE,
		.sleep_efficiency_pct = METRIC_NONE,
		.latency_min = METRIC_NONE,
		.rmssd_ms = METRIC_NONE,
		.ln_rmssd = METRIC_NONE,
		.sdnn_ms = METRIC_NONE,
		.pnn50_pct = METRIC_NONE,
		.resting_hr_bpm = METRIC_NONE,
		.weight_kg = METRIC_NONE,
		.body_fat_pct = METRIC_NONE,
		.mood = METRIC_NONE,
		.soreness = METRIC_NONE,
		.energy = METRIC_NONE,
		.load_trimp = METRIC_NONE,
	};
}
