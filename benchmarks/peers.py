"""The momentum day against peers: `scanner run`, polars, pandas-wide and vectorbt, the same hits.

Run: ``python benchmarks/peers.py [--symbols 8000] [--seed 12] [--repeat 1]``.

The workload is backtest_day.py's store (built there, or here when missing; seeded): 8,000
symbols, 25 sessions of daily bars, the last 3 also as 1-minute bars, then the backtest
day 2019-02-12 of 1-minute bars. One scanner, momentum, at examples/demo.toml's settings
(RSI >= 70 on 5-minute bars, volume ratio >= 2, close above the 20-day SMA), scanned
every 15 minutes from 10:00 to 15:30 over the whole store; peers_common.py states the
rules each peer computes.

Each contestant runs as its own process, each peer from its own environment that this
script creates under var/bench/venvs/ with pip (polars; pandas; vectorbt), none of them
importing the project:

- the project: `scanner run` on a config holding only momentum (default timeout, so
  every scan is forked, as users run it);
- polars over the long frame (peers_polars.py), pandas over wide time x symbol frames
  (peers_pandas.py), vectorbt's numba kernels over wide arrays (peers_vectorbt.py).

Every contestant first runs once untimed (the OS file cache, numba's compiled kernels
cached on disk). Then printed for each: compute time (interpreter start and imports
excluded: the project's `scanner run` is timed inside a process that imported every
module it uses first, each peer times itself from after its imports to its hits) and
whole-process wall time, both ``--repeat`` times; then the ratios to the project. The
hits of every scan (the symbols passing, uncapped) must be identical, or the script says
where they differ and exits 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backtest_day import CONFIG, FIRST_DAY, measured, span, workload
from peers_common import key

HERE = Path(__file__).resolve().parent
VENVS = HERE.parent / "var" / "bench" / "venvs"
#: Each peer: its script and what its environment installs.
PEERS = {
    "polars": ("peers_polars.py", ["polars", "pyarrow"]),
    "pandas-wide": ("peers_pandas.py", ["pandas", "pyarrow"]),
    "vectorbt": ("peers_vectorbt.py", ["vectorbt", "pyarrow"]),
}
#: What `scanner run` imports while it works, imported before the timed run.
PROJECT_MODULES = (
    "scanner_core.cli",
    "scanner_core.session_run",
    "scanner_core.coordinator",
    "scanner_core.session",
    "scanner_core.manager",
    "scanner_core.plugins",
    "scanner_core.extensions",
    "scanner_core.execution",
    "scanner_core.store",
    "scanner_core.config",
    "scanner_core.calendar",
    "scanner_core.sources",
    "scanner_core.loop",
    "scanner_core.feeds",
    "scanner_core.recorder",
    "scanner_momentum",
    "pandas",
    "pyarrow.parquet",
    "exchange_calendars",
)
#: backtest_day's session (every symbol of the store, no session cap) with momentum alone.
MOMENTUM = """
[[scanners]]
module = "momentum"
schedule = { interval = "15m", start_time = "10:00", end_time = "15:30" }
config = { rsi_min = 70.0, volume_ratio_min = 2.0, interval = "5m" }
"""


def environment(name: str, packages: list[str]) -> Path:
    """The peer's interpreter, its environment created and pip-installed when missing."""
    folder = VENVS / name
    python = folder / "bin" / "python"
    ready = folder / "installed.txt"
    if not ready.exists():
        print(f"creating {folder} (pip install {' '.join(packages)})", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
            check=True,
        )
        freeze = subprocess.run(
            [str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True
        )
        ready.write_text(freeze.stdout)
    return python


def versions(name: str, packages: list[str]) -> str:
    """The installed versions of a peer's packages."""
    pins = dict(
        line.split("==", 1)
        for line in (VENVS / name / "installed.txt").read_text().splitlines()
        if "==" in line
    )
    return ", ".join(f"{p} {pins.get(p, '?')}" for p in packages)


def project_child(config: str, history: str, out: str) -> None:
    """`scanner run` timed in this process after importing what it uses."""
    for module in PROJECT_MODULES:
        importlib.import_module(module)
    from scanner_core import cli

    started = time.perf_counter()
    cli.main(["run", config, "-q", "--history", history], standalone_mode=False)
    Path(out).write_text(json.dumps({"compute_s": time.perf_counter() - started}))


def project_hits(history: Path) -> dict[str, list[str]]:
    """The symbols each momentum scan found, by scan time (naive UTC)."""
    hits = {}
    for line in history.read_text().splitlines():
        event = json.loads(line)
        if event["scanner"] != "momentum":
            continue
        if event["error"] is not None:
            sys.exit(f"the project's scan at {event['time']} failed: {event['error']}")
        at = dt.datetime.fromisoformat(event["time"]).astimezone(dt.UTC)
        hits[key(at)] = sorted(event["symbols"])
    return hits


def differences(mine: dict[str, list[str]], theirs: dict[str, list[str]]) -> list[str]:
    """Where two hit lists differ, one line per scan time."""
    out = []
    for at in sorted(set(mine) | set(theirs)):
        a, b = set(mine.get(at, [])), set(theirs.get(at, []))
        if a != b:
            out.append(
                f"  {at}: only the project {sorted(a - b)[:5]}, only the peer {sorted(b - a)[:5]}"
            )
    return out


def main() -> None:
    """Build or reuse the store and environments, run every contestant, compare, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="write the store again")
    parser.add_argument("--project-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.project_child:
        project_child(*args.project_child)
        return
    args.days = 1
    store, _, _ = workload(args)
    folder = store.parent / "peers"
    folder.mkdir(exist_ok=True)
    config = folder / "momentum.toml"
    session = CONFIG.format(start=FIRST_DAY, end=FIRST_DAY, store=store)
    config.write_text(session.replace("max_session_symbols = 30\n", "") + MOMENTUM)
    pythons = {name: environment(name, pkgs) for name, (_, pkgs) in PEERS.items()}

    scanner = str(Path(sys.executable).with_name("scanner"))
    history, timing = folder / "project-history.jsonl", folder / "project.json"
    rows: dict[str, tuple[list[float], list[float]]] = {"project": ([], [])}
    measured([scanner, "run", str(config), "-q", "--history", str(history)])
    for _ in range(args.repeat):
        whole = measured([scanner, "run", str(config), "-q", "--history", str(history)])
        rows["project"][1].append(whole["wall_s"])
        child = [
            sys.executable,
            __file__,
            "--project-child",
            str(config),
            str(history),
            str(timing),
        ]
        subprocess.run(child, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows["project"][0].append(json.loads(timing.read_text())["compute_s"])
    expected = project_hits(history)
    found = sum(map(len, expected.values()))
    print(f"workload: {args.symbols:,} symbols, {FIRST_DAY}, seed {args.seed}")
    print(f"momentum: {len(expected)} scans, {found} hits in all (the project's)")

    for name, (script, packages) in PEERS.items():
        out = folder / f"{name}.json"
        rows[name] = ([], [])
        command = [str(pythons[name]), str(HERE / script), str(store), str(FIRST_DAY), str(out)]
        measured(command)
        for _ in range(args.repeat):
            rows[name][1].append(measured(command)["wall_s"])
            body = json.loads(out.read_text())
            rows[name][0].append(body["compute_s"])
        wrong = differences(expected, body["hits"])
        if wrong:
            print(f"{name} found different hits:", *wrong, sep="\n")
            sys.exit(1)
        print(f"{name} ({versions(name, packages)}): the same hits")

    base_compute, base_whole = (min(v) for v in rows["project"])
    print(f"{'':12s} {'compute':>14s} {'whole process':>16s}   peer / project (compute, whole)")
    for name, (compute, whole) in rows.items():
        line = f"{name:12s} {span(compute):>14s} {span(whole):>16s}"
        if name != "project":
            line += f"   {min(compute) / base_compute:5.2f}x, {min(whole) / base_whole:5.2f}x"
        print(line)


if __name__ == "__main__":
    main()
