// SPDX-License-Identifier: MIT
/*
 * The BLE heart-rate path's CPU budget (DESIGN §11): run on demand, not a
 * test.
 *
 *   build/tests/bench/bench-ble [--runs N] [--count N] [--rate HZ]
 *                               [--only MODE,...]
 *                               [--daemon-before RECOVERYD]
 *
 * To profile one receiver, run the children under a profiler, e.g.
 *   BENCH_BLE_WRAP='perf record -g -o /tmp/ble.data' \
 *       build/tests/bench/bench-ble --runs 1 --only client-acquire
 * (figures taken that way include the profiler's cost: do not quote them;
 * with --only daemon it is recoveryd that runs under the profiler).
 *
 * One run starts a private bus and the BlueZ stand-in (tests/fakes/bus.h),
 * adds two heart-rate straps, and measures each receiver below in a child
 * process of its own (fork + exec of this program with --child), so that
 * its CPU time (getrusage RUSAGE_SELF, every thread: GDBus's worker
 * included) and its memory are its own:
 *
 *   floor-gdbus     a bare GDBus program: Connect, StartNotify on 0x2A37,
 *                   count PropertiesChanged(Value) and touch the bytes
 *   floor-fd        a bare program: AcquireNotify, recv() the fd in a GSource
 *   client-start    our client (sensors/ble.h) on the StartNotify path
 *                   (the strap's 0x2A37 indicates only, so AcquireNotify is
 *                   not offered, as with BlueZ 5.66)
 *   client-acquire  our client on the AcquireNotify path
 *   full            our client on AcquireNotify plus the rest of the
 *                   heart-rate path: every reading into a real store batch
 *                   (default batching, store_tick every second) and kept as
 *                   the live value (a JSON text made every 5 s)
 *   daemon          the real recoveryd (issue 20), not a child of ours but
 *                   spawned as shipped: a configuration in a temporary
 *                   directory with one person whose heart-rate strap is the
 *                   notifying one, its database there, a real mosquitto
 *                   (tests/integration/broker.h), defaults otherwise. Once
 *                   it logs "connected, receiving" and has settled, its
 *                   whole-process CPU is taken from just before the stream
 *                   starts to when it has gone idle after the stream's end
 *                   (no CPU for IDLE_PROBE_MS), divided by --count: the
 *                   sum of its threads' run times (schedstat, in ns), as
 *                   utime + stime of /proc/PID/stat count them but not
 *                   rounded to 10 ms ticks (at 5,000 notifications a tick
 *                   is 2 us a notification); utime + stime are printed
 *                   beside it, and split user and sys. Then
 *                   SIGTERM (it commits its batch) and what it stored is
 *                   read back with the store API (gateway/core/store.h):
 *                   every notification's heart rate and both RR intervals.
 *   daemon-before   the same with another recoveryd (--daemon-before PATH,
 *                   e.g. a copy of an earlier build): before and after a
 *                   change in one run.
 *
 * For each, the stand-in streams --count notifications (default 10,000) at
 * --rate a second (default 1,000), each with a u16 heart rate that
 * carries a sequence number (40 + n, never 0: off the skin), so losses are
 * counted, and 2 RR intervals. Each child measures CPU from the first
 * notification to the last (or to 0.5 s without one), and peak RSS as
 * VmHWM: ru_maxrss carries the pre-exec peak across execve(), so in a
 * child it would report this parent's size. The receivers take turns,
 * --runs times (default 3); figures are medians, and the ratios are what
 * to read: absolute times drift from run to run.
 *
 * "wake" is voluntary context switches (every thread) per notification.
 * The stand-in sends from a 10 ms timer, so 1,000/s arrive as bursts of
 * about 10 and an fd reader wakes about once a burst; --rate 100 gives one
 * notification per wake-up, where the wake-up itself is most of the cost.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "sensors/ble.h"
#include "tests/fakes/bus.h"
#include "gateway/core/store.h"
#include "tests/integration/broker.h"
#include "tests/support/test-support.h"

/* 0x2A37 indicates only: the client has to use StartNotify. */
#define STRAP_IND "AA:BB:CC:DD:EE:01"
/* The stand-in's heart-rate kind as it is: 0x2A37 notifies. */
#define STRAP_NTF "AA:BB:CC:DD:EE:02"
#define UUID_HRM  "00002a37-0000-1000-8000-00805f9b34fb"
#define GATT_CHAR "org.bluez.GattCharacteristic1"
/* Flags 0x17: a u16 heart rate, contact supported and detected (as the
 * usual chest straps send it), RR intervals. The heart rate carries the
 * sequence number as HR_SEQ_BASE + n (the stand-in adds n to the u16 at
 * SEQ_OFFSET; never 0, which is off the skin); the RR intervals are two
 * plausible beats, told apart by value when read back. */
#define HRM_FLAGS	0x17
#define SEQ_OFFSET	1
#define HR_SEQ_BASE	40
#define RR_A		800 /* 781.3 ms */
#define RR_B		820 /* 800.8 ms */
#define SETUP_MS	20000
#define SETTLE_MS	200
#define IDLE_END_MS	500
#define WATCHDOG_MS	100
#define LIVE_PERIOD_MS	5000
#define STORE_TICK_MS	1000
#define DEFAULT_RUNS	3
#define DEFAULT_COUNT	10000
#define DEFAULT_RATE_HZ 1000
#define MAX_RUNS	15

enum mode {
	MODE_FLOOR_GDBUS,
	MODE_FLOOR_FD,
	MODE_CLIENT_START,
	MODE_CLIENT_ACQUIRE,
	MODE_FULL,
	MODE_DAEMON,
	MODE_DAEMON_BEFORE,
	N_MODES,
};

struct mode_info {
	const char *name;
	const char *label;
	const char *address;
	bool acquire; /* the fd path is expected (else StartNotify) */
};

static const struct mode_info modes[N_MODES] = {
	{ "floor-gdbus", "GDBus floor (StartNotify)", STRAP_IND, false },
	{ "floor-fd", "AcquireNotify floor (recv)", STRAP_NTF, true },
	{ "client-start", "client, StartNotify", STRAP_IND, false },
	{ "client-acquire", "client, AcquireNotify", STRAP_NTF, true },
	{ "full", "full path (AcquireNotify+store+live)", STRAP_NTF, true },
	{ "daemon", "daemon (recoveryd, whole process)", STRAP_NTF, true },
	{ "daemon-before", "daemon, --daemon-before PATH", STRAP_NTF, true },
};

G_NORETURN static void die(const char *what, const GError *error)
{
	fprintf(stderr, "bench-ble: %s%s%s\n", what, error ? ": " : "",
		error ? error->message : "");
	exit(1);
}

/* The sequence number of a notification's value, G_MAXUINT if none. */
static guint value_seq(const guint8 *p, gsize n)
{
	if (n < SEQ_OFFSET + 2)
		return G_MAXUINT;
	return (guint)(guint16)((p[SEQ_OFFSET] | p[SEQ_OFFSET + 1] << 8) -
				HR_SEQ_BASE);
}

/* --- The child: one receiver ---------------------------------------------- */

struct child {
	enum mode mode;
	const char *address;
	guint expected;
	guint8 *seen; /* by sequence number */
	guint received;
	guint distinct;
	guint64 touched; /* what the receivers read, so nothing is elided */
	bool started;
	bool done;
	struct rusage ru0;
	struct rusage ru1;
	gint64 t0_us;
	gint64 t1_us;
	guint received_at_end;
	/* Watchdog: the end without a last notification, and deadlines. */
	guint last_received;
	gint64 last_progress_us;
	gint64 deadline_us;
	/* floor-fd */
	int fd;
	bool eof;
	/* client modes */
	ble_client *client;
	/* full */
	store *store;
	char *store_dir;
	int64_t user;
	int64_t last_t_ms;
	unsigned store_errors;
	guint live_bpm;
	enum hrs_contact live_contact;
	int64_t live_t_ms;
	gsize live_len;
};

