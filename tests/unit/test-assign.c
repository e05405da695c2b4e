// SPDX-License-Identifier: MIT
#include <math.h>

#include <glib.h>

#include "gateway/engine/assign.h"

#define N NAN

struct assign_vector {
	const char *name;
	size_t count;
	struct assign_person people[3];
	int scale_user;
	double weight_kg;
	int expect;
};

/* Alice ~62 kg, Bob ~81.5 kg, as in the scenario household. */
#define ALICE_BOB                                                              \
	2,                                                                     \
	{                                                                      \
		{ 0, 0, 0, 62.0 },                                             \
		{                                                              \
			0, 0, 0, 81.5                                          \
		}                                                              \
	}

static const struct assign_vector vectors[] = {
	{ "/assign/user-index",
	  2,
	  { { 1, 0, 0, N }, { 2, 0, 0, N } },
	  2,
	  62.0,
	  1 },
	{ "/assign/user-index-unknown-0xff", ALICE_BOB, 255, 81.0, 1 },
	{ "/assign/user-index-unclaimed-falls-back", ALICE_BOB, 3, 62.4, 0 },
	{ "/assign/user-index-claimed-twice",
	  2,
	  { { 1, 0, 0, 62.0 }, { 1, 0, 0, 81.5 } },
	  1,
	  70.0,
	  -1 },
	{ "/assign/range",
	  2,
	  { { 0, 50, 70, N }, { 0, 75, 95, N } },
	  0,
	  80.0,
	  1 },
	{ "/assign/range-edges-inclusive",
	  2,
	  { { 0, 50, 70, N }, { 0, 70.5, 95, N } },
	  0,
	  70.0,
	  0 },
	{ "/assign/range-overlap",
	  2,
	  { { 0, 50, 80, N }, { 0, 75, 95, N } },
	  0,
	  77.0,
	  -1 },
	{ "/assign/range-outside-near-recent",
	  2,
	  { { 0, 50, 60, 62.0 }, { 0, 75, 95, 81.5 } },
	  0,
	  61.0,
	  0 },
	{ "/assign/recent-nearest", ALICE_BOB, 0, 63.1, 0 },
	{ "/assign/recent-nearest-bob", ALICE_BOB, 0, 80.2, 1 },
	/* 7.5 % of 62 is 4.65 kg: 66.7 is 7.58 % off, too far for Alice, and
	 * 18 % off Bob */
	{ "/assign/recent-too-far", ALICE_BOB, 0, 66.7, -1 },
	/* 70 vs 72: 2.9 % and 0 %, closer than 3.75 % apart: do not guess */
	{ "/assign/recent-too-alike",
	  2,
	  { { 0, 0, 0, 70.0 }, { 0, 0, 0, 72.0 } },
	  0,
	  72.0,
	  -1 },
	{ "/assign/newcomer",
	  2,
	  { { 0, 0, 0, 62.0 }, { 0, 0, 0, N } },
	  0,
	  81.0,
	  1 },
	{ "/assign/newcomer-but-near-known",
	  2,
	  { { 0, 0, 0, 62.0 }, { 0, 0, 0, N } },
	  0,
	  62.5,
	  0 },
	{ "/assign/two-newcomers",
	  2,
	  { { 0, 0, 0, N }, { 0, 0, 0, N } },
	  0,
	  70.0,
	  -1 },
	{ "/assign/household-of-one-first", 1, { { 0, 0, 0, N } }, 0, 70.0, 0 },
	{ "/assign/household-of-one-far",
	  1,
	  { { 0, 0, 0, 70.0 } },
	  0,
	  40.0,
	  -1 },
	{ "/assign/nobody", 0, { { 0 } }, 0, 70.0, -1 },
	{ "/assign/bad-weight", ALICE_BOB, 0, N, -1 },
	{ "/assign/zero-weight", ALICE_BOB, 0, 0.0, -1 },
};

static void test_vector(gconstpointer data)
{
	const struct assign_vector *v = data;

	g_assert_cmpint(
	    assign_weight(v->people, v->count, v->scale_user, v->weight_kg), ==,
	    v->expect);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++)
		g_test_add_data_func(vectors[i].name, &vectors[i], test_vector);
	return g_test_run();
}
