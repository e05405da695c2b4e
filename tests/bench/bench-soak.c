// SPDX-License-Identifier: MIT
/*
 * A month-long soak (issue 20): run on demand, not a test.
 *
 *   build/tests/bench/bench-soak [--days N] [--demo-speed S] [--out DIR]
 *                                [--retention-days N] [--outage-hours H]
 *
 * What runs: the real recoveryd (RECOVERYD, default the build's) in demo
 * mode, `--demo --demo-days N --demo-speed S --demo-radio` (default 30
 * simulated nights at 12 s a simulated day, the first week five times
 * faster: about 4.9 minutes), against a real mosquitto
 * (tests/integration/broker.h) and, on a private bus, the BlueZ stand-in
 * (tests/fakes/bus.h) as the system bus, with retention-days=14.
 *
 * What it exercises, and what not:
 * - The demo household: four people, three of them with a strap all night
 *   (1 Hz heart rate with RR intervals), the fourth (dora) only for a
 *   morning spot check; a bed sensor each, a shared Mi scale, check-ins.
 *   Their packets go through the daemon's decoders, household, store,
 *   mornings, publisher and outbox as the radio's would, but not through
 *   D-Bus: the demo hands them to the daemon directly.
 * - The BlueZ client (--demo-radio) runs against the stand-in, which
 *   offers the demo's four straps as known devices: the daemon connects
 *   and subscribes to each, and each simulated week the stand-in is
 *   restarted (SIGTERM: links drop, the adapter powers off, org.bluez
 *   goes; then a new one): the client must see bluetoothd leave and come
 *   back and connect again. The stand-in sends no notifications (the
 *   household's data come from the demo; in demo mode what the radio
 *   receives is not filed), so the client's reconnect path is soaked, its
 *   notification path is not (bench-ble and bench-daemon measure that).
 * - Each simulated week mosquitto is stopped for --outage-hours (default
 *   12: 03:00 to 15:00, across the mornings, so the alerts and states
 *   wait in the outbox) and started again on the same port.
 *
 * Simulated time, from outside: the demo's clock starts at noon the day
 * before its first morning (its last morning is today, UTC) and advances
 * by the real time elapsed times 86400/S (S/5 in the first simulated
 * week), at most a day per 50 ms tick. At the default speed the daemon
 * keeps up by a wide margin, so the simulated time is computed from the
 * real time since the spawn (its start takes a few ms: a few simulated
 * minutes off at most): a sample per simulated hour is one per S/24 real
 * seconds, approximated. The daemon needs about one CPU second a
 * simulated day: at 2 or 3 s a day on a busy machine it falls behind.
 * The cross-check: the daemon logs each morning's analysis ("night of
 * DATE analysed", with the wall time of day); placed on the computed
 * clock, every one must fall in its date's morning. (The daemon's MQTT
 * messages are no clock: the morning alerts wait for the store's commit
 * every 10 real seconds, live values for a 2 s limit.)
 *
 * Once per simulated hour it writes a row of soak.csv: the simulated
 * time, the daemon's CPU seconds (utime + stime of all threads,
 * cumulative and in that hour; /proc ticks are 10 ms), RssAnon (kB), PSS
 * (kB, smaps_rollup), open fds (/proc/PID/fd), database bytes (the db
 * and its -wal), the outbox's unsent rows (the database opened read-only
 * for each sample and closed at once: WAL lets it read beside the
 * writer), VmRSS and USS (Private_Clean + Private_Dirty, kB) and the
 * week's event in that hour, if any. Then soak.gp (beside this file) draws
 * soak.png with gnuplot, if installed (package gnuplot-nox).
 *
 * The verdict, over the last 14 simulated days (see the bounds below):
 * CPU per day, RssAnon, USS, VmRSS, PSS and fds flat, the database size
 * flat (the
 * retention prunes as much as a night adds), and every restart and
 * outage recovered from. Exit 0 when all hold.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <sqlite3.h>

#include "tests/bench/daemon-proc.h"
#include "tests/support/test-support.h"

#define DEFAULT_DAYS	  30
#define DEFAULT_SPEED	  12.0
#define DEFAULT_RETENTION 14
#define DEFAULT_OUTAGE_H  12
#define OUTAGE_START_H	  3  /* 03:00, before the first wake */
#define RESTART_AT_H	  15 /* bluetoothd restarts at 15:00 */
#define JUDGED_DAYS	  14.0
#define POLL_US		  2000
#define HOUR_MS		  (3600 * INT64_C(1000))
#define DAY_MS		  (24 * HOUR_MS)
#define STATUS_TOPIC	  "recovery/status"
#define DEMO_STRAPS	  4
#define CONNECTED_TEXT	  ": connected, receiving"
/* Where on the computed clock the mornings' analyses must fall: the
 * demo's people get up from about 05:30, alerts go at the latest at
 * 11:00. A drift of the sampling clock over the month would show. */
#define CLOCK_MORNING_EARLIEST_H 4.0
#define CLOCK_MORNING_LATEST_H	 12.0