static void finish(struct child *ch)
{
	if (ch->done)
		return;
	getrusage(RUSAGE_SELF, &ch->ru1);
	ch->t1_us = g_get_monotonic_time();
	ch->received_at_end = ch->received;
	ch->done = true;
}

/* One notification with sequence number @seq has been handled. */
static void got(struct child *ch, guint seq)
{
	if (!ch->started) {
		getrusage(RUSAGE_SELF, &ch->ru0);
		ch->t0_us = g_get_monotonic_time();
		ch->started = true;
	}
	ch->received++;
	if (seq < ch->expected && !ch->seen[seq]) {
		ch->seen[seq] = 1;
		ch->distinct++;
	}
	if (ch->distinct == ch->expected)
		finish(ch);
}

static gboolean watchdog(gpointer data)
{
	struct child *ch = data;
	gint64 now = g_get_monotonic_time();

	if (ch->done)
		return G_SOURCE_REMOVE;
	if (ch->received != ch->last_received) {
		ch->last_received = ch->received;
		ch->last_progress_us = now;
	} else if (ch->started &&
		   now - ch->last_progress_us > IDLE_END_MS * 1000) {
		finish(ch);
		return G_SOURCE_REMOVE;
	}
	if (now > ch->deadline_us || ch->eof) {
		finish(ch);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static GDBusConnection *connect_bus(void)
{
	g_autoptr(GError) error = NULL;
	const char *address = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
	GDBusConnection *c;

	if (address == NULL)
		die("child: DBUS_SYSTEM_BUS_ADDRESS is unset", NULL);
	c = g_dbus_connection_new_for_address_sync(
	    address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	if (c == NULL)
		die("child: connecting to the bus", error);
	g_dbus_connection_set_exit_on_close(c, FALSE);
	return c;
}

static GVariant *call(GDBusConnection *c, const char *dest, const char *path,
		      const char *iface, const char *method, GVariant *params,
		      const GVariantType *reply_type)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = g_dbus_connection_call_sync(
	    c, dest, path, iface, method, params, reply_type,
	    G_DBUS_CALL_FLAGS_NONE, SETUP_MS, NULL, &error);

	if (r == NULL) {
		g_autofree char *what = g_strdup_printf("child: %s", method);
		die(what, error);
	}
	return r;
}

static char *bluez_owner(GDBusConnection *c)
{
	g_autoptr(GVariant) r =
	    call(c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		 "org.freedesktop.DBus", "GetNameOwner",
		 g_variant_new("(s)", "org.bluez"), G_VARIANT_TYPE("(s)"));
	char *owner = NULL;

	g_variant_get(r, "(s)", &owner);
	return owner;
}

/* What a bare program does before the first value: Connect, wait for
 * ServicesResolved, find 0x2A37 by UUID. Blocking calls: not measured. */
static char *floor_setup(GDBusConnection *c, const char *owner,
			 const char *dev_path)
{
	gint64 end = g_get_monotonic_time() + SETUP_MS * 1000;
	g_autoptr(GVariant) r1 = call(c, owner, dev_path, "org.bluez.Device1",
				      "Connect", NULL, G_VARIANT_TYPE_UNIT);
	(void)r1; /* the reply is only checked for errors */

	for (;;) {
		g_autoptr(GVariant) r =
		    call(c, owner, dev_path, "org.freedesktop.DBus.Properties",
			 "Get",
			 g_variant_new("(ss)", "org.bluez.Device1",
				       "ServicesResolved"),
			 G_VARIANT_TYPE("(v)"));
		g_autoptr(GVariant) v = g_variant_get_child_value(r, 0);
		g_autoptr(GVariant) b = g_variant_get_variant(v);
		if (g_variant_is_of_type(b, G_VARIANT_TYPE_BOOLEAN) &&
		    g_variant_get_boolean(b))
			break;
		if (g_get_monotonic_time() > end)
			die("child: services not resolved", NULL);
		g_usleep(10000);
	}

	g_autoptr(GVariant) r2 =
	    call(c, owner, "/", "org.freedesktop.DBus.ObjectManager",
		 "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"));
	g_autoptr(GVariant) objects = g_variant_get_child_value(r2, 0);
	g_autofree char *prefix = g_strconcat(dev_path, "/", NULL);
	GVariantIter it;
	const char *path;
	GVariant *ifaces;

	g_variant_iter_init(&it, objects);
	while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
		g_autoptr(GVariant) owned = ifaces;
		g_autoptr(GVariant) props = NULL;
		const char *uuid = NULL;

		if (!g_str_has_prefix(path, prefix))
			continue;
		props = g_variant_lookup_value(owned, GATT_CHAR,
					       G_VARIANT_TYPE_VARDICT);
		if (props != NULL &&
		    g_variant_lookup(props, "UUID", "&s", &uuid) &&
		    strcmp(uuid, UUID_HRM) == 0)
			return g_strdup(path);
	}
	die("child: no 0x2A37 characteristic", NULL);
	return NULL;
}

/* floor-gdbus: only receive PropertiesChanged(Value) and touch the bytes. */
static void floor_on_signal(GDBusConnection *c, const char *sender,
			    const char *path, const char *iface,
			    const char *member, GVariant *params, gpointer data)
{
	struct child *ch = data;
	gsize n = 0;

	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)")))
		return;
	g_autoptr(GVariant) changed = g_variant_get_child_value(params, 1);
	g_autoptr(GVariant) value =
	    g_variant_lookup_value(changed, "Value", G_VARIANT_TYPE_BYTESTRING);
	if (value == NULL)
		return;
	const guint8 *p = g_variant_get_fixed_array(value, &n, 1);
	ch->touched += n;
	got(ch, value_seq(p, n));
}

static void floor_gdbus_start(struct child *ch, GDBusConnection *c,
			      const char *dev_path)
{
	g_autofree char *owner = bluez_owner(c);
	g_autofree char *chr = floor_setup(c, owner, dev_path);

	g_dbus_connection_signal_subscribe(
	    c, owner, "org.freedesktop.DBus.Properties", "PropertiesChanged",
	    chr, GATT_CHAR, G_DBUS_SIGNAL_FLAGS_NONE, floor_on_signal, ch,
	    NULL);
	g_autoptr(GVariant) r = call(c, owner, chr, GATT_CHAR, "StartNotify",
				     NULL, G_VARIANT_TYPE_UNIT);
	(void)r; /* the reply is only checked for errors */
}

/* floor-fd: recv() every message there is, each one value. */
static gboolean floor_on_fd(gint fd, GIOCondition cond, gpointer data)
{
	struct child *ch = data;
	guint8 buf[512];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			ch->touched += (guint64)n;
			got(ch, value_seq(buf, (gsize)n));
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		ch->eof = true;
		return G_SOURCE_REMOVE;
	}
}

