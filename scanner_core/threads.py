"""Keeping a live session's process single-threaded, so its forks are safe.

A live session forks its scans from its one thread. Native libraries start threads of
their own: OpenBLAS (numpy) a pool at import, Arrow's bundled jemalloc a background
thread at import, Arrow's I/O pool on the first file read. `quiet_native_threads` turns
the first two off through the environment, which they read when they load: importing
`scanner_core` already loads them, so `scanner live` started without these settings
runs itself again with them (`single_threaded_or_exec`). The store reads partitions
from memory in a live session, so the third never starts (`scanner_core.store.partition`).
"""

from __future__ import annotations

import os
import sys

#: Environment settings that stop native libraries starting threads at import.
SINGLE_THREADED = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}


def single_threaded_or_exec(argv: list[str]) -> None:
    """Return if native libraries were asked for no threads, else exec this command
    again with that asked (settings the user made are kept)."""
    missing = {k: v for k, v in SINGLE_THREADED.items() if k not in os.environ}
    if not missing:
        return
    env = {**os.environ, **missing}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "scanner_core.cli", *argv], env)


def os_threads() -> int:
    """How many threads this process has (1 where /proc cannot tell)."""
    try:
        return len(os.listdir(f"/proc/{os.getpid()}/task"))
    except OSError:
        return 1
