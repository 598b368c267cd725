"""Bars: columnar OHLCV rows, the one shape bars take between the store and the session."""

from __future__ import annotations

import numpy as np
from attrs import frozen

#: Interval names understood everywhere; minutes per bar (a day is one session).
INTERVAL_MINUTES: dict[str, int] = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "1d": 0}

PRICE_FIELDS = ("open", "high", "low", "close")
FIELDS = (*PRICE_FIELDS, "volume")
#: The dtype of each of a Bars' columns.
DTYPES = {"code": np.int32, "ts": "datetime64[ns]", **dict.fromkeys(FIELDS, np.float64)}


def finer(interval: str, than: str) -> bool:
    """Whether bars of ``interval`` are shorter than bars of ``than`` (a day is longest)."""
    minutes, other = INTERVAL_MINUTES[interval], INTERVAL_MINUTES[than]
    return bool(minutes) and (not other or minutes < other)


def in_time_order(ts: np.ndarray, code: np.ndarray) -> bool:
    """Whether rows are sorted by (ts, code) with no key twice, as Bars keep them."""
    later = ts[1:] > ts[:-1]
    return bool(np.all(later | ((ts[1:] == ts[:-1]) & (code[1:] > code[:-1]))))


@frozen(eq=False)
class Bars:
    """OHLCV rows as parallel numpy arrays, sorted by (ts, code).

    ``symbols`` is a dictionary: row i belongs to ``symbols[code[i]]``.
    ``ts`` is datetime64[ns]: for intraday bars the UTC start of the bar,
    for daily bars the session date at midnight.
    """

    interval: str
    symbols: tuple[str, ...]
    code: np.ndarray
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, mask_or_index: np.ndarray) -> Bars:
        """Rows selected by a boolean mask or an index array, same dictionary."""
        return Bars(
            self.interval,
            self.symbols,
            *(getattr(self, f)[mask_or_index] for f in ("code", "ts", *FIELDS)),
        )

    def for_symbol(self, symbol: str) -> Bars:
        """The rows of one symbol (empty when absent)."""
        if symbol not in self.symbols:
            return self.take(np.zeros(len(self), dtype=bool))
        return self.take(self.code == self.symbols.index(symbol))


def empty_bars(interval: str, symbols: tuple[str, ...] = ()) -> Bars:
    """Bars with no rows."""
    f = np.empty(0, dtype=np.float64)
    return Bars(
        interval, symbols, np.empty(0, np.int32), np.empty(0, "datetime64[ns]"), f, f, f, f, f
    )
