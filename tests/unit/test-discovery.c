// SPDX-License-Identifier: MIT
/*
 * Home Assistant discovery configs (DESIGN §7) held to what Home Assistant
 * validates: its real device classes, the units and state classes it
 * accepts per class (sensor/const.py DEVICE_CLASS_UNITS,
 * DEVICE_CLASS_STATE_CLASSES), the keys each platform knows, entity id
 * syntax; plus our own contract: one device-based config per HA device
 * (the gateway's, each person's, each BLE device's) whose components
 * Home Assistant splits into entity configs (parse() does the same split),
 * via_device naming the gateway, stable, unique ids, availability on the
 * status topic (and the device topic for BLE devices), check-in controls
 * whose messages inbound.c accepts, and the migration from the per-entity
 * configs of earlier versions.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/engine/advice.h"
#include "mqtt/discovery.h"
#include "mqtt/inbound.h"
#include "gateway/engine/score.h"
#include "gateway/engine/spot.h"
#include "tests/unit/ha-classes.h"

static const struct mqtt_discovery_gateway gateway = {
	.base = "recovery",
	.sw_version = "0.1.0",
	.support_url = "https://example.org/recoveryd",
};

static const struct mqtt_discovery_person alice = { "alice", "Alice" };
static const struct mqtt_discovery_person bob = { "bob_2", NULL };
static const struct mqtt_discovery_device strap = {
	"C4:7C:8D:6A:12:34", "Polar H10 A1B2C3D4", "heart-rate strap", "alice"
};
static const struct mqtt_discovery_device scale = { "5c:ca:d3:00:00:01", NULL,
						    "scale", NULL };

/* ---- helpers ---- */

struct config {
	char *topic;	 /* the device config's topic */
	char *device_id; /* its object id, "recovery_user_alice" */
	char *component; /* the component's platform */
	char *object_id; /* the component id */
	JsonNode *root;	 /* the component as HA sees it, see parse() */
	JsonObject *o;
};

static void config_free(struct config *c)
{
	g_free(c->topic);
	g_free(c->device_id);
	g_free(c->component);
	g_free(c->object_id);
	json_node_unref(c->root);
	g_free(c);
}

static const char *const platforms[] = { "sensor", "binary_sensor", "number",
					 "event", NULL };
/* What the root of a device config may hold beside its components. */
static const char *const root_keys[] = { "device",	 "origin",
					 "availability", "availability_mode",
					 "cmps",	 NULL };

static bool in_list(const char *value, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (g_strcmp0(value, list[i]) == 0)
			return true;
	return false;
}

/*
 * Parses every message, checking the parts every device config must have,
 * and splits it as Home Assistant's discovery does: one config per
 * component, its platform taken out, the root's device, origin and
 * availability added.
 */
static GPtrArray *parse(GPtrArray *messages,
			const struct mqtt_discovery_gateway *gw)
{
	GPtrArray *configs =
	    g_ptr_array_new_with_free_func((GDestroyNotify)config_free);

	for (guint i = 0; i < messages->len; i++) {
		struct mqtt_discovery_message *m = messages->pdata[i];
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autoptr(GError) error = NULL;
		const char *prefix = gw->prefix ? gw->prefix : "homeassistant";
		g_auto(GStrv) levels = NULL;
		g_autoptr(GList) members = NULL;
		g_autoptr(GList) ids = NULL;
		JsonObject *root, *cmps;

		if (!json_parser_load_from_data(parser, m->payload, -1, &error))
			g_error("%s: invalid JSON: %s", m->topic,
				error->message);
		g_assert_true(g_utf8_validate(m->payload, -1, NULL));
		g_assert_true(
		    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
		root = json_node_get_object(json_parser_get_root(parser));
		/* <prefix>/device/recoveryd/<object id>/config */
		g_assert_true(g_str_has_prefix(m->topic, prefix));
		g_assert_cmpint(m->topic[strlen(prefix)], ==, '/');
		levels = g_strsplit(m->topic + strlen(prefix) + 1, "/", -1);
		g_assert_cmpuint(g_strv_length(levels), ==, 4);
		g_assert_cmpstr(levels[0], ==, "device");
		g_assert_cmpstr(levels[1], ==, "recoveryd");
		g_assert_true(
		    g_regex_match_simple("^[A-Za-z0-9_-]+$", levels[2], 0, 0));
		g_assert_cmpstr(levels[3], ==, "config");
		/* Device and origin are mandatory at the root. */
		members = json_object_get_members(root);
		for (GList *l = members; l; l = l->next)
			if (!in_list(l->data, root_keys))
				g_error("%s: root key %s", m->topic,
					(const char *)l->data);
		g_assert_true(json_object_has_member(root, "device"));
		g_assert_true(json_object_has_member(root, "origin"));
		cmps = json_object_get_object_member(root, "cmps");
		g_assert_nonnull(cmps);
		g_assert_cmpuint(json_object_get_size(cmps), >, 0);
		ids = json_object_get_members(cmps);
		for (GList *l = ids; l; l = l->next) {
			JsonObject *in =
			    json_object_get_object_member(cmps, l->data);
			JsonObject *out = json_object_new();
			g_autoptr(GList) keys = json_object_get_members(in);
			const char *platform =
			    json_object_get_string_member_with_default(
				in, "platform", NULL);
			struct config *c = g_new0(struct config, 1);

			if (!in_list(platform, platforms))
				g_error("%s: component %s: platform %s",
					m->topic, (const char *)l->data,
					platform ? platform : "(none)");
			g_assert_true(g_regex_match_simple("^[a-z0-9_]+$",
							   l->data, 0, 0));
			for (GList *k = keys; k; k = k->next)
				if (strcmp(k->data, "platform") != 0)
					json_object_set_member(
					    out, k->data,
					    json_node_copy(
						json_object_get_member(
						    in, k->data)));
			for (size_t r = 0; root_keys[r]; r++)
				if (strcmp(root_keys[r], "cmps") != 0 &&
				    json_object_has_member(root, root_keys[r]))
					json_object_set_member(
					    out, root_keys[r],
					    json_node_copy(
						json_object_get_member(
						    root, root_keys[r])));
			c->root = json_node_init_object(json_node_alloc(), out);
			json_object_unref(out);
			c->o = json_node_get_object(c->root);
			c->topic = g_strdup(m->topic);
			c->device_id = g_strdup(levels[2]);
			c->component = g_strdup(platform);
			c->object_id = g_strdup(l->data);
			g_ptr_array_add(configs, c);
		}
	}
	return configs;
}

static GPtrArray *gateway_configs(const struct mqtt_discovery_gateway *gw)
{
	g_autoptr(GPtrArray) messages = NULL;

	g_assert_cmpint(mqtt_discovery_build_gateway(gw, &messages), ==, 0);
	g_assert_cmpuint(messages->len, ==, 1);
	return parse(messages, gw);
}

static GPtrArray *person_configs(const struct mqtt_discovery_gateway *gw,
				 const struct mqtt_discovery_person *p)
{
	g_autoptr(GPtrArray) messages = NULL;

	g_assert_cmpint(mqtt_discovery_build_person(gw, p, &messages), ==, 0);
	/* One message per device. */
	g_assert_cmpuint(messages->len, ==, 1);
	return parse(messages, gw);
}

static GPtrArray *device_configs(const struct mqtt_discovery_gateway *gw,
				 const struct mqtt_discovery_device *d)
{
	g_autoptr(GPtrArray) messages = NULL;

	g_assert_cmpint(mqtt_discovery_build_device(gw, d, &messages), ==, 0);
	g_assert_cmpuint(messages->len, ==, 1);
	return parse(messages, gw);
}

/* The gateway, Alice, Bob, the strap and the scale: everything one gateway
 * sends. */
static GPtrArray *all_configs(void)
{
	GPtrArray *all =
	    g_ptr_array_new_with_free_func((GDestroyNotify)config_free);
	GPtrArray *parts[] = {
		gateway_configs(&gateway),
		person_configs(&gateway, &alice),
		person_configs(&gateway, &bob),
		device_configs(&gateway, &strap),
		device_configs(&gateway, &scale),
	};

	for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
		/* Move the configs over without freeing them. */
		g_ptr_array_set_free_func(parts[i], NULL);
		for (guint k = 0; k < parts[i]->len; k++)
			g_ptr_array_add(all, parts[i]->pdata[k]);
		g_ptr_array_unref(parts[i]);
	}
	return all;
}

