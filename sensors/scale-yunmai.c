// SPDX-License-Identifier: MIT
#include "sensors/scale-yunmai.h"

#include <errno.h>

#include "sensors/scale-bytes.h"

/*
 * Sources:
 *   [openScale]  oliexdev/openScale .../bluetooth/scales/YunmaiXHandler.kt
 *                (and its test YunmaiXHandlerTest.kt), YunmaiHandler.kt
 *   [#1418]      openScale PR #1418's branch, pagarsky/openScale commit
 *                9b50c115: YunmaiXHandlerTest.kt with a captured weighing,
 *                which these offsets decode to its 70.80 kg and 531 ohm
 *   [#71]        openScale issue #71, Yunmai Mini captures
 *   [#1286]      openScale issue #1286, YUNMAI-SIGNAL live frames
 *   [conoro]     gist conoro/f0c1d96c450a8f5cce70e2846c3686c4 (cited by
 *                YunmaiHandler.kt for the 20-byte record)
 */

#define YUNMAI_X_SIGNATURE    0x0B7417
#define YUNMAI_START	      0x0D
#define YUNMAI_MEASURING_SIZE 11
#define YUNMAI_MEASURED_SIZE  16

/*
 * Yunmai X, manufacturer data after the two bytes stacks take for the
 * company id ([openScale] YunmaiXAdv):
 *
 *   0-3    the scale's address, reversed (with the "company id")
 *   4-6    signature 0B 74 17
 *   7      per-weighing byte, meaning unknown
 *   8      state: 1 live, 2 stable, 3 final with impedance
 *   9-10   weight, be16, 0.01 kg
 *   11-12  impedance, be16, ohm (0 before state 3)
 *   13     XOR of bytes 7-12
 *
 * The final frame repeats for seconds: publishing it once is the caller's.
 * openScale also matches the address echo against the sender's address;
 * the dispatcher, which knows the address, may.
 */
int yunmai_x_parse_adv(const uint8_t *data, size_t len,
		       struct scale_weighing *ret, struct parse_error *ret_err)
{
	struct scale_weighing w = { .family = SCALE_FAMILY_YUNMAI_X };
	struct cursor c;
	uint32_t signature;
	uint16_t raw, impedance;
	uint8_t state, checksum;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_skip(&c, 4, "address"))
		return cursor_truncated();
	if (!cursor_be24(&c, "signature", &signature))
		return cursor_truncated();
	if (signature != YUNMAI_X_SIGNATURE)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "signature", 4,
				   signature, "0B 74 17");
	if (!cursor_skip(&c, 1, "session"))
		return cursor_truncated();
	if (!cursor_u8(&c, "state", &state))
		return cursor_truncated();
	if (!cursor_be16(&c, "weight", &raw))
		return cursor_truncated();
	if (!cursor_be16(&c, "impedance", &impedance))
		return cursor_truncated();
	if (!cursor_u8(&c, "checksum", &checksum))
		return cursor_truncated();
	err = scale_check_sum8(&c, "checksum", 13, checksum,
			       scale_xor_consumed(&c, 0, 7, 13),
			       "XOR of bytes 7-12");
	if (err < 0)
		return err;

	switch ((enum yunmai_x_state)state) {
	case YUNMAI_X_LIVE:
	case YUNMAI_X_STABLE:
		break;
	case YUNMAI_X_FINAL:
		w.final = true;
		break;
	default:
		return cursor_fail(&c, PARSE_FAULT_RESERVED, "state", 8, state,
				   "1 live, 2 stable or 3 final");
	}
	w.weight_kg = raw / 100.0;
	err = scale_check_weight(&c, w.weight_kg, raw, 9);
	if (err < 0)
		return err;
	if (w.final && impedance) {
		w.has_impedance = true;
		w.impedance_ohm = impedance;
	}

	*ret = w;
	return 0;
}

/*
 * SE/Mini notifications, all big-endian ([openScale] YunmaiHandler.kt,
 * [#71], [#1286]):
 *
 *   0      0x0D
 *   1      protocol version
 *   2      size of the whole frame, checksum included
 *   3      type: 1 measuring, 2 measured
 *   last   XOR of bytes 1 .. size-2
 *
 *   measuring (11 bytes): 4-7 the scale's clock, 8-9 weight 0.01 kg
 *   measured (16-20 bytes): 4 unknown, 5-8 the scale's clock (Unix
 *     seconds), 9-12 user id, 13-14 weight 0.01 kg, 15-16 resistance in
 *     ohm (Mini), 17-18 body fat 0.01 % (protocol >= 0x1E, [conoro])
 *
 * [#1286] shows the 4 "clock" bytes of live frames counting up from 0 on a
 * YUNMAI-SIGNAL: returned only for measured records.
 */
