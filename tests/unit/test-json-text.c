// SPDX-License-Identifier: MIT
#include <glib.h>

#include "gateway/common/json-text.h"

struct shorten_vector {
	const char *name;
	const char *in;
	const char *out;
};

static const struct shorten_vector shorten[] = {
	{ "/json-text/shorten/double", "{\"w\":86.549999999999997}",
	  "{\"w\":86.55}" },
	{ "/json-text/shorten/integral-double", "[428.0,-3.0]", "[428,-3]" },
	{ "/json-text/shorten/no-exponent-for-hundreds", "[100.0,1200.0,0.001]",
	  "[100,1200,0.001]" },
	{ "/json-text/shorten/large-keeps-exponent", "[1.0e+20]", "[1e+20]" },
	{ "/json-text/shorten/negative-exponent", "[-1.4999999999999999e-07]",
	  "[-1.5e-07]" },
	{ "/json-text/shorten/exact-binary", "[898.4375]", "[898.4375]" },
	/* An int64 beyond 2^53 must not go through a double. */
	{ "/json-text/shorten/int64-untouched", "[9007199254740993]",
	  "[9007199254740993]" },
	{ "/json-text/shorten/string-untouched",
	  "{\"a\\\"1.10\":\"x\\\\\",\"b\":\"25.059999999999999\"}",
	  "{\"a\\\"1.10\":\"x\\\\\",\"b\":\"25.059999999999999\"}" },
	{ "/json-text/shorten/literals",
	  "[true,false,null,0.10000000000000001]", "[true,false,null,0.1]" },
	{ "/json-text/shorten/empty", "", "" },
};

static void test_shorten(gconstpointer data)
{
	const struct shorten_vector *v = data;
	g_autofree char *out = json_text_shorten_numbers(v->in);

	g_assert_cmpstr(out, ==, v->out);
}

static void test_from_node(void)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "t");
	json_builder_add_double_value(b, json_text_round(25.0600001, 2));
	json_builder_set_member_name(b, "n");
	json_builder_add_int_value(b, 72);
	json_builder_set_member_name(b, "s");
	json_builder_add_string_value(b, "°C \"q\"");
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	text = json_text_from_node(root);
	g_assert_cmpstr(text, ==,
			"{\"t\":25.06,\"n\":72,\"s\":\"°C \\\"q\\\"\"}");
}

static void test_round(void)
{
	g_assert_cmpfloat(json_text_round(86.5549, 2), ==, 86.55);
	g_assert_cmpfloat(json_text_round(-0.125, 1), ==, -0.1);
	g_assert_cmpfloat(json_text_round(3.0, 0), ==, 3.0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(shorten); i++)
		g_test_add_data_func(shorten[i].name, &shorten[i],
				     test_shorten);
	g_test_add_func("/json-text/from-node", test_from_node);
	g_test_add_func("/json-text/round", test_round);
	return g_test_run();
}
