// SPDX-License-Identifier: MIT
/*
 * mqtt/bridge.c against a real mosquitto (tests/integration/broker.c): the
 * gateway in this process (client, bridge, and the real store's outbox
 * through outbox-wiring), and "Home Assistant" as a second libmosquitto
 * client in its own thread, subscribed to homeassistant/# and recovery/#.
 *
 * The Home Assistant stand-in speaks MQTT 5 and subscribes with
 * retain-as-published, so the retain flag it records is the publisher's
 * even for messages forwarded live: "arrives retained" is checked on the
 * message itself, not guessed from a later subscriber. Its view of the
 * discovery configs is what Home Assistant's discovery keeps: the last
 * payload per config topic, an empty one deleting the entity.
 *
 * Cases: every config on connect checked against DESIGN §7 and Home
 * Assistant's own rules; its birth message (and an "offline" that is not
 * one); a restart with a person and a device taken out; a reload while
 * connected; and check-ins, good and bad.
 */
#include <math.h>
#include <signal.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "mqtt/bridge.h"
#include "tests/integration/broker.h"
#include "mqtt/client.h"
#include "mqtt/discovery.h"
#include "tests/integration/outbox-wiring.h"
#include "tests/support/test-support.h"
#include "gateway/core/store.h"
#include "tests/unit/ha-classes.h"

#define BASE	 "recovery"
#define PREFIX	 "homeassistant"
#define STATUS	 "recovery/status"
#define HA_BIRTH "homeassistant/status"
#define WAIT_MS	 10000

/* The household: the first two people and both devices to begin with. */
static const struct mqtt_discovery_person everyone[] = {
	{ "alice", "Alice" },
	{ "bob", NULL },
	{ "carol", "Carol" },
};
static const struct mqtt_discovery_device all_devices[] = {
	{ "C4:7C:8D:6A:12:34", NULL, "heart-rate strap", "alice" },
	{ "A4:C1:38:0B:5E:01", "Bathroom scale", "scale", NULL },
};
static const struct mqtt_discovery_person *const alice = &everyone[0];
static const struct mqtt_discovery_person *const bob = &everyone[1];
static const struct mqtt_discovery_person *const carol = &everyone[2];
static const struct mqtt_discovery_device *const strap = &all_devices[0];
static const struct mqtt_discovery_device *const scale = &all_devices[1];

static const struct mqtt_discovery_gateway gateway = {
	.base = BASE,
	.sw_version = "0.1.0-test",
	.support_url = "https://example.invalid/recoveryd",
};

static double since_ms(int64_t t0_us)
{
	return (double)(g_get_monotonic_time() - t0_us) / 1000.0;
}

/* --- Home Assistant: MQTT 5, retain as published, its own thread ---------- */

struct ha_message {
	char *topic;
	char *payload; /* NUL-terminated copy */
	size_t len;
	bool retain;
	int64_t at_us;
};

static void ha_message_free(struct ha_message *m)
{
	if (!m)
		return;
	g_free(m->topic);
	g_free(m->payload);
	g_free(m);
}

typedef struct ha_message ha_message;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ha_message, ha_message_free)

struct ha {
	struct mosquitto *mosq;
	GMutex lock;
	GCond cond;
	GPtrArray *messages; /* struct ha_message * */
	GHashTable *acked;   /* mids */
	bool subscribed;
};

typedef struct ha ha;

static void ha_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
			  const mosquitto_property *props)
{
	/* Where Home Assistant looks: its discovery prefix, and the
	 * gateway's topics its entities read. */
	static char discovery[] = PREFIX "/#", gateway_topics[] = BASE "/#";
	char *topics[] = { discovery, gateway_topics };

	if (rc == 0)
		mosquitto_subscribe_multiple(mosq, NULL, 2, topics, 1,
					     MQTT_SUB_OPT_RETAIN_AS_PUBLISHED,
					     NULL);
}

static void ha_on_subscribe(struct mosquitto *mosq, void *obj, int mid,
			    int count, const int *granted,
			    const mosquitto_property *props)
{
	ha *h = obj;

	g_mutex_lock(&h->lock);
	h->subscribed = true;
	g_cond_broadcast(&h->cond);
	g_mutex_unlock(&h->lock);
}

static void ha_on_message(struct mosquitto *mosq, void *obj,
			  const struct mosquitto_message *msg,
			  const mosquitto_property *props)
{
	ha *h = obj;
	struct ha_message *m = g_new0(struct ha_message, 1);
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;

	m->topic = g_strdup(msg->topic);
	m->payload = g_malloc(len + 1);
	if (len)
		memcpy(m->payload, msg->payload, len);
	m->payload[len] = '\0';
	m->len = len;
	m->retain = msg->retain;
	m->at_us = g_get_monotonic_time();
	g_mutex_lock(&h->lock);
	g_ptr_array_add(h->messages, m);
	g_mutex_unlock(&h->lock);
}

static void ha_on_publish(struct mosquitto *mosq, void *obj, int mid,
			  int reason, const mosquitto_property *props)
{
	ha *h = obj;

	g_mutex_lock(&h->lock);
	g_hash_table_add(h->acked, GINT_TO_POINTER(mid));
	g_cond_broadcast(&h->cond);
	g_mutex_unlock(&h->lock);
}

static void ha_free(ha *h)
{
	if (!h)
		return;
	mosquitto_disconnect(h->mosq);
	mosquitto_loop_stop(h->mosq, false);
	mosquitto_destroy(h->mosq);
	g_ptr_array_unref(h->messages);
	g_hash_table_destroy(h->acked);
	g_mutex_clear(&h->lock);
	g_cond_clear(&h->cond);
	g_free(h);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ha, ha_free)

/* Connects and waits for the SUBACK: the retained configs follow it. */
static ha *ha_new(broker *b)
{
	static int counter;
	g_autofree char *id = g_strdup_printf("home-assistant-%d", ++counter);
	ha *h = g_new0(struct ha, 1);
	int64_t deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;

	g_mutex_init(&h->lock);
	g_cond_init(&h->cond);
	h->messages =
	    g_ptr_array_new_with_free_func((GDestroyNotify)ha_message_free);
	h->acked = g_hash_table_new(NULL, NULL);
	h->mosq = mosquitto_new(id, true, h);
	g_assert_nonnull(h->mosq);
	g_assert_cmpint(mosquitto_int_option(h->mosq, MOSQ_OPT_PROTOCOL_VERSION,
					     MQTT_PROTOCOL_V5),
			==, MOSQ_ERR_SUCCESS);
	mosquitto_connect_v5_callback_set(h->mosq, ha_on_connect);
	mosquitto_subscribe_v5_callback_set(h->mosq, ha_on_subscribe);
	mosquitto_message_v5_callback_set(h->mosq, ha_on_message);
	mosquitto_publish_v5_callback_set(h->mosq, ha_on_publish);
	g_assert_cmpint(
	    mosquitto_connect(h->mosq, "127.0.0.1", broker_probe_port(b), 30),
	    ==, MOSQ_ERR_SUCCESS);
	g_assert_cmpint(mosquitto_loop_start(h->mosq), ==, MOSQ_ERR_SUCCESS);
	g_mutex_lock(&h->lock);
	while (!h->subscribed)
		g_assert_true(g_cond_wait_until(&h->cond, &h->lock, deadline));
	g_mutex_unlock(&h->lock);
	return h;
}

