// SPDX-License-Identifier: MIT
#include "gateway/core/report.h"

#include <math.h>

#include "gateway/core/clock.h"
#include "gateway/common/json-text.h"
#include "gateway/engine/spot.h"

static void add_metric(JsonBuilder *b, const char *key, double value,
		       int decimals)
{
	if (!metric_present(value))
		return;
	json_builder_set_member_name(b, key);
	json_builder_add_double_value(b, json_text_round(value, decimals));
}

static void add_date(JsonBuilder *b, int32_t day)
{
	char date[16];

	clock_day_format(day, date, sizeof(date));
	json_builder_set_member_name(b, "date");
	json_builder_add_string_value(b, date);
}

void report_add_metrics(JsonBuilder *b, const struct night_metrics *m)
{
	add_date(b, m->day);
	add_metric(b, "time_in_bed_min", m->time_in_bed_min, 0);
	add_metric(b, "sleep_min", m->sleep_min, 0);
	add_metric(b, "sleep_efficiency_pct", m->sleep_efficiency_pct, 1);
	add_metric(b, "latency_min", m->latency_min, 0);
	if (m->window_start_ms) {
		json_builder_set_member_name(b, "out_of_bed_episodes");
		json_builder_add_int_value(b, m->out_of_bed_episodes);
	}
	add_metric(b, "rmssd_ms", m->rmssd_ms, 1);
	add_metric(b, "ln_rmssd", m->ln_rmssd, 3);
	if (m->hrv_source != HRV_SOURCE_NONE) {
		json_builder_set_member_name(b, "hrv_source");
		json_builder_add_string_value(b,
					      hrv_source_name(m->hrv_source));
	}
	add_metric(b, "sdnn_ms", m->sdnn_ms, 1);
	add_metric(b, "pnn50_pct", m->pnn50_pct, 1);
	add_metric(b, "resting_hr_bpm", m->resting_hr_bpm, 1);
	add_metric(b, "weight_kg", m->weight_kg, 2);
	add_metric(b, "body_fat_pct", m->body_fat_pct, 1);
	add_metric(b, "mood", m->mood, 1);
	add_metric(b, "soreness", m->soreness, 1);
	add_metric(b, "energy", m->energy, 1);
	add_metric(b, "load_trimp", m->load_trimp, 1);
}

/* The morning spot check, when there was one: its verdict in words. */
static void add_spot(JsonBuilder *b, const struct night_metrics *m)
{
	if (m->spot_status == SPOT_NONE)
		return;
	json_builder_set_member_name(b, "spot");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "status");
	json_builder_add_string_value(b, spot_status_name(m->spot_status));
	json_builder_set_member_name(b, "reason");
	json_builder_add_string_value(b, spot_status_reason(m->spot_status));
	add_metric(b, "rmssd_ms", m->spot_rmssd_ms, 1);
	add_metric(b, "ln_rmssd", m->spot_ln_rmssd, 3);
	add_metric(b, "mean_hr_bpm", m->spot_hr_bpm, 1);
	json_builder_end_object(b);
}

static void add_component(JsonBuilder *b, const char *key,
			  const struct score_component *c)
{
	if (!c->present)
		return;
	json_builder_set_member_name(b, key);
	json_builder_begin_object(b);
	add_metric(b, "value", c->value, 3);
	add_metric(b, "z", c->z, 2);
	add_metric(b, "weight", c->weight, 2);
	json_builder_end_object(b);
}

/* Advice texts are cut to fixed buffers, possibly inside a UTF-8
 * sequence, and carry the person's own goal: JSON must stay valid. */
static void add_text_value(JsonBuilder *b, const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);

	json_builder_add_string_value(b, valid);
}

static void add_text(JsonBuilder *b, const char *key, const char *text)
{
	json_builder_set_member_name(b, key);
	add_text_value(b, text);
}

static void add_strings(JsonBuilder *b, const char *key,
			const char (*items)[ADVICE_TEXT], size_t count)
{
	json_builder_set_member_name(b, key);
	json_builder_begin_array(b);
	for (size_t i = 0; i < count; i++)
		add_text_value(b, items[i]);
	json_builder_end_array(b);
}

/* What the day was measured against: the dashboard draws the RMSSD
 * normal band from it. ±1 SD of ln RMSSD is where the HRV component's z
 * stays within ±1. */
static void add_baseline(JsonBuilder *b, const struct score_baseline *bl)
{
	json_builder_set_member_name(b, "baseline");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "hrv_source");
	json_builder_add_string_value(b, hrv_source_name(bl->hrv_source));
	json_builder_set_member_name(b, "nights");
	json_builder_add_int_value(b, bl->nights);
	if (bl->nights > 0 && metric_present(bl->ln_rmssd_mean) &&
	    metric_present(bl->ln_rmssd_sd)) {
		add_metric(b, "rmssd_normal_low_ms",
			   exp(bl->ln_rmssd_mean - bl->ln_rmssd_sd), 1);
		add_metric(b, "rmssd_normal_high_ms",
			   exp(bl->ln_rmssd_mean + bl->ln_rmssd_sd), 1);
	}
	if (bl->rhr_nights > 0) {
		add_metric(b, "resting_hr_mean_bpm", bl->rhr_mean, 1);
		add_metric(b, "resting_hr_sd_bpm", bl->rhr_sd, 1);
	}
	json_builder_end_object(b);
}

