// SPDX-License-Identifier: MIT
/*
 * What goes out when (gateway/publish.c): live values rate-limited unless
 * urgent, a stale heart rate left out, device states with their owner and
 * link, the morning alert queued once and not retained, the daily state
 * queued retained. The publisher's messages are captured through its ops,
 * over a real household and store in a temporary directory.
 */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gateway/core/config.h"
#include "gateway/core/household.h"
#include "gateway/publish.h"

#define STRAP "C4:7C:8D:6A:12:34"
#define SCALE "5C:CA:D3:00:00:01"
/* 2026-03-02 06:00 UTC */
#define T0 INT64_C(1772431200000)
/* Short, so the deferred live value comes within the test. */
#define INTERVAL_MS 150

static const char conf[] = "[gateway]\n"
			   "timezone=UTC\n"
			   "[user alice]\n"
			   "heart-rate=" STRAP "\n"
			   "scale=" SCALE "\n"
			   "scale-protocol=xiaomi\n"
			   "weight-range=50-70\n"
			   "[user bob]\n"
			   "scale=" SCALE "\n"
			   "scale-protocol=xiaomi\n"
			   "weight-range=72-100\n";

struct sent {
	char *topic;
	char *json;
	bool queued; /* through the outbox (else a live value) */
	bool retain;
};

struct fixture {
	char *dir;
	struct config *config;
	store *store;
	household *h;
	publisher *p;
	GArray *sent; /* struct sent */
	int64_t now_ms;
};

static void on_live(void *data, const char *topic, const char *json)
{
	struct fixture *f = data;
	struct sent s = { g_strdup(topic), g_strdup(json), false, true };

	g_array_append_val(f->sent, s);
}

static void on_queue(void *data, const char *topic, const char *json,
		     bool retain)
{
	struct fixture *f = data;
	struct sent s = { g_strdup(topic), g_strdup(json), true, retain };

	g_array_append_val(f->sent, s);
}

static int64_t on_now(void *data)
{
	return ((struct fixture *)data)->now_ms;
}

/* The scale only advertises; the strap is connected. */
static enum mqtt_connection on_connection(void *data,
					  const struct household_device *dev)
{
	return strcmp(dev->address, SCALE) == 0 ? MQTT_CONNECTION_ADVERTISING
						: MQTT_CONNECTION_CONNECTED;
}

static void clear_sent(void *p)
{
	struct sent *s = p;

	g_free(s->topic);
	g_free(s->json);
}

static void setup(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL;
	struct household_ops hops = { 0 };
	struct publish_config pcfg = {
		.base_topic = "recovery",
		.live_min_interval_ms = INTERVAL_MS,
	};
	struct publish_ops pops = {
		.live = on_live,
		.queue = on_queue,
		.now_ms = on_now,
		.connection = on_connection,
	};

	f->dir = g_dir_make_tmp("test-publish-XXXXXX", &error);
	g_assert_no_error(error);
	db = g_build_filename(f->dir, "p.db", NULL);
	f->config = config_load_data("p.conf", conf, strlen(conf), &error);
	g_assert_no_error(error);
	f->store = store_open(db, NULL, &error);
	g_assert_no_error(error);
	f->h = household_new(f->config, f->store, (int32_t)(T0 / 86400000),
			     &hops, f, &error);
	g_assert_no_error(error);
	f->sent = g_array_new(FALSE, TRUE, sizeof(struct sent));
	g_array_set_clear_func(f->sent, clear_sent);
	f->now_ms = T0;
	f->p = publish_new(&pcfg, &pops, f);
	publish_set_household(f->p, f->h);
}

static void teardown(struct fixture *f, gconstpointer unused)
{
	const char *files[] = { "p.db", "p.db-wal", "p.db-shm" };

	publish_free(f->p);
	household_free(f->h);
	store_close(f->store);
	config_free(f->config);
	g_array_free(f->sent, TRUE);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path =
		    g_build_filename(f->dir, files[i], NULL);

		g_unlink(path);
	}
	g_rmdir(f->dir);
	g_free(f->dir);
}

static const struct sent *sent_at(struct fixture *f, guint i)
{
	g_assert_cmpuint(i, <, f->sent->len);
	return &g_array_index(f->sent, struct sent, i);
}

static JsonObject *parse(const char *json, JsonParser *parser)
{
	g_autoptr(GError) error = NULL;

	json_parser_load_from_data(parser, json, -1, &error);
	g_assert_no_error(error);
	return json_node_get_object(json_parser_get_root(parser));
}

static void set_heart_rate(struct fixture *f, double bpm)
{
	struct household_person *alice = household_person(f->h, 0);

	alice->live.heart_rate_bpm = bpm;
	alice->live.heart_rate_ms = f->now_ms;
	alice->live.updated_ms = f->now_ms;
}

