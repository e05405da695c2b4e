// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "sensors/bcs.h"
#include "tests/unit/hex.h"

/* 2024-03-15 07:30:45 as a Date Time */
#define TS "e8 07 03 0f 07 1e 2d"
#define TS_VALUE                                                               \
	{                                                                      \
		2024, 3, 15, 7, 30, 45                                         \
	}

/*
 * One measurement, every field, body fat 21.0 %, user 3, 7588 kJ, muscle
 * 45.0 %, muscle 56.0 kg, fat free 59.25 kg, soft lean 55.5 kg, water
 * 41.0 kg, 512.3 ohm, 75.0 kg, 1.750 m: 30 bytes, one packet when the MTU
 * allows it.
 */
#define ALL_FIELDS_TAIL "c0 2b 4a 2e 5c 2b 08 20 03 14 98 3a d6 06"
#define ALL_SI		"fe 0f d2 00 " TS " 03 a4 1d c2 01 " ALL_FIELDS_TAIL

/*
 * The same measurement as a Goodix BCS server sends it at ATT_MTU 23: the
 * first packet fills 20 bytes up to fat free mass, the second repeats
 * flags and body fat and carries the rest; bit 12 is set in both.
 */
#define GOODIX_FIRST  "7e 10 d2 00 " TS " 03 a4 1d c2 01 c0 2b 4a 2e"
#define GOODIX_SECOND "80 1f d2 00 5c 2b 08 20 03 14 98 3a d6 06"
/* RivieraWaves moves fields from the end until the first packet fits. */
#define RW_FIRST  "3e 10 d2 00 " TS " 03 a4 1d c2 01 c0 2b"
#define RW_SECOND "c0 1f d2 00 4a 2e 5c 2b 08 20 03 14 98 3a d6 06"
/* No time stamp or user: fields only. */
#define BARE_FIRST  "78 10 d2 00 a4 1d c2 01 c0 2b 4a 2e"
#define BARE_SECOND GOODIX_SECOND

#define SINGLE_WEIGHT "00 04 d2 00 98 3a"

#define KG(raw)                                                                \
	{                                                                      \
		MASS_UNIT_KG, raw                                              \
	}
#define LB(raw)                                                                \
	{                                                                      \
		MASS_UNIT_LB, raw                                              \
	}

/* Fields of ALL_SI, as a struct */
#define ALL_SI_VALUE                                                           \
	.body_fat_raw = 210, .timestamp = TS_VALUE, .user_id = 3,              \
	.basal_metabolism_kj = 7588, .muscle_pct_raw = 450,                    \
	.muscle_mass = KG(11200), .fat_free_mass = KG(11850),                  \
	.soft_lean_mass = KG(11100), .body_water_mass = KG(8200),              \
	.impedance_raw = 5123, .weight = KG(15000), .height_raw = 1750

struct bcm_vector {
	const char *name;
	const char *hex;
	struct bcs_measurement want;
	double height_m;
};

static void assert_mass(struct mass got, struct mass want)
{
	g_assert_cmpint(got.unit, ==, want.unit);
	g_assert_cmpuint(got.raw, ==, want.raw);
}

