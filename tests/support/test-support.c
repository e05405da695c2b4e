// SPDX-License-Identifier: MIT
#include "tests/support/test-support.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

/* How often test_run_until() looks at its condition without other events. */
#define TICK_MS 5

char *test_tmp_dir_new(const char *tmpl)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp(tmpl, &error);

	g_assert_no_error(error);
	g_assert_nonnull(dir);
	return dir;
}

bool test_remove_tree(const char *path)
{
	bool ok = true;

	if (g_file_test(path, G_FILE_TEST_IS_DIR) &&
	    !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
		g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
		const char *name;

		if (!d)
			return false;
		while ((name = g_dir_read_name(d))) {
			g_autofree char *child =
			    g_build_filename(path, name, NULL);

			if (!test_remove_tree(child))
				ok = false;
		}
		return g_rmdir(path) == 0 && ok;
	}
	return g_remove(path) == 0;
}

static gboolean tick(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

bool test_run_until(bool (*cond)(void *arg), void *arg, unsigned timeout_ms)
{
	int64_t deadline = g_get_monotonic_time() +
			   (int64_t)timeout_ms * G_TIME_SPAN_MILLISECOND;
	guint id = g_timeout_add(TICK_MS, tick, NULL);
	bool ok;

	while (!(ok = cond(arg)) && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(id);
	return ok;
}

static bool never(void *arg)
{
	return false;
}

void test_run_for(unsigned ms)
{
	test_run_until(never, NULL, ms);
}

void test_run_pending(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

int test_spawn(const char *const *argv, const char *stdin_path, char **ret_out,
	       char **ret_err)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GSubprocess) child = NULL;
	g_autoptr(GError) error = NULL;

	/* g_spawn_sync() cannot feed standard input; GSubprocess can. */
	if (stdin_path)
		g_subprocess_launcher_set_stdin_file_path(launcher, stdin_path);
	child = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_communicate_utf8(child, NULL, NULL, ret_out,
						    ret_err, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(child));
	return g_subprocess_get_exit_status(child);
}

int test_stop(GSubprocess *p)
{
	g_autoptr(GError) error = NULL;

	g_subprocess_send_signal(p, SIGTERM);
	g_assert_true(g_subprocess_wait(p, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(p));
	return g_subprocess_get_exit_status(p);
}

bool test_wait_file_text(const char *path, const char *needle,
			 unsigned timeout_ms)
{
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		g_autofree char *text = NULL;

		if (g_file_get_contents(path, &text, NULL, NULL) &&
		    strstr(text, needle))
			return true;
		g_usleep(50000);
	} while (g_get_monotonic_time() < end);
	return false;
}

char *test_read_file(const char *path)
{
	char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) ? text
							    : g_strdup("");
}

void test_print_file(const char *path, const char *label)
{
	g_autofree char *text = NULL;

	if (g_file_get_contents(path, &text, NULL, NULL))
		g_printerr("--- %s ---\n%s---\n", label, text);
}
