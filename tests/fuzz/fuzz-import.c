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

#include "gateway/common/quote.h"
#include "gateway/core/clock.h"
#include "gateway/core/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The quoted value (64 bytes, '...', its length) and the sentence (the
 * longest lists every kind). */
#define REASON_MAX 400
/* 2026-03-02T07:05:00+01:00, and the import a month later. */
#define START_MS INT64_C(1772431500000)
#define NOW_MS	 (START_MS + 30 * INT64_C(86400000))

static void csv_line(const char *line)
{
	g_autofree char *reason = NULL;
	struct import_row row;

	if (import_parse_row(line, NOW_MS, &row, &reason)) {
		assert(!reason);
		if (!row.derived) {
			assert(clock_reading_time_valid(row.t_ms, NOW_MS));
			assert(import_user_name_valid(row.user));
			assert(isfinite(row.value));
			assert(strcmp(import_kind_name(row.kind), "?") != 0);
		}
	} else {
		assert(reason && *reason);
		assert(strlen(reason) < REASON_MAX);
	}
}

static void rr_file(const char *text)
{
	const int64_t start_ms = START_MS;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	struct import_rr_reader reader;
	int64_t last_ms = start_ms;
	double sum_ms = 0;

	import_rr_reader_init(&reader, start_ms, NOW_MS);
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
		assert(clock_reading_time_valid(beat.t_ms, NOW_MS));
		assert(llabs(beat.t_ms - (start_ms + llround(sum_ms))) <= 1);
		last_ms = beat.t_ms;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_autofree char *quoted = quote_text(text, -1, QUOTE_PLAIN);
	g_autofree char *escaped =
	    quote_text((const char *)data, (gssize)size, QUOTE_ESCAPED);

	assert(strlen(quoted) <= QUOTE_SHOWN + 2 + 32);
	/* Escaped, a byte may take four ("\x01"). */
	assert(strlen(escaped) <= 4 * QUOTE_SHOWN + 2 + 32);
	assert(g_utf8_validate(quoted, -1, NULL) &&
	       g_utf8_validate(escaped, -1, NULL));
	csv_line(text);
	rr_file(text);
	return 0;
}
