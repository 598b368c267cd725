"""BreakoutScanner: symbols whose latest close is above the highest high of their earlier bars."""

from __future__ import annotations

import numpy as np

from scanner_core import BaseScanner, ScanContext, ScanResult
from scanner_core.bars import Bars


class BreakoutScanner(BaseScanner):
    """Ranks symbols by how far the latest close clears their prior high.

    Reads the session's bars (a ``Bars`` of one interval) from the context.
    """

    def scan(self, context: ScanContext) -> ScanResult:
        """Latest close against the maximum high of every earlier bar, per symbol."""
        bars: Bars = context.session_data
        margin = float(self.config.get("min_breakout_pct", 0.0))
        n = len(bars.symbols)
        if len(bars) == 0:
            return ScanResult(metadata={"reason": "no bars"})
        latest = bars.ts == bars.ts.max()
        prior_high = np.full(n, np.nan)
        np.fmax.at(prior_high, bars.code[~latest], bars.high[~latest])
        last_close = np.full(n, np.nan)
        last_close[bars.code[latest]] = bars.close[latest]
        with np.errstate(invalid="ignore"):
            clearance = (last_close / prior_high - 1.0) * 100.0
        hits = np.flatnonzero(clearance > margin)
        ranked = hits[np.argsort(-clearance[hits], kind="stable")]
        symbols = [bars.symbols[i] for i in ranked]
        return ScanResult(
            symbols=symbols,
            metadata={
                "breakout_pct": {
                    s: float(clearance[i]) for s, i in zip(symbols, ranked, strict=True)
                }
            },
        )
