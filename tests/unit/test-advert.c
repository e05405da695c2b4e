// SPDX-License-Identifier: MIT
/*
 * One advertisement, wherever it was heard (sensors/advert.h), and the
 * dispatcher to its family (sensors/advert-decode.h): AD structures and HCI
 * LE advertising reports parsed into the value, and the value decoded by the
 * family it carries. Real frames first, each with where it was published;
 * "built" ones where no capture is published, said so beside them.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "tests/unit/hex.h"
#include "sensors/advert-decode.h"
#include "sensors/advert.h"
#include "sensors/mass.h"

#define NONE	  (-1)
#define NO_RSSI	  INT_MIN
#define MAX_BYTES 300

/* --- Frames ------------------------------------------------------------ */

/* custom-components/ble_monitor test/test_miscale_parser.py, test_miscale_v1:
 * Mi Scale v1 C8:47:8C:C0:95:89, 87.2 kg, load removed, RSSI -59. */
#define MI_V1_HCI                                                              \
	"043e2b020100008995c08c47c81f02010603021d1809ff5701c8478cc095890d161d" \
	"18a22044b20701010a1a15c5"

/* The same file, test_miscale_v1_ext_weight: an LE Extended Advertising
 * Report (subevent 0x0D), 86.55 kg stabilised, RSSI -70. */
#define MI_V1_EXT_HCI                                                          \
	"043e390d011300008995c08c47c80100ff7fba0000000000000000001f0201060302" \
	"1d1809ff5701c8478cc095890d161d18229e43e507040b101301"

/* The same file, test_miscale_v2_impedance: Mi Body Composition Scale 2
 * DF:DE:44:82:14:EF (random address), 85.15 kg, 428 ohm, RSSI -66. */
#define MI_V2_HCI                                                              \
	"043e2402010001ef148244dedf1802010603021b1810161b180226b20705040f0201" \
	"ac018642be"

/* ble_monitor test/test_bthome_v2.py, test_bthome_v2_packet_and_battery:
 * 54:48:E6:8F:80:A5, packet id 9, battery 97 %, RSSI -52. */
#define BTHOME_HCI "043E1802010000A5808FE648540C0201060816D2FC4000090161CC"
/* The same file, ..._encrypted: a key is needed. */
#define BTHOME_ENCRYPTED_HCI                                                   \
	"043E2202010000A5808FE64854160201061216d2fc41a47266c95f73001122337823" \
	"7214CC"

/* ble_monitor test/test_xiaogui_parser.py, test_xiaogui_tzc4_stab: OKOK
 * C0 ("Xiaogui" TZC4) 5F:5A:29:E5:E0:94, 63.0 kg, 500.3 ohm, RSSI -67. */
#define OKOK_C0_HCI                                                            \
	"043e1d0201030094e0e5295a5f1110ffc0a30276138b0002215f5a29e5e094bd"

/* The same file, test_xiaogui_maxxmee_qjj_stab: 113.35 kg, no impedance. */
#define OKOK_C0_QJJ_HCI                                                        \
	"043e1d0201030094e0e5295a5f1110ffc07d2c4700000a01255f5a29e5e094bd"

/* The same file, ..._qjj_non_stab: the empty scale, 0 kg. */
#define OKOK_C0_EMPTY_HCI                                                      \
	"043e1d0201030094e0e5295a5f1110ffc024000000000a01245f5a29e5e094bd"

/* myhomeiot/esphome-components and ble_monitor services.yaml: the ESPHome
 * BLE gateway's example packet, an ATC thermometer BC:9A:78:56:34:12
 * (service data 0x181A, name "ATC_654119"), RSSI -86: no family of ours. */
#define ESPHOME_ATC_HCI                                                        \
	"043E2B02010000123456789ABC1F12161A1819416538C1A41B073915810B529F0F0B" \
	"094154435F363534313139AA"

/* oliexdev/openScale QNHandlerBroadcastFT26RTest.kt, session 1 "settled1"
 * of a FITINDEX FT-26R-W (display 155.0 lb), in the advertisement that test
 * builds around it (flags, manufacturer data 0xFFFF): 70.30 kg. This model
 * marks settled with bit 0 (status 0x15) behind its signature 51 0E 03 in
 * bytes 19-21, as openScale reads it (scale-qn.c). */
#define QN_FT26R_AD                                                            \
	"02 01 06 1b ff ff ff aa bb 00 00 5e 00 53 01 72 00 00 00 ff "         \
	"ff ff 15 00 76 1b 51 0e 03 23 00"
/* rrooggiieerr/homeassistant-okokscale PR #12 ("ADV" scale, 2026-02-10):
 * the V20 final frame, 53.10 kg, 600.0 ohm as sent, in an advertisement
 * built around the published manufacturer data. */
#define OKOK_V20_AD                                                            \
	"02 01 06 16 ff ca 20 0b 41 af 2f 81 01 05 1b 14 be 17 70 b9 "         \
	"ed 67 37 a1 a8 73"
/* bdr99/eufylife-ble-client PR #6 (JShaw30, 2024-12-28): an A1 T9120 while
 * 100.8 kg settled; built from the published name, service UUID and
 * manufacturer data (company 4028). */
#define EUFY_T9120_AD                                                          \
	"02 01 06 03 03 f0 ff 15 ff bc 0f b7 15 69 5f cf 00 00 60 27 00 "      \
	"00 00 00 01 89 64 91 46 0b 09 65 75 66 79 20 54 39 31 32 30"
