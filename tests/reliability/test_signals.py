"""Corpus: SIGINT, SIGTERM and SIGHUP sent to a real `scanner run` while a scan is running.

The first signal lets the running scan finish, then the session stops: teardown runs,
the stats and history files hold every scan done so far, the exit code is 128 + the
signal's number, and no process the scans started is left, even one that called
setsid(). A second signal exits at once. Scans run in the session's process
(timeout_seconds = 0) or forked (a timeout); the scanner (fixtures/scanners/sleepy.py)
leaves `sleep 300` processes behind on every scan, with the session's stdout.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from csv_store import import_synthetic
from processes import gone

from scanner_core.stats import ScanHistory

SLEEPY = Path(__file__).resolve().parents[1] / "fixtures" / "scanners" / "sleepy.py"
DAY = "2019-03-12"
SCANNER = [sys.executable, "-c", "from scanner_core.cli import main; main()"]
#: A hang guard only: every run here ends in seconds.
HANG_SECONDS = 120
WHERE = {"in-process": 0, "forked": 30}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("signals") / "store"
    import_synthetic(root, [DAY], ["AAA", "BBB"])
    return root


class Run:
    """One `scanner run` subprocess over the sleepy scanner, and the files it writes."""

    def __init__(self, folder: Path, store: Path, timeout: float, block_from: int | None):
        self.folder, self.watch = folder, folder / "watch"
        self.watch.mkdir()
        self.stats, self.history = folder / "stats.json", folder / "history.jsonl"
        settings = f'dir = "{self.watch}"' + (
            "" if block_from is None else f", block_from = {block_from}"
        )
        config = folder / "session.toml"
        config.write_text(
            f'mode = "backtest"\nstart_date = {DAY}\nend_date = {DAY}\nsymbols = ["AAA"]\n'
            f'[data]\nstore = "{store}"\n[universe]\nall = true\n'
            f'[[scanners]]\nname = "sleepy"\nmodule = "{SLEEPY}:Sleepy"\n'
            f"timeout_seconds = {timeout}\n"
            'schedule = { interval = "30m", start_time = "10:00", end_time = "15:30" }\n'
            f"config = {{ {settings} }}\n"
        )
        files = ["--stats-json", str(self.stats), "--history", str(self.history)]
        self.stderr = folder / "stderr.log"
        with self.stderr.open("w") as err:
            self.proc = subprocess.Popen(
                [*SCANNER, "run", str(config), *files],
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=folder,
            )

    def wait_for(self, name: str) -> None:
        """Wait until the scanner wrote watch/NAME; fail if the run ended first."""
        deadline = time.monotonic() + HANG_SECONDS
        while not (self.watch / name).exists():
            assert self.proc.poll() is None, self.stderr.read_text()
            assert time.monotonic() < deadline, f"no {name} yet"
            time.sleep(0.01)

    def finish(self) -> bytes:
        """Wait for the exit and for the stdout pipe to close (nothing else may hold it)."""
        out, _ = self.proc.communicate(timeout=HANG_SECONDS)
        return out

    def delivered(self, signum: int) -> bool:
        """Whether the signal is no longer pending at the process (its handler has it)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text().splitlines()
        masks = [int(line.split()[1], 16) for line in status if line[:6] in ("SigPnd", "ShdPnd")]
        return not any(mask >> (signum - 1) & 1 for mask in masks)

    def pids(self) -> list[int]:
        return [int(p) for p in (self.watch / "pids").read_text().split()]

    def records(self) -> list:
        return ScanHistory.load(self.stats).records

    def history_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.history.read_text().splitlines()]


STOPS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("signum", STOPS, ids=[s.name for s in STOPS])
def test_the_first_signal_finishes_the_scan_then_stops_whole(signum, where, store, tmp_path):
    run = Run(tmp_path, store, WHERE[where], block_from=1)
    run.wait_for("started-1")  # the first scan done, the second running
    run.proc.send_signal(signum)
    (run.watch / "release").touch()
    run.finish()

    assert run.proc.returncode == 128 + signum
    records = run.records()
    assert [(r.scanner, r.error) for r in records] == [("sleepy", None)] * 2
    assert [(e["scanner"], e["error"]) for e in run.history_lines()] == [("sleepy", None)] * 2
    assert (run.watch / "teardown").read_text() == "done"
    assert gone(run.pids(), settle=0) == []
    log = run.stderr.read_text()
    assert f"stopped by {signum.name}: the scans done so far are kept" in log
    assert "[SESSION] Summary: 1 days, " in log and "Traceback" not in log


@pytest.mark.parametrize(
    ("where", "first", "second"),
    [
        ("in-process", signal.SIGINT, signal.SIGTERM),
        ("forked", signal.SIGHUP, signal.SIGTERM),
        ("forked", signal.SIGINT, signal.SIGHUP),
    ],
    ids=["in-process-INT-then-TERM", "forked-HUP-then-TERM", "forked-INT-then-HUP"],
)
def test_a_second_signal_exits_at_once(where, first, second, store, tmp_path):
    run = Run(tmp_path, store, WHERE[where], block_from=1)
    run.wait_for("started-1")
    run.proc.send_signal(first)
    deadline = time.monotonic() + HANG_SECONDS
    while not run.delivered(first) and time.monotonic() < deadline:
        time.sleep(0.001)
    # Never released: only the second signal can end this run.
    run.proc.send_signal(second)
    run.finish()

    assert run.proc.returncode == 128 + second
    assert not (run.watch / "teardown").exists()
    assert gone(run.pids()) == []
    assert f"{second.name} again: exiting at once" in run.stderr.read_text()


@pytest.mark.parametrize("where", WHERE)
def test_a_finished_run_leaves_no_process_and_closes_its_output(where, store, tmp_path):
    run = Run(tmp_path, store, WHERE[where], block_from=None)
    run.finish()  # returns only once every holder of the stdout pipe has closed it

    assert run.proc.returncode == 0, run.stderr.read_text()
    assert len(run.records()) == 12 and len(run.history_lines()) == 12
    assert len(run.pids()) == 24 and gone(run.pids(), settle=0) == []
    assert (run.watch / "teardown").exists()
