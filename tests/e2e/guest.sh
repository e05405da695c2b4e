#!/bin/bash
# SPDX-License-Identifier: MIT
#
# guest.sh - PID 1 inside the e2e VM (started by initramfs-init; see vm.sh).
#
# The root is the host's / (read-only, 9p) under a tmpfs overlay; $E2E_OUT is
# the host's $WORKDIR/out mounted writable at the same path. Brings up
# bluetooth + hci_vhci, a system D-Bus, btmon, `btvirt -L -lN` (N =
# $CONTROLLERS, default 2), bluetoothd, then PERIPHERAL_CMD and CENTRAL_CMD;
# writes the central's status to $E2E_OUT/central.rc (or the reason setup
# failed to $E2E_OUT/setup-failed) and powers off.
#
# The commands find `e2e-restart-bluetoothd` on their PATH (/run/e2e/bin):
# it restarts bluetoothd the way this script started it (see
# write_restart_helper below); at the end this script stops whichever
# bluetoothd runs then (/run/e2e/bluetoothd.pid).
set -euo pipefail
export PATH=/run/e2e/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

say() {
	local up _
	read -r up _ </proc/uptime
	echo "[guest ${up}s] $*"
}

nap() { sleep "$1"; } # replaced by a fork-free version once /run is mounted

env_file=$(sed -n 's/.*e2e\.env=\([^ ]*\).*/\1/p' /proc/cmdline)
# shellcheck source=/dev/null
source "$env_file"
: "${E2E_OUT:?}" "${CENTRAL_CMD:?}" "${CENTRAL_TIMEOUT:?}"
CONTROLLERS=${CONTROLLERS:-2}

# The adapters btvirt creates, in order, and their fixed addresses: btvirt
# gives controller N the public address 00:AA:01:0N:00:0N (N in hex; checked
# once they are up). hci0 is the central, hci1.. the peripherals.
# E2E_ADDRESS_HCIn holds each one's address, E2E_ADAPTERS the list of names.
export E2E_CENTRAL_ADAPTER=hci0 E2E_CENTRAL_ADDRESS=00:AA:01:00:00:00
export E2E_PERIPHERAL_ADAPTER=hci1 E2E_PERIPHERAL_ADDRESS=00:AA:01:01:00:01
export E2E_READY_FILE=/run/e2e/peripheral.ready E2E_OUT E2E_DIR
export E2E_CONTROLLERS=$CONTROLLERS E2E_ADAPTERS=""
for ((n = 0; n < CONTROLLERS; n++)); do
	E2E_ADAPTERS+="${E2E_ADAPTERS:+ }hci$n"
	printf -v "E2E_ADDRESS_HCI$n" '00:AA:01:%02X:00:%02X' "$n" "$n"
	export "E2E_ADDRESS_HCI$n"
done
last_hci=hci$((CONTROLLERS - 1))

periph_pid="" btd_pid="" btvirt_pid="" btmon_pid=""

running() { # pid: exists and is not a zombie (a restarted bluetoothd is no child of ours)
	local st=""
	{ read -r _ _ st _ </proc/"$1"/stat; } 2>/dev/null || return 1
	[ "$st" != Z ]
}

