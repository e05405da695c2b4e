#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The first command of the README: installs the Debian packages recoveryd
# needs, builds it, starts a private mosquitto on a free loopback port (or
# uses the broker given), and runs the demo household: four simulated people
# whose straps, bed sensors and shared scale go through the real decoders,
# database, analysis and MQTT in accelerated time. Each morning alert is
# printed as it arrives on the broker, and the private broker serves the
# dashboard (deploy/dashboard) on a loopback address it prints. Everything it started is stopped and
# its temporary files removed on exit.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: deploy/quickstart.sh [OPTIONS]

Installs what is needed (Debian 12, as root), builds recoveryd and runs its
demo household, printing each morning alert as it arrives over MQTT.

Options:
  --seconds N        stop after N seconds (for a run without a terminal);
                     exit 0 only if every simulated person got an alert
  --speed SECONDS    seconds per simulated day (default 3; the first week
                     goes five times faster)
  --days N           simulated days (default 56: eight weeks)
  --broker HOST:PORT use this broker (plain MQTT) instead of starting one
  --keep-broker      leave the private broker running at the end, so that a
                     dashboard can still read the retained states
  --no-dashboard     do not build and serve the dashboard (it needs npm
                     once, to fetch its two pinned libraries)
  -h, --help         this text
EOF
}

here=$(cd "$(dirname "$0")/.." && pwd)
seconds=0
speed=3
days=56
broker=""
keep_broker=0
dashboard=1

while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
	--speed) speed=${2:?--speed needs seconds}; shift 2 ;;
	--days) days=${2:?--days needs a number}; shift 2 ;;
	--broker) broker=${2:?--broker needs HOST:PORT}; shift 2 ;;
	--keep-broker) keep_broker=1; shift ;;
	--no-dashboard) dashboard=0; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "quickstart: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done
case "$seconds" in '' | *[!0-9]*)
	echo "quickstart: --seconds takes a whole number" >&2; exit 2 ;;
esac

say() {
	if [ -t 1 ]; then printf '\033[1m==> %s\033[0m\n' "$*"
	else printf '==> %s\n' "$*"; fi
}

# --- packages -------------------------------------------------------------
packages=(build-essential cmake ninja-build pkg-config libglib2.0-dev
	libbluetooth-dev libmosquitto-dev mosquitto mosquitto-clients
	libsqlite3-dev libjson-glib-dev libsystemd-dev tzdata)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
# The dashboard's libraries come through npm (Debian's nodejs and npm,
# unless a node with its npm is there already).
if [ "$dashboard" = 1 ] && ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "quickstart: missing packages; as root run:" >&2
		echo "  apt-get install ${missing[*]}" >&2
		exit 1
	fi
	say "Installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- build -----------------------------------------------------------------
say "Building"
cd "$here"
if [ ! -f build/build.ninja ]; then
	cmake -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build build --target recoveryd recoveryctl -- -j"$(nproc)" |
	tail -n 1

# --- broker ------------------------------------------------------------------
work=$(mktemp -d /tmp/recoveryd-quickstart.XXXXXX)
pids=()
cleanup_dirs=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work" "${cleanup_dirs[@]}"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The dashboard's files, for the private broker's http_dir: outside $work
# (0700, with the database), readable by the user mosquitto drops to when
# started as root; left in place when the broker stays.
dashboard_dir=$(mktemp -d /tmp/recoveryd-dashboard.XXXXXX)
chmod 0755 "$dashboard_dir"
[ "$keep_broker" = 1 ] || cleanup_dirs+=("$dashboard_dir")
if [ -z "$broker" ] && [ "$dashboard" = 1 ]; then
	if ! "$here/deploy/dashboard/build.sh" "$dashboard_dir" \
		>"$work/dashboard-build.log" 2>&1; then
		echo "quickstart: the dashboard could not be built (is the npm" \
			"registry reachable?); going on without it:" >&2
		tail -n 5 "$work/dashboard-build.log" >&2
		dashboard=0
	fi
fi

