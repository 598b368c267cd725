"""`scanner backtest`: run a session over a range in chunks, measure every pick's
outcome, and write picks.parquet, summary.json, stats.json and report.html."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any

import attrs
import pandas as pd
from attrs import define, field

from scanner_core import atomic
from scanner_core.calendar import TimeManager
from scanner_core.config import SessionConfig
from scanner_core.coverage import Coverage, base_interval
from scanner_core.evaluate.chunks import executor_for, run_chunks
from scanner_core.evaluate.horizons import (
    DAILY_HORIZONS,
    DEFAULT_HORIZONS,
    Horizon,
    HorizonError,
    parse_horizons,
)
from scanner_core.evaluate.outcomes import evaluate
from scanner_core.evaluate.picks import picks_frame
from scanner_core.evaluate.replay import ChunkResult, RunSpec
from scanner_core.evaluate.report import render
from scanner_core.evaluate.summary import attribution, summarize
from scanner_core.progress import Progress
from scanner_core.sources import BarSource
from scanner_core.stats import ScanHistory
from scanner_core.store import BarStore

#: Where outputs go unless --out says otherwise: a folder per config under this one.
DEFAULT_OUT = Path("var") / "backtest"
#: How the store's times are read, as summary.json states it.
TIME_CONVENTION = (
    "bar ts is the bar's start, UTC; a bar is known at its end (start + interval);"
    " picks and horizons are UTC instants, time-of-day buckets exchange time"
)


@define
class BacktestOptions:
    """How to run one backtest: range, outputs, horizons, seed and where chunks run."""

    start: dt.date | None = None
    end: dt.date | None = None
    out: Path | None = None
    #: None: DEFAULT_HORIZONS, or DAILY_HORIZONS over a store of daily bars only.
    horizons: tuple[Horizon, ...] | None = None
    seed: int = 0
    workers: int = 1
    scheduler: str | None = None
    #: Chunks to split the range into; None: one per worker (Dask: 2 per worker).
    chunks: int | None = None
    skip_damaged: bool = False
    #: Show a progress bar over the days (on stderr).
    progress: bool = False
    #: How worker processes log (this process keeps its own set-up).
    log_format: str = "text"
    log_level: int = logging.WARNING


@define
class BacktestResult:
    """What a backtest wrote and found."""

    out: Path
    run: ChunkResult
    summary: dict[str, Any]
    picks: pd.DataFrame
    #: Wall-clock seconds of the sessions, the evaluation and writing the files.
    seconds: dict[str, float] = field(factory=dict)


def default_out(config_file: str | Path) -> Path:
    """The default output folder of a config: var/backtest/<config name>."""
    return DEFAULT_OUT / Path(config_file).stem


def run_backtest(
    config: SessionConfig,
    config_file: str,
    options: BacktestOptions,
) -> BacktestResult:
    """Run the backtest, evaluate its picks and write the outputs.

    Raises ValueError for a bad range, store or config (named after the field).
    """
    if config.mode != "backtest":
        raise ValueError(f"mode: {config.mode!r}; `scanner backtest` replays the store")
    start = options.start or config.start_date
    end = options.end or config.end_date
    if start is None or end is None:
        raise ValueError("a backtest needs start_date and end_date (or --from and --to)")
    if start > end:
        raise ValueError(f"--from {start} is after --to {end}")
    config = attrs.evolve(config, start_date=start, end_date=end)
    if not config.data.store.is_dir():
        raise ValueError(
            f"data.store: no bar store at {config.data.store}"
            " (import bars with `scanner data import PATH --store DIR`)"
        )
    store = BarStore(config.data.store, skip_damaged=options.skip_damaged)
    calendar = TimeManager(config.calendar)
    base = base_interval(config, store)
    horizons = _horizons(options.horizons, base)
    days = Coverage(config, store, calendar, base).days()
    spec = RunSpec(
        config,
        Path(config_file).resolve().parent,
        config_file,
        start,
        end,
        options.skip_damaged,
    )
    worker_spec = attrs.evolve(spec, log_format=options.log_format, log_level=options.log_level)
    started = time.perf_counter()
    if days:
        with (
            executor_for(options.workers, options.scheduler) as (executor, slots),
            Progress(len(days), "backtest", enabled=options.progress) as progress,
        ):
            chunks = options.chunks or slots
            run = run_chunks(
                spec if executor is None else worker_spec, days, chunks, executor, progress
            )
    else:
        run = ChunkResult(
            start, end, empty=[Coverage(config, store, calendar, base).no_days_reason()]
        )
    seconds = {"session": time.perf_counter() - started}
    picks = picks_frame(run.picks)
    universe = config.universe.resolve(store.symbols(base))
    measured, random = evaluate(
        picks, BarSource(store, calendar), calendar, base, universe, horizons, options.seed
    )
    seconds["evaluate"] = time.perf_counter() - started - seconds["session"]
    tz = str(calendar.tz)
    scanners = list(
        dict.fromkeys([*(s.name for s in config.scanners if s.enabled), *picks["scanner"]])
    )
    summary = {
        "config": config_file,
        "run": {
            "from": str(start),
            "to": str(end),
            "days": run.days,
            "bars": run.bars,
            "scans": run.scans,
            "problems": run.problems,
            "empty": run.empty,
        },
        "base_interval": base,
        "time_zone": tz,
        "time_convention": TIME_CONVENTION,
        "horizons": [h.name for h in horizons],
        "seed": options.seed,
        "universe": len(universe),
        "picks": len(measured),
        "scanners": summarize(measured, random, horizons, tz, scanners),
    }
    out = options.out or default_out(config_file)
    _write(out, config_file, summary, measured, random, run, horizons, tz)
    seconds["write"] = time.perf_counter() - started - seconds["session"] - seconds["evaluate"]
    return BacktestResult(out, run, summary, measured, seconds)


def _horizons(given: tuple[Horizon, ...] | None, base: str) -> tuple[Horizon, ...]:
    """The horizons to measure: those given, else the defaults for the base interval."""
    if given is None:
        return parse_horizons(DAILY_HORIZONS if base == "1d" else DEFAULT_HORIZONS)
    clocked = [h.name for h in given if h.minutes]
    if base == "1d" and clocked:
        raise HorizonError(
            f"{', '.join(clocked)}: the store's finest bars are daily, so a horizon is"
            " 'close' or sessions (1d, 5d)"
        )
    return given


def _write(out: Path, config_file, summary, measured, random, run, horizons, tz) -> None:
    out.mkdir(parents=True, exist_ok=True)
    table = measured.copy()
    table.to_parquet(out / "picks.parquet", index=False)
    random.to_parquet(out / "random_picks.parquet", index=False)
    atomic.write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    ScanHistory(list(run.scan_records)).to_json(out / "stats.json")
    page = render(
        f"Backtest: {config_file}", summary, measured, attribution(measured, horizons, tz), horizons
    )
    atomic.write_text(out / "report.html", page)