/* Compares the fields @want's flags say are there, and the units of all. */
static void assert_bcs(const struct bcs_measurement *got,
		       const struct bcs_measurement *want)
{
	enum mass_unit unit =
	    want->flags & BCS_FLAG_IMPERIAL ? MASS_UNIT_LB : MASS_UNIT_KG;
	uint16_t f = want->flags;

	g_assert_cmphex(got->flags, ==, want->flags);
	g_assert_cmpuint(got->body_fat_raw, ==, want->body_fat_raw);
	g_assert_cmpint(got->body_fat_unsuccessful, ==,
			want->body_fat_unsuccessful);
	if (f & BCS_FLAG_TIMESTAMP) {
		g_assert_cmpuint(got->timestamp.year, ==, want->timestamp.year);
		g_assert_cmpuint(got->timestamp.month, ==,
				 want->timestamp.month);
		g_assert_cmpuint(got->timestamp.day, ==, want->timestamp.day);
		g_assert_cmpuint(got->timestamp.hours, ==,
				 want->timestamp.hours);
		g_assert_cmpuint(got->timestamp.minutes, ==,
				 want->timestamp.minutes);
		g_assert_cmpuint(got->timestamp.seconds, ==,
				 want->timestamp.seconds);
	}
	if (f & BCS_FLAG_USER_ID)
		g_assert_cmpuint(got->user_id, ==, want->user_id);
	if (f & BCS_FLAG_BASAL_METABOLISM)
		g_assert_cmpuint(got->basal_metabolism_kj, ==,
				 want->basal_metabolism_kj);
	if (f & BCS_FLAG_MUSCLE_PCT)
		g_assert_cmpuint(got->muscle_pct_raw, ==, want->muscle_pct_raw);
	if (f & BCS_FLAG_MUSCLE_MASS)
		assert_mass(got->muscle_mass, want->muscle_mass);
	if (f & BCS_FLAG_FAT_FREE_MASS)
		assert_mass(got->fat_free_mass, want->fat_free_mass);
	if (f & BCS_FLAG_SOFT_LEAN_MASS)
		assert_mass(got->soft_lean_mass, want->soft_lean_mass);
	if (f & BCS_FLAG_BODY_WATER_MASS)
		assert_mass(got->body_water_mass, want->body_water_mass);
	if (f & BCS_FLAG_IMPEDANCE)
		g_assert_cmpuint(got->impedance_raw, ==, want->impedance_raw);
	if (f & BCS_FLAG_WEIGHT)
		assert_mass(got->weight, want->weight);
	if (f & BCS_FLAG_HEIGHT)
		g_assert_cmpuint(got->height_raw, ==, want->height_raw);

	/* Absent masses still carry the packet's unit. */
	g_assert_cmpint(got->muscle_mass.unit, ==, unit);
	g_assert_cmpint(got->fat_free_mass.unit, ==, unit);
	g_assert_cmpint(got->soft_lean_mass.unit, ==, unit);
	g_assert_cmpint(got->body_water_mass.unit, ==, unit);
	g_assert_cmpint(got->weight.unit, ==, unit);
}

