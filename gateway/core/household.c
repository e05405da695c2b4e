// SPDX-License-Identifier: MIT
#include "gateway/core/household.h"

#include "gateway/common/owner-log.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "gateway/core/clock.h"
#include "gateway/engine/assign.h"

/* One store write: a reading of a person, timed on the monotonic clock. It
 * is filed at that instant plus the wall clock's offset, or held on the
 * monotonic clock while the wall clock is not trusted. */
struct row {
	int64_t mono_ms;
	/* The wall time to file at, when it must be an earlier row's to the
	 * millisecond (a weighing completed); 0: mono_ms and the offset. */
	int64_t wall_ms;
	int32_t person;
	enum store_reading_kind kind;
	int sub; /* store_state_kind / store_env_kind */
	double v[3];
};

struct household {
	const struct config *config;
	store *store;
	struct household_ops ops;
	void *data;
	GArray *people;	 /* struct household_person */
	GArray *devices; /* struct household_device */
	bool clock_trusted;
	const char *boot_id; /* clock_boot_id(): held rows are this boot's */
	uint64_t held;	     /* rows of this boot in the store's held table */
	uint64_t dropped;
	unsigned invalid; /* values the store refused */
	/* The wall clock minus the monotonic clock, as the readings find
	 * it (smoothed: the two are read a millisecond or two apart):
	 * readings are filed at their monotonic instant plus this, so a step
	 * of the wall clock moves later rows as a block. */
	bool offset_known;
	/* The wall time the last row was filed at (write_row). */
	int64_t last_filed_ms;
	double wall_minus_mono_ms;
	/* After a step back, rows filed up to this wall time may meet rows
	 * filed before it at the same instant: they are stored as distinct
	 * readings (store_add_reading). */
	int64_t overlap_until_ms;
};

int household_find_device(const household *h, const char *address)
{
	for (guint i = 0; i < h->devices->len; i++) {
		const struct household_device *d =
		    &g_array_index(h->devices, struct household_device, i);

		if (g_ascii_strcasecmp(d->address, address) == 0)
			return (int)i;
	}
	return -1;
}

static void add_device(household *h, const char *address,
		       enum household_device_kind kind, int person)
{
	struct household_device d = {
		.kind = kind,
		.owner = person,
		.battery_pct = -1,
		.uds_registering = -1,
	};
	int i;

	if (!address[0])
		return;
	i = household_find_device(h, address);
	if (i >= 0) {
		/* A scale on two people's lines is shared. */
		g_array_index(h->devices, struct household_device, i).owner =
		    -1;
		return;
	}
	g_strlcpy(d.address, address, sizeof(d.address));
	g_array_append_val(h->devices, d);
}

static void person_setup(struct household_person *p,
			 const struct config_person *cfg, int64_t user_id)
{
	*p = (struct household_person){
		.cfg = cfg,
		.user_id = user_id,
		.recent_kg = NAN,
		/* No beats yet (the monotonic clock may start near 0). */
		.rr_end_mono_ms = -INFINITY,
		.hr_last_mono_ms = INT64_MIN,
		.hr_last_wall_ms = INT64_MIN,
		.uds_index = -1,
	};
	analyze_person_defaults(&p->analysis, user_id);
	p->analysis.recovery.score.sleep_need_min = cfg->sleep_need_min;
	p->analysis.recovery.club_days = cfg->club_days;
	p->analysis.recovery.goal = cfg->goal;
	p->analysis.bedtime_min = cfg->bedtime_min;
	p->analysis.wake_min = cfg->wake_min;
	p->analysis.hr_max_bpm = cfg->hr_max_bpm;
	p->analysis.sex = cfg->sex;
	p->live = (struct household_live){
		.heart_rate_bpm = NAN,
		.contact = -1,
		.weight_kg = NAN,
		.body_fat_pct = NAN,
		.bed = -1,
	};
}

/* The latest weight of the last month (for the shared scale) and the
 * last day whose morning alert went out. */
static gboolean person_history(household *h, struct household_person *p,
			       int32_t today, GError **error)
{
	g_autoptr(GArray) nights =
	    g_array_new(FALSE, FALSE, sizeof(struct night_metrics));
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	int32_t done = today - 1;

	g_array_set_clear_func(results, NULL);
	if (!store_get_nights(h->store, p->user_id, today - 30, today, nights,
			      error))
		return FALSE;
	for (guint i = 0; i < nights->len; i++) {
		double kg =
		    g_array_index(nights, struct night_metrics, i).weight_kg;

		if (metric_present(kg))
			p->recent_kg = kg;
	}
	if (!store_get_results(h->store, p->user_id, today - 7, today + 1,
			       results, error))
		return FALSE;
	for (guint i = 0; i < results->len; i++) {
		struct store_result *r =
		    &g_array_index(results, struct store_result, i);

		if (r->alerted_ms && r->day > done)
			done = r->day;
	}
	morning_init(&p->morning, done);
	return TRUE;
}

