// SPDX-License-Identifier: MIT
/*
 * The BLE client (sensors/ble.h) against the BlueZ stand-in on a private
 * bus (tests/fakes/bus.h). Each test has its own dbus-daemon and stand-in,
 * run with --no-connected-signal as real bluetoothd often behaves. Every
 * wait iterates the main context with a deadline.
 */
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "sensors/advert.h"
#include "sensors/ble.h"
#include "tests/fakes/bus.h"
#include "tests/integration/okok-frames.h"
#include "tests/support/test-support.h"

#define STRAP	"AA:BB:CC:DD:EE:01"
#define SCALE	"AA:BB:CC:DD:EE:02"
#define MISCALE "AA:BB:CC:DD:EE:03"
#define BTHOME	"AA:BB:CC:DD:EE:04"
#define UUID(x) "0000" x "-0000-1000-8000-00805f9b34fb"
#define WAIT_MS 5000
#define FEED_MS 100
/* Far from the real clock, so t_ms visibly comes from our now(). */
#define CLOCK_SKEW 1000000000LL

typedef struct {
	struct reading r; /* a copy; BTHome views are not used after */
} Rec;

typedef struct {
	char address[18];
	enum ble_link_state state;
	gint64 t_us; /* monotonic */
	char *reason;
} LinkEvent;

typedef struct {
	StandinBus *bus;
	GDBusConnection *conn; /* the client's connection */
	ble_client *c;
	GArray *readings;  /* Rec */
	GPtrArray *links;  /* LinkEvent * */
	GHashTable *heard; /* address -> allowlisted (as pointer) */
	gint64 clock_ms;   /* added to the real clock */
	guint feeder;	   /* a strap that keeps notifying */
	const char *feed_address;
	guint8 feed_value[8];
	gsize feed_len;
	GPtrArray *logs; /* char *: every log line */
	/* What ble_ops.uds_user answers (NULL op when !uds_on). */
	bool uds_on;
	struct ble_uds_user uds;
	int registered; /* the index uds_registered gave; -1: none */
} Fixture;

static const guint8 hr_72_rr_1000[] = { 0x10, 0x48, 0x00, 0x04 };

/* --- Callbacks ---------------------------------------------------------- */

static int64_t fake_now(void *data)
{
	Fixture *f = data;

	return g_get_real_time() / 1000 + CLOCK_SKEW + f->clock_ms;
}

static void on_reading(void *data, const struct reading *r)
{
	Fixture *f = data;
	Rec rec;

	rec.r = *r;
	g_array_append_val(f->readings, rec);
}

static void link_event_free(gpointer p)
{
	LinkEvent *e = p;

	g_free(e->reason);
	g_free(e);
}

static void on_link(void *data, const char *address, enum ble_link_state state,
		    const GError *reason)
{
	Fixture *f = data;
	LinkEvent *e = g_new0(LinkEvent, 1);

	g_strlcpy(e->address, address, sizeof(e->address));
	e->state = state;
	e->t_us = g_get_monotonic_time();
	e->reason = reason ? g_strdup(reason->message) : NULL;
	g_ptr_array_add(f->links, e);
	if (g_test_verbose())
		g_printerr("link %s %s%s%s\n", address,
			   ble_link_state_name(state), reason ? ": " : "",
			   reason ? reason->message : "");
}

static bool on_uds_user(void *data, const char *address,
			struct ble_uds_user *ret)
{
	Fixture *f = data;

	*ret = f->uds;
	return f->uds_on;
}

static void on_uds_registered(void *data, const char *address,
			      uint8_t user_index, uint16_t consent_code)
{
	Fixture *f = data;

	f->registered = user_index;
}

/* How many log lines hold @needle. */
static guint count_logs(Fixture *f, const char *needle)
{
	guint n = 0;

	for (guint i = 0; i < f->logs->len; i++) {
		if (strstr(f->logs->pdata[i], needle))
			n++;
	}
	return n;
}

static void on_heard(void *data, const struct ble_heard *h)
{
	Fixture *f = data;

	g_hash_table_insert(f->heard, g_strdup(h->address),
			    GINT_TO_POINTER(h->allowlisted ? 2 : 1));
}

static void on_log(void *data, GLogLevelFlags level, const char *message)
{
	Fixture *f = data;

	g_ptr_array_add(f->logs, g_strdup(message));
	if (g_test_verbose())
		g_printerr("log %d: %s\n", (int)level, message);
}

/* --- Waiting ------------------------------------------------------------ */

typedef gboolean (*Pred)(Fixture *f, gconstpointer arg);

struct pred_wait {
	Fixture *f;
	Pred p;
	gconstpointer arg;
};

static bool pred_holds(void *data)
{
	const struct pred_wait *w = data;

	return w->p(w->f, w->arg);
}

/* Iterates until @p holds or @ms pass; returns whether it holds. */
static gboolean wait_for(Fixture *f, Pred p, gconstpointer arg, guint ms)
{
	struct pred_wait w = { f, p, arg };

	return test_run_until(pred_holds, &w, ms);
}

typedef struct {
	const char *address;
	guint n;
	enum decode_uuid uuid;
} Want;

static guint count_readings(Fixture *f, const char *address,
			    enum decode_uuid uuid)
{
	guint n = 0;

	for (guint i = 0; i < f->readings->len; i++) {
		const Rec *rec = &g_array_index(f->readings, Rec, i);
		if ((address == NULL || strcmp(rec->r.address, address) == 0) &&
		    rec->r.payload.uuid == uuid)
			n++;
	}
	return n;
}

static gboolean have_readings(Fixture *f, gconstpointer arg)
{
	const Want *w = arg;

	return count_readings(f, w->address, w->uuid) >= w->n;
}

static gboolean in_state(Fixture *f, gconstpointer arg)
{
	const Want *w = arg;

	return ble_client_link_state(f->c, w->address) ==
	       (enum ble_link_state)w->n;
}

static gboolean not_in_state(Fixture *f, gconstpointer arg)
{
	return !in_state(f, arg);
}

static void wait_state(Fixture *f, const char *address,
		       enum ble_link_state state, guint ms)
{
	Want w = { address, state, 0 };

	if (!wait_for(f, in_state, &w, ms))
		g_error(
		    "%s: not %s within %u ms (is %s)", address,
		    ble_link_state_name(state), ms,
		    ble_link_state_name(ble_client_link_state(f->c, address)));
}

static void wait_readings(Fixture *f, const char *address,
			  enum decode_uuid uuid, guint n, guint ms)
{
	Want w = { address, n, uuid };

	if (!wait_for(f, have_readings, &w, ms))
		g_error("%s: %u readings of %04x within %u ms, not %u", address,
			count_readings(f, address, uuid), uuid, ms, n);
}

static guint count_links(Fixture *f, const char *address,
			 enum ble_link_state state)
{
	guint n = 0;

	for (guint i = 0; i < f->links->len; i++) {
		LinkEvent *e = f->links->pdata[i];
		if (strcmp(e->address, address) == 0 && e->state == state)
			n++;
	}
	return n;
}

/* --- Set-up ------------------------------------------------------------- */

/* --no-connected-signal, then @extra (NULL-terminated, may be NULL). */
static void start_standin(Fixture *f, const char *const *extra)
{
	const char *args[16] = { "--no-connected-signal" };
	gsize n = 1;
	g_autoptr(GError) error = NULL;

	for (gsize i = 0; extra != NULL && extra[i] != NULL; i++) {
		g_assert_cmpuint(n, <, G_N_ELEMENTS(args) - 1);
		args[n++] = extra[i];
	}
	args[n] = NULL;
	g_assert_true(standin_start(f->bus, args, &error));
	g_assert_no_error(error);
}

/* FALSE if skipped. The stand-in is started unless @start is FALSE. */
static gboolean setup_full(Fixture *f, const char *const *extra, gboolean start)
{
	memset(f, 0, sizeof(*f));
	f->bus = standin_bus_new_or_skip();
	if (f->bus == NULL)
		return FALSE;
	if (start)
		start_standin(f, extra);
	f->conn = standin_bus_new_client(f->bus);
	f->readings = g_array_new(FALSE, TRUE, sizeof(Rec));
	f->links = g_ptr_array_new_with_free_func(link_event_free);
	f->heard = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f->logs = g_ptr_array_new_with_free_func(g_free);
	f->registered = -1;
	return TRUE;
}

static gboolean setup(Fixture *f)
{
	return setup_full(f, NULL, TRUE);
}

static void client_start_cfg(Fixture *f, const struct ble_device_config *devs,
			     gsize n, gboolean power_on, const char *adapter)
{
	g_autoptr(GError) error = NULL;
	const struct ble_client_config cfg = {
		.adapter = adapter,
		.power_on = power_on,
		.now_ms = fake_now,
		.now_data = f,
	};
	const struct ble_ops ops = {
		.reading = on_reading,
		.link = on_link,
		.heard = on_heard,
		.log = on_log,
		.uds_user = on_uds_user,
		.uds_registered = on_uds_registered,
	};

	f->c = ble_client_new(f->conn, &cfg, &ops, f, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->c);
	ble_client_set_devices(f->c, devs, n);
}

static void client_start(Fixture *f, const struct ble_device_config *devs,
			 gsize n)
{
	client_start_cfg(f, devs, n, TRUE, NULL);
}

static void feeder_stop(Fixture *f)
{
	g_clear_handle_id(&f->feeder, g_source_remove);
}

static void client_stop(Fixture *f)
{
	feeder_stop(f);
	g_clear_pointer(&f->c, ble_client_free);
	/* Replies to cancelled calls still come in: let them go. */
	test_run_for(100);
}

static void teardown(Fixture *f)
{
	client_stop(f);
	if (standin_running(f->bus)) {
		g_autoptr(GError) error = NULL;
		int status = -1;
		g_assert_true(standin_stop(f->bus, &status, &error));
		g_assert_no_error(error);
		g_assert_cmpint(status, ==, 0);
	}
	g_dbus_connection_close_sync(f->conn, NULL, NULL);
	g_clear_object(&f->conn);
	test_run_pending();
	g_array_unref(f->readings);
	g_ptr_array_unref(f->links);
	g_hash_table_unref(f->heard);
	g_ptr_array_unref(f->logs);
	standin_bus_free(f->bus);
}

