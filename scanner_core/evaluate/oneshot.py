"""`scanner scan NAME|CONFIG --at TIME`: what scanners would have found at one moment,
point in time, through the same session loop as a backtest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pandas as pd

from scanner_core.calendar import TimeManager
from scanner_core.config import ScannerSchedule, SessionConfig, load_config, parse_config
from scanner_core.evaluate.replay import ChunkResult, RunSpec, run_range

#: Suffixes that make the argument a config file rather than a scanner name.
CONFIG_SUFFIXES = (".toml", ".yaml", ".yml", ".json")


def session_for(target: str, store: Path) -> tuple[SessionConfig, str, Path]:
    """The session a target names: a config file, else one scanner by name with its
    default settings over every symbol of ``store``; with its file name and folder."""
    if target.lower().endswith(CONFIG_SUFFIXES) or Path(target).is_file():
        return load_config(target), target, Path(target).resolve().parent
    data = {
        "data": {"store": str(store)},
        "universe": {"all": True},
        "scanners": [{"module": target, "timeout_seconds": 0}],
    }
    return parse_config(data, f"scanner {target}", Path.cwd()), f"scanner {target}", Path.cwd()


def scan_at(
    config: SessionConfig, config_file: str, base_dir: Path, at: dt.datetime
) -> ChunkResult:
    """Run ``at``'s session with every enabled scanner scanning once, at ``at`` (exchange
    time when naive, on a whole minute inside the regular session); its picks."""
    calendar = TimeManager(config.calendar)
    moment = pd.Timestamp(calendar.localize(at))
    day = moment.date()
    if not calendar.is_session(day):
        raise ValueError(f"--at: {day} is not a trading day on {config.calendar}")
    open_, close = (pd.Timestamp(t) for t in calendar.open_close(day))
    if not open_ < moment <= close or moment.second or moment.microsecond:
        raise ValueError(
            f"--at: {moment:%Y-%m-%d %H:%M:%S} is not a whole minute after the open and by the"
            f" close ({open_:%H:%M}-{close:%H:%M} {calendar.tz})"
        )
    once = ScannerSchedule(interval="1m", start_time=moment.time(), end_time=moment.time())
    scanners = [
        attrs.evolve(s, schedule=once, pre_session=False) for s in config.scanners if s.enabled
    ]
    config = attrs.evolve(config, scanners=scanners, start_date=day, end_date=day)
    return run_range(RunSpec(config, base_dir, config_file, day, day))


def pick_lines(result: ChunkResult, tz: str) -> list[str]:
    """Each scan as text: a heading (symbols found, or how it failed), then its picks'
    rank, symbol, score and values."""
    lines = []
    for record in result.scan_records:
        when = pd.Timestamp(record.time).tz_convert(tz)
        head = f"{record.scanner} at {when:%Y-%m-%d %H:%M}"
        if record.error is not None:
            lines.append(f"{head}: failed: {record.error}")
            continue
        rows = [r for r in result.picks if r["scanner"] == record.scanner]
        lines.append(f"{head}: {len(rows)} symbols")
        for row in rows:
            values = ", ".join(
                f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value}"
                for key, value in json.loads(row["values"]).items()
            )
            score = "" if pd.isna(row["score"]) else f" score={row['score']:.6g}"
            lines.append(f"  {row['rank']:>3} {row['symbol']:<8}{score} {values}".rstrip())
    return lines
