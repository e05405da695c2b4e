// SPDX-License-Identifier: MIT
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "gateway/core/clock.h"

/*
 * Europe/Berlin in 2026 (zdump): CET -> CEST on Sunday 29 March at 01:00 UTC
 * (02:00 -> 03:00 local), CEST -> CET on Sunday 25 October at 01:00 UTC
 * (03:00 -> 02:00). America/New_York: Sunday 8 March and Sunday 1 November.
 * Instants are written as ISO 8601 with an explicit offset and read with
 * GLib's parser, so no expectation goes through the code under test.
 */

/* Opens @name, or skips the test when the system lacks its tzdata file. */
static clock_zone *open_zone(const char *name)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	const char *dir = g_getenv("TZDIR");
	clock_zone *zone;

	if (g_strcmp0(name, "UTC") != 0) {
		path = g_build_filename(dir ? dir : "/usr/share/zoneinfo", name,
					NULL);
		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
			g_autofree char *msg =
			    g_strdup_printf("%s missing: install tzdata", path);

			g_test_skip(msg);
			return NULL;
		}
	}
	zone = clock_zone_new(name, &error);
	g_assert_no_error(error);
	g_assert_nonnull(zone);
	return zone;
}

static int64_t iso_ms(const char *iso)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);

	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt) * 1000 +
	       g_date_time_get_microsecond(dt) / 1000;
}

static int32_t day_of(const char *text)
{
	int32_t day = -1;

	g_assert_true(clock_day_parse(text, &day));
	return day;
}

struct day_of_vector {
	const char *name;
	const char *zone;
	const char *instant;
	const char *day;
};

static const struct day_of_vector day_of_vectors[] = {
	/* 23:59:59.999 CET is still the 9th; an hour before UTC midnight. */
	{ "/clock/day-of/berlin/winter-before-midnight", "Europe/Berlin",
	  "2026-03-09T22:59:59.999Z", "2026-03-09" },
	{ "/clock/day-of/berlin/winter-midnight", "Europe/Berlin",
	  "2026-03-09T23:00:00Z", "2026-03-10" },
	{ "/clock/day-of/berlin/summer-before-midnight", "Europe/Berlin",
	  "2026-07-01T21:59:59Z", "2026-07-01" },
	{ "/clock/day-of/berlin/summer-midnight", "Europe/Berlin",
	  "2026-07-01T22:00:00Z", "2026-07-02" },
	/* Local 00:30 on the 2nd while UTC still says the 1st. */
	{ "/clock/day-of/berlin/utc-still-yesterday", "Europe/Berlin",
	  "2026-07-01T22:30:00Z", "2026-07-02" },
	{ "/clock/day-of/berlin/spring-day-start", "Europe/Berlin",
	  "2026-03-28T23:00:00Z", "2026-03-29" },
	{ "/clock/day-of/berlin/fall-repeated-hour", "Europe/Berlin",
	  "2026-10-25T01:30:00Z", "2026-10-25" },
	{ "/clock/day-of/utc/before-midnight", "UTC",
	  "2026-07-01T23:59:59.999Z", "2026-07-01" },
	{ "/clock/day-of/utc/epoch", "UTC", "1970-01-01T00:00:00Z",
	  "1970-01-01" },
	{ "/clock/day-of/new-york/evening", "America/New_York",
	  "2026-07-02T03:59:59Z", "2026-07-01" },
	{ "/clock/day-of/new-york/midnight", "America/New_York",
	  "2026-07-02T04:00:00Z", "2026-07-02" },
	/* Far from the zone file's explicit list: its POSIX rule applies. */
	{ "/clock/day-of/berlin/2100-summer", "Europe/Berlin",
	  "2100-07-01T22:00:00Z", "2100-07-02" },
	{ "/clock/day-of/berlin/9999", "Europe/Berlin", "9999-12-30T23:00:00Z",
	  "9999-12-31" },
};

static void test_day_of(gconstpointer data)
{
	const struct day_of_vector *v = data;
	g_autoptr(clock_zone) zone = open_zone(v->zone);

	if (!zone)
		return;
	g_assert_cmpint(clock_day_of(zone, iso_ms(v->instant)), ==,
			day_of(v->day));
}

