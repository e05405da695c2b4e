// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "sensors/bthome.h"
#include "tests/unit/hex.h"

struct expect_object {
	const char *name;
	double value;
	const char *unit;
	const char *event; /* bthome_event_name(); NULL for non-events */
	const char *bytes; /* hex of the borrowed view; NULL: no view */
	uint8_t steps;
};

struct frame_vector {
	const char *name;
	const char *hex;
	unsigned count;
	struct expect_object objects[4];
	bool trigger_based;
	bool out_of_order;
	const char *mac; /* "A4:C1:38:8D:18:B2"; NULL: not sent */
	bool stopped;
	size_t stop_offset;
	uint8_t stop_id;
};

/*
 * One vector per row of bthome.io/format's sensor and binary sensor tables:
 * its Example bytes after a plain v2 device information byte (0x40), and its
 * Result. Together they check every fixed-size id's size, signedness,
 * factor and unit against the spec.
 */
static const struct frame_vector published[] = {
	{ "/bthome/published/battery-0x01",
	  "40 01 61",
	  1,
	  { { "battery", 97, "%" } } },
	{ "/bthome/published/temperature-0x02",
	  "40 02 ca 09",
	  1,
	  { { "temperature", 25.06, "°C" } } },
	{ "/bthome/published/humidity-0x03",
	  "40 03 bf 13",
	  1,
	  { { "humidity", 50.55, "%" } } },
	{ "/bthome/published/pressure-0x04",
	  "40 04 13 8a 01",
	  1,
	  { { "pressure", 1008.83, "hPa" } } },
	{ "/bthome/published/illuminance-0x05",
	  "40 05 13 8a 14",
	  1,
	  { { "illuminance", 13460.67, "lx" } } },
	{ "/bthome/published/mass-0x06",
	  "40 06 5e 1f",
	  1,
	  { { "mass", 80.3, "kg" } } },
	{ "/bthome/published/mass-0x07",
	  "40 07 3e 1d",
	  1,
	  { { "mass", 74.86, "lb" } } },
	{ "/bthome/published/dew-point-0x08",
	  "40 08 ca 06",
	  1,
	  { { "dew_point", 17.38, "°C" } } },
	{ "/bthome/published/count-0x09",
	  "40 09 60",
	  1,
	  { { "count", 96, NULL } } },
	{ "/bthome/published/energy-0x0a",
	  "40 0a 13 8a 14",
	  1,
	  { { "energy", 1346.067, "kWh" } } },
	{ "/bthome/published/power-0x0b",
	  "40 0b 02 1b 00",
	  1,
	  { { "power", 69.14, "W" } } },
	{ "/bthome/published/voltage-0x0c",
	  "40 0c 02 0c",
	  1,
	  { { "voltage", 3.074, "V" } } },
	{ "/bthome/published/pm25-0x0d",
	  "40 0d 12 0c",
	  1,
	  { { "pm25", 3090, "µg/m³" } } },
	{ "/bthome/published/pm10-0x0e",
	  "40 0e 02 1c",
	  1,
	  { { "pm10", 7170, "µg/m³" } } },
	{ "/bthome/published/generic-boolean-0x0f",
	  "40 0f 01",
	  1,
	  { { "generic_boolean", 1 } } },
	{ "/bthome/published/power-on-0x10",
	  "40 10 01",
	  1,
	  { { "power_on", 1 } } },
	{ "/bthome/published/opening-0x11",
	  "40 11 00",
	  1,
	  { { "opening", 0 } } },
	{ "/bthome/published/co2-0x12",
	  "40 12 e2 04",
	  1,
	  { { "co2", 1250, "ppm" } } },
	{ "/bthome/published/tvoc-0x13",
	  "40 13 33 01",
	  1,
	  { { "tvoc", 307, "µg/m³" } } },
	{ "/bthome/published/moisture-0x14",
	  "40 14 02 0c",
	  1,
	  { { "moisture", 30.74, "%" } } },
	{ "/bthome/published/battery-low-0x15",
	  "40 15 01",
	  1,
	  { { "battery_low", 1 } } },
	{ "/bthome/published/battery-charging-0x16",
	  "40 16 01",
	  1,
	  { { "battery_charging", 1 } } },
	{ "/bthome/published/carbon-monoxide-0x17",
	  "40 17 00",
	  1,
	  { { "carbon_monoxide", 0 } } },
	{ "/bthome/published/cold-0x18", "40 18 01", 1, { { "cold", 1 } } },
	{ "/bthome/published/connectivity-0x19",
	  "40 19 00",
	  1,
	  { { "connectivity", 0 } } },
	{ "/bthome/published/door-0x1a", "40 1a 00", 1, { { "door", 0 } } },
	{ "/bthome/published/garage-door-0x1b",
	  "40 1b 01",
	  1,
	  { { "garage_door", 1 } } },
	{ "/bthome/published/gas-detected-0x1c",
	  "40 1c 01",
	  1,
	  { { "gas_detected", 1 } } },
	{ "/bthome/published/heat-0x1d", "40 1d 00", 1, { { "heat", 0 } } },
	{ "/bthome/published/light-0x1e", "40 1e 01", 1, { { "light", 1 } } },
	{ "/bthome/published/lock-0x1f", "40 1f 01", 1, { { "lock", 1 } } },
	{ "/bthome/published/moisture-detected-0x20",
	  "40 20 01",
	  1,
	  { { "moisture_detected", 1 } } },
	{ "/bthome/published/motion-0x21", "40 21 00", 1, { { "motion", 0 } } },
	{ "/bthome/published/moving-0x22", "40 22 01", 1, { { "moving", 1 } } },
	{ "/bthome/published/occupancy-0x23",
	  "40 23 01",
	  1,
	  { { "occupancy", 1 } } },
	{ "/bthome/published/plug-0x24", "40 24 00", 1, { { "plug", 0 } } },
	{ "/bthome/published/presence-0x25",
	  "40 25 00",
	  1,
	  { { "presence", 0 } } },
	{ "/bthome/published/problem-0x26",
	  "40 26 01",
	  1,
	  { { "problem", 1 } } },
	{ "/bthome/published/running-0x27",
	  "40 27 01",
	  1,
	  { { "running", 1 } } },
	{ "/bthome/published/safety-0x28", "40 28 00", 1, { { "safety", 0 } } },
	{ "/bthome/published/smoke-0x29", "40 29 01", 1, { { "smoke", 1 } } },
	{ "/bthome/published/sound-0x2a", "40 2a 00", 1, { { "sound", 0 } } },
	{ "/bthome/published/tamper-0x2b", "40 2b 00", 1, { { "tamper", 0 } } },
	{ "/bthome/published/vibration-0x2c",
	  "40 2c 01",
	  1,
	  { { "vibration", 1 } } },
	{ "/bthome/published/window-0x2d", "40 2d 01", 1, { { "window", 1 } } },
	{ "/bthome/published/humidity-0x2e",
	  "40 2e 23",
	  1,
	  { { "humidity", 35, "%" } } },
	{ "/bthome/published/moisture-0x2f",
	  "40 2f 23",
	  1,
	  { { "moisture", 35, "%" } } },
	{ "/bthome/published/count-0x3d",
	  "40 3d 09 60",
	  1,
	  { { "count", 24585, NULL } } },
	{ "/bthome/published/count-0x3e",
	  "40 3e 2a 2c 09 60",
	  1,
	  { { "count", 1611213866, NULL } } },
	{ "/bthome/published/rotation-0x3f",
	  "40 3f 02 0c",
	  1,
	  { { "rotation", 307.4, "°" } } },
	{ "/bthome/published/distance-0x40",
	  "40 40 0c 00",
	  1,
	  { { "distance", 12, "mm" } } },
	{ "/bthome/published/distance-0x41",
	  "40 41 4e 00",
	  1,
	  { { "distance", 7.8, "m" } } },
	{ "/bthome/published/duration-0x42",
	  "40 42 4e 34 00",
	  1,
	  { { "duration", 13.390, "s" } } },
	{ "/bthome/published/current-0x43",
	  "40 43 4e 34",
	  1,
	  { { "current", 13.39, "A" } } },
	{ "/bthome/published/speed-0x44",
	  "40 44 4e 34",
	  1,
	  { { "speed", 133.90, "m/s" } } },
	{ "/bthome/published/temperature-0x45",
	  "40 45 11 01",
	  1,
	  { { "temperature", 27.3, "°C" } } },
	{ "/bthome/published/uv-index-0x46",
	  "40 46 32",
	  1,
	  { { "uv_index", 5.0, NULL } } },
	{ "/bthome/published/volume-0x47",
	  "40 47 87 56",
	  1,
	  { { "volume", 2215.1, "L" } } },
	{ "/bthome/published/volume-0x48",
	  "40 48 dc 87",
	  1,
	  { { "volume", 34780, "mL" } } },
	{ "/bthome/published/volume-flow-rate-0x49",
	  "40 49 dc 87",
	  1,
	  { { "volume_flow_rate", 34.780, "m³/h" } } },
	{ "/bthome/published/voltage-0x4a",
	  "40 4a 02 0c",
	  1,
	  { { "voltage", 307.4, "V" } } },
	{ "/bthome/published/gas-0x4b",
	  "40 4b 13 8a 14",
	  1,
	  { { "gas", 1346.067, "m³" } } },
	{ "/bthome/published/gas-0x4c",
	  "40 4c 41 01 8a 01",
	  1,
	  { { "gas", 25821.505, "m³" } } },
	{ "/bthome/published/energy-0x4d",
	  "40 4d 12 13 8a 14",
	  1,
	  { { "energy", 344593.170, "kWh" } } },
	{ "/bthome/published/volume-0x4e",
	  "40 4e 87 56 2a 01",
	  1,
	  { { "volume", 19551.879, "L" } } },
	{ "/bthome/published/water-0x4f",
	  "40 4f 87 56 2a 01",
	  1,
	  { { "water", 19551.879, "L" } } },
	{ "/bthome/published/timestamp-0x50",
	  "40 50 5d 39 61 64",
	  1,
	  { { "timestamp", 1684093277, NULL } } },
	{ "/bthome/published/acceleration-0x51",
	  "40 51 87 56",
	  1,
	  { { "acceleration", 22.151, "m/s²" } } },
	{ "/bthome/published/gyroscope-0x52",
	  "40 52 87 56",
	  1,
	  { { "gyroscope", 22.151, "°/s" } } },
	{ "/bthome/published/volume-storage-0x55",
	  "40 55 87 56 2a 01",
	  1,
	  { { "volume_storage", 19551.879, "L" } } },
	{ "/bthome/published/conductivity-0x56",
	  "40 56 e8 03",
	  1,
	  { { "conductivity", 1000, "µS/cm" } } },
	{ "/bthome/published/temperature-0x57",
	  "40 57 ea",
	  1,
	  { { "temperature", -22, "°C" } } },
	{ "/bthome/published/temperature-0x58",
	  "40 58 ea",
	  1,
	  { { "temperature", -7.7, "°C" } } },
	{ "/bthome/published/count-0x59",
	  "40 59 ea",
	  1,
	  { { "count", -22, NULL } } },
	{ "/bthome/published/count-0x5a",
	  "40 5a ea ea",
	  1,
	  { { "count", -5398, NULL } } },
	{ "/bthome/published/count-0x5b",
	  "40 5b ea 02 34 ea",
	  1,
	  { { "count", -365690134, NULL } } },
	{ "/bthome/published/power-0x5c",
	  "40 5c 02 fb ff ff",
	  1,
	  { { "power", -12.78, "W" } } },
	{ "/bthome/published/current-0x5d",
	  "40 5d 02 ea",
	  1,
	  { { "current", -5.63, "A" } } },
	{ "/bthome/published/direction-0x5e",
	  "40 5e 9f 8c",
	  1,
	  { { "direction", 359.99, "°" } } },
	{ "/bthome/published/precipitation-0x5f",
	  "40 5f a0 0f",
	  1,
	  { { "precipitation", 400.0, "mm" } } },
	{ "/bthome/published/channel-0x60",
	  "40 60 01",
	  1,
	  { { "channel", 1, NULL } } },
	{ "/bthome/published/rotational-speed-0x61",
	  "40 61 ac 0d",
	  1,
	  { { "rotational_speed", 3500, "rpm" } } },
	{ "/bthome/published/speed-0x62",
	  "40 62 40 99 df ff",
	  1,
	  { { "speed", -2.123456, "m/s" } } },
	{ "/bthome/published/acceleration-0x63",
	  "40 63 00 57 d0 ff",
	  1,
	  { { "acceleration", -3.123456, "m/s²" } } },
	{ "/bthome/published/light-level-0x64",
	  "40 64 02",
	  1,
	  { { "light_level", 2, NULL } } },
	{ "/bthome/published/settings-revision-0x65",
	  "40 65 03",
	  1,
	  { { "settings_revision", 3, NULL } } },
};