int yunmai_parse_notify(const uint8_t *data, size_t len,
			struct yunmai_reading *ret, struct parse_error *ret_err)
{
	struct yunmai_reading r = { .weighing.family =
					SCALE_FAMILY_YUNMAI_GATT };
	struct cursor c;
	uint8_t start, size, type, checksum;
	uint16_t raw, resistance;
	size_t weight_offset;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "start", &start))
		return cursor_truncated();
	if (start != YUNMAI_START)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "start", 0, start,
				   "0x0D");
	if (!cursor_u8(&c, "protocol", &r.protocol))
		return cursor_truncated();
	if (!cursor_u8(&c, "size", &size))
		return cursor_truncated();
	if (!cursor_u8(&c, "type", &type))
		return cursor_truncated();
	if (size < 5)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "size", 2, size,
				   "at least 5");
	/* The body is what the size byte says, less the checksum. */
	if (len < size) {
		cursor_init(&c, data, len, ret_err);
		if (!cursor_skip(&c, size, "frame"))
			return cursor_truncated();
	}
	cursor_init(&c, data, size, ret_err);
	if (!cursor_skip(&c, (size_t)size - 1, "frame"))
		return cursor_truncated();
	if (!cursor_u8(&c, "checksum", &checksum))
		return cursor_truncated();
	err = scale_check_sum8(&c, "checksum", (size_t)size - 1, checksum,
			       scale_xor_consumed(&c, 0, 1, (size_t)size - 1),
			       "XOR of bytes 1 to size-2");
	if (err < 0)
		return err;

	/* A size too small for its type is a malformed frame, not a cut one. */
	if ((type == YUNMAI_TYPE_MEASURING && size < YUNMAI_MEASURING_SIZE) ||
	    (type == YUNMAI_TYPE_MEASURED && size < YUNMAI_MEASURED_SIZE))
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "size", 2, size,
				   "11 measuring, 16 or more measured");

	cursor_init(&c, data, (size_t)size - 1, ret_err);
	if (!cursor_skip(&c, 4, "header"))
		return cursor_truncated();
	switch ((enum yunmai_type)type) {
	case YUNMAI_TYPE_MEASURING:
		weight_offset = 8;
		if (!cursor_skip(&c, 4, "counter"))
			return cursor_truncated();
		if (!cursor_be16(&c, "weight", &raw))
			return cursor_truncated();
		break;
	case YUNMAI_TYPE_MEASURED:
		weight_offset = 13;
		r.weighing.final = true;
		if (!cursor_skip(&c, 1, "reserved"))
			return cursor_truncated();
		if (!cursor_be32(&c, "time", &r.unix_time))
			return cursor_truncated();
		if (!cursor_be32(&c, "user id", &r.user_id))
			return cursor_truncated();
		if (!cursor_be16(&c, "weight", &raw))
			return cursor_truncated();
		r.has_time = r.has_user_id = true;
		/* The SE's record ends here; the Mini's goes on. */
		if (cursor_left(&c) >= 2) {
			if (!cursor_be16(&c, "resistance", &resistance))
				return cursor_truncated();
			if (resistance) {
				r.weighing.has_impedance = true;
				r.weighing.impedance_ohm = resistance;
			}
		}
		if (r.protocol >= 0x1E && cursor_left(&c) >= 2) {
			if (!cursor_be16(&c, "fat", &r.fat_pct_x100))
				return cursor_truncated();
			r.has_fat = r.fat_pct_x100 != 0;
		}
		break;
	default:
		return cursor_fail(&c, PARSE_FAULT_RESERVED, "type", 3, type,
				   "1 measuring or 2 measured");
	}

	r.weighing.weight_kg = raw / 100.0;
	err = scale_check_weight(&c, r.weighing.weight_kg, raw, weight_offset);
	if (err < 0)
		return err;

	*ret = r;
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * 0D 12 10 01 00 00 <uid be16> <height> <sex> <age> 55 5A 00 00 <unit>
 * <activity> <xor of bytes 1-16> ([openScale] buildUserPacket()).
 */
int yunmai_build_user(const struct yunmai_user *user,
		      uint8_t ret[YUNMAI_USER_FRAME_SIZE])
{
	uint8_t f[YUNMAI_USER_FRAME_SIZE] = { YUNMAI_START,
					      YUNMAI_USER_FRAME_SIZE, 0x10,
					      0x01 };

	switch (user->sex) {
	case YUNMAI_SEX_MALE:
	case YUNMAI_SEX_FEMALE:
		break;
	default:
		return -EINVAL;
	}
	switch (user->unit) {
	case YUNMAI_UNIT_KG:
	case YUNMAI_UNIT_LB:
		break;
	default:
		return -EINVAL;
	}
	f[6] = (uint8_t)(user->user_id >> 8);
	f[7] = (uint8_t)user->user_id;
	f[8] = user->height_cm;
	f[9] = (uint8_t)user->sex;
	f[10] = user->age_years;
	f[11] = 0x55;
	f[12] = 0x5A;
	f[15] = (uint8_t)user->unit;
	f[16] = user->activity;
	f[17] = scale_xor(0, f + 1, 16);
	memcpy(ret, f, sizeof(f));
	return 0;
}

/* 0D 0D 11 <unix be32> 00 00 00 00 00 <xor of bytes 1-11>. */
int yunmai_build_time(int64_t unix_seconds, uint8_t ret[YUNMAI_TIME_FRAME_SIZE])
{
	uint8_t f[YUNMAI_TIME_FRAME_SIZE] = { YUNMAI_START,
					      YUNMAI_TIME_FRAME_SIZE, 0x11 };

	if (unix_seconds < 0 || unix_seconds > UINT32_MAX)
		return -EINVAL;
	put_be32(f + 3, (uint32_t)unix_seconds);
	f[12] = scale_xor(0, f + 1, 11);
	memcpy(ret, f, sizeof(f));
	return 0;
}

/* 0D 05 13 00 16: ask for the protocol version, which starts a weighing. */
void yunmai_build_start(uint8_t ret[YUNMAI_START_FRAME_SIZE])
{
	static const uint8_t f[YUNMAI_START_FRAME_SIZE] = { YUNMAI_START, 0x05,
							    0x13, 0x00, 0x16 };

	memcpy(ret, f, sizeof(f));
}
