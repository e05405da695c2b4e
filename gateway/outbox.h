/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "mqtt/client.h"
#include "gateway/core/store.h"

/*
 * The MQTT client's outbox callbacks (mqtt/client.h) on the store: the one
 * place where outbox rows become messages to publish. The daemon wires it;
 * the MQTT tests and benchmarks use it too.
 */

/* Up to @limit unsent rows of @s after @after_id, as struct mqtt_message *
 * appended to @ret (the shape of mqtt_client_ops.outbox_pending). */
gboolean outbox_pending_messages(store *s, int64_t after_id, unsigned limit,
				 GPtrArray *ret, GError **error);
