// SPDX-License-Identifier: MIT
/*
 * The store's two budgets (DESIGN §8): run on demand, not a test.
 *
 *   build/tests/bench/bench-store [readings]
 *
 * (a) ingest: @readings RR rows (default 1,000,000) into a file database
 *     in a temporary directory, default batching, real clock: readings/s
 *     on one core (goal >= 200,000/s); the median of 3 runs, each on a
 *     fresh file.
 * (b) SD-card wear: a 1 Hz strap (one heart rate and about one RR interval
 *     a second) for 2 simulated hours with an injected clock, store_tick
 *     called every simulated second as the daemon's timer would: commits
 *     per hour (goal <= 120).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <glib.h>

#include "gateway/core/store.h"
#include "tests/support/test-support.h"

#define T0_MS INT64_C(1732600000000)
#define RUNS  3

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, GError *error)
{
	fprintf(stderr, "bench-store: %s: %s\n", what,
		error ? error->message : "failed");
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One ingest run; returns readings per second. */
static double ingest(long readings, struct store_stats *ret)
{
	GError *error = NULL;
	g_autofree char *dir = g_dir_make_tmp("bench-store-XXXXXX", &error);
	g_autofree char *path = NULL;
	double start, elapsed;
	int64_t user;
	store *s;

	if (!dir)
		die("temporary directory", error);
	path = g_build_filename(dir, "recoveryd.db", NULL);
	s = store_open(path, NULL, &error);
	if (!s || !store_user_id(s, "alice", &user, &error))
		die("open", error);

	start = now_s();
	for (long i = 0; i < readings; i++) {
		/* A plausible night: RR around 1 s, times strictly rising. */
		double rr_ms = 950.0 + (double)(i % 101);

		if (!store_add_rr(s, user, T0_MS + (int64_t)i * 1000, rr_ms,
				  &error))
			die("store_add_rr", error);
	}
	if (!store_flush(s, &error))
		die("flush", error);
	elapsed = now_s() - start;

	store_get_stats(s, ret);
	store_close(s);
	test_remove_tree(dir);
	return (double)readings / elapsed;
}

static int64_t fake_now(void *user_data)
{
	return *(const int64_t *)user_data;
}

/* Simulated 1 Hz strap; returns commits per hour. */
static double strap(double hours, struct store_stats *ret)
{
	GError *error = NULL;
	g_autofree char *dir = g_dir_make_tmp("bench-store-XXXXXX", &error);
	g_autofree char *path = NULL;
	int64_t clock_ms = 0;
	struct store_options opts = {
		.now_ms = fake_now,
		.now_user_data = &clock_ms,
	};
	struct store_stats before;
	long seconds = (long)(hours * 3600);
	int64_t user, beat_ms = T0_MS;
	GRand *rand = g_rand_new_with_seed(42);
	store *s;

	if (!dir)
		die("temporary directory", error);
	path = g_build_filename(dir, "recoveryd.db", NULL);
	s = store_open(path, &opts, &error);
	if (!s || !store_user_id(s, "alice", &user, &error))
		die("open", error);
	store_get_stats(s, &before);

	for (long sec = 0; sec < seconds; sec++) {
		int64_t wall_ms = T0_MS + sec * 1000;

		clock_ms = sec * 1000;
		if (!store_tick(s, &error))
			die("tick", error);
		/* One notification a second: a heart rate, and the beats
		 * that ended since the last one (0-2, about 1 at ~60 bpm). */
		if (!store_add_hr(s, user, wall_ms, 60, &error))
			die("store_add_hr", error);
		while (beat_ms < wall_ms) {
			double rr_ms = g_rand_double_range(rand, 800, 1200);

			beat_ms += (int64_t)rr_ms;
			if (!store_add_rr(s, user, beat_ms, rr_ms, &error))
				die("store_add_rr", error);
		}
	}
	store_get_stats(s, ret);
	ret->commits -= before.commits;
	ret->rows_committed -= before.rows_committed;
	store_close(s);
	test_remove_tree(dir);
	g_rand_free(rand);
	return (double)ret->commits / hours;
}

int main(int argc, char **argv)
{
	long readings = argc > 1 ? atol(argv[1]) : 1000000;
	double rates[RUNS], per_hour;
	struct store_stats st;

	if (readings <= 0) {
		fprintf(stderr, "usage: bench-store [readings]\n");
		return 2;
	}
	for (int i = 0; i < RUNS; i++) {
		rates[i] = ingest(readings, &st);
		printf("ingest run %d: %ld readings, %" PRIu64
		       " commits, %.0f readings/s\n",
		       i + 1, readings, st.commits, rates[i]);
	}
	qsort(rates, RUNS, sizeof(rates[0]), cmp_double);
	printf("(a) ingest, median of %d: %.0f readings/s (goal >= 200000)\n",
	       RUNS, rates[RUNS / 2]);

	per_hour = strap(2.0, &st);
	printf("(b) 1 Hz strap, 2 simulated hours: %" PRIu64
	       " commits of %" PRIu64
	       " rows, %.1f commits/hour (goal <= 120)\n",
	       st.commits, st.rows_committed, per_hour);
	return 0;
}
