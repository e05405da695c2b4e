/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "gateway/core/household.h"
#include "gateway/engine/recovery.h"
#include "mqtt/payload.h"

/*
 * What goes out when (DESIGN §7): a person's live value (at most every
 * live_min_interval_ms when only the heart rate changed, at once when
 * anything else did), a device's state (a retained live value: the radio
 * rebuilds it after any restart), the morning alert and the daily state
 * (outbox rows: they must arrive). The publisher builds topics and
 * payloads; where they go is the owner's choice, through publish_ops.
 */

#define PUBLISH_LIVE_MIN_INTERVAL_MS 2000
/* A heart rate older than this is no longer "live". */
#define PUBLISH_LIVE_HR_MAX_AGE_MS 30000
/* An advertiser not heard for this long is "silent" (DESIGN §7), and Home
 * Assistant shows its entities unavailable. */
#define PUBLISH_SILENT_AFTER_MS (15 * 60 * 1000)
/* How often the devices' states are looked at for a change nobody reports
 * (an advertiser falling silent). */
#define PUBLISH_DEVICE_CHECK_MS 5000

struct publish_ops {
	/* A retained live value, newest only (QoS 0; lost when the broker
	 * is away, which is fine: the next one replaces it). */
	void (*live)(void *data, const char *topic, const char *json);
	/* A message that must arrive, in order (an outbox row). */
	void (*queue)(void *data, const char *topic, const char *json,
		      bool retain);
	/* The wall clock in ms (the simulated one in demo mode). */
	int64_t (*now_ms)(void *data);
	/* How the radio's link to connectable device @dev stands. */
	enum mqtt_connection (*connection)(void *data,
					   const struct household_device *dev);
	/* The name @dev advertises, or NULL (unknown; also when this op is
	 * NULL). Valid during the call. */
	const char *(*device_name)(void *data,
				   const struct household_device *dev);
};

struct publish_config {
	const char *base_topic; /* copied */
	/* 0: PUBLISH_LIVE_MIN_INTERVAL_MS */
	unsigned live_min_interval_ms;
};

typedef struct publisher publisher;

publisher *publish_new(const struct publish_config *config,
		       const struct publish_ops *ops, void *data);
void publish_free(publisher *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(publisher, publish_free)

/*
 * The household whose people and devices are published (borrowed; set
 * again after a reload, before the old one is freed). Pending live values
 * of people who are gone are dropped.
 */
void publish_set_household(publisher *p, household *h);

/*
 * Person @person's live value changed (household_ops.live_changed): sent
 * now when @urgent or when the last one is old enough, else once the
 * interval has passed (one timer for everybody).
 */
void publish_live_changed(publisher *p, int person, bool urgent);

/* Device @index's state, now. An advertiser last heard
 * PUBLISH_SILENT_AFTER_MS or more ago is "silent". */
void publish_device(publisher *p, int index);

/*
 * Publishes the state of every device whose connection (silence included)
 * changed since its last publish: for the owner's periodic timer, at least
 * every PUBLISH_DEVICE_CHECK_MS while publish_next_device_check_ms() is
 * not INT64_MAX (a link's own changes come through publish_device).
 */
void publish_check_devices(publisher *p);

/*
 * When an advertiser heard and not yet silent turns silent (on
 * ops.now_ms's clock), the earliest of them; INT64_MAX when none can:
 * until then publish_check_devices() has nothing to find but link changes
 * that publish_device() already said.
 */
int64_t publish_next_device_check_ms(publisher *p);

/*
 * The check-in of @person as stored at @stored_ms (NAN: a value it did not
 * have), retained through the outbox on <base>/<user>/checkin: what Home
 * Assistant's check-in numbers show. FALSE when there is nothing to
 * publish (no value).
 */
bool publish_checkin(publisher *p, const struct household_person *person,
		     double mood, double soreness, double energy,
		     int64_t stored_ms);

/* Every device's state and every person's live value, now (after the
 * broker came back: retained values it may have lost). */
void publish_all_live(publisher *p);

/*
 * The morning alert of @person for @day (not retained, QoS 1, through the
 * outbox); @update: the day's alert again, because data that arrived after
 * the morning changed its advice state ("update": true). FALSE when the
 * payload could not be built.
 */
bool publish_alert(publisher *p, const struct household_person *person,
		   const struct recovery_day *day, bool update);

/* The retained daily state of @person: @state_json as the store keeps it. */
void publish_state(publisher *p, const struct household_person *person,
		   const char *state_json);

/* The retained history of @person (the last days a dashboard draws):
 * @history_json as report_history_build made it. A live value, not an
 * outbox row: the database rebuilds it after any restart, and only the
 * newest matters. */
void publish_history(publisher *p, const struct household_person *person,
		     const char *history_json);

/* "heart-rate strap", "scale", … as the device topics and discovery say. */
const char *publish_device_kind_text(enum household_device_kind kind);
/* The name of the person who owns @dev, NULL for a shared scale. */
const char *publish_device_user(household *h,
				const struct household_device *dev);
