"""GapScanner on hand-built minute bars: each criterion just met and just missed, both modes.

Every scan runs through a real backtest (scanner_core.testing), forked and in process.
"""

from __future__ import annotations

import pytest
from scanner_gap import GapScanner

from scanner_core.config import ConfigError
from scanner_core.testing import BarBook, run_both

YESTERDAY, TODAY = "2024-01-03", "2024-01-04"


def yesterday(symbol: str, close: float) -> list[tuple]:
    """Two regular-session bars yesterday ending at ``close``."""
    return [
        (symbol, f"{YESTERDAY} 15:58", close, close, 1e5),
        (symbol, f"{YESTERDAY} 15:59", close, close, 1e5),
    ]


def scan_at(book: BarBook, rows: list[tuple], at: str, universe: list[str], **config) -> tuple:
    """Store (symbol, local start, open, close, volume) rows and scan at ``at``, both ways."""
    for symbol, when, open_, close, volume in rows:
        book.add(symbol, when, close, volume, open=open_)
    (scan,) = run_both("gap", book, [at], universe=universe, config=config)
    return scan.symbols, scan.metadata


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


def test_pre_market_gaps_both_directions_ranked_by_size(bar_book):
    found, meta = scan_at(bar_book, PRE_MARKET, f"{TODAY} 09:30", UNIVERSE)
    assert found == ["CAP", "DOWN", "UP"]
    assert meta["mode"] == "pre_market"
    assert meta["values"]["UP"] == pytest.approx(
        {"gap_pct": 2.0, "prev_close": 100.0, "price": 102.0, "volume": 1e6}
    )
    assert meta["values"]["DOWN"]["gap_pct"] == pytest.approx(-2.0)
    assert meta["skipped_invalid"] == 1  # NEW has no previous close
    assert meta["evaluated"] == len(UNIVERSE) - 1


@pytest.mark.parametrize(("direction", "expected"), [("up", ["CAP", "UP"]), ("down", ["DOWN"])])
def test_direction_selects_up_or_down_gaps(direction, expected, bar_book):
    assert (
        scan_at(bar_book, PRE_MARKET, f"{TODAY} 09:30", UNIVERSE, direction=direction)[0]
        == expected
    )


def test_thresholds_are_configurable(bar_book):
    found, _ = scan_at(
        bar_book,
        PRE_MARKET,
        f"{TODAY} 09:30",
        UNIVERSE,
        min_gap_pct=1.5,
        min_volume=9e5,
        max_price=600,
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


def test_opening_mode_uses_the_first_regular_bar_and_the_window_volume(bar_book):
    universe = ["GAP", "LATE", "FLAT", "DROP", "HALT"]
    found, meta = scan_at(bar_book, OPENING, f"{TODAY} 09:40", universe)
    assert found == ["DROP", "GAP"]
    assert meta["mode"] == "opening"
    assert meta["values"]["GAP"] == pytest.approx(
        {"gap_pct": 3.0, "prev_close": 100.0, "price": 103.0, "volume": 1e6}
    )
    assert meta["skipped_no_price"] == 1  # HALT has no bar in the window


def test_opening_window_length_and_volume_are_configurable(bar_book):
    universe = ["GAP", "LATE", "FLAT", "DROP", "HALT"]
    found, _ = scan_at(
        bar_book, OPENING, f"{TODAY} 09:40", universe, opening_minutes=6, direction="up"
    )
    assert found == ["GAP", "LATE"]
    found, _ = scan_at(bar_book, OPENING, f"{TODAY} 09:40", universe, opening_min_volume=3e6)
    assert found == []


def test_opening_scan_before_the_window_closes_finds_nothing_and_says_why(bar_book):
    found, meta = scan_at(bar_book, OPENING, f"{TODAY} 09:34", ["GAP", "DROP"])
    assert found == []
    assert meta["mode"] == "opening" and "has not closed" in meta["reason"]


def test_pre_market_mode_forced_without_pre_market_bars_finds_nothing(bar_book):
    found, meta = scan_at(bar_book, OPENING, f"{TODAY} 09:30", ["GAP", "DROP"], mode="pre_market")
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
