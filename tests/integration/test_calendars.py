"""Sessions on Tokyo and London over generated bars: buckets, ticks, warm joins, time zones."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from venue_bars import venue_minutes

from scanner_core import IndicatorConfig, hookimpl
from scanner_core.calendar import TimeManager
from scanner_core.config import ScannerSchedule, parse_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.schedule import Schedule
from scanner_core.sources import BarSource
from scanner_core.store import BarStore

ROOT = Path(__file__).resolve().parents[2]
PROBE = str(ROOT / "tests/fixtures/scanners/probe.py")
UNIVERSE = ["AAA", "BBB", "CCC", "DDD"]
LATE = "ZZZ"  # outside the universe: it joins when a scanner adds it
#: Tokyo: the day before the run, then a 15:00 close, Culture Day (4th), and two 15:30 closes.
TOKYO_DAYS = ["2024-10-31", "2024-11-01", "2024-11-05", "2024-11-06"]
LONDON_DAYS = ["2019-12-20", "2019-12-23", "2019-12-24", "2019-12-27"]  # the 24th closes 12:30
#: Stored minutes no session streams: before the open, in the lunch break, after the close.
TOKYO_OUTSIDE = [(dt.time(8, 0), dt.time(9, 0)), (dt.time(11, 30), dt.time(12, 30))]
LONDON_OUTSIDE = [(dt.time(7, 0), dt.time(8, 0))]
MOMENTUM = [
    IndicatorConfig("rsi", 14, "5m"),
    IndicatorConfig("volume_ratio", 20, "5m"),
    IndicatorConfig("sma", 1, "1d"),
]


def write_days(root: Path, calendar: str, days: list[str], outside) -> Path:
    store = BarStore(root)
    for n, day in enumerate(days):
        store.write(venue_minutes(calendar, day, [*UNIVERSE, LATE], seed=n, drift=0.0004))
        store.write(venue_minutes(calendar, day, [*UNIVERSE, LATE], seed=50 + n, spans=outside))
    return root


@pytest.fixture(scope="module")
def tokyo(tmp_path_factory) -> Path:
    return write_days(tmp_path_factory.mktemp("tokyo"), "XTKS", TOKYO_DAYS, TOKYO_OUTSIDE)


@pytest.fixture(scope="module")
def london(tmp_path_factory) -> Path:
    return write_days(tmp_path_factory.mktemp("london"), "XLON", LONDON_DAYS, LONDON_OUTSIDE)


def local(tm: TimeManager, ts: np.ndarray) -> list[str]:
    return pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert(tm.tz).strftime("%H:%M").tolist()


def test_a_tokyo_day_spans_two_new_york_partitions_yet_is_one_session(tokyo):
    tm = TimeManager("XTKS")
    store = BarStore(tokyo)
    day = dt.date(2024, 11, 5)
    # 09:00-15:30 Tokyo is 19:00 the evening before to 01:30 in New York, the store's zone
    assert {"2024-11-04", "2024-11-05"} <= {p.stem for p in (tokyo / "1m").iterdir()}
    source = BarSource(store, tm)
    open_, close = tm.open_close(day)
    daily = source.load("1d", UNIVERSE, day, day + dt.timedelta(days=1))
    minutes = store.load("1m", UNIVERSE, open_, close)
    minutes = minutes.take(tm.regular_hours(minutes.ts))
    assert len(minutes) == 330 * len(UNIVERSE)
    np.testing.assert_array_equal(daily.ts, np.full(4, np.datetime64("2024-11-05", "ns")))
    for code, symbol in enumerate(UNIVERSE):
        mine = minutes.take(minutes.code == minutes.symbols.index(symbol))
        # the whole session, morning and afternoon, and not a minute of the break
        assert daily.volume[code] == mine.volume.sum()
        assert (daily.open[code], daily.close[code]) == (mine.open[0], mine.close[-1])
        assert daily.high[code] == mine.high.max()


def test_tokyo_coarse_bars_restart_after_lunch_and_leave_the_break_out(tokyo):
    tm = TimeManager("XTKS")
    source = BarSource(BarStore(tokyo), tm)
    open_, close = tm.open_close(dt.date(2024, 11, 5))
    hourly = source.load("1h", ["AAA"], open_, close)
    assert local(tm, hourly.ts) == ["09:00", "10:00", "11:00", "12:30", "13:30", "14:30"]
    assert local(tm, tm.bar_closes(hourly.ts, 60)) == [
        "10:00",
        "11:00",
        "11:30",
        "13:30",
        "14:30",
        "15:30",
    ]
    minutes = BarStore(tokyo).load("1m", ["AAA"], open_, close)
    morning = minutes.take((minutes.ts >= hourly.ts[2]) & (minutes.ts < hourly.ts[3]))
    # the 11:00 hour holds 11:00-11:29 only, though the store has minutes up to 12:29
    assert len(morning) == 90
    assert hourly.volume[2] == morning.volume[:30].sum()
    quarter = source.load("15m", ["AAA"], open_, close)
    assert "11:30" not in local(tm, quarter.ts) and "12:30" in local(tm, quarter.ts)
    assert len(quarter) == 22  # 10 in the morning, 12 in the afternoon


class Watch:
    """After every scan, the momentum indicators of one symbol, and when each scanner ran."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.values: dict[str, list[float]] = {}
        self.runs: dict[str, list[dt.datetime]] = {}

    @hookimpl
    def after_scan(self, context, result):
        self.runs.setdefault(context.scanner_name, []).append(context.current_time)
        data = context.session_data
        col = data.index(self.symbol)[0]
        if context.scanner_name != "momentum" or col < 0 or not data.in_session()[col]:
            return
        values = [float(data.indicator(c).values[col]) for c in MOMENTUM]
        self.values[context.current_time.isoformat()] = values


