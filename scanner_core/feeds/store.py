"""The `store` feed: the backtest's day-by-day replay of the bar store, as fast as it reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import numpy as np

from scanner_core.bars import Bars
from scanner_core.feed import DayFeed
from scanner_core.feeds import FeedSetup, FeedStats, Step


class StoreFeed:
    """Each trading day's stored bars, handed on as they close, with no pacing."""

    live = False

    def __init__(self) -> None:
        self.stats = FeedStats()
        self.session_end: np.datetime64 | None = None
        self._setup: FeedSetup | None = None
        self._day: DayFeed | None = None

    @property
    def setup(self) -> FeedSetup:
        """What the loop gave the feed; an error before open()."""
        if self._setup is None:
            raise RuntimeError("the feed was not opened")
        return self._setup

    def open(self, setup: FeedSetup) -> None:
        """Get ready to serve the session."""
        self._setup = setup

    def days(self, planned: list[dt.date]) -> list[dt.date]:
        """The config's trading days, all of them."""
        return planned

    def start_day(self, day: dt.date, intervals: list[str], symbols: Iterable[str]) -> None:
        """Serve `day`'s stored intraday bars of these intervals (none: a daily session)."""
        if not intervals:
            self._day = None
            self.session_end = None
            return
        self._day = DayFeed(self.setup.source, self.setup.calendar, day, intervals)
        self._day.add(symbols)
        self.session_end = self._day.end

    def steps(self, moment: dt.datetime) -> Iterator[Step]:
        """One step to `moment`: every bar closed by then, read a chunk at a time."""
        if self._day is not None:
            yield moment, self._counted(self._day.until(moment))

    def _counted(self, batches: Iterable[Bars]) -> Iterator[Bars]:
        for bars in batches:
            self.stats.bars_received += len(bars)
            yield bars

    def add(self, symbols: Iterable[str], after: dt.datetime | None) -> None:
        """Stream these symbols too, from their first bar closing after `after`."""
        if self._day is not None:
            self._day.add(symbols, after=after)

    def daily(self, day: dt.date, symbols: list[str]) -> Bars:
        """The stored daily bar, else one built from the symbol-day's finest bars."""
        bars = self.setup.source.load("1d", symbols, day, day + dt.timedelta(days=1))
        self.stats.bars_received += len(bars)
        return bars

    def behind(self, processed: dt.datetime) -> float:
        """A store never runs ahead of its reader."""
        return 0.0

    def close(self) -> None:
        """Nothing to release."""
        self._day = None
