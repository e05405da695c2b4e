/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The advertisement dispatcher (DESIGN §3): from one struct advert, wherever
 * it was heard, the family that sent it (by service data UUID, company id,
 * name or signature) and what it measured. Every family that weighs in its
 * advertisements is listed once, in advert-decode.c's table: adding one
 * there makes it work for bluetoothd, the antennas and `recoveryctl decode
 * --adv` alike.
 *
 * Pure: no allocation, no clock. A Eufy C20 spreads one weighing over
 * several advertisements; the merge state is the caller's, one per device.
 */

#include <stdbool.h>

#include "sensors/advert.h"
#include "sensors/decode.h"
#include "sensors/scale-eufy.h"

enum advert_family {
	ADVERT_FAMILY_NONE = 0,
	ADVERT_FAMILY_MISCALE_V1,   /* service data 0x181D */
	ADVERT_FAMILY_MISCALE_V2,   /* service data 0x181B */
	ADVERT_FAMILY_BTHOME,	    /* service data 0xFCD2 */
	ADVERT_FAMILY_QN_BROADCAST, /* company 0xFFFF, "AA BB" */
	ADVERT_FAMILY_OKOK,	/* companies 0x20CA, 0x11CA, 0xF0FF, 0x??C0 */
	ADVERT_FAMILY_YUNMAI_X, /* signature 0B 74 17, address echo */
	ADVERT_FAMILY_EUFY_C1,	/* names "eufy T9146", "T9147", "T9120" */
	ADVERT_FAMILY_EUFY_P2,	/* names "eufy T9148", "T9149" */
	ADVERT_FAMILY_EUFY_C20, /* names "eufy T9130", "T9150" */
	ADVERT_FAMILY_COUNT,
};

/* "mi-scale-v2", "okok", ...: the family's short name; "none" for NONE. */
const char *advert_family_name(enum advert_family family);
/* TRUE for the families that weigh (everything but BTHome). */
bool advert_family_is_scale(enum advert_family family);

/*
 * The family whose marks @a carries (the first in the table), or
 * ADVERT_FAMILY_NONE. It says nothing of whether its data will decode: a
 * scale is recognised by what it advertises even while it idles.
 */
enum advert_family advert_recognise(const struct advert *a);

/*
 * What a family advertises that a connection would give: per device, kept
 * by the caller across its advertisements. Zero it (or
 * advert_merge_reset()) to start.
 */
struct advert_merge {
	struct eufy_c20_merge c20;
};

void advert_merge_reset(struct advert_merge *m);

/* A held part that advert_merge_flush() would complete. */
bool advert_merge_pending(const struct advert_merge *m);

struct advert_decoded {
	enum advert_family family;
	/*
	 * DECODE_UUID_MISCALE_V1/V2 and DECODE_UUID_BTHOME as decode_payload()
	 * gives them (BTHome objects point into the advertisement's bytes);
	 * DECODE_SCALE_WEIGHING for the vendor families, u.scale.final telling
	 * a measurement from a live value.
	 */
	struct decoded_payload payload;
};

/*
 * The name of what @d came from: a vendor weighing's own layout
 * ("okok-v20", weighing.h's names), else its family's ("mi-scale-v2").
 */
const char *advert_decoded_family_name(const struct advert_decoded *d);

/*
 * Decodes @a with its family's decoder. Returns 0 with @ret filled; or,
 * with @ret untouched:
 * - -ENOENT: no family recognises it (no fault recorded);
 * - the family parser's negative errno, @ret_err (may be NULL) naming the
 *   field, its offset counted in the bytes @a was parsed from;
 * - -EAGAIN: a Eufy C20 part folded into @merge, nothing to hand on yet;
 * - -ENODATA: without @merge, a C20 frame that carries no weight (a
 *   RESERVED fault on its flags byte says so).
 * @merge may be NULL (one advertisement on its own: `decode --adv`); then
 * a C20 frame's own fields are the weighing.
 */
int advert_decode(const struct advert *a, struct advert_merge *merge,
		  struct advert_decoded *ret, struct parse_error *ret_err);

/*
 * Ends what @m holds (the caller's timeout: the person stepped off before
 * the scale sent everything). Returns TRUE and fills @ret with a final
 * weighing when @m held a final weight; resets @m either way.
 */
bool advert_merge_flush(struct advert_merge *m, struct advert_decoded *ret);
