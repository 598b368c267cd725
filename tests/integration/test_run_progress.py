"""`scanner run` on a terminal shows a bar over the days with the symbols found so far;
in JSON logs, or with --quiet, the terminal gets none."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from backtests import two_day_config

SCANNER = Path(sys.executable).parent / "scanner"


@pytest.fixture(scope="module")
def two_days(tmp_path_factory) -> Path:
    return two_day_config(tmp_path_factory.mktemp("progress"))


def on_a_terminal(config: Path, *options: str) -> tuple[int, str, str]:
    """Run `scanner run` with its stderr on a pseudo-terminal; exit code, stdout, screen."""
    leader, follower = os.openpty()
    history = config.parent / f"history{len(options)}.jsonl"
    try:
        process = subprocess.Popen(
            [str(SCANNER), "run", str(config), "--history", str(history), *options],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        )
        os.close(follower)
        screen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end closed: the run is over
                break
            if not chunk:
                break
            screen += chunk
        stdout = process.communicate(timeout=600)[0]
    finally:
        os.close(leader)
    return process.returncode, stdout, screen.decode("utf-8", "replace")


def found(history: Path) -> int:
    events = [json.loads(line) for line in history.read_text().splitlines()]
    return sum(len(e["symbols"]) for e in events if not e.get("error") and not e.get("skipped"))


def test_a_terminal_shows_the_days_and_the_symbols_found(two_days):
    code, _, screen = on_a_terminal(two_days)
    assert code == 0, screen
    total = found(two_days.parent / "history0.jsonl")
    assert total > 0
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert re.search(rf"run\b.*2/2\s+{total} found", plain), plain[-2000:]
    # the log lines still reach the terminal, above the bar
    assert "[SESSION] Summary: 2 days" in plain


@pytest.mark.parametrize("options", [("--log-format", "json"), ("--quiet",)])
def test_json_logs_and_quiet_show_no_bar(two_days, options):
    code, _, screen = on_a_terminal(two_days, *options)
    assert code == 0, screen
    assert " found" not in screen and "2/2" not in screen, screen[-2000:]
