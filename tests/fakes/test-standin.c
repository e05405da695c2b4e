// SPDX-License-Identifier: MIT
/*
 * The BlueZ stand-in, driven purely over D-Bus as a client of org.bluez
 * would drive bluetoothd, plus its control interface. No project code.
 * BLUEZ_STANDIN names the stand-in binary.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib.h>

#include "tests/fakes/bus.h"
#include "tests/support/test-support.h"

#define HCI0	 "/org/bluez/hci0"
#define STRAP	 "AA:BB:CC:DD:EE:01"
#define STRAP_P	 HCI0 "/dev_AA_BB_CC_DD_EE_01"
#define SCALE	 "AA:BB:CC:DD:EE:02"
#define SCALE_P	 HCI0 "/dev_AA_BB_CC_DD_EE_02"
#define BTHOME	 "AA:BB:CC:DD:EE:03"
#define BTHOME_P HCI0 "/dev_AA_BB_CC_DD_EE_03"
#define OTHER	 "AA:BB:CC:DD:EE:04"
#define UUID(x)	 "0000" x "-0000-1000-8000-00805f9b34fb"
#define WAIT_MS	 5000

typedef struct {
	char *path;
	char *iface;
	char *member;
	GVariant *params;
} Event;

typedef struct {
	StandinBus *bus;
	GDBusConnection *client; /* the "gateway": calls org.bluez */
	guint sub;
	GPtrArray *events; /* Event*, every signal seen */
	guint mark;	   /* wait_signal() looks from here on */
} Fixture;

static void event_free(Event *e)
{
	g_free(e->path);
	g_free(e->iface);
	g_free(e->member);
	g_variant_unref(e->params);
	g_free(e);
}

static void on_signal(GDBusConnection *conn, const char *sender,
		      const char *path, const char *iface, const char *member,
		      GVariant *params, gpointer data)
{
	Fixture *f = data;
	Event *e = g_new0(Event, 1);

	e->path = g_strdup(path);
	e->iface = g_strdup(iface);
	e->member = g_strdup(member);
	e->params = g_variant_ref(params);
	g_ptr_array_add(f->events, e);
}

/* FALSE if skipped (no dbus-daemon). */
static gboolean setup(Fixture *f, const char *const *args)
{
	g_autoptr(GError) error = NULL;

	memset(f, 0, sizeof(*f));
	f->bus = standin_bus_new_or_skip();
	if (f->bus == NULL)
		return FALSE;
	standin_start(f->bus, args, &error);
	g_assert_no_error(error);
	f->client = standin_bus_new_client(f->bus);
	f->events = g_ptr_array_new_with_free_func((GDestroyNotify)event_free);
	f->sub = g_dbus_connection_signal_subscribe(
	    f->client, NULL, NULL, NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
	    on_signal, f, NULL);
	return TRUE;
}

/*
 * The stand-in gets SIGTERM and must exit 0: in the sanitizer build that
 * is also LeakSanitizer's verdict on whatever the test left it holding.
 */
static void teardown(Fixture *f)
{
	if (standin_running(f->bus)) {
		g_autoptr(GError) error = NULL;
		int status = -1;
		g_assert_true(standin_stop(f->bus, &status, &error));
		g_assert_no_error(error);
		g_assert_cmpint(status, ==, 0);
	}
	g_dbus_connection_signal_unsubscribe(f->client, f->sub);
	g_dbus_connection_close_sync(f->client, NULL, NULL);
	g_clear_object(&f->client);
	test_run_pending();
	g_ptr_array_unref(f->events);
	standin_bus_free(f->bus);
}

/* g_assert_cmpmem() of GLib 2.74 takes int lengths. */
static void assert_bytes(const guint8 *p, gssize n, const guint8 *q, gsize m)
{
	g_assert_cmpint(n, ==, (gssize)m);
	g_assert_true(memcmp(p, q, m) == 0);
}

/*
 * Later waits look only at signals after this. Signals already queued (the
 * stand-in sends a method's signals before its reply) are taken in first.
 */
static void mark(Fixture *f)
{
	test_run_pending();
	f->mark = f->events->len;
}