/* Publishes (QoS 1) and waits for the PUBACK. */
static void ha_publish_len(ha *h, const char *topic, const void *payload,
			   size_t len, bool retain)
{
	int64_t deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
	int mid = 0;

	g_assert_cmpint(mosquitto_publish(h->mosq, &mid, topic, (int)len,
					  payload, 1, retain),
			==, MOSQ_ERR_SUCCESS);
	g_mutex_lock(&h->lock);
	while (!g_hash_table_contains(h->acked, GINT_TO_POINTER(mid)))
		g_assert_true(g_cond_wait_until(&h->cond, &h->lock, deadline));
	g_mutex_unlock(&h->lock);
}

static void ha_publish(ha *h, const char *topic, const char *payload)
{
	ha_publish_len(h, topic, payload, strlen(payload), false);
}

static unsigned ha_count(ha *h)
{
	unsigned n;

	g_mutex_lock(&h->lock);
	n = h->messages->len;
	g_mutex_unlock(&h->lock);
	return n;
}

/* A copy of the messages from @from on. */
static GPtrArray *ha_since(ha *h, unsigned from)
{
	GPtrArray *out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)ha_message_free);

	g_mutex_lock(&h->lock);
	for (guint i = from; i < h->messages->len; i++) {
		const struct ha_message *m = h->messages->pdata[i];
		struct ha_message *c = g_new0(struct ha_message, 1);

		*c = *m;
		c->topic = g_strdup(m->topic);
		c->payload = g_memdup2(m->payload, m->len + 1);
		g_ptr_array_add(out, c);
	}
	g_mutex_unlock(&h->lock);
	return out;
}

/* What Home Assistant's discovery holds after the messages from @from:
 * config topic -> last payload; an empty one deletes. */
static GHashTable *ha_view(ha *h, unsigned from)
{
	g_autoptr(GPtrArray) msgs = ha_since(h, from);
	GHashTable *view =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (guint i = 0; i < msgs->len; i++) {
		const struct ha_message *m = msgs->pdata[i];

		if (!g_str_has_prefix(m->topic, PREFIX "/") ||
		    !g_str_has_suffix(m->topic, "/config"))
			continue;
		if (m->len == 0)
			g_hash_table_remove(view, m->topic);
		else
			g_hash_table_replace(view, g_strdup(m->topic),
					     g_strdup(m->payload));
	}
	return view;
}

/* How many messages from @from are on @topic, empty or not. */
static unsigned ha_count_on(ha *h, unsigned from, const char *topic, bool empty)
{
	g_autoptr(GPtrArray) msgs = ha_since(h, from);
	unsigned n = 0;

	for (guint i = 0; i < msgs->len; i++) {
		const struct ha_message *m = msgs->pdata[i];

		if (strcmp(m->topic, topic) == 0 && (m->len == 0) == empty)
			n++;
	}
	return n;
}

/* --- the topics the gateway should produce -------------------------------- */

static void add_built(GPtrArray *topics, GPtrArray *built)
{
	for (guint i = 0; i < built->len; i++) {
		const struct mqtt_discovery_message *m = built->pdata[i];

		g_ptr_array_add(topics, g_strdup(m->topic));
	}
	g_ptr_array_unref(built);
}

static GPtrArray *person_topics(const struct mqtt_discovery_person *p)
{
	GPtrArray *topics = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *built = NULL;

	g_assert_cmpint(mqtt_discovery_build_person(&gateway, p, &built), ==,
			0);
	add_built(topics, built);
	return topics;
}

static GPtrArray *device_topics(const struct mqtt_discovery_device *d)
{
	GPtrArray *topics = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *built = NULL;

	g_assert_cmpint(mqtt_discovery_build_device(&gateway, d, &built), ==,
			0);
	add_built(topics, built);
	return topics;
}

static void append_topics(GPtrArray *to, GPtrArray *from)
{
	for (guint i = 0; i < from->len; i++)
		g_ptr_array_add(to, g_strdup(from->pdata[i]));
	g_ptr_array_unref(from);
}

/* The gateway device's config topic. */
static char *gateway_topic(void)
{
	g_autoptr(GPtrArray) built = NULL;

	g_assert_cmpint(mqtt_discovery_build_gateway(&gateway, &built), ==, 0);
	return g_strdup(
	    ((const struct mqtt_discovery_message *)built->pdata[0])->topic);
}

/* The topics of some people and devices (NULL-terminated lists). */
static GPtrArray *topics_of(const struct mqtt_discovery_person *const *people,
			    const struct mqtt_discovery_device *const *devices)
{
	GPtrArray *topics = g_ptr_array_new_with_free_func(g_free);

	for (size_t i = 0; people && people[i]; i++)
		append_topics(topics, person_topics(people[i]));
	for (size_t i = 0; devices && devices[i]; i++)
		append_topics(topics, device_topics(devices[i]));
	return topics;
}

struct topics_wait {
	ha *h;
	unsigned from;
	GPtrArray *topics;
	bool empty; /* wait for deletions instead of configs */
};

static bool ha_has_topics(void *arg)
{
	const struct topics_wait *w = arg;

	for (guint i = 0; i < w->topics->len; i++)
		if (ha_count_on(w->h, w->from, w->topics->pdata[i], w->empty) ==
		    0)
			return false;
	return true;
}

static bool wait_topics(ha *h, unsigned from, GPtrArray *topics, bool empty,
			unsigned timeout_ms)
{
	struct topics_wait w = { h, from, topics, empty };

	return test_run_until(ha_has_topics, &w, timeout_ms);
}

/* --- the gateway ---------------------------------------------------------- */

struct seen_checkin {
	char *user;
	struct mqtt_checkin checkin;
	int64_t received_ms;
};

struct seen_rejection {
	char *topic;
	char *reason;
};

static void seen_checkin_free(struct seen_checkin *s)
{
	g_free(s->user);
	g_free(s);
}

static void seen_rejection_free(struct seen_rejection *s)
{
	g_free(s->topic);
	g_free(s->reason);
	g_free(s);
}

struct gw {
	char *dir;
	store *store;
	struct outbox_wiring wiring;
	mqtt_client *client;
	mqtt_bridge *bridge;
	broker *broker;
	struct mqtt_bridge_config bridge_config;
	const struct mqtt_discovery_person *people;
	size_t people_count;
	unsigned connects;
	unsigned republished;
	GPtrArray *checkins;  /* struct seen_checkin * */
	GPtrArray *rejected;  /* struct seen_rejection * */
	GPtrArray *debug_log; /* char * */
};

static void on_connected(void *data)
{
	struct gw *g = data;

	g->connects++;
	mqtt_bridge_connected(g->bridge);
}

static void on_message(void *data, const char *topic, const void *payload,
		       size_t len, bool retained)
{
	struct gw *g = data;

	mqtt_bridge_message(g->bridge, topic, payload, len, retained);
}

static void on_log(void *data, GLogLevelFlags level, const char *text)
{
	struct gw *g = data;

	if (level & G_LOG_LEVEL_DEBUG)
		g_ptr_array_add(g->debug_log, g_strdup(text));
	g_test_message("gateway: %s", text);
}

static const struct mqtt_client_ops chain_ops = {
	.connected = on_connected,
	.message = on_message,
	.log = on_log,
};

/* As the gateway does: each person's latest state, retained, through the
 * outbox. */
