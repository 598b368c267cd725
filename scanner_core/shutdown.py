"""Graceful shutdown: the first SIGINT, SIGTERM or SIGHUP asks the session to stop.

The first signal only sets a flag. The session finishes the step it is in (the scan that
is running), starts no other, runs every scanner's teardown, writes its summary, stats
and history, and `scanner run` exits with 128 + the signal's number: 130 for SIGINT,
143 for SIGTERM, 129 for SIGHUP. A second signal exits at once, with 128 + its number,
after killing every process the session started; nothing more is written.

Only the CLI installs the handlers (`handling_signals`), and it restores the previous
ones afterwards. While they are installed SIGINT never raises KeyboardInterrupt, so a
KeyboardInterrupt that reaches the manager was raised by plugin code: it fails that
plugin. Without them (a library caller) a KeyboardInterrupt is the user's Ctrl-C and
passes through.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from attrs import define, field

from scanner_core import reaper

#: The signals that stop a session (SIGHUP where the platform has it).
SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)

_installed: ShutdownRequest | None = None


class SessionStopped(Exception):
    """Raised between the steps of a session once a stop was requested; names the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@define
class ShutdownRequest:
    """Which stop signal arrived, if any; set from the signal handler, read between steps."""

    signum: int | None = None
    _previous: dict[int, Any] = field(factory=dict, repr=False)

    @property
    def requested(self) -> bool:
        """Whether a stop signal arrived."""
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        """128 + the signal's number once one arrived, else 0."""
        return 0 if self.signum is None else 128 + self.signum

    def install(self) -> None:
        """Handle the stop signals in this process (main thread only) until restore()."""
        global _installed
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        _installed = self

    def restore(self) -> None:
        """Put back the handlers that were there before install()."""
        global _installed
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
        if _installed is self:
            _installed = None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is not None:
            _exit_now(signum)
        self.signum = signum
        # os.write, not logging: this may run inside a write to sys.stderr, which must not
        # be re-entered. Only at a terminal, where someone pressed Ctrl-C and waits.
        if os.isatty(2):
            name = signal.Signals(signum).name
            os.write(2, f"[SESSION] {name}: stopping after the current step\n".encode())


@contextmanager
def handling_signals() -> Iterator[ShutdownRequest]:
    """Install a ShutdownRequest for the body of the with block, then restore the handlers."""
    request = ShutdownRequest()
    request.install()
    try:
        yield request
    finally:
        request.restore()


def current() -> ShutdownRequest | None:
    """The installed request, or None when no stop handler is installed."""
    return _installed


def check() -> None:
    """Raise SessionStopped if a stop signal arrived; called between the steps of a session."""
    if _installed is not None and _installed.signum is not None:
        raise SessionStopped(_installed.signum)


def is_plugin_failure(exc: BaseException) -> bool:
    """Whether a BaseException from plugin code fails that plugin rather than the session.

    Everything does, SystemExit and GeneratorExit included, except a KeyboardInterrupt
    while no handler is installed: that one is a real Ctrl-C.
    """
    return not isinstance(exc, KeyboardInterrupt) or _installed is not None


def _exit_now(signum: int) -> None:
    """A second signal: end what the session started and exit, skipping all cleanup."""
    name = signal.Signals(signum).name
    os.write(2, f"[SESSION] {name} again: exiting at once\n".encode())
    reaper.kill_children(grace=0.0)
    os._exit(128 + signum)
