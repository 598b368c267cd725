"""TimeManager: the exchange calendar (sessions, holidays, early closes, windows) and the clock."""

from __future__ import annotations

import datetime as dt
import warnings
from functools import cache, cached_property
from typing import Literal
from zoneinfo import ZoneInfo

import exchange_calendars
import numpy as np
import pandas as pd

from scanner_core.clock import SessionClock
from scanner_core.runs import per_run

Mode = Literal["backtest", "live"]
Window = Literal["pre_market", "regular", "after_hours", "closed"]

PRE_MARKET_START = dt.time(4, 0)
AFTER_HOURS_END = dt.time(20, 0)
#: Calendars whose venues trade extended hours, 04:00 to 20:00 local time (US equities).
#: Every other calendar streams its regular session only: exchange_calendars knows no
#: extended hours, and guessing them would stream bars that venue never prints.
EXTENDED_HOURS: dict[str, tuple[dt.time, dt.time]] = dict.fromkeys(
    ("XNYS", "XNAS", "XASE", "ARCX", "BATS", "IEXG"), (PRE_MARKET_START, AFTER_HOURS_END)
)
# Far enough back for the daily histories we import (exchange_calendars defaults to 20 years).
CALENDAR_START = "1990-01-02"


@cache
def _exchange_calendar(name: str) -> exchange_calendars.ExchangeCalendar:
    # exchange_calendars builds its schedule with Series.values, which pandas 3.1 deprecates
    # for tz-aware data; the warning is theirs, and without this it reaches every user's
    # logs and every plugin's test run.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Series.values returning an ndarray", DeprecationWarning)
        try:
            return exchange_calendars.get_calendar(name, start=CALENDAR_START)
        except ValueError:
            # Some calendars are defined only from a later date (Tokyo from 1997).
            bound = type(exchange_calendars.get_calendar(name)).bound_min()
            return exchange_calendars.get_calendar(name, start=bound)


