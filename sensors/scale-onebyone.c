// SPDX-License-Identifier: MIT
#include "sensors/scale-onebyone.h"

#include <errno.h>

#include "sensors/scale-bytes.h"

/*
 * Sources:
 *   [openScale]  oliexdev/openScale .../bluetooth/scales/OneByoneHandler.kt,
 *                OneByoneNewHandler.kt
 *   [eufylife]   bdr99/eufylife-ble-client eufylife_ble_client/client.py,
 *                util.py (T9146/T9147/T9120 CF frames and their XOR)
 *   [blerry]     tony-fav/tasmota-blerry PR #60 (Eufy C1: impedance in the
 *                two bytes before the weight)
 */

#define ONEBYONE_CF 0xCF

enum onebyone_state {
	ONEBYONE_STATE_FINAL = 0, /* [eufylife] is_final */
	ONEBYONE_STATE_LIVE = 1,  /* [openScale]: no impedance yet */
	ONEBYONE_STATE_OVER = 2,  /* [eufylife] weight_limit_exceeded */
};

/*
 * The CF record ([openScale] parseMeasurementFrame(), [eufylife]):
 *
 *   0      0xCF
 *   1-2    impedance, le16, 0.1 ohm
 *   3-4    weight, le16, 0.01 kg
 *   5-8    unknown
 *   9      state: 0 final, 1 live (no impedance), 2 over the limit
 *   10     XOR of bytes 0-9
 *
 * Other state values are unknown and read as live.
 */
static int pull_record(struct cursor *c, enum scale_family family,
		       bool check_sum, struct scale_weighing *ret)
{
	struct scale_weighing w = { .family = family };
	size_t base = cursor_offset(c);
	uint16_t impedance, raw;
	uint8_t marker, state, checksum;
	int err;

	if (!cursor_u8(c, "marker", &marker))
		return cursor_truncated();
	if (marker != ONEBYONE_CF)
		return cursor_fail(c, PARSE_FAULT_MALFORMED, "marker", base,
				   marker, "0xCF");
	if (!cursor_le16(c, "impedance", &impedance))
		return cursor_truncated();
	if (!cursor_le16(c, "weight", &raw))
		return cursor_truncated();
	if (!cursor_skip(c, 4, "reserved"))
		return cursor_truncated();
	if (!cursor_u8(c, "state", &state))
		return cursor_truncated();
	if (!cursor_u8(c, "checksum", &checksum))
		return cursor_truncated();
	if (check_sum) {
		err =
		    scale_check_sum8(c, "checksum", base + 10, checksum,
				     scale_xor_consumed(c, 0, base, base + 10),
				     "XOR of the record's bytes 0-9");
		if (err < 0)
			return err;
	}
	if (state == ONEBYONE_STATE_OVER)
		return cursor_fail(c, PARSE_FAULT_OUT_OF_RANGE, "state",
				   base + 9, state, "not over the limit (2)");

	w.weight_kg = raw / 100.0;
	err = scale_check_weight(c, w.weight_kg, raw, base + 3);
	if (err < 0)
		return err;
	w.final = state == ONEBYONE_STATE_FINAL;
	if (w.final && impedance) {
		w.has_impedance = true;
		w.impedance_ohm = impedance / 10.0;
	}
	*ret = w;
	return 0;
}

int onebyone_parse_record(const uint8_t *data, size_t len,
			  enum scale_family family, struct scale_weighing *ret,
			  struct parse_error *ret_err)
{
	struct cursor c;

	cursor_init(&c, data, len, ret_err);
	return pull_record(&c, family, true, ret);
}

/*
 * An 11-byte live frame is the record with its XOR ([eufylife] checks it
 * on T9146/T9147 notifications). History frames append the time of the
 * weighing: 11-12 year be16, 13 month, 14 day, 15-17 h m s ([openScale]);
 * nobody checks their byte 10, so neither do we.
 */
int onebyone_parse_measurement(const uint8_t *data, size_t len,
			       struct onebyone_measurement *ret,
			       struct parse_error *ret_err)
{
	struct onebyone_measurement m = { 0 };
	struct cursor c;
	bool history = len >= ONEBYONE_HISTORY_SIZE;
	uint16_t year;
	int err;

	cursor_init(&c, data, len, ret_err);
	err = pull_record(&c, SCALE_FAMILY_ONEBYONE, !history, &m.weighing);
	if (err < 0)
		return err;
	if (history) {
		if (!cursor_be16(&c, "year", &year) ||
		    !cursor_u8(&c, "month", &m.timestamp.month) ||
		    !cursor_u8(&c, "day", &m.timestamp.day) ||
		    !cursor_u8(&c, "hours", &m.timestamp.hours) ||
		    !cursor_u8(&c, "minutes", &m.timestamp.minutes) ||
		    !cursor_u8(&c, "seconds", &m.timestamp.seconds))
			return cursor_truncated();
		m.timestamp.year = year;
		m.has_timestamp = true;
	}
	*ret = m;
	return 0;
}

