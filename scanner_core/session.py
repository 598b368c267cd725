"""SessionData: the running session's bars as columnar arrays, its symbols and indicators.

Each interval's bars of the current session live in one float64 block of shape
(field, time, symbol), preallocated and grown geometrically; a cross-section is one
time row, so advancing writes contiguous memory. Symbols are columns, added once
and never moved, so an index taken from ``index()`` stays valid all session.

Time: ``current_time`` is the close of the newest bar advanced (an intraday bar
closes ``interval`` after its start, or at the session's end when that comes first;
a daily bar at the end of its date). Only bars closed at or before it are visible,
in memory and in whatever is loaded from the store. A symbol warmed up mid-session
gets its indicator state rebuilt from the store up to that time; bars advanced
afterwards continue it. A symbol that leaves (``leave_session``) stops receiving
bars; when it rejoins it is warmed up again to the current time, and only bars
after that time reach it, so bars it missed are never replayed as new ones.

Reads are kept until what they depend on changes: several scanners scanning at one
clock tick share one computation of each indicator and bar field, and a daily
indicator is computed once a day however often intraday scans read it. Arrays a read
returns are therefore read-only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scanner_core.bars import FIELDS, INTERVAL_MINUTES, Bars, empty_bars, finer, in_time_order
from scanner_core.clock import SessionClock
from scanner_core.indicators import (
    Bar,
    IndicatorConfig,
    IndicatorValues,
    Kernel,
    kernel_for,
    session_ids,
)
from scanner_core.local_time import day_bounds
from scanner_core.lookback import Lookback
from scanner_core.requirements import (
    REGULAR_MINUTES,
    Need,
    RequirementAnalyzer,
    default_sessions,
)
from scanner_core.sources import BarSource

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager
    from scanner_core.store import BarStore

#: Cells (symbols x times) per warm-up matrix: bounds its memory (x5 fields x 8 bytes)
#: while keeping the chunks few, since each chunk steps the kernels once per time.
WARM_CELLS = 2**21
_FIELD = {f: i for i, f in enumerate(FIELDS)}
_NAT = np.datetime64("NaT", "ns")


class _Frame:
    """One interval's bars of the current session: a (field, time, symbol) block."""

    def __init__(self, interval: str, rows: int, columns: int) -> None:
        self.interval = interval
        self.ts = np.full(rows, _NAT)
        self.data = np.full((len(FIELDS), rows, columns), np.nan)
        self.length = 0
        self.session: int | None = None

    def append(self, ts: np.datetime64) -> int:
        """A new time row for ts (growing the block when full); its index."""
        if self.length and ts <= self.ts[self.length - 1]:
            raise ValueError(
                f"{self.interval} bars out of order: {ts} is not after {self.ts[self.length - 1]}"
            )
        if self.length == self.ts.shape[0]:
            self._reshape(self.length + max(self.length // 2, 16), self.data.shape[2])
        self.ts[self.length] = ts
        self.length += 1
        return self.length - 1

    def widen(self, columns: int) -> None:
        """Room for this many symbol columns."""
        self._reshape(self.ts.shape[0], columns)

    def _reshape(self, rows: int, columns: int) -> None:
        ts = np.full(rows, _NAT)
        ts[: self.length] = self.ts[: self.length]
        data = np.full((len(FIELDS), rows, columns), np.nan)
        data[:, : self.length, : self.data.shape[2]] = self.data[:, : self.length]
        self.ts, self.data = ts, data

    def clear(self) -> None:
        """Forget every row (a new session starts)."""
        self.data[:, : self.length] = np.nan
        self.ts[: self.length] = _NAT
        self.length = 0


class _LocalDays:
    """Exchange-local session ids of UTC instants, keeping the bounds of the last day seen.

    Consecutive bars and reads fall on the same day almost always, so pandas converts
    time zones once a day instead of on every bar and every read.
    """

    def __init__(self, tz: str) -> None:
        self.tz = tz
        self._start = self._end = _NAT
        self._id = 0

    def session(self, at: np.datetime64) -> int:
        """The session id (days since epoch of the exchange-local date) of a UTC instant."""
        if not self._start <= at < self._end:
            self._id = int(session_ids(np.array([at]), "1m", self.tz)[0])
            self._start, self._end = day_bounds(self._id, self.tz)
        return self._id


def _read_only(arr: np.ndarray) -> np.ndarray:
    """arr, frozen so that a reader sharing a cached read cannot change it for the others."""
    arr.flags.writeable = False
    return arr


def _grow(arr: np.ndarray, n: int, fill: object) -> np.ndarray:
    """arr extended along its last axis to n entries with fill."""
    out = np.full((*arr.shape[:-1], n), fill, arr.dtype)
    out[..., : arr.shape[-1]] = arr
    return out


class SessionData:
    """Bars, symbols and indicators of one running session, columnar over symbols."""

    def __init__(
        self,
        store: BarStore | None = None,
        *,
        calendar: TimeManager | None = None,
        tz: str | None = None,
        capacity: int | None = None,
        symbol_capacity: int = 64,
        base_interval: str | None = None,
        clock: SessionClock | None = None,
    ) -> None:
        self.calendar = calendar or default_sessions()
        self.tz = tz or str(self.calendar.tz)
        #: The store read through the one rule for coarse bars (``scanner_core.sources``).
        self.store = None if store is None else BarSource(store, self.calendar)
        #: The session's finest interval: nothing finer can be streamed or read.
        self.base_interval = base_interval
        self.requirements = RequirementAnalyzer()
        self._capacity = capacity
        self._width = symbol_capacity
        self._symbols: list[str] = []
        self._column: dict[str, int] = {}
        #: The last ``_columns_of``: (symbols, how many columns there were, their columns).
        self._indexed: tuple[tuple[str, ...], int, np.ndarray] | None = None
        self._in_session = np.zeros(symbol_capacity, bool)
        self._live = np.zeros(symbol_capacity, bool)
        #: Columns tracked but not loaded yet, in the order they were tracked.
        self._pending: dict[int, None] = {}
        self._frames: dict[str, _Frame] = {}
        #: per interval: first frame row a column owns, last row it had a bar (-1: none)
        self._since: dict[str, np.ndarray] = {}
        self._last_row: dict[str, np.ndarray] = {}
        #: per interval: each column's newest bar from before its frame rows (field x symbol)
        self._before: dict[str, np.ndarray] = {}
        self._kernels: dict[IndicatorConfig, Kernel] = {}
        #: Kernels registered but not warmed up yet for the loaded columns: warmed
        #: together before anything reads or advances them, so registering several
        #: indicators in a row reads the store's history once, not once each.
        self._cold: list[Kernel] = []
        #: Per scanner name, the indicators it declared: all a view for it may read.
        self.declared: dict[str, frozenset[IndicatorConfig]] = {}
        #: The session's one clock, shared with the loop and the calendar that move it.
        self.clock = clock if clock is not None else SessionClock()
        self._lookback = Lookback(self.store, self.calendar, self.tz, self.requirements, self.clock)
        #: The latest session end ``advance`` was given: bars starting before it close by it.
        self._session_end: np.datetime64 | None = None
        self._days = _LocalDays(self.tz)
        #: Bumped when symbols are added or become live or not: what every read masks by.
        self._members = 0
        #: Bumped when any bar, frame or column bookkeeping changes: what latest() reads.
        self._bars = 0
        #: Cached reads: indicator -> ((kernel version, session, members), values);
        #: (field, interval) -> (bars, values); interval -> (bars, newest-bar positions);
        #: the clock as a Timestamp; the symbols tuple.
        self._reads: dict[IndicatorConfig, tuple[tuple[int, int, int], IndicatorValues]] = {}
        self._latest: dict[tuple[str, str], tuple[int, np.ndarray]] = {}
        self._where: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        self._stamp: tuple[np.datetime64, pd.Timestamp] | None = None
        self._names: tuple[str, ...] = ()

    # -- symbols -------------------------------------------------------------------------

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every tracked symbol, in column order."""
        if len(self._names) != len(self._symbols):
            self._names = tuple(self._symbols)
        return self._names

    def index(self, symbols: str | Iterable[str]) -> np.ndarray:
        """Column of each symbol (-1 for one not tracked)."""
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        return np.array([self._column.get(s, -1) for s in names], dtype=np.intp)

    def _columns_of(self, symbols: tuple[str, ...]) -> np.ndarray:
        """``index(symbols)`` of a loaded Bars' symbols, kept for the next load naming the
        same ones while no column is added (each replayed chunk names every symbol)."""
        kept = self._indexed
        if kept is not None and kept[1] == len(self._symbols) and kept[0] == symbols:
            return kept[2]
        columns = _read_only(self.index(symbols))
        self._indexed = (symbols, len(self._symbols), columns)
        return columns

    @property
    def streamed_symbols(self) -> list[str]:
        """Tracked symbols that take bars: loaded, or waiting for their lazy load.

        Symbols that left the session without staying in the universe are not among them.
        """
        n = len(self._symbols)
        wanted = self._live[:n].copy()
        wanted[list(self._pending)] = True
        return [self._symbols[c] for c in np.flatnonzero(wanted).tolist()]

    def in_session(self) -> np.ndarray:
        """True for tracked symbols that are in the session."""
        return self._in_session[: len(self._symbols)].copy()

    def track(self, symbols: Iterable[str]) -> None:
        """Add symbols to the scan universe; their history loads when first read."""
        for col in self._columns(symbols).tolist():
            if not self._live[col]:
                self._pending[col] = None

    def add_symbol(self, symbol: str) -> bool:
        """Bring a symbol into the session, warmed up; False if it already was in it."""
        return bool(self.add_symbols([symbol])[0])

    def add_symbols(self, symbols: Iterable[str]) -> np.ndarray:
        """Bring symbols into the session, warmed up; True for each that was not in it."""
        cols = self._columns(symbols)
        self._warm_cold()
        added = ~self._in_session[cols]
        cold = np.unique(cols[~self._live[cols]])
        self._warm(cold)
        self._in_session[cols] = True
        return added

    def leave_session(self, symbol: str, *, keep_tracking: bool = False) -> bool:
        """Take a symbol out of the session; it keeps its column but gets no more bars.

        With ``keep_tracking`` a symbol of the scan universe stays tracked: it still
        gets bars and scanners still see it; only its place in the session ends.
        """
        col = self._column.get(symbol)
        if col is None or not (self._in_session[col] or self._live[col]):
            return False
        self._in_session[col] = False
        if keep_tracking:
            return True
        self._live[col] = False
        self._members += 1
        self._bars += 1
        for interval in self._frames:
            self._last_row[interval][col] = -1
            self._before[interval][:, col] = np.nan
        return True

    def _columns(self, symbols: Iterable[str]) -> np.ndarray:
        """Columns of these symbols, adding the new ones."""
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        fresh = list(dict.fromkeys(s for s in names if s not in self._column))
        if fresh:
            need = len(self._symbols) + len(fresh)
            if need > self._width:
                self._widen(max(need, self._width + self._width // 2))
            for s in fresh:
                self._column[s] = len(self._symbols)
                self._symbols.append(s)
            self._members += 1
            self._bars += 1
        return np.array([self._column[s] for s in names], dtype=np.intp)

    def _widen(self, width: int) -> None:
        self._width = width
        self._in_session = _grow(self._in_session, width, False)
        self._live = _grow(self._live, width, False)
        for interval, frame in self._frames.items():
            frame.widen(width)
            self._since[interval] = _grow(self._since[interval], width, 0)
            self._last_row[interval] = _grow(self._last_row[interval], width, -1)
            self._before[interval] = _grow(self._before[interval], width, np.nan)
        for kernel in self._kernels.values():
            kernel.resize(width)
        self._bars += 1

    def _frame(self, interval: str) -> _Frame:
        frame = self._frames.get(interval)
        if frame is None:
            if interval not in INTERVAL_MINUTES:
                raise ValueError(f"unknown interval {interval!r}")
            minutes = INTERVAL_MINUTES[interval]
            # a regular day of intraday bars; daily bars a few days at first (grown as
            # days pass: a backtest's first day holds one, and 256 were 80 MB at 8,000)
            rows = self._capacity or (REGULAR_MINUTES // minutes + 1 if minutes else 16)
            frame = self._frames[interval] = _Frame(interval, rows, self._width)
            self._since[interval] = np.zeros(self._width, np.int64)
            self._last_row[interval] = np.full(self._width, -1, np.int64)
            self._before[interval] = np.full((len(FIELDS), self._width), np.nan)
            self._bars += 1
        return frame

    # -- indicators ----------------------------------------------------------------------

    def add_indicator(self, symbols: str | Sequence[str] | None, config: IndicatorConfig) -> None:
        """Register an indicator (for these symbols, all tracked when None) and warm it up.

        Kernels run vectorized over every column, so the indicator is computed for all
        tracked symbols; ``symbols`` sets whose history requirement it adds to (and
        tracks them).
        """
        names = None if symbols is None else ([symbols] if isinstance(symbols, str) else symbols)
        if names is not None:
            self.track(names)
        self.requirements.add_indicator(config, names)
        if config not in self._kernels:
            self._check_interval(config.interval, f"indicator {config.name}({config.period})")
            self._frame(config.interval)
            self._cold.append(kernel_for(config, self._width))
            self._kernels[config] = self._cold[-1]

    def _warm_cold(self) -> None:
        """Warm up the kernels registered since the last warm-up, all in one pass."""
        if self._cold:
            kernels, self._cold = self._cold, []
            self._warm(np.flatnonzero(self._live), kernels)

    def _check_interval(self, interval: str, what: str) -> None:
        """Refuse an interval finer than the session's base: no bars of it exist."""
        base = self.base_interval
        if interval not in INTERVAL_MINUTES:
            raise ValueError(f"{what}: unknown interval {interval!r}")
        if base is not None and finer(interval, base):
            raise ValueError(
                f"{what} reads {interval} bars, finer than the session's base interval {base}"
                " (the store holds no finer bars)"
            )

    @property
    def daily_read(self) -> bool:
        """Whether anything reads daily bars (an indicator, a read, a history need), so
        the session must be handed each day's daily bar at its close."""
        return "1d" in self._frames or "1d" in self.requirements.needs()

    @property
    def indicator_intervals(self) -> frozenset[str]:
        """The bar intervals registered indicators read, which the session must stream."""
        return frozenset(config.interval for config in self._kernels)

    def add_requirements(self, requirements: dict, symbols: Sequence[str] | None = None) -> None:
        """Register a scanner's ``symbol_requirements`` (e.g. {"history": {"1d": 30}})."""
        self._warm_cold()
        self.requirements.add_requirements(requirements, symbols)

    def indicator(self, config: IndicatorConfig) -> IndicatorValues:
        """An indicator over all tracked symbols (registered and warmed up on first use).

        The arrays are read-only and shared by every read until the indicator changes.
        """
        if config not in self._kernels:
            self.add_indicator(None, config)
        self._load_pending()
        kernel = self._kernels[config]
        if self._now is not None:
            kernel.session = self._session_now(config.interval)
        key = (kernel.version, kernel.session, self._members)
        cached = self._reads.get(config)
        if cached is not None and cached[0] == key:
            return cached[1]
        read = kernel.read()
        n = len(self._symbols)
        live = self._live[:n]
        values = IndicatorValues(
            _read_only(np.where(live, read.values[:n], np.nan)),
            _read_only(read.valid[:n] & live),
        )
        self._reads[config] = (key, values)
        return values

    # -- time and bars -------------------------------------------------------------------

    @property
    def current_time(self) -> pd.Timestamp | None:
        """The session clock (UTC): the close of the newest bar, or as set."""
        if self._now is None:
            return None
        if self._stamp is None or self._stamp[0] != self._now:
            self._stamp = (self._now, pd.Timestamp(self._now).tz_localize("UTC"))
        return self._stamp[1]

    @property
    def _now(self) -> np.datetime64 | None:
        return self.clock.now64

    def set_time(self, when: object) -> None:
        """Move the clock forward (e.g. to pre-market); naive times are UTC."""
        self.clock.advance(when)
        self._lookback.release()

    def _close_time(self, interval: str, ts: np.datetime64) -> np.datetime64:
        minutes = INTERVAL_MINUTES[interval]
        if minutes:
            return self.calendar.bar_closes(np.array([ts]), minutes)[0]
        next_day = pd.Timestamp(ts.astype("datetime64[D]") + np.timedelta64(1, "D"))
        close = next_day.tz_localize(self.tz).tz_convert("UTC").tz_localize(None)
        return close.to_datetime64().astype("datetime64[ns]")

    def _session_now(self, interval: str) -> int:
        """The session the clock is in, as session-scoped indicators read it.

        A clock at a bar's close still belongs to that bar's session: an intraday bar's
        end, or the midnight that closes a daily bar (an end-of-day scan reads its day).
        """
        assert self._now is not None
        return self._days.session(self._now - np.timedelta64(1, "ns"))

    def _horizon(self, interval: str) -> np.datetime64 | None:
        """Exclusive upper bound on the ts of bars closed by now."""
        if self._now is None:
            return None
        minutes = INTERVAL_MINUTES[interval]
        if minutes:
            # a short bucket (15:30-16:00 of an hourly grid, or the one a lunch break cuts)
            # closed with the session or the break
            ended = self.calendar.closed_before(self._now, minutes)
            if self._session_end is not None and self._session_end <= self._now:
                return max(ended, self._session_end)
            return ended
        local = pd.Timestamp(self._now).tz_localize("UTC").tz_convert(self.tz)
        return np.datetime64(local.date(), "D").astype("datetime64[ns]")

    def advance(
        self,
        interval: str,
        ts: np.datetime64,
        index: np.ndarray,
        open: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
        *,
        session_end: np.datetime64 | None = None,
    ) -> None:
        """Append one cross-section: the bars starting at ts of the columns in ``index``.

        Bars of columns not live in the session (not loaded, or removed) and bars with
        a NaN close are dropped. Raises ValueError for a ts not after the previous one.
        The clock moves to the bars' close, or to ``session_end`` when that comes first
        (the 15:30 bucket of an hourly grid closes at 16:00).
        """
        self._warm_cold()
        self._lookback.release()
        ts = np.datetime64(ts, "ns")
        frame = self._frame(interval)
        if INTERVAL_MINUTES[interval]:
            session = self._days.session(ts)
        else:
            session = int(ts.astype("datetime64[D]").astype(np.int64))
        if INTERVAL_MINUTES[interval] and frame.session not in (None, session):
            self._roll(interval)
        frame.session = session
        row = frame.append(ts)
        if len(index) and (index.min() < 0 or index.max() >= len(self._symbols)):
            raise ValueError(
                f"{interval} bars at {ts}: column index outside 0..{len(self._symbols) - 1}"
            )
        keep = self._live[index] & ~np.isnan(close)
        if not keep.all():
            index, open, high, low, close, volume = (
                a[keep] for a in (index, open, high, low, close, volume)
            )
        for i, values in enumerate((open, high, low, close, volume)):
            frame.data[i, row, index] = values
        self._last_row[interval][index] = row
        self._bars += 1
        bar = Bar(open, high, low, close, volume, session)
        for config, kernel in self._kernels.items():
            if config.interval == interval:
                kernel.update(index, bar)
        closes = self._close_time(interval, ts).astype("datetime64[ns]")
        if session_end is not None:
            session_end = np.datetime64(session_end, "ns")
            self._session_end = session_end
            closes = min(closes, session_end)
        self.set_time(closes)

    def replay(self, bars: Bars, *, session_end: np.datetime64 | None = None) -> int:
        """Advance through Bars (sorted by ts) one cross-section at a time; the count."""
        column = self._columns_of(bars.symbols)
        bounds = np.flatnonzero(bars.ts[1:] != bars.ts[:-1]) + 1
        starts = np.r_[0, bounds] if len(bars) else np.empty(0, np.intp)
        ends = np.r_[bounds, len(bars)] if len(bars) else starts
        fields = [getattr(bars, f) for f in FIELDS]
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            # Mapped one cross-section at a time: a whole day's codes as intp would be
            # the largest temporary of a replay.
            idx = column[bars.code[lo:hi]]
            known = idx >= 0
            cut = slice(lo, hi) if known.all() else np.arange(lo, hi)[known]
            self.advance(
                bars.interval,
                bars.ts[lo],
                idx[known],
                *(f[cut] for f in fields),
                session_end=session_end,
            )
        return len(starts)

    def _roll(self, interval: str) -> None:
        """Start a new session in the frame, remembering each column's newest bar."""
        frame = self._frames[interval]
        last = self._last_row[interval]
        has = np.flatnonzero(last >= 0)
        self._before[interval][:, has] = frame.data[:, last[has], has]
        last[:] = -1
        self._since[interval][:] = 0
        frame.clear()

    # -- reads ---------------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Bytes held by the bar frames and indicator state."""
        frames = sum(f.data.nbytes + f.ts.nbytes for f in self._frames.values())
        kernels = sum(a.nbytes for k in self._kernels.values() for a in k.state().values())
        return frames + kernels

    def latest(self, field: str, interval: str = "1m") -> np.ndarray:
        """Each tracked symbol's newest visible bar's field (NaN when it has none).

        The array is read-only and shared by every read until a bar arrives.
        """
        if field not in _FIELD:
            raise ValueError(f"unknown bar field {field!r} (known: {', '.join(FIELDS)})")
        if interval not in self._frames:
            self._check_interval(interval, f"latest({field!r})")
        self._load_pending()
        frame = self._frame(interval)
        cached = self._latest.get((field, interval))
        if cached is not None and cached[0] == self._bars:
            return cached[1]
        i = _FIELD[field]
        has, flat = self._newest(interval)
        recent = frame.data[i].reshape(-1).take(flat)
        out = _read_only(np.where(has, recent, self._before[interval][i, : len(has)]))
        self._latest[(field, interval)] = (self._bars, out)
        return out

    def _newest(self, interval: str) -> tuple[np.ndarray, np.ndarray]:
        """Per column: whether its newest bar is in the frame, and where in a field's plane.

        A flat position lets each field be one ``take`` instead of a 2-D fancy index.
        """
        cached = self._where.get(interval)
        if cached is None or cached[0] != self._bars:
            n = len(self._symbols)
            rows = self._last_row[interval][:n]
            has = rows >= 0
            flat = np.where(has, rows, 0) * self._frames[interval].data.shape[2] + np.arange(n)
            cached = self._where[interval] = (self._bars, has, flat)
        return cached[1], cached[2]

    def history(self, symbol: str, interval: str, bars: int | None = None) -> Bars:
        """A symbol's visible bars, oldest first: the last ``bars`` of them.

        Bars from before the session's frame come from the store; with ``bars`` None,
        as far back as the registered requirements reach.
        """
        col = self._column.get(symbol)
        if col is None:
            return empty_bars(interval, (symbol,))
        self._load_pending()
        frame = self._frame(interval)
        rows = np.arange(self._since[interval][col], frame.length)
        rows = rows[~np.isnan(frame.data[_FIELD["close"], rows, col])]
        recent = [frame.data[i, rows, col] for i in range(len(FIELDS))]
        ts = frame.ts[rows]
        if bars is None or len(rows) < bars:
            end = ts[0] if len(ts) else self._horizon(interval)
            reach = self.requirements.needs().get(interval, Need()) if bars is None else Need(bars)
            older = self._lookback.load(interval, [symbol], reach, end)
            ts = np.concatenate([older.ts, ts])
            recent = [
                np.concatenate([getattr(older, f), r]) for f, r in zip(FIELDS, recent, strict=True)
            ]
        take = slice(None) if bars is None else slice(max(len(ts) - bars, 0), None)
        code = np.zeros(len(ts[take]), np.int32)
        return Bars(interval, (symbol,), code, ts[take], *(r[take] for r in recent))

    def window(self, interval: str, bars: int | None = None, sessions: int | None = None) -> Bars:
        """Every tracked symbol's visible bars at once, sorted by (ts, column).

        Per symbol exactly what ``history(symbol, interval, bars)`` returns: its last
        ``bars`` bars, or (with ``sessions``) its bars of the current session and the
        ``sessions - 1`` before it. Bars come from the session's frame, and from the store
        for what the frame does not hold; none closes after the clock.
        """
        if (bars is None) == (sessions is None):
            raise ValueError("window() takes a bar count or a number of sessions, not both")
        if (bars if bars is not None else sessions) < 1:
            raise ValueError(
                f"window() of {interval} bars: ask for at least 1, got {bars or sessions}"
            )
        self._load_pending()
        frame = self._frame(interval)
        n = len(self._symbols)
        rows = np.arange(frame.length)
        owned = rows[:, None] >= self._since[interval][None, :n]
        present = owned & ~np.isnan(frame.data[_FIELD["close"], : frame.length, :n])
        at, cols = np.nonzero(present)  # row-major: by time, then column
        parts = [(cols, frame.ts[at], [frame.data[i, at, cols] for i in range(len(FIELDS))])]
        counts = present.sum(axis=0)
        short = np.arange(n) if bars is None else np.flatnonzero(counts < bars)
        if len(short) and self._now is not None:
            # like history(): older bars end where the column's frame bars begin
            first = np.full(n, _NAT)
            if frame.length:
                first = np.where(present.any(axis=0), frame.ts[present.argmax(axis=0)], _NAT)
            horizon = self._horizon(interval)
            ends = np.where(np.isnat(first[short]), horizon, first[short])
            need = Need(bars or 0, sessions or 0)
            older = self._lookback.load(
                interval, [self._symbols[c] for c in short], need, ends.max()
            )
            # the load names the symbols it found, sorted: its codes are columns only
            # when those are the session's columns, all of them in that order
            same = older.symbols == self.symbols
            mine = older.code if same else self._columns_of(older.symbols)[older.code]
            columns = [older.ts, *(getattr(older, f) for f in FIELDS)]
            if (ends < ends.max()).any():
                # the load ends where the latest column's frame bars begin: drop what
                # the others' frame rows hold already
                until = np.full(n, _NAT)
                until[short] = ends
                keep = older.ts < until[mine]
                mine, columns = mine[keep], [c[keep] for c in columns]
            parts.insert(0, (mine, columns[0], columns[1:]))
        # days of stored bars before a frame still empty: no copy of them to join nothing
        parts = [p for p in parts if len(p[0])] or parts[:1]
        if len(parts) == 1:
            col, ts, values = parts[0]
        else:
            col = np.concatenate([p[0] for p in parts]).astype(np.intp)
            ts = np.concatenate([p[1] for p in parts])
            values = [np.concatenate(v) for v in zip(*(p[2] for p in parts), strict=True)]
        if bars is None and in_time_order(ts, col):
            # already as returned (the store's rows and the frame's follow the clock and,
            # within a time, the columns): no sort of what may be days of bars
            return Bars(interval, self.symbols, col.astype(np.int32, copy=False), ts, *values)
        order = np.lexsort((ts, col))
        col, ts, values = col[order], ts[order], [v[order] for v in values]
        if bars is not None and len(col):
            # the last ``bars`` rows of each column: rank from the column's end
            ends_at = np.searchsorted(col, col, side="right")
            keep = ends_at - np.arange(len(col)) <= bars
            col, ts, values = col[keep], ts[keep], [v[keep] for v in values]
        order = np.lexsort((col, ts))
        return Bars(
            interval,
            self.symbols,
            col[order].astype(np.int32),
            ts[order],
            *(v[order] for v in values),
        )

    def day_window(self, interval: str, day: dt.date) -> Bars:
        """Every tracked symbol's closed bars of one exchange-local date, as ``window(
        interval, sessions=n)`` holds them for that date when it reaches back to it
        (intraday intervals; none of a date after the clock's).

        A date that ends before the frame's first bar is read from the store alone, so a
        day of stored bars is not first copied into a window of several days.
        """
        if not INTERVAL_MINUTES.get(interval):
            raise ValueError(f"day_window() takes an intraday interval, not {interval!r}")
        self._load_pending()
        frame = self._frame(interval)
        horizon = self._horizon(interval)
        if horizon is None:
            return empty_bars(interval, self.symbols)
        key = int(np.datetime64(day, "D").astype(np.int64))
        start, end = day_bounds(key, self.tz)
        if end <= min(frame.ts[0] if frame.length else horizon, horizon):
            return self._as_columns(self._lookback.between(interval, self.symbols, start, end))
        # the date reaches what the frame holds (today's, or a session that began the
        # evening before): the window's rows of that date
        today = np.datetime64(self._days.session(self._now - np.timedelta64(1, "ns")), "D")
        if day > today.astype(dt.date):
            return empty_bars(interval, self.symbols)
        reach = max(len(self.calendar.sessions(day, today.astype(dt.date))), 1)
        whole = self.window(interval, sessions=reach)
        return whole.take(session_ids(whole.ts, interval, self.tz) == key)

    def _as_columns(self, bars: Bars) -> Bars:
        """Loaded bars re-coded to the session's columns, sorted by (ts, column)."""
        if bars.symbols == self.symbols:
            return bars
        col = self._columns_of(bars.symbols)[bars.code]
        order = np.lexsort((col, bars.ts))
        fields = (getattr(bars, f)[order] for f in FIELDS)
        return Bars(
            bars.interval, self.symbols, col[order].astype(np.int32), bars.ts[order], *fields
        )

    # -- warm-up -------------------------------------------------------------------------

    def load_pending(self) -> None:
        """Warm up the universe tracked so far; a first read does it too.

        The session calls this before each scan so the load happens in the session's
        process, not in a forked scan whose work would be thrown away.
        """
        self._load_pending()

    def _load_pending(self) -> None:
        """Warm up the universe tracked so far (the lazy load a first read triggers)."""
        self._warm_cold()
        if self._pending:
            cols, self._pending = np.fromiter(self._pending, np.intp), {}
            self._warm(cols[~self._live[cols]])

    def _warm(self, cols: np.ndarray, kernels: list[Kernel] | None = None) -> None:
        """Rebuild indicator state (all kernels, or these) of columns from store history."""
        if not len(cols):
            return
        rebase = kernels is None
        configs = [c for c, k in self._kernels.items() if kernels is None or k in kernels]
        intervals = {c.interval for c in configs}
        if rebase:
            intervals |= set(self.requirements.needs())
        for interval in intervals:
            self._frame(interval)
            mine = [self._kernels[c] for c in configs if c.interval == interval]
            names = [self._symbols[c] for c in cols]
            pieces = self._lookback.pieces(interval, names, self._horizon(interval), self._symbols)
            # pieces are sorted by ts: their distinct times are where ts changes
            stamps = [
                bars.ts[np.r_[True, bars.ts[1:] != bars.ts[:-1]][: len(bars)]] for bars, _ in pieces
            ]
            known = np.unique(np.concatenate(stamps)) if stamps else np.empty(0, _NAT.dtype)
            chunk = max(WARM_CELLS // max(len(known), 1), 1)
            rows = [self._chunked(cols, bars, owned, chunk) for bars, owned in pieces]
            for k, lo in enumerate(range(0, len(cols), chunk)):
                parts = [
                    (bars, order[bounds[k] : bounds[k + 1]], pos)
                    for (bars, _), (order, bounds, pos) in zip(pieces, rows, strict=True)
                ]
                self._warm_chunk(interval, cols[lo : lo + chunk], lo, parts, known, mine, rebase)
        if rebase:
            self._live[cols] = True
            self._members += 1
            self._bars += 1

    def _chunked(
        self, cols: np.ndarray, bars: Bars, owned: frozenset[str], chunk: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A piece's rows grouped by warm-up chunk: the rows' order (each chunk's rows
        together, in ts order), where each chunk's rows start in it, and each row's
        position among ``cols`` (-1: a symbol the piece does not give)."""
        where = {self._symbols[c]: i for i, c in enumerate(cols.tolist())}
        position = np.array([where.get(s, -1) if s in owned else -1 for s in bars.symbols], np.intp)
        pos = position[bars.code] if len(bars) else np.empty(0, np.intp)
        chunks = -(-len(cols) // chunk)
        # chunk ids fit in 16 bits almost always, where numpy's stable sort is a radix sort
        kind = np.int16 if chunks < 2**15 else np.int64
        ids = np.where(pos >= 0, pos // chunk, chunks).astype(kind)
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(chunks + 1))
        return order, bounds, pos

    def _warm_chunk(
        self,
        interval: str,
        cols: np.ndarray,
        first: int,
        parts: list[tuple[Bars, np.ndarray, np.ndarray]],
        known: np.ndarray,
        kernels: list[Kernel],
        rebase: bool,
    ) -> None:
        """Run kernels over one chunk's history matrix; reset the chunk's frame bookkeeping.

        ``parts`` holds per piece its bars, the rows of this chunk and every row's
        position among all warmed columns (this chunk's start at ``first``); ``known``
        every time any piece has, sorted.
        """
        pos = np.concatenate([p[take] - first for _, take, p in parts])
        slot = np.concatenate([np.searchsorted(known, bars.ts[take]) for bars, take, _ in parts])
        # the times this chunk's rows have, as np.unique would find them, without a sort
        seen = np.zeros(len(known), bool)
        seen[slot] = True
        times = known[seen]
        at = (np.cumsum(seen) - 1)[slot]
        matrix = np.full((len(FIELDS), len(times), len(cols)), np.nan)
        for i, f in enumerate(FIELDS):
            matrix[i, at, pos] = np.concatenate([getattr(bars, f)[take] for bars, take, _ in parts])
        sessions = session_ids(times, interval, self.tz)
        for kernel in kernels:
            kernel.warm(cols, sessions, *matrix)
        if rebase:
            frame = self._frames[interval]
            self._since[interval][cols] = frame.length
            self._last_row[interval][cols] = -1
            # each column's newest bar: its last non-NaN time in the matrix (-1: none)
            present = ~np.isnan(matrix[_FIELD["close"]])
            steps = np.arange(len(times))[:, None]
            last = np.where(present, steps, -1).max(axis=0, initial=-1)
            before = np.full((len(FIELDS), len(cols)), np.nan)
            seen = np.flatnonzero(last >= 0)
            before[:, seen] = matrix[:, last[seen], seen]
            self._before[interval][:, cols] = before