stop() { # pid [group]: SIGTERM (the whole process group if asked), wait up to 3 s, then SIGKILL
	local pid=$1 target=$1 i
	[ -n "$pid" ] || return 0
	if [ "${2:-}" = group ]; then target=-$pid; fi
	kill -TERM -- "$target" 2>/dev/null || return 0
	for i in $(seq 30); do
		running "$pid" || break
		nap 0.1
	done
	kill -KILL -- "$target" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stop_bluetoothd() { # the one started here, or the one e2e-restart-bluetoothd started since
	local lock_fd now
	# not in the middle of a restart (the helper holds the lock while it runs)
	if [ -d /run/e2e ] && exec {lock_fd}>>/run/e2e/bluetoothd.lock; then
		flock -w 15 "$lock_fd" 2>/dev/null || say "WARN: a bluetoothd restart is still running"
	fi 2>/dev/null
	now=$(cat /run/e2e/bluetoothd.pid 2>/dev/null || true)
	[ -z "$now" ] || [ "$now" = "$btd_pid" ] || stop "$now"
	stop "$btd_pid"
}

finish() { # EXIT trap: stop everything, save the capture, power off
	local status=$?
	set +e
	if [ ! -e "$E2E_OUT/central.rc" ] && [ ! -e "$E2E_OUT/setup-failed" ]; then
		echo "guest.sh stopped unexpectedly (status $status)" >"$E2E_OUT/setup-failed"
	fi
	stop "$periph_pid" group
	stop_bluetoothd # it powers the controllers down on SIGTERM
	stop "$btvirt_pid"
	stop "$btmon_pid"
	cp /run/e2e/hci.btsnoop "$E2E_OUT/" 2>/dev/null
	say "E2E_EXIT=$(cat "$E2E_OUT/central.rc" 2>/dev/null || echo setup-failed)"
	sync
	/bin/busybox poweroff -f || echo o >/proc/sysrq-trigger
	sleep 10
}
trap finish EXIT

setup_failed() {
	say "SETUP FAILED: $*"
	echo "$*" >"$E2E_OUT/setup-failed"
	exit 1
}

wait_for() { # tenths-of-a-second command...: retry the command until it succeeds
	local tries=$1 i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		nap 0.1
	done
	return 1
}

adapter_prop() { # hciN property: print a property of org.bluez.Adapter1
	dbus-send --system --print-reply=literal --reply-timeout=2000 --dest=org.bluez "/org/bluez/$1" \
		org.freedesktop.DBus.Properties.Get string:org.bluez.Adapter1 "string:$2" |
		awk '{ print $NF }'
}
adapter_powered() { [ "$(adapter_prop "$1" Powered)" = true ]; }
power_on() {
	dbus-send --system --print-reply --reply-timeout=5000 --dest=org.bluez "/org/bluez/$1" \
		org.freedesktop.DBus.Properties.Set string:org.bluez.Adapter1 string:Powered variant:boolean:true
}

# ------------------------------------------------------------ base system
say "userspace up (kernel $(uname -r))"
# A fresh /run (the host's holds its sockets); /tmp and the rest are already
# writable through the overlay.
mount -t tmpfs -o mode=0755 run /run
# What udev would add to /dev: bash's process substitution needs /dev/fd.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for n in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${n#*:}" ] || ln -s "/proc/self/fd/${n%%:*}" "/dev/${n#*:}"
done
mkdir -p /run/e2e /run/dbus /var/lib/bluetooth "$E2E_OUT"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 e2eout "$E2E_OUT" ||
	{ echo "cannot mount the out share"; exit 1; }
# nap SECONDS: a sleep without fork+exec (each costs ~0.1 s under TCG)
mkfifo /run/e2e/nap
exec {nap_fd}<>/run/e2e/nap
nap() { read -r -t "$1" -u "$nap_fd" _ || true; }
echo e2e-vm >/proc/sys/kernel/hostname
ip link set lo up 2>/dev/null || busybox ip link set lo up || say "WARN: loopback not up"

modprobe bluetooth || setup_failed "modprobe bluetooth"
modprobe hci_vhci || setup_failed "modprobe hci_vhci"
[ -c /dev/vhci ] || setup_failed "/dev/vhci missing after modprobe hci_vhci"

say "modules loaded: bluetooth hci_vhci"
dbus-daemon --system --fork --nopidfile || setup_failed "system dbus-daemon did not start"

# ------------------------------------------------------------ Bluetooth
btmon -w /run/e2e/hci.btsnoop >/dev/null 2>&1 &
btmon_pid=$!

# EATT=0 (default): one ATT bearer on CID 4, like a real strap; EATT=1: BlueZ's default of 3.
printf '[GATT]\nChannels = %s\n' "$([ "$EATT" = 1 ] && echo 3 || echo 1)" >/run/e2e/main.conf
btd_args=(-n -f /run/e2e/main.conf)
if [ "$BTD_DEBUG" = 1 ]; then btd_args+=(-d); fi

# The kernel initialises each new controller with HCI commands that btvirt must
# answer within 2 s. On a busy host (TCG) that can time out ("hci0: Opcode
# 0x0c03 failed: -110"), and that controller never reaches bluetoothd. So:
# start btvirt and bluetoothd, and if the kernel reports such a failure or not
# every adapter appears on D-Bus, stop both and try again.
kernel_hci_failure() { dmesg | grep -E 'hci[0-9]+: .*(failed|timeout)' | tail -n 1 || true; }
adapters_state() { # prints ready, failed or pending
	local hci
	if [ -n "$(kernel_hci_failure)" ]; then
		echo failed
		return
	fi
	for hci in $E2E_ADAPTERS; do
		adapter_prop "$hci" Address >/dev/null 2>&1 || { echo pending; return; }
	done
	echo ready
}
for attempt in 1 2 3; do
	dmesg -C
	btvirt -L "-l$CONTROLLERS" >>"$E2E_OUT/btvirt.log" 2>&1 &
	btvirt_pid=$!
	wait_for 100 test -e "/sys/class/bluetooth/$last_hci" || true
	bluetoothd "${btd_args[@]}" >>"$E2E_OUT/bluetoothd.log" 2>&1 &
	btd_pid=$!
	echo "$btd_pid" >/run/e2e/bluetoothd.pid
	state=pending
	for ((i = 0; i < 100; i++)); do
		state=$(adapters_state)
		[ "$state" = pending ] || break
		nap 0.2
	done
	[ "$state" = ready ] && break
	say "WARN: controllers not ready (attempt $attempt, $state): $(kernel_hci_failure)"
	stop "$btd_pid"
	stop "$btvirt_pid"
	btd_pid="" btvirt_pid=""
	rm -f /run/e2e/bluetoothd.pid
	[ "$attempt" -lt 3 ] || setup_failed "btvirt's controllers did not come up in 3 attempts"
done
for hci in $E2E_ADAPTERS; do
	adapter_powered "$hci" || power_on "$hci" >/dev/null 2>&1 || true
	wait_for 50 adapter_powered "$hci" || setup_failed "$hci does not power on"
done
addresses=""
for hci in $E2E_ADAPTERS; do
	want_var=E2E_ADDRESS_${hci^^}
	have=$(adapter_prop "$hci" Address)
	[ "$have" = "${!want_var}" ] ||
		setup_failed "unexpected controller address $hci=$have (expected ${!want_var})"
	addresses+=" $hci=$have"
done
if [ "$CONTROLLERS" = 2 ]; then
	say "bluetoothd $(bluetoothd -v) up (attempt $attempt), EATT=$EATT: hci0=$E2E_CENTRAL_ADDRESS (central), hci1=$E2E_PERIPHERAL_ADDRESS (peripheral), both powered"
else
	say "bluetoothd $(bluetoothd -v) up (attempt $attempt), EATT=$EATT, $CONTROLLERS controllers powered:$addresses (hci0 central)"
fi

# ------------------------------------------------------------ e2e-restart-bluetoothd
# For the commands: restart bluetoothd as a gateway's service manager would,
# with the arguments and log file used above. It runs inside the central's
# command (whose `timeout` signals its whole process group), so the new
# bluetoothd gets its own session; its pid goes to /run/e2e/bluetoothd.pid,
# which stop_bluetoothd reads at the end.
write_restart_helper() {
	mkdir -p /run/e2e/bin
	{
		declare -p btd_args
		printf 'btd_log=%q\nbtd_pidfile=/run/e2e/bluetoothd.pid\nadapters=%q\n' \
			"$E2E_OUT/bluetoothd.log" "$E2E_ADAPTERS"
	} >/run/e2e/bluetoothd.conf
	cat >/run/e2e/bin/e2e-restart-bluetoothd <<'HELPER'
#!/bin/bash
# e2e-restart-bluetoothd [--power] [--timeout S] - restarts the e2e VM's
# bluetoothd the way guest.sh started it: SIGTERM to the running one (it
# powers the controllers down, as on a real gateway), wait until it has
# exited and left the bus, start a new one with the same arguments (output
# appended to the same bluetoothd.log), wait until org.bluez and every
# adapter are back on D-Bus. --power: then set Powered=true on every adapter
# that is off (by default that is left to the programs, as after a real
# restart). --timeout: seconds for each wait (default 20). One line per step
# on stdout; exit 0 once back, 1 if not.
# shellcheck disable=SC2154 # btd_args btd_log btd_pidfile adapters: from bluetoothd.conf
set -uo pipefail
# shellcheck source=/dev/null
source /run/e2e/bluetoothd.conf
power=0 limit=20
while [ $# -gt 0 ]; do
	case $1 in
	--power) power=1 ;;
	--timeout) limit=${2:?--timeout S}; shift ;;
	*) echo "usage: e2e-restart-bluetoothd [--power] [--timeout S]" >&2; exit 2 ;;
	esac
	shift
