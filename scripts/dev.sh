#!/usr/bin/env bash
# One entry point for a fresh checkout: `demo` runs the sample backtest, `test` runs the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PLUGINS=(gap momentum volume breakout)

setup() {
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  local editable=(-e ".[dev]")
  for p in "${PLUGINS[@]}"; do editable+=(-e "scanner_plugins/$p"); done
  .venv/bin/python -m pip install -q --disable-pip-version-check "${editable[@]}"
}

case "${1:-}" in
  demo)
    setup
    .venv/bin/scanner plugins
    # Re-importing the same files adds nothing, so the demo can run again and again.
    .venv/bin/scanner data import examples/data/eqker_2019 --timestamps end --store var/store \
      | tail -n 3
    .venv/bin/scanner check examples/demo.toml
    .venv/bin/scanner run examples/demo.toml --history var/demo-history.jsonl \
      --stats-json var/demo-stats.json
    .venv/bin/scanner stats var/demo-stats.json
    # every pick's forward returns against the baselines: var/backtest/demo/report.html
    .venv/bin/scanner backtest examples/demo.toml
    ;;
  test)
    setup
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/python -m pytest "${@:2}"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test [pytest args]" >&2
    exit 2
    ;;
esac
