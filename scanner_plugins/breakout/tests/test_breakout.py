"""BreakoutScanner on hand-built bars: each criterion just met and just missed."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from scanner_breakout import BreakoutScanner

from scanner_core import ScanContext
from scanner_core.bars import Bars
from scanner_core.config import ConfigError
from scanner_core.session import SessionData

DAYS = np.array(["2019-02-06", "2019-02-07", "2019-02-08"], dtype="datetime64[ns]")
YESTERDAY = np.datetime64("2019-02-11T14:30", "ns")
TODAY = np.datetime64("2019-02-12T14:30", "ns")
MINUTE = np.timedelta64(1, "m")
#: Three-day high, volume ratio over the two bars before the newest.
SMALL = {"high_days": 3, "volume_ratio_period": 2}
#: Daily highs 11, 12, 10: the prior 3-day high is 12.
HIGHS = (11.0, 12.0, 10.0)
#: Two quiet bars, then the breakout bar: open 12, low 12, high 15, close 14 (exactly the
#: lower edge of the top third), volume exactly the mean of the two before.
QUIET = ((10.0, 10.5, 9.5, 10.0, 100.0), (10.0, 10.5, 9.5, 10.0, 100.0))
BREAKOUT = (12.0, 15.0, 12.0, 14.0, 100.0)


def bars(interval: str, rows: list[tuple]) -> Bars:
    """Bars of (ts, symbol, open, high, low, close, volume) rows."""
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    symbols = tuple(sorted({r[1] for r in rows}))
    columns = np.array([r[2:] for r in rows], float).reshape(-1, 5).T
    return Bars(
        interval,
        symbols,
        np.array([symbols.index(r[1]) for r in rows], np.int32),
        np.array([r[0] for r in rows], "datetime64[ns]"),
        *columns,
    )


def scan_of(
    minutes: dict[str, tuple], start: dict[str, np.datetime64] | None = None, **config
) -> object:
    """Scan after the daily HIGHS for every symbol and each symbol's minute (o, h, l, c, v) bars.

    The scanner (SMALL periods, updated by ``config``) is set up before any bar arrives;
    minutes start at TODAY unless ``start`` names another time for the symbol.
    """
    data = SessionData()
    data.add_symbols(sorted(minutes))
    scanner = BreakoutScanner({**SMALL, **config})
    assert scanner.setup(ScanContext(data, None, "backtest", datetime(2019, 2, 6, tzinfo=UTC)))
    daily = [
        (d, s, h - 1, h, h - 2, h - 1, 1e6)
        for s in minutes
        for d, h in zip(DAYS, HIGHS, strict=True)
    ]
    data.replay(bars("1d", daily))
    rows = []
    for s, ohlcv in minutes.items():
        t0 = (start or {}).get(s, TODAY)
        rows += [(t0 + i * MINUTE, s, *bar) for i, bar in enumerate(ohlcv)]
    data.replay(bars("1m", rows))
    data.set_time(TODAY + 10 * MINUTE)
    return scanner.scan(ScanContext(data, None, "backtest", data.current_time.to_pydatetime()))


def test_every_criterion_exactly_met_passes_with_its_values():
    result = scan_of({"A": (*QUIET, BREAKOUT)})
    assert result.symbols == ["A"]
    values = result.metadata["values"]["A"]
    assert values["breakout_pct"] == pytest.approx(100 * (14 / 12 - 1))
    assert (values["prior_high"], values["close"], values["volume_ratio"]) == (12.0, 14.0, 1.0)
    assert result.metadata["evaluated"] == 1 and result.metadata["skipped_invalid"] == 0


@pytest.mark.parametrize(
    ("name", "bar"),
    [
        ("at the prior high", (11.0, 12.5, 10.0, 12.0, 100.0)),
        ("volume just under the average", (12.0, 15.0, 12.0, 14.0, np.nextafter(100.0, 0.0))),
        ("close below the top third", (12.0, 15.0, 12.0, np.nextafter(14.0, 0.0), 100.0)),
        ("close equal to open", (14.0, 15.0, 12.0, 14.0, 100.0)),
        ("zero range", (12.5, 12.5, 12.5, 12.5, 100.0)),
    ],
)
def test_one_criterion_just_missed_fails(name, bar):
    assert scan_of({"A": (*QUIET, bar)}).symbols == [], name


def test_minimum_breakout_is_a_strict_margin():
    pct = 100 * (14 / 12 - 1)
    assert scan_of({"A": (*QUIET, BREAKOUT)}, min_breakout_pct=np.nextafter(pct, 0)).symbols
    assert scan_of({"A": (*QUIET, BREAKOUT)}, min_breakout_pct=pct).symbols == []


def test_top_fraction_and_volume_thresholds_are_configurable():
    lower_close = (12.0, 15.0, 12.0, 13.0, 150.0)  # top two thirds, volume 1.5x
    assert scan_of({"A": (*QUIET, lower_close)}).symbols == []
    assert scan_of({"A": (*QUIET, lower_close)}, candle_top_fraction=2 / 3).symbols == ["A"]
    assert scan_of({"A": (*QUIET, BREAKOUT)}, volume_ratio_min=1.5).symbols == []


def test_ranked_by_percent_above_the_prior_high():
    further = (12.0, 16.0, 12.0, 16.0, 300.0)
    result = scan_of({"NEAR": (*QUIET, BREAKOUT), "FAR": (*QUIET, further)})
    assert result.symbols == ["FAR", "NEAR"]


def test_symbols_without_valid_indicators_or_bars_are_skipped_and_counted():
    result = scan_of({"OK": (*QUIET, BREAKOUT), "SHORT": (BREAKOUT,), "NONE": ()})
    assert result.symbols == ["OK"]
    assert result.metadata["skipped_invalid"] == 2 and result.metadata["evaluated"] == 1


def test_symbol_halted_today_is_not_found_on_yesterday_bars():
    result = scan_of(
        {"LIVE": (*QUIET, BREAKOUT), "HALT": (*QUIET, BREAKOUT)}, start={"HALT": YESTERDAY}
    )
    assert result.symbols == ["LIVE"]
    assert result.metadata["not_traded"] == 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"high_days": 0}, "config.high_days: got 0, expected a number >= 1"),
        (
            {"candle_top_fraction": 0},
            "config.candle_top_fraction: got 0, expected a number above 0",
        ),
        ({"candle_top_fraction": 1.5}, "got 1.5, expected a number above 0 and at most 1"),
        ({"min_breakout_pct": -1}, "config.min_breakout_pct: got -1, expected a number >= 0"),
        ({"interval": "2d"}, "config.interval: got '2d', expected a bar interval"),
    ],
)
def test_bad_settings_name_the_field(config, message):
    with pytest.raises(ConfigError, match=message):
        BreakoutScanner(config)
