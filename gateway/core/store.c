// SPDX-License-Identifier: MIT
#include "gateway/core/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "gateway/common/quote.h"
#include "gateway/core/beats.h"

GQuark store_error_quark(void)
{
	return g_quark_from_static_string("store-error-quark");
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

/*
 * A cached statement borrowed for one use: leaving the scope resets it, so
 * it holds no read lock and no stale bindings, and is ready for the next.
 */
typedef sqlite3_stmt stmt_lease;

static void stmt_lease_release(stmt_lease *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(stmt_lease, stmt_lease_release)

#define DEFAULT_BATCH_ROWS     1000u
#define DEFAULT_BATCH_MS       30000
#define DEFAULT_RETENTION_DAYS 90
#define BUSY_TIMEOUT_MS	       5000
#define MS_PER_DAY	       INT64_C(86400000)

/* --- schema ------------------------------------------------------------ */

/* A held reading's columns (version 3), for held and
 * readings_unknown_time alike. Shipped: never edited. */
#define HELD_COLUMNS                                                           \
	"  id INTEGER PRIMARY KEY,\n"                                          \
	"  boot_id TEXT NOT NULL,\n"                                           \
	"  mono_ms INTEGER NOT NULL,\n"                                        \
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"                  \
	"  kind INTEGER NOT NULL,\n"                                           \
	"  sub INTEGER NOT NULL,\n"                                            \
	"  v0 REAL,\n"                                                         \
	"  v1 REAL,\n"                                                         \
	"  v2 REAL\n"

/* A packed minute's table (migration 7). */
#define MINUTES_COLUMNS                                                        \
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"                  \
	"  minute INTEGER NOT NULL,\n"                                         \
	"  beats BLOB NOT NULL,\n"                                             \
	"  PRIMARY KEY (user_id, minute)\n"
#define MINUTE_OF_T_MS "(t_ms - (t_ms % 60000 + 60000) % 60000) / 60000"

/*
 * Forward migrations: migrations[i] takes user_version i to i + 1, in its
 * own transaction. Shipped entries are never edited, only appended to: a
 * database in the field is at some earlier version and must arrive at the
 * same schema as a new one.
 *
 * The raw tables are WITHOUT ROWID: their natural key is the primary key,
 * so a row is stored once in key order instead of in a rowid table plus a
 * unique index, which halves the writes of the hot path. nights and results
 * keep a rowid: their rows are wide (results carry the whole state JSON),
 * and SQLite advises against WITHOUT ROWID for rows over ~1/20 of a page.
 */
static const char *const migrations[] = {
	/* 1: the base schema */
	"CREATE TABLE users (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE\n"
	");\n"
	"CREATE TABLE devices (\n"
	"  address TEXT NOT NULL PRIMARY KEY,\n"
	"  kind TEXT NOT NULL,\n"
	"  name TEXT NOT NULL,\n"
	"  user_id INTEGER REFERENCES users (id),\n"
	"  battery_pct INTEGER,\n"
	"  rssi INTEGER,\n"
	"  last_seen_ms INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE rr (\n"
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	"  t_ms INTEGER NOT NULL,\n"
	"  rr_ms REAL NOT NULL,\n"
	"  PRIMARY KEY (user_id, t_ms)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE hr (\n"
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	"  t_ms INTEGER NOT NULL,\n"
	"  bpm REAL NOT NULL,\n"
	"  PRIMARY KEY (user_id, t_ms)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE env (\n"
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	"  kind TEXT NOT NULL,\n"
	"  t_ms INTEGER NOT NULL,\n"
	"  value REAL NOT NULL,\n"
	"  PRIMARY KEY (user_id, kind, t_ms)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE body (\n"
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	"  t_ms INTEGER NOT NULL,\n"
	"  weight_kg REAL,\n"
	"  body_fat_pct REAL,\n"
	"  impedance_ohm REAL,\n"
	"  PRIMARY KEY (user_id, t_ms)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE checkins (\n"
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	"  t_ms INTEGER NOT NULL,\n"
	"  mood REAL,\n"
	"  soreness REAL,\n"
	"  energy REAL,\n"
	"  PRIMARY KEY (user_id, t_ms)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE nights (\n"
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	"  day INTEGER NOT NULL,\n"
	"  window_start_ms INTEGER,\n"
	"  window_end_ms INTEGER,\n"
	"  sleep_onset_ms INTEGER,\n"
	"  wake_ms INTEGER,\n"
	"  window_from_bed_sensor INTEGER NOT NULL,\n"
	"  time_in_bed_min REAL,\n"
	"  sleep_min REAL,\n"
	"  sleep_efficiency_pct REAL,\n"
	"  latency_min REAL,\n"
	"  out_of_bed_episodes INTEGER NOT NULL,\n"
	"  rmssd_ms REAL,\n"
	"  ln_rmssd REAL,\n"
	"  sdnn_ms REAL,\n"
	"  pnn50_pct REAL,\n"
	"  hrv_windows INTEGER NOT NULL,\n"
	"  beats INTEGER NOT NULL,\n"
	"  dropped_beats INTEGER NOT NULL,\n"
	"  resting_hr_bpm REAL,\n"
	"  weight_kg REAL,\n"
	"  body_fat_pct REAL,\n"
	"  mood REAL,\n"
	"  soreness REAL,\n"
	"  energy REAL,\n"
	"  load_trimp REAL,\n"
	"  PRIMARY KEY (user_id, day)\n"
	");\n"
	"CREATE TABLE results (\n"
	"  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	"  day INTEGER NOT NULL,\n"
	"  score INTEGER,\n"
	"  zone TEXT NOT NULL,\n"
	"  calibrating INTEGER NOT NULL,\n"
	"  advice_state TEXT NOT NULL,\n"
	"  state_json TEXT,\n"
	"  computed_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY (user_id, day)\n"
	");\n"
	/* AUTOINCREMENT: an id is never reused, even after the newest rows
	 * were sent and pruned, so a drain cursor (after_id) stays valid. */
	"CREATE TABLE outbox (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  topic TEXT NOT NULL,\n"
	"  payload BLOB NOT NULL,\n"
	"  qos INTEGER NOT NULL,\n"
	"  retain INTEGER NOT NULL,\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  sent_ms INTEGER\n"
	");\n",

	/* 2: the morning alert is sent once per day even across restarts,
	 * and draining a long outbox does not walk over every sent row. */
	/* (In parentheses: one element of two lines, not two elements.) */
	("ALTER TABLE results ADD COLUMN alerted_ms INTEGER;\n"
	 "CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_ms IS NULL;\n"),

	/* 3: readings received while the wall clock was not trusted wait on
	 * the monotonic clock of their boot (store_hold_reading), so that
	 * neither a restart nor a kill loses them; those of an earlier boot,
	 * whose wall time can no longer be known, are set aside. */
	("CREATE TABLE held (\n" HELD_COLUMNS ");\n"
	 "CREATE TABLE readings_unknown_time (\n" HELD_COLUMNS ");\n"),

	/* 4: the advice state the morning alert told, so that data arriving
	 * after it (a check-in, a weigh-in) sends an update only when the
	 * state changes, also across restarts. NULL: no alert went out. */
	"ALTER TABLE results ADD COLUMN alerted_state TEXT;\n",

	/* 5: where the day's HRV came from, and the morning spot check
	 * (DESIGN §4). Every HRV stored before came from the night. */
	("ALTER TABLE nights ADD COLUMN hrv_source TEXT;\n"
	 "ALTER TABLE nights ADD COLUMN spot_status TEXT;\n"
	 "ALTER TABLE nights ADD COLUMN spot_start_ms INTEGER;\n"
	 "ALTER TABLE nights ADD COLUMN spot_rmssd_ms REAL;\n"
	 "ALTER TABLE nights ADD COLUMN spot_ln_rmssd REAL;\n"
	 "ALTER TABLE nights ADD COLUMN spot_hr_bpm REAL;\n"
	 "UPDATE nights SET hrv_source = 'night' WHERE ln_rmssd IS NOT "
	 "NULL;\n"),

	/* 6: the user index a standard scale's User Data Service gave each
	 * person it registered, and the consent code registered with it,
	 * for the Consent on every later connection. */
	("CREATE TABLE scale_users (\n"
	 "  address TEXT NOT NULL,\n"
	 "  user_id INTEGER NOT NULL REFERENCES users (id),\n"
	 "  user_index INTEGER NOT NULL,\n"
	 "  consent_code INTEGER NOT NULL,\n"
	 "  registered_ms INTEGER NOT NULL,\n"
	 "  PRIMARY KEY (address, user_id)\n"
	 ") WITHOUT ROWID;\n"),

	/* 7: raw RR intervals and heart rates a minute a row (DESIGN §11,
	 * gateway/core/beats.h): a row a reading cost SQLite more CPU than
	 * the rest of a notification's path. A rowid table: a minute at
	 * 1 Hz with two RR a beat is some 1.2 KB, over the size WITHOUT
	 * ROWID suits. pack_beats() is the store's own aggregate (registered
	 * on every connection before migrating); instants beyond +-2^62 ms,
	 * which no reader of ours ever stored, cannot be packed and are not
	 * carried over. The minute is floor(t_ms / 60000), before 1970 too
	 * (SQLite's % keeps the dividend's sign). */
	("CREATE TABLE rr_minutes (\n" MINUTES_COLUMNS ");\n"
	 "CREATE TABLE hr_minutes (\n" MINUTES_COLUMNS ");\n"
	 "INSERT INTO rr_minutes (user_id, minute, beats) "
	 "SELECT user_id, " MINUTE_OF_T_MS ", pack_beats(t_ms, rr_ms) "
	 "FROM rr WHERE abs(t_ms) < 4611686018427387904 "
	 "GROUP BY user_id, " MINUTE_OF_T_MS ";\n"
	 "INSERT INTO hr_minutes (user_id, minute, beats) "
	 "SELECT user_id, " MINUTE_OF_T_MS ", pack_beats(t_ms, bpm) "
	 "FROM hr WHERE abs(t_ms) < 4611686018427387904 "
	 "GROUP BY user_id, " MINUTE_OF_T_MS ";\n"
	 "DROP TABLE rr;\n"
	 "DROP TABLE hr;\n"),
};

#define SCHEMA_LATEST ((int)G_N_ELEMENTS(migrations))

const char *store_migration_sql(int version)
{
	if (version < 1 || version > SCHEMA_LATEST)
		return NULL;
	return migrations[version - 1];
}

/*
 * The columns of nights after (user_id, day), named as the struct fields
 * and DESIGN's keys, with the range a value must have both to be written
 * and when it is read back. Ranges are wide sanity bounds, not physiology:
 * they catch a corrupted row or a unit mistake, never an unusual night.
 */
enum night_col_kind {
	NIGHT_REAL,  /* double, METRIC_NONE <-> NULL */
	NIGHT_TIME,  /* int64_t ms, 0 (no window) <-> NULL */
	NIGHT_FLAG,  /* bool */
	NIGHT_COUNT, /* int32_t >= 0 */
	NIGHT_NAME,  /* an enum 0..max, 0 (none) <-> NULL, else its name */
};

struct night_col {
	const char *name;
	enum night_col_kind kind;
	size_t offset;
	double min, max;
	const char *(*value_name)(int value); /* NIGHT_NAME */
};

#define NIGHT_COL(field, kind, lo, hi)                                         \
	{                                                                      \
#field, kind, offsetof(struct night_metrics, field), lo, hi,   \
		    NULL                                                       \
	}
#define NIGHT_NAME_COL(field, max, fn)                                         \
	{                                                                      \
#field, NIGHT_NAME, offsetof(struct night_metrics, field), 0,  \
		    max, fn                                                    \
	}

/* The enums are read and written as int: the names are the file's. */
_Static_assert(sizeof(enum hrv_source) == sizeof(int) &&
		   sizeof(enum spot_status) == sizeof(int),
	       "a NIGHT_NAME field is not an int");

static const char *source_name(int value)
{
	return hrv_source_name((enum hrv_source)value);
}

static const char *spot_name(int value)
{
	return spot_status_name((enum spot_status)value);
}

static const struct night_col night_cols[] = {
	NIGHT_COL(window_start_ms, NIGHT_TIME, 0, 0),
	NIGHT_COL(window_end_ms, NIGHT_TIME, 0, 0),
	NIGHT_COL(sleep_onset_ms, NIGHT_TIME, 0, 0),
	NIGHT_COL(wake_ms, NIGHT_TIME, 0, 0),
	NIGHT_COL(window_from_bed_sensor, NIGHT_FLAG, 0, 1),
	NIGHT_COL(time_in_bed_min, NIGHT_REAL, 0, 2880),
	NIGHT_COL(sleep_min, NIGHT_REAL, 0, 2880),
	NIGHT_COL(sleep_efficiency_pct, NIGHT_REAL, 0, 100),
	NIGHT_COL(latency_min, NIGHT_REAL, 0, 2880),
	NIGHT_COL(out_of_bed_episodes, NIGHT_COUNT, 0, INT32_MAX),
	NIGHT_COL(rmssd_ms, NIGHT_REAL, 0, 64000),
	NIGHT_COL(ln_rmssd, NIGHT_REAL, -50, 50),
	NIGHT_COL(sdnn_ms, NIGHT_REAL, 0, 64000),
	NIGHT_COL(pnn50_pct, NIGHT_REAL, 0, 100),
	NIGHT_COL(hrv_windows, NIGHT_COUNT, 0, INT32_MAX),
	NIGHT_COL(beats, NIGHT_COUNT, 0, INT32_MAX),
	NIGHT_COL(dropped_beats, NIGHT_COUNT, 0, INT32_MAX),
	NIGHT_COL(resting_hr_bpm, NIGHT_REAL, 0, 65535),
	NIGHT_COL(weight_kg, NIGHT_REAL, 0, 1000),
	NIGHT_COL(body_fat_pct, NIGHT_REAL, 0, 100),
	NIGHT_COL(mood, NIGHT_REAL, 1, 5),
	NIGHT_COL(soreness, NIGHT_REAL, 1, 5),
	NIGHT_COL(energy, NIGHT_REAL, 1, 5),
	NIGHT_COL(load_trimp, NIGHT_REAL, 0, 1e6),
	NIGHT_NAME_COL(hrv_source, HRV_SOURCE_SPOT, source_name),
	NIGHT_NAME_COL(spot_status, SPOT_OK, spot_name),
	NIGHT_COL(spot_start_ms, NIGHT_TIME, 0, 0),
	NIGHT_COL(spot_rmssd_ms, NIGHT_REAL, 0, 64000),
	NIGHT_COL(spot_ln_rmssd, NIGHT_REAL, -50, 50),
	NIGHT_COL(spot_hr_bpm, NIGHT_REAL, 0, 65535),
};

/*
 * Ranges of the raw readings: what the wire formats can carry (RR and heart
 * rate are uint16 in the Heart Rate Measurement, GATT HRS 1.0 §3.1.1.3 and
 * §3.1.1.5; RR in 1/1024 s), so every decoded reading fits and a negative
 * or absurd number can only come from a bug or a damaged row.
 */
#define RR_MS_MAX	  (65535.0 * 1000.0 / 1024.0)
#define BPM_MAX		  65535.0
#define WEIGHT_KG_MAX	  1000.0
#define IMPEDANCE_OHM_MAX 65535.0
#define CHECKIN_MIN	  1.0
#define CHECKIN_MAX	  5.0

/* --- statements -------------------------------------------------------- */

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_USER_FIND,
	STMT_USER_ADD,
	STMT_USER_LIST,
	STMT_ADD_RR,
	STMT_ADD_HR,
	STMT_ADD_ENV,
	STMT_ADD_BODY,
	STMT_ADD_CHECKIN,
	STMT_PRUNE_RR,
	STMT_PRUNE_HR,
	STMT_SPAN_RR,
	STMT_SPAN_HR,
	STMT_SPAN_ENV,
	STMT_ENV_BEFORE,
	STMT_SPAN_WEIGHTS,
	STMT_SPAN_CHECKINS,
	STMT_PUT_NIGHT, /* built from night_cols */
	STMT_GET_NIGHTS,
	STMT_PUT_RESULT,
	STMT_GET_RESULTS,
	STMT_MARK_ALERTED,
	STMT_OUTBOX_ADD,
	STMT_OUTBOX_PENDING,
	STMT_OUTBOX_MARK_SENT,
	STMT_OUTBOX_PRUNE,
	STMT_OUTBOX_BACKLOG,
	STMT_OUTBOX_FIND,
	STMT_PUT_DEVICE,
	STMT_SCALE_USER_GET,
	STMT_SCALE_USER_PUT,
	STMT_HOLD_ADD,
	STMT_FIND_RR,
	STMT_FIND_HR,
	STMT_FIND_ENV,
	STMT_COUNT
};

/*
 * Every query names the key columns of its table first: a damaged value is
 * reported with the row it sits in (row_fail uses the first nkeys columns).
 */
static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_USER_FIND] = "SELECT id FROM users WHERE name = ?1",
	[STMT_USER_ADD] = "INSERT INTO users (name) VALUES (?1)",
	[STMT_USER_LIST] = "SELECT id, name FROM users ORDER BY name",
	/* ON CONFLICT DO NOTHING rather than INSERT OR IGNORE: only a
	 * repeated key is skipped, a NOT NULL failure still fails. */
	/* A minute's beats join those stored before; at an instant
	 * already stored the stored beat stays (beats_merge). */
	[STMT_ADD_RR] = "INSERT INTO rr_minutes (user_id, minute, beats) "
			"VALUES (?1, ?2, ?3) ON CONFLICT (user_id, minute) "
			"DO UPDATE SET beats = beats_merge(rr_minutes.beats, "
			"excluded.beats)",
	[STMT_ADD_HR] = "INSERT INTO hr_minutes (user_id, minute, beats) "
			"VALUES (?1, ?2, ?3) ON CONFLICT (user_id, minute) "
			"DO UPDATE SET beats = beats_merge(hr_minutes.beats, "
			"excluded.beats)",
	[STMT_ADD_ENV] = "INSERT INTO env (user_id, kind, t_ms, value) "
			 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	[STMT_ADD_BODY] =
	    "INSERT INTO body (user_id, t_ms, weight_kg, body_fat_pct, "
	    "impedance_ohm) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (user_id, t_ms) DO UPDATE SET "
	    "weight_kg = COALESCE(excluded.weight_kg, body.weight_kg), "
	    "body_fat_pct = COALESCE(excluded.body_fat_pct, "
	    "body.body_fat_pct), "
	    "impedance_ohm = COALESCE(excluded.impedance_ohm, "
	    "body.impedance_ohm)",
	[STMT_ADD_CHECKIN] =
	    "INSERT INTO checkins (user_id, t_ms, mood, soreness, energy) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (user_id, t_ms) DO UPDATE SET "
	    "mood = COALESCE(excluded.mood, checkins.mood), "
	    "soreness = COALESCE(excluded.soreness, checkins.soreness), "
	    "energy = COALESCE(excluded.energy, checkins.energy)",
	/* Per user, so the delete walks the primary key instead of the
	 * whole table. */
	[STMT_PRUNE_RR] = "DELETE FROM rr_minutes WHERE user_id IN (SELECT "
			  "id FROM users) AND minute < ?1",
	[STMT_PRUNE_HR] = "DELETE FROM hr_minutes WHERE user_id IN (SELECT "
			  "id FROM users) AND minute < ?1",
	[STMT_SPAN_RR] = "SELECT user_id, minute, beats FROM rr_minutes WHERE "
			 "user_id = ?1 AND minute >= ?2 AND minute <= ?3 "
			 "ORDER BY minute",
	[STMT_SPAN_HR] = "SELECT user_id, minute, beats FROM hr_minutes WHERE "
			 "user_id = ?1 AND minute >= ?2 AND minute <= ?3 "
			 "ORDER BY minute",
	[STMT_SPAN_ENV] =
	    "SELECT user_id, kind, t_ms, value FROM env WHERE user_id = ?1 "
	    "AND kind = ?2 AND t_ms >= ?3 AND t_ms < ?4 ORDER BY t_ms",
	[STMT_ENV_BEFORE] =
	    "SELECT user_id, kind, t_ms, value FROM env WHERE user_id = ?1 "
	    "AND kind = ?2 AND t_ms < ?3 ORDER BY t_ms DESC LIMIT 1",
	[STMT_SPAN_WEIGHTS] =
	    "SELECT user_id, t_ms, weight_kg, body_fat_pct FROM body "
	    "WHERE user_id = ?1 AND t_ms >= ?2 AND t_ms < ?3 "
	    "AND weight_kg IS NOT NULL ORDER BY t_ms",
	[STMT_SPAN_CHECKINS] =
	    "SELECT user_id, t_ms, mood, soreness, energy FROM checkins "
	    "WHERE user_id = ?1 AND t_ms >= ?2 AND t_ms < ?3 ORDER BY t_ms",
	[STMT_PUT_RESULT] =
	    "INSERT INTO results (user_id, day, score, zone, calibrating, "
	    "advice_state, state_json, computed_ms, alerted_ms, "
	    "alerted_state) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT (user_id, day) DO UPDATE SET "
	    "score = excluded.score, zone = excluded.zone, "
	    "calibrating = excluded.calibrating, "
	    "advice_state = excluded.advice_state, "
	    "state_json = excluded.state_json, "
	    "computed_ms = excluded.computed_ms, "
	    /* A recomputed result must not forget that the morning
	     * alert already went out. */
	    "alerted_ms = COALESCE(excluded.alerted_ms, results.alerted_ms), "
	    "alerted_state = COALESCE(excluded.alerted_state, "
	    "results.alerted_state)",
	[STMT_GET_RESULTS] =
	    "SELECT user_id, day, score, zone, calibrating, advice_state, "
	    "state_json, computed_ms, alerted_ms, alerted_state FROM results "
	    "WHERE user_id = ?1 AND day >= ?2 AND day <= ?3 ORDER BY day",
	[STMT_MARK_ALERTED] = "UPDATE results SET alerted_ms = ?3, "
			      "alerted_state = ?4 "
			      "WHERE user_id = ?1 AND day = ?2",
	[STMT_OUTBOX_ADD] = "INSERT INTO outbox (topic, payload, qos, retain, "
			    "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_OUTBOX_PENDING] =
	    "SELECT id, topic, payload, qos, retain, created_ms FROM "
	    "outbox WHERE sent_ms IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
	[STMT_OUTBOX_MARK_SENT] =
	    "UPDATE outbox SET sent_ms = ?2 WHERE id = ?1",
	[STMT_OUTBOX_PRUNE] = "DELETE FROM outbox WHERE sent_ms IS NOT NULL "
			      "AND sent_ms < ?1",
	/* Walks the outbox_unsent index, not the table. */
	[STMT_OUTBOX_BACKLOG] = "SELECT count(*) FROM outbox WHERE sent_ms IS "
				"NULL",
	[STMT_OUTBOX_FIND] = "SELECT 1 FROM outbox WHERE id = ?1",
	[STMT_SCALE_USER_GET] =
	    "SELECT address, user_id, user_index, consent_code FROM "
	    "scale_users WHERE address = ?1 AND user_id = ?2",
	[STMT_SCALE_USER_PUT] =
	    "INSERT INTO scale_users (address, user_id, user_index, "
	    "consent_code, registered_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (address, user_id) DO UPDATE SET "
	    "user_index = excluded.user_index, "
	    "consent_code = excluded.consent_code, "
	    "registered_ms = excluded.registered_ms",
	/* Unknown battery and RSSI keep the last known values: a device
	 * seen by an advert without them has not lost its battery. */
	[STMT_PUT_DEVICE] =
	    "INSERT INTO devices (address, kind, name, user_id, "
	    "battery_pct, rssi, last_seen_ms) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT (address) DO UPDATE SET kind = excluded.kind, "
	    "name = excluded.name, user_id = excluded.user_id, "
	    "battery_pct = COALESCE(excluded.battery_pct, "
	    "devices.battery_pct), "
	    "rssi = COALESCE(excluded.rssi, devices.rssi), "
	    "last_seen_ms = excluded.last_seen_ms",
	[STMT_HOLD_ADD] =
	    "INSERT INTO held (boot_id, mono_ms, user_id, kind, sub, v0, v1, "
	    "v2) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[STMT_FIND_RR] = "SELECT user_id, minute, beats FROM rr_minutes "
			 "WHERE user_id = ?1 AND minute = ?2",
	[STMT_FIND_HR] = "SELECT user_id, minute, beats FROM hr_minutes "
			 "WHERE user_id = ?1 AND minute = ?2",
	[STMT_FIND_ENV] = "SELECT 1 FROM env WHERE user_id = ?1 AND kind = ?2 "
			  "AND t_ms = ?3",
};

