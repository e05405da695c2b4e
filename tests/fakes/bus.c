// SPDX-License-Identifier: MIT
/*
 * A private dbus-daemon and the BlueZ stand-in on it; see bus.h.
 */
#include "tests/fakes/bus.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#define CONTROL_PATH	"/org/recoveryd/StandIn"
#define CONTROL_IFACE	"org.recoveryd.StandIn1"
#define NAME_TIMEOUT_MS 10000

struct StandinBus {
	char *dir;
	char *config;
	GSubprocess *daemon;
	char *address;
	GDBusConnection *conn;
	GSubprocess *standin;
	GStrv args;
};

static const char config_text[] =
    "<!DOCTYPE busconfig PUBLIC "
    "\"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>session</type>\n"
    "  <listen>unix:dir=%s</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <allow own=\"*\"/>\n"
    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
    "    <allow receive_sender=\"*\"/>\n"
    "    <allow eavesdrop=\"true\"/>\n"
    "  </policy>\n"
    "  <limit name=\"max_incoming_bytes\">1000000000</limit>\n"
    "  <limit name=\"max_outgoing_bytes\">1000000000</limit>\n"
    "  <limit name=\"max_message_size\">1000000000</limit>\n"
    "  <limit name=\"reply_timeout\">300000</limit>\n"
    "</busconfig>\n";

/* Children die with the test, whatever happens to it. */
static void die_with_parent(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *spawn(const char *const *argv, GSubprocessFlags flags,
			  const char *bus_address, GError **error)
{
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(flags);

	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	if (bus_address != NULL)
		g_subprocess_launcher_setenv(l, "DBUS_SYSTEM_BUS_ADDRESS",
					     bus_address, TRUE);
	return g_subprocess_launcher_spawnv(l, argv, error);
}

/* A message-bus connection that leaves the process alone when it closes. */
static GDBusConnection *connect_address(const char *address, GError **error)
{
	GDBusConnection *c = g_dbus_connection_new_for_address_sync(
	    address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, error);

	if (c)
		g_dbus_connection_set_exit_on_close(c, FALSE);
	return c;
}

StandinBus *standin_bus_new(GError **error)
{
	g_autofree char *daemon = g_find_program_in_path("dbus-daemon");
	const char *standin = g_getenv("BLUEZ_STANDIN");

	if (daemon == NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "dbus-daemon is not installed (Debian "
				    "package dbus)");
		return NULL;
	}
	if (standin == NULL ||
	    !g_file_test(standin, G_FILE_TEST_IS_EXECUTABLE)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "BLUEZ_STANDIN does not name the stand-in (%s)",
			    standin ? standin : "unset");
		return NULL;
	}

	g_autoptr(StandinBus) bus = g_new0(StandinBus, 1);
	bus->dir = g_dir_make_tmp("recoveryd-bus-XXXXXX", error);
	if (bus->dir == NULL)
		return NULL;
	bus->config = g_build_filename(bus->dir, "bus.conf", NULL);
	g_autofree char *text = g_strdup_printf(config_text, bus->dir);
	if (!g_file_set_contents(bus->config, text, -1, error))
		return NULL;

	g_autofree char *config_arg =
	    g_strdup_printf("--config-file=%s", bus->config);
	const char *argv[] = { daemon,	   config_arg,	  "--print-address",
			       "--nofork", "--nopidfile", NULL };
	bus->daemon = spawn(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL, error);
	if (bus->daemon == NULL)
		return NULL;
	g_autoptr(GDataInputStream) out =
	    g_data_input_stream_new(g_subprocess_get_stdout_pipe(bus->daemon));
	bus->address = g_data_input_stream_read_line(out, NULL, NULL, error);
	if (bus->address == NULL) {
		if (error != NULL && *error == NULL)
			g_set_error_literal(error, G_IO_ERROR,
					    G_IO_ERROR_FAILED,
					    "dbus-daemon gave no address");
		return NULL;
	}
	g_strstrip(bus->address);

	bus->conn = connect_address(bus->address, error);
	if (bus->conn == NULL)
		return NULL;
	return g_steal_pointer(&bus);
}

StandinBus *standin_bus_new_or_skip(void)
{
	g_autoptr(GError) error = NULL;
	StandinBus *bus = standin_bus_new(&error);

	if (bus == NULL) {
		g_autofree char *why =
		    g_strdup_printf("no private bus: %s", error->message);
		g_test_skip(why);
	}
	return bus;
}

void standin_bus_free(StandinBus *bus)
{
	if (bus == NULL)
		return;
	if (bus->standin != NULL)
		standin_kill(bus);
	if (bus->conn != NULL) {
		g_dbus_connection_close_sync(bus->conn, NULL, NULL);
		g_object_unref(bus->conn);
	}
	if (bus->daemon != NULL) {
		g_subprocess_send_signal(bus->daemon, SIGTERM);
		g_subprocess_wait(bus->daemon, NULL, NULL);
		g_object_unref(bus->daemon);
	}
	if (bus->dir != NULL) {
		g_autoptr(GDir) d = g_dir_open(bus->dir, 0, NULL);
		const char *name;
		while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
			g_autofree char *p =
			    g_build_filename(bus->dir, name, NULL);
			g_unlink(p);
		}
		g_rmdir(bus->dir);
	}
	g_strfreev(bus->args);
	g_free(bus->address);
	g_free(bus->config);
	g_free(bus->dir);
	g_free(bus);
}

