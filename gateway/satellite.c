// SPDX-License-Identifier: MIT
#define G_LOG_DOMAIN "recoveryd"

#include "gateway/satellite.h"

#include <math.h>
#include <string.h>

#include "gateway/core/clock.h"
#include "gateway/core/household.h"
#include "gateway/daemon.h"
#include "gateway/health.h"
#include "mqtt/satellite.h"
#include "mqtt/topic.h"

/* A satellite holds at most this many readings in memory while the outbox
 * cannot be written (the disk failing): some 60 MB, a night of two
 * straps. Beyond, the oldest go, and the log says so. */
#define SATELLITE_PENDING_MAX 400000
/* The home gateway keeps at most this many satellites. */
#define SATELLITES_MAX 64
/* A bad message is logged the first time and every this many. */
#define BAD_LOG_EVERY 100

struct satellite_entry {
	char name[MQTT_TOPIC_USER_MAX + 1];
	char status[16];
	int64_t last_heard_ms;
	uint64_t readings, dropped;
};

struct satellites {
	struct daemon *d;
	bool home;
	/* satellite: readings not yet in the outbox, and where they go */
	GArray *pending; /* struct mqtt_satellite_reading */
	char *readings_topic;
	guint flush_timer, flush_idle;
	uint64_t lost;
	/* home */
	GArray *known; /* struct satellite_entry */
	GArray *list;  /* struct mqtt_gateway_satellite, for the state */
	uint64_t bad;
	bool full_logged;
};

/* --- the satellite end ---------------------------------------------------- */

/* Each kind of the payload and the store's kind (and sub-kind) it is. */
static const struct {
	enum mqtt_satellite_kind message;
	enum store_reading_kind kind;
	int sub;
} kinds[] = {
	{ MQTT_SATELLITE_HEART_RATE, STORE_READING_HR, 0 },
	{ MQTT_SATELLITE_RR, STORE_READING_RR, 0 },
	{ MQTT_SATELLITE_BED, STORE_READING_STATE, STORE_STATE_BED },
	{ MQTT_SATELLITE_MOTION, STORE_READING_STATE, STORE_STATE_MOTION },
	{ MQTT_SATELLITE_TEMPERATURE_C, STORE_READING_ENV,
	  STORE_ENV_TEMPERATURE_C },
	{ MQTT_SATELLITE_HUMIDITY_PCT, STORE_READING_ENV,
	  STORE_ENV_HUMIDITY_PCT },
	{ MQTT_SATELLITE_CO2_PPM, STORE_READING_ENV, STORE_ENV_CO2_PPM },
	{ MQTT_SATELLITE_ILLUMINANCE_LX, STORE_READING_ENV,
	  STORE_ENV_ILLUMINANCE_LX },
	{ MQTT_SATELLITE_BODY, STORE_READING_BODY, 0 },
};

/* The payload's kind of a filed reading; false for one not sent (a
 * check-in: the satellite takes none). */
static bool to_message_kind(const struct store_reading *r,
			    enum mqtt_satellite_kind *ret)
{
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (kinds[i].kind == r->kind &&
		    (kinds[i].sub == 0 || kinds[i].sub == r->sub)) {
			*ret = kinds[i].message;
			return true;
		}
	return false;
}

/* The message's kind as the store files it (mqtt_satellite_decode gave
 * a known kind). */
static void from_message_kind(enum mqtt_satellite_kind kind,
			      enum store_reading_kind *ret_kind, int *ret_sub)
{
	*ret_kind = STORE_READING_BODY;
	*ret_sub = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (kinds[i].message == kind) {
			*ret_kind = kinds[i].kind;
			*ret_sub = kinds[i].sub;
		}
}

/* The device of person @p that sends readings of @kind. */
static const char *device_of(const struct config_person *p,
			     enum store_reading_kind kind)
{
	switch (kind) {
	case STORE_READING_RR:
	case STORE_READING_HR:
		return p->heart_rate;
	case STORE_READING_STATE:
	case STORE_READING_ENV:
		return p->bed_sensor;
	case STORE_READING_BODY:
		return p->scale;
	case STORE_READING_CHECKIN:
	default:
		return "";
	}
}

/* Writes the held readings to the outbox, a message per
 * MQTT_SATELLITE_MAX_READINGS; what cannot be written stays held. */
static void flush(struct satellites *s)
{
	struct daemon *d = s->d;
	guint done = 0;

	while (done < s->pending->len) {
		guint n = MIN(s->pending->len - done,
			      (guint)MQTT_SATELLITE_MAX_READINGS);
		g_autofree char *json = NULL;
		g_autoptr(GError) error = NULL;

		if (mqtt_satellite_encode(
			d->config->satellite_name,
			&g_array_index(s->pending,
				       struct mqtt_satellite_reading, done),
			n, &json) < 0) {
			/* The tap checked every field: cannot happen. */
			g_warning("satellite: %u readings could not be encoded "
				  "and were dropped",
				  n);
			done += n;
			continue;
		}
		if (!store_outbox_add(d->store, s->readings_topic, json,
				      strlen(json), 1, false, daemon_now_ms(d),
				      NULL, &error)) {
			daemon_store_failed(d, "queueing readings for home",
					    error);
			break;
		}
		done += n;
	}
	g_array_remove_range(s->pending, 0, done);
	if (done && d->mqtt)
		mqtt_client_outbox_changed(d->mqtt);
}

