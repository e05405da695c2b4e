// SPDX-License-Identifier: MIT
#include "gateway/core/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "gateway/common/quote.h"

#define SECONDS_PER_DAY INT64_C(86400)

struct clock_zone {
	GTimeZone *tz;
};

/* Longer than any IANA name (the longest is 32 bytes). */
#define ZONE_NAME_MAX 64

/*
 * An IANA time zone name ("Europe/Berlin", "America/Argentina/Salta",
 * "Etc/GMT+3", "UTC"): levels of letters, digits, '_', '-' and '+' that each
 * start with a letter, separated by single '/'. No absolute path, no ".."
 * and no POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"), which GLib would
 * also take: the name is what the zone's file under TZDIR is called.
 */
static bool zone_name_valid(const char *name)
{
	size_t len = strlen(name);
	bool level_start = true;

	if (len == 0 || len > ZONE_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '/') {
			if (level_start)
				return false;
			level_start = true;
			continue;
		}
		if (level_start && !g_ascii_isalpha(*p))
			return false;
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '+')
			return false;
		level_start = false;
	}
	return !level_start;
}

/*
 * Whether the zone file of @name starts as RFC 8536 says ("TZif"): GLib
 * reads any file it is pointed at and asserts on the header, which is a
 * critical warning (an abort under G_DEBUG=fatal-criticals), not an error.
 * Some files in the zoneinfo directory (SECURITY, leapseconds) are no zones.
 */
static bool zone_file_valid(const char *name, GError **error)
{
	const char *dir = g_getenv("TZDIR");
	g_autofree char *path = g_build_filename(
	    dir && *dir ? dir : "/usr/share/zoneinfo", name, NULL);
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autoptr(GFileInputStream) in = g_file_read(file, NULL, NULL);
	char magic[4];
	gsize got = 0;

	if (!in) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "Unknown time zone \"%s\" (no such zone in %s)",
			    name, dir && *dir ? dir : "/usr/share/zoneinfo");
		return false;
	}
	if (!g_input_stream_read_all(G_INPUT_STREAM(in), magic, sizeof(magic),
				     &got, NULL, NULL) ||
	    got != sizeof(magic) || memcmp(magic, "TZif", 4) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "Unknown time zone \"%s\" (%s is not a time zone "
			    "file)",
			    name, path);
		return false;
	}
	return true;
}

clock_zone *clock_zone_new(const char *identifier, GError **error)
{
	clock_zone *zone;
	GTimeZone *tz;

	if (!identifier || !*identifier) {
		tz = g_time_zone_new_local();
	} else {
		if (!zone_name_valid(identifier)) {
			g_autofree char *quoted =
			    quote_text(identifier, -1, QUOTE_ESCAPED);

			g_set_error(error, G_IO_ERROR,
				    G_IO_ERROR_INVALID_ARGUMENT,
				    "Time zone %s is not an IANA zone name "
				    "(expected Area/City, e.g. Europe/Berlin, "
				    "or UTC)",
				    quoted);
			return NULL;
		}
		/* GLib knows UTC without a file. */
		if (strcmp(identifier, "UTC") != 0 &&
		    !zone_file_valid(identifier, error))
			return NULL;
		/* Since GLib 2.68 this is NULL for a zone it cannot load,
		 * where g_time_zone_new() quietly gave UTC. */
		tz = g_time_zone_new_identifier(identifier);
		if (!tz) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "Unknown time zone \"%s\"", identifier);
			return NULL;
		}
	}

	zone = g_new0(clock_zone, 1);
	zone->tz = tz;
	return zone;
}

void clock_zone_free(clock_zone *zone)
{
	if (!zone)
		return;
	g_time_zone_unref(zone->tz);
	g_free(zone);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* UTC offset in seconds in force at the UTC instant @utc_s. */
static int64_t offset_at(const clock_zone *zone, int64_t utc_s)
{
	/* For universal time the lookup always finds an interval. */
	GTimeZone *tz = zone->tz;
	int interval =
	    g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, utc_s);

	return g_time_zone_get_offset(tz, interval);
}

int32_t clock_day_of(const clock_zone *zone, int64_t t_ms)
{
	int64_t utc_s = floor_div(t_ms, 1000);

	return (int32_t)floor_div(utc_s + offset_at(zone, utc_s),
				  SECONDS_PER_DAY);
}

/*
 * GLib's own rule (g_date_time_new() goes through g_time_zone_adjust_time()
 * with G_TIME_TYPE_STANDARD) would snap a nonexistent 02:30 to 03:00 and
 * give the *second* (standard-time) 02:30 of a fall-back night; checked on
 * GLib 2.74 with Europe/Berlin. Neither is what we promise, so the local
 * time is resolved here from the offsets on either side of a change: the
 * wall time read with an offset is valid when that offset is really in
 * force at the resulting instant. Both valid: the repeated hour, take the
 * earlier instant. Neither valid: the gap, read it with the offset from
 * before the jump (02:30 CET = 03:30 CEST). Offsets are probed a day away,
 * which assumes zones do not change offset twice within two days.
 */