/*
 * The bounds of "flat", each a least-squares slope over the last 14
 * simulated days times 14 days (the growth the fit says happened):
 *
 * - Memory: 256 KiB for each of RssAnon (heap, stacks), USS (every page
 *   only the daemon maps), VmRSS (every page it has resident, shared ones
 *   whole) and PSS. bench-daemon allows 0.5 MB over 4 weeks once the
 *   pools have their working size (SQLite's page cache fills in the first
 *   nights); the same rate over 2 weeks is 256 KiB, about 18 KiB a
 *   simulated day: keeping one night's RR intervals (some 30,000 a
 *   person, 8 bytes each) would be over it many times, while where in the
 *   day a sample falls (during an analysis or not) moves the fit by a few
 *   pages. PSS also divides each shared library page by the number of
 *   processes mapping it, and that number moves with whatever else runs
 *   (on a shared machine: other people's builds and tests; here also
 *   mosquitto's restarts): PSS growing while RssAnon, USS and VmRSS are
 *   flat is that, not the daemon (anything the daemon adds or touches
 *   shows in USS or VmRSS), and is reported as noise.
 * - fds: 0.5, fitted to each simulated day's median. One descriptor
 *   leaked per restart or outage (two of each in the window) gives a
 *   growth of at least 1; while the broker or the stand-in is down (and
 *   until the straps are back) the count dips for some hours, which moves
 *   an hourly fit by its place in the window but not a day's median.
 * - CPU: per simulated day (the 24 hours summed: a night costs many times
 *   a day's afternoon), 25 % of the window's mean. A cost that grows with
 *   what was served (a list scanned per packet, a table without its
 *   index) grows with the days served: from day 16 to day 30 that is
 *   +88 %; a quarter of that is growth nobody should miss, while the
 *   nights themselves differ (length, club days, check-ins) and the
 *   machine is shared.
 * - Database (db + WAL bytes): the growth over the last 14 days at most
 *   20 % of the growth over the first 14 (before retention-days=14 prunes
 *   anything, the raw rows grow linearly). Past day 14 each hourly prune
 *   deletes what the night 14 days before added and SQLite reuses those
 *   pages; what stays for good (nights, results, weights, a week of sent
 *   outbox rows) is a few kB a day, and the freelist needs about one
 *   night of headroom (1/14, 7 %): without pruning the ratio is about 1.
 */
#define FLAT_MEM_KB    256.0
#define FLAT_FDS       0.5
#define FLAT_CPU_SHARE 0.25
#define FLAT_DB_SHARE  0.20

struct opts {
	int days;
	double speed;
	int retention_days;
	int outage_h;
	char *out;
};

struct sample {
	int64_t hour; /* simulated hours since the demo's start */
	int64_t sim_ms;
	double real_s;
	double cpu_s;
	double cpu_hour_s;
	long anon_kb;
	long pss_kb;
	long rss_kb; /* VmRSS: every resident page, shared ones whole */
	long uss_kb; /* private pages only */
	int fds;
	gint64 db_bytes;
	int outbox; /* -1: could not be read */
	const char *event;
};

static gint cmp_double(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* --- the demo's clock ----------------------------------------------------- */

struct sim_clock {
	int64_t start_ms;     /* noon the day before the first morning */
	int64_t fast_end_ms;  /* midnight before the 8th morning */
	double fast_ms_per_s; /* simulated ms a real second, first week */
	double ms_per_s;      /* afterwards */
	int32_t first_day;
};

static void sim_clock_init(struct sim_clock *c, int days, double speed)
{
	int64_t today = g_get_real_time() / 1000 / DAY_MS;

	c->first_day = (int32_t)(today - days + 1);
	c->start_ms = (int64_t)(c->first_day - 1) * DAY_MS + 12 * HOUR_MS;
	c->fast_end_ms = (int64_t)(c->first_day + 7) * DAY_MS;
	c->ms_per_s = (double)DAY_MS / speed;
	c->fast_ms_per_s = c->ms_per_s * 5;
}

static int64_t sim_clock_at(const struct sim_clock *c, double real_s)
{
	double fast_s =
	    (double)(c->fast_end_ms - c->start_ms) / c->fast_ms_per_s;

	if (real_s <= fast_s)
		return c->start_ms + (int64_t)(real_s * c->fast_ms_per_s);
	return c->fast_end_ms + (int64_t)((real_s - fast_s) * c->ms_per_s);
}

/* Simulated days since the first morning's midnight. */
static double sim_day(const struct sim_clock *c, int64_t sim_ms)
{
	return (double)(sim_ms - (int64_t)c->first_day * DAY_MS) /
	       (double)DAY_MS;
}

static char *sim_text(int64_t sim_ms)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(sim_ms / 1000);

	return t ? g_date_time_format(t, "%Y-%m-%dT%H:%MZ") : g_strdup("?");
}

/* --- /proc and the database ------------------------------------------------
 */

/* utime + stime of all of @pid's threads, in seconds; < 0 if gone. */
static double read_cpu_s(GPid pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) fields = NULL;
	const char *after;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	/* The name in parentheses may hold spaces: fields count from the
	 * last ')'. Field 3 (state) is fields[0]; utime (14) and stime (15)
	 * are fields[11] and fields[12]. */
	after = strrchr(text, ')');
	if (!after)
		return -1;
	fields = g_strsplit(after + 2, " ", 16);
	if (g_strv_length(fields) < 14)
		return -1;
	return (double)(g_ascii_strtoull(fields[11], NULL, 10) +
			g_ascii_strtoull(fields[12], NULL, 10)) /
	       (double)sysconf(_SC_CLK_TCK);
}

static int count_fds(GPid pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int)pid);
	g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
	int n = 0;

	if (!d)
		return -1;
	while (g_dir_read_name(d))
		n++;
	return n;
}

