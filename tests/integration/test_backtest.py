"""Backtests end to end over the bundled sample bars: log lines, determinism, warm-up, calendar."""

from __future__ import annotations

import datetime as dt
import io
import logging
import shutil
from pathlib import Path

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import synthetic_minutes

from scanner_core import IndicatorConfig, hookimpl
from scanner_core.aggregate import aggregate
from scanner_core.bars import FIELDS, Bars
from scanner_core.calendar import TimeManager
from scanner_core.config import parse_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.feed import DayFeed
from scanner_core.indicators import kernel_for, session_ids
from scanner_core.logs import configure_logging
from scanner_core.session import SessionData
from scanner_core.store import BarStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples/data/eqker_2019"
PROBE = str(ROOT / "tests/fixtures/scanners/probe.py")
NY = "America/New_York"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> Path:
    """The bundled eqker week (bar-end labelled minutes, daily bars) in a fresh store."""
    root = tmp_path_factory.mktemp("store")
    store = BarStore(root)
    report = store.import_files(sorted(SAMPLE.glob("*_1min.csv.gz")), timestamps="end")
    assert report.totals()["rejected"] == 0
    store.import_files(sorted(SAMPLE.glob("*_daily.csv.gz")))
    return root


def session_config(store: Path, scanners: list[dict], **extra) -> dict:
    return {
        "mode": "backtest",
        "start_date": "2019-02-11",
        "end_date": "2019-02-15",
        "symbols": ["SPY"],
        "streams": ["1m", "5m", "1d"],
        "data": {"store": str(store)},
        "universe": {"symbols": ["AAPL", "MSFT", "AMZN", "BAC", "JPM", "MU", "TSLA"]},
        "scanners": scanners,
        **extra,
    }


def movers(**extra) -> dict:
    return {
        "name": "movers",
        "module": f"{PROBE}:TopMovers",
        "schedule": {"interval": "30m", "start_time": "10:00", "end_time": "15:30"},
        **extra,
    }


def run(config: dict) -> SessionCoordinator:
    coordinator = SessionCoordinator(parse_config(config, "test.toml"))
    coordinator.run()
    return coordinator


def test_backtest_logs_like_the_plan_and_summarises(sample_store):
    stream = io.StringIO()
    handler = configure_logging("text", logging.INFO, stream)
    try:
        coordinator = run(session_config(sample_store, [movers()]))
    finally:
        logging.getLogger("scanner").removeHandler(handler)
    text = stream.getvalue()
    assert "[SCANNER] Loaded: movers" in text
    assert "[SCANNER] Setup complete: movers" in text
    assert "[SCANNER] movers: Found 3 symbols (" in text
    first_added = next(e["added"][0] for e in coordinator.recorder.events if e["added"])
    assert f"[SCANNER] movers: Adding symbol {first_added}" in text
    assert f"[SESSION] {first_added} registered mid-session" in text
    summary = coordinator.summary
    assert summary.days == 5
    assert summary.scans == 5 * 12  # 10:00 .. 15:30 every 30 minutes
    assert summary.bars > 5 * 390 * 7
    assert summary.added["movers"]
    assert f"[SESSION] Summary: 5 days, {summary.bars} bars, 60 scans" in text


def test_two_runs_write_byte_identical_history(sample_store, tmp_path):
    paths = []
    for n in range(2):
        coordinator = run(session_config(sample_store, [movers(timeout_seconds=5)]))
        paths.append(tmp_path / f"history{n}.jsonl")
        coordinator.recorder.write(paths[-1])
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_text().count("\n") == 60


def test_forked_and_in_process_scans_find_the_same(sample_store, tmp_path):
    forked = run(session_config(sample_store, [movers(timeout_seconds=5)]))
    in_process = run(session_config(sample_store, [movers(timeout_seconds=None)]))
    assert forked.recorder.events == in_process.recorder.events