/* bdr99/eufylife-ble-client issue #3 (branda92, 2025-05-11): a P3 T9150's
 * raw advertisement as bleak logged it, the C20 layout: live 68.60 kg (its
 * sibling frame in the same line decoded to 68.85 there). */
#define EUFY_T9150_AD                                                          \
	"02 01 06 1a ff 5d cf e8 07 12 20 9d 00 57 d6 f9 61 01 00 cc 1a "      \
	"01 00 00 00 00 00 00 00 00 0b 09 65 75 66 79 20 54 39 31 35 30"
/* bdr99/eufylife-ble-client issue #5 (woodsb02, 2024-12-29): a C20 T9130
 * BC:0F:B7:00:9C:9D, company 48228, live then final weight 100.10 kg;
 * built from the published name and manufacturer data. */
#define EUFY_C20_LIVE_AD                                                       \
	"15 ff 64 bc 0f b7 00 9c 9d 00 c4 c9 70 67 01 00 1a 27 00 00 "         \
	"00 00 0b 09 65 75 66 79 20 54 39 31 33 30"
#define EUFY_C20_FINAL_AD                                                      \
	"15 ff 64 bc 0f b7 00 9c 9d 00 c5 c9 70 67 05 00 1a 27 00 00 "         \
	"00 00 0b 09 65 75 66 79 20 54 39 31 33 30"
/* Built (no capture is published) to openScale YunmaiXHandlerTest.kt's
 * layout for C0:FF:EE:12:34:56: service 0x1320, final 80.00 kg, 500 ohm. */
#define YUNMAI_X_AD                                                            \
	"02 01 06 03 03 20 13 11 ff 56 34 12 ee ff c0 0b 74 17 04 03 "         \
	"1f 40 01 f4 ad"
/* The same, as an HCI report from that address (RSSI -60). */
#define YUNMAI_X_HCI                                                           \
	"043e2502010300563412eeffc0190201060303201311ff563412eeffc00b74170403" \
	"1f4001f4adc4"
/* Built (no capture is published) to eufylife's P2 Pro rule: 72.15 kg,
 * final, heart rate 72 flagged. */
#define EUFY_P2_AD                                                             \
	"02 01 06 16 ff ff 48 a1 b2 c3 d4 e5 f6 cf 48 c0 2f 1c 00 00 "         \
	"00 00 00 00 00 00 0b 09 65 75 66 79 20 54 39 31 34 39"
/* --- Parsing into the value -------------------------------------------- */

struct parse_vector {
	const char *name;
	const char *hex;
	const char *address; /* of the first value; "" for none */
	int rssi;	     /* NO_RSSI for none */
	const char *local_name;
	unsigned uuids, service_data, manufacturer;
	int first_uuid;	   /* NONE */
	int first_sd_uuid; /* NONE */
	int first_company; /* NONE */
	size_t first_sd_offset;
};

static const struct parse_vector parse_vectors[] = {
	{ "/advert/parse/hci/mi-v1", MI_V1_HCI, "C8:47:8C:C0:95:89", -59, NULL,
	  1, 1, 1, 0x181D, 0x181D, 0x0157, 35 },
	{ "/advert/parse/hci/extended/mi-v1", MI_V1_EXT_HCI,
	  "C8:47:8C:C0:95:89", -70, NULL, 1, 1, 1, 0x181D, 0x181D, 0x0157, 50 },
	{ "/advert/parse/hci/random-address/mi-v2", MI_V2_HCI,
	  "DF:DE:44:82:14:EF", -66, NULL, 1, 1, 0, 0x181B, 0x181B, NONE, 25 },
	{ "/advert/parse/hci/bthome", BTHOME_HCI, "54:48:E6:8F:80:A5", -52,
	  NULL, 0, 1, 0, NONE, 0xFCD2, NONE, 21 },
	{ "/advert/parse/hci/okok-c0", OKOK_C0_HCI, "5F:5A:29:E5:E0:94", -67,
	  NULL, 0, 0, 1, NONE, NONE, 0xA3C0, 0 },
	{ "/advert/parse/hci/esphome-atc", ESPHOME_ATC_HCI, "BC:9A:78:56:34:12",
	  -86, "ATC_654119", 0, 1, 0, NONE, 0x181A, NONE, 18 },
	{ "/advert/parse/hci/yunmai-x", YUNMAI_X_HCI, "C0:FF:EE:12:34:56", -60,
	  NULL, 1, 0, 1, 0x1320, NONE, 0x3456, 0 },
	{ "/advert/parse/ad/qn", QN_FT26R_AD, "", NO_RSSI, NULL, 0, 0, 1, NONE,
	  NONE, 0xFFFF, 0 },
	{ "/advert/parse/ad/eufy-t9120", EUFY_T9120_AD, "", NO_RSSI,
	  "eufy T9120", 1, 0, 1, 0xFFF0, NONE, 4028, 0 },
	{ "/advert/parse/ad/eufy-t9150", EUFY_T9150_AD, "", NO_RSSI,
	  "eufy T9150", 0, 0, 1, NONE, NONE, 0xCF5D, 0 },
	/* A zero length is an empty structure: what follows is still read. */
	{ "/advert/parse/ad/zero-length", "00 02 01 06 00 00 03 02 0d 18", "",
	  NO_RSSI, NULL, 1, 0, 0, 0x180D, NONE, NONE, 0 },
	/* Types we do not read are skipped (0x0A TX power, 0x21 128-bit
	 * service data). */
	{ "/advert/parse/ad/unknown-types",
	  "02 0a f4 05 21 aa bb cc dd 04 16 d2 fc 40", "", NO_RSSI, NULL, 0, 1,
	  0, NONE, 0xFCD2, NONE, 13 },
	{ "/advert/parse/ad/empty", "", "", NO_RSSI, NULL, 0, 0, 0, NONE, NONE,
	  NONE, 0 },
	/* A shortened name gives way to a complete one. */
	{ "/advert/parse/ad/complete-name-wins",
	  "03 08 4d 49 06 09 4d 49 42 43 53", "", NO_RSSI, "MIBCS", 0, 0, 0,
	  NONE, NONE, NONE, 0 },
};

