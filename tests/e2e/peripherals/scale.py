#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scale.py - a simulated standard BLE body composition scale for the e2e VM.

Runs on one adapter of the local bluetoothd and, through BlueZ's D-Bus API,
looks to a central like a scale that implements the Bluetooth SIG services:

  Weight Scale service 0x181D
    0x2A9D Weight Measurement        indicate  flags 0x06 (SI, time stamp,
                                               user id; 0x0E with --height:
                                               BMI and height too)
    0x2A9E Weight Scale Feature      read      time stamp, multiple users,
                                               0.005 kg resolution (BMI and
                                               0.001 m height with --height)
  Body Composition service 0x181B
    0x2A9C Body Composition Measurement  indicate  flags 0x0606 (SI, time
                                               stamp, user id, impedance,
                                               weight; 0x0E06 with --height)
    0x2A9B Body Composition Feature  read      the same, as feature bits
  Battery service 0x180F / 0x2A19    read      (64 % by default)
  advertising: connectable ("peripheral", public address), services 0x181D
               and 0x181B, local name "Scale-Sim", appearance 0x0C80
               (Weight Scale)

Value layouts (GATT Specification Supplement "Weight Measurement", "Body
Composition Measurement"; all little-endian):
  0x2A9D  flags u8 | weight u16 (0.005 kg) | Date Time (year u16, month,
          day, hours, minutes, seconds) | user id u8 | [BMI u16 (0.1 kg/m2),
          height u16 (0.001 m)]
  0x2A9C  flags u16 | body fat u16 (0.1 %) | Date Time | user id u8 |
          impedance u16 (0.1 ohm) | weight u16 (0.005 kg) | [height u16]
Both fit one indication at the default ATT MTU (11-15 and 16-18 bytes).

Behaviour, like a real scale: it wakes (at start, or --start-after seconds
later, or when --wake-file appears or changes), takes --count weighings and
advertises until a central connects. Once the central has enabled
indications on 0x2A9D and 0x2A9C (or on one of them and 2 s have passed), it
sends each weighing as one 0x2A9D and one 0x2A9C indication, each after the
previous one was confirmed (bluetoothd confirms on the central's behalf and
calls Confirm() here). Weighings not confirmed stay stored for the next
connection. --linger seconds after the last confirmation the scale goes to
sleep: it stops advertising and drops the link (--stay-connected keeps it).
With --repeat-every S it wakes again S seconds later for the next weighing(s);
--weight and --body-fat may be lists, used in turn.

btvirt sends an advertising report only when advertising data is set, so
while awake and not connected the scale announces itself every
--announce-every seconds (PropertiesChanged on its LEAdvertisement1).

When bluetoothd restarts, the scale waits for it, powers its adapter again
if needed, and registers its GATT application again, then (if awake) its
advertisement; a weighing being sent stays stored for the next connection
(simdev.BluezWatch; each step in the log).

--print-values prints the values of the first wake's weighings (hex) and
exits without touching D-Bus: a host-side check decodes them with
`recoveryctl decode`. When $E2E_READY_FILE (or --ready-file) is given, the
file is written once the GATT application is registered (and the
advertisement, if the scale is awake at start). Exits on SIGTERM/SIGINT.
"""
import argparse
import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import simdev as sd  # noqa: E402  (next to this file)

APP_PATH = "/org/recoveryd/scale"

# Weight Measurement flags (u8)
WM_TIMESTAMP, WM_USER, WM_BMI_HEIGHT = 0x02, 0x04, 0x08
# Body Composition Measurement flags (u16)
BCM_TIMESTAMP, BCM_USER, BCM_IMPEDANCE, BCM_WEIGHT, BCM_HEIGHT = 0x0002, 0x0004, 0x0200, 0x0400, 0x0800
# Weight Scale Feature (u32): time stamp, multiple users, BMI; resolutions
WSF_TIMESTAMP, WSF_USERS, WSF_BMI = 0x1, 0x2, 0x4
WSF_WEIGHT_RES_SHIFT, WSF_HEIGHT_RES_SHIFT = 3, 7
# Body Composition Feature (u32)
BCF_TIMESTAMP, BCF_USERS, BCF_IMPEDANCE, BCF_WEIGHT, BCF_HEIGHT = 0x1, 0x2, 0x100, 0x200, 0x400
BCF_WEIGHT_RES_SHIFT, BCF_HEIGHT_RES_SHIFT = 11, 15
RES_0_005_KG, RES_0_001_M = 7, 3

USER_UNKNOWN = 0xFF
CONFIRM_TIMEOUT_S = 5
ONE_SUBSCRIPTION_GRACE_S = 2

log = sd.Logger("scale")


def mass_raw(kg):
    raw = round(kg / 0.005)
    if not 0 <= raw < 0xFFFF:  # 0xFFFF is "measurement unsuccessful"
        raise ValueError("weight %.3f kg out of range" % kg)
    return raw


def weight_measurement(kg, t, user=None, height_m=None):
    flags = WM_TIMESTAMP | (WM_USER if user is not None else 0) | (WM_BMI_HEIGHT if height_m else 0)
    value = struct.pack("<BH", flags, mass_raw(kg)) + sd.date_time(t)
    if user is not None:
        value += bytes([user])
    if height_m:
        value += struct.pack("<HH", round(kg / height_m ** 2 * 10), round(height_m * 1000))
    return value


def body_composition(kg, fat_pct, impedance_ohm, t, user=None, height_m=None):
    flags = BCM_TIMESTAMP | BCM_IMPEDANCE | BCM_WEIGHT
    flags |= (BCM_USER if user is not None else 0) | (BCM_HEIGHT if height_m else 0)
    value = struct.pack("<HH", flags, round(fat_pct * 10)) + sd.date_time(t)
    if user is not None:
        value += bytes([user])
    value += struct.pack("<HH", round(impedance_ohm * 10), mass_raw(kg))
    if height_m:
        value += struct.pack("<H", round(height_m * 1000))
    return value


def wss_feature(height):
    bits = WSF_TIMESTAMP | WSF_USERS | RES_0_005_KG << WSF_WEIGHT_RES_SHIFT
    if height:
        bits |= WSF_BMI | RES_0_001_M << WSF_HEIGHT_RES_SHIFT
    return struct.pack("<I", bits)


def bcs_feature(height):
    bits = BCF_TIMESTAMP | BCF_USERS | BCF_IMPEDANCE | BCF_WEIGHT | RES_0_005_KG << BCF_WEIGHT_RES_SHIFT
    if height:
        bits |= BCF_HEIGHT | RES_0_001_M << BCF_HEIGHT_RES_SHIFT
    return struct.pack("<I", bits)


class Weighing:
    def __init__(self, number, args, t):
        self.number = number
        self.kg = args.weight[number % len(args.weight)]
        self.fat = args.body_fat[number % len(args.body_fat)]
        # A plausible impedance: higher with more body fat.
        self.impedance = args.impedance if args.impedance else 400.0 + 8.0 * (self.fat - 20.0)
        self.t = t
        user = None if args.no_user else args.user
        self.wm = weight_measurement(self.kg, t, user, args.height)
        self.bcm = body_composition(self.kg, self.fat, self.impedance, t, user, args.height)

    def __str__(self):
        return "weighing #%d (%.2f kg, %.1f %% fat, %.0f ohm, %s)" % (
            self.number + 1, self.kg, self.fat, self.impedance, time.strftime("%H:%M:%S", time.localtime(self.t)))


class Scale:
    def __init__(self, bus, args, loop, address):
        self.bus = bus
        self.args = args
        self.loop = loop
        self.address = address
        self.exit_status = 0
        self.awake = False
        self.taken = 0  # weighings taken so far (their numbers)
        self.pending = []  # taken, not yet confirmed
        self.delivered = 0
        self.sending = None  # (weighing, [(chrc, value), ...], next step)
        self.timers = {}
        self.app_registered = False
        self.ready_written = False
        self.wake_stamp = None
        self.links = []

        self.app = sd.Application(bus, APP_PATH)
        wss = sd.Service(bus, self.app, 0, sd.uuid16(0x181D))
        self.wm = sd.Characteristic(bus, wss, 0, sd.uuid16(0x2A9D), ["indicate"], log=log,
                                    on_subscribe=self.subscribed, on_unsubscribe=self.unsubscribed,
                                    on_confirm=self.confirmed)
        sd.Characteristic(bus, wss, 1, sd.uuid16(0x2A9E), ["read"], wss_feature(args.height), log=log)
        bcs = sd.Service(bus, self.app, 1, sd.uuid16(0x181B))
        self.bcm = sd.Characteristic(bus, bcs, 0, sd.uuid16(0x2A9C), ["indicate"], log=log,
                                     on_subscribe=self.subscribed, on_unsubscribe=self.unsubscribed,
                                     on_confirm=self.confirmed)
        sd.Characteristic(bus, bcs, 1, sd.uuid16(0x2A9B), ["read"], bcs_feature(args.height), log=log)
        bas = sd.Service(bus, self.app, 2, sd.uuid16(0x180F))
        sd.Characteristic(bus, bas, 0, sd.uuid16(0x2A19), ["read"], bytes([args.battery]), log=log)

        props = {
            "Type": "peripheral",  # connectable, public address
            "ServiceUUIDs": sd.dbus.Array(["181D", "181B"], signature="s"),
            "LocalName": args.name,
            "Appearance": sd.dbus.UInt16(0x0C80),  # Weight Scale
            "Discoverable": sd.dbus.Boolean(True),
        }
        self.adv = sd.Advertisement(bus, APP_PATH + "/advertisement0", props, log)
        self.slot = sd.AdvertisingSlot(bus, args.adapter, self.adv, log, on_error=self.adv_error)
        self.started = False  # the first registration's set-up is done
        self.app_retries = 0
        self.watch = sd.BluezWatch(bus, args.adapter, log, alias=args.name,
                                   on_lost=self.bluez_lost, on_back=self.bluez_back)

    # -- timers by name (one of each at a time)

    def after(self, name, seconds, func):
        self.cancel(name)

        def fire():
            del self.timers[name]
            func()
            return False
        self.timers[name] = sd.GLib.timeout_add(int(seconds * 1000), fire)

    def cancel(self, name):
        if name in self.timers:
            sd.GLib.source_remove(self.timers.pop(name))

    # -- start-up

    def start(self):
        self.register_app()

    def register_app(self):
        epoch = self.watch.epoch
        sd.bluez_call(self.bus, "/org/bluez/" + self.args.adapter, sd.GATT_MANAGER_IFACE, "RegisterApplication",
                      "oa{sv}", [sd.dbus.ObjectPath(APP_PATH), sd.no_options()],
                      reply=lambda: self.app_ok() if epoch == self.watch.epoch else None,
                      error=lambda e: self.app_failed(epoch, e))

    def app_ok(self):
        self.app_registered = True
        self.app_retries = 0
        if self.started:  # bluetoothd restarted: the advertisement follows the application
            log("GATT application registered again on %s (0x181D, 0x181B, 0x180F)" % self.args.adapter)
            self.slot.resume()
            return
        self.started = True
        log("GATT application registered on %s (0x181D, 0x181B, 0x180F)" % self.args.adapter)
        a = self.args
        if a.wake_file:
            self.wake_stamp = sd.file_stamp(a.wake_file)
            sd.GLib.timeout_add(500, self.poll_wake_file)
            if self.wake_stamp is not None:
                self.wake("wake file present")
            else:
                log("asleep until %s appears" % a.wake_file)
                self.maybe_ready()
        elif a.start_after > 0:
            log("asleep for %g s" % a.start_after)
            self.after("wake", a.start_after, lambda: self.wake("start-after"))
            self.maybe_ready()
        else:
            self.wake("start")
        sd.GLib.timeout_add(int(a.announce_every * 1000), self.announce_tick)

    def app_failed(self, epoch, error):
        if epoch != self.watch.epoch:
            return
        if self.app_retries > 0:
            self.app_retries -= 1
            log("RegisterApplication failed: %s; trying again in 1 s (%d more)" % (error, self.app_retries))
            self.after("register", 1, lambda: self.register_app() if epoch == self.watch.epoch else None)
            return
        if sd.bluetoothd_gone(error):
            log("RegisterApplication failed: %s; waiting for bluetoothd" % error)
            return
        log("RegisterApplication FAILED: %s" % error)
        self.exit_status = 1
        self.loop.quit()

    # -- bluetoothd restarts (see simdev.BluezWatch)

    def bluez_lost(self):
        self.app_registered = False
        self.cancel("register")
        self.slot.suspend()
        self.links = []
        self.app.drop_subscriptions("bluetoothd went away")

    def bluez_back(self):
        self.app_retries = 10
        self.register_app()

    def adv_error(self, what, error):
        if what == "RegisterAdvertisement":
            self.exit_status = 1
            self.loop.quit()

    def maybe_ready(self):
        if self.ready_written or not self.app_registered:
            return
        if self.awake and not self.slot.registered:
            return
        self.ready_written = True
        sd.write_ready(self.args.ready_file, "scale %r on %s (%s)" % (self.args.name, self.args.adapter, self.address))

    # -- waking and sleeping

    def wake(self, why):
        if self.awake:
            return
        self.awake = True
        now = time.time()
        n = self.args.count
        for j in range(n):
            # Stored as if taken a minute apart, the last one now.
            w = Weighing(self.taken, self.args, now - 60 * (n - 1 - j))
            self.taken += 1
            self.pending.append(w)
            log("took %s" % w)
        log("awake (%s): advertising, %d weighing(s) to send" % (why, len(self.pending)))
        self.slot.register(self.advertising)
        if self.args.awake_for > 0:
            self.after("doze", self.args.awake_for, lambda: self.sleep("nobody came within %g s" % self.args.awake_for))
        if self.wm.notifying or self.bcm.notifying:  # --stay-connected: still subscribed
            self.after("deliver", 0.3, self.deliver)

    def advertising(self):
        if self.awake:
            log("advertising 0x181D, 0x181B as %r on %s" % (self.args.name, self.args.adapter))
        self.maybe_ready()

    def sleep(self, why):
        if not self.awake:
            return
        self.awake = False
        self.cancel("doze")
        self.cancel("linger")
        log("going to sleep (%s): advertising off%s; %d delivered, %d stored" % (
            why, "" if self.args.stay_connected else ", link dropped", self.delivered, len(self.pending)))
        self.slot.unregister(self.drop_links)
        if self.args.repeat_every > 0:
            self.after("wake", self.args.repeat_every, lambda: self.wake("repeat-every"))

    def drop_links(self):
        if self.args.stay_connected or self.awake:
            return
        sd.connected_devices(self.bus, self.args.adapter,
                             lambda paths: [sd.disconnect(self.bus, p, log) for p in paths])

    def poll_wake_file(self):
        stamp = sd.file_stamp(self.args.wake_file)
        if stamp is not None and stamp != self.wake_stamp:
            self.wake_stamp = stamp
            if self.awake:
                log("wake file changed while awake: ignored")
            else:
                self.wake("wake file")
        return True

    # -- re-announcing while awake and not connected

    def announce_tick(self):
        if self.awake and self.slot.registered and self.sending is None:
            sd.connected_devices(self.bus, self.args.adapter, self.announce_unless_linked)
        return True

    def announce_unless_linked(self, paths):
        if paths != self.links:
            self.links = paths
            log("central connected: %s" % paths[0].rsplit("/", 1)[-1] if paths else "no central connected")
        if not paths and self.awake:
            self.slot.announce()

    # -- indications

    def subscribed(self, chrc):
        if self.wm.notifying and self.bcm.notifying:
            self.after("deliver", 0.3, self.deliver)
        elif "deliver" not in self.timers:
            self.after("deliver", ONE_SUBSCRIPTION_GRACE_S, self.deliver)

    def unsubscribed(self, chrc):
        if self.sending and not (self.wm.notifying or self.bcm.notifying):
            log("central gone during %s: kept for the next connection" % self.sending[0])
            self.sending = None
            self.cancel("confirm")
        if not (self.wm.notifying or self.bcm.notifying):
            self.cancel("deliver")

    def deliver(self):
        if self.sending or not self.awake:
            return
        if not self.pending:
            return
        steps = [(c, v) for c, v in ((self.wm, self.pending[0].wm), (self.bcm, self.pending[0].bcm)) if c.notifying]
        if not steps:
            return
        self.cancel("doze")
        self.sending = [self.pending[0], steps, 0]
        self.send_step()

    def send_step(self):
        w, steps, i = self.sending
        chrc, value = steps[i]
        if not chrc.set_value(value):
            log("0x%s no longer subscribed" % chrc.short)
            self.step_done(chrc, confirmed=False)
            return
        log("0x%s indication (%s): %s" % (chrc.short, w, value.hex(" ")))
        self.after("confirm", CONFIRM_TIMEOUT_S, lambda: self.step_done(chrc, confirmed=False))

    def confirmed(self, chrc):
        if self.sending and self.sending[1][self.sending[2]][0] is chrc:
            self.step_done(chrc, confirmed=True)

    def step_done(self, chrc, confirmed):
        self.cancel("confirm")
        if not confirmed:
            log("0x%s: no confirmation within %d s" % (chrc.short, CONFIRM_TIMEOUT_S))
        else:
            log("0x%s confirmed" % chrc.short)
        w, steps, i = self.sending
        if i + 1 < len(steps):
            self.sending[2] = i + 1
            self.send_step()
            return
        self.sending = None
        self.pending.remove(w)
        self.delivered += 1
        log("%s delivered (%d so far)" % (w, self.delivered))
        if self.pending:
            self.after("deliver", 0.3, self.deliver)
        else:
            self.after("linger", self.args.linger, lambda: self.sleep("all weighings delivered"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Simulated standard BLE body composition scale (BlueZ D-Bus peripheral).")
    p.add_argument("--adapter", default="hci1", help="adapter to use (default hci1)")
    p.add_argument("--name", default="Scale-Sim", help="advertised local name (default Scale-Sim)")
    p.add_argument("--weight", type=sd.float_list, default=[72.5], metavar="KG[,KG...]",
                   help="weight of each weighing, in turn (default 72.5)")
    p.add_argument("--body-fat", type=sd.float_list, default=[18.5], metavar="PCT[,PCT...]",
                   help="body fat of each weighing, in turn (default 18.5)")
    p.add_argument("--impedance", type=float, default=0, metavar="OHM",
                   help="impedance (default: 400 + 8 x (body fat - 20))")
    p.add_argument("--user", type=int, default=1, help="user id in both measurements (default 1; 255 = unknown)")
    p.add_argument("--no-user", action="store_true", help="leave the user id out")
    p.add_argument("--height", type=float, default=0, metavar="M",
                   help="also send BMI and height (0x2A9D) and height (0x2A9C)")
    p.add_argument("--count", type=int, default=1, help="weighings per wake-up and connection (default 1)")
    p.add_argument("--repeat-every", type=float, default=0, metavar="S",
                   help="wake again S seconds after going to sleep (default 0: once)")
    p.add_argument("--start-after", type=float, default=0, metavar="S",
                   help="sleep S seconds before the first wake-up (default 0)")
    p.add_argument("--wake-file", metavar="PATH",
                   help="sleep until PATH exists; wake again whenever it changes")
    p.add_argument("--awake-for", type=float, default=0, metavar="S",
                   help="go back to sleep if no central took the weighings within S s (default 0: stay awake)")
    p.add_argument("--linger", type=float, default=2, metavar="S",
                   help="seconds from the last confirmation to sleep (default 2)")
    p.add_argument("--stay-connected", action="store_true", help="do not drop the link when going to sleep")
    p.add_argument("--battery", type=int, default=64, help="battery level in %% (default 64)")
    p.add_argument("--announce-every", type=float, default=2.0, metavar="S",
                   help="seconds between re-announcements while awake and not connected (default 2)")
    p.add_argument("--ready-file", default=os.environ.get("E2E_READY_FILE"),
                   help="file written once registered (default $E2E_READY_FILE)")
    p.add_argument("--print-values", action="store_true",
                   help="print the first wake-up's values as hex (uuid hex) and exit")
    args = p.parse_args(argv)
    if not 1 <= args.count <= 20 or not 0 <= args.user <= 255 or not 0 <= args.battery <= 100:
        p.error("need 1 <= --count <= 20, 0 <= --user <= 255, 0 <= --battery <= 100")
    if args.announce_every < 0.5 or min(args.repeat_every, args.start_after, args.awake_for, args.linger) < 0:
        p.error("need --announce-every >= 0.5 and no negative times")
    if any(not 0 < kg < 327 for kg in args.weight) or any(not 0 <= f <= 100 for f in args.body_fat):
        p.error("weights must be 0-327 kg, body fat 0-100 %")
    if not 0 <= args.impedance <= 6553 or not (args.height == 0 or 0.5 <= args.height <= 2.5):
        p.error("need 0 <= --impedance <= 6553 ohm and --height 0.5-2.5 m")
    if len(args.name.encode()) > 16:
        p.error("--name: at most 16 bytes (31-byte advertising data)")
    return args


def main():
    args = parse_args()
    if args.print_values:
        now = time.time()
        print("2a9e %s" % wss_feature(args.height).hex())
        print("2a9b %s" % bcs_feature(args.height).hex())
        for j in range(args.count):
            w = Weighing(j, args, now - 60 * (args.count - 1 - j))
            print("2a9d %s" % w.wm.hex())
            print("2a9c %s" % w.bcm.hex())
        return 0

    bus, loop = sd.main_loop()
    address = sd.prepare_adapter(bus, args.adapter, args.name)
    log("%s address %s; weight %s kg, body fat %s %%, user %s, %d per connection, repeat every %g s" % (
        args.adapter, address, ",".join("%g" % x for x in args.weight), ",".join("%g" % x for x in args.body_fat),
        "-" if args.no_user else args.user, args.count, args.repeat_every))
    scale = Scale(bus, args, loop, address)
    scale.start()
    sd.run(loop, lambda name: log("%s: stopping; %d weighing(s) delivered, %d stored" % (
        name, scale.delivered, len(scale.pending))))
    return scale.exit_status


if __name__ == "__main__":
    sys.exit(main())
