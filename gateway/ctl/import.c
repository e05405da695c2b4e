// SPDX-License-Identifier: MIT
/*
 * recoveryctl import: readings from a CSV file, or one person's RR
 * intervals from a plain RR file, into the store, then the analysis of
 * every night the import touched.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "gateway/common/quote.h"
#include "gateway/core/analyze.h"
#include "gateway/core/clock.h"
#include "gateway/ctl/ctl.h"
#include "gateway/core/import.h"
#include "gateway/core/store.h"

/* Per person: the days whose nights the import touched. Only these are
 * analysed: two readings years apart are two nights, not every night in
 * between. */
struct touched {
	int64_t user_id;
	GHashTable *days; /* GINT_TO_POINTER(day) (days since 2000 are > 0) */
};

static void touched_free(void *data)
{
	struct touched *t = data;

	g_hash_table_unref(t->days);
	g_free(t);
}

struct import_ctx {
	store *s;
	const char *db;
	const clock_zone *zone;
	int64_t now_ms; /* when the import began: readings after it are bad */
	GHashTable *users; /* name -> struct touched */
	unsigned rows;
	unsigned skipped; /* derived rows of an export */
	unsigned rejected;
};

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
 * Files one reading, whatever file it came from: the person's id on first
 * sight, the row, the span of days touched. FALSE with @error set when the
 * store failed.
 */
static gboolean file_row(struct import_ctx *ctx, const struct import_row *row,
			 GError **error)
{
	struct touched *t;
	struct store_health health;
	int32_t day;

	t = g_hash_table_lookup(ctx->users, row->user);
	if (!t) {
		int64_t id;

		if (!store_user_id(ctx->s, row->user, &id, error))
			return FALSE;
		t = g_new0(struct touched, 1);
		t->user_id = id;
		t->days = g_hash_table_new(g_direct_hash, g_direct_equal);
		g_hash_table_insert(ctx->users, g_strdup(row->user), t);
	}
	if (!store_row(ctx->s, t->user_id, row->kind, row->t_ms, row->value,
		       error))
		return FALSE;
	/* The store holds rows it cannot write; an import has nobody to
	 * wait for the disk: it stops and says why. */
	store_get_health(ctx->s, &health);
	if (health.failing) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_UNAVAILABLE,
			    "cannot be written: %s (%s); the import stopped "
			    "after %u rows, the last %u of them not written",
			    health.cause, health.detail, ctx->rows + 1,
			    health.held_rows);
		return FALSE;
	}
	ctx->rows++;

	/* An evening reading belongs to the next morning's night. */
	day = clock_day_of(ctx->zone, row->t_ms);
	g_hash_table_add(t->days, GINT_TO_POINTER(day));
	g_hash_table_add(t->days, GINT_TO_POINTER(day + 1));
	return TRUE;
}

/*
 * One data line. Returns TRUE when stored (or skipped as derived); FALSE
 * with @reason set for a rejected row, or with @error set when the store
 * itself failed.
 */
static gboolean import_line(struct import_ctx *ctx, const char *line,
			    char **reason, GError **error)
{
	struct import_row row;

	if (!import_parse_row(line, ctx->now_ms, &row, reason))
		return FALSE;
	if (row.derived) {
		ctx->skipped++;
		return TRUE;
	}
	return file_row(ctx, &row, error);
}

/*
 * The next line of @in, its terminator cut off (@ret_len: its length up to
 * there), counted in @line_no. Returns 1 with *@ret_line set, 0 at the end
 * of the file, -1 after saying on stderr why it could not be read.
 */
static int next_line(GIOChannel *in, const char *path, unsigned *line_no,
		     char **ret_line, gsize *ret_len)
{
	g_autoptr(GError) error = NULL;
	GIOStatus status;
	gsize term = 0;

	status = g_io_channel_read_line(in, ret_line, NULL, &term, &error);
	if (status == G_IO_STATUS_EOF)
		return 0;
	if (status != G_IO_STATUS_NORMAL) {
		fprintf(stderr, "recoveryctl import: %s:%u: %s\n", path,
			*line_no + 1, error ? error->message : "read error");
		return -1;
	}
	(*line_no)++;
	(*ret_line)[term] = '\0';
	*ret_len = term;
	return 1;
}

