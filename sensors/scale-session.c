// SPDX-License-Identifier: MIT
#include "sensors/scale-session.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sensors/reading.h"
#include "sensors/scale-onebyone.h"
#include "sensors/scale-yunmai.h"
#include "sensors/uds.h"

const struct scale_session_chars
    scale_session_qn_variants[SCALE_SESSION_QN_VARIANTS] = {
	    { 0xFFE0, 0xFFE1, 0xFFE3, 0xFFE4 },
	    { 0xFFF0, 0xFFF1, 0xFFF2, 0 },
    };

static const struct scale_session_chars yunmai_chars[] = {
	{ 0xFFE0, 0xFFE4, 0xFFE9, 0 },
};

static const struct scale_session_chars onebyone_chars[] = {
	{ 0xFFF0, 0xFFF4, 0xFFF1, 0 },
};

const struct scale_session_chars *
scale_session_variants(enum scale_session_kind kind, size_t *ret_count)
{
	switch (kind) {
	case SCALE_SESSION_QN:
		*ret_count = SCALE_SESSION_QN_VARIANTS;
		return scale_session_qn_variants;
	case SCALE_SESSION_YUNMAI:
		*ret_count = 1;
		return yunmai_chars;
	case SCALE_SESSION_ONEBYONE:
		*ret_count = 1;
		return onebyone_chars;
	case SCALE_SESSION_UDS:
	default:
		*ret_count = 0;
		return NULL;
	}
}

const char *scale_session_kind_name(enum scale_session_kind kind)
{
	switch (kind) {
	case SCALE_SESSION_QN:
		return "qn";
	case SCALE_SESSION_UDS:
		return "uds";
	case SCALE_SESSION_YUNMAI:
		return "yunmai";
	case SCALE_SESSION_ONEBYONE:
		return "1byone";
	default:
		return "?";
	}
}

static struct scale_action *add(struct scale_actions *ret,
				enum scale_action_kind kind)
{
	struct scale_action *a;