static void add_device(Fixture *f, const char *address, const char *name,
		       const char *kind, GVariant *props)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path =
	    standin_add_device(f->bus, address, name, kind, props, &error);

	g_assert_no_error(error);
	g_assert_nonnull(path);
}

static GVariant *known(void)
{
	return g_variant_new_parsed("{'known': <true>}");
}

static void control(Fixture *f, const char *method, GVariant *params)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    standin_call(f->bus, method, params, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(r);
}

static GVariant *bytes(const guint8 *p, gsize n)
{
	return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, p, n, 1);
}

static void notify(Fixture *f, const char *address, const char *uuid,
		   const guint8 *p, gsize n)
{
	g_autoptr(GError) error = NULL;
	gboolean ok = standin_notify(f->bus, address, uuid, p, n, &error);

	g_assert_no_error(error);
	g_assert_true(ok);
}

static void service_data(Fixture *f, const char *address, const char *uuid,
			 const guint8 *p, gsize n)
{
	control(f, "SetServiceData",
		g_variant_new("(ss@ay)", address, uuid, bytes(p, n)));
}

static gboolean feed(gpointer data)
{
	Fixture *f = data;
	g_autoptr(GError) error = NULL;

	/* Not connected: BlueZ drops it, and so does the stand-in. */
	standin_notify(f->bus, f->feed_address, "2a37", f->feed_value,
		       f->feed_len, &error);
	return G_SOURCE_CONTINUE;
}

/* A strap that notifies 0x2A37 every 100 ms whenever someone listens. */
static void feeder_start(Fixture *f, const char *address)
{
	f->feed_address = address;
	memcpy(f->feed_value, hr_72_rr_1000, sizeof(hr_72_rr_1000));
	f->feed_len = sizeof(hr_72_rr_1000);
	f->feeder = g_timeout_add(FEED_MS, feed, f);
}

static const struct ble_device_config strap_only[] = {
	{ STRAP, BLE_KIND_HEART_RATE },
};

static void assert_hr(const Rec *rec)
{
	const struct hrs_measurement *m = &rec->r.payload.u.heart_rate;

	g_assert_cmpstr(rec->r.address, ==, STRAP);
	g_assert_cmpint(rec->r.via, ==, READING_VIA_NOTIFICATION);
	g_assert_cmpuint(m->heart_rate_bpm, ==, 72);
	g_assert_cmpuint(m->rr_count, ==, 1);
	g_assert_cmpuint(m->rr_raw[0], ==, 1024);
	g_assert_cmpfloat_with_epsilon(hrs_rr_ms(m->rr_raw[0]), 1000.0, 1e-9);
}

static const Rec *last_reading(Fixture *f, const char *address,
			       enum decode_uuid uuid)
{
	for (guint i = f->readings->len; i-- > 0;) {
		const Rec *rec = &g_array_index(f->readings, Rec, i);
		if (strcmp(rec->r.address, address) == 0 &&
		    rec->r.payload.uuid == uuid)
			return rec;
	}
	return NULL;
}

static GVariant *last_filter(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    standin_call(f->bus, "GetLastDiscoveryFilter", NULL,
			 G_VARIANT_TYPE("(a{sv})"), &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

/* --- (1) A strap through AcquireNotify ---------------------------------- */

static void stream(Fixture *f, const char *address, const guint8 *p, gsize n,
		   guint rate_hz, guint count)
{
	control(f, "StartNotifyStream",
		g_variant_new("(ss@ayuu)", address, "2a37", bytes(p, n),
			      rate_hz, count));
}

static void test_acquire_notify(void)
{
	Fixture f;

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Polar H10", "heart-rate", known());
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);

	/* Only connectable devices: the UUID filter, no DuplicateData. */
	g_autoptr(GVariant) filter = last_filter(&f);
	const char *transport = NULL;
	g_assert_true(g_variant_lookup(filter, "Transport", "&s", &transport));
	g_assert_cmpstr(transport, ==, "le");
	g_autoptr(GVariant) uuids = g_variant_lookup_value(
	    filter, "UUIDs", G_VARIANT_TYPE_STRING_ARRAY);
	g_assert_nonnull(uuids);
	g_autofree const char **strv = g_variant_get_strv(uuids, NULL);
	g_assert_true(g_strv_contains(strv, UUID("180d")));

	stream(&f, STRAP, hr_72_rr_1000, sizeof(hr_72_rr_1000), 10, 15);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 15, WAIT_MS);
	test_run_for(150);
	g_assert_cmpuint(count_readings(&f, STRAP, DECODE_UUID_HEART_RATE), ==,
			 15);
	gint64 now = g_get_real_time() / 1000 + CLOCK_SKEW;
	for (guint i = 0; i < f.readings->len; i++) {
		const Rec *rec = &g_array_index(f.readings, Rec, i);
		g_assert_cmpint(rec->r.t_ms, >, now - 10000);
		g_assert_cmpint(rec->r.t_ms, <=, now);
		if (rec->r.payload.uuid == DECODE_UUID_HEART_RATE)
			assert_hr(rec);
	}

	/* Read once per connection: location (chest) and battery (85 %). */
	wait_readings(&f, STRAP, DECODE_UUID_BATTERY_LEVEL, 1, WAIT_MS);
	wait_readings(&f, STRAP, DECODE_UUID_SENSOR_LOCATION, 1, WAIT_MS);
	const Rec *bat = last_reading(&f, STRAP, DECODE_UUID_BATTERY_LEVEL);
	g_assert_cmpint(bat->r.via, ==, READING_VIA_READ);
	g_assert_cmpuint(bat->r.payload.u.battery_pct, ==, 85);
	const Rec *loc = last_reading(&f, STRAP, DECODE_UUID_SENSOR_LOCATION);
	g_assert_cmpuint(loc->r.payload.u.sensor_location, ==,
			 HRS_LOCATION_CHEST);

	/* The fd path: no StartNotify, no D-Bus per value. */
	g_assert_cmpuint(
	    standin_calls(f.bus, "AcquireNotify:" STRAP ":" UUID("2a37")), ==,
	    1);
	g_assert_cmpuint(standin_calls(f.bus, "StartNotify:" STRAP), ==, 0);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 1);
	/* Subscribed, nothing else to find: discovery is off again. */
	g_assert_cmpuint(standin_calls(f.bus, "StopDiscovery"), ==, 1);

	struct ble_stats st = ble_client_get_stats(f.c);
	g_assert_cmpuint(st.connect_calls, ==, 1);
	g_assert_cmpuint(st.notifications, ==, 15);
	g_assert_cmpuint(st.malformed, ==, 0);
	g_assert_cmpuint(st.foreign_heard, ==, 0);

	/* A value that does not decode is counted, not passed on. */
	static const guint8 truncated[] = { 0x01, 0x48 };
	notify(&f, STRAP, "2a37", truncated, sizeof(truncated));
	test_run_for(100);
	g_assert_cmpuint(ble_client_get_stats(f.c).malformed, ==, 1);
	g_assert_cmpuint(count_readings(&f, STRAP, DECODE_UUID_HEART_RATE), ==,
			 15);

	GError *problem = NULL;
	g_assert_true(ble_client_check(f.c, &problem));
	g_assert_no_error(problem);
	teardown(&f);
}

/* Values that wait in the socket many at a time (the stand-in sends 50 a
 * 10 ms tick at 5,000/s: more than one recvmmsg() batch a wake-up, more
 * than fd_ready reads in one): every one, in order, none twice. */
static void test_acquire_burst(void)
{
	Fixture f;
	/* u16 heart rate 40 + n: the stand-in adds n at offset 1. */
	static const guint8 hr_seq[] = { 0x01, 40, 0x00 };
	const guint count = 300;

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Polar H10", "heart-rate", known());
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	control(&f, "StartNotifyStreamSeq",
		g_variant_new("(ss@ayuuu)", STRAP, "2a37",
			      bytes(hr_seq, sizeof(hr_seq)), 5000, count, 1));
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, count, WAIT_MS);
	test_run_for(100);
	g_assert_cmpuint(count_readings(&f, STRAP, DECODE_UUID_HEART_RATE), ==,
			 count);
	guint next = 0;
	for (guint i = 0; i < f.readings->len; i++) {
		const Rec *rec = &g_array_index(f.readings, Rec, i);
		if (rec->r.payload.uuid != DECODE_UUID_HEART_RATE)
			continue;
		g_assert_cmpuint(rec->r.payload.u.heart_rate.heart_rate_bpm, ==,
				 40 + next);
		next++;
	}
	g_assert_cmpuint(next, ==, count);
	g_assert_cmpuint(ble_client_get_stats(f.c).notifications, ==, count);
	g_assert_cmpuint(ble_client_get_stats(f.c).malformed, ==, 0);
	teardown(&f);
}

/* --- (2) ... and through StartNotify ------------------------------------ */

static void test_start_notify(void)
{
	Fixture f;

	if (!setup(&f))
		return;
	/* A strap whose 0x2A37 only indicates: no NotifyAcquired, so
	 * AcquireNotify is not offered (BlueZ before 5.80). */
	add_device(
	    &f, STRAP, "Strap", "heart-rate",
	    g_variant_new_parsed("{'known': <true>, 'gatt': <[('180d', '2a37', "
				 "['indicate']), ('180d', '2a38', ['read']), "
				 "('180f', '2a19', ['read', 'notify'])]>}"));
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	stream(&f, STRAP, hr_72_rr_1000, sizeof(hr_72_rr_1000), 10, 10);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 10, WAIT_MS);
	test_run_for(150);
	g_assert_cmpuint(count_readings(&f, STRAP, DECODE_UUID_HEART_RATE), ==,
			 10);
	assert_hr(last_reading(&f, STRAP, DECODE_UUID_HEART_RATE));
	g_assert_cmpuint(standin_calls(f.bus, "AcquireNotify:" STRAP), ==, 0);
	g_assert_cmpuint(
	    standin_calls(f.bus, "StartNotify:" STRAP ":" UUID("2a37")), ==, 1);
	teardown(&f);
}

