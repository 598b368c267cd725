"""Scan history and per-scanner stats: record every scan, summarize, save and load as JSON.

Stats conventions: `total_scans` counts every record, skipped ones included; execution
times (milliseconds) average over the scans that ran, skipped ones excluded; `errors`
counts failed scans, timeouts included, and `timeouts` counts those alone.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import cattrs
import numpy as np
from attrs import define, field, frozen
from rich import box
from rich.table import Table
from rich.text import Text

from scanner_core import atomic
from scanner_core.execution import TIMEOUT
from scanner_core.stats_file import FORMAT_VERSION, StatsFileError, read_records

__all__ = ["FORMAT_VERSION", "ScanHistory", "ScanRecord", "StatsFileError", "stats_table"]

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, datetime.isoformat)


@frozen
class ScanRecord:
    """One scan turn of one scanner: what it found and added, how long it took, how it ended."""

    scanner: str
    time: datetime
    symbols_found: int = 0
    symbols_added: int = 0
    execution_time_ms: float = 0.0
    error: str | None = None
    skipped: bool = False


@define
class ScanHistory:
    """Every scan of a session, in the order they ran."""

    records: list[ScanRecord] = field(factory=list)

    def record(
        self,
        scanner: str,
        time: datetime,
        *,
        symbols_found: int = 0,
        symbols_added: int = 0,
        execution_time_ms: float = 0.0,
        error: str | None = None,
        skipped: bool = False,
    ) -> ScanRecord:
        """Append one scan to the history and return its record."""
        entry = ScanRecord(
            scanner, time, symbols_found, symbols_added, execution_time_ms, error, skipped
        )
        self.records.append(entry)
        return entry

    def get_scanner_stats(self) -> dict[str, Any]:
        """Totals over all scanners plus the same figures per scanner under "by_scanner"."""
        by_name: dict[str, list[ScanRecord]] = {}
        for entry in self.records:
            by_name.setdefault(entry.scanner, []).append(entry)
        overall = _summarize(self.records)
        return {
            "total_scans": overall.pop("scans"),
            **overall,
            "by_scanner": {name: _summarize(group) for name, group in sorted(by_name.items())},
        }

    def to_json(self, path: str | Path, *, session: dict[str, Any] | None = None) -> None:
        """Write the records and their stats to a JSON file, whole (temp file + replace);
        a live session adds its ingestion and lag figures as ``session``."""
        document: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "stats": self.get_scanner_stats(),
            "records": _converter.unstructure(self.records),
        }
        if session is not None:
            document["session"] = session
        atomic.write_text(path, json.dumps(document, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ScanHistory:
        """Read a file written by to_json(); StatsFileError names the file and first bad field."""
        return cls([ScanRecord(**fields) for fields in read_records(path)])


def _summarize(records: list[ScanRecord]) -> dict[str, Any]:
    ran = np.array([r.execution_time_ms for r in records if not r.skipped], dtype=float)
    errors = [r.error for r in records if r.error is not None]
    return {
        "scans": len(records),
        "avg_execution_time": float(ran.mean()) if ran.size else 0.0,
        "p95_execution_time": float(np.percentile(ran, 95)) if ran.size else 0.0,
        "max_execution_time": float(ran.max()) if ran.size else 0.0,
        "total_symbols_found": sum(r.symbols_found for r in records),
        "total_symbols_added": sum(r.symbols_added for r in records),
        "errors": len(errors),
        "timeouts": errors.count(TIMEOUT),
        "skipped": sum(r.skipped for r in records),
        "last_error": errors[-1] if errors else None,
    }


def stats_table(stats: dict[str, Any], title: str = "Scanner stats") -> Table:
    """A rich table of get_scanner_stats() output: one row per scanner, a total, last errors.

    Names, errors and the title are plain text: a '[/x]' in them is shown, not read as markup.
    """
    table = Table(
        title=Text(title),
        caption=_last_errors(stats["by_scanner"]),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("scanner", no_wrap=True)
    numeric = ("scans", "avg ms", "p95 ms", "found", "added", "errors", "timeouts")
    for heading in (*numeric, "skipped"):
        table.add_column(heading, justify="right", no_wrap=True)
    for name, row in stats["by_scanner"].items():
        table.add_row(Text(name), *_cells(row["scans"], row))
    table.add_section()
    table.add_row("all", *_cells(stats["total_scans"], stats), style="bold")
    return table


def _cells(scans: int, row: dict[str, Any]) -> list[str]:
    return [
        str(scans),
        f"{row['avg_execution_time']:.1f}",
        f"{row['p95_execution_time']:.1f}",
        str(row["total_symbols_found"]),
        str(row["total_symbols_added"]),
        str(row["errors"]),
        str(row["timeouts"]),
        str(row["skipped"]),
    ]


def _last_errors(by_scanner: dict[str, dict[str, Any]]) -> Text | None:
    lines = [
        f"{name} last error: {row['last_error']}"
        for name, row in by_scanner.items()
        if row["last_error"]
    ]
    return Text("\n".join(lines)) if lines else None
