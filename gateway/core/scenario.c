// SPDX-License-Identifier: MIT
#include "gateway/core/scenario.h"

#include <math.h>

/*
 * Each (seed, person, day) gets its own random stream, so a day's readings
 * do not depend on which days were generated before it: the demo can start
 * anywhere and tests can regenerate one night.
 */
struct rng {
	uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
	/* splitmix64 (Steele, Lea, Flood 2014): tiny, fast, well mixed. */
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_normal(struct rng *r, double mean, double sd)
{
	/* Box-Muller; one of the pair is enough here. */
	double u1 = rng_uniform(r), u2 = rng_uniform(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return mean + sd * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static struct rng rng_for(uint64_t seed, int person, int index, int stream)
{
	struct rng r = { seed ^ ((uint64_t)(person + 1) << 48) ^
			 ((uint64_t)(index + 1) << 16) ^ (uint64_t)stream };

	/* Warm up so that neighbouring seeds diverge at once. */
	rng_next(&r);
	rng_next(&r);
	return r;
}

struct person_profile {
	double rmssd_ms; /* typical night RMSSD */
	double rhr_bpm;
	double weight_kg;
	double body_fat_pct;
	int scale_user;
	bool motion_sensor;
};

static const struct person_profile people[SCENARIO_DEMO_PEOPLE] = {
	{ 55.0, 52.0, 62.0, 24.0, 1, true },
	{ 40.0, 58.0, 81.5, 19.0, 2, false },
	/* The demo's third: a rower, heavier than both on the shared scale. */
	{ 62.0, 50.0, 96.0, 17.0, 3, false },
	/* The demo's fourth, who spot-checks: the lightest on the scale. */
	{ 48.0, 56.0, 52.0, 27.0, 4, false },
};

static enum scenario_event household_event(int index)
{
	if (index == 16)
		return SCENARIO_BAD_NIGHT;
	if (index >= 30 && index <= 35)
		return SCENARIO_SLUMP;
	if (index >= 36 && index <= 41)
		return SCENARIO_RECOVERY;
	if (index == 42)
		return SCENARIO_MISSED;
	if (index >= 50 && index <= 59)
		return SCENARIO_MONOTONE;
	return SCENARIO_NORMAL;
}

enum scenario_event scenario_story_event(enum scenario_story story, int index)
{
	if (index < 7)
		return SCENARIO_CALIBRATION;
	switch (story) {
	case SCENARIO_STORY_HOUSEHOLD:
		return household_event(index);
	case SCENARIO_STORY_BURNOUT:
		if (index >= 28 && index <= 37)
			return SCENARIO_BURNOUT;
		if (index >= 38 && index <= 43)
			return SCENARIO_RECOVERY;
		return SCENARIO_NORMAL;
	case SCENARIO_STORY_OVERREACH:
		if (index >= 14 && index <= 23)
			return SCENARIO_BUILD;
		if (index >= 24 && index <= 30)
			return SCENARIO_OVERREACHED;
		if (index >= 31 && index <= 34)
			return SCENARIO_TAPER;
		return SCENARIO_NORMAL;
	case SCENARIO_STORY_FLAT:
		if (index >= 28 && index <= 41)
			return SCENARIO_FLAT;
		return SCENARIO_NORMAL;
	case SCENARIO_STORY_HEALTHY:
	case SCENARIO_STORY_SPOT:
	case SCENARIO_STORY_NO_RR:
	default:
		return SCENARIO_NORMAL;
	}
}

bool scenario_spot_taken(int index)
{
	return index != 15;
}

bool scenario_spot_noisy(int index)
{
	return index == 3 || index == 10 || index == 12;
}

enum scenario_event scenario_event_of(int person, int index)
{
	return scenario_story_event(person == 0 ? SCENARIO_STORY_HOUSEHOLD
						: SCENARIO_STORY_HEALTHY,
				    index);
}

/* How one night goes, before randomness. */
struct night_plan {
	double ln_rmssd_shift;
	double rhr_shift;
	int bedtime_min; /* local minutes after midnight of the evening day */
	int wake_min;	 /* local minutes of the morning day */
	int awakenings;
	double mood, soreness, energy;
	double weight_shift_kg;
	int train_min; /* today's session: minutes and mean heart rate */
	double train_bpm;
};

static struct night_plan plan_for(enum scenario_story story, int person,
				  int index)
{
	/* A week of varied training: rest days, short hard, long easy. */
	static const int week_min[7] = { 0, 50, 35, 0, 60, 90, 30 };
	static const double week_bpm[7] = { 0, 140, 150, 0, 135, 130, 145 };
	struct night_plan p = {
		.bedtime_min = SCENARIO_BEDTIME_MIN,
		.wake_min = SCENARIO_WAKE_MIN,
		.awakenings = 2,
		.mood = 4,
		.soreness = 2,
		.energy = 4,
		.train_min = week_min[(index + person) % 7],
		.train_bpm = week_bpm[(index + person) % 7],
	};

	switch (scenario_story_event(story, index)) {
	case SCENARIO_BAD_NIGHT:
		p.ln_rmssd_shift = -0.55;
		p.rhr_shift = 7;
		p.bedtime_min = 24 * 60 + 90; /* 01:30 */
		p.awakenings = 4;
		break;
	case SCENARIO_SLUMP:
		p.ln_rmssd_shift = -0.30 - 0.02 * (index - 30);
		p.rhr_shift = 5;
		p.bedtime_min = 24 * 60 + 30; /* 00:30 */
		p.awakenings = 4;
		p.mood = 2;
		p.soreness = 4;
		p.energy = 2;
		p.weight_shift_kg = -0.9;
		p.train_min = 0;
		break;
	case SCENARIO_BURNOUT:
		/* Sinking for days, whatever the rest: no training at all. */
		p.ln_rmssd_shift = -0.25 - 0.01 * (index - 28);
		p.rhr_shift = 4;
		p.bedtime_min = 24 * 60; /* lies awake: 00:00 */
		p.awakenings = 4;
		p.mood = 2;
		p.soreness = 3;
		p.energy = 2;
		p.train_min = 0;
		break;
	case SCENARIO_BUILD:
		/* Each day a little longer and harder than the last. */
		p.train_min = 60 + 3 * (index - 14);
		p.train_bpm = 150 + 0.5 * (index - 14);
		break;
	case SCENARIO_OVERREACHED:
		p.train_min = 90;
		p.train_bpm = 156;
		p.ln_rmssd_shift = -0.35 - 0.01 * (index - 24);
		p.rhr_shift = 6;
		p.bedtime_min = 24 * 60; /* wired after late sessions */
		p.awakenings = 4;
		p.soreness = 4;
		break;
	case SCENARIO_TAPER:
		p.train_min = 30;
		p.train_bpm = 125;
		break;
	case SCENARIO_FLAT:
		/* Not feeling it; nothing wrong with the body. */
		p.mood = 3;
		p.energy = 2;
		p.soreness = 2;
		break;
	case SCENARIO_RECOVERY:
		if (story == SCENARIO_STORY_BURNOUT)
			index -= 2; /* its recovery starts at 38, not 36 */
		p.ln_rmssd_shift = index == 36 ? -0.12 : 0.0;
		p.rhr_shift = index == 36 ? 1.5 : 0.0;
		p.mood = index <= 37 ? 3 : 4;
		p.soreness = 3;
		p.energy = index <= 37 ? 3 : 4;
		/* Easy sessions every other day, back to normal after. */
		p.train_min = index % 2 ? 35 : 0;
		p.train_bpm = 125;
		break;
	case SCENARIO_MONOTONE:
		p.train_min = 45;
		p.train_bpm = 140;
		break;
	case SCENARIO_MISSED:
	case SCENARIO_CALIBRATION:
	case SCENARIO_NORMAL:
	default:
		break;
	}
	return p;
}

struct night_state {
	const struct scenario *sc;
	const struct scenario_sink *sink;
	void *data;
	int person;
	struct rng rng;
};

/* Into bed on the night before @day, scattered by 10 minutes (from @st's
 * stream); wall-clock times, so that a DST day's bedtime is still 23:00. */
static int64_t night_bed_ms(struct night_state *st, int32_t day,
			    const struct night_plan *plan)
{
	int64_t bed =
	    plan->bedtime_min < 24 * 60
		? clock_local_ms(st->sc->zone, day - 1, plan->bedtime_min)
		: clock_local_ms(st->sc->zone, day,
				 plan->bedtime_min - 24 * 60);

	return bed + (int64_t)rng_normal(&st->rng, 0, 10 * 60000);
}

/* Up on the morning of @day, scattered by 5 minutes. */
static int64_t night_up_ms(struct night_state *st, int32_t day,
			   const struct night_plan *plan)
{
	return clock_local_ms(st->sc->zone, day, plan->wake_min) +
	       (int64_t)rng_normal(&st->rng, 0, 5 * 60000);
}

/* The night's RMSSD: the person's, the plan's shift, 7 % from night to
 * night. */
static double night_rmssd_ms(struct night_state *st,
			     const struct night_plan *plan)
{
	return exp(log(people[st->person].rmssd_ms) + plan->ln_rmssd_shift +
		   rng_normal(&st->rng, 0, 0.07));
}

/*
 * The night: into bed at bedtime, a falling heart rate that reaches the
 * resting rate in the small hours, RR intervals with the night's RMSSD
 * (white noise of SD rmssd / sqrt(2) gives that RMSSD), awakenings with
 * motion and a faster heart, one bathroom trip on some nights, and a few
 * artefact beats for cleaning to drop.
 */
static void emit_night(struct night_state *st, int index,
		       const struct night_plan *plan)
{
	const struct person_profile *pp = &people[st->person];
	const struct scenario_sink *sink = st->sink;
	int32_t day = st->sc->first_day + index;
	int64_t bed_ms = night_bed_ms(st, day, plan);
	int64_t up_ms = night_up_ms(st, day, plan);
	double rmssd = night_rmssd_ms(st, plan);
	double rhr =
	    pp->rhr_bpm + plan->rhr_shift + rng_normal(&st->rng, 0, 1.0);
	double sigma = rmssd / sqrt(2.0);
	int64_t awake_from[8], awake_to[8];
	int awake = 0;
	int64_t trip_from = 0, trip_to = 0;
	int64_t t = bed_ms, next_hr_ms = bed_ms;
	double span = (double)(up_ms - bed_ms);

	/* Awake spells: the first 12-25 minutes (falling asleep), then the
	 * night's awakenings of 4-8 minutes. */
	awake_from[awake] = bed_ms;
	awake_to[awake++] =
	    bed_ms + (int64_t)(12 + 13 * rng_uniform(&st->rng)) * 60000;
	for (int i = 0; i < plan->awakenings && awake < 8; i++) {
		int64_t at =
		    bed_ms + (int64_t)(span * (0.2 + 0.7 * (i + 0.5) /
							 plan->awakenings));

		awake_from[awake] = at;
		awake_to[awake++] =
		    at + (int64_t)(4 + 4 * rng_uniform(&st->rng)) * 60000;
	}
	if (rng_uniform(&st->rng) < 0.4) {
		trip_from = bed_ms + (int64_t)(span * 0.55);
		trip_to = trip_from +
			  (int64_t)(5 + 4 * rng_uniform(&st->rng)) * 60000;
	}

	if (sink->bed) {
		sink->bed(st->data, st->person, bed_ms, true);
		if (trip_from) {
			sink->bed(st->data, st->person, trip_from, false);
			sink->bed(st->data, st->person, trip_to, true);
		}
	}

	for (int i = 0; i < awake && pp->motion_sensor && sink->motion; i++) {
		/* Restless: a motion report every minute of the spell. */
		for (int64_t m = awake_from[i]; m < awake_to[i]; m += 60000)
			sink->motion(st->data, st->person, m + 5000, true);
		sink->motion(st->data, st->person, awake_to[i], false);
	}

	while (t < up_ms) {
		double phase = (double)(t - bed_ms) / span;
		/* +10 bpm at bedtime, the resting rate from 40 % to 80 % of
		 * the night, rising a little towards the morning. */
		double hr = rhr + (phase < 0.4	 ? 10.0 * (1.0 - phase / 0.4)
				   : phase < 0.8 ? 0.0
						 : 4.0 * (phase - 0.8) / 0.2);
		bool out = trip_from && t >= trip_from && t < trip_to;
		double rr;

		for (int i = 0; i < awake; i++)
			if (t >= awake_from[i] && t < awake_to[i])
				hr += 18.0;
		if (out)
			hr += 25.0;
		rr = 60000.0 / hr + rng_normal(&st->rng, 0, sigma);
		t += (int64_t)rr;

		if (sink->rr) {
			double u = rng_uniform(&st->rng);
			/* A missed beat now and then: two RR as one. */
			double sent = u < 0.001 ? rr * 2.0 : rr;

			sink->rr(st->data, st->person, t, sent);
		}
		if (sink->hr && t >= next_hr_ms) {
			sink->hr(st->data, st->person, t, round(60000.0 / rr));
			next_hr_ms = t + 1000;
		}
	}
	if (sink->bed)
		sink->bed(st->data, st->person, up_ms + 2 * 60000, false);
}

/* One spot-check attempt: @dur_s of beats from @start_ms with a strap's
 * HR each second; @noisy makes every fourth beat half as long again (a
 * moving body, a strap slipping), which cleaning drops. */
static void emit_spot_session(struct night_state *st, int64_t start_ms,
			      int dur_s, double rmssd_ms, double hr_bpm,
			      bool noisy)
{
	const struct scenario_sink *sink = st->sink;
	double sigma = rmssd_ms / sqrt(2.0);
	int64_t t = start_ms, next_hr_ms = start_ms;

	for (int k = 0; t < start_ms + (int64_t)dur_s * 1000; k++) {
		double rr = 60000.0 / hr_bpm + rng_normal(&st->rng, 0, sigma);

		t += (int64_t)rr;
		if (noisy && k % 4 == 1)
			rr *= 1.5;
		if (sink->rr)
			sink->rr(st->data, st->person, t, rr);
		if (sink->hr && t >= next_hr_ms) {
			sink->hr(st->data, st->person, t, round(60000.0 / rr));
			next_hr_ms = t + 1000;
		}
	}
}

/*
 * The SPOT story's night: in bed at bedtime with no strap, awake at the
 * wake time, the strap on for a spot check a minute later lying in bed
 * (3.5 minutes: 30 s settling and 180 s measured), out of bed after it.
 * Lying awake the heart is faster than at night's rest, and its RMSSD is
 * a spot value, not a night value (80 % of the night's here).
 */
static void emit_spot_night(struct night_state *st, int index,
			    const struct night_plan *plan)
{
	const struct person_profile *pp = &people[st->person];
	const struct scenario_sink *sink = st->sink;
	int32_t day = st->sc->first_day + index;
	int64_t bed_ms = night_bed_ms(st, day, plan);
	int64_t up_ms = night_up_ms(st, day, plan);
	double rmssd = 0.8 * night_rmssd_ms(st, plan);
	double hr = pp->rhr_bpm + 8.0 + rng_normal(&st->rng, 0, 1.5);
	int64_t spot_ms = up_ms + 60000;

	if (sink->bed)
		sink->bed(st->data, st->person, bed_ms, true);
	if (scenario_spot_taken(index)) {
		emit_spot_session(st, spot_ms, 210, rmssd, hr,
				  scenario_spot_noisy(index));
		if (index == 12)
			/* Told to lie still and try again: a clean one. */
			emit_spot_session(st, spot_ms + 5 * 60000, 210, rmssd,
					  hr, false);
	}
	if (sink->bed)
		sink->bed(st->data, st->person, spot_ms + 12 * 60000, false);
}

/* The SPOT story's people are in bed until 13 minutes after waking (the
 * spot check, then up): their weigh-in and check-in come this much later,
 * after it, as on the scale and the form they do (the day's analysis reads
 * them from the time out of bed). */
#define SPOT_MORNING_LATER_MIN 15

static void emit_morning(struct night_state *st, int index,
			 const struct night_plan *plan, bool missed,
			 int later_min)
{
	const struct person_profile *pp = &people[st->person];
	int32_t day = st->sc->first_day + index;
	/* The morning's routine starts at the wake time, or later. */
	int64_t from = clock_local_ms(st->sc->zone, day, plan->wake_min) +
		       (int64_t)later_min * 60000;
	double mood = plan->mood, soreness = plan->soreness;
	double energy = plan->energy;

	if (plan->mood >= 4) {
		/* An ordinary day: some are better than others. */
		mood = 3.0 + (double)(rng_next(&st->rng) % 3);
		energy = 3.0 + (double)(rng_next(&st->rng) % 2);
		soreness = 1.0 + (double)(rng_next(&st->rng) % 3);
	}
	if (!missed && st->sink->weight)
		st->sink->weight(
		    st->data, st->person, pp->scale_user,
		    from + (12 + st->person * 3) * 60000,
		    round((pp->weight_kg + plan->weight_shift_kg +
			   rng_normal(&st->rng, 0, 0.25)) *
			  20.0) /
			20.0,
		    round((pp->body_fat_pct + rng_normal(&st->rng, 0, 0.3)) *
			  10.0) /
			10.0);
	if (st->sink->checkin)
		st->sink->checkin(st->data, st->person, from + 25 * 60000, mood,
				  soreness, energy);
}

/* A session at 18:00: warm-up, the planned mean, cool-down; 1 Hz. */
static void emit_training(struct night_state *st, int index,
			  const struct night_plan *plan)
{
	int32_t day = st->sc->first_day + index;
	int64_t start = clock_local_ms(st->sc->zone, day, 18 * 60);
	int64_t seconds = (int64_t)plan->train_min * 60;

	if (!plan->train_min || !st->sink->hr)
		return;
	for (int64_t s = 0; s < seconds; s++) {
		double bpm = plan->train_bpm + rng_normal(&st->rng, 0, 2.0);

		st->sink->hr(st->data, st->person, start + s * 1000,
			     round(bpm));
	}
}

void scenario_emit_story_day(const struct scenario *sc,
			     enum scenario_story story, int person, int index,
			     const struct scenario_sink *sink, void *data)
{
	struct night_plan plan = plan_for(story, person, index);
	bool missed = scenario_story_event(story, index) == SCENARIO_MISSED;
	/* The household's two stories keep the streams they always had; the
	 * others get their own, so one seed gives different lives. */
	uint64_t seed =
	    story == SCENARIO_STORY_HOUSEHOLD || story == SCENARIO_STORY_HEALTHY
		? sc->seed
		: sc->seed ^ ((uint64_t)story << 40);
	/* An optical band: heart rate, no RR intervals, no bed sensor. */
	struct scenario_sink band = {
		.hr = sink->hr,
		.motion = sink->motion,
		.weight = sink->weight,
		.checkin = sink->checkin,
	};
	struct night_state st = {
		.sc = sc,
		.sink = story == SCENARIO_STORY_NO_RR ? &band : sink,
		.data = data,
		.person = person,
		.rng = rng_for(seed, person, index, 1),
	};

	if (story == SCENARIO_STORY_SPOT)
		emit_spot_night(&st, index, &plan);
	else if (!missed)
		emit_night(&st, index, &plan);
	st.rng = rng_for(seed, person, index, 2);
	emit_morning(&st, index, &plan, missed,
		     story == SCENARIO_STORY_SPOT ? SPOT_MORNING_LATER_MIN : 0);
	st.rng = rng_for(seed, person, index, 3);
	emit_training(&st, index, &plan);
}

void scenario_emit_day(const struct scenario *sc, int index,
		       const struct scenario_sink *sink, void *data)
{
	for (int person = 0; person < SCENARIO_PEOPLE; person++)
		scenario_emit_story_day(sc, scenario_demo_story(person), person,
					index, sink, data);
}

enum scenario_story scenario_demo_story(int person)
{
	switch (person) {
	case 0:
		return SCENARIO_STORY_HOUSEHOLD;
	case 2:
		return SCENARIO_STORY_OVERREACH;
	case 3:
		return SCENARIO_STORY_SPOT;
	case 1:
	default:
		return SCENARIO_STORY_HEALTHY;
	}
}

void scenario_emit_demo_day(const struct scenario *sc, int index,
			    const struct scenario_sink *sink, void *data)
{
	for (int person = 0; person < SCENARIO_DEMO_PEOPLE; person++)
		scenario_emit_story_day(sc, scenario_demo_story(person), person,
					index, sink, data);
}
