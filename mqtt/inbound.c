// SPDX-License-Identifier: MIT
#include "mqtt/inbound.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gateway/common/quote.h"

#define CHECKIN_MIN 1
#define CHECKIN_MAX 5
#define EXPECTED    "(expected a whole number 1-5)"

/* How much of json-glib's parse error a reason quotes, in characters. */
#define REASON_QUOTE_MAX 80

/* The birth payload with room for whitespace; anything longer is not it. */
#define HA_STATUS_MAX 64

G_GNUC_PRINTF(3, 4)
static int fail(char **ret_reason, int error, const char *format, ...)
{
	va_list ap;

	if (ret_reason) {
		va_start(ap, format);
		*ret_reason = g_strdup_vprintf(format, ap);
		va_end(ap);
	}
	return error;
}

static const char *type_name(JsonNode *node)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT:
		return "an object";
	case JSON_NODE_ARRAY:
		return "an array";
	case JSON_NODE_NULL:
		return "null";
	case JSON_NODE_VALUE:
		break;
	default:
		return "not a value";
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return "a string";
	case G_TYPE_BOOLEAN:
		return "a boolean";
	case G_TYPE_INT64:
	case G_TYPE_DOUBLE:
		return "a number";
	default:
		return "not a value";
	}
}

/* json-glib's parse error quotes the offending token, which can span lines
 * and most of the payload: the reason is logged as one short line. */
static char *one_line(const char *message)
{
	const char *start =
	    g_str_has_prefix(message, "<data>:") ? message + 7 : message;
	g_autofree char *valid = NULL;
	GString *out;

	/* It may quote a single byte of a UTF-8 sequence. */
	valid = g_utf8_make_valid(start, -1);
	out = g_string_new(NULL);
	for (const char *p = valid; *p; p++) {
		guchar c = (guchar)*p;

		g_string_append_c(out, c < 0x20 || c == 0x7f ? ' ' : *p);
	}
	if (g_utf8_strlen(out->str, -1) > REASON_QUOTE_MAX) {
		const char *end =
		    g_utf8_offset_to_pointer(out->str, REASON_QUOTE_MAX);

		g_string_truncate(out, (gsize)(end - out->str));
		g_string_append(out, "\u2026");
	}
	return g_string_free(out, FALSE);
}

/* The shortest text that reads back as @value ("2.5", not g_ascii_dtostr's
 * "2.5000000000000000"-style 17 digits): reasons quote what was sent. */
static void format_shortest(char *buf, size_t size, double value)
{
	char format[8];

	for (int precision = 1; precision <= 17; precision++) {
		g_snprintf(format, sizeof(format), "%%.%dg", precision);
		g_ascii_formatd(buf, (gint)size, format, value);
		if (g_ascii_strtod(buf, NULL) == value)
			return;
	}
}

static const char *const checkin_keys[] = { "mood", "soreness", "energy" };
#define CHECKIN_KEYS G_N_ELEMENTS(checkin_keys)

/*
 * What json-glib 1.6 does not tell, from a scan of the raw payload (which
 * it has found to start with a valid JSON object): where that object ends
 * (it takes "{...} {...}" as one message, the first), and each known key's
 * number as it was sent (it wraps an integer beyond 64 bits:
 * 18446744073709551617 reads as 1, -99999999999999999999 as 1).
 */
struct raw_scan {
	size_t end;			  /* just past the object */
	const char *number[CHECKIN_KEYS]; /* the last value's text, if a
					     number; NULL otherwise */
	size_t number_len[CHECKIN_KEYS];
};

