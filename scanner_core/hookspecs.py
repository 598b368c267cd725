"""pluggy hook specifications: extension hooks only; scanners are called directly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

    import click

    from scanner_core.scanner import ScanContext, ScanResult

PROJECT_NAME = "scanner_core"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def after_scan(context: ScanContext, result: ScanResult) -> None:
    """Observe a finished scan (in the session's process), its result final."""


@hookspec
def symbols_added(context: ScanContext, symbols: list[str], why: dict[str, dict]) -> None:
    """Observe symbols that a scan added to the session, each with its why record."""


@hookspec
def session_started(context: ScanContext) -> None:
    """Observe the start of a trading day, after the scanners' session_start."""


@hookspec
def session_ended(context: ScanContext) -> None:
    """Observe the end of a trading day, after its last scan."""


@hookspec
def register_indicators(register: Callable[..., None]) -> None:
    """Add indicator kernel classes: ``register(KernelClass, name=None)``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``scanner`` command group."""