static gboolean quit_later(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms (the publisher's deferred timer fires in it). */
static void run_for(unsigned ms)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);

	g_timeout_add(ms, quit_later, loop);
	g_main_loop_run(loop);
}

static void test_live_rate_limit(struct fixture *f, gconstpointer unused)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *o;

	set_heart_rate(f, 61);
	publish_live_changed(f->p, 0, false);
	g_assert_cmpuint(f->sent->len, ==, 1); /* the first goes at once */
	g_assert_cmpstr(sent_at(f, 0)->topic, ==, "recovery/alice/live");
	g_assert_false(sent_at(f, 0)->queued);

	/* A heart rate only, inside the interval: held, the newest sent. */
	set_heart_rate(f, 62);
	publish_live_changed(f->p, 0, false);
	set_heart_rate(f, 63);
	publish_live_changed(f->p, 0, false);
	g_assert_cmpuint(f->sent->len, ==, 1);
	run_for(INTERVAL_MS * 3);
	g_assert_cmpuint(f->sent->len, ==, 2);
	o = parse(sent_at(f, 1)->json, parser);
	g_assert_cmpint(json_object_get_int_member(o, "heart_rate_bpm"), ==,
			63);

	/* Anything else changed: at once, whatever the interval. */
	household_person(f->h, 0)->live.bed = 1;
	publish_live_changed(f->p, 0, true);
	g_assert_cmpuint(f->sent->len, ==, 3);
	run_for(INTERVAL_MS * 2);
	g_assert_cmpuint(f->sent->len, ==, 3); /* nothing left pending */
}

static void test_live_stale_heart_rate(struct fixture *f, gconstpointer unused)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *o;

	set_heart_rate(f, 58);
	f->now_ms += PUBLISH_LIVE_HR_MAX_AGE_MS + 1;
	publish_live_changed(f->p, 0, true);
	g_assert_cmpuint(f->sent->len, ==, 1);
	o = parse(sent_at(f, 0)->json, parser);
	g_assert_false(json_object_has_member(o, "heart_rate_bpm"));
}

static void test_device(struct fixture *f, gconstpointer unused)
{
	g_autoptr(JsonParser) strap_parser = json_parser_new();
	g_autoptr(JsonParser) scale_parser = json_parser_new();
	int strap = household_find_device(f->h, STRAP);
	int scale = household_find_device(f->h, SCALE);
	JsonObject *o;

	g_assert_cmpint(strap, >=, 0);
	g_assert_cmpint(scale, >=, 0);
	publish_device(f->p, strap);
	publish_device(f->p, scale);
	g_assert_cmpuint(f->sent->len, ==, 2);
	g_assert_cmpstr(sent_at(f, 0)->topic, ==,
			"recovery/device/c47c8d6a1234");
	g_assert_false(sent_at(f, 0)->queued);
	o = parse(sent_at(f, 0)->json, strap_parser);
	g_assert_cmpstr(json_object_get_string_member(o, "kind"), ==,
			"heart-rate strap");
	g_assert_cmpstr(json_object_get_string_member(o, "user"), ==, "alice");
	g_assert_cmpstr(json_object_get_string_member(o, "connection"), ==,
			"connected");
	/* The shared scale belongs to nobody in particular. */
	o = parse(sent_at(f, 1)->json, scale_parser);
	g_assert_cmpstr(json_object_get_string_member(o, "kind"), ==,
			"Xiaomi scale");
	g_assert_false(json_object_has_member(o, "user"));
}

static void test_all_live(struct fixture *f, gconstpointer unused)
{
	publish_all_live(f->p);
	/* Two devices and two people. */
	g_assert_cmpuint(f->sent->len, ==, 4);
	g_assert_cmpstr(sent_at(f, 2)->topic, ==, "recovery/alice/live");
	g_assert_cmpstr(sent_at(f, 3)->topic, ==, "recovery/bob/live");
}

