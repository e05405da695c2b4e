// SPDX-License-Identifier: MIT
#include "gateway/core/analyze.h"

#include <string.h>

#include "gateway/common/json-text.h"
#include "gateway/engine/night.h"
#include "gateway/engine/spot.h"
#include "gateway/core/report.h"

/* Strap wear counts as sleep this long around the usual times. */
#define HINT_MARGIN_MIN 90

void analyze_person_defaults(struct analyze_person *p, int64_t user_id)
{
	*p = (struct analyze_person){
		.user_id = user_id,
		.recovery = { .score = { .sleep_need_min = 480 } },
		.bedtime_min = 23 * 60,
		.wake_min = 7 * 60,
		.hr_max_bpm = 190,
		.sex = LOAD_SEX_UNSPECIFIED,
	};
}

static const void *array_data(GArray *a)
{
	return a->len ? a->data : NULL;
}

/* How many of the @n samples (each struct starting with its int64 time,
 * sorted) lie before @t_ms. */
static size_t count_before(const void *samples, size_t n, size_t size,
			   int64_t t_ms)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t t;

		memcpy(&t, (const char *)samples + mid * size, sizeof(t));
		if (t < t_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The morning spot check of @day (DESIGN §4) into @m, and the day's HRV:
 * the night's when it counted 6 windows, else the spot check's.
 *
 * Which sessions are the morning's: with a night that has HRV, those
 * starting after its final awakening; otherwise those starting between the
 * usual wake time - 1 h and + 3 h (spot.h). A night without HRV is no strap
 * night, and its final awakening is not known well enough to start from:
 * with a bed sensor and no strap in the night, the spot check's own beats,
 * taken lying still in bed, read as sleep and would move the awakening past
 * the spot check itself.
 *
 * For the same reason, when the first attempt lies inside such a night's
 * window, the night is analysed again from what came before it: a spot
 * check's minutes awake are not the night's resting HR or sleep.
 */
static void analyze_spot(const clock_zone *zone, const struct analyze_person *p,
			 int32_t day, const struct night_input *in,
			 struct night_metrics *m)
{
	bool night_hrv =
	    m->hrv_windows >= HRV_NIGHT_WINDOWS && metric_present(m->ln_rmssd);
	struct spot_input si = {
		.rr = in->rr,
		.rr_count = in->rr_count,
		.hr = in->hr,
		.hr_count = in->hr_count,
		.night_end_ms = night_hrv ? m->wake_ms : 0,
		.wake_ms = clock_local_ms(zone, day, p->wake_min),
	};
	struct spot_result spot;
	struct spot_day_hrv hrv;

	/* The store hands samples sorted; unsorted ones have no spot check. */
	if (spot_find(&si, &spot) < 0)
		return;
	if (spot.found && !night_hrv && m->window_start_ms != 0 &&
	    spot.first_start_ms < m->window_end_ms) {
		struct night_input before = *in;

		before.rr_count = count_before(
		    in->rr, in->rr_count, sizeof(*in->rr), spot.first_start_ms);
		before.hr_count = count_before(
		    in->hr, in->hr_count, sizeof(*in->hr), spot.first_start_ms);
		night_analyze(&before, m);
	}

	m->spot_status = spot.status;
	m->spot_start_ms = spot.start_ms;
	m->spot_rmssd_ms = spot.rmssd_ms;
	m->spot_ln_rmssd = spot.ln_rmssd;
	m->spot_hr_bpm = spot.mean_hr_bpm;
	m->hrv_source = spot_day_hrv(m, &spot, &hrv);
	m->rmssd_ms = hrv.rmssd_ms;
	m->ln_rmssd = hrv.ln_rmssd;
}

void analyze_metrics(const clock_zone *zone, const struct analyze_person *p,
		     int32_t day, const struct store_span *span,
		     struct night_metrics *ret)
{
	struct night_metrics m;
	struct load_params load;
	struct night_input in;
	int64_t from = clock_day_start_ms(zone, day - 1);
	int64_t load_to;
	/* A bedtime before noon is after midnight: on the morning's day. */
	int32_t bed_day = p->bedtime_min >= 12 * 60 ? day - 1 : day;

	in = (struct night_input){
		.day = day,
		.search_start_ms = clock_local_ms(zone, day - 1, 18 * 60),
		.search_end_ms = clock_local_ms(zone, day, 14 * 60),
		.hint_start_ms = clock_local_ms(zone, bed_day, p->bedtime_min) -
				 HINT_MARGIN_MIN * 60000,
		.hint_end_ms = clock_local_ms(zone, day, p->wake_min) +
			       HINT_MARGIN_MIN * 60000,
		.day_end_ms = clock_day_start_ms(zone, day + 1),
		.rr = array_data(span->rr),
		.rr_count = span->rr->len,
		.hr = array_data(span->hr),
		.hr_count = span->hr->len,
		.bed = array_data(span->bed),
		.bed_count = span->bed->len,
		.motion = array_data(span->motion),
		.motion_count = span->motion->len,
		.weights = array_data(span->weights),
		.weight_count = span->weights->len,
		.checkins = array_data(span->checkins),
		.checkin_count = span->checkins->len,
	};
	night_analyze(&in, &m);
	analyze_spot(zone, p, day, &in, &m);

	/* Yesterday's training: D-1 up to tonight's bedtime. Sleep is not
	 * a session (its heart rate is under the session threshold). */
	load = (struct load_params){
		.hr_rest_bpm =
		    metric_present(m.resting_hr_bpm) ? m.resting_hr_bpm : 60.0,
		.hr_max_bpm = p->hr_max_bpm,
		.sex = p->sex,
	};
	load_to = m.window_start_ms ? m.window_start_ms
				    : clock_day_start_ms(zone, day);
	m.load_trimp = load_day(in.hr, in.hr_count, from, load_to, 0, 0, &load);
	*ret = m;
}

gboolean analyze_night(store *s, const clock_zone *zone,
		       const struct analyze_person *p, int32_t day,
		       struct night_metrics *ret, GError **error)
{
	struct store_span span = { 0 };
	struct night_metrics m;

	if (!store_load_span(s, p->user_id, clock_day_start_ms(zone, day - 1),
			     clock_day_start_ms(zone, day + 1), &span, error))
		return FALSE;
	analyze_metrics(zone, p, day, &span, &m);
	store_span_clear(&span);

	if (!store_put_night(s, p->user_id, &m, error))
		return FALSE;
	if (ret)
		*ret = m;
	return TRUE;
}

struct results_ctx {
	store *s;
	const struct analyze_person *p;
	int64_t now_ms;
	recovery_day_fn fn;
	void *data;
	GError *error;
};

static void store_day(const struct recovery_day *d, void *data)
{
	struct results_ctx *ctx = data;
	g_autoptr(JsonNode) state = NULL;
	g_autofree char *json = NULL;
	struct store_result r;

	if (ctx->error)
		return;
	if (ctx->fn)
		ctx->fn(d, ctx->data);

	state = report_state_build(d);
	json = json_text_from_node(state);
	r = (struct store_result){
		.day = d->day,
		.score = d->score.score,
		.calibrating = d->score.calibrating,
		.state_json = json,
		.computed_ms = ctx->now_ms,
	};
	g_strlcpy(r.zone, score_zone_name(d->score.zone), sizeof(r.zone));
	g_strlcpy(r.advice_state, advice_state_name(d->advice.state),
		  sizeof(r.advice_state));
	store_put_result(ctx->s, ctx->p->user_id, &r, &ctx->error);
}

gboolean analyze_results(store *s, const struct analyze_person *p,
			 int32_t from_day, int32_t to_day, int64_t now_ms,
			 recovery_day_fn fn, void *data, GError **error)
{
	g_autoptr(GArray) nights =
	    g_array_new(FALSE, FALSE, sizeof(struct night_metrics));
	struct results_ctx ctx = {
		.s = s,
		.p = p,
		.now_ms = now_ms,
		.fn = fn,
		.data = data,
	};
	int32_t first =
	    from_day - RECOVERY_WARMUP_DAYS - RECOVERY_LOOKBACK_DAYS - 28;
	struct recovery_params params = p->recovery;

	/* The sleep-debt advice names a clock time from the usual bedtime. */
	params.bedtime_known = true;
	params.bedtime_min = p->bedtime_min;

	if (!store_get_nights(s, p->user_id, first, to_day, nights, error))
		return FALSE;
	if (recovery_replay((const struct night_metrics *)(void *)nights->data,
			    nights->len, from_day, to_day, &params, store_day,
			    &ctx) < 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
			    "cannot replay days %d..%d", from_day, to_day);
		return FALSE;
	}
	if (ctx.error) {
		g_propagate_error(error, ctx.error);
		return FALSE;
	}
	return TRUE;
}
