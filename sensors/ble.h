/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The BLE side's client of bluetoothd (DESIGN §3): it watches org.bluez on
 * the system bus, keeps a cache of BlueZ's objects, runs the adapter and
 * discovery, connects to the allowlisted heart-rate straps and standard
 * scales (device.c), decodes the allowlisted advertisers through the
 * advertisement dispatcher (advertiser.c), and
 * hands every value on as a struct reading through ble_ops.reading.
 *
 * Nothing here knows the store or MQTT, and nothing here logs: what is worth
 * saying goes to ble_ops.log. Everything runs in the thread-default main
 * context of the thread that called ble_client_new(); no threads.
 *
 * Devices that are not in the allowlist are never connected to and never
 * produce a reading: they are only counted (ble_stats.foreign_heard) and,
 * while scanning, listed through ble_ops.heard.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gio/gio.h>

#include "sensors/reading.h"

enum ble_device_kind {
	BLE_KIND_HEART_RATE, /* Heart Rate Service strap: connectable */
	BLE_KIND_SCALE,	     /* Weight Scale / Body Composition: connectable */
	/* A scale that weighs in its advertisements (the Mi scales and every
	 * broadcast family of sensors/advert-decode.h): never connected. */
	BLE_KIND_MISCALE,
	BLE_KIND_BTHOME, /* BTHome v2 sensor: advertisements only */
	/*
	 * A scale recognised by what it advertises: a broadcast family is
	 * listened to (as BLE_KIND_MISCALE), a scale that advertises the
	 * Weight Scale or Body Composition service and no such family is
	 * connected (as BLE_KIND_SCALE). Until then it is neither: an
	 * advertiser is never connected.
	 */
	BLE_KIND_SCALE_AUTO,
	/* A QN/Renpho scale that weighs only over a connection (services
	 * 0xFFE0/0xFFF0): connected, told its unit and time
	 * (sensors/scale-session.h). */
	BLE_KIND_SCALE_QN,
};

/* One allowlisted device. @address in either case; it is compared upper. */
struct ble_device_config {
	char address[18];
	enum ble_device_kind kind;
};

struct ble_client_config {
	/* "hci0", or NULL: the first powered adapter (the first one at all if
	 * none is powered). */
	const char *adapter;
	/*
	 * Power the adapter on when it is found off. Only done once, when the
	 * adapter is first chosen: an adapter switched off later (by the user,
	 * rfkill or a suspend) is waited for, not fought over.
	 */
	bool power_on;
	/* The wall clock in ms since the epoch for struct reading.t_ms and the
	 * de-duplication windows; NULL: g_get_real_time() / 1000 for the
	 * former, the monotonic clock for the latter. */
	int64_t (*now_ms)(void *now_data);
	void *now_data;
};

/* Where a connectable device's link is (DESIGN §3's state machine). */
enum ble_link_state {
	BLE_LINK_ABSENT,     /* bluetoothd has no object for it (not heard) */
	BLE_LINK_SEEN,	     /* object present, about to connect */
	BLE_LINK_CONNECTING, /* Device1.Connect() sent */
	BLE_LINK_RESOLVING,  /* connected; waiting for services, subscribing */
	BLE_LINK_SUBSCRIBED, /* notifications/indications flowing */
	BLE_LINK_LOST,	     /* the link just ended (reason given) */
	BLE_LINK_BACKOFF, /* waiting before the next attempt (reason given) */
	BLE_LINK_WAITING, /* no bluetoothd or adapter off: waiting for it */
};

/* "absent", "seen", "connecting", ...: for logs and the MQTT device topic. */
const char *ble_link_state_name(enum ble_link_state state);

/* One device heard while scanning (ble_client_set_scanning()). */
struct ble_heard {
	const char *address; /* upper case */
	const char *name;    /* Device1.Name; NULL if it has none */
	bool has_rssi;
	int16_t rssi;
	/* What its advertisement says: a family of sensors/advert-decode.h
	 * (BLE_KIND_MISCALE for every scale family, BLE_KIND_BTHOME), else
	 * the advertised service UUIDs. */
	enum ble_device_kind kind;
	/* A scale's family: "mi-scale-v2", "okok-c0", "qn-broadcast", ... as
	 * decoded, the dispatcher's family name when the data did not decode,
	 * "standard" for a Weight Scale / Body Composition scale; NULL for
	 * what is no scale. Static storage. */
	const char *family;
	bool allowlisted;
	/* The last advertisement's decoded service data, or NULL. Valid only
	 * during the callback (BTHome views point into D-Bus data). */
	const struct decoded_payload *payload;
};

