"""BarStore: an embedded OHLCV store in a folder of Parquet partitions.

Layout: ``<root>/<interval>/<key>.parquet`` where ``key`` is the New York session date
(``2019-02-11``) for intraday intervals and the year (``2018``) for daily bars, so a
day of minute bars is one file and years of daily bars stay a handful of files.  The
file format is in ``partition``; writers are serialised by the lock in ``lock``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import pandas as pd

from scanner_core.bars import INTERVAL_MINUTES, Bars
from scanner_core.calendar import TimeManager
from scanner_core.importer import ImportReport, expand_paths, parse_file
from scanner_core.store.errors import StoreError
from scanner_core.store.lock import store_lock
from scanner_core.store.manifest import record_zone, recorded_zone
from scanner_core.store.partition import (
    read_partition,
    read_row_count,
    read_span,
    read_symbols,
    read_ts,
    write_partition,
)
from scanner_core.store.rows import (
    WriteStats,
    concat,
    gather,
    keep_last,
    merge,
    normalize,
    partition_keys,
    restrict,
)
from scanner_core.store.staging import Staging

EXCHANGE_TZ = "America/New_York"
#: Where the CLI keeps the store unless told otherwise (``--store`` or $SCANNER_STORE).
DEFAULT_ROOT = Path(".scanner") / "store"
#: Rows gathered from several files before one write, so many small files cost one merge.
_BATCH_ROWS = 2_000_000

log = logging.getLogger("scanner.store")

TimeLike = dt.datetime | dt.date | np.datetime64 | pd.Timestamp | str
T = TypeVar("T")


class BarStore:
    """An embedded OHLCV store in a folder of Parquet files.

    With ``skip_damaged``, a partition that cannot be read is left out of reads with one
    warning naming it; otherwise reading it raises StoreError.
    """

    def __init__(
        self, root: Path | str, tz: str | None = None, *, skip_damaged: bool = False
    ) -> None:
        self.root = Path(root)
        #: The zone whose dates name intraday partitions: given, else the store's own
        #: (its manifest), else New York's.
        self.tz = tz or recorded_zone(self.root) or EXCHANGE_TZ
        self.skip_damaged = skip_damaged
        self._skipped: set[Path] = set()
        self._footers: dict[Path, tuple[int, frozenset[str]]] = {}
        #: Whole partitions kept decoded while held (see ``hold``): path -> (mtime, bars).
        self._held: dict[Path, tuple[int, Bars]] | None = None

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
        on_file: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Validate and import CSV/Parquet files (folders: every such file under them).

        ``on_file(done, total)`` is called after each file is read.

        ``timestamps`` defaults to "start" (a stamp is the bar's start); pass "end" for
        bar-end labelled sources; ``tz`` (the zone of naive stamps) defaults to the
        ``calendar``'s.  See ``scanner_core.importer`` for the validation rules.
        Rows are gathered in batches per interval, staged per partition beside the store
        and each partition written once at the end; where two files hold the same symbol
        and time, the later file wins (counted as superseded, or replaced when stored
        before).
        """
        report = ImportReport()
        pending: dict[str, list[Bars]] = {}
        pending_rows: dict[str, int] = {}
        if recorded_zone(self.root) is None and not self.intervals():
            # a new store names its days as the calendar whose bars it holds does
            self.tz = str(TimeManager(calendar).tz)

        staging = Staging(self.root, self._partition_keys)

        def flush(name: str) -> None:
            pending_rows.pop(name)
            staging.add(concat(pending.pop(name)))

        files = expand_paths(paths)
        try:
            for done, path in enumerate(files, start=1):
                parsed = parse_file(
                    path,
                    timestamps=timestamps,
                    interval=interval,
                    symbol=symbol,
                    tz=tz,
                    calendar=calendar,
                )
                report.files.append(parsed.report)
                if on_file is not None:
                    on_file(done, len(files))
                if parsed.bars is not None and len(parsed.bars):
                    name = parsed.bars.interval
                    pending.setdefault(name, []).append(parsed.bars)
                    pending_rows[name] = pending_rows.get(name, 0) + len(parsed.bars)
                    if pending_rows[name] >= _BATCH_ROWS:
                        flush(parsed.bars.interval)
        except BaseException:
            staging.discard()
            raise
        if not staging.runs:
            # one batch or less: written straight away
            for name, parts in pending.items():
                report.stored[name] = self.write(concat(parts))
            return report
        for name in list(pending):
            flush(name)
        report.stored = staging.commit(self.write)
        return report

    def write(self, bars: Bars) -> WriteStats:
        """Merge bars into their partitions; a (symbol, ts) already stored is replaced.

        Each partition's read-merge-write holds the store's lock and ends in an atomic
        rename, so concurrent writers lose no rows and a failed write (StoreError naming
        the partition) leaves the stored partition as it was.  A stored partition that
        cannot be read is never overwritten.
        """
        if bars.interval not in INTERVAL_MINUTES:
            raise ValueError(f"unknown interval {bars.interval!r}")
        if not len(bars):
            return WriteStats()
        bars, superseded = keep_last(normalize(bars))
        folder = self.root / bars.interval
        keys = self._partition_keys(bars.interval, bars.ts)
        bounds = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        stats = WriteStats(superseded=superseded)
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(bars)], strict=True):
            part = bars.take(slice(lo, hi))
            path = folder / f"{keys[lo]}.parquet"
            with store_lock(self.root, path):
                if recorded_zone(self.root) is None:
                    record_zone(self.root, self.tz)
                if path.exists():
                    part, part_stats = merge(read_partition(path, bars.interval, None, None), part)
                else:
                    part_stats = WriteStats(added=len(part))
                write_partition(path, part)
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
        parts, out_symbols = self._read_range(interval, symbols, start, end)
        return gather(interval, parts, out_symbols)

    def load_days(
        self,
        interval: str,
        symbols: Sequence[str] | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> list[Bars]:
        """``load``'s rows one partition at a time (a day's, or a year's for daily bars),
        in ts order, each coded to the symbols ``load`` would return; empty ones left out.

        For work done day by day: no copy of every day's rows into one result first.
        """
        parts, out_symbols = self._read_range(interval, symbols, start, end)
        coded = (restrict(p, out_symbols) for p in parts)
        return [p for p in coded if len(p)]

    def _read_range(
        self,
        interval: str,
        symbols: Sequence[str] | None,
        start: TimeLike | None,
        end: TimeLike | None,
    ) -> tuple[list[Bars], tuple[str, ...]]:
        """The partitions' rows with ts in [start, end), each under its own symbols, and
        the symbols a load of them returns (those of ``symbols`` stored, sorted)."""
        lo = self.bound(start, interval)
        hi = self.bound(end, interval)
        parts = self._each(
            self._partitions(interval, lo, hi), lambda p: self._read(p, interval, lo, hi)
        )
        wanted = None if symbols is None else set(symbols)
        universe = sorted(set().union(*(p.symbols for p in parts)))
        out_symbols = tuple(universe if wanted is None else (s for s in universe if s in wanted))
        return [p for p in parts if len(p)], out_symbols

    def first_key(self, interval: str) -> np.datetime64 | None:
        """The first day the interval's earliest partition is named for (daily: its year's
        first day), or None when it has none."""
        stems = [p.stem for p in (self.root / interval).glob("*.parquet")]
        if not stems:
            return None
        first = min(stems)
        try:
            return np.datetime64(f"{first}-01-01" if interval == "1d" else first, "D")
        except ValueError:
            return None

    def intervals(self) -> list[str]:
        """Intervals that hold at least one partition, in INTERVAL_MINUTES order."""
        return [i for i in INTERVAL_MINUTES if any((self.root / i).glob("*.parquet"))]

    def sessions(self, interval: str) -> list[dt.date]:
        """Session dates with bars stored for an interval, ascending."""
        files = sorted((self.root / interval).glob("*.parquet"))
        if interval != "1d":
            return self._each(files, _session_of)
        days: set[dt.date] = set()
        for ts in self._each(files, read_ts):
            days.update(pd.DatetimeIndex(np.unique(ts)).date)
        return sorted(days)

    def missing_sessions(self, interval: str, sessions: Sequence[dt.date]) -> list[dt.date]:
        """The given sessions, between the interval's first and last stored one, that have
        no partition or no rows (daily bars: no stored bar on that date); a partition that
        cannot be read counts as missing."""
        if interval == "1d":
            stored = set(self.sessions("1d"))
        else:
            files = sorted((self.root / interval).glob("*.parquet"))
            stored = {_session_of(p) for p in files if _has_rows(p)}
        if not stored:
            return []
        first, last = min(stored), max(stored)
        return [d for d in sessions if first <= d <= last and d not in stored]

    def symbols(self, interval: str | None = None) -> list[str]:
        """Symbols stored for one interval, or for any interval when None, sorted."""
        found: set[str] = set()
        for i in [interval] if interval else self.intervals():
            for path in sorted((self.root / i).glob("*.parquet")):
                found |= self._partition_symbols(path)
        return sorted(found)

    def day_symbols(self, interval: str, day: dt.date) -> frozenset[str]:
        """Symbols with intraday bars of an interval stored for one session date."""
        return self._partition_symbols(self.root / interval / f"{day.isoformat()}.parquet")

    def _partition_symbols(self, path: Path) -> frozenset[str]:
        """A partition's symbols, read from its footer (no row read) and kept until the
        file changes; none for a missing partition, or a damaged one under
        ``skip_damaged``."""
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            return frozenset()
        cached = self._footers.get(path)
        if cached is None or cached[0] != stamp:
            names = self._each([path], read_symbols)
            cached = self._footers[path] = (stamp, frozenset(names[0] if names else ()))
        return cached[1]

    # -- holding decoded partitions ------------------------------------------------------

    def hold(self) -> None:
        """Keep every partition a load reads whole decoded, for the loads that follow.

        A warm-up loads the same days of history once per interval and again for each
        extension; held, each partition is decoded once and later loads slice it. A
        partition read in part (today's, up to now) is not held. Held rows stay until
        ``release``; a partition that changes on disk is read again.
        """
        if self._held is None:
            self._held = {}

    def release(self) -> None:
        """Drop the held partitions (see ``hold``)."""
        self._held = None

    def _read(
        self, path: Path, interval: str, lo: np.datetime64 | None, hi: np.datetime64 | None
    ) -> Bars:
        """A partition's rows in [lo, hi): sliced from the held partition when held."""
        if self._held is None:
            return read_partition(path, interval, lo, hi)
        stamp = path.stat().st_mtime_ns
        held = self._held.get(path)
        if held is None or held[0] != stamp:
            span = read_span(path)
            whole = span is None or ((lo is None or lo <= span[0]) and (hi is None or span[1] < hi))
            if not whole:
                return read_partition(path, interval, lo, hi)
            held = self._held[path] = (stamp, read_partition(path, interval, None, None))
        bars = held[1]
        a = 0 if lo is None else int(np.searchsorted(bars.ts, lo, "left"))
        b = len(bars) if hi is None else int(np.searchsorted(bars.ts, hi, "left"))
        return bars if (a, b) == (0, len(bars)) else bars.take(slice(a, max(a, b)))

    # -- helpers -------------------------------------------------------------------------

    def _each(self, paths: Iterable[Path], read: Callable[[Path], T]) -> list[T]:
        """``read`` of each path; with ``skip_damaged`` an unreadable one is left out."""
        out = []
        for path in paths:
            try:
                out.append(read(path))
            except StoreError as exc:
                if not self.skip_damaged:
                    raise
                if path not in self._skipped:
                    self._skipped.add(path)
                    log.warning("[STORE] Skipping a damaged partition: %s", exc)
        return out

    def _partition_keys(self, interval: str, ts: np.ndarray) -> np.ndarray:
        """The partition name of each row: exchange session date, or year for daily bars."""
        return partition_keys(interval, ts, self.tz)

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

    def bound(self, value: TimeLike | None, interval: str) -> np.datetime64 | None:
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


def _has_rows(path: Path) -> bool:
    """Whether a partition is named for a session, can be read and holds a row."""
    try:
        _session_of(path)
        return read_row_count(path) > 0
    except StoreError:
        return False


def _session_of(path: Path) -> dt.date:
    """The session an intraday partition is named for."""
    try:
        return dt.date.fromisoformat(path.stem)
    except ValueError:
        raise StoreError(
            f"{path}: not a partition name (expected a date like 2019-02-11)"
        ) from None
