"""SessionRecorder: an observer plugin writing what every scan found, deterministically."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner_core import atomic
from scanner_core.hookspecs import hookimpl
from scanner_core.scanner import ScanContext, ScanResult


class SessionRecorder:
    """Records each scan's symbols and the symbols it added with why, in session order.

    Timings are left out on purpose: two runs of one backtest must write
    byte-identical files, and wall-clock milliseconds never repeat. Scans of one time
    are written in `order` (the config's), whatever order they finished in: a live
    session's forked scans finish when they do.
    """

    def __init__(self, order: Sequence[str] = ()) -> None:
        self.order = {name: index for index, name in enumerate(order)}
        self.events: list[dict[str, Any]] = []
        self.added: dict[str, list[str]] = defaultdict(list)

    @hookimpl
    def after_scan(self, context: ScanContext, result: ScanResult) -> None:
        """Remember a finished scan."""
        self.events.append(
            {
                "time": context.current_time.isoformat(),
                "scanner": context.scanner_name,
                "symbols": list(result.symbols),
                "error": result.error,
                "skipped": result.skipped,
                "added": [],
            }
        )

    @hookimpl
    def symbols_added(self, context: ScanContext, symbols: list[str], why: dict[str, dict]) -> None:
        """Attach the symbols that joined the session, and why, to the scan that found them."""
        self.added[context.scanner_name].extend(symbols)
        for event in reversed(self.events):
            if event["scanner"] == context.scanner_name:
                event["added"].extend(symbols)
                event.setdefault("why", {}).update(why)
                break

    def removed(self, scanner: str, symbols: list[str]) -> None:
        """Attach symbols a removal rule took out of the session to the scan that did it."""
        for event in reversed(self.events):
            if event["scanner"] == scanner:
                event.setdefault("removed", []).extend(symbols)
                break

    def _in_order(self) -> list[dict[str, Any]]:
        """The events by scan time, then config order; the order they came in otherwise."""
        last = len(self.order)
        return sorted(
            self.events,
            key=lambda e: (
                datetime.fromisoformat(e["time"]),
                self.order.get(e["scanner"], last),
            ),
        )

    def write(self, path: str | Path) -> None:
        """Write the history as JSON lines, one scan per line, whole (temp file + replace)."""
        lines = (json.dumps(e, sort_keys=True, default=str) for e in self._in_order())
        atomic.write_text(path, "".join(f"{line}\n" for line in lines))
