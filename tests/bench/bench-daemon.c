// SPDX-License-Identifier: MIT
/*
 * The daemon's own budgets (issue): run on demand, not a test. Each part
 * runs the real recoveryd binary (RECOVERYD, default the build's) against a
 * real mosquitto (tests/integration/broker.h) and, outside demo mode, the
 * BlueZ stand-in on a private bus (tests/fakes/bus.h).
 *
 *   build/tests/bench/bench-daemon [--only rss,idle,strap,start]
 *                                  [--demo-speed S] [--settle S]
 *                                  [--window S] [--strap-window S]
 *                                  [--runs N]
 *
 * (a) rss: `recoveryd --demo --demo-days 56 --demo-speed S` (default 1 s a
 *     simulated day: under a minute). A probe subscribes to
 *     recovery/+/alert and counts the distinct dates of the alerts; at
 *     every 7th date (a simulated week) VmRSS and VmHWM are read from
 *     /proc/PID/status, Pss from /proc/PID/smaps_rollup. Goals (DESIGN
 *     §11): own (anonymous) memory after 8 weeks <= 4 MB, PSS <= 9 MB,
 *     and RSS flat over the last 4 weeks (see FLAT_MB); VmRSS is
 *     printed for the record (the libraries' shared pages count whole).
 * (b) idle: recoveryd with one person whose heart-rate strap the stand-in
 *     does not have, so nothing connects. After --settle seconds (default
 *     15: past start-up's first check, 10 s in) the voluntary and
 *     involuntary context switches of every thread
 *     (/proc/PID/task/TID/status) are summed at the start and the end of a
 *     --window (default 60 s, two MQTT keepalives): wake-ups a second,
 *     overall and per thread. Goal <= 0.2/s (DESIGN §11).
 * (d) strap: recoveryd with one person whose heart-rate strap the stand-in
 *     has, streaming a Heart Rate Measurement a second (62 bpm and its RR
 *     interval) for --strap-window seconds (default 60). RssAnon and PSS
 *     once the stream is flowing (STRAP_WARMUP_S) and at its end, and the
 *     notifications delivered. Goals as (a): own memory <= 4 MB, PSS <= 9
 *     MB, at both samples.
 * (c) start: --runs (default 7) starts as in (b), each with a fresh broker
 *     (no retained "online" left over) and a fresh database: the time from
 *     just before the spawn to the probe receiving recovery/status
 *     "online". Goal <= 100 ms.
 *
 * The daemons' output goes to recoveryd.log in their temporary directory;
 * its tail is printed when something fails.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "tests/bench/daemon-proc.h"
#include "tests/support/test-support.h"

#define DEMO_DAYS	 56
#define WEEKS		 (DEMO_DAYS / 7)
#define DEFAULT_SPEED	 1.0
#define DEFAULT_SETTLE_S 15
#define DEFAULT_WINDOW_S 60
#define DEFAULT_RUNS	 7
#define MAX_RUNS	 101
/* DESIGN §11: the daemon's own (anonymous) memory and its share of the
 * pages it shares; VmRSS counts the mandated libraries' pages whole. */
#define ANON_BUDGET_MB	     4.0
#define PSS_BUDGET_MB	     9.0
#define WAKEUP_BUDGET_HZ     0.2
#define START_BUDGET_MS	     100.0
#define POLL_US		     10000
#define ONLINE_TIMEOUT_MS    10000
#define STATUS_TOPIC	     "recovery/status"
#define ALERT_TOPICS	     "recovery/+/alert"
#define STRAP		     "00:AA:01:01:00:01" /* not in the stand-in */
#define LIVE_STRAP	     "00:AA:01:01:00:02" /* (d): in the stand-in */
#define DEFAULT_STRAP_S	     60
#define STRAP_WARMUP_S	     5
#define SUBSCRIBE_TIMEOUT_MS 20000