static void test_alert_and_state(struct fixture *f, gconstpointer unused)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	struct recovery_day day = {
		.day = (int32_t)(T0 / 86400000),
		.score = { .score = 81, .zone = SCORE_ZONE_GREEN },
		.advice = { .state = ADVICE_PRIMED,
			    .headline = "Ready to go",
			    .action_count = 1,
			    .actions = { "Train as planned." } },
	};
	const struct household_person *alice = household_person(f->h, 0);
	JsonObject *o;

	g_assert_true(publish_alert(f->p, alice, &day, false));
	publish_state(f->p, alice, "{\"date\":\"2026-03-02\"}");
	g_assert_cmpuint(f->sent->len, ==, 2);

	g_assert_cmpstr(sent_at(f, 0)->topic, ==, "recovery/alice/alert");
	g_assert_true(sent_at(f, 0)->queued);
	g_assert_false(sent_at(f, 0)->retain);
	o = parse(sent_at(f, 0)->json, parser);
	g_assert_cmpstr(json_object_get_string_member(o, "date"), ==,
			"2026-03-02");
	g_assert_cmpint(json_object_get_int_member(o, "score"), ==, 81);
	g_assert_cmpstr(json_object_get_string_member(o, "state"), ==,
			"primed");
	g_assert_cmpstr(json_object_get_string_member(o, "headline"), ==,
			"Ready to go");
	/* The morning's own alert is no update. */
	g_assert_false(json_object_has_member(o, "update"));
	/* The push text: headline and first action, and (no check-in
	 * today) the invitation to check in. */
	g_assert_nonnull(
	    strstr(json_object_get_string_member(o, "text"), "Ready to go"));
	g_assert_nonnull(strstr(json_object_get_string_member(o, "text"),
				"Train as planned."));
	g_assert_nonnull(
	    strstr(json_object_get_string_member(o, "text"), "Check in"));
	g_assert_cmpuint(
	    g_utf8_strlen(json_object_get_string_member(o, "text"), -1), <=,
	    200);

	g_assert_cmpstr(sent_at(f, 1)->topic, ==, "recovery/alice/state");
	g_assert_true(sent_at(f, 1)->queued);
	g_assert_true(sent_at(f, 1)->retain);
	g_assert_cmpstr(sent_at(f, 1)->json, ==, "{\"date\":\"2026-03-02\"}");
}

/* The history goes out as a retained live value (QoS 0, newest only: the
 * database rebuilds it), as given, on the person's history topic. */
static void test_history(struct fixture *f, gconstpointer unused)
{
	const struct household_person *bob = household_person(f->h, 1);
	const char *history = "[{\"date\":\"2026-03-02\",\"score\":70}]";

	publish_history(f->p, bob, history);
	g_assert_cmpuint(f->sent->len, ==, 1);
	g_assert_cmpstr(sent_at(f, 0)->topic, ==, "recovery/bob/history");
	g_assert_false(sent_at(f, 0)->queued);
	g_assert_true(sent_at(f, 0)->retain);
	g_assert_cmpstr(sent_at(f, 0)->json, ==, history);
}

/* While the clock is not trusted no payload carries a time (it may read
 * 1970); once it is, live values and device states carry times of the
 * trusted clock. */
static void test_untrusted_clock_no_time(struct fixture *f,
					 gconstpointer unused)
{
	g_autoptr(JsonParser) live_parser = json_parser_new();
	g_autoptr(JsonParser) device_parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	struct reading r = {
		.address = STRAP,
		.t_ms = 10000, /* 1970, ten seconds after boot */
		.payload = { .uuid = DECODE_UUID_BATTERY_LEVEL,
			     .u.battery_pct = 80 },
	};
	JsonObject *o;

	g_assert_true(household_ingest(f->h, &r, 5000, &error));
	set_heart_rate(f, 61);
	household_person(f->h, 0)->live.updated_ms = 10000;
	publish_all_live(f->p);
	g_assert_cmpuint(f->sent->len, ==, 4);
	for (guint i = 0; i < f->sent->len; i++)
		g_assert_null(strstr(sent_at(f, i)->json, "1970"));
	o = parse(sent_at(f, 0)->json, device_parser);
	g_assert_cmpint(json_object_get_int_member(o, "battery_pct"), ==, 80);
	g_assert_false(json_object_has_member(o, "last_seen"));
	o = parse(sent_at(f, 2)->json, live_parser);
	g_assert_false(json_object_has_member(o, "updated"));

	/* Monotonic 15 s is T0: the reading came 10 s before. */
	g_assert_true(household_set_clock_trusted(f->h, T0, 15000, &error));
	g_assert_no_error(error);
	publish_all_live(f->p);
	g_assert_cmpuint(f->sent->len, ==, 8);
	o = parse(sent_at(f, 4)->json, device_parser);
	g_assert_cmpstr(json_object_get_string_member(o, "last_seen"), ==,
			"2026-03-02T05:59:50Z");
	o = parse(sent_at(f, 6)->json, live_parser);
	g_assert_cmpstr(json_object_get_string_member(o, "updated"), ==,
			"2026-03-02T05:59:50Z");
}

/* The day's alert again after a late check-in changed its state: the
 * same topic, not retained, "update": true, and the push text without the
 * invitation (the check-in is in). */
