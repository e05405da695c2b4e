// SPDX-License-Identifier: MIT
/*
 * What the broker hands us: a check-in payload and a topic. Parsed or
 * refused with a reason, never a crash; a parsed check-in always holds
 * whole numbers 1-5, a refused one leaves the output alone. The same bytes
 * go through the topic parser and the birth and stale-config checks.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "mqtt/discovery.h"
#include "mqtt/inbound.h"
#include "mqtt/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_level(double level)
{
	assert(isnan(level) ||
	       (level >= 1 && level <= 5 && level == floor(level)));
}

static void check_checkin(const uint8_t *data, size_t size)
{
	struct mqtt_checkin c = { -1, -1, -1 };
	char *reason = NULL;
	int r = mqtt_inbound_parse_checkin(data, size, &c, &reason);

	if (r == 0) {
		assert(!reason);
		check_level(c.mood);
		check_level(c.soreness);
		check_level(c.energy);
		assert(!isnan(c.mood) || !isnan(c.soreness) ||
		       !isnan(c.energy));
		assert(size <= MQTT_INBOUND_CHECKIN_MAX);
	} else {
		assert(r == -E2BIG || r == -EBADMSG || r == -EINVAL ||
		       r == -ENODATA);
		assert(reason && *reason && !strchr(reason, '\n'));
		/* Whatever was sent, the reason quotes at most 64 bytes of
		 * it (or json-glib's 80 characters of its parse error). */
		assert(strlen(reason) < 400);
		assert(g_utf8_validate(reason, -1, NULL));
		assert(c.mood == -1 && c.soreness == -1 && c.energy == -1);
	}
	g_free(reason);
}

static void check_topic(const char *topic)
{
	static const struct mqtt_discovery_gateway gateway = {
		.base = "recovery",
	};
	char user[MQTT_TOPIC_USER_MAX + 1] = "";

	if (mqtt_topic_parse_checkin("recovery", topic, user, sizeof(user))) {
		g_autofree char *again =
		    mqtt_topic_checkin_set("recovery", user);

		assert(mqtt_topic_user_valid(user));
		assert(again && strcmp(again, topic) == 0);
	}
	if (mqtt_topic_base_valid(topic)) {
		g_autofree char *status = mqtt_topic_status(topic);

		assert(status && mqtt_topic_name_valid(status));
	}
	if (mqtt_discovery_topic_is_ours(&gateway, topic))
		assert(g_str_has_prefix(topic, "homeassistant/") &&
		       g_str_has_suffix(topic, "/config"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A topic is a C string from libmosquitto: up to the first NUL. */
	g_autofree char *topic = g_strndup((const char *)data, size);

	check_checkin(data, size);
	(void)mqtt_inbound_is_ha_online(data, size);
	check_topic(topic);
	return 0;
}
