// SPDX-License-Identifier: MIT
#include "tests/unit/scale-test.h"

#include "sensors/scale-yunmai.h"

enum { X_ADV, NOTIFY };

static int test_parse(int variant, const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err)
{
	struct yunmai_reading r;
	int err;

	if (variant == X_ADV)
		return yunmai_x_parse_adv(data, len, ret, ret_err);
	err = yunmai_parse_notify(data, len, &r, ret_err);
	if (err == 0)
		*ret = r.weighing;
	return err;
}

#define F_X	     SCALE_FAMILY_YUNMAI_X
#define F_G	     SCALE_FAMILY_YUNMAI_GATT
#define X_REAL_FINAL "8b 01 68 ed 0b 74 17 04 03 1b a8 02 13 a5"
#define MINI_FINAL   "0d 1f 14 02 00 59 c6 15 2f 23 d0 b6 32 26 95 00 a5 08 f2 37"

static const struct scale_vector valid[] = {
	/*
	 * Yunmai X, a real weighing: pagarsky/openScale commit 9b50c115,
	 * YunmaiXHandlerTest.kt (the branch of oliexdev/openScale PR #1418),
	 * captured with nRF Connect from a YMBS-M268: live 70.55 kg, stable
	 * 70.80 kg, final 70.80 kg with 531 ohm. The merged test replaced
	 * them with built frames, like the rows after these.
	 */
	{ "/scale/yunmai/x/real-70.55kg-live", X_ADV,
	  "8b 01 68 ed 0b 74 17 04 01 1b 8f 00 00 91", F_X, 70.55, false, NONE,
	  NONE },
	{ "/scale/yunmai/x/real-70.80kg-stable", X_ADV,
	  "8b 01 68 ed 0b 74 17 04 02 1b a8 00 00 b5", F_X, 70.80, false, NONE,
	  NONE },
	{ "/scale/yunmai/x/real-70.80kg-final-531ohm", X_ADV, X_REAL_FINAL, F_X,
	  70.80, true, 531, NONE },
	/* Built from the table in scale-yunmai.c with the placeholder
	 * address of openScale's merged YunmaiXHandlerTest. */
	{ "/scale/yunmai/x/built-79.55kg-live", X_ADV,
	  "12 ee ff c0 0b 74 17 04 01 1f 13 00 00 09", F_X, 79.55, false, NONE,
	  NONE },
	{ "/scale/yunmai/x/built-80kg-stable", X_ADV,
	  "12 ee ff c0 0b 74 17 04 02 1f 40 00 00 59", F_X, 80.0, false, NONE,
	  NONE },
	{ "/scale/yunmai/x/built-80kg-final-500ohm", X_ADV,
	  "12 ee ff c0 0b 74 17 04 03 1f 40 01 f4 ad", F_X, 80.0, true, 500,
	  NONE },
	{ "/scale/yunmai/x/built-other-session-byte", X_ADV,
	  "12 ee ff c0 0b 74 17 10 03 1f 40 01 f4 b9", F_X, 80.0, true, 500,
	  NONE },

	/* oliexdev/openScale issue #71: a Yunmai Mini's live, then final. */
	{ "/scale/yunmai/gatt/real-mini-98.77kg-live", NOTIFY,
	  "0d 1f 0b 01 59 c6 15 2f 26 95 03", F_G, 98.77, false, NONE, NONE },
	{ "/scale/yunmai/gatt/real-mini-98.77kg-final", NOTIFY, MINI_FINAL, F_G,
	  98.77, true, 165, NONE },
	/* oliexdev/openScale issue #1286 (YUNMAI-SIGNAL, protocol 0x13). */
	{ "/scale/yunmai/gatt/real-signal-79.86kg-live", NOTIFY,
	  "0d 13 0b 01 00 00 00 4e 1f 32 7a", F_G, 79.86, false, NONE, NONE },
	{ "/scale/yunmai/gatt/real-signal-79.83kg-live", NOTIFY,
	  "0d 13 0b 01 00 00 00 4f 1f 2f 66", F_G, 79.83, false, NONE, NONE },
	/* Built: an SE record ends after the weight (16 bytes). */
	{ "/scale/yunmai/gatt/built-se-final", NOTIFY,
	  "0d 13 10 02 00 59 c6 15 2f 00 00 00 01 26 95 16", F_G, 98.77, true,
	  NONE, NONE },
};

