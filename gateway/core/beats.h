/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A minute of raw beats packed in one value (DESIGN §11): the store keeps
 * a person's RR intervals, and their heart rates, one row a minute instead
 * of one row a reading, because a row costs SQLite about as much CPU as
 * the whole BLE path of a notification.
 *
 * A packed minute is an array of BEATS_ENTRY_SIZE-byte entries, sorted by
 * strictly increasing offset:
 *
 *   offset  0  uint16 LE  ms into the minute, 0-59999
 *   offset  2  float64 LE the value as it was stored (IEEE 754 bits, so a
 *                        reading reads back to its last digit)
 *
 * The bytes come from the database file, i.e. from outside: every reader
 * here takes any bytes and never reads out of them; what is not a valid
 * entry is reported, never guessed at. Pure: no I/O, no globals.
 */

#define BEATS_ENTRY_SIZE 10
#define BEATS_MINUTE_MS	 60000
/* The instants a minute index can stand for without overflow: t_ms within
 * +-2^62 (some 146 million years either side of 1970). */
#define BEATS_T_MS_LIMIT (INT64_C(1) << 62)

struct beat {
	uint16_t offset_ms; /* into its minute, 0-59999 */
	double value;
};

/* The minute @t_ms falls in (floor division, so before 1970 too) and its
 * offset in it. @t_ms must be within +-BEATS_T_MS_LIMIT. */
void beats_split(int64_t t_ms, int64_t *ret_minute, uint16_t *ret_offset_ms);

/* The instant of @offset_ms into @minute. */
int64_t beats_join(int64_t minute, uint16_t offset_ms);

/* Writes @b as an entry at @dst (BEATS_ENTRY_SIZE bytes). */
void beats_put(uint8_t *dst, const struct beat *b);

/*
 * Checks a packed minute: 0 when @size is a whole number of entries whose
 * offsets are in 0-59999 and strictly increasing; -EBADMSG otherwise, with
 * *@ret_bad the first entry that is not (its index; the count of whole
 * entries when only a partial entry trails).
 */
int beats_check(const uint8_t *blob, size_t size, size_t *ret_bad);

/*
 * Entry @index of @blob (@size bytes) into @ret: 0, or -EBADMSG when there
 * is no whole entry there or its offset is over 59999. Order is not checked
 * here (beats_check does).
 */
int beats_get(const uint8_t *blob, size_t size, size_t index, struct beat *ret);

/* Whether @blob, a valid packed minute, holds an entry at @offset_ms. */
bool beats_has(const uint8_t *blob, size_t size, uint16_t offset_ms);

/*
 * Merges packed minute @add into packed minute @old, writing the result to
 * @out (room for @old_size + @add_size bytes; not overlapping either):
 * every entry of @old, and each entry of @add whose offset @old does not
 * have, so a beat stored once stays as it was stored (the natural key's
 * dedup: the first value stored at an instant wins). Returns the bytes
 * written, or -EBADMSG when either is not a valid packed minute (then
 * nothing is written: the caller decides what to keep).
 */
long beats_merge(const uint8_t *old, size_t old_size, const uint8_t *add,
		 size_t add_size, uint8_t *out);

/*
 * Sorts the @n entries at @blob by offset and drops repeats, keeping of
 * each offset the entry that came first in @blob (a stable sort), in
 * place. Returns the entries left, -EBADMSG when an offset is over 59999,
 * -ENOMEM.
 */
long beats_pack(uint8_t *blob, size_t n);
