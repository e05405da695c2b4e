// SPDX-License-Identifier: MIT
/*
 * The connectable devices' state machine (DESIGN §3):
 *
 *   absent --object--> seen --> connecting --reply--> resolving
 *   resolving --ServicesResolved, ours found, subscribed--> subscribed
 *   connecting/resolving/subscribed --link down--> lost --> backoff
 *   backoff --timer--> connecting (or absent / waiting)
 *   anything --adapter off, bluetoothd gone--> waiting --back--> seen
 *
 * What real bluetoothd does that shapes it (tests/e2e/README.md, "Behaviours
 * of this test bed to design around"):
 * Connected=true is often never signalled, so the Connect reply counts as
 * connected and ServicesResolved is what we wait for; GATT object paths
 * change on every connection, so characteristics are looked up by UUID after
 * every ServicesResolved and never kept across sessions.
 *
 * Every call has its own GCancellable in d->link.calls; ending a session
 * cancels them all, and a cancelled call's callback never touches the device.
 */
#define G_LOG_DOMAIN "recoveryd-ble"

#include "sensors/ble-private.h"

#include "gateway/common/owner-log.h"
#include "sensors/uds.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#define CONNECT_TIMEOUT_MS   10000
#define RESOLVE_TIMEOUT_MS   10000
#define CALL_TIMEOUT_MS	     10000
#define STALE_GRACE_MS	     500
#define SOCKET_END_GRACE_MS  200
#define BACKOFF_MIN_MS	     1000
#define BACKOFF_MAX_MS	     60000
#define IN_PROGRESS_RETRY_MS 1000
/* Stale resolutions in a row before the device is removed from bluetoothd,
 * the one thing that clears BlueZ's GATT cache. */
#define STALE_REMOVE_AFTER 2
/* An ATT value is at most 512 bytes; the largest ATT MTU is 517. */
#define ATT_MTU_MAX 517
#define ATT_MTU_MIN 23
/* Values read from an AcquireNotify socket per wake-up, at most. */
#define FD_BATCH 64

struct profile {
	/* Subscribed to; at least one must be there. */
	enum decode_uuid notify[DEVICE_MAX_SUBS];
	unsigned n_notify;
	/* Read once per connection when present. */
	enum decode_uuid read[DEVICE_MAX_READS];
	unsigned n_read;
};

static const struct profile heart_rate_profile = {
	{ DECODE_UUID_HEART_RATE },
	1,
	{ DECODE_UUID_SENSOR_LOCATION, DECODE_UUID_BATTERY_LEVEL },
	2,
};

/* Weight Scale Service and Body Composition Service: either or both. */
static const struct profile scale_profile = {
	{ DECODE_UUID_WEIGHT, DECODE_UUID_BODY_COMPOSITION },
	2,
	{ DECODE_UUID_WEIGHT_FEATURE, DECODE_UUID_BATTERY_LEVEL },
	2,
};

bool device_is_connectable(const struct ble_dev *d)
{
	switch (d->kind) {
	case BLE_KIND_HEART_RATE:
	case BLE_KIND_SCALE:
	case BLE_KIND_SCALE_QN:
		return true;
	case BLE_KIND_SCALE_AUTO:
		/* advertiser.c's verdict: an advertiser is never connected. */
		return d->adv.role == ADVERTISER_CONNECTING;
	case BLE_KIND_MISCALE:
	case BLE_KIND_BTHOME:
		return false;
	default:
		return false;
	}
}

void device_recognised(struct ble_dev *d)
{
	if (d->path) {
		g_autofree char *path = g_strdup(d->path);

		device_appeared(d, path);
	} else {
		bluez_update_discovery(d->c);
	}
}

bool device_vendor_session(const struct ble_dev *d,
			   enum scale_session_kind *ret_kind)
{
	enum scale_session_kind kind;

	if (d->kind == BLE_KIND_SCALE_QN)
		kind = SCALE_SESSION_QN;
	else if (d->kind == BLE_KIND_SCALE_AUTO && d->adv.connect_vendor)
		kind = d->adv.connect_kind;
	else
		return false;
	if (ret_kind != NULL)
		*ret_kind = kind;
	return true;
}

static const struct profile *profile_of(const struct ble_dev *d)
{
	return d->kind == BLE_KIND_HEART_RATE ? &heart_rate_profile
					      : &scale_profile;
}

static bool link_up(const struct ble_dev *d)
{
	return d->link.state == BLE_LINK_CONNECTING ||
	       d->link.state == BLE_LINK_RESOLVING ||
	       d->link.state == BLE_LINK_SUBSCRIBED;
}

static void set_state(struct ble_dev *d, enum ble_link_state state,
		      const GError *reason)
{
	ble_client *c = d->c;

	/* Each backoff is news (a new reason, a new delay); the rest only
	 * when it changes. */
	if (d->link.state == state && state != BLE_LINK_BACKOFF)
		return;
	d->link.state = state;
	if (c->ops.link != NULL)
		c->ops.link(c->data, d->address, state, reason);
}

/* Ends the session: calls cancelled, sockets closed, halves dropped. */
static void session_end(struct ble_dev *d)
{
	bluez_cancel_calls(d->link.calls);
	g_clear_handle_id(&d->link.timer, g_source_remove);
	for (unsigned i = 0; i < d->link.n_subs; i++) {
		struct device_sub *s = &d->link.subs[i];
		g_clear_handle_id(&s->watch, g_source_remove);
		if (s->fd >= 0)
			close(s->fd);
		g_free(s->path);
		memset(s, 0, sizeof(*s));
		s->fd = -1;
	}
	d->link.n_subs = 0;
	d->link.subs_pending = 0;
	d->link.grace = false;
	bcs_assembler_reset(&d->link.bcs);
	g_clear_handle_id(&d->link.reply_timer, g_source_remove);
	d->link.has_session = false;
}

