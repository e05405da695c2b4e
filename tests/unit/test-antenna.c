// SPDX-License-Identifier: MIT
/*
 * gateway/core/antenna.c: what each remote antenna publishes, read into the
 * one advert value (reference/antennas.md), and sensors/base64.c under it.
 * Each vector names where its message comes from: a message quoted in the
 * antenna's own repository or issue tracker, or a published capture put in
 * the shape the antenna's code writes (said so where that is the case).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <glib.h>

#include "gateway/core/antenna.h"
#include "sensors/advert-decode.h"
#include "sensors/base64.h"
#include "sensors/mass.h"

#define NO_RSSI INT_MIN

/* ---- base64 (RFC 4648 §10's vectors, and what is refused) ---- */

struct b64_vector {
	const char *name;
	const char *text;
	int rc;
	const char *bytes; /* the decoded text on success */
	size_t bad_offset;
};

static const struct b64_vector b64_vectors[] = {
	{ "/base64/rfc4648/empty", "", 0, "", 0 },
	{ "/base64/rfc4648/f", "Zg==", 0, "f", 0 },
	{ "/base64/rfc4648/fo", "Zm8=", 0, "fo", 0 },
	{ "/base64/rfc4648/foo", "Zm9v", 0, "foo", 0 },
	{ "/base64/rfc4648/foob", "Zm9vYg==", 0, "foob", 0 },
	{ "/base64/rfc4648/fooba", "Zm9vYmE=", 0, "fooba", 0 },
	{ "/base64/rfc4648/foobar", "Zm9vYmFy", 0, "foobar", 0 },
	{ "/base64/unpadded", "Zm9vYg", 0, "foob", 0 },
	{ "/base64/bad/char", "Zm9*", -EINVAL, NULL, 3 },
	{ "/base64/bad/url-alphabet", "Zm9v_w==", -EINVAL, NULL, 4 },
	{ "/base64/bad/lone-char", "Zm9vY", -EINVAL, NULL, 4 },
	{ "/base64/bad/pad-middle", "Zg==Zg==", -EINVAL, NULL, 4 },
	{ "/base64/bad/pad-too-much", "Zg===", -EINVAL, NULL, 4 },
	{ "/base64/bad/pad-whole-group", "Zm9v=", -EINVAL, NULL, 4 },
	{ "/base64/bad/trailing-bits", "Zh==", -EINVAL, NULL, 1 },
};

static void test_base64(gconstpointer data)
{
	const struct b64_vector *v = data;
	uint8_t buf[16];
	size_t len = 99, bad = 99;
	int rc = base64_decode(v->text, strlen(v->text), buf, sizeof(buf), &len,
			       &bad);

	g_assert_cmpint(rc, ==, v->rc);
	if (rc == 0) {
		g_assert_cmpuint(len, ==, strlen(v->bytes));
		g_assert_cmpmem(buf, (int)len, v->bytes, (int)strlen(v->bytes));
	} else {
		g_assert_cmpuint(bad, ==, v->bad_offset);
	}
}

static void test_base64_too_big(void)
{
	uint8_t buf[4];
	size_t len = 0;

	g_assert_cmpint(base64_decode("Zm9vYg==", 8, buf, 3, &len, NULL), ==,
			-E2BIG);
	g_assert_cmpint(base64_decode("Zm9vYg==", 8, buf, 4, &len, NULL), ==,
			0);
	g_assert_cmpuint(len, ==, 4);
	g_assert_cmpint(base64_decode("Zm9vYmE=", 8, buf, 4, &len, NULL), ==,
			-E2BIG);
}

/* ---- messages that read ---- */

/* ble_monitor test_miscale_v2_impedance: Mi Body Composition Scale 2
 * DF:DE:44:82:14:EF, 85.15 kg, 428 ohm: its service data after 0x181B. */
#define MI_V2_SD "0226b20705040f0201ac018642"

/* The ESPHome BLE gateway's example packet (myhomeiot/esphome-components,
 * ble_monitor services.yaml): ATC thermometer BC:9A:78:56:34:12, RSSI -86. */
#define ESPHOME_ATC                                                            \
	"043E2B02010000123456789ABC1F12161A1819416538C1A41B073915810B529F0F0B" \
	"094154435F363534313139AA"