static gboolean flush_cb(gpointer data)
{
	struct satellites *s = data;

	flush(s);
	return G_SOURCE_CONTINUE;
}

static gboolean flush_idle_cb(gpointer data)
{
	struct satellites *s = data;

	s->flush_idle = 0;
	flush(s);
	return G_SOURCE_REMOVE;
}

void satellites_filed(void *data, const struct store_reading *r, int64_t t_ms)
{
	struct daemon *d = data;
	struct satellites *s = d->satellites;
	struct mqtt_satellite_reading m = { .t_ms = t_ms };
	const struct household_person *p = NULL;

	if (!s || s->home || !d->household || !to_message_kind(r, &m.kind))
		return;
	for (size_t i = 0; i < household_person_count(d->household); i++)
		if (household_person(d->household, i)->user_id == r->user)
			p = household_person(d->household, i);
	if (!p || !*device_of(p->cfg, r->kind))
		return;
	g_strlcpy(m.device, device_of(p->cfg, r->kind), sizeof(m.device));
	g_strlcpy(m.user, p->cfg->name, sizeof(m.user));
	m.v[0] = r->v[0];
	m.v[1] = r->kind == STORE_READING_BODY ? r->v[1] : NAN;
	m.v[2] = r->kind == STORE_READING_BODY ? r->v[2] : NAN;
	if (s->pending->len >= SATELLITE_PENDING_MAX) {
		if (s->lost++ == 0)
			g_warning("satellite: the outbox cannot be written and "
				  "%d readings wait in memory: the oldest are "
				  "dropped",
				  SATELLITE_PENDING_MAX);
		g_array_remove_index(s->pending, 0);
	}
	g_array_append_val(s->pending, m);
	/* Not from here: the store is inside its own call. */
	if (s->pending->len >= MQTT_SATELLITE_MAX_READINGS && !s->flush_idle)
		s->flush_idle = g_idle_add(flush_idle_cb, s);
}

/* --- the home end ----------------------------------------------------------
 */

static struct satellite_entry *entry_of(struct satellites *s, const char *name)
{
	struct satellite_entry e = { 0 };

	for (guint i = 0; i < s->known->len; i++) {
		struct satellite_entry *k =
		    &g_array_index(s->known, struct satellite_entry, i);

		if (!strcmp(k->name, name))
			return k;
	}
	if (s->known->len >= SATELLITES_MAX) {
		if (!s->full_logged)
			g_warning("satellite %s ignored: this gateway keeps at "
				  "most %d satellites",
				  name, SATELLITES_MAX);
		s->full_logged = true;
		return NULL;
	}
	g_strlcpy(e.name, name, sizeof(e.name));
	g_array_append_val(s->known, e);
	g_message("satellite %s: heard for the first time", name);
	return &g_array_index(s->known, struct satellite_entry,
			      s->known->len - 1);
}

static void bad_message(struct satellites *s, const char *topic,
			const char *why)
{
	if (s->bad++ % BAD_LOG_EVERY == 0)
		g_warning(
		    "satellite message on %s dropped: %s (%" G_GUINT64_FORMAT
		    " such so far)",
		    topic, why, s->bad);
}

static void file_readings(struct satellites *s, struct satellite_entry *e,
			  const char *topic, const void *payload, size_t len)
{
	struct daemon *d = s->d;
	g_autoptr(GArray) readings =
	    g_array_new(FALSE, FALSE, sizeof(struct mqtt_satellite_reading));
	char name[MQTT_TOPIC_USER_MAX + 1];
	g_autofree char *why = NULL;
	uint64_t foreign = 0;
	int64_t now = daemon_now_ms(d);

	if (mqtt_satellite_decode(payload, len, readings, name, &why) < 0) {
		bad_message(s, topic, why);
		return;
	}
	if (strcmp(name, e->name) != 0) {
		g_autofree char *text = g_strdup_printf(
		    "it says it is satellite \"%s\", its topic \"%s\"", name,
		    e->name);

		bad_message(s, topic, text);
		return;
	}
	e->last_heard_ms = now;
	for (guint i = 0; i < readings->len; i++) {
		const struct mqtt_satellite_reading *m =
		    &g_array_index(readings, struct mqtt_satellite_reading, i);
		struct household_remote_reading r = {
			.address = m->device,
			.user = m->user,
			.t_ms = m->t_ms,
			.v = { m->v[0], m->v[1], m->v[2] },
		};
		enum household_remote_result result;
		g_autoptr(GError) error = NULL;

		from_message_kind(m->kind, &r.kind, &r.sub);
		if (household_clock_trusted(d->household) &&
		    !clock_reading_time_valid(m->t_ms, now)) {
			e->dropped++;
			continue;
		}
		if (!household_file_remote(d->household, &r, &result, &error)) {
			/* Kept by nobody: the store's health says why. */
			daemon_store_failed(d, "filing a satellite's reading",
					    error);
			e->dropped++;
			continue;
		}
		if (result == HOUSEHOLD_REMOTE_FILED) {
			daemon_tick_soon(d);
			e->readings++;
			continue;
		}
		e->dropped++;
		foreign += result == HOUSEHOLD_REMOTE_FOREIGN ||
			   result == HOUSEHOLD_REMOTE_MISMATCH;
	}
	if (foreign)
		g_debug("satellite %s: %" G_GUINT64_FORMAT " readings of "
			"devices that are no one's here (or of another "
			"kind) dropped",
			e->name, foreign);
	health_publish_gateway(d, false);
}