/*
 * One raw reading as the batch holds it in memory beside the open
 * transaction, so that a failed commit can write it again: 40 bytes, so
 * that the STORE_HOLD_MAX_ROWS of a long failure fit in 3.2 MB.
 */
enum held_kind {
	HELD_RR,
	HELD_HR,
	HELD_ENV,     /* sub: index in env_names */
	HELD_BODY,    /* v0 weight_kg, v1 body_fat_pct, v2 impedance_ohm */
	HELD_CHECKIN, /* v0 mood, v1 soreness, v2 energy */
	HELD_SENT,    /* an outbox row sent: t_ms the id, v0 sent_ms */
	HELD_REFUSED, /* an RR or HR row whose minute the database refused */
};

struct held_row {
	int64_t t_ms;
	double v0;
	double v1, v2; /* NAN: absent */
	int32_t user;
	uint8_t kind; /* enum held_kind */
	uint8_t sub;
};

G_STATIC_ASSERT(sizeof(struct held_row) == 40);

/* The env table's kinds, by the index a held row keeps. */
static const char *const env_names[] = {
	"bed",		"motion",  "temperature_c",
	"humidity_pct", "co2_ppm", "illuminance_lx",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT_COUNT];
	struct store_options opts; /* defaults filled in */
	int schema_version;

	bool in_tx;
	int64_t batch_start_ms; /* now_ms() when the batch's first row came */
	unsigned pending_rows;	/* rows of the batch, written or not */
	uint64_t commits;
	uint64_t rows_committed;

	/* The raw rows of the batch, oldest first (struct held_row): the
	 * first rows_written are in the open transaction, the rest only here
	 * until the batch is written, so that no write lock is held while a
	 * batch fills (recoveryctl writes beside the daemon). While failing,
	 * every raw row not yet written. */
	GArray *rows;
	guint rows_written;
	/* Device states of the batch, one per address (struct store_device):
	 * written with its rows. */
	GArray *devices;
	/* Users known to exist (int64_t), so that a raw row for an unknown
	 * one is refused when it is added, not when its batch is written. */
	GArray *known_users;
	int last_code; /* SQLite's extended code of the last failure */
	bool failing;  /* writes fail: raw rows are only held */
	int64_t failing_since_ms;
	int64_t next_retry_ms;
	int64_t backoff_ms;
	uint64_t dropped;     /* held rows dropped in this failure */
	uint64_t refused;     /* batch rows the database refused, ever */
	uint64_t attempts;    /* retries in this failure */
	uint64_t reschedules; /* enter_failing calls, ever */
	uint64_t outages;
	struct store_outage last_outage;
	const char *cause;
	char detail[256];

	GArray *damage; /* struct store_damage, at most STORE_DAMAGE_MAX */
	uint64_t damage_more;
};

/* --- errors ------------------------------------------------------------ */

static void enter_failing(store *s);

static gboolean sql_fail(store *s, const char *what, GError **error)
{
	int code = sqlite3_extended_errcode(s->db);

	s->last_code = code;
	g_set_error(error, STORE_ERROR,
		    code == SQLITE_CONSTRAINT_FOREIGNKEY ? STORE_ERROR_INVALID
							 : STORE_ERROR_SQL,
		    "%s: %s%s", what, sqlite3_errmsg(s->db),
		    code == SQLITE_CONSTRAINT_FOREIGNKEY ? " (unknown user?)"
							 : "");
	/* SQLite may have rolled the whole transaction back on its own
	 * (SQLITE_FULL, IOERR, NOMEM...): its rows are held, not lost, and
	 * the bookkeeping must say so or the next COMMIT fails forever. */
	if (s->in_tx && sqlite3_get_autocommit(s->db))
		enter_failing(s);
	return FALSE;
}

static gboolean invalid(GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static gboolean invalid(GError **error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(
	    error,
	    g_error_new_valist(STORE_ERROR, STORE_ERROR_INVALID, fmt, ap));
	va_end(ap);
	return FALSE;
}

/* --- reading rows back ------------------------------------------------- */

/* A row being read: its first nkeys columns say which row it is. */
struct row {
	sqlite3_stmt *st;
	const char *table;
	int nkeys;
};

static const char *type_name(int type)
{
	switch (type) {
	case SQLITE_INTEGER:
		return "an integer";
	case SQLITE_FLOAT:
		return "a real";
	case SQLITE_TEXT:
		return "text";
	case SQLITE_BLOB:
		return "a blob";
	case SQLITE_NULL:
		return "NULL";
	default:
		return "an unknown type";
	}
}

static gboolean row_fail(const struct row *r, int col, GError **error,
			 const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static gboolean row_fail(const struct row *r, int col, GError **error,
			 const char *fmt, ...)
{
	g_autoptr(GString) key = g_string_new(NULL);
	g_autofree char *detail = NULL;
	va_list ap;

	va_start(ap, fmt);
	detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	for (int i = 0; i < r->nkeys; i++) {
		const unsigned char *text = sqlite3_column_text(r->st, i);
		/* A damaged key may hold anything: escaped and cut short,
		 * it cannot garble whatever shows the message. */
		g_autofree char *value =
		    text ? g_strescape((const char *)text, NULL) : NULL;

		if (value && strlen(value) > 40)
			strcpy(value + 37, "...");
		g_string_append_printf(key, "%s%s=%s", i ? ", " : "",
				       sqlite3_column_name(r->st, i),
				       value ? value : "NULL");
	}
	g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
		    "table %s, column %s, row (%s): %s", r->table,
		    sqlite3_column_name(r->st, col), key->str, detail);
	return FALSE;
}

/* A REAL column: NULL is METRIC_NONE when @nullable. */
static gboolean row_real(const struct row *r, int col, double min, double max,
			 bool nullable, double *ret, GError **error)
{
	int type = sqlite3_column_type(r->st, col);
	double value;

	if (type == SQLITE_NULL && nullable) {
		*ret = METRIC_NONE;
		return TRUE;
	}
	if (type != SQLITE_FLOAT && type != SQLITE_INTEGER)
		return row_fail(r, col, error, "holds %s, not a number",
				type_name(type));
	value = sqlite3_column_double(r->st, col);
	if (!isfinite(value) || value < min || value > max)
		return row_fail(r, col, error, "%g is outside [%g, %g]", value,
				min, max);
	*ret = value;
	return TRUE;
}

/* An INTEGER column: NULL is @null_value when @nullable. */
static gboolean row_int(const struct row *r, int col, int64_t min, int64_t max,
			bool nullable, int64_t null_value, int64_t *ret,
			GError **error)
{
	int type = sqlite3_column_type(r->st, col);
	int64_t value;

	if (type == SQLITE_NULL && nullable) {
		*ret = null_value;
		return TRUE;
	}
	if (type != SQLITE_INTEGER)
		return row_fail(r, col, error, "holds %s, not an integer",
				type_name(type));
	value = sqlite3_column_int64(r->st, col);
	if (value < min || value > max)
		return row_fail(r, col, error,
				"%" PRId64 " is outside [%" PRId64 ", %" PRId64
				"]",
				value, min, max);
	*ret = value;
	return TRUE;
}

static gboolean row_int32(const struct row *r, int col, int64_t min,
			  int64_t max, bool nullable, int64_t null_value,
			  int32_t *ret, GError **error)
{
	int64_t value;

	g_assert(min >= INT32_MIN && max <= INT32_MAX);
	if (!row_int(r, col, min, max, nullable, null_value, &value, error))
		return FALSE;
	*ret = (int32_t)value;
	return TRUE;
}

/*
 * A TEXT column, borrowed until the statement moves on; at most @max_len
 * bytes, valid UTF-8, no NUL inside. NULL gives NULL when @nullable.
 */
static gboolean row_text(const struct row *r, int col, size_t max_len,
			 bool nullable, const char **ret, GError **error)
{
	int type = sqlite3_column_type(r->st, col);
	const char *text;
	size_t len;

	if (type == SQLITE_NULL && nullable) {
		*ret = NULL;
		return TRUE;
	}
	if (type != SQLITE_TEXT)
		return row_fail(r, col, error, "holds %s, not text",
				type_name(type));
	text = (const char *)sqlite3_column_text(r->st, col);
	len = (size_t)sqlite3_column_bytes(r->st, col);
	if (!text)
		return row_fail(r, col, error,
				"cannot be read (out of memory)");
	if (strlen(text) != len || !g_utf8_validate(text, (gssize)len, NULL))
		return row_fail(r, col, error, "holds a NUL or invalid UTF-8");
	if (len > max_len)
		return row_fail(r, col, error,
				"is %zu bytes long, at most %zu fit", len,
				max_len);
	*ret = text;
	return TRUE;
}

/* Steps a query: 1 a row, 0 done, -1 failed (@error set). */
static int step_row(store *s, sqlite3_stmt *st, const char *what,
		    GError **error)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	sql_fail(s, what, error);
	return -1;
}

