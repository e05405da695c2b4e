// SPDX-License-Identifier: MIT
#include "gateway/core/antenna.h"

#include <errno.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gateway/common/quote.h"
#include "sensors/base64.h"
#include "sensors/decode.h"

/* The 96 bits that make a 16-bit UUID a full one (Core Spec Vol 3 Part B
 * 2.5.1): Theengs and OpenMQTTGateway may give either form. */
static const char base_uuid_tail[] = "-0000-1000-8000-00805f9b34fb";

#define SHELLY_SCAN_EVENT "ble.scan_result"

const char *antenna_format_name(enum antenna_format format)
{
	switch (format) {
	case ANTENNA_FORMAT_GATEWAY_JSON:
		return "openmqttgateway/theengs";
	case ANTENNA_FORMAT_HCI:
		return "hci";
	case ANTENNA_FORMAT_SHELLY:
		return "shelly";
	default:
		return "unknown";
	}
}

G_GNUC_PRINTF(3, 4)
static int fail(char **ret_reason, int rc, const char *fmt, ...)
{
	va_list ap;

	if (ret_reason) {
		va_start(ap, fmt);
		g_free(*ret_reason);
		*ret_reason = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	return rc;
}

static const char *node_type(JsonNode *node)
{
	if (JSON_NODE_HOLDS_NULL(node))
		return "null";
	if (JSON_NODE_HOLDS_OBJECT(node))
		return "an object";
	if (JSON_NODE_HOLDS_ARRAY(node))
		return "an array";
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return "a string";
	case G_TYPE_BOOLEAN:
		return "a boolean";
	default:
		return "a number";
	}
}

static bool is_string(JsonNode *node)
{
	return node && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_STRING;
}

static bool is_int(JsonNode *node)
{
	return node && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_INT64;
}

/* @n bytes of @m's pool, or NULL when it is spent. */
static uint8_t *pool_take(struct antenna_message *m, size_t n)
{
	uint8_t *p;

	if (n > sizeof(m->bytes) - m->used)
		return NULL;
	p = m->bytes + m->used;
	m->used += n;
	return p;
}

/* The hex text @text of field @field into @m's pool. */
static int read_hex(struct antenna_message *m, const char *field,
		    const char *text, const uint8_t **ret, size_t *ret_len,
		    char **ret_reason)
{
	size_t room = sizeof(m->bytes) - m->used;
	size_t n = 0, bad = 0;
	int rc = decode_hex(text, m->bytes + m->used, room, &n, &bad);

	if (rc == -E2BIG)
		return fail(ret_reason, -E2BIG, "%s: over %zu bytes", field,
			    room);
	if (rc < 0) {
		g_autofree char *q = quote_text(text, -1, QUOTE_ESCAPED);

		return fail(ret_reason, -EBADMSG,
			    "%s: %s is not hex at character %zu (expected "
			    "pairs of hex digits, e.g. \"0a1b\")",
			    field, q, bad);
	}
	*ret = m->bytes + m->used;
	*ret_len = n;
	m->used += n;
	return 0;
}

static int set_address(struct advert *a, const char *field, JsonNode *node,
		       char **ret_reason)
{
	g_autofree char *q = NULL;

	if (!node)
		return fail(ret_reason, -EBADMSG,
			    "no %s (expected the sender's address, e.g. "
			    "\"C4:7C:8D:6A:12:34\")",
			    field);
	if (is_string(node) &&
	    advert_set_address(a, json_node_get_string(node)) == 0)
		return 0;
	q = is_string(node)
		? quote_text(json_node_get_string(node), -1, QUOTE_ESCAPED)
		: g_strdup(node_type(node));
	return fail(ret_reason, -EINVAL,
		    "%s %s is not a Bluetooth address (expected six hex "
		    "pairs, e.g. \"C4:7C:8D:6A:12:34\")",
		    field, q);
}

/* An RSSI in dBm: a whole number a radio reports (HCI: -127..20). */
static int set_rssi(struct advert *a, JsonNode *node, char **ret_reason)
{
	gint64 v;

	if (!node || JSON_NODE_HOLDS_NULL(node))
		return 0;
	if (!is_int(node))
		return fail(ret_reason, -EBADMSG,
			    "rssi is %s (expected a whole number of dBm, "
			    "e.g. -70)",
			    node_type(node));
	v = json_node_get_int(node);
	if (v == ADVERT_RSSI_UNKNOWN)
		return 0;
	if (v < -127 || v > 20)
		return fail(ret_reason, -EINVAL,
			    "rssi %" G_GINT64_FORMAT " is out of range "
			    "(expected -127..20 dBm)",
			    v);
	a->has_rssi = true;
	a->rssi_dbm = (int8_t)v;
	return 0;
}

/*
 * A 16-bit service UUID as OpenMQTTGateway ("0x181d"), Theengs ("181d") or
 * in full ("0000181d-0000-1000-8000-00805f9b34fb") writes it: 1 with
 * @ret set, 0 for a UUID that is no 16-bit one (not ours: skipped), or
 * -EBADMSG for text that is no UUID.
 */
static int uuid16(const char *text, uint16_t *ret)
{
	size_t len = strlen(text);
	uint16_t v = 0;

	if (len == 36) {
		if (text[8] != '-' ||
		    g_ascii_strcasecmp(text + 8, base_uuid_tail) != 0 ||
		    strncmp(text, "0000", 4) != 0)
			return 0;
		text += 4;
		len = 4;
	} else if (len == 6 && text[0] == '0' &&
		   (text[1] == 'x' || text[1] == 'X')) {
		text += 2;
		len = 4;
	}
	if (len != 4)
		return -EBADMSG;
	for (size_t i = 0; i < 4; i++) {
		if (!g_ascii_isxdigit(text[i]))
			return -EBADMSG;
		v = (uint16_t)(v << 4 | g_ascii_xdigit_value(text[i]));
	}
	*ret = v;
	return 1;
}

static int string_member(JsonObject *o, const char *key, const char **ret,
			 char **ret_reason)
{
	JsonNode *node = json_object_get_member(o, key);

	*ret = NULL;
	if (!node || JSON_NODE_HOLDS_NULL(node))
		return 0;
	if (!is_string(node))
		return fail(ret_reason, -EBADMSG,
			    "%s is %s (expected a string)", key,
			    node_type(node));
	*ret = json_node_get_string(node);
	return 0;
}

/* OpenMQTTGateway's and Theengs Gateway's object (reference/antennas.md
 * §1.1, §1.2). */
static int gateway_json(JsonObject *o, struct antenna_message *m,
			char **ret_reason)
{
	struct advert *a = &m->adverts[0];
	const char *name, *mfr, *sd, *sd_uuid;
	const uint8_t *bytes;
	size_t len;
	int rc;

	m->format = ANTENNA_FORMAT_GATEWAY_JSON;
	advert_init(a);
	if ((rc = set_address(a, "id", json_object_get_member(o, "id"),
			      ret_reason)) < 0 ||
	    (rc = set_rssi(a, json_object_get_member(o, "rssi"), ret_reason)) <
		0 ||
	    (rc = string_member(o, "name", &name, ret_reason)) < 0 ||
	    (rc = string_member(o, "manufacturerdata", &mfr, ret_reason)) < 0 ||
	    (rc = string_member(o, "servicedata", &sd, ret_reason)) < 0 ||
	    (rc = string_member(o, "servicedatauuid", &sd_uuid, ret_reason)) <
		0)
		return rc;
	if (name) {
		uint8_t *copy = pool_take(m, strlen(name));

		if (!copy)
			return fail(ret_reason, -E2BIG, "name: too long");
		memcpy(copy, name, strlen(name));
		advert_set_name(a, (const char *)copy, strlen(name));
	}
	if (mfr) {
		rc = read_hex(m, "manufacturerdata", mfr, &bytes, &len,
			      ret_reason);
		if (rc < 0)
			return rc;
		/* The company id first, little-endian as on air (Core Spec
		 * Supplement Part A 1.4). */
		if (len < 2)
			return fail(ret_reason, -EBADMSG,
				    "manufacturerdata has %zu bytes (expected "
				    "the 2-byte company id and its data)",
				    len);
		advert_add_manufacturer(a, (uint16_t)(bytes[0] | bytes[1] << 8),
					bytes + 2, len - 2);
	}
	if (sd) {
		uint16_t uuid = 0;

		if (!sd_uuid)
			return fail(ret_reason, -EBADMSG,
				    "servicedata without servicedatauuid "
				    "(expected both: turn OpenMQTTGateway's "
				    "pubadvdata or Theengs' publish_advdata "
				    "on)");
		rc = uuid16(sd_uuid, &uuid);
		if (rc < 0) {
			g_autofree char *q =
			    quote_text(sd_uuid, -1, QUOTE_ESCAPED);

			return fail(ret_reason, -EBADMSG,
				    "servicedatauuid %s is not a service UUID "
				    "(expected e.g. \"0x181d\" or \"181d\")",
				    q);
		}
		rc = read_hex(m, "servicedata", sd, &bytes, &len, ret_reason);
		if (rc < 0)
			return rc;
		/* A 128-bit vendor UUID: none of our families uses one. */
		if (uuid16(sd_uuid, &uuid) == 1)
			advert_add_service_data(a, uuid, bytes, len);
	}
	m->count = 1;
	return 0;
}