/* A bed sensor A4:C1:38:5E:00:02 that says "occupied" in BTHome v2
 * (service data 0xFCD2: 40 = v2 unencrypted, packet id 0x0A, occupancy
 * 0x23 = 1), as the ESPHome gateway frames it (reference §1.3), RSSI -60. */
#define ESPHOME_BED                                                            \
	"043E1802010000"                                                       \
	"02005E38C1A4"                                                         \
	"0C"                                                                   \
	"020106"                                                               \
	"0816D2FC40000A2301"                                                   \
	"C4"

struct ok_vector {
	const char *name;
	const char *source;
	const char *payload;
	enum antenna_format format;
	size_t count;
	const char *address; /* of the first advertisement */
	int rssi;	     /* NO_RSSI: none */
	const char *adv_name;
	const char *family; /* advert_family_name() of what it decodes to,
			       "none" when no family recognises it */
	double weight_kg;   /* of a Mi scale's weighing; 0: none */
	int occupancy;	    /* of a BTHome frame; -1: none */
};

static const struct ok_vector ok_vectors[] = {
	{ "/antenna/omg/s400-issue-2285",
	  "OpenMQTTGateway issue #2285 (v1.8.1, 2026), as published",
	  "{\"id\":\"1C:EA:AC:74:8E:47\",\"mac_type\":0,\"adv_type\":0,"
	  "\"name\":\"Xiaomi Scale S400 8E47\",\"rssi\":-59,"
	  "\"servicedata\":\"1059d53b24679e74acea1c\","
	  "\"servicedatauuid\":\"0xfe95\"}",
	  ANTENNA_FORMAT_GATEWAY_JSON, 1, "1C:EA:AC:74:8E:47", -59,
	  "Xiaomi Scale S400 8E47", "none", 0, -1 },
	{ "/antenna/omg/mi-scale-2-issue-1166-with-uuid",
	  "OpenMQTTGateway issue #1166 (2022) with the servicedatauuid its "
	  "serial log showed (0x181d), as pubadvdata publishes it",
	  "{\"id\":\"70:87:9E:5B:33:42\",\"mac_type\":0,\"name\":\"MI SCALE2\","
	  "\"manufacturerdata\":\"570170879e5b3342\",\"rssi\":-78,"
	  "\"servicedata\":\"a2f45be607020c092d23\","
	  "\"servicedatauuid\":\"0x181d\"}",
	  ANTENNA_FORMAT_GATEWAY_JSON, 1, "70:87:9E:5B:33:42", -78, "MI SCALE2",
	  "mi-scale-v1", 117.7, -1 },
	{ "/antenna/omg/mi-scale-v2-lowercase-id",
	  "ble_monitor's Mi scale v2 capture in OpenMQTTGateway's shape "
	  "(ZgatewayBT.cpp: lowercase hex, \"0x181b\"); id in lower case as "
	  "NimBLE formats it",
	  "{\"id\":\"df:de:44:82:14:ef\",\"mac_type\":1,\"rssi\":-66,"
	  "\"servicedata\":\"" MI_V2_SD "\",\"servicedatauuid\":\"0x181b\"}",
	  ANTENNA_FORMAT_GATEWAY_JSON, 1, "DF:DE:44:82:14:EF", -66, NULL,
	  "mi-scale-v2", 85.15, -1 },
	{ "/antenna/theengs/mi-scale-v2",
	  "the same capture in Theengs Gateway's shape (ble_gateway.py: "
	  "uuid[4:8], no 0x) with publish_advdata",
	  "{\"servicedata\": \"" MI_V2_SD "\", \"servicedatauuid\": \"181b\", "
	  "\"id\": \"DF:DE:44:82:14:EF\", \"rssi\": -70, \"brand\": "
	  "\"Xiaomi\", "
	  "\"model\": \"Mi body composition scale 2\", \"model_id\": "
	  "\"XMTZC05HM/XMTZC02HM\", \"type\": \"SCALE\", \"weighing_mode\": "
	  "\"person\", \"unit\": \"kg\", \"weight\": 85.15, \"impedance\": "
	  "428}",
	  ANTENNA_FORMAT_GATEWAY_JSON, 1, "DF:DE:44:82:14:EF", -70, NULL,
	  "mi-scale-v2", 85.15, -1 },
	{ "/antenna/theengs/full-uuid",
	  "the same with the 128-bit UUID string bleak gives",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"servicedata\":\"" MI_V2_SD "\","
	  "\"servicedatauuid\":\"0000181b-0000-1000-8000-00805f9b34fb\"}",
	  ANTENNA_FORMAT_GATEWAY_JSON, 1, "DF:DE:44:82:14:EF", NO_RSSI, NULL,
	  "mi-scale-v2", 85.15, -1 },
	{ "/antenna/theengs/docs-apple",
	  "Theengs Gateway docs/use/use.md, the MQTTtoMQTT input example",
	  "{\"id\":\"54:94:5E:9F:64:C4\",\"mac_type\":1,"
	  "\"manufacturerdata\":\"4c0010060319247bbc68\",\"rssi\":-74,"
	  "\"txpower\":12}",
	  ANTENNA_FORMAT_GATEWAY_JSON, 1, "54:94:5E:9F:64:C4", -74, NULL,
	  "none", 0, -1 },
	{ "/antenna/omg/decoded-only",
	  "an OpenMQTTGateway message without pubadvdata: no raw fields",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"rssi\":-70,\"model\":\"XMTZC05HM\","
	  "\"weight\":85.15}",
	  ANTENNA_FORMAT_GATEWAY_JSON, 1, "DF:DE:44:82:14:EF", -70, NULL,
	  "none", 0, -1 },
	{ "/antenna/esphome/packet-atc",
	  "myhomeiot/esphome-components README and ble_monitor services.yaml",
	  "{\"packet\": \"" ESPHOME_ATC "\", \"gateway_id\": \"hall\"}",
	  ANTENNA_FORMAT_HCI, 1, "BC:9A:78:56:34:12", -86, "ATC_654119", "none",
	  0, -1 },
	{ "/antenna/esphome/bare-atc", "the same packet published bare",
	  ESPHOME_ATC "\n", ANTENNA_FORMAT_HCI, 1, "BC:9A:78:56:34:12", -86,
	  "ATC_654119", "none", 0, -1 },
	{ "/antenna/esphome/bed-occupied",
	  "a BTHome v2 occupancy frame (bthome.io object 0x23) in the ESPHome "
	  "gateway's HCI framing",
	  "{\"packet\":\"" ESPHOME_BED "\"}", ANTENNA_FORMAT_HCI, 1,
	  "A4:C1:38:5E:00:02", -60, NULL, "bthome", 0, 1 },
	{ "/antenna/shelly/notify-v2",
	  "aioshelly BLE script 2.0's ble.scan_result (reference §1.4) in a "
	  "Shelly NotifyEvent frame, over the Mi scale v2 capture",
	  "{\"src\":\"shellyplus1pm-a8032ab12345\",\"dst\":\"shellyplus1pm-"
	  "a8032ab12345/events\",\"method\":\"NotifyEvent\",\"params\":{\"ts\":"
	  "1733476800.12,\"events\":[{\"component\":\"script:1\",\"id\":1,"
	  "\"event\":\"ble.scan_result\",\"data\":[2,[[\"df:de:44:82:14:ef\","
	  "-66,\"AgEGAwIbGBAWGxgCJrIHBQQPAgGsAYZC\",\"\"],[\"a4:c1:38:5e:00:"
	  "02\","
	  "-61,\"AgEGCBbS/EAACiMB\",\"\"]]],\"ts\":1733476800.12}]}}",
	  ANTENNA_FORMAT_SHELLY, 2, "DF:DE:44:82:14:EF", -66, NULL,
	  "mi-scale-v2", 85.15, -1 },
	{ "/antenna/shelly/event-v1",
	  "the version 1 data (aioshelly: [1, [addr, rssi, adv, rsp]]), the "
	  "event object alone",
	  "{\"event\":\"ble.scan_result\",\"data\":[1,[\"a4:c1:38:5e:00:02\","
	  "-61,\"AgEG\",\"CBbS/EAACiMB\"]]}",
	  ANTENNA_FORMAT_SHELLY, 1, "A4:C1:38:5E:00:02", -61, NULL, "bthome", 0,
	  1 },
	{ "/antenna/shelly/data-array",
	  "the data array alone, no scan response",
	  "[2,[[\"a4:c1:38:5e:00:02\",-61,\"AgEGCBbS/EAACiMB\",null]]]",
	  ANTENNA_FORMAT_SHELLY, 1, "A4:C1:38:5E:00:02", -61, NULL, "bthome", 0,
	  1 },
	{ "/antenna/shelly/other-event", "a Shelly input event: nothing",
	  "{\"method\":\"NotifyEvent\",\"params\":{\"events\":[{\"component\":"
	  "\"input:0\",\"id\":0,\"event\":\"single_push\"}]}}",
	  ANTENNA_FORMAT_SHELLY, 0, NULL, NO_RSSI, NULL, NULL, 0, -1 },
};

