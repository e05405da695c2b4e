// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "tests/unit/hex.h"
#include "sensors/hrs.h"

struct hrm_vector {
	const char *name;
	const char *hex;
	uint16_t bpm;
	enum hrs_contact contact;
	int energy_kj; /* -1: absent */
	uint16_t rr_count;
	uint16_t rr_raw[4];
};

/* Valid vectors built from GSS 3.113's field table, and from real senders. */
static const struct hrm_vector valid[] = {
	/* Zephyr's HRS sample sends flags 0x06, 72 bpm. */
	{ "/hrs/u8/zephyr-contact", "06 48", 72, HRS_CONTACT_DETECTED, -1, 0 },
	{ "/hrs/u8/no-contact-feature", "00 3c", 60, HRS_CONTACT_UNSUPPORTED,
	  -1, 0 },
	{ "/hrs/u8/contact-bit1-only", "02 3c", 60, HRS_CONTACT_UNSUPPORTED, -1,
	  0 },
	{ "/hrs/u8/not-detected", "04 3c", 60, HRS_CONTACT_NOT_DETECTED, -1,
	  0 },
	{ "/hrs/u16/plain", "01 2c 01", 300, HRS_CONTACT_UNSUPPORTED, -1, 0 },
	{ "/hrs/u16/max", "01 ff ff", 65535, HRS_CONTACT_UNSUPPORTED, -1, 0 },
	{ "/hrs/u8/energy", "08 50 34 12", 80, HRS_CONTACT_UNSUPPORTED, 0x1234,
	  0 },
	/* Polar H10 style: contact detected, one RR of 0x0398 = 920/1024 s */
	{ "/hrs/u8/one-rr",
	  "16 41 98 03",
	  65,
	  HRS_CONTACT_DETECTED,
	  -1,
	  1,
	  { 0x0398 } },
	{ "/hrs/u8/energy-rr",
	  "1e 41 10 00 98 03 a0 03",
	  65,
	  HRS_CONTACT_DETECTED,
	  16,
	  2,
	  { 0x0398, 0x03a0 } },
	{ "/hrs/u16/energy-rr",
	  "1f 41 00 ff ff 00 04 01 04 02 04 03 04",
	  65,
	  HRS_CONTACT_DETECTED,
	  65535,
	  4,
	  { 0x0400, 0x0401, 0x0402, 0x0403 } },
	{ "/hrs/u8/rr-flag-empty-list", "10 41", 65, HRS_CONTACT_UNSUPPORTED,
	  -1, 0 },
	/* Reserved flag bits 5-7 are for future use: ignored, not rejected. */
	{ "/hrs/reserved-bits-ignored", "e6 48", 72, HRS_CONTACT_DETECTED, -1,
	  0 },
	/* Trailing bytes after a complete, RR-less value are ignored. */
	{ "/hrs/trailing-ignored", "06 48 aa", 72, HRS_CONTACT_DETECTED, -1,
	  0 },
};

static void test_valid(gconstpointer data)
{
	const struct hrm_vector *v = data;
	struct hrs_measurement m;
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&m, 0xa5, sizeof(m));
	g_assert_cmpint(hrs_parse_measurement(buf, len, &m, NULL), ==, 0);
	g_assert_cmpuint(m.heart_rate_bpm, ==, v->bpm);
	g_assert_cmpint(m.contact, ==, v->contact);
	g_assert_cmpint(m.has_energy, ==, v->energy_kj >= 0);
	if (v->energy_kj >= 0)
		g_assert_cmpuint(m.energy_expended_kj, ==, v->energy_kj);
	g_assert_cmpuint(m.rr_count, ==, v->rr_count);
	for (unsigned i = 0; i < v->rr_count; i++)
		g_assert_cmpuint(m.rr_raw[i], ==, v->rr_raw[i]);
}

struct hrm_bad_vector {
	const char *name;
	const char *hex;
	int error;
	const char *field;
	size_t offset;
	size_t need, left;
};

