// SPDX-License-Identifier: MIT
/*
 * recoveryd: the daemon. The one place that wires sensors/ (BLE), the core
 * (store, household, analysis) and mqtt/ together (DESIGN §2), in one GLib
 * main loop with no threads of our own.
 */
#define G_LOG_DOMAIN "recoveryd"

#include <errno.h>
#include <locale.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <systemd/sd-daemon.h>

#include "gateway/core/analyze.h"
#include "sensors/ble.h"
#include "mqtt/bridge.h"
#include "mqtt/client.h"
#include "gateway/core/clock.h"
#include "gateway/core/config.h"
#include "sensors/decode.h"
#include "gateway/core/demo.h"
#include "gateway/core/household.h"
#include "gateway/common/json-text.h"
#include "gateway/engine/morning.h"
#include "gateway/outbox.h"
#include "mqtt/payload.h"
#include "gateway/core/report.h"
#include "gateway/core/store.h"
#include "mqtt/topic.h"
#include "gateway/version.h"

#define DEFAULT_CONFIG "/etc/recoveryd/recoveryd.conf"
/* Live values that only carry a new heart rate go out at most this often. */
#define LIVE_MIN_INTERVAL_MS 2000
/* A heart rate older than this is no longer "live". */
#define LIVE_HR_MAX_AGE_MS 30000
/* Re-queued states after a reconnect at most this often: a flapping
 * connection must not fill the outbox. */
#define REPUBLISH_MIN_INTERVAL_MS 60000
/* Before this instant (2026-01-01) the wall clock is certainly wrong. */
#define CLOCK_FLOOR_MS INT64_C(1767225600000)
/* Nights analysed again when a morning finds them missing (the daemon was
 * down): at most this many days back. */
#define BACKFILL_DAYS	       7
#define STATUS_MIN_INTERVAL_MS 5000
/* A morning first handled this long after the latest time (the daemon was
 * down, or the clock only now set) gets its state but no alert. */
#define LATE_S (30 * 60)
/* Sent rows are kept this long in the outbox (for `recoveryctl`). */
#define OUTBOX_KEEP_MS (7 * 24 * 3600 * INT64_C(1000))

struct demo_run {
	struct scenario sc;
	int days;
	double night_s; /* real seconds per simulated day */
	int next_index; /* the next day index to generate */
	GArray *queue;	/* struct demo_packet, by time */
	guint pos;	/* the next packet to send */
	guint day_len;	/* packets of the last day generated */
	int64_t sim_ms; /* the simulated wall clock */
	int64_t last_mono_ms;
	guint timer;
	struct decoded_payload *scratch;
};

struct daemon {
	GMainLoop *loop;
	int exit_code;
	const char *config_path;
	struct config *config;
	clock_zone *zone;
	store *store;
	household *household;
	mqtt_client *mqtt;
	mqtt_bridge *bridge;
	ble_client *ble;
	char *tmpdir; /* demo database directory, removed at exit */
	struct demo_run *demo;
	bool want_demo;
	double demo_speed;
	int demo_days;

	/* Per person: when its live value last went out, and whether a newer
	 * one waits for LIVE_MIN_INTERVAL_MS. */
	GArray *live_sent_ms; /* int64_t, monotonic */
	GArray *live_dirty;   /* gboolean */
	guint live_timer;

	int64_t last_republish_ms;
	bool mqtt_up;
	char *last_mqtt_error;
	unsigned mqtt_failures;
	uint64_t alerts;
	uint64_t store_failures;
	bool ble_advice_logged;

	guint store_timer, morning_timer, watchdog_timer, clock_timer,
	    housekeeping_timer, status_timer;
	char *status_sent;
	int64_t status_sent_ms;
};

static int64_t mono_ms(void)
{
	return g_get_monotonic_time() / G_TIME_SPAN_MILLISECOND;
}

static int64_t now_ms(struct daemon *d)
{
	if (d->demo)
		return d->demo->sim_ms;
	return g_get_real_time() / G_TIME_SPAN_MILLISECOND;
}

static void log_line(void *data, GLogLevelFlags level, const char *message)
{
	/* Libraries' errors are the daemon's warnings: it keeps running. */
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		level = G_LOG_LEVEL_WARNING;
	g_log(G_LOG_DOMAIN, level, "%s", message);
}

static void store_failed(struct daemon *d, const char *what,
			 const GError *error)
{
	/* Disk full, SD card gone read-only: loud at first, then sparing. */
	if (d->store_failures++ % 100 == 0)
		g_warning("database %s: %s: %s (%" G_GUINT64_FORMAT
			  " failures so far)",
			  d->config->database, what, error->message,
			  d->store_failures);
}

/* --- systemd ------------------------------------------------------------- */

static gboolean status_cb(gpointer data);

/* The status line for `systemctl status`: sent when it changes, at most
 * every STATUS_MIN_INTERVAL_MS (each is a datagram to PID 1). */
static void update_status(struct daemon *d)
{
	size_t devices = household_device_count(d->household);
	size_t heard = 0;
	g_autofree char *text = NULL;
	int64_t now = mono_ms();

	for (size_t i = 0; i < devices; i++)
		if (household_device(d->household, i)->last_seen_ms)
			heard++;
	text = g_strdup_printf(
	    "STATUS=%s%zu %s, %zu of %zu devices heard, broker %s, "
	    "%" G_GUINT64_FORMAT " morning alerts sent%s",
	    d->demo ? "demo: " : "", household_person_count(d->household),
	    household_person_count(d->household) == 1 ? "person" : "people",
	    heard, devices, d->mqtt_up ? "connected" : "not connected",
	    d->alerts,
	    household_clock_trusted(d->household)
		? ""
		: ", waiting for the clock to be synchronised");
	if (g_strcmp0(text, d->status_sent) == 0) {
		g_clear_handle_id(&d->status_timer, g_source_remove);
		return;
	}
	if (d->status_sent_ms &&
	    now - d->status_sent_ms < STATUS_MIN_INTERVAL_MS) {
		if (!d->status_timer)
			d->status_timer =
			    g_timeout_add((guint)(d->status_sent_ms +
						  STATUS_MIN_INTERVAL_MS - now),
					  status_cb, d);
		return;
	}
	sd_notify(0, text);
	g_free(d->status_sent);
	d->status_sent = g_steal_pointer(&text);
	d->status_sent_ms = now;
}

