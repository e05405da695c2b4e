// SPDX-License-Identifier: MIT
/*
 * The daemon as it runs at home, against real parts: the recoveryd binary
 * (RECOVERYD) with a configuration file, a real mosquitto, and the BlueZ
 * stand-in on a private bus. A strap streams heart rates, a bed sensor
 * advertises; the test watches the broker as a dashboard would, then stops
 * the daemon with SIGTERM and reads the database. Then late data (a
 * check-in after the morning alert: an update only when the advice
 * changes; a held alert released by its check-in) over seeded history, and
 * the demo run from a file with only [gateway] and [mqtt]. A morning spot
 * check followed live, and the morning alert that waits for it.
 *
 * The storage faults run the database on a small tmpfs in a mount
 * namespace of the test's own (made in main, as root; skipped otherwise):
 * it fills up while readings stream in, or is remounted read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <unistd.h>

#include <sqlite3.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tests/support/test-db.h"
#include "tests/integration/broker.h"
#include "tests/fakes/bus.h"
#include "gateway/core/analyze.h"
#include "gateway/core/clock.h"
#include "gateway/core/scenario.h"
#include "tests/integration/okok-frames.h"
#include "gateway/core/store.h"
#include "tests/support/test-support.h"

#define STRAP	"00:AA:01:01:00:01"
#define BED	"A4:C1:38:00:00:02"
#define FOREIGN "C4:7C:8D:00:00:99"
#define BTHOME	"0000fcd2-0000-1000-8000-00805f9b34fb"

/* Heart rate 62, contact detected, one RR of 968 ms (991/1024 s). */
static const guint8 hrm[] = { 0x16, 62, 0xdf, 0x03 };
#define STREAM_COUNT 150
#define STREAM_HZ    20

struct world {
	char *dir;
	char *disk;    /* the tmpfs the database is on, or NULL */
	int notify_fd; /* NOTIFY_SOCKET, as systemd gives it */
	char *notify_path;
	char *config;
	char *database;
	broker *broker;
	probe *probe;
	StandinBus *bus;
	char *faketime_rc; /* libfaketime's clock file, for daemon_start */
};

static void world_free(struct world *w)
{
	g_clear_pointer(&w->probe, probe_free);
	g_clear_pointer(&w->broker, broker_free);
	g_clear_pointer(&w->bus, standin_bus_free);
	if (w->disk) {
		/* Writable again first: an unmount of a busy read-only
		 * mount would be lazy, and the tree removal would fail. */
		mount(NULL, w->disk, NULL, MS_REMOUNT, NULL);
		g_assert_cmpint(umount2(w->disk, MNT_DETACH), ==, 0);
		g_free(w->disk);
	}
	if (w->notify_fd >= 0)
		close(w->notify_fd);
	g_free(w->notify_path);
	if (w->dir)
		g_assert_true(test_remove_tree(w->dir));
	g_free(w->dir);
	g_free(w->config);
	g_free(w->database);
	g_free(w->faketime_rc);
}

/* The clock time @delta_s from now, UTC, in @format; NULL when that is
 * another day (too close to midnight for one morning). */
static char *clock_from_now(int delta_s, const char *format)
{
	g_autoptr(GDateTime) t = g_date_time_new_now_utc();
	g_autoptr(GDateTime) then = g_date_time_add_seconds(t, delta_s);

	if (g_date_time_get_day_of_month(then) !=
	    g_date_time_get_day_of_month(t))
		return NULL;
	return g_date_time_format(then, format);
}

/* The morning alert time, @delay_s from now, as HH:MM:SS in UTC. */
static char *alert_time(int delay_s)
{
	return clock_from_now(delay_s, "%H:%M:%S");
}

/* Whether main made a mount namespace for the storage faults. */
static bool have_mount_namespace;

/*
 * The world of a test: the BlueZ stand-in with a strap, a bed sensor and a
 * foreign strap, mosquitto, a notify socket and a configuration with alice.
 * Her morning alert comes @alert_delay_s from now (0: at 23:59 UTC, no
 * alert expected; < 0: no alert time in the configuration). With @disk_size
 * ("16m") the database is on a tmpfs of that size (the caller checks
 * have_mount_namespace).
 */
static bool world_new_full(struct world *w, int alert_delay_s,
			   const char *disk_size)
{
	const char *const topics[] = { "recovery/#", "homeassistant/#", NULL };
	g_autoptr(GError) error = NULL;
	g_autofree char *when = alert_delay_s > 0    ? alert_time(alert_delay_s)
				: alert_delay_s == 0 ? g_strdup("23:59:00")
						     : g_strdup("");
	g_autofree char *alert_line = NULL;
	g_autofree char *text = NULL;
	struct broker_config bc = { .allow_anonymous = true };

	*w = (struct world){ .notify_fd = -1 };
	if (!when) {
		g_test_skip("too close to midnight UTC for a same-day alert");
		return false;
	}
	alert_line = *when ? g_strdup_printf("morning-alert=%s\n"
					     "morning-latest=23:59:59\n",
					     when)
			   : g_strdup("");
	w->bus = standin_bus_new_or_skip();
	if (!w->bus)
		return false;
	if (!probe_new_with_broker(&bc, topics, &w->broker, &w->probe))
		return false;
	g_assert_true(standin_start(w->bus, NULL, &error));
	g_assert_no_error(error);
	g_free(standin_add_device(w->bus, STRAP, "HRM-Sim", "heart-rate", NULL,
				  &error));
	g_assert_no_error(error);
	g_free(
	    standin_add_device(w->bus, BED, "Bed", "advertiser", NULL, &error));
	g_assert_no_error(error);
	g_free(standin_add_device(w->bus, FOREIGN, "Neighbour HRM",
				  "heart-rate", NULL, &error));
	g_assert_no_error(error);

	w->dir = test_tmp_dir_new("test-recoveryd-XXXXXX");
	if (disk_size) {
		g_autofree char *options =
		    g_strdup_printf("size=%s,mode=0700", disk_size);

		w->disk = g_build_filename(w->dir, "disk", NULL);
		g_assert_cmpint(g_mkdir(w->disk, 0700), ==, 0);
		if (mount("tmpfs", w->disk, "tmpfs", 0, options) != 0)
			g_error("mounting a tmpfs on %s: %s", w->disk,
				g_strerror(errno));
		w->database = g_build_filename(w->disk, "recoveryd.db", NULL);
	} else {
		w->database = g_build_filename(w->dir, "recoveryd.db", NULL);
	}
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		w->notify_path = g_build_filename(w->dir, "notify", NULL);
		g_strlcpy(sa.sun_path, w->notify_path, sizeof(sa.sun_path));
		w->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		g_assert_cmpint(w->notify_fd, >=, 0);
		g_assert_cmpint(
		    bind(w->notify_fd, (struct sockaddr *)&sa, sizeof(sa)), ==,
		    0);
	}
	w->config = g_build_filename(w->dir, "recoveryd.conf", NULL);
	w->faketime_rc = g_build_filename(w->dir, "faketime.rc", NULL);
	/* The default configuration: no require-clock-sync. */
	text = g_strdup_printf("[gateway]\n"
			       "database=%s\n"
			       "timezone=UTC\n"
			       "[mqtt]\n"
			       "host=127.0.0.1\n"
			       "port=%d\n"
			       "[user alice]\n"
			       "display-name=Alice\n"
			       "heart-rate=%s\n"
			       "bed-sensor=%s\n"
			       "%s",
			       w->database, broker_port(w->broker), STRAP, BED,
			       alert_line);
	g_assert_true(g_file_set_contents(w->config, text, -1, &error));
	g_assert_no_error(error);
	return true;
}

static bool world_new(struct world *w, int alert_delay_s)
{
	return world_new_full(w, alert_delay_s, NULL);
}

/* libfaketime, or NULL (with the reason given to g_test_skip). */
static const char *faketime_library(void)
{
	const char *lib = g_getenv("LIBFAKETIME");

	if (lib && *lib && g_file_test(lib, G_FILE_TEST_EXISTS))
		return lib;
	g_test_skip("libfaketime is not installed (Debian package "
		    "libfaketime): no fake wall clock for the daemon");
	return NULL;
}

/* The daemon's wall clock from now on: a libfaketime spec ("@1970-01-02
 * 00:00:00" starts there and ticks; "+0", "-10m", "+2h" are offsets from
 * the real clock). */
static void fake_clock(struct world *w, const char *spec)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(w->faketime_rc, spec, -1, &error));
	g_assert_no_error(error);
}

static GSubprocess *daemon_spawn(struct world *w, const char *log_name,
				 bool fake_time)
{
	/* stdout too: GLib writes info and debug lines there. */
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GError) error = NULL;
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);
	GSubprocess *p;

	if (fake_time) {
		/* Only the wall clock: the monotonic clock stays real, as
		 * the kernel keeps it while NTP or a person sets the time. */
		g_autofree char *asan = g_strdup_printf(
		    "%s%sverify_asan_link_order=0",
		    g_getenv("ASAN_OPTIONS") ? g_getenv("ASAN_OPTIONS") : "",
		    g_getenv("ASAN_OPTIONS") ? ":" : "");

		g_subprocess_launcher_setenv(launcher, "LD_PRELOAD",
					     g_getenv("LIBFAKETIME"), TRUE);
		g_subprocess_launcher_setenv(
		    launcher, "FAKETIME_TIMESTAMP_FILE", w->faketime_rc, TRUE);
		g_subprocess_launcher_setenv(launcher, "FAKETIME_NO_CACHE", "1",
					     TRUE);
		g_subprocess_launcher_setenv(
		    launcher, "FAKETIME_DONT_FAKE_MONOTONIC", "1", TRUE);
		g_subprocess_launcher_setenv(launcher, "TZ", "UTC", TRUE);
		g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", asan,
					     TRUE);
	}

	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS",
				     standin_bus_address(w->bus), TRUE);
	g_subprocess_launcher_setenv(launcher, "G_MESSAGES_DEBUG", "recoveryd",
				     TRUE);
	g_subprocess_launcher_setenv(launcher, "NOTIFY_SOCKET", w->notify_path,
				     TRUE);
	/* The daemon logs warnings on purpose (a refused reload): they must
	 * not abort it as they abort this test. */
	g_subprocess_launcher_unsetenv(launcher, "G_DEBUG");
	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	p = g_subprocess_launcher_spawn(launcher, &error, g_getenv("RECOVERYD"),
					"--config", w->config, NULL);
	g_assert_no_error(error);
	return p;
}

static GSubprocess *daemon_start(struct world *w, const char *log_name)
{
	return daemon_spawn(w, log_name, false);
}

static void daemon_dump_log(struct world *w, const char *log_name)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);

	test_print_file(log, log_name);
}

static int daemon_stop(GSubprocess *p)
{
	return test_stop(p);
}

/* Index of the first message from @from on @topic whose payload holds
 * @needle (NULL: any), waiting at most @timeout_ms; -1 if none came. */
static int wait_message(probe *p, unsigned from, const char *topic,
			const char *needle, unsigned timeout_ms)
{
	return probe_wait_message(p, from, topic, needle, timeout_ms);
}

/* Everything sent to NOTIFY_SOCKET so far, one datagram per line. */
static void read_notify(struct world *w, GString *into)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(w->notify_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = 0;
		g_string_append(into, buf);
		g_string_append_c(into, '\n');
	}
}

static void write_config(struct world *w, const char *extra)
{
	g_autofree char *text = NULL;
	g_autofree char *old = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_get_contents(w->config, &old, NULL, &error));
	text = g_strconcat(old, extra, NULL);
	g_assert_true(g_file_set_contents(w->config, text, -1, &error));
	g_assert_no_error(error);
}

static unsigned count_messages(probe *p, const char *topic)
{
	unsigned n = 0, count = probe_count(p);

	for (unsigned i = 0; i < count; i++) {
		g_autoptr(probe_message) m = probe_get(p, i);

		if (m && strcmp(m->topic, topic) == 0)
			n++;
	}
	return n;
}

static bool wait_subscribed(StandinBus *bus, const char *address,
			    unsigned timeout_ms)
{
	return standin_wait_subscribed(bus, address, timeout_ms);
}

/* The daemon started and ready: online, alice's device (with @entity)
 * discovered by Home Assistant, the strap's notifications subscribed. */
static GSubprocess *daemon_start_ready(struct world *w, const char *log_name,
				       const char *entity)
{
	GSubprocess *p = daemon_start(w, log_name);
	g_autofree char *config = g_strdup_printf("\"%s\":{", entity);
	int i = wait_message(w->probe, 0, "recovery/status", "online", 10000);

	if (i < 0)
		daemon_dump_log(w, log_name);
	g_assert_cmpint(i, >=, 0);
	g_assert_cmpint(wait_message(w->probe, 0,
				     "homeassistant/device/recoveryd/"
				     "recovery_user_alice/config",
				     config, 5000),
			>=, 0);
	g_assert_true(wait_subscribed(w->bus, STRAP, 15000));
	return p;
}

static void bed(StandinBus *bus, bool occupied)
{
	/* BTHome v2: packet id, then occupancy. */
	static guint8 packet_id;
	guint8 frame[] = { 0x40, 0x00, ++packet_id, 0x23, occupied };
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = standin_call(
	    bus, "SetServiceData",
	    g_variant_new("(ss@ay)", BED, BTHOME,
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, frame,
						    sizeof(frame), 1)),
	    NULL, &error);

	g_assert_no_error(error);
	(void)reply;
}

/* Waits (at most @timeout_s) for the strap's stream of @count to end;
 * returns how many notifications reached the daemon. */
static guint stream_delivered(StandinBus *bus, guint count, int timeout_s)
{
	return standin_stream_delivered(bus, STRAP, "2a37", count, timeout_s);
}

/* Whether an NTP client synchronised this machine's clock (adjtimex). */
static bool kernel_synchronised(void)
{
	struct timex tx = { 0 };
	int state = adjtimex(&tx);

	return state >= 0 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
}

/* The strap sends @count heart rates (62 bpm, one RR each) at @hz. */
static void stream_start(StandinBus *bus, guint hz, guint count)
{
	standin_stream_start(bus, STRAP, "2a37", hrm, sizeof(hrm), hz, count);
}

