"""VolumeScanner and its same-time volume profile on hand-built minute bars."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scanner_volume import VolumeScanner
from scanner_volume.profile import SLOTS, build_profile

from scanner_core import ScanContext
from scanner_core.bars import Bars
from scanner_core.calendar import TimeManager
from scanner_core.config import ConfigError
from scanner_core.session import SessionData

TM = TimeManager("XNYS")
PAST = ("2024-01-02", "2024-01-03")
TODAY = "2024-01-04"


def ny(day: str, clock: str) -> np.datetime64:
    """New York wall time on a day as naive UTC datetime64[ns] (the Bars convention)."""
    stamp = pd.Timestamp(f"{day} {clock}").tz_localize(TM.tz).tz_convert("UTC")
    return stamp.tz_localize(None).to_datetime64()


class MemoryStore:
    """Bars kept in memory, answering ``load`` like the bar store (ts in [start, end))."""

    def __init__(self, bars: Bars) -> None:
        self.bars = bars

    def load(self, interval, symbols=None, start=None, end=None) -> Bars:
        b = self.bars
        keep = np.isin(np.asarray(b.symbols)[b.code], list(symbols or b.symbols))
        if start is not None:
            keep &= b.ts >= self._bound(start)
        if end is not None:
            keep &= b.ts < self._bound(end)
        return b.take(keep & (interval == b.interval))

    @staticmethod
    def _bound(value) -> np.datetime64:
        if isinstance(value, np.datetime64):
            return value.astype("datetime64[ns]")
        if isinstance(value, dt.datetime):
            return pd.Timestamp(value).tz_convert("UTC").tz_localize(None).to_datetime64()
        return ny(str(value), "00:00")


def bars_of(rows: list[tuple[str, np.datetime64, float, float]]) -> Bars:
    """1m Bars from (symbol, ts, close, volume) rows."""
    rows = sorted(rows, key=lambda r: (r[1], r[0]))
    symbols = tuple(sorted({r[0] for r in rows}))
    code = np.array([symbols.index(r[0]) for r in rows], np.int32)
    ts = np.array([r[1] for r in rows], "datetime64[ns]")
    close, volume = (np.array([r[i] for r in rows], float) for i in (2, 3))
    return Bars("1m", symbols, code, ts, close, close, close, close, volume)


def history(symbol: str, days=PAST) -> list[tuple]:
    """Past sessions: 100 shares a minute from 09:30 to 09:34, then 1M at 15:00; close 100."""
    rows = [(symbol, ny(d, f"09:3{m}"), 100.0, 100.0) for d in days for m in range(5)]
    return rows + [(symbol, ny(d, "15:00"), 100.0, 1e6) for d in days]


def today(symbol: str, price: float, volume: float) -> list[tuple]:
    """Today from 09:30 to 09:34: ``volume`` spread evenly, the last close at ``price``."""
    return [(symbol, ny(TODAY, f"09:3{m}"), price, volume / 5) for m in range(5)]


ROWS = [
    *history("SPIKE"),
    *today("SPIKE", 101.0, 1500.0),  # 3.0x, +1%: both just met
    *history("SHY"),
    *today("SHY", 101.0, 1499.0),  # 2.998x: missed
    *history("CALM"),
    *today("CALM", 100.99, 3000.0),  # +0.99%: missed
    *history("DROP"),
    *today("DROP", 99.0, 4000.0),  # -1%: an absolute move
    *history("YOUNG", PAST[1:]),
    *today("YOUNG", 110.0, 9000.0),  # one past session only
    *history("HELD"),
    *today("HELD", 110.0, 9000.0),  # already in the session
    *history("HALT"),  # no bars today
]
UNIVERSE = ["SPIKE", "SHY", "CALM", "DROP", "YOUNG", "HELD", "HALT"]


def scan_at(clock: str, **config) -> tuple[list[str], dict]:
    """Stream today's bars closed by ``clock`` into a session and run one scan then."""
    bars = bars_of(ROWS)
    session = SessionData(MemoryStore(bars), calendar=TM)
    session.track(UNIVERSE)
    session.set_time(ny(TODAY, "09:30"))
    at = ny(TODAY, clock)
    scanner = VolumeScanner({"lookback_days": 2, **config})
    context = ScanContext(session, TM, "backtest", pd.Timestamp(at).tz_localize("UTC"))
    assert scanner.setup(context)
    session.add_symbols(["HELD"])
    now = bars.ts + np.timedelta64(1, "m") <= at
    session.replay(bars.take(now & (bars.ts >= ny(TODAY, "09:30"))))
    session.set_time(at)
    result = scanner.scan(context)
    return result.symbols, result.metadata