static const struct frame_vector valid[] = {
	/* bthome.io's example frame, and the same with the 25.06 °C value */
	{ "/bthome/published/temp-humidity",
	  "40 02 ca 09 03 bf 13",
	  2,
	  { { "temperature", 25.06, "°C" }, { "humidity", 50.55, "%" } } },
	{ "/bthome/published/format-page-example",
	  "40 02 c4 09 03 bf 13",
	  2,
	  { { "temperature", 25.00, "°C" }, { "humidity", 50.55, "%" } } },
	{ "/bthome/published/packet-id",
	  "40 00 09",
	  1,
	  { { "packet_id", 9 } } },

	/* Events, bthome.io/format "Events" examples */
	{ "/bthome/event/button-none",
	  "40 3a 00",
	  1,
	  { { "button", 0, NULL, "none" } } },
	{ "/bthome/event/button-press",
	  "40 3a 01",
	  1,
	  { { "button", 1, NULL, "press" } } },
	{ "/bthome/event/button-double-press",
	  "40 3a 02",
	  1,
	  { { "button", 2, NULL, "double_press" } } },
	{ "/bthome/event/button-triple-press",
	  "40 3a 03",
	  1,
	  { { "button", 3, NULL, "triple_press" } } },
	{ "/bthome/event/button-long-press",
	  "40 3a 04",
	  1,
	  { { "button", 4, NULL, "long_press" } } },
	{ "/bthome/event/button-long-double-press",
	  "40 3a 05",
	  1,
	  { { "button", 5, NULL, "long_double_press" } } },
	{ "/bthome/event/button-long-triple-press",
	  "40 3a 06",
	  1,
	  { { "button", 6, NULL, "long_triple_press" } } },
	{ "/bthome/event/button-hold-press",
	  "40 3a 80",
	  1,
	  { { "button", 0x80, NULL, "hold_press" } } },
	{ "/bthome/event/button-unknown",
	  "40 3a 07",
	  1,
	  { { "button", 7, NULL, "unknown" } } },
	/* "3A003A01": no event for the first button, press for the second */
	{ "/bthome/event/two-buttons",
	  "40 3a 00 3a 01",
	  2,
	  { { "button", 0, NULL, "none" }, { "button", 1, NULL, "press" } } },
	{ "/bthome/event/dimmer-none",
	  "40 3c 00 00",
	  1,
	  { { "dimmer", 0, NULL, "none" } } },
	{ "/bthome/event/dimmer-rotate-left-3",
	  "40 3c 01 03",
	  1,
	  { { "dimmer", 1, NULL, "rotate_left", NULL, 3 } } },
	{ "/bthome/event/dimmer-rotate-right-10",
	  "40 3c 02 0a",
	  1,
	  { { "dimmer", 2, NULL, "rotate_right", NULL, 10 } } },
	{ "/bthome/event/dimmer-unknown",
	  "40 3c 03 01",
	  1,
	  { { "dimmer", 3, NULL, "unknown", NULL, 1 } } },
	{ "/bthome/event/command-off",
	  "40 3b 00 00",
	  1,
	  { { "command", 0, NULL, "off", "" } } },
	{ "/bthome/event/command-on",
	  "40 3b 00 01",
	  1,
	  { { "command", 1, NULL, "on", "" } } },
	{ "/bthome/event/command-toggle",
	  "40 3b 00 02",
	  1,
	  { { "command", 2, NULL, "toggle", "" } } },
	{ "/bthome/event/command-step-up-5",
	  "40 3b 01 03 05",
	  1,
	  { { "command", 3, NULL, "step_up", "05" } } },
	{ "/bthome/event/command-step-down-5",
	  "40 3b 01 04 05",
	  1,
	  { { "command", 4, NULL, "step_down", "05" } } },
	{ "/bthome/event/command-unknown-opcode",
	  "40 3b 02 09 aa bb",
	  1,
	  { { "command", 9, NULL, "unknown", "aa bb" } } },
	/* Length byte bits 5-7 are reserved: ignored, the length is 1. */
	{ "/bthome/event/command-reserved-bits",
	  "40 3b e1 03 05 01 61",
	  2,
	  { { "command", 3, NULL, "step_up", "05" }, { "battery", 97, "%" } },
	  false,
	  true },

	/* Device information objects, bthome.io/format "Device" */
	{ "/bthome/published/device-type-id-0xf0",
	  "40 f0 01 00",
	  1,
	  { { "device_type_id", 1 } } },
	/* 4.2.1.0, bytes as sent: build 0, patch 1, minor 2, major 4 */
	{ "/bthome/published/firmware-version-0xf1",
	  "40 f1 00 01 02 04",
	  1,
	  { { "firmware_version", 0x04020100 } } },
	/* 6.1.0 */
	{ "/bthome/published/firmware-version-0xf2",
	  "40 f2 00 01 06",
	  1,
	  { { "firmware_version", 0x060100 } } },

	/* Text and raw: "530C48656C6C6F20576F726C6421" = "Hello World!" */
	{ "/bthome/text/hello-world",
	  "44 53 0c 48 65 6c 6c 6f 20 57 6f 72 6c 64 21",
	  1,
	  { { "text", 12, NULL, NULL, "48 65 6c 6c 6f 20 57 6f 72 6c 64 21" } },
	  true },
	{ "/bthome/raw/hello-world",
	  "44 54 0c 48 65 6c 6c 6f 20 57 6f 72 6c 64 21",
	  1,
	  { { "raw", 12, NULL, NULL, "48 65 6c 6c 6f 20 57 6f 72 6c 64 21" } },
	  true },
	{ "/bthome/text/empty",
	  "40 53 00",
	  1,
	  { { "text", 0, NULL, NULL, "" } } },
	{ "/bthome/raw/empty-then-more",
	  "40 54 00 65 01",
	  2,
	  { { "raw", 0, NULL, NULL, "" }, { "settings_revision", 1 } } },
	/* bthome-ble drops invalid UTF-8; we pass it on, the caller checks. */
	{ "/bthome/text/invalid-utf8-passed-on",
	  "44 53 01 87",
	  1,
	  { { "text", 1, NULL, NULL, "87" } },
	  true },

	/* Signed values: pulled unsigned, then sign-extended. */
	{ "/bthome/signed/temperature-minus-10",
	  "40 02 18 fc",
	  1,
	  { { "temperature", -10.00, "°C" } } },
	{ "/bthome/signed/temperature-minus-0.01",
	  "40 02 ff ff",
	  1,
	  { { "temperature", -0.01, "°C" } } },
	{ "/bthome/signed/temperature-min",
	  "40 02 00 80",
	  1,
	  { { "temperature", -327.68, "°C" } } },
	{ "/bthome/signed/temperature-max",
	  "40 02 ff 7f",
	  1,
	  { { "temperature", 327.67, "°C" } } },
	{ "/bthome/signed/s8-min",
	  "40 57 80",
	  1,
	  { { "temperature", -128, "°C" } } },
	{ "/bthome/signed/s32-min",
	  "40 5b 00 00 00 80",
	  1,
	  { { "count", -2147483648.0 } } },
	{ "/bthome/signed/s32-minus-1",
	  "40 5b ff ff ff ff",
	  1,
	  { { "count", -1 } } },
	{ "/bthome/unsigned/u32-max",
	  "40 3e ff ff ff ff",
	  1,
	  { { "count", 4294967295.0 } } },
	{ "/bthome/unsigned/u24-max",
	  "40 05 ff ff ff",
	  1,
	  { { "illuminance", 167772.15, "lx" } } },
	/* bthome.io and bthome-ble: uint16 (BTHome-Kaitai-Struct: s16) */
	{ "/bthome/unsigned/distance-0x41-high-bit",
	  "40 41 ff ff",
	  1,
	  { { "distance", 6553.5, "m" } } },
	{ "/bthome/unsigned/u16-max",
	  "40 03 ff ff",
	  1,
	  { { "humidity", 655.35, "%" } } },

	/* Frames from the reference parser's tests (bthome-ble) */
	{ "/bthome/reference/packet-id-temp-humidity-battery",
	  "40 00 09 01 5d 02 5d 09 03 b7 18",
	  4,
	  { { "packet_id", 9 },
	    { "battery", 93, "%" },
	    { "temperature", 23.97, "°C" },
	    { "humidity", 63.27, "%" } } },
	{ "/bthome/reference/shelly-button",
	  "40 00 52 01 64 3a 01",
	  3,
	  { { "packet_id", 82 },
	    { "battery", 100, "%" },
	    { "button", 1, NULL, "press" } } },
	/* Shelly BLU Button1: trigger-based (0x44) */
	{ "/bthome/reference/trigger-based-button",
	  "44 00 21 01 5e 3a 01",
	  3,
	  { { "packet_id", 33 },
	    { "battery", 94, "%" },
	    { "button", 1, NULL, "press" } },
	  true },
	{ "/bthome/reference/double-temperature",
	  "40 02 ca 09 02 cf 09",
	  2,
	  { { "temperature", 25.06, "°C" }, { "temperature", 25.11, "°C" } } },
	/* Device information bit 1: the MAC follows, reversed. */
	{ "/bthome/reference/with-mac",
	  "42 b2 18 8d 38 c1 a4 04 13 8a 01",
	  1,
	  { { "pressure", 1008.83, "hPa" } },
	  false,
	  false,
	  "A4:C1:38:8D:18:B2" },

	/* Device information */
	{ "/bthome/info/no-objects", "40", 0 },
	{ "/bthome/info/trigger-no-objects", "44", 0, {}, true },
	/* Bits 3-4 are reserved: ignored. */
	{ "/bthome/info/reserved-bits-ignored",
	  "58 01 61",
	  1,
	  { { "battery", 97, "%" } } },

	/*
	 * Ids must be sent in ascending order (bthome.io), but bthome-ble only
	 * warns and decodes them anyway: so do we, and say so.
	 */
	{ "/bthome/order/descending-accepted",
	  "40 03 bf 13 02 ca 09",
	  2,
	  { { "humidity", 50.55, "%" }, { "temperature", 25.06, "°C" } },
	  false,
	  true },
	{ "/bthome/order/equal-ids-in-order",
	  "40 02 ca 09 02 cf 09 03 bf 13",
	  3,
	  { { "temperature", 25.06, "°C" },
	    { "temperature", 25.11, "°C" },
	    { "humidity", 50.55, "%" } } },

	/*
	 * An unknown id ends decoding; what came before is kept. bthome-ble's
	 * "battery_wrong_object_id_humidity": only the battery is returned.
	 */
	{ "/bthome/unknown/after-objects",
	  "40 01 5d fe 5d 09 03 b7 18",
	  1,
	  { { "battery", 93, "%" } },
	  false,
	  false,
	  NULL,
	  true,
	  3,
	  0xfe },
	{ "/bthome/unknown/first",
	  "40 30 00",
	  0,
	  {},
	  false,
	  false,
	  NULL,
	  true,
	  1,
	  0x30 },
	{ "/bthome/unknown/last-byte",
	  "40 01 61 39",
	  1,
	  { { "battery", 97, "%" } },
	  false,
	  false,
	  NULL,
	  true,
	  3,
	  0x39 },
	{ "/bthome/unknown/after-mac",
	  "42 b2 18 8d 38 c1 a4 ef 01",
	  0,
	  {},
	  false,
	  false,
	  "A4:C1:38:8D:18:B2",
	  true,
	  7,
	  0xef },
	/* Even a truncated known object after it is never looked at. */
	{ "/bthome/unknown/then-truncated",
	  "40 02 ca 09 66 03 bf",
	  1,
	  { { "temperature", 25.06, "°C" } },
	  false,
	  false,
	  NULL,
	  true,
	  4,
	  0x66 },
};

