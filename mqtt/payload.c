// SPDX-License-Identifier: MIT
#include "mqtt/payload.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gateway/common/json-text.h"
#include "mqtt/topic.h"

#define EN_DASH	 "\u2013"
#define ELLIPSIS "\u2026"

static bool present(double value)
{
	return isfinite(value);
}

/* Unix milliseconds as ISO 8601 UTC to the second; NULL outside 1970-9999
 * (GLib's range starts at year 1, but a time before 1970 here is a bug). */
static char *format_time(int64_t ms)
{
	g_autoptr(GDateTime) dt = NULL;

	if (ms <= 0)
		return NULL;
	dt = g_date_time_new_from_unix_utc(ms / 1000);
	if (!dt)
		return NULL;
	return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static void add_rounded(JsonBuilder *b, const char *key, double value,
			int decimals)
{
	if (!present(value))
		return;
	json_builder_set_member_name(b, key);
	if (decimals == 0)
		json_builder_add_int_value(b, (gint64)llround(value));
	else
		json_builder_add_double_value(b,
					      json_text_round(value, decimals));
}

static void add_flag(JsonBuilder *b, const char *key, enum mqtt_flag flag)
{
	switch (flag) {
	case MQTT_FLAG_NO:
	case MQTT_FLAG_YES:
		json_builder_set_member_name(b, key);
		json_builder_add_boolean_value(b, flag == MQTT_FLAG_YES);
		break;
	case MQTT_FLAG_UNKNOWN:
	default:
		break;
	}
}

/* Every text from outside (BLE names, config, advice buffers cut inside a
 * UTF-8 sequence) is made valid, or json-glib would emit invalid JSON. */
static void add_text_value(JsonBuilder *b, const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);

	json_builder_add_string_value(b, valid);
}

static void add_text(JsonBuilder *b, const char *key, const char *text)
{
	if (!text)
		return;
	json_builder_set_member_name(b, key);
	add_text_value(b, text);
}

static char *finish(JsonBuilder *b)
{
	g_autoptr(JsonNode) root = NULL;

	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return json_text_from_node(root);
}

int mqtt_payload_build_live(const struct mqtt_live *live, char **ret_json)
{
	g_autoptr(JsonBuilder) b = NULL;
	g_autofree char *updated = NULL;

	if (live->updated_ms != 0) {
		updated = format_time(live->updated_ms);
		if (!updated)
			return -EINVAL;
	}
	b = json_builder_new();
	json_builder_begin_object(b);
	add_rounded(b, "heart_rate_bpm", live->heart_rate_bpm, 0);
	add_flag(b, "contact", live->contact);
	add_rounded(b, "weight_kg", live->weight_kg, 2);
	add_rounded(b, "body_fat_pct", live->body_fat_pct, 1);
	add_flag(b, "bed", live->bed);
	if (live->spot) {
		add_text(b, "spot", live->spot);
		json_builder_set_member_name(b, "spot_measured_s");
		json_builder_add_int_value(b, live->spot_measured_s);
		add_rounded(b, "spot_rmssd_ms", live->spot_rmssd_ms, 1);
	}
	add_text(b, "updated", updated);
	*ret_json = finish(b);
	return 0;
}

const char *mqtt_payload_connection_name(enum mqtt_connection connection)
{
	switch (connection) {
	case MQTT_CONNECTION_ABSENT:
		return "absent";
	case MQTT_CONNECTION_SILENT:
		return "silent";
	case MQTT_CONNECTION_ADVERTISING:
		return "advertising";
	case MQTT_CONNECTION_CONNECTING:
		return "connecting";
	case MQTT_CONNECTION_CONNECTED:
		return "connected";
	case MQTT_CONNECTION_DISCONNECTED:
		return "disconnected";
	case MQTT_CONNECTION_UNKNOWN:
	default:
		return NULL;
	}
}

