#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# gateway-check.sh - runs INSIDE the e2e VM as the central (see
# ../gateway.sh): the whole gateway, recoveryd with a real configuration,
# against real bluetoothd and a real mosquitto, through one compressed
# night of a household:
#
#   alice   strap (hci1, started and stopped here), BTHome bed sensor (hci4),
#           the Mi scale she shares with bob (hci3, weight ranges)
#   bob     the shared Mi scale
#   carol   a standard scale with user index 1 (hci2; wakes on demand)
#   foreign a strap (hci5) and a Mi scale (hci6, a weight inside alice's
#           range) that are not in the configuration
#
# The VM's wall clock is set to 22:30 UTC and later moved to the morning, so
# that a night of hours passes in minutes. Faults: the strap stopped for 20 s
# and restarted; bluetoothd restarted; the broker down for a minute across the
# morning. Figures are printed as "FIGURE name value" lines, failures as
# "FAIL: ..."; the exit status is 0 only without failures.
set -uo pipefail

: "${RECOVERYD:?set RECOVERYD to the recoveryd binary}"
: "${E2E_OUT:?run inside the e2e VM (vm.sh)}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=/usr/bin/python3
strap=${E2E_ADDRESS_HCI1:?needs CONTROLLERS=7}
scale=${E2E_ADDRESS_HCI2:?}
miscale=${E2E_ADDRESS_HCI3:?}
bed=${E2E_ADDRESS_HCI4:?}
guest_strap=${E2E_ADDRESS_HCI5:?}
guest_scale=${E2E_ADDRESS_HCI6:?}
bed_file=${BED_STATE_FILE:-/run/e2e/bed-occupied}
scale_wake=${SCALE_WAKE_FILE:-/run/e2e/scale-wake}
work=/run/e2e/gateway
mkdir -p "$work"
db=$work/recoveryd.db
mqtt_log=$E2E_OUT/mqtt.log
failed=0
# The wall clock jumps below: time stamps come from the monotonic clock.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
T0=$(uptime_s)

stamp() { awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "[+$(stamp)s] $*"; }
fail() { echo "FAIL: $*"; failed=1; }
ok() { echo "ok: $*"; }
figure() { echo "FIGURE $1 $2"; }
now_ms() { date +%s%3N; }
# Durations across the clock jumps: the monotonic clock.
mono_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
sql() { sqlite3 -batch -noheader "file:$db?mode=ro" "$1"; }
# The store keeps heart rates and RR intervals a minute a row
# (gateway/core/beats.h: 10-byte entries, the ms into the minute a uint16
# little-endian first). beats_sql reads them back as rows (user_id, t_ms)
# named hr and rr, in plain SQL, for the queries below to start with.
hex_digit() { echo "(instr('0123456789ABCDEF', substr(h, $1, 1)) - 1)"; }
offset_sql="$(hex_digit 1) * 16 + $(hex_digit 2) + 256 * ($(hex_digit 3) * 16 + $(hex_digit 4))"
unpack_sql() { # table: the rows (user_id, t_ms) of its packed minutes
	echo "SELECT user_id, minute * 60000 + $offset_sql AS t_ms FROM
	  (SELECT user_id, minute, hex(substr(beats, i * 10 + 1, 2)) AS h
	   FROM (WITH RECURSIVE e(user_id, minute, beats, i) AS
	     (SELECT user_id, minute, beats, 0 FROM $1 WHERE length(beats) >= 10
	      UNION ALL SELECT user_id, minute, beats, i + 1 FROM e
	      WHERE (i + 2) * 10 <= length(beats))
	     SELECT * FROM e))"
}
beats_sql="WITH hr AS ($(unpack_sql hr_minutes)), rr AS ($(unpack_sql rr_minutes))"

# Waits up to $2 seconds for a line matching the ERE $1 in the MQTT log
# after line $3 (default 0); prints the first such line's number.
wait_mqtt() {
	local pattern=$1 limit=$2 after=${3:-0} end n
	end=$(($(date +%s) + limit))
	while [ "$(date +%s)" -le "$end" ]; do
		n=$(awk -v a="$after" -v p="$pattern" 'NR > a && $0 ~ p { print NR; exit }' "$mqtt_log")
		[ -n "$n" ] && { echo "$n"; return 0; }
		sleep 0.5
	done
	return 1
}
mqtt_lines() { wc -l <"$mqtt_log"; }

