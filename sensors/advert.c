// SPDX-License-Identifier: MIT
#include "sensors/advert.h"

#include <errno.h>
#include <string.h>

#include "sensors/cursor.h"
#include "sensors/decode.h"

/* AD types read here (Bluetooth Assigned Numbers §2.3, CSS Part A §1). */
enum ad_type {
	AD_FLAGS = 0x01,
	AD_UUID16_INCOMPLETE = 0x02,
	AD_UUID16_COMPLETE = 0x03,
	AD_NAME_SHORT = 0x08,
	AD_NAME_COMPLETE = 0x09,
	AD_SERVICE_DATA16 = 0x16,
	AD_MANUFACTURER = 0xFF,
};

#define HCI_PACKET_EVENT      0x04 /* UART transport, Vol 4 Part A §2 */
#define HCI_EVENT_LE_META     0x3E
#define HCI_LE_ADV_REPORT     0x02
#define HCI_LE_EXT_ADV_REPORT 0x0D

/* The strings struct parse_error points to must be static. */
#define MAX_UUIDS_TEXT	 "16"
#define MAX_SD_TEXT	 "8"
#define MAX_MFR_TEXT	 "8"
#define MAX_REPORTS_TEXT "25 (or the caller's limit)"

void advert_init(struct advert *a)
{
	memset(a, 0, sizeof(*a));
}

int advert_add_uuid(struct advert *a, uint16_t uuid)
{
	if (a->uuid_count >= ADVERT_MAX_UUIDS)
		return -E2BIG;
	a->uuids[a->uuid_count++] = uuid;
	return 0;
}

static int add_service_data_at(struct advert *a, uint16_t uuid,
			       const uint8_t *data, size_t len, size_t offset)
{
	if (a->service_data_count >= ADVERT_MAX_SERVICE_DATA)
		return -E2BIG;
	a->service_data[a->service_data_count++] = (struct advert_service_data){
		.uuid = uuid,
		.data = data,
		.len = len,
		.offset = offset,
	};
	return 0;
}

int advert_add_service_data(struct advert *a, uint16_t uuid,
			    const uint8_t *data, size_t len)
{
	return add_service_data_at(a, uuid, data, len, 0);
}

static int add_manufacturer_at(struct advert *a, uint16_t company_id,
			       const uint8_t *data, size_t len, size_t offset)
{
	if (a->manufacturer_count >= ADVERT_MAX_MANUFACTURER)
		return -E2BIG;
	a->manufacturer[a->manufacturer_count++] = (struct advert_manufacturer){
		.company_id = company_id,
		.data = data,
		.len = len,
		.offset = offset,
	};
	return 0;
}

int advert_add_manufacturer(struct advert *a, uint16_t company_id,
			    const uint8_t *data, size_t len)
{
	return add_manufacturer_at(a, company_id, data, len, 0);
}

void advert_set_name(struct advert *a, const char *name, size_t len)
{
	a->name = name;
	a->name_len = name ? len : 0;
}

int advert_set_address(struct advert *a, const char *text)
{
	uint8_t address[6];
	size_t len = 0;

	/* Six pairs with a colon between each, read by the hex reader. */
	if (!text || strlen(text) != 17)
		return -EINVAL;
	for (size_t i = 2; i < 17; i += 3)
		if (text[i] != ':')
			return -EINVAL;
	if (decode_hex(text, address, sizeof(address), &len, NULL) < 0 ||
	    len != sizeof(address))
		return -EINVAL;
	memcpy(a->address, address, sizeof(address));
	a->has_address = true;
	return 0;
}

const struct advert_service_data *
advert_find_service_data(const struct advert *a, uint16_t uuid)
{
	for (unsigned i = 0; i < a->service_data_count; i++)
		if (a->service_data[i].uuid == uuid)
			return &a->service_data[i];
	return NULL;
}

bool advert_has_uuid(const struct advert *a, uint16_t uuid)
{
	for (unsigned i = 0; i < a->uuid_count; i++)
		if (a->uuids[i] == uuid)
			return true;
	return false;
}

