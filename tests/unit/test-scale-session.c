// SPDX-License-Identifier: MIT
/*
 * The connected scales' conversations (sensors/scale-session.c) and the
 * User Control Point frames (sensors/uds.c): what is written when, what a
 * reply changes, and that a wrong, malformed or missing reply ends in a
 * message that says what came and what was expected.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "sensors/scale-session.h"
#include "sensors/scale-yunmai.h"
#include "sensors/uds.h"

#define UNIX_2026 1767225600 /* 2026-01-01 00:00:00 UTC */

static const struct scale_session_chars *ffe0 = &scale_session_qn_variants[0];

static int qn_feed(struct scale_session *s, const uint8_t *frame, size_t len,
		   struct scale_actions *acts, struct parse_error *err)
{
	return scale_session_value(s, ffe0->notify, frame, len, UNIX_2026, acts,
				   err);
}

static void test_qn_conversation(void)
{
	static const uint8_t info10[] = { 0x12, 0x0d, 0xff, 0, 0, 0, 0,
					  0,	0,    0,    0, 0, 0 };
	static const uint8_t ack[] = { 0x14, 0x05, 0xff, 0x00, 0x18 };
	static const uint8_t unit_kg[] = { 0x13, 0x09, 0xff, 0x01, 0x10,
					   0x00, 0x00, 0x00, 0x2c };
	static const uint8_t time[] = { 0x02, 0x30, 0x2f, 0xe8, 0x30 };
	static const uint8_t sync[] = { 0x20, 0x08, 0xff, 0x30,
					0x2f, 0xe8, 0x30, 0x9e };
	/* 0x02d3 = 723 at /10: 72.3 kg; live, then stable three times. */
	static const uint8_t live[] = { 0x10, 0x0a, 0xff, 0x02, 0xc0,
					0x00, 0,    0,	  0,	0 };
	static const uint8_t stable[] = { 0x10, 0x0a, 0xff, 0x02, 0xd3,
					  0x01, 0x02, 0x08, 0x01, 0xfe };
	static const uint8_t other[] = { 0x21, 0x01 };
	struct scale_session s;
	struct scale_actions acts;
	struct parse_error err = { 0 };

	scale_session_start_qn(&s, ffe0, UNIX_2026, &acts);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_WRITE);
	g_assert_cmphex(acts.a[0].uuid, ==, 0xFFE4);
	g_assert_cmpmem(acts.a[0].data, (int)acts.a[0].len, time, sizeof(time));
	g_assert_cmpuint(scale_session_wait_ms(&s), ==, SCALE_SESSION_REPLY_MS);

	/* The 0x12 frame: divider 10, answered with the unit. */
	g_assert_cmpint(qn_feed(&s, info10, sizeof(info10), &acts, &err), ==,
			0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmphex(acts.a[0].uuid, ==, 0xFFE3);
	g_assert_cmpmem(acts.a[0].data, (int)acts.a[0].len, unit_kg,
			sizeof(unit_kg));
	g_assert_cmpuint(s.info.weight_divider, ==, 10);

	g_assert_cmpint(qn_feed(&s, ack, sizeof(ack), &acts, &err), ==, 0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpmem(acts.a[0].data, (int)acts.a[0].len, sync, sizeof(sync));
	g_assert_cmpuint(scale_session_wait_ms(&s), ==, 0);

	/* Frames we do not need: nothing. */
	g_assert_cmpint(qn_feed(&s, other, sizeof(other), &acts, &err), ==, 0);
	g_assert_cmpuint(acts.n, ==, 0);

	g_assert_cmpint(qn_feed(&s, live, sizeof(live), &acts, &err), ==, 0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_WEIGHING);
	g_assert_false(acts.a[0].weighing.final);
	g_assert_cmpfloat_with_epsilon(acts.a[0].weighing.weight_kg, 70.4,
				       1e-9);
	g_assert_cmpint(qn_feed(&s, stable, sizeof(stable), &acts, &err), ==,
			0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_true(acts.a[0].weighing.final);
	g_assert_cmpint(acts.a[0].weighing.family, ==, SCALE_FAMILY_QN_GATT);
	g_assert_cmpfloat_with_epsilon(acts.a[0].weighing.weight_kg, 72.3,
				       1e-9);
	/* The repeats of the stable frame: once. */
	for (int i = 0; i < 3; i++) {
		g_assert_cmpint(
		    qn_feed(&s, stable, sizeof(stable), &acts, &err), ==, 0);
		g_assert_cmpuint(acts.n, ==, 0);
	}
	/* Someone else steps on: a new weighing. */
	g_assert_cmpint(qn_feed(&s, live, sizeof(live), &acts, &err), ==, 0);
	g_assert_cmpint(qn_feed(&s, stable, sizeof(stable), &acts, &err), ==,
			0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_true(acts.a[0].weighing.final);

	/* Another characteristic's values are not the session's. */
	g_assert_cmpint(scale_session_value(&s, 0xFFE2, stable, sizeof(stable),
					    UNIX_2026, &acts, &err),
			==, 0);
	g_assert_cmpuint(acts.n, ==, 0);
}

/* Malformed frames: the parser's errno, its field, no action. */
static void test_qn_malformed(void)
{
	static const uint8_t short_info[] = { 0x12, 0x0d, 0xff, 0, 0 };
	static const uint8_t short_weight[] = { 0x10, 0x0a, 0xff, 0x1c };
	/* 0x4e20 = 20000 at /100 = 200 kg fine; at the default /100 a
	 * 0xffff frame is 655 kg: out of range. */
	static const uint8_t heavy[] = { 0x10, 0x0a, 0xff, 0xff, 0xff,
					 0x01, 0,    0,	   0,	 0 };
	struct scale_session s;
	struct scale_actions acts;
	struct parse_error err = { 0 };

	scale_session_start_qn(&s, &scale_session_qn_variants[1], UNIX_2026,
			       &acts);
	/* The 0xFFF0 service has no time characteristic. */
	g_assert_cmpuint(acts.n, ==, 0);
	g_assert_cmpint(scale_session_value(&s, 0xFFF1, short_info,
					    sizeof(short_info), UNIX_2026,
					    &acts, &err),
			==, -EBADMSG);
	g_assert_cmpuint(acts.n, ==, 0);
	g_assert_cmpstr(err.field, ==, "scale info");
	g_assert_cmpint(scale_session_value(&s, 0xFFF1, short_weight,
					    sizeof(short_weight), UNIX_2026,
					    &acts, &err),
			==, -EBADMSG);
	g_assert_cmpstr(err.field, ==, "weight");
	g_assert_cmpint(scale_session_value(&s, 0xFFF1, heavy, sizeof(heavy),
					    UNIX_2026, &acts, &err),
			==, -EINVAL);
	g_assert_cmpstr(err.field, ==, "weight");
	g_assert_cmpuint(err.offset, ==, 3);
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFF1, NULL, 0, UNIX_2026, &acts, &err),
	    ==, -EBADMSG);
	g_assert_cmpuint(acts.n, ==, 0);
}

/* A QN scale that skips a step still weighs: the timeout is a note. */
static void test_qn_timeouts(void)
{
	struct scale_session s;
	struct scale_actions acts;

	scale_session_start_qn(&s, ffe0, UNIX_2026, &acts);
	scale_session_timeout(&s, &acts);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_NOTE);
	g_assert_nonnull(strstr(acts.a[0].message, "0x12"));
	g_assert_cmpuint(scale_session_wait_ms(&s), ==, 0);
	g_assert_cmpuint(s.info.weight_divider, ==, 100);
	/* Nothing awaited: a second timeout says nothing. */
	scale_session_timeout(&s, &acts);
	g_assert_cmpuint(acts.n, ==, 0);
}

