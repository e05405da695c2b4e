/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "gateway/engine/metrics.h"

/*
 * The SQLite store: one writer, WAL, synchronous=FULL, prepared
 * statements, schema versioned with forward migrations, file mode 0600.
 *
 * Raw readings (store_add_*) join an open batch that is committed when it
 * holds batch_rows rows or is batch_ms old, so an SD card is not written
 * every second; a crash loses at most the open batch. Everything else
 * (nights, results, outbox rows) commits at once, taking the open batch
 * with it. Each reading has a natural key (user, time[, kind]): the same
 * reading stored twice is stored once.
 *
 * When the disk cannot take a write (full, gone read-only, an I/O error,
 * the file locked by another program), no reading is lost while memory
 * lasts: see "storage health" below. A stored row that does not read back
 * is skipped and reported, not an error: see "damaged rows".
 *
 * Errors are GErrors in STORE_ERROR; nothing here logs.
 */

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);

enum store_error_code {
	STORE_ERROR_OPEN,    /* cannot open or create the file */
	STORE_ERROR_SCHEMA,  /* newer schema than this program, or migration
				failed */
	STORE_ERROR_SQL,     /* any other SQLite failure */
	STORE_ERROR_INVALID, /* an argument out of range */
	STORE_ERROR_CORRUPT, /* a stored row has an unexpected type or value;
				the message names table, column and row */
	STORE_ERROR_UNAVAILABLE, /* writes are failing (store_get_health):
				    nothing was written; try again later */
};

typedef struct store store;

struct store_reading;

struct store_options {
	unsigned batch_rows; /* default 1000 (0: default) */
	int64_t batch_ms;    /* default 30000 (0: default) */
	int retention_days;  /* raw RR and HR kept; default 90 (0: default) */
	/* Monotonic milliseconds for the batch age and the retries; NULL:
	 * g_get_monotonic_time. */
	int64_t (*now_ms)(void *user_data);
	void *now_user_data;
	/* Readings held in memory while writes fail; 0: STORE_HOLD_MAX_ROWS.
	 */
	unsigned hold_max_rows;
	/* How long a write waits for another program's lock before it counts
	 * as failed; 0: 5000. */
	int busy_timeout_ms;
	/*
	 * Called (may be NULL) when writes start failing and when they work
	 * again, from inside the store call that found out: it may read
	 * store_get_health(), and must not call anything else of the store.
	 */
	void (*health_changed)(void *health_data);
	void *health_data;
	/*
	 * Called (may be NULL) for each raw reading store_add_reading added
	 * to the batch, at the instant it was filed under (after a move to a
	 * free millisecond), held readings filed later included; a repeat
	 * of a stored key is reported too. A satellite forwards its readings
	 * from here (DESIGN §13). Must not call the store.
	 */
	void (*filed)(void *filed_data, const struct store_reading *r,
		      int64_t t_ms);
	void *filed_data;
};

/*
 * Opens (creating, mode 0600) and migrates the database at @path; @opts may
 * be NULL for defaults. Refuses a file that is not an SQLite database, a
 * database with tables that are not ours, and a schema newer than this
 * program knows, each with a message that says so. Returns NULL with @error
 * set on failure.
 */
store *store_open(const char *path, const struct store_options *opts,
		  GError **error);

/* Commits the open batch and closes. NULL-safe. */
void store_close(store *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store, store_close)

/* The schema version of the open database (the latest after store_open). */
int store_schema_version(store *s);

/*
 * For tests: the SQL that migrates schema @version - 1 to @version, exactly
 * as store_open applies it (static; not owned by the caller), or NULL when
 * there is no such version. Version 1 creates the base schema from nothing.
 */
const char *store_migration_sql(int version);

/*
 * Commits the open batch now (shutdown, before a query that must see it);
 * while writes are failing, tries to write the held readings at once,
 * whatever the backoff says. FALSE with @error when readings are still not
 * written (the message says how many and why).
 */
gboolean store_flush(store *s, GError **error);