/*
 * "Flat": RSS at week 8 at most this much above RSS at week 4. By week 4
 * every pool that grows with use has reached its working size: SQLite's
 * page cache (default cache_size, 2000 KiB) fills in the first nights, and
 * each morning's analysis allocates and frees about as much as the last.
 * Whatever still grows after that grows with the days served, and would
 * pass any budget in time. 0.5 MB in 28 days is 18 KiB a day: keeping one
 * night's RR intervals (some 30,000 a person, 8 bytes each) would be over it
 * many times, while where in the simulated day a sample falls (during an
 * analysis or not) moves RSS by a few pages.
 */
#define FLAT_MB 0.5

struct opts {
	double speed;
	int settle_s;
	int window_s;
	int runs;
	int strap_s;
	bool rss, idle, strap, start;
};

struct thread_sample {
	int tid;
	char name[32];
	guint64 voluntary;
	guint64 involuntary;
};

static gint by_tid(gconstpointer a, gconstpointer b)
{
	const struct thread_sample *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Every thread of @pid now, by thread id. */
static GArray *sample_threads(GPid pid)
{
	g_autofree char *task = g_strdup_printf("/proc/%d/task", (int)pid);
	g_autoptr(GDir) d = g_dir_open(task, 0, NULL);
	GArray *ret = g_array_new(FALSE, TRUE, sizeof(struct thread_sample));
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *status =
		    g_build_filename(task, name, "status", NULL);
		g_autofree char *comm =
		    g_build_filename(task, name, "comm", NULL);
		g_autofree char *text = NULL;
		struct thread_sample t = { .tid = atoi(name) };
		struct bench_proc_status st;

		if (!bench_read_status(status, &st))
			continue; /* the thread ended meanwhile */
		t.voluntary = st.voluntary;
		t.involuntary = st.involuntary;
		if (g_file_get_contents(comm, &text, NULL, NULL))
			g_strlcpy(t.name, g_strchomp(text), sizeof(t.name));
		g_array_append_val(ret, t);
	}
	g_array_sort(ret, by_tid);
	return ret;
}

/* --- the probe ------------------------------------------------------------ */

/* The arrival time of the first "online" on recovery/status, waiting at
 * most @timeout_ms; 0 if none came or the daemon ended first. */
static gint64 wait_online(probe *pr, GSubprocess *p, unsigned timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	unsigned from = 0;

	do {
		unsigned n = probe_count(pr);

		for (; from < n; from++) {
			g_autoptr(probe_message) m = probe_get(pr, from);

			if (m && strcmp(m->topic, STATUS_TOPIC) == 0 &&
			    strcmp(m->payload, "online") == 0)
				return m->received_us;
		}
		if (!bench_running(p))
			return 0;
		g_usleep(1000);
	} while (g_get_monotonic_time() < end);
	return 0;
}

static double mb(long kb)
{
	return (double)kb / 1024.0;
}

static const char *verdict(bool pass)
{
	return pass ? "PASS" : "FAIL";
}

/* --- (a) resident memory over 8 simulated weeks -------------------------- */

struct week_sample {
	char date[16];
	double elapsed_s;	    /* since the spawn */
	struct bench_proc_status m; /* rss_kb < 0: none */
	long pss_kb;		    /* -1: none */
	bool stale;		    /* gone by then: the last sample before */
};