int mqtt_payload_build_device(const struct mqtt_device_state *device,
			      char **ret_json)
{
	g_autoptr(JsonBuilder) b = NULL;
	g_autofree char *last_seen = NULL;
	g_autofree char *address = NULL;
	char slug[MQTT_TOPIC_ADDRESS_SLUG];

	if (!mqtt_topic_address_slug(device->address, slug))
		return -EINVAL;
	if (device->last_seen_ms != 0) {
		last_seen = format_time(device->last_seen_ms);
		if (!last_seen)
			return -EINVAL;
	}
	b = json_builder_new();
	json_builder_begin_object(b);
	/* The address as BlueZ writes it, whatever case it came in. */
	address = g_ascii_strup(device->address, -1);
	add_text(b, "address", address);
	add_text(b, "name", device->name);
	add_text(b, "kind", device->kind);
	add_text(b, "user", device->user);
	add_rounded(b, "battery_pct", device->battery_pct, 0);
	add_rounded(b, "rssi_dbm", device->rssi_dbm, 0);
	add_text(b, "last_seen", last_seen);
	add_text(b, "connection",
		 mqtt_payload_connection_name(device->connection));
	*ret_json = finish(b);
	return 0;
}

int mqtt_payload_build_checkin(const struct mqtt_checkin_stored *checkin,
			       char **ret_json)
{
	g_autoptr(JsonBuilder) b = NULL;
	g_autofree char *stored = NULL;

	if (!present(checkin->mood) && !present(checkin->soreness) &&
	    !present(checkin->energy))
		return -EINVAL;
	if (checkin->stored_ms != 0) {
		stored = format_time(checkin->stored_ms);
		if (!stored)
			return -EINVAL;
	}
	b = json_builder_new();
	json_builder_begin_object(b);
	add_rounded(b, "mood", checkin->mood, 0);
	add_rounded(b, "soreness", checkin->soreness, 0);
	add_rounded(b, "energy", checkin->energy, 0);
	add_text(b, "stored", stored);
	*ret_json = finish(b);
	return 0;
}

static bool alert_complete(const struct mqtt_alert *a)
{
	return a->user && a->date && a->zone && a->state && a->headline &&
	       (a->actions || a->action_count == 0) &&
	       (a->reasons || a->reason_count == 0);
}

static void append_sentence(GString *out, const char *text)
{
	size_t len;

	g_string_append(out, text);
	/* A headline is a title ("Ready to go"); in a line it needs a stop. */
	len = strlen(text);
	if (len > 0 && !strchr(".!?:", text[len - 1]) &&
	    !g_str_has_suffix(text, ELLIPSIS))
		g_string_append_c(out, '.');
}

/* Cuts @line to @max characters, at a space when one is in the last
 * third, and ends it in an ellipsis. */
static void cut_line(GString *line, glong max)
{
	const char *keep_end, *space;
	size_t keep;

	if (g_utf8_strlen(line->str, -1) <= max)
		return;
	keep_end = g_utf8_offset_to_pointer(line->str, max - 1);
	keep = (size_t)(keep_end - line->str);
	space = g_strrstr_len(line->str, (gssize)keep, " ");
	if (space && g_utf8_pointer_to_offset(line->str, space) > max * 2 / 3)
		keep = (size_t)(space - line->str);
	g_string_truncate(line, keep);
	/* No dangling separator before the ellipsis ("green –…"). */
	for (;;) {
		if (line->len > 0 && strchr(" ,;:.", line->str[line->len - 1]))
			g_string_truncate(line, line->len - 1);
		else if (g_str_has_suffix(line->str, EN_DASH))
			g_string_truncate(line, line->len - strlen(EN_DASH));
		else
			break;
	}
	g_string_append(line, ELLIPSIS);
}

char *mqtt_payload_alert_text(const struct mqtt_alert *alert)
{
	const char *name;
	g_autofree char *valid = NULL;
	GString *raw, *line;

	if (!alert_complete(alert))
		return NULL;
	if (alert->text) {
		line = g_string_new(NULL);
		valid = g_utf8_make_valid(alert->text, -1);
		g_string_append(line, valid);
		cut_line(line, MQTT_PAYLOAD_ALERT_TEXT_MAX);
		return g_string_free(line, FALSE);
	}
	name = alert->display_name && *alert->display_name ? alert->display_name
							   : alert->user;
	raw = g_string_new(name);
	if (alert->score >= 0)
		g_string_append_printf(raw, ": %d, %s", alert->score,
				       alert->zone);
	g_string_append(raw, " " EN_DASH " ");
	append_sentence(raw, alert->headline);
	if (alert->detail && *alert->detail) {
		g_string_append_c(raw, ' ');
		g_string_append(raw, alert->detail);
	}
	/* Made valid before it is measured and cut in characters. */
	valid = g_utf8_make_valid(raw->str, (gssize)raw->len);
	g_string_free(raw, TRUE);
	line = g_string_new(valid);
	cut_line(line, MQTT_PAYLOAD_ALERT_TEXT_MAX);
	return g_string_free(line, FALSE);
}

