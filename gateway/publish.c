// SPDX-License-Identifier: MIT
#include "gateway/publish.h"

#include <math.h>
#include <string.h>

#include "gateway/core/clock.h"
#include "gateway/engine/advice.h"
#include "gateway/engine/score.h"
#include "mqtt/topic.h"

struct publisher {
	char *base_topic;
	unsigned live_min_interval_ms;
	struct publish_ops ops;
	void *data;
	household *household;

	/* Per person: when its live value last went out (monotonic), and
	 * whether a newer one waits for the interval to pass. */
	GArray *live_sent_ms; /* int64_t */
	GArray *live_dirty;   /* gboolean */
	guint live_timer;

	/* Per device: the connection it was last published with. */
	GArray *device_sent; /* enum mqtt_connection */
};

static int64_t mono_ms(void)
{
	return g_get_monotonic_time() / G_TIME_SPAN_MILLISECOND;
}

publisher *publish_new(const struct publish_config *config,
		       const struct publish_ops *ops, void *data)
{
	publisher *p = g_new0(publisher, 1);

	p->base_topic = g_strdup(config->base_topic);
	p->live_min_interval_ms = config->live_min_interval_ms
				      ? config->live_min_interval_ms
				      : PUBLISH_LIVE_MIN_INTERVAL_MS;
	p->ops = *ops;
	p->data = data;
	p->live_sent_ms = g_array_new(FALSE, TRUE, sizeof(int64_t));
	p->live_dirty = g_array_new(FALSE, TRUE, sizeof(gboolean));
	p->device_sent = g_array_new(FALSE, TRUE, sizeof(enum mqtt_connection));
	return p;
}

void publish_free(publisher *p)
{
	if (!p)
		return;
	g_clear_handle_id(&p->live_timer, g_source_remove);
	g_array_free(p->device_sent, TRUE);
	g_array_free(p->live_sent_ms, TRUE);
	g_array_free(p->live_dirty, TRUE);
	g_free(p->base_topic);
	g_free(p);
}

void publish_set_household(publisher *p, household *h)
{
	guint n = (guint)household_person_count(h);

	p->household = h;
	g_array_set_size(p->live_sent_ms, n);
	g_array_set_size(p->live_dirty, n);
	/* A new household's devices are published before they are
	 * compared. */
	g_array_set_size(p->device_sent, 0);
	g_array_set_size(p->device_sent, (guint)household_device_count(h));
}

static enum mqtt_flag flag_of(int value)
{
	return value < 0 ? MQTT_FLAG_UNKNOWN
	       : value	 ? MQTT_FLAG_YES
			 : MQTT_FLAG_NO;
}

/* This morning's spot check, until the day is over. */
static void live_spot(const struct household_live *l, int64_t now_ms,
		      struct mqtt_live *ret)
{
	if (!l->spot || now_ms >= l->spot_until_ms)
		return;
	ret->spot = spot_phase_name(l->spot_phase);
	ret->spot_measured_s = l->spot_measured_s;
	ret->spot_rmssd_ms = l->spot_rmssd_ms;
}

static void publish_live(publisher *p, int person)
{
	struct household_person *hp =
	    household_person(p->household, (size_t)person);
	int64_t now = p->ops.now_ms(p->data);
	struct mqtt_live live = {
		.heart_rate_bpm = NAN,
		.weight_kg = hp->live.weight_kg,
		.body_fat_pct = hp->live.body_fat_pct,
		.bed = flag_of(hp->live.bed),
		.contact = flag_of(hp->live.contact),
		.updated_ms = hp->live.updated_ms ? hp->live.updated_ms : now,
	};

	/* An untrusted clock may read 1970: no time rather than a wrong one
	 * (the values go out again with it once the clock is trusted). */
	if (!household_clock_trusted(p->household))
		live.updated_ms = 0;
	g_autofree char *json = NULL;
	g_autofree char *topic = mqtt_topic_live(p->base_topic, hp->cfg->name);

	if (hp->live.heart_rate_ms &&
	    now - hp->live.heart_rate_ms <= PUBLISH_LIVE_HR_MAX_AGE_MS)
		live.heart_rate_bpm = hp->live.heart_rate_bpm;
	live_spot(&hp->live, now, &live);
	if (mqtt_payload_build_live(&live, &json) < 0)
		return;
	p->ops.live(p->data, topic, json);
	g_array_index(p->live_sent_ms, int64_t, person) = mono_ms();
	g_array_index(p->live_dirty, gboolean, person) = FALSE;
}