/* The strap's usual stream: STREAM_COUNT heart rates at STREAM_HZ. */
static void start_stream(struct world *w)
{
	stream_start(w->bus, STREAM_HZ, STREAM_COUNT);
}

/*
 * Readings in, state, live values and the morning alert out; SIGTERM:
 * "offline" published, every delivered heart rate in the database, the
 * foreign strap never touched; a restart the same day sends no second
 * alert.
 */
static void test_night_to_alert(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	struct world w;
	struct store_span span = { 0 };
	g_autoptr(GArray) results =
	    g_array_new(FALSE, FALSE, sizeof(struct store_result));
	store *s;
	int64_t user;
	guint delivered;
	int i, alert;
	unsigned online_before;

	if (!world_new(&w, 12))
		goto out;
	/* Home Assistant discovery for the person and the devices. */
	daemon = daemon_start_ready(&w, "first.log", "score");
	bed(w.bus, true);
	start_stream(&w);

	/* Live values: the heart rate and the bed, as a dashboard sees
	 * them; the strap's device topic says connected. */
	i = wait_message(w.probe, 0, "recovery/alice/live",
			 "\"heart_rate_bpm\":62", 10000);
	if (i < 0) {
		daemon_dump_log(&w, "first.log");
		for (unsigned k = 0; k < probe_count(w.probe); k++) {
			g_autoptr(probe_message) m = probe_get(w.probe, k);

			if (!g_str_has_prefix(m->topic, "homeassistant"))
				g_printerr("%s %s\n", m->topic, m->payload);
		}
	}
	g_assert_cmpint(i, >=, 0);
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/alice/live",
				     "\"bed\":true", 10000),
			>=, 0);
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/device/00aa01010001",
				     "\"connection\":\"connected\"", 10000),
			>=, 0);
	delivered = stream_delivered(w.bus, STREAM_COUNT, 30);
	g_assert_cmpuint(delivered, ==, STREAM_COUNT);

	/* systemd hears READY and a status line a person can read. */
	{
		g_autoptr(GString) notes = g_string_new(NULL);

		read_notify(&w, notes);
		g_assert_nonnull(strstr(notes->str, "READY=1"));
		g_assert_nonnull(strstr(notes->str, "broker connected"));
		g_assert_nonnull(strstr(notes->str, "2 of 2 devices heard"));
	}

	/* SIGHUP: a broken file is refused and the daemon goes on; then bob
	 * joins without a restart and Home Assistant hears of him. */
	write_config(&w, "[user bob]\nheart-rate=zz\n");
	g_subprocess_send_signal(daemon, SIGHUP);
	g_usleep(300000);
	/* Still running: no identifier once it has ended. */
	g_assert_nonnull(g_subprocess_get_identifier(daemon));
	{
		g_autofree char *good = NULL;
		g_autofree char *text = NULL;

		g_assert_true(
		    g_file_get_contents(w.config, &text, NULL, &error));
		*strstr(text, "[user bob]") = 0;
		good = g_strconcat(text, "[user bob]\n", NULL);
		g_assert_true(g_file_set_contents(w.config, good, -1, &error));
	}
	g_subprocess_send_signal(daemon, SIGHUP);
	i = wait_message(w.probe, 0,
			 "homeassistant/device/recoveryd/recovery_user_bob/"
			 "config",
			 "\"score\":{", 5000);
	if (i < 0)
		daemon_dump_log(&w, "first.log");
	g_assert_cmpint(i, >=, 0);
	{
		g_autofree char *log =
		    g_build_filename(w.dir, "first.log", NULL);
		g_autofree char *text = NULL;

		g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
		g_assert_nonnull(strstr(text, "reload failed, the running "
					      "configuration stays"));
		g_assert_nonnull(strstr(text, ":14: [user bob] heart-rate:"));
		g_assert_nonnull(strstr(text, "reloaded"));
		/* The default configuration trusts a clock that no NTP
		 * client synchronised once it passes the floor. */
		g_test_message("this machine's clock is %ssynchronised by NTP",
			       kernel_synchronised() ? "" : "not ");
		g_assert_nonnull(strstr(text, "the clock is trusted ("));
		if (!kernel_synchronised())
			g_assert_nonnull(
			    strstr(text, "no NTP synchronisation"));
	}

	/* A check-in from the dashboard. */
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"mood\":4,\"energy\":3}", 1, false));

	/* The morning alert at its time, with the state beside it. */
	alert = wait_message(w.probe, 0, "recovery/alice/alert",
			     "\"user\":\"alice\"", 40000);
	if (alert < 0)
		daemon_dump_log(&w, "first.log");
	g_assert_cmpint(alert, >=, 0);
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/alice/state",
				     "\"advice\"", 5000),
			>=, 0);

	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpint(wait_message(w.probe, (unsigned)alert,
				     "recovery/status", "offline", 5000),
			>=, 0);
	g_assert_cmpuint(standin_calls(w.bus, "Connect:" FOREIGN), ==, 0);

	/* Nothing lost: every delivered notification is a heart rate and an
	 * RR interval in the database, the bed state and check-in too. */
	s = store_open(w.database, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(store_user_id(s, "alice", &user, &error));
	g_assert_true(
	    store_load_span(s, user, 0, INT64_MAX / 2, &span, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(span.hr->len, ==, delivered);
	g_assert_cmpuint(span.rr->len, ==, delivered);
	g_assert_cmpfloat_with_epsilon(
	    g_array_index(span.rr, struct rr_sample, 0).rr_ms,
	    991 * 1000.0 / 1024.0, 1e-9);
	g_assert_cmpuint(span.bed->len, >=, 1);
	g_assert_true(g_array_index(span.bed, struct state_sample, 0).on);
	g_assert_cmpuint(span.checkins->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(span.checkins, struct checkin_sample, 0).mood, ==, 4);
	store_span_clear(&span);
	g_assert_true(
	    store_get_results(s, user, 0, INT32_MAX - 1, results, &error));
	g_assert_cmpuint(results->len, ==, 1);
	g_assert_cmpint(
	    g_array_index(results, struct store_result, 0).alerted_ms, >, 0);
	store_close(s);

	/* Started again the same day: online again, no second alert. */
	online_before = probe_count(w.probe);
	g_clear_object(&daemon);
	daemon = daemon_start(&w, "second.log");
	g_assert_cmpint(wait_message(w.probe, online_before, "recovery/status",
				     "online", 10000),
			>=, 0);
	/* Past two morning checks (every 10 s). */
	g_usleep(22 * G_USEC_PER_SEC);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpuint(count_messages(w.probe, "recovery/alice/alert"), ==,
			 1);
out:
	world_free(&w);
}

/* --- the clock ------------------------------------------------------------ */

static char *read_log(struct world *w, const char *log_name)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* Waits at most @timeout_ms for @needle in the daemon's log. */
static bool wait_log(struct world *w, const char *log_name, const char *needle,
		     unsigned timeout_ms)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);

	if (test_wait_file_text(log, needle, timeout_ms))
		return true;
	daemon_dump_log(w, log_name);
	return false;
}

/* The first column of every row of @sql on the database, as int64. */
static GArray *db_ints(struct world *w, const char *sql)
{
	GArray *values = g_array_new(FALSE, FALSE, sizeof(int64_t));
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	g_assert_cmpint(
	    sqlite3_open_v2(w->database, &db, SQLITE_OPEN_READONLY, NULL), ==,
	    SQLITE_OK);
	test_db_unpack_for(db, sql);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);

		g_array_append_val(values, v);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return values;
}

static int64_t db_int(struct world *w, const char *sql)
{
	g_autoptr(GArray) v = db_ints(w, sql);

	g_assert_cmpuint(v->len, ==, 1);
	return g_array_index(v, int64_t, 0);
}

/* No live value or device state carries a time, none says 1970. */
static void assert_no_times(struct world *w)
{
	unsigned n = probe_count(w->probe), checked = 0;

	for (unsigned i = 0; i < n; i++) {
		g_autoptr(probe_message) m = probe_get(w->probe, i);

		if (!m)
			continue;
		g_assert_null(strstr(m->payload, "1970-"));
		if (g_str_has_prefix(m->topic, "recovery/device/") ||
		    g_str_has_suffix(m->topic, "/live")) {
			g_assert_null(strstr(m->payload, "\"updated\""));
			g_assert_null(strstr(m->payload, "\"last_seen\""));
			checked++;
		}
	}
	g_assert_cmpuint(checked, >, 0);
}

/* --- what Home Assistant receives ------------------------------------------
 */

#define HA_DEVICE "homeassistant/device/recoveryd/"

/* The component @id of the device config @payload, or NULL. */
static JsonObject *config_component(JsonParser *parser, const char *payload,
				    const char *id)
{
	g_autoptr(GError) error = NULL;
	JsonObject *root, *cmps;

	g_assert_true(json_parser_load_from_data(parser, payload, -1, &error));
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	cmps = json_object_get_object_member(root, "cmps");
	g_assert_nonnull(cmps);
	return json_object_get_object_member(cmps, id);
}

/*
 * The real daemon and mosquitto, as a subscriber to homeassistant/# sees
 * them: one device config per device (the gateway's first, named by the
 * others as via_device), the morning alert as an event entity, check-in
 * numbers whose state topic echoes the check-in as stored, and a bed
 * sensor not heard for 15 minutes (the daemon's wall clock moved on under
 * libfaketime) reported silent, which its availability makes unavailable.
 */
static void test_home_assistant(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GHashTable) configs =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *first = NULL;
	struct world w = { .notify_fd = -1 };
	JsonObject *c, *root, *device;
	JsonArray *availability;
	int i, person, bed_config;
	unsigned n;

	if (!faketime_library() || !world_new(&w, 0))
		goto out;
	fake_clock(&w, "+0");
	daemon = daemon_spawn(&w, "ha.log", true);
	if (wait_message(w.probe, 0, "recovery/status", "online", 10000) < 0)
		daemon_dump_log(&w, "ha.log");
	person = wait_message(
	    w.probe, 0, HA_DEVICE "recovery_user_alice/config", NULL, 10000);
	g_assert_cmpint(person, >=, 0);
	bed_config = wait_message(w.probe, 0,
				  HA_DEVICE "recovery_ble_a4c138000002/config",
				  NULL, 5000);
	g_assert_cmpint(bed_config, >=, 0);
	g_usleep(500000);

	/* Device-based discovery: one retained config per device, the
	 * gateway's first. */
	n = probe_count(w.probe);
	for (unsigned k = 0; k < n; k++) {
		g_autoptr(probe_message) m = probe_get(w.probe, k);

		if (!g_str_has_prefix(m->topic, HA_DEVICE) || m->len == 0)
			continue;
		if (!first)
			first = g_strdup(m->topic);
		g_hash_table_add(configs, g_strdup(m->topic));
	}
	g_test_message("%u device configs", g_hash_table_size(configs));
	g_assert_cmpstr(first, ==, HA_DEVICE "recovery_gateway/config");
	/* The gateway, alice, her strap and her bed sensor. */
	g_assert_cmpuint(g_hash_table_size(configs), ==, 4);
	{
		/* What Home Assistant starting now finds retained under its
		 * prefix: those four, nothing per entity. */
		const char *const topics[] = { "homeassistant/#", NULL };
		g_autoptr(GError) error = NULL;
		g_autoptr(probe) late = probe_new(broker_probe_port(w.broker),
						  NULL, NULL, topics, &error);

		g_assert_no_error(error);
		g_usleep(500000);
		g_assert_cmpuint(probe_count(late), ==, 4);
		for (unsigned k = 0; k < 4; k++) {
			g_autoptr(probe_message) m = probe_get(late, k);

			g_assert_true(m->retain);
			g_assert_true(g_hash_table_contains(configs, m->topic));
		}
	}

	/* Alice: via the gateway, the alert an event, check-ins read back. */
	{
		g_autoptr(probe_message) m =
		    probe_get(w.probe, (unsigned)person);

		c = config_component(parser, m->payload, "alert");
		g_assert_nonnull(c);
		g_assert_cmpstr(json_object_get_string_member(c, "platform"),
				==, "event");
		g_assert_cmpstr(json_object_get_string_member(c, "state_topic"),
				==, "recovery/alice/alert");
		root = json_node_get_object(json_parser_get_root(parser));
		device = json_object_get_object_member(root, "device");
		g_assert_cmpstr(
		    json_object_get_string_member(device, "via_device"), ==,
		    "recoveryd_recovery_gateway");
		c = config_component(parser, m->payload, "mood");
		g_assert_cmpstr(json_object_get_string_member(c, "state_topic"),
				==, "recovery/alice/checkin");
		g_assert_nonnull(
		    config_component(parser, m->payload, "contact"));
	}
	/* The bed sensor: available only while not silent, both needed. */
	{
		g_autoptr(probe_message) m =
		    probe_get(w.probe, (unsigned)bed_config);

		g_assert_nonnull(
		    config_component(parser, m->payload, "battery"));
		root = json_node_get_object(json_parser_get_root(parser));
		g_assert_cmpstr(
		    json_object_get_string_member(root, "availability_mode"),
		    ==, "all");
		availability =
		    json_object_get_array_member(root, "availability");
		g_assert_cmpuint(json_array_get_length(availability), ==, 2);
		g_assert_cmpstr(
		    json_object_get_string_member(
			json_array_get_object_element(availability, 1),
			"topic"),
		    ==, "recovery/device/a4c138000002");
	}

	/* A check-in: the stored one comes back, retained, after it was
	 * filed. */
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"mood\":4,\"energy\":3}", 1, false));
	i = wait_message(w.probe, 0, "recovery/alice/checkin", "\"mood\":4",
			 10000);
	if (i < 0)
		daemon_dump_log(&w, "ha.log");
	g_assert_cmpint(i, >=, 0);
	{
		/* Retained: a subscriber that comes later gets it too. */
		const char *const topics[] = { "recovery/alice/checkin", NULL };
		g_autoptr(GError) error = NULL;
		g_autoptr(probe) late = probe_new(broker_probe_port(w.broker),
						  NULL, NULL, topics, &error);
		g_autoptr(probe_message) m = NULL;

		g_assert_no_error(error);
		g_assert_cmpint(wait_message(late, 0, "recovery/alice/checkin",
					     "\"mood\":4", 5000),
				==, 0);
		m = probe_get(late, 0);
		g_assert_true(m->retain);
		g_assert_nonnull(strstr(m->payload, "\"energy\":3"));
		g_assert_null(strstr(m->payload, "soreness"));
	}
	g_assert_true(wait_log(&w, "ha.log", "alice: check-in received", 5000));

	/* The bed sensor heard, then not for 20 minutes: silent. */
	bed(w.bus, true);
	i = wait_message(w.probe, 0, "recovery/device/a4c138000002",
			 "\"connection\":\"advertising\"", 10000);
	g_assert_cmpint(i, >=, 0);
	{
		/* The advertised name, for the "Advertised name" entity. */
		g_autoptr(probe_message) m = probe_get(w.probe, (unsigned)i);

		g_assert_nonnull(strstr(m->payload, "\"name\":\"Bed\""));
	}
	n = probe_count(w.probe);
	fake_clock(&w, "+20m");
	i = wait_message(w.probe, n, "recovery/device/a4c138000002",
			 "\"connection\":\"silent\"", 15000);
	if (i < 0)
		daemon_dump_log(&w, "ha.log");
	g_assert_cmpint(i, >=, 0);
	/* Heard again: back. */
	n = probe_count(w.probe);
	bed(w.bus, false);
	g_assert_cmpint(wait_message(w.probe, n, "recovery/device/a4c138000002",
				     "\"connection\":\"advertising\"", 15000),
			>=, 0);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
