// SPDX-License-Identifier: MIT
#include "mqtt/satellite.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gateway/common/json-text.h"

static const char *const kind_names[MQTT_SATELLITE_KIND_COUNT] = {
	[MQTT_SATELLITE_HEART_RATE] = "heart_rate",
	[MQTT_SATELLITE_RR] = "rr",
	[MQTT_SATELLITE_BED] = "bed",
	[MQTT_SATELLITE_MOTION] = "motion",
	[MQTT_SATELLITE_TEMPERATURE_C] = "temperature_c",
	[MQTT_SATELLITE_HUMIDITY_PCT] = "humidity_pct",
	[MQTT_SATELLITE_CO2_PPM] = "co2_ppm",
	[MQTT_SATELLITE_ILLUMINANCE_LX] = "illuminance_lx",
	[MQTT_SATELLITE_BODY] = "body",
};

/* A body reading's three values, by name. */
static const char *const body_names[3] = { "weight_kg", "body_fat_pct",
					   "impedance_ohm" };

const char *mqtt_satellite_kind_name(enum mqtt_satellite_kind kind)
{
	if ((unsigned)kind >= MQTT_SATELLITE_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

static bool address_valid(const char *address)
{
	char slug[MQTT_TOPIC_ADDRESS_SLUG];

	return mqtt_topic_address_slug(address, slug);
}

/* Whether @r can be sent: its key valid and its values finite. */
static bool reading_valid(const struct mqtt_satellite_reading *r)
{
	if (!address_valid(r->device) || !mqtt_topic_user_valid(r->user) ||
	    r->t_ms <= 0 || !mqtt_satellite_kind_name(r->kind))
		return false;
	if (r->kind == MQTT_SATELLITE_BODY)
		return isfinite(r->v[0]) || isfinite(r->v[1]) ||
		       isfinite(r->v[2]);
	return isfinite(r->v[0]);
}

int mqtt_satellite_encode(const char *name,
			  const struct mqtt_satellite_reading *readings,
			  size_t n, char **ret_json)
{
	g_autoptr(JsonBuilder) b = NULL;
	g_autoptr(JsonNode) root = NULL;

	if (!mqtt_topic_satellite_name_valid(name) ||
	    n > MQTT_SATELLITE_MAX_READINGS || (n && !readings))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!reading_valid(&readings[i]))
			return -EINVAL;
	b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "satellite");
	json_builder_add_string_value(b, name);
	json_builder_set_member_name(b, "readings");
	json_builder_begin_array(b);
	for (size_t i = 0; i < n; i++) {
		const struct mqtt_satellite_reading *r = &readings[i];

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "device");
		json_builder_add_string_value(b, r->device);
		json_builder_set_member_name(b, "user");
		json_builder_add_string_value(b, r->user);
		json_text_member_int(b, "t_ms", r->t_ms);
		json_builder_set_member_name(b, "kind");
		json_builder_add_string_value(b, kind_names[r->kind]);
		if (r->kind == MQTT_SATELLITE_BODY) {
			for (int k = 0; k < 3; k++) {
				if (!isfinite(r->v[k]))
					continue;
				json_builder_set_member_name(b, body_names[k]);
				json_builder_add_double_value(b, r->v[k]);
			}
		} else {
			json_builder_set_member_name(b, "value");
			json_builder_add_double_value(b, r->v[0]);
		}
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	*ret_json = json_text_from_node(root);
	return 0;
}

/* --- decoding ------------------------------------------------------------ */