/* Steps a statement that returns no rows. */
static gboolean step_done(store *s, sqlite3_stmt *st, const char *what,
			  GError **error)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return sql_fail(s, what, error);
	return TRUE;
}

/* --- binding ----------------------------------------------------------- */

static void bind_metric(sqlite3_stmt *st, int i, double value)
{
	if (metric_present(value))
		sqlite3_bind_double(st, i, value);
	else
		sqlite3_bind_null(st, i);
}

/* 0 means "none" for these integers: NULL in the database. */
static void bind_nonzero(sqlite3_stmt *st, int i, int64_t value)
{
	if (value)
		sqlite3_bind_int64(st, i, value);
	else
		sqlite3_bind_null(st, i);
}

static gboolean check_range(double value, double min, double max,
			    bool absent_ok, const char *name, GError **error)
{
	if (!metric_present(value)) {
		if (absent_ok)
			return TRUE;
		return invalid(error, "%s is missing", name);
	}
	if (!isfinite(value) || value < min || value > max)
		return invalid(error, "%s %g is outside [%g, %g]", name, value,
			       min, max);
	return TRUE;
}

/* A string that must fit a char[@size] field (NUL included). */
static gboolean check_text(const char *text, size_t size, bool empty_ok,
			   const char *name, GError **error)
{
	size_t len;

	if (!text)
		return invalid(error, "%s is missing", name);
	len = strnlen(text, size);
	if (len == size)
		return invalid(error, "%s is longer than %zu bytes", name,
			       size - 1);
	if (!empty_ok && len == 0)
		return invalid(error, "%s is empty", name);
	if (!g_utf8_validate(text, (gssize)len, NULL))
		return invalid(error, "%s is not valid UTF-8", name);
	return TRUE;
}

/* --- transactions and batches ------------------------------------------ */

static int64_t clock_ms(store *s)
{
	return s->opts.now_ms(s->opts.now_user_data);
}

static int64_t monotonic_ms(void *user_data)
{
	return g_get_monotonic_time() / 1000;
}

static gboolean run_stmt(store *s, enum stmt_id id, const char *what,
			 GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[id];

	return step_done(s, st, what, error);
}

/* Opens a transaction unless one is open; it is the batch from now on. */
static gboolean tx_begin(store *s, GError **error)
{
	if (s->in_tx)
		return TRUE;
	if (!run_stmt(s, STMT_BEGIN, "beginning a transaction", error))
		return FALSE;
	s->in_tx = true;
	if (s->pending_rows == 0)
		s->batch_start_ms = clock_ms(s);
	return TRUE;
}

static gboolean write_row(store *s, const struct held_row *h, GError **error);
static gboolean put_device_row(store *s, const struct store_device *d,
			       GError **error);
static bool is_storage_failure(int code);
static gboolean write_beats(store *s, GError **error);

static bool is_beat(const struct held_row *h)
{
	return h->kind == HELD_RR || h->kind == HELD_HR;
}

/* Whether the batch has rows or device states not yet in a transaction. */
static bool batch_unwritten(const store *s)
{
	return s->rows_written < s->rows->len || s->devices->len > 0;
}

/*
 * Writes the batch's rows that are only in memory into the transaction,
 * opening it. A row the database refuses (a user removed meanwhile) is
 * dropped and counted; a storage failure holds every row (enter_failing)
 * and returns FALSE.
 */
static gboolean write_unwritten(store *s, GError **error)
{
	if (!batch_unwritten(s))
		return TRUE;
	if (!tx_begin(s, error) || !write_beats(s, error))
		return FALSE;
	while (s->rows_written < s->rows->len) {
		struct held_row *h =
		    &g_array_index(s->rows, struct held_row, s->rows_written);
		GError *local = NULL;

		if (is_beat(h)) { /* written by write_beats */
			s->rows_written++;
			continue;
		}
		if (h->kind == HELD_REFUSED) {
			g_array_remove_index(s->rows, s->rows_written);
			s->pending_rows--;
			s->refused++;
			continue;
		}
		if (write_row(s,
			      &g_array_index(s->rows, struct held_row,
					     s->rows_written),
			      &local)) {
			s->rows_written++;
			continue;
		}
		if (!s->in_tx || is_storage_failure(s->last_code)) {
			g_propagate_error(error, local);
			return FALSE;
		}
		g_error_free(local);
		g_array_remove_index(s->rows, s->rows_written);
		s->pending_rows--;
		s->refused++;
	}
	for (guint i = 0; i < s->devices->len; i++)
		if (!put_device_row(
			s, &g_array_index(s->devices, struct store_device, i),
			error))
			return FALSE;
	g_array_set_size(s->devices, 0);
	return TRUE;
}

/*
 * Commits the open transaction. A commit that fails, whatever the reason,
 * leaves the batch unwritten: its rows are held and retried
 * (enter_failing).
 */
static gboolean tx_commit(store *s, GError **error)
{
	if (!s->in_tx && !batch_unwritten(s))
		return TRUE;
	if (!write_unwritten(s, error) ||
	    !run_stmt(s, STMT_COMMIT, "committing", error)) {
		if (!s->failing)
			enter_failing(s);
		return FALSE;
	}
	s->in_tx = false;
	s->commits++;
	s->rows_committed += s->pending_rows;
	s->pending_rows = 0;
	g_array_set_size(s->rows, 0);
	s->rows_written = 0;
	return TRUE;
}

/*
 * Before a read of what the batch may hold (raw rows, sent marks): the
 * batch goes into the database, so that the read sees it. Inside a
 * transaction of several statements only written, not committed. A
 * storage failure holds the rows (the read then sees the database alone).
 */
static void see_batch(store *s)
{
	if (s->failing || (!s->in_tx && !batch_unwritten(s)))
		return;
	if (s->in_tx)
		write_unwritten(s, NULL);
	else
		tx_commit(s, NULL);
}

static bool batch_due(store *s)
{
	return (s->in_tx || batch_unwritten(s)) &&
	       clock_ms(s) - s->batch_start_ms >= s->opts.batch_ms;
}

/* A row joined the batch: commit when the batch is full or old enough. */
static gboolean batch_row_added(store *s, GError **error)
{
	if (s->pending_rows == 0 && !s->in_tx)
		s->batch_start_ms = clock_ms(s);
	s->pending_rows++;
	if (s->pending_rows >= s->opts.batch_rows || batch_due(s))
		return tx_commit(s, error);
	return TRUE;
}

/* --- storage failures ---------------------------------------------------- */

/*
 * Failures of the disk or the file rather than of the statement: retrying
 * later may work, and the rows must be kept until it does.
 */
static bool is_storage_failure(int code)
{
	switch (code & 0xff) {
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
		return true;
	default:
		return false;
	}
}

/* A few words for the log: what a person can act on. */
static const char *cause_name(int code, int sys_errno)
{
	/* SQLite reports a failed write(2) as IOERR: the errno says more. */
	switch (sys_errno) {
	case ENOSPC:
	case EDQUOT:
		return "disk full";
	case EROFS:
		return "read-only file system";
	case EACCES:
	case EPERM:
		return "permission denied";
	default:
		break;
	}
	switch (code & 0xff) {
	case SQLITE_FULL:
		return "disk full";
	case SQLITE_READONLY:
		return "read-only";
	case SQLITE_IOERR:
		return "I/O error";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "database file damaged";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "locked by another program";
	case SQLITE_CANTOPEN:
		return "cannot open its files";
	case SQLITE_NOMEM:
		return "out of memory";
	case SQLITE_PERM:
		return "permission denied";
	default:
		return "write failed";
	}
}

/* SQLite's message of a failure, and the system's (@sys_errno) when there
 * is one. */
static void failure_detail(const char *message, int sys_errno, char *buf,
			   size_t size)
{
	if (sys_errno)
		g_snprintf(buf, size, "%s: %s", message, g_strerror(sys_errno));
	else
		g_strlcpy(buf, message, size);
}

/* Drops the oldest held rows so that @extra more fit, 1 % at a time. */
static void trim_held(store *s, guint extra)
{
	guint max = s->opts.hold_max_rows;
	guint chunk = MAX(max / 100, 1);
	guint drop;

	if (s->rows->len + extra <= max)
		return;
	drop = MIN(s->rows->len + extra - max + chunk - 1, s->rows->len);
	g_array_remove_range(s->rows, 0, drop);
	s->dropped += drop;
}

/*
 * A write failed for a storage reason: roll back what SQLite kept of the
 * transaction (its raw rows are in s->rows), and retry after a backoff that
 * doubles with each failure, to STORE_RETRY_MAX_MS. The owner hears when a
 * failure begins.
 */
static void enter_failing(store *s)
{
	int64_t now = clock_ms(s);
	bool began = !s->failing;

	s->reschedules++;
	/* Before the rollback: it would replace SQLite's message. */
	s->cause = cause_name(s->last_code, sqlite3_system_errno(s->db));
	failure_detail(sqlite3_errmsg(s->db), sqlite3_system_errno(s->db),
		       s->detail, sizeof(s->detail));
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = false;
	s->pending_rows = 0;
	s->rows_written = 0;
	/* Not held: the next state replaces it anyway. */
	g_array_set_size(s->devices, 0);
	if (began) {
		s->failing = true;
		s->failing_since_ms = now;
		s->backoff_ms = STORE_RETRY_FIRST_MS;
		s->dropped = 0;
		s->attempts = 0;
	} else {
		s->backoff_ms = MIN(s->backoff_ms * 2, STORE_RETRY_MAX_MS);
	}
	s->next_retry_ms = now + s->backoff_ms;
	trim_held(s, 0);
	if (began && s->opts.health_changed)
		s->opts.health_changed(s->opts.health_data);
}

/*
 * After a failed write that is not held (a night, a result, an outbox
 * row): a storage failure holds the batch it rolled back. FALSE always.
 */
static gboolean write_failed(store *s)
{
	if (!s->failing && is_storage_failure(s->last_code))
		enter_failing(s);
	return FALSE;
}

/* A write that is not held: refused at once while writes fail. */
static gboolean check_available(store *s, GError **error)
{
	s->last_code = SQLITE_OK;
	if (!s->failing)
		return TRUE;
	g_set_error(error, STORE_ERROR, STORE_ERROR_UNAVAILABLE,
		    "the database cannot be written (%s: %s); %u readings "
		    "held, retrying",
		    s->cause, s->detail, s->rows->len);
	return FALSE;
}

/* The insert of each raw kind (user_id first, then the env kind, the time
 * and the values, as the statements name them), and what it is called. */
static const struct {
	enum stmt_id stmt;
	const char *what;
	bool three_values; /* v0..v2, each NULL when absent; else v0 */
} held_inserts[] = {
	/* RR and HR rows go a minute at a time (write_beats). */
	[HELD_ENV] = { STMT_ADD_ENV, "adding a sensor reading", false },
	[HELD_BODY] = { STMT_ADD_BODY, "adding a body reading", true },
	[HELD_CHECKIN] = { STMT_ADD_CHECKIN, "adding a check-in", true },
};

static gboolean write_sent(store *s, const struct held_row *h, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_OUTBOX_MARK_SENT];

	sqlite3_bind_int64(st, 1, h->t_ms);
	sqlite3_bind_int64(st, 2, (int64_t)h->v0);
	if (!step_done(s, st, "marking a message sent", error))
		return FALSE;
	if (sqlite3_changes(s->db) == 0)
		return invalid(error, "no queued message %" PRId64, h->t_ms);
	return TRUE;
}

/* Writes one raw row into the open transaction. */
static gboolean write_row(store *s, const struct held_row *h, GError **error)
{
	int param = 1;

	if (h->kind == HELD_SENT)
		return write_sent(s, h, error);
	if (h->kind >= G_N_ELEMENTS(held_inserts) ||
	    !held_inserts[h->kind].what)
		return invalid(error, "unknown held row kind %d", h->kind);

	g_autoptr(stmt_lease) st = s->stmts[held_inserts[h->kind].stmt];

	sqlite3_bind_int64(st, param++, h->user);
	if (h->kind == HELD_ENV)
		sqlite3_bind_text(st, param++, env_names[h->sub], -1,
				  SQLITE_STATIC);
	sqlite3_bind_int64(st, param++, h->t_ms);
	if (held_inserts[h->kind].three_values) {
		bind_metric(st, param, h->v0);
		bind_metric(st, param + 1, h->v1);
		bind_metric(st, param + 2, h->v2);
	} else {
		sqlite3_bind_double(st, param, h->v0);
	}
	return step_done(s, st, held_inserts[h->kind].what, error);
}

/* A beat row of the batch by its minute's key, for write_beats. */
struct beat_ref {
	int64_t minute;
	int32_t user;
	uint8_t kind;
	guint index; /* in s->rows: the order the rows came in */
};

static int compare_beat_refs(const void *a, const void *b)
{
	const struct beat_ref *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_minute(const struct beat_ref *a, const struct beat_ref *b)
{
	return a->kind == b->kind && a->user == b->user &&
	       a->minute == b->minute;
}

/*
 * Orders @refs by minute (kind, person, minute), keeping the order they
 * came in within each. A batch holds a handful of minutes (two kinds, a
 * person or two, one or two minutes), so a counting sort over a small
 * table of them is linear; more than GROUP_KEYS_MAX (an import of
 * scattered readings) fall back to a stable qsort.
 */
#define GROUP_KEYS_MAX 16

static void group_beat_refs(struct beat_ref *refs, size_t n)
{
	struct beat_ref keys[GROUP_KEYS_MAX];
	size_t count[GROUP_KEYS_MAX] = { 0 }, nkeys = 0, last = 0;
	g_autofree uint8_t *key_of = g_malloc(n);
	g_autofree struct beat_ref *sorted = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t k = last;

		if (nkeys == 0 || !same_minute(&keys[k], &refs[i]))
			for (k = 0; k < nkeys; k++)
				if (same_minute(&keys[k], &refs[i]))
					break;
		if (k == nkeys) {
			if (nkeys == GROUP_KEYS_MAX) {
				qsort(refs, n, sizeof(*refs),
				      compare_beat_refs);
				return;
			}
			keys[nkeys++] = refs[i];
		}
		key_of[i] = (uint8_t)k;
		count[k]++;
		last = k;
	}
	if (nkeys == 1)
		return;
	/* count[] becomes each key's first slot. */
	for (size_t k = 0, at = 0; k < nkeys; k++) {
		size_t c = count[k];

		count[k] = at;
		at += c;
	}
	sorted = g_new(struct beat_ref, n);
	for (size_t i = 0; i < n; i++)
		sorted[count[key_of[i]]++] = refs[i];
	memcpy(refs, sorted, n * sizeof(*refs));
}

/* Packs and writes one minute of one person's beats, @refs[0..n). */
static gboolean write_minute(store *s, const struct beat_ref *refs, size_t n,
			     GError **error)
{
	g_autofree uint8_t *blob = g_malloc(n * BEATS_ENTRY_SIZE);
	enum stmt_id id = refs[0].kind == HELD_RR ? STMT_ADD_RR : STMT_ADD_HR;
	g_autoptr(stmt_lease) st = s->stmts[id];
	long kept;

	for (size_t i = 0; i < n; i++) {
		const struct held_row *h =
		    &g_array_index(s->rows, struct held_row, refs[i].index);
		struct beat b = { .value = h->v0 };
		int64_t minute;

		beats_split(h->t_ms, &minute, &b.offset_ms);
		beats_put(blob + i * BEATS_ENTRY_SIZE, &b);
	}
	kept = beats_pack(blob, n);
	if (kept < 0)
		return invalid(error, "packing a minute of beats: %s",
			       g_strerror((int)-kept));
	sqlite3_bind_int64(st, 1, refs[0].user);
	sqlite3_bind_int64(st, 2, refs[0].minute);
	sqlite3_bind_blob(st, 3, blob, (int)(kept * BEATS_ENTRY_SIZE),
			  SQLITE_STATIC);
	return step_done(s, st,
			 id == STMT_ADD_RR ? "adding RR intervals"
					   : "adding heart rates",
			 error);
}

/*
 * The batch's unwritten RR and heart-rate rows go in a statement a minute:
 * grouped by (kind, person, minute), in the order they came (the first
 * reading at an instant is the one kept, as the row-a-reading layout's
 * ON CONFLICT DO NOTHING kept it), merged into the minute stored. A minute
 * the database refuses (its person removed meanwhile) has its rows marked
 * HELD_REFUSED, for write_unwritten to drop and count. A storage failure
 * returns FALSE: the rows stay, and are written again whole after the
 * rollback (a merge repeated is the merge done once).
 */