static gboolean status_cb(gpointer data)
{
	struct daemon *d = data;

	d->status_timer = 0;
	update_status(d);
	return G_SOURCE_REMOVE;
}

static gboolean watchdog_cb(gpointer data)
{
	sd_notify(0, "WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

/* --- MQTT out ------------------------------------------------------------ */

static const char *base_topic(struct daemon *d)
{
	return d->config->base_topic;
}

static void outbox_add(struct daemon *d, const char *topic, const char *json,
		       bool retain)
{
	g_autoptr(GError) error = NULL;

	if (!store_outbox_add(d->store, topic, json, strlen(json), 1, retain,
			      now_ms(d), NULL, &error)) {
		store_failed(d, "queueing a message", error);
		return;
	}
	if (d->mqtt)
		mqtt_client_outbox_changed(d->mqtt);
}

static void publish_live(struct daemon *d, int person)
{
	struct household_person *p =
	    household_person(d->household, (size_t)person);
	struct mqtt_live live = {
		.heart_rate_bpm = NAN,
		.weight_kg = p->live.weight_kg,
		.body_fat_pct = p->live.body_fat_pct,
		.bed = p->live.bed < 0	 ? MQTT_FLAG_UNKNOWN
		       : p->live.bed > 0 ? MQTT_FLAG_YES
					 : MQTT_FLAG_NO,
		.contact = p->live.contact < 0	 ? MQTT_FLAG_UNKNOWN
			   : p->live.contact > 0 ? MQTT_FLAG_YES
						 : MQTT_FLAG_NO,
		.updated_ms =
		    p->live.updated_ms ? p->live.updated_ms : now_ms(d),
	};
	g_autofree char *json = NULL;
	g_autofree char *topic = mqtt_topic_live(base_topic(d), p->cfg->name);
	g_autoptr(GError) error = NULL;

	if (p->live.heart_rate_ms &&
	    now_ms(d) - p->live.heart_rate_ms <= LIVE_HR_MAX_AGE_MS)
		live.heart_rate_bpm = p->live.heart_rate_bpm;
	if (mqtt_payload_build_live(&live, &json) < 0)
		return;
	if (!mqtt_client_publish_live(d->mqtt, topic, json, strlen(json), true,
				      &error))
		g_debug("live value of %s not sent: %s", p->cfg->name,
			error->message);
	g_array_index(d->live_sent_ms, int64_t, person) = mono_ms();
	g_array_index(d->live_dirty, gboolean, person) = FALSE;
}

static gboolean live_timer_cb(gpointer data)
{
	struct daemon *d = data;
	int64_t next = INT64_MAX, now = mono_ms();

	d->live_timer = 0;
	for (guint i = 0; i < d->live_dirty->len; i++) {
		int64_t due;

		if (!g_array_index(d->live_dirty, gboolean, i))
			continue;
		due = g_array_index(d->live_sent_ms, int64_t, i) +
		      LIVE_MIN_INTERVAL_MS;
		if (due <= now)
			publish_live(d, (int)i);
		else
			next = MIN(next, due);
	}
	if (next != INT64_MAX)
		d->live_timer =
		    g_timeout_add((guint)(next - now + 1), live_timer_cb, d);
	return G_SOURCE_REMOVE;
}

static void on_live_changed(void *data, int person, bool urgent)
{
	struct daemon *d = data;
	int64_t sent = g_array_index(d->live_sent_ms, int64_t, person);

	if (urgent || mono_ms() - sent >= LIVE_MIN_INTERVAL_MS) {
		publish_live(d, person);
		return;
	}
	g_array_index(d->live_dirty, gboolean, person) = TRUE;
	if (!d->live_timer)
		d->live_timer = g_timeout_add(
		    (guint)(sent + LIVE_MIN_INTERVAL_MS - mono_ms() + 1),
		    live_timer_cb, d);
}

static const char *device_kind_text(enum household_device_kind kind)
{
	switch (kind) {
	case HOUSEHOLD_STRAP:
		return "heart-rate strap";
	case HOUSEHOLD_SCALE:
		return "scale";
	case HOUSEHOLD_MISCALE:
		return "Xiaomi scale";
	case HOUSEHOLD_BED:
		return "bed sensor";
	default:
		return "BLE sensor";
	}
}

static const char *device_user(struct daemon *d,
			       const struct household_device *dev)
{
	if (dev->owner < 0)
		return NULL;
	return household_person(d->household, (size_t)dev->owner)->cfg->name;
}

static enum mqtt_connection
device_connection(struct daemon *d, const struct household_device *dev)
{
	if (dev->kind == HOUSEHOLD_MISCALE || dev->kind == HOUSEHOLD_BED)
		return dev->last_seen_ms ? MQTT_CONNECTION_ADVERTISING
					 : MQTT_CONNECTION_ABSENT;
	if (d->demo)
		return MQTT_CONNECTION_CONNECTED;
	switch (ble_client_link_state(d->ble, dev->address)) {
	case BLE_LINK_SUBSCRIBED:
		return MQTT_CONNECTION_CONNECTED;
	case BLE_LINK_SEEN:
	case BLE_LINK_CONNECTING:
	case BLE_LINK_RESOLVING:
		return MQTT_CONNECTION_CONNECTING;
	case BLE_LINK_LOST:
	case BLE_LINK_BACKOFF:
		return MQTT_CONNECTION_DISCONNECTED;
	case BLE_LINK_ABSENT:
	case BLE_LINK_WAITING:
	default:
		return MQTT_CONNECTION_ABSENT;
	}
}

static void publish_device(struct daemon *d, int index)
{
	const struct household_device *dev =
	    household_device(d->household, (size_t)index);
	struct mqtt_device_state state = {
		.address = dev->address,
		.kind = device_kind_text(dev->kind),
		.user = device_user(d, dev),
		.battery_pct =
		    dev->battery_pct >= 0 ? (double)dev->battery_pct : NAN,
		.rssi_dbm = NAN,
		.last_seen_ms = dev->last_seen_ms,
		.connection = device_connection(d, dev),
	};
	g_autofree char *json = NULL;
	g_autofree char *topic = mqtt_topic_device(base_topic(d), dev->address);

	if (mqtt_payload_build_device(&state, &json) < 0)
		return;
	/* Device state is rebuilt from the radio after a restart: a live
	 * value, newest only, not worth an outbox row. */
	mqtt_client_publish_live(d->mqtt, topic, json, strlen(json), true,
				 NULL);
}

static void on_device_changed(void *data, int index)
{
	struct daemon *d = data;

	publish_device(d, index);
	update_status(d);
}

/* --- the morning -----------------------------------------------------------
 */

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
	const struct advice *a = &day->advice;
	const char *actions[ADVICE_MAX_ITEMS], *reasons[ADVICE_MAX_ITEMS];
	char date[16];
	struct mqtt_alert alert = {
		.user = p->cfg->name,
		.display_name = p->cfg->display_name,
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
	};
	g_autofree char *json = NULL;
	g_autofree char *topic = mqtt_topic_alert(base_topic(d), p->cfg->name);

	clock_day_format(day->day, date, sizeof(date));
	for (size_t i = 0; i < a->action_count; i++)
		actions[i] = a->actions[i];
	for (size_t i = 0; i < a->reason_count; i++)
		reasons[i] = a->reasons[i];
	if (mqtt_payload_build_alert(&alert, &json) < 0) {
		g_warning("%s: the morning alert of %s could not be built",
			  p->cfg->name, date);
		return;
	}
	outbox_add(d, topic, json, false);
}

/* The latest stored state message of @p, queued again (retained). */
static void queue_state(struct daemon *d, struct household_person *p,
			int32_t from_day, int32_t to_day)
{
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	g_autoptr(GError) error = NULL;
	g_autofree char *topic = NULL;
	const struct store_result *last;

	if (!store_get_results(d->store, p->user_id, from_day, to_day, results,
			       &error)) {
		store_failed(d, "reading results", error);
		return;
	}
	if (!results->len)
		return;
	last = &g_array_index(results, struct store_result, results->len - 1);
	topic = mqtt_topic_state(base_topic(d), p->cfg->name);
	outbox_add(d, topic, last->state_json, true);
}

/* Nights since the last announced morning (at most BACKFILL_DAYS back)
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

	if (!store_get_results(d->store, p->user_id, today - BACKFILL_DAYS,
			       today - 1, results, &error)) {
		store_failed(d, "reading results", error);
		return today;
	}
	if (!results->len)
		return today;
	last =
	    g_array_index(results, struct store_result, results->len - 1).day;
	for (int32_t day = last + 1; day < today; day++)
		if (!analyze_night(d->store, d->zone, &p->analysis, day, NULL,
				   &error)) {
			store_failed(d, "analysing a missed night", error);
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
	    !analyze_results(d->store, &p->analysis, from, today, now_ms(d),
			     keep_last_day, &result, &error)) {
		store_failed(d, "analysing the night", error);
		/* Tried again at the next check. */
		return;
	}
	morning_announced(&p->morning, today);
	/* A night's samples were just loaded and freed: give the pages
	 * back rather than keep the peak for the rest of the day. */
	malloc_trim(0);
	if (!result.have || result.day.day != today)
		return;
	queue_state(d, p, today, today);
	if (late) {
		/* Started (or the clock set) long after the latest time: the
		 * state is news for the dashboard, a morning alert at this
		 * hour is not. */
		g_message("%s: night of %s analysed late (%s); no morning "
			  "alert this late",
			  p->cfg->name, date, morning_reason_name(reason));
		if (!store_mark_alerted(d->store, p->user_id, today, now_ms(d),
					&error))
			store_failed(d, "recording the morning", error);
		return;
	}
	send_alert(d, p, &result.day);
	if (!store_mark_alerted(d->store, p->user_id, today, now_ms(d), &error))
		store_failed(d, "recording the alert", error);
	d->alerts++;
	g_message("%s: night of %s analysed (%s); morning alert queued",
		  p->cfg->name, date, morning_reason_name(reason));
	g_debug("%s: score %d, zone %s, advice %s", p->cfg->name,
		result.day.score.score, score_zone_name(result.day.score.zone),
		advice_state_name(result.day.advice.state));
	update_status(d);
}

