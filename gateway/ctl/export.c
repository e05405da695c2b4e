// SPDX-License-Identifier: MIT
/*
 * recoveryctl export: readings and daily results, as CSV in the import
 * format or as JSON.
 */
#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/core/clock.h"
#include "gateway/ctl/ctl.h"
#include "gateway/common/json-text.h"
#include "gateway/core/report.h"
#include "gateway/core/store.h"

static const char export_usage[] =
    "usage: recoveryctl export --db PATH --format csv|json [--user NAME] "
    "[--since YYYY-MM-DD] [--timezone ZONE]\n";

/* One output format: a reading, and a day's result. */
struct export_sink {
	void (*reading)(struct export_sink *sink, const char *user,
			int64_t t_ms, const char *kind, double value);
	void (*day)(struct export_sink *sink, const char *user,
		    const struct night_metrics *night,
		    const struct store_result *result);
	const clock_zone *zone;
	GTimeZone *tz;
	JsonBuilder *readings; /* JSON only */
	JsonBuilder *days;
};

static char *format_time(struct export_sink *sink, int64_t t_ms)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t_ms / 1000);
	g_autoptr(GDateTime) local = NULL;
	g_autofree char *base = NULL;
	g_autofree char *offset = NULL;

	if (!utc)
		return g_strdup("?");
	local = g_date_time_to_timezone(utc, sink->tz);
	base = g_date_time_format(local, "%Y-%m-%dT%H:%M:%S");
	offset = g_date_time_format(local, "%:z");
	return g_strdup_printf("%s.%03d%s", base, (int)(t_ms % 1000), offset);
}

static void csv_reading(struct export_sink *sink, const char *user,
			int64_t t_ms, const char *kind, double value)
{
	g_autofree char *time = format_time(sink, t_ms);
	char number[G_ASCII_DTOSTR_BUF_SIZE];

	printf("%s,%s,%s,%s\n", time, user, kind,
	       g_ascii_formatd(number, sizeof(number), "%.10g", value));
}

/*
 * Results in the same four columns: the date as the time and a key name as
 * the kind. `recoveryctl import` skips such rows: they are derived, and it
 * derives them again.
 */
static void csv_value(const char *date, const char *user, const char *kind,
		      double value)
{
	char number[G_ASCII_DTOSTR_BUF_SIZE];

	if (!metric_present(value))
		return;
	printf("%s,%s,%s,%s\n", date, user, kind,
	       g_ascii_formatd(number, sizeof(number), "%.6g", value));
}

static void csv_day(struct export_sink *sink, const char *user,
		    const struct night_metrics *n, const struct store_result *r)
{
	char date[16];

	clock_day_format(r->day, date, sizeof(date));
	if (n) {
		csv_value(date, user, "time_in_bed_min", n->time_in_bed_min);
		csv_value(date, user, "sleep_min", n->sleep_min);
		csv_value(date, user, "sleep_efficiency_pct",
			  n->sleep_efficiency_pct);
		csv_value(date, user, "rmssd_ms", n->rmssd_ms);
		csv_value(date, user, "ln_rmssd", n->ln_rmssd);
		if (n->hrv_source != HRV_SOURCE_NONE)
			printf("%s,%s,hrv_source,%s\n", date, user,
			       hrv_source_name(n->hrv_source));
		csv_value(date, user, "sdnn_ms", n->sdnn_ms);
		csv_value(date, user, "resting_hr_bpm", n->resting_hr_bpm);
		csv_value(date, user, "weight_kg", n->weight_kg);
		csv_value(date, user, "body_fat_pct", n->body_fat_pct);
	}
	if (r->score >= 0)
		csv_value(date, user, "score", r->score);
	printf("%s,%s,zone,%s\n", date, user, r->zone);
	printf("%s,%s,advice_state,%s\n", date, user, r->advice_state);
}

static void json_reading(struct export_sink *sink, const char *user,
			 int64_t t_ms, const char *kind, double value)
{
	g_autofree char *time = format_time(sink, t_ms);
	JsonBuilder *b = sink->readings;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "time");
	json_builder_add_string_value(b, time);
	json_builder_set_member_name(b, "user");
	json_builder_add_string_value(b, user);
	json_builder_set_member_name(b, "kind");
	json_builder_add_string_value(b, kind);
	json_builder_set_member_name(b, "value");
	json_builder_add_double_value(b, value);
	json_builder_end_object(b);
}

