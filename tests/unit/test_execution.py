"""run_scan: in-process and forked paths, timeouts that really stop a scan, what comes back."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from processes import gone, running

from scanner_core import reaper
from scanner_core.execution import TIMEOUT, run_scan
from scanner_core.scanner import ScanContext, ScanResult

TIMEOUT_S = 0.5
#: The bound the issue sets: stopped within 1 second of the limit.
BOUND_S = TIMEOUT_S + 1.0


def make_context(name: str = "test", **config: object) -> ScanContext:
    return ScanContext(
        session_data=None,
        time_manager=None,
        mode="backtest",
        current_time=datetime(2024, 3, 1, 9, 35),
        config=config,
        scanner_name=name,
    )


def finds(*symbols: str):
    def scan(context: ScanContext) -> ScanResult:
        return ScanResult(symbols=list(symbols), metadata={"pid": os.getpid()})

    return scan


def sleeps_forever(context: ScanContext) -> ScanResult:
    Path(context.config["pidfile"]).write_text(str(os.getpid()))
    time.sleep(3600)
    return ScanResult(symbols=["NEVER"])


def busy_loop(context: ScanContext) -> ScanResult:
    Path(context.config["pidfile"]).write_text(str(os.getpid()))
    n = 0
    while True:
        n += 1


def stuck_in_c_ignoring_sigterm(context: ScanContext) -> ScanResult:
    """A C call that a Python-level handler could never interrupt, and SIGTERM ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Path(context.config["pidfile"]).write_text(str(os.getpid()))
    ctypes.CDLL(None).sleep(3600)
    return ScanResult(symbols=["NEVER"])


def assert_reaped(pidfile: Path) -> None:
    pid = int(pidfile.read_text())
    assert pid != os.getpid()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize(
    "stuck", [sleeps_forever, busy_loop, stuck_in_c_ignoring_sigterm], ids=lambda f: f.__name__
)
def test_stuck_scan_is_stopped_within_the_bound_and_others_are_intact(stuck, tmp_path):
    pidfile = tmp_path / "pid"
    before = run_scan(finds("AAPL", "MSFT"), make_context("before"), TIMEOUT_S)

    start = time.perf_counter()
    outcome = run_scan(stuck, make_context("stuck", pidfile=str(pidfile)), TIMEOUT_S)
    elapsed = time.perf_counter() - start

    after = run_scan(finds("SPY"), make_context("after"), TIMEOUT_S)
    assert outcome.error == TIMEOUT and outcome.timed_out and outcome.value is None
    assert elapsed < BOUND_S, f"stopped {elapsed - TIMEOUT_S:.3f}s after the limit"
    assert_reaped(pidfile)
    assert before.error is None and before.value.symbols == ["AAPL", "MSFT"]
    assert after.error is None and after.value.symbols == ["SPY"]


def test_forked_scan_returns_its_result_from_another_process():
    outcome = run_scan(finds("AAPL"), make_context(), timeout_seconds=10)
    assert outcome.isolated and outcome.error is None
    assert outcome.value.symbols == ["AAPL"]
    assert outcome.value.metadata["pid"] != os.getpid()


def test_without_timeout_the_scan_runs_in_process():
    outcome = run_scan(finds("AAPL"), make_context())
    assert not outcome.isolated
    assert outcome.value.metadata["pid"] == os.getpid()


@pytest.mark.parametrize("timeout", [None, 10.0])
def test_exception_comes_back_as_type_message_and_traceback(timeout):
    def raises(context: ScanContext) -> ScanResult:
        raise ConnectionResetError("feed dropped")

    outcome = run_scan(raises, make_context(), timeout)
    assert outcome.error == "ConnectionResetError: feed dropped"
    assert outcome.error_types[:3] == ("ConnectionResetError", "ConnectionError", "OSError")
    assert "in raises" in outcome.traceback
    assert outcome.isolated is (timeout is not None)


@pytest.mark.parametrize("timeout", [None, 10.0])
def test_scan_calling_sys_exit_is_a_failed_scan_not_the_end_of_the_session(timeout):
    def exits(context: ScanContext) -> ScanResult:
        raise SystemExit(3)

    outcome = run_scan(exits, make_context(), timeout)
    assert outcome.error == "SystemExit: 3"
    assert outcome.isolated is (timeout is not None)


def test_child_sees_parent_arrays_but_its_changes_stay_in_the_child():
    prices = np.arange(1_000_000, dtype=np.float64)
    state = {"registered": []}

    def mutates(context: ScanContext) -> ScanResult:
        total = float(context.config["prices"].sum())
        context.config["prices"][:] = -1.0
        context.config["state"]["registered"].append("rsi")
        return ScanResult(metadata={"total": total})

    forked = run_scan(mutates, make_context(prices=prices, state=state), timeout_seconds=10)
    assert forked.value.metadata["total"] == pytest.approx(prices.size * (prices.size - 1) / 2)
    assert prices[0] == 0.0 and prices[-1] == prices.size - 1
    assert state["registered"] == []

    run_scan(mutates, make_context(prices=prices, state=state))
    assert prices[0] == -1.0 and state["registered"] == ["rsi"]