static gint64 file_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (gint64)st.st_size : 0;
}

/* Unsent outbox rows: a read-only connection, closed at once. */
static int outbox_unsent(const char *db)
{
	g_autofree char *uri = g_strdup_printf("file:%s?mode=ro", db);
	sqlite3 *conn = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open_v2(uri, &conn, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			    NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(conn, 500);
		if (sqlite3_prepare_v2(conn,
				       "SELECT count(*) FROM outbox "
				       "WHERE sent_ms IS NULL",
				       -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(conn);
	return n;
}

/* --- the weekly events, in a thread of their own ----------------------------
 */

enum event_kind { EVENT_BROKER_DOWN, EVENT_BROKER_UP, EVENT_BLUEZ_RESTART };

struct event {
	int64_t hour;
	enum event_kind kind;
};

static const char *event_name(enum event_kind k)
{
	switch (k) {
	case EVENT_BROKER_DOWN:
		return "broker-down";
	case EVENT_BROKER_UP:
		return "broker-up";
	case EVENT_BLUEZ_RESTART:
	default:
		return "bluetoothd-restart";
	}
}

struct event_job {
	enum event_kind kind;
	bool ok;
	char *error;
	gint done; /* atomic: the worker has finished it */
};

/*
 * One thread does every stop and start, from the first to the last: they
 * wait (for a port, a bus name), and the sampling loop must not miss
 * simulated hours meanwhile. One thread for all because the broker and the
 * stand-in die with the thread that started them (PR_SET_PDEATHSIG is the
 * thread's, not the process's).
 */
struct events_worker {
	GThread *thread;
	GAsyncQueue *jobs; /* struct event_job *; the worker itself: quit */
	broker *b;
	StandinBus *bus;
	struct event_job job; /* the one in flight, if busy */
	bool busy;
};

static gpointer event_thread(gpointer data)
{
	struct events_worker *w = data;

	for (;;) {
		struct event_job *job = g_async_queue_pop(w->jobs);
		g_autoptr(GError) error = NULL;

		if (job == (gpointer)w)
			return NULL;
		switch (job->kind) {
		case EVENT_BROKER_DOWN:
			broker_stop(w->b);
			job->ok = true;
			break;
		case EVENT_BROKER_UP:
			job->ok = broker_start(w->b, &error);
			break;
		case EVENT_BLUEZ_RESTART:
		default:
			job->ok = standin_restart(w->bus, &error);
			break;
		}
		if (error)
			job->error = g_strdup(error->message);
		g_atomic_int_set(&job->done, 1);
	}
}

static void events_worker_start(struct events_worker *w, broker *b,
				StandinBus *bus)
{
	*w = (struct events_worker){ .jobs = g_async_queue_new(),
				     .b = b,
				     .bus = bus };
	w->thread = g_thread_new("events", event_thread, w);
}

/* Hands @kind to the worker; false if it is still busy with the last. */
static bool events_worker_push(struct events_worker *w, enum event_kind kind)
{
	if (w->busy)
		return false;
	w->job = (struct event_job){ .kind = kind };
	w->busy = true;
	g_async_queue_push(w->jobs, &w->job);
	return true;
}

/* If the job in flight has finished: false if it failed (said why). */
static bool events_worker_poll(struct events_worker *w)
{
	if (!w->busy || !g_atomic_int_get(&w->job.done))
		return true;
	w->busy = false;
	if (!w->job.ok)
		fprintf(stderr, "bench-soak: %s failed: %s\n",
			event_name(w->job.kind),
			w->job.error ? w->job.error : "?");
	g_clear_pointer(&w->job.error, g_free);
	return w->job.ok;
}

/* Waits for the job in flight and ends the thread (and with it the broker
 * and the stand-in it started). Whether the last job went well. */
static bool events_worker_stop(struct events_worker *w)
{
	bool ok = true;

	while (w->busy) {
		ok = events_worker_poll(w);
		g_usleep(POLL_US);
	}
	g_async_queue_push(w->jobs, w);
	g_thread_join(w->thread);
	g_async_queue_unref(w->jobs);
	return ok;
}

static GArray *plan_events(const struct opts *o, const struct sim_clock *c)
{
	GArray *ev = g_array_new(FALSE, FALSE, sizeof(struct event));
	int64_t first_midnight_h =
	    ((int64_t)c->first_day * DAY_MS - c->start_ms) / HOUR_MS;

	/* Week w: the stand-in restarts on day 7w-4, the broker is down on
	 * day 7w-2 (days counted from 0, the first morning's). */
	for (int w = 1; 7 * w - 2 < o->days; w++) {
		int64_t restart_day = 7 * w - 4, outage_day = 7 * w - 2;
		struct event r = { first_midnight_h + restart_day * 24 +
				       RESTART_AT_H,
				   EVENT_BLUEZ_RESTART };
		struct event down = { first_midnight_h + outage_day * 24 +
					  OUTAGE_START_H,
				      EVENT_BROKER_DOWN };
		struct event up = { down.hour + o->outage_h, EVENT_BROKER_UP };

		g_array_append_val(ev, r);
		g_array_append_val(ev, down);
		g_array_append_val(ev, up);
	}
	return ev;
}

/* --- judging ----------------------------------------------------------------
 */

/* The least-squares slope of y over x (n points), or NAN. */
static double slope(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0;

	if (n < 2)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
	}
	return sxx > 0 ? sxy / sxx : NAN;
}

enum metric { M_ANON, M_PSS, M_RSS, M_USS, M_FDS, M_DB };

static double metric_of(const struct sample *s, enum metric m)
{
	switch (m) {
	case M_ANON:
		return (double)s->anon_kb;
	case M_PSS:
		return (double)s->pss_kb;
	case M_RSS:
		return (double)s->rss_kb;
	case M_USS:
		return (double)s->uss_kb;
	case M_FDS:
		return (double)s->fds;
	case M_DB:
	default:
		return (double)s->db_bytes;
	}
}

/* The slope (a simulated day) of metric @m over the samples whose day is
 * in [@from, @to); *@n gets how many. */
static double window_slope(GArray *samples, const struct sim_clock *c,
			   enum metric m, double from, double to, size_t *n)
{
	g_autofree double *x = g_new(double, MAX(samples->len, 1));
	g_autofree double *y = g_new(double, MAX(samples->len, 1));
	size_t k = 0;

	for (guint i = 0; i < samples->len; i++) {
		const struct sample *s =
		    &g_array_index(samples, struct sample, i);
		double day = sim_day(c, s->sim_ms);

		if (day < from || day >= to || metric_of(s, m) < 0)
			continue;
		x[k] = day;
		y[k] = metric_of(s, m);
		k++;
	}
	*n = k;
	return slope(x, y, k);
}

/* The slope of the whole simulated days' medians of @m in [@from, @to). */
static double daily_median_slope(GArray *samples, const struct sim_clock *c,
				 enum metric m, double from, double to,
				 size_t *days)
{
	int lo = (int)ceil(from), hi = (int)floor(to);
	g_autofree double *x = g_new0(double, (gsize)MAX(hi - lo, 1));
	g_autofree double *y = g_new0(double, (gsize)MAX(hi - lo, 1));
	size_t k = 0;

	for (int day = lo; day < hi; day++) {
		g_autoptr(GArray) v = g_array_new(FALSE, FALSE, sizeof(double));

		for (guint i = 0; i < samples->len; i++) {
			const struct sample *s =
			    &g_array_index(samples, struct sample, i);
			double value = metric_of(s, m);

			if ((int)floor(sim_day(c, s->sim_ms)) == day &&
			    value >= 0)
				g_array_append_val(v, value);
		}
		if (v->len < 12)
			continue;
		g_array_sort(v, cmp_double);
		x[k] = day;
		y[k] = g_array_index(v, double, v->len / 2);
		k++;
	}
	*days = k;
	return slope(x, y, k);
}

static const struct sample *sample_at_day(GArray *samples,
					  const struct sim_clock *c, double day)
{
	for (guint i = 0; i < samples->len; i++) {
		const struct sample *s =
		    &g_array_index(samples, struct sample, i);

		if (sim_day(c, s->sim_ms) >= day)
			return s;
	}
	return samples->len
		   ? &g_array_index(samples, struct sample, samples->len - 1)
		   : NULL;
}

static const char *verdict(bool pass)
{
	return pass ? "PASS" : "FAIL";
}

/* CPU seconds per whole simulated day within [@from, @to): the slope of
 * the days' sums and their mean. */
static double cpu_daily(GArray *samples, const struct sim_clock *c, double from,
			double to, double *mean, size_t *days)
{
	int lo = (int)ceil(from), hi = (int)floor(to);
	int n = MAX(hi - lo, 0);
	g_autofree double *x = g_new0(double, MAX(n, 1));
	g_autofree double *y = g_new0(double, MAX(n, 1));
	g_autofree int *hours = g_new0(int, MAX(n, 1));
	size_t k = 0;

	for (guint i = 0; i < samples->len; i++) {
		const struct sample *s =
		    &g_array_index(samples, struct sample, i);
		/* The hour that the row closes. */
		int day = (int)floor(sim_day(c, s->sim_ms - HOUR_MS / 2));

		if (day < lo || day >= hi)
			continue;
		y[day - lo] += s->cpu_hour_s;
		hours[day - lo]++;
	}
	*mean = 0;
	for (int i = 0; i < n; i++) {
		/* A day missing samples would look cheap. */
		if (hours[i] < 23)
			continue;
		x[k] = lo + i;
		y[k] = y[i];
		*mean += y[i];
		k++;
	}
	*days = k;
	*mean = k ? *mean / (double)k : NAN;
	return slope(x, y, k);
}

/* --- the run -----------------------------------------------------------------
 */

static void write_row(FILE *f, const struct sample *s,
		      const struct sim_clock *c)
{
	g_autofree char *t = sim_text(s->sim_ms);

	fprintf(f,
		"%s,%" G_GINT64_FORMAT
		",%.4f,%.2f,%.2f,%.3f,%ld,%ld,%d,%" G_GINT64_FORMAT
		",%d,%ld,%ld,%s\n",
		t, s->hour, sim_day(c, s->sim_ms), s->real_s, s->cpu_s,
		s->cpu_hour_s, s->anon_kb, s->pss_kb, s->fds, s->db_bytes,
		s->outbox, s->rss_kb, s->uss_kb, s->event ? s->event : "");
}

static unsigned count_text(const char *path, const char *needle)
{
	g_autofree char *text = NULL;
	unsigned n = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	for (const char *at = strstr(text, needle); at;
	     at = strstr(at + 1, needle))
		n++;
	return n;
}

struct run {
	const struct opts *o;
	struct sim_clock clock;
	GArray *samples; /* struct sample */
	/* Mornings analysed, per the daemon's log, placed on the computed
	 * clock: hours after their date's midnight. */
	GArray *morning_h; /* double */
	unsigned online;   /* "online" on recovery/status */
	unsigned events_done, events_failed;
};

/* The probe's news: "online" on recovery/status counted. */
static void take_messages(struct run *r, probe *pr, unsigned *seen)
{
	unsigned n = probe_count(pr);

	for (; *seen < n; (*seen)++) {
		g_autoptr(probe_message) m = probe_get(pr, *seen);

		if (m && strcmp(m->topic, STATUS_TOPIC) == 0 &&
		    strcmp(m->payload, "online") == 0)
			r->online++;
	}
}

/* The local time of day in seconds (GLib's log lines carry it). */
static double local_tod_s(GDateTime *t)
{
	return g_date_time_get_hour(t) * 3600.0 +
	       g_date_time_get_minute(t) * 60.0 + g_date_time_get_seconds(t);
}

/*
 * The daemon logs "NAME: night of DATE analysed" when a morning's
 * analysis runs: after the person got up (the bed empty after the night),
 * at the latest at 11:00 when the demo's people have their alerts. Each
 * such line's wall time (time of day, as GLib prints it) is placed on the
 * computed clock; every one must fall in its DATE's morning.
 */
static bool check_clock(struct run *r, const char *log, double spawn_tod_s)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	unsigned off = 0;

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return false;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		const char *at = strstr(lines[i], ": night of ");
		int hh, mm, y, mo, d;
		double ss, since_s, h;
		g_autoptr(GDateTime) date = NULL;

		if (!at || !strstr(at, " analysed") ||
		    sscanf(lines[i], "recoveryd-Message: %d:%d:%lf:", &hh, &mm,
			   &ss) != 3 ||
		    sscanf(at, ": night of %d-%d-%d", &y, &mo, &d) != 3)
			continue;
		date = g_date_time_new_utc(y, mo, d, 0, 0, 0);
		if (!date)
			continue;
		since_s = hh * 3600.0 + mm * 60.0 + ss - spawn_tod_s;
		if (since_s < 0)
			since_s += 86400; /* past midnight */
		h = (double)(sim_clock_at(&r->clock, since_s) -
			     g_date_time_to_unix(date) * 1000) /
		    (double)HOUR_MS;
		g_array_append_val(r->morning_h, h);
		if (h < CLOCK_MORNING_EARLIEST_H || h > CLOCK_MORNING_LATEST_H)
			off++;
	}
	if (!r->morning_h->len) {
		printf("no \"night of ... analysed\" in the daemon's log: the "
		       "computed clock is unchecked  FAIL\n");
		return false;
	}
	g_array_sort(r->morning_h, cmp_double);
	const double *v = (const double *)(const void *)r->morning_h->data;
	guint n = r->morning_h->len;
	printf("the computed clock at the %u mornings' analyses (the daemon's "
	       "log): %.1f-%.1f h after their date's midnight, median %.1f; "
	       "%u outside %.0f-%.0f h  %s\n",
	       n, v[0], v[n - 1], v[n / 2], off, CLOCK_MORNING_EARLIEST_H,
	       CLOCK_MORNING_LATEST_H, verdict(!off));
	return !off;
}

