/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The table runner the vendor scale tests share (test-scale-*.c). Each test
 * file defines test_parse(), which maps a vector's variant to one of its
 * module's parsers and reports a struct scale_weighing.
 */

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "tests/unit/hex.h"
#include "sensors/parse-error.h"
#include "sensors/weighing.h"

#define NONE (-1)

struct scale_vector {
	const char *name;
	int variant;
	const char *hex;
	enum scale_family family;
	double weight_kg;
	bool final;
	double impedance_ohm; /* NONE: not reported */
	int heart_rate_bpm;   /* NONE: not reported */
};

struct scale_bad_vector {
	const char *name;
	int variant;
	const char *hex;
	int error;
	enum parse_fault fault;
	const char *field;
	size_t offset;
};

/* A full frame and the length below which every prefix is truncated. */
struct scale_prefix_vector {
	const char *name;
	int variant;
	const char *hex;
	size_t min_len;
};

static int test_parse(int variant, const uint8_t *data, size_t len,
		      struct scale_weighing *ret, struct parse_error *ret_err);

static void test_scale_valid(gconstpointer data)
{
	const struct scale_vector *v = data;
	struct scale_weighing w;
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(&w, 0xa5, sizeof(w));
	g_assert_cmpint(test_parse(v->variant, buf, len, &w, &err), ==, 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_NONE);
	g_assert_cmpint(w.family, ==, v->family);
	g_assert_cmpfloat_with_epsilon(w.weight_kg, v->weight_kg, 1e-6);
	g_assert_true(scale_weight_plausible(w.weight_kg));
	g_assert_cmpint(w.final, ==, v->final);
	g_assert_cmpint(w.has_impedance, ==, v->impedance_ohm != NONE);
	if (w.has_impedance)
		g_assert_cmpfloat_with_epsilon(w.impedance_ohm,
					       v->impedance_ohm, 1e-6);
	else
		g_assert_cmpfloat(w.impedance_ohm, ==, 0.0);
	g_assert_cmpint(w.has_heart_rate, ==, v->heart_rate_bpm != NONE);
	g_assert_cmpint(w.heart_rate_bpm, ==,
			v->heart_rate_bpm != NONE ? v->heart_rate_bpm : 0);
	g_assert_false(w.has_user);

	/* ret_err may be NULL. */
	memset(&w, 0xa5, sizeof(w));
	g_assert_cmpint(test_parse(v->variant, buf, len, &w, NULL), ==, 0);
	g_assert_cmpfloat_with_epsilon(w.weight_kg, v->weight_kg, 1e-6);
}

static void test_scale_invalid(gconstpointer data)
{
	const struct scale_bad_vector *v = data;
	struct scale_weighing w, untouched;
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	/* Exactly len bytes, so ASan sees a read past the end. */
	g_autofree uint8_t *copy = g_memdup2(buf, len);
	char msg[256];

	memset(&w, 0xa5, sizeof(w));
	memcpy(&untouched, &w, sizeof(w));
	g_assert_cmpint(test_parse(v->variant, copy, len, &w, &err), ==,
			v->error);
	g_assert_true(memcmp(&w, &untouched, sizeof(w)) == 0);
	g_assert_cmpint(err.fault, ==, v->fault);
	g_assert_cmpint(parse_fault_errno(err.fault), ==, v->error);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	if (err.fault == PARSE_FAULT_TRUNCATED) {
		g_assert_cmpuint(err.offset + err.left, ==, len);
		g_assert_cmpuint(err.left, <, err.need);
	} else {
		g_assert_nonnull(err.expected);
	}
	g_assert_cmpint(parse_error_format(&err, msg, sizeof(msg)), >, 0);
	g_assert_nonnull(strstr(msg, v->field));

	g_assert_cmpint(test_parse(v->variant, copy, len, &w, NULL), ==,
			v->error);
	g_assert_true(memcmp(&w, &untouched, sizeof(w)) == 0);
}

/* Every cut of a full frame below its layout's length is TRUNCATED. */
static void test_scale_prefix(gconstpointer data)
{
	const struct scale_prefix_vector *v = data;
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	struct scale_weighing w;

	g_assert_cmpuint(len, >=, v->min_len);
	g_assert_cmpint(test_parse(v->variant, buf, len, &w, NULL), ==, 0);
	for (size_t n = 0; n < v->min_len; n++) {
		g_autofree uint8_t *copy = g_memdup2(buf, n);
		struct scale_weighing r, untouched;
		struct parse_error err = { 0 };

		memset(&r, 0x5a, sizeof(r));
		memcpy(&untouched, &r, sizeof(r));
		g_assert_cmpint(test_parse(v->variant, copy, n, &r, &err), ==,
				-EBADMSG);
		g_assert_cmpint(err.fault, ==, PARSE_FAULT_TRUNCATED);
		g_assert_cmpuint(err.offset + err.left, ==, n);
		g_assert_cmpuint(err.left, <, err.need);
		g_assert_true(memcmp(&r, &untouched, sizeof(r)) == 0);
	}
	/* And no bytes at all, not even a buffer. */
	g_assert_cmpint(test_parse(v->variant, NULL, 0, &w, NULL), ==,
			-EBADMSG);
}

#define ADD_TABLE(table, fn)                                                   \
	do {                                                                   \
		for (size_t i_ = 0; i_ < G_N_ELEMENTS(table); i_++)            \
			g_test_add_data_func((table)[i_].name, &(table)[i_],   \
					     fn);                              \
	} while (0)
