/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"

/*
 * BTHome v2 service data (UUID 0xFCD2): a device information byte, then
 * objects, each an id followed by a value whose size the id fixes.
 * Specification: https://bthome.io/format (source: home-assistant/bthome.io
 * src/format.html @ 0cf388b, 2026-04-30).
 */

enum bthome_kind {
	BTHOME_KIND_NUMBER, /* sensor value: raw * factor, in unit */
	BTHOME_KIND_BINARY, /* binary sensor: 0 or 1 */
	BTHOME_KIND_EVENT,  /* button / dimmer event, command */
	BTHOME_KIND_TEXT,   /* length-prefixed UTF-8 text */
	BTHOME_KIND_RAW,    /* length-prefixed bytes */
};

struct bthome_object_type {
	uint8_t id;
	const char *name; /* e.g. "temperature", "mass", "occupancy" */
	enum bthome_kind kind;
	uint8_t size; /* value bytes; 0 for length-prefixed TEXT/RAW/command */
	bool is_signed;
	double factor;	  /* NUMBER: value = raw * factor */
	const char *unit; /* NUMBER: e.g. "°C", "%", "kg"; NULL if none */
};

struct bthome_object {
	const struct bthome_object_type *type; /* static table entry */
	size_t offset;			       /* of the object id byte */
	/*
	 * NUMBER, BINARY: the value as sent (sign-extended when the type is
	 * signed); EVENT: the event id (the opcode for a command); TEXT, RAW:
	 * bytes_len.
	 */
	int64_t raw;
	/*
	 * TEXT, RAW: the bytes; command (0x3B): its arguments. Borrowed from
	 * the parsed buffer; NULL for other objects. TEXT is passed on as
	 * sent: validate it as UTF-8 before using it as a string.
	 */
	const uint8_t *bytes;
	uint8_t bytes_len;
	uint8_t steps; /* dimmer (0x3C): number of steps; 0 otherwise */
};

/*
 * A legacy advertisement holds at most 31 bytes, an extended one 255; the
 * smallest object takes 2 bytes, so 128 holds any frame.
 */
#define BTHOME_MAX_OBJECTS 128

struct bthome_frame {
	uint8_t version; /* 2 */
	bool encrypted;
	bool trigger_based;
	/*
	 * Device information bit 1: bthome.io marks it reserved, but the
	 * reference parser (bthome-ble) and real senders use it for "the
	 * device's MAC follows" (6 bytes, reversed). @mac is in display order
	 * (mac[0] is the most significant byte).
	 */
	bool has_mac;
	uint8_t mac[6];
	/*
	 * The spec asks senders for ascending object ids; like bthome-ble we
	 * decode any order and only say so here.
	 */
	bool out_of_order;
	uint16_t object_count;
	/*
	 * An object id we do not know ends decoding, since its size is
	 * unknown (the BTHome rule); what came before it is still good.
	 * @stopped says so and @stop describes where and why.
	 */
	bool stopped;
	struct parse_error stop;
	/* Last, so a parse copies only the objects it found. */
	struct bthome_object objects[BTHOME_MAX_OBJECTS];
};

/*
 * Parses BTHome v2 service data (the bytes after the UUID). Returns 0 with
 * @ret filled (objects point into @data, which must outlive @ret); -ENOKEY
 * for an encrypted frame (fault ENCRYPTED: a key is needed); -ENOTSUP for
 * another version; -EBADMSG when the data is empty or a known object is
 * truncated; -E2BIG for more than BTHOME_MAX_OBJECTS objects. @ret is
 * untouched on failure, and @ret_err (may be NULL) is written only then.
 */
int bthome_parse(const uint8_t *data, size_t len, struct bthome_frame *ret,
		 struct parse_error *ret_err);

/* NUMBER: raw * factor; BINARY and EVENT: raw. */
double bthome_object_value(const struct bthome_object *o);

/*
 * EVENT objects: the event's name ("press", "double_press", ...,
 * "rotate_left", ..., for a command "off", "on", "toggle", "step_up",
 * "step_down"), "none", or "unknown" for a value not in the spec. NULL for
 * objects that are not events.
 */
const char *bthome_event_name(const struct bthome_object *o);

/* The table entry for @id, or NULL when the id is unknown. */
const struct bthome_object_type *bthome_object_type_find(uint8_t id);
