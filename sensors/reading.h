/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * struct reading: the one thing sensors/ hands to the rest of the daemon
 * (DESIGN §2). Plain C, no GLib, so pure code may take it as it is.
 */

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