static void test_parse(gconstpointer data)
{
	const struct parse_vector *v = data;
	uint8_t buf[MAX_BYTES];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	g_autofree uint8_t *copy = g_memdup2(buf, len);
	struct advert a[2];
	struct parse_error err = { 0 };
	size_t count = 0;
	char address[18];

	memset(a, 0xa5, sizeof(a));
	g_assert_cmpint(
	    advert_parse(copy, len, a, G_N_ELEMENTS(a), &count, &err), ==, 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_NONE);
	g_assert_cmpuint(count, ==, 1);
	advert_address_text(&a[0], address);
	g_assert_cmpstr(address, ==, v->address);
	g_assert_cmpint(a[0].has_rssi, ==, v->rssi != NO_RSSI);
	if (v->rssi != NO_RSSI)
		g_assert_cmpint(a[0].rssi_dbm, ==, v->rssi);
	if (v->local_name) {
		g_assert_nonnull(a[0].name);
		g_assert_cmpuint(a[0].name_len, ==, strlen(v->local_name));
		g_assert_true(memcmp(a[0].name, v->local_name, a[0].name_len) ==
			      0);
		g_assert_true(advert_name_starts(&a[0], v->local_name));
	} else if (strstr(v->name, "hci")) {
		/* The Mi scale's name is in its scan response, not here. */
		g_assert_null(a[0].name);
	}
	g_assert_cmpuint(a[0].uuid_count, ==, v->uuids);
	g_assert_cmpuint(a[0].service_data_count, ==, v->service_data);
	g_assert_cmpuint(a[0].manufacturer_count, ==, v->manufacturer);
	if (v->first_uuid != NONE)
		g_assert_true(advert_has_uuid(&a[0], (uint16_t)v->first_uuid));
	if (v->first_sd_uuid != NONE) {
		const struct advert_service_data *sd =
		    advert_find_service_data(&a[0], (uint16_t)v->first_sd_uuid);

		g_assert_nonnull(sd);
		g_assert_cmpuint(sd->offset, ==, v->first_sd_offset);
		/* The view is the bytes at that offset. */
		g_assert_true(sd->data == copy + sd->offset);
		g_assert_cmpuint(sd->offset + sd->len, <=, len);
	}
	if (v->first_company != NONE)
		g_assert_cmpuint(a[0].manufacturer[0].company_id, ==,
				 v->first_company);
}

struct bad_parse_vector {
	const char *name;
	const char *hex;
	int error;
	enum parse_fault fault;
	const char *field;
	size_t offset;
};

static const struct bad_parse_vector bad_parse_vectors[] = {
	/* AD structures */
	{ "/advert/parse/bad/ad/structure-past-end", "02 01 06 05 16 1d 18",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "AD structure", 3 },
	{ "/advert/parse/bad/ad/flags-empty", "01 01", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "flags", 2 },
	{ "/advert/parse/bad/ad/odd-uuid-list", "04 03 0d 18 0f", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "service UUID", 4 },
	{ "/advert/parse/bad/ad/service-data-no-uuid", "02 16 1d", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "service data UUID", 2 },
	{ "/advert/parse/bad/ad/manufacturer-no-company", "02 ff 57", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "company id", 2 },
	{ "/advert/parse/bad/ad/too-many-uuids",
	  "23 03 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08 00 09 00 0a 00 "
	  "0b 00 0c 00 0d 00 0e 00 0f 00 10 00 11 00",
	  -E2BIG, PARSE_FAULT_TOO_MANY, "service UUIDs", 34 },
	{ "/advert/parse/bad/ad/too-many-service-data",
	  "03 16 01 00 03 16 02 00 03 16 03 00 03 16 04 00 03 16 05 00 03 16 "
	  "06 00 03 16 07 00 03 16 08 00 03 16 09 00",
	  -E2BIG, PARSE_FAULT_TOO_MANY, "service data", 34 },
	/* HCI: the ESPHome example, cut and bent */
	{ "/advert/parse/bad/hci/not-le-meta", "04 0e 04 01 03 0c 00", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "event code", 1 },
	{ "/advert/parse/bad/hci/subevent", "04 3e 03 0a 01 00", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "subevent", 3 },
	{ "/advert/parse/bad/hci/no-reports", "04 3e 02 02 00", -EINVAL,
	  PARSE_FAULT_OUT_OF_RANGE, "number of reports", 4 },
	{ "/advert/parse/bad/hci/truncated",
	  "043E2B02010000123456789ABC1F12161A1819416538C1A41B07", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "event parameters", 3 },
	{ "/advert/parse/bad/hci/extra-byte", ESPHOME_ATC_HCI "00", -EBADMSG,
	  PARSE_FAULT_MALFORMED, "parameter length", 2 },
	/* Data_Length 0x20 takes the RSSI for data, whose last byte (0xAA)
	 * then claims 170 bytes. */
	{ "/advert/parse/bad/hci/data-length",
	  "043E2B02010000123456789ABC2012161A1819416538C1A41B073915810B529F0F0B"
	  "094154435F363534313139AA",
	  -EBADMSG, PARSE_FAULT_TRUNCATED, "AD structure", 45 },
	/* The data's last structure claims a byte more than the report has:
	 * it must not reach into the RSSI. */
	{ "/advert/parse/bad/hci/structure-into-rssi",
	  "04 3e 0e 02 01 00 00 01 02 03 04 05 06 02 02 01 c5", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "AD structure", 14 },
	{ "/advert/parse/bad/hci/two-reports-one-short",
	  "04 3e 10 02 02 00 00 01 02 03 04 05 06 00 c5 00 00 01 02", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "address", 17 },
};

