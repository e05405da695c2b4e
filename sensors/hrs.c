// SPDX-License-Identifier: MIT
#include "hrs.h"

#include "cursor.h"

/* Heart Rate Measurement flags, HRS 1.0 / GSS 3.113.1 */
#define HRM_FLAG_HR_U16	       0x01
#define HRM_FLAG_CONTACT_MASK  0x06
#define HRM_FLAG_CONTACT_SHIFT 1
#define HRM_FLAG_ENERGY	       0x08
#define HRM_FLAG_RR	       0x10
/* bits 5-7 are reserved for future use and ignored */

/*
 * GSS 3.113 Heart Rate Measurement: flags u8; heart rate u8 or u16 (bit 0);
 * energy expended u16 kJ (bit 3); RR intervals u16 in 1/1024 s (bit 4), as
 * many as fill the rest of the value. Contact status is bits 1-2: 0 and 1
 * mean the feature is not supported, 2 not detected, 3 detected.
 *
 * The RR list runs to the end, so there are no trailing bytes to ignore; an
 * odd byte left over is a truncated interval. A set RR bit with no bytes
 * after it is accepted as an empty list: the heart rate is still good.
 */
int hrs_parse_measurement(const uint8_t *data, size_t len,
			  struct hrs_measurement *ret,
			  struct parse_error *ret_err)
{
	struct hrs_measurement m = { 0 };
	struct cursor c;
	uint8_t flags;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "flags", &flags))
		return cursor_truncated();

	if (flags & HRM_FLAG_HR_U16) {
		if (!cursor_le16(&c, "heart rate (u16)", &m.heart_rate_bpm))
			return cursor_truncated();
	} else {
		uint8_t bpm;

		if (!cursor_u8(&c, "heart rate (u8)", &bpm))
			return cursor_truncated();
		m.heart_rate_bpm = bpm;
	}

	switch ((flags & HRM_FLAG_CONTACT_MASK) >> HRM_FLAG_CONTACT_SHIFT) {
	case 2:
		m.contact = HRS_CONTACT_NOT_DETECTED;
		break;
	case 3:
		m.contact = HRS_CONTACT_DETECTED;
		break;
	default:
		m.contact = HRS_CONTACT_UNSUPPORTED;
		break;
	}

	if (flags & HRM_FLAG_ENERGY) {
		if (!cursor_le16(&c, "energy expended", &m.energy_expended_kj))
			return cursor_truncated();
		m.has_energy = true;
	}

	if (flags & HRM_FLAG_RR) {
		while (cursor_left(&c) > 0) {
			size_t offset = cursor_offset(&c);
			uint16_t rr;

			if (m.rr_count == HRS_MAX_RR)
				return cursor_fail(&c, PARSE_FAULT_TOO_MANY,
						   "rr intervals", offset, 0,
						   "255");
			if (!cursor_le16(&c, "rr interval", &rr))
				return cursor_truncated();
			m.rr_raw[m.rr_count++] = rr;
		}
	}

	*ret = m;
	return 0;
}

const char *hrs_contact_name(enum hrs_contact contact)
{
	switch (contact) {
	case HRS_CONTACT_UNSUPPORTED:
		return "unsupported";
	case HRS_CONTACT_NOT_DETECTED:
		return "not-detected";
	case HRS_CONTACT_DETECTED:
		return "detected";
	default:
		return "unsupported";
	}
}

/* GSS 3.30 Body Sensor Location: one u8 enumeration */
int hrs_parse_location(const uint8_t *data, size_t len, uint8_t *ret,
		       struct parse_error *ret_err)
{
	struct cursor c;
	uint8_t location;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "body sensor location", &location))
		return cursor_truncated();
	*ret = location;
	return 0;
}

const char *hrs_location_name(uint8_t location)
{
	switch (location) {
	case HRS_LOCATION_OTHER:
		return "other";
	case HRS_LOCATION_CHEST:
		return "chest";
	case HRS_LOCATION_WRIST:
		return "wrist";
	case HRS_LOCATION_FINGER:
		return "finger";
	case HRS_LOCATION_HAND:
		return "hand";
	case HRS_LOCATION_EAR_LOBE:
		return "ear-lobe";
	case HRS_LOCATION_FOOT:
		return "foot";
	default:
		return "reserved";
	}
}