static gboolean strv_variant_has(GVariant *as, const char *s)
{
	for (gsize i = 0; i < g_variant_n_children(as); i++) {
		const char *t = NULL;
		g_variant_get_child(as, i, "&s", &t);
		if (strcmp(t, s) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean path_matches(const char *pattern, const char *path)
{
	gsize n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, path, n - 1) == 0;
	return strcmp(pattern, path) == 0;
}

/*
 * Does e match? PropertiesChanged: on path, with detail among the changed
 * or invalidated properties. InterfacesAdded/Removed: for the object path,
 * with interface detail. Others: member on path.
 */
static gboolean event_matches(Event *e, const char *member, const char *path,
			      const char *detail)
{
	if (strcmp(e->member, member) != 0)
		return FALSE;
	if (strcmp(member, "InterfacesAdded") == 0 &&
	    g_variant_is_of_type(e->params, G_VARIANT_TYPE("(oa{sa{sv}})"))) {
		const char *obj = NULL;
		g_autoptr(GVariant) ifs = NULL;
		g_variant_get(e->params, "(&o@a{sa{sv}})", &obj, &ifs);
		g_autoptr(GVariant) one =
		    detail ? g_variant_lookup_value(ifs, detail, NULL) : NULL;
		return path_matches(path, obj) && (detail == NULL || one);
	}
	if (strcmp(member, "InterfacesRemoved") == 0 &&
	    g_variant_is_of_type(e->params, G_VARIANT_TYPE("(oas)"))) {
		const char *obj = NULL;
		g_autoptr(GVariant) ifs = NULL;
		g_variant_get(e->params, "(&o@as)", &obj, &ifs);
		return path_matches(path, obj) &&
		       (detail == NULL || strv_variant_has(ifs, detail));
	}
	if (!path_matches(path, e->path))
		return FALSE;
	if (strcmp(member, "PropertiesChanged") == 0 && detail != NULL) {
		if (!g_variant_is_of_type(e->params,
					  G_VARIANT_TYPE("(sa{sv}as)")))
			return FALSE;
		g_autoptr(GVariant) ch =
		    g_variant_get_child_value(e->params, 1);
		g_autoptr(GVariant) inv =
		    g_variant_get_child_value(e->params, 2);
		g_autoptr(GVariant) v =
		    g_variant_lookup_value(ch, detail, NULL);
		return v != NULL || strv_variant_has(inv, detail);
	}
	return TRUE;
}

static Event *find_signal(Fixture *f, const char *member, const char *path,
			  const char *detail)
{
	for (guint i = f->mark; i < f->events->len; i++) {
		Event *e = f->events->pdata[i];
		if (event_matches(e, member, path, detail))
			return e;
	}
	return NULL;
}

static guint count_signals(Fixture *f, const char *member, const char *path,
			   const char *detail)
{
	guint n = 0;

	for (guint i = f->mark; i < f->events->len; i++) {
		if (event_matches(f->events->pdata[i], member, path, detail))
			n++;
	}
	return n;
}

struct signal_wait {
	Fixture *f;
	const char *member;
	const char *path;
	const char *detail;
	Event *found;
};

static bool signal_found(void *data)
{
	struct signal_wait *w = data;

	w->found = find_signal(w->f, w->member, w->path, w->detail);
	return w->found != NULL;
}

static Event *wait_signal(Fixture *f, const char *member, const char *path,
			  const char *detail)
{
	struct signal_wait w = { f, member, path, detail, NULL };

	if (!test_run_until(signal_found, &w, WAIT_MS))
		g_error("no %s %s %s within %d ms", member, path,
			detail ? detail : "", WAIT_MS);
	return w.found;
}

/* The value a PropertiesChanged event gives a property, or NULL. */
static GVariant *changed_value(Event *e, const char *prop)
{
	g_autoptr(GVariant) ch = g_variant_get_child_value(e->params, 1);

	return g_variant_lookup_value(ch, prop, NULL);
}

static GVariant *call(Fixture *f, const char *path, const char *iface,
		      const char *method, GVariant *params, GError **error)
{
	return g_dbus_connection_call_sync(
	    f->client, "org.bluez", path, iface, method, params, NULL,
	    G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL, error);
}

static void call_ok(Fixture *f, const char *path, const char *iface,
		    const char *method, GVariant *params)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = call(f, path, iface, method, params, &error);

	g_assert_no_error(error);
	g_assert_nonnull(r);
}

/* The call fails with the D-Bus error name. */
static void call_err(Fixture *f, const char *path, const char *iface,
		     const char *method, GVariant *params, const char *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = call(f, path, iface, method, params, &error);
	g_autofree char *got = NULL;

	g_assert_null(r);
	got = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(got, ==, name);
}

static GVariant *get_prop(Fixture *f, const char *path, const char *iface,
			  const char *prop)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    call(f, path, "org.freedesktop.DBus.Properties", "Get",
		 g_variant_new("(ss)", iface, prop), &error);
	GVariant *v = NULL;

	g_assert_no_error(error);
	g_variant_get(r, "(v)", &v);
	return v;
}

static gboolean get_bool(Fixture *f, const char *path, const char *iface,
			 const char *prop)
{
	g_autoptr(GVariant) v = get_prop(f, path, iface, prop);

	g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN));
	return g_variant_get_boolean(v);
}

static void control(Fixture *f, const char *method, GVariant *params)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    standin_call(f->bus, method, params, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(r);
}

static void add(Fixture *f, const char *address, const char *name,
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
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "known", g_variant_new_boolean(TRUE));
	return g_variant_builder_end(&b);
}

static GVariant *managed(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    call(f, "/", "org.freedesktop.DBus.ObjectManager",
		 "GetManagedObjects", NULL, &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

/* The object path of the characteristic uuid under dev, or NULL. */
static char *find_char(Fixture *f, const char *dev, const char *uuid)
{
	g_autoptr(GVariant) objs = managed(f);
	GVariantIter it;
	const char *path;
	GVariant *ifs;

	g_variant_iter_init(&it, objs);
	while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &ifs)) {
		g_autoptr(GVariant) owned = ifs;
		g_autoptr(GVariant) props = g_variant_lookup_value(
		    owned, "org.bluez.GattCharacteristic1", NULL);
		const char *u = NULL;
		if (props == NULL || !g_str_has_prefix(path, dev))
			continue;
		if (g_variant_lookup(props, "UUID", "&s", &u) &&
		    strcmp(u, uuid) == 0)
			return g_strdup(path);
	}
	return NULL;
}

static void connect_and_resolve(Fixture *f, const char *dev)
{
	mark(f);
	call_ok(f, dev, "org.bluez.Device1", "Connect", NULL);
	Event *e = wait_signal(f, "PropertiesChanged", dev, "ServicesResolved");
	g_autoptr(GVariant) v = changed_value(e, "ServicesResolved");
	g_assert_true(g_variant_get_boolean(v));
}

static void notify_bytes(Fixture *f, const char *address, const char *uuid,
			 const guint8 *p, gsize n, gboolean expect)
{
	g_autoptr(GError) error = NULL;
	gboolean delivered =
	    standin_notify(f->bus, address, uuid, p, n, &error);

	g_assert_no_error(error);
	g_assert_cmpint(delivered, ==, expect);
}

/* ----------------------------------------------------------------------- */

