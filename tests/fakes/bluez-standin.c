// SPDX-License-Identifier: MIT
/*
 * bluez-standin: a scriptable stand-in for bluetoothd's D-Bus API, for tests
 * on a private bus. It owns org.bluez on the bus named by --address or
 * DBUS_SYSTEM_BUS_ADDRESS (it refuses to guess) and speaks the documented
 * central-side API: ObjectManager on "/", Adapter1, Device1, Battery1,
 * GattService1, GattCharacteristic1 (ReadValue, WriteValue, StartNotify,
 * StopNotify, AcquireNotify over a SOCK_SEQPACKET pair), GattDescriptor1 and
 * AgentManager1. Tests drive the simulated radio world through
 * org.recoveryd.StandIn1 at /org/recoveryd/StandIn (see tests/fakes/README.md).
 *
 * Behaviour follows BlueZ 5.66 (Debian 12) unless --bluez-version says
 * otherwise: 5.80 lets AcquireNotify take indicate-only characteristics,
 * 5.81 answers a second LE Connect with InProgress instead of Failed, 5.83
 * adds the Device1.Disconnected signal.
 *
 * A bluetoothd restart is simulated by killing this process and starting a
 * new one: SIGTERM behaves like bluetoothd's shutdown (links drop, adapters
 * power off, then the name goes away); SIGKILL just loses the name.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib.h>

#define BLUEZ_NAME	  "org.bluez"
#define IF_ADAPTER	  "org.bluez.Adapter1"
#define IF_DEVICE	  "org.bluez.Device1"
#define IF_BATTERY	  "org.bluez.Battery1"
#define IF_SERVICE	  "org.bluez.GattService1"
#define IF_CHRC		  "org.bluez.GattCharacteristic1"
#define IF_DESC		  "org.bluez.GattDescriptor1"
#define IF_AGENT_MGR	  "org.bluez.AgentManager1"
#define IF_OM		  "org.freedesktop.DBus.ObjectManager"
#define IF_PROPS	  "org.freedesktop.DBus.Properties"
#define IF_INTRO	  "org.freedesktop.DBus.Introspectable"
#define IF_CONTROL	  "org.recoveryd.StandIn1"
#define CONTROL_PATH	  "/org/recoveryd/StandIn"
#define BZ_ERR		  "org.bluez.Error."
#define CTL_ERR		  "org.recoveryd.StandIn.Error."
#define UUID_TAIL	  "-0000-1000-8000-00805f9b34fb"
#define UUID_BATTERY_SVC  "0000180f" UUID_TAIL
#define UUID_BATTERY_CHRC "00002a19" UUID_TAIL
#define UUID_GATT_SVC	  "00001801" UUID_TAIL
#define UUID_CCC	  "00002902" UUID_TAIL

/* Reasons of Device1.Disconnected (BlueZ 5.83, src/device.c). */
enum reason {
	REASON_UNKNOWN,
	REASON_TIMEOUT,
	REASON_LOCAL,
	REASON_REMOTE,
	REASON_AUTH,
	REASON_SUSPEND,
};

static const struct {
	const char *word;
	const char *name;
	const char *message;
} reasons[] = {
	[REASON_UNKNOWN] = { "unknown", "org.bluez.Reason.Unknown",
			     "Unspecified" },
	[REASON_TIMEOUT] = { "timeout", "org.bluez.Reason.Timeout",
			     "Connection timeout" },
	[REASON_LOCAL] = { "local", "org.bluez.Reason.Local",
			   "Connection terminated by local host" },
	[REASON_REMOTE] = { "remote", "org.bluez.Reason.Remote",
			    "Connection terminated by remote user" },
	[REASON_AUTH] = { "auth", "org.bluez.Reason.Authentication",
			  "Connection terminated due to authentication "
			  "failure" },
	[REASON_SUSPEND] = { "suspend", "org.bluez.Reason.Suspend",
			     "Connection terminated by local host for "
			     "suspend" },
};

/* Characteristic properties, in the order of the Core spec's bit field. */
enum {
	CF_BROADCAST = 1u << 0,
	CF_READ = 1u << 1,
	CF_WRITE_NR = 1u << 2,
	CF_WRITE = 1u << 3,
	CF_NOTIFY = 1u << 4,
	CF_INDICATE = 1u << 5,
};

static const char *const flag_names[] = {
	"broadcast", "read",   "write-without-response",
	"write",     "notify", "indicate",
};

enum behaviour {
	BEH_OK,		/* connect, then resolve services */
	BEH_FAIL,	/* answer Connect with an error */
	BEH_HANG,	/* never answer Connect (until Disconnect) */
	BEH_TIMEOUT,	/* fail as a page timeout does, after a while */
	BEH_NO_RESOLVE, /* connect, services never resolve */
};

typedef struct World World;
typedef struct Adapter Adapter;
typedef struct Device Device;
typedef struct GattSvc GattSvc;
typedef struct GattChr GattChr;
typedef struct GattDsc GattDsc;
typedef struct Stream Stream;

typedef struct {
	char *svc; /* 128-bit UUIDs, lower case */
	char *chr;
	guint flags;
} ChrSpec;

typedef struct {
	GPtrArray *uuids; /* char* 128-bit */
	gboolean has_rssi;
	gint16 rssi;
	gboolean has_pathloss;
	gboolean bredr_only;
	gboolean duplicate;
	char *pattern;
} Filter;

typedef struct {
	char *sender;
	Filter *filter;	 /* NULL: no filter */
	gboolean active; /* StartDiscovery called and not stopped */
} DiscClient;

struct World {
	GDBusConnection *conn;
	GDBusNodeInfo *node;
	GMainLoop *loop;
	guint lost_sub;
	guint noc_sub;
	gulong closed_handler;
	guint reg_om;
	guint reg_bluez;
	guint reg_ctl;
	GPtrArray *adapters; /* Adapter* */
	GHashTable *calls;   /* char* -> count */
	GVariant *last_filter;
	int version; /* BlueZ 5.x minor number */
	gboolean connected_signal;
	guint temp_timeout_ms;
	guint scan_delay_ms;
	gboolean shutting_down;
	int status;
};

struct Adapter {
	World *w;
	char *id;
	char *path;
	char *address;
	char *alias;
	gboolean powered;
	gboolean discoverable;
	gboolean pairable;
	guint32 discoverable_timeout;
	guint32 pairable_timeout;
	gboolean discovering;
	GHashTable *clients; /* sender -> DiscClient* */
	GPtrArray *devices;  /* Device*, exported or not */
	guint reg;
	guint scan_source;
};

struct Device {
	Adapter *a;
	char *address;
	char *path;
	char *name;
	char *alias; /* NULL: the name, or the address */
	char *address_type;
	gboolean connectable;
	gboolean paired;
	gboolean trusted;
	gboolean blocked;
	gboolean known; /* exported without discovery, like a bonded one */
	gboolean in_range;
	gboolean temporary;
	guint16 appearance;
	GPtrArray *uuids_adv;  /* advertised service UUIDs */
	GPtrArray *uuids_gatt; /* learnt from service discovery */
	GHashTable *sd_world;  /* uuid -> GBytes: what the device sends */
	GHashTable *sd_seen;   /* what Device1.ServiceData shows */
	GHashTable *md_world;  /* company id -> GBytes */
	GHashTable *md_seen;
	gint16 rssi_world;
	gint16 rssi_seen;
	gboolean rssi_valid;
	GPtrArray *specs;    /* ChrSpec* */
	GHashTable *values;  /* chr uuid -> GBytes, the peripheral's values */
	GHashTable *written; /* chr uuid -> GBytes, last value written */
	GPtrArray *writes;   /* Written*: every write, in order */
	GPtrArray *replies;  /* WriteReply*: SetWriteReply's scripts */
	GPtrArray *pending;  /* Pending*: replies on their way */
	guint reg;
	guint reg_batt;
	guint temp_timer;
	gboolean connecting;
	gboolean connected;
	gboolean resolved;
	GDBusMethodInvocation *connect_inv;
	guint connect_timer;
	guint resolve_timer;
	guint disconnect_timer;
	GPtrArray *disconnect_invs; /* Disconnect/RemoveDevice waiting */
	gboolean remove_after_disconnect;
	GPtrArray *svcs; /* GattSvc* */
	guint next_handle;
	guint connections;
	enum behaviour beh;
	char *fail_name;
	char *fail_message;
	guint beh_count; /* connects the behaviour applies to, 0: all */
	guint connect_delay_ms;
	guint resolve_delay_ms;
	guint connect_timeout_ms;
	guint disconnect_delay_ms;
	guint16 mtu;
	gboolean stale;
	gboolean gatt_cache;
	gboolean connected_signal;
	GPtrArray *streams; /* Stream* */
};

struct GattSvc {
	Device *d;
	char *uuid;
	char *path;
	guint16 handle;
	guint reg;
	GPtrArray *chrs; /* GattChr* */
};

struct GattChr {
	GattSvc *s;
	char *uuid;
	char *path;
	guint16 handle;
	guint flags;
	guint reg;
	GBytes *value;		   /* cached Value, NULL: none yet */
	GHashTable *notify_owners; /* sender -> unused: StartNotify sessions */
	gboolean notifying;
	int acq_fd; /* our end of the AcquireNotify pair, -1: none */
	guint acq_watch;
	char *acq_owner;
	GattDsc *ccc;
};

struct GattDsc {
	GattChr *c;
	char *uuid;
	char *path;
	guint16 handle;
	guint reg;
	GBytes *value;
};

/* One write as it came (GetDeviceState "writes"). */
typedef struct {
	char *uuid;
	GBytes *value;
	char *type; /* "request" or "command" */
} Written;

/*
 * SetWriteReply: a write to @chr whose value starts with @prefix is answered
 * by each of @values, notified or indicated on @notify in order.
 */
typedef struct {
	char *chr;
	GBytes *prefix;
	char *notify;
	GPtrArray *values; /* GBytes* */
} WriteReply;

/* A reply due a moment after its write was answered. */
typedef struct {
	Device *d;
	char *notify;
	GPtrArray *values; /* GBytes* */
	guint timer;
} Pending;

struct Stream {
	Device *d;
	char *uuid;
	GBytes *value;
	guint rate;
	guint count;
	guint sent;
	guint delivered;
	guint dropped;
	gint64 start_us;
	guint timer;
	gssize seq_offset; /* -1: the value as given */
};

static void device_free(Device *d);
static void gatt_svc_free(GattSvc *s);
static void stream_free(Stream *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Device, device_free)

/* --- Introspection --------------------------------------------------- */

static const char introspection_head[] =
    "<node>"
    "<interface name='org.freedesktop.DBus.ObjectManager'>"
    " <method name='GetManagedObjects'>"
    "  <arg name='objects' type='a{oa{sa{sv}}}' direction='out'/>"
    " </method>"
    " <signal name='InterfacesAdded'>"
    "  <arg name='object' type='o'/>"
    "  <arg name='interfaces' type='a{sa{sv}}'/>"
    " </signal>"
    " <signal name='InterfacesRemoved'>"
    "  <arg name='object' type='o'/>"
    "  <arg name='interfaces' type='as'/>"
    " </signal>"
    "</interface>"
    "<interface name='org.bluez.AgentManager1'>"
    " <method name='RegisterAgent'>"
    "  <arg name='agent' type='o' direction='in'/>"
    "  <arg name='capability' type='s' direction='in'/>"
    " </method>"
    " <method name='UnregisterAgent'>"
    "  <arg name='agent' type='o' direction='in'/>"
    " </method>"
    " <method name='RequestDefaultAgent'>"
    "  <arg name='agent' type='o' direction='in'/>"
    " </method>"
    "</interface>"
    "<interface name='org.bluez.Adapter1'>"
    " <method name='StartDiscovery'/>"
    " <method name='SetDiscoveryFilter'>"
    "  <arg name='properties' type='a{sv}' direction='in'/>"
    " </method>"
    " <method name='StopDiscovery'/>"
    " <method name='RemoveDevice'>"
    "  <arg name='device' type='o' direction='in'/>"
    " </method>"
    " <method name='GetDiscoveryFilters'>"
    "  <arg name='filters' type='as' direction='out'/>"
    " </method>"
    " <property name='Address' type='s' access='read'/>"
    " <property name='AddressType' type='s' access='read'/>"
    " <property name='Name' type='s' access='read'/>"
    " <property name='Alias' type='s' access='readwrite'/>"
    " <property name='Class' type='u' access='read'/>"
    " <property name='Powered' type='b' access='readwrite'/>"
    " <property name='Discoverable' type='b' access='readwrite'/>"
    " <property name='DiscoverableTimeout' type='u' access='readwrite'/>"
    " <property name='Pairable' type='b' access='readwrite'/>"
    " <property name='PairableTimeout' type='u' access='readwrite'/>"
    " <property name='Discovering' type='b' access='read'/>"
    " <property name='UUIDs' type='as' access='read'/>"
    " <property name='Modalias' type='s' access='read'/>"
    " <property name='Roles' type='as' access='read'/>"
    "</interface>"
    "<interface name='org.bluez.Device1'>"
    " <method name='Disconnect'/>"
    " <method name='Connect'/>"
    " <method name='ConnectProfile'>"
    "  <arg name='UUID' type='s' direction='in'/>"
    " </method>"
    " <method name='DisconnectProfile'>"
    "  <arg name='UUID' type='s' direction='in'/>"
    " </method>"
    " <method name='Pair'/>"
    " <method name='CancelPairing'/>";

/* Only from BlueZ 5.83 on. */
static const char introspection_disconnected[] =
    " <signal name='Disconnected'>"
    "  <arg name='name' type='s'/>"
    "  <arg name='message' type='s'/>"
    " </signal>";

static const char introspection_tail[] =
    " <property name='Address' type='s' access='read'/>"
    " <property name='AddressType' type='s' access='read'/>"
    " <property name='Name' type='s' access='read'/>"
    " <property name='Alias' type='s' access='readwrite'/>"
    " <property name='Appearance' type='q' access='read'/>"
    " <property name='Paired' type='b' access='read'/>"
    " <property name='Bonded' type='b' access='read'/>"
    " <property name='Trusted' type='b' access='readwrite'/>"
    " <property name='Blocked' type='b' access='readwrite'/>"
    " <property name='LegacyPairing' type='b' access='read'/>"
    " <property name='RSSI' type='n' access='read'/>"
    " <property name='Connected' type='b' access='read'/>"
    " <property name='UUIDs' type='as' access='read'/>"
    " <property name='Adapter' type='o' access='read'/>"
    " <property name='ManufacturerData' type='a{qv}' access='read'/>"
    " <property name='ServiceData' type='a{sv}' access='read'/>"
    " <property name='ServicesResolved' type='b' access='read'/>"
    "</interface>"
    "<interface name='org.bluez.Battery1'>"
    " <property name='Percentage' type='y' access='read'/>"
    "</interface>"
    "<interface name='org.bluez.GattService1'>"
    " <property name='UUID' type='s' access='read'/>"
    " <property name='Device' type='o' access='read'/>"
    " <property name='Primary' type='b' access='read'/>"
    " <property name='Includes' type='ao' access='read'/>"
    "</interface>"
    "<interface name='org.bluez.GattCharacteristic1'>"
    " <method name='ReadValue'>"
    "  <arg name='options' type='a{sv}' direction='in'/>"
    "  <arg name='value' type='ay' direction='out'/>"
    " </method>"
    " <method name='WriteValue'>"
    "  <arg name='value' type='ay' direction='in'/>"
    "  <arg name='options' type='a{sv}' direction='in'/>"
    " </method>"
    " <method name='AcquireWrite'>"
    "  <arg name='options' type='a{sv}' direction='in'/>"
    "  <arg name='fd' type='h' direction='out'/>"
    "  <arg name='mtu' type='q' direction='out'/>"
    " </method>"
    " <method name='AcquireNotify'>"
    "  <arg name='options' type='a{sv}' direction='in'/>"
    "  <arg name='fd' type='h' direction='out'/>"
    "  <arg name='mtu' type='q' direction='out'/>"
    " </method>"
    " <method name='StartNotify'/>"
    " <method name='StopNotify'/>"
    " <property name='UUID' type='s' access='read'/>"
    " <property name='Service' type='o' access='read'/>"
    " <property name='Value' type='ay' access='read'/>"
    " <property name='Notifying' type='b' access='read'/>"
    " <property name='Flags' type='as' access='read'/>"
    " <property name='NotifyAcquired' type='b' access='read'/>"
    " <property name='MTU' type='q' access='read'/>"
    "</interface>"
    "<interface name='org.bluez.GattDescriptor1'>"
    " <method name='ReadValue'>"
    "  <arg name='options' type='a{sv}' direction='in'/>"
    "  <arg name='value' type='ay' direction='out'/>"
    " </method>"
    " <method name='WriteValue'>"
    "  <arg name='value' type='ay' direction='in'/>"
    "  <arg name='options' type='a{sv}' direction='in'/>"
    " </method>"
    " <property name='UUID' type='s' access='read'/>"
    " <property name='Characteristic' type='o' access='read'/>"
    " <property name='Value' type='ay' access='read'/>"
    "</interface>"
    "<interface name='org.recoveryd.StandIn1'>"
    " <method name='AddDevice'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='name' type='s' direction='in'/>"
    "  <arg name='props' type='a{sv}' direction='in'/>"
    "  <arg name='path' type='o' direction='out'/>"
    " </method>"
    " <method name='RemoveDevice'>"
    "  <arg name='address' type='s' direction='in'/>"
    " </method>"
    " <method name='SetDeviceOption'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='key' type='s' direction='in'/>"
    "  <arg name='value' type='v' direction='in'/>"
    " </method>"
    " <method name='SetServiceData'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='uuid' type='s' direction='in'/>"
    "  <arg name='data' type='ay' direction='in'/>"
    " </method>"
    " <method name='SetManufacturerData'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='company' type='q' direction='in'/>"
    "  <arg name='data' type='ay' direction='in'/>"
    " </method>"
    " <method name='SetRSSI'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='rssi' type='n' direction='in'/>"
    " </method>"
    " <method name='Advertise'>"
    "  <arg name='address' type='s' direction='in'/>"
    " </method>"
    " <method name='SetValue'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='char_uuid' type='s' direction='in'/>"
    "  <arg name='value' type='ay' direction='in'/>"
    " </method>"
    " <method name='SetWriteReply'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='char_uuid' type='s' direction='in'/>"
    "  <arg name='prefix' type='ay' direction='in'/>"
    "  <arg name='notify_uuid' type='s' direction='in'/>"
    "  <arg name='values' type='aay' direction='in'/>"
    " </method>"
    " <method name='Notify'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='char_uuid' type='s' direction='in'/>"
    "  <arg name='value' type='ay' direction='in'/>"
    "  <arg name='delivered' type='b' direction='out'/>"
    " </method>"
    " <method name='StartNotifyStream'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='char_uuid' type='s' direction='in'/>"
    "  <arg name='value' type='ay' direction='in'/>"
    "  <arg name='rate_hz' type='u' direction='in'/>"
    "  <arg name='count' type='u' direction='in'/>"
    " </method>"
    " <method name='StartNotifyStreamSeq'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='char_uuid' type='s' direction='in'/>"
    "  <arg name='value' type='ay' direction='in'/>"
    "  <arg name='rate_hz' type='u' direction='in'/>"
    "  <arg name='count' type='u' direction='in'/>"
    "  <arg name='seq_offset' type='u' direction='in'/>"
    " </method>"
    " <method name='StopNotifyStream'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='char_uuid' type='s' direction='in'/>"
    "  <arg name='sent' type='u' direction='out'/>"
    "  <arg name='delivered' type='u' direction='out'/>"
    "  <arg name='dropped' type='u' direction='out'/>"
    " </method>"
    " <method name='GetStreamStats'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='char_uuid' type='s' direction='in'/>"
    "  <arg name='running' type='b' direction='out'/>"
    "  <arg name='sent' type='u' direction='out'/>"
    "  <arg name='delivered' type='u' direction='out'/>"
    "  <arg name='dropped' type='u' direction='out'/>"
    " </method>"
    " <signal name='StreamFinished'>"
    "  <arg name='address' type='s'/>"
    "  <arg name='char_uuid' type='s'/>"
    "  <arg name='sent' type='u'/>"
    "  <arg name='delivered' type='u'/>"
    "  <arg name='dropped' type='u'/>"
    " </signal>"
    " <method name='SetConnectBehaviour'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='behaviour' type='s' direction='in'/>"
    " </method>"
    " <method name='DropConnection'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='reason' type='s' direction='in'/>"
    " </method>"
    " <method name='SetStaleCache'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='stale' type='b' direction='in'/>"
    " </method>"
    " <method name='SetPowered'>"
    "  <arg name='powered' type='b' direction='in'/>"
    " </method>"
    " <method name='GetCalls'>"
    "  <arg name='calls' type='a{su}' direction='out'/>"
    " </method>"
    " <method name='ResetCalls'/>"
    " <method name='GetLastDiscoveryFilter'>"
    "  <arg name='filter' type='a{sv}' direction='out'/>"
    " </method>"
    " <method name='GetDeviceState'>"
    "  <arg name='address' type='s' direction='in'/>"
    "  <arg name='state' type='a{sv}' direction='out'/>"
    " </method>"
    " <method name='Quit'/>"
    "</interface>"
    "</node>";

