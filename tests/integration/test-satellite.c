// SPDX-License-Identifier: MIT
/*
 * A satellite gateway as it will run (DESIGN §13): two recoveryd processes
 * and two mosquittos on loopback, the satellite's broker bridged to the
 * home broker (`topic recovery/satellite/# out 1`) through a TCP relay of
 * this test that can cut the bridge. A strap on the BlueZ stand-in is
 * attached to the satellite only (the home gateway has a stand-in with no
 * devices). Heart rates and RR intervals stream; the bridge is cut for
 * 30 s while the strap keeps streaming; after it is back every reading the
 * satellite filed is in the home database once: the same rows, to the
 * millisecond and the value, nothing lost, nothing doubled, a message
 * delivered twice included. The satellite publishes only under
 * recovery/satellite/bedroom/; the home gateway's state lists it.
 *
 * Then the home broker is stopped for 20 s instead (its persistence on, as
 * deployed): every reading arrives once all the same.
 *
 * Then the same without any Bluetooth adapter (no bluetoothd on either
 * bus): each daemon listens to antenna topics on its own broker; a
 * weighing relayed by two gateways at home is one row, a bed state heard
 * by the satellite is stored at home, a neighbour's scale nowhere, and a
 * weighing the satellite hears while the home broker is down arrives once.
 *
 * It prints the delivery delay through the bridge (a heart rate's time to
 * its arrival at the home broker), how long the backlog took after the cut,
 * and when each side was back after the home broker's restart.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gateway/core/store.h"
#include "tests/support/test-db.h"
#include "tests/fakes/bus.h"
#include "tests/integration/antenna-messages.h"
#include "tests/integration/broker.h"
#include "tests/support/test-support.h"

#define STRAP	     "00:AA:01:01:00:01"
#define SAT_NAME     "bedroom"
#define SAT_STATUS   "recovery/satellite/" SAT_NAME "/status"
#define SAT_READINGS "recovery/satellite/" SAT_NAME "/readings"
#define STREAM_HZ    10
#define BEFORE_COUNT 50	 /* 5 s with the bridge up */
#define DURING_COUNT 200 /* 20 s inside the cut */
#define CUT_S	     30

/* Heart rate 62, contact detected, one RR of 968 ms (991/1024 s). */
static const guint8 hrm[] = { 0x16, 62, 0xdf, 0x03 };

/* --- a TCP relay that can cut the bridge ------------------------------- */

#define RELAY_PAIRS 8

struct relay {
	int listen_fd;
	int port, target_port;
	GThread *thread;
	gint cut;  /* close every connection and refuse new ones */
	gint stop; /* end the thread */
};

static int connect_loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* A listening socket on 127.0.0.1:@port (0: any free one). */
static int relay_listen(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ==, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 8), ==, 0);
	return fd;
}

/*
 * Relays each connection to the target. While cut, the connections are
 * closed and the port is closed too (a connect is refused at once, as to
 * a site whose link is down), and opened again on the same port after.
 */
