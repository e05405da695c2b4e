// SPDX-License-Identifier: MIT
/*
 * Home Assistant MQTT discovery configs. Keys and rules as Home Assistant
 * documents and validates them (integrations/mqtt, sensor.mqtt,
 * binary_sensor.mqtt, number.mqtt; sensor/const.py DEVICE_CLASS_UNITS and
 * DEVICE_CLASS_STATE_CLASSES): full key names, not the abbreviations, so a
 * config reads as it is documented.
 */
#include "mqtt/discovery.h"

#include <errno.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gateway/common/json-text.h"
#include "mqtt/payload.h"
#include "mqtt/topic.h"

#define DEFAULT_PREFIX "homeassistant"
#define ORIGIN_NAME    "recoveryd"
#define ID_PREFIX      "recoveryd_"
/* The node id level of every device config topic. */
#define NODE_ID "recoveryd"

/* Which of the owner's topics an entity reads. */
enum source {
	SOURCE_STATE,
	SOURCE_LIVE,
	SOURCE_DEVICE,
	SOURCE_CHECKIN, /* the stored check-in; writes the check-in topic */
	SOURCE_ALERT,	/* the morning alert: an event, not a state */
	SOURCE_GATEWAY,
};

/* How the value template turns the JSON value into a state. */
enum shape {
	SHAPE_VALUE,	 /* as is; absent or null: unknown */
	SHAPE_OPTION,	 /* one of the options, anything else unknown */
	SHAPE_FLAG,	 /* true/false -> ON/OFF */
	SHAPE_CONNECTED, /* a connection name -> ON/OFF */
	SHAPE_EVENT,	 /* the alert -> {"event_type": ..., ...} */
};

struct entity {
	const char *key; /* the unique id's last part and component id */
	const char *component;
	const char *name; /* HA prefixes it with the device name */
	enum source source;
	const char *path; /* the key in the payload, "metrics.sleep_min" */
	enum shape shape;
	const char *device_class;
	const char *state_class;
	const char *unit;
	const char *icon;
	const char *const *options;
	bool show_decimals;
	int decimals; /* suggested_display_precision when show_decimals */
	const char *attributes; /* json_attributes_template on the source */
	int expire_after_s;
	bool force_update;
	bool diagnostic;
	const char *checkin; /* a number's key in the check-in message */
};

/* gateway/engine/score.c score_zone_name(); "none" (no score): unknown. */
static const char *const zone_options[] = { "green", "yellow", "red", NULL };

/* gateway/engine/advice.c advice_state_name(), every state. */
static const char *const advice_options[] = {
	"no-data",     "calibrating", "running-on-empty", "overreaching",
	"one-off-dip", "comeback",    "early-warning",	  "strained",
	"stale",       "steady",      "primed",		  NULL,
};

/* gateway/engine/spot.c spot_phase_name(), every phase: the live topic's
 * "spot"; without a spot check this morning it is absent (unknown). */
static const char *const spot_options[] = {
	"settling", "measuring", "done", "too-noisy", "too-short", NULL,
};

/* The alert's event types: the morning's alert, and the same day's alert
 * sent again because later data changed its advice ("update": true). */
static const char *const alert_events[] = { "morning", "update", NULL };

/* The state message's score comes with why: its date, whether it is still
 * calibrating, and the weighted components. */
#define SCORE_ATTRIBUTES                                                       \
	"{{ {'date': value_json.date | default(none), "                        \
	"'calibrating': value_json.calibrating | default(none), "              \
	"'components': value_json.components | default({})} | tojson }}"

/*
 * Unique id parts must stay suffix-free ("sleep" and "sleep_efficiency" are
 * fine; a key "efficiency" would make user "x_sleep" + "efficiency" collide
 * with user "x" + "sleep_efficiency"): test-discovery checks it.
 */
