// SPDX-License-Identifier: MIT
#include "sensors/scale-okok.h"

#include <errno.h>

#include "sensors/mass.h"
#include "sensors/scale-bytes.h"

/*
 * Sources (the vendor's "OKOK Protocol" PDF is attached to openScale issue
 * #496; the layouts below are what the open decoders read):
 *   [openScale]  oliexdev/openScale .../bluetooth/scales/OkOkHandler.kt
 *   [#496]       openScale issue #496 (V1.1 field list, V20 r1 = ohm x 10)
 *   [#1452]      openScale issue #1452 (C0 bytes 2-3 are r1, ohm x 10)
 *   [ble_monitor] custom-components/ble_monitor ble_parser/xiaogui.py
 *                (the C0 layout as "Xiaogui" TZC4 / QJ-J)
 *   [okokscale]  rrooggiieerr/homeassistant-okokscale PR #12 (V20 captures)
 */

#define KG_PER_STONE 6.35029318 /* 14 lb, exact */

/* C0 attribute / V11 body-properties byte, same bit layout. */
#define ATTR_STABLE	     0x01
#define ATTR_RESOLUTION(a)   (((a) >> 1) & 0x03)
#define ATTR_UNIT(a)	     (((a) >> 3) & 0x03)
#define ATTR_EXPECTED	     "resolution (bits 1-2) 0, 1 or 2"
#define V20_FLAG_FINAL	     0x01
#define V20_FLAG_DIVIDER_100 0x04

enum okok_unit {
	OKOK_UNIT_KG = 0,
	OKOK_UNIT_JIN = 1,
	OKOK_UNIT_LB = 2,
	OKOK_UNIT_ST_LB = 3,
};

/*
 * Resolution bits: 0 one decimal (/10), 1 none (/1), 2 two decimals (/100)
 * ([#496] field list, [openScale]); 3 is undefined: openScale falls back to
 * /10, we refuse it rather than guess.
 */
static int pull_divider(struct cursor *c, uint8_t attr, size_t offset,
			double *ret)
{
	switch (ATTR_RESOLUTION(attr)) {
	case 0:
		*ret = 10.0;
		return 0;
	case 1:
		*ret = 1.0;
		return 0;
	case 2:
		*ret = 100.0;
		return 0;
	default:
		return cursor_fail(c, PARSE_FAULT_RESERVED, "attributes",
				   offset, attr, ATTR_EXPECTED);
	}
}

/*
 * The weight in kg from the raw big-endian field: kg, jin (half a kg), lb,
 * or st:lb with the stones in the high byte and the pounds, at the frame's
 * resolution, in the low byte ([openScale] parseV11(), parseC0()).
 */
static double okok_kg(uint16_t raw, enum okok_unit unit, double divider)
{
	switch (unit) {
	case OKOK_UNIT_KG:
		return raw / divider;
	case OKOK_UNIT_JIN:
		return raw / divider * KG_PER_JIN;
	case OKOK_UNIT_LB:
		return raw / divider * KG_PER_LB;
	case OKOK_UNIT_ST_LB:
		return (raw >> 8) * KG_PER_STONE +
		       (raw & 0xFF) / divider * KG_PER_LB;
	default:
		return 0.0;
	}
}

/*
 * V20, company id 0x20CA, 19 bytes ([openScale] parseV20(), [okokscale]):
 *
 *   0-5    unknown (constant per scale)
 *   6      flags: bit 0 final, bit 2 weight in 0.01 kg (else 0.1 kg)
 *   7      unknown (a counter)
 *   8-9    weight, be16
 *   10-11  impedance, be16, 0.1 ohm ([#496]: "r1")
 *   12     XOR of bytes 0-11 and 0x20
 *   13-18  the scale's address, ignored
 *
 * homeassistant-okokscale's own check leaves out byte 11; captures from
 * owners (its PR #12) match the rule above. A scale without electrodes sent
 * 0x1770 (600.0 ohm) in its final frame there: reported as sent.
 */
int okok_parse_v20(const uint8_t *data, size_t len, struct scale_weighing *ret,
		   struct parse_error *ret_err)
{
	struct scale_weighing w = { .family = SCALE_FAMILY_OKOK_V20 };
	struct cursor c;
	uint16_t raw, impedance;
	uint8_t flags, checksum;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_skip(&c, 6, "header"))
		return cursor_truncated();
	if (!cursor_u8(&c, "flags", &flags))
		return cursor_truncated();
	if (!cursor_skip(&c, 1, "counter"))
		return cursor_truncated();
	if (!cursor_be16(&c, "weight", &raw))
		return cursor_truncated();
	if (!cursor_be16(&c, "impedance", &impedance))
		return cursor_truncated();
	if (!cursor_u8(&c, "checksum", &checksum))
		return cursor_truncated();
	err = scale_check_sum8(&c, "checksum", 12, checksum,
			       scale_xor_consumed(&c, 0x20, 0, 12),
			       "XOR of bytes 0-11 and 0x20");
	if (err < 0)
		return err;

	w.weight_kg = raw / (flags & V20_FLAG_DIVIDER_100 ? 100.0 : 10.0);
	err = scale_check_weight(&c, w.weight_kg, raw, 8);
	if (err < 0)
		return err;
	w.final = flags & V20_FLAG_FINAL;
	if (impedance) {
		w.has_impedance = true;
		w.impedance_ohm = impedance / 10.0;
	}

	*ret = w;
	return 0;
}

