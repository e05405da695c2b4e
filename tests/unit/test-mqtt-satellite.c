// SPDX-License-Identifier: MIT
/*
 * mqtt/satellite.c and the satellite topics of mqtt/topic.c (DESIGN §13):
 * a batch of readings survives the round trip exactly (times to the ms,
 * RR to the bit), and every bad payload is refused whole with a message
 * that says what and where.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "mqtt/satellite.h"
#include "mqtt/topic.h"

static struct mqtt_satellite_reading reading(const char *device,
					     const char *user, int64_t t_ms,
					     enum mqtt_satellite_kind kind,
					     double v0, double v1, double v2)
{
	struct mqtt_satellite_reading r = {
		.t_ms = t_ms,
		.kind = kind,
		.v = { v0, v1, v2 },
	};

	g_strlcpy(r.device, device, sizeof(r.device));
	g_strlcpy(r.user, user, sizeof(r.user));
	return r;
}

static void assert_same_value(double a, double b)
{
	if (isnan(a))
		g_assert_true(isnan(b));
	else
		g_assert_cmpfloat(a, ==, b);
}

static void test_round_trip(void)
{
	const char *strap = "C4:7C:8D:6A:12:34";
	struct mqtt_satellite_reading in[] = {
		reading(strap, "alice", INT64_C(1764990000123),
			MQTT_SATELLITE_HEART_RATE, 52, NAN, NAN),
		/* 1180/1024 s: not a short decimal, must come back exact */
		reading(strap, "alice", INT64_C(1764990000124),
			MQTT_SATELLITE_RR, 1180.0 / 1024 * 1000, NAN, NAN),
		reading("A4:C1:38:00:00:02", "alice", INT64_C(1764990000500),
			MQTT_SATELLITE_BED, 1, NAN, NAN),
		reading("A4:C1:38:00:00:02", "alice", INT64_C(1764990000600),
			MQTT_SATELLITE_TEMPERATURE_C, 19.25, NAN, NAN),
		reading("5C:CA:D3:00:00:01", "bob", INT64_C(1764990000700),
			MQTT_SATELLITE_BODY, 81.35, NAN, 480),
	};
	g_autofree char *json = NULL;
	g_autofree char *why = NULL;
	g_autoptr(GArray) out =
	    g_array_new(FALSE, FALSE, sizeof(struct mqtt_satellite_reading));
	char name[MQTT_TOPIC_USER_MAX + 1] = "";

	g_assert_cmpint(
	    mqtt_satellite_encode("bedroom", in, G_N_ELEMENTS(in), &json), ==,
	    0);
	g_test_message("%s", json);
	/* The body reading leaves out what was not measured. */
	g_assert_null(strstr(json, "body_fat_pct"));
	g_assert_nonnull(strstr(json, "\"kind\":\"heart_rate\""));
	g_assert_cmpint(
	    mqtt_satellite_decode(json, strlen(json), out, name, &why), ==, 0);
	g_assert_null(why);
	g_assert_cmpstr(name, ==, "bedroom");
	g_assert_cmpuint(out->len, ==, G_N_ELEMENTS(in));
	for (guint i = 0; i < out->len; i++) {
		const struct mqtt_satellite_reading *r =
		    &g_array_index(out, struct mqtt_satellite_reading, i);

		g_assert_cmpstr(r->device, ==, in[i].device);
		g_assert_cmpstr(r->user, ==, in[i].user);
		g_assert_cmpint(r->t_ms, ==, in[i].t_ms);
		g_assert_cmpint(r->kind, ==, in[i].kind);
		for (int k = 0; k < 3; k++)
			assert_same_value(in[i].kind == MQTT_SATELLITE_BODY ||
						  k == 0
					      ? in[i].v[k]
					      : NAN,
					  r->v[k]);
	}
}

