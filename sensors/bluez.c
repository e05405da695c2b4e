// SPDX-License-Identifier: MIT
/*
 * The BLE client's BlueZ side: the org.bluez name watch, the object cache,
 * the adapter, discovery, and the dispatch of BlueZ's signals to device.c
 * and advertiser.c.
 *
 * NetworkManager's pattern (STYLE.md): watch org.bluez's owner; when it
 * appears, subscribe to InterfacesAdded/Removed and PropertiesChanged from
 * that owner, then GetManagedObjects; drop signals until it answers (its
 * reply already holds everything they said); when the owner goes, drop the
 * whole cache and every device's session, and rebuild when it comes back.
 */
#define G_LOG_DOMAIN "recoveryd-ble"

#include "sensors/ble.h"

#include "gateway/common/owner-log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "sensors/ble-private.h"

#define GMO_RETRY_MS	   2000
#define DISC_RETRY_MS	   5000
#define CALL_TIMEOUT_MS	   10000
#define MALFORMED_QUIET_MS 60000

GQuark ble_error_quark(void)
{
	return g_quark_from_static_string("recoveryd-ble-error-quark");
}

/*
 * Discovery filters. BlueZ 5.66 matches a filter's UUIDs against the
 * advertised service UUIDs only (is_filter_match() in src/adapter.c), never
 * against ServiceData keys: a BTHome sensor (service data 0xFCD2, no UUID
 * list) or a Mi scale (service data 0x181D/0x181B) would be hidden by any
 * UUID list. So the UUID list is used only while every allowlisted device is
 * connectable (straps and standard scales advertise 0x180D / 0x181D /
 * 0x181B); as soon as an advertiser is allowlisted, or while scanning, the
 * filter has no UUIDs and asks for DuplicateData, so that every
 * advertisement, even with unchanged bytes, reaches us.
 */
enum disc_filter {
	FILTER_CONNECTABLE, /* UUIDs of the connectable profiles */
	FILTER_ADVERTISERS, /* no UUIDs, DuplicateData */
};

static const char *const connectable_uuids[] = {
	"0000180d-0000-1000-8000-00805f9b34fb", /* Heart Rate */
	"0000181d-0000-1000-8000-00805f9b34fb", /* Weight Scale */
	"0000181b-0000-1000-8000-00805f9b34fb", /* Body Composition */
	NULL,
};

/* --- Small helpers ------------------------------------------------------ */

const char *ble_link_state_name(enum ble_link_state state)
{
	switch (state) {
	case BLE_LINK_ABSENT:
		return "absent";
	case BLE_LINK_SEEN:
		return "seen";
	case BLE_LINK_CONNECTING:
		return "connecting";
	case BLE_LINK_RESOLVING:
		return "resolving";
	case BLE_LINK_SUBSCRIBED:
		return "subscribed";
	case BLE_LINK_LOST:
		return "lost";
	case BLE_LINK_BACKOFF:
		return "backoff";
	case BLE_LINK_WAITING:
		return "waiting";
	default:
		return "unknown";
	}
}

int64_t bluez_wall_ms(ble_client *c)
{
	if (c->now_ms != NULL)
		return c->now_ms(c->now_data);
	return g_get_real_time() / 1000;
}

int64_t bluez_window_ms(ble_client *c)
{
	if (c->now_ms != NULL)
		return c->now_ms(c->now_data);
	return g_get_monotonic_time() / 1000;
}

/* "aa:bb:cc:dd:ee:ff" -> "AA:BB:CC:DD:EE:FF" in @out; FALSE if it is not a
 * Bluetooth address. */
static gboolean address_normalise(const char *in, char out[18])
{
	if (in == NULL || strlen(in) != 17)
		return FALSE;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? in[i] != ':' : !g_ascii_isxdigit(in[i]))
			return FALSE;
		out[i] = g_ascii_toupper(in[i]);
	}
	out[17] = '\0';
	return TRUE;
}

char *bluez_dbus_error_name(const GError *error)
{
	if (error == NULL)
		return NULL;
	return g_dbus_error_get_remote_error(error);
}

GError *bluez_error_from_dbus(const GError *error, enum ble_error code)
{
	g_autoptr(GError) copy = g_error_copy(error);
	g_autofree char *name = bluez_dbus_error_name(error);

	g_dbus_error_strip_remote_error(copy);
	if (name != NULL)
		return g_error_new(BLE_ERROR, code, "%s: %s", name,
				   copy->message);
	return g_error_new_literal(BLE_ERROR, code, copy->message);
}

static gboolean is_permission_error(const GError *error)
{
	g_autofree char *name = bluez_dbus_error_name(error);

	return g_error_matches(error, G_DBUS_ERROR,
			       G_DBUS_ERROR_ACCESS_DENIED) ||
	       g_error_matches(error, G_IO_ERROR,
			       G_IO_ERROR_PERMISSION_DENIED) ||
	       g_strcmp0(name, "org.bluez.Error.NotAuthorized") == 0;
}

static void set_permission_problem(ble_client *c, const GError *error)
{
	g_clear_error(&c->problem);
	c->problem = g_error_new(
	    BLE_ERROR, BLE_ERROR_PERMISSION_DENIED,
	    "permission denied talking to org.bluez: run as root or add the "
	    "user to the bluetooth group");
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING, "%s (%s)",
		  c->problem->message, error->message);
}

/* --- Calls: one GCancellable each --------------------------------------- */

struct call {
	ble_client *c;
	struct ble_dev *d; /* NULL: a call of the client's own */
	GCancellable *cancel;
	bool with_fds;
	bluez_call_done done;
	intptr_t tag;
};