struct local_vector {
	const char *name;
	const char *zone;
	const char *day;
	int minute;
	const char *instant;
};

static const struct local_vector local_vectors[] = {
	{ "/clock/local/berlin/winter-midnight", "Europe/Berlin", "2026-03-10",
	  0, "2026-03-10T00:00:00+01:00" },
	{ "/clock/local/berlin/summer-14", "Europe/Berlin", "2026-07-01",
	  14 * 60, "2026-07-01T14:00:00+02:00" },
	{ "/clock/local/berlin/spring-midnight", "Europe/Berlin", "2026-03-29",
	  0, "2026-03-28T23:00:00Z" },
	{ "/clock/local/berlin/spring-01-59", "Europe/Berlin", "2026-03-29",
	  1 * 60 + 59, "2026-03-29T00:59:00Z" },
	/* 02:30 does not exist: read as if the clock had not jumped, which
	 * is 03:30 CEST (GLib's own rule would give 03:00). */
	{ "/clock/local/berlin/spring-gap-02-00", "Europe/Berlin", "2026-03-29",
	  2 * 60, "2026-03-29T03:00:00+02:00" },
	{ "/clock/local/berlin/spring-gap-02-30", "Europe/Berlin", "2026-03-29",
	  2 * 60 + 30, "2026-03-29T03:30:00+02:00" },
	{ "/clock/local/berlin/spring-03-00", "Europe/Berlin", "2026-03-29",
	  3 * 60, "2026-03-29T01:00:00Z" },
	{ "/clock/local/berlin/fall-01-59", "Europe/Berlin", "2026-10-25",
	  1 * 60 + 59, "2026-10-24T23:59:00Z" },
	/* 02:00-02:59 happens twice: the first time, in summer time (GLib's
	 * own rule would take the second). */
	{ "/clock/local/berlin/fall-02-00-first", "Europe/Berlin", "2026-10-25",
	  2 * 60, "2026-10-25T00:00:00Z" },
	{ "/clock/local/berlin/fall-02-30-first", "Europe/Berlin", "2026-10-25",
	  2 * 60 + 30, "2026-10-25T00:30:00Z" },
	{ "/clock/local/berlin/fall-03-00", "Europe/Berlin", "2026-10-25",
	  3 * 60, "2026-10-25T02:00:00Z" },
	{ "/clock/local/berlin/fall-18-00", "Europe/Berlin", "2026-10-25",
	  18 * 60, "2026-10-25T17:00:00Z" },
	{ "/clock/local/berlin/2100-gap", "Europe/Berlin", "2100-03-28",
	  2 * 60 + 30, "2100-03-28T03:30:00+02:00" },
	{ "/clock/local/new-york/spring-gap", "America/New_York", "2026-03-08",
	  2 * 60 + 30, "2026-03-08T03:30:00-04:00" },
	{ "/clock/local/new-york/fall-first", "America/New_York", "2026-11-01",
	  1 * 60 + 30, "2026-11-01T01:30:00-04:00" },
	{ "/clock/local/new-york/winter", "America/New_York", "2026-01-15",
	  23 * 60, "2026-01-16T04:00:00Z" },
	{ "/clock/local/utc/spring", "UTC", "2026-03-29", 2 * 60 + 30,
	  "2026-03-29T02:30:00Z" },
	{ "/clock/local/utc/last-minute", "UTC", "2026-12-31", 1439,
	  "2026-12-31T23:59:00Z" },
};

static void test_local(gconstpointer data)
{
	const struct local_vector *v = data;
	g_autoptr(clock_zone) zone = open_zone(v->zone);
	int64_t t;

	if (!zone)
		return;
	t = clock_local_ms(zone, day_of(v->day), v->minute);
	g_assert_cmpint(t, ==, iso_ms(v->instant));
	if (v->minute == 0)
		g_assert_cmpint(clock_day_start_ms(zone, day_of(v->day)), ==,
				t);
}

