"""`scanner run` end to end: a backtest day of the four example scanners on a synthetic store.

Run: ``python benchmarks/backtest_day.py [--symbols 8000] [--days 1] [--repeat 3] [--profile]``.

The workload (seeded, ``--seed``): a bar store of ``--symbols`` symbols ``S00000``...
holding, before the first backtest day, 25 sessions of daily bars (the last 3 of them
also as full sessions of 1-minute bars), then ``--days`` backtest days of 1-minute bars
(2019-02-12 on). Prices are random walks (scan_universe.walk); each day opens with a
gap around the last close, so the gap scanner finds some. The session config is
examples/demo.toml's: the four scanners with their schedules, settings and default
timeouts (10 s, so every scan is forked), streams 1m, 5m and 1d, the whole store as the
universe, ``S00000`` as the configured symbol, 30 session symbols at most.

Each figure comes from a fresh process:

- ``scanner run`` itself (the installed console script), ``--repeat`` times: wall time,
  CPU time (the run and its forked scans) and peak resident memory;
- the same run in an instrumented process: time spent in warm-up
  (``SessionData._warm``), replay (feed reads and advancing the session), scans
  (``run_scan``, fork and reaping included), the scanners' ``session_start`` and every
  store read (``BarStore.load`` and ``load_days``, inside the
  others);
- the same instrumented run with ``timeout_seconds = 0`` (scans in process): the
  isolation overhead is the forked run's scan time minus this one's, per scan (p50)
  and in total.

The two runs' histories must be identical; their digest is printed so that runs before
and after a change can be compared. The store is kept under var/bench (reused when it
exists; ``--rebuild`` writes it again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_universe import minute_times, to_bars, walk

ROOT = Path(__file__).resolve().parent.parent
FIRST_DAY = dt.date(2019, 2, 12)
DAILY_DAYS = 25
MINUTE_DAYS = 3
CONFIG = """\
mode = "backtest"
start_date = {start}
end_date = {end}
symbols = ["S00000"]
streams = ["1m", "5m", "1d"]
max_session_symbols = 30

[data]
store = "{store}"

[universe]
all = true
"""
#: examples/demo.toml's scanners: (module, max_symbols, schedule, config), each also
#: with pre_session for gap and the run's timeout_seconds.
SCANNERS = (
    (
        "gap",
        5,
        'interval = "5m", start_time = "09:35", end_time = "09:35"',
        "min_gap_pct = 1.0, opening_minutes = 5, opening_min_volume = 200000",
    ),
    (
        "momentum",
        3,
        'interval = "15m", start_time = "10:00", end_time = "15:30"',
        'rsi_min = 70.0, volume_ratio_min = 2.0, interval = "5m"',
    ),
    (
        "volume",
        3,
        'interval = "30m", start_time = "10:00", end_time = "15:30"',
        "lookback_days = 3, min_multiple = 2.0, min_change_pct = 1.0",
    ),
    (
        "breakout",
        3,
        'interval = "15m", start_time = "10:00", end_time = "15:30"',
        "high_days = 20, volume_ratio_min = 1.5",
    ),
)


def config_text(start: dt.date, end: dt.date, store: Path, timeout: float) -> str:
    """The session config of the workload, every scanner with this timeout."""
    text = CONFIG.format(start=start, end=end, store=store)
    for module, most, schedule, settings in SCANNERS:
        text += f'\n[[scanners]]\nmodule = "{module}"\n'
        text += "pre_session = true\n" if module == "gap" else ""
        text += f"timeout_seconds = {timeout}\nmax_symbols = {most}\n"
        text += f"schedule = {{ {schedule} }}\nconfig = {{ {settings} }}\n"
    return text


def backtest_days(days: int) -> list[dt.date]:
    """The ``days`` sessions from FIRST_DAY on."""
    from scanner_core.calendar import TimeManager

    return TimeManager().sessions(FIRST_DAY, FIRST_DAY + dt.timedelta(days=3 * days + 7))[:days]


def build_store(root: Path, n: int, days: int, seed: int) -> None:
    """Write the workload's bars (see the module docstring) into a new store at root."""
    from scanner_core.calendar import TimeManager
    from scanner_core.store import BarStore

    tm = TimeManager()
    rng = np.random.default_rng(seed)
    symbols = tuple(f"S{i:05d}" for i in range(n))
    before = tm.sessions(FIRST_DAY - dt.timedelta(days=60), FIRST_DAY - dt.timedelta(days=1))
    history = before[-DAILY_DAYS:]
    store = BarStore(root)
    dates = np.array(history, "datetime64[D]")
    daily = walk(rng, dates, n, rng.uniform(5, 400, n), 0.02)
    store.write(to_bars("1d", symbols, dates, daily))
    last_close = daily[3][-1]
    for day in [*history[-MINUTE_DAYS:], *backtest_days(days)]:
        times = minute_times(tm, day, 390)
        opening = last_close * np.exp(rng.normal(0, 0.02, n))
        ohlcv = walk(rng, times, n, opening, 0.002)
        store.write(to_bars("1m", symbols, times, ohlcv))
        last_close = ohlcv[3][-1]