static void check_mornings(struct daemon *d)
{
	int64_t now = now_ms(d);
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

		if (reason != MORNING_NOT_YET && reason != MORNING_DONE)
			do_morning(d, (int)i, today, reason,
				   reason == MORNING_LATEST &&
				       now_s > params.latest_s + LATE_S);
	}
}

static gboolean morning_cb(gpointer data)
{
	struct daemon *d = data;

	check_mornings(d);
	update_status(d);
	return G_SOURCE_CONTINUE;
}

/* --- the clock -------------------------------------------------------------
 */

/*
 * Whether the kernel's clock is synchronised (adjtimex(2), read-only: the
 * NTP client clears STA_UNSYNC once it has set the time). Without an RTC a
 * Pi boots with whatever time it last saved.
 */
static bool clock_synchronised(bool required)
{
	struct timex tx = { 0 };
	int state;

	if (g_get_real_time() / G_TIME_SPAN_MILLISECOND < CLOCK_FLOOR_MS)
		return false;
	if (!required)
		return true;
	state = adjtimex(&tx);
	if (state < 0)
		return true; /* cannot tell (a sandbox): the floor holds */
	return state != TIME_ERROR && !(tx.status & STA_UNSYNC);
}

static gboolean clock_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;

	if (!clock_synchronised(d->config->require_clock_sync))
		return G_SOURCE_CONTINUE;
	if (!household_set_clock_trusted(d->household, now_ms(d), mono_ms(),
					 &error))
		store_failed(d, "filing held readings", error);
	g_message("the clock is synchronised: readings are filed, mornings "
		  "announced");
	d->clock_timer = 0;
	update_status(d);
	return G_SOURCE_REMOVE;
}

