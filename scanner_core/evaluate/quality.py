"""Pick quality beside the execution stats: what `scanner stats` adds for a backtest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

#: The summary `scanner backtest` writes beside its stats.json.
SUMMARY_NAME = "summary.json"


def summary_beside(stats_file: str | Path) -> dict[str, Any] | None:
    """The backtest summary next to a stats file, if one is there and readable."""
    path = Path(stats_file).with_name(SUMMARY_NAME)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(summary, dict) and isinstance(summary.get("scanners"), dict)
    return summary if ok else None


def quality(summary: dict[str, Any]) -> dict[str, Any]:
    """Per scanner and horizon: complete picks, hit rate, mean, and the baselines' means."""
    out: dict[str, Any] = {}
    for name, row in summary["scanners"].items():
        out[name] = {
            horizon: {
                "complete": s.get("complete"),
                "hit_rate": s.get("hit_rate"),
                "mean": s.get("mean"),
                "universe_mean": (s.get("universe") or {}).get("mean"),
                "random_mean": (s.get("random") or {}).get("mean"),
            }
            for horizon, s in row.get("by_horizon", {}).items()
        }
    return out


def quality_table(summary: dict[str, Any], title: str = "Pick quality") -> Table:
    """A rich table: one row per scanner and horizon."""
    table = Table(title=Text(title), box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("scanner", no_wrap=True)
    table.add_column("horizon", no_wrap=True)
    for heading in ("picks", "hit rate", "mean", "universe", "random"):
        table.add_column(heading, justify="right", no_wrap=True)
    for name, horizons in quality(summary).items():
        for horizon, row in horizons.items():
            table.add_row(
                Text(name),
                Text(horizon),
                str(row["complete"]),
                _pct(row["hit_rate"], ".0%"),
                _pct(row["mean"], "+.3%"),
                _pct(row["universe_mean"], "+.3%"),
                _pct(row["random_mean"], "+.3%"),
            )
        table.add_section()
    return table


def _pct(value: Any, spec: str) -> str:
    return "-" if not isinstance(value, int | float) else format(value, spec)