static void test_uds_frames(void)
{
	static const uint8_t reg[] = { 0x01, 0xd2, 0x04 };
	static const uint8_t consent[] = { 0x02, 0x03, 0xd2, 0x04 };
	static const uint8_t ok_reg[] = { 0x20, 0x01, 0x01, 0x03 };
	static const uint8_t no_index[] = { 0x20, 0x01, 0x01 };
	static const uint8_t unknown_index[] = { 0x20, 0x01, 0x01, 0xff };
	static const uint8_t not_response[] = { 0x01, 0x01, 0x01 };
	uint8_t buf[8];
	struct uds_response r;
	struct parse_error err = { 0 };

	g_assert_cmpint(uds_build_register(1234, buf), ==, 0);
	g_assert_cmpmem(buf, sizeof(reg), reg, sizeof(reg));
	g_assert_cmpint(uds_build_consent(3, 1234, buf), ==, 0);
	g_assert_cmpmem(buf, sizeof(consent), consent, sizeof(consent));
	g_assert_cmpint(uds_build_register(10000, buf), ==, -EINVAL);
	g_assert_cmpint(uds_build_consent(0xff, 1, buf), ==, -EINVAL);
	g_assert_cmpint(uds_build_consent(1, 10000, buf), ==, -EINVAL);

	g_assert_cmpint(uds_parse_response(ok_reg, sizeof(ok_reg), &r, &err),
			==, 0);
	g_assert_true(r.has_user_index);
	g_assert_cmpuint(r.user_index, ==, 3);
	g_assert_cmpint(
	    uds_parse_response(no_index, sizeof(no_index), &r, &err), ==,
	    -EBADMSG);
	g_assert_cmpstr(err.field, ==, "user index");
	g_assert_cmpuint(err.offset, ==, 3);
	g_assert_cmpint(
	    uds_parse_response(unknown_index, sizeof(unknown_index), &r, &err),
	    ==, -EINVAL);
	g_assert_cmpint(
	    uds_parse_response(not_response, sizeof(not_response), &r, &err),
	    ==, -EBADMSG);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_MALFORMED);
	g_assert_cmpstr(err.field, ==, "op code");
	for (uint8_t v = 0; v < 8; v++)
		g_assert_nonnull(uds_result_text(v));
}

