"""scanner: stock-market scanners as plugins that add symbols to a running session.

This module is the whole public surface a scanner author writes against; every other
module is internal and may change. Names are imported on first use, so a command that
needs none of them (``scanner --help``) starts without numpy or pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner_core.bars import Bars
    from scanner_core.compose import Composite, top
    from scanner_core.hookspecs import hookimpl
    from scanner_core.indicators import IndicatorConfig, IndicatorValues
    from scanner_core.ranking import rank, ranked_result
    from scanner_core.retry import TransientScanError
    from scanner_core.scanner import BaseScanner, ScanContext, ScanResult
    from scanner_core.screen import Screen
    from scanner_core.validators import (
        at_least,
        bar_interval,
        between,
        intraday_interval,
        one_of,
    )
    from scanner_core.view import SessionView, TradingDay, UndeclaredIndicator

#: Each public name and the module that defines it.
_HOMES = {
    "Bars": "bars",
    "BaseScanner": "scanner",
    "Composite": "compose",
    "IndicatorConfig": "indicators",
    "IndicatorValues": "indicators",
    "ScanContext": "scanner",
    "ScanResult": "scanner",
    "Screen": "screen",
    "SessionView": "view",
    "TradingDay": "view",
    "TransientScanError": "retry",
    "UndeclaredIndicator": "view",
    "at_least": "validators",
    "bar_interval": "validators",
    "between": "validators",
    "hookimpl": "hookspecs",
    "intraday_interval": "validators",
    "one_of": "validators",
    "rank": "ranking",
    "ranked_result": "ranking",
    "top": "compose",
}
__all__ = [
    "Bars",
    "BaseScanner",
    "Composite",
    "IndicatorConfig",
    "IndicatorValues",
    "ScanContext",
    "ScanResult",
    "Screen",
    "SessionView",
    "TradingDay",
    "TransientScanError",
    "UndeclaredIndicator",
    "at_least",
    "bar_interval",
    "between",
    "hookimpl",
    "intraday_interval",
    "one_of",
    "rank",
    "ranked_result",
    "top",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'scanner_core' has no attribute {name!r}")
    value = getattr(import_module(f"scanner_core.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names with the module's own."""
    return sorted({*globals(), *__all__})
