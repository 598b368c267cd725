"""The `websocket` feed: bars from a server speaking the JSON format in docs/live.md.

The feed subscribes to the session's symbols, buffers the cross-sections it receives
and hands each on once it is complete: a heartbeat at or after its close arrived, or a
later cross-section of its interval did. A bar that repeats one already received is
rejected as ``duplicate``; one older than its symbol's newest, or closing before what
was already handed on, as ``out_of_order``; a message that cannot be read as
``malformed``. Each rejection is logged with its reason and counted, and the session
keeps running. A dropped connection is retried with exponential backoff; after a
reconnect the feed subscribes again from the last bar it handed on.
"""

from __future__ import annotations

import datetime as dt
import logging
import select
from collections.abc import Iterable, Iterator

import numpy as np

from scanner_core import shutdown
from scanner_core.bars import INTERVAL_MINUTES, Bars, empty_bars
from scanner_core.clock import as_utc64, from_utc64
from scanner_core.feeds import FeedSetup, FeedStats, Step, joined
from scanner_core.feeds.connection import Connection, ConnectionClosed
from scanner_core.feeds.wire import BarsMessage, Heartbeat, Rejected, ServerError, parse, subscribe

log = logging.getLogger("scanner.session")

#: The longest the feed waits on its socket before looking after the session's scans.
POLL_SECONDS = 0.05


