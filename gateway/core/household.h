/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "gateway/core/analyze.h"
#include "gateway/core/config.h"
#include "gateway/engine/morning.h"
#include "gateway/engine/spot.h"
#include "sensors/reading.h"
#include "gateway/core/store.h"

/*
 * The configured people and their devices as the daemon keeps them: what a
 * reading from an allowlisted device means (whose heart rate, whose weight
 * on the shared scale, whose bed), written to the store; the live values
 * the dashboard shows; the morning tracker of each person; and what each
 * device last said. demo mode and the BLE client feed it the same struct
 * reading.
 *
 * Until the wall clock is trusted (household_set_clock_trusted; the rule is
 * clock_trust()) readings are held in the store's held table, stamped with
 * the monotonic clock and this boot's id, and filed with their true wall
 * time once it is known: a Pi without a real-time clock boots in 1970 or at
 * its last shutdown, and a night filed there would be lost to the
 * analysis. Held rows survive a restart: a household of the same boot
 * finds them and files them when the clock is trusted. At most
 * HOUSEHOLD_HOLD_MAX rows are held; beyond that the oldest go first (and
 * the log says so once).
 *
 * Every reading is timed on the monotonic clock and filed at that instant
 * plus the wall clock's offset from it, as the latest reading found it. A
 * jump of that offset by more than HOUSEHOLD_STEP_MIN_MS is a step of the
 * wall clock: logged once, and later readings move with it as a block, so
 * that beats keep their spacing (HRV is made of it) and nothing is
 * squeezed; after a step back, a row whose instant an earlier row already
 * holds is stored beside it, not dropped.
 *
 * Nothing here logs: remarks go to ops->log. No health values above
 * G_LOG_LEVEL_DEBUG.
 */

/* About two nights of two straps (a heart rate and an RR interval a
 * second each), some 40 MB of held rows at most. */
#define HOUSEHOLD_HOLD_MAX 500000
/* A larger jump between the wall and the monotonic clock is a step. */
#define HOUSEHOLD_STEP_MIN_MS 2000

enum household_device_kind {
	HOUSEHOLD_STRAP,
	/* A scale recognised by what it advertises (no scale-protocol=): a
	 * broadcast family is listened to, a standard scale connected. */
	HOUSEHOLD_SCALE,
	HOUSEHOLD_MISCALE, /* scale-protocol=xiaomi: advertisements only */
	HOUSEHOLD_BED,	   /* BTHome v2 */
	/* scale-protocol=standard: Weight Scale / Body Composition Service,
	 * connected */
	HOUSEHOLD_STANDARD_SCALE,
	/* scale-protocol=qn: a QN/Renpho scale that weighs over a
	 * connection, connected */
	HOUSEHOLD_QN_SCALE,
};

struct household_live {
	double heart_rate_bpm; /* NAN: none lately */
	int contact;	       /* -1 unknown, 0 no, 1 yes */
	int64_t heart_rate_ms; /* when */
	double weight_kg;      /* the last weighing; NAN: none */
	double body_fat_pct;
	int bed;	    /* -1 unknown, 0 empty, 1 occupied */
	int64_t updated_ms; /* the last change (0: none) */
	/* This morning's spot check as it goes (gateway/spot-watch.c
	 * writes it): none unless @spot; shown until @spot_until_ms, the
	 * end of that day. */
	bool spot;
	enum spot_phase spot_phase;
	int32_t spot_measured_s;
	double spot_rmssd_ms; /* when done */
	int64_t spot_until_ms;
};

struct household_person {
	const struct config_person *cfg; /* borrowed from the household's
					    config */
	int64_t user_id;
	struct analyze_person analysis;
	double recent_kg; /* the latest weight, for the shared scale */
	struct household_live live;
	struct morning_tracker morning;
	/* The strap's clock of beats, on the monotonic clock: where the last
	 * RR interval ended, and the last heart rate's time, so that rows
	 * never share an instant. */
	double rr_end_mono_ms;
	int64_t hr_last_mono_ms;
	/* ... and the wall time the last heart rate was filed at. */
	int64_t hr_last_wall_ms;
	/* The user index and consent code the scale's User Data Service
	 * registered this person with (the store keeps them); -1: none. */
	int uds_index;
	int uds_consent;
};

struct household_device {
	char address[18];
	enum household_device_kind kind;
	int owner;	 /* person index; -1 for a scale shared by several */
	int battery_pct; /* -1: unknown */
	int64_t last_seen_ms;
	/* The last weighing filed from this scale, to tell its repeats and
	 * its second parts (sensors/reading.h, struct reading_weighing). */
	int64_t last_weight_ms;
	/* ... and the wall time its row was filed at (0: not yet). */
	int64_t last_weight_filed_ms;
	double last_weight_kg;
	uint64_t last_weight_key;
	bool last_had_impedance;
	bool last_had_fat;
	/* A standard scale's User Data Service: whose turn it is to consent
	 * (its people take turns, one a connection), and the person a
	 * registration under way is for (-1: none). */
	unsigned uds_turn;
	int uds_registering;
};

/* What kind of reading a day's analysis reads beside the night. */
enum household_input {
	HOUSEHOLD_INPUT_WEIGHING,
	HOUSEHOLD_INPUT_CHECKIN,
};