static void call_finished(GObject *source, GAsyncResult *res, gpointer data)
{
	struct call *call = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) reply = NULL;
	GDBusConnection *bus = G_DBUS_CONNECTION(source);

	if (call->with_fds)
		reply = g_dbus_connection_call_with_unix_fd_list_finish(
		    bus, &fds, res, &error);
	else
		reply = g_dbus_connection_call_finish(bus, res, &error);
	/* Cancelled: its owner (a session, the client) may be gone. */
	if (!g_cancellable_is_cancelled(call->cancel)) {
		if (call->d != NULL)
			device_call_finished(call->d, call->cancel);
		else
			g_ptr_array_remove_fast(call->c->calls, call->cancel);
		call->done(call->c, call->d, reply, fds, error, call->tag);
	}
	g_object_unref(call->cancel);
	g_free(call);
}

void bluez_call(ble_client *c, struct ble_dev *d, const char *path,
		const char *iface, const char *method, GVariant *params,
		const GVariantType *reply_type, int timeout_ms, bool with_fds,
		bluez_call_done done, intptr_t tag)
{
	struct call *call = g_new0(struct call, 1);

	call->c = c;
	call->d = d;
	call->cancel = g_cancellable_new();
	call->with_fds = with_fds;
	call->done = done;
	call->tag = tag;
	if (d != NULL)
		device_call_started(d, call->cancel);
	else
		g_ptr_array_add(c->calls, g_object_ref(call->cancel));
	/* To the owner we subscribed to, so a reply and the signals come
	 * from the same bluetoothd. */
	if (with_fds)
		g_dbus_connection_call_with_unix_fd_list(
		    c->bus, c->owner, path, iface, method, params, reply_type,
		    G_DBUS_CALL_FLAGS_NONE, timeout_ms, NULL, call->cancel,
		    call_finished, call);
	else
		g_dbus_connection_call(c->bus, c->owner, path, iface, method,
				       params, reply_type,
				       G_DBUS_CALL_FLAGS_NONE, timeout_ms,
				       call->cancel, call_finished, call);
}

void bluez_cancel_calls(GPtrArray *calls)
{
	for (guint i = 0; i < calls->len; i++)
		g_cancellable_cancel(calls->pdata[i]);
	g_ptr_array_set_size(calls, 0);
}

/* --- The object cache --------------------------------------------------- */

static GHashTable *table_new(GDestroyNotify value_free)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     value_free);
}

GVariant *bluez_prop(ble_client *c, const char *path, const char *iface,
		     const char *name, const GVariantType *type)
{
	GHashTable *ifaces = g_hash_table_lookup(c->objects, path);
	GHashTable *props = ifaces ? g_hash_table_lookup(ifaces, iface) : NULL;
	GVariant *v = props ? g_hash_table_lookup(props, name) : NULL;

	if (v == NULL || !g_variant_is_of_type(v, type))
		return NULL;
	return v;
}

bool bluez_prop_bool(ble_client *c, const char *path, const char *iface,
		     const char *name)
{
	GVariant *v = bluez_prop(c, path, iface, name, G_VARIANT_TYPE_BOOLEAN);

	return v != NULL && g_variant_get_boolean(v);
}

bool bluez_has_iface(ble_client *c, const char *path, const char *iface)
{
	GHashTable *ifaces = g_hash_table_lookup(c->objects, path);

	return ifaces != NULL && g_hash_table_contains(ifaces, iface);
}

/* Merges @dict (a{sv}, checked by the caller) into @props. */
static void props_merge(GHashTable *props, GVariant *dict)
{
	GVariantIter it;
	const char *name;
	GVariant *v;

	g_variant_iter_init(&it, dict);
	while (g_variant_iter_next(&it, "{&sv}", &name, &v)) {
		/* Value is an event (a notification or a read), not state:
		 * it is handled as it comes and never kept. */
		if (strcmp(name, "Value") == 0) {
			g_variant_unref(v);
			continue;
		}
		g_hash_table_replace(props, g_strdup(name), v);
	}
}

/* @ifaces is a{sa{sv}} (checked by the caller). Only org.bluez.* is kept:
 * the Introspectable and Properties entries carry nothing. */
static void cache_add(ble_client *c, const char *path, GVariant *ifaces)
{
	GVariantIter it;
	const char *iface;
	GVariant *dict;

	g_variant_iter_init(&it, ifaces);
	while (g_variant_iter_next(&it, "{&s@a{sv}}", &iface, &dict)) {
		g_autoptr(GVariant) owned = dict;
		if (!g_str_has_prefix(iface, "org.bluez."))
			continue;
		GHashTable *obj = g_hash_table_lookup(c->objects, path);
		if (obj == NULL) {
			obj = table_new((GDestroyNotify)g_hash_table_unref);
			g_hash_table_insert(c->objects, g_strdup(path), obj);
		}
		GHashTable *props = g_hash_table_lookup(obj, iface);
		if (props == NULL) {
			props = table_new((GDestroyNotify)g_variant_unref);
			g_hash_table_insert(obj, g_strdup(iface), props);
		}
		props_merge(props, owned);
	}
}

static void cache_remove(ble_client *c, const char *path,
			 const char *const *ifaces)
{
	GHashTable *obj = g_hash_table_lookup(c->objects, path);

	if (obj == NULL)
		return;
	for (gsize i = 0; ifaces[i] != NULL; i++)
		g_hash_table_remove(obj, ifaces[i]);
	if (g_hash_table_size(obj) == 0)
		g_hash_table_remove(c->objects, path);
}

bool bluez_uuid16(const char *s, uint16_t *ret)
{
	static const char tail[] = "-0000-1000-8000-00805f9b34fb";

	if (strlen(s) != 36 || strncmp(s, "0000", 4) != 0 ||
	    g_ascii_strcasecmp(s + 8, tail) != 0)
		return false;
	for (int i = 4; i < 8; i++) {
		if (!g_ascii_isxdigit(s[i]))
			return false;
	}
	*ret = (uint16_t)((g_ascii_xdigit_value(s[4]) << 12) |
			  (g_ascii_xdigit_value(s[5]) << 8) |
			  (g_ascii_xdigit_value(s[6]) << 4) |
			  g_ascii_xdigit_value(s[7]));
	return true;
}