static void test_parse_bad(gconstpointer data)
{
	const struct bad_parse_vector *v = data;
	uint8_t buf[MAX_BYTES];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	/* Exactly len bytes, so ASan sees a read past the end. */
	g_autofree uint8_t *copy = g_memdup2(buf, len);
	struct advert a[2], untouched[2];
	struct parse_error err = { 0 };
	size_t count = 77;
	char msg[256];

	/* HCI vectors go to the HCI parser even where they no longer look
	 * like an advertising report. */
	int (*parse)(const uint8_t *, size_t, struct advert *, size_t, size_t *,
		     struct parse_error *) =
	    strstr(v->name, "/hci/") ? advert_parse_hci : advert_parse;

	memset(a, 0xa5, sizeof(a));
	memcpy(untouched, a, sizeof(a));
	g_assert_cmpint(parse(copy, len, a, G_N_ELEMENTS(a), &count, &err), ==,
			v->error);
	g_assert_true(memcmp(a, untouched, sizeof(a)) == 0);
	g_assert_cmpuint(count, ==, 77);
	g_assert_cmpint(err.fault, ==, v->fault);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	g_assert_cmpint(parse_error_format(&err, msg, sizeof(msg)), >, 0);
	g_assert_nonnull(strstr(msg, v->field));
	/* Without ret_err, the same answer. */
	g_assert_cmpint(parse(copy, len, a, G_N_ELEMENTS(a), &count, NULL), ==,
			v->error);
	g_assert_true(memcmp(a, untouched, sizeof(a)) == 0);
}

/* Every cut of a real report is refused, never read past. */
static void test_parse_every_cut(void)
{
	static const char *const frames[] = { MI_V1_HCI, MI_V1_EXT_HCI,
					      OKOK_C0_HCI, ESPHOME_ATC_HCI };

	for (size_t f = 0; f < G_N_ELEMENTS(frames); f++) {
		uint8_t buf[MAX_BYTES];
		size_t len = test_hex(frames[f], buf, sizeof(buf));

		for (size_t n = 2; n < len; n++) {
			g_autofree uint8_t *copy = g_memdup2(buf, n);
			struct advert a;
			struct parse_error err = { 0 };
			size_t count = 0;

			g_assert_cmpint(
			    advert_parse_hci(copy, n, &a, 1, &count, &err), <,
			    0);
			g_assert_cmpint(err.fault, !=, PARSE_FAULT_NONE);
		}
	}
}

/* Two reports in one event, one after the other (as the kernel and btmon
 * read them); more than the caller has room for is E2BIG. */
static void test_parse_two_reports(void)
{
	uint8_t buf[MAX_BYTES];
	size_t len = test_hex("04 3e 1d 02 02"
			      " 00 00 01 02 03 04 05 06 03 02 01 06 c5"
			      " 03 01 aa bb cc dd ee ff 04 03 02 0d 18 b0",
			      buf, sizeof(buf));
	struct advert a[2];
	struct parse_error err = { 0 };
	size_t count = 0;
	char address[18];

	g_assert_cmpint(advert_parse_hci(buf, len, a, 2, &count, &err), ==, 0);
	g_assert_cmpuint(count, ==, 2);
	advert_address_text(&a[0], address);
	g_assert_cmpstr(address, ==, "06:05:04:03:02:01");
	g_assert_true(a[0].has_flags);
	g_assert_cmpuint(a[0].flags, ==, 0x06);
	g_assert_cmpint(a[0].rssi_dbm, ==, -59);
	advert_address_text(&a[1], address);
	g_assert_cmpstr(address, ==, "FF:EE:DD:CC:BB:AA");
	g_assert_cmpuint(a[1].address_type, ==, 1);
	g_assert_true(advert_has_uuid(&a[1], 0x180D));
	g_assert_cmpint(a[1].rssi_dbm, ==, -80);

	count = 9;
	g_assert_cmpint(advert_parse_hci(buf, len, a, 1, &count, &err), ==,
			-E2BIG);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_TOO_MANY);
	g_assert_cmpuint(count, ==, 9);
}

