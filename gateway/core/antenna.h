/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Remote antennas (DESIGN §13): what an ESP32 or Shelly that relays
 * advertisements over MQTT publishes for one advertisement, read into the
 * one advert value of sensors/advert.h, which the dispatcher then decodes
 * as if the local radio had heard it. Formats, as reference/antennas.md
 * lists them:
 *
 * - OpenMQTTGateway and Theengs Gateway: a JSON object with "id" (the
 *   address, either case), "rssi", "name", "manufacturerdata" (hex, the
 *   company id first, little-endian as on air) and "servicedata" (hex,
 *   without the UUID) with "servicedatauuid" ("0x181d" from OpenMQTTGateway,
 *   "181d" from Theengs, or the full 128-bit form). The raw fields are there
 *   only with OMG's pubadvdata / Theengs' publish_advdata on.
 * - The ESPHome BLE gateway: an HCI LE Advertising Report event in hex
 *   ("043E..."), as {"packet": "043E..."} or the bare hex.
 * - Shelly's Bluetooth-proxy script: {"event": "ble.scan_result", "data":
 *   [2, [[addr, rssi, base64 advertisement, base64 scan response], ...]]},
 *   the same inside a JSON-RPC NotifyEvent ("params": {"events": [...]}), or
 *   the data array alone (version 1: [1, [addr, rssi, adv, rsp]]).
 *
 * No I/O and no logging: json-glib and the pure parsers only.
 */

#include <stddef.h>
#include <stdint.h>

#include "sensors/advert.h"

/* The longest message read: one advertisement is a few hundred bytes of
 * JSON, a Shelly event of 16 of them some 3 KB. */
#define ANTENNA_MESSAGE_MAX 16384
/* Advertisements in one message: an HCI event holds up to 25 reports. */
#define ANTENNA_ADVERTS_MAX ADVERT_MAX_REPORTS

enum antenna_format {
	ANTENNA_FORMAT_GATEWAY_JSON, /* OpenMQTTGateway, Theengs Gateway */
	ANTENNA_FORMAT_HCI,	     /* the ESPHome BLE gateway's packet */
	ANTENNA_FORMAT_SHELLY,	     /* a Shelly script's scan results */
};

/* "openmqttgateway/theengs", "hci", "shelly": for messages. */
const char *antenna_format_name(enum antenna_format format);

/*
 * One message's advertisements. @adverts borrow their service data,
 * manufacturer data and names from @bytes: they are valid as long as this
 * struct is, and not after it is moved or parsed into again. Large (some
 * 30 KB): allocate it once and parse into it again and again.
 */
struct antenna_message {
	enum antenna_format format;
	size_t count; /* 0: a message with no advertisement (a Shelly event
			 of another kind) */
	struct advert adverts[ANTENNA_ADVERTS_MAX];
	size_t used; /* of @bytes */
	uint8_t bytes[ANTENNA_MESSAGE_MAX];
};

/*
 * Reads one MQTT message (@payload, @len bytes, not NUL-terminated) in
 * whichever format above it is. Returns 0 with @ret filled: every
 * advertisement has an address, and an RSSI when the antenna gave one.
 * On error @ret is left in an unspecified state but for
 * @ret->adverts[0].has_address, which says whether the sender's address was
 * read (an OpenMQTTGateway or Theengs message whose other fields are
 * wrong: a caller may drop a foreign device's quietly), and the negative
 * errno says why, with @ret_reason (may be NULL; g_free) one line naming
 * the field and what was expected:
 * -E2BIG: over ANTENNA_MESSAGE_MAX, or more entries than struct advert or
 *  @ret holds; -EBADMSG: not UTF-8 text, not JSON or hex, a field of the
 *  wrong type, hex or base64 that does not read, AD structures that do not
 *  parse; -EINVAL: an address that is not one, an RSSI out of range;
 *  -ENOTSUP: JSON of no format above; -ENOMSG: an empty payload.
 */
int antenna_parse(const void *payload, size_t len, struct antenna_message *ret,
		  char **ret_reason);
