#!/usr/bin/env bash
# One entry point for a fresh checkout: `demo` runs the sample backtest, `test` runs the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# The virtual environment to set up and use (CI runs a second one on the newest Python).
VENV=${VENV:-.venv}
PLUGINS=(gap momentum volume breakout)

setup() {
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  local editable=(-e ".[dev]")
  for p in "${PLUGINS[@]}"; do editable+=(-e "scanner_plugins/$p"); done
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${editable[@]}"
}

case "${1:-}" in
  demo)
    setup
    "$VENV/bin/scanner" plugins
    # Re-importing the same files adds nothing, so the demo can run again and again.
    "$VENV/bin/scanner" data import examples/data/eqker_2019 --timestamps end --store var/store \
      | tail -n 3
    "$VENV/bin/scanner" check examples/demo.toml
    "$VENV/bin/scanner" run examples/demo.toml --history var/demo-history.jsonl \
      --stats-json var/demo-stats.json
    "$VENV/bin/scanner" stats var/demo-stats.json
    # every pick's forward returns against the baselines: var/backtest/demo/report.html
    "$VENV/bin/scanner" backtest examples/demo.toml
    ;;
  test)
    setup
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/python" -m pytest "${@:2}"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test [pytest args]" >&2
    exit 2
    ;;
esac