static int fail(char **ret_error, int code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static int fail(char **ret_error, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*ret_error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return code;
}

/* A string member of @o, or NULL when absent or not a string. */
static const char *member_string(JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

/* A number member of @o: 1 and @ret set, 0 when absent, -1 when it is no
 * number. */
static int member_number(JsonObject *o, const char *key, double *ret)
{
	JsonNode *n = json_object_get_member(o, key);
	GType t;

	if (!n)
		return 0;
	if (!JSON_NODE_HOLDS_VALUE(n))
		return -1;
	t = json_node_get_value_type(n);
	if (t == G_TYPE_INT64)
		*ret = (double)json_node_get_int(n);
	else if (t == G_TYPE_DOUBLE)
		*ret = json_node_get_double(n);
	else
		return -1;
	return isfinite(*ret) ? 1 : -1;
}

static int kind_of(const char *name)
{
	for (int k = 0; k < MQTT_SATELLITE_KIND_COUNT; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -1;
}

static int decode_one(JsonNode *node, guint i, struct mqtt_satellite_reading *r,
		      char **ret_error)
{
	JsonObject *o;
	JsonNode *t;
	const char *device, *user, *kind;
	int k;

	if (!JSON_NODE_HOLDS_OBJECT(node))
		return fail(ret_error, -EINVAL,
			    "readings[%u]: not an object (expected "
			    "{\"device\", \"user\", \"t_ms\", \"kind\", …})",
			    i);
	o = json_node_get_object(node);
	device = member_string(o, "device");
	if (!device || strlen(device) != 17 || !address_valid(device))
		return fail(ret_error, -EINVAL,
			    "readings[%u].device: missing or not a Bluetooth "
			    "address (expected e.g. \"C4:7C:8D:6A:12:34\")",
			    i);
	for (size_t c = 0; c < 18; c++)
		r->device[c] = g_ascii_toupper(device[c]);
	user = member_string(o, "user");
	if (!user || !mqtt_topic_user_valid(user))
		return fail(ret_error, -EINVAL,
			    "readings[%u].user: missing or not a user name", i);
	g_strlcpy(r->user, user, sizeof(r->user));
	t = json_object_get_member(o, "t_ms");
	if (!t || !JSON_NODE_HOLDS_VALUE(t) ||
	    json_node_get_value_type(t) != G_TYPE_INT64 ||
	    json_node_get_int(t) <= 0)
		return fail(
		    ret_error, -EINVAL,
		    "readings[%u].t_ms: missing or not a time (expected "
		    "whole ms since 1970, above 0)",
		    i);
	r->t_ms = json_node_get_int(t);
	kind = member_string(o, "kind");
	k = kind ? kind_of(kind) : -1;
	if (k < 0)
		return fail(ret_error, -EINVAL,
			    "readings[%u].kind: %s%s%s is not a kind (expected "
			    "heart_rate, rr, bed, motion, temperature_c, "
			    "humidity_pct, co2_ppm, illuminance_lx or body)",
			    i, kind ? "\"" : "", kind ? kind : "missing",
			    kind ? "\"" : "");
	r->kind = (enum mqtt_satellite_kind)k;
	r->v[0] = r->v[1] = r->v[2] = NAN;
	if (r->kind == MQTT_SATELLITE_BODY) {
		bool any = false;

		for (int v = 0; v < 3; v++) {
			int got = member_number(o, body_names[v], &r->v[v]);

			if (got < 0)
				return fail(ret_error, -EINVAL,
					    "readings[%u].%s: not a finite "
					    "number",
					    i, body_names[v]);
			any |= got > 0;
		}
		if (!any)
			return fail(ret_error, -EINVAL,
				    "readings[%u]: a body reading without "
				    "weight_kg, body_fat_pct or impedance_ohm",
				    i);
		return 0;
	}
	if (member_number(o, "value", &r->v[0]) <= 0)
		return fail(
		    ret_error, -EINVAL,
		    "readings[%u].value: missing or not a finite number", i);
	return 0;
}

int mqtt_satellite_decode(const char *json, size_t len, GArray *ret,
			  char ret_name[MQTT_TOPIC_USER_MAX + 1],
			  char **ret_error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) out = NULL;
	JsonNode *root, *list;
	JsonObject *o;
	JsonArray *a;
	const char *name;
	guint n;

	if (len > MQTT_SATELLITE_MAX_BYTES)
		return fail(ret_error, -E2BIG,
			    "%zu bytes (expected at most %d)", len,
			    MQTT_SATELLITE_MAX_BYTES);
	if (!json || memchr(json, '\0', len))
		return fail(ret_error, -EINVAL,
			    "not JSON text (a NUL byte inside)");
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, json, (gssize)len, &error))
		return fail(ret_error, -EINVAL, "not JSON: %s", error->message);
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return fail(ret_error, -EINVAL,
			    "not a JSON object (expected {\"satellite\", "
			    "\"readings\"})");
	o = json_node_get_object(root);
	name = member_string(o, "satellite");
	if (!name || !mqtt_topic_satellite_name_valid(name))
		return fail(ret_error, -EINVAL,
			    "satellite: missing or not a satellite name");
	list = json_object_get_member(o, "readings");
	if (!list || !JSON_NODE_HOLDS_ARRAY(list))
		return fail(ret_error, -EINVAL,
			    "readings: missing or not an array");
	a = json_node_get_array(list);
	n = json_array_get_length(a);
	if (n > MQTT_SATELLITE_MAX_READINGS)
		return fail(ret_error, -E2BIG,
			    "readings: %u of them (expected at most %d)", n,
			    MQTT_SATELLITE_MAX_READINGS);
	out = g_array_sized_new(FALSE, TRUE,
				sizeof(struct mqtt_satellite_reading), n);
	for (guint i = 0; i < n; i++) {
		struct mqtt_satellite_reading r = { 0 };
		int rc =
		    decode_one(json_array_get_element(a, i), i, &r, ret_error);

		if (rc < 0)
			return rc;
		g_array_append_val(out, r);
	}
	g_array_append_vals(ret, out->data, out->len);
	g_strlcpy(ret_name, name, MQTT_TOPIC_USER_MAX + 1);
	return 0;
}
