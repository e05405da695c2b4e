// SPDX-License-Identifier: MIT
/*
 * recoveryctl decode: one BLE payload, or one whole advertisement through
 * the dispatcher (--adv), to JSON, for a person checking what a device
 * really sends.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/ctl/ctl.h"
#include "gateway/core/decode-json.h"
#include "sensors/advert-decode.h"
#include "sensors/decode.h"
#include "gateway/common/json-text.h"

static const char decode_usage[] = "usage: recoveryctl decode UUID HEX[,HEX]\n"
				   "       recoveryctl decode --adv HEX\n"
				   "'recoveryctl decode --help' tells more.\n";

#define DECODE_MAX_BYTES   512 /* the largest attribute value */
#define DECODE_MAX_PACKETS 2   /* a multi-packet body composition */
/* An HCI event holds 255 parameter bytes; AD structures of a chained
 * extended advertisement up to 1650. */
#define DECODE_MAX_ADV_BYTES 1650

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

/*
 * Reads @text into @buf (@size bytes at most). Returns CTL_EXIT_OK with
 * @ret_len set, or CTL_EXIT_USAGE after saying what is wrong.
 */
static int read_hex(const char *text, uint8_t *buf, size_t size,
		    size_t *ret_len)
{
	size_t bad = 0;

	switch (decode_hex(text, buf, size, ret_len, &bad)) {
	case 0:
		return CTL_EXIT_OK;
	case -E2BIG:
		return ctl_usage_error("decode", decode_usage,
				       "more than %zu bytes of hex", size);
	default:
		return ctl_usage_error("decode", decode_usage,
				       "'%s' is not hex bytes (at character "
				       "%zu)",
				       text, bad + 1);
	}
}

/* What an advertisement nobody decodes holds, for the one-line reason. */
static char *adv_contents(const struct advert *a)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (unsigned i = 0; i < a->service_data_count; i++)
		g_string_append_printf(s, "%sservice data 0x%04x",
				       s->len ? ", " : "",
				       a->service_data[i].uuid);
	for (unsigned i = 0; i < a->manufacturer_count; i++)
		g_string_append_printf(s, "%smanufacturer data 0x%04x",
				       s->len ? ", " : "",
				       a->manufacturer[i].company_id);
	if (a->name) {
		g_autofree char *name =
		    g_utf8_make_valid(a->name, (gssize)a->name_len);

		g_string_append_printf(s, "%sname \"%s\"", s->len ? ", " : "",
				       name);
	}
	if (!s->len)
		g_string_append(s, "no service data, manufacturer data or "
				   "name");
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* "adv: " or "adv: report 2: " before a reason, for events of several. */
static void adv_fail_prefix(size_t report, size_t reports)
{
	if (reports > 1)
		fprintf(stderr, "adv: report %zu: ", report + 1);
	else
		fprintf(stderr, "adv: ");
}

/*
 * --adv: a whole advertisement, AD structures or an HCI LE advertising
 * report, through the dispatcher: one JSON line per report, all or
 * nothing on stdout.
 */
static int decode_adv(int argc, char **argv)
{
	static uint8_t bytes[DECODE_MAX_ADV_BYTES];
	static struct advert adverts[ADVERT_MAX_REPORTS];
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autofree struct advert_decoded *d = g_new(struct advert_decoded, 1);
	g_autofree char *joined = NULL;
	struct parse_error err = { 0 };
	size_t len = 0, count = 0;
	char reason[256];

	if (argc < 3)
		return ctl_usage_error("decode", decode_usage,
				       "--adv needs hex bytes");
	joined = g_strjoinv("", argv + 2);
	if (read_hex(joined, bytes, sizeof(bytes), &len) != CTL_EXIT_OK)
		return CTL_EXIT_USAGE;
	if (advert_parse(bytes, len, adverts, G_N_ELEMENTS(adverts), &count,
			 &err) < 0) {
		parse_error_format(&err, reason, sizeof(reason));
		fprintf(stderr, "adv: %s\n", reason);
		return CTL_EXIT_FAILED;
	}
	for (size_t i = 0; i < count; i++) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;
		int r;

		err = (struct parse_error){ 0 };
		r = advert_decode(&adverts[i], NULL, d, &err);
		if (r == -ENOENT) {
			g_autofree char *what = adv_contents(&adverts[i]);

			adv_fail_prefix(i, count);
			fprintf(stderr,
				"no decoder for this advertisement (%s)\n",
				what);
			return CTL_EXIT_FAILED;
		}
		if (r < 0) {
			parse_error_format(&err, reason, sizeof(reason));
			adv_fail_prefix(i, count);
			fprintf(
			    stderr, "%s: %s\n",
			    advert_family_name(advert_recognise(&adverts[i])),
			    reason);
			return CTL_EXIT_FAILED;
		}
		json_builder_begin_object(b);
		decode_json_add_advert(b, &adverts[i], d);
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		g_ptr_array_add(lines, json_text_from_node(root));
	}
	for (guint i = 0; i < lines->len; i++)
		printf("%s\n", (const char *)lines->pdata[i]);
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

	if (argc >= 2 && g_str_equal(argv[1], "--adv"))
		return decode_adv(argc, argv);
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

	for (unsigned i = 0; i < count; i++)
		if (read_hex(packets[i], bytes[i], DECODE_MAX_BYTES,
			     &lens[i]) != CTL_EXIT_OK)
			return CTL_EXIT_USAGE;

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