/* The ESPHome BLE gateway's packet: an HCI LE Advertising Report event
 * (reference/antennas.md §1.3). */
static int hci_text(const char *text, struct antenna_message *m,
		    char **ret_reason)
{
	struct parse_error err = { 0 };
	const uint8_t *bytes;
	size_t len, count = 0;
	int rc;

	m->format = ANTENNA_FORMAT_HCI;
	rc = read_hex(m, "packet", text, &bytes, &len, ret_reason);
	if (rc < 0)
		return rc;
	if (!advert_is_hci(bytes, len))
		return fail(ret_reason, -EBADMSG,
			    "packet is no HCI event (expected an LE "
			    "Advertising Report, \"043E...\")");
	rc = advert_parse_hci(bytes, len, m->adverts, G_N_ELEMENTS(m->adverts),
			      &count, &err);
	if (rc < 0) {
		char why[160];

		parse_error_format(&err, why, sizeof(why));
		return fail(ret_reason, rc, "packet: %s", why);
	}
	m->count = count;
	return 0;
}

static int base64_into(struct antenna_message *m, const char *field,
		       const char *text, size_t *ret_len, char **ret_reason)
{
	size_t room = sizeof(m->bytes) - m->used, n = 0, bad = 0;
	int rc = base64_decode(text, strlen(text), m->bytes + m->used, room, &n,
			       &bad);

	if (rc == -E2BIG)
		return fail(ret_reason, -E2BIG, "%s: over %zu bytes", field,
			    room);
	if (rc < 0)
		return fail(ret_reason, -EBADMSG,
			    "%s is not base64 at character %zu", field, bad);
	m->used += n;
	*ret_len = n;
	return 0;
}

/* One [addr, rssi, base64 advertisement, base64 scan response]. */
static int shelly_result(JsonNode *node, struct antenna_message *m,
			 char **ret_reason)
{
	struct parse_error err = { 0 };
	JsonArray *r;
	struct advert *a;
	const uint8_t *start;
	size_t adv_len = 0, rsp_len = 0;
	JsonNode *adv, *rsp;
	int rc;

	if (!JSON_NODE_HOLDS_ARRAY(node) ||
	    json_array_get_length(r = json_node_get_array(node)) < 3)
		return fail(ret_reason, -EBADMSG,
			    "a scan result is %s (expected [address, rssi, "
			    "advertisement, scan response])",
			    node_type(node));
	if (m->count == G_N_ELEMENTS(m->adverts))
		return fail(ret_reason, -E2BIG,
			    "more than %zu scan results in one message",
			    G_N_ELEMENTS(m->adverts));
	a = &m->adverts[m->count];
	adv = json_array_get_element(r, 2);
	rsp =
	    json_array_get_length(r) > 3 ? json_array_get_element(r, 3) : NULL;
	if (!is_string(adv) ||
	    (rsp && !JSON_NODE_HOLDS_NULL(rsp) && !is_string(rsp)))
		return fail(ret_reason, -EBADMSG,
			    "a scan result's advertisement or scan response "
			    "is not a string (expected base64)");
	start = m->bytes + m->used;
	rc = base64_into(m, "advertisement", json_node_get_string(adv),
			 &adv_len, ret_reason);
	if (rc == 0 && is_string(rsp))
		rc = base64_into(m, "scan response", json_node_get_string(rsp),
				 &rsp_len, ret_reason);
	if (rc < 0)
		return rc;
	/* The scan response's AD structures follow the advertisement's, as
	 * the HCI report of an active scan gives them. */
	rc = advert_parse_ad(start, adv_len + rsp_len, a, &err);
	if (rc < 0) {
		char why[160];

		parse_error_format(&err, why, sizeof(why));
		return fail(ret_reason, rc, "advertisement: %s", why);
	}
	if ((rc = set_address(a, "address", json_array_get_element(r, 0),
			      ret_reason)) < 0 ||
	    (rc = set_rssi(a, json_array_get_element(r, 1), ret_reason)) < 0)
		return rc;
	m->count++;
	return 0;
}

