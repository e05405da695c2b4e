// SPDX-License-Identifier: MIT
/*
 * recoveryctl scan and watch: what a person needs to set up the allowlist
 * and to check a device, over bluetoothd's D-Bus API (sensors/ble.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bluetooth/bluetooth.h>
#include <glib-unix.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "sensors/ble.h"
#include "gateway/ctl/ctl.h"
#include "gateway/core/decode-json.h"
#include "gateway/common/json-text.h"

/* bluetoothd answers within milliseconds; this is for a busy box. */
#define BLUEZ_ANSWER_MS 5000

static const char scan_usage[] =
    "usage: recoveryctl scan [--adapter hciN] [--seconds N]\n";
static const char watch_usage[] =
    "usage: recoveryctl watch ADDRESS [--adapter hciN] [--count N] "
    "[--seconds N] [--kind heart-rate|scale|mi-scale|bthome]\n";

static const char *kind_name(enum ble_device_kind kind)
{
	switch (kind) {
	case BLE_KIND_HEART_RATE:
		return "heart-rate";
	case BLE_KIND_SCALE:
		return "scale";
	case BLE_KIND_MISCALE:
		return "mi-scale";
	case BLE_KIND_BTHOME:
		return "bthome";
	case BLE_KIND_SCALE_AUTO:
		return "scale-auto";
	case BLE_KIND_SCALE_QN:
		return "qn-scale";
	default:
		return "?";
	}
}

/* What `scan` lists: every scale is a scale, its family says which. */
static const char *scan_kind_name(enum ble_device_kind kind)
{
	switch (kind) {
	case BLE_KIND_SCALE:
	case BLE_KIND_MISCALE:
	case BLE_KIND_SCALE_AUTO:
	case BLE_KIND_SCALE_QN:
		return "scale";
	case BLE_KIND_HEART_RATE:
	case BLE_KIND_BTHOME:
	default:
		return kind_name(kind);
	}
}

static bool kind_parse(const char *name, enum ble_device_kind *ret)
{
	static const enum ble_device_kind kinds[] = {
		BLE_KIND_HEART_RATE,
		BLE_KIND_SCALE,
		BLE_KIND_MISCALE,
		BLE_KIND_BTHOME,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (g_str_equal(name, kind_name(kinds[i]))) {
			*ret = kinds[i];
			return true;
		}
	}
	return false;
}

/* The decode keys of @p as compact JSON text. */
static char *payload_text(const struct decoded_payload *p, int64_t t_ms,
			  const char *address)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	if (address) {
		g_autoptr(GDateTime) t =
		    g_date_time_new_from_unix_local(t_ms / 1000);
		g_autofree char *base =
		    t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%S") : NULL;
		g_autofree char *offset =
		    t ? g_date_time_format(t, "%:z") : NULL;
		g_autofree char *time =
		    g_strdup_printf("%s.%03d%s", base ? base : "?",
				    (int)(t_ms % 1000), offset ? offset : "");

		json_builder_set_member_name(b, "time");
		json_builder_add_string_value(b, time);
		json_builder_set_member_name(b, "address");
		json_builder_add_string_value(b, address);
	}
	decode_json_add_members(b, p);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return json_text_from_node(root);
}

struct session {
	GMainLoop *loop;
	ble_client *client;
	guint deadline;
	bool quiet_logs;
};

static void on_log(void *data, GLogLevelFlags level, const char *message)
{
	struct session *s = data;

	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
		     G_LOG_LEVEL_WARNING) &&
	    !s->quiet_logs)
		fprintf(stderr, "recoveryctl: %s\n", message);
}

