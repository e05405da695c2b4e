// SPDX-License-Identifier: MIT
#include "sensors/hrs.h"

#include "sensors/cursor.h"

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
	enum hrs_contact contact;
	uint16_t bpm, energy = 0;
	size_t rr_offset, rr_bytes;
	struct cursor c;
	uint8_t flags;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "flags", &flags))
		return cursor_truncated();

	if (flags & HRM_FLAG_HR_U16) {
		if (!cursor_le16(&c, "heart rate (u16)", &bpm))
			return cursor_truncated();
	} else {
		uint8_t bpm8;

		if (!cursor_u8(&c, "heart rate (u8)", &bpm8))
			return cursor_truncated();
		bpm = bpm8;
	}

	switch ((flags & HRM_FLAG_CONTACT_MASK) >> HRM_FLAG_CONTACT_SHIFT) {
	case 2:
		contact = HRS_CONTACT_NOT_DETECTED;
		break;
	case 3:
		contact = HRS_CONTACT_DETECTED;
		break;
	default:
		contact = HRS_CONTACT_UNSUPPORTED;
		break;
	}

	if ((flags & HRM_FLAG_ENERGY) &&
	    !cursor_le16(&c, "energy expended", &energy))
		return cursor_truncated();

	/*
	 * Check the whole RR list before writing anything, so that @ret can
	 * be filled in place: this runs for every notification, and a
	 * measurement is mostly RR array that a copy would move twice.
	 */
	rr_offset = cursor_offset(&c);
	rr_bytes = flags & HRM_FLAG_RR ? cursor_left(&c) : 0;
	if (rr_bytes > 2 * HRS_MAX_RR)
		return cursor_fail(&c, PARSE_FAULT_TOO_MANY, "rr intervals",
				   rr_offset + 2 * HRS_MAX_RR, 0, "255");
	if (rr_bytes % 2) {
		/* Point the fault at the odd byte, as a pull would. */
		if (!cursor_skip(&c, rr_bytes - 1, "rr interval") ||
		    !cursor_skip(&c, 2, "rr interval"))
			return cursor_truncated();
	}

	ret->heart_rate_bpm = bpm;
	ret->contact = contact;
	ret->has_energy = flags & HRM_FLAG_ENERGY;
	ret->energy_expended_kj = energy;
	ret->rr_count = (uint16_t)(rr_bytes / 2);
	for (unsigned i = 0; i < ret->rr_count; i++)
		(void)cursor_le16(&c, "rr interval", &ret->rr_raw[i]);
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
