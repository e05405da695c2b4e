// SPDX-License-Identifier: MIT
/*
 * Advertisers: Mi scales and BTHome sensors speak only through the service
 * data of their advertisements (Device1.ServiceData, a{sv}: 128-bit UUID
 * string -> ay). Each report is decoded; an allowlisted advertiser's new
 * measurement becomes a reading once, however often the device repeats it;
 * anything else heard is counted and, while scanning, listed.
 *
 * What counts as a repeat:
 * - Mi scale: a stabilised measurement (load still on) with the same weight,
 *   unit, timestamp and flags as the last one passed on, within 2 minutes of
 *   its last repeat. A scale repeats each measurement for seconds, and the
 *   v2 sends it first without, then with impedance: two readings, the
 *   second one complete. Frames that are not measurements (settling, load
 *   removed) are never readings.
 * - BTHome: the packet id (object 0x00) when the frame has one, as
 *   bthome.io says receivers should (the same id as the last one is the same
 *   packet); without one, identical bytes within 2 s of their last repeat.
 */
#define G_LOG_DOMAIN "recoveryd-ble"

#include "sensors/ble-private.h"

#include "gateway/common/owner-log.h"

#include <string.h>

#define MISCALE_REPEAT_MS (2 * 60 * 1000)
#define BTHOME_REPEAT_MS  2000
#define BTHOME_PACKET_ID  0x00

static bool is_service_data_uuid(enum decode_uuid u)
{
	switch (u) {
	case DECODE_UUID_MISCALE_V1:
	case DECODE_UUID_MISCALE_V2:
	case DECODE_UUID_BTHOME:
		return true;
	case DECODE_UUID_HEART_RATE:
	case DECODE_UUID_SENSOR_LOCATION:
	case DECODE_UUID_BATTERY_LEVEL:
	case DECODE_UUID_WEIGHT:
	case DECODE_UUID_WEIGHT_FEATURE:
	case DECODE_UUID_BODY_COMPOSITION:
		return false;
	default:
		return false;
	}
}

/* Within @window_ms of @last_ms (a clock that went back is outside). */
static bool within(int64_t now, int64_t last_ms, int64_t window_ms)
{
	return now >= last_ms && now - last_ms < window_ms;
}

static bool same_time(const struct ble_date_time *a,
		      const struct ble_date_time *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day &&
	       a->hours == b->hours && a->minutes == b->minutes &&
	       a->seconds == b->seconds;
}

static bool same_miscale(const struct miscale_reading *a,
			 const struct miscale_reading *b)
{
	return a->weight.unit == b->weight.unit &&
	       a->weight.raw == b->weight.raw &&
	       same_time(&a->timestamp, &b->timestamp) &&
	       a->stabilised == b->stabilised &&
	       a->load_removed == b->load_removed &&
	       a->has_impedance == b->has_impedance &&
	       a->impedance_ohm == b->impedance_ohm;
}

