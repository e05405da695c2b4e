#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# deploy/package.sh for real: builds the package for this machine's
# architecture (lintian must find no errors), installs it with
# `apt-get install ./recoveryd_….deb` on this machine, checks the programs,
# the unit (installed, not enabled), /etc/recoveryd, the system user in
# group bluetooth and the man pages, that a remove keeps the database and
# the configuration and a purge takes both, that an install over a
# configuration that passes --check-config enables the unit; then builds
# the arm64 package and runs its recoveryd --version under qemu-user.
#
#   test-package.sh [SOURCE_DIR]
#
# Needs root (it installs into this system: run it in CI or a throwaway
# machine). Leaves the system as it found it: the package purged, the
# system user removed when this test made it. Exit 0 passed, 1 failed, 77
# skipped (not root, a tool missing, or recoveryd already installed here;
# says which).
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}

# skip, fail, pass and $failures.
. "$(dirname "$0")/checks.sh"

[ "$(id -u)" -eq 0 ] ||
	skip "not root: this test installs the package into the system"
for tool in dpkg-buildpackage dh lintian help2man apt-get fakeroot; do
	command -v "$tool" >/dev/null ||
		skip "$tool not found (apt-get install dpkg-dev debhelper lintian help2man fakeroot)"
done
if dpkg-query -W -f='${Status}' recoveryd 2>/dev/null | grep -q installed; then
	skip "the recoveryd package is installed here already: not touching it"
fi
for d in /var/lib/recoveryd /etc/recoveryd; do
	[ ! -e "$d" ] || skip "$d exists (install.sh?): a purge would remove it"
done

tmp=$(mktemp -d)
made_user=false
getent passwd recoveryd >/dev/null || made_user=true
cleanup() {
	if dpkg-query -W -f='${Status}' recoveryd 2>/dev/null | grep -q installed ||
		dpkg-query -W -f='${Status}' recoveryd 2>/dev/null | grep -q config-files; then
		apt-get purge -y -qq recoveryd >/dev/null 2>&1 || true
	fi
	if $made_user && getent passwd recoveryd >/dev/null; then
		deluser --system --quiet recoveryd >/dev/null 2>&1 || true
		delgroup --system --quiet recoveryd >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

arch=$(dpkg --print-architecture)

# --- build ----------------------------------------------------------------

start=$SECONDS
if JOBS=${JOBS:-1} "$src/deploy/package.sh" --arch "$arch" >"$tmp/package.out" 2>&1; then
	pass "package.sh --arch $arch built and lintian found no errors ($((SECONDS - start)) s)"
else
	sed 's/^/    /' "$tmp/package.out"
	echo "FAIL: package.sh --arch $arch"
	exit 1
fi
deb=$(tail -n 1 "$tmp/package.out")
grep '^built in\|lintian' "$tmp/package.out" | sed 's/^/    /' || true
case $deb in
/*.deb) [ -f "$deb" ] && pass "the last line is the .deb: $deb" ||
	fail "the last line names no file: $deb" ;;
*)
	fail "the last line is not a .deb path: $deb"
	exit 1
	;;
esac
field=$(dpkg-deb -f "$deb" Architecture)
[ "$field" = "$arch" ] && pass "Architecture: $field" ||
	fail "Architecture: $field, expected $arch"
echo "    size $(du -k "$deb" | cut -f1) KiB, Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"

# --- install ----------------------------------------------------------------

start=$SECONDS
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "$deb" >"$tmp/install.out" 2>&1; then
	pass "apt-get install ./${deb##*/} ($((SECONDS - start)) s)"
else
	sed 's/^/    /' "$tmp/install.out"
	echo "FAIL: apt-get install $deb"
	exit 1
fi
grep -q "installed, not enabled" "$tmp/install.out" &&
	pass "the postinst says what to do next" ||
	fail "the postinst does not say what to do next"

for p in recoveryd recoveryctl; do
	out=$("/usr/bin/$p" --version 2>&1) || true
	case $out in
	"$p "[0-9]*) pass "/usr/bin/$p --version: $out" ;;
	*) fail "/usr/bin/$p --version: $out" ;;
	esac
	if man -l "/usr/share/man/man1/$p.1.gz" 2>/dev/null | grep -q -- --help ||
		zcat "/usr/share/man/man1/$p.1.gz" 2>/dev/null | grep -q '^\.TH'; then
		pass "man page $p(1)"
	else
		fail "no man page /usr/share/man/man1/$p.1.gz"
	fi
done

unit=/lib/systemd/system/recoveryd.service
if grep -qx 'ExecStart=/usr/bin/recoveryd --config /etc/recoveryd/recoveryd.conf' \
	"$unit" 2>/dev/null &&
	grep -qx 'ConditionPathExists=/etc/recoveryd/recoveryd.conf' "$unit"; then
	pass "$unit: ExecStart /usr/bin/recoveryd, waits for recoveryd.conf"
else
	fail "$unit missing or not adapted to the package"
fi
if [ -e /etc/systemd/system/multi-user.target.wants/recoveryd.service ]; then
	fail "the unit was enabled without a configuration"
else
	pass "the unit is not enabled"
fi

if getent passwd recoveryd >/dev/null; then
	pass "system user recoveryd ($(getent passwd recoveryd | cut -d: -f3,6,7))"
	uid=$(id -u recoveryd)
	[ "$uid" -lt 1000 ] || fail "recoveryd has uid $uid, not a system uid"
	case " $(id -nG recoveryd) " in
	*" bluetooth "*) pass "recoveryd is in group bluetooth" ;;
	*) fail "recoveryd is not in group bluetooth: $(id -nG recoveryd)" ;;
	esac