const char *bluez_find_char16(ble_client *c, const char *dev_path,
			      uint16_t uuid)
{
	GHashTableIter it;
	gpointer key;
	const char *best = NULL;
	gsize n = strlen(dev_path);

	g_hash_table_iter_init(&it, c->objects);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const char *path = key;
		uint16_t u;

		if (strncmp(path, dev_path, n) != 0 || path[n] != '/')
			continue;
		GVariant *v = bluez_prop(c, path, BLUEZ_GATT_CHAR, "UUID",
					 G_VARIANT_TYPE_STRING);
		if (v == NULL ||
		    !bluez_uuid16(g_variant_get_string(v, NULL), &u) ||
		    u != uuid)
			continue;
		/* Deterministic when a database has it twice: the first. */
		if (best == NULL || strcmp(path, best) < 0)
			best = path;
	}
	return best;
}

const char *bluez_find_char(ble_client *c, const char *dev_path,
			    enum decode_uuid uuid)
{
	/* DECODE_SCALE_WEIGHING is no characteristic. */
	if ((unsigned)uuid > UINT16_MAX)
		return NULL;
	return bluez_find_char16(c, dev_path, (uint16_t)uuid);
}

/* --- Devices: who is who ------------------------------------------------ */

struct ble_dev *bluez_find_dev(ble_client *c, const char *address)
{
	for (guint i = 0; i < c->devices->len; i++) {
		struct ble_dev *d = c->devices->pdata[i];
		if (g_ascii_strcasecmp(d->address, address) == 0)
			return d;
	}
	return NULL;
}

static struct ble_dev *dev_by_path(ble_client *c, const char *path)
{
	for (guint i = 0; i < c->devices->len; i++) {
		struct ble_dev *d = c->devices->pdata[i];
		if (d->path != NULL && strcmp(d->path, path) == 0)
			return d;
	}
	return NULL;
}

static bool on_our_adapter(ble_client *c, const char *path)
{
	GVariant *a;

	if (c->adapter_path == NULL)
		return false;
	a = bluez_prop(c, path, BLUEZ_DEVICE, "Adapter",
		       G_VARIANT_TYPE_OBJECT_PATH);
	if (a != NULL)
		return strcmp(g_variant_get_string(a, NULL), c->adapter_path) ==
		       0;
	return g_str_has_prefix(path, c->adapter_path) &&
	       path[strlen(c->adapter_path)] == '/';
}

static const char *device1_address(ble_client *c, const char *path)
{
	GVariant *a =
	    bluez_prop(c, path, BLUEZ_DEVICE, "Address", G_VARIANT_TYPE_STRING);

	return a != NULL ? g_variant_get_string(a, NULL) : NULL;
}

/* The Device1 object of @address on our adapter, or NULL. */
static const char *find_device_path(ble_client *c, const char *address)
{
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, c->objects);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const char *a = device1_address(c, key);
		if (a != NULL && g_ascii_strcasecmp(a, address) == 0 &&
		    on_our_adapter(c, key))
			return key;
	}
	return NULL;
}

/* A Device1 object on our adapter appeared (or was found). */
static void device1_added(ble_client *c, const char *path)
{
	const char *address;
	struct ble_dev *d;

	if (!on_our_adapter(c, path))
		return;
	address = device1_address(c, path);
	if (address == NULL)
		return;
	d = bluez_find_dev(c, address);
	if (d != NULL)
		device_appeared(d, path);
	advertiser_update(c, path, true, true);
}

static void bind_devices(ble_client *c)
{
	GHashTableIter it;
	gpointer key;
	g_autoptr(GPtrArray) paths = g_ptr_array_new();

	/* device1_added() calls out; collect first, the cache may change. */
	g_hash_table_iter_init(&it, c->objects);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		if (bluez_has_iface(c, key, BLUEZ_DEVICE))
			g_ptr_array_add(paths, g_strdup(key));
	}
	g_ptr_array_set_free_func(paths, g_free);
	for (guint i = 0; i < paths->len; i++) {
		if (bluez_has_iface(c, paths->pdata[i], BLUEZ_DEVICE))
			device1_added(c, paths->pdata[i]);
	}
	for (guint i = 0; i < c->devices->len; i++) {
		struct ble_dev *d = c->devices->pdata[i];
		if (d->path == NULL)
			device_vanished(d);
	}
}

/* --- Adapter ------------------------------------------------------------ */

bool bluez_adapter_ready(ble_client *c)
{
	return c->ready && c->adapter_path != NULL && c->powered;
}

static void power_done(ble_client *c, struct ble_dev *d, GVariant *reply,
		       GUnixFDList *fds, const GError *error, intptr_t tag)
{
	if (error == NULL)
		return;
	if (is_permission_error(error)) {
		set_permission_problem(c, error);
		return;
	}
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
		  "cannot power adapter %s on (%s): is it blocked? "
		  "(rfkill unblock bluetooth)",
		  c->adapter_path, error->message);
}

static void power_on(ble_client *c)
{
	c->power_tried = true;
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_INFO,
		  "powering adapter %s on", c->adapter_path);
	bluez_call(c, NULL, c->adapter_path, DBUS_PROPERTIES, "Set",
		   g_variant_new("(ssv)", BLUEZ_ADAPTER, "Powered",
				 g_variant_new_boolean(TRUE)),
		   G_VARIANT_TYPE_UNIT, CALL_TIMEOUT_MS, false, power_done, 0);
}

static void reset_discovery(ble_client *c)
{
	c->disc_on = false;
	c->disc_busy = false;
	c->disc_filter = -1;
	g_clear_handle_id(&c->disc_retry, g_source_remove);
}