/* TRUE if this Mi scale frame is a new measurement (and remembers it). */
static bool miscale_is_new(ble_client *c, struct ble_dev *d,
			   enum decode_uuid uuid,
			   const struct miscale_reading *m)
{
	int64_t now = bluez_window_ms(c);

	if (!miscale_is_measurement(m))
		return false;
	if (d->adv.mi_have && d->adv.mi_uuid == uuid &&
	    same_miscale(&d->adv.mi_last, m) &&
	    within(now, d->adv.mi_last_ms, MISCALE_REPEAT_MS)) {
		d->adv.mi_last_ms = now;
		c->stats.duplicates++;
		return false;
	}
	d->adv.mi_have = true;
	d->adv.mi_uuid = uuid;
	d->adv.mi_last = *m;
	d->adv.mi_last_ms = now;
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
		if (d->adv.bt_have_pid && d->adv.bt_pid == pid) {
			c->stats.duplicates++;
			return false;
		}
		d->adv.bt_have_pid = true;
		d->adv.bt_pid = pid;
		d->adv.bt_have_bytes = false;
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
static bool uuid16(const char *s, uint16_t *ret)
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

/*
 * The kind a device's advertised service UUIDs suggest; FALSE if none:
 * Heart Rate 0x180D; Weight Scale 0x181D or Body Composition 0x181B (as
 * advertised services, not service data keys, which are the Mi scales').
 */
static bool kind_from_uuids(GVariant *uuids, enum ble_device_kind *ret)
{
	GVariantIter it;
	const char *s;
	bool scale = false;

	if (uuids == NULL)
		return false;
	g_variant_iter_init(&it, uuids);
	while (g_variant_iter_next(&it, "&s", &s)) {
		uint16_t u;
		if (!uuid16(s, &u))
			continue;
		if (u == 0x180D) {
			*ret = BLE_KIND_HEART_RATE;
			return true;
		}
		scale = scale || u == 0x181D || u == 0x181B;
	}
	if (scale)
		*ret = BLE_KIND_SCALE;
	return scale;
}

void advertiser_update(ble_client *c, const char *path, bool added,
		       bool new_data)
{
	GVariant *addr_v =
	    bluez_prop(c, path, BLUEZ_DEVICE, "Address", G_VARIANT_TYPE_STRING);
	const char *address =
	    addr_v ? g_variant_get_string(addr_v, NULL) : NULL;
	struct ble_dev *d = address ? bluez_find_dev(c, address) : NULL;
	bool advertiser = d != NULL && !device_is_connectable(d);
	bool listing = c->scanning && c->ops.heard != NULL;
	struct ble_heard h = { 0 };
	bool kind_known = false;
	/* Large (BTHome holds 128 objects): one per update, on the heap. */
	g_autofree struct reading *r = NULL;

	if (address == NULL)
		return;
	if (d == NULL && added)
		c->stats.foreign_heard++;
	/* A foreign device outside a scan costs nothing more. */
	if (!(advertiser && new_data) && !listing)
		return;

	GVariant *sd = bluez_prop(c, path, BLUEZ_DEVICE, "ServiceData",
				  G_VARIANT_TYPE("a{sv}"));
	if (sd != NULL) {
		GVariantIter it;
		const char *key;
		GVariant *value;

		r = g_new0(struct reading, 1);
		g_variant_iter_init(&it, sd);
		while (g_variant_iter_next(&it, "{&sv}", &key, &value)) {
			g_autoptr(GVariant) owned = value;
			struct parse_error err = { 0 };
			enum decode_uuid u;
			gsize n = 0;

			if (!g_variant_is_of_type(owned,
						  G_VARIANT_TYPE_BYTESTRING) ||
			    decode_uuid_parse(key, &u) != 0 ||
			    !is_service_data_uuid(u))
				continue;
			const guint8 *p =
			    g_variant_get_fixed_array(owned, &n, 1);
			int rc = decode_payload(u, p, n, &r->payload, &err);
			if (rc < 0) {
				if (advertiser && new_data)
					bluez_malformed(c, d, u, rc, &err);
				continue;
			}
			kind_known = true;
			h.kind = u == DECODE_UUID_BTHOME ? BLE_KIND_BTHOME
							 : BLE_KIND_MISCALE;
			h.payload = &r->payload;
			if (!advertiser || !new_data)
				continue;
			bool fresh = u == DECODE_UUID_BTHOME
					 ? bthome_is_new(
					       c, d, &r->payload.u.bthome, p, n)
					 : miscale_is_new(
					       c, d, u, &r->payload.u.miscale);
			/* @owned stays alive in the cache: BTHome views are
			 * valid through the callback. */
			if (fresh)
				bluez_emit_reading(c, r, d->address,
						   READING_VIA_ADVERTISEMENT);
		}
	}
	if (!listing)
		return;
	if (!kind_known)
		kind_known =
		    kind_from_uuids(bluez_prop(c, path, BLUEZ_DEVICE, "UUIDs",
					       G_VARIANT_TYPE_STRING_ARRAY),
				    &h.kind);
	if (!kind_known)
		return;
	GVariant *name =
	    bluez_prop(c, path, BLUEZ_DEVICE, "Name", G_VARIANT_TYPE_STRING);
	GVariant *rssi =
	    bluez_prop(c, path, BLUEZ_DEVICE, "RSSI", G_VARIANT_TYPE_INT16);
	h.address = address;
	h.name = name ? g_variant_get_string(name, NULL) : NULL;
	/* 127 is HCI's "RSSI not available" (virtual controllers send it),
	 * not a signal stronger than any real one. */
	h.has_rssi = rssi && g_variant_get_int16(rssi) != 127;
	h.rssi = h.has_rssi ? g_variant_get_int16(rssi) : 0;
	h.allowlisted = d != NULL;
	c->ops.heard(c->data, &h);
}