static gpointer relay_thread(gpointer data)
{
	struct relay *r = data;
	int pairs[RELAY_PAIRS][2];
	unsigned n = 0;
	static char buf[65536];

	while (!g_atomic_int_get(&r->stop)) {
		struct pollfd fds[1 + 2 * RELAY_PAIRS];
		bool dead[RELAY_PAIRS] = { false };
		unsigned kept = 0;

		if (g_atomic_int_get(&r->cut)) {
			for (unsigned i = 0; i < n; i++) {
				close(pairs[i][0]);
				close(pairs[i][1]);
			}
			n = 0;
			if (r->listen_fd >= 0)
				close(r->listen_fd);
			r->listen_fd = -1;
		} else if (r->listen_fd < 0) {
			r->listen_fd = relay_listen(r->port);
		}
		/* poll() skips a negative descriptor. */
		fds[0] =
		    (struct pollfd){ .fd = r->listen_fd, .events = POLLIN };
		for (unsigned i = 0; i < n; i++)
			for (int k = 0; k < 2; k++)
				fds[1 + 2 * i + k] =
				    (struct pollfd){ .fd = pairs[i][k],
						     .events = POLLIN };
		if (poll(fds, 1 + 2 * n, 100) <= 0)
			continue;
		for (unsigned i = 0; i < n; i++)
			for (int k = 0; k < 2 && !dead[i]; k++) {
				ssize_t got;

				if (!(fds[1 + 2 * i + k].revents &
				      (POLLIN | POLLHUP | POLLERR)))
					continue;
				got = read(pairs[i][k], buf, sizeof(buf));
				if (got <= 0 ||
				    !write_all(pairs[i][!k], buf, (size_t)got))
					dead[i] = true;
			}
		for (unsigned i = 0; i < n; i++) {
			if (dead[i]) {
				close(pairs[i][0]);
				close(pairs[i][1]);
				continue;
			}
			pairs[kept][0] = pairs[i][0];
			pairs[kept][1] = pairs[i][1];
			kept++;
		}
		n = kept;
		if (r->listen_fd >= 0 && (fds[0].revents & POLLIN)) {
			int c = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			int t = c >= 0 && n < RELAY_PAIRS
				    ? connect_loopback(r->target_port)
				    : -1;

			if (t < 0) {
				if (c >= 0)
					close(c);
				continue;
			}
			pairs[n][0] = c;
			pairs[n][1] = t;
			n++;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		close(pairs[i][0]);
		close(pairs[i][1]);
	}
	return NULL;
}

static struct relay *relay_new(int target_port)
{
	struct relay *r = g_new0(struct relay, 1);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	r->target_port = target_port;
	r->listen_fd = relay_listen(0);
	g_assert_cmpint(getsockname(r->listen_fd, (struct sockaddr *)&sa, &len),
			==, 0);
	r->port = ntohs(sa.sin_port);
	r->thread = g_thread_new("relay", relay_thread, r);
	return r;
}

static void relay_free(struct relay *r)
{
	if (!r)
		return;
	g_atomic_int_set(&r->stop, 1);
	g_thread_join(r->thread);
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	g_free(r);
}

/* --- the world ------------------------------------------------------------ */

struct world {
	char *dir;
	StandinBus *sat_bus, *home_bus;
	broker *home_broker, *sat_broker;
	char *bridge; /* the satellite broker's bridge section */
	struct relay *relay;
	probe *home_probe, *sat_probe;
	char *home_conf, *sat_conf, *home_db, *sat_db;
	/* No Bluetooth at all: the readings come from antenna messages. */
	bool antennas;
};

static void world_free(struct world *w)
{
	g_clear_pointer(&w->home_probe, probe_free);
	g_clear_pointer(&w->sat_probe, probe_free);
	g_clear_pointer(&w->sat_broker, broker_free);
	g_clear_pointer(&w->relay, relay_free);
	g_clear_pointer(&w->home_broker, broker_free);
	g_clear_pointer(&w->sat_bus, standin_bus_free);
	g_clear_pointer(&w->home_bus, standin_bus_free);
	if (w->dir)
		test_remove_tree(w->dir);
	g_free(w->dir);
	g_free(w->bridge);
	g_free(w->home_conf);
	g_free(w->sat_conf);
	g_free(w->home_db);
	g_free(w->sat_db);
}

static void write_file(const char *path, const char *text)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
}

/* The configurations of a world with @antennas: each daemon listens to
 * antenna topics on its own broker, alice's scale and bed sensor its
 * devices (the satellite needs only their addresses). */
static void write_antenna_configs(struct world *w)
{
	g_autofree char *home = NULL, *sat = NULL;

	home = g_strdup_printf(
	    "[gateway]\ndatabase=%s\ntimezone=UTC\n"
	    "[mqtt]\nhost=127.0.0.1\nport=%d\nclient-id=home\n"
	    "[antennas]\ntopics=" ANTENNA_OMG "+," ANTENNA_THEENGS "+\n"
	    "[user alice]\nscale=" ANTENNA_SCALE "\nweight-range=80-90\n"
	    "bed-sensor=" ANTENNA_BED "\n",
	    w->home_db, broker_port(w->home_broker));
	write_file(w->home_conf, home);
	sat = g_strdup_printf(
	    "[gateway]\nrole=satellite\nname=" SAT_NAME "\ndatabase=%s\n"
	    "[mqtt]\nhost=127.0.0.1\nport=%d\nclient-id=satellite\n"
	    "[antennas]\ntopics=" ANTENNA_OMG "+," ANTENNA_THEENGS
	    "+," ANTENNA_ESPHOME "\n"
	    "[user alice]\nscale=" ANTENNA_SCALE "\nweight-range=80-90\n"
	    "bed-sensor=" ANTENNA_BED "\n",
	    w->sat_db, broker_port(w->sat_broker));
	write_file(w->sat_conf, sat);
}

/* The world; with @persistence the home broker keeps sessions and queued
 * messages across a stop (as deploy/mosquitto/recoveryd.conf does); with
 * @antennas no bluetoothd on either bus (no adapter at all) and the
 * daemons listening to antenna topics instead of a strap. */
