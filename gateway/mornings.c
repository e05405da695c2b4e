// SPDX-License-Identifier: MIT
#define G_LOG_DOMAIN "recoveryd"

#include "gateway/mornings.h"

#include <malloc.h>
#include <string.h>

#include "gateway/common/json-text.h"
#include "gateway/core/analyze.h"
#include "gateway/core/report.h"
#include "gateway/engine/morning.h"
#include "gateway/spot-watch.h"

/* A morning first handled this long after the latest time (the daemon was
 * down, or the clock only now set) gets its state but no alert. */
#define LATE_S (30 * 60)
/* A held alert or a re-analysis that failed (the store: disk full, card
 * gone read-only) is tried again this much later, not in a tight loop. */
#define RETRY_MS 10000

struct morning_result {
	bool have;
	struct recovery_day day;
};

static void keep_last_day(const struct recovery_day *day, void *data)
{
	struct morning_result *r = data;

	r->have = true;
	r->day = *day;
}

static void send_alert(struct daemon *d, struct household_person *p,
		       const struct recovery_day *day, bool update)
{
	char date[16];

	if (publish_alert(d->publish, p, day, update))
		return;
	clock_day_format(day->day, date, sizeof(date));
	g_warning("%s: the morning alert of %s could not be built",
		  p->cfg->name, date);
}

/* The retained history of @p: the last REPORT_HISTORY_DAYS up to today
 * (not @to_day: a day analysed again later must not cut the days after
 * it from the charts). */
static void publish_history_of(struct daemon *d, struct household_person *p)
{
	int32_t today = clock_day_of(d->zone, daemon_now_ms(d));
	int32_t from = today - (REPORT_HISTORY_DAYS - 1);
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GArray) nights =
	    g_array_new(FALSE, FALSE, sizeof(struct night_metrics));
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) history = NULL;
	g_autofree char *json = NULL;

	if (!store_get_results(d->store, p->user_id, from, today, results,
			       &error) ||
	    !store_get_nights(d->store, p->user_id, from, today, nights,
			      &error)) {
		daemon_store_failed(d, "reading the history", error);
		return;
	}
	history = report_history_build(results, nights, false);
	json = json_text_from_node(history);
	publish_history(d->publish, p, json);
}

/* The latest stored state message of @p, queued again (retained), and
 * the history the dashboard draws. */
void mornings_queue_state(struct daemon *d, struct household_person *p,
			  int32_t from_day, int32_t to_day)
{
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GError) error = NULL;
	const struct store_result *last;

	if (!store_get_results(d->store, p->user_id, from_day, to_day, results,
			       &error)) {
		daemon_store_failed(d, "reading results", error);
		return;
	}
	if (!results->len)
		return;
	last = &g_array_index(results, struct store_result, results->len - 1);
	publish_state(d->publish, p, last->state_json);
	publish_history_of(d, p);
}

/* Per person, what is still to do for a morning already announced. */
struct pending {
	/* The alert of held_day waits for the day's check-in until
	 * hold_until_ms (0: none held); checkin_in: it came, send now. */
	int32_t held_day;
	int64_t hold_until_ms;
	bool checkin_in;
	/* Data of late_day (and maybe later days) came after its morning:
	 * analysed again at late_due_ms (0: nothing pending). */
	int32_t late_day;
	int64_t late_due_ms;
	int64_t late_last_ms; /* the last re-analysis */
	/* The last analysis: days analysed_from..analysed_to, at
	 * analysed_ms; what was stored before it is in it. */
	int32_t analysed_from, analysed_to;
	int64_t analysed_ms;
};

static struct pending *pending_of(struct daemon *d,
				  const struct household_person *p)
{
	struct pending *pd;

	if (!d->mornings)
		d->mornings = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, g_free);
	pd = g_hash_table_lookup(d->mornings, p->cfg->name);
	if (!pd) {
		pd = g_new0(struct pending, 1);
		g_hash_table_insert(d->mornings, g_strdup(p->cfg->name), pd);
	}
	return pd;
}

/* The first day of the span to analyse this morning: the day after the
 * last stored result when nights since then (at most
 * MORNINGS_BACKFILL_DAYS back) have none because the daemon was not
 * running, so that baselines have them; else @today. A person with no
 * result in that span starts afresh today. */
static int32_t first_unanalysed(struct daemon *d, struct household_person *p,
				int32_t today)
{
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GError) error = NULL;
	const struct store_result *last;

	if (!store_get_results(d->store, p->user_id,
			       today - MORNINGS_BACKFILL_DAYS, today - 1,
			       results, &error)) {
		daemon_store_failed(d, "reading results", error);
		return today;
	}
	if (!results->len)
		return today;
	last = &g_array_index(results, struct store_result, results->len - 1);
	return last->day + 1;
}