static const struct entity person_entities[] = {
	{ "score", "sensor", "Score", SOURCE_STATE, "score", SHAPE_VALUE,
	  .state_class = "measurement", .unit = "%", .icon = "mdi:gauge",
	  .show_decimals = true, .decimals = 0,
	  .attributes = SCORE_ATTRIBUTES },
	{ "zone", "sensor", "Zone", SOURCE_STATE, "zone", SHAPE_OPTION,
	  .device_class = "enum", .icon = "mdi:traffic-light",
	  .options = zone_options },
	{ "advice_state", "sensor", "Advice", SOURCE_STATE, "advice.state",
	  SHAPE_OPTION, .device_class = "enum", .icon = "mdi:compass-outline",
	  .options = advice_options },
	{ "advice_headline", "sensor", "Advice headline", SOURCE_STATE,
	  "advice.headline", SHAPE_VALUE, .icon = "mdi:message-text-outline",
	  .attributes = "{{ value_json.advice | default({}) | tojson }}" },
	{ "resting_hr", "sensor", "Resting heart rate", SOURCE_STATE,
	  "metrics.resting_hr_bpm", SHAPE_VALUE, .state_class = "measurement",
	  .unit = "bpm", .icon = "mdi:heart", .show_decimals = true,
	  .decimals = 0 },
	{ "rmssd", "sensor", "HRV (RMSSD)", SOURCE_STATE, "metrics.rmssd_ms",
	  SHAPE_VALUE, .state_class = "measurement", .unit = "ms",
	  .icon = "mdi:heart-pulse", .show_decimals = true, .decimals = 0 },
	{ "sleep", "sensor", "Sleep", SOURCE_STATE, "metrics.sleep_min",
	  SHAPE_VALUE, .device_class = "duration", .state_class = "measurement",
	  .unit = "min", .icon = "mdi:sleep", .show_decimals = true,
	  .decimals = 0 },
	{ "sleep_efficiency", "sensor", "Sleep efficiency", SOURCE_STATE,
	  "metrics.sleep_efficiency_pct", SHAPE_VALUE,
	  .state_class = "measurement", .unit = "%", .icon = "mdi:bed",
	  .show_decimals = true, .decimals = 0 },
	/* From the morning's weighing in the state message, not the live
	 * last weight: force_update records each morning even at the same
	 * weight, and the live topic repeats every few seconds. */
	{ "weight", "sensor", "Weight", SOURCE_STATE, "metrics.weight_kg",
	  SHAPE_VALUE, .device_class = "weight", .state_class = "measurement",
	  .unit = "kg", .show_decimals = true, .decimals = 1,
	  .force_update = true },
	{ "body_fat", "sensor", "Body fat", SOURCE_STATE,
	  "metrics.body_fat_pct", SHAPE_VALUE, .state_class = "measurement",
	  .unit = "%", .icon = "mdi:scale-bathroom", .show_decimals = true,
	  .decimals = 1 },
	/* A heart rate has no HA device class: unit and state class only. */
	{ "heart_rate", "sensor", "Heart rate", SOURCE_LIVE, "heart_rate_bpm",
	  SHAPE_VALUE, .state_class = "measurement", .unit = "bpm",
	  .icon = "mdi:heart-pulse", .show_decimals = true, .decimals = 0,
	  .expire_after_s = MQTT_DISCOVERY_LIVE_EXPIRE_S },
	/* Whether the strap touches the skin (the Heart Rate Measurement's
	 * sensor contact bit): a heart rate without it is no reading. */
	{ "contact", "binary_sensor", "Strap contact", SOURCE_LIVE, "contact",
	  SHAPE_FLAG, .icon = "mdi:heart-flash" },
	{ "in_bed", "binary_sensor", "In bed", SOURCE_LIVE, "bed", SHAPE_FLAG,
	  .device_class = "occupancy" },
	/* The morning spot check as it goes: how far, and its RMSSD. */
	{ "spot_check", "sensor", "Spot check", SOURCE_LIVE, "spot",
	  SHAPE_OPTION, .device_class = "enum", .icon = "mdi:timer-outline",
	  .options = spot_options,
	  .attributes = "{{ {'measured_s': value_json.spot_measured_s | "
			"default(none), 'rmssd_ms': value_json.spot_rmssd_ms "
			"| default(none)} | tojson }}" },
	{ "alert", "event", "Morning alert", SOURCE_ALERT, .shape = SHAPE_EVENT,
	  .icon = "mdi:bell-ring-outline", .options = alert_events },
	{ "mood", "number", "Mood", SOURCE_CHECKIN, "mood",
	  .icon = "mdi:emoticon-outline", .checkin = "mood" },
	{ "soreness", "number", "Soreness", SOURCE_CHECKIN, "soreness",
	  .icon = "mdi:arm-flex", .checkin = "soreness" },
	{ "energy", "number", "Energy", SOURCE_CHECKIN, "energy",
	  .icon = "mdi:lightning-bolt", .checkin = "energy" },
};

/*
 * No RSSI entity: the daemon hears an allowlisted device through its
 * notifications or its decoded adverts, neither of which carries the
 * signal strength, and an entity that is always unknown helps nobody.
 */