/* scale-protocol= is an override; without it the radio recognises the
 * scale by what it advertises. */
static enum household_device_kind scale_kind(const struct config_person *cfg)
{
	if (!cfg->scale_protocol_set)
		return HOUSEHOLD_SCALE;
	switch (cfg->scale_protocol) {
	case CONFIG_SCALE_XIAOMI:
		return HOUSEHOLD_MISCALE;
	case CONFIG_SCALE_QN:
		return HOUSEHOLD_QN_SCALE;
	case CONFIG_SCALE_STANDARD:
	default:
		return HOUSEHOLD_STANDARD_SCALE;
	}
}

household *household_new(const struct config *config, store *s, int32_t today,
			 const struct household_ops *ops, void *data,
			 GError **error)
{
	g_autoptr(household) h = g_new0(household, 1);

	h->config = config;
	h->store = s;
	if (ops)
		h->ops = *ops;
	h->data = data;
	h->people = g_array_new(FALSE, TRUE, sizeof(struct household_person));
	h->devices = g_array_new(FALSE, TRUE, sizeof(struct household_device));
	h->boot_id = clock_boot_id();
	/* Rows held by an earlier run of this boot wait here too. */
	if (!store_held_count(s, h->boot_id, &h->held, error))
		return NULL;
	g_array_set_size(h->people, (guint)config->person_count);
	for (size_t i = 0; i < config->person_count; i++) {
		const struct config_person *cfg = &config->people[i];
		struct household_person *p =
		    &g_array_index(h->people, struct household_person, i);
		int64_t id;

		if (!store_user_id(s, cfg->name, &id, error))
			return NULL;
		person_setup(p, cfg, id);
		if (!person_history(h, p, today, error))
			return NULL;
		if (cfg->scale[0]) {
			struct store_scale_user u;

			if (!store_scale_user(s, cfg->scale, id, &u, error))
				return NULL;
			if (u.found) {
				p->uds_index = u.user_index;
				p->uds_consent = u.consent_code;
			}
		}
		add_device(h, cfg->heart_rate, HOUSEHOLD_STRAP, (int)i);
		add_device(h, cfg->scale, scale_kind(cfg), (int)i);
		add_device(h, cfg->bed_sensor, HOUSEHOLD_BED, (int)i);
	}
	return g_steal_pointer(&h);
}

void household_free(household *h)
{
	if (!h)
		return;
	g_array_free(h->people, TRUE);
	g_array_free(h->devices, TRUE);
	g_free(h);
}

size_t household_person_count(const household *h)
{
	return h->people->len;
}

struct household_person *household_person(household *h, size_t index)
{
	g_return_val_if_fail(index < h->people->len, NULL);
	return &g_array_index(h->people, struct household_person, index);
}

int household_find_person(const household *h, const char *name)
{
	for (guint i = 0; i < h->people->len; i++)
		if (strcmp(g_array_index(h->people, struct household_person, i)
			       .cfg->name,
			   name) == 0)
			return (int)i;
	return -1;
}

size_t household_device_count(const household *h)
{
	return h->devices->len;
}

const struct household_device *household_device(const household *h,
						size_t index)
{
	g_return_val_if_fail(index < h->devices->len, NULL);
	return &g_array_index(h->devices, struct household_device, index);
}

bool household_clock_trusted(const household *h)
{
	return h->clock_trusted;
}

uint64_t household_held_rows(const household *h)
{
	return h->held;
}

uint64_t household_dropped_rows(const household *h)
{
	return h->dropped;
}

/* @r as the store takes it. */
static struct store_reading row_reading(household *h, const struct row *r)
{
	return (struct store_reading){
		.user = household_person(h, (size_t)r->person)->user_id,
		.kind = r->kind,
		.sub = r->sub,
		.v = { r->v[0], r->v[1], r->v[2] },
	};
}

