// SPDX-License-Identifier: MIT
/*
 * recoveryctl: the command-line companion of recoveryd. Each command is a
 * function with its own usage text; exit codes are 0 success, 1 the input or
 * the operation failed, 2 the command line was wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "decode-json.h"
#include "decode.h"
#include "json-text.h"
#include "version.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
};

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
	const char *help;
};

static const struct command *find_command(const char *name);

static int usage_error(const char *command, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static int usage_error(const char *command, const char *fmt, ...)
{
	const struct command *c = find_command(command);
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "recoveryctl %s: %s\n", command, message);
	if (c)
		fprintf(stderr, "usage: recoveryctl %s %s\n%s", c->name,
			c->args, c->help);
	return EXIT_USAGE;
}

/* --- decode --------------------------------------------------------- */

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
	return EXIT_OK;
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
	return EXIT_FAILED;
}

static int cmd_decode(int argc, char **argv)
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
		return usage_error("decode", "needs a UUID and hex bytes");
	switch (decode_uuid_parse(argv[1], &uuid)) {
	case 0:
		break;
	case -ENOENT:
		return usage_error("decode", "no decoder for UUID '%s'",
				   argv[1]);
	default:
		return usage_error("decode", "'%s' is not a UUID", argv[1]);
	}
	g_snprintf(uuid_text, sizeof(uuid_text), "%04x", (unsigned)uuid);

	/* Bytes may be spread over several arguments ("06 48" unquoted). */
	joined = g_strjoinv("", argv + 2);
	packets = g_strsplit(joined, ",", -1);
	count = g_strv_length(packets);
	if (count > 1 && uuid != DECODE_UUID_BODY_COMPOSITION)
		return usage_error("decode",
				   "only 2a9c takes two packets (HEX,HEX)");
	if (count > DECODE_MAX_PACKETS || count == 0)
		return usage_error("decode", "2a9c takes at most two packets");

	for (unsigned i = 0; i < count; i++) {
		size_t bad = 0;

		switch (decode_hex(packets[i], bytes[i], DECODE_MAX_BYTES,
				   &lens[i], &bad)) {
		case 0:
			break;
		case -E2BIG:
			return usage_error("decode",
					   "more than %d bytes of hex",
					   DECODE_MAX_BYTES);
		default:
			return usage_error("decode",
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

/* --- dispatch ------------------------------------------------------- */

static const struct command commands[] = {
	{ "decode", cmd_decode, "UUID HEX[,HEX]",
	  "decode a BLE payload to JSON",
	  "\n"
	  "Decodes one characteristic value or service-data payload and "
	  "prints\n"
	  "it as one JSON object. UUID is one of 2a37 (heart rate), 2a38 "
	  "(body\n"
	  "sensor location), 2a19 (battery), 2a9d (weight), 2a9e (weight "
	  "scale\n"
	  "feature), 2a9c (body composition), 181d (Mi Scale), 181b (Mi Body\n"
	  "Composition Scale 2), fcd2 (BTHome v2); any case, 0x prefix or the\n"
	  "128-bit form allowed. HEX may contain spaces or colons and span\n"
	  "several arguments; the two packets of a multi-packet 2a9c\n"
	  "measurement are separated by a comma.\n"
	  "\n"
	  "Exit status: 0 decoded, 1 malformed payload (the reason, with the\n"
	  "field and byte offset, on stderr), 2 usage error.\n"
	  "\n"
	  "Example: recoveryctl decode 2a37 06 48\n"
	  "         {\"heart_rate\":72,\"contact\":\"detected\"}\n" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (g_str_equal(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(FILE *out)
{
	fprintf(out, "usage: recoveryctl COMMAND [ARGS...]\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-8s %-16s %s\n", commands[i].name,
			commands[i].args, commands[i].summary);
	fprintf(out, "\n'recoveryctl COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h")) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (g_str_equal(argv[1], "--version")) {
		printf("recoveryctl %s\n", RECOVERYD_VERSION);
		return EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "recoveryctl: unknown command '%s'\n", argv[1]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (g_str_equal(argv[i], "--help") ||
		    g_str_equal(argv[i], "-h")) {
			printf("usage: recoveryctl %s %s\n%s", c->name, c->args,
			       c->help);
			return EXIT_OK;
		}
	}
	return c->run(argc - 1, argv + 1);
}
