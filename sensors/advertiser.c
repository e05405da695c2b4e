// SPDX-License-Identifier: MIT
/*
 * Advertisers, as bluetoothd reports them: a Device1 object's ServiceData
 * (a{sv}: 128-bit UUID string -> ay), ManufacturerData (a{qv}: company id
 * -> ay), UUIDs, Name and RSSI become one struct advert, the same value an
 * antenna's relay or `recoveryctl decode --adv` makes, and go through the
 * one dispatcher (advert-decode.h). An allowlisted advertiser's new value
 * becomes a reading once, however often the device repeats it; anything
 * else heard is counted and, while scanning, listed.
 *
 * What counts as a repeat:
 * - A weighing, from any scale family: a final one with the same family,
 *   weight, impedance and repeat key (reading.h: a Mi scale's clock) as the
 *   last one passed on, within 2 minutes of its last repeat. A scale repeats
 *   each weighing for seconds, and some send it first without, then with
 *   impedance: two readings, the second one complete. A live weight while
 *   the scale settles is passed on when it changes (the live values show
 *   it; ingest files only final ones). A Mi scale's frames that are not
 *   measurements (settling, load removed) are never readings.
 * - BTHome: the packet id (object 0x00) when the frame has one, as
 *   bthome.io says receivers should (the same id as the last one is the same
 *   packet, and so is one of the last few passed on within 10 s: antennas
 *   relay a packet late, after the next one); without one, identical bytes
 *   within 2 s of their last repeat.
 *
 * A Eufy C20 sends one weighing's weight, impedance and heart rate in
 * separate advertisements: the dispatcher merges them in the device's
 * state, and when the rest has not come C20_QUIET_MS after the final
 * weight (the person stepped off), the final weight is passed on alone.
 *
 * A scale given as BLE_KIND_SCALE_AUTO is recognised here by what it
 * advertises: a family of the dispatcher makes it an advertiser for good;
 * the Weight Scale or Body Composition service with no such family makes it
 * a standard scale, which device.c then connects. Until either, nothing is
 * connected.
 */
#define G_LOG_DOMAIN "recoveryd-ble"

#include "sensors/ble-private.h"

#include "gateway/common/owner-log.h"
#include "sensors/scale-qn.h"

#include <math.h>
#include <string.h>

#define WEIGHING_REPEAT_MS (2 * 60 * 1000)
#define BTHOME_REPEAT_MS   2000
/* A packet id seen again this soon after it was passed on is a repeat. */
#define BTHOME_LATE_MS	 10000
#define BTHOME_PACKET_ID 0x00
/* A C20 measures impedance and heart rate after the weight, with the
 * person still on it: this long after the final weight, what came is the
 * weighing. */
#define C20_QUIET_MS 20000
/* An auto scale still unrecognised after this many reports is worth a
 * line in the log (once): the first few may lack its scan response. */
#define UNRECOGNISED_SAY_AFTER 20
/* Live weights closer than this are the same to a display. */
#define LIVE_STEP_KG 0.01

#define UUID_WEIGHT_SCALE     0x181D
#define UUID_BODY_COMPOSITION 0x181B
#define UUID_HEART_RATE	      0x180D

/* Within @window_ms of @last_ms (a clock that went back is outside). */
static bool within(int64_t now, int64_t last_ms, int64_t window_ms)
{
	return now >= last_ms && now - last_ms < window_ms;
}