/* Another program holds a StartNotify session: AcquireNotify gets
 * InProgress, and we fall back to StartNotify. */
static void test_acquire_refused(void)
{
	Fixture f;
	g_autoptr(GError) error = NULL;

	if (!setup(&f))
		return;
	add_device(
	    &f, STRAP, "Strap", "heart-rate",
	    g_variant_new_parsed("{'known': <true>, 'gatt-cache': <true>}"));
	/* The other program: connects and subscribes first. */
	g_autoptr(GDBusConnection) other = standin_bus_new_client(f.bus);
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
	    other, "org.bluez", "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01",
	    "org.bluez.Device1", "Connect", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
	    WAIT_MS, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(r);
	test_run_for(150);
	g_autoptr(GVariant) st = standin_device_state(f.bus, STRAP, &error);
	g_assert_no_error(error);
	g_autoptr(GVariant) paths =
	    g_variant_lookup_value(st, "gatt-paths", G_VARIANT_TYPE("a{so}"));
	g_assert_nonnull(paths);
	const char *hrm = NULL;
	g_assert_true(g_variant_lookup(paths, UUID("2a37"), "&o", &hrm));
	g_autoptr(GVariant) r2 = g_dbus_connection_call_sync(
	    other, "org.bluez", hrm, "org.bluez.GattCharacteristic1",
	    "StartNotify", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL,
	    &error);
	g_assert_no_error(error);
	g_assert_nonnull(r2);

	/* We find it connected and resolved, and take it as it is. */
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	g_assert_cmpuint(standin_calls(f.bus, "AcquireNotify:" STRAP), ==, 1);
	g_assert_cmpuint(standin_calls(f.bus, "StartNotify:" STRAP), ==, 2);
	notify(&f, STRAP, "2a37", hr_72_rr_1000, sizeof(hr_72_rr_1000));
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 1, WAIT_MS);
	assert_hr(last_reading(&f, STRAP, DECODE_UUID_HEART_RATE));

	g_dbus_connection_close_sync(other, NULL, NULL);
	teardown(&f);
}

/* --- (3) A strap dropped mid-stream ------------------------------------- */

/* @data: a --bluez-version, or NULL for 5.66. */
static void test_drop(gconstpointer data)
{
	Fixture f;
	g_autoptr(GError) error = NULL;
	const char *const args[] = { "--bluez-version", data, NULL };

	if (!setup_full(&f, data ? args : NULL, TRUE))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	feeder_start(&f, STRAP);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 5, WAIT_MS);

	guint before = count_readings(&f, STRAP, DECODE_UUID_HEART_RATE);
	gint64 t0 = g_get_monotonic_time();
	g_assert_true(standin_drop(f.bus, STRAP, "timeout", &error));
	g_assert_no_error(error);
	Want lost = { STRAP, BLE_LINK_SUBSCRIBED, 0 };
	g_assert_true(wait_for(&f, not_in_state, &lost, WAIT_MS));
	guint at_drop = count_readings(&f, STRAP, DECODE_UUID_HEART_RATE);
	g_assert_cmpuint(at_drop, >=, before);

	/* Receiving again within 5 s of the drop. */
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, at_drop + 1, 5000);
	gint64 took_ms = (g_get_monotonic_time() - t0) / 1000;
	g_test_message("receiving again %" G_GINT64_FORMAT " ms after the drop",
		       took_ms);
	g_assert_cmpint(took_ms, <, 5000);
	g_assert_cmpuint(count_links(&f, STRAP, BLE_LINK_LOST), ==, 1);
	g_assert_cmpuint(count_links(&f, STRAP, BLE_LINK_BACKOFF), ==, 1);
	/* 5.83 says why (Disconnected); before, Connected=false only. */
	for (guint i = 0; i < f.links->len; i++) {
		LinkEvent *e = f.links->pdata[i];
		if (e->state == BLE_LINK_LOST)
			g_assert_nonnull(
			    strstr(e->reason, data ? "org.bluez.Reason.Timeout"
						   : "disconnected"));
	}
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 2);
	/* New session, new paths: acquired afresh. */
	g_assert_cmpuint(standin_calls(f.bus, "AcquireNotify:" STRAP), ==, 2);
	g_assert_cmpuint(ble_client_get_stats(f.c).links_lost, ==, 1);
	teardown(&f);
}

/* --- (4) bluetoothd restarts -------------------------------------------- */

static void test_restart(void)
{
	Fixture f;
	g_autoptr(GError) error = NULL;
	GError *problem = NULL;
	int status = -1;

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	feeder_start(&f, STRAP);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 3, WAIT_MS);

	/* SIGTERM: links drop, the adapter powers off, the name goes. */
	g_assert_true(standin_stop(f.bus, &status, &error));
	g_assert_no_error(error);
	g_assert_cmpint(status, ==, 0);
	wait_state(&f, STRAP, BLE_LINK_WAITING, WAIT_MS);
	test_run_for(100);
	g_assert_false(ble_client_check(f.c, &problem));
	g_assert_error(problem, BLE_ERROR, BLE_ERROR_NO_BLUETOOTHD);
	g_assert_nonnull(strstr(problem->message, "systemctl start bluetooth"));
	g_clear_error(&problem);

	/* A new one, empty: the strap is found by discovery. */
	start_standin(&f, NULL);
	add_device(&f, STRAP, "Strap", "heart-rate", NULL);
	guint n = count_readings(&f, STRAP, DECODE_UUID_HEART_RATE);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, n + 3, WAIT_MS);

	/* Killed while a Connect hangs: the call is dropped, not answered
	 * into a freed session. */
	feeder_stop(&f);
	standin_kill(f.bus);
	wait_state(&f, STRAP, BLE_LINK_WAITING, WAIT_MS);
	start_standin(&f, NULL);
	add_device(&f, STRAP, "Strap", "heart-rate",
		   g_variant_new_parsed("{'known': <true>, "
					"'behaviour': <'hang'>}"));
	wait_state(&f, STRAP, BLE_LINK_CONNECTING, WAIT_MS);
	standin_kill(f.bus);
	wait_state(&f, STRAP, BLE_LINK_WAITING, WAIT_MS);
	test_run_for(100);

	start_standin(&f, NULL);
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	feeder_start(&f, STRAP);
	n = count_readings(&f, STRAP, DECODE_UUID_HEART_RATE);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, n + 3, WAIT_MS);
	g_assert_cmpuint(ble_client_get_stats(f.c).bluez_appeared, ==, 4);
	g_assert_true(ble_client_check(f.c, &problem));
	teardown(&f);
}

/* --- (5) 100 foreign devices -------------------------------------------- */

#define N_FOREIGN 100

static char *foreign_address(guint i)
{
	return g_strdup_printf("11:22:33:44:%02X:%02X", i / 256, i % 256);
}

static const guint8 miscale_95kg[] = { 0x02, 0x26, 0xb2, 0x07, 0x01, 0x03, 0x13,
				       0x1a, 0x15, 0xe6, 0x01, 0x60, 0x4a };
static const guint8 miscale_85kg[] = { 0x02, 0x26, 0xb2, 0x07, 0x05, 0x04, 0x0f,
				       0x02, 0x01, 0xac, 0x01, 0x86, 0x42 };
static const guint8 miscale_settling[] = { 0x02, 0x04, 0xb2, 0x07, 0x01,
					   0x03, 0x13, 0x1a, 0x13, 0x00,
					   0x00, 0xac, 0x49 };
static const guint8 miscale_85kg_removed[] = { 0x02, 0xa6, 0xb2, 0x07, 0x05,
					       0x04, 0x0f, 0x02, 0x01, 0xac,
					       0x01, 0x86, 0x42 };
/* BTHome v2: packet id 9, temperature 25.00 °C */
static const guint8 bthome_pid9[] = { 0x40, 0x00, 0x09, 0x02, 0xc4, 0x09 };
static const guint8 bthome_pid10[] = { 0x40, 0x00, 0x0a, 0x02, 0xc4, 0x09 };
/* BTHome v2 without a packet id: temperature 25.00 °C */
static const guint8 bthome_plain[] = { 0x40, 0x02, 0xc4, 0x09 };

static GVariant *service_data_props(const char *uuid, const guint8 *p, gsize n)
{
	GVariantBuilder sd;
	GVariantBuilder b;

	g_variant_builder_init(&sd, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&sd, "{sv}", uuid, bytes(p, n));
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "service-data",
			      g_variant_builder_end(&sd));
	return g_variant_builder_end(&b);
}

static gboolean foreign_all_heard(Fixture *f, gconstpointer arg)
{
	return ble_client_get_stats(f->c).foreign_heard >=
	       GPOINTER_TO_UINT(arg);
}

static gboolean heard_count(Fixture *f, gconstpointer arg)
{
	return g_hash_table_size(f->heard) >= GPOINTER_TO_UINT(arg);
}

