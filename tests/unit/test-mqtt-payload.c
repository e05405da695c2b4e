// SPDX-License-Identifier: MIT
/*
 * The MQTT topics and payloads (DESIGN §7): topic building and parsing with
 * the names that must never reach the broker, and the live, device and
 * alert payloads with absent values left out.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "mqtt/payload.h"
#include "mqtt/topic.h"

/* A failed build leaves the output pointing here. */
static char untouched[] = "untouched";

/* 2026-03-01T22:15:00Z */
#define T0 INT64_C(1772403300000)

static void assert_json_object(const char *json)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(g_utf8_validate(json, -1, NULL));
	if (!json_parser_load_from_data(parser, json, -1, &error))
		g_error("invalid JSON %s: %s", json, error->message);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
}

/* ---- topics ---- */

struct name_vector {
	const char *name;
	const char *value;
	bool valid;
};

static const struct name_vector bases[] = {
	{ "/topic/base/default", "recovery", true },
	{ "/topic/base/levels", "home/recovery", true },
	{ "/topic/base/utf8", "zo\xc3\xab", true },
	{ "/topic/base/ha-lookalike", "homeassistantx", true },
	{ "/topic/base/128",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaa",
	  true },
	{ "/topic/base/129",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaa",
	  false },
	{ "/topic/base/null", NULL, false },
	{ "/topic/base/empty", "", false },
	{ "/topic/base/plus", "rec+overy", false },
	{ "/topic/base/hash", "recovery/#", false },
	{ "/topic/base/plus-level", "home/+/recovery", false },
	{ "/topic/base/leading-slash", "/recovery", false },
	{ "/topic/base/trailing-slash", "recovery/", false },
	{ "/topic/base/empty-level", "home//recovery", false },
	{ "/topic/base/dollar", "$SYS/recovery", false },
	{ "/topic/base/homeassistant", "homeassistant", false },
	{ "/topic/base/under-homeassistant", "homeassistant/recovery", false },
	{ "/topic/base/c0", "reco\x01very", false },
	{ "/topic/base/newline", "recovery\n", false },
	{ "/topic/base/del", "reco\x7fvery", false },
	{ "/topic/base/c1", "reco\xc2\x85very", false },
	{ "/topic/base/not-utf8", "reco\xffvery", false },
	{ "/topic/base/overlong-slash", "reco\xc0\xafvery", false },
};

static void test_base(gconstpointer data)
{
	const struct name_vector *v = data;

	g_assert_cmpint(mqtt_topic_base_valid(v->value), ==, v->valid);
}

/* Subscription filters (MQTT 3.1.1 §4.7.1), as [antennas] topics= takes
 * them. */
static const struct name_vector filters[] = {
	{ "/topic/filter/omg", "home/OpenMQTTGateway/BTtoMQTT/+", true },
	{ "/topic/filter/hash", "home/#", true },
	{ "/topic/filter/all", "#", true },
	{ "/topic/filter/plus-only", "+", true },
	{ "/topic/filter/empty-level", "a//b", true },
	{ "/topic/filter/null", NULL, false },
	{ "/topic/filter/empty", "", false },
	{ "/topic/filter/plus-inside", "home/gw+/x", false },
	{ "/topic/filter/hash-inside", "home/#/x", false },
	{ "/topic/filter/hash-suffix", "home/x#", false },
	{ "/topic/filter/dollar", "$SYS/#", false },
	{ "/topic/filter/control", "home/\x01", false },
	{ "/topic/filter/not-utf8", "home/\xff", false },
};

static void test_filter(gconstpointer data)
{
	const struct name_vector *v = data;

	g_assert_cmpint(mqtt_topic_filter_valid(v->value), ==, v->valid);
}

struct match_vector {
	const char *name;
	const char *filter;
	const char *topic;
	bool matches;
};

static const struct match_vector matches[] = {
	{ "/topic/match/exact", "a/b", "a/b", true },
	{ "/topic/match/plus", "home/+/BTtoMQTT/+", "home/omg/BTtoMQTT/AABB",
	  true },
	{ "/topic/match/plus-one-level", "home/+", "home/a/b", false },
	{ "/topic/match/plus-empty-level", "a/+/c", "a//c", true },
	{ "/topic/match/hash", "home/#", "home/a/b/c", true },
	{ "/topic/match/hash-parent", "home/#", "home", true },
	{ "/topic/match/hash-all", "#", "recovery/status", true },
	{ "/topic/match/shorter-topic", "a/b/c", "a/b", false },
	{ "/topic/match/longer-topic", "a/b", "a/b/c", false },
	{ "/topic/match/prefix", "a/bc", "a/b", false },
	{ "/topic/match/other", "home/omg/+", "recovery/alice/checkin/set",
	  false },
	{ "/topic/match/plus-last", "a/+", "a/", true },
};

