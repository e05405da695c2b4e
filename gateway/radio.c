// SPDX-License-Identifier: MIT
#define G_LOG_DOMAIN "recoveryd"

#include "gateway/radio.h"

const char *radio_adapter_state(struct daemon *d)
{
	g_autoptr(GError) error = NULL;

	if (!d->ble)
		return NULL;
	if (ble_client_check(d->ble, &error))
		return "ready";
	if (error->domain != BLE_ERROR)
		return "failing";
	switch ((enum ble_error)error->code) {
	case BLE_ERROR_NO_SYSTEM_BUS:
		return "no-system-bus";
	case BLE_ERROR_NO_BLUETOOTHD:
		return "no-bluetoothd";
	case BLE_ERROR_PERMISSION_DENIED:
		return "no-permission";
	case BLE_ERROR_NO_ADAPTER:
		return "missing";
	case BLE_ERROR_ADAPTER_OFF:
		return "off";
	case BLE_ERROR_STARTING:
		return "starting";
	case BLE_ERROR_LINK_LOST:
	case BLE_ERROR_CONNECT_FAILED:
	case BLE_ERROR_STALE_CACHE:
	case BLE_ERROR_FAILED:
	default:
		return "failing";
	}
}

const char *radio_device_name(void *data, const struct household_device *dev)
{
	struct daemon *d = data;

	return d->ble ? ble_client_device_name(d->ble, dev->address) : NULL;
}

enum mqtt_connection radio_connection(void *data,
				      const struct household_device *dev)
{
	struct daemon *d = data;

	if (dev->kind == HOUSEHOLD_MISCALE || dev->kind == HOUSEHOLD_BED ||
	    (d->ble && ble_client_is_advertiser(d->ble, dev->address)))
		return dev->last_seen_ms ? MQTT_CONNECTION_ADVERTISING
					 : MQTT_CONNECTION_ABSENT;
	if (d->demo)
		return MQTT_CONNECTION_CONNECTED;
	switch (ble_client_link_state(d->ble, dev->address)) {
	case BLE_LINK_SUBSCRIBED:
		return MQTT_CONNECTION_CONNECTED;
	case BLE_LINK_SEEN:
	case BLE_LINK_CONNECTING:
	case BLE_LINK_RESOLVING:
		return MQTT_CONNECTION_CONNECTING;
	case BLE_LINK_LOST:
	case BLE_LINK_BACKOFF:
		return MQTT_CONNECTION_DISCONNECTED;
	case BLE_LINK_ABSENT:
	case BLE_LINK_WAITING:
	default:
		return MQTT_CONNECTION_ABSENT;
	}
}

static void on_reading(void *data, const struct reading *r)
{
	struct daemon *d = data;

	/* Demo mode (--demo-radio): the household and its clock are
	 * simulated; a reading on the wall clock does not belong in it. */
	if (d->demo)
		return;
	daemon_ingest(d, r);
}

static void on_link(void *data, const char *address, enum ble_link_state state,
		    const GError *reason)
{
	struct daemon *d = data;
	int index = household_find_device(d->household, address);
	const struct household_device *dev =
	    index >= 0 ? household_device(d->household, (size_t)index) : NULL;
	const char *who = dev && publish_device_user(d->household, dev)
			      ? publish_device_user(d->household, dev)
			      : "";

	switch (state) {
	case BLE_LINK_SUBSCRIBED:
		g_message("%s %s%s%s: connected, receiving",
			  dev ? publish_device_kind_text(dev->kind) : "device",
			  address, who[0] ? " of " : "", who);
		break;
	case BLE_LINK_LOST:
	case BLE_LINK_BACKOFF:
		g_message("%s %s%s%s: %s%s%s",
			  dev ? publish_device_kind_text(dev->kind) : "device",
			  address, who[0] ? " of " : "", who,
			  ble_link_state_name(state), reason ? ": " : "",
			  reason ? reason->message : "");
		break;
	case BLE_LINK_WAITING: /* the Bluetooth check says it once */
	case BLE_LINK_ABSENT:
	case BLE_LINK_SEEN:
	case BLE_LINK_CONNECTING:
	case BLE_LINK_RESOLVING:
	default:
		g_debug("%s: %s%s%s", address, ble_link_state_name(state),
			reason ? ": " : "", reason ? reason->message : "");
		break;
	}
	if (index >= 0)
		publish_device(d->publish, index);
	daemon_update_status(d);
}

static bool on_uds_user(void *data, const char *address,
			struct ble_uds_user *ret)
{
	struct daemon *d = data;
	bool registered;
	int index, code;

	if (!household_scale_uds_user(d->household, address, &registered,
				      &index, &code))
		return false;
	*ret = (struct ble_uds_user){
		.registered = registered,
		.user_index = (uint8_t)index,
		.consent_code = (uint16_t)code,
	};
	return true;
}

static void on_uds_registered(void *data, const char *address,
			      uint8_t user_index, uint16_t consent_code)
{
	struct daemon *d = data;
	g_autoptr(GError) error = NULL;

	if (!household_scale_registered(d->household, address, user_index,
					consent_code, g_get_real_time() / 1000,
					&error))
		g_warning("scale %s: keeping its user index %u: %s (it is "
			  "registered again after a restart)",
			  address, user_index, error->message);
}

static enum ble_device_kind ble_kind(enum household_device_kind kind)
{
	switch (kind) {
	case HOUSEHOLD_STRAP:
		return BLE_KIND_HEART_RATE;
	case HOUSEHOLD_SCALE:
		return BLE_KIND_SCALE_AUTO;
	case HOUSEHOLD_STANDARD_SCALE:
		return BLE_KIND_SCALE;
	case HOUSEHOLD_QN_SCALE:
		return BLE_KIND_SCALE_QN;
	case HOUSEHOLD_MISCALE:
		return BLE_KIND_MISCALE;
	case HOUSEHOLD_BED:
	default:
		return BLE_KIND_BTHOME;
	}
}

void radio_set_devices(struct daemon *d)
{
	size_t n = household_device_count(d->household);
	g_autofree struct ble_device_config *devices =
	    g_new0(struct ble_device_config, MAX(n, 1));

	for (size_t i = 0; i < n; i++) {
		const struct household_device *dev =
		    household_device(d->household, i);

		g_strlcpy(devices[i].address, dev->address,
			  sizeof(devices[i].address));
		devices[i].kind = ble_kind(dev->kind);
	}
	ble_client_set_devices(d->ble, devices, n);
}

void radio_check(struct daemon *d)
{
	g_autoptr(GError) error = NULL;

	if (!d->ble)
		return;
	if (ble_client_check(d->ble, &error)) {
		if (d->ble_advice_logged)
			g_message("Bluetooth: the adapter is ready");
		d->ble_advice_logged = false;
	} else if (!d->ble_advice_logged) {
		g_warning("Bluetooth: %s", error->message);
		d->ble_advice_logged = true;
	}
}

bool radio_start(struct daemon *d, GError **error)
{
	struct ble_client_config bcfg_ble = {
		.adapter = d->config->adapter,
		.power_on = d->config->power_on_adapter,
	};
	struct ble_ops bleops = {
		.reading = on_reading,
		.link = on_link,
		.log = daemon_log_line,
		.uds_user = on_uds_user,
		.uds_registered = on_uds_registered,
	};

	d->ble = ble_client_new(NULL, &bcfg_ble, &bleops, d, error);
	if (!d->ble)
		return false;
	radio_set_devices(d);
	return true;
}