/* --- Small helpers ---------------------------------------------------- */

static gboolean is_hex(const char *s, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		if (!g_ascii_isxdigit(s[i]))
			return FALSE;
	}
	return TRUE;
}

/*
 * "180d", "0x180D", "0000180d" or a full UUID, as BlueZ shows them: 128-bit,
 * lower case. NULL if it is none of those.
 */
static char *uuid_normalise(const char *in)
{
	const char *s = in;

	if (s == NULL)
		return NULL;
	if (g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X"))
		s += 2;
	gsize n = strlen(s);
	if (n == 4 && is_hex(s, 4)) {
		g_autofree char *u = g_strdup_printf("0000%s" UUID_TAIL, s);
		return g_ascii_strdown(u, -1);
	}
	if (n == 8 && is_hex(s, 8)) {
		g_autofree char *u = g_strdup_printf("%s" UUID_TAIL, s);
		return g_ascii_strdown(u, -1);
	}
	if (n == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' &&
	    s[23] == '-' && is_hex(s, 8) && is_hex(s + 9, 4) &&
	    is_hex(s + 14, 4) && is_hex(s + 19, 4) && is_hex(s + 24, 12))
		return g_ascii_strdown(s, -1);
	return NULL;
}

/* "aa:bb:..." to "AA:BB:...", NULL if not a Bluetooth address. */
static char *address_normalise(const char *in)
{
	if (in == NULL || strlen(in) != 17)
		return NULL;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? in[i] != ':' : !g_ascii_isxdigit(in[i]))
			return NULL;
	}
	return g_ascii_strup(in, -1);
}

static GVariant *bytes_variant(GBytes *b)
{
	return g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, b, TRUE);
}

/* The caller has checked the type is "ay". */
static GBytes *variant_bytes(GVariant *v)
{
	gsize n = 0;
	const guint8 *p = g_variant_get_fixed_array(v, &n, 1);
	return g_bytes_new(p, n);
}

static GVariant *strv_variant(GPtrArray *a)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
	for (guint i = 0; a != NULL && i < a->len; i++)
		g_variant_builder_add(&b, "s", (const char *)a->pdata[i]);
	return g_variant_builder_end(&b);
}

static gboolean ptr_array_has_str(GPtrArray *a, const char *s)
{
	for (guint i = 0; a != NULL && i < a->len; i++) {
		if (strcmp(a->pdata[i], s) == 0)
			return TRUE;
	}
	return FALSE;
}

static void count_call(World *w, const char *method, const char *scope)
{
	const char *key = method;
	g_autofree char *scoped = NULL;

	if (scope != NULL) {
		scoped = g_strdup_printf("%s:%s", method, scope);
		key = scoped;
	}
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(w->calls, key));
	g_hash_table_insert(w->calls, g_strdup(key), GUINT_TO_POINTER(n + 1));
}

static void return_error(GDBusMethodInvocation *inv, const char *name,
			 const char *message)
{
	g_dbus_method_invocation_return_dbus_error(inv, name, message);
}

static void emit(World *w, const char *path, const char *iface,
		 const char *signal, GVariant *params)
{
	g_autoptr(GError) error = NULL;

	if (!g_dbus_connection_emit_signal(w->conn, NULL, path, iface, signal,
					   params, &error))
		g_debug("emit %s.%s on %s: %s", iface, signal, path,
			error->message);
}

/* Errors a property setter gives back, with BlueZ's names. */
enum bz_error {
	BZ_ERROR_FAILED,
	BZ_ERROR_NOT_READY,
	BZ_ERROR_INVALID_ARGUMENTS,
};

static const GDBusErrorEntry bz_error_entries[] = {
	{ BZ_ERROR_FAILED, BZ_ERR "Failed" },
	{ BZ_ERROR_NOT_READY, BZ_ERR "NotReady" },
	{ BZ_ERROR_INVALID_ARGUMENTS, BZ_ERR "InvalidArguments" },
};

static GQuark bz_error_quark(void)
{
	static gsize quark = 0;

	g_dbus_error_register_error_domain("bluez-standin-error-quark", &quark,
					   bz_error_entries,
					   G_N_ELEMENTS(bz_error_entries));
	return (GQuark)quark;
}

/* --- Properties --------------------------------------------------------- */

static GVariant *adapter_get(Adapter *a, const char *p)
{
	if (strcmp(p, "Address") == 0)
		return g_variant_new_string(a->address);
	if (strcmp(p, "AddressType") == 0)
		return g_variant_new_string("public");
	if (strcmp(p, "Name") == 0)
		return g_variant_new_string("standin");
	if (strcmp(p, "Alias") == 0)
		return g_variant_new_string(a->alias);
	if (strcmp(p, "Class") == 0)
		return g_variant_new_uint32(0);
	if (strcmp(p, "Powered") == 0)
		return g_variant_new_boolean(a->powered);
	if (strcmp(p, "Discoverable") == 0)
		return g_variant_new_boolean(a->discoverable);
	if (strcmp(p, "DiscoverableTimeout") == 0)
		return g_variant_new_uint32(a->discoverable_timeout);
	if (strcmp(p, "Pairable") == 0)
		return g_variant_new_boolean(a->pairable);
	if (strcmp(p, "PairableTimeout") == 0)
		return g_variant_new_uint32(a->pairable_timeout);
	if (strcmp(p, "Discovering") == 0)
		return g_variant_new_boolean(a->discovering);
	if (strcmp(p, "UUIDs") == 0) {
		static const char *const uuids[] = { "00001800" UUID_TAIL,
						     "00001801" UUID_TAIL,
						     "0000180a" UUID_TAIL,
						     NULL };
		return g_variant_new_strv(uuids, -1);
	}
	if (strcmp(p, "Modalias") == 0)
		return g_variant_new_string("usb:v1D6Bp0246d0542");
	if (strcmp(p, "Roles") == 0) {
		static const char *const roles[] = { "central", "peripheral",
						     NULL };
		return g_variant_new_strv(roles, -1);
	}
	return NULL;
}

static GVariant *bytes_dict(GHashTable *t, gboolean by_company)
{
	GVariantBuilder b;
	GHashTableIter it;
	gpointer k;
	gpointer v;

	g_variant_builder_init(&b, by_company ? G_VARIANT_TYPE("a{qv}")
					      : G_VARIANT_TYPE("a{sv}"));
	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (by_company)
			g_variant_builder_add(&b, "{qv}",
					      (guint16)GPOINTER_TO_UINT(k),
					      bytes_variant(v));
		else
			g_variant_builder_add(&b, "{sv}", (const char *)k,
					      bytes_variant(v));
	}
	return g_variant_builder_end(&b);
}

static GVariant *device_uuids(Device *d)
{
	if (d->uuids_gatt->len > 0)
		return strv_variant(d->uuids_gatt);
	return strv_variant(d->uuids_adv);
}

static GVariant *device_get(Device *d, const char *p)
{
	if (strcmp(p, "Address") == 0)
		return g_variant_new_string(d->address);
	if (strcmp(p, "AddressType") == 0)
		return g_variant_new_string(d->address_type);
	if (strcmp(p, "Name") == 0)
		return d->name[0] ? g_variant_new_string(d->name) : NULL;
	if (strcmp(p, "Alias") == 0) {
		if (d->alias != NULL)
			return g_variant_new_string(d->alias);
		if (d->name[0])
			return g_variant_new_string(d->name);
		g_autofree char *s = g_strdup(d->address);
		g_strdelimit(s, ":", '-');
		return g_variant_new_string(s);
	}
	if (strcmp(p, "Appearance") == 0)
		return d->appearance ? g_variant_new_uint16(d->appearance)
				     : NULL;
	if (strcmp(p, "Paired") == 0 || strcmp(p, "Bonded") == 0)
		return g_variant_new_boolean(d->paired);
	if (strcmp(p, "Trusted") == 0)
		return g_variant_new_boolean(d->trusted);
	if (strcmp(p, "Blocked") == 0)
		return g_variant_new_boolean(d->blocked);
	if (strcmp(p, "LegacyPairing") == 0)
		return g_variant_new_boolean(FALSE);
	if (strcmp(p, "RSSI") == 0)
		return d->rssi_valid ? g_variant_new_int16(d->rssi_seen) : NULL;
	if (strcmp(p, "Connected") == 0)
		return g_variant_new_boolean(d->connected);
	if (strcmp(p, "UUIDs") == 0)
		return device_uuids(d);
	if (strcmp(p, "Adapter") == 0)
		return g_variant_new_object_path(d->a->path);
	if (strcmp(p, "ManufacturerData") == 0)
		return g_hash_table_size(d->md_seen)
			   ? bytes_dict(d->md_seen, TRUE)
			   : NULL;
	if (strcmp(p, "ServiceData") == 0)
		return g_hash_table_size(d->sd_seen)
			   ? bytes_dict(d->sd_seen, FALSE)
			   : NULL;
	if (strcmp(p, "ServicesResolved") == 0)
		return g_variant_new_boolean(d->resolved);
	return NULL;
}

static guint8 device_battery(Device *d)
{
	GBytes *b = g_hash_table_lookup(d->values, UUID_BATTERY_CHRC);
	gsize n = 0;
	const guint8 *p = b ? g_bytes_get_data(b, &n) : NULL;

	return n > 0 ? MIN(p[0], 100) : 0;
}

static GVariant *battery_get(Device *d, const char *p)
{
	if (strcmp(p, "Percentage") == 0)
		return g_variant_new_byte(device_battery(d));
	return NULL;
}

static GVariant *svc_get(GattSvc *s, const char *p)
{
	if (strcmp(p, "UUID") == 0)
		return g_variant_new_string(s->uuid);
	if (strcmp(p, "Device") == 0)
		return g_variant_new_object_path(s->d->path);
	if (strcmp(p, "Primary") == 0)
		return g_variant_new_boolean(TRUE);
	if (strcmp(p, "Includes") == 0)
		return g_variant_new_objv(NULL, 0);
	return NULL;
}

static GVariant *chr_get(GattChr *c, const char *p)
{
	if (strcmp(p, "UUID") == 0)
		return g_variant_new_string(c->uuid);
	if (strcmp(p, "Service") == 0)
		return g_variant_new_object_path(c->s->path);
	if (strcmp(p, "Value") == 0)
		return c->value ? bytes_variant(c->value) : NULL;
	if (strcmp(p, "Notifying") == 0)
		return c->flags & (CF_NOTIFY | CF_INDICATE)
			   ? g_variant_new_boolean(c->notifying)
			   : NULL;
	if (strcmp(p, "Flags") == 0) {
		GVariantBuilder b;
		g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
		for (guint i = 0; i < G_N_ELEMENTS(flag_names); i++) {
			if (c->flags & (1u << i))
				g_variant_builder_add(&b, "s", flag_names[i]);
		}
		return g_variant_builder_end(&b);
	}
	if (strcmp(p, "NotifyAcquired") == 0)
		return c->flags & CF_NOTIFY
			   ? g_variant_new_boolean(c->acq_fd >= 0)
			   : NULL;
	if (strcmp(p, "MTU") == 0)
		return c->s->d->connected ? g_variant_new_uint16(c->s->d->mtu)
					  : NULL;
	return NULL;
}

static GVariant *dsc_get(GattDsc *x, const char *p)
{
	if (strcmp(p, "UUID") == 0)
		return g_variant_new_string(x->uuid);
	if (strcmp(p, "Characteristic") == 0)
		return g_variant_new_object_path(x->c->path);
	if (strcmp(p, "Value") == 0)
		return x->value ? bytes_variant(x->value) : NULL;
	return NULL;
}

static GVariant *prop_get(const char *iface, void *obj, const char *p)
{
	if (strcmp(iface, IF_ADAPTER) == 0)
		return adapter_get(obj, p);
	if (strcmp(iface, IF_DEVICE) == 0)
		return device_get(obj, p);
	if (strcmp(iface, IF_BATTERY) == 0)
		return battery_get(obj, p);
	if (strcmp(iface, IF_SERVICE) == 0)
		return svc_get(obj, p);
	if (strcmp(iface, IF_CHRC) == 0)
		return chr_get(obj, p);
	if (strcmp(iface, IF_DESC) == 0)
		return dsc_get(obj, p);
	return NULL;
}

/* Every property that exists now, as GetAll and ObjectManager show them. */
static GVariant *all_props(World *w, const char *iface, void *obj)
{
	GDBusInterfaceInfo *info =
	    g_dbus_node_info_lookup_interface(w->node, iface);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	for (guint i = 0; info->properties && info->properties[i]; i++) {
		const char *name = info->properties[i]->name;
		GVariant *v = prop_get(iface, obj, name);
		if (v != NULL)
			g_variant_builder_add(&b, "{sv}", name, v);
	}
	return g_variant_builder_end(&b);
}

/*
 * PropertiesChanged with the named properties: those that exist now as
 * changed, those that do not as invalidated (what BlueZ's gdbus does).
 */
static void changed_v(World *w, const char *path, const char *iface, void *obj,
		      const char *const *names)
{
	GVariantBuilder ch;
	GVariantBuilder inv;

	g_variant_builder_init(&ch, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_init(&inv, G_VARIANT_TYPE_STRING_ARRAY);
	for (guint i = 0; names[i] != NULL; i++) {
		GVariant *v = prop_get(iface, obj, names[i]);
		if (v != NULL)
			g_variant_builder_add(&ch, "{sv}", names[i], v);
		else
			g_variant_builder_add(&inv, "s", names[i]);
	}
	emit(w, path, IF_PROPS, "PropertiesChanged",
	     g_variant_new("(sa{sv}as)", iface, &ch, &inv));
}

static void changed1(World *w, const char *path, const char *iface, void *obj,
		     const char *name)
{
	const char *const names[] = { name, NULL };

	changed_v(w, path, iface, obj, names);
}

/* --- Object registration ---------------------------------------------- */

static void vt_method_call(GDBusConnection *conn, const char *sender,
			   const char *path, const char *iface,
			   const char *method, GVariant *params,
			   GDBusMethodInvocation *inv, gpointer user_data);

static GVariant *vt_get_property(GDBusConnection *conn, const char *sender,
				 const char *path, const char *iface,
				 const char *prop, GError **error,
				 gpointer user_data)
{
	GVariant *v = prop_get(iface, user_data, prop);

	if (v == NULL)
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "No such property '%s'", prop);
	return v;
}