static gboolean write_beats(store *s, GError **error)
{
	g_autofree struct beat_ref *refs = NULL;
	size_t n = 0;

	for (guint i = s->rows_written; i < s->rows->len; i++)
		if (is_beat(&g_array_index(s->rows, struct held_row, i)))
			n++;
	if (n == 0)
		return TRUE;
	refs = g_new(struct beat_ref, n);
	n = 0;
	for (guint i = s->rows_written; i < s->rows->len; i++) {
		const struct held_row *h =
		    &g_array_index(s->rows, struct held_row, i);
		uint16_t offset_ms;

		if (!is_beat(h))
			continue;
		refs[n] = (struct beat_ref){ .user = h->user,
					     .kind = h->kind,
					     .index = i };
		beats_split(h->t_ms, &refs[n].minute, &offset_ms);
		n++;
	}
	group_beat_refs(refs, n);
	for (size_t start = 0, end; start < n; start = end) {
		GError *local = NULL;

		for (end = start + 1;
		     end < n && refs[end].kind == refs[start].kind &&
		     refs[end].user == refs[start].user &&
		     refs[end].minute == refs[start].minute;
		     end++)
			;
		if (write_minute(s, refs + start, end - start, &local))
			continue;
		if (!s->in_tx || is_storage_failure(s->last_code)) {
			g_propagate_error(error, local);
			return FALSE;
		}
		g_error_free(local);
		for (size_t i = start; i < end; i++)
			g_array_index(s->rows, struct held_row, refs[i].index)
			    .kind = HELD_REFUSED;
	}
	return TRUE;
}

/* Whether user @id exists: the cache first, the users table when the id
 * is new to it (a handful of times in a daemon's life). */
static gboolean user_known(store *s, int64_t id, GError **error)
{
	for (int pass = 0; pass < 2; pass++) {
		for (guint i = 0; i < s->known_users->len; i++)
			if (g_array_index(s->known_users, int64_t, i) == id)
				return TRUE;
		if (pass == 1)
			break;

		g_autoptr(stmt_lease) st = s->stmts[STMT_USER_LIST];
		int rc;

		g_array_set_size(s->known_users, 0);
		while ((rc = step_row(s, st, "listing users", error)) > 0) {
			int64_t known = sqlite3_column_int64(st, 0);

			g_array_append_val(s->known_users, known);
		}
		if (rc < 0)
			return FALSE;
	}
	return invalid(error, "unknown user %" PRId64, id);
}

/*
 * A raw row joins the batch in memory; the batch is written in one
 * transaction when it is full or old enough, or before a read that must
 * see it. While writes fail it is only held. TRUE when it is kept;
 * FALSE with @error for an unknown user.
 */
static gboolean batch_add(store *s, const struct held_row *h, GError **error)
{
	GError *local = NULL;

	s->last_code = SQLITE_OK;
	if (h->kind != HELD_SENT && !user_known(s, h->user, error))
		return FALSE;
	if (s->failing) {
		trim_held(s, 1);
		g_array_append_val(s->rows, *h);
		return TRUE;
	}
	g_array_append_val(s->rows, *h);
	if (batch_row_added(s, &local))
		return TRUE;
	if (!s->failing && is_storage_failure(s->last_code))
		enter_failing(s);
	/* Held with the rest of the batch: nothing is lost. */
	g_error_free(local);
	return TRUE;
}

/* A write that proves the disk takes writes, when no row is held: the
 * schema version, rewritten as it is. */
static gboolean probe_write(store *s, GError **error)
{
	g_autofree char *sql =
	    g_strdup_printf("PRAGMA user_version = %d", s->schema_version);
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return TRUE;
	s->last_code = sqlite3_extended_errcode(s->db);
	g_set_error(error, STORE_ERROR, STORE_ERROR_SQL, "writing: %s",
		    msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return FALSE;
}

/*
 * Writes everything held in one transaction. On success the failure ends
 * (the owner hears); otherwise the backoff doubles.
 */
static void retry(store *s)
{
	const guint n = s->rows->len;
	const uint64_t reschedules = s->reschedules;
	uint64_t refused = 0;
	GError *local = NULL;

	s->attempts++;
	s->last_code = SQLITE_OK;
	if (!tx_begin(s, &local) || !write_beats(s, &local))
		goto failed;
	for (guint i = 0; i < n; i++) {
		const struct held_row *h =
		    &g_array_index(s->rows, struct held_row, i);

		if (is_beat(h))
			continue; /* written by write_beats */
		if (h->kind != HELD_REFUSED && write_row(s, h, &local))
			continue;
		if (h->kind == HELD_REFUSED) {
			refused++;
			continue;
		}
		if (!s->in_tx || is_storage_failure(s->last_code))
			goto failed;
		/* A row the database refuses now: dropped, counted. */
		g_clear_error(&local);
		refused++;
	}
	if ((n == 0 && !probe_write(s, &local)) ||
	    !run_stmt(s, STMT_COMMIT, "committing held readings", &local))
		goto failed;
	s->in_tx = false;
	s->commits++;
	s->rows_committed += n - refused;
	g_array_set_size(s->rows, 0);
	s->rows_written = 0;
	s->last_outage = (struct store_outage){
		.duration_ms = clock_ms(s) - s->failing_since_ms,
		.written_rows = n - refused,
		.dropped_rows = s->dropped + refused,
	};
	s->outages++;
	s->failing = false;
	s->cause = NULL;
	s->detail[0] = '\0';
	s->failing_since_ms = 0;
	s->dropped = 0;
	if (s->opts.health_changed)
		s->opts.health_changed(s->opts.health_data);
	return;

failed:
	g_clear_error(&local);
	/* sql_fail has rescheduled already when SQLite dropped the
	 * transaction; otherwise roll back and reschedule here. */
	if (s->reschedules == reschedules)
		enter_failing(s);
}

gboolean store_flush(store *s, GError **error)
{
	/* A failed commit holds the rows: tried once more below. */
	if (!s->failing)
		tx_commit(s, NULL);
	if (s->failing)
		retry(s);
	if (!s->failing)
		return TRUE;
	g_set_error(error, STORE_ERROR, STORE_ERROR_UNAVAILABLE,
		    "%u readings held in memory are not written: %s (%s)",
		    s->rows->len, s->cause, s->detail);
	return FALSE;
}

gboolean store_tick(store *s, GError **error)
{
	if (s->failing) {
		if (clock_ms(s) >= s->next_retry_ms)
			retry(s);
		return TRUE;
	}
	/* A failed commit holds the rows, and the health says so. */
	if (batch_due(s))
		tx_commit(s, NULL);
	return TRUE;
}

gboolean store_check_writable(store *s, GError **error)
{
	g_autofree char *sql =
	    g_strdup_printf("BEGIN IMMEDIATE; PRAGMA user_version = %d; "
			    "COMMIT",
			    s->schema_version);
	char *msg = NULL;
	int code, sys_errno;
	char detail[256];

	if (s->in_tx || s->failing || batch_unwritten(s))
		return store_flush(s, error);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return TRUE;
	code = sqlite3_extended_errcode(s->db);
	sys_errno = sqlite3_system_errno(s->db);
	failure_detail(msg ? msg : sqlite3_errmsg(s->db), sys_errno, detail,
		       sizeof(detail));
	sqlite3_free(msg);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	g_set_error(error, STORE_ERROR, STORE_ERROR_UNAVAILABLE,
		    "cannot be written: %s (%s)", cause_name(code, sys_errno),
		    detail);
	return FALSE;
}

void store_get_stats(store *s, struct store_stats *ret)
{
	*ret = (struct store_stats){
		.commits = s->commits,
		.rows_committed = s->rows_committed,
		.pending_rows = s->failing ? 0 : s->pending_rows,
	};
}

void store_get_health(store *s, struct store_health *ret)
{
	*ret = (struct store_health){
		.failing = s->failing,
		.cause = s->failing ? s->cause : NULL,
		.detail = s->failing ? s->detail : "",
		.failing_since_ms = s->failing_since_ms,
		.next_retry_ms = s->failing ? s->next_retry_ms : 0,
		.held_rows = s->failing ? s->rows->len : 0,
		.dropped_rows = s->dropped,
		.attempts = s->attempts,
		.outages = s->outages,
		.last_outage = s->last_outage,
	};
}

/* --- damaged rows ----------------------------------------------------------
 */

/* A row that did not read back (@why): recorded for the owner, freed. */
static void skip_row(store *s, const struct row *r, GError *why)
{
	struct store_damage d = { .day = -1 };
	sqlite3_stmt *st = r->st;

	d.derived = !strcmp(r->table, "nights") || !strcmp(r->table, "results");
	g_strlcpy(d.table, r->table, sizeof(d.table));
	g_strlcpy(d.message, why->message, sizeof(d.message));
	/* The raw and derived tables start with user_id (users and the
	 * outbox with their own id). */
	if (strcmp(r->table, "users") != 0 && strcmp(r->table, "outbox") != 0 &&
	    sqlite3_column_type(st, 0) == SQLITE_INTEGER)
		d.user = sqlite3_column_int64(st, 0);
	if (d.derived && sqlite3_column_type(st, 1) == SQLITE_INTEGER) {
		int64_t day = sqlite3_column_int64(st, 1);

		if (day >= 0 && day <= INT32_MAX)
			d.day = (int32_t)day;
	}
	if (s->damage->len < STORE_DAMAGE_MAX)
		g_array_append_val(s->damage, d);
	else
		s->damage_more++;
	g_error_free(why);
}

uint64_t store_take_damage(store *s, GArray *ret)
{
	uint64_t more = s->damage_more;

	g_array_append_vals(ret, s->damage->data, s->damage->len);
	g_array_set_size(s->damage, 0);
	s->damage_more = 0;
	return more;
}

/* --- open, migrate, close ---------------------------------------------- */

static gboolean exec_sql(store *s, const char *sql, enum store_error_code code,
			 const char *what, GError **error)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		g_set_error(error, STORE_ERROR, code, "%s: %s", what,
			    msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return FALSE;
	}
	return TRUE;
}

static gboolean read_user_version(store *s, int *ret, GError **error)
{
	g_autoptr(sqlite3_stmt) st = NULL;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "reading the schema version: %s",
			    sqlite3_errmsg(s->db));
		return FALSE;
	}
	*ret = sqlite3_column_int(st, 0);
	return TRUE;
}

/* A schema version this program can open: 0 (new) to the latest. */
static gboolean version_known(int version, GError **error)
{
	if (version > SCHEMA_LATEST) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
			    "the database has schema version %d, newer than "
			    "version %d, the newest this program knows",
			    version, SCHEMA_LATEST);
		return FALSE;
	}
	if (version < 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
			    "the database has schema version %d", version);
		return FALSE;
	}
	return TRUE;
}

/* Whether a table named @name exists. -1 when SQLite fails. */
static int table_exists(store *s, const char *name)
{
	g_autoptr(sqlite3_stmt) st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT 1 FROM sqlite_master WHERE type = "
			       "'table' AND name = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Whether the file is ours, read before anything is written to it (the
 * switch to WAL writes the header): an SQLite database at all; at version
 * 0, empty (tables there belong to another program, a wrong path, and
 * creating ours among them would mix the two); not newer than this
 * program; at a version of ours, with our tables.
 */
static gboolean check_ours(store *s, GError **error)
{
	/* The tables every version has, and those of versions before and
	 * from 7 (a minute a row). */
	static const char *const tables[] = {
		"users",    "devices", "env",	  "body",
		"checkins", "nights",  "results", "outbox",
	};
	static const char *const beat_tables[2][2] = {
		{ "rr", "hr" },
		{ "rr_minutes", "hr_minutes" },
	};
	g_autoptr(sqlite3_stmt) st = NULL;
	int version, rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT name FROM sqlite_master WHERE type = "
			       "'table' AND name NOT LIKE 'sqlite_%' LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		if (sqlite3_errcode(s->db) == SQLITE_NOTADB)
			g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
				    "not an SQLite database (%s): not "
				    "recoveryd's database, or a damaged one; "
				    "is the path right?",
				    sqlite3_errmsg(s->db));
		else
			g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
				    "reading the table list: %s",
				    sqlite3_errmsg(s->db));
		return FALSE;
	}
	if (!read_user_version(s, &version, error) ||
	    !version_known(version, error))
		return FALSE;
	if (version == 0) {
		g_autofree char *name = NULL;

		if (rc == SQLITE_DONE)
			return TRUE;
		name = quote_text((const char *)sqlite3_column_text(st, 0), -1,
				  QUOTE_PLAIN);
		g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
			    "holds tables that are not recoveryd's (%s, and no "
			    "recoveryd schema version): not touched; is the "
			    "path right?",
			    name);
		return FALSE;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(tables) + 2; i++) {
		const char *name =
		    i < G_N_ELEMENTS(tables)
			? tables[i]
			: beat_tables[version >= 7][i - G_N_ELEMENTS(tables)];
		int exists = table_exists(s, name);

		if (exists < 0) {
			g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
				    "reading the table list: %s",
				    sqlite3_errmsg(s->db));
			return FALSE;
		}
		if (!exists) {
			g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
				    "the tables are not recoveryd's schema "
				    "version %d (no table %s): not touched",
				    version, name);
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * Each step runs in its own IMMEDIATE transaction and re-reads the version
 * inside it: a second process opening the same file at the same moment
 * waits (busy_timeout) and then finds the work done instead of repeating it.
 */
static gboolean migrate(store *s, GError **error)
{
	for (;;) {
		int version;
		g_autofree char *set_version = NULL;
		g_autofree char *what = NULL;

		if (!exec_sql(s, "BEGIN IMMEDIATE", STORE_ERROR_OPEN,
			      "locking the database to migrate it", error))
			return FALSE;
		if (!read_user_version(s, &version, error) ||
		    !version_known(version, error))
			goto rollback;
		if (version == SCHEMA_LATEST) {
			s->schema_version = version;
			return exec_sql(s, "COMMIT", STORE_ERROR_OPEN,
					"ending the schema check", error);
		}
		what = g_strdup_printf("migrating the schema to version %d",
				       version + 1);
		/* PRAGMA cannot take a bound parameter. */
		set_version =
		    g_strdup_printf("PRAGMA user_version = %d", version + 1);
		if (!exec_sql(s, migrations[version], STORE_ERROR_SCHEMA, what,
			      error) ||
		    !exec_sql(s, set_version, STORE_ERROR_SCHEMA, what,
			      error) ||
		    !exec_sql(s, "COMMIT", STORE_ERROR_SCHEMA, what, error))
			goto rollback;
	}

rollback:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return FALSE;
}

static char *night_put_sql(void)
{
	GString *sql = g_string_new("INSERT INTO nights (user_id, day");

	for (size_t i = 0; i < G_N_ELEMENTS(night_cols); i++)
		g_string_append_printf(sql, ", %s", night_cols[i].name);
	g_string_append(sql, ") VALUES (?1, ?2");
	for (size_t i = 0; i < G_N_ELEMENTS(night_cols); i++)
		g_string_append_printf(sql, ", ?%zu", i + 3);
	g_string_append(sql, ") ON CONFLICT (user_id, day) DO UPDATE SET ");
	for (size_t i = 0; i < G_N_ELEMENTS(night_cols); i++)
		g_string_append_printf(sql, "%s%s = excluded.%s", i ? ", " : "",
				       night_cols[i].name, night_cols[i].name);
	return g_string_free(sql, FALSE);
}

static char *night_get_sql(void)
{
	GString *sql = g_string_new("SELECT user_id, day");

	for (size_t i = 0; i < G_N_ELEMENTS(night_cols); i++)
		g_string_append_printf(sql, ", %s", night_cols[i].name);
	g_string_append(sql, " FROM nights WHERE user_id = ?1 AND day >= ?2 "
			     "AND day <= ?3 ORDER BY day");
	return g_string_free(sql, FALSE);
}

static gboolean prepare_all(store *s, GError **error)
{
	g_autofree char *put_night = night_put_sql();
	g_autofree char *get_night = night_get_sql();

	for (int i = 0; i < STMT_COUNT; i++) {
		const char *sql = stmt_sql[i];

		if (i == STMT_PUT_NIGHT)
			sql = put_night;
		else if (i == STMT_GET_NIGHTS)
			sql = get_night;
		/* PERSISTENT: these live as long as the connection. */
		if (sqlite3_prepare_v3(s->db, sql, -1,
				       SQLITE_PREPARE_PERSISTENT, &s->stmts[i],
				       NULL) != SQLITE_OK) {
			/* The version says ours, the tables say otherwise:
			 * nothing here would read or write them right. */
			g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
				    "the tables are not recoveryd's schema "
				    "version %d (%s)",
				    s->schema_version, sqlite3_errmsg(s->db));
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean set_wal(store *s, GError **error)
{
	g_autoptr(sqlite3_stmt) st = NULL;
	const unsigned char *mode;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "switching to WAL: %s", sqlite3_errmsg(s->db));
		return FALSE;
	}
	mode = sqlite3_column_text(st, 0);
	/* SQLite answers with the mode it kept: a file system without
	 * shared memory (some network mounts) keeps the rollback journal,
	 * and then a reader would block the writer. */
	if (!mode || g_ascii_strcasecmp((const char *)mode, "wal") != 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "the database stays in journal mode %s, not WAL",
			    mode ? (const char *)mode : "(unknown)");
		return FALSE;
	}
	return TRUE;
}

