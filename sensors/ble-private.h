/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What bluez.c, device.c and advertiser.c share inside the BLE client (ble.h).
 * Nothing outside sensors/ includes it. Its names carry the prefix of the
 * file that defines them (bluez_, device_, advertiser_); ble_ is ble.h's public
 * API.
 *
 * Who does what:
 * - bluez.c: the org.bluez name watch, the object cache (path -> interface
 *   -> property), the adapter, discovery, the allowlist, D-Bus calls (one
 *   GCancellable each), the clocks, passing readings on and the rate limit
 *   of "malformed payload from X". It dispatches BlueZ's signals to device.c
 *   and advertiser.c.
 * - device.c: connectable devices' state machines (connect, resolve,
 *   subscribe, back off), and each struct ble_dev's life (device_new(),
 *   device_free()).
 * - advertiser.c: advertisements: one struct advert from Device1's
 *   properties, the dispatcher (advert-decode.h), recognising auto scales,
 *   de-duplicating, counting foreign devices.
 *
 * Who writes what: struct ble_dev and struct ble_client are shared, but each
 * of their parts names its owner. Only the owner writes a part; the others
 * read it, or call a function of the owner to have it changed. The one
 * exception is ble_client.stats: each file counts the events it handles.
 */

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "sensors/advert-decode.h"
#include "sensors/ble.h"
#include "sensors/bcs.h"
#include "sensors/scale-session.h"

#define BLUEZ_NAME	   "org.bluez"
#define BLUEZ_ADAPTER	   "org.bluez.Adapter1"
#define BLUEZ_DEVICE	   "org.bluez.Device1"
#define BLUEZ_GATT_CHAR	   "org.bluez.GattCharacteristic1"
#define DBUS_PROPERTIES	   "org.freedesktop.DBus.Properties"
#define DBUS_OBJECTMANAGER "org.freedesktop.DBus.ObjectManager"

/* Characteristics one connectable device subscribes to (at most): a
 * standard scale's two and its User Control Point. */
#define DEVICE_MAX_SUBS 3
/* ... and reads once per connection. */
#define DEVICE_MAX_READS 2

struct ble_client;
struct ble_dev;

/* device.c's: one characteristic we receive values from in the current
 * session. */
struct device_sub {
	enum decode_uuid uuid;
	/* Nonzero: a characteristic of the scale session (its 16-bit UUID),
	 * whose values go to the session, not to decode_payload(). */
	uint16_t session_uuid;
	char *path;	  /* GattCharacteristic1 object, this session only */
	int fd;		  /* AcquireNotify socket, -1: none (StartNotify) */
	guint watch;	  /* g_unix_fd_add() source on @fd */
	uint16_t mtu;	  /* as AcquireNotify returned it */
	bool started;	  /* StartNotify in use: values come as Value */
	bool tried_start; /* fell back from AcquireNotify once already */
	struct ble_dev *d;
};

/*
 * device.c's: a connectable device's link and its current session (idle for
 * an advertiser). bluez.c reads state; bluez_call() hands its calls to
 * device_call_started() and device_call_finished().
 */
struct device_link {
	enum ble_link_state state;
	GPtrArray *calls;     /* GCancellable *, one per call in flight */
	guint timer;	      /* backoff, resolve timeout or stale grace */
	unsigned backoff_ms;  /* the next backoff's base */
	bool grace;	      /* resolved, our characteristics not found yet */
	unsigned stale_count; /* stale resolutions in a row */
	struct device_sub subs[DEVICE_MAX_SUBS];
	unsigned n_subs;
	unsigned subs_pending; /* subscriptions not yet confirmed */
	struct bcs_assembler bcs;
	/* A scale's conversation (scale-session.h), this session only. */
	bool has_session;
	struct scale_session session;
	bool uds_wanted; /* the owner's answer to uds_user, at resolving */
	struct ble_uds_user uds;
	guint reply_timer; /* the reply the session waits for */
};

/* BTHome packet ids advertiser.c remembers per device. */
#define ADVERTISER_RECENT_PIDS 4

/* advertiser.c's: what a BLE_KIND_SCALE_AUTO scale turned out to be. */
enum advertiser_role {
	ADVERTISER_UNKNOWN,    /* not recognised yet: neither */
	ADVERTISER_BROADCAST,  /* a broadcast family: listened to */
	ADVERTISER_CONNECTING, /* a standard scale: device.c connects */
};

/*
 * advertiser.c's: an advertiser's last values passed on (de-duplication),
 * the parts of a weighing the dispatcher merges, and what an auto scale
 * was recognised as.
 */