static const char *str(JsonObject *o, const char *key)
{
	return json_object_get_string_member_with_default(o, key, NULL);
}

static const struct config *find(GPtrArray *configs, const char *unique_id)
{
	for (guint i = 0; i < configs->len; i++) {
		const struct config *c = configs->pdata[i];

		if (g_strcmp0(str(c->o, "unique_id"), unique_id) == 0)
			return c;
	}
	return NULL;
}

/* ---- what Home Assistant accepts ---- */

/* The units and state classes HA accepts for the classes we use; a class
 * not listed here fails the test until its row is copied from HA's
 * DEVICE_CLASS_UNITS and DEVICE_CLASS_STATE_CLASSES. */
static const struct class_rule {
	const char *device_class;
	const char *const units[8];	    /* NULL-terminated; empty: none */
	const char *const state_classes[4]; /* likewise */
} class_rules[] = {
	{ "battery", { "%" }, { "measurement" } },
	{ "duration",
	  { "d", "h", "min", "s", "ms", "\xc2\xb5s" },
	  { "measurement", "total", "total_increasing" } },
	{ "weight",
	  { "kg", "g", "mg", "\xc2\xb5g", "oz", "lb", "st" },
	  { "measurement", "total", "total_increasing" } },
	{ "signal_strength", { "dB", "dBm" }, { "measurement" } },
	{ "timestamp", { NULL }, { NULL } },
	{ "enum", { NULL }, { NULL } },
	{ "date", { NULL }, { NULL } },
};

static const char *const state_classes[] = { "measurement", "total",
					     "total_increasing", NULL };

/* The keys each platform's discovery schema knows: a typo would be dropped
 * by HA without a word. */
static const char *const common_keys[] = {
	"name",
	"unique_id",
	"default_entity_id",
	"availability",
	"availability_mode",
	"device",
	"origin",
	"icon",
	"entity_category",
	"json_attributes_topic",
	"json_attributes_template",
	"qos",
	"enabled_by_default",
	NULL,
};
static const char *const sensor_keys[] = {
	"state_topic",
	"value_template",
	"device_class",
	"state_class",
	"unit_of_measurement",
	"options",
	"suggested_display_precision",
	"expire_after",
	"force_update",
	NULL,
};
static const char *const binary_keys[] = {
	"state_topic",	"value_template", "device_class",
	"payload_on",	"payload_off",	  "expire_after",
	"force_update", "off_delay",	  NULL,
};
static const char *const number_keys[] = {
	"command_topic",
	"command_template",
	"min",
	"max",
	"step",
	"mode",
	"state_topic",
	"value_template",
	"unit_of_measurement",
	"device_class",
	"optimistic",
	NULL,
};
static const char *const event_keys[] = {
	"state_topic", "value_template", "event_types", "device_class", NULL,
};

static void check_keys(const struct config *c)
{
	const char *const *platform = NULL;
	g_autoptr(GList) members = json_object_get_members(c->o);

	if (strcmp(c->component, "sensor") == 0)
		platform = sensor_keys;
	else if (strcmp(c->component, "binary_sensor") == 0)
		platform = binary_keys;
	else if (strcmp(c->component, "number") == 0)
		platform = number_keys;
	else if (strcmp(c->component, "event") == 0)
		platform = event_keys;
	else
		g_error("%s: unexpected component %s", c->topic, c->component);
	for (GList *l = members; l; l = l->next)
		if (!in_list(l->data, common_keys) &&
		    !in_list(l->data, platform))
			g_error("%s: key %s is not one %s knows", c->topic,
				(const char *)l->data, c->component);
}