static void floor_fd_start(struct child *ch, GDBusConnection *c,
			   const char *dev_path)
{
	g_autofree char *owner = bluez_owner(c);
	g_autofree char *chr = floor_setup(c, owner, dev_path);
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	gint32 index = -1;
	guint16 mtu = 0;

	g_autoptr(GVariant) r = g_dbus_connection_call_with_unix_fd_list_sync(
	    c, owner, chr, GATT_CHAR, "AcquireNotify",
	    g_variant_new("(@a{sv})",
			  g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
	    G_VARIANT_TYPE("(hq)"), G_DBUS_CALL_FLAGS_NONE, SETUP_MS, NULL,
	    &fds, NULL, &error);
	if (r == NULL)
		die("child: AcquireNotify", error);
	g_variant_get(r, "(hq)", &index, &mtu);
	ch->fd = fds ? g_unix_fd_list_get(fds, index, &error) : -1;
	if (ch->fd < 0)
		die("child: AcquireNotify gave no fd", error);
	if (!g_unix_set_fd_nonblocking(ch->fd, TRUE, &error))
		die("child: fd", error);
	g_unix_fd_add(ch->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, floor_on_fd, ch);
}

/* The client: count, touch the decoded heart rate, and in full mode store
 * the reading and keep it as the live value. */
static void full_path(struct child *ch, const struct reading *r)
{
	const struct hrs_measurement *m = &r->payload.u.heart_rate;
	g_autoptr(GError) error = NULL;
	/* Each reading its own key, as a 1 Hz strap's are: the stand-in's
	 * bursts put several in one millisecond. */
	int64_t t = r->t_ms > ch->last_t_ms ? r->t_ms : ch->last_t_ms + 1;
	double end = (double)t;

	ch->last_t_ms = t;
	if (!store_add_hr(ch->store, ch->user, t, m->heart_rate_bpm, &error))
		ch->store_errors++;
	g_clear_error(&error);
	/* The newest interval ends now; the earlier ones before it. */
	for (unsigned i = m->rr_count; i-- > 0;) {
		double rr = hrs_rr_ms(m->rr_raw[i]);
		if (!store_add_rr(ch->store, ch->user, (int64_t)end, rr,
				  &error))
			ch->store_errors++;
		g_clear_error(&error);
		end -= rr;
	}
	ch->live_bpm = m->heart_rate_bpm;
	ch->live_contact = m->contact;
	ch->live_t_ms = r->t_ms;
}

static void client_on_reading(void *data, const struct reading *r)
{
	struct child *ch = data;
	const struct hrs_measurement *m = &r->payload.u.heart_rate;

	if (r->payload.uuid != DECODE_UUID_HEART_RATE ||
	    r->via != READING_VIA_NOTIFICATION)
		return;
	ch->touched += m->heart_rate_bpm;
	if (ch->mode == MODE_FULL)
		full_path(ch, r);
	got(ch, (guint)(guint16)(m->heart_rate_bpm - HR_SEQ_BASE));
}

static void client_on_log(void *data, GLogLevelFlags level, const char *message)
{
	if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
		      G_LOG_LEVEL_WARNING)) != 0 ||
	    g_getenv("BENCH_BLE_VERBOSE") != NULL)
		fprintf(stderr, "bench-ble child: %s\n", message);
}

static gboolean store_tick_due(gpointer data)
{
	struct child *ch = data;
	g_autoptr(GError) error = NULL;

	if (!store_tick(ch->store, &error))
		ch->store_errors++;
	return G_SOURCE_CONTINUE;
}

/* The live value, as the MQTT side would be handed it every few seconds. */
static gboolean live_due(gpointer data)
{
	struct child *ch = data;
	g_autofree char *json = g_strdup_printf(
	    "{\"heart_rate\":%u,\"contact\":\"%s\",\"t\":%" PRId64 "}",
	    ch->live_bpm, hrs_contact_name(ch->live_contact), ch->live_t_ms);

	ch->live_len = strlen(json);
	return G_SOURCE_CONTINUE;
}

static void full_open(struct child *ch)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	ch->store_dir = g_dir_make_tmp("bench-ble-XXXXXX", &error);
	if (ch->store_dir == NULL)
		die("child: temporary directory", error);
	path = g_build_filename(ch->store_dir, "recoveryd.db", NULL);
	ch->store = store_open(path, NULL, &error);
	if (ch->store == NULL ||
	    !store_user_id(ch->store, "bench", &ch->user, &error))
		die("child: store", error);
	g_timeout_add(STORE_TICK_MS, store_tick_due, ch);
	g_timeout_add(LIVE_PERIOD_MS, live_due, ch);
}

static void full_close(struct child *ch)
{
	g_autoptr(GDir) d = NULL;
	const char *name;

	store_close(ch->store);
	ch->store = NULL;
	d = g_dir_open(ch->store_dir, 0, NULL);
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p =
		    g_build_filename(ch->store_dir, name, NULL);
		g_remove(p);
	}
	g_rmdir(ch->store_dir);
	g_clear_pointer(&ch->store_dir, g_free);
}