static gboolean vt_set_property(GDBusConnection *conn, const char *sender,
				const char *path, const char *iface,
				const char *prop, GVariant *value,
				GError **error, gpointer user_data);

static const GDBusInterfaceVTable vtable = {
	.method_call = vt_method_call,
	.get_property = vt_get_property,
	.set_property = vt_set_property,
};

static guint export_iface(World *w, const char *path, const char *iface,
			  void *obj)
{
	g_autoptr(GError) error = NULL;
	GDBusInterfaceInfo *info =
	    g_dbus_node_info_lookup_interface(w->node, iface);
	guint id = g_dbus_connection_register_object(
	    w->conn, path, info, &vtable, obj, NULL, &error);

	if (id == 0)
		g_printerr("bluez-standin: register %s on %s: %s\n", iface,
			   path, error->message);
	return id;
}

static void unexport_iface(World *w, guint *id)
{
	if (*id != 0)
		g_dbus_connection_unregister_object(w->conn, *id);
	*id = 0;
}

/* InterfacesAdded for a new object with one interface of ours. */
static void announce_added(World *w, const char *path, const char *iface,
			   void *obj, gboolean new_object)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
	if (new_object) {
		g_variant_builder_add(
		    &b, "{s@a{sv}}", IF_INTRO,
		    g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	}
	g_variant_builder_add(&b, "{s@a{sv}}", iface, all_props(w, iface, obj));
	if (new_object) {
		g_variant_builder_add(
		    &b, "{s@a{sv}}", IF_PROPS,
		    g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	}
	emit(w, "/", IF_OM, "InterfacesAdded",
	     g_variant_new("(oa{sa{sv}})", path, &b));
}

static void announce_removed(World *w, const char *path, const char *iface,
			     gboolean whole_object)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
	if (whole_object)
		g_variant_builder_add(&b, "s", IF_INTRO);
	g_variant_builder_add(&b, "s", iface);
	if (whole_object)
		g_variant_builder_add(&b, "s", IF_PROPS);
	emit(w, "/", IF_OM, "InterfacesRemoved",
	     g_variant_new("(oas)", path, &b));
}

/* --- Devices and their GATT database ----------------------------------- */

static void chr_spec_free(ChrSpec *s)
{
	g_free(s->svc);
	g_free(s->chr);
	g_free(s);
}

static void filter_free(Filter *f)
{
	if (f == NULL)
		return;
	g_ptr_array_unref(f->uuids);
	g_free(f->pattern);
	g_free(f);
}

static void disc_client_free(DiscClient *c)
{
	g_free(c->sender);
	filter_free(c->filter);
	g_free(c);
}

static GattChr *device_find_chr(Device *d, const char *uuid)
{
	for (guint i = 0; i < d->svcs->len; i++) {
		GattSvc *s = d->svcs->pdata[i];
		for (guint j = 0; j < s->chrs->len; j++) {
			GattChr *c = s->chrs->pdata[j];
			if (strcmp(c->uuid, uuid) == 0)
				return c;
		}
	}
	return NULL;
}

static const ChrSpec *device_find_spec(Device *d, const char *uuid)
{
	for (guint i = 0; i < d->specs->len; i++) {
		const ChrSpec *s = d->specs->pdata[i];
		if (strcmp(s->chr, uuid) == 0)
			return s;
	}
	return NULL;
}

/* Ends an AcquireNotify: our end is closed, the reader sees EOF/HUP. */
static void chr_release_acquired(GattChr *c, gboolean announce)
{
	if (c->acq_fd < 0)
		return;
	g_clear_handle_id(&c->acq_watch, g_source_remove);
	close(c->acq_fd);
	c->acq_fd = -1;
	g_clear_pointer(&c->acq_owner, g_free);
	if (announce && c->reg != 0)
		changed1(c->s->d->a->w, c->path, IF_CHRC, c, "NotifyAcquired");
}

static gboolean acquired_hup(int fd, GIOCondition cond, gpointer data)
{
	GattChr *c = data;

	g_debug("%s: notify fd closed by its reader", c->path);
	c->acq_watch = 0;
	chr_release_acquired(c, TRUE);
	return G_SOURCE_REMOVE;
}

static void gatt_dsc_free(GattDsc *x)
{
	if (x == NULL)
		return;
	g_free(x->uuid);
	g_free(x->path);
	g_clear_pointer(&x->value, g_bytes_unref);
	g_free(x);
}

static void gatt_chr_free(GattChr *c)
{
	chr_release_acquired(c, FALSE);
	gatt_dsc_free(c->ccc);
	g_free(c->uuid);
	g_free(c->path);
	g_clear_pointer(&c->value, g_bytes_unref);
	g_hash_table_unref(c->notify_owners);
	g_free(c);
}

static void gatt_svc_free(GattSvc *s)
{
	g_ptr_array_unref(s->chrs);
	g_free(s->uuid);
	g_free(s->path);
	g_free(s);
}

static guint16 next_handle(Device *d)
{
	if (d->next_handle == 0 || d->next_handle > 0xff00)
		d->next_handle = 1;
	return (guint16)d->next_handle++;
}

/*
 * The database the device shows on this connection. Handles continue from
 * the last connection's, so every connection gets new object paths (as
 * BlueZ does whenever it re-discovers). A stale cache keeps the services
 * but loses every characteristic outside Generic Attribute.
 */
static void gatt_build(Device *d)
{
	for (guint i = 0; i < d->specs->len; i++) {
		const ChrSpec *spec = d->specs->pdata[i];
		GattSvc *s = NULL;

		for (guint j = 0; j < d->svcs->len; j++) {
			GattSvc *t = d->svcs->pdata[j];
			if (strcmp(t->uuid, spec->svc) == 0)
				s = t;
		}
		if (s == NULL) {
			s = g_new0(GattSvc, 1);
			s->d = d;
			s->uuid = g_strdup(spec->svc);
			s->handle = next_handle(d);
			s->path = g_strdup_printf("%s/service%04x", d->path,
						  s->handle);
			s->chrs = g_ptr_array_new_with_free_func(
			    (GDestroyNotify)gatt_chr_free);
			g_ptr_array_add(d->svcs, s);
		}
		if (d->stale && strcmp(spec->svc, UUID_GATT_SVC) != 0)
			continue;
		if (spec->chr == NULL)
			continue;

		GattChr *c = g_new0(GattChr, 1);
		c->s = s;
		c->uuid = g_strdup(spec->chr);
		c->flags = spec->flags;
		c->handle = next_handle(d);
		(void)next_handle(d); /* the value handle */
		c->path = g_strdup_printf("%s/char%04x", s->path, c->handle);
		c->notify_owners = g_hash_table_new_full(
		    g_str_hash, g_str_equal, g_free, NULL);
		c->acq_fd = -1;
		if (c->flags & (CF_NOTIFY | CF_INDICATE)) {
			GattDsc *x = g_new0(GattDsc, 1);
			x->c = c;
			x->uuid = g_strdup(UUID_CCC);
			x->handle = next_handle(d);
			x->path =
			    g_strdup_printf("%s/desc%04x", c->path, x->handle);
			c->ccc = x;
		}
		g_ptr_array_add(s->chrs, c);
	}
	d->next_handle += 8; /* a gap, as between real databases */
}

static void gatt_export(Device *d)
{
	World *w = d->a->w;

	for (guint i = 0; i < d->svcs->len; i++) {
		GattSvc *s = d->svcs->pdata[i];
		s->reg = export_iface(w, s->path, IF_SERVICE, s);
		announce_added(w, s->path, IF_SERVICE, s, TRUE);
		for (guint j = 0; j < s->chrs->len; j++) {
			GattChr *c = s->chrs->pdata[j];
			c->reg = export_iface(w, c->path, IF_CHRC, c);
			announce_added(w, c->path, IF_CHRC, c, TRUE);
			if (c->ccc != NULL) {
				GattDsc *x = c->ccc;
				x->reg = export_iface(w, x->path, IF_DESC, x);
				announce_added(w, x->path, IF_DESC, x, TRUE);
			}
		}
	}
}

static void gatt_destroy(Device *d, gboolean announce)
{
	World *w = d->a->w;

	for (guint i = d->svcs->len; i-- > 0;) {
		GattSvc *s = d->svcs->pdata[i];
		for (guint j = s->chrs->len; j-- > 0;) {
			GattChr *c = s->chrs->pdata[j];
			if (c->ccc != NULL && c->ccc->reg != 0) {
				unexport_iface(w, &c->ccc->reg);
				if (announce)
					announce_removed(w, c->ccc->path,
							 IF_DESC, TRUE);
			}
			if (c->reg != 0) {
				unexport_iface(w, &c->reg);
				if (announce)
					announce_removed(w, c->path, IF_CHRC,
							 TRUE);
			}
		}
		if (s->reg != 0) {
			unexport_iface(w, &s->reg);
			if (announce)
				announce_removed(w, s->path, IF_SERVICE, TRUE);
		}
	}
	g_ptr_array_set_size(d->svcs, 0);
}

static gboolean device_has_battery(Device *d)
{
	for (guint i = 0; i < d->svcs->len; i++) {
		GattSvc *s = d->svcs->pdata[i];
		if (strcmp(s->uuid, UUID_BATTERY_SVC) == 0)
			return s->chrs->len > 0;
	}
	return FALSE;
}

static void battery_unexport(Device *d, gboolean announce)
{
	if (d->reg_batt == 0)
		return;
	unexport_iface(d->a->w, &d->reg_batt);
	if (announce)
		announce_removed(d->a->w, d->path, IF_BATTERY, FALSE);
}

static void copy_bytes_table(GHashTable *to, GHashTable *from, gboolean str)
{
	GHashTableIter it;
	gpointer k;
	gpointer v;

	g_hash_table_remove_all(to);
	g_hash_table_iter_init(&it, from);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_insert(to, str ? g_strdup(k) : k, g_bytes_ref(v));
}

static gboolean bytes_tables_equal(GHashTable *a, GHashTable *b)
{
	GHashTableIter it;
	gpointer k;
	gpointer v;

	if (g_hash_table_size(a) != g_hash_table_size(b))
		return FALSE;
	g_hash_table_iter_init(&it, a);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		GBytes *o = g_hash_table_lookup(b, k);
		if (o == NULL || !g_bytes_equal(o, v))
			return FALSE;
	}
	return TRUE;
}

/* Device1 appears, showing the advertisement just seen (if scanning). */
static void device_export(Device *d)
{
	World *w = d->a->w;

	if (d->reg != 0)
		return;
	d->temporary = !(d->known || d->paired);
	if (d->a->discovering && d->in_range) {
		copy_bytes_table(d->sd_seen, d->sd_world, TRUE);
		copy_bytes_table(d->md_seen, d->md_world, FALSE);
		d->rssi_seen = d->rssi_world;
		d->rssi_valid = TRUE;
	}
	d->reg = export_iface(w, d->path, IF_DEVICE, d);
	announce_added(w, d->path, IF_DEVICE, d, TRUE);
}

static void device_unexport(Device *d, gboolean announce)
{
	World *w = d->a->w;

	g_clear_handle_id(&d->temp_timer, g_source_remove);
	battery_unexport(d, announce);
	gatt_destroy(d, announce);
	if (d->reg != 0) {
		unexport_iface(w, &d->reg);
		if (announce)
			announce_removed(w, d->path, IF_DEVICE, TRUE);
	}
	g_hash_table_remove_all(d->sd_seen);
	g_hash_table_remove_all(d->md_seen);
	g_ptr_array_set_size(d->uuids_gatt, 0);
	d->rssi_valid = FALSE;
}

static gboolean temp_expired(gpointer data)
{
	Device *d = data;

	d->temp_timer = 0;
	if (d->connected || d->connecting || !d->temporary)
		return G_SOURCE_REMOVE;
	g_debug("%s: temporary device disappears", d->path);
	device_unexport(d, TRUE);
	return G_SOURCE_REMOVE;
}

static void device_start_temp_timer(Device *d)
{
	if (d->reg == 0 || !d->temporary || d->connected || d->connecting)
		return;
	g_clear_handle_id(&d->temp_timer, g_source_remove);
	d->temp_timer =
	    g_timeout_add(d->a->w->temp_timeout_ms, temp_expired, d);
}

/* --- Discovery ------------------------------------------------------------ */

static gboolean filter_match(Adapter *a, Device *d)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->clients);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		DiscClient *c = v;
		Filter *f = c->filter;

		if (!c->active)
			continue;
		if (f == NULL)
			return TRUE;
		if (f->bredr_only)
			continue;
		if (f->uuids->len > 0) {
			gboolean any = FALSE;
			for (guint i = 0; i < f->uuids->len; i++)
				any = any ||
				      ptr_array_has_str(d->uuids_adv,
							f->uuids->pdata[i]);
			if (!any)
				continue;
		}
		if (f->pattern != NULL && f->pattern[0] &&
		    !g_str_has_prefix(d->address, f->pattern) &&
		    !g_str_has_prefix(d->name, f->pattern))
			continue;
		if (f->has_rssi && d->rssi_world < f->rssi)
			continue;
		return TRUE;
	}
	return FALSE;
}

static gboolean duplicate_data(Adapter *a)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->clients);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		DiscClient *c = v;
		if (c->active && c->filter != NULL && c->filter->duplicate)
			return TRUE;
	}
	return FALSE;
}

/*
 * One advertising report from the device reaches the adapter: only while
 * discovering, and only if some discovery filter lets it through.
 */
static void device_report(Device *d)
{
	Adapter *a = d->a;
	const char *names[4];
	guint n = 0;

	if (!a->powered || !a->discovering || !d->in_range)
		return;
	if (!filter_match(a, d))
		return;
	g_clear_handle_id(&d->temp_timer, g_source_remove);
	if (d->reg == 0) {
		device_export(d);
		return;
	}

	gboolean dup = duplicate_data(a);
	if (!d->rssi_valid || d->rssi_seen != d->rssi_world) {
		d->rssi_valid = TRUE;
		d->rssi_seen = d->rssi_world;
		names[n++] = "RSSI";
	}
	if (!bytes_tables_equal(d->sd_seen, d->sd_world) ||
	    (dup && g_hash_table_size(d->sd_world) > 0)) {
		copy_bytes_table(d->sd_seen, d->sd_world, TRUE);
		names[n++] = "ServiceData";
	}
	if (!bytes_tables_equal(d->md_seen, d->md_world) ||
	    (dup && g_hash_table_size(d->md_world) > 0)) {
		copy_bytes_table(d->md_seen, d->md_world, FALSE);
		names[n++] = "ManufacturerData";
	}
	names[n] = NULL;
	if (n > 0)
		changed_v(a->w, d->path, IF_DEVICE, d, names);
}

static gboolean scan_tick(gpointer data)
{
	Adapter *a = data;

	a->scan_source = 0;
	for (guint i = 0; i < a->devices->len; i++)
		device_report(a->devices->pdata[i]);
	return G_SOURCE_REMOVE;
}

static void adapter_schedule_scan(Adapter *a)
{
	if (a->scan_source == 0 && a->discovering)
		a->scan_source =
		    g_timeout_add(a->w->scan_delay_ms, scan_tick, a);
}

/* Discovery ended: RSSI goes stale, temporary devices start to go away. */
static void discovery_cleanup(Adapter *a)
{
	g_clear_handle_id(&a->scan_source, g_source_remove);
	for (guint i = 0; i < a->devices->len; i++) {
		Device *d = a->devices->pdata[i];
		if (d->reg == 0)
			continue;
		if (d->rssi_valid) {
			d->rssi_valid = FALSE;
			changed1(a->w, d->path, IF_DEVICE, d, "RSSI");
		}
		if (!d->temporary || d->connected || d->connecting)
			continue;
		if (!d->connectable)
			device_unexport(d, TRUE);
		else
			device_start_temp_timer(d);
	}
}

static void adapter_update_discovering(Adapter *a)
{
	gboolean active = FALSE;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->clients);
	while (g_hash_table_iter_next(&it, NULL, &v))
		active = active || ((DiscClient *)v)->active;
	if (active == a->discovering)
		return;
	a->discovering = active;
	changed1(a->w, a->path, IF_ADAPTER, a, "Discovering");
	if (active)
		adapter_schedule_scan(a);
	else
		discovery_cleanup(a);
}

/* --- Notifications -------------------------------------------------------- */

/*
 * A notification or indication from the peripheral reaches BlueZ: it goes
 * down the AcquireNotify socket if there is one (one write of exactly the
 * value), else to Value with a PropertiesChanged if someone called
 * StartNotify. Anything else is dropped, as BlueZ drops it (or, really, as
 * the peripheral would not send it). TRUE if delivered.
 */
static gboolean chr_deliver(GattChr *c, GBytes *value)
{
	Device *d = c->s->d;

	if (!d->connected || c->reg == 0)
		return FALSE;
	if (c->acq_fd >= 0) {
		gsize n = 0;
		const void *p = g_bytes_get_data(value, &n);
		ssize_t r = send(c->acq_fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r >= 0 && (gsize)r == n)
			return TRUE;
		if (r < 0 && (errno == EPIPE || errno == ECONNRESET ||
			      errno == ENOTCONN))
			chr_release_acquired(c, TRUE);
		return FALSE;
	}
	if (!c->notifying)
		return FALSE;
	g_clear_pointer(&c->value, g_bytes_unref);
	c->value = g_bytes_ref(value);
	changed1(d->a->w, c->path, IF_CHRC, c, "Value");
	return TRUE;
}

static void written_free(Written *x)
{
	g_free(x->uuid);
	g_bytes_unref(x->value);
	g_free(x->type);
	g_free(x);
}

static void write_reply_free(WriteReply *r)
{
	g_free(r->chr);
	g_bytes_unref(r->prefix);
	g_free(r->notify);
	g_ptr_array_unref(r->values);
	g_free(r);
}

