#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs what a cross build for ARCH needs on Debian 12 (as root): the
# foreign architecture in dpkg, Debian's cross toolchain
# (crossbuild-essential-ARCH), the project's -dev packages for ARCH
# (multiarch, beside the build machine's) and qemu-user-static to run the
# foreign programs. Does nothing when all of it is there.
#
#   deploy/cross/setup.sh arm64|armhf
#
# Exit 0 ready, 1 failed (says what), 2 usage.
set -euo pipefail

prog=${0##*/}
case ${1:-} in
arm64 | armhf) arch=$1 ;;
*)
	echo "usage: $prog arm64|armhf" >&2
	exit 2
	;;
esac

packages=(crossbuild-essential-"$arch" qemu-user-static pkg-config)
for p in libglib2.0-dev libjson-glib-dev libsqlite3-dev libbluetooth-dev \
	libsystemd-dev libmosquitto-dev; do
	packages+=("$p:$arch")
done

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "$prog: missing: ${missing[*]}; as root: $0 $arch" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
added=false
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	dpkg --add-architecture "$arch"
	added=true
	echo "added the dpkg architecture $arch"
fi
echo "installing: ${missing[*]}"
# A mirror that is half-way through a sync fails one index; what apt then
# resolves from the others is checked by the install itself.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt-get update -qq >"$log" 2>&1 || {
	echo "$prog: apt-get update reported (carrying on):"
	sed 's/^/    /' "$log"
}
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" \
	>"$log" 2>&1; then
	tail -n 25 "$log" >&2
	echo "$prog: could not install the $arch packages above" >&2
	# An architecture whose index cannot be had would fail every later
	# `apt-get update` (and tests/run.sh's install step with it).
	if $added; then
		dpkg --remove-architecture "$arch" 2>/dev/null &&
			apt-get update -qq >/dev/null 2>&1 || true
		echo "$prog: removed the dpkg architecture $arch again" >&2
	fi
	exit 1
fi