static void test_ok(gconstpointer data)
{
	const struct ok_vector *v = data;
	g_autofree struct antenna_message *m = g_new(struct antenna_message, 1);
	g_autofree char *reason = NULL;
	struct advert_decoded dec;
	struct parse_error err = { 0 };
	const struct advert *a;
	char address[18];
	int rc;

	g_test_message("source: %s", v->source);
	rc = antenna_parse(v->payload, strlen(v->payload), m, &reason);
	if (rc != 0)
		g_error("%s: %d %s", v->name, rc, reason);
	g_assert_cmpint(m->format, ==, v->format);
	g_assert_cmpuint(m->count, ==, v->count);
	if (!v->count)
		return;
	a = &m->adverts[0];
	g_assert_true(a->has_address);
	advert_address_text(a, address);
	g_assert_cmpstr(address, ==, v->address);
	g_assert_cmpint(a->has_rssi, ==, v->rssi != NO_RSSI);
	if (v->rssi != NO_RSSI)
		g_assert_cmpint(a->rssi_dbm, ==, v->rssi);
	if (v->adv_name)
		g_assert_cmpmem(a->name, (int)a->name_len, v->adv_name,
				(int)strlen(v->adv_name));
	else
		g_assert_null(a->name);
	g_assert_cmpstr(advert_family_name(advert_recognise(a)), ==, v->family);
	if (!strcmp(v->family, "none"))
		return;
	g_assert_cmpint(advert_decode(a, NULL, &dec, &err), ==, 0);
	if (v->weight_kg > 0)
		g_assert_cmpfloat_with_epsilon(
		    mass_kg(dec.payload.u.miscale.weight), v->weight_kg, 0.001);
	if (v->occupancy >= 0) {
		const struct bthome_frame *f = &dec.payload.u.bthome;
		bool found = false;

		for (unsigned i = 0; i < f->object_count; i++)
			if (!strcmp(f->objects[i].type->name, "occupancy")) {
				g_assert_cmpfloat(
				    bthome_object_value(&f->objects[i]), ==,
				    v->occupancy);
				found = true;
			}
		g_assert_true(found);
	}
}