static bool bench_rss(const struct opts *o)
{
	g_autoptr(broker) b = bench_start_broker();
	g_autoptr(probe) pr = bench_start_probe(b, ALERT_TOPICS);
	g_autofree char *dir = bench_make_dir("bench-daemon-XXXXXX");
	g_autofree char *config =
	    bench_write_config(dir, broker_port(b), NULL, "[user alice]\n");
	g_autofree char *days = g_strdup_printf("%d", DEMO_DAYS);
	g_autofree char *speed = g_strdup_printf("%g", o->speed);
	const char *const extra[] = { "--demo",	      "--demo-days", days,
				      "--demo-speed", speed,	     NULL };
	g_autoptr(GHashTable) dates =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct week_sample weeks[WEEKS + 1];
	struct bench_proc_status last = bench_no_status;
	/* The first week's days go five times faster (calibration). */
	double expect_s = o->speed * (7 / 5.0 + (DEMO_DAYS - 7));
	gint64 t0 = 0, exited_at = 0, deadline;
	unsigned seen = 0;
	int sampled = 0;
	bool ok = true, logged, timed_out = false;

	printf("(a) resident memory: recoveryd --demo --demo-days %d "
	       "--demo-speed %s (about %.0f s)\n",
	       DEMO_DAYS, speed, expect_s);
	printf("%5s %-11s %6s %7s %8s %8s %8s %8s\n", "week", "date", "at s",
	       "RSS MB", "anon MB", "file MB", "PSS MB", "peak MB");
	fflush(stdout);
	for (int i = 0; i <= WEEKS; i++)
		weeks[i] =
		    (struct week_sample){ .m = bench_no_status, .pss_kb = -1 };
	g_autoptr(GSubprocess) p =
	    bench_spawn_daemon(dir, config, NULL, extra, &t0);
	GPid pid = bench_daemon_pid(p);
	deadline = t0 + (gint64)((expect_s * 2 + 60) * G_USEC_PER_SEC);

	for (;;) {
		gint64 now = g_get_monotonic_time();
		unsigned n = probe_count(pr);
		struct bench_proc_status m;

		if (bench_read_memory(pid, &m))
			last = m;
		for (; seen < n; seen++) {
			g_autoptr(probe_message) msg = probe_get(pr, seen);
			g_autofree char *date =
			    msg ? bench_alert_date(msg->payload) : NULL;
			guint count;
			struct week_sample *w;

			if (!date || g_hash_table_contains(dates, date))
				continue;
			count = g_hash_table_size(dates) + 1;
			if (count % 7 || count / 7 > WEEKS) {
				g_hash_table_add(dates, g_steal_pointer(&date));
				continue;
			}
			w = &weeks[count / 7];
			g_strlcpy(w->date, date, sizeof(w->date));
			g_hash_table_add(dates, g_steal_pointer(&date));
			w->elapsed_s = (double)(now - t0) / G_USEC_PER_SEC;
			w->stale = !bench_read_memory(pid, &w->m);
			if (w->stale)
				w->m = last;
			else
				w->pss_kb = bench_read_pss(pid);
			sampled = (int)(count / 7);
			printf("%5u %-11s %6.1f %7.2f %8.2f %8.2f %8.2f "
			       "%8.2f%s\n",
			       count / 7, w->date, w->elapsed_s,
			       mb(w->m.rss_kb), mb(w->m.anon_kb),
			       mb(w->m.file_kb), mb(w->pss_kb), mb(w->m.hwm_kb),
			       w->stale ? " (had exited: the last sample "
					  "before)"
					: "");
			fflush(stdout);
		}
		if (bench_demo_done(p, now, deadline, &exited_at, &timed_out))
			break;
		g_usleep(POLL_US);
	}
	if (timed_out)
		ok = false;
	/* On failure stop_daemon prints the end of the log. */
	logged = !bench_stop_daemon(p, dir);
	if (logged)
		ok = false;
	printf("demo ended after %.1f s; alerts for %u distinct dates "
	       "(asked for %d days)\n",
	       (double)((exited_at ? exited_at : g_get_monotonic_time()) - t0) /
		   G_USEC_PER_SEC,
	       g_hash_table_size(dates), DEMO_DAYS);
	if (sampled < WEEKS || weeks[4].m.rss_kb < 0 ||
	    weeks[WEEKS].m.rss_kb < 0) {
		fprintf(stderr, "bench-daemon: only %d of %d weeks sampled\n",
			sampled, WEEKS);
		if (!logged)
			bench_print_log_tail(dir);
		test_remove_tree(dir);
		return false;
	}

	double peak = mb(MAX(last.hwm_kb, weeks[WEEKS].m.hwm_kb));
	double w4 = mb(weeks[4].m.rss_kb), w8 = mb(weeks[WEEKS].m.rss_kb);
	double anon = mb(weeks[WEEKS].m.anon_kb);
	double pss = mb(weeks[WEEKS].pss_kb);
	double growth = w8 - w4;
	bool anon_under = anon <= ANON_BUDGET_MB;
	bool pss_under = weeks[WEEKS].pss_kb >= 0 && pss <= PSS_BUDGET_MB;
	bool flat = growth <= FLAT_MB;

	printf("peak (VmHWM, last sample)    %7.2f MB  (for the record)\n",
	       peak);
	printf("RSS at week 4                %7.2f MB\n", w4);
	printf("RSS at week 8                %7.2f MB  (for the record: "
	       "counts the libraries' shared pages whole)\n",
	       w8);
	printf("  anonymous (own) at week 8  %7.2f MB  %s <= %.0f MB "
	       "(heap, stacks, maps)\n",
	       anon, verdict(anon_under), ANON_BUDGET_MB);
	printf("  file-backed at week 8      %7.2f MB  (libraries' pages, "
	       "shared with other processes)\n",
	       mb(weeks[WEEKS].m.file_kb));
	printf("  PSS at week 8              %7.2f MB  %s <= %.0f MB (shared "
	       "pages divided among their users)\n",
	       pss, verdict(pss_under), PSS_BUDGET_MB);
	printf("growth over the last 4 weeks %+7.2f MB (%+.1f %%)  %s flat "
	       "(<= %.1f MB)\n",
	       growth, 100.0 * growth / w4, verdict(flat), FLAT_MB);
	test_remove_tree(dir);
	return ok && anon_under && pss_under && flat;
}