static void client_start(struct child *ch, GDBusConnection *c)
{
	g_autoptr(GError) error = NULL;
	const struct ble_client_config cfg = { .power_on = true };
	const struct ble_ops ops = {
		.reading = client_on_reading,
		.log = client_on_log,
	};
	struct ble_device_config dev = { .kind = BLE_KIND_HEART_RATE };
	gint64 end = g_get_monotonic_time() + SETUP_MS * 1000;

	if (ch->mode == MODE_FULL)
		full_open(ch);
	ch->client = ble_client_new(c, &cfg, &ops, ch, &error);
	if (ch->client == NULL)
		die("child: ble_client_new", error);
	g_strlcpy(dev.address, ch->address, sizeof(dev.address));
	ble_client_set_devices(ch->client, &dev, 1);
	while (ble_client_link_state(ch->client, ch->address) !=
	       BLE_LINK_SUBSCRIBED) {
		if (g_get_monotonic_time() > end)
			die("child: the client did not subscribe", NULL);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

/* VmHWM and VmRSS of this process, in kB. */
static void proc_memory(long *hwm_kb, long *rss_kb)
{
	g_autofree char *text = NULL;

	*hwm_kb = *rss_kb = -1;
	if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
		return;
	for (char *line = text; line != NULL && *line != '\0';) {
		char *next = strchr(line, '\n');
		if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm_kb = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmRSS:", 6) == 0)
			*rss_kb = strtol(line + 6, NULL, 10);
		line = next ? next + 1 : NULL;
	}
}

static gint64 tv_us(const struct timeval *tv)
{
	return (gint64)tv->tv_sec * G_USEC_PER_SEC + tv->tv_usec;
}

static enum mode mode_by_name(const char *name)
{
	for (int m = 0; m < N_MODES; m++)
		if (strcmp(modes[m].name, name) == 0)
			return (enum mode)m;
	fprintf(stderr, "bench-ble: no mode %s\n", name);
	exit(2);
}

/* --child MODE DEVICE_PATH COUNT RATE_HZ */
static int child_main(int argc, char **argv)
{
	struct child ch = { .fd = -1 };
	g_autoptr(GDBusConnection) c = NULL;
	gint64 settle;
	guint rate;

	if (argc != 6)
		die("child: wrong arguments", NULL);
	ch.mode = mode_by_name(argv[2]);
	ch.address = modes[ch.mode].address;
	ch.expected = (guint)strtoul(argv[4], NULL, 10);
	rate = (guint)strtoul(argv[5], NULL, 10);
	ch.seen = g_malloc0(ch.expected + 1);
	c = connect_bus();

	switch (ch.mode) {
	case MODE_FLOOR_GDBUS:
		floor_gdbus_start(&ch, c, argv[3]);
		break;
	case MODE_FLOOR_FD:
		floor_fd_start(&ch, c, argv[3]);
		break;
	case MODE_CLIENT_START:
	case MODE_CLIENT_ACQUIRE:
	case MODE_FULL:
		client_start(&ch, c);
		break;
	case MODE_DAEMON: /* not a child of this program */
	case MODE_DAEMON_BEFORE:
	case N_MODES:
	default:
		die("child: bad mode", NULL);
	}
	/* Let the set-up's stragglers (reads, discovery off) pass. */
	settle = g_get_monotonic_time() + SETTLE_MS * 1000;
	while (g_get_monotonic_time() < settle) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	if (ch.received != 0)
		die("child: values before the stream", NULL);

	ch.deadline_us = g_get_monotonic_time() +
			 (gint64)ch.expected * G_USEC_PER_SEC / MAX(rate, 1) +
			 10 * G_USEC_PER_SEC;
	g_timeout_add(WATCHDOG_MS, watchdog, &ch);
	printf("ready\n");
	fflush(stdout);

	while (!ch.done)
		g_main_context_iteration(NULL, TRUE);

	long hwm_kb, rss_kb;
	proc_memory(&hwm_kb, &rss_kb);
	gint64 user = tv_us(&ch.ru1.ru_utime) - tv_us(&ch.ru0.ru_utime);
	gint64 sys = tv_us(&ch.ru1.ru_stime) - tv_us(&ch.ru0.ru_stime);
	guint intervals = ch.received_at_end > 1 ? ch.received_at_end - 1 : 1;
	/* Sleeps in poll() and futex waits, every thread: wake-ups. */
	long csw = ch.ru1.ru_nvcsw - ch.ru0.ru_nvcsw;
	/* received distinct user_us sys_us intervals wall_us hwm_kb rss_kb
	 * ru_maxrss_kb voluntary_switches touched */
	printf(
	    "result %u %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
	    " %u %" G_GINT64_FORMAT " %ld %ld %ld %ld %" G_GUINT64_FORMAT "\n",
	    ch.received_at_end, ch.distinct, ch.started ? user : 0,
	    ch.started ? sys : 0, intervals,
	    ch.started ? ch.t1_us - ch.t0_us : 0, hwm_kb, rss_kb,
	    ch.ru1.ru_maxrss, ch.started ? csw : 0, ch.touched + ch.live_len);
	fflush(stdout);

	if (ch.store_errors > 0)
		fprintf(stderr, "bench-ble child: %u store errors\n",
			ch.store_errors);
	g_clear_pointer(&ch.client, ble_client_free);
	if (ch.store != NULL)
		full_close(&ch);
	if (ch.fd >= 0)
		close(ch.fd);
	g_free(ch.seen);
	return 0;
}

/* --- The parent: the bus, the stand-in, the runs, the report -------------- */

struct result {
	bool ok;
	guint received;
	guint lost;
	double us;	 /* CPU per notification */
	double user_us;	 /* ... of which user */
	double sys_us;	 /* ... and system */
	double hwm_mb;	 /* peak RSS (VmHWM) */
	double rss_mb;	 /* RSS at the end */
	guint dropped;	 /* by the stand-in: the socket was full */
	double wakeups;	 /* voluntary context switches per notification */
	double ticks_us; /* daemon: utime + stime in ticks, for a check */
};

struct bench {
	StandinBus *bus;
	char *self;
	char *paths[N_MODES];
	guint count;
	guint rate;
	guint runs;
	guint only;	/* modes to run, a bit each */
	char **wrap;	/* $BENCH_BLE_WRAP: a profiler to run the child under */
	broker *broker; /* for the daemon, started at its first run */
	char *daemon_before; /* --daemon-before: an older build, compared */
};

static void die_with_parent(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GVariant *control(struct bench *b, const char *method, GVariant *params)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = standin_call(b->bus, method, params, NULL, &error);

	if (r == NULL)
		die(method, error);
	return r;
}

static void drop_links(struct bench *b)
{
	const char *addresses[] = { STRAP_IND, STRAP_NTF };

	for (gsize i = 0; i < G_N_ELEMENTS(addresses); i++) {
		g_autoptr(GVariant) st =
		    standin_device_state(b->bus, addresses[i], NULL);
		gboolean connected = FALSE;
		if (st != NULL &&
		    g_variant_lookup(st, "connected", "b", &connected) &&
		    connected)
			(void)standin_drop(b->bus, addresses[i], "remote",
					   NULL);
	}
}

static char *read_line(GDataInputStream *in)
{
	g_autoptr(GError) error = NULL;
	char *line = g_data_input_stream_read_line(in, NULL, NULL, &error);

	if (line == NULL && error != NULL)
		die("reading from the child", error);
	return line;
}

/* A heart rate, the sequence number's base (the stand-in adds n to it),
 * and two RR intervals. */
static void start_stream(struct bench *b, const struct mode_info *mi)
{
	static const guint8 value[] = {
		HRM_FLAGS, HR_SEQ_BASE & 0xff, HR_SEQ_BASE >> 8, RR_A & 0xff,
		RR_A >> 8, RR_B & 0xff,	       RR_B >> 8,
	};
	g_autoptr(GVariant) started = control(
	    b, "StartNotifyStreamSeq",
	    g_variant_new("(ss@ayuuu)", mi->address, "2a37",
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, value,
						    sizeof(value), 1),
			  b->rate, b->count, (guint)SEQ_OFFSET));
	(void)started; /* the reply is only checked for errors */
}

/* What the stand-in sent and had to drop (the socket was full), the stream
 * stopped if it still runs; whether the path taken is the one @mi is
 * about. */
static bool stream_end(struct bench *b, const struct mode_info *mi,
		       guint *ret_dropped)
{
	g_autoptr(GVariant) stats = control(
	    b, "GetStreamStats", g_variant_new("(ss)", mi->address, "2a37"));
	gboolean running = FALSE;
	guint sent = 0, delivered = 0, dropped = 0;
	g_variant_get(stats, "(buuu)", &running, &sent, &delivered, &dropped);
	if (running) {
		g_autoptr(GVariant) stop =
		    control(b, "StopNotifyStream",
			    g_variant_new("(ss)", mi->address, "2a37"));
		(void)stop; /* the reply is only checked for errors */
	}
	*ret_dropped = dropped;

	g_autofree char *acq_key =
	    g_strdup_printf("AcquireNotify:%s:%s", mi->address, UUID_HRM);
	g_autofree char *start_key =
	    g_strdup_printf("StartNotify:%s:%s", mi->address, UUID_HRM);
	guint acq = standin_calls(b->bus, acq_key);
	guint start = standin_calls(b->bus, start_key);
	if (mi->acquire ? (acq == 0 || start != 0) : (start == 0)) {
		fprintf(stderr,
			"bench-ble: %s: wrong path (AcquireNotify %u, "
			"StartNotify %u)\n",
			mi->name, acq, start);
		return false;
	}
	return true;
}

/* --- The daemon: the real recoveryd --------------------------------------- */

#define DAEMON_LOG	 "recoveryd.log"
#define DAEMON_USER	 "bench"
#define RECEIVING	 ": connected, receiving" /* gateway/radio.c */
#define DAEMON_SETTLE_MS 1000
#define IDLE_PROBE_MS	 50
#define POLL_MS		 10
#define STOP_TIMEOUT_MS	 10000
#define LOG_TAIL_BYTES	 2000
#define SPAN_BEFORE_MS	 (60 * 1000)
#define SPAN_AFTER_MS	 (3600 * 1000)

/* The whole process's CPU and wake-ups at one instant. */
struct proc_cpu {
	gint64
	    user_ticks;	  /* /proc/PID/stat utime: every thread, live or gone */
	gint64 sys_ticks; /* ... stime */
	gint64 run_ns;	  /* sum of the live threads' schedstat run times */
	guint64 voluntary; /* sum of the live threads' voluntary switches */
};

static bool read_proc_cpu(GPid pid, struct proc_cpu *ret)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *task = g_strdup_printf("/proc/%d/task", pid);
	g_autofree char *text = NULL;
	const char *name;

	*ret = (struct proc_cpu){ 0 };
	if (!g_file_get_contents(stat_path, &text, NULL, NULL))
		return false;
	/* After "(comm)": state is field 3; utime 14 and stime 15. */
	const char *p = strrchr(text, ')');
	g_auto(GStrv) f = p ? g_strsplit(p + 2, " ", 0) : NULL;
	if (f == NULL || g_strv_length(f) < 13)
		return false;
	ret->user_ticks = g_ascii_strtoll(f[11], NULL, 10);
	ret->sys_ticks = g_ascii_strtoll(f[12], NULL, 10);

	g_autoptr(GDir) d = g_dir_open(task, 0, NULL);
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *sched =
		    g_build_filename(task, name, "schedstat", NULL);
		g_autofree char *status =
		    g_build_filename(task, name, "status", NULL);
		g_autofree char *t1 = NULL, *t2 = NULL;
		if (g_file_get_contents(sched, &t1, NULL, NULL))
			ret->run_ns += g_ascii_strtoll(t1, NULL, 10);
		if (!g_file_get_contents(status, &t2, NULL, NULL))
			continue; /* the thread ended meanwhile */
		const char *v = strstr(t2, "\nvoluntary_ctxt_switches:");
		if (v != NULL)
			ret->voluntary += g_ascii_strtoull(
			    v + strlen("\nvoluntary_ctxt_switches:"), NULL, 10);
	}
	return true;
}

