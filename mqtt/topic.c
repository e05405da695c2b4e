// SPDX-License-Identifier: MIT
#include "mqtt/topic.h"

#include <string.h>

#include <glib.h>

/* MQTT 3.1.1 §4.7.3 allows 65535 bytes; ours are short, and a bound keeps
 * every topic we build within a few hundred bytes. */
#define TOPIC_NAME_MAX 256

#define HA_PREFIX "homeassistant"

bool mqtt_topic_name_valid(const char *name)
{
	size_t len;
	const char *p;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > TOPIC_NAME_MAX)
		return false;
	if (!g_utf8_validate(name, (gssize)len, NULL))
		return false;
	/* '$' topics belong to the broker (MQTT 3.1.1 §4.7.2). */
	if (name[0] == '$' || name[0] == '/' || name[len - 1] == '/')
		return false;
	if (strstr(name, "//"))
		return false;
	for (p = name; *p; p++) {
		guchar c = (guchar)*p;

		/* Wildcards cannot be published to; control characters
		 * are legal but "SHOULD be avoided" (§1.5.3) and only ever
		 * mean a broken config: C0, DEL, and C1 (U+0080-U+009F,
		 * 0xC2 0x80-0x9F in valid UTF-8). */
		if (c == '+' || c == '#' || c < 0x20 || c == 0x7f)
			return false;
		if (c == 0xc2 && (guchar)p[1] >= 0x80 && (guchar)p[1] <= 0x9f)
			return false;
	}
	return true;
}

bool mqtt_topic_base_valid(const char *base)
{
	if (!mqtt_topic_name_valid(base) || strlen(base) > MQTT_TOPIC_BASE_MAX)
		return false;
	if (strcmp(base, HA_PREFIX) == 0 ||
	    g_str_has_prefix(base, HA_PREFIX "/"))
		return false;
	return true;
}

bool mqtt_topic_satellite_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > MQTT_TOPIC_USER_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '-' &&
		    name[i] != '_')
			return false;
	return true;
}

bool mqtt_topic_user_valid(const char *user)
{
	/* <base>/device/<addr> is the BLE devices' namespace,
	 * <base>/satellite/ the satellites'. */
	return mqtt_topic_satellite_name_valid(user) &&
	       strcmp(user, "device") != 0 && strcmp(user, "satellite") != 0;
}

char *mqtt_topic_satellite_base(const char *base, const char *name)
{
	g_autofree char *t = NULL;

	if (!mqtt_topic_base_valid(base) ||
	    !mqtt_topic_satellite_name_valid(name))
		return NULL;
	t = g_strconcat(base, "/satellite/", name, NULL);
	return mqtt_topic_base_valid(t) ? g_steal_pointer(&t) : NULL;
}

char *mqtt_topic_satellite_readings(const char *base, const char *name)
{
	g_autofree char *sat = mqtt_topic_satellite_base(base, name);

	return sat ? g_strconcat(sat, "/readings", NULL) : NULL;
}

char *mqtt_topic_satellite_filter(const char *base, const char *leaf)
{
	if (!mqtt_topic_base_valid(base) || !leaf || !*leaf ||
	    strpbrk(leaf, "/+#"))
		return NULL;
	return g_strconcat(base, "/satellite/+/", leaf, NULL);
}

bool mqtt_topic_parse_satellite(const char *base, const char *topic,
				char *ret_name, size_t size,
				const char **ret_leaf)
{
	size_t blen;
	const char *name, *slash;
	char buf[MQTT_TOPIC_USER_MAX + 1];

	if (!mqtt_topic_base_valid(base) || !topic)
		return false;
	blen = strlen(base);
	if (strncmp(topic, base, blen) != 0 ||
	    strncmp(topic + blen, "/satellite/", 11) != 0)
		return false;
	name = topic + blen + 11;
	slash = strchr(name, '/');
	if (!slash || (size_t)(slash - name) >= sizeof(buf) || !slash[1] ||
	    strchr(slash + 1, '/'))
		return false;
	memcpy(buf, name, (size_t)(slash - name));
	buf[slash - name] = '\0';
	if (!mqtt_topic_satellite_name_valid(buf) || strlen(buf) >= size)
		return false;
	memcpy(ret_name, buf, strlen(buf) + 1);
	*ret_leaf = slash + 1;
	return true;
}

