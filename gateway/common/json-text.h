/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>

/*
 * Serialises @node as compact JSON text. json-glib 1.6 prints every double
 * with 17 significant digits ("86.549999999999997"); this rewrites each
 * fractional number in the shortest form that reads back as the same double
 * ("86.55"), so payloads stay small and readable. Integers and strings pass
 * through untouched. Returns a newly allocated string.
 */
char *json_text_from_node(JsonNode *node);

/*
 * The rewrite itself, on JSON text that json-glib produced. Exposed for
 * tests and fuzzing. Returns a newly allocated string.
 */
char *json_text_shorten_numbers(const char *json);

/* @value rounded to @decimals places, for values with a known resolution. */
double json_text_round(double value, int decimals);

/*
 * A member @key of the object @b is building, with an integer or boolean
 * value (the two shapes every JSON producer here writes the same way).
 */
void json_text_member_int(JsonBuilder *b, const char *key, gint64 value);
void json_text_member_bool(JsonBuilder *b, const char *key, gboolean value);
