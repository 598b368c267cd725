"""Average cumulative volume at each minute of the session over the previous N sessions.

For symbol s and minute k of the session (k = 0 at the open, 390 at a regular
New York close), ``cumulative[s, k]`` is the volume of s's bars of that day
starting before open + k minutes. Only the bars a session streams count, as they
are what today's cumulative volume is made of: pre-market bars (when the store has
them) count from k = 0; after-hours bars, bars after an early close (13:00 on a half
day) and bars inside a lunch break never do. The profile is the mean of that curve
over the N sessions before the current one, built in one pass from the session's
closed bars of those days: every bar adds its volume at slot ``minutes from the open +
1`` of an (S x slots) table (one bincount), and a cumulative sum along minutes turns it
into the curve summed over days. A symbol needs bars in every one of the N sessions;
others are marked incomplete. The first profile reads each of the N sessions
(``day_bars("1m", day)``); a ProfileMemo keeps each session's counted bars (column,
slot, volume) so that the next day's reads only the session before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from attrs import frozen

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
    return ProfileMemo().profile(data, day, days)


@frozen
class _Day:
    """One past session's bars as a profile counts them."""

    #: Column, minute slot after the open (0: at or before it) and volume of each streamed
    #: bar, in the view's (time, column) order; 32-bit columns and slots, as every past
    #: session is kept.
    cols: np.ndarray
    slots: np.ndarray
    volume: np.ndarray
    #: Columns with any bar that session.
    present: np.ndarray
    #: Seconds from the open to the close.
    span: int


class ProfileMemo:
    """The counted bars of the sessions a profile was built from, kept for the next day's.

    A day's profile then reads one session, the one before it, instead of all N: the
    others come from the memo. Profiles are the same to the last bit as ones built
    afresh, since the bars are counted in the same order.
    """

    def __init__(self) -> None:
        self._symbols: tuple[str, ...] | None = None
        self._days: dict[dt.date, _Day] = {}

    def profile(self, data: SessionView, day: dt.date, days: int) -> VolumeProfile:
        """The profile of the view's symbols over the ``days`` sessions before ``day``."""
        symbols = tuple(data.symbols)
        n = len(symbols)
        previous = data.sessions_before(day, days)
        if len(previous) < days:
            return VolumeProfile(symbols, np.zeros((n, SLOTS)), np.zeros(n, bool))
        if symbols != self._symbols:
            self._symbols, self._days = symbols, {}
        self._days = {d: v for d, v in self._days.items() if d in previous}
        unseen = [d for d in previous if d not in self._days]
        if unseen:
            self._read(data, unseen)
        held = [self._days[d] for d in previous]
        slots = max(SLOTS, max(d.span for d in held) // 60 + 1)
        cols = np.concatenate([d.cols for d in held])
        slot = np.concatenate([d.slots for d in held])
        volume = np.concatenate([d.volume for d in held])
        counted = slot < slots
        added = np.bincount(
            cols[counted].astype(np.intp) * slots + slot[counted],
            weights=volume[counted],
            minlength=n * slots,
        )
        average = added.reshape(n, slots).cumsum(axis=1) / days
        present = np.zeros((n, days), bool)
        for k, d in enumerate(held):
            present[d.present, k] = True
        return VolumeProfile(symbols, average, present.all(axis=1))

    def _read(self, data: SessionView, unseen: list[dt.date]) -> None:
        """Count the bars of the ``unseen`` sessions, each read on its own."""
        calendar = data.calendar
        n = len(data.symbols)
        for d in unseen:
            bars = data.day_bars("1m", d)
            opens, closes = calendar.open_close_seconds(d)
            rows = calendar.streamed(bars.ts)
            seconds = bars.ts[rows].astype("datetime64[s]").astype(np.int64)
            self._days[d] = _Day(
                bars.code[rows],
                np.maximum((seconds - opens) // 60 + 1, 0).astype(np.int32),
                bars.volume[rows],
                np.flatnonzero(np.bincount(bars.code, minlength=n)),
                closes - opens,
            )
