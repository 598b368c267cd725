"""Row operations on Bars the store relies on: sort, merge, dedupe, re-code, local time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from attrs import frozen

from scanner_core.bars import DTYPES, FIELDS, Bars


@frozen
class WriteStats:
    """What a write did: rows added, replaced (same symbol and ts, new values), unchanged,
    and rows superseded by a later row for the same symbol and ts within the same write."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0

    def __add__(self, other: WriteStats) -> WriteStats:
        return WriteStats(
            *(
                getattr(self, f) + getattr(other, f)
                for f in ("added", "replaced", "unchanged", "superseded")
            )
        )


def local_ns(ts: np.ndarray, tz: str) -> np.ndarray:
    """UTC datetime64[ns] (sorted or not) shifted to wall-clock time in ``tz``, vectorized.

    Offsets only change on the hour, so they are looked up once per distinct hour.
    """
    if not len(ts):
        return ts.copy()
    hours = ts.astype("datetime64[h]")
    if np.all(hours[1:] >= hours[:-1]):
        # Sorted input (the usual case): distinct hours are runs, no sort needed.
        starts = np.r_[0, np.flatnonzero(hours[1:] != hours[:-1]) + 1]
        distinct = hours[starts]
        inverse = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(hours)]))
    else:
        distinct, inverse = np.unique(hours, return_inverse=True)
    utc = pd.DatetimeIndex(distinct.astype("datetime64[ns]")).tz_localize("UTC")
    offsets = (utc.tz_convert(tz).tz_localize(None) - utc.tz_localize(None)).to_numpy()
    return ts + offsets[inverse.reshape(-1)]


def partition_keys(interval: str, ts: np.ndarray, tz: str) -> np.ndarray:
    """The partition name of each row: exchange session date, or year for daily bars."""
    unit = "Y" if interval == "1d" else "D"
    periods = (ts if interval == "1d" else local_ns(ts, tz)).astype(f"datetime64[{unit}]")
    if not len(periods):
        return periods.astype(str)
    # named once per distinct day or year: text for every row is the slow part
    number = periods.astype(np.int64)
    first = int(number.min())
    names = (np.datetime64(first, unit) + np.arange(int(number.max()) - first + 1)).astype(str)
    return names[number - first]


def normalize(bars: Bars) -> Bars:
    """The same rows with a sorted, used-only dictionary and rows sorted by (ts, code)."""
    used = np.unique(bars.code)
    names = np.asarray(bars.symbols, dtype=object)[used]
    order = np.argsort(names.astype(str), kind="stable")
    remap = np.full(len(bars.symbols), -1, dtype=np.int32)
    remap[used[order]] = np.arange(len(used), dtype=np.int32)
    code = remap[bars.code]
    rows = np.lexsort((code, bars.ts))
    if np.all(rows[1:] > rows[:-1]):
        rows = slice(None)
    cols = {f: getattr(bars, f)[rows] for f in FIELDS}
    return Bars(bars.interval, tuple(names[order]), code[rows], bars.ts[rows], **cols)


def concat(parts: Sequence[Bars]) -> Bars:
    """Rows of several Bars of one interval, in the given order, under one sorted dictionary."""
    symbols = tuple(sorted(set().union(*(p.symbols for p in parts))))
    lookup = np.asarray(symbols, dtype=str)
    code = [np.searchsorted(lookup, np.asarray(p.symbols, dtype=str))[p.code] for p in parts]
    cols = {f: np.concatenate([getattr(p, f) for p in parts]) for f in ("ts", *FIELDS)}
    return Bars(parts[0].interval, symbols, np.concatenate(code).astype(np.int32), **cols)


def repeated_keys(bars: Bars) -> np.ndarray:
    """For sorted bars: whether each row has the same (ts, code) as the row after it."""
    return (bars.ts[1:] == bars.ts[:-1]) & (bars.code[1:] == bars.code[:-1])


def keep_last(bars: Bars) -> tuple[Bars, int]:
    """Normalized bars with only the last row of each (ts, code), and how many were dropped."""
    repeated = repeated_keys(bars)
    if not repeated.any():
        return bars, 0
    return bars.take(np.r_[~repeated, True]), int(repeated.sum())


def merge(old: Bars, new: Bars) -> tuple[Bars, WriteStats]:
    """Union of two normalized Bars; on equal (symbol, ts) the new row wins."""
    both = concat([old, new])
    source = np.r_[np.zeros(len(old), np.int8), np.ones(len(new), np.int8)]
    rows = np.lexsort((source, both.code, both.ts))
    both, source = both.take(rows), source[rows]
    # A repeated key is always (old, new) next to each other after the sort.
    repeated = repeated_keys(both)
    same = repeated.copy()
    for f in FIELDS:
        v = getattr(both, f)
        same &= (v[1:] == v[:-1]) | (np.isnan(v[1:]) & np.isnan(v[:-1]))
    n_repeated, n_same = int(repeated.sum()), int(same.sum())
    stats = WriteStats(added=len(new) - n_repeated, replaced=n_repeated - n_same, unchanged=n_same)
    return both.take(np.r_[~repeated, True]), stats


def restrict(part: Bars, symbols: tuple[str, ...]) -> Bars:
    """A partition re-coded to ``symbols`` (sorted), dropping rows of other symbols."""
    return gather(part.interval, [part], symbols)


def gather(interval: str, parts: Sequence[Bars], symbols: tuple[str, ...]) -> Bars:
    """Partitions' rows, in order, re-coded to ``symbols`` (sorted) without rows of other
    symbols: each row copied once, straight into the result."""
    if len(parts) == 1 and parts[0].symbols == symbols:
        return parts[0]
    lookup = np.asarray(symbols, dtype=str)
    picks = []
    for part in parts:
        if part.symbols == symbols:
            picks.append((part, part.code, None))
            continue
        names = np.asarray(part.symbols, dtype=str)
        pos = np.searchsorted(lookup, names).clip(0, max(len(lookup) - 1, 0))
        hit = lookup[pos] == names if len(lookup) else np.zeros(len(names), bool)
        code = np.where(hit, pos, -1).astype(np.int32)[part.code]
        keep = code >= 0
        picks.append((part, code, None if keep.all() else keep))
    sizes = [len(code) if keep is None else int(keep.sum()) for _, code, keep in picks]
    starts = np.cumsum([0, *sizes]).tolist()
    out = {f: np.empty(starts[-1], DTYPES[f]) for f in ("code", "ts", *FIELDS)}
    for (part, code, keep), a, b in zip(picks, starts[:-1], starts[1:], strict=True):
        for f in ("code", "ts", *FIELDS):
            column = code if f == "code" else getattr(part, f)
            if keep is None:
                out[f][a:b] = column
            else:
                np.compress(keep, column, out=out[f][a:b])
    return Bars(interval, symbols, **out)
