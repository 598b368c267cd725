"""Partition files: atomic, fsynced writes under unique temporary names; reads that name
the file and say what is wrong."""

from __future__ import annotations

import errno
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from synthetic import synthetic_minutes

from scanner_core.store import BarStore, StoreError
from scanner_core.store import partition as partition_module

DAY = "2019-02-11"


@pytest.fixture
def stored(tmp_path):
    """A store with one day of two symbols, and that day's partition path."""
    store = BarStore(tmp_path)
    store.write(synthetic_minutes(DAY, ["A", "B"], seed=1, minutes=30))
    return store, tmp_path / "1m" / f"{DAY}.parquet"


def one_line_error(store: BarStore, path) -> str:
    with pytest.raises(StoreError) as info:
        store.load("1m")
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    return message


def test_a_full_disk_is_one_error_naming_the_partition_and_the_old_one_is_intact(
    stored, monkeypatch
):
    store, path = stored
    before = path.read_bytes()

    def half_then_full(table, where, **kwargs):
        with open(where, "wb") as out:
            out.write(b"PAR1 half a partition")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", half_then_full)
    with pytest.raises(StoreError) as info:
        store.write(synthetic_minutes(DAY, ["A", "C"], seed=2, minutes=30))
    assert str(info.value) == (
        f"{path}: cannot be written (the disk is full); the stored partition is unchanged"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_store_whose_parent_is_a_file_is_one_error_naming_the_partition(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = BarStore(tmp_path / "file" / "store")
    with pytest.raises(StoreError, match="cannot be written") as info:
        store.write(synthetic_minutes(DAY, ["A"], seed=1, minutes=3))
    assert str(info.value).startswith(str(tmp_path / "file/store/1m" / f"{DAY}.parquet"))
    assert "Not a directory" in str(info.value)


def test_each_write_uses_its_own_temporary_name_and_fsyncs_it_before_the_rename(
    stored, monkeypatch
):
    store, path = stored
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(
        os, "replace", lambda a, b: events.append(("replace", a, b)) or real_replace(a, b)
    )
    for seed in (3, 4):
        store.write(synthetic_minutes(DAY, ["A"], seed=seed, minutes=30))
    renames = [e for e in events if e != "fsync"]
    temporaries = [os.path.basename(src) for _, src, _ in renames]
    assert len(set(temporaries)) == 2
    assert all(t.startswith(f"{path.name}.") and t.endswith(".tmp") for t in temporaries)
    assert all(dst == path for _, _, dst in renames)
    assert events[0] == "fsync" and events[events.index(renames[0]) - 1] == "fsync"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: b"", "cannot be read: the file is empty"),
        (lambda b: b[:200], "cannot be read (truncated or not a Parquet file)"),
        (lambda b: b"date,open\n2019,1\n", "cannot be read (not a Parquet file)"),
        (lambda b: b[:600] + bytes([b[600] ^ 0xFF]) + b[601:], "CRC checksum"),
    ],
    ids=["empty", "truncated", "csv", "flipped-data-byte"],
)
def test_unreadable_partitions_are_one_line_naming_the_file(stored, damage, expected):
    store, path = stored
    path.write_bytes(damage(path.read_bytes()))
    assert expected in one_line_error(store, path)


def test_a_partition_with_another_schema_says_which_column_differs(stored):
    store, path = stored
    table = pq.read_table(path)
    table = table.set_column(2, "open", table.column("open").cast(pa.float32()))
    pq.write_table(table, path)
    message = one_line_error(store, path)
    assert message.endswith("wrong schema: column 'open' is float; expected double")


def test_a_footer_that_lacks_a_held_symbol_is_an_error_not_rows_filed_elsewhere(stored):
    store, path = stored
    table = pq.read_table(path)
    meta = {partition_module.SYMBOLS_KEY: b'["B"]'}
    pq.write_table(table.replace_schema_metadata(meta), path)
    assert "stale footer: its symbol list lacks 'A'" in one_line_error(store, path)


def test_importing_into_a_damaged_partition_fails_and_leaves_the_file_as_it_was(stored):
    store, path = stored
    path.write_bytes(path.read_bytes()[:300])
    before = path.read_bytes()
    with pytest.raises(StoreError, match="cannot be read"):
        store.write(synthetic_minutes(DAY, ["C"], seed=5, minutes=3))
    assert path.read_bytes() == before