/* Every advertisement of a message, and the bytes they borrow, are its. */
static void test_shelly_second(void)
{
	const struct ok_vector *v = NULL;
	g_autofree struct antenna_message *m = g_new(struct antenna_message, 1);
	struct advert_decoded dec;
	char address[18];

	for (size_t i = 0; i < G_N_ELEMENTS(ok_vectors); i++)
		if (!strcmp(ok_vectors[i].name, "/antenna/shelly/notify-v2"))
			v = &ok_vectors[i];
	g_assert_nonnull(v);
	g_assert_cmpint(antenna_parse(v->payload, strlen(v->payload), m, NULL),
			==, 0);
	g_assert_cmpuint(m->count, ==, 2);
	advert_address_text(&m->adverts[1], address);
	g_assert_cmpstr(address, ==, "A4:C1:38:5E:00:02");
	g_assert_cmpint(m->adverts[1].rssi_dbm, ==, -61);
	g_assert_cmpint(advert_decode(&m->adverts[1], NULL, &dec, NULL), ==, 0);
	g_assert_cmpint(dec.family, ==, ADVERT_FAMILY_BTHOME);
	/* The first one's still whole after the second was read. */
	g_assert_cmpint(advert_decode(&m->adverts[0], NULL, &dec, NULL), ==, 0);
	g_assert_cmpfloat_with_epsilon(mass_kg(dec.payload.u.miscale.weight),
				       85.15, 0.001);
}

/* ---- messages that do not read ---- */