static const struct scale_bad_vector invalid[] = {
	{ "/scale/yunmai/x/bad/empty", X_ADV, "", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "address", 0 },
	{ "/scale/yunmai/x/bad/signature", X_ADV,
	  "12 ee ff c0 0b 75 17 04 03 1f 40 01 f4 ad", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "signature", 4 },
	/* openScale's "corrupted checksum" case: weight changed, XOR stale. */
	{ "/scale/yunmai/x/bad/checksum", X_ADV,
	  "12 ee ff c0 0b 74 17 04 03 1c 40 01 f4 ad", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "checksum", 13 },
	{ "/scale/yunmai/x/bad/no-checksum", X_ADV,
	  "12 ee ff c0 0b 74 17 04 03 1f 40 01 f4", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "checksum", 13 },
	{ "/scale/yunmai/x/bad/reserved-state", X_ADV,
	  "12 ee ff c0 0b 74 17 04 04 1f 40 00 00 5f", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "state", 8 },
	/* The same capture (pagarsky/openScale 9b50c115): the empty scale. */
	{ "/scale/yunmai/x/bad/real-idle-0kg", X_ADV,
	  "8b 01 68 ed 0b 74 17 04 01 00 00 00 00 05", -EINVAL,
	  PARSE_FAULT_OUT_OF_RANGE, "weight", 9 },
	{ "/scale/yunmai/x/bad/idle-0kg", X_ADV,
	  "12 ee ff c0 0b 74 17 04 01 00 00 00 00 05", -EINVAL,
	  PARSE_FAULT_OUT_OF_RANGE, "weight", 9 },

	/* openScale issue #1286: the empty scale's live frame. */
	{ "/scale/yunmai/gatt/bad/real-signal-0kg", NOTIFY,
	  "0d 13 0b 01 00 00 00 4e 00 00 57", -EINVAL, PARSE_FAULT_OUT_OF_RANGE,
	  "weight", 8 },
	{ "/scale/yunmai/gatt/bad/empty", NOTIFY, "", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "start", 0 },
	{ "/scale/yunmai/gatt/bad/start", NOTIFY,
	  "0e 13 0b 01 00 00 00 4e 1f 32 7a", -EBADMSG, PARSE_FAULT_MALFORMED,
	  "start", 0 },
	{ "/scale/yunmai/gatt/bad/no-type", NOTIFY, "0d 13 0b", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "type", 3 },
	{ "/scale/yunmai/gatt/bad/shorter-than-size", NOTIFY,
	  "0d 13 0b 01 00 00 00 4e 1f 32", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "frame", 0 },
	{ "/scale/yunmai/gatt/bad/size-too-small", NOTIFY, "0d 13 04 01 00",
	  -EBADMSG, PARSE_FAULT_MALFORMED, "size", 2 },
	{ "/scale/yunmai/gatt/bad/checksum", NOTIFY,
	  "0d 13 0b 01 00 00 00 4e 1f 32 7b", -EBADMSG, PARSE_FAULT_MALFORMED,
	  "checksum", 10 },
	/* A measured record whose size leaves no room for the weight. */
	{ "/scale/yunmai/gatt/bad/measured-too-short", NOTIFY,
	  "0d 13 0b 02 00 00 00 4e 1f 32 79", -EBADMSG, PARSE_FAULT_MALFORMED,
	  "size", 2 },
	/* Protocol-version answer (type 0x05): not a weighing. */
	{ "/scale/yunmai/gatt/bad/other-type", NOTIFY, "0d 13 06 05 1e 0e",
	  -ENOTSUP, PARSE_FAULT_RESERVED, "type", 3 },
};

