// SPDX-License-Identifier: MIT
#define G_LOG_DOMAIN "recoveryd"

#include "gateway/health.h"

#include <inttypes.h>
#include <string.h>

#include "gateway/core/analyze.h"
#include "gateway/radio.h"
#include "gateway/satellite.h"
#include "gateway/version.h"
#include "mqtt/payload.h"
#include "mqtt/topic.h"

/* A failure goes on: said again this often, with its counts. */
#define REMIND_MS 60000
/* Other database failures: at most one line this often. */
#define OP_LOG_MS 60000
/* The gateway's state: at most this often, unless urgent. */
#define GATEWAY_MIN_INTERVAL_MS 30000
/* A device's row: rewritten when it was heard again this much later, or
 * its battery changed. */
#define DEVICE_WRITE_MS 60000
/* Damaged raw rows named one by one; the rest are counted. */
#define RAW_DAMAGE_SHOWN 10
/* Damaged rows remembered (logged once); nights recomputed per tick. */
#define DAMAGE_SEEN_MAX	 1024
#define REPAIRS_PER_TICK 16

struct device_written {
	int64_t seen_ms;
	int battery_pct;
};

struct health {
	/* The store's failure. */
	guint retry_timer;
	int64_t reminded_ms;
	/* Other database failures. */
	int64_t op_logged_ms;
	uint64_t op_suppressed;
	/* The gateway's state. */
	char *gateway_sent;
	int64_t gateway_sent_ms;
	guint gateway_timer;
	guint idle;
	/* Device rows in the database, by household device index. */
	GArray *devices; /* struct device_written */
	/* Damaged rows: logged once, nights and results recomputed. */
	GHashTable *seen;
	GArray *repairs; /* struct store_damage */
	uint64_t raw_damaged;
};

struct health *health_new(void)
{
	struct health *h = g_new0(struct health, 1);

	h->devices = g_array_new(FALSE, TRUE, sizeof(struct device_written));
	h->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	h->repairs = g_array_new(FALSE, FALSE, sizeof(struct store_damage));
	return h;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	g_clear_handle_id(&h->retry_timer, g_source_remove);
	g_clear_handle_id(&h->gateway_timer, g_source_remove);
	g_clear_handle_id(&h->idle, g_source_remove);
	g_free(h->gateway_sent);
	g_array_free(h->devices, TRUE);
	g_hash_table_unref(h->seen);
	g_array_free(h->repairs, TRUE);
	g_free(h);
}

/* "12 s", "4 min 10 s", "3 h 5 min": how long, for a person. */
static char *duration_text(int64_t ms)
{
	int64_t s = MAX(ms, 0) / 1000;

	if (s < 60)
		return g_strdup_printf("%" PRId64 " s", s);
	if (s < 3600)
		return g_strdup_printf("%" PRId64 " min %" PRId64 " s", s / 60,
				       s % 60);
	return g_strdup_printf("%" PRId64 " h %" PRId64 " min", s / 3600,
			       s % 3600 / 60);
}

/* --- the store's failure ------------------------------------------------- */

static gboolean retry_cb(gpointer data);

/* The next retry, on the store's backoff (the store's clock is the
 * daemon's monotonic one). */
static void schedule_retry(struct daemon *d, const struct store_health *sh)
{
	struct health *h = d->health;
	int64_t wait = sh->next_retry_ms - daemon_mono_ms();

	g_clear_handle_id(&h->retry_timer, g_source_remove);
	h->retry_timer = g_timeout_add(
	    (guint)CLAMP(wait, 0, STORE_RETRY_MAX_MS) + 1, retry_cb, d);
}

static void remind(struct daemon *d, const struct store_health *sh)
{
	struct health *h = d->health;
	int64_t now = daemon_mono_ms();
	g_autofree char *since = NULL;

	if (now - h->reminded_ms < REMIND_MS)
		return;
	h->reminded_ms = now;
	since = duration_text(now - sh->failing_since_ms);
	g_warning("database %s: still %s after %s: %u readings held, "
		  "%" PRIu64 " dropped, %" PRIu64 " retries; next in %" PRId64
		  " s (%s)",
		  d->config->database, sh->cause, since, sh->held_rows,
		  sh->dropped_rows, sh->attempts,
		  MAX(sh->next_retry_ms - now, 0) / 1000, sh->detail);
}

static gboolean retry_cb(gpointer data)
{
	struct daemon *d = data;
	struct store_health sh;

	d->health->retry_timer = 0;
	store_tick(d->store, NULL);
	store_get_health(d->store, &sh);
	if (sh.failing) {
		remind(d, &sh);
		schedule_retry(d, &sh);
	}
	return G_SOURCE_REMOVE;
}

