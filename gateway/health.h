/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "gateway/daemon.h"

/*
 * How the daemon is doing, told: the database's health (a write failing
 * for the disk's sake is logged at once with its cause, then once a
 * minute, and once more when writes work again; the held readings are
 * retried on the store's backoff), other database failures (the first at
 * once, then at most once a minute with a count), the gateway's state
 * (retained on <base>/gateway, DESIGN §7), the devices' last known state in
 * the database (for `recoveryctl status`), and damaged rows (logged once,
 * nights and results computed again from the readings).
 */

struct health;

struct health *health_new(void);
/* Removes its timers. NULL-safe. */
void health_free(struct health *h);

/* store_options.health_changed: @data is the daemon. */
void health_store_changed(void *data);

/* Every store tick (10 s): reminders, retries, device rows, damaged rows,
 * the status line and the gateway state. */
void health_tick(struct daemon *d);

/* A database operation @what failed (not the disk: that is the store's
 * health): the first at once, then at most once a minute, counted. */
void health_op_failed(struct daemon *d, const char *what, const GError *error);

/* For the STATUS line: "database disk full, 312 readings held", or NULL
 * while the database is fine. */
char *health_status_text(struct daemon *d);

/*
 * The gateway's state, retained on <base>/gateway: published when it
 * changed, at most every 30 s unless @urgent (the storage or the clock
 * changed, the broker is back).
 */
void health_publish_gateway(struct daemon *d, bool urgent);

/* The household was replaced (a reload): device rows are written anew. */
void health_devices_reset(struct daemon *d);

/* Damaged rows the store found: logged once, nights and results computed
 * again from the raw readings (while the database can be written). */
void health_repair(struct daemon *d);
