"""`scanner data import` and `scanner data verify` as real subprocesses on one store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from scanner_core.store import BarStore
from scanner_core.store.verify import verify_store

_SCRIPT = Path(sys.executable).with_name("scanner")
SCANNER = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from scanner_core.cli import main; main()"]
)
PROBE = Path(__file__).resolve().parents[2] / "tests/fixtures/scanners/probe.py"
DAYS = ["2019-02-11", "2019-02-12", "2019-02-13", "2019-02-14"]


def minute_csv(path: Path, symbols: list[str], days: list[str], minutes: int = 30) -> int:
    """A CSV of 1-minute bars (New York times, bar starts); how many rows it holds."""
    frames = []
    for day in days:
        times = pd.date_range(f"{day} 09:30", periods=minutes, freq="min")
        for i, symbol in enumerate(symbols):
            price = 10.0 + i + pd.Series(range(minutes)) / 100
            frames.append(
                pd.DataFrame(
                    {
                        "symbol": symbol,
                        "datetime": times.strftime("%Y-%m-%d %H:%M"),
                        "open": price,
                        "high": price + 0.5,
                        "low": price - 0.5,
                        "close": price + 0.25,
                        "volume": 1000,
                    }
                )
            )
    table = pd.concat(frames)
    table.to_csv(path, index=False)
    return len(table)


def start_import(path: Path, store: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*SCANNER, "data", "import", str(path), "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_imports_started_together_keep_every_row_of_both(tmp_path):
    store = tmp_path / "store"
    expected = 0
    for round_ in range(10):
        # Overlapping days from two files, each with new symbols, into partitions that
        # already hold the earlier rounds' rows.
        first, second = tmp_path / f"a{round_}.csv", tmp_path / f"b{round_}.csv"
        expected += minute_csv(first, [f"A{round_}", f"C{round_}"], DAYS[:3])
        expected += minute_csv(second, [f"B{round_}"], DAYS[1:])
        runs = [start_import(first, store), start_import(second, store)]
        for run in runs:
            out, err = run.communicate()
            assert run.returncode == 0, err
            assert "rejected 0" in out
        assert len(BarStore(store).load("1m")) == expected, f"round {round_}"
        assert verify_store(store).ok, f"round {round_}"
        assert not list((store / "1m").glob("*.tmp"))
    assert len(BarStore(store).symbols("1m")) == 30


def test_verify_reports_each_damaged_partition_and_repair_moves_it_aside(tmp_path):
    store = tmp_path / "store"
    rows = minute_csv(tmp_path / "bars.csv", ["A", "B"], DAYS)
    done = subprocess.run(
        [*SCANNER, "data", "import", str(tmp_path / "bars.csv"), "--store", str(store)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    damaged = store / "1m" / f"{DAYS[1]}.parquet"
    damaged.write_bytes(b"")
    verify = [*SCANNER, "data", "verify", "--store", str(store)]
    found = subprocess.run(verify, capture_output=True, text=True)
    assert found.returncode == 1
    assert found.stdout.splitlines() == [
        f"{damaged}: cannot be read: the file is empty",
        "4 partitions checked, 1 file with problems",
    ]
    repaired = subprocess.run([*verify, "--repair"], capture_output=True, text=True)
    assert repaired.returncode == 0, repaired.stdout
    aside = store / "damaged" / "1m" / damaged.name
    assert f"{damaged}: moved aside to {aside}" in repaired.stdout.splitlines()
    assert aside.exists()
    assert len(BarStore(store).load("1m")) == rows * 3 // 4
    again = subprocess.run(verify, capture_output=True, text=True)
    assert (again.returncode, again.stdout) == (0, "3 partitions checked, 0 files with problems\n")


def test_check_warns_of_trading_days_missing_inside_the_stored_range(tmp_path):
    store = tmp_path / "store"
    minute_csv(tmp_path / "bars.csv", ["A"], DAYS)
    BarStore(store).import_files([tmp_path / "bars.csv"])
    (store / "1m" / f"{DAYS[2]}.parquet").unlink()
    config = tmp_path / "session.toml"
    config.write_text(
        f'mode = "backtest"\nstart_date = {DAYS[0]}\nend_date = {DAYS[-1]}\n'
        f'[data]\nstore = "{store}"\n[universe]\nsymbols = ["A"]\n'
        f'[[scanners]]\nname = "movers"\nmodule = "{PROBE}:TopMovers"\n'
        'schedule = { interval = "5m", start_time = "09:40", end_time = "09:45" }\n'
    )
    done = subprocess.run([*SCANNER, "check", str(config)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"{config}: warning: no 1m bars in {store / '1m'} for 1 of {len(DAYS)} sessions: {DAYS[2]}"
    ]
