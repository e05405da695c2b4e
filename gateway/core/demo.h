/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include <glib.h>

#include "gateway/core/scenario.h"

/*
 * Demo mode's household (scenario.h, scenario_demo_story(): four people)
 * as the bytes its devices would send:
 * each person's strap sends Heart Rate Measurements (0x2A37, heart rate,
 * skin contact and the RR intervals of that second): Alice's, Bob's and
 * Carol's all night, Dora's only for her morning spot check
 * (SCENARIO_STORY_SPOT); all four for their training; each bed sensor BTHome
 * v2 service data (occupancy, and motion in the first bedroom), the shared
 * scale Mi Body Composition Scale 2 service data (0x181B). The daemon
 * decodes these with the real decoders, as if they came over the air.
 * Check-ins come as values: in real life they arrive over MQTT.
 */

/* A strap and a bed sensor per person (DEMO_STRAP_0 + person, DEMO_BED_0
 * + person), one scale they share. */
enum demo_device {
	DEMO_STRAP_0,
	DEMO_STRAP_1,
	DEMO_STRAP_2,
	DEMO_STRAP_3,
	DEMO_BED_0,
	DEMO_BED_1,
	DEMO_BED_2,
	DEMO_BED_3,
	DEMO_SCALE,
	DEMO_DEVICE_COUNT,
};

/* The address of each demo device ("D0:E3:00:00:00:01", ...). */
const char *demo_device_address(enum demo_device device);

/* The demo's people (scenario_demo_story()), "alice", "bob", "carol" and
 * "dora", with display names. */
const char *demo_person_name(int person);
const char *demo_person_display_name(int person);

enum demo_packet_kind {
	DEMO_PACKET_BYTES,   /* @bytes as @uuid sends them */
	DEMO_PACKET_CHECKIN, /* a morning check-in of @person */
};

struct demo_packet {
	int64_t t_ms;
	uint16_t uuid;	/* enum decode_uuid */
	uint8_t kind;	/* enum demo_packet_kind */
	uint8_t device; /* enum demo_device; the person for a check-in */
	uint8_t len;
	uint8_t bytes[15];
	/* DEMO_PACKET_CHECKIN: mood, soreness, energy */
};

/*
 * Appends to @ret (struct demo_packet) everything the household sends on
 * day index @index of @sc (scenario_emit_demo_day), sorted by time.
 */
void demo_day_packets(const struct scenario *sc, int index, GArray *ret);

/* How many packets of a day fall in each DEMO_COUNT_BUCKET_MS from
 * origin_ms: the first bucket also counts those before, the last those
 * after. 48 hours: a day's packets start the evening before its morning. */
#define DEMO_COUNT_BUCKET_MS (10 * 60 * 1000)
#define DEMO_COUNT_BUCKETS   (48 * 6)
struct demo_day_counts {
	int64_t origin_ms; /* set by the caller */
	int64_t last_ms;   /* the day's last packet (INT64_MIN: none) */
	guint32 n[DEMO_COUNT_BUCKETS];
};

/*
 * As demo_day_packets, only those at @from_ms <= t_ms < @to_ms, in the same
 * order (the day is generated whole each time: a piece costs as much CPU
 * as the day, and only its own memory). @counts (if not NULL, origin_ms
 * set) gets every packet of the day counted, in the piece or not.
 */
void demo_day_packets_between(const struct scenario *sc, int index,
			      int64_t from_ms, int64_t to_ms, GArray *ret,
			      struct demo_day_counts *counts);

/* Orders packets by time, for g_array_sort (a stable sort in GLib). */
gint demo_packet_by_time(gconstpointer a, gconstpointer b);

/* The check-in values of a DEMO_PACKET_CHECKIN packet. */
void demo_packet_checkin(const struct demo_packet *p, double *ret_mood,
			 double *ret_soreness, double *ret_energy);
