"""scanner-breakout: breakouts as a scanner plugin."""

from scanner_breakout.scanner import BreakoutScanner

__all__ = ["BreakoutScanner"]
__version__ = "0.1.0"