/* --- timers ----------------------------------------------------------------
 */

static gboolean store_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;

	if (!store_tick(d->store, &error))
		store_failed(d, "committing readings", error);
	return G_SOURCE_CONTINUE;
}

static gboolean housekeeping_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;
	int64_t now = now_ms(d);

	if (!household_clock_trusted(d->household))
		return G_SOURCE_CONTINUE;
	if (!store_prune(d->store, now, &error) ||
	    !store_outbox_prune(d->store, now - OUTBOX_KEEP_MS, &error))
		store_failed(d, "pruning old rows", error);
	return G_SOURCE_CONTINUE;
}

/* --- BLE in ----------------------------------------------------------------
 */

static void ingest(struct daemon *d, const struct reading *r)
{
	g_autoptr(GError) error = NULL;

	if (!household_ingest(d->household, r, mono_ms(), &error))
		store_failed(d, "storing a reading", error);
}

static void on_reading(void *data, const struct reading *r)
{
	ingest(data, r);
}

static void on_link(void *data, const char *address, enum ble_link_state state,
		    const GError *reason)
{
	struct daemon *d = data;
	int index = household_find_device(d->household, address);
	const struct household_device *dev =
	    index >= 0 ? household_device(d->household, (size_t)index) : NULL;
	const char *who = dev && device_user(d, dev) ? device_user(d, dev) : "";

	switch (state) {
	case BLE_LINK_SUBSCRIBED:
		g_message("%s %s%s%s: connected, receiving",
			  dev ? device_kind_text(dev->kind) : "device", address,
			  who[0] ? " of " : "", who);
		break;
	case BLE_LINK_LOST:
	case BLE_LINK_BACKOFF:
		g_message("%s %s%s%s: %s%s%s",
			  dev ? device_kind_text(dev->kind) : "device", address,
			  who[0] ? " of " : "", who, ble_link_state_name(state),
			  reason ? ": " : "", reason ? reason->message : "");
		break;
	case BLE_LINK_WAITING: /* the Bluetooth check says it once */
	case BLE_LINK_ABSENT:
	case BLE_LINK_SEEN:
	case BLE_LINK_CONNECTING:
	case BLE_LINK_RESOLVING:
	default:
		g_debug("%s: %s%s%s", address, ble_link_state_name(state),
			reason ? ": " : "", reason ? reason->message : "");
		break;
	}
	if (index >= 0)
		publish_device(d, index);
	update_status(d);
}

static enum ble_device_kind ble_kind(enum household_device_kind kind)
{
	switch (kind) {
	case HOUSEHOLD_STRAP:
		return BLE_KIND_HEART_RATE;
	case HOUSEHOLD_SCALE:
		return BLE_KIND_SCALE;
	case HOUSEHOLD_MISCALE:
		return BLE_KIND_MISCALE;
	case HOUSEHOLD_BED:
	default:
		return BLE_KIND_BTHOME;
	}
}

static void ble_set_devices(struct daemon *d)
{
	size_t n = household_device_count(d->household);
	g_autofree struct ble_device_config *devices =
	    g_new0(struct ble_device_config, MAX(n, 1));

	for (size_t i = 0; i < n; i++) {
		const struct household_device *dev =
		    household_device(d->household, i);

		g_strlcpy(devices[i].address, dev->address,
			  sizeof(devices[i].address));
		devices[i].kind = ble_kind(dev->kind);
	}
	ble_client_set_devices(d->ble, devices, n);
}

/* Says once, a while after start, what stands between us and the radio. */
static gboolean ble_check_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;

	if (ble_client_check(d->ble, &error)) {
		if (d->ble_advice_logged)
			g_message("Bluetooth: the adapter is ready");
		d->ble_advice_logged = false;
	} else if (!d->ble_advice_logged) {
		g_warning("Bluetooth: %s", error->message);
		d->ble_advice_logged = true;
	}
	return G_SOURCE_CONTINUE;
}

/* --- MQTT in ---------------------------------------------------------------
 */

static gboolean outbox_pending(void *data, int64_t after_id, unsigned limit,
			       GPtrArray *ret, GError **error)
{
	struct daemon *d = data;
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)store_outbox_row_free);

	if (!store_outbox_pending(d->store, after_id, limit, rows, error))
		return FALSE;
	for (guint i = 0; i < rows->len; i++) {
		const struct store_outbox_row *r = rows->pdata[i];

		g_ptr_array_add(ret,
				mqtt_message_new(r->id, r->topic, r->payload,
						 r->qos, r->retain));
	}
	return TRUE;
}

static gboolean outbox_sent(void *data, int64_t id, GError **error)
{
	struct daemon *d = data;

	return store_outbox_mark_sent(d->store, id, now_ms(d), error);
}

static void on_connected(void *data)
{
	struct daemon *d = data;

	if (d->mqtt_failures)
		g_message("broker %s:%d: connected again after %u failed "
			  "attempts",
			  d->config->host, d->config->port, d->mqtt_failures);
	else
		g_message("broker %s:%d: connected", d->config->host,
			  d->config->port);
	d->mqtt_up = true;
	d->mqtt_failures = 0;
	g_clear_pointer(&d->last_mqtt_error, g_free);
	mqtt_bridge_connected(d->bridge);
	update_status(d);
}

static void on_disconnected(void *data, const GError *reason)
{
	struct daemon *d = data;

	d->mqtt_up = false;
	if (!reason)
		return;
	d->mqtt_failures++;
	/* The first failure, a new reason, and a reminder now and then. */
	if (!d->last_mqtt_error ||
	    strcmp(d->last_mqtt_error, reason->message) != 0 ||
	    d->mqtt_failures % 60 == 0)
		g_warning("broker %s:%d: %s (retrying)", d->config->host,
			  d->config->port, reason->message);
	g_free(d->last_mqtt_error);
	d->last_mqtt_error = g_strdup(reason->message);
	update_status(d);
}

