"""Replay one day of 1-minute bars for many symbols through SessionData, store read included.

Run: ``python benchmarks/session_replay.py [--symbols 8000] [--repeat 3] [--profile]``.
Writes a seeded random-walk session into a temporary bar store, then, in a fresh
process per run (so peak memory is this run's alone), streams it from the store through
the session's DayFeed (read an hour at a time, with a stop every 30 minutes as scans
would make) and advances SessionData one minute at a time with SMA(20), RSI(14) and
volume ratio(20) updated on every bar. Prints bars/second, total seconds and peak memory against the
raw size of the bars (ts + code + five float64 fields per bar).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_load import SESSION_OPEN_UTC, synthetic_day

from scanner_core.bars import FIELDS, Bars
from scanner_core.calendar import TimeManager
from scanner_core.feed import DayFeed
from scanner_core.indicators import IndicatorConfig
from scanner_core.session import SessionData
from scanner_core.store import BarStore

INDICATORS = (
    IndicatorConfig("sma", 20, "1m"),
    IndicatorConfig("rsi", 14, "1m"),
    IndicatorConfig("volume_ratio", 20, "1m"),
)


def raw_bytes(bars: Bars) -> int:
    """Bytes of the bars' own columns."""
    return sum(getattr(bars, f).nbytes for f in ("code", "ts", *FIELDS))


def _memory_kib(key: str) -> int:
    """A line of /proc/self/status in KiB: VmHWM is the peak resident set, VmRSS the current."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields[key].split()[0])


def replay(root: str, trace: bool = False) -> dict[str, float]:
    """Warm up pre-session from the store, load the day and replay it; timings and memory.

    With ``trace`` the run is under tracemalloc (slower), to split memory by owner.
    """
    calendar = TimeManager()  # the session's clock exists before the day starts
    if trace:
        tracemalloc.start()
    baseline = _memory_kib("VmRSS")
    t0 = time.perf_counter()
    store = BarStore(root)
    session = SessionData(store, calendar=calendar)
    session.set_time(SESSION_OPEN_UTC)
    for config in INDICATORS:
        session.add_indicator(None, config)
    session.add_symbols(store.symbols("1m"))
    # The session's own feed: the day is read an hour at a time and replayed as it goes,
    # here with a stop every 30 minutes as a session with scans would make.
    day = dt.date(2019, 2, 11)
    open_, close = calendar.open_close(day)
    feed = DayFeed(session.store, calendar, day, ["1m"])
    feed.add(store.symbols("1m"))
    n_bars = steps = raw = 0
    t_load = 0.0
    stop = open_
    while stop < close:
        stop = min(stop + dt.timedelta(minutes=30), close)
        handed = feed.until(stop)
        while True:
            t_read = time.perf_counter()
            bars = next(handed, None)
            t_load += time.perf_counter() - t_read
            if bars is None:
                break
            steps += session.replay(bars)
            n_bars += len(bars)
            raw += raw_bytes(bars)
    t_end = time.perf_counter()
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    rsi = session.indicator(INDICATORS[1])
    assert rsi.valid.all(), "every symbol should have a valid RSI after a full day"
    return {
        "bars": n_bars,
        "steps": steps,
        "load_s": t_load,
        "total_s": t_end - t0,
        "raw_mb": raw / 2**20,
        "session_mb": session.nbytes / 2**20,
        "peak_mb": (_memory_kib("VmHWM") - baseline) / 1024,
        "traced_mb": traced,
    }


def main() -> None:
    """Write the synthetic day, then time fresh-process replays and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one replay")
    parser.add_argument("--replay", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay:
        if args.profile:
            import cProfile
            import pstats

            with cProfile.Profile() as profile:
                replay(args.replay)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            return
        print(json.dumps(replay(args.replay, trace=args.trace)))
        return
    with tempfile.TemporaryDirectory() as root:
        BarStore(root).write(synthetic_day(args.symbols))
        command = [sys.executable, __file__, "--replay", root]
        if args.profile:
            subprocess.run([*command, "--profile"], check=True)
            return
        runs = [
            json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
            for _ in range(args.repeat)
        ]
        traced = json.loads(
            subprocess.run([*command, "--trace"], check=True, capture_output=True).stdout
        )
    best = min(runs, key=lambda r: r["total_s"])
    totals = sorted(r["total_s"] for r in runs)
    print(f"bars: {best['bars']:,} ({args.symbols:,} symbols x {best['steps']} minutes)")
    print(f"indicators: {', '.join(f'{c.name}({c.period})' for c in INDICATORS)}")
    print(f"store read: {best['load_s']:.3f} s")
    print(f"total (read + replay): best {totals[0]:.3f} s, median {np.median(totals):.3f} s")
    print(f"throughput: {best['bars'] / best['total_s']:,.0f} bars/s")
    peak = max(r["peak_mb"] for r in runs)
    raw = best["raw_mb"]
    print(f"raw bars: {raw:.0f} MiB; SessionData arrays: {best['session_mb']:.0f} MiB")
    print(f"peak resident memory over the interpreter: {peak:.0f} MiB ({peak / raw:.2f}x raw)")
    # Counting the bar as ts + OHLCV only (6 x 8 bytes), without its symbol code.
    bare = best["bars"] * 48 / 2**20
    print(f"  against ts + OHLCV alone ({bare:.0f} MiB): {peak / bare:.2f}x")
    print(
        f"peak traced (numpy/Python) allocations: {traced['traced_mb']:.0f} MiB "
        f"({traced['traced_mb'] / raw:.2f}x raw; Arrow's own buffers are not traced)"
    )


if __name__ == "__main__":
    main()
