// SPDX-License-Identifier: MIT
/*
 * `recoveryctl hrv` as a person uses it: the real binary on RR files written
 * here, its stdout, stderr and exit status. RECOVERYCTL names the binary
 * under test.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tests/support/test-support.h"

enum feed {
	FEED_FILE,    /* input in a temporary file, named as FILE */
	FEED_STDIN,   /* input on standard input, FILE is '-' */
	FEED_MISSING, /* FILE names a file that does not exist */
	FEED_NONE,    /* no FILE argument */
};

struct hrv_case {
	const char *name;
	const char *options; /* before FILE, split on spaces; NULL: none */
	enum feed feed;
	const char *input;
	int status;
	const char *out; /* exact stdout, or NULL for none */
	const char *err; /* substring of stderr, or NULL for empty */
};

/*
 * 800 850 800 850 800: mean 4100 / 5 = 820; deviations -20 30 -20 30 -20,
 * SS 3000, SDNN sqrt(3000 / 4) = 27.386127... -> 27.3861; differences all
 * +-50: RMSSD 50, ln 50 = 3.912023 -> 3.912; none is > 50 ms: pNN50 0;
 * HR 60000 / 820 = 73.170731... -> 73.1707.
 */
#define KNOWN_INPUT "800\n850\n800\n850\n800\n"
#define KNOWN_OUTPUT                                                           \
	"{\"count\":5,\"mean_nn_ms\":820,\"sdnn_ms\":27.3861,\"rmssd_ms\":50," \
	"\"ln_rmssd\":3.912,\"pnn50_pct\":0,\"mean_hr_bpm\":73.1707,"          \
	"\"dropped\":0}\n"

/*
 * 800 810 800 1500 800 810. Cleaned, the 1500 (87.5 % above 800) goes:
 * 800 810 800 | 800 810, mean 4020 / 5 = 804, deviations -4 6 -4 -4 6,
 * SS 120, SDNN sqrt(30) = 5.477225 -> 5.4772; differences 10 -10 and 10
 * (none across the gap): RMSSD 10, ln 10 = 2.302585 -> 2.3026; HR
 * 60000 / 804 = 74.626866 -> 74.6269.
 * Not cleaned: mean 5520 / 6 = 920; deviations -120 -110 -120 580 -120
 * -110, SS 403800, SDNN sqrt(80760) = 284.18304 -> 284.183; differences
 * 10 -10 700 -700 10, SS 980300, RMSSD sqrt(196060) = 442.786630 ->
 * 442.7866, ln 6.093088 -> 6.0931; 2 of 5 over 50 ms: pNN50 40; HR
 * 60000 / 920 = 65.217391 -> 65.2174.
 */
#define ARTEFACT_INPUT "800\n810\n800\n1500\n800\n810\n"

static const struct hrv_case cases[] = {
	{ "/recoveryctl/hrv/known", NULL, FEED_FILE, KNOWN_INPUT, 0,
	  KNOWN_OUTPUT },
	{ "/recoveryctl/hrv/stdin", NULL, FEED_STDIN, KNOWN_INPUT, 0,
	  KNOWN_OUTPUT },
	/* Comments, blank lines, CRLF and spaces around a number are fine. */
	{ "/recoveryctl/hrv/comments-blank-crlf", NULL, FEED_FILE,
	  "# Polar H10, lying down\n\n800\r\n  850 \n# pause\n800\n850\n\n"
	  "800",
	  0, KNOWN_OUTPUT },
	{ "/recoveryctl/hrv/artefact/cleaned", NULL, FEED_FILE, ARTEFACT_INPUT,
	  0,
	  "{\"count\":5,\"mean_nn_ms\":804,\"sdnn_ms\":5.4772,\"rmssd_ms\":10,"
	  "\"ln_rmssd\":2.3026,\"pnn50_pct\":0,\"mean_hr_bpm\":74.6269,"
	  "\"dropped\":1}\n" },
	{ "/recoveryctl/hrv/artefact/no-clean", "--no-clean", FEED_FILE,
	  ARTEFACT_INPUT, 0,
	  "{\"count\":6,\"mean_nn_ms\":920,\"sdnn_ms\":284.183,\"rmssd_ms\":"
	  "442.7866,\"ln_rmssd\":6.0931,\"pnn50_pct\":40,\"mean_hr_bpm\":"
	  "65.2174,\"dropped\":0}\n" },
	/* A steady rhythm has RMSSD 0 and no logarithm: null, not -inf. */
	{ "/recoveryctl/hrv/constant", NULL, FEED_FILE, "1000\n1000\n1000\n", 0,
	  "{\"count\":3,\"mean_nn_ms\":1000,\"sdnn_ms\":0,\"rmssd_ms\":0,"
	  "\"ln_rmssd\":null,\"pnn50_pct\":0,\"mean_hr_bpm\":60,\"dropped\":0}"
	  "\n" },
	/* Bad lines name the file and the line. */
	{ "/recoveryctl/hrv/bad/word", NULL, FEED_FILE, "800\n810\n\n8l0\n", 1,
	  NULL, ":4: '8l0' is not an RR interval in ms\n" },
	{ "/recoveryctl/hrv/bad/unit", NULL, FEED_FILE, "800\n810 ms\n", 1,
	  NULL, ":2: '810 ms' is not an RR interval in ms\n" },
	{ "/recoveryctl/hrv/bad/negative", NULL, FEED_FILE, "800\n-810\n", 1,
	  NULL, ":2: '-810' is not an RR interval in ms\n" },
	{ "/recoveryctl/hrv/bad/zero", NULL, FEED_FILE, "0\n810\n", 1, NULL,
	  ":1: '0' is not an RR interval in ms\n" },
	{ "/recoveryctl/hrv/bad/nan", NULL, FEED_FILE, "800\nnan\n", 1, NULL,
	  ":2: 'nan' is not an RR interval in ms\n" },
	{ "/recoveryctl/hrv/bad/stdin", NULL, FEED_STDIN, "800\n\n\nx\n", 1,
	  NULL, "<stdin>:4: 'x' is not an RR interval in ms\n" },
	{ "/recoveryctl/hrv/too-few/empty", NULL, FEED_FILE, "# nothing\n", 1,
	  NULL, "needs at least 2 RR intervals, found 0\n" },
	{ "/recoveryctl/hrv/too-few/one", NULL, FEED_FILE, "800\n", 1, NULL,
	  "needs at least 2 RR intervals, found 1\n" },
	{ "/recoveryctl/hrv/too-few/after-cleaning", NULL, FEED_FILE,
	  "800\n1500\n", 1, NULL,
	  "fewer than 2 successive intervals left after cleaning (1 of 2 "
	  "kept)\n" },
	{ "/recoveryctl/hrv/missing-file", NULL, FEED_MISSING, NULL, 1, NULL,
	  "missing.txt: No such file or directory\n" },
	{ "/recoveryctl/hrv/usage/no-file", NULL, FEED_NONE, NULL, 2, NULL,
	  "needs exactly one FILE" },
	{ "/recoveryctl/hrv/usage/two-files", "other.txt", FEED_FILE,
	  KNOWN_INPUT, 2, NULL, "needs exactly one FILE" },
	{ "/recoveryctl/hrv/usage/unknown-option", "--smooth", FEED_FILE,
	  KNOWN_INPUT, 2, NULL, "Unknown option --smooth" },
};