JsonNode *report_state_build(const struct recovery_day *d)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	const struct score_result *s = &d->score;
	const struct advice *a = &d->advice;

	json_builder_begin_object(b);
	add_date(b, d->day);
	json_builder_set_member_name(b, "score");
	if (s->score >= 0)
		json_builder_add_int_value(b, s->score);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "zone");
	json_builder_add_string_value(b, score_zone_name(s->zone));
	json_builder_set_member_name(b, "calibrating");
	json_builder_add_boolean_value(b, s->calibrating);
	if (s->calibrating) {
		json_builder_set_member_name(b, "calibration_nights");
		json_builder_add_int_value(b, s->calibration_count);
	}
	/* What HRV the day and its score hold: "none" says a score is
	 * made of resting HR, sleep and check-ins (DESIGN §5). */
	json_builder_set_member_name(b, "hrv_source");
	json_builder_add_string_value(b, hrv_source_name(d->night.hrv_source));
	add_spot(b, &d->night);

	json_builder_set_member_name(b, "components");
	json_builder_begin_object(b);
	add_component(b, "hrv", &s->hrv);
	add_component(b, "resting_hr", &s->rhr);
	add_component(b, "sleep", &s->sleep);
	add_component(b, "checkin", &s->checkin);
	add_component(b, "load", &s->load);
	json_builder_end_object(b);
	add_baseline(b, &s->baseline);

	json_builder_set_member_name(b, "metrics");
	json_builder_begin_object(b);
	report_add_metrics(b, &d->night);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "advice");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "state");
	json_builder_add_string_value(b, advice_state_name(a->state));
	add_text(b, "headline", a->headline);
	add_text(b, "detail", a->detail);
	add_strings(b, "actions", a->actions, a->action_count);
	add_strings(b, "reasons", a->reasons, a->reason_count);
	json_builder_end_object(b);

	json_builder_end_object(b);
	return json_builder_get_root(b);
}

void report_add_result(JsonBuilder *b, const struct store_result *r)
{
	json_builder_set_member_name(b, "score");
	if (r->score >= 0)
		json_builder_add_int_value(b, r->score);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "zone");
	json_builder_add_string_value(b, r->zone);
	json_builder_set_member_name(b, "advice_state");
	json_builder_add_string_value(b, r->advice_state);
}

JsonNode *report_stored_advice(const struct store_result *r)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(JsonBuilder) b = NULL;
	JsonNode *root, *advice;

	if (r->state_json &&
	    json_parser_load_from_data(parser, r->state_json, -1, NULL) &&
	    (root = json_parser_get_root(parser)) &&
	    JSON_NODE_HOLDS_OBJECT(root) &&
	    (advice = json_object_get_member(json_node_get_object(root),
					     "advice")) &&
	    JSON_NODE_HOLDS_OBJECT(advice))
		return json_node_copy(advice);
	b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "state");
	json_builder_add_string_value(b, r->advice_state);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

/* The member @key of object @o when it is a number. */
static bool number_member(JsonObject *o, const char *key, double *ret)
{
	JsonNode *n = json_object_get_member(o, key);
	GType type;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return false;
	type = json_node_get_value_type(n);
	if (type == G_TYPE_INT64)
		*ret = (double)json_node_get_int(n);
	else if (type == G_TYPE_DOUBLE)
		*ret = json_node_get_double(n);
	else
		return false;
	return true;
}

/* The normal band of the stored state message's baseline, as it was
 * computed then (rows of older versions have none). */
static void add_stored_band(JsonBuilder *b, const struct store_result *r)
{
	static const char *const keys[] = { "rmssd_normal_low_ms",
					    "rmssd_normal_high_ms",
					    "resting_hr_mean_bpm" };
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonNode *root, *bl;
	JsonObject *o;

	if (!r->state_json ||
	    !json_parser_load_from_data(parser, r->state_json, -1, NULL) ||
	    !(root = json_parser_get_root(parser)) ||
	    !JSON_NODE_HOLDS_OBJECT(root) ||
	    !(bl = json_object_get_member(json_node_get_object(root),
					  "baseline")) ||
	    !JSON_NODE_HOLDS_OBJECT(bl))
		return;
	o = json_node_get_object(bl);
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		double v;

		if (number_member(o, keys[i], &v))
			add_metric(b, keys[i], v, 1);
	}
}

const struct night_metrics *report_find_night(GArray *nights, int32_t day)
{
	for (guint i = 0; nights && i < nights->len; i++) {
		const struct night_metrics *n =
		    &g_array_index(nights, struct night_metrics, i);

		if (n->day == day)
			return n;
	}
	return NULL;
}

JsonNode *report_history_build(GArray *results, GArray *nights,
			       bool with_advice)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < results->len; i++) {
		const struct store_result *r =
		    &g_array_index(results, struct store_result, i);
		const struct night_metrics *n =
		    report_find_night(nights, r->day);
		struct night_metrics empty = night_metrics_empty(r->day);

		json_builder_begin_object(b);
		report_add_metrics(b, n ? n : &empty);
		report_add_result(b, r);
		add_stored_band(b, r);
		if (with_advice) {
			/* What the day's advice said, as it was told then. */
			json_builder_set_member_name(b, "advice");
			json_builder_add_value(b, report_stored_advice(r));
		}
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	return json_builder_get_root(b);
}
