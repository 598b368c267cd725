"""Live sessions: the replay feed against the backtest, skips, lag, the CLI."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_core import hookimpl
from scanner_core.cli import main
from scanner_core.config import parse_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.feeds.replay import ReplayFeed
from scanner_core.loop import SessionLoop
from scanner_core.plugins import ScannerPluginManager
from tests.fixtures.backtests import command

ROOT = Path(__file__).resolve().parents[2]
PROBES = ROOT / "tests/fixtures/scanners"


@pytest.fixture(scope="module")
def sample_store(sample_week_store) -> Path:
    return sample_week_store


UNIVERSE = ["AAPL", "MSFT", "AMZN", "BAC", "JPM", "MU", "TSLA"]


def config(store: Path, scanners: list[dict], day: str = "2019-02-12") -> dict:
    """One day of the sample week, SPY in the session, a few symbols to find."""
    streams = {"symbols": ["SPY"], "streams": ["1m", "5m", "1d"]}
    where = {"data": {"store": str(store)}, "universe": {"symbols": UNIVERSE}}
    return {"start_date": day, "end_date": day, **streams, **where, "scanners": scanners}


def finder(name: str, symbols: list[str], every: str = "15m", **extra) -> dict:
    return {
        "name": name,
        "module": f"{PROBES / 'live_probe.py'}:SlowFinder",
        "schedule": {"interval": every, "start_time": "09:45", "end_time": "15:45"},
        "config": {"symbols": symbols, **extra.pop("config", {})},
        **extra,
    }


class SlowObserver:
    """A deliberately slow consumer: each scan result takes it `seconds` to handle."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    @hookimpl
    def after_scan(self, context, result) -> None:
        time.sleep(self.seconds)


def events(loop) -> list[tuple[str, str, list[str]]]:
    return [(e["scanner"], e["time"], e["symbols"]) for e in loop.recorder._in_order()]


def test_a_live_replay_finds_and_adds_what_the_backtest_does(sample_store):
    scanners = [
        finder("a", ["TSLA"], timeout_seconds=10),
        finder("b", ["MU", "TSLA"], every="30m"),
    ]
    backtest = SessionCoordinator(parse_config(config(sample_store, scanners), "t.toml"))
    backtest.run()
    live = SessionLoop(
        parse_config(config(sample_store, scanners), "t.toml"),
        # 15 minutes in 0.9 s: each scan is done long before its next turn.
        ReplayFeed(speed=1000),
        max_lag_seconds=1e6,
    )
    live.run()
    assert live.live and not backtest.live
    skipped = {(r.scanner, r.time.isoformat()) for r in live.manager.history.records if r.skipped}
    assert events(live) == [e for e in events(backtest) if (e[0], e[1]) not in skipped]
    if not skipped:  # a loaded machine may skip a turn; else everything is the same
        assert live.recorder.added == backtest.recorder.added
    assert live.summary.bars == backtest.summary.bars
    assert live.feed.stats.bars_received == live.bars_processed


def test_a_scan_still_running_at_its_next_turn_is_skipped_and_counted(sample_store, caplog):
    slow = finder("slow", ["TSLA"], every="1m", timeout_seconds=30, config={"sleep": 0.5})
    loop = SessionLoop(
        parse_config(config(sample_store, [slow]), "t.toml"),
        ReplayFeed(speed=3000),  # a minute every 20 ms
        max_lag_seconds=1e6,
    )
    with caplog.at_level(logging.WARNING, logger="scanner"):
        loop.run()
    records = loop.manager.history.records
    skipped = [r for r in records if r.skipped]
    ran = [r for r in records if not r.skipped]
    assert skipped and ran
    assert len(records) == 361  # every minute from 09:45 to 15:45 has its record
    assert loop.manager.get_scanner_stats()["by_scanner"]["slow"]["skipped"] == len(skipped)
    assert any("the previous scan is still running" in r.getMessage() for r in caplog.records)


def test_a_slow_consumer_pauses_scans_until_ingestion_caught_up(sample_store, caplog):
    pm = ScannerPluginManager()
    pm.register(SlowObserver(0.3), name="slow-observer")
    scanners = [finder("f", ["TSLA"], every="5m", timeout_seconds=10)]
    loop = SessionLoop(
        parse_config(config(sample_store, scanners), "t.toml"),
        ReplayFeed(speed=1200),  # 0.3 s behind is 6 minutes of bars
        plugin_manager=pm,
        max_lag_seconds=0.1,
    )
    with caplog.at_level(logging.WARNING, logger="scanner"):
        loop.run()
    lag = loop.lag
    assert lag.pauses >= 1 and lag.resumes >= 1
    assert lag.max_seen > 0.1
    assert sum(lag.held_scans.values()) >= 1
    text = [r.getMessage() for r in caplog.records]
    assert any("scheduled scans paused" in line for line in text)
    assert any("scheduled scans resumed" in line for line in text)
    # Nothing is lost while paused: every bar is still ingested.
    assert loop.feed.stats.bars_received == loop.bars_processed


def test_scanner_live_cli_writes_the_run_formats(sample_store, tmp_path):
    path = tmp_path / "session.toml"
    path.write_text(json_to_toml(config(sample_store, [finder("a", ["TSLA"], timeout_seconds=10)])))
    history, stats = tmp_path / "h.jsonl", tmp_path / "s.json"
    result = CliRunner().invoke(
        main,
        [
            "live",
            str(path),
            "--speed",
            "5000",
            "--max-lag",
            "1000",
            "--history",
            str(history),
            "--stats-json",
            str(stats),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "bars received" in result.output and "==" in result.output
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    assert lines[0]["scanner"] == "a" and lines[0]["symbols"] == ["TSLA"]
    document = json.loads(stats.read_text())
    assert document["session"]["bars_received"] == document["session"]["bars_processed"]
    shown = CliRunner().invoke(main, ["stats", str(stats)])
    assert shown.exit_code == 0, shown.output


def test_scanner_live_names_an_unknown_feed(sample_store, tmp_path):
    path = tmp_path / "session.toml"
    path.write_text(json_to_toml(config(sample_store, [finder("a", ["TSLA"])])))
    result = CliRunner().invoke(main, ["live", str(path), "--feed", "carrier-pigeon"])
    assert result.exit_code == 1
    assert "no feed named 'carrier-pigeon'" in result.output
    result = CliRunner().invoke(main, ["live", str(path), "--feed", "websocket"])
    assert result.exit_code == 1 and "--url" in result.output


def json_to_toml(data: dict) -> str:
    """The small config dicts of these tests as TOML (inline tables and arrays only)."""

    def value(v) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v)

    out = []
    for key, v in data.items():
        if key == "scanners":
            continue
        out.append(f"{key} = {value(v)}")
    for scanner in data["scanners"]:
        out.append("[[scanners]]")
        out += [f"{k} = {value(x)}" for k, x in scanner.items()]
    return "\n".join(out) + "\n"


def test_the_live_summary_line_carries_the_market_time_as_every_session_line(
    sample_store, tmp_path
):
    path = tmp_path / "session.toml"
    path.write_text(json_to_toml(config(sample_store, [finder("a", ["TSLA"], timeout_seconds=10)])))
    result = command("live", str(path), "--speed", "0", "--log-format", "json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    live = [line for line in lines if "Live: bars received" in line["message"]]
    assert len(live) == 1
    assert live[0]["market_ts"].startswith("2019-02-1")
    text = command("live", str(path), "--speed", "0")
    assert text.exit_code == 0, text.output
    (line,) = [line for line in text.output.splitlines() if "Live: bars received" in line]
    assert "[market 2019-02-1" in line
