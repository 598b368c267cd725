"""What a forked live scan waits for: the session changes of the scans before it.

A backtest runs its scans one after another, so each sees the symbols every earlier
scan added (in the session) and not those their removal rules took out; at 10:00 the
volume scan sees what the momentum scan of 10:00 added. A live scan is forked at its
time while earlier scans may still run, or wait to be handed on in backtest order. To
see the session a backtest's scan sees, its child waits before scanning for the
changes the session's process makes when it hands those earlier results on, and makes
them to its own copy of the session (warmed up to the scan's time, as at the fork).

The session's process writes one message down a pipe once the last earlier scan was
handed on: the changes in the order they were made, length-prefixed, so a copy of the
pipe's write end held by another child never keeps the waiting one from reading it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
from collections.abc import Callable, Collection, Hashable
from typing import Any

#: One change to the session: ("join", symbols) or ("leave", symbols).
Change = tuple[str, list[str]]
#: Makes changes to the session of a forked scan's child (the session loop's).
Mirror = Callable[[list[Change]], None]

_LENGTH = struct.Struct("!Q")


class Inbox:
    """The session's end of a waiting child's pipe, and the earlier scans it waits for."""

    def __init__(self, waiting_for: Collection[Hashable]) -> None:
        self.read_fd, self.write_fd = os.pipe()
        #: Earlier scans (by key) whose changes the child has not been sent yet.
        self.waiting_for = set(waiting_for)
        self.changes: list[Change] = []

    def turn(self, run: Callable[[Any], Any], mirror: Mirror) -> Callable[[Any], Any]:
        """`run`, first taking in (in the child) the earlier scans' changes."""
        read_fd, write_fd = self.read_fd, self.write_fd

        def waiting(context: Any) -> Any:
            # The child's copy of the write end would keep it waiting if the session died.
            os.close(write_fd)
            mirror(receive(read_fd))
            os.close(read_fd)
            return run(context)

        return waiting

    def forked(self) -> None:
        """After the fork: the read end is the child's alone."""
        os.close(self.read_fd)

    def handed_on(self, key: Hashable, changes: list[Change]) -> None:
        """An earlier scan was handed on with these changes; the last one sends them all."""
        if key not in self.waiting_for:
            return
        self.waiting_for.discard(key)
        self.changes.extend(changes)
        if not self.waiting_for:
            self._send()

    def _send(self) -> None:
        data = pickle.dumps(self.changes, protocol=pickle.HIGHEST_PROTOCOL)
        # A child that already ended (stopped at its limit) reads nothing: that is fine.
        with contextlib.suppress(OSError):
            os.write(self.write_fd, _LENGTH.pack(len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(self.write_fd, view) :]
        self.close()

    def close(self) -> None:
        """Release the session's end (the child ended, or was sent everything)."""
        if self.write_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.write_fd)
            self.write_fd = -1


def receive(read_fd: int) -> list[Change]:
    """The changes sent down `read_fd`; none when the session's end closed without them."""
    head = _read_exactly(read_fd, _LENGTH.size)
    if head is None:
        return []
    body = _read_exactly(read_fd, _LENGTH.unpack(head)[0])
    return [] if body is None else pickle.loads(body)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