static void format_mac(const uint8_t mac[6], char buf[18])
{
	g_snprintf(buf, 18, "%02X:%02X:%02X:%02X:%02X:%02X", mac[0], mac[1],
		   mac[2], mac[3], mac[4], mac[5]);
}

static void check_object(const struct bthome_object *o,
			 const struct expect_object *e, const uint8_t *buf,
			 size_t len)
{
	g_assert_nonnull(o->type);
	g_assert_cmpstr(o->type->name, ==, e->name);
	g_assert_cmpfloat_with_epsilon(bthome_object_value(o), e->value, 1e-6);
	g_assert_cmpstr(o->type->unit, ==, e->unit);
	g_assert_cmpstr(bthome_event_name(o), ==, e->event);
	g_assert_cmpuint(o->steps, ==, e->steps);
	/* the object starts at its id byte */
	g_assert_cmpuint(o->offset, <, len);
	g_assert_cmpuint(buf[o->offset], ==, o->type->id);
	if (e->bytes) {
		uint8_t want[64];
		size_t n = test_hex(e->bytes, want, sizeof(want));

		g_assert_nonnull(o->bytes);
		g_assert_true(o->bytes >= buf &&
			      o->bytes + o->bytes_len <= buf + len);
		g_assert_cmpmem(o->bytes, o->bytes_len, want, (int)n);
	} else {
		g_assert_null(o->bytes);
		g_assert_cmpuint(o->bytes_len, ==, 0);
	}
}

