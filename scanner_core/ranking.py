"""Turning per-symbol arrays into a ranked ScanResult: the last step of every scan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np

from scanner_core.scanner import ScanResult


def rank(
    symbols: Sequence[str], score: np.ndarray, passed: np.ndarray, limit: int | None = None
) -> np.ndarray:
    """Columns of the symbols that passed, highest score first, ties by symbol name."""
    columns = np.flatnonzero(passed)
    by_score = columns[np.argsort(-score[columns])]
    ordered = -score[by_score]
    # Names matter only for ties (NaNs tie with each other); without any, skip reading them.
    if not ((ordered[1:] == ordered[:-1]) | (np.isnan(ordered[1:]) & np.isnan(ordered[:-1]))).any():
        return by_score if limit is None else by_score[:limit]
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
    # one gather and one tolist per value instead of a numpy scalar per symbol and value
    picked = [np.asarray(array[columns], dtype=float).tolist() for array in values.values()]
    rows = zip(*picked, strict=True) if picked else [()] * len(found)
    per_symbol = map(dict, map(zip, repeat(list(values)), rows))
    table = dict(zip(found, per_symbol, strict=True))
    return ScanResult(symbols=found, metadata={**metadata, "values": table})
