"""VolumeScanner on hand-built bars: a volume spike is found, steady volume is not."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from scanner_volume import VolumeScanner

from scanner_core import ScanContext
from scanner_core.bars import Bars


def volume_bars(volumes: dict[str, list[float]]) -> Bars:
    """Bars over consecutive days with the given volumes; prices stay at 10."""
    symbols = tuple(volumes)
    matrix = np.array(list(volumes.values()), dtype=float).T  # days x symbols
    ts = np.repeat(np.arange(matrix.shape[0]).astype("datetime64[D]"), len(symbols))
    code = np.tile(np.arange(len(symbols), dtype=np.int32), matrix.shape[0])
    price = np.full(matrix.size, 10.0)
    return Bars(
        "1d", symbols, code, ts.astype("datetime64[ns]"), price, price, price, price, matrix.ravel()
    )


def test_spike_found_and_ranked() -> None:
    bars = volume_bars({"STEADY": [100, 100, 110], "SPIKE": [100, 100, 500], "BIG": [10, 30, 80]})
    context = ScanContext(bars, None, "backtest", datetime(2024, 1, 3, tzinfo=UTC))
    result = VolumeScanner({"min_volume_ratio": 3.0}).scan(context)
    assert result.symbols == ["SPIKE", "BIG"]
    assert result.metadata["volume_ratio"]["SPIKE"] == 5.0


def test_symbol_without_history_is_skipped() -> None:
    bars = volume_bars({"NEW": [0, 0, 900]})
    context = ScanContext(bars, None, "backtest", datetime(2024, 1, 3, tzinfo=UTC))
    assert VolumeScanner({"min_volume_ratio": 3.0}).scan(context).symbols == []
