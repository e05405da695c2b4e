// SPDX-License-Identifier: MIT
#include <string.h>

#include <glib.h>

#include "gateway/common/quote.h"

struct quote_vector {
	const char *name;
	const char *text;
	gssize len; /* -1: up to the NUL */
	enum quote_style style;
	const char *quoted;
};

#define DIGITS_64                                                              \
	"0123456789012345678901234567890123456789012345678901234567890123"

static const struct quote_vector quote_vectors[] = {
	{ "/quote/plain/short", "abc", -1, QUOTE_PLAIN, "'abc'" },
	{ "/quote/plain/empty", "", -1, QUOTE_PLAIN, "''" },
	{ "/quote/plain/64", DIGITS_64, -1, QUOTE_PLAIN, "'" DIGITS_64 "'" },
	{ "/quote/plain/65", DIGITS_64 "4", -1, QUOTE_PLAIN,
	  "'" DIGITS_64 "'... (65 bytes)" },
	/* 63 ASCII bytes, then a 2-byte character that would end at 65:
	 * cut before it, never inside. */
	{ "/quote/plain/utf8-cut",
	  "012345678901234567890123456789012345678901234567890123456789012\xc3"
	  "\xa9",
	  -1, QUOTE_PLAIN,
	  "'012345678901234567890123456789012345678901234567890123456789012'"
	  "... (65 bytes)" },
	{ "/quote/plain/utf8-kept", "caf\xc3\xa9", -1, QUOTE_PLAIN,
	  "'caf\xc3\xa9'" },
	{ "/quote/plain/invalid-utf8",
	  "a\xff\xfe"
	  "b",
	  -1, QUOTE_PLAIN, "'a??b'" },
	{ "/quote/plain/control", "a\tb\x7f", -1, QUOTE_PLAIN, "'a?b?'" },
	/* With a length: a NUL inside is a control character, the bytes
	 * after it count. */
	{ "/quote/plain/nul-inside", "a\0b", 3, QUOTE_PLAIN, "'a?b'" },
	{ "/quote/plain/len-cuts", "abcdef", 3, QUOTE_PLAIN, "'abc'" },
	{ "/quote/escaped/short", "say \"hi\" \\o/", -1, QUOTE_ESCAPED,
	  "\"say \\\"hi\\\" \\\\o/\"" },
	{ "/quote/escaped/control", "a\nb\x1b[31m", -1, QUOTE_ESCAPED,
	  "\"a\\x0ab\\x1b[31m\"" },
	{ "/quote/escaped/65", DIGITS_64 "4", -1, QUOTE_ESCAPED,
	  "\"" DIGITS_64 "\"... (65 bytes)" },
	{ "/quote/escaped/invalid-utf8", "\xff", -1, QUOTE_ESCAPED, "\"?\"" },
};

static void test_quote(gconstpointer data)
{
	const struct quote_vector *v = data;
	g_autofree char *q = quote_text(v->text, v->len, v->style);

	g_assert_cmpstr(q, ==, v->quoted);
	g_assert_true(g_utf8_validate(q, -1, NULL));
}

/* Ten megabytes in, a line out. */
static void test_quote_huge(void)
{
	g_autofree char *big = g_strnfill(10 * 1000 * 1000, '7');
	g_autofree char *q = quote_text(big, -1, QUOTE_PLAIN);

	g_assert_cmpuint(strlen(q), <, QUOTE_SHOWN + 32);
	g_assert_true(g_str_has_suffix(q, "'... (10000000 bytes)"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(quote_vectors); i++)
		g_test_add_data_func(quote_vectors[i].name, &quote_vectors[i],
				     test_quote);
	g_test_add_func("/quote/huge", test_quote_huge);
	return g_test_run();
}
