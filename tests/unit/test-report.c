// SPDX-License-Identifier: MIT
/*
 * The report shapes read back from the store: a stored day's advice as its
 * state message told it (history --json), and what a row without one gives.
 */
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gateway/common/json-text.h"
#include "gateway/core/report.h"

/* A day as the analysis leaves it: stale, two actions, one reason. */
static char *state_json_of_a_day(void)
{
	struct recovery_day d = {
		.day = 20514, /* 2026-03-02 */
		.night = night_metrics_empty(20514),
		.score = { .score = 70, .zone = SCORE_ZONE_GREEN },
		.advice = { .state = ADVICE_STALE,
			    .headline = "Same old? Change it up",
			    .detail = "The routine has gone flat.",
			    .action_count = 2,
			    .actions = { "Change the stimulus.",
					 "Or cross-train." },
			    .reason_count = 1,
			    .reasons = { "energy 2 or lower on 3 of your last "
					 "5 check-ins" } },
	};
	g_autoptr(JsonNode) node = report_state_build(&d);

	return json_text_from_node(node);
}

struct advice_vector {
	const char *name;
	const char *state_json; /* "@DAY@": a real day's state message */
	const char *advice_state;
	const char *want; /* the advice object, compact */
};

static const struct advice_vector advice_vectors[] = {
	{ "/report/stored-advice/from-state", "@DAY@", "stale",
	  "{\"state\":\"stale\",\"headline\":\"Same old? Change it up\","
	  "\"detail\":\"The routine has gone flat.\","
	  "\"actions\":[\"Change the stimulus.\",\"Or cross-train.\"],"
	  "\"reasons\":[\"energy 2 or lower on 3 of your last 5 "
	  "check-ins\"]}" },
	/* Rows without a state message (an old version's) say the state. */
	{ "/report/stored-advice/no-state-json", NULL, "primed",
	  "{\"state\":\"primed\"}" },
	{ "/report/stored-advice/no-advice-member", "{\"date\":\"2026-03-02\"}",
	  "steady", "{\"state\":\"steady\"}" },
	{ "/report/stored-advice/advice-not-object", "{\"advice\":\"primed\"}",
	  "primed", "{\"state\":\"primed\"}" },
	{ "/report/stored-advice/not-json", "{\"advice\":", "no-data",
	  "{\"state\":\"no-data\"}" },
	{ "/report/stored-advice/array", "[1,2]", "calibrating",
	  "{\"state\":\"calibrating\"}" },
};

static void test_stored_advice(gconstpointer data)
{
	const struct advice_vector *v = data;
	g_autofree char *day = state_json_of_a_day();
	g_autofree char *given = g_strdup(v->state_json);
	struct store_result r = { .day = 20514, .score = 70 };
	g_autoptr(JsonNode) advice = NULL;
	g_autofree char *text = NULL;

	g_strlcpy(r.advice_state, v->advice_state, sizeof(r.advice_state));
	r.state_json =
	    v->state_json && !strcmp(v->state_json, "@DAY@") ? day : given;
	advice = report_stored_advice(&r);
	g_assert_nonnull(advice);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(advice));
	text = json_text_from_node(advice);
	g_assert_cmpstr(text, ==, v->want);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(advice_vectors); i++)
		g_test_add_data_func(advice_vectors[i].name, &advice_vectors[i],
				     test_stored_advice);
	return g_test_run();
}