/*
 * For a periodic timer: commits the open batch if it is batch_ms old, and
 * while writes are failing, retries when the backoff has passed. A storage
 * failure is not an error here (store_get_health reports it); FALSE only
 * for another failure.
 */
gboolean store_tick(store *s, GError **error);

/*
 * Whether the database can be written now: a small write of the schema
 * version, committed. At start-up, so that a disk that cannot be written
 * is a clear error (naming the cause) rather than a daemon that stores
 * nothing. Does not change the health state.
 */
gboolean store_check_writable(store *s, GError **error);

struct store_stats {
	uint64_t commits;	 /* transactions committed since open */
	uint64_t rows_committed; /* raw rows in them (duplicates included) */
	unsigned pending_rows;	 /* in the open batch */
};

/* Fills @ret with the counters since store_open. */
void store_get_stats(store *s, struct store_stats *ret);

/* --- storage health ---------------------------------------------------- */

/*
 * When a write fails for a storage reason (the disk full, the file system
 * read-only, an I/O error, the file locked by another program past the
 * busy timeout, a damaged file), the transaction is rolled back and its raw
 * readings (store_add_* and store_outbox_mark_sent) are held in memory, and
 * so is every one added after it, without touching the disk. store_tick
 * retries 1 s after the failure, then after 2, 4, ... at most 60 s apart
 * (store_flush at once): one transaction writes everything held. At most
 * hold_max_rows readings are held (STORE_HOLD_MAX_ROWS: 80,000 readings,
 * 3.2 MB, five and a half hours of two heart-rate straps, a heart rate and
 * an RR interval a second each); beyond that the oldest go, 1 % at a time,
 * counted. Nights, results, outbox rows and device states
 * are not held: while writes fail they are refused at once
 * (STORE_ERROR_UNAVAILABLE), and their callers try again later.
 */
#define STORE_HOLD_MAX_ROWS  80000u
#define STORE_RETRY_FIRST_MS 1000
#define STORE_RETRY_MAX_MS   60000

/* The last failure that ended. */
struct store_outage {
	int64_t duration_ms;   /* from the first failed write to the
				  write that worked */
	uint64_t written_rows; /* held readings that write committed */
	uint64_t dropped_rows; /* held readings dropped (the oldest) */
};

struct store_health {
	bool failing;		  /* writes fail; readings are held */
	const char *cause;	  /* "disk full", "read-only", ... (static);
				     NULL while not failing */
	const char *detail;	  /* SQLite's message and the system's, for
				     the log; borrowed until the next call;
				     "" while not failing */
	int64_t failing_since_ms; /* now_ms() clock; 0 while not failing */
	int64_t next_retry_ms;	  /* now_ms() clock */
	unsigned held_rows;	  /* readings in memory now */
	uint64_t dropped_rows;	  /* dropped in this failure so far */
	uint64_t attempts;	  /* retries in this failure so far */
	uint64_t outages;	  /* failures that ended since open */
	struct store_outage last_outage;
};

void store_get_health(store *s, struct store_health *ret);

/* --- damaged rows ------------------------------------------------------- */

/*
 * A stored row that does not read back (a value of the wrong type or out
 * of range: a damaged file, a hand edit) is skipped by the reader, which
 * goes on with the rest, and is recorded here for the owner to report.
 * Nights and results are derived: the owner computes them again from the
 * raw readings (derived is true). A raw reading, an outbox row or a user
 * is only skipped.
 */
#define STORE_DAMAGE_MAX 64

struct store_damage {
	char table[16];
	int64_t user;	   /* the row's user_id; 0 when it does not say */
	int32_t day;	   /* nights and results: the row's day; else -1 */
	bool derived;	   /* a night or a result */
	char message[256]; /* table, column, row and what is wrong */
};

/*
 * Appends the damaged rows found since the last call to @ret (struct
 * store_damage), oldest first, at most STORE_DAMAGE_MAX, and forgets them;
 * returns how many more were found and not kept.
 */
uint64_t store_take_damage(store *s, GArray *ret);

/* The id of the person @name, created on first use. */
gboolean store_user_id(store *s, const char *name, int64_t *ret_id,
		       GError **error);

