// SPDX-License-Identifier: MIT
/*
 * Inbound MQTT messages (DESIGN §7): the check-in, good ones and
 * mosquitto's negative taxonomy, and Home Assistant's birth message.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "mqtt/inbound.h"

#define NONE NAN

struct checkin_vector {
	const char *name;
	const char *payload;
	size_t len; /* 0: strlen(payload) */
	int ret;
	double mood, soreness, energy;
	const char *reason; /* substring of the reason when ret < 0 */
};

static const struct checkin_vector checkins[] = {
	/* Good ones. */
	{ "/inbound/checkin/all", "{\"mood\":4,\"soreness\":2,\"energy\":5}", 0,
	  0, 4, 2, 5 },
	{ "/inbound/checkin/one", "{\"mood\":1}", 0, 0, 1, NONE, NONE },
	{ "/inbound/checkin/ha-number", "{\"energy\": 3}", 0, 0, NONE, NONE,
	  3 },
	{ "/inbound/checkin/integral-double", "{\"soreness\":3.0}", 0, 0, NONE,
	  3, NONE },
	{ "/inbound/checkin/exponent", "{\"mood\":5e0}", 0, 0, 5, NONE, NONE },
	{ "/inbound/checkin/unknown-keys-ignored",
	  "{\"mood\":2,\"note\":\"tired\",\"v\":2,\"x\":{\"y\":[1,{}]}}", 0, 0,
	  2, NONE, NONE },
	{ "/inbound/checkin/whitespace", " \n{ \"mood\" : 3 }\t\n", 0, 0, 3,
	  NONE, NONE },
	{ "/inbound/checkin/repeated-key-last-wins", "{\"mood\":1,\"mood\":4}",
	  0, 0, 4, NONE, NONE },
	{ "/inbound/checkin/utf8-unknown-key",
	  "{\"Stimmung\xc3\xa4\":9,\"mood\":3}", 0, 0, 3, NONE, NONE },

	/* Size, encoding, syntax. */
	{ "/inbound/checkin/empty", "", 0, -EBADMSG, .reason = "empty" },
	{ "/inbound/checkin/not-utf8", "{\"mood\":3,\"x\":\"\xff\"}", 0,
	  -EBADMSG, .reason = "not UTF-8" },
	{ "/inbound/checkin/nul-inside", "{\"mood\":3}\0junk", 15, -EBADMSG,
	  .reason = "not UTF-8" },
	{ "/inbound/checkin/not-json", "mood=3", 0, -EBADMSG,
	  .reason = "not JSON" },
	{ "/inbound/checkin/truncated", "{\"mood\":3", 0, -EBADMSG,
	  .reason = "not JSON" },
	{ "/inbound/checkin/trailing-comma", "{\"mood\":3,}", 0, -EBADMSG,
	  .reason = "not JSON" },
	/* json-glib quotes the token: the reason stays one line. */
	{ "/inbound/checkin/parse-error-one-line", "{\"mo\nod\" 3}", 0,
	  -EBADMSG, .reason = "not JSON" },
	{ "/inbound/checkin/whitespace-only", "  \n", 0, -EBADMSG,
	  .reason = "not JSON" },
	{ "/inbound/checkin/array", "[{\"mood\":3}]", 0, -EBADMSG,
	  .reason = "expected a JSON object, got an array" },
	{ "/inbound/checkin/number", "3", 0, -EBADMSG,
	  .reason = "expected a JSON object, got a number" },
	{ "/inbound/checkin/string", "\"mood\"", 0, -EBADMSG,
	  .reason = "expected a JSON object, got a string" },
	{ "/inbound/checkin/null", "null", 0, -EBADMSG,
	  .reason = "expected a JSON object, got null" },

	/* One object and nothing after it: json-glib takes the first of two
	 * objects (or an object and an array) as the whole message. */
	{ "/inbound/checkin/trailing-object", "{\"mood\":3} {\"mood\":4}", 0,
	  -EBADMSG,
	  .reason = "'{\"mood\":4}' after the JSON value (expected one object "
		    "and nothing after it)" },
	{ "/inbound/checkin/trailing-array", "{\"mood\":3} []", 0, -EBADMSG,
	  .reason = "'[]' after the JSON value" },
	{ "/inbound/checkin/trailing-garbage", "{\"mood\":3}x", 0, -EBADMSG,
	  .reason = "not JSON" },
	{ "/inbound/checkin/trailing-brace", "{\"mood\":3}}", 0, -EBADMSG,
	  .reason = "not JSON" },
	{ "/inbound/checkin/array-then-object", "[1] {\"mood\":3}", 0, -EBADMSG,
	  .reason = "'{\"mood\":3}' after the JSON value" },
	{ "/inbound/checkin/close-first", "}{\"mood\":3}", 0, -EBADMSG,
	  .reason = "not JSON" },
	{ "/inbound/checkin/trailing-whitespace-ok", "{\"mood\":3}\r\n \t", 0,
	  0, 3, NONE, NONE },
	{ "/inbound/checkin/brace-in-string",
	  "{\"note\":\"}{\\\"\",\"mood\":2}", 0, 0, 2, NONE, NONE },

	/* Wrong types for a known key. */
	{ "/inbound/checkin/type-string", "{\"mood\":\"3\"}", 0, -EBADMSG,
	  .reason = "mood is a string (expected a whole number 1-5)" },
	{ "/inbound/checkin/type-bool", "{\"energy\":true}", 0, -EBADMSG,
	  .reason = "energy is a boolean (expected a whole number 1-5)" },
	{ "/inbound/checkin/type-null", "{\"soreness\":null}", 0, -EBADMSG,
	  .reason = "soreness is null" },
	{ "/inbound/checkin/type-array", "{\"mood\":[3]}", 0, -EBADMSG,
	  .reason = "mood is an array" },
	{ "/inbound/checkin/type-object-nested",
	  "{\"mood\":{\"value\":3,\"deep\":{\"x\":[[[]]]}}}", 0, -EBADMSG,
	  .reason = "mood is an object" },
	/* One bad key refuses the whole message: nothing is half-stored. */
	{ "/inbound/checkin/one-bad-key", "{\"mood\":3,\"energy\":\"high\"}", 0,
	  -EBADMSG, .reason = "energy is a string" },

	/* Out of range, fractional. */
	{ "/inbound/checkin/range-high", "{\"mood\":7}", 0, -EINVAL,
	  .reason = "mood 7 is out of range (expected a whole number 1-5)" },
	{ "/inbound/checkin/range-zero", "{\"soreness\":0}", 0, -EINVAL,
	  .reason = "soreness 0 is out of range" },
	{ "/inbound/checkin/range-negative", "{\"energy\":-3}", 0, -EINVAL,
	  .reason = "energy -3 is out of range" },
	{ "/inbound/checkin/range-double", "{\"mood\":6.0}", 0, -EINVAL,
	  .reason = "mood 6 is out of range" },
	{ "/inbound/checkin/range-huge", "{\"mood\":9007199254740993}", 0,
	  -EINVAL, .reason = "is out of range" },
	/* Beyond 64 bits json-glib wraps an integer (this one read as 1):
	 * refused, with the number as it was sent. */
	{ "/inbound/checkin/range-wraps-to-1",
	  "{\"mood\":-99999999999999999999}", 0, -EINVAL,
	  .reason = "mood -99999999999999999999 is out of range" },
	{ "/inbound/checkin/range-2-64-plus-3",
	  "{\"energy\":18446744073709551619}", 0, -EINVAL,
	  .reason = "energy 18446744073709551619 is out of range" },
	{ "/inbound/checkin/range-int64-max", "{\"mood\":9223372036854775807}",
	  0, -EINVAL, .reason = "mood 9223372036854775807 is out of range" },
	{ "/inbound/checkin/range-escaped-key",
	  "{\"m\\u006fod\":-99999999999999999999}", 0, -EINVAL,
	  .reason = "mood -99999999999999999999 is out of range" },
	{ "/inbound/checkin/range-repeated-key",
	  "{\"mood\":3,\"mood\":-99999999999999999999}", 0, -EINVAL,
	  .reason = "is out of range" },
	{ "/inbound/checkin/fraction", "{\"mood\":2.5}", 0, -EINVAL,
	  .reason = "mood 2.5 is not a whole number (expected a whole number "
		    "1-5)" },
	{ "/inbound/checkin/fraction-tiny", "{\"energy\":4.000001}", 0, -EINVAL,
	  .reason = "energy 4.000001 is not a whole number" },
	{ "/inbound/checkin/range-exponent", "{\"mood\":1e300}", 0, -EINVAL,
	  .reason = "is out of range" },

	/* Nothing known. */
	{ "/inbound/checkin/empty-object", "{}", 0, -ENODATA,
	  .reason = "no mood, soreness or energy" },
	{ "/inbound/checkin/unknown-only", "{\"Mood\":3,\"sleep\":5}", 0,
	  -ENODATA, .reason = "no mood, soreness or energy" },
	{ "/inbound/checkin/nested-known",
	  "{\"checkin\":{\"mood\":3,\"energy\":4}}", 0, -ENODATA,
	  .reason = "no mood, soreness or energy" },
};

