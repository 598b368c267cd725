"""scanner-gap: opening gaps as a scanner plugin."""

from scanner_gap.scanner import GapScanner

__all__ = ["GapScanner"]
__version__ = "0.1.0"
