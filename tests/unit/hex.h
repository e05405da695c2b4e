/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/*
 * Test vectors are written as hex with optional spaces ("06 48") so they read
 * like the spec tables. Aborts the test on a malformed vector: that is a bug
 * in the test, not in the code under test.
 */
static inline size_t test_hex(const char *text, uint8_t *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = text; *p;) {
		int hi, lo;

		if (*p == ' ') {
			p++;
			continue;
		}
		hi = g_ascii_xdigit_value(p[0]);
		lo = p[1] ? g_ascii_xdigit_value(p[1]) : -1;
		g_assert_true(hi >= 0 && lo >= 0);
		g_assert_cmpuint(n, <, size);
		buf[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	return n;
}