/* VmHWM and VmRSS of @pid in kB, -1 when unknown. */
static void pid_memory(GPid pid, long *hwm_kb, long *rss_kb)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree char *text = NULL;
	const char *at;

	*hwm_kb = *rss_kb = -1;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	if ((at = strstr(text, "VmHWM:")) != NULL)
		*hwm_kb = strtol(at + 6, NULL, 10);
	if ((at = strstr(text, "VmRSS:")) != NULL)
		*rss_kb = strtol(at + 6, NULL, 10);
}

/* Whether @pid runs the program at @exe. */
static bool pid_is(GPid pid, const char *exe)
{
	g_autofree char *link = g_strdup_printf("/proc/%d/exe", pid);
	g_autofree char *target = g_file_read_link(link, NULL);

	return target != NULL && strcmp(target, exe) == 0;
}

/* recoveryd's process: @top itself, or under BENCH_BLE_WRAP a descendant
 * of the profiler's; 0 if none (yet). */
static GPid find_daemon(GPid top, const char *exe, int depth)
{
	if (pid_is(top, exe))
		return top;
	if (depth > 3)
		return 0;
	g_autofree char *path =
	    g_strdup_printf("/proc/%d/task/%d/children", top, top);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	g_auto(GStrv) kids = g_strsplit(g_strstrip(text), " ", 0);
	for (guint i = 0; kids[i] != NULL; i++) {
		GPid kid = (GPid)atoi(kids[i]);
		GPid found = kid > 0 ? find_daemon(kid, exe, depth + 1) : 0;
		if (found > 0)
			return found;
	}
	return 0;
}

static void print_log_tail(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, DAEMON_LOG, NULL);
	g_autofree char *text = NULL;
	gsize n = 0;

	if (!g_file_get_contents(path, &text, &n, NULL))
		return;
	fprintf(stderr, "--- the end of %s ---\n%s---\n", path,
		n > LOG_TAIL_BYTES ? text + n - LOG_TAIL_BYTES : text);
}

/* Waits (at most @timeout_ms) until @dir's log holds @needle; false if the
 * daemon ended first. */
static bool wait_log(GSubprocess *p, const char *dir, const char *needle,
		     unsigned timeout_ms)
{
	g_autofree char *path = g_build_filename(dir, DAEMON_LOG, NULL);
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (g_get_monotonic_time() < end &&
	       g_subprocess_get_identifier(p) != NULL) {
		g_autofree char *text = NULL;
		if (g_file_get_contents(path, &text, NULL, NULL) &&
		    strstr(text, needle) != NULL)
			return true;
		g_usleep(POLL_MS * 1000);
	}
	return false;
}

/* SIGTERM to recoveryd (@pid), then waits for @p (it or its profiler);
 * SIGKILL after STOP_TIMEOUT_MS. Whether recoveryd's side exited 0. */
static bool stop_daemon(GSubprocess *p, GPid pid)
{
	gint64 end = g_get_monotonic_time() + STOP_TIMEOUT_MS * 1000;

	if (pid > 0)
		kill(pid, SIGTERM);
	while (g_subprocess_get_identifier(p) != NULL &&
	       g_get_monotonic_time() < end)
		g_usleep(POLL_MS * 1000);
	if (g_subprocess_get_identifier(p) != NULL) {
		fprintf(stderr,
			"bench-ble: daemon: not gone %d ms after "
			"SIGTERM: killed\n",
			STOP_TIMEOUT_MS);
		if (pid > 0)
			kill(pid, SIGKILL);
		g_subprocess_force_exit(p);
	}
	g_subprocess_wait(p, NULL, NULL);
	return g_subprocess_get_if_exited(p) &&
	       g_subprocess_get_exit_status(p) == 0;
}

/* What the daemon stored of the stream, read back with the store API. */
struct stored {
	guint hr;	/* heart rates that carry a sequence number < count */
	guint distinct; /* distinct sequence numbers among them */
	guint rr_a;	/* first RR intervals */
	guint rr_b;	/* second RR intervals */
	guint others;	/* rows that are none of these */
};

static bool count_stored(const char *db, guint count, int64_t from_ms,
			 struct stored *ret)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store) s = store_open(db, NULL, &error);
	g_autofree guint8 *seen = g_malloc0(count);
	struct store_span span;
	int64_t user = 0;

	*ret = (struct stored){ 0 };
	if (s == NULL || !store_user_id(s, DAEMON_USER, &user, &error)) {
		fprintf(stderr, "bench-ble: daemon: %s: %s\n", db,
			error->message);
		return false;
	}
	/* 1,000 notifications a second carry 1,600 s of beats: their chain
	 * runs ahead of the clock by the sum of every interval sent. */
	int64_t ahead_ms = (int64_t)count * (RR_A + RR_B) * 1000 / 1024;
	store_span_init(&span);
	if (!store_load_span(s, user, from_ms - SPAN_BEFORE_MS,
			     from_ms + ahead_ms + SPAN_AFTER_MS, &span,
			     &error)) {
		fprintf(stderr, "bench-ble: daemon: reading %s: %s\n", db,
			error->message);
		store_span_clear(&span);
		return false;
	}
	for (guint i = 0; i < span.hr->len; i++) {
		const struct hr_sample *h =
		    &g_array_index(span.hr, struct hr_sample, i);
		double seq = h->bpm - HR_SEQ_BASE;
		if (seq < 0 || seq >= count || seq != floor(seq)) {
			ret->others++;
			continue;
		}
		ret->hr++;
		if (!seen[(guint)seq]) {
			seen[(guint)seq] = 1;
			ret->distinct++;
		}
	}
	for (guint i = 0; i < span.rr->len; i++) {
		const struct rr_sample *r =
		    &g_array_index(span.rr, struct rr_sample, i);
		long raw = lround(r->rr_ms * 1024.0 / 1000.0);
		if (raw == RR_A)
			ret->rr_a++;
		else if (raw == RR_B)
			ret->rr_b++;
		else
			ret->others++;
	}
	store_span_clear(&span);
	return true;
}