struct household_ops {
	/* Person @person's live values changed (@urgent: not only the
	 * heart rate, which the caller may throttle). */
	void (*live_changed)(void *data, int person, bool urgent);
	/* Device @device's battery changed, or it was heard for the first
	 * time. */
	void (*device_changed)(void *data, int device);
	/* Person @person's weighing or check-in (@kind) was stored at @t_ms
	 * (wall clock): data the analysis of that day reads, which may
	 * arrive after its morning was announced (DESIGN §6, "late data
	 * counts"). Not called while the clock is not trusted: no morning is
	 * announced before it is. May be NULL. */
	void (*day_input)(void *data, int person, int64_t t_ms,
			  enum household_input kind);
	/* Person @person's strap sent a beat that ended at @t_ms and arrived
	 * at @arrival_ms (wall clock, once it is trusted). May be NULL. On
	 * the path of every notification: it must be cheap. */
	void (*beat)(void *data, int person, int64_t t_ms, double rr_ms,
		     int64_t arrival_ms);
	void (*log)(void *data, GLogLevelFlags level, const char *message);
};

typedef struct household household;

/*
 * The household of @config (borrowed: it must outlive the household) over
 * @s: the people get their store ids, recent weights and the day their
 * last morning alert went out (looking back a week from @today). NULL with
 * @error set when the store fails.
 */
household *household_new(const struct config *config, store *s, int32_t today,
			 const struct household_ops *ops, void *data,
			 GError **error);
void household_free(household *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(household, household_free)

size_t household_person_count(const household *h);
struct household_person *household_person(household *h, size_t index);
/* The index of the person named @name, or -1. */
int household_find_person(const household *h, const char *name);

size_t household_device_count(const household *h);
/* The index of the device at @address (either case), or -1. */
int household_find_device(const household *h, const char *address);
const struct household_device *household_device(const household *h,
						size_t index);

/*
 * Whom the standard scale @address is to know this connection, for its
 * User Data Service (DESIGN §3): the first of its people without a user
 * index is registered (@ret_registered FALSE); once all have one, they
 * consent in turn, one a connection (a scale tags and hands over only the
 * consenting user's weighings, and keeps the others' for their turn). A
 * person's index is scale-user= (with scale-consent=) if given, else the
 * one the scale gave at registration. FALSE: @address is no scale of ours.
 */
bool household_scale_uds_user(household *h, const char *address,
			      bool *ret_registered, int *ret_index,
			      int *ret_consent_code);

/*
 * The scale @address registered the person household_scale_uds_user() chose
 * as @user_index with @consent_code: kept in the store and used from now
 * on, also to tell its weighings apart. FALSE with @error if it cannot be
 * stored (it is then kept for this run only).
 */
gboolean household_scale_registered(household *h, const char *address,
				    int user_index, int consent_code,
				    int64_t t_ms, GError **error);

/*
 * One reading from an allowlisted device, received at r->t_ms on the wall
 * clock and @mono_ms on the monotonic clock (read at the same instant: their
 * difference is how the household sees a step of the wall clock). Bad
 * values are logged and dropped; FALSE with @error only when the store
 * fails.
 */
gboolean household_ingest(household *h, const struct reading *r,
			  int64_t mono_ms, GError **error);

/*
 * A reading a satellite gateway filed (DESIGN §13), already on its wall
 * clock: device @address, for person @user (the satellite's word, which
 * only a shared scale needs), at @t_ms.
 */
struct household_remote_reading {
	const char *address;
	const char *user;
	int64_t t_ms;
	enum store_reading_kind kind; /* not STORE_READING_CHECKIN */
	int sub;		      /* store_state_kind / store_env_kind */
	double v[3];
};

/* What household_file_remote did with a reading. */
enum household_remote_result {
	HOUSEHOLD_REMOTE_FILED,	   /* stored, or its key was (one row) */
	HOUSEHOLD_REMOTE_FOREIGN,  /* no device of this household: dropped */
	HOUSEHOLD_REMOTE_MISMATCH, /* the device is no such kind, or of
				      nobody here that fits: dropped */
	HOUSEHOLD_REMOTE_INVALID,  /* a value the store refuses: dropped */
};

/*
 * Files @r as if the radio here had heard it: by its natural key (the
 * device's person, the time, the kind), so a reading filed twice is one
 * row; the device's last-seen time, the live values, the morning tracker
 * (strap and bed) and day_input (a weighing) follow it as for a local
 * reading. The device must be configured here; its person is its owner,
 * or for a shared scale the person @r->user names if that person shares
 * it. @ret says which. FALSE with @error only when the store fails.
 */
gboolean household_file_remote(household *h,
			       const struct household_remote_reading *r,
			       enum household_remote_result *ret,
			       GError **error);

/* A check-in of person @person at @t_ms (wall clock) and @mono_ms
 * (monotonic clock), the same instant. */
gboolean household_checkin(household *h, int person, int64_t t_ms, double mood,
			   double soreness, double energy, int64_t mono_ms,
			   GError **error);

/*
 * The wall clock can be trusted from now on: @wall_ms and @mono_ms are the
 * same instant on both clocks. Files the held rows of this boot (this
 * run's and an earlier run's) at their wall times, and moves the live
 * values' and devices' times onto the trusted clock. FALSE with @error
 * when the store fails: the rows not filed stay held in the store (the
 * household is trusted all the same).
 */
gboolean household_set_clock_trusted(household *h, int64_t wall_ms,
				     int64_t mono_ms, GError **error);
bool household_clock_trusted(const household *h);
/* Rows of this boot held in the store, and rows dropped so far. */
uint64_t household_held_rows(const household *h);
uint64_t household_dropped_rows(const household *h);