def test_multiple_of_the_same_time_average_and_change_just_met():
    found, meta = scan_at("09:35")
    assert found == ["DROP", "SPIKE"]
    assert meta["minute"] == 5
    assert meta["values"]["SPIKE"] == pytest.approx(
        {
            "volume_multiple": 3.0,
            "cumulative_volume": 1500.0,
            "average_cumulative_volume": 500.0,
            "change_pct": 1.0,
            "price": 101.0,
            "prev_close": 100.0,
        }
    )
    assert meta["skipped_history"] == 1  # YOUNG
    assert meta["already_in_session"] == 1  # HELD
    assert meta["evaluated"] == len(UNIVERSE) - 1


def test_up_only_change_drops_falling_symbols():
    assert scan_at("09:35", change="up")[0] == ["SPIKE"]


def test_earlier_minute_compares_with_the_earlier_average():
    # at 09:33 three of today's bars have closed: 900 shares against 300 on average
    found, meta = scan_at("09:33")
    assert meta["minute"] == 3 and found == ["DROP", "SPIKE"]
    assert meta["values"]["SPIKE"]["average_cumulative_volume"] == 300.0


def test_thresholds_are_configurable():
    assert scan_at("09:35", min_multiple=2.9, min_change_pct=0.99)[0] == [
        "DROP",
        "CALM",
        "SPIKE",
        "SHY",
    ]


def test_profile_counts_pre_market_from_the_open_and_never_after_hours():
    rows = [
        ("A", ny(PAST[0], "08:00"), 1.0, 40.0),
        ("A", ny(PAST[0], "09:30"), 1.0, 10.0),
        ("A", ny(PAST[0], "16:30"), 1.0, 1e9),
        ("A", ny(PAST[1], "15:59"), 1.0, 20.0),
        ("B", ny(PAST[1], "09:30"), 1.0, 5.0),
    ]
    profile = build_profile(MemoryStore(bars_of(rows)), ["A", "B", "C"], TM, dt.date(2024, 1, 4), 2)
    assert profile.at(0).tolist() == [20.0, 0.0, 0.0]
    assert profile.at(1).tolist() == [25.0, 2.5, 0.0]
    assert profile.at(390).tolist() == [35.0, 2.5, 0.0]
    assert profile.at(10_000).tolist() == profile.average[:, SLOTS - 1].tolist()
    assert profile.complete.tolist() == [True, False, False]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"min_multiple": 0}, "min_multiple"),
        ({"lookback_days": 0}, "lookback_days"),
        ({"change": "down"}, "change"),
        ({"min_change_pct": -1}, "min_change_pct"),
    ],
)
def test_bad_settings_name_their_field(config, field):
    with pytest.raises(ConfigError, match=rf"scanners\[1\]\.config\.{field}"):
        VolumeScanner(config, path="scanners[1].config")


def test_the_profile_leaves_out_bars_after_an_early_close(tmp_path):
    from scanner_core.store import BarStore

    # 2019-07-03 closed at 13:00; a vendor's 13:01-13:08 prints must not count
    days = ("2019-07-01", "2019-07-02", "2019-07-03")
    regular = [
        ("AAA", ny(d, f"{h:02d}:{m:02d}"), 10.0, 100.0)
        for d in days
        for h, m in ((9, 30), (10, 0), (12, 59))
    ]
    late = [("AAA", ny("2019-07-03", f"13:0{m}"), 10.0, 1e9) for m in range(1, 9)]
    clean, dirty = BarStore(tmp_path / "clean"), BarStore(tmp_path / "dirty")
    clean.write(bars_of(regular))
    dirty.write(bars_of(regular + late))
    today = dt.date(2019, 7, 5)
    want, got = (build_profile(s, ["AAA"], TM, today, 3) for s in (clean, dirty))
    assert got.complete.all()
    np.testing.assert_array_equal(got.average, want.average)
    assert got.at(SLOTS - 1)[0] == 300.0
