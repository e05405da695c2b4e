// SPDX-License-Identifier: MIT
#define G_LOG_DOMAIN "recoveryd"

#include "gateway/demo-run.h"

#include <malloc.h>

#include "gateway/core/demo.h"
#include "gateway/core/scenario.h"
#include "gateway/mornings.h"
#include "gateway/spot-watch.h"
#include "sensors/decode.h"

struct demo_run {
	struct scenario sc;
	int days;
	double night_s; /* real seconds per simulated day */
	int next_index; /* the next day index to generate */
	GArray *queue;	/* struct demo_packet, by time */
	guint pos;	/* the next packet to send */
	guint day_len;	/* packets of the last day generated */
	int64_t sim_ms; /* the simulated time reached */
	/* The simulated wall clock: the packet being sent, else sim_ms. */
	int64_t now_ms;
	int64_t last_mono_ms;
	int64_t spot_tick_ms; /* the spot watch's next simulated second */
	guint timer;
	struct decoded_payload *scratch;
};

void demo_run_people(struct config *c)
{
	/* Told apart on the shared scale by weight: about 62, 81.5, 96 and
	 * 52 kg. alice waits half an hour for her check-in before her alert
	 * goes out; bob, carol and dora get theirs at once, and an update
	 * when a check-in (or dora's spot check, when it comes after her
	 * morning) changes the advice. */
	static const struct {
		double min_kg, max_kg;
		const char *goal;
		uint8_t club_days;
		int wait_checkin_min;
	} demo[SCENARIO_DEMO_PEOPLE] = {
		{ 57, 72, "to run the spring half", 1u << 1 | 1u << 5, 30 },
		{ 72, 89, NULL, 1u << 3, 0 },
		{ 89, 130, "to feel strong on the water", 1u << 6, 0 },
		{ 40, 57, "to keep calm through a busy spring", 1u << 4, 0 },
	};

	c->person_count = SCENARIO_DEMO_PEOPLE;
	c->people = g_new0(struct config_person, SCENARIO_DEMO_PEOPLE);
	for (int i = 0; i < SCENARIO_DEMO_PEOPLE; i++) {
		struct config_person *p = &c->people[i];

		*p = (struct config_person){
			.name = g_strdup(demo_person_name(i)),
			.display_name = g_strdup(demo_person_display_name(i)),
			/* The demo's scale is a Mi scale, and says so. */
			.scale_protocol = CONFIG_SCALE_XIAOMI,
			.scale_protocol_set = true,
			.weight_min_kg = demo[i].min_kg,
			.weight_max_kg = demo[i].max_kg,
			.sleep_need_min = 480,
			.alert_s = CONFIG_ALERT_AT_WAKE,
			.alert_latest_s = 11 * 3600,
			.alert_wait_checkin_min = demo[i].wait_checkin_min,
			.bedtime_min = SCENARIO_BEDTIME_MIN,
			.wake_min = SCENARIO_WAKE_MIN,
			.hr_max_bpm = 190,
			.sex = LOAD_SEX_UNSPECIFIED,
			.goal = g_strdup(demo[i].goal),
			.club_days = demo[i].club_days,
		};
		g_strlcpy(p->heart_rate, demo_device_address(DEMO_STRAP_0 + i),
			  sizeof(p->heart_rate));
		g_strlcpy(p->bed_sensor, demo_device_address(DEMO_BED_0 + i),
			  sizeof(p->bed_sensor));
		g_strlcpy(p->scale, demo_device_address(DEMO_SCALE),
			  sizeof(p->scale));
	}
}

static void demo_send(struct daemon *d, const struct demo_packet *pk)
{
	struct demo_run *run = d->demo;
	struct reading r = { .t_ms = pk->t_ms };
	struct parse_error err;

	if (pk->kind == DEMO_PACKET_CHECKIN) {
		double mood, soreness, energy;
		g_autoptr(GError) error = NULL;

		demo_packet_checkin(pk, &mood, &soreness, &energy);
		if (!household_checkin(
			d->household, pk->device, pk->t_ms, mood, soreness,
			energy, daemon_reading_mono_ms(d, pk->t_ms), &error))
			daemon_store_failed(d, "storing a check-in", error);
		return;
	}
	if (decode_payload((enum decode_uuid)pk->uuid, pk->bytes, pk->len,
			   run->scratch, &err) < 0) {
		g_warning("demo: a payload of %s did not decode",
			  demo_device_address(pk->device));
		return;
	}
	g_strlcpy(r.address, demo_device_address(pk->device),
		  sizeof(r.address));
	r.via = pk->uuid == DECODE_UUID_HEART_RATE ? READING_VIA_NOTIFICATION
						   : READING_VIA_ADVERTISEMENT;
	/* struct reading embeds the payload; copy only what this uuid uses
	 * would be cheaper, but the demo is not the hot path. */
	r.payload = *run->scratch;
	daemon_ingest(d, &r);
}

static bool demo_finished(struct daemon *d)
{
	struct demo_run *run = d->demo;
	int32_t last = run->sc.first_day + run->days - 1;

	if (run->next_index < run->days || run->pos < run->queue->len)
		return false;
	for (size_t i = 0; i < household_person_count(d->household); i++)
		if (household_person(d->household, i)->morning.done_day < last)
			return run->sim_ms >
			       clock_local_ms(d->zone, last, 14 * 60);
	return true;
}

