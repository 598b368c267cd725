"""ScannerManager: loads the configured scanners, runs their lifecycle, hands on their symbols."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from scanner_core.plugins import (
    PluginError,
    PluginInfo,
    ScannerPluginManager,
    discover,
    load_plugin,
    strict_mode,
)
from scanner_core.scanner import BaseScanner, ScanContext, ScanResult

if TYPE_CHECKING:
    from scanner_core.config import ScannerConfig

log = logging.getLogger("scanner")

#: Adds the symbols a scan found to the session; may return the ones actually added.
SymbolsCallback = Callable[[str, list[str], ScanContext], "Iterable[str] | None"]
ContextFactory = Callable[[str, "ScannerConfig"], ScanContext]


@attrs.define
class _Loaded:
    config: ScannerConfig
    info: PluginInfo
    scanner: BaseScanner
    context: ScanContext


class ScannerManager:
    """Runs the enabled scanners of a session: load, setup, scans, teardown.

    Each scanner instance is registered with the plugin manager under its config
    name, so observer plugins can wrap or watch every scan with ordinary hookimpls.
    """

    def __init__(
        self,
        scanners: Sequence[ScannerConfig],
        on_symbols: SymbolsCallback,
        *,
        context_factory: ContextFactory | None = None,
        session_data: Any = None,
        time_manager: Any = None,
        mode: str = "backtest",
        plugin_manager: ScannerPluginManager | None = None,
        base_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.configs = list(scanners)
        self.on_symbols = on_symbols
        self.pm = plugin_manager if plugin_manager is not None else ScannerPluginManager()
        self.base_dir = base_dir
        self._clock = clock or (lambda: datetime.now(UTC))
        self._context_factory = context_factory or self._default_context_factory
        self._session_data = session_data
        self._time_manager = time_manager
        self._mode = mode
        self._loaded: dict[str, _Loaded] = {}
        #: One line per scanner left out (load, registration or setup failure).
        self.problems: list[str] = []

    @property
    def scanner_names(self) -> list[str]:
        """Names of the scanners still taking part, in config order."""
        return list(self._loaded)

    def scanner(self, name: str) -> BaseScanner:
        """The running instance of one scanner."""
        return self._loaded[name].scanner

    def load_scanners(self) -> list[str]:
        """Import and register the enabled scanners only; report each failure and go on."""
        records = discover()
        for cfg in self.configs:
            if not cfg.enabled:
                log.debug("[SCANNER] Disabled: %s", cfg.name)
                continue
            if cfg.name in self._loaded:
                self._fail(cfg.name, "scanner name is configured twice")
                continue
            info = load_plugin(cfg.module, base_dir=self.base_dir, records=records)
            if not info.ok:
                self._fail(cfg.name, info.describe())
                continue
            self._register(cfg, info)
        self._check_pending()
        return self.scanner_names

    def setup_all(self, now: datetime | None = None) -> list[str]:
        """Call setup() on each scanner; one that raises or returns False is left out."""
        for name in list(self._loaded):
            log.info("[SCANNER] Setting up: %s", name)
            try:
                ok = self._hook(name, "setup")(context=self._context(name, now))
            except Exception as exc:  # a scanner's own bug must not stop the session
                self._fail(name, f"setup raised {type(exc).__name__}: {exc}", drop=True)
                continue
            if ok is False:
                self._fail(name, "setup returned False", drop=True, level=logging.INFO)
                continue
            log.info("[SCANNER] Setup complete: %s", name)
        return self.scanner_names

    def execute_pre_session_scans(self, now: datetime | None = None) -> dict[str, ScanResult]:
        """Run every scanner configured with pre_session = true, once."""
        results = {}
        for name, loaded in list(self._loaded.items()):
            if loaded.config.pre_session:
                log.info("[SCANNER] Pre-session scan: %s", name)
                results[name] = self._execute_scan(name, now)
        return results

    def execute_scheduled_scans(
        self, now: datetime, due: Callable[[str], bool] | Collection[str]
    ) -> dict[str, ScanResult]:
        """Run the scanners that are due at ``now`` (a predicate on the name, or names)."""
        is_due = due if callable(due) else due.__contains__
        return {name: self._execute_scan(name, now) for name in list(self._loaded) if is_due(name)}

    def teardown_all(self, now: datetime | None = None) -> None:
        """Call teardown() on each scanner and unregister it; failures are logged."""
        for name in list(self._loaded):
            try:
                self._hook(name, "teardown")(context=self._context(name, now))
            except Exception as exc:  # teardown of one must not skip the others
                log.error("[SCANNER] %s: teardown raised %s: %s", name, type(exc).__name__, exc)
            self._drop(name)

    def _execute_scan(self, name: str, now: datetime | None) -> ScanResult:
        """Run one scan of one scanner through the hooks and hand on what it found."""
        context = self._context(name, now)
        start = time.perf_counter()
        try:
            result = self._hook(name, "scan")(context=context)
            if not isinstance(result, ScanResult):
                raise TypeError(f"scan() returned {type(result).__name__}, not ScanResult")
        except Exception as exc:  # a failing scan is recorded; the session goes on
            result = ScanResult(error=f"{type(exc).__name__}: {exc}")
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        result = attrs.evolve(result, execution_time_ms=elapsed_ms)
        if result.error:
            log.error("[SCANNER] %s: Scan failed: %s", name, result.error)
        else:
            log.info(
                "[SCANNER] %s: Found %d symbols (%.0fms)", name, len(result.symbols), elapsed_ms
            )
        self.pm.hook.after_scan(context=context, result=result)
        self._process_scan_result(name, result, context)
        return result

    def _process_scan_result(self, name: str, result: ScanResult, context: ScanContext) -> None:
        if result.error or result.skipped or not result.symbols:
            return
        symbols = list(result.symbols)
        for symbol in symbols:
            log.info("[SCANNER] %s: Adding symbol %s", name, symbol)
        added = self.on_symbols(name, symbols, context)
        added = symbols if added is None else list(added)
        if added:
            self.pm.hook.symbols_added(context=context, symbols=added)

    def _register(self, cfg: ScannerConfig, info: PluginInfo) -> None:
        try:
            scanner = info.scanner_class(dict(cfg.config or {}))
            scanner.name = cfg.name
            context = self._context_factory(cfg.name, cfg)
            self.pm.register(scanner, name=cfg.name)
        except Exception as exc:  # constructor bugs and hook signature errors alike
            self._fail(cfg.name, info.with_failure(exc).describe())
            return
        self._loaded[cfg.name] = _Loaded(cfg, info, scanner, context)
        log.info("[SCANNER] Loaded: %s", cfg.name)

    def _check_pending(self) -> None:
        """Hookimpls naming no known hook are misspellings that would silently never run."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if strict_mode():
                raise PluginError(str(exc)) from exc
            log.error("[SCANNER] Plugin problem: %s", exc)
            self.problems.append(str(exc))

    def _hook(self, name: str, hook: str) -> Any:
        """The hook caller that reaches this scanner and the observers, no other scanner."""
        others = [v.scanner for k, v in self._loaded.items() if k != name]
        return self.pm.subset_hook_caller(hook, remove_plugins=others)

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

    def _fail(
        self, name: str, reason: str, *, drop: bool = False, level: int = logging.ERROR
    ) -> None:
        if strict_mode() and level >= logging.ERROR:
            raise PluginError(f"{name}: {reason}")
        log.log(level, "[SCANNER] %s left out: %s", name, reason)
        self.problems.append(f"{name}: {reason}")
        if drop:
            self._drop(name)

    def _drop(self, name: str) -> None:
        loaded = self._loaded.pop(name, None)
        if loaded is not None and self.pm.is_registered(loaded.scanner):
            self.pm.unregister(loaded.scanner)
