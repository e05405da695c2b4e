// SPDX-License-Identifier: MIT
/*
 * recoveryctl history: a person's recent nights and mornings, as a table a
 * person reads or as JSON.
 */
#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/core/clock.h"
#include "gateway/ctl/ctl.h"
#include "gateway/common/json-text.h"
#include "gateway/core/report.h"
#include "gateway/core/store.h"

static const char history_usage[] = "usage: recoveryctl history --db PATH "
				    "--user NAME [--days N] [--json]\n";

/* A person's day: the night (may be absent) and the result. */
struct history_row {
	const struct night_metrics *night;
	const struct store_result *result;
};

static void print_metric(double value, int width, int decimals)
{
	if (metric_present(value))
		printf("%*.*f", width, decimals, value);
	else
		printf("%*s", width, "-");
}

/* ↑ ↓ → against the previous day with a score; blank without one. */
static const char *trend_glyph(int32_t score, int32_t previous)
{
	if (score < 0 || previous < 0)
		return " ";
	if (score >= previous + 5)
		return "↑";
	if (score <= previous - 5)
		return "↓";
	return "→";
}

/* The headline the day's advice told, or "" (a row without one). */
static char *stored_headline(const struct store_result *r)
{
	g_autoptr(JsonNode) advice = report_stored_advice(r);
	JsonObject *o = json_node_get_object(advice);
	JsonNode *h = json_object_get_member(o, "headline");

	if (!h || !JSON_NODE_HOLDS_VALUE(h) ||
	    json_node_get_value_type(h) != G_TYPE_STRING)
		return g_strdup("");
	return g_strdup(json_node_get_string(h));
}

static void print_table(const struct history_row *rows, size_t count)
{
	int32_t previous = -1;

	printf("%-10s  %5s  %5s %-5s  %4s  %6s  %7s  %-6s  %-16s  %s\n", "date",
	       "sleep", "rmssd", "src", "rhr", "weight", "score", "zone",
	       "advice", "headline");
	for (size_t i = 0; i < count; i++) {
		const struct night_metrics *n = rows[i].night;
		const struct store_result *r = rows[i].result;
		char date[16];

		clock_day_format(r->day, date, sizeof(date));
		printf("%-10s  ", date);
		if (n && metric_present(n->sleep_min))
			printf("%2d:%02d", (int)n->sleep_min / 60,
			       (int)n->sleep_min % 60);
		else
			printf("%5s", "-");
		printf("  ");
		print_metric(n ? n->rmssd_ms : METRIC_NONE, 5, 1);
		/* night or spot: the two are read against different ranges */
		printf(" %-5s  ", n && n->hrv_source != HRV_SOURCE_NONE
				      ? hrv_source_name(n->hrv_source)
				      : "");
		print_metric(n ? n->resting_hr_bpm : METRIC_NONE, 4, 0);
		printf("  ");
		print_metric(n ? n->weight_kg : METRIC_NONE, 6, 2);
		printf("  ");
		if (r->score >= 0)
			printf("%5d %s", r->score,
			       trend_glyph(r->score, previous));
		else if (r->calibrating)
			printf("%7s", "calib");
		else
			printf("%7s", "-");
		{
			g_autofree char *headline = stored_headline(r);

			printf("  %-6s  %-16s  %s\n", r->zone, r->advice_state,
			       headline);
		}
		if (r->score >= 0)
			previous = r->score;
	}
}

static void print_json(GArray *results, GArray *nights, guint first)
{
	g_autoptr(GArray) days =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	/* Borrowed rows: the state messages stay owned by @results. */
	g_array_append_vals(days,
			    &g_array_index(results, struct store_result, first),
			    results->len - first);
	root = report_history_build(days, nights, true);
	text = json_text_from_node(root);
	printf("%s\n", text);
}

static const struct ctl_command history_command = {
	.name = "history",
	.usage = history_usage,
	.summary = "Shows a person's recent nights: sleep, RMSSD, resting HR, "
		   "weight,\nscore with its trend, zone, advice state and "
		   "headline; --json adds each\nday's whole advice (state, "
		   "headline, detail, actions, reasons).",
	.no_arguments = true,
};

int ctl_history(int argc, char **argv)
{
	g_autofree char *db = NULL;
	g_autofree char *user = NULL;
	gint days = 14;
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "the database",
		  "PATH" },
		{ "user", 0, 0, G_OPTION_ARG_STRING, &user, "whose history",
		  "NAME" },
		{ "days", 0, 0, G_OPTION_ARG_INT, &days,
		  "how many days, up to the newest (default 14)", "N" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store) s = NULL;
	g_autoptr(GArray) results = NULL;
	g_autoptr(GArray) nights = NULL;
	g_autofree struct history_row *rows = NULL;
	int64_t user_id = 0;
	size_t first;

	if (!ctl_parse_options(&history_command, entries, &argc, &argv))
		return CTL_EXIT_USAGE;
	if (!db || !user)
		return ctl_usage_error("history", history_usage,
				       "--db and --user are required");
	if (days < 1 || days > 100000)
		return ctl_usage_error("history", history_usage,
				       "--days must be 1 or more");

	s = ctl_open_existing_store("history", db);
	if (!s)
		return CTL_EXIT_FAILED;
	if (!ctl_find_user(s, user, &user_id, &error)) {
		fprintf(stderr, "recoveryctl history: %s\n", error->message);
		return CTL_EXIT_FAILED;
	}

	results = g_array_new(FALSE, TRUE, sizeof(struct store_result));
	nights = g_array_new(FALSE, TRUE, sizeof(struct night_metrics));
	if (!store_get_results(s, user_id, INT32_MIN / 2, INT32_MAX / 2,
			       results, &error) ||
	    !store_get_nights(s, user_id, INT32_MIN / 2, INT32_MAX / 2, nights,
			      &error)) {
		fprintf(stderr, "recoveryctl history: %s: %s\n", db,
			error->message);
		return CTL_EXIT_FAILED;
	}

	first = results->len > (guint)days ? results->len - (guint)days : 0;
	rows = g_new0(struct history_row, results->len - first + 1);
	for (guint i = (guint)first; i < results->len; i++) {
		const struct store_result *r =
		    &g_array_index(results, struct store_result, i);

		rows[i - first] = (struct history_row){
			.night = report_find_night(nights, r->day),
			.result = r,
		};
	}
	if (json)
		print_json(results, nights, (guint)first);
	else if (results->len == 0)
		printf("no results for %s yet\n", user);
	else
		print_table(rows, results->len - first);
	/* Shown without them; the daemon computes them again. */
	ctl_report_damage("history", s);
	return CTL_EXIT_OK;
}
