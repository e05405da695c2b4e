/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>

#include "sensors/advert-decode.h"
#include "sensors/decode.h"

/*
 * Adds the members that describe @p to the object @builder has open, with
 * the key names of `recoveryctl decode` (README, "recoveryctl decode"); keys
 * of absent fields are left out. Values are rounded to the resolution the
 * payload carries. The caller may add members of its own (time, address).
 */
void decode_json_add_members(JsonBuilder *builder,
			     const struct decoded_payload *p);

/*
 * Adds the members of one decoded advertisement: "family"
 * (advert_decoded_family_name()), then the "address", "rssi_dbm" and "name"
 * @a carries, then the payload's members as decode_json_add_members()
 * writes them.
 */
void decode_json_add_advert(JsonBuilder *builder, const struct advert *a,
			    const struct advert_decoded *d);
