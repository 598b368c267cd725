"""Schedules: aligned interval ticks and cron runs on XNYS sessions, across DST and early closes."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.calendar import TimeManager
from scanner_core.config import WEEKDAYS, ScannerSchedule
from scanner_core.schedule import Schedule

NY = ZoneInfo("America/New_York")
TM = TimeManager("XNYS", "backtest")
# Autumn 2018 to spring 2019: both DST changes, Thanksgiving/Christmas early closes, holidays.
FIRST, LAST = dt.datetime(2018, 10, 1), dt.datetime(2019, 4, 30)
EARLY_CLOSES = [dt.date(2018, 11, 23), dt.date(2018, 12, 24)]


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)


def make(**kwargs) -> Schedule:
    return Schedule.from_config(ScannerSchedule(**kwargs))


def wall(runs: list[dt.datetime]) -> list[dt.time]:
    return [run.timetz().replace(tzinfo=None) for run in runs]


def test_interval_ticks_align_to_the_open_within_the_window() -> None:
    schedule = make(interval="15m", start_time=dt.time(9, 35), end_time=dt.time(10, 30))
    runs = schedule.day_runs(dt.date(2019, 2, 12), TM)

    assert wall(runs) == [dt.time(9, 45), dt.time(10, 0), dt.time(10, 15), dt.time(10, 30)]
    assert schedule.should_run(ny(2019, 2, 12, 10, 0), TM)
    assert not schedule.should_run(ny(2019, 2, 12, 10, 5), TM)
    assert not schedule.should_run(ny(2019, 2, 12, 10, 45), TM)


def test_default_schedule_runs_every_five_minutes_from_open_to_close() -> None:
    runs = make().day_runs(dt.date(2019, 2, 12), TM)

    assert len(runs) == 79
    assert (runs[0], runs[-1]) == (ny(2019, 2, 12, 9, 30), ny(2019, 2, 12, 16, 0))


def test_a_start_before_the_open_extends_the_grid_into_pre_market() -> None:
    runs = make(interval="1h", start_time=dt.time(7, 0), end_time=dt.time(11, 0)).day_runs(
        dt.date(2019, 2, 12), TM
    )
    assert wall(runs) == [dt.time(7, 30), dt.time(8, 30), dt.time(9, 30), dt.time(10, 30)]


def test_no_runs_on_holidays_weekends_or_unlisted_days() -> None:
    schedule = make(interval="5m", days_of_week=("Mon", "Tue"))

    assert schedule.day_runs(dt.date(2019, 2, 18), TM) == []  # Presidents Day, a Monday
    assert schedule.day_runs(dt.date(2019, 2, 16), TM) == []  # Saturday
    assert schedule.day_runs(dt.date(2019, 2, 13), TM) == []  # Wednesday, not listed
    assert not schedule.should_run(ny(2019, 2, 18, 10, 0), TM)
    assert schedule.next_run(ny(2019, 2, 15, 16, 0), TM) == ny(2019, 2, 19, 9, 30)


def test_an_early_close_ends_the_schedule_at_one_pm() -> None:
    runs = make(interval="30m", start_time=dt.time(9, 30), end_time=dt.time(15, 30)).day_runs(
        dt.date(2018, 7, 3), TM
    )
    assert runs[-1] == ny(2018, 7, 3, 13, 0) and len(runs) == 8
    assert make(cron="0 * * * *").day_runs(dt.date(2019, 11, 29), TM)[-1] == ny(2019, 11, 29, 13)


def test_cron_runs_in_exchange_time_across_dst() -> None:
    schedule = make(cron="30 10-15 * * 1-5")
    before, after = (
        schedule.day_runs(day, TM) for day in (dt.date(2019, 3, 8), dt.date(2019, 3, 11))
    )

    assert wall(before) == wall(after) == [dt.time(h, 30) for h in range(10, 16)]
    assert before[0].astimezone(dt.UTC).hour == 15 and after[0].astimezone(dt.UTC).hour == 14


def test_runs_between_is_half_open_and_spans_days() -> None:
    schedule = make(interval="1h", start_time=dt.time(15, 0))
    runs = schedule.runs_between(ny(2019, 2, 12, 15, 30), ny(2019, 2, 13, 15, 30), TM)

    assert runs == [ny(2019, 2, 13, 15, 30)]
    assert schedule.runs_between(ny(2019, 2, 16), ny(2019, 2, 17), TM) == []


def test_a_schedule_that_never_meets_a_session_has_no_next_run() -> None:
    assert make(days_of_week=("Sat", "Sun")).next_run(ny(2019, 2, 12), TM) is None


schedules = st.builds(
    ScannerSchedule,
    interval=st.sampled_from(["30s", "1m", "5m", "7m", "15m", "1h", "2h"]),
    start_time=st.none() | st.sampled_from([dt.time(8, 0), dt.time(9, 35), dt.time(12, 10)]),
    end_time=st.none() | st.sampled_from([dt.time(12, 30), dt.time(15, 55), dt.time(17, 0)]),
    days_of_week=st.lists(st.sampled_from(WEEKDAYS[:5]), min_size=1, unique=True).map(tuple),
) | st.builds(
    ScannerSchedule,
    cron=st.sampled_from(["*/10 9-15 * * 1-5", "0,30 * * * *", "45 9 * * *", "*/7 * * * 2,4"]),
)
moments = st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(NY)).map(
    lambda t: t.replace(microsecond=0)
)


@settings(max_examples=150, deadline=None)
@given(schedules, moments)
def test_next_run_is_the_next_due_run(config: ScannerSchedule, moment: dt.datetime) -> None:
    schedule = Schedule.from_config(config)
    following = schedule.next_run(moment, TM)

    if following is None:  # e.g. a 2h grid from the open never lands in 12:10-12:30
        assert schedule.runs_between(moment, moment + dt.timedelta(days=30), TM) == []
        return
    assert following > moment
    assert schedule.should_run(following, TM)
    assert schedule.runs_between(moment, following, TM) == [following]
    assert following <= TM.open_close(following.date())[1]


def _lands_in_window(config: ScannerSchedule) -> bool:
    """Whether a regular (09:30-16:00) day has a run: a grid tick inside the window."""
    if config.cron is not None:
        return config.cron != "*/7 * * * 2,4"  # the only one of them not run on the days used
    minutes = [t.hour * 60 + t.minute for t in (config.start_time, config.end_time) if t]
    lo = minutes[0] if config.start_time else 570
    hi = min(minutes[-1] if config.end_time else 960, 960)
    step = config.interval_seconds / 60
    first_tick = 570 + math.ceil((lo - 570) / step) * step
    return first_tick <= hi


@settings(max_examples=60, deadline=None)
@given(schedules, st.sampled_from([(8, 11), (2, 5)]), st.sampled_from([3, 11]))
def test_wall_clock_runs_survive_the_dst_change(
    config: ScannerSchedule, days: tuple[int, int], month: int
) -> None:
    """Runs on the Friday before and Monday after a DST change sit at the same exchange times."""
    schedule = Schedule.from_config(config)
    year = 2019 if month == 3 else 2018
    before, after = (dt.date(year, month, d) for d in days)
    listed = {before.weekday(), after.weekday()} <= schedule.weekdays

    runs_before, runs_after = schedule.day_runs(before, TM), schedule.day_runs(after, TM)

    if listed:
        assert wall(runs_before) == wall(runs_after)
        assert bool(runs_before) == _lands_in_window(config)
    else:
        assert not (runs_before and runs_after)


@settings(max_examples=60, deadline=None)
@given(schedules, st.sampled_from(EARLY_CLOSES))
def test_no_run_after_an_early_close(config: ScannerSchedule, day: dt.date) -> None:
    schedule = Schedule.from_config(config)
    _, close = TM.open_close(day)

    assert close.time() == dt.time(13, 0)
    assert all(run <= close for run in schedule.day_runs(day, TM))
    following = schedule.next_run(close, TM)
    assert following is None or following.date() > day


@pytest.mark.parametrize("day", [dt.date(2019, 1, 1), dt.date(2018, 7, 4), dt.date(2019, 2, 18)])
def test_holidays_have_no_runs_for_any_schedule(day: dt.date) -> None:
    for config in [ScannerSchedule(interval="30s"), ScannerSchedule(cron="* * * * *")]:
        assert Schedule.from_config(config).day_runs(day, TM) == []


XTKS = TimeManager("XTKS")
XLON = TimeManager("XLON")


@pytest.mark.parametrize(
    ("interval", "afternoon"),
    [
        # 12:30 itself is no tick: nothing closed since the 11:30 run
        ("30m", ["13:00", "13:30", "14:00", "14:30", "15:00", "15:30"]),
        ("1h", ["13:30", "14:30", "15:30"]),
        ("45m", ["13:15", "14:00", "14:45", "15:30"]),
    ],
)
def test_tokyo_ticks_skip_the_break_and_restart_from_its_end(interval, afternoon):
    day = dt.date(2024, 11, 5)
    runs = wall(make(interval=interval).day_runs(day, XTKS))
    morning = {"30m": 6, "1h": 3, "45m": 4}[interval]  # 09:00 .. 11:30 at most
    assert all(dt.time(11, 30) >= t for t in runs[:morning])
    assert runs[morning:] == [dt.time.fromisoformat(t) for t in afternoon]
    assert not [t for t in runs if dt.time(11, 30) < t <= dt.time(12, 30)]
    assert runs[0] == dt.time(9, 0)


def test_tokyo_hourly_morning_is_laid_from_the_open():
    runs = wall(make(interval="1h").day_runs(dt.date(2024, 11, 5), XTKS))
    assert runs[:3] == [dt.time(9, 0), dt.time(10, 0), dt.time(11, 0)]


def test_tokyo_ticks_end_at_the_close_of_the_day():
    before, after = (
        make(interval="30m").day_runs(d, XTKS) for d in (dt.date(2024, 11, 1), dt.date(2024, 11, 5))
    )
    assert wall(before)[-1] == dt.time(15, 0) and wall(after)[-1] == dt.time(15, 30)
    assert len(after) == len(before) + 1
    assert make(interval="30m").day_runs(dt.date(2024, 11, 4), XTKS) == []  # holiday


def test_tokyo_cron_runs_never_fall_in_the_break():
    runs = wall(make(cron="*/20 * * * *").day_runs(dt.date(2024, 11, 5), XTKS))
    assert dt.time(11, 20) in runs and dt.time(12, 40) in runs
    assert not [t for t in runs if dt.time(11, 30) < t <= dt.time(12, 30)]


def test_a_run_at_the_break_start_is_kept_and_the_next_is_after_the_break():
    schedule = make(interval="30m")
    at = lambda h, m: dt.datetime(2024, 11, 5, h, m, tzinfo=XTKS.tz)  # noqa: E731
    assert schedule.should_run(at(11, 30), XTKS)
    assert not schedule.should_run(at(12, 0), XTKS)
    assert schedule.next_run(at(11, 30), XTKS) == at(13, 0)
    assert schedule.runs_between(at(11, 0), at(13, 0), XTKS) == [at(11, 30), at(13, 0)]


def test_london_ticks_stop_at_the_early_close():
    early, usual = (
        wall(make(interval="1h").day_runs(d, XLON))
        for d in (dt.date(2019, 12, 24), dt.date(2019, 12, 23))
    )
    assert early == [dt.time(h) for h in range(8, 13)]
    assert usual == [dt.time(h) for h in range(8, 17)]
    assert wall(make(interval="15m").day_runs(dt.date(2019, 12, 24), XLON))[-1] == dt.time(12, 30)
    christmas_eve_close = dt.datetime(2019, 12, 24, 12, 30, tzinfo=XLON.tz)
    after = make(interval="15m").next_run(christmas_eve_close, XLON)
    assert after == dt.datetime(2019, 12, 27, 8, 0, tzinfo=XLON.tz)
