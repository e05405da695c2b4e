/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/*
 * Local calendar days and the instants that bound them, in a named time
 * zone, across daylight-saving changes. A "day" is days since 1970-01-01 of
 * the local calendar date.
 */

typedef struct clock_zone clock_zone;

/*
 * Opens the time zone @identifier ("Europe/Berlin"; NULL or "" for the
 * system's local zone). Returns NULL with @error set when the zone is
 * unknown (GLib silently falls back to UTC; we do not).
 */
clock_zone *clock_zone_new(const char *identifier, GError **error);
void clock_zone_free(clock_zone *zone);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(clock_zone, clock_zone_free)

/* The local day that instant @t_ms falls on. */
int32_t clock_day_of(const clock_zone *zone, int64_t t_ms);

/*
 * The instant of local wall time @minute_of_day (0-1439) on @day. In a
 * spring-forward gap the time is taken as if the clock had not jumped yet
 * (02:30 that does not exist becomes 03:30 summer time); in the repeated
 * fall-back hour the first occurrence is taken.
 */
int64_t clock_local_ms(const clock_zone *zone, int32_t day, int minute_of_day);

/* Local midnight starting @day. */
int64_t clock_day_start_ms(const clock_zone *zone, int32_t day);

/* ISO date "YYYY-MM-DD" of @day into @buf (at least 11 bytes). */
void clock_day_format(int32_t day, char *buf, size_t size);

/* Parses "YYYY-MM-DD"; false when it is no valid date. */
bool clock_day_parse(const char *text, int32_t *ret);

/* 0 = Monday ... 6 = Sunday. */
int clock_weekday(int32_t day);

/*
 * The times a reading may carry, whatever brought it (an import, the
 * radio, a check-in): from 2000-01-01T00:00:00Z, before any strap or scale
 * we read existed, to a day after @now_ms (a sender's clock a little
 * ahead, a time zone mixed up), not later. A 1970 or a 9999 is a broken
 * clock or a typo, and would make every night in between one to analyse.
 */
#define CLOCK_READING_MIN_MS   INT64_C(946684800000)
#define CLOCK_READING_AHEAD_MS INT64_C(86400000)
bool clock_reading_time_valid(int64_t t_ms, int64_t now_ms);