/* The negative taxonomy: empty, truncated at each field, odd RR lists. */
static const struct hrm_bad_vector invalid[] = {
	{ "/hrs/bad/empty", "", -EBADMSG, "flags", 0, 1, 0 },
	{ "/hrs/bad/no-hr-u8", "06", -EBADMSG, "heart rate (u8)", 1, 1, 0 },
	{ "/hrs/bad/no-hr-u16", "01", -EBADMSG, "heart rate (u16)", 1, 2, 0 },
	{ "/hrs/bad/half-hr-u16", "01 48", -EBADMSG, "heart rate (u16)", 1, 2,
	  1 },
	{ "/hrs/bad/no-energy", "08 48", -EBADMSG, "energy expended", 2, 2, 0 },
	{ "/hrs/bad/half-energy", "08 48 01", -EBADMSG, "energy expended", 2, 2,
	  1 },
	{ "/hrs/bad/odd-rr-1", "10 48 01", -EBADMSG, "rr interval", 2, 2, 1 },
	{ "/hrs/bad/odd-rr-3", "10 48 00 04 01", -EBADMSG, "rr interval", 4, 2,
	  1 },
	{ "/hrs/bad/odd-rr-after-energy", "18 48 00 00 00 04 01", -EBADMSG,
	  "rr interval", 6, 2, 1 },
};

static void test_invalid(gconstpointer data)
{
	const struct hrm_bad_vector *v = data;
	struct hrs_measurement m, untouched;
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&m, 0xa5, sizeof(m));
	untouched = m;
	g_assert_cmpint(hrs_parse_measurement(buf, len, &m, &err), ==,
			v->error);
	g_assert_true(memcmp(&m, &untouched, sizeof(m)) == 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_TRUNCATED);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	g_assert_cmpuint(err.need, ==, v->need);
	g_assert_cmpuint(err.left, ==, v->left);
}

/* The largest attribute value (512 bytes) holds exactly HRS_MAX_RR. */
static void test_rr_capacity(void)
{
	uint8_t buf[600] = { 0x10, 60 };
	struct hrs_measurement m;
	struct parse_error err = { 0 };

	for (size_t i = 2; i < sizeof(buf); i += 2) {
		buf[i] = (uint8_t)i;
		buf[i + 1] = 0x03;
	}
	g_assert_cmpint(hrs_parse_measurement(buf, 512, &m, &err), ==, 0);
	g_assert_cmpuint(m.rr_count, ==, HRS_MAX_RR);
	g_assert_cmpuint(m.rr_raw[HRS_MAX_RR - 1], ==, 0x0300 | (510 & 0xff));

	g_assert_cmpint(hrs_parse_measurement(buf, 514, &m, &err), ==, -E2BIG);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_TOO_MANY);
	g_assert_cmpuint(err.offset, ==, 512);
}

static void test_rr_ms(void)
{
	g_assert_cmpfloat_with_epsilon(hrs_rr_ms(1024), 1000.0, 1e-9);
	g_assert_cmpfloat_with_epsilon(hrs_rr_ms(0x0398), 898.4375, 1e-9);
}

struct location_vector {
	const char *name;
	uint8_t value;
	const char *label;
};

static const struct location_vector locations[] = {
	{ "/hrs/location/other", 0, "other" },
	{ "/hrs/location/chest", 1, "chest" },
	{ "/hrs/location/wrist", 2, "wrist" },
	{ "/hrs/location/finger", 3, "finger" },
	{ "/hrs/location/hand", 4, "hand" },
	{ "/hrs/location/ear-lobe", 5, "ear-lobe" },
	{ "/hrs/location/foot", 6, "foot" },
	{ "/hrs/location/reserved-7", 7, "reserved" },
	{ "/hrs/location/reserved-255", 255, "reserved" },
};

static void test_location(gconstpointer data)
{
	const struct location_vector *v = data;
	uint8_t loc = 0xee;

	g_assert_cmpint(hrs_parse_location(&v->value, 1, &loc, NULL), ==, 0);
	g_assert_cmpuint(loc, ==, v->value);
	g_assert_cmpstr(hrs_location_name(loc), ==, v->label);
}

static void test_location_empty(void)
{
	struct parse_error err = { 0 };
	uint8_t loc = 0xee;

	g_assert_cmpint(hrs_parse_location(NULL, 0, &loc, &err), ==, -EBADMSG);
	g_assert_cmpuint(loc, ==, 0xee);
	g_assert_cmpstr(err.field, ==, "body sensor location");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
		g_test_add_data_func(valid[i].name, &valid[i], test_valid);
	for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
		g_test_add_data_func(invalid[i].name, &invalid[i],
				     test_invalid);
	for (size_t i = 0; i < G_N_ELEMENTS(locations); i++)
		g_test_add_data_func(locations[i].name, &locations[i],
				     test_location);
	g_test_add_func("/hrs/rr-capacity", test_rr_capacity);
	g_test_add_func("/hrs/rr-ms", test_rr_ms);
	g_test_add_func("/hrs/location/empty", test_location_empty);
	return g_test_run();
}
