#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# gateway.sh - the whole gateway end to end (ctest: e2e-gateway): recoveryd
# with a real configuration, real bluetoothd 5.66 and a real mosquitto in the
# VM, against simulated devices on seven virtual controllers, through a
# compressed night with faults (centrals/gateway-check.sh says which).
#
#   tests/e2e/gateway.sh build/gateway/recoveryd
#
# The binary: the first argument or $RECOVERYD. Prints the check's FIGURE
# lines at the end and the wall time. Exit 77 (SKIP) when the VM cannot run
# here.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RECOVERYD=${1:-${RECOVERYD:-}}
[ -n "$RECOVERYD" ] || { echo "gateway.sh: pass the recoveryd binary's path" >&2; exit 2; }
case $RECOVERYD in
/*) ;;
*) RECOVERYD=$PWD/$RECOVERYD ;; # the guest runs it by absolute path
esac
[ -x "$RECOVERYD" ] || { echo "gateway.sh: $RECOVERYD is not an executable" >&2; exit 2; }

if [ -z "${WORKDIR:-}" ]; then
	if [ -e CTestTestfile.cmake ]; then
		WORKDIR=$PWD/e2e-gateway.work
	else
		WORKDIR=${TMPDIR:-/tmp}/recoveryd-e2e-gateway
	fi
fi
export WORKDIR
export CONTROLLERS=7
export VM_TIMEOUT=${VM_TIMEOUT:-600}
export CENTRAL_TIMEOUT=${CENTRAL_TIMEOUT:-480}
export PERIPHERAL_WAIT=${PERIPHERAL_WAIT:-90}
bed=/run/e2e/bed-occupied
# hci1 (alice's strap) is started and stopped by the central itself.
export PERIPHERAL_CMD="BED_STATE_FILE=$bed bash $here/peripherals/household.sh \
 'hci2 scale --weight 72.5 --body-fat 18.5 --user 1 --wake-file /run/e2e/scale-wake' \
 'hci3 mi-scale 64.2,81.3 --settle 0 --repeat-every 20' \
 'hci4 bthome --state-file $bed' \
 'hci5 strap --name HRM-Guest --seed 7' \
 'hci6 mi-scale 66.0 --settle 0 --repeat-every 15 --name MIBFS2'"
quoted=$(printf %q "$RECOVERYD")
export CENTRAL_CMD="RECOVERYD=$quoted bash $here/centrals/gateway-check.sh"
start=$(date +%s)
rc=0
"$here/vm.sh" || rc=$?
echo "--- figures"
grep -h '^FIGURE ' "$WORKDIR/out/central.log" 2>/dev/null | sed 's/^FIGURE /  /' || true
echo "  e2e_wall_s $(($(date +%s) - start))"
exit "$rc"
