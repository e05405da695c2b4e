// SPDX-License-Identifier: MIT
/*
 * recoveryctl scan and watch as a person runs them, against the BlueZ
 * stand-in on a private bus: the real binary (RECOVERYCTL), its stdout,
 * stderr and exit status.
 */
#include <stdbool.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "tests/fakes/bus.h"

#define STRAP	"00:AA:01:01:00:01"
#define SENSOR	"A4:C1:38:00:00:02"
#define FOREIGN "C4:7C:8D:00:00:99"
#define SCALE	"D0:E8:5F:6D:00:05"

static GSubprocess *spawn(StandinBus *bus, const char *args, GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autofree char *line =
	    g_strdup_printf("%s %s", g_getenv("RECOVERYCTL"), args);
	g_auto(GStrv) argv = NULL;

	g_assert_true(g_shell_parse_argv(line, NULL, &argv, NULL));
	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS",
				     standin_bus_address(bus), TRUE);
	return g_subprocess_launcher_spawnv(launcher, (const char *const *)argv,
					    error);
}

static int finish(GSubprocess *p, char **ret_out, char **ret_err)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, ret_out,
						    ret_err, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(p));
	return g_subprocess_get_exit_status(p);
}

static StandinBus *world(void)
{
	const char *const args[] = { "--no-connected-signal", NULL };
	static const guint8 bthome[] = { 0x40, 0x02, 0xca, 0x09,
					 0x03, 0xbf, 0x13 };
	g_autoptr(GError) error = NULL;
	/* openScale issue #1177: a Yoda0 (OKOK C0) weighing 76.3 kg, company
	 * 0x3FC0 (frame counter 0x3F). */
	static const guint8 yoda0[] = { 0x1d, 0xce, 0x13, 0x88, 0x00,
					0x00, 0x25, 0x00, 0x00, 0x00,
					0x00, 0x00, 0x00 };
	g_autofree char *strap = NULL, *sensor = NULL, *foreign = NULL;
	g_autofree char *scale = NULL;
	g_autoptr(GVariant) reply = NULL;
	StandinBus *bus = standin_bus_new_or_skip();

	if (!bus)
		return NULL;
	g_assert_true(standin_start(bus, args, &error));
	g_assert_no_error(error);
	strap = standin_add_device(bus, STRAP, "HRM-Sim", "heart-rate", NULL,
				   &error);
	g_assert_no_error(error);
	foreign = standin_add_device(bus, FOREIGN, "Neighbour HRM",
				     "heart-rate", NULL, &error);
	g_assert_no_error(error);
	sensor =
	    standin_add_device(bus, SENSOR, "Bed", "advertiser", NULL, &error);
	g_assert_no_error(error);
	reply = standin_call(
	    bus, "SetServiceData",
	    g_variant_new("(ss@ay)", SENSOR,
			  "0000fcd2-0000-1000-8000-00805f9b34fb",
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bthome,
						    sizeof(bthome), 1)),
	    NULL, &error);
	g_assert_no_error(error);
	scale =
	    standin_add_device(bus, SCALE, "Yoda0", "advertiser", NULL, &error);
	g_assert_no_error(error);
	g_clear_pointer(&reply, g_variant_unref);
	reply = standin_call(
	    bus, "SetManufacturerData",
	    g_variant_new("(sq@ay)", SCALE, 0x3FC0,
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, yoda0,
						    sizeof(yoda0), 1)),
	    NULL, &error);
	g_assert_no_error(error);
	return bus;
}

