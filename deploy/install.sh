#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs recoveryd on this machine from the source tree it sits in: the
# programs (cmake --install), the system user, /etc/recoveryd with a first
# configuration, and the systemd unit; then checks the configuration and
# starts the daemon. Running it again updates the programs and the unit and
# leaves the configuration alone. Run --help for the options.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

unit_name=recoveryd.service
user=recoveryd
binaries=(recoveryd recoveryctl)

usage() {
	cat <<EOF
Usage: $prog [OPTION]...
       $prog --uninstall [--purge] [OPTION]...

Builds (if needed) and installs recoveryd, creates the system user
'$user', installs /etc/recoveryd/recoveryd.conf from
deploy/recoveryd.conf.example unless it exists, installs and enables
$unit_name, checks the configuration with 'recoveryd --check-config' and
starts the daemon. Run as root.

  --build-dir DIR  an existing CMake build to install from; without it,
                   $src/build is configured and built when missing
  --prefix DIR     where the programs go (default /usr/local)
  --no-start       install and enable, but do not check the configuration
                   or start the daemon
  --root DIR       install under DIR instead of /: no user, no file owners,
                   no systemctl (for packaging and tests)
  --uninstall      stop and disable the daemon, remove the unit and the
                   programs; keep /etc/recoveryd and /var/lib/recoveryd
  --purge          with --uninstall: remove /etc/recoveryd and
                   /var/lib/recoveryd too (the configuration, the MQTT
                   password and every reading)
  -h, --help       show this help

Exit status: 0 done; 1 failed, or installed but not started because the
configuration is not usable (the message says what to edit); 2 usage.
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage_error() {
	echo "$prog: $*" >&2
	echo "Try '$prog --help'." >&2
	exit 2
}

need_value() {
	if [ $# -lt 2 ] || [ -z "$2" ]; then
		usage_error "$1 needs a value"
	fi
}

absolute() { # an existing or new directory, as an absolute path
	mkdir -p "$1"
	(cd "$1" && pwd)
}

build_dir=
prefix=/usr/local
root=
start=true
uninstall=false
purge=false

while [ $# -gt 0 ]; do
	case $1 in
	--build-dir)
		need_value "$@"
		[ -d "$2" ] || usage_error "--build-dir: no directory '$2'"
		build_dir=$(cd "$2" && pwd)
		shift 2
		;;
	--prefix)
		need_value "$@"
		case $2 in /*) ;; *) usage_error "--prefix must be absolute" ;; esac
		prefix=${2%/}
		[ -n "$prefix" ] || prefix=/
		shift 2
		;;
	--root)
		need_value "$@"
		root=$(absolute "$2")
		[ "$root" != / ] || root=
		shift 2
		;;
	--no-start) start=false; shift ;;
	--uninstall) uninstall=true; shift ;;
	--purge) purge=true; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage_error "unknown option '$1'" ;;
	esac
done

if $purge && ! $uninstall; then
	usage_error "--purge goes with --uninstall"
fi

staging=false
[ -n "$root" ] && staging=true
if ! $staging && [ "$(id -u)" -ne 0 ]; then
	die "run as root (or with --root DIR to stage the files)"
fi
# Without a running systemd (a container, a chroot) there is nothing to
# enable or start.
have_systemd=false
if ! $staging && [ -d /run/systemd/system ]; then
	have_systemd=true
fi

etc=$root/etc/recoveryd
state=$root/var/lib/recoveryd
unit=$root/etc/systemd/system/$unit_name
bindir=$root${prefix%/}/bin
# What cmake --install wrote, kept for --uninstall (the build may be gone).
manifest=$root${prefix%/}/share/recoveryd/install-manifest.txt
# The dashboard's page, mosquitto's http_dir (setup-broker.sh's default
# --dashboard-dir with the default prefix).
dashboard=$root${prefix%/}/share/recoveryd/dashboard

umask 022

# --- uninstall -----------------------------------------------------------

if $uninstall; then
	if $have_systemd; then
		systemctl disable --now "$unit_name" 2>/dev/null || true
	fi
	if [ -e "$unit" ]; then
		rm -f "$unit"
		echo "removed $unit"
	fi
	if $have_systemd; then
		systemctl daemon-reload
		systemctl reset-failed "$unit_name" 2>/dev/null || true
	fi
	files=()
	for b in "${binaries[@]}"; do
		files+=("$bindir/$b")
	done
	if [ -f "$manifest" ]; then
		while IFS= read -r f || [ -n "$f" ]; do
			[ -n "$f" ] && files+=("$root$f")
		done <"$manifest"
	fi
	for f in "${files[@]}" "$manifest"; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			rm -f "$f"
			echo "removed $f"
		fi
	done
	if [ -d "$dashboard" ]; then
		rm -rf "$dashboard"
		echo "removed $dashboard"
	fi
	rmdir "$(dirname "$manifest")" 2>/dev/null || true
	if $purge; then
		rm -rf "$etc" "$state"
		echo "removed $etc and $state"
		if ! $staging && getent passwd "$user" >/dev/null; then
			echo "the system user '$user' stays (files elsewhere may" \
				"still be its own): deluser --system $user"
		fi
	else
		echo "kept $etc (configuration, MQTT password) and $state" \
			"(the readings); --uninstall --purge removes them"
	fi
	exit 0
fi

# --- build ---------------------------------------------------------------

example=$here/recoveryd.conf.example
[ -f "$example" ] || die "$example is missing: is this a complete checkout?"
[ -f "$here/$unit_name" ] || die "$here/$unit_name is missing"
command -v cmake >/dev/null ||
	die "cmake not found: apt-get install cmake ninja-build"

if [ -z "$build_dir" ]; then
	build_dir=$src/build
	if [ ! -f "$build_dir/CMakeCache.txt" ]; then
		command -v ninja >/dev/null ||
			die "ninja not found: apt-get install ninja-build"
		echo "building in $build_dir"
		cmake -S "$src" -B "$build_dir" -G Ninja \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo
		cmake --build "$build_dir"
	fi
fi
[ -f "$build_dir/CMakeCache.txt" ] ||
	die "$build_dir is not a CMake build directory"
# Where each program is in the build tree.
for b in gateway/recoveryd gateway/ctl/recoveryctl; do
	[ -x "$build_dir/$b" ] ||
		die "$build_dir/$b is not built: cmake --build $build_dir"
done

# --- programs ------------------------------------------------------------

echo "installing the programs into $bindir"
DESTDIR=$root cmake --install "$build_dir" --prefix "$prefix" >/dev/null
for b in "${binaries[@]}"; do
	[ -x "$bindir/$b" ] || die "cmake --install did not install $bindir/$b"
done
mkdir -p "$(dirname "$manifest")"
if [ -f "$build_dir/install_manifest.txt" ]; then
	# CMake lists the paths with DESTDIR in front; keep them without.
	while IFS= read -r f || [ -n "$f" ]; do
		echo "${f#"$root"}"
	done <"$build_dir/install_manifest.txt" >"$manifest"
fi

# --- dashboard -----------------------------------------------------------

# Its two libraries come through npm once (deploy/dashboard/build.sh); the
# daemon does not need it, so a machine without npm or the registry only
# hears how to add it later.
if "$src/deploy/dashboard/build.sh" "$dashboard" >/dev/null 2>&1; then
	echo "installed the dashboard into $dashboard"
else
	echo "the dashboard was not installed (it needs npm and the npm" \
		"registry once): deploy/dashboard/build.sh $dashboard"
fi

# --- user ----------------------------------------------------------------

if ! $staging; then
	if ! getent passwd "$user" >/dev/null; then
		adduser --system --group --no-create-home \
			--home /var/lib/recoveryd --quiet "$user"
		echo "created the system user '$user'"
	fi
	# bluez's D-Bus policy lets group bluetooth talk to org.bluez.
	if getent group bluetooth >/dev/null; then
		case " $(id -nG "$user") " in
		*" bluetooth "*) ;;
		*)
			adduser --quiet "$user" bluetooth
			echo "added '$user' to group bluetooth"
			;;
		esac
	fi
fi

# --- configuration -------------------------------------------------------

# Root's, readable by the daemon's group, by nobody else.
owned() { # mode, path...
	local mode=$1
	shift
	chmod "$mode" "$@"
	$staging || chown "root:$user" "$@"
}

mkdir -p "$etc"
owned 0750 "$etc"
config=$etc/recoveryd.conf
if [ -e "$config" ]; then
	echo "kept $config"
else
	install -m 0640 "$example" "$config"
	owned 0640 "$config"
	echo "installed $config: edit it for your people and sensors"
fi
# systemd makes the state directory at the first start; made now, a
# --check-config that looks at the database's directory finds it.
mkdir -p "$state"
chmod 0700 "$state"
$staging || chown "$user:$user" "$state"
# The daemon reads its MQTT password as its own user and warns when others
# could (deploy/mosquitto/setup-broker.sh may have made it before the user
# existed).
if [ -e "$etc/mqtt-password" ]; then
	chmod 0600 "$etc/mqtt-password"
	$staging || chown "$user:$user" "$etc/mqtt-password"
fi

# --- unit ----------------------------------------------------------------

unit_tmp=$(mktemp)
trap 'rm -f "$unit_tmp"' EXIT
sed "s|^ExecStart=/usr/local/bin/recoveryd |ExecStart=${prefix%/}/bin/recoveryd |" \
	"$here/$unit_name" >"$unit_tmp"
grep -q "^ExecStart=${prefix%/}/bin/recoveryd " "$unit_tmp" ||
	die "$here/$unit_name: no ExecStart=/usr/local/bin/recoveryd line to adapt"
mkdir -p "$(dirname "$unit")"
if cmp -s "$unit_tmp" "$unit"; then
	echo "unchanged $unit"
else
	install -m 0644 "$unit_tmp" "$unit"
	echo "installed $unit"
fi
rm -f "$unit_tmp"
trap - EXIT

if $staging; then
	echo "staged under $root; no user, no systemctl"
	exit 0
fi
if ! $have_systemd; then
	echo "systemd is not running here: the unit is installed but not enabled"
	exit 0
fi
systemctl daemon-reload
systemctl enable --quiet "$unit_name"

if ! $start; then
	echo "enabled, not started (--no-start): edit $config, check it with" \
		"'$bindir/recoveryd --check-config', then: systemctl start recoveryd"
	exit 0
fi

# --- check and start -----------------------------------------------------

# As the daemon's user, so an unreadable password or CA file shows here.
if ! check=$(runuser -u "$user" -- "$bindir/recoveryd" --check-config \
	--config "$config" 2>&1); then
	echo "$check" >&2
	echo "$prog: not started: fix $config (the line above says what is" \
		"wrong), then run $prog again or: systemctl restart recoveryd" >&2
	exit 1
fi
systemctl restart "$unit_name"
if systemctl is-active --quiet "$unit_name"; then
	echo "recoveryd is running: journalctl -u recoveryd -f"
else
	die "recoveryd did not start: journalctl -u recoveryd -e"
fi