static void json_day(struct export_sink *sink, const char *user,
		     const struct night_metrics *n,
		     const struct store_result *r)
{
	struct night_metrics empty = night_metrics_empty(r->day);
	JsonBuilder *b = sink->days;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "user");
	json_builder_add_string_value(b, user);
	report_add_metrics(b, n ? n : &empty);
	report_add_result(b, r);
	json_builder_end_object(b);
}

static gboolean export_person(store *s, struct export_sink *sink,
			      int64_t user_id, const char *user,
			      int32_t since_day, GError **error)
{
	struct store_span span = { 0 };
	g_autoptr(GArray) nights =
	    g_array_new(FALSE, TRUE, sizeof(struct night_metrics));
	g_autoptr(GArray) results =
	    g_array_new(FALSE, TRUE, sizeof(struct store_result));
	guint n = 0;

	if (!store_load_span(s, user_id,
			     clock_day_start_ms(sink->zone, since_day),
			     INT64_MAX, &span, error))
		return FALSE;

	for (guint i = 0; i < span.rr->len; i++) {
		struct rr_sample *x =
		    &g_array_index(span.rr, struct rr_sample, i);

		sink->reading(sink, user, x->t_ms, "rr_ms", x->rr_ms);
	}
	for (guint i = 0; i < span.hr->len; i++) {
		struct hr_sample *x =
		    &g_array_index(span.hr, struct hr_sample, i);

		sink->reading(sink, user, x->t_ms, "hr_bpm", x->bpm);
	}
	for (guint i = 0; i < span.bed->len; i++) {
		struct state_sample *x =
		    &g_array_index(span.bed, struct state_sample, i);

		/* The state before the span is context, not an export. */
		if (x->t_ms >= clock_day_start_ms(sink->zone, since_day))
			sink->reading(sink, user, x->t_ms, "bed", x->on);
	}
	for (guint i = 0; i < span.motion->len; i++) {
		struct state_sample *x =
		    &g_array_index(span.motion, struct state_sample, i);

		sink->reading(sink, user, x->t_ms, "motion", x->on);
	}
	for (guint i = 0; i < span.weights->len; i++) {
		struct weight_sample *x =
		    &g_array_index(span.weights, struct weight_sample, i);

		sink->reading(sink, user, x->t_ms, "weight_kg", x->weight_kg);
		if (metric_present(x->body_fat_pct))
			sink->reading(sink, user, x->t_ms, "body_fat_pct",
				      x->body_fat_pct);
	}
	for (guint i = 0; i < span.checkins->len; i++) {
		struct checkin_sample *x =
		    &g_array_index(span.checkins, struct checkin_sample, i);

		if (metric_present(x->mood))
			sink->reading(sink, user, x->t_ms, "checkin_mood",
				      x->mood);
		if (metric_present(x->soreness))
			sink->reading(sink, user, x->t_ms, "checkin_soreness",
				      x->soreness);
		if (metric_present(x->energy))
			sink->reading(sink, user, x->t_ms, "checkin_energy",
				      x->energy);
	}
	store_span_clear(&span);

	if (!store_get_nights(s, user_id, since_day, INT32_MAX / 2, nights,
			      error) ||
	    !store_get_results(s, user_id, since_day, INT32_MAX / 2, results,
			       error))
		return FALSE;
	for (guint i = 0; i < results->len; i++) {
		const struct store_result *r =
		    &g_array_index(results, struct store_result, i);
		const struct night_metrics *night = NULL;

		/* Both are sorted by day: walk them together. */
		while (n < nights->len &&
		       g_array_index(nights, struct night_metrics, n).day <
			   r->day)
			n++;
		if (n < nights->len &&
		    g_array_index(nights, struct night_metrics, n).day ==
			r->day)
			night = &g_array_index(nights, struct night_metrics, n);
		sink->day(sink, user, night, r);
	}
	return TRUE;
}

