// SPDX-License-Identifier: MIT
#include "gateway/core/import.h"

#include <math.h>
#include <string.h>

#include "gateway/common/quote.h"
#include "gateway/core/clock.h"

struct import_kind_info {
	const char *name;
	enum import_kind kind;
	double min, max;
	bool integer;
	const char *expected;
};

/* Ranges wide enough for any real reading, narrow enough to catch a
 * column mix-up (a weight in the heart-rate column). */
static const struct import_kind_info kinds[] = {
	{ "rr_ms", IMPORT_RR_MS, 100, 5000, false, "100-5000 ms" },
	{ "hr_bpm", IMPORT_HR_BPM, 20, 300, false, "20-300 bpm" },
	{ "weight_kg", IMPORT_WEIGHT_KG, 1, 500, false, "1-500 kg" },
	{ "body_fat_pct", IMPORT_BODY_FAT_PCT, 0, 100, false, "0-100 %" },
	{ "bed", IMPORT_BED, 0, 1, true, "0 (empty) or 1 (occupied)" },
	{ "motion", IMPORT_MOTION, 0, 1, true, "0 (still) or 1 (moving)" },
	{ "temperature_c", IMPORT_TEMPERATURE_C, -60, 90, false, "-60-90 °C" },
	{ "humidity_pct", IMPORT_HUMIDITY_PCT, 0, 100, false, "0-100 %" },
	{ "checkin_mood", IMPORT_CHECKIN_MOOD, 1, 5, true, "a whole 1-5" },
	{ "checkin_soreness", IMPORT_CHECKIN_SORENESS, 1, 5, true,
	  "a whole 1-5" },
	{ "checkin_energy", IMPORT_CHECKIN_ENERGY, 1, 5, true, "a whole 1-5" },
};

/*
 * Rows that `recoveryctl export` writes for daily results: a bare date and
 * a derived key. Importing derives them again, so they are skipped.
 */
static bool is_result_row(const char *time, const char *kind)
{
	static const char *const derived[] = {
		"time_in_bed_min", "sleep_min",	     "sleep_efficiency_pct",
		"rmssd_ms",	   "ln_rmssd",	     "hrv_source",
		"sdnn_ms",	   "resting_hr_bpm", "weight_kg",
		"body_fat_pct",	   "score",	     "zone",
		"advice_state",
	};
	int32_t day;

	if (!clock_day_parse(time, &day))
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(derived); i++)
		if (g_str_equal(kind, derived[i]))
			return true;
	return false;
}

