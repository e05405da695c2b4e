/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The contract every vendor scale parser keeps, checked by the
 * fuzz-scale-*.c targets: on failure the output is untouched and the fault
 * is described (field named, errno matching, offset inside the input); on
 * success the weighing is a person's, every "has_" value in range and
 * every absent one zero.
 */

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sensors/parse-error.h"
#include "sensors/weighing.h"

#define FUZZ_POISON 0xa5

static inline void fuzz_check_failure(int r, const void *out,
				      const void *before, size_t out_size,
				      const struct parse_error *err,
				      size_t size)
{
	char msg[256];

	assert(r == -EBADMSG || r == -EINVAL || r == -ENOTSUP);
	assert(memcmp(out, before, out_size) == 0);
	assert(err->fault != PARSE_FAULT_NONE && err->field);
	assert(parse_fault_errno(err->fault) == r);
	assert(err->offset <= size);
	if (err->fault == PARSE_FAULT_TRUNCATED) {
		assert(err->left < err->need);
		assert(err->offset + err->left <= size);
	} else {
		assert(err->expected);
	}
	assert(parse_error_format(err, msg, sizeof(msg)) > 0);
}

static inline void fuzz_check_weighing(const struct scale_weighing *w,
				       enum scale_family family)
{
	assert(w->family == family);
	assert(isfinite(w->weight_kg));
	assert(scale_weight_plausible(w->weight_kg));
	if (w->has_impedance)
		assert(w->impedance_ohm > 0.0 && w->impedance_ohm <= 65535.0);
	else
		assert(w->impedance_ohm == 0.0);
	if (w->has_heart_rate)
		assert(w->heart_rate_bpm > 0);
	else
		assert(w->heart_rate_bpm == 0);
	assert(!w->has_user && w->user_index == 0);
}

/*
 * Runs @call (an expression parsing into @out with &err or NULL as ERR)
 * twice, with and without a parse_error, and checks they agree.
 */
#define FUZZ_RUN(out, r, call_with_err, call_without_err, size)                \
	do {                                                                   \
		__typeof__(out) before_;                                       \
		struct parse_error err = { 0 };                                \
		int r2_;                                                       \
		memset(&(out), FUZZ_POISON, sizeof(out));                      \
		memcpy(&before_, &(out), sizeof(out));                         \
		(r) = (call_with_err);                                         \
		if ((r) != 0)                                                  \
			fuzz_check_failure((r), &(out), &before_, sizeof(out), \
					   &err, (size));                      \
		else                                                           \
			assert(err.fault == PARSE_FAULT_NONE);                 \
		memset(&(out), FUZZ_POISON, sizeof(out));                      \
		r2_ = (call_without_err);                                      \
		assert(r2_ == (r));                                            \
		if (r2_ != 0)                                                  \
			assert(memcmp(&(out), &before_, sizeof(out)) == 0);    \
	} while (0)