/*
 * A store that cannot be set up because of the disk (a read-only file
 * system where SQLite cannot make its -shm file, a full disk, a lock):
 * the message leads with the cause a person can act on.
 */
static void open_failed(store *s, const char *path, GError **error)
{
	int code = sqlite3_extended_errcode(s->db);
	int sys_errno = sqlite3_system_errno(s->db);
	g_autofree char *dir = g_path_get_dirname(path);
	char detail[256];
	GError *plain;

	/* Not a database at all: said as it is. */
	if (!error || !*error || (*error)->code != STORE_ERROR_OPEN ||
	    !is_storage_failure(code) || (code & 0xff) == SQLITE_NOTADB)
		return;
	/* SQLite cannot make its -shm file: its last errno is from the
	 * read-only fallback it tried; the directory says why. */
	if ((code & 0xff) == SQLITE_CANTOPEN && access(dir, W_OK) != 0)
		sys_errno = errno;
	plain = *error;
	*error = NULL;
	failure_detail(plain->message, sys_errno, detail, sizeof(detail));
	g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
		    "cannot be used: %s (%s)", cause_name(code, sys_errno),
		    detail);
	g_error_free(plain);
}

/* --- the SQL functions of packed minutes (beats.h) --------------------- */

static void merge_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const uint8_t *old = sqlite3_value_blob(argv[0]);
	size_t old_size = (size_t)sqlite3_value_bytes(argv[0]);
	const uint8_t *add = sqlite3_value_blob(argv[1]);
	size_t add_size = (size_t)sqlite3_value_bytes(argv[1]);
	g_autofree uint8_t *out = NULL;
	size_t bad;
	long n;

	(void)argc;
	if (beats_check(add, add_size, &bad) < 0) {
		sqlite3_result_error(ctx, "beats_merge: new beats malformed",
				     -1);
		return;
	}
	/* A damaged stored minute keeps what is readable of it (what
	 * read_minute reads); the rest could not be read anyway. */
	if (beats_check(old, old_size, &bad) < 0)
		old_size = bad * BEATS_ENTRY_SIZE;
	out = g_malloc(old_size + add_size + 1);
	n = beats_merge(old, old_size, add, add_size, out);
	if (n < 0) {
		sqlite3_result_error(ctx, "beats_merge: malformed", -1);
		return;
	}
	sqlite3_result_blob(ctx, g_steal_pointer(&out), (int)n, g_free);
}

static void last_ms_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t minute = sqlite3_value_int64(argv[0]);
	const uint8_t *blob = sqlite3_value_blob(argv[1]);
	size_t size = (size_t)sqlite3_value_bytes(argv[1]);
	struct beat b;
	size_t bad;

	(void)argc;
	if (beats_check(blob, size, &bad) < 0)
		size = bad * BEATS_ENTRY_SIZE;
	if (size == 0 || minute <= -BEATS_T_MS_LIMIT / BEATS_MINUTE_MS ||
	    minute >= BEATS_T_MS_LIMIT / BEATS_MINUTE_MS ||
	    beats_get(blob, size, size / BEATS_ENTRY_SIZE - 1, &b) < 0) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int64(ctx, beats_join(minute, b.offset_ms));
}

/* pack_beats(t_ms, value): the aggregate migration 7 packs with. */
static void pack_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	GByteArray **acc = sqlite3_aggregate_context(ctx, sizeof(*acc));
	int64_t t_ms = sqlite3_value_int64(argv[0]);
	int type = sqlite3_value_type(argv[1]);
	uint8_t entry[BEATS_ENTRY_SIZE];
	struct beat b = { .value = sqlite3_value_double(argv[1]) };
	int64_t minute;

	(void)argc;
	if (!acc) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	/* A value that is no number was never read as a beat: not carried
	 * over, as the old layout's reader skipped it. */
	if (type != SQLITE_FLOAT && type != SQLITE_INTEGER)
		return;
	if (t_ms <= -BEATS_T_MS_LIMIT || t_ms >= BEATS_T_MS_LIMIT) {
		sqlite3_result_error(ctx, "pack_beats: t_ms out of range", -1);
		return;
	}
	if (!*acc)
		*acc = g_byte_array_new();
	beats_split(t_ms, &minute, &b.offset_ms);
	beats_put(entry, &b);
	g_byte_array_append(*acc, entry, sizeof(entry));
}

static void pack_final(sqlite3_context *ctx)
{
	GByteArray **acc = sqlite3_aggregate_context(ctx, 0);
	g_autoptr(GByteArray) bytes = acc ? *acc : NULL;
	long n;

	if (!bytes) {
		sqlite3_result_zeroblob(ctx, 0);
		return;
	}
	/* The rows came in no promised order. */
	n = beats_pack(bytes->data, bytes->len / BEATS_ENTRY_SIZE);
	if (n < 0) {
		sqlite3_result_error(ctx, "pack_beats: bad beats", -1);
		return;
	}
	sqlite3_result_blob(ctx, bytes->data, (int)(n * BEATS_ENTRY_SIZE),
			    SQLITE_TRANSIENT);
}

/* Registers the functions the schema's statements and migrations use, on
 * this connection only (DIRECTONLY: never from a trigger or view a
 * damaged file might bring). */
static gboolean add_functions(store *s, GError **error)
{
	const int flags =
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;

	if (sqlite3_create_function(s->db, "beats_merge", 2, flags, NULL,
				    merge_fn, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "beats_last_ms", 2, flags, NULL,
				    last_ms_fn, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "pack_beats", 2, flags, NULL, NULL,
				    pack_step, pack_final) != SQLITE_OK) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "registering the store's SQL functions: %s",
			    sqlite3_errmsg(s->db));
		return FALSE;
	}
	return TRUE;
}

store *store_open(const char *path, const struct store_options *opts,
		  GError **error)
{
	g_autoptr(store) s = g_new0(store, 1);
	int fd;
	int rc;

	if (!path || !*path) {
		invalid(error, "no database path");
		return NULL;
	}
	if (opts)
		s->opts = *opts;
	if (s->opts.batch_rows == 0)
		s->opts.batch_rows = DEFAULT_BATCH_ROWS;
	if (s->opts.batch_ms <= 0)
		s->opts.batch_ms = DEFAULT_BATCH_MS;
	if (s->opts.retention_days <= 0)
		s->opts.retention_days = DEFAULT_RETENTION_DAYS;
	if (!s->opts.now_ms)
		s->opts.now_ms = monotonic_ms;
	if (s->opts.hold_max_rows == 0)
		s->opts.hold_max_rows = STORE_HOLD_MAX_ROWS;
	if (s->opts.busy_timeout_ms <= 0)
		s->opts.busy_timeout_ms = BUSY_TIMEOUT_MS;
	s->rows = g_array_sized_new(FALSE, FALSE, sizeof(struct held_row),
				    MIN(s->opts.batch_rows, 4096));
	s->devices = g_array_new(FALSE, FALSE, sizeof(struct store_device));
	s->known_users = g_array_new(FALSE, FALSE, sizeof(int64_t));
	s->damage = g_array_new(FALSE, FALSE, sizeof(struct store_damage));

	/* Health data: a new file is private (0600 exactly, whatever the
	 * umask), and SQLite gives the -wal and -shm files the mode of the
	 * database. An existing file keeps the mode its owner chose. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	rc = fd >= 0 ? fchmod(fd, 0600) : errno == EEXIST ? 0 : -1;
	if (rc < 0) {
		int errsv = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "cannot create %s: %s", path, g_strerror(errsv));
		return NULL;
	}
	if (fd >= 0)
		close(fd);

	/* No SQLITE_OPEN_CREATE: were the file gone already, SQLite would
	 * create it with the default mode. NOMUTEX: one thread owns a store,
	 * so the per-call connection mutex is pure cost. */
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
			    "cannot open %s: %s", path,
			    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return NULL;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, s->opts.busy_timeout_ms);

	if (!check_ours(s, error) || !set_wal(s, error) ||
	    !add_functions(s, error) ||
	    !exec_sql(s,
		      /* FULL, not NORMAL: in WAL mode NORMAL commits are
		       * not synced, and a power cut could take back every
		       * batch since the last checkpoint (hours). One fsync
		       * per commit is cheap at a commit per 30 s. */
		      "PRAGMA synchronous = FULL;"
		      "PRAGMA foreign_keys = ON;"
		      /* 1 MiB of page cache, not SQLite's 2: the daemon's
		       * budget is 8 MB, and the file's pages stay in the
		       * kernel's cache anyway. */
		      "PRAGMA cache_size = -1024;",
		      STORE_ERROR_OPEN, "setting up the connection", error) ||
	    !migrate(s, error) || !prepare_all(s, error)) {
		open_failed(s, path, error);
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	return g_steal_pointer(&s);
}

void store_close(store *s)
{
	if (!s)
		return;
	/* Nobody to report to: what store_flush cannot write now is lost as
	 * after a crash (the daemon flushes first, and says so). */
	if (s->db && s->stmts[STMT_COMMIT])
		store_flush(s, NULL);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	if (s->rows)
		g_array_free(s->rows, TRUE);
	if (s->devices)
		g_array_free(s->devices, TRUE);
	if (s->known_users)
		g_array_free(s->known_users, TRUE);
	if (s->damage)
		g_array_free(s->damage, TRUE);
	g_free(s);
}

int store_schema_version(store *s)
{
	return s->schema_version;
}

/* --- users --------------------------------------------------------------- */

static gboolean user_find(store *s, const char *name, int64_t *ret_id,
			  bool *ret_found, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_USER_FIND];
	struct row r = { st, "users", 1 };
	int found;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = step_row(s, st, "looking up a user", error);
	if (found < 0)
		return FALSE;
	*ret_found = found;
	if (found)
		return row_int(&r, 0, 1, INT64_MAX, false, 0, ret_id, error);
	return TRUE;
}

static gboolean user_add(store *s, const char *name, int64_t *ret_id,
			 GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_USER_ADD];

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (!step_done(s, st, "adding a user", error))
		return FALSE;
	*ret_id = sqlite3_last_insert_rowid(s->db);
	return TRUE;
}

gboolean store_user_id(store *s, const char *name, int64_t *ret_id,
		       GError **error)
{
	bool found;
	int64_t id;

	if (!name || !*name || !g_utf8_validate(name, -1, NULL))
		return invalid(error, "a user needs a name in UTF-8");
	if (!user_find(s, name, &id, &found, error))
		return FALSE;
	if (!found) {
		if (!check_available(s, error))
			return FALSE;
		if (!tx_begin(s, error) || !user_add(s, name, &id, error) ||
		    !tx_commit(s, error))
			return write_failed(s);
	}
	*ret_id = id;
	return TRUE;
}

gboolean store_list_users(store *s, GArray *ret_ids, GPtrArray *ret_names,
			  GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_USER_LIST];
	struct row r = { st, "users", 1 };
	guint ids_len = ret_ids->len, names_len = ret_names->len;
	int rc;

	g_ptr_array_set_free_func(ret_names, g_free);
	while ((rc = step_row(s, st, "listing users", error)) > 0) {
		int64_t id;
		const char *name;
		GError *bad = NULL;

		if (!row_int(&r, 0, 1, INT64_MAX, false, 0, &id, &bad) ||
		    !row_text(&r, 1, G_MAXINT, false, &name, &bad)) {
			skip_row(s, &r, bad);
			continue;
		}
		g_array_append_val(ret_ids, id);
		g_ptr_array_add(ret_names, g_strdup(name));
	}
	if (rc < 0) {
		g_array_set_size(ret_ids, ids_len);
		g_ptr_array_set_size(ret_names, (gint)names_len);
		return FALSE;
	}
	return TRUE;
}

/* --- raw readings -------------------------------------------------------- */

/*
 * A held row keeps a user id in 32 bits: the ids SQLite gives (1, 2, ...)
 * never come near it, and a row that claims more names no user.
 */
static gboolean held_user(int64_t user, int32_t *ret, GError **error)
{
	if (user < 1 || user > INT32_MAX)
		return invalid(error, "user %" PRId64 " is not a user id",
			       user);
	*ret = (int32_t)user;
	return TRUE;
}

/* An instant a packed minute can keep (beats.h). */
static gboolean check_beat_time(int64_t t_ms, GError **error)
{
	if (t_ms > -BEATS_T_MS_LIMIT && t_ms < BEATS_T_MS_LIMIT)
		return TRUE;
	return invalid(error,
		       "t_ms %" PRId64 " is out of range (expected within "
		       "+-2^62 ms of 1970)",
		       t_ms);
}

gboolean store_add_rr(store *s, int64_t user, int64_t t_ms, double rr_ms,
		      GError **error)
{
	struct held_row h = { .t_ms = t_ms, .v0 = rr_ms, .kind = HELD_RR };

	if (!check_beat_time(t_ms, error) ||
	    !check_range(rr_ms, 0, RR_MS_MAX, false, "rr_ms", error) ||
	    !held_user(user, &h.user, error))
		return FALSE;
	return batch_add(s, &h, error);
}

gboolean store_add_hr(store *s, int64_t user, int64_t t_ms, double bpm,
		      GError **error)
{
	struct held_row h = { .t_ms = t_ms, .v0 = bpm, .kind = HELD_HR };

	if (!check_beat_time(t_ms, error) ||
	    !check_range(bpm, 0, BPM_MAX, false, "bpm", error) ||
	    !held_user(user, &h.user, error))
		return FALSE;
	return batch_add(s, &h, error);
}

/*
 * The env table holds both states and environment readings, told apart by
 * a kind named in text so the two C enums can never collide in it.
 */
struct env_kind_info {
	uint8_t index; /* in env_names */
	double min, max;
};

static bool state_kind_info(enum store_state_kind kind,
			    struct env_kind_info *ret)
{
	switch (kind) {
	case STORE_STATE_BED:
		*ret = (struct env_kind_info){ 0, 0, 1 };
		return true;
	case STORE_STATE_MOTION:
		*ret = (struct env_kind_info){ 1, 0, 1 };
		return true;
	default:
		return false;
	}
}

static bool env_kind_info(enum store_env_kind kind, struct env_kind_info *ret)
{
	switch (kind) {
	case STORE_ENV_TEMPERATURE_C:
		*ret = (struct env_kind_info){ 2, -273.15, 1000 };
		return true;
	case STORE_ENV_HUMIDITY_PCT:
		*ret = (struct env_kind_info){ 3, 0, 100 };
		return true;
	case STORE_ENV_CO2_PPM:
		*ret = (struct env_kind_info){ 4, 0, 1e6 };
		return true;
	case STORE_ENV_ILLUMINANCE_LX:
		*ret = (struct env_kind_info){ 5, 0, 1e6 };
		return true;
	default:
		return false;
	}
}

static gboolean add_env_row(store *s, int64_t user, uint8_t kind, int64_t t_ms,
			    double value, GError **error)
{
	struct held_row h = {
		.t_ms = t_ms, .v0 = value, .kind = HELD_ENV, .sub = kind
	};

	if (!held_user(user, &h.user, error))
		return FALSE;
	return batch_add(s, &h, error);
}

gboolean store_add_state(store *s, int64_t user, enum store_state_kind kind,
			 int64_t t_ms, bool on, GError **error)
{
	struct env_kind_info info;

	if (!state_kind_info(kind, &info))
		return invalid(error, "unknown state kind %d", (int)kind);
	return add_env_row(s, user, info.index, t_ms, on ? 1.0 : 0.0, error);
}

gboolean store_add_env(store *s, int64_t user, enum store_env_kind kind,
		       int64_t t_ms, double value, GError **error)
{
	struct env_kind_info info;

	if (!env_kind_info(kind, &info))
		return invalid(error, "unknown environment kind %d", (int)kind);
	if (!check_range(value, info.min, info.max, false,
			 env_names[info.index], error))
		return FALSE;
	return add_env_row(s, user, info.index, t_ms, value, error);
}

gboolean store_add_body(store *s, int64_t user, int64_t t_ms, double weight_kg,
			double body_fat_pct, double impedance_ohm,
			GError **error)
{
	struct held_row h = {
		.t_ms = t_ms,
		.v0 = weight_kg,
		.v1 = body_fat_pct,
		.v2 = impedance_ohm,
		.kind = HELD_BODY,
	};

	if (!check_range(weight_kg, 0, WEIGHT_KG_MAX, true, "weight_kg",
			 error) ||
	    !check_range(body_fat_pct, 0, 100, true, "body_fat_pct", error) ||
	    !check_range(impedance_ohm, 0, IMPEDANCE_OHM_MAX, true,
			 "impedance_ohm", error))
		return FALSE;
	if (!metric_present(weight_kg) && !metric_present(body_fat_pct) &&
	    !metric_present(impedance_ohm))
		return invalid(error, "a body reading without any value");
	if (!held_user(user, &h.user, error))
		return FALSE;
	return batch_add(s, &h, error);
}

