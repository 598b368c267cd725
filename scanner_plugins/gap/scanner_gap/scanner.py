"""GapScanner: symbols whose latest open is at least `min_gap_pct` away from the prior close."""

from __future__ import annotations

import numpy as np

from scanner_core import BaseScanner, ScanContext, ScanResult
from scanner_core.bars import Bars


class GapScanner(BaseScanner):
    """Ranks symbols by the size of the gap between the previous close and the latest open.

    Reads the session's bars (a ``Bars`` of one interval) from the context; up and
    down gaps both count unless ``direction`` is "up" or "down".
    """

    def scan(self, context: ScanContext) -> ScanResult:
        """Compare each symbol's latest open with its close one cross-section earlier."""
        bars: Bars = context.session_data
        min_gap = float(self.config.get("min_gap_pct", 2.0))
        direction = self.config.get("direction", "both")
        stamps = np.unique(bars.ts)
        if stamps.size < 2:
            return ScanResult(metadata={"reason": "fewer than two bars per symbol"})
        latest, previous = bars.ts == stamps[-1], bars.ts == stamps[-2]
        opens = np.full(len(bars.symbols), np.nan)
        opens[bars.code[latest]] = bars.open[latest]
        closes = np.full(len(bars.symbols), np.nan)
        closes[bars.code[previous]] = bars.close[previous]
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = (opens / closes - 1.0) * 100.0
        signed = {"up": gap, "down": -gap}.get(direction, np.abs(gap))
        hits = np.flatnonzero(signed >= min_gap)
        ranked = hits[np.argsort(-signed[hits], kind="stable")]
        symbols = [bars.symbols[i] for i in ranked]
        return ScanResult(
            symbols=symbols,
            metadata={"gap_pct": {s: float(gap[i]) for s, i in zip(symbols, ranked, strict=True)}},
        )