class Probe:
    """An observer reading one symbol's state when it is added and after each later scan."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.seen: dict[str, tuple[bool, float, np.datetime64 | None]] = {}

    def _look(self, context, label: str) -> None:
        data = context.session_data
        col = data.index(self.symbol)[0]
        if col < 0:
            self.seen[label] = (False, float("nan"), None)
            return
        rsi = data.indicator(IndicatorConfig("rsi", 14, "1m"))
        bars = data.history(self.symbol, "1m", 1)
        last = bars.ts[-1] if len(bars) else None
        self.seen[label] = (bool(rsi.valid[col]), float(rsi.values[col]), last)

    @hookimpl
    def after_scan(self, context, result):
        self._look(context, context.current_time.strftime("%H:%M"))

    @hookimpl
    def symbols_added(self, context, symbols):
        self._look(context, "added " + context.current_time.strftime("%H:%M"))


def test_symbol_added_mid_session_is_warm_and_streams_from_the_next_bar(sample_store):
    """SBUX is outside the universe: found at 11:00, its RSI is valid at once.

    ZZZZ, found with it, has no bars in the store: it is dropped, SBUX still joins.
    """
    adder = {
        "name": "adder",
        "module": f"{PROBE}:AddAt",
        "timeout_seconds": None,
        "config": {"symbols": ["SBUX", "ZZZZ"], "at": ["11:00"]},
        "schedule": {"interval": "1m", "start_time": "10:58", "end_time": "11:03"},
    }
    config = session_config(sample_store, [adder], start_date="2019-02-13", end_date="2019-02-13")
    coordinator = SessionCoordinator(parse_config(config, "test.toml"))
    probe = Probe("SBUX")
    coordinator.manager.pm.register(probe)
    coordinator.run()

    seen = probe.seen
    assert seen["10:59"] == (False, pytest.approx(np.nan, nan_ok=True), None)  # not tracked
    valid, rsi, last = seen["added 11:00"]
    assert valid and 0 < rsi < 100
    # warmed from the store through the bar that closed at 11:00 (10:59 New York, in UTC)
    assert last == np.datetime64("2019-02-13T15:59")
    # then streamed from the next bar on: one new minute per minute, RSI moving with it
    assert seen["11:01"][2] == np.datetime64("2019-02-13T16:00")
    assert seen["11:03"][2] == np.datetime64("2019-02-13T16:02")
    assert seen["11:01"][0] and seen["11:01"][1] != rsi
    assert coordinator.recorder.added["adder"] == ["SBUX"]


def test_weekends_and_holidays_are_skipped(sample_store):
    config = session_config(
        sample_store, [movers()], start_date="2019-02-09", end_date="2019-02-18"
    )
    coordinator = run(config)  # 02-09/10 weekend, 02-18 Presidents Day
    assert coordinator.summary.days == 5
    days = {event["time"][:10] for event in coordinator.recorder.events}
    assert days == {f"2019-02-{d}" for d in (11, 12, 13, 14, 15)}


def test_early_close_day_ends_at_one_pm(tmp_path):
    store = BarStore(tmp_path / "store")
    store.write(synthetic_minutes("2018-07-02", ["AAA", "BBB", "CCC"], 1))
    store.write(synthetic_minutes("2018-07-03", ["AAA", "BBB", "CCC"], 2))  # 13:00 close
    config = session_config(
        tmp_path / "store",
        [movers(schedule={"interval": "30m", "start_time": "10:00"})],
        start_date="2018-07-02",
        end_date="2018-07-04",  # the 4th is a holiday
        universe={"all": True},
        symbols=[],
        streams=["1m"],
    )
    coordinator = run(config)
    times = [event["time"] for event in coordinator.recorder.events]
    early = [t for t in times if t.startswith("2018-07-03")]
    assert early[-1] == "2018-07-03T13:00:00-04:00"
    assert len([t for t in times if t.startswith("2018-07-02")]) == 13  # 10:00 .. 16:00
    assert coordinator.summary.days == 2
    # bars stop at the early close: 210 minutes of 3 symbols that day
    assert coordinator.summary.bars == 3 * (390 + 210)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(30, 380), seed=st.integers(0, 1000))
def test_bars_appended_after_t_never_change_scans_at_or_before_t(tmp_path_factory, cut, seed):
    root = tmp_path_factory.mktemp("lookahead")
    symbols = ["AAA", "BBB", "CCC", "DDD", "EEE"]
    day = synthetic_minutes("2019-03-12", symbols, seed)
    history = synthetic_minutes("2019-03-11", symbols, seed + 1)
    early = BarStore(root / "early")
    early.write(history)
    early.write(day.take(day.ts < day.ts[0] + np.timedelta64(cut, "m")))
    full = root / "full"
    shutil.copytree(root / "early", full)
    BarStore(full).write(day)  # the later minutes of the day arrive

    def events(store: Path) -> list[dict]:
        config = session_config(
            store,
            [movers(schedule={"interval": "5m"})],
            start_date="2019-03-12",
            end_date="2019-03-12",
            universe={"all": True},
            symbols=[],
        )
        return run(config).recorder.events

    horizon = pd.Timestamp("2019-03-12 09:30", tz=NY) + pd.Timedelta(minutes=cut)
    before = [e for e in events(full) if pd.Timestamp(e["time"]) <= horizon]
    assert before == [e for e in events(root / "early") if pd.Timestamp(e["time"]) <= horizon]
    assert before  # the open scan at least


def test_run_needs_dates(sample_store):
    config = session_config(sample_store, [movers()])
    del config["end_date"]
    with pytest.raises(ValueError, match="start_date and end_date"):
        SessionCoordinator(parse_config(config, "test.toml"))


def test_the_clock_is_exchange_time(sample_store):
    coordinator = run(session_config(sample_store, [movers()], end_date="2019-02-11"))
    first = dt.datetime.fromisoformat(coordinator.recorder.events[0]["time"])
    assert first.utcoffset() == dt.timedelta(hours=-5)
    assert first.strftime("%H:%M") == "10:00"


def test_an_hourly_stream_ends_the_day_at_the_close_not_after(sample_store):
    """The 15:30 bucket of the hourly grid is short: it closes, and the clock stops, at 16:00."""
    clock: list[tuple[str, str]] = []

    class Clock:
        @hookimpl
        def after_scan(self, context, result):
            now = context.session_data.current_time.tz_convert(NY).strftime("%H:%M")
            clock.append((context.current_time.strftime("%H:%M"), now))

    config = session_config(
        sample_store,
        [movers(timeout_seconds=0, schedule={"interval": "30m", "start_time": "15:30"})],
        start_date="2019-02-13",
        end_date="2019-02-13",
        streams=["1m", "1h"],
    )
    coordinator = SessionCoordinator(parse_config(config, "test.toml"))
    coordinator.manager.pm.register(Clock())
    coordinator.run()
    assert clock == [("15:30", "15:30"), ("16:00", "16:00")]
    hourly = coordinator.session.history("AAPL", "1h", 7)
    assert len(hourly) == 7  # 09:30 .. 14:30 full hours and the short 15:30 bucket


def test_intervals_that_indicators_read_are_streamed_even_if_not_configured(sample_store):
    """streams = ["1m"], but momentum reads 5m bars: they are built and streamed anyway."""
    momentum = {"module": "momentum", "timeout_seconds": 0, "config": {"interval": "5m"}}
    config = session_config(
        sample_store, [momentum], streams=["1m"], start_date="2019-02-12", end_date="2019-02-13"
    )
    coordinator = run(config)
    rsi = IndicatorConfig("rsi", 14, "5m")
    bars = aggregate(coordinator.store.load("1m", ["AAPL"], None, "2019-02-13T21:00"), "5m")
    kernel = kernel_for(rsi, 1)
    kernel.warm(
        np.array([0]), session_ids(bars.ts, "5m"), *(getattr(bars, f)[:, None] for f in FIELDS)
    )
    session = coordinator.session
    assert session.history("AAPL", "5m", 1).ts[-1] == np.datetime64("2019-02-13T20:55")
    col = session.index("AAPL")[0]
    assert session.indicator(rsi).values[col] == pytest.approx(kernel.read().values[0], abs=1e-9)
    # momentum's daily SMA takes each day's bar at the close, though streams has no "1d"
    closes = coordinator.store.load("1d", ["AAPL"], "2019-01-01", "2019-02-14").close
    sma = session.indicator(IndicatorConfig("sma", 20, "1d")).values[col]
    assert sma == pytest.approx(closes[-20:].mean(), abs=1e-9)


def test_the_session_cap_counts_each_trading_day_afresh(sample_store):
    coordinator = run(session_config(sample_store, [movers()], max_session_symbols=2))
    by_day: dict[str, set[str]] = {}
    for event in coordinator.recorder.events:
        by_day.setdefault(event["time"][:10], set()).update(event["added"])
    assert max(len(added) for added in by_day.values()) == 2
    assert sum(len(added) for added in by_day.values()) > 2


def test_a_scanners_symbol_requirements_reach_the_warm_up(sample_store):
    config = session_config(
        sample_store,
        [movers(symbol_requirements={"history": {"1d": 120}})],
        start_date="2019-02-11",
        end_date="2019-02-11",
    )
    coordinator = run(config)
    assert coordinator.session.requirements.needs()["1d"].bars == 120
    # a symbol's history without a count reaches as far back as the requirement
    assert len(coordinator.session.history("AAPL", "1d")) >= 120


def test_a_missing_store_is_one_clear_error(tmp_path):
    config = session_config(tmp_path / "nowhere", [movers()])
    with pytest.raises(ValueError, match=r"data.store: no bar store at .*nowhere"):
        SessionCoordinator(parse_config(config, "test.toml"))


def test_warm_up_skips_bars_a_session_never_streams(tmp_path):
    """An after-hours bar in the store must not reach a symbol warmed up the next day."""
    store = BarStore(tmp_path)
    store.write(synthetic_minutes("2019-03-11", ["AAA", "BBB"], seed=3))
    store.write(synthetic_minutes("2019-03-12", ["AAA", "BBB"], seed=4))
    late = synthetic_minutes("2019-03-11", ["BBB"], seed=5, minutes=1)
    store.write(attrs.evolve(late, ts=late.ts + np.timedelta64(7 * 60, "m"), close=late.close * 3))
    sma = IndicatorConfig("sma", 60, "1m")
    tm = TimeManager()

    def streamed_all_along() -> float:
        session = SessionData(store, calendar=tm)
        session.set_time(pd.Timestamp("2019-03-11 04:00", tz=NY))
        session.add_indicator(None, sma)
        session.add_symbols(["AAA", "BBB"])
        for day, until in (("2019-03-11", "16:00"), ("2019-03-12", "09:40")):
            date = dt.date.fromisoformat(day)
            feed = DayFeed(session.store, tm, date, ["1m"])
            feed.add(["AAA", "BBB"])
            for bars in feed.until(pd.Timestamp(f"{day} {until}", tz=NY)):
                session.replay(bars)
        return session.indicator(sma).values[session.index("BBB")[0]]

    joined = SessionData(store, calendar=tm)
    joined.set_time(pd.Timestamp("2019-03-12 09:40", tz=NY))
    joined.add_indicator(None, sma)
    joined.add_symbols(["BBB"])
    assert joined.indicator(sma).values[0] == pytest.approx(streamed_all_along(), abs=1e-9)


def test_symbols_without_a_stored_daily_bar_get_one_from_their_minutes(tmp_path):
    store = BarStore(tmp_path / "store")
    minutes = synthetic_minutes("2019-03-12", ["AAA", "BBB"], seed=9)
    store.write(minutes)
    daily_aaa = Bars(
        "1d",
        ("AAA",),
        np.zeros(1, np.int32),
        np.array(["2019-03-12"], "datetime64[ns]"),
        *(np.array([v]) for v in (1.0, 2.0, 0.5, 1.5, 7.0)),
    )
    store.write(daily_aaa)
    config = session_config(
        tmp_path / "store",
        [movers()],
        start_date="2019-03-12",
        end_date="2019-03-12",
        universe={"all": True},
        symbols=[],
        streams=["1m", "1d"],
    )
    session = run(config).session
    close, volume = session.latest("close", "1d"), session.latest("volume", "1d")
    a, b = session.index(["AAA", "BBB"])
    assert (close[a], volume[a]) == (1.5, 7.0)  # the stored bar
    bbb = minutes.take(minutes.code == 1)
    assert (close[b], volume[b]) == (bbb.close[-1], bbb.volume.sum())  # built from minutes


class Metadata:
    """Keeps each scan's metadata as the session received it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    @hookimpl
    def after_scan(self, context, result):
        self.seen.append((context.current_time.date().isoformat(), result.metadata.get("cached")))