def tokyo_config(store: Path, symbols: list[str], join: list[str]) -> dict:
    momentum = {
        "module": "momentum",
        "timeout_seconds": None,
        "schedule": {"interval": "30m"},
        "config": {
            "interval": "5m",
            "rsi_min": 0.0,
            "volume_ratio_min": 0.0,
            "sma_days": 1,
        },
    }
    adder = {
        "name": "adder",
        "module": f"{PROBE}:AddAt",
        "timeout_seconds": None,
        "config": {"symbols": [LATE], "at": join},
        "schedule": {"interval": "30m", "start_time": "13:00", "end_time": "13:00"},
    }
    return {
        "mode": "backtest",
        "calendar": "XTKS",
        "start_date": "2024-11-01",
        "end_date": "2024-11-06",
        "symbols": symbols,
        "streams": ["1m", "5m"],
        "data": {"store": str(store)},
        "universe": {"symbols": UNIVERSE},
        "scanners": [momentum, adder],
    }


def run_with_watch(config: dict) -> tuple[SessionCoordinator, Watch]:
    coordinator = SessionCoordinator(parse_config(config, "tokyo.toml"))
    watch = Watch(LATE)
    coordinator.manager.pm.register(watch)
    coordinator.run()
    return coordinator, watch


@pytest.fixture(scope="module")
def tokyo_runs(tokyo):
    joined = run_with_watch(tokyo_config(tokyo, [], ["13:00"]))
    along = run_with_watch(tokyo_config(tokyo, [LATE], []))
    return joined, along


def test_a_tokyo_backtest_scans_at_the_ticks_only_and_finds_symbols(tokyo_runs):
    (coordinator, watch), _ = tokyo_runs
    tm = TimeManager("XTKS")
    summary = coordinator.summary
    assert summary.days == 3  # 1 Nov, then Culture Day is skipped, 5 and 6 Nov
    assert summary.problems == []
    expected = []
    for day in (dt.date(2024, 11, 1), dt.date(2024, 11, 5), dt.date(2024, 11, 6)):
        open_ = tm.open_close(day)[0]
        ticks = Schedule.from_config(ScannerSchedule(interval="30m")).day_runs(day, tm)
        expected += [t for t in ticks if t > open_]  # a run at the open is a pre-session one
    runs = watch.runs["momentum"]
    assert runs == expected
    walls = {t.strftime("%H:%M") for t in runs}
    assert "11:30" in walls and "13:00" in walls and "15:30" in walls
    assert not {"12:00", "12:30"} & walls  # nothing inside the break
    assert len(runs) == 10 + 11 + 11  # a 15:00 close, then 15:30 closes
    found = coordinator.summary.added["momentum"]
    assert found and set(found) <= set(UNIVERSE)
    assert coordinator.summary.added["adder"] == [LATE] * 3  # each day at 13:00, after lunch
    # every bar a Tokyo session streams, and none of the break or before the open
    day_bars = {"2024-11-01": 300, "2024-11-05": 330, "2024-11-06": 330}
    minutes = sum(day_bars.values())
    assert coordinator.summary.bars >= (minutes + minutes // 5) * len(UNIVERSE)


def test_a_symbol_added_after_lunch_matches_one_streamed_all_along(tokyo_runs):
    (_, joined), (_, along) = tokyo_runs
    assert joined.values, "the late symbol was never in the session"
    first = min(joined.values)
    # added at 13:00 after momentum's scan (config order), so momentum first sees it at 13:30
    assert first == "2024-11-01T13:30:00+09:00"
    assert len(joined.values) == 4 + 5 + 5  # 13:30 .. 15:00, then 13:30 .. 15:30 twice
    after = {t: v for t, v in along.values.items() if t in joined.values}
    assert after.keys() == joined.values.keys()
    for moment, values in joined.values.items():
        assert all(np.isfinite(values)), moment
        np.testing.assert_allclose(values, after[moment], rtol=0, atol=1e-12, err_msg=moment)


LONDON_CONFIG = """
mode = "backtest"
calendar = "XLON"
start_date = 2019-12-23
end_date = 2019-12-27
streams = ["1m", "15m"]

[data]
store = "{store}"

[universe]
symbols = ["AAA", "BBB", "CCC", "DDD"]

[[scanners]]
module = "momentum"
timeout_seconds = 10
schedule = {{ interval = "1h" }}

[scanners.config]
interval = "15m"
rsi_min = 0.0
volume_ratio_min = 0.0
sma_days = 1
rsi_period = 3
volume_ratio_period = 3
"""


def test_scanner_run_on_london_stops_at_the_christmas_eve_close(london, tmp_path):
    config = tmp_path / "london.toml"
    config.write_text(LONDON_CONFIG.format(store=london.as_posix()))
    history = tmp_path / "history.jsonl"
    scanner = Path(sys.executable).with_name("scanner")
    done = subprocess.run(
        [str(scanner), "run", str(config), "--history", str(history)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    times = [json.loads(line)["time"] for line in history.read_text().splitlines()]
    by_day: dict[str, list[str]] = {}
    for moment in times:
        by_day.setdefault(moment[:10], []).append(moment[11:16])
    # the 1h grid from 08:00; 25 Dec and Boxing Day are holidays; no run after 12:30 on the 24th
    assert by_day == {
        "2019-12-23": [f"{h:02d}:00" for h in range(9, 17)],
        "2019-12-24": [f"{h:02d}:00" for h in range(9, 13)],
        "2019-12-27": [f"{h:02d}:00" for h in range(9, 17)],
    }
    assert all(moment.endswith("+00:00") for moment in times)  # London winter time
    assert "[SESSION] Summary: 3 days" in done.stderr
    assert "momentum: added" in done.stderr
