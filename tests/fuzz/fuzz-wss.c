// SPDX-License-Identifier: MIT
/*
 * Weight Measurement and Weight Scale Feature parsers. Beyond not crashing,
 * checks the contract: output untouched on failure, every fault described,
 * and what was parsed consistent with the input.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "sensors/wss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct parse_error *err, size_t size)
{
	char msg[256];

	assert(err->fault != PARSE_FAULT_NONE && err->field);
	assert(err->offset <= size);
	if (err->fault == PARSE_FAULT_TRUNCATED)
		assert(err->left < err->need &&
		       err->offset + err->left == size);
	assert(parse_error_format(err, msg, sizeof(msg)) > 0);
}

static void check_measurement(const uint8_t *data, size_t size)
{
	struct wss_measurement m, before;
	struct parse_error err = { 0 };
	size_t need;
	int r;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	r = wss_parse_measurement(data, size, &m, &err);
	if (r != 0) {
		/* Only truncation can fail a Weight Measurement. */
		assert(r == -EBADMSG && err.fault == PARSE_FAULT_TRUNCATED);
		assert(memcmp(&m, &before, sizeof(m)) == 0);
		check_error(&err, size);
		return;
	}

	/* Flags, weight, then exactly the fields the flags announce. */
	need = 3 + (m.has_timestamp ? BLE_DATE_TIME_SIZE : 0) +
	       (m.has_user ? 1 : 0) + (m.has_bmi_height ? 4 : 0);
	assert(need <= size);
	assert(m.has_timestamp == !!(data[0] & 0x02));
	assert(m.has_user == !!(data[0] & 0x04));
	assert(m.has_bmi_height == !!(data[0] & 0x08));
	assert(m.weight.unit == (data[0] & 0x01 ? MASS_UNIT_LB : MASS_UNIT_KG));
	assert(m.weight.raw == (uint16_t)(data[1] | data[2] << 8));
	assert(m.weight_unsuccessful == (m.weight.raw == 0xffff));
	if (m.has_user)
		assert(m.user_id ==
		       data[need - 1 - (m.has_bmi_height ? 4 : 0)]);
	assert(wss_height_m(&m) >= 0.0 && wss_height_m(&m) < 6554.0);
	assert(mass_kg(m.weight) >= 0.0);
}

static void check_feature(const uint8_t *data, size_t size)
{
	struct wss_feature f, before;
	struct parse_error err = { 0 };
	int r;

	memset(&f, 0xa5, sizeof(f));
	before = f;
	r = wss_parse_feature(data, size, &f, &err);
	if (r != 0) {
		assert(r == -EBADMSG || r == -ENOTSUP);
		assert((r == -ENOTSUP) == (err.fault == PARSE_FAULT_RESERVED));
		assert(memcmp(&f, &before, sizeof(f)) == 0);
		check_error(&err, size);
		if (r == -ENOTSUP)
			assert(err.expected && size >= 4);
		return;
	}
	assert(size >= 4);
	assert(f.weight_resolution <= 7 && f.height_resolution <= 3);
	assert(f.timestamp_supported == !!(data[0] & 0x01));
	/* Every value a scale may send has a resolution, 0 for unspecified. */
	assert((wss_weight_resolution_kg(f.weight_resolution) > 0.0) ==
	       (f.weight_resolution != 0));
	assert((wss_weight_resolution_lb(f.weight_resolution) > 0.0) ==
	       (f.weight_resolution != 0));
	assert((wss_height_resolution_m(f.height_resolution) > 0.0) ==
	       (f.height_resolution != 0));
	assert((wss_height_resolution_in(f.height_resolution) > 0.0) ==
	       (f.height_resolution != 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_measurement(data, size);
	check_feature(data, size);
	return 0;
}
