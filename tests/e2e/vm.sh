#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# vm.sh - run one end-to-end BLE test against real BlueZ 5.66 inside a qemu VM.
#
# The VM boots Debian's stock kernel (linux-image-amd64) with this machine's /
# shared read-only over 9p under a tmpfs overlay, so every host path (the
# checkout, the build directory, /usr/bin/python3, ...) is visible at the same
# path inside, and nothing the guest writes reaches the host except
# $WORKDIR/out. Inside, tests/e2e/guest.sh loads bluetooth + hci_vhci, starts
# a system D-Bus, `btvirt -L -lN` (N = CONTROLLERS linked virtual LE
# controllers, default 2), one bluetoothd, then PERIPHERAL_CMD (for hci1 and
# up) and CENTRAL_CMD (on hci0).
#
# Exit status: the central command's status (0 = PASS). 77 = cannot run here
# (one line on stdout says why; ctest maps it to SKIP). 1 = the harness itself
# failed (VM setup, timeout). See tests/e2e/README.md for the environment.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$(date +%s.%N)

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[host +%ss] %s\n' "$(elapsed "$T0")" "$*"; }
skip() { # one line on stdout, status 77: ctest reports the test as skipped
	echo "SKIP: e2e VM cannot run here: $*"
	exit 77
}
die() {
	echo "vm.sh: $*" >&2
	echo "E2E RESULT: FAIL ($*)"
	exit 1
}

# ------------------------------------------------------------ configuration
WORKDIR=${WORKDIR:-${TMPDIR:-/tmp}/recoveryd-e2e}
VM_TIMEOUT=${VM_TIMEOUT:-300}
[[ $VM_TIMEOUT =~ ^[0-9]+$ ]] || die "VM_TIMEOUT must be a whole number of seconds, not '$VM_TIMEOUT'"
CENTRAL_TIMEOUT=${CENTRAL_TIMEOUT:-$((VM_TIMEOUT > 120 ? VM_TIMEOUT - 60 : VM_TIMEOUT / 2))}
PERIPHERAL_WAIT=${PERIPHERAL_WAIT:-30}
VM_MEM=${VM_MEM:-1024}
VM_SMP=${VM_SMP:-2}
ACCEL=${ACCEL:-auto}
EATT=${EATT:-0}
BTD_DEBUG=${BTD_DEBUG:-1}
CONTROLLERS=${CONTROLLERS:-2}
PY=/usr/bin/python3 # Debian's interpreter: it has python3-dbus and python3-gi
PERIPHERAL_CMD=${PERIPHERAL_CMD-$PY $here/peripherals/hr-strap.py --adapter hci1}
CENTRAL_CMD=${CENTRAL_CMD:-$PY $here/centrals/hr-check.py --adapter hci0 --count 5}
# Host variables handed to the guest's commands (when set), plus E2E_ENV names.
forward_env="ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS G_DEBUG G_SLICE G_MESSAGES_DEBUG ${E2E_ENV:-}"