static gboolean write_row(household *h, const struct row *r, GError **error)
{
	struct store_reading rd = row_reading(h, r);
	int64_t t_ms =
	    r->wall_ms ? r->wall_ms
		       : llround((double)r->mono_ms + h->wall_minus_mono_ms);
	GError *local = NULL;

	if (r->kind == STORE_READING_HR) {
		struct household_person *p =
		    household_person(h, (size_t)r->person);

		/* Heart rates 1 ms apart on the monotonic clock (a burst)
		 * stay apart on the wall clock, whatever the offset's
		 * following of the clock did between them (it moves by a
		 * fraction of a millisecond, and rounding may then put both
		 * on one instant: one row). Only so small a slip: after a
		 * step back the rows are filed where they belong. */
		if (t_ms <= p->hr_last_wall_ms &&
		    t_ms > p->hr_last_wall_ms - HOUSEHOLD_STEP_MIN_MS)
			t_ms = p->hr_last_wall_ms + 1;
		p->hr_last_wall_ms = t_ms;
	}

	h->last_filed_ms = t_ms;
	if (store_add_reading(h->store, &rd, t_ms, t_ms <= h->overlap_until_ms,
			      &local))
		return TRUE;
	if (g_error_matches(local, STORE_ERROR, STORE_ERROR_INVALID)) {
		/* A value no sensor should send: say so, sparingly. */
		if (h->invalid++ % 1000 == 0)
			owner_log(
			    h->ops.log, h->data, G_LOG_LEVEL_WARNING,
			    "a reading of %s was not stored: %s (%u such so "
			    "far)",
			    household_person(h, (size_t)r->person)->cfg->name,
			    local->message, h->invalid);
		g_error_free(local);
		return TRUE;
	}
	g_propagate_error(error, local);
	return FALSE;
}

/* Beyond this many held rows the oldest go, this many at a time. */
#define HOLD_DROP_SLICE (HOUSEHOLD_HOLD_MAX / 100)

static gboolean hold_row(household *h, const struct row *r, GError **error)
{
	struct store_reading rd = row_reading(h, r);

	if (h->held >= HOUSEHOLD_HOLD_MAX) {
		if (!store_held_drop_oldest(h->store, h->boot_id,
					    HOLD_DROP_SLICE, error))
			return FALSE;
		if (h->dropped == 0)
			owner_log(h->ops.log, h->data, G_LOG_LEVEL_WARNING,
				  "the clock is still not trusted: holding "
				  "only the last %d readings; older ones are "
				  "dropped",
				  HOUSEHOLD_HOLD_MAX);
		h->dropped += MIN(h->held, HOLD_DROP_SLICE);
		h->held -= MIN(h->held, HOLD_DROP_SLICE);
	}
	if (!store_hold_reading(h->store, h->boot_id, r->mono_ms, &rd, error))
		return FALSE;
	h->held++;
	return TRUE;
}

static gboolean put_row(household *h, struct row r, GError **error)
{
	if (h->clock_trusted)
		return write_row(h, &r, error);
	return hold_row(h, &r, error);
}

/* "3.5 s", "10.0 min", "2.0 h", "56.1 days": how far a clock moved. */
static void format_span(int64_t ms, char *buf, size_t size)
{
	double s = fabs((double)ms) / 1000.0;

	if (s >= 86400)
		g_snprintf(buf, size, "%.1f days", s / 86400);
	else if (s >= 3600)
		g_snprintf(buf, size, "%.1f h", s / 3600);
	else if (s >= 60)
		g_snprintf(buf, size, "%.1f min", s / 60);
	else
		g_snprintf(buf, size, "%.1f s", s);
}

/* The wall-clock instants the household keeps for its live values and
 * devices, moved to a wall clock @delta_ms from the one they were read
 * on: ages and "the same weighing" windows stay right across a step. */
static void shift_wall_times(household *h, int64_t delta_ms)
{
	for (guint i = 0; i < h->people->len; i++) {
		struct household_live *l = &household_person(h, i)->live;

		if (l->updated_ms)
			l->updated_ms = MAX(l->updated_ms + delta_ms, 1);
		if (l->heart_rate_ms)
			l->heart_rate_ms = MAX(l->heart_rate_ms + delta_ms, 1);
	}
	for (guint i = 0; i < h->devices->len; i++) {
		struct household_device *d =
		    &g_array_index(h->devices, struct household_device, i);

		if (d->last_seen_ms)
			d->last_seen_ms = MAX(d->last_seen_ms + delta_ms, 1);
		if (d->last_weight_ms)
			d->last_weight_ms = d->last_weight_ms + delta_ms;
		/* last_weight_filed_ms stays: it is where the row is. */
	}
}

/* Below a step, the offset follows each new difference by this part: the
 * jitter of reading two clocks averages out (beats keep their spacing to
 * the millisecond), NTP's slewing is followed within some 16 readings. */
#define OFFSET_FOLLOW 16

/*
 * The wall and the monotonic clock read at one instant (a reading's
 * arrival). Their difference drifts slowly while NTP slews the clock; a
 * jump of more than HOUSEHOLD_STEP_MIN_MS is a step of the wall clock: said
 * once, and later rows move with it as a block (their monotonic spacing
 * kept: nothing squeezed).
 */
