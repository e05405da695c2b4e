// SPDX-License-Identifier: MIT
/*
 * Discovery, birth and check-ins between the MQTT client and the gateway.
 *
 * The configs of the current set are built once per set_people/set_devices
 * call and kept as immutable arrays: a new set replaces an array, never
 * edits it. Publishing runs the client's pump, which may call back into
 * mqtt_bridge_message (and the owner's ops) while a loop here is still
 * going; loops therefore hold a reference to the array they walk, and the
 * sweep takes the collected topics out of the bridge before it publishes.
 */
#include "mqtt/bridge.h"

#include "gateway/common/owner-log.h"

#include <string.h>

#include "mqtt/topic.h"

#define DEFAULT_BASE	   MQTT_TOPIC_DEFAULT_BASE
#define DEFAULT_PREFIX	   "homeassistant"
#define BIRTH_MIN_MS	   1000
#define BIRTH_MAX_MS	   5000
#define BIRTH_LIMIT_MS	   600000 /* a longer answer is no answer */
#define SETTLE_MS	   2000
#define SETTLE_MAX_MS	   10000
#define REPORT_INTERVAL_US (10 * 60 * G_USEC_PER_SEC)
/* Distinct (topic, reason) pairs remembered: a parse error quotes the
 * payload, so a sender can make every reason new; beyond this many within
 * the interval, new ones go unreported. */
#define REPORTS_MAX 256

struct mqtt_bridge {
	mqtt_client *client; /* borrowed */
	struct mqtt_bridge_ops ops;
	void *data;

	char *base;
	char *prefix;
	char *sw_version;
	char *support_url;
	char *configuration_url;
	struct mqtt_discovery_gateway gateway; /* the strings above */
	char *ha_status_topic;		       /* <prefix>/status */
	char *config_filter; /* <prefix>/device/recoveryd/+/config */
	char *config_root;   /* <prefix>/ */
	unsigned birth_min_ms;
	unsigned birth_max_ms;
	unsigned settle_ms;
	unsigned settle_max_ms;

	/* struct mqtt_discovery_message *; replaced, never changed */
	GPtrArray *gateway_configs; /* the gateway device's, first */
	GPtrArray *person_configs;
	GPtrArray *device_configs;
	GHashTable *users; /* the configured user names */

	/* after a connect, until the sweep */
	bool collecting;
	GHashTable *found; /* our config topics seen with a payload */
	int64_t last_config_us;
	int64_t settle_deadline_us;
	guint settle_id;

	guint birth_id;
	/* "topic\nwhat" -> int64_t *, the last report (monotonic us): the
	 * check-ins refused, and those of unknown users apart, so that a
	 * flood of made-up users cannot hide a real user's refusals. */
	GHashTable *rejected;
	GHashTable *ignored;
};

static GPtrArray *configs_new(void)
{
	return g_ptr_array_new_with_free_func(
	    (GDestroyNotify)mqtt_discovery_message_free);
}

/* Moves the messages of @from (a build result) to the end of @to. */
static void configs_take(GPtrArray *to, GPtrArray *from)
{
	for (guint i = 0; i < from->len; i++)
		g_ptr_array_add(to, g_steal_pointer(&from->pdata[i]));
	g_ptr_array_unref(from);
}

/* --- rate limit ----------------------------------------------------------- */

static void prune_reports(GHashTable *reported, int64_t now)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, reported);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (now - *(const int64_t *)value >= REPORT_INTERVAL_US)
			g_hash_table_iter_remove(&it);
}

/* Whether (@topic, @what) may be reported now: not within the interval
 * since its last report, and the table has room. */
static bool may_report(GHashTable *reported, const char *topic,
		       const char *what)
{
	g_autofree char *key = g_strconcat(topic, "\n", what, NULL);
	int64_t now = g_get_monotonic_time();
	int64_t *last = g_hash_table_lookup(reported, key);

	if (last) {
		if (now - *last < REPORT_INTERVAL_US)
			return false;
		*last = now;
		return true;
	}
	if (g_hash_table_size(reported) >= REPORTS_MAX)
		prune_reports(reported, now);
	if (g_hash_table_size(reported) >= REPORTS_MAX)
		return false;
	g_hash_table_insert(reported, g_steal_pointer(&key),
			    g_memdup2(&now, sizeof(now)));
	return true;
}