static void pending_free(Pending *p)
{
	g_clear_handle_id(&p->timer, g_source_remove);
	g_free(p->notify);
	g_ptr_array_unref(p->values);
	g_free(p);
}

/* A scripted reply is due: each value in turn, as a notification (dropped,
 * as a real peripheral's would be, if nobody listens or the link is gone). */
static gboolean pending_due(gpointer data)
{
	Pending *p = data;
	Device *d = p->d;
	GattChr *c = device_find_chr(d, p->notify);

	p->timer = 0;
	for (guint i = 0; c != NULL && i < p->values->len; i++)
		chr_deliver(c, p->values->pdata[i]);
	g_ptr_array_remove(d->pending, p);
	return G_SOURCE_REMOVE;
}

/* The first script whose characteristic and prefix match a write. */
static const WriteReply *write_reply_for(Device *d, const char *chr,
					 GBytes *value)
{
	gsize n = 0;
	const guint8 *v = g_bytes_get_data(value, &n);

	for (guint i = 0; i < d->replies->len; i++) {
		const WriteReply *r = d->replies->pdata[i];
		gsize m = 0;
		const guint8 *pre = g_bytes_get_data(r->prefix, &m);

		if (strcmp(r->chr, chr) == 0 && m <= n &&
		    (m == 0 || memcmp(pre, v, m) == 0))
			return r;
	}
	return NULL;
}

static void stream_free(Stream *st)
{
	g_clear_handle_id(&st->timer, g_source_remove);
	g_free(st->uuid);
	g_bytes_unref(st->value);
	g_free(st);
}

static void stream_finish(Stream *st, gboolean announce)
{
	g_clear_handle_id(&st->timer, g_source_remove);
	if (announce)
		emit(st->d->a->w, CONTROL_PATH, IF_CONTROL, "StreamFinished",
		     g_variant_new("(ssuuu)", st->d->address, st->uuid,
				   st->sent, st->delivered, st->dropped));
}

static GBytes *stream_value(Stream *st)
{
	gsize n = 0;
	const guint8 *p = g_bytes_get_data(st->value, &n);

	if (st->seq_offset < 0 || (gsize)st->seq_offset + 2 > n)
		return g_bytes_ref(st->value);
	guint8 *buf = g_memdup2(p, n);
	/* Added to the value's own u16 there (mod 2^16): a field that must
	 * not be 0, an RR interval, carries it as base + n. */
	guint16 seq =
	    (guint16)(buf[st->seq_offset] | buf[st->seq_offset + 1] << 8);
	seq = (guint16)(seq + st->sent);
	buf[st->seq_offset] = (guint8)(seq & 0xff);
	buf[st->seq_offset + 1] = (guint8)(seq >> 8);
	return g_bytes_new_take(buf, n);
}

/*
 * Sends what is due by now, so the rate holds however the ticks fall: the
 * n-th notification (from 0) is due at n / rate seconds after the start.
 */
static gboolean stream_tick(gpointer data)
{
	Stream *st = data;
	gint64 elapsed = g_get_monotonic_time() - st->start_us;
	guint64 due = (guint64)elapsed * st->rate / G_USEC_PER_SEC + 1;
	GattChr *c = device_find_chr(st->d, st->uuid);

	if (due > st->count)
		due = st->count;
	while (st->sent < due) {
		g_autoptr(GBytes) v = stream_value(st);
		if (c != NULL && chr_deliver(c, v))
			st->delivered++;
		else
			st->dropped++;
		st->sent++;
	}
	if (st->sent < st->count)
		return G_SOURCE_CONTINUE;
	st->timer = 0;
	stream_finish(st, TRUE);
	return G_SOURCE_REMOVE;
}

static void device_finish_streams(Device *d)
{
	for (guint i = 0; i < d->streams->len; i++) {
		Stream *st = d->streams->pdata[i];
		if (st->timer != 0)
			stream_finish(st, TRUE);
	}
}

/* --- Connections ---------------------------------------------------------- */

static void device_forget(Device *d);

static void finish_disconnects(Device *d)
{
	while (d->disconnect_invs->len > 0) {
		GDBusMethodInvocation *inv =
		    g_ptr_array_steal_index(d->disconnect_invs, 0);
		g_dbus_method_invocation_return_value(inv, NULL);
	}
	if (d->remove_after_disconnect) {
		d->remove_after_disconnect = FALSE;
		device_forget(d);
	}
}

/* g_ptr_array_sort() hands the comparison pointers to the elements. */
static int cmp_strp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void update_gatt_uuids(Device *d)
{
	g_autoptr(GPtrArray) u = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < d->svcs->len; i++) {
		GattSvc *s = d->svcs->pdata[i];
		if (!ptr_array_has_str(u, s->uuid))
			g_ptr_array_add(u, g_strdup(s->uuid));
	}
	g_ptr_array_sort(u, cmp_strp);
	gboolean same = u->len == d->uuids_gatt->len;
	for (guint i = 0; same && i < u->len; i++)
		same = strcmp(u->pdata[i], d->uuids_gatt->pdata[i]) == 0;
	if (same)
		return;
	g_ptr_array_set_size(d->uuids_gatt, 0);
	for (guint i = 0; i < u->len; i++)
		g_ptr_array_add(d->uuids_gatt, g_strdup(u->pdata[i]));
	changed1(d->a->w, d->path, IF_DEVICE, d, "UUIDs");
}

/*
 * Link loss, local or remote: Disconnected (BlueZ >= 5.83), then
 * ServicesResolved and Connected go false, then the GATT objects go (unless
 * the device keeps a GATT cache). A Connect still waiting fails instead.
 */
static void link_down(Device *d, enum reason r, const char *connect_error)
{
	World *w = d->a->w;

	g_clear_handle_id(&d->disconnect_timer, g_source_remove);
	if (d->connecting) {
		g_clear_handle_id(&d->connect_timer, g_source_remove);
		d->connecting = FALSE;
		if (d->connect_inv != NULL)
			return_error(g_steal_pointer(&d->connect_inv),
				     BZ_ERR "Failed", connect_error);
		finish_disconnects(d);
		return;
	}
	if (!d->connected) {
		finish_disconnects(d);
		return;
	}
	g_clear_handle_id(&d->resolve_timer, g_source_remove);
	device_finish_streams(d);
	if (w->version >= 83)
		emit(
		    w, d->path, IF_DEVICE, "Disconnected",
		    g_variant_new("(ss)", reasons[r].name, reasons[r].message));
	for (guint i = 0; i < d->svcs->len; i++) {
		GattSvc *s = d->svcs->pdata[i];
		for (guint j = 0; j < s->chrs->len; j++)
			chr_release_acquired(s->chrs->pdata[j], d->gatt_cache);
	}

	const char *names[3];
	guint n = 0;
	if (d->resolved)
		names[n++] = "ServicesResolved";
	names[n++] = "Connected";
	names[n] = NULL;
	d->connected = FALSE;
	d->resolved = FALSE;
	changed_v(w, d->path, IF_DEVICE, d, names);

	battery_unexport(d, TRUE);
	if (!d->gatt_cache) {
		gatt_destroy(d, TRUE);
		if (d->uuids_gatt->len > 0) {
			g_ptr_array_set_size(d->uuids_gatt, 0);
			changed1(w, d->path, IF_DEVICE, d, "UUIDs");
		}
	}
	finish_disconnects(d);
}

static void resolve(Device *d)
{
	World *w = d->a->w;

	if (d->svcs->len == 0) {
		gatt_build(d);
		gatt_export(d);
	}
	for (guint i = 0; i < d->svcs->len; i++) {
		GattSvc *s = d->svcs->pdata[i];
		for (guint j = 0; j < s->chrs->len; j++) {
			GattChr *c = s->chrs->pdata[j];
			if (!c->notifying &&
			    g_hash_table_size(c->notify_owners) > 0) {
				c->notifying = TRUE;
				changed1(w, c->path, IF_CHRC, c, "Notifying");
			}
		}
	}
	update_gatt_uuids(d);
	if (device_has_battery(d) && d->reg_batt == 0) {
		d->reg_batt = export_iface(w, d->path, IF_BATTERY, d);
		announce_added(w, d->path, IF_BATTERY, d, FALSE);
	}
	d->resolved = TRUE;
	changed1(w, d->path, IF_DEVICE, d, "ServicesResolved");
}

static gboolean resolve_due(gpointer data)
{
	Device *d = data;

	d->resolve_timer = 0;
	resolve(d);
	return G_SOURCE_REMOVE;
}

static void link_up(Device *d, enum behaviour beh)
{
	World *w = d->a->w;

	d->connecting = FALSE;
	d->connected = TRUE;
	d->connections++;
	d->temporary = FALSE;
	if (w->connected_signal && d->connected_signal)
		changed1(w, d->path, IF_DEVICE, d, "Connected");
	if (d->connect_inv != NULL)
		g_dbus_method_invocation_return_value(
		    g_steal_pointer(&d->connect_inv), NULL);
	if (beh != BEH_NO_RESOLVE)
		d->resolve_timer =
		    g_timeout_add(d->resolve_delay_ms, resolve_due, d);
}

typedef struct {
	Device *d;
	enum behaviour beh;
} ConnectStep;

static gboolean connect_due(gpointer data)
{
	ConnectStep *step = data;
	Device *d = step->d;

	d->connect_timer = 0;
	switch (step->beh) {
	case BEH_OK:
	case BEH_NO_RESOLVE:
		link_up(d, step->beh);
		break;
	case BEH_FAIL:
		d->connecting = FALSE;
		return_error(g_steal_pointer(&d->connect_inv), d->fail_name,
			     d->fail_message);
		break;
	case BEH_TIMEOUT:
		d->connecting = FALSE;
		return_error(g_steal_pointer(&d->connect_inv), BZ_ERR "Failed",
			     "le-connection-abort-by-local");
		break;
	case BEH_HANG:
		break;
	}
	return G_SOURCE_REMOVE;
}

static void device_connect(Device *d, GDBusMethodInvocation *inv)
{
	World *w = d->a->w;

	if (!d->a->powered) {
		return_error(inv, BZ_ERR "NotReady", "Resource Not Ready");
		return;
	}
	if (d->connected) {
		g_dbus_method_invocation_return_value(inv, NULL);
		return;
	}
	if (d->connecting) {
		/* BlueZ < 5.81: device_connect_le() gives -EALREADY. */
		if (w->version >= 81)
			return_error(inv, BZ_ERR "InProgress", "In Progress");
		else
			return_error(inv, BZ_ERR "Failed",
				     "Operation already in progress");
		return;
	}

	enum behaviour beh = d->beh;
	if (d->beh_count > 0 && --d->beh_count == 0)
		d->beh = BEH_OK;
	if (!d->connectable || !d->in_range)
		beh = BEH_TIMEOUT;

	d->temporary = FALSE;
	g_clear_handle_id(&d->temp_timer, g_source_remove);
	d->connecting = TRUE;
	d->connect_inv = inv;

	guint delay = d->connect_delay_ms;
	switch (beh) {
	case BEH_HANG:
		return;
	case BEH_TIMEOUT:
		delay = d->connect_timeout_ms;
		break;
	case BEH_OK:
	case BEH_FAIL:
	case BEH_NO_RESOLVE:
		break;
	}
	ConnectStep *step = g_new0(ConnectStep, 1);
	step->d = d;
	step->beh = beh;
	d->connect_timer = g_timeout_add_full(G_PRIORITY_DEFAULT, delay,
					      connect_due, step, g_free);
}

static gboolean disconnect_due(gpointer data)
{
	Device *d = data;

	d->disconnect_timer = 0;
	link_down(d, REASON_LOCAL, "br-connection-canceled");
	return G_SOURCE_REMOVE;
}

/* Disconnect(), or RemoveDevice() of a connected device. */
static void device_disconnect(Device *d, GDBusMethodInvocation *inv)
{
	if (d->connecting) {
		g_ptr_array_add(d->disconnect_invs, inv);
		link_down(d, REASON_LOCAL, "br-connection-canceled");
		return;
	}
	if (!d->connected) {
		g_ptr_array_add(d->disconnect_invs, inv);
		finish_disconnects(d);
		return;
	}
	g_ptr_array_add(d->disconnect_invs, inv);
	if (d->disconnect_timer == 0)
		d->disconnect_timer =
		    g_timeout_add(d->disconnect_delay_ms, disconnect_due, d);
}

/* Adapter1.RemoveDevice: the object and all that BlueZ knew go. */
static void device_forget(Device *d)
{
	device_unexport(d, TRUE);
	d->known = FALSE;
	d->paired = FALSE;
	d->trusted = FALSE;
	d->stale = FALSE;
	g_clear_pointer(&d->alias, g_free);
	/* Still advertising: the next report brings it back. */
	adapter_schedule_scan(d->a);
}

static void adapter_set_powered(Adapter *a, gboolean on)
{
	World *w = a->w;

	if (a->powered == on)
		return;
	if (!on) {
		for (guint i = 0; i < a->devices->len; i++)
			link_down(a->devices->pdata[i], REASON_UNKNOWN,
				  "le-connection-abort-by-local");
		g_hash_table_remove_all(a->clients);
		adapter_update_discovering(a);
		for (guint i = 0; i < a->devices->len; i++) {
			Device *d = a->devices->pdata[i];
			if (d->reg != 0 && d->temporary)
				device_unexport(d, TRUE);
		}
	}
	a->powered = on;
	changed1(w, a->path, IF_ADAPTER, a, "Powered");
}

/* --- org.bluez.Adapter1 ------------------------------------------------- */

static const char *const filter_keys[] = {
	"UUIDs",	 "RSSI",	 "Pathloss", "Transport",
	"DuplicateData", "Discoverable", "Pattern",
};

/* BlueZ 5.66's parse_discovery_filter_dict(): FALSE on anything invalid. */
static gboolean filter_parse(GVariant *dict, Filter **out)
{
	GVariantIter it;
	const char *key;
	GVariant *raw;
	gboolean has_pathloss = FALSE;

	*out = NULL;
	if (!g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT))
		return FALSE;
	if (g_variant_n_children(dict) == 0)
		return TRUE;

	Filter *f = g_new0(Filter, 1);
	f->uuids = g_ptr_array_new_with_free_func(g_free);
	g_variant_iter_init(&it, dict);
	while (g_variant_iter_next(&it, "{&sv}", &key, &raw)) {
		g_autoptr(GVariant) v = raw;
		gboolean ok = TRUE;

		if (strcmp(key, "UUIDs") == 0) {
			ok = g_variant_is_of_type(v,
						  G_VARIANT_TYPE_STRING_ARRAY);
			for (gsize i = 0; ok && i < g_variant_n_children(v);
			     i++) {
				const char *s = NULL;
				g_variant_get_child(v, i, "&s", &s);
				char *u = uuid_normalise(s);
				ok = u != NULL;
				if (ok)
					g_ptr_array_add(f->uuids, u);
			}
		} else if (strcmp(key, "RSSI") == 0) {
			ok = g_variant_is_of_type(v, G_VARIANT_TYPE_INT16);
			if (ok) {
				f->rssi = g_variant_get_int16(v);
				f->has_rssi = TRUE;
				ok = f->rssi >= -127 && f->rssi <= 20;
			}
		} else if (strcmp(key, "Pathloss") == 0) {
			ok = g_variant_is_of_type(v, G_VARIANT_TYPE_UINT16) &&
			     g_variant_get_uint16(v) <= 137;
			has_pathloss = TRUE;
		} else if (strcmp(key, "Transport") == 0) {
			ok = g_variant_is_of_type(v, G_VARIANT_TYPE_STRING);
			const char *t = ok ? g_variant_get_string(v, NULL) : "";
			ok = ok &&
			     (strcmp(t, "auto") == 0 || strcmp(t, "le") == 0 ||
			      strcmp(t, "bredr") == 0);
			f->bredr_only = ok && strcmp(t, "bredr") == 0;
		} else if (strcmp(key, "DuplicateData") == 0) {
			ok = g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN);
			f->duplicate = ok && g_variant_get_boolean(v);
		} else if (strcmp(key, "Discoverable") == 0) {
			ok = g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN);
		} else if (strcmp(key, "Pattern") == 0) {
			ok = g_variant_is_of_type(v, G_VARIANT_TYPE_STRING);
			if (ok) {
				g_free(f->pattern);
				f->pattern = g_variant_dup_string(v, NULL);
			}
		} else {
			ok = FALSE;
		}
		if (!ok) {
			filter_free(f);
			return FALSE;
		}
	}
	if (f->has_rssi && has_pathloss) {
		filter_free(f);
		return FALSE;
	}
	*out = f;
	return TRUE;
}

