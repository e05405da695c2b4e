#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Builds the Debian package of recoveryd for an architecture with debhelper:
# copies the source tree into dist/build-ARCH/recoveryd-VERSION, puts
# deploy/debian/ there as debian/ (the top-level folders stay as they are),
# runs dpkg-buildpackage (cross for arm64 and armhf, with Debian's cross
# toolchain and deploy/cross/TRIPLET.cmake) and lintian, and writes the
# .deb into dist/. The last line printed is the .deb's path.
#
#   deploy/package.sh --arch amd64|arm64|armhf [--no-lintian]
#
# As root, missing build tools and cross packages are installed first
# (deploy/cross/setup.sh for arm64 and armhf). Exit 0 built (lintian found
# no errors), 1 failed, 2 usage.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

usage() {
	cat <<EOF
Usage: $prog --arch amd64|arm64|armhf [--no-lintian]

Builds dist/recoveryd_VERSION_ARCH.deb with debhelper from this source
tree and checks it with lintian (errors fail the build). Prints the .deb's
path last.
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

arch=
lint=true
while [ $# -gt 0 ]; do
	case $1 in
	--arch)
		[ $# -ge 2 ] || { echo "$prog: --arch needs a value" >&2; exit 2; }
		arch=$2
		shift 2
		;;
	--no-lintian) lint=false; shift ;;
	-h | --help) usage; exit 0 ;;
	*)
		echo "$prog: unknown option '$1'" >&2
		usage >&2
		exit 2
		;;
	esac
done
case $arch in
amd64 | arm64 | armhf) ;;
*)
	usage >&2
	exit 2
	;;
esac

build_arch=$(dpkg --print-architecture)
cross=false
[ "$arch" = "$build_arch" ] || cross=true

# --- tools ---------------------------------------------------------------

tools=(debhelper dpkg-dev fakeroot help2man cmake ninja-build pkg-config)
$lint && tools+=(lintian)
if ! $cross; then
	tools+=(gcc libglib2.0-dev libjson-glib-dev libsqlite3-dev
		libbluetooth-dev libsystemd-dev libmosquitto-dev)
fi
missing=()
for p in "${tools[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] ||
		die "missing: ${missing[*]} (as root: apt-get install ${missing[*]})"
	echo "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		die "could not install ${missing[*]}"
fi
if $cross; then
	"$here/cross/setup.sh" "$arch" || die "the $arch cross packages are missing"
fi

# --- version ---------------------------------------------------------------

version=$(sed -n 's/^project(recoveryd VERSION \([0-9.]*\).*/\1/p' \
	"$src/CMakeLists.txt")
[ -n "$version" ] || die "no project(recoveryd VERSION ...) in CMakeLists.txt"
deb_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
case $deb_version in
"$version"-*) ;;
*) die "deploy/debian/changelog is at $deb_version, CMakeLists.txt at $version: add a changelog entry" ;;
esac

# --- tree ------------------------------------------------------------------

dist=$src/dist
work=$dist/build-$arch
tree=$work/recoveryd-$version
rm -rf "$work"
mkdir -p "$tree"
# The source as it is (a fresh clone or a work tree with changes, and a
# built dashboard when there is one), without builds and git.
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./dist \
	--exclude=node_modules -cf - . | tar -C "$tree" -xf -
rm -rf "$tree/debian"
cp -r "$here/debian" "$tree/debian"
# The unit as the package installs it: programs in /usr/bin, and nothing to
# start before the administrator has written a configuration.
sed -e 's|/usr/local/bin/|/usr/bin/|g' \
	-e 's|^StartLimitBurst=5$|StartLimitBurst=5\nConditionPathExists=/etc/recoveryd/recoveryd.conf|' \
	"$here/recoveryd.service" >"$tree/debian/recoveryd.service"
grep -qx 'ExecStart=/usr/bin/recoveryd --config /etc/recoveryd/recoveryd.conf' \
	"$tree/debian/recoveryd.service" ||
	die "deploy/recoveryd.service: no ExecStart=/usr/local/bin/recoveryd line to adapt"

# --- build -----------------------------------------------------------------

flags=(-b -us -uc --no-sign)
$cross && flags+=(-a "$arch" -Pcross)
log=$work/build.log
start=$SECONDS
echo "building the $arch package in $tree (log: $log)"
if ! (cd "$tree" && DEB_BUILD_OPTIONS="parallel=${JOBS:-1} nocheck" \
	dpkg-buildpackage "${flags[@]}") >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "dpkg-buildpackage failed (whole log: $log)"
fi
deb=$work/recoveryd_${deb_version}_$arch.deb
[ -f "$deb" ] || die "dpkg-buildpackage made no $deb"
mv "$deb" "$dist/"
deb=$dist/${deb##*/}
grep '^dashboard:' "$log" || true
echo "built in $((SECONDS - start)) s: $(du -k "$deb" | cut -f1) KiB," \
	"Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB," \
	"Architecture $(dpkg-deb -f "$deb" Architecture)"

# --- lintian ---------------------------------------------------------------

if $lint; then
	# Tags README.md explains are in deploy/debian/lintian-explained.
	lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 &&
		rc=0 || rc=$?
	sed 's/^/    lintian: /' "$work/lintian.log"
	if grep -q '^E: ' "$work/lintian.log"; then
		die "lintian found errors in $deb"
	fi
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] ||
		echo "lintian exited $rc without errors (warnings above)"
fi

echo "$deb"