/* Valid vectors built from the GSS Body Composition Measurement table. */
static const struct bcm_vector valid[] = {
	{ "/bcs/si/body-fat-only", "00 00 d2 00", { .body_fat_raw = 210 } },
	{ "/bcs/imperial/body-fat-only",
	  "01 00 d2 00",
	  { .flags = 0x0001, .body_fat_raw = 210 } },
	{ "/bcs/si/timestamp",
	  "02 00 d2 00 " TS,
	  { .flags = 0x0002, .body_fat_raw = 210, .timestamp = TS_VALUE } },
	{ "/bcs/si/user",
	  "04 00 d2 00 03",
	  { .flags = 0x0004, .body_fat_raw = 210, .user_id = 3 } },
	{ "/bcs/si/user-unknown",
	  "04 00 d2 00 ff",
	  { .flags = 0x0004, .body_fat_raw = 210, .user_id = 0xff } },
	{ "/bcs/si/basal-metabolism",
	  "08 00 d2 00 a4 1d",
	  { .flags = 0x0008,
	    .body_fat_raw = 210,
	    .basal_metabolism_kj = 7588 } },
	{ "/bcs/si/muscle-percentage",
	  "10 00 d2 00 c2 01",
	  { .flags = 0x0010, .body_fat_raw = 210, .muscle_pct_raw = 450 } },
	{ "/bcs/si/muscle-mass",
	  "20 00 d2 00 c0 2b",
	  { .flags = 0x0020, .body_fat_raw = 210, .muscle_mass = KG(11200) } },
	{ "/bcs/si/fat-free-mass",
	  "40 00 d2 00 4a 2e",
	  { .flags = 0x0040,
	    .body_fat_raw = 210,
	    .fat_free_mass = KG(11850) } },
	{ "/bcs/si/soft-lean-mass",
	  "80 00 d2 00 5c 2b",
	  { .flags = 0x0080,
	    .body_fat_raw = 210,
	    .soft_lean_mass = KG(11100) } },
	{ "/bcs/si/body-water-mass",
	  "00 01 d2 00 08 20",
	  { .flags = 0x0100,
	    .body_fat_raw = 210,
	    .body_water_mass = KG(8200) } },
	{ "/bcs/si/impedance",
	  "00 02 d2 00 03 14",
	  { .flags = 0x0200, .body_fat_raw = 210, .impedance_raw = 5123 } },
	{ "/bcs/si/weight",
	  "00 04 d2 00 98 3a",
	  { .flags = 0x0400, .body_fat_raw = 210, .weight = KG(15000) } },
	{ "/bcs/si/height",
	  "00 08 d2 00 d6 06",
	  { .flags = 0x0800, .body_fat_raw = 210, .height_raw = 1750 },
	  1.75 },
	{ "/bcs/si/all-fields",
	  ALL_SI,
	  { .flags = 0x0ffe, ALL_SI_VALUE },
	  1.75 },
	/* Imperial: masses in 0.01 lb, height 68.9 in. */
	{ "/bcs/imperial/all-fields",
	  "ff 0f d2 00 " TS " ff a4 1d c2 01 3a 30 07 33 cc 2f 4f 23 03 14 "
	  "97 40 b1 02",
	  { .flags = 0x0fff,
	    .body_fat_raw = 210,
	    .timestamp = TS_VALUE,
	    .user_id = 0xff,
	    .basal_metabolism_kj = 7588,
	    .muscle_pct_raw = 450,
	    .muscle_mass = LB(12346),
	    .fat_free_mass = LB(13063),
	    .soft_lean_mass = LB(12236),
	    .body_water_mass = LB(9039),
	    .impedance_raw = 5123,
	    .weight = LB(16535),
	    .height_raw = 689 },
	  68.9 * 0.0254 },
	{ "/bcs/body-fat/zero", "00 00 00 00", { .body_fat_raw = 0 } },
	{ "/bcs/body-fat/max", "00 00 e8 03", { .body_fat_raw = 1000 } },
	{ "/bcs/muscle-percentage/max",
	  "10 00 d2 00 e8 03",
	  { .flags = 0x0010, .body_fat_raw = 210, .muscle_pct_raw = 1000 } },
	/* 0xFFFF: Measurement Unsuccessful; Time Stamp and User ID may stay. */
	{ "/bcs/unsuccessful/plain",
	  "00 00 ff ff",
	  { .body_fat_raw = 0xffff, .body_fat_unsuccessful = true } },
	{ "/bcs/unsuccessful/timestamp-user",
	  "06 00 ff ff " TS " 01",
	  { .flags = 0x0006,
	    .body_fat_raw = 0xffff,
	    .body_fat_unsuccessful = true,
	    .timestamp = TS_VALUE,
	    .user_id = 1 } },
	/* The spec wants other fields absent then; flags still rule. */
	{ "/bcs/unsuccessful/weight-read-as-sent",
	  "00 04 ff ff 98 3a",
	  { .flags = 0x0400,
	    .body_fat_raw = 0xffff,
	    .body_fat_unsuccessful = true,
	    .weight = KG(15000) } },
	/* Reserved flag bits 13-15 are ignored and cleared. */
	{ "/bcs/reserved-bits-ignored",
	  "00 e0 d2 00",
	  { .body_fat_raw = 210 } },
	{ "/bcs/reserved-bits-with-fields",
	  "00 e4 d2 00 98 3a",
	  { .flags = 0x0400, .body_fat_raw = 210, .weight = KG(15000) } },
	/* Bytes after the last announced field may be a later revision's. */
	{ "/bcs/trailing-ignored",
	  "00 00 d2 00 aa bb",
	  { .body_fat_raw = 210 } },
	{ "/bcs/trailing-after-all-fields",
	  ALL_SI " ee",
	  { .flags = 0x0ffe, ALL_SI_VALUE },
	  1.75 },
	/* Timestamps are kept whatever their values. */
	{ "/bcs/timestamp/unknown-kept",
	  "02 00 d2 00 00 00 00 00 00 00 00",
	  { .flags = 0x0002, .body_fat_raw = 210 } },
	{ "/bcs/timestamp/out-of-range-kept",
	  "02 00 d2 00 ff ff 0d 20 18 3c 3c",
	  { .flags = 0x0002,
	    .body_fat_raw = 210,
	    .timestamp = { 0xffff, 13, 32, 24, 60, 60 } } },
	/* Each packet of a two-packet measurement parses on its own. */
	{ "/bcs/multi/goodix-first",
	  GOODIX_FIRST,
	  { .flags = 0x107e,
	    .body_fat_raw = 210,
	    .timestamp = TS_VALUE,
	    .user_id = 3,
	    .basal_metabolism_kj = 7588,
	    .muscle_pct_raw = 450,
	    .muscle_mass = KG(11200),
	    .fat_free_mass = KG(11850) } },
	{ "/bcs/multi/goodix-second",
	  GOODIX_SECOND,
	  { .flags = 0x1f80,
	    .body_fat_raw = 210,
	    .soft_lean_mass = KG(11100),
	    .body_water_mass = KG(8200),
	    .impedance_raw = 5123,
	    .weight = KG(15000),
	    .height_raw = 1750 },
	  1.75 },
};

