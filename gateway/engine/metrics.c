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
		.spot_rmssd_ms = METRIC_NONE,
		.spot_ln_rmssd = METRIC_NONE,
		.spot_hr_bpm = METRIC_NONE,
	};
}

const char *hrv_source_name(enum hrv_source source)
{
	switch (source) {
	case HRV_SOURCE_NIGHT:
		return "night";
	case HRV_SOURCE_SPOT:
		return "spot";
	case HRV_SOURCE_NONE:
	default:
		return "none";
	}
}

const char *spot_status_name(enum spot_status status)
{
	switch (status) {
	case SPOT_TOO_SHORT:
		return "too-short";
	case SPOT_TOO_NOISY:
		return "too-noisy";
	case SPOT_OK:
		return "ok";
	case SPOT_NONE:
	default:
		return "none";
	}
}

void metric_running_add(struct metric_running *r, double x)
{
	double delta = x - r->mean;

	r->n++;
	r->mean += delta / r->n;
	r->m2 += delta * (x - r->mean);
}

double metric_running_mean(const struct metric_running *r, int32_t min_n)
{
	return r->n >= min_n && r->n > 0 ? r->mean : METRIC_NONE;
}

double metric_running_sd(const struct metric_running *r, double floor_sd)
{
	double sd;

	if (r->n == 0)
		return METRIC_NONE;
	if (r->n < 2)
		return floor_sd;
	sd = sqrt(r->m2 / (r->n - 1));
	return sd > floor_sd ? sd : floor_sd;
}
