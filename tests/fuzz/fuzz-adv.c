// SPDX-License-Identifier: MIT
/*
 * One advertisement from outside, as `recoveryctl decode --adv` and the
 * antennas take it: AD structures or an HCI LE advertising report, parsed
 * into the value (sensors/advert.h) and decoded by the dispatcher
 * (sensors/advert-decode.h), alone and through one merge state kept across
 * the event's reports, then turned into JSON that must read back.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/common/json-text.h"
#include "gateway/core/decode-json.h"
#include "sensors/advert-decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every view points into the input. */
static void check_views(const struct advert *a, const uint8_t *data,
			size_t size)
{
	assert(a->uuid_count <= ADVERT_MAX_UUIDS);
	assert(a->service_data_count <= ADVERT_MAX_SERVICE_DATA);
	assert(a->manufacturer_count <= ADVERT_MAX_MANUFACTURER);
	for (unsigned i = 0; i < a->service_data_count; i++) {
		const struct advert_service_data *sd = &a->service_data[i];

		assert(sd->data == data + sd->offset);
		assert(sd->offset + sd->len <= size);
	}
	for (unsigned i = 0; i < a->manufacturer_count; i++) {
		const struct advert_manufacturer *m = &a->manufacturer[i];

		assert(m->data == data + m->offset);
		assert(m->offset + m->len <= size);
	}
	if (a->name)
		assert((const uint8_t *)a->name >= data &&
		       (const uint8_t *)a->name + a->name_len <= data + size);
}

static void print(const struct advert *a, const struct advert_decoded *d)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();

	json_builder_begin_object(b);
	decode_json_add_advert(b, a, d);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json = json_text_from_node(root);
	/* What we print must be JSON that reads back. */
	assert(json_parser_load_from_data(parser, json, -1, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct advert adverts[ADVERT_MAX_REPORTS];
	static struct advert untouched[ADVERT_MAX_REPORTS];
	static struct advert_decoded decoded;
	struct advert_merge merge;
	struct parse_error err = { 0 };
	size_t count = 0;
	char reason[256];
	int r;

	memset(adverts, 0x5a, sizeof(adverts));
	memcpy(untouched, adverts, sizeof(adverts));
	r = advert_parse(data, size, adverts, ADVERT_MAX_REPORTS, &count, &err);
	if (r < 0) {
		assert(memcmp(adverts, untouched, sizeof(adverts)) == 0);
		assert(err.fault != PARSE_FAULT_NONE);
		assert(parse_error_format(&err, reason, sizeof(reason)) > 0);
		return 0;
	}
	assert(count >= 1 && count <= ADVERT_MAX_REPORTS);

	advert_merge_reset(&merge);
	for (size_t i = 0; i < count; i++) {
		const struct advert *a = &adverts[i];
		enum advert_family family = advert_recognise(a);

		check_views(a, data, size);
		err = (struct parse_error){ 0 };
		r = advert_decode(a, NULL, &decoded, &err);
		if (r == 0) {
			assert(decoded.family == family);
			print(a, &decoded);
		} else if (r == -ENOENT) {
			assert(family == ADVERT_FAMILY_NONE);
		} else {
			assert(family != ADVERT_FAMILY_NONE);
			assert(err.fault != PARSE_FAULT_NONE);
			assert(err.offset <= size);
			assert(parse_error_format(&err, reason,
						  sizeof(reason)) > 0);
		}
		r = advert_decode(a, &merge, &decoded, NULL);
		if (r == 0)
			print(a, &decoded);
	}
	if (advert_merge_flush(&merge, &decoded)) {
		assert(decoded.payload.uuid == DECODE_SCALE_WEIGHING);
		assert(decoded.payload.u.scale.final);
	}
	assert(!advert_merge_pending(&merge));
	return 0;
}
