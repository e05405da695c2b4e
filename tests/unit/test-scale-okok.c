// SPDX-License-Identifier: MIT
#include "tests/unit/scale-test.h"

#include "sensors/scale-okok.h"

/* The variant is the company id the frame came under. */
static int test_parse(int variant, const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err)
{
	return okok_parse_adv((uint16_t)variant, data, len, ret, ret_err);
}

#define V20   OKOK_COMPANY_V20
#define V11   OKOK_COMPANY_V11
#define VF0   OKOK_COMPANY_VF0
#define F_V20 SCALE_FAMILY_OKOK_V20
#define F_V11 SCALE_FAMILY_OKOK_V11
#define F_VF0 SCALE_FAMILY_OKOK_VF0
#define F_C0  SCALE_FAMILY_OKOK_C0

/*
 * Manufacturer data after the company id. Captures first, each with where it
 * was published; "built" vectors follow the field tables in scale-okok.c
 * where no capture is published (V1.1 and VF0 have none).
 */
static const struct scale_vector valid[] = {
	/*
	 * rrooggiieerr/homeassistant-okokscale PR #12 ("ADV" scale, log of
	 * 2026-02-10): settling, then final with 0x1770 in the impedance field.
	 */
	{ "/scale/okok/v20/real-adv-53.10kg-live", V20,
	  "0b 41 af 2f 81 01 04 02 14 be 00 00 c6 ed 67 37 a1 a8 73", F_V20,
	  53.10, false, NONE, NONE },
	{ "/scale/okok/v20/real-adv-53.10kg-final", V20,
	  "0b 41 af 2f 81 01 05 1b 14 be 17 70 b9 ed 67 37 a1 a8 73", F_V20,
	  53.10, true, 600.0, NONE },
	/* Built: flags bit 2 clear, weight in 0.1 kg. */
	{ "/scale/okok/v20/built-divider-10", V20,
	  "0b 41 af 2f 81 01 01 1b 02 13 00 00 61", F_V20, 53.1, true, NONE,
	  NONE },

	/* custom-components/ble_monitor test/test_xiaogui_parser.py */
	{ "/scale/okok/c0/real-xiaogui-tzc4-63.0kg", 0xA3C0,
	  "02 76 13 8b 00 02 21 5f 5a 29 e5 e0 94", F_C0, 63.0, true, 500.3,
	  NONE },
	{ "/scale/okok/c0/real-xiaogui-tzc4-14.0kg-live", 0x5DC0,
	  "00 8c 00 00 00 02 20 5f 5a 29 e5 e0 94", F_C0, 14.0, false, NONE,
	  NONE },
	{ "/scale/okok/c0/real-maxxmee-qjj-113.35kg", 0x7DC0,
	  "2c 47 00 00 0a 01 25 5f 5a 29 e5 e0 94", F_C0, 113.35, true, NONE,
	  NONE },
	/* homeassistant-okokscale issue #7 (tim-peters, 2024-08-21) */
	{ "/scale/okok/c0/real-okok-75.45kg", 0x45C0,
	  "1d 79 17 70 0a 01 25 b4 56 5d 37 76 9a", F_C0, 75.45, true, 600.0,
	  NONE },
	{ "/scale/okok/c0/real-okok-5.15kg", 0x48C0,
	  "02 03 17 70 0a 01 25 b4 56 5d 37 76 9a", F_C0, 5.15, true, 600.0,
	  NONE },
	/* homeassistant-okokscale issue #1 (ESPHome log, 2023-05-01) */
	{ "/scale/okok/c0/real-esphome-92.70kg-live", 0x11C0,
	  "24 36 00 00 0a 11 24 10 96 1a 36 81 d1", F_C0, 92.70, false, NONE,
	  NONE },
	{ "/scale/okok/c0/real-esphome-92.80kg", 0x0EC0,
	  "24 40 17 70 0a 11 25 10 96 1a 36 81 d1", F_C0, 92.80, true, 600.0,
	  NONE },
	/* oliexdev/openScale issue #1177 (Yoda0), name AD after the frame */
	{ "/scale/okok/c0/real-yoda0-87.75kg", 0x82C0,
	  "22 47 13 88 00 00 25 00 00 00 00 00 00 06 09 59 6f 64 61 30", F_C0,
	  87.75, true, 500.0, NONE },
	/* Built: lb at 0.1 (attr 0x31), 166.2 lb. */
	{ "/scale/okok/c0/built-lb", 0x01C0,
	  "06 7e 00 00 0a 01 31 00 00 00 00 00 00", F_C0, 75.387051894, true,
	  NONE, NONE },

	/* Built from openScale issue #496's field list (shifted, see .c). */
	{ "/scale/okok/v11/built-75.4kg", V11,
	  "0f 00 01 02 f2 58 33 2e 00 00 00 00 00 00 00 00 60 c8 b2 1e 15 6e "
	  "db",
	  F_V11, 75.4, true, NONE, NONE },
	{ "/scale/okok/v11/built-two-decimals", V11,
	  "0f 00 01 1d 74 58 33 2e 00 04 00 00 00 00 00 00 fd", F_V11, 75.4,
	  true, NONE, NONE },
	{ "/scale/okok/v11/built-jin", V11,
	  "0f 00 01 05 e4 58 33 2e 00 08 00 00 00 00 00 00 79", F_V11, 75.4,
	  true, NONE, NONE },
	{ "/scale/okok/v11/built-lb", V11,
	  "0f 00 01 40 ef 58 33 2e 00 14 00 00 00 00 00 00 2b", F_V11,
	  75.4006596651, true, NONE, NONE },
	{ "/scale/okok/v11/built-st-lb", V11,
	  "0f 00 01 0b 5a 58 33 2e 00 18 00 00 00 00 00 00 d9", F_V11,
	  73.93555631, true, NONE, NONE },
	{ "/scale/okok/vf0/built-75.4kg", VF0, "00 00 f2 02", F_VF0, 75.4, true,
	  NONE, NONE },
};

