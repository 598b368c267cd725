"""Turning per-symbol arrays into a ranked ScanResult: the last step of every scan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scanner_core.scanner import ScanResult


def rank(
    symbols: Sequence[str], score: np.ndarray, passed: np.ndarray, limit: int | None = None
) -> np.ndarray:
    """Columns of the symbols that passed, highest score first, ties by symbol name."""
    columns = np.flatnonzero(passed)
    # Only the passing symbols break ties: few of a large universe, so name just those.
    names = np.array([symbols[c] for c in columns.tolist()], dtype=str)
    order = np.lexsort((names, -score[columns]))
    ranked = columns[order]
    return ranked if limit is None else ranked[:limit]


def ranked_result(
    symbols: Sequence[str],
    columns: np.ndarray,
    values: Mapping[str, np.ndarray],
    **metadata: Any,
) -> ScanResult:
    """A ScanResult of these columns in order, with each symbol's values in metadata.

    ``metadata["values"][symbol]`` maps each name in ``values`` to that symbol's
    number (a plain float), so a reader sees exactly what made it pass.
    """
    found = [symbols[c] for c in columns.tolist()]
    table = {
        symbol: {name: float(array[c]) for name, array in values.items()}
        for symbol, c in zip(found, columns.tolist(), strict=True)
    }
    return ScanResult(symbols=found, metadata={**metadata, "values": table})