class TimeManager:
    """Exchange sessions and market windows in exchange time, plus the session clock.

    `now()` reads the session's one clock (`scanner_core.clock`): a SessionClock given
    here (or its own), which starts unset and only moves forward through `set_time` /
    `advance_to`; in live mode without a clock given, the wall clock.
    """

    def __init__(
        self,
        calendar: str = "XNYS",
        mode: Mode = "backtest",
        *,
        clock: SessionClock | None = None,
    ) -> None:
        if mode not in ("backtest", "live"):
            raise ValueError(f"mode: expected 'backtest' or 'live', got {mode!r}")
        self.calendar_name = calendar
        self.mode: Mode = mode
        self._calendar = _exchange_calendar(calendar)
        self.tz = ZoneInfo(str(self._calendar.tz))
        schedule = self._calendar.schedule
        # Plain numpy arrays: date lookups by binary search instead of pandas indexing.
        self._days = schedule.index.values.astype("datetime64[D]")
        self._opens = _utc(schedule["open"]).astype(np.int64)
        self._closes = _utc(schedule["close"]).astype(np.int64)
        # A lunch break (Tokyo, Hong Kong) splits a session in two; -1 where there is none.
        self._break_starts = _utc_or_none(schedule.get("break_start"), len(self._days))
        self._break_ends = _utc_or_none(schedule.get("break_end"), len(self._days))
        self.extended_hours: tuple[dt.time, dt.time] | None = EXTENDED_HOURS.get(calendar)
        self._early = np.isin(
            self._days, self._calendar.early_closes.values.astype("datetime64[D]")
        )
        #: The session clock `now()` reads; None in live mode without one: the wall clock.
        self.clock: SessionClock | None = (
            clock if clock is not None or mode == "live" else SessionClock()
        )

    # -- calendar ---------------------------------------------------------------------------

    def _index(self, day: dt.date) -> int | None:
        key = np.datetime64(_as_date(day), "D")
        i = int(np.searchsorted(self._days, key))
        return i if i < len(self._days) and self._days[i] == key else None

    def is_session(self, day: dt.date) -> bool:
        """True when the exchange trades on this date."""
        return self._index(day) is not None

    def sessions(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Trading dates from start to end, both included."""
        lo = np.searchsorted(self._days, np.datetime64(_as_date(start), "D"))
        hi = np.searchsorted(self._days, np.datetime64(_as_date(end), "D"), side="right")
        return self._days[lo:hi].astype(dt.date).tolist()

    def next_session(self, day: dt.date) -> dt.date | None:
        """The first trading date strictly after `day`, if the calendar has one."""
        i = np.searchsorted(self._days, np.datetime64(_as_date(day), "D"), side="right")
        return self._days[i].astype(dt.date) if i < len(self._days) else None

    def open_close(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The regular session's open and close, tz-aware in exchange time (early closes kept)."""
        i = self._require(day)
        return self._at(self._opens[i]), self._at(self._closes[i])

    def open_close_seconds(self, day: dt.date) -> tuple[int, int]:
        """The regular session's open and close as UTC epoch seconds."""
        i = self._require(day)
        return int(self._opens[i]), int(self._closes[i])

    def is_early_close(self, day: dt.date) -> bool:
        """True when the session closes before its usual time (e.g. 13:00 before a holiday)."""
        return bool(self._early[self._require(day)])

    def pre_market(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The pre-market start (04:00 on US venues) to the open; empty on other venues."""
        open_ = self.open_close(day)[0]
        if self.extended_hours is None:
            return open_, open_
        return min(self.combine(day, self.extended_hours[0]), open_), open_

    def regular(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The open to the close."""
        return self.open_close(day)

    def after_hours(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The close to the after-hours end (20:00 on US venues); empty on other venues."""
        close = self.open_close(day)[1]
        if self.extended_hours is None:
            return close, close
        return close, max(self.combine(day, self.extended_hours[1]), close)

    def lunch_break(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The session's midday break (Tokyo 11:30-12:30), or None when it trades through."""
        i = self._require(day)
        if self._break_starts[i] < 0:
            return None
        return self._at(self._break_starts[i]), self._at(self._break_ends[i])

    @cache  # noqa: B019 - one per calendar name, and calendars live all run
    def regular_minutes(self) -> int:
        """Trading minutes of a usual full session (390 in New York), breaks left out."""
        span = self._closes - self._opens
        breaks = np.where(self._break_starts >= 0, self._break_ends - self._break_starts, 0)
        return int(np.median((span - breaks)[-260:]) // 60)

    def streamed(self, ts: np.ndarray) -> np.ndarray:
        """For UTC bar starts (datetime64), True from a session's pre-market start to its close.

        These are the bars a session streams; after-hours bars, bars after an early close,
        bars in a lunch break and bars on days the exchange is shut are not.
        """
        return per_run(ts, self._streamed)

    def _streamed(self, ts: np.ndarray) -> np.ndarray:
        seconds = ts.astype("datetime64[s]").astype(np.int64)
        day = np.searchsorted(self._pre_starts, seconds, side="right") - 1
        i = np.maximum(day, 0)
        in_break = (seconds >= self._break_starts[i]) & (seconds < self._break_ends[i])
        return (day >= 0) & (seconds < self._closes[i]) & ~in_break

    def in_session_hours(self, ts: np.ndarray) -> np.ndarray:
        """For UTC bar starts (datetime64), True inside a session's extended hours
        (pre-market start to after-hours end; the regular session on other venues)."""
        return per_run(ts, self._in_session_hours)

    def _in_session_hours(self, ts: np.ndarray) -> np.ndarray:
        seconds = ts.astype("datetime64[s]").astype(np.int64)
        day = np.searchsorted(self._pre_starts, seconds, side="right") - 1
        i = np.maximum(day, 0)
        return (day >= 0) & (seconds < self._after_ends[i])

    def regular_hours(self, ts: np.ndarray) -> np.ndarray:
        """For UTC bar starts (datetime64), True inside a regular session (open to close,
        outside any lunch break): the bars a daily bar is built from."""
        return per_run(ts, self._regular_hours)

    def _regular_hours(self, ts: np.ndarray) -> np.ndarray:
        seconds = ts.astype("datetime64[s]").astype(np.int64)
        i = np.maximum(np.searchsorted(self._opens, seconds, side="right") - 1, 0)
        in_break = (seconds >= self._break_starts[i]) & (seconds < self._break_ends[i])
        return (seconds >= self._opens[i]) & (seconds < self._closes[i]) & ~in_break

    def bucket_starts(self, ts: np.ndarray, minutes: int) -> np.ndarray:
        """The start of the ``minutes``-wide bucket each UTC bar start falls in (datetime64).

        Buckets are laid from the session's open, and afresh from the end of a lunch
        break, so no bucket spans the break; bars before the open fall in buckets
        counted back from it.
        """
        return per_run(ts, lambda some: self._bucket_starts(some, minutes))

    def _bucket_starts(self, ts: np.ndarray, minutes: int) -> np.ndarray:
        seconds = ts.astype("datetime64[s]").astype(np.int64)
        i = np.maximum(np.searchsorted(self._pre_starts, seconds, side="right") - 1, 0)
        anchor = np.where(
            (self._break_ends[i] >= 0) & (seconds >= self._break_ends[i]),
            self._break_ends[i],
            self._opens[i],
        )
        width = minutes * 60
        starts = anchor + (seconds - anchor) // width * width
        return (starts * 10**9).astype("datetime64[ns]")

    def bar_closes(self, ts: np.ndarray, minutes: int) -> np.ndarray:
        """When each intraday bar (UTC start, datetime64) closes: ``minutes`` after its
        start, or at the lunch break or the close when that comes first."""
        return per_run(ts, lambda some: self._bar_closes(some, minutes))

    def _bar_closes(self, ts: np.ndarray, minutes: int) -> np.ndarray:
        ts = ts.astype("datetime64[ns]")
        ends = self._segment_ends
        seconds = ts.astype("datetime64[s]").astype(np.int64)
        nxt = ends[np.minimum(np.searchsorted(ends, seconds, side="right"), len(ends) - 1)]
        cut = (nxt * 10**9).astype("datetime64[ns]")
        return np.minimum(ts + np.timedelta64(minutes, "m"), np.where(nxt > seconds, cut, ts))

    def closed_before(self, now: np.datetime64, minutes: int) -> np.datetime64:
        """Exclusive bound on the UTC starts of the ``minutes`` bars closed by ``now``.

        A bar closes ``minutes`` after its start, or at a break or close that comes
        first, so the short bucket before a break or a close counts once that has passed.
        """
        now = np.datetime64(now, "ns")
        bound = now - np.timedelta64(minutes, "m") + np.timedelta64(1, "ns")
        seconds = int(now.astype("datetime64[s]").astype(np.int64))
        ends = self._segment_ends
        i = int(np.searchsorted(ends, seconds, side="right")) - 1
        if i >= 0:
            bound = max(bound, np.datetime64(int(ends[i]) * 10**9, "ns"))
        return bound

    @cached_property
    def _segment_ends(self) -> np.ndarray:
        """Every break start and close, ascending epoch seconds: where bars are cut short."""
        ends = np.concatenate([self._break_starts[self._break_starts >= 0], self._closes])
        return np.sort(ends)

    @cached_property
    def _pre_starts(self) -> np.ndarray:
        """Each session's pre-market start (its open on venues without one), epoch seconds."""
        if self.extended_hours is None:
            return self._opens.copy()
        return np.minimum(self._each_day_at(self.extended_hours[0]), self._opens)

    @cached_property
    def _after_ends(self) -> np.ndarray:
        """Each session's after-hours end (its close on venues without one), epoch seconds."""
        if self.extended_hours is None:
            return self._closes.copy()
        return np.maximum(self._each_day_at(self.extended_hours[1]), self._closes)

    def _each_day_at(self, time: dt.time) -> np.ndarray:
        """A wall-clock time on every session date, as UTC epoch seconds."""
        local = pd.DatetimeIndex(self._days.astype("datetime64[ns]")) + dt.timedelta(
            hours=time.hour, minutes=time.minute
        )
        return local.tz_localize(self.tz).tz_convert("UTC").asi8 // 10**9

    def window(self, moment: dt.datetime) -> Window:
        """Which market window a moment falls in; 'closed' on non-session days and overnight."""
        local = self.localize(moment)
        if not self.is_session(local.date()):
            return "closed"
        pre_start, open_ = self.pre_market(local.date())
        close, after_end = self.after_hours(local.date())
        if pre_start <= local < open_:
            return "pre_market"
        pause = self.lunch_break(local.date())
        if open_ <= local < close:
            return "closed" if pause and pause[0] <= local < pause[1] else "regular"
        if close <= local < after_end:
            return "after_hours"
        return "closed"

    def combine(self, day: dt.date, time: dt.time) -> dt.datetime:
        """A wall-clock time on a date, in exchange time."""
        return dt.datetime.combine(_as_date(day), time, tzinfo=self.tz)

    def localize(self, moment: dt.datetime) -> dt.datetime:
        """A moment in exchange time; naive datetimes are taken as exchange wall-clock time."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def _require(self, day: dt.date) -> int:
        i = self._index(day)
        if i is None:
            raise ValueError(f"{_as_date(day)} is not a {self.calendar_name} session")
        return i

    def _at(self, epoch_seconds: np.int64) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(epoch_seconds), tz=self.tz)

    # -- clock ------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The session clock in exchange time (the wall clock in live mode without one)."""
        if self.clock is None:
            return dt.datetime.now(self.tz)
        now = self.clock.now()
        if now is None:
            raise RuntimeError("the backtest clock is not set yet; call set_time() first")
        return now.astimezone(self.tz)

    def set_time(self, moment: dt.datetime) -> None:
        """Move the session clock to `moment`; it never goes backwards."""
        if self.clock is None:
            raise RuntimeError("the live clock is the wall clock and cannot be set")
        moment = self.localize(moment)
        now = self.clock.now()
        if now is not None and moment < now:
            raise ValueError(f"the clock cannot go back from {now.astimezone(self.tz)} to {moment}")
        self.clock.advance(moment)

    advance_to = set_time


def _utc(column: pd.Series) -> np.ndarray:
    return column.dt.tz_convert(None).to_numpy().astype("datetime64[s]")


def _utc_or_none(column: pd.Series | None, n: int) -> np.ndarray:
    """Epoch seconds of an optional schedule column, -1 where it is empty."""
    if column is None:
        return np.full(n, -1, np.int64)
    values = column.dt.tz_convert(None).to_numpy()
    seconds = values.astype("datetime64[s]").astype(np.int64)
    return np.where(np.isnat(values), -1, seconds)


def _as_date(day: dt.date) -> dt.date:
    return day.date() if isinstance(day, dt.datetime) else day
