/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <glib.h>

/*
 * Home Assistant MQTT discovery (DESIGN §7): one config message per entity,
 * published retained to <prefix>/<component>/<unique_id>/config, one HA
 * device per person and per BLE device. Pure: the caller publishes.
 *
 * Unique ids are stable across restarts (they depend only on the base
 * topic, the user name or BLE address, and the entity):
 *
 *   recoveryd_<base>_user_<user>_<entity>        e.g. ..._user_alice_score
 *   recoveryd_<base>_ble_<addr hex>_<entity>     e.g. ..._ble_c47c8d6a1234_rssi
 *
 * <base> is the base topic in a reversible escape: lower-case letters and
 * digits stay, every other byte becomes '-' and two hex digits
 * ("recovery" -> "recovery", "home/Recovery" -> "home-2f-52ecovery"). So two
 * gateways on one broker with different bases never share an id, and one
 * never takes another's configs for its own stale ones. The "user"/"ble"
 * level keeps a person named like a BLE device apart from the device.
 *
 * Every entity is available while <base>/status is "online" (the gateway's
 * retained status and last will). Entities read the state, live and device
 * topics through value templates that yield None (Home Assistant: unknown)
 * when a key is absent or null.
 */

/* The gateway as Home Assistant sees it. */
struct mqtt_discovery_gateway {
	const char *base;	/* the base topic, mqtt_topic_base_valid() */
	const char *prefix;	/* HA's discovery prefix; NULL: homeassistant */
	const char *sw_version; /* origin and device sw_version; NULL: none */
	const char *support_url; /* origin support_url; NULL: none */
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
};

/* Frees @message and its strings; NULL is fine. */
void mqtt_discovery_message_free(struct mqtt_discovery_message *message);

/* Seconds without a live message before the live heart rate turns
 * unavailable: live values come every few seconds while a strap is worn. */
#define MQTT_DISCOVERY_LIVE_EXPIRE_S 120

/*
 * The configs of one person's entities: score, zone, advice state, advice
 * headline, resting heart rate, RMSSD, sleep, sleep efficiency, weight,
 * body fat, live heart rate, in bed, and the mood/soreness/energy check-in
 * controls that publish to <base>/<user>/checkin/set. Returns 0 and a new
 * array of struct mqtt_discovery_message (it frees them) in
 * @ret_messages, or -EINVAL, @ret_messages untouched, when the gateway or
 * the user name is not valid.
 */
int mqtt_discovery_build_person(const struct mqtt_discovery_gateway *gateway,
				const struct mqtt_discovery_person *person,
				GPtrArray **ret_messages);

/*
 * The configs of one BLE device's entities: battery, RSSI, connected, last
 * seen, all diagnostic. Returns 0 and a new array as above, or -EINVAL when
 * the gateway or the address is not valid.
 */
int mqtt_discovery_build_device(const struct mqtt_discovery_gateway *gateway,
				const struct mqtt_discovery_device *device,
				GPtrArray **ret_messages);

/*
 * The deletions for a person or a BLE device taken out of the config: every
 * config topic mqtt_discovery_build_person() / _device() would publish, with
 * an empty payload. Returns 0 and a new array as above, or -EINVAL.
 */
int mqtt_discovery_remove_person(const struct mqtt_discovery_gateway *gateway,
				 const char *user, GPtrArray **ret_messages);
int mqtt_discovery_remove_device(const struct mqtt_discovery_gateway *gateway,
				 const char *address, GPtrArray **ret_messages);

/* The deletion of one config @topic: a new message with an empty payload. */
struct mqtt_discovery_message *mqtt_discovery_removal(const char *topic);

/*
 * The subscription that brings every retained discovery config back after a
 * connect, "<prefix>/+/+/config", so stale ones can be found. Returns a new
 * string (g_free), or NULL when the prefix is not valid.
 */
char *mqtt_discovery_topic_filter(const struct mqtt_discovery_gateway *gateway);

/*
 * Whether @topic is a discovery config that this gateway (same prefix, same
 * base topic) publishes or once published: a config found retained that is
 * ours but not among the current configs is stale and is deleted with
 * mqtt_discovery_removal(). Another gateway's configs, or ones under another
 * base, are never ours. False for an invalid gateway.
 */
bool mqtt_discovery_topic_is_ours(const struct mqtt_discovery_gateway *gateway,
				  const char *topic);