static void test_objects(void)
{
	Fixture f;
	g_autoptr(GError) error = NULL;

	if (!setup(&f, NULL))
		return;

	g_autoptr(GVariant) objs = managed(&f);
	g_autoptr(GVariant) hci0 =
	    g_variant_lookup_value(objs, HCI0, G_VARIANT_TYPE("a{sa{sv}}"));
	g_assert_nonnull(hci0);
	g_autoptr(GVariant) ad =
	    g_variant_lookup_value(hci0, "org.bluez.Adapter1", NULL);
	g_assert_nonnull(ad);
	const char *addr = NULL;
	gboolean powered = FALSE;
	g_assert_true(g_variant_lookup(ad, "Address", "&s", &addr));
	g_assert_cmpstr(addr, ==, "00:AA:01:00:00:00");
	g_assert_true(g_variant_lookup(ad, "Powered", "b", &powered));
	g_assert_true(powered);
	g_autoptr(GVariant) intro = g_variant_lookup_value(
	    hci0, "org.freedesktop.DBus.Introspectable", NULL);
	g_assert_nonnull(intro);

	/* A known (bonded) device appears at once, without discovery. */
	mark(&f);
	add(&f, STRAP, "Polar H10 0A1B2C3D", "heart-rate", known());
	Event *e =
	    wait_signal(&f, "InterfacesAdded", STRAP_P, "org.bluez.Device1");
	g_autoptr(GVariant) ifs = g_variant_get_child_value(e->params, 1);
	g_autoptr(GVariant) dev =
	    g_variant_lookup_value(ifs, "org.bluez.Device1", NULL);
	const char *name = NULL;
	g_assert_true(g_variant_lookup(dev, "Name", "&s", &name));
	g_assert_cmpstr(name, ==, "Polar H10 0A1B2C3D");
	g_autoptr(GVariant) rssi = g_variant_lookup_value(dev, "RSSI", NULL);
	g_assert_null(rssi); /* not seen since start */

	/* Get of a property that does not exist now is an error. */
	g_autoptr(GVariant) r =
	    call(&f, STRAP_P, "org.freedesktop.DBus.Properties", "Get",
		 g_variant_new("(ss)", "org.bluez.Device1", "RSSI"), &error);
	g_assert_null(r);
	g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
	g_clear_error(&error);

	/* GetAll leaves absent properties out. */
	g_autoptr(GVariant) all =
	    call(&f, STRAP_P, "org.freedesktop.DBus.Properties", "GetAll",
		 g_variant_new("(s)", "org.bluez.Device1"), &error);
	g_assert_no_error(error);
	g_autoptr(GVariant) alld = g_variant_get_child_value(all, 0);
	g_assert_true(g_variant_lookup(alld, "Connected", "b", &powered));
	g_autoptr(GVariant) rssi2 = g_variant_lookup_value(alld, "RSSI", NULL);
	g_assert_null(rssi2);

	/* Read-only properties stay so. */
	r = call(&f, HCI0, "org.freedesktop.DBus.Properties", "Set",
		 g_variant_new("(ssv)", "org.bluez.Adapter1", "Discovering",
			       g_variant_new_boolean(TRUE)),
		 &error);
	g_assert_null(r);
	g_assert_nonnull(error);
	g_clear_error(&error);

	/* Powered is writable; without power, discovery is NotReady. */
	mark(&f);
	call_ok(&f, HCI0, "org.freedesktop.DBus.Properties", "Set",
		g_variant_new("(ssv)", "org.bluez.Adapter1", "Powered",
			      g_variant_new_boolean(FALSE)));
	e = wait_signal(&f, "PropertiesChanged", HCI0, "Powered");
	g_assert_false(get_bool(&f, HCI0, "org.bluez.Adapter1", "Powered"));
	call_err(&f, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL,
		 "org.bluez.Error.NotReady");
	call_err(&f, STRAP_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.NotReady");
	control(&f, "SetPowered", g_variant_new("(b)", TRUE));
	g_assert_true(get_bool(&f, HCI0, "org.bluez.Adapter1", "Powered"));
	g_assert_cmpuint(standin_calls(f.bus, "Set:Powered"), ==, 1);

	/* RemoveDevice of what is not there. */
	call_err(&f, HCI0, "org.bluez.Adapter1", "RemoveDevice",
		 g_variant_new("(o)", HCI0 "/dev_00_00_00_00_00_00"),
		 "org.bluez.Error.DoesNotExist");
	teardown(&f);
}

static GVariant *filter_hr(void)
{
	GVariantBuilder b;
	const char *uuids[] = { "180d", NULL };

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "UUIDs",
			      g_variant_new_strv(uuids, -1));
	g_variant_builder_add(&b, "{sv}", "Transport",
			      g_variant_new_string("le"));
	g_variant_builder_add(&b, "{sv}", "DuplicateData",
			      g_variant_new_boolean(TRUE));
	g_variant_builder_add(&b, "{sv}", "RSSI", g_variant_new_int16(-90));
	return g_variant_new("(@a{sv})", g_variant_builder_end(&b));
}

static GVariant *bthome_props(void)
{
	GVariantBuilder b;
	GVariantBuilder sd;
	static const guint8 frame[] = { 0x40, 0x02, 0xc4, 0x09 };

	g_variant_builder_init(&sd, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&sd, "{sv}", "fcd2",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE,
							frame, sizeof(frame),
							1));
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "service-data",
			      g_variant_builder_end(&sd));
	return g_variant_builder_end(&b);
}

