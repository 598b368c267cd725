"""local_days: the same local dates as pandas' per-row conversion, on every input shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.local_time import local_days

ZONES = [
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Asia/Tokyo",
    "UTC",
]
#: Instants around which a zone above changes its offset (DST starts and ends).
PIVOTS = [
    "2019-03-10T07:00",
    "2019-11-03T06:00",
    "2019-03-31T01:00",
    "2019-10-27T01:00",
    "2019-04-06T15:00",
    "2019-10-05T15:30",
    "2019-03-10T05:30",
    "2019-12-31T23:59",
]


def pandas_days(ts: np.ndarray, tz: str) -> np.ndarray:
    """The reference: every row converted by pandas."""
    local = pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    return local.values.astype("datetime64[D]").astype(np.int64)


@st.composite
def stamps(draw: st.DrawFn) -> np.ndarray:
    """Bar-like times near an offset change: runs of repeated minutes, sorted or not."""
    pivot = np.datetime64(draw(st.sampled_from(PIVOTS)), "ns")
    minutes = draw(st.lists(st.integers(-1500, 1500), min_size=1, max_size=40))
    repeats = draw(st.integers(1, 12))
    seconds = draw(st.sampled_from([0, 0, 1, 59]))
    ts = pivot + np.repeat(np.array(minutes, "timedelta64[m]"), repeats)
    ts = ts + np.timedelta64(seconds, "s")
    if draw(st.booleans()):
        ts = np.sort(ts)
    return ts.astype("datetime64[ns]")


@settings(max_examples=300, deadline=None)
@given(ts=stamps(), tz=st.sampled_from(ZONES))
def test_local_days_match_pandas_around_offset_changes(ts: np.ndarray, tz: str) -> None:
    assert np.array_equal(local_days(ts, tz), pandas_days(ts, tz))


def test_a_day_of_minute_bars_for_many_symbols_is_dated_by_its_exchange() -> None:
    # the shape a warm-up reads: every minute of a session repeated for each symbol,
    # here the New York session on the Sunday DST starts (times cross midnight UTC)
    minutes = np.datetime64("2019-03-09T14:30", "ns") + np.arange(0, 3000, 1).astype(
        "timedelta64[m]"
    )
    ts = np.repeat(minutes, 50)
    got = local_days(ts, "America/New_York")
    assert np.array_equal(got, pandas_days(ts, "America/New_York"))
    assert len(np.unique(got)) == 3


def test_nat_and_times_before_1970_take_the_row_by_row_path() -> None:
    ts = np.array(["1883-11-18T17:03:00", "NaT", "2019-01-02T15:00"], "datetime64[ns]")
    ts = np.repeat(ts, 10)
    got = local_days(ts, "America/New_York")
    assert np.array_equal(got, pandas_days(ts, "America/New_York"))
    assert got[10] == np.iinfo(np.int64).min


def test_no_rows() -> None:
    assert local_days(np.empty(0, "datetime64[ns]"), "Asia/Tokyo").dtype == np.int64
