"""verify_store: every check on a partition, and repairs that lose no row."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from synthetic import synthetic_minutes

from scanner_core.store import BarStore, concat
from scanner_core.store.partition import SYMBOLS_KEY, write_partition
from scanner_core.store.verify import check_partition, verify_store

DAY, NEXT = "2019-02-11", "2019-02-12"


def keyed(bars) -> set[tuple]:
    """(symbol, ts, close) of each row."""
    return {
        (bars.symbols[c], int(t), float(x))
        for c, t, x in zip(
            bars.code, bars.ts.astype("datetime64[ns]").astype("int64"), bars.close, strict=True
        )
    }


@pytest.fixture
def day():
    return synthetic_minutes(DAY, ["A", "B", "C"], seed=7, minutes=20)


def test_a_store_as_written_is_fine(tmp_path, day):
    BarStore(tmp_path).write(concat([day, synthetic_minutes(NEXT, ["A"], seed=8, minutes=5)]))
    report = verify_store(tmp_path)
    assert report.ok
    assert report.lines() == ["2 partitions checked, 0 files with problems"]


def test_unsorted_rows_are_reported_and_rewritten_sorted(tmp_path, day):
    path = tmp_path / "1m" / f"{DAY}.parquet"
    write_partition(path, day.take(np.arange(len(day))[::-1]))
    (problem,) = check_partition(path, "1m")
    assert problem.what.startswith("rows are not sorted by (ts, symbol)")
    report = verify_store(tmp_path, repair=True)
    assert report.ok
    assert report.actions == [f"{path}: rewritten sorted with its footer"]
    assert check_partition(path, "1m") == []
    assert keyed(BarStore(tmp_path).load("1m")) == keyed(day)


def test_repeated_keys_keep_the_last_row_of_each(tmp_path, day):
    path = tmp_path / "1m" / f"{DAY}.parquet"
    later = synthetic_minutes(DAY, ["B"], seed=9, minutes=2)
    write_partition(path, concat([day, later]))
    unsorted, repeated = (p.what for p in check_partition(path, "1m"))
    assert unsorted.startswith("rows are not sorted by (ts, symbol) (first out of place: row 2)")
    assert repeated.startswith("2 repeated (ts, symbol) keys (first: B at 2019-02-11T14:30")
    report = verify_store(tmp_path, repair=True)
    assert "2 repeated rows dropped (the last of each kept)" in report.actions[0]
    loaded = BarStore(tmp_path).load("1m")
    assert len(loaded) == len(day)
    assert keyed(later) <= keyed(loaded)


@pytest.mark.parametrize(
    ("listed", "what"),
    [
        (b'["A", "C"]', "stale footer: its symbol list lacks 'B', which rows hold"),
        (b'["C", "B", "A"]', "stale footer: its symbol list is not sorted"),
    ],
)
def test_a_stale_footer_is_reported_and_rewritten(tmp_path, day, listed, what):
    BarStore(tmp_path).write(day)
    path = tmp_path / "1m" / f"{DAY}.parquet"
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({SYMBOLS_KEY: listed}), path)
    assert [p.what for p in check_partition(path, "1m")] == [what]
    assert verify_store(tmp_path, repair=True).ok
    assert check_partition(path, "1m") == []
    assert keyed(BarStore(tmp_path).load("1m")) == keyed(day)


def test_rows_of_another_session_move_to_their_own_partition(tmp_path, day):
    store = BarStore(tmp_path)
    stored_next = synthetic_minutes(NEXT, ["A"], seed=10, minutes=5)
    store.write(stored_next)
    stray = synthetic_minutes(NEXT, ["Z"], seed=11, minutes=3)
    path = tmp_path / "1m" / f"{DAY}.parquet"
    write_partition(path, concat([day, stray]))
    (problem,) = check_partition(path, "1m")
    assert problem.what == f"3 rows belong to other partitions (first: {NEXT}.parquet)"
    report = verify_store(tmp_path, repair=True)
    assert report.actions[0] == f"{path}: moved 3 rows to their own partitions"
    assert verify_store(tmp_path).ok
    assert keyed(store.load("1m")) == keyed(day) | keyed(stray) | keyed(stored_next)
    assert store.sessions("1m") == sorted(store.sessions("1m"))


def test_unreadable_partitions_move_aside_and_leftover_temporaries_go(tmp_path, day):
    store = BarStore(tmp_path)
    store.write(concat([day, synthetic_minutes(NEXT, ["A"], seed=8, minutes=5)]))
    bad = tmp_path / "1m" / f"{NEXT}.parquet"
    bad.write_bytes(bad.read_bytes()[:-30])
    (tmp_path / "damaged" / "1m").mkdir(parents=True)
    (tmp_path / "damaged" / "1m" / bad.name).write_bytes(b"moved aside before")
    tmp = tmp_path / "1m" / f"{DAY}.parquet.tmp"
    tmp.write_bytes(b"half")
    report = verify_store(tmp_path)
    assert not report.ok
    assert report.lines()[0] == f"{tmp}: leftover temporary file of an interrupted write"
    assert report.lines()[1].startswith(f"{bad}: cannot be read (truncated or not a Parquet file)")
    assert report.lines()[-1] == "2 partitions checked, 2 files with problems"
    report = verify_store(tmp_path, repair=True)
    assert report.ok
    aside = tmp_path / "damaged" / "1m" / f"{bad.name}.1"
    assert report.actions == [f"{tmp}: removed", f"{bad}: moved aside to {aside}"]
    assert aside.stat().st_size > 0
    assert keyed(store.load("1m")) == keyed(day)
    assert verify_store(tmp_path).lines() == ["1 partition checked, 0 files with problems"]