/* Lower-case addresses are read as upper case: the natural key is one. */
static void test_address_case(void)
{
	static const char json[] =
	    "{\"satellite\":\"hall\",\"readings\":[{\"device\":"
	    "\"c4:7c:8d:6a:12:34\",\"user\":\"alice\",\"t_ms\":1764990000000,"
	    "\"kind\":\"rr\",\"value\":1000}]}";
	g_autoptr(GArray) out =
	    g_array_new(FALSE, FALSE, sizeof(struct mqtt_satellite_reading));
	g_autofree char *why = NULL;
	char name[MQTT_TOPIC_USER_MAX + 1];

	g_assert_cmpint(
	    mqtt_satellite_decode(json, strlen(json), out, name, &why), ==, 0);
	g_assert_cmpstr(
	    g_array_index(out, struct mqtt_satellite_reading, 0).device, ==,
	    "C4:7C:8D:6A:12:34");
	g_assert_cmpfloat(
	    g_array_index(out, struct mqtt_satellite_reading, 0).v[0], ==,
	    1000);
}

static void test_encode_refuses(void)
{
	struct mqtt_satellite_reading good = reading(
	    "C4:7C:8D:6A:12:34", "alice", 1, MQTT_SATELLITE_RR, 900, NAN, NAN);
	struct mqtt_satellite_reading bad = good;
	char *json = NULL;

	g_assert_cmpint(mqtt_satellite_encode("bed/room", &good, 1, &json), ==,
			-EINVAL);
	bad.v[0] = NAN;
	g_assert_cmpint(mqtt_satellite_encode("bedroom", &bad, 1, &json), ==,
			-EINVAL);
	bad = good;
	bad.t_ms = 0;
	g_assert_cmpint(mqtt_satellite_encode("bedroom", &bad, 1, &json), ==,
			-EINVAL);
	bad = good;
	g_strlcpy(bad.device, "not an address", sizeof(bad.device));
	g_assert_cmpint(mqtt_satellite_encode("bedroom", &bad, 1, &json), ==,
			-EINVAL);
	bad = good;
	bad.kind = MQTT_SATELLITE_BODY;
	bad.v[0] = NAN;
	g_assert_cmpint(mqtt_satellite_encode("bedroom", &bad, 1, &json), ==,
			-EINVAL);
	g_assert_null(json);
}

struct bad_vector {
	const char *name;
	const char *json;
	int code;
	const char *fragment;
};

#define R(fields)                                                              \
	"{\"satellite\":\"hall\",\"readings\":[{\"device\":"                   \
	"\"C4:7C:8D:6A:12:34\",\"user\":\"alice\"," fields "}]}"

static const struct bad_vector bad_vectors[] = {
	{ "/mqtt-satellite/bad/not-json", "{", -EINVAL, "not JSON" },
	{ "/mqtt-satellite/bad/array", "[]", -EINVAL, "not a JSON object" },
	{ "/mqtt-satellite/bad/no-name", "{\"readings\":[]}", -EINVAL,
	  "satellite: missing" },
	{ "/mqtt-satellite/bad/name", "{\"satellite\":\"a/b\",\"readings\":[]}",
	  -EINVAL, "satellite: missing or not a satellite name" },
	{ "/mqtt-satellite/bad/no-readings", "{\"satellite\":\"hall\"}",
	  -EINVAL, "readings: missing" },
	{ "/mqtt-satellite/bad/reading-type",
	  "{\"satellite\":\"hall\",\"readings\":[1]}", -EINVAL,
	  "readings[0]: not an object" },
	{ "/mqtt-satellite/bad/device",
	  "{\"satellite\":\"hall\",\"readings\":[{\"device\":\"C4:7C\"}]}",
	  -EINVAL, "readings[0].device" },
	{ "/mqtt-satellite/bad/user",
	  "{\"satellite\":\"hall\",\"readings\":[{\"device\":"
	  "\"C4:7C:8D:6A:12:34\",\"user\":\"device\"}]}",
	  -EINVAL, "readings[0].user" },
	{ "/mqtt-satellite/bad/time-text",
	  R("\"t_ms\":\"now\",\"kind\":\"rr\",\"value\":1"), -EINVAL,
	  "readings[0].t_ms" },
	{ "/mqtt-satellite/bad/time-fraction",
	  R("\"t_ms\":1.5,\"kind\":\"rr\",\"value\":1"), -EINVAL,
	  "readings[0].t_ms" },
	{ "/mqtt-satellite/bad/time-negative",
	  R("\"t_ms\":-5,\"kind\":\"rr\",\"value\":1"), -EINVAL,
	  "readings[0].t_ms" },
	{ "/mqtt-satellite/bad/kind",
	  R("\"t_ms\":5,\"kind\":\"pulse\",\"value\":1"), -EINVAL,
	  "readings[0].kind: \"pulse\" is not a kind" },
	{ "/mqtt-satellite/bad/no-kind", R("\"t_ms\":5,\"value\":1"), -EINVAL,
	  "readings[0].kind: missing is not a kind" },
	{ "/mqtt-satellite/bad/value", R("\"t_ms\":5,\"kind\":\"rr\""), -EINVAL,
	  "readings[0].value" },
	{ "/mqtt-satellite/bad/value-text",
	  R("\"t_ms\":5,\"kind\":\"rr\",\"value\":\"1\""), -EINVAL,
	  "readings[0].value" },
	{ "/mqtt-satellite/bad/body-empty", R("\"t_ms\":5,\"kind\":\"body\""),
	  -EINVAL, "a body reading without" },
	{ "/mqtt-satellite/bad/body-text",
	  R("\"t_ms\":5,\"kind\":\"body\",\"weight_kg\":true"), -EINVAL,
	  "readings[0].weight_kg" },
};