/* A ble.scan_result event's data: [2, [result, ...]] or [1, result]. */
static int shelly_data(JsonNode *node, struct antenna_message *m,
		       char **ret_reason)
{
	JsonArray *data;
	JsonNode *results;
	gint64 version;

	m->format = ANTENNA_FORMAT_SHELLY;
	if (!JSON_NODE_HOLDS_ARRAY(node) ||
	    json_array_get_length(data = json_node_get_array(node)) != 2 ||
	    !is_int(json_array_get_element(data, 0)))
		return fail(ret_reason, -EBADMSG,
			    "scan result data is not [version, results] "
			    "(expected e.g. [2, [[address, rssi, adv, "
			    "rsp]]])");
	version = json_array_get_int_element(data, 0);
	results = json_array_get_element(data, 1);
	if (version == 1)
		return shelly_result(results, m, ret_reason);
	if (version != 2)
		return fail(ret_reason, -ENOTSUP,
			    "scan result version %" G_GINT64_FORMAT
			    " (expected 1 or 2)",
			    version);
	if (!JSON_NODE_HOLDS_ARRAY(results))
		return fail(ret_reason, -EBADMSG,
			    "scan results are %s (expected an array)",
			    node_type(results));
	for (guint i = 0;
	     i < json_array_get_length(json_node_get_array(results)); i++) {
		int rc = shelly_result(
		    json_array_get_element(json_node_get_array(results), i), m,
		    ret_reason);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One Shelly event object: a scan result's data, other events skipped. */
static int shelly_event(JsonNode *node, struct antenna_message *m,
			char **ret_reason)
{
	JsonObject *o;
	const char *event;

	m->format = ANTENNA_FORMAT_SHELLY;
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return fail(ret_reason, -EBADMSG,
			    "an event is %s (expected an object)",
			    node_type(node));
	o = json_node_get_object(node);
	if (!is_string(json_object_get_member(o, "event")))
		return fail(ret_reason, -EBADMSG,
			    "an event without \"event\" (expected e.g. "
			    "\"" SHELLY_SCAN_EVENT "\")");
	event = json_object_get_string_member(o, "event");
	if (strcmp(event, SHELLY_SCAN_EVENT) != 0)
		return 0;
	if (!json_object_has_member(o, "data"))
		return fail(ret_reason, -EBADMSG,
			    SHELLY_SCAN_EVENT " event without \"data\"");
	return shelly_data(json_object_get_member(o, "data"), m, ret_reason);
}

/* A JSON-RPC NotifyEvent frame: {"params": {"events": [...]}}. */
static int shelly_notify(JsonNode *params, struct antenna_message *m,
			 char **ret_reason)
{
	JsonNode *events = NULL;
	JsonArray *list;

	m->format = ANTENNA_FORMAT_SHELLY;
	if (JSON_NODE_HOLDS_OBJECT(params))
		events = json_object_get_member(json_node_get_object(params),
						"events");
	/* Other notifications (NotifyStatus) have no events: nothing. */
	if (!events)
		return 0;
	if (!JSON_NODE_HOLDS_ARRAY(events))
		return fail(ret_reason, -EBADMSG,
			    "params.events is %s (expected an array)",
			    node_type(events));
	list = json_node_get_array(events);
	for (guint i = 0; i < json_array_get_length(list); i++) {
		int rc = shelly_event(json_array_get_element(list, i), m,
				      ret_reason);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Where the JSON value that starts at @p[0] ('{' or '[') ends, by its
 * brackets outside strings; @len when it does not. json-glib 1.6 reads
 * "{}{}" as the first object (and leaks): a second value is refused here.
 */
static size_t value_end(const char *p, size_t len)
{
	size_t depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && depth && --depth == 0)
			return i + 1;
	}
	return len;
}

static int json_message(const char *text, size_t len, struct antenna_message *m,
			char **ret_reason)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) error = NULL;
	size_t end = value_end(text, len);
	JsonNode *root;
	JsonObject *o;

	for (size_t i = end; i < len; i++)
		if (!g_ascii_isspace(text[i]))
			return fail(ret_reason, -EBADMSG,
				    "text after the JSON value at character "
				    "%zu (expected one value)",
				    i);
	if (!json_parser_load_from_data(parser, text, (gssize)len, &error)) {
		g_autofree char *q =
		    quote_text(error->message, -1, QUOTE_PLAIN);

		return fail(ret_reason, -EBADMSG, "not JSON: %s", q);
	}
	root = json_parser_get_root(parser);
	if (root && JSON_NODE_HOLDS_ARRAY(root))
		return shelly_data(root, m, ret_reason);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return fail(ret_reason, -EBADMSG, "not a JSON object or array");
	o = json_node_get_object(root);
	if (json_object_has_member(o, "id"))
		return gateway_json(o, m, ret_reason);
	if (json_object_has_member(o, "packet")) {
		if (!is_string(json_object_get_member(o, "packet")))
			return fail(
			    ret_reason, -EBADMSG,
			    "packet is %s (expected a hex string)",
			    node_type(json_object_get_member(o, "packet")));
		return hci_text(json_object_get_string_member(o, "packet"), m,
				ret_reason);
	}
	if (json_object_has_member(o, "params"))
		return shelly_notify(json_object_get_member(o, "params"), m,
				     ret_reason);
	if (json_object_has_member(o, "event"))
		return shelly_event(root, m, ret_reason);
	return fail(ret_reason, -ENOTSUP,
		    "a JSON object without \"id\", \"packet\" or a Shelly "
		    "event (expected an OpenMQTTGateway, Theengs, ESPHome or "
		    "Shelly message)");
}