static void test_valid(gconstpointer data)
{
	const struct bcm_vector *v = data;
	struct bcs_measurement m;
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&m, 0xa5, sizeof(m));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &m, &err), ==, 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_NONE);
	assert_bcs(&m, &v->want);
	g_assert_cmpfloat_with_epsilon(bcs_height_m(&m), v->height_m, 1e-9);
}

struct bad_vector {
	const char *name;
	const char *hex;
	int error;
	const char *field;
	size_t offset;
	size_t need, left; /* TRUNCATED */
	uint32_t value;	   /* OUT_OF_RANGE */
};

/*
 * The negative taxonomy: truncated at each field boundary and inside each
 * field, and percentages above 100.0 %.
 */
static const struct bad_vector invalid[] = {
	{ "/bcs/bad/empty", "", -EBADMSG, "flags", 0, 2, 0 },
	{ "/bcs/bad/half-flags", "00", -EBADMSG, "flags", 0, 2, 1 },
	{ "/bcs/bad/no-body-fat", "00 00", -EBADMSG, "body fat percentage", 2,
	  2, 0 },
	{ "/bcs/bad/half-body-fat", "00 00 d2", -EBADMSG, "body fat percentage",
	  2, 2, 1 },
	{ "/bcs/bad/no-timestamp", "02 00 d2 00", -EBADMSG, "timestamp", 4, 7,
	  0 },
	{ "/bcs/bad/short-timestamp", "02 00 d2 00 e8 07 03", -EBADMSG,
	  "timestamp", 4, 7, 3 },
	{ "/bcs/bad/no-user", "04 00 d2 00", -EBADMSG, "user id", 4, 1, 0 },
	{ "/bcs/bad/half-basal-metabolism", "08 00 d2 00 a4", -EBADMSG,
	  "basal metabolism", 4, 2, 1 },
	{ "/bcs/bad/no-muscle-percentage", "10 00 d2 00", -EBADMSG,
	  "muscle percentage", 4, 2, 0 },
	{ "/bcs/bad/half-muscle-mass", "20 00 d2 00 c0", -EBADMSG,
	  "muscle mass", 4, 2, 1 },
	{ "/bcs/bad/no-fat-free-mass", "40 00 d2 00", -EBADMSG, "fat free mass",
	  4, 2, 0 },
	{ "/bcs/bad/half-soft-lean-mass", "80 00 d2 00 5c", -EBADMSG,
	  "soft lean mass", 4, 2, 1 },
	{ "/bcs/bad/no-body-water-mass", "00 01 d2 00", -EBADMSG,
	  "body water mass", 4, 2, 0 },
	{ "/bcs/bad/half-impedance", "00 02 d2 00 03", -EBADMSG, "impedance", 4,
	  2, 1 },
	{ "/bcs/bad/no-weight", "00 04 d2 00", -EBADMSG, "weight", 4, 2, 0 },
	{ "/bcs/bad/half-height", "00 08 d2 00 d6", -EBADMSG, "height", 4, 2,
	  1 },
	{ "/bcs/bad/unsuccessful-no-user", "06 00 ff ff " TS, -EBADMSG,
	  "user id", 11, 1, 0 },
	{ "/bcs/bad/goodix-second-cut", "80 1f d2 00 5c 2b 08 20 03 14 98 3a",
	  -EBADMSG, "height", 12, 2, 0 },
	/* Above 100.0 %, and not the special 0xFFFF */
	{ "/bcs/bad/body-fat-1001", "00 00 e9 03", -EINVAL,
	  "body fat percentage", 2, .value = 1001 },
	{ "/bcs/bad/body-fat-fffe", "00 00 fe ff", -EINVAL,
	  "body fat percentage", 2, .value = 0xfffe },
	/* The range fault comes first: it is earlier in the value. */
	{ "/bcs/bad/body-fat-before-truncation", "02 00 e9 03", -EINVAL,
	  "body fat percentage", 2, .value = 1001 },
	{ "/bcs/bad/muscle-percentage-1001", "10 00 d2 00 e9 03", -EINVAL,
	  "muscle percentage", 4, .value = 1001 },
	/* 0xFFFF is special for body fat only. */
	{ "/bcs/bad/muscle-percentage-ffff", "10 00 d2 00 ff ff", -EINVAL,
	  "muscle percentage", 4, .value = 0xffff },
	{ "/bcs/bad/muscle-percentage-after-timestamp",
	  "12 00 d2 00 " TS " e9 03", -EINVAL, "muscle percentage", 11,
	  .value = 1001 },
};