static void test_foreign(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ STRAP, BLE_KIND_HEART_RATE },
		{ "aa:bb:cc:dd:ee:04", BLE_KIND_BTHOME },
	};

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate", NULL);
	add_device(
	    &f, BTHOME, "", "advertiser",
	    service_data_props("fcd2", bthome_pid9, sizeof(bthome_pid9)));
	for (guint i = 0; i < N_FOREIGN; i++) {
		g_autofree char *a = foreign_address(i);
		if (i % 2 == 0)
			add_device(&f, a, "Neighbour's strap", "heart-rate",
				   NULL);
		else if (i % 4 == 1)
			add_device(&f, a, "", "advertiser",
				   service_data_props("fcd2", bthome_pid9,
						      sizeof(bthome_pid9)));
		else
			add_device(&f, a, "MIBFS", "advertiser",
				   service_data_props("181b", miscale_95kg,
						      sizeof(miscale_95kg)));
	}
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	g_assert_true(wait_for(&f, foreign_all_heard,
			       GUINT_TO_POINTER(N_FOREIGN), WAIT_MS));

	/* An advertiser is allowlisted: no UUIDs (they would hide it), and
	 * DuplicateData. */
	g_autoptr(GVariant) filter = last_filter(&f);
	gboolean dup = FALSE;
	g_assert_true(g_variant_lookup(filter, "DuplicateData", "b", &dup));
	g_assert_true(dup);
	g_autoptr(GVariant) uuids =
	    g_variant_lookup_value(filter, "UUIDs", NULL);
	g_assert_null(uuids);

	/* Everybody talks. */
	feeder_start(&f, STRAP);
	for (guint i = 0; i < N_FOREIGN; i++) {
		g_autofree char *a = foreign_address(i);
		if (i % 2 == 0)
			control(&f, "SetRSSI",
				g_variant_new("(sn)", a, (gint16)-50));
		else if (i % 4 == 1)
			service_data(&f, a, "fcd2", bthome_pid10,
				     sizeof(bthome_pid10));
		else
			service_data(&f, a, "181b", miscale_85kg,
				     sizeof(miscale_85kg));
	}
	service_data(&f, BTHOME, "fcd2", bthome_pid10, sizeof(bthome_pid10));
	wait_readings(&f, BTHOME, DECODE_UUID_BTHOME, 2, WAIT_MS);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 5, WAIT_MS);
	g_assert_cmpuint(g_hash_table_size(f.heard), ==, 0);

	/* Scanning lists them all, and still stores and connects none. */
	ble_client_set_scanning(f.c, TRUE);
	test_run_for(100);
	for (guint i = 0; i < N_FOREIGN; i++) {
		g_autofree char *a = foreign_address(i);
		if (i % 2 == 0)
			control(&f, "SetRSSI",
				g_variant_new("(sn)", a, (gint16)-55));
		else
			control(&f, "Advertise", g_variant_new("(s)", a));
	}
	g_assert_true(
	    wait_for(&f, heard_count, GUINT_TO_POINTER(N_FOREIGN), WAIT_MS));
	test_run_for(200);
	ble_client_set_scanning(f.c, FALSE);

	for (guint i = 0; i < N_FOREIGN; i++) {
		g_autofree char *a = foreign_address(i);
		g_autofree char *key = g_strdup_printf("Connect:%s", a);
		g_assert_cmpuint(standin_calls(f.bus, key), ==, 0);
		g_assert_cmpint(
		    GPOINTER_TO_INT(g_hash_table_lookup(f.heard, a)), ==, 1);
	}
	g_assert_cmpuint(standin_calls(f.bus, "Connect"), ==,
			 standin_calls(f.bus, "Connect:" STRAP));
	for (guint i = 0; i < f.readings->len; i++) {
		const Rec *rec = &g_array_index(f.readings, Rec, i);
		g_assert_true(strcmp(rec->r.address, STRAP) == 0 ||
			      strcmp(rec->r.address, BTHOME) == 0);
	}
	g_assert_cmpuint(count_readings(&f, BTHOME, DECODE_UUID_BTHOME), ==, 2);
	struct ble_stats st = ble_client_get_stats(f.c);
	g_assert_cmpuint(st.foreign_heard, ==, N_FOREIGN);
	g_assert_cmpuint(st.connect_calls, ==, 1);
	teardown(&f);
}

/* --- (6) Advertisers: one measurement, once ----------------------------- */

static void test_miscale(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ MISCALE, BLE_KIND_MISCALE },
	};

	if (!setup(&f))
		return;
	add_device(
	    &f, MISCALE, "MIBFS", "advertiser",
	    service_data_props("181b", miscale_95kg, sizeof(miscale_95kg)));
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2, 1, WAIT_MS);

	/* The scale repeats its stabilised measurement 20 times. */
	for (int i = 0; i < 20; i++)
		service_data(&f, MISCALE, "181b", miscale_95kg,
			     sizeof(miscale_95kg));
	test_run_for(300);
	g_assert_cmpuint(count_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2),
			 ==, 1);
	g_assert_cmpuint(ble_client_get_stats(f.c).duplicates, >=, 20);
	const Rec *rec = last_reading(&f, MISCALE, DECODE_UUID_MISCALE_V2);
	g_assert_cmpint(rec->r.via, ==, READING_VIA_ADVERTISEMENT);
	g_assert_cmpuint(rec->r.payload.u.miscale.weight.raw, ==, 19040);
	g_assert_cmpuint(rec->r.payload.u.miscale.impedance_ohm, ==, 486);

	/* Settling is no measurement; a new weight is; stepping off is not. */
	service_data(&f, MISCALE, "181b", miscale_settling,
		     sizeof(miscale_settling));
	service_data(&f, MISCALE, "181b", miscale_85kg, sizeof(miscale_85kg));
	for (int i = 0; i < 5; i++)
		service_data(&f, MISCALE, "181b", miscale_85kg_removed,
			     sizeof(miscale_85kg_removed));
	wait_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2, 2, WAIT_MS);
	test_run_for(200);
	g_assert_cmpuint(count_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2),
			 ==, 2);
	rec = last_reading(&f, MISCALE, DECODE_UUID_MISCALE_V2);
	g_assert_cmpuint(rec->r.payload.u.miscale.weight.raw, ==, 17030);

	/* The same frame minutes later is a new weigh-in. */
	f.clock_ms += 3 * 60 * 1000;
	service_data(&f, MISCALE, "181b", miscale_85kg, sizeof(miscale_85kg));
	wait_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2, 3, WAIT_MS);
	g_assert_cmpuint(standin_calls(f.bus, "Connect"), ==, 0);
	teardown(&f);
}

static void test_bthome(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ BTHOME, BLE_KIND_BTHOME },
	};
	static const guint8 encrypted[] = { 0x41, 0x87, 0xb9, 0x00,
					    0x11, 0x22, 0x33, 0x44 };

	if (!setup(&f))
		return;
	add_device(
	    &f, BTHOME, "", "advertiser",
	    service_data_props("fcd2", bthome_pid9, sizeof(bthome_pid9)));
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_readings(&f, BTHOME, DECODE_UUID_BTHOME, 1, WAIT_MS);

	/* By packet id. */
	for (int i = 0; i < 5; i++)
		service_data(&f, BTHOME, "fcd2", bthome_pid9,
			     sizeof(bthome_pid9));
	service_data(&f, BTHOME, "fcd2", bthome_pid10, sizeof(bthome_pid10));
	wait_readings(&f, BTHOME, DECODE_UUID_BTHOME, 2, WAIT_MS);
	const Rec *rec = last_reading(&f, BTHOME, DECODE_UUID_BTHOME);
	g_assert_cmpuint(rec->r.payload.u.bthome.object_count, ==, 2);
	g_assert_cmpfloat_with_epsilon(
	    bthome_object_value(&rec->r.payload.u.bthome.objects[1]), 25.0,
	    1e-9);

	/* Without one: identical bytes within 2 s. */
	for (int i = 0; i < 5; i++)
		service_data(&f, BTHOME, "fcd2", bthome_plain,
			     sizeof(bthome_plain));
	wait_readings(&f, BTHOME, DECODE_UUID_BTHOME, 3, WAIT_MS);
	test_run_for(200);
	g_assert_cmpuint(count_readings(&f, BTHOME, DECODE_UUID_BTHOME), ==, 3);
	f.clock_ms += 3000;
	service_data(&f, BTHOME, "fcd2", bthome_plain, sizeof(bthome_plain));
	wait_readings(&f, BTHOME, DECODE_UUID_BTHOME, 4, WAIT_MS);

	/* Encrypted: counted as undecodable, logged once, no reading. */
	for (int i = 0; i < 3; i++)
		service_data(&f, BTHOME, "fcd2", encrypted, sizeof(encrypted));
	test_run_for(200);
	g_assert_cmpuint(count_readings(&f, BTHOME, DECODE_UUID_BTHOME), ==, 4);
	g_assert_cmpuint(ble_client_get_stats(f.c).malformed, ==, 3);
	teardown(&f);
}

/* What an antenna relays (DESIGN §13): @address in its own case, one
 * service data. */
static enum ble_advert_fate antenna(Fixture *f, const char *address,
				    uint16_t uuid, const guint8 *p, gsize n)
{
	struct advert a;

	advert_init(&a);
	g_assert_cmpint(advert_set_address(&a, address), ==, 0);
	g_assert_cmpint(advert_add_service_data(&a, uuid, p, n), ==, 0);
	return ble_client_take_advert(f->c, &a);
}

/*
 * Advertisements from antennas go the local radio's way: a weighing the
 * radio heard and antennas relay again is one reading; one heard only by
 * an antenna is one; a foreign device and a strap are not taken; a BTHome
 * packet relayed late, after the next one, is no new packet.
 */