static void on_message(void *data, const char *topic, const void *payload,
		       size_t len)
{
	struct daemon *d = data;

	mqtt_bridge_message(d->bridge, topic, payload, len);
}

static void republish_states(void *data)
{
	struct daemon *d = data;
	int32_t today = clock_day_of(d->zone, now_ms(d));
	int64_t now = mono_ms();

	for (size_t i = 0; i < household_device_count(d->household); i++)
		publish_device(d, (int)i);
	for (size_t i = 0; i < household_person_count(d->household); i++)
		publish_live(d, (int)i);
	if (d->last_republish_ms &&
	    now - d->last_republish_ms < REPUBLISH_MIN_INTERVAL_MS)
		return;
	d->last_republish_ms = now;
	for (size_t i = 0; i < household_person_count(d->household); i++)
		queue_state(d, household_person(d->household, i),
			    today - BACKFILL_DAYS, today);
}

static void on_checkin(void *data, const char *user,
		       const struct mqtt_checkin *c, int64_t received_ms)
{
	struct daemon *d = data;
	int person = household_find_person(d->household, user);
	g_autoptr(GError) error = NULL;

	if (person < 0)
		return;
	/* In demo mode "now" is the simulated household's time. */
	if (d->demo)
		received_ms = now_ms(d);
	if (!household_checkin(d->household, person, received_ms, c->mood,
			       c->soreness, c->energy, mono_ms(), &error))
		store_failed(d, "storing a check-in", error);
	else
		g_message("%s: check-in received", user);
}

static void on_rejected(void *data, const char *topic, const char *reason)
{
	g_warning("check-in on %s refused: %s", topic, reason);
}

/* --- people and devices to the MQTT bridge ------------------------------- */

static gboolean bridge_set_household(struct daemon *d, GError **error)
{
	size_t np = household_person_count(d->household);
	size_t nd = household_device_count(d->household);
	g_autofree struct mqtt_discovery_person *people =
	    g_new0(struct mqtt_discovery_person, MAX(np, 1));
	g_autofree struct mqtt_discovery_device *devices =
	    g_new0(struct mqtt_discovery_device, MAX(nd, 1));

	for (size_t i = 0; i < np; i++) {
		const struct config_person *cfg =
		    household_person(d->household, i)->cfg;

		people[i] = (struct mqtt_discovery_person){
			.user = cfg->name,
			.display_name = cfg->display_name,
		};
	}
	for (size_t i = 0; i < nd; i++) {
		const struct household_device *dev =
		    household_device(d->household, i);

		devices[i] = (struct mqtt_discovery_device){
			.address = dev->address,
			.kind = device_kind_text(dev->kind),
			.user = device_user(d, dev),
		};
	}
	return mqtt_bridge_set_people(d->bridge, people, np, error) &&
	       mqtt_bridge_set_devices(d->bridge, devices, nd, error);
}

/* --- demo mode -------------------------------------------------------------
 */

/* The demo household as a configuration: two people, a strap and a bed
 * sensor each, one Xiaomi scale they share (told apart by weight). */
static void demo_people(struct config *c)
{
	static const struct {
		enum demo_device strap, bed;
		double min_kg, max_kg;
		const char *goal;
		uint8_t club_days;
	} demo[SCENARIO_PEOPLE] = {
		{ DEMO_STRAP_0, DEMO_BED_0, 45, 72, "to run the spring half",
		  1u << 1 | 1u << 5 },
		{ DEMO_STRAP_1, DEMO_BED_1, 72, 110, NULL, 1u << 3 },
	};

	c->person_count = SCENARIO_PEOPLE;
	c->people = g_new0(struct config_person, SCENARIO_PEOPLE);
	for (int i = 0; i < SCENARIO_PEOPLE; i++) {
		struct config_person *p = &c->people[i];

		*p = (struct config_person){
			.name = g_strdup(demo_person_name(i)),
			.display_name = g_strdup(demo_person_display_name(i)),
			.scale_protocol = CONFIG_SCALE_XIAOMI,
			.weight_min_kg = demo[i].min_kg,
			.weight_max_kg = demo[i].max_kg,
			.sleep_need_min = 480,
			.alert_s = CONFIG_ALERT_AT_WAKE,
			.alert_latest_s = 11 * 3600,
			.bedtime_min = SCENARIO_BEDTIME_MIN,
			.wake_min = SCENARIO_WAKE_MIN,
			.hr_max_bpm = 190,
			.sex = LOAD_SEX_UNSPECIFIED,
			.goal = g_strdup(demo[i].goal),
			.club_days = demo[i].club_days,
		};
		g_strlcpy(p->heart_rate, demo_device_address(demo[i].strap),
			  sizeof(p->heart_rate));
		g_strlcpy(p->bed_sensor, demo_device_address(demo[i].bed),
			  sizeof(p->bed_sensor));
		g_strlcpy(p->scale, demo_device_address(DEMO_SCALE),
			  sizeof(p->scale));
	}
}

static void demo_send(struct daemon *d, const struct demo_packet *pk)
{
	struct demo_run *run = d->demo;
	struct reading r = { .t_ms = pk->t_ms };
	struct parse_error err;

	if (pk->kind == DEMO_PACKET_CHECKIN) {
		double mood, soreness, energy;
		g_autoptr(GError) error = NULL;

		demo_packet_checkin(pk, &mood, &soreness, &energy);
		if (!household_checkin(d->household, pk->device, pk->t_ms, mood,
				       soreness, energy, mono_ms(), &error))
			store_failed(d, "storing a check-in", error);
		return;
	}
	if (decode_payload((enum decode_uuid)pk->uuid, pk->bytes, pk->len,
			   run->scratch, &err) < 0) {
		g_warning("demo: a payload of %s did not decode",
			  demo_device_address(pk->device));
		return;
	}
	g_strlcpy(r.address, demo_device_address(pk->device),
		  sizeof(r.address));
	r.via = pk->uuid == DECODE_UUID_HEART_RATE ? READING_VIA_NOTIFICATION
						   : READING_VIA_ADVERTISEMENT;
	/* struct reading embeds the payload; copy only what this uuid uses
	 * would be cheaper, but the demo is not the hot path. */
	r.payload = *run->scratch;
	ingest(d, &r);
}

