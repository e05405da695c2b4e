// SPDX-License-Identifier: MIT
/*
 * What a remote antenna publishes (gateway/core/antenna.h): read or refused
 * with a one-line reason, never a crash. Every advertisement read has an
 * address, its views lie inside the message's own bytes, and it goes
 * through the dispatcher as the daemon sends it. The same bytes, as a
 * string, go through the base64 reader and the topic filter checks.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "gateway/core/antenna.h"
#include "mqtt/topic.h"
#include "sensors/advert-decode.h"
#include "sensors/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const struct antenna_message *m, const void *p, size_t len)
{
	const uint8_t *b = p;

	return len == 0 ||
	       (b >= m->bytes && b + len <= m->bytes + sizeof(m->bytes));
}

static void check_message(const uint8_t *data, size_t size)
{
	static struct antenna_message m;
	struct advert_decoded dec;
	struct parse_error err = { 0 };
	char *reason = NULL;
	int r = antenna_parse(data, size, &m, &reason);

	if (r != 0) {
		assert(r == -E2BIG || r == -EBADMSG || r == -EINVAL ||
		       r == -ENOTSUP || r == -ENOMSG);
		assert(reason && *reason && !strchr(reason, '\n'));
		assert(g_utf8_validate(reason, -1, NULL));
		assert(strlen(reason) < 600);
		g_free(reason);
		return;
	}
	assert(!reason);
	assert(m.count <= ANTENNA_ADVERTS_MAX && m.used <= sizeof(m.bytes));
	for (size_t i = 0; i < m.count; i++) {
		const struct advert *a = &m.adverts[i];
		char address[18];

		assert(a->has_address);
		advert_address_text(a, address);
		assert(strlen(address) == 17);
		assert(inside(&m, a->name, a->name_len));
		for (unsigned k = 0; k < a->service_data_count; k++)
			assert(inside(&m, a->service_data[k].data,
				      a->service_data[k].len));
		for (unsigned k = 0; k < a->manufacturer_count; k++)
			assert(inside(&m, a->manufacturer[k].data,
				      a->manufacturer[k].len));
		(void)advert_decode(a, NULL, &dec, &err);
	}
}

static void check_text(const char *text)
{
	uint8_t buf[64];
	size_t len = 0, bad = 0;
	int r = base64_decode(text, strlen(text), buf, sizeof(buf), &len, &bad);

	if (r == 0)
		assert(len <= sizeof(buf) && len <= strlen(text) * 3 / 4 + 2);
	else if (r == -EINVAL)
		assert(bad < strlen(text) || strlen(text) == 0);
	else
		assert(r == -E2BIG);
	if (mqtt_topic_filter_valid(text) && !strchr(text, '+') &&
	    !strchr(text, '#'))
		assert(mqtt_topic_matches(text, text));
	if (mqtt_topic_filter_valid(text))
		(void)mqtt_topic_matches(text, "home/OpenMQTTGateway/x");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A topic or field is a C string: up to the first NUL. */
	g_autofree char *text = g_strndup((const char *)data, size);

	check_message(data, size);
	check_text(text);
	return 0;
}