static void test_discovery(void)
{
	Fixture f;
	g_autoptr(GError) error = NULL;

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", NULL);
	add(&f, BTHOME, "", "advertiser", bthome_props());
	test_run_for(50);
	g_assert_null(find_signal(&f, "InterfacesAdded", STRAP_P, NULL));

	/* The filter is recorded as given. */
	call_ok(&f, HCI0, "org.bluez.Adapter1", "SetDiscoveryFilter",
		filter_hr());
	g_autoptr(GVariant) r =
	    standin_call(f.bus, "GetLastDiscoveryFilter", NULL,
			 G_VARIANT_TYPE("(a{sv})"), &error);
	g_assert_no_error(error);
	g_autoptr(GVariant) filt = g_variant_get_child_value(r, 0);
	gboolean dup = FALSE;
	const char *transport = NULL;
	gint16 rssi = 0;
	g_assert_true(g_variant_lookup(filt, "DuplicateData", "b", &dup));
	g_assert_true(dup);
	g_assert_true(g_variant_lookup(filt, "Transport", "&s", &transport));
	g_assert_cmpstr(transport, ==, "le");
	g_assert_true(g_variant_lookup(filt, "RSSI", "n", &rssi));
	g_assert_cmpint(rssi, ==, -90);
	call_err(&f, HCI0, "org.bluez.Adapter1", "SetDiscoveryFilter",
		 g_variant_new_parsed("({'Colour': <'red'>},)"),
		 "org.bluez.Error.InvalidArguments");

	g_autoptr(GVariant) keys = call(&f, HCI0, "org.bluez.Adapter1",
					"GetDiscoveryFilters", NULL, &error);
	g_assert_no_error(error);
	g_autoptr(GVariant) ks = g_variant_get_child_value(keys, 0);
	g_assert_true(strv_variant_has(ks, "DuplicateData"));

	/* Discovery finds the strap; the UUID filter (as in BlueZ, on
	 * advertised UUIDs only) hides the BTHome sensor. */
	mark(&f);
	call_ok(&f, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL);
	Event *e = wait_signal(&f, "PropertiesChanged", HCI0, "Discovering");
	e = wait_signal(&f, "InterfacesAdded", STRAP_P, "org.bluez.Device1");
	test_run_for(50);
	g_assert_null(find_signal(&f, "InterfacesAdded", BTHOME_P, NULL));
	call_err(&f, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL,
		 "org.bluez.Error.InProgress");

	/* No filter: the sensor's service data arrives. */
	mark(&f);
	call_ok(&f, HCI0, "org.bluez.Adapter1", "SetDiscoveryFilter",
		g_variant_new_parsed("({'DuplicateData': <true>},)"));
	e = wait_signal(&f, "InterfacesAdded", BTHOME_P, "org.bluez.Device1");
	g_autoptr(GVariant) ifs = g_variant_get_child_value(e->params, 1);
	g_autoptr(GVariant) dev =
	    g_variant_lookup_value(ifs, "org.bluez.Device1", NULL);
	g_autoptr(GVariant) sd =
	    g_variant_lookup_value(dev, "ServiceData", G_VARIANT_TYPE("a{sv}"));
	g_assert_nonnull(sd);
	g_autoptr(GVariant) frame =
	    g_variant_lookup_value(sd, UUID("fcd2"), G_VARIANT_TYPE_BYTESTRING);
	g_assert_nonnull(frame);
	g_assert_cmpuint(g_variant_n_children(frame), ==, 4);

	/* DuplicateData: the same bytes again still signal. */
	mark(&f);
	const guint8 same[] = { 0x40, 0x02, 0xc4, 0x09 };
	control(&f, "SetServiceData",
		g_variant_new("(ss@ay)", BTHOME, "fcd2",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE,
							same, 4, 1)));
	wait_signal(&f, "PropertiesChanged", BTHOME_P, "ServiceData");

	/* Stop: RSSI goes stale, the non-connectable sensor goes at once. */
	mark(&f);
	call_ok(&f, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL);
	wait_signal(&f, "InterfacesRemoved", BTHOME_P, "org.bluez.Device1");
	e = wait_signal(&f, "PropertiesChanged", STRAP_P, "RSSI");
	g_autoptr(GVariant) gone = changed_value(e, "RSSI");
	g_assert_null(gone); /* invalidated */
	g_assert_false(get_bool(&f, HCI0, "org.bluez.Adapter1", "Discovering"));
	call_err(&f, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL,
		 "org.bluez.Error.Failed");
	g_assert_cmpuint(standin_calls(f.bus, "StartDiscovery"), ==, 2);
	g_assert_cmpuint(standin_calls(f.bus, "SetDiscoveryFilter"), ==, 3);
	teardown(&f);
}

/* A client that leaves the bus loses its discovery session. */
static void test_client_vanishes(void)
{
	Fixture f;

	if (!setup(&f, NULL))
		return;
	GDBusConnection *other = standin_bus_new_client(f.bus);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
	    other, "org.bluez", HCI0, "org.bluez.Adapter1", "StartDiscovery",
	    NULL, NULL, G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(r);
	g_assert_true(get_bool(&f, HCI0, "org.bluez.Adapter1", "Discovering"));
	mark(&f);
	g_dbus_connection_close_sync(other, NULL, NULL);
	g_object_unref(other);
	Event *e = wait_signal(&f, "PropertiesChanged", HCI0, "Discovering");
	g_autoptr(GVariant) v = changed_value(e, "Discovering");
	g_assert_false(g_variant_get_boolean(v));
	teardown(&f);
}

static void test_connect_gatt(void)
{
	Fixture f;
	g_autoptr(GError) error = NULL;

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	add(&f, OTHER, "Other", "heart-rate", known());

	connect_and_resolve(&f, STRAP_P);
	g_assert_true(get_bool(&f, STRAP_P, "org.bluez.Device1", "Connected"));
	g_assert_nonnull(find_signal(&f, "InterfacesAdded", STRAP_P "/*",
				     "org.bluez.GattService1"));
	g_autofree char *hrm1 = find_char(&f, STRAP_P, UUID("2a37"));
	g_autofree char *bat1 = find_char(&f, STRAP_P, UUID("2a19"));
	g_assert_nonnull(hrm1);
	g_assert_nonnull(bat1);
	g_assert_true(g_str_has_prefix(hrm1, STRAP_P "/service"));
	g_assert_nonnull(strstr(hrm1, "/char"));

	/* Service UUIDs are learnt, the battery service becomes Battery1. */
	g_autoptr(GVariant) uuids =
	    get_prop(&f, STRAP_P, "org.bluez.Device1", "UUIDs");
	g_assert_true(strv_variant_has(uuids, UUID("180f")));
	g_autoptr(GVariant) pct =
	    get_prop(&f, STRAP_P, "org.bluez.Battery1", "Percentage");
	g_assert_cmpuint(g_variant_get_byte(pct), ==, 85);

	/* ReadValue; the cached Value follows. */
	g_autoptr(GVariant) r =
	    call(&f, bat1, "org.bluez.GattCharacteristic1", "ReadValue",
		 g_variant_new_parsed("(@a{sv} {},)"), &error);
	g_assert_no_error(error);
	g_autoptr(GVariant) val = g_variant_get_child_value(r, 0);
	g_assert_cmpuint(g_variant_n_children(val), ==, 1);
	g_autoptr(GVariant) b0 = g_variant_get_child_value(val, 0);
	g_assert_cmpuint(g_variant_get_byte(b0), ==, 0x55);
	g_autoptr(GVariant) mtu =
	    get_prop(&f, hrm1, "org.bluez.GattCharacteristic1", "MTU");
	g_assert_cmpuint(g_variant_get_uint16(mtu), ==, 23);
	call_err(&f, hrm1, "org.bluez.GattCharacteristic1", "ReadValue",
		 g_variant_new_parsed("(@a{sv} {},)"),
		 "org.bluez.Error.NotPermitted");

	/* Connect when connected is fine. */
	call_ok(&f, STRAP_P, "org.bluez.Device1", "Connect", NULL);

	/* Disconnect: GATT objects go, and come back with new paths. */
	mark(&f);
	call_ok(&f, STRAP_P, "org.bluez.Device1", "Disconnect", NULL);
	g_assert_false(get_bool(&f, STRAP_P, "org.bluez.Device1", "Connected"));
	wait_signal(&f, "InterfacesRemoved", hrm1, NULL);
	wait_signal(&f, "InterfacesRemoved", STRAP_P, "org.bluez.Battery1");
	g_autofree char *none = find_char(&f, STRAP_P, UUID("2a37"));
	g_assert_null(none);
	call_err(&f, STRAP_P, "org.bluez.Device1", "Pair", NULL,
		 "org.bluez.Error.NotSupported");

	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm2 = find_char(&f, STRAP_P, UUID("2a37"));
	g_assert_nonnull(hrm2);
	g_assert_cmpstr(hrm1, !=, hrm2);

	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 3);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" OTHER), ==, 0);
	g_assert_cmpuint(standin_calls(f.bus, "Disconnect:" STRAP), ==, 1);
	g_assert_cmpuint(
	    standin_calls(f.bus, "ReadValue:" STRAP ":" UUID("2a19")), ==, 1);
	g_autoptr(GVariant) st = standin_device_state(f.bus, STRAP, &error);
	g_assert_no_error(error);
	guint32 conns = 0;
	g_assert_true(g_variant_lookup(st, "connections", "u", &conns));
	g_assert_cmpuint(conns, ==, 2);
	teardown(&f);
}

