// SPDX-License-Identifier: MIT
/*
 * Import input from outside, read two ways: as one CSV line (parsed or
 * refused with a reason, never a crash, a parsed row always within its
 * kind's range), and as a plain RR file split at '\n' (each line a beat, a
 * line without a value, or a reason of bounded length; beats in range and
 * stamped at the start plus every interval so far, so always later than
 * the one before).
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "gateway/core/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The quoted value (64 bytes, '...', its length) and the sentence. */
#define REASON_MAX 300

static void csv_line(const char *line)
{
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
}

static void rr_file(const char *text)
{
	/* 2026-03-02T07:05:00+01:00 */
	const int64_t start_ms = INT64_C(1772431500000);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	struct import_rr_reader reader;
	int64_t last_ms = start_ms;
	double sum_ms = 0;

	import_rr_reader_init(&reader, start_ms);
	for (size_t i = 0; lines[i]; i++) {
		g_autofree char *reason = NULL;
		struct rr_sample beat;
		int r = import_rr_read_line(&reader, lines[i], &beat, &reason);

		assert(r >= -1 && r <= 1);
		if (r < 0) {
			assert(reason && *reason);
			assert(strlen(reason) < REASON_MAX);
			continue;
		}
		assert(!reason);
		if (r == 0)
			continue;
		assert(beat.rr_ms >= 100 && beat.rr_ms <= 5000);
		sum_ms += beat.rr_ms;
		assert(beat.t_ms > last_ms);
		assert(llabs(beat.t_ms - (start_ms + llround(sum_ms))) <= 1);
		last_ms = beat.t_ms;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_autofree char *quoted = import_quote_value(text);

	assert(strlen(quoted) <= IMPORT_VALUE_SHOWN + 2 + 32);
	csv_line(text);
	rr_file(text);
	return 0;
}