# --- the broker, with a persistent session for the observer -------------------
cat >"$work/mosquitto.conf" <<EOF
listener 1883 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/
EOF
broker_start() {
	mosquitto -c "$work/mosquitto.conf" >>"$E2E_OUT/mosquitto.log" 2>&1 &
	broker_pid=$!
	for _ in $(seq 50); do
		mosquitto_pub -h 127.0.0.1 -t e2e/ping -n 2>/dev/null && return 0
		sleep 0.1
	done
	fail "mosquitto did not start"
}
broker_start
# QoS 1, a fixed id, no clean session: what the gateway publishes while this
# observer is away (the broker restarting) is kept for it.
mosquitto_sub -h 127.0.0.1 -i e2e-observer -c -q 1 -v -t 'recovery/#' \
	-F '%U %t %p' >"$mqtt_log" 2>"$E2E_OUT/mosquitto_sub.err" &
sub_pid=$!
sleep 0.5

# --- the clock: late evening -----------------------------------------------------
day=$(date -u +%F)
date -u -s "$day 22:30:00" >/dev/null
morning=$(date -u -d "$day + 1 day" +%F)
say "clock set to $(date -u '+%F %T') UTC; the morning to come is $morning"

# --- the gateway -------------------------------------------------------------------
cat >"$work/recoveryd.conf" <<EOF
[gateway]
# Named: with several adapters on the machine (the VM has seven) recoveryd
# would otherwise take the first powered one, which after a restart of
# bluetoothd may be another.
adapter=hci0
database=$db
timezone=UTC
# The VM has no NTP; its clock comes from the host's RTC.
require-clock-sync=false
[mqtt]
host=127.0.0.1
port=1883
[user alice]
display-name=Alice
heart-rate=$strap
bed-sensor=$bed
scale=$miscale
scale-protocol=xiaomi
weight-range=55-72
morning-alert=wake
[user bob]
scale=$miscale
scale-protocol=xiaomi
weight-range=75-95
[user carol]
scale=$scale
scale-user=1
EOF
if ! "$RECOVERYD" --check-config --config "$work/recoveryd.conf"; then
	fail "the configuration is refused"
	exit 1
fi
echo 1 >"$bed_file"
# tests/run.sh exports G_DEBUG=fatal-warnings for the test programs; the
# daemon logs warnings on purpose (a stale cache, the broker away) and must
# run as it does at home.
env -u G_DEBUG G_MESSAGES_DEBUG=recoveryd "$RECOVERYD" --config "$work/recoveryd.conf" \
	>"$E2E_OUT/recoveryd.log" 2>&1 &
rd_pid=$!
wait_mqtt '^[0-9.]+ recovery/status online' 15 >/dev/null ||
	fail "recoveryd never published online"
ok "recoveryd online"

# --- the strap -----------------------------------------------------------------------
strap_n=0
strap_start() {
	strap_n=$((strap_n + 1))
	# A real strap advertises every second or faster while unconnected.
	"$py" "$here/peripherals/hr-strap.py" --adapter hci1 --seed 3 \
		--announce-every 1 \
		>"$E2E_OUT/strap-$strap_n.log" 2>&1 &
	strap_pid=$!
	strap_on_ms=$(now_ms)
}
strap_stop() {
	kill -TERM "$strap_pid" 2>/dev/null
	wait "$strap_pid" 2>/dev/null
	strap_off_ms=$(now_ms)
	sent=$(sed -n 's/.*stopping after \([0-9]*\) notifications.*/\1/p' \
		"$E2E_OUT/strap-$strap_n.log" | tail -1)
	strap_sent=$((${strap_sent:-0} + ${sent:-0}))
}
# The first heart rate stored after $1 (ms): its time, or empty.
first_hr_after() {
	sql "$beats_sql SELECT min(t_ms) FROM hr JOIN users ON users.id = hr.user_id
	     WHERE name = 'alice' AND t_ms > $1"
}

strap_start
n=$(wait_mqtt 'recovery/alice/live .*"heart_rate_bpm"' 60) ||
	fail "no live heart rate from the strap"
ok "live heart rate on MQTT (line $n)"
wait_mqtt 'recovery/alice/live .*"bed":true' 10 >/dev/null ||
	fail "no bed occupancy in the live values"
sleep 20

# --- fault 1: the strap gone for 20 s ----------------------------------------------------
strap_stop
say "strap stopped (session $strap_n)"
sleep 20
strap_start
say "strap restarted"
reconnect_ms=$strap_on_ms
lines=$(mqtt_lines)
wait_mqtt 'recovery/alice/live .*"heart_rate_bpm"' 30 "$lines" >/dev/null ||
	fail "no heart rate after the strap came back"