static const struct scale_bad_vector invalid[] = {
	{ "/scale/okok/v20/bad/empty", V20, "", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "header", 0 },
	{ "/scale/okok/v20/bad/no-flags", V20, "0b 41 af 2f 81 01", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "flags", 6 },
	{ "/scale/okok/v20/bad/half-weight", V20, "0b 41 af 2f 81 01 05 1b 14",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "weight", 8 },
	{ "/scale/okok/v20/bad/no-impedance", V20,
	  "0b 41 af 2f 81 01 05 1b 14 be", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "impedance", 10 },
	{ "/scale/okok/v20/bad/no-checksum", V20,
	  "0b 41 af 2f 81 01 05 1b 14 be 17 70", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "checksum", 12 },
	/* The real final frame with one weight bit flipped. */
	{ "/scale/okok/v20/bad/checksum", V20,
	  "0b 41 af 2f 81 01 05 1b 14 bf 17 70 b9 ed 67 37 a1 a8 73", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "checksum", 12 },
	/* okokscale.py's rule (byte 11 left out) would accept this one. */
	{ "/scale/okok/v20/bad/checksum-byte-11-left-out", V20,
	  "0b 41 af 2f 81 01 05 1b 14 be 17 70 c9", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "checksum", 12 },
	{ "/scale/okok/v20/bad/ghost-weight", V20,
	  "0b 41 af 2f 81 01 05 1b 00 0d 00 00 79", -EINVAL,
	  PARSE_FAULT_OUT_OF_RANGE, "weight", 8 },

	/* ble_monitor test_xiaogui_maxxmee_qjj_non_stab: empty scale. */
	{ "/scale/okok/c0/bad/real-qjj-0kg", 0x24C0,
	  "00 00 00 00 0a 01 24 5f 5a 29 e5 e0 94", -EINVAL,
	  PARSE_FAULT_OUT_OF_RANGE, "weight", 0 },
	{ "/scale/okok/c0/bad/empty", 0x01C0, "", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "weight", 0 },
	{ "/scale/okok/c0/bad/no-attributes", 0x01C0, "1d 79 17 70 0a 01",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "attributes", 6 },
	{ "/scale/okok/c0/bad/no-address", 0x01C0, "1d 79 17 70 0a 01 25 b4",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "address", 7 },
	/* Resolution bits 1-2 = 3 is undefined. */
	{ "/scale/okok/c0/bad/reserved-resolution", 0x01C0,
	  "1d 79 17 70 0a 01 27 b4 56 5d 37 76 9a", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "attributes", 6 },
	{ "/scale/okok/c0/bad/over-300kg", 0x01C0,
	  "75 31 00 00 0a 01 25 b4 56 5d 37 76 9a", -EINVAL,
	  PARSE_FAULT_OUT_OF_RANGE, "weight", 0 },

	{ "/scale/okok/v11/bad/checksum", V11,
	  "0f 00 01 02 f2 58 33 2e 00 00 00 00 00 00 00 00 61", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "checksum", 16 },
	{ "/scale/okok/v11/bad/no-attributes", V11,
	  "0f 00 01 02 f2 58 33 2e 00", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "attributes", 9 },
	{ "/scale/okok/v11/bad/reserved-resolution", V11,
	  "0f 00 01 02 f2 58 33 2e 00 06 00 00 00 00 00 00 66", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "attributes", 9 },
	{ "/scale/okok/vf0/bad/half-weight", VF0, "00 00 f2", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "weight", 2 },
	{ "/scale/okok/vf0/bad/zero", VF0, "00 00 00 00", -EINVAL,
	  PARSE_FAULT_OUT_OF_RANGE, "weight", 2 },
};