static bool world_new(struct world *w, bool persistence, bool antennas)
{
	const char *const home_topics[] = { "recovery/#", NULL };
	const char *const sat_topics[] = { "#", NULL };
	struct broker_config bc = { .allow_anonymous = true };
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	*w = (struct world){ 0 };
	w->sat_bus = standin_bus_new_or_skip();
	if (!w->sat_bus)
		return false;
	w->home_bus = standin_bus_new_or_skip();
	if (!w->home_bus)
		return false;
	bc.persistence = persistence;
	w->home_broker = broker_new(&bc, &error);
	bc.persistence = false;
	if (!broker_check(error))
		return false;
	w->relay = relay_new(broker_port(w->home_broker));
	/* What deploy/satellite/mosquitto-bridge.conf says, on loopback,
	 * with a short restart so that the test does not wait. */
	w->bridge = g_strdup_printf("connection home\n"
				    "address 127.0.0.1:%d\n"
				    "topic recovery/satellite/# out 1\n"
				    "cleansession false\n"
				    "remote_clientid satellite-" SAT_NAME "\n"
				    "restart_timeout 1 2\n"
				    "keepalive_interval 5\n",
				    w->relay->port);
	bc.extra = w->bridge;
	w->sat_broker = broker_new(&bc, &error);
	g_assert_no_error(error);
	w->home_probe = probe_new(broker_probe_port(w->home_broker), NULL, NULL,
				  home_topics, &error);
	g_assert_no_error(error);
	w->sat_probe = probe_new(broker_probe_port(w->sat_broker), NULL, NULL,
				 sat_topics, &error);
	g_assert_no_error(error);

	w->dir = test_tmp_dir_new("test-satellite-XXXXXX");
	w->home_db = g_build_filename(w->dir, "home.db", NULL);
	w->sat_db = g_build_filename(w->dir, "satellite.db", NULL);
	w->home_conf = g_build_filename(w->dir, "home.conf", NULL);
	w->sat_conf = g_build_filename(w->dir, "satellite.conf", NULL);
	w->antennas = antennas;
	if (antennas) {
		write_antenna_configs(w);
		return true;
	}

	/* The strap is the satellite's; the home radio hears nothing. */
	g_assert_true(standin_start(w->sat_bus, NULL, &error));
	g_assert_no_error(error);
	g_free(standin_add_device(w->sat_bus, STRAP, "HRM-Sim", "heart-rate",
				  NULL, &error));
	g_assert_no_error(error);
	g_assert_true(standin_start(w->home_bus, NULL, &error));
	g_assert_no_error(error);

	text = g_strdup_printf("[gateway]\ndatabase=%s\ntimezone=UTC\n"
			       "[mqtt]\nhost=127.0.0.1\nport=%d\n"
			       "client-id=home\n"
			       "[user alice]\nheart-rate=%s\n",
			       w->home_db, broker_port(w->home_broker), STRAP);
	write_file(w->home_conf, text);
	g_free(text);
	text = g_strdup_printf("[gateway]\nrole=satellite\nname=" SAT_NAME "\n"
			       "database=%s\n"
			       "[mqtt]\nhost=127.0.0.1\nport=%d\n"
			       "client-id=satellite\n"
			       "[user alice]\nheart-rate=%s\n",
			       w->sat_db, broker_port(w->sat_broker), STRAP);
	write_file(w->sat_conf, text);
	return true;
}

static GSubprocess *daemon_spawn(struct world *w, StandinBus *bus,
				 const char *conf, const char *log_name)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GError) error = NULL;
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);
	GSubprocess *p;

	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS",
				     standin_bus_address(bus), TRUE);
	g_subprocess_launcher_unsetenv(launcher, "NOTIFY_SOCKET");
	/* Its warnings (the bridge's broker away) must not abort it. */
	g_subprocess_launcher_unsetenv(launcher, "G_DEBUG");
	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	p = g_subprocess_launcher_spawn(launcher, &error, g_getenv("RECOVERYD"),
					"--config", conf, NULL);
	g_assert_no_error(error);
	return p;
}

static void dump_log(struct world *w, const char *log_name)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);

	test_print_file(log, log_name);
}

static int daemon_stop(GSubprocess *p)
{
	return test_stop(p);
}

/* The strap sends @count heart rates (62 bpm, one RR each) at @hz. */
static void stream_start(StandinBus *bus, guint hz, guint count)
{
	standin_stream_start(bus, STRAP, "2a37", hrm, sizeof(hrm), hz, count);
}

/* Waits for the stream of @count to end; how many reached the daemon. */
static guint stream_delivered(StandinBus *bus, guint count, int timeout_s)
{
	return standin_stream_delivered(bus, STRAP, "2a37", count, timeout_s);
}

/* --- what the home broker saw ----------------------------------------------
 */

