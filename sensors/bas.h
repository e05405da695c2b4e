/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"

/*
 * Parses a Battery Level (0x2A19): one u8, percent. Returns 0 and sets @ret
 * (0-100), -EINVAL for the reserved values 101-255, or -EBADMSG when empty;
 * @ret is untouched on failure and @ret_err (may be NULL) says why.
 */
int bas_parse_level(const uint8_t *data, size_t len, uint8_t *ret,
		    struct parse_error *ret_err);
