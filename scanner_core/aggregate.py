"""Coarser bars from 1-minute bars: buckets aligned to the session open, vectorized."""

from __future__ import annotations

import datetime as dt

import numpy as np

from scanner_core.bars import INTERVAL_MINUTES, Bars, empty_bars
from scanner_core.store import EXCHANGE_TZ, local_ns

_MINUTE_NS = 60 * 10**9
_DAY_MINUTES = 1440


def aggregate(
    bars: Bars,
    interval: str,
    *,
    tz: str = EXCHANGE_TZ,
    session_open: dt.time = dt.time(9, 30),
) -> Bars:
    """Aggregate 1-minute bars to ``interval`` (5m, 15m, 1h or 1d).

    Intraday buckets start at the session open in ``tz`` (09:30, 10:30... for 1h) and
    are labelled by their UTC start; bars before the open fall in buckets counted back
    from it.  ``1d`` groups by exchange-local date.  Open is the first bar's open, high
    the max, low the min, close the last close, volume the sum; empty buckets are absent.
    """
    if bars.interval != "1m":
        raise ValueError(f"aggregate takes 1-minute bars, not {bars.interval!r}")
    if interval not in INTERVAL_MINUTES or interval == "1m":
        raise ValueError(f"cannot aggregate to {interval!r}; choose 5m, 15m, 1h or 1d")
    if not len(bars):
        return empty_bars(interval, bars.symbols)
    offset = local_ns(bars.ts, tz) - bars.ts
    local_min = (bars.ts + offset).astype(np.int64) // _MINUTE_NS
    if interval == "1d":
        bucket = local_min // _DAY_MINUTES * _DAY_MINUTES
    else:
        width = INTERVAL_MINUTES[interval]
        open_min = session_open.hour * 60 + session_open.minute
        day = local_min // _DAY_MINUTES * _DAY_MINUTES
        bucket = day + open_min + (local_min - day - open_min) // width * width
    # Bars come sorted by ts, so buckets are non-decreasing: rank them without a sort,
    # then a stable sort on (bucket rank, code) groups each symbol's bars in time order.
    rank = np.r_[0, np.cumsum(bucket[1:] != bucket[:-1])]
    key = rank * len(bars.symbols) + bars.code
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.r_[0, np.flatnonzero(key[1:] != key[:-1]) + 1]
    ends = np.r_[starts[1:], len(key)] - 1
    first, last = order[starts], order[ends]
    bucket_ns = bucket[first].astype(np.int64) * _MINUTE_NS
    if interval == "1d":
        ts = bucket_ns.astype("datetime64[ns]")
    else:
        ts = (bucket_ns - offset[first].astype(np.int64)).astype("datetime64[ns]")
    return Bars(
        interval,
        bars.symbols,
        bars.code[first],
        ts,
        bars.open[first],
        np.maximum.reduceat(bars.high[order], starts),
        np.minimum.reduceat(bars.low[order], starts),
        bars.close[last],
        np.add.reduceat(bars.volume[order], starts),
    )
