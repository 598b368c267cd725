"""GapScanner on hand-built minute bars: each criterion just met and just missed, both modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scanner_gap import GapScanner

from scanner_core import ScanContext
from scanner_core.bars import Bars
from scanner_core.calendar import TimeManager
from scanner_core.config import ConfigError
from scanner_core.session import SessionData

TM = TimeManager("XNYS")
YESTERDAY, TODAY = "2024-01-03", "2024-01-04"


class ListStore:
    """A bar store over one Bars: rows with ts in [start, end) of the asked symbols."""

    def __init__(self, bars: Bars) -> None:
        self.bars = bars

    def load(self, interval, symbols=None, start=None, end=None) -> Bars:
        b, keep = self.bars, np.full(len(self.bars), interval == self.bars.interval)
        if symbols is not None:
            keep &= np.isin(np.asarray(b.symbols)[b.code], list(symbols))
        for bound, side in ((start, np.greater_equal), (end, np.less)):
            if bound is not None:
                keep &= side(b.ts, bound if isinstance(bound, np.datetime64) else utc(bound))
        return b.take(keep)


def utc(moment) -> np.datetime64:
    """A New York wall time (naive) or a tz-aware moment as naive UTC datetime64[ns]."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize(TM.tz) if stamp.tz is None else stamp
    return stamp.tz_convert("UTC").tz_localize(None).to_datetime64()


def minute_bars(rows: list[tuple[str, str, float, float, float]]) -> Bars:
    """1m Bars from (symbol, local start time, open, close, volume) rows."""
    rows = sorted(rows, key=lambda r: (utc(r[1]), r[0]))
    symbols = tuple(sorted({r[0] for r in rows}))
    code = np.array([symbols.index(r[0]) for r in rows], np.int32)
    ts = np.array([utc(r[1]) for r in rows], "datetime64[ns]")
    opens, closes, volume = (np.array([r[i] for r in rows], float) for i in (2, 3, 4))
    high, low = np.maximum(opens, closes), np.minimum(opens, closes)
    return Bars("1m", symbols, code, ts, opens, high, low, closes, volume)


def yesterday(symbol: str, close: float) -> list[tuple]:
    """Two regular-session bars yesterday ending at ``close``."""
    return [
        (symbol, f"{YESTERDAY} 15:58", close, close, 1e5),
        (symbol, f"{YESTERDAY} 15:59", close, close, 1e5),
    ]


def scan_at(rows: list[tuple], at: str, universe: list[str], **config) -> tuple:
    """Stream today's bars closed by ``at`` into a session and run one scan then."""
    bars = minute_bars(rows)
    session = SessionData(ListStore(bars), calendar=TM)
    session.track(universe)
    session.set_time(utc(f"{TODAY} 04:00"))
    scanner = GapScanner(config)
    context = ScanContext(session, TM, "backtest", pd.Timestamp(utc(at)).tz_localize("UTC"))
    assert scanner.setup(context)
    today = bars.take(
        (bars.ts >= utc(f"{TODAY} 04:00")) & (bars.ts + np.timedelta64(1, "m") <= utc(at))
    )
    session.replay(today)
    session.set_time(utc(at))
    result = scanner.scan(context)
    return result.symbols, result.metadata


def pre_market(symbol: str, prev: float, price: float, volume: float) -> list[tuple]:
    """Yesterday closing at ``prev``; two pre-market bars today, the last at ``price``."""
    return [
        *yesterday(symbol, prev),
        (symbol, f"{TODAY} 08:00", prev, prev, volume / 2),
        (symbol, f"{TODAY} 09:10", price, price, volume / 2),
    ]


PRE_MARKET = [
    *pre_market("UP", 100.0, 102.0, 1e6),  # gap 2%, volume 1M: both just met
    *pre_market("THIN", 100.0, 102.0, 999_998.0),  # volume just missed
    *pre_market("DOWN", 50.0, 49.0, 2e6),  # gap -2%
    *pre_market("CAP", 490.0, 500.0, 1e6),  # price 500: just met
    *pre_market("DEAR", 500.0, 510.0, 5e6),  # price 510: missed
    *pre_market("SMALL", 100.0, 101.99, 5e6),  # gap 1.99%: missed
    *yesterday("HALT", 10.0),  # no bars today
    ("NEW", f"{TODAY} 09:00", 10.0, 20.0, 5e6),  # no earlier session
]
UNIVERSE = ["UP", "THIN", "DOWN", "CAP", "DEAR", "SMALL", "HALT", "NEW"]


