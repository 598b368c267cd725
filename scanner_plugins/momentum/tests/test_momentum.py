"""MomentumScanner on hand-built bars: above, below and exactly at the threshold."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from scanner_momentum import MomentumScanner

from scanner_core import ScanContext
from scanner_core.bars import Bars


def closes_bars(series: dict[str, list[float]]) -> Bars:
    """One bar per day per symbol with the given closes (all symbols share the days)."""
    symbols = tuple(series)
    days = len(next(iter(series.values())))
    ts = np.repeat(np.arange(days).astype("datetime64[D]").astype("datetime64[ns]"), len(symbols))
    code = np.tile(np.arange(len(symbols), dtype=np.int32), days)
    close = np.array(list(zip(*series.values(), strict=True)), dtype=float).ravel()
    return Bars("1d", symbols, code, ts, close, close, close, close, np.ones(close.size))


def test_ranks_symbols_above_their_average() -> None:
    bars = closes_bars({"A": [10, 10, 13], "B": [10, 10, 10], "C": [10, 10, 20]})
    context = ScanContext(bars, None, "backtest", datetime(2024, 1, 3, tzinfo=UTC))
    result = MomentumScanner({"min_above_avg_pct": 5.0}).scan(context)
    assert result.symbols == ["C", "A"]
    assert round(result.metadata["above_avg_pct"]["C"], 6) == 50.0


def test_threshold_is_inclusive() -> None:
    bars = closes_bars({"A": [9, 12]})  # mean 10.5, last 12: 14.2857% above
    context = ScanContext(bars, None, "backtest", datetime(2024, 1, 2, tzinfo=UTC))
    assert MomentumScanner({"min_above_avg_pct": 14.28}).scan(context).symbols == ["A"]
    assert MomentumScanner({"min_above_avg_pct": 14.29}).scan(context).symbols == []
