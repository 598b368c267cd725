"""The bar store: Parquet files partitioned by interval and session, read back as Bars.

Layout: ``<root>/<interval>/<key>.parquet`` where ``key`` is the New York session date
(``2019-02-11``) for intraday intervals and the year (``2018``) for daily bars, so a
day of minute bars is one file and years of daily bars stay a handful of files.  Each
file is sorted by (ts, symbol), holds one row group, and keeps ``symbol`` dictionary
encoded, so a load is a few column reads with no per-row Python.
"""

from __future__ import annotations

import datetime as dt
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
        tz: str = EXCHANGE_TZ,
    ) -> ImportReport:
        """Validate and import CSV/Parquet files (folders: every such file under them).

        ``timestamps`` defaults to "start" (a stamp is the bar's start); pass "end" for
        bar-end labelled sources.  See ``scanner_core.importer`` for the validation rules.
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
                path, timestamps=timestamps, interval=interval, symbol=symbol, tz=tz
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
                part, part_stats = merge(_read(path, bars.interval), part)
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
        parts = [_read(p, interval) for p in self._partitions(interval, lo, hi)]
        wanted = None if symbols is None else set(symbols)
        universe = sorted(set().union(*(p.symbols for p in parts)))
        out_symbols = tuple(universe if wanted is None else (s for s in universe if s in wanted))
        pieces = [_restrict(p, out_symbols, lo, hi) for p in parts]
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
                column = pq.read_table(p, columns=["symbol"]).column("symbol")
                for chunk in column.chunks:
                    found.update(chunk.dictionary.to_pylist())
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
        if stamp.tz is not None:
            stamp = stamp.tz_convert(self.tz).tz_localize(None) if daily else stamp.tz_convert(None)
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
    table = pa.Table.from_arrays(arrays, schema=_SCHEMA)
    tmp = path.with_suffix(".parquet.tmp")
    # Price columns barely compress (lz4 saves ~25%) while decompression doubles load
    # time; uncompressed, plain-encoded floats read from a memory map at near memcpy speed.
    pq.write_table(
        table,
        tmp,
        row_group_size=max(len(bars), 1),
        compression="none",
        use_dictionary=["symbol"],
    )
    os.replace(tmp, path)


def _read(path: Path, interval: str) -> Bars:
    """One partition as Bars with the file's own (sorted) dictionary, without copies."""
    # ParquetFile.read keeps one chunk per row group (read_table splits into batches).
    table = pq.ParquetFile(path, memory_map=True).read()
    if not table.num_rows:
        return empty_bars(interval)
    table = table.combine_chunks() if table.column("ts").num_chunks > 1 else table
    symbol = table.column("symbol").chunk(0)
    cols = {f: table.column(f).chunk(0).to_numpy() for f in FIELDS}
    return Bars(
        interval,
        tuple(symbol.dictionary.to_pylist()),
        symbol.indices.to_numpy(),
        table.column("ts").chunk(0).to_numpy(),
        **cols,
    )


def _restrict(
    part: Bars, symbols: tuple[str, ...], lo: np.datetime64 | None, hi: np.datetime64 | None
) -> Bars:
    """A partition cut to [lo, hi) and re-coded to ``symbols`` (a sorted superset-or-subset)."""
    a = 0 if lo is None else int(np.searchsorted(part.ts, lo, "left"))
    b = len(part) if hi is None else int(np.searchsorted(part.ts, hi, "left"))
    if part.symbols == symbols:
        return part if (a, b) == (0, len(part)) else part.take(slice(a, b))
    lookup = np.asarray(symbols, dtype=str)
    names = np.asarray(part.symbols, dtype=str)
    pos = np.searchsorted(lookup, names).clip(0, max(len(lookup) - 1, 0))
    hit = lookup[pos] == names if len(lookup) else np.zeros(len(names), bool)
    remap = np.where(hit, pos, -1).astype(np.int32)
    code = remap[part.code[a:b]]
    keep = code >= 0
    cols = {f: getattr(part, f)[a:b][keep] for f in ("ts", *FIELDS)}
    return Bars(part.interval, symbols, code[keep], **cols)