else
	fail "no system user recoveryd"
fi
perm=$(stat -c '%a %U:%G' /etc/recoveryd 2>/dev/null || echo missing)
[ "$perm" = "750 root:recoveryd" ] && pass "/etc/recoveryd $perm" ||
	fail "/etc/recoveryd is $perm, expected 750 root:recoveryd"
[ -f /etc/recoveryd/recoveryd.conf.example ] &&
	pass "/etc/recoveryd/recoveryd.conf.example" ||
	fail "no /etc/recoveryd/recoveryd.conf.example"
[ ! -e /etc/recoveryd/recoveryd.conf ] &&
	pass "no recoveryd.conf until the administrator writes one" ||
	fail "the package wrote /etc/recoveryd/recoveryd.conf"
perm=$(stat -c '%a %U' /var/lib/recoveryd 2>/dev/null || echo missing)
[ "$perm" = "700 recoveryd" ] && pass "/var/lib/recoveryd $perm" ||
	fail "/var/lib/recoveryd is $perm, expected 700 recoveryd"

# What the README tells the administrator to do next, as far as it goes
# without systemd: the example copied, checked as the daemon's user.
install -m 0640 -g recoveryd /etc/recoveryd/recoveryd.conf.example \
	/etc/recoveryd/recoveryd.conf
if out=$(runuser -u recoveryd -- recoveryd --check-config 2>&1); then
	pass "recoveryd --check-config as user recoveryd: $out"
else
	fail "recoveryd --check-config as user recoveryd: $out"
fi

# --- remove keeps, purge takes -------------------------------------------------

runuser -u recoveryd -- sh -c 'echo data >/var/lib/recoveryd/recoveryd.db'
if apt-get remove -y -qq recoveryd >"$tmp/remove.out" 2>&1; then
	pass "apt-get remove"
else
	sed 's/^/    /' "$tmp/remove.out"
	fail "apt-get remove"
fi
[ ! -e /usr/bin/recoveryd ] && [ ! -e "$unit" ] &&
	pass "remove: programs and unit gone" ||
	fail "remove left /usr/bin/recoveryd or the unit"
[ -f /var/lib/recoveryd/recoveryd.db ] && [ -f /etc/recoveryd/recoveryd.conf ] &&
	pass "remove: the database and recoveryd.conf kept" ||
	fail "remove took the database or the configuration"
if apt-get purge -y -qq recoveryd >"$tmp/purge.out" 2>&1; then
	pass "apt-get purge"
else
	sed 's/^/    /' "$tmp/purge.out"
	fail "apt-get purge"
fi
[ ! -e /var/lib/recoveryd ] && [ ! -e /etc/recoveryd ] &&
	pass "purge: /var/lib/recoveryd (the database) and /etc/recoveryd gone" ||
	fail "purge left /var/lib/recoveryd or /etc/recoveryd"

# --- a configuration that passes --check-config: enabled at install ----------

mkdir -p /etc/recoveryd
cp "$src/deploy/recoveryd.conf.example" /etc/recoveryd/recoveryd.conf
wants=/etc/systemd/system/multi-user.target.wants/recoveryd.service
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "$deb" >"$tmp/install2.out" 2>&1; then
	[ -L "$wants" ] &&
		pass "installed over a recoveryd.conf that passes --check-config: enabled" ||
		fail "installed over a good recoveryd.conf: the unit is not enabled"
else
	sed 's/^/    /' "$tmp/install2.out"
	fail "apt-get install over a good recoveryd.conf"
fi
apt-get purge -y -qq recoveryd >/dev/null 2>&1 || fail "the second purge"
[ ! -e "$wants" ] && [ ! -L "$wants" ] && [ ! -e /etc/recoveryd ] &&
	pass "purge: the enablement and /etc/recoveryd gone" ||
	fail "purge left $wants or /etc/recoveryd"

# --- arm64 --------------------------------------------------------------------

if [ "$arch" = arm64 ]; then
	echo "skipped: the arm64 cross package (this machine is arm64)"
elif ! command -v qemu-aarch64-static >/dev/null ||
	! command -v aarch64-linux-gnu-gcc >/dev/null ||
	! aarch64-linux-gnu-pkg-config --exists glib-2.0 libmosquitto 2>/dev/null; then
	echo "skipped: the arm64 package (no cross toolchain, arm64 -dev" \
		"packages or qemu-user-static: deploy/cross/setup.sh arm64)"
else
	start=$SECONDS
	if JOBS=${JOBS:-1} "$src/deploy/package.sh" --arch arm64 \
		>"$tmp/arm64.out" 2>&1; then
		deb=$(tail -n 1 "$tmp/arm64.out")
		pass "package.sh --arch arm64 built and lintian found no errors ($((SECONDS - start)) s)"
		echo "    size $(du -k "$deb" | cut -f1) KiB, Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"
		field=$(dpkg-deb -f "$deb" Architecture)
		[ "$field" = arm64 ] && pass "Architecture: arm64" ||
			fail "Architecture: $field, expected arm64"
		dpkg-deb -x "$deb" "$tmp/arm64"
		out=$(qemu-aarch64-static "$tmp/arm64/usr/bin/recoveryd" --version 2>&1) || true
		case $out in
		"recoveryd "[0-9]*) pass "arm64 recoveryd --version under qemu-user: $out" ;;
		*) fail "arm64 recoveryd --version under qemu-user: $out" ;;
		esac
	else
		sed 's/^/    /' "$tmp/arm64.out"
		fail "package.sh --arch arm64"
	fi
fi

if [ "$failures" -gt 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all package checks passed"
