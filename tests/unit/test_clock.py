"""The session clock and the wall clock beside it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from scanner_core.calendar import TimeManager
from scanner_core.clock import SessionClock, WallClock
from scanner_core.session import SessionData

NY = dt.timezone(dt.timedelta(hours=-5))


def test_session_clock_only_moves_forward() -> None:
    clock = SessionClock()
    assert clock.now() is None and clock.now64 is None
    assert clock.advance(dt.datetime(2019, 2, 12, 9, 30, tzinfo=NY))
    assert not clock.advance(dt.datetime(2019, 2, 12, 9, 0, tzinfo=NY))
    assert clock.now() == dt.datetime(2019, 2, 12, 14, 30, tzinfo=dt.UTC)
    assert clock.now64 == np.datetime64("2019-02-12T14:30", "ns")


def test_calendar_and_session_read_the_one_clock() -> None:
    clock = SessionClock()
    tm = TimeManager("XNYS", clock=clock)
    session = SessionData(calendar=tm, clock=clock)
    clock.advance(dt.datetime(2019, 2, 12, 15, 0, tzinfo=dt.UTC))
    assert tm.now() == dt.datetime(2019, 2, 12, 10, 0, tzinfo=tm.tz)
    assert session.current_time.to_pydatetime() == clock.now()
    tm.set_time(dt.datetime(2019, 2, 12, 11, 0))
    assert session.current_time.hour == 16
    with pytest.raises(ValueError, match="cannot go back"):
        tm.set_time(dt.datetime(2019, 2, 12, 10, 0))


def test_wall_clock_runs_at_its_speed_from_its_origin() -> None:
    ticks = iter([100.0, 101.0, 101.0, 102.5])
    origin = dt.datetime(2019, 2, 12, 14, 30, tzinfo=dt.UTC)
    clock = WallClock(60, origin, monotonic=lambda: next(ticks))
    assert clock.now() == origin + dt.timedelta(minutes=1)
    assert clock.seconds_until(origin + dt.timedelta(minutes=2)) == pytest.approx(1.0)
    assert clock.now() == origin + dt.timedelta(minutes=2.5)
    with pytest.raises(ValueError, match="speed"):
        WallClock(0)