/* --- raw readings (batched) ------------------------------------------ */

enum store_state_kind {
	STORE_STATE_BED = 1,
	STORE_STATE_MOTION = 2,
};

enum store_env_kind {
	STORE_ENV_TEMPERATURE_C = 1,
	STORE_ENV_HUMIDITY_PCT = 2,
	STORE_ENV_CO2_PPM = 3,
	STORE_ENV_ILLUMINANCE_LX = 4,
};

/*
 * Each adds one reading of @user (an id from store_user_id) to the open
 * batch, opening one if needed, and commits the batch when it is full or
 * old. A value outside what the sensor can send, or an unknown user, is
 * STORE_ERROR_INVALID and adds nothing. A reading already stored under the
 * same key is left as it is.
 */
gboolean store_add_rr(store *s, int64_t user, int64_t t_ms, double rr_ms,
		      GError **error);
gboolean store_add_hr(store *s, int64_t user, int64_t t_ms, double bpm,
		      GError **error);
gboolean store_add_state(store *s, int64_t user, enum store_state_kind kind,
			 int64_t t_ms, bool on, GError **error);
gboolean store_add_env(store *s, int64_t user, enum store_env_kind kind,
		       int64_t t_ms, double value, GError **error);
/*
 * Body readings and check-ins merge by (user, time): a weight and a body
 * fat sent at the same instant make one row. METRIC_NONE leaves a field as
 * it is.
 */
gboolean store_add_body(store *s, int64_t user, int64_t t_ms, double weight_kg,
			double body_fat_pct, double impedance_ohm,
			GError **error);
gboolean store_add_checkin(store *s, int64_t user, int64_t t_ms, double mood,
			   double soreness, double energy, GError **error);

/* Deletes raw RR and HR older than the retention before @now_ms. */
gboolean store_prune(store *s, int64_t now_ms, GError **error);

/* --- reading them back ------------------------------------------------ */

/* Every reader below skips a row that does not read back and records it
 * for store_take_damage(); it fails only when SQLite does. */

/* Samples of one person in a span; each GArray holds the named struct. */
struct store_span {
	GArray *rr;	  /* struct rr_sample */
	GArray *hr;	  /* struct hr_sample */
	GArray *bed;	  /* struct state_sample, with the last one before */
	GArray *motion;	  /* struct state_sample */
	GArray *weights;  /* struct weight_sample (weight present) */
	GArray *checkins; /* struct checkin_sample */
};

/*
 * Loads every sample of @user in [@from_ms, @to_ms), sorted by time; the
 * bed array also gets the last state before @from_ms. Sees the open batch.
 */
gboolean store_load_span(store *s, int64_t user, int64_t from_ms, int64_t to_ms,
			 struct store_span *ret, GError **error);
/* Frees the arrays of @span and sets them to NULL. NULL-safe. */
/* Makes @span's arrays, empty. */
void store_span_init(struct store_span *span);
void store_span_clear(struct store_span *span);

/* --- nights and results (committed at once) --------------------------- */

/* Stores (or replaces) the night of @user for m->day; NAN fields are kept
 * absent. Committed before this returns. */
gboolean store_put_night(store *s, int64_t user, const struct night_metrics *m,
			 GError **error);

/* Nights of @user with days in [@from_day, @to_day], oldest first. */
gboolean store_get_nights(store *s, int64_t user, int32_t from_day,
			  int32_t to_day, GArray *ret /* night_metrics */,
			  GError **error);

/* What the gateway concluded for a day, as it told the world. */
struct store_result {
	int32_t day;
	int32_t score; /* -1: none */
	char zone[8];  /* "red", "yellow", "green", "none" */
	bool calibrating;
	char advice_state[24];
	char *state_json; /* the full state message; owned by the caller */
	int64_t computed_ms;
	int64_t alerted_ms; /* 0: no morning alert sent yet */
	/* The advice state the last alert of the day told (the morning's, or
	 * an update's); "" when none went out (not yet, or the morning was
	 * announced too late for an alert). */
	char alerted_state[24];
};

