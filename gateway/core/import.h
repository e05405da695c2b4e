/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "gateway/engine/metrics.h"

/*
 * The CSV reading format of `recoveryctl import` (and of `export --format
 * csv`): one reading a line, "time,user,kind,value", times in ISO 8601 with
 * an offset. Parsing only: what to do with a row is the caller's.
 */

enum import_kind {
	IMPORT_RR_MS,
	IMPORT_HR_BPM,
	IMPORT_WEIGHT_KG,
	IMPORT_BODY_FAT_PCT,
	IMPORT_BED,
	IMPORT_MOTION,
	IMPORT_TEMPERATURE_C,
	IMPORT_HUMIDITY_PCT,
	IMPORT_CHECKIN_MOOD,
	IMPORT_CHECKIN_SORENESS,
	IMPORT_CHECKIN_ENERGY,
};

#define IMPORT_USER_MAX 32

struct import_row {
	/*
	 * A daily result as export writes it (a bare date and a derived key
	 * such as score): nothing else is set, and importing skips it since
	 * analysis derives it again.
	 */
	bool derived;
	int64_t t_ms;
	char user[IMPORT_USER_MAX + 1];
	enum import_kind kind;
	double value; /* checked against the kind's range */
};

/*
 * Parses one data line (no line end) read at @now_ms (wall clock): a
 * reading's time must be within clock_reading_time_valid() of it. Returns
 * TRUE with @ret filled, or FALSE with @ret_reason set to a newly allocated
 * sentence saying what is wrong and what was expected; a value from the
 * line is quoted in it as quote_text() does (at most QUOTE_SHOWN bytes).
 */
gboolean import_parse_row(const char *line, int64_t now_ms,
			  struct import_row *ret, char **ret_reason);

/* The kind's name in the CSV ("rr_ms", ...). */
const char *import_kind_name(enum import_kind kind);

/* True for a name of 1-32 letters, digits, '-' or '_'. */
bool import_user_name_valid(const char *name);

/*
 * The plain RR format of `recoveryctl import --user NAME --start TIME`:
 * one RR interval in milliseconds a line, as Elite HRV and Polar Sensor
 * Logger export them. The first line that holds anything may be a header
 * (letters, not starting like a number: "RR", "RR-interval [ms]");
 * blank lines and '#' comments are skipped; Windows line ends and a UTF-8
 * byte order mark are fine. A value is a whole number, or one with a
 * decimal fraction, within the rr_ms range of the CSV (100-5000). The file
 * has no times: beat k ends at the start plus intervals 0..k.
 */

struct import_rr_reader {
	int64_t start_ms;
	int64_t now_ms;	   /* when the file is read: beats after it are bad */
	double elapsed_ms; /* the intervals read so far */
	bool seen_content; /* a header may only come first */
};

/* Starts reading a file whose recording began at @start_ms, read at
 * @now_ms (wall clock). */
void import_rr_reader_init(struct import_rr_reader *r, int64_t start_ms,
			   int64_t now_ms);

/*
 * Reads one line (without its line end). Returns 1 with @ret the beat (its
 * stamp the start plus every interval so far, this one included), 0 for a
 * line with no value (blank, comment, header), or -1 with @ret_reason set
 * to a newly allocated sentence quoting the value (quote_text(): at most
 * QUOTE_SHOWN bytes of it, control characters and invalid UTF-8 as '?',
 * with its length when cut) and saying what was expected. A beat whose time
 * is not clock_reading_time_valid() is a bad line too. A bad line does not
 * advance the time.
 */
int import_rr_read_line(struct import_rr_reader *r, const char *line,
			struct rr_sample *ret, char **ret_reason);