/* Bad lines of an RR file shown one by one; the rest are counted. */
#define RR_BAD_LINES_SHOWN 10

/*
 * Reads a whole plain RR file whose recording began at @start_ms into
 * @beats (struct rr_sample), before anything is stored: a bad line breaks
 * the chain of times (every later beat would be filed at a wrong time), so
 * one bad line refuses the file and the store is not even opened. Returns
 * an exit status, having said what went wrong.
 */
static int read_rr_file(GIOChannel *in, const char *path, int64_t start_ms,
			int64_t now_ms, GArray *beats)
{
	struct import_rr_reader reader;
	unsigned line_no = 0, bad = 0;

	import_rr_reader_init(&reader, start_ms, now_ms);
	for (;;) {
		g_autofree char *line = NULL;
		g_autofree char *reason = NULL;
		struct rr_sample beat;
		gsize term = 0;
		int r = next_line(in, path, &line_no, &line, &term);

		if (r == 0)
			break;
		if (r < 0)
			return CTL_EXIT_FAILED;
		if (strlen(line) != term)
			reason = g_strdup("a NUL byte in the line (expected "
					  "text: one RR interval a line)");
		r = reason ? -1
			   : import_rr_read_line(&reader, line, &beat, &reason);
		if (r > 0)
			g_array_append_val(beats, beat);
		if (r >= 0)
			continue;
		if (bad < RR_BAD_LINES_SHOWN)
			fprintf(stderr, "%s:%u: %s\n", path, line_no, reason);
		bad++;
	}
	if (bad > RR_BAD_LINES_SHOWN)
		fprintf(stderr, "%s: %u more bad lines\n", path,
			bad - RR_BAD_LINES_SHOWN);
	if (bad) {
		fprintf(stderr,
			"recoveryctl import: %s: %u bad %s, nothing imported "
			"(one bad line would shift the time of every beat "
			"after it)\n",
			path, bad, bad == 1 ? "line" : "lines");
		return CTL_EXIT_FAILED;
	}
	if (beats->len == 0) {
		fprintf(stderr, "recoveryctl import: %s: no RR intervals\n",
			path);
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}

/*
 * Files @user's beats as rr_ms rows, through the path the CSV's take.
 * Returns an exit status, having said what went wrong.
 */
static int file_rr_beats(struct import_ctx *ctx, const char *user,
			 GArray *beats)
{
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < beats->len; i++) {
		const struct rr_sample *b =
		    &g_array_index(beats, struct rr_sample, i);
		struct import_row row = {
			.t_ms = b->t_ms,
			.kind = IMPORT_RR_MS,
			.value = b->rr_ms,
		};

		g_strlcpy(row.user, user, sizeof(row.user));
		if (!file_row(ctx, &row, &error)) {
			fprintf(stderr, "recoveryctl import: %s: %s\n", ctx->db,
				error->message);
			return CTL_EXIT_FAILED;
		}
	}
	return CTL_EXIT_OK;
}

/*
 * A CSV file of readings: every bad row is reported and skipped, the good
 * ones stored. Returns an exit status for a failure that ends the import
 * (the file, the store), CTL_EXIT_OK otherwise (rejected rows counted).
 */
static int import_csv_file(struct import_ctx *ctx, GIOChannel *in,
			   const char *path)
{
	g_autoptr(GError) error = NULL;
	unsigned line_no = 0;

	for (;;) {
		g_autofree char *line = NULL;
		g_autofree char *reason = NULL;
		gsize term = 0;
		int r = next_line(in, path, &line_no, &line, &term);

		if (r == 0)
			break;
		if (r < 0)
			return CTL_EXIT_FAILED;
		/* A NUL would end the line early: its start would pass
		 * for the whole row. */
		if (strlen(line) != term) {
			fprintf(stderr,
				"%s:%u: a NUL byte in the line (expected "
				"text: time,user,kind,value)\n",
				path, line_no);
			ctx->rejected++;
			continue;
		}
		if (!g_utf8_validate(line, -1, NULL)) {
			fprintf(stderr, "%s:%u: not UTF-8 text\n", path,
				line_no);
			ctx->rejected++;
			continue;
		}
		g_strstrip(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line_no == 1 && g_str_equal(line, "time,user,kind,value"))
			continue;
		if (import_line(ctx, line, &reason, &error))
			continue;
		if (error) {
			fprintf(stderr, "recoveryctl import: %s: %s\n", ctx->db,
				error->message);
			return CTL_EXIT_FAILED;
		}
		fprintf(stderr, "%s:%u: %s\n", path, line_no, reason);
		ctx->rejected++;
	}
	return CTL_EXIT_OK;
}