sleep 15

# --- fault 2: bluetoothd restarted --------------------------------------------------------
if command -v e2e-restart-bluetoothd >/dev/null; then
	btd_ms=$(now_ms)
	lines=$(mqtt_lines)
	say "restarting bluetoothd"
	e2e-restart-bluetoothd || fail "bluetoothd did not come back"
	btd_back_ms=$(now_ms)
	wait_mqtt 'recovery/device/[0-9a-f]+ .*"connection":"connected"' 60 "$lines" >/dev/null ||
		fail "the strap was not connected again after bluetoothd restarted"
	sleep 15
else
	btd_ms=""
	echo "SKIP-PART: no e2e-restart-bluetoothd in this VM: bluetoothd restart not tested"
fi

# --- fault 3: the broker down for a minute, across the morning ---------------------------------
kill -TERM "$broker_pid"
wait "$broker_pid" 2>/dev/null
down_ms=$(now_ms)
down_mono=$(mono_ms)
say "broker stopped"
strap_stop
say "strap taken off (morning)"
date -u -s "$morning 06:50:00" >/dev/null
echo 0 >"$bed_file"
say "clock 06:50, bed empty"
sleep 4
date -u -s "$morning 07:01:00" >/dev/null
say "clock 07:01"
# The morning check runs every 10 s.
for _ in $(seq 30); do
	grep -q "alice: night of $morning analysed" "$E2E_OUT/recoveryd.log" && break
	sleep 1
done
grep -q "alice: night of $morning analysed (bed empty after the night); morning alert queued" \
	"$E2E_OUT/recoveryd.log" || fail "alice's night was not closed by the bed sensor"
date >"$scale_wake"
say "carol steps on the standard scale"
left=$((60 - ($(mono_ms) - down_mono) / 1000))
[ "$left" -le 0 ] || sleep "$left"
broker_start
up_ms=$(now_ms)
down_s=$((($(mono_ms) - down_mono) / 1000))
say "broker back after $down_s s"
figure broker_down_s "$down_s"
# recoveryd's reconnect delay doubles up to 60 s (±20 %) while the broker
# is away: after a minute's outage the next attempt may be that far off.
wait_mqtt "recovery/alice/alert .*\"date\":\"$morning\"" 100 >/dev/null ||
	fail "alice's morning alert did not arrive after the broker came back"
wait_mqtt "recovery/alice/state .*\"date\":\"$morning\"" 10 >/dev/null ||
	fail "alice's state for $morning did not arrive"
sleep 20 # the scale's weighing, the outbox drained

# --- the end ------------------------------------------------------------------------------------
kill -TERM "$rd_pid"
wait "$rd_pid"
rc=$?
[ "$rc" = 0 ] || fail "recoveryd exited with status $rc on SIGTERM"
wait_mqtt 'recovery/status offline' 5 >/dev/null || fail "no offline on SIGTERM"
sleep 0.5
kill "$sub_pid" 2>/dev/null

echo "--- what the database holds"
sql "$beats_sql SELECT name, (SELECT count(*) FROM hr WHERE user_id = users.id),
	(SELECT count(*) FROM rr WHERE user_id = users.id),
	(SELECT count(*) FROM body WHERE user_id = users.id)
     FROM users ORDER BY name" | sed 's/^/  | /'

users=$(sql "SELECT group_concat(name, ',') FROM (SELECT name FROM users ORDER BY name)")
[ "$users" = "alice,bob,carol" ] && ok "only configured people: $users" ||
	fail "people in the database: $users"
hr=$(sql "$beats_sql SELECT count(*) FROM hr JOIN users ON users.id = hr.user_id WHERE name = 'alice'")
echo "strap notifications sent: ${strap_sent:-0}, heart rates stored: $hr"
figure strap_notifications_sent "${strap_sent:-0}"
figure heart_rates_stored "$hr"
figure heart_rates_lost $((${strap_sent:-0} - hr))
[ "$hr" -gt 0 ] || fail "no heart rate stored"

first=$(first_hr_after "$reconnect_ms")
if [ -n "$first" ]; then
	figure strap_restart_to_first_stored_ms $((first - reconnect_ms))
	# The goal is 5 s (printed above); under emulation a Connect that
	# timed out just before the strap came back, and the backoff after
	# it, can add seconds: 10 s fails a real regression, not that.
	[ $((first - reconnect_ms)) -le 10000 ] ||
		fail "the strap's first reading after its restart came $((first - reconnect_ms)) ms later"
