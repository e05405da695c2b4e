/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "gateway/daemon.h"
#include "mqtt/payload.h"

/*
 * The daemon's radio: the BLE client (sensors/ble.h) told which devices of
 * the household to follow, its readings handed to the household, its link
 * changes logged and published as device state, and a check now and then
 * of what stands between us and the adapter.
 */

/* Starts the BLE client on the configured adapter. */
bool radio_start(struct daemon *d, GError **error);
/* What stands between us and the adapter, logged when it changes: for the
 * daemon's periodic tick (nothing before radio_start). */
void radio_check(struct daemon *d);
/* The household's devices, to the BLE client (after start and reload). */
void radio_set_devices(struct daemon *d);
/* The adapter as the gateway topic says it: "ready", "off", "missing",
 * "no-bluetoothd", "no-permission", "no-system-bus", "starting",
 * "failing", or NULL when there is no radio (demo mode). Static. */
const char *radio_adapter_state(struct daemon *d);
/* The name @dev advertises, or NULL (publish_ops). */
const char *radio_device_name(void *data, const struct household_device *dev);
/* How the link to @dev stands, as the device topic says it (publish_ops). */
enum mqtt_connection radio_connection(void *data,
				      const struct household_device *dev);