static int compare_days(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/*
 * Analyses the nights of the days in @t, then each run of consecutive days
 * into results (a day's result is replayed over the stored nights before
 * it, so a run needs no days outside it). @ret_nights counts the nights.
 */
static gboolean analyze_touched(store *s, const clock_zone *zone,
				const struct touched *t, int64_t now_ms,
				unsigned *ret_nights, GError **error)
{
	g_autoptr(GArray) days = g_array_new(FALSE, FALSE, sizeof(int32_t));
	struct analyze_person person;
	GHashTableIter iter;
	gpointer key;
	guint run_start = 0;

	g_hash_table_iter_init(&iter, t->days);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		int32_t day = GPOINTER_TO_INT(key);

		g_array_append_val(days, day);
	}
	g_array_sort(days, compare_days);
	analyze_person_defaults(&person, t->user_id);
	for (guint i = 0; i < days->len; i++) {
		int32_t day = g_array_index(days, int32_t, i);

		if (!analyze_night(s, zone, &person, day, NULL, error))
			return FALSE;
		(*ret_nights)++;
		if (i + 1 < days->len &&
		    g_array_index(days, int32_t, i + 1) == day + 1)
			continue;
		if (!analyze_results(s, &person,
				     g_array_index(days, int32_t, run_start),
				     day, now_ms, NULL, NULL, error))
			return FALSE;
		run_start = i + 1;
	}
	return TRUE;
}

static const char import_usage[] =
    "usage: recoveryctl import --db PATH [--timezone ZONE] FILE.csv\n"
    "       recoveryctl import --db PATH [--timezone ZONE] --user NAME\n"
    "                          --start ISO-TIME FILE.txt\n";

static const struct ctl_command import_command = {
	.name = "import",
	.usage = import_usage,
	/* FILE comes from the G_OPTION_REMAINING entry. */
	.parameter_string = NULL,
	.summary =
	    "Imports readings from a CSV file of time,user,kind,value rows\n"
	    "(times in ISO 8601 with an offset) and analyses the nights\n"
	    "they touch. Bad rows are reported with their line number and\n"
	    "skipped; the good rows are still imported.\n"
	    "\n"
	    "With --user and --start, FILE is a plain RR file instead (Elite\n"
	    "HRV, Polar Sensor Logger): one RR interval in ms a line, maybe a\n"
	    "header line first; the beats are timed by adding up the\n"
	    "intervals from --start. A bad line refuses the whole file.",
};

