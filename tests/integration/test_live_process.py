"""`scanner live` as its own process: no fork warning, clean stops on SIGINT and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner_core.stats import ScanHistory

ROOT = Path(__file__).resolve().parents[2]
SLEEPY = ROOT / "tests/fixtures/scanners/sleepy.py"
SCANNER = Path(sys.executable).parent / "scanner"


def write_config(path: Path, store: Path, folder: Path, day: str = "2019-02-12") -> None:
    path.write_text(
        f'start_date = {day}\nend_date = {day}\nsymbols = ["SPY"]\nstreams = ["1m"]\n'
        f'[data]\nstore = "{store}"\n[universe]\nsymbols = ["AAPL", "MSFT"]\n'
        f'[[scanners]]\nname = "sleepy"\nmodule = "{SLEEPY}:Sleepy"\ntimeout_seconds = 20\n'
        'schedule = { interval = "5m", start_time = "09:35", end_time = "15:55" }\n'
        f'config = {{ dir = "{folder}" }}\n'
    )


def start(tmp_path: Path, store: Path, speed: str, *extra: str) -> subprocess.Popen:
    folder = tmp_path / "sleepy"
    folder.mkdir()
    config = tmp_path / "live.toml"
    write_config(config, store, folder)
    env = {**os.environ, "PYTHONWARNINGS": "always::DeprecationWarning"}
    command = [str(SCANNER), "live", str(config), "--speed", speed, "--max-lag", "1000"]
    command += ["--history", str(tmp_path / "h.jsonl"), "--stats-json", str(tmp_path / "s.json")]
    return subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_a_live_session_forks_with_no_other_thread_alive(sample_week_store, tmp_path):
    proc = start(tmp_path, sample_week_store, "5000")
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    # Python 3.12+ warns at a fork while other threads run; nothing may warn here.
    assert "use of fork()" not in err
    assert "threads are alive while scans fork" not in err
    assert "bars received" in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_ends_a_live_session_cleanly(sample_week_store, tmp_path, signum):
    proc = start(tmp_path, sample_week_store, "60")
    folder = tmp_path / "sleepy"
    deadline = time.monotonic() + 120
    while not list(folder.glob("started-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(folder.glob("started-*")), "no scan started"
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=120)

    assert proc.returncode == 128 + signum, err
    assert (folder / "teardown").read_text() == "done"
    history = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    assert history and all(h["scanner"] == "sleepy" for h in history)
    document = json.loads((tmp_path / "s.json").read_text())
    session = document["session"]
    assert session["bars_received"] == session["bars_processed"] > 0
    assert ScanHistory.load(tmp_path / "s.json").records
    assert f"stopped by {signal.Signals(signum).name}" in err
    # Every process the scans started is gone with the session.
    for pid in (folder / "pids").read_text().split():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