struct advertiser_state {
	enum advertiser_role role;
	/* CONNECTING: a vendor scale that talks (QN, Yunmai, 1byone: its
	 * name said which), not a standard one. */
	bool connect_vendor;
	enum scale_session_kind connect_kind;
	unsigned unrecognised; /* updates heard without recognising it */
	bool have_final;       /* the last weighing passed on: */
	enum advert_family final_family;
	struct reading_weighing final;
	int64_t final_ms; /* its last repeat, window clock */
	bool have_live;	  /* the last live weight passed on */
	double live_kg;
	struct advert_merge merge;
	guint merge_timer; /* ends a merge the scale left unfinished */
	bool bt_have_pid;
	uint8_t bt_pid; /* the last packet id passed on */
	/* The packet ids passed on lately, and when each was last heard
	 * (window clock): a repeat that another antenna relays late. */
	uint8_t bt_recent_pid[ADVERTISER_RECENT_PIDS];
	int64_t bt_recent_ms[ADVERTISER_RECENT_PIDS];
	unsigned bt_recent_next;
	bool bt_have_bytes;
	uint8_t bt_bytes[255];
	size_t bt_len;
	int64_t bt_last_ms;
};

/* bluez.c's (bluez_malformed()): rate limit of "malformed payload from X". */
struct bluez_malformed_limit {
	int64_t log_ms; /* the last message, window clock */
	bool logged;	/* a message has been logged */
	unsigned quiet; /* not logged since the last message */
};

/* One allowlisted device: a connectable one's link, an advertiser's state. */
struct ble_dev {
	/* device.c's (device_new(); @path as its object comes and goes). */
	struct ble_client *c;
	char address[18];
	enum ble_device_kind kind;
	char *path; /* its Device1 object on our adapter; NULL: none */

	struct device_link link;		/* device.c's */
	struct advertiser_state adv;		/* advertiser.c's */
	struct bluez_malformed_limit malformed; /* bluez.c's */
};

struct ble_client {
	/* Set by ble_client_new() (bluez.c), read by all. */
	GDBusConnection *bus;
	char *adapter_name; /* from the config; NULL: first powered */
	bool power_on;
	int64_t (*now_ms)(void *now_data);
	void *now_data;
	struct ble_ops ops;
	void *data;

	/* bluez.c's from here on. device.c reads owner and adapter_path,
	 * advertiser.c reads scanning. */
	guint watch;
	bool name_known; /* the watch has said whether org.bluez has an owner */
	char *owner;	 /* org.bluez's unique name, NULL: none */
	guint sub_added;
	guint sub_removed;
	guint sub_props;
	guint sub_disconnected;
	bool ready;	     /* GetManagedObjects answered: signals count */
	GHashTable *objects; /* path -> GHashTable iface -> GHashTable props */
	GPtrArray *calls;    /* GCancellable *: the client's own calls */

	char *adapter_path; /* the adapter in use, NULL: none */
	bool powered;
	bool power_tried; /* power_on done once for this adapter */
	GError *problem;  /* permission denied and the like, or NULL */

	/* Discovery: one call at a time, re-evaluated after each. */
	bool disc_on;	 /* our session exists (as far as we know) */
	bool disc_busy;	 /* a discovery call is in flight */
	int disc_filter; /* the filter last set (enum in bluez.c), -1: none */
	guint disc_retry;
	guint gmo_retry;
	bool scanning;

	GPtrArray *devices; /* struct ble_dev *, the allowlist */
	GRand *rand;	    /* backoff jitter: only device.c draws from it */

	/* Everyone's: each file counts the events it handles (ble.h). */
	struct ble_stats stats;
};

/* --- bluez.c: cache, calls, helpers ------------------------------------- */

/* The property @name of @iface on @path if present and of @type, else
 * NULL. Borrowed: valid until the cache changes. */
GVariant *bluez_prop(ble_client *c, const char *path, const char *iface,
		     const char *name, const GVariantType *type);
bool bluez_prop_bool(ble_client *c, const char *path, const char *iface,
		     const char *name);
bool bluez_has_iface(ble_client *c, const char *path, const char *iface);

/* TRUE and @ret for a 16-bit UUID in BlueZ's 128-bit form
 * ("0000180d-0000-1000-8000-00805f9b34fb", either case). */
bool bluez_uuid16(const char *s, uint16_t *ret);

/* As bluez_find_char(), for any 16-bit UUID (a vendor's 0xFFE1). */
const char *bluez_find_char16(ble_client *c, const char *dev_path,
			      uint16_t uuid);

/*
 * Finds the GattCharacteristic1 with @uuid under @dev_path. Returns the
 * path (borrowed from the cache) or NULL.
 */
const char *bluez_find_char(ble_client *c, const char *dev_path,
			    enum decode_uuid uuid);

/* Wall clock (now_ms or real time) and window clock (now_ms or monotonic)
 * in ms. */
int64_t bluez_wall_ms(ble_client *c);
int64_t bluez_window_ms(ble_client *c);

/* Passes @r (its payload filled in) on as a reading of @address: sets the
 * address, the time and @via, counts it and calls ops.reading. */
