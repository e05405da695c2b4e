// SPDX-License-Identifier: MIT
#include "tests/bench/daemon-proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define POLL_US		   10000
#define STOP_TIMEOUT_MS	   10000
#define LOG_TAIL_LINES	   25
#define DEMO_EXIT_GRACE_US (2 * G_USEC_PER_SEC)

void bench_die(const char *what, const GError *error)
{
	fprintf(stderr, "%s: %s%s%s\n", g_get_prgname(), what,
		error ? ": " : "", error ? error->message : "");
	exit(1);
}

static void die_with_parent(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

void bench_find_programs(void)
{
#ifdef RECOVERYD_PATH
	g_setenv("RECOVERYD", RECOVERYD_PATH, FALSE);
#endif
#ifdef BLUEZ_STANDIN_PATH
	g_setenv("BLUEZ_STANDIN", BLUEZ_STANDIN_PATH, FALSE);
#endif
	if (!g_getenv("RECOVERYD"))
		bench_die("set RECOVERYD to the recoveryd binary", NULL);
}

char *bench_make_dir(const char *tmpl)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp(tmpl, &error);

	if (!dir)
		bench_die("temporary directory", error);
	return dir;
}

char *bench_write_config(const char *dir, int port, const char *gateway_extra,
			 const char *people)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(dir, "recoveryd.db", NULL);
	char *path = g_build_filename(dir, "recoveryd.conf", NULL);
	g_autofree char *text = g_strdup_printf(
	    "[gateway]\n"
	    "database=%s\n"
	    "timezone=UTC\n"
	    "require-clock-sync=false\n"
	    "%s"
	    "[mqtt]\n"
	    "host=127.0.0.1\n"
	    "port=%d\n"
	    "%s",
	    db, gateway_extra ? gateway_extra : "", port, people);

	if (!g_file_set_contents(path, text, -1, &error))
		bench_die("writing the configuration", error);
	return path;
}

void bench_print_log_tail(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, BENCH_LOG_NAME, NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	guint n, from;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	lines = g_strsplit(text, "\n", -1);
	n = g_strv_length(lines);
	from = n > LOG_TAIL_LINES ? n - LOG_TAIL_LINES : 0;
	fprintf(stderr, "--- the end of %s ---\n", path);
	for (guint i = from; i < n; i++)
		if (lines[i][0])
			fprintf(stderr, "%s\n", lines[i]);
	fprintf(stderr, "---\n");
}

GSubprocess *bench_spawn_daemon(const char *dir, const char *config,
				StandinBus *bus, const char *const *extra,
				gint64 *t0_us)
{
	g_autoptr(GSubprocessLauncher) l =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GStrvBuilder) sb = g_strv_builder_new();
	g_autofree char *log = g_build_filename(dir, BENCH_LOG_NAME, NULL);
	g_autoptr(GError) error = NULL;
	GSubprocess *p;

	g_strv_builder_add_many(sb, g_getenv("RECOVERYD"), "--config", config,
				NULL);
	for (gsize i = 0; extra && extra[i]; i++)
		g_strv_builder_add(sb, extra[i]);
	g_auto(GStrv) argv = g_strv_builder_end(sb);

	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_set_stdout_file_path(l, log);
	if (bus)
		g_subprocess_launcher_setenv(l, "DBUS_SYSTEM_BUS_ADDRESS",
					     standin_bus_address(bus), TRUE);
	if (t0_us)
		*t0_us = g_get_monotonic_time();
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv, &error);
	if (!p)
		bench_die("starting recoveryd", error);
	return p;
}

bool bench_running(GSubprocess *p)
{
	return g_subprocess_get_identifier(p) != NULL;
}

GPid bench_daemon_pid(GSubprocess *p)
{
	const char *id = g_subprocess_get_identifier(p);

	return id ? (GPid)atoi(id) : 0;
}

/* How it ended, as text: "exit 0", "signal 9", ... */
static char *ending(GSubprocess *p)
{
	if (g_subprocess_get_if_exited(p))
		return g_strdup_printf("exit %d",
				       g_subprocess_get_exit_status(p));
	if (g_subprocess_get_if_signaled(p))
		return g_strdup_printf("signal %d",
				       g_subprocess_get_term_sig(p));
	return g_strdup("?");
}