/* After the store call that changed the health has returned. */
static gboolean changed_idle_cb(gpointer data)
{
	struct daemon *d = data;

	d->health->idle = 0;
	daemon_update_status(d);
	health_publish_gateway(d, true);
	return G_SOURCE_REMOVE;
}

void health_store_changed(void *data)
{
	struct daemon *d = data;
	struct health *h = d->health;
	struct store_health sh;

	store_get_health(d->store, &sh);
	if (sh.failing) {
		g_warning("database %s: %s: %u readings held, retrying (%s)",
			  d->config->database, sh.cause, sh.held_rows,
			  sh.detail);
		h->reminded_ms = daemon_mono_ms();
		schedule_retry(d, &sh);
	} else {
		g_autofree char *took =
		    duration_text(sh.last_outage.duration_ms);

		g_message("database %s: writable again after %s: %" PRIu64
			  " readings written, %" PRIu64 " dropped",
			  d->config->database, took,
			  sh.last_outage.written_rows,
			  sh.last_outage.dropped_rows);
		g_clear_handle_id(&h->retry_timer, g_source_remove);
		/* Device rows of the failed batch went with it. */
		g_array_set_size(h->devices, 0);
	}
	/* Not from inside the store call that told us. */
	if (!h->idle)
		h->idle = g_idle_add(changed_idle_cb, d);
}

char *health_status_text(struct daemon *d)
{
	struct store_health sh;

	if (!d->store)
		return NULL;
	store_get_health(d->store, &sh);
	if (!sh.failing)
		return NULL;
	return g_strdup_printf("database %s, %u readings held", sh.cause,
			       sh.held_rows);
}

void health_op_failed(struct daemon *d, const char *what, const GError *error)
{
	struct health *h = d->health;
	struct store_health sh;
	int64_t now = daemon_mono_ms();

	d->store_failures++;
	/* While the disk refuses, the store's own lines say it all. */
	if (d->store)
		store_get_health(d->store, &sh);
	if ((d->store && sh.failing) ||
	    g_error_matches(error, STORE_ERROR, STORE_ERROR_UNAVAILABLE)) {
		g_debug("database %s: %s: %s", d->config->database, what,
			error->message);
		return;
	}
	if (h->op_logged_ms && now - h->op_logged_ms < OP_LOG_MS) {
		h->op_suppressed++;
		g_debug("database %s: %s: %s", d->config->database, what,
			error->message);
		return;
	}
	if (h->op_suppressed)
		g_warning("database %s: %s: %s (and %" PRIu64
			  " more failures in the last minute)",
			  d->config->database, what, error->message,
			  h->op_suppressed);
	else
		g_warning("database %s: %s: %s", d->config->database, what,
			  error->message);
	h->op_logged_ms = now;
	h->op_suppressed = 0;
}

/* --- the gateway's state -------------------------------------------------- */

/* When the last night was analysed: the newest result of today or
 * yesterday, anyone's. */
static int64_t last_analysis_ms(struct daemon *d)
{
	int32_t today = clock_day_of(d->zone, daemon_now_ms(d));
	int64_t last = 0;

	for (size_t i = 0; i < household_person_count(d->household); i++) {
		g_autoptr(GArray) results =
		    g_array_new(FALSE, FALSE, sizeof(struct store_result));

		if (!store_get_results(
			d->store, household_person(d->household, i)->user_id,
			today - 1, today, results, NULL))
			continue;
		for (guint k = 0; k < results->len; k++)
			last = MAX(
			    last, g_array_index(results, struct store_result, k)
				      .computed_ms);
	}
	return last;
}

static char *gateway_json(struct daemon *d)
{
	size_t np = household_person_count(d->household);
	size_t nd = household_device_count(d->household);
	g_autofree const char **people = g_new0(const char *, MAX(np, 1));
	struct mqtt_gateway_state state = {
		.version = RECOVERYD_VERSION,
		.people = people,
		.people_count = np,
		.devices_configured = (unsigned)nd,
		.outbox_backlog = -1,
		.clock_synchronised = household_clock_trusted(d->household),
		.adapter = radio_adapter_state(d),
	};
	struct store_health sh;
	uint64_t backlog;
	char *json = NULL;

	for (size_t i = 0; i < np; i++)
		people[i] = household_person(d->household, i)->cfg->name;
	for (size_t i = 0; i < nd; i++)
		if (household_device(d->household, i)->last_seen_ms)
			state.devices_heard++;
	if (store_outbox_backlog(d->store, &backlog, NULL))
		state.outbox_backlog =
		    (int64_t)MIN(backlog, (uint64_t)G_MAXINT64);
	store_get_health(d->store, &sh);
	if (sh.failing) {
		state.storage_failing = true;
		state.storage_cause = sh.cause;
		/* The store's clock is monotonic: as a wall time. */
		state.storage_failing_since_ms =
		    g_get_real_time() / 1000 -
		    (daemon_mono_ms() - sh.failing_since_ms);
		state.held_readings = sh.held_rows;
		state.dropped_readings = sh.dropped_rows;
	}
	state.last_analysis_ms = last_analysis_ms(d);
	state.satellite_count =
	    satellites_list(d->satellites, &state.satellites);
	if (mqtt_payload_build_gateway(&state, &json) < 0)
		return NULL;
	return json;
}

