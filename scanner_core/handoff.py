"""A forked scan's answer on its way back: pickled by reference to what both processes hold.

A child forked for a scan starts with the parent's memory, so an object the parent held
at the fork (the session's tuple of symbols) is in the child too, at the same place.
A Screen names its whole universe: pickled by value, thousands of symbol strings
would be written by the child and rebuilt by the parent on every scan. Such an object
travels as its index in the ``shared`` tuple both sides took at the fork instead, and
the parent puts its own object in its place.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import pickle
from typing import Any

from scanner_core.scanner import ScanContext

#: Pipe capacity asked for (Linux caps it at /proc/sys/fs/pipe-max-size, 1 MiB by
#: default): a scan's answer of a few hundred kB is written without waiting for the
#: parent to read it 64 kB at a time.
PIPE_BYTES = 1 << 20


def shared_objects(context: ScanContext) -> tuple[Any, ...]:
    """Objects that are alike in the parent and in a child forked now, to send by reference
    (none for a context whose session data is not a session's, as some tests build)."""
    symbols = getattr(context.session_data, "symbols", None)
    return (symbols,) if isinstance(symbols, tuple) else ()


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: tuple[Any, ...]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = {id(obj): k for k, obj in enumerate(shared)}
        self._objects = shared

    def persistent_id(self, obj: Any) -> int | None:
        k = self._shared.get(id(obj))
        return k if k is not None and self._objects[k] is obj else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: tuple[Any, ...]) -> None:
        super().__init__(file)
        self._objects = shared

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, int) or not 0 <= pid < len(self._objects):
            raise pickle.UnpicklingError(f"unknown shared object {pid!r}")
        return self._objects[pid]


def dumps(message: Any, shared: tuple[Any, ...]) -> bytes:
    """``message`` pickled, each of ``shared`` found in it written as a reference."""
    buffer = io.BytesIO()
    _Pickler(buffer, shared).dump(message)
    return buffer.getvalue()


def loads(payload: bytes, shared: tuple[Any, ...]) -> Any:
    """The message ``dumps`` wrote, with the references resolved to ``shared``."""
    return _Unpickler(io.BytesIO(payload), shared).load()


def widen_pipe(fd: int) -> None:
    """Ask for a pipe of PIPE_BYTES where the system allows it (Linux); else keep it."""
    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setter is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, setter, PIPE_BYTES)
