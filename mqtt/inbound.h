/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Messages from the broker, validated before anything acts on them (DESIGN
 * §7): the check-in on <base>/<user>/checkin/set and Home Assistant's birth
 * message on homeassistant/status. Pure: no I/O, no logging; the caller
 * logs the reason once and drops the message.
 */

/* A check-in is refused above this size, before it is parsed. */
#define MQTT_INBOUND_CHECKIN_MAX 1024 /* bytes */

/* 1-5 each (DESIGN §4); NAN when the message left it out. */
struct mqtt_checkin {
	double mood;
	double soreness;
	double energy;
};

/*
 * Parses a check-in: a JSON object with at least one of "mood", "soreness",
 * "energy", each a whole number 1-5 (3 and 3.0 both count). Other keys are
 * ignored, so a newer sender can add some; a repeated key counts with its
 * last value. @payload need not be NUL-terminated.
 *
 * Returns 0 and fills @ret, or a negative errno, @ret untouched:
 *   -E2BIG    over MQTT_INBOUND_CHECKIN_MAX bytes
 *   -EBADMSG  empty, not UTF-8, not JSON, not an object, or a known key
 *             that is not a number (string, boolean, null, array, object)
 *   -EINVAL   a known key out of range, fractional, or not finite
 *   -ENODATA  none of the known keys
 * On failure, when @ret_reason is not NULL, it gets a new one-line reason
 * (g_free) naming the key and what was expected, e.g. "mood 7 is out of
 * range (expected a whole number 1-5)"; on success it is left alone.
 */
int mqtt_inbound_parse_checkin(const void *payload, size_t len,
			       struct mqtt_checkin *ret, char **ret_reason);

/*
 * Whether a homeassistant/status payload says Home Assistant is back:
 * "online", case-sensitive as Home Assistant sends it, with surrounding ASCII
 * whitespace tolerated (a hand-made "online\n" should not be missed; a false
 * yes only re-sends the configs). Anything else, "offline" included, is no.
 */
bool mqtt_inbound_is_ha_online(const void *payload, size_t len);