static const struct entity device_entities[] = {
	{ "battery", "sensor", "Battery", SOURCE_DEVICE, "battery_pct",
	  SHAPE_VALUE, .device_class = "battery", .state_class = "measurement",
	  .unit = "%", .diagnostic = true },
	/* An advertiser (scale, bed sensor) is never connected: heard is
	 * as connected as it gets. */
	{ "connected", "binary_sensor", "Connected", SOURCE_DEVICE,
	  "connection", SHAPE_CONNECTED, .device_class = "connectivity",
	  .diagnostic = true },
	{ "last_seen", "sensor", "Last seen", SOURCE_DEVICE, "last_seen",
	  SHAPE_VALUE, .device_class = "timestamp", .diagnostic = true },
	{ "advertised_name", "sensor", "Advertised name", SOURCE_DEVICE, "name",
	  SHAPE_VALUE, .icon = "mdi:bluetooth", .diagnostic = true },
};

/* The gateway itself, from <base>/gateway. */
static const struct entity gateway_entities[] = {
	{ "version", "sensor", "Version", SOURCE_GATEWAY, "version",
	  SHAPE_VALUE, .icon = "mdi:tag-outline", .diagnostic = true },
	{ "adapter", "sensor", "Bluetooth adapter", SOURCE_GATEWAY, "adapter",
	  SHAPE_VALUE, .icon = "mdi:bluetooth-settings", .diagnostic = true },
	{ "outbox_backlog", "sensor", "Outbox backlog", SOURCE_GATEWAY,
	  "outbox_backlog", SHAPE_VALUE, .state_class = "measurement",
	  .unit = "messages", .icon = "mdi:tray-full", .diagnostic = true },
	{ "last_analysis", "sensor", "Last analysis", SOURCE_GATEWAY,
	  "last_analysis", SHAPE_VALUE, .device_class = "timestamp",
	  .diagnostic = true },
};

/*
 * The per-entity configs earlier versions published, as (component, key):
 * their topics are <prefix>/<component>/<owner id>_<key>/config. Frozen:
 * migration hands exactly these over to the device configs.
 */
struct legacy {
	const char *component;
	const char *key;
	bool retired; /* no longer an entity: deleted, not handed over */
};

static const struct legacy legacy_person[] = {
	{ "sensor", "score", false },
	{ "sensor", "zone", false },
	{ "sensor", "advice_state", false },
	{ "sensor", "advice_headline", false },
	{ "sensor", "resting_hr", false },
	{ "sensor", "rmssd", false },
	{ "sensor", "sleep", false },
	{ "sensor", "sleep_efficiency", false },
	{ "sensor", "weight", false },
	{ "sensor", "body_fat", false },
	{ "sensor", "heart_rate", false },
	{ "binary_sensor", "in_bed", false },
	{ "sensor", "spot_check", false },
	{ "number", "mood", false },
	{ "number", "soreness", false },
	{ "number", "energy", false },
};

static const struct legacy legacy_device[] = {
	{ "sensor", "battery", false },
	{ "sensor", "rssi", true },
	{ "binary_sensor", "connected", false },
	{ "sensor", "last_seen", false },
};

/* Check-in controls: the range inbound.c accepts. */
#define CHECKIN_MIN 1
#define CHECKIN_MAX 5

/* Who the entities belong to: a person, a BLE device or the gateway. */
struct owner {
	char *id;	  /* the HA device identifier, unique id stem */
	char *object_id;  /* the device config's object id */
	char *entity_ids; /* default_entity_id stem, "recovery_alice" */
	char *state_topic;
	char *live_topic;
	char *device_topic;
	char *command_topic;
	char *checkin_topic;
	char *alert_topic;
	char *gateway_topic;
	char *status_topic;
	JsonNode *device; /* the "device" object */
};

static void owner_clear(struct owner *o)
{
	g_free(o->id);
	g_free(o->object_id);
	g_free(o->entity_ids);
	g_free(o->state_topic);
	g_free(o->live_topic);
	g_free(o->device_topic);
	g_free(o->command_topic);
	g_free(o->checkin_topic);
	g_free(o->alert_topic);
	g_free(o->gateway_topic);
	g_free(o->status_topic);
	g_clear_pointer(&o->device, json_node_unref);
}

void mqtt_discovery_message_free(struct mqtt_discovery_message *message)
{
	if (!message)
		return;
	g_free(message->topic);
	g_free(message->payload);
	g_strfreev(message->legacy);
	g_strfreev(message->retired);
	g_free(message);
}

static struct mqtt_discovery_message *message_new(char *topic, char *payload)
{
	struct mqtt_discovery_message *m =
	    g_new0(struct mqtt_discovery_message, 1);

	m->topic = topic;
	m->payload = payload;
	return m;
}

struct mqtt_discovery_message *mqtt_discovery_removal(const char *topic)
{
	return message_new(g_strdup(topic), g_strdup(""));
}

