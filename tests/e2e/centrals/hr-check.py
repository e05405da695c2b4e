#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hr-check.py - the e2e self-test's central: checks a heart-rate strap
through bluetoothd's D-Bus API, the way a client program would.

Discovers a device advertising 0x180D on the given adapter (LE, UUID filter),
connects, waits for ServicesResolved, reads 0x2A38 (Body Sensor Location) and
0x2A19 (Battery Level), calls StartNotify on 0x2A37 and checks that at least
--count notifications arrive, each decoding to a heart rate within 40-90 bpm
with at least one RR interval that agrees with it (within 20 %).
Exit status 0 = PASS, 1 = FAIL.

Written around the test bed's known behaviours: Connected=true is often never
signalled after Device1.Connect() (the method reply is taken as connected),
and characteristics are looked up by UUID after ServicesResolved, not cached.
"""
import argparse
import struct
import sys
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

BLUEZ = "org.bluez"
OM_IFACE = "org.freedesktop.DBus.ObjectManager"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
ADAPTER_IFACE = "org.bluez.Adapter1"
DEVICE_IFACE = "org.bluez.Device1"
CHRC_IFACE = "org.bluez.GattCharacteristic1"

HRS = "0000180d-0000-1000-8000-00805f9b34fb"
HRM = "00002a37-0000-1000-8000-00805f9b34fb"
BODY_SENSOR_LOCATION = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"

T0 = time.monotonic()


def log(*args):
    print("[hr-check +%.2fs]" % (time.monotonic() - T0), *args, flush=True)


def decode_hrm(b):
    """Decode a 0x2A37 Heart Rate Measurement: (heart rate, contact, [RR s])."""
    flags = b[0]
    if flags & 0x01:
        hr, i = struct.unpack_from("<H", b, 1)[0], 3
    else:
        hr, i = b[1], 2
    contact = {0x06: True, 0x04: False}.get(flags & 0x06)  # None: not supported
    if flags & 0x08:
        i += 2  # energy expended
    rrs = []
    if flags & 0x10:
        while i + 2 <= len(b):
            rrs.append(struct.unpack_from("<H", b, i)[0] / 1024.0)
            i += 2
    return hr, contact, rrs


class Check:
    def __init__(self, bus, args, loop):
        self.bus = bus
        self.args = args
        self.loop = loop
        self.apath = "/org/bluez/" + args.adapter
        self.om = dbus.Interface(bus.get_object(BLUEZ, "/"), OM_IFACE)
        self.adapter = dbus.Interface(bus.get_object(BLUEZ, self.apath), ADAPTER_IFACE)
        self.device = None  # object path of the strap
        self.hrm = None  # object path of its 0x2A37
        self.connect_tries = 0
        self.discovering = False
        self.notifications = 0
        self.rr_counts = []
        self.rates = []
        self.problems = []
        self.done = False

    def finish(self, ok, why):
        if self.done:
            return
        self.done = True
        if not ok:
            self.problems.append(why)
        log(why)
        self.loop.quit()

    # -- discovery

    def start(self):
        self.adapter.SetDiscoveryFilter(
            {"Transport": "le", "UUIDs": dbus.Array([HRS], signature="s")})
        for path, ifaces in self.om.GetManagedObjects().items():
            if DEVICE_IFACE in ifaces:
                self.consider(path, ifaces[DEVICE_IFACE])
        if not self.device:
            self.discovering = True
            self.adapter.StartDiscovery()
            log("discovering on %s (LE, UUIDs=[180d])" % self.args.adapter)

    def consider(self, path, props):
        if self.device or not path.startswith(self.apath + "/dev_"):
            return
        if HRS not in [str(u).lower() for u in props.get("UUIDs", [])]:
            return
        address = str(props.get("Address", ""))
        if self.args.address and address.upper() != self.args.address.upper():
            return
        self.device = path
        log("found %s %s Name=%s RSSI=%s" % (
            address, path, props.get("Name", "-"), props.get("RSSI", "-")))
        if self.discovering:  # one link at a time, and no scanning while connecting
            self.discovering = False
            try:
                self.adapter.StopDiscovery()
            except dbus.DBusException as e:
                log("StopDiscovery:", e.get_dbus_name())
        self.connect()

    # -- connection

    def connect(self):
        self.connect_tries += 1
        dev = dbus.Interface(self.bus.get_object(BLUEZ, self.device), DEVICE_IFACE)
        dev.Connect(reply_handler=self.connected, error_handler=self.connect_failed, timeout=30)

    def connect_failed(self, error):
        log("Connect() failed (try %d): %s" % (self.connect_tries, error))
        if self.connect_tries < 3:
            GLib.timeout_add(1000, lambda: self.connect() and False)
        else:
            self.finish(False, "could not connect to %s" % self.device)

    def connected(self):
        # The reply means connected; Connected=true may never be signalled.
        log("Connect() OK")
        props = dbus.Interface(self.bus.get_object(BLUEZ, self.device), PROPS_IFACE)
        if props.Get(DEVICE_IFACE, "ServicesResolved"):
            self.services_resolved()

    def services_resolved(self):
        if self.hrm:
            return
        chrcs = {}
        for path, ifaces in self.om.GetManagedObjects().items():
            c = ifaces.get(CHRC_IFACE)
            if c and path.startswith(self.device + "/"):
                chrcs[str(c["UUID"]).lower()] = (path, [str(f) for f in c["Flags"]])
        if HRM not in chrcs:
            self.finish(False, "services resolved but no 0x2A37 characteristic")
            return
        self.hrm = chrcs[HRM][0]
        log("0x2A37 at %s Flags=%s" % (self.hrm, chrcs[HRM][1]))
        self.read_expect(chrcs, BODY_SENSOR_LOCATION, "0x2A38 body sensor location", 1)
        self.read_expect(chrcs, BATTERY_LEVEL, "0x2A19 battery level", self.args.battery)
        chrc = dbus.Interface(self.bus.get_object(BLUEZ, self.hrm), CHRC_IFACE)
        chrc.StartNotify(reply_handler=lambda: log("StartNotify OK"),
                         error_handler=lambda e: self.finish(False, "StartNotify failed: %s" % e))

    def read_expect(self, chrcs, uuid, what, expected):
        if uuid not in chrcs:
            self.problems.append("%s missing" % what)
            log("%s missing" % what)
            return
        chrc = dbus.Interface(self.bus.get_object(BLUEZ, chrcs[uuid][0]), CHRC_IFACE)
        value = bytes(chrc.ReadValue({}, timeout=10))
        ok = len(value) == 1 and value[0] == expected
        shown = "%d" % value[0] if len(value) == 1 else "[%s]" % value.hex(" ")
        log("%s = %s (%s)" % (what, shown, "ok" if ok else "expected %d" % expected))
        if not ok:
            self.problems.append("%s is %s, expected %d" % (what, shown, expected))

    # -- signals

    def on_interfaces_added(self, path, ifaces):
        if DEVICE_IFACE in ifaces:
            self.consider(path, ifaces[DEVICE_IFACE])

    def on_properties_changed(self, iface, changed, invalidated, path=None):
        if iface == DEVICE_IFACE and path.startswith(self.apath + "/dev_"):
            if not self.device and "UUIDs" in changed:
                props = self.om.GetManagedObjects().get(path, {}).get(DEVICE_IFACE, {})
                self.consider(path, props)
            if path == self.device:
                for key in ("Connected", "ServicesResolved"):
                    if key in changed:
                        log("%s=%s" % (key, bool(changed[key])))
                if changed.get("ServicesResolved"):
                    self.services_resolved()
                if "Connected" in changed and not changed["Connected"] and self.hrm:
                    self.finish(False, "link dropped after %d notifications" % self.notifications)
        elif iface == CHRC_IFACE and path == self.hrm and "Value" in changed:
            self.on_measurement(bytes(changed["Value"]))

    def on_measurement(self, value):
        self.notifications += 1
        hr, contact, rrs = decode_hrm(value)
        line = "notification %d: [%s] -> %d bpm, contact=%s, RR %s ms" % (
            self.notifications, value.hex(" "), hr, contact,
            "/".join("%d" % round(rr * 1000) for rr in rrs) or "none")
        bad = []
        if not 40 <= hr <= 90:
            bad.append("heart rate %d outside 40-90" % hr)
        if not rrs:
            bad.append("no RR interval")
        elif abs(60.0 / (sum(rrs) / len(rrs)) - hr) > 0.2 * hr:
            bad.append("RR intervals disagree with %d bpm" % hr)
        log(line + ("" if not bad else "  <-- " + ", ".join(bad)))
        self.problems += ["notification %d: %s" % (self.notifications, b) for b in bad]
        self.rates.append(hr)
        self.rr_counts.append(len(rrs))
        if self.notifications >= self.args.count:
            self.cleanup()
            self.finish(True, "received %d notifications" % self.notifications)

    def cleanup(self):
        try:
            dbus.Interface(self.bus.get_object(BLUEZ, self.hrm), CHRC_IFACE).StopNotify(timeout=10)
            dbus.Interface(self.bus.get_object(BLUEZ, self.device), DEVICE_IFACE).Disconnect(timeout=10)
            log("StopNotify + Disconnect OK")
        except dbus.DBusException as e:
            log("cleanup:", e)


def main():
    parser = argparse.ArgumentParser(description="Check a BLE heart-rate strap via bluetoothd.")
    parser.add_argument("--adapter", default="hci0")
    parser.add_argument("--address", help="only this device (default: the first one advertising 0x180D)")
    parser.add_argument("--count", type=int, default=5, help="notifications to wait for (default 5)")
    parser.add_argument("--battery", type=int, default=87, help="expected battery level (default 87)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds (default 60)")
    args = parser.parse_args()

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    loop = GLib.MainLoop()
    check = Check(bus, args, loop)

    aprops = dbus.Interface(bus.get_object(BLUEZ, check.apath), PROPS_IFACE)
    if not aprops.Get(ADAPTER_IFACE, "Powered"):
        aprops.Set(ADAPTER_IFACE, "Powered", dbus.Boolean(True))
    log("%s address %s" % (args.adapter, aprops.Get(ADAPTER_IFACE, "Address")))

    bus.add_signal_receiver(check.on_interfaces_added, "InterfacesAdded", OM_IFACE, BLUEZ)
    bus.add_signal_receiver(check.on_properties_changed, "PropertiesChanged", PROPS_IFACE, BLUEZ,
                            path_keyword="path")
    GLib.timeout_add_seconds(args.timeout, lambda: check.finish(
        False, "timeout after %ds (device=%s, %d notifications)" % (
            args.timeout, check.device, check.notifications)))
    GLib.idle_add(lambda: check.start() and False)
    loop.run()

    if check.notifications < args.count and not check.problems:
        check.problems.append("only %d of %d notifications" % (check.notifications, args.count))
    if check.rates:
        log("heart rate %d-%d bpm, RR intervals per notification %d-%d" % (
            min(check.rates), max(check.rates), min(check.rr_counts), max(check.rr_counts)))
    if check.problems:
        for p in check.problems:
            log("problem:", p)
        log("RESULT: FAIL")
        return 1
    log("RESULT: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
