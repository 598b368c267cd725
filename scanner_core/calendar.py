"""TimeManager: the exchange calendar (sessions, holidays, early closes, windows) and the clock."""

from __future__ import annotations

import datetime as dt
from functools import cache, cached_property
from typing import Literal
from zoneinfo import ZoneInfo

import exchange_calendars
import numpy as np
import pandas as pd

Mode = Literal["backtest", "live"]
Window = Literal["pre_market", "regular", "after_hours", "closed"]

PRE_MARKET_START = dt.time(4, 0)
AFTER_HOURS_END = dt.time(20, 0)
# Far enough back for the daily histories we import (exchange_calendars defaults to 20 years).
CALENDAR_START = "1990-01-02"


@cache
def _exchange_calendar(name: str) -> exchange_calendars.ExchangeCalendar:
    return exchange_calendars.get_calendar(name, start=CALENDAR_START)


class TimeManager:
    """Exchange sessions and market windows in exchange time, plus the session clock.

    In backtest mode the clock is simulated: it starts unset and only moves forward through
    `set_time` / `advance_to`. In live mode `now()` is the wall clock.
    """

    def __init__(self, calendar: str = "XNYS", mode: Mode = "backtest") -> None:
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
        self._early = np.isin(
            self._days, self._calendar.early_closes.values.astype("datetime64[D]")
        )
        self._now: dt.datetime | None = None

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
        """04:00 exchange time to the open."""
        return self.combine(day, PRE_MARKET_START), self.open_close(day)[0]

    def regular(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The open to the close."""
        return self.open_close(day)

    def after_hours(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The close to 20:00 exchange time."""
        return self.open_close(day)[1], self.combine(day, AFTER_HOURS_END)

    def streamed(self, ts: np.ndarray) -> np.ndarray:
        """For UTC bar starts (datetime64), True from a session's pre-market start to its close.

        These are the bars a session streams; after-hours bars, bars after an early close
        and bars on days the exchange is shut are not.
        """
        seconds = ts.astype("datetime64[s]").astype(np.int64)
        day = np.searchsorted(self._pre_starts, seconds, side="right") - 1
        known = day >= 0
        return known & (seconds < self._closes[np.maximum(day, 0)])

    def extended_hours(self, ts: np.ndarray) -> np.ndarray:
        """For UTC bar starts (datetime64), True from a session day's pre-market start to its
        after-hours end (the end excluded); False on days the exchange is shut and for NaT."""
        stamps = pd.DatetimeIndex(ts.astype("datetime64[ns]"))
        seconds = stamps.asi8 // 10**9
        days = stamps.tz_localize("UTC").tz_convert(self.tz).normalize().tz_localize(None)
        day = days.to_numpy().astype("datetime64[D]")
        lo = np.zeros(len(ts), np.int64)
        hi = np.zeros(len(ts), np.int64)
        # One window per distinct day, so this stays on whatever each window's rule is.
        for d in np.unique(day[~np.isnat(day)]):
            if not self.is_session(d.astype(dt.date)):
                continue
            at = day == d
            lo[at] = int(self.pre_market(d.astype(dt.date))[0].timestamp())
            hi[at] = int(self.after_hours(d.astype(dt.date))[1].timestamp())
        return (seconds >= lo) & (seconds < hi)

    @cached_property
    def _pre_starts(self) -> np.ndarray:
        start = dt.timedelta(hours=PRE_MARKET_START.hour, minutes=PRE_MARKET_START.minute)
        local = pd.DatetimeIndex(self._days.astype("datetime64[ns]")) + start
        return local.tz_localize(self.tz).tz_convert("UTC").asi8 // 10**9

    def window(self, moment: dt.datetime) -> Window:
        """Which market window a moment falls in; 'closed' on non-session days and overnight."""
        local = self.localize(moment)
        if not self.is_session(local.date()):
            return "closed"
        open_, close = self.open_close(local.date())
        if self.combine(local.date(), PRE_MARKET_START) <= local < open_:
            return "pre_market"
        if open_ <= local < close:
            return "regular"
        if close <= local < self.combine(local.date(), AFTER_HOURS_END):
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
        """The session clock: simulated in backtest, the wall clock in live (exchange time)."""
        if self.mode == "live":
            return dt.datetime.now(self.tz)
        if self._now is None:
            raise RuntimeError("the backtest clock is not set yet; call set_time() first")
        return self._now

    def set_time(self, moment: dt.datetime) -> None:
        """Move the simulated clock to `moment`; it never goes backwards."""
        if self.mode == "live":
            raise RuntimeError("the live clock is the wall clock and cannot be set")
        moment = self.localize(moment)
        if self._now is not None and moment < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {moment}")
        self._now = moment

    advance_to = set_time


def _utc(column: pd.Series) -> np.ndarray:
    return column.dt.tz_convert(None).to_numpy().astype("datetime64[s]")


def _as_date(day: dt.date) -> dt.date:
    return day.date() if isinstance(day, dt.datetime) else day