static void test_bad(gconstpointer data)
{
	const struct bad_vector *v = data;
	g_autoptr(GArray) out =
	    g_array_new(FALSE, FALSE, sizeof(struct mqtt_satellite_reading));
	g_autofree char *why = NULL;
	char name[MQTT_TOPIC_USER_MAX + 1] = "untouched";

	g_assert_cmpint(
	    mqtt_satellite_decode(v->json, strlen(v->json), out, name, &why),
	    ==, v->code);
	g_test_message("%s", why);
	g_assert_nonnull(why);
	g_assert_nonnull(strstr(why, v->fragment));
	g_assert_null(strchr(why, '\n'));
	g_assert_cmpuint(out->len, ==, 0);
	g_assert_cmpstr(name, ==, "untouched");
}

/* One bad reading among good ones: nothing of the message is taken. */
static void test_whole_or_nothing(void)
{
	static const char json[] =
	    "{\"satellite\":\"hall\",\"readings\":["
	    "{\"device\":\"C4:7C:8D:6A:12:34\",\"user\":\"alice\","
	    "\"t_ms\":5,\"kind\":\"rr\",\"value\":1000},"
	    "{\"device\":\"C4:7C:8D:6A:12:34\",\"user\":\"alice\","
	    "\"t_ms\":6,\"kind\":\"rr\",\"value\":null}]}";
	g_autoptr(GArray) out =
	    g_array_new(FALSE, FALSE, sizeof(struct mqtt_satellite_reading));
	g_autofree char *why = NULL;
	char name[MQTT_TOPIC_USER_MAX + 1];

	g_assert_cmpint(
	    mqtt_satellite_decode(json, strlen(json), out, name, &why), ==,
	    -EINVAL);
	g_assert_nonnull(strstr(why, "readings[1].value"));
	g_assert_cmpuint(out->len, ==, 0);
}

static void test_limits(void)
{
	g_autoptr(GString) big = g_string_new("{\"satellite\":\"hall\","
					      "\"readings\":[");
	g_autoptr(GArray) out =
	    g_array_new(FALSE, FALSE, sizeof(struct mqtt_satellite_reading));
	g_autofree char *why = NULL;
	g_autofree char *why2 = NULL;
	g_autofree char *why3 = NULL;
	char name[MQTT_TOPIC_USER_MAX + 1];
	g_autofree char *huge = g_malloc0(MQTT_SATELLITE_MAX_BYTES + 1);
	static const char nul[] = "{\"satellite\":\"hall\"\0}";

	for (int i = 0; i <= MQTT_SATELLITE_MAX_READINGS; i++)
		g_string_append(big, i ? ",{}" : "{}");
	g_string_append(big, "]}");
	g_assert_cmpint(
	    mqtt_satellite_decode(big->str, big->len, out, name, &why), ==,
	    -E2BIG);
	g_assert_nonnull(strstr(why, "readings: 501 of them"));
	memset(huge, ' ', MQTT_SATELLITE_MAX_BYTES + 1);
	g_assert_cmpint(mqtt_satellite_decode(huge,
					      MQTT_SATELLITE_MAX_BYTES + 1, out,
					      name, &why2),
			==, -E2BIG);
	g_assert_cmpint(
	    mqtt_satellite_decode(nul, sizeof(nul) - 1, out, name, &why3), ==,
	    -EINVAL);
	g_assert_nonnull(strstr(why3, "NUL"));
	g_assert_cmpuint(out->len, ==, 0);
}