static bool same_value(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static bool same_weighing(const struct reading_weighing *a,
			  const struct reading_weighing *b)
{
	return a->weight_kg == b->weight_kg && a->repeat_key == b->repeat_key &&
	       a->scale_user == b->scale_user &&
	       same_value(a->impedance_ohm, b->impedance_ohm) &&
	       same_value(a->body_fat_pct, b->body_fat_pct);
}

/*
 * TRUE if this weighing is worth passing on (and remembers it): a final
 * one not passed on lately, or a live weight that changed.
 */
static bool weighing_is_new(ble_client *c, struct ble_dev *d,
			    enum advert_family family,
			    const struct decoded_payload *p)
{
	struct advertiser_state *s = &d->adv;
	int64_t now = bluez_window_ms(c);
	struct reading_weighing w;

	if (!reading_weighing(p, &w))
		return false;
	if (!w.final) {
		if (s->have_live &&
		    fabs(w.weight_kg - s->live_kg) < LIVE_STEP_KG) {
			c->stats.duplicates++;
			return false;
		}
		s->have_live = true;
		s->live_kg = w.weight_kg;
		return true;
	}
	s->have_live = false;
	if (s->have_final && s->final_family == family &&
	    same_weighing(&s->final, &w) &&
	    within(now, s->final_ms, WEIGHING_REPEAT_MS)) {
		s->final_ms = now;
		c->stats.duplicates++;
		return false;
	}
	s->have_final = true;
	s->final_family = family;
	s->final = w;
	s->final_ms = now;
	return true;
}

/* TRUE if this BTHome frame is new (and remembers it). */
static bool bthome_is_new(ble_client *c, struct ble_dev *d,
			  const struct bthome_frame *f, const uint8_t *data,
			  size_t len)
{
	int64_t now = bluez_window_ms(c);

	for (uint16_t i = 0; i < f->object_count; i++) {
		const struct bthome_object *o = &f->objects[i];
		if (o->type->id != BTHOME_PACKET_ID)
			continue;
		uint8_t pid = (uint8_t)o->raw;
		struct advertiser_state *s = &d->adv;

		if (s->bt_have_pid && s->bt_pid == pid) {
			c->stats.duplicates++;
			return false;
		}
		/* Heard through several antennas, a packet may come again
		 * after the next one: a packet id passed on within
		 * BTHOME_LATE_MS is that packet (ids wrap after 256). */
		for (unsigned k = 0; k < ADVERTISER_RECENT_PIDS; k++) {
			if (s->bt_recent_ms[k] && s->bt_recent_pid[k] == pid &&
			    within(now, s->bt_recent_ms[k], BTHOME_LATE_MS)) {
				c->stats.duplicates++;
				return false;
			}
		}
		s->bt_have_pid = true;
		s->bt_pid = pid;
		s->bt_recent_pid[s->bt_recent_next] = pid;
		s->bt_recent_ms[s->bt_recent_next] = now ? now : 1;
		s->bt_recent_next =
		    (s->bt_recent_next + 1) % ADVERTISER_RECENT_PIDS;
		s->bt_have_bytes = false;
		return true;
	}
	if (d->adv.bt_have_bytes && d->adv.bt_len == len &&
	    memcmp(d->adv.bt_bytes, data, len) == 0 &&
	    within(now, d->adv.bt_last_ms, BTHOME_REPEAT_MS)) {
		d->adv.bt_last_ms = now;
		c->stats.duplicates++;
		return false;
	}
	d->adv.bt_have_bytes = len <= sizeof(d->adv.bt_bytes);
	if (d->adv.bt_have_bytes) {
		memcpy(d->adv.bt_bytes, data, len);
		d->adv.bt_len = len;
	}
	d->adv.bt_last_ms = now;
	return true;
}

/* The 16-bit alias of a Bluetooth base UUID ("0000180d-0000-1000-8000-
 * 00805f9b34fb" -> 0x180D); FALSE for anything else. */
/* The values a struct advert borrows from, alive until it is done with. */
#define HELD_MAX (ADVERT_MAX_SERVICE_DATA + ADVERT_MAX_MANUFACTURER)

struct held {
	GVariant *v[HELD_MAX];
	unsigned n;
};

static void held_clear(struct held *h)
{
	for (unsigned i = 0; i < h->n; i++)
		g_variant_unref(h->v[i]);
	h->n = 0;
}

/* The bytes of @value (a{?v}'s v, owned: kept in @h) if it is "ay". */
static const guint8 *held_bytes(struct held *h, GVariant *value, gsize *len)
{
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BYTESTRING) ||
	    h->n >= HELD_MAX) {
		g_variant_unref(value);
		return NULL;
	}
	h->v[h->n++] = value;
	return g_variant_get_fixed_array(value, len, 1);
}

/*
 * The advertisement as bluetoothd shows it: every property is what the
 * last reports said (with DuplicateData, the last one's manufacturer and
 * service data only; BlueZ 5.66 device_set_manufacturer_data()). Entries
 * beyond what struct advert holds are left out: one device never
 * advertises that many.
 */
static void advert_from_device(ble_client *c, const char *path,
			       struct advert *a, struct held *h)
{
	GVariant *v;
	GVariantIter it;

