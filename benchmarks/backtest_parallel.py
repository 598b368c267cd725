"""`scanner backtest` over many symbols and days: serial, local processes, a Dask cluster.

Run: ``python benchmarks/backtest_parallel.py [--symbols 8000] [--days 20] [--workers 2]``.
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
    args = parser.parse_args()
    # max_symbols warnings on every scan would bury the figures
    logging.getLogger("scanner").setLevel(logging.ERROR)
    from distributed import LocalCluster

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
        serial, base = timed(config, folder / "serial")
        print(
            f"serial:            {serial:7.1f} s  ({base.summary['picks']} picks; sessions"
            f" {base.seconds['session']:.1f} s, evaluation {base.seconds['evaluate']:.1f} s)"
        )
        local, mine = timed(config, folder / "local", workers=args.workers)
        print(f"--workers {args.workers}:       {local:7.1f} s  speed-up {serial / local:.2f}x")
        with LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            dask, theirs = timed(
                config, folder / "dask", scheduler=cluster.scheduler_address, chunks=args.workers
            )
        print(
            f"dask ({args.workers} workers):  {dask:7.1f} s  speed-up {serial / dask:.2f}x,"
            f" overhead against local processes {dask - local:+.1f} s ({dask / local - 1:+.0%})"
        )
        columns = ["scanner", "time", "rank", "symbol", "price"]
        same = all(r.picks[columns].equals(base.picks[columns]) for r in (mine, theirs))
        print(f"same picks and prices in all three: {same}")


if __name__ == "__main__":
    main()
