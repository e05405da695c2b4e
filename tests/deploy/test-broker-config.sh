#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# deploy/mosquitto on a real broker: setup-broker.sh --root stages the CA,
# certificates, passwords, ACL and conf.d file in a temporary directory; a
# mosquitto started on them (through an include_dir, as Debian's main
# config does) must then let recoveryd and Home Assistant do exactly what
# the ACL says, over TLS only, and keep retained messages across a restart.
#
#   test-broker-config.sh [SOURCE_DIR]
#
# Exit 0 passed, 1 failed, 77 skipped (a tool is missing; says which).
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
setup=$src/deploy/mosquitto/setup-broker.sh

# skip, fail, pass and $failures.
. "$(dirname "$0")/checks.sh"

mosquitto_bin=$(command -v mosquitto || true)
for d in /usr/sbin /usr/local/sbin /sbin; do
	[ -n "$mosquitto_bin" ] || [ ! -x "$d/mosquitto" ] || mosquitto_bin=$d/mosquitto
done
[ -n "$mosquitto_bin" ] || skip "mosquitto not found (apt-get install mosquitto)"
for tool in mosquitto_pub mosquitto_sub mosquitto_passwd openssl timeout; do
	command -v "$tool" >/dev/null ||
		skip "$tool not found (apt-get install mosquitto-clients openssl)"
done
[ -x "$setup" ] || { echo "FAIL: $setup is missing or not executable"; exit 1; }

tmp=$(mktemp -d)
broker_pid=
cleanup() {
	if [ -n "$broker_pid" ]; then
		kill "$broker_pid" 2>/dev/null || true
		wait "$broker_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

root=$tmp/root
etc=$root/etc/mosquitto
log=$tmp/mosquitto.log
main_conf=$tmp/mosquitto.conf

# --- staging ---------------------------------------------------------------

# A port is picked before the broker binds it; another process may take it
# in between, so the broker start below tries a few.
random_port() {
	echo $((20000 + RANDOM % 40000))
}

port=$(random_port)
ws_port=$((port + 1))
http_port=$((port + 2))
stage() {
	timeout 60 "$setup" --root "$root" --host broker.test --port "$port" \
		--ws-port "$ws_port" --http-port "$http_port" \
		--dashboard-dir /srv/dashboard \
		--listen 127.0.0.1 >"$tmp/setup.out" 2>&1
}
if ! stage; then
	cat "$tmp/setup.out"
	echo "FAIL: setup-broker.sh --root failed"
	exit 1
fi
pass "setup-broker.sh --root staged the broker"

ca=$etc/certs/ca.crt
rpass=$(head -n 1 "$root/etc/recoveryd/mqtt-password")
hpass=$(head -n 1 "$etc/credentials/homeassistant")
dpass=$(head -n 1 "$etc/credentials/dashboard")

mode_is() { # file, octal mode
	local m
	m=$(stat -c %a "$1" 2>/dev/null || echo missing)
	if [ "$m" = "$2" ]; then
		pass "$1 mode $2"
	else
		fail "$1 has mode $m, expected $2"
	fi
}
mode_is "$root/etc/recoveryd/mqtt-password" 600
mode_is "$etc/credentials/homeassistant" 600
mode_is "$etc/credentials/dashboard" 600
mode_is "$etc/ca/ca.key" 600
mode_is "$etc/certs/server.key" 640
mode_is "$etc/recoveryd.passwd" 640
mode_is "$etc/recoveryd.acl" 640
if [ -z "$rpass" ] || [ -z "$hpass" ] || [ "$rpass" = "$hpass" ]; then
	fail "the two passwords are empty or equal"
fi
cmp -s "$ca" "$root/etc/recoveryd/ca.crt" ||
	fail "recoveryd's ca.crt is not the broker's CA"

# The certificate: signed by the CA, for the names clients use, not a CA.
if openssl verify -CAfile "$ca" "$etc/certs/server.crt" >/dev/null 2>&1; then
	pass "server certificate verifies against the CA"
else
	fail "server certificate does not verify against the CA"
fi
for check in "-checkhost broker.test" "-checkhost localhost" \
	"-checkip 127.0.0.1" "-checkip ::1"; do
	# shellcheck disable=SC2086 # option and value, split on purpose
	out=$(openssl x509 -in "$etc/certs/server.crt" -noout $check)
	case $out in
	*"does match"*) pass "certificate $check" ;;
	*) fail "certificate $check: $out" ;;
	esac
done
out=$(openssl x509 -in "$etc/certs/server.crt" -noout -checkhost other.test)
case $out in
*"NOT match"*) pass "certificate is not for other.test" ;;
*) fail "certificate matches a name it was not made for: $out" ;;
esac

