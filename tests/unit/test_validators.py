"""Settings validators: each failure is one config line naming the field, the value and the rule."""

from __future__ import annotations

import math

import pytest
from attrs import field, frozen
from hypothesis import given
from hypothesis import strategies as st

from scanner_core.config import ConfigError, Invalid, structure
from scanner_core.validators import (
    INTRADAY_INTERVALS,
    at_least,
    between,
    intraday_interval,
    one_of,
)


@frozen(kw_only=True)
class Settings:
    rsi_min: float = field(default=70.0, validator=between(0, 100))
    period: int = field(default=14, validator=at_least(1))
    fraction: float = field(default=0.5, validator=between(0, 1, open_low=True))
    above: float = field(default=1.0, validator=between(0.5, math.inf, open_low=True))
    side: str = field(default="buy", validator=one_of("buy", "sell"))
    interval: str = field(default="1m", validator=intraday_interval)


def problem(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        structure(config, Settings, "session.toml", "scanners[0].config")
    return str(info.value)


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ({"rsi_min": 101}, "rsi_min: got 101, expected a number from 0 to 100"),
        ({"rsi_min": -0.5}, "rsi_min: got -0.5, expected a number from 0 to 100"),
        ({"rsi_min": math.nan}, "rsi_min: got nan, expected a number from 0 to 100"),
        ({"period": 0}, "period: got 0, expected a number >= 1"),
        ({"fraction": 0}, "fraction: got 0, expected a number above 0 and at most 1"),
        ({"fraction": 1.5}, "fraction: got 1.5, expected a number above 0 and at most 1"),
        ({"above": 0.5}, "above: got 0.5, expected a number > 0.5"),
        ({"side": "hold"}, "side: got 'hold', expected one of 'buy', 'sell'"),
        (
            {"interval": "1d"},
            "interval: got '1d', expected an intraday bar interval (1m, 5m, 15m, 1h)",
        ),
        (
            {"interval": "2m"},
            "interval: got '2m', expected an intraday bar interval (1m, 5m, 15m, 1h)",
        ),
    ],
)
def test_a_failure_reads_as_one_config_line(config: dict, line: str) -> None:
    assert problem(config) == f"session.toml: scanners[0].config.{line}"


def test_every_bad_field_is_reported() -> None:
    lines = problem({"rsi_min": 101, "period": 0, "side": "x"}).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "scanners[0].config.rsi_min",
        "scanners[0].config.period",
        "scanners[0].config.side",
    ]


def test_bounds_are_inclusive_unless_the_low_end_is_open() -> None:
    settings = Settings(rsi_min=0, period=1, fraction=1, above=0.51)
    assert (settings.rsi_min, settings.period, settings.fraction) == (0, 1, 1)
    assert Settings(rsi_min=100).rsi_min == 100


def test_built_in_python_the_error_names_the_field() -> None:
    with pytest.raises(Invalid) as info:
        Settings(period="ten")
    assert (info.value.at, info.value.value) == ("period", "ten")
    assert str(info.value) == "period: expected a number >= 1, got 'ten'"


def test_one_of_does_not_take_a_bool_for_a_number() -> None:
    @frozen
    class Count:
        n: int = field(validator=one_of(1, 2))

    assert Count(1).n == 1
    with pytest.raises(Invalid, match="n: expected one of 1, 2, got True"):
        Count(True)


def test_intraday_intervals_exclude_the_daily_bar() -> None:
    assert "1d" not in INTRADAY_INTERVALS
    assert INTRADAY_INTERVALS == ("1m", "5m", "15m", "1h")


@given(st.floats(allow_nan=True), st.floats(-10, 10), st.floats(-10, 10), st.booleans())
def test_between_passes_exactly_the_numbers_in_range(
    value: float, low: float, high: float, open_low: bool
) -> None:
    inside = (low < value <= high) if open_low else (low <= value <= high)
    check = between(low, high, open_low=open_low)

    @frozen
    class One:
        x: float = field(validator=check)

    if inside:
        assert One(value).x == value
    else:
        with pytest.raises(Invalid):
            One(value)
