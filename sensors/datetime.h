/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sensors/cursor.h"

/*
 * Date Time (GATT characteristic 0x2A08, GSS "Date Time"): year u16
 * (1582-9999, 0 = not known), month u8 (1-12, 0 = not known), day u8 (1-31,
 * 0 = not known), hours, minutes, seconds u8. Seven bytes. The Xiaomi scales
 * use the same layout.
 */
struct ble_date_time {
	uint16_t year;
	uint8_t month;
	uint8_t day;
	uint8_t hours;
	uint8_t minutes;
	uint8_t seconds;
};

#define BLE_DATE_TIME_SIZE 7

/*
 * Pulls seven bytes as a Date Time. Fails only on truncation: devices with an
 * unset or broken clock send all kinds of values, and losing the measurement
 * over its timestamp would lose data; check ble_date_time_is_known().
 */
bool datetime_pull(struct cursor *c, const char *field,
		   struct ble_date_time *ret);

/*
 * True when every field is within its range and none is "not known".
 */
bool ble_date_time_is_known(const struct ble_date_time *t);
