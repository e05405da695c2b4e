/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * One weighing from a vendor scale, whatever family sent it, so ingest can
 * file "a weighing" without knowing the layout. Where the standard parsers
 * (wss.h, miscale.h) keep the raw mass and its unit, the vendor layouts use
 * resolutions struct mass cannot hold (0.1 kg, 1 kg, 0.001 kg, st:lb), so
 * the vendor parsers convert to kilograms once, here.
 */
enum scale_family {
	SCALE_FAMILY_QN_BROADCAST, /* QN/Renpho "AABB" manufacturer data */
	SCALE_FAMILY_QN_GATT,	   /* QN/Renpho 0xFFE0/0xFFF0 notifications */
	SCALE_FAMILY_OKOK_V20,	   /* OKOK/Chipsea, company id 0x20CA */
	SCALE_FAMILY_OKOK_V11,	   /* OKOK/Chipsea, company id 0x11CA */
	SCALE_FAMILY_OKOK_VF0,	   /* OKOK/Chipsea, company id 0xF0FF */
	SCALE_FAMILY_OKOK_C0,	   /* OKOK/Chipsea, company id 0x??C0 */
	SCALE_FAMILY_YUNMAI_X,	   /* Yunmai X broadcast */
	SCALE_FAMILY_YUNMAI_GATT,  /* Yunmai SE/Mini notifications */
	SCALE_FAMILY_EUFY_C1,	   /* Eufy T9146/T9147 (and T9120) adverts */
	SCALE_FAMILY_EUFY_P2,	   /* Eufy T9148/T9149 adverts */
	SCALE_FAMILY_EUFY_C20,	   /* Eufy T9130 adverts, merged */
	SCALE_FAMILY_ONEBYONE,	   /* 1byone classic notifications */
	SCALE_FAMILY_ONEBYONE_NEW, /* 1byone new notifications */
};

struct scale_weighing {
	enum scale_family family;
	double weight_kg;
	/*
	 * The scale's own verdict that the number has settled (stable or
	 * final, as each family calls it). Only a final weighing is a
	 * measurement; the others are live readings for a display.
	 */
	bool final;
	bool has_impedance;
	double impedance_ohm;
	bool has_heart_rate;
	uint8_t heart_rate_bpm;
	bool has_user;
	uint8_t user_index; /* as the scale numbers its users */
};

/*
 * What a person on a bathroom scale can weigh. The vendor layouts carry no
 * "no weight" marker: an empty scale still advertises, with 0 kg or settling
 * noise (OKOK "ghost" 0.2-1.3 kg, homeassistant-okokscale PR #12), and a
 * reading outside this range is never a person's weighing. openScale's
 * QNHandlerBroadcast keeps 0.5-300 kg, homeassistant-okokscale 2 kg and up.
 */
#define SCALE_WEIGHT_MIN_KG 2.0
#define SCALE_WEIGHT_MAX_KG 300.0

static inline bool scale_weight_plausible(double weight_kg)
{
	return weight_kg >= SCALE_WEIGHT_MIN_KG &&
	       weight_kg <= SCALE_WEIGHT_MAX_KG;
}

/* A short name for logs and `recoveryctl decode`, e.g. "okok-v20". */
static inline const char *scale_family_name(enum scale_family family)
{
	switch (family) {
	case SCALE_FAMILY_QN_BROADCAST:
		return "qn-broadcast";
	case SCALE_FAMILY_QN_GATT:
		return "qn-gatt";
	case SCALE_FAMILY_OKOK_V20:
		return "okok-v20";
	case SCALE_FAMILY_OKOK_V11:
		return "okok-v11";
	case SCALE_FAMILY_OKOK_VF0:
		return "okok-vf0";
	case SCALE_FAMILY_OKOK_C0:
		return "okok-c0";
	case SCALE_FAMILY_YUNMAI_X:
		return "yunmai-x";
	case SCALE_FAMILY_YUNMAI_GATT:
		return "yunmai-gatt";
	case SCALE_FAMILY_EUFY_C1:
		return "eufy-c1";
	case SCALE_FAMILY_EUFY_P2:
		return "eufy-p2";
	case SCALE_FAMILY_EUFY_C20:
		return "eufy-c20";
	case SCALE_FAMILY_ONEBYONE:
		return "1byone";
	case SCALE_FAMILY_ONEBYONE_NEW:
		return "1byone-new";
	default:
		return "?";
	}
}
