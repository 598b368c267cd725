"""Lookback: a warm-up's coverage of each symbol, counted without sorting its rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.bars import Bars
from scanner_core.indicators import session_ids
from scanner_core.lookback import coverage

MINUTE = np.timedelta64(1, "m")


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 4 * 24 * 60), st.integers(0, 5)), max_size=60),
    in_order=st.booleans(),
    before=st.integers(17938, 17943),
)
def test_history_coverage_counts_each_symbols_bars_and_earlier_sessions(rows, in_order, before):
    # rows in time order take the per-day-block count; shuffled ones the sorting one
    symbols = tuple(f"S{i}" for i in range(6))
    if in_order:
        rows = sorted(rows)
    ts = np.datetime64("2019-02-11T00:00", "ns") + np.array([m for m, _ in rows], int) * MINUTE
    code = np.array([c for _, c in rows], np.int32)
    nan = np.full(len(rows), np.nan)
    bars = Bars("1m", symbols, code, ts.astype("datetime64[ns]"), nan, nan, nan, nan, nan)
    counts, sessions = coverage(bars, "1m", "America/New_York", before)
    days = session_ids(bars.ts, "1m")
    for k, name in enumerate(symbols):
        mine = code == k
        assert counts[name] == int(mine.sum())
        if rows:
            assert sessions[name] == len(set(days[mine & (days < before)].tolist()))
