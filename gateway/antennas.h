/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "gateway/daemon.h"

/*
 * The daemon's remote antennas (DESIGN §13): [antennas] topics= subscribed
 * on the broker connection, each message read (gateway/core/antenna.h) into
 * advertisements and handed to the BLE client as if the adapter had heard
 * them (ble_client_take_advert()): the allowlist, the dispatcher and the
 * per-device de-duplication are the local radio's, so a weighing heard by
 * several antennas and the radio is one reading. A message that does not
 * read is dropped with a line in the log naming its topic and what was
 * wrong: the first at once, then at most one a minute with a count.
 */

/* Counters since start, for tests and the log. */
struct antennas_stats {
	uint64_t messages; /* antenna messages received */
	uint64_t adverts;  /* advertisements in them */
	uint64_t taken;	   /* of allowlisted advertisers, to the dispatcher */
	uint64_t foreign;  /* of devices not in the allowlist */
	uint64_t bad;	   /* messages dropped: they did not read */
	uint64_t retained; /* retained messages ignored */
};

/* Subscribes to the configured filters (none: nothing). */
bool antennas_start(struct daemon *d, GError **error);
/* After a reload: the filters of @d->config subscribed, those @old had
 * and the new one has not unsubscribed. */
void antennas_reload(struct daemon *d, const struct config *old);
/*
 * A broker message: TRUE when @topic is under one of the antenna filters
 * (then it was taken or dropped here), FALSE for anyone else's.
 */
bool antennas_message(struct daemon *d, const char *topic, const void *payload,
		      size_t len, bool retained);
void antennas_stop(struct daemon *d);
