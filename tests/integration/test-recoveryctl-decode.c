// SPDX-License-Identifier: MIT
/*
 * `recoveryctl decode` as a person uses it: the real binary, its stdout,
 * stderr and exit status. RECOVERYCTL names the binary under test.
 */
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "tests/support/test-support.h"

struct decode_case {
	const char *name;
	const char *args; /* split on spaces */
	int status;
	const char *out; /* exact stdout, or NULL for none */
	const char *err; /* substring of stderr, or NULL for empty */
};

static const struct decode_case cases[] = {
	{ "/recoveryctl/decode/hrm/zephyr", "decode 2a37 06 48", 0,
	  "{\"heart_rate\":72,\"contact\":\"detected\"}\n" },
	{ "/recoveryctl/decode/hrm/energy-rr", "decode 0x2A37 1e4110009803a003",
	  0,
	  "{\"heart_rate\":65,\"contact\":\"detected\",\"energy_expended_kj\":"
	  "16,"
	  "\"rr_ms\":[898.4375,906.25]}\n" },
	{ "/recoveryctl/decode/hrm/uuid128",
	  "decode 00002A37-0000-1000-8000-00805f9b34fb 06:48", 0,
	  "{\"heart_rate\":72,\"contact\":\"detected\"}\n" },
	{ "/recoveryctl/decode/hrm/odd-rr", "decode 2a37 10 48 00 04 01", 1,
	  NULL,
	  "2a37: truncated at offset 4 reading rr interval (2 bytes needed, "
	  "1 left)\n" },
	{ "/recoveryctl/decode/location", "decode 2a38 01", 0,
	  "{\"location\":\"chest\"}\n" },
	{ "/recoveryctl/decode/battery", "decode 2a19 64", 0,
	  "{\"battery_pct\":100}\n" },
	{ "/recoveryctl/decode/battery-reserved", "decode 2a19 65", 1, NULL,
	  "2a19: battery level 101 at offset 0 is out of range" },
	{ "/recoveryctl/decode/weight/si-timestamp",
	  "decode 2a9d 02 98 3a e8 07 0b 1a 07 1e 00", 0,
	  "{\"weight_kg\":75,\"weight\":75,\"unit\":\"kg\","
	  "\"timestamp\":\"2024-11-26T07:30:00\"}\n" },
	{ "/recoveryctl/decode/weight/user-bmi-height",
	  "decode 2a9d 0e 98 3a e8 07 0b 1a 07 1e 00 01 f4 00 be 06", 0,
	  "{\"weight_kg\":75,\"weight\":75,\"unit\":\"kg\","
	  "\"timestamp\":\"2024-11-26T07:30:00\",\"user_id\":1,\"bmi\":24.4,"
	  "\"height_m\":1.726}\n" },
	{ "/recoveryctl/decode/weight/imperial-unknown-user",
	  "decode 2a9d 05 97 40 ff", 0,
	  "{\"weight_kg\":75.001,\"weight\":165.35,\"unit\":\"lb\"}\n" },
	{ "/recoveryctl/decode/weight/truncated-timestamp",
	  "decode 2a9d 02 98 3a e8 07", 1, NULL,
	  "2a9d: truncated at offset 3 reading timestamp (7 bytes needed, 2 "
	  "left)\n" },
	{ "/recoveryctl/decode/miscale/v1-published",
	  "decode 181d 22 9e 43 e5 07 04 0b 10 13 01", 0,
	  "{\"weight_kg\":86.55,\"weight\":86.55,\"unit\":\"kg\","
	  "\"timestamp\":\"2021-04-11T16:19:01\",\"stabilised\":true,"
	  "\"load_removed\":false}\n" },
	{ "/recoveryctl/decode/miscale/v2-published",
	  "decode 181B 02 26 b2 07 05 04 0f 02 01 ac 01 86 42", 0,
	  "{\"weight_kg\":85.15,\"weight\":85.15,\"unit\":\"kg\","
	  "\"timestamp\":\"1970-05-04T15:02:01\",\"impedance_ohm\":428,"
	  "\"stabilised\":true,\"load_removed\":false}\n" },
	{ "/recoveryctl/decode/bthome/published",
	  "decode fcd2 40 02 ca 09 03 bf 13", 0,
	  "{\"objects\":[{\"name\":\"temperature\",\"value\":25.06,\"unit\":"
	  "\"°C\"},{\"name\":\"humidity\",\"value\":50.55,\"unit\":\"%\"}]}"
	  "\n" },
	{ "/recoveryctl/decode/bthome/encrypted",
	  "decode fcd2 41 a4 72 66 c9 5f 73 00 11 22 33 78 23 72 14", 1, NULL,
	  "fcd2: objects encrypted from offset 1 on (key needed)\n" },
	{ "/recoveryctl/decode/usage/no-decoder", "decode 2a99 00", 2, NULL,
	  "no decoder for UUID '2a99'" },
	{ "/recoveryctl/decode/usage/not-a-uuid", "decode heart 00", 2, NULL,
	  "'heart' is not a UUID" },
	{ "/recoveryctl/decode/usage/bad-hex", "decode 2a37 0g", 2, NULL,
	  "is not hex bytes" },
	{ "/recoveryctl/decode/usage/odd-hex", "decode 2a37 064", 2, NULL,
	  "is not hex bytes" },
	{ "/recoveryctl/decode/usage/missing", "decode 2a37", 2, NULL,
	  "needs a UUID and hex bytes" },
	{ "/recoveryctl/decode/usage/two-packets", "decode 2a37 0648,0648", 2,
	  NULL, "only 2a9c takes two packets" },
	{ "/recoveryctl/usage/unknown-command", "frobnicate", 2, NULL,
	  "unknown command 'frobnicate'" },

	/* decode --adv: whole advertisements through the dispatcher. */
	/* ble_monitor test/test_bthome_v2.py, temperature and humidity, as
	 * an HCI report: still decodes, its address and RSSI beside it. */
	{ "/recoveryctl/decode/adv/bthome-hci",
	  "decode --adv 043E1A02010000A5808FE648540E0201060A16D2FC4002CA0903BF"
	  "13CC",
	  0,
	  "{\"family\":\"bthome\",\"address\":\"54:48:E6:8F:80:A5\","
	  "\"rssi_dbm\":-52,\"objects\":[{\"name\":\"temperature\",\"value\":"
	  "25.06,\"unit\":\"°C\"},{\"name\":\"humidity\",\"value\":50.55,"
	  "\"unit\":\"%\"}]}\n" },
	/* The Theengs decoder's T9146 frame (91.00 kg) with one byte of the
	 * CF record changed: its XOR no longer holds. */
	{ "/recoveryctl/decode/adv/bad/checksum",
	  "decode --adv 02 01 06 15 ff cf e5 0c 03 01 ec cf a2 12 8c 23 26 24 "
	  "55 01 00 87 4a 91 46 0b 09 65 75 66 79 20 54 39 31 34 36",
	  1, NULL,
	  "adv: eufy-c1: checksum 0x87 at offset 21 does not match (expected "
	  "XOR of the record's bytes 0-9)\n" },
	/* ble_monitor's Mi scale v2 report (issue #1094), cut short. */
	{ "/recoveryctl/decode/adv/bad/truncated-hci",
	  "decode --adv 043E3502010001C81555E346F12902010603021B1810161B18022"
	  "6B2070103131A15E601",
	  1, NULL,
	  "adv: truncated at offset 3 reading event parameters (53 bytes "
	  "needed, 33 left)\n" },
	/* An AD structure that claims more than is there. */
	{ "/recoveryctl/decode/adv/bad/truncated-ad",
	  "decode --adv 02 01 06 0e 16 1b 18 02 26 b2 07", 1, NULL,
	  "adv: truncated at offset 3 reading AD structure (14 bytes needed, "
	  "7 left)\n" },
	/* The ESPHome BLE gateway's example: a thermometer, no family. */
	{ "/recoveryctl/decode/adv/bad/no-decoder",
	  "decode --adv 043E2B02010000123456789ABC1F12161A1819416538C1A41B0739"
	  "15810B529F0F0B094154435F363534313139AA",
	  1, NULL,
	  "adv: no decoder for this advertisement (service data 0x181a, name "
	  "\"ATC_654119\")\n" },
	{ "/recoveryctl/decode/adv/usage/missing", "decode --adv", 2, NULL,
	  "--adv needs hex bytes" },
	{ "/recoveryctl/decode/adv/usage/bad-hex", "decode --adv 02 01 0g", 2,
	  NULL, "is not hex bytes" },
};

