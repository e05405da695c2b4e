/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

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
 * Parses one data line (no line end). Returns TRUE with @ret filled, or
 * FALSE with @ret_reason set to a newly allocated sentence saying what is
 * wrong and what was expected.
 */
gboolean import_parse_row(const char *line, struct import_row *ret,
			  char **ret_reason);

/* The kind's name in the CSV ("rr_ms", ...). */
const char *import_kind_name(enum import_kind kind);

/* True for a name of 1-32 letters, digits, '-' or '_'. */
bool import_user_name_valid(const char *name);
