// SPDX-License-Identifier: MIT
#include "gateway/core/demo.h"

#include <math.h>
#include <string.h>

#include "sensors/decode.h"

static const char *const addresses[DEMO_DEVICE_COUNT] = {
	[DEMO_STRAP_0] = "D0:E3:00:00:00:01",
	[DEMO_STRAP_1] = "D0:E3:00:00:00:02",
	[DEMO_STRAP_2] = "D0:E3:00:00:00:03",
	[DEMO_STRAP_3] = "D0:E3:00:00:00:04",
	[DEMO_BED_0] = "D0:E3:00:00:01:01",
	[DEMO_BED_1] = "D0:E3:00:00:01:02",
	[DEMO_BED_2] = "D0:E3:00:00:01:03",
	[DEMO_BED_3] = "D0:E3:00:00:01:04",
	[DEMO_SCALE] = "D0:E3:00:00:02:01",
};

const char *demo_device_address(enum demo_device device)
{
	return (unsigned)device < DEMO_DEVICE_COUNT ? addresses[device] : NULL;
}

static const char *const names[SCENARIO_DEMO_PEOPLE][2] = {
	{ "alice", "Alice" },
	{ "bob", "Bob" },
	{ "carol", "Carol" },
	{ "dora", "Dora" },
};

const char *demo_person_name(int person)
{
	return (unsigned)person < SCENARIO_DEMO_PEOPLE ? names[person][0]
						       : NULL;
}

const char *demo_person_display_name(int person)
{
	return (unsigned)person < SCENARIO_DEMO_PEOPLE ? names[person][1]
						       : NULL;
}

/* HRM flags: u8 heart rate, contact supported and detected, RR present. */
#define HRM_FLAGS	 0x16
#define HRM_MAX_RR	 6
#define BTHOME_V2	 0x40 /* device info: version 2, plain, regular */
#define BTHOME_PACKET_ID 0x00
#define BTHOME_MOTION	 0x21
#define BTHOME_OCCUPANCY 0x23
/* Mi Scale v2 control: impedance valid, stabilised, kg. */
#define MISCALE_V2_CONTROL 0x2202

struct pending_rr {
	int64_t t_ms;
	double rr_ms;
};

struct collect {
	GArray *out;
	/* Only packets at from_ms <= t_ms < to_ms go to @out; the others
	 * are written to @discard. */
	int64_t from_ms, to_ms;
	struct demo_day_counts *counts; /* NULL: not counted */
	struct demo_packet discard;
	/* RR intervals of each person since their last heart rate. */
	GArray *rr[SCENARIO_DEMO_PEOPLE];
	uint8_t bthome_packet_id[SCENARIO_DEMO_PEOPLE];
};

static struct demo_packet *add(struct collect *c, int64_t t_ms,
			       enum demo_device device, uint16_t uuid)
{
	struct demo_packet p = {
		.t_ms = t_ms,
		.uuid = uuid,
		.kind = DEMO_PACKET_BYTES,
		.device = (uint8_t)device,
	};

	if (c->counts) {
		int64_t b =
		    (t_ms - c->counts->origin_ms) / DEMO_COUNT_BUCKET_MS;

		c->counts->n[CLAMP(b, 0, DEMO_COUNT_BUCKETS - 1)]++;
		c->counts->last_ms = MAX(c->counts->last_ms, t_ms);
	}
	if (t_ms < c->from_ms || t_ms >= c->to_ms) {
		c->discard = p;
		return &c->discard;
	}
	g_array_append_val(c->out, p);
	return &g_array_index(c->out, struct demo_packet, c->out->len - 1);
}

static void put_le16(struct demo_packet *p, unsigned value)
{
	p->bytes[p->len++] = (uint8_t)(value & 0xff);
	p->bytes[p->len++] = (uint8_t)(value >> 8);
}

static void on_rr(void *data, int person, int64_t t_ms, double rr_ms)
{
	struct collect *c = data;
	struct pending_rr r = { t_ms, rr_ms };

	g_array_append_val(c->rr[person], r);
}

/* One notification per heart rate (a strap sends one a second) with the
 * RR intervals that ended since the previous one, oldest first. */
static void on_hr(void *data, int person, int64_t t_ms, double bpm)
{
	struct collect *c = data;
	GArray *rr = c->rr[person];
	unsigned used = 0;

	do {
		struct demo_packet *p =
		    add(c, t_ms, DEMO_STRAP_0 + person, DECODE_UUID_HEART_RATE);

		p->bytes[p->len++] = HRM_FLAGS;
		p->bytes[p->len++] = (uint8_t)CLAMP(lround(bpm), 30, 255);
		for (unsigned n = 0; n < HRM_MAX_RR && used < rr->len; n++) {
			double ms =
			    g_array_index(rr, struct pending_rr, used++).rr_ms;

			put_le16(p, (unsigned)lround(ms * 1024.0 / 1000.0));
		}
	} while (used < rr->len);
	g_array_set_size(rr, 0);
}

