/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/datetime.h"
#include "sensors/mass.h"
#include "sensors/parse-error.h"

/*
 * Xiaomi Mi Scale advertisements: v1 (Mi Smart Scale, service data 0x181D,
 * 10 bytes) and v2 (Mi Body Composition Scale 2, service data 0x181B,
 * 13 bytes). Both repeat a reading while it settles and after the person steps
 * off; only a stabilised reading with the load still on is a measurement.
 */
struct miscale_reading {
	struct mass weight; /* kg 0.005, lb 0.01, jin 0.01 */
	bool stabilised;
	bool load_removed;
	bool has_impedance;
	uint16_t impedance_ohm;
	struct ble_date_time timestamp; /* the scale's own clock */
};

/* Service data sizes after the 16-bit UUID; longer frames are accepted. */
#define MISCALE_V1_SIZE 10
#define MISCALE_V2_SIZE 13

/*
 * Parse a v1 / v2 frame. Return 0, or a negative errno with @ret untouched
 * and @ret_err (may be NULL) describing the fault: -EBADMSG when the frame is
 * shorter than its layout, -ENOTSUP when the lb and jin unit bits are both
 * set. A frame that is well formed but not a measurement (not stabilised,
 * load removed) parses fine: see miscale_is_measurement(). The timestamp is
 * returned as sent, never checked (see ble_date_time_is_known()).
 * has_impedance is true only for a v2 frame whose impedance bit is set and
 * whose impedance is non-zero; otherwise impedance_ohm is 0.
 */
int miscale_parse_v1(const uint8_t *data, size_t len,
		     struct miscale_reading *ret, struct parse_error *ret_err);
int miscale_parse_v2(const uint8_t *data, size_t len,
		     struct miscale_reading *ret, struct parse_error *ret_err);

/*
 * True for a stabilised reading taken with the person still on the scale;
 * false for NULL.
 */
bool miscale_is_measurement(const struct miscale_reading *r);
