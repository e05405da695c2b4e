// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "tests/unit/hex.h"
#include "sensors/miscale.h"

typedef int (*miscale_parser)(const uint8_t *data, size_t len,
			      struct miscale_reading *ret,
			      struct parse_error *ret_err);

static miscale_parser parser_for(int version)
{
	g_assert_true(version == 1 || version == 2);
	return version == 1 ? miscale_parse_v1 : miscale_parse_v2;
}

enum state {
	STABLE = 1 << 0,
	REMOVED = 1 << 1,
};

struct miscale_vector {
	const char *name;
	int version;
	const char *hex;
	enum mass_unit unit;
	uint16_t raw;
	double value; /* in @unit */
	double kg;
	unsigned state;
	int impedance_ohm; /* -1: none */
	struct ble_date_time timestamp;
};

#define DT(y, mo, d, h, mi, s)                                                 \
	{                                                                      \
		.year = (y), .month = (mo), .day = (d), .hours = (h),          \
		.minutes = (mi), .seconds = (s)                                \
	}

/*
 * Published captures first, each with where it was published; then vectors
 * built from the field tables in miscale.c where no capture exists (jin on
 * either scale, and some unit/state combinations).
 */
static const struct miscale_vector valid[] = {
	/* ble_monitor test_miscale_v1_ext_weight */
	{ "/miscale/v1/published-86kg", 1, "22 9e 43 e5 07 04 0b 10 13 01",
	  MASS_UNIT_KG, 17310, 86.55, 86.55, STABLE, -1,
	  DT(2021, 4, 11, 16, 19, 1) },
	/* ble_monitor test_miscale_v1: stabilised, then stepped off */
	{ "/miscale/v1/published-removed-87kg", 1,
	  "a2 20 44 b2 07 01 01 0a 1a 15", MASS_UNIT_KG, 17440, 87.2, 87.2,
	  STABLE | REMOVED, -1, DT(1970, 1, 1, 10, 26, 21) },
	/* ble_monitor test_miscale_v1_ext: empty scale settling */
	{ "/miscale/v1/published-removed-unstable-0kg", 1,
	  "82 14 00 e5 07 04 0b 10 17 08", MASS_UNIT_KG, 20, 0.1, 0.1, REMOVED,
	  -1, DT(2021, 4, 11, 16, 23, 8) },
	/* ble_monitor issue #366, live frame before stabilisation */
	{ "/miscale/v1/published-unstable-87kg", 1,
	  "02 48 44 e5 07 05 1c 11 0c 09", MASS_UNIT_KG, 17480, 87.4, 87.4, 0,
	  -1, DT(2021, 5, 28, 17, 12, 9) },
	/* ble_monitor issue #366, stale stabilised-and-removed repeat */
	{ "/miscale/v1/published-stale-removed-87kg", 1,
	  "a2 98 44 e5 07 05 1b 16 21 35", MASS_UNIT_KG, 17560, 87.8, 87.8,
	  STABLE | REMOVED, -1, DT(2021, 5, 27, 22, 33, 53) },
	/* openScale wiki: bit 6 set, meaning unknown, ignored */
	{ "/miscale/v1/published-openscale-94kg", 1,
	  "62 ac 49 e0 07 0c 14 0d 1c 04", MASS_UNIT_KG, 18860, 94.3, 94.3,
	  STABLE, -1, DT(2016, 12, 20, 13, 28, 4) },
	/* ble-scale-sync: captured on a XMTZC04HM set to lb */
	{ "/miscale/v1/published-lb-201lb", 1, "23 8e 4e ea 07 08 18 10 39 13",
	  MASS_UNIT_LB, 20110, 201.10, 91.217425607, STABLE, -1,
	  DT(2026, 8, 24, 16, 57, 19) },
	/* theengs decoder test vectors, lb person / object / removed */
	{ "/miscale/v1/theengs-lb-131lb", 1, "23 72 33 e6 07 02 0e 10 29 3a",
	  MASS_UNIT_LB, 13170, 131.70, 59.738115, STABLE, -1,
	  DT(2022, 2, 14, 16, 41, 58) },
	{ "/miscale/v1/theengs-lb-object-19lb", 1,
	  "63 76 07 e6 07 02 0e 10 29 3a", MASS_UNIT_LB, 1910, 19.10,
	  8.66361427, STABLE, -1, DT(2022, 2, 14, 16, 41, 58) },
	{ "/miscale/v1/theengs-lb-removed-131lb", 1,
	  "a3 72 33 e6 07 02 0e 10 29 3a", MASS_UNIT_LB, 13170, 131.70,
	  59.738115, STABLE | REMOVED, -1, DT(2022, 2, 14, 16, 41, 58) },
	{ "/miscale/v1/theengs-kg-object-9kg", 1,
	  "e2 76 07 e6 07 02 0e 10 29 3a", MASS_UNIT_KG, 1910, 9.55, 9.55,
	  STABLE | REMOVED, -1, DT(2022, 2, 14, 16, 41, 58) },
	/*
	 * Built: jin (bit 4). No real v1 jin frame is published
	 * (ble-scale-sync: the app offers this model kg and lb only);
	 * 0x32/0x12/0xb2 are the control values reported in esphome/esphome PR
	 * #4946.
	 */
	{ "/miscale/v1/jin", 1, "32 70 4e ea 07 08 18 10 39 13", MASS_UNIT_JIN,
	  20080, 200.80, 100.4, STABLE, -1, DT(2026, 8, 24, 16, 57, 19) },
	{ "/miscale/v1/jin-unstable", 1, "12 70 4e ea 07 08 18 10 39 13",
	  MASS_UNIT_JIN, 20080, 200.80, 100.4, 0, -1,
	  DT(2026, 8, 24, 16, 57, 19) },
	{ "/miscale/v1/jin-removed", 1, "b2 70 4e ea 07 08 18 10 39 13",
	  MASS_UNIT_JIN, 20080, 200.80, 100.4, STABLE | REMOVED, -1,
	  DT(2026, 8, 24, 16, 57, 19) },
	{ "/miscale/v1/lb-unstable", 1, "03 8e 4e ea 07 08 18 10 39 13",
	  MASS_UNIT_LB, 20110, 201.10, 91.217425607, 0, -1,
	  DT(2026, 8, 24, 16, 57, 19) },
	{ "/miscale/v1/max-weight", 1, "22 ff ff e5 07 04 0b 10 13 01",
	  MASS_UNIT_KG, 65535, 327.675, 327.675, STABLE, -1,
	  DT(2021, 4, 11, 16, 19, 1) },
	/* The scale's clock is never a reason to reject: returned as sent. */
	{ "/miscale/v1/timestamp-garbage", 1, "22 9e 43 00 00 ff 20 19 3c ff",
	  MASS_UNIT_KG, 17310, 86.55, 86.55, STABLE, -1,
	  DT(0, 255, 32, 25, 60, 255) },
	/* Bytes after the 10-byte layout are ignored. */
	{ "/miscale/v1/trailing-ignored", 1,
	  "22 9e 43 e5 07 04 0b 10 13 01 aa 55 31", MASS_UNIT_KG, 17310, 86.55,
	  86.55, STABLE, -1, DT(2021, 4, 11, 16, 19, 1) },

	/* ble_monitor test_miscale_v2_impedance */
	{ "/miscale/v2/published-85kg", 2,
	  "02 26 b2 07 05 04 0f 02 01 ac 01 86 42", MASS_UNIT_KG, 17030, 85.15,
	  85.15, STABLE, 428, DT(1970, 5, 4, 15, 2, 1) },
	/* ble_monitor test_miscale_v2 */
	{ "/miscale/v2/published-unstable-105kg", 2,
	  "02 04 b2 07 01 01 12 10 1a 00 00 a8 52", MASS_UNIT_KG, 21160, 105.8,
	  105.8, 0, -1, DT(1970, 1, 1, 18, 16, 26) },
	/* ble_monitor issue #1094: one weigh-in, settling/stable/stepped off */
	{ "/miscale/v2/published-unstable-94kg", 2,
	  "02 04 b2 07 01 03 13 1a 13 00 00 ac 49", MASS_UNIT_KG, 18860, 94.3,
	  94.3, 0, -1, DT(1970, 1, 3, 19, 26, 19) },
	{ "/miscale/v2/published-95kg", 2,
	  "02 26 b2 07 01 03 13 1a 15 e6 01 60 4a", MASS_UNIT_KG, 19040, 95.2,
	  95.2, STABLE, 486, DT(1970, 1, 3, 19, 26, 21) },
	{ "/miscale/v2/published-removed-95kg", 2,
	  "02 a6 b2 07 01 03 13 1a 15 e6 01 60 4a", MASS_UNIT_KG, 19040, 95.2,
	  95.2, STABLE | REMOVED, 486, DT(1970, 1, 3, 19, 26, 21) },
	/* Q&A codewithsundeep.com/.../59118489: no impedance bit, 0xfffd */
	{ "/miscale/v2/published-removed-78kg", 2,
	  "02 a4 b2 07 01 01 02 3a 38 fd ff f0 3c", MASS_UNIT_KG, 15600, 78.0,
	  78.0, STABLE | REMOVED, -1, DT(1970, 1, 1, 2, 58, 56) },
	{ "/miscale/v2/published-removed-12kg", 2,
	  "02 a4 b2 07 02 13 06 33 35 fd ff ec 09", MASS_UNIT_KG, 2540, 12.7,
	  12.7, STABLE | REMOVED, -1, DT(1970, 2, 19, 6, 51, 53) },
	/* Q&A coderapp.vercel.app/answer/68571845: byte 0 bit 2 ("object") */
	{ "/miscale/v2/published-object-5kg", 2,
	  "06 24 b2 07 01 01 00 2e 38 00 00 4c 04", MASS_UNIT_KG, 1100, 5.5,
	  5.5, STABLE, -1, DT(1970, 1, 1, 0, 46, 56) },
	/* theengs decoder test vectors */
	{ "/miscale/v2/theengs-kg-72kg", 2,
	  "02 26 e6 07 02 0e 10 29 3a f7 01 9a 38", MASS_UNIT_KG, 14490, 72.45,
	  72.45, STABLE, 503, DT(2022, 2, 14, 16, 41, 58) },
	{ "/miscale/v2/theengs-lb-140lb", 2,
	  "03 26 e6 07 02 0e 10 29 3a f7 01 f1 36", MASS_UNIT_LB, 14065, 140.65,
	  63.7977668, STABLE, 503, DT(2022, 2, 14, 16, 41, 58) },
	{ "/miscale/v2/theengs-lb-no-impedance", 2,
	  "03 24 e6 07 02 0e 10 29 3a 00 00 f1 36", MASS_UNIT_LB, 14065, 140.65,
	  63.7977668, STABLE, -1, DT(2022, 2, 14, 16, 41, 58) },
	{ "/miscale/v2/theengs-lb-removed", 2,
	  "03 a6 e6 07 02 0e 10 29 3a f7 01 f1 36", MASS_UNIT_LB, 14065, 140.65,
	  63.7977668, STABLE | REMOVED, 503, DT(2022, 2, 14, 16, 41, 58) },
	/* Built: jin is byte 1 bit 6 (openScale #907, ble_monitor #1095). */
	{ "/miscale/v2/jin", 2, "02 66 b2 07 05 04 0f 02 01 ac 01 86 42",
	  MASS_UNIT_JIN, 17030, 170.30, 85.15, STABLE, 428,
	  DT(1970, 5, 4, 15, 2, 1) },
	{ "/miscale/v2/jin-unstable", 2,
	  "02 44 b2 07 05 04 0f 02 01 00 00 86 42", MASS_UNIT_JIN, 17030,
	  170.30, 85.15, 0, -1, DT(1970, 5, 4, 15, 2, 1) },
	{ "/miscale/v2/jin-removed", 2,
	  "02 e6 b2 07 05 04 0f 02 01 ac 01 86 42", MASS_UNIT_JIN, 17030,
	  170.30, 85.15, STABLE | REMOVED, 428, DT(1970, 5, 4, 15, 2, 1) },
	{ "/miscale/v2/lb-unstable", 2,
	  "03 04 e6 07 02 0e 10 29 3a fd ff f1 36", MASS_UNIT_LB, 14065, 140.65,
	  63.7977668, 0, -1, DT(2022, 2, 14, 16, 41, 58) },
	/* Impedance bit set but zero: no impedance (openScale `imp > 0`). */
	{ "/miscale/v2/impedance-bit-zero", 2,
	  "02 26 b2 07 05 04 0f 02 01 00 00 86 42", MASS_UNIT_KG, 17030, 85.15,
	  85.15, STABLE, -1, DT(1970, 5, 4, 15, 2, 1) },
	{ "/miscale/v2/impedance-max", 2,
	  "02 26 b2 07 05 04 0f 02 01 ff ff 86 42", MASS_UNIT_KG, 17030, 85.15,
	  85.15, STABLE, 65535, DT(1970, 5, 4, 15, 2, 1) },
	{ "/miscale/v2/timestamp-garbage", 2,
	  "02 26 ff ff 00 00 63 63 63 ac 01 86 42", MASS_UNIT_KG, 17030, 85.15,
	  85.15, STABLE, 428, DT(65535, 0, 0, 99, 99, 99) },
	{ "/miscale/v2/trailing-ignored", 2,
	  "02 26 b2 07 05 04 0f 02 01 ac 01 86 42 02 26 b2", MASS_UNIT_KG,
	  17030, 85.15, 85.15, STABLE, 428, DT(1970, 5, 4, 15, 2, 1) },
};

