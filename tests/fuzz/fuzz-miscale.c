// SPDX-License-Identifier: MIT
/*
 * Xiaomi Mi Scale v1 and v2 parsers, both fed every input. Beyond not
 * crashing, checks the contract: output untouched on failure, every fault
 * described, and what was parsed consistent with the bytes (the oracle below
 * reads them directly, which the parser itself must not do).
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "sensors/miscale.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t le16_at(const uint8_t *data, size_t offset)
{
	return (uint16_t)(data[offset] | data[offset + 1] << 8);
}

static void check_timestamp(const struct ble_date_time *t, const uint8_t *data,
			    size_t offset)
{
	assert(t->year == le16_at(data, offset));
	assert(t->month == data[offset + 2]);
	assert(t->day == data[offset + 3]);
	assert(t->hours == data[offset + 4]);
	assert(t->minutes == data[offset + 5]);
	assert(t->seconds == data[offset + 6]);
}

static void check_unit(enum mass_unit unit, bool lb, bool jin)
{
	assert(!(lb && jin));
	assert(unit == (lb    ? MASS_UNIT_LB
			: jin ? MASS_UNIT_JIN
			      : MASS_UNIT_KG));
}

static void check_failure(int r, const struct miscale_reading *m,
			  const struct miscale_reading *before,
			  const struct parse_error *err, size_t size,
			  size_t frame_size, bool unit_conflict)
{
	char msg[256];

	assert(r == -EBADMSG || r == -ENOTSUP);
	assert(memcmp(m, before, sizeof(*m)) == 0);
	assert(err->fault != PARSE_FAULT_NONE && err->field);
	assert(r == parse_fault_errno(err->fault));
	assert(err->offset <= size);
	if (r == -EBADMSG) {
		assert(size < frame_size && !unit_conflict);
		assert(err->fault == PARSE_FAULT_TRUNCATED);
		assert(err->offset + err->left == size);
		assert(err->left < err->need);
	} else {
		assert(unit_conflict && err->fault == PARSE_FAULT_RESERVED);
		assert(err->offset == 0 && err->expected);
	}
	assert(parse_error_format(err, msg, sizeof(msg)) > 0);
}

static void fuzz_v1(const uint8_t *data, size_t size)
{
	struct miscale_reading m, before;
	struct parse_error err = { 0 };
	bool conflict = size >= 1 && (data[0] & 0x11) == 0x11;
	int r, r_noerr;

	memset(&m, 0xa5, sizeof(m));
	memcpy(&before, &m, sizeof(m));
	r = miscale_parse_v1(data, size, &m, &err);
	if (r == 0) {
		assert(size >= MISCALE_V1_SIZE && !conflict);
		check_unit(m.weight.unit, data[0] & 0x01, data[0] & 0x10);
		assert(m.weight.raw == le16_at(data, 1));
		assert(m.stabilised == !!(data[0] & 0x20));
		assert(m.load_removed == !!(data[0] & 0x80));
		assert(!m.has_impedance && m.impedance_ohm == 0);
		check_timestamp(&m.timestamp, data, 3);
		assert(miscale_is_measurement(&m) ==
		       (m.stabilised && !m.load_removed));
	} else {
		check_failure(r, &m, &before, &err, size, MISCALE_V1_SIZE,
			      conflict);
	}

	memset(&m, 0xa5, sizeof(m));
	r_noerr = miscale_parse_v1(data, size, &m, NULL);
	assert(r_noerr == r);
	if (r != 0)
		assert(memcmp(&m, &before, sizeof(m)) == 0);
}

static void fuzz_v2(const uint8_t *data, size_t size)
{
	struct miscale_reading m, before;
	struct parse_error err = { 0 };
	bool conflict = size >= 2 && (data[0] & 0x01) && (data[1] & 0x40);
	int r, r_noerr;

	memset(&m, 0xa5, sizeof(m));
	memcpy(&before, &m, sizeof(m));
	r = miscale_parse_v2(data, size, &m, &err);
	if (r == 0) {
		uint16_t impedance;

		assert(size >= MISCALE_V2_SIZE && !conflict);
		impedance = le16_at(data, 9);
		check_unit(m.weight.unit, data[0] & 0x01, data[1] & 0x40);
		assert(m.weight.raw == le16_at(data, 11));
		assert(m.stabilised == !!(data[1] & 0x20));
		assert(m.load_removed == !!(data[1] & 0x80));
		assert(m.has_impedance == ((data[1] & 0x02) && impedance != 0));
		assert(m.impedance_ohm == (m.has_impedance ? impedance : 0));
		check_timestamp(&m.timestamp, data, 2);
		assert(miscale_is_measurement(&m) ==
		       (m.stabilised && !m.load_removed));
	} else {
		check_failure(r, &m, &before, &err, size, MISCALE_V2_SIZE,
			      conflict);
	}

	memset(&m, 0xa5, sizeof(m));
	r_noerr = miscale_parse_v2(data, size, &m, NULL);
	assert(r_noerr == r);
	if (r != 0)
		assert(memcmp(&m, &before, sizeof(m)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_v1(data, size);
	fuzz_v2(data, size);
	return 0;
}
