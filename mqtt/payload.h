/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The JSON payloads the gateway publishes besides the state message (which
 * gateway/core/report.c builds): live values, BLE device state, the morning
 * alert, and the status words. Plain structs in, compact JSON text out.
 * Pure: no I/O, no clock, no globals; times come in as Unix milliseconds.
 *
 * Absent values are left out of the JSON, never sent as 0 or "": an
 * optional number is NAN (any non-finite value counts as absent), an
 * optional string NULL, an optional flag MQTT_FLAG_UNKNOWN. Times are
 * ISO 8601 in UTC to the second ("2026-03-02T06:15:00Z"), which Home
 * Assistant's timestamp sensors read as they are.
 */

enum mqtt_flag {
	MQTT_FLAG_UNKNOWN, /* left out */
	MQTT_FLAG_NO,
	MQTT_FLAG_YES,
};

/* recovery/<user>/live: keys heart_rate_bpm, contact, weight_kg,
 * body_fat_pct, bed, spot, spot_measured_s, spot_rmssd_ms, updated. */
struct mqtt_live {
	double heart_rate_bpm; /* NAN: no strap worn or in range */
	enum mqtt_flag contact;
	double weight_kg;    /* the last weighing; NAN: none */
	double body_fat_pct; /* with that weighing; NAN: not measured */
	enum mqtt_flag bed;  /* in bed; unknown without a bed sensor */
	int64_t updated_ms;  /* 0: left out (the clock is not trusted) */
	/* This morning's spot check: "settling", "measuring", "done",
	 * "too-noisy" or "too-short" (spot_phase_name()); NULL: none, and
	 * the two below are left out too. */
	const char *spot;
	int spot_measured_s;  /* of the 180 s window */
	double spot_rmssd_ms; /* when done; NAN: left out */
};

/*
 * Builds the live payload. Heart rate is sent in whole bpm, weight to 0.01
 * kg, body fat to 0.1 %, the spot check's RMSSD to 0.1 ms. Returns 0 and a
 * new string (g_free) in @ret_json, or -EINVAL, @ret_json untouched, when
 * updated_ms is neither 0 nor a time between 1970 and 9999.
 */
int mqtt_payload_build_live(const struct mqtt_live *live, char **ret_json);

/* Where a BLE device stands, as the device topic reports it. */
enum mqtt_connection {
	MQTT_CONNECTION_UNKNOWN,      /* left out */
	MQTT_CONNECTION_ABSENT,	      /* not heard lately */
	MQTT_CONNECTION_ADVERTISING,  /* heard; needs no connection */
	MQTT_CONNECTION_CONNECTING,   /* connecting or resolving */
	MQTT_CONNECTION_CONNECTED,    /* subscribed, data flowing */
	MQTT_CONNECTION_DISCONNECTED, /* lost; backing off */
	/* an advertiser not heard for a while (DESIGN §7: 15 min): Home
	 * Assistant shows its entities unavailable */
	MQTT_CONNECTION_SILENT,
};

/* "absent", "advertising", "connecting", "connected", "disconnected",
 * "silent"; NULL for MQTT_CONNECTION_UNKNOWN or a value outside the enum. */
const char *mqtt_payload_connection_name(enum mqtt_connection connection);

/* recovery/device/<addr>: keys address, name, kind, user, battery_pct,
 * rssi_dbm, last_seen, connection. */
struct mqtt_device_state {
	const char *address; /* required, "C4:7C:8D:6A:12:34" */
	const char *name;    /* as the device or the config names it */
	const char *kind;    /* what it is to us, e.g. "heart-rate strap" */
	const char *user;    /* whose it is; NULL when shared */
	double battery_pct;  /* 0-100 */
	double rssi_dbm;
	int64_t last_seen_ms; /* 0: never seen */
	enum mqtt_connection connection;
};

/*
 * Builds the device payload; battery and RSSI are sent as whole numbers,
 * texts made valid UTF-8 (BLE names are raw bytes). Returns 0 and a new
 * string (g_free) in @ret_json, or -EINVAL, @ret_json untouched, for an
 * invalid address or last_seen_ms.
 */
int mqtt_payload_build_device(const struct mqtt_device_state *device,
			      char **ret_json);

/* recovery/<user>/checkin (retained): the last check-in as it was stored,
 * which Home Assistant's check-in numbers show. Keys mood, soreness, energy
 * (those the check-in had, whole numbers 1-5) and stored (UTC). */
struct mqtt_checkin_stored {
	double mood; /* NAN: not in the check-in, left out */
	double soreness;
	double energy;
	int64_t stored_ms; /* 0: left out (the clock is not trusted) */
};

/*
 * Builds the check-in topic's payload into @ret_json (g_free). Returns 0,
 * or -EINVAL, @ret_json untouched, when none of the three is present or
 * stored_ms is out of range.
 */