static void test_valid(gconstpointer data)
{
	const struct miscale_vector *v = data;
	struct miscale_reading r;
	struct parse_error err = { 0 };
	uint8_t buf[32];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&r, 0xa5, sizeof(r));
	g_assert_cmpint(parser_for(v->version)(buf, len, &r, &err), ==, 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_NONE);

	g_assert_cmpint(r.weight.unit, ==, v->unit);
	g_assert_cmpuint(r.weight.raw, ==, v->raw);
	g_assert_cmpfloat_with_epsilon(mass_value(r.weight), v->value, 1e-9);
	g_assert_cmpfloat_with_epsilon(mass_kg(r.weight), v->kg, 1e-6);

	g_assert_cmpint(r.stabilised, ==, !!(v->state & STABLE));
	g_assert_cmpint(r.load_removed, ==, !!(v->state & REMOVED));
	g_assert_cmpint(miscale_is_measurement(&r), ==, v->state == STABLE);

	g_assert_cmpint(r.has_impedance, ==, v->impedance_ohm >= 0);
	g_assert_cmpuint(r.impedance_ohm, ==,
			 v->impedance_ohm >= 0 ? v->impedance_ohm : 0);

	g_assert_cmpuint(r.timestamp.year, ==, v->timestamp.year);
	g_assert_cmpuint(r.timestamp.month, ==, v->timestamp.month);
	g_assert_cmpuint(r.timestamp.day, ==, v->timestamp.day);
	g_assert_cmpuint(r.timestamp.hours, ==, v->timestamp.hours);
	g_assert_cmpuint(r.timestamp.minutes, ==, v->timestamp.minutes);
	g_assert_cmpuint(r.timestamp.seconds, ==, v->timestamp.seconds);

	/* ret_err may be NULL. */
	memset(&r, 0xa5, sizeof(r));
	g_assert_cmpint(parser_for(v->version)(buf, len, &r, NULL), ==, 0);
	g_assert_cmpuint(r.weight.raw, ==, v->raw);
}

