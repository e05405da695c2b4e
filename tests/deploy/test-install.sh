#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# deploy/install.sh in staging mode (--root): the files it installs and their
# modes, a second run that keeps the configuration, --prefix, --uninstall
# and --purge; that staging touches nothing on the system (no user, no
# systemctl, no chown); and, where systemd-analyze can run, that the unit
# verifies cleanly and its exposure stays low.
#
#   test-install.sh [SOURCE_DIR [BUILD_DIR]]
#
# BUILD_DIR is a build with recoveryd and recoveryctl in it (default
# SOURCE_DIR/build); nothing is rebuilt. Exit 0 passed, 1 failed, 77 skipped
# (something it needs is missing; says what).
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${2:-$src/build}
install_sh=$src/deploy/install.sh
unit_src=$src/deploy/recoveryd.service
example=$src/deploy/recoveryd.conf.example
# Overall exposure `systemd-analyze security` may report for the unit; it
# was 2.0 when the unit was written (see its header).
max_exposure=2.5

# skip, fail, pass and $failures.
. "$(dirname "$0")/checks.sh"

command -v cmake >/dev/null || skip "cmake not found"
[ -f "$build/CMakeCache.txt" ] || skip "$build is not a configured build"
for b in gateway/recoveryd gateway/ctl/recoveryctl; do
	[ -x "$build/$b" ] ||
		skip "$build/$b is not built (nothing to install)"