struct span_vector {
	const char *name;
	const char *zone;
	const char *day;
	int day_hours;	 /* day_start(D + 1) - day_start(D) */
	int night_hours; /* local 18:00 of D-1 to 14:00 of D */
};

static const struct span_vector span_vectors[] = {
	{ "/clock/span/berlin/normal", "Europe/Berlin", "2026-06-15", 24, 20 },
	{ "/clock/span/berlin/spring", "Europe/Berlin", "2026-03-29", 23, 19 },
	{ "/clock/span/berlin/after-spring", "Europe/Berlin", "2026-03-30", 24,
	  20 },
	{ "/clock/span/berlin/fall", "Europe/Berlin", "2026-10-25", 25, 21 },
	{ "/clock/span/berlin/before-fall", "Europe/Berlin", "2026-10-24", 24,
	  20 },
	{ "/clock/span/new-york/spring", "America/New_York", "2026-03-08", 23,
	  19 },
	{ "/clock/span/new-york/fall", "America/New_York", "2026-11-01", 25,
	  21 },
	{ "/clock/span/utc/spring", "UTC", "2026-03-29", 24, 20 },
};

static void test_span(gconstpointer data)
{
	const struct span_vector *v = data;
	g_autoptr(clock_zone) zone = open_zone(v->zone);
	const int64_t hour_ms = 3600 * 1000;
	int32_t day;

	if (!zone)
		return;
	day = day_of(v->day);
	g_assert_cmpint(clock_day_start_ms(zone, day + 1) -
			    clock_day_start_ms(zone, day),
			==, v->day_hours * hour_ms);
	g_assert_cmpint(clock_local_ms(zone, day, 14 * 60) -
			    clock_local_ms(zone, day - 1, 18 * 60),
			==, v->night_hours * hour_ms);
	/* Every instant of the day maps back to it. */
	g_assert_cmpint(clock_day_of(zone, clock_day_start_ms(zone, day)), ==,
			day);
	g_assert_cmpint(
	    clock_day_of(zone, clock_day_start_ms(zone, day + 1) - 1), ==, day);
}

static void test_zone_unknown(void)
{
	g_autoptr(GError) error = NULL;
	clock_zone *zone = clock_zone_new("Mars/Olympus_Mons", &error);

	g_assert_null(zone);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, "Mars/Olympus_Mons"));

	/* No error location: still refused, nothing leaks. */
	g_assert_null(clock_zone_new("Not/A_Zone", NULL));
}

/* Names that are no IANA zone: refused with a clear error and without the
 * critical warning GLib gives a file that is no zone (this test runs with
 * fatal warnings). */
static const char *const bad_zone_names[] = {
	"../../etc/passwd",
	"/etc/passwd",
	"Europe/../../../../etc/passwd",
	"./UTC",
	"Europe//Berlin",
	"Europe/",
	"/",
	"leapseconds", /* in the zoneinfo directory, no zone */
	"zone.tab",
	"Europe",		      /* a directory */
	"CET-1CEST,M3.5.0,M10.5.0/3", /* a POSIX TZ rule, not a name */
	"+01:00",
	"Europe/Berlin\n",
	/* Longer than any zone name. */
	("0123456789012345678901234567890123456789012345678901234567890123"
	 "456789"),
};

static void test_zone_bad_names(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_zone_names); i++) {
		g_autoptr(GError) error = NULL;
		clock_zone *zone = clock_zone_new(bad_zone_names[i], &error);

		g_assert_null(zone);
		g_assert_nonnull(error);
		g_test_message("%s", error->message);
		g_assert_null(strchr(error->message, '\n'));
		g_assert_true(strstr(error->message, "time zone") ||
			      strstr(error->message, "Time zone"));
	}
}

/* Real IANA names with every character a name has. */
static void test_zone_good_names(void)
{
	static const char *const names[] = {
		"Europe/Berlin", "America/Argentina/Salta", "Etc/GMT+3",
		"Etc/GMT-14",	 "America/Port-au-Prince",  "UTC",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(clock_zone) zone = open_zone(names[i]);

		if (!zone)
			return;
	}
}