static const struct scale_prefix_vector prefixes[] = {
	{ "/scale/yunmai/x/every-prefix-real", X_ADV, X_REAL_FINAL,
	  YUNMAI_X_SIZE },
	{ "/scale/yunmai/x/every-prefix", X_ADV,
	  "12 ee ff c0 0b 74 17 04 03 1f 40 01 f4 ad", YUNMAI_X_SIZE },
	{ "/scale/yunmai/gatt/every-prefix-live", NOTIFY,
	  "0d 1f 0b 01 59 c6 15 2f 26 95 03", 11 },
	{ "/scale/yunmai/gatt/every-prefix-final", NOTIFY, MINI_FINAL, 20 },
};

/* The Mini's record: clock, user id and body fat (protocol >= 0x1E). */
static void test_mini_record(void)
{
	uint8_t buf[32];
	size_t len = test_hex(MINI_FINAL, buf, sizeof(buf));
	struct yunmai_reading r;

	g_assert_cmpint(yunmai_parse_notify(buf, len, &r, NULL), ==, 0);
	g_assert_cmpuint(r.protocol, ==, 0x1f);
	g_assert_true(r.has_time);
	g_assert_cmpuint(r.unix_time, ==, 0x59c6152f);
	g_assert_true(r.has_user_id);
	g_assert_cmpuint(r.user_id, ==, 0x23d0b632);
	g_assert_true(r.has_fat);
	g_assert_cmpuint(r.fat_pct_x100, ==, 2290);

	/* A live frame has neither. */
	len = test_hex("0d 1f 0b 01 59 c6 15 2f 26 95 03", buf, sizeof(buf));
	g_assert_cmpint(yunmai_parse_notify(buf, len, &r, NULL), ==, 0);
	g_assert_false(r.has_time);
	g_assert_false(r.has_user_id);
	g_assert_false(r.has_fat);
}

#define UNIX_2026 1767225600

static void test_builders(void)
{
	static const uint8_t user[] = { 0x0d, 0x12, 0x10, 0x01, 0x00, 0x00,
					0x00, 0x01, 0xb4, 0x01, 0x28, 0x55,
					0x5a, 0x00, 0x00, 0x01, 0x02, 0x93 };
	static const uint8_t time[] = { 0x0d, 0x0d, 0x11, 0x69, 0x55,
					0xb9, 0x00, 0x00, 0x00, 0x00,
					0x00, 0x00, 0x99 };
	static const uint8_t start[] = { 0x0d, 0x05, 0x13, 0x00, 0x16 };
	struct yunmai_user u = {
		.user_id = 1,
		.height_cm = 180,
		.sex = YUNMAI_SEX_MALE,
		.age_years = 40,
		.unit = YUNMAI_UNIT_KG,
		.activity = 2,
	};
	uint8_t buf[32], before[32];

	g_assert_cmpint(yunmai_build_user(&u, buf), ==, 0);
	g_assert_cmpmem(buf, sizeof(user), user, sizeof(user));
	g_assert_cmpint(yunmai_build_time(UNIX_2026, buf), ==, 0);
	g_assert_cmpmem(buf, sizeof(time), time, sizeof(time));
	yunmai_build_start(buf);
	g_assert_cmpmem(buf, sizeof(start), start, sizeof(start));

	memset(buf, 0x77, sizeof(buf));
	memcpy(before, buf, sizeof(buf));
	u.sex = (enum yunmai_sex)3;
	g_assert_cmpint(yunmai_build_user(&u, buf), ==, -EINVAL);
	u.sex = YUNMAI_SEX_FEMALE;
	u.unit = (enum yunmai_unit)0;
	g_assert_cmpint(yunmai_build_user(&u, buf), ==, -EINVAL);
	g_assert_cmpint(yunmai_build_time(-1, buf), ==, -EINVAL);
	g_assert_cmpint(yunmai_build_time((int64_t)UINT32_MAX + 1, buf), ==,
			-EINVAL);
	g_assert_cmpmem(buf, sizeof(buf), before, sizeof(before));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_TABLE(valid, test_scale_valid);
	ADD_TABLE(invalid, test_scale_invalid);
	ADD_TABLE(prefixes, test_scale_prefix);
	g_test_add_func("/scale/yunmai/gatt/mini-record", test_mini_record);
	g_test_add_func("/scale/yunmai/gatt/builders", test_builders);
	return g_test_run();
}