static int ucp(struct scale_session *s, const uint8_t *f, size_t n,
	       struct scale_actions *acts)
{
	struct parse_error err = { 0 };

	return scale_session_value(s, UDS_CONTROL_POINT, f, n, UNIX_2026, acts,
				   &err);
}

static void test_uds_register(void)
{
	static const uint8_t ok_reg[] = { 0x20, 0x01, 0x01, 0x07 };
	static const uint8_t ok_consent[] = { 0x20, 0x02, 0x01 };
	static const uint8_t consent7[] = { 0x02, 0x07, 0x00, 0x00 };
	struct scale_session s;
	struct scale_actions acts;

	scale_session_start_uds(&s, false, 0, 0, &acts);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmphex(acts.a[0].uuid, ==, UDS_CONTROL_POINT);
	g_assert_true(acts.a[0].with_response);
	g_assert_cmpuint(acts.a[0].len, ==, 3);
	g_assert_cmpuint(scale_session_wait_ms(&s), >, 0);

	g_assert_cmpint(ucp(&s, ok_reg, sizeof(ok_reg), &acts), ==, 0);
	g_assert_cmpuint(acts.n, ==, 2);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_REGISTERED);
	g_assert_cmpuint(acts.a[0].user_index, ==, 7);
	g_assert_cmpint(acts.a[1].kind, ==, SCALE_ACTION_WRITE);
	g_assert_cmpmem(acts.a[1].data, (int)acts.a[1].len, consent7,
			sizeof(consent7));
	g_assert_cmpint(ucp(&s, ok_consent, sizeof(ok_consent), &acts), ==, 0);
	g_assert_cmpuint(acts.n, ==, 0);
	g_assert_cmpuint(scale_session_wait_ms(&s), ==, 0);
	g_assert_cmpint(s.phase, ==, SCALE_PHASE_UDS_READY);
	/* An indication nobody asked for: noted, ignored. */
	g_assert_cmpint(ucp(&s, ok_consent, sizeof(ok_consent), &acts), ==, 0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_NOTE);
}