	/* Every step below adds at most SCALE_SESSION_ACTIONS_MAX. */
	if (ret->n >= SCALE_SESSION_ACTIONS_MAX)
		return NULL;
	a = &ret->a[ret->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

static void add_write(struct scale_actions *ret, uint16_t uuid,
		      bool with_response, const uint8_t *data, size_t len)
{
	struct scale_action *a = add(ret, SCALE_ACTION_WRITE);

	if (a == NULL || len > sizeof(a->data))
		return;
	a->uuid = uuid;
	a->with_response = with_response;
	memcpy(a->data, data, len);
	a->len = len;
}

/* A message action; printf-style. */
static void add_message(struct scale_actions *ret, enum scale_action_kind kind,
			const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_message(struct scale_actions *ret, enum scale_action_kind kind,
			const char *fmt, ...)
{
	struct scale_action *a = add(ret, kind);
	va_list ap;

	if (a == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
}

/*
 * A weighing of a vendor session: live values as they come, the final one
 * once however often the scale repeats it; a live value that differs
 * from it means someone new (or the same person again).
 */
static void pass_weighing(struct scale_session *s,
			  const struct scale_weighing *w,
			  struct scale_actions *ret)
{
	bool same = s->final_sent &&
		    fabs(w->weight_kg - s->final_kg) < READING_SAME_WEIGHT_KG;
	struct scale_action *a;

	if (same)
		return;
	if (w->final) {
		s->final_sent = true;
		s->final_kg = w->weight_kg;
	} else {
		s->final_sent = false;
	}
	a = add(ret, SCALE_ACTION_WEIGHING);
	if (a != NULL)
		a->weighing = *w;
}

/* --- QN/Renpho ---------------------------------------------------------- */

/* The ES-30M 0x10 frame's length byte (scale-qn.c): one more than the
 * classic frame's 10. */
#define QN_ES30M_LENGTH 11

/*
 * The conversation ([openScale] QNHandler.kt, summarised in scale-qn.c):
 * notifications on, the 02 <seconds> time write where the service has its
 * own characteristic for it; the scale sends a 0x12 scale-info frame,
 * answered with the 0x13 unit frame (kg); it acknowledges with 0x14,
 * answered with the 0x20 time sync; then 0x10 weight frames. A scale that
 * skips a step still weighs (the divider stays 100 without a 0x12 frame),
 * so a reply that does not come is only noted.
 */
void scale_session_start_qn(struct scale_session *s,
			    const struct scale_session_chars *chars,
			    int64_t unix_seconds, struct scale_actions *ret)
{
	uint8_t t[QN_TIME_FRAME_SIZE];

	memset(s, 0, sizeof(*s));
	ret->n = 0;
	s->kind = SCALE_SESSION_QN;
	s->qn = *chars;
	s->info.weight_divider = 100;
	s->layout = QN_LAYOUT_CLASSIC;
	s->phase = SCALE_PHASE_QN_INFO;
	if (chars->time_write != 0 && qn_build_time(unix_seconds, t) == 0)
		add_write(ret, chars->time_write, false, t, sizeof(t));
}

static int qn_value(struct scale_session *s, const uint8_t *data, size_t len,
		    int64_t unix_seconds, struct scale_actions *ret,
		    struct parse_error *ret_err)
{
	uint8_t frame[QN_UNIT_FRAME_SIZE > QN_TIME_SYNC_FRAME_SIZE
			  ? QN_UNIT_FRAME_SIZE
			  : QN_TIME_SYNC_FRAME_SIZE];
	struct qn_weight w;
	int rc;

	if (len < 1)
		return qn_parse_weight(data, len, s->layout,
				       s->info.weight_divider, &w, ret_err);
	switch (data[0]) {
	case QN_OP_SCALE_INFO:
		rc = qn_parse_scale_info(data, len, &s->info, ret_err);
		if (rc < 0)
			return rc;
		if (qn_build_unit(s->info.protocol_type, QN_UNIT_KG, frame) ==
		    0)
			add_write(ret, s->qn.write, false, frame,
				  QN_UNIT_FRAME_SIZE);
		s->phase = SCALE_PHASE_QN_ACK;
		return 0;
	case QN_OP_CONFIG_ACK:
		if (qn_build_time_sync(s->info.protocol_type, unix_seconds,
				       frame) == 0)
			add_write(ret, s->qn.write, false, frame,
				  QN_TIME_SYNC_FRAME_SIZE);
		else
			add_message(ret, SCALE_ACTION_NOTE,
				    "the clock (%lld s) is outside the QN "
				    "scale's range: its time not set",
				    (long long)unix_seconds);
		s->phase = SCALE_PHASE_QN_READY;
		return 0;
	case QN_OP_WEIGHT:
		/* The layout by the frame's own length byte: 10 in the
		 * classic frame, 11 in the ES-30M one (its extra unit byte;
		 * the 0x12 frame's length tells neither apart). */
		s->layout = len >= 2 && data[1] >= QN_ES30M_LENGTH
				? QN_LAYOUT_ES30M
				: QN_LAYOUT_CLASSIC;
		rc = qn_parse_weight(data, len, s->layout,
				     s->info.weight_divider, &w, ret_err);
		if (rc < 0)
			return rc;
		pass_weighing(s, &w.weighing, ret);
		return 0;
	default:
		/* History, battery and vendor frames we do not need. */
		return 0;
	}
}

/* --- Yunmai SE/Mini ----------------------------------------------------- */

/*
 * [openScale] YunmaiHandler.kt: the user (whose profile the scale's own
 * body-fat figure uses; recoveryd reads only the weight, so a neutral one),
 * the time, and the start command, written at once; then 0x01 measuring
 * and 0x02 measured frames. Answers to our writes (other types) are not
 * needed.
 */
static const struct yunmai_user yunmai_neutral_user = {
	.user_id = 1,
	.height_cm = 170,
	.sex = YUNMAI_SEX_MALE,
	.age_years = 30,
	.unit = YUNMAI_UNIT_KG,
	.activity = 1,
};

static void yunmai_start(struct scale_session *s, int64_t unix_seconds,
			 struct scale_actions *ret)
{
	uint8_t user[YUNMAI_USER_FRAME_SIZE];
	uint8_t t[YUNMAI_TIME_FRAME_SIZE];
	uint8_t go[YUNMAI_START_FRAME_SIZE];

	if (yunmai_build_user(&yunmai_neutral_user, user) == 0)
		add_write(ret, s->qn.write, false, user, sizeof(user));
	if (yunmai_build_time(unix_seconds, t) == 0)
		add_write(ret, s->qn.write, false, t, sizeof(t));
	yunmai_build_start(go);
	add_write(ret, s->qn.write, false, go, sizeof(go));
}

static int yunmai_value(struct scale_session *s, const uint8_t *data,
			size_t len, struct scale_actions *ret,
			struct parse_error *ret_err)
{
	struct yunmai_reading r;
	int rc = yunmai_parse_notify(data, len, &r, ret_err);

	if (rc == -ENOTSUP)
		return 0; /* an answer to our writes */
	if (rc < 0)
		return rc;
	pass_weighing(s, &r.weighing, ret);
	return 0;
}

/* --- 1byone classic ----------------------------------------------------- */

#define ONEBYONE_RECORD 0xCF

/* Unix seconds as the scale's clock wants them, in UTC (the daemon's
 * clock has no zone here). */
static void utc_date_time(int64_t unix_seconds, struct ble_date_time *ret)
{
	int64_t days = unix_seconds / 86400, secs = unix_seconds % 86400;
	int64_t z, era, doe, yoe, doy, mp, y;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* Days to the civil date (H. Hinnant's algorithm). */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	ret->day = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
	ret->month = (uint8_t)(mp < 10 ? mp + 3 : mp - 9);
	ret->year = (uint16_t)(y + (ret->month <= 2));
	ret->hours = (uint8_t)(secs / 3600);
	ret->minutes = (uint8_t)(secs / 60 % 60);
	ret->seconds = (uint8_t)(secs % 60);
}

/*
 * [openScale] OneByoneHandler.kt: the unit (kg) and user group, and the
 * clock. Not the history request: its records carry the scale's own
 * clock, which a reading cannot pass on, and would be filed as now.
 */
static void onebyone_start(struct scale_session *s, int64_t unix_seconds,
			   struct scale_actions *ret)
{
	uint8_t unit[ONEBYONE_UNIT_FRAME_SIZE];
	uint8_t clock[ONEBYONE_CLOCK_FRAME_SIZE];
	struct ble_date_time now;

	if (onebyone_build_unit(ONEBYONE_UNIT_KG, 0, unit) == 0)
		add_write(ret, s->qn.write, false, unit, sizeof(unit));
	utc_date_time(unix_seconds, &now);
	if (onebyone_build_clock(&now, clock) == 0)
		add_write(ret, s->qn.write, false, clock, sizeof(clock));
}

static int onebyone_value(struct scale_session *s, const uint8_t *data,
			  size_t len, struct scale_actions *ret,
			  struct parse_error *ret_err)
{
	struct onebyone_measurement m;
	int rc;

	/* F1 00 answers the clock; other frames are not records. */
	if (len > 0 && data[0] != ONEBYONE_RECORD)
		return 0;
	rc = onebyone_parse_measurement(data, len, &m, ret_err);
	if (rc < 0)
		return rc;
	if (m.has_timestamp)
		return 0; /* history: see onebyone_start() */
	pass_weighing(s, &m.weighing, ret);
	return 0;
}

void scale_session_start(struct scale_session *s, enum scale_session_kind kind,
			 const struct scale_session_chars *chars,
			 int64_t unix_seconds, struct scale_actions *ret)
{
	switch (kind) {
	case SCALE_SESSION_QN:
		scale_session_start_qn(s, chars, unix_seconds, ret);
		return;
	case SCALE_SESSION_YUNMAI:
	case SCALE_SESSION_ONEBYONE:
		memset(s, 0, sizeof(*s));
		ret->n = 0;
		s->kind = kind;
		s->qn = *chars;
		s->phase = SCALE_PHASE_WEIGHING;
		if (kind == SCALE_SESSION_YUNMAI)
			yunmai_start(s, unix_seconds, ret);
		else
			onebyone_start(s, unix_seconds, ret);
		return;
	case SCALE_SESSION_UDS:
	default:
		ret->n = 0;
		add_message(ret, SCALE_ACTION_FAILED,
			    "a %s session is not started this way",
			    scale_session_kind_name(kind));
		return;
	}
}

/* --- User Data Service -------------------------------------------------- */

static void uds_consent(struct scale_session *s, struct scale_actions *ret)
{
	uint8_t f[UDS_CONSENT_SIZE];

	if (uds_build_consent(s->user_index, s->consent_code, f) < 0) {
		add_message(ret, SCALE_ACTION_FAILED,
			    "cannot consent as user index %u with consent "
			    "code %u (expected an index 0-254, a code 0-%u)",
			    s->user_index, s->consent_code,
			    UDS_CONSENT_CODE_MAX);
		s->phase = SCALE_PHASE_IDLE;
		return;
	}
	add_write(ret, UDS_CONTROL_POINT, true, f, sizeof(f));
	s->phase = SCALE_PHASE_UDS_CONSENT;
}

void scale_session_start_uds(struct scale_session *s, bool registered,
			     uint8_t user_index, uint16_t consent_code,
			     struct scale_actions *ret)
{
	uint8_t f[UDS_REGISTER_SIZE];

	memset(s, 0, sizeof(*s));
	ret->n = 0;
	s->kind = SCALE_SESSION_UDS;
	s->consent_code = consent_code;
	s->user_index = user_index;
	if (registered) {
		uds_consent(s, ret);
		return;
	}
	if (uds_build_register(consent_code, f) < 0) {
		add_message(ret, SCALE_ACTION_FAILED,
			    "cannot register a user with consent code %u "
			    "(expected 0-%u)",
			    consent_code, UDS_CONSENT_CODE_MAX);
		return;
	}
	add_write(ret, UDS_CONTROL_POINT, true, f, sizeof(f));
	s->phase = SCALE_PHASE_UDS_REGISTER;
}

static const char *uds_op_name(uint8_t op)
{
	switch (op) {
	case UDS_OP_REGISTER_NEW_USER:
		return "Register New User";
	case UDS_OP_CONSENT:
		return "Consent";
	default:
		return "an op code we never sent";
	}
}

static int uds_value(struct scale_session *s, const uint8_t *data, size_t len,
		     struct scale_actions *ret, struct parse_error *ret_err)
{
	uint8_t want = s->phase == SCALE_PHASE_UDS_REGISTER
			   ? UDS_OP_REGISTER_NEW_USER
			   : UDS_OP_CONSENT;
	struct uds_response r;
	int rc = uds_parse_response(data, len, &r, ret_err);

	if (rc < 0)
		return rc;
	if (s->phase != SCALE_PHASE_UDS_REGISTER &&
	    s->phase != SCALE_PHASE_UDS_CONSENT) {
		add_message(ret, SCALE_ACTION_NOTE,
			    "User Control Point: an unasked response to %s "
			    "(0x%02x) ignored",
			    uds_op_name(r.request_op), r.request_op);
		return 0;
	}
	if (r.request_op != want) {
		add_message(ret, SCALE_ACTION_FAILED,
			    "User Control Point answered %s (0x%02x), "
			    "expected an answer to %s (0x%02x)",
			    uds_op_name(r.request_op), r.request_op,
			    uds_op_name(want), want);
		s->phase = SCALE_PHASE_IDLE;
		return 0;
	}
	if (r.result != UDS_RESULT_SUCCESS) {
		if (want == UDS_OP_CONSENT)
			add_message(ret, SCALE_ACTION_REFUSED,
				    "the scale refused Consent for user index "
				    "%u: %s (0x%02x)",
				    s->user_index, uds_result_text(r.result),
				    r.result);
		else
			add_message(ret, SCALE_ACTION_REFUSED,
				    "the scale refused to register a new "
				    "user: %s (0x%02x)",
				    uds_result_text(r.result), r.result);
		s->phase = SCALE_PHASE_UDS_REFUSED;
		return 0;
	}
	if (want == UDS_OP_REGISTER_NEW_USER) {
		struct scale_action *a = add(ret, SCALE_ACTION_REGISTERED);
		if (a != NULL)
			a->user_index = r.user_index;
		s->user_index = r.user_index;
		/* Registering does not consent (UDS 1.0 4.1). */
		uds_consent(s, ret);
		return 0;
	}
	s->phase = SCALE_PHASE_UDS_READY;
	return 0;
}

/* --- Either ------------------------------------------------------------- */

int scale_session_value(struct scale_session *s, uint16_t uuid,
			const uint8_t *data, size_t len, int64_t unix_seconds,
			struct scale_actions *ret, struct parse_error *ret_err)
{
	ret->n = 0;
	switch (s->kind) {
	case SCALE_SESSION_QN:
		if (uuid != s->qn.notify)
			return 0;
		return qn_value(s, data, len, unix_seconds, ret, ret_err);
	case SCALE_SESSION_UDS:
		if (uuid != UDS_CONTROL_POINT)
			return 0;
		return uds_value(s, data, len, ret, ret_err);
	case SCALE_SESSION_YUNMAI:
		if (uuid != s->qn.notify)
			return 0;
		return yunmai_value(s, data, len, ret, ret_err);
	case SCALE_SESSION_ONEBYONE:
		if (uuid != s->qn.notify)
			return 0;
		return onebyone_value(s, data, len, ret, ret_err);
	default:
		return 0;
	}
}

unsigned scale_session_wait_ms(const struct scale_session *s)
{
	switch (s->phase) {
	case SCALE_PHASE_QN_INFO:
	case SCALE_PHASE_QN_ACK:
	case SCALE_PHASE_UDS_REGISTER:
	case SCALE_PHASE_UDS_CONSENT:
		return SCALE_SESSION_REPLY_MS;
	case SCALE_PHASE_IDLE:
	case SCALE_PHASE_QN_READY:
	case SCALE_PHASE_UDS_READY:
	case SCALE_PHASE_UDS_REFUSED:
	case SCALE_PHASE_WEIGHING:
	default:
		return 0;
	}
}

void scale_session_timeout(struct scale_session *s, struct scale_actions *ret)
{
	ret->n = 0;
	switch (s->phase) {
	case SCALE_PHASE_QN_INFO:
		add_message(ret, SCALE_ACTION_NOTE,
			    "no scale-info frame (0x12) within %u s: weights "
			    "read at 0.01 kg",
			    SCALE_SESSION_REPLY_MS / 1000);
		s->phase = SCALE_PHASE_QN_READY;
		break;
	case SCALE_PHASE_QN_ACK:
		add_message(ret, SCALE_ACTION_NOTE,
			    "no answer (0x14) to the unit write within %u s: "
			    "the scale's clock not set",
			    SCALE_SESSION_REPLY_MS / 1000);
		s->phase = SCALE_PHASE_QN_READY;
		break;
	case SCALE_PHASE_UDS_REGISTER:
	case SCALE_PHASE_UDS_CONSENT:
		add_message(ret, SCALE_ACTION_FAILED,
			    "no User Control Point response to %s within %u s",
			    uds_op_name(s->phase == SCALE_PHASE_UDS_REGISTER
					    ? UDS_OP_REGISTER_NEW_USER
					    : UDS_OP_CONSENT),
			    SCALE_SESSION_REPLY_MS / 1000);
		s->phase = SCALE_PHASE_IDLE;
		break;
	case SCALE_PHASE_IDLE:
	case SCALE_PHASE_QN_READY:
	case SCALE_PHASE_UDS_READY:
	case SCALE_PHASE_UDS_REFUSED:
	case SCALE_PHASE_WEIGHING:
	default:
		break;
	}
}
