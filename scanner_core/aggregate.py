"""Coarser bars from finer ones: buckets laid from the exchange's open, vectorized."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scanner_core.bars import INTERVAL_MINUTES, Bars, empty_bars
from scanner_core.indicators import session_ids
from scanner_core.requirements import default_sessions

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager


def aggregate(bars: Bars, interval: str, calendar: TimeManager | None = None) -> Bars:
    """Aggregate intraday bars to a coarser ``interval`` (5m, 15m, 1h or 1d).

    Intraday buckets are the calendar's (laid from each session's open and from the end
    of a lunch break) and are labelled by their UTC start. ``1d`` groups by the
    exchange-local date. Open is the first bar's open, high the max, low the min, close
    the last close, volume the sum; empty buckets are absent. The source interval must
    divide the target one (5m bars make 15m and 1h bars, not 1m bars). The calendar
    defaults to New York's.
    """
    calendar = calendar or default_sessions()
    source, target = INTERVAL_MINUTES.get(bars.interval), INTERVAL_MINUTES.get(interval)
    if not source:
        raise ValueError(f"aggregate takes intraday bars, not {bars.interval!r}")
    if target is None or (target and (target <= source or target % source)):
        raise ValueError(f"cannot aggregate {bars.interval} bars to {interval!r}")
    if not len(bars):
        return empty_bars(interval, bars.symbols)
    if target:
        bucket = calendar.bucket_starts(bars.ts, target)
    else:
        days = session_ids(bars.ts, bars.interval, str(calendar.tz))
        bucket = days.astype("datetime64[D]").astype("datetime64[ns]")
    # Bars come sorted by ts, so buckets are non-decreasing: rank them without a sort,
    # then a stable sort on (bucket rank, code) groups each symbol's bars in time order.
    rank = np.r_[0, np.cumsum(bucket[1:] != bucket[:-1])]
    key = rank * len(bars.symbols) + bars.code
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.r_[0, np.flatnonzero(key[1:] != key[:-1]) + 1]
    ends = np.r_[starts[1:], len(key)] - 1
    first, last = order[starts], order[ends]
    return Bars(
        interval,
        bars.symbols,
        bars.code[first],
        bucket[first],
        bars.open[first],
        np.maximum.reduceat(bars.high[order], starts),
        np.minimum.reduceat(bars.low[order], starts),
        bars.close[last],
        np.add.reduceat(bars.volume[order], starts),
    )