/* Nights @from..@to analysed from the raw readings, then their results
 * stored; @ret gets the last day. FALSE (logged) when the store failed:
 * tried again at the next check. */
static bool analyse_days(struct daemon *d, struct household_person *p,
			 int32_t from, int32_t to, struct morning_result *ret)
{
	g_autoptr(GError) error = NULL;

	*ret = (struct morning_result){ 0 };
	for (int32_t day = from; day <= to; day++)
		if (!analyze_night(d->store, d->zone, &p->analysis, day, NULL,
				   &error)) {
			daemon_store_failed(d, "analysing a night", error);
			return false;
		}
	if (!analyze_results(d->store, &p->analysis, from, to, daemon_now_ms(d),
			     keep_last_day, ret, &error)) {
		daemon_store_failed(d, "storing a day's result", error);
		return false;
	}
	/* A night's samples were just loaded and freed: give the pages
	 * back rather than keep the peak for the rest of the day. */
	malloc_trim(0);
	{
		struct pending *pd = pending_of(d, p);

		pd->analysed_from = from;
		pd->analysed_to = to;
		pd->analysed_ms = daemon_now_ms(d);
	}
	return true;
}

/* The alert of @day out (an update when @update), and recorded with the
 * state it told. */
static void announce(struct daemon *d, struct household_person *p,
		     const struct recovery_day *day, bool update)
{
	g_autoptr(GError) error = NULL;

	send_alert(d, p, day, update);
	if (!store_mark_alerted(d->store, p->user_id, day->day,
				daemon_now_ms(d),
				advice_state_name(day->advice.state), &error))
		daemon_store_failed(d, "recording the alert", error);
	if (update)
		d->updates++;
	else
		d->alerts++;
	g_debug("%s: score %d, zone %s, advice %s%s", p->cfg->name,
		day->score.score, score_zone_name(day->score.zone),
		advice_state_name(day->advice.state),
		update ? " (update)" : "");
	daemon_update_status(d);
}

static void do_morning(struct daemon *d, int person, int32_t today,
		       enum morning_reason reason, bool late)
{
	struct household_person *p =
	    household_person(d->household, (size_t)person);
	struct morning_result result;
	g_autoptr(GError) error = NULL;
	char date[16];
	int wait_min = p->cfg->alert_wait_checkin_min;

	clock_day_format(today, date, sizeof(date));
	if (!analyse_days(d, p, first_unanalysed(d, p, today), today, &result))
		return;
	morning_announced(&p->morning, today);
	if (!result.have || result.day.day != today)
		return;
	mornings_queue_state(d, p, today, today);
	if (late) {
		/* Started (or the clock set) long after the latest time: the
		 * state is news for the dashboard, a morning alert at this
		 * hour is not. */
		g_message("%s: night of %s analysed late (%s); no morning "
			  "alert this late",
			  p->cfg->name, date, morning_reason_name(reason));
		if (!store_mark_alerted(d->store, p->user_id, today,
					daemon_now_ms(d), NULL, &error))
			daemon_store_failed(d, "recording the morning", error);
		return;
	}
	if (wait_min > 0 && !result.day.advice.checked_in) {
		struct pending *pd = pending_of(d, p);

		pd->held_day = today;
		pd->hold_until_ms =
		    daemon_now_ms(d) + (int64_t)wait_min * 60000;
		pd->checkin_in = false;
		g_message("%s: night of %s analysed (%s); the morning alert "
			  "waits up to %d min for the check-in",
			  p->cfg->name, date, morning_reason_name(reason),
			  wait_min);
		return;
	}
	announce(d, p, &result.day, false);
	g_message("%s: night of %s analysed (%s); morning alert queued",
		  p->cfg->name, date, morning_reason_name(reason));
}

/* The held alert of @p goes out: the check-in came, or the wait is over.
 * The day is analysed again first, so the alert has whatever came. */
static void release_held(struct daemon *d, struct household_person *p,
			 struct pending *pd)
{
	int32_t day = pd->held_day;
	struct morning_result result;
	char date[16];

