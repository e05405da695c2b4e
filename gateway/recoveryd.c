// SPDX-License-Identifier: MIT
/*
 * recoveryd: the daemon. The one place that wires sensors/ (BLE), the core
 * (store, household, analysis) and mqtt/ together (DESIGN §2), in one GLib
 * main loop with no threads of our own. This file holds main, the options,
 * start and stop, signals, reload and systemd; the rest of the wiring is
 * split by job: radio.c (the BLE client), mornings.c (a night over →
 * analysis → state and alert), publish.c (what goes out when) and
 * demo-run.c (the simulated household). daemon.h is the state they share.
 */
#define G_LOG_DOMAIN "recoveryd"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <systemd/sd-daemon.h>

#include "gateway/antennas.h"
#include "gateway/core/clock.h"
#include "gateway/core/config.h"
#include "gateway/core/household.h"
#include "gateway/core/store.h"
#include "gateway/daemon.h"
#include "gateway/demo-run.h"
#include "gateway/health.h"
#include "gateway/mornings.h"
#include "gateway/outbox.h"
#include "gateway/publish.h"
#include "gateway/radio.h"
#include "gateway/satellite.h"
#include "gateway/spot-watch.h"
#include "gateway/version.h"
#include "mqtt/bridge.h"
#include "mqtt/client.h"
#include "mqtt/payload.h"
#include "mqtt/topic.h"
#include "sensors/ble.h"

#define DEFAULT_CONFIG "/etc/recoveryd/recoveryd.conf"
/* Re-queued states after a reconnect at most this often: a flapping
 * connection must not fill the outbox. */
#define REPUBLISH_MIN_INTERVAL_MS 60000
#define STATUS_MIN_INTERVAL_MS	  5000
/* Sent rows are kept this long in the outbox (for `recoveryctl`). */
#define OUTBOX_KEEP_MS (7 * 24 * 3600 * INT64_C(1000))

int64_t daemon_mono_ms(void)
{
	return g_get_monotonic_time() / G_TIME_SPAN_MILLISECOND;
}

int64_t daemon_now_ms(struct daemon *d)
{
	if (d->demo)
		return demo_run_now_ms(d);
	return g_get_real_time() / G_TIME_SPAN_MILLISECOND;
}

int64_t daemon_reading_mono_ms(struct daemon *d, int64_t wall_ms)
{
	/* The simulated household has one clock, which never steps. */
	if (d->want_demo)
		return wall_ms;
	return daemon_mono_ms();
}

void daemon_log_line(void *data, GLogLevelFlags level, const char *message)
{
	/* Libraries' errors are the daemon's warnings: it keeps running. */
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		level = G_LOG_LEVEL_WARNING;
	g_log(G_LOG_DOMAIN, level, "%s", message);
}

void daemon_store_failed(struct daemon *d, const char *what,
			 const GError *error)
{
	health_op_failed(d, what, error);
	/* The store retries on the tick. */
	daemon_tick_soon(d);
}

/* --- systemd ------------------------------------------------------------- */

static gboolean status_cb(gpointer data);

/* The status line for `systemctl status`: sent when it changes, at most
 * every STATUS_MIN_INTERVAL_MS (each is a datagram to PID 1). */
void daemon_update_status(struct daemon *d)
{
	size_t devices = household_device_count(d->household);
	size_t heard = 0;
	g_autofree char *text = NULL;
	g_autofree char *storage = health_status_text(d);
	int64_t now = daemon_mono_ms();

	for (size_t i = 0; i < devices; i++)
		if (household_device(d->household, i)->last_seen_ms)
			heard++;
	/* The database first when it fails: that is the news. */
	text = g_strdup_printf(
	    "STATUS=%s%s%s%s%s%s%zu %s, %zu of %zu devices heard, broker %s, "
	    "%" G_GUINT64_FORMAT " morning alerts sent%s",
	    d->demo ? "demo: " : "", d->satellite ? "satellite " : "",
	    d->satellite ? d->config->satellite_name : "",
	    d->satellite ? ": " : "", storage ? storage : "",
	    storage ? "; " : "", household_person_count(d->household),
	    household_person_count(d->household) == 1 ? "person" : "people",
	    heard, devices, d->mqtt_up ? "connected" : "not connected",
	    d->alerts,
	    household_clock_trusted(d->household) ? ""
						  : ", waiting for the clock");
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
	daemon_update_status(d);
	return G_SOURCE_REMOVE;
}