	advert_init(a);
	v = bluez_prop(c, path, BLUEZ_DEVICE, "Address", G_VARIANT_TYPE_STRING);
	if (v)
		advert_set_address(a, g_variant_get_string(v, NULL));
	v = bluez_prop(c, path, BLUEZ_DEVICE, "RSSI", G_VARIANT_TYPE_INT16);
	/* 127 is HCI's "RSSI not available" (virtual controllers send it),
	 * not a signal stronger than any real one. */
	if (v && g_variant_get_int16(v) != ADVERT_RSSI_UNKNOWN &&
	    g_variant_get_int16(v) >= INT8_MIN &&
	    g_variant_get_int16(v) <= INT8_MAX) {
		a->has_rssi = true;
		a->rssi_dbm = (int8_t)g_variant_get_int16(v);
	}
	v = bluez_prop(c, path, BLUEZ_DEVICE, "Name", G_VARIANT_TYPE_STRING);
	if (v) {
		gsize n = 0;
		const char *name = g_variant_get_string(v, &n);

		advert_set_name(a, name, n);
	}
	v = bluez_prop(c, path, BLUEZ_DEVICE, "UUIDs",
		       G_VARIANT_TYPE_STRING_ARRAY);
	if (v) {
		const char *s;

		g_variant_iter_init(&it, v);
		while (g_variant_iter_next(&it, "&s", &s)) {
			uint16_t u;

			if (bluez_uuid16(s, &u))
				advert_add_uuid(a, u);
		}
	}
	v = bluez_prop(c, path, BLUEZ_DEVICE, "ServiceData",
		       G_VARIANT_TYPE("a{sv}"));
	if (v) {
		const char *key;
		GVariant *value;

		g_variant_iter_init(&it, v);
		while (g_variant_iter_next(&it, "{&sv}", &key, &value)) {
			gsize n = 0;
			const guint8 *p = held_bytes(h, value, &n);
			uint16_t u;

			if (p && bluez_uuid16(key, &u))
				advert_add_service_data(a, u, p, n);
		}
	}
	v = bluez_prop(c, path, BLUEZ_DEVICE, "ManufacturerData",
		       G_VARIANT_TYPE("a{qv}"));
	if (v) {
		guint16 company;
		GVariant *value;

		g_variant_iter_init(&it, v);
		while (g_variant_iter_next(&it, "{qv}", &company, &value)) {
			gsize n = 0;
			const guint8 *p = held_bytes(h, value, &n);

			if (p)
				advert_add_manufacturer(a, company, p, n);
		}
	}
}

/* A scale of any kind: standard when it advertises the services. */
static bool standard_scale(const struct advert *a)
{
	return advert_has_uuid(a, UUID_WEIGHT_SCALE) ||
	       advert_has_uuid(a, UUID_BODY_COMPOSITION);
}

/*
 * A QN/Renpho scale that weighs only over a connection ([openScale]
 * QNHandler's names; the "AABB" broadcast relatives are a family of their
 * own and never get here): its name, or its service 0xFFE0 advertised
 * beside QN's company id 0xFFFF.
 */
static bool has_company(const struct advert *a, uint16_t company_id)
{
	for (unsigned i = 0; i < a->manufacturer_count; i++) {
		if (a->manufacturer[i].company_id == company_id)
			return true;
	}
	return false;
}

static bool qn_gatt_scale(const struct advert *a)
{
	return advert_name_starts(a, "QN-Scale") ||
	       advert_name_starts(a, "Renpho-Scale") ||
	       (advert_has_uuid(a, 0xFFE0) &&
		has_company(a, QN_BROADCAST_COMPANY_ID));
}

/*
 * A vendor scale that weighs over a connection with writes of its own
 * (scale-session.h), by what it advertises: QN as above; Yunmai SE/Mini
 * and relatives by their names ([openScale] YunmaiHandler: YUNMAI-ISSE,
 * -SIGNAL, -ISM, -ISC2P); 1byone classic by its name "Health Scale"
 * ([openScale] OneByoneHandler). The families that weigh in their
 * advertisements (Yunmai X, Eufy C1/P1 on the 1byone protocol) are
 * recognised before this is asked.
 */
static bool vendor_scale(const struct advert *a, enum scale_session_kind *ret)
{
	static const char *const yunmai[] = { "YUNMAI-ISSE", "YUNMAI-SIGNAL",
					      "YUNMAI-ISM", "YUNMAI-ISC2P" };

	if (qn_gatt_scale(a)) {
		*ret = SCALE_SESSION_QN;
		return true;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(yunmai); i++) {
		if (advert_name_starts(a, yunmai[i])) {
			*ret = SCALE_SESSION_YUNMAI;
			return true;
		}
	}
	if (advert_name_starts(a, "Health Scale")) {
		*ret = SCALE_SESSION_ONEBYONE;
		return true;
	}
	return false;
}

/* The family a vendor session's weighings carry, for `scan`. */
static const char *vendor_family_name(enum scale_session_kind kind)
{
	switch (kind) {
	case SCALE_SESSION_QN:
		return scale_family_name(SCALE_FAMILY_QN_GATT);
	case SCALE_SESSION_YUNMAI:
		return scale_family_name(SCALE_FAMILY_YUNMAI_GATT);
	case SCALE_SESSION_ONEBYONE:
		return scale_family_name(SCALE_FAMILY_ONEBYONE);
	case SCALE_SESSION_UDS:
	default:
		return "standard";
	}
}