struct bad_vector {
	const char *name;
	const char *payload;
	size_t len; /* 0: strlen(payload) */
	int rc;
	const char *fragment;
	bool sender; /* the sender's address was read before the fault */
};

static const struct bad_vector bad_vectors[] = {
	{ "/antenna/bad/empty", "", 0, -ENOMSG, "empty" },
	{ "/antenna/bad/blank", " \n", 0, -ENOMSG, "empty" },
	{ "/antenna/bad/not-utf8", "{\"id\":\"\xff\"}", 0, -EBADMSG,
	  "not UTF-8" },
	{ "/antenna/bad/nul", "{\"id\"\0:1}", 9, -EBADMSG, "not UTF-8" },
	{ "/antenna/bad/not-json", "{\"id\":", 0, -EBADMSG, "not JSON" },
	{ "/antenna/bad/two-objects", "{\"id\":\"DF:DE:44:82:14:EF\"}{}", 0,
	  -EBADMSG, "text after the JSON value at character 26" },
	{ "/antenna/bad/json-string", "\"hello\"", 0, -EBADMSG, "not hex" },
	{ "/antenna/bad/unknown-object", "{\"temperature\":21.5}", 0, -ENOTSUP,
	  "without \"id\", \"packet\" or a Shelly event" },
	/* OpenMQTTGateway issue #1166 as published: that build stripped
	 * servicedatauuid, so the service data cannot be placed. */
	{ "/antenna/bad/omg-issue-1166-no-uuid",
	  "{\"id\":\"70:87:9E:5B:33:42\",\"mac_type\":0,\"name\":\"MI SCALE2\","
	  "\"manufacturerdata\":\"570170879e5b3342\",\"rssi\":-78,"
	  "\"servicedata\":\"a2f45be607020c092d23\"}",
	  0, -EBADMSG,
	  "servicedata without servicedatauuid (expected both: turn "
	  "OpenMQTTGateway's pubadvdata or Theengs' publish_advdata on)",
	  true },
	{ "/antenna/bad/id-not-address", "{\"id\":\"DF:DE:44:82:14\"}", 0,
	  -EINVAL, "id \"DF:DE:44:82:14\" is not a Bluetooth address" },
	{ "/antenna/bad/id-ibeacon-uuid",
	  "{\"id\":\"e2c56db5-dffb-48d2-b060-d0f5a71096e0\"}", 0, -EINVAL,
	  "is not a Bluetooth address" },
	{ "/antenna/bad/id-number", "{\"id\":42}", 0, -EINVAL,
	  "id a number is not a Bluetooth address" },
	{ "/antenna/bad/rssi-string",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"rssi\":\"-70\"}", 0, -EBADMSG,
	  "rssi is a string (expected a whole number of dBm", true },
	{ "/antenna/bad/rssi-range",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"rssi\":-300}", 0, -EINVAL,
	  "rssi -300 is out of range", true },
	{ "/antenna/bad/servicedata-odd",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"servicedata\":\"0226b\","
	  "\"servicedatauuid\":\"181b\"}",
	  0, -EBADMSG, "servicedata: \"0226b\" is not hex at character 5",
	  true },
	{ "/antenna/bad/servicedatauuid",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"servicedata\":\"02\","
	  "\"servicedatauuid\":\"0x18\"}",
	  0, -EBADMSG, "servicedatauuid \"0x18\" is not a service UUID", true },
	{ "/antenna/bad/manufacturerdata-short",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"manufacturerdata\":\"57\"}", 0,
	  -EBADMSG, "manufacturerdata has 1 bytes (expected the 2-byte", true },
	{ "/antenna/bad/name-number",
	  "{\"id\":\"DF:DE:44:82:14:EF\",\"name\":7}", 0, -EBADMSG,
	  "name is a number (expected a string)", true },
	{ "/antenna/bad/packet-ad-only", "{\"packet\":\"0201060302\"}", 0,
	  -EBADMSG, "packet is no HCI event" },
	{ "/antenna/bad/packet-number", "{\"packet\":43}", 0, -EBADMSG,
	  "packet is a number (expected a hex string)" },
	{ "/antenna/bad/packet-truncated", "043E2B02010000123456789ABC1F1216",
	  0, -EBADMSG, "packet: truncated" },
	{ "/antenna/bad/packet-not-hex", "043E2B0201000012345678ZZ", 0,
	  -EBADMSG, "packet: \"043E2B0201000012345678ZZ\" is not hex" },
	{ "/antenna/bad/shelly-base64",
	  "[2,[[\"a4:c1:38:5e:00:02\",-61,\"AgEG*BbS\",\"\"]]]", 0, -EBADMSG,
	  "advertisement is not base64 at character 4" },
	{ "/antenna/bad/shelly-ad",
	  "[2,[[\"a4:c1:38:5e:00:02\",-61,\"CBbS/EA=\",\"\"]]]", 0, -EBADMSG,
	  "advertisement: truncated" },
	{ "/antenna/bad/shelly-version", "[3,[]]", 0, -ENOTSUP,
	  "scan result version 3 (expected 1 or 2)" },
	{ "/antenna/bad/shelly-shape", "[2,{}]", 0, -EBADMSG,
	  "scan results are an object (expected an array)" },
	{ "/antenna/bad/shelly-result", "[2,[[\"a4:c1:38:5e:00:02\"]]]", 0,
	  -EBADMSG, "a scan result is an array (expected [address, rssi" },
	{ "/antenna/bad/shelly-address", "[2,[[\"shelly\",-61,\"AgEG\",\"\"]]]",
	  0, -EINVAL, "address \"shelly\" is not a Bluetooth address" },
};