static void test_valid(gconstpointer data)
{
	const struct frame_vector *v = data;
	struct bthome_frame *f = g_new(struct bthome_frame, 1);
	struct parse_error err = { .fault = PARSE_FAULT_TOO_MANY };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));

	memset(f, 0xa5, sizeof(*f));
	g_assert_cmpint(bthome_parse(buf, len, f, &err), ==, 0);
	/* A success, even a stopped one, leaves ret_err alone. */
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_TOO_MANY);

	g_assert_cmpuint(f->version, ==, 2);
	g_assert_false(f->encrypted);
	g_assert_cmpint(f->trigger_based, ==, v->trigger_based);
	g_assert_cmpint(f->out_of_order, ==, v->out_of_order);
	g_assert_cmpint(f->has_mac, ==, v->mac != NULL);
	if (v->mac) {
		char mac[18];

		format_mac(f->mac, mac);
		g_assert_cmpstr(mac, ==, v->mac);
	}
	g_assert_cmpuint(f->object_count, ==, v->count);
	for (unsigned i = 0; i < v->count; i++)
		check_object(&f->objects[i], &v->objects[i], buf, len);

	g_assert_cmpint(f->stopped, ==, v->stopped);
	if (v->stopped) {
		char msg[128];

		g_assert_cmpint(f->stop.fault, ==, PARSE_FAULT_RESERVED);
		g_assert_cmpstr(f->stop.field, ==, "object id");
		g_assert_cmpuint(f->stop.offset, ==, v->stop_offset);
		g_assert_cmpuint(f->stop.value, ==, v->stop_id);
		g_assert_cmpstr(f->stop.expected, ==, "a BTHome v2 object id");
		g_assert_null(bthome_object_type_find(v->stop_id));
		g_assert_cmpint(parse_error_format(&f->stop, msg, sizeof(msg)),
				>, 0);
	}
	g_free(f);
}

