"""DayFeed: one session's bars per interval, read in chunks and handed on as they close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from scanner_core.bars import INTERVAL_MINUTES, Bars
from scanner_core.calendar import TimeManager
from scanner_core.sources import BarSource
from scanner_core.store import concat

#: Bars are read an hour at a time: chunk edges sit on the hourly buckets of the day
#: (laid from the open and again from the end of a lunch break), so no 5m, 15m or 1h
#: bucket straddles two chunks.
CHUNK_MINUTES = 60


def utc64(moment: dt.datetime) -> np.datetime64:
    """A tz-aware datetime as naive UTC datetime64[ns], the Bars convention."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).to_datetime64()


def chunk_edges(calendar: TimeManager, day: dt.date) -> list[np.datetime64]:
    """The day's chunk edges from its pre-market start to its close, both included."""
    pre_start, open_ = (utc64(t) for t in calendar.pre_market(day))
    close = utc64(calendar.open_close(day)[1])
    step = np.timedelta64(CHUNK_MINUTES, "m")
    pause = calendar.lunch_break(day)
    morning_end = utc64(pause[0]) if pause else close
    edges = {pre_start, open_, close}
    edge = open_ - step
    while edge > pre_start:
        edges.add(edge)
        edge -= step
    edge = open_ + step
    while edge < morning_end:
        edges.add(edge)
        edge += step
    if pause:
        edge = utc64(pause[1])
        while edge < close:
            edges.add(edge)
            edge += step
    return sorted(edges)


class DayFeed:
    """Intraday bars of one session for a set of symbols, with a cursor per interval.

    Bars come through a BarSource (each symbol-day from its finest stored bars) one
    chunk at a time, so a day of a large universe is never in memory twice. A bar is
    handed on only once it has closed: ``interval`` after its start, or at the lunch
    break or the close when that comes first.
    """

    def __init__(
        self, source: BarSource, calendar: TimeManager, day: dt.date, intervals: Sequence[str]
    ) -> None:
        self.source = source
        self.calendar = calendar
        self.intervals = tuple(i for i in intervals if INTERVAL_MINUTES[i])
        self.symbols: set[str] = set()
        self._edges = chunk_edges(calendar, day)
        self.start, self.end = self._edges[0], self._edges[-1]
        #: The chunk most recently read is [_edges[_chunk - 1], _edges[_chunk]).
        self._chunk = 0
        self._pending: dict[str, Bars | None] = dict.fromkeys(self.intervals)

    @property
    def _loaded_to(self) -> np.datetime64:
        return self._edges[self._chunk]

    def add(self, symbols: Iterable[str], after: dt.datetime | None = None) -> None:
        """Feed these symbols too, from their first bar closing after ``after``."""
        fresh = sorted(set(symbols) - self.symbols)
        if not fresh:
            return
        self.symbols.update(fresh)
        if self._chunk:
            horizon = None if after is None else utc64(after)
            lo, hi = self._edges[self._chunk - 1], self._edges[self._chunk]
            self._take(fresh, lo, hi, horizon)

    def until(self, moment: dt.datetime) -> Iterator[Bars]:
        """The bars that closed at or before ``moment`` and were not handed on yet.

        Yields each interval's closed bars chunk by chunk, reading the next chunk only
        once the caller has taken the last, so at most one chunk is held at a time.
        """
        horizon = utc64(moment)
        while True:
            yield from self._closed(horizon)
            if self._loaded_to >= min(horizon, self.end):
                return
            lo, hi = self._edges[self._chunk], self._edges[self._chunk + 1]
            self._take(sorted(self.symbols), lo, hi, None)
            self._chunk += 1

    def _closed(self, horizon: np.datetime64) -> Iterator[Bars]:
        for interval in self.intervals:
            bars = self._pending[interval]
            if bars is None or not len(bars):
                continue
            cut = int(np.searchsorted(self._closes(bars), horizon, "right"))
            if cut:
                self._pending[interval] = bars.take(slice(cut, None))
                yield bars.take(slice(0, cut))

    def _closes(self, bars: Bars) -> np.ndarray:
        return self.calendar.bar_closes(bars.ts, INTERVAL_MINUTES[bars.interval])

    def _take(
        self,
        symbols: list[str],
        lo: np.datetime64,
        hi: np.datetime64,
        horizon: np.datetime64 | None,
    ) -> None:
        """Queue a chunk's bars per interval; with a horizon, only bars closing after it."""
        if not symbols:
            return
        loaded = self.source.load_many(self.intervals, symbols, lo, hi)
        for interval, new in loaded.items():
            if horizon is not None:
                new = new.take(self._closes(new) > horizon)
            if not len(new):
                continue
            pending = self._pending[interval]
            if pending is not None and len(pending):
                in_order = new.ts[0] > pending.ts[-1]  # a later chunk, not symbols added
                new = concat([pending, new])
                if not in_order:
                    new = new.take(np.lexsort((new.code, new.ts)))
            self._pending[interval] = new