static void check_common(const struct config *c,
			 const struct mqtt_discovery_gateway *gw)
{
	g_autofree char *status = g_strconcat(gw->base, "/status", NULL);
	g_autofree char *domain = g_strconcat(c->component, ".", NULL);
	g_autofree char *device_topic = g_strconcat(gw->base, "/device/", NULL);
	g_autofree char *gateway_id = NULL;
	g_autofree char *expected_id = NULL;
	const char *unique_id = str(c->o, "unique_id");
	const char *entity_id = str(c->o, "default_entity_id");
	JsonArray *availability;
	JsonObject *a, *device, *origin;

	check_keys(c);
	g_assert_nonnull(str(c->o, "name"));
	/* The unique id is the device's id and the component id, in HA's
	 * character class. */
	expected_id =
	    g_strconcat("recoveryd_", c->device_id, "_", c->object_id, NULL);
	g_assert_cmpstr(unique_id, ==, expected_id);
	g_assert_true(
	    g_regex_match_simple("^[A-Za-z0-9_-]+$", unique_id, 0, 0));
	/* valid_entity_id() in homeassistant/core.py. */
	g_assert_true(g_str_has_prefix(entity_id, domain));
	if (!g_regex_match_simple("^(?!.+__)(?!_)[\\da-z_]+(?<!_)\\."
				  "(?!_)[\\da-z_]+(?<!_)$",
				  entity_id, 0, 0))
		g_error("%s: %s is not a valid entity id", c->topic, entity_id);

	/* Available while the gateway's status is online; a BLE device's
	 * entities also only while its device topic is not "silent". */
	g_assert_false(json_object_has_member(c->o, "availability_topic"));
	availability = json_object_get_array_member(c->o, "availability");
	a = json_array_get_object_element(availability, 0);
	g_assert_cmpstr(str(a, "topic"), ==, status);
	g_assert_cmpstr(str(a, "payload_available"), ==, "online");
	g_assert_cmpstr(str(a, "payload_not_available"), ==, "offline");
	g_assert_null(str(a, "value_template"));
	if (strstr(c->device_id, "_ble_")) {
		g_assert_cmpuint(json_array_get_length(availability), ==, 2);
		a = json_array_get_object_element(availability, 1);
		g_assert_true(g_str_has_prefix(str(a, "topic"), device_topic));
		g_assert_cmpstr(str(a, "topic"), ==, str(c->o, "state_topic"));
		g_assert_nonnull(strstr(str(a, "value_template"), "'silent'"));
		g_assert_cmpstr(str(a, "payload_available"), ==, "online");
		g_assert_cmpstr(str(a, "payload_not_available"), ==, "offline");
		g_assert_cmpstr(str(c->o, "availability_mode"), ==, "all");
	} else {
		g_assert_cmpuint(json_array_get_length(availability), ==, 1);
		g_assert_false(
		    json_object_has_member(c->o, "availability_mode"));
	}

	device = json_object_get_object_member(c->o, "device");
	g_assert_nonnull(device);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     device, "identifiers")),
			 ==, 1);
	g_assert_nonnull(str(device, "name"));
	/* Every person and BLE device is reached through the gateway. */
	gateway_id =
	    g_strdup_printf("recoveryd_%.*s_gateway",
			    (int)strcspn(c->device_id, "_"), c->device_id);
	if (g_str_has_suffix(c->device_id, "_gateway"))
		g_assert_false(json_object_has_member(device, "via_device"));
	else
		g_assert_cmpstr(str(device, "via_device"), ==, gateway_id);
	origin = json_object_get_object_member(c->o, "origin");
	g_assert_cmpstr(str(origin, "name"), ==, "recoveryd");
	g_assert_cmpstr(str(origin, "sw_version"), ==, gw->sw_version);
	g_assert_cmpstr(str(origin, "support_url"), ==, gw->support_url);

	if (json_object_has_member(c->o, "icon"))
		g_assert_true(g_regex_match_simple("^[a-z0-9-]+:[a-z0-9-]+$",
						   str(c->o, "icon"), 0, 0));
	if (json_object_has_member(c->o, "entity_category"))
		g_assert_cmpstr(str(c->o, "entity_category"), ==, "diagnostic");
	if (json_object_has_member(c->o, "expire_after"))
		g_assert_cmpint(
		    json_object_get_int_member(c->o, "expire_after"), >, 0);
}

static void check_sensor(const struct config *c)
{
	const char *device_class = str(c->o, "device_class");
	const char *unit = str(c->o, "unit_of_measurement");
	const char *state_class = str(c->o, "state_class");
	const struct class_rule *rule = NULL;

	g_assert_nonnull(str(c->o, "state_topic"));
	g_assert_nonnull(strstr(str(c->o, "value_template"), "default(none)"));
	if (state_class)
		g_assert_true(in_list(state_class, state_classes));
	if (json_object_has_member(c->o, "options")) {
		/* options: enum only, not empty, no unit or state class. */
		g_assert_cmpstr(device_class, ==, "enum");
		g_assert_cmpuint(
		    json_array_get_length(
			json_object_get_array_member(c->o, "options")),
		    >, 0);
	}
	if (!device_class)
		return;
	if (!in_list(device_class, ha_sensor_classes))
		g_error("%s: %s is not a sensor device class", c->topic,
			device_class);
	for (size_t i = 0; i < G_N_ELEMENTS(class_rules); i++)
		if (strcmp(class_rules[i].device_class, device_class) == 0)
			rule = &class_rules[i];
	if (!rule)
		g_error("%s: no unit rule for %s", c->topic, device_class);
	if (rule->units[0] ? !in_list(unit, rule->units) : unit != NULL)
		g_error("%s: unit %s is not one %s takes", c->topic,
			unit ? unit : "(none)", device_class);
	if (rule->state_classes[0]
		? state_class && !in_list(state_class, rule->state_classes)
		: state_class != NULL)
		g_error("%s: state class %s does not go with %s", c->topic,
			state_class, device_class);
	if (strcmp(device_class, "enum") == 0)
		g_assert_true(json_object_has_member(c->o, "options"));
}

static void check_binary(const struct config *c)
{
	const char *device_class = str(c->o, "device_class");

	g_assert_nonnull(str(c->o, "state_topic"));
	g_assert_nonnull(strstr(str(c->o, "value_template"), "default(none)"));
	g_assert_cmpstr(str(c->o, "payload_on"), ==, "ON");
	g_assert_cmpstr(str(c->o, "payload_off"), ==, "OFF");
	if (device_class && !in_list(device_class, ha_binary_sensor_classes))
		g_error("%s: %s is not a binary sensor device class", c->topic,
			device_class);
}

static void check_number(const struct config *c)
{
	static const char *const modes[] = { "auto", "box", "slider", NULL };

	g_assert_nonnull(str(c->o, "command_topic"));
	/* What was stored, not what HA last sent. */
	g_assert_true(g_str_has_suffix(str(c->o, "state_topic"), "/checkin"));
	g_assert_nonnull(strstr(str(c->o, "value_template"), "default(none)"));
	g_assert_cmpint(json_object_get_int_member(c->o, "min"), <,
			json_object_get_int_member(c->o, "max"));
	g_assert_cmpint(json_object_get_int_member(c->o, "step"), >=, 1);
	g_assert_true(in_list(str(c->o, "mode"), modes));
}

static void check_event(const struct config *c)
{
	JsonArray *types = json_object_get_array_member(c->o, "event_types");

	g_assert_true(g_str_has_suffix(str(c->o, "state_topic"), "/alert"));
	g_assert_cmpuint(json_array_get_length(types), >, 0);
	/* HA's MQTT event takes a JSON object with event_type. */
	g_assert_nonnull(strstr(str(c->o, "value_template"), "'event_type'"));
	g_assert_nonnull(strstr(str(c->o, "value_template"), "tojson"));
}

