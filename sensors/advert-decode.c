// SPDX-License-Identifier: MIT
#include "sensors/advert-decode.h"

#include <errno.h>
#include <string.h>

#include "sensors/scale-okok.h"
#include "sensors/scale-qn.h"
#include "sensors/scale-yunmai.h"

/*
 * How each family is told from the others. Sources are cited beside each
 * family's parser; the identifying marks come from the same places
 * (reference/scales.md):
 * - Mi scales and BTHome: their service data UUIDs.
 * - QN "AABB": company id 0xFFFF, which is the SIG's "for testing" id that
 *   many devices use, so the magic AA BB must follow (openScale
 *   QNHandlerBroadcast).
 * - OKOK: its company ids; C0 puts a frame counter in the high byte, so any
 *   id with low byte 0xC0 is one, but only with its exact 13 bytes, as
 *   ble_monitor matches it (Xiaogui), since 1 id in 256 ends in C0.
 * - Yunmai X: no name, no fixed id (the "company id" is part of its reversed
 *   address): the signature 0B 74 17 and, when the address is known, its
 *   echo (openScale YunmaiXHandler).
 * - Eufy: the "company id" is address bytes and a counter; only the name
 *   tells the model (eufylife-ble-client matches by name too).
 */

struct match {
	uint16_t company_id;
	const uint8_t *data;
	size_t len;
	size_t offset; /* of @data in the parsed bytes */
};

typedef bool (*match_fn)(const struct advert *a, struct match *ret);
typedef int (*decode_fn)(const struct advert *a, const struct match *m,
			 struct advert_merge *merge, struct advert_decoded *ret,
			 struct parse_error *err);

struct family {
	enum advert_family family;
	const char *name;
	bool scale;
	match_fn match;
	decode_fn decode;
};

static bool service_data(const struct advert *a, uint16_t uuid,
			 struct match *ret)
{
	const struct advert_service_data *sd =
	    advert_find_service_data(a, uuid);

	if (!sd)
		return false;
	*ret = (struct match){
		.data = sd->data,
		.len = sd->len,
		.offset = sd->offset,
	};
	return true;
}

static void from_manufacturer(const struct advert_manufacturer *m,
			      struct match *ret)
{
	*ret = (struct match){
		.company_id = m->company_id,
		.data = m->data,
		.len = m->len,
		.offset = m->offset,
	};
}

static bool match_miscale_v1(const struct advert *a, struct match *ret)
{
	return service_data(a, DECODE_UUID_MISCALE_V1, ret);
}

static bool match_miscale_v2(const struct advert *a, struct match *ret)
{
	return service_data(a, DECODE_UUID_MISCALE_V2, ret);
}

static bool match_bthome(const struct advert *a, struct match *ret)
{
	return service_data(a, DECODE_UUID_BTHOME, ret);
}

static bool match_qn(const struct advert *a, struct match *ret)
{
	for (unsigned i = 0; i < a->manufacturer_count; i++) {
		const struct advert_manufacturer *m = &a->manufacturer[i];

		if (m->company_id == QN_BROADCAST_COMPANY_ID && m->len >= 2 &&
		    m->data[0] == 0xAA && m->data[1] == 0xBB) {
			from_manufacturer(m, ret);
			return true;
		}
	}
	return false;
}

static bool match_okok(const struct advert *a, struct match *ret)
{
	for (unsigned i = 0; i < a->manufacturer_count; i++) {
		const struct advert_manufacturer *m = &a->manufacturer[i];
		uint16_t id = m->company_id;

		if (id == OKOK_COMPANY_V20 || id == OKOK_COMPANY_V11 ||
		    id == OKOK_COMPANY_VF0 ||
		    ((id & 0xFF) == OKOK_COMPANY_C0_LOW &&
		     m->len == OKOK_C0_SIZE)) {
			from_manufacturer(m, ret);
			return true;
		}
	}
	return false;
}

/* The address as the scale echoes it: reversed, starting with the two
 * bytes a stack reads as the company id. */
static bool yunmai_echo_matches(const struct advert *a,
				const struct advert_manufacturer *m)
{
	if (!a->has_address)
		return true;
	return (m->company_id & 0xFF) == a->address[5] &&
	       m->company_id >> 8 == a->address[4] &&
	       m->data[0] == a->address[3] && m->data[1] == a->address[2] &&
	       m->data[2] == a->address[1] && m->data[3] == a->address[0];
}

static bool match_yunmai_x(const struct advert *a, struct match *ret)
{
	static const uint8_t signature[] = { 0x0B, 0x74, 0x17 };

	for (unsigned i = 0; i < a->manufacturer_count; i++) {
		const struct advert_manufacturer *m = &a->manufacturer[i];

		if (m->len >= 4 + sizeof(signature) &&
		    memcmp(m->data + 4, signature, sizeof(signature)) == 0 &&
		    yunmai_echo_matches(a, m)) {
			from_manufacturer(m, ret);
			return true;
		}
	}
	return false;
}