static void test_antenna(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ STRAP, BLE_KIND_HEART_RATE },
		{ MISCALE, BLE_KIND_MISCALE },
		{ BTHOME, BLE_KIND_BTHOME },
	};

	if (!setup(&f))
		return;
	add_device(
	    &f, MISCALE, "MIBFS", "advertiser",
	    service_data_props("181b", miscale_95kg, sizeof(miscale_95kg)));
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2, 1, WAIT_MS);

	/* Two antennas relay what the radio heard, in either case. */
	for (int i = 0; i < 3; i++) {
		g_assert_cmpint(antenna(&f, "aa:bb:cc:dd:ee:03", 0x181B,
					miscale_95kg, sizeof(miscale_95kg)),
				==, BLE_ADVERT_TAKEN);
		g_assert_cmpint(antenna(&f, MISCALE, 0x181B, miscale_95kg,
					sizeof(miscale_95kg)),
				==, BLE_ADVERT_TAKEN);
	}
	test_run_for(100);
	g_assert_cmpuint(count_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2),
			 ==, 1);

	/* The next weighing reaches an antenna first, then the radio. */
	g_assert_cmpint(
	    antenna(&f, MISCALE, 0x181B, miscale_85kg, sizeof(miscale_85kg)),
	    ==, BLE_ADVERT_TAKEN);
	g_assert_cmpuint(count_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2),
			 ==, 2);
	g_assert_cmpuint(last_reading(&f, MISCALE, DECODE_UUID_MISCALE_V2)
			     ->r.payload.u.miscale.weight.raw,
			 ==, 17030);
	service_data(&f, MISCALE, "181b", miscale_85kg, sizeof(miscale_85kg));
	test_run_for(300);
	g_assert_cmpuint(count_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2),
			 ==, 2);

	/* Not ours, and not an advertiser. */
	g_assert_cmpint(antenna(&f, "C4:7C:8D:00:00:99", 0x181B, miscale_85kg,
				sizeof(miscale_85kg)),
			==, BLE_ADVERT_FOREIGN);
	g_assert_cmpint(
	    antenna(&f, STRAP, 0x181B, miscale_85kg, sizeof(miscale_85kg)), ==,
	    BLE_ADVERT_NOT_LISTENED);

	/* Packet 9, 10, then 9 again from a slower antenna. */
	antenna(&f, BTHOME, 0xFCD2, bthome_pid9, sizeof(bthome_pid9));
	antenna(&f, BTHOME, 0xFCD2, bthome_pid10, sizeof(bthome_pid10));
	antenna(&f, BTHOME, 0xFCD2, bthome_pid9, sizeof(bthome_pid9));
	g_assert_cmpuint(count_readings(&f, BTHOME, DECODE_UUID_BTHOME), ==, 2);
	/* Long after, packet 9 is a new one (the id wrapped). */
	f.clock_ms += 11000;
	antenna(&f, BTHOME, 0xFCD2, bthome_pid9, sizeof(bthome_pid9));
	g_assert_cmpuint(count_readings(&f, BTHOME, DECODE_UUID_BTHOME), ==, 3);
	g_assert_cmpuint(count_readings(&f, STRAP, DECODE_UUID_MISCALE_V2), ==,
			 0);
	teardown(&f);
}

/* --- (6b) Scales recognised by what they advertise ---------------------- */

#define OKOK "AA:BB:CC:DD:EE:05"

/* A live frame one step lower: 53.00 kg (checksum recomputed). */
static const guint8 okok_live_lower[] = { 0x0b, 0x41, 0xaf, 0x2f, 0x81,
					  0x01, 0x04, 0x02, 0x14, 0xb4,
					  0x00, 0x00, 0xcc, 0xed, 0x67,
					  0x37, 0xa1, 0xa8, 0x73 };

static GVariant *manufacturer_props(guint16 company, const guint8 *p, gsize n)
{
	GVariantBuilder md;
	GVariantBuilder b;

	g_variant_builder_init(&md, G_VARIANT_TYPE("a{qv}"));
	g_variant_builder_add(&md, "{qv}", company, bytes(p, n));
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "manufacturer-data",
			      g_variant_builder_end(&md));
	return g_variant_builder_end(&b);
}

static void manufacturer_data(Fixture *f, const char *address, guint16 company,
			      const guint8 *p, gsize n)
{
	control(f, "SetManufacturerData",
		g_variant_new("(sq@ay)", address, company, bytes(p, n)));
}

/* Vendor weighings of @address, final or live. */
static guint count_weighings(Fixture *f, const char *address, bool final)
{
	guint n = 0;

	for (guint i = 0; i < f->readings->len; i++) {
		const Rec *rec = &g_array_index(f->readings, Rec, i);

		if (strcmp(rec->r.address, address) == 0 &&
		    rec->r.payload.uuid == DECODE_SCALE_WEIGHING &&
		    rec->r.payload.u.scale.final == final)
			n++;
	}
	return n;
}

/*
 * A Mi Body Composition Scale 2 given as a scale, no protocol: it is
 * connectable and advertises the Body Composition service, as standard
 * scales do, but its service data makes it an advertiser, and it is never
 * connected (connecting it crashed bluetoothd 5.66 in a drill).
 */
static void test_auto_miscale(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ MISCALE, BLE_KIND_SCALE_AUTO },
	};
	GVariantBuilder b;
	GVariantBuilder sd;
	const char *uuids[] = { "181b", NULL };

	if (!setup(&f))
		return;
	g_variant_builder_init(&sd, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&sd, "{sv}", "181b",
			      bytes(miscale_95kg, sizeof(miscale_95kg)));
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "service-data",
			      g_variant_builder_end(&sd));
	g_variant_builder_add(&b, "{sv}", "uuids",
			      g_variant_new_strv(uuids, -1));
	add_device(&f, MISCALE, "MIBCS", "weight-scale",
		   g_variant_builder_end(&b));
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2, 1, WAIT_MS);
	for (int i = 0; i < 10; i++)
		service_data(&f, MISCALE, "181b", miscale_95kg,
			     sizeof(miscale_95kg));
	test_run_for(300);
	g_assert_cmpuint(count_readings(&f, MISCALE, DECODE_UUID_MISCALE_V2),
			 ==, 1);
	g_assert_true(ble_client_is_advertiser(f.c, MISCALE));
	g_assert_cmpint(ble_client_link_state(f.c, MISCALE), ==,
			BLE_LINK_ABSENT);
	g_assert_cmpuint(standin_calls(f.bus, "Connect"), ==, 0);
	teardown(&f);
}

/* A standard scale given the same way is recognised by its service and
 * connected. */
static void test_auto_standard(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ SCALE, BLE_KIND_SCALE_AUTO },
	};

	if (!setup(&f))
		return;
	add_device(&f, SCALE, "Scale", "weight-scale", known());
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_state(&f, SCALE, BLE_LINK_SUBSCRIBED, WAIT_MS);
	wait_readings(&f, SCALE, DECODE_UUID_WEIGHT_FEATURE, 1, WAIT_MS);
	g_assert_false(ble_client_is_advertiser(f.c, SCALE));
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" SCALE), >=, 1);
	teardown(&f);
}

/*
 * An OKOK broadcast scale: its settling weights are passed on when they
 * change, its final weighing once however often it repeats it, a new
 * weigh-in minutes later again; it is never connected.
 */
static void test_auto_okok(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ OKOK, BLE_KIND_SCALE_AUTO },
	};

	if (!setup(&f))
		return;
	add_device(&f, OKOK, "ADV", "advertiser",
		   manufacturer_props(OKOK_V20_COMPANY, okok_v20_live,
				      sizeof(okok_v20_live)));
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_readings(&f, OKOK, DECODE_SCALE_WEIGHING, 1, WAIT_MS);
	for (int i = 0; i < 5; i++)
		manufacturer_data(&f, OKOK, OKOK_V20_COMPANY, okok_v20_live,
				  sizeof(okok_v20_live));
	manufacturer_data(&f, OKOK, OKOK_V20_COMPANY, okok_live_lower,
			  sizeof(okok_live_lower));
	for (int i = 0; i < 20; i++)
		manufacturer_data(&f, OKOK, OKOK_V20_COMPANY, okok_v20_final,
				  sizeof(okok_v20_final));
	wait_readings(&f, OKOK, DECODE_SCALE_WEIGHING, 3, WAIT_MS);
	test_run_for(300);
	g_assert_cmpuint(count_weighings(&f, OKOK, false), ==, 2);
	g_assert_cmpuint(count_weighings(&f, OKOK, true), ==, 1);
	const Rec *rec = last_reading(&f, OKOK, DECODE_SCALE_WEIGHING);
	g_assert_true(rec->r.payload.u.scale.final);
	g_assert_cmpint(rec->r.payload.u.scale.family, ==,
			SCALE_FAMILY_OKOK_V20);
	g_assert_cmpfloat_with_epsilon(rec->r.payload.u.scale.weight_kg, 53.10,
				       1e-9);
	g_assert_cmpfloat_with_epsilon(rec->r.payload.u.scale.impedance_ohm,
				       600.0, 1e-9);
	g_assert_cmpint(rec->r.via, ==, READING_VIA_ADVERTISEMENT);
	g_assert_cmpuint(ble_client_get_stats(f.c).duplicates, >=, 20);

	/* The same frame minutes later is a new weigh-in. */
	f.clock_ms += 3 * 60 * 1000;
	manufacturer_data(&f, OKOK, OKOK_V20_COMPANY, okok_v20_final,
			  sizeof(okok_v20_final));
	wait_readings(&f, OKOK, DECODE_SCALE_WEIGHING, 4, WAIT_MS);
	g_assert_cmpuint(count_weighings(&f, OKOK, true), ==, 2);
	g_assert_true(ble_client_is_advertiser(f.c, OKOK));
	g_assert_cmpuint(standin_calls(f.bus, "Connect"), ==, 0);
	teardown(&f);
}

/* --- (7) A standard scale: two-packet body composition ------------------ */

