"""The `replay` feed: stored bars played through the live machinery, paced by the wall clock.

Users run it to rehearse a live session: each trading day of the config's range (the
exchange calendar's sessions, holidays and early closes honoured) is played bar by bar,
each bar handed on when a `WallClock` running `speed` times faster than real time
reaches its close. The clock jumps over stretches without any bar (the night, a quiet
pre-market), so a week at `speed = 600` takes minutes, not days. Scans run forked beside
ingestion, exactly as against a live source.

At `speed = 0` the replay is unpaced: bars are handed on as fast as the session takes
them, and before the clock reaches a scan time the feed waits until every running scan
finished and was handed on. No turn is ever skipped or held for lag then, whatever the
machine's load, so the session finds exactly what the backtest finds, through the live
machinery all the same (forked scans, results joining while bars stream on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from scanner_core.bars import INTERVAL_MINUTES, Bars
from scanner_core.clock import WallClock, from_utc64
from scanner_core.feeds import Step, joined
from scanner_core.feeds.store import StoreFeed


class ReplayFeed(StoreFeed):
    """The stored days, bar by bar, at `speed` times real time (1: real time, 0: unpaced)."""

    live = True

    def __init__(self, speed: float = 60.0) -> None:
        super().__init__()
        if not speed >= 0:
            raise ValueError(f"speed must be 0 (unpaced) or positive, got {speed}")
        #: False: unpaced, each scan time reached only once the scans before it are done.
        self.paced = speed > 0
        self.wall = WallClock(speed if self.paced else 1.0)
        self.speed = float(speed)
        #: The close of the newest step handed on today; None before the day's first.
        self._last: dt.datetime | None = None
        self._step = dt.timedelta(minutes=1)
        self._done = False

    def start_day(self, day: dt.date, intervals: list[str], symbols) -> None:
        """Serve `day` bar by bar, at the pace of the wall clock."""
        super().start_day(day, intervals, symbols)
        self._last = None
        self._done = False
        if intervals:
            self._step = dt.timedelta(minutes=INTERVAL_MINUTES[intervals[0]])
            self._cursor = from_utc64(self._day.start)  # type: ignore[union-attr]

    def steps(self, moment: dt.datetime) -> Iterator[Step]:
        """One step per bar close up to `moment`, each once the wall clock reaches it."""
        day = self._day
        if day is None:
            return
        end = min(moment, from_utc64(day.end))
        while self._cursor + dt.timedelta(minutes=1) <= end:
            self._cursor += dt.timedelta(minutes=1)
            step = self._paced(self._cursor)
            if step is not None:
                yield step
        if self._cursor < end:
            self._cursor = end
            step = self._paced(end)
            if step is not None:
                yield step
        if end >= from_utc64(day.end):
            self._done = True
        if not self.paced:
            self.setup.settle()

    def _paced(self, when: dt.datetime) -> Step | None:
        """The bars closing by `when`, handed on once the wall clock reads `when`."""
        assert self._day is not None
        batches = list(self._day.until(when))
        if not batches:
            return None
        if self.paced:
            if self._last is None or when - self._last > self._step:
                # The first bar of the day, or after a stretch without any: jump the clock.
                self.wall.restart(when - self._step)
            while (left := self.wall.seconds_until(when)) > 0:
                self.setup.wait(left)
            # Symbols a finished scan added while we waited have bars closing by `when` too.
            batches += self._day.until(when)
        self._last = when
        merged = _merged(batches)
        self.stats.bars_received += sum(len(b) for b in merged)
        return when, merged

    def behind(self, processed: dt.datetime) -> float:
        """Real seconds the wall clock is past what the session processed, during a day."""
        if not self.paced or self._last is None or self._done:
            return 0.0
        return max(0.0, (self.wall.now() - processed).total_seconds() / self.speed)


def _merged(batches: list[Bars]) -> list[Bars]:
    """One Bars per interval: each step is one cross-section of each."""
    by_interval: dict[str, list[Bars]] = {}
    for bars in batches:
        by_interval.setdefault(bars.interval, []).append(bars)
    return [joined(parts) for parts in by_interval.values()]
