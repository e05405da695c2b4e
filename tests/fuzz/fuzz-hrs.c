// SPDX-License-Identifier: MIT
/*
 * Heart Rate Measurement, Body Sensor Location and Battery Level parsers.
 * Beyond not crashing, checks the contract: output untouched on failure,
 * every fault described, and what was parsed consistent with the input.
 */
#include <assert.h>
#include <string.h>

#include "sensors/bas.h"
#include "sensors/hrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hrs_measurement m, before;
	struct parse_error err = { 0 };
	uint8_t u8 = 0x5a;
	int r;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	r = hrs_parse_measurement(data, size, &m, &err);
	if (r == 0) {
		/* Each RR takes 2 bytes after flags and heart rate. */
		assert((size_t)m.rr_count * 2 + 2 <= size);
		assert(m.rr_count <= HRS_MAX_RR);
	} else {
		assert(memcmp(&m, &before, sizeof(m)) == 0);
		assert(err.fault != PARSE_FAULT_NONE && err.field);
		assert(err.offset <= size);
		char msg[256];
		assert(parse_error_format(&err, msg, sizeof(msg)) > 0);
	}

	r = hrs_parse_location(data, size, &u8, NULL);
	assert(r == 0 ? size >= 1 && u8 == data[0] : u8 == 0x5a);
	assert(hrs_location_name(u8) != NULL);

	u8 = 0x5a;
	r = bas_parse_level(data, size, &u8, NULL);
	assert(r == 0 ? u8 <= 100 : u8 == 0x5a);
	return 0;
}