static void test_valid_for_ha(void)
{
	g_autoptr(GPtrArray) configs = all_configs();

	g_assert_cmpuint(configs->len, >, 0);
	for (guint i = 0; i < configs->len; i++) {
		const struct config *c = configs->pdata[i];

		check_common(c, &gateway);
		if (strcmp(c->component, "sensor") == 0)
			check_sensor(c);
		else if (strcmp(c->component, "binary_sensor") == 0)
			check_binary(c);
		else if (strcmp(c->component, "event") == 0)
			check_event(c);
		else
			check_number(c);
	}
}

static void test_unique_ids(void)
{
	g_autoptr(GPtrArray) configs = all_configs();
	g_autoptr(GHashTable) seen =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	/* Unique ids, components and entity ids: each once, across the
	 * gateway, two persons and two devices. */
	for (guint i = 0; i < configs->len; i++) {
		const struct config *c = configs->pdata[i];

		g_assert_true(g_hash_table_add(
		    seen, g_strconcat("id ", str(c->o, "unique_id"), NULL)));
		g_assert_true(g_hash_table_add(
		    seen, g_strconcat("component ", c->topic, " ", c->object_id,
				      NULL)));
		g_assert_true(g_hash_table_add(
		    seen, g_strconcat("entity ", str(c->o, "default_entity_id"),
				      NULL)));
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, 3 * configs->len);
}

/* The keys after the owner's stem must be suffix-free: otherwise user "x"
 * with key "a_b" and user "x_a" with key "b" would share an id. */
static void test_keys_suffix_free(void)
{
	g_autoptr(GPtrArray) configs = all_configs();
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < configs->len; i++) {
		const struct config *c = configs->pdata[i];
		const char *id = str(c->o, "unique_id");
		const char *stems[] = {
			"recoveryd_recovery_user_alice_",
			"recoveryd_recovery_user_bob_2_",
			"recoveryd_recovery_ble_c47c8d6a1234_",
			"recoveryd_recovery_ble_5ccad3000001_",
			"recoveryd_recovery_gateway_",
		};
		const char *key = NULL;

		for (size_t s = 0; s < G_N_ELEMENTS(stems); s++)
			if (g_str_has_prefix(id, stems[s]))
				key = id + strlen(stems[s]);
		g_assert_nonnull(key);
		g_ptr_array_add(keys, g_strdup(key));
	}
	for (guint i = 0; i < keys->len; i++) {
		for (guint k = 0; k < keys->len; k++) {
			g_autofree char *tail =
			    g_strconcat("_", (char *)keys->pdata[k], NULL);

			if (g_str_has_suffix(keys->pdata[i], tail))
				g_error("key %s ends with key %s",
					(char *)keys->pdata[i],
					(char *)keys->pdata[k]);
		}
	}
}

/* ---- the entity list (the issue's, and README's) ---- */

struct entity_vector {
	const char *name;
	const char *unique_id;
	const char *component;
	const char *device_class;
	const char *unit;
	const char *state_class;
	const char *state_topic; /* NULL: a control */
	bool diagnostic;
	bool force_update;
	bool expires;
	const char *command; /* a number's check-in key */
};

#define A "recoveryd_recovery_user_alice_"
#define S "recoveryd_recovery_ble_c47c8d6a1234_"
#define G "recoveryd_recovery_gateway_"

static const struct entity_vector entities[] = {
	{ "/discovery/entity/score", A "score", "sensor", NULL, "%",
	  "measurement", "recovery/alice/state" },
	{ "/discovery/entity/zone", A "zone", "sensor", "enum", NULL, NULL,
	  "recovery/alice/state" },
	{ "/discovery/entity/advice-state", A "advice_state", "sensor", "enum",
	  NULL, NULL, "recovery/alice/state" },
	{ "/discovery/entity/advice-headline", A "advice_headline", "sensor",
	  NULL, NULL, NULL, "recovery/alice/state" },
	{ "/discovery/entity/resting-hr", A "resting_hr", "sensor", NULL, "bpm",
	  "measurement", "recovery/alice/state" },
	{ "/discovery/entity/rmssd", A "rmssd", "sensor", NULL, "ms",
	  "measurement", "recovery/alice/state" },
	{ "/discovery/entity/sleep", A "sleep", "sensor", "duration", "min",
	  "measurement", "recovery/alice/state" },
	{ "/discovery/entity/sleep-efficiency", A "sleep_efficiency", "sensor",
	  NULL, "%", "measurement", "recovery/alice/state" },
	{ "/discovery/entity/weight", A "weight", "sensor", "weight", "kg",
	  "measurement", "recovery/alice/state", .force_update = true },
	{ "/discovery/entity/body-fat", A "body_fat", "sensor", NULL, "%",
	  "measurement", "recovery/alice/state" },
	{ "/discovery/entity/heart-rate", A "heart_rate", "sensor", NULL, "bpm",
	  "measurement", "recovery/alice/live", .expires = true },
	{ "/discovery/entity/contact", A "contact", "binary_sensor", NULL, NULL,
	  NULL, "recovery/alice/live" },
	{ "/discovery/entity/alert", A "alert", "event", NULL, NULL, NULL,
	  "recovery/alice/alert" },
	{ "/discovery/entity/in-bed", A "in_bed", "binary_sensor", "occupancy",
	  NULL, NULL, "recovery/alice/live" },
	{ "/discovery/entity/spot-check", A "spot_check", "sensor", "enum",
	  NULL, NULL, "recovery/alice/live" },
	{ "/discovery/entity/mood", A "mood", "number",
	  .state_topic = "recovery/alice/checkin", .command = "mood" },
	{ "/discovery/entity/soreness", A "soreness", "number",
	  .state_topic = "recovery/alice/checkin", .command = "soreness" },
	{ "/discovery/entity/energy", A "energy", "number",
	  .state_topic = "recovery/alice/checkin", .command = "energy" },
	{ "/discovery/entity/battery", S "battery", "sensor", "battery", "%",
	  "measurement", "recovery/device/c47c8d6a1234", .diagnostic = true },
	{ "/discovery/entity/connected", S "connected", "binary_sensor",
	  "connectivity", NULL, NULL, "recovery/device/c47c8d6a1234",
	  .diagnostic = true },
	{ "/discovery/entity/last-seen", S "last_seen", "sensor", "timestamp",
	  NULL, NULL, "recovery/device/c47c8d6a1234", .diagnostic = true },
	{ "/discovery/entity/advertised-name", S "advertised_name", "sensor",
	  NULL, NULL, NULL, "recovery/device/c47c8d6a1234",
	  .diagnostic = true },
	{ "/discovery/entity/gateway-version", G "version", "sensor", NULL,
	  NULL, NULL, "recovery/gateway", .diagnostic = true },
	{ "/discovery/entity/gateway-adapter", G "adapter", "sensor", NULL,
	  NULL, NULL, "recovery/gateway", .diagnostic = true },
	{ "/discovery/entity/gateway-outbox", G "outbox_backlog", "sensor",
	  NULL, "messages", "measurement", "recovery/gateway",
	  .diagnostic = true },
	{ "/discovery/entity/gateway-last-analysis", G "last_analysis",
	  "sensor", "timestamp", NULL, NULL, "recovery/gateway",
	  .diagnostic = true },
};

