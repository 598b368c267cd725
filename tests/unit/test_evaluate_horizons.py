"""Horizons parse from a comma list; a bad one is one error naming it."""

import pytest

from scanner_core.evaluate.horizons import (
    DEFAULT_HORIZONS,
    Horizon,
    HorizonError,
    parse_horizons,
)


def test_default_horizons():
    assert parse_horizons(DEFAULT_HORIZONS) == (
        Horizon("5m", minutes=5),
        Horizon("15m", minutes=15),
        Horizon("30m", minutes=30),
        Horizon("1h", minutes=60),
        Horizon("close"),
        Horizon("1d", sessions=1),
        Horizon("5d", sessions=5),
    )


def test_spaces_and_case_are_forgiven():
    assert [h.name for h in parse_horizons(" 2H, Close ,10m")] == ["2h", "close", "10m"]


@pytest.mark.parametrize("text", ["7x", "0m", "", "5m,5m", "-1d", "1.5h"])
def test_a_bad_horizon_is_named(text):
    with pytest.raises(HorizonError, match="horizon"):
        parse_horizons(text)
