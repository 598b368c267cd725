"""Time-zone shifts for imported stamps, looked up per quarter hour and remembered.

Every zone's offset changes only at a quarter hour (wall clock and UTC alike), so the
offset of any instant is that of its quarter hour's start.  pandas works out each quarter
hour once per zone and import; files of the same days then shift by array lookups alone.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

_QUARTER_NS = 15 * 60 * 10**9
_NAT = np.datetime64("NaT", "ns")


class _Offsets:
    """Offsets (ns) of quarter hours of one zone in one direction, filled in as needed."""

    def __init__(self, tz: str, from_wall: bool) -> None:
        self.tz = tz
        self.from_wall = from_wall
        self.quarters = np.empty(0, np.int64)
        # NaT-free int64 offsets; ``known`` is False where a wall time does not exist
        # or exists twice
        self.offsets = np.empty(0, np.int64)
        self.known = np.empty(0, bool)

    def shift(self, ts: np.ndarray) -> np.ndarray:
        """UTC for wall times (from_wall) or wall times for UTC; NaT in, NaT out."""
        ts = ts.astype("datetime64[ns]")
        valid = ~np.isnat(ts)
        quarter = ts.astype(np.int64) // _QUARTER_NS
        at = self._positions(quarter[valid])
        out = np.full(len(ts), _NAT)
        good = self.known[at]
        shifted = ts[valid] + self.offsets[at].astype("timedelta64[ns]")
        out[valid] = np.where(good, shifted, _NAT)
        return out

    def _positions(self, quarters: np.ndarray) -> np.ndarray:
        """Each quarter hour's index in the table, adding the ones not seen yet."""
        at = np.searchsorted(self.quarters, quarters).clip(0, max(len(self.quarters) - 1, 0))
        missing = (
            ~(self.quarters[at] == quarters) if len(self.quarters) else np.ones(len(quarters), bool)
        )
        if missing.any():
            self._add(np.unique(quarters[missing]))
            at = np.searchsorted(self.quarters, quarters)
        return at

    def _add(self, quarters: np.ndarray) -> None:
        """Work out the offsets of new quarter hours with pandas."""
        starts = pd.DatetimeIndex((quarters * _QUARTER_NS).astype("datetime64[ns]"))
        if self.from_wall:
            utc = starts.tz_localize(self.tz, ambiguous="NaT", nonexistent="NaT").tz_convert(None)
            target = utc.to_numpy()
        else:
            target = starts.tz_localize("UTC").tz_convert(self.tz).tz_localize(None).to_numpy()
        known = ~np.isnat(target)
        offsets = np.where(known, target.astype(np.int64) - starts.asi8, 0)
        merged = np.concatenate([self.quarters, quarters])
        order = np.argsort(merged, kind="stable")
        self.quarters = merged[order]
        self.offsets = np.concatenate([self.offsets, offsets])[order]
        self.known = np.concatenate([self.known, known])[order]


@cache
def _table(tz: str, from_wall: bool) -> _Offsets:
    return _Offsets(tz, from_wall)


def wall_to_utc(wall: np.ndarray, tz: str) -> np.ndarray:
    """Naive wall-clock times in tz as naive UTC; NaT where one does not exist or exists
    twice there (the DST changes)."""
    return _table(tz, True).shift(wall)


def utc_to_wall(utc: np.ndarray, tz: str) -> np.ndarray:
    """Naive UTC instants as naive wall-clock times in tz."""
    return _table(tz, False).shift(utc)
