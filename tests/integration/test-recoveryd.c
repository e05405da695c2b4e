// SPDX-License-Identifier: MIT
/*
 * The daemon as it runs at home, against real parts: the recoveryd binary
 * (RECOVERYD) with a configuration file, a real mosquitto, and the BlueZ
 * stand-in on a private bus. A strap streams heart rates, a bed sensor
 * advertises; the test watches the broker as a dashboard would, then stops
 * the daemon with SIGTERM and reads the database. Then a morning spot check
 * followed live, and the morning alert that waits for it.
 */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
	if (w->notify_fd >= 0)
		close(w->notify_fd);
	g_free(w->notify_path);
	if (w->dir)
		g_assert_true(test_remove_tree(w->dir));
	g_free(w->dir);
	g_free(w->config);
	g_free(w->database);
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

static bool world_new(struct world *w, int alert_delay_s)
{
	const char *const topics[] = { "recovery/#", "homeassistant/#", NULL };
	g_autoptr(GError) error = NULL;
	g_autofree char *when = alert_time(alert_delay_s);
	g_autofree char *text = NULL;
	struct broker_config bc = { .allow_anonymous = true };

	*w = (struct world){ .notify_fd = -1 };
	if (!when) {
		g_test_skip("too close to midnight UTC for a same-day alert");
		return false;
	}
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
	w->database = g_build_filename(w->dir, "recoveryd.db", NULL);
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
			       "morning-alert=%s\n"
			       "morning-latest=23:59:59\n",
			       w->database, broker_port(w->broker), STRAP, BED,
			       when);
	g_assert_true(g_file_set_contents(w->config, text, -1, &error));
	g_assert_no_error(error);
	return true;
}

static GSubprocess *daemon_start(struct world *w, const char *log_name)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
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
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
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

/* The daemon started and ready: online, alice's @entity discovered by
 * Home Assistant, the strap's notifications subscribed. */
static GSubprocess *daemon_start_ready(struct world *w, const char *log_name,
				       const char *entity)
{
	GSubprocess *p = daemon_start(w, log_name);
	g_autofree char *config = g_strdup_printf(
	    "homeassistant/sensor/recoveryd_recovery_user_alice_%s/config",
	    entity);
	int i = wait_message(w->probe, 0, "recovery/status", "online", 10000);

	if (i < 0)
		daemon_dump_log(w, log_name);
	g_assert_cmpint(i, >=, 0);
	g_assert_cmpint(wait_message(w->probe, 0, config, NULL, 5000), >=, 0);
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

static guint stream_delivered(StandinBus *bus)
{
	int64_t end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
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
	g_assert_cmpuint(sent, ==, STREAM_COUNT);
	return delivered;
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
	/* Home Assistant discovery for the person and the devices. */
	daemon = daemon_start_ready(&w, "first.log", "score");
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
	delivered = stream_delivered(w.bus);
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

/* The config with its morning-alert line set to @when. */
static void set_alert(struct world *w, const char *when)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autofree char *joined = NULL;

	g_assert_true(g_file_get_contents(w->config, &text, NULL, &error));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, "morning-alert=")) {
			g_free(*l);
			*l = g_strconcat("morning-alert=", when, NULL);
		}
	}
	joined = g_strjoinv("\n", lines);
	g_assert_true(g_file_set_contents(w->config, joined, -1, &error));
	g_assert_no_error(error);
}

/* The payload of message @i. */
static char *payload_of(probe *p, int i)
{
	g_autoptr(probe_message) m = probe_get(p, (unsigned)i);

	g_assert_nonnull(m);
	return g_strdup(m->payload);
}

#define SPOT_BEATS 180 /* 3 minutes of beats, about 1 s each */

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
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autofree char *wake = clock_from_now(-10 * 60, "%H:%M");
	g_autofree char *wake_line = NULL;
	g_autofree char *alert_at = NULL;
	g_autofree char *done = NULL, *state = NULL, *alert_text = NULL;
	struct world w = { .notify_fd = -1 };
	int i, settling, measuring, finished, alert;

	if (!wake) {
		g_test_skip("too close to midnight UTC for a morning window");
		return;
	}
	if (!world_new(&w, 3600))
		goto out;
	wake_line = g_strdup_printf("wake=%s\n", wake);
	write_config(&w, wake_line);
	/* Home Assistant gets the spot check's sensor. */
	daemon = daemon_start_ready(&w, "spot.log", "spot_check");

	/* The morning alert falls due in the middle of the spot check. */
	alert_at = clock_from_now(8, "%H:%M:%S");
	if (!alert_at) {
		g_test_skip("too close to midnight UTC for a same-day alert");
		goto out;
	}
	set_alert(&w, alert_at);
	g_subprocess_send_signal(daemon, SIGHUP);
	g_usleep(500000);

	for (int k = 0; k < SPOT_BEATS; k++) {
		/* 973/1024 s and 1075/1024 s: 950.2 and 1049.8 ms. */
		guint16 rr = k % 2 ? 1075 : 973;
		const guint8 beat[] = { 0x16, 60, (guint8)(rr & 0xff),
					(guint8)(rr >> 8) };

		g_assert_true(standin_notify(w.bus, STRAP, "2a37", beat,
					     sizeof(beat), &error));
		g_assert_no_error(error);
		g_usleep(100000);
	}

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(check_cases); i++)
		g_test_add_data_func(check_cases[i].name, &check_cases[i],
				     test_check_config);
	g_test_add_func("/recoveryd/night-to-alert", test_night_to_alert);
	g_test_add_func("/recoveryd/spot-check-live", test_spot_check_live);
	return g_test_run();
}