out:
	world_free(&w);
}

/*
 * A box whose clock starts in 1970 (no RTC, no NTP yet), under libfaketime:
 * readings are held in the database, no MQTT payload carries a time, and
 * SIGTERM says how many are held. Started again in the same boot on a
 * clock that is real but earlier than the newest stored reading, it still
 * holds them; when the clock moves past that floor they are filed at their
 * wall time.
 */
static void test_clock_held(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) hr = NULL;
	g_autofree char *log = NULL;
	const char *line;
	struct world w = { .notify_fd = -1 };
	int64_t now_ms, held, shift_ms;
	g_autofree char *sql = NULL;
	guint delivered;
	bool synced = kernel_synchronised();
	store *s;
	int64_t user;

	if (!faketime_library() || !world_new(&w, 0))
		goto out;
	g_test_message("this machine's clock is %ssynchronised by NTP",
		       synced ? "" : "not ");
	fake_clock(&w, "@1970-01-02 00:00:00");
	daemon = daemon_spawn(&w, "held.log", true);
	if (wait_message(w.probe, 0, "recovery/status", "online", 10000) < 0)
		daemon_dump_log(&w, "held.log");
	g_assert_true(wait_subscribed(w.bus, STRAP, 15000));
	g_assert_true(wait_log(&w, "held.log", "is not trusted yet", 5000));
	bed(w.bus, true);
	start_stream(&w);
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/alice/live",
				     "\"heart_rate_bpm\":62", 10000),
			>=, 0);
	delivered = stream_delivered(w.bus, STREAM_COUNT, 30);
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/device/00aa01010001",
				     "\"connection\":\"connected\"", 5000),
			>=, 0);
	assert_no_times(&w);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);

	/* SIGTERM: the held readings are in the database, and the log says
	 * how many. */
	log = read_log(&w, "held.log");
	line = strstr(log, " readings are held in the database until the "
			   "clock is trusted");
	g_assert_nonnull(line);
	while (line > log && g_ascii_isdigit(line[-1]))
		line--;
	held = g_ascii_strtoll(line, NULL, 10);
	g_assert_cmpint(held, >=, 2 * (int64_t)delivered);
	g_assert_cmpint(db_int(&w, "SELECT count(*) FROM held"), ==, held);
	g_assert_cmpint(db_int(&w, "SELECT count(*) FROM hr"), ==, 0);

	/* A reading an hour ahead of the real clock is now the floor. */
	now_ms = g_get_real_time() / 1000;
	s = store_open(w.database, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(store_user_id(s, "alice", &user, &error));
	g_assert_true(store_add_hr(s, user, now_ms + 3600000, 70, &error));
	g_assert_no_error(error);
	store_close(s);

	fake_clock(&w, "+0");
	g_clear_object(&daemon);
	daemon = daemon_spawn(&w, "filed.log", true);
	if (!synced) {
		g_assert_true(
		    wait_log(&w, "filed.log", "newest stored reading", 10000));
		/* Past a check of the clock (every 5 s): still held. */
		g_usleep(6 * G_USEC_PER_SEC);
		log = (g_free(log), read_log(&w, "filed.log"));
		g_assert_null(strstr(log, "the clock is trusted"));
		fake_clock(&w, "+2h");
	}
	g_assert_true(
	    wait_log(&w, "filed.log", "the clock is trusted: filed ", 15000));
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	/* Those of the first run, and any the second received (the bed
	 * sensor's advert, seen again). */
	log = (g_free(log), read_log(&w, "filed.log"));
	line = strstr(log, "the clock is trusted: filed ");
	g_assert_cmpint(g_ascii_strtoll(line + strlen("the clock is trusted: "
						      "filed "),
					NULL, 10),
			>=, held);
	g_assert_cmpint(db_int(&w, "SELECT count(*) FROM held"), ==, 0);
	g_assert_cmpint(db_int(&w, "SELECT count(*) FROM rr"), ==, delivered);
	/* Filed at the wall time they were received (the faked one): an
	 * hour after the reading that was the floor, none in 1970. */
	sql = g_strdup_printf(
	    "SELECT t_ms FROM hr WHERE t_ms != %" G_GINT64_FORMAT
	    " ORDER BY t_ms",
	    now_ms + 3600000);
	hr = db_ints(&w, sql);
	g_assert_cmpuint(hr->len, ==, delivered);
	shift_ms = synced ? 0 : 2 * 3600000;
	g_assert_cmpint(g_array_index(hr, int64_t, 0), >=,
			now_ms + shift_ms - 10 * 60000);
	g_assert_cmpint(g_array_index(hr, int64_t, hr->len - 1), <=,
			now_ms + shift_ms + 60000);
out:
	world_free(&w);
}

/* --- late data ------------------------------------------------------------ */

/* Two weeks of history before today's morning. */
#define SEED_DAYS 14

/* A healthy person's samples of every day, in time order per kind. */
static void seed_rr(void *data, int person, int64_t t_ms, double rr_ms)
{
	struct store_span *all = data;
	struct rr_sample v = { t_ms, rr_ms };

	g_array_append_val(all->rr, v);
}

static void seed_hr(void *data, int person, int64_t t_ms, double bpm)
{
	struct store_span *all = data;
	struct hr_sample v = { t_ms, bpm };

	g_array_append_val(all->hr, v);
}

static void seed_bed(void *data, int person, int64_t t_ms, bool on)
{
	struct store_span *all = data;
	struct state_sample v = { t_ms, on };

	g_array_append_val(all->bed, v);
}

static void seed_motion(void *data, int person, int64_t t_ms, bool on)
{
	struct store_span *all = data;
	struct state_sample v = { t_ms, on };

	g_array_append_val(all->motion, v);
}

static void seed_weight(void *data, int person, int scale_user, int64_t t_ms,
			double kg, double fat)
{
	struct store_span *all = data;
	struct weight_sample v = { t_ms, kg, fat };

	g_array_append_val(all->weights, v);
}

/* The elements of @in (each starting with its int64 time) in [@from,
 * @to), after the last one before @from when @with_last_before. */
static GArray *time_window(GArray *in, int64_t from, int64_t to,
			   bool with_last_before)
{
	guint elem = g_array_get_element_size(in);
	GArray *out = g_array_new(FALSE, FALSE, elem);
	gint last_before = -1;

	for (guint i = 0; i < in->len; i++) {
		int64_t t;

		memcpy(&t, in->data + (size_t)i * elem, sizeof(t));
		if (t < from)
			last_before = (gint)i;
		else if (t < to) {
			if (with_last_before && last_before >= 0) {
				g_array_append_vals(
				    out, in->data + (size_t)last_before * elem,
				    1);
				last_before = -1;
			}
			g_array_append_vals(out, in->data + (size_t)i * elem,
					    1);
		}
	}
	return out;
}

/* The check-in of day @index of a seeded person: varied (never the same
 * seven days running), energy 2 on the two days before today when @flat;
 * none today, which the test sends. */
static bool seed_checkin(int index, bool flat, struct checkin_sample *ret)
{
	if (index >= SEED_DAYS - 1)
		return false;
	ret->mood = 4;
	ret->soreness = 2;
	ret->energy = index % 2 ? 3 : 4;
	if (flat && index >= SEED_DAYS - 3) {
		ret->mood = 3;
		ret->energy = 2;
	}
	return true;
}

/*
 * The database at @db with SEED_DAYS of a healthy person for each of
 * @users, today (in @zone) the last: the nights before today stored as the
 * daemon stores them, today's night as raw readings for the daemon to
 * analyse, a check-in every morning but today. @flat[i]: energy 2 on the
 * two days before today.
 */
static void seed_history(const char *db, const clock_zone *zone,
			 const char *const *users, const bool *flat,
			 size_t count)
{
	g_autoptr(GError) error = NULL;
	int32_t today = clock_day_of(zone, g_get_real_time() / 1000);
	struct scenario sc = { .seed = 1,
			       .first_day = today - SEED_DAYS + 1,
			       .days = SEED_DAYS,
			       .zone = zone };
	const struct scenario_sink sink = {
		.rr = seed_rr,
		.hr = seed_hr,
		.bed = seed_bed,
		.motion = seed_motion,
		.weight = seed_weight,
	};
	struct store_span all;
	int64_t raw_from = clock_day_start_ms(zone, today - 1);
	/* Nothing later than now: a stored reading in the future is the
	 * clock's floor (DESIGN §4), and the daemon would wait for it. */
	int64_t raw_to = MIN(clock_day_start_ms(zone, today + 1),
			     g_get_real_time() / 1000 - 60000);
	store *s;

	store_span_init(&all);
	for (int i = 0; i < SEED_DAYS; i++)
		scenario_emit_story_day(&sc, SCENARIO_STORY_HEALTHY, 0, i,
					&sink, &all);
	s = store_open(db, NULL, &error);
	g_assert_no_error(error);
	for (size_t u = 0; u < count; u++) {
		struct analyze_person person;
		int64_t id;

		g_assert_true(store_user_id(s, users[u], &id, &error));
		analyze_person_defaults(&person, id);
		for (int i = 0; i < SEED_DAYS; i++) {
			int32_t day = sc.first_day + i;
			int64_t from = clock_day_start_ms(zone, day - 1);
			int64_t to = clock_day_start_ms(zone, day + 1);
			struct checkin_sample c = {
				.t_ms = clock_local_ms(zone, day, 7 * 60 + 25),
			};
			struct store_span win = {
				.rr = time_window(all.rr, from, to, false),
				.hr = time_window(all.hr, from, to, false),
				.bed = time_window(all.bed, from, to, true),
				.motion =
				    time_window(all.motion, from, to, false),
				.weights =
				    time_window(all.weights, from, to, false),
				.checkins =
				    time_window(all.checkins, from, to, false),
			};
			struct night_metrics m;
			bool checked_in = seed_checkin(i, flat[u], &c);

			if (checked_in)
				g_assert_true(store_add_checkin(
				    s, id, c.t_ms, c.mood, c.soreness, c.energy,
				    &error));
			if (i < SEED_DAYS - 1) {
				analyze_metrics(zone, &person, day, &win, &m);
				if (checked_in) {
					m.mood = c.mood;
					m.soreness = c.soreness;
					m.energy = c.energy;
				}
				g_assert_true(
				    store_put_night(s, id, &m, &error));
			}
			store_span_clear(&win);
		}
		/* Today's night (and yesterday's training) as readings. */
		for (guint i = 0; i < all.rr->len; i++) {
			const struct rr_sample *v =
			    &g_array_index(all.rr, struct rr_sample, i);

			if (v->t_ms >= raw_from && v->t_ms < raw_to)
				g_assert_true(store_add_rr(s, id, v->t_ms,
							   v->rr_ms, &error));
		}
		for (guint i = 0; i < all.hr->len; i++) {
			const struct hr_sample *v =
			    &g_array_index(all.hr, struct hr_sample, i);

			if (v->t_ms >= raw_from && v->t_ms < raw_to)
				g_assert_true(store_add_hr(s, id, v->t_ms,
							   v->bpm, &error));
		}
		for (guint i = 0; i < all.bed->len; i++) {
			const struct state_sample *v =
			    &g_array_index(all.bed, struct state_sample, i);

			if (v->t_ms >= raw_from && v->t_ms < raw_to)
				g_assert_true(
				    store_add_state(s, id, STORE_STATE_BED,
						    v->t_ms, v->on, &error));
		}
		for (guint i = 0; i < all.motion->len; i++) {
			const struct state_sample *v =
			    &g_array_index(all.motion, struct state_sample, i);

			if (v->t_ms >= raw_from && v->t_ms < raw_to)
				g_assert_true(
				    store_add_state(s, id, STORE_STATE_MOTION,
						    v->t_ms, v->on, &error));
		}
		g_assert_no_error(error);
	}
	store_span_clear(&all);
	store_close(s);
}

/* A fixed-offset zone (Etc/GMT-N is UTC+N) where it is now between 12:00
 * and 13:00: the seeded night ended this morning, hours ago, so a check-in
 * now is after the wake-up, and the alert in a few seconds is today. */
static char *midday_zone(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	int offset_h = 12 - g_date_time_get_hour(now);

	return g_strdup_printf("Etc/GMT%s%d", offset_h > 0 ? "-" : "+",
			       ABS(offset_h));
}

/* The local time @delay_s from now in @zone, HH:MM:SS. */
static char *local_time_in(const char *zone, int delay_s)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(zone);
	g_autoptr(GDateTime) now = NULL;
	g_autoptr(GDateTime) later = NULL;

	g_assert_nonnull(tz);
	now = g_date_time_new_now(tz);
	later = g_date_time_add_seconds(now, delay_s);
	return g_date_time_format(later, "%H:%M:%S");
}