static gboolean on_signal(gpointer data)
{
	struct session *s = data;

	g_main_loop_quit(s->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_deadline(gpointer data)
{
	struct session *s = data;

	s->deadline = 0;
	g_main_loop_quit(s->loop);
	return G_SOURCE_REMOVE;
}

/* Runs the loop until a deadline (0: none), a signal or a quit. */
static void run(struct session *s, int seconds)
{
	guint sigint = g_unix_signal_add(SIGINT, on_signal, s);
	guint sigterm = g_unix_signal_add(SIGTERM, on_signal, s);

	if (seconds > 0)
		s->deadline =
		    g_timeout_add_seconds((guint)seconds, on_deadline, s);
	g_main_loop_run(s->loop);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	g_clear_handle_id(&s->deadline, g_source_remove);
}

/*
 * Waits until bluetoothd answers with a powered adapter. FALSE, with the
 * one-line advice printed, when it does not within BLUEZ_ANSWER_MS.
 */
static gboolean wait_for_bluez(struct session *s, const char *command)
{
	gint64 deadline = g_get_monotonic_time() + BLUEZ_ANSWER_MS * 1000;
	g_autoptr(GError) error = NULL;

	for (;;) {
		g_clear_error(&error);
		if (ble_client_check(s->client, &error))
			return TRUE;
		if (g_get_monotonic_time() > deadline)
			break;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(10 * 1000);
	}
	fprintf(stderr, "recoveryctl %s: %s\n", command, error->message);
	return FALSE;
}

static ble_client *client_new(struct session *s, const char *command,
			      const char *adapter, const struct ble_ops *ops)
{
	struct ble_client_config cfg = { .adapter = adapter };
	g_autoptr(GError) error = NULL;
	ble_client *c = ble_client_new(NULL, &cfg, ops, s, &error);

	if (!c)
		fprintf(stderr, "recoveryctl %s: %s\n", command,
			error->message);
	return c;
}

/* Lets replies to calls cancelled by ble_client_free() drain. */
static void client_free(ble_client *c)
{
	gint64 until = g_get_monotonic_time() + 200 * 1000;

	ble_client_free(c);
	while (g_get_monotonic_time() < until &&
	       g_main_context_iteration(NULL, FALSE))
		;
}

static bool valid_adapter(const char *adapter)
{
	if (!adapter)
		return true;
	if (!g_str_has_prefix(adapter, "hci") || !adapter[3])
		return false;
	for (const char *p = adapter + 3; *p; p++)
		if (!g_ascii_isdigit(*p))
			return false;
	return true;
}

/* --- scan ----------------------------------------------------------- */

struct heard_device {
	char *name;
	bool has_rssi;
	int rssi;
	enum ble_device_kind kind;
	const char *family; /* static, or NULL */
	bool allowlisted;
	char *last; /* decoded JSON, or NULL */
};

static void heard_device_free(gpointer p)
{
	struct heard_device *d = p;

	g_free(d->name);
	g_free(d->last);
	g_free(d);
}

struct scan {
	struct session s;
	GHashTable *heard; /* address -> struct heard_device */
};

static void on_heard(void *data, const struct ble_heard *h)
{
	struct scan *scan = data;
	struct heard_device *d = g_hash_table_lookup(scan->heard, h->address);

	if (!d) {
		d = g_new0(struct heard_device, 1);
		g_hash_table_insert(scan->heard, g_strdup(h->address), d);
	}
	if (h->name) {
		g_free(d->name);
		d->name = g_utf8_make_valid(h->name, -1);
	}
	if (h->has_rssi) {
		d->has_rssi = true;
		d->rssi = h->rssi;
	}
	d->kind = h->kind;
	/* A family decoded once stays named while the scale idles. */
	if (h->family || !d->family)
		d->family = h->family;
	d->allowlisted = h->allowlisted;
	if (h->payload) {
		g_free(d->last);
		d->last = payload_text(h->payload, 0, NULL);
	}
}

static gint by_rssi(gconstpointer a, gconstpointer b, gpointer data)
{
	GHashTable *heard = data;
	const struct heard_device *x = g_hash_table_lookup(heard, a);
	const struct heard_device *y = g_hash_table_lookup(heard, b);
	int rx = x->has_rssi ? x->rssi : -1000;
	int ry = y->has_rssi ? y->rssi : -1000;

	if (rx != ry)
		return ry - rx;
	return strcmp(a, b);
}

static const struct ctl_command scan_command = {
	.name = "scan",
	.usage = scan_usage,
	.summary =
	    "Lists nearby devices recoveryd can decode (heart-rate straps, "
	    "scales, Mi\n"
	    "scales, BTHome sensors) with their address, name, signal and "
	    "last\n"
	    "value, so you can copy an address into the configuration. "
	    "Needs no\n"
	    "configuration; never connects to anything.",
	.no_arguments = true,
};

int ctl_scan(int argc, char **argv)
{
	g_autofree char *adapter = NULL;
	gint seconds = 10;
	GOptionEntry entries[] = {
		{ "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter,
		  "the adapter (default: the first powered one)", "hciN" },
		{ "seconds", 0, 0, G_OPTION_ARG_INT, &seconds,
		  "how long to listen (default 10)", "N" },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GHashTable) heard = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, heard_device_free);
	g_autoptr(GList) addresses = NULL;
	struct scan scan = { .heard = heard };
	const struct ble_ops ops = { .heard = on_heard, .log = on_log };

	if (!ctl_parse_options(&scan_command, entries, &argc, &argv))
		return CTL_EXIT_USAGE;
	if (seconds < 1 || seconds > 3600)
		return ctl_usage_error("scan", scan_usage,
				       "--seconds must be 1-3600");
	if (!valid_adapter(adapter))
		return ctl_usage_error("scan", scan_usage,
				       "'%s' is not an adapter name like hci0",
				       adapter);

	scan.s.loop = g_main_loop_new(NULL, FALSE);
	scan.s.client = client_new(&scan.s, "scan", adapter, &ops);
	if (!scan.s.client) {
		g_main_loop_unref(scan.s.loop);
		return CTL_EXIT_FAILED;
	}
	if (!wait_for_bluez(&scan.s, "scan")) {
		client_free(scan.s.client);
		g_main_loop_unref(scan.s.loop);
		return CTL_EXIT_FAILED;
	}
	ble_client_set_scanning(scan.s.client, true);
	fprintf(stderr, "listening for %d s...\n", seconds);
	run(&scan.s, seconds);
	client_free(scan.s.client);
	g_main_loop_unref(scan.s.loop);

	if (g_hash_table_size(heard) == 0) {
		printf("no device recoveryd can decode was heard\n");
		return CTL_EXIT_OK;
	}
	printf("%-17s  %-20s  %4s  %-10s  %-12s  %s\n", "address", "name",
	       "rssi", "kind", "family", "last value");
	addresses =
	    g_list_sort_with_data(g_hash_table_get_keys(heard), by_rssi, heard);
	for (GList *l = addresses; l; l = l->next) {
		const struct heard_device *d =
		    g_hash_table_lookup(heard, l->data);
		char rssi[8] = "-";

		if (d->has_rssi)
			g_snprintf(rssi, sizeof(rssi), "%d", d->rssi);
		printf("%-17s  %-20.20s  %4s  %-10s  %-12s  %s%s\n",
		       (const char *)l->data, d->name ? d->name : "-", rssi,
		       scan_kind_name(d->kind), d->family ? d->family : "-",
		       d->last ? d->last : "-",
		       d->allowlisted ? "  (configured)" : "");
	}
	return CTL_EXIT_OK;
}

/* --- watch ---------------------------------------------------------- */

struct watch {
	struct session s;
	char address[18];
	bool kind_known;
	enum ble_device_kind kind;
	int count; /* 0: until interrupted */
	int printed;
	guint configure_idle;
};

static gboolean configure(gpointer data)
{
	struct watch *w = data;
	struct ble_device_config device = { .kind = w->kind };

	w->configure_idle = 0;
	g_strlcpy(device.address, w->address, sizeof(device.address));
	ble_client_set_devices(w->s.client, &device, 1);
	ble_client_set_scanning(w->s.client, false);
	return G_SOURCE_REMOVE;
}

static void on_watch_heard(void *data, const struct ble_heard *h)
{
	struct watch *w = data;

	/* The kind comes from the first advertisement; allowlisting it is
	 * deferred, since a callback may not change the allowlist. */
	if (w->kind_known || g_ascii_strcasecmp(h->address, w->address))
		return;
	w->kind = h->kind;
	w->kind_known = true;
	fprintf(stderr, "found %s (%s), %s...\n", w->address,
		kind_name(w->kind),
		w->kind == BLE_KIND_HEART_RATE || w->kind == BLE_KIND_SCALE
		    ? "connecting"
		    : "listening");
	w->configure_idle = g_idle_add(configure, w);
}

static void on_reading(void *data, const struct reading *r)
{
	struct watch *w = data;
	g_autofree char *text = NULL;

	if (w->count && w->printed >= w->count)
		return;
	text = payload_text(&r->payload, r->t_ms, r->address);
	printf("%s\n", text);
	fflush(stdout);
	/* --count counts measurements; what is read once per connection
	 * (battery, sensor location, scale features) is shown, not counted. */
	if (r->via != READING_VIA_READ && ++w->printed == w->count)
		g_main_loop_quit(w->s.loop);
}

static void on_link(void *data, const char *address, enum ble_link_state state,
		    const GError *reason)
{
	fprintf(stderr, "%s: %s%s%s\n", address, ble_link_state_name(state),
		reason ? ": " : "", reason ? reason->message : "");
}

static const struct ctl_command watch_command = {
	.name = "watch",
	.usage = watch_usage,
	.parameter_string = "ADDRESS",
	.summary = "Connects to a strap or scale (or listens to an advertiser) "
		   "and prints each\n"
		   "decoded reading as one JSON line: the keys of `recoveryctl "
		   "decode`, plus\n"
		   "time and address.",
};

int ctl_watch(int argc, char **argv)
{
	g_autofree char *adapter = NULL;
	g_autofree char *kind = NULL;
	gint count = 0, seconds = 0;
	GOptionEntry entries[] = {
		{ "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter,
		  "the adapter (default: the first powered one)", "hciN" },
		{ "count", 0, 0, G_OPTION_ARG_INT, &count,
		  "stop after N measurements (default: until Ctrl-C)", "N" },
		{ "seconds", 0, 0, G_OPTION_ARG_INT, &seconds,
		  "stop after N seconds (default: until Ctrl-C)", "N" },
		{ "kind", 0, 0, G_OPTION_ARG_STRING, &kind,
		  "what the device is (default: guessed from its "
		  "advertisement)",
		  "heart-rate|scale|mi-scale|bthome" },
		G_OPTION_ENTRY_NULL,
	};
	struct watch w = { 0 };
	const struct ble_ops ops = {
		.reading = on_reading,
		.link = on_link,
		.heard = on_watch_heard,
		.log = on_log,
	};

	if (!ctl_parse_options(&watch_command, entries, &argc, &argv))
		return CTL_EXIT_USAGE;
	if (argc != 2)
		return ctl_usage_error("watch", watch_usage,
				       "needs exactly one ADDRESS");
	/* libbluetooth's check: six hex pairs separated by colons. */
	if (strlen(argv[1]) != 17 || bachk(argv[1]) < 0)
		return ctl_usage_error("watch", watch_usage,
				       "'%s' is not a Bluetooth address like "
				       "C4:7C:8D:6A:12:34",
				       argv[1]);
	if (count < 0 || seconds < 0)
		return ctl_usage_error("watch", watch_usage,
				       "--count and --seconds take N >= 0");
	if (!valid_adapter(adapter))
		return ctl_usage_error("watch", watch_usage,
				       "'%s' is not an adapter name like hci0",
				       adapter);
	if (kind && !kind_parse(kind, &w.kind))
		return ctl_usage_error("watch", watch_usage,
				       "unknown --kind '%s'", kind);
	w.kind_known = kind != NULL;
	w.count = count;
	for (size_t i = 0; argv[1][i]; i++)
		w.address[i] = g_ascii_toupper(argv[1][i]);

	w.s.loop = g_main_loop_new(NULL, FALSE);
	w.s.client = client_new(&w.s, "watch", adapter, &ops);
	if (!w.s.client) {
		g_main_loop_unref(w.s.loop);
		return CTL_EXIT_FAILED;
	}
	if (!wait_for_bluez(&w.s, "watch")) {
		client_free(w.s.client);
		g_main_loop_unref(w.s.loop);
		return CTL_EXIT_FAILED;
	}
	if (w.kind_known) {
		configure(&w);
	} else {
		fprintf(stderr, "looking for %s...\n", w.address);
		ble_client_set_scanning(w.s.client, true);
	}
	run(&w.s, seconds);
	g_clear_handle_id(&w.configure_idle, g_source_remove);
	client_free(w.s.client);
	g_main_loop_unref(w.s.loop);

	if (w.count && w.printed < w.count) {
		fprintf(stderr,
			"recoveryctl watch: %d of %d readings from %s\n",
			w.printed, w.count, w.address);
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}
