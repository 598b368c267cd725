"""One session's base bars indexed by symbol and bar end, for vectorized as-of and range reads."""

from __future__ import annotations

import numpy as np
from attrs import frozen

from scanner_core.bars import INTERVAL_MINUTES, Bars

#: Minutes since the epoch fit in the low 32 bits of a key; the symbol's code sits above.
_SHIFT = 32
#: A minute later than any bar end.
LAST = np.int64((1 << _SHIFT) - 1)


def minutes(ts: np.ndarray) -> np.ndarray:
    """UTC datetime64 as whole minutes since the epoch (int64)."""
    return np.asarray(ts).astype("datetime64[m]").astype(np.int64)


@frozen(eq=False)
class DayIndex:
    """Bars of one session over a fixed symbol list, sorted by (symbol code, bar end).

    A bar is known at its end (its start plus the interval), the moment a scan can first
    see it; the price at a moment is the close of the symbol's last bar ended by then.
    """

    key: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    #: Row where each code's bars begin (one more entry than codes).
    starts: np.ndarray

    @classmethod
    def build(
        cls, bars: Bars, codes_of: dict[str, int], n_codes: int, known_at: int | None = None
    ) -> DayIndex:
        """Index ``bars``; symbols outside ``codes_of`` are left out.

        ``known_at`` (minutes) is when every bar becomes known, for daily bars, which the
        session hands on at the close; else each bar is known at its start plus its interval.
        """
        mapping = np.array([codes_of.get(s, -1) for s in bars.symbols] + [-1], dtype=np.int64)
        code = mapping[bars.code] if len(bars) else np.empty(0, np.int64)
        keep = code >= 0
        if known_at is None:
            end = minutes(bars.ts[keep]) + INTERVAL_MINUTES[bars.interval]
        else:
            end = np.full(int(keep.sum()), known_at, dtype=np.int64)
        key = (code[keep] << _SHIFT) | end
        order = np.argsort(key, kind="stable")
        key = key[order]
        # One padding row, so a range ending at the last row is still a valid reduceat index.
        pad = np.array([np.nan])
        return cls(
            key=key,
            high=np.r_[bars.high[keep][order], pad],
            low=np.r_[bars.low[keep][order], pad],
            close=np.r_[bars.close[keep][order], pad],
            starts=np.searchsorted(key, np.arange(n_codes + 1, dtype=np.int64) << _SHIFT),
        )

    def _at(self, codes: np.ndarray, moment: np.ndarray | np.int64) -> np.ndarray:
        """The first row of each code whose bar ends after ``moment`` (minutes)."""
        return np.searchsorted(self.key, (codes << _SHIFT) | moment, side="right")

    def price(self, codes: np.ndarray, moment: np.ndarray | np.int64) -> np.ndarray:
        """Close of each code's last bar ended by ``moment`` this session; NaN without one."""
        row = self._at(codes, moment) - 1
        return np.where(row >= self.starts[codes], self.close[np.maximum(row, 0)], np.nan)

    def extremes(
        self, codes: np.ndarray, after: np.ndarray | np.int64, until: np.ndarray | np.int64
    ) -> tuple[np.ndarray, np.ndarray]:
        """Highest high and lowest low of bars ending in (after, until]; NaN without any."""
        lo = self._at(codes, after)
        hi = self._at(codes, until)
        return _reduce(np.fmax, self.high, lo, hi), _reduce(np.fmin, self.low, lo, hi)


def _reduce(op: np.ufunc, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """op over values[lo[i]:hi[i]] for every i at once; NaN where the range is empty."""
    if not len(lo):
        return np.empty(0)
    bounds = np.empty(2 * len(lo), dtype=np.intp)
    bounds[0::2] = lo
    bounds[1::2] = hi
    # reduceat takes pairs (lo, hi) as consecutive indices; every other result is the range.
    out = op.reduceat(values, np.minimum(bounds, len(values) - 1))[0::2]
    return np.where(hi > lo, out, np.nan)
