// SPDX-License-Identifier: MIT
/*
 * The packed minute (gateway/core/beats.h), table-driven. The entries are
 * written out byte by byte from the format's description (uint16 LE
 * offset, IEEE 754 binary64 LE value), not made with the code under test.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "gateway/core/beats.h"
#include "tests/unit/hex.h"

/* A few entries, as bytes. */
#define E0_78125   "0000 00000000006a8840" /* 0 ms, 781.25 */
#define E500_60	   "f401 0000000000004e40" /* 500 ms, 60.0 */
#define E1000_1000 "e803 0000000000408f40" /* 1000 ms, 1000.0 */
#define E1000_999  "e803 0000000000388f40" /* 1000 ms, 999.0 */
#define E40000_910 "409c 0000000000708c40" /* 40000 ms, 910.0 */
#define E59999_15  "5fea 000000000000f83f" /* 59999 ms, 1.5 */
#define E60000_15  "60ea 000000000000f83f" /* offset 60000: not one */

#define MAX_BYTES 256

struct split_case {
	int64_t t_ms, minute;
	uint16_t offset_ms;
};

static const struct split_case split_cases[] = {
	{ 0, 0, 0 },
	{ 59999, 0, 59999 },
	{ 60000, 1, 0 },
	/* 2024-11-26T05:46:40Z: 40 s into its minute */
	{ INT64_C(1732600000000), INT64_C(28876666), 40000 },
	/* Before 1970 the minute is the floor, the offset counts up. */
	{ -1, -1, 59999 },
	{ -60000, -1, 0 },
	{ -60001, -2, 59999 },
	{ BEATS_T_MS_LIMIT - 1, (BEATS_T_MS_LIMIT - 1) / 60000,
	  (uint16_t)((BEATS_T_MS_LIMIT - 1) % 60000) },
};

static void test_split(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(split_cases); i++) {
		const struct split_case *c = &split_cases[i];
		int64_t minute;
		uint16_t offset_ms;

		beats_split(c->t_ms, &minute, &offset_ms);
		g_assert_cmpint(minute, ==, c->minute);
		g_assert_cmpuint(offset_ms, ==, c->offset_ms);
		g_assert_cmpint(beats_join(minute, offset_ms), ==, c->t_ms);
	}
}

struct entry_case {
	uint16_t offset_ms;
	double value;
	const char *hex;
};

static const struct entry_case entry_cases[] = {
	{ 0, 781.25, E0_78125 },
	{ 40000, 910.0, E40000_910 },
	{ 59999, 1.5, E59999_15 },
};

/* beats_put writes what the format says; beats_get reads it back to the
 * last bit. */
static void test_entry(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(entry_cases); i++) {
		const struct entry_case *c = &entry_cases[i];
		uint8_t want[BEATS_ENTRY_SIZE], got[BEATS_ENTRY_SIZE];
		struct beat b = { c->offset_ms, c->value }, back;

		g_assert_cmpuint(test_hex(c->hex, want, sizeof(want)), ==,
				 BEATS_ENTRY_SIZE);
		beats_put(got, &b);
		g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
		g_assert_cmpint(beats_get(got, sizeof(got), 0, &back), ==, 0);
		g_assert_cmpuint(back.offset_ms, ==, c->offset_ms);
		g_assert_true(memcmp(&back.value, &c->value, sizeof(double)) ==
			      0);
	}
	/* A value that does not print short survives whole. */
	{
		uint8_t buf[BEATS_ENTRY_SIZE];
		struct beat b = { 1, 1000.0 / 1024.0 * 917 + 1e-13 }, back;

		beats_put(buf, &b);
		g_assert_cmpint(beats_get(buf, sizeof(buf), 0, &back), ==, 0);
		g_assert_true(memcmp(&back.value, &b.value, sizeof(double)) ==
			      0);
	}
}

struct check_case {
	const char *name;
	const char *hex;
	int result;
	size_t bad;
};

static const struct check_case check_cases[] = {
	{ "empty", "", 0, 0 },
	{ "one", E40000_910, 0, 0 },
	{ "three", E0_78125 E1000_1000 E59999_15, 0, 0 },
	{ "out-of-order", E1000_1000 E0_78125, -EBADMSG, 1 },
	{ "repeat", E1000_1000 E1000_999, -EBADMSG, 1 },
	{ "offset-60000", E0_78125 E60000_15, -EBADMSG, 1 },
	{ "partial", E0_78125 "e803", -EBADMSG, 1 },
	{ "only-partial", "00", -EBADMSG, 0 },
};