/* Refusals, wrong answers, silence, bad codes: each one line. */
static void test_uds_trouble(void)
{
	static const uint8_t refused[] = { 0x20, 0x02, 0x05 };
	static const uint8_t full[] = { 0x20, 0x01, 0x04 };
	static const uint8_t wrong_op[] = { 0x20, 0x01, 0x01, 0x02 };
	static const uint8_t garbage[] = { 0x99 };
	struct scale_session s;
	struct scale_actions acts;

	scale_session_start_uds(&s, true, 2, 1234, &acts);
	g_assert_cmpint(ucp(&s, refused, sizeof(refused), &acts), ==, 0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_REFUSED);
	g_assert_cmpstr(acts.a[0].message, ==,
			"the scale refused Consent for user index 2: user not "
			"authorized (wrong consent code) (0x05)");
	g_assert_null(strchr(acts.a[0].message, '\n'));
	g_assert_cmpuint(scale_session_wait_ms(&s), ==, 0);

	scale_session_start_uds(&s, false, 0, 1234, &acts);
	g_assert_cmpint(ucp(&s, full, sizeof(full), &acts), ==, 0);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_REFUSED);
	g_assert_nonnull(strstr(acts.a[0].message, "operation failed"));

	scale_session_start_uds(&s, true, 2, 1234, &acts);
	g_assert_cmpint(ucp(&s, wrong_op, sizeof(wrong_op), &acts), ==, 0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_FAILED);
	g_assert_nonnull(strstr(acts.a[0].message, "expected an answer to "
						   "Consent"));

	scale_session_start_uds(&s, true, 2, 1234, &acts);
	g_assert_cmpint(ucp(&s, garbage, sizeof(garbage), &acts), ==, -EBADMSG);
	g_assert_cmpuint(acts.n, ==, 0);
	/* Still waiting: the garbage was no answer. */
	g_assert_cmpuint(scale_session_wait_ms(&s), >, 0);
	scale_session_timeout(&s, &acts);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_FAILED);
	g_assert_cmpstr(acts.a[0].message, ==,
			"no User Control Point response to Consent within 5 s");

	scale_session_start_uds(&s, false, 0, 10000, &acts);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_FAILED);
	g_assert_nonnull(strstr(acts.a[0].message, "expected 0-9999"));
	scale_session_start_uds(&s, true, 0xff, 1, &acts);
	g_assert_cmpint(acts.a[0].kind, ==, SCALE_ACTION_FAILED);
}

static size_t hex(const char *text, uint8_t *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = text; p[0] && p[1] && n < size;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		buf[n++] = (uint8_t)(g_ascii_xdigit_value(p[0]) * 16 +
				     g_ascii_xdigit_value(p[1]));
		p += 2;
	}
	return n;
}

/*
 * Yunmai SE/Mini: user, time and start written at once; answers to them
 * ignored; a Mini's live then final frames (openScale issue #71) give a
 * live value and one final weighing, its repeat nothing.
 */
static void test_yunmai(void)
{
	struct scale_session s;
	struct scale_actions acts;
	struct parse_error err = { 0 };
	size_t n = 0;
	const struct scale_session_chars *v =
	    scale_session_variants(SCALE_SESSION_YUNMAI, &n);
	uint8_t f[32];
	size_t len;

	g_assert_cmpuint(n, ==, 1);
	g_assert_cmphex(v[0].notify, ==, 0xFFE4);
	scale_session_start(&s, SCALE_SESSION_YUNMAI, &v[0], UNIX_2026, &acts);
	g_assert_cmpuint(acts.n, ==, 3);
	for (size_t i = 0; i < 3; i++) {
		g_assert_cmpint(acts.a[i].kind, ==, SCALE_ACTION_WRITE);
		g_assert_cmphex(acts.a[i].uuid, ==, 0xFFE9);
		g_assert_cmphex(acts.a[i].data[0], ==, 0x0D);
	}
	g_assert_cmpuint(acts.a[0].len, ==, YUNMAI_USER_FRAME_SIZE);
	g_assert_cmpuint(acts.a[1].len, ==, YUNMAI_TIME_FRAME_SIZE);
	g_assert_cmpuint(acts.a[2].len, ==, YUNMAI_START_FRAME_SIZE);
	g_assert_cmpuint(scale_session_wait_ms(&s), ==, 0);

	/* An answer to a write (type 0x10): not a measurement, no fault. */
	len = hex("0d 1f 06 10 01 08", f, sizeof(f));
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFE4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_cmpuint(acts.n, ==, 0);
	len = hex("0d 1f 0b 01 59 c6 15 2f 26 95 03", f, sizeof(f));
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFE4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_false(acts.a[0].weighing.final);
	len = hex("0d 1f 14 02 00 59 c6 15 2f 23 d0 b6 32 26 95 00 a5 08 f2 37",
		  f, sizeof(f));
	for (int i = 0; i < 3; i++) {
		g_assert_cmpint(scale_session_value(&s, 0xFFE4, f, len,
						    UNIX_2026, &acts, &err),
				==, 0);
		g_assert_cmpuint(acts.n, ==, i == 0 ? 1 : 0);
	}
	/* (acts from the first pass were overwritten: parse once more on a
	 * fresh session to read the weighing.) */
	scale_session_start(&s, SCALE_SESSION_YUNMAI, &v[0], UNIX_2026, &acts);
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFE4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_true(acts.a[0].weighing.final);
	g_assert_cmpint(acts.a[0].weighing.family, ==,
			SCALE_FAMILY_YUNMAI_GATT);
	g_assert_cmpfloat_with_epsilon(acts.a[0].weighing.weight_kg, 98.77,
				       1e-9);
	/* A broken checksum: the parser's fault, no weighing. */
	f[len - 1] ^= 0xFF;
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFE4, f, len, UNIX_2026, &acts, &err), ==,
	    -EBADMSG);
	g_assert_cmpuint(acts.n, ==, 0);
}

