/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mqtt/client.h"
#include "mqtt/discovery.h"
#include "mqtt/inbound.h"

/*
 * The gateway's side of the MQTT contract (DESIGN §7) that is not the raw
 * client: Home Assistant discovery kept in step with the configured people
 * and BLE devices, Home Assistant's birth message, and inbound check-ins.
 * The owner feeds it the client's connected and message callbacks; it
 * publishes through the client and tells the owner what to do through
 * struct mqtt_bridge_ops. It never logs by itself (ops->log).
 *
 * After every connect:
 *   1. subscribe <prefix>/device/recoveryd/+/config (our own configs only,
 *      mqtt/discovery.h), so the broker sends back those it holds;
 *   2. collect the topics of the retained configs that are ours
 *      (mqtt_discovery_topic_is_ours) as they arrive;
 *   3. once none has arrived for settle_ms (at the latest settle_max_ms
 *      after the connect), unsubscribe and publish (QoS 1, retained) the
 *      gateway device's config, then each person's and BLE device's. One
 *      whose config the broker did not hold goes through Home Assistant's
 *      migration from the per-entity configs of earlier versions:
 *      {"migrate_discovery": true} on each of its old per-entity topics,
 *      then its device config, then an empty payload on each old topic.
 *      Then delete (empty retained payload) the collected configs the
 *      current set does not produce (a person or device taken out of the
 *      config while the gateway was away), and call
 *      ops->republish_states, whose outbox rows follow the configs on the
 *      wire.
 *
 * Home Assistant's birth ("online" on <prefix>/status) re-publishes every
 * config (the gateway's first) and calls ops->republish_states after a
 * random 1-5 s delay, so that not every gateway on the broker answers at
 * once; births within the delay make one re-publish, and a birth answered
 * while collecting is left to the sweep.
 *
 * A check-in on <base>/<user>/checkin/set for a configured person goes to
 * ops->checkin once mqtt/inbound.c accepts it; a refused one to
 * ops->rejected with the reason, at most once per topic and reason every
 * 10 minutes, so that a misbehaving publisher cannot flood the log. A
 * check-in for anyone else is ignored (a debug line through ops->log,
 * rate-limited the same way).
 *
 * Timers run in the global default main context (g_timeout_add): the
 * daemon's main loop, where the client runs too.
 */

struct mqtt_bridge_config {
	/* Both as given to the client (mqtt_client_config): NULL means
	 * "recovery" and "homeassistant". */
	const char *base_topic;
	const char *discovery_prefix;
	const char *sw_version;	 /* in every config; NULL: none */
	const char *support_url; /* in every config's origin; NULL: none */
	/* The gateway device's configuration_url (the dashboard), http:// or
	 * https://; NULL: none. */
	const char *configuration_url;
	/* The delay before answering Home Assistant's birth, drawn
	 * uniformly from [min, max]; 0: 1000 and 5000. */
	unsigned birth_delay_min_ms;
	unsigned birth_delay_max_ms;
	/* Stale configs are deleted once no retained config has arrived
	 * for settle_ms (0: 2000), and at the latest settle_max_ms after
	 * the connect (0: 10000). */
	unsigned settle_ms;
	unsigned settle_max_ms;
};

/*
 * What the bridge needs from the gateway. Each may be NULL; each gets the
 * @data given to mqtt_bridge_new first. They run from the main loop or from
 * inside mqtt_bridge_connected / mqtt_bridge_message, and must not free
 * the bridge.
 */
struct mqtt_bridge_ops {
	/* Re-queue each person's latest retained state (and device state)
	 * into the outbox, then mqtt_client_outbox_changed: the broker may
	 * have lost them, or Home Assistant may have come back without
	 * them. */
	void (*republish_states)(void *data);
	/* A valid check-in from configured person @user (valid during the
	 * call), received at @received_ms (Unix milliseconds). */
	void (*checkin)(void *data, const char *user,
			const struct mqtt_checkin *checkin,
			int64_t received_ms);
	/* A check-in on @topic refused for @reason (one line, naming the
	 * key and what was expected): log it; the message is dropped. */
	void (*rejected)(void *data, const char *topic, const char *reason);
	/* A remark for the daemon's log. */
	void (*log)(void *data, GLogLevelFlags level, const char *message);
};

typedef struct mqtt_bridge mqtt_bridge;

/*
 * A bridge publishing through @client (borrowed: free the bridge first),
 * with @config (copied) and @ops (copied), and no people or devices yet.
 * Returns NULL with MQTT_CLIENT_ERROR_INVALID in @error when the base
 * topic or the prefix is not valid (mqtt_topic_base_valid, one inside the
 * other), when the configuration_url is no http(s) URL, when the base is not
 * the one @client was made with, or when a birth delay minimum exceeds its
 * maximum.
 */
mqtt_bridge *mqtt_bridge_new(mqtt_client *client,
			     const struct mqtt_bridge_config *config,
			     const struct mqtt_bridge_ops *ops, void *data,
			     GError **error);

/* Cancels the bridge's timers, unsubscribes the discovery filter if it is
 * still collecting, and frees it. NULL-safe. */
void mqtt_bridge_free(mqtt_bridge *bridge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(mqtt_bridge, mqtt_bridge_free)

/*
 * Replaces the configured people with a copy of @people[0..@count). When
 * connected and settled, publishes at once the configs that are new or
 * changed and
 * deletes (empty retained payload) those of people no longer in the set:
 * the daemon's reload. Returns FALSE with MQTT_CLIENT_ERROR_INVALID, the
 * set unchanged, when a user name is not valid (mqtt_topic_user_valid) or
 * appears twice.
 */
gboolean mqtt_bridge_set_people(mqtt_bridge *bridge,
				const struct mqtt_discovery_person *people,
				size_t count, GError **error);

/* The same for the BLE devices; an address not valid or appearing twice
 * (in any case) is refused. */
gboolean mqtt_bridge_set_devices(mqtt_bridge *bridge,
				 const struct mqtt_discovery_device *devices,
				 size_t count, GError **error);

/*
 * The client is connected: call from its ops->connected. Subscribes the
 * discovery filter and starts the settle timer, after which every config
 * goes out and ops->republish_states is called (see above). A birth answer
 * still pending is dropped: this is the same answer.
 */
void mqtt_bridge_connected(mqtt_bridge *bridge);

/*
 * An inbound message: call from the client's ops->message with its
 * arguments. Home Assistant's birth, check-ins and, while collecting,
 * retained configs are handled as described above; anything else is
 * ignored. A @retained check-in is not filed (one debug line): the broker
 * keeps it and sends it again at every subscription, so each restart would
 * file the same check-in anew.
 */
void mqtt_bridge_message(mqtt_bridge *bridge, const char *topic,
			 const void *payload, size_t len, bool retained);

/* Whether the bridge is still collecting retained configs after a
 * connect, stale ones not yet deleted. */
bool mqtt_bridge_is_settling(mqtt_bridge *bridge);
