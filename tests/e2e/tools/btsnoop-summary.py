#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""One-line summary of a btmon capture (btsnoop, datalink 2001 "monitor").

vm.sh prints it after each run: advertising reports and LE connections seen
by each controller, and the ATT notifications/indications each one received.
(btmon 5.66's own `-r` reader is not used: it crashes on some of these files.)

usage: btsnoop-summary.py FILE
"""
import struct
import sys
from collections import Counter

# monitor opcodes (lower 16 bits of the record flags; the upper 16 are the index)
EVENT, ACL_RX = 3, 5
ATT_NAMES = {0x1B: "notification", 0x1D: "indication", 0x23: "multiple-notification"}
LE_META = 0x3E
ADV_REPORTS = {0x02: "legacy", 0x0D: "extended"}
LE_CONN_COMPLETE = {0x01, 0x0A}


def records(data):
    """Yield (controller index, opcode, packet) for each record."""
    if data[:8] != b"btsnoop\0":
        raise ValueError("not a btsnoop file")
    off = 16
    while off + 24 <= len(data):
        _orig, incl, flags, _drops, _ts = struct.unpack(">IIIIq", data[off:off + 24])
        yield flags >> 16, flags & 0xFFFF, data[off + 24:off + 24 + incl]
        off += 24 + incl


def main():
    counts = Counter()
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    for index, opcode, pkt in records(data):
        hci = "hci%d" % index
        if opcode == EVENT and len(pkt) >= 3 and pkt[0] == LE_META:
            if pkt[2] in ADV_REPORTS:
                counts[(hci, "advertising reports")] += 1
            elif pkt[2] in LE_CONN_COMPLETE:
                counts[(hci, "LE connections")] += 1
        elif opcode == ACL_RX and len(pkt) >= 9:
            handle_flags = struct.unpack("<H", pkt[0:2])[0]
            if (handle_flags >> 12) & 0x3 == 0x1:
                continue  # continuation fragment: no L2CAP header
            cid = struct.unpack("<H", pkt[6:8])[0]
            if cid == 0x0004:
                att = pkt[8]
            elif cid >= 0x0040 and len(pkt) > 10:
                att = pkt[10]  # EATT: credit-based channel, 2-byte SDU length first
            else:
                continue
            if att in ATT_NAMES:
                channel = "ATT" if cid == 4 else "EATT"
                counts[(hci, "%s %s received" % (channel, ATT_NAMES[att]))] += 1
    parts = ["%s %s: %d" % (hci, what, n) for (hci, what), n in sorted(counts.items())]
    print("; ".join(parts) if parts else "no advertising, connections or notifications captured")


if __name__ == "__main__":
    main()
