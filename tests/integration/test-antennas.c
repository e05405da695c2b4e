// SPDX-License-Identifier: MIT
/*
 * Remote antennas against real parts (DESIGN §13): the recoveryd binary
 * (RECOVERYD) with [antennas] topics=, a real mosquitto, and a private
 * D-Bus system bus with no bluetoothd on it at all: no Bluetooth adapter.
 * Antenna messages are published as OpenMQTTGateway, Theengs Gateway, the
 * ESPHome BLE gateway and a Shelly script publish them; the test then stops
 * the daemon and reads the database.
 */
#include <signal.h>
#include <string.h>

#include <glib.h>

#include "gateway/core/store.h"
#include "tests/integration/antenna-messages.h"
#include "tests/fakes/bus.h"
#include "tests/integration/broker.h"
#include "tests/support/test-support.h"

#define SCALE	  ANTENNA_SCALE
#define BED	  ANTENNA_BED
#define LOG	  "antennas.log"
#define OMG	  ANTENNA_OMG
#define THEENGS	  ANTENNA_THEENGS
#define ESPHOME	  ANTENNA_ESPHOME
#define SHELLY	  ANTENNA_SHELLY
#define BAD_TOPIC OMG "C47C8D6A1234"

struct world {
	char *dir;
	char *config;
	char *database;
	broker *broker;
	probe *probe;
	StandinBus *bus;
};

static void world_free(struct world *w)
{
	g_clear_pointer(&w->probe, probe_free);
	g_clear_pointer(&w->broker, broker_free);
	g_clear_pointer(&w->bus, standin_bus_free);
	if (w->dir)
		g_assert_true(test_remove_tree(w->dir));
	g_free(w->dir);
	g_free(w->config);
	g_free(w->database);
}

/* A bus without bluetoothd, mosquitto, and alice's scale and bed sensor
 * heard only through the antennas. */
static bool world_new(struct world *w)
{
	const char *const topics[] = { "recovery/#", NULL };
	struct broker_config bc = { .allow_anonymous = true };
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	*w = (struct world){ 0 };
	w->bus = standin_bus_new_or_skip();
	if (!w->bus)
		return false;
	if (!probe_new_with_broker(&bc, topics, &w->broker, &w->probe))
		return false;
	w->dir = test_tmp_dir_new("test-antennas-XXXXXX");
	w->database = g_build_filename(w->dir, "recoveryd.db", NULL);
	w->config = g_build_filename(w->dir, "recoveryd.conf", NULL);
	text = g_strdup_printf("[gateway]\n"
			       "database=%s\n"
			       "timezone=UTC\n"
			       "[mqtt]\n"
			       "host=127.0.0.1\n"
			       "port=%d\n"
			       "[antennas]\n"
			       "topics=" OMG "+, " THEENGS "+," ESPHOME
			       "," SHELLY "\n"
			       "[user alice]\n"
			       "scale=" SCALE "\n"
			       "weight-range=80-90\n"
			       "bed-sensor=" BED "\n",
			       w->database, broker_port(w->broker));
	g_assert_true(g_file_set_contents(w->config, text, -1, &error));
	g_assert_no_error(error);
	return true;
}

static GSubprocess *daemon_spawn(struct world *w)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GError) error = NULL;
	g_autofree char *log = g_build_filename(w->dir, LOG, NULL);
	GSubprocess *p;

	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS",
				     standin_bus_address(w->bus), TRUE);
	g_subprocess_launcher_setenv(launcher, "G_MESSAGES_DEBUG", "recoveryd",
				     TRUE);
	/* It warns that there is no bluetoothd: that must not abort it. */
	g_subprocess_launcher_unsetenv(launcher, "G_DEBUG");
	g_subprocess_launcher_unsetenv(launcher, "NOTIFY_SOCKET");
	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	p = g_subprocess_launcher_spawn(launcher, &error, g_getenv("RECOVERYD"),
					"--config", w->config, NULL);
	g_assert_no_error(error);
	return p;
}

static char *daemon_log(struct world *w)
{
	g_autofree char *log = g_build_filename(w->dir, LOG, NULL);

	return test_read_file(log);
}

