// SPDX-License-Identifier: MIT
#include "gateway/core/decode-json.h"

#include "gateway/common/json-text.h"

static void add_double(JsonBuilder *b, const char *key, double value,
		       int decimals)
{
	json_builder_set_member_name(b, key);
	json_builder_add_double_value(b, json_text_round(value, decimals));
}

static void add_string(JsonBuilder *b, const char *key, const char *value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_string_value(b, value);
}

static void add_timestamp(JsonBuilder *b, const struct ble_date_time *t)
{
	char text[32];

	/* A clock that was never set sends zeros or garbage: leave it out
	 * rather than print a date that is not one. */
	if (!ble_date_time_is_known(t))
		return;
	g_snprintf(text, sizeof(text), "%04u-%02u-%02uT%02u:%02u:%02u", t->year,
		   t->month, t->day, t->hours, t->minutes, t->seconds);
	add_string(b, "timestamp", text);
}

static void add_user(JsonBuilder *b, uint8_t user_id)
{
	if (user_id != WSS_USER_UNKNOWN)
		json_text_member_int(b, "user_id", user_id);
}

/* weight_kg in SI, and weight + unit as the scale sent them. */
static void add_weight(JsonBuilder *b, struct mass m)
{
	add_double(b, "weight_kg", mass_kg(m), 3);
	add_double(b, "weight", mass_value(m), m.unit == MASS_UNIT_KG ? 3 : 2);
	add_string(b, "unit", mass_unit_name(m.unit));
}

static void add_mass_kg(JsonBuilder *b, const char *key, struct mass m)
{
	add_double(b, key, mass_kg(m), 3);
}

static void add_heart_rate(JsonBuilder *b, const struct hrs_measurement *m)
{
	json_text_member_int(b, "heart_rate", m->heart_rate_bpm);
	add_string(b, "contact", hrs_contact_name(m->contact));
	if (m->has_energy)
		json_text_member_int(b, "energy_expended_kj",
				     m->energy_expended_kj);
	if (m->rr_count == 0)
		return;
	json_builder_set_member_name(b, "rr_ms");
	json_builder_begin_array(b);
	/* raw * 1000 / 1024 is exact in binary: no rounding needed. */
	for (unsigned i = 0; i < m->rr_count; i++)
		json_builder_add_double_value(b, hrs_rr_ms(m->rr_raw[i]));
	json_builder_end_array(b);
}

static void add_wss(JsonBuilder *b, const struct wss_measurement *m)
{
	if (m->weight_unsuccessful)
		json_text_member_bool(b, "measurement_unsuccessful", TRUE);
	else
		add_weight(b, m->weight);
	if (m->has_timestamp)
		add_timestamp(b, &m->timestamp);
	if (m->has_user)
		add_user(b, m->user_id);
	if (m->has_bmi_height) {
		add_double(b, "bmi", m->bmi_raw * 0.1, 1);
		add_double(b, "height_m", wss_height_m(m), 5);
	}
}

static void add_wss_feature(JsonBuilder *b, const struct wss_feature *f)
{
	json_text_member_bool(b, "timestamp_supported", f->timestamp_supported);
	json_text_member_bool(b, "multiple_users_supported",
			      f->multiple_users_supported);
	json_text_member_bool(b, "bmi_supported", f->bmi_supported);
	if (f->weight_resolution) {
		add_double(b, "weight_resolution_kg",
			   wss_weight_resolution_kg(f->weight_resolution), 3);
		add_double(b, "weight_resolution_lb",
			   wss_weight_resolution_lb(f->weight_resolution), 2);
	}
	if (f->height_resolution) {
		add_double(b, "height_resolution_m",
			   wss_height_resolution_m(f->height_resolution), 3);
		add_double(b, "height_resolution_in",
			   wss_height_resolution_in(f->height_resolution), 1);
	}
}

static void add_bcs(JsonBuilder *b, const struct bcs_measurement *m)
{
	uint16_t f = m->flags;

	if (m->body_fat_unsuccessful)
		json_text_member_bool(b, "measurement_unsuccessful", TRUE);
	else
		add_double(b, "body_fat_pct", m->body_fat_raw * 0.1, 1);
	if (f & BCS_FLAG_TIMESTAMP)
		add_timestamp(b, &m->timestamp);
	if (f & BCS_FLAG_USER_ID)
		add_user(b, m->user_id);
	if (f & BCS_FLAG_BASAL_METABOLISM)
		json_text_member_int(b, "basal_metabolism_kj",
				     m->basal_metabolism_kj);
	if (f & BCS_FLAG_MUSCLE_PCT)
		add_double(b, "muscle_pct", m->muscle_pct_raw * 0.1, 1);
	if (f & BCS_FLAG_MUSCLE_MASS)
		add_mass_kg(b, "muscle_mass_kg", m->muscle_mass);
	if (f & BCS_FLAG_FAT_FREE_MASS)
		add_mass_kg(b, "fat_free_mass_kg", m->fat_free_mass);
	if (f & BCS_FLAG_SOFT_LEAN_MASS)
		add_mass_kg(b, "soft_lean_mass_kg", m->soft_lean_mass);
	if (f & BCS_FLAG_BODY_WATER_MASS)
		add_mass_kg(b, "body_water_mass_kg", m->body_water_mass);
	if (f & BCS_FLAG_IMPEDANCE)
		add_double(b, "impedance_ohm", m->impedance_raw * 0.1, 1);
	if (f & BCS_FLAG_WEIGHT)
		add_weight(b, m->weight);
	if (f & BCS_FLAG_HEIGHT)
		add_double(b, "height_m", bcs_height_m(m), 5);
	if (f & BCS_FLAG_MULTIPLE_PACKET)
		json_text_member_bool(b, "multi_packet", TRUE);
}