static void test_invalid(gconstpointer data)
{
	const struct bad_vector *v = data;
	struct bcs_measurement m, untouched;
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	char msg[160];

	memset(&m, 0xa5, sizeof(m));
	untouched = m;
	g_assert_cmpint(bcs_parse_measurement(buf, len, &m, &err), ==,
			v->error);
	g_assert_true(memcmp(&m, &untouched, sizeof(m)) == 0);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	if (v->error == -EBADMSG) {
		g_assert_cmpint(err.fault, ==, PARSE_FAULT_TRUNCATED);
		g_assert_cmpuint(err.need, ==, v->need);
		g_assert_cmpuint(err.left, ==, v->left);
	} else {
		g_assert_cmpint(err.fault, ==, PARSE_FAULT_OUT_OF_RANGE);
		g_assert_cmpuint(err.value, ==, v->value);
		g_assert_cmpstr(err.expected, ==, "0-100.0 %");
	}
	g_assert_cmpint(parse_error_format(&err, msg, sizeof(msg)), >, 0);
}

/* Every strict prefix of the 30-byte value names the field it cuts. */
static void test_every_prefix(void)
{
	static const struct {
		size_t start;
		const char *field;
	} fields[] = {
		{ 0, "flags" },
		{ 2, "body fat percentage" },
		{ 4, "timestamp" },
		{ 11, "user id" },
		{ 12, "basal metabolism" },
		{ 14, "muscle percentage" },
		{ 16, "muscle mass" },
		{ 18, "fat free mass" },
		{ 20, "soft lean mass" },
		{ 22, "body water mass" },
		{ 24, "impedance" },
		{ 26, "weight" },
		{ 28, "height" },
		{ 30, NULL },
	};
	uint8_t buf[64];
	size_t full = test_hex(ALL_SI, buf, sizeof(buf));

	g_assert_cmpuint(full, ==, 30);
	for (size_t len = 0; len < full; len++) {
		struct bcs_measurement m, untouched;
		struct parse_error err = { 0 };
		size_t i = 0;

		while (fields[i + 1].start <= len)
			i++;
		memset(&m, 0x5a, sizeof(m));
		untouched = m;
		g_assert_cmpint(bcs_parse_measurement(buf, len, &m, &err), ==,
				-EBADMSG);
		g_assert_true(memcmp(&m, &untouched, sizeof(m)) == 0);
		g_assert_cmpstr(err.field, ==, fields[i].field);
		g_assert_cmpuint(err.offset, ==, fields[i].start);
		g_assert_cmpuint(err.left, ==, len - fields[i].start);
		g_assert_cmpuint(err.need, ==,
				 fields[i + 1].start - fields[i].start);
	}
}

static void test_null(void)
{
	struct bcs_measurement m;
	struct parse_error err = { 0 };

	g_assert_cmpint(bcs_parse_measurement(NULL, 0, &m, &err), ==, -EBADMSG);
	g_assert_cmpstr(err.field, ==, "flags");
}