static void test_match(gconstpointer data)
{
	const struct match_vector *v = data;

	g_assert_cmpint(mqtt_topic_matches(v->filter, v->topic), ==,
			v->matches);
}

static const struct name_vector users[] = {
	{ "/topic/user/plain", "alice", true },
	{ "/topic/user/mixed", "Alice_1-b", true },
	{ "/topic/user/one", "a", true },
	{ "/topic/user/32", "abcdefghijklmnopqrstuvwxyz012345", true },
	{ "/topic/user/Device", "Device", true },
	{ "/topic/user/33", "abcdefghijklmnopqrstuvwxyz0123456", false },
	{ "/topic/user/null", NULL, false },
	{ "/topic/user/empty", "", false },
	{ "/topic/user/space", "al ice", false },
	{ "/topic/user/slash", "al/ice", false },
	{ "/topic/user/plus", "al+ice", false },
	{ "/topic/user/hash", "alice#", false },
	{ "/topic/user/dot", "al.ice", false },
	{ "/topic/user/utf8", "zo\xc3\xab", false },
	{ "/topic/user/device", "device", false },
};

static void test_user(gconstpointer data)
{
	const struct name_vector *v = data;

	g_assert_cmpint(mqtt_topic_user_valid(v->value), ==, v->valid);
}

struct address_vector {
	const char *name;
	const char *address;
	const char *slug; /* NULL: invalid */
};

static const struct address_vector addresses[] = {
	{ "/topic/address/upper", "C4:7C:8D:6A:12:34", "c47c8d6a1234" },
	{ "/topic/address/lower", "c4:7c:8d:6a:12:34", "c47c8d6a1234" },
	{ "/topic/address/zero", "00:00:00:00:00:00", "000000000000" },
	{ "/topic/address/null", NULL },
	{ "/topic/address/empty", "" },
	{ "/topic/address/bare", "C47C8D6A1234" },
	{ "/topic/address/dashes", "C4-7C-8D-6A-12-34" },
	{ "/topic/address/short", "C4:7C:8D:6A:12:3" },
	{ "/topic/address/long", "C4:7C:8D:6A:12:34:" },
	{ "/topic/address/not-hex", "G4:7C:8D:6A:12:34" },
	{ "/topic/address/wildcard", "C4:7C:8D:6A:12:+#" },
};

static void test_address(gconstpointer data)
{
	const struct address_vector *v = data;
	char slug[MQTT_TOPIC_ADDRESS_SLUG] = "untouched!!";

	g_assert_cmpint(mqtt_topic_address_slug(v->address, slug), ==,
			v->slug != NULL);
	g_assert_cmpstr(slug, ==, v->slug ? v->slug : "untouched!!");
}

enum builder { STATUS, STATE, ALERT, LIVE, CHECKIN, DEVICE };

struct builder_vector {
	const char *name;
	enum builder builder;
	const char *base;
	const char *arg;
	const char *topic; /* NULL: refused */
};

static const struct builder_vector builders[] = {
	{ "/topic/build/status", STATUS, "recovery", NULL, "recovery/status" },
	{ "/topic/build/state", STATE, "recovery", "alice",
	  "recovery/alice/state" },
	{ "/topic/build/alert", ALERT, "recovery", "alice",
	  "recovery/alice/alert" },
	{ "/topic/build/live", LIVE, "home/recovery", "bob",
	  "home/recovery/bob/live" },
	{ "/topic/build/checkin", CHECKIN, "recovery", "alice",
	  "recovery/alice/checkin/set" },
	{ "/topic/build/device", DEVICE, "recovery", "C4:7C:8D:6A:12:34",
	  "recovery/device/c47c8d6a1234" },
	{ "/topic/build/bad-base", STATUS, "recovery/#", NULL, NULL },
	{ "/topic/build/bad-user-wildcard", STATE, "recovery", "+", NULL },
	{ "/topic/build/bad-user-level", LIVE, "recovery", "alice/x", NULL },
	{ "/topic/build/bad-user-device", CHECKIN, "recovery", "device", NULL },
	{ "/topic/build/null-user", ALERT, "recovery", NULL, NULL },
	{ "/topic/build/bad-address", DEVICE, "recovery", "C4:7C", NULL },
	{ "/topic/build/bad-base-device", DEVICE, "", "C4:7C:8D:6A:12:34",
	  NULL },
};

