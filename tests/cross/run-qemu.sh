#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The unit tests (label unit: the pure parsers, the engine, the GLib and
# SQLite modules) and the fuzz seed replays (label fuzz) of a cross build
# for ARCH, run under qemu-user. Builds only those test programs (plus
# recoveryd and recoveryctl, to run --version), with Debian's cross
# toolchain and deploy/cross/TRIPLET.cmake, in SOURCE_DIR/build-ARCH.
# Integration tests (a real mosquitto, a private D-Bus) stay with the
# native builds: they test the GLib, D-Bus and MQTT glue, not the
# architecture, and would double the cost.
#
#   tests/cross/run-qemu.sh arm64|armhf [SOURCE_DIR]
#
# Ends with "ARCH unit tests under qemu-user: N passed, N failed".
# Exit 0 passed, 1 failed, 77 skipped (toolchain, packages or qemu missing:
# deploy/cross/setup.sh ARCH installs them).
set -uo pipefail

arch=${1:-}
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
case $arch in
arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64 ;;
armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm ;;
*)
	echo "usage: ${0##*/} arm64|armhf [SOURCE_DIR]" >&2
	exit 2
	;;
esac
build=$src/build-$arch

skip() {
	echo "SKIP: $arch tests under qemu-user: $*"
	exit 77
}
command -v "$triplet-gcc" >/dev/null ||
	skip "no $triplet-gcc (deploy/cross/setup.sh $arch)"
command -v "$qemu-static" >/dev/null || command -v "$qemu" >/dev/null ||
	skip "no $qemu-static or $qemu (apt-get install qemu-user-static)"
"$triplet-pkg-config" --exists glib-2.0 libmosquitto sqlite3 2>/dev/null ||
	skip "the $arch -dev packages are missing (deploy/cross/setup.sh $arch)"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
if ! cmake -S "$src" -B "$build" -G Ninja -DRECOVERYD_WERROR=ON \
	-DCMAKE_TOOLCHAIN_FILE="$src/deploy/cross/$triplet.cmake" >"$log" 2>&1; then
	tail -n 40 "$log"
	echo "FAIL: configuring the $arch build"
	exit 1
fi
mapfile -t targets < <(ctest --test-dir "$build" -N -L 'unit|fuzz' |
	sed -n 's/^ *Test *#[0-9]*: //p')
if [ ${#targets[@]} -eq 0 ]; then
	echo "FAIL: no unit or fuzz tests in $build"
	exit 1
fi
if ! cmake --build "$build" -j "${JOBS:-$(nproc)}" --target recoveryd \
	recoveryctl "${targets[@]}" >"$log" 2>&1; then
	tail -n 60 "$log"
	echo "FAIL: building the $arch test programs"
	exit 1
fi
built=$SECONDS
echo "$arch: built ${#targets[@]} test programs, recoveryd and recoveryctl" \
	"in $((built - start)) s"

failed=0
emulator=$(command -v "$qemu-static" || command -v "$qemu")
version=$("$emulator" "$build/gateway/recoveryd" --version 2>&1) || failed=1
echo "$arch recoveryd --version under qemu-user: ${version:-nothing}"
case $version in recoveryd\ *) ;; *) failed=1 ;; esac

G_DEBUG=fatal-warnings ctest --test-dir "$build" -L 'unit|fuzz' \
	-j "${JOBS:-$(nproc)}" --output-on-failure >"$log" 2>&1
rc=$?
grep -E '^ *[0-9]+/[0-9]+ Test .*(Failed|Exception|Timeout|Not Run)' "$log"
[ $rc -eq 0 ] || tail -n 80 "$log"
total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$log")
bad=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed.*/\1/p' "$log")
echo "$arch: tests ran in $((SECONDS - built)) s (qemu-user)"
[ $rc -eq 0 ] && [ "$failed" -eq 0 ] || failed=1
echo "$arch unit tests under qemu-user: $((${total:-0} - ${bad:-0})) passed, ${bad:-0} failed"
exit $failed
