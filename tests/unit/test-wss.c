// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "tests/unit/hex.h"
#include "sensors/wss.h"

/* 2024-03-15 07:30:45 as a Date Time */
#define TS "e8 07 03 0f 07 1e 2d"
#define TS_VALUE                                                               \
	{                                                                      \
		2024, 3, 15, 7, 30, 45                                         \
	}

struct wm_vector {
	const char *name;
	const char *hex;
	enum mass_unit unit;
	uint16_t weight_raw;
	bool unsuccessful;
	bool has_timestamp;
	struct ble_date_time timestamp;
	int user_id; /* -1: absent */
	bool has_bmi_height;
	uint16_t bmi_raw;
	uint16_t height_raw;
	double weight_kg;
	double height_m;
};

/*
 * Valid vectors built from the GSS Weight Measurement field table: 75.0 kg
 * is 15000 * 0.005 kg, 165.35 lb is 16535 * 0.01 lb, 1.750 m is 1750 *
 * 0.001 m, 68.9 in is 689 * 0.1 in, BMI 24.5 is 245 * 0.1.
 */
static const struct wm_vector valid[] = {
	{ "/wss/si/weight-only", "00 98 3a", MASS_UNIT_KG, 15000, .user_id = -1,
	  .weight_kg = 75.0 },
	{ "/wss/imperial/weight-only", "01 97 40", MASS_UNIT_LB, 16535,
	  .user_id = -1, .weight_kg = 165.35 * 0.45359237 },
	{ "/wss/si/timestamp", "02 98 3a " TS, MASS_UNIT_KG, 15000,
	  .has_timestamp = true, .timestamp = TS_VALUE, .user_id = -1,
	  .weight_kg = 75.0 },
	{ "/wss/si/user", "04 98 3a 03", MASS_UNIT_KG, 15000, .user_id = 3,
	  .weight_kg = 75.0 },
	{ "/wss/si/user-unknown", "04 98 3a ff", MASS_UNIT_KG, 15000,
	  .user_id = WSS_USER_UNKNOWN, .weight_kg = 75.0 },
	{ "/wss/si/bmi-height", "08 98 3a f5 00 d6 06", MASS_UNIT_KG, 15000,
	  .user_id = -1, .has_bmi_height = true, .bmi_raw = 245,
	  .height_raw = 1750, .weight_kg = 75.0, .height_m = 1.75 },
	{ "/wss/si/timestamp-user-bmi", "0e 98 3a " TS " 02 f5 00 d6 06",
	  MASS_UNIT_KG, 15000, .has_timestamp = true, .timestamp = TS_VALUE,
	  .user_id = 2, .has_bmi_height = true, .bmi_raw = 245,
	  .height_raw = 1750, .weight_kg = 75.0, .height_m = 1.75 },
	{ "/wss/imperial/timestamp-user-bmi", "0f 97 40 " TS " ff f5 00 b1 02",
	  MASS_UNIT_LB, 16535, .has_timestamp = true, .timestamp = TS_VALUE,
	  .user_id = WSS_USER_UNKNOWN, .has_bmi_height = true, .bmi_raw = 245,
	  .height_raw = 689, .weight_kg = 165.35 * 0.45359237,
	  .height_m = 68.9 * 0.0254 },
	{ "/wss/si/zero", "00 00 00", MASS_UNIT_KG, 0, .user_id = -1 },
	/* 0xFFFE is the largest real weight: 327.67 kg. */
	{ "/wss/si/max", "00 fe ff", MASS_UNIT_KG, 0xfffe, .user_id = -1,
	  .weight_kg = 327.67 },
	/* openScale's Beurer BF1000 handler test sends 72.5 kg, nothing else.
	 */
	{ "/wss/si/openscale-beurer-bf1000", "00 a4 38", MASS_UNIT_KG, 14500,
	  .user_id = -1, .weight_kg = 72.5 },
	/* 0xFFFF: Measurement Unsuccessful; Time Stamp and User ID may stay. */
	{ "/wss/unsuccessful/si", "00 ff ff", MASS_UNIT_KG, 0xffff, true,
	  .user_id = -1, .weight_kg = 327.675 },
	{ "/wss/unsuccessful/imperial", "01 ff ff", MASS_UNIT_LB, 0xffff, true,
	  .user_id = -1, .weight_kg = 655.35 * 0.45359237 },
	{ "/wss/unsuccessful/timestamp-user", "06 ff ff " TS " 01",
	  MASS_UNIT_KG, 0xffff, true, .has_timestamp = true,
	  .timestamp = TS_VALUE, .user_id = 1, .weight_kg = 327.675 },
	/* The spec says BMI/height shall be absent then; flags still rule. */
	{ "/wss/unsuccessful/bmi-read-as-sent", "08 ff ff f5 00 d6 06",
	  MASS_UNIT_KG, 0xffff, true, .user_id = -1, .has_bmi_height = true,
	  .bmi_raw = 245, .height_raw = 1750, .weight_kg = 327.675,
	  .height_m = 1.75 },
	/* Reserved flag bits 4-7 are for future use: ignored, not rejected. */
	{ "/wss/reserved-bits-ignored", "f0 98 3a", MASS_UNIT_KG, 15000,
	  .user_id = -1, .weight_kg = 75.0 },
	{ "/wss/reserved-bits-with-fields", "fc 98 3a 05 f5 00 d6 06",
	  MASS_UNIT_KG, 15000, .user_id = 5, .has_bmi_height = true,
	  .bmi_raw = 245, .height_raw = 1750, .weight_kg = 75.0,
	  .height_m = 1.75 },
	/* Bytes after the last announced field may be a later revision's. */
	{ "/wss/trailing-ignored", "00 98 3a 00 11 22", MASS_UNIT_KG, 15000,
	  .user_id = -1, .weight_kg = 75.0 },
	{ "/wss/trailing-after-all-fields", "0e 98 3a " TS " 02 f5 00 d6 06 ee",
	  MASS_UNIT_KG, 15000, .has_timestamp = true, .timestamp = TS_VALUE,
	  .user_id = 2, .has_bmi_height = true, .bmi_raw = 245,
	  .height_raw = 1750, .weight_kg = 75.0, .height_m = 1.75 },
	/* Timestamps are kept whatever their values: an unset clock... */
	{ "/wss/timestamp/unknown-kept", "02 98 3a 00 00 00 00 00 00 00",
	  MASS_UNIT_KG, 15000, .has_timestamp = true, .user_id = -1,
	  .weight_kg = 75.0 },
	/* ...or a broken one. */
	{ "/wss/timestamp/out-of-range-kept", "02 98 3a ff ff 0d 20 18 3c 3c",
	  MASS_UNIT_KG, 15000, .has_timestamp = true,
	  .timestamp = { 0xffff, 13, 32, 24, 60, 60 }, .user_id = -1,
	  .weight_kg = 75.0 },
};

