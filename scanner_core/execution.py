"""Run one scan: in-process when it has no time limit, in a forked child that is killed when it has.

Where a scan runs
-----------------
Without `timeout_seconds` the scan runs in the session's own process and thread: it sees
and may change everything, as any Python call does, and nothing can stop it early.

With `timeout_seconds` the scan runs in a child forked from the session's process. The
child starts as a copy-on-write image of the parent: it reads the session's arrays, the
scanner instance and its config without any copying or pickling, so a per-scan fork stays
cheap even when the session holds gigabytes. But **whatever the scan changes stays in the
child and is lost when it exits**: registering indicators, adding symbols to the session
directly, caching on `self`, counters on the scanner, files opened or connections made.
The only thing that comes back is the return value, pickled through a pipe, so

- do setup-like work (indicators, caches) in `setup()`, which always runs in-process;
- put everything the session must know in the returned `ScanResult` (symbols, metadata),
  and keep it picklable;
- open sockets or database connections inside `scan()`, not before, and do not rely on
  threads started by the parent (the child has only the thread that forked).

A child still running at the limit gets SIGTERM, then SIGKILL after a short grace, and is
reaped before `run_scan` returns. The scan is recorded as error "timeout".

Nothing a forked scan starts outlives it: the child leads its own process group, and
when the scan ends, returned or timed out, the whole group gets SIGTERM, then SIGKILL
after the grace, so a `subprocess` or a double-forked grandchild goes with it (and no
longer holds the session's stdout or stderr open). Processes that left the group with
`setsid()` are ended too where the session adopts orphans (`scanner_core.reaper`, Linux).

A BaseException from a scan (SystemExit, KeyboardInterrupt, GeneratorExit, ...) fails
that scan, in the child and in process alike; see scanner_core.shutdown for the one
exception, a real Ctrl-C with no stop handler installed.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from attrs import frozen

from scanner_core import handoff, reaper, shutdown
from scanner_core.logs import get_logger
from scanner_core.scanner import ScanContext

log = get_logger("execution")

TIMEOUT = "timeout"
#: Time a scan's processes get between SIGTERM and SIGKILL when the scan ends.
KILL_GRACE_SECONDS = 0.3
# How often the parent looks for a child that exited without closing the pipe
# (a grandchild can hold the write end open).
_REAP_TICK_SECONDS = 0.05


@frozen
class ScanOutcome:
    """What one attempt at a scan produced: the raw return value or an error."""

    #: What the scan function returned, unchecked (see scanner_core.limits).
    value: Any = None
    #: None on success; "timeout"; "crashed: ..." when the child died without an answer;
    #: "bad result: ..." when its return value could not be pickled; else "<Type>: <message>".
    error: str | None = None
    #: Class names along the raised exception's MRO, for retry decisions.
    error_types: tuple[str, ...] = ()
    traceback: str | None = None
    #: Wall time the session waited for this attempt, fork and reaping included.
    execution_time_ms: float = 0.0
    #: True when the scan ran in a forked child.
    isolated: bool = False

    @property
    def timed_out(self) -> bool:
        """Whether the scan was stopped at its time limit."""
        return self.error == TIMEOUT


ScanFn = Callable[[ScanContext], Any]


def run_scan(
    fn: ScanFn,
    context: ScanContext,
    timeout_seconds: float | None = None,
    *,
    kill_grace_seconds: float = KILL_GRACE_SECONDS,
) -> ScanOutcome:
    """Run `fn(context)`; with a timeout, in a forked child killed at the limit. Never raises."""
    if timeout_seconds is None:
        return _run_in_process(fn, context)
    return _run_forked(fn, context, timeout_seconds, kill_grace_seconds)


def _error_outcome(exc: BaseException, elapsed_ms: float, isolated: bool) -> ScanOutcome:
    return ScanOutcome(
        error=f"{type(exc).__name__}: {exc}",
        error_types=tuple(cls.__name__ for cls in type(exc).__mro__[:-1]),
        traceback="".join(traceback.format_exception(exc)),
        execution_time_ms=elapsed_ms,
        isolated=isolated,
    )


def _run_in_process(fn: ScanFn, context: ScanContext) -> ScanOutcome:
    start = time.perf_counter()
    try:
        value = fn(context)
    # As in a forked child: a scan's sys.exit() or raise KeyboardInterrupt fails that scan.
    except BaseException as exc:
        if not shutdown.is_plugin_failure(exc):
            raise
        outcome = _error_outcome(exc, _ms_since(start), isolated=False)
        log.debug("%s raised:\n%s", context.scanner_name, outcome.traceback)
        return outcome
    return ScanOutcome(value=value, execution_time_ms=_ms_since(start))


def _run_forked(
    fn: ScanFn, context: ScanContext, timeout_seconds: float, grace: float
) -> ScanOutcome:
    scan = start_forked(fn, context, timeout_seconds, kill_grace_seconds=grace)
    if isinstance(scan, ScanOutcome):
        return scan
    try:
        payload, exited = _collect(scan.pid, scan.fd, scan.deadline or float("inf"))
    except BaseException:
        # An interrupt in the parent (Ctrl-C) must not leave the scan running.
        scan.stop()
        raise
    scan.chunks.append(payload)
    return scan.finish(exited)


class ForkedScan:
    """A scan running in a forked child, watched without blocking (a live session's).

    The caller polls `fd` (readable: the child wrote or exited), calls `poll()` until it
    returns True, then `finish()`; or `finish(exited=False)` at the deadline, which
    ends the child and records a timeout. Either way the child and its process group
    are gone when `finish` returns.
    """

    def __init__(
        self,
        pid: int,
        fd: int,
        context: ScanContext,
        start: float,
        timeout_seconds: float | None,
        grace: float,
        known: set[int] | None,
        shared: tuple[Any, ...] = (),
    ) -> None:
        self.pid, self.fd, self.context = pid, fd, context
        #: What the child may send by reference (handoff.shared_objects at the fork).
        self.shared = shared
        self.start = start
        self.timeout_seconds = timeout_seconds
        #: perf_counter() time at which the scan is stopped; None: no limit.
        self.deadline = None if timeout_seconds is None else start + timeout_seconds
        self.chunks: list[bytes] = []
        self._grace, self._known = grace, known
        self._eof = False
        self._done = False

    def poll(self) -> bool:
        """Read what the child sent without blocking; whether it has exited."""
        if not self._eof:
            self._eof = not self._read_available()
        return self._eof and _exited(self.pid)

    def _read_available(self) -> bool:
        """Read the pipe dry; False once the child closed it."""
        os.set_blocking(self.fd, False)
        try:
            while chunk := os.read(self.fd, 1 << 20):
                self.chunks.append(chunk)
        except BlockingIOError:
            return True
        return False

    @property
    def reading(self) -> bool:
        """Whether the child's pipe is still open (a select on `fd` would wait)."""
        return not self._eof

    def overdue(self) -> bool:
        """Whether the scan ran past its time limit."""
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def finish(self, exited: bool = True) -> ScanOutcome:
        """End the child (it exited, or is stopped now) and decode its outcome."""
        if self._done:
            raise RuntimeError("finish() was called twice")
        self._done = True
        if exited:
            self.chunks.extend(_drain(self.fd))
        os.close(self.fd)
        status = _end_scan(self.pid, self._grace, self._known)
        name = self.context.scanner_name
        if not exited:
            log.warning(
                "%s: stopped after timeout of %.3gs",
                name,
                self.timeout_seconds or 0.0,
                extra={"scanner": name, "event": "timeout"},
            )
            return ScanOutcome(
                error=TIMEOUT, execution_time_ms=_ms_since(self.start), isolated=True
            )
        payload = b"".join(self.chunks)
        return _decode(payload, status, _ms_since(self.start), name, self.shared)

    def stop(self) -> None:
        """End the child and its group at once, dropping its outcome."""
        if not self._done:
            self._done = True
            os.close(self.fd)
            _end_scan(self.pid, self._grace, self._known)


def start_forked(
    fn: ScanFn,
    context: ScanContext,
    timeout_seconds: float | None = None,
    *,
    kill_grace_seconds: float = KILL_GRACE_SECONDS,
) -> ForkedScan | ScanOutcome:
    """Fork a child running `fn(context)` and return at once; an error outcome if fork fails."""
    start = time.perf_counter()
    # Unflushed output would otherwise be written twice, once by each process.
    sys.stdout.flush()
    sys.stderr.flush()
    # The session's own children, started before the scan; any other found after it
    # is an orphan that escaped the scan's process group.
    known = reaper.children() if reaper.adopting() else None
    read_fd, write_fd = os.pipe()
    handoff.widen_pipe(write_fd)
    shared = handoff.shared_objects(context)
    # Frozen objects are skipped by the child's collector, which would otherwise write to
    # every object header it walks and so copy most of the parent's heap page by page.
    gc.freeze()
    try:
        pid = os.fork()
    except OSError as exc:
        gc.unfreeze()
        os.close(read_fd)
        os.close(write_fd)
        return _error_outcome(exc, _ms_since(start), isolated=True)
    if pid == 0:
        os.close(read_fd)
        _child_main(fn, context, write_fd, shared)
    gc.unfreeze()
    os.close(write_fd)
    _running_pids.add(pid)
    # Set here too: the parent may signal the group before the child has set it.
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    return ForkedScan(
        pid, read_fd, context, start, timeout_seconds, kill_grace_seconds, known, shared
    )


def _child_main(fn: ScanFn, context: ScanContext, write_fd: int, shared: tuple[Any, ...]) -> None:
    """Run the scan in the forked child, send the pickled outcome, and exit without cleanup."""
    status = 0
    try:
        os.setpgid(0, 0)
        # The parent's handlers (graceful shutdown, Ctrl-C) make no sense here: SIGTERM
        # and SIGHUP must kill even inside a C call, and an interrupt is the parent's.
        for signum in shutdown.SIGNALS:
            signal.signal(signum, signal.SIG_IGN if signum == signal.SIGINT else signal.SIG_DFL)
        try:
            message: tuple[Any, ...] = ("ok", fn(context))
        except BaseException as exc:
            message = ("error", _error_outcome(exc, 0.0, isolated=True))
        try:
            data = handoff.dumps(message, shared)
        except Exception as exc:
            data = pickle.dumps(("unpicklable", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        status = 1
    finally:
        # os._exit skips atexit handlers and finalizers that belong to the parent.
        os._exit(status)


def _collect(pid: int, read_fd: int, deadline: float) -> tuple[bytes, bool]:
    """Read the child's message until it exits or the deadline passes.

    Returns the bytes read and whether the child exited; it is left unreaped.
    """
    chunks: list[bytes] = []
    poller = select.poll()
    poller.register(read_fd, select.POLLIN | select.POLLHUP)
    eof = False
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return b"".join(chunks), False
        if not eof and poller.poll(min(remaining, _REAP_TICK_SECONDS) * 1000):
            chunk = os.read(read_fd, 1 << 20)
            if chunk:
                chunks.append(chunk)
                continue
            eof = True
        elif eof:
            time.sleep(min(remaining, 0.001))
        if _exited(pid):
            chunks.extend(_drain(read_fd))
            return b"".join(chunks), True


# Scans forked and not yet ended: a live session runs several at once, and ending one
# must not take the others for orphans that escaped it.
_running_pids: set[int] = set()

# Wait statuses of children reaped early where os.waitid cannot leave them unreaped.
_reaped: dict[int, int] = {}


def _exited(pid: int) -> bool:
    """Whether the child exited, leaving it a zombie so its pid still names its group."""
    if hasattr(os, "waitid"):
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        _reaped[pid] = status
    return bool(done)


def _drain(read_fd: int) -> list[bytes]:
    """What is left in the pipe after the child exited, without waiting on other writers."""
    os.set_blocking(read_fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(read_fd, 1 << 20):
            chunks.append(chunk)
    return chunks


def _end_scan(pid: int, grace: float, known: set[int] | None) -> int:
    """End the scan's child, its process group and the orphans that escaped; its wait status."""
    # The child is not reaped yet, so its pid still names its group and no other process.
    reaper.signal_group(pid, signal.SIGTERM)
    status = _reap_child(pid, grace)
    reaper.end_group(pid, grace)
    _running_pids.discard(pid)
    if known is not None:
        reaper.kill_new_children(known | {pid} | _running_pids, grace)
    return status


def _reap_child(pid: int, grace: float) -> int:
    """Reap the child, SIGKILLing its group if it is still running after `grace`."""
    if pid in _reaped:
        return _reaped.pop(pid)
    end = time.perf_counter() + grace
    while time.perf_counter() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.005)
    reaper.signal_group(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _decode(
    payload: bytes, status: int, elapsed_ms: float, scanner: str, shared: tuple[Any, ...]
) -> ScanOutcome:
    try:
        kind, body = handoff.loads(payload, shared)
    except Exception:
        how = (
            f"was killed by signal {os.WTERMSIG(status)}"
            if os.WIFSIGNALED(status)
            else f"exited with status {os.waitstatus_to_exitcode(status)}"
        )
        return ScanOutcome(
            error=f"crashed: the scan process {how} without a result",
            execution_time_ms=elapsed_ms,
            isolated=True,
        )
    if kind == "ok":
        return ScanOutcome(value=body, execution_time_ms=elapsed_ms, isolated=True)
    if kind == "unpicklable":
        return ScanOutcome(
            error=f"bad result: could not be sent back from the scan process ({body})",
            execution_time_ms=elapsed_ms,
            isolated=True,
        )
    log.debug("%s raised:\n%s", scanner, body.traceback)
    return ScanOutcome(
        error=body.error,
        error_types=body.error_types,
        traceback=body.traceback,
        execution_time_ms=elapsed_ms,
        isolated=True,
    )


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