/*
 * An auto scale's advertisement, until it is recognised: a family makes it
 * an advertiser; the standard services and no family, a scale to connect;
 * a QN GATT scale's name, a scale to connect and talk to.
 */
static void recognise(ble_client *c, struct ble_dev *d, const struct advert *a,
		      enum advert_family family)
{
	enum scale_session_kind kind;

	if (family != ADVERT_FAMILY_NONE) {
		d->adv.role = ADVERTISER_BROADCAST;
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_MESSAGE,
			  "scale %s advertises as %s: listening, never "
			  "connecting",
			  d->address, advert_family_name(family));
		return;
	}
	if (standard_scale(a)) {
		d->adv.role = ADVERTISER_CONNECTING;
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_MESSAGE,
			  "scale %s advertises the Weight Scale or Body "
			  "Composition service: connecting",
			  d->address);
		device_recognised(d);
		return;
	}
	if (vendor_scale(a, &kind)) {
		d->adv.role = ADVERTISER_CONNECTING;
		d->adv.connect_vendor = true;
		d->adv.connect_kind = kind;
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_MESSAGE,
			  "scale %s advertises as a %s scale that weighs over "
			  "a connection: connecting",
			  d->address, vendor_family_name(kind));
		device_recognised(d);
		return;
	}
	if (++d->adv.unrecognised == UNRECOGNISED_SAY_AFTER)
		owner_log(c->ops.log, c->data, G_LOG_LEVEL_MESSAGE,
			  "scale %s%s%.*s%s advertises no family recoveryd "
			  "decodes: not connected (scale-protocol=standard "
			  "connects it anyway)",
			  d->address, a->name ? " (\"" : "",
			  a->name ? (int)MIN(a->name_len, 64) : 0,
			  a->name ? a->name : "", a->name ? "\")" : "");
}

static void emit(ble_client *c, struct ble_dev *d, struct reading *r,
		 const struct advert_decoded *dec)
{
	r->payload = dec->payload;
	bluez_emit_reading(c, r, d->address, READING_VIA_ADVERTISEMENT);
}

static gboolean merge_quiet(gpointer data)
{
	struct ble_dev *d = data;
	g_autofree struct reading *r = g_new0(struct reading, 1);
	g_autofree struct advert_decoded *dec = g_new(struct advert_decoded, 1);

	d->adv.merge_timer = 0;
	if (advert_merge_flush(&d->adv.merge, dec) &&
	    weighing_is_new(d->c, d, dec->family, &dec->payload))
		emit(d->c, d, r, dec);
	return G_SOURCE_REMOVE;
}

/* The decoded value of allowlisted advertiser @d: passed on once. */
static void take(ble_client *c, struct ble_dev *d, const struct advert *a,
		 struct reading *r)
{
	struct parse_error err = { 0 };
	/* Large, as struct reading is. */
	g_autofree struct advert_decoded *dec = g_new(struct advert_decoded, 1);
	int rc = advert_decode(a, &d->adv.merge, dec, &err);
	bool fresh;

	/* Counted from the final weight: a scale that goes on advertising
	 * idle frames must not put the flush off. */
	if (!advert_merge_pending(&d->adv.merge))
		g_clear_handle_id(&d->adv.merge_timer, g_source_remove);
	else if (!d->adv.merge_timer)
		d->adv.merge_timer =
		    g_timeout_add(C20_QUIET_MS, merge_quiet, d);
	if (rc == -ENOENT || rc == -EAGAIN)
		return;
	if (rc < 0) {
		bluez_malformed(c, d, advert_family_name(advert_recognise(a)),
				rc, &err);
		return;
	}
	if (dec->payload.uuid == DECODE_UUID_BTHOME) {
		const struct advert_service_data *sd =
		    advert_find_service_data(a, DECODE_UUID_BTHOME);

		fresh = sd && bthome_is_new(c, d, &dec->payload.u.bthome,
					    sd->data, sd->len);
	} else {
		fresh = weighing_is_new(c, d, dec->family, &dec->payload);
	}
	/* BTHome views point into @a's bytes, alive through the callback. */
	if (fresh)
		emit(c, d, r, dec);
}

/* What `recoveryctl scan` lists of a device: its kind and family. */
static bool heard_kind(const struct advert *a, enum advert_family family,
		       const struct advert_decoded *dec, bool decoded,
		       struct ble_heard *h)
{
	enum scale_session_kind kind;

