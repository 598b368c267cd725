"""Screen: a scan's verdict over the whole universe, ranked and capped by the framework.

A scanner may return a Screen instead of a ranked ScanResult: one boolean (``passed``)
and one score per symbol of the universe, plus any per-symbol values worth showing.
The framework ranks it (highest score first, ties by symbol name), caps it
(``max_symbols``, the session cap) and records the ScanResult it gives. Screens are what
compositions combine (see scanner_core.compose): they are columnar, so ``gap & momentum``
is one array operation, not a loop over symbols.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from attrs import field, frozen

from scanner_core.ranking import rank, ranked_result
from scanner_core.scanner import ScanResult


def _bools(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=bool)


def _floats(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _arrays(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {str(key): np.asarray(array, dtype=float) for key, array in values.items()}


def _optional_ints(values: Any) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.int64)


@frozen(eq=False)
class Screen:
    """Which symbols of the universe passed a scan, their scores and values, column by column.

    Every array has one entry per symbol of ``universe``, in its order (the order of the
    session view's ``symbols``). ``values`` are shown per found symbol in the recorded
    result's ``metadata["values"]``; ``metadata`` is kept as the result's metadata.
    ``tier`` groups symbols before the score ranks them (lower first; a composition
    ``a | b`` ranks a's symbols before b's), and ``children`` holds, in a composition,
    which of its scanners passed per symbol.
    """

    universe: tuple[str, ...] = field(converter=tuple)
    passed: np.ndarray = field(converter=_bools)
    score: np.ndarray = field(converter=_floats)
    values: dict[str, np.ndarray] = field(factory=dict, converter=_arrays)
    metadata: dict[str, Any] = field(factory=dict)
    tier: np.ndarray | None = field(default=None, converter=_optional_ints)
    children: dict[str, np.ndarray] = field(factory=dict)

    def __attrs_post_init__(self) -> None:
        n = len(self.universe)
        arrays = {"passed": self.passed, "score": self.score, **self.values}
        if self.tier is not None:
            arrays["tier"] = self.tier
        for name, array in arrays.items():
            if array.shape != (n,):
                raise ValueError(
                    f"Screen.{name} has shape {array.shape}, expected ({n},): one entry per"
                    " symbol of the universe"
                )

    def ranked(self, limit: int | None = None) -> np.ndarray:
        """Columns of the passing symbols, best first (tier, then score, then name)."""
        if self.tier is None:
            return rank(self.universe, self.score, self.passed, limit)
        columns = np.flatnonzero(self.passed)
        names = np.array([self.universe[c] for c in columns.tolist()], dtype=str)
        order = np.lexsort((names, -self.score[columns], self.tier[columns]))
        ranked = columns[order]
        return ranked if limit is None else ranked[:limit]

    @property
    def found(self) -> list[str]:
        """The passing symbols, best first."""
        return [self.universe[c] for c in self.ranked().tolist()]

    def result(self, limit: int | None = None) -> ScanResult:
        """The ScanResult this screen gives: its ranked symbols, their values and metadata."""
        columns = self.ranked(limit)
        result = ranked_result(self.universe, columns, self.values, **self.metadata)
        if self.children:
            found = [self.universe[c] for c in columns.tolist()]
            names = list(self.children)
            passed = [self.children[name][columns].tolist() for name in names]
            rows = zip(*passed, strict=True) if passed else [()] * len(found)
            table = {
                symbol: [name for name, hit in zip(names, row, strict=True) if hit]
                for symbol, row in zip(found, rows, strict=True)
            }
            result.metadata["children"] = table
        return result


def from_symbols(
    symbols: Iterable[Any], universe: Sequence[str], metadata: Mapping[str, Any] | None = None
) -> Screen:
    """A screen passing these ranked symbols, scored so the ranking keeps their order.

    Symbols outside the universe cannot be screened and are left out (counted in
    ``metadata["outside_universe"]``); the values a ScanResult gave per symbol are kept.
    """
    index = {symbol: column for column, symbol in enumerate(universe)}
    passed = np.zeros(len(universe), dtype=bool)
    score = np.zeros(len(universe))
    listed = list(dict.fromkeys(s for s in symbols if isinstance(s, str)))
    kept = [s for s in listed if s in index]
    for place, symbol in enumerate(kept):
        passed[index[symbol]] = True
        score[index[symbol]] = len(kept) - place
    given = dict(metadata or {})
    table = given.pop("values", None)
    values: dict[str, np.ndarray] = {}
    if isinstance(table, Mapping):
        for symbol, row in table.items():
            if symbol in index and isinstance(row, Mapping):
                for key, value in row.items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        column = values.setdefault(str(key), np.full(len(universe), np.nan))
                        column[index[symbol]] = value
    if len(kept) < len(listed):
        given["outside_universe"] = len(listed) - len(kept)
    return Screen(universe, passed, score, values, given)


def as_screen(value: Any, universe: Sequence[str]) -> Screen:
    """A scan's return value as a screen over ``universe``: a Screen, a ScanResult or a list."""
    if isinstance(value, Screen):
        if value.universe != tuple(universe):
            raise ValueError("the scan returned a Screen over another universe than the session's")
        return value
    if isinstance(value, ScanResult):
        if value.error is not None:
            raise ValueError(f"the scan returned an error: {value.error}")
        return from_symbols(value.symbols, universe, value.metadata)
    if isinstance(value, list | tuple):
        return from_symbols(value, universe)
    kind = type(value).__name__
    raise TypeError(f"bad result: expected Screen, ScanResult or a list, got {kind}")