/* RSSI 127 is "not available", not a strong signal. */
static void test_parse_rssi_unknown(void)
{
	uint8_t buf[MAX_BYTES];
	size_t len = test_hex("04 3e 0c 02 01 03 00 01 02 03 04 05 06 00 7f",
			      buf, sizeof(buf));
	struct advert a;
	size_t count = 0;

	g_assert_cmpint(advert_parse_hci(buf, len, &a, 1, &count, NULL), ==, 0);
	g_assert_false(a.has_rssi);
	g_assert_true(advert_is_hci(buf, len));
	/* Without the UART packet indicator too. */
	g_assert_true(advert_is_hci(buf + 1, len - 1));
	g_assert_cmpint(advert_parse(buf + 1, len - 1, &a, 1, &count, NULL), ==,
			0);
	g_assert_cmpuint(a.address[0], ==, 6);
}

/* A value built from parts, as bluetoothd's Device1 properties give it. */
static void test_build(void)
{
	static const uint8_t bytes[] = { 0x01, 0x02 };
	struct advert a;
	char address[18];

	advert_init(&a);
	g_assert_cmpint(advert_set_address(&a, "c8:47:8C:C0:95:89"), ==, 0);
	advert_address_text(&a, address);
	g_assert_cmpstr(address, ==, "C8:47:8C:C0:95:89");
	g_assert_cmpint(advert_set_address(&a, "C8:47:8C:C0:95"), ==, -EINVAL);
	g_assert_cmpint(advert_set_address(&a, "C8-47-8C-C0-95-89"), ==,
			-EINVAL);
	g_assert_cmpint(advert_set_address(&a, "G8:47:8C:C0:95:89"), ==,
			-EINVAL);
	g_assert_cmpstr(address, ==, "C8:47:8C:C0:95:89");
	for (unsigned i = 0; i < ADVERT_MAX_SERVICE_DATA; i++)
		g_assert_cmpint(advert_add_service_data(&a, (uint16_t)i, bytes,
							sizeof(bytes)),
				==, 0);
	g_assert_cmpint(
	    advert_add_service_data(&a, 0xFCD2, bytes, sizeof(bytes)), ==,
	    -E2BIG);
	g_assert_null(advert_find_service_data(&a, 0xFCD2));
	for (unsigned i = 0; i < ADVERT_MAX_MANUFACTURER; i++)
		g_assert_cmpint(advert_add_manufacturer(&a, (uint16_t)i, bytes,
							sizeof(bytes)),
				==, 0);
	g_assert_cmpint(advert_add_manufacturer(&a, 9, bytes, sizeof(bytes)),
			==, -E2BIG);
	for (unsigned i = 0; i < ADVERT_MAX_UUIDS; i++)
		g_assert_cmpint(advert_add_uuid(&a, (uint16_t)i), ==, 0);
	g_assert_cmpint(advert_add_uuid(&a, 0x181D), ==, -E2BIG);
	g_assert_false(advert_name_starts(&a, ""));
	advert_set_name(&a, "eufy T9130xyz", 10);
	g_assert_true(advert_name_starts(&a, "eufy T9130"));
	g_assert_false(advert_name_starts(&a, "eufy T9130x"));
}

/* --- The dispatcher ---------------------------------------------------- */

struct dispatch_vector {
	const char *name;
	const char *hex;
	enum advert_family family;
	enum decode_uuid uuid;
	const char *scale_family; /* weighings: scale_family_name() */
	double weight_kg;	  /* NONE: not a weighing */
	bool final;
	double impedance_ohm; /* NONE */
	int heart_rate_bpm;   /* NONE */
};

