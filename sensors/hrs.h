/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"

/*
 * An attribute value is at most 512 bytes (Core Spec Vol 3 Part F 3.2.9);
 * after the flags and an 8-bit heart rate that leaves room for 255 RR
 * intervals, so a measurement that fits any ATT MTU fits this array.
 */
#define HRS_MAX_RR 255

enum hrs_contact {
	HRS_CONTACT_UNSUPPORTED,
	HRS_CONTACT_NOT_DETECTED,
	HRS_CONTACT_DETECTED,
};

struct hrs_measurement {
	uint16_t heart_rate_bpm;
	enum hrs_contact contact;
	bool has_energy;
	uint16_t energy_expended_kj;
	uint16_t rr_count;
	uint16_t rr_raw[HRS_MAX_RR]; /* 1/1024 s each, oldest first */
};

/*
 * Parses a Heart Rate Measurement (0x2A37). Returns 0 and fills @ret, or a
 * negative errno (-EBADMSG, -E2BIG) with @ret untouched and @ret_err (may be
 * NULL) describing why.
 */
int hrs_parse_measurement(const uint8_t *data, size_t len,
			  struct hrs_measurement *ret,
			  struct parse_error *ret_err);

/* An RR interval in milliseconds (raw * 1000 / 1024). */
static inline double hrs_rr_ms(uint16_t rr_raw)
{
	return rr_raw * (1000.0 / 1024.0);
}

/* "unsupported", "not-detected" or "detected". */
const char *hrs_contact_name(enum hrs_contact contact);

enum hrs_location {
	HRS_LOCATION_OTHER = 0,
	HRS_LOCATION_CHEST = 1,
	HRS_LOCATION_WRIST = 2,
	HRS_LOCATION_FINGER = 3,
	HRS_LOCATION_HAND = 4,
	HRS_LOCATION_EAR_LOBE = 5,
	HRS_LOCATION_FOOT = 6,
};

/*
 * Parses a Body Sensor Location (0x2A38): one byte. Values 7-255 are reserved
 * for future use and are returned as they are (hrs_location_name() calls them
 * "reserved"), not rejected. Returns 0 or -EBADMSG.
 */
int hrs_parse_location(const uint8_t *data, size_t len, uint8_t *ret,
		       struct parse_error *ret_err);

/* "other", "chest", ... "foot", or "reserved". */
const char *hrs_location_name(uint8_t location);
