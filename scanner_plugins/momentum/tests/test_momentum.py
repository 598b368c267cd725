"""MomentumScanner on hand-built bars: each criterion just met and just missed.

Every scan runs through a real backtest (scanner_core.testing), forked and in process.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from scanner_momentum import MomentumScanner

from scanner_core import ScanContext
from scanner_core.config import ConfigError
from scanner_core.session import SessionData
from scanner_core.testing import BarBook, run_both

DAYS = ("2019-02-06", "2019-02-07", "2019-02-08")
YESTERDAY, TODAY = "2019-02-11", "2019-02-12"
#: Ten minutes after today's first bar: every minute bar below has closed.
AT = f"{TODAY} 09:40"
#: Small periods so three bars warm everything up: RSI(2), volume ratio(2), SMA(3 days).
SMALL = {"rsi_period": 2, "volume_ratio_period": 2, "sma_days": 3}
#: closes 10 -> 17 -> 14: average gain 3.5, loss 1.5, RSI exactly 70.
RSI_70 = (10.0, 17.0, 14.0)
#: volumes 100, 100, 200: the last is exactly 2x the mean of the two before.
RATIO_2 = (100.0, 100.0, 200.0)


def scan_of(
    book: BarBook,
    daily: dict[str, float],
    minutes: dict[str, tuple],
    start: dict[str, str] | None = None,
    symbols: tuple[str, ...] = (),
    **config,
):
    """Scan at AT after three daily bars closing at ``daily[s]`` and each symbol's minutes.

    ``minutes[s]`` is (closes, volumes), one bar a minute from 09:30 today, or from 09:30
    on the day ``start`` names for the symbol; bars have open = high = low = close. The
    scanner runs with SMALL periods updated by ``config``, over every stored symbol and
    ``symbols`` (in the session without any bar).
    """
    for symbol, close in daily.items():
        for day in DAYS:
            book.add(symbol, day, close, 1e6, open=close, interval="1d")
    for symbol, (closes, volumes) in minutes.items():
        day = (start or {}).get(symbol, TODAY)
        for i, (close, volume) in enumerate(zip(closes, volumes, strict=True)):
            book.add(symbol, f"{day} 09:{30 + i}", close, volume, open=close)
    universe = sorted({*daily, *minutes, *symbols})
    (scan,) = run_both(
        "momentum", book, [AT], universe=universe, symbols=symbols, config={**SMALL, **config}
    )
    return scan


def test_every_criterion_exactly_met_passes_with_its_values(bar_book):
    scan = scan_of(bar_book, {"A": 13.0}, {"A": (RSI_70, RATIO_2)})
    assert scan.symbols == ["A"]
    assert scan.metadata["values"]["A"] == {
        "rsi": 70.0,
        "volume_ratio": 2.0,
        "sma": 13.0,
        "close": 14.0,
    }
    assert scan.metadata["evaluated"] == 1 and scan.metadata["skipped_invalid"] == 0


@pytest.mark.parametrize(
    "setting",
    [{"rsi_min": np.nextafter(70.0, 100.0)}, {"volume_ratio_min": np.nextafter(2.0, 3.0)}],
)
def test_threshold_just_above_the_value_fails(setting, bar_book):
    assert scan_of(bar_book, {"A": 13.0}, {"A": (RSI_70, RATIO_2)}, **setting).symbols == []


def test_close_equal_to_the_sma_is_not_above_it(bar_book):
    scan = scan_of(
        bar_book, {"AT": 14.0, "UP": 13.99}, {s: (RSI_70, RATIO_2) for s in ("AT", "UP")}
    )
    assert scan.symbols == ["UP"]


def test_ranked_by_rsi_then_name(bar_book):
    scan = scan_of(
        bar_book,
        {"LOW": 1.0, "HIGH": 1.0, "ALSO": 1.0},
        {
            "LOW": (RSI_70, RATIO_2),
            "HIGH": ((10.0, 11.0, 12.0), RATIO_2),  # only gains: RSI 100
            "ALSO": ((10.0, 11.0, 12.0), RATIO_2),
        },
    )
    assert scan.symbols == ["ALSO", "HIGH", "LOW"]
    assert scan.metadata["values"]["HIGH"]["rsi"] == 100.0


def test_symbols_without_valid_indicators_are_skipped_and_counted(bar_book):
    scan = scan_of(
        bar_book,
        {"OK": 13.0, "NEW": 13.0},
        {"OK": (RSI_70, RATIO_2), "NEW": (RSI_70[1:], RATIO_2[1:]), "NODAILY": (RSI_70, RATIO_2)},
        symbols=("NOBARS",),
    )
    assert scan.symbols == ["OK"]
    assert scan.metadata["evaluated"] == 1
    assert scan.metadata["skipped_invalid"] == 3


def test_nan_volume_ratio_from_zero_volume_history_is_skipped(bar_book):
    scan = scan_of(bar_book, {"ZERO": 13.0}, {"ZERO": (RSI_70, (0.0, 0.0, 500.0))})
    assert scan.symbols == [] and scan.metadata["skipped_invalid"] == 1


def test_symbol_halted_today_is_not_found_on_yesterday_bars(bar_book):
    scan = scan_of(
        bar_book,
        {"LIVE": 13.0, "HALT": 13.0},
        {"LIVE": (RSI_70, RATIO_2), "HALT": (RSI_70, RATIO_2)},
        start={"HALT": YESTERDAY},
    )
    assert scan.symbols == ["LIVE"]
    assert scan.metadata["not_traded"] == 1


def test_setup_registers_the_history_its_indicators_need():
    data = SessionData()
    MomentumScanner({"sma_days": 30}).setup(ScanContext(data, None, "backtest", datetime.now(UTC)))
    needs = data.requirements.needs()
    assert needs["1d"].bars >= 30
    assert needs["1m"].bars >= 21  # volume ratio(20) needs 21 bars, RSI(14) 15 and more


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rsi_min": 101}, "config.rsi_min: got 101, expected a number from 0 to 100"),
        ({"rsi_period": 0}, "config.rsi_period: got 0, expected a number >= 1"),
        ({"volume_ratio_min": -1}, "config.volume_ratio_min: got -1, expected a number >= 0"),
        ({"interval": "2d"}, "config.interval: got '2d', expected a bar interval"),
        ({"rsi_mni": 60}, "config.rsi_mni: unknown key"),
    ],
)
def test_bad_settings_name_the_field(config, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        MomentumScanner(config)
