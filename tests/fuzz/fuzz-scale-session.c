// SPDX-License-Identifier: MIT
/*
 * The connected scales' conversations (sensors/scale-session.c) and the
 * User Control Point parser (sensors/uds.c). The input's first byte picks
 * the session (QN on either service, Yunmai, 1byone, UDS registering or
 * consenting); the rest is a series of values, each a length byte and that
 * many bytes, fed as notifications, with a timeout between some of them.
 * Whatever comes: at most SCALE_SESSION_ACTIONS_MAX actions, writes within
 * their buffer, weighings a person's, messages one bounded line, a wait no
 * longer than the reply timeout.
 */
#include "tests/fuzz/scale-fuzz.h"

#include "sensors/scale-session.h"
#include "sensors/uds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNIX_2026 1767225600

static void check_actions(const struct scale_actions *acts,
			  enum scale_session_kind kind)
{
	assert(acts->n <= SCALE_SESSION_ACTIONS_MAX);
	for (size_t i = 0; i < acts->n; i++) {
		const struct scale_action *a = &acts->a[i];

		switch (a->kind) {
		case SCALE_ACTION_WRITE:
			assert(a->len > 0 && a->len <= SCALE_SESSION_WRITE_MAX);
			assert(a->uuid != 0);
			break;
		case SCALE_ACTION_WEIGHING:
			assert(kind != SCALE_SESSION_UDS);
			assert(isfinite(a->weighing.weight_kg));
			assert(scale_weight_plausible(a->weighing.weight_kg));
			break;
		case SCALE_ACTION_REGISTERED:
			assert(kind == SCALE_SESSION_UDS);
			assert(a->user_index != UDS_USER_INDEX_UNKNOWN);
			break;
		case SCALE_ACTION_NOTE:
		case SCALE_ACTION_REFUSED:
		case SCALE_ACTION_FAILED:
			assert(memchr(a->message, 0, sizeof(a->message)));
			assert(a->message[0] != 0);
			assert(strchr(a->message, '\n') == NULL);
			break;
		default:
			assert(0 && "an action of no kind");
		}
	}
}

static void fuzz_uds_parser(const uint8_t *data, size_t size)
{
	struct uds_response r;
	int rc;

	FUZZ_RUN(r, rc, uds_parse_response(data, size, &r, &err),
		 uds_parse_response(data, size, &r, NULL), size);
	if (rc == 0) {
		assert(size >= 3 && data[0] == UDS_OP_RESPONSE);
		assert(r.has_user_index ==
		       (r.request_op == UDS_OP_REGISTER_NEW_USER &&
			r.result == UDS_RESULT_SUCCESS));
		if (r.has_user_index)
			assert(r.user_index != UDS_USER_INDEX_UNKNOWN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scale_session s;
	struct scale_actions acts;
	enum scale_session_kind kind;
	size_t n = 0, pos = 1;
	const struct scale_session_chars *v;
	uint16_t notify;

	fuzz_uds_parser(data, size);
	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0:
	case 1:
		kind = SCALE_SESSION_QN;
		v = scale_session_variants(kind, &n);
		scale_session_start(&s, kind, &v[data[0] % 2], UNIX_2026,
				    &acts);
		notify = v[data[0] % 2].notify;
		break;
	case 2:
		kind = SCALE_SESSION_YUNMAI;
		v = scale_session_variants(kind, &n);
		scale_session_start(&s, kind, &v[0], UNIX_2026, &acts);
		notify = v[0].notify;
		break;
	case 3:
		kind = SCALE_SESSION_ONEBYONE;
		v = scale_session_variants(kind, &n);
		scale_session_start(&s, kind, &v[0], UNIX_2026, &acts);
		notify = v[0].notify;
		break;
	default:
		kind = SCALE_SESSION_UDS;
		scale_session_start_uds(&s, data[0] % 6 == 5, data[0] >> 3,
					(uint16_t)(data[0] * 37), &acts);
		notify = UDS_CONTROL_POINT;
		break;
	}
	check_actions(&acts, kind);
	while (pos < size) {
		size_t len = data[pos++];
		struct parse_error err = { 0 };
		int rc;

		if (len > size - pos)
			len = size - pos;
		/* A length byte's top bit: a timeout first. */
		if (len & 0x80) {
			scale_session_timeout(&s, &acts);
			check_actions(&acts, kind);
			len &= 0x7F;
			if (len > size - pos)
				len = size - pos;
		}
		rc = scale_session_value(&s, notify, data + pos, len, UNIX_2026,
					 &acts, &err);
		if (rc < 0) {
			assert(acts.n == 0);
			assert(err.fault != PARSE_FAULT_NONE && err.field);
		} else {
			check_actions(&acts, kind);
		}
		assert(scale_session_wait_ms(&s) <= SCALE_SESSION_REPLY_MS);
		pos += len;
	}
	return 0;
}
