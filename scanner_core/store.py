"""The bar store: Parquet files partitioned by interval and session, read back as Bars.

Layout: ``<root>/<interval>/<key>.parquet`` where ``key`` is the New York session date
(``2019-02-11``) for intraday intervals and the year (``2018``) for daily bars, so a
day of minute bars is one file and years of daily bars stay a handful of files.  Each
file is sorted by (ts, symbol), keeps ``symbol`` dictionary encoded and lists its
symbols in the footer, so a load is a few column reads with no per-row Python.  Row
groups of ``_GROUP_ROWS`` let a time-range load skip (by their ts statistics) the
groups it does not need and decode the rest one group at a time into the result.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from attrs import frozen

from scanner_core.bars import FIELDS, INTERVAL_MINUTES, Bars, empty_bars
from scanner_core.importer import ImportReport, expand_paths, parse_file

EXCHANGE_TZ = "America/New_York"
#: Where the CLI keeps the store unless told otherwise (``--store`` or $SCANNER_STORE).
DEFAULT_ROOT = Path(".scanner") / "store"
#: Rows gathered from several files before one write, so many small files cost one merge.
_BATCH_ROWS = 2_000_000
#: Rows per Parquet row group: the unit a load skips or decodes at a time (~3 MiB).
_GROUP_ROWS = 2**16
#: Footer key holding a partition's sorted symbol list (JSON).
_SYMBOLS_KEY = b"scanner.symbols"
_DTYPES = {"code": np.int32, "ts": "datetime64[ns]", **dict.fromkeys(FIELDS, np.float64)}
_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns")),
        ("symbol", pa.dictionary(pa.int32(), pa.string())),
        *((f, pa.float64()) for f in FIELDS),
    ]
)

TimeLike = dt.datetime | dt.date | np.datetime64 | pd.Timestamp | str


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


class BarStore:
    """An embedded OHLCV store in a folder of Parquet files."""

    def __init__(self, root: Path | str, tz: str = EXCHANGE_TZ) -> None:
        self.root = Path(root)
        self.tz = tz

    # -- writing -------------------------------------------------------------------------

    def import_files(
        self,
        paths: Iterable[Path | str],
        *,
        timestamps: Literal["start", "end"] = "start",
        interval: str | None = None,
        symbol: str | None = None,
        tz: str | None = None,
        calendar: str = "XNYS",
    ) -> ImportReport:
        """Validate and import CSV/Parquet files (folders: every such file under them).

        ``timestamps`` defaults to "start" (a stamp is the bar's start); pass "end" for
        bar-end labelled sources; ``tz`` (the zone of naive stamps) defaults to the
        ``calendar``'s.  See ``scanner_core.importer`` for the validation rules.
        Files are written in batches per interval; where two files hold the same symbol
        and time, the later file wins (counted as superseded or replaced).
        """
        report = ImportReport()
        pending: dict[str, list[Bars]] = {}

        def flush(name: str) -> None:
            stats = self.write(concat(pending.pop(name)))
            report.stored[name] = report.stored.get(name, WriteStats()) + stats

        for path in expand_paths(paths):
            parsed = parse_file(
                path,
                timestamps=timestamps,
                interval=interval,
                symbol=symbol,
                tz=tz,
                calendar=calendar,
            )
            report.files.append(parsed.report)
            if parsed.bars is not None and len(parsed.bars):
                batch = pending.setdefault(parsed.bars.interval, [])
                batch.append(parsed.bars)
                if sum(map(len, batch)) >= _BATCH_ROWS:
                    flush(parsed.bars.interval)
        for name in list(pending):
            flush(name)
        return report

    def write(self, bars: Bars) -> WriteStats:
        """Merge bars into their partitions; a (symbol, ts) already stored is replaced."""
        if bars.interval not in INTERVAL_MINUTES:
            raise ValueError(f"unknown interval {bars.interval!r}")
        if not len(bars):
            return WriteStats()
        bars, superseded = _keep_last(normalize(bars))
        folder = self.root / bars.interval
        folder.mkdir(parents=True, exist_ok=True)
        keys = self._partition_keys(bars.interval, bars.ts)
        bounds = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        stats = WriteStats(superseded=superseded)
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(bars)], strict=True):
            part = bars.take(slice(lo, hi))
            path = folder / f"{keys[lo]}.parquet"
            if path.exists():
                part, part_stats = merge(_read(path, bars.interval, None, None), part)
            else:
                part_stats = WriteStats(added=len(part))
            _write(path, part)
            stats += part_stats
        return stats

    # -- reading -------------------------------------------------------------------------

    def load(
        self,
        interval: str,
        symbols: Sequence[str] | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> Bars:
        """Bars of one interval with ts in [start, end), for the given symbols (all when None).

        Tz-aware times are converted (to UTC for intraday, to the exchange date for
        daily); a ``date`` means that session's start; naive times and datetime64 are
        taken as already in the Bars convention.  The result's ``symbols`` is sorted.
        """
        lo = self._to_ts(start, interval)
        hi = self._to_ts(end, interval)
        parts = [_read(p, interval, lo, hi) for p in self._partitions(interval, lo, hi)]
        wanted = None if symbols is None else set(symbols)
        universe = sorted(set().union(*(p.symbols for p in parts)))
        out_symbols = tuple(universe if wanted is None else (s for s in universe if s in wanted))
        pieces = [_restrict(p, out_symbols) for p in parts]
        pieces = [p for p in pieces if len(p)]
        if not pieces:
            return empty_bars(interval, out_symbols)
        if len(pieces) == 1:
            return pieces[0]
        cols = {f: np.concatenate([getattr(p, f) for p in pieces]) for f in ("code", "ts", *FIELDS)}
        return Bars(interval, out_symbols, **cols)

    def intervals(self) -> list[str]:
        """Intervals that hold at least one partition, in INTERVAL_MINUTES order."""
        return [i for i in INTERVAL_MINUTES if any((self.root / i).glob("*.parquet"))]

    def sessions(self, interval: str) -> list[dt.date]:
        """Session dates with bars stored for an interval, ascending."""
        files = sorted((self.root / interval).glob("*.parquet"))
        if interval != "1d":
            return [dt.date.fromisoformat(p.stem) for p in files]
        days: set[dt.date] = set()
        for p in files:
            ts = pq.read_table(p, columns=["ts"]).column("ts").to_numpy()
            days.update(pd.DatetimeIndex(np.unique(ts)).date)
        return sorted(days)

    def symbols(self, interval: str | None = None) -> list[str]:
        """Symbols stored for one interval, or for any interval when None, sorted."""
        found: set[str] = set()
        for i in [interval] if interval else self.intervals():
            for p in (self.root / i).glob("*.parquet"):
                with pq.ParquetFile(p) as file:
                    found.update(_symbols(file))
        return sorted(found)

    # -- helpers -------------------------------------------------------------------------

    def _partition_keys(self, interval: str, ts: np.ndarray) -> np.ndarray:
        """The partition name of each row: exchange session date, or year for daily bars."""
        if interval == "1d":
            return ts.astype("datetime64[Y]").astype(str)
        return local_ns(ts, self.tz).astype("datetime64[D]").astype(str)

    def _partitions(self, interval: str, lo: np.datetime64 | None, hi: np.datetime64 | None):
        """Partition files that may hold rows in [lo, hi), in ts order."""
        files = sorted((self.root / interval).glob("*.parquet"))
        if interval == "1d":
            first = None if lo is None else str(lo.astype("datetime64[Y]"))
            last = None if hi is None else str(hi.astype("datetime64[Y]"))
        else:
            # Session dates are local; a day of slack on each side covers any UTC offset.
            first = (
                None if lo is None else str((lo - np.timedelta64(1, "D")).astype("datetime64[D]"))
            )
            last = (
                None if hi is None else str((hi + np.timedelta64(1, "D")).astype("datetime64[D]"))
            )
        return [
            p
            for p in files
            if (first is None or p.stem >= first) and (last is None or p.stem <= last)
        ]

    def _to_ts(self, value: TimeLike | None, interval: str) -> np.datetime64 | None:
        """A query bound in the Bars convention for this interval."""
        if value is None:
            return None
        if isinstance(value, np.datetime64):
            return value.astype("datetime64[ns]")
        daily = interval == "1d"
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            stamp = pd.Timestamp(value)
            return np.datetime64(stamp if daily else stamp.tz_localize(self.tz).tz_convert(None))
        stamp = pd.Timestamp(value)
        if stamp.tz is not None and daily:
            # a daily bar is its whole date: a moment on that date bounds as the date does
            stamp = stamp.tz_convert(self.tz).tz_localize(None).normalize()
        elif stamp.tz is not None:
            stamp = stamp.tz_convert(None)
        return np.datetime64(stamp.to_datetime64(), "ns")


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


def _keep_last(bars: Bars) -> tuple[Bars, int]:
    """Normalized bars with only the last row of each (ts, code), and how many were dropped."""
    repeated = (bars.ts[1:] == bars.ts[:-1]) & (bars.code[1:] == bars.code[:-1])
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
    repeated = (both.ts[1:] == both.ts[:-1]) & (both.code[1:] == both.code[:-1])
    same = repeated.copy()
    for f in FIELDS:
        v = getattr(both, f)
        same &= (v[1:] == v[:-1]) | (np.isnan(v[1:]) & np.isnan(v[:-1]))
    n_repeated, n_same = int(repeated.sum()), int(same.sum())
    stats = WriteStats(added=len(new) - n_repeated, replaced=n_repeated - n_same, unchanged=n_same)
    return both.take(np.r_[~repeated, True]), stats


def _write(path: Path, bars: Bars) -> None:
    """Write one partition atomically (temp file, then rename)."""
    symbol = pa.DictionaryArray.from_arrays(
        pa.array(bars.code, pa.int32()), pa.array(bars.symbols, pa.string())
    )
    arrays: list[Any] = [pa.array(bars.ts, pa.timestamp("ns")), symbol]
    arrays += [pa.array(getattr(bars, f), pa.float64()) for f in FIELDS]
    schema = _SCHEMA.with_metadata({_SYMBOLS_KEY: json.dumps(bars.symbols)})
    table = pa.Table.from_arrays(arrays, schema=schema)
    tmp = path.with_suffix(".parquet.tmp")
    # Price columns barely compress (lz4 saves ~25%) while decompression doubles load
    # time; uncompressed, plain-encoded floats decode at near memcpy speed.
    pq.write_table(
        table,
        tmp,
        row_group_size=_GROUP_ROWS,
        compression="none",
        use_dictionary=["symbol"],
    )
    os.replace(tmp, path)


def _read(path: Path, interval: str, lo: np.datetime64 | None, hi: np.datetime64 | None) -> Bars:
    """The partition's rows with ts in [lo, hi), under the file's own sorted dictionary.

    Only row groups whose ts statistics meet [lo, hi) are read, one at a time, straight
    into the result arrays, so a load holds the result plus one group, not a decoded
    table beside a copy of it.
    """
    with pq.ParquetFile(path) as file:
        symbols = _symbols(file)
        groups = [g for g in range(file.num_row_groups) if _meets(file, g, lo, hi)]
        sizes = [file.metadata.row_group(g).num_rows for g in groups]
        lookup = pa.array(symbols, pa.string())
        cols = {f: np.empty(sum(sizes), t) for f, t in _DTYPES.items()}
        for g, at in zip(groups, np.cumsum([0, *sizes])[:-1].tolist(), strict=True):
            table = file.read_row_group(g, use_threads=False)
            cols["code"][at : at + table.num_rows] = _codes(table.column("symbol"), lookup)
            for f in ("ts", *FIELDS):
                cols[f][at : at + table.num_rows] = table.column(f).to_numpy()
            del table
    # Group reads are small and alike; handing their freed blocks back keeps them from
    # adding to the peak of whatever the caller allocates next.
    pa.default_memory_pool().release_unused()
    a = 0 if lo is None else int(np.searchsorted(cols["ts"], lo, "left"))
    b = len(cols["ts"]) if hi is None else int(np.searchsorted(cols["ts"], hi, "left"))
    if (a, b) != (0, len(cols["ts"])):
        cols = {f: v[a : max(a, b)].copy() for f, v in cols.items()}
    for array in cols.values():
        array.flags.writeable = False
    return Bars(interval, symbols, **cols)


def _symbols(file: pq.ParquetFile) -> tuple[str, ...]:
    """A partition's sorted symbols: from the footer, or from the symbol column when a
    file written before the footer listed them lacks the key."""
    listed = (file.schema_arrow.metadata or {}).get(_SYMBOLS_KEY)
    if listed is not None:
        return tuple(json.loads(listed))
    column = file.read(columns=["symbol"]).column(0)
    return tuple(sorted(set().union(*(c.dictionary.to_pylist() for c in column.chunks))))


def _codes(column: pa.ChunkedArray, symbols: pa.Array) -> np.ndarray:
    """A dictionary column's codes into ``symbols`` (sorted, holding every value).

    Each chunk may carry its own dictionary; one equal to ``symbols`` (as written) is
    taken as is, any other is mapped by name.
    """
    parts = [
        c.indices.to_numpy()
        if c.dictionary.equals(symbols)
        else _remap(c.dictionary, symbols)[c.indices.to_numpy()]
        for c in column.chunks
    ]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _remap(names: pa.Array, symbols: pa.Array) -> np.ndarray:
    """Each of ``names``' position in ``symbols`` (sorted, holding them all)."""
    lookup = np.asarray(symbols.to_pylist(), str)
    return np.searchsorted(lookup, np.asarray(names.to_pylist(), str)).astype(np.int32)


def _meets(
    file: pq.ParquetFile, group: int, lo: np.datetime64 | None, hi: np.datetime64 | None
) -> bool:
    """Whether a row group may hold ts in [lo, hi) (True when it has no statistics)."""
    stats = file.metadata.row_group(group).column(0).statistics
    if stats is None or not stats.has_min_max:
        return True
    first, last = (pd.Timestamp(t).to_datetime64() for t in (stats.min, stats.max))
    return (lo is None or last >= lo) and (hi is None or first < hi)


def _restrict(part: Bars, symbols: tuple[str, ...]) -> Bars:
    """A partition re-coded to ``symbols`` (sorted), dropping rows of other symbols."""
    if part.symbols == symbols:
        return part
    lookup = np.asarray(symbols, dtype=str)
    names = np.asarray(part.symbols, dtype=str)
    pos = np.searchsorted(lookup, names).clip(0, max(len(lookup) - 1, 0))
    hit = lookup[pos] == names if len(lookup) else np.zeros(len(names), bool)
    remap = np.where(hit, pos, -1).astype(np.int32)
    code = remap[part.code]
    keep = code >= 0
    cols = {f: getattr(part, f)[keep] for f in ("ts", *FIELDS)}
    return Bars(part.interval, symbols, code[keep], **cols)