static gboolean watchdog_cb(gpointer data)
{
	sd_notify(0, "WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

/* --- MQTT out: where the publisher's messages go ------------------------ */

static void outbox_add(void *data, const char *topic, const char *json,
		       bool retain)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;

	if (!store_outbox_add(d->store, topic, json, strlen(json), 1, retain,
			      daemon_now_ms(d), NULL, &error)) {
		daemon_store_failed(d, "queueing a message", error);
		return;
	}
	if (d->mqtt)
		mqtt_client_outbox_changed(d->mqtt);
}

/* Live values and device states are rebuilt after any restart: newest
 * only, not worth an outbox row. */
static void send_live(void *data, const char *topic, const char *json)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;

	if (!mqtt_client_publish_live(d->mqtt, topic, json, strlen(json), true,
				      &error))
		g_debug("%s not sent: %s", topic, error->message);
}

static int64_t publish_now_ms(void *data)
{
	return daemon_now_ms(data);
}

static void on_live_changed(void *data, int person, bool urgent)
{
	struct daemon *d = data;

	/* A satellite's live values are the home gateway's to show. */
	if (!d->satellite)
		publish_live_changed(d->publish, person, urgent);
}

static void on_beat(void *data, int person, int64_t t_ms, double rr_ms,
		    int64_t arrival_ms)
{
	struct daemon *d = data;

	if (d->spot)
		spot_watch_beat(d->spot, person, t_ms, rr_ms, arrival_ms);
}

static void on_device_changed(void *data, int index)
{
	struct daemon *d = data;

	publish_device(d->publish, index);
	daemon_update_status(d);
}

static void on_day_input(void *data, int person, int64_t t_ms,
			 enum household_input kind)
{
	struct daemon *d = data;

	if (!d->satellite)
		mornings_day_input(data, person, t_ms, kind);
}

static void on_spot_finished(void *data, int person, int32_t day,
			     int64_t last_arrival_ms)
{
	mornings_spot_check(data, person, day, last_arrival_ms);
}

/* --- the clock ------------------------------------------------------------ */

/*
 * What the kernel says of its clock (adjtimex(2), read-only: an NTP client
 * clears STA_UNSYNC once it has set the time; systemd-timesyncd,
 * chrony and ntpd all do).
 */
static enum clock_sync kernel_clock_sync(void)
{
	struct timex tx = { 0 };
	int state = adjtimex(&tx);

	if (state < 0)
		return CLOCK_SYNC_UNKNOWN; /* a sandbox that forbids it */
	if (state == TIME_ERROR || (tx.status & STA_UNSYNC))
		return CLOCK_SYNC_NO;
	return CLOCK_SYNC_YES;
}

/* "2026-03-02 06:00:00 UTC", or "none" for 0. */
static char *format_instant(int64_t t_ms)
{
	g_autoptr(GDateTime) t = NULL;

	if (t_ms == 0)
		return g_strdup("none");
	t = g_date_time_new_from_unix_utc(t_ms / 1000);
	return t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S UTC")
		 : g_strdup_printf("%" G_GINT64_FORMAT " ms", t_ms);
}

/* Why the clock is not trusted yet, once, at start. */
static void clock_explain(struct daemon *d, enum clock_sync sync)
{
	g_autofree char *now = format_instant(daemon_now_ms(d));
	g_autofree char *build = format_instant(RECOVERYD_BUILD_TIME_MS);
	g_autofree char *newest = format_instant(d->newest_reading_ms);

	if (daemon_now_ms(d) <= RECOVERYD_BUILD_TIME_MS)
		g_message("the clock (%s) is not trusted yet: earlier than "
			  "this program's build (%s); readings are held in the "
			  "database until NTP or a person sets it",
			  now, build);
	else if (d->config->require_clock_sync)
		g_message("the clock (%s) is not synchronised by NTP and "
			  "require-clock-sync is on: readings are held in the "
			  "database until it is",
			  now);
	else
		g_message("the clock (%s) is not trusted yet: not synchronised "
			  "by NTP%s, and not later than the newest stored "
			  "reading (%s); readings are held in the database "
			  "until it is",
			  now,
			  sync == CLOCK_SYNC_UNKNOWN ? " (adjtimex refused)"
						     : "",
			  newest);
}

