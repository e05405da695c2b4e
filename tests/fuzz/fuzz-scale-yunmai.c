// SPDX-License-Identifier: MIT
/* Yunmai X advertisements and SE/Mini notifications. */
#include "tests/fuzz/scale-fuzz.h"

#include "sensors/scale-yunmai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scale_weighing w;
	struct yunmai_reading y;
	int r;

	FUZZ_RUN(w, r, yunmai_x_parse_adv(data, size, &w, &err),
		 yunmai_x_parse_adv(data, size, &w, NULL), size);
	if (r == 0) {
		fuzz_check_weighing(&w, SCALE_FAMILY_YUNMAI_X);
		assert(size >= YUNMAI_X_SIZE);
		assert(w.final == (data[8] == YUNMAI_X_FINAL));
		assert(w.weight_kg == (data[9] << 8 | data[10]) / 100.0);
	}

	FUZZ_RUN(y, r, yunmai_parse_notify(data, size, &y, &err),
		 yunmai_parse_notify(data, size, &y, NULL), size);
	if (r == 0) {
		fuzz_check_weighing(&y.weighing, SCALE_FAMILY_YUNMAI_GATT);
		assert(size >= data[2] && data[0] == 0x0D);
		assert(y.weighing.final == (data[3] == YUNMAI_TYPE_MEASURED));
		assert(y.has_time == y.weighing.final);
		if (y.has_fat)
			assert(y.protocol >= 0x1E);
	}
	return 0;
}
