// SPDX-License-Identifier: MIT
/*
 * recoveryctl decode: one BLE payload to JSON, for a person checking what a
 * device really sends.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/ctl/ctl.h"
#include "gateway/core/decode-json.h"
#include "sensors/decode.h"
#include "gateway/common/json-text.h"

static const char decode_usage[] = "usage: recoveryctl decode UUID HEX[,HEX]\n"
				   "'recoveryctl decode --help' tells more.\n";

#define DECODE_MAX_BYTES   512 /* the largest attribute value */
#define DECODE_MAX_PACKETS 2   /* a multi-packet body composition */

static int decode_print(const struct decoded_payload *p)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(builder);
	decode_json_add_members(builder, p);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	text = json_text_from_node(root);
	printf("%s\n", text);
	return CTL_EXIT_OK;
}

static int decode_fail(const char *uuid_text, unsigned packet, unsigned packets,
		       const struct parse_error *err)
{
	char reason[256];

	parse_error_format(err, reason, sizeof(reason));
	if (packets > 1)
		fprintf(stderr, "%s: packet %u: %s\n", uuid_text, packet,
			reason);
	else
		fprintf(stderr, "%s: %s\n", uuid_text, reason);
	return CTL_EXIT_FAILED;
}

int ctl_decode(int argc, char **argv)
{
	static uint8_t bytes[DECODE_MAX_PACKETS][DECODE_MAX_BYTES];
	size_t lens[DECODE_MAX_PACKETS];
	g_autofree char *joined = NULL;
	g_auto(GStrv) packets = NULL;
	struct decoded_payload payload;
	struct parse_error err = { 0 };
	enum decode_uuid uuid;
	char uuid_text[5];
	unsigned count;

	if (argc < 3)
		return ctl_usage_error("decode", decode_usage,
				       "needs a UUID and hex bytes");
	switch (decode_uuid_parse(argv[1], &uuid)) {
	case 0:
		break;
	case -ENOENT:
		return ctl_usage_error("decode", decode_usage,
				       "no decoder for UUID '%s'", argv[1]);
	default:
		return ctl_usage_error("decode", decode_usage,
				       "'%s' is not a UUID", argv[1]);
	}
	g_snprintf(uuid_text, sizeof(uuid_text), "%04x", (unsigned)uuid);

	/* Bytes may be spread over several arguments ("06 48" unquoted). */
	joined = g_strjoinv("", argv + 2);
	packets = g_strsplit(joined, ",", -1);
	count = g_strv_length(packets);
	if (count > 1 && uuid != DECODE_UUID_BODY_COMPOSITION)
		return ctl_usage_error("decode", decode_usage,
				       "only 2a9c takes two packets (HEX,HEX)");
	if (count > DECODE_MAX_PACKETS || count == 0)
		return ctl_usage_error("decode", decode_usage,
				       "2a9c takes at most two packets");

	for (unsigned i = 0; i < count; i++) {
		size_t bad = 0;

		switch (decode_hex(packets[i], bytes[i], DECODE_MAX_BYTES,
				   &lens[i], &bad)) {
		case 0:
			break;
		case -E2BIG:
			return ctl_usage_error("decode", decode_usage,
					       "more than %d bytes of hex",
					       DECODE_MAX_BYTES);
		default:
			return ctl_usage_error("decode", decode_usage,
					       "'%s' is not hex bytes (at "
					       "character %zu)",
					       packets[i], bad + 1);
		}
	}

	if (uuid == DECODE_UUID_BODY_COMPOSITION) {
		struct bcs_assembler assembler;
		struct bcs_measurement part;

		bcs_assembler_reset(&assembler);
		for (unsigned i = 0; i < count; i++) {
			int r = bcs_parse_measurement(bytes[i], lens[i], &part,
						      &err);

			if (r < 0)
				return decode_fail(uuid_text, i + 1, count,
						   &err);
			r = bcs_assembler_push(&assembler, &part,
					       &payload.u.body_composition);
			if (r == -EAGAIN && i + 1 == count)
				/* A lone half: show it, marked as such. */
				payload.u.body_composition = part;
		}
		payload.uuid = uuid;
		return decode_print(&payload);
	}

	if (decode_payload(uuid, bytes[0], lens[0], &payload, &err) < 0)
		return decode_fail(uuid_text, 1, 1, &err);
	return decode_print(&payload);
}
