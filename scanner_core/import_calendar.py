"""The exchange calendar as the importer sees it: session days, hours and the bar grid."""

from __future__ import annotations

import datetime as dt
from functools import cache

import exchange_calendars
import numpy as np
import pandas as pd
from attrs import frozen

from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.calendar import TimeManager

_MINUTE_NS = 60 * 10**9


@frozen(eq=False)
class ExchangeDays:
    """A calendar's session dates (datetime64[D], ascending) and its TimeManager."""

    time: TimeManager
    days: np.ndarray

    @property
    def tz(self) -> str:
        """The exchange's time zone name."""
        return str(self.time.tz)

    def in_range(self, dates: np.ndarray) -> np.ndarray:
        """True for dates (any datetime64) from the first to the last date the calendar knows."""
        day = dates.astype("datetime64[D]")
        return (day >= self.days[0]) & (day <= self.days[-1])

    def is_session(self, dates: np.ndarray) -> np.ndarray:
        """True for dates the exchange trades on."""
        return np.isin(dates.astype("datetime64[D]"), self.days)

    def local_days(self, ts: np.ndarray) -> np.ndarray:
        """The exchange-local dates of UTC instants (naive datetime64)."""
        local = pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert(self.tz).tz_localize(None)
        return local.to_numpy().astype("datetime64[D]")

    def opens_closes(self, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each session date's regular open and close as UTC epoch ns (0 on other dates)."""
        opens = np.zeros(len(dates), np.int64)
        closes = np.zeros(len(dates), np.int64)
        for day in np.unique(dates[self.is_session(dates)]):
            at = dates == day
            lo, hi = self.time.open_close_seconds(day.astype(dt.date))
            opens[at], closes[at] = lo * 10**9, hi * 10**9
        return opens, closes


@cache
def exchange_days(calendar: str) -> ExchangeDays:
    """The named exchange calendar; a ValueError naming it when there is no such calendar."""
    try:
        time = TimeManager(calendar)
    except exchange_calendars.errors.InvalidCalendarName:
        raise ValueError(
            f"unknown exchange calendar {calendar!r}; expected a name such as XNYS or XLON"
        ) from None
    days = np.asarray(time.sessions(dt.date.min, dt.date.max), dtype="datetime64[D]")
    return ExchangeDays(time, days)


def calendar_faults(
    cal: ExchangeDays, ts: np.ndarray, interval: str
) -> list[tuple[str, np.ndarray]]:
    """Rows off the calendar by kind: non-session days, outside extended hours, off the grid.

    ``ts`` holds session dates for daily bars, UTC bar starts otherwise, all valid.
    """
    if interval == "1d":
        return [("non_session_day", ~cal.is_session(ts))]
    days = cal.local_days(ts)
    opens, _ = cal.opens_closes(days)
    step = INTERVAL_MINUTES[interval] * _MINUTE_NS
    # Bars before the open count back from it, so pre-market bars share the session's grid.
    off_grid = (ts.astype(np.int64) - opens) % step != 0
    return [
        ("non_session_day", ~cal.is_session(days)),
        ("outside_session_hours", ~cal.time.in_session_hours(ts)),
        ("off_grid", off_grid),
    ]


def looks_end_labelled(cal: ExchangeDays, ts: np.ndarray) -> bool:
    """True when no bar starts at its day's open yet some start at their day's close."""
    if not len(ts):
        return False
    opens, closes = cal.opens_closes(cal.local_days(ts))
    stamps = ts.astype(np.int64)
    return not (stamps == opens).any() and bool((stamps == closes).any())
