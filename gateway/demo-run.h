/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "gateway/core/config.h"
#include "gateway/daemon.h"

/*
 * Demo mode's driver: the simulated household of gateway/core/demo.h fed
 * through the real decoders, household, store, analysis and MQTT path in
 * accelerated time. Simulated time moves in 10-minute steps, each with its
 * morning check, so that no morning is skipped at any speed; the
 * calibration week goes five times faster. The loop quits after the last
 * simulated morning.
 */

/* The demo household as a configuration: four people
 * (scenario_demo_story()), a strap and a bed sensor each, one Xiaomi scale
 * they share (told apart by weight). */
void demo_run_people(struct config *c);

/* Starts a run of @days simulated days at @night_s real seconds per day;
 * the last simulated morning is today. Sets d->demo. */
void demo_run_start(struct daemon *d, double night_s, int days);
/* The first simulated day (the day before it is when the run starts). */
int32_t demo_run_first_day(const struct daemon *d);
/* The simulated wall clock in ms: the packet being sent, else the time
 * the simulation reached. */
int64_t demo_run_now_ms(const struct daemon *d);
/* Starts the run's timer in the main loop. */
void demo_run_schedule(struct daemon *d);
void demo_run_free(struct demo_run *run);
