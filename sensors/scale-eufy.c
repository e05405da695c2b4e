// SPDX-License-Identifier: MIT
#include "sensors/scale-eufy.h"

#include <errno.h>

#include "sensors/scale-bytes.h"
#include "sensors/scale-onebyone.h"

/*
 * Sources:
 *   [eufylife]   bdr99/eufylife-ble-client eufylife_ble_client/client.py
 *                (update_state_from_advertisement_data() and the
 *                _handle_* functions), used by Home Assistant's eufylife_ble
 *   [eufylife#6] its PR #6: a T9120 advertisement with the CF record
 *   [eufylife#8] its issue #8: two P2 Pro T9149 advertisements
 *   [eufylife#9] its PR #9: C20 byte 10 is a bit field
 *   [openScale]  oliexdev/openScale .../scales/EufyC20Handler.kt
 */

/*
 * C1 T9146 / P1 T9147 advertisement, 18 bytes ([eufylife]: length 18 and
 * byte 4 = 0xCF; bytes 4-14 XOR-checked):
 *
 *   0-3    address bytes
 *   4-14   the 1byone CF record (scale-onebyone.c): impedance, weight,
 *          state, XOR
 *   15-17  unknown
 *
 * The A1 T9120 advertises the same ([eufylife#6]) though eufylife connects
 * to it. Only 15 bytes are needed; the rest is ignored.
 */
int eufy_parse_c1_adv(const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err)
{
	struct scale_weighing w;
	struct cursor c;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_skip(&c, 4, "address"))
		return cursor_truncated();
	/* The record's own offsets then count from byte 4. */
	err = onebyone_parse_record(data + 4, len - 4, SCALE_FAMILY_EUFY_C1, &w,
				    ret_err);
	if (err < 0) {
		if (ret_err)
			ret_err->offset += 4;
		return err;
	}
	*ret = w;
	return 0;
}

#define P2_HR_VALID 0xC0 /* byte 8 bits 7-6 both set */

/*
 * P2 T9148 / P2 Pro T9149 advertisement, 19 bytes ([eufylife]: length 19,
 * byte 6 = 0xCF, then the frame from byte 6):
 *
 *   0-5    unknown (address bytes)
 *   6      0xCF
 *   7      heart rate, bpm (P2 Pro)
 *   8      bits 7-6 = 11: heart rate valid
 *   9-10   weight, le16, 0.01 kg
 *   11-14  unknown
 *   15     0 = final
 *   16-17  unknown
 *   18     in both frames of [eufylife#8], the XOR of bytes 6-17
 *
 * The two real frames ([eufylife#8]) agree with these offsets. eufylife
 * checks no checksum here and neither do we: byte 18 is seen on one P2 Pro
 * only, none from a P2. Impedance is not in the advertisement: it needs
 * the AES handshake over GATT.
 */
int eufy_parse_p2_adv(const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err)
{
	struct scale_weighing w = { .family = SCALE_FAMILY_EUFY_P2 };
	struct cursor c;
	uint8_t marker, hr, hr_flags, state;
	uint16_t raw;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_skip(&c, 6, "address"))
		return cursor_truncated();
	if (!cursor_u8(&c, "marker", &marker))
		return cursor_truncated();
	if (marker != 0xCF)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "marker", 6,
				   marker, "0xCF");
	if (!cursor_u8(&c, "heart rate", &hr))
		return cursor_truncated();
	if (!cursor_u8(&c, "heart rate flags", &hr_flags))
		return cursor_truncated();
	if (!cursor_le16(&c, "weight", &raw))
		return cursor_truncated();
	if (!cursor_skip(&c, 4, "reserved"))
		return cursor_truncated();
	if (!cursor_u8(&c, "state", &state))
		return cursor_truncated();

	w.weight_kg = raw / 100.0;
	err = scale_check_weight(&c, w.weight_kg, raw, 9);
	if (err < 0)
		return err;
	w.final = state == 0;
	/* [eufylife] drops a flagged 0 bpm. */
	if ((hr_flags & P2_HR_VALID) == P2_HR_VALID && hr) {
		w.has_heart_rate = true;
		w.heart_rate_bpm = hr;
	}

	*ret = w;
	return 0;
}

#define C20_WEIGHT    0x01
#define C20_FINAL     0x04
#define C20_IMPEDANCE 0x40
#define C20_HEART     0x80

