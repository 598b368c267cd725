"""Lookback: the stored bars a warm-up reads, and longer windows for symbols short of them.

An interval's need (bars, sessions) is a window on the calendar
(``requirements.history_start``), which assumes a bar every interval. A symbol with
missing bars comes up short; it is loaded again over a window EXTEND_FACTOR times
longer, up to EXTEND_ROUNDS times, while that still finds it more bars or it has none
yet (a symbol that stopped trading for a while has older bars, as a symbol streamed
through its gap does).

The loads of one clock tick read the same days of history: each stored partition is
decoded once for all of them, and held until the clock moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scanner_core.bars import Bars, empty_bars
from scanner_core.clock import SessionClock
from scanner_core.indicators import session_ids
from scanner_core.requirements import Need, RequirementAnalyzer, history_start
from scanner_core.sources import BarSource

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager

#: How a short warm-up window is extended for symbols with missing bars.
EXTEND_FACTOR = 4
EXTEND_ROUNDS = 3
#: Share of the tracked symbols from which a warm-up reads them all (see _reads_for).
WIDE_READ_SHARE = 0.9


class Lookback:
    """The stored bars a session's warm-ups and reads of the past load, on its one clock."""

    def __init__(
        self,
        store: BarSource | None,
        calendar: TimeManager,
        tz: str,
        requirements: RequirementAnalyzer,
        clock: SessionClock,
    ) -> None:
        self.store = store
        self.calendar = calendar
        self.tz = tz
        self.requirements = requirements
        self.clock = clock
        #: The clock tick whose loads hold their whole partitions decoded (None: none held).
        self._held_at: np.datetime64 | None = None

    @property
    def _now(self) -> np.datetime64 | None:
        return self.clock.now64

    def release(self) -> None:
        """Drop the partitions held for the loads of an earlier clock tick (whoever moved
        the clock): they are not read again."""
        if self._held_at is not None and self._held_at != self._now:
            self._held_at = None
            if self.store is not None:
                self.store.release()

    def load(
        self, interval: str, symbols: Sequence[str], need: Need, end: np.datetime64 | None
    ) -> Bars:
        """Bars before ``end`` reaching back as far as ``need`` asks on the calendar, each
        symbol-day from its finest stored bars (a bucket still open at ``end`` is not a
        closed bar yet, so it is left out)."""
        if self._now is None:
            return empty_bars(interval, tuple(symbols))
        start = history_start(pd.Timestamp(self._now), interval, need, self.calendar, self.tz)
        return self.between(interval, symbols, start, end)

    def between(
        self,
        interval: str,
        symbols: Sequence[str],
        start: np.datetime64,
        end: np.datetime64 | None,
    ) -> Bars:
        """Bars starting in [start, end), as ``load`` reads them (no bar open at ``end``)."""
        if self.store is None or end is None or self._now is None:
            return empty_bars(interval, tuple(symbols))
        # the warm-ups and reads of one clock tick read the same days of history: each
        # stored day is decoded once for all of them (released when the clock moves)
        self.release()
        self.store.hold()
        self._held_at = self._now
        until = None if interval == "1d" else self._now
        return self.store.load(interval, list(symbols), start, end, rows_until=until)

    def pieces(
        self,
        interval: str,
        symbols: Sequence[str],
        end: np.datetime64 | None,
        tracked: Sequence[str],
    ) -> list[tuple[Bars, frozenset[str]]]:
        """Warm-up history of ``symbols`` as (bars, symbols taken from them) pieces, before
        ``end``: the window their interval's need asks for, then longer ones for the
        symbols short of it (``tracked``: every symbol the session tracks)."""
        goal = need = self.requirements.needs().get(interval, Need())
        today, earlier = self._earlier_sessions(goal.sessions)
        pieces = []
        wanted, before = list(symbols), dict.fromkeys(symbols, 0)
        for round_ in range(EXTEND_ROUNDS + 1):
            bars = self.load(interval, _reads_for(wanted, tracked), need, end)
            counts, sessions = coverage(bars, interval, self.tz, today if earlier else None)
            # a symbol with no bar in the window may have older ones (a streamed symbol
            # keeps those across its gap), so it is looked for further back too
            short = [
                s
                for s in wanted
                if (counts.get(s, 0) < goal.bars or sessions.get(s, 0) < earlier)
                and (counts.get(s, 0) > before[s] or not counts.get(s, 0))
            ]
            if round_ == EXTEND_ROUNDS or (short and not self._older(interval, need)):
                short = []
            pieces.append((bars, frozenset(wanted).difference(short)))
            if not short:
                return pieces
            wanted, before = short, {s: counts.get(s, 0) for s in short}
            # widen by sessions too: a small bar count already spans two sessions
            need = Need(need.bars * EXTEND_FACTOR, max(need.sessions, 2) * EXTEND_FACTOR)
        return pieces

    def _older(self, interval: str, need: Need) -> bool:
        """Whether the store may hold bars from before the window ``need`` loads: when it
        cannot, a longer window would find no more."""
        if self.store is None or self._now is None:
            return False
        start = history_start(pd.Timestamp(self._now), interval, need, self.calendar, self.tz)
        return self.store.holds_before(interval, start)

    def _earlier_sessions(self, sessions: int) -> tuple[int, int]:
        """Today's session id, and how many of the ``sessions`` a window reaches back over
        come before today (today is one of them when it is a trading day).

        A symbol is short of sessions when it lacks bars on one of those earlier ones:
        today's has none yet at its open, and that is no reason to look further back.
        """
        if self._now is None or not sessions:
            return 0, sessions
        today = int(session_ids(np.array([self._now]), "1m", self.tz)[0])
        date = np.datetime64(today, "D").astype(dt.date)
        return today, sessions - 1 if self.calendar.sessions(date, date) else sessions


def _reads_for(wanted: list[str], tracked: Sequence[str]) -> Sequence[str]:
    """The symbols to read for ``wanted``: every tracked one when it wants most of them.

    Rows of the few others cost less than re-coding every row read to drop them; the
    warm-up takes only the rows of the symbols it owns.
    """
    if len(wanted) >= WIDE_READ_SHARE * len(tracked):
        return tracked
    return wanted


def coverage(
    bars: Bars, interval: str, tz: str, before: int | None
) -> tuple[dict[str, int], dict[str, int]]:
    """Per symbol: its bar count, and (given a session id) how many sessions before
    that one its bars span."""
    width = len(bars.symbols)
    counts = dict(zip(bars.symbols, np.bincount(bars.code, minlength=width).tolist(), strict=True))
    if before is None or not len(bars):
        return counts, {}
    days = session_ids(bars.ts, interval, tz)
    if np.all(days[1:] >= days[:-1]):
        # rows in time order hold each day as one block: a symbol's sessions are the
        # blocks it has a row in, counted without sorting what may be millions of rows
        spans = np.zeros(width, np.int64)
        head = days[: int(np.searchsorted(days, before, "left"))]
        edges = np.r_[0, np.flatnonzero(head[1:] != head[:-1]) + 1, len(head)]
        for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
            spans += np.bincount(bars.code[lo:hi], minlength=width) > 0
    else:
        earlier = days < before
        pairs = np.unique(days[earlier] * width + bars.code[earlier])
        spans = np.bincount(pairs % width, minlength=width)
    return counts, dict(zip(bars.symbols, spans.tolist(), strict=True))