static void test_entity(gconstpointer data)
{
	const struct entity_vector *v = data;
	g_autoptr(GPtrArray) configs = all_configs();
	const struct config *c = find(configs, v->unique_id);
	const char *category;

	g_assert_nonnull(c);
	g_assert_cmpstr(c->component, ==, v->component);
	g_assert_cmpstr(str(c->o, "device_class"), ==, v->device_class);
	g_assert_cmpstr(str(c->o, "unit_of_measurement"), ==, v->unit);
	g_assert_cmpstr(str(c->o, "state_class"), ==, v->state_class);
	g_assert_cmpstr(str(c->o, "state_topic"), ==, v->state_topic);
	category = str(c->o, "entity_category");
	g_assert_cmpstr(category, ==, v->diagnostic ? "diagnostic" : NULL);
	g_assert_cmpint(json_object_get_boolean_member_with_default(
			    c->o, "force_update", FALSE),
			==, v->force_update);
	g_assert_cmpint(json_object_has_member(c->o, "expire_after"), ==,
			v->expires);
	if (v->expires)
		g_assert_cmpint(
		    json_object_get_int_member(c->o, "expire_after"), ==,
		    MQTT_DISCOVERY_LIVE_EXPIRE_S);
	if (v->command) {
		g_assert_cmpstr(str(c->o, "command_topic"), ==,
				"recovery/alice/checkin/set");
		g_assert_cmpint(json_object_get_int_member(c->o, "min"), ==, 1);
		g_assert_cmpint(json_object_get_int_member(c->o, "max"), ==, 5);
		g_assert_cmpint(json_object_get_int_member(c->o, "step"), ==,
				1);
	}
}

/* No entity beyond the list: a new one gets a row above. */
static void test_entity_list_complete(void)
{
	g_autoptr(GPtrArray) persons = person_configs(&gateway, &alice);
	g_autoptr(GPtrArray) devices = device_configs(&gateway, &strap);
	g_autoptr(GPtrArray) gw = gateway_configs(&gateway);
	guint listed_person = 0, listed_device = 0, listed_gateway = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(entities); i++) {
		if (g_str_has_prefix(entities[i].unique_id, A))
			listed_person++;
		else if (g_str_has_prefix(entities[i].unique_id, G))
			listed_gateway++;
		else
			listed_device++;
	}
	g_assert_cmpuint(persons->len, ==, listed_person);
	g_assert_cmpuint(devices->len, ==, listed_device);
	g_assert_cmpuint(gw->len, ==, listed_gateway);
	/* No RSSI: no reading carries it, so it would be unknown for ever. */
	g_assert_null(find(devices, S "rssi"));
}

/*
 * HA renders the command template with the number's value (3 or 3.0): the
 * message it publishes must be one inbound.c accepts. The render is done
 * by hand for the one expression the template uses.
 */
static void test_command_template(void)
{
	static const char expression[] = "{{ value | int }}";
	g_autoptr(GPtrArray) configs = person_configs(&gateway, &alice);
	guint numbers = 0;

	for (guint i = 0; i < configs->len; i++) {
		const struct config *c = configs->pdata[i];
		const char *template = str(c->o, "command_template");
		const char *key = strrchr(str(c->o, "unique_id"), '_') + 1;
		g_autofree char *message = NULL;
		g_autofree char *reason = NULL;
		const char *at;
		struct mqtt_checkin checkin;
		double *field;
		int r;

		if (strcmp(c->component, "number") != 0)
			continue;
		numbers++;
		at = strstr(template, expression);
		g_assert_nonnull(at);
		message = g_strdup_printf("%.*s4%s", (int)(at - template),
					  template, at + strlen(expression));
		r = mqtt_inbound_parse_checkin(message, strlen(message),
					       &checkin, &reason);
		if (r < 0)
			g_error("%s: %s refused: %s", c->topic, message,
				reason);
		field = strcmp(key, "mood") == 0       ? &checkin.mood
			: strcmp(key, "soreness") == 0 ? &checkin.soreness
						       : &checkin.energy;
		g_assert_cmpfloat(*field, ==, 4);
	}
	g_assert_cmpuint(numbers, ==, 3);
}

/* @name is one of @options, or the test fails naming @what. */
static void assert_option(JsonArray *options, const char *name,
			  const char *what)
{
	for (guint i = 0; i < json_array_get_length(options); i++)
		if (strcmp(json_array_get_string_element(options, i), name) ==
		    0)
			return;
	g_error("%s %s is not an option", what, name);
}

/* The enum sensors' options cover every name the gateway publishes. */
static void test_enum_options(void)
{
	g_autoptr(GPtrArray) configs = person_configs(&gateway, &alice);
	const struct config *state = find(configs, A "advice_state");
	const struct config *zone = find(configs, A "zone");
	const struct config *spot = find(configs, A "spot_check");

	g_assert_nonnull(state);
	g_assert_nonnull(zone);
	g_assert_nonnull(spot);
	for (int s = ADVICE_NO_DATA; s <= ADVICE_PRIMED; s++)
		assert_option(json_object_get_array_member(state->o, "options"),
			      advice_state_name((enum advice_state)s),
			      "advice state");
	for (int ph = SPOT_PHASE_SETTLING; ph <= SPOT_PHASE_TOO_SHORT; ph++)
		assert_option(json_object_get_array_member(spot->o, "options"),
			      spot_phase_name((enum spot_phase)ph),
			      "spot phase");
	for (int z = SCORE_ZONE_RED; z <= SCORE_ZONE_GREEN; z++)
		assert_option(json_object_get_array_member(zone->o, "options"),
			      score_zone_name((enum score_zone)z), "zone");
}

