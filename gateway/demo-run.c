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
	/* The days begun whose packets are not all in the queue yet (struct
	 * demo_day, by index), and the time up to which they are: the queue
	 * holds an hour or so at a time, not days (DESIGN §11's memory). */
	GArray *days_left;
	int64_t loaded_ms;
	int64_t next_begin_ms; /* when the next day begins (INT64_MAX: none) */
	GArray *queue;	/* struct demo_packet, by time, all before loaded_ms */
	guint pos;	/* the next packet to send */
	int64_t sim_ms; /* the simulated time reached */
	/* The simulated wall clock: the packet being sent, else sim_ms. */
	int64_t now_ms;
	int64_t last_mono_ms;
	int64_t spot_tick_ms; /* the spot watch's next simulated second */
	guint timer;
	struct decoded_payload *scratch;
};

struct demo_day {
	int index;
	struct demo_day_counts counts; /* its packets, when */
};

/*
 * Packets are queued a piece at a time: as many 10-minute buckets as hold
 * at most DEMO_PIECE_PACKETS of them (256 KiB; at night, three straps a
 * second, about 45 minutes), at most a day. Each piece generates its days
 * anew (about as much CPU as the whole day): a day costs a dozen or so.
 */
#define DEMO_PIECE_PACKETS 8192
#define DEMO_PIECE_MAX_MS  (24 * 60 * 60 * 1000)

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

	if (run->next_index < run->days || run->days_left->len ||
	    run->pos < run->queue->len)
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

/* Days whose every packet is in the queue (or sent) are done with. */
static void drop_loaded_days(struct demo_run *run)
{
	for (guint i = run->days_left->len; i-- > 0;)
		if (g_array_index(run->days_left, struct demo_day, i)
			.counts.last_ms < run->loaded_ms)
			g_array_remove_index(run->days_left, i);
}

/* The unsent packets and @more, in time order: at the same instant the
 * unsent ones first (they are of earlier days), as when a day's packets
 * were all queued at once. */
static void queue_join(struct demo_run *run, GArray *more)
{
	if (!more->len)
		return;
	g_array_remove_range(run->queue, 0, run->pos);
	run->pos = 0;
	g_array_append_vals(run->queue, more->data, more->len);
	g_array_sort(run->queue, demo_packet_by_time);
}

/* Day @index begins (its counts from @origin_ms on): its packets before
 * loaded_ms join the queue. */
static void begin_day(struct demo_run *run, int index, int64_t origin_ms)
{
	g_autoptr(GArray) more =
	    g_array_new(FALSE, FALSE, sizeof(struct demo_packet));
	struct demo_day day = { .index = index, .counts.origin_ms = origin_ms };

	demo_day_packets_between(&run->sc, index, INT64_MIN, run->loaded_ms,
				 more, &day.counts);
	queue_join(run, more);
	if (day.counts.last_ms >= run->loaded_ms)
		g_array_append_val(run->days_left, day);
	/* Once a simulated day: what the day's analyses and pieces freed
	 * goes back rather than stay in the heap. */
	malloc_trim(0);
}

/* At most how many packets of the days begun fall in [@from_ms, @to_ms)
 * (whole buckets counted). */
static guint64 count_between(const struct demo_run *run, int64_t from_ms,
			     int64_t to_ms)
{
	guint64 n = 0;

	for (guint i = 0; i < run->days_left->len; i++) {
		const struct demo_day_counts *c =
		    &g_array_index(run->days_left, struct demo_day, i).counts;
		int64_t lo = (from_ms - c->origin_ms) / DEMO_COUNT_BUCKET_MS;
		int64_t hi = (to_ms - 1 - c->origin_ms) / DEMO_COUNT_BUCKET_MS;

		lo = CLAMP(lo, 0, DEMO_COUNT_BUCKETS - 1);
		hi = CLAMP(hi, 0, DEMO_COUNT_BUCKETS - 1);
		for (int64_t k = lo; k <= hi; k++)
			n += c->n[k];
	}
	return n;
}

/* The next piece of every day begun, once the queue is all sent. */
static void load_piece(struct demo_run *run)
{
	int64_t to = run->loaded_ms + DEMO_COUNT_BUCKET_MS;
	guint64 n = count_between(run, run->loaded_ms, to);

	/* Not past the next day's beginning: its packets are not counted
	 * yet, and would all join the queue when it begins. */
	while (to - run->loaded_ms < DEMO_PIECE_MAX_MS &&
	       to < run->next_begin_ms) {
		guint64 more =
		    count_between(run, to, to + DEMO_COUNT_BUCKET_MS);

		if (n + more > DEMO_PIECE_PACKETS)
			break;
		n += more;
		to += DEMO_COUNT_BUCKET_MS;
	}
	g_array_set_size(run->queue, 0);
	run->pos = 0;
	/* Earlier days first: at the same instant theirs go first. */
	for (guint i = 0; i < run->days_left->len; i++)
		demo_day_packets_between(
		    &run->sc,
		    g_array_index(run->days_left, struct demo_day, i).index,
		    run->loaded_ms, to, run->queue, NULL);
	g_array_sort(run->queue, demo_packet_by_time);
	run->loaded_ms = to;
	drop_loaded_days(run);
}

static void demo_step(struct daemon *d)
{
	struct demo_run *run = d->demo;

	/* A day's packets start the evening before its morning: begun at
	 * noon of the day before. */
	for (;;) {
		int64_t noon_ms = clock_local_ms(
		    d->zone, run->sc.first_day + run->next_index - 1, 12 * 60);

		run->next_begin_ms =
		    run->next_index < run->days ? noon_ms : INT64_MAX;
		if (run->next_index >= run->days || run->sim_ms < noon_ms)
			break;
		begin_day(run, run->next_index++, noon_ms);
	}
	for (;;) {
		while (run->pos < run->queue->len) {
			const struct demo_packet *pk = &g_array_index(
			    run->queue, struct demo_packet, run->pos);

			if (pk->t_ms > run->sim_ms)
				break;
			run->pos++;
			run->now_ms = pk->t_ms;
			demo_send(d, pk);
			spot_tick(d);
		}
		if (run->pos < run->queue->len ||
		    run->loaded_ms > run->sim_ms || !run->days_left->len)
			break;
		load_piece(run);
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
	run->days_left = g_array_new(FALSE, FALSE, sizeof(struct demo_day));
	run->scratch = g_new0(struct decoded_payload, 1);
	run->sim_ms = clock_local_ms(d->zone, run->sc.first_day - 1, 12 * 60);
	run->now_ms = run->sim_ms;
	run->loaded_ms = run->sim_ms;
	run->last_mono_ms = daemon_mono_ms();
	d->demo = run;
}

void demo_run_free(struct demo_run *run)
{
	if (!run)
		return;
	g_clear_handle_id(&run->timer, g_source_remove);
	g_array_free(run->queue, TRUE);
	g_array_free(run->days_left, TRUE);
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
