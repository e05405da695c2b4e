// SPDX-License-Identifier: MIT
/*
 * The whole `recoveryctl decode` path: the first two input bytes pick the
 * UUID (little-endian, folded onto the ones we decode), the rest is the
 * payload; a decoded value is turned into JSON text. Also feeds the input,
 * as text, to the hex reader and the JSON number rewriter.
 */
#include <assert.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/core/decode-json.h"
#include "sensors/decode.h"
#include "gateway/common/json-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum decode_uuid uuids[] = {
	DECODE_UUID_HEART_RATE,	    DECODE_UUID_SENSOR_LOCATION,
	DECODE_UUID_BATTERY_LEVEL,  DECODE_UUID_WEIGHT,
	DECODE_UUID_WEIGHT_FEATURE, DECODE_UUID_BODY_COMPOSITION,
	DECODE_UUID_MISCALE_V1,	    DECODE_UUID_MISCALE_V2,
	DECODE_UUID_BTHOME,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decoded_payload payload;
	struct parse_error err = { 0 };
	g_autofree char *text = g_strndup((const char *)data, size);
	g_autofree char *rewritten = NULL;
	uint8_t hex[64];
	size_t hex_len;
	enum decode_uuid uuid;

	(void)decode_hex(text, hex, sizeof(hex), &hex_len, NULL);
	rewritten = json_text_shorten_numbers(text);
	assert(rewritten);
	(void)decode_uuid_parse(text, &uuid);

	if (size < 1)
		return 0;
	uuid = uuids[data[0] % G_N_ELEMENTS(uuids)];
	if (decode_payload(uuid, data + 1, size - 1, &payload, &err) == 0) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;
		g_autofree char *json = NULL;
		g_autoptr(JsonParser) parser = json_parser_new();

		json_builder_begin_object(b);
		decode_json_add_members(b, &payload);
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		json = json_text_from_node(root);
		/* What we print must be JSON that reads back. */
		assert(json_parser_load_from_data(parser, json, -1, NULL));
	} else {
		char reason[256];

		assert(parse_error_format(&err, reason, sizeof(reason)) > 0);
	}
	return 0;
}