struct ble_dev *device_new(ble_client *c, const char *address,
			   enum ble_device_kind kind)
{
	struct ble_dev *d = g_new0(struct ble_dev, 1);

	d->c = c;
	g_strlcpy(d->address, address, sizeof(d->address));
	d->kind = kind;
	d->link.state = BLE_LINK_ABSENT;
	d->link.calls = g_ptr_array_new_with_free_func(g_object_unref);
	d->link.backoff_ms = BACKOFF_MIN_MS;
	for (unsigned i = 0; i < DEVICE_MAX_SUBS; i++)
		d->link.subs[i].fd = -1;
	bcs_assembler_reset(&d->link.bcs);
	return d;
}

void device_free(struct ble_dev *d)
{
	ble_client *c;

	if (d == NULL)
		return;
	c = d->c;
	/* A StartNotify session is bound to our bus name, which may outlive
	 * us (a shared connection): end it (fire and forget). */
	for (unsigned i = 0; i < d->link.n_subs && link_up(d) && c->owner;
	     i++) {
		if (d->link.subs[i].started)
			g_dbus_connection_call(
			    c->bus, c->owner, d->link.subs[i].path,
			    BLUEZ_GATT_CHAR, "StopNotify", NULL, NULL,
			    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
	}
	session_end(d);
	advertiser_forget(d);
	g_ptr_array_unref(d->link.calls);
	g_free(d->path);
	g_free(d);
}

void device_call_started(struct ble_dev *d, GCancellable *cancel)
{
	g_ptr_array_add(d->link.calls, g_object_ref(cancel));
}

void device_call_finished(struct ble_dev *d, GCancellable *cancel)
{
	g_ptr_array_remove_fast(d->link.calls, cancel);
}

/* --- Values ------------------------------------------------------------- */

/* One value of @uuid from @d: decoded, body composition halves joined. */
static void deliver(struct ble_dev *d, enum decode_uuid uuid,
		    const uint8_t *data, size_t len, enum reading_via via)
{
	ble_client *c = d->c;
	struct reading r;
	struct parse_error err = { 0 };
	int rc;

	if (via == READING_VIA_NOTIFICATION)
		c->stats.notifications++;
	rc = decode_payload(uuid, data, len, &r.payload, &err);
	if (rc < 0) {
		bluez_malformed(c, d, decode_uuid_name(uuid), rc, &err);
		return;
	}
	if (uuid == DECODE_UUID_BODY_COMPOSITION) {
		struct bcs_measurement whole;
		/* -EAGAIN: the first of two packets, held for the second. */
		if (bcs_assembler_push(&d->link.bcs,
				       &r.payload.u.body_composition,
				       &whole) != 0)
			return;
		r.payload.u.body_composition = whole;
	}
	bluez_emit_reading(c, &r, d->address, via);
}

static void session_take(struct ble_dev *d, uint16_t uuid, const uint8_t *data,
			 size_t len);

/* One value of subscription @s: the session's, or a profile's. */
static void sub_value(struct ble_dev *d, const struct device_sub *s,
		      const uint8_t *data, size_t len)
{
	if (s->session_uuid != 0)
		session_take(d, s->session_uuid, data, len);
	else
		deliver(d, s->uuid, data, len, READING_VIA_NOTIFICATION);
}

bool device_value_changed(struct ble_dev *d, const char *path, GVariant *value)
{
	for (unsigned i = 0; i < d->link.n_subs; i++) {
		struct device_sub *s = &d->link.subs[i];
		gsize n = 0;

		if (!s->started || strcmp(s->path, path) != 0)
			continue;
		const guint8 *p = g_variant_get_fixed_array(value, &n, 1);
		sub_value(d, s, p, n);
		return true;
	}
	return false;
}

/* --- Backoff, loss ------------------------------------------------------ */

static void connect_now(struct ble_dev *d);

static gboolean backoff_due(gpointer data)
{
	struct ble_dev *d = data;
	ble_client *c = d->c;

	d->link.timer = 0;
	if (d->path == NULL) {
		set_state(d, BLE_LINK_ABSENT, NULL);
	} else if (!bluez_adapter_ready(c)) {
		g_autoptr(GError) why =
		    g_error_new_literal(BLE_ERROR, BLE_ERROR_ADAPTER_OFF,
					"the adapter is powered off");
		set_state(d, BLE_LINK_WAITING, why);
	} else {
		connect_now(d);
	}
	return G_SOURCE_REMOVE;
}

/*
 * Ends the session and waits @base_ms (±20 %) before the next attempt;
 * @escalate doubles the next wait (up to 60 s). @reason says why.
 */
static void backoff(struct ble_dev *d, unsigned base_ms, bool escalate,
		    const GError *reason)
{
	ble_client *c = d->c;
	unsigned delay_ms =
	    (unsigned)(base_ms * g_rand_double_range(c->rand, 0.8, 1.2));

	session_end(d);
	if (escalate)
		d->link.backoff_ms =
		    MIN(d->link.backoff_ms * 2, BACKOFF_MAX_MS);
	d->link.timer = g_timeout_add(delay_ms, backoff_due, d);
	g_autoptr(GError) why =
	    g_error_new(BLE_ERROR, reason->code, "%s; retrying in %.1f s",
			reason->message, delay_ms / 1000.0);
	set_state(d, BLE_LINK_BACKOFF, why);
	bluez_update_discovery(c);
}

static void lost(struct ble_dev *d, const GError *reason)
{
	ble_client *c = d->c;

	c->stats.links_lost++;
	session_end(d);
	set_state(d, BLE_LINK_LOST, reason);
	backoff(d, d->link.backoff_ms, true, reason);
}

static void lost_literal(struct ble_dev *d, const char *why)
{
	g_autoptr(GError) e =
	    g_error_new_literal(BLE_ERROR, BLE_ERROR_LINK_LOST, why);

	lost(d, e);
}

static void ignore_done(ble_client *c, struct ble_dev *d, GVariant *reply,
			GUnixFDList *fds, const GError *error, intptr_t tag)
{
}

/* Disconnect; a pending Connect in bluetoothd is cancelled by it too. */
static void disconnect(struct ble_dev *d)
{
	if (d->path != NULL)
		bluez_call(d->c, d, d->path, BLUEZ_DEVICE, "Disconnect", NULL,
			   G_VARIANT_TYPE_UNIT, CALL_TIMEOUT_MS, false,
			   ignore_done, 0);
}

/* Something in the session failed that a new connection may cure. */
static void session_failed(struct ble_dev *d, const GError *reason)
{
	ble_client *c = d->c;

	c->stats.links_lost++;
	session_end(d);
	set_state(d, BLE_LINK_LOST, reason);
	backoff(d, d->link.backoff_ms, true, reason);
	disconnect(d);
}

/* --- Scale sessions (scale-session.h) ---------------------------------- */

static void run_actions(struct ble_dev *d, const struct scale_actions *acts);

static gboolean reply_due(gpointer data)
{
	struct ble_dev *d = data;
	struct scale_actions acts;

	d->link.reply_timer = 0;
	scale_session_timeout(&d->link.session, &acts);
	run_actions(d, &acts);
	return G_SOURCE_REMOVE;
}

/* After each step: wait (again) for the reply the session expects. */
static void arm_reply(struct ble_dev *d)
{
	unsigned wait_ms;

	g_clear_handle_id(&d->link.reply_timer, g_source_remove);
	if (!d->link.has_session)
		return;
	wait_ms = scale_session_wait_ms(&d->link.session);
	if (wait_ms > 0)
		d->link.reply_timer = g_timeout_add(wait_ms, reply_due, d);
}

static void write_done(ble_client *c, struct ble_dev *d, GVariant *reply,
		       GUnixFDList *fds, const GError *error, intptr_t tag)
{
	if (error == NULL)
		return;
	g_autoptr(GError) e = bluez_error_from_dbus(error, BLE_ERROR_LINK_LOST);
	g_autoptr(GError) why =
	    g_error_new(BLE_ERROR, e->code, "writing 0x%04X failed: %s",
			(unsigned)tag, e->message);
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING, "%s: %s",
		  d->address, why->message);
	session_failed(d, why);
}