struct seen {
	unsigned messages;
	unsigned heart_rates, rrs;
	/* Delivery delay of each heart rate: its arrival at the home
	 * broker's probe minus its time (ms). */
	GArray *delays_ms; /* double */
	int last;	   /* index of the last readings message, or -1 */
};

/* The readings messages from index @from on; @wall_minus_mono_us turns
 * the probe's monotonic arrival times into wall times. */
static void count_readings(probe *p, unsigned from, int64_t wall_minus_mono_us,
			   struct seen *ret)
{
	unsigned n = probe_count(p);

	*ret = (struct seen){ .last = -1 };
	ret->delays_ms = g_array_new(FALSE, FALSE, sizeof(double));
	for (unsigned i = from; i < n; i++) {
		g_autoptr(probe_message) m = probe_get(p, i);
		g_autoptr(JsonParser) parser = json_parser_new();
		JsonArray *a;

		if (!m || strcmp(m->topic, SAT_READINGS) != 0)
			continue;
		g_assert_true(
		    json_parser_load_from_data(parser, m->payload, -1, NULL));
		a = json_object_get_array_member(
		    json_node_get_object(json_parser_get_root(parser)),
		    "readings");
		ret->messages++;
		ret->last = (int)i;
		for (guint k = 0; k < json_array_get_length(a); k++) {
			JsonObject *o = json_array_get_object_element(a, k);
			const char *kind =
			    json_object_get_string_member(o, "kind");
			double delay_ms =
			    (double)(m->received_us + wall_minus_mono_us) /
				1000.0 -
			    (double)json_object_get_int_member(o, "t_ms");

			ret->heart_rates += !strcmp(kind, "heart_rate");
			ret->rrs += !strcmp(kind, "rr");
			/* A heart rate is timed at its arrival; an RR at
			 * the end of its beat, which the chain of beats
			 * may put ahead of the clock (the stand-in sends
			 * 968 ms beats ten times a second). */
			if (!strcmp(kind, "heart_rate"))
				g_array_append_val(ret->delays_ms, delay_ms);
		}
	}
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median and maximum of @v (sorted in place). */
static void summary(GArray *v, double *ret_median, double *ret_max)
{
	g_assert_cmpuint(v->len, >, 0);
	g_array_sort(v, cmp_double);
	*ret_median = g_array_index(v, double, v->len / 2);
	*ret_max = g_array_index(v, double, v->len - 1);
}

/* Waits (at most @timeout_ms) until @want heart rates came to the home
 * broker from index @from on. */
static bool wait_heart_rates(probe *p, unsigned from, unsigned want,
			     unsigned timeout_ms, int64_t wall_minus_mono_us)
{
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		struct seen s;
		bool done;

		count_readings(p, from, wall_minus_mono_us, &s);
		done = s.heart_rates >= want;
		g_array_unref(s.delays_ms);
		if (done)
			return true;
		g_usleep(100000);
	} while (g_get_monotonic_time() < end);
	return false;
}

/* --- the databases ----------------------------------------------------------
 */

/* "t_ms value" lines of @sql's two columns, in order. */
static char *db_rows(const char *path, const char *sql, unsigned *ret_count)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	GString *out = g_string_new(NULL);

	*ret_count = 0;
	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	test_db_unpack_for(db, sql);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		g_string_append_printf(out, "%lld %.17g\n",
				       (long long)sqlite3_column_int64(st, 0),
				       sqlite3_column_double(st, 1));
		(*ret_count)++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return g_string_free(out, FALSE);
}

/* --- the tests ------------------------------------------------------------ */

/* Both daemons started, the satellite's status through the bridge, the
 * strap's notifications subscribed by the satellite. */
static void start_daemons(struct world *w, GSubprocess **ret_home,
			  GSubprocess **ret_sat)
{
	int i;

	*ret_home = daemon_spawn(w, w->home_bus, w->home_conf, "home.log");
	i = probe_wait_message(w->home_probe, 0, "recovery/status", "online",
			       10000);
	if (i < 0)
		dump_log(w, "home.log");
	g_assert_cmpint(i, >=, 0);
	*ret_sat = daemon_spawn(w, w->sat_bus, w->sat_conf, "satellite.log");
	i = probe_wait_message(w->home_probe, 0, SAT_STATUS, "online", 15000);
	if (i < 0) {
		g_autofree char *tail = broker_log_tail(w->sat_broker);

		dump_log(w, "satellite.log");
		g_printerr("%s", tail);
	}
	g_assert_cmpint(i, >=, 0);
	if (!w->antennas)
		g_assert_true(
		    standin_wait_subscribed(w->sat_bus, STRAP, 15000));
}

