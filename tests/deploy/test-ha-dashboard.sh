#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# deploy/homeassistant/dashboard.yaml loads as YAML, is a dashboard (title,
# views, cards), and never points a gauge at the score unguarded: while the
# first nights calibrate the score is unknown, and a bare gauge shows
# "Entity is non-numeric". Each gauge sits in a conditional card that asks
# for a numeric state of the gauge's entity, and a second conditional card
# says "Calibrating" while that entity is unknown.
#
#   test-ha-dashboard.sh [SOURCE_DIR]
#
# Exit 0 passed, 1 failed, 77 skipped (python3 with yaml missing).
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
python3 -c 'import yaml' 2>/dev/null ||
	{ echo "SKIP: python3-yaml not installed (apt-get install python3-yaml)"; exit 77; }

exec python3 - "$src/deploy/homeassistant/dashboard.yaml" <<'PY'
import sys
import yaml

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    board = yaml.safe_load(f)
failures = []
gauges = 0

def walk(cards, guard):
    global gauges
    for card in cards:
        kind = card.get("type")
        gauges += kind == "gauge"
        if kind == "conditional":
            numeric = {c.get("entity") for c in card.get("conditions", [])
                       if c.get("condition") == "numeric_state"}
            walk([card["card"]], guard | numeric)
        elif kind == "gauge" and card.get("entity") not in guard:
            failures.append(f"gauge of {card.get('entity')} is not guarded "
                            "by a numeric_state condition")
        for key in ("cards",):
            walk(card.get(key, []), guard)

if not isinstance(board, dict) or not board.get("views"):
    failures.append("no views")
calibrating = 0
for view in board.get("views", []):
    walk(view.get("cards", []), set())
    for card in view.get("cards", []):
        inner = card.get("card", {})
        conditions = card.get("conditions", [])
        if (inner.get("type") == "markdown" and "Calibrating" in
                inner.get("content", "") and any(
                    "unknown" in (c.get("state") or []) for c in conditions)):
            calibrating += 1
if gauges == 0:
    failures.append("no gauge found")
if calibrating != gauges:
    failures.append(f"{gauges} gauges but {calibrating} calibrating notes")
for f in failures:
    print("FAIL:", f)
if not failures:
    print(f"ok: {path}: {gauges} gauge(s), each guarded, each with a "
          "calibrating note")
sys.exit(1 if failures else 0)
PY