static void use_adapter(ble_client *c, const char *path)
{
	if (c->adapter_path != NULL) {
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "adapter %s went away", c->adapter_path);
		for (guint i = 0; i < c->devices->len; i++)
			device_bluez_gone(c->devices->pdata[i],
					  "the adapter went away");
		/* Its discovery and power calls are moot. */
		bluez_cancel_calls(c->calls);
		reset_discovery(c);
	}
	g_free(c->adapter_path);
	c->adapter_path = g_strdup(path);
	c->power_tried = false;
	c->powered = false;
	if (path == NULL) {
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "no Bluetooth adapter%s%s: waiting for one",
			  c->adapter_name ? " " : "",
			  c->adapter_name ? c->adapter_name : "");
		return;
	}
	c->powered = bluez_prop_bool(c, path, BLUEZ_ADAPTER, "Powered");
	GVariant *addr = bluez_prop(c, path, BLUEZ_ADAPTER, "Address",
				    G_VARIANT_TYPE_STRING);
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_INFO,
		  "using adapter %s (%s)%s", path,
		  addr ? g_variant_get_string(addr, NULL) : "?",
		  c->powered ? "" : ", powered off");
	if (!c->powered && c->power_on)
		power_on(c);
	bind_devices(c);
	bluez_update_discovery(c);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Chooses the adapter: the configured one, else the current one while it is
 * powered or nothing else is, else the first powered one, else the first.
 */
static void select_adapter(ble_client *c)
{
	const char *pick = NULL;

	if (!c->ready)
		return;
	if (c->adapter_name != NULL) {
		g_autofree char *want =
		    g_strdup_printf("/org/bluez/%s", c->adapter_name);
		if (bluez_has_iface(c, want, BLUEZ_ADAPTER)) {
			if (g_strcmp0(want, c->adapter_path) != 0)
				use_adapter(c, want);
			return;
		}
	} else {
		g_autoptr(GPtrArray) all = g_ptr_array_new();
		GHashTableIter it;
		gpointer key;

		g_hash_table_iter_init(&it, c->objects);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			if (bluez_has_iface(c, key, BLUEZ_ADAPTER))
				g_ptr_array_add(all, key);
		}
		g_ptr_array_sort(all, cmp_str);
		bool current =
		    c->adapter_path != NULL &&
		    bluez_has_iface(c, c->adapter_path, BLUEZ_ADAPTER);
		if (current && c->powered)
			return;
		for (guint i = 0; i < all->len && pick == NULL; i++) {
			if (bluez_prop_bool(c, all->pdata[i], BLUEZ_ADAPTER,
					    "Powered"))
				pick = all->pdata[i];
		}
		if (pick == NULL && current)
			return;
		if (pick == NULL && all->len > 0)
			pick = all->pdata[0];
	}
	if (g_strcmp0(pick, c->adapter_path) == 0)
		return;
	g_autofree char *copy = g_strdup(pick);
	use_adapter(c, copy);
}

static void adapter_props_changed(ble_client *c, GVariant *changed)
{
	gboolean on = FALSE;
	gboolean discovering = TRUE;

	if (g_variant_lookup(changed, "Powered", "b", &on) &&
	    (bool)on != c->powered) {
		c->powered = on;
		owner_log(c->ops.log, c->data,
			  on ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING,
			  "adapter %s powered %s", c->adapter_path,
			  on ? "on" : "off");
		/* A powered-off adapter ends every discovery session. */
		if (!on)
			reset_discovery(c);
		for (guint i = 0; i < c->devices->len; i++)
			device_powered(c->devices->pdata[i], on);
	}
	if (g_variant_lookup(changed, "Discovering", "b", &discovering) &&
	    !discovering && c->disc_on && !c->disc_busy) {
		/* Our session is gone (bluetoothd would otherwise keep it
		 * discovering): start again if still wanted. */
		c->disc_on = false;
		c->disc_filter = -1;
	}
	bluez_update_discovery(c);
}

/* --- Discovery ---------------------------------------------------------- */

static bool has_advertiser(ble_client *c)
{
	for (guint i = 0; i < c->devices->len; i++) {
		struct ble_dev *d = c->devices->pdata[i];

		/* A vendor scale is found by its name, not by a UUID. */
		if (!device_is_connectable(d) || device_vendor_session(d, NULL))
			return true;
	}
	return false;
}

/*
 * Discovery runs while scanning, while an advertiser is allowlisted (we only
 * hear it while discovering), or while a connectable device is not
 * subscribed (so that it is found, and not dropped as a temporary device);
 * otherwise it is off, which spares the radio.
 */
static bool discovery_wanted(ble_client *c)
{
	if (c->scanning)
		return true;
	for (guint i = 0; i < c->devices->len; i++) {
		struct ble_dev *d = c->devices->pdata[i];
		if (!device_is_connectable(d) ||
		    d->link.state != BLE_LINK_SUBSCRIBED)
			return true;
	}
	return false;
}

static GVariant *filter_params(enum disc_filter f)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "Transport",
			      g_variant_new_string("le"));
	switch (f) {
	case FILTER_CONNECTABLE:
		g_variant_builder_add(
		    &b, "{sv}", "UUIDs",
		    g_variant_new_strv(connectable_uuids, -1));
		break;
	case FILTER_ADVERTISERS:
		g_variant_builder_add(&b, "{sv}", "DuplicateData",
				      g_variant_new_boolean(TRUE));
		break;
	default:
		break;
	}
	return g_variant_new("(@a{sv})", g_variant_builder_end(&b));
}

static gboolean disc_retry_due(gpointer data)
{
	ble_client *c = data;

	c->disc_retry = 0;
	bluez_update_discovery(c);
	return G_SOURCE_REMOVE;
}

/* A discovery call failed: log, and try again later unless it is the
 * adapter's power (then Powered=true brings us back). */