int mqtt_payload_build_checkin(const struct mqtt_checkin_stored *checkin,
			       char **ret_json);

/* The notification line of an alert is at most this many characters. */
#define MQTT_PAYLOAD_ALERT_TEXT_MAX 200

/* recovery/<user>/alert: keys user, date, score, zone, hrv_source, state,
 * headline, detail, actions, reasons, text, and update when set. */
struct mqtt_alert {
	const char *user;	  /* required, mqtt_topic_user_valid() */
	const char *display_name; /* for the text; NULL, "": the user */
	const char *date;	  /* required, "2026-03-02" */
	int score;		  /* 0-100; < 0: none (sent as null) */
	const char *zone;	  /* required: "green", ..., "none" */
	const char *state;	  /* required: the advice state's name */
	const char *headline;	  /* required */
	const char *detail;	  /* NULL: left out */
	const char *const *actions;
	size_t action_count;
	const char *const *reasons;
	size_t reason_count;
	/* The notification line as the advice engine made it (headline, first
	 * action, check-in invitation: advice_push_text()); NULL: built from
	 * the headline and detail as below. Cut to the limit either way. */
	const char *text;
	/* The day's alert sent again because data that came after the
	 * morning (a check-in, a weigh-in) changed the advice state: "update":
	 * true. Left out when false. */
	bool update;
	/* Where the day's HRV came from: "night", "spot", or "none" (a score
	 * with no HRV in it, DESIGN §5); NULL: left out. */
	const char *hrv_source;
};

/*
 * The alert's one-line text for a phone notification or a TTS line:
 * "Alice: 74, green – Ready to go. You have recovered well. …", or
 * "Alice – <headline>. <detail>" without a score; @alert->text instead
 * when it is set. At most
 * MQTT_PAYLOAD_ALERT_TEXT_MAX characters (not bytes): a detail that does not
 * fit is cut at a word and ends in "…". Returns a new string (g_free), or
 * NULL when a required field is missing.
 */
char *mqtt_payload_alert_text(const struct mqtt_alert *alert);

/*
 * Builds the alert payload: the advice as the state message carries it
 * (texts made valid UTF-8) and the text above. Returns 0 and a new string
 * (g_free) in @ret_json, or -EINVAL, @ret_json untouched, when a required
 * field is missing or the user name is not valid.
 */
int mqtt_payload_build_alert(const struct mqtt_alert *alert, char **ret_json);

/* "online" or "offline": recovery/status and the last will. Static. */
const char *mqtt_payload_status(bool online);

/*
 * recovery/gateway, the gateway's own state (retained; what `recoveryctl
 * status` and a dashboard read to know how the box is doing). Keys:
 *   version         the daemon's version
 *   people          [user names]
 *   devices         {"configured": N, "heard": N}
 *   outbox_backlog  messages queued for the broker, not yet sent
 *   storage         {"state": "ok"} or {"state": "failing", "cause":
 *                   "disk full", "since": TIME, "held_readings": N,
 *                   "dropped_readings": N}
 *   clock           "synchronised" or "waiting" (readings are held)
 *   last_analysis   TIME of the last night analysed (left out: none yet)
 */
/* A satellite gateway as the home gateway knows it (DESIGN §13). */
struct mqtt_gateway_satellite {
	const char *name;
	const char *status;    /* its last will's word: "online", "offline";
				  NULL: not heard */
	int64_t last_heard_ms; /* its last readings message; 0: none yet */
	uint64_t readings;     /* readings filed from it since start */
	uint64_t dropped;      /* readings not filed (foreign, bad) */
};

struct mqtt_gateway_state {
	const char *version; /* required */
	const char *const *people;
	size_t people_count;
	/* The Bluetooth adapter: "ready", or what stands in the way
	 * ("off", "missing", "no-bluetoothd", ...); NULL: left out. */
	const char *adapter;
	unsigned devices_configured;
	unsigned devices_heard;
	int64_t outbox_backlog; /* < 0: unknown, left out */
	bool storage_failing;
	const char *storage_cause;	  /* while failing */
	int64_t storage_failing_since_ms; /* while failing; 0: left out */
	unsigned held_readings;
	uint64_t dropped_readings;
	bool clock_synchronised;
	int64_t last_analysis_ms; /* 0: none */
	/* A home gateway's satellites ("satellites": [...], left out when
	 * none is known). */
	const struct mqtt_gateway_satellite *satellites;
	size_t satellite_count;
};

/*
 * Builds the gateway payload (texts made valid UTF-8). Returns 0 and a new
 * string (g_free) in @ret_json, or -EINVAL, @ret_json untouched, without a
 * version or with a time outside 1970-9999.
 */
int mqtt_payload_build_gateway(const struct mqtt_gateway_state *state,
			       char **ret_json);