/* The config of test_late_data: three people without devices, their
 * alerts at @when, carol's held up to 2 minutes for her check-in. */
static void write_late_config(struct world *w, const char *zone,
			      const char *when)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = g_strdup_printf(
	    "[gateway]\n"
	    "database=%s\n"
	    "timezone=%s\n"
	    "require-clock-sync=false\n"
	    "[mqtt]\n"
	    "host=127.0.0.1\n"
	    "port=%d\n"
	    "[user alice]\n"
	    "display-name=Alice\n"
	    "morning-alert=%s\n"
	    "morning-latest=23:59:59\n"
	    "[user bob]\n"
	    "morning-alert=%s\n"
	    "morning-latest=23:59:59\n"
	    "[user carol]\n"
	    "morning-alert=%s\n"
	    "morning-latest=23:59:59\n"
	    "alert-wait-checkin=2\n",
	    w->database, zone, broker_port(w->broker), when, when, when);

	g_assert_true(g_file_set_contents(w->config, text, -1, &error));
	g_assert_no_error(error);
}

static const struct store_result *today_result(GArray *results)
{
	g_assert_cmpuint(results->len, ==, 1);
	return &g_array_index(results, struct store_result, 0);
}

/* How often @needle is in the daemon's log @log_name. */
static unsigned log_count(struct world *w, const char *log_name,
			  const char *needle)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);
	g_autofree char *text = NULL;
	unsigned n = 0;

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static bool log_has(struct world *w, const char *log_name, const char *needle)
{
	return log_count(w, log_name, needle) > 0;
}

/*
 * Late data counts (DESIGN §6). Two weeks of history, today's night in
 * the database, the alerts at a set time. After the morning alerts: a
 * check-in that makes alice's advice stale (energy 2 a third day) sends
 * her alert again with "update": true and updates the retained state and
 * the stored result; bob's ordinary check-in updates his state and sends
 * no second alert. carol's alert waits (alert-wait-checkin=2) and goes
 * out at once when her check-in comes. After a restart, the state that
 * was told is known: the same check-in again sends nothing.
 */
static void test_late_data(void)
{
	static const char *const users[] = { "alice", "bob", "carol" };
	static const bool flat[] = { true, false, false };
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *zone_name = midday_zone();
	g_autoptr(clock_zone) zone = clock_zone_new(zone_name, &error);
	g_autofree char *when = NULL;
	struct world w;
	int i, alice_alert, bob_alert, update, carol_alert;
	unsigned from;
	int64_t sent_us;
	int32_t today;
	store *s;

	if (!zone) {
		g_test_skip("no tzdata for the Etc/GMT zones (install tzdata)");
		return;
	}
	if (!world_new(&w, 15))
		goto out;
	when = local_time_in(zone_name, 15);
	write_late_config(&w, zone_name, when);
	seed_history(w.database, zone, users, flat, G_N_ELEMENTS(users));
	today = clock_day_of(zone, g_get_real_time() / 1000);

	daemon = daemon_start(&w, "late.log");
	g_assert_cmpint(
	    wait_message(w.probe, 0, "recovery/status", "online", 10000), >=,
	    0);

	/* The morning alerts of alice and bob, without a check-in yet. */
	alice_alert = wait_message(w.probe, 0, "recovery/alice/alert",
				   "\"user\":\"alice\"", 40000);
	if (alice_alert < 0)
		daemon_dump_log(&w, "late.log");
	g_assert_cmpint(alice_alert, >=, 0);
	bob_alert = wait_message(w.probe, 0, "recovery/bob/alert",
				 "\"user\":\"bob\"", 5000);
	g_assert_cmpint(bob_alert, >=, 0);
	{
		g_autoptr(probe_message) a =
		    probe_get(w.probe, (unsigned)alice_alert);

		g_test_message("alice's morning alert: %s", a->payload);
		g_assert_null(strstr(a->payload, "\"update\""));
		g_assert_null(strstr(a->payload, "\"state\":\"stale\""));
		g_assert_nonnull(strstr(a->payload, "Check in"));
	}
	/* carol's waits for her check-in. */
	g_usleep(2 * G_USEC_PER_SEC);
	g_assert_cmpuint(count_messages(w.probe, "recovery/carol/alert"), ==,
			 0);
	g_assert_true(log_has(&w, "late.log", "carol: night of"));
	g_assert_true(log_has(&w, "late.log", "waits up to 2 min"));

	/* Check-ins, after the morning. */
	from = probe_count(w.probe);
	sent_us = g_get_monotonic_time();
	g_assert_true(probe_publish(w.probe, "recovery/carol/checkin/set",
				    "{\"mood\":4,\"soreness\":2,\"energy\":4}",
				    1, false));
	carol_alert = wait_message(w.probe, from, "recovery/carol/alert",
				   "\"user\":\"carol\"", 30000);
	if (carol_alert < 0)
		daemon_dump_log(&w, "late.log");
	g_assert_cmpint(carol_alert, >=, 0);
	{
		g_autoptr(probe_message) c =
		    probe_get(w.probe, (unsigned)carol_alert);

		/* The check-in is in it: no invitation, no update. */
		g_test_message("carol's alert after her check-in: %s",
			       c->payload);
		g_assert_null(strstr(c->payload, "Check in"));
		g_assert_null(strstr(c->payload, "\"update\""));
		/* Sent at once, not after the 2 minutes (a bound with room
		 * for a slow sanitizer build). */
		g_assert_cmpint(c->received_us - sent_us, <,
				30 * G_USEC_PER_SEC);
	}

	/* alice's comes as three values one after the other (as Home
	 * Assistant's number entities send them): one re-analysis. */
	from = probe_count(w.probe);
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"mood\":3}", 1, false));
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"soreness\":2}", 1, false));
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"energy\":2}", 1, false));
	g_assert_true(probe_publish(w.probe, "recovery/bob/checkin/set",
				    "{\"mood\":4,\"soreness\":2,\"energy\":4}",
				    1, false));
	update = wait_message(w.probe, from, "recovery/alice/alert",
			      "\"update\":true", 20000);
	if (update < 0)
		daemon_dump_log(&w, "late.log");
	g_assert_cmpint(update, >=, 0);
	{
		g_autoptr(probe_message) u =
		    probe_get(w.probe, (unsigned)update);

		g_test_message("alice's update alert: %s", u->payload);
		g_assert_nonnull(strstr(u->payload, "\"state\":\"stale\""));
		g_assert_null(strstr(u->payload, "Check in"));
	}
	/* The retained states carry the check-ins. */
	i = wait_message(w.probe, from, "recovery/alice/state", "\"energy\":2",
			 5000);
	g_assert_cmpint(i, >=, 0);
	{
		g_autoptr(probe_message) st = probe_get(w.probe, (unsigned)i);

		g_assert_nonnull(strstr(st->payload, "\"state\":\"stale\""));
	}
	g_assert_cmpint(wait_message(w.probe, from, "recovery/bob/state",
				     "\"mood\":4", 20000),
			>=, 0);
	/* A little longer: bob's advice did not change, no second alert. */
	g_usleep(2 * G_USEC_PER_SEC);
	g_assert_cmpuint(count_messages(w.probe, "recovery/bob/alert"), ==, 1);
	g_assert_cmpuint(count_messages(w.probe, "recovery/alice/alert"), ==,
			 2);
	g_assert_cmpuint(count_messages(w.probe, "recovery/carol/alert"), ==,
			 1);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpuint(log_count(&w, "late.log", "alice: day "), ==, 1);
	g_assert_cmpuint(log_count(&w, "late.log", "bob: day "), ==, 1);

	/* The store: results updated, and the state each alert told. */
	s = store_open(w.database, NULL, &error);
	g_assert_no_error(error);
	for (size_t u = 0; u < G_N_ELEMENTS(users); u++) {
		g_autoptr(GArray) results =
		    g_array_new(FALSE, FALSE, sizeof(struct store_result));
		const struct store_result *r;
		int64_t id;

		g_assert_true(store_user_id(s, users[u], &id, &error));
		g_assert_true(
		    store_get_results(s, id, today, today, results, &error));
		r = today_result(results);
		g_test_message("%s: advice %s, alert told %s", users[u],
			       r->advice_state, r->alerted_state);
		g_assert_cmpint(r->alerted_ms, >, 0);
		g_assert_cmpstr(r->alerted_state, ==, r->advice_state);
		g_assert_nonnull(strstr(r->state_json, "\"energy\""));
	}
	store_close(s);

	/* Restarted: the same check-in again changes nothing that was told:
	 * analysed again, no alert. */
	g_clear_object(&daemon);
	from = probe_count(w.probe);
	daemon = daemon_start(&w, "late-again.log");
	g_assert_cmpint(
	    wait_message(w.probe, from, "recovery/status", "online", 10000), >=,
	    0);
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"mood\":3,\"soreness\":2,\"energy\":2}",
				    1, false));
	for (int k = 0;
	     k < 100 && !log_has(&w, "late-again.log", "alice: day "); k++)
		g_usleep(100000);
	g_assert_true(log_has(&w, "late-again.log", "state updated"));
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpuint(count_messages(w.probe, "recovery/alice/alert"), ==,
			 2);
out:
	world_free(&w);
}

#define SCALE "AA:BB:CC:DD:EE:05"
static void okok_advertise(StandinBus *bus, const guint8 *frame, gsize n)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    standin_call(bus, "SetManufacturerData",
			 g_variant_new("(sq@ay)", SCALE, OKOK_V20_COMPANY,
				       g_variant_new_fixed_array(
					   G_VARIANT_TYPE_BYTE, frame, n, 1)),
			 NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(reply);
}

/*
 * An OKOK broadcast scale shared by two people, given as scale= with no
 * scale-protocol=: recognised by its advertisement, never connected; its
 * settling weight shows live, its final weighing, repeated twenty times,
 * is one row, the right person's (by weight range).
 */
static void test_broadcast_scale(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autoptr(GVariantBuilder) md = NULL;
	g_autoptr(GVariantBuilder) props = NULL;
	struct world w;
	struct store_span alice = { 0 }, bob = { 0 };
	g_autofree char *extra = NULL;
	store *s;
	int64_t id;

	if (!world_new(&w, 600))
		goto out;
	md = g_variant_builder_new(G_VARIANT_TYPE("a{qv}"));
	g_variant_builder_add(
	    md, "{qv}", (guint16)OKOK_V20_COMPANY,
	    g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, okok_v20_live,
				      sizeof(okok_v20_live), 1));
	props = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(props, "{sv}", "manufacturer-data",
			      g_variant_builder_end(md));
	g_free(standin_add_device(w.bus, SCALE, "ADV", "advertiser",
				  g_variant_builder_end(props), &error));
	g_assert_no_error(error);
	extra = g_strdup_printf("scale=%s\n"
				"weight-range=40-50\n"
				"[user bob]\n"
				"scale=%s\n"
				"weight-range=50-60\n",
				SCALE, SCALE);
	write_config(&w, extra);

	daemon = daemon_start(&w, "scale.log");
	if (wait_message(w.probe, 0, "recovery/bob/live", "\"weight_kg\":53.1",
			 15000) < 0) {
		daemon_dump_log(&w, "scale.log");
		g_error("no live weight for bob");
	}
	for (int i = 0; i < 20; i++) {
		okok_advertise(w.bus, okok_v20_final, sizeof(okok_v20_final));
		g_usleep(50 * 1000);
	}
	g_usleep(500 * 1000);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	/* The strap is connected; the scale never. */
	g_assert_cmpuint(standin_calls(w.bus, "Connect:" SCALE), ==, 0);
	{
		g_autofree char *log =
		    g_build_filename(w.dir, "scale.log", NULL);
		g_autofree char *text = NULL;

		g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
		g_assert_nonnull(strstr(text, "scale " SCALE " advertises as "
					      "okok: listening, never "
					      "connecting"));
	}

	s = store_open(w.database, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(store_user_id(s, "bob", &id, &error));
	g_assert_true(store_load_span(s, id, 0, INT64_MAX / 2, &bob, &error));
	g_assert_true(store_user_id(s, "alice", &id, &error));
	g_assert_true(store_load_span(s, id, 0, INT64_MAX / 2, &alice, &error));
	g_assert_no_error(error);
	if (bob.weights->len != 1)
		daemon_dump_log(&w, "scale.log");
	g_assert_cmpuint(bob.weights->len, ==, 1);
	g_assert_cmpfloat_with_epsilon(
	    g_array_index(bob.weights, struct weight_sample, 0).weight_kg,
	    53.10, 1e-9);
	g_assert_cmpuint(alice.weights->len, ==, 0);
	store_span_clear(&alice);
	store_span_clear(&bob);
	store_close(s);
out:
	world_free(&w);
}

/* The weighings stored for @name: their count, and the first one's weight
 * in @ret_kg (NAN: none). */
static guint stored_weights(const char *database, const char *name,
			    double *ret_kg)
{
	g_autoptr(GError) error = NULL;
	struct store_span span = { 0 };
	store *s = store_open(database, NULL, &error);
	int64_t id;
	guint n;

	g_assert_no_error(error);
	g_assert_true(store_user_id(s, name, &id, &error));
	g_assert_true(store_load_span(s, id, 0, INT64_MAX / 2, &span, &error));
	g_assert_no_error(error);
	n = span.weights->len;
	*ret_kg =
	    n ? g_array_index(span.weights, struct weight_sample, 0).weight_kg
	      : NAN;
	store_span_clear(&span);
	store_close(s);
	return n;
}

/* One SetWriteReply script: @prefix_hex written to @chr is answered by
 * each of the NULL-terminated @values_hex on @notify. */
