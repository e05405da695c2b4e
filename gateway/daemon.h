/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The daemon's state, shared by the files recoveryd.c splits into:
 * recoveryd.c (start, stop, signals, reload, systemd, the broker
 * callbacks), radio.c (the BLE client's wiring), mornings.c (a night over →
 * analysis → state and alert), demo-run.c (the simulated household) and
 * publish.c (what goes out when, behind its own interface). Each field says
 * which file writes it.
 */

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "gateway/core/clock.h"
#include "gateway/core/config.h"
#include "gateway/core/household.h"
#include "gateway/core/store.h"
#include "gateway/publish.h"
#include "mqtt/bridge.h"
#include "mqtt/client.h"
#include "sensors/ble.h"

struct antennas;
struct demo_run;
struct health;
struct satellites;
struct spot_watch;

struct daemon {
	/* recoveryd.c: set up in start(), torn down in stop(). */
	GMainLoop *loop;
	int exit_code;
	const char *config_path;
	struct config *config; /* replaced on reload */
	clock_zone *zone;
	store *store;
	household *household; /* replaced on reload */
	mqtt_client *mqtt;
	mqtt_bridge *bridge;
	ble_client *ble;
	struct antennas *antennas; /* antennas.c: [antennas] topics= */
	publisher *publish;
	struct spot_watch *spot; /* spot-watch.c: spot checks as they go */
	char *tmpdir;		 /* demo database directory, removed at exit */
	/* The base topic this gateway publishes under: [mqtt] base-topic=,
	 * or <base>/satellite/<name> on a satellite (DESIGN §13). */
	char *base_topic;
	bool satellite; /* [gateway] role=satellite: the radio only */
	/* satellite.c: readings to the home gateway, or from satellites. */
	struct satellites *satellites;

	/* demo-run.c: the simulated household, NULL outside demo mode. */
	struct demo_run *demo;
	bool want_demo;
	double demo_speed;
	int demo_days;
	/* --demo-radio: the BlueZ client runs in demo mode too. */
	bool demo_radio;

	/* recoveryd.c: the broker and the radio, for the logs and STATUS. */
	int64_t last_republish_ms;
	bool mqtt_up;
	char *last_mqtt_error;
	unsigned mqtt_failures;
	uint64_t store_failures;
	bool ble_advice_logged;
	guint watchdog_timer, clock_timer, housekeeping_timer, status_timer;
	/* The periodic tick (the store's batch, the health, the mornings,
	 * the devices' silence, the radio's state): every TICK_BUSY_S while
	 * there is such work, else as long as nothing is due. */
	guint tick_timer;
	unsigned tick_period_s;
	char *status_sent;
	int64_t status_sent_ms;
	/* The newest stored reading at start: a floor for the wall clock. */
	int64_t newest_reading_ms;
	bool clock_explained;

	/* mornings.c */
	uint64_t alerts;      /* morning alerts sent */
	uint64_t updates;     /* update alerts sent after late data */
	GHashTable *mornings; /* person name -> held alert, late data;
				 kept across reloads */
	guint mornings_timer; /* the next of them due (not in demo mode) */

	/* health.c: the database's health, the gateway's state, device rows
	 * and damaged rows (created in start(), freed in stop()). */
	struct health *health;
	/* recoveryd.c: readings refused for a time outside [2000, now + 1
	 * day], for the log. */
	uint64_t bad_times;
};

/* Libraries' remarks (their ops.log), to the daemon's log: their errors
 * are the daemon's warnings, it keeps running. */
void daemon_log_line(void *data, GLogLevelFlags level, const char *message);
/* A reading, a check-in or a storage failure came: the periodic tick
 * runs at its busy pace (cheap; for every reading). */
void daemon_tick_soon(struct daemon *d);
/* The monotonic clock in ms. */
int64_t daemon_mono_ms(void);
/* The wall clock in ms: the simulated one in demo mode. */
int64_t daemon_now_ms(struct daemon *d);
/* The monotonic instant of a reading received at @wall_ms: now on the
 * monotonic clock, or @wall_ms itself in demo mode (one simulated clock). */
int64_t daemon_reading_mono_ms(struct daemon *d, int64_t wall_ms);
/* A database failure: the first at once, then at most once a minute with a
 * count; while the disk refuses writes, the store's health says it (see
 * gateway/health.h) and this is a debug line. */
void daemon_store_failed(struct daemon *d, const char *what,
			 const GError *error);
/* The systemd STATUS line, when it changed (rate-limited). */
void daemon_update_status(struct daemon *d);
/* A reading from the radio or the demo, into the household. */
void daemon_ingest(struct daemon *d, const struct reading *r);
