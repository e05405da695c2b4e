// SPDX-License-Identifier: MIT
#include "sensors/wss.h"

#include "sensors/cursor.h"

/* Weight Measurement flags, WSS 1.0 3.2 / GSS "Weight Measurement" */
#define WM_FLAG_IMPERIAL   0x01
#define WM_FLAG_TIMESTAMP  0x02
#define WM_FLAG_USER_ID	   0x04
#define WM_FLAG_BMI_HEIGHT 0x08
/* bits 4-7 are reserved for future use and ignored */

/* "Measurement Unsuccessful" in the Weight field (WSS 1.0 3.2) */
#define WM_WEIGHT_UNSUCCESSFUL 0xFFFF

#define METRES_PER_INCH 0.0254 /* exact, by the 1959 definition */

/*
 * GSS "Weight Measurement" (0x2A9D), as used by WSS 1.0 3.2: flags u8;
 * weight u16, 0.005 kg or 0.01 lb by bit 0; Date Time (bit 1); user id u8,
 * 0xFF unknown (bit 2); BMI u16 in 0.1 kg/m^2 then height u16 in 0.001 m or
 * 0.1 in (bit 3, both together). Fields appear in this order, each only when
 * its bit is set.
 *
 * Weight 0xFFFF means "Measurement Unsuccessful". The spec then wants every
 * optional field other than Time Stamp and User ID disabled, so those two
 * may still follow and are read. The flags alone say what the bytes are,
 * so a sender that sets bit 3 anyway gets its BMI and height read and
 * reported as sent; weight_unsuccessful tells the consumer not to trust a
 * BMI built on no weight.
 *
 * A later revision may append fields: bytes after the last field the flags
 * announce are ignored, not an error.
 */
int wss_parse_measurement(const uint8_t *data, size_t len,
			  struct wss_measurement *ret,
			  struct parse_error *ret_err)
{
	struct wss_measurement m = { 0 };
	struct cursor c;
	uint8_t flags;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "flags", &flags))
		return cursor_truncated();

	m.weight.unit = flags & WM_FLAG_IMPERIAL ? MASS_UNIT_LB : MASS_UNIT_KG;
	if (!cursor_le16(&c, "weight", &m.weight.raw))
		return cursor_truncated();
	m.weight_unsuccessful = m.weight.raw == WM_WEIGHT_UNSUCCESSFUL;

	if (flags & WM_FLAG_TIMESTAMP) {
		/* Never rejected for its value: see datetime_pull(). */
		if (!datetime_pull(&c, "timestamp", &m.timestamp))
			return cursor_truncated();
		m.has_timestamp = true;
	}

	if (flags & WM_FLAG_USER_ID) {
		if (!cursor_u8(&c, "user id", &m.user_id))
			return cursor_truncated();
		m.has_user = true;
	}

	if (flags & WM_FLAG_BMI_HEIGHT) {
		if (!cursor_le16(&c, "bmi", &m.bmi_raw))
			return cursor_truncated();
		if (!cursor_le16(&c, "height", &m.height_raw))
			return cursor_truncated();
		m.has_bmi_height = true;
	}

	*ret = m;
	return 0;
}

double wss_height_m(const struct wss_measurement *m)
{
	if (!m->has_bmi_height)
		return 0.0;
	if (m->weight.unit == MASS_UNIT_LB)
		return m->height_raw * 0.1 * METRES_PER_INCH;
	return m->height_raw * 0.001;
}

/* Weight Scale Feature bits, WSS 1.0 3.1 / GSS "Weight Scale Feature" */
#define WSF_TIMESTAMP	     0x00000001u
#define WSF_MULTIPLE_USERS   0x00000002u
#define WSF_BMI		     0x00000004u
#define WSF_WEIGHT_RES_SHIFT 3
#define WSF_WEIGHT_RES_MASK  0xFu
#define WSF_WEIGHT_RES_MAX   7 /* 8-15 reserved */
#define WSF_HEIGHT_RES_SHIFT 7
#define WSF_HEIGHT_RES_MASK  0x7u
#define WSF_HEIGHT_RES_MAX   3 /* 4-7 reserved */
/* bits 10-31 are reserved for future use and ignored */

/*
 * GSS "Weight Scale Feature" (0x2A9E), WSS 1.0 3.1: one u32 bit field.
 * Bits 3-6 are the weight resolution (0 unspecified, 1-7 from 0.5 kg / 1 lb
 * down to 0.005 kg / 0.01 lb, 8-15 reserved), bits 7-9 the height resolution
 * (0 unspecified, 1-3 from 0.01 m / 1 in down to 0.001 m / 0.1 in, 4-7
 * reserved). A reserved resolution is a format we cannot interpret, so it
 * is -ENOTSUP rather than a guess. Bytes after the u32 are ignored.
 */
int wss_parse_feature(const uint8_t *data, size_t len, struct wss_feature *ret,
		      struct parse_error *ret_err)
{
	struct wss_feature f = { 0 };
	struct cursor c;
	uint32_t bits;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_le32(&c, "weight scale feature", &bits))
		return cursor_truncated();

	f.timestamp_supported = bits & WSF_TIMESTAMP;
	f.multiple_users_supported = bits & WSF_MULTIPLE_USERS;
	f.bmi_supported = bits & WSF_BMI;
	f.weight_resolution =
	    (uint8_t)((bits >> WSF_WEIGHT_RES_SHIFT) & WSF_WEIGHT_RES_MASK);
	f.height_resolution =
	    (uint8_t)((bits >> WSF_HEIGHT_RES_SHIFT) & WSF_HEIGHT_RES_MASK);

	if (f.weight_resolution > WSF_WEIGHT_RES_MAX)
		return cursor_fail(
		    &c, PARSE_FAULT_RESERVED, "weight measurement resolution",
		    0, f.weight_resolution, "0-7 (8-15 are reserved)");
	if (f.height_resolution > WSF_HEIGHT_RES_MAX)
		return cursor_fail(
		    &c, PARSE_FAULT_RESERVED, "height measurement resolution",
		    0, f.height_resolution, "0-3 (4-7 are reserved)");

	*ret = f;
	return 0;
}

/* Indexed by resolution value; index 0 is "not specified". */
static const double weight_res_kg[WSF_WEIGHT_RES_MAX + 1] = {
	0.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005,
};
static const double weight_res_lb[WSF_WEIGHT_RES_MAX + 1] = {
	0.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01,
};
static const double height_res_m[WSF_HEIGHT_RES_MAX + 1] = {
	0.0,
	0.01,
	0.005,
	0.001,
};
static const double height_res_in[WSF_HEIGHT_RES_MAX + 1] = {
	0.0,
	1.0,
	0.5,
	0.1,
};

double wss_weight_resolution_kg(uint8_t weight_resolution)
{
	if (weight_resolution > WSF_WEIGHT_RES_MAX)
		return 0.0;
	return weight_res_kg[weight_resolution];
}

double wss_weight_resolution_lb(uint8_t weight_resolution)
{
	if (weight_resolution > WSF_WEIGHT_RES_MAX)
		return 0.0;
	return weight_res_lb[weight_resolution];
}

double wss_height_resolution_m(uint8_t height_resolution)
{
	if (height_resolution > WSF_HEIGHT_RES_MAX)
		return 0.0;
	return height_res_m[height_resolution];
}

double wss_height_resolution_in(uint8_t height_resolution)
{
	if (height_resolution > WSF_HEIGHT_RES_MAX)
		return 0.0;
	return height_res_in[height_resolution];
}
