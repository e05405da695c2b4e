// SPDX-License-Identifier: MIT
#include "sensors/decode.h"

#include <errno.h>
#include <string.h>

/* The 96 bits that make a 16-bit UUID a full one: Core Spec Vol 3 Part B
 * 2.5.1, 0000xxxx-0000-1000-8000-00805F9B34FB. */
static const char base_uuid_tail[] = "-0000-1000-8000-00805f9b34fb";

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_hex16(const char *text, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	if (n == 0 || n > 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(text[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*ret = v;
	return true;
}

static bool tail_matches(const char *tail)
{
	for (size_t i = 0; i < sizeof(base_uuid_tail); i++) {
		char c = tail[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (c != base_uuid_tail[i])
			return false;
	}
	return true;
}

int decode_uuid_parse(const char *text, enum decode_uuid *ret)
{
	size_t len = text ? strlen(text) : 0;
	uint32_t value;

	if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		text += 2;
		len -= 2;
	}
	if (len == 36) {
		/* 128-bit: only the Bluetooth base UUID range has 16-bit
		 * aliases; anything else is a vendor UUID we do not decode. */
		if (!parse_hex16(text, 8, &value) || text[8] != '-')
			return -EINVAL;
		if (!tail_matches(text + 8) || value > 0xffff)
			return -ENOENT;
	} else if (len == 4) {
		if (!parse_hex16(text, 4, &value))
			return -EINVAL;
	} else {
		return -EINVAL;
	}

	if (!decode_uuid_name((enum decode_uuid)value))
		return -ENOENT;
	*ret = (enum decode_uuid)value;
	return 0;
}

const char *decode_uuid_name(enum decode_uuid uuid)
{
	switch (uuid) {
	case DECODE_UUID_HEART_RATE:
		return "Heart Rate Measurement";
	case DECODE_UUID_SENSOR_LOCATION:
		return "Body Sensor Location";
	case DECODE_UUID_BATTERY_LEVEL:
		return "Battery Level";
	case DECODE_UUID_WEIGHT:
		return "Weight Measurement";
	case DECODE_UUID_WEIGHT_FEATURE:
		return "Weight Scale Feature";
	case DECODE_UUID_BODY_COMPOSITION:
		return "Body Composition Measurement";
	case DECODE_UUID_MISCALE_V1:
		return "Xiaomi Mi Scale";
	case DECODE_UUID_MISCALE_V2:
		return "Xiaomi Mi Body Composition Scale 2";
	case DECODE_UUID_BTHOME:
		return "BTHome v2";
	case DECODE_SCALE_WEIGHING:
		return "vendor scale weighing";
	default:
		return NULL;
	}
}

int decode_payload(enum decode_uuid uuid, const uint8_t *data, size_t len,
		   struct decoded_payload *ret, struct parse_error *ret_err)
{
	int r;

	/* Each parser leaves its output untouched on failure, so decoding
	 * straight into @ret keeps that promise for the union as well; only
	 * the tag is set after success. */
	switch (uuid) {
	case DECODE_UUID_HEART_RATE:
		r = hrs_parse_measurement(data, len, &ret->u.heart_rate,
					  ret_err);
		break;
	case DECODE_UUID_SENSOR_LOCATION:
		r = hrs_parse_location(data, len, &ret->u.sensor_location,
				       ret_err);
		break;
	case DECODE_UUID_BATTERY_LEVEL:
		r = bas_parse_level(data, len, &ret->u.battery_pct, ret_err);
		break;
	case DECODE_UUID_WEIGHT:
		r = wss_parse_measurement(data, len, &ret->u.weight, ret_err);
		break;
	case DECODE_UUID_WEIGHT_FEATURE:
		r = wss_parse_feature(data, len, &ret->u.weight_feature,
				      ret_err);
		break;
	case DECODE_UUID_BODY_COMPOSITION:
		r = bcs_parse_measurement(data, len, &ret->u.body_composition,
					  ret_err);
		break;
	case DECODE_UUID_MISCALE_V1:
		r = miscale_parse_v1(data, len, &ret->u.miscale, ret_err);
		break;
	case DECODE_UUID_MISCALE_V2:
		r = miscale_parse_v2(data, len, &ret->u.miscale, ret_err);
		break;
	case DECODE_UUID_BTHOME:
		r = bthome_parse(data, len, &ret->u.bthome, ret_err);
		break;
	case DECODE_SCALE_WEIGHING: /* a whole advertisement's, not bytes' */
	default:
		return -ENOENT;
	}
	if (r == 0)
		ret->uuid = uuid;
	return r;
}

int decode_hex(const char *text, uint8_t *buf, size_t size, size_t *ret_len,
	       size_t *ret_bad_offset)
{
	size_t n = 0;
	int high = -1;
	size_t i;

	for (i = 0; text[i]; i++) {
		char c = text[i];
		int d;

		if (high < 0 && (c == ' ' || c == ':' || c == '-'))
			continue;
		d = hex_digit(c);
		if (d < 0)
			goto bad;
		if (high < 0) {
			high = d;
			continue;
		}
		if (n == size)
			return -E2BIG;
		buf[n++] = (uint8_t)(high << 4 | d);
		high = -1;
	}
	if (high >= 0)
		goto bad;
	*ret_len = n;
	return 0;
bad:
	if (ret_bad_offset)
		*ret_bad_offset = i;
	return -EINVAL;
}
