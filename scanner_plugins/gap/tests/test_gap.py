"""GapScanner on hand-built daily bars: up, down and missed gaps."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from scanner_gap import GapScanner

from scanner_core import ScanContext
from scanner_core.bars import Bars

SYMBOLS = ("UP", "DOWN", "FLAT")


def two_days(prev_close: list[float], next_open: list[float]) -> Bars:
    """Day one closes at ``prev_close``, day two opens at ``next_open`` (one value per symbol)."""
    ts = np.repeat(np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[ns]"), 3)
    code = np.tile(np.arange(3, dtype=np.int32), 2)
    close = np.array(prev_close + next_open, dtype=float)
    opens = np.array(prev_close + next_open, dtype=float)
    return Bars("1d", SYMBOLS, code, ts, opens, close, close, close, np.full(6, 1e6))


def run(config: dict, bars: Bars) -> list[str]:
    context = ScanContext(bars, None, "backtest", datetime(2024, 1, 3, tzinfo=UTC))
    return GapScanner(config).scan(context).symbols


def test_both_directions_ranked_by_gap_size() -> None:
    bars = two_days([100.0, 50.0, 20.0], [103.0, 45.0, 20.1])
    assert run({"min_gap_pct": 2.0}, bars) == ["DOWN", "UP"]


def test_direction_up_only() -> None:
    bars = two_days([100.0, 50.0, 20.0], [103.0, 45.0, 20.1])
    assert run({"min_gap_pct": 2.0, "direction": "up"}, bars) == ["UP"]


def test_gap_just_below_threshold_is_missed() -> None:
    bars = two_days([100.0, 50.0, 20.0], [101.9, 50.0, 20.0])
    assert run({"min_gap_pct": 2.0}, bars) == []