static const struct ctl_command export_command = {
	.name = "export",
	.usage = export_usage,
	.summary =
	    "Writes readings and daily results. CSV uses the import format\n"
	    "(time,user,kind,value); results come as rows whose time is the\n"
	    "date and whose kind is a key name (score, sleep_min, ...).",
	.no_arguments = true,
};

int ctl_export(int argc, char **argv)
{
	g_autofree char *db = NULL;
	g_autofree char *format = NULL;
	g_autofree char *user = NULL;
	g_autofree char *since = NULL;
	g_autofree char *tz = NULL;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "the database",
		  "PATH" },
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format,
		  "csv (the import format) or json", "csv|json" },
		{ "user", 0, 0, G_OPTION_ARG_STRING, &user,
		  "only this person (default: everyone)", "NAME" },
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since,
		  "from this local date on (default: everything)",
		  "YYYY-MM-DD" },
		{ "timezone", 0, 0, G_OPTION_ARG_STRING, &tz,
		  "zone of the times written (default: the system's)", "ZONE" },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store) s = NULL;
	g_autoptr(clock_zone) zone = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonBuilder) readings = json_builder_new();
	g_autoptr(JsonBuilder) days = json_builder_new();
	g_autoptr(GTimeZone) gtz = NULL;
	struct export_sink sink = { 0 };
	int32_t since_day = INT32_MIN / 2;
	bool json;

	if (!ctl_parse_options(&export_command, entries, &argc, &argv))
		return CTL_EXIT_USAGE;
	if (!db || !format)
		return ctl_usage_error("export", export_usage,
				       "--db and --format are required");
	if (!g_str_equal(format, "csv") && !g_str_equal(format, "json"))
		return ctl_usage_error("export", export_usage,
				       "--format is csv or json, not '%s'",
				       format);
	json = g_str_equal(format, "json");
	if (since && !clock_day_parse(since, &since_day))
		return ctl_usage_error("export", export_usage,
				       "--since '%s' is not a YYYY-MM-DD date",
				       since);
	zone = clock_zone_new(tz, &error);
	if (!zone)
		return ctl_usage_error("export", export_usage, "%s",
				       error->message);
	gtz = tz && *tz ? g_time_zone_new_identifier(tz)
			: g_time_zone_new_local();
	s = ctl_open_existing_store("export", db);
	if (!s)
		return CTL_EXIT_FAILED;
	if (!store_list_users(s, ids, names, &error)) {
		fprintf(stderr, "recoveryctl export: %s: %s\n", db,
			error->message);
		return CTL_EXIT_FAILED;
	}
	if (user && !ctl_find_user(s, user, NULL, &error)) {
		fprintf(stderr, "recoveryctl export: %s\n", error->message);
		return CTL_EXIT_FAILED;
	}

	sink = (struct export_sink){
		.reading = json ? json_reading : csv_reading,
		.day = json ? json_day : csv_day,
		.zone = zone,
		.tz = gtz,
		.readings = readings,
		.days = days,
	};
	if (json) {
		json_builder_begin_array(readings);
		json_builder_begin_array(days);
	} else {
		printf("time,user,kind,value\n");
	}
	for (guint i = 0; i < ids->len; i++) {
		const char *name = g_ptr_array_index(names, i);

		if (user && !g_str_equal(user, name))
			continue;
		if (!export_person(s, &sink, g_array_index(ids, int64_t, i),
				   name, since_day, &error)) {
			fprintf(stderr, "recoveryctl export: %s: %s\n", db,
				error->message);
			return CTL_EXIT_FAILED;
		}
	}
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;
		g_autofree char *text = NULL;

		json_builder_end_array(readings);
		json_builder_end_array(days);
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "readings");
		json_builder_add_value(b, json_builder_get_root(readings));
		json_builder_set_member_name(b, "days");
		json_builder_add_value(b, json_builder_get_root(days));
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		text = json_text_from_node(root);
		printf("%s\n", text);
	}
	/* An export that left rows out is no full copy: say so. */
	if (ctl_report_damage("export", s))
		return CTL_EXIT_FAILED;
	return CTL_EXIT_OK;
}
