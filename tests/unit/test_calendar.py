"""TimeManager: XNYS sessions, holidays, early closes, DST and the session clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from scanner_core.calendar import TimeManager

NY = ZoneInfo("America/New_York")
UTC = dt.UTC


@pytest.fixture(scope="module")
def tm() -> TimeManager:
    return TimeManager("XNYS", "backtest")


@pytest.mark.parametrize(
    "holiday",
    [dt.date(2019, 1, 1), dt.date(2018, 7, 4), dt.date(2019, 2, 18), dt.date(2018, 12, 5)],
    ids=["new-year", "independence", "presidents", "bush-mourning"],
)
def test_holidays_are_not_sessions(tm: TimeManager, holiday: dt.date) -> None:
    assert not tm.is_session(holiday)
    assert holiday not in tm.sessions(
        holiday - dt.timedelta(days=3), holiday + dt.timedelta(days=3)
    )
    with pytest.raises(ValueError, match="is not a XNYS session"):
        tm.open_close(holiday)


def test_sessions_skip_weekends_and_holidays(tm: TimeManager) -> None:
    days = tm.sessions(dt.date(2019, 2, 11), dt.date(2019, 2, 22))

    assert days == [dt.date(2019, 2, d) for d in (11, 12, 13, 14, 15, 19, 20, 21, 22)]
    assert tm.next_session(dt.date(2019, 2, 15)) == dt.date(2019, 2, 19)
    assert len(tm.sessions(dt.date(2019, 1, 1), dt.date(2019, 12, 31))) == 252


@pytest.mark.parametrize("day", [dt.date(2018, 7, 3), dt.date(2019, 11, 29), dt.date(2019, 12, 24)])
def test_early_closes_end_at_one_pm(tm: TimeManager, day: dt.date) -> None:
    open_, close = tm.open_close(day)

    assert tm.is_early_close(day)
    assert (open_.time(), close.time()) == (dt.time(9, 30), dt.time(13, 0))
    assert close.tzinfo is not None and close.utcoffset() == dt.timedelta(
        hours=-5 if day.month > 10 else -4
    )
    assert tm.after_hours(day) == (close, dt.datetime(day.year, day.month, day.day, 20, tzinfo=NY))


def test_a_normal_day_is_not_an_early_close(tm: TimeManager) -> None:
    assert not tm.is_early_close(dt.date(2019, 2, 12))
    assert tm.open_close(dt.date(2019, 2, 12))[1].time() == dt.time(16, 0)


def test_dst_moves_the_open_in_utc_but_not_in_exchange_time(tm: TimeManager) -> None:
    before, _ = tm.open_close(dt.date(2019, 3, 8))
    after, _ = tm.open_close(dt.date(2019, 3, 11))

    assert before.astimezone(UTC).time() == dt.time(14, 30)
    assert after.astimezone(UTC).time() == dt.time(13, 30)
    assert before.time() == after.time() == dt.time(9, 30)
    assert tm.open_close_seconds(dt.date(2019, 3, 11))[0] == int(after.timestamp())


def test_market_windows(tm: TimeManager) -> None:
    day = dt.date(2019, 2, 12)
    at = lambda h, m: dt.datetime(2019, 2, 12, h, m, tzinfo=NY)  # noqa: E731

    assert tm.pre_market(day) == (at(4, 0), at(9, 30))
    assert tm.regular(day) == (at(9, 30), at(16, 0))
    assert [
        tm.window(at(h, m)) for h, m in [(3, 59), (4, 0), (9, 30), (15, 59), (16, 0), (20, 0)]
    ] == [
        "closed",
        "pre_market",
        "regular",
        "regular",
        "after_hours",
        "closed",
    ]
    # 14:45 UTC is 09:45 in New York in February: regular hours.
    assert tm.window(dt.datetime(2019, 2, 12, 14, 45, tzinfo=UTC)) == "regular"
    assert tm.window(dt.datetime(2019, 2, 18, 10, 0, tzinfo=NY)) == "closed"


def test_backtest_clock_is_simulated_and_never_goes_back() -> None:
    tm = TimeManager(mode="backtest")
    with pytest.raises(RuntimeError, match="not set"):
        tm.now()

    tm.set_time(dt.datetime(2019, 2, 12, 9, 30))
    assert tm.now() == dt.datetime(2019, 2, 12, 9, 30, tzinfo=NY)
    tm.advance_to(dt.datetime(2019, 2, 12, 15, 0, tzinfo=UTC))
    assert tm.now() == dt.datetime(2019, 2, 12, 10, 0, tzinfo=NY)
    with pytest.raises(ValueError, match="cannot go back"):
        tm.advance_to(dt.datetime(2019, 2, 12, 9, 59, tzinfo=NY))
    assert tm.now() == dt.datetime(2019, 2, 12, 10, 0, tzinfo=NY)


def test_live_clock_is_the_wall_clock() -> None:
    tm = TimeManager(mode="live")
    before = dt.datetime.now(UTC)
    now = tm.now()

    assert before <= now <= dt.datetime.now(UTC)
    assert now.tzinfo == NY
    with pytest.raises(RuntimeError, match="cannot be set"):
        tm.set_time(now)


def test_bad_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 'backtest' or 'live'"):
        TimeManager(mode="paper")  # type: ignore[arg-type]


def test_streamed_bars_run_from_the_pre_market_start_to_the_close():
    tm = TimeManager()
    starts = {
        "2019-02-11T08:59": False,  # 03:59 New York
        "2019-02-11T09:00": True,  # 04:00, pre-market
        "2019-02-11T20:59": True,  # 15:59, the last regular minute
        "2019-02-11T21:00": False,  # 16:00, after hours
        "2018-07-03T16:59": True,  # 12:59 on an early-close day
        "2018-07-03T17:00": False,  # 13:00, after that close
        "2019-02-18T15:00": False,  # Presidents Day
        "2019-03-11T08:00": True,  # 04:00 EDT after the DST change
        "2019-03-11T07:59": False,
    }
    ts = np.array(list(starts), dtype="datetime64[ns]")
    assert tm.streamed(ts).tolist() == list(starts.values())


@pytest.mark.parametrize(
    ("calendar", "local", "inside"),
    [
        ("XNYS", "2019-02-11 03:59", False),
        ("XNYS", "2019-02-11 04:00", True),
        ("XNYS", "2019-02-11 19:59", True),
        ("XNYS", "2019-02-11 20:00", False),
        ("XNYS", "2019-02-09 10:00", False),  # a Saturday
        ("XNYS", "2019-12-25 10:00", False),  # Christmas
        ("XLON", "2019-12-26 10:00", False),  # Boxing Day
        ("XLON", "2019-07-01 12:00", True),
    ],
)
def test_extended_hours_is_vectorized_over_utc_bar_starts(calendar, local, inside):
    tm = TimeManager(calendar)
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=tm.tz).astimezone(dt.UTC)
    ts = np.array([moment.replace(tzinfo=None)], "datetime64[ns]")
    assert tm.in_session_hours(ts).tolist() == [inside]
    both = np.concatenate([ts, ts, np.array(["NaT"], "datetime64[ns]")])
    assert tm.in_session_hours(both).tolist() == [inside, inside, False]