struct bad_vector {
	const char *name;
	const char *hex;
	int error;
	enum parse_fault fault;
	const char *field;
	size_t offset;
	size_t need, left; /* TRUNCATED */
	uint32_t value;	   /* RESERVED, ENCRYPTED */
};

/* The negative taxonomy: empty, wrong version, encrypted, truncated. */
static const struct bad_vector invalid[] = {
	{ "/bthome/bad/empty", "", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "device information", 0, 1, 0 },

	/* bits 5-7 must be 2; bthome-ble rejects every other version */
	{ "/bthome/bad/version-0", "00 01 61", -ENOTSUP, PARSE_FAULT_RESERVED,
	  "device information", 0, 0, 0, 0 },
	{ "/bthome/bad/version-1", "20 01 61", -ENOTSUP, PARSE_FAULT_RESERVED,
	  "device information", 0, 0, 0, 1 },
	{ "/bthome/bad/version-3", "60 01 61", -ENOTSUP, PARSE_FAULT_RESERVED,
	  "device information", 0, 0, 0, 3 },
	{ "/bthome/bad/version-7", "e0", -ENOTSUP, PARSE_FAULT_RESERVED,
	  "device information", 0, 0, 0, 7 },
	/* The version is checked first: bit 0 means nothing in another one. */
	{ "/bthome/bad/version-1-encrypted", "21 01 61", -ENOTSUP,
	  PARSE_FAULT_RESERVED, "device information", 0, 0, 0, 1 },

	/*
	 * bthome-ble's v2 encryption vector (temperature 25.06, humidity
	 * 50.55 under key 231d39c1d7cc1ab1aee224cd096db932), and the same
	 * with the MAC included.
	 */
	{ "/bthome/bad/encrypted",
	  "41 a4 72 66 c9 5f 73 00 11 22 33 78 23 72 14", -ENOKEY,
	  PARSE_FAULT_ENCRYPTED, "objects", 1, 0, 0, 0x41 },
	{ "/bthome/bad/encrypted-with-mac",
	  "43 a5 80 8f e6 48 54 f1 96 c0 6f fb 49 00 11 22 33 f0 8e cb de",
	  -ENOKEY, PARSE_FAULT_ENCRYPTED, "objects", 7, 0, 0, 0x43 },
	{ "/bthome/bad/encrypted-empty", "41", -ENOKEY, PARSE_FAULT_ENCRYPTED,
	  "objects", 1, 0, 0, 0x41 },

	{ "/bthome/bad/mac-truncated", "42 b2 18", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "mac address", 1, 6, 2 },

	/* Truncated inside each kind of object */
	{ "/bthome/bad/u8-missing", "40 01", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "battery", 2, 1, 0 },
	{ "/bthome/bad/s16-half", "40 02 ca", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "temperature", 2, 2, 1 },
	{ "/bthome/bad/u24-short", "40 05 13 8a", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "illuminance", 2, 3, 2 },
	{ "/bthome/bad/u32-short", "40 3e 2a 2c 09", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "count", 2, 4, 3 },
	{ "/bthome/bad/s32-short", "40 5c 02", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "power", 2, 4, 1 },
	{ "/bthome/bad/second-object-short", "40 02 ca 09 03 bf", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "humidity", 5, 2, 1 },
	{ "/bthome/bad/binary-missing", "40 21", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "motion", 2, 1, 0 },
	{ "/bthome/bad/button-missing", "40 00 01 3a", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "button", 4, 1, 0 },
	{ "/bthome/bad/dimmer-no-steps", "40 3c 01", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "dimmer", 2, 2, 1 },
	{ "/bthome/bad/text-no-length", "40 53", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "text length", 2, 1, 0 },
	{ "/bthome/bad/text-short", "40 53 0c 48 65", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "text", 3, 12, 2 },
	{ "/bthome/bad/raw-no-length", "40 54", -EBADMSG, PARSE_FAULT_TRUNCATED,
	  "raw length", 2, 1, 0 },
	{ "/bthome/bad/raw-short", "40 54 02 aa", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "raw", 3, 2, 1 },
	{ "/bthome/bad/command-no-length", "40 3b", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "command length", 2, 1, 0 },
	{ "/bthome/bad/command-no-opcode", "40 3b 01", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "command", 3, 1, 0 },
	{ "/bthome/bad/command-short-arguments", "40 3b 02 03 05", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "command arguments", 4, 2, 1 },
	{ "/bthome/bad/firmware-version-short", "40 f1 00 01", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "firmware_version", 2, 4, 2 },
	{ "/bthome/bad/after-mac-short", "42 b2 18 8d 38 c1 a4 04 13", -EBADMSG,
	  PARSE_FAULT_TRUNCATED, "pressure", 8, 3, 1 },
};