/* After both daemons stopped: the satellite filed @sent heart rates and
 * RR intervals, and the home database holds the very same rows. */
static void assert_same_rows(struct world *w, guint sent)
{
	g_autofree char *hr_rows_home = NULL, *hr_rows_sat = NULL;
	g_autofree char *rr_rows_home = NULL, *rr_rows_sat = NULL;
	unsigned hr_home, hr_sat, rr_home, rr_sat;

	hr_rows_sat = db_rows(
	    w->sat_db, "SELECT t_ms, bpm FROM hr ORDER BY t_ms", &hr_sat);
	hr_rows_home = db_rows(
	    w->home_db, "SELECT t_ms, bpm FROM hr ORDER BY t_ms", &hr_home);
	rr_rows_sat = db_rows(
	    w->sat_db, "SELECT t_ms, rr_ms FROM rr ORDER BY t_ms", &rr_sat);
	rr_rows_home = db_rows(
	    w->home_db, "SELECT t_ms, rr_ms FROM rr ORDER BY t_ms", &rr_home);
	g_printerr("# heart rates: %u on the satellite, %u at home; RR: %u, "
		   "%u; notifications sent %u\n",
		   hr_sat, hr_home, rr_sat, rr_home, sent);
	g_assert_cmpuint(hr_sat, ==, sent);
	g_assert_cmpuint(rr_sat, ==, sent);
	g_assert_cmpstr(hr_rows_home, ==, hr_rows_sat);
	g_assert_cmpstr(rr_rows_home, ==, rr_rows_sat);
}

static void test_bridge_cut(void)
{
	struct world w;
	g_autoptr(GSubprocess) home = NULL;
	g_autoptr(GSubprocess) sat = NULL;
	int64_t wall_minus_mono_us = g_get_real_time() - g_get_monotonic_time();
	struct seen before, during, after;
	double median, max;
	guint sent_before, sent_during;
	unsigned mark;
	int64_t cut_us, restored_us, caught_up_us;

	if (!world_new(&w, false, false)) {
		world_free(&w);
		return;
	}
	start_daemons(&w, &home, &sat);

	/* 1. The bridge up: readings arrive, are filed, are live at home. */
	mark = probe_count(w.home_probe);
	stream_start(w.sat_bus, STREAM_HZ, BEFORE_COUNT);
	sent_before = stream_delivered(w.sat_bus, BEFORE_COUNT, 30);
	g_assert_cmpuint(sent_before, ==, BEFORE_COUNT);
	g_assert_true(wait_heart_rates(w.home_probe, mark, sent_before, 10000,
				       wall_minus_mono_us));
	count_readings(w.home_probe, mark, wall_minus_mono_us, &before);
	summary(before.delays_ms, &median, &max);
	g_printerr("# bridge up: delivery delay median %.0f ms, max %.0f ms "
		   "(%u heart rates, %u messages)\n",
		   median, max, before.delays_ms->len, before.messages);
	/* The batch interval (2 s) plus the bridge: well within 10 s. */
	g_assert_cmpfloat(max, <, 10000);
	g_assert_cmpint(probe_wait_message(w.home_probe, mark,
					   "recovery/alice/live",
					   "\"heart_rate_bpm\":62", 10000),
			>=, 0);

	/* 2. The bridge cut for CUT_S while the strap streams. */
	g_atomic_int_set(&w.relay->cut, 1);
	cut_us = g_get_monotonic_time();
	g_usleep(500000);
	mark = probe_count(w.home_probe);
	stream_start(w.sat_bus, STREAM_HZ, DURING_COUNT);
	sent_during = stream_delivered(w.sat_bus, DURING_COUNT, 40);
	g_assert_cmpuint(sent_during, ==, DURING_COUNT);
	while (g_get_monotonic_time() < cut_us + CUT_S * G_USEC_PER_SEC)
		g_usleep(100000);
	count_readings(w.home_probe, mark, wall_minus_mono_us, &during);
	/* The cut is real: nothing crossed it. */
	g_assert_cmpuint(during.messages, ==, 0);
	g_array_unref(during.delays_ms);
	/* ... while the satellite kept sending to its own broker. */
	g_assert_cmpint(
	    probe_wait_message(w.sat_probe, 0, SAT_READINGS, NULL, 1000), >=,
	    0);

	/* 3. Back: every reading arrives. */
	g_atomic_int_set(&w.relay->cut, 0);
	restored_us = g_get_monotonic_time();
	g_assert_true(wait_heart_rates(w.home_probe, mark, sent_during, 30000,
				       wall_minus_mono_us));
	caught_up_us = g_get_monotonic_time();
	count_readings(w.home_probe, mark, wall_minus_mono_us, &after);
	summary(after.delays_ms, &median, &max);
	g_printerr("# bridge cut %d s: %u heart rates in %u messages held, all "
		   "at home %.1f s after the bridge was back; delay median "
		   "%.0f ms, max %.0f ms\n",
		   CUT_S, after.delays_ms->len, after.messages,
		   (double)(caught_up_us - restored_us) / 1e6, median, max);

	/* SATELLITE_TEST_LOG=1: the satellite broker's log, with the
	 * bridge's reconnects (what the time to catch up is made of). */
	if (g_getenv("SATELLITE_TEST_LOG"))
		g_printerr("%s", broker_log_tail(w.sat_broker));
	/* 4. A message delivered twice (QoS 1 may): one row all the same. */
	{
		g_autoptr(probe_message) m =
		    probe_get(w.home_probe, (unsigned)after.last);

		g_assert_true(probe_publish(w.home_probe, SAT_READINGS,
					    m->payload, 1, false));
	}
	g_array_unref(after.delays_ms);
	g_array_unref(before.delays_ms);

	/* The home gateway's state lists the satellite. */
	g_assert_cmpint(probe_wait_message(w.home_probe, 0, "recovery/gateway",
					   "\"name\":\"" SAT_NAME "\"", 5000),
			>=, 0);
	g_usleep(1000000);

	g_assert_cmpint(daemon_stop(sat), ==, 0);
	g_assert_cmpint(daemon_stop(home), ==, 0);

	/* Everything of the satellite under its own subtree. */
	for (unsigned k = 0; k < probe_count(w.sat_probe); k++) {
		g_autoptr(probe_message) m = probe_get(w.sat_probe, k);

		if (!g_str_has_prefix(m->topic,
				      "recovery/satellite/" SAT_NAME "/"))
			g_error("the satellite published on %s", m->topic);
	}

	/* recoveryctl status shows the home gateway's satellites (its
	 * retained state outlives the daemon). */
	{
		g_autofree char *address =
		    g_strdup_printf("127.0.0.1:%d", broker_port(w.home_broker));
		const char *argv[] = { g_getenv("RECOVERYCTL"),
				       "status",
				       "--db",
				       w.home_db,
				       "--broker",
				       address,
				       NULL };
		g_autofree char *out = NULL, *err = NULL;

		g_assert_cmpint(test_spawn(argv, NULL, &out, &err), ==, 0);
		g_test_message("recoveryctl status:\n%s%s", out, err);
		g_assert_nonnull(strstr(out, "  satellites:\n    " SAT_NAME));
		g_assert_nonnull(strstr(out, "last heard "));
		g_assert_null(strstr(out, "last heard never"));
	}

	/* The same rows in both databases: nothing lost, nothing doubled. */
	assert_same_rows(&w, sent_before + sent_during);
	world_free(&w);
}