/*
 * C20 T9130 advertisement ([eufylife#9], [openScale] EufyC20Handler.kt):
 *
 *   0-9    address bytes and unknown
 *   10     flags: bit 0 weight, bit 2 final weight, bit 6 impedance,
 *          bit 7 heart rate
 *   11     unknown
 *   12-13  weight, le16, 0.01 kg
 *   14     unknown
 *   15     heart rate, bpm
 *   16     unknown
 *   17-18  impedance, le16, 0.1 ohm
 *
 * The released eufylife client reads byte 10 as a status (0x01 live, 0x05
 * final): the same bits. A field is read only when flagged, so an idle
 * 18-byte frame parses; openScale ignores flagged zeros, we reject them so
 * the merge never holds one.
 */
int eufy_parse_c20_adv(const uint8_t *data, size_t len,
		       struct eufy_c20_frame *ret, struct parse_error *ret_err)
{
	struct eufy_c20_frame f = { 0 };
	struct cursor c;
	uint8_t flags;
	uint16_t raw;
	int err;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_skip(&c, 10, "header"))
		return cursor_truncated();
	if (!cursor_u8(&c, "flags", &flags))
		return cursor_truncated();
	if (!(flags & (C20_WEIGHT | C20_IMPEDANCE | C20_HEART))) {
		*ret = f;
		return 0;
	}
	if (!cursor_skip(&c, 1, "reserved"))
		return cursor_truncated();
	if (!cursor_le16(&c, "weight", &raw))
		return cursor_truncated();
	if (flags & C20_WEIGHT) {
		f.has_weight = true;
		f.final = flags & C20_FINAL;
		f.weight_kg = raw / 100.0;
		err = scale_check_weight(&c, f.weight_kg, raw, 12);
		if (err < 0)
			return err;
	}
	if (!(flags & (C20_IMPEDANCE | C20_HEART))) {
		*ret = f;
		return 0;
	}
	if (!cursor_skip(&c, 1, "reserved"))
		return cursor_truncated();
	if (!cursor_u8(&c, "heart rate", &f.heart_rate_bpm))
		return cursor_truncated();
	if (flags & C20_HEART) {
		if (!f.heart_rate_bpm)
			return cursor_fail(&c, PARSE_FAULT_OUT_OF_RANGE,
					   "heart rate", 15, 0, "1-255 bpm");
		f.has_heart_rate = true;
	} else {
		f.heart_rate_bpm = 0;
	}
	if (flags & C20_IMPEDANCE) {
		if (!cursor_skip(&c, 1, "reserved"))
			return cursor_truncated();
		if (!cursor_le16(&c, "impedance", &raw))
			return cursor_truncated();
		if (!raw)
			return cursor_fail(&c, PARSE_FAULT_OUT_OF_RANGE,
					   "impedance", 17, 0,
					   "0.1-6553.5 ohm");
		f.has_impedance = true;
		f.impedance_ohm = raw / 10.0;
	}

	*ret = f;
	return 0;
}

void eufy_c20_merge_reset(struct eufy_c20_merge *m)
{
	*m = (struct eufy_c20_merge){ 0 };
}

static void merged(const struct eufy_c20_merge *m, struct scale_weighing *ret)
{
	*ret = (struct scale_weighing){
		.family = SCALE_FAMILY_EUFY_C20,
		.weight_kg = m->acc.weight_kg,
		.final = true,
		.has_impedance = m->acc.has_impedance,
		.impedance_ohm = m->acc.impedance_ohm,
		.has_heart_rate = m->acc.has_heart_rate,
		.heart_rate_bpm = m->acc.heart_rate_bpm,
	};
}

bool eufy_c20_merge_add(struct eufy_c20_merge *m,
			const struct eufy_c20_frame *frame,
			struct scale_weighing *ret)
{
	struct eufy_c20_frame *acc = &m->acc;

	if (frame->has_weight) {
		acc->has_weight = true;
		acc->final = frame->final;
		acc->weight_kg = frame->weight_kg;
	}
	if (frame->has_impedance) {
		acc->has_impedance = true;
		acc->impedance_ohm = frame->impedance_ohm;
	}
	if (frame->has_heart_rate) {
		acc->has_heart_rate = true;
		acc->heart_rate_bpm = frame->heart_rate_bpm;
	}
	if (!(acc->has_weight && acc->final && acc->has_impedance &&
	      acc->has_heart_rate))
		return false;
	merged(m, ret);
	eufy_c20_merge_reset(m);
	return true;
}

bool eufy_c20_merge_flush(struct eufy_c20_merge *m, struct scale_weighing *ret)
{
	bool done = m->acc.has_weight && m->acc.final;

	if (done)
		merged(m, ret);
	eufy_c20_merge_reset(m);
	return done;
}