static void test_invalid(gconstpointer data)
{
	const struct bad_vector *v = data;
	struct bthome_frame *f = g_new(struct bthome_frame, 1);
	struct bthome_frame *untouched = g_new(struct bthome_frame, 1);
	struct parse_error err = { 0 };
	uint8_t buf[64];
	size_t len = test_hex(v->hex, buf, sizeof(buf));
	char msg[160];

	memset(f, 0xa5, sizeof(*f));
	*untouched = *f;
	g_assert_cmpint(bthome_parse(buf, len, f, &err), ==, v->error);
	g_assert_true(memcmp(f, untouched, sizeof(*f)) == 0);
	g_assert_cmpint(err.fault, ==, v->fault);
	g_assert_cmpstr(err.field, ==, v->field);
	g_assert_cmpuint(err.offset, ==, v->offset);
	switch (v->fault) {
	case PARSE_FAULT_TRUNCATED:
		g_assert_cmpuint(err.need, ==, v->need);
		g_assert_cmpuint(err.left, ==, v->left);
		break;
	case PARSE_FAULT_RESERVED:
		g_assert_cmpstr(err.expected, ==, "BTHome version 2");
		g_assert_cmpuint(err.value, ==, v->value);
		break;
	case PARSE_FAULT_ENCRYPTED:
		g_assert_cmpstr(err.expected, ==, "encrypted, key needed");
		g_assert_cmpuint(err.value, ==, v->value);
		break;
	case PARSE_FAULT_NONE:
	case PARSE_FAULT_OUT_OF_RANGE:
	case PARSE_FAULT_TOO_MANY:
	case PARSE_FAULT_MALFORMED:
	default:
		g_assert_not_reached();
	}
	g_assert_cmpint(parse_error_format(&err, msg, sizeof(msg)), >, 0);
	/* Without ret_err the result is the same. */
	g_assert_cmpint(bthome_parse(buf, len, f, NULL), ==, v->error);
	g_assert_true(memcmp(f, untouched, sizeof(*f)) == 0);
	g_free(untouched);
	g_free(f);
}

