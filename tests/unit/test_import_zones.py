"""Zone shifts of imported stamps: the quarter-hour tables agree with pandas everywhere,
DST changes, zones with half-hour shifts and NaT included."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.import_zones import utc_to_wall, wall_to_utc

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]
# minutes from 2019-01-01 over two years: every DST change of these zones in between
minutes = st.lists(st.integers(0, 2 * 366 * 24 * 60), max_size=40)


def stamps(values: list[int]) -> np.ndarray:
    base = np.datetime64("2019-01-01T00:00", "ns")
    return base + np.array(values, "timedelta64[m]").astype("timedelta64[ns]")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ZONES), minutes, st.booleans())
def test_shifts_agree_with_pandas(tz, values, with_nat):
    ts = stamps(values)
    if with_nat and len(ts):
        ts[0] = np.datetime64("NaT")
    index = pd.DatetimeIndex(ts)
    utc = index.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").tz_convert(None)
    np.testing.assert_array_equal(wall_to_utc(ts, tz), utc.to_numpy())
    wall = index.tz_localize("UTC").tz_convert(tz).tz_localize(None)
    np.testing.assert_array_equal(utc_to_wall(ts, tz), wall.to_numpy())


def test_spring_gap_and_autumn_repeat_are_nat_in_new_york():
    ts = np.array(["2019-03-10T02:30", "2019-11-03T01:30", "2019-11-03T03:00"], "datetime64[ns]")
    got = wall_to_utc(ts, "America/New_York")
    assert np.isnat(got[:2]).all()
    assert got[2] == np.datetime64("2019-11-03T08:00", "ns")