struct miscale_bad_vector {
	const char *name;
	int version;
	const char *hex;
	int error;
	enum parse_fault fault;
	const char *field;
	size_t offset;
	size_t need, left; /* TRUNCATED */
	uint32_t value;	   /* RESERVED */
};

#define V1_FRAME "22 9e 43 e5 07 04 0b 10 13 01"
#define V2_FRAME "02 26 b2 07 05 04 0f 02 01 ac 01 86 42"

/*
 * The negative taxonomy: empty, truncated at and inside every field, and the
 * undefined lb + jin unit combination.
 */
static const struct miscale_bad_vector invalid[] = {
	{ "/miscale/v1/bad/empty", 1, "", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "control", 0, 1, 0 },
	{ "/miscale/v1/bad/no-weight", 1, "22", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "weight", 1, 2, 0 },
	{ "/miscale/v1/bad/half-weight", 1, "22 9e", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "weight", 1, 2, 1 },
	{ "/miscale/v1/bad/no-timestamp", 1, "22 9e 43", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "timestamp", 3, 7, 0 },
	{ "/miscale/v1/bad/timestamp-year-only", 1, "22 9e 43 e5 07", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "timestamp", 3, 7, 2 },
	{ "/miscale/v1/bad/timestamp-no-second", 1,
	  "22 9e 43 e5 07 04 0b 10 13", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "timestamp", 3, 7, 6 },
	{ "/miscale/v1/bad/lb-and-jin", 1, "31 9e 43 e5 07 04 0b 10 13 01",
	  -ENOTSUP, PARSE_FAULT_RESERVED, "control", 0, 0, 0, 0x31 },
	{ "/miscale/v1/bad/lb-and-jin-removed", 1,
	  "b3 9e 43 e5 07 04 0b 10 13 01", -ENOTSUP, PARSE_FAULT_RESERVED,
	  "control", 0, 0, 0, 0xb3 },
	/* The control byte is checked before the rest is read. */
	{ "/miscale/v1/bad/lb-and-jin-truncated", 1, "11", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "control", 0, 0, 0, 0x11 },

	{ "/miscale/v2/bad/empty", 2, "", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "control", 0, 2, 0 },
	{ "/miscale/v2/bad/half-control", 2, "02", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "control", 0, 2, 1 },
	{ "/miscale/v2/bad/no-timestamp", 2, "02 26", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "timestamp", 2, 7, 0 },
	{ "/miscale/v2/bad/timestamp-year-only", 2, "02 26 b2 07", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "timestamp", 2, 7, 2 },
	{ "/miscale/v2/bad/timestamp-no-second", 2, "02 26 b2 07 05 04 0f 02",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "timestamp", 2, 7, 6 },
	{ "/miscale/v2/bad/no-impedance", 2, "02 26 b2 07 05 04 0f 02 01",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "impedance", 9, 2, 0 },
	{ "/miscale/v2/bad/half-impedance", 2, "02 26 b2 07 05 04 0f 02 01 ac",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "impedance", 9, 2, 1 },
	{ "/miscale/v2/bad/no-weight", 2, "02 26 b2 07 05 04 0f 02 01 ac 01",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "weight", 11, 2, 0 },
	{ "/miscale/v2/bad/half-weight", 2,
	  "02 26 b2 07 05 04 0f 02 01 ac 01 86", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "weight", 11, 2, 1 },
	/* A v1 frame is too short for v2. */
	{ "/miscale/v2/bad/v1-frame", 2, V1_FRAME, -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "impedance", 9, 2, 1 },
	{ "/miscale/v2/bad/lb-and-jin", 2,
	  "03 66 b2 07 05 04 0f 02 01 ac 01 86 42", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "control", 0, 0, 0, 0x6603 },
	{ "/miscale/v2/bad/lb-and-jin-removed", 2,
	  "03 e6 b2 07 05 04 0f 02 01 ac 01 86 42", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "control", 0, 0, 0, 0xe603 },
	{ "/miscale/v2/bad/lb-and-jin-truncated", 2, "01 40", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "control", 0, 0, 0, 0x4001 },
};