bool advert_name_starts(const struct advert *a, const char *prefix)
{
	size_t n = strlen(prefix);

	return a->name && a->name_len >= n && memcmp(a->name, prefix, n) == 0;
}

void advert_address_text(const struct advert *a, char ret[18])
{
	static const char digits[] = "0123456789ABCDEF";

	ret[0] = '\0';
	if (!a->has_address)
		return;
	for (size_t i = 0; i < 6; i++) {
		ret[3 * i] = digits[a->address[i] >> 4];
		ret[3 * i + 1] = digits[a->address[i] & 0x0F];
		ret[3 * i + 2] = i < 5 ? ':' : '\0';
	}
}

static int too_many(struct cursor *c, const char *field, size_t offset,
		    const char *most)
{
	return cursor_fail(c, PARSE_FAULT_TOO_MANY, field, offset, 0, most);
}

/*
 * One AD structure's data, @c positioned at its first byte and ending with
 * it. Each type takes what it needs; what a later revision may append to a
 * type (the Flags field may grow) is left unread.
 */
static int ad_structure(struct cursor *c, uint8_t type, struct advert *a)
{
	size_t at = cursor_offset(c);
	uint16_t v;

	switch ((enum ad_type)type) {
	case AD_FLAGS:
		if (!cursor_u8(c, "flags", &a->flags))
			return cursor_truncated();
		a->has_flags = true;
		return 0;
	case AD_UUID16_INCOMPLETE:
	case AD_UUID16_COMPLETE:
		while (cursor_left(c) > 0) {
			at = cursor_offset(c);
			if (!cursor_le16(c, "service UUID", &v))
				return cursor_truncated();
			if (advert_add_uuid(a, v) < 0)
				return too_many(c, "service UUIDs", at,
						MAX_UUIDS_TEXT);
		}
		return 0;
	case AD_NAME_SHORT:
	case AD_NAME_COMPLETE: {
		size_t n = cursor_left(c);
		const uint8_t *p;

		if (!cursor_take(c, n, "local name", &p))
			return cursor_truncated();
		/* A complete name wins over a shortened one. */
		if (!a->name || type == AD_NAME_COMPLETE)
			advert_set_name(a, (const char *)p, n);
		return 0;
	}
	case AD_SERVICE_DATA16: {
		const uint8_t *p;
		size_t n;

		if (!cursor_le16(c, "service data UUID", &v))
			return cursor_truncated();
		at = cursor_offset(c);
		n = cursor_left(c);
		if (!cursor_take(c, n, "service data", &p))
			return cursor_truncated();
		if (add_service_data_at(a, v, p, n, at) < 0)
			return too_many(c, "service data", at - 2, MAX_SD_TEXT);
		return 0;
	}
	case AD_MANUFACTURER: {
		const uint8_t *p;
		size_t n;

		if (!cursor_le16(c, "company id", &v))
			return cursor_truncated();
		at = cursor_offset(c);
		n = cursor_left(c);
		if (!cursor_take(c, n, "manufacturer data", &p))
			return cursor_truncated();
		if (add_manufacturer_at(a, v, p, n, at) < 0)
			return too_many(c, "manufacturer data", at - 2,
					MAX_MFR_TEXT);
		return 0;
	}
	default:
		return 0;
	}
}

/*
 * The AD structures from @c's position up to @end (an offset in the same
 * buffer, so that faults name offsets in the bytes the caller was given).
 * A length of 0 is an empty structure (CSS Vol 3 Part C §11 uses it to end
 * the significant part early); the bytes after it are read on, since a
 * relay may have put a scan response after an advertisement's padding.
 */
