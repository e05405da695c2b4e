/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/datetime.h"
#include "sensors/parse-error.h"
#include "sensors/weighing.h"

/*
 * 1byone scales. Classic ("Health Scale", and the Eufy C1 T9146, P1 T9147
 * and A1 T9120 on the same protocol): service 0xFFF0, notify 0xFFF4, write
 * 0xFFF1. New ("1byone scale"): service 0xFFB0, notify 0xFFB2, write 0xFFB1.
 */

/* The classic 11-byte CF record; history frames append a timestamp. */
#define ONEBYONE_RECORD_SIZE  11
#define ONEBYONE_HISTORY_SIZE 18

struct onebyone_measurement {
	struct scale_weighing weighing; /* SCALE_FAMILY_ONEBYONE */
	bool has_timestamp;		/* history frames */
	struct ble_date_time timestamp; /* as sent, never checked */
};

/*
 * Parses a classic CF notification: an 11-byte live record (its XOR
 * checked) or an 18-byte history record. Returns 0, or a negative errno with
 * @ret untouched and @ret_err (may be NULL) naming the field: -EBADMSG
 * (short, not CF, wrong checksum), -EINVAL (the scale's over-limit state, a
 * weight outside 2-300 kg).
 */
int onebyone_parse_measurement(const uint8_t *data, size_t len,
			       struct onebyone_measurement *ret,
			       struct parse_error *ret_err);

/*
 * Parses the 11-byte CF record alone, its checksum always checked, for
 * @family (SCALE_FAMILY_ONEBYONE, or SCALE_FAMILY_EUFY_C1 when it comes
 * inside an Eufy advertisement). Same errors as above.
 */
int onebyone_parse_record(const uint8_t *data, size_t len,
			  enum scale_family family, struct scale_weighing *ret,
			  struct parse_error *ret_err);

enum onebyone_unit {
	ONEBYONE_UNIT_KG = 0x00,
	ONEBYONE_UNIT_LB = 0x01,
	ONEBYONE_UNIT_ST = 0x02,
};

#define ONEBYONE_UNIT_FRAME_SIZE    11
#define ONEBYONE_CLOCK_FRAME_SIZE   8
#define ONEBYONE_HISTORY_FRAME_SIZE 2

/*
 * Build the classic writes: unit and user group (FD 37), clock (F1, the
 * scale answers F1 00), history request or clear (F2 00 / F2 01). Return 0,
 * or -EINVAL (@ret untouched) for a unit outside the enum; the clock is
 * written as given (year be16) and always succeeds.
 */
int onebyone_build_unit(enum onebyone_unit unit, uint8_t group,
			uint8_t ret[ONEBYONE_UNIT_FRAME_SIZE]);
int onebyone_build_clock(const struct ble_date_time *now,
			 uint8_t ret[ONEBYONE_CLOCK_FRAME_SIZE]);
void onebyone_build_history(bool clear,
			    uint8_t ret[ONEBYONE_HISTORY_FRAME_SIZE]);

/* 1byone new: 20-byte AB 2A frames; byte 2 says what follows. */
#define ONEBYONE_NEW_SIZE 20

enum onebyone_new_kind {
	ONEBYONE_NEW_LIVE = 0x00,      /* type 0x00, not history */
	ONEBYONE_NEW_HISTORY = 0x100,  /* type 0x00 with byte 7 = 0x80 */
	ONEBYONE_NEW_IMPEDANCE = 0x01, /* follows a final weight */
	ONEBYONE_NEW_WEIGHT = 0x80,    /* final weight */
};

struct onebyone_new_frame {
	enum onebyone_new_kind kind;
	/* WEIGHT, HISTORY: SCALE_FAMILY_ONEBYONE_NEW, final */
	struct scale_weighing weighing;
	uint16_t impedance_ohm; /* IMPEDANCE, HISTORY */
	uint32_t unix_time;	/* HISTORY: the scale's clock */
};

/*
 * Parses a new-protocol notification. Returns 0, or a negative errno with
 * @ret untouched: -EBADMSG (short, no AB 2A header), -ENOTSUP (a type other
 * than 0x00, 0x01, 0x80), -EINVAL (weight outside 2-300 kg). A live frame
 * (type 0x00 without the history mark) has no known layout: only its kind
 * is returned.
 */
int onebyone_new_parse(const uint8_t *data, size_t len,
		       struct onebyone_new_frame *ret,
		       struct parse_error *ret_err);
