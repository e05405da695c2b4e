/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "mqtt/client.h"
#include "gateway/core/store.h"

/*
 * The outbox callbacks of mqtt/client.h on a real store
 * (gateway/outbox.c, as the daemon wires them), with a row limit and the
 * other ops passed on. For the MQTT tests, the drain helper and the
 * benchmark.
 */
struct outbox_wiring {
	store *store;
	/* Rows yielded per outbox_pending call; 0: as many as asked. */
	unsigned max_rows;
	/* Where the remaining ops (connected, message, ...) go; may be
	 * NULL. */
	const struct mqtt_client_ops *chain;
	void *chain_data;
};

/* The ops for @w: outbox_pending and outbox_sent on w->store, the rest
 * forwarded to w->chain. */
void outbox_wiring_ops(struct mqtt_client_ops *ret);

/* Appends a QoS 1, not retained row; aborts the test on failure. */
int64_t outbox_wiring_add(store *s, const char *topic, const char *payload);

/* How many rows are still unsent. */
unsigned outbox_wiring_unsent(store *s);
