// SPDX-License-Identifier: MIT
/*
 * The daemon as it runs at home, against real parts: the recoveryd binary
 * (RECOVERYD) with a configuration file, a real mosquitto, and the BlueZ
 * stand-in on a private bus. A strap streams heart rates, a bed sensor
 * advertises; the test watches the broker as a dashboard would, then stops
 * the daemon with SIGTERM and reads the database.
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
#include <sys/un.h>
#include <unistd.h>

#include <sqlite3.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tests/integration/broker.h"
#include "tests/fakes/bus.h"
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
}

/* The morning alert time, @delay_s from now, as HH:MM:SS in UTC. */
static char *alert_time(int delay_s)
{
	g_autoptr(GDateTime) t = g_date_time_new_now_utc();
	g_autoptr(GDateTime) later = g_date_time_add_seconds(t, delay_s);

	/* Too close to midnight the alert would fall on tomorrow. */
	if (g_date_time_get_day_of_month(later) !=
	    g_date_time_get_day_of_month(t))
		return NULL;
	return g_date_time_format(later, "%H:%M:%S");
}

/* Whether main made a mount namespace for the storage faults. */
static bool have_mount_namespace;

/*
 * The world of a test: the BlueZ stand-in with a strap, a bed sensor and a
 * foreign strap, mosquitto, a notify socket and a configuration with alice.
 * Her morning alert comes @alert_delay_s from now (< 0: no alert time in
 * the configuration). With @disk_size ("16m") the database is on a tmpfs
 * of that size (the caller checks have_mount_namespace).
 */
static bool world_new_full(struct world *w, int alert_delay_s,
			   const char *disk_size)
{
	const char *const topics[] = { "recovery/#", "homeassistant/#", NULL };
	g_autoptr(GError) error = NULL;
	g_autofree char *when =
	    alert_delay_s >= 0 ? alert_time(alert_delay_s) : g_strdup("");
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
	w->broker = broker_new(&bc, &error);
	if (!broker_check(error))
		return false;
	w->probe =
	    probe_new(broker_probe_port(w->broker), NULL, NULL, topics, &error);
	g_assert_no_error(error);
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
	text = g_strdup_printf("[gateway]\n"
			       "database=%s\n"
			       "timezone=UTC\n"
			       "require-clock-sync=false\n"
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

static GSubprocess *daemon_start(struct world *w, const char *log_name)
{
	/* stdout too: GLib writes info and debug lines there. */
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GError) error = NULL;
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);
	GSubprocess *p;

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

static void daemon_dump_log(struct world *w, const char *log_name)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);
	g_autofree char *text = NULL;

	if (g_file_get_contents(log, &text, NULL, NULL))
		g_printerr("--- %s ---\n%s---\n", log_name, text);
}

static int daemon_stop(GSubprocess *p)
{
	g_autoptr(GError) error = NULL;

	g_subprocess_send_signal(p, SIGTERM);
	g_assert_true(g_subprocess_wait(p, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(p));
	return g_subprocess_get_exit_status(p);
}

/* Index of the first message from @from on @topic whose payload holds
 * @needle (NULL: any), waiting at most @timeout_ms; -1 if none came. */
static int wait_message(probe *p, unsigned from, const char *topic,
			const char *needle, unsigned timeout_ms)
{
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		unsigned n = probe_count(p);

		for (unsigned i = from; i < n; i++) {
			g_autoptr(probe_message) m = probe_get(p, i);

			if (m && strcmp(m->topic, topic) == 0 &&
			    (!needle || strstr(m->payload, needle)))
				return (int)i;
		}
		g_usleep(20000);
	} while (g_get_monotonic_time() < end);
	return -1;
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
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) state =
		    standin_device_state(bus, address, &error);
		g_autoptr(GVariant) sessions = NULL;
		g_autoptr(GVariant) acquired = NULL;

		if (state) {
			sessions = g_variant_lookup_value(
			    state, "notify-sessions", NULL);
			acquired = g_variant_lookup_value(
			    state, "notify-acquired", NULL);
			if ((acquired && g_variant_n_children(acquired) > 0) ||
			    (sessions && g_variant_n_children(sessions) > 0))
				return true;
		}
		g_usleep(50000);
	} while (g_get_monotonic_time() < end);
	return false;
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
	int64_t end = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
	gboolean running = TRUE;
	guint sent = 0, delivered = 0, dropped = 0;

	while (g_get_monotonic_time() < end) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = standin_call(
		    bus, "GetStreamStats", g_variant_new("(ss)", STRAP, "2a37"),
		    G_VARIANT_TYPE("(buuu)"), &error);

		g_assert_no_error(error);
		g_variant_get(reply, "(buuu)", &running, &sent, &delivered,
			      &dropped);
		if (!running)
			break;
		g_usleep(50000);
	}
	g_assert_false(running);
	g_assert_cmpuint(sent, ==, count);
	return delivered;
}