def test_large_result_passes_through_the_pipe():
    symbols = [f"S{i:06d}" for i in range(200_000)]
    outcome = run_scan(finds(*symbols), make_context(), timeout_seconds=30)
    assert outcome.error is None and outcome.value.symbols == symbols


def test_unpicklable_result_is_a_bad_result_error():
    outcome = run_scan(lambda context: (x for x in "AB"), make_context(), timeout_seconds=10)
    assert outcome.error.startswith("bad result: could not be sent back")
    assert outcome.error_types == ()


def test_crashed_child_is_reported_with_its_exit_status():
    outcome = run_scan(lambda context: os._exit(3), make_context(), timeout_seconds=10)
    assert outcome.error == "crashed: the scan process exited with status 3 without a result"


def test_processes_started_by_a_timed_out_scan_are_killed_with_it(tmp_path):
    pidfile = tmp_path / "grandchild"

    def spawns(context: ScanContext) -> ScanResult:
        child = subprocess.Popen(["sleep", "3600"])
        pidfile.write_text(str(child.pid))
        time.sleep(3600)
        return ScanResult()

    assert run_scan(spawns, make_context(), TIMEOUT_S).timed_out
    assert gone([int(pidfile.read_text())]) == []


def starts_sleep(context: ScanContext) -> ScanResult:
    """Leaves a `sleep 300` running and returns at once."""
    return ScanResult(metadata={"pids": [subprocess.Popen(["sleep", "300"]).pid]})


def double_forks(context: ScanContext) -> ScanResult:
    """A shell backgrounds `sleep 300` and exits: the sleep is an orphan in the scan's group."""
    shell = subprocess.Popen(["sh", "-c", "sleep 300 >/dev/null & echo $!"], stdout=subprocess.PIPE)
    orphan = int(shell.communicate()[0])
    return ScanResult(metadata={"pids": [shell.pid, orphan]})


def escapes_with_setsid(context: ScanContext) -> ScanResult:
    """A child leaves the scan's process group with setsid() and sleeps, its own child too."""
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.execvp("sh", ["sh", "-c", "sleep 300 & exec sleep 300"])
    return ScanResult(metadata={"pids": [pid]})


def spawns_then_hangs(context: ScanContext) -> ScanResult:
    """Starts `sleep 300` and a setsid() one, notes their pids, then never returns."""
    pids = [subprocess.Popen(["sleep", "300"], start_new_session=s).pid for s in (False, True)]
    Path(context.config["pidfile"]).write_text(" ".join(map(str, pids)))
    time.sleep(3600)
    return ScanResult()


@pytest.fixture
def adopting():
    """This process adopts orphans (as `scanner run` does) for the test, then stops."""
    with reaper.owning_descendants(grace=0.3):
        assert reaper.adopting()
        yield


@pytest.mark.parametrize("scan", [starts_sleep, double_forks], ids=["subprocess", "double-fork"])
def test_what_a_returning_scan_started_ends_with_it(scan):
    outcome = run_scan(scan, make_context(), timeout_seconds=30)
    assert outcome.error is None
    assert gone(outcome.value.metadata["pids"], settle=0) == []


@pytest.mark.parametrize(
    "scan",
    [starts_sleep, double_forks, escapes_with_setsid],
    ids=["subprocess", "double-fork", "setsid"],
)
def test_with_orphans_adopted_even_a_setsid_escape_ends_with_the_scan(adopting, scan):
    outcome = run_scan(scan, make_context(), timeout_seconds=30)
    assert outcome.error is None
    pids = outcome.value.metadata["pids"]
    assert gone(pids, settle=0) == []
    assert not set(pids) & reaper.children()  # reaped, not left as zombies


def test_a_timed_out_scan_takes_its_children_and_escapes_with_it(adopting, tmp_path):
    pidfile = tmp_path / "pids"
    context = make_context(pidfile=str(pidfile))
    assert run_scan(spawns_then_hangs, context, TIMEOUT_S).timed_out
    assert gone([int(p) for p in pidfile.read_text().split()], settle=0) == []


def test_the_sessions_own_children_outlive_a_scan(adopting):
    own = subprocess.Popen(["sleep", "300"])
    try:
        assert run_scan(starts_sleep, make_context(), timeout_seconds=30).error is None
        assert running(own.pid)
    finally:
        own.kill()
        own.wait()


def test_no_scan_child_holds_the_callers_output_open(tmp_path):
    """A scan's leftover process must not keep a pipe open: a reader would block on it."""
    code = (
        "from datetime import datetime\n"
        "import subprocess\n"
        "from scanner_core.execution import run_scan\n"
        "from scanner_core.scanner import ScanContext, ScanResult\n"
        "def scan(context):\n"
        "    subprocess.Popen(['sleep', '300'])\n"
        "    return ScanResult()\n"
        "ctx = ScanContext(None, None, 'backtest', datetime(2024, 3, 1), scanner_name='x')\n"
        "print(run_scan(scan, ctx, 30).error)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout == "None\n", proc.stderr