static const struct dispatch_vector dispatch_vectors[] = {
	{ "/advert/dispatch/mi-v1-removed", MI_V1_HCI, ADVERT_FAMILY_MISCALE_V1,
	  DECODE_UUID_MISCALE_V1, NULL, 87.2, false, NONE, NONE },
	{ "/advert/dispatch/mi-v1-extended-stable", MI_V1_EXT_HCI,
	  ADVERT_FAMILY_MISCALE_V1, DECODE_UUID_MISCALE_V1, NULL, 86.55, true,
	  NONE, NONE },
	{ "/advert/dispatch/mi-v2-impedance", MI_V2_HCI,
	  ADVERT_FAMILY_MISCALE_V2, DECODE_UUID_MISCALE_V2, NULL, 85.15, true,
	  428, NONE },
	{ "/advert/dispatch/bthome", BTHOME_HCI, ADVERT_FAMILY_BTHOME,
	  DECODE_UUID_BTHOME, NULL, NONE, false, NONE, NONE },
	{ "/advert/dispatch/okok-c0", OKOK_C0_HCI, ADVERT_FAMILY_OKOK,
	  DECODE_SCALE_WEIGHING, "okok-c0", 63.0, true, 500.3, NONE },
	{ "/advert/dispatch/okok-c0-qjj", OKOK_C0_QJJ_HCI, ADVERT_FAMILY_OKOK,
	  DECODE_SCALE_WEIGHING, "okok-c0", 113.35, true, NONE, NONE },
	{ "/advert/dispatch/okok-v20", OKOK_V20_AD, ADVERT_FAMILY_OKOK,
	  DECODE_SCALE_WEIGHING, "okok-v20", 53.10, true, 600.0, NONE },
	{ "/advert/dispatch/qn-ft26r-settled", QN_FT26R_AD,
	  ADVERT_FAMILY_QN_BROADCAST, DECODE_SCALE_WEIGHING, "qn-broadcast",
	  70.30, true, NONE, NONE },
	{ "/advert/dispatch/eufy-c1", EUFY_T9120_AD, ADVERT_FAMILY_EUFY_C1,
	  DECODE_SCALE_WEIGHING, "eufy-c1", 100.8, false, NONE, NONE },
	{ "/advert/dispatch/eufy-p3-as-c20", EUFY_T9150_AD,
	  ADVERT_FAMILY_EUFY_C20, DECODE_SCALE_WEIGHING, "eufy-c20", 68.60,
	  false, NONE, NONE },
	{ "/advert/dispatch/eufy-c20-final", EUFY_C20_FINAL_AD,
	  ADVERT_FAMILY_EUFY_C20, DECODE_SCALE_WEIGHING, "eufy-c20", 100.10,
	  true, NONE, NONE },
	{ "/advert/dispatch/eufy-p2", EUFY_P2_AD, ADVERT_FAMILY_EUFY_P2,
	  DECODE_SCALE_WEIGHING, "eufy-p2", 72.15, true, NONE, 72 },
	{ "/advert/dispatch/yunmai-x", YUNMAI_X_AD, ADVERT_FAMILY_YUNMAI_X,
	  DECODE_SCALE_WEIGHING, "yunmai-x", 80.00, true, 500, NONE },
	{ "/advert/dispatch/yunmai-x-echo", YUNMAI_X_HCI,
	  ADVERT_FAMILY_YUNMAI_X, DECODE_SCALE_WEIGHING, "yunmai-x", 80.00,
	  true, 500, NONE },
};

static void test_dispatch(gconstpointer data)
{
	const struct dispatch_vector *v = data;
	uint8_t buf[MAX_BYTES];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	g_autofree uint8_t *copy = g_memdup2(buf, len);
	struct advert a;
	g_autofree struct advert_decoded *d = g_new(struct advert_decoded, 1);
	struct parse_error err = { 0 };
	size_t count = 0;

	g_assert_cmpint(advert_parse(copy, len, &a, 1, &count, NULL), ==, 0);
	g_assert_cmpint(advert_recognise(&a), ==, v->family);
	memset(d, 0xa5, sizeof(*d));
	g_assert_cmpint(advert_decode(&a, NULL, d, &err), ==, 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_NONE);
	g_assert_cmpint(d->family, ==, v->family);
	g_assert_cmpint(d->payload.uuid, ==, v->uuid);
	g_assert_cmpint(advert_family_is_scale(v->family), ==,
			v->family != ADVERT_FAMILY_BTHOME);

	switch (v->uuid) {
	case DECODE_UUID_MISCALE_V1:
	case DECODE_UUID_MISCALE_V2: {
		const struct miscale_reading *m = &d->payload.u.miscale;

		g_assert_cmpfloat_with_epsilon(mass_kg(m->weight), v->weight_kg,
					       1e-6);
		g_assert_cmpint(miscale_is_measurement(m), ==, v->final);
		g_assert_cmpint(m->has_impedance, ==, v->impedance_ohm != NONE);
		if (m->has_impedance)
			g_assert_cmpuint(m->impedance_ohm, ==,
					 (unsigned)v->impedance_ohm);
		break;
	}
	case DECODE_UUID_BTHOME:
		/* packet id 9, battery 97 % */
		g_assert_cmpuint(d->payload.u.bthome.object_count, ==, 2);
		g_assert_cmpfloat(
		    bthome_object_value(&d->payload.u.bthome.objects[1]), ==,
		    97);
		break;
	case DECODE_SCALE_WEIGHING: {
		const struct scale_weighing *w = &d->payload.u.scale;

		g_assert_cmpstr(scale_family_name(w->family), ==,
				v->scale_family);
		g_assert_cmpfloat_with_epsilon(w->weight_kg, v->weight_kg,
					       1e-6);
		g_assert_cmpint(w->final, ==, v->final);
		g_assert_cmpint(w->has_impedance, ==, v->impedance_ohm != NONE);
		if (w->has_impedance)
			g_assert_cmpfloat_with_epsilon(w->impedance_ohm,
						       v->impedance_ohm, 1e-6);
		g_assert_cmpint(w->has_heart_rate, ==,
				v->heart_rate_bpm != NONE);
		if (w->has_heart_rate)
			g_assert_cmpuint(w->heart_rate_bpm, ==,
					 (unsigned)v->heart_rate_bpm);
		break;
	}
	case DECODE_UUID_HEART_RATE:
	case DECODE_UUID_SENSOR_LOCATION:
	case DECODE_UUID_BATTERY_LEVEL:
	case DECODE_UUID_WEIGHT:
	case DECODE_UUID_WEIGHT_FEATURE:
	case DECODE_UUID_BODY_COMPOSITION:
	default:
		g_assert_not_reached();
	}
}

struct bad_dispatch_vector {
	const char *name;
	const char *hex;
	int error;
	enum parse_fault fault; /* NONE: no fault recorded */
	const char *field;
	size_t offset; /* in the bytes given, not in the family's data */
};