bool bench_stop_daemon(GSubprocess *p, const char *dir)
{
	gint64 end = g_get_monotonic_time() + STOP_TIMEOUT_MS * 1000;
	g_autofree char *how = NULL;

	if (bench_running(p))
		g_subprocess_send_signal(p, SIGTERM);
	while (bench_running(p) && g_get_monotonic_time() < end)
		g_usleep(POLL_US);
	if (bench_running(p)) {
		fprintf(stderr,
			"%s: recoveryd did not stop within %d ms of SIGTERM: "
			"killed\n",
			g_get_prgname(), STOP_TIMEOUT_MS);
		g_subprocess_force_exit(p);
	}
	g_subprocess_wait(p, NULL, NULL);
	if (g_subprocess_get_if_exited(p) &&
	    g_subprocess_get_exit_status(p) == 0)
		return true;
	how = ending(p);
	fprintf(stderr, "%s: recoveryd ended with %s\n", g_get_prgname(), how);
	bench_print_log_tail(dir);
	return false;
}

bool bench_demo_done(GSubprocess *p, gint64 now, gint64 deadline,
		     gint64 *exited_at, bool *timed_out)
{
	if (!bench_running(p) && !*exited_at)
		*exited_at = now;
	if (*exited_at && now - *exited_at > DEMO_EXIT_GRACE_US)
		return true;
	if (now > deadline) {
		fprintf(stderr, "%s: the demo did not end in time\n",
			g_get_prgname());
		*timed_out = true;
		return true;
	}
	return false;
}

/* --- /proc ---------------------------------------------------------------- */

const struct bench_proc_status bench_no_status = {
	.rss_kb = -1,
	.hwm_kb = -1,
	.anon_kb = -1,
	.file_kb = -1,
};

bool bench_read_status(const char *path, struct bench_proc_status *ret)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	*ret = bench_no_status;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return false;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "VmRSS:"))
			ret->rss_kb = strtol(l + 6, NULL, 10);
		else if (g_str_has_prefix(l, "VmHWM:"))
			ret->hwm_kb = strtol(l + 6, NULL, 10);
		else if (g_str_has_prefix(l, "RssAnon:"))
			ret->anon_kb = strtol(l + 8, NULL, 10);
		else if (g_str_has_prefix(l, "RssFile:"))
			ret->file_kb = strtol(l + 8, NULL, 10);
		else if (g_str_has_prefix(l, "voluntary_ctxt_switches:"))
			ret->voluntary = g_ascii_strtoull(
			    l + strlen("voluntary_ctxt_switches:"), NULL, 10);
		else if (g_str_has_prefix(l, "nonvoluntary_ctxt_switches:"))
			ret->involuntary = g_ascii_strtoull(
			    l + strlen("nonvoluntary_ctxt_switches:"), NULL,
			    10);
	}
	return true;
}

bool bench_read_memory(GPid pid, struct bench_proc_status *ret)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);

	return pid > 0 && bench_read_status(path, ret) && ret->rss_kb >= 0 &&
	       ret->hwm_kb >= 0;
}

/* The sum of @keys' kB in @pid's smaps_rollup, or -1. */
static long read_rollup(GPid pid, const char *const *keys)
{
	g_autofree char *path =
	    g_strdup_printf("/proc/%d/smaps_rollup", (int)pid);
	g_autofree char *text = NULL;
	long sum = 0;

	if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	for (gsize i = 0; keys[i]; i++) {
		g_autofree char *key = g_strdup_printf("\n%s:", keys[i]);
		const char *at = strstr(text, key);

		if (!at)
			return -1;
		sum += strtol(at + strlen(key), NULL, 10);
	}
	return sum;
}

long bench_read_pss(GPid pid)
{
	const char *const keys[] = { "Pss", NULL };

	return read_rollup(pid, keys);
}

long bench_read_uss(GPid pid)
{
	const char *const keys[] = { "Private_Clean", "Private_Dirty", NULL };

	return read_rollup(pid, keys);
}

/* --- broker and probe ----------------------------------------------------- */

broker *bench_start_broker(void)
{
	struct broker_config bc = { .allow_anonymous = true };
	g_autoptr(GError) error = NULL;
	broker *b = broker_new(&bc, &error);

	if (!b)
		bench_die("mosquitto", error);
	return b;
}

probe *bench_start_probe(broker *b, const char *topic)
{
	const char *const topics[] = { topic, NULL };
	g_autoptr(GError) error = NULL;
	probe *pr = probe_new(broker_probe_port(b), NULL, NULL, topics, &error);

	if (!pr)
		bench_die("probe", error);
	return pr;
}

char *bench_alert_date(const char *json)
{
	const char *key = "\"date\":\"";
	const char *at = strstr(json, key);
	const char *close;

	if (!at)
		return NULL;
	at += strlen(key);
	close = strchr(at, '"');
	return close ? g_strndup(at, (gsize)(close - at)) : NULL;
}
