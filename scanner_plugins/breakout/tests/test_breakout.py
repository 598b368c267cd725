"""BreakoutScanner on hand-built bars: a close above the prior high, and one just short of it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from scanner_breakout import BreakoutScanner

from scanner_core import ScanContext
from scanner_core.bars import Bars


def high_close_bars(rows: dict[str, list[tuple[float, float]]]) -> Bars:
    """Daily bars from (high, close) pairs per symbol."""
    symbols = tuple(rows)
    pairs = np.array(list(rows.values()), dtype=float).transpose(1, 0, 2).reshape(-1, 2)
    days = len(next(iter(rows.values())))
    ts = np.repeat(np.arange(days).astype("datetime64[D]").astype("datetime64[ns]"), len(symbols))
    code = np.tile(np.arange(len(symbols), dtype=np.int32), days)
    high, close = pairs[:, 0], pairs[:, 1]
    return Bars("1d", symbols, code, ts, close, high, close, close, np.ones(len(close)))


def test_close_above_prior_high_breaks_out() -> None:
    bars = high_close_bars(
        {"OUT": [(12, 11), (12.5, 12), (13, 13)], "IN": [(12, 11), (12.5, 12), (12.5, 12.5)]}
    )
    context = ScanContext(bars, None, "backtest", datetime(2024, 1, 3, tzinfo=UTC))
    result = BreakoutScanner().scan(context)
    assert result.symbols == ["OUT"]
    assert result.metadata["breakout_pct"]["OUT"] == (13 / 12.5 - 1) * 100


def test_margin_demands_a_clear_break() -> None:
    bars = high_close_bars({"OUT": [(8, 8), (10, 10)]})  # 25% above the prior high
    context = ScanContext(bars, None, "backtest", datetime(2024, 1, 2, tzinfo=UTC))
    assert BreakoutScanner({"min_breakout_pct": 25.0}).scan(context).symbols == []
    assert BreakoutScanner({"min_breakout_pct": 24.9}).scan(context).symbols == ["OUT"]
