/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/bas.h"
#include "sensors/bcs.h"
#include "sensors/bthome.h"
#include "sensors/hrs.h"
#include "sensors/miscale.h"
#include "sensors/parse-error.h"
#include "sensors/weighing.h"
#include "sensors/wss.h"

/*
 * What a 16-bit UUID's bytes decode to: the one entry point from "bytes heard
 * on characteristic/service data X" to a typed value. `recoveryctl decode`,
 * the BLE side and the fuzzers all come through here.
 */
enum decode_uuid {
	DECODE_UUID_HEART_RATE = 0x2A37,       /* characteristic */
	DECODE_UUID_SENSOR_LOCATION = 0x2A38,  /* characteristic */
	DECODE_UUID_BATTERY_LEVEL = 0x2A19,    /* characteristic */
	DECODE_UUID_WEIGHT = 0x2A9D,	       /* characteristic */
	DECODE_UUID_WEIGHT_FEATURE = 0x2A9E,   /* characteristic */
	DECODE_UUID_BODY_COMPOSITION = 0x2A9C, /* characteristic */
	DECODE_UUID_MISCALE_V1 = 0x181D,       /* service data */
	DECODE_UUID_MISCALE_V2 = 0x181B,       /* service data */
	DECODE_UUID_BTHOME = 0xFCD2,	       /* service data */
	/*
	 * Not a UUID: a vendor scale's weighing, which only the advertisement
	 * dispatcher (sensors/advert-decode.h) decodes, from a company id, a
	 * name or a signature. No text parses to it; decode_payload() refuses
	 * it with -ENOENT.
	 */
	DECODE_SCALE_WEIGHING = 0x10000,
};

struct decoded_payload {
	enum decode_uuid uuid;
	union {
		struct hrs_measurement heart_rate;
		uint8_t sensor_location;
		uint8_t battery_pct;
		struct wss_measurement weight;
		struct wss_feature weight_feature;
		struct bcs_measurement body_composition;
		struct miscale_reading miscale;
		struct bthome_frame bthome;
		struct scale_weighing scale; /* DECODE_SCALE_WEIGHING */
	} u;
};

/*
 * Parses a UUID as a person or BlueZ writes it: "2a37", "0x2A37", or the
 * 128-bit Bluetooth base form "00002a37-0000-1000-8000-00805f9b34fb". Returns
 * 0 and sets @ret for a UUID we decode, -ENOENT for a well-formed one we do
 * not, -EINVAL for text that is no UUID.
 */
int decode_uuid_parse(const char *text, enum decode_uuid *ret);

/* A short name, e.g. "Heart Rate Measurement"; NULL for an unknown UUID. */
const char *decode_uuid_name(enum decode_uuid uuid);

/*
 * Decodes @data as the value that @uuid carries. Returns 0 with @ret filled
 * (BTHome objects point into @data), or the parser's negative errno with @ret
 * untouched and @ret_err (may be NULL) describing the fault; -ENOENT for a
 * UUID we do not decode.
 */
int decode_payload(enum decode_uuid uuid, const uint8_t *data, size_t len,
		   struct decoded_payload *ret, struct parse_error *ret_err);

/*
 * Reads hex text ("06 48", "0648", "06:48"; either case) into @buf. Returns
 * 0 and sets @ret_len, -EINVAL for a non-hex character or an odd digit count
 * (@ret_bad_offset says where), or -E2BIG when it would not fit @size.
 */
int decode_hex(const char *text, uint8_t *buf, size_t size, size_t *ret_len,
	       size_t *ret_bad_offset);
