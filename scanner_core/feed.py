"""DayFeed: one session's stored bars per interval, read in chunks and handed on as they close."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from scanner_core.aggregate import aggregate
from scanner_core.bars import INTERVAL_MINUTES, Bars
from scanner_core.store import BarStore, concat

#: Bars are read from the store an hour at a time: chunk edges sit at the open plus whole
#: hours, so no 5m, 15m or 1h bucket (all aligned to the open) straddles two chunks.
CHUNK = np.timedelta64(60, "m")


def utc64(moment: datetime) -> np.datetime64:
    """A tz-aware datetime as naive UTC datetime64[ns], the Bars convention."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).to_datetime64()


class DayFeed:
    """Intraday bars of one session for a set of symbols, with a cursor per interval.

    1-minute bars come from the store an hour at a time, so a day of a large universe is
    never in memory twice; coarser intraday intervals are aggregated from them. A bar
    is handed on only once it has closed (ts + interval <= t).
    """

    def __init__(
        self,
        store: BarStore,
        start: datetime,
        end: datetime,
        intervals: Sequence[str],
        *,
        open_: datetime | None = None,
    ) -> None:
        self.store = store
        self.start = utc64(start)
        self.end = utc64(end)
        self.intervals = tuple(intervals)
        self.symbols: set[str] = set()
        anchor = utc64(open_) if open_ is not None else self.start
        # the first chunk edge after start that lies on the open's hourly grid
        self._next_edge = anchor - ((anchor - self.start) // CHUNK) * CHUNK
        if self._next_edge <= self.start:
            self._next_edge += CHUNK
        #: The chunk most recently read is [_chunk_lo, _loaded_to).
        self._chunk_lo = self._loaded_to = self.start
        self._pending: dict[str, Bars | None] = dict.fromkeys(self.intervals)

    def add(self, symbols: Iterable[str], after: datetime | None = None) -> None:
        """Feed these symbols too, from their first bar closing after ``after``."""
        fresh = sorted(set(symbols) - self.symbols)
        if not fresh:
            return
        self.symbols.update(fresh)
        if self._loaded_to > self.start:
            horizon = None if after is None else utc64(after)
            self._take(self._read(fresh, self._chunk_lo, self._loaded_to), horizon)

    def until(self, moment: datetime) -> Iterator[Bars]:
        """The bars that closed at or before ``moment`` and were not handed on yet.

        Yields each interval's closed bars chunk by chunk, reading the next chunk only
        once the caller has taken the last, so at most one chunk is held at a time.
        """
        horizon = utc64(moment)
        while True:
            yield from self._closed(horizon)
            if self._loaded_to >= min(horizon, self.end):
                return
            lo, hi = self._loaded_to, min(self._next_edge, self.end)
            self._take(self._read(sorted(self.symbols), lo, hi), None)
            self._chunk_lo, self._loaded_to, self._next_edge = lo, hi, self._next_edge + CHUNK

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
        """When each bar closes: its end, or the session's end for the day's last bucket
        (15:30-16:00 of an hourly grid)."""
        span = np.timedelta64(INTERVAL_MINUTES[bars.interval], "m")
        return np.minimum(bars.ts + span, self.end)

    def _read(self, symbols: list[str], lo: np.datetime64, hi: np.datetime64) -> Bars:
        return self.store.load("1m", symbols, start=lo, end=hi)

    def _take(self, minutes: Bars, horizon: np.datetime64 | None) -> None:
        """Queue a chunk's bars per interval; with a horizon, only bars closing after it."""
        for interval in self.intervals:
            new = minutes if interval == "1m" else aggregate(minutes, interval)
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
