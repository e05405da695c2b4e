// SPDX-License-Identifier: MIT
#include "gateway/engine/morning.h"

#define MIN_MS (60 * (int64_t)1000)

void morning_init(struct morning_tracker *t, int32_t done_day)
{
	*t = (struct morning_tracker){ .done_day = done_day };
}

static void span_extend(struct morning_span *s, int64_t t_ms)
{
	if (!s->start_ms || t_ms - s->last_ms > MORNING_MERGE_GAP_MIN * MIN_MS)
		s->start_ms = t_ms;
	if (t_ms > s->last_ms)
		s->last_ms = t_ms;
}

void morning_bed(struct morning_tracker *t, int64_t t_ms, bool occupied)
{
	if (t->bed_known && t_ms < t->bed_state_ms)
		return;
	if (t->bed_occupied)
		t->bed.last_ms = t_ms; /* in bed all along until now */
	else if (occupied)
		span_extend(&t->bed, t_ms);
	t->bed_known = true;
	t->bed_occupied = occupied;
	t->bed_state_ms = t_ms;
}

void morning_strap(struct morning_tracker *t, int64_t t_ms)
{
	if (t_ms < t->strap.last_ms)
		return;
	span_extend(&t->strap, t_ms);
}

/* A presence that lasted a night, ended at least @quiet_min ago, and ended
 * this morning (after local midnight, @midnight_ms). */
static bool span_closed(const struct morning_span *s, int64_t now_ms,
			int64_t midnight_ms, int quiet_min)
{
	return s->start_ms && s->last_ms >= midnight_ms &&
	       now_ms - s->last_ms >= quiet_min * MIN_MS &&
	       s->last_ms - s->start_ms >= MORNING_MIN_NIGHT_MIN * MIN_MS;
}

enum morning_reason morning_check(const struct morning_tracker *t,
				  const struct morning_params *p, int32_t today,
				  int now_s, int64_t now_ms)
{
	int gate_s = (p->wake_min - MORNING_GATE_BEFORE_WAKE_MIN) * 60;
	/* Off by the hour on the two DST days, which only moves where
	 * "this morning" starts. */
	int64_t midnight_ms = now_ms - (int64_t)now_s * 1000;

	if (today <= t->done_day)
		return MORNING_DONE;
	if (now_s >= p->latest_s &&
	    (p->alert_s == MORNING_AT_WAKE || p->alert_s >= p->latest_s))
		return MORNING_LATEST;
	if (p->alert_s != MORNING_AT_WAKE && now_s >= p->alert_s)
		return MORNING_ALERT_TIME;
	if (now_s < gate_s)
		return MORNING_NOT_YET;
	if (t->bed_known && !t->bed_occupied &&
	    span_closed(&t->bed, now_ms, midnight_ms, MORNING_BED_EMPTY_MIN))
		return MORNING_BED_EMPTY;
	/* With a bed sensor the bed decides, unless the night was spent
	 * elsewhere: the bed left before the strap went on. */
	if ((!t->bed_known ||
	     (!t->bed_occupied && t->bed.last_ms < t->strap.start_ms)) &&
	    span_closed(&t->strap, now_ms, midnight_ms, MORNING_STRAP_OFF_MIN))
		return MORNING_STRAP_OFF;
	return MORNING_NOT_YET;
}

static int64_t max_ms(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* @at if it is after @now_ms and before *@next. */
static void earlier(int64_t *next, int64_t now_ms, int64_t at)
{
	if (at > now_ms && at < *next)
		*next = at;
}

int64_t morning_next_check_ms(const struct morning_tracker *t,
			      const struct morning_params *p, int32_t today,
			      int now_s, int64_t now_ms)
{
	int64_t midnight_ms = now_ms - (int64_t)now_s * 1000;
	int64_t gate_ms =
	    midnight_ms +
	    (int64_t)(p->wake_min - MORNING_GATE_BEFORE_WAKE_MIN) * MIN_MS;
	int64_t next = INT64_MAX;

	if (today <= t->done_day)
		return INT64_MAX;
	earlier(&next, now_ms, midnight_ms + (int64_t)p->latest_s * 1000);
	if (p->alert_s != MORNING_AT_WAKE)
		earlier(&next, now_ms,
			midnight_ms + (int64_t)p->alert_s * 1000);
	/* Whether a window closes also depends on what the sensors said,
	 * which only new input changes: its quiet time (not before the
	 * gate) is the instant to look again. */
	if (t->bed.start_ms && t->bed.last_ms >= midnight_ms)
		earlier(&next, now_ms,
			max_ms(gate_ms, t->bed.last_ms +
					    MORNING_BED_EMPTY_MIN * MIN_MS));
	if (t->strap.start_ms && t->strap.last_ms >= midnight_ms)
		earlier(&next, now_ms,
			max_ms(gate_ms, t->strap.last_ms +
					    MORNING_STRAP_OFF_MIN * MIN_MS));
	return next;
}

void morning_announced(struct morning_tracker *t, int32_t day)
{
	if (day > t->done_day)
		t->done_day = day;
	/* Someone still in bed starts the next stay now, not last evening. */
	t->bed.start_ms = t->bed_occupied ? t->bed_state_ms : 0;
	t->bed.last_ms = t->bed.start_ms;
	t->strap = (struct morning_span){ 0 };
}

const char *morning_reason_name(enum morning_reason reason)
{
	switch (reason) {
	case MORNING_NOT_YET:
		return "not yet";
	case MORNING_BED_EMPTY:
		return "bed empty after the night";
	case MORNING_STRAP_OFF:
		return "strap taken off after the night";
	case MORNING_ALERT_TIME:
		return "alert time";
	case MORNING_LATEST:
		return "latest time";
	case MORNING_DONE:
		return "already announced";
	default:
		return "?";
	}
}