static void test_height_m(void)
{
	struct bcs_measurement m = { .height_raw = 1750 };

	/* Without bit 11 the height field is meaningless. */
	g_assert_cmpfloat(bcs_height_m(&m), ==, 0.0);
	m.flags = BCS_FLAG_HEIGHT;
	g_assert_cmpfloat_with_epsilon(bcs_height_m(&m), 1.75, 1e-12);
	m.flags |= BCS_FLAG_IMPERIAL;
	g_assert_cmpfloat_with_epsilon(bcs_height_m(&m), 175.0 * 0.0254, 1e-12);
}

#define MAX_PACKETS 4

struct assembly_vector {
	const char *name;
	const char *packets[MAX_PACKETS]; /* NULL-terminated */
	int rc[MAX_PACKETS];
	uint16_t flags[MAX_PACKETS]; /* of what each 0 returned */
	bool pending_after;
};

/*
 * Sequences of packets through one assembler: what each push returns, the
 * flags of each whole measurement, and whether a half is left pending.
 */
static const struct assembly_vector assemblies[] = {
	{ "/bcs/assembler/single-passes-through",
	  { SINGLE_WEIGHT },
	  { 0 },
	  { 0x0400 } },
	{ "/bcs/assembler/single-all-fields", { ALL_SI }, { 0 }, { 0x0ffe } },
	{ "/bcs/assembler/goodix-halves-merge",
	  { GOODIX_FIRST, GOODIX_SECOND },
	  { -EAGAIN, 0 },
	  { 0, 0x0ffe } },
	{ "/bcs/assembler/rw-halves-merge",
	  { RW_FIRST, RW_SECOND },
	  { -EAGAIN, 0 },
	  { 0, 0x0ffe } },
	{ "/bcs/assembler/bare-halves-merge",
	  { BARE_FIRST, BARE_SECOND },
	  { -EAGAIN, 0 },
	  { 0, 0x0ff8 } },
	{ "/bcs/assembler/imperial-halves-merge",
	  { "7f 10 d2 00 " TS " 03 a4 1d c2 01 c0 2b 4a 2e",
	    "81 1f d2 00 5c 2b 08 20 03 14 98 3a d6 06" },
	  { -EAGAIN, 0 },
	  { 0, 0x0fff } },
	/* A second half may carry no field at all. */
	{ "/bcs/assembler/empty-second-half",
	  { GOODIX_FIRST, "00 10 d2 00" },
	  { -EAGAIN, 0 },
	  { 0, 0x007e } },
	/* ...and a first half too: then everything comes from the second. */
	{ "/bcs/assembler/empty-first-half",
	  { "00 10 d2 00", "0e 10 d2 00 " TS " 03 a4 1d" },
	  { -EAGAIN, 0 },
	  { 0, 0x000e } },
	{ "/bcs/assembler/two-measurements-in-a-row",
	  { GOODIX_FIRST, GOODIX_SECOND, RW_FIRST, RW_SECOND },
	  { -EAGAIN, 0, -EAGAIN, 0 },
	  { 0, 0x0ffe, 0, 0x0ffe } },
	/* A single packet ends any pending half: it is returned as is. */
	{ "/bcs/assembler/lone-first-then-single",
	  { GOODIX_FIRST, SINGLE_WEIGHT },
	  { -EAGAIN, 0 },
	  { 0, 0x0400 } },
	{ "/bcs/assembler/lone-first-then-single-then-pair",
	  { GOODIX_FIRST, SINGLE_WEIGHT, GOODIX_FIRST, GOODIX_SECOND },
	  { -EAGAIN, 0, -EAGAIN, 0 },
	  { 0, 0x0400, 0, 0x0ffe } },
	/*
	 * A lone second half (its first lost) cannot pair with the next
	 * first half: that one's fields come before, not after.
	 */
	{ "/bcs/assembler/lone-second-then-pair",
	  { GOODIX_SECOND, GOODIX_FIRST, GOODIX_SECOND },
	  { -EAGAIN, -EAGAIN, 0 },
	  { 0, 0, 0x0ffe } },
	{ "/bcs/assembler/lone-second-alone",
	  { GOODIX_SECOND },
	  { -EAGAIN },
	  { 0 },
	  true },
	/* Two first halves: the older is dropped, the newer waits. */
	{ "/bcs/assembler/first-then-first",
	  { GOODIX_FIRST, GOODIX_FIRST, GOODIX_SECOND },
	  { -EAGAIN, -EAGAIN, 0 },
	  { 0, 0, 0x0ffe } },
	/* Units differ: not the same measurement. */
	{ "/bcs/assembler/unit-mismatch",
	  { GOODIX_FIRST, "81 1f d2 00 5c 2b 08 20 03 14 98 3a d6 06" },
	  { -EAGAIN, -EAGAIN },
	  { 0, 0 },
	  true },
	/* Body fat is repeated in both halves; a different one is not ours. */
	{ "/bcs/assembler/body-fat-mismatch",
	  { GOODIX_FIRST, "80 1f dc 00 5c 2b 08 20 03 14 98 3a d6 06" },
	  { -EAGAIN, -EAGAIN },
	  { 0, 0 },
	  true },
	/* The same field in both halves: a new measurement's first half. */
	{ "/bcs/assembler/overlapping-fields",
	  { RW_FIRST, GOODIX_FIRST },
	  { -EAGAIN, -EAGAIN },
	  { 0, 0 },
	  true },
};

