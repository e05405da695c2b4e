// SPDX-License-Identifier: MIT
/*
 * Eufy advertisements: C1/P1, P2/P2 Pro and C20, and every C20 frame that
 * parses folded into one merge state, which must only ever hand out a
 * complete final weighing.
 */
#include "tests/fuzz/scale-fuzz.h"

#include "sensors/scale-eufy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scale_weighing w;
	struct eufy_c20_frame f;
	struct eufy_c20_merge m = { 0 };
	int r;

	FUZZ_RUN(w, r, eufy_parse_c1_adv(data, size, &w, &err),
		 eufy_parse_c1_adv(data, size, &w, NULL), size);
	if (r == 0) {
		fuzz_check_weighing(&w, SCALE_FAMILY_EUFY_C1);
		assert(size >= EUFY_C1_ADV_SIZE && data[4] == 0xCF);
	}

	FUZZ_RUN(w, r, eufy_parse_p2_adv(data, size, &w, &err),
		 eufy_parse_p2_adv(data, size, &w, NULL), size);
	if (r == 0) {
		fuzz_check_weighing(&w, SCALE_FAMILY_EUFY_P2);
		assert(size >= EUFY_P2_ADV_SIZE && data[6] == 0xCF);
		assert(!w.has_impedance);
	}

	/* Each suffix of the input as one more C20 advertisement. */
	for (size_t off = 0; off < size; off++) {
		FUZZ_RUN(f, r,
			 eufy_parse_c20_adv(data + off, size - off, &f, &err),
			 eufy_parse_c20_adv(data + off, size - off, &f, NULL),
			 size - off);
		if (r != 0)
			continue;
		if (f.has_weight)
			assert(scale_weight_plausible(f.weight_kg));
		else
			assert(!f.final && f.weight_kg == 0.0);
		if (f.has_impedance)
			assert(f.impedance_ohm > 0.0);
		if (f.has_heart_rate)
			assert(f.heart_rate_bpm > 0);
		if (eufy_c20_merge_add(&m, &f, &w)) {
			fuzz_check_weighing(&w, SCALE_FAMILY_EUFY_C20);
			assert(w.final && w.has_impedance && w.has_heart_rate);
		}
	}
	if (eufy_c20_merge_flush(&m, &w)) {
		fuzz_check_weighing(&w, SCALE_FAMILY_EUFY_C20);
		assert(w.final);
	}
	return 0;
}
