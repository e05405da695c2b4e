// SPDX-License-Identifier: MIT
#include "sensors/bas.h"

#include "sensors/cursor.h"

/* GSS 3.27 Battery Level: u8, 0-100 %, 101-255 reserved for future use */
int bas_parse_level(const uint8_t *data, size_t len, uint8_t *ret,
		    struct parse_error *ret_err)
{
	struct cursor c;
	uint8_t level;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "battery level", &level))
		return cursor_truncated();
	if (level > 100)
		return cursor_fail(&c, PARSE_FAULT_OUT_OF_RANGE,
				   "battery level", 0, level,
				   "0-100 %; 101-255 are reserved");
	*ret = level;
	return 0;
}