static void run(const char *const *args, const char *stdin_path,
		int *ret_status, char **ret_out, char **ret_err)
{
	const char *binary = g_getenv("RECOVERYCTL");
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

	g_assert_nonnull(binary);
	g_ptr_array_add(argv, g_strdup(binary));
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, g_strdup(*a));
	g_ptr_array_add(argv, NULL);
	*ret_status = test_spawn((const char *const *)argv->pdata, stdin_path,
				 ret_out, ret_err);
}

static char *write_temp(const char *content)
{
	g_autoptr(GError) error = NULL;
	char *path = NULL;
	int fd = g_file_open_tmp("test-hrv-XXXXXX.txt", &path, &error);

	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	g_assert_true(g_close(fd, NULL));
	g_assert_true(g_file_set_contents(path, content, -1, &error));
	g_assert_no_error(error);
	return path;
}

static void test_case(gconstpointer data)
{
	const struct hrv_case *c = data;
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) options = NULL;
	g_autofree char *path = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *file_arg = NULL;
	int status;

	g_ptr_array_add(args, g_strdup("hrv"));
	if (c->options) {
		options = g_strsplit(c->options, " ", -1);
		for (char **o = options; *o; o++)
			g_ptr_array_add(args, g_strdup(*o));
	}
	switch (c->feed) {
	case FEED_FILE:
		path = write_temp(c->input);
		file_arg = path;
		break;
	case FEED_STDIN:
		path = write_temp(c->input);
		file_arg = "-";
		break;
	case FEED_MISSING:
		dir = test_tmp_dir_new("test-hrv-XXXXXX");
		path = g_build_filename(dir, "missing.txt", NULL);
		file_arg = path;
		break;
	case FEED_NONE:
		break;
	}
	if (file_arg)
		g_ptr_array_add(args, g_strdup(file_arg));
	g_ptr_array_add(args, NULL);

	run((const char *const *)args->pdata,
	    c->feed == FEED_STDIN ? path : NULL, &status, &out, &err);
	if (c->feed == FEED_FILE || c->feed == FEED_STDIN)
		g_assert_cmpint(g_unlink(path), ==, 0);
	if (dir)
		g_assert_cmpint(g_rmdir(dir), ==, 0);

	if (c->out)
		g_assert_cmpstr(out, ==, c->out);
	else
		g_assert_cmpstr(out, ==, "");
	if (c->err)
		g_assert_nonnull(strstr(err, c->err));
	else
		g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(status, ==, c->status);
	switch (c->status) {
	case 1:
		/* Bad input is one line on stderr, naming where it is. */
		g_assert_cmpint(strchr(err, '\n') - err + 1, ==, strlen(err));
		if (c->feed == FEED_FILE || c->feed == FEED_MISSING)
			g_assert_nonnull(strstr(err, path));
		break;
	case 2:
		g_assert_nonnull(
		    strstr(err, "usage: recoveryctl hrv [--no-clean] FILE"));
		break;
	default:
		break;
	}
}

static void test_help(void)
{
	const char *const args[] = { "hrv", "--help", NULL };
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status;

	run(args, NULL, &status, &out, &err);
	g_assert_cmpint(status, ==, 0);
	g_assert_nonnull(strstr(out, "--no-clean"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_test_add_data_func(cases[i].name, &cases[i], test_case);
	g_test_add_func("/recoveryctl/hrv/help", test_help);
	return g_test_run();
}