/* Stores (or replaces) the result of @user for r->day, committed before
 * this returns. An alerted_ms of 0 (an empty alerted_state) keeps the one
 * already stored, so a recomputed result does not send the morning alert
 * twice, and still knows what the alert told. */
gboolean store_put_result(store *s, int64_t user, const struct store_result *r,
			  GError **error);
/* Results with days in [@from_day, @to_day], oldest first; each element's
 * state_json is owned by the array (freed by its clear function). */
gboolean store_get_results(store *s, int64_t user, int32_t from_day,
			   int32_t to_day, GArray *ret /* store_result */,
			   GError **error);
/* Records that the morning of @day was announced at @alerted_ms and the
 * advice state its alert told, @alerted_state (NULL or "": the state went
 * out but no alert; replaces what was recorded). Committed at once;
 * STORE_ERROR_INVALID when there is no result for that day or the state
 * does not fit store_result.alerted_state. */
gboolean store_mark_alerted(store *s, int64_t user, int32_t day,
			    int64_t alerted_ms, const char *alerted_state,
			    GError **error);

/* Every person: ids and names, by name. */
gboolean store_list_users(store *s, GArray *ret_ids /* int64_t */,
			  GPtrArray *ret_names /* char *, owned */,
			  GError **error);

/* --- outbox ------------------------------------------------------------ */

struct store_outbox_row {
	int64_t id; /* increasing: the order to send in */
	char *topic;
	GBytes *payload;
	int qos;
	bool retain;
	int64_t created_ms;
};

typedef struct store_outbox_row store_outbox_row;
/* Frees @row, its topic and payload. NULL-safe. */
void store_outbox_row_free(struct store_outbox_row *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_outbox_row, store_outbox_row_free)

/* Queues a message; committed before this returns. */
gboolean store_outbox_add(store *s, const char *topic, const void *payload,
			  size_t len, int qos, bool retain, int64_t created_ms,
			  int64_t *ret_id, GError **error);
/* Up to @limit unsent rows with id > @after_id, in id order, appended to
 * @ret (struct store_outbox_row *, owned by the array). */
gboolean store_outbox_pending(store *s, int64_t after_id, unsigned limit,
			      GPtrArray *ret, GError **error);
/*
 * Marks a row sent (STORE_ERROR_INVALID if there is no row @id). Joins
 * the open batch: after a crash a sent row may be sent again, which QoS 1
 * allows; it is never lost.
 */
gboolean store_outbox_mark_sent(store *s, int64_t id, int64_t sent_ms,
				GError **error);
/* Deletes sent rows sent before @before_ms. */
gboolean store_outbox_prune(store *s, int64_t before_ms, GError **error);
/* How many rows are not sent yet (the backlog the broker has to take). */
gboolean store_outbox_backlog(store *s, uint64_t *ret_rows, GError **error);

/* --- scale users (User Data Service) ----------------------------------- */

/* What a standard scale registered for one person (DESIGN §3). */
struct store_scale_user {
	bool found;
	int user_index;	  /* 0-254 */
	int consent_code; /* 0-9999 */
};

/*
 * The user index the scale @address gave @user, if any (@ret->found). A
 * damaged row reads as none (and is reported as damage). FALSE with
 * @error only when the database cannot be read.
 */
gboolean store_scale_user(store *s, const char *address, int64_t user,
			  struct store_scale_user *ret, GError **error);
/*
 * Keeps @user_index and @consent_code as @user's on the scale @address
 * (replacing an earlier one), committed at once. STORE_ERROR_INVALID for an
 * index outside 0-254 or a code outside 0-9999.
 */
gboolean store_put_scale_user(store *s, const char *address, int64_t user,
			      int user_index, int consent_code, int64_t t_ms,
			      GError **error);

/* --- devices ----------------------------------------------------------- */

struct store_device {
	char address[18]; /* "AA:BB:CC:DD:EE:FF" */
	char kind[16];
	char name[64];
	int64_t user;	 /* 0: none */
	int battery_pct; /* -1: unknown */
	int rssi;	 /* 0: unknown */
	int64_t last_seen_ms;
};