static void test_start_notify(void)
{
	Fixture f;
	static const guint8 hr[] = { 0x10, 0x48, 0x20, 0x03 };

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm = find_char(&f, STRAP_P, UUID("2a37"));
	g_autofree char *loc = find_char(&f, STRAP_P, UUID("2a38"));

	/* Not subscribed: the notification goes nowhere. */
	notify_bytes(&f, STRAP, "2a37", hr, sizeof(hr), FALSE);

	mark(&f);
	call_ok(&f, hrm, "org.bluez.GattCharacteristic1", "StartNotify", NULL);
	g_assert_true(
	    get_bool(&f, hrm, "org.bluez.GattCharacteristic1", "Notifying"));
	wait_signal(&f, "PropertiesChanged", hrm, "Notifying");
	/* Again from the same client: fine. */
	call_ok(&f, hrm, "org.bluez.GattCharacteristic1", "StartNotify", NULL);

	mark(&f);
	notify_bytes(&f, STRAP, "2a37", hr, sizeof(hr), TRUE);
	notify_bytes(&f, STRAP, "0x2A37", hr, sizeof(hr), TRUE);
	Event *e = wait_signal(&f, "PropertiesChanged", hrm, "Value");
	g_autoptr(GVariant) v = changed_value(e, "Value");
	gsize n = 0;
	const guint8 *p = g_variant_get_fixed_array(v, &n, 1);
	assert_bytes(p, n, hr, sizeof(hr));
	test_run_for(20);
	g_assert_cmpuint(count_signals(&f, "PropertiesChanged", hrm, "Value"),
			 ==, 2);

	call_err(&f, loc, "org.bluez.GattCharacteristic1", "StartNotify", NULL,
		 "org.bluez.Error.NotSupported");
	mark(&f);
	call_ok(&f, hrm, "org.bluez.GattCharacteristic1", "StopNotify", NULL);
	wait_signal(&f, "PropertiesChanged", hrm, "Notifying");
	call_err(&f, hrm, "org.bluez.GattCharacteristic1", "StopNotify", NULL,
		 "org.bluez.Error.Failed");
	notify_bytes(&f, STRAP, "2a37", hr, sizeof(hr), FALSE);

	/* A value longer than MTU - 3 cannot be a notification. */
	guint8 big[21] = { 0 };
	g_autoptr(GError) error = NULL;
	standin_notify(f.bus, STRAP, "2a37", big, sizeof(big), &error);
	g_assert_nonnull(error);
	teardown(&f);
}

/* AcquireNotify, as the gateway uses it: returns (fd, mtu). */
static int acquire(Fixture *f, const char *chr, guint16 *mtu,
		   const char *expect_error)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_with_unix_fd_list_sync(
	    f->client, "org.bluez", chr, "org.bluez.GattCharacteristic1",
	    "AcquireNotify", g_variant_new_parsed("(@a{sv} {},)"),
	    G_VARIANT_TYPE("(hq)"), G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL, &fds,
	    NULL, &error);
	gint32 idx = -1;

	if (expect_error != NULL) {
		g_autofree char *got = NULL;
		g_assert_null(r);
		got = g_dbus_error_get_remote_error(error);
		g_assert_cmpstr(got, ==, expect_error);
		return -1;
	}
	g_assert_no_error(error);
	g_variant_get(r, "(hq)", &idx, mtu);
	g_assert_nonnull(fds);
	int fd = g_unix_fd_list_get(fds, idx, &error);
	g_assert_no_error(error);
	return fd;
}

/* One message from a non-blocking SEQPACKET fd, waiting for it. */
static gssize recv_one(int fd, guint8 *buf, gsize size)
{
	gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;

	for (;;) {
		gssize n = recv(fd, buf, size, MSG_DONTWAIT);
		if (n >= 0 || errno != EAGAIN || g_get_monotonic_time() > end)
			return n;
		g_usleep(1000);
	}
}