static void observe_clock(household *h, int64_t wall_ms, int64_t mono_ms)
{
	int64_t offset = wall_ms - mono_ms;
	int64_t step = offset - llround(h->wall_minus_mono_ms);
	char span[32];

	if (h->offset_known && step >= -HOUSEHOLD_STEP_MIN_MS &&
	    step <= HOUSEHOLD_STEP_MIN_MS) {
		h->wall_minus_mono_ms +=
		    ((double)offset - h->wall_minus_mono_ms) / OFFSET_FOLLOW;
		return;
	}
	if (h->offset_known) {
		format_span(step, span, sizeof(span));
		owner_log(h->ops.log, h->data, G_LOG_LEVEL_MESSAGE,
			  "the wall clock stepped %s by %s (%+" PRId64
			  " ms): later readings are filed on the new time, "
			  "beats keep their spacing",
			  step < 0 ? "back" : "forward", span, step);
		/* Rows filed so far reach up to "now" on the old clock. */
		if (step < 0 && h->clock_trusted)
			h->overlap_until_ms = MAX(
			    h->overlap_until_ms,
			    llround((double)mono_ms + h->wall_minus_mono_ms));
		shift_wall_times(h, step);
	}
	h->offset_known = true;
	h->wall_minus_mono_ms = (double)offset;
}

gboolean household_set_clock_trusted(household *h, int64_t wall_ms,
				     int64_t mono_ms, GError **error)
{
	uint64_t filed, refused;
	int64_t offset = wall_ms - mono_ms;

	if (h->clock_trusted)
		return TRUE;
	/* Live values and devices were stamped on the untrusted clock. */
	if (h->offset_known)
		shift_wall_times(h, offset - llround(h->wall_minus_mono_ms));
	h->offset_known = true;
	h->wall_minus_mono_ms = (double)offset;
	h->clock_trusted = true;
	if (!store_held_file(h->store, h->boot_id, offset, &filed, &refused,
			     error))
		return FALSE;
	h->held = 0;
	if (filed)
		owner_log(h->ops.log, h->data, G_LOG_LEVEL_MESSAGE,
			  "the clock is trusted: filed %" PRIu64
			  " readings held until now at their wall time",
			  filed);
	if (refused)
		owner_log(h->ops.log, h->data, G_LOG_LEVEL_WARNING,
			  "%" PRIu64 " held readings were refused by the "
			  "store (values out of range) and dropped",
			  refused);
	return TRUE;
}

static void live_changed(household *h, int person, bool urgent)
{
	if (h->ops.live_changed)
		h->ops.live_changed(h->data, person, urgent);
}

static void day_input(household *h, int person, int64_t t_ms,
		      enum household_input kind)
{
	if (h->clock_trusted && h->ops.day_input)
		h->ops.day_input(h->data, person, t_ms, kind);
}

/* A beat filed at its wall time, for whoever follows a spot check live. */
static void beat_heard(household *h, int person, int64_t t_ms, double rr_ms,
		       int64_t arrival_ms)
{
	if (h->ops.beat && h->clock_trusted)
		h->ops.beat(h->data, person, t_ms, rr_ms, arrival_ms);
}

/* Beyond this gap between the beat clock and the arrival time the chain
 * is broken (beats lost, a reconnect): start again from the arrival. */
#define RR_CHAIN_SLACK_MS 2500.0

/*
 * RR intervals are stored at the instant each beat ended. A notification
 * carries the beats since the previous one, newest last, and arrives just
 * after the last of them: while the intervals chain on from the previous
 * notification's, they continue that chain (exact, with no arrival jitter);
 * otherwise they end at the arrival time. The chain runs on the monotonic
 * clock (@arrival_mono_ms): a step of the wall clock cannot squeeze it.
 */
static gboolean rr_intervals(household *h, int person,
			     const struct hrs_measurement *m,
			     int64_t arrival_mono_ms, GError **error)
{
	struct household_person *p = household_person(h, (size_t)person);
	double sum = 0, end;

	for (unsigned i = 0; i < m->rr_count; i++)
		sum += hrs_rr_ms(m->rr_raw[i]);
	if (!m->rr_count || sum <= 0)
		return TRUE;
	end = p->rr_end_mono_ms;
	if (!(isfinite(end) &&
	      fabs(end + sum - (double)arrival_mono_ms) <= RR_CHAIN_SLACK_MS))
		end = MAX((double)arrival_mono_ms - sum, p->rr_end_mono_ms);
	for (unsigned i = 0; i < m->rr_count; i++) {
		double rr_ms = hrs_rr_ms(m->rr_raw[i]);
		int64_t t;

		if (rr_ms <= 0)
			continue;
		end += rr_ms;
		t = (int64_t)llround(end);
		if (!put_row(h,
			     (struct row){ .mono_ms = t,
					   .person = person,
					   .kind = STORE_READING_RR,
					   .v = { rr_ms } },
			     error))
			return FALSE;
		/* Followers see wall times (the offset in use now). */
		beat_heard(
		    h, person, llround((double)t + h->wall_minus_mono_ms),
		    rr_ms,
		    llround((double)arrival_mono_ms + h->wall_minus_mono_ms));
	}
	p->rr_end_mono_ms = end;
	return TRUE;
}

