// SPDX-License-Identifier: MIT
/* 1byone classic CF frames and new AB 2A frames. */
#include "tests/fuzz/scale-fuzz.h"

#include "sensors/scale-onebyone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct onebyone_measurement m;
	struct onebyone_new_frame f;
	int r;

	FUZZ_RUN(m, r, onebyone_parse_measurement(data, size, &m, &err),
		 onebyone_parse_measurement(data, size, &m, NULL), size);
	if (r == 0) {
		fuzz_check_weighing(&m.weighing, SCALE_FAMILY_ONEBYONE);
		assert(size >= ONEBYONE_RECORD_SIZE && data[0] == 0xCF);
		assert(m.has_timestamp == (size >= ONEBYONE_HISTORY_SIZE));
		assert(m.weighing.final == (data[9] == 0));
	}

	FUZZ_RUN(f, r, onebyone_new_parse(data, size, &f, &err),
		 onebyone_new_parse(data, size, &f, NULL), size);
	if (r == 0) {
		assert(size >= ONEBYONE_NEW_SIZE);
		assert(data[0] == 0xAB && data[1] == 0x2A);
		switch (f.kind) {
		case ONEBYONE_NEW_WEIGHT:
		case ONEBYONE_NEW_HISTORY:
			fuzz_check_weighing(&f.weighing,
					    SCALE_FAMILY_ONEBYONE_NEW);
			assert(f.weighing.final);
			break;
		case ONEBYONE_NEW_IMPEDANCE:
		case ONEBYONE_NEW_LIVE:
			assert(f.weighing.weight_kg == 0.0);
			break;
		default:
			assert(0);
		}
	}
	return 0;
}