static void add_miscale(JsonBuilder *b, const struct miscale_reading *r)
{
	add_weight(b, r->weight);
	add_timestamp(b, &r->timestamp);
	if (r->has_impedance)
		json_text_member_int(b, "impedance_ohm", r->impedance_ohm);
	json_text_member_bool(b, "stabilised", r->stabilised);
	json_text_member_bool(b, "load_removed", r->load_removed);
}

static int factor_decimals(double factor)
{
	int decimals = 0;

	while (decimals < 6 && factor < 0.999999) {
		factor *= 10.0;
		decimals++;
	}
	return decimals;
}

static void add_bthome_object(JsonBuilder *b, const struct bthome_object *o)
{
	const struct bthome_object_type *t = o->type;

	json_builder_begin_object(b);
	add_string(b, "name", t->name);
	json_builder_set_member_name(b, "value");
	switch (t->kind) {
	case BTHOME_KIND_NUMBER:
		json_builder_add_double_value(
		    b, json_text_round(bthome_object_value(o),
				       factor_decimals(t->factor)));
		break;
	case BTHOME_KIND_BINARY:
		json_builder_add_boolean_value(b, o->raw != 0);
		break;
	case BTHOME_KIND_EVENT:
		json_builder_add_string_value(b, bthome_event_name(o));
		break;
	case BTHOME_KIND_TEXT: {
		/* Sensors are not bound to send valid UTF-8; JSON is. */
		g_autofree char *text = g_utf8_make_valid(
		    (const char *)o->bytes, (gssize)o->bytes_len);

		json_builder_add_string_value(b, text);
		break;
	}
	case BTHOME_KIND_RAW: {
		g_autoptr(GString) hex = g_string_new(NULL);

		for (unsigned i = 0; i < o->bytes_len; i++)
			g_string_append_printf(hex, "%02x", o->bytes[i]);
		json_builder_add_string_value(b, hex->str);
		break;
	}
	default:
		json_builder_add_null_value(b);
		break;
	}
	if (t->unit)
		add_string(b, "unit", t->unit);
	json_builder_end_object(b);
}

static void add_bthome(JsonBuilder *b, const struct bthome_frame *f)
{
	if (f->trigger_based)
		json_text_member_bool(b, "trigger_based", TRUE);
	json_builder_set_member_name(b, "objects");
	json_builder_begin_array(b);
	for (unsigned i = 0; i < f->object_count; i++)
		add_bthome_object(b, &f->objects[i]);
	json_builder_end_array(b);
	if (f->stopped) {
		char reason[160];

		parse_error_format(&f->stop, reason, sizeof(reason));
		add_string(b, "stopped", reason);
	}
}

/* A vendor scale's weighing: kilograms whatever the display showed. Its
 * "family" is the caller's to put first. */
static void add_scale(JsonBuilder *b, const struct scale_weighing *w)
{
	add_double(b, "weight_kg", w->weight_kg, 3);
	json_text_member_bool(b, "final", w->final);
	if (w->has_impedance)
		add_double(b, "impedance_ohm", w->impedance_ohm, 1);
	if (w->has_heart_rate)
		json_text_member_int(b, "heart_rate", w->heart_rate_bpm);
	if (w->has_user)
		json_text_member_int(b, "user_id", w->user_index);
}

void decode_json_add_members(JsonBuilder *b, const struct decoded_payload *p)
{
	switch (p->uuid) {
	case DECODE_UUID_HEART_RATE:
		add_heart_rate(b, &p->u.heart_rate);
		break;
	case DECODE_UUID_SENSOR_LOCATION:
		add_string(b, "location",
			   hrs_location_name(p->u.sensor_location));
		break;
	case DECODE_UUID_BATTERY_LEVEL:
		json_text_member_int(b, "battery_pct", p->u.battery_pct);
		break;
	case DECODE_UUID_WEIGHT:
		add_wss(b, &p->u.weight);
		break;
	case DECODE_UUID_WEIGHT_FEATURE:
		add_wss_feature(b, &p->u.weight_feature);
		break;
	case DECODE_UUID_BODY_COMPOSITION:
		add_bcs(b, &p->u.body_composition);
		break;
	case DECODE_UUID_MISCALE_V1:
	case DECODE_UUID_MISCALE_V2:
		add_miscale(b, &p->u.miscale);
		break;
	case DECODE_UUID_BTHOME:
		add_bthome(b, &p->u.bthome);
		break;
	case DECODE_SCALE_WEIGHING:
		add_string(b, "family", scale_family_name(p->u.scale.family));
		add_scale(b, &p->u.scale);
		break;
	default:
		break;
	}
}

void decode_json_add_advert(JsonBuilder *b, const struct advert *a,
			    const struct advert_decoded *d)
{
	char address[18];

	add_string(b, "family", advert_decoded_family_name(d));
	advert_address_text(a, address);
	if (address[0])
		add_string(b, "address", address);
	if (a->has_rssi)
		json_text_member_int(b, "rssi_dbm", a->rssi_dbm);
	if (a->name) {
		/* Devices are not bound to send UTF-8; JSON is. */
		g_autofree char *name =
		    g_utf8_make_valid(a->name, (gssize)a->name_len);

		add_string(b, "name", name);
	}
	if (d->payload.uuid == DECODE_SCALE_WEIGHING)
		add_scale(b, &d->payload.u.scale);
	else
		decode_json_add_members(b, &d->payload);
}