static gboolean clock_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;
	int64_t wall = daemon_now_ms(d);
	enum clock_sync sync = kernel_clock_sync();
	enum clock_trust trust =
	    clock_trust(sync, d->config->require_clock_sync, wall,
			RECOVERYD_BUILD_TIME_MS, d->newest_reading_ms);

	if (trust == CLOCK_TRUST_NONE) {
		if (!d->clock_explained)
			clock_explain(d, sync);
		d->clock_explained = true;
		return G_SOURCE_CONTINUE;
	}
	if (!household_set_clock_trusted(d->household, wall, daemon_mono_ms(),
					 &error))
		daemon_store_failed(d, "filing held readings", error);
	g_message("the clock is trusted (%s%s): readings are filed, "
		  "mornings announced",
		  clock_trust_name(trust),
		  trust == CLOCK_TRUST_FLOOR && sync != CLOCK_SYNC_YES
		      ? ", no NTP synchronisation"
		      : "");
	d->clock_timer = 0;
	/* Live values and device states went out without a time so far. */
	publish_all_live(d->publish);
	daemon_update_status(d);
	health_publish_gateway(d, true);
	return G_SOURCE_REMOVE;
}

/*
 * Readings held by an earlier boot can no longer be given a wall time:
 * they are set aside, with one line saying how many.
 */
static void clock_prepare(struct daemon *d)
{
	g_autoptr(GError) error = NULL;
	uint64_t moved, dropped;

	if (!store_newest_reading_ms(d->store, &d->newest_reading_ms, &error)) {
		daemon_store_failed(d, "finding the newest reading", error);
		g_clear_error(&error);
	}
	if (!store_held_set_aside(d->store, clock_boot_id(), HOUSEHOLD_HOLD_MAX,
				  &moved, &dropped, &error)) {
		daemon_store_failed(d,
				    "setting aside an earlier boot's held "
				    "readings",
				    error);
		return;
	}
	if (moved)
		g_warning("%" G_GUINT64_FORMAT " readings held by an earlier "
			  "boot, before its clock was trusted, can no longer "
			  "be dated (the monotonic clock starts again at each "
			  "boot): kept undated in the database's table "
			  "readings_unknown_time (%" G_GUINT64_FORMAT " of its "
			  "oldest rows deleted to keep it within %d)",
			  moved, dropped, HOUSEHOLD_HOLD_MAX);
}

/* --- timers -------------------------------------------------------------- */

/*
 * One periodic timer for what needs looking at now and then, so that an
 * idle daemon wakes rarely (DESIGN §11: at most 0.2 wake-ups a second,
 * the MQTT keepalive included). Busy, every TICK_BUSY_S: readings in the
 * store's batch (committed once batch_ms old), storage failing (retries),
 * the clock not trusted yet, a night over whose announcement waits (a spot
 * check under way). An advertiser heard and not yet silent: every
 * PUBLISH_DEVICE_CHECK_MS. Otherwise at the next morning deadline
 * (mornings_next_check_ms), at most TICK_IDLE_S apart: the radio's state
 * and the health's reminders need no more. Seconds timers, so that GLib
 * wakes for them together with the MQTT client's.
 */
#define TICK_BUSY_S 10
#define TICK_IDLE_S 60

static gboolean tick_cb(gpointer data);

static void tick_arm(struct daemon *d, unsigned period_s)
{
	g_clear_handle_id(&d->tick_timer, g_source_remove);
	d->tick_period_s = period_s;
	d->tick_timer = g_timeout_add_seconds(period_s, tick_cb, d);
}

static unsigned tick_period_s(struct daemon *d)
{
	struct store_stats st;
	struct store_health sh;
	int64_t now = daemon_now_ms(d), next;
	unsigned period = TICK_IDLE_S;

	store_get_stats(d->store, &st);
	store_get_health(d->store, &sh);
	if (st.pending_rows || sh.failing ||
	    !household_clock_trusted(d->household))
		period = TICK_BUSY_S;
	if (publish_next_device_check_ms(d->publish) != INT64_MAX)
		period = MIN(period, PUBLISH_DEVICE_CHECK_MS / 1000);
	/* Demo mode's steps check the mornings on the simulated clock. */
	if (!d->demo && !d->satellite) {
		next = mornings_next_check_ms(d);
		if (next <= now)
			period = MIN(period, TICK_BUSY_S);
		else if (next != INT64_MAX)
			period = (unsigned)CLAMP((next - now + 999) / 1000, 1,
						 (int64_t)period);
	}
	return period;
}

