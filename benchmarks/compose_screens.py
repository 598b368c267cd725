"""The cost of the scanner algebra: combining screens over a large universe, per scan.

Run: ``python benchmarks/compose_screens.py [--symbols 8000] [--runs 200]``.

Builds three seeded random screens over ``--symbols`` symbols (about 10% pass each) and
times, ``--runs`` times each, the step a composition adds to its children's scans in the
session's process: evaluating the expression on their screens and ranking the result
into the ScanResult the session records. Prints p50 and p95 milliseconds per
expression, and the same for ranking one plain screen, the step every scan has.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from scanner_core.expression import parse
from scanner_core.screen import Screen

EXPRESSIONS = [
    "a & b",
    "a | b | c",
    "(a | b) - c",
    "a >> b",
    "top(a | b, 20, by='b.value')",
    "a.then(b, within='30m')",
]


def screens(n: int, seed: int = 7) -> dict[str, Screen]:
    """Three screens over one universe of ``n`` symbols, about a tenth passing each."""
    rng = np.random.default_rng(seed)
    universe = tuple(f"S{i:05d}" for i in range(n))
    out = {}
    for name in "abc":
        score = rng.normal(size=n)
        out[name] = Screen(universe, score > 1.28, score, {"value": score, "other": -score})
    return out


def timed(step, runs: int) -> tuple[float, float]:
    """p50 and p95 milliseconds of ``runs`` calls of ``step``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    given = screens(args.symbols)
    now = dt.datetime(2024, 1, 2, 15, 0, tzinfo=dt.UTC)
    p50, p95 = timed(lambda: given["a"].result(), args.runs)
    print(f"{args.symbols} symbols, {args.runs} runs each (milliseconds)")
    print(f"{'rank one screen':32s} p50 {p50:7.3f}  p95 {p95:7.3f}")
    for text in EXPRESSIONS:
        node = parse(text)
        found = len(node.evaluate(given, now).result().symbols)
        p50, p95 = timed(lambda node=node: node.evaluate(given, now).result(), args.runs)
        print(f"{text:32s} p50 {p50:7.3f}  p95 {p95:7.3f}  ({found} found)")


if __name__ == "__main__":
    main()
