// SPDX-License-Identifier: MIT
#include "sensors/bthome.h"

#include "sensors/cursor.h"

/* Device information byte, bthome.io/format "BTHome Device Information" */
#define BTHOME_INFO_ENCRYPTED	  0x01
#define BTHOME_INFO_MAC		  0x02 /* bthome-ble; bthome.io: reserved */
#define BTHOME_INFO_TRIGGER	  0x04
#define BTHOME_INFO_VERSION_SHIFT 5
/* bits 3-4 are reserved for future use and ignored */

#define BTHOME_VERSION 2
#define BTHOME_MAC_LEN 6

/* Object ids that need more than a fixed-size integer. */
#define BTHOME_ID_BUTTON  0x3A
#define BTHOME_ID_COMMAND 0x3B
#define BTHOME_ID_DIMMER  0x3C

/* Command (0x3B) length byte: bits 5-7 reserved (sent as 0), 0-4 length. */
#define BTHOME_COMMAND_LEN_MASK 0x1F

#define STR(x)	#x
#define XSTR(x) STR(x)

#define NUM   BTHOME_KIND_NUMBER
#define BIN   BTHOME_KIND_BINARY
#define EVENT BTHOME_KIND_EVENT

/*
 * Every object id of BTHome v2, sorted by id (bthome_object_type_find()
 * searches it by halves). Sources, which agree where they overlap:
 * - bthome.io/format, from its source home-assistant/bthome.io
 *   src/format.html @ 0cf388b (2026-04-30): sensor, binary sensor, event,
 *   device information and packet id tables;
 * - the reference parser Bluetooth-Devices/bthome-ble @ d55bd3a
 *   (2026-02-27, v3.20.0) src/bthome_ble/const.py and event.py. It predates
 *   0x3B (command) and 0x65 (settings revision) and has no 0xF0-0xF2, so
 *   Home Assistant stops at those ids; we decode them from the spec.
 * Units are the spec's, written as SI symbols in UTF-8 ("ug/m3" -> "µg/m³").
 * Names the gateway relies on: battery, temperature, humidity, co2,
 * illuminance, mass, motion, moving, occupancy, presence, button, packet_id.
 * Binary sensors whose plain name is taken by a number get a suffix
 * (battery_low, power_on, gas_detected, moisture_detected).
 */