int ctl_import(int argc, char **argv)
{
	g_autofree char *db = NULL;
	g_autofree char *tz = NULL;
	g_autofree char *user = NULL;
	g_autofree char *start = NULL;
	g_auto(GStrv) files = NULL;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
		  "the database (created if missing)", "PATH" },
		{ "timezone", 0, 0, G_OPTION_ARG_STRING, &tz,
		  "time zone the nights are local to (default: the system's)",
		  "ZONE" },
		{ "user", 0, 0, G_OPTION_ARG_STRING, &user,
		  "FILE is a plain RR file (ms, one a line) of this person",
		  "NAME" },
		{ "start", 0, 0, G_OPTION_ARG_STRING, &start,
		  "when the RR recording began, ISO 8601 with an offset",
		  "ISO-TIME" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
		  NULL, "FILE" },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store) s = NULL;
	g_autoptr(clock_zone) zone = NULL;
	g_autoptr(GHashTable) users = NULL;
	g_autoptr(GDateTime) start_time = NULL;
	g_autoptr(GIOChannel) in = NULL;
	g_autoptr(GArray) beats = NULL;
	struct import_ctx ctx = { 0 };
	int64_t now_ms = g_get_real_time() / 1000;
	unsigned nights = 0;
	GHashTableIter iter;
	gpointer key, value;
	int status;

	if (!ctl_parse_options(&import_command, entries, &argc, &argv))
		return CTL_EXIT_USAGE;
	if (!db)
		return ctl_usage_error("import", import_usage,
				       "--db PATH is required");
	if (!files || g_strv_length(files) != 1)
		return ctl_usage_error(
		    "import", import_usage,
		    "needs exactly one FILE (.csv, or an RR file with --user)");
	if (user && !start)
		return ctl_usage_error("import", import_usage,
				       "--user needs --start ISO-TIME: when "
				       "the RR recording began");
	if (start && !user)
		return ctl_usage_error("import", import_usage,
				       "--start is for an RR file: it needs "
				       "--user NAME");
	if (user && !import_user_name_valid(user)) {
		g_autofree char *quoted = quote_text(user, -1, QUOTE_PLAIN);

		return ctl_usage_error("import", import_usage,
				       "--user %s is not a name of 1-32 "
				       "letters, digits, '-' or '_'",
				       quoted);
	}
	if (start) {
		g_autofree char *quoted = quote_text(start, -1, QUOTE_PLAIN);
		int64_t start_ms;

		start_time = g_date_time_new_from_iso8601(start, NULL);
		if (!start_time)
			return ctl_usage_error(
			    "import", import_usage,
			    "--start %s is not ISO 8601 with an offset "
			    "(e.g. 2026-03-02T07:05:00+01:00)",
			    quoted);
		start_ms = g_date_time_to_unix(start_time) * 1000 +
			   g_date_time_get_microsecond(start_time) / 1000;
		if (!clock_reading_time_valid(start_ms, now_ms))
			return ctl_usage_error(
			    "import", import_usage,
			    "--start %s is not a time from 2000-01-01 to a "
			    "day from now",
			    quoted);
	}

	zone = clock_zone_new(tz, &error);
	if (!zone)
		return ctl_usage_error("import", import_usage, "%s",
				       error->message);
	in = g_io_channel_new_file(files[0], "r", &error);
	if (!in) {
		fprintf(stderr, "recoveryctl import: %s\n", error->message);
		return CTL_EXIT_FAILED;
	}
	/* Bytes as they are: a bad line is one rejected row, not the end.
	 * Lines end at '\n' only ("\r\n" leaves a '\r' that is stripped):
	 * GLib's guess would also end one at a NUL byte, and the start of
	 * "60\0junk" would pass for a whole row. */
	g_io_channel_set_encoding(in, NULL, NULL);
	g_io_channel_set_line_term(in, "\n", 1);
	if (start_time) {
		beats = g_array_new(FALSE, FALSE, sizeof(struct rr_sample));
		status = read_rr_file(
		    in, files[0],
		    g_date_time_to_unix(start_time) * 1000 +
			g_date_time_get_microsecond(start_time) / 1000,
		    now_ms, beats);
		if (status != CTL_EXIT_OK)
			return status;
	}
	s = store_open(db, NULL, &error);
	if (!s) {
		/* The store's message starts with the path. */
		fprintf(stderr, "recoveryctl import: %s\n", error->message);
		return CTL_EXIT_FAILED;
	}

	users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				      touched_free);
	ctx = (struct import_ctx){
		.s = s, .db = db, .zone = zone, .now_ms = now_ms, .users = users
	};
	if (beats)
		status = file_rr_beats(&ctx, user, beats);
	else
		status = import_csv_file(&ctx, in, files[0]);
	if (status != CTL_EXIT_OK)
		return status;
	if (!store_flush(s, &error)) {
		fprintf(stderr, "recoveryctl import: %s: %s\n", db,
			error->message);
		return CTL_EXIT_FAILED;
	}

	g_hash_table_iter_init(&iter, users);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const struct touched *t = value;
		unsigned analysed = 0;

		if (!analyze_touched(s, zone, t, now_ms, &analysed, &error)) {
			fprintf(stderr,
				"recoveryctl import: analysis of %s: %s\n",
				(const char *)key, error->message);
			return CTL_EXIT_FAILED;
		}
		nights += analysed;
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
