// SPDX-License-Identifier: MIT
/*
 * BTHome v2 service data parser. Beyond not crashing, checks the contract:
 * output untouched on failure, every fault described, and every object,
 * view and stop position inside the input.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "sensors/bthome.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Large (BTHOME_MAX_OBJECTS objects): keep them off the fuzzer's stack. */
static struct bthome_frame frame, before;

static void check_object(const struct bthome_object *o, const uint8_t *data,
			 size_t size, size_t prev_offset)
{
	const struct bthome_object_type *t = o->type;
	const char *event;
	double value;

	assert(t && bthome_object_type_find(t->id) == t);
	/* after the device information byte and the previous object */
	assert(o->offset >= 1 && o->offset < size);
	assert(prev_offset == 0 || o->offset > prev_offset);
	assert(data[o->offset] == t->id);

	if (o->bytes) {
		assert(o->bytes > data + o->offset);
		assert(o->bytes + o->bytes_len <= data + size);
	} else {
		assert(o->bytes_len == 0);
	}
	if (t->kind == BTHOME_KIND_TEXT || t->kind == BTHOME_KIND_RAW)
		assert(o->bytes && o->raw == o->bytes_len);

	value = bthome_object_value(o);
	assert(!isnan(value) && !isinf(value));
	event = bthome_event_name(o);
	assert((t->kind == BTHOME_KIND_EVENT) == (event != NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_error err = { 0 };
	char msg[256];
	int r;

	memset(&frame, 0xa5, sizeof(frame));
	before = frame;
	r = bthome_parse(data, size, &frame, &err);
	if (r == 0) {
		size_t prev = 0;

		/* ret_err is only written on failure */
		assert(err.fault == PARSE_FAULT_NONE);
		assert(size >= 1 && frame.version == 2 && !frame.encrypted);
		assert(frame.object_count <= BTHOME_MAX_OBJECTS);
		for (unsigned i = 0; i < frame.object_count; i++) {
			check_object(&frame.objects[i], data, size, prev);
			prev = frame.objects[i].offset;
		}
		if (frame.stopped) {
			assert(frame.stop.fault == PARSE_FAULT_RESERVED);
			assert(frame.stop.field && frame.stop.expected);
			assert(frame.stop.offset < size);
			assert(frame.stop.offset > prev);
			assert(data[frame.stop.offset] == frame.stop.value);
			assert(
			    !bthome_object_type_find(data[frame.stop.offset]));
			assert(parse_error_format(&frame.stop, msg,
						  sizeof(msg)) > 0);
		}
	} else {
		assert(memcmp(&frame, &before, sizeof(frame)) == 0);
		assert(err.fault != PARSE_FAULT_NONE && err.field);
		assert(r == parse_fault_errno(err.fault));
		assert(err.offset <= size);
		if (err.fault == PARSE_FAULT_TRUNCATED)
			assert(err.need > err.left &&
			       err.offset + err.left == size);
		assert(parse_error_format(&err, msg, sizeof(msg)) > 0);
	}

	/* Without ret_err, the same answer. */
	assert(bthome_parse(data, size, &frame, NULL) == r);
	return 0;
}
