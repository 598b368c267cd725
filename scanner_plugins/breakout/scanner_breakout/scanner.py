"""BreakoutScanner: a bullish bar on above-average volume closing over the prior daily high."""

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
class BreakoutSettings:
    """Thresholds and periods of the breakout scanner (the ``config`` table)."""

    high_days: int = field(default=20, validator=at_least(1))
    min_breakout_pct: float = field(default=0.0, validator=at_least(0))
    volume_ratio_min: float = field(default=1.0, validator=at_least(0))
    volume_ratio_period: int = field(default=20, validator=at_least(1))
    candle_top_fraction: float = field(default=1 / 3, validator=between(0, 1, open_low=True))
    interval: str = field(default="1m", validator=bar_interval)


class BreakoutScanner(BaseScanner[BreakoutSettings]):
    """Symbols whose newest bar breaks above the prior ``high_days`` daily high.

    On the newest ``interval`` bar: close more than ``min_breakout_pct`` percent above
    the highest high of the last ``high_days`` completed sessions; volume ratio (the
    bar's volume over the mean of the ``volume_ratio_period`` bars before it) at least
    ``volume_ratio_min``; a bullish candle: close > open and close within the top
    ``candle_top_fraction`` of the bar's range (high - close <= fraction * (high - low)),
    so a zero-range bar is never bullish. Only symbols that have traded in the current
    session qualify. Ranked by the percentage above the prior high, highest first.
    """

    @classmethod
    def declare_indicators(cls, settings: BreakoutSettings) -> tuple[IndicatorConfig, ...]:
        """The prior high, the volume ratio and today's volume, at the configured periods."""
        # On daily bars the newest bar is the one scanned, so the prior high leaves it out.
        high = "prior_high" if settings.interval == "1d" else "rolling_high"
        return (
            IndicatorConfig(high, settings.high_days, "1d"),
            IndicatorConfig("volume_ratio", settings.volume_ratio_period, settings.interval),
            IndicatorConfig("day_volume", 1, settings.interval),
        )

    def scan(self, context: ScanContext) -> Screen:
        """Evaluate every tracked symbol at once; rank those passing by % above the high."""
        data = context.session_data
        s = self.settings
        prior_high, ratio, traded = (data.indicator(c) for c in self.indicators)
        open_, high, low, close = (
            data.latest(f, s.interval) for f in ("open", "high", "low", "close")
        )
        valid = prior_high.valid & ratio.valid & ~np.isnan(close)
        # a symbol with no volume yet this session (halted, not opened) has only stale bars
        fresh = traded.values > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            above_pct = (close / prior_high.values - 1.0) * 100.0
            span = high - low
            bullish = (close > open_) & (span > 0) & (high - close <= s.candle_top_fraction * span)
            passed = (
                valid
                & fresh
                & (close > prior_high.values)
                & (above_pct > s.min_breakout_pct)
                & (ratio.values >= s.volume_ratio_min)
                & bullish
            )
        evaluated = int(np.count_nonzero(valid))
        return Screen(
            data.symbols,
            passed,
            above_pct,
            {
                "breakout_pct": above_pct,
                "prior_high": prior_high.values,
                "close": close,
                "open": open_,
                "high": high,
                "low": low,
                "volume_ratio": ratio.values,
            },
            {
                "evaluated": evaluated,
                "skipped_invalid": len(data.symbols) - evaluated,
                "not_traded": int(np.count_nonzero(valid & ~fresh)),
            },
        )
