"""The store's write lock: one flock on ``<root>/.lock``, taken per partition write.

One lock per store, held around each partition's read-merge-write: a partition write
takes milliseconds and the disk is shared anyway, so per-partition locks would buy
little parallelism while leaving a lock file beside every partition.  Readers take no
lock: a partition is only ever replaced whole, by rename, so a reader sees the old file
or the new one.  flock locks belong to an open file, so threads of one process are
serialised as well as processes; the lock is not reentrant.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scanner_core.store.errors import write_error

LOCK_NAME = ".lock"


@contextmanager
def store_lock(root: Path, partition: Path) -> Iterator[None]:
    """Hold the store's write lock while writing ``partition`` (blocks until it is free)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise write_error(partition, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock
