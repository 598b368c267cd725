"""The websocket feed's JSON messages: parsed and checked, or rejected with a reason.

Every message is one JSON object with a ``type`` (the format is documented in
docs/live.md). A message that cannot be used is never half-used: `parse` returns a
`Rejected` naming the reason kind (``malformed``) and what was wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
from attrs import frozen

from scanner_core.bars import FIELDS, INTERVAL_MINUTES, Bars
from scanner_core.symbols import valid_symbol

#: The largest message read; a bigger one is malformed.
MAX_MESSAGE_BYTES = 16 << 20


@frozen
class BarsMessage:
    """One cross-section: bars of one interval starting at `ts` (UTC; a day for 1d)."""

    bars: Bars

    @property
    def ts(self) -> np.datetime64:
        """The bars' start, naive UTC datetime64[ns]."""
        return self.bars.ts[0]


@frozen
class Heartbeat:
    """Every bar closing by `time` has been sent."""

    time: dt.datetime


@frozen
class ServerError:
    """The server reports a problem; the session logs it and keeps running."""

    message: str


@frozen
class Rejected:
    """A message that cannot be used: the reason kind and what was wrong."""

    reason: str
    detail: str


Message = BarsMessage | Heartbeat | ServerError | Rejected


def _malformed(detail: str) -> Rejected:
    return Rejected("malformed", detail)


def _moment(value: Any, field: str) -> dt.datetime | Rejected:
    if not isinstance(value, str):
        return _malformed(f"{field}: expected an ISO 8601 time string, got {value!r:.60}")
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        return _malformed(f"{field}: {value!r:.60} is not an ISO 8601 time")
    if stamp.tz is None:
        return _malformed(f"{field}: {value!r:.60} has no UTC offset")
    return stamp.tz_convert("UTC").to_pydatetime()


def parse(text: str | bytes) -> Message:
    """One message from the server, checked; Rejected (never an exception) when unusable."""
    if len(text) > MAX_MESSAGE_BYTES:
        return _malformed(f"message of {len(text)} bytes is over {MAX_MESSAGE_BYTES}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return _malformed(f"not JSON ({type(exc).__name__}: {exc!s:.80})")
    if not isinstance(data, dict):
        return _malformed("expected a JSON object")
    kind = data.get("type")
    if kind == "heartbeat":
        when = _moment(data.get("time"), "time")
        return when if isinstance(when, Rejected) else Heartbeat(when)
    if kind == "error":
        return ServerError(str(data.get("message", ""))[:500])
    if kind == "bars":
        return _bars(data)
    return _malformed(f"type: expected 'bars', 'heartbeat' or 'error', got {kind!r:.40}")


def _bars(data: dict[str, Any]) -> BarsMessage | Rejected:
    interval = data.get("interval")
    if interval not in INTERVAL_MINUTES:
        return _malformed(f"interval: expected one of {', '.join(INTERVAL_MINUTES)}")
    start = _moment(data.get("ts"), "ts")
    if isinstance(start, Rejected):
        return start
    rows = data.get("bars")
    if not isinstance(rows, list) or not rows:
        return _malformed("bars: expected a non-empty list of bars")
    symbols: list[str] = []
    values: list[list[float]] = []
    for index, row in enumerate(rows):
        problem = _row_problem(row)
        if problem:
            return _malformed(f"bars[{index}]: {problem}")
        symbols.append(row["symbol"])
        values.append([float(row[f]) for f in FIELDS])
    if len(set(symbols)) != len(symbols):
        return _malformed("bars: a symbol appears twice in one cross-section")
    order = np.argsort(np.asarray(symbols))
    ts = pd.Timestamp(start).tz_convert("UTC").tz_localize(None)
    if interval == "1d":
        ts = ts.normalize()
    table = np.asarray(values, dtype=np.float64)[order]
    bars = Bars(
        interval,
        tuple(symbols[i] for i in order),
        np.arange(len(symbols), dtype=np.int32),
        np.full(len(symbols), ts.to_datetime64(), dtype="datetime64[ns]"),
        *(table[:, i].copy() for i in range(len(FIELDS))),
    )
    return BarsMessage(bars)


def _row_problem(row: Any) -> str | None:
    """What is wrong with one bar of a bars message; None when it is fine."""
    if not isinstance(row, dict):
        return "expected an object with symbol, open, high, low, close, volume"
    symbol = row.get("symbol")
    if not isinstance(symbol, str) or not valid_symbol(symbol):
        return f"symbol: {symbol!r:.40} is not a symbol"
    for name in FIELDS:
        value = row.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name}: expected a number, got {value!r:.40}"
        if not math.isfinite(value) or value < 0:
            return f"{name}: expected a finite number >= 0, got {value!r:.40}"
    if (
        not row["low"]
        <= min(row["open"], row["close"])
        <= max(row["open"], row["close"])
        <= row["high"]
    ):
        return "prices: expected low <= open, close <= high"
    return None


def subscribe(symbols: list[str], intervals: list[str], after: dt.datetime | None) -> str:
    """The message asking the server for these symbols' bars closing after `after`."""
    message: dict[str, Any] = {"type": "subscribe", "symbols": symbols, "intervals": intervals}
    if after is not None:
        message["from"] = after.astimezone(dt.UTC).isoformat()
    return json.dumps(message)