static void script_reply(StandinBus *bus, const char *address, const char *chr,
			 const char *prefix_hex, const char *notify,
			 const char *const *values_hex)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) values =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	guint8 prefix[32];
	gsize prefix_len = 0;

	for (const char *p = prefix_hex; p[0] && p[1]; p += 2)
		prefix[prefix_len++] =
		    (guint8)(g_ascii_xdigit_value(p[0]) * 16 +
			     g_ascii_xdigit_value(p[1]));
	for (size_t i = 0; values_hex[i]; i++) {
		const char *h = values_hex[i];
		gsize n = strlen(h) / 2;
		guint8 *b = g_malloc(n);

		for (gsize k = 0; k < n; k++)
			b[k] = (guint8)(g_ascii_xdigit_value(h[2 * k]) * 16 +
					g_ascii_xdigit_value(h[2 * k + 1]));
		g_ptr_array_add(values, g_bytes_new_take(b, n));
	}
	g_assert_true(standin_write_reply(
	    bus, address, chr, prefix, prefix_len, notify,
	    (GBytes *const *)values->pdata, values->len, &error));
	g_assert_no_error(error);
}

/* How many values beginning with @hex the device @address was written on
 * @chr (a full UUID). */
static guint count_written(StandinBus *bus, const char *address,
			   const char *chr, const char *hex)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) state = standin_device_state(bus, address, &error);
	g_autoptr(GVariant) writes = NULL;
	GVariantIter it;
	const char *uuid, *type;
	GVariant *value;
	guint count = 0;

	g_assert_no_error(error);
	writes =
	    g_variant_lookup_value(state, "writes", G_VARIANT_TYPE("a(ssay)"));
	g_assert_nonnull(writes);
	g_variant_iter_init(&it, writes);
	while (g_variant_iter_next(&it, "(&s&s@ay)", &uuid, &type, &value)) {
		gsize n = 0;
		const guint8 *p = g_variant_get_fixed_array(value, &n, 1);
		g_autoptr(GString) got = g_string_new(NULL);

		for (gsize i = 0; i < n; i++)
			g_string_append_printf(got, "%02x", p[i]);
		g_variant_unref(value);
		if (strcmp(uuid, chr) == 0 && g_str_has_prefix(got->str, hex))
			count++;
	}
	return count;
}

static bool was_written(StandinBus *bus, const char *address, const char *chr,
			const char *hex)
{
	return count_written(bus, address, chr, hex) > 0;
}

/* Waits up to @timeout_ms until @address was written @hex on @chr at least
 * @count times. */
static bool wait_written(StandinBus *bus, const char *address, const char *chr,
			 const char *hex, guint count, unsigned timeout_ms)
{
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		if (count_written(bus, address, chr, hex) >= count)
			return true;
		g_usleep(50000);
	} while (g_get_monotonic_time() < end);
	return false;
}

#define QN	   "AA:BB:CC:DD:EE:06"
#define QN_UUID(x) "0000" x "-0000-1000-8000-00805f9b34fb"

/*
 * A QN/Renpho scale that weighs over a connection, given as scale= with no
 * scale-protocol= and shared by two people: recognised by its name,
 * connected, told the time, its unit (kg) after its 0x12 scale-info frame
 * and the time sync after its 0x14 answer; of its live frame and its stable
 * frame, sent three times, one row is stored, the right person's (by weight
 * range), at the 0x12 frame's divider.
 */
static void test_qn_scale(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	struct world w;
	g_autofree char *extra = NULL;
	double kg;
	/* Scale info, divider flag (byte 10) 1: 0.01 kg. */
	static const char *const info[] = { "120dff00000000000000010000",
					    NULL };
	static const char *const ack[] = { "1405ff0018", NULL };
	/* 71.20 kg settling; 72.35 kg stable, three times. */
	static const char *const weighing[] = { "100aff1bd00000000000",
						"100aff1c4301020801fe",
						"100aff1c4301020801fe",
						"100aff1c4301020801fe", NULL };

	if (!world_new(&w, 600))
		goto out;
	g_free(standin_add_device(
	    w.bus, QN, "QN-Scale", "weight-scale",
	    g_variant_new_parsed(
		"{'uuids': <['ffe0']>, "
		"'gatt': <[('ffe0', 'ffe1', ['notify']), "
		"('ffe0', 'ffe3', ['write', 'write-without-response']), "
		"('ffe0', 'ffe4', ['write', 'write-without-response'])]>}"),
	    &error));
	g_assert_no_error(error);
	script_reply(w.bus, QN, "ffe4", "02", "ffe1", info);
	script_reply(w.bus, QN, "ffe3", "13", "ffe1", ack);
	script_reply(w.bus, QN, "ffe3", "20", "ffe1", weighing);
	extra = g_strdup_printf("scale=%s\n"
				"weight-range=40-50\n"
				"[user bob]\n"
				"scale=%s\n"
				"weight-range=70-80\n",
				QN, QN);
	write_config(&w, extra);

	daemon = daemon_start(&w, "qn.log");
	if (wait_message(w.probe, 0, "recovery/bob/live", "\"weight_kg\":72.35",
			 15000) < 0) {
		daemon_dump_log(&w, "qn.log");
		g_error("no weighing for bob");
	}
	g_usleep(500 * 1000);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_true(log_has(&w, "qn.log",
			      "scale " QN " advertises as a qn-gatt scale"));
	/* Unit kg with the scale's protocol type 0xff, summed. */
	g_assert_true(
	    was_written(w.bus, QN, QN_UUID("ffe3"), "1309ff01100000002c"));
	/* The time, and the time sync that answers 0x14. */
	g_assert_true(was_written(w.bus, QN, QN_UUID("ffe4"), "02"));
	g_assert_true(was_written(w.bus, QN, QN_UUID("ffe3"), "2008ff"));
	g_assert_cmpuint(standin_calls(w.bus, "Connect:" QN), >=, 1);
	if (stored_weights(w.database, "bob", &kg) != 1)
		daemon_dump_log(&w, "qn.log");
	g_assert_cmpuint(stored_weights(w.database, "bob", &kg), ==, 1);
	g_assert_cmpfloat_with_epsilon(kg, 72.35, 1e-9);
	g_assert_cmpuint(stored_weights(w.database, "alice", &kg), ==, 0);
out:
	world_free(&w);
}

#define UDS_SCALE "AA:BB:CC:DD:EE:07"
#define UCP	  QN_UUID("2a9f")

/*
 * A standard scale that tags weighings only for users registered with its
 * User Data Service, shared by alice (registered on the scale herself:
 * scale-user=1, scale-consent=1111) and bob (not yet): the first
 * connection registers bob (consent code 0, the default), who is given
 * index 3, and consents as him; his weighing, tagged 3, is stored once, his
 * (no weight ranges: only the index tells them apart). The next connection
 * consents as alice, the one after as bob again, and after a restart the
 * stored index is used: bob is never registered twice.
 */
static void test_uds_scale(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	struct world w;
	g_autofree char *extra = NULL;
	double kg;
	static const char *const registered[] = { "20010103", NULL };
	static const char *const consented[] = { "200201", NULL };
	/* Weight Measurement, SI, user ID present: 75.00 kg, user 3. */
	static const guint8 weight3[] = { 0x04, 0x98, 0x3a, 0x03 };

	if (!world_new(&w, 600))
		goto out;
	g_free(standin_add_device(
	    w.bus, UDS_SCALE, "Scale", "weight-scale",
	    g_variant_new_parsed("{'known': <true>, "
				 "'gatt': <[('181d', '2a9d', ['indicate']), "
				 "('181d', '2a9e', ['read']), "
				 "('181c', '2a9f', ['write', 'indicate'])]>}"),
	    &error));
	g_assert_no_error(error);
	script_reply(w.bus, UDS_SCALE, "2a9f", "01", "2a9f", registered);
	script_reply(w.bus, UDS_SCALE, "2a9f", "02", "2a9f", consented);
	extra = g_strdup_printf("scale=%s\n"
				"scale-user=1\n"
				"scale-consent=1111\n"
				"[user bob]\n"
				"scale=%s\n",
				UDS_SCALE, UDS_SCALE);
	write_config(&w, extra);

	daemon = daemon_start(&w, "uds.log");
	/* Register New User with code 0, then Consent as index 3. */
	if (!wait_written(w.bus, UDS_SCALE, UCP, "02030000", 1, 15000)) {
		daemon_dump_log(&w, "uds.log");
		g_error("no consent as bob");
	}
	g_assert_cmpuint(count_written(w.bus, UDS_SCALE, UCP, "010000"), ==, 1);
	g_usleep(100 * 1000);
	g_assert_true(standin_notify(w.bus, UDS_SCALE, "2a9d", weight3,
				     sizeof(weight3), &error));
	g_assert_no_error(error);
	if (wait_message(w.probe, 0, "recovery/bob/live", "\"weight_kg\":75",
			 10000) < 0) {
		daemon_dump_log(&w, "uds.log");
		g_error("no weighing for bob");
	}
	/* The next connection consents as alice, with her own index. */
	g_assert_true(standin_drop(w.bus, UDS_SCALE, "remote", &error));
	g_assert_true(
	    wait_written(w.bus, UDS_SCALE, UCP, "02015704", 1, 15000));
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_clear_object(&daemon);
	g_assert_true(log_has(&w, "uds.log",
			      "scale " UDS_SCALE " registered bob as its user "
			      "3"));

	g_assert_cmpuint(stored_weights(w.database, "bob", &kg), ==, 1);
	g_assert_cmpfloat_with_epsilon(kg, 75.0, 1e-9);
	g_assert_cmpuint(stored_weights(w.database, "alice", &kg), ==, 0);
	{
		store *st = store_open(w.database, NULL, &error);
		struct store_scale_user u;
		int64_t id;

		g_assert_no_error(error);
		g_assert_true(store_user_id(st, "bob", &id, &error));
		g_assert_true(store_scale_user(st, UDS_SCALE, id, &u, &error));
		g_assert_true(u.found);
		g_assert_cmpint(u.user_index, ==, 3);
		g_assert_cmpint(u.consent_code, ==, 0);
		store_close(st);
	}

	/* Restarted: alice, then bob with the stored index; no new
	 * registration. */
	daemon = daemon_start(&w, "uds-again.log");
	g_assert_true(
	    wait_written(w.bus, UDS_SCALE, UCP, "02015704", 2, 15000));
	g_assert_true(standin_drop(w.bus, UDS_SCALE, "remote", &error));
	if (!wait_written(w.bus, UDS_SCALE, UCP, "02030000", 2, 15000)) {
		daemon_dump_log(&w, "uds-again.log");
		g_error("no consent as bob after the restart");
	}
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpuint(count_written(w.bus, UDS_SCALE, UCP, "01"), ==, 1);
out:
	world_free(&w);
}

/*
 * The wall clock steps back 10 minutes in the middle of a strap's stream:
 * logged once; the beats after it are filed 10 minutes earlier as a block,
 * their spacing kept (RR 968 ms apart, heart rates as they came), none
 * squeezed, none lost.
 */
static void test_clock_step_back(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autoptr(GArray) rr = NULL;
	g_autoptr(GArray) hr = NULL;
	g_autofree char *log = NULL;
	struct world w = { .notify_fd = -1 };
	guint before, after, split = 0;

	if (!faketime_library() || !world_new(&w, 0))
		goto out;
	fake_clock(&w, "+0");
	daemon = daemon_spawn(&w, "step.log", true);
	g_assert_true(wait_log(&w, "step.log", "the clock is trusted", 10000));
	g_assert_true(wait_subscribed(w.bus, STRAP, 15000));
	start_stream(&w);
	before = stream_delivered(w.bus, STREAM_COUNT, 30);
	fake_clock(&w, "-10m");
	start_stream(&w);
	after = stream_delivered(w.bus, STREAM_COUNT, 30);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);

	log = read_log(&w, "step.log");
	g_assert_nonnull(strstr(log, "stepped back by 10.0 min"));
	g_assert_null(strstr(strstr(log, "stepped back") + 1, "stepped"));

	rr = db_ints(&w, "SELECT t_ms FROM rr ORDER BY t_ms");
	g_assert_cmpuint(rr->len, ==, before + after);
	for (guint i = 1; i < rr->len; i++) {
		int64_t gap = g_array_index(rr, int64_t, i) -
			      g_array_index(rr, int64_t, i - 1);

		if (gap > 5 * 60000) {
			g_assert_cmpuint(split, ==, 0);
			split = i;
			continue;
		}
		/* 991/1024 s (967.8 ms) each: the beat's end and the
		 * clocks' offset each rounded to the millisecond. */
		g_assert_cmpint(gap, >=, 966);
		g_assert_cmpint(gap, <=, 970);
	}
	/* The later beats, 10 minutes earlier: first in time. */
	g_assert_cmpuint(split, ==, after);

	hr = db_ints(&w, "SELECT t_ms FROM hr ORDER BY t_ms");
	g_assert_cmpuint(hr->len, ==, before + after);
	/* 150 notifications at 20 Hz: some 7 s, not 150 ms squeezed. */
	g_assert_cmpint(g_array_index(hr, int64_t, after - 1) -
			    g_array_index(hr, int64_t, 0),
			>=, 3000);
	g_assert_cmpint(g_array_index(hr, int64_t, after) -
			    g_array_index(hr, int64_t, after - 1),
			>=, 5 * 60000);
out:
	world_free(&w);
}

/* The config with its lines of key @key ("morning-alert") set to
 * @value. */
static void set_key(struct world *w, const char *key, const char *value)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autofree char *prefix = g_strconcat(key, "=", NULL);
	g_auto(GStrv) lines = NULL;
	g_autofree char *joined = NULL;

	g_assert_true(g_file_get_contents(w->config, &text, NULL, &error));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, prefix)) {
			g_free(*l);
			*l = g_strconcat(prefix, value, NULL);
		}
	}
	joined = g_strjoinv("\n", lines);
	g_assert_true(g_file_set_contents(w->config, joined, -1, &error));
	g_assert_no_error(error);
}

/* The config with its morning-alert line set to @when. */
static void set_alert(struct world *w, const char *when)
{
	set_key(w, "morning-alert", when);
}

/* The payload of message @i. */
static char *payload_of(probe *p, int i)
{
	g_autoptr(probe_message) m = probe_get(p, (unsigned)i);

	g_assert_nonnull(m);
	return g_strdup(m->payload);
}

#define SPOT_BEATS 180 /* 3 minutes of beats, about 1 s each */

/* The world (world_new(@alert_delay_s)) with alice's usual wake time at
 * @wake, and the daemon started and ready, Home Assistant given the spot
 * check's sensor; NULL when the world is skipped. */