/* --- (b) idle wake-ups ---------------------------------------------------- */

/*
 * One person, one strap that is not there. morning-latest at the end of the
 * day: otherwise, run after 11:00, the first morning check (10 s after the
 * start) announces today's empty night, a once-a-day burst of commits and
 * publishes that would land in the window and is not what idle costs.
 */
static char *idle_people(void)
{
	return g_strdup_printf("[user alice]\n"
			       "heart-rate=%s\n"
			       "morning-latest=23:59:59\n",
			       STRAP);
}

static const struct thread_sample *find_thread(GArray *a, int tid)
{
	struct thread_sample key = { .tid = tid };
	guint i;

	if (!g_array_binary_search(a, &key, by_tid, &i))
		return NULL;
	return &g_array_index(a, struct thread_sample, i);
}

static bool bench_idle(const struct opts *o, StandinBus *bus)
{
	g_autoptr(broker) b = bench_start_broker();
	g_autoptr(probe) pr = bench_start_probe(b, STATUS_TOPIC);
	g_autofree char *dir = bench_make_dir("bench-daemon-XXXXXX");
	g_autofree char *people = idle_people();
	g_autofree char *config =
	    bench_write_config(dir, broker_port(b), NULL, people);
	guint64 total = 0;
	unsigned ended = 0;
	bool ok = true;

	printf("\n(b) idle wake-ups: one strap that is not there, %d s to "
	       "settle, then %d s\n",
	       o->settle_s, o->window_s);
	fflush(stdout);
	g_autoptr(GSubprocess) p =
	    bench_spawn_daemon(dir, config, bus, NULL, NULL);
	GPid pid = bench_daemon_pid(p);
	if (!wait_online(pr, p, ONLINE_TIMEOUT_MS)) {
		fprintf(stderr, "bench-daemon: no \"online\" from recoveryd\n");
		/* On failure stop_daemon prints the end of the log. */
		if (bench_stop_daemon(p, dir))
			bench_print_log_tail(dir);
		test_remove_tree(dir);
		return false;
	}
	g_usleep((gulong)o->settle_s * G_USEC_PER_SEC);

	gint64 t0 = g_get_monotonic_time();
	g_autoptr(GArray) before = sample_threads(pid);
	g_usleep((gulong)o->window_s * G_USEC_PER_SEC);
	g_autoptr(GArray) after = sample_threads(pid);
	gint64 t1 = g_get_monotonic_time();
	double window = (double)(t1 - t0) / G_USEC_PER_SEC;
	struct bench_proc_status mem;
	long pss = bench_read_pss(pid);

	if (!bench_running(p) || !after->len) {
		fprintf(stderr, "bench-daemon: recoveryd ended while idle\n");
		ok = false;
	}
	printf("%7s %-16s %10s %12s %9s\n", "tid", "thread", "voluntary",
	       "involuntary", "wake-ups/s");
	for (guint i = 0; i < after->len; i++) {
		const struct thread_sample *a =
		    &g_array_index(after, struct thread_sample, i);
		const struct thread_sample *bf = find_thread(before, a->tid);
		guint64 v = a->voluntary - (bf ? bf->voluntary : 0);
		guint64 nv = a->involuntary - (bf ? bf->involuntary : 0);

		total += v + nv;
		printf("%7d %-16s %10" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT
		       " %9.2f%s\n",
		       a->tid, a->name, v, nv, (double)(v + nv) / window,
		       bf ? "" : " (started in the window)");
	}
	for (guint i = 0; i < before->len; i++)
		if (!find_thread(
			after,
			g_array_index(before, struct thread_sample, i).tid))
			ended++;
	if (ended)
		printf("(%u threads ended in the window: their switches are "
		       "not counted)\n",
		       ended);
	double rate = (double)total / window;
	printf("all threads: %" G_GUINT64_FORMAT
	       " switches in %.1f s = %.2f wake-ups/s  %s <= %.1f/s\n",
	       total, window, rate, verdict(rate <= WAKEUP_BUDGET_HZ),
	       WAKEUP_BUDGET_HZ);
	if (bench_read_memory(pid, &mem))
		printf("memory at the end: RSS %.2f MB (anon %.2f, file %.2f), "
		       "PSS %.2f MB, peak %.2f MB\n",
		       mb(mem.rss_kb), mb(mem.anon_kb), mb(mem.file_kb),
		       mb(pss), mb(mem.hwm_kb));
	if (!bench_stop_daemon(p, dir))
		ok = false;
	test_remove_tree(dir);
	return ok && rate <= WAKEUP_BUDGET_HZ;
}