/* WriteValue as a request (answered by the ATT layer) or a command; what
 * the characteristic offers wins over what was asked for. */
static bool write_value(struct ble_dev *d, const struct scale_action *a)
{
	ble_client *c = d->c;
	const char *path = bluez_find_char16(c, d->path, a->uuid);
	GVariant *flags;
	bool request = a->with_response;
	GVariantBuilder opts;

	if (path == NULL)
		return false;
	flags = bluez_prop(c, path, BLUEZ_GATT_CHAR, "Flags",
			   G_VARIANT_TYPE_STRING_ARRAY);
	if (flags != NULL) {
		g_autofree const char **strv = g_variant_get_strv(flags, NULL);
		bool req = g_strv_contains(strv, "write");
		bool cmd = g_strv_contains(strv, "write-without-response");

		if (request && !req && cmd)
			request = false;
		else if (!request && !cmd && req)
			request = true;
	}
	g_variant_builder_init(&opts, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(
	    &opts, "{sv}", "type",
	    g_variant_new_string(request ? "request" : "command"));
	bluez_call(c, d, path, BLUEZ_GATT_CHAR, "WriteValue",
		   g_variant_new("(@ay@a{sv})",
				 g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE,
							   a->data, a->len, 1),
				 g_variant_builder_end(&opts)),
		   G_VARIANT_TYPE_UNIT, CALL_TIMEOUT_MS, false, write_done,
		   a->uuid);
	return true;
}

static void session_weighing(struct ble_dev *d, const struct scale_weighing *w)
{
	g_autofree struct reading *r = g_new0(struct reading, 1);

	r->payload.uuid = DECODE_SCALE_WEIGHING;
	r->payload.u.scale = *w;
	bluez_emit_reading(d->c, r, d->address, READING_VIA_NOTIFICATION);
}

/* Does what the session asked for, in order; a failure ends the session
 * (and the rest with it). */
