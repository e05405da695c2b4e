// SPDX-License-Identifier: MIT
/*
 * Body Composition Measurement parser and the two-packet assembler. Beyond
 * not crashing, checks the contract: output untouched on failure, every
 * fault described, what was parsed consistent with the input, and the
 * assembler's promises (whole measurements never carry the Multiple Packet
 * flag, merges only add fields, -EAGAIN leaves the output alone).
 *
 * The input is parsed whole, then split in two at the offset its first byte
 * names, and both halves go through one assembler as consecutive packets.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "sensors/bcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD_FLAGS 0x0ffe

/* Bytes each flagged field takes, in flag order, for bits 1 to 11. */
static size_t fields_size(uint16_t flags)
{
	size_t n = 0;

	if (flags & BCS_FLAG_TIMESTAMP)
		n += BLE_DATE_TIME_SIZE;
	if (flags & BCS_FLAG_USER_ID)
		n += 1;
	for (uint16_t bit = BCS_FLAG_BASAL_METABOLISM; bit <= BCS_FLAG_HEIGHT;
	     bit = (uint16_t)(bit << 1))
		if (flags & bit)
			n += 2;
	return n;
}

static void check_error(const struct parse_error *err, size_t size)
{
	char msg[256];

	assert(err->fault != PARSE_FAULT_NONE && err->field);
	assert(err->offset <= size);
	if (err->fault == PARSE_FAULT_TRUNCATED)
		assert(err->left < err->need &&
		       err->offset + err->left == size);
	if (err->fault == PARSE_FAULT_OUT_OF_RANGE)
		assert(err->value > 1000 && err->offset + 2 <= size);
	assert(parse_error_format(err, msg, sizeof(msg)) > 0);
}

static void check_units(const struct bcs_measurement *m)
{
	enum mass_unit unit =
	    m->flags & BCS_FLAG_IMPERIAL ? MASS_UNIT_LB : MASS_UNIT_KG;

	assert(m->muscle_mass.unit == unit && m->fat_free_mass.unit == unit);
	assert(m->soft_lean_mass.unit == unit);
	assert(m->body_water_mass.unit == unit && m->weight.unit == unit);
}

/* Parses one packet; returns true with @ret set when it is valid. */
static bool parse(const uint8_t *data, size_t size, struct bcs_measurement *ret)
{
	struct bcs_measurement m, before;
	struct parse_error err = { 0 };
	int r;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	r = bcs_parse_measurement(data, size, &m, &err);
	if (r != 0) {
		assert(r == -EBADMSG || r == -EINVAL);
		assert((r == -EINVAL) ==
		       (err.fault == PARSE_FAULT_OUT_OF_RANGE));
		assert(memcmp(&m, &before, sizeof(m)) == 0);
		check_error(&err, size);
		return false;
	}

	assert(size >= 4 + fields_size(m.flags));
	assert(m.flags == ((data[0] | data[1] << 8) & 0x1fff));
	assert(m.body_fat_raw == (uint16_t)(data[2] | data[3] << 8));
	assert(m.body_fat_unsuccessful == (m.body_fat_raw == 0xffff));
	assert(m.body_fat_unsuccessful || m.body_fat_raw <= 1000);
	if (m.flags & BCS_FLAG_MUSCLE_PCT)
		assert(m.muscle_pct_raw <= 1000);
	if (m.flags & BCS_FLAG_USER_ID)
		assert(m.user_id ==
		       data[4 + (m.flags & BCS_FLAG_TIMESTAMP ? 7 : 0)]);
	check_units(&m);
	assert(bcs_height_m(&m) >= 0.0 && bcs_height_m(&m) < 6554.0);
	*ret = m;
	return true;
}

/* Field by field: struct copies need not copy padding. */
static bool same_mass(struct mass x, struct mass y)
{
	return x.unit == y.unit && x.raw == y.raw;
}

static bool same(const struct bcs_measurement *x,
		 const struct bcs_measurement *y)
{
	return x->flags == y->flags && x->body_fat_raw == y->body_fat_raw &&
	       x->body_fat_unsuccessful == y->body_fat_unsuccessful &&
	       x->timestamp.year == y->timestamp.year &&
	       x->timestamp.month == y->timestamp.month &&
	       x->timestamp.day == y->timestamp.day &&
	       x->timestamp.hours == y->timestamp.hours &&
	       x->timestamp.minutes == y->timestamp.minutes &&
	       x->timestamp.seconds == y->timestamp.seconds &&
	       x->user_id == y->user_id &&
	       x->basal_metabolism_kj == y->basal_metabolism_kj &&
	       x->muscle_pct_raw == y->muscle_pct_raw &&
	       same_mass(x->muscle_mass, y->muscle_mass) &&
	       same_mass(x->fat_free_mass, y->fat_free_mass) &&
	       same_mass(x->soft_lean_mass, y->soft_lean_mass) &&
	       same_mass(x->body_water_mass, y->body_water_mass) &&
	       x->impedance_raw == y->impedance_raw &&
	       same_mass(x->weight, y->weight) &&
	       x->height_raw == y->height_raw;
}

static void push(struct bcs_assembler *a, const struct bcs_measurement *part)
{
	struct bcs_measurement out, before;
	bool had_pending = a->pending;
	struct bcs_measurement pending = a->first;
	int r;

	memset(&out, 0xa5, sizeof(out));
	before = out;
	r = bcs_assembler_push(a, part, &out);
	if (r == -EAGAIN) {
		/* Held: only a multi-packet half waits, and it is kept. */
		assert(part->flags & BCS_FLAG_MULTIPLE_PACKET);
		assert(memcmp(&out, &before, sizeof(out)) == 0);
		assert(a->pending);
		assert(same(&a->first, part));
		return;
	}

	assert(r == 0);
	assert(!a->pending);
	assert(!(out.flags & BCS_FLAG_MULTIPLE_PACKET));
	assert(!(out.flags & 0xe000));
	check_units(&out);
	if (!(part->flags & BCS_FLAG_MULTIPLE_PACKET)) {
		assert(same(&out, part));
		return;
	}

	/* A merge: it completed the pending half with this packet. */
	assert(had_pending);
	assert(((pending.flags ^ part->flags) & BCS_FLAG_IMPERIAL) == 0);
	assert(pending.body_fat_raw == part->body_fat_raw);
	assert((pending.flags & part->flags & FIELD_FLAGS) == 0);
	assert(out.flags ==
	       ((pending.flags | part->flags) & ~BCS_FLAG_MULTIPLE_PACKET));
	if (part->flags & BCS_FLAG_WEIGHT)
		assert(out.weight.raw == part->weight.raw);
	if (pending.flags & BCS_FLAG_WEIGHT)
		assert(out.weight.raw == pending.weight.raw);
	if (part->flags & BCS_FLAG_HEIGHT)
		assert(out.height_raw == part->height_raw);
	if (pending.flags & BCS_FLAG_USER_ID)
		assert(out.user_id == pending.user_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bcs_assembler a;
	struct bcs_measurement m;
	size_t split;

	bcs_assembler_reset(&a);
	if (parse(data, size, &m))
		push(&a, &m);

	if (size < 1)
		return 0;
	split = data[0] < size - 1 ? data[0] : size - 1;
	if (parse(data + 1, split, &m))
		push(&a, &m);
	if (parse(data + 1 + split, size - 1 - split, &m))
		push(&a, &m);

	bcs_assembler_reset(&a);
	assert(!a.pending);
	return 0;
}