struct mqtt_discovery_message *mqtt_discovery_migration(const char *topic)
{
	return message_new(g_strdup(topic),
			   g_strdup("{\"migrate_discovery\": true}"));
}

static const char *prefix_of(const struct mqtt_discovery_gateway *gw)
{
	return gw->prefix ? gw->prefix : DEFAULT_PREFIX;
}

static bool under(const char *topic, const char *root)
{
	size_t len = strlen(root);

	return strncmp(topic, root, len) == 0 &&
	       (topic[len] == '\0' || topic[len] == '/');
}

/* Home Assistant takes http(s) URLs for configuration_url. */
static bool url_valid(const char *url)
{
	return !url || g_str_has_prefix(url, "http://") ||
	       g_str_has_prefix(url, "https://");
}

static bool gateway_valid(const struct mqtt_discovery_gateway *gw)
{
	const char *prefix = prefix_of(gw);

	if (!mqtt_topic_base_valid(gw->base) || !mqtt_topic_name_valid(prefix))
		return false;
	if (!url_valid(gw->configuration_url))
		return false;
	/* Neither may hold the other's topics: <base>/status would be HA's
	 * birth topic, or a user's topics would sit among the configs. */
	return !under(gw->base, prefix) && !under(prefix, gw->base);
}

/* The base topic in the unique ids: [a-z0-9] as is, any other byte as '-'
 * and two hex digits. Reversible, so different bases never meet, and free
 * of '_', so the id's next '_' ends it. */
static char *escape_base(const char *base)
{
	GString *out = g_string_new(NULL);

	for (const char *p = base; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || g_ascii_isdigit(*p))
			g_string_append_c(out, *p);
		else
			g_string_append_printf(out, "-%02x", (guchar)*p);
	}
	return g_string_free(out, FALSE);
}

/* Appends @text as an entity id part: lower-case letters, digits and single
 * '_' between words, as Home Assistant's entity ids require. */
static void append_slug(GString *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		bool word = g_ascii_isalnum(*p);

		if (word) {
			if (out->len > 0 && out->str[out->len - 1] == ' ')
				out->str[out->len - 1] = '_';
			g_string_append_c(out, g_ascii_tolower(*p));
		} else if (out->len > 0 && out->str[out->len - 1] != ' ' &&
			   out->str[out->len - 1] != '_') {
			/* A pending separator, dropped if nothing follows. */
			g_string_append_c(out, ' ');
		}
	}
	if (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
}

static char *entity_stem(const char *base, const char *middle)
{
	GString *out = g_string_new(NULL);

	append_slug(out, base);
	if (out->len > 0)
		g_string_append_c(out, ' ');
	append_slug(out, middle);
	/* A base and a user of symbols only ("--") leave nothing. */
	if (out->len == 0)
		g_string_append(out, ORIGIN_NAME);
	return g_string_free(out, FALSE);
}

static void add_string(JsonBuilder *b, const char *key, const char *value)
{
	if (!value)
		return;
	json_builder_set_member_name(b, key);
	json_builder_add_string_value(b, value);
}

/*
 * "value_json.metrics.sleep_min" with every level allowed to be missing or
 * null: (value_json.metrics | default({})).sleep_min | default(none). Home
 * Assistant's MQTT sensors take the rendered "None" as unknown.
 */
static void append_path(GString *out, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, ".", -1);
	guint n = g_strv_length(parts);
	GString *expr = g_string_new("value_json");

	for (guint i = 0; i + 1 < n; i++) {
		g_string_prepend_c(expr, '(');
		g_string_append_printf(expr, ".%s | default({}))", parts[i]);
	}
	g_string_append_printf(out, "%s.%s | default(none)", expr->str,
			       parts[n - 1]);
	g_string_free(expr, TRUE);
}

static void append_list(GString *out, const char *const *items)
{
	g_string_append_c(out, '[');
	for (size_t i = 0; items[i]; i++)
		g_string_append_printf(out, "%s'%s'", i ? ", " : "", items[i]);
	g_string_append_c(out, ']');
}

/*
 * The alert as an event: its type, and the alert's own keys as the event's
 * attributes. Subscripts, not attributes: value_json.update would be the
 * dict's update method, never the key.
 */
#define EVENT_TEMPLATE                                                         \
	"{{ {'event_type': 'update' if value_json['update'] | default(false) " \
	"else 'morning', 'date': value_json['date'] | default(none), "         \
	"'score': value_json['score'] | default(none), "                       \
	"'zone': value_json['zone'] | default(none), "                         \
	"'state': value_json['state'] | default(none), "                       \
	"'headline': value_json['headline'] | default(none), "                 \
	"'text': value_json['text'] | default(none)} | tojson }}"

