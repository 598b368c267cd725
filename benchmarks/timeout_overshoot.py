"""How long after its limit a stuck scan is stopped and reaped, and what a per-scan fork costs.

Usage: python benchmarks/timeout_overshoot.py [--runs 20] [--timeout 0.2] [--parent-mb 1024]

Overshoot = wall time of run_scan() minus timeout_seconds: fork, the kill and the reaping.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import time
from datetime import datetime

import numpy as np

from scanner_core.execution import KILL_GRACE_SECONDS, run_scan
from scanner_core.logs import configure_logging
from scanner_core.scanner import ScanContext, ScanResult


def sleeps(context: ScanContext) -> ScanResult:
    time.sleep(3600)
    return ScanResult()


def busy_loop(context: ScanContext) -> ScanResult:
    while True:
        pass


def c_call_ignoring_sigterm(context: ScanContext) -> ScanResult:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ctypes.CDLL(None).sleep(3600)
    return ScanResult()


def finds_nothing(context: ScanContext) -> ScanResult:
    return ScanResult()


def sums_prices(context: ScanContext) -> ScanResult:
    return ScanResult(metadata={"sum": float(context.config["prices"].sum())})


def context(**config: object) -> ScanContext:
    """A context for the benchmark scans; config carries what a scan reads."""
    return ScanContext(
        None, None, "backtest", datetime(2024, 3, 1, 9, 35), config=config, scanner_name="bench"
    )


def timed(fn, ctx: ScanContext, timeout: float | None) -> float:
    start = time.perf_counter()
    run_scan(fn, ctx, timeout)
    return time.perf_counter() - start


def report(label: str, seconds: list[float]) -> None:
    ms = np.array(seconds) * 1000
    print(f"{label:<44} p50 {np.percentile(ms, 50):8.1f} ms   max {ms.max():8.1f} ms")


def main() -> None:
    """Print overshoot percentiles per kind of stuck scan, then fork cost by parent size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=0.2)
    parser.add_argument("--parent-mb", type=int, default=1024)
    args = parser.parse_args()
    # One timeout warning per run would bury the figures.
    configure_logging(level="ERROR")

    print(f"overshoot past timeout_seconds={args.timeout} over {args.runs} runs")
    for fn in (sleeps, busy_loop, c_call_ignoring_sigterm):
        runs = [timed(fn, context(), args.timeout) - args.timeout for _ in range(args.runs)]
        report(fn.__name__, runs)
    print(f"(SIGTERM ignored means SIGKILL after the {KILL_GRACE_SECONDS}s grace)")

    print("\nper-scan cost, small parent")
    report("empty scan, forked", [timed(finds_nothing, context(), 30.0) for _ in range(args.runs)])
    print(f"\nper-scan cost, parent with {args.parent_mb} MB of prices and 1M dicts")
    prices = np.random.default_rng(0).random(args.parent_mb * 2**20 // 8)
    objects = [{"symbol": f"S{i}", "n": i} for i in range(1_000_000)]
    ctx = context(prices=prices, objects=objects)
    for fn in (finds_nothing, sums_prices):
        for label, timeout in (("in-process", None), ("forked", 30.0)):
            runs = [timed(fn, ctx, timeout) for _ in range(args.runs)]
            report(f"{fn.__name__}, {label}", runs)


if __name__ == "__main__":
    main()