if [ -n "$broker" ]; then
	host=${broker%:*}
	port=${broker##*:}
else
	host=127.0.0.1
	port=""
	# A free port is one that a new mosquitto manages to bind (the
	# dashboard's websockets listener takes the next one).
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		try=$((20000 + RANDOM % 40000))
		printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$try" \
			>"$work/mosquitto.conf"
		# Plain loopback: the page and its data over one websockets
		# listener, next to the MQTT one (mosquitto 2.0.11 does not
		# start with a websockets listener alone).
		[ "$dashboard" = 0 ] ||
			printf 'listener %s 127.0.0.1\nprotocol websockets\nhttp_dir %s\n' \
				"$((try + 1))" "$dashboard_dir" >>"$work/mosquitto.conf"
		mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
		mpid=$!
		sleep 0.3
		if kill -0 "$mpid" 2>/dev/null; then
			port=$try
			[ "$keep_broker" = 1 ] || pids+=("$mpid")
			break
		fi
	done
	if [ -z "$port" ]; then
		echo "quickstart: could not start mosquitto:" >&2
		cat "$work/mosquitto.log" >&2
		exit 1
	fi
	say "Started a private mosquitto on 127.0.0.1:$port"
	[ "$dashboard" = 0 ] ||
		say "Dashboard: http://127.0.0.1:$((port + 1))/ (served while the demo runs)"
fi

cat >"$work/recoveryd.conf" <<EOF
# Written by deploy/quickstart.sh for the demo; removed on exit.
[gateway]
database=$work/demo.db
[mqtt]
host=$host
port=$port
# No [user] sections: demo mode brings its own household.
EOF

# --- alerts ------------------------------------------------------------------
# One line per alert: the date and the notification text of the payload
# (compact JSON from json-glib: only \" and \\ need undoing in "text").
print_alerts() {
	local line date text
	while IFS= read -r line; do
		date=$(sed -n 's/.*"date":"\([0-9-]*\)".*/\1/p' <<<"$line")
		text=$(sed -n 's/.*"text":"\(\([^"\\]\|\\.\)*\)".*/\1/p' \
			<<<"$line" | sed 's/\\"/"/g; s/\\\\/\\/g')
		printf '%s  %s\n' "$date" "$text" | tee -a "$work/alerts.txt"
	done
}
mosquitto_sub -h "$host" -p "$port" -q 1 -t 'recovery/+/alert' \
	>"$work/alerts.fifo.txt" 2>"$work/sub.log" &
pids+=($!)
tail -n +1 -f "$work/alerts.fifo.txt" 2>/dev/null | print_alerts &
pids+=($!)
sleep 0.3

say "Running the demo: $days days, ${speed}s a day (Ctrl-C to stop)"
echo "    broker $host:$port; alerts on recovery/<person>/alert," \
	"states on recovery/<person>/state"
build/gateway/recoveryd --demo --config "$work/recoveryd.conf" \
	--demo-speed "$speed" --demo-days "$days" 2>"$work/recoveryd.log" &
rpid=$!
pids+=("$rpid")

rc=0
if [ "$seconds" -gt 0 ]; then
	for _ in $(seq "$((seconds * 10))"); do
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$rpid" 2>/dev/null || true
fi
wait "$rpid" || rc=$?
sleep 0.5 # the last alerts on their way to the printer

if [ "$rc" -ne 0 ]; then
	echo "quickstart: recoveryd exited with status $rc; its log:" >&2
	tail -n 20 "$work/recoveryd.log" >&2
	exit 1
fi
count() { grep -c "^[0-9-]*  $1" "$work/alerts.txt" 2>/dev/null || true; }
alice=$(count Alice)
bob=$(count Bob)
carol=$(count Carol)
dora=$(count Dora)
say "Done: $alice morning alerts for Alice, $bob for Bob, $carol for Carol," \
	"$dora for Dora (updates included)"
if [ "${alice:-0}" -lt 1 ] || [ "${bob:-0}" -lt 1 ] ||
	[ "${carol:-0}" -lt 1 ] || [ "${dora:-0}" -lt 1 ]; then
	echo "quickstart: expected at least one alert per person; the log:" >&2
	tail -n 20 "$work/recoveryd.log" >&2
	exit 1
fi