/* Reading times: 2000-01-01 to a day after now, both ends included. */
static void test_reading_time(void)
{
	const int64_t now = INT64_C(1772431200000); /* 2026-03-02T06:00Z */

	g_assert_true(clock_reading_time_valid(CLOCK_READING_MIN_MS, now));
	g_assert_false(clock_reading_time_valid(CLOCK_READING_MIN_MS - 1, now));
	g_assert_false(clock_reading_time_valid(0, now));
	g_assert_false(clock_reading_time_valid(INT64_MIN, now));
	g_assert_true(clock_reading_time_valid(now, now));
	g_assert_true(
	    clock_reading_time_valid(now + CLOCK_READING_AHEAD_MS, now));
	g_assert_false(
	    clock_reading_time_valid(now + CLOCK_READING_AHEAD_MS + 1, now));
	g_assert_false(clock_reading_time_valid(INT64_MAX, now));
	/* A "now" at the end of time does not wrap around. */
	g_assert_true(clock_reading_time_valid(now, INT64_MAX));
}

static void test_zone_local(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(clock_zone) by_null = clock_zone_new(NULL, &error);
	g_autoptr(clock_zone) by_empty = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(by_null);
	by_empty = clock_zone_new("", &error);
	g_assert_no_error(error);
	g_assert_nonnull(by_empty);
	g_assert_cmpint(clock_day_start_ms(by_null, 20000), ==,
			clock_day_start_ms(by_empty, 20000));
	clock_zone_free(NULL);
}

struct date_vector {
	const char *name;
	const char *text;
	int32_t day;
	int weekday;
};

static const struct date_vector date_vectors[] = {
	{ "/clock/date/epoch", "1970-01-01", 0, 3 },
	{ "/clock/date/epoch-next", "1970-01-02", 1, 4 },
	{ "/clock/date/leap-2000", "2000-02-29", 11016, 1 },
	{ "/clock/date/2026-spring", "2026-03-29", 20541, 6 },
	{ "/clock/date/2026-after-spring", "2026-03-30", 20542, 0 },
	{ "/clock/date/2026-fall", "2026-10-25", 20751, 6 },
	{ "/clock/date/y2038", "2038-01-19", 24855, 1 },
	{ "/clock/date/9999", "9999-12-31", 2932896, 4 },
};

static void test_date(gconstpointer data)
{
	const struct date_vector *v = data;
	char buf[11];
	int32_t day = -1;

	g_assert_true(clock_day_parse(v->text, &day));
	g_assert_cmpint(day, ==, v->day);
	clock_day_format(v->day, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, v->text);
	g_assert_cmpint(clock_weekday(v->day), ==, v->weekday);
}

struct bad_date_vector {
	const char *name;
	const char *text;
};

static const struct bad_date_vector bad_date_vectors[] = {
	{ "/clock/date/bad/feb-30", "2026-02-30" },
	{ "/clock/date/bad/feb-29-common", "2026-02-29" },
	{ "/clock/date/bad/feb-29-2100", "2100-02-29" },
	{ "/clock/date/bad/apr-31", "2026-04-31" },
	{ "/clock/date/bad/month-13", "2026-13-01" },
	{ "/clock/date/bad/month-0", "2026-00-10" },
	{ "/clock/date/bad/day-0", "2026-01-00" },
	{ "/clock/date/bad/short-fields", "2026-1-1" },
	{ "/clock/date/bad/short-day", "2026-01-1" },
	{ "/clock/date/bad/trailing-junk", "2026-01-01x" },
	{ "/clock/date/bad/trailing-space", "2026-01-01 " },
	{ "/clock/date/bad/trailing-time", "2026-01-01T00:00" },
	{ "/clock/date/bad/leading-space", " 2026-01-01" },
	{ "/clock/date/bad/sign", "+026-01-01" },
	{ "/clock/date/bad/slashes", "2026/01/01" },
	{ "/clock/date/bad/compact", "20260101" },
	{ "/clock/date/bad/five-digit-year", "12026-01-01" },
	{ "/clock/date/bad/empty", "" },
	{ "/clock/date/bad/year-only", "2026" },
};

