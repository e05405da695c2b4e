// SPDX-License-Identifier: MIT
/*
 * Packed minutes as a damaged database file could hold them (beats.h):
 * the input split at its middle is a stored minute and a new one. Checked,
 * read entry by entry, merged and packed, never read or written out of
 * bounds; what beats_check accepts is sorted and within its minute, a
 * merge of two valid minutes is valid and holds every instant of both.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/core/beats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const uint8_t *blob, size_t size)
{
	size_t bad = 0;
	bool valid = beats_check(blob, size, &bad) == 0;
	int last = -1;

	for (size_t i = 0; i < size / BEATS_ENTRY_SIZE + 1; i++) {
		struct beat b;

		if (beats_get(blob, size, i, &b) < 0) {
			assert(!valid || i == size / BEATS_ENTRY_SIZE);
			continue;
		}
		assert(b.offset_ms < BEATS_MINUTE_MS);
		if (valid) {
			assert((int)b.offset_ms > last);
			assert(beats_has(blob, size, b.offset_ms));
			last = b.offset_ms;
		}
	}
	if (!valid)
		assert(bad <= size / BEATS_ENTRY_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t half = size / 2, bad;
	uint8_t *out = malloc(size + 1);
	uint8_t *copy = malloc(size + 1);
	long n;

	if (!out || !copy) {
		free(out);
		free(copy);
		return 0;
	}
	read_all(data, half);
	read_all(data + half, size - half);

	n = beats_merge(data, half, data + half, size - half, out);
	if (n >= 0) {
		assert(beats_check(out, (size_t)n, &bad) == 0);
		assert((size_t)n <= size);
		for (size_t i = 0; i < half / BEATS_ENTRY_SIZE; i++) {
			struct beat b;

			assert(beats_get(data, half, i, &b) == 0);
			assert(beats_has(out, (size_t)n, b.offset_ms));
		}
	}

	memcpy(copy, data, size);
	n = beats_pack(copy, size / BEATS_ENTRY_SIZE);
	if (n >= 0)
		assert(beats_check(copy, (size_t)n * BEATS_ENTRY_SIZE, &bad) ==
		       0);
	free(out);
	free(copy);
	return 0;
}