static void test_invalid(gconstpointer data)
{
	const struct miscale_bad_vector *v = data;
	struct miscale_reading r, untouched;
	struct parse_error err = { 0 };
	uint8_t buf[32];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	char msg[256];

	memset(&r, 0xa5, sizeof(r));
	memcpy(&untouched, &r, sizeof(r));
	g_assert_cmpint(parser_for(v->version)(buf, len, &r, &err), ==,
			v->error);
	g_assert_true(memcmp(&r, &untouched, sizeof(r)) == 0);
	g_assert_cmpint(err.fault, ==, v->fault);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	if (v->fault == PARSE_FAULT_TRUNCATED) {
		g_assert_cmpuint(err.need, ==, v->need);
		g_assert_cmpuint(err.left, ==, v->left);
	} else {
		g_assert_cmpuint(err.value, ==, v->value);
		g_assert_nonnull(err.expected);
		g_assert_nonnull(strstr(err.expected, "lb"));
		g_assert_nonnull(strstr(err.expected, "jin"));
	}
	g_assert_cmpint(parse_error_format(&err, msg, sizeof(msg)), >, 0);
	g_assert_nonnull(strstr(msg, v->field));

	/* ret_err may be NULL: same verdict, output still untouched. */
	g_assert_cmpint(parser_for(v->version)(buf, len, &r, NULL), ==,
			v->error);
	g_assert_true(memcmp(&r, &untouched, sizeof(r)) == 0);
}

