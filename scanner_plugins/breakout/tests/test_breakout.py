"""BreakoutScanner on hand-built bars: each criterion just met and just missed.

Every scan runs through a real backtest (scanner_core.testing), forked and in process.
"""

from __future__ import annotations

import numpy as np
import pytest
from scanner_breakout import BreakoutScanner

from scanner_core.config import ConfigError
from scanner_core.testing import BarBook, run_both

DAYS = ("2019-02-06", "2019-02-07", "2019-02-08")
YESTERDAY, TODAY = "2019-02-11", "2019-02-12"
#: Ten minutes after today's first bar: every minute bar below has closed.
AT = f"{TODAY} 09:40"
#: Three-day high, volume ratio over the two bars before the newest.
SMALL = {"high_days": 3, "volume_ratio_period": 2}
#: Daily highs 11, 12, 10: the prior 3-day high is 12.
HIGHS = (11.0, 12.0, 10.0)
#: Two quiet bars, then the breakout bar: open 12, low 12, high 15, close 14 (exactly the
#: lower edge of the top third), volume exactly the mean of the two before.
QUIET = ((10.0, 10.5, 9.5, 10.0, 100.0), (10.0, 10.5, 9.5, 10.0, 100.0))
BREAKOUT = (12.0, 15.0, 12.0, 14.0, 100.0)


def scan_of(
    book: BarBook, minutes: dict[str, tuple], start: dict[str, str] | None = None, **config
):
    """Scan at AT after the daily HIGHS for every symbol and its minute (o, h, l, c, v) bars.

    Minute bars run one a minute from 09:30 today, or from 09:30 on the day ``start``
    names for the symbol. The scanner runs with SMALL periods updated by ``config``.
    """
    for symbol, bars in minutes.items():
        for day, high in zip(DAYS, HIGHS, strict=True):
            book.add(
                symbol, day, high - 1, 1e6, open=high - 1, high=high, low=high - 2, interval="1d"
            )
        day = (start or {}).get(symbol, TODAY)
        for i, (open_, high, low, close, volume) in enumerate(bars):
            book.add(symbol, f"{day} 09:{30 + i}", close, volume, open=open_, high=high, low=low)
    (scan,) = run_both("breakout", book, [AT], universe=sorted(minutes), config={**SMALL, **config})
    return scan


def test_every_criterion_exactly_met_passes_with_its_values(bar_book):
    scan = scan_of(bar_book, {"A": (*QUIET, BREAKOUT)})
    assert scan.symbols == ["A"]
    values = scan.metadata["values"]["A"]
    assert values["breakout_pct"] == pytest.approx(100 * (14 / 12 - 1))
    assert (values["prior_high"], values["close"], values["volume_ratio"]) == (12.0, 14.0, 1.0)
    assert (values["open"], values["high"], values["low"]) == (12.0, 15.0, 12.0)
    assert scan.metadata["evaluated"] == 1 and scan.metadata["skipped_invalid"] == 0


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
def test_one_criterion_just_missed_fails(name, bar, bar_book):
    scan = scan_of(bar_book, {"A": (*QUIET, bar)})
    assert scan.symbols == [], name
    assert scan.metadata["evaluated"] == 1, name


@pytest.mark.parametrize(("just_under", "found"), [(True, ["A"]), (False, [])])
def test_minimum_breakout_is_a_strict_margin(just_under, found, bar_book):
    pct = 100 * (14 / 12 - 1)
    minimum = np.nextafter(pct, 0) if just_under else pct
    assert scan_of(bar_book, {"A": (*QUIET, BREAKOUT)}, min_breakout_pct=minimum).symbols == found


LOWER_CLOSE = (12.0, 15.0, 12.0, 13.0, 150.0)  # top two thirds, volume 1.5x


@pytest.mark.parametrize(
    ("bar", "config", "found"),
    [
        (LOWER_CLOSE, {}, []),
        (LOWER_CLOSE, {"candle_top_fraction": 2 / 3}, ["A"]),
        (BREAKOUT, {"volume_ratio_min": 1.5}, []),
    ],
)
def test_top_fraction_and_volume_thresholds_are_configurable(bar, config, found, bar_book):
    assert scan_of(bar_book, {"A": (*QUIET, bar)}, **config).symbols == found


def test_ranked_by_percent_above_the_prior_high(bar_book):
    further = (12.0, 16.0, 12.0, 16.0, 300.0)
    scan = scan_of(bar_book, {"NEAR": (*QUIET, BREAKOUT), "FAR": (*QUIET, further)})
    assert scan.symbols == ["FAR", "NEAR"]


def test_symbols_without_valid_indicators_or_bars_are_skipped_and_counted(bar_book):
    scan = scan_of(bar_book, {"OK": (*QUIET, BREAKOUT), "SHORT": (BREAKOUT,), "NONE": ()})
    assert scan.symbols == ["OK"]
    assert scan.metadata["skipped_invalid"] == 2 and scan.metadata["evaluated"] == 1


def test_symbol_halted_today_is_not_found_on_yesterday_bars(bar_book):
    scan = scan_of(
        bar_book,
        {"LIVE": (*QUIET, BREAKOUT), "HALT": (*QUIET, BREAKOUT)},
        start={"HALT": YESTERDAY},
    )
    assert scan.symbols == ["LIVE"]
    assert scan.metadata["not_traded"] == 1


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