static void republish_states(void *data)
{
	struct gw *g = data;

	g->republished++;
	for (size_t i = 0; i < g->people_count; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *topic =
		    g_strdup_printf(BASE "/%s/state", g->people[i].user);
		g_autofree char *payload = g_strdup_printf(
		    "{\"date\":\"2026-03-02\",\"score\":%u,\"round\":%u}",
		    70 + (unsigned)i, g->republished);

		g_assert_true(store_outbox_add(
		    g->store, topic, payload, strlen(payload), 1, true,
		    g_get_real_time() / G_TIME_SPAN_MILLISECOND, NULL, &error));
		g_assert_no_error(error);
	}
	mqtt_client_outbox_changed(g->client);
}

static void on_checkin(void *data, const char *user,
		       const struct mqtt_checkin *c, int64_t received_ms)
{
	struct gw *g = data;
	struct seen_checkin *s = g_new0(struct seen_checkin, 1);

	s->user = g_strdup(user);
	s->checkin = *c;
	s->received_ms = received_ms;
	g_ptr_array_add(g->checkins, s);
}

static void on_rejected(void *data, const char *topic, const char *reason)
{
	struct gw *g = data;
	struct seen_rejection *s = g_new0(struct seen_rejection, 1);

	g_test_message("rejected on %s: %s", topic, reason);
	s->topic = g_strdup(topic);
	s->reason = g_strdup(reason);
	g_ptr_array_add(g->rejected, s);
}

static const struct mqtt_bridge_ops bridge_ops = {
	.republish_states = republish_states,
	.checkin = on_checkin,
	.rejected = on_rejected,
	.log = on_log,
};

/* A broker and the gateway's store; the gateway is started separately. */
static bool gw_init(struct gw *g)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	memset(g, 0, sizeof(*g));
	g->broker = broker_new(NULL, &error);
	if (!broker_check(error))
		return false;
	g->dir = test_tmp_dir_new("test-bridge-XXXXXX");
	path = g_build_filename(g->dir, "recoveryd.db", NULL);
	g->store = store_open(path, NULL, &error);
	g_assert_no_error(error);
	g->wiring.store = g->store;
	g->wiring.chain = &chain_ops;
	g->wiring.chain_data = g;
	g->bridge_config = (struct mqtt_bridge_config){
		.sw_version = gateway.sw_version,
		.support_url = gateway.support_url,
	};
	g->checkins =
	    g_ptr_array_new_with_free_func((GDestroyNotify)seen_checkin_free);
	g->rejected =
	    g_ptr_array_new_with_free_func((GDestroyNotify)seen_rejection_free);
	g->debug_log = g_ptr_array_new_with_free_func(g_free);
	return true;
}

static bool is_connected(void *arg)
{
	struct gw *g = arg;

	return mqtt_client_is_connected(g->client);
}

/* Starts the gateway as the daemon would: people and devices first, then
 * the connection. */
static void gw_start(struct gw *g, const struct mqtt_discovery_person *people,
		     size_t people_count,
		     const struct mqtt_discovery_device *devices,
		     size_t device_count)
{
	struct mqtt_client_config cfg = {
		.host = "127.0.0.1",
		.port = broker_port(g->broker),
		.client_id = "test-gateway",
		.reconnect_min_ms = 100,
		.reconnect_max_ms = 1000,
	};
	struct mqtt_client_ops ops;
	g_autoptr(GError) error = NULL;

	outbox_wiring_ops(&ops);
	g->client = mqtt_client_new(&cfg, &ops, &g->wiring, &error);
	g_assert_no_error(error);
	g->bridge = mqtt_bridge_new(g->client, &g->bridge_config, &bridge_ops,
				    g, &error);
	g_assert_no_error(error);
	g->people = people;
	g->people_count = people_count;
	g_assert_true(
	    mqtt_bridge_set_people(g->bridge, people, people_count, &error));
	g_assert_true(
	    mqtt_bridge_set_devices(g->bridge, devices, device_count, &error));
	g_assert_true(mqtt_client_start(g->client, &error));
	g_assert_no_error(error);
	g_assert_true(test_run_until(is_connected, g, WAIT_MS));
}

/* A clean stop, as on SIGTERM. */
static void gw_stop(struct gw *g)
{
	if (g->client)
		mqtt_client_stop(g->client);
	g_clear_pointer(&g->bridge, mqtt_bridge_free);
	g_clear_pointer(&g->client, mqtt_client_free);
}

static void gw_clear(struct gw *g)
{
	gw_stop(g);
	g_clear_pointer(&g->store, store_close);
	if (g->dir)
		test_remove_tree(g->dir);
	g_clear_pointer(&g->dir, g_free);
	g_clear_pointer(&g->broker, broker_free);
	g_clear_pointer(&g->checkins, g_ptr_array_unref);
	g_clear_pointer(&g->rejected, g_ptr_array_unref);
	g_clear_pointer(&g->debug_log, g_ptr_array_unref);
	test_run_pending();
}

static bool not_settling(void *arg)
{
	struct gw *g = arg;

	return !mqtt_bridge_is_settling(g->bridge);
}

struct states_wait {
	ha *h;
	unsigned from;
	struct gw *g;
};

/* Every person's state queued by republish_states has arrived, retained. */
static bool states_arrived(void *arg)
{
	const struct states_wait *w = arg;

	for (size_t i = 0; i < w->g->people_count; i++) {
		g_autofree char *topic =
		    g_strdup_printf(BASE "/%s/state", w->g->people[i].user);
		g_autoptr(GPtrArray) msgs = ha_since(w->h, w->from);
		bool found = false;

		for (guint k = 0; k < msgs->len && !found; k++) {
			const struct ha_message *m = msgs->pdata[k];

			found = strcmp(m->topic, topic) == 0 && m->retain;
		}
		if (!found)
			return false;
	}
	return true;
}

/* --- DESIGN §7 and Home Assistant's rules for a config -------------------- */

static bool listed(const char *const *list, const char *value)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], value) == 0)
			return true;
	return false;
}

/* The units Home Assistant accepts for the device classes we use
 * (sensor/const.py DEVICE_CLASS_UNITS). */
static bool unit_fits(const char *device_class, const char *unit)
{
	static const char *const duration[] = {
		"d", "h", "min", "s", "ms", NULL
	};
	static const char *const weight[] = { "kg", "g",  "mg", "lb",
					      "oz", "st", NULL };
	static const char *const signal[] = { "dB", "dBm", NULL };

	if (strcmp(device_class, "duration") == 0)
		return unit && listed(duration, unit);
	if (strcmp(device_class, "weight") == 0)
		return unit && listed(weight, unit);
	if (strcmp(device_class, "battery") == 0)
		return unit && strcmp(unit, "%") == 0;
	if (strcmp(device_class, "signal_strength") == 0)
		return unit && listed(signal, unit);
	/* timestamp, enum and the binary sensors' classes take none. */
	return unit == NULL;
}

static const char *member_string(JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);

	if (!n)
		return NULL;
	g_assert_true(JSON_NODE_HOLDS_VALUE(n));
	g_assert_true(json_node_get_value_type(n) == G_TYPE_STRING);
	return json_node_get_string(n);
}

static void check_under_base(JsonObject *o, const char *key)
{
	const char *topic = member_string(o, key);

	if (topic)
		g_assert_true(g_str_has_prefix(topic, BASE "/"));
}

/*
 * One component of a device config as Home Assistant's MQTT discovery
 * would take it (@o: the component with the config's shared options), and
 * DESIGN §7's rules. @ids collects the unique ids, which must be unique.
 */
