# SPDX-License-Identifier: MIT
"""simdev.py - what the simulated devices scale.py and advertiser.py share.

A module, not a program (hr-strap.py predates it and keeps its own GATT
objects; it uses BluezWatch and bluez_call from here):

  GATT objects in the shapes GattManager1 reads (Application, Service,
  Characteristic with StartNotify/StopNotify/Confirm callbacks),
  an LEAdvertisement1 whose properties can change at run time
  (Advertisement.update() emits PropertiesChanged, which bluetoothd turns
  into new advertising data and btvirt into one new advertising report),
  AdvertisingSlot: asynchronous Register/UnregisterAdvertisement,
  BluezWatch: follows bluetoothd through restarts (see below),
  bluez_call(), prepare_adapter(), connected_devices(), date_time(),
  write_ready(), run().

Every call into bluetoothd made while the main loop runs is asynchronous:
bluetoothd calls back into this process while it handles them (GetAll on the
advertisement, GetManagedObjects on the application), so a blocking call from
the loop would deadlock. Those calls go through bluez_call(): addressed to
the well-known name org.bluez (not to a proxy bound to one bluetoothd's
unique name), so they reach whichever bluetoothd runs now.

bluetoothd restarts: a restarted bluetoothd knows nothing of this process
(its GATT application, advertisement and subscriptions are gone) and a
SIGTERM'd bluetoothd powered the controllers off. BluezWatch notices the
org.bluez name owner leaving and coming back (NameOwnerChanged), waits for the
adapter, powers it again if needed and then lets the device register again:
a real device just keeps advertising through its gateway's restarts.
"""
import os
import signal
import struct
import time

import dbus
import dbus.exceptions
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

BLUEZ = "org.bluez"
OM_IFACE = "org.freedesktop.DBus.ObjectManager"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
ADAPTER_IFACE = "org.bluez.Adapter1"
DEVICE_IFACE = "org.bluez.Device1"
GATT_MANAGER_IFACE = "org.bluez.GattManager1"
ADV_MANAGER_IFACE = "org.bluez.LEAdvertisingManager1"
SERVICE_IFACE = "org.bluez.GattService1"
CHRC_IFACE = "org.bluez.GattCharacteristic1"
ADV_IFACE = "org.bluez.LEAdvertisement1"

# Legacy advertising data: 31 bytes, of which the kernel's Flags AD takes 3.
ADV_DATA_MAX = 31
FLAGS_AD_LEN = 3


class Logger:
    """print() with a tag and the seconds since start, flushed."""

    def __init__(self, tag):
        self.tag = tag
        self.t0 = time.monotonic()

    def __call__(self, *args):
        print("[%s +%.2fs]" % (self.tag, time.monotonic() - self.t0), *args, flush=True)


def uuid16(n):
    return "%08x-0000-1000-8000-00805f9b34fb" % n


def byte_array(data):
    return dbus.Array([dbus.Byte(b) for b in data], signature="y")


def date_time(t=None):
    """GATT "Date Time" (7 bytes): year le16, month, day, hours, minutes,
    seconds, in the local time zone, as a device's own clock shows it."""
    tm = time.localtime(time.time() if t is None else t)
    return struct.pack("<HBBBBB", tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)


def float_list(text):
    """argparse type: "72.5" or "72.5,64.1" -> [72.5, 64.1]."""
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError("not a number or comma-separated numbers: %r" % text)
    return values


def write_ready(path, text):
    if path:
        with open(path, "w") as f:
            f.write(text.rstrip("\n") + "\n")


# Errors of a call into bluetoothd that mean it is gone (or going, or not
# set up yet): not the device's fault; BluezWatch brings it back.
GONE_ERRORS = frozenset((
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.DBus.Error.UnknownInterface",
))


def bluetoothd_gone(error):
    """Whether a D-Bus error from a call into bluetoothd means that it went away."""
    return isinstance(error, dbus.exceptions.DBusException) and error.get_dbus_name() in GONE_ERRORS