static void disc_failed(ble_client *c, const char *what, const GError *error)
{
	g_autofree char *name = bluez_dbus_error_name(error);

	c->disc_busy = false;
	if (is_permission_error(error)) {
		set_permission_problem(c, error);
		return;
	}
	if (g_strcmp0(name, "org.bluez.Error.NotReady") == 0)
		return;
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
		  "%s on %s failed: %s", what, c->adapter_path, error->message);
	if (c->disc_retry == 0)
		c->disc_retry = g_timeout_add(DISC_RETRY_MS, disc_retry_due, c);
}

static void start_done(ble_client *c, struct ble_dev *d, GVariant *reply,
		       GUnixFDList *fds, const GError *error, intptr_t tag)
{
	g_autofree char *name = bluez_dbus_error_name(error);

	/* InProgress: our session already runs. */
	if (error != NULL &&
	    g_strcmp0(name, "org.bluez.Error.InProgress") != 0) {
		disc_failed(c, "StartDiscovery", error);
		return;
	}
	c->disc_busy = false;
	c->disc_on = true;
	bluez_update_discovery(c);
}

static void filter_done(ble_client *c, struct ble_dev *d, GVariant *reply,
			GUnixFDList *fds, const GError *error, intptr_t tag)
{
	if (error != NULL) {
		disc_failed(c, "SetDiscoveryFilter", error);
		return;
	}
	c->disc_filter = (int)tag;
	if (c->disc_on) {
		c->disc_busy = false;
		bluez_update_discovery(c);
		return;
	}
	bluez_call(c, NULL, c->adapter_path, BLUEZ_ADAPTER, "StartDiscovery",
		   NULL, G_VARIANT_TYPE_UNIT, CALL_TIMEOUT_MS, false,
		   start_done, 0);
}

static void stop_done(ble_client *c, struct ble_dev *d, GVariant *reply,
		      GUnixFDList *fds, const GError *error, intptr_t tag)
{
	/* An error means there was no session: off either way. */
	c->disc_busy = false;
	c->disc_on = false;
	c->disc_filter = -1;
	bluez_update_discovery(c);
}

void bluez_update_discovery(ble_client *c)
{
	if (!bluez_adapter_ready(c) || c->disc_busy || c->disc_retry != 0)
		return;
	bool want = discovery_wanted(c);
	enum disc_filter filter = c->scanning || has_advertiser(c)
				      ? FILTER_ADVERTISERS
				      : FILTER_CONNECTABLE;

	if (want && (!c->disc_on || c->disc_filter != (int)filter)) {
		/* BlueZ drops a session's filter with the session, so the
		 * filter is set before every StartDiscovery. */
		c->disc_busy = true;
		bluez_call(c, NULL, c->adapter_path, BLUEZ_ADAPTER,
			   "SetDiscoveryFilter", filter_params(filter),
			   G_VARIANT_TYPE_UNIT, CALL_TIMEOUT_MS, false,
			   filter_done, filter);
	} else if (!want && c->disc_on) {
		c->disc_busy = true;
		bluez_call(c, NULL, c->adapter_path, BLUEZ_ADAPTER,
			   "StopDiscovery", NULL, G_VARIANT_TYPE_UNIT,
			   CALL_TIMEOUT_MS, false, stop_done, 0);
	}
}

/* --- Signals ------------------------------------------------------------ */

static void interfaces_added(ble_client *c, GVariant *params)
{
	const char *path;
	g_autoptr(GVariant) ifaces = NULL;
	GVariantIter it;
	const char *iface;
	bool adapter = false;
	bool device = false;

	g_variant_get(params, "(&o@a{sa{sv}})", &path, &ifaces);
	cache_add(c, path, ifaces);
	g_variant_iter_init(&it, ifaces);
	while (g_variant_iter_next(&it, "{&s@a{sv}}", &iface, NULL)) {
		adapter = adapter || strcmp(iface, BLUEZ_ADAPTER) == 0;
		device = device || strcmp(iface, BLUEZ_DEVICE) == 0;
	}
	if (adapter)
		select_adapter(c);
	if (device)
		device1_added(c, path);
}

static void interfaces_removed(ble_client *c, GVariant *params)
{
	const char *path;
	g_autofree const char **ifaces = NULL;

	g_variant_get(params, "(&o^a&s)", &path, &ifaces);
	bool adapter = g_strv_contains(ifaces, BLUEZ_ADAPTER);
	bool device = g_strv_contains(ifaces, BLUEZ_DEVICE);
	g_autofree char *copy = g_strdup(path);

	cache_remove(c, path, ifaces);
	if (g_strv_contains(ifaces, BLUEZ_GATT_CHAR)) {
		for (guint i = 0; i < c->devices->len; i++)
			device_object_removed(c->devices->pdata[i], copy);
	}
	if (device) {
		struct ble_dev *d = dev_by_path(c, copy);
		if (d != NULL)
			device_vanished(d);
	}
	if (adapter && g_strcmp0(copy, c->adapter_path) == 0) {
		use_adapter(c, NULL);
		select_adapter(c);
	}
}

static bool has_key(GVariant *dict, const char *key)
{
	g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, NULL);

	return v != NULL;
}

