/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Antenna messages as OpenMQTTGateway, Theengs Gateway, the ESPHome BLE
 * gateway and a Shelly script publish them (reference/antennas.md), for
 * alice's Mi Body Composition Scale 2 and BTHome bed sensor and for a
 * neighbour's scale; shared by the integration tests that feed a daemon's
 * [antennas] topics (test-antennas, test-satellite).
 */

#include <stdbool.h>

#include "tests/integration/broker.h"

/* The household's Mi Body Composition Scale 2 and bed sensor. */
#define ANTENNA_SCALE "DF:DE:44:82:14:EF"
#define ANTENNA_BED   "A4:C1:38:5E:00:02"
/* The neighbour's scale of the same kind, heard through the wall. */
#define ANTENNA_NEIGHBOUR "11:22:33:44:55:66"
#define ANTENNA_OMG	  "home/OpenMQTTGateway/BTtoMQTT/"
#define ANTENNA_THEENGS	  "home/TheengsGateway/BTtoMQTT/"
#define ANTENNA_ESPHOME	  "esphome/bedroom/ble"
#define ANTENNA_SHELLY	  "shellyplus1pm-a8032ab12345/events/rpc"

/* OpenMQTTGateway (pubadvdata) and Theengs Gateway (publish_advdata) each
 * relaying the scale's 85.15 kg, 428 ohm. */
extern const char antenna_omg_weighing[];
extern const char antenna_theengs_weighing[];
/* OpenMQTTGateway relaying a later weighing of the scale: 86.00 kg. */
extern const char antenna_omg_weighing_86[];
/* OpenMQTTGateway relaying the neighbour's scale (85.15 kg). */
extern const char antenna_omg_neighbour[];
/* The ESPHome BLE gateway's HCI report: the bed occupied. */
extern const char antenna_esphome_occupied[];
/* A Shelly script's scan result: the bed empty. */
extern const char antenna_shelly_empty[];
/* The neighbour's device with an RSSI no radio reports. */
extern const char antenna_neighbour_malformed[];
/* The household scale's message whose servicedata is no hex. */
extern const char antenna_malformed[];

/* Publishes @payload on @topic through @p (QoS 0, not retained), as an
 * antenna does; aborts the test if it cannot. */
void antenna_publish(probe *p, const char *topic, const char *payload);

/*
 * Publishes antenna_malformed on @topic through @p every 100 ms until the
 * daemon's log @log_path says it dropped a message on @topic, at most
 * @tries times: the daemon has subscribed to a filter matching @topic.
 * Returns whether it did. The daemon logs such a line once a minute, so
 * this works once per daemon and minute.
 */
bool antenna_wait_listening(probe *p, const char *topic, const char *log_path,
			    unsigned tries);
