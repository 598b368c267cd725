"""MomentumScanner: symbols whose latest close is well above their average close."""

from __future__ import annotations

import numpy as np

from scanner_core import BaseScanner, ScanContext, ScanResult
from scanner_core.bars import Bars


class MomentumScanner(BaseScanner):
    """Ranks symbols by how far the latest close stands above the mean close of their bars.

    Reads the session's bars (a ``Bars`` of one interval) from the context.
    """

    def scan(self, context: ScanContext) -> ScanResult:
        """Percent above the average close, for every symbol at once."""
        bars: Bars = context.session_data
        threshold = float(self.config.get("min_above_avg_pct", 5.0))
        n = len(bars.symbols)
        if len(bars) == 0:
            return ScanResult(metadata={"reason": "no bars"})
        counts = np.bincount(bars.code, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            average = np.bincount(bars.code, weights=bars.close, minlength=n) / counts
            latest = bars.ts == bars.ts.max()
            last_close = np.full(n, np.nan)
            last_close[bars.code[latest]] = bars.close[latest]
            above = (last_close / average - 1.0) * 100.0
        hits = np.flatnonzero(above >= threshold)
        ranked = hits[np.argsort(-above[hits], kind="stable")]
        symbols = [bars.symbols[i] for i in ranked]
        return ScanResult(
            symbols=symbols,
            metadata={
                "above_avg_pct": {s: float(above[i]) for s, i in zip(symbols, ranked, strict=True)}
            },
        )
