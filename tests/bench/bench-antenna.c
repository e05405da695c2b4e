// SPDX-License-Identifier: MIT
/*
 * Antenna messages one gateway can take (DESIGN §13): run on demand, not a
 * test.
 *
 *   build/tests/bench/bench-antenna [messages]
 *
 * For each format a remote antenna publishes (reference/antennas.md), a
 * stream of @messages (default 20,000) BTHome bed frames, each a new packet
 * (packet id counting up, occupancy toggling), so that every one is filed:
 *
 *   floor   reading the text at all: json-glib's parse of the message (hex
 *           to bytes for the bare ESPHome packet)
 *   parse   antenna_parse(): the message to struct advert
 *   full    what the daemon does with it: antenna_parse(), the BLE client's
 *           ble_client_take_advert() (allowlist, dispatcher,
 *           de-duplication) on a private bus without bluetoothd, the
 *           household's ingest into a real store file (default batching,
 *           store_tick every 1,000 messages, as the daemon's timer would
 *           at 1,000 messages a second)
 *
 * and the same OpenMQTTGateway stream from a neighbour's device, which the
 * allowlist drops. CPU time of this process (CLOCK_PROCESS_CPUTIME_ID),
 * the median of 5 rounds after a warm-up. The ratios are what to read
 * (parse/floor: what the format reading adds to a JSON parse; full/parse:
 * what dispatch and filing add): absolute rates drift from machine to
 * machine. The budget line sets the mixed rate against a busy home: four
 * antennas relaying 25 advertisements a second each (100 messages/s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gateway/core/antenna.h"
#include "gateway/core/config.h"
#include "gateway/core/household.h"
#include "gateway/core/store.h"
#include "sensors/ble.h"
#include "sensors/decode.h"

#define BED	     "A4:C1:38:5E:00:02"
#define NEIGHBOUR    "A4:C1:38:5E:00:99"
#define ROUNDS	     5
#define TICK_EVERY   1000
#define BUDGET_MSG_S 100.0

enum format { OMG, THEENGS, ESPHOME, ESPHOME_BARE, SHELLY, FOREIGN, FORMATS };

static const char *const format_names[FORMATS] = {
	"OpenMQTTGateway JSON",	    "Theengs Gateway JSON",
	"ESPHome {\"packet\"} hex", "ESPHome bare hex",
	"Shelly NotifyEvent b64",   "OMG, a neighbour (dropped)",
};

struct bench {
	household *household;
	store *store;
	struct config *config;
	ble_client *client;
	struct antenna_message *msg;
	uint64_t filed;
	uint64_t failures;
};

static void die(const char *what, const GError *error)
{
	fprintf(stderr, "bench-antenna: %s: %s\n", what,
		error ? error->message : "failed");
	exit(1);
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* BTHome v2, unencrypted: packet id @i, occupancy @i & 1. */
static void frame(unsigned i, uint8_t ret[5])
{
	ret[0] = 0x40;
	ret[1] = 0x00;
	ret[2] = (uint8_t)i;
	ret[3] = 0x23;
	ret[4] = (uint8_t)(i & 1);
}