static void run_actions(struct ble_dev *d, const struct scale_actions *acts)
{
	ble_client *c = d->c;
	const char *kind = scale_session_kind_name(d->link.session.kind);

	for (size_t i = 0; i < acts->n && d->link.has_session; i++) {
		const struct scale_action *a = &acts->a[i];

		switch (a->kind) {
		case SCALE_ACTION_WRITE:
			if (!write_value(d, a)) {
				g_autoptr(GError) why = g_error_new(
				    BLE_ERROR, BLE_ERROR_STALE_CACHE,
				    "%s session: the scale has no "
				    "characteristic 0x%04X to write",
				    kind, a->uuid);
				owner_log(c->ops.log, c->data,
					  G_LOG_LEVEL_WARNING, "%s: %s",
					  d->address, why->message);
				session_failed(d, why);
				return;
			}
			break;
		case SCALE_ACTION_WEIGHING:
			session_weighing(d, &a->weighing);
			break;
		case SCALE_ACTION_REGISTERED:
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_DEBUG,
				  "%s: registered as user %u of the scale",
				  d->address, a->user_index);
			if (c->ops.uds_registered != NULL)
				c->ops.uds_registered(c->data, d->address,
						      a->user_index,
						      d->link.uds.consent_code);
			break;
		case SCALE_ACTION_NOTE:
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_MESSAGE,
				  "%s: %s", d->address, a->message);
			break;
		case SCALE_ACTION_REFUSED:
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
				  "%s: %s", d->address, a->message);
			break;
		case SCALE_ACTION_FAILED: {
			g_autoptr(GError) why = g_error_new(
			    BLE_ERROR, BLE_ERROR_FAILED, "%s", a->message);
			owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
				  "%s: %s session: %s", d->address, kind,
				  a->message);
			session_failed(d, why);
			return;
		}
		default:
			break;
		}
	}
	arm_reply(d);
}

/* A value of one of the session's characteristics. */
static void session_take(struct ble_dev *d, uint16_t uuid, const uint8_t *data,
			 size_t len)
{
	ble_client *c = d->c;
	struct scale_actions acts;
	struct parse_error err = { 0 };
	int rc;

	c->stats.notifications++;
	if (!d->link.has_session)
		return; /* before the session starts: nothing asked yet */
	rc = scale_session_value(&d->link.session, uuid, data, len,
				 bluez_wall_ms(c) / 1000, &acts, &err);
	if (rc < 0) {
		bluez_malformed(c, d,
				scale_session_kind_name(d->link.session.kind),
				rc, &err);
		return;
	}
	run_actions(d, &acts);
}

/* Subscribed: start the scale's conversation, if it has one. */
static void session_start(struct ble_dev *d)
{
	struct scale_actions acts = { .n = 0 };
	enum scale_session_kind kind;

	if (device_vendor_session(d, &kind)) {
		size_t n = 0;
		const struct scale_session_chars *v =
		    scale_session_variants(kind, &n);

		for (unsigned i = 0; i < d->link.n_subs; i++) {
			for (size_t k = 0; k < n; k++) {
				if (d->link.subs[i].session_uuid != v[k].notify)
					continue;
				d->link.has_session = true;
				scale_session_start(
				    &d->link.session, kind, &v[k],
				    bluez_wall_ms(d->c) / 1000, &acts);
				run_actions(d, &acts);
				return;
			}
		}
		return;
	}
	if (d->link.uds_wanted) {
		d->link.has_session = true;
		scale_session_start_uds(
		    &d->link.session, d->link.uds.registered,
		    d->link.uds.user_index, d->link.uds.consent_code, &acts);
		run_actions(d, &acts);
	}
}

/* --- Subscribing -------------------------------------------------------- */

static void sub_done(struct ble_dev *d)
{
	ble_client *c = d->c;

	if (d->link.subs_pending > 0)
		d->link.subs_pending--;
	if (d->link.subs_pending > 0 || d->link.state != BLE_LINK_RESOLVING)
		return;
	/* A good session: the next trouble starts from the shortest wait. */
	d->link.backoff_ms = BACKOFF_MIN_MS;
	d->link.stale_count = 0;
	set_state(d, BLE_LINK_SUBSCRIBED, NULL);
	bluez_update_discovery(c);
	session_start(d);
}

static void start_done(ble_client *c, struct ble_dev *d, GVariant *reply,
		       GUnixFDList *fds, const GError *error, intptr_t tag)
{
	g_autofree char *name = bluez_dbus_error_name(error);

	/*
	 * Notifications left enabled (by an earlier run, or a session that
	 * survived in a cached database): InProgress or NotPermitted mean
	 * they are on, which is what we want.
	 */
	if (error != NULL &&
	    (g_strcmp0(name, "org.bluez.Error.InProgress") == 0 ||
	     g_strcmp0(name, "org.bluez.Error.NotPermitted") == 0)) {
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_DEBUG,
			  "%s: notifications already enabled on %s (%s)",
			  d->address, d->link.subs[tag].path, error->message);
		error = NULL;
	}
	if (error != NULL) {
		g_autoptr(GError) why =
		    bluez_error_from_dbus(error, BLE_ERROR_LINK_LOST);
		session_failed(d, why);
		return;
	}
	sub_done(d);
}

static void start_notify(struct ble_dev *d, unsigned i)
{
	struct device_sub *s = &d->link.subs[i];

	/* Values may come before the reply: take them from now on. */
	s->started = true;
	d->link.subs_pending++;
	bluez_call(d->c, d, s->path, BLUEZ_GATT_CHAR, "StartNotify", NULL,
		   G_VARIANT_TYPE_UNIT, CALL_TIMEOUT_MS, false, start_done, i);
}

static gboolean socket_end_due(gpointer data)
{
	struct ble_dev *d = data;

	d->link.timer = 0;
	lost_literal(d, "notification socket closed");
	return G_SOURCE_REMOVE;
}