static void test_valid(gconstpointer data)
{
	const struct wm_vector *v = data;
	struct wss_measurement m;
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&m, 0xa5, sizeof(m));
	g_assert_cmpint(wss_parse_measurement(buf, len, &m, &err), ==, 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_NONE);
	g_assert_cmpint(m.weight.unit, ==, v->unit);
	g_assert_cmpuint(m.weight.raw, ==, v->weight_raw);
	g_assert_cmpint(m.weight_unsuccessful, ==, v->unsuccessful);
	g_assert_cmpfloat_with_epsilon(mass_kg(m.weight), v->weight_kg, 1e-9);

	g_assert_cmpint(m.has_timestamp, ==, v->has_timestamp);
	if (v->has_timestamp) {
		g_assert_cmpuint(m.timestamp.year, ==, v->timestamp.year);
		g_assert_cmpuint(m.timestamp.month, ==, v->timestamp.month);
		g_assert_cmpuint(m.timestamp.day, ==, v->timestamp.day);
		g_assert_cmpuint(m.timestamp.hours, ==, v->timestamp.hours);
		g_assert_cmpuint(m.timestamp.minutes, ==, v->timestamp.minutes);
		g_assert_cmpuint(m.timestamp.seconds, ==, v->timestamp.seconds);
	}

	g_assert_cmpint(m.has_user, ==, v->user_id >= 0);
	if (v->user_id >= 0)
		g_assert_cmpuint(m.user_id, ==, v->user_id);

	g_assert_cmpint(m.has_bmi_height, ==, v->has_bmi_height);
	if (v->has_bmi_height) {
		g_assert_cmpuint(m.bmi_raw, ==, v->bmi_raw);
		g_assert_cmpuint(m.height_raw, ==, v->height_raw);
	}
	g_assert_cmpfloat_with_epsilon(wss_height_m(&m), v->height_m, 1e-9);
}