else
	fail "no heart rate stored after the strap's restart"
fi
gap=$(sql "$beats_sql SELECT max(t_ms - prev) FROM (SELECT t_ms, lag(t_ms) OVER (ORDER BY t_ms) AS prev
	FROM hr JOIN users ON users.id = hr.user_id WHERE name = 'alice'
	AND t_ms < $down_ms)")
figure largest_gap_before_morning_ms "${gap:-0}"
if [ -n "$btd_ms" ]; then
	first=$(first_hr_after "$btd_back_ms")
	[ -n "$first" ] && figure bluetoothd_back_to_first_stored_ms $((first - btd_back_ms)) ||
		fail "no heart rate stored after bluetoothd restarted"
	# The longest silence of the strap around the restart.
	gap=$(sql "$beats_sql SELECT max(t_ms - prev) FROM (SELECT t_ms, lag(t_ms) OVER (ORDER BY t_ms) AS prev
		FROM hr JOIN users ON users.id = hr.user_id WHERE name = 'alice'
		AND t_ms BETWEEN $btd_ms - 5000 AND $btd_back_ms + 30000)")
	figure bluetoothd_restart_gap_ms "${gap:-0}"
fi

w=$(sql "SELECT group_concat(round(weight_kg, 1), ',') FROM body JOIN users ON users.id = body.user_id WHERE name = 'alice'")
case ",$w," in
*,64.2,*) ok "alice's weighings: $w" ;;
*) fail "alice's weighings: '$w' (expected 64.2)" ;;
esac
case ",$w," in *,66*) fail "the foreign scale's 66 kg was filed under alice" ;; esac
w=$(sql "SELECT group_concat(round(weight_kg, 1), ',') FROM body JOIN users ON users.id = body.user_id WHERE name = 'bob'")
case ",$w," in *,81.3,*) ok "bob's weighings: $w" ;; *) fail "bob's weighings: '$w'" ;; esac
w=$(sql "SELECT count(*) || ':' || group_concat(round(weight_kg, 1), ',') || '/' ||
	ifnull(max(round(body_fat_pct, 1)), '-') FROM body JOIN users ON users.id = body.user_id WHERE name = 'carol'")
case "$w" in 1:72.5/18.5) ok "carol's weighing from the standard scale: $w" ;; *) fail "carol's weighing: '$w'" ;; esac
bedrows=$(sql "SELECT count(*) FROM env JOIN users ON users.id = env.user_id WHERE name = 'alice' AND kind = 'bed'")
[ "$bedrows" -ge 2 ] && ok "bed states stored: $bedrows" || fail "bed states stored: $bedrows"

# The evening's start was long after the latest time: that day got its
# state but no alert. The morning got exactly one alert, on the broker too.
alerts=$(grep -c '^[0-9.]* recovery/alice/alert ' "$mqtt_log")
[ "$alerts" = 1 ] && ok "one morning alert for alice on the broker" ||
	fail "alice's alerts on the broker: $alerts"
grep -q "^[0-9.]* recovery/alice/alert .*\"date\":\"$morning\"" "$mqtt_log" ||
	fail "alice's alert is not for $morning"
grep -q "^[0-9.]* recovery/bob/alert .*\"date\":\"$morning\"" "$mqtt_log" &&
	ok "bob's alert (latest time or scale) is for $morning" || true
unsent=$(sql "SELECT count(*) FROM outbox WHERE sent_ms IS NULL")
queued=$(sql "SELECT count(*) FROM outbox WHERE created_ms >= $down_ms AND created_ms < $up_ms")
figure outbox_rows_during_outage "$queued"
figure outbox_unsent_at_exit "$unsent"
# Every row of the outbox reached the observer (at least once).
missing=0
while IFS='|' read -r topic payload; do
	grep -q -F -- "$topic $payload" "$mqtt_log" || missing=$((missing + 1))
done < <(sql "SELECT topic, CAST(payload AS TEXT) FROM outbox")
figure mqtt_messages_lost "$missing"
[ "$missing" = 0 ] && ok "every queued message reached the observer" ||
	fail "$missing queued messages never reached the observer"

kill -TERM "$broker_pid" 2>/dev/null
figure central_wall_s "$(stamp)"
[ "$failed" = 0 ] && echo "gateway-check: all good" || echo "gateway-check: failures above"
exit "$failed"