static gboolean heart_rate(household *h, int person, const struct reading *r,
			   int64_t mono_ms, GError **error)
{
	const struct hrs_measurement *m = &r->payload.u.heart_rate;
	struct household_person *p = household_person(h, (size_t)person);
	int64_t t = mono_ms;
	/* As live.contact keeps it: a strap that cannot tell (-1) stays
	 * so, and its every value is not a change to send at once. */
	int contact = m->contact == HRS_CONTACT_NOT_DETECTED  ? 0
		      : m->contact == HRS_CONTACT_UNSUPPORTED ? -1
							      : 1;
	bool contact_changed;

	if (m->contact == HRS_CONTACT_NOT_DETECTED || m->heart_rate_bpm == 0)
		contact = 0;
	contact_changed = p->live.contact != contact;
	if (contact == 0) {
		/* Off the skin: the value is noise, not a heart rate. */
		p->live.contact = 0;
		p->live.heart_rate_bpm = NAN;
		p->live.updated_ms = r->t_ms;
		live_changed(h, person, contact_changed);
		return TRUE;
	}
	/* Two notifications in one millisecond (a burst after a reconnect)
	 * are still two readings. On the monotonic clock, which never steps
	 * back, this moves only such a burst. */
	if (t <= p->hr_last_mono_ms)
		t = p->hr_last_mono_ms + 1;
	p->hr_last_mono_ms = t;
	if (!put_row(h,
		     (struct row){ .mono_ms = t,
				   .person = person,
				   .kind = STORE_READING_HR,
				   .v = { m->heart_rate_bpm } },
		     error))
		return FALSE;
	if (!rr_intervals(h, person, m, mono_ms, error))
		return FALSE;
	if (h->clock_trusted)
		morning_strap(&p->morning, r->t_ms);
	p->live.contact = contact;
	p->live.heart_rate_bpm = m->heart_rate_bpm;
	p->live.heart_rate_ms = r->t_ms;
	p->live.updated_ms = r->t_ms;
	live_changed(h, person, contact_changed);
	return TRUE;
}

/* The index the scale knows @p by: scale-user=, else the one its User
 * Data Service gave (index 0, valid there, reads as unknown in a weighing:
 * then the weight decides); 0: none. */
static int person_scale_user(const struct household_person *p)
{
	if (p->cfg->scale_user)
		return p->cfg->scale_user;
	return p->uds_index > 0 ? p->uds_index : 0;
}

bool household_scale_uds_user(household *h, const char *address,
			      bool *ret_registered, int *ret_index,
			      int *ret_consent_code)
{
	int d = household_find_device(h, address);
	struct household_device *dev;
	int people[64];
	unsigned n = 0;

	if (d < 0)
		return false;
	dev = &g_array_index(h->devices, struct household_device, d);
	for (guint i = 0; i < h->people->len && n < G_N_ELEMENTS(people); i++) {
		if (g_ascii_strcasecmp(household_person(h, i)->cfg->scale,
				       address) == 0)
			people[n++] = (int)i;
	}
	if (n == 0)
		return false;
	for (unsigned i = 0; i < n; i++) {
		struct household_person *p = household_person(h, people[i]);

		if (!p->cfg->scale_user && p->uds_index < 0) {
			dev->uds_registering = people[i];
			*ret_registered = false;
			*ret_index = 0;
			*ret_consent_code = p->cfg->scale_consent;
			return true;
		}
	}
	struct household_person *p =
	    household_person(h, people[dev->uds_turn++ % n]);

	*ret_registered = true;
	if (p->cfg->scale_user) {
		*ret_index = p->cfg->scale_user;
		*ret_consent_code = p->cfg->scale_consent;
	} else {
		*ret_index = p->uds_index;
		*ret_consent_code = p->uds_consent;
	}
	return true;
}

gboolean household_scale_registered(household *h, const char *address,
				    int user_index, int consent_code,
				    int64_t t_ms, GError **error)
{
	int d = household_find_device(h, address);
	struct household_device *dev;
	struct household_person *p;

	if (d < 0)
		return TRUE;
	dev = &g_array_index(h->devices, struct household_device, d);
	if (dev->uds_registering < 0)
		return TRUE;
	p = household_person(h, (size_t)dev->uds_registering);
	dev->uds_registering = -1;
	p->uds_index = user_index;
	p->uds_consent = consent_code;
	owner_log(h->ops.log, h->data, G_LOG_LEVEL_MESSAGE,
		  "scale %s registered %s as its user %d", dev->address,
		  p->cfg->name, user_index);
	return store_put_scale_user(h->store, dev->address, p->user_id,
				    user_index, consent_code, t_ms, error);
}

/*
 * A weighing on the scale @dev at @t_ms: whose it is, then stored. A live
 * value (@w not final) goes to the live values only, and only when it fits
 * someone: a scale settling passes through weights that fit nobody.
 */
