#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# recoveryctl-check.sh - runs INSIDE the e2e VM as the central (see
# ../recoveryctl.sh): recoveryctl scan, then recoveryctl watch, against the
# simulated strap at $E2E_PERIPHERAL_ADDRESS. Outputs land in $E2E_OUT.
set -euo pipefail

: "${RECOVERYCTL:?set RECOVERYCTL to the recoveryctl binary}"
: "${E2E_OUT:?run inside the e2e VM (vm.sh)}"
strap=${E2E_PERIPHERAL_ADDRESS:-00:AA:01:01:00:01}
adapter=${E2E_CENTRAL_ADAPTER:-hci0}
failed=0

run() { # name timeout-seconds command...: stdout to $E2E_OUT/name.out, stderr to name.err
	local name=$1 limit=$2 rc=0
	shift 2
	echo "\$ $*"
	timeout -k 5 "$limit" "$@" >"$E2E_OUT/$name.out" 2>"$E2E_OUT/$name.err" || rc=$?
	sed 's/^/  | /' "$E2E_OUT/$name.out"
	[ ! -s "$E2E_OUT/$name.err" ] || sed 's/^/  ! /' "$E2E_OUT/$name.err"
	[ "$rc" != 124 ] || echo "  (timed out after ${limit}s)"
	return "$rc"
}

# 1. scan: the strap must be listed with its kind (text or JSON: same line).
if ! run scan 40 "$RECOVERYCTL" scan --adapter "$adapter" --seconds 10; then
	echo "FAIL: recoveryctl scan exited with an error"
	failed=1
elif grep -i -F "$strap" "$E2E_OUT/scan.out" | grep -q -i 'heart-rate'; then
	echo "ok: scan lists $strap as heart-rate"
else
	echo "FAIL: scan output has no line with $strap and heart-rate"
	failed=1
fi

# 2. watch: every stdout line is a JSON object with the strap's "address";
#    >= 5 of them carry "heart_rate" (other readings, e.g. the body sensor
#    location or the battery level, may come as lines of their own).
if ! run watch 90 "$RECOVERYCTL" watch "$strap" --adapter "$adapter" --count 5; then
	echo "FAIL: recoveryctl watch exited with an error"
	failed=1
fi
if /usr/bin/python3 - "$E2E_OUT/watch.out" "$strap" <<'PY'; then
import json, sys
path, strap = sys.argv[1], sys.argv[2].upper()
rates, other, problems = [], 0, []
for n, line in enumerate(open(path), 1):
    if not line.strip():
        continue
    try:
        obj = json.loads(line)
    except ValueError:
        problems.append("line %d is not JSON" % n)
        continue
    if not isinstance(obj, dict) or "address" not in obj:
        problems.append("line %d has no address" % n)
    elif str(obj["address"]).upper() != strap:
        problems.append("line %d has address %s" % (n, obj["address"]))
    elif "heart_rate" not in obj:
        other += 1
    elif not isinstance(obj["heart_rate"], (int, float)) or not 40 <= obj["heart_rate"] <= 90:
        problems.append("line %d: heart_rate %r is not 40-90 bpm" % (n, obj["heart_rate"]))
    else:
        rates.append(obj["heart_rate"])
for p in problems:
    print("  problem: " + p)
print("watch: %d heart-rate lines (%s bpm), %d other readings" % (
    len(rates), ",".join("%g" % r for r in rates), other))
sys.exit(0 if len(rates) >= 5 and not problems else 1)
PY
	echo "ok: watch printed >= 5 heart-rate JSON lines for $strap"
else
	echo "FAIL: watch did not print >= 5 JSON lines with heart_rate and address"
	failed=1
fi

[ "$failed" = 0 ] && echo "recoveryctl e2e: PASS" || echo "recoveryctl e2e: FAIL"
exit "$failed"