static void test_scale(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ SCALE, BLE_KIND_SCALE },
	};
	/* tests/unit/test-bcs.c GOODIX_FIRST / GOODIX_SECOND */
	static const guint8 first[] = { 0x7e, 0x10, 0xd2, 0x00, 0xe8,
					0x07, 0x03, 0x0f, 0x07, 0x1e,
					0x2d, 0x03, 0xa4, 0x1d, 0xc2,
					0x01, 0xc0, 0x2b, 0x4a, 0x2e };
	static const guint8 second[] = { 0x80, 0x1f, 0xd2, 0x00, 0x5c,
					 0x2b, 0x08, 0x20, 0x03, 0x14,
					 0x98, 0x3a, 0xd6, 0x06 };
	/* Weight Measurement: SI, 75 kg */
	static const guint8 weight[] = { 0x00, 0x98, 0x3a };

	if (!setup(&f))
		return;
	add_device(&f, SCALE, "Scale", "weight-scale", known());
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_state(&f, SCALE, BLE_LINK_SUBSCRIBED, WAIT_MS);
	/* Indications: StartNotify on both (5.66 cannot acquire them). */
	g_assert_cmpuint(
	    standin_calls(f.bus, "StartNotify:" SCALE ":" UUID("2a9d")), ==, 1);
	g_assert_cmpuint(
	    standin_calls(f.bus, "StartNotify:" SCALE ":" UUID("2a9c")), ==, 1);
	wait_readings(&f, SCALE, DECODE_UUID_WEIGHT_FEATURE, 1, WAIT_MS);
	wait_readings(&f, SCALE, DECODE_UUID_BATTERY_LEVEL, 1, WAIT_MS);

	notify(&f, SCALE, "2a9c", first, sizeof(first));
	test_run_for(100);
	g_assert_cmpuint(
	    count_readings(&f, SCALE, DECODE_UUID_BODY_COMPOSITION), ==, 0);
	notify(&f, SCALE, "2a9c", second, sizeof(second));
	wait_readings(&f, SCALE, DECODE_UUID_BODY_COMPOSITION, 1, WAIT_MS);
	const Rec *rec = last_reading(&f, SCALE, DECODE_UUID_BODY_COMPOSITION);
	const struct bcs_measurement *m = &rec->r.payload.u.body_composition;
	g_assert_cmphex(m->flags, ==, 0x0ffe);
	g_assert_cmpuint(m->body_fat_raw, ==, 210);
	g_assert_cmpuint(m->weight.raw, ==, 15000);
	g_assert_cmpuint(m->impedance_raw, ==, 5123);
	g_assert_cmpuint(m->user_id, ==, 3);
	g_assert_cmpuint(m->muscle_mass.raw, ==, 11200);
	g_assert_cmpfloat_with_epsilon(bcs_height_m(m), 1.75, 1e-9);

	notify(&f, SCALE, "2a9d", weight, sizeof(weight));
	wait_readings(&f, SCALE, DECODE_UUID_WEIGHT, 1, WAIT_MS);
	rec = last_reading(&f, SCALE, DECODE_UUID_WEIGHT);
	g_assert_cmpfloat_with_epsilon(mass_kg(rec->r.payload.u.weight.weight),
				       75.0, 1e-9);

	/* A half left over when the link drops is not joined to the next
	 * session's packets. */
	g_autoptr(GError) error = NULL;
	notify(&f, SCALE, "2a9c", first, sizeof(first));
	test_run_for(50);
	g_assert_true(standin_drop(f.bus, SCALE, "remote", &error));
	Want gone = { SCALE, BLE_LINK_SUBSCRIBED, 0 };
	g_assert_true(wait_for(&f, not_in_state, &gone, WAIT_MS));
	wait_state(&f, SCALE, BLE_LINK_SUBSCRIBED, WAIT_MS);
	notify(&f, SCALE, "2a9c", second, sizeof(second));
	test_run_for(100);
	g_assert_cmpuint(
	    count_readings(&f, SCALE, DECODE_UUID_BODY_COMPOSITION), ==, 1);
	teardown(&f);
}

/* --- (7b) Scales that talk back ---------------------------------------- */

#define QN_SCALE "AA:BB:CC:DD:EE:06"

/* A SetWriteReply script: @prefix written to @chr, @reply notified on
 * @notify. */
static void script(Fixture *f, const char *address, const char *chr,
		   const guint8 *prefix, gsize prefix_len, const char *notify,
		   const guint8 *reply, gsize reply_len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) b = g_bytes_new(reply, reply_len);
	GBytes *values[] = { b };

	g_assert_true(standin_write_reply(f->bus, address, chr, prefix,
					  prefix_len, notify, values, 1,
					  &error));
	g_assert_no_error(error);
}

static GVariant *uds_scale_props(void)
{
	return g_variant_new_parsed(
	    "{'known': <true>, "
	    "'gatt': <[('181d', '2a9d', ['indicate']), "
	    "('181c', '2a9f', ['write', 'indicate'])]>}");
}

static gboolean logged(Fixture *f, gconstpointer needle)
{
	return count_logs(f, needle) > 0;
}

/* A standard scale with the User Data Service, connected and subscribed,
 * the client told to identify as @uds; @prefix written to its User Control
 * Point (if any) answered by @reply. */
static void uds_scale_start(Fixture *f, const struct ble_uds_user *uds,
			    const guint8 *prefix, gsize prefix_len,
			    const guint8 *reply, gsize reply_len)
{
	static const struct ble_device_config ours[] = {
		{ SCALE, BLE_KIND_SCALE },
	};

	f->uds_on = true;
	f->uds = *uds;
	add_device(f, SCALE, "Scale", "weight-scale", uds_scale_props());
	if (prefix != NULL)
		script(f, SCALE, "2a9f", prefix, prefix_len, "2a9f", reply,
		       reply_len);
	client_start(f, ours, G_N_ELEMENTS(ours));
	wait_state(f, SCALE, BLE_LINK_SUBSCRIBED, WAIT_MS);
}

/*
 * A standard scale that refuses the Consent: one log line says why (the
 * response code in words), the link stays up, and its weighings still come
 * (untagged: the household decides by weight).
 */
static void test_uds_refused(void)
{
	Fixture f;
	static const struct ble_uds_user uds = { .registered = true,
						 .user_index = 2,
						 .consent_code = 42 };
	static const guint8 consent[] = { 0x02 };
	static const guint8 not_authorized[] = { 0x20, 0x02, 0x05 };
	static const guint8 weight[] = { 0x00, 0x98, 0x3a };
	static const char why[] = "the scale refused Consent for user index 2: "
				  "user not authorized (wrong consent code)";

	if (!setup(&f))
		return;
	uds_scale_start(&f, &uds, consent, sizeof(consent), not_authorized,
			sizeof(not_authorized));
	g_assert_true(wait_for(&f, logged, why, WAIT_MS));
	notify(&f, SCALE, "2a9d", weight, sizeof(weight));
	wait_readings(&f, SCALE, DECODE_UUID_WEIGHT, 1, WAIT_MS);
	test_run_for(200);
	g_assert_cmpuint(count_logs(&f, why), ==, 1);
	g_assert_cmpint(ble_client_link_state(f.c, SCALE), ==,
			BLE_LINK_SUBSCRIBED);
	g_assert_cmpint(f.registered, ==, -1);
	teardown(&f);
}

/*
 * A standard scale whose User Control Point never answers: after the
 * bounded wait the session ends with a reason, and the scale is tried
 * again later.
 */
static void test_uds_silent(void)
{
	Fixture f;
	static const struct ble_uds_user uds = { .registered = false };
	static const char why[] =
	    "no User Control Point response to Register New User within 5 s";

	if (!setup(&f))
		return;
	uds_scale_start(&f, &uds, NULL, 0, NULL, 0);
	g_assert_true(wait_for(&f, logged, why, 8000));
	wait_state(&f, SCALE, BLE_LINK_BACKOFF, WAIT_MS);
	g_assert_nonnull(strstr(
	    ((LinkEvent *)f.links->pdata[f.links->len - 1])->reason, why));
	g_assert_cmpint(f.registered, ==, -1);
	teardown(&f);
}

/*
 * QN scales that misbehave: a malformed reply is counted and logged, a
 * scale-info frame that never comes is a note (the weighing still reads),
 * and one without the characteristic the unit is written to ends the
 * session with a reason instead of weighing at the wrong resolution.
 */
static void test_qn_misbehaving(void)
{
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ QN_SCALE, BLE_KIND_SCALE_QN },
	};
	static const guint8 time_prefix[] = { 0x02 };
	static const guint8 short_info[] = { 0x12, 0x0d, 0xff };
	static const guint8 stable[] = { 0x10, 0x0a, 0xff, 0x1c, 0x43,
					 0x01, 0x02, 0x08, 0x01, 0xfe };
	static const guint8 info[] = { 0x12, 0x0d, 0xff, 0, 0, 0, 0,
				       0,    0,	   0,	 1, 0, 0 };

	if (!setup(&f))
		return;
	/* Only the notify and the time characteristics: no 0xFFE3. */
	add_device(&f, QN_SCALE, "QN-Scale", "weight-scale",
		   g_variant_new_parsed(
		       "{'known': <true>, "
		       "'gatt': <[('ffe0', 'ffe1', ['notify']), "
		       "('ffe0', 'ffe4', ['write-without-response'])]>}"));
	script(&f, QN_SCALE, "ffe4", time_prefix, sizeof(time_prefix), "ffe1",
	       short_info, sizeof(short_info));
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_state(&f, QN_SCALE, BLE_LINK_SUBSCRIBED, WAIT_MS);
	g_assert_true(wait_for(&f, logged, "malformed", WAIT_MS));
	g_assert_cmpuint(ble_client_get_stats(f.c).malformed, >=, 1);
	/* Written as a command: the characteristic offers nothing else. */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) st =
		    standin_device_state(f.bus, QN_SCALE, &error);
		g_autoptr(GVariant) writes = g_variant_lookup_value(
		    st, "writes", G_VARIANT_TYPE("a(ssay)"));
		const char *uuid, *type;
		g_autoptr(GVariant) value = NULL;

		g_assert_cmpuint(g_variant_n_children(writes), >=, 1);
		g_variant_get_child(writes, 0, "(&s&s@ay)", &uuid, &type,
				    &value);
		g_assert_cmpstr(uuid, ==, UUID("ffe4"));
		g_assert_cmpstr(type, ==, "command");
	}
	/* No good 0x12 frame: after the wait, a note; weights at 0.01 kg. */
	g_assert_true(wait_for(&f, logged, "no scale-info frame", 8000));
	notify(&f, QN_SCALE, "ffe1", stable, sizeof(stable));
	wait_readings(&f, QN_SCALE, DECODE_SCALE_WEIGHING, 1, WAIT_MS);
	const Rec *rec = last_reading(&f, QN_SCALE, DECODE_SCALE_WEIGHING);
	g_assert_true(rec->r.payload.u.scale.final);
	g_assert_cmpfloat_with_epsilon(rec->r.payload.u.scale.weight_kg, 72.35,
				       1e-9);
	/* A real 0x12 frame now: its unit is to be written to 0xFFE3, which
	 * this scale lacks. */
	notify(&f, QN_SCALE, "ffe1", info, sizeof(info));
	g_assert_true(
	    wait_for(&f, logged, "has no characteristic 0xFFE3", WAIT_MS));
	wait_state(&f, QN_SCALE, BLE_LINK_BACKOFF, WAIT_MS);
	teardown(&f);
}