/* FD 37 <unit> <group> 00 x 6 <XOR of bytes 0-9>. */
int onebyone_build_unit(enum onebyone_unit unit, uint8_t group,
			uint8_t ret[ONEBYONE_UNIT_FRAME_SIZE])
{
	uint8_t f[ONEBYONE_UNIT_FRAME_SIZE] = { 0xFD, 0x37 };

	switch (unit) {
	case ONEBYONE_UNIT_KG:
	case ONEBYONE_UNIT_LB:
	case ONEBYONE_UNIT_ST:
		break;
	default:
		return -EINVAL;
	}
	f[2] = (uint8_t)unit;
	f[3] = group;
	f[10] = scale_xor(0, f, 10);
	memcpy(ret, f, sizeof(f));
	return 0;
}

/* F1 <year be16> <month> <day> <hours> <minutes> <seconds>. */
int onebyone_build_clock(const struct ble_date_time *now,
			 uint8_t ret[ONEBYONE_CLOCK_FRAME_SIZE])
{
	const uint8_t f[ONEBYONE_CLOCK_FRAME_SIZE] = {
		0xF1,
		(uint8_t)(now->year >> 8),
		(uint8_t)now->year,
		now->month,
		now->day,
		now->hours,
		now->minutes,
		now->seconds,
	};

	memcpy(ret, f, sizeof(f));
	return 0;
}

void onebyone_build_history(bool clear,
			    uint8_t ret[ONEBYONE_HISTORY_FRAME_SIZE])
{
	ret[0] = 0xF2;
	ret[1] = clear ? 0x01 : 0x00;
}

#define ONEBYONE_NEW_HEADER	  0xAB2A
#define ONEBYONE_NEW_WEIGHT_MASK  0x3FFFF
#define ONEBYONE_NEW_HISTORY_MARK 0x80

/* The weight u24 be, low 18 bits, in grams ([openScale]). */
static int pull_new_weight(struct cursor *c, size_t offset,
			   struct scale_weighing *ret)
{
	uint32_t raw;
	int err;

	if (!cursor_be24(c, "weight", &raw))
		return cursor_truncated();
	raw &= ONEBYONE_NEW_WEIGHT_MASK;
	ret->family = SCALE_FAMILY_ONEBYONE_NEW;
	ret->weight_kg = raw / 1000.0;
	ret->final = true;
	err = scale_check_weight(c, ret->weight_kg, raw, offset);
	return err;
}

/*
 * AB 2A <type> ..., 20 bytes ([openScale] OneByoneNewHandler.kt):
 *
 *   0x80  final weight: 3-5 weight
 *   0x01  impedance for the final weight before it: 4-5 ohm, be16
 *   0x00  with byte 7 = 0x80, a history entry: 3-6 time be32 (Unix s),
 *         8-10 weight, 15-16 impedance be16; otherwise a live frame
 *         openScale ignores
 */
int onebyone_new_parse(const uint8_t *data, size_t len,
		       struct onebyone_new_frame *ret,
		       struct parse_error *ret_err)
{
	struct onebyone_new_frame f = { 0 };
	struct cursor c;
	uint16_t header;
	uint8_t type, mark;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_be16(&c, "header", &header))
		return cursor_truncated();
	if (header != ONEBYONE_NEW_HEADER)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "header", 0,
				   header, "AB 2A");
	if (!cursor_u8(&c, "type", &type))
		return cursor_truncated();
	/* Every frame is 20 bytes: a short one is cut, whatever its type. */
	if (len < ONEBYONE_NEW_SIZE) {
		if (!cursor_skip(&c, ONEBYONE_NEW_SIZE - 3, "frame"))
			return cursor_truncated();
	}

	switch (type) {
	case ONEBYONE_NEW_WEIGHT:
		f.kind = ONEBYONE_NEW_WEIGHT;
		err = pull_new_weight(&c, 3, &f.weighing);
		if (err < 0)
			return err;
		break;
	case ONEBYONE_NEW_IMPEDANCE:
		f.kind = ONEBYONE_NEW_IMPEDANCE;
		if (!cursor_skip(&c, 1, "reserved") ||
		    !cursor_be16(&c, "impedance", &f.impedance_ohm))
			return cursor_truncated();
		break;
	case ONEBYONE_NEW_LIVE:
		if (!cursor_be32(&c, "time", &f.unix_time) ||
		    !cursor_u8(&c, "history mark", &mark))
			return cursor_truncated();
		if (mark != ONEBYONE_NEW_HISTORY_MARK) {
			f.kind = ONEBYONE_NEW_LIVE;
			f.unix_time = 0;
			break;
		}
		f.kind = ONEBYONE_NEW_HISTORY;
		err = pull_new_weight(&c, 8, &f.weighing);
		if (err < 0)
			return err;
		if (!cursor_skip(&c, 4, "reserved") ||
		    !cursor_be16(&c, "impedance", &f.impedance_ohm))
			return cursor_truncated();
		if (f.impedance_ohm) {
			f.weighing.has_impedance = true;
			f.weighing.impedance_ohm = f.impedance_ohm;
		}
		break;
	default:
		return cursor_fail(&c, PARSE_FAULT_RESERVED, "type", 2, type,
				   "0x00, 0x01 or 0x80");
	}

	*ret = f;
	return 0;
}