static gboolean gateway_cb(gpointer data)
{
	struct daemon *d = data;

	d->health->gateway_timer = 0;
	health_publish_gateway(d, false);
	return G_SOURCE_REMOVE;
}

void health_publish_gateway(struct daemon *d, bool urgent)
{
	struct health *h = d->health;
	int64_t now = daemon_mono_ms();
	g_autofree char *json = NULL;
	g_autofree char *topic = NULL;
	g_autoptr(GError) error = NULL;

	if (!d->mqtt || !d->store || !d->household)
		return;
	if (!urgent && h->gateway_sent_ms &&
	    now - h->gateway_sent_ms < GATEWAY_MIN_INTERVAL_MS) {
		if (!h->gateway_timer)
			h->gateway_timer = g_timeout_add(
			    (guint)(h->gateway_sent_ms +
				    GATEWAY_MIN_INTERVAL_MS - now),
			    gateway_cb, d);
		return;
	}
	json = gateway_json(d);
	if (!json || g_strcmp0(json, h->gateway_sent) == 0)
		return;
	topic = mqtt_topic_gateway(d->base_topic);
	/* A live value: newest only, kept while the broker is away, and no
	 * outbox row (the outbox may be what cannot be written). */
	if (!topic || !mqtt_client_publish_live(d->mqtt, topic, json,
						strlen(json), true, &error)) {
		g_debug("the gateway's state was not sent: %s",
			error ? error->message : "no topic");
		return;
	}
	g_clear_handle_id(&h->gateway_timer, g_source_remove);
	g_free(h->gateway_sent);
	h->gateway_sent = g_steal_pointer(&json);
	h->gateway_sent_ms = now;
}

/* --- devices in the database ------------------------------------------------
 */

/* What the device is, in the database's few letters. */
static const char *device_kind(enum household_device_kind kind)
{
	switch (kind) {
	case HOUSEHOLD_STRAP:
		return "heart-rate";
	case HOUSEHOLD_SCALE:
	case HOUSEHOLD_STANDARD_SCALE:
	case HOUSEHOLD_QN_SCALE:
		return "scale";
	case HOUSEHOLD_MISCALE:
		return "mi-scale";
	case HOUSEHOLD_BED:
		return "bed-sensor";
	default:
		return "device";
	}
}

void health_devices_reset(struct daemon *d)
{
	g_array_set_size(d->health->devices, 0);
}

/* Each heard device's last state, for `recoveryctl status`: when it was
 * heard again a minute later, or its battery changed. The rows join the
 * batch, so they cost no write of their own. */