/* Upserts a device's last known state (joins the open batch). */
gboolean store_put_device(store *s, const struct store_device *d,
			  GError **error);

/* --- readings held while the wall clock is not trusted ----------------- */

/*
 * One raw reading in one form, for the rows that wait for a trusted clock
 * in the held table. The numbers are stored: never renumber them.
 */
enum store_reading_kind {
	STORE_READING_RR = 1,	   /* v[0]: rr_ms */
	STORE_READING_HR = 2,	   /* v[0]: bpm */
	STORE_READING_STATE = 3,   /* sub: store_state_kind; v[0]: 0 or 1 */
	STORE_READING_ENV = 4,	   /* sub: store_env_kind; v[0]: the value */
	STORE_READING_BODY = 5,	   /* v: weight_kg, body_fat_pct,
				      impedance_ohm (METRIC_NONE: absent) */
	STORE_READING_CHECKIN = 6, /* v: mood, soreness, energy */
};

struct store_reading {
	int64_t user; /* an id from store_user_id */
	enum store_reading_kind kind;
	int sub;
	double v[3];
};

/*
 * Adds @r at @t_ms through the store_add_* of its kind (same checks, same
 * batch). With @distinct the reading is known to be none of the stored
 * ones (the wall clock stepped back over them, or a held row is filed):
 * an RR, heart-rate or state row whose instant is taken goes to the next
 * free millisecond (at most STORE_DISTINCT_MAX_MS on) instead of being
 * taken for a repeat. Body readings and check-ins merge by instant either
 * way.
 */
#define STORE_DISTINCT_MAX_MS 1000
gboolean store_add_reading(store *s, const struct store_reading *r,
			   int64_t t_ms, bool distinct, GError **error);

/*
 * Holds @r, received at @mono_ms on the monotonic clock of boot @boot_id,
 * in the held table until the wall clock is trusted (joins the open batch:
 * a crash loses at most that batch, as for any reading). Only the kind is
 * checked here; values are checked when the row is filed.
 */
gboolean store_hold_reading(store *s, const char *boot_id, int64_t mono_ms,
			    const struct store_reading *r, GError **error);

/* How many rows of boot @boot_id are held. */
gboolean store_held_count(store *s, const char *boot_id, uint64_t *ret_count,
			  GError **error);

/* Deletes the @count oldest held rows of boot @boot_id (joins the batch). */
gboolean store_held_drop_oldest(store *s, const char *boot_id, unsigned count,
				GError **error);

/*
 * Files every held row of boot @boot_id at wall time mono_ms +
 * @wall_minus_mono_ms (store_add_reading, distinct) and deletes it from
 * the held table, in transactions of a few hundred rows: each row is
 * either still held or filed, never both, never neither. The open batch is
 * committed first. @ret_filed: rows filed; @ret_refused: rows whose values
 * the store refuses (STORE_ERROR_INVALID), deleted. On failure the rows of
 * the failed transaction stay held.
 */
gboolean store_held_file(store *s, const char *boot_id,
			 int64_t wall_minus_mono_ms, uint64_t *ret_filed,
			 uint64_t *ret_refused, GError **error);

/*
 * Held rows of any boot other than @boot_id can no longer be given a wall
 * time (the monotonic clock starts again at each boot): moves them to the
 * table readings_unknown_time, which keeps at most @keep rows (the oldest
 * beyond go), committed at once. @ret_moved: rows moved; @ret_dropped:
 * rows of that table deleted to stay within @keep.
 */
gboolean store_held_set_aside(store *s, const char *boot_id, uint64_t keep,
			      uint64_t *ret_moved, uint64_t *ret_dropped,
			      GError **error);

/*
 * The time of the newest raw reading stored (RR, heart rate, states,
 * environment, body, check-ins), 0 when there is none: a floor for the
 * wall clock (clock_trust). Sees the open batch.
 */
gboolean store_newest_reading_ms(store *s, int64_t *ret_ms, GError **error);
