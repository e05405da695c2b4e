// SPDX-License-Identifier: MIT
/*
 * A stand-in for the gateway in test-mqtt-client's kill test: opens the
 * store at --db, drains its outbox through mqtt/client.c to the broker at
 * 127.0.0.1:--port until it is killed (the test sends SIGKILL mid-drain)
 * or gets SIGTERM (then it says goodbye: stop, store closed).
 *
 *   mqtt-drain-helper --db PATH --port N [--client-id ID] [--pace-ms N]
 *                     [--max-inflight N]
 *
 * --pace-ms hands the client one row per N ms, so the test can kill it in
 * the middle of a 500-row drain rather than after it. The store is opened
 * with default options and ticked every second, as the daemon does.
 *
 * Exit status: 0 after SIGTERM, 2 on bad arguments, 3 on a setup failure.
 * It dies by itself after 120 s (alarm) if the test forgets it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "mqtt/client.h"
#include "tests/integration/outbox-wiring.h"
#include "gateway/core/store.h"

#define LIFETIME_S 120

struct helper {
	struct outbox_wiring wiring;
	mqtt_client *client;
	GMainLoop *loop;
	unsigned pace_ms;
	int64_t next_row_us; /* when the next row may be handed over */
	GSource *pace_timer;
};

static gboolean pace_cb(gpointer data)
{
	struct helper *h = data;

	g_clear_pointer(&h->pace_timer, g_source_unref);
	mqtt_client_outbox_changed(h->client);
	return G_SOURCE_REMOVE;
}

static gboolean paced_pending(void *data, int64_t after_id, unsigned limit,
			      GPtrArray *ret, GError **error)
{
	struct helper *h = data;
	struct mqtt_client_ops ops;
	int64_t now = g_get_monotonic_time();

	outbox_wiring_ops(&ops);
	if (!h->pace_ms)
		return ops.outbox_pending(&h->wiring, after_id, limit, ret,
					  error);
	if (now < h->next_row_us) {
		/* Nothing yet; ask the client to look again then. */
		if (!h->pace_timer) {
			h->pace_timer = g_timeout_source_new(
			    (guint)((h->next_row_us - now) / 1000 + 1));
			g_source_set_callback(h->pace_timer, pace_cb, h, NULL);
			g_source_attach(h->pace_timer, NULL);
		}
		return TRUE;
	}
	h->next_row_us = now + (int64_t)h->pace_ms * 1000;
	return ops.outbox_pending(&h->wiring, after_id, 1, ret, error);
}

static gboolean sent(void *data, int64_t id, GError **error)
{
	struct helper *h = data;
	struct mqtt_client_ops ops;

	outbox_wiring_ops(&ops);
	return ops.outbox_sent(&h->wiring, id, error);
}

static void log_line(void *data, GLogLevelFlags level, const char *text)
{
	if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
		fprintf(stderr, "mqtt-drain-helper: %s\n", text);
}

static void disconnected(void *data, const GError *reason)
{
	if (reason)
		fprintf(stderr, "mqtt-drain-helper: disconnected: %s\n",
			reason->message);
}

static gboolean on_term(gpointer data)
{
	struct helper *h = data;

	g_main_loop_quit(h->loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_tick(gpointer data)
{
	struct helper *h = data;
	g_autoptr(GError) error = NULL;

	if (!store_tick(h->wiring.store, &error))
		fprintf(stderr, "mqtt-drain-helper: store_tick: %s\n",
			error->message);
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	g_autofree char *db = NULL, *client_id = NULL;
	int port = 0, pace_ms = 0, max_inflight = 0;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "store", "PATH" },
		{ "port", 0, 0, G_OPTION_ARG_INT, &port, "broker port", "N" },
		{ "client-id", 0, 0, G_OPTION_ARG_STRING, &client_id,
		  "MQTT client id", "ID" },
		{ "pace-ms", 0, 0, G_OPTION_ARG_INT, &pace_ms,
		  "one row per N ms", "N" },
		{ "max-inflight", 0, 0, G_OPTION_ARG_INT, &max_inflight,
		  "QoS 1 awaiting PUBACK", "N" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) octx = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	struct helper h = { 0 };
	struct mqtt_client_ops ops = {
		.outbox_pending = paced_pending,
		.outbox_sent = sent,
		.disconnected = disconnected,
		.log = log_line,
	};
	struct mqtt_client_config cfg = { .host = "127.0.0.1" };

	alarm(LIFETIME_S);
	signal(SIGPIPE, SIG_IGN);
	g_option_context_add_main_entries(octx, entries, NULL);
	if (!g_option_context_parse(octx, &argc, &argv, &error) || !db ||
	    port <= 0 || pace_ms < 0 || max_inflight < 0) {
		fprintf(stderr, "mqtt-drain-helper: %s\n",
			error ? error->message : "--db and --port needed");
		return 2;
	}

	h.wiring.store = store_open(db, NULL, &error);
	if (!h.wiring.store) {
		fprintf(stderr, "mqtt-drain-helper: %s\n", error->message);
		return 3;
	}
	h.pace_ms = (unsigned)pace_ms;
	cfg.port = port;
	cfg.client_id = client_id ? client_id : "mqtt-drain-helper";
	cfg.max_inflight = (unsigned)max_inflight;
	cfg.reconnect_min_ms = 100;
	cfg.reconnect_max_ms = 1000;
	h.client = mqtt_client_new(&cfg, &ops, &h, &error);
	if (!h.client || !mqtt_client_start(h.client, &error)) {
		fprintf(stderr, "mqtt-drain-helper: %s\n", error->message);
		mqtt_client_free(h.client);
		store_close(h.wiring.store);
		return 3;
	}

	h.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_term, &h);
	g_timeout_add_seconds(1, on_tick, &h);
	g_main_loop_run(h.loop);

	mqtt_client_stop(h.client);
	mqtt_client_free(h.client);
	if (h.pace_timer) {
		g_source_destroy(h.pace_timer);
		g_source_unref(h.pace_timer);
	}
	store_close(h.wiring.store);
	g_main_loop_unref(h.loop);
	return 0;
}
