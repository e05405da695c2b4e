/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"
#include "sensors/weighing.h"

/*
 * OKOK / Chipsea broadcast scales (names "Chipsea-BLE", "ADV", "Yoda0*",
 * "Yoda1*" or none). Four layouts, told apart by the manufacturer data's
 * company id; every parser takes the bytes after the company id.
 */
#define OKOK_COMPANY_V20 0x20CA
#define OKOK_COMPANY_V11 0x11CA
#define OKOK_COMPANY_VF0 0xF0FF
/* C0: the low byte is 0xC0, the high byte a rolling frame counter. */
#define OKOK_COMPANY_C0_LOW 0xC0

#define OKOK_V20_SIZE 13 /* up to the checksum; 19 on air, MAC last */
#define OKOK_V11_SIZE 17 /* up to the checksum; 23 on air */
#define OKOK_VF0_SIZE 4
#define OKOK_C0_SIZE  13

/*
 * Parse one layout. Return 0 with @ret a weighing (weight in kg whatever
 * the display unit; impedance when the layout has one and it is non-zero),
 * or a negative errno with @ret untouched and @ret_err (may be NULL) naming
 * the field: -EBADMSG for a short frame or a wrong checksum, -ENOTSUP for a
 * reserved resolution, -EINVAL for a weight outside 2-300 kg.
 */
int okok_parse_v20(const uint8_t *data, size_t len, struct scale_weighing *ret,
		   struct parse_error *ret_err);
int okok_parse_v11(const uint8_t *data, size_t len, struct scale_weighing *ret,
		   struct parse_error *ret_err);
int okok_parse_vf0(const uint8_t *data, size_t len, struct scale_weighing *ret,
		   struct parse_error *ret_err);
int okok_parse_c0(const uint8_t *data, size_t len, struct scale_weighing *ret,
		  struct parse_error *ret_err);

/*
 * Picks the layout by @company_id and parses. Same results as the parser
 * it picks; -ENOENT (no fault recorded) for a company id of none of them.
 */
int okok_parse_adv(uint16_t company_id, const uint8_t *data, size_t len,
		   struct scale_weighing *ret, struct parse_error *ret_err);
