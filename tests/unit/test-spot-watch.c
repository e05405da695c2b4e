// SPDX-License-Identifier: MIT
/*
 * The spot watch's verdicts (gateway/spot-watch.h): which strap sessions
 * it follows as morning spot checks and reports once finished (the call
 * that re-analyses a morning already announced), and which it leaves
 * alone: a session outside the morning window, one that outgrows a spot
 * check (training, the strap kept on), the night's wear taken up again.
 * A real household over a real store; beats fed with the clock moved a
 * second at a time, each second judged as the watch's timer would.
 */
#include <string.h>

#include <glib.h>

#include "gateway/core/config.h"
#include "gateway/core/household.h"
#include "gateway/spot-watch.h"
#include "tests/support/test-support.h"

#define STRAP "C4:7C:8D:6A:12:34"
/* 2026-03-02 00:00 UTC */
#define DAY0_MS INT64_C(1772409600000)
#define MIN_MS	INT64_C(60000)

static const char conf[] = "[gateway]\n"
			   "timezone=UTC\n"
			   "[user alice]\n"
			   "heart-rate=" STRAP "\n"
			   "wake=07:00\n";

/* A run of beats: from @start_min (minutes after DAY0_MS) for @dur_s. */
struct run {
	int start_min;
	int dur_s;
};

static const struct {
	const char *name;
	struct run runs[2];
	int finished;	       /* ops.finished calls */
	enum spot_phase phase; /* the last verdict, when finished */
} cases[] = {
	{ "clean", { { 7 * 60 + 10, 210 } }, 1, SPOT_PHASE_DONE },
	{ "too-short", { { 7 * 60 + 10, 40 } }, 1, SPOT_PHASE_TOO_SHORT },
	{ "two-attempts",
	  { { 7 * 60 + 10, 210 }, { 7 * 60 + 20, 210 } },
	  2,
	  SPOT_PHASE_DONE },
	/* The window is wake - 1 h to + 3 h: 06:00 to 10:00. */
	{ "before-window", { { 5 * 60 + 30, 210 } }, 0, 0 },
	{ "daytime", { { 18 * 60, 210 } }, 0, 0 },
	{ "training-in-window", { { 8 * 60, 15 * 60 } }, 0, 0 },
	/* Worn all night, off for 2 minutes at 06:30, on again. */
	{ "night-wear-again",
	  { { 4 * 60, 150 * 60 }, { 6 * 60 + 32, 210 } },
	  0,
	  0 },
};

struct fixture {
	int64_t now_ms;
	int finished;
	int32_t day;
	int64_t last_arrival_ms;
};

static int64_t now_ms(void *data)
{
	return ((struct fixture *)data)->now_ms;
}

static void on_live(void *data, int person, bool urgent)
{
}

static void on_finished(void *data, int person, int32_t day,
			int64_t last_arrival_ms)
{
	struct fixture *f = data;

	g_assert_cmpint(person, ==, 0);
	f->finished++;
	f->day = day;
	f->last_arrival_ms = last_arrival_ms;
}

static void test_case(gconstpointer data)
{
	const size_t c = GPOINTER_TO_SIZE(data);
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = test_tmp_dir_new("test-spot-watch-XXXXXX");
	g_autofree char *db = g_build_filename(dir, "s.db", NULL);
	g_autoptr(clock_zone) utc = clock_zone_new("UTC", &error);
	struct config *config =
	    config_load_data("spot.conf", conf, strlen(conf), &error);
	store *s = store_open(db, NULL, &error);
	struct household_ops hops = { .live_changed = on_live };
	struct spot_watch_ops ops = {
		.now_ms = now_ms,
		.live_changed = on_live,
		.finished = on_finished,
	};
	struct fixture f = { 0 };
	household *h;
	spot_watch *w;
	int64_t last_beat_ms = 0;

	g_assert_no_error(error);
	h = household_new(config, s, (int32_t)(DAY0_MS / 86400000), &hops, &f,
			  &error);
	g_assert_no_error(error);
	w = spot_watch_new(h, utc, &ops, &f);
	for (size_t r = 0; r < G_N_ELEMENTS(cases[c].runs); r++) {
		const struct run *run = &cases[c].runs[r];
		int64_t t = DAY0_MS + run->start_min * MIN_MS;
		int64_t end = t + run->dur_s * INT64_C(1000);

		if (!run->dur_s)
			continue;
		/* A second at a time: its beats (RR 950 and 1050 ms in
		 * turn), then the watch's judgement. */
		for (f.now_ms = t; f.now_ms < end + 30000; f.now_ms += 1000) {
			while (t < end && t <= f.now_ms) {
				double rr = (t / 1000) % 2 ? 1050.0 : 950.0;

				t += (int64_t)rr;
				spot_watch_beat(w, 0, t, rr, t);
				last_beat_ms = t;
			}
			spot_watch_tick(w);
		}
	}
	g_test_message("%s: %d finished", cases[c].name, f.finished);
	g_assert_cmpint(f.finished, ==, cases[c].finished);
	if (cases[c].finished) {
		const struct household_live *l = &household_person(h, 0)->live;

		/* The last attempt's morning, its last beat. */
		g_assert_cmpint(f.day, ==, (int32_t)(DAY0_MS / 86400000));
		g_assert_cmpint(f.last_arrival_ms, ==, last_beat_ms);
		g_assert_true(l->spot);
		g_assert_cmpint(l->spot_phase, ==, cases[c].phase);
	}
	g_assert_false(spot_watch_in_progress(w, 0));
	spot_watch_free(w);
	household_free(h);
	store_close(s);
	config_free(config);
	g_assert_true(test_remove_tree(dir));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path =
		    g_strdup_printf("/spot-watch/%s", cases[i].name);

		g_test_add_data_func(path, GSIZE_TO_POINTER(i), test_case);
	}
	return g_test_run();
}
