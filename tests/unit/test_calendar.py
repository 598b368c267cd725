"""TimeManager: XNYS sessions, holidays, early closes, DST and the session clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


XTKS = TimeManager("XTKS")
XLON = TimeManager("XLON")


def local_ts(tm: TimeManager, *stamps: str) -> np.ndarray:
    """Exchange-local wall-clock stamps as UTC datetime64[ns] bar starts."""
    moments = [dt.datetime.fromisoformat(s).replace(tzinfo=tm.tz) for s in stamps]
    return np.array([m.astimezone(UTC).replace(tzinfo=None) for m in moments], "datetime64[ns]")


def wall(tm: TimeManager, ts: np.ndarray) -> list[str]:
    """UTC datetime64 values as exchange-local "HH:MM"."""
    seconds = ts.astype("datetime64[s]").astype(np.int64).tolist()
    return [dt.datetime.fromtimestamp(s, tm.tz).strftime("%H:%M") for s in seconds]


@pytest.mark.parametrize(
    ("day", "close"),
    [(dt.date(2024, 11, 1), dt.time(15, 0)), (dt.date(2024, 11, 5), dt.time(15, 30))],
    ids=["before-the-move", "after-the-move"],
)
def test_tokyo_closes_at_1500_then_1530_with_a_lunch_break(day, close):
    open_, end = XTKS.open_close(day)
    assert (open_.time(), end.time()) == (dt.time(9, 0), close)
    assert [t.time() for t in XTKS.lunch_break(day)] == [dt.time(11, 30), dt.time(12, 30)]
    assert not XTKS.is_early_close(day)
    # five hours of trading, then five and a half; the median of the last year is the latter
    assert XTKS.regular_minutes() == 330


def test_tokyo_and_london_have_no_pre_market_or_after_hours():
    for tm, day in ((XTKS, dt.date(2024, 11, 5)), (XLON, dt.date(2019, 12, 23))):
        open_, close = tm.open_close(day)
        assert tm.pre_market(day) == (open_, open_)
        assert tm.after_hours(day) == (close, close)
        assert tm.extended_hours is None
    assert XLON.lunch_break(dt.date(2019, 12, 23)) is None


def test_london_early_close_on_christmas_eve():
    day = dt.date(2019, 12, 24)
    assert XLON.is_early_close(day)
    assert [t.time() for t in XLON.open_close(day)] == [dt.time(8, 0), dt.time(12, 30)]
    assert XLON.open_close(dt.date(2019, 12, 23))[1].time() == dt.time(16, 30)


@pytest.mark.parametrize(
    ("stamp", "window"),
    [
        ("2024-11-05 08:59", "closed"),
        ("2024-11-05 09:00", "regular"),
        ("2024-11-05 11:29", "regular"),
        ("2024-11-05 11:30", "closed"),  # the lunch break
        ("2024-11-05 12:29", "closed"),
        ("2024-11-05 12:30", "regular"),
        ("2024-11-05 15:29", "regular"),
        ("2024-11-05 15:30", "closed"),
        ("2024-11-01 15:00", "closed"),  # the old close
        ("2024-11-04 10:00", "closed"),  # Culture Day, observed
    ],
)
def test_tokyo_windows(stamp, window):
    assert XTKS.window(dt.datetime.fromisoformat(stamp)) == window


def test_only_the_regular_session_outside_the_break_is_streamed_in_tokyo():
    starts = {
        "2024-11-05 08:59": False,
        "2024-11-05 09:00": True,
        "2024-11-05 11:29": True,
        "2024-11-05 11:30": False,
        "2024-11-05 12:29": False,
        "2024-11-05 12:30": True,
        "2024-11-05 15:29": True,
        "2024-11-05 15:30": False,
        "2024-11-01 14:59": True,
        "2024-11-01 15:00": False,
        "2024-11-04 10:00": False,
    }
    ts = local_ts(XTKS, *starts)
    assert XTKS.streamed(ts).tolist() == list(starts.values())
    assert XTKS.regular_hours(ts).tolist() == list(starts.values())
    # no extended hours: a session's hours are the open to the close, the break included
    assert XTKS.in_session_hours(local_ts(XTKS, "2024-11-05 12:00")).tolist() == [True]


def test_only_the_regular_session_is_streamed_in_london():
    starts = {
        "2019-12-23 07:59": False,
        "2019-12-23 08:00": True,
        "2019-12-23 16:29": True,
        "2019-12-23 16:30": False,
        "2019-12-24 12:29": True,
        "2019-12-24 12:30": False,  # after the early close
        "2019-12-26 10:00": False,  # Boxing Day
    }
    assert XLON.streamed(local_ts(XLON, *starts)).tolist() == list(starts.values())


@pytest.mark.parametrize(
    ("minutes", "starts"),
    [
        (60, ["09:00", "10:00", "11:00", "12:30", "13:30", "14:30"]),
        (
            30,
            [
                "09:00",
                "09:30",
                "10:00",
                "10:30",
                "11:00",
                "12:30",
                "13:00",
                "13:30",
                "14:00",
                "14:30",
                "15:00",
            ],
        ),
    ],
)
def test_tokyo_buckets_start_afresh_at_the_end_of_the_break(minutes, starts):
    day = dt.date(2024, 11, 5)
    every = local_ts(XTKS, *(f"{day} {h:02d}:{m:02d}" for h in range(9, 16) for m in range(60)))
    every = every[XTKS.streamed(every)]
    buckets = XTKS.bucket_starts(every, minutes)
    assert sorted(set(wall(XTKS, buckets))) == starts
    # no bucket holds a morning and an afternoon minute
    pause = local_ts(XTKS, f"{day} 11:30")[0]
    morning = every < pause
    assert buckets[morning].max() < pause <= buckets[~morning].min()


def test_tokyo_bars_close_at_the_break_and_at_the_close():
    starts = local_ts(XTKS, "2024-11-05 11:00", "2024-11-05 12:30", "2024-11-05 14:30")
    assert wall(XTKS, XTKS.bar_closes(starts, 60)) == ["11:30", "13:30", "15:30"]
    before_the_move = local_ts(XTKS, "2024-11-01 14:30")
    assert wall(XTKS, XTKS.bar_closes(before_the_move, 60)) == ["15:00"]
    # the short 11:00 bucket has closed once the break begins, not an hour after it began
    at_break = local_ts(XTKS, "2024-11-05 11:30")[0]
    assert XTKS.closed_before(at_break, 60) == at_break
    assert XTKS.closed_before(at_break - np.timedelta64(1, "m"), 60) < starts[0]


def test_london_early_close_cuts_the_last_bucket():
    starts = local_ts(XLON, "2019-12-24 12:00", "2019-12-23 16:00")
    assert wall(XLON, XLON.bar_closes(starts, 60)) == ["12:30", "16:30"]
    assert wall(XLON, XLON.bucket_starts(local_ts(XLON, "2019-12-24 12:29"), 60)) == ["12:00"]


@st.composite
def bar_starts(draw: st.DrawFn) -> np.ndarray:
    """Minute bar starts around 2019's DST change and an early close, each repeated for a
    few symbols as a cross-section is, in time order or shuffled."""
    base = np.datetime64("2019-03-08T13:00", "ns")
    minutes = draw(st.lists(st.integers(0, 60 * 24 * 4), min_size=1, max_size=30))
    ts = base + np.repeat(np.array(sorted(minutes), "timedelta64[m]"), draw(st.integers(1, 9)))
    if draw(st.booleans()):
        ts = ts[draw(st.permutations(range(len(ts))))]
    return ts.astype("datetime64[ns]")


@settings(max_examples=150, deadline=None)
@given(ts=bar_starts(), minutes=st.sampled_from([5, 15, 60]))
def test_per_bar_answers_do_not_depend_on_repeats_or_order(
    tm: TimeManager, ts: np.ndarray, minutes: int
) -> None:
    # each answer is a function of the bar's own start: computed once per run of equal
    # starts, it must equal the answer computed for each start alone
    one_by_one = {
        "bucket_starts": lambda t: tm.bucket_starts(t, minutes),
        "bar_closes": lambda t: tm.bar_closes(t, minutes),
        "streamed": tm.streamed,
        "regular_hours": tm.regular_hours,
        "in_session_hours": tm.in_session_hours,
    }
    for name, answer in one_by_one.items():
        alone = np.concatenate([answer(ts[i : i + 1]) for i in range(len(ts))])
        assert np.array_equal(answer(ts), alone), name