struct bad_vector {
	const char *name;
	const char *hex;
	const char *field;
	size_t offset;
	size_t need, left;
};

/* Truncated at each field boundary, and in the middle of each field. */
static const struct bad_vector invalid[] = {
	{ "/wss/bad/empty", "", "flags", 0, 1, 0 },
	{ "/wss/bad/no-weight", "00", "weight", 1, 2, 0 },
	{ "/wss/bad/half-weight", "00 98", "weight", 1, 2, 1 },
	{ "/wss/bad/no-timestamp", "02 98 3a", "timestamp", 3, 7, 0 },
	{ "/wss/bad/short-timestamp", "02 98 3a e8 07 03 0f 07 1e", "timestamp",
	  3, 7, 6 },
	{ "/wss/bad/no-user", "04 98 3a", "user id", 3, 1, 0 },
	{ "/wss/bad/no-user-after-timestamp", "06 98 3a " TS, "user id", 10, 1,
	  0 },
	{ "/wss/bad/no-bmi", "08 98 3a", "bmi", 3, 2, 0 },
	{ "/wss/bad/half-bmi", "08 98 3a f5", "bmi", 3, 2, 1 },
	{ "/wss/bad/no-height", "08 98 3a f5 00", "height", 5, 2, 0 },
	{ "/wss/bad/half-height", "08 98 3a f5 00 d6", "height", 5, 2, 1 },
	{ "/wss/bad/half-height-after-all", "0e 98 3a " TS " 02 f5 00 d6",
	  "height", 13, 2, 1 },
	{ "/wss/bad/unsuccessful-short-timestamp", "06 ff ff e8 07",
	  "timestamp", 3, 7, 2 },
};

static void test_invalid(gconstpointer data)
{
	const struct bad_vector *v = data;
	struct wss_measurement m, untouched;
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&m, 0xa5, sizeof(m));
	untouched = m;
	g_assert_cmpint(wss_parse_measurement(buf, len, &m, &err), ==,
			-EBADMSG);
	g_assert_true(memcmp(&m, &untouched, sizeof(m)) == 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_TRUNCATED);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	g_assert_cmpuint(err.need, ==, v->need);
	g_assert_cmpuint(err.left, ==, v->left);
}

/*
 * Every strict prefix of the longest value fails, naming the field the cut
 * falls in: flags [0], weight [1,3), time stamp [3,10), user id [10],
 * bmi [11,13), height [13,15).
 */
static void test_every_prefix(void)
{
	static const struct {
		size_t start;
		const char *field;
	} fields[] = {
		{ 0, "flags" },	   { 1, "weight" }, { 3, "timestamp" },
		{ 10, "user id" }, { 11, "bmi" },   { 13, "height" },
		{ 15, NULL },
	};
	uint8_t buf[32];
	size_t full =
	    test_hex("0e 98 3a " TS " 02 f5 00 d6 06", buf, sizeof(buf));

	g_assert_cmpuint(full, ==, 15);
	for (size_t len = 0; len < full; len++) {
		struct wss_measurement m, untouched;
		struct parse_error err = { 0 };
		size_t i = 0;

		while (fields[i + 1].start <= len)
			i++;
		memset(&m, 0x5a, sizeof(m));
		untouched = m;
		g_assert_cmpint(wss_parse_measurement(buf, len, &m, &err), ==,
				-EBADMSG);
		g_assert_true(memcmp(&m, &untouched, sizeof(m)) == 0);
		g_assert_cmpstr(err.field, ==, fields[i].field);
		g_assert_cmpuint(err.offset, ==, fields[i].start);
		g_assert_cmpuint(err.left, ==, len - fields[i].start);
		g_assert_cmpuint(err.need, ==,
				 fields[i + 1].start - fields[i].start);
	}
}

