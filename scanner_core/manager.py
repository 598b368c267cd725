"""ScannerManager: loads the configured scanners, runs their lifecycle, hands on their symbols.

Scanners are plain objects: the manager calls their setup, session_start, scan and
teardown itself. pluggy carries the extension hooks only (observers, indicators,
commands), from the plugins of the ``scanner_core.plugins`` group and any registered
with the manager's plugin manager; observers run in the session's process and get a copy
of each result, so none can change what a scanner returned.

Live mode
---------
`submit_scheduled_scans` forks each due scan (its whole turn, retries included) into a
child and returns at once, so bar ingestion never waits for a scan; the session's
process never starts a thread, so no fork happens while other threads are alive. The
child only *runs* the scan: it touches neither the session nor the manager's
bookkeeping, and whatever it changes stays in it. `drain()` reads the finished
children's pipes and does everything else (checking the result, limits, hooks, adding
symbols through the callback, history, disabling) in the session's process; `wait()`
blocks until a child has something to say or a timeout passes, so a loop can wait on
its feed and its scans at once. A forked scan reads the session as it was at the fork.

Plugin failures
---------------
Any BaseException from plugin code (SystemExit, KeyboardInterrupt, GeneratorExit, ...)
fails that plugin only: a constructor or setup() that raises leaves the scanner out, a
scan that raises fails that turn, a session_start, teardown or observer hook that raises
is logged, and each is listed in `problems` (once) for the session's summary. Each
observer is called on its own, so one that raises never keeps a scan from the others
(the history recorder among them). The one exception is a real Ctrl-C with no stop
handler installed (see scanner_core.shutdown).

Stopping
--------
Before each scan the manager checks for a stop request (scanner_core.shutdown.check):
once one arrived, the scan that was running has been recorded, no other starts, and
SessionStopped propagates to the coordinator, which tears the scanners down.
"""

from __future__ import annotations

import copy
import logging
import select
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scanner_core import shutdown
from scanner_core.compose import build_composite, composes, composite_info, scan_function, settle
from scanner_core.earlier import Change, Inbox, Mirror
from scanner_core.execution import TIMEOUT, ForkedScan, ScanOutcome, run_scan, start_forked
from scanner_core.extensions import (
    ExtensionInfo,
    allowed,
    call_each,
    load_extensions,
    register_indicators,
    unknown_hooks,
)
from scanner_core.limits import SessionSymbolCap, check_result
from scanner_core.logs import get_logger
from scanner_core.membership import Membership, Policy
from scanner_core.plugins import (
    EntryPointRecord,
    PluginError,
    PluginInfo,
    ScannerPluginManager,
    build_scanner,
    discover,
    lifecycle_typos,
    load_plugin,
    scanner_builder,
    strict_mode,
)
from scanner_core.provenance import with_why
from scanner_core.retry import FailureTracker, RetryPolicy, run_with_retries
from scanner_core.scanner import BaseScanner, ScanContext, ScanResult
from scanner_core.schedule import Schedule
from scanner_core.stats import ScanHistory

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager
    from scanner_core.config import ScannerConfig

log = get_logger("manager")

#: Adds the symbols a scan found to the session; may return the ones actually added.
SymbolsCallback = Callable[[str, list[str], ScanContext], "Iterable[str] | None"]
#: Takes symbols a removal rule dropped out of the session.
LeaveCallback = Callable[[str, list[str], ScanContext], None]
ContextFactory = Callable[[str, "ScannerConfig"], ScanContext]
#: Which scanners are due: a predicate on the name, or a collection of names.
Due = Callable[[str], bool] | Collection[str]


@attrs.define
class _Loaded:
    config: ScannerConfig
    info: PluginInfo
    scanner: BaseScanner
    context: ScanContext


