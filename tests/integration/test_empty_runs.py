"""Runs that do nothing, or less than asked, through the installed `scanner` command:
the exit code says so (3, or 0 with --allow-empty), one line says why, and a range past
the data runs only the stored days."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from csv_store import import_synthetic

FAULTY = Path(__file__).resolve().parents[1] / "fixtures/scanners/faulty.py"
_SCRIPT = Path(sys.executable).with_name("scanner")
SCANNER = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from scanner_core.cli import main; main()"]
)
DAYS = ["2019-02-11", "2019-02-12", "2019-02-13"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """Three days of 1-minute bars for two symbols, imported from CSV files."""
    root = tmp_path_factory.mktemp("empty-runs") / "store"
    import_synthetic(root, DAYS, ["AA", "BB"])
    return root


def config(tmp_path: Path, store: Path, at: str = "nowhere", **dates: str) -> Path:
    """A session with one faulty.py scanner raising PluginAbort at `at` (nowhere: quiet)."""
    start, end = dates.get("start", DAYS[0]), dates.get("end", DAYS[-1])
    path = tmp_path / "session.toml"
    path.write_text(
        f'start_date = {start}\nend_date = {end}\n[data]\nstore = "{store}"\n'
        f'[[scanners]]\nmodule = "{FAULTY}:Faulty"\n'
        f'config = {{ at = "{at}", kind = "PluginAbort" }}\n'
        'schedule = { interval = "1h" }\n'
    )
    return path


def scanner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SCANNER, *args], capture_output=True, text=True, check=False)


def test_an_end_date_years_past_the_data_runs_the_stored_days_only(store, tmp_path):
    session = config(tmp_path, store, end="2025-12-31")
    stats = tmp_path / "stats.json"
    done = scanner("run", str(session), "-q", "--stats-json", str(stats))
    assert done.returncode == 0, done.stderr
    clipped = "end_date 2025-12-31 is past the store's last 1m bar; clipped to 2019-02-13"
    assert len([line for line in done.stderr.splitlines() if clipped in line]) == 1
    assert "[SESSION] Summary: 3 days, 2340 bars, 18 scans" in done.stdout
    days = {record["time"][:10] for record in json.loads(stats.read_text())["records"]}
    assert days == set(DAYS)
    check = scanner("check", str(session))
    assert check.returncode == 0
    assert check.stderr.count(clipped) == 1


def test_a_range_years_past_the_data_is_refused_at_once(store, tmp_path):
    session = config(tmp_path, store, start="2020-01-02", end="2030-12-31")
    why = (
        "the store holds no 1m bars from 2020-01-02 to 2030-12-31"
        " (its 1m bars cover 2019-02-11 to 2019-02-13)"
    )
    done = scanner("run", str(session), "-q")
    assert done.returncode == 3
    assert f"{session}: the run did nothing: {why}" in done.stderr.splitlines()
    assert "[SESSION] Summary: 0 days, 0 bars, 0 scans" in done.stdout
    check = scanner("check", str(session))
    assert (check.returncode, check.stderr.splitlines()) == (1, [f"{session}: {why}"])


def test_a_weekend_range_is_an_empty_run_not_a_plugin_error(store, tmp_path):
    session = config(tmp_path, store, start="2019-02-16", end="2019-02-17")
    done = scanner("run", str(session))
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1] == (
        f"{session}: the run did nothing: no XNYS trading session from 2019-02-16 to 2019-02-17"
    )
    assert "clock" not in done.stderr and "Traceback" not in done.stderr
    allowed = scanner("run", str(session), "--allow-empty")
    assert allowed.returncode == 0
    assert "the run did nothing" not in allowed.stderr


def test_every_scan_failing_exits_3_and_allow_empty_exits_0(store, tmp_path):
    session = config(tmp_path, store, at="scan")
    history = tmp_path / "history.jsonl"
    done = scanner("run", str(session), "-q", "--history", str(history))
    assert done.returncode == 3
    assert f"{session}: the run did nothing: every one of the 3 scans failed" in done.stderr
    assert history.is_file()  # the files are written whole even when the run did nothing
    allowed = scanner("run", str(session), "-q", "--allow-empty")
    assert allowed.returncode == 0, allowed.stderr
    assert "[SESSION]   did nothing: every one of the 3 scans failed" in allowed.stdout
    assert scanner("check", str(session)).returncode == 0  # a check cannot foresee it


def test_a_misspelled_scanner_fails_check_and_empties_the_run(store, tmp_path):
    session = tmp_path / "session.toml"
    session.write_text(
        f'start_date = {DAYS[0]}\nend_date = {DAYS[-1]}\n[data]\nstore = "{store}"\n'
        '[[scanners]]\nmodule = "momentun"\n'
    )
    check = scanner("check", str(session))
    assert check.returncode == 1
    assert check.stderr.splitlines() == [
        f"{session}: scanners[0] (momentun): momentun: no installed scanner plugin named"
        " 'momentun'; did you mean 'momentum'?"
    ]
    done = scanner("run", str(session), "-q")
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1] == (
        f"{session}: the run did nothing: no scanner was loaded (see the problems above)"
    )