/*
 * The AcquireNotify socket ended (its watch is being removed). bluetoothd
 * closes it as the link goes down, just before it says why (Disconnected,
 * Connected=false), and that signal takes a slower path to us than the
 * socket: give it a moment, so that the loss is reported with its reason.
 */
static void socket_ended(struct device_sub *s)
{
	struct ble_dev *d = s->d;

	s->watch = 0;
	close(s->fd);
	s->fd = -1;
	if (d->link.timer == 0)
		d->link.timer =
		    g_timeout_add(SOCKET_END_GRACE_MS, socket_end_due, d);
}

static gboolean fd_ready(gint fd, GIOCondition cond, gpointer data)
{
	struct device_sub *s = data;
	struct ble_dev *d = s->d;
	uint8_t buf[ATT_MTU_MAX];
	size_t size = CLAMP(s->mtu, ATT_MTU_MIN, ATT_MTU_MAX);

	/* One message is one value; its length is what recv() says. */
	for (int i = 0; i < FD_BATCH; i++) {
		ssize_t n = recv(fd, buf, size, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == ENOTSOCK)
			n = read(fd, buf, size);
		if (n > 0 && (size_t)n > size) {
			d->c->stats.notifications++;
			bluez_malformed(
			    d->c, d,
			    s->session_uuid != 0
				? scale_session_kind_name(d->link.session.kind)
				: decode_uuid_name(s->uuid),
			    -EMSGSIZE, NULL);
			continue;
		}
		if (n > 0) {
			sub_value(d, s, buf, (size_t)n);
			/* The scale session may have ended the session (and
			 * with it this watch and socket) over that value. */
			if (s->watch == 0)
				return G_SOURCE_REMOVE;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* EOF: bluetoothd closed it (the link went down). */
		socket_ended(s);
		return G_SOURCE_REMOVE;
	}
	if (cond & (G_IO_ERR | G_IO_NVAL)) {
		socket_ended(s);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/*
 * g_unix_fd_add() for an AcquireNotify socket, but a source that GLib need
 * not block while fd_ready runs: blocking takes the fd out of the poll set
 * and puts it back, and each of the two wakes the context (GLib 2.74 writes
 * its eventfd), so every wake-up cost two write()s and a second, empty
 * poll(). Recursion is harmless: an owner's callback that ran a nested
 * main loop would have fd_ready read the next values there, in order, and
 * the s->watch check after each value covers a socket ended in it.
 */
static guint watch_socket(int fd, struct device_sub *s)
{
	GSource *src = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	guint id;

	g_source_set_callback(src, G_SOURCE_FUNC(fd_ready), s, NULL);
	g_source_set_can_recurse(src, TRUE);
	id = g_source_attach(src, NULL);
	g_source_unref(src);
	return id;
}

static void acquire_done(ble_client *c, struct ble_dev *d, GVariant *reply,
			 GUnixFDList *fds, const GError *error, intptr_t tag)
{
	struct device_sub *s = &d->link.subs[tag];
	g_autoptr(GError) fd_error = NULL;
	gint32 index = -1;
	guint16 mtu = 0;
	int fd = -1;

	if (error == NULL) {
		g_variant_get(reply, "(hq)", &index, &mtu);
		if (fds != NULL)
			fd = g_unix_fd_list_get(fds, index, &fd_error);
		else
			fd_error =
			    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED,
						"no fd in the reply");
	}
	if (fd < 0) {
		/* Someone holds a StartNotify session (InProgress), or this
		 * bluetoothd does not offer it here: the D-Bus way. */
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_DEBUG,
			  "%s: AcquireNotify on %s failed (%s): using "
			  "StartNotify",
			  d->address, s->path,
			  error ? error->message : fd_error->message);
		s->tried_start = true;
		d->link.subs_pending--;
		start_notify(d, (unsigned)tag);
		return;
	}
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	s->fd = fd;
	s->mtu = mtu;
	s->watch = watch_socket(fd, s);
	sub_done(d);
}

/*
 * AcquireNotify where the characteristic offers it (it notifies and has a
 * NotifyAcquired property): one socket, no D-Bus message per value. Else
 * (indications, as 0x2A9D and 0x2A9C use, on BlueZ before 5.80) StartNotify
 * and Value changes.
 */
static void subscribe(struct ble_dev *d, unsigned i)
{
	ble_client *c = d->c;
	struct device_sub *s = &d->link.subs[i];
	GVariant *flags = bluez_prop(c, s->path, BLUEZ_GATT_CHAR, "Flags",
				     G_VARIANT_TYPE_STRING_ARRAY);
	g_autofree const char **strv =
	    flags ? g_variant_get_strv(flags, NULL) : NULL;
	bool notify = strv != NULL && g_strv_contains(strv, "notify");
	bool acquirable =
	    notify && bluez_prop(c, s->path, BLUEZ_GATT_CHAR, "NotifyAcquired",
				 G_VARIANT_TYPE_BOOLEAN) != NULL;

	if (!acquirable) {
		start_notify(d, i);
		return;
	}
	d->link.subs_pending++;
	bluez_call(
	    c, d, s->path, BLUEZ_GATT_CHAR, "AcquireNotify",
	    g_variant_new("(@a{sv})",
			  g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
	    G_VARIANT_TYPE("(hq)"), CALL_TIMEOUT_MS, true, acquire_done, i);
}

static void read_done(ble_client *c, struct ble_dev *d, GVariant *reply,
		      GUnixFDList *fds, const GError *error, intptr_t tag)
{
	gsize n = 0;

	if (error != NULL) {
		/* Optional values: the session goes on without them. */
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_DEBUG,
			  "%s: reading %s failed: %s", d->address,
			  decode_uuid_name((enum decode_uuid)tag),
			  error->message);
		return;
	}
	g_autoptr(GVariant) value = g_variant_get_child_value(reply, 0);
	const guint8 *p = g_variant_get_fixed_array(value, &n, 1);
	deliver(d, (enum decode_uuid)tag, p, n, READING_VIA_READ);
}

/* --- Resolving ---------------------------------------------------------- */

static void resolved(struct ble_dev *d);

static gboolean grace_due(gpointer data)
{
	struct ble_dev *d = data;

	d->link.timer = 0;
	resolved(d);
	return G_SOURCE_REMOVE;
}

/*
 * Services resolved without our characteristics: BlueZ's cached database of
 * the device is stale (the device changed it, or a firmware update). Drop
 * the link and try again later; the second time in a row, remove the device
 * from bluetoothd (unless it is paired: that would lose the bond), which is
 * the one thing that clears the cache. Discovery finds it again.
 */
static void stale(struct ble_dev *d)
{
	ble_client *c = d->c;
	bool paired = bluez_prop_bool(c, d->path, BLUEZ_DEVICE, "Paired");
	g_autoptr(GError) why = g_error_new(
	    BLE_ERROR, BLE_ERROR_STALE_CACHE,
	    "services resolved without %s (a stale GATT cache?)",
	    device_vendor_session(d, NULL)
		? "the characteristic the scale's session listens to"
		: decode_uuid_name(profile_of(d)->notify[0]));
	g_autofree char *path = g_strdup(d->path);

	c->stats.stale_caches++;
	d->link.stale_count++;
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING, "%s: %s",
		  d->address, why->message);
	c->stats.links_lost++;
	session_end(d);
	set_state(d, BLE_LINK_LOST, why);
	backoff(d, d->link.backoff_ms, true, why);
	if (d->link.stale_count >= STALE_REMOVE_AFTER && !paired) {
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "%s: removing it from bluetoothd to clear its GATT "
			  "cache",
			  d->address);
		d->link.stale_count = 0;
		bluez_call(c, d, c->adapter_path, BLUEZ_ADAPTER, "RemoveDevice",
			   g_variant_new("(o)", path), G_VARIANT_TYPE_UNIT,
			   CALL_TIMEOUT_MS, false, ignore_done, 0);
		return;
	}
	if (d->link.stale_count >= STALE_REMOVE_AFTER)
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_WARNING,
			  "%s is paired: to clear its GATT cache, "
			  "bluetoothctl remove %s, then pair it again",
			  d->address, d->address);
	disconnect(d);
}