static char *daemon_config(const char *dir, int port)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(dir, "recoveryd.db", NULL);
	char *path = g_build_filename(dir, "recoveryd.conf", NULL);
	/* morning-latest at the day's end: otherwise, run after 11:00, the
	 * first morning check (10 s after the start) announces today's
	 * empty night during the burst, a once-a-day cost that is not the
	 * heart-rate path's (as bench-daemon does). */
	g_autofree char *text = g_strdup_printf("[gateway]\n"
						"database=%s\n"
						"timezone=UTC\n"
						"require-clock-sync=false\n"
						"[mqtt]\n"
						"host=127.0.0.1\n"
						"port=%d\n"
						"[user " DAEMON_USER "]\n"
						"heart-rate=" STRAP_NTF "\n"
						"morning-latest=23:59:59\n",
						db, port);

	if (!g_file_set_contents(path, text, -1, &error))
		die("writing the daemon's configuration", error);
	return path;
}

static GSubprocess *spawn_daemon(struct bench *b, const char *exe,
				 const char *dir, const char *config)
{
	g_autoptr(GSubprocessLauncher) l =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GStrvBuilder) sb = g_strv_builder_new();
	g_autofree char *log = g_build_filename(dir, DAEMON_LOG, NULL);
	g_autoptr(GError) error = NULL;
	GSubprocess *p;

	for (guint i = 0; b->wrap != NULL && b->wrap[i] != NULL; i++)
		g_strv_builder_add(sb, b->wrap[i]);
	g_strv_builder_add_many(sb, exe, "--config", config, NULL);
	g_auto(GStrv) argv = g_strv_builder_end(sb);

	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_set_stdout_file_path(l, log);
	g_subprocess_launcher_setenv(l, "DBUS_SYSTEM_BUS_ADDRESS",
				     standin_bus_address(b->bus), TRUE);
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv, &error);
	if (p == NULL)
		die("starting recoveryd", error);
	return p;
}

/* After the stream has ended: the last sample before the daemon spent no
 * CPU for IDLE_PROBE_MS (the backlog read and filed, the batch's commit
 * and what goes out once a second included). */
static bool wait_idle(GPid pid, gint64 deadline_us, struct proc_cpu *ret)
{
	struct proc_cpu now;

	if (!read_proc_cpu(pid, ret))
		return false;
	while (g_get_monotonic_time() < deadline_us) {
		g_usleep(IDLE_PROBE_MS * 1000);
		if (!read_proc_cpu(pid, &now))
			return false;
		if (now.run_ns == ret->run_ns)
			return true;
		*ret = now;
	}
	return true;
}

/* @exe: the recoveryd to run, a full path without symbolic links. */
static struct result run_daemon(struct bench *b, const char *exe)
{
	const struct mode_info *mi = &modes[MODE_DAEMON];
	struct result res = { 0 };
	g_autoptr(GError) error = NULL;
	long tck = sysconf(_SC_CLK_TCK);

	if (b->broker == NULL) {
		struct broker_config bc = { .allow_anonymous = true };
		b->broker = broker_new(&bc, &error);
		if (b->broker == NULL)
			die("mosquitto", error);
	}
	drop_links(b);
	g_autoptr(GVariant) reset = control(b, "ResetCalls", NULL);
	(void)reset; /* the reply is only checked for errors */

	g_autofree char *dir = test_tmp_dir_new("bench-ble-daemon-XXXXXX");
	g_autofree char *config = daemon_config(dir, broker_port(b->broker));
	g_autofree char *db = g_build_filename(dir, "recoveryd.db", NULL);
	g_autoptr(GSubprocess) p = spawn_daemon(b, exe, dir, config);
	GPid top = (GPid)atoi(g_subprocess_get_identifier(p));
	GPid pid = 0;
	bool ok = wait_log(p, dir, RECEIVING, SETUP_MS);
	for (gint64 end = g_get_monotonic_time() + SETUP_MS * 1000;
	     ok && pid == 0 && g_get_monotonic_time() < end;
	     g_usleep(POLL_MS * 1000))
		pid = find_daemon(top, exe, 0);
	if (!ok || pid == 0) {
		fprintf(stderr, "bench-ble: daemon: no \"%s\" in its log\n",
			RECEIVING);
		stop_daemon(p, pid);
		print_log_tail(dir);
		return res;
	}
	/* Its start's stragglers: discovery and states going out. */
	g_usleep(DAEMON_SETTLE_MS * 1000);

	struct proc_cpu c0, c1;
	gint64 deadline = g_get_monotonic_time() +
			  (gint64)b->count * G_USEC_PER_SEC / b->rate +
			  10 * G_USEC_PER_SEC;
	int64_t wall0_ms = g_get_real_time() / 1000;
	ok = read_proc_cpu(pid, &c0);
	start_stream(b, mi);
	for (;;) {
		g_autoptr(GVariant) st =
		    control(b, "GetStreamStats",
			    g_variant_new("(ss)", mi->address, "2a37"));
		gboolean running = FALSE;
		g_variant_get(st, "(buuu)", &running, NULL, NULL, NULL);
		if (!running || g_get_monotonic_time() > deadline)
			break;
		g_usleep(POLL_MS * 1000);
	}
	ok = ok && wait_idle(pid, deadline, &c1);
	long hwm = -1, rss = -1;
	pid_memory(pid, &hwm, &rss);

	guint dropped = 0;
	bool path_ok = stream_end(b, mi, &dropped);
	bool exited = stop_daemon(p, pid);
	if (!exited)
		fprintf(stderr, "bench-ble: daemon: did not exit 0\n");
	struct stored got = { 0 };
	bool read_back = count_stored(db, b->count, wall0_ms, &got);
	if (!ok || !path_ok || !exited || !read_back) {
		print_log_tail(dir);
		test_remove_tree(dir);
		return res;
	}
	/* Stored: a notification whose heart rate and both intervals are. */
	guint stored = MIN(got.distinct, MIN(got.rr_a, got.rr_b));
	if (got.hr != b->count || got.distinct != b->count ||
	    got.rr_a != b->count || got.rr_b != b->count || got.others != 0)
		fprintf(stderr,
			"bench-ble: daemon stored %u heart rates (%u distinct "
			"sequence numbers), %u + %u RR intervals, %u other "
			"rows, of %u notifications\n",
			got.hr, got.distinct, got.rr_a, got.rr_b, got.others,
			b->count);
	test_remove_tree(dir);

	double per_tick_us = 1e6 / (double)tck;
	res.ok = true;
	res.received = stored;
	res.lost = b->count - stored;
	res.user_us =
	    (double)(c1.user_ticks - c0.user_ticks) * per_tick_us / b->count;
	res.sys_us =
	    (double)(c1.sys_ticks - c0.sys_ticks) * per_tick_us / b->count;
	res.ticks_us = res.user_us + res.sys_us;
	res.us = (double)(c1.run_ns - c0.run_ns) / 1000.0 / b->count;
	res.hwm_mb = (double)hwm / 1024.0;
	res.rss_mb = (double)rss / 1024.0;
	res.dropped = dropped;
	res.wakeups = (double)(c1.voluntary - c0.voluntary) / b->count;
	return res;
}

static struct result run_one(struct bench *b, enum mode mode)
{
	if (mode == MODE_DAEMON)
		return run_daemon(b, RECOVERYD_PATH);
	if (mode == MODE_DAEMON_BEFORE)
		return run_daemon(b, b->daemon_before);