/*
 * The home broker stopped for HOME_DOWN_S while the strap streams to the
 * satellite, then started again (its persistence on): the satellite's
 * broker holds the readings for the bridge, the home broker holds them for
 * the home gateway's kept session if the bridge is back first, and every
 * reading is in the home database once.
 */
#define HOME_DOWN_S	20
#define HOME_DOWN_COUNT 100 /* 10 s inside the outage */

static void test_home_broker_down(void)
{
	struct world w;
	g_autoptr(GSubprocess) home = NULL;
	g_autoptr(GSubprocess) sat = NULL;
	g_autoptr(GError) error = NULL;
	int64_t down_us, up_us;
	guint sent_before, sent_during, sent_after;
	unsigned mark;
	int online, readings;

	if (!world_new(&w, true, false)) {
		world_free(&w);
		return;
	}
	start_daemons(&w, &home, &sat);
	stream_start(w.sat_bus, STREAM_HZ, 20);
	sent_before = stream_delivered(w.sat_bus, 20, 30);
	g_assert_cmpuint(sent_before, ==, 20);

	broker_stop(w.home_broker);
	down_us = g_get_monotonic_time();
	stream_start(w.sat_bus, STREAM_HZ, HOME_DOWN_COUNT);
	sent_during = stream_delivered(w.sat_bus, HOME_DOWN_COUNT, 30);
	g_assert_cmpuint(sent_during, ==, HOME_DOWN_COUNT);
	while (g_get_monotonic_time() < down_us + HOME_DOWN_S * G_USEC_PER_SEC)
		g_usleep(100000);
	mark = probe_count(w.home_probe);
	g_assert_true(broker_start(w.home_broker, &error));
	g_assert_no_error(error);
	up_us = g_get_monotonic_time();

	/* The home gateway back (its "online" again): its kept session
	 * hands it what the bridge delivered meanwhile. */
	online = probe_wait_message(w.home_probe, mark, "recovery/status",
				    "online", 45000);
	if (online < 0) {
		g_autofree char *tail = broker_log_tail(w.home_broker);

		dump_log(&w, "home.log");
		g_printerr("%s", tail);
	}
	g_assert_cmpint(online, >=, 0);
	{
		g_autoptr(probe_message) m =
		    probe_get(w.home_probe, (unsigned)online);

		g_printerr("# home broker down %d s: the home gateway back "
			   "%.1f s after its start\n",
			   HOME_DOWN_S, (double)(m->received_us - up_us) / 1e6);
	}
	/* The bridge back too: readings heard now cross it. (What it held
	 * may have crossed before this test's probe subscribed again.) */
	mark = probe_count(w.home_probe);
	stream_start(w.sat_bus, STREAM_HZ, 10);
	sent_after = stream_delivered(w.sat_bus, 10, 30);
	g_assert_cmpuint(sent_after, ==, 10);
	readings =
	    probe_wait_message(w.home_probe, mark, SAT_READINGS, NULL, 30000);
	g_assert_cmpint(readings, >=, 0);
	/* Two batches more for the last readings, then goodbye. */
	g_usleep(5 * G_USEC_PER_SEC);
	g_assert_cmpint(daemon_stop(sat), ==, 0);
	g_assert_cmpint(daemon_stop(home), ==, 0);
	assert_same_rows(&w, sent_before + sent_during + sent_after);
	world_free(&w);
}