static void test_bad_date(gconstpointer data)
{
	const struct bad_date_vector *v = data;
	int32_t day = 12345;

	g_assert_false(clock_day_parse(v->text, &day));
	g_assert_cmpint(day, ==, 12345);
}

static void test_date_round_trip(void)
{
	char buf[11], prev[11] = "";

	/* Every day to 9999-12-31: format, parse back, dates ascending. */
	for (int32_t day = 0; day <= 2932896; day++) {
		int32_t back = -1;

		clock_day_format(day, buf, sizeof(buf));
		g_assert_true(clock_day_parse(buf, &back));
		if (back != day)
			g_assert_cmpint(back, ==, day);
		if (strcmp(prev, buf) >= 0)
			g_assert_cmpstr(prev, <, buf);
		if (clock_weekday(day) != (clock_weekday(day - 1) + 1) % 7)
			g_assert_cmpint(clock_weekday(day), ==,
					(clock_weekday(day - 1) + 1) % 7);
		memcpy(prev, buf, sizeof(buf));
	}
	g_assert_false(clock_day_parse(NULL, &(int32_t){ 0 }));
}

static void test_format_small_buffer(void)
{
	char buf[5] = "xxxx";

	clock_day_format(0, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "1970");
}

/*
 * The trust rule (DESIGN §4): synchronised or not × before/after the build
 * floor × before/after the newest stored reading, with and without
 * require-clock-sync.
 */
#define BUILD_MS   INT64_C(1780272000000) /* 2026-06-01 */
#define NEWEST_MS  INT64_C(1788220800000) /* 2026-09-01 */
#define BETWEEN_MS INT64_C(1782864000000) /* 2026-07-01 */
#define AFTER_MS   INT64_C(1790812800000) /* 2026-10-01 */
#define BOOT_1970  INT64_C(5000)	  /* a Pi without an RTC */

struct trust_vector {
	const char *name;
	enum clock_sync sync;
	bool require_sync;
	int64_t wall_ms;
	int64_t newest_ms;
	enum clock_trust want;
};

static const struct trust_vector trust_vectors[] = {
	{ "/clock/trust/sync/before-build", CLOCK_SYNC_YES, false, BOOT_1970,
	  NEWEST_MS, CLOCK_TRUST_NONE },
	{ "/clock/trust/sync/after-build-before-newest", CLOCK_SYNC_YES, false,
	  BETWEEN_MS, NEWEST_MS, CLOCK_TRUST_SYNCHRONISED },
	{ "/clock/trust/sync/after-both", CLOCK_SYNC_YES, false, AFTER_MS,
	  NEWEST_MS, CLOCK_TRUST_SYNCHRONISED },
	{ "/clock/trust/no-sync/before-build", CLOCK_SYNC_NO, false, BOOT_1970,
	  NEWEST_MS, CLOCK_TRUST_NONE },
	{ "/clock/trust/no-sync/after-build-before-newest", CLOCK_SYNC_NO,
	  false, BETWEEN_MS, NEWEST_MS, CLOCK_TRUST_NONE },
	{ "/clock/trust/no-sync/after-both", CLOCK_SYNC_NO, false, AFTER_MS,
	  NEWEST_MS, CLOCK_TRUST_FLOOR },
	{ "/clock/trust/no-sync/at-build", CLOCK_SYNC_NO, false, BUILD_MS, 0,
	  CLOCK_TRUST_NONE },
	{ "/clock/trust/no-sync/at-newest", CLOCK_SYNC_NO, false, NEWEST_MS,
	  NEWEST_MS, CLOCK_TRUST_NONE },
	{ "/clock/trust/no-sync/no-readings", CLOCK_SYNC_NO, false, BETWEEN_MS,
	  0, CLOCK_TRUST_FLOOR },
	{ "/clock/trust/no-sync/newest-before-build", CLOCK_SYNC_NO, false,
	  BUILD_MS + 1, BUILD_MS - 1000, CLOCK_TRUST_FLOOR },
	{ "/clock/trust/unknown/before-build", CLOCK_SYNC_UNKNOWN, false,
	  BOOT_1970, 0, CLOCK_TRUST_NONE },
	{ "/clock/trust/unknown/after-build-before-newest", CLOCK_SYNC_UNKNOWN,
	  false, BETWEEN_MS, NEWEST_MS, CLOCK_TRUST_NONE },
	{ "/clock/trust/unknown/after-both", CLOCK_SYNC_UNKNOWN, false,
	  AFTER_MS, NEWEST_MS, CLOCK_TRUST_FLOOR },
	{ "/clock/trust/strict/sync/before-build", CLOCK_SYNC_YES, true,
	  BOOT_1970, 0, CLOCK_TRUST_NONE },
	{ "/clock/trust/strict/sync/after-build-before-newest", CLOCK_SYNC_YES,
	  true, BETWEEN_MS, NEWEST_MS, CLOCK_TRUST_SYNCHRONISED },
	{ "/clock/trust/strict/no-sync/after-both", CLOCK_SYNC_NO, true,
	  AFTER_MS, NEWEST_MS, CLOCK_TRUST_NONE },
	{ "/clock/trust/strict/unknown/after-both", CLOCK_SYNC_UNKNOWN, true,
	  AFTER_MS, NEWEST_MS, CLOCK_TRUST_FLOOR },
	{ "/clock/trust/strict/unknown/after-build-before-newest",
	  CLOCK_SYNC_UNKNOWN, true, BETWEEN_MS, NEWEST_MS, CLOCK_TRUST_NONE },
};

