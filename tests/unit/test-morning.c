// SPDX-License-Identifier: MIT
#include <glib.h>

#include "gateway/engine/morning.h"

/*
 * Each case is a night told as events in local minutes relative to the
 * midnight that starts @today (negative: the evening before), and the
 * first minute at which the night counts as over, with its reason.
 * Everything happens in a zone-less world: midnight is at 0 ms + DAY.
 */
#define DAY	 20000
#define MIDNIGHT ((int64_t)DAY * 86400000)

enum ev_kind { BED_IN, BED_OUT, STRAP_FROM, STRAP_UNTIL };

struct ev {
	enum ev_kind kind;
	int min;       /* local minutes from midnight */
	int until_min; /* STRAP_FROM: one reading a minute until here */
};

struct morning_case {
	const char *name;
	struct morning_params p;
	struct ev evs[8];
	int ev_count;
	int want_min; /* -1: never before 14:00 */
	enum morning_reason want;
};

#define H(h, m) ((h)*60 + (m))
#define AT_WAKE(latest_h)                                                      \
	{                                                                      \
		MORNING_AT_WAKE, (latest_h)*3600, H(7, 0)                      \
	}
#define AT(h, m, latest_h)                                                     \
	{                                                                      \
		H(h, m) * 60, (latest_h)*3600, H(7, 0)                         \
	}

static const struct morning_case cases[] = {
	{ "/morning/bed/empty-after-night",
	  AT_WAKE(11),
	  { { BED_IN, -60 }, { BED_OUT, H(6, 30) } },
	  2,
	  H(6, 40),
	  MORNING_BED_EMPTY },
	{ "/morning/bed/bathroom-trip-merges",
	  AT_WAKE(11),
	  { { BED_IN, -60 },
	    { BED_OUT, H(5, 10) },
	    { BED_IN, H(5, 18) },
	    { BED_OUT, H(6, 50) } },
	  4,
	  H(7, 0),
	  MORNING_BED_EMPTY },
	{ "/morning/bed/up-at-two-waits-for-gate",
	  AT_WAKE(11),
	  { { BED_IN, -60 },
	    { BED_OUT, H(2, 0) },
	    { BED_IN, H(2, 20) },
	    { BED_OUT, H(6, 0) } },
	  4,
	  H(6, 10),
	  MORNING_BED_EMPTY },
	{ "/morning/bed/left-early-closes-at-gate",
	  AT_WAKE(11),
	  { { BED_IN, -60 }, { BED_OUT, H(4, 0) } },
	  2,
	  H(5, 0),
	  MORNING_BED_EMPTY },
	{ "/morning/bed/short-stay-is-no-night",
	  AT_WAKE(11),
	  { { BED_IN, H(4, 0) }, { BED_OUT, H(6, 0) } },
	  2,
	  H(11, 0),
	  MORNING_LATEST },
	{ "/morning/bed/still-in-bed-latest",
	  AT_WAKE(11),
	  { { BED_IN, -60 } },
	  1,
	  H(11, 0),
	  MORNING_LATEST },
	{ "/morning/alert-time-first",
	  AT(7, 0, 11),
	  { { BED_IN, -60 }, { BED_OUT, H(8, 0) } },
	  2,
	  H(7, 0),
	  MORNING_ALERT_TIME },
	{ "/morning/wake-before-alert-time",
	  AT(8, 0, 11),
	  { { BED_IN, -60 }, { BED_OUT, H(6, 0) } },
	  2,
	  H(6, 10),
	  MORNING_BED_EMPTY },
	{ "/morning/alert-after-latest-is-latest",
	  AT(12, 0, 11),
	  { { BED_IN, -60 } },
	  1,
	  H(11, 0),
	  MORNING_LATEST },
	{ "/morning/strap/off-after-night",
	  AT_WAKE(11),
	  { { STRAP_FROM, -90, H(6, 45) } },
	  1,
	  H(6, 55),
	  MORNING_STRAP_OFF },
	{ "/morning/strap/dropout-merges",
	  AT_WAKE(11),
	  { { STRAP_FROM, -90, H(3, 30) }, { STRAP_FROM, H(3, 50), H(6, 45) } },
	  2,
	  H(6, 55),
	  MORNING_STRAP_OFF },
	{ "/morning/strap/ignored-while-in-bed",
	  AT_WAKE(11),
	  { { BED_IN, -60 },
	    { STRAP_FROM, -90, H(6, 0) },
	    { BED_OUT, H(7, 30) } },
	  3,
	  H(7, 40),
	  MORNING_BED_EMPTY },
	{ "/morning/strap/yesterday-afternoon-is-not-tonight",
	  AT_WAKE(11),
	  { { STRAP_FROM, -H(10, 0), -H(6, 0) } },
	  1,
	  H(11, 0),
	  MORNING_LATEST },
	{ "/morning/strap/night-elsewhere",
	  AT_WAKE(11),
	  { { BED_OUT, -H(3, 0) }, { STRAP_FROM, -90, H(6, 45) } },
	  2,
	  H(6, 55),
	  MORNING_STRAP_OFF },
	{ "/morning/nothing-at-all",
	  AT_WAKE(10),
	  { { BED_OUT, -H(3, 0) } },
	  1,
	  H(10, 0),
	  MORNING_LATEST },
};