	if (!analyse_days(d, p, day, day, &result)) {
		/* Still held: tried again a little later. */
		pd->checkin_in = false;
		pd->hold_until_ms = daemon_now_ms(d) + RETRY_MS;
		return;
	}
	clock_day_format(day, date, sizeof(date));
	pd->held_day = 0;
	if (!result.have || result.day.day != day)
		return;
	mornings_queue_state(d, p, day, day);
	announce(d, p, &result.day, false);
	g_message("%s: morning alert of %s queued (%s)", p->cfg->name, date,
		  pd->checkin_in ? "the check-in came"
				 : "no check-in in the time it waited");
	pd->checkin_in = false;
}

/* Data came after the morning of pd->late_day: that day (and any later
 * one announced since) analysed again, the newest day's state published,
 * and its alert sent again when its advice state changed. */
static void reanalyse_late(struct daemon *d, struct household_person *p,
			   struct pending *pd, int64_t now)
{
	g_autoptr(GArray) before =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GError) error = NULL;
	int32_t from = pd->late_day, to = p->morning.done_day;
	const struct store_result *told = NULL;
	struct morning_result result;
	const char *state;
	char date[16];

	if (from > to) {
		pd->late_day = 0;
		pd->late_due_ms = 0;
		return;
	}
	if (!store_get_results(d->store, p->user_id, to, to, before, &error)) {
		daemon_store_failed(d, "reading results", error);
		pd->late_due_ms = now + RETRY_MS;
		return;
	}
	if (before->len)
		told = &g_array_index(before, struct store_result, 0);
	if (!analyse_days(d, p, from, to, &result)) {
		pd->late_due_ms = now + RETRY_MS;
		return;
	}
	pd->late_day = 0;
	pd->late_due_ms = 0;
	pd->late_last_ms = now;
	if (!result.have || result.day.day != to)
		return;
	mornings_queue_state(d, p, to, to);
	clock_day_format(to, date, sizeof(date));
	state = advice_state_name(result.day.advice.state);
	/* Only what an alert already told can change; a held alert goes out
	 * with the new analysis anyway. */
	if (!told || !told->alerted_state[0] || pd->held_day == to ||
	    strcmp(told->alerted_state, state) == 0) {
		g_message("%s: day %s analysed again with data that came "
			  "after its morning; state updated",
			  p->cfg->name, date);
		return;
	}
	announce(d, p, &result.day, true);
	g_message("%s: day %s analysed again with data that came after its "
		  "morning; the advice changed: update alert queued",
		  p->cfg->name, date);
}

static gboolean mornings_timer_cb(gpointer data)
{
	struct daemon *d = data;

	d->mornings_timer = 0;
	mornings_check(d);
	return G_SOURCE_REMOVE;
}

/* Outside demo mode, a timer for the next held alert or re-analysis due
 * (the 10 s morning check would do, late; this is on time). Demo mode's
 * steps check every simulated 10 minutes. */
static void schedule(struct daemon *d)
{
	int64_t next = INT64_MAX, now;
	GHashTableIter it;
	gpointer value;

	g_clear_handle_id(&d->mornings_timer, g_source_remove);
	if (d->demo || !d->mornings)
		return;
	g_hash_table_iter_init(&it, d->mornings);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct pending *pd = value;

		if (pd->held_day)
			next =
			    MIN(next, pd->checkin_in ? 0 : pd->hold_until_ms);
		if (pd->late_day)
			next = MIN(next, pd->late_due_ms);
	}
	if (next == INT64_MAX)
		return;
	now = daemon_now_ms(d);
	/* Bounded: a clock set far back must not park the timer for
	 * weeks; the 10 s check covers it anyway. */
	d->mornings_timer = g_timeout_add(
	    (guint)CLAMP(next - now, 0, 3600 * 1000), mornings_timer_cb, d);
}

static void run_pending(struct daemon *d)
{
	int64_t now = daemon_now_ms(d);

	if (!d->mornings)
		return;
	for (size_t i = 0; i < household_person_count(d->household); i++) {
		struct household_person *p = household_person(d->household, i);
		struct pending *pd =
		    g_hash_table_lookup(d->mornings, p->cfg->name);

		if (!pd)
			continue;
		if (pd->held_day &&
		    (pd->checkin_in || now >= pd->hold_until_ms))
			release_held(d, p, pd);
		if (pd->late_day && now >= pd->late_due_ms)
			reanalyse_late(d, p, pd, now);
	}
	schedule(d);
}

/* Day @day of @pd's person is analysed again (with any later day
 * announced since) once a burst of late data has settled, at most once a
 * minute. */
static void late_input(struct daemon *d, struct pending *pd, int32_t day)
{
	pd->late_day = pd->late_day ? MIN(pd->late_day, day) : day;
	if (!pd->late_due_ms)
		pd->late_due_ms =
		    MAX(daemon_now_ms(d) + MORNINGS_LATE_SETTLE_MS,
			pd->late_last_ms + MORNINGS_LATE_MIN_INTERVAL_MS);
	schedule(d);
}