static GSubprocess *spot_daemon_start(struct world *w, int alert_delay_s,
				      const char *wake, const char *log_name)
{
	g_autofree char *wake_line = g_strdup_printf("wake=%s\n", wake);

	if (!world_new(w, alert_delay_s))
		return NULL;
	write_config(w, wake_line);
	return daemon_start_ready(w, log_name, "spot_check");
}

/* @count beats from the strap, ten a second: RR of 950 and 1050 ms in
 * turn (973/1024 s and 1075/1024 s: 950.2 and 1049.8 ms). */
static void send_beats(struct world *w, int count)
{
	for (int k = 0; k < count; k++) {
		g_autoptr(GError) error = NULL;
		guint16 rr = k % 2 ? 1075 : 973;
		const guint8 beat[] = { 0x16, 60, (guint8)(rr & 0xff),
					(guint8)(rr >> 8) };

		g_assert_true(standin_notify(w->bus, STRAP, "2a37", beat,
					     sizeof(beat), &error));
		g_assert_no_error(error);
		g_usleep(100000);
	}
}

/*
 * A morning spot check as it happens (DESIGN §4): no strap in the night;
 * ten minutes after the usual wake time the strap connects and sends 3
 * minutes of beats (RR of 950 and 1050 ms in turn), ten a second, then
 * stops. The live topic goes settling, measuring (with seconds), done
 * (149 s measured after the 30 s settling, RMSSD 99.6 ms); the morning
 * alert, due while the check is under way, waits for it, and the state
 * and alert carry the spot check's HRV (hrv_source "spot").
 */
static void test_spot_check_live(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *wake = clock_from_now(-10 * 60, "%H:%M");
	g_autofree char *alert_at = NULL;
	g_autofree char *done = NULL, *state = NULL, *alert_text = NULL;
	struct world w = { .notify_fd = -1 };
	int i, settling, measuring, finished, alert;

	if (!wake) {
		g_test_skip("too close to midnight UTC for a morning window");
		return;
	}
	daemon = spot_daemon_start(&w, 3600, wake, "spot.log");
	if (!daemon)
		goto out;

	/* The morning alert falls due in the middle of the spot check. */
	alert_at = clock_from_now(8, "%H:%M:%S");
	if (!alert_at) {
		g_test_skip("too close to midnight UTC for a same-day alert");
		goto out;
	}
	set_alert(&w, alert_at);
	g_subprocess_send_signal(daemon, SIGHUP);
	g_usleep(500000);

	send_beats(&w, SPOT_BEATS);

	settling = wait_message(w.probe, 0, "recovery/alice/live",
				"\"spot\":\"settling\"", 5000);
	measuring = wait_message(w.probe, 0, "recovery/alice/live",
				 "\"spot\":\"measuring\"", 5000);
	/* Stopped 20 s after the last beat came: the verdict. */
	finished = wait_message(w.probe, 0, "recovery/alice/live",
				"\"spot\":\"done\"", 40000);
	if (settling < 0 || measuring < 0 || finished < 0)
		daemon_dump_log(&w, "spot.log");
	g_assert_cmpint(settling, >=, 0);
	g_assert_cmpint(measuring, >, settling);
	g_assert_cmpint(finished, >, measuring);
	done = payload_of(w.probe, finished);
	g_test_message("live: %s", done);
	/* 180 beats span 179 intervals: 149 s after the settling. */
	g_assert_nonnull(strstr(done, "\"spot_measured_s\":149"));
	g_assert_nonnull(strstr(done, "\"spot_rmssd_ms\":99.6"));

	/* The alert waited for the verdict, and uses it. */
	alert = wait_message(w.probe, 0, "recovery/alice/alert",
			     "\"user\":\"alice\"", 30000);
	if (alert < 0)
		daemon_dump_log(&w, "spot.log");
	g_assert_cmpint(alert, >, finished);
	alert_text = payload_of(w.probe, alert);
	g_test_message("alert: %s", alert_text);
	g_assert_nonnull(strstr(alert_text, "\"hrv_source\":\"spot\""));
	g_assert_nonnull(strstr(alert_text, "HRV from this morning's spot "
					    "check: RMSSD 100 ms"));
	i = wait_message(w.probe, 0, "recovery/alice/state",
			 "\"hrv_source\":\"spot\"", 5000);
	g_assert_cmpint(i, >=, 0);
	state = payload_of(w.probe, i);
	g_test_message("state: %s", state);
	g_assert_nonnull(strstr(state, "\"status\":\"ok\""));
	g_assert_nonnull(strstr(state, "\"rmssd_ms\":99.6"));
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
out:
	world_free(&w);
}

/* alice's one stored result (the test's only day): its state message,
 * read while the daemon runs (owned by the caller). */
static char *alice_result_state(struct world *w)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *state;

	g_assert_cmpint(
	    sqlite3_open_v2(w->database, &db, SQLITE_OPEN_READONLY, NULL), ==,
	    SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(
			    db,
			    "SELECT state_json FROM results JOIN users ON "
			    "users.id = results.user_id WHERE name = 'alice'",
			    -1, &st, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	state = g_strdup((const char *)sqlite3_column_text(st, 0));
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	g_assert_nonnull(state);
	return state;
}

/*
 * A spot check that finishes after the morning's analysis is late data
 * (DESIGN §6). No strap in the night; the morning alert goes out with no
 * HRV. Then the strap sends a short session while the usual wake time is
 * two hours away, outside the spot-check window (a session of the day,
 * not a spot check): nothing is analysed again, the live topic shows no
 * spot check. Then, the wake time set to ten minutes ago, 3 minutes of
 * beats: the spot check's verdict (done) analyses the day again, the
 * stored result and the retained state carry the spot check's HRV
 * (hrv_source "spot", RMSSD 99.6 ms), and the alert goes out again as an
 * update: the advice went from no-data to calibrating.
 */
static void test_spot_check_late(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *wake_far = clock_from_now(2 * 3600, "%H:%M");
	g_autofree char *wake_near = clock_from_now(-10 * 60, "%H:%M");
	g_autofree char *before = NULL, *after = NULL, *state = NULL;
	g_autofree char *alert_text = NULL;
	struct world w = { .notify_fd = -1 };
	unsigned from;
	int alert, finished, i;

	if (!wake_far || !wake_near) {
		g_test_skip("too close to midnight UTC for a morning window");
		return;
	}
	daemon = spot_daemon_start(&w, 3, wake_far, "spot-late.log");
	if (!daemon)
		goto out;

	/* The morning: no night, no spot check yet. */
	alert = wait_message(w.probe, 0, "recovery/alice/alert",
			     "\"user\":\"alice\"", 30000);
	if (alert < 0)
		daemon_dump_log(&w, "spot-late.log");
	g_assert_cmpint(alert, >=, 0);
	alert_text = payload_of(w.probe, alert);
	g_test_message("alert: %s", alert_text);
	g_assert_null(strstr(alert_text, "\"hrv_source\":\"spot\""));
	before = alice_result_state(&w);
	g_assert_null(strstr(before, "\"hrv_source\":\"spot\""));

	/* A session outside the morning window (ten beats: about 10 s on
	 * the strap's clock, so that the spot check below is another
	 * session): stopped 20 s after its last beat, and 5 s more for a
	 * re-analysis that must not come. */
	from = probe_count(w.probe);
	send_beats(&w, 10);
	g_usleep(28 * G_USEC_PER_SEC);
	g_assert_cmpint(
	    wait_message(w.probe, from, "recovery/alice/live", "\"spot\"", 0),
	    <, 0);
	g_assert_false(log_has(&w, "spot-late.log", "analysed again"));
	g_assert_cmpint(
	    wait_message(w.probe, from, "recovery/alice/state", NULL, 0), <, 0);

	/* The same morning with the usual wake time ten minutes ago: the
	 * strap now is a spot check. */
	set_key(&w, "wake", wake_near);
	g_subprocess_send_signal(daemon, SIGHUP);
	g_assert_true(wait_log(&w, "spot-late.log", "reloaded", 10000));
	g_assert_true(wait_subscribed(w.bus, STRAP, 15000));
	from = probe_count(w.probe);
	send_beats(&w, SPOT_BEATS);
	finished = wait_message(w.probe, from, "recovery/alice/live",
				"\"spot\":\"done\"", 40000);
	if (finished < 0)
		daemon_dump_log(&w, "spot-late.log");
	g_assert_cmpint(finished, >=, 0);

	i = wait_message(w.probe, from, "recovery/alice/state",
			 "\"hrv_source\":\"spot\"", 20000);
	if (i < 0)
		daemon_dump_log(&w, "spot-late.log");
	g_assert_cmpint(i, >, finished);
	state = payload_of(w.probe, i);
	g_test_message("state: %s", state);
	g_assert_nonnull(strstr(state, "\"rmssd_ms\":99.6"));
	/* The advice changed (no-data, now calibrating on spot checks):
	 * the alert again, as an update. */
	i = wait_message(w.probe, from, "recovery/alice/alert",
			 "\"update\":true", 5000);
	g_assert_cmpint(i, >=, 0);
	g_clear_pointer(&alert_text, g_free);
	alert_text = payload_of(w.probe, i);
	g_test_message("update alert: %s", alert_text);
	g_assert_nonnull(strstr(alert_text, "\"hrv_source\":\"spot\""));
	g_assert_nonnull(strstr(alert_text, "\"state\":\"calibrating\""));
	g_assert_true(wait_log(&w, "spot-late.log",
			       "analysed again with data that came after its "
			       "morning",
			       5000));
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpuint(count_messages(w.probe, "recovery/alice/alert"), ==,
			 2);
	g_assert_cmpuint(log_count(&w, "spot-late.log", "analysed again"), ==,
			 1);

	/* The stored result row changed with it. */
	after = alice_result_state(&w);
	g_test_message("stored: %s", after);
	g_assert_cmpstr(after, !=, before);
	g_assert_nonnull(strstr(after, "\"hrv_source\":\"spot\""));
	g_assert_nonnull(strstr(after, "\"rmssd_ms\":99.6"));
out:
	world_free(&w);
}

/* --- the demo with a configuration of its own ------------------------------
 */

/*
 * recoveryd --demo --config FILE where FILE has only [gateway] and [mqtt]
 * (DESIGN §9): the demo brings its people. Against a real mosquitto, a few
 * fast days: exit 0, morning alerts for all four demo people, every
 * day's check-in in that day's stored result, dora's spot checks on her
 * live topic (measuring, done) and as her days' HRV (hrv_source "spot",
 * nobody else's). Without --demo the same file is refused: it has nobody
 * in it.
 */
static void test_demo_own_config(void)
{
	const char *const topics[] = { "recovery/#", NULL };
	static const char *const users[] = { "alice", "bob", "carol", "dora" };
	struct broker_config bc = { .allow_anonymous = true };
	g_autoptr(GError) error = NULL;
	g_autoptr(broker) b = broker_new(&bc, &error);
	g_autoptr(probe) pr = NULL;
	g_autofree char *dir = NULL, *conf = NULL, *db = NULL, *text = NULL;
	g_autofree char *out = NULL, *err = NULL;
	store *s;

	if (!broker_check(error))
		return;
	pr = probe_new(broker_probe_port(b), NULL, NULL, topics, &error);
	g_assert_no_error(error);
	dir = test_tmp_dir_new("test-recoveryd-demo-XXXXXX");
	conf = g_build_filename(dir, "demo.conf", NULL);
	db = g_build_filename(dir, "demo.db", NULL);
	text = g_strdup_printf("[gateway]\n"
			       "database=%s\n"
			       "timezone=UTC\n"
			       "[mqtt]\n"
			       "host=127.0.0.1\n"
			       "port=%d\n",
			       db, broker_port(b));
	g_assert_true(g_file_set_contents(conf, text, -1, &error));

	/* Not without --demo: nobody in it. */
	{
		const char *check[] = { g_getenv("RECOVERYD"), "--config", conf,
					"--check-config", NULL };

		g_assert_cmpint(test_spawn(check, NULL, &out, &err), ==, 1);
		g_assert_nonnull(strstr(err, "no [user NAME] section"));
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
	}
	{
		const char *run[] = { g_getenv("RECOVERYD"),
				      "--demo",
				      "--config",
				      conf,
				      "--demo-days",
				      "3",
				      "--demo-speed",
				      "1",
				      NULL };

		g_assert_cmpint(test_spawn(run, NULL, &out, &err), ==, 0);
	}
	g_assert_nonnull(strstr(err, "4 people"));
	g_assert_nonnull(strstr(err, "demo: 3 simulated days done"));
	for (size_t u = 0; u < G_N_ELEMENTS(users); u++) {
		g_autofree char *topic =
		    g_strdup_printf("recovery/%s/alert", users[u]);

		if (wait_message(pr, 0, topic, NULL, 5000) < 0)
			g_printerr("%s", err);
		g_assert_cmpint(wait_message(pr, 0, topic, NULL, 5000), >=, 0);
	}

	/* dora sleeps without a strap and spot-checks each morning: her
	 * live topic follows the check, and her days' HRV is the spot
	 * check's. */
	g_assert_cmpint(wait_message(pr, 0, "recovery/dora/live",
				     "\"spot\":\"measuring\"", 5000),
			>=, 0);
	g_assert_cmpint(wait_message(pr, 0, "recovery/dora/live",
				     "\"spot\":\"done\"", 5000),
			>=, 0);

	/* Every simulated day's check-in is in its stored result. */
	s = store_open(db, NULL, &error);
	g_assert_no_error(error);
	for (size_t u = 0; u < G_N_ELEMENTS(users); u++) {
		g_autoptr(GArray) results =
		    g_array_new(FALSE, FALSE, sizeof(struct store_result));
		int64_t id;

		g_assert_true(store_user_id(s, users[u], &id, &error));
		g_assert_true(store_get_results(s, id, 0, INT32_MAX - 1,
						results, &error));
		g_assert_cmpuint(results->len, ==, 3);
		for (guint i = 0; i < results->len; i++) {
			const struct store_result *r =
			    &g_array_index(results, struct store_result, i);

			g_assert_nonnull(strstr(r->state_json, "\"mood\""));
			g_assert_cmpint(r->alerted_ms, >, 0);
			g_assert_true(
			    (strstr(r->state_json, "\"hrv_source\":\"spot\"") !=
			     NULL) == (strcmp(users[u], "dora") == 0));
		}
	}
	store_close(s);
	g_assert_true(test_remove_tree(dir));
}

/* --- the demo with the radio running ----------------------------------------
 */

/*
 * --demo-radio (for soak tests): the demo runs as always and the BlueZ
 * client runs beside it, against the stand-in as the system bus. The
 * stand-in has alice's demo strap: the daemon connects to it and
 * subscribes, and the demo still ends by itself with exit 0. Without
 * --demo the option is refused.
 */
static void test_demo_radio(void)
{
	const char *const standin_args[] = {
		"--device=heart-rate,D0:E3:00:00:00:01,Demo strap", NULL
	};
	struct broker_config bc = { .allow_anonymous = true };
	g_autoptr(GError) error = NULL;
	g_autoptr(broker) b = broker_new(&bc, &error);
	g_autoptr(StandinBus) bus = NULL;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autofree char *dir = NULL, *conf = NULL, *text = NULL;
	g_autofree char *out = NULL, *err = NULL;

	if (!broker_check(error))
		return;
	bus = standin_bus_new_or_skip();
	if (!bus)
		return;
	g_assert_true(standin_start(bus, standin_args, &error));
	g_assert_no_error(error);
	dir = test_tmp_dir_new("test-recoveryd-demo-radio-XXXXXX");
	conf = g_build_filename(dir, "demo.conf", NULL);
	text = g_strdup_printf("[gateway]\n"
			       "database=%s/demo.db\n"
			       "timezone=UTC\n"
			       "[mqtt]\n"
			       "host=127.0.0.1\n"
			       "port=%d\n",
			       dir, broker_port(b));
	g_assert_true(g_file_set_contents(conf, text, -1, &error));
	{
		const char *run[] = { g_getenv("RECOVERYD"), "--config", conf,
				      "--demo-radio", NULL };

		g_assert_cmpint(test_spawn(run, NULL, &out, &err), ==, 2);
		g_assert_nonnull(strstr(err, "--demo-radio needs --demo"));
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
	}

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS",
				     standin_bus_address(bus), TRUE);
	/* The daemon warns on its way (no bed sensor in the stand-in's
	 * world): not fatal for it as for this test. */
	g_subprocess_launcher_unsetenv(launcher, "G_DEBUG");
	p = g_subprocess_launcher_spawn(
	    launcher, &error, g_getenv("RECOVERYD"), "--demo", "--demo-radio",
	    "--config", conf, "--demo-days", "2", "--demo-speed", "5", NULL);
	g_assert_no_error(error);
	g_assert_true(
	    g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(p) ||
	    g_subprocess_get_exit_status(p) != 0 ||
	    !strstr(out, "of alice: connected, receiving"))
		g_printerr("%s", out);
	g_assert_true(g_subprocess_get_if_exited(p));
	g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
	g_assert_nonnull(strstr(out, "of alice: connected, receiving"));
	g_assert_nonnull(strstr(out, "demo: 2 simulated days done"));
	g_assert_cmpuint(standin_calls(bus, "Connect:D0:E3:00:00:00:01"), >=,
			 1);
	g_assert_true(test_remove_tree(dir));
}

