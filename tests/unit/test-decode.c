// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "sensors/decode.h"
#include "tests/unit/hex.h"

struct uuid_vector {
	const char *name;
	const char *text;
	int result;
	enum decode_uuid uuid;
};

static const struct uuid_vector uuids[] = {
	{ "/decode/uuid/short-lower", "2a37", 0, DECODE_UUID_HEART_RATE },
	{ "/decode/uuid/short-upper-0x", "0x2A9D", 0, DECODE_UUID_WEIGHT },
	{ "/decode/uuid/service-data", "fcd2", 0, DECODE_UUID_BTHOME },
	{ "/decode/uuid/128-bit", "0000181b-0000-1000-8000-00805F9B34FB", 0,
	  DECODE_UUID_MISCALE_V2 },
	{ "/decode/uuid/known-but-not-decoded", "2a00", -ENOENT },
	{ "/decode/uuid/vendor-128-bit", "6e400001-b5a3-f393-e0a9-e50e24dcca9e",
	  -ENOENT },
	{ "/decode/uuid/32-bit-in-base", "12342a37-0000-1000-8000-00805f9b34fb",
	  -ENOENT },
	{ "/decode/uuid/too-short", "2a3", -EINVAL },
	{ "/decode/uuid/not-hex", "2x37", -EINVAL },
	{ "/decode/uuid/empty", "", -EINVAL },
	{ "/decode/uuid/bare-0x", "0x", -EINVAL },
	{ "/decode/uuid/128-bad-dash", "00002a37x0000-1000-8000-00805f9b34fb",
	  -EINVAL },
};

static void test_uuid(gconstpointer data)
{
	const struct uuid_vector *v = data;
	enum decode_uuid uuid = 0;

	g_assert_cmpint(decode_uuid_parse(v->text, &uuid), ==, v->result);
	if (v->result == 0) {
		g_assert_cmpint(uuid, ==, v->uuid);
		g_assert_nonnull(decode_uuid_name(uuid));
	} else {
		g_assert_cmpint(uuid, ==, 0);
	}
}

struct hex_vector {
	const char *name;
	const char *text;
	int result;
	size_t len;
	size_t bad_offset;
};

static const struct hex_vector hexes[] = {
	{ "/decode/hex/plain", "0648", 0, 2 },
	{ "/decode/hex/spaces", " 06 48 ", 0, 2 },
	{ "/decode/hex/colons-upper", "0A:FF:10", 0, 3 },
	{ "/decode/hex/empty", "", 0, 0 },
	{ "/decode/hex/odd", "064", -EINVAL, 0, 3 },
	{ "/decode/hex/split-byte", "0 648", -EINVAL, 0, 1 },
	{ "/decode/hex/bad-char", "06zz", -EINVAL, 0, 2 },
	{ "/decode/hex/too-long", "0102030405", -E2BIG },
};

static void test_hex_vector(gconstpointer data)
{
	const struct hex_vector *v = data;
	uint8_t buf[4];
	size_t len = 99, bad = 99;

	g_assert_cmpint(decode_hex(v->text, buf, sizeof(buf), &len, &bad), ==,
			v->result);
	if (v->result == 0)
		g_assert_cmpuint(len, ==, v->len);
	else if (v->result == -EINVAL)
		g_assert_cmpuint(bad, ==, v->bad_offset);
}

static void test_hex_values(void)
{
	uint8_t buf[3];
	size_t len;

	g_assert_cmpint(decode_hex("0a:Ff:10", buf, sizeof(buf), &len, NULL),
			==, 0);
	g_assert_cmpuint(buf[0], ==, 0x0a);
	g_assert_cmpuint(buf[1], ==, 0xff);
	g_assert_cmpuint(buf[2], ==, 0x10);
}

/* Each UUID lands in its own parser: the published vectors, one per UUID. */
struct dispatch_vector {
	const char *name;
	enum decode_uuid uuid;
	const char *hex;
};

