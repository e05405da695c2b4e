// SPDX-License-Identifier: MIT
#include "gateway/common/json-text.h"

#include <math.h>
#include <string.h>

static void append_shortest(GString *out, const char *token, size_t len)
{
	char number[G_ASCII_DTOSTR_BUF_SIZE];
	char format[8];
	g_autofree char *copy = g_strndup(token, len);
	char *end = NULL;
	double value = g_ascii_strtod(copy, &end);
	gboolean plain_ok;

	/* Only fractional numbers are rewritten: an integer may be an int64
	 * that a double would round. */
	if (!end || *end != '\0' || !strpbrk(copy, ".eE") || !isfinite(value)) {
		g_string_append_len(out, token, (gssize)len);
		return;
	}
	/* %g switches to an exponent once the precision is below the
	 * number's integer digits ("1e+02" for 100): keep looking then,
	 * unless the number is one that reads better that way. */
	plain_ok = fabs(value) >= 1e-4 && fabs(value) < 1e15;
	for (int precision = 1; precision <= 17; precision++) {
		g_snprintf(format, sizeof(format), "%%.%dg", precision);
		g_ascii_formatd(number, sizeof(number), format, value);
		if (plain_ok && strpbrk(number, "eE") && precision < 17)
			continue;
		if (g_ascii_strtod(number, NULL) == value)
			break;
	}
	g_string_append(out, number);
}

char *json_text_shorten_numbers(const char *json)
{
	GString *out = g_string_sized_new(strlen(json));
	const char *p = json;

	while (*p) {
		if (*p == '"') {
			/* Copy a string verbatim, escapes included. */
			const char *start = p++;

			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p)
				p++;
			g_string_append_len(out, start, p - start);
		} else if (*p == '-' || g_ascii_isdigit(*p)) {
			size_t len = strspn(p, "0123456789+-.eE");

			append_shortest(out, p, len);
			p += len;
		} else {
			g_string_append_c(out, *p++);
		}
	}
	return g_string_free(out, FALSE);
}

char *json_text_from_node(JsonNode *node)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autofree char *raw = NULL;

	json_generator_set_root(generator, node);
	raw = json_generator_to_data(generator, NULL);
	return json_text_shorten_numbers(raw);
}

double json_text_round(double value, int decimals)
{
	double scale = pow(10.0, decimals);

	return round(value * scale) / scale;
}

void json_text_member_int(JsonBuilder *b, const char *key, gint64 value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_int_value(b, value);
}

void json_text_member_bool(JsonBuilder *b, const char *key, gboolean value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_boolean_value(b, value);
}