static void adapter_method(Adapter *a, const char *sender, const char *method,
			   GVariant *params, GDBusMethodInvocation *inv)
{
	World *w = a->w;
	DiscClient *c = g_hash_table_lookup(a->clients, sender);

	count_call(w, method, NULL);
	if (strcmp(method, "GetDiscoveryFilters") == 0) {
		GVariantBuilder b;
		g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
		for (guint i = 0; i < G_N_ELEMENTS(filter_keys); i++)
			g_variant_builder_add(&b, "s", filter_keys[i]);
		g_dbus_method_invocation_return_value(
		    inv, g_variant_new("(as)", &b));
		return;
	}
	if (strcmp(method, "RemoveDevice") == 0) {
		const char *path = NULL;
		Device *d = NULL;
		if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(o)"))) {
			return_error(inv, BZ_ERR "InvalidArguments",
				     "Invalid arguments in method call");
			return;
		}
		g_variant_get(params, "(&o)", &path);
		for (guint i = 0; i < a->devices->len; i++) {
			Device *t = a->devices->pdata[i];
			if (t->reg != 0 && strcmp(t->path, path) == 0)
				d = t;
		}
		if (d == NULL) {
			return_error(inv, BZ_ERR "DoesNotExist",
				     "Does Not Exist");
			return;
		}
		if (!a->powered) {
			return_error(inv, BZ_ERR "NotReady",
				     "Resource Not Ready");
			return;
		}
		count_call(w, method, d->address);
		if (d->connected || d->connecting) {
			d->remove_after_disconnect = TRUE;
			device_disconnect(d, inv);
			return;
		}
		device_forget(d);
		g_dbus_method_invocation_return_value(inv, NULL);
		return;
	}

	if (!a->powered) {
		return_error(inv, BZ_ERR "NotReady", "Resource Not Ready");
		return;
	}
	if (strcmp(method, "SetDiscoveryFilter") == 0) {
		Filter *f = NULL;
		if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(a{sv})"))) {
			return_error(inv, BZ_ERR "InvalidArguments",
				     "Invalid arguments in method call");
			return;
		}
		g_autoptr(GVariant) dict = g_variant_get_child_value(params, 0);
		if (!filter_parse(dict, &f)) {
			return_error(inv, BZ_ERR "InvalidArguments",
				     "Invalid arguments in method call");
			return;
		}
		g_clear_pointer(&w->last_filter, g_variant_unref);
		w->last_filter = g_variant_ref(dict);
		if (c != NULL) {
			filter_free(c->filter);
			c->filter = f;
			if (f == NULL && !c->active)
				g_hash_table_remove(a->clients, sender);
		} else if (f != NULL) {
			c = g_new0(DiscClient, 1);
			c->sender = g_strdup(sender);
			c->filter = f;
			g_hash_table_insert(a->clients, g_strdup(sender), c);
		}
		adapter_schedule_scan(a);
		g_dbus_method_invocation_return_value(inv, NULL);
		return;
	}
	if (strcmp(method, "StartDiscovery") == 0) {
		if (c != NULL && c->active) {
			return_error(inv, BZ_ERR "InProgress",
				     "Operation already in progress");
			return;
		}
		if (c == NULL) {
			c = g_new0(DiscClient, 1);
			c->sender = g_strdup(sender);
			g_hash_table_insert(a->clients, g_strdup(sender), c);
		}
		c->active = TRUE;
		g_dbus_method_invocation_return_value(inv, NULL);
		adapter_update_discovering(a);
		adapter_schedule_scan(a);
		return;
	}
	if (strcmp(method, "StopDiscovery") == 0) {
		if (c == NULL || !c->active) {
			return_error(inv, BZ_ERR "Failed",
				     "No discovery started");
			return;
		}
		g_hash_table_remove(a->clients, sender);
		g_dbus_method_invocation_return_value(inv, NULL);
		adapter_update_discovering(a);
		return;
	}
	return_error(inv, "org.freedesktop.DBus.Error.UnknownMethod", method);
}

/* --- org.bluez.Device1 ------------------------------------------------- */

static void device_method(Device *d, const char *method,
			  GDBusMethodInvocation *inv)
{
	World *w = d->a->w;

	count_call(w, method, NULL);
	count_call(w, method, d->address);
	if (strcmp(method, "Connect") == 0) {
		device_connect(d, inv);
		return;
	}
	if (strcmp(method, "Disconnect") == 0) {
		device_disconnect(d, inv);
		return;
	}
	if (strcmp(method, "ConnectProfile") == 0) {
		return_error(inv, BZ_ERR "NotAvailable",
			     "br-connection-profile-unavailable");
		return;
	}
	if (strcmp(method, "DisconnectProfile") == 0 ||
	    strcmp(method, "Pair") == 0) {
		return_error(inv, BZ_ERR "NotSupported",
			     "Operation is not supported");
		return;
	}
	if (strcmp(method, "CancelPairing") == 0) {
		return_error(inv, BZ_ERR "DoesNotExist", "Does Not Exist");
		return;
	}
	return_error(inv, "org.freedesktop.DBus.Error.UnknownMethod", method);
}

/* --- org.bluez.GattCharacteristic1 and GattDescriptor1 ---------------- */

/* The "offset" and "type" options; FALSE if one has the wrong type. */
static gboolean gatt_options(GVariant *opts, guint16 *offset, const char **type)
{
	g_autoptr(GVariant) o = NULL;
	g_autoptr(GVariant) t = NULL;

	*offset = 0;
	if (type != NULL)
		*type = "request";
	if (!g_variant_is_of_type(opts, G_VARIANT_TYPE_VARDICT))
		return FALSE;
	o = g_variant_lookup_value(opts, "offset", NULL);
	if (o != NULL) {
		if (!g_variant_is_of_type(o, G_VARIANT_TYPE_UINT16))
			return FALSE;
		*offset = g_variant_get_uint16(o);
	}
	t = g_variant_lookup_value(opts, "type", NULL);
	if (t != NULL && type != NULL) {
		if (!g_variant_is_of_type(t, G_VARIANT_TYPE_STRING))
			return FALSE;
		const char *s = g_variant_get_string(t, NULL);
		if (strcmp(s, "command") == 0)
			*type = "command";
		else if (strcmp(s, "request") == 0)
			*type = "request";
		else if (strcmp(s, "reliable") == 0)
			*type = "reliable";
		else
			return FALSE;
	}
	return TRUE;
}

static GVariant *bytes_tuple_from(GBytes *b, guint16 offset)
{
	gsize n = 0;
	const guint8 *p = g_bytes_get_data(b, &n);

	return g_variant_new(
	    "(@ay)", g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, p + offset,
					       n - offset, 1));
}

static void chr_read(GattChr *c, GVariant *params, GDBusMethodInvocation *inv)
{
	Device *d = c->s->d;
	guint16 offset = 0;

	if (!d->connected) {
		return_error(inv, BZ_ERR "Failed", "Not connected");
		return;
	}
	g_autoptr(GVariant) opts = g_variant_get_child_value(params, 0);
	if (!gatt_options(opts, &offset, NULL)) {
		return_error(inv, BZ_ERR "InvalidArguments",
			     "Invalid arguments in method call");
		return;
	}
	if (!(c->flags & CF_READ)) {
		return_error(inv, BZ_ERR "NotPermitted", "Read not permitted");
		return;
	}
	GBytes *v = g_hash_table_lookup(d->values, c->uuid);
	g_autoptr(GBytes) value = v ? g_bytes_ref(v) : g_bytes_new(NULL, 0);
	if (offset > g_bytes_get_size(value)) {
		return_error(inv, BZ_ERR "InvalidArguments", "Invalid offset");
		return;
	}
	g_clear_pointer(&c->value, g_bytes_unref);
	c->value = g_bytes_ref(value);
	changed1(d->a->w, c->path, IF_CHRC, c, "Value");
	g_dbus_method_invocation_return_value(inv,
					      bytes_tuple_from(value, offset));
}

static void chr_write(GattChr *c, GVariant *params, GDBusMethodInvocation *inv)
{
	Device *d = c->s->d;
	guint16 offset = 0;
	const char *type = NULL;

	if (!d->connected) {
		return_error(inv, BZ_ERR "Failed", "Not connected");
		return;
	}
	g_autoptr(GVariant) value = g_variant_get_child_value(params, 0);
	g_autoptr(GVariant) opts = g_variant_get_child_value(params, 1);
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BYTESTRING) ||
	    !gatt_options(opts, &offset, &type)) {
		return_error(inv, BZ_ERR "InvalidArguments",
			     "Invalid arguments in method call");
		return;
	}
	gboolean command = strcmp(type, "command") == 0;
	if (command ? !(c->flags & CF_WRITE_NR)
		    : !(c->flags & (CF_WRITE | CF_WRITE_NR))) {
		return_error(inv, BZ_ERR "NotSupported",
			     "Operation is not supported");
		return;
	}
	g_hash_table_insert(d->written, g_strdup(c->uuid),
			    variant_bytes(value));
	Written *x = g_new0(Written, 1);
	x->uuid = g_strdup(c->uuid);
	x->value = variant_bytes(value);
	x->type = g_strdup(type);
	g_ptr_array_add(d->writes, x);
	const WriteReply *r = write_reply_for(d, c->uuid, x->value);
	if (r != NULL) {
		/* After the write's own answer, as a peripheral's reply
		 * follows the ATT Write Response. */
		Pending *p = g_new0(Pending, 1);
		p->d = d;
		p->notify = g_strdup(r->notify);
		p->values = g_ptr_array_ref(r->values);
		p->timer = g_timeout_add(5, pending_due, p);
		g_ptr_array_add(d->pending, p);
	}
	g_dbus_method_invocation_return_value(inv, NULL);
}

static void chr_start_notify(GattChr *c, const char *sender,
			     GDBusMethodInvocation *inv)
{
	Device *d = c->s->d;

	if (d->disconnect_timer != 0) {
		return_error(inv, BZ_ERR "NotConnected", "Not Connected");
		return;
	}
	if (c->acq_fd >= 0) {
		return_error(inv, BZ_ERR "NotPermitted", "Notify acquired");
		return;
	}
	if (!(c->flags & (CF_NOTIFY | CF_INDICATE))) {
		return_error(inv, BZ_ERR "NotSupported",
			     "Operation is not supported");
		return;
	}
	if (!g_hash_table_contains(c->notify_owners, sender))
		g_hash_table_add(c->notify_owners, g_strdup(sender));
	/* Not connected (a cached database): enabled when it connects. */
	if (d->connected && !c->notifying) {
		c->notifying = TRUE;
		changed1(d->a->w, c->path, IF_CHRC, c, "Notifying");
	}
	g_dbus_method_invocation_return_value(inv, NULL);
}

static void chr_drop_session(GattChr *c, const char *sender)
{
	if (!g_hash_table_remove(c->notify_owners, sender))
		return;
	if (g_hash_table_size(c->notify_owners) == 0 && c->notifying) {
		c->notifying = FALSE;
		changed1(c->s->d->a->w, c->path, IF_CHRC, c, "Notifying");
	}
}

static void chr_stop_notify(GattChr *c, const char *sender,
			    GDBusMethodInvocation *inv)
{
	if (c->acq_fd >= 0) {
		chr_release_acquired(c, TRUE);
		g_dbus_method_invocation_return_value(inv, NULL);
		return;
	}
	if (!g_hash_table_contains(c->notify_owners, sender)) {
		return_error(inv, BZ_ERR "Failed", "No notify session started");
		return;
	}
	chr_drop_session(c, sender);
	g_dbus_method_invocation_return_value(inv, NULL);
}

static void chr_acquire_notify(GattChr *c, const char *sender,
			       GDBusMethodInvocation *inv)
{
	Device *d = c->s->d;
	World *w = d->a->w;
	int fds[2];
	g_autoptr(GError) error = NULL;

	if (!d->connected) {
		return_error(inv, BZ_ERR "Failed", "Not connected");
		return;
	}
	if (c->acq_fd >= 0) {
		return_error(inv, BZ_ERR "NotPermitted", "Notify acquired");
		return;
	}
	if (g_hash_table_size(c->notify_owners) > 0) {
		return_error(inv, BZ_ERR "InProgress", "In Progress");
		return;
	}
	guint need = w->version >= 80 ? (CF_NOTIFY | CF_INDICATE) : CF_NOTIFY;
	if (!(c->flags & need)) {
		return_error(inv, BZ_ERR "NotSupported",
			     "Operation is not supported");
		return;
	}
	/* Both ends non-blocking, as BlueZ makes them. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, fds) < 0) {
		return_error(inv, BZ_ERR "Failed", g_strerror(errno));
		return;
	}
	g_autoptr(GUnixFDList) list = g_unix_fd_list_new();
	gint idx = g_unix_fd_list_append(list, fds[0], &error);
	close(fds[0]);
	if (idx < 0) {
		close(fds[1]);
		return_error(inv, BZ_ERR "Failed", error->message);
		return;
	}
	c->acq_fd = fds[1];
	c->acq_owner = g_strdup(sender);
	c->acq_watch =
	    g_unix_fd_add(c->acq_fd, G_IO_HUP | G_IO_ERR, acquired_hup, c);
	changed1(w, c->path, IF_CHRC, c, "NotifyAcquired");
	g_dbus_method_invocation_return_value_with_unix_fd_list(
	    inv, g_variant_new("(hq)", idx, d->mtu), list);
}

static void chr_method(GattChr *c, const char *sender, const char *method,
		       GVariant *params, GDBusMethodInvocation *inv)
{
	World *w = c->s->d->a->w;
	g_autofree char *scope =
	    g_strdup_printf("%s:%s", c->s->d->address, c->uuid);

	count_call(w, method, NULL);
	count_call(w, method, c->s->d->address);
	count_call(w, method, scope);
	if (strcmp(method, "ReadValue") == 0 &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(a{sv})")))
		chr_read(c, params, inv);
	else if (strcmp(method, "WriteValue") == 0 &&
		 g_variant_is_of_type(params, G_VARIANT_TYPE("(aya{sv})")))
		chr_write(c, params, inv);
	else if (strcmp(method, "StartNotify") == 0)
		chr_start_notify(c, sender, inv);
	else if (strcmp(method, "StopNotify") == 0)
		chr_stop_notify(c, sender, inv);
	else if (strcmp(method, "AcquireNotify") == 0 &&
		 g_variant_is_of_type(params, G_VARIANT_TYPE("(a{sv})")))
		chr_acquire_notify(c, sender, inv);
	else if (strcmp(method, "AcquireWrite") == 0)
		return_error(inv, BZ_ERR "NotSupported",
			     "Operation is not supported");
	else
		return_error(inv, BZ_ERR "InvalidArguments",
			     "Invalid arguments in method call");
}

static void dsc_method(GattDsc *x, const char *method, GVariant *params,
		       GDBusMethodInvocation *inv)
{
	GattChr *c = x->c;
	Device *d = c->s->d;

	count_call(d->a->w, method, NULL);
	count_call(d->a->w, method, d->address);
	if (!d->connected) {
		return_error(inv, BZ_ERR "Failed", "Not connected");
		return;
	}
	if (strcmp(method, "WriteValue") == 0) {
		/* BlueZ keeps the CCC to StartNotify/StopNotify. */
		return_error(inv, BZ_ERR "NotPermitted", "Write not permitted");
		return;
	}
	guint8 cfg[2] = { 0, 0 };
	if (c->notifying || c->acq_fd >= 0)
		cfg[0] = (c->flags & CF_NOTIFY) ? 1 : 2;
	g_clear_pointer(&x->value, g_bytes_unref);
	x->value = g_bytes_new(cfg, sizeof(cfg));
	changed1(d->a->w, x->path, IF_DESC, x, "Value");
	g_dbus_method_invocation_return_value(inv,
					      bytes_tuple_from(x->value, 0));
	(void)params;
}

/* --- org.freedesktop.DBus.ObjectManager ------------------------------- */

static GVariant *empty_props(void)
{
	return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

static void managed_object(World *w, GVariantBuilder *b, const char *path,
			   const char *iface, void *obj, const char *iface2,
			   void *obj2)
{
	GVariantBuilder ifs;

	g_variant_builder_init(&ifs, G_VARIANT_TYPE("a{sa{sv}}"));
	g_variant_builder_add(&ifs, "{s@a{sv}}", IF_INTRO, empty_props());
	g_variant_builder_add(&ifs, "{s@a{sv}}", iface,
			      obj ? all_props(w, iface, obj) : empty_props());
	if (iface2 != NULL)
		g_variant_builder_add(&ifs, "{s@a{sv}}", iface2,
				      all_props(w, iface2, obj2));
	g_variant_builder_add(&ifs, "{s@a{sv}}", IF_PROPS, empty_props());
	g_variant_builder_add(b, "{oa{sa{sv}}}", path, &ifs);
}

static GVariant *managed_objects(World *w)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{oa{sa{sv}}}"));
	managed_object(w, &b, "/org/bluez", IF_AGENT_MGR, NULL, NULL, NULL);
	for (guint i = 0; i < w->adapters->len; i++) {
		Adapter *a = w->adapters->pdata[i];
		managed_object(w, &b, a->path, IF_ADAPTER, a, NULL, NULL);
		for (guint j = 0; j < a->devices->len; j++) {
			Device *d = a->devices->pdata[j];
			if (d->reg == 0)
				continue;
			managed_object(w, &b, d->path, IF_DEVICE, d,
				       d->reg_batt ? IF_BATTERY : NULL, d);
			for (guint k = 0; k < d->svcs->len; k++) {
				GattSvc *s = d->svcs->pdata[k];
				if (s->reg == 0)
					continue;
				managed_object(w, &b, s->path, IF_SERVICE, s,
					       NULL, NULL);
				for (guint m = 0; m < s->chrs->len; m++) {
					GattChr *c = s->chrs->pdata[m];
					managed_object(w, &b, c->path, IF_CHRC,
						       c, NULL, NULL);
					if (c->ccc != NULL)
						managed_object(w, &b,
							       c->ccc->path,
							       IF_DESC, c->ccc,
							       NULL, NULL);
				}
			}
		}
	}
	return g_variant_new("(a{oa{sa{sv}}})", &b);
}

/* --- The simulated world: org.recoveryd.StandIn1 ---------------------- */

typedef struct {
	const char *svc;
	const char *chr; /* NULL: a service without characteristics */
	guint flags;
	const char *value; /* initial value, hex */
} KindChr;

static const KindChr kind_heart_rate[] = {
	{ "1801", "2a05", CF_INDICATE, NULL },
	{ "180d", "2a37", CF_NOTIFY, NULL },
	{ "180d", "2a38", CF_READ, "01" },	       /* chest */
	{ "180f", "2a19", CF_READ | CF_NOTIFY, "55" }, /* 85 % */
	{ "180a", "2a29", CF_READ, "5374616e64496e" }, /* "StandIn" */
};

static const KindChr kind_weight_scale[] = {
	{ "1801", "2a05", CF_INDICATE, NULL },
	{ "181d", "2a9d", CF_INDICATE, NULL },
	{ "181d", "2a9e", CF_READ, "00000000" },
	{ "181b", "2a9c", CF_INDICATE, NULL },
	{ "181b", "2a9b", CF_READ, "00000000" },
	{ "180f", "2a19", CF_READ | CF_NOTIFY, "64" },
};

