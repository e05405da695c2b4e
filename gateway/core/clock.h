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

/* --- whether the wall clock can be trusted (DESIGN §4) --------------- */

/* What the kernel says of its clock (adjtimex(2)). */
enum clock_sync {
	CLOCK_SYNC_UNKNOWN, /* it cannot be asked (a sandbox) */
	CLOCK_SYNC_NO,	    /* no NTP client has synchronised it */
	CLOCK_SYNC_YES,	    /* an NTP client keeps it synchronised */
};

/* Why the wall clock is trusted, or that it is not. */
enum clock_trust {
	CLOCK_TRUST_NONE,	  /* not trusted: readings are held */
	CLOCK_TRUST_SYNCHRONISED, /* the kernel says synchronised */
	CLOCK_TRUST_FLOOR,	  /* later than every floor */
};

/*
 * The trust rule: the wall clock @wall_ms is trusted when the kernel says
 * it is synchronised, or when it is later than both floors, @build_ms (the
 * program's build time) and @newest_ms (the newest stored reading; 0 with
 * none): systemd-timesyncd keeps the same kind of floor. A clock that is
 * not later than @build_ms is never trusted, synchronised or not: no such
 * clock can be right. With @require_sync only the kernel's word counts,
 * unless it cannot be asked (CLOCK_SYNC_UNKNOWN): then the floors hold.
 * Pure: no clock is read here.
 */
enum clock_trust clock_trust(enum clock_sync sync, bool require_sync,
			     int64_t wall_ms, int64_t build_ms,
			     int64_t newest_ms);

/* "synchronised", "later than the floor", "not trusted": for the log. */
const char *clock_trust_name(enum clock_trust trust);

/*
 * The kernel's id of this boot (/proc/sys/kernel/random/boot_id, 36
 * characters), read once per process; the monotonic clock is only
 * comparable within one boot. Where it cannot be read, an id made up once
 * for this process (then held readings outlive no restart). Static; never
 * NULL.
 */
const char *clock_boot_id(void);

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