static void test_builder(gconstpointer data)
{
	const struct builder_vector *v = data;
	g_autofree char *topic = NULL;

	switch (v->builder) {
	case STATUS:
		topic = mqtt_topic_status(v->base);
		break;
	case STATE:
		topic = mqtt_topic_state(v->base, v->arg);
		break;
	case ALERT:
		topic = mqtt_topic_alert(v->base, v->arg);
		break;
	case LIVE:
		topic = mqtt_topic_live(v->base, v->arg);
		break;
	case CHECKIN:
		topic = mqtt_topic_checkin_set(v->base, v->arg);
		break;
	case DEVICE:
		topic = mqtt_topic_device(v->base, v->arg);
		break;
	default:
		g_assert_not_reached();
	}
	g_assert_cmpstr(topic, ==, v->topic);
}

struct parse_vector {
	const char *name;
	const char *base;
	const char *topic;
	size_t size;	  /* 0: a full buffer */
	const char *user; /* NULL: refused */
};

static const struct parse_vector parses[] = {
	{ "/topic/parse/plain", "recovery", "recovery/alice/checkin/set", 0,
	  "alice" },
	{ "/topic/parse/levels", "home/recovery",
	  "home/recovery/bob_2/checkin/set", 0, "bob_2" },
	{ "/topic/parse/exact-fit", "recovery", "recovery/alice/checkin/set", 6,
	  "alice" },
	{ "/topic/parse/too-small", "recovery", "recovery/alice/checkin/set",
	  5 },
	{ "/topic/parse/other-base", "recovery",
	  "recoveryx/alice/checkin/set" },
	{ "/topic/parse/base-prefix", "recovery/a",
	  "recovery/alice/checkin/set" },
	{ "/topic/parse/state", "recovery", "recovery/alice/state" },
	{ "/topic/parse/no-set", "recovery", "recovery/alice/checkin" },
	{ "/topic/parse/extra-level", "recovery",
	  "recovery/alice/checkin/set/x" },
	{ "/topic/parse/two-levels", "recovery", "recovery/a/b/checkin/set" },
	{ "/topic/parse/empty-user", "recovery", "recovery//checkin/set" },
	{ "/topic/parse/bad-user", "recovery", "recovery/al+ce/checkin/set" },
	{ "/topic/parse/device", "recovery", "recovery/device/checkin/set" },
	{ "/topic/parse/long-user", "recovery",
	  "recovery/abcdefghijklmnopqrstuvwxyz0123456/checkin/set" },
	{ "/topic/parse/bad-base", "recovery/+",
	  "recovery/+/alice/checkin/set" },
	{ "/topic/parse/null-topic", "recovery", NULL },
	{ "/topic/parse/empty", "recovery", "" },
	{ "/topic/parse/base-only", "recovery", "recovery" },
};

static void test_parse(gconstpointer data)
{
	const struct parse_vector *v = data;
	char user[MQTT_TOPIC_USER_MAX + 1];
	size_t size = v->size ? v->size : sizeof(user);

	memset(user, 'X', sizeof(user));
	user[sizeof(user) - 1] = '\0';
	g_assert_cmpint(mqtt_topic_parse_checkin(v->base, v->topic, user, size),
			==, v->user != NULL);
	if (v->user) {
		g_autofree char *again = mqtt_topic_checkin_set(v->base, user);

		g_assert_cmpstr(user, ==, v->user);
		g_assert_cmpstr(again, ==, v->topic);
	} else {
		/* Untouched on failure. */
		for (size_t i = 0; i + 1 < sizeof(user); i++)
			g_assert_cmpint(user[i], ==, 'X');
	}
}

/* ---- payloads ---- */

struct live_vector {
	const char *name;
	struct mqtt_live live;
	int ret;
	const char *json;
};