/* --- antennas, no adapter ------------------------------------------------ */

/* The number @sql counts in the database @path; 0 if it cannot be read. */
static unsigned db_count(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	unsigned n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_busy_timeout(db, 1000) == SQLITE_OK &&
	    (test_db_unpack_for(db, sql), true) &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (unsigned)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Waits at most @timeout_ms from probe index @from on for alice's live
 * values at home to hold @needle: a reading filed at home (the database
 * commits its batch later). Returns the message's index, or -1. */
static int wait_live(struct world *w, unsigned from, const char *needle,
		     unsigned timeout_ms)
{
	return probe_wait_message(w->home_probe, from, "recovery/alice/live",
				  needle, timeout_ms);
}

static char *read_log(struct world *w, const char *log_name)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);

	return test_read_file(log);
}

#define BODY_ROWS "SELECT count(*) FROM body"
#define OMG_SCALE ANTENNA_OMG "DFDE448214EF"

/*
 * The issue's first "done when" (DESIGN §13): no Bluetooth adapter at all
 * (no bluetoothd on either private bus), a home gateway and a satellite
 * each listening to antenna topics on its own mosquitto, the satellite's
 * broker bridged to the home broker. A weighing relayed by an
 * OpenMQTTGateway and a Theengs gateway at once (each repeating it) to the
 * home broker is one row at home; a bed occupancy from an ESPHome HCI
 * report on the satellite's broker is stored at home; a neighbour's scale,
 * heard on both, is stored nowhere and sent nowhere; a weighing the
 * satellite hears while the home broker is down for HOME_DOWN_S arrives
 * at home once after it is back.
 */