#define NONE (-1.0)

/*
 * Real advertisements of each family that weighs passively, from public
 * sources the parser tests do not use, with the weight (and impedance)
 * their source published: the decoded values must match within 0.05.
 */
struct adv_case {
	const char *name;
	const char *hex;
	const char *family;
	double weight_kg;
	double impedance_ohm; /* NONE: none published or sent */
	bool final;
};

static const struct adv_case adv_cases[] = {
	/* custom-components/ble_monitor test_miscale_parser.py, the real
	 * stabilised report of its issue #1094: 95.2 kg, 486 ohm. */
	{ "/recoveryctl/decode/adv/published/mi-scale-v2",
	  "043E3502010001C81555E346F12902010603021B1810161B180226B2070103131A"
	  "15E601604A06094D4942435309FF5701F146E35515C8B6",
	  "mi-scale-v2", 95.2, 486, true },
	/* The same file, issue #366's live report: 87.4 kg, not stabilised. */
	{ "/recoveryctl/decode/adv/published/mi-scale-v1-live",
	  "043E2B020100008995C08C47C81F02010603021D1809FF5701C8478CC095890D16"
	  "1D18024844E507051C110C09CC",
	  "mi-scale-v1", 87.4, NONE, false },
	/* oliexdev/openScale QNHandlerBroadcastFT26RTest.kt, session 2
	 * "settled3" of a FITINDEX FT-26R-W, "settles at 70.35 kg", in the
	 * advertisement that test builds (status bit 0 behind the model's
	 * signature 51 0E 03: settled). */
	{ "/recoveryctl/decode/adv/published/qn-broadcast",
	  "02 01 06 1b ff ff ff aa bb 00 00 5e 00 53 01 f0 00 00 00 "
	  "ff ff ff 15 00 7b 1b 51 0e 03 44 00",
	  "qn-broadcast", 70.35, NONE, true },
	/* oliexdev/openScale issue #930 (rrooggiieerr, 2023-02-21): a
	 * "Chipsea-BLE" scale, company 0xF0FF, "98,7 Kg"; its published name
	 * and manufacturer data as AD structures. */
	{ "/recoveryctl/decode/adv/published/okok-vf0",
	  "15 ff ff f0 02 04 db 03 00 00 00 00 00 00 00 00 50 fb 19 c0 1c 6d "
	  "0c 09 43 68 69 70 73 65 61 2d 42 4c 45",
	  "okok-vf0", 98.7, NONE, true },
	/* oliexdev/openScale issue #1177 (Xinayder, 2025-09-23): a Yoda0's
	 * extended advertising report, "76.3kg"; 13 88 is 500.0 ohm (#1452).
	 * The reporter masked three bytes (the address's last two and, by
	 * its place, the primary PHY): here 00 00 and 01 (LE 1M). */
	{ "/recoveryctl/decode/adv/published/okok-c0",
	  "04 3e 32 0d 01 10 00 00 6d 5f e8 d0 00 00 01 00 ff 7f ad 00 00 00 "
	  "00 00 00 00 00 00 18 10 ff c0 3f 1d ce 13 88 00 00 25 00 00 00 00 "
	  "00 00 06 09 59 6f 64 61 30",
	  "okok-c0", 76.3, 500.0, true },
	/* theengs/decoder src/devices/T9146_json.h: an Eufy C1's manufacturer
	 * data "cfe50c...9146" is 91.00 kg; its name beside it. The impedance
	 * is the CF record's (tasmota-blerry PR #60), not published. */
	{ "/recoveryctl/decode/adv/published/eufy-c1",
	  "02 01 06 15 ff cf e5 0c 03 01 ec cf a2 12 8c 23 26 24 54 01 00 87 "
	  "4a 91 46 0b 09 65 75 66 79 20 54 39 31 34 36",
	  "eufy-c1", 91.00, NONE, true },
	/* pagarsky/openScale commit 9b50c115 YunmaiXHandlerTest.kt (the
	 * branch of oliexdev/openScale PR #1418): a Yunmai X's final frame,
	 * 70.80 kg and 531 ohm, as the manufacturer data it captured (the
	 * first two bytes are the "company id") after the service UUID 0x1320
	 * that PR says the scale advertises. */
	{ "/recoveryctl/decode/adv/published/yunmai-x",
	  "03 03 20 13 11 ff 45 5d 8b 01 68 ed 0b 74 17 04 03 1b a8 02 13 a5",
	  "yunmai-x", 70.80, 531, true },
	/* bdr99/eufylife-ble-client issue #8 (fft1010, 2025-08-15): a P2 Pro
	 * T9149's 19 bytes of manufacturer data, final, 0e 29 = 105.10 kg
	 * (the owner confirms the decoded weight, without printing it). The
	 * issue shows no company id or name: here eufylife's 0xFF48 and the
	 * name "eufy T9149" that client matches on. */
	{ "/recoveryctl/decode/adv/published/eufy-p2-pro",
	  "16 ff 48 ff cf e8 12 18 33 ee cf 51 c0 0e 29 dc d6 97 00 00 00 00 "
	  "e4 0b 09 65 75 66 79 20 54 39 31 34 39",
	  "eufy-p2", 105.10, NONE, true },
	/* bdr99/eufylife-ble-client issue #3 (branda92, 2025-05-11): a P3
	 * T9150 frame (company 53075) that client logged as weight_kg=68.85,
	 * with its name. */
	{ "/recoveryctl/decode/adv/published/eufy-c20-layout",
	  "02 01 06 1a ff 53 cf e8 07 12 20 9d 00 55 d6 f9 61 01 00 e5 1a 01 "
	  "00 00 00 00 00 00 00 00 0b 09 65 75 66 79 20 54 39 31 35 30",
	  "eufy-c20", 68.85, NONE, false },
};

