#!/bin/bash
# SPDX-License-Identifier: MIT
#
# household.sh - starts several simulated devices inside the e2e VM, each on
# its own controller (so each has its own public address), for PERIPHERAL_CMD:
#
#   household.sh ['hciN KIND [OPTIONS...]' ...]
#
# KIND is strap (hr-strap.py), scale (scale.py), mi-scale (advertiser.py
# --mi-scale; the first option is the weight list) or bthome (advertiser.py
# --bthome); OPTIONS go to that script, after --adapter hciN and its own
# --ready-file. Without arguments, the default household (needs CONTROLLERS=6):
#
#   hci1 strap     HRM-Sim, seed 1                         the person's strap
#   hci2 scale     72.5 kg, 18.5 % body fat, user 1        standard WSS/BCS scale
#   hci3 mi-scale  64.2 kg, 81.3 kg, again after 5 s (MIBFS)  Mi Body Composition Scale 2
#   hci4 bthome    bed sensor, occupancy from $BED_STATE_FILE
#   hci5 strap     HRM-Guest, seed 7                       a foreign strap
#
# BED_STATE_FILE (default /run/e2e/bed-occupied) is created with "0" if
# missing; write 1 or 0 to it to flip the bed. Each device's output goes to
# stdout (peripheral.log) with its adapter in front. $E2E_READY_FILE is
# written, one line per device, once every device has written its own ready
# file; if one exits before that, or HOUSEHOLD_WAIT (60) seconds pass, this
# script exits with status 1. SIGTERM or SIGINT is passed on to every device.
# Ready files and output FIFOs live in HOUSEHOLD_READY_DIR (/run/e2e/household).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3
ready_dir=${HOUSEHOLD_READY_DIR:-/run/e2e/household}
export BED_STATE_FILE=${BED_STATE_FILE:-/run/e2e/bed-occupied}
WAIT=${HOUSEHOLD_WAIT:-60}

if [ $# -eq 0 ]; then
	set -- \
		'hci1 strap --seed 1' \
		'hci2 scale --weight 72.5 --body-fat 18.5 --user 1' \
		'hci3 mi-scale 64.2,81.3 --repeat-every 5' \
		"hci4 bthome --state-file $BED_STATE_FILE" \
		'hci5 strap --name HRM-Guest --seed 7'
fi

say() { echo "[household] $*"; }

mkdir -p "$ready_dir" "$(dirname "$BED_STATE_FILE")"
[ -e "$BED_STATE_FILE" ] || echo 0 >"$BED_STATE_FILE"
# A sleep without fork+exec (each costs ~0.1 s under TCG).
fifo=$ready_dir/.nap
rm -f "$fifo"
mkfifo "$fifo"
exec {nap_fd}<>"$fifo"
nap() { read -r -t "$1" -u "$nap_fd" _ || true; }

pids=() names=() readies=()
stop_all() {
	local pid
	trap - TERM INT
	say "$1: stopping ${#pids[@]} device(s)"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	exit "${2:-0}"
}
trap 'stop_all SIGTERM' TERM
trap 'stop_all SIGINT' INT

for spec in "$@"; do
	read -r -a words <<<"$spec"
	hci=${words[0]:-} kind=${words[1]:-}
	opts=("${words[@]:2}")
	[[ $hci =~ ^hci[0-9]+$ ]] || { say "bad device '$spec': expected 'hciN KIND [OPTIONS]'"; stop_all "error" 2; }
	if [ -n "${E2E_ADAPTERS:-}" ] && [[ " $E2E_ADAPTERS " != *" $hci "* ]]; then
		say "no controller $hci in this VM (controllers: $E2E_ADAPTERS; set CONTROLLERS)"
		stop_all "error" 2
	fi
	ready=$ready_dir/$hci.ready
	rm -f "$ready"
	case $kind in
	strap) cmd=("$py" "$here/hr-strap.py") ;;
	scale) cmd=("$py" "$here/scale.py") ;;
	mi-scale)
		[ ${#opts[@]} -gt 0 ] || { say "$hci mi-scale: the weight list is missing"; stop_all "error" 2; }
		cmd=("$py" "$here/advertiser.py" --mi-scale) ;;
	bthome) cmd=("$py" "$here/advertiser.py" --bthome) ;;
	*) say "unknown kind '$kind' in '$spec' (strap, scale, mi-scale, bthome)"; stop_all "error" 2 ;;
	esac
	if [ "$kind" = mi-scale ]; then
		cmd+=("${opts[0]}" --adapter "$hci" --ready-file "$ready" "${opts[@]:1}")
	else
		cmd+=(--adapter "$hci" --ready-file "$ready" "${opts[@]}")
	fi
	# Its output, with the adapter in front, through a FIFO (no /dev/fd needed);
	# sed ignores SIGTERM (sent to the whole group) and ends with the device.
	out=$ready_dir/$hci.out
	rm -f "$out"
	mkfifo "$out"
	(trap '' TERM INT && exec sed -u "s/^/$hci /" <"$out") &
	"${cmd[@]}" >"$out" 2>&1 </dev/null &
	pids+=($!) names+=("$hci $kind") readies+=("$ready")
	say "started $hci $kind (pid $!): ${cmd[*]:1}"
done

# Wait for every ready file; a device that exits first is a setup failure.
deadline=$((SECONDS + WAIT))
while :; do
	missing=0
	for i in "${!pids[@]}"; do
		[ -e "${readies[$i]}" ] && continue
		missing=$((missing + 1))
		kill -0 "${pids[$i]}" 2>/dev/null || { say "${names[$i]} exited before it was ready"; stop_all "error" 1; }
	done
	[ "$missing" = 0 ] && break
	[ "$SECONDS" -lt "$deadline" ] || { say "not ready within ${WAIT}s: $missing device(s)"; stop_all "error" 1; }
	nap 0.2
done
if [ -n "${E2E_READY_FILE:-}" ]; then
	for r in "${readies[@]}"; do cat "$r"; done >"$E2E_READY_FILE.tmp" && mv "$E2E_READY_FILE.tmp" "$E2E_READY_FILE"
fi
say "all ${#pids[@]} device(s) ready"

# Keep running (and report devices that end) until SIGTERM.
while [ ${#pids[@]} -gt 0 ]; do
	wait -n -p done_pid "${pids[@]}"
	status=$?
	[ -n "${done_pid:-}" ] || continue # a signal interrupted the wait: the trap ran
	for i in "${!pids[@]}"; do
		if [ "${pids[$i]}" = "$done_pid" ]; then
			say "${names[$i]} exited with status $status"
			unset 'pids[i]' 'names[i]' 'readies[i]'
		fi
	done
	pids=("${pids[@]}") names=("${names[@]}") readies=("${readies[@]}")
done
say "every device has exited"
