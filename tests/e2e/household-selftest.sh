#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# household-selftest.sh - the household's simulated devices against real BlueZ
# and recoveryctl: six controllers (CONTROLLERS=6), peripherals/household.sh's
# default household on hci1-hci5 (strap, standard scale, Mi scale, BTHome bed
# sensor, a foreign strap), and as the central on hci0
# centrals/household-check.sh (recoveryctl scan, then recoveryctl watch of the
# standard scale).
#
# Before the VM boots, the payloads scale.py and advertiser.py send are
# decoded on the host with `recoveryctl decode` (a failure there is a FAIL
# without a VM run). The binary: $RECOVERYCTL, or the first argument.
# Exit 77 (SKIP) when the VM cannot run here. Not registered with ctest.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3

RECOVERYCTL=${1:-${RECOVERYCTL:-}}
[ -n "$RECOVERYCTL" ] || { echo "household-selftest.sh: set RECOVERYCTL or pass the binary's path" >&2; exit 2; }
case $RECOVERYCTL in
/*) ;;
*) RECOVERYCTL=$PWD/$RECOVERYCTL ;; # the guest runs it by absolute path
esac
[ -x "$RECOVERYCTL" ] || { echo "household-selftest.sh: $RECOVERYCTL is not an executable" >&2; exit 2; }

# ------------------------------------------------------------ host: payloads decode
decode_all() { # reads "uuid hex" lines; every one must decode (2a9b has no decoder)
	local uuid hex out n=0
	while read -r uuid hex; do
		[ "$uuid" != 2a9b ] || continue
		if ! out=$("$RECOVERYCTL" decode "$uuid" "$hex" 2>&1); then
			echo "recoveryctl decode $uuid $hex failed: $out"
			return 1
		fi
		n=$((n + 1))
	done
	echo "$n"
}
checked=0
for args in "scale.py --print-values --count 2 --weight 72.5,80.25 --body-fat 18.5,22" \
	"scale.py --print-values --height 1.78 --no-user" \
	"advertiser.py --print-values --mi-scale 64.2,81.3" \
	"advertiser.py --print-values --bthome"; do
	read -r -a words <<<"$args"
	if ! n=$("$py" "$here/peripherals/${words[0]}" "${words[@]:1}" | decode_all); then
		echo "$n"
		echo "E2E RESULT: FAIL (a simulated payload does not decode: ${words[0]})"
		exit 1
	fi
	checked=$((checked + n))
done
echo "host: $checked simulated payloads decode with recoveryctl decode"

# ------------------------------------------------------------ the VM
if [ -z "${WORKDIR:-}" ]; then
	if [ -e CTestTestfile.cmake ]; then
		WORKDIR=$PWD/e2e-household.work
	else
		WORKDIR=${TMPDIR:-/tmp}/recoveryd-e2e-household
	fi
fi
export WORKDIR
export CONTROLLERS=6
export VM_TIMEOUT=${VM_TIMEOUT:-240}
export PERIPHERAL_WAIT=${PERIPHERAL_WAIT:-60}
export PERIPHERAL_CMD="bash $here/peripherals/household.sh"
quoted=$(printf %q "$RECOVERYCTL")
export CENTRAL_CMD="RECOVERYCTL=$quoted bash $here/centrals/household-check.sh"
exec "$here/vm.sh"