static void test_devices(void)
{
	g_autoptr(GPtrArray) person = person_configs(&gateway, &alice);
	g_autoptr(GPtrArray) ble = device_configs(&gateway, &strap);
	g_autoptr(GPtrArray) unnamed = device_configs(&gateway, &scale);
	JsonObject *d;
	JsonArray *connection;

	d = json_object_get_object_member(
	    ((struct config *)person->pdata[0])->o, "device");
	g_assert_cmpstr(json_array_get_string_element(
			    json_object_get_array_member(d, "identifiers"), 0),
			==, "recoveryd_recovery_user_alice");
	g_assert_cmpstr(str(d, "name"), ==, "Recovery Alice");
	g_assert_cmpstr(str(d, "manufacturer"), ==, "recoveryd");
	g_assert_cmpstr(str(d, "model"), ==, "Personal recovery");
	g_assert_cmpstr(str(d, "sw_version"), ==, "0.1.0");
	g_assert_cmpstr(str(d, "via_device"), ==, "recoveryd_recovery_gateway");

	d = json_object_get_object_member(((struct config *)ble->pdata[0])->o,
					  "device");
	g_assert_cmpstr(str(d, "via_device"), ==, "recoveryd_recovery_gateway");
	g_assert_cmpstr(json_array_get_string_element(
			    json_object_get_array_member(d, "identifiers"), 0),
			==, "recoveryd_recovery_ble_c47c8d6a1234");
	g_assert_cmpstr(str(d, "name"), ==, "Polar H10 A1B2C3D4");
	g_assert_cmpstr(str(d, "model"), ==, "heart-rate strap");
	connection = json_array_get_array_element(
	    json_object_get_array_member(d, "connections"), 0);
	g_assert_cmpuint(json_array_get_length(connection), ==, 2);
	g_assert_cmpstr(json_array_get_string_element(connection, 0), ==,
			"bluetooth");
	g_assert_cmpstr(json_array_get_string_element(connection, 1), ==,
			"C4:7C:8D:6A:12:34");

	/* No name: made from the kind and the address, upper-cased. */
	d = json_object_get_object_member(
	    ((struct config *)unnamed->pdata[0])->o, "device");
	g_assert_cmpstr(str(d, "name"), ==, "scale 5C:CA:D3:00:00:01");

	/* Every config of an owner carries the same device. */
	for (guint i = 1; i < person->len; i++)
		g_assert_true(json_node_equal(
		    json_object_get_member(
			((struct config *)person->pdata[i])->o, "device"),
		    json_object_get_member(
			((struct config *)person->pdata[0])->o, "device")));
}

/* The gateway device: what the others name as via_device, with the
 * dashboard as its configuration URL. */
static void test_gateway_device(void)
{
	struct mqtt_discovery_gateway with_url = gateway;
	g_autoptr(GPtrArray) plain = gateway_configs(&gateway);
	g_autoptr(GPtrArray) linked = NULL;
	g_autoptr(GPtrArray) messages = NULL;
	JsonObject *d;

	g_assert_cmpint(mqtt_discovery_build_gateway(&gateway, &messages), ==,
			0);
	g_assert_cmpstr(
	    ((struct mqtt_discovery_message *)messages->pdata[0])->topic, ==,
	    "homeassistant/device/recoveryd/recovery_gateway/config");
	g_assert_null(
	    ((struct mqtt_discovery_message *)messages->pdata[0])->legacy);
	d = json_object_get_object_member(((struct config *)plain->pdata[0])->o,
					  "device");
	g_assert_cmpstr(json_array_get_string_element(
			    json_object_get_array_member(d, "identifiers"), 0),
			==, "recoveryd_recovery_gateway");
	g_assert_cmpstr(str(d, "name"), ==, "Recovery gateway");
	g_assert_cmpstr(str(d, "sw_version"), ==, "0.1.0");
	g_assert_false(json_object_has_member(d, "configuration_url"));
	g_assert_false(json_object_has_member(d, "via_device"));

	with_url.configuration_url = "https://recovery.local:8081/";
	linked = gateway_configs(&with_url);
	d = json_object_get_object_member(
	    ((struct config *)linked->pdata[0])->o, "device");
	g_assert_cmpstr(str(d, "configuration_url"), ==,
			"https://recovery.local:8081/");
}

/*
 * The migration from earlier versions' per-entity configs: every old topic
 * of an entity that is still there names a unique id the device config
 * carries (Home Assistant hands the entity over by unique id); the RSSI
 * sensor is gone and only deleted.
 */
static void test_legacy(void)
{
	static const struct {
		const struct mqtt_discovery_person *person;
		const struct mqtt_discovery_device *device;
		guint migrated, retired;
	} owners[] = {
		{ &alice, NULL, 16, 0 },
		{ NULL, &strap, 3, 1 },
	};
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	struct mqtt_discovery_message *migration =
	    mqtt_discovery_migration("homeassistant/sensor/x/config");

	for (size_t i = 0; i < G_N_ELEMENTS(owners); i++) {
		g_autoptr(GPtrArray) messages = NULL;
		g_autoptr(GPtrArray) configs = NULL;
		const struct mqtt_discovery_message *m;

		if (owners[i].person)
			g_assert_cmpint(
			    mqtt_discovery_build_person(
				&gateway, owners[i].person, &messages),
			    ==, 0);
		else
			g_assert_cmpint(
			    mqtt_discovery_build_device(
				&gateway, owners[i].device, &messages),
			    ==, 0);
		m = messages->pdata[0];
		configs = parse(messages, &gateway);
		g_assert_cmpuint(g_strv_length(m->legacy), ==,
				 owners[i].migrated);
		g_assert_cmpuint(g_strv_length(m->retired), ==,
				 owners[i].retired);
		for (char **t = m->legacy; *t; t++) {
			g_auto(GStrv) levels = g_strsplit(*t, "/", -1);

			/* <prefix>/<component>/<unique id>/config, the
			 * entity of that id in the config, same platform. */
			g_assert_cmpuint(g_strv_length(levels), ==, 4);
			g_assert_cmpstr(levels[0], ==, "homeassistant");
			g_assert_cmpstr(levels[3], ==, "config");
			g_assert_nonnull(find(configs, levels[2]));
			g_assert_cmpstr(find(configs, levels[2])->component, ==,
					levels[1]);
			/* Not among the configs the sweep looks after. */
			g_assert_false(
			    mqtt_discovery_topic_is_ours(&gateway, *t));
		}
		for (char **t = m->retired; *t; t++) {
			g_auto(GStrv) levels = g_strsplit(*t, "/", -1);

			g_assert_null(find(configs, levels[2]));
		}
	}
	g_assert_cmpstr(migration->topic, ==, "homeassistant/sensor/x/config");
	g_assert_true(
	    json_parser_load_from_data(parser, migration->payload, -1, &error));
	g_assert_no_error(error);
	g_assert_true(json_object_get_boolean_member(
	    json_node_get_object(json_parser_get_root(parser)),
	    "migrate_discovery"));
	mqtt_discovery_message_free(migration);
}