class WebSocketFeed:
    """A live feed from a websocket server (see the module docstring)."""

    live = True

    def __init__(
        self,
        url: str,
        *,
        reconnect_attempts: int = 8,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"url: expected ws://HOST:PORT/PATH, got {url!r}")
        self.url = url
        self.reconnect_attempts = reconnect_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.connect_timeout = connect_timeout
        self.stats = FeedStats()
        self.session_end: np.datetime64 | None = None
        self._setup: FeedSetup | None = None
        self._conn: Connection | None = None
        self._intervals: list[str] = []
        self._symbols: set[str] = set()
        #: Received cross-sections not handed on yet: (close, interval) -> parts.
        self._buffer: dict[tuple[np.datetime64, str], list[Bars]] = {}
        #: Per (symbol, interval), the newest bar start received.
        self._newest: dict[tuple[str, str], np.datetime64] = {}
        #: Per interval, the newest bar start received (a later one completes the rest).
        self._latest: dict[str, np.datetime64] = {}
        self._daily: list[Bars] = []
        #: Every bar closing by this time was sent (the newest heartbeat).
        self._reached: np.datetime64 | None = None
        #: The close of the newest step handed on.
        self._handed: np.datetime64 | None = None
        self._ended = False

    def open(self, setup: FeedSetup) -> None:
        """Get ready to serve the session; the connection opens with the first day."""
        self._setup = setup

    def days(self, planned: list[dt.date]) -> list[dt.date]:
        """The config's trading days: the server is expected to serve them in turn."""
        return planned

    def start_day(self, day: dt.date, intervals: list[str], symbols: Iterable[str]) -> None:
        """Subscribe to `day`'s bars of these intervals for these symbols."""
        assert self._setup is not None
        self._intervals = [*intervals, "1d"]
        self._symbols = set(symbols)
        self._daily = []
        self.session_end = as_utc64(self._setup.calendar.open_close(day)[1])
        if self._conn is None and not self._ended:
            self._connect(first=True)
        elif self._conn is not None:
            self._subscribe(sorted(self._symbols), None)

    # Connection

    def _connect(self, *, first: bool = False) -> None:
        """Connect (retrying with backoff) and subscribe; gives up after the attempts."""
        assert self._setup is not None
        wait = self.backoff_seconds
        for attempt in range(1, self.reconnect_attempts + 2):
            try:
                self._conn = Connection(self.url, self.connect_timeout)
            except ConnectionClosed as exc:
                if attempt > self.reconnect_attempts:
                    log.error(
                        "[SESSION] websocket: %s; giving up after %d attempts",
                        exc,
                        attempt,
                        extra={"event": "feed_ended"},
                    )
                    self._ended = True
                    return
                log.warning(
                    "[SESSION] websocket: %s; retrying in %.1fs (attempt %d)",
                    exc,
                    wait,
                    attempt,
                    extra={"event": "feed_retry"},
                )
                self._setup.wait(wait)
                shutdown.check()
                wait = min(wait * 2, self.max_backoff_seconds)
                continue
            if not first or attempt > 1:
                self.stats.reconnects += int(not first)
                log.warning(
                    "[SESSION] websocket: connected again to %s",
                    self.url,
                    extra={"event": "feed_reconnected"},
                )
            since = None if self._handed is None else from_utc64(self._handed)
            self._subscribe(sorted(self._symbols), since)
            return

    def _subscribe(self, symbols: list[str], after: dt.datetime | None) -> None:
        if self._conn is not None and symbols:
            self._conn.send(subscribe(symbols, self._intervals, after))

    def _pump(self) -> None:
        """Take in every message that arrived; reconnect when the connection dropped."""
        if self._conn is None:
            return
        try:
            texts = self._conn.receive()
        except ConnectionClosed as exc:
            self._conn.close()
            self._conn = None
            log.warning(
                "[SESSION] websocket: %s; reconnecting", exc, extra={"event": "feed_dropped"}
            )
            self._connect()
            return
        for text in texts:
            self._take(parse(text))

    # Messages

    def _take(self, message: object) -> None:
        if isinstance(message, Rejected):
            self._reject(message.reason, 1, message.detail)
        elif isinstance(message, Heartbeat):
            moment = as_utc64(message.time)
            if self._reached is None or moment > self._reached:
                self._reached = moment
        elif isinstance(message, ServerError):
            log.error(
                "[SESSION] websocket: the server reports: %s",
                message.message,
                extra={"event": "feed_error"},
            )
            self.stats.reject("server_error")
        elif isinstance(message, BarsMessage):
            self._take_bars(message.bars)

    def _take_bars(self, bars: Bars) -> None:
        interval, ts = bars.interval, bars.ts[0]
        self.stats.bars_received += len(bars)
        keep = np.ones(len(bars), bool)
        for i, symbol in enumerate(bars.symbols):
            newest = self._newest.get((symbol, interval))
            if newest is not None and ts <= newest:
                keep[i] = False
                reason = "duplicate" if ts == newest else "out_of_order"
                self._reject(reason, 1, f"{symbol} {interval} bar at {ts} (newest {newest})")
        close = self._close(interval, ts)
        if self._handed is not None and close <= self._handed and keep.any():
            self._reject(
                "out_of_order",
                int(keep.sum()),
                f"{interval} bars at {ts} close before {self._handed}, already handed on",
            )
            return
        bars = bars.take(keep)
        if not len(bars):
            return
        for symbol in bars.symbols:
            self._newest[(symbol, interval)] = ts
        if interval == "1d":
            self._daily.append(bars)
            return
        self._buffer.setdefault((close, interval), []).append(bars)
        if interval not in self._latest or ts > self._latest[interval]:
            self._latest[interval] = ts

    def _reject(self, reason: str, count: int, detail: str) -> None:
        self.stats.reject(reason, count)
        log.warning(
            "[SESSION] websocket: rejected %s (%s): %s",
            f"{count} bar{'s' if count != 1 else ''}" if reason != "malformed" else "a message",
            reason,
            detail,
            extra={"event": "feed_rejected", "reason": reason},
        )

    def _close(self, interval: str, ts: np.datetime64) -> np.datetime64:
        assert self._setup is not None
        if interval == "1d":
            return ts
        closes = self._setup.calendar.bar_closes(np.array([ts]), INTERVAL_MINUTES[interval])
        return closes[0]

    # Steps

    def _complete(self) -> list[np.datetime64]:
        """Closes of buffered cross-sections nothing more can arrive for, in order."""
        done = set()
        for close, interval in self._buffer:
            latest = self._latest.get(interval)
            later = latest is not None and self._close(interval, latest) > close
            if later or (self._reached is not None and self._reached >= close) or self._ended:
                done.add(close)
        return sorted(done)

    def steps(self, moment: dt.datetime) -> Iterator[Step]:
        """Cross-sections as they complete, up to `moment`; returns once the feed is there."""
        assert self._setup is not None
        horizon = as_utc64(moment)
        while True:
            self._pump()
            ready = [close for close in self._complete() if close <= horizon]
            if ready:
                close = ready[0]
                parts = [self._buffer.pop(key) for key in sorted(self._buffer) if key[0] == close]
                self._handed = close
                yield from_utc64(close), [joined(p) for p in parts]
                continue
            if self._ended or (self._reached is not None and self._reached >= horizon):
                return
            shutdown.check()
            if self._conn is not None:
                select.select([self._conn.fileno()], [], [], POLL_SECONDS)
            self._setup.wait(0.0)

    def add(self, symbols: Iterable[str], after: dt.datetime | None) -> None:
        """Subscribe to these symbols too, from their first bar closing after `after`."""
        fresh = sorted(set(symbols) - self._symbols)
        self._symbols.update(fresh)
        self._subscribe(fresh, after)

    def daily(self, day: dt.date, symbols: list[str]) -> Bars:
        """The day's daily bars the server sent (none sent: no daily bars)."""
        if not self._daily:
            return empty_bars("1d", tuple(sorted(symbols)))
        bars, self._daily = joined(self._daily), []
        return bars

    def behind(self, processed: dt.datetime) -> float:
        """Seconds of received bars and heartbeats not processed yet."""
        newest = [close for close, _ in self._buffer]
        if self._reached is not None:
            newest.append(self._reached)
        if not newest:
            return 0.0
        ahead = (max(newest) - as_utc64(processed)) / np.timedelta64(1, "s")
        return max(0.0, float(ahead))

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
