// SPDX-License-Identifier: MIT
/*
 * A CSV import line from outside: parsed or refused with a reason, never a
 * crash, and a parsed row is always within its kind's range.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/core/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *line = g_strndup((const char *)data, size);
	g_autofree char *reason = NULL;
	struct import_row row;

	if (import_parse_row(line, &row, &reason)) {
		assert(!reason);
		if (!row.derived) {
			assert(import_user_name_valid(row.user));
			assert(isfinite(row.value));
			assert(strcmp(import_kind_name(row.kind), "?") != 0);
		}
	} else {
		assert(reason && *reason);
	}
	return 0;
}
