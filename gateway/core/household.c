// SPDX-License-Identifier: MIT
#include "gateway/core/household.h"

#include "gateway/common/owner-log.h"

#include <math.h>
#include <string.h>

#include "gateway/engine/assign.h"
#include "sensors/mass.h"

/* One store write, kept in this form while the clock is not trusted. */
enum row_kind {
	ROW_HR,
	ROW_RR,
	ROW_STATE,
	ROW_ENV,
	ROW_BODY,
	ROW_CHECKIN,
};

struct row {
	int64_t t_ms; /* wall, or monotonic while held */
	int32_t person;
	uint8_t kind; /* enum row_kind */
	uint8_t sub;  /* store_state_kind / store_env_kind */
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
	GArray *held; /* struct row, oldest first */
	uint64_t dropped;
	unsigned invalid; /* values the store refused */
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
	h->held = g_array_new(FALSE, FALSE, sizeof(struct row));
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
		add_device(h, cfg->heart_rate, HOUSEHOLD_STRAP, (int)i);
		add_device(h, cfg->scale,
			   cfg->scale_protocol == CONFIG_SCALE_XIAOMI
			       ? HOUSEHOLD_MISCALE
			       : HOUSEHOLD_SCALE,
			   (int)i);
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
	g_array_free(h->held, TRUE);
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

unsigned household_held_rows(const household *h)
{
	return h->held->len;
}

uint64_t household_dropped_rows(const household *h)
{
	return h->dropped;
}

static gboolean write_row(household *h, const struct row *r, GError **error)
{
	int64_t user = household_person(h, (size_t)r->person)->user_id;
	GError *local = NULL;
	gboolean ok;

	switch ((enum row_kind)r->kind) {
	case ROW_HR:
		ok = store_add_hr(h->store, user, r->t_ms, r->v[0], &local);
		break;
	case ROW_RR:
		ok = store_add_rr(h->store, user, r->t_ms, r->v[0], &local);
		break;
	case ROW_STATE:
		ok = store_add_state(h->store, user,
				     (enum store_state_kind)r->sub, r->t_ms,
				     r->v[0] != 0, &local);
		break;
	case ROW_ENV:
		ok = store_add_env(h->store, user, (enum store_env_kind)r->sub,
				   r->t_ms, r->v[0], &local);
		break;
	case ROW_BODY:
		ok = store_add_body(h->store, user, r->t_ms, r->v[0], r->v[1],
				    r->v[2], &local);
		break;
	case ROW_CHECKIN:
		ok = store_add_checkin(h->store, user, r->t_ms, r->v[0],
				       r->v[1], r->v[2], &local);
		break;
	default:
		return TRUE;
	}
	if (ok)
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

static gboolean put_row(household *h, struct row r, int64_t mono_ms,
			int64_t wall_ms, GError **error)
{
	if (h->clock_trusted)
		return write_row(h, &r, error);
	/* Keep its offset from the reading's receive time. */
	r.t_ms = mono_ms + (r.t_ms - wall_ms);
	if (h->held->len >= HOUSEHOLD_HOLD_MAX) {
		if (h->dropped++ == 0)
			owner_log(
			    h->ops.log, h->data, G_LOG_LEVEL_WARNING,
			    "the clock is still not synchronised: holding "
			    "only the last %d readings; older ones are "
			    "dropped",
			    HOUSEHOLD_HOLD_MAX);
		g_array_remove_index(h->held, 0);
	}
	g_array_append_val(h->held, r);
	return TRUE;
}

gboolean household_set_clock_trusted(household *h, int64_t wall_ms,
				     int64_t mono_ms, GError **error)
{
	if (h->clock_trusted)
		return TRUE;
	h->clock_trusted = true;
	for (guint i = 0; i < h->held->len; i++) {
		struct row r = g_array_index(h->held, struct row, i);

		r.t_ms = wall_ms - (mono_ms - r.t_ms);
		if (!write_row(h, &r, error))
			return FALSE;
	}
	if (h->held->len)
		owner_log(
		    h->ops.log, h->data, G_LOG_LEVEL_MESSAGE,
		    "clock synchronised: filed %u readings held since start",
		    h->held->len);
	g_array_set_size(h->held, 0);
	return TRUE;
}

static void live_changed(household *h, int person, bool urgent)
{
	if (h->ops.live_changed)
		h->ops.live_changed(h->data, person, urgent);
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
 * otherwise they end at the arrival time.
 */
static gboolean rr_intervals(household *h, int person,
			     const struct hrs_measurement *m,
			     int64_t arrival_ms, int64_t mono_ms,
			     GError **error)
{
	struct household_person *p = household_person(h, (size_t)person);
	double sum = 0, end;

	for (unsigned i = 0; i < m->rr_count; i++)
		sum += hrs_rr_ms(m->rr_raw[i]);
	if (!m->rr_count || sum <= 0)
		return TRUE;
	end = p->rr_end_ms;
	if (!(end > 0 &&
	      fabs(end + sum - (double)arrival_ms) <= RR_CHAIN_SLACK_MS))
		end = MAX((double)arrival_ms - sum, p->rr_end_ms);
	for (unsigned i = 0; i < m->rr_count; i++) {
		double rr_ms = hrs_rr_ms(m->rr_raw[i]);
		int64_t t;

		if (rr_ms <= 0)
			continue;
		end += rr_ms;
		t = (int64_t)llround(end);
		if (!put_row(h,
			     (struct row){ .t_ms = t,
					   .person = person,
					   .kind = ROW_RR,
					   .v = { rr_ms } },
			     mono_ms, arrival_ms, error))
			return FALSE;
		beat_heard(h, person, t, rr_ms, arrival_ms);
	}
	p->rr_end_ms = end;
	return TRUE;
}

static gboolean heart_rate(household *h, int person, const struct reading *r,
			   int64_t mono_ms, GError **error)
{
	const struct hrs_measurement *m = &r->payload.u.heart_rate;
	struct household_person *p = household_person(h, (size_t)person);
	int64_t t = r->t_ms;
	bool contact_changed;

	contact_changed =
	    p->live.contact != (m->contact == HRS_CONTACT_NOT_DETECTED ? 0 : 1);
	if (m->contact == HRS_CONTACT_NOT_DETECTED || m->heart_rate_bpm == 0) {
		/* Off the skin: the value is noise, not a heart rate. */
		p->live.contact = 0;
		p->live.heart_rate_bpm = NAN;
		p->live.updated_ms = r->t_ms;
		live_changed(h, person, contact_changed);
		return TRUE;
	}
	/* Two notifications in one millisecond (a burst after a reconnect)
	 * are still two readings. */
	if (t <= p->hr_last_ms)
		t = p->hr_last_ms + 1;
	p->hr_last_ms = t;
	if (!put_row(h,
		     (struct row){ .t_ms = t,
				   .person = person,
				   .kind = ROW_HR,
				   .v = { m->heart_rate_bpm } },
		     mono_ms, r->t_ms, error))
		return FALSE;
	if (!rr_intervals(h, person, m, r->t_ms, mono_ms, error))
		return FALSE;
	if (h->clock_trusted)
		morning_strap(&p->morning, r->t_ms);
	p->live.contact = m->contact == HRS_CONTACT_UNSUPPORTED ? -1 : 1;
	p->live.heart_rate_bpm = m->heart_rate_bpm;
	p->live.heart_rate_ms = r->t_ms;
	p->live.updated_ms = r->t_ms;
	live_changed(h, person, contact_changed);
	return TRUE;
}

/* A weighing on the scale @dev: whose it is, then stored. */
static gboolean weighing(household *h, struct household_device *dev,
			 const struct reading *r, int64_t t_ms, int scale_user,
			 double weight_kg, double body_fat_pct,
			 double impedance_ohm, int64_t mono_ms, GError **error)
{
	struct assign_person cand[64];
	int index[64];
	size_t n = 0;
	int who;
	struct household_person *p;

	for (guint i = 0; i < h->people->len && n < G_N_ELEMENTS(cand); i++) {
		struct household_person *q = household_person(h, i);

		if (g_ascii_strcasecmp(q->cfg->scale, dev->address) != 0)
			continue;
		cand[n] = (struct assign_person){
			.scale_user = q->cfg->scale_user,
			.min_kg = q->cfg->weight_min_kg,
			.max_kg = q->cfg->weight_max_kg,
			.recent_kg = q->recent_kg,
		};
		index[n++] = (int)i;
	}
	who = assign_weight(cand, n, scale_user, weight_kg);
	if (who < 0) {
		owner_log(
		    h->ops.log, h->data, G_LOG_LEVEL_MESSAGE,
		    "a weighing on scale %s fits nobody, or more than one "
		    "person: not stored (give each person a weight-range= "
		    "or scale-user=)",
		    dev->address);
		owner_log(h->ops.log, h->data, G_LOG_LEVEL_DEBUG,
			  "the unassigned weighing: %.2f kg", weight_kg);
		return TRUE;
	}
	p = household_person(h, (size_t)index[who]);
	if (!put_row(
		h,
		(struct row){ .t_ms = t_ms,
			      .person = index[who],
			      .kind = ROW_BODY,
			      .v = { weight_kg, body_fat_pct, impedance_ohm } },
		mono_ms, r->t_ms, error))
		return FALSE;
	p->recent_kg = weight_kg;
	p->live.weight_kg = weight_kg;
	p->live.body_fat_pct = body_fat_pct;
	p->live.updated_ms = r->t_ms;
	live_changed(h, index[who], true);
	return TRUE;
}

static gboolean miscale(household *h, struct household_device *dev,
			const struct reading *r, int64_t mono_ms,
			GError **error)
{
	const struct miscale_reading *m = &r->payload.u.miscale;
	char scale_time[20];

	if (!m->stabilised || m->load_removed)
		return TRUE;
	g_snprintf(scale_time, sizeof(scale_time), "%04u%02u%02u%02u%02u%02u",
		   m->timestamp.year, m->timestamp.month, m->timestamp.day,
		   m->timestamp.hours, m->timestamp.minutes,
		   m->timestamp.seconds);
	/* The same frame again while someone still stands on it (the
	 * scale's clock may be unset: then a minute apart is another). A
	 * repeat that now carries the impedance completes the first row
	 * (same instant: the store merges it). */
	if (m->weight.raw == dev->last_weight_raw &&
	    strcmp(scale_time, dev->last_scale_time) == 0 &&
	    r->t_ms - dev->last_weight_ms < 60000) {
		if (!m->has_impedance || dev->last_had_impedance)
			return TRUE;
		dev->last_had_impedance = true;
		return weighing(h, dev, r, dev->last_weight_ms, 0,
				mass_kg(m->weight), NAN, m->impedance_ohm,
				mono_ms, error);
	}
	dev->last_weight_raw = m->weight.raw;
	dev->last_weight_ms = r->t_ms;
	dev->last_had_impedance = m->has_impedance;
	g_strlcpy(dev->last_scale_time, scale_time,
		  sizeof(dev->last_scale_time));
	return weighing(h, dev, r, r->t_ms, 0, mass_kg(m->weight), NAN,
			m->has_impedance ? m->impedance_ohm : NAN, mono_ms,
			error);
}

static int wss_user(bool has, uint8_t id)
{
	return has && id != WSS_USER_UNKNOWN ? id : 0;
}

/* A standard scale sends one weighing twice: a Weight Measurement, then a
 * Body Composition Measurement with the same weight. Within a few seconds
 * they are one row (the store merges rows of one instant). */
static int64_t standard_weighing_time(struct household_device *dev,
				      int64_t t_ms, double weight_kg)
{
	if (dev->last_weight_ms && t_ms - dev->last_weight_ms < 5000 &&
	    fabs(weight_kg - dev->last_weight_kg) < 0.05)
		return dev->last_weight_ms;
	dev->last_weight_ms = t_ms;
	dev->last_weight_kg = weight_kg;
	return t_ms;
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
		struct row row = { .t_ms = r->t_ms, .person = person };

		if (strcmp(name, "occupancy") == 0 ||
		    strcmp(name, "presence") == 0) {
			bool on = o->raw != 0;

			row.kind = ROW_STATE;
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
			row.kind = ROW_STATE;
			row.sub = STORE_STATE_MOTION;
			row.v[0] = o->raw != 0;
		} else if (strcmp(name, "temperature") == 0) {
			row.kind = ROW_ENV;
			row.sub = STORE_ENV_TEMPERATURE_C;
			row.v[0] = bthome_object_value(o);
		} else if (strcmp(name, "humidity") == 0) {
			row.kind = ROW_ENV;
			row.sub = STORE_ENV_HUMIDITY_PCT;
			row.v[0] = bthome_object_value(o);
		} else if (strcmp(name, "co2") == 0) {
			row.kind = ROW_ENV;
			row.sub = STORE_ENV_CO2_PPM;
			row.v[0] = bthome_object_value(o);
		} else if (strcmp(name, "illuminance") == 0) {
			row.kind = ROW_ENV;
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
		if (!put_row(h, row, mono_ms, r->t_ms, error))
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
	dev = &g_array_index(h->devices, struct household_device, index);
	first = dev->last_seen_ms == 0;
	dev->last_seen_ms = r->t_ms;
	if (first && h->ops.device_changed)
		h->ops.device_changed(h->data, index);

	switch (r->payload.uuid) {
	case DECODE_UUID_HEART_RATE:
		if (dev->kind != HOUSEHOLD_STRAP || dev->owner < 0)
			return TRUE;
		return heart_rate(h, dev->owner, r, mono_ms, error);
	case DECODE_UUID_BATTERY_LEVEL:
		if (dev->battery_pct != r->payload.u.battery_pct) {
			dev->battery_pct = r->payload.u.battery_pct;
			if (h->ops.device_changed)
				h->ops.device_changed(h->data, index);
		}
		return TRUE;
	case DECODE_UUID_WEIGHT: {
		const struct wss_measurement *m = &r->payload.u.weight;

		if (m->weight_unsuccessful)
			return TRUE;
		return weighing(
		    h, dev, r,
		    standard_weighing_time(dev, r->t_ms, mass_kg(m->weight)),
		    wss_user(m->has_user, m->user_id), mass_kg(m->weight), NAN,
		    NAN, mono_ms, error);
	}
	case DECODE_UUID_BODY_COMPOSITION: {
		const struct bcs_measurement *m =
		    &r->payload.u.body_composition;

		/* Without its weight the body fat has nobody to go with. */
		if (!(m->flags & BCS_FLAG_WEIGHT))
			return TRUE;
		return weighing(
		    h, dev, r,
		    standard_weighing_time(dev, r->t_ms, mass_kg(m->weight)),
		    wss_user(m->flags & BCS_FLAG_USER_ID, m->user_id),
		    mass_kg(m->weight),
		    m->body_fat_unsuccessful ? NAN : m->body_fat_raw / 10.0,
		    m->flags & BCS_FLAG_IMPEDANCE ? m->impedance_raw / 10.0
						  : NAN,
		    mono_ms, error);
	}
	case DECODE_UUID_MISCALE_V1:
	case DECODE_UUID_MISCALE_V2:
		return miscale(h, dev, r, mono_ms, error);
	case DECODE_UUID_BTHOME:
		return bthome(h, dev, r, mono_ms, error);
	case DECODE_UUID_SENSOR_LOCATION:
	case DECODE_UUID_WEIGHT_FEATURE:
	default:
		return TRUE;
	}
}

gboolean household_checkin(household *h, int person, int64_t t_ms, double mood,
			   double soreness, double energy, int64_t mono_ms,
			   GError **error)
{
	g_return_val_if_fail(person >= 0 && (guint)person < h->people->len,
			     FALSE);
	return put_row(h,
		       (struct row){ .t_ms = t_ms,
				     .person = person,
				     .kind = ROW_CHECKIN,
				     .v = { mood, soreness, energy } },
		       mono_ms, t_ms, error);
}
