"""Requirement analyzer: needs per interval and their start times on the exchange calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scanner_core.indicators import IndicatorConfig
from scanner_core.requirements import (
    Need,
    RequirementAnalyzer,
    history_start,
    parse_requirements,
)


class ListedSessions:
    """A calendar given as an explicit list of trading dates."""

    def __init__(self, days: list[dt.date]) -> None:
        self.days = days

    def sessions(self, start: dt.date, end: dt.date) -> list[dt.date]:
        return [d for d in self.days if start <= d <= end]


# 2019-02-11..15 is a full week; 2019-02-18 is Presidents' Day
WEEK = ListedSessions([dt.date(2019, 2, d) for d in (4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 19)])
NOON_WED = pd.Timestamp("2019-02-13 12:00", tz="America/New_York")


def test_needs_take_the_largest_request_per_interval():
    r = RequirementAnalyzer()
    r.add_indicator(IndicatorConfig("sma", 20, "1d"))
    r.add_indicator(IndicatorConfig("sma", 50, "1d"), symbols=["AAPL"])
    r.add_indicator(IndicatorConfig("prev_close", 1, "1m"))
    r.add_requirements({"history": {"1d": 30, "5m": 12}})
    assert r.needs() == {"1d": Need(50), "1m": Need(1, 2), "5m": Need(12)}
    assert r.needs("MSFT")["1d"] == Need(30)
    assert r.needs("AAPL")["1d"] == Need(50)


def test_recursive_indicators_ask_for_seed_decay():
    r = RequirementAnalyzer()
    r.add_indicator(IndicatorConfig("ema", 10, "1d"))
    assert r.needs()["1d"].bars > 10 * 10


def test_daily_start_counts_sessions_before_today():
    start = history_start(NOON_WED, "1d", Need(3), WEEK)
    assert start == np.datetime64("2019-02-08", "ns")


def test_intraday_start_covers_the_bars_and_the_current_session():
    # 400 one-minute bars: a full session (390) plus today's, from Tuesday's midnight
    start = history_start(NOON_WED, "1m", Need(400), WEEK)
    assert start == np.datetime64("2019-02-11T05:00", "ns")
    assert history_start(NOON_WED, "1m", Need(0, 1), WEEK) == np.datetime64(
        "2019-02-13T05:00", "ns"
    )


def test_starts_uses_the_exchange_calendar_by_default():
    r = RequirementAnalyzer()
    r.add_requirements({"history": {"1d": 1}})
    # Tuesday after Presidents' Day: the previous session is the Friday before
    starts = r.starts(pd.Timestamp("2019-02-19 15:00", tz="UTC"))
    assert starts == {"1d": np.datetime64("2019-02-15", "ns")}


@pytest.mark.parametrize(
    ("requirements", "message"),
    [
        ({"history": [30]}, r"symbol_requirements\.history: expected a table"),
        ({"history": {"2m": 3}}, r"history\.2m: unknown interval"),
        ({"history": {"1d": -1}}, r"history\.1d: expected a bar count"),
        ({"history": {"1d": True}}, r"history\.1d: expected a bar count"),
    ],
)
def test_bad_requirements_name_the_field(requirements, message):
    with pytest.raises(ValueError, match=message):
        parse_requirements(requirements)


def test_unknown_indicator_is_rejected_by_name():
    with pytest.raises(ValueError, match="'macd'"):
        RequirementAnalyzer().add_indicator(IndicatorConfig("macd"))
