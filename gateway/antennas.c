// SPDX-License-Identifier: MIT
#define G_LOG_DOMAIN "recoveryd"

#include "gateway/antennas.h"

#include "gateway/common/quote.h"
#include "gateway/core/antenna.h"
#include "mqtt/topic.h"

/* Bad messages: the first logged at once, then one line this often. */
#define BAD_QUIET_MS (60 * 1000)

struct antennas {
	struct antenna_message *msg; /* parsed into again and again */
	struct antennas_stats stats;
	int64_t bad_log_ms; /* the last line about a bad message */
	bool bad_logged;    /* one was logged */
	uint64_t bad_quiet; /* dropped since without a line */
	bool no_raw_said;   /* the pubadvdata hint, once per run */
	bool demo_said;
};

static bool covered(const struct config *config, const char *topic)
{
	for (char **f = config->antenna_topics; f && *f; f++)
		if (mqtt_topic_matches(*f, topic))
			return true;
	return false;
}

bool antennas_start(struct daemon *d, GError **error)
{
	size_t n = 0;

	d->antennas = g_new0(struct antennas, 1);
	for (char **f = d->config->antenna_topics; f && *f; f++, n++)
		if (!mqtt_client_subscribe(d->mqtt, *f, error))
			return false;
	if (n)
		g_message("antennas: listening on %zu topic filter%s", n,
			  n == 1 ? "" : "s");
	return true;
}

void antennas_reload(struct daemon *d, const struct config *old)
{
	g_autoptr(GError) error = NULL;

	for (char **f = old->antenna_topics; f && *f; f++) {
		if (d->config->antenna_topics &&
		    g_strv_contains(
			(const char *const *)d->config->antenna_topics, *f))
			continue;
		if (!mqtt_client_unsubscribe(d->mqtt, *f, &error)) {
			g_warning("antennas: %s", error->message);
			g_clear_error(&error);
		}
	}
	for (char **f = d->config->antenna_topics; f && *f; f++) {
		if (!mqtt_client_subscribe(d->mqtt, *f, &error)) {
			g_warning("antennas: %s", error->message);
			g_clear_error(&error);
		}
	}
}

static void bad_message(struct daemon *d, const char *topic, int rc,
			const char *reason)
{
	struct antennas *an = d->antennas;
	int64_t now = daemon_mono_ms();
	g_autofree char *t = quote_text(topic, -1, QUOTE_PLAIN);

	an->stats.bad++;
	if (an->bad_logged && now - an->bad_log_ms < BAD_QUIET_MS) {
		an->bad_quiet++;
		return;
	}
	if (an->bad_quiet)
		g_message(
		    "antenna message on %s dropped: %s (%" G_GUINT64_FORMAT
		    " more dropped since the last line)",
		    t, reason, an->bad_quiet);
	else
		g_message("antenna message on %s dropped: %s", t, reason);
	an->bad_logged = true;
	an->bad_log_ms = now;
	an->bad_quiet = 0;
	(void)rc;
}

static void take(struct daemon *d, const char *topic, const struct advert *a,
		 enum antenna_format format)
{
	struct antennas *an = d->antennas;
	char address[18];

	an->stats.adverts++;
	switch (ble_client_take_advert(d->ble, a)) {
	case BLE_ADVERT_FOREIGN:
		an->stats.foreign++;
		return;
	case BLE_ADVERT_NOT_LISTENED:
		return;
	case BLE_ADVERT_TAKEN:
	default:
		break;
	}
	an->stats.taken++;
	/* OpenMQTTGateway and Theengs keep the raw fields only when told. */
	if (format == ANTENNA_FORMAT_GATEWAY_JSON && !an->no_raw_said &&
	    a->service_data_count == 0 && a->manufacturer_count == 0) {
		g_autofree char *t = quote_text(topic, -1, QUOTE_PLAIN);

		advert_address_text(a, address);
		g_message(
		    "antenna message on %s about %s has no servicedata or "
		    "manufacturerdata: turn on OpenMQTTGateway's "
		    "pubadvdata or Theengs Gateway's publish_advdata "
		    "(README, Antennas)",
		    t, address);
		an->no_raw_said = true;
	}
}

bool antennas_message(struct daemon *d, const char *topic, const void *payload,
		      size_t len, bool retained)
{
	struct antennas *an = d->antennas;
	g_autofree char *reason = NULL;
	int rc;

	if (!an || !topic || !covered(d->config, topic))
		return false;
	an->stats.messages++;
	/* A retained advertisement is an old one, sent again at every
	 * subscription: a weighing would come back after each reconnect. */
	if (retained) {
		an->stats.retained++;
		g_debug("antenna message on %s ignored: retained", topic);
		return true;
	}
	if (!d->ble) {
		if (!an->demo_said)
			g_message("antennas: not listened to in demo mode");
		an->demo_said = true;
		return true;
	}
	if (!an->msg)
		an->msg = g_new(struct antenna_message, 1);
	rc = antenna_parse(payload, len, an->msg, &reason);
	if (rc < 0) {
		char address[18];

		/* A neighbour's device may send what no decoder wants: not
		 * ours to complain about. */
		advert_address_text(&an->msg->adverts[0], address);
		if (an->msg->adverts[0].has_address &&
		    household_find_device(d->household, address) < 0)
			an->stats.foreign++;
		else
			bad_message(d, topic, rc, reason);
		return true;
	}
	for (size_t i = 0; i < an->msg->count; i++)
		take(d, topic, &an->msg->adverts[i], an->msg->format);
	return true;
}

void antennas_stop(struct daemon *d)
{
	if (!d->antennas)
		return;
	g_debug("antennas: %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT
		" advertisements, %" G_GUINT64_FORMAT
		" of our devices, %" G_GUINT64_FORMAT
		" foreign, %" G_GUINT64_FORMAT " dropped",
		d->antennas->stats.messages, d->antennas->stats.adverts,
		d->antennas->stats.taken, d->antennas->stats.foreign,
		d->antennas->stats.bad);
	g_free(d->antennas->msg);
	g_clear_pointer(&d->antennas, g_free);
}
