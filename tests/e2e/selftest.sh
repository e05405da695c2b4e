#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# selftest.sh - proves the e2e harness and our simulated strap work with real
# BlueZ: vm.sh with peripherals/hr-strap.py on hci1 and centrals/hr-check.py
# on hci0 (discover, connect, read 0x2A38/0x2A19, >= 5 valid 0x2A37
# notifications). Registered with ctest as e2e-harness (label e2e); exit 77
# (SKIP) when the VM cannot run here. Environment: see README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3

# Under ctest the working directory is the build tree (tests/): keep the
# run's files there, next to the build; otherwise under $TMPDIR.
if [ -z "${WORKDIR:-}" ]; then
	if [ -e CTestTestfile.cmake ]; then
		WORKDIR=$PWD/e2e-harness.work
	else
		WORKDIR=${TMPDIR:-/tmp}/recoveryd-e2e-harness
	fi
fi
export WORKDIR

export PERIPHERAL_CMD="$py $here/peripherals/hr-strap.py --adapter hci1 --seed ${STRAP_SEED:-1}"
export CENTRAL_CMD="$py $here/centrals/hr-check.py --adapter hci0 --address 00:AA:01:01:00:01 --count ${NOTIFS:-5} --timeout 60"
exec "$here/vm.sh"