def test_pre_market_gaps_both_directions_ranked_by_size():
    found, meta = scan_at(PRE_MARKET, f"{TODAY} 09:30", UNIVERSE)
    assert found == ["CAP", "DOWN", "UP"]
    assert meta["mode"] == "pre_market"
    assert meta["values"]["UP"] == pytest.approx(
        {"gap_pct": 2.0, "prev_close": 100.0, "price": 102.0, "volume": 1e6}
    )
    assert meta["values"]["DOWN"]["gap_pct"] == pytest.approx(-2.0)
    assert meta["skipped_invalid"] == 1  # NEW has no previous close
    assert meta["evaluated"] == len(UNIVERSE) - 1


@pytest.mark.parametrize(("direction", "expected"), [("up", ["CAP", "UP"]), ("down", ["DOWN"])])
def test_direction_selects_up_or_down_gaps(direction, expected):
    assert scan_at(PRE_MARKET, f"{TODAY} 09:30", UNIVERSE, direction=direction)[0] == expected


def test_thresholds_are_configurable():
    found, _ = scan_at(
        PRE_MARKET, f"{TODAY} 09:30", UNIVERSE, min_gap_pct=1.5, min_volume=9e5, max_price=600
    )
    assert found == ["CAP", "DEAR", "DOWN", "THIN", "UP", "SMALL"]


def regular(symbol: str, prev: float, first_open: float, volumes: list[float]) -> list[tuple]:
    """Yesterday closing at ``prev``; today one bar a minute from 09:30 with these volumes."""
    return [
        *yesterday(symbol, prev),
        *(
            (symbol, f"{TODAY} 09:{30 + i}", first_open if i == 0 else 1.0, first_open, v)
            for i, v in enumerate(volumes)
        ),
    ]


OPENING = [
    *regular("GAP", 100.0, 103.0, [2e5] * 5 + [1e7] * 5),  # window volume 1M: just met
    *regular("LATE", 100.0, 103.0, [2e5] * 4 + [199_999.0] + [1e7] * 5),  # only after the window
    *regular("FLAT", 100.0, 100.5, [1e6] * 10),
    *regular("DROP", 20.0, 19.0, [5e5] * 10),
    *yesterday("HALT", 10.0),
]


def test_opening_mode_uses_the_first_regular_bar_and_the_window_volume():
    universe = ["GAP", "LATE", "FLAT", "DROP", "HALT"]
    found, meta = scan_at(OPENING, f"{TODAY} 09:40", universe)
    assert found == ["DROP", "GAP"]
    assert meta["mode"] == "opening"
    assert meta["values"]["GAP"] == pytest.approx(
        {"gap_pct": 3.0, "prev_close": 100.0, "price": 103.0, "volume": 1e6}
    )
    assert meta["skipped_no_price"] == 1  # HALT has no bar in the window


def test_opening_window_length_and_volume_are_configurable():
    universe = ["GAP", "LATE", "FLAT", "DROP", "HALT"]
    found, _ = scan_at(OPENING, f"{TODAY} 09:40", universe, opening_minutes=6, direction="up")
    assert found == ["GAP", "LATE"]
    found, _ = scan_at(OPENING, f"{TODAY} 09:40", universe, opening_min_volume=3e6)
    assert found == []


def test_opening_scan_before_the_window_closes_finds_nothing_and_says_why():
    found, meta = scan_at(OPENING, f"{TODAY} 09:34", ["GAP", "DROP"])
    assert found == []
    assert meta["mode"] == "opening" and "has not closed" in meta["reason"]


def test_pre_market_mode_forced_without_pre_market_bars_finds_nothing():
    found, meta = scan_at(OPENING, f"{TODAY} 09:30", ["GAP", "DROP"], mode="pre_market")
    assert found == [] and meta["mode"] == "pre_market"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"min_gap_pct": -1}, "min_gap_pct"),
        ({"direction": "sideways"}, "direction"),
        ({"opening_minutes": 0}, "opening_minutes"),
        ({"max_price": 0}, "max_price"),
        ({"min_volme": 5}, "min_volme"),
    ],
)
def test_bad_settings_name_their_field(config, field):
    with pytest.raises(ConfigError, match=rf"scanners\[0\]\.config\.{field}"):
        GapScanner(config, path="scanners[0].config")