static void check_component(const char *topic, const char *component,
			    JsonObject *o, GHashTable *ids)
{
	const char *unique_id, *device_class, *state_class;
	const char *unit;
	JsonObject *device;
	JsonArray *availability;
	bool status_listed = false;

	g_assert_true(strcmp(component, "sensor") == 0 ||
		      strcmp(component, "binary_sensor") == 0 ||
		      strcmp(component, "number") == 0 ||
		      strcmp(component, "event") == 0);
	unique_id = member_string(o, "unique_id");
	g_assert_nonnull(unique_id);
	g_assert_true(g_str_has_prefix(unique_id, "recoveryd_recovery_"));
	g_assert_true(g_hash_table_add(ids, g_strdup(unique_id)));
	g_assert_nonnull(member_string(o, "name"));

	/* Available while the gateway's status is "online". */
	g_assert_true(json_object_has_member(o, "availability"));
	availability = json_object_get_array_member(o, "availability");
	g_assert_cmpuint(json_array_get_length(availability), >, 0);
	for (guint i = 0; i < json_array_get_length(availability); i++) {
		JsonObject *a = json_array_get_object_element(availability, i);

		if (g_strcmp0(member_string(a, "topic"), STATUS) == 0) {
			status_listed = true;
			g_assert_cmpstr(member_string(a, "payload_available"),
					==, "online");
			g_assert_cmpstr(
			    member_string(a, "payload_not_available"), ==,
			    "offline");
		}
	}
	g_assert_true(status_listed);

	/* One HA device per person or BLE device. */
	g_assert_true(json_object_has_member(o, "device"));
	device = json_object_get_object_member(o, "device");
	g_assert_true(json_object_has_member(device, "identifiers"));
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     device, "identifiers")),
			 >, 0);
	g_assert_nonnull(member_string(device, "name"));

	/* Real device classes only, with units Home Assistant accepts. */
	device_class = member_string(o, "device_class");
	state_class = member_string(o, "state_class");
	unit = member_string(o, "unit_of_measurement");
	if (device_class) {
		if (strcmp(component, "binary_sensor") == 0)
			g_assert_true(
			    listed(ha_binary_sensor_classes, device_class));
		else if (strcmp(component, "sensor") == 0)
			g_assert_true(listed(ha_sensor_classes, device_class));
		else
			/* number's classes are the sensor's without these */
			g_assert_true(listed(ha_sensor_classes, device_class) &&
				      strcmp(device_class, "enum") != 0 &&
				      strcmp(device_class, "timestamp") != 0 &&
				      strcmp(device_class, "date") != 0);
		if (strcmp(component, "sensor") == 0)
			g_assert_true(unit_fits(device_class, unit));
	}
	if (state_class) {
		g_assert_cmpstr(component, ==, "sensor");
		g_assert_true(strcmp(state_class, "measurement") == 0 ||
			      strcmp(state_class, "total") == 0 ||
			      strcmp(state_class, "total_increasing") == 0);
		/* Home Assistant refuses a state class on these. */
		g_assert_true(!device_class ||
			      (strcmp(device_class, "enum") != 0 &&
			       strcmp(device_class, "timestamp") != 0));
	}
	if (g_strcmp0(device_class, "enum") == 0)
		g_assert_true(json_object_has_member(o, "options"));

	/* Its topics are the gateway's; a check-in number shows the
	 * check-in as stored, the alert is an event. */
	g_assert_nonnull(member_string(o, "state_topic"));
	if (strcmp(component, "number") == 0) {
		g_assert_nonnull(member_string(o, "command_topic"));
		g_assert_true(g_str_has_suffix(
		    member_string(o, "command_topic"), "/checkin/set"));
		g_assert_true(g_str_has_suffix(member_string(o, "state_topic"),
					       "/checkin"));
		g_assert_cmpint(json_object_get_int_member(o, "min"), ==, 1);
		g_assert_cmpint(json_object_get_int_member(o, "max"), ==, 5);
	} else if (strcmp(component, "event") == 0) {
		g_assert_true(g_str_has_suffix(member_string(o, "state_topic"),
					       "/alert"));
		g_assert_true(json_object_has_member(o, "event_types"));
	}
	check_under_base(o, "state_topic");
	check_under_base(o, "command_topic");
	check_under_base(o, "json_attributes_topic");

	/* DESIGN §7: heart rate has no class, bpm, a measurement, and the
	 * live one expires; weight is forced to update. */
	if (g_str_has_suffix(unique_id, "_heart_rate")) {
		g_assert_null(device_class);
		g_assert_cmpstr(unit, ==, "bpm");
		g_assert_cmpstr(state_class, ==, "measurement");
		g_assert_true(
		    g_str_has_suffix(member_string(o, "state_topic"), "/live"));
		g_assert_cmpint(json_object_get_int_member(o, "expire_after"),
				>, 0);
	} else if (g_str_has_suffix(unique_id, "_weight")) {
		g_assert_cmpstr(device_class, ==, "weight");
		g_assert_true(
		    json_object_get_boolean_member(o, "force_update"));
	}
}

/* The gateway device's identifier, which every other device names as its
 * via_device. */
#define GATEWAY_ID "recoveryd_recovery_gateway"

/*
 * One device config: <prefix>/device/recoveryd/<object id>/config with
 * device and origin at the root and its components, each checked as Home
 * Assistant splits them (the root's device, origin and availability
 * added). Returns the number of components.
 */
static guint check_config(const char *topic, const char *payload,
			  GHashTable *ids)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) levels = g_strsplit(topic, "/", -1);
	g_autoptr(GList) members = NULL;
	JsonObject *root, *cmps, *device;
	guint n = 0;

	g_assert_true(json_parser_load_from_data(parser, payload, -1, &error));
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
	root = json_node_get_object(json_parser_get_root(parser));
	g_assert_cmpuint(g_strv_length(levels), ==, 5);
	g_assert_cmpstr(levels[0], ==, PREFIX);
	g_assert_cmpstr(levels[1], ==, "device");
	g_assert_cmpstr(levels[2], ==, "recoveryd");
	g_assert_cmpstr(levels[4], ==, "config");
	device = json_object_get_object_member(root, "device");
	g_assert_nonnull(device);
	g_assert_nonnull(json_object_get_object_member(root, "origin"));
	if (strcmp(levels[3], "recovery_gateway") == 0)
		g_assert_false(json_object_has_member(device, "via_device"));
	else
		g_assert_cmpstr(member_string(device, "via_device"), ==,
				GATEWAY_ID);
	cmps = json_object_get_object_member(root, "cmps");
	g_assert_nonnull(cmps);
	members = json_object_get_members(cmps);
	for (GList *l = members; l; l = l->next) {
		JsonObject *in = json_object_get_object_member(cmps, l->data);
		g_autoptr(JsonObject) o = json_object_new();
		g_autoptr(GList) keys = json_object_get_members(in);
		static const char *const shared[] = { "device", "origin",
						      "availability",
						      "availability_mode" };

		for (GList *k = keys; k; k = k->next)
			if (strcmp(k->data, "platform") != 0)
				json_object_set_member(
				    o, k->data,
				    json_node_copy(
					json_object_get_member(in, k->data)));
		for (size_t k = 0; k < G_N_ELEMENTS(shared); k++)
			if (json_object_has_member(root, shared[k]))
				json_object_set_member(
				    o, shared[k],
				    json_node_copy(json_object_get_member(
					root, shared[k])));
		check_component(topic, member_string(in, "platform"), o, ids);
		n++;
	}
	return n;
}