/* --- publishing ----------------------------------------------------------- */

/*
 * Publishes one config (or, with an empty @payload, its deletion), QoS 1,
 * retained. False when not connected: the rest can wait for the next
 * connect, which sends everything again.
 */
static bool publish_config(struct mqtt_bridge *b, const char *topic,
			   const char *payload)
{
	g_autoptr(GError) error = NULL;

	if (mqtt_client_publish(b->client, topic, payload, strlen(payload), 1,
				true, &error))
		return true;
	if (g_error_matches(error, MQTT_CLIENT_ERROR,
			    MQTT_CLIENT_ERROR_NOT_RUNNING)) {
		owner_log(b->ops.log, b->data, G_LOG_LEVEL_DEBUG,
			  "discovery paused until the next connect: %s",
			  error->message);
		return false;
	}
	/* This one will never go; the others still may. */
	owner_log(b->ops.log, b->data, G_LOG_LEVEL_WARNING,
		  "discovery config %s not sent: %s", topic, error->message);
	return true;
}

static bool publish_all_of(struct mqtt_bridge *b, GPtrArray *configs)
{
	g_autoptr(GPtrArray) hold = g_ptr_array_ref(configs);

	for (guint i = 0; i < hold->len; i++) {
		const struct mqtt_discovery_message *m = hold->pdata[i];

		if (!publish_config(b, m->topic, m->payload))
			return false;
	}
	return true;
}

/* The gateway device first: the others name it as their via_device. */
static void publish_all(struct mqtt_bridge *b)
{
	if (publish_all_of(b, b->gateway_configs) &&
	    publish_all_of(b, b->person_configs))
		publish_all_of(b, b->device_configs);
}

/*
 * A reload while connected: publishes what @next adds or changes against
 * @prev and deletes what it drops. Configs that did not change are not
 * sent again; Home Assistant would only redo the same entities.
 */
static void apply_change(struct mqtt_bridge *b, GPtrArray *prev,
			 GPtrArray *next)
{
	g_autoptr(GHashTable) old = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) kept = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < prev->len; i++) {
		const struct mqtt_discovery_message *m = prev->pdata[i];

		g_hash_table_insert(old, m->topic, m->payload);
	}
	for (guint i = 0; i < next->len; i++) {
		const struct mqtt_discovery_message *m = next->pdata[i];
		const char *was = g_hash_table_lookup(old, m->topic);

		g_hash_table_add(kept, m->topic);
		if (was && strcmp(was, m->payload) == 0)
			continue;
		if (!publish_config(b, m->topic, m->payload))
			return;
	}
	for (guint i = 0; i < prev->len; i++) {
		const struct mqtt_discovery_message *m = prev->pdata[i];

		if (g_hash_table_contains(kept, m->topic))
			continue;
		/* Deleted now; the sweep need not do it again. */
		if (b->found)
			g_hash_table_remove(b->found, m->topic);
		if (!publish_config(b, m->topic, ""))
			return;
	}
}

/* --- the people and devices ----------------------------------------------- */

gboolean mqtt_bridge_set_people(mqtt_bridge *b,
				const struct mqtt_discovery_person *people,
				size_t count, GError **error)
{
	g_autoptr(GPtrArray) next = configs_new();
	g_autoptr(GPtrArray) prev = NULL;
	g_autoptr(GHashTable) users =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (size_t i = 0; i < count; i++) {
		const char *user = people[i].user;
		GPtrArray *built = NULL;

		if (!mqtt_topic_user_valid(user))
			return mqtt_client_invalid(
			    error, "person \"%s\": not a user name",
			    user ? user : "(null)");
		if (g_hash_table_contains(users, user))
			return mqtt_client_invalid(
			    error, "person \"%s\" appears twice", user);
		if (mqtt_discovery_build_person(&b->gateway, &people[i],
						&built) < 0)
			return mqtt_client_invalid(
			    error, "person \"%s\": no discovery", user);
		configs_take(next, built);
		g_hash_table_add(users, g_strdup(user));
	}
	prev = g_steal_pointer(&b->person_configs);
	b->person_configs = g_ptr_array_ref(next);
	g_hash_table_unref(b->users);
	b->users = g_steal_pointer(&users);
	/* While collecting, the sweep publishes the set it then has. */
	if (mqtt_client_is_connected(b->client) && !b->collecting)
		apply_change(b, prev, next);
	return TRUE;
}

