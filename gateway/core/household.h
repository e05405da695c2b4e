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
 * Until the wall clock is trusted (household_set_clock_trusted) readings are
 * held in memory stamped with the monotonic clock, and filed with their
 * true wall time once it is known: a Pi without a real-time clock boots in
 * 1970 or at its last shutdown, and a night filed there would be lost to
 * the analysis. At most HOUSEHOLD_HOLD_MAX rows are held; beyond that the
 * oldest go first (and the log says so once).
 *
 * Nothing here logs: remarks go to ops->log. No health values above
 * G_LOG_LEVEL_DEBUG.
 */

#define HOUSEHOLD_HOLD_MAX 20000

enum household_device_kind {
	HOUSEHOLD_STRAP,
	HOUSEHOLD_SCALE,   /* Weight Scale / Body Composition Service */
	HOUSEHOLD_MISCALE, /* Xiaomi advertisements */
	HOUSEHOLD_BED,	   /* BTHome v2 */
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
	/* The strap's clock of beats: where the last RR interval ended, and
	 * the last heart rate's time, so that rows never share an instant. */
	double rr_end_ms;
	int64_t hr_last_ms;
};

struct household_device {
	char address[18];
	enum household_device_kind kind;
	int owner;	 /* person index; -1 for a scale shared by several */
	int battery_pct; /* -1: unknown */
	int64_t last_seen_ms;
	/* A Mi scale repeats its stabilised frame while someone stands on
	 * it: the same weight and scale time is one weighing. */
	uint16_t last_weight_raw;
	int64_t last_weight_ms;
	bool last_had_impedance;
	double last_weight_kg;
	char last_scale_time[20];
};

struct household_ops {
	/* Person @person's live values changed (@urgent: not only the
	 * heart rate, which the caller may throttle). */
	void (*live_changed)(void *data, int person, bool urgent);
	/* Device @device's battery changed, or it was heard for the first
	 * time. */
	void (*device_changed)(void *data, int device);
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
 * One reading from an allowlisted device, received at @mono_ms on the
 * monotonic clock (for holding it while the clock is not trusted). Bad
 * values are logged and dropped; FALSE with @error only when the store
 * fails.
 */
gboolean household_ingest(household *h, const struct reading *r,
			  int64_t mono_ms, GError **error);

/* A check-in of person @person at @t_ms (wall clock). */
gboolean household_checkin(household *h, int person, int64_t t_ms, double mood,
			   double soreness, double energy, int64_t mono_ms,
			   GError **error);

/*
 * The wall clock can be trusted from now on: @wall_ms and @mono_ms are the
 * same instant on both clocks. Files the held rows at their wall times.
 */
gboolean household_set_clock_trusted(household *h, int64_t wall_ms,
				     int64_t mono_ms, GError **error);
bool household_clock_trusted(const household *h);
/* Rows held while the clock is not trusted, and rows dropped so far. */
unsigned household_held_rows(const household *h);
uint64_t household_dropped_rows(const household *h);
