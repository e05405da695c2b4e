// SPDX-License-Identifier: MIT
/*
 * recoveryctl import: readings from a CSV file into the store, then the
 * analysis of every night the import touched.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "analyze.h"
#include "clock.h"
#include "ctl.h"
#include "store.h"

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
		"time_in_bed_min", "sleep_min", "sleep_efficiency_pct",
		"rmssd_ms",	   "ln_rmssd",	"sdnn_ms",
		"resting_hr_bpm",  "weight_kg", "body_fat_pct",
		"score",	   "zone",	"advice_state",
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

/* Per person: the span of days the import touched. */
struct touched {
	int64_t user_id;
	int32_t first_day;
	int32_t last_day;
};

struct import_ctx {
	store *s;
	const clock_zone *zone;
	GHashTable *users; /* name -> struct touched */
	unsigned rows;
	unsigned skipped; /* derived rows of an export */
	unsigned rejected;
};

static bool valid_user_name(const char *name)
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

static gboolean store_row(store *s, int64_t user, enum import_kind kind,
			  int64_t t_ms, double v, GError **error)
{
	switch (kind) {
	case IMPORT_RR_MS:
		return store_add_rr(s, user, t_ms, v, error);
	case IMPORT_HR_BPM:
		return store_add_hr(s, user, t_ms, v, error);
	case IMPORT_WEIGHT_KG:
		return store_add_body(s, user, t_ms, v, METRIC_NONE,
				      METRIC_NONE, error);
	case IMPORT_BODY_FAT_PCT:
		return store_add_body(s, user, t_ms, METRIC_NONE, v,
				      METRIC_NONE, error);
	case IMPORT_BED:
		return store_add_state(s, user, STORE_STATE_BED, t_ms, v > 0.5,
				       error);
	case IMPORT_MOTION:
		return store_add_state(s, user, STORE_STATE_MOTION, t_ms,
				       v > 0.5, error);
	case IMPORT_TEMPERATURE_C:
		return store_add_env(s, user, STORE_ENV_TEMPERATURE_C, t_ms, v,
				     error);
	case IMPORT_HUMIDITY_PCT:
		return store_add_env(s, user, STORE_ENV_HUMIDITY_PCT, t_ms, v,
				     error);
	case IMPORT_CHECKIN_MOOD:
		return store_add_checkin(s, user, t_ms, v, METRIC_NONE,
					 METRIC_NONE, error);
	case IMPORT_CHECKIN_SORENESS:
		return store_add_checkin(s, user, t_ms, METRIC_NONE, v,
					 METRIC_NONE, error);
	case IMPORT_CHECKIN_ENERGY:
		return store_add_checkin(s, user, t_ms, METRIC_NONE,
					 METRIC_NONE, v, error);
	default:
		g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
			    "unknown kind %d", (int)kind);
		return FALSE;
	}
}

/*
 * One data line. Returns TRUE when stored; FALSE with @reason set for a
 * rejected row, or with @error set when the store itself failed.
 */
static gboolean import_line(struct import_ctx *ctx, char *line, char **reason,
			    GError **error)
{
	g_auto(GStrv) fields = g_strsplit(line, ",", -1);
	g_autoptr(GDateTime) time = NULL;
	const struct import_kind_info *kind;
	struct touched *t;
	double value;
	char *end = NULL;
	int64_t t_ms;
	int32_t day;

	if (g_strv_length(fields) != 4) {
		*reason = g_strdup_printf("expected 4 fields "
					  "(time,user,kind,value), found %u",
					  g_strv_length(fields));
		return FALSE;
	}
	for (int i = 0; i < 4; i++)
		g_strstrip(fields[i]);

	if (is_result_row(fields[0], fields[2])) {
		ctx->skipped++;
		return TRUE;
	}
	time = g_date_time_new_from_iso8601(fields[0], NULL);
	if (!time) {
		*reason =
		    g_strdup_printf("time '%s' is not ISO 8601 with an offset "
				    "(e.g. 2026-03-01T23:15:00+01:00)",
				    fields[0]);
		return FALSE;
	}
	if (!valid_user_name(fields[1])) {
		*reason = g_strdup_printf("user '%s' is not a name of 1-32 "
					  "letters, digits, '-' or '_'",
					  fields[1]);
		return FALSE;
	}
	kind = find_kind(fields[2]);
	if (!kind) {
		*reason = g_strdup_printf(
		    "unknown kind '%s' (expected rr_ms, hr_bpm, weight_kg, "
		    "body_fat_pct, bed, motion, temperature_c, "
		    "humidity_pct, checkin_mood, checkin_soreness or "
		    "checkin_energy)",
		    fields[2]);
		return FALSE;
	}
	value = g_ascii_strtod(fields[3], &end);
	if (end == fields[3] || *end != '\0' || !isfinite(value) ||
	    value < kind->min || value > kind->max ||
	    (kind->integer && value != floor(value))) {
		*reason = g_strdup_printf("%s value '%s' is not %s", kind->name,
					  fields[3], kind->expected);
		return FALSE;
	}

	t = g_hash_table_lookup(ctx->users, fields[1]);
	if (!t) {
		int64_t id;

		if (!store_user_id(ctx->s, fields[1], &id, error))
			return FALSE;
		t = g_new0(struct touched, 1);
		t->user_id = id;
		t->first_day = INT32_MAX;
		t->last_day = INT32_MIN;
		g_hash_table_insert(ctx->users, g_strdup(fields[1]), t);
	}
	t_ms = g_date_time_to_unix(time) * 1000 +
	       g_date_time_get_microsecond(time) / 1000;
	if (!store_row(ctx->s, t->user_id, kind->kind, t_ms, value, error))
		return FALSE;
	ctx->rows++;

	/* An evening reading belongs to the next morning's night. */
	day = clock_day_of(ctx->zone, t_ms);
	t->first_day = MIN(t->first_day, day);
	t->last_day = MAX(t->last_day, day + 1);
	return TRUE;
}