/* --- (a) every config on connect ------------------------------------------ */

/* Everything the gateway publishes for alice, bob and both devices: the
 * gateway device first. */
static GPtrArray *all_topics(void)
{
	const struct mqtt_discovery_person *people[] = { alice, bob, NULL };
	const struct mqtt_discovery_device *devices[] = { strap, scale, NULL };
	GPtrArray *topics = topics_of(people, devices);

	g_ptr_array_insert(topics, 0, gateway_topic());
	return topics;
}

static void test_discovery_on_connect(void)
{
	g_autoptr(GPtrArray) topics = all_topics();
	g_autoptr(GHashTable) ids =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) view = NULL;
	g_autoptr(GPtrArray) msgs = NULL;
	g_autoptr(ha) h = NULL;
	guint configs = 0, components = 0;
	struct gw g;
	int64_t t0;

	if (!gw_init(&g))
		return;
	h = ha_new(g.broker);
	t0 = g_get_monotonic_time();
	gw_start(&g, everyone, 2, all_devices, 2);
	g_assert_true(wait_topics(h, 0, topics, false, WAIT_MS));
	g_test_message("%u configs in %.0f ms", topics->len, since_ms(t0));
	g_assert_true(test_run_until(
	    states_arrived, &(struct states_wait){ h, 0, &g }, WAIT_MS));
	g_assert_cmpuint(g.republished, ==, 1);

	/* Each config retained and right by itself, the gateway device's
	 * first; one message per device. */
	msgs = ha_since(h, 0);
	for (guint i = 0; i < msgs->len; i++) {
		const struct ha_message *m = msgs->pdata[i];

		if (!g_str_has_prefix(m->topic, PREFIX "/device/"))
			continue;
		g_assert_true(m->retain);
		g_assert_cmpuint(m->len, >, 0);
		if (!components)
			g_assert_cmpstr(m->topic, ==, topics->pdata[0]);
		components += check_config(m->topic, m->payload, ids);
		configs++;
	}
	g_test_message("%u device configs, %u entities", configs, components);
	g_assert_cmpuint(configs, ==, topics->len);
	/* Exactly the configs of the set, and nothing else: the old
	 * per-entity topics a first start migrates end up empty. */
	view = ha_view(h, 0);
	g_assert_cmpuint(g_hash_table_size(view), ==, topics->len);
	g_assert_cmpuint(g_hash_table_size(ids), ==, components);
	for (guint i = 0; i < topics->len; i++)
		g_assert_true(g_hash_table_contains(view, topics->pdata[i]));
	/* Spot checks that do not rely on the builder's word. */
	g_assert_true(g_hash_table_contains(
	    ids, "recoveryd_recovery_user_alice_heart_rate"));
	g_assert_true(
	    g_hash_table_contains(ids, "recoveryd_recovery_user_bob_weight"));
	g_assert_true(g_hash_table_contains(
	    ids, "recoveryd_recovery_ble_c47c8d6a1234_battery"));
	g_assert_true(g_hash_table_contains(
	    ids, "recoveryd_recovery_ble_a4c1380b5e01_connected"));
	g_assert_true(
	    g_hash_table_contains(ids, "recoveryd_recovery_user_alice_alert"));
	g_assert_true(g_hash_table_contains(
	    ids, "recoveryd_recovery_gateway_outbox_backlog"));

	/* Nothing of ours was stale: the sweep deletes nothing, and the
	 * gateway stops listening to configs. */
	g_assert_true(test_run_until(not_settling, &g, WAIT_MS));
	g_test_message("settled %.0f ms after the start", since_ms(t0));
	test_run_for(100);
	g_clear_pointer(&view, g_hash_table_unref);
	view = ha_view(h, 0);
	g_assert_cmpuint(g_hash_table_size(view), ==, topics->len);
	gw_clear(&g);
}

/* --- (b) Home Assistant's birth ------------------------------------------- */

static void test_birth(void)
{
	g_autoptr(GPtrArray) topics = all_topics();
	g_autoptr(ha) h = NULL;
	g_autoptr(GPtrArray) msgs = NULL;
	int64_t t0, first_us = 0;
	unsigned from;
	struct gw g;

	if (!gw_init(&g))
		return;
	h = ha_new(g.broker);
	gw_start(&g, everyone, 2, all_devices, 2);
	g_assert_true(wait_topics(h, 0, topics, false, WAIT_MS));
	g_assert_true(test_run_until(
	    states_arrived, &(struct states_wait){ h, 0, &g }, WAIT_MS));
	g_assert_cmpuint(g.republished, ==, 1);

	/* Home Assistant restarts, and (as it may) says so three times. */
	from = ha_count(h);
	t0 = g_get_monotonic_time();
	for (int i = 0; i < 3; i++)
		ha_publish(h, HA_BIRTH, "online");
	g_assert_true(wait_topics(h, from, topics, false, 7000));
	msgs = ha_since(h, from);
	for (guint i = 0; i < msgs->len && !first_us; i++) {
		const struct ha_message *m = msgs->pdata[i];

		if (g_str_has_suffix(m->topic, "/config"))
			first_us = m->at_us;
	}
	g_test_message("configs again %.0f ms after the birth",
		       (double)(first_us - t0) / 1000.0);
	g_assert_cmpint(first_us - t0, >=, 1000 * G_TIME_SPAN_MILLISECOND);
	g_assert_cmpint(first_us - t0, <=, 6000 * G_TIME_SPAN_MILLISECOND);
	g_assert_true(test_run_until(
	    states_arrived, &(struct states_wait){ h, from, &g }, WAIT_MS));
	/* Three births, one answer: nothing more once the longest delay
	 * any of them could have drawn is over. */
	test_run_for((unsigned)MAX(0.0, 5300.0 - since_ms(t0)));
	g_assert_cmpuint(g.republished, ==, 2);
	for (guint i = 0; i < topics->len; i++)
		g_assert_cmpuint(ha_count_on(h, from, topics->pdata[i], false),
				 ==, 1);
	g_assert_cmpuint(g.connects, ==, 1);
	gw_clear(&g);
}

/* "offline" is no birth; with the delay shortened, "online" is answered
 * at once. */
static void test_birth_offline(void)
{
	g_autoptr(GPtrArray) topics = all_topics();
	g_autoptr(ha) h = NULL;
	unsigned from;
	struct gw g;

	if (!gw_init(&g))
		return;
	g.bridge_config.birth_delay_min_ms = 20;
	g.bridge_config.birth_delay_max_ms = 50;
	h = ha_new(g.broker);
	gw_start(&g, everyone, 2, all_devices, 2);
	g_assert_true(wait_topics(h, 0, topics, false, WAIT_MS));
	from = ha_count(h);
	ha_publish(h, HA_BIRTH, "offline");
	test_run_for(400);
	g_assert_cmpuint(g.republished, ==, 1);
	g_assert_cmpuint(ha_count_on(h, from, topics->pdata[0], false), ==, 0);
	ha_publish(h, HA_BIRTH, "online\n");
	g_assert_true(wait_topics(h, from, topics, false, 2000));
	g_assert_cmpuint(g.republished, ==, 2);

	/* Births within the delay share one answer. */
	from = ha_count(h);
	for (int i = 0; i < 5; i++)
		ha_publish(h, HA_BIRTH, "online");
	g_assert_true(wait_topics(h, from, topics, false, 2000));
	test_run_for(300);
	g_assert_cmpuint(g.republished, ==, 3);
	for (guint i = 0; i < topics->len; i++)
		g_assert_cmpuint(ha_count_on(h, from, topics->pdata[i], false),
				 ==, 1);
	gw_clear(&g);
}