gboolean store_add_checkin(store *s, int64_t user, int64_t t_ms, double mood,
			   double soreness, double energy, GError **error)
{
	struct held_row h = {
		.t_ms = t_ms,
		.v0 = mood,
		.v1 = soreness,
		.v2 = energy,
		.kind = HELD_CHECKIN,
	};

	if (!check_range(mood, CHECKIN_MIN, CHECKIN_MAX, true, "mood", error) ||
	    !check_range(soreness, CHECKIN_MIN, CHECKIN_MAX, true, "soreness",
			 error) ||
	    !check_range(energy, CHECKIN_MIN, CHECKIN_MAX, true, "energy",
			 error))
		return FALSE;
	if (!metric_present(mood) && !metric_present(soreness) &&
	    !metric_present(energy))
		return invalid(error, "a check-in without any value");
	if (!held_user(user, &h.user, error))
		return FALSE;
	return batch_add(s, &h, error);
}

static gboolean prune_table(store *s, enum stmt_id id, int64_t cutoff,
			    GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[id];

	sqlite3_bind_int64(st, 1, cutoff);
	return step_done(s, st, "pruning old readings", error);
}

gboolean store_prune(store *s, int64_t now_ms, GError **error)
{
	int64_t cutoff_ms = now_ms - s->opts.retention_days * MS_PER_DAY;
	int64_t cutoff_minute;
	uint16_t offset_ms;

	/* Whole minutes: one goes when all of it is older than the
	 * retention, so raw beats are kept up to a minute longer. */
	beats_split(
	    CLAMP(cutoff_ms, -BEATS_T_MS_LIMIT + 1, BEATS_T_MS_LIMIT - 1),
	    &cutoff_minute, &offset_ms);
	see_batch(s); /* old rows of the batch go too */
	if (!check_available(s, error))
		return FALSE;
	if (!tx_begin(s, error) ||
	    !prune_table(s, STMT_PRUNE_RR, cutoff_minute, error) ||
	    !prune_table(s, STMT_PRUNE_HR, cutoff_minute, error) ||
	    !tx_commit(s, error))
		return write_failed(s);
	return TRUE;
}

/* --- reading spans ------------------------------------------------------- */

static void bind_span(sqlite3_stmt *st, int64_t user, int64_t from_ms,
		      int64_t to_ms)
{
	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
}

/* What a column holding a packed minute holds: its bytes, or FALSE with
 * @error for a row of another type. */
static gboolean row_beats(const struct row *r, int col, const uint8_t **ret,
			  size_t *ret_size, GError **error)
{
	int type = sqlite3_column_type(r->st, col);

	if (type != SQLITE_BLOB)
		return row_fail(r, col, error, "holds %s, not packed beats",
				type_name(type));
	*ret = sqlite3_column_blob(r->st, col);
	*ret_size = (size_t)sqlite3_column_bytes(r->st, col);
	return TRUE;
}

/*
 * Appends the beats of one stored minute (a row of @r: user_id, minute,
 * beats) that fall in [@from_ms, @to_ms) to @ret, as struct rr_sample or
 * struct hr_sample (the same layout). What is damaged is reported once a
 * row and skipped: the entries before it are kept.
 */
static void read_minute(store *s, const struct row *r, int64_t from_ms,
			int64_t to_ms, double max, GArray *ret)
{
	const uint8_t *blob = NULL;
	size_t size = 0, bad = SIZE_MAX, n;
	int64_t minute;
	GError *why = NULL;

	if (!row_int(r, 1, -BEATS_T_MS_LIMIT / BEATS_MINUTE_MS,
		     BEATS_T_MS_LIMIT / BEATS_MINUTE_MS, false, 0, &minute,
		     &why) ||
	    !row_beats(r, 2, &blob, &size, &why)) {
		skip_row(s, r, why);
		return;
	}
	if (beats_check(blob, size, &bad) < 0 && bad < size / BEATS_ENTRY_SIZE)
		row_fail(r, 2, &why,
			 "entry %zu of %zu is not a beat after the one before "
			 "(an offset over 59999 ms or out of order)",
			 bad, size / BEATS_ENTRY_SIZE);
	else if (bad != SIZE_MAX)
		row_fail(r, 2, &why,
			 "%zu bytes are not a whole number of %d-byte beats",
			 size, BEATS_ENTRY_SIZE);
	n = bad != SIZE_MAX ? bad : size / BEATS_ENTRY_SIZE;
	for (size_t i = 0; i < n; i++) {
		struct beat b;
		struct rr_sample v;

		beats_get(blob, size, i, &b);
		v.t_ms = beats_join(minute, b.offset_ms);
		if (!isfinite(b.value) || b.value < 0 || b.value > max) {
			if (!why)
				row_fail(r, 2, &why,
					 "entry %zu: %g is outside [0, %g]", i,
					 b.value, max);
			continue;
		}
		v.rr_ms = b.value;
		if (v.t_ms >= from_ms && v.t_ms < to_ms)
			g_array_append_val(ret, v);
	}
	if (why)
		skip_row(s, r, why);
}

G_STATIC_ASSERT(sizeof(struct rr_sample) == sizeof(struct hr_sample) &&
		offsetof(struct rr_sample, rr_ms) ==
		    offsetof(struct hr_sample, bpm));

/* The beats of [@from_ms, @to_ms) of table @id's kind into @ret. */
static gboolean load_beats(store *s, enum stmt_id id, int64_t user,
			   int64_t from_ms, int64_t to_ms, GArray *ret,
			   GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[id];
	bool rr = id == STMT_SPAN_RR;
	struct row r = { st, rr ? "rr_minutes" : "hr_minutes", 2 };
	int64_t first, last;
	uint16_t offset_ms;
	int rc;

	if (from_ms >= to_ms)
		return TRUE;
	beats_split(CLAMP(from_ms, -BEATS_T_MS_LIMIT + 1, BEATS_T_MS_LIMIT - 1),
		    &first, &offset_ms);
	beats_split(
	    CLAMP(to_ms - 1, -BEATS_T_MS_LIMIT + 1, BEATS_T_MS_LIMIT - 1),
	    &last, &offset_ms);
	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int64(st, 2, first);
	sqlite3_bind_int64(st, 3, last);
	while ((rc = step_row(
		    s, st, rr ? "loading RR intervals" : "loading heart rates",
		    error)) > 0)
		read_minute(s, &r, from_ms, to_ms, rr ? RR_MS_MAX : BPM_MAX,
			    ret);
	return rc == 0;
}

static gboolean load_rr(store *s, int64_t user, int64_t from_ms, int64_t to_ms,
			GArray *ret, GError **error)
{
	return load_beats(s, STMT_SPAN_RR, user, from_ms, to_ms, ret, error);
}

static gboolean load_hr(store *s, int64_t user, int64_t from_ms, int64_t to_ms,
			GArray *ret, GError **error)
{
	return load_beats(s, STMT_SPAN_HR, user, from_ms, to_ms, ret, error);
}

/* States from a query of (user_id, kind, t_ms, value). */
static gboolean read_states(store *s, sqlite3_stmt *st, GArray *ret,
			    GError **error)
{
	struct row r = { st, "env", 3 };
	int rc;

	while ((rc = step_row(s, st, "loading sensor states", error)) > 0) {
		struct state_sample v;
		GError *bad = NULL;
		double value;

		if (!row_int(&r, 2, INT64_MIN, INT64_MAX, false, 0, &v.t_ms,
			     &bad) ||
		    !row_real(&r, 3, 0, 1, false, &value, &bad) ||
		    (value != 0 && value != 1 &&
		     !row_fail(&r, 3, &bad,
			       "%g is a state neither on (1) nor off (0)",
			       value))) {
			skip_row(s, &r, bad);
			continue;
		}
		v.on = value == 1;
		g_array_append_val(ret, v);
	}
	return rc == 0;
}

static gboolean load_states(store *s, int64_t user, const char *kind,
			    int64_t from_ms, int64_t to_ms, GArray *ret,
			    GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_SPAN_ENV];

	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, from_ms);
	sqlite3_bind_int64(st, 4, to_ms);
	return read_states(s, st, ret, error);
}

static gboolean load_state_before(store *s, int64_t user, const char *kind,
				  int64_t before_ms, GArray *ret,
				  GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_ENV_BEFORE];

	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, before_ms);
	return read_states(s, st, ret, error);
}

static gboolean load_weights(store *s, int64_t user, int64_t from_ms,
			     int64_t to_ms, GArray *ret, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_SPAN_WEIGHTS];
	struct row r = { st, "body", 2 };
	int rc;

	bind_span(st, user, from_ms, to_ms);
	while ((rc = step_row(s, st, "loading weights", error)) > 0) {
		struct weight_sample v;
		GError *bad = NULL;

		if (!row_int(&r, 1, INT64_MIN, INT64_MAX, false, 0, &v.t_ms,
			     &bad) ||
		    !row_real(&r, 2, 0, WEIGHT_KG_MAX, false, &v.weight_kg,
			      &bad) ||
		    !row_real(&r, 3, 0, 100, true, &v.body_fat_pct, &bad)) {
			skip_row(s, &r, bad);
			continue;
		}
		g_array_append_val(ret, v);
	}
	return rc == 0;
}

static gboolean load_checkins(store *s, int64_t user, int64_t from_ms,
			      int64_t to_ms, GArray *ret, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_SPAN_CHECKINS];
	struct row r = { st, "checkins", 2 };
	int rc;

	bind_span(st, user, from_ms, to_ms);
	while ((rc = step_row(s, st, "loading check-ins", error)) > 0) {
		struct checkin_sample v;
		GError *bad = NULL;

		if (!row_int(&r, 1, INT64_MIN, INT64_MAX, false, 0, &v.t_ms,
			     &bad) ||
		    !row_real(&r, 2, CHECKIN_MIN, CHECKIN_MAX, true, &v.mood,
			      &bad) ||
		    !row_real(&r, 3, CHECKIN_MIN, CHECKIN_MAX, true,
			      &v.soreness, &bad) ||
		    !row_real(&r, 4, CHECKIN_MIN, CHECKIN_MAX, true, &v.energy,
			      &bad)) {
			skip_row(s, &r, bad);
			continue;
		}
		g_array_append_val(ret, v);
	}
	return rc == 0;
}

void store_span_init(struct store_span *span)
{
	*span = (struct store_span){
		.rr = g_array_new(FALSE, FALSE, sizeof(struct rr_sample)),
		.hr = g_array_new(FALSE, FALSE, sizeof(struct hr_sample)),
		.bed = g_array_new(FALSE, FALSE, sizeof(struct state_sample)),
		.motion =
		    g_array_new(FALSE, FALSE, sizeof(struct state_sample)),
		.weights =
		    g_array_new(FALSE, FALSE, sizeof(struct weight_sample)),
		.checkins =
		    g_array_new(FALSE, FALSE, sizeof(struct checkin_sample)),
	};
}

gboolean store_load_span(store *s, int64_t user, int64_t from_ms, int64_t to_ms,
			 struct store_span *ret, GError **error)
{
	struct store_span span;

	see_batch(s);
	store_span_init(&span);
	if (from_ms > to_ms) {
		store_span_clear(&span);
		return invalid(error, "a span from %" PRId64 " to %" PRId64,
			       from_ms, to_ms);
	}
	if (!load_rr(s, user, from_ms, to_ms, span.rr, error) ||
	    !load_hr(s, user, from_ms, to_ms, span.hr, error) ||
	    !load_state_before(s, user, "bed", from_ms, span.bed, error) ||
	    !load_states(s, user, "bed", from_ms, to_ms, span.bed, error) ||
	    !load_states(s, user, "motion", from_ms, to_ms, span.motion,
			 error) ||
	    !load_weights(s, user, from_ms, to_ms, span.weights, error) ||
	    !load_checkins(s, user, from_ms, to_ms, span.checkins, error)) {
		store_span_clear(&span);
		return FALSE;
	}
	*ret = span;
	return TRUE;
}

void store_span_clear(struct store_span *span)
{
	if (!span)
		return;
	g_clear_pointer(&span->rr, g_array_unref);
	g_clear_pointer(&span->hr, g_array_unref);
	g_clear_pointer(&span->bed, g_array_unref);
	g_clear_pointer(&span->motion, g_array_unref);
	g_clear_pointer(&span->weights, g_array_unref);
	g_clear_pointer(&span->checkins, g_array_unref);
}

/* --- nights -------------------------------------------------------------- */

static gboolean put_night_row(store *s, int64_t user,
			      const struct night_metrics *m, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_PUT_NIGHT];
	const char *base = (const char *)m;

	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int(st, 2, m->day);
	for (size_t i = 0; i < G_N_ELEMENTS(night_cols); i++) {
		const struct night_col *c = &night_cols[i];
		const void *field = base + c->offset;
		int param = (int)i + 3;

		switch (c->kind) {
		case NIGHT_REAL:
			bind_metric(st, param, *(const double *)field);
			break;
		case NIGHT_TIME:
			bind_nonzero(st, param, *(const int64_t *)field);
			break;
		case NIGHT_FLAG:
			sqlite3_bind_int(st, param, *(const bool *)field);
			break;
		case NIGHT_COUNT:
			sqlite3_bind_int(st, param, *(const int32_t *)field);
			break;
		case NIGHT_NAME:
			if (*(const int *)field)
				sqlite3_bind_text(
				    st, param,
				    c->value_name(*(const int *)field), -1,
				    SQLITE_STATIC);
			else
				sqlite3_bind_null(st, param);
			break;
		}
	}
	return step_done(s, st, "storing a night", error);
}

static gboolean check_night(const struct night_metrics *m, GError **error)
{
	const char *base = (const char *)m;

	if (m->day < 0)
		return invalid(error, "night of day %d", (int)m->day);
	for (size_t i = 0; i < G_N_ELEMENTS(night_cols); i++) {
		const struct night_col *c = &night_cols[i];
		const void *field = base + c->offset;

		switch (c->kind) {
		case NIGHT_REAL:
			if (!check_range(*(const double *)field, c->min, c->max,
					 true, c->name, error))
				return FALSE;
			break;
		case NIGHT_TIME:
			if (*(const int64_t *)field < 0)
				return invalid(error, "%s is negative",
					       c->name);
			break;
		case NIGHT_FLAG:
			break;
		case NIGHT_COUNT:
			if (*(const int32_t *)field < 0)
				return invalid(error, "%s is negative",
					       c->name);
			break;
		case NIGHT_NAME:
			if (*(const int *)field < 0 ||
			    *(const int *)field > (int)c->max)
				return invalid(
				    error, "%s %d is outside [0, %d]", c->name,
				    *(const int *)field, (int)c->max);
			break;
		}
	}
	return TRUE;
}

gboolean store_put_night(store *s, int64_t user, const struct night_metrics *m,
			 GError **error)
{
	if (!check_night(m, error) || !check_available(s, error))
		return FALSE;
	if (!tx_begin(s, error) || !put_night_row(s, user, m, error) ||
	    !tx_commit(s, error))
		return write_failed(s);
	return TRUE;
}

/* A NIGHT_NAME column: NULL is 0, else one of @c's names. */
static gboolean row_name(const struct row *r, int col,
			 const struct night_col *c, int *ret, GError **error)
{
	g_autofree char *escaped = NULL;
	const char *text;

	if (!row_text(r, col, 32, true, &text, error))
		return FALSE;
	if (!text) {
		*ret = 0;
		return TRUE;
	}
	for (int v = 1; v <= (int)c->max; v++) {
		if (strcmp(text, c->value_name(v)) == 0) {
			*ret = v;
			return TRUE;
		}
	}
	escaped = g_strescape(text, NULL);
	return row_fail(r, col, error, "'%s' is not a name this program knows",
			escaped);
}

static gboolean read_night(const struct row *r, struct night_metrics *ret,
			   GError **error)
{
	struct night_metrics m;
	char *base = (char *)&m;

	if (!row_int32(r, 1, 0, INT32_MAX, false, 0, &m.day, error))
		return FALSE;
	for (size_t i = 0; i < G_N_ELEMENTS(night_cols); i++) {
		const struct night_col *c = &night_cols[i];
		void *field = base + c->offset;
		int col = (int)i + 2;
		int64_t value;

		switch (c->kind) {
		case NIGHT_REAL:
			if (!row_real(r, col, c->min, c->max, true, field,
				      error))
				return FALSE;
			break;
		case NIGHT_TIME:
			if (!row_int(r, col, 1, INT64_MAX, true, 0, field,
				     error))
				return FALSE;
			break;
		case NIGHT_FLAG:
			if (!row_int(r, col, 0, 1, false, 0, &value, error))
				return FALSE;
			*(bool *)field = value != 0;
			break;
		case NIGHT_COUNT:
			if (!row_int32(r, col, 0, INT32_MAX, false, 0, field,
				       error))
				return FALSE;
			break;
		case NIGHT_NAME:
			if (!row_name(r, col, c, field, error))
				return FALSE;
			break;
		}
	}
	*ret = m;
	return TRUE;
}

