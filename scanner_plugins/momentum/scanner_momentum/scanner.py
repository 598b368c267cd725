"""MomentumScanner: overbought RSI on unusual volume, trading above the daily trend."""

from __future__ import annotations

import numpy as np
from attrs import field, frozen

from scanner_core import (
    BaseScanner,
    IndicatorConfig,
    ScanContext,
    Screen,
    at_least,
    bar_interval,
    between,
)


@frozen(kw_only=True)
class MomentumSettings:
    """Thresholds and periods of the momentum scanner (the ``config`` table)."""

    rsi_min: float = field(default=70.0, validator=between(0, 100))
    rsi_period: int = field(default=14, validator=at_least(1))
    volume_ratio_min: float = field(default=2.0, validator=at_least(0))
    volume_ratio_period: int = field(default=20, validator=at_least(1))
    sma_days: int = field(default=20, validator=at_least(1))
    interval: str = field(default="1m", validator=bar_interval)


class MomentumScanner(BaseScanner[MomentumSettings]):
    """Symbols with RSI >= rsi_min, volume ratio >= volume_ratio_min and close above the SMA.

    RSI (Wilder) and volume ratio are read on ``interval`` bars, the SMA on completed
    daily bars; the price is the close of the newest ``interval`` bar, and only symbols
    that have traded in the current session qualify. Ranked by RSI, highest first.
    """

    @classmethod
    def declare_indicators(cls, settings: MomentumSettings) -> tuple[IndicatorConfig, ...]:
        """RSI, volume ratio, the daily SMA and today's volume, at the configured periods."""
        return (
            IndicatorConfig("rsi", settings.rsi_period, settings.interval),
            IndicatorConfig("volume_ratio", settings.volume_ratio_period, settings.interval),
            IndicatorConfig("sma", settings.sma_days, "1d"),
            IndicatorConfig("day_volume", 1, settings.interval),
        )

    def scan(self, context: ScanContext) -> Screen:
        """Evaluate every tracked symbol at once; rank those passing by RSI."""
        data = context.session_data
        s = self.settings
        rsi, ratio, sma, traded = (data.indicator(c) for c in self.indicators)
        close = data.latest("close", s.interval)
        valid = rsi.valid & ratio.valid & sma.valid
        # a symbol with no volume yet this session (halted, not opened) has only stale bars
        fresh = traded.values > 0
        with np.errstate(invalid="ignore"):
            passed = (
                valid
                & fresh
                & (rsi.values >= s.rsi_min)
                & (ratio.values >= s.volume_ratio_min)
                & (close > sma.values)
            )
        evaluated = int(np.count_nonzero(valid))
        return Screen(
            data.symbols,
            passed,
            rsi.values,
            {"rsi": rsi.values, "volume_ratio": ratio.values, "sma": sma.values, "close": close},
            {
                "evaluated": evaluated,
                "skipped_invalid": len(data.symbols) - evaluated,
                "not_traded": int(np.count_nonzero(valid & ~fresh)),
            },
        )