static bool soak(struct run *r, const char *dir)
{
	const struct opts *o = r->o;
	g_autoptr(broker) b = bench_start_broker();
	g_autoptr(probe) pr = bench_start_probe(b, STATUS_TOPIC);
	g_autoptr(GError) error = NULL;
	g_autoptr(StandinBus) bus = NULL;
	g_autofree char *gw =
	    g_strdup_printf("retention-days=%d\n", o->retention_days);
	g_autofree char *config =
	    bench_write_config(dir, broker_port(b), gw, "");
	g_autofree char *db = g_build_filename(dir, "recoveryd.db", NULL);
	g_autofree char *wal = g_build_filename(dir, "recoveryd.db-wal", NULL);
	g_autofree char *log = g_build_filename(dir, BENCH_LOG_NAME, NULL);
	g_autofree char *csv_path = g_build_filename(o->out, "soak.csv", NULL);
	g_autofree char *days = g_strdup_printf("%d", o->days);
	g_autofree char *speed = g_strdup_printf("%g", o->speed);
	const char *const extra[] = { "--demo", "--demo-days",
				      days,	"--demo-speed",
				      speed,	"--demo-radio",
				      NULL };
	g_autoptr(GPtrArray) standin_args =
	    g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) events = NULL;
	struct events_worker worker;
	FILE *csv;
	guint next_event = 0;
	int64_t last_hour = -1;
	double last_cpu = 0, last_real = 0;
	gint64 t0 = 0, exited_at = 0, deadline;
	unsigned seen = 0, restarts = 0, outages = 0;
	const char *pending_event = NULL;
	bool ok = true, timed_out = false;

	bus = standin_bus_new(&error);
	if (!bus)
		bench_die("private bus (dbus-daemon and the stand-in)", error);
	for (int i = 0; i < DEMO_STRAPS; i++)
		g_ptr_array_add(standin_args,
				g_strdup_printf("--device=heart-rate,D0:E3:00:"
						"00:00:%02d,Demo strap %d",
						i + 1, i + 1));
	g_ptr_array_add(standin_args, NULL);
	if (!standin_start(bus, (const char *const *)standin_args->pdata,
			   &error))
		bench_die("starting the stand-in", error);

	csv = fopen(csv_path, "w");
	if (!csv)
		bench_die("cannot write soak.csv", NULL);
	fprintf(csv,
		"sim_time,sim_hour,sim_day,real_s,cpu_s,cpu_hour_s,"
		"rss_anon_kb,pss_kb,fds,db_bytes,outbox_unsent,rss_kb,uss_kb,"
		"event\n");

	sim_clock_init(&r->clock, o->days, o->speed);
	events = plan_events(o, &r->clock);
	double expect_s = o->speed * (1.5 + (o->days - 7.5) + 0.5);
	printf("recoveryd --demo --demo-days %d --demo-speed %s --demo-radio, "
	       "retention-days=%d: about %.0f s\n",
	       o->days, speed, o->retention_days, expect_s);
	printf("each simulated week: bluetoothd (the stand-in) restarts at "
	       "%02d:00 of days 3, 10, ...; mosquitto is down %02d:00-%02d:00 "
	       "of days 5, 12, ...\n",
	       RESTART_AT_H, OUTAGE_START_H, OUTAGE_START_H + o->outage_h);
	fflush(stdout);

	events_worker_start(&worker, b, bus);
	g_autoptr(GDateTime) spawn_wall = g_date_time_new_now_local();
	double spawn_tod_s = local_tod_s(spawn_wall);
	g_autoptr(GSubprocess) p =
	    bench_spawn_daemon(dir, config, bus, extra, &t0);
	GPid pid = bench_daemon_pid(p);
	deadline = t0 + (gint64)((expect_s * 2 + 60) * G_USEC_PER_SEC);

	for (;;) {
		gint64 now = g_get_monotonic_time();
		double real_s = (double)(now - t0) / G_USEC_PER_SEC;
		int64_t sim = sim_clock_at(&r->clock, real_s);
		int64_t hour = (sim - r->clock.start_ms) / HOUR_MS;

		take_messages(r, pr, &seen);
		if (!events_worker_poll(&worker))
			r->events_failed++;
		if (next_event < events->len &&
		    hour >=
			g_array_index(events, struct event, next_event).hour) {
			const struct event *e =
			    &g_array_index(events, struct event, next_event);

			if (events_worker_push(&worker, e->kind)) {
				next_event++;
				pending_event = event_name(e->kind);
				if (e->kind == EVENT_BLUEZ_RESTART)
					restarts++;
				else if (e->kind == EVENT_BROKER_DOWN)
					outages++;
			}
		}
		if (hour > last_hour && bench_running(p)) {
			double cpu = read_cpu_s(pid);
			struct bench_proc_status st;
			struct sample s = {
				.hour = hour,
				.sim_ms = sim,
				.real_s = real_s,
				.cpu_s = cpu,
				.cpu_hour_s = cpu - last_cpu,
				.pss_kb = bench_read_pss(pid),
				.uss_kb = bench_read_uss(pid),
				.fds = count_fds(pid),
				.db_bytes = file_bytes(db) + file_bytes(wal),
				.outbox = outbox_unsent(db),
				.event = pending_event,
			};

			if (cpu >= 0 && bench_read_memory(pid, &st)) {
				s.anon_kb = st.anon_kb;
				s.rss_kb = st.rss_kb;
				/* An hour skipped (the machine stalled us)
				 * gives its CPU to the next: say per hour. */
				if (last_hour >= 0 && hour - last_hour > 1)
					s.cpu_hour_s /=
					    (double)(hour - last_hour);
				g_array_append_val(r->samples, s);
				write_row(csv, &s, &r->clock);
				last_cpu = cpu;
				last_hour = hour;
				last_real = real_s;
				pending_event = NULL;
				if (hour % (24 * 7) == 0) {
					g_autofree char *t = sim_text(sim);

					printf("  %s  day %5.1f  CPU %6.2f s  "
					       "anon %6.2f MB  PSS %6.2f MB  "
					       "fds %3d  db %6.2f MB  "
					       "outbox %d\n",
					       t, sim_day(&r->clock, sim), cpu,
					       (double)s.anon_kb / 1024,
					       (double)s.pss_kb / 1024, s.fds,
					       (double)s.db_bytes / 1048576,
					       s.outbox);
					fflush(stdout);
				}
			}
		}
		if (bench_demo_done(p, now, deadline, &exited_at, &timed_out))
			break;
		g_usleep(POLL_US);
	}
	if (timed_out)
		ok = false;
	fclose(csv);
	if (!bench_stop_daemon(p, dir))
		ok = false;
	if (!events_worker_stop(&worker))
		r->events_failed++;
	r->events_done = next_event;
	if (next_event < events->len) {
		fprintf(stderr,
			"bench-soak: only %u of %u weekly events "
			"happened before the demo ended\n",
			next_event, events->len);
		ok = false;
	}

	unsigned connected = count_text(log, CONNECTED_TEXT);
	printf("\nran %.1f s (last sample at %.1f s); %u samples in %s\n",
	       (double)((exited_at ? exited_at : g_get_monotonic_time()) - t0) /
		   G_USEC_PER_SEC,
	       last_real, r->samples->len, csv_path);
	printf("bluetoothd restarts %u: straps connected %u times (want >= "
	       "%u: %u straps at the start and after each)  %s\n",
	       restarts, connected, DEMO_STRAPS * (restarts + 1), DEMO_STRAPS,
	       verdict(connected >= DEMO_STRAPS * (restarts + 1)));
	printf("broker outages %u: \"online\" published %u times (want >= "
	       "%u)  %s\n",
	       outages, r->online, outages + 1,
	       verdict(r->online >= outages + 1));
	bool clock_ok = check_clock(r, log, spawn_tod_s);
	if (connected < DEMO_STRAPS * (restarts + 1) ||
	    r->online < outages + 1 || !clock_ok || r->events_failed) {
		ok = false;
		bench_print_log_tail(dir);
	}
	return ok;
}