typedef struct {
	const char *name;   /* what it advertises */
	const char *gatt;   /* the 'gatt' prop, GVariant text */
	const char *write;  /* the characteristic written */
	guint8 prefix[2];   /* the write the scale answers */
	const char *notify; /* where it answers */
	const guint8 *frames[4];
	gsize sizes[4];
	guint writes; /* writes on connecting */
	enum scale_family family;
	double final_kg;
} VendorCase;

/* oliexdev/openScale issue #71: a Yunmai Mini's live, then final frame. */
static const guint8 yunmai_live[] = { 0x0d, 0x1f, 0x0b, 0x01, 0x59, 0xc6,
				      0x15, 0x2f, 0x26, 0x95, 0x03 };
static const guint8 yunmai_final[] = { 0x0d, 0x1f, 0x14, 0x02, 0x00, 0x59, 0xc6,
				       0x15, 0x2f, 0x23, 0xd0, 0xb6, 0x32, 0x26,
				       0x95, 0x00, 0xa5, 0x08, 0xf2, 0x37 };
/* tests/unit/test-scale-onebyone.c: built from the documented layout. */
static const guint8 onebyone_ack[] = { 0xf1, 0x00 };
static const guint8 onebyone_live[] = { 0xcf, 0x00, 0x00, 0x57, 0x1c, 0x00,
					0x00, 0x00, 0x00, 0x01, 0x85 };
static const guint8 onebyone_final[] = { 0xcf, 0x8b, 0x13, 0x57, 0x1c, 0x00,
					 0x00, 0x00, 0x00, 0x00, 0x1c };

static const VendorCase yunmai_case = {
	"YUNMAI-ISM2W",
	"{'known': <true>, 'uuids': <['ffe0']>, "
	"'gatt': <[('ffe0', 'ffe4', ['notify']), "
	"('ffe5', 'ffe9', ['write-without-response'])]>}",
	"ffe9",
	{ 0x0d, 0x05 },
	"ffe4",
	{ yunmai_live, yunmai_final, yunmai_final, yunmai_final },
	{ sizeof(yunmai_live), sizeof(yunmai_final), sizeof(yunmai_final),
	  sizeof(yunmai_final) },
	3,
	SCALE_FAMILY_YUNMAI_GATT,
	98.77,
};

static const VendorCase onebyone_case = {
	"Health Scale",
	"{'known': <true>, 'uuids': <['fff0']>, "
	"'gatt': <[('fff0', 'fff4', ['notify']), "
	"('fff0', 'fff1', ['write'])]>}",
	"fff1",
	{ 0xf1, 0x07 },
	"fff4",
	{ onebyone_ack, onebyone_live, onebyone_final, onebyone_final },
	{ sizeof(onebyone_ack), sizeof(onebyone_live), sizeof(onebyone_final),
	  sizeof(onebyone_final) },
	2,
	SCALE_FAMILY_ONEBYONE,
	72.55,
};

/*
 * A Yunmai SE/Mini or a 1byone classic scale given as scale=: recognised
 * by its name, connected, told what it needs (user, time and start; unit
 * and clock); its answer ignored, its live value passed on, its final
 * weighing once however often it repeats it.
 */
static void test_vendor_session(gconstpointer data)
{
	const VendorCase *vc = data;
	Fixture f;
	static const struct ble_device_config ours[] = {
		{ QN_SCALE, BLE_KIND_SCALE_AUTO },
	};
	g_autoptr(GError) error = NULL;
	GBytes *values[4];

	if (!setup(&f))
		return;
	add_device(&f, QN_SCALE, vc->name, "weight-scale",
		   g_variant_new_parsed(vc->gatt));
	for (size_t i = 0; i < 4; i++)
		values[i] = g_bytes_new_static(vc->frames[i], vc->sizes[i]);
	g_assert_true(standin_write_reply(f.bus, QN_SCALE, vc->write,
					  vc->prefix, sizeof(vc->prefix),
					  vc->notify, values, 4, &error));
	g_assert_no_error(error);
	for (size_t i = 0; i < 4; i++)
		g_bytes_unref(values[i]);
	client_start(&f, ours, G_N_ELEMENTS(ours));
	wait_state(&f, QN_SCALE, BLE_LINK_SUBSCRIBED, WAIT_MS);
	wait_readings(&f, QN_SCALE, DECODE_SCALE_WEIGHING, 2, WAIT_MS);
	test_run_for(300);
	g_assert_cmpuint(count_weighings(&f, QN_SCALE, true), ==, 1);
	g_assert_cmpuint(count_weighings(&f, QN_SCALE, false), ==, 1);
	const Rec *rec = last_reading(&f, QN_SCALE, DECODE_SCALE_WEIGHING);
	g_assert_true(rec->r.payload.u.scale.final);
	g_assert_cmpint(rec->r.payload.u.scale.family, ==, vc->family);
	g_assert_cmpfloat_with_epsilon(rec->r.payload.u.scale.weight_kg,
				       vc->final_kg, 1e-9);
	g_assert_cmpuint(ble_client_get_stats(f.c).malformed, ==, 0);
	{
		g_autoptr(GVariant) st =
		    standin_device_state(f.bus, QN_SCALE, &error);
		g_autoptr(GVariant) writes = g_variant_lookup_value(
		    st, "writes", G_VARIANT_TYPE("a(ssay)"));

		g_assert_cmpuint(g_variant_n_children(writes), ==, vc->writes);
	}
	teardown(&f);
}

/* --- (8) A stale GATT cache --------------------------------------------- */

static void test_stale_cache(void)
{
	Fixture f;

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	control(&f, "SetStaleCache", g_variant_new("(sb)", STRAP, TRUE));
	client_start(&f, strap_only, 1);
	/* Twice stale: disconnect, then remove the device; discovery
	 * brings it back with a fresh database. */
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, 10000);
	g_assert_cmpuint(ble_client_get_stats(f.c).stale_caches, ==, 2);
	g_assert_cmpuint(standin_calls(f.bus, "Disconnect:" STRAP), >=, 1);
	g_assert_cmpuint(standin_calls(f.bus, "RemoveDevice:" STRAP), ==, 1);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 3);
	notify(&f, STRAP, "2a37", hr_72_rr_1000, sizeof(hr_72_rr_1000));
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 1, WAIT_MS);
	teardown(&f);
}

/* --- (9) Connect fails twice -------------------------------------------- */

/*
 * A Connect nobody answers (BlueZ 5.66: Failed "le-connection-abort-by-local"
 * once the controller gives up): an unpaired device is removed from
 * bluetoothd and connected to as soon as its next advertisement brings it
 * back, not at the next backoff tick.
 */
static gint64 link_time(Fixture *f, const char *address,
			enum ble_link_state state, guint nth);

static void test_connect_unanswered(void)
{
	Fixture f;
	gint64 back_us;

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	control(&f, "SetConnectBehaviour",
		g_variant_new("(ss)", STRAP, "1*fail"));
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, 8000);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 2);
	g_assert_cmpuint(standin_calls(f.bus, "RemoveDevice"), ==, 1);
	g_assert_cmpuint(count_links(&f, STRAP, BLE_LINK_BACKOFF), ==, 0);
	/* Forgotten, then seen again and connected at once. */
	back_us = link_time(&f, STRAP, BLE_LINK_ABSENT, 0);
	g_assert_cmpint(
	    (link_time(&f, STRAP, BLE_LINK_CONNECTING, 1) - back_us) / 1000, <=,
	    1500);
	teardown(&f);
}

static gint64 link_time(Fixture *f, const char *address,
			enum ble_link_state state, guint nth)
{
	for (guint i = 0; i < f->links->len; i++) {
		LinkEvent *e = f->links->pdata[i];
		if (strcmp(e->address, address) == 0 && e->state == state &&
		    nth-- == 0)
			return e->t_us;
	}
	g_assert_not_reached();
	return 0;
}

static void test_connect_failed(void)
{
	Fixture f;

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	/* A failure other than "nobody answered" (that one is
	 * /ble/connect-unanswered): the device is there, so back off. */
	control(&f, "SetConnectBehaviour",
		g_variant_new("(ss)", STRAP,
			      "2*fail:org.bluez.Error.Failed:"
			      "Software caused connection abort"));
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, 8000);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 3);
	g_assert_cmpuint(standin_calls(f.bus, "RemoveDevice"), ==, 0);
	g_assert_cmpuint(count_links(&f, STRAP, BLE_LINK_BACKOFF), ==, 2);
	g_assert_cmpuint(count_links(&f, STRAP, BLE_LINK_CONNECTING), ==, 3);

	/* 1 s, then 2 s, each ±20 %. */
	gint64 b1 = link_time(&f, STRAP, BLE_LINK_BACKOFF, 0);
	gint64 c2 = link_time(&f, STRAP, BLE_LINK_CONNECTING, 1);
	gint64 b2 = link_time(&f, STRAP, BLE_LINK_BACKOFF, 1);
	gint64 c3 = link_time(&f, STRAP, BLE_LINK_CONNECTING, 2);
	g_assert_cmpint((c2 - b1) / 1000, >=, 750);
	g_assert_cmpint((c2 - b1) / 1000, <=, 1500);
	g_assert_cmpint((c3 - b2) / 1000, >=, 1550);
	g_assert_cmpint((c3 - b2) / 1000, <=, 2700);
	LinkEvent *e = NULL;
	for (guint i = 0; i < f.links->len && e == NULL; i++) {
		LinkEvent *x = f.links->pdata[i];
		if (x->state == BLE_LINK_BACKOFF)
			e = x;
	}
	g_assert_nonnull(strstr(e->reason, "org.bluez.Error.Failed"));

	/* A good session resets the backoff: a drop retries after ~1 s. */
	g_autoptr(GError) error = NULL;
	g_assert_true(standin_drop(f.bus, STRAP, "remote", &error));
	Want gone = { STRAP, BLE_LINK_SUBSCRIBED, 0 };
	g_assert_true(wait_for(&f, not_in_state, &gone, WAIT_MS));
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	gint64 b3 = link_time(&f, STRAP, BLE_LINK_BACKOFF, 2);
	gint64 c4 = link_time(&f, STRAP, BLE_LINK_CONNECTING, 3);
	g_assert_cmpint((c4 - b3) / 1000, <=, 1500);
	teardown(&f);
}