/* Every outbox payload in the database and every JSON message the broker
 * carried parses as JSON; returns how many were checked. */
static unsigned assert_json_valid(struct world *w)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	unsigned checked = 0, n = probe_count(w->probe);

	g_assert_cmpint(
	    sqlite3_open_v2(w->database, &db, SQLITE_OPEN_READONLY, NULL), ==,
	    SQLITE_OK);
	g_assert_cmpint(
	    sqlite3_prepare_v2(db, "SELECT payload FROM outbox", -1, &st, NULL),
	    ==, SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autoptr(GError) error = NULL;

		json_parser_load_from_data(
		    parser, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_bytes(st, 0), &error);
		g_assert_no_error(error);
		checked++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (unsigned i = 0; i < n; i++) {
		g_autoptr(probe_message) m = probe_get(w->probe, i);
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autoptr(GError) error = NULL;

		if (!m || m->payload[0] != '{')
			continue;
		json_parser_load_from_data(parser, m->payload, -1, &error);
		g_assert_no_error(error);
		checked++;
	}
	return checked;
}

/*
 * The daemon in the default configuration on this machine's clock, killed
 * with SIGKILL at random moments 20 times while the strap streams: after
 * each kill the database is whole (PRAGMA integrity_check), nothing it
 * held before is gone (a kill loses at most the open batch, never a
 * committed row), and every outbox row and JSON message on the broker
 * parses.
 */
#define KILLS 20

static void test_kill_drill(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(20261206);
	struct world w;
	int64_t stored = 0;

	if (!world_new(&w, 0))
		goto out;
	for (int k = 0; k < KILLS; k++) {
		g_autoptr(GSubprocess) daemon = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree char *log = g_strdup_printf("kill-%d.log", k);
		int64_t now_stored;

		daemon = daemon_start(&w, log);
		/* This run's own subscription (the stand-in may still show
		 * the killed one's for a moment). */
		g_assert_true(wait_log(&w, log, "connected, receiving", 30000));
		stream_start(w.bus, 100, 1500);
		/* Somewhere in the stream (200 rows a second: a batch of
		 * 1,000 rows is committed every 5 s), the batch open. */
		g_usleep((gulong)g_rand_int_range(rand, 0, 8000) * 1000);
		g_subprocess_force_exit(daemon);
		g_assert_true(g_subprocess_wait(daemon, NULL, &error));
		g_assert_no_error(error);
		g_assert_false(g_subprocess_get_if_exited(daemon));
		/* What it told systemd is read, as PID 1 would: a full notify
		 * queue would block the next start in sd_notify. */
		{
			char note[4096];

			while (recv(w.notify_fd, note, sizeof(note),
				    MSG_DONTWAIT) > 0)
				;
		}

		g_assert_cmpint(db_int(&w, "SELECT count(*) FROM pragma_"
					   "integrity_check WHERE "
					   "integrity_check != 'ok'"),
				==, 0);
		now_stored = db_int(&w, "SELECT (SELECT count(*) FROM hr) + "
					"(SELECT count(*) FROM rr) + "
					"(SELECT count(*) FROM held)");
		g_assert_cmpint(now_stored, >=, stored);
		stored = now_stored;
	}
	g_test_message("%d kills: %" G_GINT64_FORMAT " readings stored, "
		       "%u payloads checked",
		       KILLS, stored, assert_json_valid(&w));
	g_assert_cmpint(stored, >, 0);
out:
	world_free(&w);
}

/* recoveryctl @args... on the running daemon's database: its exit status
 * (its output goes to the test log). */
static int ctl_beside(struct world *w, const char *const *args)
{
	const char *argv[16] = { g_getenv("RECOVERYCTL"), args[0], "--db",
				 w->database };
	g_autofree char *out = NULL, *err = NULL;
	size_t n = 4;
	int status;

	for (int i = 1; args[i] && n < G_N_ELEMENTS(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	status = test_spawn(argv, NULL, &out, &err);
	g_test_message("recoveryctl %s: exit %d\n%.400s%.400s", args[0], status,
		       out, err);
	return status;
}

/*
 * recoveryctl beside the running daemon while a strap streams: import,
 * export and history each work at once (the daemon's batch fills in
 * memory, no write lock held), and both the imported and the streamed
 * readings are stored.
 */
static void test_recoveryctl_beside(void)
{
	struct world w;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *file = NULL;
	g_autofree char *log = NULL;
	FILE *f;

	if (!world_new(&w, 0))
		goto out;
	file = g_build_filename(w.dir, "spot.txt", NULL);
	f = fopen(file, "w");
	g_assert_nonnull(f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "%d\n", i % 2 ? 980 : 1020);
	fclose(f);

	daemon = daemon_start(&w, "beside.log");
	g_assert_true(
	    wait_log(&w, "beside.log", "connected, receiving", 30000));
	stream_start(w.bus, 20, 1200);
	/* Rows flow into the daemon's batch (1,000 rows or 30 s). */
	for (int i = 0; i < 300; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply =
		    standin_call(w.bus, "GetStreamStats",
				 g_variant_new("(ss)", STRAP, "2a37"),
				 G_VARIANT_TYPE("(buuu)"), &error);
		gboolean running;
		guint sent, delivered = 0, dropped;

		g_assert_no_error(error);
		g_variant_get(reply, "(buuu)", &running, &sent, &delivered,
			      &dropped);
		if (delivered >= 100)
			break;
		g_assert_cmpint(i, <, 299);
		g_usleep(100000);
	}

	for (int round = 0; round < 3; round++) {
		const char *import[] = { "import",
					 "--timezone",
					 "UTC",
					 "--user",
					 "alice",
					 "--start",
					 round == 0
					     ? "2026-01-02T07:00:00+00:00"
					 : round == 1
					     ? "2026-01-03T07:00:00+00:00"
					     : "2026-01-04T07:00:00+00:00",
					 file,
					 NULL };
		const char *export[] = { "export", "--format", "csv",
					 "--user", "alice",    NULL };
		const char *history[] = { "history", "--user", "alice",
					  "--json", NULL };

		g_assert_cmpint(ctl_beside(&w, import), ==, 0);
		g_assert_cmpint(ctl_beside(&w, export), ==, 0);
		g_assert_cmpint(ctl_beside(&w, history), ==, 0);
		g_usleep(1000 * 1000);
	}
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpint(db_int(&w, "SELECT count(*) FROM rr WHERE t_ms < "
				   "1767484800000 + 86400000"),
			==, 900);
	/* The stream's own rows, from now (the stand-in's clock). */
	g_assert_cmpint(db_int(&w, "SELECT (SELECT count(*) FROM hr) + "
				   "(SELECT count(*) FROM held)"),
			>=, 100);
	log = read_log(&w, "beside.log");
	g_assert_null(strstr(log, "locked"));
out:
	world_free(&w);
}

/* recoveryd --check-config as a person runs it: exit status and the one
 * line on stderr that names the file and line. */
struct check_case {
	const char *name;
	const char *text; /* NULL: no file at all */
	int status;
	const char *want; /* in stderr (after the path), or stdout for 0 */
};

static const struct check_case check_cases[] = {
	{ "/recoveryd/check-config/good",
	  "[user alice]\nheart-rate=C4:7C:8D:6A:12:34\n", 0, "good" },
	{ "/recoveryd/check-config/bad-address",
	  "[user alice]\n\nheart-rate=C4:7C:8D\n", 1,
	  ":3: [user alice] heart-rate: \"C4:7C:8D\" is not a Bluetooth "
	  "address" },
	{ "/recoveryd/check-config/bad-time",
	  "[user alice]\nmorning-alert=25:00\n", 1,
	  ":2: [user alice] morning-alert: \"25:00\"" },
	{ "/recoveryd/check-config/unknown-key",
	  "[gateway]\ndatabse=/tmp/x.db\n[user alice]\n", 1,
	  ":2: [gateway] unknown key \"databse\"" },
	{ "/recoveryd/check-config/missing-file", NULL, 1,
	  "cannot be read: No such file or directory" },
	{ "/recoveryd/check-config/unreadable-password-file",
	  "[mqtt]\nusername=recoveryd\npassword-file=@DIR@\n[user alice]\n", 1,
	  ":3: [mqtt] password-file: " },
};

static void test_check_config(const void *data)
{
	const struct check_case *c = data;
	g_autofree char *dir = test_tmp_dir_new("test-recoveryd-XXXXXX");
	g_autofree char *path = g_build_filename(dir, "recoveryd.conf", NULL);
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { g_getenv("RECOVERYD"), "--check-config",
			       "--config", path, NULL };

	if (c->text) {
		/* A directory is unreadable as a file, even for root. */
		g_autoptr(GString) text = g_string_new(c->text);

		g_string_replace(text, "@DIR@", dir, 0);
		g_assert_true(g_file_set_contents(path, text->str, -1, NULL));
	}
	g_assert_cmpint(test_spawn(argv, NULL, &out, &err), ==, c->status);
	if (c->status == 0) {
		g_assert_nonnull(strstr(out, c->want));
	} else {
		g_autofree char *prefix =
		    g_strdup_printf("recoveryd: %s", path);

		g_assert_true(g_str_has_prefix(err, prefix));
		g_assert_nonnull(strstr(err, c->want));
		/* One line. */
		g_assert_cmpint(strchr(err, '\n') - err + 1, ==, strlen(err));
	}
	test_remove_tree(dir);
}

/* --- storage faults ------------------------------------------------------- */

static unsigned count_lines_with(const char *text, const char *needle)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	unsigned n = 0;

	for (size_t i = 0; lines[i]; i++)
		if (strstr(lines[i], needle))
			n++;
	return n;
}

/* Waits (at most @timeout_ms) for a STATUS= datagram holding @needle;
 * everything read is kept in @notes. */
static bool wait_notify(struct world *w, GString *notes, const char *needle,
			unsigned timeout_ms)
{
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		read_notify(w, notes);
		if (strstr(notes->str, needle))
			return true;
		g_usleep(100000);
	} while (g_get_monotonic_time() < end);
	return false;
}