static void test_assembly(gconstpointer data)
{
	const struct assembly_vector *v = data;
	struct bcs_assembler a;

	bcs_assembler_reset(&a);
	for (size_t i = 0; i < MAX_PACKETS && v->packets[i]; i++) {
		struct bcs_measurement part, out, untouched;
		uint8_t buf[64];
		size_t len = test_hex(v->packets[i], buf, sizeof(buf));

		g_assert_cmpint(bcs_parse_measurement(buf, len, &part, NULL),
				==, 0);
		memset(&out, 0xa5, sizeof(out));
		untouched = out;
		g_assert_cmpint(bcs_assembler_push(&a, &part, &out), ==,
				v->rc[i]);
		if (v->rc[i] == 0) {
			g_assert_cmphex(out.flags, ==, v->flags[i]);
			g_assert_false(out.flags & BCS_FLAG_MULTIPLE_PACKET);
			g_assert_false(a.pending);
		} else {
			g_assert_true(memcmp(&out, &untouched, sizeof(out)) ==
				      0);
			g_assert_true(a.pending);
		}
	}
	g_assert_cmpint(a.pending, ==, v->pending_after);
}

/* Merged halves hold exactly what the one-packet form of the value does. */
static void test_merge_values(gconstpointer data)
{
	const char *const *halves = data;
	static const struct bcs_measurement want = { .flags = 0x0ffe,
						     ALL_SI_VALUE };
	struct bcs_measurement first, second, out;
	struct bcs_assembler a;
	uint8_t buf[64];
	size_t len;

	bcs_assembler_reset(&a);
	len = test_hex(halves[0], buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &first, NULL), ==, 0);
	len = test_hex(halves[1], buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &second, NULL), ==, 0);

	g_assert_cmpint(bcs_assembler_push(&a, &first, &out), ==, -EAGAIN);
	g_assert_cmpint(bcs_assembler_push(&a, &second, &out), ==, 0);
	assert_bcs(&out, &want);
	g_assert_cmpfloat_with_epsilon(bcs_height_m(&out), 1.75, 1e-12);
}

static const char *const goodix_halves[] = { GOODIX_FIRST, GOODIX_SECOND };
static const char *const rw_halves[] = { RW_FIRST, RW_SECOND };
/* Bit 12 set on the whole value, with an empty half before or after it */
#define ALL_SI_MULTI "fe 1f d2 00 " TS " 03 a4 1d c2 01 " ALL_FIELDS_TAIL
static const char *const empty_first_halves[] = { "00 10 d2 00", ALL_SI_MULTI };
static const char *const empty_second_halves[] = { ALL_SI_MULTI,
						   "00 10 d2 00" };