/* --- (d) memory under a strap at 1 Hz ------------------------------------ */

/* 0x16: u8 heart rate, contact detected, RR present; 62 bpm and its RR
 * interval, 991/1024 s (968 ms): what a strap worn at rest sends. */
static const guint8 live_hrm[] = { 0x16, 62, 0xdf, 0x03 };

struct mem_sample {
	struct bench_proc_status m;
	long pss_kb;
};

static bool sample_memory(GPid pid, struct mem_sample *ret)
{
	ret->pss_kb = bench_read_pss(pid);
	return bench_read_memory(pid, &ret->m) && ret->pss_kb >= 0;
}

static bool bench_strap(const struct opts *o, StandinBus *bus)
{
	g_autoptr(broker) b = bench_start_broker();
	g_autoptr(probe) pr = bench_start_probe(b, STATUS_TOPIC);
	g_autofree char *dir = bench_make_dir("bench-daemon-XXXXXX");
	g_autofree char *people = g_strdup_printf("[user alice]\n"
						  "heart-rate=%s\n"
						  "morning-latest=23:59:59\n",
						  LIVE_STRAP);
	g_autofree char *config =
	    bench_write_config(dir, broker_port(b), NULL, people);
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	struct mem_sample at[2];
	const char *when[2] = { "stream flowing", "stream end" };
	guint count = (guint)(o->strap_s + STRAP_WARMUP_S);
	guint delivered;
	bool ok = true;

	printf("\n(d) a strap at 1 Hz with RR: %d s, memory at %d s and at "
	       "the end\n",
	       o->strap_s, STRAP_WARMUP_S);
	fflush(stdout);
	path = standin_add_device(bus, LIVE_STRAP, "HRM-Bench", "heart-rate",
				  NULL, &error);
	if (!path)
		bench_die("adding the strap to the stand-in", error);
	g_autoptr(GSubprocess) p =
	    bench_spawn_daemon(dir, config, bus, NULL, NULL);
	GPid pid = bench_daemon_pid(p);
	if (!wait_online(pr, p, ONLINE_TIMEOUT_MS) ||
	    !standin_wait_subscribed(bus, LIVE_STRAP, SUBSCRIBE_TIMEOUT_MS)) {
		fprintf(stderr, "bench-daemon: recoveryd not online, or not "
				"subscribed to the strap\n");
		if (bench_stop_daemon(p, dir))
			bench_print_log_tail(dir);
		test_remove_tree(dir);
		return false;
	}
	standin_stream_start(bus, LIVE_STRAP, "2a37", live_hrm,
			     sizeof(live_hrm), 1, count);
	g_usleep(STRAP_WARMUP_S * G_USEC_PER_SEC);
	if (!sample_memory(pid, &at[0]))
		ok = false;
	delivered = standin_stream_delivered(bus, LIVE_STRAP, "2a37", count,
					     o->strap_s + 30);
	if (!sample_memory(pid, &at[1]))
		ok = false;
	if (!ok || !bench_running(p)) {
		fprintf(stderr, "bench-daemon: recoveryd ended while "
				"streaming\n");
		bench_stop_daemon(p, dir);
		test_remove_tree(dir);
		return false;
	}
	printf("%-16s %7s %8s %8s %8s %8s\n", "", "RSS MB", "anon MB",
	       "file MB", "PSS MB", "peak MB");
	for (int i = 0; i < 2; i++)
		printf("%-16s %7.2f %8.2f %8.2f %8.2f %8.2f\n", when[i],
		       mb(at[i].m.rss_kb), mb(at[i].m.anon_kb),
		       mb(at[i].m.file_kb), mb(at[i].pss_kb),
		       mb(at[i].m.hwm_kb));
	printf("notifications delivered: %u of %u\n", delivered, count);
	for (int i = 0; i < 2; i++) {
		bool anon_under = mb(at[i].m.anon_kb) <= ANON_BUDGET_MB;
		bool pss_under = mb(at[i].pss_kb) <= PSS_BUDGET_MB;

		printf("  %-15s anonymous (own) %5.2f MB %s <= %.0f MB, PSS "
		       "%5.2f MB %s <= %.0f MB\n",
		       when[i], mb(at[i].m.anon_kb), verdict(anon_under),
		       ANON_BUDGET_MB, mb(at[i].pss_kb), verdict(pss_under),
		       PSS_BUDGET_MB);
		if (!anon_under || !pss_under)
			ok = false;
	}
	if (delivered != count) {
		fprintf(stderr,
			"bench-daemon: %u of %u notifications "
			"delivered\n",
			delivered, count);
		ok = false;
	}
	if (!bench_stop_daemon(p, dir))
		ok = false;
	test_remove_tree(dir);
	return ok;
}

