// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/core/beats.h"

void beats_split(int64_t t_ms, int64_t *ret_minute, uint16_t *ret_offset_ms)
{
	int64_t minute = t_ms / BEATS_MINUTE_MS;
	int64_t rest = t_ms % BEATS_MINUTE_MS;

	/* C division truncates toward zero: before 1970 the minute is one
	 * lower and the offset counted from its start. */
	if (rest < 0) {
		minute--;
		rest += BEATS_MINUTE_MS;
	}
	*ret_minute = minute;
	*ret_offset_ms = (uint16_t)rest;
}

int64_t beats_join(int64_t minute, uint16_t offset_ms)
{
	return minute * BEATS_MINUTE_MS + offset_ms;
}

void beats_put(uint8_t *dst, const struct beat *b)
{
	uint64_t bits;

	memcpy(&bits, &b->value, sizeof(bits));
	dst[0] = (uint8_t)(b->offset_ms & 0xff);
	dst[1] = (uint8_t)(b->offset_ms >> 8);
	for (int i = 0; i < 8; i++)
		dst[2 + i] = (uint8_t)(bits >> (8 * i));
}

/* Entry @index, which the caller knows to be whole. */
static void get_entry(const uint8_t *blob, size_t index, struct beat *ret)
{
	const uint8_t *p = blob + index * BEATS_ENTRY_SIZE;
	uint64_t bits = 0;

	for (int i = 7; i >= 0; i--)
		bits = (bits << 8) | p[2 + i];
	ret->offset_ms = (uint16_t)(p[0] | (p[1] << 8));
	memcpy(&ret->value, &bits, sizeof(ret->value));
}

int beats_get(const uint8_t *blob, size_t size, size_t index, struct beat *ret)
{
	if (index >= size / BEATS_ENTRY_SIZE)
		return -EBADMSG;
	get_entry(blob, index, ret);
	return ret->offset_ms < BEATS_MINUTE_MS ? 0 : -EBADMSG;
}

int beats_check(const uint8_t *blob, size_t size, size_t *ret_bad)
{
	size_t n = size / BEATS_ENTRY_SIZE;
	int last = -1;

	for (size_t i = 0; i < n; i++) {
		struct beat b;

		get_entry(blob, i, &b);
		if (b.offset_ms >= BEATS_MINUTE_MS || b.offset_ms <= last) {
			*ret_bad = i;
			return -EBADMSG;
		}
		last = b.offset_ms;
	}
	if (size % BEATS_ENTRY_SIZE != 0) {
		*ret_bad = n;
		return -EBADMSG;
	}
	return 0;
}

bool beats_has(const uint8_t *blob, size_t size, uint16_t offset_ms)
{
	size_t lo = 0, hi = size / BEATS_ENTRY_SIZE;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct beat b;

		get_entry(blob, mid, &b);
		if (b.offset_ms == offset_ms)
			return true;
		if (b.offset_ms < offset_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

long beats_merge(const uint8_t *old, size_t old_size, const uint8_t *add,
		 size_t add_size, uint8_t *out)
{
	size_t n_old = old_size / BEATS_ENTRY_SIZE;
	size_t n_add = add_size / BEATS_ENTRY_SIZE;
	size_t i = 0, j = 0, n = 0, bad;

	if (beats_check(old, old_size, &bad) < 0 ||
	    beats_check(add, add_size, &bad) < 0)
		return -EBADMSG;
	/* Both sorted: one pass, as a merge of two sorted runs. */
	while (i < n_old || j < n_add) {
		struct beat a, b;
		const uint8_t *src;

		if (i < n_old)
			get_entry(old, i, &a);
		if (j < n_add)
			get_entry(add, j, &b);
		if (j >= n_add || (i < n_old && a.offset_ms <= b.offset_ms)) {
			if (j < n_add && a.offset_ms == b.offset_ms)
				j++; /* the stored one stays */
			src = old + i++ * BEATS_ENTRY_SIZE;
		} else {
			src = add + j++ * BEATS_ENTRY_SIZE;
		}
		memcpy(out + n++ * BEATS_ENTRY_SIZE, src, BEATS_ENTRY_SIZE);
	}
	return (long)(n * BEATS_ENTRY_SIZE);
}

struct ordered_beat {
	struct beat b;
	size_t arrival;
};

static int compare_beats(const void *a, const void *b)
{
	const struct ordered_beat *x = a, *y = b;

	if (x->b.offset_ms != y->b.offset_ms)
		return x->b.offset_ms < y->b.offset_ms ? -1 : 1;
	return x->arrival < y->arrival ? -1 : x->arrival > y->arrival;
}

long beats_pack(uint8_t *blob, size_t n)
{
	struct ordered_beat *order;
	size_t kept = 0;
	bool sorted = true;
	int last = -1;

	for (size_t i = 0; i < n; i++) {
		struct beat b;

		get_entry(blob, i, &b);
		if (b.offset_ms >= BEATS_MINUTE_MS)
			return -EBADMSG;
		if (b.offset_ms <= last)
			sorted = false;
		last = b.offset_ms;
	}
	if (sorted)
		return (long)n; /* the usual case: readings come in order */

	/* qsort is not stable: the arrival index keeps the first of
	 * equal offsets first. */
	order = malloc(n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		get_entry(blob, i, &order[i].b);
		order[i].arrival = i;
	}
	qsort(order, n, sizeof(*order), compare_beats);
	for (size_t i = 0; i < n; i++) {
		if (kept > 0 &&
		    order[i].b.offset_ms == order[kept - 1].b.offset_ms)
			continue;
		order[kept++] = order[i];
	}
	for (size_t i = 0; i < kept; i++)
		beats_put(blob + i * BEATS_ENTRY_SIZE, &order[i].b);
	free(order);
	return (long)kept;
}
