"""Check what a scan returned and cap how many symbols it may add: a clean result, never a crash.

The rules, applied in this order to an outcome of `scanner_core.execution.run_scan`:

1. A failed scan (timeout, exception) gives an empty result carrying its error.
2. Type: a `ScanResult` is taken as is; a `Screen` is ranked into one (see
   scanner_core.screen). A plain list or tuple is taken as the symbols,
   ranked in its order, with a warning (a common slip: `return symbols`). Anything
   else (None, a dict, a str, ...) is an error "bad result: expected ScanResult or Screen, got
   <type>" with no symbols; it counts as a failed scan.
3. Symbols that are not non-empty strings are dropped, with a warning.
4. Duplicates: the first occurrence is kept (it is the better ranked), with a warning.
5. Unknown symbols, when a known universe is given, are dropped, with a warning.
6. `max_symbols`: symbols are ranked best first by the scanner, so the first N are
   kept and the rest are dropped, with a warning naming how many.
7. The session cap (`SessionSymbolCap`): symbols already added earlier pass freely;
   new ones are admitted until the session total reaches its maximum; the rest are
   dropped, with a warning.

Every warning is logged (logger "scanner.limits") and returned. The execution time of
the result is the one measured by the runner, not the one the scanner claims.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from attrs import define, evolve, field, frozen

from scanner_core.execution import ScanOutcome
from scanner_core.logs import get_logger
from scanner_core.scanner import ScanResult
from scanner_core.screen import Screen

log = get_logger("limits")

#: How many offending symbols a warning names before it says "...".
_EXAMPLES = 5


@define
class SessionSymbolCap:
    """The most symbols scans may add over one session, and those added so far."""

    max_symbols: int | None = None
    added: set[str] = field(factory=set)

    def admit(self, symbols: Iterable[str]) -> tuple[list[str], list[str]]:
        """Split ranked symbols into (admitted, dropped), admitting new ones while room is left."""
        admitted: list[str] = []
        dropped: list[str] = []
        for symbol in symbols:
            if symbol in self.added:
                admitted.append(symbol)
            elif self.max_symbols is None or len(self.added) < self.max_symbols:
                self.added.add(symbol)
                admitted.append(symbol)
            else:
                dropped.append(symbol)
        return admitted, dropped

    def new_session(self) -> None:
        """Count afresh: a backtest's next trading day is a new session."""
        self.added.clear()


@frozen
class CheckedResult:
    """A scan's result after the rules above, with what was wrong with it."""

    result: ScanResult
    warnings: list[str]
    #: How many symbols the scan returned, before any rule dropped some.
    symbols_found: int


def check_result(
    outcome: ScanOutcome,
    *,
    scanner: str,
    max_symbols: int | None = None,
    known_symbols: Collection[str] | None = None,
    cap: SessionSymbolCap | None = None,
) -> CheckedResult:
    """Apply the module's rules to a scan outcome; never raises."""
    elapsed = outcome.execution_time_ms
    if outcome.error is not None:
        return CheckedResult(
            ScanResult(error=outcome.error, execution_time_ms=elapsed), [], symbols_found=0
        )
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        log.warning("%s: %s", scanner, message, extra={"scanner": scanner, "event": "limit"})

    value = outcome.value
    if isinstance(value, ScanResult):
        result = value
    elif isinstance(value, Screen):
        result = value.result()
    elif isinstance(value, list | tuple):
        warn(f"returned a {type(value).__name__}, not a ScanResult; taken as the ranked symbols")
        result = ScanResult(symbols=list(value))
    else:
        error = f"bad result: expected ScanResult or Screen, got {type(value).__name__}"
        log.error("%s: %s", scanner, error, extra={"scanner": scanner, "event": "bad_result"})
        return CheckedResult(ScanResult(error=error, execution_time_ms=elapsed), [], 0)

    raw = result.symbols if isinstance(result.symbols, list | tuple) else []
    if raw is not result.symbols:
        warn(f"symbols is a {type(result.symbols).__name__}, not a list; no symbols taken")
    symbols = _clean(raw, known_symbols, warn)

    if max_symbols is not None and len(symbols) > max_symbols:
        over = symbols[max_symbols:]
        warn(
            f"returned {len(symbols)} symbols, over max_symbols={max_symbols}; kept the top "
            f"{max_symbols}, dropped {len(over)}: {_examples(over)}"
        )
        symbols = symbols[:max_symbols]
    if cap is not None:
        symbols, over = cap.admit(symbols)
        if over:
            warn(
                f"session cap of {cap.max_symbols} symbols reached; dropped {len(over)}: "
                f"{_examples(over)}"
            )
    clean = evolve(result, symbols=symbols, execution_time_ms=elapsed)
    return CheckedResult(clean, warnings, symbols_found=len(raw))


def _clean(
    raw: Iterable[Any], known: Collection[str] | None, warn: Callable[[str], None]
) -> list[str]:
    """Drop non-string, duplicate and unknown symbols, keeping rank order."""
    if known is not None and not isinstance(known, set | frozenset | dict):
        known = frozenset(known)
    kept: list[str] = []
    seen: set[str] = set()
    bad: list[Any] = []
    duplicates: list[str] = []
    unknown: list[str] = []
    for symbol in raw:
        if not isinstance(symbol, str) or not symbol:
            bad.append(symbol)
        elif symbol in seen:
            duplicates.append(symbol)
        elif known is not None and symbol not in known:
            unknown.append(symbol)
        else:
            seen.add(symbol)
            kept.append(symbol)
    if bad:
        warn(f"dropped {len(bad)} symbols that are not non-empty strings: {_examples(bad)}")
    if duplicates:
        warn(f"dropped {len(duplicates)} duplicate symbols: {_examples(duplicates)}")
    if unknown:
        warn(f"dropped {len(unknown)} symbols not in the universe: {_examples(unknown)}")
    return kept


def _examples(items: list[Any]) -> str:
    shown = ", ".join(repr(item) for item in items[:_EXAMPLES])
    return shown + (", ..." if len(items) > _EXAMPLES else "")