static bool judge(struct run *r)
{
	struct sim_clock *c = &r->clock;
	GArray *s = r->samples;
	size_t n;
	bool ok = true;

	if (s->len < 48) {
		fprintf(stderr, "bench-soak: only %u samples\n", s->len);
		return false;
	}
	/* The first hours are the start itself (a few fds, no heap yet). */
	const struct sample *first = sample_at_day(s, c, 1.0);
	const struct sample *last =
	    &g_array_index(s, struct sample, s->len - 1);
	double end = sim_day(c, last->sim_ms);
	double from = end - JUDGED_DAYS;
	const struct sample *at_from = sample_at_day(s, c, from);

	if (from < 1) {
		fprintf(stderr,
			"bench-soak: %.1f simulated days are too few "
			"to judge the last %.0f\n",
			end, JUDGED_DAYS);
		return false;
	}
	printf("\nover the last %.0f simulated days (day %.1f to %.1f), "
	       "growth = least-squares slope x %.0f days:\n",
	       JUDGED_DAYS, from, end, JUDGED_DAYS);
	printf("%-16s %10s %10s %10s %12s %12s %s\n", "", "at day", "at day",
	       "end", "growth", "bound", "");
	printf("%-16s %10.1f %10.1f %10.1f\n", "", 1.0, from, end);

	static const struct {
		const char *name;
		enum metric m;
		double scale; /* to the unit printed */
		double bound; /* in the metric's own unit */
	} mem[] = {
		{ "RssAnon MB", M_ANON, 1.0 / 1024, FLAT_MEM_KB },
		{ "USS MB", M_USS, 1.0 / 1024, FLAT_MEM_KB },
		{ "VmRSS MB", M_RSS, 1.0 / 1024, FLAT_MEM_KB },
		{ "PSS MB", M_PSS, 1.0 / 1024, FLAT_MEM_KB },
		{ "open fds", M_FDS, 1.0, FLAT_FDS },
	};
	bool own_flat = true; /* RssAnon, USS and VmRSS */
	for (size_t i = 0; i < G_N_ELEMENTS(mem); i++) {
		double k =
		    mem[i].m == M_FDS
			? daily_median_slope(s, c, M_FDS, from, end, &n)
			: window_slope(s, c, mem[i].m, from, end + 1, &n);
		double growth = k * JUDGED_DAYS;
		bool pass = isfinite(growth) && growth <= mem[i].bound;
		const char *said = verdict(pass);

		if (mem[i].m == M_ANON || mem[i].m == M_USS ||
		    mem[i].m == M_RSS)
			own_flat = own_flat && pass;
		/* See FLAT_MEM_KB: PSS alone moving is other processes. */
		if (mem[i].m == M_PSS && !pass && own_flat) {
			said = "NOISE (the daemon's own pages are flat: "
			       "other processes' sharing moved)";
			pass = true;
		}
		printf("%-16s %10.2f %10.2f %10.2f %+12.3f %12.3f %s\n",
		       mem[i].name, metric_of(first, mem[i].m) * mem[i].scale,
		       metric_of(at_from, mem[i].m) * mem[i].scale,
		       metric_of(last, mem[i].m) * mem[i].scale,
		       growth * mem[i].scale, mem[i].bound * mem[i].scale,
		       said);
		ok = ok && pass;
	}

	double cpu_mean, first_mean;
	size_t cpu_days, first_days;
	double cpu_k = cpu_daily(s, c, from, end, &cpu_mean, &cpu_days);
	double cpu_growth = cpu_k * JUDGED_DAYS;
	/* For the record: the first week ran five times faster. */
	(void)cpu_daily(s, c, 7, 14, &first_mean, &first_days);
	bool cpu_pass = cpu_days >= 10 && isfinite(cpu_growth) &&
			cpu_growth <= FLAT_CPU_SHARE * cpu_mean;
	printf("%-16s %10s %10.3f %10s %+12.3f %12.3f %s  (mean of %zu whole "
	       "days; %.3f s/h)\n",
	       "CPU s/day", "", cpu_mean, "", cpu_growth,
	       FLAT_CPU_SHARE * cpu_mean, verdict(cpu_pass), cpu_days,
	       cpu_mean / 24);
	printf("%-16s %10s %10.3f %10s  (days 7-14, for comparison)\n",
	       "CPU s/day", "", first_mean, "");
	ok = ok && cpu_pass;

	size_t n_first;
	double k_first = window_slope(s, c, M_DB, 0, JUDGED_DAYS, &n_first);
	double k_last = window_slope(s, c, M_DB, from, end + 1, &n);
	double g_first = k_first * JUDGED_DAYS, g_last = k_last * JUDGED_DAYS;
	bool db_pass = isfinite(g_first) && g_first > 0 && isfinite(g_last) &&
		       g_last <= FLAT_DB_SHARE * g_first;
	printf("%-16s %10.2f %10.2f %10.2f %+12.3f %12.3f %s  (days 0-14 "
	       "grew %+.3f MB: the retention must stop that)\n",
	       "database MB", (double)first->db_bytes / 1048576,
	       (double)at_from->db_bytes / 1048576,
	       (double)last->db_bytes / 1048576, g_last / 1048576,
	       FLAT_DB_SHARE * g_first / 1048576, verdict(db_pass),
	       g_first / 1048576);
	ok = ok && db_pass;

	int outbox_max = 0;
	for (guint i = 0; i < s->len; i++)
		outbox_max =
		    MAX(outbox_max, g_array_index(s, struct sample, i).outbox);
	bool drained = last->outbox == 0 && outbox_max > 0;
	printf("%-16s %10d %10d %10d   max %d: grew in the outages, "
	       "drained at the end  %s\n",
	       "outbox unsent", first->outbox, at_from->outbox, last->outbox,
	       outbox_max, verdict(drained));
	return ok && drained;
}

