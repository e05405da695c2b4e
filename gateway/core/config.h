/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "gateway/engine/load.h"

/*
 * The daemon's configuration (DESIGN §9): an INI file read with GKeyFile and
 * checked whole before anything starts. Every error is one line that names
 * the file, the line and what was expected:
 *
 *   /etc/recoveryd/recoveryd.conf:12: [user alice] heart-rate: "C4:7C:8D"
 *   is not a Bluetooth address (expected six hex pairs, e.g.
 *   C4:7C:8D:6A:12:34)
 *
 * Unknown groups and keys are errors (a typo must not silently fall back to a
 * default), and so is a key given twice in one group. Nothing here logs.
 */

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);

enum config_error_code {
	CONFIG_ERROR_FILE,     /* cannot read the file (missing, permission) */
	CONFIG_ERROR_PARSE,    /* not INI: a line GKeyFile cannot read */
	CONFIG_ERROR_KEY,      /* unknown group or key, or a key given twice */
	CONFIG_ERROR_VALUE,    /* a value that is not what the key takes */
	CONFIG_ERROR_MISSING,  /* a required key or group is absent */
	CONFIG_ERROR_CONFLICT, /* values that contradict each other */
};

/*
 * scale-protocol=, an override: without it a scale is recognised by what it
 * advertises (sensors/advert-decode.h).
 */
enum config_scale_protocol {
	CONFIG_SCALE_STANDARD, /* connect: Weight Scale / Body Composition */
	CONFIG_SCALE_XIAOMI,   /* advertisements only: the Mi scales and every
				  broadcast family */
	CONFIG_SCALE_QN, /* connect: QN/Renpho 0xFFE0/0xFFF0, with its writes */
};

/* [antennas] topics= holds at most this many filters. */
#define CONFIG_ANTENNA_TOPICS_MAX 16

/* When the morning alert of a person goes out. */
#define CONFIG_ALERT_AT_WAKE (-1)

struct config_person {
	char *name;	    /* from "[user NAME]": mqtt_topic_user_valid() */
	char *display_name; /* display-name=; NULL: the name */
	/* Upper-case "AA:BB:CC:DD:EE:FF", or "" when not configured. */
	char heart_rate[18]; /* heart-rate= */
	char scale[18];	     /* scale= (may be shared) */
	char bed_sensor[18]; /* bed-sensor= (BTHome v2) */
	/* scale-protocol=standard|xiaomi|qn, given here or on the line of
	 * another person with the same scale; when not (@scale_protocol_set
	 * false, @scale_protocol STANDARD) the scale is recognised by what it
	 * advertises. */
	enum config_scale_protocol scale_protocol;
	bool scale_protocol_set;
	int scale_user; /* scale-user= 1-254; 0: not set */
	/* scale-consent= 0-9999 (default 0): the consent code a standard
	 * scale's User Data Service registers this person with, and asks for
	 * on every connection. */
	int scale_consent;
	/* weight-range=55-70 (kg); both 0 when not set. */
	double weight_min_kg, weight_max_kg;
	int sleep_need_min; /* sleep-need= minutes 240-720; default 480 */
	/*
	 * morning-alert= "wake" (CONFIG_ALERT_AT_WAKE, the default) or a
	 * local time HH:MM[:SS] as seconds of the day: the night is analysed
	 * and the alert sent when the sleep window closes or at this time,
	 * whichever comes first, and at the latest at alert_latest_s.
	 */
	int alert_s;
	int alert_latest_s; /* morning-latest= HH:MM[:SS]; default 11:00 */
	/* alert-wait-checkin= 0-240 minutes, default 0: the morning alert is
	 * held this long after the night is over for the day's check-in,
	 * and sent at once when it arrives. */
	int alert_wait_checkin_min;
	int bedtime_min;   /* bedtime= HH:MM; default 23:00 */
	int wake_min;	   /* wake= HH:MM; default 07:00 */
	int hr_max_bpm;	   /* hr-max= 120-230; default 190 */
	enum load_sex sex; /* sex= female|male|unspecified (default) */
	char *goal;	   /* goal=; NULL: none */
	uint8_t club_days; /* club-days= mon,...,sun: bit 0 Monday */
	/* The line of the "[user NAME]" header, for messages. */
	int line;
};

/* [gateway] role=: what this gateway does. */
enum config_role {
	CONFIG_ROLE_HOME,      /* analyses, mornings, Home Assistant */
	CONFIG_ROLE_SATELLITE, /* radio only: readings to the home gateway */
};

struct config {
	char *path; /* as given */