static unsigned count_in(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Waits at most @timeout_ms for @needle in the daemon's log. */
static bool log_within(struct world *w, const char *needle, unsigned timeout_ms)
{
	g_autofree char *log = g_build_filename(w->dir, LOG, NULL);

	return test_wait_file_text(log, needle, timeout_ms);
}

static void publish(struct world *w, const char *topic, const char *payload)
{
	antenna_publish(w->probe, topic, payload);
}

/*
 * Without any Bluetooth adapter: one weighing relayed by an
 * OpenMQTTGateway and a Theengs gateway at once (each repeating it) is one
 * row; a bed occupancy from an ESPHome HCI report and the next state from a
 * Shelly script are stored, the ESPHome repeat is not; a neighbour's scale
 * is not stored, and its malformed messages are not logged; a malformed
 * message of ours, sent again and again, is one line in the log and changes
 * nothing.
 */
static void test_antennas(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *text = NULL;
	struct store_span alice = { 0 };
	struct world w;
	store *s;
	int64_t id;
	bool heard = false;

	if (!world_new(&w))
		goto out;
	daemon = daemon_spawn(&w);
	if (!log_within(&w, "antennas: listening on 4 topic filters", 10000))
		g_error("not listening:\n%s", daemon_log(&w));
	/* The malformed message until the daemon is subscribed and says so:
	 * then five more, which the log keeps quiet about for a minute. */
	for (int i = 0; i < 100 && !heard; i++) {
		publish(&w, OMG "112233445566", antenna_neighbour_malformed);
		publish(&w, BAD_TOPIC, antenna_malformed);
		heard = log_within(&w, "antenna message on", 100);
	}
	if (!heard)
		g_error("no line about the malformed message:\n%s",
			daemon_log(&w));
	for (int i = 0; i < 5; i++)
		publish(&w, BAD_TOPIC, antenna_malformed);

	for (int i = 0; i < 3; i++) {
		publish(&w, OMG "DFDE448214EF", antenna_omg_weighing);
		publish(&w, THEENGS "DFDE448214EF", antenna_theengs_weighing);
		publish(&w, OMG "112233445566", antenna_omg_neighbour);
	}
	publish(&w, ESPHOME, antenna_esphome_occupied);
	publish(&w, ESPHOME, antenna_esphome_occupied);
	g_usleep(300 * 1000);
	publish(&w, SHELLY, antenna_shelly_empty);
	publish(&w, ESPHOME, antenna_esphome_occupied);
	g_assert_true(log_within(&w, "advertises as mi-scale-v2", 5000));
	/* Time for the last messages to be filed. */
	g_usleep(1000 * 1000);
	g_assert_cmpint(test_stop(daemon), ==, 0);

	text = daemon_log(&w);
	if (count_in(text, "antenna message on") != 1)
		g_error("expected one line about the malformed message:\n%s",
			text);
	if (!strstr(text, "antenna message on '" BAD_TOPIC "' dropped: "
			  "servicedata: \"02zz\" is not hex at character 2"))
		g_error("no line naming the topic and the fault:\n%s", text);
	g_assert_null(strstr(text, "11:22:33:44:55:66"));

	s = store_open(w.database, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(store_user_id(s, "alice", &id, &error));
	g_assert_true(store_load_span(s, id, 0, INT64_MAX / 2, &alice, &error));
	g_assert_no_error(error);
	if (alice.weights->len != 1)
		g_error("%u weighings stored:\n%s", alice.weights->len, text);
	g_assert_cmpfloat_with_epsilon(
	    g_array_index(alice.weights, struct weight_sample, 0).weight_kg,
	    85.15, 1e-9);
	/* Occupied (ESPHome; its repeat is the same packet), then empty
	 * (Shelly). */
	if (alice.bed->len != 2)
		g_error("%u bed states stored:\n%s", alice.bed->len, text);
	g_assert_true(g_array_index(alice.bed, struct state_sample, 0).on);
	g_assert_false(g_array_index(alice.bed, struct state_sample, 1).on);
	store_span_clear(&alice);
	store_close(s);
	/* The neighbour's were heard and dropped as foreign, its bad ones
	 * too (at least the weighing's three and one bad one). */
	g_assert_true(
	    g_regex_match_simple(" ([4-9]|[1-9][0-9]+) foreign, ", text, 0, 0));
out:
	world_free(&w);
}

/*
 * A reload that changes topics=: the old filters are unsubscribed, the
 * new ones subscribed, without a restart.
 */
static void test_reload(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *old = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) parts = NULL;
	struct store_span alice = { 0 };
	g_autofree char *log = NULL;
	struct world w;
	store *s;
	int64_t id;

	if (!world_new(&w))
		goto out;
	daemon = daemon_spawn(&w);
	if (!log_within(&w, "antennas: listening on 4 topic filters", 10000))
		g_error("not listening:\n%s", daemon_log(&w));
	g_assert_true(g_file_get_contents(w.config, &old, NULL, &error));
	parts = g_strsplit(old, "topics=", 2);
	text = g_strconcat(parts[0], "topics=garden/+/ble\n#", parts[1], NULL);
	g_assert_true(g_file_set_contents(w.config, text, -1, &error));
	g_subprocess_send_signal(daemon, SIGHUP);
	g_assert_true(log_within(&w, "reloaded", 5000));
	/* Subscribed to the new filter once a message on it is read. */
	log = g_build_filename(w.dir, LOG, NULL);
	g_assert_true(
	    antenna_wait_listening(w.probe, "garden/shed/ble", log, 100));
	publish(&w, ESPHOME, antenna_esphome_occupied);
	publish(&w, "garden/shed/ble", antenna_shelly_empty);
	g_usleep(1000 * 1000);
	g_assert_cmpint(test_stop(daemon), ==, 0);
	/* Only the Shelly message, on the new topic: the bed empty. */
	s = store_open(w.database, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(store_user_id(s, "alice", &id, &error));
	g_assert_true(store_load_span(s, id, 0, INT64_MAX / 2, &alice, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(alice.bed->len, ==, 1);
	g_assert_false(g_array_index(alice.bed, struct state_sample, 0).on);
	store_span_clear(&alice);
	store_close(s);
out:
	world_free(&w);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/antennas/no-adapter", test_antennas);
	g_test_add_func("/antennas/reload", test_reload);
	return g_test_run();
}
