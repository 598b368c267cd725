"""DayIndex: vectorized as-of prices and range extremes equal a row-by-row reading."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.bars import Bars
from scanner_core.evaluate.dayindex import LAST, DayIndex, minutes

T0 = np.datetime64("2019-02-11T14:30", "ns")
SYMBOLS = ("AAA", "BBB", "CCC")


def bars_of(rows: list[tuple[int, int, float, float]]) -> Bars:
    """1-minute bars from (symbol code, minute offset, high, low) rows, sorted (ts, code)."""
    # one bar per (symbol, minute), in the store's (ts, code) order
    rows = sorted(
        {(m, c): (c, m, h, lo) for c, m, h, lo in rows}.values(), key=lambda r: (r[1], r[0])
    )
    code = np.array([r[0] for r in rows], dtype=np.int32)
    ts = np.array([T0 + np.timedelta64(r[1], "m") for r in rows], dtype="datetime64[ns]")
    high = np.array([max(r[2], r[3]) for r in rows], dtype=float)
    low = np.array([min(r[2], r[3]) for r in rows], dtype=float)
    close = (high + low) / 2
    return Bars("1m", SYMBOLS, code, ts, low, high, low, close, np.ones(len(rows)))


rows = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 30),
        st.floats(1, 100, allow_nan=False),
        st.floats(1, 100, allow_nan=False),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(rows, st.integers(-2, 33), st.integers(0, 35))
def test_price_and_extremes_equal_a_scan_of_the_rows(data, after, span):
    bars = bars_of(data)
    # the index codes symbols in its own order: here BBB, AAA (CCC left out)
    index = DayIndex.build(bars, {"BBB": 0, "AAA": 1}, 2)
    start = minutes(T0)
    lo, hi = start + after, start + after + span
    codes = np.array([0, 1], dtype=np.int64)
    price = index.price(codes, np.int64(lo))
    high, low = index.extremes(codes, np.int64(lo), np.int64(hi))
    ends = minutes(bars.ts) + 1
    for k, symbol in enumerate(("BBB", "AAA")):
        mine = bars.code == SYMBOLS.index(symbol)
        known = mine & (ends <= lo)
        want = bars.close[known][np.argmax(ends[known])] if known.any() else np.nan
        np.testing.assert_equal(price[k], want)
        window = mine & (ends > lo) & (ends <= hi)
        np.testing.assert_equal(high[k], bars.high[window].max() if window.any() else np.nan)
        np.testing.assert_equal(low[k], bars.low[window].min() if window.any() else np.nan)


def test_an_empty_day_has_no_price():
    index = DayIndex.build(bars_of([]), {"AAA": 0}, 1)
    codes = np.array([0], dtype=np.int64)
    assert np.isnan(index.price(codes, LAST)).all()
    assert all(np.isnan(x).all() for x in index.extremes(codes, np.int64(0), LAST))
