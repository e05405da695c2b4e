/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the benchmarks that run the real recoveryd share (bench-daemon,
 * bench-soak): its configuration in a temporary directory, the spawn (its
 * output to recoveryd.log there, killed with the benchmark), a clean stop,
 * the figures /proc has of it, a mosquitto and a probe on it. Errors end
 * the benchmark with a message that starts with the program's name.
 */

#include <stdbool.h>

#include <gio/gio.h>
#include <glib.h>

#include "tests/fakes/bus.h"
#include "tests/integration/broker.h"

#define BENCH_LOG_NAME "recoveryd.log"

/* Prints "PRGNAME: @what: @error's message" and exits 1. */
G_NORETURN void bench_die(const char *what, const GError *error);

/*
 * RECOVERYD and BLUEZ_STANDIN from the build (RECOVERYD_PATH and
 * BLUEZ_STANDIN_PATH, compiled in) unless the environment has them; ends
 * the program if RECOVERYD is still unknown.
 */
void bench_find_programs(void);

/* A new temporary directory from @tmpl ("name-XXXXXX"). */
char *bench_make_dir(const char *tmpl);

/*
 * Writes @dir/recoveryd.conf (database @dir/recoveryd.db, UTC, no clock
 * sync needed, the broker 127.0.0.1:@port) with @gateway_extra (lines for
 * [gateway], may be NULL) and @people ([user] sections, may be "") and
 * returns its path.
 */
char *bench_write_config(const char *dir, int port, const char *gateway_extra,
			 const char *people);

/* The last lines of @dir/recoveryd.log, to standard error. */
void bench_print_log_tail(const char *dir);

/*
 * Starts $RECOVERYD --config @config @extra... (NULL-terminated, may be
 * NULL), output to @dir/recoveryd.log, DBUS_SYSTEM_BUS_ADDRESS the
 * stand-in's bus if @bus. *@t0_us (if not NULL) is the monotonic time just
 * before the spawn.
 */
GSubprocess *bench_spawn_daemon(const char *dir, const char *config,
				StandinBus *bus, const char *const *extra,
				gint64 *t0_us);
/* Whether it still runs (GSubprocess reaps it in GLib's worker thread). */
bool bench_running(GSubprocess *p);
/* Its process id, 0 once it has exited. */
GPid bench_daemon_pid(GSubprocess *p);
/* SIGTERM, at most 10 s for it to go, then SIGKILL; waits. Whether it
 * exited 0 (if not, says how it ended and prints the log's end). */
bool bench_stop_daemon(GSubprocess *p, const char *dir);

/*
 * One turn of a loop that follows a demo run to its end, at @now: true
 * once it has been over for 2 s (*@exited_at, 0 until then: messages
 * sent just before the exit may still be on the way) or when @deadline
 * passed (then *@timed_out, said on standard error); false to go on.
 */
bool bench_demo_done(GSubprocess *p, gint64 now, gint64 deadline,
		     gint64 *exited_at, bool *timed_out);

/* --- /proc ---------------------------------------------------------------- */

struct bench_proc_status {
	long rss_kb;
	long hwm_kb;
	long anon_kb; /* RssAnon: heap, stacks, anonymous maps */
	long file_kb; /* RssFile: mapped files, the libraries' pages */
	guint64 voluntary;
	guint64 involuntary;
};

extern const struct bench_proc_status bench_no_status;

/* A /proc/.../status file (of a process or a thread); false if gone. */
bool bench_read_status(const char *path, struct bench_proc_status *ret);
/* /proc/@pid/status; false once its memory is gone (exited). */
bool bench_read_memory(GPid pid, struct bench_proc_status *ret);
/* Pss of @pid in kB (its shares of the pages it shares), or -1. */
long bench_read_pss(GPid pid);
/* Private_Clean + Private_Dirty of @pid in kB (the pages only it maps,
 * whatever other processes do), or -1. */
long bench_read_uss(GPid pid);

/* --- broker and probe ----------------------------------------------------- */

/* A mosquitto allowing anonymous clients. */
broker *bench_start_broker(void);
/* A probe on @b's probe port subscribed to @topic. */
probe *bench_start_probe(broker *b, const char *topic);
/* The "date" of an alert's JSON, or NULL. */
char *bench_alert_date(const char *json);