static void properties_changed(ble_client *c, const char *path,
			       GVariant *params)
{
	const char *iface;
	g_autoptr(GVariant) changed = NULL;
	g_autofree const char **invalidated = NULL;
	GHashTable *obj;
	GHashTable *props;

	g_variant_get(params, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);

	if (strcmp(iface, BLUEZ_GATT_CHAR) == 0) {
		g_autoptr(GVariant) value = g_variant_lookup_value(
		    changed, "Value", G_VARIANT_TYPE_BYTESTRING);
		for (guint i = 0; value != NULL && i < c->devices->len; i++) {
			if (device_value_changed(c->devices->pdata[i], path,
						 value))
				break;
		}
	}

	obj = g_hash_table_lookup(c->objects, path);
	props = obj ? g_hash_table_lookup(obj, iface) : NULL;
	if (props == NULL)
		return; /* not an object we know of */
	props_merge(props, changed);
	for (gsize i = 0; invalidated[i] != NULL; i++)
		g_hash_table_remove(props, invalidated[i]);

	if (strcmp(iface, BLUEZ_ADAPTER) == 0) {
		if (g_strcmp0(path, c->adapter_path) == 0)
			adapter_props_changed(c, changed);
		else
			select_adapter(c);
		return;
	}
	if (strcmp(iface, BLUEZ_DEVICE) != 0 || !on_our_adapter(c, path))
		return;
	struct ble_dev *d = dev_by_path(c, path);
	if (d != NULL)
		device_props_changed(d, changed, invalidated);
	/* New bytes: a measurement may be in them. */
	bool data = has_key(changed, "ServiceData") ||
		    has_key(changed, "ManufacturerData");
	if (data || has_key(changed, "RSSI") || has_key(changed, "Name") ||
	    has_key(changed, "UUIDs"))
		advertiser_update(c, path, false, data);
}

static void on_signal(GDBusConnection *bus, const char *sender,
		      const char *path, const char *iface, const char *member,
		      GVariant *params, gpointer data)
{
	ble_client *c = data;

	/* Until GetManagedObjects answers, its reply holds what these say. */
	if (!c->ready || g_strcmp0(sender, c->owner) != 0)
		return;
	if (strcmp(member, "InterfacesAdded") == 0 &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(oa{sa{sv}})"))) {
		interfaces_added(c, params);
	} else if (strcmp(member, "InterfacesRemoved") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(oas)"))) {
		interfaces_removed(c, params);
	} else if (strcmp(member, "PropertiesChanged") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)"))) {
		properties_changed(c, path, params);
	} else if (strcmp(member, "Disconnected") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ss)"))) {
		const char *reason;
		const char *message;
		struct ble_dev *d = dev_by_path(c, path);
		g_variant_get(params, "(&s&s)", &reason, &message);
		if (d != NULL)
			device_disconnected(d, reason, message);
	}
}

/* --- The name watch ----------------------------------------------------- */

static gboolean gmo_retry_due(gpointer data);

static void gmo_done(ble_client *c, struct ble_dev *d, GVariant *reply,
		     GUnixFDList *fds, const GError *error, intptr_t tag)
{
	g_autoptr(GVariant) objects = NULL;
	GVariantIter it;
	const char *path;
	GVariant *ifaces;

	if (error != NULL) {
		if (is_permission_error(error)) {
			set_permission_problem(c, error);
		} else {
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
				  "GetManagedObjects from bluetoothd failed: "
				  "%s; retrying",
				  error->message);
		}
		g_clear_handle_id(&c->gmo_retry, g_source_remove);
		c->gmo_retry = g_timeout_add(GMO_RETRY_MS, gmo_retry_due, c);
		return;
	}
	g_clear_error(&c->problem);
	objects = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&it, objects);
	while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
		cache_add(c, path, ifaces);
		g_variant_unref(ifaces);
	}
	c->ready = true;
	select_adapter(c);
	if (c->adapter_path == NULL)
		use_adapter(c, NULL);
}

static void get_managed_objects(ble_client *c)
{
	bluez_call(c, NULL, "/", DBUS_OBJECTMANAGER, "GetManagedObjects", NULL,
		   G_VARIANT_TYPE("(a{oa{sa{sv}}})"), -1, false, gmo_done, 0);
}

static gboolean gmo_retry_due(gpointer data)
{
	ble_client *c = data;

	c->gmo_retry = 0;
	if (c->owner != NULL && !c->ready)
		get_managed_objects(c);
	return G_SOURCE_REMOVE;
}

static void unsubscribe(ble_client *c)
{
	guint *ids[] = { &c->sub_added, &c->sub_removed, &c->sub_props,
			 &c->sub_disconnected };

	for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
		if (*ids[i] != 0)
			g_dbus_connection_signal_unsubscribe(c->bus, *ids[i]);
		*ids[i] = 0;
	}
}

/* bluetoothd left (or changed): nothing of what it said holds. */
static void bluetoothd_gone(ble_client *c, const char *why)
{
	unsubscribe(c);
	bluez_cancel_calls(c->calls);
	reset_discovery(c);
	g_clear_handle_id(&c->gmo_retry, g_source_remove);
	c->ready = false;
	g_hash_table_remove_all(c->objects);
	g_clear_pointer(&c->adapter_path, g_free);
	c->powered = false;
	c->power_tried = false;
	for (guint i = 0; i < c->devices->len; i++)
		device_bluez_gone(c->devices->pdata[i], why);
	g_clear_pointer(&c->owner, g_free);
}

static void on_name_appeared(GDBusConnection *bus, const char *name,
			     const char *owner, gpointer data)
{
	ble_client *c = data;

	c->name_known = true;
	if (g_strcmp0(owner, c->owner) == 0)
		return;
	if (c->owner != NULL)
		bluetoothd_gone(c, "bluetoothd was replaced");
	c->owner = g_strdup(owner);
	c->stats.bluez_appeared++;
	g_clear_error(&c->problem);
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_INFO,
		  "bluetoothd is on the bus as %s", owner);

	/* Subscribed before GetManagedObjects, so nothing falls between. */
	c->sub_added = g_dbus_connection_signal_subscribe(
	    bus, owner, DBUS_OBJECTMANAGER, "InterfacesAdded", "/", NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, on_signal, c, NULL);
	c->sub_removed = g_dbus_connection_signal_subscribe(
	    bus, owner, DBUS_OBJECTMANAGER, "InterfacesRemoved", "/", NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, on_signal, c, NULL);
	c->sub_props = g_dbus_connection_signal_subscribe(
	    bus, owner, DBUS_PROPERTIES, "PropertiesChanged", NULL, "org.bluez",
	    G_DBUS_SIGNAL_FLAGS_MATCH_ARG0_NAMESPACE, on_signal, c, NULL);
	c->sub_disconnected = g_dbus_connection_signal_subscribe(
	    bus, owner, BLUEZ_DEVICE, "Disconnected", NULL, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, on_signal, c, NULL);
	get_managed_objects(c);
}