static void test_error_text(void)
{
	struct wss_measurement m;
	struct parse_error err = { 0 };
	uint8_t buf[16];
	size_t len = test_hex("06 ff ff e8 07", buf, sizeof(buf));
	char msg[128];

	g_assert_cmpint(wss_parse_measurement(buf, len, &m, &err), ==,
			-EBADMSG);
	parse_error_format(&err, msg, sizeof(msg));
	g_assert_cmpstr(msg, ==,
			"truncated at offset 3 reading timestamp "
			"(7 bytes needed, 2 left)");
}

/* NULL data with no length is an empty value, not a crash. */
static void test_null(void)
{
	struct wss_measurement m;
	struct wss_feature f;
	struct parse_error err = { 0 };

	g_assert_cmpint(wss_parse_measurement(NULL, 0, &m, &err), ==, -EBADMSG);
	g_assert_cmpstr(err.field, ==, "flags");
	g_assert_cmpint(wss_parse_feature(NULL, 0, &f, NULL), ==, -EBADMSG);
}

static void test_height_absent(void)
{
	struct wss_measurement m = { .height_raw = 1750 };

	/* Without bit 3 the height field is meaningless, whatever it holds. */
	g_assert_cmpfloat(wss_height_m(&m), ==, 0.0);
	m.has_bmi_height = true;
	g_assert_cmpfloat_with_epsilon(wss_height_m(&m), 1.75, 1e-12);
	m.weight.unit = MASS_UNIT_LB;
	g_assert_cmpfloat_with_epsilon(wss_height_m(&m), 175.0 * 0.0254, 1e-12);
}

struct feature_vector {
	const char *name;
	const char *hex;
	bool timestamp, users, bmi;
	uint8_t weight_resolution;
	uint8_t height_resolution;
};

/* Weight resolution is bits 3-6, height resolution bits 7-9. */
static const struct feature_vector features[] = {
	{ "/wss/feature/none", "00 00 00 00" },
	{ "/wss/feature/timestamp", "01 00 00 00", true },
	{ "/wss/feature/users", "02 00 00 00", false, true },
	{ "/wss/feature/bmi", "04 00 00 00", false, false, true },
	/* 1 << 3 | 1 << 7: 0.5 kg / 1 lb and 0.01 m / 1 in */
	{ "/wss/feature/coarsest", "88 00 00 00", false, false, false, 1, 1 },
	/* 4 << 3 | 2 << 7 */
	{ "/wss/feature/res-4-2", "20 01 00 00", false, false, false, 4, 2 },
	/* 0x07 | 7 << 3 | 3 << 7 = 0x1bf: everything, finest resolutions */
	{ "/wss/feature/all-finest", "bf 01 00 00", true, true, true, 7, 3 },
	/* Bits 10-31 are reserved for future use: ignored. */
	{ "/wss/feature/reserved-bits-ignored", "bf fd ff ff", true, true, true,
	  7, 3 },
	{ "/wss/feature/trailing-ignored", "bf 01 00 00 aa", true, true, true,
	  7, 3 },
};

static void test_feature(gconstpointer data)
{
	const struct feature_vector *v = data;
	struct wss_feature f;
	struct parse_error err = { 0 };
	uint8_t buf[16];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&f, 0xa5, sizeof(f));
	g_assert_cmpint(wss_parse_feature(buf, len, &f, &err), ==, 0);
	g_assert_cmpint(f.timestamp_supported, ==, v->timestamp);
	g_assert_cmpint(f.multiple_users_supported, ==, v->users);
	g_assert_cmpint(f.bmi_supported, ==, v->bmi);
	g_assert_cmpuint(f.weight_resolution, ==, v->weight_resolution);
	g_assert_cmpuint(f.height_resolution, ==, v->height_resolution);
}

struct bad_feature_vector {
	const char *name;
	const char *hex;
	int error;
	enum parse_fault fault;
	const char *field;
	uint32_t value;
	size_t need, left;
};