	const struct mode_info *mi = &modes[mode];
	struct result res = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *count = g_strdup_printf("%u", b->count);
	g_autofree char *rate = g_strdup_printf("%u", b->rate);
	const char *child[] = { b->self, "--child", mi->name, b->paths[mode],
				count,	 rate,	    NULL };
	g_autoptr(GStrvBuilder) sb = g_strv_builder_new();

	for (guint i = 0; b->wrap != NULL && b->wrap[i] != NULL; i++)
		g_strv_builder_add(sb, b->wrap[i]);
	for (gsize i = 0; child[i] != NULL; i++)
		g_strv_builder_add(sb, child[i]);
	g_auto(GStrv) argv = g_strv_builder_end(sb);

	drop_links(b);
	g_autoptr(GVariant) reset = control(b, "ResetCalls", NULL);
	(void)reset; /* the reply is only checked for errors */

	g_autoptr(GSubprocessLauncher) l =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_setenv(l, "DBUS_SYSTEM_BUS_ADDRESS",
				     standin_bus_address(b->bus), TRUE);
	g_autoptr(GSubprocess) p =
	    g_subprocess_launcher_spawnv(l, (const char *const *)argv, &error);
	if (p == NULL)
		die("starting a child", error);
	g_autoptr(GDataInputStream) in =
	    g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));

	g_autofree char *ready = read_line(in);
	if (ready == NULL || strcmp(ready, "ready") != 0) {
		fprintf(stderr, "bench-ble: %s: the child did not get ready\n",
			mi->name);
		g_subprocess_force_exit(p);
		g_subprocess_wait(p, NULL, NULL);
		return res;
	}
	start_stream(b, mi);

	g_autofree char *line = read_line(in);
	guint received = 0, distinct = 0, intervals = 0;
	gint64 user = 0, sys = 0, wall = 0;
	long hwm = 0, rss = 0, maxrss = 0, csw = 0;
	guint64 touched = 0;
	if (line == NULL ||
	    sscanf(line,
		   "result %u %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
		   " %u %" G_GINT64_FORMAT
		   " %ld %ld %ld %ld %" G_GUINT64_FORMAT,
		   &received, &distinct, &user, &sys, &intervals, &wall, &hwm,
		   &rss, &maxrss, &csw, &touched) != 11) {
		fprintf(stderr, "bench-ble: %s: no result from the child\n",
			mi->name);
		g_subprocess_force_exit(p);
	}
	if (!g_subprocess_wait_check(p, NULL, &error))
		fprintf(stderr, "bench-ble: %s: %s\n", mi->name,
			error->message);

	/* The path taken must be the one this mode is about. */
	guint dropped = 0;
	if (!stream_end(b, mi, &dropped))
		return res;
	if (line == NULL || received < 2)
		return res;

	res.ok = true;
	res.received = distinct;
	res.lost = b->count - distinct;
	res.us = (double)(user + sys) / intervals;
	res.user_us = (double)user / intervals;
	res.sys_us = (double)sys / intervals;
	res.hwm_mb = (double)hwm / 1024.0;
	res.rss_mb = (double)rss / 1024.0;
	res.dropped = dropped;
	res.wakeups = (double)csw / intervals;
	return res;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, guint n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of one field over the good runs of @mode. */
static double med(struct result r[][N_MODES], guint runs, enum mode mode,
		  size_t offset, double *lo, double *hi)
{
	double v[MAX_RUNS];
	guint n = 0;

	for (guint i = 0; i < runs; i++) {
		if (r[i][mode].ok)
			memcpy(&v[n++], (const char *)&r[i][mode] + offset,
			       sizeof(double));
	}
	double m = median(v, n);
	if (lo != NULL)
		*lo = n ? v[0] : NAN;
	if (hi != NULL)
		*hi = n ? v[n - 1] : NAN;
	return m;
}

struct ratio {
	const char *label;
	enum mode num;
	enum mode den;
	double goal;
	bool below; /* goal is "< goal", else "<= goal" */
	const char *source;
};

static const struct ratio ratios[] = {
	{ "client StartNotify / GDBus floor", MODE_CLIENT_START,
	  MODE_FLOOR_GDBUS, 1.3, false, "issue" },
	{ "client AcquireNotify / GDBus floor", MODE_CLIENT_ACQUIRE,
	  MODE_FLOOR_GDBUS, 1.0, true, "issue" },
	{ "client AcquireNotify / AcquireNotify floor", MODE_CLIENT_ACQUIRE,
	  MODE_FLOOR_FD, 1.3, false, "DESIGN 11" },
	/* DESIGN §11: the whole heart-rate path within 1.5x of this floor. */
	{ "full path / AcquireNotify floor", MODE_FULL, MODE_FLOOR_FD, 1.5,
	  false, "DESIGN 11" },
	{ "full path / GDBus floor", MODE_FULL, MODE_FLOOR_GDBUS, 1.0, true,
	  "(for scale)" },
	{ "daemon / AcquireNotify floor", MODE_DAEMON, MODE_FLOOR_FD, 1.5,
	  false, "issue 20, DESIGN 11" },
	{ "daemon / full path", MODE_DAEMON, MODE_FULL, 1.0, false,
	  "(for scale)" },
	{ "daemon / GDBus floor", MODE_DAEMON, MODE_FLOOR_GDBUS, 1.0, false,
	  "(for scale)" },
	{ "daemon-before / AcquireNotify floor", MODE_DAEMON_BEFORE,
	  MODE_FLOOR_FD, 1.5, false, "issue 20, DESIGN 11" },
	{ "daemon / daemon-before", MODE_DAEMON, MODE_DAEMON_BEFORE, 1.0, false,
	  "(for scale)" },
};