static void test_acquire_notify(void)
{
	Fixture f;
	static const guint8 a[] = { 0x00, 0x3c };
	static const guint8 b[] = { 0x10, 0x3d, 0x20, 0x03, 0x18, 0x03 };
	guint8 buf[512];
	guint16 mtu = 0;

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	add(&f, SCALE, "Scale", "weight-scale", known());
	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm = find_char(&f, STRAP_P, UUID("2a37"));

	mark(&f);
	int fd = acquire(&f, hrm, &mtu, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(mtu, ==, 23);
	wait_signal(&f, "PropertiesChanged", hrm, "NotifyAcquired");
	g_assert_true(get_bool(&f, hrm, "org.bluez.GattCharacteristic1",
			       "NotifyAcquired"));

	/* Each notification is one message of exactly its bytes. */
	notify_bytes(&f, STRAP, "2a37", a, sizeof(a), TRUE);
	notify_bytes(&f, STRAP, "2a37", b, sizeof(b), TRUE);
	gssize n = recv_one(fd, buf, sizeof(buf));
	assert_bytes(buf, n, a, sizeof(a));
	n = recv_one(fd, buf, sizeof(buf));
	assert_bytes(buf, n, b, sizeof(b));

	/* Locked while acquired. */
	call_err(&f, hrm, "org.bluez.GattCharacteristic1", "StartNotify", NULL,
		 "org.bluez.Error.NotPermitted");
	acquire(&f, hrm, &mtu, "org.bluez.Error.NotPermitted");

	/* Closing our end releases it. */
	mark(&f);
	close(fd);
	wait_signal(&f, "PropertiesChanged", hrm, "NotifyAcquired");
	g_assert_false(get_bool(&f, hrm, "org.bluez.GattCharacteristic1",
				"NotifyAcquired"));
	notify_bytes(&f, STRAP, "2a37", a, sizeof(a), FALSE);

	/* A StartNotify session blocks AcquireNotify. */
	call_ok(&f, hrm, "org.bluez.GattCharacteristic1", "StartNotify", NULL);
	acquire(&f, hrm, &mtu, "org.bluez.Error.InProgress");

	/* BlueZ 5.66: indicate-only characteristics cannot be acquired. */
	connect_and_resolve(&f, SCALE_P);
	g_autofree char *wm = find_char(&f, SCALE_P, UUID("2a9d"));
	acquire(&f, wm, &mtu, "org.bluez.Error.NotSupported");
	call_ok(&f, wm, "org.bluez.GattCharacteristic1", "StartNotify", NULL);
	teardown(&f);
}

static void test_drop(void)
{
	Fixture f;
	const char *const args[] = { "--bluez-version", "5.83", NULL };
	guint8 buf[64];
	guint16 mtu = 0;

	if (!setup(&f, args))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm = find_char(&f, STRAP_P, UUID("2a37"));
	g_autofree char *bat = find_char(&f, STRAP_P, UUID("2a19"));
	int fd = acquire(&f, hrm, &mtu, NULL);
	call_ok(&f, bat, "org.bluez.GattCharacteristic1", "StartNotify", NULL);

	mark(&f);
	g_autoptr(GError) error = NULL;
	g_assert_true(standin_drop(f.bus, STRAP, "timeout", &error));
	g_assert_no_error(error);
	Event *e = wait_signal(&f, "Disconnected", STRAP_P, NULL);
	const char *reason = NULL;
	const char *message = NULL;
	g_variant_get(e->params, "(&s&s)", &reason, &message);
	g_assert_cmpstr(reason, ==, "org.bluez.Reason.Timeout");
	e = wait_signal(&f, "PropertiesChanged", STRAP_P, "Connected");
	g_autoptr(GVariant) c = changed_value(e, "Connected");
	g_assert_false(g_variant_get_boolean(c));
	g_autoptr(GVariant) sr = changed_value(e, "ServicesResolved");
	g_assert_nonnull(sr);
	g_assert_false(g_variant_get_boolean(sr));
	wait_signal(&f, "InterfacesRemoved", hrm,
		    "org.bluez.GattCharacteristic1");
	wait_signal(&f, "InterfacesRemoved", STRAP_P "/service*",
		    "org.bluez.GattService1");
	/* The reader of the acquired fd sees the end. */
	g_assert_cmpint(recv_one(fd, buf, sizeof(buf)), ==, 0);
	close(fd);
	g_autofree char *gone = find_char(&f, STRAP_P, UUID("2a37"));
	g_assert_null(gone);
	teardown(&f);

	/* BlueZ 5.66 has no Disconnected signal. */
	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	connect_and_resolve(&f, STRAP_P);
	mark(&f);
	g_assert_true(standin_drop(f.bus, STRAP, "remote", &error));
	g_assert_no_error(error);
	wait_signal(&f, "PropertiesChanged", STRAP_P, "Connected");
	test_run_for(20);
	g_assert_null(find_signal(&f, "Disconnected", STRAP_P, NULL));
	teardown(&f);
}

typedef struct {
	gboolean done;
	GVariant *reply;
	GError *error;
} Pending;

static void call_done(GObject *source, GAsyncResult *res, gpointer data)
{
	Pending *p = data;

	p->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res,
						 &p->error);
	p->done = TRUE;
}

static void start_connect(Fixture *f, const char *dev, Pending *p)
{
	memset(p, 0, sizeof(*p));
	g_dbus_connection_call(f->client, "org.bluez", dev, "org.bluez.Device1",
			       "Connect", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
			       60000, NULL, call_done, p);
}

static bool pending_done(void *data)
{
	const Pending *p = data;

	return p->done;
}

static void finish_pending(Pending *p, const char *expect_error)
{
	g_assert_true(test_run_until(pending_done, p, WAIT_MS));
	if (expect_error == NULL) {
		g_assert_no_error(p->error);
	} else {
		g_autofree char *got = g_dbus_error_get_remote_error(p->error);
		g_assert_cmpstr(got, ==, expect_error);
	}
	g_clear_pointer(&p->reply, g_variant_unref);
	g_clear_error(&p->error);
}

