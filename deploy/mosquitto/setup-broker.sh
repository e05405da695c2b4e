#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Sets up Debian 12's mosquitto 2.0 as the broker between recoveryd, Home
# Assistant and the dashboard: a small CA and a server certificate, one
# random password each for the users "recoveryd", "homeassistant" and
# "dashboard", the ACL, and conf.d/recoveryd.conf with a TLS MQTT listener,
# a TLS websockets listener for the dashboard and a plain one that serves
# the dashboard's page (http_dir). Safe to run again: what exists
# is kept (the CA, passwords, and any file an administrator changed), a
# server certificate is reissued only when a host name is missing from it or
# it expires within 30 days. Run --help for the options.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)

usage() {
	cat <<EOF
Usage: $prog [OPTION]...

Sets up mosquitto for recoveryd and Home Assistant: TLS on port 8883 with a
certificate from a CA of its own, password logins, and an ACL. Run as root.

  --host NAME    a name (or address) clients use to reach this broker; put
                 in the certificate with localhost, 127.0.0.1 and ::1.
                 May be given more than once. Default: $(default_host)
  --port N       the TLS listener's port (default 8883)
  --ws-port N    the dashboard's MQTT over secure websockets (default 8884)
  --http-port N  where the dashboard's page is served, plain HTTP: the
                 page only, its data comes over --ws-port (default 8880)
  --dashboard-dir DIR
                 the folder the dashboard is served from (default
                 /usr/local/share/recoveryd/dashboard; fill it with
                 deploy/dashboard/build.sh DIR)
  --listen ADDR  listen on this address only (default: every address)
  --root DIR     install under DIR instead of /, leave users, file owners
                 and services alone, and write paths under DIR into the
                 mosquitto config (for tests and staging)
  -h, --help     show this help

Files (under DIR with --root):
  /etc/mosquitto/conf.d/recoveryd.conf   listener, TLS, password file, ACL
  /etc/mosquitto/recoveryd.acl           who may publish and read what
  /etc/mosquitto/recoveryd.passwd        hashed passwords (mosquitto_passwd)
  /etc/mosquitto/certs/                  ca.crt, server.crt, server.key
  /etc/mosquitto/ca/ca.key               the CA's key (root only)
  /etc/mosquitto/credentials/homeassistant   Home Assistant's password
  /etc/mosquitto/credentials/dashboard       the dashboard's password
  /etc/recoveryd/mqtt-password           recoveryd's password
  /etc/recoveryd/ca.crt                  the CA, for recoveryd's ca-file=

A config file or ACL that differs from this version's is not replaced: the
new one is written next to it with ".new" appended.
EOF
}