static void report(struct bench *b, struct result r[][N_MODES])
{
	printf("\nmedians of %u runs; %u notifications at %u/s each; CPU "
	       "from the first notification to the last\n(daemon: the whole "
	       "process from just before the first to idle after the last, "
	       "per notification sent; its user/sys in 10 ms ticks)\n",
	       b->runs, b->count, b->rate);
	printf("%-38s %6s %5s %8s %17s %6s %6s %6s %7s %6s\n", "receiver",
	       "recv", "lost", "us/notif", "(min-max)", "user", "sys", "wake",
	       "peak MB", "end MB");
	for (int m = 0; m < N_MODES; m++) {
		double lo, hi;
		if (!(b->only & 1u << m))
			continue;
		double us = med(r, b->runs, (enum mode)m,
				offsetof(struct result, us), &lo, &hi);
		double user = med(r, b->runs, (enum mode)m,
				  offsetof(struct result, user_us), NULL, NULL);
		double sys = med(r, b->runs, (enum mode)m,
				 offsetof(struct result, sys_us), NULL, NULL);
		double hwm = med(r, b->runs, (enum mode)m,
				 offsetof(struct result, hwm_mb), NULL, NULL);
		double rss = med(r, b->runs, (enum mode)m,
				 offsetof(struct result, rss_mb), NULL, NULL);
		double wake = med(r, b->runs, (enum mode)m,
				  offsetof(struct result, wakeups), NULL, NULL);
		guint recv_min = G_MAXUINT, lost_max = 0;
		for (guint i = 0; i < b->runs; i++) {
			if (!r[i][m].ok)
				continue;
			recv_min = MIN(recv_min, r[i][m].received);
			lost_max = MAX(lost_max, r[i][m].lost);
		}
		g_autofree char *range = g_strdup_printf("(%.2f-%.2f)", lo, hi);
		printf("%-38s %6u %5u %8.2f %17s %6.2f %6.2f %6.2f %7.2f "
		       "%6.2f\n",
		       modes[m].label, recv_min == G_MAXUINT ? 0 : recv_min,
		       lost_max, us, range, user, sys, wake, hwm, rss);
	}

	printf("\n%-44s %6s %15s %-10s %s\n", "ratio (of medians)", "ratio",
	       "(per-run range)", "goal", "");
	for (gsize i = 0; i < G_N_ELEMENTS(ratios); i++) {
		const struct ratio *q = &ratios[i];
		if (!(b->only & 1u << q->num) || !(b->only & 1u << q->den))
			continue;
		double num = med(r, b->runs, q->num,
				 offsetof(struct result, us), NULL, NULL);
		double den = med(r, b->runs, q->den,
				 offsetof(struct result, us), NULL, NULL);
		double x = num / den;
		double lo = INFINITY, hi = -INFINITY;
		for (guint k = 0; k < b->runs; k++) {
			if (!r[k][q->num].ok || !r[k][q->den].ok)
				continue;
			double y = r[k][q->num].us / r[k][q->den].us;
			lo = MIN(lo, y);
			hi = MAX(hi, y);
		}
		bool met = q->below ? x < q->goal : x <= q->goal;
		g_autofree char *range = g_strdup_printf("(%.2f-%.2f)", lo, hi);
		g_autofree char *goal =
		    g_strdup_printf("%s %.1f", q->below ? "<" : "<=", q->goal);
		printf("%-44s %6.2f %15s %-10s %s %s\n", q->label, x, range,
		       goal,
		       strcmp(q->source, "(for scale)") == 0 ? ""
		       : met				     ? "met"
							     : "MISSED",
		       q->source);
	}
	if (!(b->only & 1u << MODE_FULL))
		return;
	double full_hwm = med(r, b->runs, MODE_FULL,
			      offsetof(struct result, hwm_mb), NULL, NULL);
	/* Only for the record: VmHWM counts the libraries' shared pages
	 * whole; DESIGN §11 budgets own memory and PSS (bench-daemon). */
	printf("%-44s %6.2f %15s (for the record; memory budgets: "
	       "bench-daemon)\n",
	       "full path peak VmRSS (MB)", full_hwm, "");
}

int main(int argc, char **argv)
{
	struct bench b = { .count = DEFAULT_COUNT,
			   .rate = DEFAULT_RATE_HZ,
			   .runs = DEFAULT_RUNS,
			   .only = (1u << N_MODES) - 1 };
	static struct result results[MAX_RUNS][N_MODES];
	g_autoptr(GError) error = NULL;

	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);
	for (int i = 1; i < argc; i++) {
		guint *what = NULL;
		if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			g_auto(GStrv) names = g_strsplit(argv[++i], ",", -1);
			b.only = 0;
			for (guint k = 0; names[k] != NULL; k++)
				b.only |= 1u << mode_by_name(names[k]);
			continue;
		}
		if (strcmp(argv[i], "--daemon-before") == 0 && i + 1 < argc) {
			b.daemon_before = realpath(argv[++i], NULL);
			if (b.daemon_before == NULL)
				die("--daemon-before: no such program", NULL);
			continue;
		}
		if (strcmp(argv[i], "--runs") == 0)
			what = &b.runs;
		else if (strcmp(argv[i], "--count") == 0)
			what = &b.count;
		else if (strcmp(argv[i], "--rate") == 0)
			what = &b.rate;
		if (what == NULL || i + 1 >= argc) {
			fprintf(stderr,
				"usage: bench-ble [--runs N] [--count N] "
				"[--rate HZ] [--only MODE,...] "
				"[--daemon-before RECOVERYD]\n");
			return 2;
		}
		*what = (guint)strtoul(argv[++i], NULL, 10);
	}
	if (b.runs < 1 || b.runs > MAX_RUNS || b.count < 2 || b.count > 65536 ||
	    b.rate < 1 || b.rate > 100000)
		die("runs 1..15, count 2..65536, rate 1..100000", NULL);

	/* daemon-before runs only when it is given a program. */
	if (b.daemon_before == NULL)
		b.only &= ~(1u << MODE_DAEMON_BEFORE);
	const char *wrap = g_getenv("BENCH_BLE_WRAP");
	if (wrap != NULL && *wrap != '\0' &&
	    !g_shell_parse_argv(wrap, NULL, &b.wrap, &error))
		die("BENCH_BLE_WRAP", error);
#ifdef BLUEZ_STANDIN_PATH
	g_setenv("BLUEZ_STANDIN", BLUEZ_STANDIN_PATH, FALSE);
#endif
	b.self = g_file_read_link("/proc/self/exe", &error);
	if (b.self == NULL)
		die("/proc/self/exe", error);
	b.bus = standin_bus_new(&error);
	if (b.bus == NULL)
		die("private bus", error);
	const char *args[] = { "--no-connected-signal", NULL };
	if (!standin_start(b.bus, args, &error))
		die("starting the stand-in", error);
	char *ind = standin_add_device(
	    b.bus, STRAP_IND, "Strap (indicate)", "heart-rate",
	    g_variant_new_parsed("{'known': <true>, 'gatt': <[('180d', '2a37', "
				 "['indicate']), ('180d', '2a38', ['read']), "
				 "('180f', '2a19', ['read', 'notify'])]>}"),
	    &error);
	if (ind == NULL)
		die("AddDevice", error);
	char *ntf = standin_add_device(
	    b.bus, STRAP_NTF, "Strap", "heart-rate",
	    g_variant_new_parsed("{'known': <true>}"), &error);
	if (ntf == NULL)
		die("AddDevice", error);
	for (int m = 0; m < N_MODES; m++)
		b.paths[m] = g_strdup(modes[m].acquire ? ntf : ind);
	g_free(ind);
	g_free(ntf);

	guint n_modes = (guint)__builtin_popcount(b.only);
	printf("bench-ble: %u runs of %u receivers, %u notifications at %u/s "
	       "each (about %u s)\n",
	       b.runs, n_modes, b.count, b.rate,
	       b.runs * n_modes * (b.count / b.rate + 1));
	for (guint i = 0; i < b.runs; i++) {
		for (int m = 0; m < N_MODES; m++) {
			struct result *res = &results[i][m];
			if (!(b.only & 1u << m))
				continue;
			*res = run_one(&b, (enum mode)m);
			if (!res->ok) {
				printf("run %u %-15s failed\n", i + 1,
				       modes[m].name);
				continue;
			}
			printf("run %u %-15s %5u received %4u lost (%u "
			       "dropped by the stand-in) %7.2f us/notif "
			       "(user %.2f sys %.2f) %.2f wake-ups/notif, "
			       "peak %.2f MB",
			       i + 1, modes[m].name, res->received, res->lost,
			       res->dropped, res->us, res->user_us, res->sys_us,
			       res->wakeups, res->hwm_mb);
			/* The ticks' resolution, against the threads' run
			 * time in ns. */
			if (m == MODE_DAEMON || m == MODE_DAEMON_BEFORE)
				printf(" (utime+stime %.2f us/notif)",
				       res->ticks_us);
			printf("\n");
			fflush(stdout);
		}
	}
	report(&b, results);

	drop_links(&b);
	for (int m = 0; m < N_MODES; m++)
		g_free(b.paths[m]);
	g_free(b.self);
	g_strfreev(b.wrap);
	free(b.daemon_before);
	broker_free(b.broker);
	standin_bus_free(b.bus);
	return 0;
}
