// SPDX-License-Identifier: MIT
/*
 * Test-side helpers for BLE tests: a private dbus-daemon of our own, the
 * BlueZ stand-in (tests/fakes/bluez-standin, path in $BLUEZ_STANDIN) on it,
 * and calls to the stand-in's control interface org.recoveryd.StandIn1.
 *
 *   g_autoptr(StandinBus) bus = standin_bus_new_or_skip();
 *   if (bus == NULL)
 *           return;                         // skipped, reason given
 *   g_assert_true(standin_start(bus, NULL, &error));
 *   standin_add_device(bus, "AA:BB:CC:DD:EE:01", "Strap", "heart-rate",
 *                      NULL, &error);
 *   ... code under test talks to org.bluez on standin_bus_address(bus) ...
 *   standin_notify(bus, "AA:BB:CC:DD:EE:01", "2a37", hr, sizeof(hr), &e);
 *   g_assert_cmpuint(standin_calls(bus, "Connect:AA:BB:CC:DD:EE:01"), ==, 1);
 *
 * A bluetoothd restart is standin_stop() (SIGTERM: links drop, adapters
 * power off, the name goes) or standin_kill() (SIGKILL: the name just goes),
 * then standin_start() again; the new stand-in starts empty, so add the
 * devices again. Every call blocks; none iterates a main context, so
 * signals for the caller's own connections wait until the test iterates.
 */
#pragma once

#include <gio/gio.h>

typedef struct StandinBus StandinBus;

/*
 * Starts a private dbus-daemon (session-like, everything allowed). NULL with
 * G_IO_ERROR_NOT_FOUND if dbus-daemon or $BLUEZ_STANDIN is missing.
 */
StandinBus *standin_bus_new(GError **error);
/* The same for GTest: NULL after g_test_skip() with the reason. */
StandinBus *standin_bus_new_or_skip(void);
/* Stops the stand-in (SIGKILL if it is still there) and the daemon. */
void standin_bus_free(StandinBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StandinBus, standin_bus_free)

/* The daemon's address, for DBUS_SYSTEM_BUS_ADDRESS of code under test. */
const char *standin_bus_address(StandinBus *bus);
/* Sets DBUS_SYSTEM_BUS_ADDRESS in this process (call before any thread). */
void standin_bus_export_env(StandinBus *bus);
/* The helper's own connection to the bus (owned by the bus). */
GDBusConnection *standin_bus_connection(StandinBus *bus);
/*
 * For GTest: a new connection to the bus, a client of its own as another
 * program would be (the process does not exit when it closes). The caller
 * owns it; aborts the test if the bus refuses it.
 */
GDBusConnection *standin_bus_new_client(StandinBus *bus);

/*
 * Starts the stand-in with extra arguments (NULL-terminated, may be NULL),
 * e.g. { "--bluez-version", "5.83", "--adapter", "hci0", NULL }, and waits
 * until it owns org.bluez. The arguments are kept for standin_restart().
 */
gboolean standin_start(StandinBus *bus, const char *const *args,
		       GError **error);
/*
 * SIGTERM, then waits for the process and for org.bluez to go. exit_status
 * (may be NULL) gets the exit status, or 128 + signal if it was killed.
 */
gboolean standin_stop(StandinBus *bus, int *exit_status, GError **error);
/* SIGKILL, then waits for the process and for org.bluez to go. */
void standin_kill(StandinBus *bus);
/* standin_stop() then standin_start() with the same arguments. */
gboolean standin_restart(StandinBus *bus, GError **error);
gboolean standin_running(StandinBus *bus);
/* Waits until org.bluez has (present) or has no owner; FALSE on timeout. */
gboolean standin_wait_name(StandinBus *bus, gboolean present, guint timeout_ms);

/*
 * A control method: params a tuple (floating is taken) or NULL; the reply
 * checked against reply_type (NULL: any). NULL with error on failure.
 */
GVariant *standin_call(StandinBus *bus, const char *method, GVariant *params,
		       const GVariantType *reply_type, GError **error);
/*
 * AddDevice with the given kind ("heart-rate", "weight-scale",
 * "advertiser") and more props (a{sv}, floating taken, may be NULL).
 * Returns the device's object path, or NULL with error.
 */
char *standin_add_device(StandinBus *bus, const char *address, const char *name,
			 const char *kind, GVariant *props, GError **error);
/*
 * One notification (or indication) of char_uuid ("2a37" or a full UUID).
 * TRUE if BlueZ would pass it on (StartNotify session or AcquireNotify fd);
 * FALSE with *error unset if dropped, FALSE with *error set on failure.
 */
gboolean standin_notify(StandinBus *bus, const char *address,
			const char *char_uuid, const guint8 *value, gsize len,
			GError **error);
/*
 * SetWriteReply: a write to char_uuid whose value starts with @prefix
 * (@prefix_len 0: any write) is answered by each of @values (@count) in
 * order, notified or indicated on notify_uuid. Scripts are matched in the
 * order given; the first match answers.
 */
gboolean standin_write_reply(StandinBus *bus, const char *address,
			     const char *char_uuid, const guint8 *prefix,
			     gsize prefix_len, const char *notify_uuid,
			     GBytes *const *values, gsize count,
			     GError **error);
/* DropConnection: reason "remote", "timeout", "local", ... */
gboolean standin_drop(StandinBus *bus, const char *address, const char *reason,
		      GError **error);
/* The count GetCalls reports for key, e.g. "Connect:AA:BB:CC:DD:EE:01". */
guint standin_calls(StandinBus *bus, const char *key);
/* GetDeviceState as an a{sv}, or NULL with error. */
GVariant *standin_device_state(StandinBus *bus, const char *address,
			       GError **error);

/*
 * Waits (at most @timeout_ms) until a client subscribed to @address's
 * notifications (a StartNotify session or an AcquireNotify fd).
 */
gboolean standin_wait_subscribed(StandinBus *bus, const char *address,
				 guint timeout_ms);
/*
 * StartNotifyStream: @address's characteristic @char_uuid ("2a37") sends
 * @value (@len bytes) @count times at @hz. Aborts the test on failure.
 */
void standin_stream_start(StandinBus *bus, const char *address,
			  const char *char_uuid, const guint8 *value, gsize len,
			  guint hz, guint count);
/*
 * Waits (at most @timeout_s) for that stream to end; asserts that it ended
 * and sent @count; returns how many notifications BlueZ passed on.
 */
guint standin_stream_delivered(StandinBus *bus, const char *address,
			       const char *char_uuid, guint count,
			       int timeout_s);
