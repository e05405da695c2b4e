// SPDX-License-Identifier: MIT
#include "sensors/scale-qn.h"

#include <errno.h>

#include "sensors/scale-bytes.h"

/*
 * Sources (no vendor specification is published):
 *   [openScale]  oliexdev/openScale android_app/.../bluetooth/scales/
 *                QNHandlerBroadcast.kt and QNHandler.kt (2026-08)
 *   [#1308]      openScale issue #1308, ES-CS20M hardware variants
 *   [#1502]      openScale PR #1502, GE "Fit Plus" ES-30M layout, state 2
 *   [#1521]      openScale PR #1521, FITINDEX FT-26R-W stable bit 0
 *   [#1522]      openScale PR #1522, impedance bytes constant on ES-26M-W
 *   [bss]        KristianP26/ble-scale-sync src/scales/qn-scale.ts
 */

#define QN_MAGIC	     0xAABB
#define QN_STATUS_STABLE     0x20 /* status byte bit 5 */
#define QN_STATUS_SETTLED    0x01 /* bit 0, on the FT-26R-W */
#define QN_BROADCAST_DIVIDER 100.0

/*
 * "AABB" broadcast, ES-CS20M variant 3 (ADV_NONCONN_IND) and relatives,
 * manufacturer data after company id 0xFFFF ([openScale]
 * QNHandlerBroadcast.kt, [bss]):
 *
 *   0-1    magic AA BB
 *   2-7    the scale's address
 *   8-14   counters and constants, meaning unknown
 *   15     status: bit 5 = stable
 *   16     unknown
 *   17-18  weight, le16, 0.01 kg
 *   19-21  51 0E 03 on the FITINDEX FT-26R-W (a model signature)
 *
 * [#1521]: the FITINDEX FT-26R-W never sets bit 5 and latches bit 0
 * instead (status 0x14 moving, 0x15 settled). Its real frames in
 * openScale's QNHandlerBroadcastFT26RTest.kt carry 51 0E 03 in bytes
 * 19-21; as openScale does, bit 0 means settled only behind that
 * signature (elsewhere bit 0's meaning is unknown). Bytes 19-20 are no
 * impedance: an owner saw them constant across bodies [#1522]. Other
 * trailing bytes are ignored.
 */
int qn_parse_broadcast(const uint8_t *data, size_t len,
		       struct scale_weighing *ret, struct parse_error *ret_err)
{
	struct scale_weighing w = { .family = SCALE_FAMILY_QN_BROADCAST };
	struct cursor c;
	uint16_t magic, raw;
	uint8_t status;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_be16(&c, "magic", &magic))
		return cursor_truncated();
	if (magic != QN_MAGIC)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "magic", 0, magic,
				   "AA BB");
	if (!cursor_skip(&c, 13, "address and counters"))
		return cursor_truncated();
	if (!cursor_u8(&c, "status", &status))
		return cursor_truncated();
	if (!cursor_skip(&c, 1, "reserved"))
		return cursor_truncated();
	if (!cursor_le16(&c, "weight", &raw))
		return cursor_truncated();

	w.weight_kg = raw / QN_BROADCAST_DIVIDER;
	err = scale_check_weight(&c, w.weight_kg, raw, 17);
	if (err < 0)
		return err;
	if (len >= 22 && data[19] == 0x51 && data[20] == 0x0e &&
	    data[21] == 0x03)
		w.final = status & QN_STATUS_SETTLED;
	else
		w.final = status & QN_STATUS_STABLE;

	*ret = w;
	return 0;
}

/*
 * 0x12 scale-info notification ([openScale] handleScaleInfoFrame()):
 * 0 opcode, 1 length, 2 protocol type (echoed in our writes), ... 10 weight
 * divider flag: 1 means /100, anything else /10. [#1502] tells the ES-30M
 * layout by byte 1 equal to the frame's length.
 */
int qn_parse_scale_info(const uint8_t *data, size_t len,
			struct qn_scale_info *ret, struct parse_error *ret_err)
{
	struct qn_scale_info info = { 0 };
	struct cursor c;
	uint8_t opcode, length, divider;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "opcode", &opcode))
		return cursor_truncated();
	if (opcode != QN_OP_SCALE_INFO)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "opcode", 0,
				   opcode, "0x12");
	if (!cursor_u8(&c, "length", &length))
		return cursor_truncated();
	if (!cursor_u8(&c, "protocol type", &info.protocol_type))
		return cursor_truncated();
	if (!cursor_skip(&c, 7, "scale info"))
		return cursor_truncated();
	if (!cursor_u8(&c, "weight divider", &divider))
		return cursor_truncated();

	info.weight_divider = divider == 1 ? 100 : 10;
	info.length_matches = length == len;
	*ret = info;
	return 0;
}