/* --- (c) a person and a device taken out ---------------------------------- */

#define FOREIGN	      PREFIX "/sensor/zigbee_kitchen_temperature/config"
#define OTHER_GATEWAY PREFIX "/device/recoveryd/other_user_carol/config"

static void test_removed_on_restart(void)
{
	const struct mqtt_discovery_person *kept_people[] = { alice, NULL };
	const struct mqtt_discovery_device *kept_devices[] = { strap, NULL };
	const struct mqtt_discovery_person *gone_people[] = { bob, NULL };
	const struct mqtt_discovery_device *gone_devices[] = { scale, NULL };
	g_autoptr(GPtrArray) topics = all_topics();
	g_autoptr(GPtrArray) kept = topics_of(kept_people, kept_devices);
	g_autoptr(GPtrArray) gone = topics_of(gone_people, gone_devices);
	g_autoptr(GPtrArray) msgs = NULL;
	g_autoptr(GHashTable) view = NULL;
	g_autoptr(ha) h = NULL;
	g_autoptr(ha) late = NULL;
	struct mqtt_client_stats st0, st1;
	unsigned from, deletions = 0;
	int64_t t0;
	struct gw g;

	if (!gw_init(&g))
		return;
	g_ptr_array_insert(kept, 0, gateway_topic());
	h = ha_new(g.broker);
	/* Someone else's configs, which must survive the sweep. */
	ha_publish_len(h, FOREIGN, "{\"name\":\"t\"}", 12, true);
	ha_publish_len(h, OTHER_GATEWAY, "{\"name\":\"s\"}", 12, true);

	gw_start(&g, everyone, 2, all_devices, 2);
	g_assert_true(wait_topics(h, 0, topics, false, WAIT_MS));
	gw_stop(&g);

	/* Restarted with bob and the scale gone from its configuration. */
	from = ha_count(h);
	t0 = g_get_monotonic_time();
	gw_start(&g, alice, 1, strap, 1);
	g_assert_true(wait_topics(h, from, gone, true, WAIT_MS));
	g_test_message("%u stale configs deleted %.0f ms after the restart",
		       gone->len, since_ms(t0));
	g_assert_true(test_run_until(not_settling, &g, WAIT_MS));
	test_run_for(200);

	/* Exactly those, each once, retained (an empty retained payload is
	 * the deletion), and the others' kept. */
	msgs = ha_since(h, from);
	for (guint i = 0; i < msgs->len; i++) {
		const struct ha_message *m = msgs->pdata[i];

		if (m->len != 0)
			continue;
		deletions++;
		g_assert_true(m->retain);
		g_assert_true(g_ptr_array_find_with_equal_func(
		    gone, m->topic, g_str_equal, NULL));
	}
	g_assert_cmpuint(deletions, ==, gone->len);
	for (guint i = 0; i < gone->len; i++)
		g_assert_cmpuint(ha_count_on(h, from, gone->pdata[i], true), ==,
				 1);
	for (guint i = 0; i < kept->len; i++)
		g_assert_cmpuint(ha_count_on(h, from, kept->pdata[i], false),
				 ==, 1);
	view = ha_view(h, 0);
	g_assert_cmpuint(g_hash_table_size(view), ==, kept->len + 2);
	g_assert_true(g_hash_table_contains(view, FOREIGN));
	g_assert_true(g_hash_table_contains(view, OTHER_GATEWAY));

	/* Settled: it no longer receives everyone's configs. */
	mqtt_client_get_stats(g.client, &st0);
	ha_publish_len(h, PREFIX "/sensor/zigbee_hall/config", "{}", 2, false);
	test_run_for(300);
	mqtt_client_get_stats(g.client, &st1);
	g_assert_cmpuint(st1.received, ==, st0.received);

	/* A Home Assistant starting now finds only what is configured. */
	late = ha_new(g.broker);
	test_run_for(300);
	g_clear_pointer(&view, g_hash_table_unref);
	view = ha_view(late, 0);
	g_assert_cmpuint(g_hash_table_size(view), ==, kept->len + 2);
	for (guint i = 0; i < kept->len; i++)
		g_assert_true(g_hash_table_contains(view, kept->pdata[i]));
	for (guint i = 0; i < gone->len; i++)
		g_assert_false(g_hash_table_contains(view, gone->pdata[i]));
	gw_clear(&g);
}

