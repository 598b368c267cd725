"""MomentumScanner on hand-built bars: each criterion just met and just missed."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from scanner_momentum import MomentumScanner

from scanner_core import ScanContext
from scanner_core.bars import Bars
from scanner_core.config import ConfigError
from scanner_core.session import SessionData

DAYS = np.array(["2019-02-06", "2019-02-07", "2019-02-08"], dtype="datetime64[ns]")
YESTERDAY = np.datetime64("2019-02-11T14:30", "ns")
TODAY = np.datetime64("2019-02-12T14:30", "ns")
MINUTE = np.timedelta64(1, "m")
#: Small periods so three bars warm everything up: RSI(2), volume ratio(2), SMA(3 days).
SMALL = {"rsi_period": 2, "volume_ratio_period": 2, "sma_days": 3}
#: closes 10 -> 17 -> 14: average gain 3.5, loss 1.5, RSI exactly 70.
RSI_70 = (10.0, 17.0, 14.0)
#: volumes 100, 100, 200: the last is exactly 2x the mean of the two before.
RATIO_2 = (100.0, 100.0, 200.0)


def bars(interval: str, rows: list[tuple[np.datetime64, str, float, float]]) -> Bars:
    """Bars of (ts, symbol, close, volume) rows with open = high = low = close."""
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    symbols = tuple(sorted({r[1] for r in rows}))
    close = np.array([r[2] for r in rows])
    return Bars(
        interval,
        symbols,
        np.array([symbols.index(r[1]) for r in rows], np.int32),
        np.array([r[0] for r in rows], "datetime64[ns]"),
        close,
        close,
        close,
        close,
        np.array([r[3] for r in rows]),
    )


def session_of(
    daily: dict[str, float],
    minutes: dict[str, tuple],
    start: dict[str, np.datetime64] | None = None,
    **config,
) -> tuple[SessionData, MomentumScanner]:
    """Three daily bars closing at ``daily[s]`` each, then each symbol's (closes, volumes) minutes.

    The scanner (SMALL periods, updated by ``config``) is set up before any bar arrives.
    Minutes start at TODAY unless ``start`` names another time for the symbol.
    """
    data = SessionData()
    data.add_symbols(sorted({*daily, *minutes}))
    scanner = MomentumScanner({**SMALL, **config})
    assert scanner.setup(ScanContext(data, None, "backtest", datetime(2019, 2, 6, tzinfo=UTC)))
    data.replay(bars("1d", [(d, s, c, 1e6) for s, c in daily.items() for d in DAYS]))
    rows = []
    for s, (closes, volumes) in minutes.items():
        t0 = (start or {}).get(s, TODAY)
        rows += [
            (t0 + i * MINUTE, s, c, v) for i, (c, v) in enumerate(zip(closes, volumes, strict=True))
        ]
    data.replay(bars("1m", rows))
    data.set_time(TODAY + 10 * MINUTE)
    return data, scanner


def scan(built: tuple[SessionData, MomentumScanner]):
    data, scanner = built
    return scanner.scan(ScanContext(data, None, "backtest", data.current_time.to_pydatetime()))


def test_every_criterion_exactly_met_passes_with_its_values():
    result = scan(session_of({"A": 13.0}, {"A": (RSI_70, RATIO_2)}))
    assert result.symbols == ["A"]
    assert result.metadata["values"]["A"] == {
        "rsi": 70.0,
        "volume_ratio": 2.0,
        "sma": 13.0,
        "close": 14.0,
    }
    assert result.metadata["evaluated"] == 1 and result.metadata["skipped_invalid"] == 0


@pytest.mark.parametrize(
    "setting",
    [{"rsi_min": np.nextafter(70.0, 100.0)}, {"volume_ratio_min": np.nextafter(2.0, 3.0)}],
)
def test_threshold_just_above_the_value_fails(setting):
    assert scan(session_of({"A": 13.0}, {"A": (RSI_70, RATIO_2)}, **setting)).symbols == []


def test_close_equal_to_the_sma_is_not_above_it():
    built = session_of({"AT": 14.0, "UP": 13.99}, {s: (RSI_70, RATIO_2) for s in ("AT", "UP")})
    assert scan(built).symbols == ["UP"]


def test_ranked_by_rsi_then_name():
    built = session_of(
        {"LOW": 1.0, "HIGH": 1.0, "ALSO": 1.0},
        {
            "LOW": (RSI_70, RATIO_2),
            "HIGH": ((10.0, 11.0, 12.0), RATIO_2),  # only gains: RSI 100
            "ALSO": ((10.0, 11.0, 12.0), RATIO_2),
        },
    )
    result = scan(built)
    assert result.symbols == ["ALSO", "HIGH", "LOW"]
    assert result.metadata["values"]["HIGH"]["rsi"] == 100.0


def test_symbols_without_valid_indicators_are_skipped_and_counted():
    built = session_of(
        {"OK": 13.0, "NEW": 13.0},
        {"OK": (RSI_70, RATIO_2), "NEW": (RSI_70[1:], RATIO_2[1:]), "NODAILY": (RSI_70, RATIO_2)},
    )
    built[0].add_symbols(["NOBARS"])
    result = scan(built)
    assert result.symbols == ["OK"]
    assert result.metadata["evaluated"] == 1
    assert result.metadata["skipped_invalid"] == 3


def test_nan_volume_ratio_from_zero_volume_history_is_skipped():
    built = session_of({"ZERO": 13.0}, {"ZERO": (RSI_70, (0.0, 0.0, 500.0))})
    result = scan(built)
    assert result.symbols == [] and result.metadata["skipped_invalid"] == 1


def test_symbol_halted_today_is_not_found_on_yesterday_bars():
    built = session_of(
        {"LIVE": 13.0, "HALT": 13.0},
        {"LIVE": (RSI_70, RATIO_2), "HALT": (RSI_70, RATIO_2)},
        start={"HALT": YESTERDAY},
    )
    result = scan(built)
    assert result.symbols == ["LIVE"]
    assert result.metadata["not_traded"] == 1


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