/* A Eufy of one of @models (names "eufy T91xx"): its first manufacturer
 * data, whatever "company id" its address bytes make. */
static bool match_eufy(const struct advert *a, const char *const *models,
		       struct match *ret)
{
	bool named = false;

	for (size_t i = 0; models[i] && !named; i++)
		named = advert_name_starts(a, models[i]);
	if (!named || a->manufacturer_count == 0)
		return false;
	from_manufacturer(&a->manufacturer[0], ret);
	return true;
}

static bool match_eufy_c1(const struct advert *a, struct match *ret)
{
	static const char *const models[] = { "eufy T9146", "eufy T9147",
					      "eufy T9120", NULL };

	return match_eufy(a, models, ret);
}

static bool match_eufy_p2(const struct advert *a, struct match *ret)
{
	static const char *const models[] = { "eufy T9148", "eufy T9149",
					      NULL };

	return match_eufy(a, models, ret);
}

/* The P3 T9150 advertises the C20's layout (eufylife-ble-client issue #3:
 * its frames decode to the weights that client logged). */
static bool match_eufy_c20(const struct advert *a, struct match *ret)
{
	static const char *const models[] = { "eufy T9130", "eufy T9150",
					      NULL };

	return match_eufy(a, models, ret);
}

/* A parser's fault offsets count from its own first byte: make them count
 * in the bytes the advertisement was parsed from. */
static int shifted(int r, const struct match *m, struct parse_error *err)
{
	if (r < 0 && err && err->fault != PARSE_FAULT_NONE)
		err->offset += m->offset;
	return r;
}

static int decode_uuid(enum decode_uuid uuid, const struct match *m,
		       struct advert_decoded *ret, struct parse_error *err)
{
	return shifted(
	    decode_payload(uuid, m->data, m->len, &ret->payload, err), m, err);
}

static int decode_miscale_v1(const struct advert *a, const struct match *m,
			     struct advert_merge *merge,
			     struct advert_decoded *ret,
			     struct parse_error *err)
{
	return decode_uuid(DECODE_UUID_MISCALE_V1, m, ret, err);
}

static int decode_miscale_v2(const struct advert *a, const struct match *m,
			     struct advert_merge *merge,
			     struct advert_decoded *ret,
			     struct parse_error *err)
{
	return decode_uuid(DECODE_UUID_MISCALE_V2, m, ret, err);
}

static int decode_bthome(const struct advert *a, const struct match *m,
			 struct advert_merge *merge, struct advert_decoded *ret,
			 struct parse_error *err)
{
	return decode_uuid(DECODE_UUID_BTHOME, m, ret, err);
}

static void weighing(struct advert_decoded *ret, const struct scale_weighing *w)
{
	ret->payload.uuid = DECODE_SCALE_WEIGHING;
	ret->payload.u.scale = *w;
}

/* The vendor parsers that read one advertisement's manufacturer data. */
typedef int (*scale_parse_fn)(const uint8_t *data, size_t len,
			      struct scale_weighing *ret,
			      struct parse_error *err);

static int decode_scale(scale_parse_fn parse, const struct match *m,
			struct advert_decoded *ret, struct parse_error *err)
{
	struct scale_weighing w;
	int r = shifted(parse(m->data, m->len, &w, err), m, err);

	if (r == 0)
		weighing(ret, &w);
	return r;
}

static int decode_qn(const struct advert *a, const struct match *m,
		     struct advert_merge *merge, struct advert_decoded *ret,
		     struct parse_error *err)
{
	return decode_scale(qn_parse_broadcast, m, ret, err);
}

static int decode_okok(const struct advert *a, const struct match *m,
		       struct advert_merge *merge, struct advert_decoded *ret,
		       struct parse_error *err)
{
	struct scale_weighing w;
	int r = shifted(okok_parse_adv(m->company_id, m->data, m->len, &w, err),
			m, err);

	if (r == 0)
		weighing(ret, &w);
	return r;
}

static int decode_yunmai_x(const struct advert *a, const struct match *m,
			   struct advert_merge *merge,
			   struct advert_decoded *ret, struct parse_error *err)
{
	return decode_scale(yunmai_x_parse_adv, m, ret, err);
}

static int decode_eufy_c1(const struct advert *a, const struct match *m,
			  struct advert_merge *merge,
			  struct advert_decoded *ret, struct parse_error *err)
{
	return decode_scale(eufy_parse_c1_adv, m, ret, err);
}

static int decode_eufy_p2(const struct advert *a, const struct match *m,
			  struct advert_merge *merge,
			  struct advert_decoded *ret, struct parse_error *err)
{
	return decode_scale(eufy_parse_p2_adv, m, ret, err);
}

#define C20_FLAGS_OFFSET 10 /* scale-eufy.c's layout */

/*
 * With @merge, the frame joins the weighing in progress: the complete one
 * (final weight, impedance, heart rate) is handed on, a live weight as a
 * live value, anything else waits. Without, the frame stands alone.
 */
