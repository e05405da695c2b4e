#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# household-check.sh - runs INSIDE the e2e VM as the central (see
# ../household-selftest.sh), against peripherals/household.sh's default
# household (CONTROLLERS=6):
#   1. recoveryctl scan --seconds 15, with the bed flipped to occupied after
#      5 s: every device listed under its own address with its kind, the Mi
#      scale with a weight, the bed sensor with occupancy true;
#   2. recoveryctl watch <scale> --count 2 --seconds 30: the weight (0x2A9D)
#      and body composition (0x2A9C) indications of one weighing.
# Outputs land in $E2E_OUT (scan.out, watch-scale.out, ...).
set -euo pipefail

: "${RECOVERYCTL:?set RECOVERYCTL to the recoveryctl binary}"
: "${E2E_OUT:?run inside the e2e VM (vm.sh)}"
adapter=${E2E_CENTRAL_ADAPTER:-hci0}
bed=${BED_STATE_FILE:-/run/e2e/bed-occupied}
strap=${E2E_ADDRESS_HCI1:?needs CONTROLLERS=6}
scale=${E2E_ADDRESS_HCI2:?needs CONTROLLERS=6}
miscale=${E2E_ADDRESS_HCI3:?needs CONTROLLERS=6}
bthome=${E2E_ADDRESS_HCI4:?needs CONTROLLERS=6}
guest=${E2E_ADDRESS_HCI5:?needs CONTROLLERS=6}
failed=0

T0=$(date +%s.%N)
stamp() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

run() { # name timeout-seconds command...: stdout to $E2E_OUT/name.out, stderr to name.err
	local name=$1 limit=$2 rc=0
	shift 2
	echo "[+$(stamp)s] \$ $*"
	timeout -k 5 "$limit" "$@" >"$E2E_OUT/$name.out" 2>"$E2E_OUT/$name.err" || rc=$?
	sed 's/^/  | /' "$E2E_OUT/$name.out"
	[ ! -s "$E2E_OUT/$name.err" ] || sed 's/^/  ! /' "$E2E_OUT/$name.err"
	[ "$rc" != 124 ] || echo "  (timed out after ${limit}s)"
	echo "[+$(stamp)s] exit status $rc"
	return "$rc"
}

# 1. scan, flipping the bed to occupied after 5 s
echo 0 >"$bed"
(sleep 5 && echo 1 >"$bed" && echo "[+$(stamp)s] bed sensor: wrote 1 to $bed") &
flipper=$!
if ! run scan 45 "$RECOVERYCTL" scan --adapter "$adapter" --seconds 15; then
	echo "FAIL: recoveryctl scan exited with an error"
	failed=1
fi
wait "$flipper" || true

# scan prints "%-17s  %-20.20s  %4s  %-10s  %-12s  %s": address, name, rssi,
# kind, a scale's family, last value
kind_of() { awk '{ k = substr($0, 48, 10); gsub(/ /, "", k); print k }' <<<"$1"; }
expect_line() { # address kind [pattern] description
	local line
	line=$(grep -i -F "$1" "$E2E_OUT/scan.out" || true)
	if [ -z "$line" ]; then
		echo "FAIL: scan does not list $4 ($1)"
		failed=1
	elif [ "$(kind_of "$line")" != "$2" ]; then
		echo "FAIL: scan lists $1 but not as $2: $line"
		failed=1
	elif [ -n "$3" ] && ! grep -q -E -- "$3" <<<"$line"; then
		echo "FAIL: scan lists $1 as $2 without /$3/: $line"
		failed=1
	else
		echo "ok: scan lists $4 $1 as $2${3:+ with /$3/}"
	fi
}
expect_line "$strap" heart-rate "" "the strap"
expect_line "$scale" scale " standard " "the standard scale"
# Every scale is a scale; its family says which.
# The Mi scale's last frame may be any of a weighing's (settling, stable, removed).
expect_line "$miscale" scale ' mi-scale-v2 .*"weight_kg":[0-9]' "the Mi scale"
expect_line "$bthome" bthome '"name":"occupancy","value":true' "the bed sensor"
expect_line "$guest" heart-rate "" "the foreign strap"

# 2. watch the standard scale: one weighing = a 0x2A9D and a 0x2A9C indication
if ! run watch-scale 60 "$RECOVERYCTL" watch "$scale" --adapter "$adapter" --count 2 --seconds 30; then
	echo "FAIL: recoveryctl watch $scale exited with an error"
	failed=1
fi
if /usr/bin/python3 - "$E2E_OUT/watch-scale.out" "$scale" <<'PY'; then
import json, sys
path, scale = sys.argv[1], sys.argv[2].upper()
weight = body = None
problems = []
for n, line in enumerate(open(path), 1):
    if not line.strip():
        continue
    try:
        obj = json.loads(line)
    except ValueError:
        problems.append("line %d is not JSON" % n)
        continue
    if str(obj.get("address", "")).upper() != scale:
        problems.append("line %d: address %r" % (n, obj.get("address")))
    elif "body_fat_pct" in obj:
        body = obj
    elif "weight_kg" in obj:
        weight = obj
if weight is None or weight.get("weight_kg") != 72.5 or weight.get("user_id") != 1 or "timestamp" not in weight:
    problems.append("no weight measurement of 72.5 kg, user 1, with a timestamp: %r" % weight)
if body is None or body.get("body_fat_pct") != 18.5 or body.get("weight_kg") != 72.5 \
        or body.get("user_id") != 1 or "impedance_ohm" not in body:
    problems.append("no body composition of 18.5 %% fat, 72.5 kg, user 1, impedance: %r" % body)
for p in problems:
    print("  problem: " + p)
sys.exit(1 if problems else 0)
PY
	echo "ok: watch received the scale's weight and body composition"
else
	echo "FAIL: watch did not print the scale's weighing"
	failed=1
fi

[ "$failed" = 0 ] && echo "household e2e: PASS" || echo "household e2e: FAIL"
exit "$failed"
