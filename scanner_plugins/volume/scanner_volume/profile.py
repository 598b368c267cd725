"""Average cumulative volume at each minute of the session over the previous N sessions.

For symbol s and minute k of the session (k = 0 at the open, 390 at a regular
New York close), ``cumulative[s, k]`` is the volume of s's bars of that day
starting before open + k minutes. Only the bars a session streams count, as they
are what today's cumulative volume is made of: pre-market bars (when the store has
them) count from k = 0; after-hours bars, bars after an early close (13:00 on a half
day) and bars inside a lunch break never do. The profile is the mean of that curve
over the N sessions before the current one, built in one pass from the session's
closed bars of those days (``bars("1m", sessions=N + 1)``):
every bar adds its volume at slot ``minutes from the open + 1`` of an (S x slots)
table (one bincount), and a cumulative sum along minutes turns it into the curve
summed over days. A symbol needs bars in every one of the N sessions; others are
marked incomplete. Memory is S x slots floats, whatever N is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from scanner_core import SessionView

#: Minute slots of a regular New York session, the open (0) to the close (390) included;
#: longer sessions get more.
SLOTS = 391


class VolumeProfile:
    """Per-symbol mean cumulative volume by minute of the session, for one day."""

    def __init__(self, symbols: Sequence[str], average: np.ndarray, complete: np.ndarray) -> None:
        self.symbols = tuple(symbols)
        #: (symbols x SLOTS) mean cumulative volume at each minute after the open.
        self.average = average
        #: True for symbols with bars in each of the N previous sessions.
        self.complete = complete

    def at(self, minute: int) -> np.ndarray:
        """Mean cumulative volume at ``minute`` after the open, one value per symbol."""
        return self.average[:, min(max(minute, 0), self.average.shape[1] - 1)]


def build_profile(data: SessionView, day: dt.date, days: int) -> VolumeProfile:
    """The profile of the view's symbols over the ``days`` sessions before ``day``.

    Only closed bars of those sessions are read, through the view.
    """
    symbols = data.symbols
    n = len(symbols)
    calendar = data.calendar
    previous = data.sessions_before(day, days)
    if len(previous) < days:
        return VolumeProfile(symbols, np.zeros((n, SLOTS)), np.zeros(n, bool))
    bars = data.bars("1m", sessions=days + 1)
    cols = bars.code.astype(np.intp)
    day_ids = np.array(previous, "datetime64[D]")
    dates = data.session_dates(bars.ts)
    which = np.searchsorted(day_ids, dates)
    inside = (which < days) & (day_ids[np.minimum(which, days - 1)] == dates)
    bounds = np.array([calendar.open_close_seconds(d) for d in previous], np.int64)
    opens = bounds[:, 0]
    slots = max(SLOTS, int((bounds[:, 1] - opens).max()) // 60 + 1)
    which = np.minimum(which, days - 1)
    seconds = bars.ts.astype("datetime64[s]").astype(np.int64)
    slot = np.maximum((seconds - opens[which]) // 60 + 1, 0)
    counted = inside & (slot < slots) & calendar.streamed(bars.ts)
    added = np.bincount(
        cols[counted] * slots + slot[counted], weights=bars.volume[counted], minlength=n * slots
    )
    average = added.reshape(n, slots).cumsum(axis=1) / days
    present = np.zeros((n, days), bool)
    present[cols[inside], which[inside]] = True
    return VolumeProfile(symbols, average, present.all(axis=1))