case $WORKDIR in
/*) ;;
*) WORKDIR=$PWD/$WORKDIR ;;
esac
case "$WORKDIR$here" in
*[[:space:]]*) die "WORKDIR ($WORKDIR) and the checkout ($here) must not contain white space (kernel command line)" ;;
esac
[ "$WORKDIR" != / ] || die "WORKDIR must not be /"
for n in VM_TIMEOUT CENTRAL_TIMEOUT PERIPHERAL_WAIT VM_MEM VM_SMP CONTROLLERS; do
	[[ ${!n} =~ ^[0-9]+$ ]] || die "$n must be a whole number, not '${!n}'"
done
# The central and at least one peripheral; 16 is the most tried (their bring-up
# then takes ~20 s under TCG).
[ "$CONTROLLERS" -ge 2 ] && [ "$CONTROLLERS" -le 16 ] || die "CONTROLLERS must be 2-16, not $CONTROLLERS"

# ------------------------------------------------------------ can we run at all?
[ "$(id -u)" -eq 0 ] || skip "needs root (apt-get, and qemu shares / with the guest as root)"

# Packages, each checked with dpkg-query; installed with apt-get unless E2E_NO_APT=1.
packages=(qemu-system-x86 linux-image-amd64 bluez bluez-test-tools busybox-static
	dbus-daemon dbus-bin python3 python3-dbus python3-gi kmod cpio gzip)
missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

mkdir -p "$WORKDIR"
exec 9>"$WORKDIR/.lock"
flock -w "$VM_TIMEOUT" 9 || die "another vm.sh holds $WORKDIR/.lock"
rm -rf "$WORKDIR/out" "$WORKDIR/initramfs.gz" "$WORKDIR/guest.env"
mkdir -p "$WORKDIR/out"
OUT=$WORKDIR/out

if [ ${#missing[@]} -gt 0 ]; then
	[ "${E2E_NO_APT:-0}" != 1 ] ||
		skip "missing packages: ${missing[*]} (E2E_NO_APT=1 forbids apt-get)"
	command -v apt-get >/dev/null || skip "missing packages: ${missing[*]} and no apt-get"
	log "installing with apt-get: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# update's status is ignored: an unreachable third-party source must not stop us
	apt-get update -qq >"$WORKDIR/apt.log" 2>&1 || log "apt-get update reported errors (see $WORKDIR/apt.log)"
	if ! apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
		"${missing[@]}" >>"$WORKDIR/apt.log" 2>&1; then
		reason=$(grep -E '^E:' "$WORKDIR/apt.log" | tail -n 1)
		skip "apt-get install ${missing[*]} failed: ${reason:-see $WORKDIR/apt.log}"
	fi
	log "packages installed"
fi
for tool in qemu-system-x86_64 btvirt btmon bluetoothd busybox dbus-daemon dbus-send modprobe cpio gzip; do
	command -v "$tool" >/dev/null || skip "$tool not found after installing packages"
done

# The guest kernel: the newest /boot/vmlinuz-K whose modules include hci_vhci.
KVER=${E2E_KERNEL:-}
if [ -z "$KVER" ] && [ -d /lib/modules ]; then
	while read -r k; do
		if [ -r "/boot/vmlinuz-$k" ] && modinfo -k "$k" -n hci_vhci >/dev/null 2>&1; then
			KVER=$k
		fi
	done < <(ls -1 /lib/modules | sort -V)
fi
[ -n "$KVER" ] && [ -r "/boot/vmlinuz-$KVER" ] ||
	skip "no kernel in /boot with the hci_vhci module (install linux-image-amd64)"

if [ "$ACCEL" = auto ]; then
	# Hardware-assisted KVM only. A /dev/kvm without vmx/svm (e.g. PVM) cannot
	# run a stock kernel; TCG always works, it is just slower.
	ACCEL=tcg
	if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
		ACCEL=kvm
	fi
fi
case $ACCEL in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel "tcg,thread=multi" -cpu max) ;;
*) die "ACCEL must be auto, kvm or tcg, not '$ACCEL'" ;;
esac

# ------------------------------------------------------------ initramfs
# busybox, the modules needed to mount the host's root (virtio-pci, 9p,
# overlay) in dependency order, and tests/e2e/initramfs-init as /init.
ird=$(mktemp -d)
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird"/{bin,dev,proc,sys,lower,rw,newroot,mods}
cp "$(command -v busybox)" "$ird/bin/busybox"
for applet in sh mount mkdir insmod switch_root cat sed poweroff sleep echo; do
	ln -s busybox "$ird/bin/$applet"
done
cp "$here/initramfs-init" "$ird/init"
chmod 0755 "$ird/init"
: >"$ird/mods/order"
mods_loaded=""
deps=$(modprobe -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p overlay) ||
	skip "kernel $KVER lacks the virtio/9p/overlay modules needed to mount the host root"
while read -r kind path _; do
	[ "$kind" = insmod ] || continue # "builtin name" lines need nothing
	name=$(basename "$path")
	grep -qx "${name%%.ko*}.ko" "$ird/mods/order" && continue
	case $path in
	*.ko) cp "$path" "$ird/mods/${name%%.ko*}.ko" ;;
	*.ko.xz) xz -dc "$path" >"$ird/mods/${name%%.ko*}.ko" ;;
	*.ko.zst) zstd -qdc "$path" >"$ird/mods/${name%%.ko*}.ko" ;;
	*) die "unexpected module file $path" ;;
	esac
	echo "${name%%.ko*}.ko" >>"$ird/mods/order"
	mods_loaded+=" ${name%%.ko*}"
done <<<"$deps"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORKDIR/initramfs.gz"
rm -rf "$ird"
trap - EXIT
log "initramfs: $(du -k "$WORKDIR/initramfs.gz" | cut -f1) KiB, modules:${mods_loaded}"

# ------------------------------------------------------------ guest configuration
# Read by guest.sh (bash) with `source`; %q keeps commands intact.
{
	printf 'E2E_DIR=%q\n' "$here"
	printf 'E2E_OUT=%q\n' "$OUT"
	printf 'PERIPHERAL_CMD=%q\n' "$PERIPHERAL_CMD"
	printf 'CENTRAL_CMD=%q\n' "$CENTRAL_CMD"
	printf 'CENTRAL_TIMEOUT=%q\n' "$CENTRAL_TIMEOUT"
	printf 'PERIPHERAL_WAIT=%q\n' "$PERIPHERAL_WAIT"
	printf 'EATT=%q\n' "$EATT"
	printf 'BTD_DEBUG=%q\n' "$BTD_DEBUG"
	printf 'CONTROLLERS=%q\n' "$CONTROLLERS"
	for v in $forward_env; do
		if [ -n "${!v+x}" ]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
	done
} >"$WORKDIR/guest.env"

# ------------------------------------------------------------ boot
qemu=(qemu-system-x86_64 "${accel_args[@]}" -m "$VM_MEM" -smp "$VM_SMP"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "/boot/vmlinuz-$KVER" -initrd "$WORKDIR/initramfs.gz"
	-append "console=ttyS0 loglevel=4 panic=-1 e2e.guest=$here/guest.sh e2e.env=$WORKDIR/guest.env"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$OUT,mount_tag=e2eout,security_model=none,multidevs=remap"
	-chardev "stdio,id=con,signal=off,logfile=$OUT/console.log" -serial chardev:con)
log "booting kernel $KVER (accel=$ACCEL, ${VM_SMP} CPUs, ${VM_MEM} MiB, $CONTROLLERS controllers, VM_TIMEOUT=${VM_TIMEOUT}s)"
TV=$(date +%s.%N)
set +e
timeout -k 10 "$VM_TIMEOUT" "${qemu[@]}" </dev/null
qrc=$?
set -e
vm_time=$(elapsed "$TV")

# ------------------------------------------------------------ results
reason=""
if [ -s "$OUT/central.rc" ]; then
	rc=$(cat "$OUT/central.rc")
	[[ $rc =~ ^[0-9]+$ ]] || { reason="bad central.rc '$rc'"; rc=1; }
	[ "$rc" = 0 ] || [ -n "$reason" ] || reason="central command exited with status $rc"
	[ "$rc" != 124 ] || reason="central command timed out after ${CENTRAL_TIMEOUT}s"
elif [ -s "$OUT/setup-failed" ]; then
	rc=1
	reason="guest setup failed: $(cat "$OUT/setup-failed")"
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	rc=1
	reason="VM did not finish within VM_TIMEOUT=${VM_TIMEOUT}s"
else
	rc=1
	reason="VM ended without a result (qemu status $qrc; see $OUT/console.log)"
fi
[ "$rc" -le 255 ] || rc=1

boot=$(sed -n 's/^\[guest *\([0-9.]*\)s\] userspace up.*/\1/p' "$OUT/console.log" 2>/dev/null | head -n 1)
echo "=================================================================="
echo "kernel $KVER, accel=$ACCEL, qemu status $qrc, central status $rc"
echo "guest userspace after ${boot:-?} s; VM wall time ${vm_time} s; total $(elapsed "$T0") s"
if [ -s "$OUT/hci.btsnoop" ]; then
	echo "virtual HCI link: $("$PY" "$here/tools/btsnoop-summary.py" "$OUT/hci.btsnoop" 2>&1 || true)"
fi
echo "logs: $OUT/{console,central,peripheral,bluetoothd,btvirt}.log, capture: $OUT/hci.btsnoop"
if [ "$rc" = 0 ]; then
	echo "E2E RESULT: PASS"
elif [ "$rc" = 77 ]; then # a central that finds it cannot run may exit 77 itself
	echo "E2E RESULT: SKIP (the central command exited 77)"
else
	for f in peripheral.log bluetoothd.log; do
		[ -s "$OUT/$f" ] || continue
		echo "--- last lines of $OUT/$f"
		tail -n 15 "$OUT/$f"
	done
	echo "E2E RESULT: FAIL ($reason)"
fi
exit "$rc"