static bool demo_finished(struct daemon *d)
{
	struct demo_run *run = d->demo;
	int32_t last = run->sc.first_day + run->days - 1;

	if (run->next_index < run->days || run->pos < run->queue->len)
		return false;
	for (size_t i = 0; i < household_person_count(d->household); i++)
		if (household_person(d->household, i)->morning.done_day < last)
			return run->sim_ms >
			       clock_local_ms(d->zone, last, 14 * 60);
	return true;
}

/* Simulated time moves in steps this long, each with its morning check, so
 * that no morning is skipped however fast the demo runs. */
#define DEMO_STEP_MS (10 * 60 * 1000)

static void demo_step(struct daemon *d)
{
	struct demo_run *run = d->demo;

	/* A day's packets start the evening before its morning: generated
	 * at noon of the day before. */
	while (run->next_index < run->days &&
	       run->sim_ms >=
		   clock_local_ms(d->zone,
				  run->sc.first_day + run->next_index - 1,
				  12 * 60)) {
		/* Reserved from the day before (plus its leftover), so that
		 * the array does not grow by doubling. */
		GArray *day =
		    g_array_sized_new(FALSE, FALSE, sizeof(struct demo_packet),
				      run->day_len + run->day_len / 8 + 4096);
		guint left = run->queue->len - run->pos;

		demo_day_packets(&run->sc, run->next_index++, day);
		run->day_len = day->len;
		/* What is left of the day before (its evening) joins the new
		 * day's array, and the old one goes. */
		g_array_prepend_vals(
		    day,
		    &g_array_index(run->queue, struct demo_packet, run->pos),
		    left);
		g_array_free(run->queue, TRUE);
		run->queue = day;
		run->pos = 0;
		g_array_sort(run->queue, demo_packet_by_time);
		malloc_trim(0);
	}
	while (run->pos < run->queue->len) {
		const struct demo_packet *pk =
		    &g_array_index(run->queue, struct demo_packet, run->pos);

		if (pk->t_ms > run->sim_ms)
			break;
		run->pos++;
		demo_send(d, pk);
	}
	check_mornings(d);
}