static void test_bad(gconstpointer data)
{
	const struct bad_vector *v = data;
	g_autofree struct antenna_message *m = g_new(struct antenna_message, 1);
	g_autofree char *reason = NULL;
	size_t len = v->len ? v->len : strlen(v->payload);
	int rc = antenna_parse(v->payload, len, m, &reason);

	g_assert_cmpint(rc, ==, v->rc);
	/* Whose message it was, when the gateways' JSON said that much. */
	g_assert_cmpint(m->adverts[0].has_address, ==, v->sender);
	g_assert_nonnull(reason);
	g_test_message("%s", reason);
	if (!strstr(reason, v->fragment))
		g_error("reason \"%s\" lacks \"%s\"", reason, v->fragment);
	g_assert_null(strchr(reason, '\n'));
}

/* Over the limit: refused before it is read. */
static void test_too_big(void)
{
	g_autofree struct antenna_message *m = g_new(struct antenna_message, 1);
	g_autofree char *reason = NULL;
	g_autofree char *big = g_strnfill(ANTENNA_MESSAGE_MAX + 1, '0');

	g_assert_cmpint(antenna_parse(big, ANTENNA_MESSAGE_MAX + 1, m, &reason),
			==, -E2BIG);
	g_assert_nonnull(strstr(reason, "expected at most 16384"));
}

/* 26 Shelly results: more than one message holds. */
static void test_too_many(void)
{
	g_autofree struct antenna_message *m = g_new(struct antenna_message, 1);
	g_autofree char *reason = NULL;
	GString *s = g_string_new("[2,[");
	g_autofree char *text = NULL;

	for (int i = 0; i < ANTENNA_ADVERTS_MAX + 1; i++)
		g_string_append_printf(s,
				       "%s[\"a4:c1:38:5e:00:%02x\",-61,"
				       "\"AgEG\",\"\"]",
				       i ? "," : "", i);
	g_string_append(s, "]]");
	text = g_string_free(s, FALSE);
	g_assert_cmpint(antenna_parse(text, strlen(text), m, &reason), ==,
			-E2BIG);
	g_assert_nonnull(strstr(reason, "more than 25 scan results"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(b64_vectors); i++)
		g_test_add_data_func(b64_vectors[i].name, &b64_vectors[i],
				     test_base64);
	g_test_add_func("/base64/too-big", test_base64_too_big);
	for (size_t i = 0; i < G_N_ELEMENTS(ok_vectors); i++)
		g_test_add_data_func(ok_vectors[i].name, &ok_vectors[i],
				     test_ok);
	g_test_add_func("/antenna/shelly/second-result", test_shelly_second);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_vectors); i++)
		g_test_add_data_func(bad_vectors[i].name, &bad_vectors[i],
				     test_bad);
	g_test_add_func("/antenna/bad/too-big", test_too_big);
	g_test_add_func("/antenna/bad/too-many", test_too_many);
	return g_test_run();
}
