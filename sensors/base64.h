/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Base64 (RFC 4648 §4, the standard alphabet with '=' padding) as a Shelly
 * script's btoa() writes an advertisement's bytes (reference/antennas.md
 * §1.4). Pure: no allocation.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the @len characters at @text into @buf. Padding is optional (a
 * group of 2 or 3 characters at the end is the last one), and nothing but
 * padding may follow it. Returns 0 with @ret_len set; -EINVAL for a
 * character outside the alphabet, padding in the middle, a lone character
 * at the end, or bits set past the last byte (@ret_bad_offset, may be NULL,
 * says where); -E2BIG when the bytes would not fit @size. @buf holds a
 * prefix of them on error.
 */
int base64_decode(const char *text, size_t len, uint8_t *buf, size_t size,
		  size_t *ret_len, size_t *ret_bad_offset);