static gboolean tick_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;
	unsigned period;

	if (!store_tick(d->store, &error))
		daemon_store_failed(d, "committing readings", error);
	health_tick(d);
	if (!d->demo && !d->satellite)
		mornings_check(d);
	publish_check_devices(d->publish);
	radio_check(d);
	daemon_update_status(d);
	period = tick_period_s(d);
	if (period == d->tick_period_s)
		return G_SOURCE_CONTINUE;
	/* A new source: this one goes when the callback returns. */
	d->tick_timer = 0;
	tick_arm(d, period);
	return G_SOURCE_REMOVE;
}

void daemon_tick_soon(struct daemon *d)
{
	if (d->tick_timer && d->tick_period_s > TICK_BUSY_S)
		tick_arm(d, TICK_BUSY_S);
}

static gboolean housekeeping_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;
	int64_t now = daemon_now_ms(d);

	if (!household_clock_trusted(d->household))
		return G_SOURCE_CONTINUE;
	if (!store_prune(d->store, now, &error) ||
	    !store_outbox_prune(d->store, now - OUTBOX_KEEP_MS, &error))
		daemon_store_failed(d, "pruning old rows", error);
	return G_SOURCE_CONTINUE;
}

/* --- readings in (the radio, gateway/radio.c, or the demo) --------------- */

/* A reading's time, once the clock is trusted (before, the household
 * holds readings on the monotonic clock): from 2000 to a day from now. */
static bool time_plausible(struct daemon *d, int64_t t_ms, const char *what)
{
	if (!household_clock_trusted(d->household) ||
	    clock_reading_time_valid(t_ms, daemon_now_ms(d)))
		return true;
	if (d->bad_times++ % 1000 == 0)
		g_warning("%s at %" G_GINT64_FORMAT
			  " ms since 1970 not stored: outside 2000-01-01 to a "
			  "day from now (%" G_GUINT64_FORMAT " such so far)",
			  what, t_ms, d->bad_times);
	return false;
}

void daemon_ingest(struct daemon *d, const struct reading *r)
{
	g_autoptr(GError) error = NULL;

	if (!time_plausible(d, r->t_ms, "a reading"))
		return;
	if (!household_ingest(d->household, r,
			      daemon_reading_mono_ms(d, r->t_ms), &error))
		daemon_store_failed(d, "storing a reading", error);
	daemon_tick_soon(d);
}

/* --- MQTT in ------------------------------------------------------------- */

static gboolean outbox_pending(void *data, int64_t after_id, unsigned limit,
			       GPtrArray *ret, GError **error)
{
	struct daemon *d = data;

	return outbox_pending_messages(d->store, after_id, limit, ret, error);
}

static gboolean outbox_sent(void *data, int64_t id, GError **error)
{
	struct daemon *d = data;

	return store_outbox_mark_sent(d->store, id, daemon_now_ms(d), error);
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
	if (d->bridge)
		mqtt_bridge_connected(d->bridge);
	daemon_update_status(d);
	health_publish_gateway(d, true);
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
	daemon_update_status(d);
}

static void on_message(void *data, const char *topic, const void *payload,
		       size_t len, bool retained)
{
	struct daemon *d = data;

	if (antennas_message(d, topic, payload, len, retained))
		return;
	if (satellites_message(d->satellites, topic, payload, len, retained))
		return;
	if (d->bridge)
		mqtt_bridge_message(d->bridge, topic, payload, len, retained);
}

static void republish_states(void *data)
{
	struct daemon *d = data;
	int32_t today = clock_day_of(d->zone, daemon_now_ms(d));
	int64_t now = daemon_mono_ms();

	publish_all_live(d->publish);
	if (d->last_republish_ms &&
	    now - d->last_republish_ms < REPUBLISH_MIN_INTERVAL_MS)
		return;
	d->last_republish_ms = now;
	for (size_t i = 0; i < household_person_count(d->household); i++)
		mornings_queue_state(d, household_person(d->household, i),
				     today - MORNINGS_BACKFILL_DAYS, today);
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
		received_ms = daemon_now_ms(d);
	if (!time_plausible(d, received_ms, "a check-in"))
		return;
	if (!household_checkin(d->household, person, received_ms, c->mood,
			       c->soreness, c->energy,
			       daemon_reading_mono_ms(d, received_ms), &error))
		daemon_store_failed(d, "storing a check-in", error);
	else {
		daemon_tick_soon(d);
		g_message("%s: check-in received", user);
		/* What was stored, back to Home Assistant's numbers. */
		publish_checkin(d->publish,
				household_person(d->household, (size_t)person),
				c->mood, c->soreness, c->energy, received_ms);
	}
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
			.kind = publish_device_kind_text(dev->kind),
			.user = publish_device_user(d->household, dev),
		};
	}
	return mqtt_bridge_set_people(d->bridge, people, np, error) &&
	       mqtt_bridge_set_devices(d->bridge, devices, nd, error);
}

