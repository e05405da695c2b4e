// SPDX-License-Identifier: MIT
#include "sensors/base64.h"

#include <errno.h>

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *text, size_t len, uint8_t *buf, size_t size,
		  size_t *ret_len, size_t *ret_bad_offset)
{
	uint32_t acc = 0;
	size_t n = 0, i, group = 0, pad_at = len;

	for (i = 0; i < len; i++) {
		int v;

		if (text[i] == '=') {
			pad_at = i;
			break;
		}
		v = sextet(text[i]);
		if (v < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++group < 4)
			continue;
		if (size - n < 3 || n > size)
			return -E2BIG;
		buf[n++] = (uint8_t)(acc >> 16);
		buf[n++] = (uint8_t)(acc >> 8);
		buf[n++] = (uint8_t)acc;
		acc = 0;
		group = 0;
	}
	/* Padding fills the last group up to four characters, and ends it. */
	for (i = pad_at; i < len; i++) {
		if (text[i] != '=' || group == 0 || group == 1 ||
		    (i - pad_at) + group >= 4)
			goto bad;
	}
	if (group == 1) {
		i = len - 1;
		goto bad;
	}
	if (group == 2) {
		/* 12 bits: one byte and 4 bits that must be zero. */
		if (acc & 0xF) {
			i = pad_at - 1;
			goto bad;
		}
		if (n >= size)
			return -E2BIG;
		buf[n++] = (uint8_t)(acc >> 4);
	} else if (group == 3) {
		/* 18 bits: two bytes and 2 bits that must be zero. */
		if (acc & 0x3) {
			i = pad_at - 1;
			goto bad;
		}
		if (size - n < 2 || n > size)
			return -E2BIG;
		buf[n++] = (uint8_t)(acc >> 10);
		buf[n++] = (uint8_t)(acc >> 2);
	}
	*ret_len = n;
	return 0;
bad:
	if (ret_bad_offset)
		*ret_bad_offset = i;
	return -EINVAL;
}
