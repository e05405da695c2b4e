/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/datetime.h"
#include "sensors/mass.h"
#include "sensors/parse-error.h"

/* Weight Scale Service 1.0: Weight Measurement (0x2A9D) */
struct wss_measurement {
	struct mass weight; /* MASS_UNIT_KG (0.005) or MASS_UNIT_LB (0.01) */
	bool weight_unsuccessful; /* weight field was 0xFFFF */
	bool has_timestamp;
	struct ble_date_time timestamp;
	bool has_user;
	uint8_t user_id; /* 0xFF: unknown user */
	bool has_bmi_height;
	uint16_t bmi_raw;    /* 0.1 kg/m^2 */
	uint16_t height_raw; /* 0.001 m (SI) or 0.1 in (imperial) */
};

#define WSS_USER_UNKNOWN 0xFF

/*
 * Parses a Weight Measurement. Returns 0, or a negative errno with @ret
 * untouched and @ret_err (may be NULL) describing the fault.
 */
int wss_parse_measurement(const uint8_t *data, size_t len,
			  struct wss_measurement *ret,
			  struct parse_error *ret_err);

/* Height in metres, whatever unit it was sent in; 0.0 when not sent. */
double wss_height_m(const struct wss_measurement *m);

/* Weight Scale Feature (0x2A9E) */
struct wss_feature {
	bool timestamp_supported;
	bool multiple_users_supported;
	bool bmi_supported;
	uint8_t weight_resolution; /* bits 3-6 as sent: 0 unspecified, 1-7 */
	uint8_t height_resolution; /* bits 7-9 as sent: 0 unspecified, 1-3 */
};

/*
 * Parses a Weight Scale Feature. Returns 0, or a negative errno (-EBADMSG;
 * -ENOTSUP for a reserved resolution value) with @ret untouched.
 */
int wss_parse_feature(const uint8_t *data, size_t len, struct wss_feature *ret,
		      struct parse_error *ret_err);

/*
 * The resolution in kg / lb (weight) or m / in (height) that the feature's
 * resolution value stands for; 0.0 when unspecified.
 */
double wss_weight_resolution_kg(uint8_t weight_resolution);
double wss_weight_resolution_lb(uint8_t weight_resolution);
double wss_height_resolution_m(uint8_t height_resolution);
double wss_height_resolution_in(uint8_t height_resolution);