gboolean mqtt_bridge_set_devices(mqtt_bridge *b,
				 const struct mqtt_discovery_device *devices,
				 size_t count, GError **error)
{
	g_autoptr(GPtrArray) next = configs_new();
	g_autoptr(GPtrArray) prev = NULL;
	g_autoptr(GHashTable) slugs =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (size_t i = 0; i < count; i++) {
		const char *address = devices[i].address;
		char slug[MQTT_TOPIC_ADDRESS_SLUG];
		GPtrArray *built = NULL;

		if (!mqtt_topic_address_slug(address, slug))
			return mqtt_client_invalid(
			    error, "device \"%s\": not a BLE address",
			    address ? address : "(null)");
		/* The slug ignores case: the same device either way. */
		if (g_hash_table_contains(slugs, slug))
			return mqtt_client_invalid(
			    error, "device %s appears twice", address);
		if (mqtt_discovery_build_device(&b->gateway, &devices[i],
						&built) < 0)
			return mqtt_client_invalid(
			    error, "device %s: no discovery", address);
		configs_take(next, built);
		g_hash_table_add(slugs, g_strdup(slug));
	}
	prev = g_steal_pointer(&b->device_configs);
	b->device_configs = g_ptr_array_ref(next);
	if (mqtt_client_is_connected(b->client) && !b->collecting)
		apply_change(b, prev, next);
	return TRUE;
}

/* --- after a connect: collect, settle, sweep ------------------------------ */

static void stop_collecting(struct mqtt_bridge *b)
{
	g_autoptr(GError) error = NULL;

	b->collecting = false;
	g_clear_handle_id(&b->settle_id, g_source_remove);
	g_hash_table_remove_all(b->found);
	if (!mqtt_client_unsubscribe(b->client, b->config_filter, &error))
		owner_log(b->ops.log, b->data, G_LOG_LEVEL_WARNING, "%s",
			  error->message);
}

static void add_topics(GHashTable *set, GPtrArray *configs)
{
	for (guint i = 0; i < configs->len; i++) {
		const struct mqtt_discovery_message *m = configs->pdata[i];

		g_hash_table_add(set, m->topic);
	}
}

