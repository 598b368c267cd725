"""DayFeed: one session's stored bars per interval, replayed up to a moment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from scanner_core.aggregate import aggregate
from scanner_core.bars import INTERVAL_MINUTES, Bars
from scanner_core.store import BarStore, concat


def utc64(moment: datetime) -> np.datetime64:
    """A tz-aware datetime as naive UTC datetime64[ns], the Bars convention."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).to_datetime64()


class DayFeed:
    """Intraday bars of one session for a set of symbols, with a cursor per interval.

    1-minute bars come from the store; coarser intraday intervals are aggregated
    from them. A bar is handed on only once it has closed (ts + interval <= t).
    """

    def __init__(
        self, store: BarStore, start: datetime, end: datetime, intervals: Sequence[str]
    ) -> None:
        self.store = store
        self.start = utc64(start)
        self.end = utc64(end)
        self.intervals = tuple(intervals)
        self.symbols: set[str] = set()
        self._bars: dict[str, Bars] = {}
        self._close: dict[str, np.ndarray] = {}
        self._pos: dict[str, int] = {}

    def add(self, symbols: Iterable[str], after: datetime | None = None) -> None:
        """Feed these symbols too, from their first bar closing after ``after``."""
        fresh = sorted(set(symbols) - self.symbols)
        if not fresh:
            return
        self.symbols.update(fresh)
        minute = self.store.load("1m", fresh, start=self.start, end=self.end)
        horizon = None if after is None else utc64(after)
        for interval in self.intervals:
            new = minute if interval == "1m" else aggregate(minute, interval)
            step = np.timedelta64(INTERVAL_MINUTES[interval], "m")
            if horizon is not None:
                new = new.take(new.ts + step > horizon)
            pending = self._pending(interval)
            merged = concat([pending, new]) if pending is not None else new
            rows = np.lexsort((merged.code, merged.ts))
            merged = merged.take(rows)
            self._bars[interval] = merged
            self._close[interval] = merged.ts + step
            self._pos[interval] = 0

    def _pending(self, interval: str) -> Bars | None:
        bars = self._bars.get(interval)
        if bars is None:
            return None
        return bars.take(slice(self._pos[interval], None))

    def until(self, moment: datetime) -> list[Bars]:
        """The bars of each interval that closed at or before ``moment``, not yet handed on."""
        horizon = utc64(moment)
        out = []
        for interval, bars in self._bars.items():
            lo = self._pos[interval]
            hi = int(np.searchsorted(self._close[interval], horizon, side="right"))
            if hi > lo:
                out.append(bars.take(slice(lo, hi)))
                self._pos[interval] = hi
        return out