static int decode_eufy_c20(const struct advert *a, const struct match *m,
			   struct advert_merge *merge,
			   struct advert_decoded *ret, struct parse_error *err)
{
	struct eufy_c20_frame f;
	struct scale_weighing w;
	int r = shifted(eufy_parse_c20_adv(m->data, m->len, &f, err), m, err);

	if (r < 0)
		return r;
	if (merge) {
		if (eufy_c20_merge_add(&merge->c20, &f, &w)) {
			weighing(ret, &w);
			return 0;
		}
		if (!f.has_weight || f.final)
			return -EAGAIN;
		w = (struct scale_weighing){
			.family = SCALE_FAMILY_EUFY_C20,
			.weight_kg = f.weight_kg,
		};
		weighing(ret, &w);
		return 0;
	}
	if (!f.has_weight) {
		/* Well formed, but nothing to show on its own: the flags
		 * byte names what is missing. */
		if (err)
			*err = (struct parse_error){
				.fault = PARSE_FAULT_RESERVED,
				.field = "flags",
				.offset = m->offset + C20_FLAGS_OFFSET,
				.value = m->len > C20_FLAGS_OFFSET
					     ? m->data[C20_FLAGS_OFFSET]
					     : 0,
				.expected = "bit 0, a weight: a C20 sends "
					    "weight, impedance and heart rate "
					    "in separate frames",
			};
		return -ENODATA;
	}
	w = (struct scale_weighing){
		.family = SCALE_FAMILY_EUFY_C20,
		.weight_kg = f.weight_kg,
		.final = f.final,
		.has_impedance = f.has_impedance,
		.impedance_ohm = f.impedance_ohm,
		.has_heart_rate = f.has_heart_rate,
		.heart_rate_bpm = f.heart_rate_bpm,
	};
	weighing(ret, &w);
	return 0;
}

/* The families, first match wins. Add a family here, and only here. */
static const struct family families[] = {
	{ ADVERT_FAMILY_MISCALE_V1, "mi-scale-v1", true, match_miscale_v1,
	  decode_miscale_v1 },
	{ ADVERT_FAMILY_MISCALE_V2, "mi-scale-v2", true, match_miscale_v2,
	  decode_miscale_v2 },
	{ ADVERT_FAMILY_BTHOME, "bthome", false, match_bthome, decode_bthome },
	{ ADVERT_FAMILY_QN_BROADCAST, "qn-broadcast", true, match_qn,
	  decode_qn },
	{ ADVERT_FAMILY_OKOK, "okok", true, match_okok, decode_okok },
	{ ADVERT_FAMILY_YUNMAI_X, "yunmai-x", true, match_yunmai_x,
	  decode_yunmai_x },
	{ ADVERT_FAMILY_EUFY_C1, "eufy-c1", true, match_eufy_c1,
	  decode_eufy_c1 },
	{ ADVERT_FAMILY_EUFY_P2, "eufy-p2", true, match_eufy_p2,
	  decode_eufy_p2 },
	{ ADVERT_FAMILY_EUFY_C20, "eufy-c20", true, match_eufy_c20,
	  decode_eufy_c20 },
};

static const struct family *family_of(enum advert_family family)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].family == family)
			return &families[i];
	return NULL;
}

const char *advert_family_name(enum advert_family family)
{
	const struct family *f = family_of(family);

	return f ? f->name : "none";
}

const char *advert_decoded_family_name(const struct advert_decoded *d)
{
	if (d->payload.uuid == DECODE_SCALE_WEIGHING)
		return scale_family_name(d->payload.u.scale.family);
	return advert_family_name(d->family);
}

bool advert_family_is_scale(enum advert_family family)
{
	const struct family *f = family_of(family);

	return f && f->scale;
}

static const struct family *find(const struct advert *a, struct match *ret)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].match(a, ret))
			return &families[i];
	return NULL;
}

enum advert_family advert_recognise(const struct advert *a)
{
	struct match m;
	const struct family *f = find(a, &m);

	return f ? f->family : ADVERT_FAMILY_NONE;
}

void advert_merge_reset(struct advert_merge *m)
{
	eufy_c20_merge_reset(&m->c20);
}

bool advert_merge_pending(const struct advert_merge *m)
{
	return m->c20.acc.has_weight && m->c20.acc.final;
}

int advert_decode(const struct advert *a, struct advert_merge *merge,
		  struct advert_decoded *ret, struct parse_error *ret_err)
{
	struct match m;
	const struct family *f = find(a, &m);
	int r;

	if (!f)
		return -ENOENT;
	/* Each decoder leaves @ret->payload untouched on failure. */
	r = f->decode(a, &m, merge, ret, ret_err);
	if (r == 0)
		ret->family = f->family;
	return r;
}

bool advert_merge_flush(struct advert_merge *m, struct advert_decoded *ret)
{
	struct scale_weighing w;

	if (!eufy_c20_merge_flush(&m->c20, &w))
		return false;
	ret->family = ADVERT_FAMILY_EUFY_C20;
	weighing(ret, &w);
	return true;
}
