// SPDX-License-Identifier: MIT
#include "tests/unit/scale-test.h"

#include "sensors/scale-onebyone.h"

enum { CLASSIC, NEW };

static int test_parse(int variant, const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err)
{
	struct onebyone_measurement m;
	struct onebyone_new_frame f;
	int err;

	if (variant == CLASSIC) {
		err = onebyone_parse_measurement(data, len, &m, ret_err);
		if (err == 0)
			*ret = m.weighing;
		return err;
	}
	err = onebyone_new_parse(data, len, &f, ret_err);
	if (err == 0)
		*ret = f.weighing;
	return err;
}

#define F_C	   SCALE_FAMILY_ONEBYONE
#define F_N	   SCALE_FAMILY_ONEBYONE_NEW
#define CF_FINAL   "cf 8b 13 57 1c 00 00 00 00 00 1c"
#define NEW_WEIGHT "ab 2a 80 01 3d 62 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
#define NEW_HISTORY                                                            \
	"ab 2a 00 69 55 b9 00 80 01 3d 62 00 00 00 00 02 00 00 00 00"

/*
 * No 1byone notification with its reading is published (openScale's
 * OneByoneLibTest covers the body-fat formulas, not frames): all built from
 * the tables in scale-onebyone.c. The same CF record inside an Eufy
 * advertisement has a real capture in test-scale-eufy.c.
 */
static const struct scale_vector valid[] = {
	{ "/scale/1byone/classic/built-72.55kg-final", CLASSIC, CF_FINAL, F_C,
	  72.55, true, 500.3, NONE },
	{ "/scale/1byone/classic/built-72.55kg-live", CLASSIC,
	  "cf 00 00 57 1c 00 00 00 00 01 85", F_C, 72.55, false, NONE, NONE },
	/* History: byte 10 is not checked, a timestamp follows. */
	{ "/scale/1byone/classic/built-history", CLASSIC,
	  "cf 8b 13 57 1c 00 00 00 00 00 00 07 ea 01 02 03 04 05", F_C, 72.55,
	  true, 500.3, NONE },
	{ "/scale/1byone/new/built-81.25kg", NEW, NEW_WEIGHT, F_N, 81.25, true,
	  NONE, NONE },
	/* Bits above the 18-bit weight are not weight. */
	{ "/scale/1byone/new/built-high-bits-masked", NEW,
	  "ab 2a 80 0d 3d 62 00 00 00 00 00 00 00 00 00 00 00 00 00 00", F_N,
	  81.25, true, NONE, NONE },
	{ "/scale/1byone/new/built-history", NEW, NEW_HISTORY, F_N, 81.25, true,
	  512, NONE },
};

static const struct scale_bad_vector invalid[] = {
	{ "/scale/1byone/classic/bad/empty", CLASSIC, "", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "marker", 0 },
	{ "/scale/1byone/classic/bad/clock-ack", CLASSIC, "f1 00", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "marker", 0 },
	{ "/scale/1byone/classic/bad/half-impedance", CLASSIC, "cf 8b",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "impedance", 1 },
	{ "/scale/1byone/classic/bad/no-checksum", CLASSIC,
	  "cf 8b 13 57 1c 00 00 00 00 00", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "checksum", 10 },
	{ "/scale/1byone/classic/bad/checksum", CLASSIC,
	  "cf 8b 13 57 1c 00 00 00 00 00 1d", -EBADMSG, PARSE_FAULT_MALFORMED,
	  "checksum", 10 },
	{ "/scale/1byone/classic/bad/over-limit", CLASSIC,
	  "cf 00 00 57 1c 00 00 00 00 02 86", -EINVAL, PARSE_FAULT_OUT_OF_RANGE,
	  "state", 9 },
	{ "/scale/1byone/classic/bad/history-cut", CLASSIC,
	  "cf 8b 13 57 1c 00 00 00 00 00 00 07 ea 01 02 03 04", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "checksum", 10 },
	{ "/scale/1byone/new/bad/empty", NEW, "", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "header", 0 },
	{ "/scale/1byone/new/bad/header", NEW,
	  "ab 2b 80 01 3d 62 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
	  -EBADMSG, PARSE_FAULT_MALFORMED, "header", 0 },
	{ "/scale/1byone/new/bad/short", NEW, "ab 2a 80 01 3d 62", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "frame", 3 },
	{ "/scale/1byone/new/bad/type", NEW,
	  "ab 2a 02 01 3d 62 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
	  -ENOTSUP, PARSE_FAULT_RESERVED, "type", 2 },
	{ "/scale/1byone/new/bad/zero", NEW,
	  "ab 2a 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
	  -EINVAL, PARSE_FAULT_OUT_OF_RANGE, "weight", 3 },
};

