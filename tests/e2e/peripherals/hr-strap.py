#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hr-strap.py - a simulated BLE heart-rate strap for the e2e VM.

Runs on one adapter of the local bluetoothd (hci1 in the VM) and, through
BlueZ's D-Bus API, looks to a central like a chest strap:

  Heart Rate service 0x180D
    0x2A37 Heart Rate Measurement  notify  flags 0x16: uint8 heart rate,
                                            sensor contact detected, RR present
    0x2A38 Body Sensor Location    read    0x01 (chest)
  Battery service 0x180F
    0x2A19 Battery Level           read, notify   (87 % by default)
  advertising: connectable ("peripheral", public address), service 0x180D,
               local name "HRM-Sim", appearance 0x0341 (heart rate belt)

The heart rate drifts between 55 and 65 bpm (a seeded random walk). Beats are
simulated on the monotonic clock with RR intervals that follow the heart rate
plus breathing-related variation and a little noise, so each notification's
RR intervals (1/1024 s) add up with the reported rate. A notification goes out
every 1/RATE seconds and carries the RR intervals of the beats completed since
the previous one; if no beat completed yet, it waits for the next beat (at
most ~0.1 s at these rates), so a notification never goes out without an RR
interval. At the default rate of 1/s that means 1 or (now and then) 2.

btvirt sends an advertising report only when advertising is switched on, so
while no central is connected the advertisement is unregistered and
registered again every few seconds (asynchronously: bluetoothd calls back
into this process while it handles the calls).

When bluetoothd restarts (org.bluez changes owner; a SIGTERM'd bluetoothd
also powers the controllers off), the strap waits for the new one and its
adapter, sets Powered=true on the adapter if it is off, registers the GATT
application and the advertisement again and goes on: notifications to
whoever subscribes next (simdev.BluezWatch; each step in the log).