static char *value_template(const struct entity *e)
{
	static const char *const connected[] = { "connected", "advertising",
						 NULL };
	GString *t = g_string_new(NULL);

	switch (e->shape) {
	case SHAPE_OPTION:
		/* A state outside the options would be refused (and logged)
		 * by Home Assistant; unknown is the honest answer. */
		g_string_append(t, "{% set v = ");
		append_path(t, e->path);
		g_string_append(t, " %}{{ v if v in ");
		append_list(t, e->options);
		g_string_append(t, " else none }}");
		break;
	case SHAPE_FLAG:
		g_string_append(t, "{% set v = ");
		append_path(t, e->path);
		g_string_append(t, " %}{{ none if v is none else "
				   "('ON' if v else 'OFF') }}");
		break;
	case SHAPE_CONNECTED:
		g_string_append(t, "{% set v = ");
		append_path(t, e->path);
		g_string_append(t,
				" %}{{ none if v is none else ('ON' if v in ");
		append_list(t, connected);
		g_string_append(t, " else 'OFF') }}");
		break;
	case SHAPE_EVENT:
		g_string_append(t, EVENT_TEMPLATE);
		break;
	case SHAPE_VALUE:
	default:
		g_string_append(t, "{{ ");
		append_path(t, e->path);
		g_string_append(t, " }}");
		break;
	}
	return g_string_free(t, FALSE);
}

static const char *source_topic(const struct owner *o, enum source source)
{
	switch (source) {
	case SOURCE_STATE:
		return o->state_topic;
	case SOURCE_LIVE:
		return o->live_topic;
	case SOURCE_DEVICE:
		return o->device_topic;
	case SOURCE_CHECKIN:
		return o->checkin_topic;
	case SOURCE_ALERT:
		return o->alert_topic;
	case SOURCE_GATEWAY:
		return o->gateway_topic;
	default:
		return NULL;
	}
}

static void add_availability_entry(JsonBuilder *b, const char *topic,
				   const char *template)
{
	json_builder_begin_object(b);
	add_string(b, "topic", topic);
	add_string(b, "payload_available", mqtt_payload_status(true));
	add_string(b, "payload_not_available", mqtt_payload_status(false));
	add_string(b, "value_template", template);
	json_builder_end_object(b);
}

/*
 * Every entity is available while the gateway is online; a BLE device's
 * also only while its device topic does not say "silent" (an advertiser
 * not heard for 15 minutes): both must hold.
 */
static void add_availability(JsonBuilder *b, const struct owner *o)
{
	json_builder_set_member_name(b, "availability");
	json_builder_begin_array(b);
	add_availability_entry(b, o->status_topic, NULL);
	if (o->device_topic)
		add_availability_entry(
		    b, o->device_topic,
		    "{{ 'offline' if value_json.connection | default(none) == "
		    "'silent' else 'online' }}");
	json_builder_end_array(b);
	if (o->device_topic)
		add_string(b, "availability_mode", "all");
}

static void add_origin(JsonBuilder *b, const struct mqtt_discovery_gateway *gw)
{
	json_builder_set_member_name(b, "origin");
	json_builder_begin_object(b);
	add_string(b, "name", ORIGIN_NAME);
	add_string(b, "sw_version", gw->sw_version);
	add_string(b, "support_url", gw->support_url);
	json_builder_end_object(b);
}

static void add_number(JsonBuilder *b, const struct entity *e,
		       const struct owner *o)
{
	/* The check-in message inbound.c parses; HA renders the value as
	 * 3 or 3.0, "| int" sends the whole number. The key is ours, so
	 * the template needs no escaping. */
	g_autofree char *command =
	    g_strdup_printf("{\"%s\": {{ value | int }}}", e->checkin);

	add_string(b, "command_topic", o->command_topic);
	add_string(b, "command_template", command);
	json_text_member_int(b, "min", CHECKIN_MIN);
	json_text_member_int(b, "max", CHECKIN_MAX);
	json_text_member_int(b, "step", 1);
	add_string(b, "mode", "slider");
	/* The state topic is the check-in as stored (retained, after it was
	 * filed), so the slider shows what the database holds, not what
	 * Home Assistant last sent. A check-in is worth a retry, so QoS 1;
	 * the command is not retained, or a restart would replay
	 * yesterday's answer into today. */
	json_text_member_int(b, "qos", 1);
}

/* One component of a device config: the entity's options and its platform;
 * device, origin and availability are the config's, shared. */