static gboolean demo_tick(gpointer data)
{
	struct daemon *d = data;
	struct demo_run *run = d->demo;
	int64_t mono = mono_ms();
	int index = clock_day_of(d->zone, run->sim_ms) - run->sc.first_day;
	/* The calibration week goes by five times faster. */
	double night_s = index < 7 ? run->night_s / 5 : run->night_s;
	/* At most a simulated day per tick: a stalled loop catches up
	 * slowly rather than in one burst. */
	int64_t advance = MIN(
	    (int64_t)((double)(mono - run->last_mono_ms) * 86400.0 / night_s),
	    86400 * INT64_C(1000));
	int64_t target = run->sim_ms + advance;

	run->last_mono_ms = mono;
	while (run->sim_ms < target && !demo_finished(d)) {
		run->sim_ms = MIN(target, run->sim_ms + DEMO_STEP_MS);
		demo_step(d);
	}
	if (demo_finished(d)) {
		g_message("demo: %d simulated days done", run->days);
		run->timer = 0;
		g_main_loop_quit(d->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void demo_start(struct daemon *d, double night_s, int days)
{
	struct demo_run *run = g_new0(struct demo_run, 1);
	int32_t today =
	    clock_day_of(d->zone, g_get_real_time() / G_TIME_SPAN_MILLISECOND);

	run->sc = (struct scenario){
		.seed = 20260302,
		/* The last simulated morning is today. */
		.first_day = today - days + 1,
		.days = days,
		.zone = d->zone,
	};
	run->days = days;
	run->night_s = night_s;
	run->queue = g_array_new(FALSE, FALSE, sizeof(struct demo_packet));
	run->scratch = g_new0(struct decoded_payload, 1);
	run->sim_ms = clock_local_ms(d->zone, run->sc.first_day - 1, 12 * 60);
	run->last_mono_ms = mono_ms();
	d->demo = run;
}

static void demo_free(struct demo_run *run)
{
	if (!run)
		return;
	g_clear_handle_id(&run->timer, g_source_remove);
	g_array_free(run->queue, TRUE);
	g_free(run->scratch);
	g_free(run);
}

/* --- reload ----------------------------------------------------------------
 */

static gboolean reload_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;
	struct config *fresh;
	household *next;
	int32_t today = clock_day_of(d->zone, now_ms(d));
	struct household_ops ops;

	if (d->demo) {
		g_message("reload: nothing to reload in demo mode");
		return G_SOURCE_CONTINUE;
	}
	fresh = config_load(d->config_path, &error);
	if (!fresh) {
		g_warning("reload failed, the running configuration stays: %s",
			  error->message);
		return G_SOURCE_CONTINUE;
	}
	ops = (struct household_ops){
		.live_changed = on_live_changed,
		.device_changed = on_device_changed,
		.log = log_line,
	};
	next = household_new(fresh, d->store, today, &ops, d, &error);
	if (!next) {
		g_warning("reload failed, the running configuration stays: %s",
			  error->message);
		config_free(fresh);
		return G_SOURCE_CONTINUE;
	}
	/* The night in progress and the live values carry over. */
	for (size_t i = 0; i < household_person_count(next); i++) {
		struct household_person *p = household_person(next, i);
		int old = household_find_person(d->household, p->cfg->name);

		if (old < 0)
			continue;
		p->live = household_person(d->household, (size_t)old)->live;
		p->morning =
		    household_person(d->household, (size_t)old)->morning;
	}
	if (household_clock_trusted(d->household) &&
	    !household_set_clock_trusted(next, now_ms(d), mono_ms(), &error)) {
		store_failed(d, "reload", error);
		g_clear_error(&error);
	}
	household_free(d->household);
	config_free(d->config);
	d->household = next;
	d->config = fresh;
	g_array_set_size(d->live_sent_ms, (guint)household_person_count(next));
	g_array_set_size(d->live_dirty, (guint)household_person_count(next));
	ble_set_devices(d);
	if (!bridge_set_household(d, &error))
		g_warning("reload: %s", error->message);
	g_message("reloaded %s: %zu people, %zu devices ([gateway] and "
		  "[mqtt] changes take effect at the next start)",
		  d->config_path, household_person_count(next),
		  household_device_count(next));
	update_status(d);
	return G_SOURCE_CONTINUE;
}

static gboolean quit_cb(gpointer data)
{
	struct daemon *d = data;

	g_message("stopping");
	sd_notify(0, "STOPPING=1");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

/* --- start and stop --------------------------------------------------------
 */

static bool start(struct daemon *d, GError **error)
{
	struct store_options sopts = {
		.retention_days = d->config->retention_days,
	};
	struct household_ops hops = {
		.live_changed = on_live_changed,
		.device_changed = on_device_changed,
		.log = log_line,
	};
	struct mqtt_client_config mcfg = {
		.host = d->config->host,
		.port = d->config->port,
		.client_id = d->config->client_id,
		.base_topic = d->config->base_topic,
		.discovery_prefix = d->config->discovery_prefix,
		.username = d->config->username,
		.password_file = d->config->password_file,
		.tls = d->config->tls,
		.ca_file = d->config->ca_file,
		.ca_dir = d->config->ca_dir,
		.cert_file = d->config->cert_file,
		.key_file = d->config->key_file,
		.allow_insecure = d->config->allow_insecure,
		.protocol = d->config->protocol,
		.keepalive_s = d->config->keepalive_s,
	};
	struct mqtt_client_ops mops = {
		.outbox_pending = outbox_pending,
		.outbox_sent = outbox_sent,
		.connected = on_connected,
		.disconnected = on_disconnected,
		.message = on_message,
		.log = log_line,
	};
	struct mqtt_bridge_config bcfg = {
		.base_topic = d->config->base_topic,
		.discovery_prefix = d->config->discovery_prefix,
		.sw_version = RECOVERYD_VERSION,
	};
	struct mqtt_bridge_ops bops = {
		.republish_states = republish_states,
		.checkin = on_checkin,
		.rejected = on_rejected,
		.log = log_line,
	};
	uint64_t watchdog_us = 0;
	int32_t today;

	d->zone = clock_zone_new(d->config->timezone, error);
	if (!d->zone)
		return false;
	if (d->want_demo)
		demo_start(d, d->demo_speed, d->demo_days);
	today = clock_day_of(d->zone, now_ms(d));
	d->store = store_open(d->config->database, &sopts, error);
	if (!d->store)
		return false;
	d->household =
	    household_new(d->config, d->store, today, &hops, d, error);
	if (!d->household)
		return false;
	d->live_sent_ms = g_array_new(FALSE, TRUE, sizeof(int64_t));
	d->live_dirty = g_array_new(FALSE, TRUE, sizeof(gboolean));
	g_array_set_size(d->live_sent_ms,
			 (guint)household_person_count(d->household));
	g_array_set_size(d->live_dirty,
			 (guint)household_person_count(d->household));

	d->mqtt = mqtt_client_new(&mcfg, &mops, d, error);
	if (!d->mqtt)
		return false;
	d->bridge = mqtt_bridge_new(d->mqtt, &bcfg, &bops, d, error);
	if (!d->bridge || !bridge_set_household(d, error))
		return false;

	if (d->demo) {
		GError *ignored = NULL;

		/* The simulation starts the day before its first morning. */
		for (size_t i = 0; i < household_person_count(d->household);
		     i++)
			morning_init(
			    &household_person(d->household, i)->morning,
			    d->demo->sc.first_day - 1);

		household_set_clock_trusted(d->household, now_ms(d), mono_ms(),
					    &ignored);
		g_clear_error(&ignored);
	} else {
		struct ble_client_config bcfg_ble = {
			.adapter = d->config->adapter,
			.power_on = d->config->power_on_adapter,
		};
		struct ble_ops bleops = {
			.reading = on_reading,
			.link = on_link,
			.log = log_line,
		};

		d->ble = ble_client_new(NULL, &bcfg_ble, &bleops, d, error);
		if (!d->ble)
			return false;
		ble_set_devices(d);
		g_timeout_add_seconds(10, ble_check_cb, d);
		if (clock_cb(d))
			d->clock_timer = g_timeout_add_seconds(5, clock_cb, d);
	}
	if (!mqtt_client_start(d->mqtt, error))
		return false;

	d->store_timer = g_timeout_add_seconds(10, store_cb, d);
	if (d->demo)
		d->demo->timer = g_timeout_add(50, demo_tick, d);
	else
		d->morning_timer = g_timeout_add_seconds(10, morning_cb, d);
	d->housekeeping_timer = g_timeout_add_seconds(3600, housekeeping_cb, d);
	if (sd_watchdog_enabled(0, &watchdog_us) > 0 && watchdog_us)
		d->watchdog_timer = g_timeout_add(
		    (guint)MAX(watchdog_us / 2000, 500), watchdog_cb, d);
	g_unix_signal_add(SIGTERM, quit_cb, d);
	g_unix_signal_add(SIGINT, quit_cb, d);
	g_unix_signal_add(SIGHUP, reload_cb, d);

	g_message("recoveryd %s%s: %zu people, %zu devices, database %s, "
		  "broker %s:%d%s",
		  RECOVERYD_VERSION, d->demo ? " (demo)" : "",
		  household_person_count(d->household),
		  household_device_count(d->household), d->config->database,
		  d->config->host,
		  d->config->port ? d->config->port
				  : (d->config->tls ? 8883 : 1883),
		  d->config->tls ? " (TLS)" : "");
	if (!d->demo && !household_clock_trusted(d->household))
		g_message("the clock is not synchronised yet: readings are "
			  "held until it is");
	sd_notify(0, "READY=1");
	update_status(d);
	return true;
}

static void stop(struct daemon *d)
{
	g_autoptr(GError) error = NULL;

	demo_free(g_steal_pointer(&d->demo));
	g_clear_handle_id(&d->store_timer, g_source_remove);
	g_clear_handle_id(&d->morning_timer, g_source_remove);
	g_clear_handle_id(&d->watchdog_timer, g_source_remove);
	g_clear_handle_id(&d->clock_timer, g_source_remove);
	g_clear_handle_id(&d->housekeeping_timer, g_source_remove);
	g_clear_handle_id(&d->live_timer, g_source_remove);
	g_clear_handle_id(&d->status_timer, g_source_remove);
	g_clear_pointer(&d->status_sent, g_free);
	if (d->store && !store_flush(d->store, &error))
		g_warning("database %s: the last readings could not be "
			  "committed: %s",
			  d->config->database, error->message);
	g_clear_pointer(&d->ble, ble_client_free);
	g_clear_pointer(&d->bridge, mqtt_bridge_free);
	if (d->mqtt)
		mqtt_client_stop(d->mqtt);
	g_clear_pointer(&d->mqtt, mqtt_client_free);
	g_clear_pointer(&d->household, household_free);
	g_clear_pointer(&d->store, store_close);
	g_clear_pointer(&d->zone, clock_zone_free);
	if (d->live_sent_ms)
		g_array_free(d->live_sent_ms, TRUE);
	if (d->live_dirty)
		g_array_free(d->live_dirty, TRUE);
	g_free(d->last_mqtt_error);
	if (d->tmpdir) {
		g_autofree char *db =
		    g_build_filename(d->tmpdir, "demo.db", NULL);
		const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

		for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			g_autofree char *f = g_strconcat(db, suffixes[i], NULL);

			g_unlink(f);
		}
		g_rmdir(d->tmpdir);
		g_free(d->tmpdir);
	}
	config_free(d->config);
}

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	gboolean check_config = FALSE, demo = FALSE, version = FALSE;
	double demo_speed = 3.0;
	int demo_days = 56;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  "The configuration file (default " DEFAULT_CONFIG ")",
		  "FILE" },
		{ "check-config", 0, 0, G_OPTION_ARG_NONE, &check_config,
		  "Check the configuration and exit (0: good, 1: not)", NULL },
		{ "demo", 0, 0, G_OPTION_ARG_NONE, &demo,
		  "Run a simulated household instead of the radio", NULL },
		{ "demo-speed", 0, 0, G_OPTION_ARG_DOUBLE, &demo_speed,
		  "Seconds per simulated day in demo mode (default 3)",
		  "SECONDS" },
		{ "demo-days", 0, 0, G_OPTION_ARG_INT, &demo_days,
		  "Simulated days in demo mode (default 56)", "DAYS" },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version,
		  "Print the version and exit", NULL },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) ctx =
	    g_option_context_new("- household recovery gateway");
	g_autoptr(GError) error = NULL;
	struct daemon d = { 0 };

	setlocale(LC_ALL, "");
	/* libmosquitto writes with write(2): a vanished broker must be an
	 * error, not a signal that kills us. */
	signal(SIGPIPE, SIG_IGN);
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_summary(
	    ctx, "Collects a household's overnight heart rate, bed and weight "
		 "readings over\nBluetooth LE, scores each night's recovery, "
		 "and publishes it over MQTT.");
	g_option_context_set_description(
	    ctx, "Signals: SIGTERM/SIGINT stop cleanly (readings committed, "
		 "\"offline\" published);\nSIGHUP reloads the people and "
		 "devices of the configuration.\n\n"
		 "Demo mode runs without Bluetooth: two simulated people go "
		 "through eight weeks\nin under three minutes, with a "
		 "database in a temporary directory unless\n--config names "
		 "one. Their [user] sections are replaced by the demo's.\n");
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_printerr("recoveryd: %s (try --help)\n", error->message);
		return 2;
	}
	if (argc > 1) {
		g_printerr("recoveryd: unexpected argument \"%s\" (try "
			   "--help)\n",
			   argv[1]);
		return 2;
	}
	if (version) {
		g_print("recoveryd %s\n", RECOVERYD_VERSION);
		return 0;
	}
	if (demo && (!(demo_speed >= 0.05 && demo_speed <= 86400) ||
		     demo_days < 1 || demo_days > 3650)) {
		g_printerr("recoveryd: --demo-speed takes 0.05-86400 seconds "
			   "and --demo-days 1-3650\n");
		return 2;
	}
	d.config_path = config_path ? config_path : DEFAULT_CONFIG;
	if (demo && !config_path) {
		d.config = config_new_defaults();
	} else {
		d.config = config_load(d.config_path, &error);
		if (!d.config) {
			g_printerr("recoveryd: %s\n", error->message);
			return 1;
		}
	}
	if (check_config) {
		g_print("%s: good (%zu people)\n", d.config_path,
			d.config->person_count);
		config_free(d.config);
		return 0;
	}
	if (demo) {
		config_clear_people(d.config);
		demo_people(d.config);
		if (!config_path) {
			d.tmpdir =
			    g_dir_make_tmp("recoveryd-demo-XXXXXX", &error);
			if (!d.tmpdir) {
				g_printerr("recoveryd: %s\n", error->message);
				config_free(d.config);
				return 1;
			}
			g_free(d.config->database);
			d.config->database =
			    g_build_filename(d.tmpdir, "demo.db", NULL);
		}
	}

	d.loop = g_main_loop_new(NULL, FALSE);
	d.want_demo = demo;
	d.demo_speed = demo_speed;
	d.demo_days = demo_days;
	if (!start(&d, &error)) {
		g_printerr("recoveryd: %s\n", error->message);
		d.exit_code = 1;
	} else {
		g_main_loop_run(d.loop);
	}
	stop(&d);
	g_main_loop_unref(d.loop);
	return d.exit_code;
}