static void on_name_vanished(GDBusConnection *bus, const char *name,
			     gpointer data)
{
	ble_client *c = data;

	c->name_known = true;
	if (c->owner != NULL) {
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "bluetoothd left the bus: waiting for it to return");
		bluetoothd_gone(c, "bluetoothd left the bus");
	} else {
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "bluetoothd is not running on the system bus: "
			  "waiting for it");
		for (guint i = 0; i < c->devices->len; i++)
			device_bluez_gone(c->devices->pdata[i],
					  "bluetoothd is not running");
	}
}

/* --- Public API --------------------------------------------------------- */

ble_client *ble_client_new(GDBusConnection *bus,
			   const struct ble_client_config *cfg,
			   const struct ble_ops *ops, void *data,
			   GError **error)
{
	g_autoptr(GDBusConnection) conn = NULL;
	ble_client *c;

	if (bus != NULL) {
		conn = g_object_ref(bus);
	} else {
		g_autoptr(GError) e = NULL;
		conn = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &e);
		if (conn == NULL) {
			if (is_permission_error(e))
				g_set_error(
				    error, BLE_ERROR,
				    BLE_ERROR_PERMISSION_DENIED,
				    "permission denied on the system bus (%s): "
				    "run as root or add the user to the "
				    "bluetooth group",
				    e->message);
			else
				g_set_error(error, BLE_ERROR,
					    BLE_ERROR_NO_SYSTEM_BUS,
					    "cannot reach the system bus (%s): "
					    "is dbus running? (systemctl "
					    "status dbus)",
					    e->message);
			return NULL;
		}
	}

	c = g_new0(ble_client, 1);
	c->bus = g_steal_pointer(&conn);
	if (cfg != NULL) {
		c->adapter_name = g_strdup(cfg->adapter);
		c->power_on = cfg->power_on;
		c->now_ms = cfg->now_ms;
		c->now_data = cfg->now_data;
	}
	if (ops != NULL)
		c->ops = *ops;
	c->data = data;
	c->objects = table_new((GDestroyNotify)g_hash_table_unref);
	c->calls = g_ptr_array_new_with_free_func(g_object_unref);
	c->devices = g_ptr_array_new();
	c->disc_filter = -1;
	c->rand = g_rand_new();
	c->watch = g_bus_watch_name_on_connection(
	    c->bus, BLUEZ_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared,
	    on_name_vanished, c, NULL);
	return c;
}

/* Ends @d for good; a link of ours is closed (fire and forget). */
static void dev_release(ble_client *c, struct ble_dev *d)
{
	if (c->owner != NULL && d->path != NULL &&
	    (d->link.state == BLE_LINK_CONNECTING ||
	     d->link.state == BLE_LINK_RESOLVING ||
	     d->link.state == BLE_LINK_SUBSCRIBED))
		g_dbus_connection_call(
		    c->bus, c->owner, d->path, BLUEZ_DEVICE, "Disconnect", NULL,
		    NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
	device_free(d);
}

void ble_client_set_devices(ble_client *c,
			    const struct ble_device_config *devices,
			    size_t count)
{
	GPtrArray *next;
	g_autoptr(GPtrArray) fresh = g_ptr_array_new();

	g_return_if_fail(c != NULL);
	next = g_ptr_array_new();
	for (size_t i = 0; i < count; i++) {
		char address[18];
		struct ble_dev *d = NULL;

		if (!address_normalise(devices[i].address, address)) {
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
				  "'%.17s' is not a Bluetooth address: skipped",
				  devices[i].address);
			continue;
		}
		bool dup = false;
		for (guint j = 0; j < next->len && !dup; j++)
			dup =
			    strcmp(((struct ble_dev *)next->pdata[j])->address,
				   address) == 0;
		if (dup) {
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
				  "%s is listed twice: the first one counts",
				  address);
			continue;
		}
		for (guint j = 0; j < c->devices->len; j++) {
			struct ble_dev *old = c->devices->pdata[j];
			if (strcmp(old->address, address) == 0 &&
			    old->kind == devices[i].kind) {
				d = g_ptr_array_steal_index(c->devices, j);
				break;
			}
		}
		if (d == NULL) {
			d = device_new(c, address, devices[i].kind);
			g_ptr_array_add(fresh, d);
		}
		g_ptr_array_add(next, d);
	}
	for (guint j = 0; j < c->devices->len; j++)
		dev_release(c, c->devices->pdata[j]);
	g_ptr_array_unref(c->devices);
	c->devices = next;

	for (guint i = 0; i < fresh->len; i++) {
		struct ble_dev *d = fresh->pdata[i];
		const char *path = c->ready && c->adapter_path
				       ? find_device_path(c, d->address)
				       : NULL;
		if (path != NULL) {
			g_autofree char *copy = g_strdup(path);
			device_appeared(d, copy);
			/* An auto scale already heard is recognised by what
			 * bluetoothd has of it. */
			advertiser_update(c, copy, false, false);
		} else if (c->ready && c->adapter_path != NULL) {
			device_vanished(d);
		} else {
			device_bluez_gone(d, c->owner || !c->name_known
						 ? "waiting for bluetoothd"
						 : "bluetoothd is not running");
		}
	}
	bluez_update_discovery(c);
}

void ble_client_set_scanning(ble_client *c, bool on)
{
	g_return_if_fail(c != NULL);
	c->scanning = on;
	bluez_update_discovery(c);
}

struct ble_stats ble_client_get_stats(const ble_client *c)
{
	struct ble_stats none = { 0 };