static gint compare_topics(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Home Assistant's documented migration from per-entity configs to a
 * device config, for one device: {"migrate_discovery": true} on each old
 * topic (Home Assistant lets go of those entities but keeps them), then
 * the device config with the same unique ids (it takes them over), then an
 * empty payload on each old topic (the old configs are gone from the
 * broker), and on the old topics of entities that are no more (Home
 * Assistant removes those). False when the connection went away.
 */
static bool migrate(struct mqtt_bridge *b,
		    const struct mqtt_discovery_message *m)
{
	for (char **t = m->legacy; *t; t++) {
		struct mqtt_discovery_message *step =
		    mqtt_discovery_migration(*t);
		bool sent = publish_config(b, step->topic, step->payload);

		mqtt_discovery_message_free(step);
		if (!sent)
			return false;
	}
	if (!publish_config(b, m->topic, m->payload))
		return false;
	for (char **t = m->legacy; *t; t++)
		if (!publish_config(b, *t, ""))
			return false;
	for (char **t = m->retired; t && *t; t++)
		if (!publish_config(b, *t, ""))
			return false;
	return true;
}

/*
 * After the settle: the current configs, the gateway's first. A device
 * whose config was not on the broker before this connect gets it through
 * the migration (it may have per-entity configs from an earlier version;
 * an old topic without one is only emptied again); one whose config was
 * there gets it again as it is now.
 */
static bool publish_current(struct mqtt_bridge *b, GHashTable *found)
{
	g_autoptr(GPtrArray) people = g_ptr_array_ref(b->person_configs);
	g_autoptr(GPtrArray) devices = g_ptr_array_ref(b->device_configs);
	GPtrArray *sets[] = { people, devices };

	if (!publish_all_of(b, b->gateway_configs))
		return false;
	for (size_t k = 0; k < G_N_ELEMENTS(sets); k++)
		for (guint i = 0; i < sets[k]->len; i++) {
			const struct mqtt_discovery_message *m =
			    sets[k]->pdata[i];
			bool ok =
			    m->legacy && !g_hash_table_contains(found, m->topic)
				? migrate(b, m)
				: publish_config(b, m->topic, m->payload);

			if (!ok)
				return false;
		}
	return true;
}

/* Publishes the current configs and deletes every config collected that
 * the current set does not make. */
static void sweep(struct mqtt_bridge *b)
{
	/* Taken out first: publishing may bring more messages in. */
	g_autoptr(GHashTable) found = g_steal_pointer(&b->found);
	g_autoptr(GHashTable) current =
	    g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) gateway = g_ptr_array_ref(b->gateway_configs);
	g_autoptr(GPtrArray) people = g_ptr_array_ref(b->person_configs);
	g_autoptr(GPtrArray) devices = g_ptr_array_ref(b->device_configs);
	g_autoptr(GPtrArray) stale = g_ptr_array_new();
	GHashTableIter it;
	gpointer topic;
	guint deleted = 0;

	b->found = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	stop_collecting(b);
	if (!publish_current(b, found))
		return;
	add_topics(current, gateway);
	add_topics(current, people);
	add_topics(current, devices);
	g_hash_table_iter_init(&it, found);
	while (g_hash_table_iter_next(&it, &topic, NULL))
		if (!g_hash_table_contains(current, topic))
			g_ptr_array_add(stale, topic);
	/* In topic order, so a log (and a test) reads the same each time. */
	g_ptr_array_sort(stale, compare_topics);
	for (guint i = 0; i < stale->len; i++) {
		if (!publish_config(b, stale->pdata[i], ""))
			break;
		deleted++;
	}
	if (deleted)
		owner_log(
		    b->ops.log, b->data, G_LOG_LEVEL_INFO,
		    "deleted %u Home Assistant configs of people or devices "
		    "no longer configured",
		    deleted);
	/* After the configs, as Home Assistant asks: their entities
	 * subscribe to the state topics these fill. */
	if (b->ops.republish_states)
		b->ops.republish_states(b->data);
}

static gboolean settle_cb(gpointer user_data)
{
	struct mqtt_bridge *b = user_data;
	int64_t now = g_get_monotonic_time();
	int64_t quiet_end =
	    b->last_config_us + (int64_t)b->settle_ms * G_TIME_SPAN_MILLISECOND;
	int64_t until;

	b->settle_id = 0;
	if (!mqtt_client_is_connected(b->client)) {
		/* The next connect collects again from the start. */
		stop_collecting(b);
		return G_SOURCE_REMOVE;
	}
	/* One timer re-armed, rather than one per message: retained configs
	 * come in bursts of hundreds on a busy broker. */
	if (now < quiet_end && now < b->settle_deadline_us) {
		until = MIN(quiet_end, b->settle_deadline_us);
		b->settle_id = g_timeout_add(
		    (guint)((until - now + 999) / G_TIME_SPAN_MILLISECOND),
		    settle_cb, b);
		return G_SOURCE_REMOVE;
	}
	sweep(b);
	return G_SOURCE_REMOVE;
}

void mqtt_bridge_connected(mqtt_bridge *b)
{
	g_autoptr(GError) error = NULL;
	int64_t now = g_get_monotonic_time();

	/* This connect re-publishes everything: a birth answer would only
	 * repeat it. */
	g_clear_handle_id(&b->birth_id, g_source_remove);
	g_clear_handle_id(&b->settle_id, g_source_remove);
	g_hash_table_remove_all(b->found);
	b->collecting = true;
	b->last_config_us = now;
	b->settle_deadline_us =
	    now + (int64_t)b->settle_max_ms * G_TIME_SPAN_MILLISECOND;
	b->settle_id =
	    g_timeout_add(MIN(b->settle_ms, b->settle_max_ms), settle_cb, b);
	/* Nothing is published until the settle: which of our configs the
	 * broker holds decides whether a device's config comes through
	 * Home Assistant's migration, which must precede it. */
	if (!mqtt_client_subscribe(b->client, b->config_filter, &error))
		owner_log(b->ops.log, b->data, G_LOG_LEVEL_WARNING,
			  "stale discovery configs will not be found: %s",
			  error->message);
}

