/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What GTest programs and benchmarks share: temporary directories and their
 * removal, running the default main context until something holds, and
 * running a program to completion. GLib only; every test may link it
 * (target recoveryd_testsupport), unit tests included, since it knows
 * nothing of the modules under test.
 *
 *   g_autofree char *dir = test_tmp_dir_new("test-store-XXXXXX");
 *   ...
 *   g_assert_true(test_run_until(is_connected, t, 5000));
 *   ...
 *   test_remove_tree(dir);
 */

#include <stdbool.h>

#include <gio/gio.h>
#include <glib.h>

/*
 * A new directory from g_dir_make_tmp() with @tmpl ("name-XXXXXX"); aborts
 * the test if it cannot be made. The caller frees the returned path.
 */
char *test_tmp_dir_new(const char *tmpl);

/*
 * Removes @path and, if it is a directory, everything below it, without
 * following symbolic links (a link is removed, not what it points to).
 * Goes on past what cannot be removed; returns whether all of it is gone,
 * so a test that owns the tree can assert it and a cleanup can ignore it.
 */
bool test_remove_tree(const char *path);

/*
 * Iterates the default main context until @cond(@arg) holds or @timeout_ms
 * pass; returns the last answer of @cond. A 5 ms timer keeps the loop
 * waking, so a condition that another thread makes true (a broker probe) is
 * seen without any source of the context firing.
 */
bool test_run_until(bool (*cond)(void *arg), void *arg, unsigned timeout_ms);

/* Iterates the default main context for @ms milliseconds. */
void test_run_for(unsigned ms);

/*
 * Dispatches what is ready in the default main context without blocking,
 * until nothing is: destroyed sources run their last dispatch, queued
 * signals are taken in.
 */
void test_run_pending(void);

/*
 * Runs @argv (NULL-terminated; argv[0] a path) to completion, standard
 * input from the file @stdin_path (NULL: inherited), and collects its
 * standard output and error as UTF-8 text in @ret_out and @ret_err (the
 * caller frees them). Aborts the test unless it ran and exited normally;
 * returns its exit status.
 */
int test_spawn(const char *const *argv, const char *stdin_path, char **ret_out,
	       char **ret_err);

/*
 * Stops @p with SIGTERM and waits for it. Aborts the test unless it exited
 * by itself (a crash on the way out is a failure); returns its exit
 * status.
 */
int test_stop(GSubprocess *p);

/*
 * Waits at most @timeout_ms, looking every 50 ms, until the file @path (a
 * log a program writes) holds @needle. Returns whether it does.
 */
bool test_wait_file_text(const char *path, const char *needle,
			 unsigned timeout_ms);

/* The text of the file @path (a log a program writes), or "" when it
 * cannot be read; the caller frees it. */
char *test_read_file(const char *path);

/* Prints the file @path to standard error between "--- @label ---"
 * lines, for a failing test's log (nothing when it cannot be read). */
void test_print_file(const char *path, const char *label);