const char *standin_bus_address(StandinBus *bus)
{
	return bus->address;
}

void standin_bus_export_env(StandinBus *bus)
{
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", bus->address, TRUE);
}

GDBusConnection *standin_bus_connection(StandinBus *bus)
{
	return bus->conn;
}

GDBusConnection *standin_bus_new_client(StandinBus *bus)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *c = connect_address(bus->address, &error);

	g_assert_no_error(error);
	return c;
}

static gboolean name_has_owner(StandinBus *bus)
{
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
	    bus->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	    "org.freedesktop.DBus", "NameHasOwner",
	    g_variant_new("(s)", "org.bluez"), G_VARIANT_TYPE("(b)"),
	    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean has = FALSE;

	if (r != NULL)
		g_variant_get(r, "(b)", &has);
	return has;
}

gboolean standin_wait_name(StandinBus *bus, gboolean present, guint timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		if (name_has_owner(bus) == present)
			return TRUE;
		if (g_get_monotonic_time() > end)
			return FALSE;
		/* A stand-in that died will never own it. */
		if (present && bus->standin != NULL &&
		    g_subprocess_get_identifier(bus->standin) == NULL)
			return FALSE;
		g_usleep(2000);
	}
}

gboolean standin_start(StandinBus *bus, const char *const *args, GError **error)
{
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();

	if (bus->standin != NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
				    "the stand-in is running");
		return FALSE;
	}
	if (bus->args == NULL || args != (const char *const *)bus->args) {
		g_autoptr(GStrvBuilder) keep = g_strv_builder_new();
		for (guint i = 0; args != NULL && args[i] != NULL; i++)
			g_strv_builder_add(keep, args[i]);
		g_strfreev(bus->args);
		bus->args = g_strv_builder_end(keep);
	}
	g_strv_builder_add(b, g_getenv("BLUEZ_STANDIN"));
	g_strv_builder_add(b, "--address");
	g_strv_builder_add(b, bus->address);
	for (guint i = 0; bus->args[i] != NULL; i++)
		g_strv_builder_add(b, bus->args[i]);
	g_auto(GStrv) argv = g_strv_builder_end(b);

	bus->standin = spawn((const char *const *)argv, G_SUBPROCESS_FLAGS_NONE,
			     bus->address, error);
	if (bus->standin == NULL)
		return FALSE;
	if (!standin_wait_name(bus, TRUE, NAME_TIMEOUT_MS)) {
		standin_kill(bus);
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
				    "the stand-in did not take org.bluez");
		return FALSE;
	}
	return TRUE;
}

static int wait_status(GSubprocess *p)
{
	g_subprocess_wait(p, NULL, NULL);
	if (g_subprocess_get_if_exited(p))
		return g_subprocess_get_exit_status(p);
	if (g_subprocess_get_if_signaled(p))
		return 128 + g_subprocess_get_term_sig(p);
	return -1;
}

gboolean standin_stop(StandinBus *bus, int *exit_status, GError **error)
{
	if (bus->standin == NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "the stand-in is not running");
		return FALSE;
	}
	g_subprocess_send_signal(bus->standin, SIGTERM);
	int status = wait_status(bus->standin);
	g_clear_object(&bus->standin);
	if (exit_status != NULL)
		*exit_status = status;
	if (!standin_wait_name(bus, FALSE, NAME_TIMEOUT_MS)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
				    "org.bluez still owned after the stand-in "
				    "exited");
		return FALSE;
	}
	return TRUE;
}

void standin_kill(StandinBus *bus)
{
	if (bus->standin == NULL)
		return;
	g_subprocess_force_exit(bus->standin);
	(void)wait_status(bus->standin);
	g_clear_object(&bus->standin);
	(void)standin_wait_name(bus, FALSE, NAME_TIMEOUT_MS);
}

gboolean standin_restart(StandinBus *bus, GError **error)
{
	if (bus->standin != NULL && !standin_stop(bus, NULL, error))
		return FALSE;
	return standin_start(bus, (const char *const *)bus->args, error);
}

gboolean standin_running(StandinBus *bus)
{
	return bus->standin != NULL &&
	       g_subprocess_get_identifier(bus->standin) != NULL;
}