When $E2E_READY_FILE (or --ready-file) is given, the file is written once the
GATT application and the advertisement are registered. Exits on SIGTERM/SIGINT.
"""
import argparse
import math
import os
import random
import signal
import struct
import sys
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import simdev  # noqa: E402  (next to this file: BluezWatch, bluez_call)

BLUEZ = "org.bluez"
OM_IFACE = "org.freedesktop.DBus.ObjectManager"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
ADAPTER_IFACE = "org.bluez.Adapter1"
DEVICE_IFACE = "org.bluez.Device1"
GATT_MANAGER_IFACE = "org.bluez.GattManager1"
ADV_MANAGER_IFACE = "org.bluez.LEAdvertisingManager1"

APP_PATH = "/org/recoveryd/hrstrap"

HR_FLAGS = 0x16  # bit 0 = 0: uint8 HR; bits 1-2 = 11: contact supported+detected; bit 4: RR present
CHEST = 0x01  # 0x2A38 Body Sensor Location: chest
MAX_RR = 9  # what fits after flags + uint8 HR in a 20-byte (default MTU) notification

T0 = time.monotonic()


def log(*args):
    print("[hr-strap +%.2fs]" % (time.monotonic() - T0), *args, flush=True)


# ---------------------------------------------------------------- the heart


class Heart:
    """Beat-by-beat model: a heart rate that drifts in [lo, hi] bpm, and RR
    intervals that follow it with respiratory sinus arrhythmia and noise."""

    def __init__(self, rng, start, lo=55.0, hi=65.0):
        self.rng = rng
        self.lo, self.hi = lo, hi
        self.hr = (lo + hi) / 2
        self.last_beat = start
        self.next_beat = start + self._next_rr(start)

    def _next_rr(self, t):
        # Mean-reverting random walk of the rate, one step per beat.
        mid = (self.lo + self.hi) / 2
        self.hr += 0.08 * (mid - self.hr) + self.rng.gauss(0, 0.7)
        self.hr = min(self.hi, max(self.lo, self.hr))
        rr = 60.0 / self.hr
        rr += 0.025 * math.sin(2 * math.pi * 0.25 * t)  # breathing, 15 per minute
        rr += self.rng.gauss(0, 0.008)
        return rr

    def beats_until(self, now):
        """RR intervals (seconds) of the beats completed up to `now`."""
        rrs = []
        while self.next_beat <= now:
            rrs.append(self.next_beat - self.last_beat)
            self.last_beat = self.next_beat
            self.next_beat += self._next_rr(self.next_beat)
        return rrs


def hr_measurement(hr, rrs):
    """0x2A37 value: flags 0x16, uint8 heart rate, RR intervals in 1/1024 s."""
    value = struct.pack("<BB", HR_FLAGS, max(0, min(255, round(hr))))
    for rr in rrs[-MAX_RR:]:
        value += struct.pack("<H", min(0xFFFF, round(rr * 1024)))
    return value


# ---------------------------------------------------------------- the strap


class Strap:
    def __init__(self, bus, args, loop):
        self.bus = bus
        self.args = args
        self.loop = loop
        self.adapter_path = "/org/bluez/" + args.adapter
        self.period = 1.0 / args.rate
        self.heart = Heart(random.Random(args.seed), time.monotonic())
        self.sent = 0
        self.connected = False
        self.app_registered = False
        self.adv_registered = False
        self.reannouncing = False
        self.announcements = 0
        self.exit_status = 0
        self.retries = 0  # registration attempts left after a bluetoothd restart
        self.ready_written = False

        self.app = simdev.Application(bus, APP_PATH)
        hrs = simdev.Service(bus, self.app, 0, simdev.uuid16(0x180D))
        self.hrm = simdev.Characteristic(bus, hrs, 0, simdev.uuid16(0x2A37), ["notify"], log=log)
        simdev.Characteristic(bus, hrs, 1, simdev.uuid16(0x2A38), ["read"], bytes([CHEST]), log=log)
        bas = simdev.Service(bus, self.app, 1, simdev.uuid16(0x180F))
        self.battery = simdev.Characteristic(
            bus, bas, 0, simdev.uuid16(0x2A19), ["read", "notify"], bytes([args.battery]), log=log,
            on_subscribe=lambda chrc: chrc.set_value(chrc.value),
        )
        self.adv = simdev.Advertisement(bus, APP_PATH + "/advertisement0", {
            "Type": "peripheral",  # connectable, public address
            "ServiceUUIDs": dbus.Array(["180D"], signature="s"),
            "LocalName": args.name,
            "Appearance": dbus.UInt16(0x0341),  # Heart Rate Sensor: Heart Rate Belt
            "Discoverable": dbus.Boolean(True),  # LE General Discoverable, like a real strap
        }, log=log)

        self.watch = simdev.BluezWatch(bus, args.adapter, log, alias=args.name,
                                       on_lost=self.bluez_lost, on_back=self.bluez_back)

    # -- registration (always asynchronous: bluetoothd calls back into us).
    # Calls go to org.bluez by name (simdev.bluez_call), so they reach a
    # restarted bluetoothd too; replies from before a restart (another
    # watch.epoch) are ignored.

    def _call(self, path, iface, method, signature, args, reply, error):
        epoch = self.watch.epoch
        simdev.bluez_call(self.bus, path, iface, method, signature, args,
                          reply=lambda: reply() if epoch == self.watch.epoch else None,
                          error=lambda e: error(e) if epoch == self.watch.epoch else None)

    def register(self):
        """The GATT application, then the advertisement."""
        self._call(self.adapter_path, GATT_MANAGER_IFACE, "RegisterApplication", "oa{sv}",
                   [dbus.ObjectPath(self.app.path), simdev.no_options()],
                   self._app_ok, lambda e: self._failed("RegisterApplication", e, self.register))

    def _register_adv(self):
        self._call(self.adapter_path, ADV_MANAGER_IFACE, "RegisterAdvertisement", "oa{sv}",
                   [dbus.ObjectPath(self.adv.path), simdev.no_options()],
                   self._adv_ok, lambda e: self._failed("RegisterAdvertisement", e, self._register_adv))

    def _failed(self, what, error, again):
        if self.retries > 0:  # after a bluetoothd restart: keep trying for a while
            self.retries -= 1
            log("%s failed: %s; trying again in 1 s (%d more)" % (what, error, self.retries))
            epoch = self.watch.epoch
            GLib.timeout_add(1000, lambda: again() if epoch == self.watch.epoch else None)
            return
        if simdev.bluetoothd_gone(error):
            log("%s failed: %s; waiting for bluetoothd to come back" % (what, error))
            return
        log("%s FAILED: %s" % (what, error))
        self.exit_status = 1
        self.loop.quit()

    def _app_ok(self):
        self.app_registered = True
        log("GATT application registered %son %s (0x180D, 0x180F)" % (
            "again " if self.watch.restarts else "", self.args.adapter))
        self._register_adv()

    def _adv_ok(self):
        self.adv_registered = True
        self.retries = 0
        log("advertising 0x180D as %r on %s%s" % (
            self.args.name, self.args.adapter, " again" if self.watch.restarts else ""))
        self._maybe_ready()

    def _maybe_ready(self):
        if self.app_registered and self.adv_registered and self.args.ready_file and not self.ready_written:
            self.ready_written = True
            with open(self.args.ready_file, "w") as f:
                f.write("hr-strap %r on %s\n" % (self.args.name, self.args.adapter))

    # -- bluetoothd restarts

    def bluez_lost(self):
        self.app_registered = self.adv_registered = self.reannouncing = False
        self.retries = 0
        if self.connected:
            self.connected = False
            log("the central's link went with bluetoothd")
        self.app.drop_subscriptions("bluetoothd went away")

    def bluez_back(self):
        self.retries = 10
        self.register()

    # -- re-announcing while not connected (btvirt does not repeat advertisements)

    def announce_tick(self):
        if self.adv_registered and not self.reannouncing:
            self._call_om()
        return True

    def _call_om(self):
        epoch = self.watch.epoch
        simdev.bluez_call(self.bus, "/", OM_IFACE, "GetManagedObjects", "", [],
                          reply=lambda objects: self._check_links(objects) if epoch == self.watch.epoch else None)

    def _check_links(self, objects):
        prefix = self.adapter_path + "/dev_"
        linked = any(
            path.startswith(prefix) and bool(ifaces[DEVICE_IFACE].get("Connected", False))
            for path, ifaces in objects.items() if DEVICE_IFACE in ifaces
        )
        if linked != self.connected:
            self.connected = linked
            log("a central is connected" if linked else "no central connected")
        if linked or self.hrm.notifying or self.reannouncing or not self.adv_registered:
            return
        self.reannouncing = True
        self._call(self.adapter_path, ADV_MANAGER_IFACE, "UnregisterAdvertisement", "o",
                   [dbus.ObjectPath(self.adv.path)], self._unregistered,
                   lambda e: self._reannounce_failed("UnregisterAdvertisement", e))

    def _unregistered(self):
        self.adv_registered = False
        self._call(self.adapter_path, ADV_MANAGER_IFACE, "RegisterAdvertisement", "oa{sv}",
                   [dbus.ObjectPath(self.adv.path), simdev.no_options()], self._reregistered,
                   lambda e: self._reannounce_failed("RegisterAdvertisement", e))

    def _reregistered(self):
        self.adv_registered = True
        self.reannouncing = False
        self.announcements += 1
        if self.announcements <= 3 or self.announcements % 10 == 0:
            log("re-announced (%d)" % self.announcements)

    def _reannounce_failed(self, what, error):
        self.reannouncing = False
        log("re-announcing failed: %s: %s" % (what, error))
        if what == "RegisterAdvertisement" and not simdev.bluetoothd_gone(error):
            # Not advertising now: try again in a second (not while bluetoothd is
            # gone: then BluezWatch registers everything again).
            self.retries = max(self.retries, 3)
            epoch = self.watch.epoch
            GLib.timeout_add(1000, lambda: self._register_adv() if epoch == self.watch.epoch else None)

    # -- heart rate measurements

    def tick(self):
        """Timer: send the beats completed since the last notification."""
        now = time.monotonic()
        rrs = self.heart.beats_until(now)
        if not self.hrm.notifying:
            GLib.timeout_add(int(self.period * 1000), self.tick)
            return False
        if not rrs:  # no complete beat yet: send right after the next one
            wait = max(1, int((self.heart.next_beat - now) * 1000) + 2)
            GLib.timeout_add(wait, self.tick)
            return False
        value = hr_measurement(self.heart.hr, rrs)
        self.hrm.set_value(value)
        self.sent += 1
        log("0x2A37 #%d: %s -> %d bpm, RR %s ms" % (
            self.sent, value.hex(" "), value[1],
            "/".join("%d" % round(rr * 1000) for rr in rrs[-MAX_RR:])))
        GLib.timeout_add(int(self.period * 1000), self.tick)
        return False


def main():
    parser = argparse.ArgumentParser(description="Simulated BLE heart-rate strap (BlueZ D-Bus peripheral).")
    parser.add_argument("--adapter", default="hci1", help="adapter to use (default hci1)")
    parser.add_argument("--name", default="HRM-Sim", help="advertised local name (default HRM-Sim)")
    parser.add_argument("--rate", type=float, default=1.0,
                        help="0x2A37 notifications per second (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the heart model (default 1)")
    parser.add_argument("--battery", type=int, default=87, help="battery level in %% (default 87)")
    parser.add_argument("--announce-every", type=float, default=3.0,
                        help="seconds between re-announcements while not connected (default 3)")
    parser.add_argument("--ready-file", default=os.environ.get("E2E_READY_FILE"),
                        help="file written once registered (default $E2E_READY_FILE)")
    args = parser.parse_args()
    if not 0.1 <= args.rate <= 10 or not 0 <= args.battery <= 100 or args.announce_every < 0.5:
        parser.error("need 0.1 <= --rate <= 10, 0 <= --battery <= 100, --announce-every >= 0.5")

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    loop = GLib.MainLoop()

    # Power the adapter and set its alias (the GAP Device Name a central reads
    # after connecting). Blocking calls are safe here: the loop is not running.
    adapter = dbus.Interface(bus.get_object(BLUEZ, "/org/bluez/" + args.adapter), PROPS_IFACE)
    adapter.Set(ADAPTER_IFACE, "Powered", dbus.Boolean(True))
    adapter.Set(ADAPTER_IFACE, "Alias", args.name)
    log("%s address %s, seed %d, %.2g notifications/s, battery %d%%" % (
        args.adapter, adapter.Get(ADAPTER_IFACE, "Address"), args.seed, args.rate, args.battery))

    strap = Strap(bus, args, loop)
    strap.register()
    GLib.timeout_add(int(strap.period * 1000), strap.tick)
    GLib.timeout_add(int(args.announce_every * 1000), strap.announce_tick)

    def stop(signame):
        log("%s: stopping after %d notifications" % (signame, strap.sent))
        loop.quit()
        return False
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, stop, "SIGTERM")
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, stop, "SIGINT")

    loop.run()
    sys.exit(strap.exit_status)


if __name__ == "__main__":
    main()