static int ad_parse(struct cursor *outer, size_t end, struct advert *a)
{
	/* A structure must not run into what follows the data (an HCI
	 * report's RSSI): the cursor ends where the data does. */
	struct cursor sub = {
		.data = outer->data,
		.len = end,
		.pos = outer->pos,
		.err = outer->err,
	};
	struct cursor *c = &sub;

	outer->pos = end;
	while (cursor_offset(c) < end) {
		struct cursor body;
		const uint8_t *p;
		uint8_t length, type;
		size_t at = cursor_offset(c);
		int r;

		if (!cursor_u8(c, "AD length", &length))
			return cursor_truncated();
		if (length == 0)
			continue;
		/* The structure is the length's byte count after it. */
		if (!cursor_take(c, length, "AD structure", &p)) {
			if (c->err)
				c->err->offset = at;
			return cursor_truncated();
		}
		body = (struct cursor){
			.data = c->data,
			.len = at + 1 + length,
			.pos = at + 1,
			.err = c->err,
		};
		if (!cursor_u8(&body, "AD type", &type))
			return cursor_truncated();
		r = ad_structure(&body, type, a);
		if (r < 0)
			return r;
	}
	return 0;
}

int advert_parse_ad(const uint8_t *data, size_t len, struct advert *ret,
		    struct parse_error *ret_err)
{
	struct advert a;
	struct cursor c;
	int r;

	advert_init(&a);
	cursor_init(&c, data, len, ret_err);
	r = ad_parse(&c, c.len, &a);
	if (r < 0)
		return r;
	*ret = a;
	return 0;
}

/* HCI sends the address least significant byte first. */
static bool pull_address(struct cursor *c, struct advert *a)
{
	uint8_t raw[6];

	if (!cursor_mem(c, sizeof(raw), "address", raw))
		return false;
	for (size_t i = 0; i < 6; i++)
		a->address[i] = raw[5 - i];
	a->has_address = true;
	return true;
}

static void set_rssi(struct advert *a, uint8_t raw)
{
	a->has_rssi = raw != ADVERT_RSSI_UNKNOWN;
	a->rssi_dbm = a->has_rssi ? (int8_t)raw : 0;
}

/*
 * One report of an LE Advertising Report event (§7.7.65.2): Event_Type,
 * Address_Type, Address, Data_Length, Data, RSSI. Like the kernel and
 * btmon, the reports of one event are read one after the other.
 */
static int legacy_report(struct cursor *c, struct advert *a)
{
	uint8_t event_type, length, rssi;
	size_t at;
	int r;

	if (!cursor_u8(c, "event type", &event_type) ||
	    !cursor_u8(c, "address type", &a->address_type) ||
	    !pull_address(c, a) || !cursor_u8(c, "data length", &length))
		return cursor_truncated();
	at = cursor_offset(c);
	if (!cursor_skip(c, length, "advertising data"))
		return cursor_truncated();
	c->pos = at;
	r = ad_parse(c, at + length, a);
	if (r < 0)
		return r;
	if (!cursor_u8(c, "RSSI", &rssi))
		return cursor_truncated();
	set_rssi(a, rssi);
	return 0;
}

/*
 * One report of an LE Extended Advertising Report event (§7.7.65.13):
 * Event_Type (2), Address_Type, Address, Primary_PHY, Secondary_PHY,
 * Advertising_SID, TX_Power, RSSI, Periodic_Advertising_Interval (2),
 * Direct_Address_Type, Direct_Address, Data_Length, Data.
 */
static int extended_report(struct cursor *c, struct advert *a)
{
	uint16_t event_type;
	uint8_t length, rssi;
	size_t at;
	int r;

	if (!cursor_le16(c, "event type", &event_type) ||
	    !cursor_u8(c, "address type", &a->address_type) ||
	    !pull_address(c, a) ||
	    !cursor_skip(c, 4, "PHYs, SID and TX power") ||
	    !cursor_u8(c, "RSSI", &rssi) ||
	    !cursor_skip(c, 9, "periodic interval and direct address") ||
	    !cursor_u8(c, "data length", &length))
		return cursor_truncated();
	set_rssi(a, rssi);
	at = cursor_offset(c);
	if (!cursor_skip(c, length, "advertising data"))
		return cursor_truncated();
	c->pos = at;
	r = ad_parse(c, at + length, a);
	return r < 0 ? r : 0;
}