/* Unsuccessful halves merge too, and keep the flag. */
static void test_merge_unsuccessful(void)
{
	struct bcs_measurement first, second, out;
	struct bcs_assembler a;
	uint8_t buf[32];
	size_t len;

	bcs_assembler_reset(&a);
	len = test_hex("06 10 ff ff " TS " 01", buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &first, NULL), ==, 0);
	len = test_hex("00 14 ff ff 98 3a", buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &second, NULL), ==, 0);
	g_assert_cmpint(bcs_assembler_push(&a, &first, &out), ==, -EAGAIN);
	g_assert_cmpint(bcs_assembler_push(&a, &second, &out), ==, 0);
	g_assert_cmphex(out.flags, ==, 0x0406);
	g_assert_cmpuint(out.body_fat_raw, ==, 0xffff);
	g_assert_true(out.body_fat_unsuccessful);
	g_assert_cmpuint(out.user_id, ==, 1);
	g_assert_cmpuint(out.timestamp.year, ==, 2024);
	g_assert_cmpuint(out.weight.raw, ==, 15000);
}

/* A reset (link dropped) forgets the pending half. */
static void test_reset(void)
{
	struct bcs_measurement first, second, out;
	struct bcs_assembler a;
	uint8_t buf[32];
	size_t len;

	bcs_assembler_reset(&a);
	g_assert_false(a.pending);
	len = test_hex(GOODIX_FIRST, buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &first, NULL), ==, 0);
	len = test_hex(GOODIX_SECOND, buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &second, NULL), ==, 0);

	g_assert_cmpint(bcs_assembler_push(&a, &first, &out), ==, -EAGAIN);
	bcs_assembler_reset(&a);
	g_assert_false(a.pending);
	/* The second half now waits for a partner that will not come. */
	g_assert_cmpint(bcs_assembler_push(&a, &second, &out), ==, -EAGAIN);
	g_assert_true(a.pending);
}

/* The whole measurement may be written over the packet it came from. */
static void test_push_in_place(void)
{
	struct bcs_measurement m;
	struct bcs_assembler a;
	uint8_t buf[32];
	size_t len = test_hex(SINGLE_WEIGHT, buf, sizeof(buf));

	bcs_assembler_reset(&a);
	g_assert_cmpint(bcs_parse_measurement(buf, len, &m, NULL), ==, 0);
	g_assert_cmpint(bcs_assembler_push(&a, &m, &m), ==, 0);
	g_assert_cmphex(m.flags, ==, 0x0400);
	g_assert_cmpuint(m.weight.raw, ==, 15000);

	len = test_hex(GOODIX_FIRST, buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &m, NULL), ==, 0);
	g_assert_cmpint(bcs_assembler_push(&a, &m, &m), ==, -EAGAIN);
	len = test_hex(GOODIX_SECOND, buf, sizeof(buf));
	g_assert_cmpint(bcs_parse_measurement(buf, len, &m, NULL), ==, 0);
	g_assert_cmpint(bcs_assembler_push(&a, &m, &m), ==, 0);
	g_assert_cmphex(m.flags, ==, 0x0ffe);
	g_assert_cmpuint(m.user_id, ==, 3);
	g_assert_cmpuint(m.height_raw, ==, 1750);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
		g_test_add_data_func(valid[i].name, &valid[i], test_valid);
	for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
		g_test_add_data_func(invalid[i].name, &invalid[i],
				     test_invalid);
	for (size_t i = 0; i < G_N_ELEMENTS(assemblies); i++)
		g_test_add_data_func(assemblies[i].name, &assemblies[i],
				     test_assembly);
	g_test_add_data_func("/bcs/assembler/goodix-values", goodix_halves,
			     test_merge_values);
	g_test_add_data_func("/bcs/assembler/rw-values", rw_halves,
			     test_merge_values);
	g_test_add_data_func("/bcs/assembler/empty-first-values",
			     empty_first_halves, test_merge_values);
	g_test_add_data_func("/bcs/assembler/empty-second-values",
			     empty_second_halves, test_merge_values);
	g_test_add_func("/bcs/assembler/unsuccessful", test_merge_unsuccessful);
	g_test_add_func("/bcs/assembler/reset", test_reset);
	g_test_add_func("/bcs/assembler/in-place", test_push_in_place);
	g_test_add_func("/bcs/bad/every-prefix", test_every_prefix);
	g_test_add_func("/bcs/bad/null", test_null);
	g_test_add_func("/bcs/height-m", test_height_m);
	return g_test_run();
}