/* Nothing to subscribe to or read by profile: a QN scale's are its own. */
static const struct profile no_profile = { { 0 }, 0, { 0 }, 0 };

/* One more characteristic to subscribe to, at @path (copied); a
 * @session_uuid one's values go to the scale session. */
static void add_sub(struct ble_dev *d, enum decode_uuid uuid,
		    uint16_t session_uuid, const char *path)
{
	struct device_sub *s;

	if (d->link.n_subs >= DEVICE_MAX_SUBS)
		return;
	s = &d->link.subs[d->link.n_subs++];
	s->uuid = uuid;
	s->session_uuid = session_uuid;
	s->path = g_strdup(path);
	s->fd = -1;
	s->d = d;
}

/* ServicesResolved is true: find ours by UUID, subscribe, read. */
static void resolved(struct ble_dev *d)
{
	ble_client *c = d->c;
	const struct profile *p = profile_of(d);
	enum scale_session_kind kind;

	if (d->link.state != BLE_LINK_RESOLVING || d->link.n_subs > 0)
		return;
	g_clear_handle_id(&d->link.timer, g_source_remove);
	if (device_vendor_session(d, &kind)) {
		size_t n = 0;
		const struct scale_session_chars *v =
		    scale_session_variants(kind, &n);

		/* The first of the services it has; nothing to read. */
		for (size_t k = 0; k < n; k++) {
			uint16_t u = v[k].notify;
			const char *path = bluez_find_char16(c, d->path, u);

			if (path != NULL) {
				add_sub(d, DECODE_UUID_HEART_RATE, u, path);
				break;
			}
		}
		p = &no_profile;
	}
	for (unsigned i = 0; i < p->n_notify; i++) {
		const char *path = bluez_find_char(c, d->path, p->notify[i]);
		if (path != NULL)
			add_sub(d, p->notify[i], 0, path);
	}
	/* A standard scale with the User Data Service: its User Control
	 * Point's indications too, if the owner says whom to consent as. */
	d->link.uds_wanted = false;
	if (d->link.n_subs > 0 && d->kind != BLE_KIND_HEART_RATE &&
	    !device_vendor_session(d, NULL) && c->ops.uds_user != NULL) {
		const char *path =
		    bluez_find_char16(c, d->path, UDS_CONTROL_POINT);

		if (path != NULL &&
		    c->ops.uds_user(c->data, d->address, &d->link.uds)) {
			d->link.uds_wanted = true;
			add_sub(d, DECODE_UUID_WEIGHT, UDS_CONTROL_POINT, path);
		}
	}
	if (d->link.n_subs == 0) {
		/* The objects normally come before ServicesResolved; give
		 * stragglers a moment before calling the cache stale. */
		if (!d->link.grace) {
			d->link.grace = true;
			d->link.timer =
			    g_timeout_add(STALE_GRACE_MS, grace_due, d);
			return;
		}
		stale(d);
		return;
	}
	d->link.grace = false;
	for (unsigned i = 0; i < d->link.n_subs; i++)
		subscribe(d, i);
	for (unsigned i = 0; i < p->n_read; i++) {
		const char *path = bluez_find_char(c, d->path, p->read[i]);
		if (path != NULL)
			bluez_call(
			    c, d, path, BLUEZ_GATT_CHAR, "ReadValue",
			    g_variant_new("(@a{sv})",
					  g_variant_new_array(
					      G_VARIANT_TYPE("{sv}"), NULL, 0)),
			    G_VARIANT_TYPE("(ay)"), CALL_TIMEOUT_MS, false,
			    read_done, p->read[i]);
	}
}