static void test_trust(gconstpointer data)
{
	const struct trust_vector *v = data;

	g_assert_cmpint(clock_trust(v->sync, v->require_sync, v->wall_ms,
				    BUILD_MS, v->newest_ms),
			==, v->want);
	g_assert_nonnull(clock_trust_name(v->want));
}

/* The boot id: the kernel's UUID, the same on every call. */
static void test_boot_id(void)
{
	const char *id = clock_boot_id();
	g_autofree char *kernel = NULL;

	g_assert_true(g_uuid_string_is_valid(id));
	g_assert_true(clock_boot_id() == id);
	if (g_file_get_contents("/proc/sys/kernel/random/boot_id", &kernel,
				NULL, NULL))
		g_assert_cmpstr(g_strstrip(kernel), ==, id);
	else
		g_test_message("no /proc boot id here: a made-up one");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(day_of_vectors); i++)
		g_test_add_data_func(day_of_vectors[i].name, &day_of_vectors[i],
				     test_day_of);
	for (size_t i = 0; i < G_N_ELEMENTS(local_vectors); i++)
		g_test_add_data_func(local_vectors[i].name, &local_vectors[i],
				     test_local);
	for (size_t i = 0; i < G_N_ELEMENTS(span_vectors); i++)
		g_test_add_data_func(span_vectors[i].name, &span_vectors[i],
				     test_span);
	for (size_t i = 0; i < G_N_ELEMENTS(date_vectors); i++)
		g_test_add_data_func(date_vectors[i].name, &date_vectors[i],
				     test_date);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_date_vectors); i++)
		g_test_add_data_func(bad_date_vectors[i].name,
				     &bad_date_vectors[i], test_bad_date);
	for (size_t i = 0; i < G_N_ELEMENTS(trust_vectors); i++)
		g_test_add_data_func(trust_vectors[i].name, &trust_vectors[i],
				     test_trust);
	g_test_add_func("/clock/boot-id", test_boot_id);
	g_test_add_func("/clock/zone/unknown", test_zone_unknown);
	g_test_add_func("/clock/zone/bad-names", test_zone_bad_names);
	g_test_add_func("/clock/reading-time", test_reading_time);
	g_test_add_func("/clock/zone/good-names", test_zone_good_names);
	g_test_add_func("/clock/zone/local", test_zone_local);
	g_test_add_func("/clock/date/round-trip", test_date_round_trip);
	g_test_add_func("/clock/date/small-buffer", test_format_small_buffer);
	return g_test_run();
}