static const struct bad_feature_vector bad_features[] = {
	{ "/wss/feature/bad/empty", "", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "weight scale feature", 0, 4, 0 },
	{ "/wss/feature/bad/short", "bf 01 00", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "weight scale feature", 0, 4, 3 },
	{ "/wss/feature/bad/weight-res-8", "40 00 00 00", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "weight measurement resolution", 8 },
	{ "/wss/feature/bad/weight-res-15", "78 00 00 00", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "weight measurement resolution", 15 },
	{ "/wss/feature/bad/height-res-4", "00 02 00 00", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "height measurement resolution", 4 },
	{ "/wss/feature/bad/height-res-7", "80 03 00 00", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "height measurement resolution", 7 },
	/* Both reserved: the weight resolution comes first in the value. */
	{ "/wss/feature/bad/both-reserved", "f8 03 00 00", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "weight measurement resolution", 15 },
};

static void test_bad_feature(gconstpointer data)
{
	const struct bad_feature_vector *v = data;
	struct wss_feature f, untouched;
	struct parse_error err = { 0 };
	uint8_t buf[16];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	char msg[160];

	memset(&f, 0xa5, sizeof(f));
	untouched = f;
	g_assert_cmpint(wss_parse_feature(buf, len, &f, &err), ==, v->error);
	g_assert_true(memcmp(&f, &untouched, sizeof(f)) == 0);
	g_assert_cmpint(err.fault, ==, v->fault);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, 0);
	if (v->fault == PARSE_FAULT_TRUNCATED) {
		g_assert_cmpuint(err.need, ==, v->need);
		g_assert_cmpuint(err.left, ==, v->left);
	} else {
		g_assert_cmpuint(err.value, ==, v->value);
		g_assert_nonnull(err.expected);
		g_assert_nonnull(strstr(err.expected, "reserved"));
	}
	g_assert_cmpint(parse_error_format(&err, msg, sizeof(msg)), >, 0);
}

/* GSS Weight Scale Feature resolution tables, value 0 to 7 / 0 to 3. */
static void test_resolutions(void)
{
	static const double kg[] = {
		0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005
	};
	static const double lb[] = { 0, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01 };
	static const double m[] = { 0, 0.01, 0.005, 0.001 };
	static const double in[] = { 0, 1, 0.5, 0.1 };

	for (uint8_t i = 0; i < G_N_ELEMENTS(kg); i++) {
		g_assert_cmpfloat(wss_weight_resolution_kg(i), ==, kg[i]);
		g_assert_cmpfloat(wss_weight_resolution_lb(i), ==, lb[i]);
	}
	for (uint8_t i = 0; i < G_N_ELEMENTS(m); i++) {
		g_assert_cmpfloat(wss_height_resolution_m(i), ==, m[i]);
		g_assert_cmpfloat(wss_height_resolution_in(i), ==, in[i]);
	}
	/* Reserved values have no resolution. */
	g_assert_cmpfloat(wss_weight_resolution_kg(8), ==, 0.0);
	g_assert_cmpfloat(wss_weight_resolution_lb(255), ==, 0.0);
	g_assert_cmpfloat(wss_height_resolution_m(4), ==, 0.0);
	g_assert_cmpfloat(wss_height_resolution_in(7), ==, 0.0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
		g_test_add_data_func(valid[i].name, &valid[i], test_valid);
	for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
		g_test_add_data_func(invalid[i].name, &invalid[i],
				     test_invalid);
	for (size_t i = 0; i < G_N_ELEMENTS(features); i++)
		g_test_add_data_func(features[i].name, &features[i],
				     test_feature);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_features); i++)
		g_test_add_data_func(bad_features[i].name, &bad_features[i],
				     test_bad_feature);
	g_test_add_func("/wss/bad/every-prefix", test_every_prefix);
	g_test_add_func("/wss/bad/error-text", test_error_text);
	g_test_add_func("/wss/bad/null", test_null);
	g_test_add_func("/wss/height-m", test_height_absent);
	g_test_add_func("/wss/feature/resolutions", test_resolutions);
	return g_test_run();
}