static void test_antennas_no_adapter(void)
{
	struct world w;
	g_autoptr(GSubprocess) home = NULL;
	g_autoptr(GSubprocess) sat = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *home_log = NULL, *sat_log = NULL;
	g_autofree char *home_text = NULL, *sat_text = NULL;
	struct store_span alice = { 0 };
	int64_t down_us, up_us;
	unsigned mark, home_mark;
	int filed;
	store *s;
	int64_t id;

	if (!world_new(&w, true, true)) {
		world_free(&w);
		return;
	}
	start_daemons(&w, &home, &sat);
	home_log = g_build_filename(w.dir, "home.log", NULL);
	sat_log = g_build_filename(w.dir, "satellite.log", NULL);
	/* Each daemon subscribed to its antenna topics (it logs a dropped
	 * message on them). */
	if (!antenna_wait_listening(w.home_probe, ANTENNA_OMG "C47C8D6A1234",
				    home_log, 100))
		g_error("home not listening:\n%s", read_log(&w, "home.log"));
	if (!antenna_wait_listening(w.sat_probe, ANTENNA_ESPHOME, sat_log, 100))
		g_error("satellite not listening:\n%s",
			read_log(&w, "satellite.log"));

	/* 1. Home broker up: the weighing through two gateways at home, the
	 * bed through ESPHome on the satellite, the neighbour on both. */
	for (int i = 0; i < 3; i++) {
		antenna_publish(w.home_probe, OMG_SCALE, antenna_omg_weighing);
		antenna_publish(w.home_probe, ANTENNA_THEENGS "DFDE448214EF",
				antenna_theengs_weighing);
		antenna_publish(w.home_probe, ANTENNA_OMG "112233445566",
				antenna_omg_neighbour);
		antenna_publish(w.sat_probe, ANTENNA_OMG "112233445566",
				antenna_omg_neighbour);
	}
	antenna_publish(w.sat_probe, ANTENNA_ESPHOME, antenna_esphome_occupied);
	/* The bed state filed at home. */
	if (wait_live(&w, 0, "\"bed\":true", 15000) < 0) {
		dump_log(&w, "home.log");
		g_error("the bed state not filed at home:\n%s",
			read_log(&w, "satellite.log"));
	}

	/* 2. The home broker down; the satellite hears a new weighing. */
	mark = probe_count(w.sat_probe);
	broker_stop(w.home_broker);
	down_us = g_get_monotonic_time();
	antenna_publish(w.sat_probe, OMG_SCALE, antenna_omg_weighing_86);
	/* Filed by the satellite and sent to its own broker for the bridge
	 * to hold. */
	g_assert_cmpint(probe_wait_message(w.sat_probe, mark, SAT_READINGS,
					   "\"weight_kg\":86", 10000),
			>=, 0);
	while (g_get_monotonic_time() < down_us + HOME_DOWN_S * G_USEC_PER_SEC)
		g_usleep(100000);
	home_mark = probe_count(w.home_probe);
	g_assert_true(broker_start(w.home_broker, &error));
	g_assert_no_error(error);
	up_us = g_get_monotonic_time();

	/* 3. Back: the weighing arrives, once. */
	filed = wait_live(&w, home_mark, "\"weight_kg\":86", 45000);
	if (filed < 0) {
		g_autofree char *tail = broker_log_tail(w.home_broker);

		dump_log(&w, "home.log");
		dump_log(&w, "satellite.log");
		g_printerr("%s", tail);
		g_error("the satellite's weighing not filed at home");
	}
	{
		g_autoptr(probe_message) m =
		    probe_get(w.home_probe, (unsigned)filed);

		g_printerr("# home broker down %d s: the satellite's weighing "
			   "filed at home %.1f s after its start\n",
			   HOME_DOWN_S, (double)(m->received_us - up_us) / 1e6);
	}
	/* Time for a second copy, were there one. */
	g_usleep(3 * G_USEC_PER_SEC);
	g_assert_cmpint(daemon_stop(sat), ==, 0);
	g_assert_cmpint(daemon_stop(home), ==, 0);

	home_text = read_log(&w, "home.log");
	sat_text = read_log(&w, "satellite.log");
	s = store_open(w.home_db, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(store_user_id(s, "alice", &id, &error));
	g_assert_true(store_load_span(s, id, 0, INT64_MAX / 2, &alice, &error));
	g_assert_no_error(error);
	if (alice.weights->len != 2)
		g_error("%u weighings at home:\n%s", alice.weights->len,
			home_text);
	g_assert_cmpfloat_with_epsilon(
	    g_array_index(alice.weights, struct weight_sample, 0).weight_kg,
	    85.15, 1e-9);
	g_assert_cmpfloat_with_epsilon(
	    g_array_index(alice.weights, struct weight_sample, 1).weight_kg,
	    86.0, 1e-9);
	g_assert_cmpuint(alice.bed->len, ==, 1);
	g_assert_true(g_array_index(alice.bed, struct state_sample, 0).on);
	store_span_clear(&alice);
	/* Nobody else: the neighbour's scale made no row at home, nor on
	 * the satellite (which filed its one weighing). */
	g_assert_cmpuint(db_count(w.home_db, BODY_ROWS), ==, 2);
	g_assert_cmpuint(db_count(w.sat_db, BODY_ROWS), ==, 1);
	store_close(s);
	/* Nor was it logged, or sent home by the satellite. */
	g_assert_null(strstr(home_text, ANTENNA_NEIGHBOUR));
	g_assert_null(strstr(sat_text, ANTENNA_NEIGHBOUR));
	for (unsigned k = 0; k < probe_count(w.sat_probe); k++) {
		g_autoptr(probe_message) m = probe_get(w.sat_probe, k);

		if (!strcmp(m->topic, SAT_READINGS))
			g_assert_null(strstr(m->payload, ANTENNA_NEIGHBOUR));
	}
	world_free(&w);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/satellite/bridge-cut", test_bridge_cut);
	g_test_add_func("/satellite/home-broker-down", test_home_broker_down);
	g_test_add_func("/satellite/antennas-no-adapter",
			test_antennas_no_adapter);
	return g_test_run();
}
