/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"
#include "sensors/weighing.h"

/*
 * QN / Renpho / FITINDEX scales (Qingniu chipsets): the non-connectable
 * "AABB" broadcast and the GATT protocol on service 0xFFE0 (notify 0xFFE1,
 * write 0xFFE3 unit/config, 0xFFE4 time) or 0xFFF0 (notify 0xFFF1, write
 * 0xFFF2 for both). Pure parse and build only; the connection's order of
 * writes belongs to the device state machine.
 */

/* Manufacturer data after the company id (0xFFFF), shortest accepted. */
#define QN_BROADCAST_COMPANY_ID 0xFFFF
#define QN_BROADCAST_SIZE	19

/*
 * Parses "AABB" manufacturer data (the bytes after company id 0xFFFF).
 * Returns 0 with @ret a SCALE_FAMILY_QN_BROADCAST weighing (weight only), or
 * a negative errno with @ret untouched and @ret_err (may be NULL) naming the
 * field: -EBADMSG for a short frame or a wrong magic, -EINVAL for a weight
 * outside 2-300 kg (an empty scale advertises 0 kg).
 */
int qn_parse_broadcast(const uint8_t *data, size_t len,
		       struct scale_weighing *ret, struct parse_error *ret_err);

/* GATT notification opcodes (byte 0). */
enum qn_opcode {
	QN_OP_WEIGHT = 0x10,	 /* live / stable weight */
	QN_OP_SCALE_INFO = 0x12, /* weight divider, protocol type */
	QN_OP_CONFIG_ACK = 0x14, /* answer it with qn_build_time_sync() */
	QN_OP_UNIT = 0x13,	 /* written: unit configuration */
	QN_OP_TIME_SYNC = 0x20,	 /* written: time, after QN_OP_CONFIG_ACK */
};

/* The two 0x10 frame layouts seen in the field (see scale-qn.c). */
enum qn_weight_layout {
	QN_LAYOUT_CLASSIC, /* [3..4] weight, [5] stable, [6..9] r1 r2 */
	QN_LAYOUT_ES30M,   /* [3] unit, [4] state, [5..6] weight, [7..10] */
};

struct qn_scale_info {
	uint8_t protocol_type;	 /* byte 2, echoed in the frames we write */
	uint16_t weight_divider; /* 100 or 10 */
	bool length_matches;	 /* byte 1 == frame length (ES-30M hint) */
};

/*
 * Parses a 0x12 scale-info notification. Returns 0, or -EBADMSG (short, not
 * opcode 0x12) with @ret untouched.
 */
int qn_parse_scale_info(const uint8_t *data, size_t len,
			struct qn_scale_info *ret, struct parse_error *ret_err);

struct qn_weight {
	struct scale_weighing weighing; /* SCALE_FAMILY_QN_GATT */
	/*
	 * The two resistances as sent. They are not ohms: openScale feeds
	 * 0.3 * (r1 - 400) to its body-fat formula. 0 while settling.
	 */
	uint16_t resistance1, resistance2;
};

/*
 * Parses a 0x10 weight notification in @layout, dividing the weight by
 * @weight_divider (from the 0x12 frame; 100 until one arrives). Returns 0,
 * or with @ret untouched: -EBADMSG (short, not 0x10), -EINVAL (divider not
 * 10 or 100, weight outside 2-300 kg).
 */
int qn_parse_weight(const uint8_t *data, size_t len,
		    enum qn_weight_layout layout, uint16_t weight_divider,
		    struct qn_weight *ret, struct parse_error *ret_err);

enum qn_unit {
	QN_UNIT_KG = 0x01,
	QN_UNIT_LB = 0x02, /* the vendor apps use lb for st as well */
};

#define QN_UNIT_FRAME_SIZE	9
#define QN_TIME_FRAME_SIZE	5
#define QN_TIME_SYNC_FRAME_SIZE 8

/* Seconds from the Unix epoch to the QN epoch (see scale-qn.c). */
#define QN_EPOCH_UNIX 946702800

/*
 * Builds the 0x13 unit configuration frame. Returns 0, or -EINVAL for a
 * unit that is not enum qn_unit (@ret untouched).
 */
int qn_build_unit(uint8_t protocol_type, enum qn_unit unit,
		  uint8_t ret[QN_UNIT_FRAME_SIZE]);

/*
 * Builds the 5-byte time write (0x02, seconds since the QN epoch) for
 * @unix_seconds. Returns 0, or -EINVAL before the QN epoch or past its
 * 32-bit range (@ret untouched).
 */
int qn_build_time(int64_t unix_seconds, uint8_t ret[QN_TIME_FRAME_SIZE]);

/*
 * Builds the 0x20 time-sync frame that answers a 0x14 notification. Same
 * errors as qn_build_time().
 */
int qn_build_time_sync(uint8_t protocol_type, int64_t unix_seconds,
		       uint8_t ret[QN_TIME_SYNC_FRAME_SIZE]);