static char *message(enum format f, unsigned i)
{
	uint8_t b[5], ad[12] = { 0x02, 0x01, 0x06, 0x08, 0x16, 0xD2, 0xFC };
	g_autofree char *b64 = NULL;
	char hex[11];

	frame(i, b);
	snprintf(hex, sizeof(hex), "%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4]);
	memcpy(ad + 7, b, sizeof(b));
	switch (f) {
	case OMG:
	case FOREIGN:
		return g_strdup_printf(
		    "{\"id\":\"%s\",\"mac_type\":0,\"adv_type\":0,\"rssi\":-71,"
		    "\"servicedata\":\"%s\",\"servicedatauuid\":\"0xfcd2\"}",
		    f == OMG ? BED : NEIGHBOUR, hex);
	case THEENGS:
		return g_strdup_printf(
		    "{\"servicedata\":\"%s\",\"servicedatauuid\":\"fcd2\","
		    "\"id\":\"%s\",\"rssi\":-64,\"brand\":\"BTHome\","
		    "\"model\":\"BTHome v2\",\"type\":\"BTHOME\","
		    "\"packet\":%u,\"occupancy\":%s}",
		    hex, BED, i & 0xff, i & 1 ? "true" : "false");
	case ESPHOME:
	case ESPHOME_BARE:
		return g_strdup_printf("%s043E18020100000200"
				       "5E38C1A40C0201060816D2FC%s"
				       "C4%s",
				       f == ESPHOME ? "{\"packet\":\"" : "",
				       hex, f == ESPHOME ? "\"}" : "");
	case SHELLY:
		b64 = g_base64_encode(ad, sizeof(ad));
		return g_strdup_printf(
		    "{\"src\":\"shellyplus1pm-a8032ab12345\",\"dst\":"
		    "\"shellyplus1pm-a8032ab12345/events\",\"method\":"
		    "\"NotifyEvent\",\"params\":{\"ts\":1733476800.12,"
		    "\"events\":[{\"component\":\"script:1\",\"id\":1,"
		    "\"event\":"
		    "\"ble.scan_result\",\"data\":[2,[[\"a4:c1:38:5e:00:02\","
		    "-61,\"%s\",\"\"]]],\"ts\":1733476800.12}]}}",
		    b64);
	case FORMATS:
	default:
		return NULL;
	}
}

static void on_reading(void *data, const struct reading *r)
{
	struct bench *b = data;
	g_autoptr(GError) error = NULL;

	if (!household_ingest(b->household, r, g_get_monotonic_time() / 1000,
			      &error))
		b->failures++;
	b->filed++;
}

static void on_log(void *data, GLogLevelFlags level, const char *message)
{
	(void)data;
	(void)level;
	(void)message;
}

static void floor_one(enum format f, const char *text)
{
	if (f == ESPHOME_BARE) {
		uint8_t buf[64];
		size_t len;

		if (decode_hex(text, buf, sizeof(buf), &len, NULL) < 0)
			die("floor: hex", NULL);
	} else {
		g_autoptr(JsonParser) p = json_parser_new_immutable();

		if (!json_parser_load_from_data(p, text, -1, NULL))
			die("floor: json", NULL);
	}
}

static void full_one(struct bench *b, const char *text, unsigned i)
{
	if (antenna_parse(text, strlen(text), b->msg, NULL) < 0)
		die("full: a message did not read", NULL);
	for (size_t k = 0; k < b->msg->count; k++)
		ble_client_take_advert(b->client, &b->msg->adverts[k]);
	if (i % TICK_EVERY == TICK_EVERY - 1 && !store_tick(b->store, NULL))
		b->failures++;
}

enum stage { STAGE_FLOOR, STAGE_PARSE, STAGE_FULL, STAGES };

/* Messages a second over @n messages of format @f at @stage. */
static double rate(struct bench *b, enum format f, enum stage stage,
		   char **texts, unsigned n)
{
	double rounds[ROUNDS];

	for (int round = -1; round < ROUNDS; round++) {
		double start = cpu_s();

		for (unsigned i = 0; i < n; i++) {
			switch (stage) {
			case STAGE_FLOOR:
				floor_one(f, texts[i]);
				break;
			case STAGE_PARSE:
				if (antenna_parse(texts[i], strlen(texts[i]),
						  b->msg, NULL) < 0)
					die("parse", NULL);
				break;
			case STAGE_FULL:
			case STAGES:
			default:
				full_one(b, texts[i], i);
				break;
			}
		}
		if (round >= 0)
			rounds[round] = (double)n / (cpu_s() - start);
	}
	qsort(rounds, ROUNDS, sizeof(rounds[0]), cmp_double);
	return rounds[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	static const char conf[] = "[user alice]\nbed-sensor=" BED "\n";
	long n = argc > 1 ? atol(argv[1]) : 20000;
	g_autoptr(GError) error = NULL;
	g_autoptr(GTestDBus) dbus = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *path = NULL;
	const struct ble_client_config ccfg = { 0 };
	const struct ble_ops ops = { .reading = on_reading, .log = on_log };
	const struct household_ops hops = { .log = on_log };
	struct ble_device_config dev = { .kind = BLE_KIND_BTHOME };
	struct bench b = { 0 };
	double rates[FORMATS][STAGES], mixed_full = 0;

	if (n <= 0 || n > 10000000) {
		fprintf(stderr, "usage: bench-antenna [messages]\n");
		return 2;
	}
	dbus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(dbus);
	bus = g_dbus_connection_new_for_address_sync(
	    g_test_dbus_get_bus_address(dbus),
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	if (!bus)
		die("private bus", error);
	dir = g_dir_make_tmp("bench-antenna-XXXXXX", &error);
	if (!dir)
		die("temporary directory", error);
	path = g_build_filename(dir, "recoveryd.db", NULL);
	b.config = config_load_data("bench.conf", conf, strlen(conf), &error);
	if (!b.config)
		die("config", error);
	b.store = store_open(path, NULL, &error);
	if (!b.store)
		die("store", error);
	b.household = household_new(b.config, b.store, 0, &hops, &b, &error);
	if (!b.household ||
	    !household_set_clock_trusted(b.household, g_get_real_time() / 1000,
					 g_get_monotonic_time() / 1000, &error))
		die("household", error);
	b.client = ble_client_new(bus, &ccfg, &ops, &b, &error);
	if (!b.client)
		die("BLE client", error);
	g_strlcpy(dev.address, BED, sizeof(dev.address));
	ble_client_set_devices(b.client, &dev, 1);
	b.msg = g_new(struct antenna_message, 1);

	printf("%ld messages a round, median of %d rounds, CPU time of one "
	       "process\n\n",
	       n, ROUNDS);
	printf("%-28s %12s %12s %12s %11s %10s\n", "format", "floor msg/s",
	       "parse msg/s", "full msg/s", "parse/floor", "full/parse");
	for (int f = 0; f < FORMATS; f++) {
		char **texts = g_new0(char *, (gsize)n + 1);

		for (long i = 0; i < n; i++)
			texts[i] = message((enum format)f, (unsigned)i);
		for (int s = 0; s < STAGES; s++)
			rates[f][s] = rate(&b, (enum format)f, (enum stage)s,
					   texts, (unsigned)n);
		g_strfreev(texts);
		printf("%-28s %12.0f %12.0f %12.0f %11.2f %10.2f\n",
		       format_names[f], rates[f][STAGE_FLOOR],
		       rates[f][STAGE_PARSE], rates[f][STAGE_FULL],
		       rates[f][STAGE_PARSE] / rates[f][STAGE_FLOOR],
		       rates[f][STAGE_FULL] / rates[f][STAGE_PARSE]);
	}
	/* The formats in equal parts, for our own devices. */
	for (int f = 0; f < FOREIGN; f++)
		mixed_full += 1.0 / rates[f][STAGE_FULL];
	mixed_full = FOREIGN / mixed_full;
	if (!store_flush(b.store, &error))
		die("store flush", error);
	printf("\nmixed, our devices: %.0f messages/s filed; %.0fx a busy "
	       "home's %.0f messages/s\n",
	       mixed_full, mixed_full / BUDGET_MSG_S, BUDGET_MSG_S);
	printf("readings passed on: %" G_GUINT64_FORMAT
	       ", store failures: %" G_GUINT64_FORMAT "\n",
	       b.filed, b.failures);

	g_free(b.msg);
	ble_client_free(b.client);
	household_free(b.household);
	store_close(b.store);
	config_free(b.config);
	g_test_dbus_down(dbus);
	{
		const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

		for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			g_autofree char *f =
			    g_strconcat(path, suffixes[i], NULL);

			g_unlink(f);
		}
		g_rmdir(dir);
	}
	return b.failures ? 1 : 0;
}