static void plot(const struct opts *o)
{
	g_autofree char *gnuplot = g_find_program_in_path("gnuplot");
	g_autofree char *csv = g_build_filename(o->out, "soak.csv", NULL);
	g_autofree char *png = g_build_filename(o->out, "soak.png", NULL);
	const char *script = g_getenv("SOAK_GP");
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	int status = 0;

	if (!gnuplot) {
		printf("gnuplot is not installed (Debian: apt-get install "
		       "gnuplot-nox): no plot; the CSV is %s\n",
		       csv);
		return;
	}
	const char *const args[] = { gnuplot, "-c", script, csv, png, NULL };
	g_auto(GStrv) argv = broker_argv(args);
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
			  &err, &status, &error) ||
	    !g_spawn_check_wait_status(status, &error)) {
		printf("gnuplot %s failed: %s\n%s", script,
		       error ? error->message : "?", err ? err : "");
		return;
	}
	printf("plot: %s\n", png);
}

int main(int argc, char **argv)
{
	struct opts o = { .days = DEFAULT_DAYS,
			  .speed = DEFAULT_SPEED,
			  .retention_days = DEFAULT_RETENTION,
			  .outage_h = DEFAULT_OUTAGE_H };
	GOptionEntry entries[] = {
		{ "days", 0, 0, G_OPTION_ARG_INT, &o.days,
		  "Simulated nights (default 30)", "N" },
		{ "demo-speed", 0, 0, G_OPTION_ARG_DOUBLE, &o.speed,
		  "Real seconds per simulated day (default 12)", "S" },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &o.out,
		  "Where soak.csv and soak.png go (default a new temporary "
		  "directory)",
		  "DIR" },
		{ "retention-days", 0, 0, G_OPTION_ARG_INT, &o.retention_days,
		  "The daemon's retention-days (default 14)", "N" },
		{ "outage-hours", 0, 0, G_OPTION_ARG_INT, &o.outage_h,
		  "Simulated hours the broker is down each week (default 12)",
		  "H" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
	    "- a month of the demo household through recoveryd");
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL;
	struct run r = { .o = &o };
	bool ok;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "bench-soak: %s\n", error->message);
		return 2;
	}
	if (o.days < 21 || o.days > 365 ||
	    !(o.speed >= 0.5 && o.speed <= 600) || o.retention_days < 7 ||
	    o.retention_days > 3650 || o.outage_h < 1 || o.outage_h > 20) {
		fprintf(stderr, "bench-soak: --days takes 21-365, --demo-speed "
				"0.5-600, --retention-days 7-3650, "
				"--outage-hours 1-20\n");
		return 2;
	}
	bench_find_programs();
