// SPDX-License-Identifier: MIT
#include "sensors/bcs.h"

#include <errno.h>

#include "sensors/cursor.h"

/* Flag bits 0-12 are defined (BCS 1.0 3.2); 13-15 are reserved and ignored. */
#define BCS_FLAGS_DEFINED 0x1FFF
/* The bits that announce a field: Time Stamp (1) up to Height (11). */
#define BCS_FLAGS_FIELDS 0x0FFE

/* "Measurement Unsuccessful" in the Body Fat Percentage field */
#define BCS_BODY_FAT_UNSUCCESSFUL 0xFFFF
/* A percentage in 0.1 % cannot exceed 100.0 %. */
#define BCS_PERCENT_RAW_MAX 1000

#define METRES_PER_INCH 0.0254 /* exact, by the 1959 definition */

static bool pull_mass(struct cursor *c, const char *field, enum mass_unit unit,
		      struct mass *ret)
{
	ret->unit = unit;
	return cursor_le16(c, field, &ret->raw);
}

/* Reads a 0.1 % field and rejects anything above 100.0 %. */
static int pull_percent(struct cursor *c, const char *field, uint16_t *ret)
{
	size_t offset = cursor_offset(c);
	uint16_t raw;

	if (!cursor_le16(c, field, &raw))
		return cursor_truncated();
	if (raw > BCS_PERCENT_RAW_MAX)
		return cursor_fail(c, PARSE_FAULT_OUT_OF_RANGE, field, offset,
				   raw, "0-100.0 %");
	*ret = raw;
	return 0;
}

/*
 * GSS "Body Composition Measurement" (0x2A9C), BCS 1.0 3.2: flags u16; body
 * fat percentage u16 in 0.1 %, always present; then, each only when its
 * flag bit is set and in this order: Date Time (1), user id u8 with 0xFF
 * unknown (2), basal metabolism u16 kJ (3), muscle percentage u16 0.1 %
 * (4), muscle mass (5), fat free mass (6), soft lean mass (7), body water
 * mass (8), impedance u16 0.1 ohm (9), weight (10), height u16 0.001 m or
 * 0.1 in (11). Masses are u16 in 0.005 kg or 0.01 lb, by bit 0. Bit 12
 * marks one packet of a measurement split in two (see the assembler below).
 *
 * Body fat 0xFFFF means "Measurement Unsuccessful": the spec then wants
 * every optional field other than Time Stamp and User ID left out, so those
 * two may still follow and are read. The flags alone say what the bytes are,
 * so a sender that announces more fields anyway gets them read and reported
 * as sent (a scale whose impedance failed may still weigh correctly);
 * body_fat_unsuccessful tells the consumer what happened.
 *
 * Percentages above 100.0 % are -EINVAL: there is no such body. Each packet
 * of a two-packet measurement is a complete value in its own right, so this
 * parser needs no state. A later revision may append fields: bytes after
 * the last field the flags announce are ignored, not an error.
 */
