// SPDX-License-Identifier: MIT
#include "sensors/reading.h"

#include <math.h>

#include "sensors/mass.h"

enum reading_kind reading_kind(const struct decoded_payload *p)
{
	switch (p->uuid) {
	case DECODE_UUID_HEART_RATE:
		return READING_HEART_RATE;
	case DECODE_UUID_BATTERY_LEVEL:
		return READING_BATTERY;
	case DECODE_UUID_WEIGHT:
	case DECODE_UUID_BODY_COMPOSITION:
	case DECODE_UUID_MISCALE_V1:
	case DECODE_UUID_MISCALE_V2:
	case DECODE_SCALE_WEIGHING:
		return READING_WEIGHING;
	case DECODE_UUID_BTHOME:
		return READING_SENSOR;
	case DECODE_UUID_SENSOR_LOCATION:
	case DECODE_UUID_WEIGHT_FEATURE:
	default:
		return READING_NOTHING;
	}
}

/* A standard scale indicates a weighing's weight and body composition
 * within a second or two; a few seconds hold them together. */
#define STANDARD_PARTS_MS 5000
/* A Mi scale repeats its measurement while someone stands on it. */
#define MISCALE_REPEAT_MS 60000
/* Vendor frames: the BLE side passes a final weighing on once per
 * weighing; this catches a relay that repeats it. */
#define VENDOR_REPEAT_MS 60000

static int user_of(bool has, uint8_t id)
{
	return has && id != WSS_USER_UNKNOWN ? id : 0;
}

/*
 * The Mi scale's own clock and raw weight: one weighing repeated carries
 * the same of both (a clock never set repeats too, which is why the
 * repeat window is bounded).
 */
static uint64_t miscale_key(const struct miscale_reading *m)
{
	const struct ble_date_time *t = &m->timestamp;

	return (uint64_t)m->weight.unit << 54 | (uint64_t)m->weight.raw << 38 |
	       (uint64_t)(t->year & 0xFFF) << 26 |
	       (uint64_t)(t->month & 0xF) << 22 |
	       (uint64_t)(t->day & 0x1F) << 17 |
	       (uint64_t)(t->hours & 0x1F) << 12 |
	       (uint64_t)(t->minutes & 0x3F) << 6 | (t->seconds & 0x3F);
}

bool reading_weighing(const struct decoded_payload *p,
		      struct reading_weighing *ret)
{
	struct reading_weighing w = {
		.final = true,
		.body_fat_pct = NAN,
		.impedance_ohm = NAN,
	};

	switch (p->uuid) {
	case DECODE_UUID_WEIGHT: {
		const struct wss_measurement *m = &p->u.weight;

		if (m->weight_unsuccessful)
			return false;
		w.weight_kg = mass_kg(m->weight);
		w.scale_user = user_of(m->has_user, m->user_id);
		w.same_within_ms = STANDARD_PARTS_MS;
		break;
	}
	case DECODE_UUID_BODY_COMPOSITION: {
		const struct bcs_measurement *m = &p->u.body_composition;

		/* Without its weight the body fat has nobody to go with. */
		if (!(m->flags & BCS_FLAG_WEIGHT))
			return false;
		w.weight_kg = mass_kg(m->weight);
		w.scale_user = user_of(m->flags & BCS_FLAG_USER_ID, m->user_id);
		if (!m->body_fat_unsuccessful)
			w.body_fat_pct = m->body_fat_raw / 10.0;
		if (m->flags & BCS_FLAG_IMPEDANCE)
			w.impedance_ohm = m->impedance_raw / 10.0;
		w.same_within_ms = STANDARD_PARTS_MS;
		break;
	}
	case DECODE_UUID_MISCALE_V1:
	case DECODE_UUID_MISCALE_V2: {
		const struct miscale_reading *m = &p->u.miscale;

		if (!miscale_is_measurement(m))
			return false;
		w.weight_kg = mass_kg(m->weight);
		if (m->has_impedance)
			w.impedance_ohm = m->impedance_ohm;
		w.same_within_ms = MISCALE_REPEAT_MS;
		w.repeat_key = miscale_key(m);
		break;
	}
	case DECODE_SCALE_WEIGHING: {
		const struct scale_weighing *s = &p->u.scale;

		w.weight_kg = s->weight_kg;
		w.final = s->final;
		w.scale_user = s->has_user ? s->user_index : 0;
		if (s->has_impedance)
			w.impedance_ohm = s->impedance_ohm;
		w.same_within_ms = VENDOR_REPEAT_MS;
		w.repeat_key = s->family;
		break;
	}
	case DECODE_UUID_HEART_RATE:
	case DECODE_UUID_SENSOR_LOCATION:
	case DECODE_UUID_BATTERY_LEVEL:
	case DECODE_UUID_WEIGHT_FEATURE:
	case DECODE_UUID_BTHOME:
	default:
		return false;
	}
	*ret = w;
	return true;
}
