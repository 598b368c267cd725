"""SessionLoop: one loop over trading days, feed steps and scheduled scans, backtest or live.

The loop drives any feed (`scanner_core.feeds`): bars come in step by step, the session
clock moves to each step, due scans run, and the symbols they find join the session,
warmed up, streamed by the feed from the next bar. Over the `store` feed it is the
backtest: scans block, so a scan at t sees exactly the bars closed by t and every run
finds the same symbols at the same times. Over a live feed (`replay`, `websocket`)
scans are forked and never waited for (`ScannerManager.submit_scheduled_scans`); their
results are handed on between steps, and while the loop lags behind its feed by more
than `max_lag_seconds` scheduled scans pause until ingestion has caught up.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path

from attrs import define, field

from scanner_core import shutdown
from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.calendar import TimeManager
from scanner_core.clock import SessionClock
from scanner_core.compose import running_configs
from scanner_core.config import SessionConfig
from scanner_core.coverage import Coverage, base_interval
from scanner_core.earlier import Change
from scanner_core.feeds import Feed, FeedSetup
from scanner_core.feeds.store import StoreFeed
from scanner_core.lag import LagWatch
from scanner_core.live_summary import live_lines
from scanner_core.logs import market_clock
from scanner_core.manager import ScannerManager
from scanner_core.plugins import ScannerPluginManager
from scanner_core.recorder import SessionRecorder
from scanner_core.scanner import ScanContext
from scanner_core.session import SessionData
from scanner_core.store import BarStore, partition
from scanner_core.threads import os_threads

log = logging.getLogger("scanner.session")

#: How long a live loop waits for scans still running after a day's close, at most
#: their turn limits; a scan with no limit is waited for this long.
DAY_END_WAIT_SECONDS = 60.0
#: The longest a live loop waits without looking after its scans, lag and metrics.
IDLE_TICK_SECONDS = 0.2


@define
class RunSummary:
    """What a session did: days, bars, scans and the symbols each scanner added."""

    days: int = 0
    bars: int = 0
    scans: int = 0
    added: dict[str, list[str]] = field(factory=dict)
    problems: list[str] = field(factory=list)
    #: Why the run did nothing useful (no scanner, no bar, every scan failed); empty if it did.
    empty: list[str] = field(factory=list)
    #: A live session's ingestion and lag line (scanner_core.live_summary); none in a backtest.
    live: list[str] = field(factory=list)

    def lines(self) -> list[str]:
        """The summary as log lines."""
        out = [f"[SESSION] Summary: {self.days} days, {self.bars} bars, {self.scans} scans"]
        out += [
            f"[SESSION]   {name}: added {len(symbols)} symbols {' '.join(symbols)}".rstrip()
            for name, symbols in self.added.items()
        ]
        out += [f"[SESSION]   problem: {p}" for p in self.problems]
        out += [f"[SESSION]   did nothing: {reason}" for reason in self.empty]
        return out + self.live


class SessionLoop:
    """Runs a session's trading days over a feed, with the scanners at their times."""

    def __init__(
        self,
        config: SessionConfig,
        feed: Feed | None = None,
        *,
        base_dir: Path | None = None,
        config_file: str = "<config>",
        plugin_manager: ScannerPluginManager | None = None,
        skip_damaged: bool = False,
        max_lag_seconds: float = 10.0,
    ) -> None:
        if config.start_date is None or config.end_date is None:
            raise ValueError("a session needs start_date and end_date")
        if not config.data.store.is_dir():
            raise ValueError(
                f"data.store: no bar store at {config.data.store}"
                " (import bars with `scanner data import PATH --store DIR`)"
            )
        self.config = config
        self.feed: Feed = feed if feed is not None else StoreFeed()
        self.live = bool(self.feed.live)
        if self.live:
            partition.READ_INTO_MEMORY = True
        mode = "live" if self.live else "backtest"
        #: The session's one clock: the calendar, the session and the manager read it.
        self.clock = SessionClock()
        self.time_manager = TimeManager(config.calendar, mode="backtest", clock=self.clock)
        self.store = BarStore(config.data.store, skip_damaged=skip_damaged)
        #: The session's finest interval: the config's, else the store's finest.
        self.base = base_interval(config, self.store)
        self.session = SessionData(
            self.store, calendar=self.time_manager, base_interval=self.base, clock=self.clock
        )
        self.coverage = Coverage(config, self.store, self.time_manager, self.base)
        self.recorder = SessionRecorder(order=[c.name for c in config.scanners])
        self.manager = ScannerManager(
            config.scanners,
            self._on_symbols,
            session_data=self.session,
            time_manager=self.time_manager,
            mode=mode,
            plugin_manager=plugin_manager,
            base_dir=base_dir,
            config_file=config_file,
            clock=self.time_manager.now,
            max_session_symbols=config.max_session_symbols,
            known_symbols=lambda: self._known,
            on_leave=self._on_leave,
        )
        self.manager.pm.register(self.recorder, name="session-recorder")
        # Live results join in backtest order, and a live scan sees what the earlier scans
        # added and removed, as in a backtest: a replay finds what the backtest finds.
        self.manager.in_order = True
        self.manager.mirror = self._mirror
        self.summary = RunSummary()
        #: Lag behind a live feed, its pauses and resumes.
        self.lag = LagWatch(max_lag_seconds)
        #: Bars the session ingested from the feed (intraday and daily).
        self.bars_processed = 0
        #: Called between the steps of a live session and while it waits (the metrics
        #: endpoint answers its scrapes so, without a thread of its own).
        self.tickers: list[Callable[[], None]] = []
        self._found_today: list[str] = []
        self._warned_threads = False
        self._universe: set[str] = set()
        #: Symbols a scan may add: any the store has bars for, not only the universe.
        self._known: frozenset[str] = frozenset()

    def run(self) -> RunSummary:
        """Run every trading day of the feed over the configured range; the summary."""
        with market_clock(self._exchange_now):
            return self._run()

    def _exchange_now(self) -> dt.datetime | None:
        now = self.clock.now()
        return None if now is None else now.astimezone(self.time_manager.tz)

    def _run(self) -> RunSummary:
        cfg = self.config
        days = self.coverage.days()
        stored = self.store.symbols(self.base)
        self._known = frozenset(self.store.symbols()).union(cfg.symbols)
        self._universe = set(cfg.universe.resolve(stored))
        for warning in self.coverage.warnings(sorted(self._universe), days):
            log.warning("[SESSION] %s", warning)
        self.session.track(sorted(self._universe))
        self.feed.open(
            FeedSetup(self.session.store, self.time_manager, self._idle, settle=self._settle)
        )
        days = self.feed.days(days)
        if days:
            self._set_time(self.time_manager.pre_market(days[0])[0])
            self.manager.load_scanners()
        ran = 0
        # A stop request ends the run between steps; teardown and the summary still follow.
        try:
            if days:
                self._set_up()
            for day in days:
                shutdown.check()
                ran += 1
                self._run_day(day)
        except shutdown.SessionStopped as stop:
            log.warning("[SESSION] %s: the scans done so far are kept", stop)
        finally:
            if days:
                self.manager.teardown_all(self.time_manager.now())
            self.feed.close()
        self.summary.days = ran
        self.summary.scans = len(self.manager.history.records)
        self.summary.added = dict(self.recorder.added)
        self.summary.problems = list(self.manager.problems)
        self.summary.empty = self._empty_reasons(days)
        # Logged inside the session's market clock, as every other line of it.
        self.summary.live = live_lines(self)
        for line in self.summary.lines():
            log.info(line)
        return self.summary

    def _empty_reasons(self, days: list[dt.date]) -> list[str]:
        """Why the run did nothing a user could use, if it did nothing."""
        if not days:
            return [self.coverage.no_days_reason()]
        reasons = []
        if not self.manager.scanner_names and not self.summary.scans:
            reasons.append("no scanner was loaded (see the problems above)")
        if not self.summary.bars:
            reasons.append(f"no bar was replayed from {self.config.data.store}")
        records = self.manager.history.records
        if records and all(record.error is not None for record in records):
            reasons.append(f"every one of the {len(records)} scans failed")
        return reasons

    def _set_up(self) -> None:
        """Before the first day's pre-market: history needs, session symbols, scanner setup."""
        for scanner in running_configs(self.config.scanners):
            history = scanner.symbol_requirements.history
            if history:
                self.session.add_requirements({"history": dict(history)})
        self.session.add_symbols(self.config.symbols)
        self.manager.setup_all(self.time_manager.now())

    def _run_day(self, day: dt.date) -> None:
        tm = self.time_manager
        _, open_ = tm.pre_market(day)
        _, close = tm.open_close(day)
        intervals = [] if self.base == "1d" else self._intervals()
        self.feed.start_day(day, intervals, self.session.streamed_symbols)
        if self.base != "1d":
            self._replay_until(open_)
        self._set_time(open_)
        self.session.load_pending()
        self.manager.start_session(open_)
        if self.live:
            self._scan(open_, self.manager.pre_session_scanners(), pre_session=True)
        else:
            self.manager.execute_pre_session_scans(open_)
        if self.base == "1d":
            # An end-of-day session has one step a day: the close, once the day's bars are in.
            self._set_time(close)
            self._close_day(day)
            due = list(dict.fromkeys(n for _, names in self._due(open_, close) for n in names))
            self._scan(close, due)
        else:
            for when, names in self._due(open_, close):
                self._replay_until(when)
                self._scan(when, names)
            self._replay_until(close)
            if "1d" in self.config.streams or self.session.daily_read:
                self._close_day(day)
        if self.live:
            self._finish_running()
        self.manager.end_session(close)
        self._leave_session()

    def _scan(self, when: dt.datetime, names: list[str], *, pre_session: bool = False) -> None:
        """Run the scans due at `when`: blocking in a backtest, forked in a live session."""
        self.session.load_pending()
        if not self.live:
            self.manager.execute_scheduled_scans(when, names)
            return
        self._service()
        if not pre_session and self.lag.paused:
            self.lag.held(when, names)
            return
        self._check_threads()
        self.manager.submit_scheduled_scans(when, names)

    def _check_threads(self) -> None:
        """Warn once when the process has threads at a fork: the child may deadlock."""
        count = os_threads()
        if count > 1 and not self._warned_threads:
            self._warned_threads = True
            log.warning(
                "[SESSION] %d threads are alive while scans fork (a plugin or library"
                " started them); a forked scan may deadlock",
                count,
                extra={"event": "threads_at_fork", "threads": count},
            )

    def _intervals(self) -> list[str]:
        """Intraday intervals to stream: the base, the configured ones and those indicators
        read."""
        wanted = {self.base, *self.config.streams, *self.session.indicator_intervals} - {"1d"}
        return sorted(wanted, key=INTERVAL_MINUTES.__getitem__)

    def _due(self, open_: dt.datetime, close: dt.datetime) -> list[tuple[dt.datetime, list[str]]]:
        """Scheduled runs of the day in (open, close], grouped by time, config order kept."""
        by_time: dict[dt.datetime, list[str]] = {}
        for when, name in self.manager.due_scans(open_, close):
            by_time.setdefault(when, []).append(name)
        return sorted(by_time.items())

    def _replay_until(self, moment: dt.datetime) -> None:
        """Ingest the feed's steps up to `moment`, then move the clock there."""
        for when, batches in self.feed.steps(moment):
            for bars in batches:
                self.session.replay(bars, session_end=self.feed.session_end)
                self.summary.bars += len(bars)
                self.bars_processed += len(bars)
            if self.live:
                self._set_time(when)
                self._service()
                shutdown.check()
        self._set_time(moment)

    def _set_time(self, moment: dt.datetime) -> None:
        self.clock.advance(moment)

    def _close_day(self, day: dt.date) -> None:
        """Hand on the day's daily bars at the close, by the rule: the stored daily bar,
        else one built from the symbol-day's regular-session bars."""
        bars = self.feed.daily(day, self.session.streamed_symbols)
        if len(bars):
            self.session.replay(bars)
            self.bars_processed += len(bars)
            if self.base == "1d":
                self.summary.bars += len(bars)

    # Live: scans running beside ingestion

    def _idle(self, seconds: float) -> None:
        """A live feed's wait: look after running scans meanwhile, hand on their results."""
        end = time.monotonic() + seconds
        while True:
            shutdown.check()
            self.manager.wait(min(end - time.monotonic(), IDLE_TICK_SECONDS))
            self._service()
            if time.monotonic() >= end:
                return

    def _settle(self) -> None:
        """Wait until no scan runs and every finished one was handed on (an unpaced replay)."""
        self._service()
        while self.manager.running:
            shutdown.check()
            self.manager.wait(IDLE_TICK_SECONDS)
            self._service()

    def _service(self) -> None:
        """Between steps: hand on finished scans (their symbols join now), watch the lag."""
        self.manager.drain()
        now = self.time_manager.now()
        self.lag.observe(self.feed.behind(now), now)
        for tick in self.tickers:
            tick()

    def _finish_running(self) -> None:
        """After the close nothing more arrives: let the day's running scans finish."""
        limits = [self.manager.turn_limit(name) for name in self.manager.running]
        if limits:
            finite = [limit for limit in limits if limit is not None]
            wait = max(finite) + 1.0 if len(finite) == len(limits) else DAY_END_WAIT_SECONDS
            self.manager.wait_idle(wait)
        self.manager.drain()

    def _leave_session(self) -> None:
        """Scanner-found symbols belong to the day that found them, and so does the cap."""
        keep = set(self.config.symbols)
        for symbol in dict.fromkeys(self._found_today):
            if symbol not in keep:
                self.session.leave_session(symbol, keep_tracking=symbol in self._universe)
        self._found_today.clear()
        self.manager.session_cap.new_session()

    def _on_symbols(self, scanner: str, symbols: list[str], context: ScanContext) -> list[str]:
        """Add found symbols to the session, warmed up to now, streamed from the next bar."""
        added_mask = self.session.add_symbols(symbols)
        added = [s for s, new in zip(symbols, added_mask.tolist(), strict=True) if new]
        for symbol in added:
            log.info("[SESSION] %s registered mid-session", symbol)
        self._found_today.extend(added)
        # A live scan's result arrives after more bars came in: from now, not its scan time.
        self.feed.add(added, after=max(context.current_time, self.time_manager.now()))
        return added

    def _on_leave(self, scanner: str, symbols: list[str], context: ScanContext) -> None:
        """Take symbols a scanner's removal rule dropped out of the session."""
        gone = self._take_out(symbols)
        for symbol in gone:
            log.info("[SESSION] %s left the session (%s)", symbol, scanner)
        self._found_today = [s for s in self._found_today if s not in set(gone)]
        self.recorder.removed(scanner, gone)

    def _take_out(self, symbols: list[str]) -> list[str]:
        """Take symbols out of the session, the config's own excepted; those taken out."""
        keep = set(self.config.symbols)
        gone = [s for s in symbols if s not in keep]
        for symbol in gone:
            self.session.leave_session(symbol, keep_tracking=symbol in self._universe)
        return gone

    def _mirror(self, changes: list[Change]) -> None:
        """In a forked scan's child: make the session changes of the scans before it, as
        the session's process made them (see scanner_core.earlier)."""
        for kind, symbols in changes:
            if kind == "join":
                self.session.add_symbols(symbols)
            else:
                self._take_out(symbols)