bool satellites_message(struct satellites *s, const char *topic,
			const void *payload, size_t len, bool retained)
{
	const char *base = s ? s->d->base_topic : NULL;
	char name[MQTT_TOPIC_USER_MAX + 1];
	const char *leaf;
	struct satellite_entry *e;

	if (!s || !s->home ||
	    !mqtt_topic_parse_satellite(base, topic, name, sizeof(name), &leaf))
		return false;
	e = entry_of(s, name);
	if (!e)
		return true;
	if (!strcmp(leaf, "status")) {
		/* "online" / "offline": its last will, retained. */
		g_autofree char *word = g_strndup(payload, MIN(len, 15));

		if (strcmp(word, "online") && strcmp(word, "offline")) {
			bad_message(s, topic, "not \"online\" or \"offline\"");
			return true;
		}
		if (strcmp(e->status, word))
			g_message("satellite %s: %s", name, word);
		g_strlcpy(e->status, word, sizeof(e->status));
		if (!retained)
			e->last_heard_ms = daemon_now_ms(s->d);
		health_publish_gateway(s->d, true);
		return true;
	}
	if (!strcmp(leaf, "readings"))
		file_readings(s, e, topic, payload, len);
	return true;
}

size_t satellites_list(struct satellites *s,
		       const struct mqtt_gateway_satellite **ret)
{
	if (!s || !s->home) {
		*ret = NULL;
		return 0;
	}
	g_array_set_size(s->list, 0);
	for (guint i = 0; i < s->known->len; i++) {
		const struct satellite_entry *e =
		    &g_array_index(s->known, struct satellite_entry, i);
		struct mqtt_gateway_satellite item = {
			.name = e->name,
			.status = e->status[0] ? e->status : NULL,
			.last_heard_ms = e->last_heard_ms,
			.readings = e->readings,
			.dropped = e->dropped,
		};

		g_array_append_val(s->list, item);
	}
	*ret = (const struct mqtt_gateway_satellite *)(void *)s->list->data;
	return s->list->len;
}

/* --- both ----------------------------------------------------------------- */

struct satellites *satellites_new(struct daemon *d, GError **error)
{
	struct satellites *s = g_new0(struct satellites, 1);

	s->d = d;
	s->home = d->config->role == CONFIG_ROLE_HOME;
	if (!s->home) {
		s->pending = g_array_new(FALSE, FALSE,
					 sizeof(struct mqtt_satellite_reading));
		s->readings_topic = mqtt_topic_satellite_readings(
		    d->config->base_topic, d->config->satellite_name);
		s->flush_timer = g_timeout_add(SATELLITE_BATCH_MS, flush_cb, s);
		return s;
	}
	s->known = g_array_new(FALSE, TRUE, sizeof(struct satellite_entry));
	s->list =
	    g_array_new(FALSE, TRUE, sizeof(struct mqtt_gateway_satellite));
	{
		g_autofree char *readings =
		    mqtt_topic_satellite_filter(d->base_topic, "readings");
		g_autofree char *status =
		    mqtt_topic_satellite_filter(d->base_topic, "status");

		if (!mqtt_client_subscribe(d->mqtt, readings, error) ||
		    !mqtt_client_subscribe(d->mqtt, status, error)) {
			satellites_free(s);
			return NULL;
		}
	}
	return s;
}

void satellites_free(struct satellites *s)
{
	if (!s)
		return;
	g_clear_handle_id(&s->flush_timer, g_source_remove);
	g_clear_handle_id(&s->flush_idle, g_source_remove);
	if (s->pending) {
		flush(s);
		if (s->pending->len)
			g_warning("satellite: %u readings could not be queued "
				  "for home at exit",
				  s->pending->len);
		g_array_free(s->pending, TRUE);
	}
	if (s->known)
		g_array_free(s->known, TRUE);
	if (s->list)
		g_array_free(s->list, TRUE);
	g_free(s->readings_topic);
	g_free(s);
}
