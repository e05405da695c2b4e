/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"
#include "sensors/weighing.h"

/*
 * Eufy scales that weigh in their advertisements (manufacturer data, the
 * bytes after the company id). The company ids are address bytes, not a
 * vendor's: pick the parser by the name ("eufy T9146" ...), never by id.
 */

/* C1 T9146, P1 T9147 (and A1 T9120): 18 bytes, a 1byone CF record inside. */
#define EUFY_C1_ADV_SIZE 15 /* up to the record's checksum */
/* P2 T9148, P2 Pro T9149: 19 bytes. */
#define EUFY_P2_ADV_SIZE 16 /* up to the state byte */

/*
 * Parse one advertisement. Return 0 with @ret a weighing, or a negative
 * errno with @ret untouched and @ret_err (may be NULL) naming the field:
 * -EBADMSG (short, no 0xCF marker, wrong checksum), -EINVAL (over the
 * scale's limit, weight outside 2-300 kg). Heart rate only from a P2 Pro
 * that flags it.
 */
int eufy_parse_c1_adv(const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err);
int eufy_parse_p2_adv(const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err);

/*
 * C20 T9130: each advertisement carries some of weight, impedance and heart
 * rate, flagged in byte 10; a weighing is the merge of several.
 */
struct eufy_c20_frame {
	bool has_weight;
	bool final; /* the weight is the final one */
	double weight_kg;
	bool has_impedance;
	double impedance_ohm;
	bool has_heart_rate;
	uint8_t heart_rate_bpm;
};

/*
 * Parses a C20 advertisement. Returns 0 (a frame with nothing flagged, as an
 * idle scale sends, is fine), or with @ret untouched: -EBADMSG (shorter than
 * a flagged field), -EINVAL (a flagged weight outside 2-300 kg, a flagged
 * impedance or heart rate of 0).
 */
int eufy_parse_c20_adv(const uint8_t *data, size_t len,
		       struct eufy_c20_frame *ret, struct parse_error *ret_err);

/*
 * The merge state, owned by the caller (one per scale), zeroed or reset to
 * start. No clock in here: the caller decides when a weighing has gone
 * quiet and calls eufy_c20_merge_flush().
 */
struct eufy_c20_merge {
	struct eufy_c20_frame acc;
};

void eufy_c20_merge_reset(struct eufy_c20_merge *m);

/*
 * Folds @frame into @m: a weight replaces the one before (the scale sends
 * its latest), impedance and heart rate are kept once seen. Returns true
 * and fills @ret (SCALE_FAMILY_EUFY_C20, final) when @m holds a final weight,
 * an impedance and a heart rate, and resets @m; false otherwise, @ret
 * untouched.
 */
bool eufy_c20_merge_add(struct eufy_c20_merge *m,
			const struct eufy_c20_frame *frame,
			struct scale_weighing *ret);

/*
 * Ends a weighing early (the caller's timeout: a person who stepped off
 * before the heart rate). Returns true and fills @ret when @m holds a final
 * weight, with whatever else it has; resets @m either way.
 */
bool eufy_c20_merge_flush(struct eufy_c20_merge *m, struct scale_weighing *ret);
