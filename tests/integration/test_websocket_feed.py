"""The websocket feed against a real local server (tests/fixtures/ws_server.py)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scanner_core.config import parse_config
from scanner_core.feeds.websocket import WebSocketFeed
from scanner_core.loop import SessionLoop
from scanner_core.store import BarStore

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests/fixtures/ws_server.py"
PROBE = ROOT / "tests/fixtures/scanners/probe.py"
DAY = "2019-02-12"


@pytest.fixture(scope="module")
def sample_store(sample_week_store) -> Path:
    return sample_week_store


def day_bars(store: Path, symbols: list[str]) -> tuple[dict, list[str]]:
    """The regular session's minute bars of DAY, as the server's scenario holds them."""
    bars = BarStore(store).load("1m", symbols, DAY, "2019-02-13")
    open_, close = pd.Timestamp(f"{DAY} 14:30"), pd.Timestamp(f"{DAY} 21:00")
    rows: dict[str, list] = {s: [] for s in symbols}
    for i in range(len(bars)):
        ts = pd.Timestamp(bars.ts[i])
        if open_ <= ts < close:
            values = [float(getattr(bars, f)[i]) for f in ("open", "high", "low", "close")]
            rows[bars.symbols[bars.code[i]]].append(
                [ts.isoformat() + "+00:00", *values, float(bars.volume[i])]
            )
    minutes = pd.date_range(open_ + pd.Timedelta(minutes=1), close, freq="1min")
    return rows, [m.isoformat() + "+00:00" for m in minutes]


@pytest.fixture
def server(sample_store, tmp_path) -> Iterator[Callable[..., str]]:
    """Start a server with a scenario; its url. Every server is killed at the end."""
    started: list[subprocess.Popen] = []

    def start(**scenario) -> str:
        rows, minutes = day_bars(sample_store, ["AAPL", "SPY", "TSLA"])
        scenario = {"bars": rows, "minutes": minutes, "received": str(tmp_path / "got.jsonl")}
        scenario |= start.extra
        path = tmp_path / "scenario.json"
        path.write_text(json.dumps(scenario))
        proc = subprocess.Popen(
            [sys.executable, str(SERVER), str(path)], stdout=subprocess.PIPE, text=True
        )
        started.append(proc)
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        return f"ws://127.0.0.1:{port}/bars"

    start.extra = {}
    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def session(store: Path, **extra) -> dict:
    adder = {
        "name": "adder",
        "module": f"{PROBE}:AddAt",
        "schedule": {"interval": "5m", "start_time": "09:35", "end_time": "15:55"},
        # Any of these: at the server's pace a scan may still run at its next turn.
        "config": {"symbols": ["TSLA"], "at": [f"10:{m:02d}" for m in range(0, 60, 5)]},
        "timeout_seconds": 10,
    }
    return {
        "start_date": DAY,
        "end_date": DAY,
        "symbols": ["SPY"],
        "streams": ["1m"],
        "data": {"store": str(store)},
        "universe": {"symbols": ["AAPL"]},
        "scanners": [adder],
        **extra,
    }


def run(store: Path, url: str, max_lag: float = 1e6, **feed) -> SessionLoop:
    loop = SessionLoop(
        parse_config(session(store), "ws.toml"),
        WebSocketFeed(url, backoff_seconds=0.05, **feed),
        max_lag_seconds=max_lag,
    )
    loop.run()
    return loop


def received(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "got.jsonl").read_text().splitlines()]


def last_bar(loop: SessionLoop, symbol: str) -> pd.Timestamp:
    return pd.Timestamp(loop.session.history(symbol, "1m").ts[-1])


def test_a_websocket_session_adds_symbols_mid_session(sample_store, server, tmp_path):
    loop = run(sample_store, server())

    assert loop.recorder.added["adder"] == ["TSLA"]
    subscriptions = received(tmp_path)
    assert subscriptions[0]["symbols"] == ["AAPL", "SPY"] and "from" not in subscriptions[0]
    assert subscriptions[1]["symbols"] == ["TSLA"]
    assert pd.Timestamp(subscriptions[1]["from"]) >= pd.Timestamp(f"{DAY} 15:00", tz="UTC")
    assert pd.Timestamp(subscriptions[1]["from"]) < pd.Timestamp(f"{DAY} 16:00", tz="UTC")
    # TSLA streamed from the server after it joined, to the last bar of the day.
    assert last_bar(loop, "TSLA") == pd.Timestamp(f"{DAY} 20:59")
    assert last_bar(loop, "AAPL") == pd.Timestamp(f"{DAY} 20:59")
    stats = loop.feed.stats
    assert stats.bars_received == loop.bars_processed
    # At most the backfill of a minute handed on before TSLA's bars came is too late.
    assert set(stats.rejected) <= {"out_of_order"}


def test_the_feed_reconnects_after_the_server_drops_it(sample_store, server, tmp_path, caplog):
    server.extra = {"drop_after": 60}
    with caplog.at_level(logging.WARNING, logger="scanner"):
        loop = run(sample_store, server())

    assert loop.feed.stats.reconnects == 1
    assert any("reconnecting" in r.getMessage() for r in caplog.records)
    assert last_bar(loop, "SPY") == pd.Timestamp(f"{DAY} 20:59")
    history = loop.session.history("SPY", "1m")
    # No bar is lost or doubled across the reconnect.
    assert len(np.unique(history.ts)) == len(history.ts)
    assert pd.Timestamp(f"{DAY} 15:30") in set(pd.to_datetime(history.ts))
    # Subscribed again on the new connection, from the last bar handed on.
    again = [m for m in received(tmp_path)[1:] if "SPY" in m["symbols"]]
    assert again and "from" in again[0]


def test_bad_messages_are_rejected_counted_and_the_session_runs_on(sample_store, server, caplog):
    server.extra = {"duplicate_at": 20, "out_of_order_at": 40, "malformed_at": 50}
    with caplog.at_level(logging.WARNING, logger="scanner"):
        loop = run(sample_store, server())

    rejected = loop.feed.stats.rejected
    assert rejected["duplicate"] == 2  # AAPL and SPY at the repeated minute
    assert rejected["malformed"] == 2
    lines = [r.getMessage() for r in caplog.records]
    late = [line for line in lines if "(out_of_order)" in line]
    # The bar the server sent again out of order, for each symbol streamed by then (TSLA
    # too once it joined); any other is the documented backfill of a symbol that joined.
    replayed = [line for line in late if "(newest " in line]
    assert {"AAPL", "SPY"} <= {line.split("): ")[1].split()[0] for line in replayed}
    assert all("already handed on" in line for line in late if line not in replayed)
    assert rejected["out_of_order"] == len(late)
    assert any("(duplicate)" in line for line in lines)
    assert any("(malformed): not JSON" in line for line in lines)
    assert any("(malformed): interval" in line for line in lines)
    assert last_bar(loop, "SPY") == pd.Timestamp(f"{DAY} 20:59")
    assert loop.recorder.added["adder"] == ["TSLA"]


def test_a_burst_from_the_feed_pauses_scans_until_ingestion_caught_up(sample_store, server):
    server.extra = {"burst": True}
    loop = run(sample_store, server(), max_lag=60.0)

    assert loop.lag.pauses >= 1 and loop.lag.resumes >= 1
    assert loop.lag.max_seen > 60.0
    assert sum(loop.lag.held_scans.values()) >= 1
    assert last_bar(loop, "SPY") == pd.Timestamp(f"{DAY} 20:59")


def test_a_server_that_never_answers_ends_the_feed_after_its_attempts(sample_store, caplog):
    with caplog.at_level(logging.WARNING, logger="scanner"):
        loop = run(sample_store, "ws://127.0.0.1:9/bars", reconnect_attempts=2)
    lines = [r.getMessage() for r in caplog.records]
    assert any("giving up after 3 attempts" in line for line in lines)
    assert loop.summary.empty  # no bar came: the run says it did nothing
