"""Chunks cover the range's days in order, and merge back as one run."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from scanner_core.evaluate.chunks import merge, split_days
from scanner_core.evaluate.replay import ChunkResult

DAY = dt.date(2019, 2, 11)


@given(st.integers(1, 60), st.integers(1, 80))
def test_chunks_cover_every_day_once_in_order(n, chunks):
    days = [DAY + dt.timedelta(days=k) for k in range(n)]
    ranges = split_days(days, chunks)
    assert len(ranges) == min(n, chunks)
    covered = [d for first, last in ranges for d in days if first <= d <= last]
    assert covered == days
    sizes = [days.index(last) - days.index(first) + 1 for first, last in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_merge_keeps_range_order_and_counts():
    second = ChunkResult(DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=3), [{"n": 2}], 2)
    first = ChunkResult(DAY, DAY + dt.timedelta(days=1), [{"n": 1}], 2, problems=["x"])
    merged = merge([second, first])
    assert merged.picks == [{"n": 1}, {"n": 2}]
    assert (merged.start, merged.end, merged.days) == (DAY, DAY + dt.timedelta(days=3), 4)
    assert merged.problems == ["x"] and merged.empty == []


def test_merge_is_empty_only_when_every_chunk_was():
    a = ChunkResult(DAY, DAY, empty=["no bar"])
    b = ChunkResult(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1))
    assert merge([a, b]).empty == []
    assert merge([a, a]).empty == ["no bar"]