static const struct bad_dispatch_vector bad_dispatch_vectors[] = {
	/* No family of ours. */
	{ "/advert/dispatch/bad/none/esphome-atc", ESPHOME_ATC_HCI, -ENOENT,
	  PARSE_FAULT_NONE, NULL, 0 },
	{ "/advert/dispatch/bad/none/empty", "", -ENOENT, PARSE_FAULT_NONE,
	  NULL, 0 },
	/* Company 0xFFFF without the AA BB magic is someone else's. */
	{ "/advert/dispatch/bad/none/ffff-not-qn", "05 ff ff ff 01 02", -ENOENT,
	  PARSE_FAULT_NONE, NULL, 0 },
	/* An id ending in C0 is OKOK only with its 13 bytes. */
	{ "/advert/dispatch/bad/none/c0-wrong-size", "05 ff c0 12 01 02",
	  -ENOENT, PARSE_FAULT_NONE, NULL, 0 },
	/* A Eufy's data without a Eufy's name is no Eufy. */
	{ "/advert/dispatch/bad/none/eufy-without-name",
	  "15 ff 64 bc 0f b7 00 9c 9d 00 c5 c9 70 67 05 00 1a 27 00 00 00 00",
	  -ENOENT, PARSE_FAULT_NONE, NULL, 0 },
	/* Malformed data of a recognised family: the fault's offset counts
	 * in what was given. */
	{ "/advert/dispatch/bad/okok-v20-checksum",
	  "02 01 06 16 ff ca 20 0b 41 af 2f 81 01 05 1b 14 bf 17 70 b9 ed 67 "
	  "37 a1 a8 73",
	  -EBADMSG, PARSE_FAULT_MALFORMED, "checksum", 19 },
	{ "/advert/dispatch/bad/okok-c0-empty-scale", OKOK_C0_EMPTY_HCI,
	  -EINVAL, PARSE_FAULT_OUT_OF_RANGE, "weight", 18 },
	{ "/advert/dispatch/bad/mi-v2-truncated",
	  "02 01 06 03 02 1b 18 0b 16 1b 18 02 26 b2 07 05 04 0f 02", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "timestamp", 13 },
	{ "/advert/dispatch/bad/bthome-encrypted", BTHOME_ENCRYPTED_HCI,
	  -ENOKEY, PARSE_FAULT_ENCRYPTED, "objects", 22 },
	{ "/advert/dispatch/bad/qn-truncated",
	  "02 01 06 0d ff ff ff aa bb 00 00 5e 00 53 01 72 00", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "address and counters", 9 },
	{ "/advert/dispatch/bad/yunmai-x-checksum",
	  "02 01 06 03 03 20 13 11 ff 56 34 12 ee ff c0 0b 74 17 04 03 1f 41 "
	  "01 f4 ad",
	  -EBADMSG, PARSE_FAULT_MALFORMED, "checksum", 24 },
	/* Alone, a C20 frame without a weight has nothing to show. */
	{ "/advert/dispatch/bad/eufy-c20-idle",
	  "15 ff 64 bc 0f b7 00 9c 9d 00 c5 c9 70 67 00 00 00 00 00 00 00 00 "
	  "0b 09 65 75 66 79 20 54 39 31 33 30",
	  -ENODATA, PARSE_FAULT_RESERVED, "flags", 14 },
};

static void test_dispatch_bad(gconstpointer data)
{
	const struct bad_dispatch_vector *v = data;
	uint8_t buf[MAX_BYTES];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	g_autofree uint8_t *copy = g_memdup2(buf, len);
	struct advert a;
	g_autofree struct advert_decoded *d = g_new(struct advert_decoded, 1);
	g_autofree struct advert_decoded *untouched =
	    g_new(struct advert_decoded, 1);
	struct parse_error err = { 0 };
	size_t count = 0;
	char msg[256];

	g_assert_cmpint(advert_parse(copy, len, &a, 1, &count, NULL), ==, 0);
	memset(d, 0xa5, sizeof(*d));
	memcpy(untouched, d, sizeof(*d));
	g_assert_cmpint(advert_decode(&a, NULL, d, &err), ==, v->error);
	g_assert_true(memcmp(d, untouched, sizeof(*d)) == 0);
	g_assert_cmpint(err.fault, ==, v->fault);
	if (v->fault == PARSE_FAULT_NONE)
		return;
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	g_assert_cmpint(parse_error_format(&err, msg, sizeof(msg)), >, 0);
	g_assert_cmpint(advert_decode(&a, NULL, d, NULL), ==, v->error);
	g_assert_true(memcmp(d, untouched, sizeof(*d)) == 0);
}

/* The Yunmai X echoes its address: a frame from another address is not
 * that scale's (openScale YunmaiXHandler rejects it too). */
static void test_dispatch_yunmai_echo(void)
{
	uint8_t buf[MAX_BYTES];
	size_t len = test_hex(YUNMAI_X_AD, buf, sizeof(buf));
	struct advert a;
	g_autofree struct advert_decoded *d = g_new(struct advert_decoded, 1);

	g_assert_cmpint(advert_parse_ad(buf, len, &a, NULL), ==, 0);
	g_assert_cmpint(advert_set_address(&a, "C0:FF:EE:12:34:57"), ==, 0);
	g_assert_cmpint(advert_recognise(&a), ==, ADVERT_FAMILY_NONE);
	g_assert_cmpint(advert_decode(&a, NULL, d, NULL), ==, -ENOENT);
	g_assert_cmpint(advert_set_address(&a, "C0:FF:EE:12:34:56"), ==, 0);
	g_assert_cmpint(advert_recognise(&a), ==, ADVERT_FAMILY_YUNMAI_X);
}