bool mqtt_bridge_is_settling(mqtt_bridge *b)
{
	return b && b->collecting;
}

/* --- inbound -------------------------------------------------------------- */

static gboolean birth_cb(gpointer user_data)
{
	struct mqtt_bridge *b = user_data;

	b->birth_id = 0;
	/* Away: the next connect sends it all anyway; collecting: the
	 * sweep is about to. */
	if (!mqtt_client_is_connected(b->client) || b->collecting)
		return G_SOURCE_REMOVE;
	publish_all(b);
	if (b->ops.republish_states)
		b->ops.republish_states(b->data);
	return G_SOURCE_REMOVE;
}

static void ha_birth(struct mqtt_bridge *b)
{
	guint delay_ms = b->birth_min_ms;

	/* Births within the delay (Home Assistant restarting twice, or its
	 * retained birth arriving with every subscription) share an
	 * answer. */
	if (b->birth_id)
		return;
	if (b->birth_max_ms > b->birth_min_ms)
		delay_ms = (guint)g_random_int_range(
		    (gint32)b->birth_min_ms, (gint32)b->birth_max_ms + 1);
	b->birth_id = g_timeout_add(delay_ms, birth_cb, b);
	owner_log(b->ops.log, b->data, G_LOG_LEVEL_DEBUG,
		  "Home Assistant is online: discovery again in %u ms",
		  delay_ms);
}

static void checkin(struct mqtt_bridge *b, const char *topic, const char *user,
		    const void *payload, size_t len)
{
	g_autofree char *reason = NULL;
	struct mqtt_checkin c;

	if (!g_hash_table_contains(b->users, user)) {
		if (may_report(b->ignored, topic, "unknown user"))
			owner_log(b->ops.log, b->data, G_LOG_LEVEL_DEBUG,
				  "check-in on %s ignored: \"%s\" is not a "
				  "configured person",
				  topic, user);
		return;
	}
	if (mqtt_inbound_parse_checkin(payload, len, &c, &reason) < 0) {
		if (b->ops.rejected && may_report(b->rejected, topic, reason))
			b->ops.rejected(b->data, topic, reason);
		return;
	}
	if (b->ops.checkin)
		b->ops.checkin(b->data, user, &c,
			       g_get_real_time() / G_TIME_SPAN_MILLISECOND);
}

void mqtt_bridge_message(mqtt_bridge *b, const char *topic, const void *payload,
			 size_t len, bool retained)
{
	char user[MQTT_TOPIC_USER_MAX + 1];

	if (!topic)
		return;
	if (strcmp(topic, b->ha_status_topic) == 0) {
		if (mqtt_inbound_is_ha_online(payload, len))
			ha_birth(b);
		return;
	}
	if (g_str_has_prefix(topic, b->config_root)) {
		if (!b->collecting || !g_str_has_suffix(topic, "/config"))
			return;
		/* Every config counts for the quiet time, ours or not:
		 * ours may come anywhere in the burst. */
		b->last_config_us = g_get_monotonic_time();
		if (!mqtt_discovery_topic_is_ours(&b->gateway, topic))
			return;
		/* Empty: deleted since (the broker never sends an empty
		 * retained message), nothing left to delete. Only what the
		 * broker kept from before counts as found. */
		if (len == 0 || !retained)
			g_hash_table_remove(b->found, topic);
		else
			g_hash_table_add(b->found, g_strdup(topic));
		return;
	}
	/* Anything else (a check-in topic whose user level is no user name
	 * at all) cannot be anyone's. */
	if (!mqtt_topic_parse_checkin(b->base, topic, user, sizeof(user)))
		return;
	if (retained) {
		/* Sent with the retain flag by a dashboard: the broker hands
		 * it to every new subscription, ours after each restart. */
		owner_log(b->ops.log, b->data, G_LOG_LEVEL_DEBUG,
			  "check-in on %s ignored: a retained message (kept "
			  "by the broker from before, not sent just now)",
			  topic);
		return;
	}
	checkin(b, topic, user, payload, len);
}

/* --- life ----------------------------------------------------------------- */