static const struct bthome_object_type types[] = {
	/* id, name, kind, size, signed, factor, unit */
	{ 0x00, "packet_id", NUM, 1, false, 1, NULL },
	{ 0x01, "battery", NUM, 1, false, 1, "%" },
	{ 0x02, "temperature", NUM, 2, true, 0.01, "°C" },
	{ 0x03, "humidity", NUM, 2, false, 0.01, "%" },
	{ 0x04, "pressure", NUM, 3, false, 0.01, "hPa" },
	{ 0x05, "illuminance", NUM, 3, false, 0.01, "lx" },
	{ 0x06, "mass", NUM, 2, false, 0.01, "kg" },
	{ 0x07, "mass", NUM, 2, false, 0.01, "lb" },
	{ 0x08, "dew_point", NUM, 2, true, 0.01, "°C" },
	{ 0x09, "count", NUM, 1, false, 1, NULL },
	{ 0x0A, "energy", NUM, 3, false, 0.001, "kWh" },
	{ 0x0B, "power", NUM, 3, false, 0.01, "W" },
	{ 0x0C, "voltage", NUM, 2, false, 0.001, "V" },
	{ 0x0D, "pm25", NUM, 2, false, 1, "µg/m³" },
	{ 0x0E, "pm10", NUM, 2, false, 1, "µg/m³" },
	{ 0x0F, "generic_boolean", BIN, 1, false, 1, NULL },
	{ 0x10, "power_on", BIN, 1, false, 1, NULL },
	{ 0x11, "opening", BIN, 1, false, 1, NULL },
	{ 0x12, "co2", NUM, 2, false, 1, "ppm" },
	{ 0x13, "tvoc", NUM, 2, false, 1, "µg/m³" },
	{ 0x14, "moisture", NUM, 2, false, 0.01, "%" },
	{ 0x15, "battery_low", BIN, 1, false, 1, NULL },
	{ 0x16, "battery_charging", BIN, 1, false, 1, NULL },
	{ 0x17, "carbon_monoxide", BIN, 1, false, 1, NULL },
	{ 0x18, "cold", BIN, 1, false, 1, NULL },
	{ 0x19, "connectivity", BIN, 1, false, 1, NULL },
	{ 0x1A, "door", BIN, 1, false, 1, NULL },
	{ 0x1B, "garage_door", BIN, 1, false, 1, NULL },
	{ 0x1C, "gas_detected", BIN, 1, false, 1, NULL },
	{ 0x1D, "heat", BIN, 1, false, 1, NULL },
	{ 0x1E, "light", BIN, 1, false, 1, NULL },
	{ 0x1F, "lock", BIN, 1, false, 1, NULL },
	{ 0x20, "moisture_detected", BIN, 1, false, 1, NULL },
	{ 0x21, "motion", BIN, 1, false, 1, NULL },
	{ 0x22, "moving", BIN, 1, false, 1, NULL },
	{ 0x23, "occupancy", BIN, 1, false, 1, NULL },
	{ 0x24, "plug", BIN, 1, false, 1, NULL },
	{ 0x25, "presence", BIN, 1, false, 1, NULL },
	{ 0x26, "problem", BIN, 1, false, 1, NULL },
	{ 0x27, "running", BIN, 1, false, 1, NULL },
	{ 0x28, "safety", BIN, 1, false, 1, NULL },
	{ 0x29, "smoke", BIN, 1, false, 1, NULL },
	{ 0x2A, "sound", BIN, 1, false, 1, NULL },
	{ 0x2B, "tamper", BIN, 1, false, 1, NULL },
	{ 0x2C, "vibration", BIN, 1, false, 1, NULL },
	{ 0x2D, "window", BIN, 1, false, 1, NULL },
	{ 0x2E, "humidity", NUM, 1, false, 1, "%" },
	{ 0x2F, "moisture", NUM, 1, false, 1, "%" },
	/* 0x30-0x39 are not assigned */
	{ 0x3A, "button", EVENT, 1, false, 1, NULL },
	/* length byte, opcode, arguments */
	{ 0x3B, "command", EVENT, 0, false, 1, NULL },
	/* event, then the number of steps */
	{ 0x3C, "dimmer", EVENT, 2, false, 1, NULL },
	{ 0x3D, "count", NUM, 2, false, 1, NULL },
	{ 0x3E, "count", NUM, 4, false, 1, NULL },
	{ 0x3F, "rotation", NUM, 2, true, 0.1, "°" },
	{ 0x40, "distance", NUM, 2, false, 1, "mm" },
	{ 0x41, "distance", NUM, 2, false, 0.1, "m" },
	{ 0x42, "duration", NUM, 3, false, 0.001, "s" },
	{ 0x43, "current", NUM, 2, false, 0.001, "A" },
	{ 0x44, "speed", NUM, 2, false, 0.01, "m/s" },
	{ 0x45, "temperature", NUM, 2, true, 0.1, "°C" },
	{ 0x46, "uv_index", NUM, 1, false, 0.1, NULL },
	{ 0x47, "volume", NUM, 2, false, 0.1, "L" },
	{ 0x48, "volume", NUM, 2, false, 1, "mL" },
	{ 0x49, "volume_flow_rate", NUM, 2, false, 0.001, "m³/h" },
	{ 0x4A, "voltage", NUM, 2, false, 0.1, "V" },
	{ 0x4B, "gas", NUM, 3, false, 0.001, "m³" },
	{ 0x4C, "gas", NUM, 4, false, 0.001, "m³" },
	{ 0x4D, "energy", NUM, 4, false, 0.001, "kWh" },
	{ 0x4E, "volume", NUM, 4, false, 0.001, "L" },
	{ 0x4F, "water", NUM, 4, false, 0.001, "L" },
	/* seconds since 1970-01-01 00:00:00 UTC */
	{ 0x50, "timestamp", NUM, 4, false, 1, NULL },
	{ 0x51, "acceleration", NUM, 2, false, 0.001, "m/s²" },
	{ 0x52, "gyroscope", NUM, 2, false, 0.001, "°/s" },
	{ 0x53, "text", BTHOME_KIND_TEXT, 0, false, 1, NULL },
	{ 0x54, "raw", BTHOME_KIND_RAW, 0, false, 1, NULL },
	{ 0x55, "volume_storage", NUM, 4, false, 0.001, "L" },
	{ 0x56, "conductivity", NUM, 2, false, 1, "µS/cm" },
	{ 0x57, "temperature", NUM, 1, true, 1, "°C" },
	{ 0x58, "temperature", NUM, 1, true, 0.35, "°C" },
	{ 0x59, "count", NUM, 1, true, 1, NULL },
	{ 0x5A, "count", NUM, 2, true, 1, NULL },
	{ 0x5B, "count", NUM, 4, true, 1, NULL },
	{ 0x5C, "power", NUM, 4, true, 0.01, "W" },
	{ 0x5D, "current", NUM, 2, true, 0.001, "A" },
	{ 0x5E, "direction", NUM, 2, false, 0.01, "°" },
	{ 0x5F, "precipitation", NUM, 2, false, 0.1, "mm" },
	{ 0x60, "channel", NUM, 1, false, 1, NULL },
	{ 0x61, "rotational_speed", NUM, 2, false, 1, "rpm" },
	{ 0x62, "speed", NUM, 4, true, 0.000001, "m/s" },
	{ 0x63, "acceleration", NUM, 4, true, 0.000001, "m/s²" },
	/* 0 dark, 1 twilight, 2 bright */
	{ 0x64, "light_level", NUM, 1, false, 1, NULL },
	{ 0x65, "settings_revision", NUM, 1, false, 1, NULL },
	/* 0x66-0xEF are not assigned */
	{ 0xF0, "device_type_id", NUM, 2, false, 1, NULL },
	/* bytes as sent: build, patch, minor, major (F1 00 01 02 04 = 4.2.1.0)
	 */
	{ 0xF1, "firmware_version", NUM, 4, false, 1, NULL },
	/* patch, minor, major (F2 00 01 06 = 6.1.0) */
	{ 0xF2, "firmware_version", NUM, 3, false, 1, NULL },
};