static void add_component(JsonBuilder *b, const struct owner *o,
			  const struct entity *e)
{
	g_autofree char *unique_id = g_strdup_printf("%s_%s", o->id, e->key);
	g_autofree char *entity_id =
	    g_strdup_printf("%s.%s_%s", e->component, o->entity_ids, e->key);
	const char *topic = source_topic(o, e->source);
	g_autofree char *template = value_template(e);

	json_builder_set_member_name(b, e->key);
	json_builder_begin_object(b);
	add_string(b, "platform", e->component);
	add_string(b, "name", e->name);
	add_string(b, "unique_id", unique_id);
	/* Since HA 2025.10 (object_id is deprecated); older versions ignore
	 * it and name the entity from the device and entity names. */
	add_string(b, "default_entity_id", entity_id);
	add_string(b, "state_topic", topic);
	add_string(b, "value_template", template);
	if (e->attributes) {
		add_string(b, "json_attributes_topic", topic);
		add_string(b, "json_attributes_template", e->attributes);
	}
	add_string(b, "device_class", e->device_class);
	add_string(b, "state_class", e->state_class);
	add_string(b, "unit_of_measurement", e->unit);
	if (e->options) {
		json_builder_set_member_name(
		    b, e->shape == SHAPE_EVENT ? "event_types" : "options");
		json_builder_begin_array(b);
		for (size_t i = 0; e->options[i]; i++)
			json_builder_add_string_value(b, e->options[i]);
		json_builder_end_array(b);
	}
	if (e->show_decimals)
		json_text_member_int(b, "suggested_display_precision",
				     e->decimals);
	if (e->expire_after_s > 0)
		json_text_member_int(b, "expire_after", e->expire_after_s);
	if (e->force_update)
		json_text_member_bool(b, "force_update", TRUE);
	if (strcmp(e->component, "binary_sensor") == 0) {
		add_string(b, "payload_on", "ON");
		add_string(b, "payload_off", "OFF");
	}
	if (e->checkin)
		add_number(b, e, o);
	add_string(b, "icon", e->icon);
	if (e->diagnostic)
		add_string(b, "entity_category", "diagnostic");
	json_builder_end_object(b);
}

static char *device_config(const struct mqtt_discovery_gateway *gw,
			   const struct owner *o, const struct entity *entities,
			   size_t count)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "device");
	json_builder_add_value(b, json_node_copy(o->device));
	add_origin(b, gw);
	add_availability(b, o);
	json_builder_set_member_name(b, "cmps");
	json_builder_begin_object(b);
	for (size_t i = 0; i < count; i++)
		add_component(b, o, &entities[i]);
	json_builder_end_object(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return json_text_from_node(root);
}

/* <prefix>/device/recoveryd/<object id>/config: the node id level keeps all
 * of recoveryd's configs under one topic a broker ACL can grant. */
static char *config_topic(const struct mqtt_discovery_gateway *gw,
			  const char *object_id)
{
	return g_strdup_printf("%s/device/" NODE_ID "/%s/config", prefix_of(gw),
			       object_id);
}

/* The old topics of @o whose entity is (@retired false) or is no longer
 * (true) in its device config. */
static char **legacy_topics(const struct mqtt_discovery_gateway *gw,
			    const struct owner *o, const struct legacy *legacy,
			    size_t count, bool retired)
{
	GPtrArray *topics = g_ptr_array_new();

	for (size_t i = 0; i < count; i++)
		if (legacy[i].retired == retired)
			g_ptr_array_add(topics,
					g_strdup_printf("%s/%s/%s_%s/config",
							prefix_of(gw),
							legacy[i].component,
							o->id, legacy[i].key));
	g_ptr_array_add(topics, NULL);
	return (char **)g_ptr_array_free(topics, FALSE);
}

/* The one message of @o: its device config, or with @removal its deletion;
 * either way with the per-entity topics of earlier versions it replaces. */
static GPtrArray *build(const struct mqtt_discovery_gateway *gw,
			const struct owner *o, const struct entity *entities,
			size_t count, const struct legacy *legacy,
			size_t legacy_count, bool removal)
{
	GPtrArray *messages = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)mqtt_discovery_message_free);
	struct mqtt_discovery_message *m = message_new(
	    config_topic(gw, o->object_id),
	    removal ? g_strdup("") : device_config(gw, o, entities, count));

	if (legacy_count) {
		m->legacy = legacy_topics(gw, o, legacy, legacy_count, false);
		m->retired = legacy_topics(gw, o, legacy, legacy_count, true);
	}
	g_ptr_array_add(messages, m);
	return messages;
}

static void add_identifier(JsonBuilder *b, const char *id)
{
	json_builder_set_member_name(b, "identifiers");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, id);
	json_builder_end_array(b);
}

/* The device keys of a device recoveryd itself is (a person, the
 * gateway): recoveryd makes it, in this version. */