static void run(const char *args, int *ret_status, char **ret_out,
		char **ret_err)
{
	const char *binary = g_getenv("RECOVERYCTL");
	g_auto(GStrv) words = g_strsplit(args, " ", -1);
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

	g_assert_nonnull(binary);
	g_ptr_array_add(argv, g_strdup(binary));
	for (char **w = words; *w; w++)
		g_ptr_array_add(argv, g_strdup(*w));
	g_ptr_array_add(argv, NULL);
	*ret_status = test_spawn((const char *const *)argv->pdata, NULL,
				 ret_out, ret_err);
}

static void test_case(gconstpointer data)
{
	const struct decode_case *c = data;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status;

	run(c->args, &status, &out, &err);
	if (c->out)
		g_assert_cmpstr(out, ==, c->out);
	else
		g_assert_cmpstr(out, ==, "");
	if (c->err)
		g_assert_nonnull(strstr(err, c->err));
	else
		g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(status, ==, c->status);
	/* A malformed payload is one line on stderr, never usage help. */
	if (c->status == 1)
		g_assert_cmpint(strchr(err, '\n') - err + 1, ==, strlen(err));
}

static void test_adv(gconstpointer data)
{
	const struct adv_case *c = data;
	g_autofree char *args = g_strdup_printf("decode --adv %s", c->hex);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *o;
	int status;

	run(args, &status, &out, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(status, ==, 0);
	/* One line, one object. */
	g_assert_cmpint(strchr(out, '\n') - out + 1, ==, strlen(out));
	g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
	g_assert_no_error(error);
	o = json_node_get_object(json_parser_get_root(parser));
	g_assert_cmpstr(json_object_get_string_member(o, "family"), ==,
			c->family);
	g_assert_cmpfloat_with_epsilon(
	    json_object_get_double_member(o, "weight_kg"), c->weight_kg, 0.05);
	if (c->impedance_ohm != NONE)
		g_assert_cmpfloat_with_epsilon(
		    json_object_get_double_member(o, "impedance_ohm"),
		    c->impedance_ohm, 0.05);
	/* Mi scales say it their way. */
	if (json_object_has_member(o, "final"))
		g_assert_cmpint(json_object_get_boolean_member(o, "final"), ==,
				c->final);
	else
		g_assert_cmpint(json_object_get_boolean_member(o, "stabilised"),
				==, c->final);
}

static void test_help(void)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status;

	run("--help", &status, &out, &err);
	g_assert_cmpint(status, ==, 0);
	g_assert_nonnull(strstr(out, "decode"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	run("decode --help", &status, &out, &err);
	g_assert_cmpint(status, ==, 0);
	g_assert_nonnull(strstr(out, "usage: recoveryctl decode UUID"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_test_add_data_func(cases[i].name, &cases[i], test_case);
	for (size_t i = 0; i < G_N_ELEMENTS(adv_cases); i++)
		g_test_add_data_func(adv_cases[i].name, &adv_cases[i],
				     test_adv);
	g_test_add_func("/recoveryctl/help", test_help);
	return g_test_run();
}
