/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Satellite gateways (DESIGN §13), both ends, wired into the daemon.
 *
 * On a satellite ([gateway] role=satellite): every raw reading its
 * household files (the store's filed tap) is kept in memory and, every
 * SATELLITE_BATCH_MS or MQTT_SATELLITE_MAX_READINGS readings, written as
 * one message to the outbox for <base>/satellite/<name>/readings (QoS 1):
 * the outbox drains in order whenever the broker is there, so nothing is
 * lost while the link is down, and a crash loses at most what a crash
 * loses of a local batch (DESIGN §8).
 *
 * On the home gateway: <base>/satellite/+/readings and
 * <base>/satellite/+/status are subscribed; each reading is filed by its
 * natural key through household_file_remote (a message delivered twice
 * stores nothing twice) and analysed as a local one would be; the
 * satellites known, when each was last heard and how many of its readings
 * were filed go into the gateway's state (health.c).
 */

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "gateway/core/store.h"
#include "mqtt/payload.h"

struct daemon;

/* The batch a satellite writes at most this often. */
#define SATELLITE_BATCH_MS 2000

struct satellites;

/* The satellite or home end for @d (its config says which). Call after
 * the store, the household and the MQTT client exist, before the client
 * starts. FALSE with @error when a subscription cannot be added. */
struct satellites *satellites_new(struct daemon *d, GError **error);
/* Writes what a satellite still holds to the outbox; frees. NULL-safe. */
void satellites_free(struct satellites *s);

/* store_options.filed on a satellite: @data is the daemon. */
void satellites_filed(void *data, const struct store_reading *r, int64_t t_ms);

/* An inbound message: TRUE when it was a satellite's (handled here). */
bool satellites_message(struct satellites *s, const char *topic,
			const void *payload, size_t len, bool retained);

/* The satellites the home gateway knows, for its state: @ret points at
 * an array owned by @s, valid until the next call into @s. */
size_t satellites_list(struct satellites *s,
		       const struct mqtt_gateway_satellite **ret);