/* --- (c) start to "online" ------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One start: ms from the spawn to "online", or a negative number. */
static double start_once(StandinBus *bus)
{
	g_autoptr(broker) b = bench_start_broker();
	g_autoptr(probe) pr = bench_start_probe(b, STATUS_TOPIC);
	g_autofree char *dir = bench_make_dir("bench-daemon-XXXXXX");
	g_autofree char *people = idle_people();
	g_autofree char *config =
	    bench_write_config(dir, broker_port(b), NULL, people);
	gint64 t0 = 0, online;
	double ms = -1;

	g_autoptr(GSubprocess) p =
	    bench_spawn_daemon(dir, config, bus, NULL, &t0);
	online = wait_online(pr, p, ONLINE_TIMEOUT_MS);
	if (online)
		ms = (double)(online - t0) / 1000.0;
	else
		fprintf(stderr, "bench-daemon: no \"online\" from recoveryd\n");
	if (!bench_stop_daemon(p, dir))
		ms = -1;
	else if (!online)
		bench_print_log_tail(dir);
	test_remove_tree(dir);
	return ms;
}

static bool bench_start(const struct opts *o, StandinBus *bus)
{
	double ms[MAX_RUNS];
	int n = 0;

	printf("\n(c) start to \"online\": %d runs, each with a fresh broker "
	       "and database\n",
	       o->runs);
	fflush(stdout);
	for (int i = 0; i < o->runs; i++) {
		double t = start_once(bus);

		if (t < 0) {
			printf("run %d failed\n", i + 1);
			continue;
		}
		printf("run %d %7.1f ms\n", i + 1, t);
		fflush(stdout);
		ms[n++] = t;
	}
	if (!n)
		return false;
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
	printf("start to online: median %.1f ms, min %.1f, max %.1f (%d "
	       "runs)  %s <= %.0f ms\n",
	       median, ms[0], ms[n - 1], n, verdict(median <= START_BUDGET_MS),
	       START_BUDGET_MS);
	return n == o->runs && median <= START_BUDGET_MS;
}

