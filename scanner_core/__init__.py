"""scanner: stock-market scanners as plugins that add symbols to a running session.

This module is the whole public surface a scanner author writes against; every other
module is internal and may change.
"""

from scanner_core.bars import Bars
from scanner_core.compose import Composite, top
from scanner_core.hookspecs import hookimpl
from scanner_core.indicators import IndicatorConfig, IndicatorValues
from scanner_core.ranking import rank, ranked_result
from scanner_core.retry import TransientScanError
from scanner_core.scanner import BaseScanner, ScanContext, ScanResult
from scanner_core.screen import Screen
from scanner_core.validators import at_least, bar_interval, between, intraday_interval, one_of
from scanner_core.view import SessionView, TradingDay, UndeclaredIndicator

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