bool advert_is_hci(const uint8_t *data, size_t len)
{
	if (len >= 2 && data[0] == HCI_PACKET_EVENT &&
	    data[1] == HCI_EVENT_LE_META)
		return true;
	return len >= 3 && data[0] == HCI_EVENT_LE_META &&
	       (size_t)data[1] + 2 == len;
}

/*
 * The reports of the event in @c (positioned at Num_Reports): into @ret
 * when it is not NULL, else only checked.
 */
static int hci_reports(struct cursor *c, uint8_t subevent, struct advert *ret,
		       size_t max, size_t *ret_count)
{
	uint8_t count;
	size_t at = cursor_offset(c);

	if (!cursor_u8(c, "number of reports", &count))
		return cursor_truncated();
	if (count == 0)
		return cursor_fail(c, PARSE_FAULT_OUT_OF_RANGE,
				   "number of reports", at, 0, "1-25");
	if (count > max || count > ADVERT_MAX_REPORTS)
		return too_many(c, "reports", at, MAX_REPORTS_TEXT);
	for (size_t i = 0; i < count; i++) {
		struct advert scratch;
		struct advert *a = ret ? &ret[i] : &scratch;
		int r;

		advert_init(a);
		r = subevent == HCI_LE_ADV_REPORT ? legacy_report(c, a)
						  : extended_report(c, a);
		if (r < 0)
			return r;
	}
	if (cursor_left(c) > 0)
		return cursor_fail(c, PARSE_FAULT_MALFORMED, "parameter length",
				   cursor_offset(c), (uint32_t)cursor_left(c),
				   "no bytes after the last report");
	*ret_count = count;
	return 0;
}

int advert_parse_hci(const uint8_t *data, size_t len, struct advert *ret,
		     size_t max, size_t *ret_count, struct parse_error *ret_err)
{
	struct cursor c;
	uint8_t code, plen, subevent;
	size_t at, start, count = 0;
	int r;

	cursor_init(&c, data, len, ret_err);
	if (len > 0 && data[0] == HCI_PACKET_EVENT &&
	    !cursor_skip(&c, 1, "packet type"))
		return cursor_truncated();
	at = cursor_offset(&c);
	if (!cursor_u8(&c, "event code", &code))
		return cursor_truncated();
	if (code != HCI_EVENT_LE_META)
		return cursor_fail(&c, PARSE_FAULT_RESERVED, "event code", at,
				   code, "0x3E, LE Meta (after 04)");
	at = cursor_offset(&c);
	if (!cursor_u8(&c, "parameter length", &plen))
		return cursor_truncated();
	if (plen > cursor_left(&c)) {
		if (!cursor_skip(&c, plen, "event parameters"))
			return cursor_truncated();
	}
	if (plen < cursor_left(&c))
		return cursor_fail(&c, PARSE_FAULT_MALFORMED,
				   "parameter length", at, plen,
				   "the number of bytes after it");
	at = cursor_offset(&c);
	if (!cursor_u8(&c, "subevent", &subevent))
		return cursor_truncated();
	if (subevent != HCI_LE_ADV_REPORT && subevent != HCI_LE_EXT_ADV_REPORT)
		return cursor_fail(&c, PARSE_FAULT_RESERVED, "subevent", at,
				   subevent,
				   "0x02 advertising report or 0x0D extended");

	/* Checked first, so that @ret stays untouched on failure. */
	start = cursor_offset(&c);
	r = hci_reports(&c, subevent, NULL, max, &count);
	if (r < 0)
		return r;
	c.pos = start;
	return hci_reports(&c, subevent, ret, max, ret_count);
}

int advert_parse(const uint8_t *data, size_t len, struct advert *ret,
		 size_t max, size_t *ret_count, struct parse_error *ret_err)
{
	int r;

	if (advert_is_hci(data, len))
		return advert_parse_hci(data, len, ret, max, ret_count,
					ret_err);
	if (max == 0) {
		struct cursor c;

		cursor_init(&c, data, len, ret_err);
		return too_many(&c, "reports", 0, MAX_REPORTS_TEXT);
	}
	r = advert_parse_ad(data, len, ret, ret_err);
	if (r == 0)
		*ret_count = 1;
	return r;
}
