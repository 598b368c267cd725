"""One backtest over a date range, through the same session loop as `scanner run`,
recording every pick."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from attrs import define, field

from scanner_core.config import SessionConfig
from scanner_core.coordinator import SessionCoordinator
from scanner_core.evaluate.picks import PickRecorder
from scanner_core.logs import configure_logging
from scanner_core.stats import ScanRecord


@define
class ChunkResult:
    """What one run over a range did: its picks, and the counts its summary gives."""

    start: dt.date
    end: dt.date
    picks: list[dict[str, Any]] = field(factory=list)
    days: int = 0
    bars: int = 0
    scans: int = 0
    problems: list[str] = field(factory=list)
    empty: list[str] = field(factory=list)
    scan_records: list[ScanRecord] = field(factory=list)


@define(frozen=True)
class RunSpec:
    """What a worker needs to run one range: the config, where it came from, the range."""

    config: SessionConfig
    base_dir: Path
    config_file: str
    start: dt.date
    end: dt.date
    skip_damaged: bool = False
    #: Set the log format and level first: a worker process starts with no logging set up.
    log_format: str | None = None
    log_level: int = logging.WARNING


def run_range(spec: RunSpec, observers: Sequence[object] = ()) -> ChunkResult:
    """Run the session from ``spec.start`` to ``spec.end`` and keep what each scan picked;
    ``observers`` (hook implementations, such as a progress bar) watch it too.

    The session warms up from the store as any run does, so a range started later sees
    the same bars and indicator values on the days both cover.
    """
    if spec.log_format is not None:
        configure_logging(spec.log_format, spec.log_level)
    config = attrs.evolve(spec.config, start_date=spec.start, end_date=spec.end)
    coordinator = SessionCoordinator(
        config,
        base_dir=spec.base_dir,
        config_file=spec.config_file,
        skip_damaged=spec.skip_damaged,
    )
    recorder = PickRecorder()
    coordinator.manager.pm.register(recorder, name="evaluate-picks")
    for k, observer in enumerate(observers):
        coordinator.manager.pm.register(observer, name=f"evaluate-observer-{k}")
    summary = coordinator.run()
    return ChunkResult(
        spec.start,
        spec.end,
        recorder.rows,
        summary.days,
        summary.bars,
        summary.scans,
        list(summary.problems),
        list(summary.empty),
        list(coordinator.manager.history.records),
    )