bool mqtt_topic_address_slug(const char *address,
			     char ret_slug[MQTT_TOPIC_ADDRESS_SLUG])
{
	char slug[MQTT_TOPIC_ADDRESS_SLUG];

	if (!address || strlen(address) != 17)
		return false;
	for (size_t i = 0; i < 6; i++) {
		const char *pair = address + 3 * i;

		if (!g_ascii_isxdigit(pair[0]) || !g_ascii_isxdigit(pair[1]))
			return false;
		if (i < 5 && pair[2] != ':')
			return false;
		slug[2 * i] = g_ascii_tolower(pair[0]);
		slug[2 * i + 1] = g_ascii_tolower(pair[1]);
	}
	slug[12] = '\0';
	memcpy(ret_slug, slug, sizeof(slug));
	return true;
}

char *mqtt_topic_status(const char *base)
{
	if (!mqtt_topic_base_valid(base))
		return NULL;
	return g_strconcat(base, "/status", NULL);
}

char *mqtt_topic_gateway(const char *base)
{
	if (!mqtt_topic_base_valid(base))
		return NULL;
	return g_strconcat(base, "/gateway", NULL);
}

static char *user_topic(const char *base, const char *user, const char *leaf)
{
	if (!mqtt_topic_base_valid(base) || !mqtt_topic_user_valid(user))
		return NULL;
	return g_strconcat(base, "/", user, leaf, NULL);
}

char *mqtt_topic_state(const char *base, const char *user)
{
	return user_topic(base, user, "/state");
}

char *mqtt_topic_alert(const char *base, const char *user)
{
	return user_topic(base, user, "/alert");
}

char *mqtt_topic_live(const char *base, const char *user)
{
	return user_topic(base, user, "/live");
}

char *mqtt_topic_history(const char *base, const char *user)
{
	return user_topic(base, user, "/history");
}

char *mqtt_topic_checkin_set(const char *base, const char *user)
{
	return user_topic(base, user, "/checkin/set");
}

char *mqtt_topic_checkin(const char *base, const char *user)
{
	return user_topic(base, user, "/checkin");
}

char *mqtt_topic_device(const char *base, const char *address)
{
	char slug[MQTT_TOPIC_ADDRESS_SLUG];

	if (!mqtt_topic_base_valid(base) ||
	    !mqtt_topic_address_slug(address, slug))
		return NULL;
	return g_strconcat(base, "/device/", slug, NULL);
}

bool mqtt_topic_parse_checkin(const char *base, const char *topic,
			      char *ret_user, size_t size)
{
	static const char leaf[] = "/checkin/set";
	char user[MQTT_TOPIC_USER_MAX + 1];
	size_t base_len, user_len;
	const char *start, *end;

	if (!mqtt_topic_base_valid(base) || !topic)
		return false;
	base_len = strlen(base);
	if (strncmp(topic, base, base_len) != 0 || topic[base_len] != '/')
		return false;
	start = topic + base_len + 1;
	end = strchr(start, '/');
	if (!end || strcmp(end, leaf) != 0)
		return false;
	user_len = (size_t)(end - start);
	if (user_len == 0 || user_len > MQTT_TOPIC_USER_MAX || user_len >= size)
		return false;
	memcpy(user, start, user_len);
	user[user_len] = '\0';
	if (!mqtt_topic_user_valid(user))
		return false;
	memcpy(ret_user, user, user_len + 1);
	return true;
}

bool mqtt_topic_filter_valid(const char *filter)
{
	size_t len;

	if (!filter)
		return false;
	len = strlen(filter);
	if (len == 0 || len > TOPIC_NAME_MAX || filter[0] == '$' ||
	    !g_utf8_validate(filter, (gssize)len, NULL))
		return false;
	for (size_t i = 0; i < len; i++) {
		guchar c = (guchar)filter[i];
		bool level_start = i == 0 || filter[i - 1] == '/';
		bool level_end = i + 1 == len || filter[i + 1] == '/';

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '+' && !(level_start && level_end))
			return false;
		if (c == '#' && !(level_start && i + 1 == len))
			return false;
	}
	return true;
}

bool mqtt_topic_matches(const char *filter, const char *topic)
{
	const char *f = filter, *t = topic;

	for (;;) {
		const char *f_end = strchrnul(f, '/');
		const char *t_end = strchrnul(t, '/');

		if (strcmp(f, "#") == 0)
			return true;
		if (!(f_end - f == 1 && f[0] == '+') &&
		    (f_end - f != t_end - t ||
		     strncmp(f, t, (size_t)(f_end - f))))
			return false;
		if (*f_end == '\0' || *t_end == '\0') {
			/* "a/#" matches its parent "a" too. */
			if (*f_end == '/' && *t_end == '\0')
				return strcmp(f_end + 1, "#") == 0;
			return *f_end == '\0' && *t_end == '\0';
		}
		f = f_end + 1;
		t = t_end + 1;
	}
}
