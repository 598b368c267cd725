"""Processes a scan leaves behind: its process group, and on Linux the orphans that escaped it.

A forked scan leads its own process group, so ending that group ends every process the
scan started that stayed in it (`subprocess.Popen`, a double fork). A process that left
the group with `setsid()` or `setpgid()` is out of reach of a group signal. On Linux the
session process can be made a *subreaper* (`owning_descendants`): such an orphan then
re-parents to the session instead of to init, shows up among its children, and
`kill_new_children` ends it. Elsewhere an escaped process is beyond reach: that is the limit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator, Set
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_TICK_SECONDS = 0.005
# A killed process's own children re-parent to us as it dies; a few rounds catch them.
_ROUNDS = 5

_adopting = False


@contextmanager
def owning_descendants(grace: float) -> Iterator[None]:
    """Adopt orphans (Linux) for the with block; at its end, end every child started in it."""
    known = children()
    was_adopting = _subreaper() is True
    adopt_orphans()
    try:
        yield
    finally:
        kill_new_children(known, grace)
        if not was_adopting:
            adopt_orphans(False)


def adopt_orphans(enable: bool = True) -> bool:
    """Make this process a subreaper (Linux), or stop; True when orphans now come to it."""
    global _adopting
    libc = _libc()
    if libc is None or libc.prctl(_PR_SET_CHILD_SUBREAPER, int(enable), 0, 0, 0) != 0:
        return False
    _adopting = enable
    return enable


def adopting() -> bool:
    """Whether adopt_orphans() made this process the one orphans re-parent to."""
    return _adopting


def children() -> set[int]:
    """Pids whose parent is this process, zombies included (read from /proc; empty without it)."""
    me = os.getpid()
    listed = f"/proc/{me}/task/{me}/children"
    if os.path.exists(listed):
        found: set[int] = set()
        for task in os.listdir(f"/proc/{me}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{me}/task/{task}/children") as f:
                found.update(int(p) for p in f.read().split())
        return found
    return {pid for pid in _all_pids() if _parent(pid) == me}


def end_group(pgid: int, grace: float) -> None:
    """SIGTERM a process group, SIGKILL what is left after `grace`; reap members that are ours."""
    signal_group(pgid, signal.SIGTERM)
    if _wait_gone(pgid, grace):
        return
    signal_group(pgid, signal.SIGKILL)
    _wait_gone(pgid, max(grace, 1.0))


def kill_new_children(known: Set[int], grace: float) -> list[int]:
    """End and reap every child not in `known` (and the group it leads); the pids ended."""
    ended: list[int] = []
    for _ in range(_ROUNDS):
        strays = sorted(children() - known - set(ended))
        if not strays:
            break
        _end_all(strays, grace)
        ended += strays
    return ended


def kill_children(grace: float) -> list[int]:
    """End and reap every child of this process, and what they started; the pids ended."""
    return kill_new_children(frozenset(), grace)


def signal_group(pgid: int, signum: int) -> None:
    """Signal a process group and its leader, ignoring ones already gone."""
    for send in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            send(pgid, signum)


def _end_all(pids: Iterable[int], grace: float) -> None:
    pids = list(pids)
    for pid in pids:
        _signal_tree(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    running = [pid for pid in pids if not _reap(pid)]
    while running and time.monotonic() < deadline:
        time.sleep(_TICK_SECONDS)
        running = [pid for pid in running if not _reap(pid)]
    for pid in running:
        _signal_tree(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _signal_tree(pid: int, signum: int) -> None:
    """Signal a process, and the group it leads if it left ours with setsid()/setpgid()."""
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _reap(pid: int) -> bool:
    """Reap one child if it has exited; True when it is gone."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] != 0
    except ChildProcessError:
        return True


def _wait_gone(pgid: int, seconds: float) -> bool:
    """Wait until no process is left in the group, reaping ours; False if some still are."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-pgid, os.WNOHANG)[0]:
                pass
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        # Zombies another process has yet to reap still count for killpg; they are dead.
        if not _live_members(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_TICK_SECONDS)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here: every command imports this module, few call prctl

    return ctypes.CDLL(None, use_errno=True)  # the running program, libc included


def _subreaper() -> bool | None:
    """Whether this process is a subreaper already (set by us or by whoever started it)."""
    import ctypes

    libc = _libc()
    flag = ctypes.c_int(0)
    if libc is None or libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) != 0:
        return None
    return bool(flag.value)


def _all_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _parent(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[1]) if stat else None


def _live_members(pgid: int) -> bool:
    """Whether the group has a process that is not a zombie (True where /proc is missing)."""
    if not os.path.isdir("/proc/self"):
        return True
    for pid in _all_pids():
        stat = _stat(pid)
        if stat and int(stat[2]) == pgid and stat[0] != b"Z":
            return True
    return False


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name: state, parent, group, ..."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            # The command name may hold spaces and parentheses: fields follow the last ")".
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return None