static const struct live_vector lives[] = {
	{ "/payload/live/full",
	  { 72.4, MQTT_FLAG_YES, 61.234, 20.04, MQTT_FLAG_YES, T0 + 999 },
	  0,
	  "{\"heart_rate_bpm\":72,\"contact\":true,\"weight_kg\":61.23,"
	  "\"body_fat_pct\":20,\"bed\":true,"
	  "\"updated\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/live/hr-rounds-half-up",
	  { 72.5, MQTT_FLAG_NO, NAN, NAN, MQTT_FLAG_UNKNOWN, T0 },
	  0,
	  "{\"heart_rate_bpm\":73,\"contact\":false,"
	  "\"updated\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/live/nothing-known",
	  { NAN, MQTT_FLAG_UNKNOWN, NAN, NAN, MQTT_FLAG_UNKNOWN, T0 },
	  0,
	  "{\"updated\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/live/not-finite-absent",
	  { INFINITY, MQTT_FLAG_UNKNOWN, -INFINITY, NAN, MQTT_FLAG_NO, T0 },
	  0,
	  "{\"bed\":false,\"updated\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/live/weight-only",
	  { NAN, MQTT_FLAG_UNKNOWN, 80, 18.46, MQTT_FLAG_UNKNOWN, T0 },
	  0,
	  "{\"weight_kg\":80,\"body_fat_pct\":18.5,"
	  "\"updated\":\"2026-03-01T22:15:00Z\"}" },
	/* While the clock is not trusted the time is left out. */
	{ "/payload/live/no-time",
	  { 60, MQTT_FLAG_UNKNOWN, NAN, NAN, MQTT_FLAG_UNKNOWN, 0 },
	  0,
	  "{\"heart_rate_bpm\":60}" },
	/* The morning spot check as it goes, and its result. */
	{ "/payload/live/spot-measuring",
	  { 58, MQTT_FLAG_YES, NAN, NAN, MQTT_FLAG_UNKNOWN, T0, "measuring", 45,
	    NAN },
	  0,
	  "{\"heart_rate_bpm\":58,\"contact\":true,\"spot\":\"measuring\","
	  "\"spot_measured_s\":45,\"updated\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/live/spot-done",
	  { NAN, MQTT_FLAG_UNKNOWN, NAN, NAN, MQTT_FLAG_UNKNOWN, T0, "done",
	    180, 48.26 },
	  0,
	  "{\"spot\":\"done\",\"spot_measured_s\":180,"
	  "\"spot_rmssd_ms\":48.3,\"updated\":\"2026-03-01T22:15:00Z\"}" },
	/* Without a phase the seconds are not sent. */
	{ "/payload/live/spot-none",
	  { NAN, MQTT_FLAG_UNKNOWN, NAN, NAN, MQTT_FLAG_UNKNOWN, T0, NULL, 45,
	    48 },
	  0,
	  "{\"updated\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/live/negative-time", { 60, .updated_ms = -1000 }, -EINVAL },
	{ "/payload/live/year-10000",
	  { 60, .updated_ms = INT64_MAX },
	  -EINVAL },
};

static void test_live(gconstpointer data)
{
	const struct live_vector *v = data;
	char *json = untouched;

	g_assert_cmpint(mqtt_payload_build_live(&v->live, &json), ==, v->ret);
	if (v->ret < 0) {
		g_assert_true(json == untouched);
		return;
	}
	assert_json_object(json);
	g_assert_cmpstr(json, ==, v->json);
	g_free(json);
}

struct device_vector {
	const char *name;
	struct mqtt_device_state device;
	int ret;
	const char *json;
};

static const struct device_vector devices[] = {
	{ "/payload/device/full",
	  { "c4:7c:8d:6a:12:34", "Polar H10 A1B2", "heart-rate strap", "alice",
	    87, -67.4, T0, MQTT_CONNECTION_CONNECTED },
	  0,
	  "{\"address\":\"C4:7C:8D:6A:12:34\",\"name\":\"Polar H10 A1B2\","
	  "\"kind\":\"heart-rate strap\",\"user\":\"alice\","
	  "\"battery_pct\":87,\"rssi_dbm\":-67,"
	  "\"last_seen\":\"2026-03-01T22:15:00Z\","
	  "\"connection\":\"connected\"}" },
	{ "/payload/device/minimal",
	  { "C4:7C:8D:6A:12:34", .battery_pct = NAN, .rssi_dbm = NAN },
	  0,
	  "{\"address\":\"C4:7C:8D:6A:12:34\"}" },
	{ "/payload/device/advertiser",
	  { "5C:CA:D3:00:00:01", "MIBFS", "scale", NULL, NAN, -80, T0,
	    MQTT_CONNECTION_ADVERTISING },
	  0,
	  "{\"address\":\"5C:CA:D3:00:00:01\",\"name\":\"MIBFS\","
	  "\"kind\":\"scale\",\"rssi_dbm\":-80,"
	  "\"last_seen\":\"2026-03-01T22:15:00Z\","
	  "\"connection\":\"advertising\"}" },
	/* A BLE name is raw bytes: the payload must stay valid JSON. */
	{ "/payload/device/name-not-utf8",
	  { "C4:7C:8D:6A:12:34", "Polar\xff", .battery_pct = NAN,
	    .rssi_dbm = NAN, .connection = MQTT_CONNECTION_ABSENT },
	  0,
	  "{\"address\":\"C4:7C:8D:6A:12:34\",\"name\":\"Polar\xef\xbf\xbd\","
	  "\"connection\":\"absent\"}" },
	{ "/payload/device/bad-address",
	  { "C4:7C", .battery_pct = NAN },
	  -EINVAL },
	{ "/payload/device/null-address", { NULL }, -EINVAL },
	{ "/payload/device/bad-time",
	  { "C4:7C:8D:6A:12:34", .battery_pct = NAN, .rssi_dbm = NAN,
	    .last_seen_ms = -5 },
	  -EINVAL },
};

