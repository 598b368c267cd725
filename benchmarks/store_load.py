"""How long the bar store takes to load one day of 1-minute bars for many symbols.

Run: ``python benchmarks/store_load.py [--symbols 8000] [--repeat 5]``.
Writes a seeded random-walk session into a temporary store, then times ``BarStore.load``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from scanner_core.bars import Bars
from scanner_core.store import BarStore

SESSION_OPEN_UTC = np.datetime64("2019-02-11T14:30", "ns")
MINUTES = 390


def synthetic_day(n_symbols: int, seed: int = 7) -> Bars:
    """One regular session of 1-minute random-walk bars, sorted by (ts, code)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 0.001, size=(MINUTES, n_symbols))
    close = 50 * np.exp(np.cumsum(steps, axis=0))
    open_ = np.vstack([close[:1], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0005, size=close.shape)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.integers(100, 10_000, size=close.shape).astype(np.float64)
    ts = SESSION_OPEN_UTC + np.arange(MINUTES).astype("timedelta64[m]")
    return Bars(
        "1m",
        tuple(f"S{i:05d}" for i in range(n_symbols)),
        np.tile(np.arange(n_symbols, dtype=np.int32), MINUTES),
        np.repeat(ts, n_symbols),
        *(a.reshape(-1) for a in (open_, high, low, close, volume)),
    )


def main() -> None:
    """Write the synthetic day, then report write time and the best and median load times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bars = synthetic_day(args.symbols)
    with tempfile.TemporaryDirectory() as root:
        store = BarStore(root)
        t0 = time.perf_counter()
        store.write(bars)
        write_s = time.perf_counter() - t0
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            loaded = store.load("1m")
            times.append(time.perf_counter() - t0)
        assert len(loaded) == len(bars)
        t0 = time.perf_counter()
        some = store.load("1m", symbols=bars.symbols[:100])
        subset_s = time.perf_counter() - t0
    print(f"rows: {len(bars):,} ({args.symbols:,} symbols x {MINUTES} minutes)")
    print(f"write: {write_s * 1000:.0f} ms")
    print(f"load day: best {min(times) * 1000:.1f} ms, median {np.median(times) * 1000:.1f} ms")
    print(f"load day, 100 symbols: {subset_s * 1000:.1f} ms ({len(some):,} rows)")


if __name__ == "__main__":
    main()