/* --- reload and quit ----------------------------------------------------- */

static gboolean reload_cb(gpointer data)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;
	struct config *fresh, *before;
	household *next;
	int32_t today = clock_day_of(d->zone, daemon_now_ms(d));
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
		.day_input = on_day_input,
		.beat = on_beat,
		.log = daemon_log_line,
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
	    !household_set_clock_trusted(next, daemon_now_ms(d),
					 daemon_mono_ms(), &error)) {
		daemon_store_failed(d, "reload", error);
		g_clear_error(&error);
	}
	publish_set_household(d->publish, next);
	if (d->spot)
		spot_watch_set_household(d->spot, next);
	household_free(d->household);
	before = d->config;
	d->household = next;
	d->config = fresh;
	if (d->antennas)
		antennas_reload(d, before);
	config_free(before);
	health_devices_reset(d);
	radio_set_devices(d);
	if (d->bridge && !bridge_set_household(d, &error))
		g_warning("reload: %s", error->message);
	g_message("reloaded %s: %zu people, %zu devices ([gateway] and "
		  "[mqtt] changes take effect at the next start)",
		  d->config_path, household_person_count(next),
		  household_device_count(next));
	daemon_update_status(d);
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

/* --- start and stop ------------------------------------------------------ */

static bool start(struct daemon *d, GError **error)
{
	struct store_options sopts = {
		.retention_days = d->config->retention_days,
		.health_changed = health_store_changed,
		.health_data = d,
		/* A satellite forwards every reading it files. */
		.filed = d->satellite ? satellites_filed : NULL,
		.filed_data = d,
	};
	struct household_ops hops = {
		.live_changed = on_live_changed,
		.device_changed = on_device_changed,
		.day_input = on_day_input,
		.beat = on_beat,
		.log = daemon_log_line,
	};
	struct spot_watch_ops sops = {
		.now_ms = publish_now_ms,
		.live_changed = on_live_changed,
		.finished = on_spot_finished,
	};
	struct publish_config pcfg = {
		.base_topic = d->base_topic,
	};
	struct publish_ops pops = {
		.live = send_live,
		.queue = outbox_add,
		.now_ms = publish_now_ms,
		.connection = radio_connection,
		.device_name = radio_device_name,
	};
	struct mqtt_client_config mcfg = {
		.host = d->config->host,
		.port = d->config->port,
		.client_id = d->config->client_id,
		.base_topic = d->base_topic,
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
		/* A home gateway's satellites keep sending while it or its
		 * broker restarts: the broker queues their readings for it
		 * (without, a bridge back before the gateway loses them). */
		.persistent_session = !d->satellite,
	};
	struct mqtt_client_ops mops = {
		.outbox_pending = outbox_pending,
		.outbox_sent = outbox_sent,
		.connected = on_connected,
		.disconnected = on_disconnected,
		.message = on_message,
		.log = daemon_log_line,
	};
	struct mqtt_bridge_config bcfg = {
		.base_topic = d->config->base_topic,
		.discovery_prefix = d->config->discovery_prefix,
		.sw_version = RECOVERYD_VERSION,
		/* The dashboard is where to look and where to get help. */
		.support_url = d->config->dashboard_url,
		.configuration_url = d->config->dashboard_url,
	};
	struct mqtt_bridge_ops bops = {
		.republish_states = republish_states,
		.checkin = on_checkin,
		.rejected = on_rejected,
		.log = daemon_log_line,
	};
	uint64_t watchdog_us = 0;
	int32_t today;

	d->zone = clock_zone_new(d->config->timezone, error);
	if (!d->zone)
		return false;
	if (d->want_demo)
		demo_run_start(d, d->demo_speed, d->demo_days);
	today = clock_day_of(d->zone, daemon_now_ms(d));
	d->health = health_new();
	d->store = store_open(d->config->database, &sopts, error);
	if (!d->store)
		return false;
	/* A database that cannot be written now would store nothing: a
	 * clear error (the file and why) rather than a silent daemon. */
	if (!store_check_writable(d->store, error)) {
		g_prefix_error(error, "%s: ", d->config->database);
		return false;
	}
	if (!d->want_demo)
		clock_prepare(d);
	d->household =
	    household_new(d->config, d->store, today, &hops, d, error);
	if (!d->household)
		return false;
	/* Damaged rows the household's history met: said, and computed
	 * again from the readings. */
	health_repair(d);
	d->publish = publish_new(&pcfg, &pops, d);
	publish_set_household(d->publish, d->household);
	if (!d->satellite)
		d->spot = spot_watch_new(d->household, d->zone, &sops, d);

	d->mqtt = mqtt_client_new(&mcfg, &mops, d, error);
	if (!d->mqtt)
		return false;
	/* Before the radio and the clock: they file readings. */
	d->satellites = satellites_new(d, error);
	if (!d->satellites)
		return false;
	/* A satellite speaks to the home gateway only: no discovery, no
	 * check-ins. */
	if (!d->satellite) {
		d->bridge = mqtt_bridge_new(d->mqtt, &bcfg, &bops, d, error);
		if (!d->bridge || !bridge_set_household(d, error))
			return false;
	}

	if (d->demo) {
		GError *ignored = NULL;

		/* The simulation starts the day before its first morning. */
		for (size_t i = 0; i < household_person_count(d->household);
		     i++)
			morning_init(
			    &household_person(d->household, i)->morning,
			    demo_run_first_day(d) - 1);

		household_set_clock_trusted(
		    d->household, daemon_now_ms(d),
		    daemon_reading_mono_ms(d, daemon_now_ms(d)), &ignored);
		g_clear_error(&ignored);
		/* A soak test's way to keep the BlueZ client running (and
		 * bluetoothd restarting under it) for simulated months. */
		if (d->demo_radio && !radio_start(d, error))
			return false;
	} else {
		if (!radio_start(d, error))
			return false;
		if (clock_cb(d))
			d->clock_timer = g_timeout_add_seconds(5, clock_cb, d);
	}
	if (!antennas_start(d, error) || !mqtt_client_start(d->mqtt, error))
		return false;

	/* The first tick at the busy pace: the radio's state, the first
	 * morning check a while after start. */
	tick_arm(d, TICK_BUSY_S);
	if (d->demo)
		demo_run_schedule(d);
	/* Hourly on the daemon's clock: in demo mode a simulated hour, so
	 * that retention prunes within a demo as it would in its days. */
	if (d->demo)
		d->housekeeping_timer = g_timeout_add(
		    (guint)MAX(d->demo_speed * 1000.0 / 24.0, 50.0),
		    housekeeping_cb, d);
	else
		d->housekeeping_timer =
		    g_timeout_add_seconds(3600, housekeeping_cb, d);
	/* Twice a watchdog period; from 4 s on a seconds timer, which GLib
	 * wakes for together with the others (WatchdogSec=60s: 30 s). */
	if (sd_watchdog_enabled(0, &watchdog_us) > 0 && watchdog_us) {
		if (watchdog_us >= 4 * G_USEC_PER_SEC)
			d->watchdog_timer = g_timeout_add_seconds(
			    (guint)(watchdog_us / 2 / G_USEC_PER_SEC),
			    watchdog_cb, d);
		else
			d->watchdog_timer =
			    g_timeout_add((guint)MAX(watchdog_us / 2000, 500),
					  watchdog_cb, d);
	}
	g_unix_signal_add(SIGTERM, quit_cb, d);
	g_unix_signal_add(SIGINT, quit_cb, d);
	g_unix_signal_add(SIGHUP, reload_cb, d);

	g_message("recoveryd %s%s%s%s%s: %zu people, %zu devices, database %s, "
		  "broker %s:%d%s",
		  RECOVERYD_VERSION, d->demo ? " (demo)" : "",
		  d->satellite ? " (satellite, publishing under " : "",
		  d->satellite ? d->base_topic : "", d->satellite ? ")" : "",
		  household_person_count(d->household),
		  household_device_count(d->household), d->config->database,
		  d->config->host,
		  d->config->port ? d->config->port
				  : (d->config->tls ? 8883 : 1883),
		  d->config->tls ? " (TLS)" : "");
	sd_notify(0, "READY=1");
	daemon_update_status(d);
	return true;
}