/*
 * 0x10 weight notification, both layouts big-endian ([openScale]
 * handleLiveWeightFrame(), [#1502]):
 *
 *   classic: 0 opcode, 1 length, 2 protocol type, 3-4 weight, 5 stable
 *            (1 = stable), 6-7 resistance 1, 8-9 resistance 2
 *   ES-30M:  0 opcode, 1 length, 2 protocol type, 3 unit, 4 state
 *            (0 live, 1 stabilising, 2 stable), 5-6 weight, 7-8
 *            resistance 1, 9-10 resistance 2
 *
 * Only state 2 is final in the ES-30M layout: state 1 frames carry zero
 * resistances and the real reading follows [#1502]. Which layout a scale
 * uses is for the state machine to know (QNHandler guesses it from the
 * divider and byte 4, [#1502] from the 0x12 frame's length byte).
 */
int qn_parse_weight(const uint8_t *data, size_t len,
		    enum qn_weight_layout layout, uint16_t weight_divider,
		    struct qn_weight *ret, struct parse_error *ret_err)
{
	struct qn_weight q = { .weighing.family = SCALE_FAMILY_QN_GATT };
	struct cursor c;
	uint8_t opcode, state;
	uint16_t raw;
	size_t weight_offset;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (weight_divider != 10 && weight_divider != 100)
		return cursor_fail(&c, PARSE_FAULT_OUT_OF_RANGE,
				   "weight divider", 0, weight_divider,
				   "10 or 100");
	if (!cursor_u8(&c, "opcode", &opcode))
		return cursor_truncated();
	if (opcode != QN_OP_WEIGHT)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "opcode", 0,
				   opcode, "0x10");
	if (!cursor_skip(&c, 2, "length and protocol type"))
		return cursor_truncated();

	switch (layout) {
	case QN_LAYOUT_CLASSIC:
		weight_offset = 3;
		if (!cursor_be16(&c, "weight", &raw))
			return cursor_truncated();
		if (!cursor_u8(&c, "state", &state))
			return cursor_truncated();
		q.weighing.final = state == 1;
		break;
	case QN_LAYOUT_ES30M:
		weight_offset = 5;
		if (!cursor_skip(&c, 1, "unit"))
			return cursor_truncated();
		if (!cursor_u8(&c, "state", &state))
			return cursor_truncated();
		if (!cursor_be16(&c, "weight", &raw))
			return cursor_truncated();
		q.weighing.final = state == 2;
		break;
	default:
		return cursor_fail(&c, PARSE_FAULT_OUT_OF_RANGE, "layout", 0,
				   (uint32_t)layout, "classic or ES-30M");
	}
	if (!cursor_be16(&c, "resistance 1", &q.resistance1))
		return cursor_truncated();
	if (!cursor_be16(&c, "resistance 2", &q.resistance2))
		return cursor_truncated();

	q.weighing.weight_kg = (double)raw / weight_divider;
	err = scale_check_weight(&c, q.weighing.weight_kg, raw, weight_offset);
	if (err < 0)
		return err;

	*ret = q;
	return 0;
}

/*
 * Frames we write end in the sum of the bytes before them, modulo 256
 * ([openScale] checksum()).
 */
int qn_build_unit(uint8_t protocol_type, enum qn_unit unit,
		  uint8_t ret[QN_UNIT_FRAME_SIZE])
{
	uint8_t f[QN_UNIT_FRAME_SIZE] = { QN_OP_UNIT, QN_UNIT_FRAME_SIZE,
					  protocol_type };

	switch (unit) {
	case QN_UNIT_KG:
	case QN_UNIT_LB:
		break;
	default:
		return -EINVAL;
	}
	f[3] = (uint8_t)unit;
	f[4] = 0x10; /* constant in every client ([openScale], [bss]) */
	f[8] = scale_sum(f, 8);
	memcpy(ret, f, sizeof(f));
	return 0;
}

/*
 * The QN clock counts seconds from [openScale]'s SCALE_UNIX_TIMESTAMP_OFFSET,
 * 946 702 800 s after the Unix epoch (2000-01-01 05:00 UTC, the vendor's
 * choice), sent as le32.
 */
static int qn_seconds(int64_t unix_seconds, uint32_t *ret)
{
	int64_t s = unix_seconds - QN_EPOCH_UNIX;

	if (s < 0 || s > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)s;
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* 02 <le32 seconds>, no checksum ([openScale] sendConfigurationCommands()). */
int qn_build_time(int64_t unix_seconds, uint8_t ret[QN_TIME_FRAME_SIZE])
{
	uint32_t s;

	if (qn_seconds(unix_seconds, &s) < 0)
		return -EINVAL;
	ret[0] = 0x02;
	put_le32(ret + 1, s);
	return 0;
}

/* 20 08 <protocol type> <le32 seconds> <sum> ([openScale], opcode 0x14). */
int qn_build_time_sync(uint8_t protocol_type, int64_t unix_seconds,
		       uint8_t ret[QN_TIME_SYNC_FRAME_SIZE])
{
	uint8_t f[QN_TIME_SYNC_FRAME_SIZE] = { QN_OP_TIME_SYNC,
					       QN_TIME_SYNC_FRAME_SIZE,
					       protocol_type };
	uint32_t s;

	if (qn_seconds(unix_seconds, &s) < 0)
		return -EINVAL;
	put_le32(f + 3, s);
	f[7] = scale_sum(f, 7);
	memcpy(ret, f, sizeof(f));
	return 0;
}