int bcs_parse_measurement(const uint8_t *data, size_t len,
			  struct bcs_measurement *ret,
			  struct parse_error *ret_err)
{
	struct bcs_measurement m = { 0 };
	enum mass_unit unit;
	struct cursor c;
	size_t offset;
	uint16_t flags;
	int r;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_le16(&c, "flags", &flags))
		return cursor_truncated();
	m.flags = flags & BCS_FLAGS_DEFINED;
	unit = flags & BCS_FLAG_IMPERIAL ? MASS_UNIT_LB : MASS_UNIT_KG;
	/* Absent masses still carry the packet's unit, never a stray one. */
	m.muscle_mass.unit = m.fat_free_mass.unit = unit;
	m.soft_lean_mass.unit = m.body_water_mass.unit = m.weight.unit = unit;

	offset = cursor_offset(&c);
	if (!cursor_le16(&c, "body fat percentage", &m.body_fat_raw))
		return cursor_truncated();
	if (m.body_fat_raw == BCS_BODY_FAT_UNSUCCESSFUL)
		m.body_fat_unsuccessful = true;
	else if (m.body_fat_raw > BCS_PERCENT_RAW_MAX)
		return cursor_fail(&c, PARSE_FAULT_OUT_OF_RANGE,
				   "body fat percentage", offset,
				   m.body_fat_raw, "0-100.0 %");

	/* Never rejected for its value: see datetime_pull(). */
	if ((flags & BCS_FLAG_TIMESTAMP) &&
	    !datetime_pull(&c, "timestamp", &m.timestamp))
		return cursor_truncated();
	if ((flags & BCS_FLAG_USER_ID) && !cursor_u8(&c, "user id", &m.user_id))
		return cursor_truncated();
	if ((flags & BCS_FLAG_BASAL_METABOLISM) &&
	    !cursor_le16(&c, "basal metabolism", &m.basal_metabolism_kj))
		return cursor_truncated();
	if (flags & BCS_FLAG_MUSCLE_PCT) {
		r = pull_percent(&c, "muscle percentage", &m.muscle_pct_raw);
		if (r < 0)
			return r;
	}
	if ((flags & BCS_FLAG_MUSCLE_MASS) &&
	    !pull_mass(&c, "muscle mass", unit, &m.muscle_mass))
		return cursor_truncated();
	if ((flags & BCS_FLAG_FAT_FREE_MASS) &&
	    !pull_mass(&c, "fat free mass", unit, &m.fat_free_mass))
		return cursor_truncated();
	if ((flags & BCS_FLAG_SOFT_LEAN_MASS) &&
	    !pull_mass(&c, "soft lean mass", unit, &m.soft_lean_mass))
		return cursor_truncated();
	if ((flags & BCS_FLAG_BODY_WATER_MASS) &&
	    !pull_mass(&c, "body water mass", unit, &m.body_water_mass))
		return cursor_truncated();
	if ((flags & BCS_FLAG_IMPEDANCE) &&
	    !cursor_le16(&c, "impedance", &m.impedance_raw))
		return cursor_truncated();
	if ((flags & BCS_FLAG_WEIGHT) &&
	    !pull_mass(&c, "weight", unit, &m.weight))
		return cursor_truncated();
	if ((flags & BCS_FLAG_HEIGHT) &&
	    !cursor_le16(&c, "height", &m.height_raw))
		return cursor_truncated();

	*ret = m;
	return 0;
}

double bcs_height_m(const struct bcs_measurement *m)
{
	if (!(m->flags & BCS_FLAG_HEIGHT))
		return 0.0;
	if (m->flags & BCS_FLAG_IMPERIAL)
		return m->height_raw * 0.1 * METRES_PER_INCH;
	return m->height_raw * 0.001;
}

/*
 * Multiple Packet Measurement (flags bit 12), BCS 1.0 3.2. A measurement
 * larger than ATT_MTU - 3 (20 bytes at the default MTU; all fields take 30)
 * goes out as two consecutive indications of 0x2A9C:
 *  - bit 12 is set in BOTH packets, so the bit alone cannot tell the first
 *    from the second; only the receiver's state can;
 *  - each packet is a complete value: its own flags, then Body Fat
 *    Percentage (repeated, same value), then the fields its own flags
 *    announce; the unit bit is the same in both;
 *  - no field is sent twice: the first packet carries a leading run of the
 *    optional fields in spec order (Time Stamp and User ID included), the
 *    second the rest.
 * The spec prose was not at hand; this is what the three servers we read
 * do and agree on (Goodix, Realtek, RivieraWaves/Dialog), and the one
 * collector we found (RivieraWaves bcsc) pairs by state the same way.
 *
 * So, with at most one packet pending:
 *  - bit 12 clear: a whole measurement, returned as is; a pending first
 *    half is dropped, since its second half can no longer come;
 *  - bit 12 set, nothing pending: held as the first half (-EAGAIN);
 *  - bit 12 set and a first half pending: the two pair when the unit bit
 *    and body fat match and every field of the new packet comes after
 *    every field of the pending one. Then the flags are OR-ed, each field
 *    is taken from the packet that carried it, bit 12 is cleared, and the
 *    whole measurement is returned. Otherwise they belong to different
 *    measurements: the pending half is dropped and the new packet is held
 *    as a new first half (-EAGAIN).
 * The ordering test also stops a lone second half (its first lost with a
 * reconnect) from swallowing the next measurement's first half: that one
 * starts with lower fields. A dangling half is never returned on its own.
 */

