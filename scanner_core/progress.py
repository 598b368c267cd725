"""A progress bar over a run's days or an import's files, on stderr, for a person watching.

It shows only when stderr is a terminal and logs are text: under ``--log-format json``
or in a pipe, a CI log or a test, it stays silent.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from scanner_core.hookspecs import hookimpl
from scanner_core.scanner import ScanContext, ScanResult


def wanted(log_format: str) -> bool:
    """Whether a progress bar should show: text logs, and stderr a terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    return log_format == "text" and bool(isatty and isatty())


class Progress:
    """A rich progress bar of ``total`` steps, with a count shown beside it; an observer
    too, advancing once per session day and counting what the scans found.

    Disabled, every method does nothing, so callers need no branches.
    """

    def __init__(
        self, total: int, label: str, *, unit: str = "picks", enabled: bool, console=None
    ) -> None:
        self.total, self.label, self.unit, self.enabled = total, label, unit, enabled
        self.count = 0
        self._console = console
        self._bar: Any = None
        self._task: Any = None
        self._streams: list[tuple[logging.StreamHandler, Any]] = []

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[shown]}"),
                TimeElapsedColumn(),
                console=self._console or Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            # Log lines go through the bar's stderr, printed above it rather than across it.
            self._streams = [
                (h, h.setStream(sys.stderr))
                for h in logging.getLogger("scanner").handlers
                if isinstance(h, logging.StreamHandler) and getattr(h, "_scanner_handler", False)
            ]
            self._task = self._bar.add_task(self.label, total=self.total, shown=self._shown())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            for handler, stream in self._streams:
                handler.setStream(stream)

    def advance(self, steps: int = 1, found: int = 0) -> None:
        """Move on ``steps`` and add ``found`` to the count."""
        self.count += found
        if self._bar is not None:
            self._bar.update(self._task, advance=steps, shown=self._shown())

    def update(self, done: int, total: int) -> None:
        """Set the steps done and the total (the count unchanged)."""
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total, shown=self._shown())

    def _shown(self) -> str:
        return f"{self.count} {self.unit}" if self.unit else ""

    @hookimpl
    def after_scan(self, context: ScanContext, result: ScanResult) -> None:
        """Count what a scan found."""
        if result.error is None and not result.skipped:
            self.advance(0, len(result.symbols))

    @hookimpl
    def session_ended(self, context: ScanContext) -> None:
        """One more day done."""
        self.advance(1)