/* No bytes at all, not even a buffer. */
static void test_null(void)
{
	struct miscale_reading r, untouched;
	struct parse_error err = { 0 };

	memset(&r, 0xa5, sizeof(r));
	memcpy(&untouched, &r, sizeof(r));
	g_assert_cmpint(miscale_parse_v1(NULL, 0, &r, &err), ==, -EBADMSG);
	g_assert_cmpstr(err.field, ==, "control");
	g_assert_cmpint(miscale_parse_v2(NULL, 0, &r, &err), ==, -EBADMSG);
	g_assert_cmpstr(err.field, ==, "control");
	g_assert_cmpuint(err.need, ==, 2);
	g_assert_true(memcmp(&r, &untouched, sizeof(r)) == 0);
}

/* The formatted reserved-unit fault names the field and what is allowed. */
static void test_reserved_message(void)
{
	static const uint8_t frame[] = { 0x31, 0x9e, 0x43, 0xe5, 0x07,
					 0x04, 0x0b, 0x10, 0x13, 0x01 };
	struct miscale_reading r;
	struct parse_error err = { 0 };
	char msg[256];

	g_assert_cmpint(miscale_parse_v1(frame, sizeof(frame), &r, &err), ==,
			-ENOTSUP);
	parse_error_format(&err, msg, sizeof(msg));
	g_assert_cmpstr(msg, ==,
			"control 0x31 at offset 0 is reserved or unsupported "
			"(expected at most one of lb (bit 0) and jin (bit 4))");
}

