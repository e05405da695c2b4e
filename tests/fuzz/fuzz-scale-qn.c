// SPDX-License-Identifier: MIT
/*
 * QN/Renpho: the "AABB" broadcast, the 0x12 scale-info frame and both 0x10
 * weight layouts with both dividers, all fed every input.
 */
#include "tests/fuzz/scale-fuzz.h"

#include "sensors/scale-qn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_weight(const uint8_t *data, size_t size,
			enum qn_weight_layout layout, uint16_t divider)
{
	struct qn_weight q;
	int r;

	FUZZ_RUN(q, r, qn_parse_weight(data, size, layout, divider, &q, &err),
		 qn_parse_weight(data, size, layout, divider, &q, NULL), size);
	if (r == 0) {
		fuzz_check_weighing(&q.weighing, SCALE_FAMILY_QN_GATT);
		assert(size >= (layout == QN_LAYOUT_CLASSIC ? 10u : 11u));
		assert(data[0] == QN_OP_WEIGHT);
		assert(!q.weighing.has_impedance);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scale_weighing w;
	struct qn_scale_info info;
	int r;

	FUZZ_RUN(w, r, qn_parse_broadcast(data, size, &w, &err),
		 qn_parse_broadcast(data, size, &w, NULL), size);
	if (r == 0) {
		fuzz_check_weighing(&w, SCALE_FAMILY_QN_BROADCAST);
		assert(size >= QN_BROADCAST_SIZE);
		assert(data[0] == 0xAA && data[1] == 0xBB);
		assert(w.final == !!(data[15] & 0x20));
		assert(w.weight_kg == (data[17] | data[18] << 8) / 100.0);
	}

	FUZZ_RUN(info, r, qn_parse_scale_info(data, size, &info, &err),
		 qn_parse_scale_info(data, size, &info, NULL), size);
	if (r == 0) {
		assert(size >= 11 && data[0] == QN_OP_SCALE_INFO);
		assert(info.weight_divider == (data[10] == 1 ? 100 : 10));
	}

	fuzz_weight(data, size, QN_LAYOUT_CLASSIC, 100);
	fuzz_weight(data, size, QN_LAYOUT_CLASSIC, 10);
	fuzz_weight(data, size, QN_LAYOUT_ES30M, 100);
	fuzz_weight(data, size, QN_LAYOUT_ES30M, 10);
	return 0;
}
