"""Compositions on real bars: `gap & momentum` over stockbot is the intersection of the two
scanners' own histories, forked or not; the bundled example keeps stable lists with whys,
and a live replay of a composition writes the backtest's history."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_core.cli import main
from scanner_core.config import load_config, parse_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.feeds.replay import ReplayFeed
from scanner_core.loop import SessionLoop
from scanner_core.store import BarStore

ROOT = Path(__file__).resolve().parents[2]
STOCKBOT = ["AAPL", "AMD", "BA", "BAC", "C", "F", "FB", "GE", "INTC", "MU", "NVDA", "T", "TSLA"]
CHILDREN = """
[[scanners]]
module = "gap"
enabled = {enabled}
schedule = {{ interval = "30m", start_time = "10:00", end_time = "15:30" }}
config = {{ min_gap_pct = 0.3, opening_minutes = 5, opening_min_volume = 20000 }}

[[scanners]]
module = "momentum"
enabled = {enabled}
schedule = {{ interval = "30m", start_time = "10:00", end_time = "15:30" }}
config = {{ rsi_min = 55.0, volume_ratio_min = 1.0, sma_days = 3, interval = "5m" }}
"""
COMPOSITE = """
[[scanners]]
name = "both"
compose = "gap & momentum"
timeout_seconds = {timeout}
schedule = {{ interval = "30m", start_time = "10:00", end_time = "15:30" }}
"""


@pytest.fixture(scope="module")
def stockbot(real_data, tmp_path_factory) -> Path:
    """Thirteen stockbot symbols' 1-minute bars (no daily bars: daily ones are built)."""
    folder = real_data / "intraday/stockbot_2018_1min"
    store = tmp_path_factory.mktemp("stockbot")
    report = BarStore(store).import_files([folder / f"{s}.csv.gz" for s in STOCKBOT])
    assert report.totals()["failed_files"] == 0
    return store


def history(folder: Path, store: Path, name: str, scanners: str) -> list[dict]:
    """The --history lines of a backtest of 2018-04-16..20 over ``store``."""
    config = folder / f"{name}.toml"
    config.write_text(
        f'start_date = 2018-04-16\nend_date = 2018-04-20\nstreams = ["1m", "5m", "1d"]\n'
        f'[data]\nstore = "{store.as_posix()}"\n[universe]\nall = true\n{scanners}'
    )
    coordinator = SessionCoordinator(load_config(config), config_file=str(config))
    summary = coordinator.run()
    assert not summary.empty and not summary.problems, (summary.empty, summary.problems)
    path = config.with_suffix(".jsonl")
    coordinator.recorder.write(path)
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_time(lines: list[dict], scanner: str) -> dict[str, list[str]]:
    return {line["time"]: line["symbols"] for line in lines if line["scanner"] == scanner}


def test_gap_and_momentum_is_the_intersection_of_their_own_histories(stockbot, tmp_path):
    alone = history(tmp_path, stockbot, "alone", CHILDREN.format(enabled="true"))
    scanners = CHILDREN.format(enabled="false") + COMPOSITE.format(timeout=30)
    together = history(tmp_path, stockbot, "together", scanners)
    gap, momentum = by_time(alone, "gap"), by_time(alone, "momentum")
    both = by_time(together, "both")
    assert set(both) == set(gap) == set(momentum)
    for when, symbols in both.items():
        assert symbols == [s for s in gap[when] if s in set(momentum[when])], when
    found = [s for symbols in both.values() for s in symbols]
    assert found, "no symbol both gapped and had momentum: loosen the settings"
    assert len(found) < sum(map(len, gap.values())), "the intersection is no filter here"
    # every added symbol says why: both children passed, with each one's values
    for line in together:
        for symbol in line["added"]:
            why = line["why"][symbol]
            assert why["scanner"] == "both" and why["passed"] == ["gap", "momentum"]
            assert set(why["values"]["gap"]) == {"gap_pct", "prev_close", "price", "volume"}
            assert why["values"]["momentum"]["rsi"] >= 55.0