static GBytes *hex_bytes(const char *hex)
{
	gsize n = strlen(hex) / 2;
	guint8 *p = g_malloc(n + 1);

	for (gsize i = 0; i < n; i++)
		p[i] = (guint8)(g_ascii_xdigit_value(hex[2 * i]) * 16 +
				g_ascii_xdigit_value(hex[2 * i + 1]));
	return g_bytes_new_take(p, n);
}

static void device_add_spec(Device *d, const char *svc, const char *chr,
			    guint flags)
{
	ChrSpec *s = g_new0(ChrSpec, 1);

	s->svc = uuid_normalise(svc);
	s->chr = chr ? uuid_normalise(chr) : NULL;
	s->flags = flags;
	g_ptr_array_add(d->specs, s);
}

static gboolean device_apply_kind(Device *d, const char *kind, GError **error)
{
	const KindChr *table = NULL;
	gsize n = 0;

	if (strcmp(kind, "heart-rate") == 0) {
		table = kind_heart_rate;
		n = G_N_ELEMENTS(kind_heart_rate);
		d->appearance = 0x0341; /* Heart Rate Belt */
		g_ptr_array_add(d->uuids_adv, g_strdup("0000180d" UUID_TAIL));
	} else if (strcmp(kind, "weight-scale") == 0) {
		table = kind_weight_scale;
		n = G_N_ELEMENTS(kind_weight_scale);
		d->appearance = 0x0c80; /* Generic Weight Scale */
		g_ptr_array_add(d->uuids_adv, g_strdup("0000181d" UUID_TAIL));
	} else if (strcmp(kind, "advertiser") == 0) {
		d->connectable = FALSE;
	} else {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "unknown kind '%s' (heart-rate, weight-scale, "
			    "advertiser)",
			    kind);
		return FALSE;
	}
	for (gsize i = 0; i < n; i++) {
		device_add_spec(d, table[i].svc, table[i].chr, table[i].flags);
		if (table[i].value != NULL)
			g_hash_table_insert(d->values,
					    uuid_normalise(table[i].chr),
					    hex_bytes(table[i].value));
	}
	return TRUE;
}

static guint flags_parse(GVariant *as)
{
	guint flags = 0;

	for (gsize i = 0; i < g_variant_n_children(as); i++) {
		const char *s = NULL;
		guint f = 0;
		g_variant_get_child(as, i, "&s", &s);
		for (guint j = 0; j < G_N_ELEMENTS(flag_names); j++) {
			if (strcmp(s, flag_names[j]) == 0)
				f = 1u << j;
		}
		if (f == 0)
			return 0;
		flags |= f;
	}
	return flags;
}

static gboolean parse_behaviour(Device *d, const char *spec, GError **error)
{
	const char *s = spec;
	guint count = 0;
	enum behaviour beh;
	g_autofree char *name = NULL;
	g_autofree char *message = NULL;

	if (g_ascii_isdigit(s[0])) {
		char *end = NULL;
		guint64 n = g_ascii_strtoull(s, &end, 10);
		if (end == NULL || *end != '*' || n == 0 || n > G_MAXUINT)
			goto bad;
		count = (guint)n;
		s = end + 1;
	}
	if (strcmp(s, "ok") == 0) {
		beh = BEH_OK;
	} else if (strcmp(s, "hang") == 0) {
		beh = BEH_HANG;
	} else if (strcmp(s, "timeout") == 0) {
		beh = BEH_TIMEOUT;
	} else if (strcmp(s, "no-resolve") == 0) {
		beh = BEH_NO_RESOLVE;
	} else if (strcmp(s, "fail") == 0 || g_str_has_prefix(s, "fail:")) {
		beh = BEH_FAIL;
		const char *rest = s[4] == ':' ? s + 5 : "";
		const char *colon = strchr(rest, ':');
		g_autofree char *n =
		    colon ? g_strndup(rest, (gsize)(colon - rest))
			  : g_strdup(rest);
		if (n[0] == '\0')
			name = g_strdup(BZ_ERR "Failed");
		else if (strchr(n, '.') == NULL)
			name = g_strconcat(BZ_ERR, n, NULL);
		else
			name = g_steal_pointer(&n);
		if (!g_dbus_is_interface_name(name))
			goto bad;
		message = g_strdup(colon ? colon + 1
					 : "le-connection-abort-by-local");
	} else {
		goto bad;
	}
	d->beh = beh;
	d->beh_count = count;
	if (beh == BEH_FAIL) {
		g_free(d->fail_name);
		g_free(d->fail_message);
		d->fail_name = g_steal_pointer(&name);
		d->fail_message = g_steal_pointer(&message);
	}
	return TRUE;
bad:
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
		    "bad behaviour '%s': [N*]ok|hang|timeout|no-resolve|"
		    "fail[:Error[:message]]",
		    spec);
	return FALSE;
}

static gboolean bad_option(GError **error, const char *key, const char *why)
{
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
		    "option '%s': %s", key, why);
	return FALSE;
}

static gboolean set_bytes_dict(GHashTable *t, GVariant *v, gboolean str,
			       const char *key, GError **error)
{
	GVariantIter it;
	GVariant *raw;

	if (!g_variant_is_of_type(v, str ? G_VARIANT_TYPE("a{sv}")
					 : G_VARIANT_TYPE("a{qv}")))
		return bad_option(error, key, "wrong type");
	g_hash_table_remove_all(t);
	g_variant_iter_init(&it, v);
	while ((raw = g_variant_iter_next_value(&it)) != NULL) {
		g_autoptr(GVariant) entry = raw;
		g_autoptr(GVariant) k = g_variant_get_child_value(entry, 0);
		g_autoptr(GVariant) boxed = g_variant_get_child_value(entry, 1);
		g_autoptr(GVariant) data = g_variant_get_variant(boxed);
		if (!g_variant_is_of_type(data, G_VARIANT_TYPE_BYTESTRING))
			return bad_option(error, key, "values must be ay");
		if (str) {
			char *u = uuid_normalise(g_variant_get_string(k, NULL));
			if (u == NULL)
				return bad_option(error, key, "bad UUID");
			g_hash_table_insert(t, u, variant_bytes(data));
		} else {
			g_hash_table_insert(
			    t, GUINT_TO_POINTER(g_variant_get_uint16(k)),
			    variant_bytes(data));
		}
	}
	return TRUE;
}

static void device_set_in_range(Device *d, gboolean in)
{
	if (d->in_range == in)
		return;
	d->in_range = in;
	if (in) {
		device_report(d);
		return;
	}
	if (d->connected || d->connecting)
		link_down(d, REASON_TIMEOUT, "le-connection-abort-by-local");
	device_start_temp_timer(d);
}

/* AddDevice props and SetDeviceOption; some only when creating. */
static gboolean device_set_option(Device *d, const char *key, GVariant *v,
				  gboolean creating, GError **error)
{
#define WANT(t)                                                                \
	do {                                                                   \
		if (!g_variant_is_of_type(v, t))                               \
			return bad_option(error, key, "wrong type");           \
	} while (0)

	if (strcmp(key, "kind") == 0 || strcmp(key, "adapter") == 0) {
		WANT(G_VARIANT_TYPE_STRING);
		return creating || bad_option(error, key, "only at AddDevice");
	}
	if (strcmp(key, "address-type") == 0) {
		WANT(G_VARIANT_TYPE_STRING);
		const char *t = g_variant_get_string(v, NULL);
		if (strcmp(t, "public") != 0 && strcmp(t, "random") != 0)
			return bad_option(error, key, "public or random");
		if (!creating)
			return bad_option(error, key, "only at AddDevice");
		g_free(d->address_type);
		d->address_type = g_strdup(t);
	} else if (strcmp(key, "gatt") == 0) {
		WANT(G_VARIANT_TYPE("a(ssas)"));
		if (!creating)
			return bad_option(error, key, "only at AddDevice");
		g_ptr_array_set_size(d->specs, 0);
		for (gsize i = 0; i < g_variant_n_children(v); i++) {
			const char *svc = NULL;
			const char *chr = NULL;
			g_autoptr(GVariant) fl = NULL;
			g_variant_get_child(v, i, "(&s&s@as)", &svc, &chr, &fl);
			g_autofree char *su = uuid_normalise(svc);
			g_autofree char *cu = uuid_normalise(chr);
			guint flags = flags_parse(fl);
			if (su == NULL || (chr[0] && cu == NULL))
				return bad_option(error, key, "bad UUID");
			if (chr[0] && flags == 0)
				return bad_option(error, key, "bad flags");
			device_add_spec(d, su, chr[0] ? cu : NULL, flags);
		}
	} else if (strcmp(key, "uuids") == 0) {
		WANT(G_VARIANT_TYPE_STRING_ARRAY);
		g_ptr_array_set_size(d->uuids_adv, 0);
		for (gsize i = 0; i < g_variant_n_children(v); i++) {
			const char *s = NULL;
			g_variant_get_child(v, i, "&s", &s);
			char *u = uuid_normalise(s);
			if (u == NULL)
				return bad_option(error, key, "bad UUID");
			g_ptr_array_add(d->uuids_adv, u);
		}
	} else if (strcmp(key, "service-data") == 0) {
		if (!set_bytes_dict(d->sd_world, v, TRUE, key, error))
			return FALSE;
	} else if (strcmp(key, "manufacturer-data") == 0) {
		if (!set_bytes_dict(d->md_world, v, FALSE, key, error))
			return FALSE;
	} else if (strcmp(key, "values") == 0) {
		if (!set_bytes_dict(d->values, v, TRUE, key, error))
			return FALSE;
	} else if (strcmp(key, "connectable") == 0) {
		WANT(G_VARIANT_TYPE_BOOLEAN);
		d->connectable = g_variant_get_boolean(v);
	} else if (strcmp(key, "known") == 0 || strcmp(key, "paired") == 0) {
		WANT(G_VARIANT_TYPE_BOOLEAN);
		if (!creating)
			return bad_option(error, key, "only at AddDevice");
		if (strcmp(key, "known") == 0)
			d->known = g_variant_get_boolean(v);
		else
			d->paired = g_variant_get_boolean(v);
	} else if (strcmp(key, "trusted") == 0) {
		WANT(G_VARIANT_TYPE_BOOLEAN);
		d->trusted = g_variant_get_boolean(v);
	} else if (strcmp(key, "appearance") == 0) {
		WANT(G_VARIANT_TYPE_UINT16);
		d->appearance = g_variant_get_uint16(v);
	} else if (strcmp(key, "rssi") == 0) {
		WANT(G_VARIANT_TYPE_INT16);
		d->rssi_world = g_variant_get_int16(v);
	} else if (strcmp(key, "in-range") == 0) {
		WANT(G_VARIANT_TYPE_BOOLEAN);
		if (creating)
			d->in_range = g_variant_get_boolean(v);
		else
			device_set_in_range(d, g_variant_get_boolean(v));
	} else if (strcmp(key, "connect-delay-ms") == 0) {
		WANT(G_VARIANT_TYPE_UINT32);
		d->connect_delay_ms = g_variant_get_uint32(v);
	} else if (strcmp(key, "resolve-delay-ms") == 0) {
		WANT(G_VARIANT_TYPE_UINT32);
		d->resolve_delay_ms = g_variant_get_uint32(v);
	} else if (strcmp(key, "connect-timeout-ms") == 0) {
		WANT(G_VARIANT_TYPE_UINT32);
		d->connect_timeout_ms = g_variant_get_uint32(v);
	} else if (strcmp(key, "disconnect-delay-ms") == 0) {
		WANT(G_VARIANT_TYPE_UINT32);
		d->disconnect_delay_ms = g_variant_get_uint32(v);
	} else if (strcmp(key, "mtu") == 0) {
		WANT(G_VARIANT_TYPE_UINT16);
		if (g_variant_get_uint16(v) < 23)
			return bad_option(error, key, "at least 23");
		d->mtu = g_variant_get_uint16(v);
	} else if (strcmp(key, "gatt-cache") == 0) {
		WANT(G_VARIANT_TYPE_BOOLEAN);
		d->gatt_cache = g_variant_get_boolean(v);
	} else if (strcmp(key, "connected-signal") == 0) {
		WANT(G_VARIANT_TYPE_BOOLEAN);
		d->connected_signal = g_variant_get_boolean(v);
	} else if (strcmp(key, "behaviour") == 0) {
		WANT(G_VARIANT_TYPE_STRING);
		return parse_behaviour(d, g_variant_get_string(v, NULL), error);
	} else {
		return bad_option(error, key, "unknown");
	}
	return TRUE;
#undef WANT
}

static Device *world_find_device(World *w, const char *address)
{
	g_autofree char *addr = address_normalise(address);

	if (addr == NULL)
		return NULL;
	for (guint i = 0; i < w->adapters->len; i++) {
		Adapter *a = w->adapters->pdata[i];
		for (guint j = 0; j < a->devices->len; j++) {
			Device *d = a->devices->pdata[j];
			if (strcmp(d->address, addr) == 0)
				return d;
		}
	}
	return NULL;
}

static Adapter *world_find_adapter(World *w, const char *id)
{
	for (guint i = 0; i < w->adapters->len; i++) {
		Adapter *a = w->adapters->pdata[i];
		if (strcmp(a->id, id) == 0)
			return a;
	}
	return NULL;
}

static Device *device_new(Adapter *a, const char *address, const char *name)
{
	Device *d = g_new0(Device, 1);

	d->a = a;
	d->address = g_strdup(address);
	g_autofree char *under = g_strdup(address);
	g_strdelimit(under, ":", '_');
	d->path = g_strdup_printf("%s/dev_%s", a->path, under);
	d->name = g_strdup(name);
	d->address_type = g_strdup("public");
	d->connectable = TRUE;
	d->in_range = TRUE;
	d->rssi_world = -60;
	d->uuids_adv = g_ptr_array_new_with_free_func(g_free);
	d->uuids_gatt = g_ptr_array_new_with_free_func(g_free);
	d->sd_world = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_bytes_unref);
	d->sd_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_bytes_unref);
	d->md_world = g_hash_table_new_full(NULL, NULL, NULL,
					    (GDestroyNotify)g_bytes_unref);
	d->md_seen = g_hash_table_new_full(NULL, NULL, NULL,
					   (GDestroyNotify)g_bytes_unref);
	d->specs =
	    g_ptr_array_new_with_free_func((GDestroyNotify)chr_spec_free);
	d->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  (GDestroyNotify)g_bytes_unref);
	d->written = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_bytes_unref);
	d->writes =
	    g_ptr_array_new_with_free_func((GDestroyNotify)written_free);
	d->replies =
	    g_ptr_array_new_with_free_func((GDestroyNotify)write_reply_free);
	d->pending =
	    g_ptr_array_new_with_free_func((GDestroyNotify)pending_free);
	d->disconnect_invs = g_ptr_array_new();
	d->svcs = g_ptr_array_new_with_free_func((GDestroyNotify)gatt_svc_free);
	d->streams =
	    g_ptr_array_new_with_free_func((GDestroyNotify)stream_free);
	d->fail_name = g_strdup(BZ_ERR "Failed");
	d->fail_message = g_strdup("le-connection-abort-by-local");
	d->connect_delay_ms = 20;
	d->resolve_delay_ms = 50;
	d->connect_timeout_ms = 2000;
	d->disconnect_delay_ms = 10;
	d->mtu = 23;
	d->connected_signal = TRUE;
	return d;
}

/* Quietly, at exit or after link_down(): no signals from here. */
static void device_free(Device *d)
{
	if (d == NULL)
		return;
	World *w = d->a->w;
	g_clear_handle_id(&d->temp_timer, g_source_remove);
	g_clear_handle_id(&d->connect_timer, g_source_remove);
	g_clear_handle_id(&d->resolve_timer, g_source_remove);
	g_clear_handle_id(&d->disconnect_timer, g_source_remove);
	if (d->connect_inv != NULL)
		return_error(g_steal_pointer(&d->connect_inv), BZ_ERR "Failed",
			     "le-connection-abort-by-local");
	while (d->disconnect_invs->len > 0)
		g_dbus_method_invocation_return_value(
		    g_ptr_array_steal_index(d->disconnect_invs, 0), NULL);
	g_ptr_array_unref(d->streams);
	unexport_iface(w, &d->reg_batt);
	gatt_destroy(d, FALSE);
	unexport_iface(w, &d->reg);
	g_ptr_array_unref(d->svcs);
	g_ptr_array_unref(d->disconnect_invs);
	g_ptr_array_unref(d->uuids_adv);
	g_ptr_array_unref(d->uuids_gatt);
	g_hash_table_unref(d->sd_world);
	g_hash_table_unref(d->sd_seen);
	g_hash_table_unref(d->md_world);
	g_hash_table_unref(d->md_seen);
	g_ptr_array_unref(d->specs);
	g_hash_table_unref(d->values);
	g_hash_table_unref(d->written);
	g_ptr_array_unref(d->pending);
	g_ptr_array_unref(d->replies);
	g_ptr_array_unref(d->writes);
	g_free(d->address);
	g_free(d->path);
	g_free(d->name);
	g_free(d->alias);
	g_free(d->address_type);
	g_free(d->fail_name);
	g_free(d->fail_message);
	g_free(d);
}

