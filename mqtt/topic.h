/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The topics of the MQTT contract (DESIGN §7), built and parsed in one place
 * so a user name or a base topic that would change a topic's meaning (a '/',
 * a wildcard) never reaches the broker. Pure: no I/O, no globals.
 *
 *   <base>/status                  online / offline (retained, last will)
 *   <base>/<user>/state            the day's result (retained)
 *   <base>/<user>/alert            the morning alert (QoS 1, not retained)
 *   <base>/<user>/live             live values (retained)
 *   <base>/<user>/history          the last 90 days (retained)
 *   <base>/<user>/checkin/set      inbound check-in
 *   <base>/device/<addr>           one BLE device (retained)
 *   <base>/gateway                 the gateway's own state (retained)
 *
 * <addr> is the BLE address as 12 lower-case hex digits, without colons
 * ("c47c8d6a1234"): the same form as in the Home Assistant unique ids, and a
 * topic level that needs no quoting in any tool. The payload carries the
 * address in its usual form.
 */

#define MQTT_TOPIC_DEFAULT_BASE "recovery"
/* Home Assistant's birth topic with its default discovery prefix. */
#define MQTT_TOPIC_HA_STATUS "homeassistant/status"

#define MQTT_TOPIC_BASE_MAX 128 /* bytes */
#define MQTT_TOPIC_USER_MAX 32	/* bytes */
/* 12 hex digits and the NUL. */
#define MQTT_TOPIC_ADDRESS_SLUG 13

/*
 * Whether @name can be published to as is: 1 to 256 bytes of UTF-8 without
 * wildcards ('+', '#'), control characters, empty levels ("a//b", a leading
 * or trailing '/') or a leading '$' (broker topics). NULL is not valid.
 */
bool mqtt_topic_name_valid(const char *name);

/*
 * Whether @base can be the base topic: a valid topic name (above) of at most
 * MQTT_TOPIC_BASE_MAX bytes, which may have several levels ("home/recovery"),
 * and that is not "homeassistant" or under it (our <base>/status would be
 * Home Assistant's birth topic).
 */
bool mqtt_topic_base_valid(const char *base);

/*
 * Whether @user can name a person in topics: 1 to MQTT_TOPIC_USER_MAX
 * ASCII letters, digits, '-' or '_' (the rule of the CSV import), and not
 * "device", whose topics would sit among the BLE devices', nor "satellite",
 * the satellites' namespace (DESIGN §13). Stricter than
 * MQTT needs on purpose: the name also goes into Home Assistant unique ids
 * and discovery topics, which allow only [A-Za-z0-9_-].
 */
bool mqtt_topic_user_valid(const char *user);

/*
 * Writes the topic form of a BLE @address "C4:7C:8D:6A:12:34" (either case)
 * to @ret_slug: "c47c8d6a1234". Returns false, @ret_slug untouched, when
 * @address is not six colon-separated hex pairs.
 */
bool mqtt_topic_address_slug(const char *address,
			     char ret_slug[MQTT_TOPIC_ADDRESS_SLUG]);

/*
 * The topics above. Each returns a newly allocated string (g_free), or NULL
 * when @base, @user or @address is not valid.
 */
char *mqtt_topic_status(const char *base);
char *mqtt_topic_state(const char *base, const char *user);
char *mqtt_topic_alert(const char *base, const char *user);
char *mqtt_topic_live(const char *base, const char *user);
char *mqtt_topic_history(const char *base, const char *user);
char *mqtt_topic_checkin_set(const char *base, const char *user);
/* <base>/<user>/checkin: the check-in as stored (retained), which Home
 * Assistant's check-in numbers read back. */
char *mqtt_topic_checkin(const char *base, const char *user);
char *mqtt_topic_device(const char *base, const char *address);
char *mqtt_topic_gateway(const char *base);

/*
 * Whether @topic is <base>/<user>/checkin/set with a valid user name; if so
 * copies the user name, NUL-terminated, to @ret_user (@size bytes; at least
 * MQTT_TOPIC_USER_MAX + 1 always fits). Returns false, @ret_user untouched,
 * for any other topic, an invalid @base, or a name that does not fit.
 * Whether the user exists is the caller's question.
 */
/* --- satellites (DESIGN §13): everything of satellite NAME is under
 * <base>/satellite/NAME/, so that a bridge forwards <base>/satellite/#. */

/* Whether @name can name a satellite: the rule of mqtt_topic_user_valid's
 * characters and length ("device" and "satellite" allowed). */
bool mqtt_topic_satellite_name_valid(const char *name);
/* "<base>/satellite/<name>": the base topic a satellite publishes under
 * (its status, gateway, devices and readings). NULL when @base or @name is
 * not valid, or the result would not be a valid base topic (too long). */
char *mqtt_topic_satellite_base(const char *base, const char *name);
/* "<base>/satellite/<name>/readings": the satellite's readings (QoS 1). */
char *mqtt_topic_satellite_readings(const char *base, const char *name);
/* "<base>/satellite/+/<leaf>": what the home gateway subscribes to. */
char *mqtt_topic_satellite_filter(const char *base, const char *leaf);
/*
 * Whether @topic is <base>/satellite/<name>/<leaf> with a valid satellite
 * name and a leaf of one level; if so copies the name to @ret_name (@size
 * bytes, MQTT_TOPIC_USER_MAX + 1 always fits) and points @ret_leaf into
 * @topic. Returns false, the outputs untouched, otherwise.
 */
bool mqtt_topic_parse_satellite(const char *base, const char *topic,
				char *ret_name, size_t size,
				const char **ret_leaf);

bool mqtt_topic_parse_checkin(const char *base, const char *topic,
			      char *ret_user, size_t size);

/*
 * Whether @filter can be subscribed to (MQTT 3.1.1 §4.7.1): 1 to 256 bytes
 * of UTF-8 without control characters, '+' only as a whole level, '#' only
 * as the whole last level, and no leading '$' (broker topics). Empty levels
 * are allowed, as MQTT allows them.
 */
bool mqtt_topic_filter_valid(const char *filter);

/*
 * Whether the topic name @topic matches the valid filter @filter (§4.7.1:
 * '+' one level, '#' this level and every one below it, including the
 * parent: "a/#" matches "a").
 */
bool mqtt_topic_matches(const char *filter, const char *topic);
