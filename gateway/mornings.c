// SPDX-License-Identifier: MIT
#define G_LOG_DOMAIN "recoveryd"

#include "gateway/mornings.h"

#include <malloc.h>

#include "gateway/core/analyze.h"
#include "gateway/engine/morning.h"
#include "gateway/spot-watch.h"

/* A morning first handled this long after the latest time (the daemon was
 * down, or the clock only now set) gets its state but no alert. */
#define LATE_S (30 * 60)

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
		       const struct recovery_day *day)
{
	char date[16];

	if (publish_alert(d->publish, p, day))
		return;
	clock_day_format(day->day, date, sizeof(date));
	g_warning("%s: the morning alert of %s could not be built",
		  p->cfg->name, date);
}

/* The latest stored state message of @p, queued again (retained). */
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
}

/* Nights since the last announced morning (at most MORNINGS_BACKFILL_DAYS back)
 * that have no result because the daemon was not running then: analysed
 * now, so that baselines have them. Returns the first such day, or @today.
 * A person with no result in that span starts afresh today. */
static int32_t backfill(struct daemon *d, struct household_person *p,
			int32_t today)
{
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GError) error = NULL;
	int32_t last;

	if (!store_get_results(d->store, p->user_id,
			       today - MORNINGS_BACKFILL_DAYS, today - 1,
			       results, &error)) {
		daemon_store_failed(d, "reading results", error);
		return today;
	}
	if (!results->len)
		return today;
	last =
	    g_array_index(results, struct store_result, results->len - 1).day;
	for (int32_t day = last + 1; day < today; day++)
		if (!analyze_night(d->store, d->zone, &p->analysis, day, NULL,
				   &error)) {
			daemon_store_failed(d, "analysing a missed night",
					    error);
			return today;
		}
	return last + 1;
}

static void do_morning(struct daemon *d, int person, int32_t today,
		       enum morning_reason reason, bool late)
{
	struct household_person *p =
	    household_person(d->household, (size_t)person);
	struct morning_result result = { 0 };
	g_autoptr(GError) error = NULL;
	int32_t from = backfill(d, p, today);
	char date[16];

	clock_day_format(today, date, sizeof(date));
	if (!analyze_night(d->store, d->zone, &p->analysis, today, NULL,
			   &error) ||
	    !analyze_results(d->store, &p->analysis, from, today,
			     daemon_now_ms(d), keep_last_day, &result,
			     &error)) {
		daemon_store_failed(d, "analysing the night", error);
		/* Tried again at the next check. */
		return;
	}
	morning_announced(&p->morning, today);
	/* A night's samples were just loaded and freed: give the pages
	 * back rather than keep the peak for the rest of the day. */
	malloc_trim(0);
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
					daemon_now_ms(d), &error))
			daemon_store_failed(d, "recording the morning", error);
		return;
	}
	send_alert(d, p, &result.day);
	if (!store_mark_alerted(d->store, p->user_id, today, daemon_now_ms(d),
				&error))
		daemon_store_failed(d, "recording the alert", error);
	d->alerts++;
	g_message("%s: night of %s analysed (%s); morning alert queued",
		  p->cfg->name, date, morning_reason_name(reason));
	g_debug("%s: score %d, zone %s, advice %s", p->cfg->name,
		result.day.score.score, score_zone_name(result.day.score.zone),
		advice_state_name(result.day.advice.state));
	daemon_update_status(d);
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

void mornings_check(struct daemon *d)
{
	int64_t now = daemon_now_ms(d);
	int32_t today = clock_day_of(d->zone, now);
	int now_s = (int)((now - clock_day_start_ms(d->zone, today)) / 1000);

	if (!household_clock_trusted(d->household))
		return;
	for (size_t i = 0; i < household_person_count(d->household); i++) {
		struct household_person *p = household_person(d->household, i);
		struct morning_params params = {
			.alert_s = p->cfg->alert_s == CONFIG_ALERT_AT_WAKE
				       ? MORNING_AT_WAKE
				       : p->cfg->alert_s,
			.latest_s = p->cfg->alert_latest_s,
			.wake_min = p->cfg->wake_min,
		};
		enum morning_reason reason =
		    morning_check(&p->morning, &params, today, now_s, now);

		if (spot_check_under_way(d, (int)i, reason))
			continue;
		if (reason != MORNING_NOT_YET && reason != MORNING_DONE)
			do_morning(d, (int)i, today, reason,
				   reason == MORNING_LATEST &&
				       now_s > params.latest_s + LATE_S);
	}
}
