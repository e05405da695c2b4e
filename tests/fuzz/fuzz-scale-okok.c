// SPDX-License-Identifier: MIT
/*
 * OKOK/Chipsea: each layout fed every input, and the dispatcher with the
 * first two bytes as the company id (little-endian, as on air).
 */
#include "tests/fuzz/scale-fuzz.h"

#include "sensors/scale-okok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*okok_parser)(const uint8_t *data, size_t len,
			   struct scale_weighing *ret,
			   struct parse_error *ret_err);

static void fuzz_one(okok_parser parse, enum scale_family family,
		     const uint8_t *data, size_t size)
{
	struct scale_weighing w;
	int r;

	FUZZ_RUN(w, r, parse(data, size, &w, &err), parse(data, size, &w, NULL),
		 size);
	if (r == 0)
		fuzz_check_weighing(&w, family);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scale_weighing w;
	uint16_t company;
	int r;

	fuzz_one(okok_parse_v20, SCALE_FAMILY_OKOK_V20, data, size);
	fuzz_one(okok_parse_v11, SCALE_FAMILY_OKOK_V11, data, size);
	fuzz_one(okok_parse_vf0, SCALE_FAMILY_OKOK_VF0, data, size);
	fuzz_one(okok_parse_c0, SCALE_FAMILY_OKOK_C0, data, size);

	if (size < 2)
		return 0;
	company = (uint16_t)(data[0] | data[1] << 8);
	memset(&w, FUZZ_POISON, sizeof(w));
	r = okok_parse_adv(company, data + 2, size - 2, &w, NULL);
	if (r == -ENOENT)
		assert(company != OKOK_COMPANY_V20 &&
		       company != OKOK_COMPANY_V11 &&
		       company != OKOK_COMPANY_VF0 &&
		       (company & 0xFF) != OKOK_COMPANY_C0_LOW);
	else if (r == 0)
		assert(scale_weight_plausible(w.weight_kg));
	return 0;
}