gboolean store_get_nights(store *s, int64_t user, int32_t from_day,
			  int32_t to_day, GArray *ret, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_GET_NIGHTS];
	struct row r = { st, "nights", 2 };
	guint len = ret->len;
	int rc;

	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int(st, 2, from_day);
	sqlite3_bind_int(st, 3, to_day);
	while ((rc = step_row(s, st, "loading nights", error)) > 0) {
		struct night_metrics m;
		GError *bad = NULL;

		if (!read_night(&r, &m, &bad)) {
			skip_row(s, &r, bad);
			continue;
		}
		g_array_append_val(ret, m);
	}
	if (rc < 0) {
		g_array_set_size(ret, len);
		return FALSE;
	}
	return TRUE;
}

/* --- results ------------------------------------------------------------- */

static gboolean put_result_row(store *s, int64_t user,
			       const struct store_result *r, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_PUT_RESULT];

	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int(st, 2, r->day);
	if (r->score >= 0)
		sqlite3_bind_int(st, 3, r->score);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, r->zone, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, r->calibrating);
	sqlite3_bind_text(st, 6, r->advice_state, -1, SQLITE_STATIC);
	if (r->state_json)
		sqlite3_bind_text(st, 7, r->state_json, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, r->computed_ms);
	bind_nonzero(st, 9, r->alerted_ms);
	if (r->alerted_state[0])
		sqlite3_bind_text(st, 10, r->alerted_state, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
	return step_done(s, st, "storing a result", error);
}

gboolean store_put_result(store *s, int64_t user, const struct store_result *r,
			  GError **error)
{
	if (r->day < 0)
		return invalid(error, "result of day %d", (int)r->day);
	if (r->score < -1 || r->score > 100)
		return invalid(error, "score %d is outside [-1, 100]",
			       (int)r->score);
	if (r->alerted_ms < 0)
		return invalid(error, "alerted_ms is negative");
	if (!check_text(r->zone, sizeof(r->zone), false, "zone", error) ||
	    !check_text(r->advice_state, sizeof(r->advice_state), true,
			"advice_state", error) ||
	    !check_text(r->alerted_state, sizeof(r->alerted_state), true,
			"alerted_state", error))
		return FALSE;
	if (r->state_json && !g_utf8_validate(r->state_json, -1, NULL))
		return invalid(error, "state_json is not valid UTF-8");
	if (!check_available(s, error))
		return FALSE;
	if (!tx_begin(s, error) || !put_result_row(s, user, r, error) ||
	    !tx_commit(s, error))
		return write_failed(s);
	return TRUE;
}

static void result_clear(void *data)
{
	struct store_result *r = data;

	g_clear_pointer(&r->state_json, g_free);
}

static gboolean read_result(const struct row *r, struct store_result *ret,
			    GError **error)
{
	struct store_result v = { 0 };
	const char *zone, *advice_state, *state_json, *alerted_state;
	int64_t calibrating;

	if (!row_int32(r, 1, 0, INT32_MAX, false, 0, &v.day, error) ||
	    !row_int32(r, 2, 0, 100, true, -1, &v.score, error) ||
	    !row_text(r, 3, sizeof(v.zone) - 1, false, &zone, error) ||
	    !row_int(r, 4, 0, 1, false, 0, &calibrating, error) ||
	    !row_text(r, 5, sizeof(v.advice_state) - 1, false, &advice_state,
		      error) ||
	    !row_text(r, 6, G_MAXINT, true, &state_json, error) ||
	    !row_int(r, 7, INT64_MIN, INT64_MAX, false, 0, &v.computed_ms,
		     error) ||
	    !row_int(r, 8, 1, INT64_MAX, true, 0, &v.alerted_ms, error) ||
	    !row_text(r, 9, sizeof(v.alerted_state) - 1, true, &alerted_state,
		      error))
		return FALSE;
	g_strlcpy(v.zone, zone, sizeof(v.zone));
	if (alerted_state)
		g_strlcpy(v.alerted_state, alerted_state,
			  sizeof(v.alerted_state));
	g_strlcpy(v.advice_state, advice_state, sizeof(v.advice_state));
	v.calibrating = calibrating != 0;
	v.state_json = g_strdup(state_json);
	*ret = v;
	return TRUE;
}

gboolean store_get_results(store *s, int64_t user, int32_t from_day,
			   int32_t to_day, GArray *ret, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_GET_RESULTS];
	struct row r = { st, "results", 2 };
	guint len = ret->len;
	int rc;

	g_array_set_clear_func(ret, result_clear);
	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int(st, 2, from_day);
	sqlite3_bind_int(st, 3, to_day);
	while ((rc = step_row(s, st, "loading results", error)) > 0) {
		struct store_result v;
		GError *bad = NULL;

		if (!read_result(&r, &v, &bad)) {
			skip_row(s, &r, bad);
			continue;
		}
		g_array_append_val(ret, v);
	}
	if (rc < 0) {
		g_array_set_size(ret, len);
		return FALSE;
	}
	return TRUE;
}

static gboolean mark_alerted_row(store *s, int64_t user, int32_t day,
				 int64_t alerted_ms, const char *alerted_state,
				 GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_MARK_ALERTED];

	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int(st, 2, day);
	sqlite3_bind_int64(st, 3, alerted_ms);
	if (alerted_state && alerted_state[0])
		sqlite3_bind_text(st, 4, alerted_state, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	if (!step_done(s, st, "marking a result alerted", error))
		return FALSE;
	if (sqlite3_changes(s->db) == 0)
		return invalid(error,
			       "no result of user %" PRId64
			       " for day %d to mark alerted",
			       user, (int)day);
	return TRUE;
}

gboolean store_mark_alerted(store *s, int64_t user, int32_t day,
			    int64_t alerted_ms, const char *alerted_state,
			    GError **error)
{
	if (alerted_ms <= 0)
		return invalid(error, "alerted_ms must be a time");
	if (alerted_state &&
	    !check_text(alerted_state,
			G_SIZEOF_MEMBER(struct store_result, alerted_state),
			true, "alerted_state", error))
		return FALSE;
	if (!check_available(s, error))
		return FALSE;
	if (!tx_begin(s, error) ||
	    !mark_alerted_row(s, user, day, alerted_ms, alerted_state, error) ||
	    !tx_commit(s, error))
		return write_failed(s);
	return TRUE;
}

/* --- outbox -------------------------------------------------------------- */

void store_outbox_row_free(struct store_outbox_row *row)
{
	if (!row)
		return;
	g_free(row->topic);
	g_clear_pointer(&row->payload, g_bytes_unref);
	g_free(row);
}

static gboolean outbox_insert(store *s, const char *topic, const void *payload,
			      size_t len, int qos, bool retain,
			      int64_t created_ms, int64_t *ret_id,
			      GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_OUTBOX_ADD];

	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	/* A NULL pointer would bind NULL, not an empty payload. */
	sqlite3_bind_blob64(st, 2, len ? payload : "", len, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, qos);
	sqlite3_bind_int(st, 4, retain);
	sqlite3_bind_int64(st, 5, created_ms);
	if (!step_done(s, st, "queueing a message", error))
		return FALSE;
	*ret_id = sqlite3_last_insert_rowid(s->db);
	return TRUE;
}

gboolean store_outbox_add(store *s, const char *topic, const void *payload,
			  size_t len, int qos, bool retain, int64_t created_ms,
			  int64_t *ret_id, GError **error)
{
	int64_t id;

	if (!topic || !*topic || !g_utf8_validate(topic, -1, NULL))
		return invalid(error, "a message needs a topic in UTF-8");
	if (!payload && len)
		return invalid(error, "a payload of %zu bytes at NULL", len);
	if (qos < 0 || qos > 2)
		return invalid(error, "QoS %d", qos);
	if (!check_available(s, error))
		return FALSE;
	if (!tx_begin(s, error) ||
	    !outbox_insert(s, topic, payload, len, qos, retain, created_ms, &id,
			   error) ||
	    !tx_commit(s, error))
		return write_failed(s);
	if (ret_id)
		*ret_id = id;
	return TRUE;
}

static gboolean read_outbox_row(const struct row *r,
				struct store_outbox_row **ret, GError **error)
{
	g_autoptr(store_outbox_row) v = g_new0(struct store_outbox_row, 1);
	const char *topic;
	int64_t qos, retain;
	int type = sqlite3_column_type(r->st, 2);

	if (!row_int(r, 0, 1, INT64_MAX, false, 0, &v->id, error) ||
	    !row_text(r, 1, G_MAXINT, false, &topic, error))
		return FALSE;
	if (!*topic)
		return row_fail(r, 1, error, "is empty");
	v->topic = g_strdup(topic);
	if (type != SQLITE_BLOB)
		return row_fail(r, 2, error, "holds %s, not a blob",
				type_name(type));
	v->payload = g_bytes_new(sqlite3_column_blob(r->st, 2),
				 (gsize)sqlite3_column_bytes(r->st, 2));
	if (!row_int(r, 3, 0, 2, false, 0, &qos, error) ||
	    !row_int(r, 4, 0, 1, false, 0, &retain, error) ||
	    !row_int(r, 5, INT64_MIN, INT64_MAX, false, 0, &v->created_ms,
		     error))
		return FALSE;
	v->qos = (int)qos;
	v->retain = retain != 0;
	*ret = g_steal_pointer(&v);
	return TRUE;
}

gboolean store_outbox_pending(store *s, int64_t after_id, unsigned limit,
			      GPtrArray *ret, GError **error)
{
	see_batch(s);

	g_autoptr(stmt_lease) st = s->stmts[STMT_OUTBOX_PENDING];
	struct row r = { st, "outbox", 1 };
	guint len = ret->len;
	int rc;

	g_ptr_array_set_free_func(ret, (GDestroyNotify)store_outbox_row_free);
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, limit);
	while ((rc = step_row(s, st, "loading queued messages", error)) > 0) {
		struct store_outbox_row *row = NULL;
		GError *bad = NULL;

		if (!read_outbox_row(&r, &row, &bad)) {
			skip_row(s, &r, bad);
			continue;
		}
		g_ptr_array_add(ret, row);
	}
	if (rc < 0) {
		g_ptr_array_set_size(ret, (gint)len);
		return FALSE;
	}
	return TRUE;
}

gboolean store_outbox_mark_sent(store *s, int64_t id, int64_t sent_ms,
				GError **error)
{
	struct held_row h = { .t_ms = id,
			      .v0 = (double)sent_ms,
			      .kind = HELD_SENT };

	/* sent_ms rides in a double: exact to 2^53 ms, past year 285,000. */
	if (sent_ms < 0 || sent_ms > (INT64_C(1) << 53))
		return invalid(error, "sent_ms %" PRId64, sent_ms);
	/* The mark is written with its batch: a wrong id is refused now.
	 * (While writes fail the mark is held unchecked; a refusal then
	 * drops it when the rows are written.) */
	if (!s->failing) {
		g_autoptr(stmt_lease) st = s->stmts[STMT_OUTBOX_FIND];
		int rc;

		sqlite3_bind_int64(st, 1, id);
		rc = step_row(s, st, "looking for a queued message", error);
		if (rc < 0)
			return FALSE;
		if (rc == 0)
			return invalid(error, "no queued message %" PRId64, id);
	}
	return batch_add(s, &h, error);
}

static gboolean outbox_prune_rows(store *s, int64_t before_ms, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_OUTBOX_PRUNE];

	sqlite3_bind_int64(st, 1, before_ms);
	return step_done(s, st, "pruning sent messages", error);
}

gboolean store_outbox_prune(store *s, int64_t before_ms, GError **error)
{
	see_batch(s); /* its sent marks first */
	if (!check_available(s, error))
		return FALSE;
	if (!tx_begin(s, error) || !outbox_prune_rows(s, before_ms, error) ||
	    !tx_commit(s, error))
		return write_failed(s);
	return TRUE;
}

gboolean store_outbox_backlog(store *s, uint64_t *ret_rows, GError **error)
{
	/* The database's count less the sent marks only in memory: not
	 * see_batch(), which would commit the batch each time the gateway's
	 * state is told. */
	g_autoptr(stmt_lease) st = s->stmts[STMT_OUTBOX_BACKLOG];
	int rc = step_row(s, st, "counting queued messages", error);
	int64_t rows;

	if (rc < 0)
		return FALSE;
	rows = rc > 0 ? sqlite3_column_int64(st, 0) : 0;
	for (guint i = s->rows_written; i < s->rows->len; i++)
		rows -= g_array_index(s->rows, struct held_row, i).kind ==
			HELD_SENT;
	*ret_rows = (uint64_t)MAX(rows, 0);
	return TRUE;
}

/* --- devices ------------------------------------------------------------- */

static gboolean put_device_row(store *s, const struct store_device *d,
			       GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_PUT_DEVICE];

	sqlite3_bind_text(st, 1, d->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
	bind_nonzero(st, 4, d->user);
	if (d->battery_pct >= 0)
		sqlite3_bind_int(st, 5, d->battery_pct);
	else
		sqlite3_bind_null(st, 5);
	bind_nonzero(st, 6, d->rssi);
	sqlite3_bind_int64(st, 7, d->last_seen_ms);
	return step_done(s, st, "storing a device", error);
}

gboolean store_put_device(store *s, const struct store_device *d,
			  GError **error)
{
	if (!check_text(d->address, sizeof(d->address), false, "address",
			error) ||
	    !check_text(d->kind, sizeof(d->kind), true, "kind", error) ||
	    !check_text(d->name, sizeof(d->name), true, "name", error))
		return FALSE;
	if (d->battery_pct > 100)
		return invalid(error, "battery %d %%", d->battery_pct);
	if (d->user < 0)
		return invalid(error, "user %" PRId64, d->user);
	/* Not held: the next state replaces it anyway. */
	if (!check_available(s, error))
		return FALSE;
	/* Joins the batch in memory: the newest state of an address wins. */
	for (guint i = 0; i < s->devices->len; i++) {
		struct store_device *old =
		    &g_array_index(s->devices, struct store_device, i);

		if (strcmp(old->address, d->address) == 0) {
			/* As STMT_PUT_DEVICE's upsert: an unknown battery
			 * or RSSI keeps the last known one. */
			int battery_pct = old->battery_pct, rssi = old->rssi;

			*old = *d;
			if (old->battery_pct < 0)
				old->battery_pct = battery_pct;
			if (old->rssi == 0)
				old->rssi = rssi;
			return TRUE;
		}
	}
	g_array_append_val(s->devices, *d);
	if (!batch_row_added(s, error))
		return write_failed(s);
	return TRUE;
}

/* --- scale users (User Data Service) ----------------------------------- */

gboolean store_scale_user(store *s, const char *address, int64_t user,
			  struct store_scale_user *ret, GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_SCALE_USER_GET];
	struct row r = { st, "scale_users", 2 };
	struct store_scale_user u = { .found = false };
	int64_t index = 0, code = 0;
	int found;

	if (!check_text(address, 18, false, "address", error))
		return FALSE;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user);
	found = step_row(s, st, "looking up a scale user", error);
	if (found < 0)
		return FALSE;
	if (found) {
		/* A damaged row is no index: the scale registers anew. */
		GError *bad = NULL;

		if (!row_int(&r, 2, 0, 254, false, 0, &index, &bad) ||
		    !row_int(&r, 3, 0, 9999, false, 0, &code, &bad)) {
			skip_row(s, &r, bad);
		} else {
			u.found = true;
			u.user_index = (int)index;
			u.consent_code = (int)code;
		}
	}
	*ret = u;
	return TRUE;
}

gboolean store_put_scale_user(store *s, const char *address, int64_t user,
			      int user_index, int consent_code, int64_t t_ms,
			      GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[STMT_SCALE_USER_PUT];

	if (!check_text(address, 18, false, "address", error))
		return FALSE;
	if (user <= 0 || user_index < 0 || user_index > 254 ||
	    consent_code < 0 || consent_code > 9999)
		return invalid(error,
			       "scale user %" PRId64 ", index %d, consent "
			       "code %d (expected an index 0-254, a code "
			       "0-9999)",
			       user, user_index, consent_code);
	if (!check_available(s, error))
		return FALSE;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user);
	sqlite3_bind_int(st, 3, user_index);
	sqlite3_bind_int(st, 4, consent_code);
	sqlite3_bind_int64(st, 5, t_ms);
	/* At once, not batched: the scale holds the registration now. */
	if (!tx_begin(s, error) ||
	    !step_done(s, st, "storing a scale user", error) ||
	    !tx_commit(s, error))
		return write_failed(s);
	return TRUE;
}