def test_a_forked_composite_writes_the_same_history_as_one_in_process(stockbot, tmp_path):
    forked = history(
        tmp_path,
        stockbot,
        "forked",
        CHILDREN.format(enabled="false") + COMPOSITE.format(timeout=30),
    )
    inline = history(
        tmp_path,
        stockbot,
        "inline",
        CHILDREN.format(enabled="false") + COMPOSITE.format(timeout=0),
    )
    assert forked == inline


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The bundled week (examples/data/eqker_2019) in a store."""
    store = tmp_path_factory.mktemp("sample")
    files = sorted((ROOT / "examples/data/eqker_2019").glob("*.csv.gz"))
    assert BarStore(store).import_files(files, timestamps="end").totals()["failed_files"] == 0
    return store


def test_the_bundled_example_composes_with_a_cooldown_and_records_why(sample, tmp_path):
    store = sample
    text = (ROOT / "examples/compose.toml").read_text()
    config = tmp_path / "compose.toml"
    config.write_text(text.replace('store = "../var/store"', f'store = "{store.as_posix()}"'))
    out = tmp_path / "history.jsonl"
    try:
        result = CliRunner().invoke(main, ["run", str(config), "--history", str(out)])
    finally:
        for handler in list(logging.getLogger("scanner").handlers):
            logging.getLogger("scanner").removeHandler(handler)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {line["scanner"] for line in lines} == {"gap_momentum"}
    joined: dict[str, dt.datetime] = {}
    left: dict[str, dt.datetime] = {}
    day = None
    added = removed = 0
    for line in lines:
        now = dt.datetime.fromisoformat(line["time"])
        if now.date() != day:
            day, joined = now.date(), {}
        for symbol in line.get("removed", []):
            assert now - joined.pop(symbol) >= dt.timedelta(minutes=30), (symbol, now)
            left[symbol] = now
            removed += 1
        for symbol in line["added"]:
            if symbol in left:
                assert now - left[symbol] >= dt.timedelta(minutes=60), (symbol, now)
            joined[symbol] = now
            why = line["why"][symbol]
            assert why["passed"] == ["gap", "momentum"]
            assert why["expression"] == "gap & momentum"
            assert set(why["values"]) == {"gap", "momentum"}
            assert why["bar_time"] is not None
            added += 1
    assert added and removed


LIVE_SCANNERS = [
    {
        "module": "gap",
        "enabled": False,
        "config": {"min_gap_pct": 0.5, "opening_minutes": 5, "opening_min_volume": 50000},
    },
    {
        "module": "momentum",
        "enabled": False,
        "config": {"rsi_min": 60.0, "volume_ratio_min": 1.2, "interval": "5m"},
    },
    {
        "name": "gap_momentum",
        "compose": "gap & momentum",
        "timeout_seconds": 10,
        "schedule": {"interval": "15m", "start_time": "10:00", "end_time": "15:30"},
        "remove_when": "not momentum",
        "min_minutes_in_session": 15,
        "cooldown_minutes": 30,
    },
]


def lines(loop, path: Path) -> list[dict]:
    loop.recorder.write(path)
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_live_composition_writes_the_backtests_history(sample, tmp_path):
    session = {
        "start_date": "2019-02-12",
        "end_date": "2019-02-12",
        "streams": ["1m", "5m", "1d"],
        "data": {"store": str(sample)},
        "scanners": LIVE_SCANNERS,
    }
    backtest = SessionCoordinator(parse_config(session, "t.toml"))
    backtest.run()
    live = SessionLoop(parse_config(session, "t.toml"), ReplayFeed(speed=1000), max_lag_seconds=1e6)
    live.run()
    assert live.live
    expected = lines(backtest, tmp_path / "backtest.jsonl")
    got = lines(live, tmp_path / "live.jsonl")
    assert [without_values(line) for line in got] == [without_values(line) for line in expected]
    assert any(line.get("why") for line in expected)
    assert any(line.get("removed") for line in expected)
    for mine, theirs in zip(got, expected, strict=True):
        for symbol, why in mine.get("why", {}).items():
            for child, values in why["values"].items():
                assert values == pytest.approx(theirs["why"][symbol]["values"][child], rel=1e-9)


def without_values(line: dict) -> dict:
    """A history line with its why records' values left out (compared to 1e-9 apart)."""
    why = {s: {k: v for k, v in r.items() if k != "values"} for s, r in line.get("why", {}).items()}
    return {**line, "why": why}
