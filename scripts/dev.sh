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
    .venv/bin/scanner run examples/demo.toml
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