def _raised(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _copied(value: Any) -> Any:
    if isinstance(value, ScanResult):
        return attrs.evolve(value, symbols=list(value.symbols), metadata=dict(value.metadata))
    if isinstance(value, dict):  # why records: small, and nested
        return copy.deepcopy(value)
    return list(value) if isinstance(value, list) else value


def _scan_key(name: str, context: ScanContext) -> tuple[str, datetime]:
    """One scan turn: its scanner and time."""
    return (name, context.current_time)


def _log_each(name: str, symbols: Iterable[str], message: str, event: str) -> None:
    for symbol in symbols:
        log.info(message, name, symbol, extra={"scanner": name, "symbol": symbol, "event": event})


def _policy(cfg: ScannerConfig) -> RetryPolicy:
    return RetryPolicy(
        max_retries=cfg.max_retries, max_consecutive_failures=cfg.max_consecutive_failures
    )


def _turn_outcome(outcome: ScanOutcome) -> ScanOutcome:
    """The outcome of a turn run in a child: the one the turn returned, or the child's."""
    if outcome.error is None and isinstance(outcome.value, ScanOutcome):
        return outcome.value
    return outcome


#: How often a waiting session looks at children that closed their pipe but still run.
_TICK_SECONDS = 0.01


def _no_wait(seconds: float) -> None:
    """A backtest's sleep: simulated time does not wait for retry backoff."""


class ScannerManager:
    """Runs the enabled scanners of a session: load, setup, scans, teardown.

    Lifecycle methods are called directly on each scanner. A scanner is also registered
    with the plugin manager under its config name, for any ``@hookimpl`` observer methods
    it has; the installed extension plugins are loaded alongside the scanners.
    """

    def __init__(
        self,
        scanners: Sequence[ScannerConfig],
        on_symbols: SymbolsCallback,
        *,
        context_factory: ContextFactory | None = None,
        session_data: Any = None,
        time_manager: TimeManager | None = None,
        mode: str = "backtest",
        plugin_manager: ScannerPluginManager | None = None,
        base_dir: Path | None = None,
        config_file: str = "<config>",
        clock: Callable[[], datetime] | None = None,
        max_session_symbols: int | None = None,
        known_symbols: Callable[[], Collection[str]] | None = None,
        sleep: Callable[[float], None] | None = None,
        on_leave: LeaveCallback | None = None,
    ) -> None:
        self.configs = list(scanners)
        self.on_symbols = on_symbols
        self.on_leave = on_leave
        self.pm = plugin_manager if plugin_manager is not None else ScannerPluginManager()
        self.base_dir = base_dir
        #: Named in errors about a scanner's settings, with their field path.
        self.config_file = config_file
        self._clock = clock or (lambda: datetime.now(UTC))
        self._context_factory = context_factory or self._default_context_factory
        self._session_data = session_data
        self._time_manager = time_manager
        self._mode = mode
        # Called per scan: the universe may grow during a session.
        self._known_symbols = known_symbols
        self._sleep = sleep if sleep is not None else (time.sleep if mode == "live" else _no_wait)
        self._loaded: dict[str, _Loaded] = {}
        self._schedules: dict[str, Schedule] = {}
        #: One line per scanner left out (load, registration, setup failure or disabled).
        self.problems: list[str] = []
        #: The installed extension plugins load_scanners() loaded, failed ones included.
        self.extensions: list[ExtensionInfo] = []
        #: Every scan turn of the session, skipped ones included.
        self.history = ScanHistory()
        #: Symbols added over the session against `max_session_symbols`.
        self.session_cap = SessionSymbolCap(max_session_symbols)
        self.failures = FailureTracker()
        #: Who added which symbol when, for removal rules, least stays and cooldowns.
        self.membership = Membership(
            {c.name: Policy(c.min_minutes_in_session, c.cooldown_minutes) for c in self.configs}
        )
        self._records: list[EntryPointRecord] | None = None
        #: Live scans running in forked children, by scanner name.
        self._running: dict[str, ForkedScan] = {}
        #: Finished live scans not handed on yet (see drain).
        self._held: list[tuple[str, ScanContext, ScanOutcome]] = []
        #: Hand live results on in backtest order (the session loop sets it).
        self.in_order = False
        #: Makes earlier scans' session changes in a forked scan's child before it scans
        #: (see scanner_core.earlier); None: a live scan sees the session as at its fork.
        self.mirror: Mirror | None = None
        #: The pipes of running live scans waiting for earlier scans' changes, by name.
        self._inboxes: dict[str, Inbox] = {}
        #: The session changes the result being completed made (passed on to inboxes).
        self._changes: list[Change] = []

    @property
    def scanner_names(self) -> list[str]:
        """Names of the scanners still taking part, in config order."""
        return list(self._loaded)

    def scanner(self, name: str) -> BaseScanner:
        """The running instance of one scanner."""
        return self._loaded[name].scanner

    def get_scanner_stats(self) -> dict[str, Any]:
        """Totals, averages and p95 over every scan so far, and per scanner (see stats)."""
        return self.history.get_scanner_stats()

    # Lifecycle

    def load_scanners(self) -> list[str]:
        """Load the extension plugins, then import and register the enabled scanners only;
        report each failure and go on."""
        self._load_extensions()
        records = self._records = discover()
        for index, cfg in enumerate(self.configs):
            if not cfg.enabled:
                log.debug("Disabled: %s", cfg.name, extra={"scanner": cfg.name})
                continue
            if cfg.name in self._loaded:
                self._fail(cfg.name, "scanner name is configured twice")
                continue
            if not self._allowed(cfg, records):
                self._fail(
                    cfg.name,
                    "not loaded: SCANNER_LOAD_PLUGINS does not name it",
                    level=logging.WARNING,
                )
                continue
            if composes(cfg):
                info = composite_info(cfg)
            else:
                info = load_plugin(cfg.module, base_dir=self.base_dir, records=records)
            if not info.ok:
                self._fail(cfg.name, info.describe())
                continue
            self._register(cfg, info, index)
        self._check_pending()
        return self.scanner_names

    def setup_all(self, now: datetime | None = None) -> list[str]:
        """Call setup() on each scanner; one that raises or returns False is left out."""
        for name in list(self._loaded):
            log.info("Setting up: %s", name, extra={"scanner": name, "event": "setup"})
            try:
                ok = self._loaded[name].scanner.setup(self._context(name, now))
            # SystemExit too: a setup() that exits must not end the session either.
            except BaseException as exc:
                if not shutdown.is_plugin_failure(exc):
                    raise
                self._fail(name, f"setup raised {_raised(exc)}", drop=True)
                continue
            if ok is False:
                self._fail(name, "setup returned False", drop=True, level=logging.INFO)
                continue
            log.info("Setup complete: %s", name, extra={"scanner": name, "event": "setup"})
        return self.scanner_names

    def start_session(self, now: datetime | None = None) -> None:
        """Call session_start() on each scanner before a trading day's scans, then the
        session_started observers.

        It runs in the session's process even for scanners whose scans are forked, so
        what it builds (a day's cache) is there for every scan. A failure is logged and
        listed, and the scanner's scans still run: they rebuild what they need themselves.
        """
        for name in list(self._loaded):
            try:
                self._loaded[name].scanner.session_start(self._context(name, now))
            except BaseException as exc:
                if not shutdown.is_plugin_failure(exc):
                    raise
                self._problem(name, f"session_start raised {_raised(exc)}", "error")
        self._notify(None, "session_started", context=self._session_context(now))

    def end_session(self, now: datetime | None = None) -> None:
        """Tell the session_ended observers that a trading day's scans are over."""
        self._notify(None, "session_ended", context=self._session_context(now))
        self.membership.new_session()

    def execute_pre_session_scans(self, now: datetime | None = None) -> dict[str, ScanResult]:
        """Run every scanner configured with pre_session = true, once."""
        results = {}
        for name in self.pre_session_scanners():
            log.info("Pre-session scan: %s", name, extra={"scanner": name})
            results[name] = self._execute_scan(name, now)
        return results

    def execute_scheduled_scans(self, now: datetime, due: Due) -> dict[str, ScanResult]:
        """Run the scanners that are due at `now`, one after another, on this thread."""
        return {name: self._execute_scan(name, now) for name in self._due_names(due)}

    def teardown_all(self, now: datetime | None = None) -> None:
        """Finish running scans, call teardown() on each scanner and unregister it."""
        if self._running:
            self._stop_running()
        for name in list(self._loaded):
            self._teardown(name, now)

    # Schedules

    def should_run_scan(self, name: str, now: datetime) -> bool:
        """Whether `now` is one of the run times of a scanner still taking part."""
        return name in self._loaded and self._schedule(name).should_run(now, self._calendar())

    def next_run_time(self, name: str, after: datetime) -> datetime | None:
        """The scanner's first run time strictly after `after`; None if it has none left."""
        if name not in self._loaded:
            return None
        return self._schedule(name).next_run(after, self._calendar())

    def due_scans(self, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
        """Runs in (start, end] of the scanners taking part, by time, then config order."""
        tm = self._calendar()
        runs = [
            (when, name)
            for name in self._loaded
            for when in self._schedule(name).runs_between(start, end, tm)
        ]
        # A stable sort keeps config order among scanners due at the same time.
        return sorted(runs, key=lambda run: run[0])

    # Live mode

    def submit_scheduled_scans(self, now: datetime, due: Due) -> list[str]:
        """Fork the due scans and return at once; the names started.

        A scanner whose previous scan is still running is skipped this turn, counted in
        the history (skipped=True) and logged. Results are handed on by drain().
        """
        started = []
        for name in self._due_names(due):
            if name in self._running:
                self._skip(name, now)
                continue
            context = self._context(name, now)
            limit = self._turn_limit(self._loaded[name].config)
            turn = self._scan_turn(name)
            inbox, earlier = self._inbox(name, context)
            if inbox is not None and self.mirror is not None:
                turn = inbox.turn(turn, self.mirror)
            # The child runs the whole turn; each attempt's own limit is enforced inside
            # it, this one only guards against a turn that overruns them all (and the
            # earlier scans it waits for).
            guard = None if limit is None or earlier is None else limit + 1.0 + earlier
            scan = start_forked(turn, context, guard)
            if inbox is not None:
                inbox.forked()
            if isinstance(scan, ScanOutcome):  # the fork itself failed
                if inbox is not None:
                    inbox.close()
                self._complete(name, context, scan)
                continue
            if inbox is not None:
                self._inboxes[name] = inbox
            self._running[name] = scan
            started.append(name)
        return started

    def pre_session_scanners(self) -> list[str]:
        """The scanners taking part that scan once before the session opens."""
        return [name for name, loaded in self._loaded.items() if loaded.config.pre_session]

    def turn_limit(self, name: str) -> float | None:
        """The longest one scan turn of `name` can take; None when it has no time limit."""
        return self._turn_limit(self._loaded[name].config) if name in self._loaded else None

    @property
    def running(self) -> list[str]:
        """Scanners whose live scan is still running."""
        return list(self._running)

    def drain(self) -> list[tuple[str, ScanResult]]:
        """Hand on the results of finished live scans, in the session's process.

        With `in_order` a result waits until every scan of an earlier time, or of the
        same time and earlier in the config, was handed on: symbols then join (and the
        session cap counts them) in the order a backtest adds them.
        """
        for name, scan in list(self._running.items()):
            if scan.poll():
                outcome = scan.finish()
            elif scan.overdue():
                outcome = scan.finish(exited=False)
            else:
                continue
            del self._running[name]
            self._close_inbox(name)
            self._held.append((name, scan.context, _turn_outcome(outcome)))
        return self._release()

    def _inbox(self, name: str, context: ScanContext) -> tuple[Inbox | None, float | None]:
        """The pipe through which a scan about to fork hears of the scans before it, and
        the longest (in seconds) they may still run; no pipe when none is pending."""
        if self.mirror is None or not self.in_order:
            return None, 0.0
        key = self._turn_order()
        pending = [(n, c) for n, c, _ in self._held]
        pending += [(n, s.context) for n, s in self._running.items()]
        earlier = {_scan_key(n, c) for n, c in pending if key(n, c) < key(name, context)}
        if not earlier:
            return None, 0.0
        now = time.perf_counter()
        deadlines = [
            s.deadline for n, s in self._running.items() if _scan_key(n, s.context) in earlier
        ]
        left = None if None in deadlines else max([0.0] + [d - now for d in deadlines])
        return Inbox(earlier), left

    def _turn_order(self) -> Callable[[str, ScanContext], tuple[datetime, int]]:
        """The order a backtest runs scan turns in: by time, then config order."""
        order = {name: index for index, name in enumerate(self._loaded)}

        def key(name: str, context: ScanContext) -> tuple[datetime, int]:
            return (context.current_time, order.get(name, len(order)))

        return key

    def _pass_on(self, name: str, context: ScanContext) -> None:
        """Tell the scans waiting for this one what its result changed in the session."""
        changes, self._changes = self._changes, []
        for inbox in self._inboxes.values():
            inbox.handed_on(_scan_key(name, context), changes)

    def _close_inbox(self, name: str) -> None:
        inbox = self._inboxes.pop(name, None)
        if inbox is not None:
            inbox.close()

    def _release(self, everything: bool = False) -> list[tuple[str, ScanResult]]:
        """Complete the finished scans that may be handed on now (see drain)."""
        key = self._turn_order()
        self._held.sort(key=lambda held: key(held[0], held[1]))
        first_running = min((key(n, s.context) for n, s in self._running.items()), default=None)
        wait = self.in_order and not everything and first_running is not None
        results = []
        while self._held:
            name, context, outcome = self._held[0]
            if wait and first_running < key(name, context):  # type: ignore[operator]
                break
            self._held.pop(0)
            self._changes = []
            if name in self._loaded:
                results.append((name, self._complete(name, context, outcome)))
            self._pass_on(name, context)
        return results

    def wait(self, timeout: float) -> None:
        """Block until a live scan has something to hand on, or `timeout` seconds passed."""
        fds = [s.fd for s in self._running.values() if s.poll() is False and s.reading]
        if len(fds) < len(self._running):
            # A child closed its pipe or exited: only a short wait for it to be reaped.
            timeout = min(timeout, _TICK_SECONDS)
        if timeout > 0:
            if fds:
                select.select(fds, [], [], timeout)
            else:
                time.sleep(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no live scan is running; False if some still run after `timeout` s."""
        end = None if timeout is None else time.monotonic() + timeout
        while any(not (s.poll() or s.overdue()) for s in self._running.values()):
            if self._inboxes:  # a scan waits for an earlier one's changes: hand it on
                self.drain()
            left = _TICK_SECONDS if end is None else end - time.monotonic()
            if left <= 0:
                return False
            self.wait(min(left, _TICK_SECONDS))
        return True

    # One scan

    def _execute_scan(self, name: str, now: datetime | None) -> ScanResult:
        """Run one scan turn of one scanner on this thread and hand on what it found."""
        shutdown.check()
        context = self._context(name, now)
        return self._complete(name, context, self._scan_turn(name)(context))

    def _scan_turn(self, name: str) -> Callable[[ScanContext], ScanOutcome]:
        """One turn of a scan, retries included; built here, safe to run on any thread."""
        cfg = self._loaded[name].config
        scan = scan_function(self._loaded[name].scanner)
        policy = _policy(cfg)

        def turn(context: ScanContext) -> ScanOutcome:
            def attempt() -> ScanOutcome:
                return run_scan(scan, context, cfg.timeout_seconds)

            return run_with_retries(attempt, policy, scanner=name, sleep=self._sleep)

        return turn

    def _complete(self, name: str, context: ScanContext, outcome: ScanOutcome) -> ScanResult:
        """Check a scan's outcome, log it, hand on its symbols, record it; disable if due."""
        cfg = self._loaded[name].config
        self._changes = []
        known = self._known_symbols() if self._known_symbols is not None else None
        outcome, leaving = settle(self._loaded[name].scanner, outcome, context)
        checked = check_result(
            outcome,
            scanner=name,
            max_symbols=cfg.max_symbols,
            known_symbols=known,
            cap=self.session_cap,
        )
        result = with_why(name, checked.result, context)
        self._log_result(name, result, cfg.timeout_seconds)
        self._notify(name, "after_scan", context=context, result=result)
        added = self._process_scan_result(name, result, context)
        self._remove(name, leaving, context)
        self.history.record(
            name,
            context.current_time,
            symbols_found=checked.symbols_found,
            symbols_added=len(added),
            execution_time_ms=result.execution_time_ms,
            error=result.error,
            skipped=result.skipped,
        )
        failed = result.error is not None
        if self.failures.record(
            name, failed=failed, max_consecutive_failures=cfg.max_consecutive_failures
        ):
            self.problems.append(
                f"{name}: disabled after {cfg.max_consecutive_failures} consecutive failures"
                f" (last: {result.error})"
            )
            self._teardown(name, context.current_time)
        return result

    def _log_result(self, name: str, result: ScanResult, timeout: float | None) -> None:
        extra = {"scanner": name, "execution_time_ms": round(result.execution_time_ms, 3)}
        if result.error is None:
            log.info(
                "%s: Found %d symbols (%.0fms)",
                name,
                len(result.symbols),
                result.execution_time_ms,
                extra={**extra, "event": "scan", "symbols": len(result.symbols)},
            )
        elif result.error == TIMEOUT and timeout is not None:
            log.error(
                "%s: Scan timed out after %ss",
                name,
                float(timeout),
                extra={**extra, "event": "timeout"},
            )
        else:
            log.error("%s: Scan failed: %s", name, result.error, extra={**extra, "event": "error"})

    def _process_scan_result(
        self, name: str, result: ScanResult, context: ScanContext
    ) -> list[str]:
        """Hand the found symbols to the session; the ones it actually added."""
        if result.error or result.skipped or not result.symbols:
            return []
        symbols, cooling = self.membership.admit(name, result.symbols, context.current_time)
        _log_each(name, cooling, "%s: Not adding %s: cooling down after its removal", "cooldown")
        if not symbols:
            return []
        for symbol in symbols:
            log.info(
                "%s: Adding symbol %s", name, symbol, extra={"scanner": name, "symbol": symbol}
            )
        self._changes.append(("join", list(symbols)))
        added = self.on_symbols(name, symbols, context)
        added = symbols if added is None else list(added)
        self.membership.join(name, added, context.current_time)
        if added:
            why = result.metadata.get("why", {})
            chosen = {symbol: why[symbol] for symbol in added if symbol in why}
            self._notify(name, "symbols_added", context=context, symbols=added, why=chosen)
        return added

    def _remove(self, name: str, candidates: Collection[str], context: ScanContext) -> None:
        """Take out the symbols a removal rule names that this scanner may let go now."""
        gone = self.membership.leaving(name, candidates, context.current_time)
        if not gone or self.on_leave is None:
            return
        _log_each(name, gone, "%s: Removing symbol %s", "removed")
        self._changes.append(("leave", list(gone)))
        self.on_leave(name, gone, context)

    def _notify(self, name: str | None, hook: str, **kwargs: Any) -> None:
        """Call each observer of a hook on its own; one that raises is logged and listed."""

        def failed(plugin: str, hook: str, exc: BaseException) -> None:
            self._problem(plugin, f"{hook} hook raised {_raised(exc)}", "hook_error", scan_of=name)

        def fresh() -> dict[str, Any]:
            # Each observer its own copy: one may change what it is given, never what the
            # scanner returned or what the next observer sees.
            return {key: _copied(value) for key, value in kwargs.items()}

        call_each(self.pm, hook, failed, fresh)

    def _skip(self, name: str, now: datetime) -> None:
        log.warning(
            "%s: Skipped scan at %s: the previous scan is still running",
            name,
            now.isoformat(),
            extra={"scanner": name, "event": "skipped"},
        )
        self.history.record(name, now, skipped=True)

    def _due_names(self, due: Due) -> list[str]:
        is_due = due if callable(due) else due.__contains__
        return [name for name in list(self._loaded) if is_due(name)]

    # Live scans at shutdown

    def _stop_running(self) -> None:
        """Wait for running scans as long as their turns may last, hand on their results."""
        limits = [
            self._turn_limit(self._loaded[n].config) for n in self._running if n in self._loaded
        ]
        if not self.wait_idle(None if None in limits else max(limits, default=0.0) + 1.0):
            still = sorted(self._running)
            log.warning(
                "Scans still running at shutdown, results dropped: %s",
                ", ".join(still),
                extra={"event": "shutdown", "scanners": still},
            )
        self.drain()
        for name, scan in self._running.items():
            self._close_inbox(name)
            scan.stop()
        self._running.clear()
        self._release(everything=True)

    @staticmethod
    def _turn_limit(cfg: ScannerConfig) -> float | None:
        """The longest a scan turn can take, retries and backoff included; None if unbounded."""
        if cfg.timeout_seconds is None:
            return None
        policy = _policy(cfg)
        return (policy.max_retries + 1) * cfg.timeout_seconds + sum(policy.waits())

    # Registration and hooks

    def _register(self, cfg: ScannerConfig, info: PluginInfo, index: int) -> None:
        try:
            if composes(cfg):
                build = scanner_builder(
                    base_dir=self.base_dir, records=self._records, file=self.config_file
                )
                scanner = build_composite(cfg, self.configs, build)
            else:
                scanner = build_scanner(info, cfg, file=self.config_file, index=index)
            context = self._context_factory(cfg.name, cfg)
            self.pm.register(scanner, name=cfg.name)
        # Constructor bugs, sys.exit() and hook signature errors alike.
        except BaseException as exc:
            if not shutdown.is_plugin_failure(exc):
                raise
            self._fail(cfg.name, info.with_failure(exc).describe())
            return
        self._loaded[cfg.name] = _Loaded(cfg, info, scanner, context)
        log.info("Loaded: %s", cfg.name, extra={"scanner": cfg.name, "event": "loaded"})
        # validate_scanner_class already raised on these under SCANNER_STRICT_PLUGINS=1.
        for typo in lifecycle_typos(type(scanner)):
            self._problem(cfg.name, typo, "plugin_problem", level=logging.WARNING)

    def _load_extensions(self) -> None:
        """Register the installed extension plugins, then let each add its indicators."""
        for info in load_extensions(self.pm):
            self.extensions.append(info)
            if info.ok:
                log.info("Plugin loaded: %s", info.name, extra={"event": "plugin_loaded"})
            else:
                self._fail(info.name, info.describe())

        def failed(plugin: str, hook: str, exc: BaseException) -> None:
            self._problem(plugin, f"{hook} hook raised {_raised(exc)}", "hook_error")

        register_indicators(self.pm, failed)

    def _allowed(self, cfg: ScannerConfig, records: list[Any]) -> bool:
        """SCANNER_LOAD_PLUGINS limits the installed scanners; files and modules always load."""
        if ":" in cfg.module or cfg.module.endswith(".py") or "/" in cfg.module:
            return True
        dists = [r.distribution for r in records if r.name == cfg.module]
        return allowed(cfg.module, dists[0] if dists else None) or allowed(cfg.name)

    def _check_pending(self) -> None:
        """Hookimpls naming no known hook are misspellings that would silently never run."""
        for problem in unknown_hooks(self.pm):
            if strict_mode():
                raise PluginError(problem)
            log.error("Plugin problem: %s", problem, extra={"event": "plugin_problem"})
            if problem not in self.problems:
                self.problems.append(problem)

    def _session_context(self, now: datetime | None) -> ScanContext:
        """The context of a session-wide hook: no scanner, no scanner settings."""
        return ScanContext(
            session_data=self._session_data,
            time_manager=self._time_manager,
            mode=self._mode,
            current_time=now if now is not None else self._clock(),
        )

    def _context(self, name: str, now: datetime | None) -> ScanContext:
        base = self._loaded[name].context
        return attrs.evolve(base, current_time=now if now is not None else self._clock())

    def _default_context_factory(self, name: str, cfg: ScannerConfig) -> ScanContext:
        return ScanContext(
            session_data=self._session_data,
            time_manager=self._time_manager,
            mode=self._mode,
            current_time=self._clock(),
            config=dict(cfg.config or {}),
            scanner_name=name,
        )

    def _calendar(self) -> TimeManager:
        if self._time_manager is None:
            raise ValueError("scan schedules need the manager's time_manager")
        return self._time_manager

    def _schedule(self, name: str) -> Schedule:
        schedule = self._schedules.get(name)
        if schedule is None:
            schedule = Schedule.from_config(self._loaded[name].config.schedule)
            self._schedules[name] = schedule
        return schedule

    # Leaving out

    def _fail(
        self, name: str, reason: str, *, drop: bool = False, level: int = logging.ERROR
    ) -> None:
        if strict_mode() and level >= logging.ERROR:
            raise PluginError(f"{name}: {reason}")
        log.log(
            level, "%s left out: %s", name, reason, extra={"scanner": name, "event": "left_out"}
        )
        self.problems.append(f"{name}: {reason}")
        if drop:
            self._drop(name)

    def _teardown(self, name: str, now: datetime | None) -> None:
        """Call teardown() on one scanner (failures logged) and unregister it."""
        try:
            self._loaded[name].scanner.teardown(self._context(name, now))
        except BaseException as exc:  # teardown of one must not skip the others
            if not shutdown.is_plugin_failure(exc):
                raise
            self._problem(name, f"teardown raised {_raised(exc)}", "teardown_error")
        self._drop(name)

    def _problem(
        self,
        plugin: str,
        reason: str,
        event: str,
        scan_of: str | None = None,
        level: int = logging.ERROR,
    ) -> None:
        """Log a plugin call that raised (or a warning); list it in problems the first time."""
        after = f" (after a scan of {scan_of})" if scan_of else ""
        log.log(
            level,
            "%s: %s%s",
            plugin,
            reason,
            after,
            extra={"scanner": scan_of or plugin, "event": event},
        )
        line = f"{plugin}: {reason}"
        if line not in self.problems:
            self.problems.append(line)

    def _drop(self, name: str) -> None:
        loaded = self._loaded.pop(name, None)
        if loaded is not None and self.pm.is_registered(loaded.scanner):
            self.pm.unregister(loaded.scanner)