static size_t skip_space(const char *p, size_t i, size_t len)
{
	/* JSON's whitespace (RFC 8259 §2), nothing else. */
	while (i < len &&
	       (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

/* Which known key the string token @token (quotes included) names, or -1;
 * an escaped name ("m\u006fod") is decoded as json-glib decodes it. */
static int known_key(const char *token, size_t len)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *copy = NULL;
	const char *name;
	size_t name_len;

	if (memchr(token, '\\', len)) {
		copy = g_strndup(token, len);
		node = json_from_string(copy, NULL);
		if (!node || !JSON_NODE_HOLDS_VALUE(node) ||
		    json_node_get_value_type(node) != G_TYPE_STRING)
			return -1;
		name = json_node_get_string(node);
		name_len = strlen(name);
	} else {
		name = token + 1;
		name_len = len - 2;
	}
	for (size_t k = 0; k < CHECKIN_KEYS; k++)
		if (strlen(checkin_keys[k]) == name_len &&
		    memcmp(checkin_keys[k], name, name_len) == 0)
			return (int)k;
	return -1;
}

/* Scans the object that starts @p (after whitespace); bounded by @len. */
static void scan_raw(const char *p, size_t len, struct raw_scan *ret)
{
	size_t i = skip_space(p, 0, len);
	unsigned depth = 0;
	bool expect_key = false;
	int pending = -1; /* the known key whose value comes next */

	*ret = (struct raw_scan){ .end = len };
	while (i < len) {
		char c = p[i];

		if (c == '"') {
			size_t start = i++;

			while (i < len && p[i] != '"')
				i += p[i] == '\\' ? 2 : 1;
			i = MIN(i + 1, len);
			if (depth == 1 && expect_key) {
				pending = known_key(p + start, i - start);
				expect_key = false;
			}
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
			expect_key = depth == 1;
		} else if (c == '}' || c == ']') {
			/* A close with nothing open ends the scan there:
			 * json-glib refuses what is left. */
			if (depth == 0) {
				ret->end = i;
				return;
			}
			if (--depth == 0) {
				ret->end = i + 1;
				return;
			}
		} else if (c == ',' && depth == 1) {
			expect_key = true;
			pending = -1;
		} else if (c == ':' && depth == 1 && pending >= 0) {
			size_t start = skip_space(p, i + 1, len), end = start;

			while (end < len && strchr("+-.eE0123456789", p[end]) &&
			       p[end] != '\0')
				end++;
			ret->number[pending] = end > start ? p + start : NULL;
			ret->number_len[pending] = end - start;
			pending = -1;
			i = end > start ? end : i + 1;
			continue;
		}
		i++;
	}
}

/* A number as it was sent, for a reason: cut when long. */
static char *number_text(const char *text, size_t len)
{
	if (len <= QUOTE_SHOWN)
		return g_strndup(text, len);
	return quote_text(text, (gssize)len, QUOTE_PLAIN);
}

/*
 * One known key: a whole number 1-5, as an integer or an integral double.
 * @raw (@raw_len bytes) is the number as sent, NULL when it was none.
 */
static int parse_level(const char *key, JsonNode *node, const char *raw,
		       size_t raw_len, double *ret, char **ret_reason)
{
	char text[G_ASCII_DTOSTR_BUF_SIZE];
	GType type;
	double value;

	if (!JSON_NODE_HOLDS_VALUE(node))
		return fail(ret_reason, -EBADMSG, "%s is %s " EXPECTED, key,
			    type_name(node));
	type = json_node_get_value_type(node);
	if (type == G_TYPE_INT64) {
		gint64 level = json_node_get_int(node);

		/* json-glib's integer is only what was sent when the text
		 * fits 64 bits: read the text itself. */
		if (raw) {
			g_autofree char *sent = g_strndup(raw, raw_len);
			char *end = NULL;

			errno = 0;
			level = g_ascii_strtoll(sent, &end, 10);
			if (errno == ERANGE || *end != '\0') {
				g_autofree char *shown =
				    number_text(raw, raw_len);

				return fail(ret_reason, -EINVAL,
					    "%s %s is out of range " EXPECTED,
					    key, shown);
			}
		}
		if (level < CHECKIN_MIN || level > CHECKIN_MAX) {
			g_autofree char *shown =
			    raw ? number_text(raw, raw_len)
				: g_strdup_printf("%" G_GINT64_FORMAT, level);

			return fail(ret_reason, -EINVAL,
				    "%s %s is out of range " EXPECTED, key,
				    shown);
		}
		*ret = (double)level;
		return 0;
	}
	if (type != G_TYPE_DOUBLE)
		return fail(ret_reason, -EBADMSG, "%s is %s " EXPECTED, key,
			    type_name(node));
	value = json_node_get_double(node);
	if (!isfinite(value))
		return fail(ret_reason, -EINVAL,
			    "%s is not a finite number " EXPECTED, key);
	format_shortest(text, sizeof(text), value);
	if (value != floor(value))
		return fail(ret_reason, -EINVAL,
			    "%s %s is not a whole number " EXPECTED, key, text);
	if (value < CHECKIN_MIN || value > CHECKIN_MAX)
		return fail(ret_reason, -EINVAL,
			    "%s %s is out of range " EXPECTED, key, text);
	*ret = value;
	return 0;
}

int mqtt_inbound_parse_checkin(const void *payload, size_t len,
			       struct mqtt_checkin *ret, char **ret_reason)
{
	struct mqtt_checkin checkin = { NAN, NAN, NAN };
	double *fields[] = { &checkin.mood, &checkin.soreness,
			     &checkin.energy };
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *object;
	JsonNode *root;
	struct raw_scan raw;
	size_t rest;
	bool any = false;

	/* Size first: nothing over the limit is even looked at. */
	if (len > MQTT_INBOUND_CHECKIN_MAX)
		return fail(ret_reason, -E2BIG,
			    "payload of %zu bytes is over the %d-byte limit",
			    len, MQTT_INBOUND_CHECKIN_MAX);
	if (len == 0)
		return fail(ret_reason, -EBADMSG, "empty payload");
	/* Also refuses NUL bytes, which would end the text early. */
	if (!g_utf8_validate_len(payload, len, NULL))
		return fail(ret_reason, -EBADMSG, "payload is not UTF-8 text");

	/*
	 * Before json-glib sees it: a second object or array after the first
	 * is what json-glib 1.6 takes as one message (the first; and it leaks
	 * the node). Any other trailing text it refuses itself.
	 */
	scan_raw(payload, len, &raw);
	rest = skip_space(payload, raw.end, len);
	if (rest < len && (((const char *)payload)[rest] == '{' ||
			   ((const char *)payload)[rest] == '[')) {
		g_autofree char *trailing =
		    quote_text((const char *)payload + rest,
			       (gssize)(len - rest), QUOTE_PLAIN);

		return fail(ret_reason, -EBADMSG,
			    "%s after the JSON value (expected one object "
			    "and nothing after it)",
			    trailing);
	}

	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, payload, (gssize)len, &error)) {
		g_autofree char *why = one_line(error->message);

		return fail(ret_reason, -EBADMSG, "not JSON: %s", why);
	}
	root = json_parser_get_root(parser);
	if (!root)
		return fail(ret_reason, -EBADMSG, "not JSON: no value");
	if (!JSON_NODE_HOLDS_OBJECT(root))
		return fail(ret_reason, -EBADMSG,
			    "expected a JSON object, got %s", type_name(root));
	/* Parsed, so the scan's end is the object's: nothing may follow. */
	if (rest < len)
		return fail(ret_reason, -EBADMSG,
			    "not JSON: text after the object");

	object = json_node_get_object(root);
	for (size_t i = 0; i < CHECKIN_KEYS; i++) {
		JsonNode *member =
		    json_object_get_member(object, checkin_keys[i]);
		int r;

		if (!member)
			continue;
		r = parse_level(checkin_keys[i], member, raw.number[i],
				raw.number_len[i], fields[i], ret_reason);
		if (r < 0)
			return r;
		any = true;
	}
	if (!any)
		return fail(ret_reason, -ENODATA,
			    "no mood, soreness or energy in the message");
	*ret = checkin;
	return 0;
}

bool mqtt_inbound_is_ha_online(const void *payload, size_t len)
{
	const char *p = payload;

	if (!payload || len > HA_STATUS_MAX)
		return false;
	while (len > 0 && g_ascii_isspace(p[0])) {
		p++;
		len--;
	}
	while (len > 0 && g_ascii_isspace(p[len - 1]))
		len--;
	return len == 6 && memcmp(p, "online", 6) == 0;
}