static void add_own_device(JsonBuilder *b,
			   const struct mqtt_discovery_gateway *gw,
			   const struct owner *o, const char *name,
			   const char *model)
{
	add_identifier(b, o->id);
	add_string(b, "name", name);
	add_string(b, "manufacturer", ORIGIN_NAME);
	add_string(b, "model", model);
	add_string(b, "sw_version", gw->sw_version);
}

static char *gateway_id(const struct mqtt_discovery_gateway *gw)
{
	g_autofree char *base = escape_base(gw->base);

	return g_strconcat(ID_PREFIX, base, "_gateway", NULL);
}

/* Persons and BLE devices are reached through the gateway. */
static void add_via_gateway(JsonBuilder *b,
			    const struct mqtt_discovery_gateway *gw)
{
	g_autofree char *via = gateway_id(gw);

	add_string(b, "via_device", via);
}

static JsonNode *person_device(const struct mqtt_discovery_gateway *gw,
			       const struct owner *o,
			       const struct mqtt_discovery_person *p)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *display = g_utf8_make_valid(
	    p->display_name && *p->display_name ? p->display_name : p->user,
	    -1);
	g_autofree char *name = g_strconcat("Recovery ", display, NULL);

	json_builder_begin_object(b);
	add_own_device(b, gw, o, name, "Personal recovery");
	add_via_gateway(b, gw);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

static int person_owner(const struct mqtt_discovery_gateway *gw,
			const char *user, struct owner *ret)
{
	g_autofree char *base = NULL;

	if (!gateway_valid(gw) || !mqtt_topic_user_valid(user))
		return -EINVAL;
	base = escape_base(gw->base);
	ret->id = g_strconcat(ID_PREFIX, base, "_user_", user, NULL);
	ret->object_id = g_strconcat(base, "_user_", user, NULL);
	ret->entity_ids = entity_stem(gw->base, user);
	ret->state_topic = mqtt_topic_state(gw->base, user);
	ret->live_topic = mqtt_topic_live(gw->base, user);
	ret->command_topic = mqtt_topic_checkin_set(gw->base, user);
	ret->checkin_topic = mqtt_topic_checkin(gw->base, user);
	ret->alert_topic = mqtt_topic_alert(gw->base, user);
	ret->status_topic = mqtt_topic_status(gw->base);
	return 0;
}

int mqtt_discovery_build_person(const struct mqtt_discovery_gateway *gateway,
				const struct mqtt_discovery_person *person,
				GPtrArray **ret_messages)
{
	struct owner o = { 0 };
	int r = person_owner(gateway, person->user, &o);

	if (r < 0)
		return r;
	o.device = person_device(gateway, &o, person);
	*ret_messages =
	    build(gateway, &o, person_entities, G_N_ELEMENTS(person_entities),
		  legacy_person, G_N_ELEMENTS(legacy_person), false);
	owner_clear(&o);
	return 0;
}

int mqtt_discovery_remove_person(const struct mqtt_discovery_gateway *gateway,
				 const char *user, GPtrArray **ret_messages)
{
	struct owner o = { 0 };
	int r = person_owner(gateway, user, &o);

	if (r < 0)
		return r;
	*ret_messages = build(gateway, &o, person_entities,
			      G_N_ELEMENTS(person_entities), NULL, 0, true);
	owner_clear(&o);
	return 0;
}

static JsonNode *ble_device(const struct mqtt_discovery_gateway *gw,
			    const struct owner *o,
			    const struct mqtt_discovery_device *d)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *address = g_ascii_strup(d->address, -1);
	const char *kind = d->kind ? d->kind : "BLE sensor";
	g_autofree char *name = NULL;
	g_autofree char *model = g_utf8_make_valid(kind, -1);
	g_autofree char *made = NULL;

	if (d->name && *d->name)
		name = g_utf8_make_valid(d->name, -1);
	else {
		made = g_strdup_printf("%s %s", model,
				       d->user ? d->user : address);
		name = g_utf8_make_valid(made, -1);
	}
	json_builder_begin_object(b);
	add_identifier(b, o->id);
	/* The same connection as HA's own Bluetooth integrations use, so a
	 * device HA already knows gets these entities too. */
	json_builder_set_member_name(b, "connections");
	json_builder_begin_array(b);
	json_builder_begin_array(b);
	json_builder_add_string_value(b, "bluetooth");
	json_builder_add_string_value(b, address);
	json_builder_end_array(b);
	json_builder_end_array(b);
	add_string(b, "name", name);
	add_string(b, "model", model);
	add_via_gateway(b, gw);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