/* The strap sends @count heart rates (62 bpm, one RR each) at @hz. */
static void stream_start(StandinBus *bus, guint hz, guint count)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = standin_call(
	    bus, "StartNotifyStream",
	    g_variant_new("(ss@ayuu)", STRAP, "2a37",
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, hrm,
						    sizeof(hrm), 1),
			  hz, count),
	    NULL, &error);

	g_assert_no_error(error);
	(void)reply;
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
	g_autoptr(GVariant) reply = NULL;
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
	daemon = daemon_start(&w, "first.log");

	i = wait_message(w.probe, 0, "recovery/status", "online", 10000);
	if (i < 0)
		daemon_dump_log(&w, "first.log");
	g_assert_cmpint(i, >=, 0);
	/* Home Assistant discovery for the person and the devices. */
	g_assert_cmpint(
	    wait_message(w.probe, 0,
			 "homeassistant/sensor/recoveryd_recovery_user_alice_"
			 "score/config",
			 NULL, 5000),
	    >=, 0);

	g_assert_true(wait_subscribed(w.bus, STRAP, 15000));
	bed(w.bus, true);
	reply = standin_call(
	    w.bus, "StartNotifyStream",
	    g_variant_new("(ss@ayuu)", STRAP, "2a37",
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, hrm,
						    sizeof(hrm), 1),
			  STREAM_HZ, STREAM_COUNT),
	    NULL, &error);
	g_assert_no_error(error);

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
			 "homeassistant/sensor/recoveryd_recovery_user_bob_"
			 "score/config",
			 NULL, 5000);
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
		g_assert_nonnull(strstr(text, ":15: [user bob] heart-rate:"));
		g_assert_nonnull(strstr(text, "reloaded"));
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

static char *log_text(struct world *w, const char *log_name)
{
	g_autofree char *log = g_build_filename(w->dir, log_name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* Waits (at most @timeout_ms) until the daemon's log holds @needle. */
static bool wait_log(struct world *w, const char *log_name, const char *needle,
		     unsigned timeout_ms)
{
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		g_autofree char *text = log_text(w, log_name);

		if (strstr(text, needle))
			return true;
		g_usleep(100000);
	} while (g_get_monotonic_time() < end);
	return false;
}

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
	log = log_text(&w, "full.log");
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
	log = log_text(&w, "full.log");
	{
		g_auto(GStrv) lines = g_strsplit(log, "\n", -1);

		for (size_t k = 0; lines[k]; k++)
			if (strstr(lines[k], "database"))
				g_test_message("daemon: %s", lines[k]);
	}
	g_assert_nonnull(strstr(log, "readings written, 0 dropped"));
	/* Said once, not per failed write. */
	g_assert_cmpuint(count_lines_with(log, "readings held, retrying"), ==,
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
	log = log_text(&w, "checkins.log");
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
	g_test_add_func("/recoveryd/bad-checkins", test_bad_checkins);
	g_test_add_func("/recoveryd/damaged-night", test_damaged_night);
	g_test_add_func("/recoveryd/storage/disk-full", test_disk_full);
	g_test_add_func("/recoveryd/storage/read-only-start",
			test_read_only_start);
	return g_test_run();
}