# A second run changes nothing (same CA, key, certificate and passwords).
snapshot() {
	(cd "$root" && find . -printf '%M %p\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
snapshot >"$tmp/before"
if stage && snapshot >"$tmp/after" && cmp -s "$tmp/before" "$tmp/after"; then
	pass "a second run changes nothing"
else
	fail "a second run changed the staged files:"
	diff "$tmp/before" "$tmp/after" || true
fi

# An administrator for the checks: may read everything, so it sees what a
# refused publish would have left behind. Added to the staged copies only.
apass=admin-$RANDOM$RANDOM
printf 'testadmin:%s\n' "$apass" >"$tmp/admin.plain"
mosquitto_passwd -U "$tmp/admin.plain"
cat "$tmp/admin.plain" >>"$etc/recoveryd.passwd"
printf '\nuser testadmin\ntopic readwrite #\n' >>"$etc/recoveryd.acl"

# Debian's /etc/mosquitto/mosquitto.conf, pointed at the staged tree.
cat >"$main_conf" <<EOF
persistence_location $tmp/persist/
log_dest file $log
log_type all
user $(id -un)
include_dir $etc/conf.d
EOF
mkdir -p "$tmp/persist"

# --- broker ----------------------------------------------------------------

listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start_broker() {
	local tries=50
	"$mosquitto_bin" -c "$main_conf" >>"$tmp/mosquitto.out" 2>&1 &
	broker_pid=$!
	while [ "$tries" -gt 0 ]; do
		tries=$((tries - 1))
		if ! kill -0 "$broker_pid" 2>/dev/null; then
			wait "$broker_pid" 2>/dev/null || true
			broker_pid=
			return 1
		fi
		listening && return 0
		sleep 0.1
	done
	return 1
}

stop_broker() {
	kill "$broker_pid"
	timeout 10 tail --pid="$broker_pid" -f /dev/null || true
	wait "$broker_pid" 2>/dev/null || true
	broker_pid=
}

started=false
for _ in 1 2 3; do
	if start_broker; then
		started=true
		break
	fi
	# Port taken: stage the conf.d file again for another port.
	port=$(random_port)
	ws_port=$((port + 1))
	http_port=$((port + 2))
	rm -f "$etc/conf.d/recoveryd.conf"
	stage || break
done
if ! $started; then
	cat "$tmp/mosquitto.out" "$log" 2>/dev/null || true
	echo "FAIL: mosquitto did not start on the staged config"
	exit 1
fi
pass "mosquitto runs the staged config on 127.0.0.1:$port"

# --- clients ---------------------------------------------------------------

tls=(-h 127.0.0.1 -p "$port" --cafile "$ca")
as_recoveryd=(-u recoveryd -P "$rpass")
as_ha=(-u homeassistant -P "$hpass")
as_dashboard=(-u dashboard -P "$dpass")
as_admin=(-u testadmin -P "$apass")

# Publishes retained, QoS 1, so a later subscriber sees what was accepted.
pub() { # credentials..., --, topic, payload
	local args=()
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	timeout 10 mosquitto_pub "${tls[@]}" "${args[@]}" -q 1 -r -t "$2" -m "$3"
}

# Every retained message under @filter a user may read, as "topic payload"
# lines: whatever arrives within 2 s.
retained() { # credentials..., --, filter
	local args=()
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	timeout 10 mosquitto_sub "${tls[@]}" "${args[@]}" -t "$2" -v -W 2 \
		2>/dev/null || true
}

expect_line() { # what, text, line
	if grep -qxF -- "$3" <<<"$2"; then
		pass "$1"
	else
		fail "$1: '$3' not among: $(tr '\n' '|' <<<"$2")"
	fi
}

expect_no_line() { # what, text, topic
	if grep -q -- "^$3 " <<<"$2"; then
		fail "$1: got $(grep -- "^$3 " <<<"$2")"
	else
		pass "$1"
	fi
}

state='{"date":"2026-03-11","score":78,"zone":"green"}'
checkin='{"mood":4}'
pub "${as_recoveryd[@]}" -- recovery/x/state "$state" ||
	fail "recoveryd could not publish recovery/x/state"
pub "${as_recoveryd[@]}" -- homeassistant/device/recoveryd/recovery_x/config '{"name":"Score"}' ||
	fail "recoveryd could not publish a discovery config"
pub "${as_recoveryd[@]}" -- homeassistant/sensor/zigbee_x/config from-recoveryd || true
pub "${as_ha[@]}" -- recovery/x/checkin/set "$checkin" ||
	fail "homeassistant could not publish a check-in"
# Refused publishes: the broker drops them without telling the client.
pub "${as_recoveryd[@]}" -- other/x from-recoveryd || true
pub "${as_ha[@]}" -- recovery/x/state '{"spoofed":true}' || true
pub "${as_ha[@]}" -- other/y from-homeassistant || true

seen=$(retained "${as_admin[@]}" -- '#')
expect_line "admin sees recoveryd's state" "$seen" "recovery/x/state $state"
expect_no_line "recoveryd cannot publish to other/x" "$seen" other/x
expect_no_line "homeassistant cannot publish to other/y" "$seen" other/y
if grep -q spoofed <<<"$seen"; then
	fail "homeassistant overwrote recovery/x/state"
else
	pass "homeassistant cannot publish to recovery/x/state"
fi

# The dashboard: reads recovery/#, may send check-ins and nothing else.
pub "${as_dashboard[@]}" -- recovery/y/checkin/set "$checkin" ||
	fail "dashboard could not publish a check-in"
pub "${as_dashboard[@]}" -- recovery/y/state '{"from-dashboard":true}' || true
pub "${as_dashboard[@]}" -- homeassistant/sensor/d/config '{"from-dashboard":true}' || true
seen=$(retained "${as_admin[@]}" -- '#')
expect_line "dashboard can send a check-in" "$seen" \
	"recovery/y/checkin/set $checkin"
if grep -q from-dashboard <<<"$seen"; then
	fail "dashboard published beyond check-ins: $(grep from-dashboard <<<"$seen")"
else
	pass "dashboard cannot publish states or discovery configs"
fi
seen=$(retained "${as_dashboard[@]}" -- 'recovery/#')
expect_line "dashboard reads recovery/#" "$seen" "recovery/x/state $state"

# The dashboard's listeners: the page from http_dir over plain HTTP (see
# recoveryd.conf for why not HTTPS), MQTT over websockets only with TLS
# (ctest -L browser drives a browser through both).
printf '<!DOCTYPE html><title>dashboard-test</title>\n' >"$root/srv/dashboard/index.html"
if command -v curl >/dev/null; then
	page=$(curl -sS --max-time 10 "http://127.0.0.1:$http_port/index.html" 2>&1 || true)
	case $page in
	*dashboard-test*) pass "the page is served from http_dir" ;;
	*) fail "http://127.0.0.1:$http_port/index.html: $page" ;;
	esac
	# A websocket upgrade answered only with TLS: 101 Switching
	# Protocols over wss, nothing over plain ws.
	upgrade=(-sS --max-time 5 -o /dev/null -w '%{http_code}' --http1.1
		-H 'Connection: Upgrade' -H 'Upgrade: websocket'
		-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Protocol: mqtt'
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
	code=$(curl "${upgrade[@]}" --cacert "$ca" \
		--resolve "broker.test:$ws_port:127.0.0.1" \
		"https://broker.test:$ws_port/mqtt" 2>/dev/null || true)
	if [ "$code" = 101 ]; then
		pass "MQTT over secure websockets on $ws_port (HTTP $code)"
	else
		fail "no websocket upgrade over TLS on $ws_port (HTTP '$code')"
	fi
	code=$(curl "${upgrade[@]}" "http://127.0.0.1:$ws_port/mqtt" 2>/dev/null || true)
	if [ "$code" = 101 ]; then
		fail "plain websockets accepted on the TLS listener $ws_port"
	else
		pass "no plain websockets on $ws_port"
	fi
else
	echo "curl not found: the dashboard listener checks are left out (apt-get install curl)"
fi

seen=$(retained "${as_ha[@]}" -- 'recovery/#')
expect_line "homeassistant reads recovery/#" "$seen" "recovery/x/state $state"
seen=$(retained "${as_ha[@]}" -- 'homeassistant/#')
expect_line "homeassistant reads the discovery configs" "$seen" \
	'homeassistant/device/recoveryd/recovery_x/config {"name":"Score"}'
expect_no_line "recoveryd cannot write another integration's config" \
	"$seen" homeassistant/sensor/zigbee_x/config

seen=$(retained "${as_recoveryd[@]}" -- 'recovery/+/checkin/set')
expect_line "recoveryd reads recovery/x/checkin/set" "$seen" \
	"recovery/x/checkin/set $checkin"
seen=$(retained "${as_recoveryd[@]}" -- 'recovery/x/state')
expect_no_line "recoveryd cannot read recovery/x/state" "$seen" recovery/x/state

# Logins: no account, a wrong password, no TLS, no trusted CA. A client
# that got in but may read nothing would time out (mosquitto_sub -W: exit
# 27), which is not a refusal; nor is timeout(1) killing it (124).
refused() { # what, mosquitto_sub arguments...
	local what=$1 out rc=0
	shift
	out=$(timeout 10 mosquitto_sub "$@" -t '#' -C 1 -W 3 2>&1) || rc=$?
	case $rc in
	0 | 27 | 124) fail "$what: let in (exit $rc, '${out%%$'\n'*}')" ;;
	*) pass "$what: refused (exit $rc, '${out%%$'\n'*}')" ;;
	esac
}
refused "anonymous client" "${tls[@]}"
refused "wrong password" "${tls[@]}" -u recoveryd -P wrong
refused "plain TCP" -h 127.0.0.1 -p "$port" "${as_recoveryd[@]}"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/other.key" -out "$tmp/other.crt" -days 1 \
	-subj /CN=other 2>/dev/null
refused "a CA that did not sign the server" -h 127.0.0.1 -p "$port" \
	--cafile "$tmp/other.crt" "${as_recoveryd[@]}"

# persistence true: retained messages survive a broker restart.
stop_broker
if start_broker; then
	seen=$(retained "${as_ha[@]}" -- 'recovery/#')
	expect_line "retained state kept across a restart" "$seen" \
		"recovery/x/state $state"
else
	fail "mosquitto did not start again"
fi

if [ "$failures" -gt 0 ]; then
	echo "--- mosquitto log"
	tail -n 40 "$log" 2>/dev/null || true
	echo "$failures check(s) failed"
	exit 1
fi
echo "all broker checks passed"
