"""The store's write lock: concurrent writers, threads or processes, lose no rows."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from synthetic import synthetic_minutes

from scanner_core.store import BarStore, concat
from scanner_core.store.lock import store_lock
from scanner_core.store.verify import verify_store

DAYS = ("2019-02-11", "2019-02-12", "2019-02-13")


def writer_bars(writer: int):
    """Three days for one writer's own symbols: every writer touches every partition."""
    symbols = [f"W{writer}S{i}" for i in range(3)]
    return concat([synthetic_minutes(d, symbols, seed=writer, minutes=20) for d in DAYS])


def write_as(root: str, writer: int) -> int:
    """One writer's rows written one day at a time (a process pool task)."""
    bars = writer_bars(writer)
    store = BarStore(root)
    for day in DAYS:
        store.write(bars.take(store._partition_keys("1m", bars.ts) == day))
    return len(bars)


def assert_every_row_stored(root, writers: range) -> None:
    loaded = BarStore(root).load("1m")
    assert len(loaded) == sum(len(writer_bars(w)) for w in writers)
    assert set(loaded.symbols) == {f"W{w}S{i}" for w in writers for i in range(3)}
    assert verify_store(root).ok


def test_threads_writing_the_same_partitions_lose_no_rows(tmp_path):
    writers = range(6)
    with ThreadPoolExecutor(len(writers)) as pool:
        list(pool.map(lambda w: write_as(str(tmp_path), w), writers))
    assert_every_row_stored(tmp_path, writers)


def test_processes_writing_the_same_partitions_lose_no_rows(tmp_path):
    writers = range(4)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        list(pool.map(write_as, [str(tmp_path)] * len(writers), writers))
    assert_every_row_stored(tmp_path, writers)


def test_a_writer_waits_while_the_lock_is_held(tmp_path):
    store = BarStore(tmp_path)
    bars = writer_bars(0)
    partition = tmp_path / "1m" / f"{DAYS[0]}.parquet"
    with store_lock(tmp_path, partition):
        writer = threading.Thread(target=store.write, args=(bars,))
        writer.start()
        writer.join(0.3)
        assert writer.is_alive()
        assert not partition.exists()
    writer.join()
    assert len(store.load("1m")) == len(bars)