def workload(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """The store (built when missing) and the two configs: default and in-process timeouts."""
    folder = ROOT / "var" / "bench" / f"backtest-{args.symbols}x{args.days}-seed{args.seed}"
    store = folder / "store"
    if args.rebuild and folder.exists():
        shutil.rmtree(folder)
    if not (folder / "built").exists():
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        build_store(store, args.symbols, args.days, args.seed)
        (folder / "built").write_text("")
        print(f"store written in {time.perf_counter() - t0:.1f} s: {store}")
    days = backtest_days(args.days)
    configs = []
    for name, timeout in (("forked", 10), ("in-process", 0)):
        path = folder / f"{name}.toml"
        path.write_text(config_text(days[0], days[-1], store, timeout))
        configs.append(path)
    return store, configs[0], configs[1]


def measured(command: list[str]) -> dict[str, float]:
    """Wall, CPU (the process and the children it reaped) and peak RSS of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr.read().decode()}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }


# -- the instrumented child -------------------------------------------------------------


def instrumented(config: str, history: str, out: str, profile: bool) -> None:
    """Run `scanner run` in this process with phase timers; write them as JSON to out."""
    from scanner_core import cli, manager
    from scanner_core.coordinator import SessionCoordinator
    from scanner_core.session import SessionData
    from scanner_core.store import BarStore

    totals: dict[str, float] = {}
    scans: list[float] = []

    def timer(owner: object, name: str, phase: str, calls: list[float] | None = None) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                totals[phase] = totals.get(phase, 0.0) + spent
                if calls is not None:
                    calls.append(spent)

        setattr(owner, name, timed)

    timer(SessionData, "_warm", "warm-up")
    timer(SessionCoordinator, "_replay_until", "replay")
    timer(SessionCoordinator, "_close_day", "replay")
    timer(manager, "run_scan", "scans", scans)
    timer(manager.ScannerManager, "start_session", "session_start")
    timer(BarStore, "load", "store reads (inside the others)")
    timer(BarStore, "load_days", "store reads (inside the others)")
    argv = ["run", config, "-q", "--history", history]
    t0 = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        with cProfile.Profile() as prof:
            cli.main(argv, standalone_mode=False)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    else:
        cli.main(argv, standalone_mode=False)
    totals["total"] = time.perf_counter() - t0
    Path(out).write_text(json.dumps({"phases": totals, "scans": scans}))


# -- the report -------------------------------------------------------------------------


def span(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    """A figure over repeats: the range, or the one value."""
    lo, hi = min(values) * scale, max(values) * scale
    return f"{lo:.2f} {unit}" if len(values) == 1 else f"{lo:.2f}-{hi:.2f} {unit}"


def phases_run(config: Path, folder: Path, tag: str, profile: bool = False) -> tuple[dict, str]:
    """The instrumented run of one config: its phase timings and its history's digest."""
    history, out = folder / f"{tag}-history.jsonl", folder / f"{tag}-phases.json"
    command = [sys.executable, __file__, "--child", str(config), str(history), str(out)]
    if profile:
        command.append("--profile")
    # warnings (caps reached, symbols dropped) are the run's normal chatter; a profile is
    # printed on stderr
    quiet = None if profile else subprocess.DEVNULL
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=quiet)
    return json.loads(out.read_text()), hashlib.sha256(history.read_bytes()).hexdigest()


def main() -> None:
    """Build or reuse the store, time the runs and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--days", type=int, default=1, help="backtest days replayed")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--rebuild", action="store_true", help="write the store again")
    parser.add_argument("--profile", action="store_true", help="cProfile the forked run")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        instrumented(*args.child, profile=args.profile)
        return
    store, forked, in_process = workload(args)
    folder = store.parent
    if args.profile:
        phases_run(forked, folder, "profile", profile=True)
        return
    scanner = str(Path(sys.executable).with_name("scanner"))
    command = [scanner, "run", str(forked), "-q", "--history", str(folder / "run-history.jsonl")]
    runs = [measured(command) for _ in range(args.repeat)]
    timed, digest = phases_run(forked, folder, "forked")
    inline, inline_digest = phases_run(in_process, folder, "in-process")
    if digest != inline_digest:
        sys.exit("forked and in-process runs found different symbols")
    plain = hashlib.sha256((folder / "run-history.jsonl").read_bytes()).hexdigest()
    if plain != digest:
        sys.exit("the instrumented run found different symbols from `scanner run`")
    events = [json.loads(line) for line in (folder / "forked-history.jsonl").open()]
    hits = sum(len(e["symbols"]) for e in events)
    errors = sum(e["error"] is not None for e in events)
    print(f"workload: {args.symbols:,} symbols x {args.days} day(s), seed {args.seed}")
    print(
        f"history: {len(timed['scans'])} scans, {hits} symbols found, {errors} errors,"
        f" sha256 {digest[:16]}"
    )
    print(f"`scanner run` wall: {span([r['wall_s'] for r in runs])} over {args.repeat} runs")
    print(f"`scanner run` CPU:  {span([r['cpu_s'] for r in runs])}")
    print(f"`scanner run` peak RSS: {span([r['peak_mb'] for r in runs], 'MB')}")
    print("phases (instrumented run, default timeouts):")
    for name, seconds in sorted(timed["phases"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:34s} {seconds:7.2f} s")
    forked_ms = np.array(timed["scans"]) * 1000
    inline_ms = np.array(inline["scans"]) * 1000
    extra = forked_ms - inline_ms
    print(
        f"scan p50: forked {np.median(forked_ms):.2f} ms, in process {np.median(inline_ms):.2f} ms"
    )
    print(
        f"isolation overhead: p50 {np.median(extra):.2f} ms per scan,"
        f" {extra.sum() / 1000:.2f} s in all"
    )


if __name__ == "__main__":
    main()