/*
 * How to identify to a standard scale's User Data Service (0x181C):
 * ble_ops.uds_user fills it in on each connection of a scale that offers
 * the User Control Point.
 */
struct ble_uds_user {
	/* Consent with @user_index; FALSE: register a new user first (its
	 * index comes back through ble_ops.uds_registered). */
	bool registered;
	uint8_t user_index;
	uint16_t consent_code; /* 0-9999 */
};

/*
 * What the client tells its owner. Every member may be NULL. @data is the
 * pointer given to ble_client_new(). A callback must not call
 * ble_client_free() or ble_client_set_devices(): defer those to an idle.
 */
struct ble_ops {
	/* A value from an allowlisted device; @r lives for this call only. */
	void (*reading)(void *data, const struct reading *r);
	/*
	 * A connectable device's link changed state. @reason is set for LOST
	 * and BACKOFF (why; for BACKOFF its message also says when the next
	 * attempt is), and for WAITING (what is waited for); NULL otherwise.
	 */
	void (*link)(void *data, const char *address, enum ble_link_state state,
		     const GError *reason);
	/*
	 * Every device heard whose kind can be guessed, allowlisted or not,
	 * on each advertisement; only while scanning. For `recoveryctl scan`.
	 */
	void (*heard)(void *data, const struct ble_heard *h);
	/* A message worth logging; sensors/ never logs itself. Repeated
	 * "malformed payload from X" is rate-limited per device. No health
	 * values at levels above G_LOG_LEVEL_DEBUG. */
	void (*log)(void *data, GLogLevelFlags level, const char *message);
	/*
	 * The standard scale @address offers the User Data Service: FALSE
	 * (or no op) to leave it alone, TRUE with @ret saying whom to consent
	 * as or that a user is to be registered. Asked once per connection,
	 * before its weighings are read.
	 */
	bool (*uds_user)(void *data, const char *address,
			 struct ble_uds_user *ret);
	/* The scale @address registered a user for us: @user_index with
	 * @consent_code, to keep for every later connection. */
	void (*uds_registered)(void *data, const char *address,
			       uint8_t user_index, uint16_t consent_code);
};

/* Counters since ble_client_new(). */
struct ble_stats {
	unsigned foreign_heard; /* device objects of foreign devices seen */
	unsigned connect_calls; /* Device1.Connect() calls made */
	unsigned readings;	/* ble_ops.reading calls */
	unsigned notifications; /* values received by notify/indicate */
	unsigned malformed;    /* values from our devices that did not decode */
	unsigned duplicates;   /* repeated advertisements not passed on */
	unsigned links_lost;   /* sessions that ended */
	unsigned stale_caches; /* resolved without our characteristics */
	unsigned bluez_appeared; /* times org.bluez got an owner */
};

typedef struct ble_client ble_client;

/*
 * BLE_ERROR: what stands between us and the radio, each with a message of
 * one line that says what to do (for the CLI and the daemon's log).
 */
#define BLE_ERROR (ble_error_quark())
GQuark ble_error_quark(void);

enum ble_error {
	BLE_ERROR_NO_SYSTEM_BUS,     /* cannot reach the system bus */
	BLE_ERROR_NO_BLUETOOTHD,     /* nobody owns org.bluez */
	BLE_ERROR_PERMISSION_DENIED, /* the bus policy refuses us */
	BLE_ERROR_NO_ADAPTER,	     /* no (such) adapter */
	BLE_ERROR_ADAPTER_OFF,	     /* the adapter is powered off */
	BLE_ERROR_STARTING,	     /* still waiting for bluetoothd's answer */
	BLE_ERROR_LINK_LOST,	     /* a link ended (reason in the message) */
	BLE_ERROR_CONNECT_FAILED,    /* Connect() failed (BlueZ's error) */
	BLE_ERROR_STALE_CACHE,	     /* services resolved without ours */
	BLE_ERROR_FAILED,	     /* anything else */
};