mqtt_bridge *mqtt_bridge_new(mqtt_client *client,
			     const struct mqtt_bridge_config *config,
			     const struct mqtt_bridge_ops *ops, void *data,
			     GError **error)
{
	g_autoptr(mqtt_bridge) b = NULL;
	g_autofree char *status = NULL;

	if (!client || !config || !ops) {
		mqtt_client_invalid(error,
				    "no client, configuration or callbacks");
		return NULL;
	}
	b = g_new0(struct mqtt_bridge, 1);
	b->client = client;
	b->ops = *ops;
	b->data = data;
	b->base =
	    g_strdup(config->base_topic ? config->base_topic : DEFAULT_BASE);
	b->prefix = g_strdup(config->discovery_prefix ? config->discovery_prefix
						      : DEFAULT_PREFIX);
	b->sw_version = g_strdup(config->sw_version);
	b->support_url = g_strdup(config->support_url);
	b->configuration_url = g_strdup(config->configuration_url);
	b->gateway = (struct mqtt_discovery_gateway){
		.base = b->base,
		.prefix = b->prefix,
		.sw_version = b->sw_version,
		.support_url = b->support_url,
		.configuration_url = b->configuration_url,
	};
	b->birth_min_ms = config->birth_delay_min_ms
			      ? config->birth_delay_min_ms
			      : BIRTH_MIN_MS;
	b->birth_max_ms = config->birth_delay_max_ms
			      ? config->birth_delay_max_ms
			      : BIRTH_MAX_MS;
	b->settle_ms = config->settle_ms ? config->settle_ms : SETTLE_MS;
	b->settle_max_ms =
	    config->settle_max_ms ? config->settle_max_ms : SETTLE_MAX_MS;
	b->person_configs = configs_new();
	b->device_configs = configs_new();
	b->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	b->found = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	b->rejected =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	b->ignored =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	/* The filter is made only for a valid base and prefix, neither
	 * inside the other, and a dashboard URL that is one. */
	b->config_filter = mqtt_discovery_topic_filter(&b->gateway);
	if (!b->config_filter || mqtt_discovery_build_gateway(
				     &b->gateway, &b->gateway_configs) < 0) {
		mqtt_client_invalid(
		    error,
		    "base topic \"%s\", discovery prefix \"%s\" and "
		    "dashboard URL \"%s\": not valid together",
		    b->base, b->prefix,
		    b->configuration_url ? b->configuration_url : "");
		return NULL;
	}
	status = mqtt_topic_status(b->base);
	if (g_strcmp0(status, mqtt_client_status_topic(client)) != 0) {
		mqtt_client_invalid(
		    error, "base topic \"%s\" is not the client's (%s)",
		    b->base, mqtt_client_status_topic(client));
		return NULL;
	}
	if (b->birth_min_ms > b->birth_max_ms ||
	    b->birth_max_ms > BIRTH_LIMIT_MS) {
		mqtt_client_invalid(error, "birth delay %u-%u ms (at most %u)",
				    b->birth_min_ms, b->birth_max_ms,
				    BIRTH_LIMIT_MS);
		return NULL;
	}
	b->ha_status_topic = g_strconcat(b->prefix, "/status", NULL);
	b->config_root = g_strconcat(b->prefix, "/", NULL);
	return g_steal_pointer(&b);
}

void mqtt_bridge_free(mqtt_bridge *b)
{
	if (!b)
		return;
	g_clear_handle_id(&b->settle_id, g_source_remove);
	g_clear_handle_id(&b->birth_id, g_source_remove);
	/* The owner would go on receiving every integration's configs. */
	if (b->collecting)
		mqtt_client_unsubscribe(b->client, b->config_filter, NULL);
	g_free(b->base);
	g_free(b->prefix);
	g_free(b->sw_version);
	g_free(b->support_url);
	g_free(b->configuration_url);
	g_free(b->ha_status_topic);
	g_free(b->config_filter);
	g_free(b->config_root);
	g_clear_pointer(&b->gateway_configs, g_ptr_array_unref);
	g_clear_pointer(&b->person_configs, g_ptr_array_unref);
	g_clear_pointer(&b->device_configs, g_ptr_array_unref);
	g_clear_pointer(&b->users, g_hash_table_unref);
	g_clear_pointer(&b->found, g_hash_table_unref);
	g_clear_pointer(&b->rejected, g_hash_table_unref);
	g_clear_pointer(&b->ignored, g_hash_table_unref);
	g_free(b);
}