/* The spot watch judges an attempt under way each second (its own timer
 * does in real time, days apart on the demo's clock): here each simulated
 * second that has a packet, and at the end of each step, so that the live
 * topic goes settling, measuring and done as it would. */
static void spot_tick(struct daemon *d)
{
	struct demo_run *run = d->demo;

	if (run->now_ms < run->spot_tick_ms || !d->spot)
		return;
	run->spot_tick_ms = run->now_ms + 1000;
	spot_watch_tick(d->spot);
}

/* Simulated time moves in steps this long, each with its morning check, so
 * that no morning is skipped however fast the demo runs. */
#define DEMO_STEP_MS (10 * 60 * 1000)

static void demo_step(struct daemon *d)
{
	struct demo_run *run = d->demo;

	/* A day's packets start the evening before its morning: generated
	 * at noon of the day before. */
	while (run->next_index < run->days &&
	       run->sim_ms >=
		   clock_local_ms(d->zone,
				  run->sc.first_day + run->next_index - 1,
				  12 * 60)) {
		/* Reserved from the day before (plus its leftover), so that
		 * the array does not grow by doubling. */
		GArray *day =
		    g_array_sized_new(FALSE, FALSE, sizeof(struct demo_packet),
				      run->day_len + run->day_len / 8 + 4096);
		guint left = run->queue->len - run->pos;

		demo_day_packets(&run->sc, run->next_index++, day);
		run->day_len = day->len;
		/* What is left of the day before (its evening) joins the new
		 * day's array, and the old one goes. (Nothing left: the first
		 * day's queue has no data to point into at all.) */
		if (left)
			g_array_prepend_vals(day,
					     &g_array_index(run->queue,
							    struct demo_packet,
							    run->pos),
					     left);
		g_array_free(run->queue, TRUE);
		run->queue = day;
		run->pos = 0;
		g_array_sort(run->queue, demo_packet_by_time);
		malloc_trim(0);
	}
	while (run->pos < run->queue->len) {
		const struct demo_packet *pk =
		    &g_array_index(run->queue, struct demo_packet, run->pos);

		if (pk->t_ms > run->sim_ms)
			break;
		run->pos++;
		run->now_ms = pk->t_ms;
		demo_send(d, pk);
		spot_tick(d);
	}
	run->now_ms = run->sim_ms;
	spot_tick(d);
	mornings_check(d);
}

static gboolean demo_tick(gpointer data)
{
	struct daemon *d = data;
	struct demo_run *run = d->demo;
	int64_t mono = daemon_mono_ms();
	int index = clock_day_of(d->zone, run->sim_ms) - run->sc.first_day;
	/* The calibration week goes by five times faster. */
	double night_s = index < 7 ? run->night_s / 5 : run->night_s;
	/* At most a simulated day per tick: a stalled loop catches up
	 * slowly rather than in one burst. */
	int64_t advance = MIN(
	    (int64_t)((double)(mono - run->last_mono_ms) * 86400.0 / night_s),
	    86400 * INT64_C(1000));
	int64_t target = run->sim_ms + advance;

	run->last_mono_ms = mono;
	while (run->sim_ms < target && !demo_finished(d)) {
		run->sim_ms = run->now_ms =
		    MIN(target, run->sim_ms + DEMO_STEP_MS);
		demo_step(d);
	}
	if (demo_finished(d)) {
		g_message("demo: %d simulated days done", run->days);
		run->timer = 0;
		g_main_loop_quit(d->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

void demo_run_start(struct daemon *d, double night_s, int days)
{
	struct demo_run *run = g_new0(struct demo_run, 1);
	int32_t today =
	    clock_day_of(d->zone, g_get_real_time() / G_TIME_SPAN_MILLISECOND);

	run->sc = (struct scenario){
		.seed = 20260302,
		/* The last simulated morning is today. */
		.first_day = today - days + 1,
		.days = days,
		.zone = d->zone,
	};
	run->days = days;
	run->night_s = night_s;
	run->queue = g_array_new(FALSE, FALSE, sizeof(struct demo_packet));
	run->scratch = g_new0(struct decoded_payload, 1);
	run->sim_ms = clock_local_ms(d->zone, run->sc.first_day - 1, 12 * 60);
	run->now_ms = run->sim_ms;
	run->last_mono_ms = daemon_mono_ms();
	d->demo = run;
}

void demo_run_free(struct demo_run *run)
{
	if (!run)
		return;
	g_clear_handle_id(&run->timer, g_source_remove);
	g_array_free(run->queue, TRUE);
	g_free(run->scratch);
	g_free(run);
}

/* --- reload ----------------------------------------------------------------
 */

int32_t demo_run_first_day(const struct daemon *d)
{
	return d->demo->sc.first_day;
}

int64_t demo_run_now_ms(const struct daemon *d)
{
	return d->demo->now_ms;
}

void demo_run_schedule(struct daemon *d)
{
	d->demo->timer = g_timeout_add(50, demo_tick, d);
}