#undef NUM
#undef BIN
#undef EVENT

const struct bthome_object_type *bthome_object_type_find(uint8_t id)
{
	size_t lo = 0, hi = sizeof(types) / sizeof(types[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (types[mid].id == id)
			return &types[mid];
		if (types[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Reads a little-endian integer of 1-4 bytes, named @field. */
static bool pull_uint(struct cursor *c, uint8_t size, const char *field,
		      uint32_t *ret)
{
	uint8_t u8;
	uint16_t u16;

	switch (size) {
	case 1:
		if (!cursor_u8(c, field, &u8))
			return false;
		*ret = u8;
		return true;
	case 2:
		if (!cursor_le16(c, field, &u16))
			return false;
		*ret = u16;
		return true;
	case 3:
		return cursor_le24(c, field, ret);
	case 4:
		return cursor_le32(c, field, ret);
	default:
		/* The table holds no other size; never read a wrong one. */
		return false;
	}
}

/* Two's complement of the low @size bytes of @u, without overflow. */
static int64_t sign_extend(uint32_t u, uint8_t size)
{
	uint32_t sign = (uint32_t)1 << (size * 8 - 1);

	if (u & sign)
		return (int64_t)u - ((int64_t)sign << 1);
	return (int64_t)u;
}

/* A length byte named @len_field, then that many bytes named @field. */
static int pull_view(struct cursor *c, const char *len_field, const char *field,
		     struct bthome_object *o)
{
	uint8_t n;

	if (!cursor_u8(c, len_field, &n) ||
	    !cursor_take(c, n, field, &o->bytes))
		return cursor_truncated();
	o->bytes_len = n;
	return 0;
}

/*
 * bthome.io/format "Commands": a length byte (bits 0-4: argument length;
 * bits 5-7 reserved, sent as 0 and ignored here), an opcode, then the
 * arguments, whose meaning is opcode- and manufacturer-specific.
 */
static int pull_command(struct cursor *c, struct bthome_object *o)
{
	uint8_t len, opcode;

	if (!cursor_u8(c, "command length", &len))
		return cursor_truncated();
	if (!cursor_u8(c, "command", &opcode))
		return cursor_truncated();
	len &= BTHOME_COMMAND_LEN_MASK;
	if (!cursor_take(c, len, "command arguments", &o->bytes))
		return cursor_truncated();
	o->bytes_len = len;
	o->raw = opcode;
	return 0;
}

/* Decodes the value of one object whose id (type) has been read. */
static int pull_value(struct cursor *c, const struct bthome_object_type *t,
		      struct bthome_object *o)
{
	uint32_t u;
	int r;

	switch (t->kind) {
	case BTHOME_KIND_TEXT:
		r = pull_view(c, "text length", t->name, o);
		o->raw = o->bytes_len;
		return r;
	case BTHOME_KIND_RAW:
		r = pull_view(c, "raw length", t->name, o);
		o->raw = o->bytes_len;
		return r;
	case BTHOME_KIND_EVENT:
		if (t->id == BTHOME_ID_COMMAND)
			return pull_command(c, o);
		if (!pull_uint(c, t->size, t->name, &u))
			return cursor_truncated();
		/* dimmer: event byte, then steps; button: event byte only */
		o->raw = u & 0xff;
		if (t->id == BTHOME_ID_DIMMER)
			o->steps = (uint8_t)(u >> 8);
		return 0;
	case BTHOME_KIND_NUMBER:
	case BTHOME_KIND_BINARY:
		if (!pull_uint(c, t->size, t->name, &u))
			return cursor_truncated();
		o->raw = t->is_signed ? sign_extend(u, t->size) : (int64_t)u;
		return 0;
	default:
		return cursor_truncated();
	}
}

/*
 * BTHome v2, bthome.io/format "BTHome Data format" (service data of UUID
 * 0xFCD2, after the UUID):
 *   device information (u8): bit 0 encrypted, bit 1 MAC follows (see
 *     bthome.h), bit 2 trigger-based, bits 3-4 reserved, bits 5-7 version;
 *   [MAC, 6 bytes reversed];
 *   objects: id (u8) + a value whose size the id fixes (little-endian,
 *     table above), or a length byte + bytes for text (0x53) and raw
 *     (0x54), or a length byte + opcode + arguments for a command (0x3B).
 * Encrypted frames (bthome.io/encryption: AES-CCM, ciphertext + counter +
 * MIC) need a key we do not hold. An object id we do not know ends the
 * decoding, since its size is unknown; the objects before it are kept (the
 * spec's rule, and bthome-ble's). The objects run to the end of the data, so
 * there are no trailing bytes to ignore: a short last object is an error.
 */
int bthome_parse(const uint8_t *data, size_t len, struct bthome_frame *ret,
		 struct parse_error *ret_err)
{
	/* Only the objects found are written, and copied out: a frame is
	 * mostly object slots, and this runs for every advertisement. */
	struct bthome_frame f;
	struct cursor c;
	uint8_t info, version, prev_id = 0;

	memset(&f, 0, offsetof(struct bthome_frame, objects));
	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "device information", &info))
		return cursor_truncated();

	version = info >> BTHOME_INFO_VERSION_SHIFT;
	if (version != BTHOME_VERSION)
		return cursor_fail(&c, PARSE_FAULT_RESERVED,
				   "device information", 0, version,
				   "BTHome version 2");
	f.version = version;
	f.trigger_based = (info & BTHOME_INFO_TRIGGER) != 0;
	f.encrypted = (info & BTHOME_INFO_ENCRYPTED) != 0;

	if (info & BTHOME_INFO_MAC) {
		uint8_t reversed[BTHOME_MAC_LEN];

		if (!cursor_mem(&c, sizeof(reversed), "mac address", reversed))
			return cursor_truncated();
		for (size_t i = 0; i < BTHOME_MAC_LEN; i++)
			f.mac[i] = reversed[BTHOME_MAC_LEN - 1 - i];
		f.has_mac = true;
	}

	if (f.encrypted)
		return cursor_fail(&c, PARSE_FAULT_ENCRYPTED, "objects",
				   cursor_offset(&c), info,
				   "encrypted, key needed");

	while (cursor_left(&c) > 0) {
		size_t offset = cursor_offset(&c);
		const struct bthome_object_type *t;
		struct bthome_object o = { 0 };
		uint8_t id;
		int r;

		if (!cursor_u8(&c, "object id", &id))
			return cursor_truncated();
		t = bthome_object_type_find(id);
		if (!t) {
			f.stopped = true;
			f.stop = (struct parse_error){
				.fault = PARSE_FAULT_RESERVED,
				.field = "object id",
				.offset = offset,
				.value = id,
				.expected = "a BTHome v2 object id",
			};
			break;
		}
		if (f.object_count == BTHOME_MAX_OBJECTS)
			return cursor_fail(&c, PARSE_FAULT_TOO_MANY, "objects",
					   offset, id,
					   XSTR(BTHOME_MAX_OBJECTS));
		if (id < prev_id)
			f.out_of_order = true;
		prev_id = id;

		o.type = t;
		o.offset = offset;
		r = pull_value(&c, t, &o);
		if (r < 0)
			return r;
		f.objects[f.object_count++] = o;
	}

	memcpy(ret, &f,
	       offsetof(struct bthome_frame, objects) +
		   f.object_count * sizeof(f.objects[0]));
	return 0;
}

double bthome_object_value(const struct bthome_object *o)
{
	if (o->type->kind == BTHOME_KIND_NUMBER)
		return (double)o->raw * o->type->factor;
	return (double)o->raw;
}

/* bthome.io/format "Events"; bthome-ble event.py BUTTON_EVENTS */
static const char *button_event_name(int64_t event)
{
	switch (event) {
	case 0x00:
		return "none";
	case 0x01:
		return "press";
	case 0x02:
		return "double_press";
	case 0x03:
		return "triple_press";
	case 0x04:
		return "long_press";
	case 0x05:
		return "long_double_press";
	case 0x06:
		return "long_triple_press";
	case 0x80:
		return "hold_press";
	default:
		return "unknown";
	}
}

/* bthome.io/format "Events"; bthome-ble event.py DIMMER_EVENTS */
static const char *dimmer_event_name(int64_t event)
{
	switch (event) {
	case 0x00:
		return "none";
	case 0x01:
		return "rotate_left";
	case 0x02:
		return "rotate_right";
	default:
		return "unknown";
	}
}

/* bthome.io/format "Events": command opcodes (0x00 is "off", not none) */
static const char *command_name(int64_t opcode)
{
	switch (opcode) {
	case 0x00:
		return "off";
	case 0x01:
		return "on";
	case 0x02:
		return "toggle";
	case 0x03:
		return "step_up";
	case 0x04:
		return "step_down";
	default:
		return "unknown";
	}
}

const char *bthome_event_name(const struct bthome_object *o)
{
	if (o->type->kind != BTHOME_KIND_EVENT)
		return NULL;
	switch (o->type->id) {
	case BTHOME_ID_BUTTON:
		return button_event_name(o->raw);
	case BTHOME_ID_DIMMER:
		return dimmer_event_name(o->raw);
	case BTHOME_ID_COMMAND:
		return command_name(o->raw);
	default:
		return "unknown";
	}
}