def bluez_call(bus, path, iface, method, signature="", args=(), reply=None, error=None, timeout=25.0):
    """An asynchronous method call to bluetoothd, addressed to org.bluez:
    it reaches the bluetoothd that runs now, also after a restart (a proxy
    from bus.get_object() stays bound to the one that ran when it was made).
    No introspection: `signature` gives the argument types."""
    bus.call_async(BLUEZ, path, iface, method, signature, list(args),
                   reply or (lambda *a: None), error or (lambda e: None), timeout=timeout)


def no_options():
    return dbus.Dictionary({}, signature="sv")


class InvalidArgs(dbus.exceptions.DBusException):
    _dbus_error_name = "org.freedesktop.DBus.Error.InvalidArgs"


class NotPermitted(dbus.exceptions.DBusException):
    _dbus_error_name = "org.bluez.Error.NotPermitted"


class NotSupported(dbus.exceptions.DBusException):
    _dbus_error_name = "org.bluez.Error.NotSupported"


# ---------------------------------------------------------------- GATT objects (GattManager1 shapes)


class Application(dbus.service.Object):
    """The object manager bluetoothd reads the whole GATT database from."""

    def __init__(self, bus, path):
        self.path = path
        self.services = []
        super().__init__(bus, path)

    @dbus.service.method(OM_IFACE, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        objects = {}
        for service in self.services:
            objects[dbus.ObjectPath(service.path)] = service.properties()
            for chrc in service.characteristics:
                objects[dbus.ObjectPath(chrc.path)] = chrc.properties()
        return objects

    def drop_subscriptions(self, why):
        """Every subscription ends (bluetoothd went away with its links and
        will not call StopNotify): as if the central had unsubscribed."""
        for service in self.services:
            for chrc in service.characteristics:
                chrc.drop_subscription(why)


class Service(dbus.service.Object):
    def __init__(self, bus, app, index, uuid):
        self.path = "%s/service%d" % (app.path, index)
        self.uuid = uuid
        self.characteristics = []
        super().__init__(bus, self.path)
        app.services.append(self)

    def properties(self):
        return {
            SERVICE_IFACE: {
                "UUID": self.uuid,
                "Primary": dbus.Boolean(True),
                "Characteristics": dbus.Array(
                    [dbus.ObjectPath(c.path) for c in self.characteristics], signature="o"),
            }
        }

    @dbus.service.method(PROPS_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        if interface != SERVICE_IFACE:
            raise InvalidArgs("no interface " + interface)
        return self.properties()[SERVICE_IFACE]


class Characteristic(dbus.service.Object):
    """A characteristic with a byte value. bluetoothd sends a notification or
    indication to every subscribed central when the Value property changes
    while notifying, and calls Confirm() when a central confirms an
    indication. Callbacks: on_subscribe(chrc), on_unsubscribe(chrc),
    on_confirm(chrc)."""

    def __init__(self, bus, service, index, uuid, flags, value=b"", log=None,
                 on_subscribe=None, on_unsubscribe=None, on_confirm=None):
        self.path = "%s/char%d" % (service.path, index)
        self.service = service
        self.uuid = uuid
        self.flags = flags
        self.value = bytes(value)
        self.notifying = False
        self.log = log or (lambda *a: None)
        self.on_subscribe = on_subscribe
        self.on_unsubscribe = on_unsubscribe
        self.on_confirm = on_confirm
        super().__init__(bus, self.path)
        service.characteristics.append(self)

    @property
    def short(self):
        return self.uuid[4:8].upper()

    def properties(self):
        return {
            CHRC_IFACE: {
                "Service": dbus.ObjectPath(self.service.path),
                "UUID": self.uuid,
                "Flags": dbus.Array(self.flags, signature="s"),
                "Descriptors": dbus.Array([], signature="o"),
            }
        }

    def set_value(self, value):
        """New value; notified/indicated if a central is subscribed.
        Returns whether it went out."""
        self.value = bytes(value)
        if not self.notifying:
            return False
        self.PropertiesChanged(CHRC_IFACE, {"Value": byte_array(self.value)}, [])
        return True

    @dbus.service.method(PROPS_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        if interface != CHRC_IFACE:
            raise InvalidArgs("no interface " + interface)
        return self.properties()[CHRC_IFACE]

    @dbus.service.method(CHRC_IFACE, in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        if "read" not in self.flags:
            raise NotPermitted("not readable")
        self.log("read %s -> %s" % (self.short, self.value.hex(" ")))
        return byte_array(self.value)

    @dbus.service.method(CHRC_IFACE, in_signature="aya{sv}")
    def WriteValue(self, value, options):
        raise NotPermitted("not writable")

    @dbus.service.method(CHRC_IFACE)
    def StartNotify(self):
        if "notify" not in self.flags and "indicate" not in self.flags:
            raise NotSupported("no notifications")
        if self.notifying:
            return
        self.notifying = True
        self.log("central subscribed to %s" % self.short)
        if self.on_subscribe:
            GLib.idle_add(lambda: self.on_subscribe(self) and False)

    @dbus.service.method(CHRC_IFACE)
    def StopNotify(self):
        if not self.notifying:
            return
        self.notifying = False
        self.log("central unsubscribed from %s" % self.short)
        if self.on_unsubscribe:
            GLib.idle_add(lambda: self.on_unsubscribe(self) and False)

    def drop_subscription(self, why):
        if not self.notifying:
            return
        self.notifying = False
        self.log("subscription to %s ended (%s)" % (self.short, why))
        if self.on_unsubscribe:
            GLib.idle_add(lambda: self.on_unsubscribe(self) and False)

    @dbus.service.method(CHRC_IFACE)
    def Confirm(self):
        if self.on_confirm:
            GLib.idle_add(lambda: self.on_confirm(self) and False)

    @dbus.service.signal(PROPS_IFACE, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass


# ---------------------------------------------------------------- advertising


class Advertisement(dbus.service.Object):
    """LEAdvertisement1 with properties given as a dict of D-Bus values.
    update() changes some and emits PropertiesChanged, so that bluetoothd
    refreshes the advertising data (a new advertising report under btvirt,
    even when nothing changed)."""

    def __init__(self, bus, path, props, log=None):
        self.path = path
        self.props = dict(props)
        self.log = log or (lambda *a: None)
        super().__init__(bus, path)

    @dbus.service.method(PROPS_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        if interface != ADV_IFACE:
            raise InvalidArgs("no interface " + interface)
        return self.props

    @dbus.service.method(ADV_IFACE)
    def Release(self):
        self.log("advertisement released by bluetoothd")

    @dbus.service.signal(PROPS_IFACE, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass

    def update(self, **changed):
        """Store and announce the given properties. Without any, announces
        one unchanged property again (bluetoothd refreshes the advertising
        data once per property in the signal)."""
        self.props.update(changed)
        if not changed:
            for name in ("ServiceData", "ServiceUUIDs", "LocalName"):
                if name in self.props:
                    changed = {name: self.props[name]}
                    break
        self.PropertiesChanged(ADV_IFACE, changed, [])


def service_data(uuid, data):
    """ServiceData value: {"181b": bytes} as a{sv} with ay values."""
    return dbus.Dictionary({uuid: byte_array(data)}, signature="sv")


def adv_data_length(props):
    """Bytes of legacy advertising data the properties need (Flags included);
    bluetoothd refuses or cuts what does not fit in 31."""
    n = FLAGS_AD_LEN
    uuids = props.get("ServiceUUIDs", [])
    if uuids:
        n += 2 + 2 * len(uuids)  # all 16-bit here
    for _uuid, data in props.get("ServiceData", {}).items():
        n += 2 + 2 + len(data)
    if "Appearance" in props:
        n += 4
    if "LocalName" in props:
        n += 2 + len(props["LocalName"].encode())
    return n


class AdvertisingSlot:
    """One advertisement's registration with LEAdvertisingManager1, kept up
    asynchronously: register()/unregister() may be called in any state; the
    wanted state is reached once pending calls have returned.

    suspend() (bluetoothd went away: the registration is gone, replies still
    due are ignored) and resume() (bluetoothd is back: register again if
    wanted) follow a bluetoothd restart; see BluezWatch. While suspended,
    register() only records the wish. A failed RegisterAdvertisement is
    retried for a while after resume(); otherwise (at start) it goes to
    on_error, unless bluetoothd was just gone."""

    RETRIES_AFTER_RESUME = 10

    def __init__(self, bus, adapter, adv, log, on_error=None):
        self.bus = bus
        self.adapter = adapter
        self.path = "/org/bluez/" + adapter
        self.adv = adv
        self.log = log
        self.on_error = on_error
        self.registered = False
        self.wanted = False
        self.busy = False
        self.suspended = False
        self.epoch = 0  # bumped by suspend(): replies from before are stale
        self.retries = 0
        self.resumed = False  # log the first registration after resume()
        self.waiters = []

    def register(self, then=None):
        self.wanted = True
        self._settle(then)

    def unregister(self, then=None):
        self.wanted = False
        self._settle(then)

    def announce(self):
        """One more advertising report (PropertiesChanged), if advertising."""
        if self.registered and self.wanted and not self.busy:
            self.adv.update()
            return True
        return False

    def suspend(self):
        self.epoch += 1
        self.suspended = True
        self.busy = False
        self.registered = False
        self._settle()

    def resume(self):
        self.suspended = False
        self.retries = self.RETRIES_AFTER_RESUME
        self.resumed = self.wanted
        if not self.wanted:
            self.log("advertisement not wanted now (asleep): not registered again")
        self._settle()

    def _settle(self, then=None):
        if then:
            self.waiters.append(then)
        if self.busy:
            return
        if self.wanted == self.registered:
            waiters, self.waiters = self.waiters, []
            for w in waiters:
                w()
            return
        if self.suspended:
            return
        self.busy = True
        epoch = self.epoch
        if self.wanted:
            bluez_call(self.bus, self.path, ADV_MANAGER_IFACE, "RegisterAdvertisement", "oa{sv}",
                       [dbus.ObjectPath(self.adv.path), no_options()],
                       reply=lambda: self._done(epoch, True),
                       error=lambda e: self._failed(epoch, "RegisterAdvertisement", e))
        else:
            bluez_call(self.bus, self.path, ADV_MANAGER_IFACE, "UnregisterAdvertisement", "o",
                       [dbus.ObjectPath(self.adv.path)],
                       reply=lambda: self._done(epoch, False),
                       error=lambda e: self._failed(epoch, "UnregisterAdvertisement", e))

    def _done(self, epoch, registered):
        if epoch != self.epoch:
            return
        self.busy = False
        self.registered = registered
        if registered:
            self.retries = 0
            if self.resumed:
                self.resumed = False
                self.log("advertisement registered again on %s" % self.adapter)
        self._settle()

    def _failed(self, epoch, what, error):
        if epoch != self.epoch:
            return
        self.busy = False
        self.log("%s failed: %s" % (what, error))
        if what == "UnregisterAdvertisement":
            if "DoesNotExist" in str(error.get_dbus_name()) or bluetoothd_gone(error):
                self.registered = False
                self._settle()
                return
        elif self.retries > 0:
            self.retries -= 1
            self.log("RegisterAdvertisement: trying again in 1 s (%d more)" % self.retries)

            def again():
                if epoch == self.epoch:
                    self._settle()
                return False
            GLib.timeout_add(1000, again)
            return
        elif bluetoothd_gone(error):
            self.log("bluetoothd is gone: the advertisement waits for it to come back")
            return
        self.wanted = self.registered
        if self.on_error:
            self.on_error(what, error)
        self._settle()


# ---------------------------------------------------------------- bluetoothd restarts


class BluezWatch:
    """Follows bluetoothd, the owner of org.bluez on the system bus, through
    restarts, for one device on one adapter.

    When org.bluez loses its owner (NameOwnerChanged): on_lost() (the
    device forgets its registrations and subscriptions). When org.bluez has
    an owner again: waits (polling GetManagedObjects every 0.25 s) until the
    adapter is on D-Bus with GattManager1 and LEAdvertisingManager1, sets
    Powered=true if it is off (a SIGTERM'd bluetoothd powers the controllers
    down; a real device does not care and keeps advertising), sets the alias
    again, then on_back() (the device registers again). Each step is logged.
    `epoch` changes whenever bluetoothd goes away: replies to calls made
    before are stale."""

    PROBE_S = 0.25
    POWER_RETRY_S = 2.0
    NAG_S = 10.0

    def __init__(self, bus, adapter, log, alias=None, on_lost=None, on_back=None):
        self.bus = bus
        self.adapter = adapter
        self.path = "/org/bluez/" + adapter
        self.log = log
        self.alias = alias
        self.on_lost = on_lost
        self.on_back = on_back
        self.epoch = 0
        self.restarts = 0
        try:
            self.owner = str(bus.get_name_owner(BLUEZ))
            self.state = "up"
        except dbus.exceptions.DBusException:
            self.owner = ""
            self.state = "down"
        self.t_lost = time.monotonic()
        bus.add_signal_receiver(self._owner_changed, "NameOwnerChanged", "org.freedesktop.DBus",
                                "org.freedesktop.DBus", "/org/freedesktop/DBus", arg0=BLUEZ)

    @property
    def up(self):
        return self.state == "up"

    def _owner_changed(self, name, old, new):
        if name != BLUEZ:
            return
        if old:
            self._lost(str(old))
        if new:
            self._appeared(str(new))

    def _lost(self, old):
        if self.state == "down":
            return
        was_up = self.state == "up"
        self.state = "down"
        self.epoch += 1
        self.t_lost = time.monotonic()
        if was_up:
            self.log("bluetoothd (%s) left the bus: GATT application, advertisement and links on %s are gone;"
                     " waiting for it to come back" % (old, self.adapter))
            if self.on_lost:
                self.on_lost()
        else:
            self.log("bluetoothd (%s) left the bus again before %s was ready" % (old, self.adapter))

    def _appeared(self, new):
        self.owner = new
        self.state = "waiting"
        self.epoch += 1
        self.restarts += 1
        self.noted = set()
        self.power_asked = None
        self.t_nag = time.monotonic()
        self.log("bluetoothd is back (%s, %.1f s after it left); waiting for %s" % (
            new, time.monotonic() - self.t_lost, self.adapter))
        self._probe(self.epoch)

    def _later(self, epoch, seconds=None):
        def fire():
            self._probe(epoch)
            return False
        GLib.timeout_add(int((seconds or self.PROBE_S) * 1000), fire)

    def _note(self, key, text):
        if key not in self.noted:
            self.noted.add(key)
            self.log(text)

    def _probe(self, epoch):
        if epoch != self.epoch or self.state != "waiting":
            return
        now = time.monotonic()
        if now - self.t_nag >= self.NAG_S:
            self.t_nag = now
            self.log("still waiting for %s (%.0f s after bluetoothd left)" % (self.adapter, now - self.t_lost))
        bluez_call(self.bus, "/", OM_IFACE, "GetManagedObjects",
                   reply=lambda objects: self._probed(epoch, objects),
                   error=lambda e: self._later(epoch), timeout=5.0)

    def _probed(self, epoch, objects):
        if epoch != self.epoch or self.state != "waiting":
            return
        ifaces = objects.get(dbus.ObjectPath(self.path))
        if not ifaces or ADAPTER_IFACE not in ifaces:
            self._note("absent", "%s not on D-Bus yet" % self.adapter)
            self._later(epoch)
            return
        missing = [i.rsplit(".", 1)[-1] for i in (GATT_MANAGER_IFACE, ADV_MANAGER_IFACE) if i not in ifaces]
        if missing:
            self._note("managers", "%s is there, without %s yet" % (self.adapter, " and ".join(missing)))
            self._later(epoch)
            return
        if not bool(ifaces[ADAPTER_IFACE].get("Powered", False)):
            now = time.monotonic()
            if self.power_asked is None or now - self.power_asked >= self.POWER_RETRY_S:
                self.power_asked = now
                self.log("%s is powered off: setting Powered=true" % self.adapter)
                bluez_call(self.bus, self.path, PROPS_IFACE, "Set", "ssv",
                           [ADAPTER_IFACE, "Powered", dbus.Boolean(True)],
                           reply=lambda: self.log("%s: Powered=true done" % self.adapter),
                           error=lambda e: self.log("Powered=true on %s failed: %s" % (self.adapter, e)),
                           timeout=10.0)
            self._later(epoch)
            return
        self._note("powered", "%s is powered" % self.adapter)
        if self.alias:
            bluez_call(self.bus, self.path, PROPS_IFACE, "Set", "ssv", [ADAPTER_IFACE, "Alias", dbus.String(self.alias)],
                       error=lambda e: self.log("setting the alias on %s failed: %s" % (self.adapter, e)))
        self.state = "up"
        self.log("%s ready again %.1f s after bluetoothd left: registering again (restart %d)" % (
            self.adapter, time.monotonic() - self.t_lost, self.restarts))
        if self.on_back:
            self.on_back()


# ---------------------------------------------------------------- adapter and links


def prepare_adapter(bus, adapter, alias):
    """Powers the adapter, sets its alias (the GAP Device Name a central
    reads) and returns its address. Blocking: call before the loop runs."""
    props = dbus.Interface(bus.get_object(BLUEZ, "/org/bluez/" + adapter), PROPS_IFACE)
    props.Set(ADAPTER_IFACE, "Powered", dbus.Boolean(True))
    if alias:
        props.Set(ADAPTER_IFACE, "Alias", alias)
    return str(props.Get(ADAPTER_IFACE, "Address"))


def connected_devices(bus, adapter, callback):
    """Asynchronously: callback([device path, ...]) with the devices on
    `adapter` that are connected to us now."""
    prefix = "/org/bluez/%s/dev_" % adapter

    def reply(objects):
        callback([str(path) for path, ifaces in objects.items()
                  if path.startswith(prefix) and DEVICE_IFACE in ifaces
                  and bool(ifaces[DEVICE_IFACE].get("Connected", False))])

    bluez_call(bus, "/", OM_IFACE, "GetManagedObjects", reply=reply, error=lambda e: callback([]))


def disconnect(bus, device_path, log):
    """Drops the link to a central (asynchronous; errors only logged)."""
    bluez_call(bus, device_path, DEVICE_IFACE, "Disconnect",
               reply=lambda: log("link to %s dropped" % device_path.rsplit("/", 1)[-1]),
               error=lambda e: log("Disconnect %s: %s" % (device_path, e)))


def main_loop():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    return dbus.SystemBus(), GLib.MainLoop()


def run(loop, on_stop):
    """Runs the loop until SIGTERM/SIGINT; on_stop(signal name) first."""
    def stop(name):
        on_stop(name)
        loop.quit()
        return False
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, stop, "SIGTERM")
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, stop, "SIGINT")
    loop.run()


def file_stamp(path):
    """(mtime, size, content) of a small control file, or None if absent."""
    try:
        st = os.stat(path)
        with open(path) as f:
            return (st.st_mtime_ns, st.st_size, f.read(64))
    except OSError:
        return None