done
[ -f "$example" ] || skip "$example is not in the tree yet"
for f in "$install_sh" "$unit_src"; do
	[ -f "$f" ] || { echo "FAIL: $f is missing"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage

# Staging must not run any of these: each stand-in records the call and
# fails.
mkdir "$tmp/bin"
for cmd in systemctl adduser addgroup useradd usermod deluser runuser \
	chown chgrp; do
	cat >"$tmp/bin/$cmd" <<EOF
#!/bin/sh
echo "$cmd \$*" >>"$tmp/system-calls"
exit 1
EOF
	chmod +x "$tmp/bin/$cmd"
done

run() { # log name, install.sh arguments...
	local name=$1
	shift
	PATH=$tmp/bin:$PATH timeout 300 "$install_sh" "$@" \
		>"$tmp/$name.out" 2>&1
}

show() { # log name
	sed 's/^/    /' "$tmp/$1.out" 2>/dev/null || true
}

mode_is() { # path, octal mode
	local m
	m=$(stat -c %a "$1" 2>/dev/null || echo missing)
	if [ "$m" = "$2" ]; then
		pass "${1#"$stage"} mode $2"
	else
		fail "${1#"$stage"} has mode $m, expected $2"
	fi
}

snapshot() { # root
	(cd "$1" && find . -printf '%M %p\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# --- install ---------------------------------------------------------------

if run first --root "$stage" --build-dir "$build"; then
	pass "install.sh --root succeeded"
else
	show first
	echo "FAIL: install.sh --root failed"
	exit 1
fi

for b in recoveryd recoveryctl; do
	if [ -x "$stage/usr/local/bin/$b" ]; then
		pass "/usr/local/bin/$b installed"
	else
		fail "/usr/local/bin/$b not installed"
	fi
	mode_is "$stage/usr/local/bin/$b" 755
done
unit=$stage/etc/systemd/system/recoveryd.service
config=$stage/etc/recoveryd/recoveryd.conf
mode_is "$unit" 644
mode_is "$stage/etc/recoveryd" 750
mode_is "$config" 640
if cmp -s "$unit" "$unit_src"; then
	pass "the unit is deploy/recoveryd.service"
else
	fail "the installed unit differs from deploy/recoveryd.service"
fi
if cmp -s "$config" "$example"; then
	pass "the config is deploy/recoveryd.conf.example"
else
	fail "the installed config differs from the example"
fi
mode_is "$stage/var/lib/recoveryd" 700

# --- second run: the user's config stays ------------------------------------

echo "# edited by the user" >>"$config"
printf 'secret\n' >"$stage/etc/recoveryd/mqtt-password"
chmod 0644 "$stage/etc/recoveryd/mqtt-password"
snapshot "$stage" | grep -v -e recoveryd.conf -e mqtt-password >"$tmp/before"
if run second --root "$stage" --build-dir "$build"; then
	pass "a second run succeeded"
else
	show second
	fail "a second run failed"
fi
if tail -n 1 "$config" | grep -qx "# edited by the user"; then
	pass "a second run keeps the edited config"
else
	fail "a second run overwrote the edited config"
fi
grep -q "kept .*recoveryd.conf" "$tmp/second.out" ||
	fail "a second run does not say it kept the config"
mode_is "$stage/etc/recoveryd/mqtt-password" 600
snapshot "$stage" | grep -v -e recoveryd.conf -e mqtt-password >"$tmp/after"
if cmp -s "$tmp/before" "$tmp/after"; then
	pass "a second run changes nothing else"
else
	fail "a second run changed files:"
	diff "$tmp/before" "$tmp/after" || true
fi

# --- another prefix -----------------------------------------------------------

if run prefix --root "$tmp/opt" --build-dir "$build" --prefix /opt/recoveryd &&
	[ -x "$tmp/opt/opt/recoveryd/bin/recoveryd" ] &&
	grep -qx "ExecStart=/opt/recoveryd/bin/recoveryd --config /etc/recoveryd/recoveryd.conf" \
		"$tmp/opt/etc/systemd/system/recoveryd.service"; then
	pass "--prefix /opt/recoveryd: programs there, ExecStart follows"
else
	show prefix
	fail "--prefix /opt/recoveryd: programs or ExecStart not there"
fi

# --- systemd-analyze ----------------------------------------------------------

# The staged unit, with ExecStart pointing at the staged binary (verify
# checks that it exists).
sed "s|^ExecStart=/usr/local/bin/|ExecStart=$stage/usr/local/bin/|" "$unit" \
	>"$tmp/recoveryd.service"
printf '[Service]\nExecStart=/bin/true\n' >"$tmp/probe.service"
if ! command -v systemd-analyze >/dev/null; then
	echo "skipped: systemd-analyze verify and security (no systemd-analyze)"
elif ! out=$(systemd-analyze verify "$tmp/probe.service" 2>&1) ||
	[ -n "$out" ]; then
	echo "skipped: systemd-analyze verify and security (cannot verify even" \
		"a trivial unit here: ${out:-no message})"
else
	if out=$(systemd-analyze verify "$tmp/recoveryd.service" 2>&1) &&
		[ -z "$out" ]; then
		pass "systemd-analyze verify: clean"
	else
		fail "systemd-analyze verify: $out"
	fi
	if systemd-analyze security --help 2>&1 | grep -q -- --offline; then
		out=$(systemd-analyze security --offline=yes \
			--threshold="$(awk "BEGIN { print int($max_exposure * 10) }")" \
			"$tmp/recoveryd.service" 2>&1) && rc=0 || rc=$?
		exposure=$(grep -o 'Overall exposure level for [^:]*: [0-9.]*' \
			<<<"$out" | grep -o '[0-9.]*$' || true)
		# --threshold is in tenths on systemd 252 (0-100).
		if [ "$rc" -eq 0 ] && [ -n "$exposure" ]; then
			pass "systemd-analyze security: exposure $exposure (at most $max_exposure)"
		else
			fail "systemd-analyze security: exposure ${exposure:-?} over $max_exposure (exit $rc)"
		fi
	else
		echo "skipped: systemd-analyze security (no --offline before systemd 250)"
	fi
fi

# --- uninstall ----------------------------------------------------------------

: >"$stage/var/lib/recoveryd/recoveryd.db"
if run uninstall --root "$stage" --uninstall; then
	pass "--uninstall succeeded"
else
	show uninstall
	fail "--uninstall failed"
fi
for f in /etc/systemd/system/recoveryd.service /usr/local/bin/recoveryd \
	/usr/local/bin/recoveryctl; do
	if [ -e "$stage$f" ]; then
		fail "--uninstall left $f"
	else
		pass "--uninstall removed $f"
	fi
done
if [ -f "$config" ] && [ -f "$stage/etc/recoveryd/mqtt-password" ] &&
	[ -f "$stage/var/lib/recoveryd/recoveryd.db" ]; then
	pass "--uninstall kept /etc/recoveryd and /var/lib/recoveryd"
else
	fail "--uninstall removed the configuration or the database"
fi
grep -q "kept .*/etc/recoveryd" "$tmp/uninstall.out" ||
	fail "--uninstall does not say it kept /etc/recoveryd"

if run purge --root "$stage" --uninstall --purge &&
	[ ! -e "$stage/etc/recoveryd" ] && [ ! -e "$stage/var/lib/recoveryd" ]; then
	pass "--uninstall --purge removed /etc/recoveryd and /var/lib/recoveryd"
else
	show purge
	fail "--uninstall --purge left /etc/recoveryd or /var/lib/recoveryd"
fi

# --- usage ------------------------------------------------------------------

if run help --help && grep -q -- "--root DIR" "$tmp/help.out"; then
	pass "--help"
else
	fail "--help failed or does not describe --root"
fi
rc=0
run bad --root "$stage" --no-such-option || rc=$?
if [ "$rc" -eq 2 ]; then
	pass "an unknown option exits 2"
else
	fail "an unknown option exits $rc, expected 2"
fi
rc=0
run purge-alone --root "$stage" --purge || rc=$?
if [ "$rc" -eq 2 ]; then
	pass "--purge without --uninstall exits 2"
else
	fail "--purge without --uninstall exits $rc, expected 2"
fi

# --- nothing on the system ----------------------------------------------------

if [ -s "$tmp/system-calls" ]; then
	fail "staging ran system commands: $(tr '\n' ';' <"$tmp/system-calls")"
else
	pass "staging ran no systemctl, adduser, runuser or chown"
fi

if [ "$failures" -gt 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all install checks passed"
