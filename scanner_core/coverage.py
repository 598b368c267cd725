"""Coverage: what a session needs of the bar store, and what the store lacks.

``scanner check`` and ``scanner run`` ask the same questions here, so a check that
says ok means the run will find bars: the store exists, holds bars at the session's
base interval for the range, for the universe, and in every interval the scanners read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np

from scanner_core.bars import INTERVAL_MINUTES, finer
from scanner_core.calendar import TimeManager
from scanner_core.config import SessionConfig
from scanner_core.sources import BarSource
from scanner_core.store import BarStore

#: Names listed in one warning before the rest are counted.
SHOWN = 8


def base_interval(config: SessionConfig, store: BarStore) -> str:
    """The session's base interval: the config's, else the finest interval the store holds.

    Raises ValueError naming the field when the store is empty, cannot feed the
    configured base, or a stream is finer than the base.
    """
    stored = store.intervals()
    if not stored:
        raise ValueError(
            f"data.store: the bar store at {store.root} holds no bars"
            " (import some with `scanner data import PATH --store DIR`)"
        )
    base = config.base_interval or stored[0]
    if config.base_interval and not _feeds(stored, base):
        raise ValueError(
            f"base_interval: the store holds no bars that make {base} bars"
            f" (it holds {', '.join(stored)})"
        )
    for index, stream in enumerate(config.streams):
        if finer(stream, base):
            raise ValueError(
                f"streams[{index}]: {stream} is finer than the session's base interval {base}"
                f" (the store's finest bars are {stored[0]})"
            )
    return base


def _feeds(stored: Sequence[str], interval: str) -> bool:
    minutes = INTERVAL_MINUTES[interval]
    if not minutes:
        return True
    return any(INTERVAL_MINUTES[s] and minutes % INTERVAL_MINUTES[s] == 0 for s in stored)


class Coverage:
    """The range, universe and intervals of one session against what its store holds."""

    def __init__(
        self, config: SessionConfig, store: BarStore, calendar: TimeManager, base: str
    ) -> None:
        self.config = config
        self.store = store
        self.calendar = calendar
        self.base = base
        self._stored_days: list[dt.date] | None = None
        self._days: list[dt.date] | None = None
        self.notes: list[str] = []

    def stored_days(self) -> list[dt.date]:
        """Session dates with bars at the base interval, ascending (read once)."""
        if self._stored_days is None:
            self._stored_days = self.store.sessions(self.base)
        return self._stored_days

    def days(self) -> list[dt.date]:
        """The trading days to run: the configured range, its end clipped to the store's
        last bar (noted once, so the run can warn); none when no day of the range has
        bars, so a range past the data is not walked session by session."""
        if self._days is None:
            self._days = self._clipped_days()
        return self._days

    def _clipped_days(self) -> list[dt.date]:
        cfg = self.config
        assert cfg.start_date is not None and cfg.end_date is not None
        start, end = cfg.start_date, cfg.end_date
        stored = self.stored_days()
        if not any(start <= day <= end for day in stored):
            return []
        if end > stored[-1]:
            self.notes.append(
                f"end_date {end} is past the store's last {self.base} bar; clipped to {stored[-1]}"
            )
            end = stored[-1]
        return self.calendar.sessions(start, end)

    def no_days_reason(self) -> str:
        """Why a range has no day to run."""
        cfg = self.config
        stored = self.stored_days()
        sessions = self.calendar.sessions(cfg.start_date, cfg.end_date)
        if not sessions:
            return (
                f"no {self.calendar.calendar_name} trading session"
                f" from {cfg.start_date} to {cfg.end_date}"
            )
        span = f"{stored[0]} to {stored[-1]}" if stored else "none"
        return (
            f"the store holds no {self.base} bars from {cfg.start_date} to {cfg.end_date}"
            f" (its {self.base} bars cover {span})"
        )

    def warnings(self, universe: Sequence[str], days: Sequence[dt.date]) -> list[str]:
        """Each gap once: the clipped end, days without bars, symbols without bars."""
        out = list(self.notes)
        if not days:
            return out
        stored = self.stored_days()
        # before the store's first bar, or a hole inside its range (an empty, missing or
        # unreadable partition)
        early = [d for d in days if not stored or d < stored[0]]
        bare = sorted({*early, *self.store.missing_sessions(self.base, days)})
        if bare:
            out.append(
                f"no {self.base} bars in {self.store.root / self.base} for {len(bare)}"
                f" of {len(days)} sessions: " + _listed(d.isoformat() for d in bare)
            )
        have = self._symbols_in(days)
        wanted = self._wanted(universe)
        missing = [s for s in wanted if s not in have]
        if missing:
            out.append(
                f"{len(missing)} of {len(wanted)} symbols have no {self.base} bars"
                f" from {days[0]} to {days[-1]}: " + _listed(missing)
            )
        return out

    def problems(
        self, intervals: Iterable[tuple[str, str]] = (), universe: Sequence[str] | None = None
    ) -> list[str]:
        """What makes a run pointless, for ``scanner check``: no day with bars, no symbol
        of the session and ``universe`` with bars, or an interval a scanner reads that the
        store cannot feed. ``intervals`` holds (who, interval) pairs such as
        ("scanners[0] (gap)", "1m")."""
        out = []
        days = self.days()
        if not days:
            out.append(self.no_days_reason())
        elif universe is not None:
            wanted = self._wanted(universe)
            if wanted and not self._symbols_in(days) & set(wanted):
                # The run would replay no bar: a gap that leaves it nothing to do.
                out.append(
                    f"none of the {len(wanted)} symbols has {self.base} bars"
                    f" from {days[0]} to {days[-1]}: " + _listed(wanted)
                )
        source = BarSource(self.store, self.calendar)
        whose = "" if self.config.base_interval else " (the store's finest)"
        # A scanner reading several indicators of one interval is named once for it.
        for who, interval in dict.fromkeys(intervals):
            if finer(interval, self.base):
                out.append(
                    f"{who}: reads {interval} bars, finer than the session's base interval"
                    f" {self.base}{whose}"
                )
            elif not source.can_feed(interval):
                out.append(f"{who}: reads {interval} bars, which the store cannot make")
        return out

    def _wanted(self, universe: Sequence[str]) -> list[str]:
        """The session's symbols, then the universe's, each once."""
        return list(dict.fromkeys([*self.config.symbols, *universe]))

    def _symbols_in(self, days: Sequence[dt.date]) -> set[str]:
        """Symbols with bars at the base interval on any of these days."""
        if INTERVAL_MINUTES[self.base]:
            found: set[str] = set()
            for day in days:
                found |= self.store.day_symbols(self.base, day)
            return found
        bars = self.store.load("1d", None, days[0], days[-1] + dt.timedelta(days=1))
        return {bars.symbols[c] for c in np.unique(bars.code).tolist()}


def _listed(names: Iterable[str]) -> str:
    """Names joined, the first SHOWN of them and a count of the rest."""
    names = list(names)
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