static void test_scan(void)
{
	g_autoptr(StandinBus) bus = world();
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	bool strap = false, sensor = false, foreign = false, scale = false;

	if (!bus)
		return;
	p = spawn(bus, "scan --adapter hci0 --seconds 3", &error);
	g_assert_no_error(error);
	g_assert_cmpint(finish(p, &out, &err), ==, 0);
	g_test_message("scan:\n%s%s", out, err);
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, STRAP))
			strap =
			    strstr(*l, "heart-rate") && strstr(*l, "HRM-Sim");
		if (g_str_has_prefix(*l, FOREIGN))
			foreign = strstr(*l, "heart-rate") != NULL;
		if (g_str_has_prefix(*l, SENSOR))
			sensor = strstr(*l, "bthome") &&
				 strstr(*l, "\"temperature\"");
		/* A scale's family is named, its weighing shown. */
		if (g_str_has_prefix(*l, SCALE))
			scale = strstr(*l, "scale") && strstr(*l, "okok-c0") &&
				strstr(*l, "\"weight_kg\":76.3");
	}
	g_assert_true(strap);
	g_assert_true(sensor);
	g_assert_true(scale);
	/* Scan lists everyone decodable, neighbours included... */
	g_assert_true(foreign);
	/* ...and never connects to anything. */
	g_assert_cmpuint(standin_calls(bus, "Connect"), ==, 0);
}

static void test_watch(void)
{
	static const guint8 hrm[] = { 0x16, 60, 0x00, 0x04 };
	g_autoptr(StandinBus) bus = world();
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	guint json_lines = 0;

	if (!bus)
		return;
	p = spawn(bus, "watch " STRAP " --adapter hci0 --count 5 --seconds 30",
		  &error);
	g_assert_no_error(error);
	/* 10 notifications a second; those before the subscription are
	 * dropped, as BlueZ drops them. */
	reply = standin_call(
	    bus, "StartNotifyStream",
	    g_variant_new("(ss@ayuu)", STRAP, "2a37",
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, hrm,
						    sizeof(hrm), 1),
			  10u, 400u),
	    NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(finish(p, &out, &err), ==, 0);
	g_test_message("watch:\n%s%s", out, err);
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l && **l; l++) {
		g_autoptr(JsonParser) parser = json_parser_new();
		JsonObject *o;

		g_assert_true(json_parser_load_from_data(parser, *l, -1, NULL));
		o = json_node_get_object(json_parser_get_root(parser));
		g_assert_cmpstr(json_object_get_string_member(o, "address"), ==,
				STRAP);
		g_assert_true(json_object_has_member(o, "time"));
		/* Battery and sensor location are read once and shown too. */
		if (!json_object_has_member(o, "heart_rate"))
			continue;
		g_assert_cmpint(json_object_get_int_member(o, "heart_rate"), ==,
				60);
		g_assert_true(json_object_has_member(o, "rr_ms"));
		json_lines++;
	}
	g_assert_cmpuint(json_lines, ==, 5);
	/* Only the watched device was connected. */
	g_assert_cmpuint(standin_calls(bus, "Connect:" FOREIGN), ==, 0);
	g_assert_cmpuint(standin_calls(bus, "Connect:" STRAP), >=, 1);
}

static void test_no_bluetoothd(void)
{
	g_autoptr(StandinBus) bus = standin_bus_new_or_skip();
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL;

	if (!bus)
		return;
	/* A bus with nobody owning org.bluez, as when bluetoothd is off. */
	p = spawn(bus, "scan --seconds 1", &error);
	g_assert_no_error(error);
	g_assert_cmpint(finish(p, &out, &err), ==, 1);
	g_assert_nonnull(strstr(err, "bluetoothd is not running"));
	g_assert_nonnull(strstr(err, "systemctl start bluetooth"));
}

static void test_no_such_adapter(void)
{
	g_autoptr(StandinBus) bus = world();
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL;

	if (!bus)
		return;
	p = spawn(bus, "scan --adapter hci7 --seconds 1", &error);
	g_assert_no_error(error);
	g_assert_cmpint(finish(p, &out, &err), ==, 1);
	g_assert_nonnull(strstr(err, "no Bluetooth adapter hci7"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/recoveryctl/scan", test_scan);
	g_test_add_func("/recoveryctl/watch", test_watch);
	g_test_add_func("/recoveryctl/scan/no-bluetoothd", test_no_bluetoothd);
	g_test_add_func("/recoveryctl/scan/no-such-adapter",
			test_no_such_adapter);
	return g_test_run();
}
