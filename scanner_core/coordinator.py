"""SessionCoordinator: the backtest loop over trading days, bars and scheduled scans."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from attrs import define, field

from scanner_core import shutdown
from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.calendar import TimeManager
from scanner_core.compose import running_configs
from scanner_core.config import SessionConfig
from scanner_core.coverage import Coverage, base_interval
from scanner_core.feed import DayFeed
from scanner_core.manager import ScannerManager
from scanner_core.plugins import ScannerPluginManager
from scanner_core.recorder import SessionRecorder
from scanner_core.scanner import ScanContext
from scanner_core.session import SessionData
from scanner_core.store import BarStore

log = logging.getLogger("scanner.session")


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

    def lines(self) -> list[str]:
        """The summary as log lines."""
        out = [f"[SESSION] Summary: {self.days} days, {self.bars} bars, {self.scans} scans"]
        out += [
            f"[SESSION]   {name}: added {len(symbols)} symbols {' '.join(symbols)}".rstrip()
            for name, symbols in self.added.items()
        ]
        out += [f"[SESSION]   problem: {p}" for p in self.problems]
        out += [f"[SESSION]   did nothing: {reason}" for reason in self.empty]
        return out


class SessionCoordinator:
    """Replays stored bars day by day and runs the scanners at their times.

    Scans are blocking in backtest, so results are deterministic: a scan at time t
    sees exactly the bars that closed at or before t, and a symbol it adds is
    streamed from the next bar on, its indicators warmed up from the store.
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        base_dir: Path | None = None,
        config_file: str = "<config>",
        plugin_manager: ScannerPluginManager | None = None,
        skip_damaged: bool = False,
    ) -> None:
        if config.mode != "backtest":
            raise ValueError(f"mode {config.mode!r} is not supported by the backtest coordinator")
        if config.start_date is None or config.end_date is None:
            raise ValueError("a backtest needs start_date and end_date")
        if not config.data.store.is_dir():
            raise ValueError(
                f"data.store: no bar store at {config.data.store}"
                " (import bars with `scanner data import PATH --store DIR`)"
            )
        self.config = config
        self.time_manager = TimeManager(config.calendar, mode="backtest")
        self.store = BarStore(config.data.store, skip_damaged=skip_damaged)
        #: The session's finest interval: the config's, else the store's finest.
        self.base = base_interval(config, self.store)
        self.session = SessionData(self.store, calendar=self.time_manager, base_interval=self.base)
        self.coverage = Coverage(config, self.store, self.time_manager, self.base)
        self.recorder = SessionRecorder()
        self.manager = ScannerManager(
            config.scanners,
            self._on_symbols,
            session_data=self.session,
            time_manager=self.time_manager,
            mode="backtest",
            plugin_manager=plugin_manager,
            base_dir=base_dir,
            config_file=config_file,
            clock=self.time_manager.now,
            max_session_symbols=config.max_session_symbols,
            known_symbols=lambda: self._known,
            on_leave=self._on_leave,
        )
        self.manager.pm.register(self.recorder, name="session-recorder")
        self.summary = RunSummary()
        self._feed: DayFeed | None = None
        self._now: dt.datetime | None = None
        self._found_today: list[str] = []
        self._universe: set[str] = set()
        #: Symbols a scan may add: any the store has bars for, not only the universe.
        self._known: frozenset[str] = frozenset()

    def run(self) -> RunSummary:
        """Run every trading day of the configured range; the summary."""
        cfg = self.config
        days = self.coverage.days()
        stored = self.store.symbols(self.base)
        self._known = frozenset(self.store.symbols()).union(cfg.symbols)
        self._universe = set(cfg.universe.resolve(stored))
        for warning in self.coverage.warnings(sorted(self._universe), days):
            log.warning("[SESSION] %s", warning)
        self.session.track(sorted(self._universe))
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
                self.manager.teardown_all(self._now)
        self.summary.days = ran
        self.summary.scans = len(self.manager.history.records)
        self.summary.added = dict(self.recorder.added)
        self.summary.problems = list(self.manager.problems)
        self.summary.empty = self._empty_reasons(days)
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
        self.manager.setup_all(self._now)

    def _run_day(self, day: dt.date) -> None:
        tm = self.time_manager
        _, open_ = tm.pre_market(day)
        _, close = tm.open_close(day)
        if self.base == "1d":
            self._feed = None
            self._set_time(open_)
        else:
            self._feed = DayFeed(self.session.store, tm, day, self._intervals())
            self._feed.add(self.session.streamed_symbols)
            self._replay_until(open_)
        self.session.load_pending()
        self.manager.start_session(open_)
        self.manager.execute_pre_session_scans(open_)
        if self.base == "1d":
            # An end-of-day session has one step a day: the close, once the day's bars are in.
            self._set_time(close)
            self._close_day(day)
            due = list(dict.fromkeys(n for _, names in self._due(open_, close) for n in names))
            self.session.load_pending()
            self.manager.execute_scheduled_scans(close, due)
        else:
            for when, names in self._due(open_, close):
                self._replay_until(when)
                self.session.load_pending()
                self.manager.execute_scheduled_scans(when, names)
            self._replay_until(close)
            if "1d" in self.config.streams or self.session.daily_read:
                self._close_day(day)
        self.manager.end_session(close)
        self._leave_session()

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
        if self._feed is None:
            self._set_time(moment)
            return
        for bars in self._feed.until(moment):
            self.session.replay(bars, session_end=self._feed.end)
            self.summary.bars += len(bars)
        self._set_time(moment)

    def _set_time(self, moment: dt.datetime) -> None:
        if self._now is None or moment > self._now:
            self._now = moment
            self.time_manager.set_time(moment)
            self.session.set_time(moment)

    def _close_day(self, day: dt.date) -> None:
        """Hand on the day's daily bars at the close, by the rule: the stored daily bar,
        else one built from the symbol-day's regular-session bars."""
        symbols = self.session.streamed_symbols
        bars = self.session.store.load("1d", symbols, day, day + dt.timedelta(days=1))
        if len(bars):
            self.session.replay(bars)
            if self.base == "1d":
                self.summary.bars += len(bars)

    def _leave_session(self) -> None:
        """Scanner-found symbols belong to the day that found them, and so does the cap."""
        keep = set(self.config.symbols)
        for symbol in dict.fromkeys(self._found_today):
            if symbol not in keep:
                self.session.leave_session(symbol, keep_tracking=symbol in self._universe)
        self._found_today.clear()
        self.manager.session_cap.new_session()

    def _on_symbols(self, scanner: str, symbols: list[str], context: ScanContext) -> list[str]:
        """Add found symbols to the session, warmed up, and stream them from the next bar."""
        added_mask = self.session.add_symbols(symbols)
        added = [s for s, new in zip(symbols, added_mask.tolist(), strict=True) if new]
        for symbol in added:
            log.info("[SESSION] %s registered mid-session", symbol)
        self._found_today.extend(added)
        if self._feed is not None:
            self._feed.add(added, after=context.current_time)
        return added

    def _on_leave(self, scanner: str, symbols: list[str], context: ScanContext) -> None:
        """Take symbols a scanner's removal rule dropped out of the session."""
        keep = set(self.config.symbols)
        gone = [s for s in symbols if s not in keep]
        for symbol in gone:
            self.session.leave_session(symbol, keep_tracking=symbol in self._universe)
            log.info("[SESSION] %s left the session (%s)", symbol, scanner)
        self._found_today = [s for s in self._found_today if s not in set(gone)]
        self.recorder.removed(scanner, gone)
