/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One advertisement, wherever it was heard (DESIGN §3): bluetoothd's
 * Device1 properties, a remote antenna's relay, or `recoveryctl decode --adv`
 * all become this value: the sender's address and RSSI when known, and the
 * AD structures that matter to us (flags, 16-bit service UUIDs, service data
 * by 16-bit UUID, manufacturer data by company id, the local name).
 * sensors/advert-decode.h picks the decoder from it.
 *
 * Pure: no allocation. The byte views (service and manufacturer data, the
 * name) are borrowed from the buffer the value was parsed from or built
 * over, and are valid as long as that buffer is.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"

/*
 * A legacy advertisement and its scan response hold 62 bytes, an extended
 * one 254 (and 1650 chained); what one device puts in them stays well under
 * these counts. More is -E2BIG, not silently dropped.
 */
#define ADVERT_MAX_UUIDS	16
#define ADVERT_MAX_SERVICE_DATA 8
#define ADVERT_MAX_MANUFACTURER 8
/* HCI LE Advertising Report: Num_Reports is 0x01-0x19. */
#define ADVERT_MAX_REPORTS 25

/* 127 in an HCI report's RSSI or TX power: "not available". */
#define ADVERT_RSSI_UNKNOWN 127

struct advert_service_data {
	uint16_t uuid;
	const uint8_t *data; /* the value after the UUID; borrowed */
	size_t len;
	/* Where the value starts in the bytes parsed (0 for a value built
	 * from parts), so that a decoder's fault can name its offset in what
	 * the person pasted. */
	size_t offset;
};

struct advert_manufacturer {
	uint16_t company_id;
	const uint8_t *data; /* the value after the company id; borrowed */
	size_t len;
	size_t offset; /* as above */
};

struct advert {
	bool has_address;
	/* Display order: address[0] is the most significant byte, the "AA" of
	 * "AA:BB:CC:DD:EE:FF" (HCI sends it the other way round). */
	uint8_t address[6];
	uint8_t address_type; /* HCI Address_Type (0 public, 1 random); 0 when
				 not from HCI */
	bool has_rssi;
	int8_t rssi_dbm;
	bool has_flags;
	uint8_t flags; /* AD type 0x01 */
	/* The local name (complete or shortened), borrowed and not
	 * NUL-terminated; NULL when the advertisement has none. */
	const char *name;
	size_t name_len;
	uint8_t uuid_count;
	uint16_t uuids[ADVERT_MAX_UUIDS]; /* advertised 16-bit services */
	uint8_t service_data_count;
	struct advert_service_data service_data[ADVERT_MAX_SERVICE_DATA];
	uint8_t manufacturer_count;
	struct advert_manufacturer manufacturer[ADVERT_MAX_MANUFACTURER];
};

/* An empty value: no address, no RSSI, no AD structures. */
void advert_init(struct advert *a);

/*
 * Parses AD structures (Core Spec Vol 3 Part C §11: length, type, data,
 * repeated), as btmon and bluetoothctl show an advertisement's data, and an
 * advertisement followed by its scan response. Returns 0 with @ret filled
 * (no address, no RSSI; views point into @data), or a negative errno with
 * @ret untouched and @ret_err (may be NULL) naming the field and its offset:
 * -EBADMSG when a structure runs past the end or is shorter than its type
 * needs, -E2BIG for more entries of a kind than struct advert holds. Types
 * we do not read are skipped.
 */
int advert_parse_ad(const uint8_t *data, size_t len, struct advert *ret,
		    struct parse_error *ret_err);

/*
 * Parses an HCI LE Advertising Report event (Core Spec Vol 4 Part E
 * §7.7.65.2) or LE Extended Advertising Report event (§7.7.65.13), with or
 * without the UART packet indicator 0x04 in front: "04 3E <len> 02 ..." as
 * btmon, ble_monitor and the ESPHome BLE gateway relay it (that one joins
 * the advertisement and its scan response into one report). Returns 0 with
 * @ret[0 .. *ret_count - 1] filled, one value per report (address, RSSI
 * unless 127, and the AD structures), or a negative errno with @ret and
 * @ret_count untouched and @ret_err naming the field and its offset:
 * -EBADMSG (truncated, a parameter length that does not match the bytes
 * after it, bytes left after the reports), -ENOTSUP (not an LE Meta event,
 * another subevent), -EINVAL (no reports), -E2BIG (more reports than
 * @max, or the AD errors of advert_parse_ad()).
 */
int advert_parse_hci(const uint8_t *data, size_t len, struct advert *ret,
		     size_t max, size_t *ret_count,
		     struct parse_error *ret_err);

/*
 * TRUE when @data looks like an HCI event (starts 04 3E, or 3E followed by
 * its own parameter length) rather than AD structures.
 */
bool advert_is_hci(const uint8_t *data, size_t len);

/*
 * Either of the above, as advert_is_hci() tells: AD structures give one
 * value. Same results as the parser it picks.
 */
int advert_parse(const uint8_t *data, size_t len, struct advert *ret,
		 size_t max, size_t *ret_count, struct parse_error *ret_err);

/*
 * Build a value from parts (bluetoothd's Device1 properties, an antenna's
 * JSON): the views are borrowed. Each returns 0, or -E2BIG when @a already
 * holds the most it can (@a unchanged).
 */
int advert_add_uuid(struct advert *a, uint16_t uuid);
int advert_add_service_data(struct advert *a, uint16_t uuid,
			    const uint8_t *data, size_t len);
int advert_add_manufacturer(struct advert *a, uint16_t company_id,
			    const uint8_t *data, size_t len);
/* @name borrowed, @len bytes (not NUL-terminated); NULL: none. */
void advert_set_name(struct advert *a, const char *name, size_t len);
/*
 * Sets the address from "AA:BB:CC:DD:EE:FF" (either case). Returns 0, or
 * -EINVAL for text that is not an address (@a unchanged).
 */
int advert_set_address(struct advert *a, const char *text);

/* The first service data of @uuid, or NULL. */
const struct advert_service_data *
advert_find_service_data(const struct advert *a, uint16_t uuid);
/* TRUE if @uuid is among the advertised 16-bit service UUIDs. */
bool advert_has_uuid(const struct advert *a, uint16_t uuid);
/* TRUE if the local name begins with @prefix (exactly, case included). */
bool advert_name_starts(const struct advert *a, const char *prefix);
/* "AA:BB:CC:DD:EE:FF", or "" without an address. */
void advert_address_text(const struct advert *a, char ret[18]);