#ifdef SOAK_GP_PATH
	g_setenv("SOAK_GP", SOAK_GP_PATH, FALSE);
#endif
	if (!o.out)
		o.out = bench_make_dir("bench-soak-XXXXXX");
	else if (g_mkdir_with_parents(o.out, 0755) != 0)
		bench_die("cannot make the --out directory", NULL);
	printf("bench-soak: %s; output in %s\n", g_getenv("RECOVERYD"), o.out);
	if (o.days < o.retention_days + (int)JUDGED_DAYS + 2)
		printf("note: with --days %d and --retention-days %d the "
		       "retention does not prune through the last %.0f days: "
		       "the database will not be flat there\n",
		       o.days, o.retention_days, JUDGED_DAYS);

	dir = bench_make_dir("bench-soak-run-XXXXXX");
	r.samples = g_array_new(FALSE, FALSE, sizeof(struct sample));
	r.morning_h = g_array_new(FALSE, FALSE, sizeof(double));
	ok = soak(&r, dir);
	plot(&o);
	if (!judge(&r))
		ok = false;
	printf("\nbench-soak: %s\n", ok ? "flat: every goal met"
					: "goals missed (or the run failed)");
	if (ok)
		test_remove_tree(dir);
	else
		printf("the daemon's directory (log, database) is kept: %s\n",
		       dir);
	g_array_free(r.samples, TRUE);
	g_array_free(r.morning_h, TRUE);
	g_free(o.out);
	return ok ? 0 : 1;
}
