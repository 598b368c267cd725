"""Picks: every symbol a scan found, with its rank, score and values, as the scan saw it."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from scanner_core.hookspecs import hookimpl
from scanner_core.scanner import ScanContext, ScanResult

#: The columns a pick has before its outcome is measured, in order.
PICK_COLUMNS = ("scanner", "time", "day", "rank", "symbol", "score", "values", "why")


class PickRecorder:
    """An observer keeping one row per symbol of each finished scan, in session order.

    Failed and skipped scans pick nothing. ``values`` is the scanner's per-symbol
    numbers (``metadata["values"][symbol]``) and ``why`` the symbol's provenance record
    (``metadata["why"][symbol]``), each as sorted JSON, so rows compare exactly.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @hookimpl
    def after_scan(self, context: ScanContext, result: ScanResult) -> None:
        """Remember each symbol the scan found."""
        if result.error is not None or result.skipped:
            return
        values = result.metadata.get("values")
        values = values if isinstance(values, dict) else {}
        scores = result.metadata.get("scores")
        scores = scores if isinstance(scores, dict) else {}
        why = result.metadata.get("why")
        why = why if isinstance(why, dict) else {}
        moment = pd.Timestamp(context.exchange_time())
        for rank, symbol in enumerate(result.symbols, start=1):
            own = values.get(symbol)
            own = own if isinstance(own, dict) else {}
            self.rows.append(
                {
                    "scanner": context.scanner_name,
                    "time": moment.tz_convert("UTC"),
                    "day": _trading_day(context, moment),
                    "rank": rank,
                    "symbol": symbol,
                    "score": _number(scores.get(symbol, own.get("score"))),
                    "values": json.dumps(own, sort_keys=True, default=str),
                    "why": json.dumps(why.get(symbol, {}), sort_keys=True, default=str),
                }
            )


def picks_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a DataFrame with the pick columns, typed, even when empty."""
    frame = pd.DataFrame(rows, columns=list(PICK_COLUMNS))
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame["rank"] = frame["rank"].astype("int64")
    frame["score"] = frame["score"].astype("float64")
    return frame


def _trading_day(context: ScanContext, moment: pd.Timestamp) -> str:
    day = context.trading_day()
    return str(day.day if day is not None else moment.tz_convert(context.calendar.tz).date())


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number
