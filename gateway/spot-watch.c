// SPDX-License-Identifier: MIT
#include "gateway/spot-watch.h"

#include "gateway/engine/spot.h"

/* How often an attempt under way is judged: the live value's seconds. */
#define TICK_MS 1000

struct session {
	struct spot_live live;
	/* The morning window of the session's first beat; until_ms 0: the
	 * session started outside it, not a spot check. */
	int64_t from_ms, until_ms;
	int32_t day; /* the local day of that morning */
	/* The verdict stays in the live value until the day is over. */
	int64_t shown_until_ms;
	bool active; /* an attempt under way: judged each tick */
};

struct spot_watch {
	household *h;
	const clock_zone *zone;
	struct spot_watch_ops ops;
	void *data;
	GPtrArray
	    *sessions; /* struct session *, by person; NULL: no beat yet */
	guint timer;
};

spot_watch *spot_watch_new(household *h, const clock_zone *zone,
			   const struct spot_watch_ops *ops, void *data)
{
	spot_watch *w = g_new0(spot_watch, 1);

	w->h = h;
	w->zone = zone;
	w->ops = *ops;
	w->data = data;
	w->sessions = g_ptr_array_new_with_free_func(g_free);
	return w;
}

void spot_watch_free(spot_watch *w)
{
	if (!w)
		return;
	g_clear_handle_id(&w->timer, g_source_remove);
	g_ptr_array_free(w->sessions, TRUE);
	g_free(w);
}

void spot_watch_set_household(spot_watch *w, household *h)
{
	w->h = h;
	g_ptr_array_set_size(w->sessions, 0);
	for (size_t i = 0; i < household_person_count(h); i++) {
		struct household_live *l = &household_person(h, i)->live;

		/* Nobody follows it any more: no "measuring" left behind. */
		if (l->spot && (l->spot_phase == SPOT_PHASE_SETTLING ||
				l->spot_phase == SPOT_PHASE_MEASURING))
			l->spot = false;
	}
}

/*
 * The morning window (spot.h: the usual wake time - 1 h to + 3 h) that
 * holds @s's first beat @t_ms, on its own day or, for a wake time just
 * after midnight, the next; until_ms 0 when neither does.
 */
static void morning_window(spot_watch *w, int person, int64_t t_ms,
			   struct session *s)
{
	int wake_min = household_person(w->h, (size_t)person)->cfg->wake_min;
	int32_t day = clock_day_of(w->zone, t_ms);

	s->from_ms = s->until_ms = s->shown_until_ms = 0;
	for (int32_t d = day; d <= day + 1; d++) {
		int64_t wake = clock_local_ms(w->zone, d, wake_min);

		if (t_ms >= wake - SPOT_BEFORE_WAKE_MS &&
		    t_ms < wake + SPOT_AFTER_WAKE_MS) {
			s->day = d;
			s->from_ms = wake - SPOT_BEFORE_WAKE_MS;
			s->until_ms = wake + SPOT_AFTER_WAKE_MS;
			s->shown_until_ms = MAX(
			    s->until_ms, clock_day_start_ms(w->zone, d + 1));
			return;
		}
	}
}

static gboolean tick_cb(gpointer data);

void spot_watch_beat(spot_watch *w, int person, int64_t t_ms, double rr_ms,
		     int64_t arrival_ms)
{
	struct session *s;

	if (person < 0 || (size_t)person >= household_person_count(w->h))
		return;
	if ((guint)person >= w->sessions->len)
		g_ptr_array_set_size(w->sessions, person + 1);
	s = g_ptr_array_index(w->sessions, (guint)person);
	if (!s) {
		/* Once per person: the buffer of a 10-minute session. */
		s = g_new0(struct session, 1);
		g_ptr_array_index(w->sessions, (guint)person) = s;
	}
	spot_live_beat(&s->live, t_ms, rr_ms, arrival_ms);
	if (s->live.n == 1) {
		/* A new session: is it this morning's? */
		morning_window(w, person, t_ms, s);
		s->active = s->until_ms != 0;
	}
	if (s->active && !w->timer)
		w->timer = g_timeout_add(TICK_MS, tick_cb, w);
}

/* Judges @person's session at @now_ms into their live value. */
static void judge(spot_watch *w, int person, struct session *s, int64_t now_ms)
{
	struct household_live *l =
	    &household_person(w->h, (size_t)person)->live;
	bool was = l->spot;
	enum spot_phase phase = l->spot_phase;
	int32_t measured_s = l->spot_measured_s;
	struct spot_progress p;

	if (!spot_live_progress(&s->live, now_ms, s->from_ms, s->until_ms,
				&p)) {
		/* It outgrew a spot check: training, or the strap kept on. */
		s->active = false;
		if (was) {
			l->spot = false;
			l->updated_ms = now_ms;
			w->ops.live_changed(w->data, person, true);
		}
		return;
	}
	s->active = !p.stopped;
	if (p.stopped && w->ops.finished)
		/* Judged no more: the only call for this attempt. */
		w->ops.finished(w->data, person, s->day,
				s->live.last_arrival_ms);
	l->spot = true;
	l->spot_phase = p.phase;
	l->spot_measured_s = p.measured_s;
	l->spot_rmssd_ms = p.rmssd_ms;
	l->spot_until_ms = s->shown_until_ms;
	if (!was || phase != p.phase) {
		l->updated_ms = now_ms;
		w->ops.live_changed(w->data, person, true);
	} else if (measured_s != p.measured_s) {
		l->updated_ms = now_ms;
		w->ops.live_changed(w->data, person, false);
	}
}

/* Judges every attempt under way; whether one still is. */
static bool judge_all(spot_watch *w)
{
	int64_t now = w->ops.now_ms(w->data);
	bool any = false;

	for (guint i = 0; i < w->sessions->len; i++) {
		struct session *s = g_ptr_array_index(w->sessions, i);

		if (!s || !s->active)
			continue;
		judge(w, (int)i, s, now);
		any |= s->active;
	}
	return any;
}

void spot_watch_tick(spot_watch *w)
{
	judge_all(w);
}

static gboolean tick_cb(gpointer data)
{
	spot_watch *w = data;

	if (judge_all(w))
		return G_SOURCE_CONTINUE;
	/* Nothing under way: no wake-ups until the next attempt. */
	w->timer = 0;
	return G_SOURCE_REMOVE;
}

bool spot_watch_in_progress(const spot_watch *w, int person)
{
	const struct session *s;
	struct spot_progress p;

	if (!w || person < 0 || (guint)person >= w->sessions->len)
		return false;
	s = g_ptr_array_index(w->sessions, (guint)person);
	if (!s || !s->active)
		return false;
	/* Judged now, not at the last tick: the demo's clock runs days in a
	 * second, and a session may have outgrown a spot check since. */
	return spot_live_progress(&s->live, w->ops.now_ms(w->data), s->from_ms,
				  s->until_ms, &p) &&
	       !p.stopped;
}