static void test_check(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		uint8_t buf[MAX_BYTES];
		size_t n = test_hex(c->hex, buf, sizeof(buf)), bad = 999;

		g_test_message("%s", c->name);
		g_assert_cmpint(beats_check(buf, n, &bad), ==, c->result);
		if (c->result < 0)
			g_assert_cmpuint(bad, ==, c->bad);
	}
}

struct merge_case {
	const char *name;
	const char *old, *add, *want; /* want NULL: -EBADMSG */
};

static const struct merge_case merge_cases[] = {
	{ "into-nothing", "", E500_60 E1000_1000, E500_60 E1000_1000 },
	{ "nothing-new", E500_60, "", E500_60 },
	{ "interleaved", E0_78125 E1000_1000, E500_60 E59999_15,
	  E0_78125 E500_60 E1000_1000 E59999_15 },
	/* The natural key: the beat stored first stays. */
	{ "stored-wins", E1000_1000, E1000_999, E1000_1000 },
	{ "repeat-whole", E0_78125 E500_60, E0_78125 E500_60,
	  E0_78125 E500_60 },
	{ "old-damaged", E1000_1000 E0_78125, E500_60, NULL },
	{ "new-partial", E0_78125, "f401", NULL },
};

static void test_merge(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(merge_cases); i++) {
		const struct merge_case *c = &merge_cases[i];
		uint8_t old[MAX_BYTES], add[MAX_BYTES], want[MAX_BYTES];
		uint8_t out[2 * MAX_BYTES];
		size_t n_old = test_hex(c->old, old, sizeof(old));
		size_t n_add = test_hex(c->add, add, sizeof(add));
		long n;

		g_test_message("%s", c->name);
		n = beats_merge(old, n_old, add, n_add, out);
		if (!c->want) {
			g_assert_cmpint(n, ==, -EBADMSG);
			continue;
		}
		g_assert_cmpint(n, >=, 0);
		g_assert_cmpmem(out, (int)n, want,
				(int)test_hex(c->want, want, sizeof(want)));
	}
}

struct pack_case {
	const char *name;
	const char *in, *want; /* want NULL: -EBADMSG */
};

static const struct pack_case pack_cases[] = {
	{ "sorted", E0_78125 E500_60, E0_78125 E500_60 },
	{ "reversed", E59999_15 E500_60 E0_78125, E0_78125 E500_60 E59999_15 },
	/* Of two at one instant, the first that came. */
	{ "repeat-first-kept", E1000_999 E0_78125 E1000_1000,
	  E0_78125 E1000_999 },
	{ "offset-60000", E60000_15, NULL },
};

static void test_pack(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(pack_cases); i++) {
		const struct pack_case *c = &pack_cases[i];
		uint8_t buf[MAX_BYTES], want[MAX_BYTES];
		size_t n = test_hex(c->in, buf, sizeof(buf));
		long kept;

		g_test_message("%s", c->name);
		kept = beats_pack(buf, n / BEATS_ENTRY_SIZE);
		if (!c->want) {
			g_assert_cmpint(kept, ==, -EBADMSG);
			continue;
		}
		g_assert_cmpint(kept, >=, 0);
		g_assert_cmpmem(buf, (int)kept * BEATS_ENTRY_SIZE, want,
				(int)test_hex(c->want, want, sizeof(want)));
	}
}

static void test_has(void)
{
	uint8_t buf[MAX_BYTES];
	size_t n =
	    test_hex(E0_78125 E500_60 E1000_1000 E59999_15, buf, sizeof(buf));
	static const uint16_t present[] = { 0, 500, 1000, 59999 };
	static const uint16_t absent[] = { 1, 499, 501, 59998 };

	for (size_t i = 0; i < G_N_ELEMENTS(present); i++) {
		g_assert_true(beats_has(buf, n, present[i]));
		g_assert_false(beats_has(buf, n, absent[i]));
	}
	g_assert_false(beats_has(buf, 0, 0));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/beats/split", test_split);
	g_test_add_func("/beats/entry", test_entry);
	g_test_add_func("/beats/check", test_check);
	g_test_add_func("/beats/merge", test_merge);
	g_test_add_func("/beats/pack", test_pack);
	g_test_add_func("/beats/has", test_has);
	return g_test_run();
}
