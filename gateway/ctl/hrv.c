// SPDX-License-Identifier: MIT
/*
 * recoveryctl hrv: time-domain HRV of a file of RR intervals, cleaned the
 * way the daemon cleans a night, for a person checking a recording (or the
 * engine) against another tool.
 */
#include <math.h>
#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/ctl/ctl.h"
#include "gateway/engine/hrv.h"
#include "gateway/common/json-text.h"

static const char hrv_usage[] = "usage: recoveryctl hrv [--no-clean] FILE\n"
				"'recoveryctl hrv --help' tells more.\n";

#define HRV_DECIMALS 4

/*
 * One interval per line, in ms; blank lines and '#' comments skipped. The
 * whole line must be the number: "800ms" or "8 00" is a mistake to report,
 * not to half-read. g_ascii_strtod, not strtod, so that a locale with a
 * decimal comma still reads "812.5".
 */
static bool parse_rr(const char *text, double *ret_ms)
{
	char *end = NULL;
	double v;

	v = g_ascii_strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(v) || v <= 0.0)
		return false;
	*ret_ms = v;
	return true;
}

/* Reads @in to the end into @rr; on a bad line, says which and fails. */
static int read_intervals(GIOChannel *in, const char *name, GArray *rr)
{
	g_autoptr(GError) error = NULL;
	unsigned line_no = 0;

	for (;;) {
		g_autofree char *line = NULL;
		GIOStatus status;
		gsize term = 0;
		char *text;
		double v;

		status = g_io_channel_read_line(in, &line, NULL, &term, &error);
		if (status == G_IO_STATUS_EOF)
			return CTL_EXIT_OK;
		if (status != G_IO_STATUS_NORMAL) {
			fprintf(stderr, "%s:%u: %s\n", name, line_no + 1,
				error ? error->message : "read error");
			return CTL_EXIT_FAILED;
		}
		line_no++;
		line[term] = '\0';
		text = g_strstrip(line);
		if (text[0] == '\0' || text[0] == '#')
			continue;
		if (!parse_rr(text, &v)) {
			fprintf(stderr,
				"%s:%u: '%s' is not an RR interval in ms\n",
				name, line_no, text);
			return CTL_EXIT_FAILED;
		}
		g_array_append_val(rr, v);
	}
}

static void add_metric(JsonBuilder *b, const char *key, double value)
{
	json_builder_set_member_name(b, key);
	if (metric_present(value))
		json_builder_add_double_value(
		    b, json_text_round(value, HRV_DECIMALS));
	else
		json_builder_add_null_value(b);
}

static void print_metrics(const struct hrv_metrics *m, size_t dropped)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "count");
	json_builder_add_int_value(b, (gint64)m->count);
	add_metric(b, "mean_nn_ms", m->mean_nn_ms);
	add_metric(b, "sdnn_ms", m->sdnn_ms);
	add_metric(b, "rmssd_ms", m->rmssd_ms);
	/* null when RMSSD is 0: a perfectly regular rhythm has no log. */
	add_metric(b, "ln_rmssd", m->ln_rmssd);
	add_metric(b, "pnn50_pct", m->pnn50_pct);
	add_metric(b, "mean_hr_bpm", m->mean_hr_bpm);
	json_builder_set_member_name(b, "dropped");
	json_builder_add_int_value(b, (gint64)dropped);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	text = json_text_from_node(root);
	printf("%s\n", text);
}

/* No parameter string: FILE comes from the G_OPTION_REMAINING entry. */
static const struct ctl_command hrv_command = {
	.name = "hrv",
	.usage = hrv_usage,
	.summary =
	    "Prints the time-domain HRV (Task Force 1996) of RR intervals\n"
	    "as one JSON object: count, mean_nn_ms, sdnn_ms (sample SD),\n"
	    "rmssd_ms, ln_rmssd, pnn50_pct, mean_hr_bpm and dropped.\n"
	    "FILE holds one interval in ms per line ('-' reads standard\n"
	    "input); blank lines and lines starting with '#' are skipped.\n"
	    "Intervals outside 300-2000 ms, and those more than 20 % away\n"
	    "from the previous accepted one (Malik), are dropped first\n"
	    "unless --no-clean is given. Exit status: 0 computed, 1 bad\n"
	    "input, 2 usage error.",
};

int ctl_hrv(int argc, char **argv)
{
	gboolean no_clean = FALSE;
	g_auto(GStrv) files = NULL;
	GOptionEntry entries[] = {
		{ "no-clean", 0, 0, G_OPTION_ARG_NONE, &no_clean,
		  "use every interval as it is (no range check, no Malik "
		  "rule)",
		  NULL },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
		  NULL, "FILE" },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GIOChannel) in = NULL;
	g_autoptr(GArray) rr = g_array_new(FALSE, FALSE, sizeof(double));
	g_autofree bool *keep = NULL;
	struct hrv_clean_stats stats = { 0 };
	struct hrv_metrics m;
	const char *name;
	int r;

	if (!ctl_parse_options(&hrv_command, entries, &argc, &argv))
		return CTL_EXIT_USAGE;
	if (!files || g_strv_length(files) != 1)
		return ctl_usage_error("hrv", hrv_usage,
				       "needs exactly one FILE ('-' for "
				       "standard input)");

	if (g_str_equal(files[0], "-")) {
		name = "<stdin>";
		in = g_io_channel_unix_new(fileno(stdin));
	} else {
		name = files[0];
		in = g_io_channel_new_file(name, "r", &error);
		if (!in) {
			/* GLib's message does not name the file. */
			fprintf(stderr, "recoveryctl hrv: %s: %s\n", name,
				error->message);
			return CTL_EXIT_FAILED;
		}
	}
	/* Bytes as they are: a stray byte is a bad line, not a crash. */
	g_io_channel_set_encoding(in, NULL, NULL);
	r = read_intervals(in, name, rr);
	if (r != CTL_EXIT_OK)
		return r;
	if (rr->len < 2) {
		fprintf(stderr, "%s: needs at least 2 RR intervals, found %u\n",
			name, rr->len);
		return CTL_EXIT_FAILED;
	}

	if (!no_clean) {
		keep = g_new(bool, rr->len);
		hrv_clean(&g_array_index(rr, double, 0), rr->len, keep, &stats);
	}
	r = hrv_compute(&g_array_index(rr, double, 0), keep, rr->len, &m);
	if (r < 0) {
		/* Read intervals are positive and finite: only -ENODATA. */
		fprintf(stderr,
			"%s: fewer than 2 successive intervals left after "
			"cleaning (%zu of %u kept)\n",
			name, stats.kept, rr->len);
		return CTL_EXIT_FAILED;
	}
	print_metrics(&m, no_clean ? 0 : stats.total - stats.kept);
	return CTL_EXIT_OK;
}