GVariant *standin_call(StandinBus *bus, const char *method, GVariant *params,
		       const GVariantType *reply_type, GError **error)
{
	return g_dbus_connection_call_sync(
	    bus->conn, "org.bluez", CONTROL_PATH, CONTROL_IFACE, method, params,
	    reply_type, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
}

char *standin_add_device(StandinBus *bus, const char *address, const char *name,
			 const char *kind, GVariant *props, GError **error)
{
	GVariantBuilder b;
	g_autoptr(GVariant) extra = props ? g_variant_ref_sink(props) : NULL;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "kind", g_variant_new_string(kind));
	if (extra != NULL) {
		if (!g_variant_is_of_type(extra, G_VARIANT_TYPE_VARDICT)) {
			g_variant_builder_clear(&b);
			g_set_error_literal(error, G_IO_ERROR,
					    G_IO_ERROR_INVALID_ARGUMENT,
					    "props must be a{sv}");
			return NULL;
		}
		GVariantIter it;
		const char *key;
		GVariant *v;
		g_variant_iter_init(&it, extra);
		while (g_variant_iter_next(&it, "{&sv}", &key, &v)) {
			g_variant_builder_add(&b, "{sv}", key, v);
			g_variant_unref(v);
		}
	}
	g_autoptr(GVariant) r = standin_call(
	    bus, "AddDevice", g_variant_new("(ssa{sv})", address, name, &b),
	    G_VARIANT_TYPE("(o)"), error);
	if (r == NULL)
		return NULL;
	char *path = NULL;
	g_variant_get(r, "(o)", &path);
	return path;
}

gboolean standin_notify(StandinBus *bus, const char *address,
			const char *char_uuid, const guint8 *value, gsize len,
			GError **error)
{
	GVariant *bytes =
	    g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, value, len, 1);
	g_autoptr(GVariant) r = standin_call(
	    bus, "Notify", g_variant_new("(ss@ay)", address, char_uuid, bytes),
	    G_VARIANT_TYPE("(b)"), error);
	gboolean delivered = FALSE;

	if (r != NULL)
		g_variant_get(r, "(b)", &delivered);
	return delivered;
}

gboolean standin_write_reply(StandinBus *bus, const char *address,
			     const char *char_uuid, const guint8 *prefix,
			     gsize prefix_len, const char *notify_uuid,
			     GBytes *const *values, gsize count, GError **error)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("aay"));
	for (gsize i = 0; i < count; i++) {
		gsize n = 0;
		const void *p = g_bytes_get_data(values[i], &n);
		g_variant_builder_add_value(
		    &b,
		    g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, p, n, 1));
	}
	g_autoptr(GVariant) r = standin_call(
	    bus, "SetWriteReply",
	    g_variant_new("(ss@ays@aay)", address, char_uuid,
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, prefix,
						    prefix_len, 1),
			  notify_uuid, g_variant_builder_end(&b)),
	    NULL, error);

	return r != NULL;
}

gboolean standin_drop(StandinBus *bus, const char *address, const char *reason,
		      GError **error)
{
	g_autoptr(GVariant) r =
	    standin_call(bus, "DropConnection",
			 g_variant_new("(ss)", address, reason), NULL, error);

	return r != NULL;
}

guint standin_calls(StandinBus *bus, const char *key)
{
	g_autoptr(GVariant) r = standin_call(bus, "GetCalls", NULL,
					     G_VARIANT_TYPE("(a{su})"), NULL);
	g_autoptr(GVariant) calls = NULL;
	guint n = 0;

	if (r == NULL)
		return 0;
	calls = g_variant_get_child_value(r, 0);
	if (!g_variant_lookup(calls, key, "u", &n))
		n = 0;
	return n;
}

GVariant *standin_device_state(StandinBus *bus, const char *address,
			       GError **error)
{
	g_autoptr(GVariant) r =
	    standin_call(bus, "GetDeviceState", g_variant_new("(s)", address),
			 G_VARIANT_TYPE("(a{sv})"), error);

	return r ? g_variant_get_child_value(r, 0) : NULL;
}

gboolean standin_wait_subscribed(StandinBus *bus, const char *address,
				 guint timeout_ms)
{
	gint64 end = g_get_monotonic_time() + timeout_ms * (gint64)1000;

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
				return TRUE;
		}
		g_usleep(50000);
	} while (g_get_monotonic_time() < end);
	return FALSE;
}

void standin_stream_start(StandinBus *bus, const char *address,
			  const char *char_uuid, const guint8 *value, gsize len,
			  guint hz, guint count)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    standin_call(bus, "StartNotifyStream",
			 g_variant_new("(ss@ayuu)", address, char_uuid,
				       g_variant_new_fixed_array(
					   G_VARIANT_TYPE_BYTE, value, len, 1),
				       hz, count),
			 NULL, &error);

	g_assert_no_error(error);
	(void)reply;
}

guint standin_stream_delivered(StandinBus *bus, const char *address,
			       const char *char_uuid, guint count,
			       int timeout_s)
{
	gint64 end = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
	gboolean running = TRUE;
	guint sent = 0, delivered = 0, dropped = 0;

	while (g_get_monotonic_time() < end) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply =
		    standin_call(bus, "GetStreamStats",
				 g_variant_new("(ss)", address, char_uuid),
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