static int parse(const void *payload, size_t len, struct antenna_message *ret,
		 char **ret_reason)
{
	const char *text = payload;
	g_autofree char *copy = NULL;
	size_t start = 0;

	ret->used = 0;
	ret->format = ANTENNA_FORMAT_GATEWAY_JSON;
	/* Size first: nothing over the limit is even looked at. */
	if (len > ANTENNA_MESSAGE_MAX)
		return fail(ret_reason, -E2BIG,
			    "%zu bytes (expected at most %d)", len,
			    ANTENNA_MESSAGE_MAX);
	/* Also refuses NUL bytes, which would end the text early. */
	if (len && !g_utf8_validate_len(text, len, NULL))
		return fail(ret_reason, -EBADMSG, "not UTF-8 text");
	while (start < len && g_ascii_isspace(text[start]))
		start++;
	if (start == len)
		return fail(ret_reason, -ENOMSG, "empty");
	if (text[start] == '{' || text[start] == '[')
		return json_message(text + start, len - start, ret, ret_reason);
	/* Bare hex: the ESPHome gateway's packet published as it is. */
	copy = g_strstrip(g_strndup(text + start, len - start));
	ret->format = ANTENNA_FORMAT_HCI;
	return hci_text(copy, ret, ret_reason);
}

int antenna_parse(const void *payload, size_t len, struct antenna_message *ret,
		  char **ret_reason)
{
	int rc;

	ret->count = 0;
	advert_init(&ret->adverts[0]);
	rc = parse(payload, len, ret, ret_reason);
	/* Only the gateways' JSON names its sender before anything else: a
	 * Shelly message's first result may not be the one that failed. */
	if (rc < 0 && ret->format != ANTENNA_FORMAT_GATEWAY_JSON)
		ret->adverts[0].has_address = false;
	return rc;
}
