#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""advertiser.py - simulated BLE devices that speak only through service data.

Runs on one adapter of the local bluetoothd and advertises, through BlueZ's
LEAdvertisingManager1, what one of these devices sends:

--mi-scale KG[:OHM][,KG[:OHM]...]
    A Xiaomi Mi Body Composition Scale 2 (name "MIBFS"): service data 0x181B,
    13 bytes: control (2 bytes) | Date Time (year le16, month, day, hours,
    minutes, seconds) | impedance le16 (ohm) | weight le16 (0.005 kg). Each
    weighing, one after the other, goes like a real one, one frame per
    --frame-every seconds:
      --settle frames settling  control 02 04 (kg), weight approaching,
                                impedance 00 00
      1 frame stabilised        02 24, impedance not yet valid (fd ff)
      --hold s stabilised       02 26: impedance valid (default 480 ohm)
      2 frames load removed     02 a6, the same values
    then the scale sleeps (advertising off) for --gap seconds before the next
    weighing. --settle 0 leaves out the settling frames and the frame without
    impedance: then every weighing is one measurement (02 26) and its removal.
    After the last weighing: sleep, or start over after --repeat-every
    seconds. With --wake-file PATH each weighing waits until PATH appears or
    changes (a test's trigger; the list is used in turn).

--bthome
    A BTHome v2 bed-occupancy sensor (name "BTHome-Bed"): service data 0xFCD2,
    unencrypted, not trigger-based: device information 0x40 | packet id
    (0x00, u8) | battery (0x01, u8 %) | temperature (0x02, s16, 0.01 degC) |
    occupancy (0x23, u8 0/1), objects in id order. The occupancy is read
    every second from --state-file (contents "1" or "0"; missing: unchanged,
    --occupied at start); the packet id goes up by one whenever the data
    changes (and every --heartbeat seconds, if given), so a receiver that
    drops repeated packet ids sees each change once.

Both advertise as type "peripheral": connectable, from the controller's
public address. Under btvirt a non-connectable ("broadcast") advertisement
gets a new random address every time its data is set, i.e. a new device per
frame, and no allowlist could name it (--broadcast does that, for trying).
btvirt sends one advertising report each time the data is set and never
repeats it, so the data is set again (PropertiesChanged on the
LEAdvertisement1, even when unchanged) every --frame-every s (Mi scale,
awake) or --announce-every s (BTHome), and at once on a change.

When bluetoothd restarts, the device waits for it, powers its adapter again
if needed and registers its advertisement again, with the data of the
moment (simdev.BluezWatch; each step in the log); meanwhile the Mi scale's
frames and the BTHome state go on as before.

--print-values prints the payloads (hex, one "uuid hex" per line: the first
weighing's frames, or the BTHome frames for 0 and 1) and exits without
touching D-Bus, so that a host-side check can run `recoveryctl decode` on
them. The ready file ($E2E_READY_FILE or --ready-file) is written once the
first advertisement is registered (at once if the Mi scale starts asleep).
Exits on SIGTERM/SIGINT.
"""
import argparse
import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import simdev as sd  # noqa: E402  (next to this file)

APP_PATH = "/org/recoveryd/advertiser"

MI_UUID = "181b"
MI_CTRL_BASE = 0x0402  # byte 0 bit 1 and byte 1 bit 2: set in every published frame
MI_CTRL_IMPEDANCE = 0x0200
MI_CTRL_STABILISED = 0x2000
MI_CTRL_REMOVED = 0x8000
MI_IMPEDANCE_NOT_READY = 0xFFFD
MI_DEFAULT_OHM = 480

BTHOME_UUID = "fcd2"
BTHOME_INFO = 0x40  # version 2, unencrypted, regular (not trigger-based)
BT_PACKET_ID, BT_BATTERY, BT_TEMPERATURE, BT_OCCUPANCY = 0x00, 0x01, 0x02, 0x23

log = sd.Logger("advertiser")


# ---------------------------------------------------------------- payloads


def mi_frame(control, kg, ohm, t):
    """One Mi Body Composition Scale 2 frame (13 bytes)."""
    raw = round(kg / 0.005)
    if not 0 <= raw <= 0xFFFF:
        raise ValueError("weight %.3f kg out of range" % kg)
    return struct.pack("<H", control) + sd.date_time(t) + struct.pack("<HH", ohm, raw)


def mi_weighing_frames(kg, ohm, t, settle, hold_frames):
    """(frame, note) for one weighing: settling, stabilised, removed."""
    stable = MI_CTRL_BASE | MI_CTRL_STABILISED
    frames = []
    for k in range(settle):
        approach = kg * (1 - 0.04 * (settle - k) / settle)
        frames.append((mi_frame(MI_CTRL_BASE, approach, 0, t), "settling %.2f kg" % approach))
    if settle:
        frames.append((mi_frame(stable, kg, MI_IMPEDANCE_NOT_READY, t), "stabilised %.2f kg" % kg))
    for _ in range(hold_frames):
        frames.append((mi_frame(stable | MI_CTRL_IMPEDANCE, kg, ohm, t),
                       "stabilised %.2f kg, %d ohm" % (kg, ohm)))
    for _ in range(2):
        frames.append((mi_frame(stable | MI_CTRL_IMPEDANCE | MI_CTRL_REMOVED, kg, ohm, t),
                       "load removed (%.2f kg)" % kg))
    return frames


def bthome_frame(packet_id, battery, temperature_c, occupied):
    return (bytes([BTHOME_INFO, BT_PACKET_ID, packet_id & 0xFF, BT_BATTERY, battery, BT_TEMPERATURE])
            + struct.pack("<h", round(temperature_c * 100)) + bytes([BT_OCCUPANCY, 1 if occupied else 0]))


def parse_weighings(text):
    out = []
    for item in text.split(","):
        kg, _, ohm = item.partition(":")
        try:
            out.append((float(kg), int(ohm) if ohm else MI_DEFAULT_OHM))
        except ValueError:
            raise argparse.ArgumentTypeError("not KG[:OHM][,KG[:OHM]...]: %r" % text)
    if any(not 0 < kg < 327 or not 0 < ohm < 0xFFFD for kg, ohm in out):
        raise argparse.ArgumentTypeError("weights 0-327 kg, impedances 1-65532 ohm")
    return out


def read_state(path):
    """True/False from a state file ("1"/"0"), None if absent or unclear."""
    try:
        with open(path) as f:
            text = f.read(16).strip()
    except OSError:
        return None
    return {"1": True, "0": False}.get(text)


# ---------------------------------------------------------------- the device


class Device:
    def __init__(self, bus, args, loop, address):
        self.bus = bus
        self.args = args
        self.loop = loop
        self.address = address
        self.exit_status = 0
        self.ready_written = False
        self.timer = None
        if args.mi_scale:
            name, uuid, data = args.name or "MIBFS", MI_UUID, mi_frame(MI_CTRL_BASE, 0, 0, None)
        else:
            self.occupied = args.occupied
            self.packet_id = 0
            name, uuid, data = args.name or "BTHome-Bed", BTHOME_UUID, self.bthome_data()
        self.name = name
        props = {
            "Type": "broadcast" if args.broadcast else "peripheral",
            "ServiceData": sd.service_data(uuid, data),
            "LocalName": name,
            "Discoverable": sd.dbus.Boolean(True),
        }
        if args.broadcast:
            del props["Discoverable"]
        if sd.adv_data_length(props) > sd.ADV_DATA_MAX:
            raise SystemExit("advertiser.py: --name %r makes the advertising data longer than %d bytes"
                             % (name, sd.ADV_DATA_MAX))
        self.uuid = uuid
        self.adv = sd.Advertisement(bus, APP_PATH + "/advertisement0", props, log)
        self.slot = sd.AdvertisingSlot(bus, args.adapter, self.adv, log, on_error=self.adv_error)
        # bluetoothd restarts: the advertisement (with the latest data) is
        # registered again once the adapter is back and powered.
        self.watch = sd.BluezWatch(bus, args.adapter, log, alias=name,
                                   on_lost=self.slot.suspend, on_back=self.slot.resume)

    def adv_error(self, what, error):
        if what == "RegisterAdvertisement":
            self.exit_status = 1
            self.loop.quit()

    def ready(self):
        if not self.ready_written:
            self.ready_written = True
            kind = "mi-scale" if self.args.mi_scale else "bthome"
            sd.write_ready(self.args.ready_file, "advertiser %s %r on %s (%s)" % (
                kind, self.name, self.args.adapter, self.address))

    def later(self, seconds, func):
        if self.timer:
            sd.GLib.source_remove(self.timer)

        def fire():
            self.timer = None
            func()
            return False
        self.timer = sd.GLib.timeout_add(int(seconds * 1000), fire)

    def set_data(self, data):
        """New service data: announced at once if advertising, else it is
        what the registration will read."""
        value = sd.service_data(self.uuid, data)
        if self.slot.registered and self.slot.wanted and not self.slot.busy:
            self.adv.update(ServiceData=value)
        else:
            self.adv.props["ServiceData"] = value
            self.slot.register(self.ready)

    # -- Mi scale

    def mi_start(self):
        a = self.args
        self.mi_next = 0
        self.mi_frames = []
        self.mi_awake = False
        if a.wake_file:
            self.wake_stamp = sd.file_stamp(a.wake_file)
            sd.GLib.timeout_add(500, self.mi_poll_wake_file)
            if self.wake_stamp is None:
                log("asleep until %s appears" % a.wake_file)
                self.ready()
            else:
                self.mi_weigh()
        elif a.start_after > 0:
            log("asleep for %g s" % a.start_after)
            self.ready()
            self.later(a.start_after, self.mi_weigh)
        else:
            self.mi_weigh()

    def mi_weigh(self):
        a = self.args
        kg, ohm = a.mi_scale[self.mi_next % len(a.mi_scale)]
        self.mi_next += 1
        hold = max(1, round(a.hold / a.frame_every))
        self.mi_frames = mi_weighing_frames(kg, ohm, time.time(), a.settle, hold)
        self.mi_awake = True
        log("weighing %d: %.2f kg, %d ohm (%d frames)" % (self.mi_next, kg, ohm, len(self.mi_frames)))
        self.mi_frame_tick()

    def mi_frame_tick(self):
        if not self.mi_frames:
            self.mi_sleep()
            return
        data, note = self.mi_frames.pop(0)
        self.set_data(data)
        log("0x181B %s: %s" % (data.hex(" "), note))
        self.later(self.args.frame_every, self.mi_frame_tick)

    def mi_sleep(self):
        a = self.args
        self.mi_awake = False
        self.slot.unregister()
        if a.wake_file:
            log("asleep until %s changes" % a.wake_file)
        elif self.mi_next % len(a.mi_scale):
            log("asleep for %g s" % a.gap)
            self.later(a.gap, self.mi_weigh)
        elif a.repeat_every > 0:
            log("all %d weighings done; again in %g s" % (len(a.mi_scale), a.repeat_every))
            self.later(a.repeat_every, self.mi_weigh)
        else:
            log("all %d weighings done; asleep" % len(a.mi_scale))

    def mi_poll_wake_file(self):
        stamp = sd.file_stamp(self.args.wake_file)
        if stamp is not None and stamp != self.wake_stamp:
            self.wake_stamp = stamp
            if self.mi_awake:
                log("wake file changed during a weighing: ignored")
            else:
                self.mi_weigh()
        return True

    # -- BTHome

    def bthome_data(self):
        a = self.args
        return bthome_frame(self.packet_id, a.battery, a.temperature, self.occupied)

    def bthome_start(self):
        self.since_announce = 0.0
        self.since_heartbeat = 0.0
        self.bthome_read_state()
        self.set_data(self.bthome_data())
        log("0xFCD2 %s: packet %d, occupancy %d" % (self.bthome_data().hex(" "), self.packet_id, self.occupied))
        sd.GLib.timeout_add(1000, self.bthome_tick)

    def bthome_read_state(self):
        if not self.args.state_file:
            return False
        state = read_state(self.args.state_file)
        if state is None or state == self.occupied:
            return False
        self.occupied = state
        return True

    def bthome_tick(self):
        a = self.args
        self.since_announce += 1
        self.since_heartbeat += 1
        changed = self.bthome_read_state()
        beat = a.heartbeat > 0 and self.since_heartbeat >= a.heartbeat
        if changed or beat:
            self.packet_id = (self.packet_id + 1) & 0xFF
            self.since_heartbeat = 0
            self.since_announce = 0
            self.set_data(self.bthome_data())
            log("0xFCD2 %s: packet %d, occupancy %d%s" % (
                self.bthome_data().hex(" "), self.packet_id, self.occupied, "" if changed else " (heartbeat)"))
        elif self.since_announce >= a.announce_every:
            self.since_announce = 0
            self.slot.announce()
        return True


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Simulated BLE advertisers: Mi Body Composition Scale 2, BTHome bed sensor.")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--mi-scale", type=parse_weighings, metavar="KG[:OHM][,...]",
                      help="a Mi Body Composition Scale 2 weighing these weights in turn")
    mode.add_argument("--bthome", action="store_true", help="a BTHome v2 bed-occupancy sensor")
    p.add_argument("--adapter", default="hci1", help="adapter to use (default hci1)")
    p.add_argument("--name", help="advertised local name (default MIBFS / BTHome-Bed)")
    p.add_argument("--broadcast", action="store_true",
                   help="advertise non-connectable (btvirt: a new random address per update)")
    g = p.add_argument_group("Mi scale")
    g.add_argument("--frame-every", type=float, default=1.0, metavar="S", help="seconds per frame (default 1)")
    g.add_argument("--settle", type=int, default=2, help="settling frames before the stable ones (default 2)")
    g.add_argument("--hold", type=float, default=3.0, metavar="S",
                   help="seconds the stabilised measurement is repeated (default 3)")
    g.add_argument("--gap", type=float, default=3.0, metavar="S", help="sleep between weighings (default 3)")
    g.add_argument("--repeat-every", type=float, default=0, metavar="S",
                   help="start the list again S s after the last weighing (default 0: once)")
    g.add_argument("--start-after", type=float, default=0, metavar="S", help="sleep before the first weighing")
    g.add_argument("--wake-file", metavar="PATH", help="each weighing waits until PATH appears or changes")
    g = p.add_argument_group("BTHome")
    g.add_argument("--state-file", metavar="PATH", help='occupancy control file: "1" or "0", read every second')
    g.add_argument("--occupied", type=int, choices=(0, 1), default=0, help="occupancy at start (default 0)")
    g.add_argument("--battery", type=int, default=95, help="battery level in %% (default 95)")
    g.add_argument("--temperature", type=float, default=21.5, help="temperature in degC (default 21.5)")
    g.add_argument("--heartbeat", type=float, default=0, metavar="S",
                   help="also a new packet id every S s (default 0: only on change)")
    g.add_argument("--announce-every", type=float, default=2.0, metavar="S",
                   help="seconds between re-announcements of unchanged data (default 2)")
    p.add_argument("--ready-file", default=os.environ.get("E2E_READY_FILE"),
                   help="file written once advertising (default $E2E_READY_FILE)")
    p.add_argument("--print-values", action="store_true", help="print the payloads as hex (uuid hex) and exit")
    args = p.parse_args(argv)
    if args.frame_every < 0.2 or args.announce_every < 0.5 or args.hold <= 0 or not 0 <= args.settle <= 20:
        p.error("need --frame-every >= 0.2, --announce-every >= 0.5, --hold > 0, 0 <= --settle <= 20")
    if min(args.gap, args.repeat_every, args.start_after, args.heartbeat) < 0:
        p.error("no negative times")
    if not 0 <= args.battery <= 100 or not -300 < args.temperature < 300:
        p.error("need 0 <= --battery <= 100 and -300 < --temperature < 300")
    args.occupied = bool(args.occupied)
    return args


def main():
    args = parse_args()
    if args.print_values:
        if args.mi_scale:
            kg, ohm = args.mi_scale[0]
            for data, _note in mi_weighing_frames(kg, ohm, time.time(), args.settle, 1):
                print("%s %s" % (MI_UUID, data.hex()))
        else:
            for pid, occupied in ((0, False), (1, True)):
                print("%s %s" % (BTHOME_UUID, bthome_frame(pid, args.battery, args.temperature, occupied).hex()))
        return 0

    bus, loop = sd.main_loop()
    address = sd.prepare_adapter(bus, args.adapter, args.name or ("MIBFS" if args.mi_scale else "BTHome-Bed"))
    dev = Device(bus, args, loop, address)
    if args.mi_scale:
        log("%s address %s: Mi scale, weighings %s" % (
            args.adapter, address, ", ".join("%g kg/%d ohm" % w for w in args.mi_scale)))
        dev.mi_start()
    else:
        log("%s address %s: BTHome bed sensor, state file %s" % (args.adapter, address, args.state_file or "-"))
        dev.bthome_start()
    sd.run(loop, lambda name: log("%s: stopping" % name))
    return dev.exit_status


if __name__ == "__main__":
    sys.exit(main())
