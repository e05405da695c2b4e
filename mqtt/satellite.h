/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a satellite gateway sends the home gateway (DESIGN §13): its filed
 * readings, a batch per message on <base>/satellite/<name>/readings (QoS 1,
 * from its outbox, in order). Each reading carries its natural key: the
 * device address, the time and the kind, and the person the satellite filed
 * it for (a shared scale's weighing is someone's). The home gateway files
 * each by that key, so a message heard twice stores nothing twice.
 *
 * The payload (one JSON object; times in ms since the epoch, UTC):
 *   {"satellite":"bedroom","readings":[
 *     {"device":"C4:7C:8D:6A:12:34","user":"alice","t_ms":1764990000123,
 *      "kind":"heart_rate","value":52},
 *     {"device":"…","user":"alice","t_ms":…,"kind":"rr","value":1152.34},
 *     {"device":"…","user":"alice","t_ms":…,"kind":"body","weight_kg":61.2,
 *      "body_fat_pct":21.5,"impedance_ohm":480}]}
 * Kinds: heart_rate (bpm), rr (ms), bed and motion (0 or 1),
 * temperature_c, humidity_pct, co2_ppm, illuminance_lx, body (weight_kg,
 * body_fat_pct, impedance_ohm, each left out when not measured).
 *
 * Pure: json-glib only, no I/O, no logging.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mqtt/topic.h"

/* At most this many readings in one message, and this many bytes: a
 * satellite's batch is split to fit, a bigger message is refused. */
#define MQTT_SATELLITE_MAX_READINGS 500
#define MQTT_SATELLITE_MAX_BYTES    (256 * 1024)

enum mqtt_satellite_kind {
	MQTT_SATELLITE_HEART_RATE, /* v[0] bpm */
	MQTT_SATELLITE_RR,	   /* v[0] ms */
	MQTT_SATELLITE_BED,	   /* v[0] 0 or 1 */
	MQTT_SATELLITE_MOTION,	   /* v[0] 0 or 1 */
	MQTT_SATELLITE_TEMPERATURE_C,
	MQTT_SATELLITE_HUMIDITY_PCT,
	MQTT_SATELLITE_CO2_PPM,
	MQTT_SATELLITE_ILLUMINANCE_LX,
	MQTT_SATELLITE_BODY, /* v: weight_kg, body_fat_pct, impedance_ohm;
				NAN: not measured */
	MQTT_SATELLITE_KIND_COUNT
};

struct mqtt_satellite_reading {
	char device[18]; /* "AA:BB:CC:DD:EE:FF", upper case */
	char user[MQTT_TOPIC_USER_MAX + 1];
	int64_t t_ms;
	enum mqtt_satellite_kind kind;
	double v[3]; /* NAN where the kind has no such value */
};

/* The kind's name in the payload ("heart_rate"); NULL for no kind. */
const char *mqtt_satellite_kind_name(enum mqtt_satellite_kind kind);

/*
 * The payload of @n readings (at most MQTT_SATELLITE_MAX_READINGS) of
 * satellite @name. Returns 0 and a new string (g_free) in @ret_json, or
 * -EINVAL, @ret_json untouched, for an invalid name, too many readings, an
 * address or user that is not valid, a time not after 1970, or a value
 * that is not finite (a body reading needs at least one).
 */
int mqtt_satellite_encode(const char *name,
			  const struct mqtt_satellite_reading *readings,
			  size_t n, char **ret_json);

/*
 * Reads a payload of @len bytes (outside bytes: anything may come). On
 * success returns 0, appends the readings (struct mqtt_satellite_reading)
 * to @ret and copies the satellite's name to @ret_name. On failure returns
 * -EINVAL (-E2BIG for more than MQTT_SATELLITE_MAX_BYTES bytes or
 * MQTT_SATELLITE_MAX_READINGS readings), appends nothing, and sets
 * @ret_error (g_free) to one line saying what and where, e.g.
 * "readings[3].kind: \"pulse\" is not a kind". A message is taken whole or
 * not at all.
 */
int mqtt_satellite_decode(const char *json, size_t len, GArray *ret,
			  char ret_name[MQTT_TOPIC_USER_MAX + 1],
			  char **ret_error);