/* Stable across restarts: the same input gives the same bytes. */
static void test_stable(void)
{
	g_autoptr(GPtrArray) one = NULL;
	g_autoptr(GPtrArray) two = NULL;

	g_assert_cmpint(mqtt_discovery_build_person(&gateway, &alice, &one), ==,
			0);
	g_assert_cmpint(mqtt_discovery_build_person(&gateway, &alice, &two), ==,
			0);
	g_assert_cmpuint(one->len, ==, two->len);
	for (guint i = 0; i < one->len; i++) {
		struct mqtt_discovery_message *a = one->pdata[i];
		struct mqtt_discovery_message *b = two->pdata[i];

		g_assert_cmpstr(a->topic, ==, b->topic);
		g_assert_cmpstr(a->payload, ==, b->payload);
	}
}

/* Another base, another prefix, a name that needs slugging. */
static void test_other_base(void)
{
	static const struct mqtt_discovery_gateway other = {
		.base = "home/Recovery",
		.prefix = "ha/discovery",
	};
	static const struct mqtt_discovery_person odd = { "-Odd__Name-",
							  "Zo\xc3\xab" };
	g_autoptr(GPtrArray) configs = person_configs(&other, &odd);
	const struct config *score =
	    find(configs, "recoveryd_home-2f-52ecovery_user_-Odd__Name-_score");
	JsonObject *device;

	g_assert_nonnull(score);
	g_assert_cmpstr(score->topic, ==,
			"ha/discovery/device/recoveryd/"
			"home-2f-52ecovery_user_-Odd__Name-/config");
	g_assert_cmpstr(str(score->o, "default_entity_id"), ==,
			"sensor.home_recovery_odd_name_score");
	g_assert_cmpstr(str(score->o, "state_topic"), ==,
			"home/Recovery/-Odd__Name-/state");
	g_assert_false(json_object_has_member(score->o, "sw_version"));
	device = json_object_get_object_member(score->o, "device");
	g_assert_cmpstr(str(device, "name"), ==, "Recovery Zo\xc3\xab");
	for (guint i = 0; i < configs->len; i++) {
		struct config *c = configs->pdata[i];
		g_autofree char *domain = g_strconcat(c->component, ".", NULL);

		g_assert_true(
		    g_str_has_prefix(str(c->o, "default_entity_id"), domain));
	}
}

/* ---- stale configs ---- */

struct ours_vector {
	const char *name;
	const char *topic;
	bool ours;
};

#define DEV "homeassistant/device/recoveryd/"

static const struct ours_vector ours[] = {
	{ "/discovery/ours/person", DEV "recovery_user_alice/config", true },
	{ "/discovery/ours/gone-user", DEV "recovery_user_carol/config", true },
	{ "/discovery/ours/device", DEV "recovery_ble_c47c8d6a1234/config",
	  true },
	{ "/discovery/ours/gateway", DEV "recovery_gateway/config", true },
	{ "/discovery/ours/gateway-suffix", DEV "recovery_gatewayx/config",
	  false },
	/* The per-entity configs of earlier versions are migrated, not
	 * swept. */
	{ "/discovery/ours/legacy",
	  "homeassistant/sensor/recoveryd_recovery_user_alice_score/config",
	  false },
	{ "/discovery/ours/other-base-levels",
	  DEV "recovery-2fx_user_alice/config", false },
	{ "/discovery/ours/other-base-suffix",
	  DEV "recoveryx_user_alice/config", false },
	{ "/discovery/ours/other-base-case", DEV "-52ecovery_user_alice/config",
	  false },
	{ "/discovery/ours/other-node",
	  "homeassistant/device/otherd/recovery_user_alice/config", false },
	{ "/discovery/ours/no-node",
	  "homeassistant/device/recovery_user_alice/config", false },
	{ "/discovery/ours/other-prefix",
	  "ha/device/recoveryd/recovery_user_alice/config", false },
	{ "/discovery/ours/prefix-lookalike",
	  "homeassistantx/device/recoveryd/recovery_user_alice/config", false },
	{ "/discovery/ours/not-config", DEV "recovery_user_alice/state",
	  false },
	{ "/discovery/ours/extra-level", DEV "recovery_user_alice/config/x",
	  false },
	{ "/discovery/ours/no-owner", DEV "recovery_user_/config", false },
	{ "/discovery/ours/unknown-kind", DEV "recovery_gw_status/config",
	  false },
	{ "/discovery/ours/wildcard", DEV "+/config", false },
	{ "/discovery/ours/bad-chars", DEV "recovery_user_al.ice/config",
	  false },
	{ "/discovery/ours/empty-object", DEV "/config", false },
	{ "/discovery/ours/birth", "homeassistant/status", false },
	{ "/discovery/ours/empty", "", false },
	{ "/discovery/ours/null", NULL, false },
};

static void test_ours(gconstpointer data)
{
	const struct ours_vector *v = data;

	g_assert_cmpint(mqtt_discovery_topic_is_ours(&gateway, v->topic), ==,
			v->ours);
}

/* What one gateway publishes is its own and no other base's. */
static void test_ours_built(void)
{
	static const char *const others[] = { "recovery/x", "recovery_x",
					      "Recovery",   "recovery-x",
					      "recoveryd",  "x/recovery" };
	g_autoptr(GPtrArray) configs = all_configs();
	g_autofree char *filter = mqtt_discovery_topic_filter(&gateway);

	/* Ours only: no other integration's configs come back. */
	g_assert_cmpstr(filter, ==, "homeassistant/device/recoveryd/+/config");
	for (guint i = 0; i < configs->len; i++) {
		const struct config *c = configs->pdata[i];

		g_assert_true(mqtt_discovery_topic_is_ours(&gateway, c->topic));
		for (size_t k = 0; k < G_N_ELEMENTS(others); k++) {
			struct mqtt_discovery_gateway other = gateway;

			other.base = others[k];
			g_assert_false(
			    mqtt_discovery_topic_is_ours(&other, c->topic));
		}
	}
}