static const struct dispatch_vector dispatch[] = {
	{ "/decode/dispatch/2a37", DECODE_UUID_HEART_RATE, "06 48" },
	{ "/decode/dispatch/2a38", DECODE_UUID_SENSOR_LOCATION, "01" },
	{ "/decode/dispatch/2a19", DECODE_UUID_BATTERY_LEVEL, "64" },
	{ "/decode/dispatch/2a9d", DECODE_UUID_WEIGHT, "00 98 3a" },
	{ "/decode/dispatch/2a9e", DECODE_UUID_WEIGHT_FEATURE, "07 00 00 00" },
	{ "/decode/dispatch/2a9c", DECODE_UUID_BODY_COMPOSITION,
	  "00 00 f4 00" },
	{ "/decode/dispatch/181d", DECODE_UUID_MISCALE_V1,
	  "22 9e 43 e5 07 04 0b 10 13 01" },
	{ "/decode/dispatch/181b", DECODE_UUID_MISCALE_V2,
	  "02 26 b2 07 05 04 0f 02 01 ac 01 86 42" },
	{ "/decode/dispatch/fcd2", DECODE_UUID_BTHOME, "40 02 ca 09 03 bf 13" },
};

static void test_dispatch(gconstpointer data)
{
	const struct dispatch_vector *v = data;
	struct decoded_payload p;
	uint8_t buf[32];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&p, 0, sizeof(p));
	g_assert_cmpint(decode_payload(v->uuid, buf, len, &p, NULL), ==, 0);
	g_assert_cmpint(p.uuid, ==, v->uuid);
	switch (v->uuid) {
	case DECODE_UUID_HEART_RATE:
		g_assert_cmpuint(p.u.heart_rate.heart_rate_bpm, ==, 72);
		break;
	case DECODE_UUID_SENSOR_LOCATION:
		g_assert_cmpuint(p.u.sensor_location, ==, HRS_LOCATION_CHEST);
		break;
	case DECODE_UUID_BATTERY_LEVEL:
		g_assert_cmpuint(p.u.battery_pct, ==, 100);
		break;
	case DECODE_UUID_WEIGHT:
		g_assert_cmpuint(p.u.weight.weight.raw, ==, 15000);
		break;
	case DECODE_UUID_WEIGHT_FEATURE:
		g_assert_true(p.u.weight_feature.bmi_supported);
		break;
	case DECODE_UUID_BODY_COMPOSITION:
		g_assert_cmpuint(p.u.body_composition.body_fat_raw, ==, 244);
		break;
	case DECODE_UUID_MISCALE_V1:
		g_assert_cmpuint(p.u.miscale.weight.raw, ==, 17310);
		break;
	case DECODE_UUID_MISCALE_V2:
		g_assert_cmpuint(p.u.miscale.impedance_ohm, ==, 428);
		break;
	case DECODE_UUID_BTHOME:
		g_assert_cmpuint(p.u.bthome.object_count, ==, 2);
		break;
	case DECODE_SCALE_WEIGHING: /* the dispatcher's, not decode_payload's */
	default:
		g_assert_not_reached();
	}
}

static void test_failure_keeps_tag(void)
{
	struct decoded_payload p = { .uuid = DECODE_UUID_BTHOME };
	struct parse_error err = { 0 };
	const uint8_t truncated[] = { 0x01, 0x48 };

	g_assert_cmpint(decode_payload(DECODE_UUID_HEART_RATE, truncated,
				       sizeof(truncated), &p, &err),
			==, -EBADMSG);
	g_assert_cmpint(p.uuid, ==, DECODE_UUID_BTHOME);
	g_assert_cmpstr(err.field, ==, "heart rate (u16)");
	g_assert_cmpint(decode_payload((enum decode_uuid)0x2a00, truncated,
				       sizeof(truncated), &p, NULL),
			==, -ENOENT);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(uuids); i++)
		g_test_add_data_func(uuids[i].name, &uuids[i], test_uuid);
	for (size_t i = 0; i < G_N_ELEMENTS(hexes); i++)
		g_test_add_data_func(hexes[i].name, &hexes[i], test_hex_vector);
	for (size_t i = 0; i < G_N_ELEMENTS(dispatch); i++)
		g_test_add_data_func(dispatch[i].name, &dispatch[i],
				     test_dispatch);
	g_test_add_func("/decode/hex/values", test_hex_values);
	g_test_add_func("/decode/failure-keeps-tag", test_failure_keeps_tag);
	return g_test_run();
}
