/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"
#include "sensors/weighing.h"

/*
 * Yunmai scales: the Yunmai X broadcast (YMBS-M268, no name, service UUID
 * 0x1320 advertised) and the SE/Mini GATT protocol (notify 0xFFE4 on
 * service 0xFFE0; commands to 0xFFE9 on service 0xFFE5).
 */

/*
 * Yunmai X manufacturer data: the 14 bytes after what a stack takes for the
 * company id. That "company id" is two bytes of the scale's reversed
 * address, so nothing can be keyed on it.
 */
#define YUNMAI_X_SIZE 14

enum yunmai_x_state {
	YUNMAI_X_LIVE = 1,
	YUNMAI_X_STABLE = 2,
	YUNMAI_X_FINAL = 3, /* with impedance; repeated for seconds */
};

/*
 * Parses a Yunmai X advertisement. Returns 0 with @ret a
 * SCALE_FAMILY_YUNMAI_X weighing, final only in state 3 (impedance then,
 * when non-zero), or a negative errno with @ret untouched and @ret_err (may
 * be NULL) naming the field: -EBADMSG short frame, wrong signature or
 * checksum; -ENOTSUP unknown state; -EINVAL weight outside 2-300 kg.
 */
int yunmai_x_parse_adv(const uint8_t *data, size_t len,
		       struct scale_weighing *ret, struct parse_error *ret_err);

/* SE/Mini notification: 0D <protocol> <size> <type> ... <xor>. */
enum yunmai_type {
	YUNMAI_TYPE_MEASURING = 0x01, /* live weight */
	YUNMAI_TYPE_MEASURED = 0x02,  /* final record */
};

struct yunmai_reading {
	struct scale_weighing weighing; /* SCALE_FAMILY_YUNMAI_GATT */
	uint8_t protocol;		/* byte 1 */
	bool has_time;			/* final records */
	uint32_t unix_time;		/* the scale's clock, as sent */
	bool has_user_id;
	uint32_t user_id; /* the id we wrote with yunmai_build_user() */
	bool has_fat;
	uint16_t
	    fat_pct_x100; /* body fat the scale computed, protocol >= 0x1E */
};

/*
 * Parses an SE/Mini notification. Returns 0, or a negative errno with
 * @ret untouched: -EBADMSG (no 0x0D start, shorter than its size byte, a
 * size too small for its type, wrong checksum), -ENOTSUP (a type other than
 * measuring / measured: protocol version, user, time answers), -EINVAL
 * (weight outside 2-300 kg). Bytes after the size byte's count are ignored.
 */
int yunmai_parse_notify(const uint8_t *data, size_t len,
			struct yunmai_reading *ret,
			struct parse_error *ret_err);

enum yunmai_unit {
	YUNMAI_UNIT_KG = 0x01,
	YUNMAI_UNIT_LB = 0x02,
};

enum yunmai_sex {
	YUNMAI_SEX_MALE = 0x01,
	YUNMAI_SEX_FEMALE = 0x02,
};

struct yunmai_user {
	uint16_t user_id; /* echoed in measured records */
	uint8_t height_cm;
	enum yunmai_sex sex;
	uint8_t age_years;
	enum yunmai_unit unit;
	uint8_t
	    activity; /* the vendor's activity level, as YunmaiLib maps it */
};

#define YUNMAI_USER_FRAME_SIZE	18
#define YUNMAI_TIME_FRAME_SIZE	13
#define YUNMAI_START_FRAME_SIZE 5

/*
 * Build the command frames. Return 0, or -EINVAL (@ret untouched) for a sex
 * or unit outside their enums, or a time before 1970 / past 2106.
 */
int yunmai_build_user(const struct yunmai_user *user,
		      uint8_t ret[YUNMAI_USER_FRAME_SIZE]);
int yunmai_build_time(int64_t unix_seconds,
		      uint8_t ret[YUNMAI_TIME_FRAME_SIZE]);
void yunmai_build_start(uint8_t ret[YUNMAI_START_FRAME_SIZE]);
