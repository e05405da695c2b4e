/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/datetime.h"
#include "sensors/mass.h"
#include "sensors/parse-error.h"

/* Body Composition Service 1.0: Body Composition Measurement (0x2A9C) flags */
#define BCS_FLAG_IMPERIAL	  0x0001
#define BCS_FLAG_TIMESTAMP	  0x0002
#define BCS_FLAG_USER_ID	  0x0004
#define BCS_FLAG_BASAL_METABOLISM 0x0008
#define BCS_FLAG_MUSCLE_PCT	  0x0010
#define BCS_FLAG_MUSCLE_MASS	  0x0020
#define BCS_FLAG_FAT_FREE_MASS	  0x0040
#define BCS_FLAG_SOFT_LEAN_MASS	  0x0080
#define BCS_FLAG_BODY_WATER_MASS  0x0100
#define BCS_FLAG_IMPEDANCE	  0x0200
#define BCS_FLAG_WEIGHT		  0x0400
#define BCS_FLAG_HEIGHT		  0x0800
#define BCS_FLAG_MULTIPLE_PACKET  0x1000

/*
 * One Body Composition Measurement, or one packet of a multi-packet one.
 * A field is meaningful when its flag is set in @flags.
 */
struct bcs_measurement {
	uint16_t flags;		    /* as sent, reserved bits 13-15 cleared */
	uint16_t body_fat_raw;	    /* 0.1 % */
	bool body_fat_unsuccessful; /* body fat field was 0xFFFF */
	struct ble_date_time timestamp;
	uint8_t user_id; /* 0xFF: unknown user */
	uint16_t basal_metabolism_kj;
	uint16_t muscle_pct_raw; /* 0.1 % */
	struct mass muscle_mass;
	struct mass fat_free_mass;
	struct mass soft_lean_mass;
	struct mass body_water_mass;
	uint16_t impedance_raw; /* 0.1 ohm */
	struct mass weight;
	uint16_t height_raw; /* 0.001 m (SI) or 0.1 in (imperial) */
};

/*
 * Parses one Body Composition Measurement packet. Returns 0, or a negative
 * errno with @ret untouched and @ret_err (may be NULL) describing the fault.
 */
int bcs_parse_measurement(const uint8_t *data, size_t len,
			  struct bcs_measurement *ret,
			  struct parse_error *ret_err);

/* Height in metres, whatever unit it was sent in; 0.0 when not sent. */
double bcs_height_m(const struct bcs_measurement *m);

/*
 * Joins the two packets of a multi-packet measurement (BCS 1.0, the Multiple
 * Packet Measurement flag). Keeps at most one pending packet; the caller
 * resets it when the link drops.
 */
struct bcs_assembler {
	bool pending;
	struct bcs_measurement first;
};

void bcs_assembler_reset(struct bcs_assembler *a);

/*
 * Feeds one parsed packet. Returns 0 with @ret set to a whole measurement
 * (a single-packet one as it is, or both packets merged, with the Multiple
 * Packet flag cleared); -EAGAIN when @part is held waiting for its other half
 * (@ret untouched). A packet that cannot pair with the pending one replaces
 * it (the older half is dropped): see bcs.c for the pairing rule.
 */
int bcs_assembler_push(struct bcs_assembler *a,
		       const struct bcs_measurement *part,
		       struct bcs_measurement *ret);