static void bthome(struct collect *c, int person, int64_t t_ms, uint8_t object,
		   bool on)
{
	struct demo_packet *p =
	    add(c, t_ms, DEMO_BED_0 + person, DECODE_UUID_BTHOME);

	p->bytes[p->len++] = BTHOME_V2;
	p->bytes[p->len++] = BTHOME_PACKET_ID;
	p->bytes[p->len++] = ++c->bthome_packet_id[person];
	p->bytes[p->len++] = object;
	p->bytes[p->len++] = on ? 1 : 0;
}

static void on_bed(void *data, int person, int64_t t_ms, bool occupied)
{
	bthome(data, person, t_ms, BTHOME_OCCUPANCY, occupied);
}

/* The scenario's motion sensor sits in the first bedroom: the demo makes it
 * part of that bed sensor's frames. */
static void on_motion(void *data, int person, int64_t t_ms, bool moving)
{
	bthome(data, person, t_ms, BTHOME_MOTION, moving);
}

static void on_weight(void *data, int person, int scale_user, int64_t t_ms,
		      double weight_kg, double body_fat_pct)
{
	struct collect *c = data;
	struct demo_packet *p =
	    add(c, t_ms, DEMO_SCALE, DECODE_UUID_MISCALE_V2);
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t_ms / 1000);
	/* A plausible impedance: lower with more lean mass. */
	double impedance = 400.0 + 8.0 * (body_fat_pct - 20.0);

	put_le16(p, MISCALE_V2_CONTROL);
	put_le16(p, (unsigned)g_date_time_get_year(utc));
	p->bytes[p->len++] = (uint8_t)g_date_time_get_month(utc);
	p->bytes[p->len++] = (uint8_t)g_date_time_get_day_of_month(utc);
	p->bytes[p->len++] = (uint8_t)g_date_time_get_hour(utc);
	p->bytes[p->len++] = (uint8_t)g_date_time_get_minute(utc);
	p->bytes[p->len++] = (uint8_t)g_date_time_get_second(utc);
	put_le16(p, (unsigned)lround(impedance));
	put_le16(p, (unsigned)lround(weight_kg * 200.0));
}

static void on_checkin(void *data, int person, int64_t t_ms, double mood,
		       double soreness, double energy)
{
	struct collect *c = data;
	struct demo_packet *p = add(c, t_ms, (enum demo_device)person, 0);

	p->kind = DEMO_PACKET_CHECKIN;
	p->bytes[0] = (uint8_t)CLAMP(lround(mood), 1, 5);
	p->bytes[1] = (uint8_t)CLAMP(lround(soreness), 1, 5);
	p->bytes[2] = (uint8_t)CLAMP(lround(energy), 1, 5);
	p->len = 3;
}

void demo_packet_checkin(const struct demo_packet *p, double *ret_mood,
			 double *ret_soreness, double *ret_energy)
{
	*ret_mood = p->bytes[0];
	*ret_soreness = p->bytes[1];
	*ret_energy = p->bytes[2];
}

gint demo_packet_by_time(gconstpointer a, gconstpointer b)
{
	const struct demo_packet *pa = a, *pb = b;

	return (pa->t_ms > pb->t_ms) - (pa->t_ms < pb->t_ms);
}

static gint by_time(gconstpointer a, gconstpointer b, gpointer unused)
{
	return demo_packet_by_time(a, b);
}

void demo_day_packets(const struct scenario *sc, int index, GArray *ret)
{
	demo_day_packets_between(sc, index, INT64_MIN, INT64_MAX, ret, NULL);
}

void demo_day_packets_between(const struct scenario *sc, int index,
			      int64_t from_ms, int64_t to_ms, GArray *ret,
			      struct demo_day_counts *counts)
{
	static const struct scenario_sink sink = {
		.rr = on_rr,
		.hr = on_hr,
		.bed = on_bed,
		.motion = on_motion,
		.weight = on_weight,
		.checkin = on_checkin,
	};
	struct collect c = {
		.out = ret,
		.from_ms = from_ms,
		.to_ms = to_ms,
		.counts = counts,
	};
	guint first = ret->len;

	if (counts) {
		memset(counts->n, 0, sizeof(counts->n));
		counts->last_ms = INT64_MIN;
	}

	for (int i = 0; i < SCENARIO_DEMO_PEOPLE; i++)
		c.rr[i] = g_array_new(FALSE, FALSE, sizeof(struct pending_rr));
	scenario_emit_demo_day(sc, index, &sink, &c);
	for (int i = 0; i < SCENARIO_DEMO_PEOPLE; i++)
		g_array_free(c.rr[i], TRUE);
	/* g_qsort_with_data is a stable sort: packets of one instant keep
	 * their order. */
	if (ret->len > first)
		g_qsort_with_data(
		    &g_array_index(ret, struct demo_packet, first),
		    (gint)(ret->len - first), sizeof(struct demo_packet),
		    by_time, NULL);
}