	/* [gateway] */
	char *adapter;	       /* adapter=hciN; NULL: the first powered */
	bool power_on_adapter; /* power-on-adapter=; default true */
	char *database; /* database=; default /var/lib/recoveryd/recoveryd.db */
	char *timezone; /* timezone= (an IANA name); NULL: the system's */
	int retention_days; /* retention-days= 7-3650; default 90 */
	/* require-clock-sync=; default false: the clock is trusted when
	 * synchronised or later than its floor (clock_trust) */
	bool require_clock_sync;
	/* role=home (default) | satellite: a satellite runs its radio only
	 * and sends every reading to the home gateway (DESIGN §13) */
	enum config_role role;
	/* name=: the satellite's name, a topic level under
	 * <base>/satellite/; required for (and only for) a satellite */
	char *satellite_name;

	/* [mqtt] (the section may be absent: localhost:1883) */
	char *host;	     /* host=; default localhost */
	int port;	     /* port= 1-65535; 0: 1883, or 8883 with TLS */
	bool tls;	     /* tls=; default: true when a CA file/dir, client
				cert or port 8883 is set, else false */
	char *ca_file;	     /* ca-file= */
	char *ca_dir;	     /* ca-dir= */
	char *cert_file;     /* cert-file= (with key-file=) */
	char *key_file;	     /* key-file= */
	char *username;	     /* username= */
	char *password_file; /* password-file= (needs username=) */
	bool allow_insecure; /* allow-insecure=; default false */
	char *base_topic;    /* base-topic=; default "recovery" */
	char *discovery_prefix; /* discovery-prefix=; default "homeassistant" */
	/* dashboard-url=: Home Assistant's link to the dashboard; NULL: none */
	char *dashboard_url;
	char *client_id; /* client-id=; NULL: the client's default */
	int protocol;	 /* protocol= 3.1.1 (311, default) | 5 */
	int keepalive_s; /* keepalive= 5-3600 s; default 30 */

	/* [antennas] (DESIGN §13): topics= the MQTT filters remote antennas
	 * publish advertisements on, NULL-terminated; NULL: none. */
	char **antenna_topics;

	/* [user NAME] sections, in file order. */
	struct config_person *people;
	size_t person_count;
};

/*
 * Reads and checks the file at @path. Returns a new config, or NULL with
 * @error (CONFIG_ERROR) set whose message is one line that starts with
 * "@path:LINE: " (or "@path: " when no line applies, e.g. a missing file
 * or a required section that is absent). Checks made:
 *   - every group and key known, none repeated;
 *   - addresses are Bluetooth addresses (libbluetooth's bachk);
 *   - times HH:MM or HH:MM:SS, 00:00-23:59:59;
 *   - numbers whole and in range, booleans true/false;
 *   - user names valid as MQTT topic levels, display names valid UTF-8;
 *   - the time zone exists (gateway/core/clock.h);
 *   - the same address not used for two different kinds of device, and a
 *     scale shared by two people with the same protocol; a scale user
 *     index not used twice on one scale; weight ranges min < max;
 *   - password-file given only with username; key-file with cert-file;
 *   - antenna topics valid MQTT filters, none twice, at most
 *     CONFIG_ANTENNA_TOPICS_MAX, none that covers recoveryd's own topics;
 *   - the password file, CA file and client certificate readable (the
 *     message says which and why) — checked here so that --check-config
 *     catches them, as the daemon would at start;
 *   - at least one [user NAME] section (unless config_load_full() is told
 *     CONFIG_LOAD_PEOPLE_OPTIONAL).
 */
struct config *config_load(const char *path, GError **error);

/*
 * The same from text in memory; @path is only used in messages. Files named
 * in the text (password, CA) are still checked on disk.
 */
struct config *config_load_data(const char *path, const char *data, size_t len,
				GError **error);

enum config_load_flags {
	CONFIG_LOAD_DEFAULT = 0,
	/* No [user NAME] section is no error: demo mode brings its own
	 * people (`recoveryd --demo --config FILE` with only [gateway] and
	 * [mqtt]). */
	CONFIG_LOAD_PEOPLE_OPTIONAL = 1 << 0,
};

/* config_load() and config_load_data() with @flags (enum
 * config_load_flags, or-ed). */
struct config *config_load_full(const char *path, unsigned flags,
				GError **error);
struct config *config_load_data_full(const char *path, const char *data,
				     size_t len, unsigned flags,
				     GError **error);

/* NULL-safe. */
void config_free(struct config *config);

/* Frees the people of @config and leaves it with none (demo mode puts
 * its own household in their place). */
void config_clear_people(struct config *config);

/* A config with every default and no people, for demo mode to fill in. */
struct config *config_new_defaults(void);

/* The person named @name, or NULL. */
const struct config_person *config_find_person(const struct config *config,
					       const char *name);
