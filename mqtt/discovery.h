/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <glib.h>

/*
 * Home Assistant MQTT discovery (DESIGN §7), device-based: one config
 * message per HA device, published retained to
 *
 *   <prefix>/device/recoveryd/<object id>/config
 *
 * with the device, the origin, the shared availability and its entities as
 * components ("cmps", each with its "platform"). Three kinds of device: the
 * gateway itself (object id <base>_gateway), one per person
 * (<base>_user_<user>) and one per BLE device (<base>_ble_<addr hex>); each
 * person and BLE device names the gateway as its via_device. The fixed node
 * id level "recoveryd" keeps every config of ours under one topic filter,
 * which a broker ACL can grant without granting any other integration's.
 * Pure: the caller publishes.
 *
 * Unique ids are stable across restarts (they depend only on the base
 * topic, the user name or BLE address, and the entity), and the same as the
 * per-entity configs of earlier versions had, so the entities and their
 * history carry over:
 *
 *   recoveryd_<base>_user_<user>_<entity>        e.g. ..._user_alice_score
 *   recoveryd_<base>_ble_<addr hex>_<entity>     e.g.
 * ..._ble_c47c8d6a1234_battery recoveryd_<base>_gateway_<entity>
 *
 * <base> is the base topic in a reversible escape: lower-case letters and
 * digits stay, every other byte becomes '-' and two hex digits
 * ("recovery" -> "recovery", "home/Recovery" -> "home-2f-52ecovery"). So two
 * gateways on one broker with different bases never share an id, and one
 * never takes another's configs for its own stale ones. The "user"/"ble"
 * level keeps a person named like a BLE device apart from the device.
 *
 * Every entity is available while <base>/status is "online" (the gateway's
 * retained status and last will); a BLE device's entities also only while
 * its device topic does not say "silent" (availability_mode all). Entities
 * read the state, live, check-in, alert, device and gateway topics through
 * value templates that yield None (Home Assistant: unknown) when a key is
 * absent or null.
 */

/* The gateway as Home Assistant sees it. */
struct mqtt_discovery_gateway {
	const char *base;	/* the base topic, mqtt_topic_base_valid() */
	const char *prefix;	/* HA's discovery prefix; NULL: homeassistant */
	const char *sw_version; /* origin and device sw_version; NULL: none */
	const char *support_url; /* origin support_url; NULL: none */
	/* The gateway device's configuration_url (the dashboard): http://
	 * or https://; NULL: none. */
	const char *configuration_url;
};

struct mqtt_discovery_person {
	const char *user;	  /* mqtt_topic_user_valid() */
	const char *display_name; /* NULL or "": the user name */
};

struct mqtt_discovery_device {
	const char *address; /* "C4:7C:8D:6A:12:34" */
	const char *name;    /* NULL, "": made from kind and user/address */
	const char *kind;    /* the HA device model; NULL: "BLE sensor" */
	const char *user; /* whose it is, for the default name; may be NULL */
};

/* One message to publish, retained. An empty payload deletes the config. */
struct mqtt_discovery_message {
	char *topic;
	char *payload;
	/* The per-entity config topics earlier versions published for the
	 * same entities (NULL-terminated; NULL: none): what a migration
	 * hands over to this config. */
	char **legacy;
	/* Those of entities that are gone (the RSSI sensor): a migration
	 * only deletes them. NULL-terminated; NULL: none. */
	char **retired;
};

/* Frees @message and its strings; NULL is fine. */
void mqtt_discovery_message_free(struct mqtt_discovery_message *message);

/* Seconds without a live message before the live heart rate turns
 * unavailable: live values come every few seconds while a strap is worn. */
#define MQTT_DISCOVERY_LIVE_EXPIRE_S 120

/*
 * The gateway device's config: version, Bluetooth adapter, outbox backlog
 * and last analysis from <base>/gateway, all diagnostic. Published before
 * any other: the others name it as their via_device. Returns 0 and a new
 * array of one struct mqtt_discovery_message (it frees it) in
 * @ret_messages, or -EINVAL, @ret_messages untouched, when the gateway is
 * not valid (base, prefix, or a configuration_url that is no http(s) URL).
 */
int mqtt_discovery_build_gateway(const struct mqtt_discovery_gateway *gateway,
				 GPtrArray **ret_messages);

/*
 * The config of one person's device: score, zone, advice state, advice
 * headline, resting heart rate, RMSSD, sleep, sleep efficiency, weight,
 * body fat, live heart rate, strap contact, in bed, spot check, the
 * morning alert as an event entity, and the mood/soreness/energy check-in
 * numbers (command topic <base>/<user>/checkin/set, state topic
 * <base>/<user>/checkin: the check-in as stored). Returns 0 and a new
 * array of one message (with its legacy topics) in @ret_messages, or
 * -EINVAL, @ret_messages untouched, when the gateway or the user name is
 * not valid.
 */
int mqtt_discovery_build_person(const struct mqtt_discovery_gateway *gateway,
				const struct mqtt_discovery_person *person,
				GPtrArray **ret_messages);

/*
 * The config of one BLE device: battery, connected, last seen and the
 * advertised name, all diagnostic (no RSSI: the readings do not carry it).
 * Returns 0 and a new array as above, or -EINVAL when the gateway or the
 * address is not valid.
 */
int mqtt_discovery_build_device(const struct mqtt_discovery_gateway *gateway,
				const struct mqtt_discovery_device *device,
				GPtrArray **ret_messages);

/*
 * The deletion for a person or a BLE device taken out of the config: its
 * config topic with an empty payload. Returns 0 and a new array as above,
 * or -EINVAL.
 */
int mqtt_discovery_remove_person(const struct mqtt_discovery_gateway *gateway,
				 const char *user, GPtrArray **ret_messages);
int mqtt_discovery_remove_device(const struct mqtt_discovery_gateway *gateway,
				 const char *address, GPtrArray **ret_messages);

/*
 * The first step of Home Assistant's migration from per-entity to device
 * configs, for one old config @topic: a new message with the payload
 * {"migrate_discovery": true}. Then the device config, then an empty
 * payload on @topic (mqtt_discovery_removal()).
 */
struct mqtt_discovery_message *mqtt_discovery_migration(const char *topic);

/* The deletion of one config @topic: a new message with an empty payload. */
struct mqtt_discovery_message *mqtt_discovery_removal(const char *topic);

/*
 * The subscription that brings this gateway's retained discovery configs
 * back after a connect, "<prefix>/device/recoveryd/+/config" (no other
 * integration's), so stale ones can be found. Returns a new string
 * (g_free), or NULL when the gateway is not valid.
 */
char *mqtt_discovery_topic_filter(const struct mqtt_discovery_gateway *gateway);

/*
 * Whether @topic is a device config that this gateway (same prefix, same
 * base topic) publishes or once published: a config found retained that is
 * ours but not among the current configs is stale and is deleted with
 * mqtt_discovery_removal(). Another gateway's configs, or ones under another
 * base, are never ours. False for an invalid gateway.
 */
bool mqtt_discovery_topic_is_ours(const struct mqtt_discovery_gateway *gateway,
				  const char *topic);
