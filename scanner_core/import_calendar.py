"""The exchange calendar as the importer sees it: session days, hours and the bar grid."""

from __future__ import annotations

import datetime as dt
from functools import cache

import exchange_calendars
import numpy as np
from attrs import frozen

from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.calendar import TimeManager
from scanner_core.import_zones import utc_to_wall

_MINUTE_NS = 60 * 10**9


@frozen(eq=False)
class ExchangeDays:
    """A calendar's session dates (datetime64[D], ascending), each one's regular open and
    close (UTC epoch ns), and its TimeManager."""

    time: TimeManager
    days: np.ndarray
    opens: np.ndarray
    closes: np.ndarray

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
        return self._positions(dates) >= 0

    def local_days(self, ts: np.ndarray) -> np.ndarray:
        """The exchange-local dates of UTC instants (naive datetime64)."""
        return utc_to_wall(ts, self.tz).astype("datetime64[D]")

    def opens_closes(self, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each session date's regular open and close as UTC epoch ns (0 on other dates)."""
        at = self._positions(dates)
        session = at >= 0
        return np.where(session, self.opens[at], 0), np.where(session, self.closes[at], 0)

    def _positions(self, dates: np.ndarray) -> np.ndarray:
        """Each date's index in ``days``, -1 where the exchange does not trade."""
        day = dates.astype("datetime64[D]")
        at = np.searchsorted(self.days, day).clip(0, len(self.days) - 1)
        return np.where(self.days[at] == day, at, -1)


@cache
def exchange_days(calendar: str) -> ExchangeDays:
    """The named exchange calendar; a ValueError naming it when there is no such calendar."""
    try:
        time = TimeManager(calendar)
    except exchange_calendars.errors.InvalidCalendarName:
        raise ValueError(
            f"unknown exchange calendar {calendar!r}; expected a name such as XNYS or XLON"
        ) from None
    sessions = time.sessions(dt.date.min, dt.date.max)
    seconds = np.array([time.open_close_seconds(day) for day in sessions], np.int64)
    opens, closes = seconds.reshape(-1, 2).T * 10**9
    return ExchangeDays(time, np.asarray(sessions, dtype="datetime64[D]"), opens, closes)


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