static const struct scale_prefix_vector prefixes[] = {
	{ "/scale/okok/v20/every-prefix", V20,
	  "0b 41 af 2f 81 01 05 1b 14 be 17 70 b9 ed 67 37 a1 a8 73",
	  OKOK_V20_SIZE },
	{ "/scale/okok/v11/every-prefix", V11,
	  "0f 00 01 02 f2 58 33 2e 00 00 00 00 00 00 00 00 60", OKOK_V11_SIZE },
	{ "/scale/okok/vf0/every-prefix", VF0, "00 00 f2 02", OKOK_VF0_SIZE },
	{ "/scale/okok/c0/every-prefix", 0xA3C0,
	  "02 76 13 8b 00 02 21 5f 5a 29 e5 e0 94", OKOK_C0_SIZE },
};

/* Only the four company ids (and any 0x??C0) are OKOK's. */
static void test_other_company(void)
{
	static const uint8_t frame[] = { 0x02, 0x76, 0x13, 0x8b, 0x00,
					 0x02, 0x21, 0x5f, 0x5a, 0x29,
					 0xe5, 0xe0, 0x94 };
	struct scale_weighing w;

	g_assert_cmpint(okok_parse_adv(0xC0A3, frame, sizeof(frame), &w, NULL),
			==, -ENOENT);
	g_assert_cmpint(okok_parse_adv(0xFFFF, frame, sizeof(frame), &w, NULL),
			==, -ENOENT);
	g_assert_cmpint(okok_parse_adv(0xA3C0, frame, sizeof(frame), &w, NULL),
			==, 0);
}

/* The message names the field, the offset and the rule. */
static void test_checksum_message(void)
{
	static const uint8_t frame[] = { 0x0b, 0x41, 0xaf, 0x2f, 0x81,
					 0x01, 0x05, 0x1b, 0x14, 0xbe,
					 0x17, 0x70, 0xb8 };
	struct scale_weighing w;
	struct parse_error err = { 0 };
	char msg[256];

	g_assert_cmpint(okok_parse_v20(frame, sizeof(frame), &w, &err), ==,
			-EBADMSG);
	parse_error_format(&err, msg, sizeof(msg));
	g_assert_cmpstr(msg, ==,
			"checksum 0xb8 at offset 12 does not match (expected "
			"XOR of bytes 0-11 and 0x20)");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_TABLE(valid, test_scale_valid);
	ADD_TABLE(invalid, test_scale_invalid);
	ADD_TABLE(prefixes, test_scale_prefix);
	g_test_add_func("/scale/okok/other-company", test_other_company);
	g_test_add_func("/scale/okok/v20/checksum-message",
			test_checksum_message);
	return g_test_run();
}