static const char import_usage[] =
    "usage: recoveryctl import --db PATH [--timezone ZONE] FILE.csv\n";

int ctl_import(int argc, char **argv)
{
	g_autofree char *db = NULL;
	g_autofree char *tz = NULL;
	g_auto(GStrv) files = NULL;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
		  "the database (created if missing)", "PATH" },
		{ "timezone", 0, 0, G_OPTION_ARG_STRING, &tz,
		  "time zone the nights are local to (default: the system's)",
		  "ZONE" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
		  NULL, "FILE.csv" },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GOptionContext) options = g_option_context_new("FILE.csv");
	g_autoptr(GError) error = NULL;
	g_autoptr(store) s = NULL;
	g_autoptr(clock_zone) zone = NULL;
	g_autoptr(GHashTable) users = NULL;
	g_autoptr(GIOChannel) in = NULL;
	struct import_ctx ctx = { 0 };
	unsigned line_no = 0, nights = 0;
	GHashTableIter iter;
	gpointer key, value;

	g_option_context_set_summary(
	    options,
	    "Imports readings from a CSV file of time,user,kind,value rows\n"
	    "(times in ISO 8601 with an offset) and analyses the nights\n"
	    "they touch. Bad rows are reported with their line number and\n"
	    "skipped; the good rows are still imported.");
	g_option_context_add_main_entries(options, entries, NULL);
	if (!g_option_context_parse(options, &argc, &argv, &error))
		return ctl_usage_error("import", import_usage, "%s",
				       error->message);
	if (!db)
		return ctl_usage_error("import", import_usage,
				       "--db PATH is required");
	if (!files || g_strv_length(files) != 1)
		return ctl_usage_error("import", import_usage,
				       "needs exactly one FILE.csv");

	zone = clock_zone_new(tz, &error);
	if (!zone)
		return ctl_usage_error("import", import_usage, "%s",
				       error->message);
	in = g_io_channel_new_file(files[0], "r", &error);
	if (!in) {
		fprintf(stderr, "recoveryctl import: %s\n", error->message);
		return CTL_EXIT_FAILED;
	}
	/* Bytes as they are: a bad line is one rejected row, not the end. */
	g_io_channel_set_encoding(in, NULL, NULL);
	s = store_open(db, NULL, &error);
	if (!s) {
		fprintf(stderr, "recoveryctl import: %s: %s\n", db,
			error->message);
		return CTL_EXIT_FAILED;
	}

	users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	ctx = (struct import_ctx){ .s = s, .zone = zone, .users = users };
	for (;;) {
		g_autofree char *line = NULL;
		g_autofree char *reason = NULL;
		GIOStatus status;
		gsize term = 0;

		status = g_io_channel_read_line(in, &line, NULL, &term, &error);
		if (status == G_IO_STATUS_EOF)
			break;
		if (status != G_IO_STATUS_NORMAL) {
			fprintf(stderr, "recoveryctl import: %s:%u: %s\n",
				files[0], line_no + 1,
				error ? error->message : "read error");
			return CTL_EXIT_FAILED;
		}
		line_no++;
		line[term] = '\0';
		if (!g_utf8_validate(line, -1, NULL)) {
			fprintf(stderr, "%s:%u: not UTF-8 text\n", files[0],
				line_no);
			ctx.rejected++;
			continue;
		}
		g_strstrip(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line_no == 1 && g_str_equal(line, "time,user,kind,value"))
			continue;
		if (import_line(&ctx, line, &reason, &error))
			continue;
		if (error) {
			fprintf(stderr, "recoveryctl import: %s: %s\n", db,
				error->message);
			return CTL_EXIT_FAILED;
		}
		fprintf(stderr, "%s:%u: %s\n", files[0], line_no, reason);
		ctx.rejected++;
	}
	if (!store_flush(s, &error)) {
		fprintf(stderr, "recoveryctl import: %s: %s\n", db,
			error->message);
		return CTL_EXIT_FAILED;
	}

	g_hash_table_iter_init(&iter, users);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const struct touched *t = value;
		struct analyze_person person;

		analyze_person_defaults(&person, t->user_id);
		for (int32_t day = t->first_day; day <= t->last_day; day++) {
			if (!analyze_night(s, zone, &person, day, NULL, &error))
				break;
			nights++;
		}
		if (!error && !analyze_results(
				  s, &person, t->first_day, t->last_day,
				  g_get_real_time() / 1000, NULL, NULL, &error))
			break;
		if (error)
			break;
	}
	if (error) {
		fprintf(stderr, "recoveryctl import: analysis: %s\n",
			error->message);
		return CTL_EXIT_FAILED;
	}

	printf("imported %u rows for %u %s, analysed %u nights", ctx.rows,
	       g_hash_table_size(users),
	       g_hash_table_size(users) == 1 ? "person" : "people", nights);
	if (ctx.skipped)
		printf("; skipped %u derived rows", ctx.skipped);
	if (ctx.rejected)
		printf("; %u rows rejected", ctx.rejected);
	printf("\n");
	return ctx.rejected ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}