static void test_removal(void)
{
	g_autoptr(GPtrArray) built = NULL;
	g_autoptr(GPtrArray) removed = NULL;
	g_autoptr(GPtrArray) device_built = NULL;
	g_autoptr(GPtrArray) device_removed = NULL;
	struct mqtt_discovery_message *one;

	g_assert_cmpint(mqtt_discovery_build_person(&gateway, &alice, &built),
			==, 0);
	g_assert_cmpint(
	    mqtt_discovery_remove_person(&gateway, "alice", &removed), ==, 0);
	g_assert_cmpuint(built->len, ==, removed->len);
	for (guint i = 0; i < built->len; i++) {
		struct mqtt_discovery_message *b = built->pdata[i];
		struct mqtt_discovery_message *r = removed->pdata[i];

		g_assert_cmpstr(b->topic, ==, r->topic);
		g_assert_cmpstr(r->payload, ==, "");
	}

	g_assert_cmpint(
	    mqtt_discovery_build_device(&gateway, &strap, &device_built), ==,
	    0);
	g_assert_cmpint(mqtt_discovery_remove_device(
			    &gateway, "c4:7c:8d:6a:12:34", &device_removed),
			==, 0);
	g_assert_cmpuint(device_built->len, ==, device_removed->len);
	for (guint i = 0; i < device_built->len; i++) {
		struct mqtt_discovery_message *b = device_built->pdata[i];
		struct mqtt_discovery_message *r = device_removed->pdata[i];

		g_assert_cmpstr(b->topic, ==, r->topic);
		g_assert_cmpstr(r->payload, ==, "");
	}

	one = mqtt_discovery_removal("homeassistant/sensor/x/config");
	g_assert_cmpstr(one->topic, ==, "homeassistant/sensor/x/config");
	g_assert_cmpstr(one->payload, ==, "");
	mqtt_discovery_message_free(one);
	mqtt_discovery_message_free(NULL);
}

/* ---- refused input ---- */

struct invalid_vector {
	const char *name;
	struct mqtt_discovery_gateway gateway;
	bool bad_gateway;
	const char *user;    /* a person when set */
	const char *address; /* else a device */
};

static const struct invalid_vector invalids[] = {
	{ "/discovery/invalid/base-wildcard", { "recovery/+" }, true, "alice" },
	{ "/discovery/invalid/base-null", { NULL }, true, "alice" },
	{ "/discovery/invalid/base-is-prefix",
	  { "homeassistant" },
	  true,
	  "alice" },
	{ "/discovery/invalid/base-under-prefix",
	  { "ha/recovery", "ha" },
	  true,
	  "alice" },
	{ "/discovery/invalid/prefix-under-base",
	  { "recovery", "recovery/ha" },
	  true,
	  "alice" },
	{ "/discovery/invalid/prefix-wildcard",
	  { "recovery", "ha/#" },
	  true,
	  "alice" },
	{ "/discovery/invalid/prefix-empty",
	  { "recovery", "" },
	  true,
	  "alice" },
	{ "/discovery/invalid/configuration-url",
	  { "recovery", NULL, NULL, NULL, "ftp://box/" },
	  true,
	  "alice" },
	{ "/discovery/invalid/user-level", { "recovery" }, false, "al/ice" },
	{ "/discovery/invalid/user-empty", { "recovery" }, false, "" },
	{ "/discovery/invalid/user-device", { "recovery" }, false, "device" },
	{ "/discovery/invalid/address-short",
	  { "recovery" },
	  false,
	  NULL,
	  "C4:7C" },
	{ "/discovery/invalid/address-null",
	  { "recovery" },
	  false,
	  NULL,
	  NULL },
	{ "/discovery/invalid/address-base",
	  { "recovery/#" },
	  true,
	  NULL,
	  "C4:7C:8D:6A:12:34" },
};

static void test_invalid(gconstpointer data)
{
	static int sentinel;
	const struct invalid_vector *v = data;
	GPtrArray *messages = (GPtrArray *)&sentinel;
	g_autofree char *filter = mqtt_discovery_topic_filter(&v->gateway);

	if (v->user) {
		struct mqtt_discovery_person p = { v->user, NULL };

		g_assert_cmpint(
		    mqtt_discovery_build_person(&v->gateway, &p, &messages), ==,
		    -EINVAL);
		g_assert_cmpint(mqtt_discovery_remove_person(
				    &v->gateway, v->user, &messages),
				==, -EINVAL);
	} else {
		struct mqtt_discovery_device d = { v->address };

		g_assert_cmpint(
		    mqtt_discovery_build_device(&v->gateway, &d, &messages), ==,
		    -EINVAL);
		g_assert_cmpint(mqtt_discovery_remove_device(
				    &v->gateway, v->address, &messages),
				==, -EINVAL);
	}
	g_assert_true(messages == (GPtrArray *)&sentinel);
	g_assert_cmpint(mqtt_discovery_build_gateway(&v->gateway, &messages),
			==, v->bad_gateway ? -EINVAL : 0);
	if (!v->bad_gateway)
		g_ptr_array_unref(messages);
	/* An invalid gateway subscribes to nothing and owns nothing. */
	g_assert_cmpint(filter == NULL, ==, v->bad_gateway);
	if (v->bad_gateway)
		g_assert_false(mqtt_discovery_topic_is_ours(
		    &v->gateway, "homeassistant/device/recoveryd/"
				 "recovery_user_alice/config"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/discovery/valid-for-ha", test_valid_for_ha);
	g_test_add_func("/discovery/unique-ids", test_unique_ids);
	g_test_add_func("/discovery/keys-suffix-free", test_keys_suffix_free);
	for (size_t i = 0; i < G_N_ELEMENTS(entities); i++)
		g_test_add_data_func(entities[i].name, &entities[i],
				     test_entity);
	g_test_add_func("/discovery/entity/list-complete",
			test_entity_list_complete);
	g_test_add_func("/discovery/command-template", test_command_template);
	g_test_add_func("/discovery/enum-options", test_enum_options);
	g_test_add_func("/discovery/devices", test_devices);
	g_test_add_func("/discovery/gateway-device", test_gateway_device);
	g_test_add_func("/discovery/legacy", test_legacy);
	g_test_add_func("/discovery/stable", test_stable);
	g_test_add_func("/discovery/other-base", test_other_base);
	for (size_t i = 0; i < G_N_ELEMENTS(ours); i++)
		g_test_add_data_func(ours[i].name, &ours[i], test_ours);
	g_test_add_func("/discovery/ours/built", test_ours_built);
	g_test_add_func("/discovery/removal", test_removal);
	for (size_t i = 0; i < G_N_ELEMENTS(invalids); i++)
		g_test_add_data_func(invalids[i].name, &invalids[i],
				     test_invalid);
	return g_test_run();
}