/* NULL with a length is an empty buffer, not a crash. */
static void test_null(void)
{
	struct bthome_frame *f = g_new0(struct bthome_frame, 1);
	struct parse_error err = { 0 };

	g_assert_cmpint(bthome_parse(NULL, 7, f, &err), ==, -EBADMSG);
	g_assert_cmpstr(err.field, ==, "device information");
	g_free(f);
}

/*
 * 128 battery objects fit; a 129th is -E2BIG at its id byte; an unknown id
 * in that place is just the end.
 */
static void test_too_many(void)
{
	uint8_t buf[1 + (BTHOME_MAX_OBJECTS + 1) * 2] = { 0x40 };
	struct bthome_frame *f = g_new(struct bthome_frame, 1);
	struct bthome_frame *untouched = g_new(struct bthome_frame, 1);
	struct parse_error err = { 0 };
	size_t full = 1 + BTHOME_MAX_OBJECTS * 2;

	for (size_t i = 1; i < sizeof(buf); i += 2) {
		buf[i] = 0x01;
		buf[i + 1] = (uint8_t)(i / 2);
	}

	g_assert_cmpint(bthome_parse(buf, full, f, &err), ==, 0);
	g_assert_cmpuint(f->object_count, ==, BTHOME_MAX_OBJECTS);
	g_assert_false(f->stopped);
	g_assert_cmpfloat(bthome_object_value(&f->objects[127]), ==, 127);
	g_assert_cmpuint(f->objects[127].offset, ==, full - 2);

	memset(f, 0xa5, sizeof(*f));
	*untouched = *f;
	g_assert_cmpint(bthome_parse(buf, sizeof(buf), f, &err), ==, -E2BIG);
	g_assert_true(memcmp(f, untouched, sizeof(*f)) == 0);
	g_assert_cmpint(err.fault, ==, PARSE_FAULT_TOO_MANY);
	g_assert_cmpstr(err.field, ==, "objects");
	g_assert_cmpuint(err.offset, ==, full);
	g_assert_cmpstr(err.expected, ==, "128");

	buf[full] = 0xfe;
	g_assert_cmpint(bthome_parse(buf, sizeof(buf), f, &err), ==, 0);
	g_assert_cmpuint(f->object_count, ==, BTHOME_MAX_OBJECTS);
	g_assert_true(f->stopped);
	g_assert_cmpuint(f->stop.offset, ==, full);
	g_free(untouched);
	g_free(f);
}

struct spec_id {
	uint8_t id;
	uint8_t size; /* 0: length-prefixed */
	bool is_signed;
};

/*
 * Every object id bthome.io/format lists, with its value size and whether
 * its data type is "sint", so that an id missing from the table (or one too
 * many, or a wrong size or sign) shows up here.
 */
static const struct spec_id spec_ids[] = {
	{ 0x00, 1 },	   { 0x01, 1 },	      { 0x02, 2, true },
	{ 0x03, 2 },	   { 0x04, 3 },	      { 0x05, 3 },
	{ 0x06, 2 },	   { 0x07, 2 },	      { 0x08, 2, true },
	{ 0x09, 1 },	   { 0x0A, 3 },	      { 0x0B, 3 },
	{ 0x0C, 2 },	   { 0x0D, 2 },	      { 0x0E, 2 },
	{ 0x0F, 1 },	   { 0x10, 1 },	      { 0x11, 1 },
	{ 0x12, 2 },	   { 0x13, 2 },	      { 0x14, 2 },
	{ 0x15, 1 },	   { 0x16, 1 },	      { 0x17, 1 },
	{ 0x18, 1 },	   { 0x19, 1 },	      { 0x1A, 1 },
	{ 0x1B, 1 },	   { 0x1C, 1 },	      { 0x1D, 1 },
	{ 0x1E, 1 },	   { 0x1F, 1 },	      { 0x20, 1 },
	{ 0x21, 1 },	   { 0x22, 1 },	      { 0x23, 1 },
	{ 0x24, 1 },	   { 0x25, 1 },	      { 0x26, 1 },
	{ 0x27, 1 },	   { 0x28, 1 },	      { 0x29, 1 },
	{ 0x2A, 1 },	   { 0x2B, 1 },	      { 0x2C, 1 },
	{ 0x2D, 1 },	   { 0x2E, 1 },	      { 0x2F, 1 },
	{ 0x3A, 1 },	   { 0x3B, 0 },	      { 0x3C, 2 },
	{ 0x3D, 2 },	   { 0x3E, 4 },	      { 0x3F, 2, true },
	{ 0x40, 2 },	   { 0x41, 2 },	      { 0x42, 3 },
	{ 0x43, 2 },	   { 0x44, 2 },	      { 0x45, 2, true },
	{ 0x46, 1 },	   { 0x47, 2 },	      { 0x48, 2 },
	{ 0x49, 2 },	   { 0x4A, 2 },	      { 0x4B, 3 },
	{ 0x4C, 4 },	   { 0x4D, 4 },	      { 0x4E, 4 },
	{ 0x4F, 4 },	   { 0x50, 4 },	      { 0x51, 2 },
	{ 0x52, 2 },	   { 0x53, 0 },	      { 0x54, 0 },
	{ 0x55, 4 },	   { 0x56, 2 },	      { 0x57, 1, true },
	{ 0x58, 1, true }, { 0x59, 1, true }, { 0x5A, 2, true },
	{ 0x5B, 4, true }, { 0x5C, 4, true }, { 0x5D, 2, true },
	{ 0x5E, 2 },	   { 0x5F, 2 },	      { 0x60, 1 },
	{ 0x61, 2 },	   { 0x62, 4, true }, { 0x63, 4, true },
	{ 0x64, 1 },	   { 0x65, 1 },	      { 0xF0, 2 },
	{ 0xF1, 4 },	   { 0xF2, 3 },
};