static Device *world_add_device(World *w, const char *address, const char *name,
				GVariant *props, GError **error)
{
	g_autofree char *addr = address_normalise(address);
	const char *kind = NULL;
	const char *adapter = NULL;

	if (addr == NULL) {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "'%s' is not a Bluetooth address", address);
		return NULL;
	}
	if (world_find_device(w, addr) != NULL) {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "%s exists", addr);
		return NULL;
	}
	if (!g_variant_lookup(props, "kind", "&s", &kind)) {
		g_set_error_literal(error, G_DBUS_ERROR,
				    G_DBUS_ERROR_INVALID_ARGS,
				    "props need a 'kind' (s): heart-rate, "
				    "weight-scale or advertiser");
		return NULL;
	}
	if (!g_variant_lookup(props, "adapter", "&s", &adapter))
		adapter = ((Adapter *)w->adapters->pdata[0])->id;
	Adapter *a = world_find_adapter(w, adapter);
	if (a == NULL) {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "no adapter '%s'", adapter);
		return NULL;
	}

	g_autoptr(Device) d = device_new(a, addr, name);
	if (!device_apply_kind(d, kind, error))
		return NULL;
	GVariantIter it;
	const char *key;
	GVariant *raw;
	g_variant_iter_init(&it, props);
	while (g_variant_iter_next(&it, "{&sv}", &key, &raw)) {
		g_autoptr(GVariant) v = raw;
		if (!device_set_option(d, key, v, TRUE, error))
			return NULL;
	}
	Device *added = g_steal_pointer(&d);
	g_ptr_array_add(a->devices, added);
	if (added->known || added->paired)
		device_export(added);
	else
		device_report(added);
	return added;
}

static void world_remove_device(Device *d)
{
	if (d->connected || d->connecting)
		link_down(d, REASON_TIMEOUT, "le-connection-abort-by-local");
	device_unexport(d, TRUE);
	g_ptr_array_remove(d->a->devices, d);
}

static GVariant *device_state(Device *d)
{
	GVariantBuilder b;
	GVariantBuilder sessions;
	GVariantBuilder acquired;
	GVariantBuilder paths;
	GVariantBuilder streams;

	g_variant_builder_init(&sessions, G_VARIANT_TYPE("a{su}"));
	g_variant_builder_init(&acquired, G_VARIANT_TYPE_STRING_ARRAY);
	g_variant_builder_init(&paths, G_VARIANT_TYPE("a{so}"));
	for (guint i = 0; i < d->svcs->len; i++) {
		GattSvc *s = d->svcs->pdata[i];
		g_variant_builder_add(&paths, "{so}", s->uuid, s->path);
		for (guint j = 0; j < s->chrs->len; j++) {
			GattChr *c = s->chrs->pdata[j];
			g_variant_builder_add(&paths, "{so}", c->uuid, c->path);
			if (g_hash_table_size(c->notify_owners) > 0)
				g_variant_builder_add(
				    &sessions, "{su}", c->uuid,
				    g_hash_table_size(c->notify_owners));
			if (c->acq_fd >= 0)
				g_variant_builder_add(&acquired, "s", c->uuid);
		}
	}
	g_variant_builder_init(&streams, G_VARIANT_TYPE("a{s(buuu)}"));
	for (guint i = 0; i < d->streams->len; i++) {
		Stream *st = d->streams->pdata[i];
		g_variant_builder_add(&streams, "{s(buuu)}", st->uuid,
				      st->timer != 0, st->sent, st->delivered,
				      st->dropped);
	}

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "path",
			      g_variant_new_object_path(d->path));
	g_variant_builder_add(&b, "{sv}", "exported",
			      g_variant_new_boolean(d->reg != 0));
	g_variant_builder_add(&b, "{sv}", "temporary",
			      g_variant_new_boolean(d->temporary));
	g_variant_builder_add(&b, "{sv}", "connecting",
			      g_variant_new_boolean(d->connecting));
	g_variant_builder_add(&b, "{sv}", "connected",
			      g_variant_new_boolean(d->connected));
	g_variant_builder_add(&b, "{sv}", "services-resolved",
			      g_variant_new_boolean(d->resolved));
	g_variant_builder_add(&b, "{sv}", "connections",
			      g_variant_new_uint32(d->connections));
	g_variant_builder_add(&b, "{sv}", "stale-cache",
			      g_variant_new_boolean(d->stale));
	g_variant_builder_add(&b, "{sv}", "gatt-paths",
			      g_variant_builder_end(&paths));
	g_variant_builder_add(&b, "{sv}", "notify-sessions",
			      g_variant_builder_end(&sessions));
	g_variant_builder_add(&b, "{sv}", "notify-acquired",
			      g_variant_builder_end(&acquired));
	g_variant_builder_add(&b, "{sv}", "written",
			      bytes_dict(d->written, FALSE));
	g_variant_builder_add(&b, "{sv}", "streams",
			      g_variant_builder_end(&streams));
	GVariantBuilder writes;
	g_variant_builder_init(&writes, G_VARIANT_TYPE("a(ssay)"));
	for (guint i = 0; i < d->writes->len; i++) {
		const Written *x = d->writes->pdata[i];
		g_variant_builder_add(&writes, "(ss@ay)", x->uuid, x->type,
				      bytes_variant(x->value));
	}
	g_variant_builder_add(&b, "{sv}", "writes",
			      g_variant_builder_end(&writes));
	return g_variant_new("(a{sv})", &b);
}

static Stream *device_find_stream(Device *d, const char *uuid)
{
	for (guint i = 0; i < d->streams->len; i++) {
		Stream *st = d->streams->pdata[i];
		if (strcmp(st->uuid, uuid) == 0)
			return st;
	}
	return NULL;
}

/* The characteristic a Notify names, checked against the device's GATT. */
static char *notify_target(Device *d, const char *uuid, GBytes *value,
			   GError **error)
{
	g_autofree char *u = uuid_normalise(uuid);
	const ChrSpec *spec = u ? device_find_spec(d, u) : NULL;

	if (spec == NULL || !(spec->flags & (CF_NOTIFY | CF_INDICATE))) {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "%s has no characteristic %s that notifies",
			    d->address, uuid);
		return NULL;
	}
	if (g_bytes_get_size(value) + 3 > d->mtu) {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "%zu bytes do not fit a notification at MTU %u",
			    g_bytes_get_size(value), d->mtu);
		return NULL;
	}
	return g_steal_pointer(&u);
}

static void control_method(World *w, const char *method, GVariant *params,
			   GDBusMethodInvocation *inv)
{
	g_autoptr(GError) error = NULL;
	const char *address = NULL;
	Device *d = NULL;

	if (strcmp(method, "GetCalls") == 0) {
		GVariantBuilder b;
		GHashTableIter it;
		gpointer k;
		gpointer v;
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{su}"));
		g_hash_table_iter_init(&it, w->calls);
		while (g_hash_table_iter_next(&it, &k, &v))
			g_variant_builder_add(&b, "{su}", (const char *)k,
					      GPOINTER_TO_UINT(v));
		g_dbus_method_invocation_return_value(
		    inv, g_variant_new("(a{su})", &b));
		return;
	}
	if (strcmp(method, "ResetCalls") == 0) {
		g_hash_table_remove_all(w->calls);
		g_dbus_method_invocation_return_value(inv, NULL);
		return;
	}
	if (strcmp(method, "GetLastDiscoveryFilter") == 0) {
		GVariant *f = w->last_filter
				  ? g_variant_ref(w->last_filter)
				  : g_variant_ref_sink(empty_props());
		g_dbus_method_invocation_return_value(
		    inv, g_variant_new("(@a{sv})", f));
		g_variant_unref(f);
		return;
	}
	if (strcmp(method, "SetPowered") == 0 &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(b)"))) {
		gboolean on = FALSE;
		g_variant_get(params, "(b)", &on);
		for (guint i = 0; i < w->adapters->len; i++)
			adapter_set_powered(w->adapters->pdata[i], on);
		g_dbus_method_invocation_return_value(inv, NULL);
		return;
	}
	if (strcmp(method, "Quit") == 0) {
		g_dbus_method_invocation_return_value(inv, NULL);
		w->shutting_down = TRUE;
		g_main_loop_quit(w->loop);
		return;
	}
	if (strcmp(method, "AddDevice") == 0 &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(ssa{sv})"))) {
		const char *name = NULL;
		g_autoptr(GVariant) props = NULL;
		g_variant_get(params, "(&s&s@a{sv})", &address, &name, &props);
		d = world_add_device(w, address, name, props, &error);
		if (d == NULL)
			g_dbus_method_invocation_return_gerror(inv, error);
		else
			g_dbus_method_invocation_return_value(
			    inv, g_variant_new("(o)", d->path));
		return;
	}

	/* Everything else names an existing device first. */
	g_autoptr(GVariant) first = g_variant_n_children(params) > 0
					? g_variant_get_child_value(params, 0)
					: NULL;
	if (first == NULL ||
	    !g_variant_is_of_type(first, G_VARIANT_TYPE_STRING)) {
		return_error(inv, CTL_ERR "InvalidArgs", "address expected");
		return;
	}
	address = g_variant_get_string(first, NULL);
	d = world_find_device(w, address);
	if (d == NULL) {
		return_error(inv, CTL_ERR "UnknownDevice", address);
		return;
	}

	if (strcmp(method, "RemoveDevice") == 0) {
		world_remove_device(d);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "GetDeviceState") == 0) {
		g_dbus_method_invocation_return_value(inv, device_state(d));
	} else if (strcmp(method, "SetDeviceOption") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ssv)"))) {
		const char *key = NULL;
		g_autoptr(GVariant) v = NULL;
		g_variant_get(params, "(&s&sv)", NULL, &key, &v);
		if (!device_set_option(d, key, v, FALSE, &error)) {
			g_dbus_method_invocation_return_gerror(inv, error);
			return;
		}
		if (strcmp(key, "rssi") == 0 || strcmp(key, "uuids") == 0 ||
		    strcmp(key, "service-data") == 0 ||
		    strcmp(key, "manufacturer-data") == 0)
			device_report(d);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "SetServiceData") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ssay)"))) {
		const char *uuid = NULL;
		g_autoptr(GVariant) data = NULL;
		g_variant_get(params, "(&s&s@ay)", NULL, &uuid, &data);
		char *u = uuid_normalise(uuid);
		if (u == NULL) {
			return_error(inv, CTL_ERR "InvalidArgs", "bad UUID");
			return;
		}
		if (g_variant_n_children(data) == 0) {
			g_hash_table_remove(d->sd_world, u);
			g_free(u);
		} else {
			g_hash_table_insert(d->sd_world, u,
					    variant_bytes(data));
		}
		device_report(d);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "SetManufacturerData") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(sqay)"))) {
		guint16 company = 0;
		g_autoptr(GVariant) data = NULL;
		g_variant_get(params, "(&sq@ay)", NULL, &company, &data);
		if (g_variant_n_children(data) == 0)
			g_hash_table_remove(d->md_world,
					    GUINT_TO_POINTER(company));
		else
			g_hash_table_insert(d->md_world,
					    GUINT_TO_POINTER(company),
					    variant_bytes(data));
		device_report(d);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "SetRSSI") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(sn)"))) {
		g_variant_get(params, "(&sn)", NULL, &d->rssi_world);
		device_report(d);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "Advertise") == 0) {
		device_report(d);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "SetValue") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ssay)"))) {
		const char *uuid = NULL;
		g_autoptr(GVariant) data = NULL;
		g_variant_get(params, "(&s&s@ay)", NULL, &uuid, &data);
		char *u = uuid_normalise(uuid);
		if (u == NULL || device_find_spec(d, u) == NULL) {
			g_free(u);
			return_error(inv, CTL_ERR "InvalidArgs",
				     "no such characteristic");
			return;
		}
		gboolean battery = strcmp(u, UUID_BATTERY_CHRC) == 0;
		g_hash_table_insert(d->values, u, variant_bytes(data));
		if (battery && d->reg_batt != 0)
			changed1(w, d->path, IF_BATTERY, d, "Percentage");
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "SetWriteReply") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ssaysaay)"))) {
		const char *chr = NULL;
		const char *notify = NULL;
		g_autoptr(GVariant) prefix = NULL;
		g_autoptr(GVariant) values = NULL;
		g_variant_get(params, "(&s&s@ay&s@aay)", NULL, &chr, &prefix,
			      &notify, &values);
		g_autofree char *cu = uuid_normalise(chr);
		const ChrSpec *spec = cu ? device_find_spec(d, cu) : NULL;
		if (spec == NULL || !(spec->flags & (CF_WRITE | CF_WRITE_NR))) {
			return_error(inv, CTL_ERR "InvalidArgs",
				     "no such characteristic that is written");
			return;
		}
		WriteReply *r = g_new0(WriteReply, 1);
		r->values = g_ptr_array_new_with_free_func(
		    (GDestroyNotify)g_bytes_unref);
		for (gsize i = 0; i < g_variant_n_children(values); i++) {
			g_autoptr(GVariant) v =
			    g_variant_get_child_value(values, i);
			g_autoptr(GBytes) b = variant_bytes(v);
			r->notify = notify_target(d, notify, b, &error);
			if (r->notify == NULL) {
				write_reply_free(r);
				g_dbus_method_invocation_return_gerror(inv,
								       error);
				return;
			}
			g_free(r->notify);
			g_ptr_array_add(r->values, g_bytes_ref(b));
		}
		r->notify = uuid_normalise(notify);
		if (r->notify == NULL) {
			write_reply_free(r);
			return_error(inv, CTL_ERR "InvalidArgs", "bad UUID");
			return;
		}
		r->chr = g_steal_pointer(&cu);
		r->prefix = variant_bytes(prefix);
		g_ptr_array_add(d->replies, r);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "Notify") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ssay)"))) {
		const char *uuid = NULL;
		g_autoptr(GVariant) data = NULL;
		g_variant_get(params, "(&s&s@ay)", NULL, &uuid, &data);
		g_autoptr(GBytes) value = variant_bytes(data);
		g_autofree char *u = notify_target(d, uuid, value, &error);
		if (u == NULL) {
			g_dbus_method_invocation_return_gerror(inv, error);
			return;
		}
		GattChr *c = device_find_chr(d, u);
		gboolean ok = c != NULL && chr_deliver(c, value);
		g_dbus_method_invocation_return_value(inv,
						      g_variant_new("(b)", ok));
	} else if ((strcmp(method, "StartNotifyStream") == 0 &&
		    g_variant_is_of_type(params, G_VARIANT_TYPE("(ssayuu)"))) ||
		   (strcmp(method, "StartNotifyStreamSeq") == 0 &&
		    g_variant_is_of_type(params,
					 G_VARIANT_TYPE("(ssayuuu)")))) {
		const char *uuid = NULL;
		g_autoptr(GVariant) data = NULL;
		guint rate = 0;
		guint count = 0;
		guint seq = G_MAXUINT;
		if (g_variant_n_children(params) == 6)
			g_variant_get(params, "(&s&s@ayuuu)", NULL, &uuid,
				      &data, &rate, &count, &seq);
		else
			g_variant_get(params, "(&s&s@ayuu)", NULL, &uuid, &data,
				      &rate, &count);
		g_autoptr(GBytes) value = variant_bytes(data);
		g_autofree char *u = notify_target(d, uuid, value, &error);
		if (u == NULL) {
			g_dbus_method_invocation_return_gerror(inv, error);
			return;
		}
		if (rate == 0 || rate > 100000) {
			return_error(inv, CTL_ERR "InvalidArgs",
				     "rate_hz must be 1..100000");
			return;
		}
		Stream *old = device_find_stream(d, u);
		if (old != NULL)
			g_ptr_array_remove(d->streams, old);
		Stream *st = g_new0(Stream, 1);
		st->d = d;
		st->uuid = g_steal_pointer(&u);
		st->value = g_steal_pointer(&value);
		st->rate = rate;
		st->count = count;
		st->seq_offset = seq == G_MAXUINT ? -1 : (gssize)seq;
		st->start_us = g_get_monotonic_time();
		g_ptr_array_add(d->streams, st);
		guint period = rate >= 100 ? 10 : 1000 / rate;
		st->timer = g_timeout_add(period, stream_tick, st);
		g_dbus_method_invocation_return_value(inv, NULL);
		if (count == 0) {
			stream_finish(st, TRUE);
		}
	} else if ((strcmp(method, "StopNotifyStream") == 0 ||
		    strcmp(method, "GetStreamStats") == 0) &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ss)"))) {
		const char *uuid = NULL;
		g_variant_get(params, "(&s&s)", NULL, &uuid);
		g_autofree char *u = uuid_normalise(uuid);
		Stream *st = u ? device_find_stream(d, u) : NULL;
		if (st == NULL) {
			return_error(inv, CTL_ERR "InvalidArgs", "no stream");
			return;
		}
		gboolean running = st->timer != 0;
		if (strcmp(method, "StopNotifyStream") == 0) {
			stream_finish(st, FALSE);
			g_dbus_method_invocation_return_value(
			    inv, g_variant_new("(uuu)", st->sent, st->delivered,
					       st->dropped));
		} else {
			g_dbus_method_invocation_return_value(
			    inv, g_variant_new("(buuu)", running, st->sent,
					       st->delivered, st->dropped));
		}
	} else if (strcmp(method, "SetConnectBehaviour") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ss)"))) {
		const char *spec = NULL;
		g_variant_get(params, "(&s&s)", NULL, &spec);
		if (!parse_behaviour(d, spec, &error)) {
			g_dbus_method_invocation_return_gerror(inv, error);
			return;
		}
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "DropConnection") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(ss)"))) {
		const char *why = NULL;
		enum reason r = REASON_REMOTE;
		gboolean found = FALSE;
		g_variant_get(params, "(&s&s)", NULL, &why);
		for (guint i = 0; i < G_N_ELEMENTS(reasons); i++) {
			if (strcmp(why, reasons[i].word) == 0 ||
			    strcmp(why, reasons[i].name) == 0) {
				r = (enum reason)i;
				found = TRUE;
			}
		}
		if (!found && why[0] != '\0') {
			return_error(inv, CTL_ERR "InvalidArgs",
				     "reason: unknown, timeout, local, remote, "
				     "auth or suspend");
			return;
		}
		if (!d->connected && !d->connecting) {
			return_error(inv, CTL_ERR "NotConnected", d->address);
			return;
		}
		link_down(d, r, "le-connection-abort-by-local");
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(method, "SetStaleCache") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(sb)"))) {
		g_variant_get(params, "(&sb)", NULL, &d->stale);
		/* A cached database left over: the next connect rebuilds. */
		if (!d->connected && !d->connecting && d->svcs->len > 0)
			gatt_destroy(d, TRUE);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else {
		return_error(inv, CTL_ERR "InvalidArgs", "bad arguments");
	}
}

