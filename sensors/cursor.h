/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one way parsers read bytes from outside. Each pull consumes exactly the
 * bytes it reads, or nothing at all and records a TRUNCATED fault naming the
 * field; nothing ever indexes a payload by hand or subtracts from a length
 * before checking it. All multi-byte values in Bluetooth payloads are
 * little-endian (Core Spec Vol 3 Part G 3.3.3 for GATT, and likewise for the
 * vendor layouts we read).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sensors/parse-error.h"

struct cursor {
	const uint8_t *data;
	size_t len;
	size_t pos;
	struct parse_error
	    *err; /* may be NULL: faults are then not described */
};

static inline void cursor_init(struct cursor *c, const uint8_t *data,
			       size_t len, struct parse_error *err)
{
	c->data = data;
	c->len = data ? len : 0;
	c->pos = 0;
	c->err = err;
}

static inline size_t cursor_left(const struct cursor *c)
{
	return c->len - c->pos;
}

static inline size_t cursor_offset(const struct cursor *c)
{
	return c->pos;
}

/*
 * Records a fault about a field that started at @offset and returns the
 * matching negative errno, so a parser can write `return cursor_fail(...)`.
 */
static inline int cursor_fail(struct cursor *c, enum parse_fault fault,
			      const char *field, size_t offset, uint32_t value,
			      const char *expected)
{
	if (c->err) {
		*c->err = (struct parse_error){
			.fault = fault,
			.field = field,
			.offset = offset,
			.value = value,
			.expected = expected,
		};
	}
	return parse_fault_errno(fault);
}

/* Returns the TRUNCATED errno recorded by the last failed pull. */
static inline int cursor_truncated(void)
{
	return parse_fault_errno(PARSE_FAULT_TRUNCATED);
}

static inline bool cursor_take(struct cursor *c, size_t n, const char *field,
			       const uint8_t **ret)
{
	if (n > cursor_left(c)) {
		if (c->err) {
			*c->err = (struct parse_error){
				.fault = PARSE_FAULT_TRUNCATED,
				.field = field,
				.offset = c->pos,
				.need = n,
				.left = cursor_left(c),
			};
		}
		return false;
	}
	*ret = c->data + c->pos;
	c->pos += n;
	return true;
}

static inline bool cursor_u8(struct cursor *c, const char *field, uint8_t *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, 1, field, &p))
		return false;
	*ret = p[0];
	return true;
}

static inline bool cursor_le16(struct cursor *c, const char *field,
			       uint16_t *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, 2, field, &p))
		return false;
	*ret = (uint16_t)(p[0] | p[1] << 8);
	return true;
}

static inline bool cursor_le24(struct cursor *c, const char *field,
			       uint32_t *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, 3, field, &p))
		return false;
	*ret = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
	return true;
}

static inline bool cursor_le32(struct cursor *c, const char *field,
			       uint32_t *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, 4, field, &p))
		return false;
	*ret = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
	return true;
}

/* Copies @n bytes into @ret. */
static inline bool cursor_mem(struct cursor *c, size_t n, const char *field,
			      void *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, n, field, &p))
		return false;
	if (n)
		memcpy(ret, p, n);
	return true;
}

static inline bool cursor_skip(struct cursor *c, size_t n, const char *field)
{
	const uint8_t *p;

	return cursor_take(c, n, field, &p);
}
