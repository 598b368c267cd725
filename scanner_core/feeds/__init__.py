"""Feeds: where a session's bars come from, as plugins in the ``scanner_core.feeds`` group.

A feed delivers bar cross-sections in time order. The session loop tells it which day
to serve, which symbols to stream and from when (`start_day`, `add`), and pulls bars
with `steps(moment)`: each step is a moment and the bars that closed by it, which the
loop ingests before it moves the session clock there. Daily bars at each close come
from the feed too (`daily`). A backtest is the loop over the `store` feed; a live
session is the same loop over a live feed (`replay`, `websocket`, or a plugin's).

A feed is a class; its entry point names it (``store = "scanner_core.feeds.store:StoreFeed"``)
and the loop builds it with the options given on the command line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

import numpy as np
from attrs import define, field

from scanner_core.bars import Bars
from scanner_core.calendar import TimeManager
from scanner_core.sources import BarSource
from scanner_core.store import concat

#: The entry-point group feeds announce themselves in.
FEED_GROUP = "scanner_core.feeds"

#: One step of a feed: a moment, and the bars (per interval) that closed by it.
Step = tuple[dt.datetime, Iterable[Bars]]


@define
class FeedSetup:
    """What the loop gives a feed as the session starts."""

    #: Stored bars through the one rule for coarse bars.
    source: BarSource
    calendar: TimeManager
    #: Waits up to this many real seconds while running scans are looked after; a live
    #: feed calls it instead of sleeping, so no scan result waits for the feed.
    wait: Callable[[float], None]
    #: Waits until no scan runs and every finished one was handed on (a feed that sets
    #: its own pace by the scans', as the unpaced replay does).
    settle: Callable[[], None] = lambda: None


@define
class FeedStats:
    """What a feed received and what it turned away, by reason."""

    #: Bars accepted for the session (rejected ones are counted in `rejected` only).
    bars_received: int = 0
    rejected: dict[str, int] = field(factory=dict)
    reconnects: int = 0

    def reject(self, reason: str, count: int = 1) -> None:
        """Count `count` messages or bars turned away for `reason`."""
        self.rejected[reason] = self.rejected.get(reason, 0) + count


@runtime_checkable
class Feed(Protocol):
    """A source of bar cross-sections in time order (see the module docstring)."""

    #: True for a feed paced by real time or fed from outside: its scans are forked and
    #: never waited for, and the loop watches its lag.
    live: bool
    stats: FeedStats
    #: The end of the day being served (its close), for bars a session end cuts short.
    session_end: np.datetime64 | None

    def open(self, setup: FeedSetup) -> None:
        """Get ready to serve the session."""

    def days(self, planned: list[dt.date]) -> list[dt.date]:
        """The trading days to run, given the config's."""

    def start_day(self, day: dt.date, intervals: list[str], symbols: Iterable[str]) -> None:
        """Serve `day`'s intraday bars of these intervals for these symbols."""

    def steps(self, moment: dt.datetime) -> Iterator[Step]:
        """The bars that close by `moment`, not handed on yet, step by step in time order."""

    def add(self, symbols: Iterable[str], after: dt.datetime | None) -> None:
        """Stream these symbols too, from their first bar closing after `after`."""

    def daily(self, day: dt.date, symbols: list[str]) -> Bars:
        """The day's daily bars of these symbols, at its close."""

    def behind(self, processed: dt.datetime) -> float:
        """Real seconds the feed is ahead of `processed` (its lag); 0 when it is not."""

    def close(self) -> None:
        """Release what the feed holds (connections, files)."""


def joined(parts: list[Bars]) -> Bars:
    """Parts of one interval (one cross-section from several messages or reads) as one
    Bars sorted by (ts, code), as the session takes them."""
    if len(parts) == 1:
        return parts[0]
    out = concat(parts)
    return out.take(np.lexsort((out.code, out.ts)))


class FeedError(Exception):
    """A feed that is unknown, fails to load, or cannot serve the session."""


def feed_names() -> list[str]:
    """The installed feeds' names."""
    return sorted({ep.name for ep in metadata.entry_points(group=FEED_GROUP)})


def load_feed(name: str, **options: Any) -> Feed:
    """Build the installed feed `name` with `options`; FeedError naming what went wrong."""
    found = [ep for ep in metadata.entry_points(group=FEED_GROUP) if ep.name == name]
    if not found:
        known = ", ".join(feed_names()) or "none"
        raise FeedError(f"no feed named {name!r} is installed (installed: {known})")
    try:
        cls = found[0].load()
        feed = cls(**options)
    except Exception as exc:
        raise FeedError(f"feed {name!r}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(feed, Feed):
        raise FeedError(f"feed {name!r}: {found[0].value} does not implement the Feed protocol")
    return feed