/* Every truncation of a full frame fails with TRUNCATED, never reads past. */
static void test_every_prefix(gconstpointer data)
{
	int version = GPOINTER_TO_INT(data);
	const char *hex = version == 1 ? V1_FRAME : V2_FRAME;
	size_t need = version == 1 ? MISCALE_V1_SIZE : MISCALE_V2_SIZE;
	uint8_t buf[32];
	size_t len = test_hex(hex, buf, sizeof(buf));

	g_assert_cmpuint(len, ==, need);
	for (size_t n = 0; n <= len; n++) {
		/* Exactly n bytes, so ASan sees a read past the end. */
		g_autofree uint8_t *copy = g_memdup2(buf, n);
		struct miscale_reading r = { 0 };
		struct parse_error err = { 0 };
		int ret = parser_for(version)(copy, n, &r, &err);

		if (n < need) {
			g_assert_cmpint(ret, ==, -EBADMSG);
			g_assert_cmpint(err.fault, ==, PARSE_FAULT_TRUNCATED);
			g_assert_cmpuint(err.offset + err.left, ==, n);
			g_assert_cmpuint(err.left, <, err.need);
		} else {
			g_assert_cmpint(ret, ==, 0);
		}
	}
}

struct measurement_vector {
	const char *name;
	bool stabilised;
	bool load_removed;
	bool measurement;
};

static const struct measurement_vector measurements[] = {
	{ "/miscale/is-measurement/stabilised", true, false, true },
	{ "/miscale/is-measurement/settling", false, false, false },
	{ "/miscale/is-measurement/stabilised-removed", true, true, false },
	{ "/miscale/is-measurement/settling-removed", false, true, false },
};

static void test_is_measurement(gconstpointer data)
{
	const struct measurement_vector *v = data;
	struct miscale_reading r = {
		.weight = { MASS_UNIT_KG, 17310 },
		.stabilised = v->stabilised,
		.load_removed = v->load_removed,
	};

	g_assert_cmpint(miscale_is_measurement(&r), ==, v->measurement);
}

static void test_is_measurement_null(void)
{
	g_assert_false(miscale_is_measurement(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
		g_test_add_data_func(valid[i].name, &valid[i], test_valid);
	for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
		g_test_add_data_func(invalid[i].name, &invalid[i],
				     test_invalid);
	for (size_t i = 0; i < G_N_ELEMENTS(measurements); i++)
		g_test_add_data_func(measurements[i].name, &measurements[i],
				     test_is_measurement);
	g_test_add_data_func("/miscale/v1/every-prefix", GINT_TO_POINTER(1),
			     test_every_prefix);
	g_test_add_data_func("/miscale/v2/every-prefix", GINT_TO_POINTER(2),
			     test_every_prefix);
	g_test_add_func("/miscale/null", test_null);
	g_test_add_func("/miscale/v1/bad/reserved-message",
			test_reserved_message);
	g_test_add_func("/miscale/is-measurement/null",
			test_is_measurement_null);
	return g_test_run();
}