static void test_topics(void)
{
	g_autofree char *base =
	    mqtt_topic_satellite_base("recovery", "bedroom");
	g_autofree char *readings =
	    mqtt_topic_satellite_readings("home/recovery", "bath-1");
	g_autofree char *filter =
	    mqtt_topic_satellite_filter("recovery", "readings");
	g_autofree char *long_name = g_strnfill(MQTT_TOPIC_USER_MAX, 'x');
	g_autofree char *long_base = g_strnfill(MQTT_TOPIC_BASE_MAX - 5, 'b');
	char name[MQTT_TOPIC_USER_MAX + 1] = "";
	const char *leaf = NULL;

	g_assert_cmpstr(base, ==, "recovery/satellite/bedroom");
	g_assert_cmpstr(readings, ==,
			"home/recovery/satellite/bath-1/readings");
	g_assert_cmpstr(filter, ==, "recovery/satellite/+/readings");
	g_assert_null(mqtt_topic_satellite_base("recovery", "a/b"));
	g_assert_null(mqtt_topic_satellite_base("recovery", ""));
	g_assert_null(mqtt_topic_satellite_base(long_base, long_name));
	g_assert_null(mqtt_topic_satellite_filter("recovery", "a/b"));
	g_assert_true(mqtt_topic_satellite_name_valid("device"));
	g_assert_false(mqtt_topic_user_valid("satellite"));

	g_assert_true(mqtt_topic_parse_satellite(
	    "recovery", "recovery/satellite/bedroom/readings", name,
	    sizeof(name), &leaf));
	g_assert_cmpstr(name, ==, "bedroom");
	g_assert_cmpstr(leaf, ==, "readings");
	g_assert_true(mqtt_topic_parse_satellite(
	    "recovery", "recovery/satellite/bedroom/status", name, sizeof(name),
	    &leaf));
	g_assert_cmpstr(leaf, ==, "status");
	/* Deeper topics (its devices), other bases, bad names: not ours. */
	g_assert_false(mqtt_topic_parse_satellite(
	    "recovery", "recovery/satellite/bedroom/device/c47c8d6a1234", name,
	    sizeof(name), &leaf));
	g_assert_false(mqtt_topic_parse_satellite(
	    "recovery", "other/satellite/bedroom/readings", name, sizeof(name),
	    &leaf));
	g_assert_false(mqtt_topic_parse_satellite(
	    "recovery", "recovery/satellite/bed room/readings", name,
	    sizeof(name), &leaf));
	g_assert_false(mqtt_topic_parse_satellite("recovery",
						  "recovery/satellite/bedroom/",
						  name, sizeof(name), &leaf));
	g_assert_false(mqtt_topic_parse_satellite("recovery",
						  "recovery/satellite/bedroom",
						  name, sizeof(name), &leaf));
	g_assert_false(mqtt_topic_parse_satellite(
	    "recovery", "recovery/alice/live", name, sizeof(name), &leaf));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mqtt-satellite/round-trip", test_round_trip);
	g_test_add_func("/mqtt-satellite/address-case", test_address_case);
	g_test_add_func("/mqtt-satellite/encode-refuses", test_encode_refuses);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_vectors); i++)
		g_test_add_data_func(bad_vectors[i].name, &bad_vectors[i],
				     test_bad);
	g_test_add_func("/mqtt-satellite/whole-or-nothing",
			test_whole_or_nothing);
	g_test_add_func("/mqtt-satellite/limits", test_limits);
	g_test_add_func("/mqtt-satellite/topics", test_topics);
	return g_test_run();
}