/*
 * Creates the client and starts watching org.bluez on @bus (a ref is
 * taken), or on the system bus when @bus is NULL (DBUS_SYSTEM_BUS_ADDRESS
 * overrides its address). @cfg and @ops are copied; @data is passed to
 * every op. The allowlist starts empty: see ble_client_set_devices().
 * Returns NULL with BLE_ERROR_NO_SYSTEM_BUS or BLE_ERROR_PERMISSION_DENIED
 * when the system bus cannot be had; bluetoothd being absent is not an
 * error here (it is waited for; see ble_client_check()).
 */
ble_client *ble_client_new(GDBusConnection *bus,
			   const struct ble_client_config *cfg,
			   const struct ble_ops *ops, void *data,
			   GError **error);

/*
 * Replaces the allowlist with @devices (@count entries, copied; an address
 * that is not a Bluetooth address is skipped and logged). Devices that stay
 * with the same kind keep their state and link; devices that leave are
 * disconnected if connected and forgotten. May be called at any time (e.g.
 * on SIGHUP), but not from inside a ble_ops callback.
 */
void ble_client_set_devices(ble_client *c,
			    const struct ble_device_config *devices,
			    size_t count);

/*
 * Scanning on: discovery runs with no UUID filter and DuplicateData, and
 * ble_ops.heard is called for every decodable device heard. It still never
 * connects to or reports readings of foreign devices. Off: discovery only as
 * the allowlist needs it.
 */
void ble_client_set_scanning(ble_client *c, bool on);

/* The counters so far. */
struct ble_stats ble_client_get_stats(const ble_client *c);

/*
 * TRUE when bluetoothd answers and the adapter is there and powered.
 * Otherwise FALSE with a BLE_ERROR whose message is one line saying what to
 * do (BLE_ERROR_STARTING until the first answer from bluetoothd).
 */
gboolean ble_client_check(const ble_client *c, GError **error);

/*
 * The name the allowlisted device @address (either case) advertises, as
 * bluetoothd keeps it (Device1.Name), or NULL: not heard, no name, or not
 * allowlisted. Not validated UTF-8 by us (D-Bus strings are UTF-8); valid
 * until the client next runs, so copy it.
 */
const char *ble_client_device_name(ble_client *c, const char *address);

/*
 * The link state of the allowlisted connectable device @address (either
 * case); BLE_LINK_ABSENT for an advertiser or an address not allowlisted.
 */
enum ble_link_state ble_client_link_state(const ble_client *c,
					  const char *address);

/*
 * TRUE when the allowlisted device @address (either case) is listened to,
 * never connected: a BTHome sensor, a scale given as an advertiser, or a
 * BLE_KIND_SCALE_AUTO scale recognised by a broadcast family. FALSE for
 * connectable devices, a scale not recognised yet, and addresses not
 * allowlisted.
 */
bool ble_client_is_advertiser(const ble_client *c, const char *address);

/* What ble_client_take_advert() did with an advertisement. */
enum ble_advert_fate {
	BLE_ADVERT_FOREIGN,	 /* no address, or not allowlisted: dropped */
	BLE_ADVERT_NOT_LISTENED, /* a connectable device (a strap, a standard
				    scale): its values come over the link */
	BLE_ADVERT_TAKEN,	 /* decoded, and passed on if new */
};

struct advert;

/*
 * An advertisement heard by something other than the adapter: a remote
 * antenna relaying it over MQTT (DESIGN §13). For an allowlisted
 * advertiser (a scale heard in its advertisements, a BTHome sensor, an
 * auto scale it recognises) it goes through the same dispatcher and the
 * same per-device de-duplication as an advertisement bluetoothd reports,
 * so a weighing heard by several antennas and the local radio is one
 * reading through ops.reading, and a value that does not decode is
 * "malformed" (logged rate-limited, counted). @a is borrowed for the call.
 * Works with or without bluetoothd and an adapter.
 */
enum ble_advert_fate ble_client_take_advert(ble_client *c,
					    const struct advert *a);

/*
 * Cancels every pending call, closes every notification socket, ends our
 * StartNotify sessions and discovery (fire and forget: they are bound to a
 * bus connection that may outlive @c) and frees @c. Links are left up: the
 * next client adopts them. NULL-safe. Replies to calls
 * already sent are dropped when they arrive, so the caller's main context
 * should keep running for a moment (tests iterate it) to release them.
 */
void ble_client_free(ble_client *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ble_client, ble_client_free)
