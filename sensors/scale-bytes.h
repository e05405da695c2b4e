/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Helpers the vendor scale parsers share (scale-*.c only). Vendor layouts
 * put big-endian fields beside little-endian ones, so these add the
 * big-endian pulls on top of cursor_take(): same contract as the cursor's
 * own pulls, all or nothing, a TRUNCATED fault naming the field.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/cursor.h"
#include "sensors/weighing.h"

static inline bool cursor_be16(struct cursor *c, const char *field,
			       uint16_t *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, 2, field, &p))
		return false;
	*ret = (uint16_t)(p[0] << 8 | p[1]);
	return true;
}

static inline bool cursor_be24(struct cursor *c, const char *field,
			       uint32_t *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, 3, field, &p))
		return false;
	*ret = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[2];
	return true;
}

static inline bool cursor_be32(struct cursor *c, const char *field,
			       uint32_t *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, 4, field, &p))
		return false;
	*ret = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
	return true;
}

/* XOR of @n bytes, seeded with @seed. */
static inline uint8_t scale_xor(uint8_t seed, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seed ^= p[i];
	return seed;
}

/*
 * XOR, seeded with @seed, of the bytes from offset @from up to (not
 * including) @to that @c has already consumed, so a checksum reads only
 * bytes the cursor has bounds-checked. @to beyond what was consumed is a
 * bug in the caller and yields the seed.
 */
static inline uint8_t scale_xor_consumed(const struct cursor *c, uint8_t seed,
					 size_t from, size_t to)
{
	if (from > to || to > c->pos)
		return seed;
	return scale_xor(seed, c->data + from, to - from);
}

/* Sum of @n bytes modulo 256. */
static inline uint8_t scale_sum(const uint8_t *p, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += p[i];
	return (uint8_t)sum;
}

/*
 * Checks that @weight_kg is a person's weight (weighing.h); @raw and
 * @offset describe the field for the fault. Returns 0 or -EINVAL.
 */
static inline int scale_check_weight(struct cursor *c, double weight_kg,
				     uint32_t raw, size_t offset)
{
	if (!scale_weight_plausible(weight_kg))
		return cursor_fail(c, PARSE_FAULT_OUT_OF_RANGE, "weight",
				   offset, raw, "2-300 kg");
	return 0;
}

/*
 * Checks the checksum byte @got at @offset against @want, the value the
 * bytes before it give. A mismatch is a malformed frame: -EBADMSG, the fault
 * naming the field, its offset and what it should have been.
 */
static inline int scale_check_sum8(struct cursor *c, const char *field,
				   size_t offset, uint8_t got, uint8_t want,
				   const char *expected)
{
	if (got != want)
		return cursor_fail(c, PARSE_FAULT_MALFORMED, field, offset, got,
				   expected);
	return 0;
}
