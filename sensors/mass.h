/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/*
 * A mass as a scale sends it. The resolution follows the unit in every layout
 * we decode: SI 0.005 kg (WSS 3.2.1, BCS 3.2.1, Mi Scale raw/200), imperial
 * 0.01 lb, and the Mi Scale's catty (jin) 0.01 jin.
 */
enum mass_unit {
	MASS_UNIT_KG,
	MASS_UNIT_LB,
	MASS_UNIT_JIN,
};

struct mass {
	enum mass_unit unit;
	uint16_t raw;
};

#define KG_PER_LB  0.45359237 /* exact, by the 1959 definition */
#define KG_PER_JIN 0.5	      /* the market catty of mainland China */

/* The mass in the unit it was sent in. */
static inline double mass_value(struct mass m)
{
	return m.unit == MASS_UNIT_KG ? m.raw * 0.005 : m.raw * 0.01;
}

/* The mass in kilograms, whatever unit it was sent in. */
static inline double mass_kg(struct mass m)
{
	switch (m.unit) {
	case MASS_UNIT_KG:
		return m.raw * 0.005;
	case MASS_UNIT_LB:
		return m.raw * 0.01 * KG_PER_LB;
	case MASS_UNIT_JIN:
		return m.raw * 0.01 * KG_PER_JIN;
	default:
		return 0.0;
	}
}

/* "kg", "lb" or "jin". */
static inline const char *mass_unit_name(enum mass_unit unit)
{
	switch (unit) {
	case MASS_UNIT_KG:
		return "kg";
	case MASS_UNIT_LB:
		return "lb";
	case MASS_UNIT_JIN:
		return "jin";
	default:
		return "?";
	}
}