static void write_devices(struct daemon *d)
{
	struct health *h = d->health;
	size_t n = household_device_count(d->household);

	if (h->devices->len != n) {
		g_array_set_size(h->devices, 0);
		g_array_set_size(h->devices, (guint)n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct household_device *dev =
		    household_device(d->household, i);
		struct device_written *w =
		    &g_array_index(h->devices, struct device_written, i);
		struct store_device row = {
			.battery_pct = dev->battery_pct,
			.last_seen_ms = dev->last_seen_ms,
		};
		g_autoptr(GError) error = NULL;

		if (!dev->last_seen_ms ||
		    (w->seen_ms &&
		     dev->last_seen_ms - w->seen_ms < DEVICE_WRITE_MS &&
		     dev->battery_pct == w->battery_pct))
			continue;
		g_strlcpy(row.address, dev->address, sizeof(row.address));
		g_strlcpy(row.kind, device_kind(dev->kind), sizeof(row.kind));
		if (dev->owner >= 0)
			row.user =
			    household_person(d->household, (size_t)dev->owner)
				->user_id;
		if (!store_put_device(d->store, &row, &error)) {
			health_op_failed(d, "storing a device's state", error);
			return;
		}
		w->seen_ms = dev->last_seen_ms;
		w->battery_pct = dev->battery_pct;
	}
}

/* --- damaged rows ------------------------------------------------------------
 */

/* Whether @key is new (remembered from now on; the memory is bounded). */
static bool first_time(struct health *h, char *key)
{
	if (g_hash_table_contains(h->seen, key)) {
		g_free(key);
		return false;
	}
	if (g_hash_table_size(h->seen) < DAMAGE_SEEN_MAX)
		g_hash_table_add(h->seen, key);
	else
		g_free(key);
	return true;
}

static const struct analyze_person *person_of(struct daemon *d, int64_t user,
					      struct analyze_person *scratch)
{
	for (size_t i = 0; i < household_person_count(d->household); i++) {
		struct household_person *p = household_person(d->household, i);

		if (p->user_id == user)
			return &p->analysis;
	}
	/* Someone no longer in the configuration: the defaults. */
	analyze_person_defaults(scratch, user);
	return scratch;
}

/* Computes @r's night (for a night) and result again. FALSE with @error. */
static gboolean recompute(struct daemon *d, const struct store_damage *r,
			  GError **error)
{
	struct analyze_person scratch;
	const struct analyze_person *p = person_of(d, r->user, &scratch);

	if (strcmp(r->table, "nights") == 0 &&
	    !analyze_night(d->store, d->zone, p, r->day, NULL, error))
		return FALSE;
	return analyze_results(d->store, p, r->day, r->day, daemon_now_ms(d),
			       NULL, NULL, error);
}

static void take_damage(struct daemon *d)
{
	struct health *h = d->health;
	g_autoptr(GArray) found =
	    g_array_new(FALSE, FALSE, sizeof(struct store_damage));
	uint64_t more = store_take_damage(d->store, found);
	uint64_t before = h->raw_damaged, unshown;

	for (guint i = 0; i < found->len; i++) {
		const struct store_damage *r =
		    &g_array_index(found, struct store_damage, i);

		if (!first_time(h, g_strdup(r->message)))
			continue;
		if (r->derived && r->day >= 0 && r->user > 0) {
			g_warning("database %s: %s: not read; computing it "
				  "again from the readings",
				  d->config->database, r->message);
			if (first_time(h, g_strdup_printf(
					      "repair %s %" PRId64 " %d",
					      r->table, r->user, (int)r->day)))
				g_array_append_val(h->repairs, *r);
		} else if (h->raw_damaged++ < RAW_DAMAGE_SHOWN) {
			g_warning("database %s: %s: skipped",
				  d->config->database, r->message);
		}
	}
	h->raw_damaged += more;
	unshown =
	    h->raw_damaged - MIN(MAX(before, RAW_DAMAGE_SHOWN), h->raw_damaged);
	if (unshown)
		g_warning("database %s: %" PRIu64 " more damaged rows "
			  "skipped (%" PRIu64 " so far)",
			  d->config->database, unshown, h->raw_damaged);
}

void health_repair(struct daemon *d)
{
	struct health *h = d->health;
	struct store_health sh;
	guint done = 0;

	take_damage(d);
	store_get_health(d->store, &sh);
	while (h->repairs->len && !sh.failing && done < REPAIRS_PER_TICK) {
		struct store_damage r =
		    g_array_index(h->repairs, struct store_damage, 0);
		g_autoptr(GError) error = NULL;
		char date[16];

		clock_day_format(r.day, date, sizeof(date));
		if (!recompute(d, &r, &error)) {
			/* The disk again: the next tick tries again. */
			if (g_error_matches(error, STORE_ERROR,
					    STORE_ERROR_UNAVAILABLE))
				break;
			g_warning("database %s: the %s row of user %" PRId64
				  " for %s could not be computed again: %s",
				  d->config->database, r.table, r.user, date,
				  error->message);
		} else {
			g_message("database %s: the %s row of user %" PRId64
				  " for %s computed again from the readings",
				  d->config->database, r.table, r.user, date);
		}
		g_array_remove_index(h->repairs, 0);
		done++;
		store_get_health(d->store, &sh);
	}
	/* The analysis read nights around them: damage found there too. */
	take_damage(d);
}

/* --- every tick
 * --------------------------------------------------------------- */

void health_tick(struct daemon *d)
{
	struct health *h = d->health;
	struct store_health sh;

	store_get_health(d->store, &sh);
	if (sh.failing) {
		remind(d, &sh);
		if (!h->retry_timer)
			schedule_retry(d, &sh);
	} else {
		write_devices(d);
		health_repair(d);
	}
	daemon_update_status(d);
	health_publish_gateway(d, false);
}
