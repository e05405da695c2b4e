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

/* A scored day with its baseline: ln RMSSD 4.0 ± 0.2 over 30 nights. */
static char *state_json_with_baseline(int32_t day)
{
	struct recovery_day d = {
		.day = day,
		.night = night_metrics_empty(day),
		.score = { .score = 64,
			   .zone = SCORE_ZONE_YELLOW,
			   .baseline = { .hrv_source = HRV_SOURCE_NIGHT,
					 .nights = 30,
					 .ln_rmssd_mean = 4.0,
					 .ln_rmssd_sd = 0.2,
					 .rhr_nights = 30,
					 .rhr_mean = 52.25,
					 .rhr_sd = 2.0 } },
		.advice = { .state = ADVICE_STEADY, .headline = "Steady" },
	};
	g_autoptr(JsonNode) node = report_state_build(&d);

	return json_text_from_node(node);
}

/*
 * The retained history: one object per result, oldest first, with the
 * night's metrics when there is one, the result's keys and the normal band
 * of the stored state message; without advice unless asked for.
 */
static void test_history(void)
{
	g_autofree char *state = state_json_with_baseline(20515);
	g_autoptr(GArray) results =
	    g_array_new(FALSE, TRUE, sizeof(struct store_result));
	g_autoptr(GArray) nights =
	    g_array_new(FALSE, TRUE, sizeof(struct night_metrics));
	struct store_result r1 = { .day = 20514,
				   .score = -1,
				   .calibrating = true };
	struct store_result r2 = { .day = 20515, .score = 64 };
	struct night_metrics n = night_metrics_empty(20515);
	g_autoptr(JsonNode) history = NULL;
	g_autoptr(JsonNode) with_advice = NULL;
	g_autofree char *text = NULL;
	g_autofree char *advice_text = NULL;

	g_strlcpy(r1.zone, "none", sizeof(r1.zone));
	g_strlcpy(r1.advice_state, "calibrating", sizeof(r1.advice_state));
	g_strlcpy(r2.zone, "yellow", sizeof(r2.zone));
	g_strlcpy(r2.advice_state, "steady", sizeof(r2.advice_state));
	r2.state_json = state;
	g_array_append_val(results, r1);
	g_array_append_val(results, r2);
	n.sleep_min = 431.4;
	n.rmssd_ms = 55.04;
	n.hrv_source = HRV_SOURCE_NIGHT;
	n.resting_hr_bpm = 51.26;
	n.weight_kg = 71.234;
	g_array_append_val(nights, n);

	history = report_history_build(results, nights, false);
	text = json_text_from_node(history);
	/* exp(4.0 ∓ 0.2) = 44.70 and 66.69 ms */
	g_assert_cmpstr(
	    text, ==,
	    "[{\"date\":\"2026-03-02\",\"score\":null,\"zone\":\"none\","
	    "\"advice_state\":\"calibrating\"},"
	    "{\"date\":\"2026-03-03\",\"sleep_min\":431,\"rmssd_ms\":55,"
	    "\"hrv_source\":\"night\",\"resting_hr_bpm\":51.3,"
	    "\"weight_kg\":71.23,\"score\":64,\"zone\":\"yellow\","
	    "\"advice_state\":\"steady\",\"rmssd_normal_low_ms\":44.7,"
	    "\"rmssd_normal_high_ms\":66.7,\"resting_hr_mean_bpm\":52.3}]");

	with_advice = report_history_build(results, nights, true);
	advice_text = json_text_from_node(with_advice);
	g_assert_nonnull(strstr(advice_text, "\"advice\":{\"state\":\"steady\","
					     "\"headline\":\"Steady\""));
	g_assert_nonnull(
	    strstr(advice_text, "\"advice\":{\"state\":\"calibrating\"}"));
}

/* A state message without a baseline (no earlier nights) has no band. */
static void test_state_baseline_absent(void)
{
	struct recovery_day d = {
		.day = 20514,
		.night = night_metrics_empty(20514),
		.score = { .score = -1, .calibrating = true },
	};
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *text = NULL;

	d.score.baseline.ln_rmssd_mean = METRIC_NONE;
	d.score.baseline.ln_rmssd_sd = METRIC_NONE;
	node = report_state_build(&d);
	text = json_text_from_node(node);
	g_assert_nonnull(strstr(text, "\"baseline\":{\"hrv_source\":\"none\","
				      "\"nights\":0}"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(advice_vectors); i++)
		g_test_add_data_func(advice_vectors[i].name, &advice_vectors[i],
				     test_stored_advice);
	g_test_add_func("/report/history", test_history);
	g_test_add_func("/report/state/baseline-absent",
			test_state_baseline_absent);
	return g_test_run();
}