/* The reload (SIGHUP) while connected: at once, not at the next connect. */
static void test_reload(void)
{
	const struct mqtt_discovery_person *gone_people[] = { bob, NULL };
	const struct mqtt_discovery_person *new_people[] = { carol, NULL };
	const struct mqtt_discovery_device *gone_devices[] = { scale, NULL };
	const struct mqtt_discovery_person next_people[] = { *alice, *carol };
	const struct mqtt_discovery_person twice[] = { *alice, *alice };
	g_autoptr(GPtrArray) topics = all_topics();
	g_autoptr(GPtrArray) bob_topics = topics_of(gone_people, NULL);
	g_autoptr(GPtrArray) carol_topics = topics_of(new_people, NULL);
	g_autoptr(GPtrArray) scale_topics = topics_of(NULL, gone_devices);
	g_autoptr(GPtrArray) alice_topics = person_topics(alice);
	g_autoptr(GPtrArray) strap_topics = device_topics(strap);
	g_autoptr(GHashTable) view = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(ha) h = NULL;
	unsigned from;
	int64_t t0;
	struct gw g;

	if (!gw_init(&g))
		return;
	h = ha_new(g.broker);
	gw_start(&g, everyone, 2, all_devices, 2);
	g_assert_true(wait_topics(h, 0, topics, false, WAIT_MS));
	/* The configs go out when the collecting is over. */
	g_assert_false(mqtt_bridge_is_settling(g.bridge));

	from = ha_count(h);
	t0 = g_get_monotonic_time();
	g.people = next_people;
	g_assert_true(mqtt_bridge_set_people(g.bridge, next_people, 2, &error));
	g_assert_no_error(error);
	g_assert_true(mqtt_bridge_set_devices(g.bridge, strap, 1, &error));
	g_assert_true(wait_topics(h, from, bob_topics, true, 1000));
	g_assert_true(wait_topics(h, from, scale_topics, true, 1000));
	g_assert_true(wait_topics(h, from, carol_topics, false, 1000));
	g_test_message("reload applied in %.0f ms", since_ms(t0));
	g_assert_cmpfloat(since_ms(t0), <, 1000.0);

	/* A set that is not valid changes nothing. */
	g_assert_false(mqtt_bridge_set_people(g.bridge, twice, 2, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);

	test_run_for(200);
	/* Alice did not change: not sent again. Bob once. */
	for (guint i = 0; i < alice_topics->len; i++)
		g_assert_cmpuint(
		    ha_count_on(h, from, alice_topics->pdata[i], false), ==, 0);
	for (guint i = 0; i < bob_topics->len; i++)
		g_assert_cmpuint(
		    ha_count_on(h, from, bob_topics->pdata[i], true), ==, 1);
	for (guint i = 0; i < scale_topics->len; i++)
		g_assert_cmpuint(
		    ha_count_on(h, from, scale_topics->pdata[i], true), ==, 1);
	/* What Home Assistant holds: the gateway, alice, carol, the
	 * strap. */
	view = ha_view(h, 0);
	g_assert_cmpuint(g_hash_table_size(view), ==,
			 1 + alice_topics->len + carol_topics->len +
			     strap_topics->len);
	gw_clear(&g);
}

/* --- (c2) from an earlier version's per-entity configs ------------------- */

static bool in_strv(char **list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/*
 * An earlier version left alice's per-entity configs retained. The first
 * start does what Home Assistant documents, in this order: the gateway
 * device; {"migrate_discovery": true} on every old topic; alice's device
 * config (same unique ids); an empty payload on every old topic. A second
 * start finds her device config and migrates nothing.
 */
static void test_migration(void)
{
	g_autoptr(GPtrArray) built = NULL;
	g_autoptr(GPtrArray) legacy = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) config = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) msgs = NULL;
	g_autoptr(GHashTable) view = NULL;
	g_autoptr(ha) h = NULL;
	g_autofree char *gw_topic = gateway_topic();
	const struct mqtt_discovery_message *m;
	int gateway_at = -1, config_at = -1, first_migrate = -1;
	int last_migrate = -1, first_empty = -1;
	unsigned from, migrated = 0, emptied = 0;
	struct gw g;

	if (!gw_init(&g))
		return;
	g_assert_cmpint(mqtt_discovery_build_person(&gateway, alice, &built),
			==, 0);
	m = built->pdata[0];
	for (char **t = m->legacy; *t; t++)
		g_ptr_array_add(legacy, g_strdup(*t));
	g_ptr_array_add(config, g_strdup(m->topic));
	h = ha_new(g.broker);
	for (guint i = 0; i < legacy->len; i++)
		ha_publish_len(h, legacy->pdata[i], "{\"name\":\"old\"}", 14,
			       true);
	test_run_for(100);

	from = ha_count(h);
	gw_start(&g, alice, 1, NULL, 0);
	g_assert_true(wait_topics(h, from, legacy, true, WAIT_MS));
	g_assert_true(test_run_until(not_settling, &g, WAIT_MS));
	test_run_for(200);
	msgs = ha_since(h, from);
	for (guint i = 0; i < msgs->len; i++) {
		const struct ha_message *x = msgs->pdata[i];

		if (strcmp(x->topic, gw_topic) == 0 && x->len && gateway_at < 0)
			gateway_at = (int)i;
		if (strcmp(x->topic, m->topic) == 0 && x->len)
			config_at = (int)i;
		if (!in_strv(m->legacy, x->topic))
			continue;
		g_assert_true(x->retain);
		if (x->len == 0) {
			emptied++;
			if (first_empty < 0)
				first_empty = (int)i;
		} else {
			g_assert_nonnull(
			    strstr(x->payload, "migrate_discovery"));
			migrated++;
			if (first_migrate < 0)
				first_migrate = (int)i;
			last_migrate = (int)i;
		}
	}
	g_test_message("migration: gateway at %d, migrate %d-%d, config at "
		       "%d, empties from %d",
		       gateway_at, first_migrate, last_migrate, config_at,
		       first_empty);
	g_assert_cmpuint(migrated, ==, legacy->len);
	g_assert_cmpuint(emptied, ==, legacy->len);
	g_assert_cmpint(gateway_at, >=, 0);
	g_assert_cmpint(gateway_at, <, first_migrate);
	g_assert_cmpint(last_migrate, <, config_at);
	g_assert_cmpint(config_at, <, first_empty);
	/* Home Assistant keeps the device config only. */
	view = ha_view(h, 0);
	for (guint i = 0; i < legacy->len; i++)
		g_assert_false(g_hash_table_contains(view, legacy->pdata[i]));
	g_assert_true(g_hash_table_contains(view, m->topic));

	/* Started again: nothing to migrate. */
	gw_stop(&g);
	from = ha_count(h);
	gw_start(&g, alice, 1, NULL, 0);
	g_assert_true(wait_topics(h, from, config, false, WAIT_MS));
	g_assert_true(test_run_until(not_settling, &g, WAIT_MS));
	test_run_for(200);
	for (guint i = 0; i < legacy->len; i++) {
		g_assert_cmpuint(ha_count_on(h, from, legacy->pdata[i], false),
				 ==, 0);
		g_assert_cmpuint(ha_count_on(h, from, legacy->pdata[i], true),
				 ==, 0);
	}
	gw_clear(&g);
}

/* --- (d) check-ins -------------------------------------------------------- */

struct bad_checkin {
	const char *name;
	const char *payload; /* NULL: the 2 KiB one */
	const char *reason;  /* part of the reason reported */
};

static const struct bad_checkin bad_checkins[] = {
	{ "wrong type", "{\"mood\":\"high\"}", "mood is a string" },
	{ "out of range", "{\"mood\":7}", "mood 7 is out of range" },
	{ "fractional", "{\"soreness\":2.5}", "soreness 2.5 is not a whole" },
	{ "huge", NULL, "over the 1024-byte limit" },
	{ "not JSON", "mood=3", "not JSON" },
	{ "empty", "", "empty payload" },
	{ "not an object", "[3]", "expected a JSON object" },
	{ "no known key", "{\"stress\":2}", "no mood, soreness or energy" },
};

static bool has_checkins(void *arg)
{
	const struct gw *g = arg;

	return g->checkins->len >= 2;
}