/* Every bit from bit 0 up to the highest bit set in @bits. */
static uint16_t up_to_highest_bit(uint16_t bits)
{
	bits |= (uint16_t)(bits >> 1);
	bits |= (uint16_t)(bits >> 2);
	bits |= (uint16_t)(bits >> 4);
	bits |= (uint16_t)(bits >> 8);
	return bits;
}

static bool can_pair(const struct bcs_measurement *first,
		     const struct bcs_measurement *second)
{
	uint16_t first_fields = first->flags & BCS_FLAGS_FIELDS;
	uint16_t second_fields = second->flags & BCS_FLAGS_FIELDS;

	if ((first->flags ^ second->flags) & BCS_FLAG_IMPERIAL)
		return false;
	if (first->body_fat_raw != second->body_fat_raw)
		return false;
	return (second_fields & up_to_highest_bit(first_fields)) == 0;
}

static struct bcs_measurement merge(const struct bcs_measurement *first,
				    const struct bcs_measurement *second)
{
	struct bcs_measurement m = *first;
	uint16_t s = second->flags;

	m.flags = (uint16_t)((first->flags | s) & ~BCS_FLAG_MULTIPLE_PACKET);
	if (s & BCS_FLAG_TIMESTAMP)
		m.timestamp = second->timestamp;
	if (s & BCS_FLAG_USER_ID)
		m.user_id = second->user_id;
	if (s & BCS_FLAG_BASAL_METABOLISM)
		m.basal_metabolism_kj = second->basal_metabolism_kj;
	if (s & BCS_FLAG_MUSCLE_PCT)
		m.muscle_pct_raw = second->muscle_pct_raw;
	if (s & BCS_FLAG_MUSCLE_MASS)
		m.muscle_mass = second->muscle_mass;
	if (s & BCS_FLAG_FAT_FREE_MASS)
		m.fat_free_mass = second->fat_free_mass;
	if (s & BCS_FLAG_SOFT_LEAN_MASS)
		m.soft_lean_mass = second->soft_lean_mass;
	if (s & BCS_FLAG_BODY_WATER_MASS)
		m.body_water_mass = second->body_water_mass;
	if (s & BCS_FLAG_IMPEDANCE)
		m.impedance_raw = second->impedance_raw;
	if (s & BCS_FLAG_WEIGHT)
		m.weight = second->weight;
	if (s & BCS_FLAG_HEIGHT)
		m.height_raw = second->height_raw;
	return m;
}

void bcs_assembler_reset(struct bcs_assembler *a)
{
	*a = (struct bcs_assembler){ 0 };
}

int bcs_assembler_push(struct bcs_assembler *a,
		       const struct bcs_measurement *part,
		       struct bcs_measurement *ret)
{
	struct bcs_measurement whole;

	if (!(part->flags & BCS_FLAG_MULTIPLE_PACKET)) {
		whole = *part;
		bcs_assembler_reset(a);
		*ret = whole;
		return 0;
	}

	if (a->pending && can_pair(&a->first, part)) {
		whole = merge(&a->first, part);
		bcs_assembler_reset(a);
		*ret = whole;
		return 0;
	}

	a->first = *part;
	a->pending = true;
	return -EAGAIN;
}
