/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"
#include "sensors/scale-qn.h"
#include "sensors/weighing.h"

/*
 * The conversations a connected scale needs beyond subscribing (DESIGN §3):
 * one state machine per family, pure (no clock, no I/O, no allocation).
 * device.c drives it: it starts a session once the characteristics are
 * subscribed, hands it every value of the session's characteristics, does
 * the writes it asks for, and calls scale_session_timeout() when a reply it
 * waits for (scale_session_wait_ms()) does not come. The frames themselves
 * are built and parsed by the family's file (scale-qn.c, uds.c).
 */

enum scale_session_kind {
	/* QN/Renpho GATT (0xFFE0 or 0xFFF0): unit and time writes, the 0x12
	 * frame's divider, 0x10 weight frames. */
	SCALE_SESSION_QN,
	/* A standard scale's User Data Service: register a user or consent
	 * with the stored index, before its weighings. */
	SCALE_SESSION_UDS,
	/* Yunmai SE/Mini (0xFFE0 notify 0xFFE4, 0xFFE5 write 0xFFE9): user,
	 * time and start writes, then measuring and measured frames. */
	SCALE_SESSION_YUNMAI,
	/* 1byone classic (0xFFF0 notify 0xFFF4, write 0xFFF1): unit and
	 * clock writes, then CF records. */
	SCALE_SESSION_ONEBYONE,
};

/* Where a vendor scale's characteristics are (a QN scale has two
 * services in the field). */
struct scale_session_chars {
	uint16_t service;
	uint16_t notify;     /* 0x10, 0x12, 0x14 frames come here */
	uint16_t write;	     /* 0x13 unit and 0x20 time sync go here */
	uint16_t time_write; /* the 02 <seconds> time write; 0: none */
};

#define SCALE_SESSION_QN_VARIANTS 2
/* 0xFFE0 (notify 0xFFE1, write 0xFFE3, time 0xFFE4), then 0xFFF0 (notify
 * 0xFFF1, write 0xFFF2). */
extern const struct scale_session_chars
    scale_session_qn_variants[SCALE_SESSION_QN_VARIANTS];

/*
 * The characteristics a vendor session (QN, Yunmai, 1byone) may use, in
 * the order to look for them: the first whose notify characteristic the
 * scale has is the one. Sets @ret_count; NULL (0) for UDS.
 */
const struct scale_session_chars *
scale_session_variants(enum scale_session_kind kind, size_t *ret_count);

/* How long a reply is waited for before scale_session_timeout(). */
#define SCALE_SESSION_REPLY_MS 5000
/* The most a write carries (ATT's default MTU 23 less 3). */
#define SCALE_SESSION_WRITE_MAX	  20
#define SCALE_SESSION_ACTIONS_MAX 3
#define SCALE_SESSION_MESSAGE_MAX 160

enum scale_action_kind {
	SCALE_ACTION_WRITE,	 /* write @data to @uuid */
	SCALE_ACTION_WEIGHING,	 /* @weighing was measured (final or live) */
	SCALE_ACTION_REGISTERED, /* UDS: the scale gave us @user_index */
	SCALE_ACTION_NOTE,	 /* @message is worth a log line; go on */
	SCALE_ACTION_REFUSED,	 /* UDS: the scale refused (@message says
				    why, one line); the link goes on */
	SCALE_ACTION_FAILED,	 /* @message: end the session, retry later */
};

struct scale_action {
	enum scale_action_kind kind;
	uint16_t uuid;	    /* WRITE: the characteristic */
	bool with_response; /* WRITE: a write request, else a command */
	uint8_t data[SCALE_SESSION_WRITE_MAX];
	size_t len;
	struct scale_weighing weighing; /* WEIGHING */
	uint8_t user_index;		/* REGISTERED */
	char message[SCALE_SESSION_MESSAGE_MAX];
};

struct scale_actions {
	struct scale_action a[SCALE_SESSION_ACTIONS_MAX];
	size_t n;
};

enum scale_session_phase {
	SCALE_PHASE_IDLE,
	SCALE_PHASE_QN_INFO,	  /* waiting for the 0x12 scale-info frame */
	SCALE_PHASE_QN_ACK,	  /* unit written, waiting for 0x14 */
	SCALE_PHASE_QN_READY,	  /* weighing */
	SCALE_PHASE_UDS_REGISTER, /* Register New User sent */
	SCALE_PHASE_UDS_CONSENT,  /* Consent sent */
	SCALE_PHASE_UDS_READY,	  /* consented */
	SCALE_PHASE_UDS_REFUSED,  /* refused: weighings come untagged */
	SCALE_PHASE_WEIGHING,	  /* Yunmai, 1byone: told, weighing */
};

struct scale_session {
	enum scale_session_kind kind;
	enum scale_session_phase phase;
	/* QN, Yunmai, 1byone */
	struct scale_session_chars qn; /* the characteristics in use */
	struct qn_scale_info info;     /* divider 100 until a 0x12 frame */
	enum qn_weight_layout layout;
	bool final_sent; /* this weighing's final frame passed on (every
			    vendor session) */
	double final_kg;
	/* UDS */
	uint16_t consent_code;
	uint8_t user_index;
};

/*
 * Starts a QN session on the characteristics @chars (one of
 * scale_session_qn_variants), already subscribed, at @unix_seconds.
 */
void scale_session_start_qn(struct scale_session *s,
			    const struct scale_session_chars *chars,
			    int64_t unix_seconds, struct scale_actions *ret);

/*
 * Starts a vendor session of @kind (QN, Yunmai or 1byone) on @chars (one
 * of scale_session_variants()), already subscribed, at @unix_seconds.
 * UDS has its own start.
 */
void scale_session_start(struct scale_session *s, enum scale_session_kind kind,
			 const struct scale_session_chars *chars,
			 int64_t unix_seconds, struct scale_actions *ret);

/*
 * Starts a User Data Service session: Consent with @user_index when
 * @registered, else Register New User, with @consent_code (0-9999; a code
 * out of range fails the session at once with a message saying so).
 */
void scale_session_start_uds(struct scale_session *s, bool registered,
			     uint8_t user_index, uint16_t consent_code,
			     struct scale_actions *ret);

/*
 * A value of the session's characteristic @uuid at @unix_seconds. Returns
 * 0 with @ret the actions to take (maybe none: a frame we do not need), or
 * the parser's negative errno with @ret_err (may be NULL) naming the field
 * and @ret empty: a malformed frame, to be counted and logged.
 */
int scale_session_value(struct scale_session *s, uint16_t uuid,
			const uint8_t *data, size_t len, int64_t unix_seconds,
			struct scale_actions *ret, struct parse_error *ret_err);

/* The reply awaited now, in ms from the last step; 0: none. */
unsigned scale_session_wait_ms(const struct scale_session *s);

/* The awaited reply did not come within scale_session_wait_ms(). */
void scale_session_timeout(struct scale_session *s, struct scale_actions *ret);

/* "qn", "uds", "yunmai", "1byone": for logs. */
const char *scale_session_kind_name(enum scale_session_kind kind);
