"""Why a symbol was added: the scanner or composition, the children that passed, their values.

One record per symbol a scan found, kept in the result's ``metadata["why"]`` (so every
``after_scan`` observer, the evaluation's picks among them, sees it), handed to the
``symbols_added`` hook for the symbols that joined, and written in the history:

``{"scanner": "gap_and_momentum", "expression": "(gap & momentum)",
"passed": ["gap", "momentum"], "values": {"gap": {"gap_pct": 2.4, ...},
"momentum": {"rsi": 74.1, ...}}, "bar_time": "2019-02-12T15:00:00+00:00",
"time": "2019-02-12T10:00:00-05:00"}``

``passed`` names the children (scanners and nested compositions) that passed the
symbol at this scan; ``values`` groups the symbol's values by child; ``bar_time`` is
the close of the newest bar the scan saw, ``time`` the scan's time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from scanner_core.scanner import ScanContext, ScanResult


def why_records(scanner: str, result: ScanResult, context: ScanContext) -> dict[str, dict]:
    """The why record of each symbol a result holds, by symbol."""
    meta = result.metadata
    values = meta.get("values") if isinstance(meta.get("values"), Mapping) else {}
    children = meta.get("children") if isinstance(meta.get("children"), Mapping) else None
    leaves = [str(name) for name in meta.get("leaves", ())]
    bar_time = _bar_time(context)
    expression = meta.get("expression")
    records = {}
    for symbol in result.symbols:
        row = values.get(symbol, {}) if isinstance(values.get(symbol, {}), Mapping) else {}
        passed = list(children.get(symbol, [scanner])) if children is not None else [scanner]
        records[symbol] = {
            "scanner": scanner,
            "expression": expression,
            "passed": passed,
            "values": _grouped(row, leaves) if leaves else {scanner: dict(row)},
            "bar_time": bar_time,
            "time": context.current_time.isoformat(),
        }
    return records


def _bar_time(context: ScanContext) -> str | None:
    """The close of the newest bar the scan saw (UTC): the session clock, at most the scan time.

    A live scan's result is handed on after more bars came in; it saw none of them.
    """
    import pandas as pd

    now = getattr(context.session_data, "current_time", None)
    if now is None:
        return None
    scanned = pd.Timestamp(context.current_time)
    if scanned.tzinfo is not None:
        now = min(now, scanned.tz_convert("UTC"))
    return now.isoformat()


def _grouped(row: Mapping[str, Any], leaves: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Namespaced values (``gap.gap_pct``) grouped by child, the longest child name first."""
    by_length = sorted(leaves, key=len, reverse=True)
    grouped: dict[str, dict[str, Any]] = {}
    for key, value in row.items():
        owner = next((name for name in by_length if key.startswith(f"{name}.")), "")
        name = key[len(owner) + 1 :] if owner else key
        grouped.setdefault(owner, {})[name] = value
    return grouped


def with_why(scanner: str, result: ScanResult, context: ScanContext) -> ScanResult:
    """The result with ``metadata["why"]`` holding each found symbol's record."""
    if result.error is not None or not result.symbols:
        return result
    metadata = {**result.metadata, "why": why_records(scanner, result, context)}
    return attrs.evolve(result, metadata=metadata)
