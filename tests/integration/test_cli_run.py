"""`scanner run` end to end on the demo config over the bundled sample bars."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from backtests import command as cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """examples/demo.toml next to a store imported through `scanner data import`."""
    folder = tmp_path_factory.mktemp("demo")
    (folder / "examples").mkdir()
    config = (ROOT / "examples/demo.toml").read_text()
    (folder / "examples/demo.toml").write_text(config)
    store = folder / "var/store"
    sample = str(ROOT / "examples/data/eqker_2019")
    result = cli("data", "import", sample, "--timestamps", "end", "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "rejected 0" in result.output
    again = cli("data", "import", sample, "--timestamps", "end", "--store", str(store))
    assert "store 1m: +0 new" in again.output  # a re-import adds nothing
    return folder / "examples/demo.toml"


def test_demo_runs_and_twice_writes_the_same_history(demo, tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    stats = tmp_path / "stats.json"
    result = cli("run", str(demo), "--history", str(first), "--stats-json", str(stats))
    assert result.exit_code == 0, result.output
    log = result.stderr
    for name in ("gap", "momentum", "volume", "breakout"):
        assert f"[SCANNER] Loaded: {name}" in log
    assert re.search(r"\[SCANNER\] \w+: Found [1-9]\d* symbols \(\d+ms\)", log)
    assert re.search(r"\[SESSION\] [A-Z]+ registered mid-session", log)
    assert "[SESSION] Summary: 5 days, 52308 bars, 300 scans" in log
    assert cli("run", str(demo), "--history", str(second), "-q").exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    table = cli("stats", str(stats))
    assert table.exit_code == 0
    assert re.search(r"all\s+300\s", table.output)


def test_json_log_lines_carry_scanner_and_event(demo):
    result = cli("run", str(demo), "--log-format", "json")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    found = [line for line in lines if line.get("event") == "scan"]
    assert found and {"ts", "level", "logger", "message", "scanner", "symbols"} <= set(found[0])
    assert found[0]["message"].startswith(f"{found[0]['scanner']}: Found ")
    assert {line["scanner"] for line in found} == {"gap", "momentum", "volume", "breakout"}


def test_a_bad_config_is_one_line_per_problem_and_exit_1(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('mode = "paper"\n[[scanners]]\nmodule = "gap"\nmax_symbols = 0\n')
    result = cli("run", str(bad))
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()) == [
        f"{bad}: mode: got 'paper', expected 'backtest' or 'live'",
        f"{bad}: scanners[0].max_symbols: got 0, expected a count > 0",
    ]
    assert "Traceback" not in result.output