static gboolean resolve_timeout(gpointer data)
{
	struct ble_dev *d = data;
	g_autoptr(GError) why = g_error_new(BLE_ERROR, BLE_ERROR_CONNECT_FAILED,
					    "services not resolved within %d s",
					    RESOLVE_TIMEOUT_MS / 1000);

	d->link.timer = 0;
	session_failed(d, why);
	return G_SOURCE_REMOVE;
}

/* Connected (by our Connect, or already): wait for ServicesResolved. */
static void now_connected(struct ble_dev *d)
{
	set_state(d, BLE_LINK_RESOLVING, NULL);
	if (bluez_prop_bool(d->c, d->path, BLUEZ_DEVICE, "ServicesResolved")) {
		resolved(d);
		return;
	}
	d->link.timer = g_timeout_add(RESOLVE_TIMEOUT_MS, resolve_timeout, d);
}

/* --- Connecting --------------------------------------------------------- */

/* Connect() went unanswered: out of range, or asleep (a strap taken off). */
static bool not_answering(const GError *error, const char *name)
{
	return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
	       (g_strcmp0(name, "org.bluez.Error.Failed") == 0 &&
		(strstr(error->message, "le-connection-abort-by-local") ||
		 strstr(error->message, "Page Timeout")));
}

/*
 * Retrying Connect() on a schedule for a device that is not there keeps the
 * controller creating a connection (scanning for the advertisers suffers)
 * and notices the device's return only at the next attempt, up to a minute
 * later. An unpaired device is removed from bluetoothd instead: discovery
 * reports its next advertisement as a new object, and we connect at once.
 * A paired one keeps its bond and backs off.
 */
static bool forget_until_seen(struct ble_dev *d, const GError *error)
{
	ble_client *c = d->c;
	g_autofree char *path = NULL;

	if (d->path == NULL ||
	    bluez_prop_bool(c, d->path, BLUEZ_DEVICE, "Paired"))
		return false;
	path = g_strdup(d->path);
	owner_log(c->ops.log, c->data, G_LOG_LEVEL_INFO,
		  "%s does not answer (%s): waiting for it to advertise again",
		  d->address, error->message);
	/* Our own timeout: bluetoothd may still be trying. */
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		disconnect(d);
	session_end(d);
	set_state(d, BLE_LINK_ABSENT, NULL);
	bluez_call(c, d, c->adapter_path, BLUEZ_ADAPTER, "RemoveDevice",
		   g_variant_new("(o)", path), G_VARIANT_TYPE_UNIT,
		   CALL_TIMEOUT_MS, false, ignore_done, 0);
	bluez_update_discovery(c);
	return true;
}

static void connect_done(ble_client *c, struct ble_dev *d, GVariant *reply,
			 GUnixFDList *fds, const GError *error, intptr_t tag)
{
	g_autofree char *name = bluez_dbus_error_name(error);

	if (error != NULL &&
	    g_strcmp0(name, "org.bluez.Error.AlreadyConnected") != 0) {
		g_autoptr(GError) why =
		    bluez_error_from_dbus(error, BLE_ERROR_CONNECT_FAILED);
		if (g_strcmp0(name, "org.bluez.Error.NotReady") == 0 &&
		    !bluez_adapter_ready(c)) {
			/* The adapter is off: Powered=true brings us back. */
			session_end(d);
			set_state(d, BLE_LINK_WAITING, why);
			return;
		}
		/* Another Connect is under way (ours from before, or another
		 * program's): try again soon, without escalating. BlueZ
		 * before 5.81 says Failed "Operation already in progress". */
		if (g_strcmp0(name, "org.bluez.Error.InProgress") == 0 ||
		    g_strcmp0(name, "org.bluez.Error.NotReady") == 0 ||
		    strstr(error->message, "already in progress") != NULL) {
			backoff(d, IN_PROGRESS_RETRY_MS, false, why);
			return;
		}
		if (not_answering(error, name) && forget_until_seen(d, error))
			return;
		backoff(d, d->link.backoff_ms, true, why);
		/* Our own timeout: bluetoothd may still be trying. */
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			disconnect(d);
		return;
	}
	now_connected(d);
}

static void connect_now(struct ble_dev *d)
{
	ble_client *c = d->c;

	session_end(d);
	set_state(d, BLE_LINK_CONNECTING, NULL);
	c->stats.connect_calls++;
	bluez_call(c, d, d->path, BLUEZ_DEVICE, "Connect", NULL,
		   G_VARIANT_TYPE_UNIT, CALL_TIMEOUT_MS, false, connect_done,
		   0);
}

/* --- Events from bluez.c ------------------------------------------------ */

