"""Average cumulative volume at each minute of the session over the previous N sessions.

For symbol s and minute k of the session (k = 0 at the open, 390 at a regular
New York close), ``cumulative[s, k]`` is the volume of s's bars of that day
starting before open + k minutes. Only the bars a session streams count, as they
are what today's cumulative volume is made of: pre-market bars (when the store has
them) count from k = 0; after-hours bars, bars after an early close (13:00 on a half
day) and bars inside a lunch break never do. The profile is the mean of that curve
over the N sessions before the current one, built in one pass from the bar store:
every bar adds its volume at slot ``minutes from the open + 1`` of an (S x slots)
table (one bincount), and a cumulative sum along minutes turns it into the curve
summed over days. A symbol needs bars in every one of the N sessions; others are
marked incomplete. Memory is S x slots floats, whatever N is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from scanner_core.bars import Bars
from scanner_core.indicators import session_ids
from scanner_core.requirements import sessions_back

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


def build_profile(
    store, symbols: Sequence[str], calendar, day: dt.date, days: int
) -> VolumeProfile:
    """The profile of these symbols over the ``days`` sessions before ``day``.

    ``store`` loads bars (``load(interval, symbols, start, end)``); ``calendar`` is a
    TimeManager (sessions and their opens). Only bars before ``day`` are read.
    """
    n = len(symbols)
    previous = sessions_back(calendar, day - dt.timedelta(days=1), days)
    if len(previous) < days or store is None:
        return VolumeProfile(symbols, np.zeros((n, SLOTS)), np.zeros(n, bool))
    bars: Bars = store.load("1m", list(symbols), previous[0], day)
    where = {s: i for i, s in enumerate(symbols)}
    cols = np.array([where.get(s, -1) for s in bars.symbols], np.intp)[bars.code]
    day_ids = np.array([np.datetime64(d, "D").astype(np.int64) for d in previous])
    bounds = np.array([calendar.open_close_seconds(d) for d in previous], np.int64)
    opens = bounds[:, 0]
    slots = max(SLOTS, int((bounds[:, 1] - opens).max()) // 60 + 1)
    which = np.searchsorted(day_ids, session_ids(bars.ts, "1m", str(calendar.tz)))
    inside = (cols >= 0) & (which < days)
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
