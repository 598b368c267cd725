"""scanner-momentum: momentum as a scanner plugin."""

from scanner_momentum.scanner import MomentumScanner

__all__ = ["MomentumScanner"]
__version__ = "0.1.0"