static bool same(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static void test_checkin(gconstpointer data)
{
	const struct checkin_vector *v = data;
	size_t len = v->len ? v->len : strlen(v->payload);
	struct mqtt_checkin c = { 42, 42, 42 };
	g_autofree char *reason = NULL;
	int r = mqtt_inbound_parse_checkin(v->payload, len, &c, &reason);

	g_assert_cmpint(r, ==, v->ret);
	if (r < 0) {
		g_assert_nonnull(reason);
		g_assert_null(strchr(reason, '\n'));
		if (!strstr(reason, v->reason))
			g_error("reason \"%s\" lacks \"%s\"", reason,
				v->reason);
		/* Untouched on failure. */
		g_assert_cmpfloat(c.mood, ==, 42);
		g_assert_cmpfloat(c.soreness, ==, 42);
		g_assert_cmpfloat(c.energy, ==, 42);
		return;
	}
	g_assert_null(reason);
	g_assert_true(same(c.mood, v->mood));
	g_assert_true(same(c.soreness, v->soreness));
	g_assert_true(same(c.energy, v->energy));
}

/* The size limit, on either side of it, with valid JSON padded by
 * whitespace so only the size can refuse it. */
static void test_checkin_size(void)
{
	static const size_t sizes[] = { 1023, 1024, 1025, 65536 };

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_autofree char *payload = g_malloc(sizes[i]);
		g_autofree char *reason = NULL;
		struct mqtt_checkin c;
		int r;

		memset(payload, ' ', sizes[i]);
		memcpy(payload, "{\"mood\":3}", 10);
		r = mqtt_inbound_parse_checkin(payload, sizes[i], &c, &reason);
		if (sizes[i] <= MQTT_INBOUND_CHECKIN_MAX) {
			g_assert_cmpint(r, ==, 0);
			g_assert_cmpfloat(c.mood, ==, 3);
		} else {
			g_assert_cmpint(r, ==, -E2BIG);
			g_assert_nonnull(strstr(reason, "1024-byte limit"));
		}
	}
}