static int device_owner(const struct mqtt_discovery_gateway *gw,
			const char *address, struct owner *ret)
{
	char slug[MQTT_TOPIC_ADDRESS_SLUG];
	g_autofree char *base = NULL;
	g_autofree char *middle = NULL;

	if (!gateway_valid(gw) || !mqtt_topic_address_slug(address, slug))
		return -EINVAL;
	base = escape_base(gw->base);
	middle = g_strconcat("ble_", slug, NULL);
	ret->id = g_strconcat(ID_PREFIX, base, "_", middle, NULL);
	ret->object_id = g_strconcat(base, "_", middle, NULL);
	ret->entity_ids = entity_stem(gw->base, middle);
	ret->device_topic = mqtt_topic_device(gw->base, address);
	ret->status_topic = mqtt_topic_status(gw->base);
	return 0;
}

int mqtt_discovery_build_device(const struct mqtt_discovery_gateway *gateway,
				const struct mqtt_discovery_device *device,
				GPtrArray **ret_messages)
{
	struct owner o = { 0 };
	int r = device_owner(gateway, device->address, &o);

	if (r < 0)
		return r;
	o.device = ble_device(gateway, &o, device);
	*ret_messages =
	    build(gateway, &o, device_entities, G_N_ELEMENTS(device_entities),
		  legacy_device, G_N_ELEMENTS(legacy_device), false);
	owner_clear(&o);
	return 0;
}

int mqtt_discovery_remove_device(const struct mqtt_discovery_gateway *gateway,
				 const char *address, GPtrArray **ret_messages)
{
	struct owner o = { 0 };
	int r = device_owner(gateway, address, &o);

	if (r < 0)
		return r;
	*ret_messages = build(gateway, &o, device_entities,
			      G_N_ELEMENTS(device_entities), NULL, 0, true);
	owner_clear(&o);
	return 0;
}

static JsonNode *gateway_device(const struct mqtt_discovery_gateway *gw,
				const struct owner *o)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	/* Two gateways on one broker tell themselves apart by base. */
	g_autofree char *name =
	    strcmp(gw->base, MQTT_TOPIC_DEFAULT_BASE) == 0
		? g_strdup("Recovery gateway")
		: g_strdup_printf("Recovery gateway (%s)", gw->base);

	json_builder_begin_object(b);
	add_own_device(b, gw, o, name, "BLE to MQTT gateway");
	add_string(b, "configuration_url", gw->configuration_url);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

int mqtt_discovery_build_gateway(const struct mqtt_discovery_gateway *gateway,
				 GPtrArray **ret_messages)
{
	struct owner o = { 0 };
	g_autofree char *base = NULL;

	if (!gateway_valid(gateway))
		return -EINVAL;
	base = escape_base(gateway->base);
	o.id = gateway_id(gateway);
	o.object_id = g_strconcat(base, "_gateway", NULL);
	o.entity_ids = entity_stem(gateway->base, "gateway");
	o.gateway_topic = mqtt_topic_gateway(gateway->base);
	o.status_topic = mqtt_topic_status(gateway->base);
	o.device = gateway_device(gateway, &o);
	*ret_messages = build(gateway, &o, gateway_entities,
			      G_N_ELEMENTS(gateway_entities), NULL, 0, false);
	owner_clear(&o);
	return 0;
}

char *mqtt_discovery_topic_filter(const struct mqtt_discovery_gateway *gateway)
{
	if (!gateway_valid(gateway))
		return NULL;
	return g_strconcat(prefix_of(gateway), "/device/" NODE_ID "/+/config",
			   NULL);
}

static bool id_chars(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

bool mqtt_discovery_topic_is_ours(const struct mqtt_discovery_gateway *gateway,
				  const char *topic)
{
	g_autofree char *base = NULL;
	g_autofree char *stem = NULL;
	g_autofree char *root = NULL;
	const char *rest, *end;
	g_autofree char *object_id = NULL;

	if (!topic || !gateway_valid(gateway))
		return false;
	root = g_strconcat(prefix_of(gateway), "/device/" NODE_ID "/", NULL);
	if (!g_str_has_prefix(topic, root))
		return false;
	rest = topic + strlen(root);
	end = strchr(rest, '/');
	if (!end || strcmp(end, "/config") != 0 || end == rest)
		return false;
	object_id = g_strndup(rest, (gsize)(end - rest));
	if (!id_chars(object_id))
		return false;
	base = escape_base(gateway->base);
	stem = g_strconcat(base, "_", NULL);
	if (!g_str_has_prefix(object_id, stem))
		return false;
	rest = object_id + strlen(stem);
	return (g_str_has_prefix(rest, "user_") && rest[5]) ||
	       (g_str_has_prefix(rest, "ble_") && rest[4]) ||
	       strcmp(rest, "gateway") == 0;
}