static const struct scale_prefix_vector prefixes[] = {
	{ "/scale/1byone/classic/every-prefix", CLASSIC, CF_FINAL,
	  ONEBYONE_RECORD_SIZE },
	{ "/scale/1byone/new/every-prefix", NEW, NEW_WEIGHT,
	  ONEBYONE_NEW_SIZE },
};

static void test_history_timestamp(void)
{
	uint8_t buf[32];
	size_t len = test_hex("cf 8b 13 57 1c 00 00 00 00 00 00 07 ea 01 02 03 "
			      "04 05",
			      buf, sizeof(buf));
	struct onebyone_measurement m;

	g_assert_cmpint(onebyone_parse_measurement(buf, len, &m, NULL), ==, 0);
	g_assert_true(m.has_timestamp);
	g_assert_cmpuint(m.timestamp.year, ==, 2026);
	g_assert_cmpuint(m.timestamp.month, ==, 1);
	g_assert_cmpuint(m.timestamp.day, ==, 2);
	g_assert_cmpuint(m.timestamp.hours, ==, 3);
	g_assert_cmpuint(m.timestamp.minutes, ==, 4);
	g_assert_cmpuint(m.timestamp.seconds, ==, 5);

	len = test_hex(CF_FINAL, buf, sizeof(buf));
	g_assert_cmpint(onebyone_parse_measurement(buf, len, &m, NULL), ==, 0);
	g_assert_false(m.has_timestamp);
}

static void test_new_kinds(void)
{
	uint8_t buf[32];
	size_t len;
	struct onebyone_new_frame f;

	len = test_hex("ab 2a 01 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 "
		       "00 00",
		       buf, sizeof(buf));
	g_assert_cmpint(onebyone_new_parse(buf, len, &f, NULL), ==, 0);
	g_assert_cmpint(f.kind, ==, ONEBYONE_NEW_IMPEDANCE);
	g_assert_cmpuint(f.impedance_ohm, ==, 512);

	len = test_hex(NEW_HISTORY, buf, sizeof(buf));
	g_assert_cmpint(onebyone_new_parse(buf, len, &f, NULL), ==, 0);
	g_assert_cmpint(f.kind, ==, ONEBYONE_NEW_HISTORY);
	g_assert_cmpuint(f.unix_time, ==, 1767225600);
	g_assert_cmpuint(f.impedance_ohm, ==, 512);

	/* Type 0x00 without the history mark: a live frame, no layout. */
	len = test_hex("ab 2a 00 69 55 b9 00 00 01 3d 62 00 00 00 00 02 00 00 "
		       "00 00",
		       buf, sizeof(buf));
	g_assert_cmpint(onebyone_new_parse(buf, len, &f, NULL), ==, 0);
	g_assert_cmpint(f.kind, ==, ONEBYONE_NEW_LIVE);
	g_assert_cmpuint(f.unix_time, ==, 0);
	g_assert_cmpfloat(f.weighing.weight_kg, ==, 0.0);
}

static void test_builders(void)
{
	static const uint8_t unit[] = { 0xfd, 0x37, 0x00, 0x01, 0x00, 0x00,
					0x00, 0x00, 0x00, 0x00, 0xcb };
	static const uint8_t clock[] = { 0xf1, 0x07, 0xea, 0x01,
					 0x02, 0x03, 0x04, 0x05 };
	const struct ble_date_time now = { 2026, 1, 2, 3, 4, 5 };
	uint8_t buf[16], before[16];

	g_assert_cmpint(onebyone_build_unit(ONEBYONE_UNIT_KG, 1, buf), ==, 0);
	g_assert_cmpmem(buf, sizeof(unit), unit, sizeof(unit));
	g_assert_cmpint(onebyone_build_clock(&now, buf), ==, 0);
	g_assert_cmpmem(buf, sizeof(clock), clock, sizeof(clock));
	onebyone_build_history(false, buf);
	g_assert_cmpuint(buf[0], ==, 0xf2);
	g_assert_cmpuint(buf[1], ==, 0x00);
	onebyone_build_history(true, buf);
	g_assert_cmpuint(buf[1], ==, 0x01);

	memset(buf, 0x77, sizeof(buf));
	memcpy(before, buf, sizeof(buf));
	g_assert_cmpint(onebyone_build_unit((enum onebyone_unit)3, 1, buf), ==,
			-EINVAL);
	g_assert_cmpmem(buf, sizeof(buf), before, sizeof(before));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_TABLE(valid, test_scale_valid);
	ADD_TABLE(invalid, test_scale_invalid);
	ADD_TABLE(prefixes, test_scale_prefix);
	g_test_add_func("/scale/1byone/classic/history-timestamp",
			test_history_timestamp);
	g_test_add_func("/scale/1byone/new/kinds", test_new_kinds);
	g_test_add_func("/scale/1byone/classic/builders", test_builders);
	return g_test_run();
}