/* --- (10) The adapter powered off, then on ------------------------------ */

static void test_power_cycle(void)
{
	Fixture f;
	GError *problem = NULL;

	if (!setup(&f))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	feeder_start(&f, STRAP);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, 3, WAIT_MS);

	control(&f, "SetPowered", g_variant_new("(b)", FALSE));
	wait_state(&f, STRAP, BLE_LINK_WAITING, 3000);
	g_assert_false(ble_client_check(f.c, &problem));
	g_assert_error(problem, BLE_ERROR, BLE_ERROR_ADAPTER_OFF);
	g_clear_error(&problem);
	test_run_for(500);
	/* Switched off by someone: waited for, not fought over. */
	g_assert_cmpuint(standin_calls(f.bus, "Set:Powered"), ==, 0);

	guint n = count_readings(&f, STRAP, DECODE_UUID_HEART_RATE);
	control(&f, "SetPowered", g_variant_new("(b)", TRUE));
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, 3000);
	wait_readings(&f, STRAP, DECODE_UUID_HEART_RATE, n + 3, WAIT_MS);
	g_assert_true(ble_client_check(f.c, &problem));
	teardown(&f);
}

/* --- What the CLI says -------------------------------------------------- */

static gboolean check_is(Fixture *f, gconstpointer arg)
{
	g_autoptr(GError) e = NULL;

	ble_client_check(f->c, &e);
	return e != NULL && e->code == GPOINTER_TO_INT(arg);
}

static void test_check(void)
{
	Fixture f;
	GError *problem = NULL;

	/* No bluetoothd at all. */
	if (!setup_full(&f, NULL, FALSE))
		return;
	client_start(&f, strap_only, 1);
	g_assert_true(wait_for(
	    &f, check_is, GINT_TO_POINTER(BLE_ERROR_NO_BLUETOOTHD), WAIT_MS));
	g_assert_cmpint(ble_client_link_state(f.c, STRAP), ==,
			BLE_LINK_WAITING);

	/* An adapter that is off, and we may not power it on. */
	client_stop(&f);
	const char *const unpowered[] = { "--unpowered", NULL };
	start_standin(&f, unpowered);
	add_device(&f, STRAP, "Strap", "heart-rate", known());
	client_start_cfg(&f, strap_only, 1, FALSE, NULL);
	g_assert_true(wait_for(
	    &f, check_is, GINT_TO_POINTER(BLE_ERROR_ADAPTER_OFF), WAIT_MS));
	g_assert_false(ble_client_check(f.c, &problem));
	g_assert_nonnull(strstr(problem->message, "hci0"));
	g_assert_nonnull(strstr(problem->message, "bluetoothctl power on"));
	g_clear_error(&problem);
	test_run_for(200);
	g_assert_cmpint(ble_client_link_state(f.c, STRAP), ==,
			BLE_LINK_WAITING);
	g_assert_cmpuint(standin_calls(f.bus, "Connect"), ==, 0);

	/* Allowed: powered on once, then all goes. */
	client_stop(&f);
	client_start_cfg(&f, strap_only, 1, TRUE, NULL);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	g_assert_cmpuint(standin_calls(f.bus, "Set:Powered"), ==, 1);
	g_assert_true(ble_client_check(f.c, &problem));

	/* The allowlist changes at run time: a dropped strap is
	 * disconnected, an added one connected. */
	ble_client_set_devices(f.c, NULL, 0);
	test_run_for(200);
	g_assert_cmpuint(standin_calls(f.bus, "Disconnect:" STRAP), ==, 1);
	g_assert_cmpint(ble_client_link_state(f.c, STRAP), ==, BLE_LINK_ABSENT);
	ble_client_set_devices(f.c, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 2);
	teardown(&f);
}

/* --- Another Connect under way ------------------------------------------ */

static void set_done(GObject *source, GAsyncResult *res, gpointer data)
{
	g_autoptr(GVariant) r =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, NULL);

	g_assert_nonnull(r);
	*(gboolean *)data = TRUE;
}

static gboolean flag_set(Fixture *f, gconstpointer arg)
{
	return *(const gboolean *)arg;
}

/*
 * Another program's Connect is pending: ours gets Failed "Operation already
 * in progress" (5.66) or InProgress (5.81): wait ~1 s and try again, without
 * escalating the backoff. @data: a --bluez-version or NULL.
 */
static void test_connect_in_progress(gconstpointer data)
{
	Fixture f;
	const char *const args[] = { "--bluez-version", data, NULL };
	gboolean done = FALSE;

	if (!setup_full(&f, data ? args : NULL, TRUE))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate",
		   g_variant_new_parsed("{'known': <true>, "
					"'connect-delay-ms': <uint32 1500>}"));
	g_autoptr(GDBusConnection) other = standin_bus_new_client(f.bus);
	g_dbus_connection_call(
	    other, "org.bluez", "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01",
	    "org.bluez.Device1", "Connect", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
	    WAIT_MS, NULL, set_done, &done);
	test_run_for(100);
	client_start(&f, strap_only, 1);
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	g_assert_true(wait_for(&f, flag_set, &done, WAIT_MS));
	g_assert_cmpuint(count_links(&f, STRAP, BLE_LINK_BACKOFF), >=, 1);
	for (guint i = 0; i < f.links->len; i++) {
		LinkEvent *e = f.links->pdata[i];
		if (e->state != BLE_LINK_BACKOFF)
			continue;
		g_assert_nonnull(
		    strstr(e->reason, data ? "org.bluez.Error.InProgress"
					   : "already in progress"));
		/* Not escalated: 1 s each time. */
		g_assert_true(strstr(e->reason, "retrying in 0.") != NULL ||
			      strstr(e->reason, "retrying in 1.") != NULL);
	}
	g_dbus_connection_close_sync(other, NULL, NULL);
	teardown(&f);
}

/* --- The adapter from the configuration --------------------------------- */

static void test_adapter(void)
{
	Fixture f;
	const char *const args[] = { "--adapter", "hci0", "--adapter",
				     "hci1=00:AA:01:00:00:01", NULL };
	GError *problem = NULL;

	if (!setup_full(&f, args, TRUE))
		return;
	add_device(&f, STRAP, "Strap", "heart-rate",
		   g_variant_new_parsed("{'known': <true>, "
					"'adapter': <'hci1'>}"));
	client_start_cfg(&f, strap_only, 1, FALSE, "hci1");
	wait_state(&f, STRAP, BLE_LINK_SUBSCRIBED, WAIT_MS);
	g_assert_true(ble_client_check(f.c, &problem));
	g_autoptr(GVariant) st = standin_device_state(f.bus, STRAP, NULL);
	g_assert_nonnull(st);
	const char *path = NULL;
	g_assert_true(g_variant_lookup(st, "path", "&o", &path));
	g_assert_true(g_str_has_prefix(path, "/org/bluez/hci1/"));

	/* The first powered adapter: hci0, where the strap is not. */
	client_stop(&f);
	client_start_cfg(&f, strap_only, 1, FALSE, NULL);
	wait_state(&f, STRAP, BLE_LINK_ABSENT, WAIT_MS);
	test_run_for(200);
	g_assert_cmpint(ble_client_link_state(f.c, STRAP), ==, BLE_LINK_ABSENT);

	/* One that is not there. */
	client_stop(&f);
	client_start_cfg(&f, strap_only, 1, FALSE, "hci7");
	g_assert_true(wait_for(&f, check_is,
			       GINT_TO_POINTER(BLE_ERROR_NO_ADAPTER), WAIT_MS));
	g_assert_false(ble_client_check(f.c, &problem));
	g_assert_nonnull(strstr(problem->message, "hci7"));
	g_assert_nonnull(strstr(problem->message, "bluetoothctl list"));
	g_clear_error(&problem);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 1);
	teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ble/strap/acquire-notify", test_acquire_notify);
	g_test_add_func("/ble/strap/acquire-burst", test_acquire_burst);
	g_test_add_func("/ble/strap/start-notify", test_start_notify);
	g_test_add_func("/ble/strap/acquire-refused", test_acquire_refused);
	g_test_add_data_func("/ble/strap/drop", NULL, test_drop);
	g_test_add_data_func("/ble/strap/drop-5.83", "5.83", test_drop);
	g_test_add_func("/ble/restart", test_restart);
	g_test_add_func("/ble/foreign", test_foreign);
	g_test_add_func("/ble/advert/miscale", test_miscale);
	g_test_add_func("/ble/advert/bthome", test_bthome);
	g_test_add_func("/ble/advert/antenna", test_antenna);
	g_test_add_func("/ble/auto/miscale", test_auto_miscale);
	g_test_add_func("/ble/auto/standard", test_auto_standard);
	g_test_add_func("/ble/auto/okok", test_auto_okok);
	g_test_add_func("/ble/scale/body-composition", test_scale);
	g_test_add_func("/ble/stale-cache", test_stale_cache);
	g_test_add_func("/ble/uds/refused", test_uds_refused);
	g_test_add_func("/ble/uds/silent", test_uds_silent);
	g_test_add_func("/ble/qn/misbehaving", test_qn_misbehaving);
	g_test_add_data_func("/ble/yunmai/session", &yunmai_case,
			     test_vendor_session);
	g_test_add_data_func("/ble/1byone/session", &onebyone_case,
			     test_vendor_session);
	g_test_add_func("/ble/connect-failed", test_connect_failed);
	g_test_add_func("/ble/connect-unanswered", test_connect_unanswered);
	g_test_add_func("/ble/power-cycle", test_power_cycle);
	g_test_add_data_func("/ble/connect-in-progress", NULL,
			     test_connect_in_progress);
	g_test_add_data_func("/ble/connect-in-progress-5.81", "5.81",
			     test_connect_in_progress);
	g_test_add_func("/ble/check", test_check);
	g_test_add_func("/ble/adapter", test_adapter);
	return g_test_run();
}