int64_t clock_local_ms(const clock_zone *zone, int32_t day, int minute_of_day)
{
	int64_t wall_s =
	    (int64_t)day * SECONDS_PER_DAY + (int64_t)minute_of_day * 60;
	int64_t before = offset_at(zone, wall_s - SECONDS_PER_DAY);
	int64_t after = offset_at(zone, wall_s + SECONDS_PER_DAY);
	int64_t utc_before = wall_s - before;
	int64_t utc_after = wall_s - after;
	bool before_ok = offset_at(zone, utc_before) == before;
	bool after_ok = offset_at(zone, utc_after) == after;
	int64_t utc_s;

	if (before_ok && after_ok)
		utc_s = MIN(utc_before, utc_after);
	else if (after_ok)
		utc_s = utc_after;
	else
		utc_s = utc_before;
	return utc_s * 1000;
}

int64_t clock_day_start_ms(const clock_zone *zone, int32_t day)
{
	return clock_local_ms(zone, day, 0);
}

/*
 * Proleptic Gregorian calendar arithmetic on 400-year eras (Howard
 * Hinnant's days_from_civil / civil_from_days): exact for any int32 day,
 * with no table and no GDate range limits.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_y = yoe + era * 400 + (*ret_m <= 2);
}

void clock_day_format(int32_t day, char *buf, size_t size)
{
	int64_t y;
	int m, d;

	civil_from_days(day, &y, &m, &d);
	/* Years past 9999 do not fit 11 bytes; snprintf truncates them. */
	snprintf(buf, size, "%04" PRId64 "-%02d-%02d", y, m, d);
}

static bool digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

bool clock_day_parse(const char *text, int32_t *ret)
{
	static const int month_days[] = { 31, 28, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };
	int y, m, d, last;

	/* Exactly YYYY-MM-DD: no signs, no spaces, nothing after. The
	 * checks stop at the first mismatch, so a short string's NUL is
	 * never read past. */
	if (!text || !digits(text, 4, &y) || text[4] != '-' ||
	    !digits(text + 5, 2, &m) || text[7] != '-' ||
	    !digits(text + 8, 2, &d) || text[10] != '\0')
		return false;
	if (m < 1 || m > 12)
		return false;
	last = month_days[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		last = 29;
	if (d < 1 || d > last)
		return false;

	*ret = (int32_t)days_from_civil(y, m, d);
	return true;
}

int clock_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday (3). */
	return (int)(((int64_t)day % 7 + 7 + 3) % 7);
}

enum clock_trust clock_trust(enum clock_sync sync, bool require_sync,
			     int64_t wall_ms, int64_t build_ms,
			     int64_t newest_ms)
{
	/* No clock that reads earlier than the program's build is right,
	 * whatever the kernel says (a process under a fake clock, an NTP
	 * server gone wrong). */
	if (wall_ms <= build_ms)
		return CLOCK_TRUST_NONE;
	/* The kernel's word passes the newest stored reading: those may have
	 * been filed on a clock that ran ahead, and NTP set it right since. */
	if (sync == CLOCK_SYNC_YES)
		return CLOCK_TRUST_SYNCHRONISED;
	if (require_sync && sync != CLOCK_SYNC_UNKNOWN)
		return CLOCK_TRUST_NONE;
	/* Strictly later: a clock that reads exactly the newest reading's
	 * time has not been shown to move on from it. */
	if (wall_ms > newest_ms)
		return CLOCK_TRUST_FLOOR;
	return CLOCK_TRUST_NONE;
}

const char *clock_trust_name(enum clock_trust trust)
{
	switch (trust) {
	case CLOCK_TRUST_SYNCHRONISED:
		return "synchronised";
	case CLOCK_TRUST_FLOOR:
		return "later than the floor";
	case CLOCK_TRUST_NONE:
	default:
		return "not trusted";
	}
}

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static gpointer read_boot_id(gpointer unused)
{
	g_autofree char *text = NULL;

	if (g_file_get_contents(BOOT_ID_PATH, &text, NULL, NULL)) {
		g_strstrip(text);
		/* A UUID in its text form, and nothing else. */
		if (g_uuid_string_is_valid(text))
			return g_steal_pointer(&text);
	}
	return g_uuid_string_random();
}

const char *clock_boot_id(void)
{
	static GOnce once = G_ONCE_INIT;

	return g_once(&once, read_boot_id, NULL);
}

bool clock_reading_time_valid(int64_t t_ms, int64_t now_ms)
{
	if (t_ms < CLOCK_READING_MIN_MS)
		return false;
	return now_ms > INT64_MAX - CLOCK_READING_AHEAD_MS ||
	       t_ms <= now_ms + CLOCK_READING_AHEAD_MS;
}