	if (family == ADVERT_FAMILY_BTHOME) {
		h->kind = BLE_KIND_BTHOME;
		return true;
	}
	if (family != ADVERT_FAMILY_NONE) {
		h->kind = BLE_KIND_MISCALE;
		h->family = decoded ? advert_decoded_family_name(dec)
				    : advert_family_name(family);
		return true;
	}
	if (advert_has_uuid(a, UUID_HEART_RATE)) {
		h->kind = BLE_KIND_HEART_RATE;
		return true;
	}
	if (standard_scale(a)) {
		h->kind = BLE_KIND_SCALE;
		h->family = "standard";
		return true;
	}
	if (vendor_scale(a, &kind)) {
		h->kind = kind == SCALE_SESSION_QN ? BLE_KIND_SCALE_QN
						   : BLE_KIND_SCALE;
		h->family = vendor_family_name(kind);
		return true;
	}
	return false;
}

void advertiser_update(ble_client *c, const char *path, bool added,
		       bool new_data)
{
	GVariant *addr_v =
	    bluez_prop(c, path, BLUEZ_DEVICE, "Address", G_VARIANT_TYPE_STRING);
	const char *address =
	    addr_v ? g_variant_get_string(addr_v, NULL) : NULL;
	struct ble_dev *d = address ? bluez_find_dev(c, address) : NULL;
	bool unknown_auto = d != NULL && d->kind == BLE_KIND_SCALE_AUTO &&
			    d->adv.role == ADVERTISER_UNKNOWN;
	/* An auto scale is listened to once recognised, never before. */
	bool listened = d != NULL && !device_is_connectable(d) && !unknown_auto;
	bool listing = c->scanning && c->ops.heard != NULL;
	struct held held = { 0 };
	/* Large (BTHome holds 128 objects): one per update, on the heap. */
	g_autofree struct reading *r = NULL;
	g_autofree struct advert *a = NULL;
	enum advert_family family;

	if (address == NULL)
		return;
	if (d == NULL && added)
		c->stats.foreign_heard++;
	/* A foreign device outside a scan costs nothing more. */
	if (!(listened && new_data) && !listing && !unknown_auto)
		return;

	a = g_new(struct advert, 1);
	r = g_new0(struct reading, 1);
	advert_from_device(c, path, a, &held);
	family = advert_recognise(a);
	if (unknown_auto) {
		recognise(c, d, a, family);
		/* What recognised it is its first value. */
		listened = d->adv.role == ADVERTISER_BROADCAST;
		new_data = true;
	}
	if (listened && new_data)
		take(c, d, a, r);

	if (listing) {
		struct parse_error err = { 0 };
		g_autofree struct advert_decoded *dec =
		    g_new(struct advert_decoded, 1);
		struct ble_heard h = { 0 };
		GVariant *name = bluez_prop(c, path, BLUEZ_DEVICE, "Name",
					    G_VARIANT_TYPE_STRING);
		/* Decoded on its own: the device's merge is not touched. */
		bool decoded = advert_decode(a, NULL, dec, &err) == 0;

		if (heard_kind(a, family, dec, decoded, &h)) {
			h.address = address;
			h.name = name ? g_variant_get_string(name, NULL) : NULL;
			h.has_rssi = a->has_rssi;
			h.rssi = a->rssi_dbm;
			h.allowlisted = d != NULL;
			h.payload = decoded ? &dec->payload : NULL;
			c->ops.heard(c->data, &h);
		}
	}
	held_clear(&held);
}

enum ble_advert_fate ble_client_take_advert(ble_client *c,
					    const struct advert *a)
{
	char address[18];
	struct ble_dev *d;
	g_autofree struct reading *r = NULL;

	if (!a->has_address)
		return BLE_ADVERT_FOREIGN;
	advert_address_text(a, address);
	d = bluez_find_dev(c, address);
	if (d == NULL)
		return BLE_ADVERT_FOREIGN;
	if (d->kind == BLE_KIND_SCALE_AUTO && d->adv.role == ADVERTISER_UNKNOWN)
		recognise(c, d, a, advert_recognise(a));
	if (device_is_connectable(d) || (d->kind == BLE_KIND_SCALE_AUTO &&
					 d->adv.role == ADVERTISER_UNKNOWN))
		return BLE_ADVERT_NOT_LISTENED;
	/* Large (BTHome holds 128 objects): on the heap. */
	r = g_new0(struct reading, 1);
	take(c, d, a, r);
	return BLE_ADVERT_TAKEN;
}

void advertiser_forget(struct ble_dev *d)
{
	g_clear_handle_id(&d->adv.merge_timer, g_source_remove);
}
