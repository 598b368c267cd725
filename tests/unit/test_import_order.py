"""Ordering a file's rows: the whole-file fast path gives what the general rules give."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.import_order import Rows, _general_order, _monotonic_order, put_in_order
from scanner_core.import_report import FileReport

NAMES = ("MSFT", "AAPL", "B")


def rows_of(cells: list[tuple[int, int, float]]) -> Rows:
    """Rows from (symbol code, minute, close) cells, in file order."""
    n = len(cells)
    code = np.array([c for c, _, _ in cells], np.int32)
    ts = np.datetime64("2019-02-11T14:30", "ns") + np.array(
        [m for _, m, _ in cells], "timedelta64[m]"
    )
    close = np.array([v for _, _, v in cells], np.float64)
    values = {"open": close, "high": close, "low": close, "close": close, "volume": close}
    return Rows(NAMES, code, ts, values, np.arange(n), np.arange(2, n + 2))


def outcome(rows: Rows, report: FileReport) -> tuple:
    """What ordering did: the rows kept, in order, and the report's counts."""
    kept = [
        (NAMES[c], int(t.astype(np.int64)), v)
        for c, t, v in zip(rows.code, rows.ts, rows.values["close"], strict=True)
    ]
    return kept, report.rejected, report.collapsed


cell = st.tuples(st.integers(0, 2), st.integers(0, 8), st.sampled_from([1.0, 2.0]))


@settings(max_examples=300, deadline=None)
@given(st.lists(cell, max_size=12), st.booleans())
def test_fast_path_agrees_with_the_general_rules(cells, monotonic):
    if monotonic:
        # one symbol's minutes strictly rising or falling, the common file shapes
        minutes = sorted({m for _, m, _ in cells})
        code = cells[0][0] if cells else 0
        cells = [(code, m, 1.0) for m in (minutes[::-1] if len(minutes) % 2 else minutes)]
    rows = rows_of(cells)
    fast, general = FileReport("f"), FileReport("f")
    got = outcome(put_in_order(rows, fast, str), fast)
    assert got == outcome(_general_order(rows, general, str), general)
    if monotonic:
        assert _monotonic_order(rows) is not None


def test_newest_first_symbols_are_reversed_and_others_kept():
    rows = rows_of([(0, 3, 1.0), (1, 0, 1.0), (0, 2, 1.0), (1, 1, 1.0), (0, 1, 1.0)])
    report = FileReport("f")
    kept, rejected, _ = outcome(put_in_order(rows, report, str), report)
    assert [(s, v) for s, _, v in kept] == [("AAPL", 1.0)] * 2 + [("MSFT", 1.0)] * 3
    assert [t for _, t, _ in kept] == sorted(t for _, t, _ in kept[:2]) + sorted(
        t for _, t, _ in kept[2:]
    )
    assert rejected == {}