static int64_t at(int min)
{
	return MIDNIGHT + (int64_t)min * 60000;
}

static void feed(struct morning_tracker *t, const struct ev *e)
{
	switch (e->kind) {
	case BED_IN:
		morning_bed(t, at(e->min), true);
		break;
	case BED_OUT:
		morning_bed(t, at(e->min), false);
		break;
	case STRAP_FROM:
		for (int m = e->min; m <= e->until_min; m++)
			morning_strap(t, at(m));
		break;
	case STRAP_UNTIL:
	default:
		break;
	}
}

static void test_case(const void *data)
{
	const struct morning_case *c = data;
	struct morning_tracker t;
	int next = 0;
	/* morning_next_check_ms at the last minute asked, and whether input
	 * came since: a night may close before that instant only then. */
	int64_t due_ms = INT64_MAX;
	bool input = true;

	morning_init(&t, DAY - 1);
	/* Walk the clock a minute at a time from 18:00, feeding events as
	 * their time comes, the way the daemon sees them. */
	for (int m = -H(12, 0); m <= H(14, 0); m++) {
		enum morning_reason r;

		while (next < c->ev_count && c->evs[next].min <= m) {
			feed(&t, &c->evs[next++]);
			input = true;
		}
		if (m < 0)
			continue;
		r = morning_check(&t, &c->p, DAY, m * 60, at(m));
		if (r == MORNING_NOT_YET) {
			int64_t due = morning_next_check_ms(&t, &c->p, DAY,
							    m * 60, at(m));

			g_assert_cmpint(due, >, at(m));
			due_ms = due;
			input = false;
			continue;
		}
		/* Nothing came since the last answer: it said when. */
		if (!input)
			g_assert_cmpint(at(m), >=, due_ms);
		g_assert_cmpint(m, ==, c->want_min);
		g_assert_cmpstr(morning_reason_name(r), ==,
				morning_reason_name(c->want));
		morning_announced(&t, DAY);
		g_assert_cmpint(morning_check(&t, &c->p, DAY, m * 60, at(m)),
				==, MORNING_DONE);
		g_assert_cmpint(
		    morning_next_check_ms(&t, &c->p, DAY, m * 60, at(m)), ==,
		    INT64_MAX);
		return;
	}
	g_assert_cmpint(-1, ==, c->want_min);
}

/* After the announcement, the next night starts from nothing: yesterday's
 * stay does not close tomorrow before a new one. */
static void test_next_night(void)
{
	struct morning_params p = AT_WAKE(11);
	struct morning_tracker t;

	morning_init(&t, DAY - 1);
	morning_bed(&t, at(-60), true);
	morning_bed(&t, at(H(6, 30)), false);
	g_assert_cmpint(morning_check(&t, &p, DAY, H(6, 40) * 60, at(H(6, 40))),
			==, MORNING_BED_EMPTY);
	morning_announced(&t, DAY);
	/* Tomorrow at 06:40 with no bed since: nothing closed. */
	g_assert_cmpint(
	    morning_check(&t, &p, DAY + 1, H(6, 40) * 60, at(H(24 + 6, 40))),
	    ==, MORNING_NOT_YET);
	/* An older bed report than the last is ignored. */
	morning_bed(&t, at(H(24 - 1, 0)), true);
	morning_bed(&t, at(H(20, 0)), false);
	g_assert_true(t.bed_occupied);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_test_add_data_func(cases[i].name, &cases[i], test_case);
	g_test_add_func("/morning/next-night", test_next_night);
	return g_test_run();
}
