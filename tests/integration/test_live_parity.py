"""Parity: a live session over the unpaced replay finds what the backtest finds, line for line.

The unpaced replay (`--speed 0`) runs the live machinery (forked scans, results handed
on while bars stream, symbols joining between steps), but reaches each scan time only
once the scans before it are done, so no turn is skipped on a loaded machine and the
history must equal the backtest's exactly.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import synthetic_minutes

from scanner_core.config import parse_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.feeds.replay import ReplayFeed
from scanner_core.loop import SessionLoop
from scanner_core.store import BarStore
from tests.fixtures.backtests import command

ROOT = Path(__file__).resolve().parents[2]
PROBES = ROOT / "tests/fixtures/scanners"


def test_the_demo_week_live_writes_the_backtests_history_line_for_line(sample_week_store, tmp_path):
    config = tmp_path / "demo.toml"
    demo = (ROOT / "examples/demo.toml").read_text()
    config.write_text(demo.replace('"../var/store"', repr(str(sample_week_store))))
    run, live = tmp_path / "run.jsonl", tmp_path / "live.jsonl"
    ran = command("run", str(config), "--history", str(run), "-q")
    assert ran.exit_code == 0, ran.output
    replayed = command(
        "live", str(config), "--feed", "replay", "--speed", "0", "--history", str(live), "-q"
    )
    assert replayed.exit_code == 0, replayed.output
    backtest_lines = run.read_text().splitlines()
    assert live.read_text().splitlines() == backtest_lines
    assert len(backtest_lines) == 300
    assert all(f'"scanner": "{name}"' in run.read_text() for name in ("gap", "momentum"))
    assert all(f'"scanner": "{name}"' in run.read_text() for name in ("volume", "breakout"))
    # The same summary of picks, and every bar the feed sent was processed.
    picks = [line for line in ran.output.splitlines() if "added" in line]
    assert picks and all(line in replayed.output for line in picks)
    assert "skipped 0, held for lag 0" in replayed.output
    assert "==" in replayed.output


def probe(name: str, cls: str, symbols: list[str], **config) -> dict:
    return {
        "name": name,
        "module": f"{PROBES / 'live_probe.py'}:{cls}",
        "timeout_seconds": 10,
        "schedule": {"interval": "30m", "start_time": "10:00", "end_time": "11:00"},
        "config": {"symbols": symbols, **config},
    }


def session(store: Path, scanners: list[dict]) -> dict:
    return {
        "start_date": "2019-02-12",
        "end_date": "2019-02-12",
        "symbols": ["SPY"],
        "data": {"store": str(store)},
        "universe": {"symbols": ["MU", "TSLA", "AAPL"]},
        "scanners": scanners,
    }


def found(loop) -> list[tuple[str, str, list[str]]]:
    return [(e["scanner"], e["time"], e["symbols"]) for e in loop.recorder._in_order()]


def test_a_live_scan_sees_what_a_slower_scan_of_its_time_added_as_in_the_backtest(
    sample_week_store,
):
    # "slow" is still running when "fresh" is forked; fresh must still see TSLA in the
    # session, as it does in the backtest where slow ran first.
    scanners = [
        probe("slow", "SlowFinder", ["TSLA"], sleep=0.3),
        probe("fresh", "FreshFinder", ["TSLA", "MU"]),
    ]
    backtest = SessionCoordinator(parse_config(session(sample_week_store, scanners), "t.toml"))
    backtest.run()
    live = SessionLoop(
        parse_config(session(sample_week_store, scanners), "t.toml"), ReplayFeed(speed=0)
    )
    live.run()
    assert found(backtest)[:2] == [
        ("slow", "2019-02-12T10:00:00-05:00", ["TSLA"]),
        ("fresh", "2019-02-12T10:00:00-05:00", ["MU"]),
    ]
    assert found(live) == found(backtest)
    assert live.recorder.added == backtest.recorder.added


def test_paced_replay_waits_for_the_earlier_scans_of_its_time_too(sample_week_store):
    scanners = [
        probe("slow", "SlowFinder", ["TSLA"], sleep=0.3),
        probe("fresh", "FreshFinder", ["TSLA", "MU"]),
    ]
    # Later turns may be skipped at this speed; the first is always run.
    live = SessionLoop(
        parse_config(session(sample_week_store, scanners), "t.toml"),
        ReplayFeed(speed=20000),
        max_lag_seconds=1e6,
    )
    live.run()
    first = [e for e in found(live) if e[1] == "2019-02-12T10:00:00-05:00"]
    assert first == [("slow", first[0][1], ["TSLA"]), ("fresh", first[0][1], ["MU"])]


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**16),
    count=st.integers(2, 5),
    every=st.sampled_from(["5m", "10m", "20m"]),
    cap=st.integers(1, 3),
)
def test_the_live_path_finds_what_the_store_path_finds_on_generated_stores(
    tmp_path_factory, seed, count, every, cap
):
    root = tmp_path_factory.mktemp("generated")
    names = [f"S{i}" for i in range(count)]
    for k, day in enumerate(["2019-02-11", "2019-02-12"]):
        BarStore(root).write(synthetic_minutes(day, names, seed + k, minutes=60))
    schedule = {"interval": every, "start_time": "09:40", "end_time": "10:20"}
    scanners = [
        {
            "module": "volume",
            "timeout_seconds": 10,
            "max_symbols": cap,
            "schedule": schedule,
            "config": {"lookback_days": 1, "min_multiple": 1.0, "min_change_pct": 0.0},
        },
        {**probe("rising", "RisingFinder", []), "schedule": schedule, "max_symbols": cap},
        # What it finds depends only on what the scans before it added.
        {**probe("fresh", "FreshFinder", names), "schedule": schedule, "max_symbols": 1},
    ]
    config = {
        "start_date": "2019-02-11",
        "end_date": "2019-02-12",
        "symbols": [],
        "streams": ["1m", "5m"],
        "max_session_symbols": count,
        "data": {"store": str(root)},
        "universe": {"all": True},
        "scanners": scanners,
    }
    backtest = SessionCoordinator(parse_config(config, "t.toml"))
    backtest.run()
    live = SessionLoop(parse_config(config, "t.toml"), ReplayFeed(speed=0))
    live.run()
    assert any(symbols for _, _, symbols in found(backtest))
    assert found(live) == found(backtest)
    assert live.recorder.added == backtest.recorder.added
    assert live.summary.bars == backtest.summary.bars