static gboolean live_timer_cb(gpointer data)
{
	publisher *p = data;
	int64_t next = INT64_MAX, now = mono_ms();

	p->live_timer = 0;
	for (guint i = 0; i < p->live_dirty->len; i++) {
		int64_t due;

		if (!g_array_index(p->live_dirty, gboolean, i))
			continue;
		due = g_array_index(p->live_sent_ms, int64_t, i) +
		      p->live_min_interval_ms;
		if (due <= now)
			publish_live(p, (int)i);
		else
			next = MIN(next, due);
	}
	if (next != INT64_MAX)
		p->live_timer =
		    g_timeout_add((guint)(next - now + 1), live_timer_cb, p);
	return G_SOURCE_REMOVE;
}

void publish_live_changed(publisher *p, int person, bool urgent)
{
	int64_t sent = g_array_index(p->live_sent_ms, int64_t, person);

	if (urgent || mono_ms() - sent >= p->live_min_interval_ms) {
		publish_live(p, person);
		return;
	}
	g_array_index(p->live_dirty, gboolean, person) = TRUE;
	if (!p->live_timer)
		p->live_timer = g_timeout_add(
		    (guint)(sent + p->live_min_interval_ms - mono_ms() + 1),
		    live_timer_cb, p);
}

const char *publish_device_kind_text(enum household_device_kind kind)
{
	switch (kind) {
	case HOUSEHOLD_STRAP:
		return "heart-rate strap";
	case HOUSEHOLD_SCALE:
	case HOUSEHOLD_STANDARD_SCALE:
	case HOUSEHOLD_QN_SCALE:
		return "scale";
	case HOUSEHOLD_MISCALE:
		return "Xiaomi scale";
	case HOUSEHOLD_BED:
		return "bed sensor";
	default:
		return "BLE sensor";
	}
}

const char *publish_device_user(household *h,
				const struct household_device *dev)
{
	if (dev->owner < 0)
		return NULL;
	return household_person(h, (size_t)dev->owner)->cfg->name;
}

/* How @dev stands now: the radio's word, and silence for an advertiser
 * not heard for PUBLISH_SILENT_AFTER_MS. */
static enum mqtt_connection
device_connection(publisher *p, const struct household_device *dev)
{
	enum mqtt_connection c = p->ops.connection(p->data, dev);

	if (c == MQTT_CONNECTION_ADVERTISING && dev->last_seen_ms &&
	    p->ops.now_ms(p->data) - dev->last_seen_ms >=
		PUBLISH_SILENT_AFTER_MS)
		return MQTT_CONNECTION_SILENT;
	return c;
}

void publish_device(publisher *p, int index)
{
	const struct household_device *dev =
	    household_device(p->household, (size_t)index);
	struct mqtt_device_state state = {
		.address = dev->address,
		.name = p->ops.device_name ? p->ops.device_name(p->data, dev)
					   : NULL,
		.kind = publish_device_kind_text(dev->kind),
		.user = publish_device_user(p->household, dev),
		.battery_pct =
		    dev->battery_pct >= 0 ? (double)dev->battery_pct : NAN,
		.rssi_dbm = NAN,
		.last_seen_ms = dev->last_seen_ms,
		.connection = device_connection(p, dev),
	};
	g_autofree char *json = NULL;
	g_autofree char *topic = mqtt_topic_device(p->base_topic, dev->address);

	/* As for live values: no time while the clock is not trusted. */
	if (!household_clock_trusted(p->household))
		state.last_seen_ms = 0;
	if ((guint)index < p->device_sent->len)
		g_array_index(p->device_sent, enum mqtt_connection, index) =
		    state.connection;

	if (mqtt_payload_build_device(&state, &json) < 0)
		return;
	p->ops.live(p->data, topic, json);
}