static void test_checkins(void)
{
	static const char alice_set[] = BASE "/alice/checkin/set";
	static const char bob_set[] = BASE "/bob/checkin/set";
	static const char good[] =
	    "{\"mood\":4,\"soreness\":2,\"energy\":5,\"note\":\"ok\"}";
	g_autoptr(GPtrArray) topics = all_topics();
	g_autoptr(ha) h = NULL;
	g_autofree char *huge = NULL;
	const struct seen_checkin *c;
	const struct seen_rejection *r;
	struct mqtt_client_stats st;
	int64_t before_ms;
	struct gw g;
	guint i;

	if (!gw_init(&g))
		return;
	h = ha_new(g.broker);
	gw_start(&g, everyone, 2, all_devices, 2);
	/* The configs come after the SUBSCRIBE on the same connection: once
	 * they are here, so is the subscription. */
	g_assert_true(wait_topics(h, 0, topics, false, WAIT_MS));

	/* 2 KiB of valid JSON, refused for its size alone. */
	huge = g_strdup_printf("{\"mood\":3,\"note\":\"%0*d\"}", 2048, 0);
	for (i = 0; i < G_N_ELEMENTS(bad_checkins); i++) {
		const char *p =
		    bad_checkins[i].payload ? bad_checkins[i].payload : huge;

		ha_publish(h, alice_set, p);
	}
	/* Someone the gateway does not know, with a good message; and a
	 * user level that is no user name. */
	ha_publish(h, BASE "/mallory/checkin/set", good);
	ha_publish(h, BASE "/not.a.user/checkin/set", good);
	/* A sender that keeps trying. */
	for (i = 0; i < 5; i++)
		ha_publish(h, alice_set, "{\"energy\":0}");
	/* The same on another topic is another report. */
	ha_publish(h, bob_set, "{\"energy\":0}");
	before_ms = g_get_real_time() / G_TIME_SPAN_MILLISECOND;
	ha_publish(h, alice_set, good);
	ha_publish(h, bob_set, "{\"energy\":2.0}");
	/* In order on one connection: once the good ones are in, every bad
	 * one before them has been handled. */
	g_assert_true(test_run_until(has_checkins, &g, WAIT_MS));
	test_run_for(200);

	g_assert_cmpuint(g.checkins->len, ==, 2);
	c = g.checkins->pdata[0];
	g_assert_cmpstr(c->user, ==, "alice");
	g_assert_cmpfloat(c->checkin.mood, ==, 4);
	g_assert_cmpfloat(c->checkin.soreness, ==, 2);
	g_assert_cmpfloat(c->checkin.energy, ==, 5);
	g_assert_cmpint(c->received_ms, >=, before_ms);
	g_assert_cmpint(c->received_ms, <=,
			g_get_real_time() / G_TIME_SPAN_MILLISECOND);
	c = g.checkins->pdata[1];
	g_assert_cmpstr(c->user, ==, "bob");
	g_assert_true(isnan(c->checkin.mood));
	g_assert_cmpfloat(c->checkin.energy, ==, 2);

	/* One report per bad message, with its own reason; the repeated one
	 * once per topic. */
	g_assert_cmpuint(g.rejected->len, ==, G_N_ELEMENTS(bad_checkins) + 2);
	for (i = 0; i < G_N_ELEMENTS(bad_checkins); i++) {
		r = g.rejected->pdata[i];
		g_test_message("%s: %s", bad_checkins[i].name, r->reason);
		g_assert_cmpstr(r->topic, ==, alice_set);
		g_assert_nonnull(strstr(r->reason, bad_checkins[i].reason));
		g_assert_null(strchr(r->reason, '\n'));
	}
	r = g.rejected->pdata[i];
	g_assert_cmpstr(r->topic, ==, alice_set);
	g_assert_nonnull(strstr(r->reason, "energy 0 is out of range"));
	r = g.rejected->pdata[i + 1];
	g_assert_cmpstr(r->topic, ==, bob_set);
	g_assert_nonnull(strstr(r->reason, "energy 0 is out of range"));

	/* The unknown user: ignored, said at debug level. */
	g_assert_true(g_ptr_array_find_with_equal_func(
	    g.debug_log,
	    "check-in on recovery/mallory/checkin/set ignored: \"mallory\" "
	    "is not a configured person",
	    g_str_equal, NULL));

	/* Nothing else disturbed: the same connection throughout. */
	g_assert_true(mqtt_client_is_connected(g.client));
	g_assert_cmpuint(g.connects, ==, 1);
	mqtt_client_get_stats(g.client, &st);
	g_assert_cmpuint(st.connects, ==, 1);
	gw_clear(&g);
}

static bool has_one_checkin(void *arg)
{
	const struct gw *g = arg;

	return g->checkins->len >= 1;
}

/*
 * A check-in a dashboard sent with the retain flag: the broker keeps it
 * and hands it to every new subscription, so a gateway that filed it would
 * file it again at each restart. The one kept from before the gateway
 * subscribed is ignored (a debug line); one sent while it listens arrives
 * without the flag (MQTT 3.1.1 §3.3.1.3) and is filed once.
 */
static void test_checkin_retained(void)
{
	static const char alice_set[] = BASE "/alice/checkin/set";
	static const char old[] = "{\"mood\":1}";
	static const char fresh[] = "{\"mood\":5}";
	g_autoptr(GPtrArray) topics = all_topics();
	g_autoptr(ha) h = NULL;
	const struct seen_checkin *c;
	struct gw g;

	if (!gw_init(&g))
		return;
	h = ha_new(g.broker);
	ha_publish_len(h, alice_set, old, strlen(old), true);
	gw_start(&g, everyone, 2, all_devices, 2);
	g_assert_true(wait_topics(h, 0, topics, false, WAIT_MS));
	/* The retained one comes right after the SUBACK, before the configs
	 * the gateway publishes after subscribing have come back. */
	test_run_for(300);
	g_assert_cmpuint(g.checkins->len, ==, 0);
	g_assert_true(g_ptr_array_find_with_equal_func(
	    g.debug_log,
	    "check-in on recovery/alice/checkin/set ignored: a retained "
	    "message (kept by the broker from before, not sent just now)",
	    g_str_equal, NULL));

	ha_publish_len(h, alice_set, fresh, strlen(fresh), true);
	g_assert_true(test_run_until(has_one_checkin, &g, WAIT_MS));
	test_run_for(200);
	g_assert_cmpuint(g.checkins->len, ==, 1);
	c = g.checkins->pdata[0];
	g_assert_cmpfloat(c->checkin.mood, ==, 5);
	/* Clear the retained message for whoever uses the broker next. */
	ha_publish_len(h, alice_set, "", 0, true);
	gw_clear(&g);
}

/* --- bridge_new refusals -------------------------------------------------- */

static void test_new_invalid(void)
{
	struct mqtt_client_config cfg = { .host = "127.0.0.1", .port = 1883 };
	struct mqtt_bridge_config bc = { 0 };
	struct mqtt_client_ops ops;
	g_autoptr(mqtt_client) client = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(mqtt_bridge) b = NULL;
	const struct mqtt_discovery_person bad_user = { "a/b", NULL };
	const struct mqtt_discovery_device bad_device = { "C4:7C:8D", NULL,
							  NULL, NULL };
	const struct mqtt_discovery_device same[] = {
		{ "C4:7C:8D:6A:12:34", NULL, NULL, NULL },
		{ "c4:7c:8d:6a:12:34", NULL, NULL, NULL },
	};
	struct outbox_wiring w = { 0 };

	outbox_wiring_ops(&ops);
	client = mqtt_client_new(&cfg, &ops, &w, &error);
	g_assert_no_error(error);

	bc.base_topic = "elsewhere";
	g_assert_null(mqtt_bridge_new(client, &bc, &bridge_ops, NULL, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	bc.base_topic = NULL;
	bc.discovery_prefix = "recovery/ha";
	g_assert_null(mqtt_bridge_new(client, &bc, &bridge_ops, NULL, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	bc.discovery_prefix = NULL;
	bc.birth_delay_min_ms = 6000;
	g_assert_null(mqtt_bridge_new(client, &bc, &bridge_ops, NULL, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	bc.birth_delay_min_ms = 0;

	b = mqtt_bridge_new(client, &bc, &bridge_ops, NULL, &error);
	g_assert_no_error(error);
	g_assert_false(mqtt_bridge_set_people(b, &bad_user, 1, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(mqtt_bridge_set_devices(b, &bad_device, 1, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(mqtt_bridge_set_devices(b, same, 2, &error));
	g_assert_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_INVALID);
	g_clear_error(&error);
	/* Not connected: the sets are kept for the connect. */
	g_assert_true(mqtt_bridge_set_people(b, everyone, 2, &error));
	g_assert_false(mqtt_bridge_is_settling(b));
	mqtt_bridge_free(NULL);
}

int main(int argc, char **argv)
{
	/* The client refuses to run otherwise (client.h). */
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	mosquitto_lib_init();

	g_test_add_func("/bridge/new-invalid", test_new_invalid);
	g_test_add_func("/bridge/discovery-on-connect",
			test_discovery_on_connect);
	g_test_add_func("/bridge/birth", test_birth);
	g_test_add_func("/bridge/birth-offline", test_birth_offline);
	g_test_add_func("/bridge/removed-on-restart", test_removed_on_restart);
	g_test_add_func("/bridge/reload", test_reload);
	g_test_add_func("/bridge/migration", test_migration);
	g_test_add_func("/bridge/checkins", test_checkins);
	g_test_add_func("/bridge/checkin-retained", test_checkin_retained);
	return g_test_run();
}
