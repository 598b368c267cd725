"""Answers about each row of sorted data, computed once per run of equal keys.

Rows sorted by time repeat one bar time for every symbol of a cross-section (8,000
rows a minute for 8,000 symbols), so a per-row function of the time is worth computing
once per run and repeating.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def per_run(keys: np.ndarray, answer: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``answer(keys)``, for an ``answer`` computed row by row from each row's key alone,
    computed on the first key of each run of equal keys and repeated along the run."""
    if len(keys) < 2:
        return answer(keys)
    starts = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    if 2 * len(starts) > len(keys):
        return answer(keys)  # mostly distinct: repeating would only add work
    return np.repeat(answer(keys[starts]), np.diff(np.r_[starts, len(keys)]), axis=0)