void device_appeared(struct ble_dev *d, const char *path)
{
	ble_client *c = d->c;

	if (g_strcmp0(d->path, path) != 0) {
		g_free(d->path);
		d->path = g_strdup(path);
	}
	if (!device_is_connectable(d))
		return;
	switch (d->link.state) {
	case BLE_LINK_ABSENT:
	case BLE_LINK_WAITING:
	case BLE_LINK_SEEN:
	case BLE_LINK_LOST:
		if (!bluez_adapter_ready(c)) {
			g_autoptr(GError) why = g_error_new_literal(
			    BLE_ERROR, BLE_ERROR_ADAPTER_OFF,
			    "the adapter is powered off");
			set_state(d, BLE_LINK_WAITING, why);
			break;
		}
		set_state(d, BLE_LINK_SEEN, NULL);
		connect_now(d);
		break;
	case BLE_LINK_CONNECTING:
	case BLE_LINK_RESOLVING:
	case BLE_LINK_SUBSCRIBED:
	case BLE_LINK_BACKOFF:
		/* The timer or the call in flight goes on. */
		break;
	default:
		break;
	}
	bluez_update_discovery(c);
}

void device_vanished(struct ble_dev *d)
{
	g_clear_pointer(&d->path, g_free);
	if (!device_is_connectable(d))
		return;
	if (link_up(d)) {
		d->c->stats.links_lost++;
		g_autoptr(GError) why =
		    g_error_new_literal(BLE_ERROR, BLE_ERROR_LINK_LOST,
					"bluetoothd removed the device");
		session_end(d);
		set_state(d, BLE_LINK_LOST, why);
	}
	/* A backoff timer still runs and then finds no object. */
	if (d->link.state != BLE_LINK_BACKOFF) {
		session_end(d);
		set_state(d, BLE_LINK_ABSENT, NULL);
	}
	bluez_update_discovery(d->c);
}

void device_props_changed(struct ble_dev *d, GVariant *changed,
			  const char *const *invalidated)
{
	ble_client *c = d->c;
	gboolean connected = TRUE;
	gboolean resolved_now = FALSE;
	bool has_connected =
	    g_variant_lookup(changed, "Connected", "b", &connected);
	bool has_resolved =
	    g_variant_lookup(changed, "ServicesResolved", "b", &resolved_now);
	bool down =
	    (has_connected && !connected) || (has_resolved && !resolved_now);

	if (!device_is_connectable(d))
		return;
	switch (d->link.state) {
	case BLE_LINK_RESOLVING:
	case BLE_LINK_SUBSCRIBED:
		if (down) {
			lost_literal(d, has_connected && !connected
					    ? "disconnected"
					    : "services no longer resolved");
			return;
		}
		if (has_resolved && resolved_now)
			resolved(d);
		break;
	case BLE_LINK_CONNECTING:
		/* The Connect reply decides; the cache remembers. */
		break;
	case BLE_LINK_ABSENT:
	case BLE_LINK_SEEN:
	case BLE_LINK_LOST:
	case BLE_LINK_BACKOFF:
	case BLE_LINK_WAITING:
		/* Connected by someone else (or bluetoothd's auto-connect):
		 * take it as it is. */
		if (has_resolved && resolved_now && d->path != NULL &&
		    bluez_adapter_ready(c) &&
		    bluez_prop_bool(c, d->path, BLUEZ_DEVICE, "Connected")) {
			session_end(d);
			now_connected(d);
		}
		break;
	default:
		break;
	}
}

void device_object_removed(struct ble_dev *d, const char *path)
{
	if (d->link.state != BLE_LINK_RESOLVING &&
	    d->link.state != BLE_LINK_SUBSCRIBED)
		return;
	for (unsigned i = 0; i < d->link.n_subs; i++) {
		if (strcmp(d->link.subs[i].path, path) == 0) {
			/* Gone under a live link (the database changed):
			 * start over; Connect on a connected device just
			 * answers, and the new paths are looked up. */
			lost_literal(d, "characteristic removed");
			return;
		}
	}
}

void device_disconnected(struct ble_dev *d, const char *reason,
			 const char *message)
{
	if (!device_is_connectable(d) || (d->link.state != BLE_LINK_RESOLVING &&
					  d->link.state != BLE_LINK_SUBSCRIBED))
		return;
	g_autoptr(GError) why =
	    g_error_new(BLE_ERROR, BLE_ERROR_LINK_LOST, "disconnected: %s (%s)",
			message, reason);
	lost(d, why);
}

void device_bluez_gone(struct ble_dev *d, const char *why)
{
	bool was_up = link_up(d);

	session_end(d);
	g_clear_pointer(&d->path, g_free);
	d->link.backoff_ms = BACKOFF_MIN_MS;
	d->link.stale_count = 0;
	if (!device_is_connectable(d))
		return;
	g_autoptr(GError) e =
	    g_error_new_literal(BLE_ERROR, BLE_ERROR_NO_BLUETOOTHD, why);
	if (was_up) {
		d->c->stats.links_lost++;
		set_state(d, BLE_LINK_LOST, e);
	}
	set_state(d, BLE_LINK_WAITING, e);
}

void device_powered(struct ble_dev *d, bool on)
{
	if (!device_is_connectable(d) || !on)
		return;
	/* Back on: no reason to wait out a backoff. */
	if (d->link.state == BLE_LINK_WAITING ||
	    d->link.state == BLE_LINK_BACKOFF) {
		if (d->path != NULL) {
			set_state(d, BLE_LINK_SEEN, NULL);
			connect_now(d);
		} else {
			session_end(d);
			set_state(d, BLE_LINK_ABSENT, NULL);
		}
	}
}