static void test_table(void)
{
	unsigned known = 0;

	for (unsigned id = 0; id <= 0xff; id++) {
		const struct bthome_object_type *t =
		    bthome_object_type_find((uint8_t)id);
		const struct spec_id *s = NULL;

		for (size_t i = 0; i < G_N_ELEMENTS(spec_ids); i++)
			if (spec_ids[i].id == id)
				s = &spec_ids[i];
		if (!s) {
			g_assert_null(t);
			continue;
		}
		known++;
		g_assert_nonnull(t);
		g_assert_cmpuint(t->id, ==, id);
		g_assert_cmpuint(t->size, ==, s->size);
		g_assert_cmpint(t->is_signed, ==, s->is_signed);
		g_assert_nonnull(t->name);
		g_assert_true(t->factor > 0);
		/* only numbers carry units and factors */
		if (t->kind != BTHOME_KIND_NUMBER) {
			g_assert_null(t->unit);
			g_assert_cmpfloat(t->factor, ==, 1);
		}
		/* sizes the cursor can read, and 0 only when length-prefixed */
		if (t->size == 0)
			g_assert_true(t->kind == BTHOME_KIND_TEXT ||
				      t->kind == BTHOME_KIND_RAW || id == 0x3B);
		else
			g_assert_cmpuint(t->size, <=, 4);
	}
	g_assert_cmpuint(known, ==, G_N_ELEMENTS(spec_ids));
}

struct gateway_name {
	uint8_t id;
	const char *name;
	enum bthome_kind kind;
	const char *unit;
};

/* The names and units the gateway matches on, exactly. */
static const struct gateway_name gateway_names[] = {
	{ 0x00, "packet_id", BTHOME_KIND_NUMBER, NULL },
	{ 0x01, "battery", BTHOME_KIND_NUMBER, "%" },
	{ 0x02, "temperature", BTHOME_KIND_NUMBER, "°C" },
	{ 0x03, "humidity", BTHOME_KIND_NUMBER, "%" },
	{ 0x05, "illuminance", BTHOME_KIND_NUMBER, "lx" },
	{ 0x06, "mass", BTHOME_KIND_NUMBER, "kg" },
	{ 0x07, "mass", BTHOME_KIND_NUMBER, "lb" },
	{ 0x12, "co2", BTHOME_KIND_NUMBER, "ppm" },
	{ 0x21, "motion", BTHOME_KIND_BINARY, NULL },
	{ 0x22, "moving", BTHOME_KIND_BINARY, NULL },
	{ 0x23, "occupancy", BTHOME_KIND_BINARY, NULL },
	{ 0x25, "presence", BTHOME_KIND_BINARY, NULL },
	{ 0x2E, "humidity", BTHOME_KIND_NUMBER, "%" },
	{ 0x3A, "button", BTHOME_KIND_EVENT, NULL },
	{ 0x45, "temperature", BTHOME_KIND_NUMBER, "°C" },
	{ 0x53, "text", BTHOME_KIND_TEXT, NULL },
	{ 0x54, "raw", BTHOME_KIND_RAW, NULL },
	{ 0x57, "temperature", BTHOME_KIND_NUMBER, "°C" },
	{ 0x58, "temperature", BTHOME_KIND_NUMBER, "°C" },
};

static void test_gateway_names(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(gateway_names); i++) {
		const struct gateway_name *g = &gateway_names[i];
		const struct bthome_object_type *t =
		    bthome_object_type_find(g->id);

		g_assert_nonnull(t);
		g_assert_cmpstr(t->name, ==, g->name);
		g_assert_cmpint(t->kind, ==, g->kind);
		g_assert_cmpstr(t->unit, ==, g->unit);
	}
	/* "battery" is the level; the low-battery flag has its own name. */
	g_assert_cmpstr(bthome_object_type_find(0x15)->name, ==, "battery_low");
}

static void test_error_messages(void)
{
	struct bthome_frame *f = g_new(struct bthome_frame, 1);
	struct parse_error err = { 0 };
	const uint8_t encrypted[] = { 0x41, 0x87, 0xb9, 0x00, 0x11, 0x22,
				      0x33, 0x72, 0xb0, 0x23, 0x1f };
	const uint8_t v1[] = { 0x20 };
	char msg[160];

	g_assert_cmpint(bthome_parse(encrypted, sizeof(encrypted), f, &err), ==,
			-ENOKEY);
	parse_error_format(&err, msg, sizeof(msg));
	g_assert_cmpstr(msg, ==,
			"objects encrypted from offset 1 on (key needed)");

	g_assert_cmpint(bthome_parse(v1, sizeof(v1), f, &err), ==, -ENOTSUP);
	parse_error_format(&err, msg, sizeof(msg));
	g_assert_cmpstr(msg, ==,
			"device information 0x01 at offset 0 is reserved or "
			"unsupported (expected BTHome version 2)");
	g_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(published); i++)
		g_test_add_data_func(published[i].name, &published[i],
				     test_valid);
	for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
		g_test_add_data_func(valid[i].name, &valid[i], test_valid);
	for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
		g_test_add_data_func(invalid[i].name, &invalid[i],
				     test_invalid);
	g_test_add_func("/bthome/bad/null", test_null);
	g_test_add_func("/bthome/too-many", test_too_many);
	g_test_add_func("/bthome/table/every-spec-id", test_table);
	g_test_add_func("/bthome/table/gateway-names", test_gateway_names);
	g_test_add_func("/bthome/error-messages", test_error_messages);
	return g_test_run();
}
