#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Puts the dashboard and the libraries it ships with into one folder, the
# one mosquitto's http_dir serves: index.html, dashboard.js, dashboard.css
# and vendor/ (mqtt.js's browser bundle, uPlot and their licences, at the
# versions package-lock.json pins). The libraries come from the npm
# registry through `npm ci` once, at build or install time; the page itself
# never loads anything from elsewhere, so the box works offline on a LAN.
set -euo pipefail

usage() {
	cat <<'EOF2'
Usage: deploy/dashboard/build.sh OUTDIR

Runs `npm ci` in deploy/dashboard/ when its node_modules is missing or older
than package-lock.json, then copies the page and vendor/ into OUTDIR
(created; files there of an earlier build are replaced).
EOF2
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
'') usage >&2; exit 2 ;;
esac
out=$1
here=$(cd "$(dirname "$0")" && pwd)

command -v npm >/dev/null ||
	{ echo "build.sh: npm not found (apt-get install npm)" >&2; exit 1; }
if [ ! -d "$here/node_modules" ] ||
	[ "$here/package-lock.json" -nt "$here/node_modules" ]; then
	# --ignore-scripts: nothing of a dependency runs here; the bundles
	# are prebuilt in the packages.
	(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund \
		--loglevel=error >/dev/null)
	touch "$here/node_modules"
fi

mkdir -p "$out/vendor"
install -m 0644 "$here/index.html" "$here/dashboard.js" \
	"$here/dashboard.css" "$out/"
install -m 0644 "$here/node_modules/mqtt/dist/mqtt.min.js" \
	"$here/node_modules/uplot/dist/uPlot.iife.min.js" \
	"$here/node_modules/uplot/dist/uPlot.min.css" "$out/vendor/"
install -m 0644 "$here/node_modules/mqtt/LICENSE.md" "$out/vendor/mqtt.LICENSE.md"
install -m 0644 "$here/node_modules/uplot/LICENSE" "$out/vendor/uPlot.LICENSE"
