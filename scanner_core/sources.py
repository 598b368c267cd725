"""BarSource: bars of any interval from a store, by the one rule for coarse bars.

For each (symbol, trading day), an intraday interval's bars come from the finest
interval stored for that symbol-day that divides it: 5-minute bars are built from the
symbol's 1-minute bars of that day when it has any, and a vendor's stored 5-minute
bars are used only for symbol-days with no finer bars. A daily bar is the stored one
when that day has one, else it is built from that symbol-day's regular-session
intraday bars (finest first, as above). Warm-up, streaming and the end of day all load
through this rule, so a symbol joining mid-session sees exactly the bars a symbol
streamed all along saw. The rule decides per symbol and per day, never per batch.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from scanner_core.aggregate import aggregate
from scanner_core.bars import FIELDS, INTERVAL_MINUTES, Bars, empty_bars
from scanner_core.indicators import session_ids
from scanner_core.store import BarStore, TimeLike, concat
from scanner_core.store.rows import gather

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager

#: Intraday intervals, finest first.
INTRADAY = tuple(i for i, minutes in INTERVAL_MINUTES.items() if minutes)


class BarSource:
    """Bars of any interval from a store, each symbol-day from its finest stored bars."""

    def __init__(self, store: BarStore, calendar: TimeManager) -> None:
        self.store = store
        self.calendar = calendar
        self._intervals: list[str] | None = None

    @property
    def tz(self) -> str:
        """The time zone that names a stored intraday bar's day (the store's partitions)."""
        return self.store.tz

    def hold(self) -> None:
        """Keep partitions read whole decoded until ``release`` (``BarStore.hold``)."""
        self.store.hold()

    def release(self) -> None:
        """Drop the partitions kept since ``hold``."""
        self.store.release()

    def holds_before(self, interval: str, moment: np.datetime64) -> bool:
        """Whether any stored interval that gives ``interval`` bars may hold a bar before
        ``moment`` (by partition names: a day's partition starts at its local midnight,
        a year's on January 1)."""
        sources = set(self._sources(interval))
        if interval == "1d":
            sources.update(i for i in INTRADAY if i in self.stored_intervals())
        firsts = [self.store.first_key(i) for i in sources]
        known = [f for f in firsts if f is not None]
        if len(known) < len(firsts):
            return True  # a partition not named as we name them: no shortcut
        if not known:
            return False
        first = min(known)
        if interval != "1d":
            # the earliest partition's day starts at its local midnight
            first = self.store.bound(first.astype(dt.date), interval)
        return bool(first < moment)

    def stored_intervals(self) -> list[str]:
        """Intervals the store holds, finest first (read once)."""
        if self._intervals is None:
            self._intervals = self.store.intervals()
        return self._intervals

    def finest(self) -> str | None:
        """The finest interval the store holds, or None for an empty store."""
        stored = self.stored_intervals()
        return stored[0] if stored else None

    def can_feed(self, interval: str) -> bool:
        """Whether some stored interval can give bars of ``interval`` by the rule."""
        return bool(self._sources(interval)) or (
            interval == "1d" and any(INTERVAL_MINUTES[i] for i in self.stored_intervals())
        )

    def load(
        self,
        interval: str,
        symbols: Sequence[str] | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        rows_until: TimeLike | None = None,
    ) -> Bars:
        """Bars of ``interval`` starting in [start, end), by the rule.

        Intraday bars built from finer ones take the finer bars with ts in
        [start, rows_until) (``rows_until`` defaults to ``end``); a bucket is kept when it
        starts before ``end``. Pass bucket boundaries, or a ``rows_until`` no later than
        the moment every kept bucket has closed, so no bucket is built from part of
        its bars and none from a bar still open.
        """
        if interval not in INTERVAL_MINUTES:
            raise ValueError(f"unknown interval {interval!r}")
        if interval == "1d":
            return self._daily(symbols, start, end)
        return self._intraday(interval, symbols, start, end, rows_until, {})

    def load_many(
        self, intervals: Sequence[str], symbols: Sequence[str], start: TimeLike, end: TimeLike
    ) -> dict[str, Bars]:
        """Bars of several intraday intervals over one range, each stored interval read once."""
        reads: dict[str, Bars] = {}
        return {i: self._intraday(i, symbols, start, end, None, reads) for i in intervals}

    def _intraday(
        self,
        interval: str,
        symbols: Sequence[str] | None,
        start: TimeLike | None,
        end: TimeLike | None,
        rows_until: TimeLike | None,
        reads: dict[str, Bars],
    ) -> Bars:
        until = end if rows_until is None else rows_until
        sources = self._sources(interval)
        if len(sources) == 1 and sources[0] != interval and sources[0] not in reads:
            return self._built(interval, sources[0], symbols, start, end, until)
        parts = []
        claimed: set[tuple[int, str]] = set()
        for k, source in enumerate(sources):
            bars = reads.get(source)
            if bars is None:
                # bars of the interval itself need no later rows; finer ones may need
                # rows up to when the last kept bucket closed
                bound = end if source == interval else until
                bars = reads[source] = self.store.load(source, symbols, start, bound)
            coarser = k + 1 < len(sources)
            # days only matter where a finer source claimed some or a coarser one follows
            days = self._days(bars) if claimed or coarser else None
            if claimed:
                keep = _unclaimed(bars, days, claimed)
                if not keep.all():
                    bars, days = bars.take(keep), days[keep]
            if coarser:
                claimed |= self._present(source, bars, days, start, until, symbols)
            if source != interval:
                bars = aggregate(self._streamed(bars), interval, self.calendar)
                if end is not None:
                    bars = bars.take(bars.ts < self.store_bound(end, interval))
            else:
                bars = self._streamed(bars, spans=True)
            if len(bars):
                parts.append(bars)
        return _sorted(parts, interval, symbols)

    def _built(
        self,
        interval: str,
        source: str,
        symbols: Sequence[str] | None,
        start: TimeLike | None,
        end: TimeLike | None,
        until: TimeLike | None,
    ) -> Bars:
        """Bars of ``interval`` from the one stored finer ``source``, built a partition at a
        time: days of finer rows are never first copied into one.

        A bucket spanning two partitions (a session across the store's midnight) is
        built from the rows joined instead.
        """
        days = self.store.load_days(source, symbols, start, until)
        built = [aggregate(self._streamed(day), interval, self.calendar) for day in days]
        if any(len(a) and len(b) and a.ts[-1] >= b.ts[0] for a, b in itertools.pairwise(built)):
            joined = gather(source, days, days[0].symbols)
            built = [aggregate(self._streamed(joined), interval, self.calendar)]
        if end is not None:
            bound = self.store_bound(end, interval)
            built = [b.take(b.ts < bound) for b in built]
        kept = [b for b in built if len(b)]
        if not kept:
            return empty_bars(interval, tuple(sorted(symbols or ())))
        return gather(interval, kept, kept[0].symbols)

    def _streamed(self, bars: Bars, *, spans: bool = False) -> Bars:
        """The bars a session streams (pre-market start to close, outside a lunch break),
        so no bucket takes in a minute of a break or after the close (the 11:00 hour in
        Tokyo ends at 11:30, New York's 15:30 at 16:00). With ``spans``, a stored bar is
        kept when any part of it is streamed (a vendor's 03:30 pre-market hour holds the
        04:00-04:30 minutes, as one built from minutes does)."""
        if not len(bars):
            return bars
        keep = self.calendar.streamed(bars.ts)
        if spans and not keep.all():
            minutes = INTERVAL_MINUTES[bars.interval]
            last = self.calendar.bar_closes(bars.ts, minutes) - np.timedelta64(1, "ns")
            keep |= self.calendar.streamed(last)
        return bars if keep.all() else bars.take(keep)

    def store_bound(self, value: TimeLike, interval: str) -> np.datetime64:
        """A query bound as the store reads it, for comparing with bar times."""
        return self.store.bound(value, interval)

    def _sources(self, interval: str) -> list[str]:
        """Stored intervals that make ``interval`` bars, finest first (itself last)."""
        minutes = INTERVAL_MINUTES[interval]
        stored = self.stored_intervals()
        if not minutes:
            return ["1d"] if "1d" in stored else []
        return [
            i
            for i in INTRADAY
            if i in stored and INTERVAL_MINUTES[i] <= minutes and minutes % INTERVAL_MINUTES[i] == 0
        ]

    def _days(self, bars: Bars) -> np.ndarray:
        """Each row's trading day (days since epoch), as the store's partitions name it."""
        if not len(bars):
            return np.empty(0, np.int64)
        return session_ids(bars.ts, bars.interval, self.tz)

    def _present(
        self,
        interval: str,
        bars: Bars,
        days: np.ndarray,
        start: TimeLike | None,
        until: TimeLike | None,
        symbols: Sequence[str] | None,
    ) -> set[tuple[int, str]]:
        """(day, symbol) pairs holding bars of ``interval`` on the days [start, until)
        touches: from the partitions' symbol lists, so the answer never depends on which
        rows a query happened to read (an open range read every row: from the rows)."""
        dates = self._store_dates(start, until, interval)
        if dates is None:
            return _pairs(bars, days)
        wanted = None if symbols is None else set(symbols)
        found = set()
        for date in dates:
            names = self.store.day_symbols(interval, date)
            day = int(np.datetime64(date, "D").astype(np.int64))
            found.update((day, s) for s in (names if wanted is None else names & wanted))
        return found

    def _store_dates(
        self, start: TimeLike | None, until: TimeLike | None, interval: str
    ) -> list[dt.date] | None:
        """The store's partition dates that [start, until) touches; None for an open range."""
        if start is None or until is None:
            return None
        lo, hi = self.store_bound(start, interval), self.store_bound(until, interval)
        if hi <= lo:
            return []
        first, last = session_ids(np.array([lo, hi - np.timedelta64(1, "ns")]), "1m", self.tz)
        return [np.datetime64(d, "D").astype(dt.date) for d in range(int(first), int(last) + 1)]

    def _daily(
        self, symbols: Sequence[str] | None, start: TimeLike | None, end: TimeLike | None
    ) -> Bars:
        """Stored daily bars, and for symbol-days without one, bars built from the
        day's regular-session intraday bars."""
        stored = (
            self.store.load("1d", symbols, start, end)
            if "1d" in self.stored_intervals()
            else empty_bars("1d", tuple(symbols or ()))
        )
        parts = [stored] if len(stored) else []
        intraday = [i for i in INTRADAY if i in self.stored_intervals()]
        if intraday and symbols is not None:
            # each (day, symbol) with a stored bar as one sorted key: a day's symbols are a
            # slice of them, with no Python pair per stored bar of what may be years
            width = max(len(stored.symbols), 1)
            days = stored.ts.astype("datetime64[D]").astype(np.int64)
            keys = np.unique(days * width + stored.code)
            for day in self._range_sessions(start, end):
                key = int(np.datetime64(day, "D").astype(np.int64))
                lo, hi = np.searchsorted(keys, [key * width, (key + 1) * width])
                have = {stored.symbols[c] for c in (keys[lo:hi] % width).tolist()}
                missing = [s for s in symbols if s not in have]
                # a day no partition lists the symbol on needs no read
                holders = self._holders(day, intraday)
                missing = [s for s in missing if s in holders]
                if missing:
                    built = self._built_day(day, missing, intraday)
                    if len(built):
                        parts.append(built)
        return _sorted(parts, "1d", symbols)

    def _range_sessions(self, start: TimeLike | None, end: TimeLike | None) -> list[dt.date]:
        """The calendar's sessions in [start, end) (daily bounds: dates)."""
        lo = self.store_bound(start, "1d") if start is not None else None
        hi = self.store_bound(end, "1d") if end is not None else None
        if lo is None or hi is None:
            raise ValueError("a daily load that builds bars needs a start and an end")
        first = lo.astype("datetime64[D]").astype(dt.date)
        last = (hi - np.timedelta64(1, "ns")).astype("datetime64[D]").astype(dt.date)
        return list(self.calendar.sessions(first, last)) if first <= last else []

    def _holders(self, day: dt.date, intraday: list[str]) -> set[str]:
        """Symbols with intraday bars stored on a session's dates."""
        open_, close = self.calendar.open_close(day)
        found: set[str] = set()
        for source in intraday:
            for date in self._store_dates(open_, close, source) or ():
                found |= self.store.day_symbols(source, date)
        return found

    def _built_day(self, day: dt.date, symbols: list[str], intraday: list[str]) -> Bars:
        """One day's daily bars from its regular-session bars, each symbol's finest."""
        start, end = self.calendar.open_close(day)
        key = int(np.datetime64(day, "D").astype(np.int64))
        claimed: set[tuple[int, str]] = set()
        parts = []
        for source in intraday:
            bars = self.store.load(source, symbols, start, end)
            days = self._days(bars)
            # the session's own date, not the store's partition date: a Tokyo morning
            # lies in the previous New York day
            local = session_ids(bars.ts, source, str(self.calendar.tz))
            keep = _unclaimed(bars, days, claimed) & (local == key)
            claimed |= self._present(source, bars, days, start, end, symbols)
            bars = bars.take(keep & self.calendar.regular_hours(bars.ts))
            if len(bars):
                parts.append(aggregate(bars, "1d", self.calendar))
        return _sorted(parts, "1d", symbols) if parts else empty_bars("1d", tuple(symbols))


def _pairs(bars: Bars, days: np.ndarray) -> set[tuple[int, str]]:
    """The distinct (day, symbol) pairs of some rows."""
    if not len(bars):
        return set()
    width = len(bars.symbols)
    keys = np.unique(days * width + bars.code)
    return {(int(k // width), bars.symbols[int(k % width)]) for k in keys.tolist()}


def _unclaimed(bars: Bars, days: np.ndarray, claimed: set[tuple[int, str]]) -> np.ndarray:
    """True for rows whose (day, symbol) has no finer bars."""
    if not claimed or not len(bars):
        return np.ones(len(bars), bool)
    width = len(bars.symbols)
    keys = days * width + bars.code
    distinct, inverse = np.unique(keys, return_inverse=True)
    taken = np.array(
        [(int(k // width), bars.symbols[int(k % width)]) in claimed for k in distinct.tolist()],
        bool,
    )
    return ~taken[inverse.reshape(-1)]


def _sorted(parts: list[Bars], interval: str, symbols: Sequence[str] | None) -> Bars:
    """Parts as one Bars sorted by (ts, code)."""
    if not parts:
        return empty_bars(interval, tuple(sorted(symbols or ())))
    if len(parts) == 1:
        return parts[0]
    both = concat(parts)
    order = np.lexsort((both.code, both.ts))
    return Bars(
        interval,
        both.symbols,
        both.code[order],
        both.ts[order],
        *(getattr(both, f)[order] for f in FIELDS),
    )