static void test_connect_fail(void)
{
	Fixture f;
	Pending p;

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	add(&f, OTHER, "Other", "heart-rate", known());

	control(&f, "SetConnectBehaviour",
		g_variant_new("(ss)", STRAP, "fail:org.bluez.Error.Failed"));
	call_err(&f, STRAP_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.Failed");
	call_err(&f, STRAP_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.Failed");

	/* Once, then fine. */
	control(&f, "SetConnectBehaviour",
		g_variant_new("(ss)", STRAP, "1*fail:NotReady:try later"));
	call_err(&f, STRAP_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.NotReady");
	connect_and_resolve(&f, STRAP_P);
	call_ok(&f, STRAP_P, "org.bluez.Device1", "Disconnect", NULL);

	/* A hanging Connect: a second one fails (BlueZ 5.66: Failed,
	 * "Operation already in progress"), Disconnect cancels the first. */
	control(&f, "SetConnectBehaviour",
		g_variant_new("(ss)", STRAP, "hang"));
	start_connect(&f, STRAP_P, &p);
	test_run_for(50);
	g_assert_false(p.done);
	call_err(&f, STRAP_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.Failed");
	call_ok(&f, STRAP_P, "org.bluez.Device1", "Disconnect", NULL);
	finish_pending(&p, "org.bluez.Error.Failed");

	/* Connects but never resolves. */
	control(&f, "SetConnectBehaviour",
		g_variant_new("(ss)", STRAP, "no-resolve"));
	mark(&f);
	call_ok(&f, STRAP_P, "org.bluez.Device1", "Connect", NULL);
	test_run_for(200);
	g_assert_null(
	    find_signal(&f, "PropertiesChanged", STRAP_P, "ServicesResolved"));
	g_assert_true(get_bool(&f, STRAP_P, "org.bluez.Device1", "Connected"));

	/* A non-connectable device: Connect fails after a while. */
	add(&f, BTHOME, "", "advertiser",
	    g_variant_new_parsed("{'known': <true>, "
				 "'connect-timeout-ms': <uint32 100>}"));
	call_err(&f, BTHOME_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.Failed");

	g_assert_cmpuint(standin_calls(f.bus, "Connect:" STRAP), ==, 7);
	g_assert_cmpuint(standin_calls(f.bus, "Connect:" OTHER), ==, 0);
	g_assert_cmpuint(standin_calls(f.bus, "Connect"), ==, 8);
	control(&f, "ResetCalls", NULL);
	g_assert_cmpuint(standin_calls(f.bus, "Connect"), ==, 0);
	teardown(&f);
}

static void test_stale_cache(void)
{
	Fixture f;

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", NULL);
	call_ok(&f, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL);
	wait_signal(&f, "InterfacesAdded", STRAP_P, "org.bluez.Device1");
	control(&f, "SetStaleCache", g_variant_new("(sb)", STRAP, TRUE));
	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm = find_char(&f, STRAP_P, UUID("2a37"));
	g_assert_null(hrm);
	g_autofree char *sc = find_char(&f, STRAP_P, UUID("2a05"));
	g_assert_nonnull(sc);

	/* RemoveDevice clears it; discovery brings the device back. */
	mark(&f);
	call_ok(&f, HCI0, "org.bluez.Adapter1", "RemoveDevice",
		g_variant_new("(o)", STRAP_P));
	wait_signal(&f, "InterfacesRemoved", STRAP_P, "org.bluez.Device1");
	wait_signal(&f, "InterfacesAdded", STRAP_P, "org.bluez.Device1");
	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm2 = find_char(&f, STRAP_P, UUID("2a37"));
	g_assert_nonnull(hrm2);
	teardown(&f);
}

static void test_stream(void)
{
	Fixture f;
	static const guint8 hr[] = { 0x00, 0x40, 0x00 };

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm = find_char(&f, STRAP_P, UUID("2a37"));
	call_ok(&f, hrm, "org.bluez.GattCharacteristic1", "StartNotify", NULL);
	mark(&f);
	control(&f, "StartNotifyStreamSeq",
		g_variant_new("(ss@ayuuu)", STRAP, "2a37",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, hr,
							sizeof(hr), 1),
			      500, 100, 1));
	Event *e =
	    wait_signal(&f, "StreamFinished", "/org/recoveryd/StandIn", NULL);
	guint32 sent = 0;
	guint32 delivered = 0;
	guint32 dropped = 0;
	g_variant_get(e->params, "(&s&suuu)", NULL, NULL, &sent, &delivered,
		      &dropped);
	g_assert_cmpuint(sent, ==, 100);
	g_assert_cmpuint(delivered, ==, 100);
	g_assert_cmpuint(dropped, ==, 0);
	test_run_for(50);
	g_assert_cmpuint(count_signals(&f, "PropertiesChanged", hrm, "Value"),
			 ==, 100);
	/* The sequence number added to the u16 at offset 1 (0x0040, the
	 * heart rate's byte and the next), little-endian, in order. */
	guint expect = 0;
	for (guint i = f.mark; i < f.events->len; i++) {
		Event *v = f.events->pdata[i];
		if (!event_matches(v, "PropertiesChanged", hrm, "Value"))
			continue;
		g_autoptr(GVariant) val = changed_value(v, "Value");
		gsize n = 0;
		const guint8 *p = g_variant_get_fixed_array(val, &n, 1);
		g_assert_cmpuint(n, ==, 3);
		g_assert_cmpuint(p[1] | (p[2] << 8), ==, 0x40 + expect);
		expect++;
	}
	teardown(&f);
}

static void test_restart(void)
{
	Fixture f;
	g_autoptr(GError) error = NULL;
	int status = -1;

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate", known());
	connect_and_resolve(&f, STRAP_P);

	/* SIGKILL: the name just goes. */
	mark(&f);
	standin_kill(f.bus);
	g_assert_false(standin_running(f.bus));
	Event *e =
	    wait_signal(&f, "NameOwnerChanged", "/org/freedesktop/DBus", NULL);
	(void)e;
	g_autoptr(GVariant) r = call(
	    &f, HCI0, "org.freedesktop.DBus.Properties", "Get",
	    g_variant_new("(ss)", "org.bluez.Adapter1", "Powered"), &error);
	g_assert_null(r);
	g_assert_nonnull(error);
	g_clear_error(&error);

	/* A new one: the adapter again, no devices. */
	g_assert_true(standin_restart(f.bus, &error));
	g_assert_no_error(error);
	g_autoptr(GVariant) objs = managed(&f);
	g_autoptr(GVariant) hci0 = g_variant_lookup_value(objs, HCI0, NULL);
	g_autoptr(GVariant) dev = g_variant_lookup_value(objs, STRAP_P, NULL);
	g_assert_nonnull(hci0);
	g_assert_null(dev);

	/* SIGTERM: like bluetoothd, links drop and the adapter powers off
	 * before the name goes; and it exits cleanly (LSan in ASan builds). */
	add(&f, STRAP, "Strap", "heart-rate", known());
	connect_and_resolve(&f, STRAP_P);
	mark(&f);
	g_assert_true(standin_stop(f.bus, &status, &error));
	g_assert_no_error(error);
	g_assert_cmpint(status, ==, 0);
	wait_signal(&f, "PropertiesChanged", STRAP_P, "Connected");
	wait_signal(&f, "PropertiesChanged", HCI0, "Powered");
	g_assert_true(standin_start(f.bus, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(get_bool(&f, HCI0, "org.bluez.Adapter1", "Powered"));
	teardown(&f);

	/* Started unpowered, as a bluetoothd whose adapter is off. */
	const char *const off[] = { "--unpowered", "--adapter", "hci1", NULL };
	if (!setup(&f, off))
		return;
	g_assert_false(
	    get_bool(&f, "/org/bluez/hci1", "org.bluez.Adapter1", "Powered"));
	teardown(&f);
}

/* A device whose database BlueZ caches: objects and paths survive. */
static void test_gatt_cache(void)
{
	Fixture f;
	static const guint8 hr[] = { 0x00, 0x41 };

	if (!setup(&f, NULL))
		return;
	add(&f, STRAP, "Strap", "heart-rate",
	    g_variant_new_parsed("{'known': <true>, 'gatt-cache': <true>}"));
	connect_and_resolve(&f, STRAP_P);
	g_autofree char *hrm = find_char(&f, STRAP_P, UUID("2a37"));
	call_ok(&f, hrm, "org.bluez.GattCharacteristic1", "StartNotify", NULL);

	mark(&f);
	call_ok(&f, STRAP_P, "org.bluez.Device1", "Disconnect", NULL);
	wait_signal(&f, "PropertiesChanged", STRAP_P, "ServicesResolved");
	test_run_for(20);
	g_assert_null(find_signal(&f, "InterfacesRemoved", hrm, NULL));
	g_autofree char *still = find_char(&f, STRAP_P, UUID("2a37"));
	g_assert_cmpstr(still, ==, hrm);
	/* The session survives the link; MTU is gone with it. */
	g_assert_true(
	    get_bool(&f, hrm, "org.bluez.GattCharacteristic1", "Notifying"));
	notify_bytes(&f, STRAP, "2a37", hr, sizeof(hr), FALSE);

	connect_and_resolve(&f, STRAP_P);
	g_autofree char *again = find_char(&f, STRAP_P, UUID("2a37"));
	g_assert_cmpstr(again, ==, hrm);
	notify_bytes(&f, STRAP, "2a37", hr, sizeof(hr), TRUE);
	teardown(&f);
}

/* Temporary devices go some time after discovery stops; out of range
 * drops the link with a timeout. */
static void test_temporary(void)
{
	Fixture f;
	const char *const args[] = { "--temporary-timeout-ms", "100",
				     "--bluez-version", "5.83", NULL };

	if (!setup(&f, args))
		return;
	add(&f, STRAP, "Strap", "heart-rate", NULL);
	add(&f, SCALE, "Scale", "weight-scale",
	    g_variant_new_parsed("{'connect-timeout-ms': <uint32 50>}"));
	call_ok(&f, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL);
	wait_signal(&f, "InterfacesAdded", SCALE_P, "org.bluez.Device1");
	connect_and_resolve(&f, SCALE_P);
	mark(&f);
	call_ok(&f, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL);
	wait_signal(&f, "InterfacesRemoved", STRAP_P, "org.bluez.Device1");
	test_run_for(200);
	/* Connected once: no longer temporary. */
	g_assert_null(find_signal(&f, "InterfacesRemoved", SCALE_P, NULL));

	mark(&f);
	control(&f, "SetDeviceOption",
		g_variant_new("(ssv)", SCALE, "in-range",
			      g_variant_new_boolean(FALSE)));
	Event *e = wait_signal(&f, "Disconnected", SCALE_P, NULL);
	const char *reason = NULL;
	g_variant_get(e->params, "(&s&s)", &reason, NULL);
	g_assert_cmpstr(reason, ==, "org.bluez.Reason.Timeout");
	call_err(&f, SCALE_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.Failed");
	teardown(&f);
}

/* Newer BlueZ: InProgress for a second Connect, indications acquirable. */
static void test_newer_bluez(void)
{
	Fixture f;
	const char *const args[] = { "--bluez-version", "5.83", NULL };
	static const guint8 w[] = { 0x02, 0x10, 0x27 };
	guint8 buf[64];
	guint16 mtu = 0;
	Pending p;

	if (!setup(&f, args))
		return;
	add(&f, SCALE, "Scale", "weight-scale",
	    g_variant_new_parsed("{'known': <true>, 'mtu': <uint16 185>}"));
	connect_and_resolve(&f, SCALE_P);
	g_autofree char *wm = find_char(&f, SCALE_P, UUID("2a9d"));
	int fd = acquire(&f, wm, &mtu, NULL);
	g_assert_cmpuint(mtu, ==, 185);
	notify_bytes(&f, SCALE, "2a9d", w, sizeof(w), TRUE);
	gssize n = recv_one(fd, buf, sizeof(buf));
	assert_bytes(buf, n, w, sizeof(w));
	close(fd);

	call_ok(&f, SCALE_P, "org.bluez.Device1", "Disconnect", NULL);
	control(&f, "SetConnectBehaviour",
		g_variant_new("(ss)", SCALE, "hang"));
	start_connect(&f, SCALE_P, &p);
	test_run_for(50);
	call_err(&f, SCALE_P, "org.bluez.Device1", "Connect", NULL,
		 "org.bluez.Error.InProgress");
	control(&f, "DropConnection", g_variant_new("(ss)", SCALE, "remote"));
	finish_pending(&p, "org.bluez.Error.Failed");
	teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/standin/objects", test_objects);
	g_test_add_func("/standin/discovery", test_discovery);
	g_test_add_func("/standin/client-vanishes", test_client_vanishes);
	g_test_add_func("/standin/connect-gatt", test_connect_gatt);
	g_test_add_func("/standin/start-notify", test_start_notify);
	g_test_add_func("/standin/acquire-notify", test_acquire_notify);
	g_test_add_func("/standin/drop", test_drop);
	g_test_add_func("/standin/connect-fail", test_connect_fail);
	g_test_add_func("/standin/stale-cache", test_stale_cache);
	g_test_add_func("/standin/stream", test_stream);
	g_test_add_func("/standin/gatt-cache", test_gatt_cache);
	g_test_add_func("/standin/temporary", test_temporary);
	g_test_add_func("/standin/newer-bluez", test_newer_bluez);
	g_test_add_func("/standin/restart", test_restart);
	return g_test_run();
}