static void stop(struct daemon *d)
{
	g_autoptr(GError) error = NULL;

	mornings_stop(d);
	demo_run_free(g_steal_pointer(&d->demo));
	g_clear_handle_id(&d->tick_timer, g_source_remove);
	g_clear_handle_id(&d->watchdog_timer, g_source_remove);
	g_clear_handle_id(&d->clock_timer, g_source_remove);
	g_clear_handle_id(&d->housekeeping_timer, g_source_remove);
	g_clear_handle_id(&d->status_timer, g_source_remove);
	g_clear_pointer(&d->status_sent, g_free);
	/* A satellite's last readings into the outbox first. */
	g_clear_pointer(&d->satellites, satellites_free);
	if (d->store && !store_flush(d->store, &error))
		g_warning("database %s: the last readings could not be "
			  "committed: %s",
			  d->config->database, error->message);
	else if (d->household && !household_clock_trusted(d->household) &&
		 household_held_rows(d->household))
		g_message(
		    "%" G_GUINT64_FORMAT " readings are held in the "
		    "database until the clock is trusted: a start in this "
		    "boot files them then",
		    household_held_rows(d->household));
	antennas_stop(d);
	g_clear_pointer(&d->ble, ble_client_free);
	g_clear_pointer(&d->bridge, mqtt_bridge_free);
	if (d->mqtt)
		mqtt_client_stop(d->mqtt);
	g_clear_pointer(&d->mqtt, mqtt_client_free);
	g_clear_pointer(&d->spot, spot_watch_free);
	g_clear_pointer(&d->household, household_free);
	g_clear_pointer(&d->store, store_close);
	g_clear_pointer(&d->health, health_free);
	g_clear_pointer(&d->zone, clock_zone_free);
	g_clear_pointer(&d->publish, publish_free);
	g_free(d->last_mqtt_error);
	g_free(d->base_topic);
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
	gboolean demo_radio = FALSE;
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
		{ "demo-radio", 0, 0, G_OPTION_ARG_NONE, &demo_radio,
		  "In demo mode, run the Bluetooth client too (for soak "
		  "tests; what it receives is not filed)",
		  NULL },
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
		 "Demo mode runs without Bluetooth: four simulated people "
		 "go through eight weeks\nin under three minutes, with a "
		 "database in a temporary directory unless\n--config names "
		 "one; that file needs only [gateway] and [mqtt] (any "
		 "[user]\nsections are replaced by the demo's people).\n");
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
	if (demo_radio && !demo) {
		g_printerr("recoveryd: --demo-radio needs --demo\n");
		return 2;
	}
	d.config_path = config_path ? config_path : DEFAULT_CONFIG;
	if (demo && !config_path) {
		d.config = config_new_defaults();
	} else {
		/* The demo brings its people: [gateway] and [mqtt] are
		 * enough. */
		d.config = config_load_full(d.config_path,
					    demo ? CONFIG_LOAD_PEOPLE_OPTIONAL
						 : CONFIG_LOAD_DEFAULT,
					    &error);
		if (!d.config) {
			g_printerr("recoveryd: %s\n", error->message);
			return 1;
		}
	}
	if (check_config) {
		if (demo)
			g_print("%s: good (the demo brings its own people)\n",
				d.config_path);
		else
			g_print("%s: good (%zu people)\n", d.config_path,
				d.config->person_count);
		config_free(d.config);
		return 0;
	}
	if (demo) {
		config_clear_people(d.config);
		demo_run_people(d.config);
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

	d.satellite = d.config->role == CONFIG_ROLE_SATELLITE;
	if (d.satellite && demo) {
		g_printerr("recoveryd: --demo runs a home gateway; %s says "
			   "role=satellite\n",
			   d.config_path);
		config_free(d.config);
		return 1;
	}
	/* config_load checked that it fits. */
	d.base_topic = d.satellite
			   ? mqtt_topic_satellite_base(d.config->base_topic,
						       d.config->satellite_name)
			   : g_strdup(d.config->base_topic);
	d.loop = g_main_loop_new(NULL, FALSE);
	d.want_demo = demo;
	d.demo_speed = demo_speed;
	d.demo_days = demo_days;
	d.demo_radio = demo_radio;
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
