"""Scan schedules: the run times of a scanner on each session, from an interval or a cron rule."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from attrs import field, frozen
from croniter import croniter

from scanner_core.calendar import TimeManager
from scanner_core.config import WEEKDAYS, ScannerSchedule

# How far next_run looks ahead before deciding a schedule never runs (e.g. weekends only).
_HORIZON = dt.timedelta(days=400)


@frozen
class Schedule:
    """A scanner's run times, in exchange time, on the sessions of a TimeManager's calendar.

    Interval runs sit on the grid open + k * interval (aligned to each session's open).
    Every run lies in [start_time or the open, min(end_time, close)] on a listed weekday
    that is a session, so holidays have none and an early close ends the day early.
    """

    interval_seconds: int | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    weekdays: frozenset[int] = frozenset(range(5))
    cron: str | None = None
    _ticks: dict[tuple[str, dt.date], np.ndarray] = field(
        factory=dict, init=False, eq=False, repr=False
    )

    @classmethod
    def from_config(cls, config: ScannerSchedule) -> Schedule:
        """The schedule a ScannerSchedule describes."""
        return cls(
            interval_seconds=config.interval_seconds,
            start_time=config.start_time,
            end_time=config.end_time,
            weekdays=frozenset(WEEKDAYS.index(day) for day in config.days_of_week),
            cron=config.cron,
        )

    def day_ticks(self, day: dt.date, tm: TimeManager) -> np.ndarray:
        """Run times on one date as sorted UTC epoch seconds (int64); empty when none."""
        key = (tm.calendar_name, day)
        ticks = self._ticks.get(key)
        if ticks is None:
            ticks = self._compute_ticks(day, tm)
            self._ticks[key] = ticks
        return ticks

    def _compute_ticks(self, day: dt.date, tm: TimeManager) -> np.ndarray:
        if day.weekday() not in self.weekdays or not tm.is_session(day):
            return np.empty(0, dtype=np.int64)
        open_, close = tm.open_close_seconds(day)
        lo = _epoch(tm.combine(day, self.start_time)) if self.start_time else open_
        hi = min(_epoch(tm.combine(day, self.end_time)), close) if self.end_time else close
        pause = tm.lunch_break(day)
        if self.cron is not None:
            ticks = self._cron_ticks(lo, hi, tm)
        elif pause is None:
            ticks = _grid(open_, lo, hi, self.interval_seconds)
        else:
            # the afternoon's grid starts afresh at the end of the break, as its bars do
            resume = _epoch(pause[1])
            ticks = np.concatenate(
                [
                    _grid(open_, lo, min(hi, _epoch(pause[0])), self.interval_seconds),
                    _grid(resume, max(lo, resume + 1), hi, self.interval_seconds),
                ]
            )
        if pause is not None:
            # a run at the break's start sees the morning; none falls inside the break
            ticks = ticks[(ticks <= _epoch(pause[0])) | (ticks > _epoch(pause[1]))]
        return ticks

    def _cron_ticks(self, lo: int, hi: int, tm: TimeManager) -> np.ndarray:
        # croniter walks wall-clock time in the exchange zone, so '30 9 * * *' stays 09:30
        # across DST changes.
        start = dt.datetime.fromtimestamp(lo - 1, tz=tm.tz)
        times = croniter(self.cron, start)
        ticks: list[int] = []
        while (tick := _epoch(times.get_next(dt.datetime))) <= hi:
            ticks.append(tick)
        return np.asarray(ticks, dtype=np.int64)

    def day_runs(self, day: dt.date, tm: TimeManager) -> list[dt.datetime]:
        """Run times on one date, tz-aware in exchange time."""
        return [_at(t, tm) for t in self.day_ticks(day, tm).tolist()]

    def should_run(self, now: dt.datetime, tm: TimeManager) -> bool:
        """True when `now` is exactly one of the schedule's run times."""
        day = tm.localize(now).date()
        ticks = self.day_ticks(day, tm)
        moment = now.timestamp()
        i = int(np.searchsorted(ticks, moment))
        return i < len(ticks) and ticks[i] == moment

    def next_run(self, after: dt.datetime, tm: TimeManager) -> dt.datetime | None:
        """The first run time strictly after `after`, or None if none comes within a year."""
        local = tm.localize(after)
        moment = after.timestamp()
        for day in tm.sessions(local.date(), local.date() + _HORIZON):
            ticks = self.day_ticks(day, tm)
            i = int(np.searchsorted(ticks, moment, side="right"))
            if i < len(ticks):
                return _at(int(ticks[i]), tm)
        return None

    def runs_between(
        self, start: dt.datetime, end: dt.datetime, tm: TimeManager
    ) -> list[dt.datetime]:
        """Run times t with start < t <= end: the runs due since the clock last moved."""
        lo, hi = start.timestamp(), end.timestamp()
        days = tm.sessions(tm.localize(start).date(), tm.localize(end).date())
        if not days:
            return []
        ticks = np.concatenate([self.day_ticks(day, tm) for day in days])
        return [_at(t, tm) for t in ticks[(ticks > lo) & (ticks <= hi)].tolist()]


def _grid(anchor: int, lo: int, hi: int, step: int) -> np.ndarray:
    """Times anchor + k * step inside [lo, hi], as epoch seconds."""
    first, last = math.ceil((lo - anchor) / step), math.floor((hi - anchor) / step)
    return anchor + step * np.arange(first, last + 1, dtype=np.int64)


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _at(epoch_seconds: int, tm: TimeManager) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_seconds, tz=tm.tz)


def runs_within_a_year(config: ScannerSchedule, calendar: str, start: dt.date) -> bool | None:
    """Whether a schedule runs on some session of `calendar` within a year from `start`.

    None when the calendar has no sessions there to tell. This is the test `scanner check`
    applies, on the same Schedule `scanner run` uses, so the two agree.
    """
    tm = TimeManager(calendar)
    if not tm.sessions(start, start + _HORIZON):
        return None
    midnight = tm.combine(start, dt.time(0))
    return Schedule.from_config(config).next_run(midnight - dt.timedelta(seconds=1), tm) is not None