/* A long number is shown cut, with its length. */
static void test_checkin_long_number(void)
{
	g_autoptr(GString) payload = g_string_new("{\"mood\":-");
	g_autofree char *reason = NULL;
	struct mqtt_checkin c;

	for (int i = 0; i < 900; i++)
		g_string_append_c(payload, '9');
	g_string_append_c(payload, '}');
	g_assert_cmpint(
	    mqtt_inbound_parse_checkin(payload->str, payload->len, &c, &reason),
	    ==, -EINVAL);
	g_test_message("%s", reason);
	g_assert_nonnull(strstr(reason, "... (901 bytes) is out of range"));
	g_assert_cmpuint(strlen(reason), <, 200);
}

/* A caller that only wants the verdict passes no reason. */
static void test_checkin_no_reason(void)
{
	struct mqtt_checkin c;

	g_assert_cmpint(
	    mqtt_inbound_parse_checkin("{\"mood\":9}", 10, &c, NULL), ==,
	    -EINVAL);
	g_assert_cmpint(
	    mqtt_inbound_parse_checkin("{\"mood\":2}", 10, &c, NULL), ==, 0);
	g_assert_cmpfloat(c.mood, ==, 2);
}

struct online_vector {
	const char *name;
	const char *payload;
	size_t len; /* 0: strlen(payload) */
	bool online;
};

static const struct online_vector onlines[] = {
	{ "/inbound/ha-status/online", "online", 0, true },
	{ "/inbound/ha-status/newline", "online\n", 0, true },
	{ "/inbound/ha-status/spaces", " \t online \r\n", 0, true },
	{ "/inbound/ha-status/not-terminated", "online!", 6, true },
	{ "/inbound/ha-status/offline", "offline", 0, false },
	{ "/inbound/ha-status/case", "Online", 0, false },
	{ "/inbound/ha-status/empty", "", 0, false },
	{ "/inbound/ha-status/prefix", "onlin", 0, false },
	{ "/inbound/ha-status/suffix", "onlinex", 0, false },
	{ "/inbound/ha-status/inner-space", "on line", 0, false },
	{ "/inbound/ha-status/json", "{\"state\":\"online\"}", 0, false },
	{ "/inbound/ha-status/nul", "online\0", 7, false },
	{ "/inbound/ha-status/long-padding",
	  "online                                                           ",
	  0, false },
};

static void test_online(gconstpointer data)
{
	const struct online_vector *v = data;
	size_t len = v->len ? v->len : strlen(v->payload);

	g_assert_cmpint(mqtt_inbound_is_ha_online(v->payload, len), ==,
			v->online);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(checkins); i++)
		g_test_add_data_func(checkins[i].name, &checkins[i],
				     test_checkin);
	for (size_t i = 0; i < G_N_ELEMENTS(onlines); i++)
		g_test_add_data_func(onlines[i].name, &onlines[i], test_online);
	g_test_add_func("/inbound/checkin/size", test_checkin_size);
	g_test_add_func("/inbound/checkin/no-reason", test_checkin_no_reason);
	g_test_add_func("/inbound/checkin/long-number",
			test_checkin_long_number);
	return g_test_run();
}