/* A builder's answer @got against a vector's @want: the output @json
 * untouched on failure, the JSON text @want_json on success (freed). */
static void assert_built(int got, int want, char *json, const char *want_json)
{
	g_assert_cmpint(got, ==, want);
	if (want < 0) {
		g_assert_true(json == untouched);
		return;
	}
	assert_json_object(json);
	g_assert_cmpstr(json, ==, want_json);
	g_free(json);
}

static void test_device(gconstpointer data)
{
	const struct device_vector *v = data;
	char *json = untouched;
	int ret = mqtt_payload_build_device(&v->device, &json);

	assert_built(ret, v->ret, json, v->json);
}

static void test_connection_names(void)
{
	static const struct {
		enum mqtt_connection connection;
		const char *name;
	} names[] = {
		{ MQTT_CONNECTION_UNKNOWN, NULL },
		{ MQTT_CONNECTION_ABSENT, "absent" },
		{ MQTT_CONNECTION_ADVERTISING, "advertising" },
		{ MQTT_CONNECTION_CONNECTING, "connecting" },
		{ MQTT_CONNECTION_CONNECTED, "connected" },
		{ MQTT_CONNECTION_DISCONNECTED, "disconnected" },
		{ MQTT_CONNECTION_SILENT, "silent" },
		{ (enum mqtt_connection)99, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_cmpstr(
		    mqtt_payload_connection_name(names[i].connection), ==,
		    names[i].name);
}

static const char *const primed_actions[] = {
	"Train as planned: if a hard session is on the schedule, today is a "
	"good day for it.",
};
static const char *const primed_reasons[] = {
	"today's score 74 is green (67 or more)",
	"HRV 7-day mean is within your normal range",
};

#define LONG_DETAIL                                                            \
	"Your body has been asking for a break for a few days. That is "       \
	"feedback, not failure: rest now and the fitness comes back "          \
	"stronger. Sleep an extra hour and keep water nearby, and tell your "  \
	"training partner."

static const char *const no_hrv_reasons[] = {
	"no HRV in this score: your heart-rate band sends no RR intervals, so "
	"it comes from resting HR, sleep and check-ins",
};

struct alert_vector {
	const char *name;
	struct mqtt_alert alert;
	int ret;
	const char *text; /* the expected text, or NULL to skip */
	const char *json; /* the expected payload, or NULL to skip */
};

static const struct alert_vector alerts[] = {
	{ "/payload/alert/primed",
	  { "alice", "Alice", "2026-03-02", 74, "green", "primed",
	    "Ready to go",
	    "You have recovered well. Train as planned; a quality session is "
	    "welcome today.",
	    primed_actions, 1, primed_reasons, 2 },
	  0,
	  "Alice: 74, green \u2013 Ready to go. You have recovered well. Train "
	  "as planned; a quality session is welcome today.",
	  "{\"user\":\"alice\",\"date\":\"2026-03-02\",\"score\":74,"
	  "\"zone\":\"green\",\"state\":\"primed\",\"headline\":\"Ready to "
	  "go\","
	  "\"detail\":\"You have recovered well. Train as planned; a quality "
	  "session is welcome today.\","
	  "\"actions\":[\"Train as planned: if a hard session is on the "
	  "schedule, today is a good day for it.\"],"
	  "\"reasons\":[\"today's score 74 is green (67 or more)\","
	  "\"HRV 7-day mean is within your normal range\"],"
	  "\"text\":\"Alice: 74, green \u2013 Ready to go. You have recovered "
	  "well. Train as planned; a quality session is welcome today.\"}" },
	/* The engine's push text (advice_push_text()) is the line as is. */
	{ "/payload/alert/push-text",
	  { .user = "alice",
	    .date = "2026-03-02",
	    .score = 74,
	    .zone = "green",
	    .state = "stale",
	    .headline = "Time for something new",
	    .detail = "The routine has gone flat.",
	    .text = "Alice: Time for something new. Change the stimulus: a "
		    "new route or trail, or some hills." },
	  0,
	  "Alice: Time for something new. Change the stimulus: a new route "
	  "or trail, or some hills." },
	/* ... and still held to the limit. */
	{ "/payload/alert/push-text-cut",
	  { .user = "alice",
	    .date = "2026-03-02",
	    .score = 74,
	    .zone = "green",
	    .state = "primed",
	    .headline = "Ready to go",
	    .text = "Ready to go. aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa "
		    "aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa "
		    "aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa "
		    "aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa "
		    "aaaa aaaa aaaa aaaa aaaa" },
	  0,
	  NULL },
	/* Sent again after a late check-in changed the state: "update". */
	{ "/payload/alert/update",
	  { .user = "alice",
	    .date = "2026-03-02",
	    .score = 70,
	    .zone = "green",
	    .state = "stale",
	    .headline = "Time for something new",
	    .text = "Alice: Time for something new.",
	    .update = true },
	  0,
	  "Alice: Time for something new.",
	  "{\"user\":\"alice\",\"date\":\"2026-03-02\",\"score\":70,"
	  "\"zone\":\"green\",\"state\":\"stale\","
	  "\"headline\":\"Time for something new\","
	  "\"actions\":[],\"reasons\":[],"
	  "\"text\":\"Alice: Time for something new.\",\"update\":true}" },
	{ "/payload/alert/no-score",
	  { "bob", NULL, "2026-03-02", -1, "none", "calibrating",
	    "Getting to know you: 3 of 7 nights" },
	  0,
	  "bob \u2013 Getting to know you: 3 of 7 nights.",
	  "{\"user\":\"bob\",\"date\":\"2026-03-02\",\"score\":null,"
	  "\"zone\":\"none\",\"state\":\"calibrating\","
	  "\"headline\":\"Getting to know you: 3 of 7 nights\","
	  "\"actions\":[],\"reasons\":[],"
	  "\"text\":\"bob \u2013 Getting to know you: 3 of 7 nights.\"}" },
	/* A band without RR: the alert says the score holds no HRV. */
	{ "/payload/alert/no-hrv",
	  { .user = "bob",
	    .date = "2026-03-02",
	    .score = 70,
	    .zone = "green",
	    .state = "primed",
	    .headline = "Ready to go",
	    .reasons = no_hrv_reasons,
	    .reason_count = 1,
	    .text = "Ready to go. Train as planned.",
	    .hrv_source = "none" },
	  0,
	  "Ready to go. Train as planned.",
	  "{\"user\":\"bob\",\"date\":\"2026-03-02\",\"score\":70,"
	  "\"zone\":\"green\",\"hrv_source\":\"none\",\"state\":\"primed\","
	  "\"headline\":\"Ready to go\",\"actions\":[],"
	  "\"reasons\":[\"no HRV in this score: your heart-rate band sends "
	  "no RR intervals, so it comes from resting HR, sleep and "
	  "check-ins\"],\"text\":\"Ready to go. Train as planned.\"}" },
	{ "/payload/alert/headline-stop-kept",
	  { "alice", "Alice", "2026-03-02", 20, "red", "one-off-dip",
	    "A low night, not a low week!" },
	  0,
	  "Alice: 20, red \u2013 A low night, not a low week!" },
	{ "/payload/alert/long-detail-cut",
	  { "alice", "Alice", "2026-03-02", 31, "red", "running-on-empty",
	    "Running on empty: time to refill", LONG_DETAIL },
	  0,
	  "Alice: 31, red \u2013 Running on empty: time to refill. Your body "
	  "has been asking for a break for a few days. That is feedback, not "
	  "failure: rest now and the fitness comes back stronger. Sleep an "
	  "extra\u2026" },
	{ "/payload/alert/missing-headline",
	  { "alice", "Alice", "2026-03-02", 74, "green", "primed", NULL },
	  -EINVAL },
	{ "/payload/alert/missing-date",
	  { "alice", "Alice", NULL, 74, "green", "primed", "Ready to go" },
	  -EINVAL },
	{ "/payload/alert/bad-user",
	  { "al/ice", "Alice", "2026-03-02", 74, "green", "primed",
	    "Ready to go" },
	  -EINVAL },
	{ "/payload/alert/actions-null-with-count",
	  { "alice", "Alice", "2026-03-02", 74, "green", "primed",
	    "Ready to go", NULL, NULL, 2 },
	  -EINVAL },
};

static void test_alert(gconstpointer data)
{
	const struct alert_vector *v = data;
	g_autofree char *text = mqtt_payload_alert_text(&v->alert);
	char *json = untouched;

	g_assert_cmpint(mqtt_payload_build_alert(&v->alert, &json), ==, v->ret);
	if (v->ret < 0) {
		g_assert_true(json == untouched);
		return;
	}
	assert_json_object(json);
	g_assert_nonnull(text);
	g_assert_cmpint(g_utf8_strlen(text, -1), <=,
			MQTT_PAYLOAD_ALERT_TEXT_MAX);
	if (v->text)
		g_assert_cmpstr(text, ==, v->text);
	if (v->json)
		g_assert_cmpstr(json, ==, v->json);
	g_free(json);
}

/* Whatever comes in, the text stays a valid line of at most 200
 * characters: multi-byte names, no spaces to cut at, broken UTF-8. */
static void test_alert_text_bounds(void)
{
	static const char *const fillers[] = { "\xc3\xa9", "x", "ab ",
					       "\xe2\x80\x93 ", "\xff" };

	for (size_t i = 0; i < G_N_ELEMENTS(fillers); i++) {
		for (size_t n = 0; n < 260; n += 7) {
			GString *s = g_string_new(NULL);
			g_autofree char *text = NULL;
			struct mqtt_alert a = {
				"alice",  NULL,	      "2026-03-02",	   50,
				"yellow", "strained", "Take it easy today"
			};

			for (size_t k = 0; k < n; k++)
				g_string_append(s, fillers[i]);
			a.display_name = s->str;
			a.detail = s->str;
			text = mqtt_payload_alert_text(&a);
			g_assert_nonnull(text);
			g_assert_true(g_utf8_validate(text, -1, NULL));
			g_assert_cmpint(g_utf8_strlen(text, -1), <=,
					MQTT_PAYLOAD_ALERT_TEXT_MAX);
			g_string_free(s, TRUE);
		}
	}
}

/* --- the gateway's state ----------------------------------------------- */

static const char *const two_people[] = { "alice", "bob" };

struct gateway_vector {
	const char *name;
	struct mqtt_gateway_state state;
	int ret;
	const char *json;
};

/* A home gateway's satellites: one heard, one known only by its status. */
static const struct mqtt_gateway_satellite two_satellites[] = {
	{ .name = "bedroom",
	  .status = "online",
	  .last_heard_ms = T0,
	  .readings = 51234,
	  .dropped = 2 },
	{ .name = "bath" },
};

static const struct gateway_vector gateways[] = {
	{ "/payload/gateway/satellites",
	  { .version = "1",
	    .outbox_backlog = -1,
	    .clock_synchronised = true,
	    .satellites = two_satellites,
	    .satellite_count = 2 },
	  0,
	  "{\"version\":\"1\",\"people\":[],\"devices\":{\"configured\":0,"
	  "\"heard\":0},\"storage\":{\"state\":\"ok\"},"
	  "\"clock\":\"synchronised\",\"satellites\":[{\"name\":\"bedroom\","
	  "\"status\":\"online\",\"last_heard\":\"2026-03-01T22:15:00Z\","
	  "\"readings\":51234,\"dropped\":2},{\"name\":\"bath\","
	  "\"readings\":0,\"dropped\":0}]}" },
	{ "/payload/gateway/ok",
	  { .version = "0.4.0",
	    .people = two_people,
	    .people_count = 2,
	    .devices_configured = 3,
	    .devices_heard = 2,
	    .outbox_backlog = 0,
	    .clock_synchronised = true,
	    .last_analysis_ms = T0 },
	  0,
	  "{\"version\":\"0.4.0\",\"people\":[\"alice\",\"bob\"],"
	  "\"devices\":{\"configured\":3,\"heard\":2},\"outbox_backlog\":0,"
	  "\"storage\":{\"state\":\"ok\"},\"clock\":\"synchronised\","
	  "\"last_analysis\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/gateway/failing",
	  { .version = "0.4.0",
	    .people = two_people,
	    .people_count = 1,
	    .outbox_backlog = -1,
	    .storage_failing = true,
	    .storage_cause = "disk full",
	    .storage_failing_since_ms = T0,
	    .held_readings = 312,
	    .dropped_readings = 5 },
	  0,
	  "{\"version\":\"0.4.0\",\"people\":[\"alice\"],"
	  "\"devices\":{\"configured\":0,\"heard\":0},"
	  "\"storage\":{\"state\":\"failing\",\"cause\":\"disk full\","
	  "\"since\":\"2026-03-01T22:15:00Z\",\"held_readings\":312,"
	  "\"dropped_readings\":5},\"clock\":\"waiting\"}" },
	{ "/payload/gateway/no-people",
	  { .version = "1" },
	  0,
	  "{\"version\":\"1\",\"people\":[],\"devices\":{\"configured\":0,"
	  "\"heard\":0},\"outbox_backlog\":0,\"storage\":{\"state\":\"ok\"},"
	  "\"clock\":\"waiting\"}" },
	{ "/payload/gateway/no-version", { .people_count = 0 }, -EINVAL },
	{ "/payload/gateway/people-missing",
	  { .version = "1", .people_count = 2 },
	  -EINVAL },
	{ "/payload/gateway/bad-analysis-time",
	  { .version = "1", .last_analysis_ms = -5 },
	  -EINVAL },
	{ "/payload/gateway/bad-since",
	  { .version = "1",
	    .storage_failing = true,
	    .storage_failing_since_ms = INT64_MAX },
	  -EINVAL },
};

static void test_gateway(gconstpointer data)
{
	const struct gateway_vector *v = data;
	char *json = untouched;
	int ret = mqtt_payload_build_gateway(&v->state, &json);

	assert_built(ret, v->ret, json, v->json);
}

static void test_gateway_topic(void)
{
	g_autofree char *topic = mqtt_topic_gateway("home/recovery");

	g_assert_cmpstr(topic, ==, "home/recovery/gateway");
	g_assert_null(mqtt_topic_gateway("a/+/b"));
}

static void test_status(void)
{
	g_assert_cmpstr(mqtt_payload_status(true), ==, "online");
	g_assert_cmpstr(mqtt_payload_status(false), ==, "offline");
}

/* The stored check-in echoed for Home Assistant's numbers: only what the
 * check-in had, whole numbers, the time it was stored. */
struct checkin_case {
	const char *name;
	struct mqtt_checkin_stored in;
	int rc;
	const char *json;
};

static const struct checkin_case checkins[] = {
	{ "/payload/checkin/all",
	  { 4, 2, 3, T0 },
	  0,
	  "{\"mood\":4,\"soreness\":2,\"energy\":3,"
	  "\"stored\":\"2026-03-01T22:15:00Z\"}" },
	{ "/payload/checkin/partial",
	  { 4, NAN, 3.0, 0 },
	  0,
	  "{\"mood\":4,\"energy\":3}" },
	{ "/payload/checkin/none", { NAN, NAN, NAN, T0 }, -EINVAL, NULL },
	{ "/payload/checkin/bad-time", { 1, NAN, NAN, -5 }, -EINVAL, NULL },
};

static void test_checkin(const void *data)
{
	const struct checkin_case *c = data;
	char sentinel[] = "untouched";
	char *json = sentinel;
	int rc = mqtt_payload_build_checkin(&c->in, &json);

	g_assert_cmpint(rc, ==, c->rc);
	if (rc == 0) {
		g_assert_cmpstr(json, ==, c->json);
		g_free(json);
	} else {
		g_assert_cmpstr(json, ==, "untouched");
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(bases); i++)
		g_test_add_data_func(bases[i].name, &bases[i], test_base);
	for (size_t i = 0; i < G_N_ELEMENTS(filters); i++)
		g_test_add_data_func(filters[i].name, &filters[i], test_filter);
	for (size_t i = 0; i < G_N_ELEMENTS(matches); i++)
		g_test_add_data_func(matches[i].name, &matches[i], test_match);
	for (size_t i = 0; i < G_N_ELEMENTS(users); i++)
		g_test_add_data_func(users[i].name, &users[i], test_user);
	for (size_t i = 0; i < G_N_ELEMENTS(addresses); i++)
		g_test_add_data_func(addresses[i].name, &addresses[i],
				     test_address);
	for (size_t i = 0; i < G_N_ELEMENTS(builders); i++)
		g_test_add_data_func(builders[i].name, &builders[i],
				     test_builder);
	for (size_t i = 0; i < G_N_ELEMENTS(parses); i++)
		g_test_add_data_func(parses[i].name, &parses[i], test_parse);
	for (size_t i = 0; i < G_N_ELEMENTS(lives); i++)
		g_test_add_data_func(lives[i].name, &lives[i], test_live);
	for (size_t i = 0; i < G_N_ELEMENTS(devices); i++)
		g_test_add_data_func(devices[i].name, &devices[i], test_device);
	for (size_t i = 0; i < G_N_ELEMENTS(alerts); i++)
		g_test_add_data_func(alerts[i].name, &alerts[i], test_alert);
	g_test_add_func("/payload/device/connection-names",
			test_connection_names);
	g_test_add_func("/payload/alert/text-bounds", test_alert_text_bounds);
	g_test_add_func("/payload/status", test_status);
	for (size_t i = 0; i < G_N_ELEMENTS(checkins); i++)
		g_test_add_data_func(checkins[i].name, &checkins[i],
				     test_checkin);
	for (size_t i = 0; i < G_N_ELEMENTS(gateways); i++)
		g_test_add_data_func(gateways[i].name, &gateways[i],
				     test_gateway);
	g_test_add_func("/topic/gateway", test_gateway_topic);
	return g_test_run();
}