static const struct import_kind_info *find_kind(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (g_str_equal(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

bool import_user_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '-' &&
		    name[i] != '_')
			return false;
	return true;
}

/* Why @t_ms is no reading time at @now_ms, or NULL when it is one. */
static char *time_problem(const char *text, int64_t t_ms, int64_t now_ms)
{
	g_autofree char *quoted = NULL;
	g_autoptr(GDateTime) limit = NULL;
	g_autofree char *limit_text = NULL;

	if (clock_reading_time_valid(t_ms, now_ms))
		return NULL;
	quoted = quote_text(text, -1, QUOTE_PLAIN);
	if (t_ms < CLOCK_READING_MIN_MS)
		return g_strdup_printf("time %s is before 2000-01-01 (expected "
				       "a reading time from 2000-01-01 to a "
				       "day from now)",
				       quoted);
	limit = g_date_time_new_from_unix_utc(
	    (now_ms + CLOCK_READING_AHEAD_MS) / 1000);
	limit_text = limit ? g_date_time_format_iso8601(limit) : NULL;
	return g_strdup_printf("time %s is more than a day ahead of now "
			       "(expected a reading time from 2000-01-01 to "
			       "%s)",
			       quoted, limit_text ? limit_text : "a day ahead");
}

gboolean import_parse_row(const char *line, int64_t now_ms,
			  struct import_row *ret, char **ret_reason)
{
	g_auto(GStrv) fields = g_strsplit(line, ",", -1);
	g_autoptr(GDateTime) time = NULL;
	const struct import_kind_info *kind;
	struct import_row row = { 0 };
	g_autofree char *quoted = NULL;
	char *end = NULL;

	if (g_strv_length(fields) != 4) {
		*ret_reason =
		    g_strdup_printf("expected 4 fields "
				    "(time,user,kind,value), found %u",
				    g_strv_length(fields));
		return FALSE;
	}
	for (int i = 0; i < 4; i++)
		g_strstrip(fields[i]);

	if (is_result_row(fields[0], fields[2])) {
		*ret = (struct import_row){ .derived = true };
		return TRUE;
	}
	time = g_date_time_new_from_iso8601(fields[0], NULL);
	if (!time) {
		quoted = quote_text(fields[0], -1, QUOTE_PLAIN);
		*ret_reason =
		    g_strdup_printf("time %s is not ISO 8601 with an offset "
				    "(e.g. 2026-03-01T23:15:00+01:00)",
				    quoted);
		return FALSE;
	}
	row.t_ms = g_date_time_to_unix(time) * 1000 +
		   g_date_time_get_microsecond(time) / 1000;
	*ret_reason = time_problem(fields[0], row.t_ms, now_ms);
	if (*ret_reason)
		return FALSE;
	if (!import_user_name_valid(fields[1])) {
		quoted = quote_text(fields[1], -1, QUOTE_PLAIN);
		*ret_reason = g_strdup_printf("user %s is not a name of 1-32 "
					      "letters, digits, '-' or '_'",
					      quoted);
		return FALSE;
	}
	kind = find_kind(fields[2]);
	if (!kind) {
		quoted = quote_text(fields[2], -1, QUOTE_PLAIN);
		*ret_reason = g_strdup_printf(
		    "unknown kind %s (expected rr_ms, hr_bpm, weight_kg, "
		    "body_fat_pct, bed, motion, temperature_c, "
		    "humidity_pct, checkin_mood, checkin_soreness or "
		    "checkin_energy)",
		    quoted);
		return FALSE;
	}
	row.value = g_ascii_strtod(fields[3], &end);
	if (end == fields[3] || *end != '\0' || !isfinite(row.value) ||
	    row.value < kind->min || row.value > kind->max ||
	    (kind->integer && row.value != floor(row.value))) {
		quoted = quote_text(fields[3], -1, QUOTE_PLAIN);
		*ret_reason =
		    g_strdup_printf("%s value %s is not %s", kind->name, quoted,
				    kind->expected);
		return FALSE;
	}
	row.kind = kind->kind;
	g_strlcpy(row.user, fields[1], sizeof(row.user));
	*ret = row;
	return TRUE;
}

const char *import_kind_name(enum import_kind kind)
{
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return "?";
}

void import_rr_reader_init(struct import_rr_reader *r, int64_t start_ms,
			   int64_t now_ms)
{
	*r =
	    (struct import_rr_reader){ .start_ms = start_ms, .now_ms = now_ms };
}

/* Digits, optionally a '.' and more digits: no sign, exponent or hex. */
static bool is_decimal(const char *s)
{
	size_t i = 0, digits = 0;

	while (g_ascii_isdigit(s[i]))
		i++, digits++;
	if (s[i] == '.') {
		i++;
		while (g_ascii_isdigit(s[i]))
			i++, digits++;
	}
	return digits > 0 && s[i] == '\0';
}

/*
 * A header names the column ("RR", "RR-interval [ms]"): letters, and not
 * the start of a number, so that "800ms" is a mistake to report rather than
 * a header to skip.
 */
static bool is_header(const char *s)
{
	if (g_ascii_isdigit(s[0]) || s[0] == '+' || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (g_ascii_isalpha(*s))
			return true;
	return false;
}

int import_rr_read_line(struct import_rr_reader *r, const char *line,
			struct rr_sample *ret, char **ret_reason)
{
	const struct import_kind_info *kind = find_kind("rr_ms");
	g_autofree char *text = NULL;
	g_autofree char *quoted = NULL;
	bool first = !r->seen_content;
	double v, t;

	/* A byte order mark, as Windows tools write, only starts a file. */
	if (first && g_str_has_prefix(line, "\xef\xbb\xbf"))
		line += 3;
	text = g_strstrip(g_strdup(line));
	if (text[0] == '\0' || text[0] == '#')
		return 0;
	r->seen_content = true;

	if (!is_decimal(text)) {
		if (first && is_header(text))
			return 0;
		quoted = quote_text(text, -1, QUOTE_PLAIN);
		*ret_reason = g_strdup_printf(
		    "%s is not an RR interval (expected one number of "
		    "milliseconds a line, %s)",
		    quoted, kind->expected);
		return -1;
	}
	v = g_ascii_strtod(text, NULL);
	if (!(v >= kind->min && v <= kind->max)) {
		quoted = quote_text(text, -1, QUOTE_PLAIN);
		/* 0.3-3 is what a file in seconds holds. */
		*ret_reason = g_strdup_printf(
		    "RR interval %s is not %s%s", quoted, kind->expected,
		    v > 0.0 && v < 10.0 ? " (in seconds? the file must hold "
					  "milliseconds)"
					: "");
		return -1;
	}
	t = (double)r->start_ms + r->elapsed_ms + v;
	/*
	 * Only a start far outside any calendar gets here (9e15 ms is some
	 * 285,000 years), but the cast below must stay defined.
	 */
	if (!(t > -9.0e15 && t < 9.0e15)) {
		*ret_reason = g_strdup("the beats run past any time that can "
				       "be stored");
		return -1;
	}
	if (!clock_reading_time_valid((int64_t)llround(t), r->now_ms)) {
		*ret_reason = g_strdup_printf(
		    "the beat ending %.0f s after the start is %s (expected "
		    "reading times from 2000-01-01 to a day from now)",
		    (r->elapsed_ms + v) / 1000.0,
		    (int64_t)llround(t) < CLOCK_READING_MIN_MS
			? "before 2000-01-01"
			: "more than a day ahead of now");
		return -1;
	}
	r->elapsed_ms += v;
	ret->t_ms = (int64_t)llround(t);
	ret->rr_ms = v;
	return 1;
}