void mornings_day_input(struct daemon *d, int person, int64_t t_ms,
			enum household_input kind)
{
	struct household_person *p =
	    household_person(d->household, (size_t)person);
	int32_t day = clock_day_of(d->zone, t_ms);
	struct pending *pd;

	/* Its morning is still to come, and will read it. */
	if (day > p->morning.done_day)
		return;
	pd = pending_of(d, p);
	if (pd->held_day == day) {
		/* The held alert waited for this: out now, with it. A
		 * weigh-in does not release it; the release reads it. */
		if (kind == HOUSEHOLD_INPUT_CHECKIN)
			pd->checkin_in = true;
		schedule(d);
		return;
	}
	late_input(d, pd, day);
}

void mornings_spot_check(struct daemon *d, int person, int32_t day,
			 int64_t last_arrival_ms)
{
	struct household_person *p =
	    household_person(d->household, (size_t)person);
	struct pending *pd;

	if (day > p->morning.done_day)
		return;
	pd = pending_of(d, p);
	/* A held alert's release reads it; an analysis that ran after its
	 * last beat came (the morning waited for it, or came just after it
	 * stopped) has it already. */
	if (pd->held_day == day ||
	    (day >= pd->analysed_from && day <= pd->analysed_to &&
	     pd->analysed_ms > last_arrival_ms))
		return;
	g_debug("%s: a spot check ended after its morning's analysis",
		p->cfg->name);
	late_input(d, pd, day);
}

void mornings_stop(struct daemon *d)
{
	g_clear_handle_id(&d->mornings_timer, g_source_remove);
	g_clear_pointer(&d->mornings, g_hash_table_unref);
}

/*
 * A spot check under way when the morning would be analysed: the morning
 * waits for it (at most 10 minutes and 20 s), so that the analysis and the
 * alert see it whole (DESIGN §4).
 */
static bool spot_check_under_way(struct daemon *d, int person,
				 enum morning_reason reason)
{
	if (reason == MORNING_NOT_YET || reason == MORNING_DONE ||
	    !spot_watch_in_progress(d->spot, person))
		return false;
	g_debug("%s: the morning waits for the spot check under way",
		household_person(d->household, (size_t)person)->cfg->name);
	return true;
}

static struct morning_params morning_params_of(const struct household_person *p)
{
	return (struct morning_params){
		.alert_s = p->cfg->alert_s == CONFIG_ALERT_AT_WAKE
			       ? MORNING_AT_WAKE
			       : p->cfg->alert_s,
		.latest_s = p->cfg->alert_latest_s,
		.wake_min = p->cfg->wake_min,
	};
}

int64_t mornings_next_check_ms(struct daemon *d)
{
	int64_t now = daemon_now_ms(d), next = INT64_MAX;
	int32_t today = clock_day_of(d->zone, now);
	int now_s = (int)((now - clock_day_start_ms(d->zone, today)) / 1000);

	if (!household_clock_trusted(d->household))
		return INT64_MAX;
	for (size_t i = 0; i < household_person_count(d->household); i++) {
		struct household_person *p = household_person(d->household, i);
		struct morning_params params = morning_params_of(p);
		enum morning_reason reason =
		    morning_check(&p->morning, &params, today, now_s, now);

		/* Over, but waiting (for a spot check under way). */
		if (reason != MORNING_NOT_YET && reason != MORNING_DONE)
			return now;
		next = MIN(next, morning_next_check_ms(&p->morning, &params,
						       today, now_s, now));
	}
	return next;
}

void mornings_check(struct daemon *d)
{
	int64_t now = daemon_now_ms(d);
	int32_t today = clock_day_of(d->zone, now);
	int now_s = (int)((now - clock_day_start_ms(d->zone, today)) / 1000);

	if (!household_clock_trusted(d->household))
		return;
	for (size_t i = 0; i < household_person_count(d->household); i++) {
		struct household_person *p = household_person(d->household, i);
		struct morning_params params = morning_params_of(p);
		enum morning_reason reason =
		    morning_check(&p->morning, &params, today, now_s, now);

		if (spot_check_under_way(d, (int)i, reason))
			continue;
		if (reason != MORNING_NOT_YET && reason != MORNING_DONE)
			do_morning(d, (int)i, today, reason,
				   reason == MORNING_LATEST &&
				       now_s > params.latest_s + LATE_S);
	}
	run_pending(d);
}