/* Fills the file system of @dir but for nothing; returns the filler. */
static char *fill_disk(const char *dir)
{
	static const char block[4096];
	char *filler = g_build_filename(dir, "filler", NULL);
	int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	g_assert_cmpint(fd, >=, 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	g_assert_cmpint(errno, ==, ENOSPC);
	close(fd);
	return filler;
}

/* `recoveryctl status` against the world; returns its exit status. */
static int ctl_status(struct world *w, bool json, char **ret_out)
{
	g_autofree char *address =
	    g_strdup_printf("127.0.0.1:%d", broker_port(w->broker));
	const char *argv[] = { g_getenv("RECOVERYCTL"),
			       "status",
			       "--db",
			       w->database,
			       "--broker",
			       address,
			       json ? "--json" : NULL,
			       NULL };
	g_autofree char *err = NULL;
	int status = test_spawn(argv, NULL, ret_out, &err);

	g_test_message("recoveryctl status:\n%s%s", *ret_out, err);
	return status;
}

static int64_t db_count(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	test_db_unpack_for(db, sql);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* 100 heart rates a second, each with an RR interval: a batch of 1,000
 * rows every 5 s, so that a commit falls in the 10 s the disk is full. */
#define FULL_STREAM_HZ	  100
#define FULL_STREAM_COUNT 2500

/*
 * The disk fills up for 10 s while a strap streams, then frees again: one
 * warning at once (the database, the cause, the readings held), the STATUS
 * line, the retained gateway state and `recoveryctl status` say so; one
 * line when it is writable again; and every reading that arrived is in the
 * database in the end, none lost.
 */
static void test_disk_full(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autoptr(GString) notes = g_string_new(NULL);
	g_autofree char *filler = NULL;
	g_autofree char *log = NULL;
	g_autofree char *out = NULL;
	g_autofree char *json = NULL;
	struct world w;
	int64_t filled_us;
	guint delivered;
	int i;

	if (!have_mount_namespace) {
		g_test_skip("needs root for a private mount namespace (a "
			    "tmpfs that fills up)");
		return;
	}
	if (!world_new_full(&w, -1, "16m"))
		goto out;
	daemon = daemon_start(&w, "full.log");
	i = wait_message(w.probe, 0, "recovery/status", "online", 10000);
	if (i < 0)
		daemon_dump_log(&w, "full.log");
	g_assert_cmpint(i, >=, 0);
	g_assert_true(wait_subscribed(w.bus, STRAP, 15000));
	/* The gateway's state, as a dashboard sees it. */
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/gateway",
				     "\"storage\":{\"state\":\"ok\"}", 10000),
			>=, 0);

	stream_start(w.bus, FULL_STREAM_HZ, FULL_STREAM_COUNT);
	g_usleep(3 * G_USEC_PER_SEC);
	filler = fill_disk(w.disk);
	filled_us = g_get_monotonic_time();

	/* At once: one line with the file, the cause and what is held. */
	if (!wait_log(&w, "full.log", "disk full: ", 9000))
		daemon_dump_log(&w, "full.log");
	log = read_log(&w, "full.log");
	g_assert_nonnull(strstr(log, w.database));
	g_assert_cmpuint(count_lines_with(log, "readings held, retrying"), ==,
			 1);
	g_assert_true(
	    wait_notify(&w, notes, "STATUS=database disk full, ", 7000));
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/gateway",
				     "\"state\":\"failing\",\"cause\":\"disk "
				     "full\"",
				     5000),
			>=, 0);
	g_assert_cmpint(ctl_status(&w, false, &out), ==, 0);
	g_assert_nonnull(strstr(out, "daemon:    online"));
	g_assert_nonnull(strstr(out, "storage:   FAILING: disk full since "));
	g_assert_cmpint(ctl_status(&w, true, &json), ==, 0);
	g_assert_nonnull(strstr(json, "\"daemon\":\"online\""));
	g_assert_nonnull(strstr(json, "\"state\":\"failing\""));

	/* Ten seconds after it filled, the disk frees again. */
	g_usleep(
	    MAX(0, filled_us + 10 * G_USEC_PER_SEC - g_get_monotonic_time()));
	g_assert_cmpint(g_unlink(filler), ==, 0);
	if (!wait_log(&w, "full.log", "writable again after", 40000))
		daemon_dump_log(&w, "full.log");
	g_free(log);
	log = read_log(&w, "full.log");
	{
		g_auto(GStrv) lines = g_strsplit(log, "\n", -1);

		for (size_t k = 0; lines[k]; k++)
			if (strstr(lines[k], "database"))
				g_test_message("daemon: %s", lines[k]);
	}
	g_assert_nonnull(strstr(log, "readings written, 0 dropped"));
	/* Said once, not per failed write: the warning (health.c), whose
	 * text goes on "(cause)". A morning analysis refused meanwhile says
	 * "...; N readings held, retrying" at debug level, its own line. */
	g_assert_cmpuint(count_lines_with(log, "readings held, retrying ("), ==,
			 1);
	g_assert_cmpint(wait_message(w.probe, 0, "recovery/gateway",
				     "\"storage\":{\"state\":\"ok\"},", 35000),
			>=, 0);

	delivered = stream_delivered(w.bus, FULL_STREAM_COUNT, 60);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	/* Nothing that arrived is lost. */
	g_assert_cmpint(db_count(w.database, "SELECT count(*) FROM hr"), ==,
			delivered);
	g_assert_cmpint(db_count(w.database, "SELECT count(*) FROM rr"), ==,
			delivered);
	g_assert_cmpuint(delivered, >, FULL_STREAM_COUNT * 9 / 10);
out:
	world_free(&w);
}

/*
 * A file system that is read-only when the daemon starts (remounting it
 * read-only under the running daemon is refused as busy while SQLite holds
 * its files open for writing): one line naming the file and the cause, exit
 * status 1, the database untouched.
 */
static void test_read_only_start(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *out = NULL, *err = NULL, *status = NULL;
	struct world w;
	const char *argv[] = { g_getenv("RECOVERYD"), "--config", NULL, NULL };

	if (!have_mount_namespace) {
		g_test_skip("needs root for a private mount namespace (a "
			    "read-only remount)");
		return;
	}
	if (!world_new_full(&w, -1, "8m"))
		goto out;
	daemon = daemon_start(&w, "first.log");
	g_assert_cmpint(
	    wait_message(w.probe, 0, "recovery/status", "online", 10000), >=,
	    0);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);

	g_assert_cmpint(mount(NULL, w.disk, NULL, MS_REMOUNT | MS_RDONLY, NULL),
			==, 0);
	argv[2] = w.config;
	g_assert_cmpint(test_spawn(argv, NULL, &out, &err), ==, 1);
	g_test_message("%s", err);
	g_assert_true(g_str_has_prefix(err, "recoveryd: "));
	g_assert_nonnull(strstr(err, w.database));
	g_assert_nonnull(strstr(err, "read-only file system"));
	g_assert_cmpint(strchr(err, '\n') - err + 1, ==, strlen(err));
	/* recoveryctl status still reads it: the daemon is offline. */
	g_assert_cmpint(ctl_status(&w, false, &status), ==, 0);
	g_assert_nonnull(strstr(status, "daemon:    OFFLINE"));
	g_assert_nonnull(strstr(status, "    alice "));
	g_assert_cmpint(mount(NULL, w.disk, NULL, MS_REMOUNT, NULL), ==, 0);
	g_assert_cmpint(db_count(w.database, "SELECT count(*) FROM users"), ==,
			1);
out:
	world_free(&w);
}

/*
 * A night whose row holds text where a number goes: the daemon starts all
 * the same, says which row, and computes the night again from the raw
 * readings.
 */
static void test_damaged_night(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	struct world w;
	int64_t now_ms = g_get_real_time() / 1000;
	int32_t today = (int32_t)(now_ms / 86400000);
	int64_t midnight = (int64_t)today * 86400000;
	struct night_metrics night = night_metrics_empty(today);
	g_autofree char *sql = NULL;
	g_autofree char *check = NULL;
	store *s;
	sqlite3 *db;
	int64_t alice;

	if (!world_new(&w, -1))
		goto out;
	/* Last night's readings (beats from 23:00 to 06:00 UTC, a second
	 * apart) and the night computed from them, stored... */
	s = store_open(w.database, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(store_user_id(s, "alice", &alice, &error));
	for (int64_t t = midnight - 3600000; t < midnight + 6 * 3600000;
	     t += 1000) {
		g_assert_true(store_add_hr(s, alice, t, 55, &error));
		g_assert_true(store_add_rr(
		    s, alice, t, (double)(1000 + (t / 1000) % 40), &error));
	}
	night.rmssd_ms = 42;
	night.beats = 100;
	g_assert_true(store_put_night(s, alice, &night, &error));
	g_assert_no_error(error);
	store_close(s);
	/* ...and then damaged, as a bad sector or a hand edit would. */
	db = NULL;
	g_assert_cmpint(sqlite3_open(w.database, &db), ==, SQLITE_OK);
	sql = g_strdup_printf("UPDATE nights SET rmssd_ms = 'forty-two' "
			      "WHERE day = %d",
			      (int)today);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_changes(db), ==, 1);
	sqlite3_close(db);

	daemon = daemon_start(&w, "damaged.log");
	if (wait_message(w.probe, 0, "recovery/status", "online", 10000) < 0)
		daemon_dump_log(&w, "damaged.log");
	g_assert_true(wait_log(&w, "damaged.log",
			       "table nights, column rmssd_ms", 10000));
	g_assert_true(wait_log(&w, "damaged.log",
			       "computing it again from the readings", 1000));
	g_assert_true(wait_log(&w, "damaged.log",
			       "computed again from the readings", 10000));
	g_assert_nonnull(g_subprocess_get_identifier(daemon));
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	check = g_strdup_printf("SELECT count(*) FROM nights WHERE day = %d "
				"AND typeof(rmssd_ms) IN ('real', 'null') "
				"AND beats > 100",
				(int)today);
	g_assert_cmpint(db_count(w.database, check), ==, 1);
out:
	world_free(&w);
}

/*
 * Check-ins no test sent before, to the running daemon: each refused with
 * its reason in the log, none stored, the good one after them stored once;
 * a retained one from before the daemon started is not filed, at start nor
 * at a restart.
 */
static const struct {
	const char *payload;
	const char *reason; /* in the log line */
} bad_checkins[] = {
	{ "{\"mood\":3} {\"mood\":4}", "after the JSON value" },
	{ "{\"mood\":3}[]", "after the JSON value" },
	{ "{\"mood\":-99999999999999999999}",
	  "mood -99999999999999999999 is out of range" },
	{ "{\"energy\":18446744073709551617}", "is out of range" },
	{ "{\"m\\u006fod\":9223372036854775807}", "is out of range" },
	{ "{\"soreness\":1e400}", "not a finite number" },
	{ "{\"mood\":\"3\"}", "mood is a string" },
	{ "{\"mood\":3,}", "not JSON" },
};

static void test_bad_checkins(void)
{
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *log = NULL;
	struct world w;
	unsigned before;

	if (!world_new(&w, -1))
		goto out;
	/* Kept by the broker from some dashboard, before the daemon. */
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"mood\":1,\"energy\":1}", 1, true));
	daemon = daemon_start(&w, "checkins.log");
	g_assert_cmpint(
	    wait_message(w.probe, 0, "recovery/status", "online", 10000), >=,
	    0);
	g_assert_true(
	    wait_log(&w, "checkins.log", "ignored: a retained message", 5000));
	for (size_t i = 0; i < G_N_ELEMENTS(bad_checkins); i++)
		g_assert_true(probe_publish(w.probe,
					    "recovery/alice/checkin/set",
					    bad_checkins[i].payload, 1, false));
	g_assert_true(probe_publish(w.probe, "recovery/alice/checkin/set",
				    "{\"mood\":4,\"soreness\":2}", 1, false));
	g_assert_true(
	    wait_log(&w, "checkins.log", "alice: check-in received", 5000));
	log = read_log(&w, "checkins.log");
	for (size_t i = 0; i < G_N_ELEMENTS(bad_checkins); i++)
		if (!strstr(log, bad_checkins[i].reason))
			g_error("no \"%s\" in the log for %s",
				bad_checkins[i].reason,
				bad_checkins[i].payload);
	g_assert_cmpuint(count_lines_with(log, "check-in received"), ==, 1);
	g_assert_cmpint(daemon_stop(daemon), ==, 0);

	/* A restart: the retained one is still not filed. */
	before = probe_count(w.probe);
	g_clear_object(&daemon);
	daemon = daemon_start(&w, "checkins2.log");
	g_assert_cmpint(
	    wait_message(w.probe, before, "recovery/status", "online", 10000),
	    >=, 0);
	g_assert_true(
	    wait_log(&w, "checkins2.log", "ignored: a retained message", 5000));
	g_assert_cmpint(daemon_stop(daemon), ==, 0);
	g_assert_cmpint(db_count(w.database, "SELECT count(*) FROM checkins"),
			==, 1);
	g_assert_cmpint(db_count(w.database, "SELECT count(*) FROM checkins "
					     "WHERE mood = 4 AND soreness = 2 "
					     "AND energy IS NULL"),
			==, 1);
	/* Leave no retained check-in for the next test's broker. */
	g_assert_true(
	    probe_publish(w.probe, "recovery/alice/checkin/set", "", 1, true));
out:
	world_free(&w);
}

int main(int argc, char **argv)
{
	/* Before any thread: a mount namespace of our own (as root) for the
	 * storage faults; the daemons the tests start live in it too. */
	have_mount_namespace =
	    unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(check_cases); i++)
		g_test_add_data_func(check_cases[i].name, &check_cases[i],
				     test_check_config);
	g_test_add_func("/recoveryd/night-to-alert", test_night_to_alert);
	g_test_add_func("/recoveryd/home-assistant", test_home_assistant);
	g_test_add_func("/recoveryd/kill-drill", test_kill_drill);
	g_test_add_func("/recoveryd/clock/held", test_clock_held);
	g_test_add_func("/recoveryd/clock/step-back", test_clock_step_back);
	g_test_add_func("/recoveryd/late-data", test_late_data);
	g_test_add_func("/recoveryd/demo-own-config", test_demo_own_config);
	g_test_add_func("/recoveryd/demo-radio", test_demo_radio);
	g_test_add_func("/recoveryd/broadcast-scale", test_broadcast_scale);
	g_test_add_func("/recoveryd/qn-scale", test_qn_scale);
	g_test_add_func("/recoveryd/uds-scale", test_uds_scale);
	g_test_add_func("/recoveryd/bad-checkins", test_bad_checkins);
	g_test_add_func("/recoveryd/damaged-night", test_damaged_night);
	g_test_add_func("/recoveryd/storage/disk-full", test_disk_full);
	g_test_add_func("/recoveryd/storage/read-only-start",
			test_read_only_start);
	g_test_add_func("/recoveryd/spot-check-live", test_spot_check_live);
	g_test_add_func("/recoveryd/recoveryctl-beside",
			test_recoveryctl_beside);
	g_test_add_func("/recoveryd/spot-check-late", test_spot_check_late);
	return g_test_run();
}