/*
 * V1.1, company id 0x11CA, 23 bytes ([openScale] parseV11(), [#496] field
 * list, whose indices are off by one as its author says in openScale PR
 * #738):
 *
 *   0-2    length, lock, device type
 *   3-4    weight, be16
 *   5-8    product id
 *   9      body properties: bits 1-2 resolution, bits 3-4 unit
 *   10-15  reserved
 *   16     XOR of bytes 0-15 and 0xCA ^ 0x11
 *
 * There is no stable flag: a frame whose checksum holds is the scale's
 * reading, final as openScale takes it.
 */
int okok_parse_v11(const uint8_t *data, size_t len, struct scale_weighing *ret,
		   struct parse_error *ret_err)
{
	struct scale_weighing w = { .family = SCALE_FAMILY_OKOK_V11 };
	struct cursor c;
	uint16_t raw;
	uint8_t props, checksum;
	double divider;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_skip(&c, 3, "header"))
		return cursor_truncated();
	if (!cursor_be16(&c, "weight", &raw))
		return cursor_truncated();
	if (!cursor_skip(&c, 4, "product id"))
		return cursor_truncated();
	if (!cursor_u8(&c, "attributes", &props))
		return cursor_truncated();
	if (!cursor_skip(&c, 6, "reserved"))
		return cursor_truncated();
	if (!cursor_u8(&c, "checksum", &checksum))
		return cursor_truncated();
	err = scale_check_sum8(&c, "checksum", 16, checksum,
			       scale_xor_consumed(&c, 0xCA ^ 0x11, 0, 16),
			       "XOR of bytes 0-15 and 0xDB");
	if (err < 0)
		return err;
	err = pull_divider(&c, props, 9, &divider);
	if (err < 0)
		return err;

	w.weight_kg = okok_kg(raw, (enum okok_unit)ATTR_UNIT(props), divider);
	err = scale_check_weight(&c, w.weight_kg, raw, 3);
	if (err < 0)
		return err;
	w.final = true;

	*ret = w;
	return 0;
}

/*
 * VF0, company id 0xF0FF ([openScale] parseVF0()): weight le16 in 0.1 kg at
 * bytes 2-3, nothing else known, no flag and no checksum; openScale files
 * the first frame, so it is final here too.
 */
int okok_parse_vf0(const uint8_t *data, size_t len, struct scale_weighing *ret,
		   struct parse_error *ret_err)
{
	struct scale_weighing w = { .family = SCALE_FAMILY_OKOK_VF0 };
	struct cursor c;
	uint16_t raw;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_skip(&c, 2, "header"))
		return cursor_truncated();
	if (!cursor_le16(&c, "weight", &raw))
		return cursor_truncated();

	w.weight_kg = raw / 10.0;
	err = scale_check_weight(&c, w.weight_kg, raw, 2);
	if (err < 0)
		return err;
	w.final = true;

	*ret = w;
	return 0;
}

/*
 * C0, company id 0x??C0 with a frame counter in the high byte, 13 bytes
 * ([openScale] parseC0(), [ble_monitor] "Xiaogui", [#1452]):
 *
 *   0-1    weight, be16
 *   2-3    impedance, be16, 0.1 ohm (ble_monitor; openScale skips it)
 *   4-5    unknown (0A 01 and 00 02 seen)
 *   6      attributes: bit 0 stable, bits 1-2 resolution, bits 3-4 unit;
 *          bit 5 set in every capture
 *   7-12   the scale's address, ignored
 *
 * ble_monitor's TZC4 (0x20/0x21) and QJ-J (0x24/0x25) are this byte's
 * resolution bits; homeassistant-okokscale always divides by 100, which
 * reads ble_monitor's 63.0 kg frame as 6.30 kg. Impedance only with a
 * stable frame, as ble_monitor reports it.
 */
int okok_parse_c0(const uint8_t *data, size_t len, struct scale_weighing *ret,
		  struct parse_error *ret_err)
{
	struct scale_weighing w = { .family = SCALE_FAMILY_OKOK_C0 };
	struct cursor c;
	uint16_t raw, impedance;
	uint8_t attr;
	double divider;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_be16(&c, "weight", &raw))
		return cursor_truncated();
	if (!cursor_be16(&c, "impedance", &impedance))
		return cursor_truncated();
	if (!cursor_skip(&c, 2, "control"))
		return cursor_truncated();
	if (!cursor_u8(&c, "attributes", &attr))
		return cursor_truncated();
	if (!cursor_skip(&c, 6, "address"))
		return cursor_truncated();
	err = pull_divider(&c, attr, 6, &divider);
	if (err < 0)
		return err;

	w.weight_kg = okok_kg(raw, (enum okok_unit)ATTR_UNIT(attr), divider);
	err = scale_check_weight(&c, w.weight_kg, raw, 0);
	if (err < 0)
		return err;
	w.final = attr & ATTR_STABLE;
	if (w.final && impedance) {
		w.has_impedance = true;
		w.impedance_ohm = impedance / 10.0;
	}

	*ret = w;
	return 0;
}

int okok_parse_adv(uint16_t company_id, const uint8_t *data, size_t len,
		   struct scale_weighing *ret, struct parse_error *ret_err)
{
	switch (company_id) {
	case OKOK_COMPANY_V20:
		return okok_parse_v20(data, len, ret, ret_err);
	case OKOK_COMPANY_V11:
		return okok_parse_v11(data, len, ret, ret_err);
	case OKOK_COMPANY_VF0:
		return okok_parse_vf0(data, len, ret, ret_err);
	default:
		if ((company_id & 0xFF) == OKOK_COMPANY_C0_LOW)
			return okok_parse_c0(data, len, ret, ret_err);
		return -ENOENT;
	}
}
