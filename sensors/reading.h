/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * struct reading: the one thing sensors/ hands to the rest of the daemon
 * (DESIGN §2). Plain C, no GLib, so pure code may take it as it is.
 */

#include <stdbool.h>
#include <stdint.h>

#include "sensors/decode.h"

/* How the value reached us. */
enum reading_via {
	READING_VIA_NOTIFICATION,  /* GATT notification or indication */
	READING_VIA_READ,	   /* GATT read (battery, location, feature) */
	READING_VIA_ADVERTISEMENT, /* service data in an advertisement */
};

/*
 * One decoded value from one allowlisted device.
 *
 * Lifetime: a reading is passed by pointer to a callback and lives only for
 * that call. Everything in it is a copy except the BTHome objects' borrowed
 * views (payload.u.bthome.objects[i].bytes: TEXT, RAW and command arguments),
 * which point into the advertisement's bytes and are valid only during the
 * callback: copy them if you keep them.
 *
 * A body composition measurement sent as two packets (BCS 1.0, Multiple
 * Packet Measurement) arrives as one reading with both halves merged.
 */
struct reading {
	char address[18]; /* "AA:BB:CC:DD:EE:FF", upper case, NUL-terminated */
	int64_t t_ms;	  /* receive time: wall clock, ms since the epoch, from
			     the client's now() */
	enum reading_via via;
	struct decoded_payload payload; /* payload.uuid says which union arm */
};

/*
 * What a reading measured, whatever format carried it, so that ingest files
 * readings by kind and a new device family adds a decoder, not a case.
 */
enum reading_kind {
	READING_NOTHING,    /* nothing to file: sensor location, features */
	READING_HEART_RATE, /* payload.u.heart_rate */
	READING_BATTERY,    /* payload.u.battery_pct */
	READING_WEIGHING,   /* a scale's: see reading_weighing() */
	READING_SENSOR,	    /* payload.u.bthome: occupancy, motion, the
			       room's temperature and air, battery */
};

enum reading_kind reading_kind(const struct decoded_payload *p);

/*
 * One weighing, from any scale: the Weight Scale and Body Composition
 * Services, the Mi scales and the vendor families.
 */
struct reading_weighing {
	double weight_kg;
	/* A measurement; otherwise a live value while the scale settles, for
	 * a display only. */
	bool final;
	int scale_user;	      /* as the scale numbers its users; 0: unknown */
	double body_fat_pct;  /* NAN: not measured */
	double impedance_ohm; /* NAN: not measured */
	/*
	 * A scale repeats one weighing, or sends it in parts (a standard
	 * scale's weight, then its body composition; a Mi scale's frame
	 * without, then with impedance): a weighing within @same_within_ms of
	 * one with the same @repeat_key and a weight within 0.05 kg is the
	 * same one.
	 */
	int64_t same_within_ms;
	uint64_t repeat_key;
};

/* Weights closer than this are one weight (WSS and BCS resolutions). */
#define READING_SAME_WEIGHT_KG 0.05

/*
 * Fills @ret from a READING_WEIGHING payload. Returns FALSE, @ret
 * untouched, when the payload holds no weighing: another kind, a measurement
 * the scale marked unsuccessful, a body composition without its weight, a
 * Mi scale frame that is no measurement (settling, load removed).
 */
bool reading_weighing(const struct decoded_payload *p,
		      struct reading_weighing *ret);