done

ms() { local up _; read -r up _ </proc/uptime; echo $((10#${up/./}0)); }
T0=$(ms)
say() { local t; t=$(ms); printf '[e2e-restart-bluetoothd +%d.%03ds] %s\n' $(((t - T0) / 1000)) $(((t - T0) % 1000)) "$*"; }
fail() { say "FAILED: $*"; exit 1; }
exec 7<>/run/e2e/nap # a sleep without fork+exec: nobody writes to it
nap() { read -r -t "$1" -u 7 _ || true; }
running() { local st=""; { read -r _ _ st _ </proc/"$1"/stat; } 2>/dev/null || return 1; [ "$st" != Z ]; }
until_ok() { # what command...: retry every 0.1 s until it succeeds or $limit s pass
	local what=$1 end=$(($(ms) + limit * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(ms)" -lt "$end" ] || fail "$what: not within ${limit} s"
		nap 0.1
	done
}
name_owned() {
	dbus-send --system --print-reply=literal --reply-timeout=2000 --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.bluez | grep -q true
}
name_free() { ! name_owned; }
adapter_prop() {
	dbus-send --system --print-reply=literal --reply-timeout=2000 --dest=org.bluez "/org/bluez/$1" \
		org.freedesktop.DBus.Properties.Get string:org.bluez.Adapter1 "string:$2" | awk '{ print $NF }'
}
adapters_there() { # one GetManagedObjects: every adapter's object is there (with Adapter1)
	local objects h
	objects=$(dbus-send --system --print-reply --reply-timeout=2000 --dest=org.bluez / \
		org.freedesktop.DBus.ObjectManager.GetManagedObjects) || return 1
	for h in $adapters; do [[ $objects == *"object path \"/org/bluez/$h\""* ]] || return 1; done
}
powered() { [ "$(adapter_prop "$1" Powered)" = true ]; }

exec 8>>/run/e2e/bluetoothd.lock
flock -w "$limit" 8 || fail "another restart is running"
old=$(cat "$btd_pidfile" 2>/dev/null || true)
if [ -n "$old" ] && running "$old"; then
	say "SIGTERM to bluetoothd (pid $old)"
	echo "=== e2e-restart-bluetoothd: SIGTERM to bluetoothd (pid $old) at uptime $(cut -d' ' -f1 /proc/uptime) s" >>"$btd_log"
	kill -TERM "$old" 2>/dev/null
	end=$(($(ms) + limit * 1000))
	while running "$old" && [ "$(ms)" -lt "$end" ]; do nap 0.05; done
	if running "$old"; then
		say "WARN: bluetoothd (pid $old) still running after ${limit} s: SIGKILL"
		kill -KILL "$old" 2>/dev/null
		nap 0.5
	fi
	say "bluetoothd (pid $old) has exited"
else
	say "no bluetoothd running (pid file: ${old:-none}): starting one"
fi
until_ok "org.bluez released" name_free
t_down=$(ms)
# Its own session (not the caller's process group); no inherited lock or pipes.
setsid bluetoothd "${btd_args[@]}" >>"$btd_log" 2>&1 </dev/null 7<&- 8>&- &
new=$!
echo "$new" >"$btd_pidfile"
say "started bluetoothd ${btd_args[*]} (pid $new), log appended to $btd_log"
until_ok "org.bluez back on the bus" name_owned
say "org.bluez owned again after $(($(ms) - t_down)) ms"
until_ok "adapters ($adapters) on D-Bus" adapters_there
states=""
for h in $adapters; do
	if powered "$h"; then states+=" $h=on"; else states+=" $h=off"; fi
done
say "adapters back after $(($(ms) - t_down)) ms; powered:$states"
if [ "$power" = 1 ]; then
	for h in $adapters; do
		powered "$h" && continue
		dbus-send --system --print-reply --reply-timeout=5000 --dest=org.bluez "/org/bluez/$h" \
			org.freedesktop.DBus.Properties.Set string:org.bluez.Adapter1 string:Powered variant:boolean:true >/dev/null 2>&1
		until_ok "$h powered" powered "$h"
	done
	say "every adapter powered"
fi
running "$new" || fail "the new bluetoothd (pid $new) exited; see $btd_log"
say "bluetoothd restarted (pid $old -> $new) in $(($(ms) - T0)) ms"
HELPER
	chmod 0755 /run/e2e/bin/e2e-restart-bluetoothd
}
write_restart_helper

# ------------------------------------------------------------ peripheral(s)
if [ -n "${PERIPHERAL_CMD:-}" ]; then
	setsid bash -c "$PERIPHERAL_CMD" >"$E2E_OUT/peripheral.log" 2>&1 </dev/null &
	periph_pid=$!
	ready=0
	for ((i = 0; i < PERIPHERAL_WAIT * 10; i++)); do
		[ -e "$E2E_READY_FILE" ] && { ready=1; break; }
		kill -0 "$periph_pid" 2>/dev/null ||
			setup_failed "PERIPHERAL_CMD exited early: $(tail -n 3 "$E2E_OUT/peripheral.log" | tr '\n' ' ')"
		nap 0.1
	done
	if [ "$ready" = 1 ]; then
		say "peripheral ready (pid $periph_pid): $(cat "$E2E_READY_FILE")"
	else
		say "WARN: peripheral did not create \$E2E_READY_FILE within ${PERIPHERAL_WAIT}s; starting the central anyway"
	fi
fi

# ------------------------------------------------------------ central
say "central on hci0: $CENTRAL_CMD"
set +e
timeout -k 5 "$CENTRAL_TIMEOUT" bash -c "$CENTRAL_CMD" </dev/null 2>&1 | tee "$E2E_OUT/central.log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" != 124 ] || say "central timed out after ${CENTRAL_TIMEOUT}s"
kill -0 "$periph_pid" 2>/dev/null || [ -z "$periph_pid" ] || say "WARN: the peripheral had already exited"
say "central exited with status $rc"
echo "$rc" >"$E2E_OUT/central.rc"