/* --- readings held while the wall clock is not trusted ------------------- */

/* The env table's kind of a state or environment reading; false for the
 * other kinds and for an unknown sub-kind. */
static bool reading_env_kind(const struct store_reading *r,
			     struct env_kind_info *ret)
{
	switch (r->kind) {
	case STORE_READING_STATE:
		return state_kind_info((enum store_state_kind)r->sub, ret);
	case STORE_READING_ENV:
		return env_kind_info((enum store_env_kind)r->sub, ret);
	case STORE_READING_RR:
	case STORE_READING_HR:
	case STORE_READING_BODY:
	case STORE_READING_CHECKIN:
	default:
		return false;
	}
}

static gboolean check_reading_kind(const struct store_reading *r,
				   GError **error)
{
	struct env_kind_info info;

	switch (r->kind) {
	case STORE_READING_RR:
	case STORE_READING_HR:
	case STORE_READING_BODY:
	case STORE_READING_CHECKIN:
		return TRUE;
	case STORE_READING_STATE:
	case STORE_READING_ENV:
		if (reading_env_kind(r, &info))
			return TRUE;
		return invalid(error, "unknown sub-kind %d of reading kind %d",
			       r->sub, (int)r->kind);
	default:
		return invalid(error, "unknown reading kind %d", (int)r->kind);
	}
}

/* Whether table @id's minute of @t_ms has a beat at @t_ms: 1 yes, 0 no,
 * -1 failed. A damaged minute has whatever its valid entries say. */
static int beat_taken(store *s, enum stmt_id id, int64_t user, int64_t t_ms,
		      GError **error)
{
	g_autoptr(stmt_lease) st = s->stmts[id];
	int64_t minute;
	uint16_t offset_ms;
	size_t bad;
	int rc;

	if (t_ms <= -BEATS_T_MS_LIMIT || t_ms >= BEATS_T_MS_LIMIT)
		return 0; /* refused by store_add_* */
	beats_split(t_ms, &minute, &offset_ms);
	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_int64(st, 2, minute);
	rc = step_row(s, st, "looking for a free instant", error);
	if (rc <= 0 || sqlite3_column_type(st, 2) != SQLITE_BLOB)
		return rc;

	const uint8_t *blob = sqlite3_column_blob(st, 2);
	size_t size = (size_t)sqlite3_column_bytes(st, 2);

	if (beats_check(blob, size, &bad) < 0)
		size = bad * BEATS_ENTRY_SIZE;
	return beats_has(blob, size, offset_ms);
}

/* Whether a row of @r's table stands at @t_ms: 1 yes, 0 no, -1 failed.
 * Kinds that merge by instant (body, check-in) are never "taken". */
static int instant_taken(store *s, const struct store_reading *r, int64_t t_ms,
			 GError **error)
{
	struct env_kind_info info;
	enum stmt_id id;

	see_batch(s);
	switch (r->kind) {
	case STORE_READING_RR:
		id = STMT_FIND_RR;
		break;
	case STORE_READING_HR:
		id = STMT_FIND_HR;
		break;
	case STORE_READING_STATE:
	case STORE_READING_ENV:
		id = STMT_FIND_ENV;
		break;
	case STORE_READING_BODY:
	case STORE_READING_CHECKIN:
	default:
		return 0;
	}
	if (id != STMT_FIND_ENV)
		return beat_taken(s, id, r->user, t_ms, error);
	{
		g_autoptr(stmt_lease) st = s->stmts[id];

		sqlite3_bind_int64(st, 1, r->user);
		if (id == STMT_FIND_ENV) {
			if (!reading_env_kind(r, &info))
				return 0; /* refused by store_add_* */
			sqlite3_bind_text(st, 2, env_names[info.index], -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, t_ms);
		} else {
			sqlite3_bind_int64(st, 2, t_ms);
		}
		return step_row(s, st, "looking for a free instant", error);
	}
}

static gboolean add_reading(store *s, const struct store_reading *r,
			    int64_t t_ms, GError **error)
{
	switch (r->kind) {
	case STORE_READING_RR:
		return store_add_rr(s, r->user, t_ms, r->v[0], error);
	case STORE_READING_HR:
		return store_add_hr(s, r->user, t_ms, r->v[0], error);
	case STORE_READING_STATE:
		return store_add_state(s, r->user,
				       (enum store_state_kind)r->sub, t_ms,
				       r->v[0] != 0, error);
	case STORE_READING_ENV:
		return store_add_env(s, r->user, (enum store_env_kind)r->sub,
				     t_ms, r->v[0], error);
	case STORE_READING_BODY:
		return store_add_body(s, r->user, t_ms, r->v[0], r->v[1],
				      r->v[2], error);
	case STORE_READING_CHECKIN:
		return store_add_checkin(s, r->user, t_ms, r->v[0], r->v[1],
					 r->v[2], error);
	default:
		return invalid(error, "unknown reading kind %d", (int)r->kind);
	}
}

gboolean store_add_reading(store *s, const struct store_reading *r,
			   int64_t t_ms, bool distinct, GError **error)
{
	if (!check_reading_kind(r, error))
		return FALSE;
	/* A different reading at a taken instant is moved on, never taken
	 * for a repeat of the one standing there (ON CONFLICT DO NOTHING). */
	for (int64_t k = 0; distinct; k++) {
		int taken = instant_taken(s, r, t_ms + k, error);

		if (taken < 0)
			return FALSE;
		if (!taken) {
			t_ms += k;
			break;
		}
		if (k == STORE_DISTINCT_MAX_MS)
			return invalid(error,
				       "no free instant within %d ms after "
				       "%" PRId64,
				       STORE_DISTINCT_MAX_MS, t_ms);
	}
	if (!add_reading(s, r, t_ms, error))
		return FALSE;
	if (s->opts.filed)
		s->opts.filed(s->opts.filed_data, r, t_ms);
	return TRUE;
}

gboolean store_hold_reading(store *s, const char *boot_id, int64_t mono_ms,
			    const struct store_reading *r, GError **error)
{
	sqlite3_stmt *st = s->stmts[STMT_HOLD_ADD];

	if (!check_text(boot_id, 64, false, "boot_id", error) ||
	    !check_reading_kind(r, error) || !check_available(s, error) ||
	    !tx_begin(s, error))
		return FALSE;
	sqlite3_bind_text(st, 1, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, mono_ms);
	sqlite3_bind_int64(st, 3, r->user);
	sqlite3_bind_int(st, 4, (int)r->kind);
	sqlite3_bind_int(st, 5, r->sub);
	for (int i = 0; i < 3; i++)
		bind_metric(st, 6 + i, r->v[i]);
	{
		g_autoptr(stmt_lease) lease = st;

		if (!step_done(s, lease, "holding a reading", error))
			return FALSE;
	}
	return batch_row_added(s, error);
}

/* A statement run a few times in the daemon's life (not kept prepared). */
static sqlite3_stmt *prepare_rare(store *s, const char *sql, GError **error)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_fail(s, sql, error);
		return NULL;
	}
	return st;
}

gboolean store_held_count(store *s, const char *boot_id, uint64_t *ret_count,
			  GError **error)
{
	g_autoptr(sqlite3_stmt) st = prepare_rare(
	    s, "SELECT count(*) FROM held WHERE boot_id = ?1", error);
	struct row r = { st, "held", 0 };
	int64_t count;

	if (!st)
		return FALSE;
	sqlite3_bind_text(st, 1, boot_id, -1, SQLITE_STATIC);
	if (step_row(s, st, "counting held readings", error) < 0 ||
	    !row_int(&r, 0, 0, INT64_MAX, false, 0, &count, error))
		return FALSE;
	*ret_count = (uint64_t)count;
	return TRUE;
}

gboolean store_held_drop_oldest(store *s, const char *boot_id, unsigned count,
				GError **error)
{
	g_autoptr(sqlite3_stmt) st = prepare_rare(
	    s,
	    "DELETE FROM held WHERE id IN (SELECT id FROM held WHERE "
	    "boot_id = ?1 ORDER BY id LIMIT ?2)",
	    error);

	if (!st || !tx_begin(s, error))
		return FALSE;
	sqlite3_bind_text(st, 1, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, count);
	return step_done(s, st, "dropping the oldest held readings", error);
}

/* Ends a transaction that must not be half committed. */
static void held_rollback(store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = false;
	/* The batch's raw rows it took with it are still in memory. */
	s->rows_written = 0;
	s->pending_rows = s->rows->len;
}

struct clock_held_row {
	int64_t id;
	int64_t mono_ms;
	struct store_reading reading;
};

#define HELD_FILE_CHUNK 256

static gboolean load_held(store *s, const char *boot_id, GArray *ret,
			  GError **error)
{
	g_autoptr(sqlite3_stmt) st =
	    prepare_rare(s,
			 "SELECT id, mono_ms, user_id, kind, sub, v0, v1, v2 "
			 "FROM held WHERE boot_id = ?1 ORDER BY id LIMIT ?2",
			 error);
	struct row r = { st, "held", 1 };
	int rc;

	if (!st)
		return FALSE;
	sqlite3_bind_text(st, 1, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, HELD_FILE_CHUNK);
	while ((rc = step_row(s, st, "loading held readings", error)) > 0) {
		struct clock_held_row h = { 0 };
		int64_t kind, sub;

		if (!row_int(&r, 0, 1, INT64_MAX, false, 0, &h.id, error) ||
		    !row_int(&r, 1, INT64_MIN, INT64_MAX, false, 0, &h.mono_ms,
			     error) ||
		    !row_int(&r, 2, 1, INT64_MAX, false, 0, &h.reading.user,
			     error) ||
		    !row_int(&r, 3, 0, INT32_MAX, false, 0, &kind, error) ||
		    !row_int(&r, 4, INT32_MIN, INT32_MAX, false, 0, &sub,
			     error))
			return FALSE;
		h.reading.kind = (enum store_reading_kind)kind;
		h.reading.sub = (int)sub;
		for (int i = 0; i < 3; i++)
			if (!row_real(&r, 5 + i, -INFINITY, INFINITY, true,
				      &h.reading.v[i], error))
				return FALSE;
		g_array_append_val(ret, h);
	}
	return rc == 0;
}

/* Files one held row: deleted first, so that the batch (which commits only
 * after an insert) never holds the one without the other. */
static gboolean file_held_row(store *s, sqlite3_stmt *del,
			      const struct clock_held_row *h, int64_t offset_ms,
			      bool *ret_refused, GError **error)
{
	GError *local = NULL;

	sqlite3_bind_int64(del, 1, h->id);
	if (!step_done(s, del, "deleting a filed held reading", error))
		return FALSE;
	sqlite3_reset(del);
	*ret_refused = false;
	if (store_add_reading(s, &h->reading, h->mono_ms + offset_ms, true,
			      &local))
		return TRUE;
	if (g_error_matches(local, STORE_ERROR, STORE_ERROR_INVALID)) {
		g_error_free(local);
		*ret_refused = true;
		return TRUE;
	}
	g_propagate_error(error, local);
	return FALSE;
}

gboolean store_held_file(store *s, const char *boot_id,
			 int64_t wall_minus_mono_ms, uint64_t *ret_filed,
			 uint64_t *ret_refused, GError **error)
{
	g_autoptr(sqlite3_stmt) del =
	    prepare_rare(s, "DELETE FROM held WHERE id = ?1", error);
	g_autoptr(GArray) rows =
	    g_array_new(FALSE, FALSE, sizeof(struct clock_held_row));
	uint64_t filed = 0, refused = 0;

	*ret_filed = *ret_refused = 0;
	if (!del || !tx_commit(s, error))
		return FALSE;
	/* Each round deletes every row it loaded, or fails. */
	for (;;) {
		g_array_set_size(rows, 0);
		if (!load_held(s, boot_id, rows, error))
			return FALSE;
		if (rows->len == 0)
			break;
		if (!tx_begin(s, error))
			return FALSE;
		for (guint i = 0; i < rows->len; i++) {
			bool no;

			if (!file_held_row(
				s, del,
				&g_array_index(rows, struct clock_held_row, i),
				wall_minus_mono_ms, &no, error)) {
				held_rollback(s);
				return FALSE;
			}
			if (no)
				refused++;
			else
				filed++;
		}
		if (!tx_commit(s, error)) {
			held_rollback(s);
			return FALSE;
		}
		*ret_filed = filed;
		*ret_refused = refused;
	}
	return TRUE;
}

gboolean store_held_set_aside(store *s, const char *boot_id, uint64_t keep,
			      uint64_t *ret_moved, uint64_t *ret_dropped,
			      GError **error)
{
	g_autoptr(sqlite3_stmt) copy = prepare_rare(
	    s,
	    "INSERT INTO readings_unknown_time (boot_id, mono_ms, user_id, "
	    "kind, sub, v0, v1, v2) SELECT boot_id, mono_ms, user_id, kind, "
	    "sub, v0, v1, v2 FROM held WHERE boot_id != ?1 ORDER BY id",
	    error);
	g_autoptr(sqlite3_stmt) del =
	    prepare_rare(s, "DELETE FROM held WHERE boot_id != ?1", error);
	g_autoptr(sqlite3_stmt) trim = prepare_rare(
	    s,
	    "DELETE FROM readings_unknown_time WHERE id <= (SELECT max(id) "
	    "FROM readings_unknown_time) - ?1",
	    error);

	*ret_moved = *ret_dropped = 0;
	if (!copy || !del || !trim || !tx_commit(s, error) ||
	    !tx_begin(s, error))
		return FALSE;
	sqlite3_bind_text(copy, 1, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(del, 1, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(trim, 1, (int64_t)MIN(keep, (uint64_t)INT64_MAX));
	if (!step_done(s, copy, "setting aside held readings", error))
		goto fail;
	*ret_moved = (uint64_t)sqlite3_changes64(s->db);
	if (!step_done(s, del, "setting aside held readings", error) ||
	    !step_done(s, trim, "trimming readings_unknown_time", error))
		goto fail;
	*ret_dropped = (uint64_t)sqlite3_changes64(s->db);
	if (tx_commit(s, error))
		return TRUE;
fail:
	held_rollback(s);
	*ret_moved = *ret_dropped = 0;
	return FALSE;
}

/* max(@newest, the newest instant @sql finds), @kind bound to ?1 if any. */
static gboolean newest_of(store *s, const char *sql, const char *kind,
			  int64_t *newest, GError **error)
{
	g_autoptr(sqlite3_stmt) st = prepare_rare(s, sql, error);
	struct row r = { st, "readings", 0 };
	int64_t t;

	if (!st)
		return FALSE;
	if (kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (step_row(s, st, "finding the newest reading", error) < 0 ||
	    !row_int(&r, 0, INT64_MIN, INT64_MAX, true, 0, &t, error))
		return FALSE;
	*newest = MAX(*newest, t);
	return TRUE;
}

gboolean store_newest_reading_ms(store *s, int64_t *ret_ms, GError **error)
{
	see_batch(s);
	/* Per user (and env kind), so that each max() is one step down a
	 * primary key instead of a walk over the table. */
	static const char *const sql[] = {
		"SELECT max((SELECT beats_last_ms(minute, beats) FROM "
		"rr_minutes WHERE user_id = users.id ORDER BY minute DESC "
		"LIMIT 1)) FROM users",
		"SELECT max((SELECT beats_last_ms(minute, beats) FROM "
		"hr_minutes WHERE user_id = users.id ORDER BY minute DESC "
		"LIMIT 1)) FROM users",
		"SELECT max((SELECT max(t_ms) FROM body WHERE user_id = "
		"users.id)) FROM users",
		"SELECT max((SELECT max(t_ms) FROM checkins WHERE user_id = "
		"users.id)) FROM users",
	};
	static const char env_sql[] =
	    "SELECT max((SELECT max(t_ms) FROM env WHERE user_id = users.id "
	    "AND kind = ?1)) FROM users";
	struct env_kind_info info;
	int64_t newest = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(sql); i++)
		if (!newest_of(s, sql[i], NULL, &newest, error))
			return FALSE;
	/* Both enums count up from 1 without gaps. */
	for (int k = 1; state_kind_info((enum store_state_kind)k, &info); k++)
		if (!newest_of(s, env_sql, env_names[info.index], &newest,
			       error))
			return FALSE;
	for (int k = 1; env_kind_info((enum store_env_kind)k, &info); k++)
		if (!newest_of(s, env_sql, env_names[info.index], &newest,
			       error))
			return FALSE;
	*ret_ms = newest;
	return TRUE;
}