static void test_alert_update(struct fixture *f, gconstpointer unused)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	struct recovery_day day = {
		.day = (int32_t)(T0 / 86400000),
		.score = { .score = 72, .zone = SCORE_ZONE_GREEN },
		.advice = { .state = ADVICE_STALE,
			    .headline = "Time for something new",
			    .action_count = 1,
			    .actions = { "Change the stimulus." },
			    .checked_in = true },
	};
	const struct household_person *alice = household_person(f->h, 0);
	JsonObject *o;

	g_assert_true(publish_alert(f->p, alice, &day, true));
	g_assert_cmpuint(f->sent->len, ==, 1);
	g_assert_cmpstr(sent_at(f, 0)->topic, ==, "recovery/alice/alert");
	g_assert_true(sent_at(f, 0)->queued);
	g_assert_false(sent_at(f, 0)->retain);
	o = parse(sent_at(f, 0)->json, parser);
	g_assert_true(json_object_get_boolean_member(o, "update"));
	g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "stale");
	g_assert_null(
	    strstr(json_object_get_string_member(o, "text"), "Check in"));
}

/* An advertiser not heard for 15 minutes is silent (Home Assistant shows
 * its entities unavailable), found by the periodic check without anybody
 * telling, and back to advertising once heard again; a connected device
 * never goes silent. */
static void test_device_silent(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GError) error = NULL;
	int scale = household_find_device(f->h, SCALE);
	int strap = household_find_device(f->h, STRAP);
	struct reading r = {
		.address = SCALE,
		.t_ms = T0,
		.payload = { .uuid = DECODE_UUID_BATTERY_LEVEL,
			     .u.battery_pct = 90 },
	};

	g_assert_true(household_set_clock_trusted(f->h, T0, 1000, &error));
	g_assert_no_error(error);
	g_assert_true(household_ingest(f->h, &r, 1000, &error));
	g_strlcpy(r.address, STRAP, sizeof(r.address));
	g_assert_true(household_ingest(f->h, &r, 1000, &error));
	g_assert_no_error(error);
	publish_device(f->p, scale);
	publish_device(f->p, strap);
	g_assert_cmpuint(f->sent->len, ==, 2);
	g_assert_nonnull(
	    strstr(sent_at(f, 0)->json, "\"connection\":\"advertising\""));

	/* A minute short: nothing changed, nothing sent. */
	f->now_ms = T0 + PUBLISH_SILENT_AFTER_MS - 60000;
	publish_check_devices(f->p);
	g_assert_cmpuint(f->sent->len, ==, 2);
	f->now_ms = T0 + PUBLISH_SILENT_AFTER_MS;
	publish_check_devices(f->p);
	g_assert_cmpuint(f->sent->len, ==, 3);
	g_assert_cmpstr(sent_at(f, 2)->topic, ==,
			"recovery/device/5ccad3000001");
	g_assert_nonnull(
	    strstr(sent_at(f, 2)->json, "\"connection\":\"silent\""));
	g_assert_false(sent_at(f, 2)->queued);
	/* Said once. */
	publish_check_devices(f->p);
	g_assert_cmpuint(f->sent->len, ==, 3);

	/* Heard again. */
	g_strlcpy(r.address, SCALE, sizeof(r.address));
	r.t_ms = f->now_ms;
	g_assert_true(household_ingest(f->h, &r, 2000, &error));
	publish_check_devices(f->p);
	g_assert_cmpuint(f->sent->len, ==, 4);
	g_assert_nonnull(
	    strstr(sent_at(f, 3)->json, "\"connection\":\"advertising\""));
}

/* The check-in as stored, retained through the outbox, for Home
 * Assistant's numbers; nothing without a value. */
static void test_checkin(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GError) error = NULL;
	const struct household_person *alice = household_person(f->h, 0);

	g_assert_true(household_set_clock_trusted(f->h, T0, 1000, &error));
	g_assert_true(publish_checkin(f->p, alice, 4, NAN, 2, T0));
	g_assert_cmpuint(f->sent->len, ==, 1);
	g_assert_cmpstr(sent_at(f, 0)->topic, ==, "recovery/alice/checkin");
	g_assert_true(sent_at(f, 0)->queued);
	g_assert_true(sent_at(f, 0)->retain);
	g_assert_cmpstr(sent_at(f, 0)->json, ==,
			"{\"mood\":4,\"energy\":2,"
			"\"stored\":\"2026-03-02T06:00:00Z\"}");
	g_assert_false(publish_checkin(f->p, alice, NAN, NAN, NAN, T0));
	g_assert_cmpuint(f->sent->len, ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn)                                                          \
	g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/publish/live/rate-limit", test_live_rate_limit);
	ADD("/publish/live/stale-heart-rate", test_live_stale_heart_rate);
	ADD("/publish/device/owner-and-link", test_device);
	ADD("/publish/device/silent", test_device_silent);
	ADD("/publish/checkin", test_checkin);
	ADD("/publish/all-live", test_all_live);
	ADD("/publish/untrusted-clock-no-time", test_untrusted_clock_no_time);
	ADD("/publish/alert-and-state", test_alert_and_state);
	ADD("/publish/alert-update", test_alert_update);
	ADD("/publish/history", test_history);
#undef ADD
	return g_test_run();
}
