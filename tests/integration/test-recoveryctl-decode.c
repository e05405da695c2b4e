// SPDX-License-Identifier: MIT
/*
 * `recoveryctl decode` as a person uses it: the real binary, its stdout,
 * stderr and exit status. RECOVERYCTL names the binary under test.
 */
#include <glib.h>

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
	g_test_add_func("/recoveryctl/help", test_help);
	return g_test_run();
}