@pytest.mark.parametrize("fail", [False, True])
def test_session_start_builds_in_the_session_what_forked_scans_reuse(sample_store, fail):
    cache = {
        "name": "cache",
        "module": f"{PROBE}:DayCache",
        "timeout_seconds": 5,  # forked: a cache built inside scan() would be lost
        "config": {"fail": fail},
        "schedule": {"interval": "1h", "start_time": "10:30", "end_time": "11:30"},
    }
    config = session_config(sample_store, [cache], start_date="2019-02-12", end_date="2019-02-13")
    coordinator = SessionCoordinator(parse_config(config, "test.toml"))
    metadata = Metadata()
    coordinator.manager.pm.register(metadata)
    coordinator.run()
    days = ["2019-02-12"] * 2 + ["2019-02-13"] * 2
    expected = [None] * 4 if fail else days  # a failing session_start leaves scans running
    assert metadata.seen == list(zip(days, expected, strict=True))


def test_daily_bars_reach_a_session_that_needs_them_only_through_a_history_need(tmp_path):
    store = BarStore(tmp_path / "store")
    tm = TimeManager()
    for i, day in enumerate(tm.sessions(dt.date(2019, 2, 1), dt.date(2019, 2, 13))):
        store.write(synthetic_minutes(day.isoformat(), ["AAA"], seed=i))
    seen = tmp_path / "seen.txt"
    scanner = tmp_path / "latest_daily.py"
    scanner.write_text(
        "from scanner_core import BaseScanner, ScanResult\n"
        "class LatestDaily(BaseScanner):\n"
        "    def scan(self, context):\n"
        "        data = context.session_data\n"
        "        last = data.history('AAA', '1d', 1)\n"
        f"        with open({str(seen)!r}, 'a') as out:\n"
        "            out.write(f\"{data.latest('close', '1d')[0]} {last.close[-1]}\\n\")\n"
        "        return ScanResult()\n"
    )
    config = {
        "mode": "backtest",
        "start_date": "2019-02-11",
        "end_date": "2019-02-13",
        "data": {"store": str(tmp_path / "store")},
        "universe": {"symbols": ["AAA"]},
        "scanners": [
            {
                "name": "latest",
                "module": f"{scanner}:LatestDaily",
                "timeout_seconds": 0,
                "schedule": {"interval": "1h", "start_time": "10:30", "end_time": "10:30"},
                "symbol_requirements": {"history": {"1d": 5}},
            }
        ],
    }
    run(config)
    rows = [line.split() for line in seen.read_text().splitlines()]
    assert len(rows) == 3
    assert all(latest == last for latest, last in rows)
    assert len({latest for latest, _ in rows}) == 3