void publish_check_devices(publisher *p)
{
	if (!p->household)
		return;
	for (size_t i = 0; i < household_device_count(p->household); i++) {
		const struct household_device *dev =
		    household_device(p->household, i);

		/* Never published yet: nothing said that could be stale. */
		if (i >= p->device_sent->len ||
		    g_array_index(p->device_sent, enum mqtt_connection, i) ==
			MQTT_CONNECTION_UNKNOWN)
			continue;
		if (device_connection(p, dev) !=
		    g_array_index(p->device_sent, enum mqtt_connection, i))
			publish_device(p, (int)i);
	}
}

int64_t publish_next_device_check_ms(publisher *p)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0;
	     p->household && i < household_device_count(p->household); i++) {
		const struct household_device *dev =
		    household_device(p->household, i);

		if (dev->last_seen_ms &&
		    device_connection(p, dev) == MQTT_CONNECTION_ADVERTISING)
			next = MIN(next,
				   dev->last_seen_ms + PUBLISH_SILENT_AFTER_MS);
	}
	return next;
}

bool publish_checkin(publisher *p, const struct household_person *person,
		     double mood, double soreness, double energy,
		     int64_t stored_ms)
{
	struct mqtt_checkin_stored c = {
		.mood = mood,
		.soreness = soreness,
		.energy = energy,
		.stored_ms =
		    household_clock_trusted(p->household) ? stored_ms : 0,
	};
	g_autofree char *json = NULL;
	g_autofree char *topic =
	    mqtt_topic_checkin(p->base_topic, person->cfg->name);

	if (mqtt_payload_build_checkin(&c, &json) < 0)
		return false;
	p->ops.queue(p->data, topic, json, true);
	return true;
}

void publish_all_live(publisher *p)
{
	for (size_t i = 0; i < household_device_count(p->household); i++)
		publish_device(p, (int)i);
	for (size_t i = 0; i < household_person_count(p->household); i++)
		publish_live(p, (int)i);
}

bool publish_alert(publisher *p, const struct household_person *person,
		   const struct recovery_day *day, bool update)
{
	const struct advice *a = &day->advice;
	const char *actions[ADVICE_MAX_ITEMS], *reasons[ADVICE_MAX_ITEMS];
	const char *name =
	    person->cfg->display_name && person->cfg->display_name[0]
		? person->cfg->display_name
		: person->cfg->name;
	char date[16], text[ADVICE_PUSH_TEXT];
	struct mqtt_alert alert = {
		.user = person->cfg->name,
		.display_name = person->cfg->display_name,
		.date = date,
		.score = day->score.score,
		.zone = score_zone_name(day->score.zone),
		.state = advice_state_name(a->state),
		.headline = a->headline,
		.detail = a->detail[0] ? a->detail : NULL,
		.actions = actions,
		.action_count = a->action_count,
		.reasons = reasons,
		.reason_count = a->reason_count,
		.text = text,
		.update = update,
		.hrv_source = hrv_source_name(day->night.hrv_source),
	};
	g_autofree char *json = NULL;
	g_autofree char *topic =
	    mqtt_topic_alert(p->base_topic, person->cfg->name);

	/* The push line: headline, first action, and a check-in invitation
	 * while there is none today (the engine keeps it within 200). */
	advice_push_text(a, name, text, sizeof(text));

	clock_day_format(day->day, date, sizeof(date));
	for (size_t i = 0; i < a->action_count; i++)
		actions[i] = a->actions[i];
	for (size_t i = 0; i < a->reason_count; i++)
		reasons[i] = a->reasons[i];
	if (mqtt_payload_build_alert(&alert, &json) < 0)
		return false;
	p->ops.queue(p->data, topic, json, false);
	return true;
}

void publish_state(publisher *p, const struct household_person *person,
		   const char *state_json)
{
	g_autofree char *topic =
	    mqtt_topic_state(p->base_topic, person->cfg->name);

	p->ops.queue(p->data, topic, state_json, true);
}

void publish_history(publisher *p, const struct household_person *person,
		     const char *history_json)
{
	g_autofree char *topic =
	    mqtt_topic_history(p->base_topic, person->cfg->name);

	if (topic)
		p->ops.live(p->data, topic, history_json);
}