static void parse_one(const char *hex, uint8_t *buf, struct advert *a)
{
	size_t len = test_hex(hex, buf, MAX_BYTES);

	g_assert_cmpint(advert_parse_ad(buf, len, a, NULL), ==, 0);
}

/*
 * A C20 spreads a weighing over several advertisements; with the caller's
 * merge state, the live weight is a live value, the final one waits for
 * impedance and heart rate, and a flush hands on what came.
 */
static void test_dispatch_c20_merge(void)
{
	static uint8_t live[MAX_BYTES], final[MAX_BYTES], rest[MAX_BYTES];
	struct advert a;
	struct advert_merge m;
	g_autofree struct advert_decoded *d = g_new(struct advert_decoded, 1);

	advert_merge_reset(&m);
	g_assert_false(advert_merge_pending(&m));
	parse_one(EUFY_C20_LIVE_AD, live, &a);
	g_assert_cmpint(advert_decode(&a, &m, d, NULL), ==, 0);
	g_assert_false(d->payload.u.scale.final);
	g_assert_cmpfloat_with_epsilon(d->payload.u.scale.weight_kg, 100.10,
				       1e-6);
	parse_one(EUFY_C20_FINAL_AD, final, &a);
	g_assert_cmpint(advert_decode(&a, &m, d, NULL), ==, -EAGAIN);
	g_assert_true(advert_merge_pending(&m));
	/* Built to eufylife PR #9's bits: impedance 500.3 ohm (0x40) and
	 * heart rate 71 (0x80), no weight. */
	parse_one("16 ff 64 bc 0f b7 00 9c 9d 00 c5 c9 70 67 c0 00 00 00 00 47 "
		  "00 8b 13 0b 09 65 75 66 79 20 54 39 31 33 30",
		  rest, &a);
	g_assert_cmpint(advert_decode(&a, &m, d, NULL), ==, 0);
	g_assert_cmpint(d->family, ==, ADVERT_FAMILY_EUFY_C20);
	g_assert_true(d->payload.u.scale.final);
	g_assert_cmpfloat_with_epsilon(d->payload.u.scale.weight_kg, 100.10,
				       1e-6);
	g_assert_true(d->payload.u.scale.has_impedance);
	g_assert_cmpfloat_with_epsilon(d->payload.u.scale.impedance_ohm, 500.3,
				       1e-6);
	g_assert_cmpuint(d->payload.u.scale.heart_rate_bpm, ==, 71);
	g_assert_false(advert_merge_pending(&m));

	/* The person steps off before the rest: the final weight alone. */
	parse_one(EUFY_C20_FINAL_AD, final, &a);
	g_assert_cmpint(advert_decode(&a, &m, d, NULL), ==, -EAGAIN);
	g_assert_true(advert_merge_flush(&m, d));
	g_assert_true(d->payload.u.scale.final);
	g_assert_false(d->payload.u.scale.has_impedance);
	g_assert_false(advert_merge_pending(&m));
	g_assert_false(advert_merge_flush(&m, d));
}

/* Names for logs and JSON. */
static void test_family_names(void)
{
	g_assert_cmpstr(advert_family_name(ADVERT_FAMILY_NONE), ==, "none");
	for (int f = ADVERT_FAMILY_NONE + 1; f < ADVERT_FAMILY_COUNT; f++) {
		g_assert_cmpstr(advert_family_name((enum advert_family)f), !=,
				"none");
		for (int g = f + 1; g < ADVERT_FAMILY_COUNT; g++)
			g_assert_cmpstr(
			    advert_family_name((enum advert_family)f), !=,
			    advert_family_name((enum advert_family)g));
	}
	g_assert_false(advert_family_is_scale(ADVERT_FAMILY_NONE));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(parse_vectors); i++)
		g_test_add_data_func(parse_vectors[i].name, &parse_vectors[i],
				     test_parse);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_parse_vectors); i++)
		g_test_add_data_func(bad_parse_vectors[i].name,
				     &bad_parse_vectors[i], test_parse_bad);
	g_test_add_func("/advert/parse/hci/every-cut", test_parse_every_cut);
	g_test_add_func("/advert/parse/hci/two-reports",
			test_parse_two_reports);
	g_test_add_func("/advert/parse/hci/rssi-unknown",
			test_parse_rssi_unknown);
	g_test_add_func("/advert/build", test_build);
	for (size_t i = 0; i < G_N_ELEMENTS(dispatch_vectors); i++)
		g_test_add_data_func(dispatch_vectors[i].name,
				     &dispatch_vectors[i], test_dispatch);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_dispatch_vectors); i++)
		g_test_add_data_func(bad_dispatch_vectors[i].name,
				     &bad_dispatch_vectors[i],
				     test_dispatch_bad);
	g_test_add_func("/advert/dispatch/yunmai-x-echo-mismatch",
			test_dispatch_yunmai_echo);
	g_test_add_func("/advert/dispatch/eufy-c20-merge",
			test_dispatch_c20_merge);
	g_test_add_func("/advert/dispatch/family-names", test_family_names);
	return g_test_run();
}
