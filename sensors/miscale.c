// SPDX-License-Identifier: MIT
#include "sensors/miscale.h"

#include "sensors/cursor.h"

/*
 * Xiaomi publishes no specification for these frames. The layouts and bits
 * below are what the open decoders agree on, checked against each other and
 * against published captures (the unit tests carry them):
 *
 *   [openScale]   oliexdev/openScale: wiki "Xiaomi Bluetooth Mi Scale";
 *                 core/bluetooth/BluetoothMiScale.java, BluetoothMiScale2.java;
 *                 core/bluetooth/scales/MiScaleHandler.kt (2025:
 *                 parseHistory10(), parseLive13())
 *   [ble_monitor] custom-components/ble_monitor ble_parser/miscale.py and
 *                 test/test_miscale_parser.py
 *   [xiaomi-ble]  Bluetooth-Devices/xiaomi-ble parser.py _parse_scale_v1(),
 *                 _parse_scale_v2() (Home Assistant's Xiaomi integration)
 *   [ESPHome]     esphome/esphome components/xiaomi_miscale/xiaomi_miscale.cpp
 *   [theengs]     theengs/decoder src/devices/XMTZC04HM*_json.h,
 *                 XMTZC05HM*_json.h and tests/BLE/test_ble.cpp
 *   [wiecosystem] wiecosystem/Bluetooth doc/devices/huami.health.scale2.md
 *                 (bits numbered from the MSB of byte 0)
 */

/*
 * v1 control byte (Mi Smart Scale, XMTZC01HM/XMTZC04HM). [openScale] wiki,
 * [ble_monitor], [xiaomi-ble] agree on bits 0, 4, 5 and 7.
 */
#define V1_CTRL_LB	   0x01 /* weight in 0.01 lb */
#define V1_CTRL_JIN	   0x10 /* weight in 0.01 jin (catty) */
#define V1_CTRL_STABILISED 0x20
#define V1_CTRL_REMOVED	   0x80 /* load removed: the frame repeats the last */
/*
 * Bit 1 is set in every capture, bits 2-3 are unknown; bit 6 is unknown to
 * [openScale] and is "object" (small-object) weighing to [theengs]. None of
 * them changes the layout or the weight's unit, so they are ignored.
 */

/*
 * v2 control bytes (Mi Body Composition Scale, XMTZC02HM/XMTZC05HM), read as
 * one little-endian u16: bits 0-7 are byte 0, bits 8-15 byte 1. [openScale]
 * MiScaleHandler.kt, [ble_monitor], [xiaomi-ble], [wiecosystem]; [ESPHome]
 * agrees on impedance, stabilised and removed.
 */
#define V2_CTRL_LB	   0x0001 /* byte 0 bit 0: weight in 0.01 lb */
#define V2_CTRL_IMPEDANCE  0x0200 /* byte 1 bit 1: impedance field is valid */
#define V2_CTRL_STABILISED 0x2000 /* byte 1 bit 5 */
#define V2_CTRL_JIN	   0x4000 /* byte 1 bit 6: weight in 0.01 jin */
#define V2_CTRL_REMOVED	   0x8000 /* byte 1 bit 7: load removed */
/*
 * Byte 1 bit 6 is also read as "date invalid" by the 2017 openScale
 * BluetoothMiScale2.java, which tests the same bit under both names; its
 * author calls that a copy from the v1 code, untested in other units
 * (openScale issues #286, #652, #907). Owners who switched the scale to jin
 * see this bit set (openScale #907, ble_monitor #1095), and the current
 * openScale, ble_monitor and xiaomi-ble read it as jin only. So do we.
 * Byte 0 bit 1 and byte 1 bit 2 are set in every capture; byte 0 bit 2 is
 * "object" weighing to [theengs]. Those and the rest are ignored.
 */

/*
 * The scale sends its weight per unit: 0.005 kg (raw / 200), 0.01 lb or
 * 0.01 jin (raw / 100) in both versions ([openScale], [ble_monitor],
 * [xiaomi-ble]), which is exactly what struct mass encodes. Only three units
 * exist (the v2 unit command takes 0 kg, 1 lb, 2 jin: [wiecosystem]); no
 * source or capture shows lb and jin set together, and the decoders disagree
 * on what it would mean (openScale divides by 100 with no unit, ble_monitor
 * and xiaomi-ble pick lb by the order of their tests), so it is refused
 * rather than guessed.
 */
