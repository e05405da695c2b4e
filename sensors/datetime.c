// SPDX-License-Identifier: MIT
#include "sensors/datetime.h"

bool datetime_pull(struct cursor *c, const char *field,
		   struct ble_date_time *ret)
{
	const uint8_t *p;

	if (!cursor_take(c, BLE_DATE_TIME_SIZE, field, &p))
		return false;
	*ret = (struct ble_date_time){
		.year = (uint16_t)(p[0] | p[1] << 8),
		.month = p[2],
		.day = p[3],
		.hours = p[4],
		.minutes = p[5],
		.seconds = p[6],
	};
	return true;
}

static bool is_leap(unsigned year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

bool ble_date_time_is_known(const struct ble_date_time *t)
{
	static const uint8_t days_in_month[12] = { 31, 28, 31, 30, 31, 30,
						   31, 31, 30, 31, 30, 31 };
	unsigned max_day;

	if (t->year < 1582 || t->year > 9999)
		return false;
	if (t->month < 1 || t->month > 12)
		return false;
	max_day = days_in_month[t->month - 1];
	if (t->month == 2 && is_leap(t->year))
		max_day = 29;
	if (t->day < 1 || t->day > max_day)
		return false;
	return t->hours <= 23 && t->minutes <= 59 && t->seconds <= 59;
}