static void add_texts(JsonBuilder *b, const char *key, const char *const *items,
		      size_t count)
{
	json_builder_set_member_name(b, key);
	json_builder_begin_array(b);
	for (size_t i = 0; i < count; i++)
		if (items[i])
			add_text_value(b, items[i]);
	json_builder_end_array(b);
}

int mqtt_payload_build_alert(const struct mqtt_alert *alert, char **ret_json)
{
	g_autoptr(JsonBuilder) b = NULL;
	g_autofree char *text = NULL;

	if (!alert_complete(alert) || !mqtt_topic_user_valid(alert->user))
		return -EINVAL;
	text = mqtt_payload_alert_text(alert);
	b = json_builder_new();
	json_builder_begin_object(b);
	add_text(b, "user", alert->user);
	add_text(b, "date", alert->date);
	json_builder_set_member_name(b, "score");
	if (alert->score >= 0)
		json_builder_add_int_value(b, alert->score);
	else
		json_builder_add_null_value(b);
	add_text(b, "zone", alert->zone);
	add_text(b, "hrv_source", alert->hrv_source);
	add_text(b, "state", alert->state);
	add_text(b, "headline", alert->headline);
	add_text(b, "detail", alert->detail);
	add_texts(b, "actions", alert->actions, alert->action_count);
	add_texts(b, "reasons", alert->reasons, alert->reason_count);
	add_text(b, "text", text);
	if (alert->update) {
		json_builder_set_member_name(b, "update");
		json_builder_add_boolean_value(b, TRUE);
	}
	*ret_json = finish(b);
	return 0;
}

const char *mqtt_payload_status(bool online)
{
	return online ? "online" : "offline";
}

int mqtt_payload_build_gateway(const struct mqtt_gateway_state *state,
			       char **ret_json)
{
	g_autoptr(JsonBuilder) b = NULL;
	g_autofree char *since = NULL;
	g_autofree char *analysed = NULL;

	if (!state->version || (!state->people && state->people_count))
		return -EINVAL;
	if (state->storage_failing && state->storage_failing_since_ms) {
		since = format_time(state->storage_failing_since_ms);
		if (!since)
			return -EINVAL;
	}
	if (state->last_analysis_ms) {
		analysed = format_time(state->last_analysis_ms);
		if (!analysed)
			return -EINVAL;
	}
	b = json_builder_new();
	json_builder_begin_object(b);
	add_text(b, "version", state->version);
	add_texts(b, "people", state->people, state->people_count);
	add_text(b, "adapter", state->adapter);
	json_builder_set_member_name(b, "devices");
	json_builder_begin_object(b);
	json_text_member_int(b, "configured", state->devices_configured);
	json_text_member_int(b, "heard", state->devices_heard);
	json_builder_end_object(b);
	if (state->outbox_backlog >= 0)
		json_text_member_int(b, "outbox_backlog",
				     state->outbox_backlog);
	json_builder_set_member_name(b, "storage");
	json_builder_begin_object(b);
	add_text(b, "state", state->storage_failing ? "failing" : "ok");
	if (state->storage_failing) {
		add_text(b, "cause", state->storage_cause);
		add_text(b, "since", since);
		json_text_member_int(b, "held_readings", state->held_readings);
		json_text_member_int(
		    b, "dropped_readings",
		    (gint64)MIN(state->dropped_readings, (uint64_t)G_MAXINT64));
	}
	json_builder_end_object(b);
	add_text(b, "clock",
		 state->clock_synchronised ? "synchronised" : "waiting");
	add_text(b, "last_analysis", analysed);
	if (state->satellite_count) {
		json_builder_set_member_name(b, "satellites");
		json_builder_begin_array(b);
		for (size_t i = 0; i < state->satellite_count; i++) {
			const struct mqtt_gateway_satellite *sat =
			    &state->satellites[i];
			g_autofree char *heard =
			    format_time(sat->last_heard_ms);

			json_builder_begin_object(b);
			add_text(b, "name", sat->name);
			add_text(b, "status", sat->status);
			add_text(b, "last_heard", heard);
			json_text_member_int(
			    b, "readings",
			    (gint64)MIN(sat->readings, (uint64_t)G_MAXINT64));
			json_text_member_int(
			    b, "dropped",
			    (gint64)MIN(sat->dropped, (uint64_t)G_MAXINT64));
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
	}
	*ret_json = finish(b);
	return 0;
}