static gboolean weighing(household *h, struct household_device *dev,
			 const struct reading *r, int64_t t_ms,
			 const struct reading_weighing *w, int64_t mono_ms,
			 GError **error)
{
	struct assign_person cand[64];
	int index[64];
	size_t n = 0;
	int who;
	struct household_person *p;
	bool completes;

	for (guint i = 0; i < h->people->len && n < G_N_ELEMENTS(cand); i++) {
		struct household_person *q = household_person(h, i);

		if (g_ascii_strcasecmp(q->cfg->scale, dev->address) != 0)
			continue;
		cand[n] = (struct assign_person){
			.scale_user = person_scale_user(q),
			.min_kg = q->cfg->weight_min_kg,
			.max_kg = q->cfg->weight_max_kg,
			.recent_kg = q->recent_kg,
		};
		index[n++] = (int)i;
	}
	who = assign_weight(cand, n, w->scale_user, w->weight_kg);
	if (who < 0 && !w->final)
		return TRUE;
	if (who < 0) {
		owner_log(
		    h->ops.log, h->data, G_LOG_LEVEL_MESSAGE,
		    "a weighing on scale %s fits nobody, or more than one "
		    "person: not stored (give each person a weight-range= "
		    "or scale-user=)",
		    dev->address);
		owner_log(h->ops.log, h->data, G_LOG_LEVEL_DEBUG,
			  "the unassigned weighing: %.2f kg", w->weight_kg);
		return TRUE;
	}
	p = household_person(h, (size_t)index[who]);
	if (!w->final) {
		p->live.weight_kg = w->weight_kg;
		p->live.updated_ms = r->t_ms;
		live_changed(h, index[who], false);
		return TRUE;
	}
	/* @t_ms may be an earlier frame's of the same weighing: then the row
	 * completes that one, at the very millisecond it was filed at (the
	 * offset between the clocks may have moved a fraction since, and
	 * the store merges only rows of one instant). */
	completes =
	    t_ms != r->t_ms && h->clock_trusted && dev->last_weight_filed_ms;
	if (!put_row(
		h,
		(struct row){
		    .mono_ms = mono_ms + (t_ms - r->t_ms),
		    .wall_ms = completes ? dev->last_weight_filed_ms : 0,
		    .person = index[who],
		    .kind = STORE_READING_BODY,
		    .v = { w->weight_kg, w->body_fat_pct, w->impedance_ohm } },
		error))
		return FALSE;
	if (h->clock_trusted && !completes)
		dev->last_weight_filed_ms = h->last_filed_ms;
	p->recent_kg = w->weight_kg;
	p->live.weight_kg = w->weight_kg;
	p->live.body_fat_pct = w->body_fat_pct;
	p->live.updated_ms = r->t_ms;
	live_changed(h, index[who], true);
	day_input(h, index[who], t_ms, HOUSEHOLD_INPUT_WEIGHING);
	return TRUE;
}

/*
 * A scale's reading, whatever the scale: a repeat of the last weighing
 * (reading.h says what makes one) is dropped, unless it brings what the
 * first lacked (a Mi scale's impedance, a standard scale's body
 * composition after its weight): then it completes that row (the same
 * instant: the store merges it).
 */
static gboolean scale_reading(household *h, struct household_device *dev,
			      const struct reading *r, int64_t mono_ms,
			      GError **error)
{
	struct reading_weighing w;
	bool impedance, fat;

	if (!reading_weighing(&r->payload, &w))
		return TRUE;
	if (!w.final)
		return weighing(h, dev, r, r->t_ms, &w, mono_ms, error);
	impedance = !isnan(w.impedance_ohm);
	fat = !isnan(w.body_fat_pct);
	if (dev->last_weight_ms && r->t_ms >= dev->last_weight_ms &&
	    r->t_ms - dev->last_weight_ms < w.same_within_ms &&
	    dev->last_weight_key == w.repeat_key &&
	    fabs(w.weight_kg - dev->last_weight_kg) < READING_SAME_WEIGHT_KG) {
		if ((!impedance || dev->last_had_impedance) &&
		    (!fat || dev->last_had_fat))
			return TRUE;
		dev->last_had_impedance |= impedance;
		dev->last_had_fat |= fat;
		return weighing(h, dev, r, dev->last_weight_ms, &w, mono_ms,
				error);
	}
	dev->last_weight_ms = r->t_ms;
	dev->last_weight_kg = w.weight_kg;
	dev->last_weight_key = w.repeat_key;
	dev->last_had_impedance = impedance;
	dev->last_had_fat = fat;
	return weighing(h, dev, r, r->t_ms, &w, mono_ms, error);
}