void bluez_emit_reading(ble_client *c, struct reading *r, const char *address,
			enum reading_via via);

/* Logs a value that did not decode, rate-limited per device, and counts
 * it; @what says what it was ("Heart Rate Measurement", "okok"). */
void bluez_malformed(ble_client *c, struct ble_dev *d, const char *what, int rc,
		     const struct parse_error *err);

/* The allowlisted device with @address, or NULL. */
struct ble_dev *bluez_find_dev(ble_client *c, const char *address);

bool bluez_adapter_ready(ble_client *c);
/* Re-evaluates whether discovery should run, with which filter. */
void bluez_update_discovery(ble_client *c);

/* A call's result: @reply (of the type asked for) or @error; @d NULL for a
 * call of the client's own. */
typedef void (*bluez_call_done)(ble_client *c, struct ble_dev *d,
				GVariant *reply, GUnixFDList *fds,
				const GError *error, intptr_t tag);

/*
 * Calls @method on @path with one GCancellable of its own, kept among @d's
 * calls (device_call_started()) or the client's when @d is NULL, so that
 * ending a session or the client cancels it. @done runs only if the call was
 * not cancelled, with
 * @reply checked against @reply_type. @params is floating or NULL.
 */
void bluez_call(ble_client *c, struct ble_dev *d, const char *path,
		const char *iface, const char *method, GVariant *params,
		const GVariantType *reply_type, int timeout_ms, bool with_fds,
		bluez_call_done done, intptr_t tag);

/* Cancels every call in @calls (the caller's) and empties it. */
void bluez_cancel_calls(GPtrArray *calls);

/* A BLE_ERROR from a D-Bus error: BlueZ's name and message kept. */
GError *bluez_error_from_dbus(const GError *error, enum ble_error code);
/* The D-Bus error name of @error ("org.bluez.Error.Failed"), or NULL. */
char *bluez_dbus_error_name(const GError *error);

/* --- device.c: connectable devices -------------------------------------- */

/* TRUE for the devices device.c connects to: straps, standard scales, and
 * auto scales advertiser.c recognised as standard. */
bool device_is_connectable(const struct ble_dev *d);
/* TRUE with @ret_kind (may be NULL) for a vendor scale connected with its
 * own session: a QN scale given as one, or an auto scale recognised by its
 * name. It advertises none of the standard services, so discovery must not
 * filter by them while it is wanted. */
bool device_vendor_session(const struct ble_dev *d,
			   enum scale_session_kind *ret_kind);
/* advertiser.c recognised @d (an auto scale) as a standard scale: connect
 * it if its object is there. */
void device_recognised(struct ble_dev *d);
/* A new allowlisted device, its link absent; device_free() frees it. */
struct ble_dev *device_new(ble_client *c, const char *address,
			   enum ble_device_kind kind);
/* Ends everything of @d (no callbacks) and frees it. */
void device_free(struct ble_dev *d);
/* bluez_call() sent a call for @d: @cancel (a ref is taken) joins @d's
 * calls, which ending its session cancels. */
void device_call_started(struct ble_dev *d, GCancellable *cancel);
/* That call finished, not cancelled: @cancel leaves @d's calls. */
void device_call_finished(struct ble_dev *d, GCancellable *cancel);
/* Its Device1 object appeared (or it is bound after a GetManagedObjects). */
void device_appeared(struct ble_dev *d, const char *path);
/* Its Device1 object is gone. */
void device_vanished(struct ble_dev *d);
/* Device1 properties changed (already merged into the cache). */
void device_props_changed(struct ble_dev *d, GVariant *changed,
			  const char *const *invalidated);
/* A GattCharacteristic1 object under its path went away. */
void device_object_removed(struct ble_dev *d, const char *path);
/* Device1.Disconnected(reason, message) (BlueZ 5.83 and later). */
void device_disconnected(struct ble_dev *d, const char *reason,
			 const char *message);
/* A Value change on one of our characteristics (StartNotify). TRUE if it
 * was ours. */
bool device_value_changed(struct ble_dev *d, const char *path, GVariant *value);
/* bluetoothd left the bus or the adapter went away: everything is gone. */
void device_bluez_gone(struct ble_dev *d, const char *why);
/* The adapter's power changed. */
void device_powered(struct ble_dev *d, bool on);

/* --- advertiser.c: advertisements --------------------------------------- */

/*
 * A Device1 object on our adapter appeared (@added) or its advertisement
 * properties changed (@new_data: ServiceData or ManufacturerData among
 * them): make one struct advert of its properties, recognise an auto scale
 * by it, decode it through the dispatcher, pass allowlisted advertisers'
 * new values on once, count foreign devices and, when scanning, report it
 * through heard().
 */
void advertiser_update(ble_client *c, const char *path, bool added,
		       bool new_data);
/* @d leaves the allowlist or the client ends: its timers go. */
void advertiser_forget(struct ble_dev *d);