default_host() {
	local h
	h=$(hostname --fqdn 2>/dev/null || true)
	[ -n "$h" ] || h=$(hostname)
	echo "$h"
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

hosts=()
port=8883
ws_port=8884
http_port=8880
dashboard_dir=/usr/local/share/recoveryd/dashboard
listen=
root=

# Option $1 needs a non-empty value in $2.
need_value() {
	if [ $# -lt 2 ] || [ -z "$2" ]; then
		usage_error "$1 needs a value"
	fi
}

# Option $1's value $2 is a port number.
need_port() {
	need_value "$@"
	if ! [[ $2 =~ ^[0-9]{1,5}$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
		usage_error "$1: '$2' is not a port number (1-65535)"
	fi
}

while [ $# -gt 0 ]; do
	case $1 in
	--host)
		need_value "$@"
		hosts+=("$2")
		shift 2
		;;
	--port)
		need_port "$@"
		port=$2
		shift 2
		;;
	--ws-port)
		need_port "$@"
		ws_port=$2
		shift 2
		;;
	--http-port)
		need_port "$@"
		http_port=$2
		shift 2
		;;
	--dashboard-dir)
		need_value "$@"
		case $2 in /*) ;; *) usage_error "--dashboard-dir must be absolute" ;; esac
		dashboard_dir=${2%/}
		shift 2
		;;
	--listen)
		need_value "$@"
		listen=$2
		shift 2
		;;
	--root)
		need_value "$@"
		mkdir -p "$2"
		root=$(cd "$2" && pwd)
		[ "$root" != / ] || root=
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage_error "unknown option '$1'"
		;;
	esac
done

staging=false
[ -n "${root}" ] && staging=true
[ ${#hosts[@]} -gt 0 ] || hosts=("$(default_host)")
if [ "$ws_port" = "$port" ] || [ "$http_port" = "$port" ] ||
	[ "$http_port" = "$ws_port" ]; then
	usage_error "--port, --ws-port and --http-port must differ"
fi

if ! $staging && [ "$(id -u)" -ne 0 ]; then
	die "run as root (or with --root DIR to stage the files)"
fi
for tool in openssl mosquitto_passwd; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: apt-get install openssl mosquitto mosquitto-clients"
done
if ! $staging && ! getent group mosquitto >/dev/null; then
	die "no group 'mosquitto': is mosquitto installed? (apt-get install mosquitto)"
fi

etc=$root/etc/mosquitto
certs=$etc/certs
ca_dir=$etc/ca
cred_dir=$etc/credentials
passwd_file=$etc/recoveryd.passwd
acl_file=$etc/recoveryd.acl
conf_file=$etc/conf.d/recoveryd.conf
recoveryd_etc=$root/etc/recoveryd

umask 022
mkdir -p "$certs" "$etc/conf.d" "$recoveryd_etc"
install -d -m 0700 "$ca_dir" "$cred_dir"

# What mosquitto must read after it dropped to its own user: group
# mosquitto, not world-readable. Left to the caller's ownership under --root.
mosquitto_readable() {
	chmod 0640 "$@"
	$staging || chown root:mosquitto "$@"
}

is_ip() {
	[[ $1 =~ ^[0-9]+(\.[0-9]+){3}$ || $1 == *:* ]]
}

# Every name and address the certificate is for, as "DNS:x" or "IP:x".
san_entries() {
	local h seen=" "
	for h in "${hosts[@]}" localhost 127.0.0.1 ::1; do
		case $seen in *" $h "*) continue ;; esac
		seen="$seen$h "
		if is_ip "$h"; then
			echo "IP:$h"
		else
			echo "DNS:$h"
		fi
	done
}

# --- CA ------------------------------------------------------------------

changed_tls=false
if [ ! -s "$ca_dir/ca.key" ] || [ ! -s "$certs/ca.crt" ]; then
	echo "making a CA: $certs/ca.crt"
	(umask 077 && openssl genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$ca_dir/ca.key")
	openssl req -x509 -new -key "$ca_dir/ca.key" -sha256 -days 3650 \
		-subj "/CN=recoveryd broker CA ($(hostname))" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$certs/ca.crt"
	rm -f "$certs/server.crt"
	changed_tls=true
fi
chmod 0600 "$ca_dir/ca.key"
chmod 0644 "$certs/ca.crt"

# --- server certificate --------------------------------------------------

mapfile -t sans < <(san_entries)
san=$(IFS=,; echo "${sans[*]}")

cert_ok() {
	local entry out
	[ -s "$certs/server.crt" ] && [ -s "$certs/server.key" ] || return 1
	openssl verify -CAfile "$certs/ca.crt" "$certs/server.crt" \
		>/dev/null 2>&1 || return 1
	openssl x509 -in "$certs/server.crt" -noout -checkend $((30 * 86400)) \
		>/dev/null || return 1
	# openssl matches names and addresses the way TLS clients do
	# (an IPv6 address in any spelling).
	for entry in "${sans[@]}"; do
		case $entry in
		IP:*) out=$(openssl x509 -in "$certs/server.crt" -noout \
			-checkip "${entry#IP:}") ;;
		*) out=$(openssl x509 -in "$certs/server.crt" -noout \
			-checkhost "${entry#DNS:}") ;;
		esac
		case $out in *"does match"*) ;; *) return 1 ;; esac
	done
	# The certificate must be for the key beside it (an earlier run may
	# have stopped half-way).
	[ "$(openssl x509 -in "$certs/server.crt" -noout -pubkey)" = \
		"$(openssl pkey -in "$certs/server.key" -pubout)" ]
}

if ! cert_ok; then
	echo "issuing the server certificate for $san"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(umask 077 && openssl genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$tmp/server.key")
	openssl req -new -key "$tmp/server.key" -subj "/CN=${hosts[0]}" \
		-out "$tmp/server.csr"
	cat >"$tmp/ext" <<EOF
subjectAltName=$san
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
EOF
	openssl x509 -req -in "$tmp/server.csr" -CA "$certs/ca.crt" \
		-CAkey "$ca_dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
		-sha256 -days 825 -extfile "$tmp/ext" -out "$tmp/server.crt" \
		2>/dev/null
	install -m 0600 "$tmp/server.key" "$certs/server.key"
	install -m 0644 "$tmp/server.crt" "$certs/server.crt"
	rm -rf "$tmp"
	trap - EXIT
	changed_tls=true
fi
mosquitto_readable "$certs/server.key"
chmod 0644 "$certs/server.crt"

# recoveryd checks the broker against the CA (its ca-file=).
if ! cmp -s "$certs/ca.crt" "$recoveryd_etc/ca.crt"; then
	install -m 0644 "$certs/ca.crt" "$recoveryd_etc/ca.crt"
	echo "installed $recoveryd_etc/ca.crt"
fi

# --- passwords -----------------------------------------------------------

changed_auth=false
[ -e "$passwd_file" ] || {
	: >"$passwd_file"
	changed_auth=true
}
mosquitto_readable "$passwd_file"

# A user's password is generated once into its own file (mode 0600) and
# hashed into the password file when the user is missing there or the
# password file is older than the user's file (someone changed it).
set_password() { # user, password file
	local user=$1 file=$2 plain
	if [ ! -s "$file" ]; then
		(umask 077 && openssl rand -hex 20 >"$file")
		echo "new password for $user in $file"
	fi
	chmod 0600 "$file"
	if grep -q "^$user:" "$passwd_file" && ! [ "$file" -nt "$passwd_file" ]; then
		return 0
	fi
	plain=$(mktemp)
	# mosquitto_passwd -U hashes a file of user:password lines in place,
	# which keeps the password off the command line.
	printf '%s:%s\n' "$user" "$(head -n 1 "$file")" >"$plain"
	mosquitto_passwd -U "$plain"
	{
		grep -v "^$user:" "$passwd_file" || true
		cat "$plain"
	} >"$plain.all"
	cat "$plain.all" >"$passwd_file"
	rm -f "$plain" "$plain.all"
	changed_auth=true
}

set_password recoveryd "$recoveryd_etc/mqtt-password"
set_password homeassistant "$cred_dir/homeassistant"
set_password dashboard "$cred_dir/dashboard"
# The daemon reads its password as user recoveryd (install.sh creates it
# and, if this ran first, hands the file over then).
if ! $staging && getent passwd recoveryd >/dev/null; then
	chown recoveryd:recoveryd "$recoveryd_etc/mqtt-password"
fi

# --- ACL and config ------------------------------------------------------

# Installs @src as @dst unless @dst exists with other contents (an
# administrator's change): then the new text goes to @dst.new. Sets
# $written to whether @dst was written.
written=false
install_kept() { # src, dst
	local src=$1 dst=$2
	written=false
	if [ ! -e "$dst" ]; then
		cat "$src" >"$dst"
		echo "installed $dst"
		written=true
	elif ! cmp -s "$src" "$dst"; then
		cat "$src" >"$dst.new"
		echo "kept $dst, which differs from this version's:" \
			"compare it with $dst.new"
	fi
}

conf_tmp=$(mktemp)
trap 'rm -f "$conf_tmp"' EXIT
# Paths follow --root and --dashboard-dir, the listeners --port,
# --ws-port, --http-port and --listen.
sed -e "s|/etc/mosquitto/|$etc/|g" \
	-e "s|^http_dir .*\$|http_dir $root$dashboard_dir|" \
	-e "s|^listener 8883\$|listener $port${listen:+ $listen}|" \
	-e "s|^listener 8884\$|listener $ws_port${listen:+ $listen}|" \
	-e "s|^listener 8880\$|listener $http_port${listen:+ $listen}|" \
	-e "s|8880/?wss=8884|$http_port/?wss=$ws_port|" \
	"$here/recoveryd.conf" >"$conf_tmp"
grep -q "^listener $port" "$conf_tmp" ||
	die "$here/recoveryd.conf has no 'listener 8883' line to adapt"
grep -q "^listener $ws_port" "$conf_tmp" ||
	die "$here/recoveryd.conf has no 'listener 8884' line to adapt"
grep -q "^listener $http_port" "$conf_tmp" ||
	die "$here/recoveryd.conf has no 'listener 8880' line to adapt"

# mosquitto refuses an http_dir that does not exist; an empty one serves
# nothing until build.sh fills it.
mkdir -p "$root$dashboard_dir"
install_kept "$here/recoveryd.acl" "$acl_file"
! $written || changed_auth=true
install_kept "$conf_tmp" "$conf_file"
changed_conf=$written
mosquitto_readable "$acl_file"
chmod 0644 "$conf_file"
rm -f "$conf_tmp"
trap - EXIT

# --- (re)start -----------------------------------------------------------

if $staging; then
	echo "staged under $root; mosquitto left alone"
elif [ ! -d /run/systemd/system ]; then
	echo "systemd is not running: start or restart mosquitto yourself" \
		"(mosquitto -c /etc/mosquitto/mosquitto.conf)"
else
	systemctl enable --quiet mosquitto.service
	if $changed_conf || $changed_tls ||
		! systemctl is-active --quiet mosquitto.service; then
		# A new listener or certificate needs a restart; a reload
		# (SIGHUP) rereads only the password file and ACL.
		echo "restarting mosquitto"
		systemctl restart mosquitto.service
	elif $changed_auth; then
		echo "reloading mosquitto"
		systemctl reload mosquitto.service
	fi
	systemctl is-active --quiet mosquitto.service ||
		die "mosquitto did not start: journalctl -u mosquitto, and /var/log/mosquitto/mosquitto.log"
fi

cat <<EOF

Broker: mqtts://${hosts[0]}:$port (CA $certs/ca.crt)
recoveryd, in /etc/recoveryd/recoveryd.conf:
  [mqtt]
  host=${hosts[0]}
  port=$port
  ca-file=/etc/recoveryd/ca.crt
  username=recoveryd
  password-file=/etc/recoveryd/mqtt-password
Home Assistant (Settings > Devices & services > MQTT): broker ${hosts[0]},
port $port, user homeassistant, the password in
$cred_dir/homeassistant; under the advanced options use a custom
CA certificate: $certs/ca.crt.
Dashboard: http://${hosts[0]}:$http_port/?wss=$ws_port (user dashboard, the
password in $cred_dir/dashboard; the browser must trust $certs/ca.crt for
wss://${hosts[0]}:$ws_port).
Its files: deploy/dashboard/build.sh $dashboard_dir
EOF
