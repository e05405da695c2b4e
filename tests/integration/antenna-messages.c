// SPDX-License-Identifier: MIT
#include "tests/integration/antenna-messages.h"

#include <glib.h>

#include "tests/support/test-support.h"

/* ble_monitor test_miscale_v2_impedance: 85.15 kg, 428 ohm, stabilised. */
#define MI_V2_SD "0226b20705040f0201ac018642"
/* The same scale a minute later: 86.00 kg (17200 / 200), 428 ohm. */
#define MI_V2_SD_86 "0226b20705040f0301ac013043"

/* OpenMQTTGateway with pubadvdata (reference/antennas.md §1.1): NimBLE's
 * lowercase address, "0x181b". */
const char antenna_omg_weighing[] =
    "{\"id\":\"df:de:44:82:14:ef\",\"mac_type\":1,\"adv_type\":0,"
    "\"rssi\":-81,\"servicedata\":\"" MI_V2_SD "\","
    "\"servicedatauuid\":\"0x181b\"}";
const char antenna_omg_weighing_86[] =
    "{\"id\":\"df:de:44:82:14:ef\",\"mac_type\":1,\"adv_type\":0,"
    "\"rssi\":-79,\"servicedata\":\"" MI_V2_SD_86 "\","
    "\"servicedatauuid\":\"0x181b\"}";
/* Theengs Gateway with publish_advdata (§1.2): BlueZ's upper case, "181b",
 * and its decoder's fields beside the raw ones. */
const char antenna_theengs_weighing[] =
    "{\"servicedata\":\"" MI_V2_SD "\",\"servicedatauuid\":\"181b\","
    "\"id\":\"DF:DE:44:82:14:EF\",\"rssi\":-64,\"brand\":\"Xiaomi\","
    "\"model\":\"Mi body composition scale 2\",\"type\":\"SCALE\","
    "\"weight\":85.15,\"impedance\":428}";
const char antenna_omg_neighbour[] =
    "{\"id\":\"" ANTENNA_NEIGHBOUR "\",\"rssi\":-95,\"servicedata\":\"" MI_V2_SD
    "\",\"servicedatauuid\":\"0x181b\"}";
/* The ESPHome BLE gateway's HCI report (§1.3) of a BTHome v2 frame: packet
 * id 0x0A, occupancy 1. */
const char antenna_esphome_occupied[] = "{\"packet\":\"043E1802010000"
					"02005E38C1A4"
					"0C"
					"020106"
					"0816D2FC40000A2301"
					"C4\"}";
/* A Shelly script's scan result (§1.4) of the same sensor: packet id 0x0B,
 * occupancy 0 (AgEGCBbS/EAACyMA = 02 01 06 08 16 D2 FC 40 00 0B 23 00). */
const char antenna_shelly_empty[] =
    "{\"src\":\"shellyplus1pm-a8032ab12345\",\"method\":\"NotifyEvent\","
    "\"params\":{\"ts\":1733476800.1,\"events\":[{\"component\":"
    "\"script:1\",\"id\":1,\"event\":\"ble.scan_result\",\"data\":[2,"
    "[[\"a4:c1:38:5e:00:02\",-70,\"AgEGCBbS/EAACyMA\",\"\"]]]}]}}";
/* Not ours to log. */
const char antenna_neighbour_malformed[] =
    "{\"id\":\"" ANTENNA_NEIGHBOUR "\",\"rssi\":-300}";
const char antenna_malformed[] =
    "{\"id\":\"DF:DE:44:82:14:EF\",\"servicedata\":\"02zz\","
    "\"servicedatauuid\":\"0x181b\"}";

void antenna_publish(probe *p, const char *topic, const char *payload)
{
	g_assert_true(probe_publish(p, topic, payload, 0, false));
}

bool antenna_wait_listening(probe *p, const char *topic, const char *log_path,
			    unsigned tries)
{
	g_autofree char *needle =
	    g_strdup_printf("antenna message on '%s'", topic);

	for (unsigned i = 0; i < tries; i++) {
		antenna_publish(p, topic, antenna_malformed);
		if (test_wait_file_text(log_path, needle, 100))
			return true;
	}
	return false;
}