static int pull_unit(struct cursor *c, bool lb, bool jin, uint32_t control,
		     const char *expected, enum mass_unit *ret)
{
	if (lb && jin)
		return cursor_fail(c, PARSE_FAULT_RESERVED, "control", 0,
				   control, expected);
	*ret = lb ? MASS_UNIT_LB : jin ? MASS_UNIT_JIN : MASS_UNIT_KG;
	return 0;
}

/*
 * v1, service data 0x181D, 10 bytes ([openScale] wiki table, [ble_monitor]
 * "<BH7x", [xiaomi-ble], [ESPHome] comments):
 *
 *   0     control (u8, above)
 *   1-2   weight, le16, per unit
 *   3-9   timestamp: year le16, month, day, hour, minute, second
 *
 * The same 10-byte record comes from the scale's history characteristic
 * ([openScale] parseHistory10()). The timestamp is the scale's own clock and
 * is often unset (1970) or garbage before stabilisation: returned as sent.
 * Bytes after the 10th are ignored, as for GATT values whose later revisions
 * append fields: the caller picks the parser by service UUID, and a known
 * prefix decodes the same whatever follows it.
 */
int miscale_parse_v1(const uint8_t *data, size_t len,
		     struct miscale_reading *ret, struct parse_error *ret_err)
{
	struct miscale_reading r = { 0 };
	struct cursor c;
	uint8_t control;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "control", &control))
		return cursor_truncated();
	err = pull_unit(&c, control & V1_CTRL_LB, control & V1_CTRL_JIN,
			control, "at most one of lb (bit 0) and jin (bit 4)",
			&r.weight.unit);
	if (err < 0)
		return err;
	r.stabilised = control & V1_CTRL_STABILISED;
	r.load_removed = control & V1_CTRL_REMOVED;

	if (!cursor_le16(&c, "weight", &r.weight.raw))
		return cursor_truncated();
	if (!datetime_pull(&c, "timestamp", &r.timestamp))
		return cursor_truncated();

	*ret = r;
	return 0;
}

/*
 * v2, service data 0x181B, 13 bytes ([openScale] parseLive13(),
 * [ble_monitor] "<BB7xHH", [xiaomi-ble], [ESPHome], [wiecosystem]):
 *
 *   0-1   control (2 x u8, above)
 *   2-8   timestamp: year le16, month, day, hour, minute, second
 *   9-10  impedance, le16, ohm; valid only with its bit and non-zero
 *   11-12 weight, le16, per unit
 *
 * The same frame also arrives as a 0x2A9C notification and from the history
 * characteristic ([openScale]); it is not a standard Body Composition
 * Measurement. Without its bit the impedance field holds junk (0xFFFD while
 * settling in published captures); [openScale] also ignores 0 with the bit
 * set. [ESPHome] further drops 3000 ohm and more: a plausibility limit left
 * to the consumer. Trailing bytes are ignored as in v1.
 */
int miscale_parse_v2(const uint8_t *data, size_t len,
		     struct miscale_reading *ret, struct parse_error *ret_err)
{
	struct miscale_reading r = { 0 };
	struct cursor c;
	uint16_t control, impedance;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_le16(&c, "control", &control))
		return cursor_truncated();
	err =
	    pull_unit(&c, control & V2_CTRL_LB, control & V2_CTRL_JIN, control,
		      "at most one of lb (byte 0 bit 0) and jin (byte 1 bit 6)",
		      &r.weight.unit);
	if (err < 0)
		return err;
	r.stabilised = control & V2_CTRL_STABILISED;
	r.load_removed = control & V2_CTRL_REMOVED;

	if (!datetime_pull(&c, "timestamp", &r.timestamp))
		return cursor_truncated();
	if (!cursor_le16(&c, "impedance", &impedance))
		return cursor_truncated();
	if (!cursor_le16(&c, "weight", &r.weight.raw))
		return cursor_truncated();

	if ((control & V2_CTRL_IMPEDANCE) && impedance != 0) {
		r.has_impedance = true;
		r.impedance_ohm = impedance;
	}

	*ret = r;
	return 0;
}

bool miscale_is_measurement(const struct miscale_reading *r)
{
	return r && r->stabilised && !r->load_removed;
}
