#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# recoveryctl.sh - recoveryctl against real BlueZ in the e2e VM: our simulated
# strap on hci1, and as the central (hci0)
#   recoveryctl scan --adapter hci0 --seconds 10
#   recoveryctl watch 00:AA:01:01:00:01 --adapter hci0 --count 5
# asserting that the scan lists the strap with kind heart-rate and that watch
# prints >= 5 JSON lines with "heart_rate" and "address" (see
# centrals/recoveryctl-check.sh). The binary: $RECOVERYCTL, or the first
# argument. Exit 77 (SKIP) when the VM cannot run here.
#
# Registered with ctest in tests/CMakeLists.txt as e2e-recoveryctl:
#   add_test(NAME e2e-recoveryctl COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/e2e/recoveryctl.sh $<TARGET_FILE:recoveryctl>)
#   set_tests_properties(e2e-recoveryctl PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 600)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3

RECOVERYCTL=${1:-${RECOVERYCTL:-}}
[ -n "$RECOVERYCTL" ] || { echo "recoveryctl.sh: set RECOVERYCTL or pass the binary's path" >&2; exit 2; }
case $RECOVERYCTL in
/*) ;;
*) RECOVERYCTL=$PWD/$RECOVERYCTL ;; # the guest runs it by absolute path
esac
[ -x "$RECOVERYCTL" ] || { echo "recoveryctl.sh: $RECOVERYCTL is not an executable" >&2; exit 2; }

if [ -z "${WORKDIR:-}" ]; then
	if [ -e CTestTestfile.cmake ]; then
		WORKDIR=$PWD/e2e-recoveryctl.work
	else
		WORKDIR=${TMPDIR:-/tmp}/recoveryd-e2e-recoveryctl
	fi
fi
export WORKDIR

export PERIPHERAL_CMD="$py $here/peripherals/hr-strap.py --adapter hci1"
quoted=$(printf %q "$RECOVERYCTL")
export CENTRAL_CMD="RECOVERYCTL=$quoted bash $here/centrals/recoveryctl-check.sh"
exec "$here/vm.sh"