static gboolean bthome(household *h, struct household_device *dev,
		       const struct reading *r, int64_t mono_ms, GError **error)
{
	const struct bthome_frame *f = &r->payload.u.bthome;
	int person = dev->owner;
	struct household_person *p;

	if (person < 0)
		return TRUE;
	p = household_person(h, (size_t)person);
	for (unsigned i = 0; i < f->object_count; i++) {
		const struct bthome_object *o = &f->objects[i];
		const char *name = o->type->name;
		struct row row = { .mono_ms = mono_ms, .person = person };

		if (strcmp(name, "occupancy") == 0 ||
		    strcmp(name, "presence") == 0) {
			bool on = o->raw != 0;

			row.kind = STORE_READING_STATE;
			row.sub = STORE_STATE_BED;
			row.v[0] = on;
			if (h->clock_trusted)
				morning_bed(&p->morning, r->t_ms, on);
			if (p->live.bed != on) {
				p->live.bed = on;
				p->live.updated_ms = r->t_ms;
				live_changed(h, person, true);
			}
		} else if (strcmp(name, "motion") == 0 ||
			   strcmp(name, "moving") == 0) {
			row.kind = STORE_READING_STATE;
			row.sub = STORE_STATE_MOTION;
			row.v[0] = o->raw != 0;
		} else if (strcmp(name, "temperature") == 0) {
			row.kind = STORE_READING_ENV;
			row.sub = STORE_ENV_TEMPERATURE_C;
			row.v[0] = bthome_object_value(o);
		} else if (strcmp(name, "humidity") == 0) {
			row.kind = STORE_READING_ENV;
			row.sub = STORE_ENV_HUMIDITY_PCT;
			row.v[0] = bthome_object_value(o);
		} else if (strcmp(name, "co2") == 0) {
			row.kind = STORE_READING_ENV;
			row.sub = STORE_ENV_CO2_PPM;
			row.v[0] = bthome_object_value(o);
		} else if (strcmp(name, "illuminance") == 0) {
			row.kind = STORE_READING_ENV;
			row.sub = STORE_ENV_ILLUMINANCE_LX;
			row.v[0] = bthome_object_value(o);
		} else {
			if (strcmp(name, "battery") == 0 &&
			    dev->battery_pct != (int)bthome_object_value(o)) {
				dev->battery_pct = (int)bthome_object_value(o);
				if (h->ops.device_changed)
					h->ops.device_changed(
					    h->data,
					    (int)(dev -
						  &g_array_index(
						      h->devices,
						      struct household_device,
						      0)));
			}
			continue;
		}
		if (!put_row(h, row, error))
			return FALSE;
	}
	return TRUE;
}

gboolean household_ingest(household *h, const struct reading *r,
			  int64_t mono_ms, GError **error)
{
	int index = household_find_device(h, r->address);
	struct household_device *dev;
	bool first;

	if (index < 0)
		return TRUE;
	observe_clock(h, r->t_ms, mono_ms);
	dev = &g_array_index(h->devices, struct household_device, index);
	first = dev->last_seen_ms == 0;
	dev->last_seen_ms = r->t_ms;
	if (first && h->ops.device_changed)
		h->ops.device_changed(h->data, index);

	switch (reading_kind(&r->payload)) {
	case READING_HEART_RATE:
		if (dev->kind != HOUSEHOLD_STRAP || dev->owner < 0)
			return TRUE;
		return heart_rate(h, dev->owner, r, mono_ms, error);
	case READING_BATTERY:
		if (dev->battery_pct != r->payload.u.battery_pct) {
			dev->battery_pct = r->payload.u.battery_pct;
			if (h->ops.device_changed)
				h->ops.device_changed(h->data, index);
		}
		return TRUE;
	case READING_WEIGHING:
		return scale_reading(h, dev, r, mono_ms, error);
	case READING_SENSOR:
		return bthome(h, dev, r, mono_ms, error);
	case READING_NOTHING:
	default:
		return TRUE;
	}
}

/* Whether a reading of @kind can come from a device of @dev_kind. */
static bool remote_kind_fits(enum store_reading_kind kind,
			     enum household_device_kind dev_kind)
{
	switch (kind) {
	case STORE_READING_RR:
	case STORE_READING_HR:
		return dev_kind == HOUSEHOLD_STRAP;
	case STORE_READING_STATE:
	case STORE_READING_ENV:
		return dev_kind == HOUSEHOLD_BED;
	case STORE_READING_BODY:
		return dev_kind == HOUSEHOLD_SCALE ||
		       dev_kind == HOUSEHOLD_MISCALE ||
		       dev_kind == HOUSEHOLD_STANDARD_SCALE;
	case STORE_READING_CHECKIN:
	default:
		return false;
	}
}

/* The person a satellite's reading of @dev is for: the device's owner,
 * or on a shared scale the person @user names if that person shares it;
 * -1 for nobody. */