	return c != NULL ? c->stats : none;
}

bool ble_client_is_advertiser(const ble_client *c, const char *address)
{
	g_return_val_if_fail(c != NULL && address != NULL, false);
	for (guint i = 0; i < c->devices->len; i++) {
		struct ble_dev *d = c->devices->pdata[i];
		if (g_ascii_strcasecmp(d->address, address) == 0)
			return !device_is_connectable(d) &&
			       (d->kind != BLE_KIND_SCALE_AUTO ||
				d->adv.role == ADVERTISER_BROADCAST);
	}
	return false;
}

const char *ble_client_device_name(ble_client *c, const char *address)
{
	struct ble_dev *d;
	GVariant *v;

	g_return_val_if_fail(c != NULL && address != NULL, NULL);
	d = bluez_find_dev(c, address);
	if (d == NULL || d->path == NULL)
		return NULL;
	v = bluez_prop(c, d->path, BLUEZ_DEVICE, "Name", G_VARIANT_TYPE_STRING);
	return v != NULL ? g_variant_get_string(v, NULL) : NULL;
}

enum ble_link_state ble_client_link_state(const ble_client *c,
					  const char *address)
{
	g_return_val_if_fail(c != NULL && address != NULL, BLE_LINK_ABSENT);
	for (guint i = 0; i < c->devices->len; i++) {
		struct ble_dev *d = c->devices->pdata[i];
		if (g_ascii_strcasecmp(d->address, address) == 0)
			return device_is_connectable(d) ? d->link.state
							: BLE_LINK_ABSENT;
	}
	return BLE_LINK_ABSENT;
}

gboolean ble_client_check(const ble_client *c, GError **error)
{
	g_return_val_if_fail(c != NULL, FALSE);
	if (c->problem != NULL) {
		g_propagate_error(error, g_error_copy(c->problem));
		return FALSE;
	}
	if (c->owner == NULL) {
		g_set_error_literal(error, BLE_ERROR, BLE_ERROR_NO_BLUETOOTHD,
				    "bluetoothd is not running on the system "
				    "bus: systemctl start bluetooth");
		return FALSE;
	}
	if (!c->ready) {
		g_set_error_literal(error, BLE_ERROR, BLE_ERROR_STARTING,
				    "waiting for bluetoothd to answer");
		return FALSE;
	}
	if (c->adapter_path == NULL) {
		g_set_error(error, BLE_ERROR, BLE_ERROR_NO_ADAPTER,
			    "no Bluetooth adapter%s%s: is the controller "
			    "plugged in and powered? (bluetoothctl list)",
			    c->adapter_name ? " " : "",
			    c->adapter_name ? c->adapter_name : "");
		return FALSE;
	}
	if (!c->powered) {
		const char *name = strrchr(c->adapter_path, '/');
		g_set_error(error, BLE_ERROR, BLE_ERROR_ADAPTER_OFF,
			    "Bluetooth adapter %s is powered off: "
			    "bluetoothctl power on (or rfkill unblock "
			    "bluetooth)",
			    name ? name + 1 : c->adapter_path);
		return FALSE;
	}
	return TRUE;
}

void ble_client_free(ble_client *c)
{
	if (c == NULL)
		return;
	if (c->watch != 0)
		g_bus_unwatch_name(c->watch);
	unsubscribe(c);
	/* Our discovery session would outlive us on a shared connection. */
	if (c->owner != NULL && c->adapter_path != NULL && c->disc_on)
		g_dbus_connection_call(c->bus, c->owner, c->adapter_path,
				       BLUEZ_ADAPTER, "StopDiscovery", NULL,
				       NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
				       NULL, NULL);
	for (guint i = 0; i < c->devices->len; i++)
		device_free(c->devices->pdata[i]);
	g_ptr_array_unref(c->devices);
	bluez_cancel_calls(c->calls);
	g_ptr_array_unref(c->calls);
	g_clear_handle_id(&c->disc_retry, g_source_remove);
	g_clear_handle_id(&c->gmo_retry, g_source_remove);
	g_hash_table_unref(c->objects);
	g_free(c->adapter_path);
	g_free(c->adapter_name);
	g_free(c->owner);
	g_clear_error(&c->problem);
	g_rand_free(c->rand);
	g_object_unref(c->bus);
	g_free(c);
}

/* --- Readings and malformed values -------------------------------------- */

void bluez_emit_reading(ble_client *c, struct reading *r, const char *address,
			enum reading_via via)
{
	g_strlcpy(r->address, address, sizeof(r->address));
	r->t_ms = bluez_wall_ms(c);
	r->via = via;
	c->stats.readings++;
	if (c->ops.reading != NULL)
		c->ops.reading(c->data, r);
}

void bluez_malformed(ble_client *c, struct ble_dev *d, const char *what, int rc,
		     const struct parse_error *err)
{
	int64_t now = bluez_window_ms(c);
	char why[160];

	c->stats.malformed++;
	if (d->malformed.logged && now >= d->malformed.log_ms &&
	    now - d->malformed.log_ms < MALFORMED_QUIET_MS) {
		d->malformed.quiet++;
		return;
	}
	if (rc == -ENOKEY)
		g_strlcpy(why, "encrypted, and keys are not supported",
			  sizeof(why));
	else if (err != NULL && err->fault != PARSE_FAULT_NONE)
		parse_error_format(err, why, sizeof(why));
	else
		g_strlcpy(why, g_strerror(-rc), sizeof(why));
	if (d->malformed.quiet > 0)
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_MESSAGE,
			  "malformed %s from %s: %s (%u more since the last "
			  "message)",
			  what ? what : "payload", d->address, why,
			  d->malformed.quiet);
	else
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_MESSAGE,
			  "malformed %s from %s: %s", what ? what : "payload",
			  d->address, why);
	d->malformed.logged = true;
	d->malformed.log_ms = now;
	d->malformed.quiet = 0;
}
