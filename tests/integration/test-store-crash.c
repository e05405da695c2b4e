// SPDX-License-Identifier: MIT
/*
 * kill -9 at random moments (DESIGN §8): a child ingests RR rows with
 * strictly increasing times in small batches and tells the parent, through
 * a pipe, how many rows it has seen committed; the parent SIGKILLs it after
 * a random delay, checks the file with a plain SQLite connection, and
 * starts the next child on the same file.
 *
 * After every kill: PRAGMA integrity_check is "ok"; every row the child
 * reported is there; there is no hole anywhere; and at most one batch more
 * than reported is there (the one committed just before the kill).
 *
 * STORE_CRASH_SEED=<n> replays a run; the seed is printed either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <sqlite3.h>

#include "gateway/core/store.h"
#include "tests/support/test-db.h"
#include "tests/support/test-support.h"

#define KILLS	      60
#define BATCH_ROWS    500
#define T0_MS	      INT64_C(1732600000000)
#define STEP_MS	      1000 /* row i is at T0_MS + i * STEP_MS */
#define CHILD_LIMIT_S 30   /* a child the parent forgot dies anyway */
#define MIN_DELAY_MS  1
#define MAX_DELAY_MS  50

/* The child: never returns. Exit codes other than by SIGKILL are bugs. */
static void G_GNUC_NORETURN child_main(const char *path, int fd,
				       int64_t first_row)
{
	struct store_options opts = { .batch_rows = BATCH_ROWS };
	struct store_stats st;
	uint64_t seen_commits;
	GError *error = NULL;
	int64_t user;
	store *s;

	alarm(CHILD_LIMIT_S);
	s = store_open(path, &opts, &error);
	if (!s)
		_exit(2);
	if (!store_user_id(s, "night-owl", &user, &error))
		_exit(3);
	store_get_stats(s, &st);
	seen_commits = st.commits;
	for (int64_t i = first_row;; i++) {
		if (!store_add_rr(s, user, T0_MS + i * STEP_MS,
				  700.0 + (double)(i % 500), &error))
			_exit(4);
		store_get_stats(s, &st);
		if (st.commits != seen_commits) {
			/* Every row before this commit is in it. */
			int64_t committed =
			    first_row + (int64_t)st.rows_committed;

			seen_commits = st.commits;
			if (write(fd, &committed, sizeof(committed)) !=
			    (ssize_t)sizeof(committed))
				_exit(5);
		}
	}
}

/* The last count the child wrote, or @none when it wrote nothing. */
static int64_t read_reported(int fd, int64_t none)
{
	int64_t value = none, buf[64];
	ssize_t n;

	/* 8-byte writes to a pipe are atomic: whole values or nothing. */
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >, 0);
		g_assert_cmpint(n % (ssize_t)sizeof(buf[0]), ==, 0);
		value = buf[(size_t)n / sizeof(buf[0]) - 1];
	}
	return value;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t value;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

/* Checks the file after a kill; returns the rows in it. */
static int64_t check_file(const char *path, int64_t reported)
{
	struct test_db_beats beats;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t rows;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
			==, SQLITE_OK);
	/* Leave the log to the next child: its own checkpoints are then
	 * killed too, now and then. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);

	g_assert_cmpint(
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), ==,
	    SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	g_assert_cmpstr((const char *)sqlite3_column_text(st, 0), ==, "ok");
	sqlite3_finalize(st);

	/* Killed before its migrations committed, the child leaves an
	 * empty file or an older schema behind, and wrote nothing. */
	if (query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = "
			  "'rr_minutes'") == 0) {
		g_assert_cmpint(reported, ==, 0);
		sqlite3_close(db);
		return 0;
	}
	/* Summed in C, not unpacked: the file grows to millions of beats. */
	test_db_sum_beats(db, "rr_minutes", T0_MS + reported * STEP_MS, &beats);
	rows = beats.count;
	g_assert_cmpint(rows, >=, reported);
	g_assert_cmpint(rows - reported, <=, BATCH_ROWS);
	if (rows > 0) {
		g_assert_cmpint(beats.first_ms, ==, T0_MS);
		/* count, min and max agree only without holes, as the
		 * times are distinct multiples of STEP_MS. */
		g_assert_cmpint(beats.last_ms, ==,
				T0_MS + (rows - 1) * STEP_MS);
	}
	g_assert_cmpint(beats.before, ==, reported);
	sqlite3_close(db);
	return rows;
}

static void test_kill9(void)
{
	GError *error = NULL;
	g_autofree char *dir = test_tmp_dir_new("test-store-crash-XXXXXX");
	g_autofree char *path = NULL;
	const char *seed_env = g_getenv("STORE_CRASH_SEED");
	guint32 seed = seed_env ? (guint32)g_ascii_strtoull(seed_env, NULL, 10)
				: g_random_int();
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	int64_t rows = 0;
	int commits_seen = 0;
	store *s;

	path = g_build_filename(dir, "recoveryd.db", NULL);
	g_test_message("seed %" G_GUINT32_FORMAT
		       " (set STORE_CRASH_SEED to replay)",
		       seed);

	for (int kill_no = 1; kill_no <= KILLS; kill_no++) {
		int delay_ms =
		    g_rand_int_range(rand, MIN_DELAY_MS, MAX_DELAY_MS + 1);
		int fds[2], status = 0;
		int64_t reported;
		pid_t pid;

		g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
		pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			close(fds[0]);
			child_main(path, fds[1], rows);
		}
		close(fds[1]);
		g_usleep((gulong)delay_ms * 1000);
		g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			g_error("kill %d: the child ended by itself (status "
				"0x%x) instead of being killed",
				kill_no, (unsigned)status);
		reported = read_reported(fds[0], rows);
		close(fds[0]);

		g_assert_cmpint(reported, >=, rows);
		if (reported > rows)
			commits_seen++;
		rows = check_file(path, reported);
		g_test_message("kill %d after %d ms: %" PRId64
			       " rows reported, %" PRId64 " in the file",
			       kill_no, delay_ms, reported, rows);
	}
	/* Most children must have got far enough to commit, or the test
	 * proves little. */
	g_assert_cmpint(commits_seen, >=, KILLS / 2);

	/* And the store itself opens what is left. */
	s = store_open(path, NULL, &error);
	g_assert_no_error(error);
	store_close(s);
	g_assert_true(test_remove_tree(dir));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/store/crash/kill-9", test_kill9);
	return g_test_run();
}