/* --- main ----------------------------------------------------------------- */

static bool parse_only(const char *text, struct opts *o)
{
	g_auto(GStrv) names = g_strsplit(text, ",", -1);

	o->rss = o->idle = o->strap = o->start = false;
	for (guint i = 0; names[i]; i++) {
		if (strcmp(names[i], "rss") == 0)
			o->rss = true;
		else if (strcmp(names[i], "idle") == 0)
			o->idle = true;
		else if (strcmp(names[i], "strap") == 0)
			o->strap = true;
		else if (strcmp(names[i], "start") == 0)
			o->start = true;
		else
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct opts o = { .speed = DEFAULT_SPEED,
			  .settle_s = DEFAULT_SETTLE_S,
			  .window_s = DEFAULT_WINDOW_S,
			  .runs = DEFAULT_RUNS,
			  .strap_s = DEFAULT_STRAP_S,
			  .rss = true,
			  .idle = true,
			  .strap = true,
			  .start = true };
	g_autofree char *only = NULL;
	GOptionEntry entries[] = {
		{ "only", 0, 0, G_OPTION_ARG_STRING, &only,
		  "Parts to run (default all)", "rss,idle,strap,start" },
		{ "demo-speed", 0, 0, G_OPTION_ARG_DOUBLE, &o.speed,
		  "(a) seconds per simulated day (default 1)", "S" },
		{ "settle", 0, 0, G_OPTION_ARG_INT, &o.settle_s,
		  "(b) seconds before the window (default 15)", "S" },
		{ "window", 0, 0, G_OPTION_ARG_INT, &o.window_s,
		  "(b) seconds counted (default 60)", "S" },
		{ "strap-window", 0, 0, G_OPTION_ARG_INT, &o.strap_s,
		  "(d) seconds of the strap streaming (default 60)", "S" },
		{ "runs", 0, 0, G_OPTION_ARG_INT, &o.runs,
		  "(c) starts timed (default 7)", "N" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
	    "- the daemon's memory, idle and start budgets");
	g_autoptr(GError) error = NULL;
	g_autoptr(StandinBus) bus = NULL;
	bool ok = true;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "bench-daemon: %s\n", error->message);
		return 2;
	}
	if ((only && !parse_only(only, &o)) ||
	    !(o.speed >= 0.05 && o.speed <= 86400) || o.settle_s < 0 ||
	    o.window_s < 1 || o.strap_s < 1 || o.strap_s > 86400 ||
	    o.runs < 1 || o.runs > MAX_RUNS) {
		fprintf(stderr, "bench-daemon: --only takes "
				"rss,idle,strap,start; --demo-speed "
				"0.05-86400, --window >= 1, --strap-window "
				"1-86400, --runs 1-101\n");
		return 2;
	}
	bench_find_programs();
	printf("bench-daemon: %s\n", g_getenv("RECOVERYD"));

	if (o.rss && !bench_rss(&o))
		ok = false;
	if (o.idle || o.strap || o.start) {
		bus = standin_bus_new(&error);
		if (!bus)
			bench_die("private bus", error);
		if (!standin_start(bus, NULL, &error))
			bench_die("starting the stand-in", error);
	}
	if (o.idle && !bench_idle(&o, bus))
		ok = false;
	if (o.strap && !bench_strap(&o, bus))
		ok = false;
	if (o.start && !bench_start(&o, bus))
		ok = false;
	printf("\nbench-daemon: %s\n",
	       ok ? "every budget met" : "budgets missed (or runs failed)");
	return ok ? 0 : 1;
}
