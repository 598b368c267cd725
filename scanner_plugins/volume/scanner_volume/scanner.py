"""VolumeScanner: symbols whose latest volume is a multiple of their average volume."""

from __future__ import annotations

import numpy as np

from scanner_core import BaseScanner, ScanContext, ScanResult
from scanner_core.bars import Bars


class VolumeScanner(BaseScanner):
    """Ranks symbols by the ratio of the latest bar's volume to their average earlier volume.

    Reads the session's bars (a ``Bars`` of one interval) from the context.
    """

    def scan(self, context: ScanContext) -> ScanResult:
        """Latest volume over mean volume of the earlier bars, for every symbol at once."""
        bars: Bars = context.session_data
        min_ratio = float(self.config.get("min_volume_ratio", 3.0))
        n = len(bars.symbols)
        if len(bars) == 0:
            return ScanResult(metadata={"reason": "no bars"})
        latest = bars.ts == bars.ts.max()
        earlier = ~latest
        current = np.zeros(n)
        current[bars.code[latest]] = bars.volume[latest]
        with np.errstate(divide="ignore", invalid="ignore"):
            average = np.bincount(
                bars.code[earlier], weights=bars.volume[earlier], minlength=n
            ) / np.bincount(bars.code[earlier], minlength=n)
            ratio = current / average
        hits = np.flatnonzero(np.isfinite(ratio) & (ratio >= min_ratio))
        ranked = hits[np.argsort(-ratio[hits], kind="stable")]
        symbols = [bars.symbols[i] for i in ranked]
        return ScanResult(
            symbols=symbols,
            metadata={
                "volume_ratio": {s: float(ratio[i]) for s, i in zip(symbols, ranked, strict=True)}
            },
        )