/* --- Dispatch ------------------------------------------------------------ */

static void vt_method_call(GDBusConnection *conn, const char *sender,
			   const char *path, const char *iface,
			   const char *method, GVariant *params,
			   GDBusMethodInvocation *inv, gpointer user_data)
{
	if (strcmp(iface, IF_ADAPTER) == 0) {
		adapter_method(user_data, sender, method, params, inv);
	} else if (strcmp(iface, IF_DEVICE) == 0) {
		device_method(user_data, method, inv);
	} else if (strcmp(iface, IF_CHRC) == 0) {
		chr_method(user_data, sender, method, params, inv);
	} else if (strcmp(iface, IF_DESC) == 0) {
		dsc_method(user_data, method, params, inv);
	} else if (strcmp(iface, IF_OM) == 0) {
		World *w = user_data;
		count_call(w, method, NULL);
		g_dbus_method_invocation_return_value(inv, managed_objects(w));
	} else if (strcmp(iface, IF_AGENT_MGR) == 0) {
		count_call(user_data, method, NULL);
		g_dbus_method_invocation_return_value(inv, NULL);
	} else if (strcmp(iface, IF_CONTROL) == 0) {
		control_method(user_data, method, params, inv);
	} else {
		return_error(inv, "org.freedesktop.DBus.Error.UnknownInterface",
			     iface);
	}
}

static gboolean set_bool(World *w, const char *path, const char *iface,
			 void *obj, const char *prop, gboolean *field,
			 GVariant *value)
{
	gboolean b = g_variant_get_boolean(value);

	if (*field != b) {
		*field = b;
		changed1(w, path, iface, obj, prop);
	}
	return TRUE;
}

static gboolean vt_set_property(GDBusConnection *conn, const char *sender,
				const char *path, const char *iface,
				const char *prop, GVariant *value,
				GError **error, gpointer user_data)
{
	const GVariantType *want = G_VARIANT_TYPE_BOOLEAN;

	if (strcmp(prop, "Alias") == 0)
		want = G_VARIANT_TYPE_STRING;
	else if (g_str_has_suffix(prop, "Timeout"))
		want = G_VARIANT_TYPE_UINT32;
	if (!g_variant_is_of_type(value, want)) {
		g_set_error_literal(error, bz_error_quark(),
				    BZ_ERROR_INVALID_ARGUMENTS,
				    "Invalid arguments in method call");
		return FALSE;
	}

	if (strcmp(iface, IF_ADAPTER) == 0) {
		Adapter *a = user_data;
		g_autofree char *key = g_strdup_printf("Set:%s", prop);
		count_call(a->w, key, NULL);
		if (strcmp(prop, "Powered") == 0) {
			adapter_set_powered(a, g_variant_get_boolean(value));
			return TRUE;
		}
		if (strcmp(prop, "Alias") == 0) {
			const char *s = g_variant_get_string(value, NULL);
			g_free(a->alias);
			a->alias = g_strdup(s[0] ? s : "standin");
			changed1(a->w, path, iface, a, prop);
			return TRUE;
		}
		if (!a->powered) {
			g_set_error_literal(error, bz_error_quark(),
					    BZ_ERROR_NOT_READY,
					    "Resource Not Ready");
			return FALSE;
		}
		if (strcmp(prop, "Discoverable") == 0)
			return set_bool(a->w, path, iface, a, prop,
					&a->discoverable, value);
		if (strcmp(prop, "Pairable") == 0)
			return set_bool(a->w, path, iface, a, prop,
					&a->pairable, value);
		guint32 *field = strcmp(prop, "DiscoverableTimeout") == 0
				     ? &a->discoverable_timeout
				     : &a->pairable_timeout;
		*field = g_variant_get_uint32(value);
		changed1(a->w, path, iface, a, prop);
		return TRUE;
	}
	if (strcmp(iface, IF_DEVICE) == 0) {
		Device *d = user_data;
		g_autofree char *key = g_strdup_printf("Set:%s", prop);
		count_call(d->a->w, key, NULL);
		count_call(d->a->w, key, d->address);
		if (strcmp(prop, "Alias") == 0) {
			const char *s = g_variant_get_string(value, NULL);
			g_free(d->alias);
			d->alias = s[0] ? g_strdup(s) : NULL;
			changed1(d->a->w, path, iface, d, prop);
			return TRUE;
		}
		if (strcmp(prop, "Trusted") == 0)
			return set_bool(d->a->w, path, iface, d, prop,
					&d->trusted, value);
		if (strcmp(prop, "Blocked") == 0)
			return set_bool(d->a->w, path, iface, d, prop,
					&d->blocked, value);
	}
	g_set_error_literal(error, bz_error_quark(), BZ_ERROR_FAILED,
			    "Property is not writable");
	return FALSE;
}

/* A client left the bus: its discovery and notify sessions end. */
static void name_owner_changed(GDBusConnection *conn, const char *sender,
			       const char *path, const char *iface,
			       const char *signal, GVariant *params,
			       gpointer user_data)
{
	World *w = user_data;
	const char *name = NULL;
	const char *old_owner = NULL;
	const char *new_owner = NULL;

	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sss)")))
		return;
	g_variant_get(params, "(&s&s&s)", &name, &old_owner, &new_owner);
	if (name[0] != ':' || new_owner[0] != '\0')
		return;
	for (guint i = 0; i < w->adapters->len; i++) {
		Adapter *a = w->adapters->pdata[i];
		if (g_hash_table_remove(a->clients, name))
			adapter_update_discovering(a);
		for (guint j = 0; j < a->devices->len; j++) {
			Device *d = a->devices->pdata[j];
			for (guint k = 0; k < d->svcs->len; k++) {
				GattSvc *s = d->svcs->pdata[k];
				for (guint m = 0; m < s->chrs->len; m++)
					chr_drop_session(s->chrs->pdata[m],
							 name);
			}
		}
	}
}

/* --- Start and stop ------------------------------------------------------ */

static Adapter *adapter_new(World *w, const char *id, const char *address,
			    gboolean powered)
{
	Adapter *a = g_new0(Adapter, 1);

	a->w = w;
	a->id = g_strdup(id);
	a->path = g_strdup_printf("/org/bluez/%s", id);
	a->address = g_strdup(address);
	a->alias = g_strdup("standin");
	a->powered = powered;
	a->pairable = TRUE;
	a->discoverable_timeout = 180;
	a->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)disc_client_free);
	a->devices =
	    g_ptr_array_new_with_free_func((GDestroyNotify)device_free);
	return a;
}

static void adapter_free(Adapter *a)
{
	g_clear_handle_id(&a->scan_source, g_source_remove);
	g_ptr_array_unref(a->devices);
	g_hash_table_unref(a->clients);
	unexport_iface(a->w, &a->reg);
	g_free(a->id);
	g_free(a->path);
	g_free(a->address);
	g_free(a->alias);
	g_free(a);
}

/*
 * RequestName by hand rather than g_bus_own_name_on_connection(): at exit
 * the name goes with the connection, as bluetoothd's does, and nothing
 * warns if the bus has already gone.
 */
static gboolean request_name(World *w, GError **error)
{
	guint32 code = 0;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
	    w->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	    "org.freedesktop.DBus", "RequestName",
	    g_variant_new("(su)", BLUEZ_NAME, 4u /* DO_NOT_QUEUE */),
	    G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);

	if (r == NULL)
		return FALSE;
	g_variant_get(r, "(u)", &code);
	if (code != 1 /* PRIMARY_OWNER */) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
			    "%s is owned by someone else", BLUEZ_NAME);
		return FALSE;
	}
	g_debug("owns %s (BlueZ 5.%d)", BLUEZ_NAME, w->version);
	return TRUE;
}

static void name_lost(GDBusConnection *conn, const char *sender,
		      const char *path, const char *iface, const char *signal,
		      GVariant *params, gpointer data)
{
	World *w = data;

	g_printerr("bluez-standin: lost %s\n", BLUEZ_NAME);
	w->status = 1;
	g_main_loop_quit(w->loop);
}

static void bus_closed(GDBusConnection *conn, gboolean remote_peer_vanished,
		       GError *error, gpointer data)
{
	World *w = data;

	g_debug("bus connection closed");
	g_main_loop_quit(w->loop);
}

static gboolean on_signal(gpointer data)
{
	World *w = data;

	w->shutting_down = TRUE;
	g_main_loop_quit(w->loop);
	return G_SOURCE_CONTINUE;
}

static int parse_version(const char *s)
{
	char *end = NULL;

	if (g_str_has_prefix(s, "5."))
		s += 2;
	guint64 v = g_ascii_strtoull(s, &end, 10);
	if (end == s || *end != '\0' || v > 999)
		return -1;
	return (int)v;
}

int main(int argc, char **argv)
{
	g_autofree char *address = NULL;
	g_auto(GStrv) adapters = NULL;
	g_auto(GStrv) devices = NULL;
	g_autofree char *version = NULL;
	gboolean unpowered = FALSE;
	gboolean powered = FALSE;
	gboolean quiet_connect = FALSE;
	gboolean verbose = FALSE;
	int temp_timeout_ms = 30000;
	int scan_delay_ms = 20;
	g_autoptr(GError) error = NULL;
	const GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &address,
		  "D-Bus address of the bus (default: "
		  "$DBUS_SYSTEM_BUS_ADDRESS)",
		  "ADDRESS" },
		{ "adapter", 0, 0, G_OPTION_ARG_STRING_ARRAY, &adapters,
		  "An adapter, repeatable (default: hci0)", "hciN[=BDADDR]" },
		{ "powered", 0, 0, G_OPTION_ARG_NONE, &powered,
		  "Adapters start powered (the default)", NULL },
		{ "unpowered", 0, 0, G_OPTION_ARG_NONE, &unpowered,
		  "Adapters start powered off", NULL },
		{ "bluez-version", 0, 0, G_OPTION_ARG_STRING, &version,
		  "BlueZ version to behave as (default 5.66)", "5.N" },
		{ "no-connected-signal", 0, 0, G_OPTION_ARG_NONE,
		  &quiet_connect,
		  "Never signal Connected=true (seen with real bluetoothd)",
		  NULL },
		{ "temporary-timeout-ms", 0, 0, G_OPTION_ARG_INT,
		  &temp_timeout_ms,
		  "Unused temporary devices go after this (default 30000)",
		  "MS" },
		{ "scan-delay-ms", 0, 0, G_OPTION_ARG_INT, &scan_delay_ms,
		  "First reports come this long after discovery starts "
		  "(default 20)",
		  "MS" },
		{ "device", 0, 0, G_OPTION_ARG_STRING_ARRAY, &devices,
		  "A known (bonded) device at start, repeatable",
		  "KIND,BDADDR[,NAME]" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		  "Debug messages", NULL },
		{ .long_name = NULL },
	};
	g_autoptr(GOptionContext) ctx =
	    g_option_context_new("- a scriptable BlueZ stand-in");

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_printerr("bluez-standin: %s\n", error->message);
		return 2;
	}
	if (verbose)
		g_log_set_debug_enabled(TRUE);
	if (address == NULL)
		address = g_strdup(g_getenv("DBUS_SYSTEM_BUS_ADDRESS"));
	if (address == NULL || address[0] == '\0') {
		g_printerr("bluez-standin: no bus: give --address or "
			   "DBUS_SYSTEM_BUS_ADDRESS (it never guesses the "
			   "system bus)\n");
		return 2;
	}

	World world = { 0 };
	World *w = &world;
	w->version = parse_version(version ? version : "5.66");
	if (w->version < 0 || temp_timeout_ms < 0 || scan_delay_ms < 0) {
		g_printerr("bluez-standin: bad --bluez-version or delay\n");
		return 2;
	}
	w->connected_signal = !quiet_connect;
	w->temp_timeout_ms = (guint)temp_timeout_ms;
	w->scan_delay_ms = (guint)scan_delay_ms;
	w->calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	w->adapters =
	    g_ptr_array_new_with_free_func((GDestroyNotify)adapter_free);
	w->loop = g_main_loop_new(NULL, FALSE);

	g_autofree char *xml =
	    g_strconcat(introspection_head,
			w->version >= 83 ? introspection_disconnected : "",
			introspection_tail, NULL);
	w->node = g_dbus_node_info_new_for_xml(xml, &error);
	g_assert_no_error(error);

	w->conn = g_dbus_connection_new_for_address_sync(
	    address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	if (w->conn == NULL) {
		g_printerr("bluez-standin: %s: %s\n", address, error->message);
		w->status = 1;
		goto out;
	}
	g_dbus_connection_set_exit_on_close(w->conn, FALSE);
	w->closed_handler =
	    g_signal_connect(w->conn, "closed", G_CALLBACK(bus_closed), w);

	for (guint i = 0; adapters != NULL && adapters[i] != NULL; i++) {
		g_auto(GStrv) parts = g_strsplit(adapters[i], "=", 2);
		g_autofree char *bdaddr = NULL;
		if (parts[1] != NULL)
			bdaddr = address_normalise(parts[1]);
		else
			bdaddr = g_strdup_printf("00:AA:01:00:00:%02X", i);
		if (bdaddr == NULL || !g_str_has_prefix(parts[0], "hci") ||
		    world_find_adapter(w, parts[0]) != NULL) {
			g_printerr("bluez-standin: bad --adapter %s\n",
				   adapters[i]);
			w->status = 2;
			goto out;
		}
		g_ptr_array_add(w->adapters,
				adapter_new(w, parts[0], bdaddr, !unpowered));
	}
	if (w->adapters->len == 0)
		g_ptr_array_add(
		    w->adapters,
		    adapter_new(w, "hci0", "00:AA:01:00:00:00", !unpowered));

	w->reg_om = export_iface(w, "/", IF_OM, w);
	w->reg_bluez = export_iface(w, "/org/bluez", IF_AGENT_MGR, w);
	w->reg_ctl = export_iface(w, CONTROL_PATH, IF_CONTROL, w);
	for (guint i = 0; i < w->adapters->len; i++) {
		Adapter *a = w->adapters->pdata[i];
		a->reg = export_iface(w, a->path, IF_ADAPTER, a);
	}
	for (guint i = 0; devices != NULL && devices[i] != NULL; i++) {
		g_auto(GStrv) parts = g_strsplit(devices[i], ",", 3);
		GVariantBuilder b;
		if (g_strv_length(parts) < 2) {
			g_printerr("bluez-standin: bad --device %s\n",
				   devices[i]);
			w->status = 2;
			goto out;
		}
		g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(&b, "{sv}", "kind",
				      g_variant_new_string(parts[0]));
		/* What bluetoothd loads from storage at start: known ones. */
		g_variant_builder_add(&b, "{sv}", "known",
				      g_variant_new_boolean(TRUE));
		g_autoptr(GVariant) props =
		    g_variant_ref_sink(g_variant_builder_end(&b));
		if (world_add_device(w, parts[1], parts[2] ? parts[2] : "",
				     props, &error) == NULL) {
			g_printerr("bluez-standin: --device %s: %s\n",
				   devices[i], error->message);
			w->status = 2;
			goto out;
		}
	}
	w->noc_sub = g_dbus_connection_signal_subscribe(
	    w->conn, "org.freedesktop.DBus", "org.freedesktop.DBus",
	    "NameOwnerChanged", "/org/freedesktop/DBus", NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed, w, NULL);

	w->lost_sub = g_dbus_connection_signal_subscribe(
	    w->conn, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameLost",
	    "/org/freedesktop/DBus", BLUEZ_NAME, G_DBUS_SIGNAL_FLAGS_NONE,
	    name_lost, w, NULL);
	if (!request_name(w, &error)) {
		g_printerr("bluez-standin: %s\n", error->message);
		w->status = 1;
		goto out;
	}

	guint sigterm = g_unix_signal_add(SIGTERM, on_signal, w);
	guint sigint = g_unix_signal_add(SIGINT, on_signal, w);
	g_main_loop_run(w->loop);
	g_source_remove(sigterm);
	g_source_remove(sigint);
	/* bluetoothd's shutdown: links drop, adapters power down. */
	if (w->shutting_down && !g_dbus_connection_is_closed(w->conn)) {
		for (guint i = 0; i < w->adapters->len; i++)
			adapter_set_powered(w->adapters->pdata[i], FALSE);
	}

out:
	g_ptr_array_set_size(w->adapters, 0);
	if (w->conn != NULL) {
		unexport_iface(w, &w->reg_om);
		unexport_iface(w, &w->reg_bluez);
		unexport_iface(w, &w->reg_ctl);
		if (w->noc_sub != 0)
			g_dbus_connection_signal_unsubscribe(w->conn,
							     w->noc_sub);
		if (w->lost_sub != 0)
			g_dbus_connection_signal_unsubscribe(w->conn,
							     w->lost_sub);
		g_signal_handler_disconnect(w->conn, w->closed_handler);
		if (!g_dbus_connection_is_closed(w->conn)) {
			g_dbus_connection_flush_sync(w->conn, NULL, NULL);
			g_dbus_connection_close_sync(w->conn, NULL, NULL);
		}
		g_object_unref(w->conn);
	}
	g_ptr_array_unref(w->adapters);
	g_hash_table_unref(w->calls);
	g_clear_pointer(&w->last_filter, g_variant_unref);
	g_dbus_node_info_unref(w->node);
	g_main_loop_unref(w->loop);
	return w->status;
}
