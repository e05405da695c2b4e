// SPDX-License-Identifier: MIT
#include "sensors/parse-error.h"

#include <errno.h>
#include <stdio.h>

int parse_fault_errno(enum parse_fault fault)
{
	switch (fault) {
	case PARSE_FAULT_NONE:
		return 0;
	case PARSE_FAULT_TRUNCATED:
		return -EBADMSG;
	case PARSE_FAULT_OUT_OF_RANGE:
		return -EINVAL;
	case PARSE_FAULT_RESERVED:
		return -ENOTSUP;
	case PARSE_FAULT_TOO_MANY:
		return -E2BIG;
	case PARSE_FAULT_ENCRYPTED:
		return -ENOKEY;
	case PARSE_FAULT_MALFORMED:
		return -EBADMSG;
	default:
		return -EINVAL;
	}
}

int parse_error_format(const struct parse_error *err, char *buf, size_t size)
{
	const char *field = err->field ? err->field : "payload";
	const char *expected = err->expected ? err->expected : "?";

	switch (err->fault) {
	case PARSE_FAULT_NONE:
		return snprintf(buf, size, "no error");
	case PARSE_FAULT_TRUNCATED:
		return snprintf(buf, size,
				"truncated at offset %zu reading %s "
				"(%zu bytes needed, %zu left)",
				err->offset, field, err->need, err->left);
	case PARSE_FAULT_OUT_OF_RANGE:
		return snprintf(buf, size,
				"%s %u at offset %zu is out of range "
				"(expected %s)",
				field, (unsigned)err->value, err->offset,
				expected);
	case PARSE_FAULT_RESERVED:
		return snprintf(buf, size,
				"%s 0x%02x at offset %zu is reserved or "
				"unsupported (expected %s)",
				field, (unsigned)err->value, err->offset,
				expected);
	case PARSE_FAULT_TOO_MANY:
		return snprintf(buf, size,
				"too many %s at offset %zu (at most %s)", field,
				err->offset, expected);
	case PARSE_FAULT_ENCRYPTED:
		return snprintf(buf, size,
				"%s encrypted from offset %zu on (key needed)",
				field, err->offset);
	case PARSE_FAULT_MALFORMED:
		return snprintf(buf, size,
				"%s 0x%02x at offset %zu does not match "
				"(expected %s)",
				field, (unsigned)err->value, err->offset,
				expected);
	default:
		return snprintf(buf, size, "unknown parse fault %d",
				(int)err->fault);
	}
}
