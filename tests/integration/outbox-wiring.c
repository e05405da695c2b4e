// SPDX-License-Identifier: MIT
#include "tests/integration/outbox-wiring.h"

#include "gateway/outbox.h"

#include <string.h>

static gboolean pending(void *data, int64_t after_id, unsigned limit,
			GPtrArray *ret, GError **error)
{
	struct outbox_wiring *w = data;

	if (w->max_rows)
		limit = MIN(limit, w->max_rows);
	return outbox_pending_messages(w->store, after_id, limit, ret, error);
}

static gboolean sent(void *data, int64_t id, GError **error)
{
	struct outbox_wiring *w = data;

	return store_outbox_mark_sent(
	    w->store, id, g_get_real_time() / G_TIME_SPAN_MILLISECOND, error);
}

static void connected(void *data)
{
	struct outbox_wiring *w = data;

	if (w->chain && w->chain->connected)
		w->chain->connected(w->chain_data);
}

static void disconnected(void *data, const GError *reason)
{
	struct outbox_wiring *w = data;

	if (w->chain && w->chain->disconnected)
		w->chain->disconnected(w->chain_data, reason);
}

static void message(void *data, const char *topic, const void *payload,
		    size_t len, bool retained)
{
	struct outbox_wiring *w = data;

	if (w->chain && w->chain->message)
		w->chain->message(w->chain_data, topic, payload, len, retained);
}

static void log_line(void *data, GLogLevelFlags level, const char *text)
{
	struct outbox_wiring *w = data;

	if (w->chain && w->chain->log)
		w->chain->log(w->chain_data, level, text);
}

void outbox_wiring_ops(struct mqtt_client_ops *ret)
{
	*ret = (struct mqtt_client_ops){
		.outbox_pending = pending,
		.outbox_sent = sent,
		.connected = connected,
		.disconnected = disconnected,
		.message = message,
		.log = log_line,
	};
}

int64_t outbox_wiring_add(store *s, const char *topic, const char *payload)
{
	g_autoptr(GError) error = NULL;
	int64_t id = 0;

	if (!store_outbox_add(s, topic, payload, strlen(payload), 1, false,
			      g_get_real_time() / G_TIME_SPAN_MILLISECOND, &id,
			      &error))
		g_error("store_outbox_add: %s", error->message);
	return id;
}

unsigned outbox_wiring_unsent(store *s)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	unsigned n = 0;
	int64_t after = 0;

	for (;;) {
		g_ptr_array_set_size(rows, 0);
		if (!store_outbox_pending(s, after, 1000, rows, &error))
			g_error("store_outbox_pending: %s", error->message);
		if (rows->len == 0)
			return n;
		n += rows->len;
		after = ((const struct store_outbox_row *)
			     rows->pdata[rows->len - 1])
			    ->id;
	}
}