/*
 * 1byone classic: unit (kg) and clock written; the clock's F1 00 answer
 * ignored; live, then the final record once; history records skipped.
 */
static void test_onebyone(void)
{
	static const uint8_t clock_2026[] = { 0xF1, 0x07, 0xEA, 0x01,
					      0x01, 0x00, 0x00, 0x00 };
	struct scale_session s;
	struct scale_actions acts;
	struct parse_error err = { 0 };
	size_t n = 0;
	const struct scale_session_chars *v =
	    scale_session_variants(SCALE_SESSION_ONEBYONE, &n);
	uint8_t f[32];
	size_t len;

	g_assert_cmpuint(n, ==, 1);
	scale_session_start(&s, SCALE_SESSION_ONEBYONE, &v[0], UNIX_2026,
			    &acts);
	g_assert_cmpuint(acts.n, ==, 2);
	g_assert_cmphex(acts.a[0].uuid, ==, 0xFFF1);
	g_assert_cmphex(acts.a[0].data[0], ==, 0xFD);
	g_assert_cmphex(acts.a[0].data[1], ==, 0x37);
	g_assert_cmpmem(acts.a[1].data, (int)acts.a[1].len, clock_2026,
			sizeof(clock_2026));

	len = hex("f1 00", f, sizeof(f));
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFF4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_cmpuint(acts.n, ==, 0);
	len = hex("cf 8b 13 57 1c 00 00 00 00 00 00 07 ea 01 02 03 04 05", f,
		  sizeof(f));
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFF4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_cmpuint(acts.n, ==, 0);
	len = hex("cf 00 00 57 1c 00 00 00 00 01 85", f, sizeof(f));
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFF4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_false(acts.a[0].weighing.final);
	len = hex("cf 8b 13 57 1c 00 00 00 00 00 1c", f, sizeof(f));
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFF4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_cmpuint(acts.n, ==, 1);
	g_assert_true(acts.a[0].weighing.final);
	g_assert_cmpfloat_with_epsilon(acts.a[0].weighing.weight_kg, 72.55,
				       1e-9);
	g_assert_cmpfloat_with_epsilon(acts.a[0].weighing.impedance_ohm, 500.3,
				       1e-9);
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFF4, f, len, UNIX_2026, &acts, &err), ==,
	    0);
	g_assert_cmpuint(acts.n, ==, 0);
	/* A CF record with a wrong XOR: the parser's fault. */
	f[10] ^= 1;
	g_assert_cmpint(
	    scale_session_value(&s, 0xFFF4, f, len, UNIX_2026, &acts, &err), ==,
	    -EBADMSG);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_MALFORMED);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scale-session/qn/conversation", test_qn_conversation);
	g_test_add_func("/scale-session/qn/malformed", test_qn_malformed);
	g_test_add_func("/scale-session/qn/timeouts", test_qn_timeouts);
	g_test_add_func("/scale-session/uds/frames", test_uds_frames);
	g_test_add_func("/scale-session/uds/register", test_uds_register);
	g_test_add_func("/scale-session/uds/trouble", test_uds_trouble);
	g_test_add_func("/scale-session/yunmai", test_yunmai);
	g_test_add_func("/scale-session/1byone", test_onebyone);
	return g_test_run();
}
