#!/bin/bash
# SPDX-License-Identifier: MIT
#
# guest.sh - PID 1 inside the e2e VM (started by initramfs-init; see vm.sh).
#
# The root is the host's / (read-only, 9p) under a tmpfs overlay; $E2E_OUT is
# the host's $WORKDIR/out mounted writable at the same path. Brings up
# bluetooth + hci_vhci, a system D-Bus, btmon, `btvirt -L -l2`, bluetoothd,
# then PERIPHERAL_CMD and CENTRAL_CMD; writes the central's status to
# $E2E_OUT/central.rc (or the reason setup failed to $E2E_OUT/setup-failed)
# and powers off.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
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

# The adapters btvirt creates, in order, and their fixed addresses.
export E2E_CENTRAL_ADAPTER=hci0 E2E_CENTRAL_ADDRESS=00:AA:01:00:00:00
export E2E_PERIPHERAL_ADAPTER=hci1 E2E_PERIPHERAL_ADDRESS=00:AA:01:01:00:01
export E2E_READY_FILE=/run/e2e/peripheral.ready E2E_OUT E2E_DIR

periph_pid="" btd_pid="" btvirt_pid="" btmon_pid=""

stop() { # pid [group]: SIGTERM (the whole process group if asked), wait up to 3 s, then SIGKILL
	local pid=$1 target=$1 i
	[ -n "$pid" ] || return 0
	if [ "${2:-}" = group ]; then target=-$pid; fi
	kill -TERM -- "$target" 2>/dev/null || return 0
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		nap 0.1
	done
	kill -KILL -- "$target" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

finish() { # EXIT trap: stop everything, save the capture, power off
	local status=$?
	set +e
	if [ ! -e "$E2E_OUT/central.rc" ] && [ ! -e "$E2E_OUT/setup-failed" ]; then
		echo "guest.sh stopped unexpectedly (status $status)" >"$E2E_OUT/setup-failed"
	fi
	stop "$periph_pid" group
	stop "$btd_pid" # bluetoothd powers the controllers down on SIGTERM
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
# start btvirt and bluetoothd, and if the kernel reports such a failure or the
# two adapters do not both appear on D-Bus, stop both and try again.
kernel_hci_failure() { dmesg | grep -E 'hci[01]: .*(failed|timeout)' | tail -n 1 || true; }
adapters_state() { # prints ready, failed or pending
	if [ -n "$(kernel_hci_failure)" ]; then
		echo failed
	elif adapter_prop hci0 Address >/dev/null 2>&1 && adapter_prop hci1 Address >/dev/null 2>&1; then
		echo ready
	else
		echo pending
	fi
}
for attempt in 1 2 3; do
	dmesg -C
	btvirt -L -l2 >>"$E2E_OUT/btvirt.log" 2>&1 &
	btvirt_pid=$!
	wait_for 100 test -e /sys/class/bluetooth/hci1 || true
	bluetoothd "${btd_args[@]}" >>"$E2E_OUT/bluetoothd.log" 2>&1 &
	btd_pid=$!
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
	[ "$attempt" -lt 3 ] || setup_failed "btvirt's controllers did not come up in 3 attempts"
done
for hci in hci0 hci1; do
	adapter_powered "$hci" || power_on "$hci" >/dev/null 2>&1 || true
	wait_for 50 adapter_powered "$hci" || setup_failed "$hci does not power on"
done
a0=$(adapter_prop hci0 Address)
a1=$(adapter_prop hci1 Address)
[ "$a0" = "$E2E_CENTRAL_ADDRESS" ] && [ "$a1" = "$E2E_PERIPHERAL_ADDRESS" ] ||
	setup_failed "unexpected controller addresses hci0=$a0 hci1=$a1"
say "bluetoothd $(bluetoothd -v) up (attempt $attempt), EATT=$EATT: hci0=$a0 (central), hci1=$a1 (peripheral), both powered"

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
