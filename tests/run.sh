#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The project's one test command: installs what it needs (Debian 12, as root),
# checks formatting, builds a normal (gcc) and a sanitizer (clang, ASan+UBSan)
# build, runs every test in both (the e2e tests, which boot a VM with real
# bluetoothd, in the normal build only), replays the fuzz seeds and gives
# each fuzz target a short libFuzzer run, and runs the unit and fuzz-seed
# tests of an arm64 cross build under qemu-user (tests/cross/run-qemu.sh).
# Exits non-zero on any failure; ctest's summary of the normal build comes
# last.
#
#   FUZZ_RUNS=N      libFuzzer executions per target (default 1000000)
#   FUZZ_SECONDS=N   at most this long per target (default 10), one target
#                    per core at a time: the whole suite stays within CI's
#                    30 minutes on 2 cores as targets are added
#   SKIP_INSTALL=1   do not look for missing Debian packages
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_runs=${FUZZ_RUNS:-1000000}
fuzz_seconds=${FUZZ_SECONDS:-10}
failed=()

step() { printf '\n=== %s\n' "$*"; }

packages=(
	build-essential git cmake ninja-build pkg-config gcc clang
	libclang-rt-14-dev clang-format
	libglib2.0-dev libbluetooth-dev libmosquitto-dev mosquitto
	mosquitto-clients libsqlite3-dev sqlite3 libjson-glib-dev
	libsystemd-dev dbus openssl tzdata libfaketime
	chromium curl debhelper lintian fakeroot help2man
)

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	# The dashboard's libraries and the browser tests' driver come
	# through npm (Debian's, unless a node with its own npm is there).
	command -v npm >/dev/null || missing+=(nodejs npm)
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests/run.sh: missing packages and not root;" \
			"run: apt-get install ${missing[*]}" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends "${missing[@]}" \
			>/dev/null
}

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
	step "Debian packages"
	install_packages || { echo "package install failed" >&2; exit 1; }
	# arm64 cross toolchain, multiarch -dev packages, qemu-user-static.
	deploy/cross/setup.sh arm64 || failed+=(cross-setup)
fi

# The browser tests (ctest -L browser) need the dashboard's pinned libraries
# and playwright-core, from package-lock.json; never a browser download
# (they drive Debian's chromium). About 10 s; without the npm registry the
# run fails here rather than skipping those tests unseen.
step "npm ci: deploy/dashboard, tests/browser"
for dir in deploy/dashboard tests/browser; do
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci \
		--ignore-scripts --no-audit --no-fund --loglevel=error) ||
		failed+=("npm-$dir")
done

step "Formatting (.clang-format, clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1))"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null ||
	find gateway sensors mqtt tests -name '*.[ch]')
if [ ${#sources[@]} -gt 0 ] &&
	! clang-format --dry-run --Werror "${sources[@]}"; then
	echo "formatting differs: run clang-format -i on the files above"
	failed+=(format)
fi

configure_build() { # dir, target, extra cmake args... (output shown on failure)
	local dir=$1 target=$2 log
	shift 2
	log=$(mktemp)
	if cmake -S . -B "$dir" -G Ninja -DRECOVERYD_WERROR=ON "$@" >"$log" 2>&1 &&
		cmake --build "$dir" --target "$target" -j "$jobs" >>"$log" 2>&1; then
		echo "built in $dir"
		rm -f "$log"
		return 0
	fi
	tail -n 60 "$log"
	rm -f "$log"
	return 1
}

step "Build: gcc"
configure_build build all -DCMAKE_C_COMPILER=gcc || failed+=(build)
step "Build: clang, ASan+UBSan"
configure_build build-asan all -DCMAKE_C_COMPILER=clang \
	-DRECOVERYD_SANITIZE=ON || failed+=(build-asan)
step "Build: clang, libFuzzer"
configure_build build-fuzz fuzzers -DCMAKE_C_COMPILER=clang \
	-DRECOVERYD_FUZZ=ON || failed+=(build-fuzz)

# One target's libFuzzer run on a copy of its seeds; prints one line, and the
# reproducer and the log's tail on failure.
fuzz_one() { # fuzzer binary
	local fuzzer=$1 name corpus rc=0
	name=${fuzzer##*/fuzz-}
	corpus=$(mktemp -d)
	cp -r "tests/fuzz/$name/." "$corpus/"
	if "$fuzzer" -runs="$fuzz_runs" -max_total_time="$fuzz_seconds" \
		-artifact_prefix="build-fuzz/crash-$name-" "$corpus" \
		>"build-fuzz/fuzz-$name.log" 2>&1; then
		echo "fuzz-$name: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "build-fuzz/fuzz-$name.log")"
	else
		echo "fuzz-$name FAILED; reproducer and log:"
		ls build-fuzz/crash-"$name"-* 2>/dev/null
		tail -n 40 "build-fuzz/fuzz-$name.log"
		rc=1
	fi
	rm -rf "$corpus"
	return $rc
}

step "Fuzzing: $fuzz_runs runs or $fuzz_seconds s per target, $jobs at a time"
fuzz_pids=()
fuzz_names=()
for fuzzer in build-fuzz/tests/fuzz/fuzz-*; do
	case $fuzzer in *-replay) continue ;; esac
	[ -x "$fuzzer" ] || continue
	# Keep at most $jobs targets running: each is single-threaded.
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	fuzz_one "$fuzzer" &
	fuzz_pids+=($!)
	fuzz_names+=("fuzz-${fuzzer##*/fuzz-}")
done
for i in "${!fuzz_pids[@]}"; do
	wait "${fuzz_pids[$i]}" || failed+=("${fuzz_names[$i]}")
done

step "Cross build: arm64, unit and fuzz-seed tests under qemu-user"
# It skips (77, saying why) without the cross packages: a failure here,
# where they were installed above, unless SKIP_INSTALL=1 left them out.
JOBS=$jobs tests/cross/run-qemu.sh arm64
rc=$?
if [ $rc -ne 0 ] && { [ $rc -ne 77 ] || [ "${SKIP_INSTALL:-0}" != 1 ]; }; then
	failed+=(tests-arm64)
fi

export G_DEBUG=fatal-warnings
step "Tests: ASan+UBSan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE e2e ||
	failed+=(tests-asan)
step "Tests: normal build"
ctest --test-dir build --output-on-failure -j "$jobs" || failed+=(tests)

if [ ${#failed[@]} -gt 0 ]; then
	echo "tests/run.sh: FAILED: ${failed[*]}" >&2
	exit 1
fi