static int remote_person(household *h, const struct household_device *dev,
			 const char *user)
{
	int named = user ? household_find_person(h, user) : -1;

	if (dev->owner >= 0)
		return dev->owner;
	if (named >= 0 &&
	    g_ascii_strcasecmp(household_person(h, (size_t)named)->cfg->scale,
			       dev->address) == 0)
		return named;
	return -1;
}

/* What a satellite's filed reading changes beside its row. */
static void remote_effects(household *h, int person,
			   const struct household_remote_reading *r)
{
	struct household_person *p = household_person(h, (size_t)person);

	switch (r->kind) {
	case STORE_READING_HR:
		if (h->clock_trusted)
			morning_strap(&p->morning, r->t_ms);
		if (r->t_ms < p->live.heart_rate_ms)
			return;
		p->live.contact = 1;
		p->live.heart_rate_bpm = r->v[0];
		p->live.heart_rate_ms = r->t_ms;
		p->live.updated_ms = MAX(p->live.updated_ms, r->t_ms);
		live_changed(h, person, false);
		return;
	case STORE_READING_RR:
		beat_heard(h, person, r->t_ms, r->v[0], r->t_ms);
		return;
	case STORE_READING_STATE:
		if (r->sub != STORE_STATE_BED)
			return;
		if (h->clock_trusted)
			morning_bed(&p->morning, r->t_ms, r->v[0] != 0);
		if (p->live.bed != (r->v[0] != 0)) {
			p->live.bed = r->v[0] != 0;
			p->live.updated_ms = MAX(p->live.updated_ms, r->t_ms);
			live_changed(h, person, true);
		}
		return;
	case STORE_READING_BODY:
		if (isfinite(r->v[0])) {
			p->recent_kg = r->v[0];
			p->live.weight_kg = r->v[0];
		}
		if (isfinite(r->v[1]))
			p->live.body_fat_pct = r->v[1];
		p->live.updated_ms = MAX(p->live.updated_ms, r->t_ms);
		live_changed(h, person, true);
		day_input(h, person, r->t_ms, HOUSEHOLD_INPUT_WEIGHING);
		return;
	case STORE_READING_ENV:
	case STORE_READING_CHECKIN:
	default:
		return;
	}
}

gboolean household_file_remote(household *h,
			       const struct household_remote_reading *r,
			       enum household_remote_result *ret,
			       GError **error)
{
	int index = household_find_device(h, r->address);
	struct household_device *dev;
	struct store_reading rd;
	GError *local = NULL;
	int person;

	*ret = HOUSEHOLD_REMOTE_FOREIGN;
	if (index < 0)
		return TRUE;
	dev = &g_array_index(h->devices, struct household_device, index);
	*ret = HOUSEHOLD_REMOTE_MISMATCH;
	if (!remote_kind_fits(r->kind, dev->kind))
		return TRUE;
	person = remote_person(h, dev, r->user);
	if (person < 0)
		return TRUE;
	rd = (struct store_reading){
		.user = household_person(h, (size_t)person)->user_id,
		.kind = r->kind,
		.sub = r->sub,
		.v = { r->v[0], r->v[1], r->v[2] },
	};
	if (!store_add_reading(h->store, &rd, r->t_ms, false, &local)) {
		if (!g_error_matches(local, STORE_ERROR, STORE_ERROR_INVALID)) {
			g_propagate_error(error, local);
			return FALSE;
		}
		if (h->invalid++ % 1000 == 0)
			owner_log(
			    h->ops.log, h->data, G_LOG_LEVEL_WARNING,
			    "a satellite's reading of %s was not "
			    "stored: %s (%u such so far)",
			    household_person(h, (size_t)person)->cfg->name,
			    local->message, h->invalid);
		g_error_free(local);
		*ret = HOUSEHOLD_REMOTE_INVALID;
		return TRUE;
	}
	*ret = HOUSEHOLD_REMOTE_FILED;
	if (r->t_ms > dev->last_seen_ms) {
		bool first = dev->last_seen_ms == 0;

		dev->last_seen_ms = r->t_ms;
		if (first && h->ops.device_changed)
			h->ops.device_changed(h->data, index);
	}
	remote_effects(h, person, r);
	return TRUE;
}

gboolean household_checkin(household *h, int person, int64_t t_ms, double mood,
			   double soreness, double energy, int64_t mono_ms,
			   GError **error)
{
	g_return_val_if_fail(person >= 0 && (guint)person < h->people->len,
			     FALSE);
	observe_clock(h, t_ms, mono_ms);
	if (!put_row(h,
		     (struct row){ .mono_ms = mono_ms,
				   .person = person,
				   .kind = STORE_READING_CHECKIN,
				   .v = { mood, soreness, energy } },
		     error))
		return FALSE;
	day_input(h, person, t_ms, HOUSEHOLD_INPUT_CHECKIN);
	return TRUE;
}
