"""scanner: stock-market scanners as pluggy plugins that add symbols to a running session."""

from scanner_core.hookspecs import hookimpl
from scanner_core.indicators import IndicatorConfig
from scanner_core.scanner import BaseScanner, ScanContext, ScanResult

__all__ = ["BaseScanner", "IndicatorConfig", "ScanContext", "ScanResult", "hookimpl"]
__version__ = "0.1.0"
