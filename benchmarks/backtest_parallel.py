"""`scanner backtest` over many symbols and days: serial, local processes, a Dask cluster.

Run: ``python benchmarks/backtest_parallel.py [--symbols 8000] [--days 20] [--workers 2]
[--ways serial,local,dask]``.
Writes a seeded random walk (daily history, then 1-minute bars for each day of the
range) into a temporary store, then runs the four scanners over the range three ways:
in this process, with ``--workers N`` local processes, and on a ``distributed``
LocalCluster of N single-threaded worker processes on 127.0.0.1. Prints each run's
seconds (the session and the evaluation), the speed-ups against serial, Dask's overhead
against local processes, and whether the three gave the same picks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_universe import minute_times, to_bars, walk

from scanner_core.calendar import TimeManager
from scanner_core.config import load_config
from scanner_core.evaluate import BacktestOptions, run_backtest
from scanner_core.store import BarStore

FIRST = dt.date(2019, 1, 2)
#: Each scanner's schedule (every, from, to) and config; each keeps 5 symbols a scan.
PLAN = {
    "gap": ("5m 09:35 09:35", "min_gap_pct = 1.0, opening_min_volume = 20000"),
    "momentum": ("15m 10:00 15:30", 'rsi_min = 70.0, volume_ratio_min = 2.0, interval = "5m"'),
    "volume": ("30m 10:00 15:30", "lookback_days = 3, min_multiple = 2.0"),
    "breakout": ("15m 10:00 15:30", "high_days = 20, volume_ratio_min = 1.5"),
}


def scanners_toml() -> str:
    """The [[scanners]] tables of PLAN; gap also scans before the open."""
    out = []
    for name, (when, config) in PLAN.items():
        every, start, end = when.split()
        out.append(
            f'[[scanners]]\nmodule = "{name}"\nmax_symbols = 5\n'
            f"pre_session = {str(name == 'gap').lower()}\n"
            f'schedule = {{ interval = "{every}", start_time = "{start}", end_time = "{end}" }}\n'
            f"config = {{ {config} }}\n"
        )
    return "\n".join(out)


def build_store(root: Path, n: int, days: int, seed: int) -> list[dt.date]:
    """30 sessions of daily history, then ``days`` sessions of 1-minute bars; the range."""
    tm = TimeManager()
    rng = np.random.default_rng(seed)
    symbols = tuple(f"S{i:05d}" for i in range(n))
    sessions = tm.sessions(FIRST, FIRST + dt.timedelta(days=3 * (days + 30)))[: 30 + days]
    history, days_run = sessions[:30], sessions[30:]
    start = rng.uniform(5, 400, n)
    daily = walk(rng, np.array(history, "datetime64[D]"), n, start, 0.02)
    store = BarStore(root)
    store.write(to_bars("1d", symbols, np.array(history, "datetime64[D]"), daily))
    last_close = daily[3][-1]
    for day in days_run:
        times = minute_times(tm, day, 390)
        opening = last_close * np.exp(rng.normal(0, 0.02, n))
        ohlcv = walk(rng, times, n, opening, 0.002)
        store.write(to_bars("1m", symbols, times, ohlcv))
        last_close = ohlcv[3][-1]
    return days_run


def timed(config: Path, out: Path, **options) -> tuple[float, object]:
    t0 = time.perf_counter()
    options = BacktestOptions(out=out, log_level=logging.ERROR, **options)
    result = run_backtest(load_config(config), str(config), options)
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--ways", default="serial,local,dask", help="Runs to make, of serial, local and dask."
    )
    args = parser.parse_args()
    # max_symbols warnings on every scan would bury the figures
    logging.getLogger("scanner").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        days = build_store(folder / "store", args.symbols, args.days, args.seed)
        print(
            f"store: {args.symbols} symbols x {len(days)} days of 1m bars,"
            f" written in {time.perf_counter() - t0:.1f} s"
        )
        config = folder / "bench.toml"
        config.write_text(
            f'start_date = {days[0]}\nend_date = {days[-1]}\n[data]\nstore = "store"\n'
            f"[universe]\nall = true\n{scanners_toml()}"
        )
        results = {}
        for way in args.ways.split(","):
            results[way] = run_way(way, config, folder, args.workers)
        report(results, args.workers)


def run_way(way: str, config: Path, folder: Path, workers: int) -> tuple[float, object]:
    """One run: ``serial``, ``local`` (--workers) or ``dask`` (a LocalCluster)."""
    if way == "serial":
        return timed(config, folder / way)
    if way == "local":
        return timed(config, folder / way, workers=workers)
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        return timed(config, folder / way, scheduler=cluster.scheduler_address, chunks=workers)


def report(results: dict, workers: int) -> None:
    """Seconds per run, speed-ups against serial, Dask against local, and agreement."""
    labels = {"serial": "serial", "local": f"--workers {workers}", "dask": f"dask ({workers})"}
    serial = results.get("serial", (None,))[0]
    for way, (seconds, result) in results.items():
        line = f"{labels[way]:<14} {seconds:7.1f} s  ({result.summary['picks']} picks; sessions"
        line += (
            f" {result.seconds['session']:.1f} s, evaluation {result.seconds['evaluate']:.1f} s)"
        )
        if serial and way != "serial":
            line += f"  speed-up {serial / seconds:.2f}x"
        print(line)
    if "local" in results and "dask" in results:
        local, dask = results["local"][0], results["dask"][0]
        print(
            f"dask overhead against local processes: {dask - local:+.1f} s"
            f" ({dask / local - 1:+.0%})"
        )
    columns = ["scanner", "time", "rank", "symbol", "price"]
    frames = [result.picks[columns] for _, result in results.values()]
    print(f"same picks and prices in every run: {all(f.equals(frames[0]) for f in frames)}")


if __name__ == "__main__":
    main()
