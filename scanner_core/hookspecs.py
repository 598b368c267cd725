"""pluggy hook specifications: the scanner lifecycle and the observer hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from scanner_core.scanner import ScanContext, ScanResult

PROJECT_NAME = "scanner_core"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec(firstresult=True)
def setup(context: ScanContext) -> bool:
    """Prepare a scanner for the session; a False result leaves it out."""


@hookspec(firstresult=True)
def scan(context: ScanContext) -> ScanResult:
    """Run one scan; wrappers around it see every scan of every scanner."""


@hookspec
def session_start(context: ScanContext) -> None:
    """Prepare a scanner for a trading day in the session's process, before its scans."""


@hookspec
def teardown(context: ScanContext) -> None:
    """Release a scanner's resources at the end of the session."""


@hookspec
def after_scan(context: ScanContext, result: ScanResult) -> None:
    """Observe a finished scan (in the session's process), its result final."""


@hookspec
def symbols_added(context: ScanContext, symbols: list[str]) -> None:
    """Observe symbols that a scan added to the session."""
