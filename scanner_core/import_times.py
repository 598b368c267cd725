"""Stamps in import files: date formats, UTC offsets, and the interval a file's spacing shows."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.import_calendar import ExchangeDays
from scanner_core.import_zones import wall_to_utc

NAME_HINTS = {
    "1min": "1m", "1m": "1m", "5min": "5m", "5m": "5m", "15min": "15m", "15m": "15m",
    "60min": "1h", "1h": "1h", "daily": "1d", "1d": "1d", "day": "1d",
}  # fmt: skip
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M", "%d-%b-%y", "%d-%b-%Y", "%Y%m%d", "ISO8601",
)  # fmt: skip
DAY_MINUTES = 24 * 60
FILE_SUFFIXES = re.compile(r"(\.csv|\.parquet|\.pq|\.txt)?(\.gz)?$", re.IGNORECASE)
# A UTC offset after a time of day: "...09:30:00Z", "...14:30+00:00", "...09:30:00.000-0500".
_OFFSET = re.compile(
    r"^(?P<base>.*\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*"
    r"(?:(?P<zulu>[Zz])|(?P<sign>[+-])(?P<hh>\d\d):?(?P<mm>\d\d)?)$"
)


# Stamps the common formats' fast path takes: every stamp of a file in one of these shapes.
_PLAIN_SHAPES = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", r"^\d{4}-\d\d-\d\d$")


def parse_plain_times(
    text: pa.ChunkedArray, tz: str, calendar: ExchangeDays
) -> tuple[np.ndarray, np.ndarray] | None:
    """parse_times for a file whose every stamp is ``YYYY-MM-DD HH:MM:SS`` (or every one
    ``YYYY-MM-DD``) and a real date and time: the same result, parsed by pyarrow.

    None when any stamp is in another shape or not a real time: parse_times then decides.
    """
    if not len(text) or text.null_count:
        return None
    if not any(pc.all(pc.match_substring_regex(text, shape)).as_py() for shape in _PLAIN_SHAPES):
        return None
    try:
        parsed = pc.cast(text, pa.timestamp("s"))
    except pa.ArrowInvalid:
        return None
    written = np.array(parsed.to_numpy())
    written[~calendar.in_range(written)] = np.datetime64("NaT")
    written = written.astype("datetime64[ns]")
    return written, wall_to_utc(written, tz)


def parse_times(text: pd.Series, tz: str, calendar: ExchangeDays) -> tuple[np.ndarray, np.ndarray]:
    """Each stamp as written (naive, its offset dropped) and as a naive UTC instant.

    Both are NaT where the stamp does not parse or its date is outside the calendar; the
    instant is also NaT where a naive wall-clock time does not exist, or exists twice, in tz.
    """
    parts = text.str.extract(_OFFSET)
    has_offset = parts["base"].notna().to_numpy()
    written = parse_naive(parts["base"].where(has_offset, text))
    written[~calendar.in_range(written)] = np.datetime64("NaT")
    written = written.astype("datetime64[ns]")
    sign = np.where(parts["sign"] == "-", -1, 1)
    offset = sign * (
        pd.to_numeric(parts["hh"]).fillna(0).to_numpy() * 60
        + pd.to_numeric(parts["mm"]).fillna(0).to_numpy()
    )
    instant = written - offset.astype("timedelta64[m]")
    naive = ~has_offset
    instant[naive] = wall_to_utc(written[naive], tz)
    return written, instant


def parse_naive(text: pd.Series) -> np.ndarray:
    """Naive timestamps (datetime64[us]); the first format that parses a sample best wins."""
    sample = text[text != ""].head(200)
    best, best_ok = None, -1
    for fmt in _DATE_FORMATS:
        ok = int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
        if ok > best_ok:
            best, best_ok = fmt, ok
        if ok == len(sample):
            break
    parsed = pd.to_datetime(text, format=best, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy().astype("datetime64[us]")


def spacing_minutes(ts: np.ndarray, codes: np.ndarray) -> float | None:
    """The most common positive gap between a symbol's consecutive stamps, in minutes
    (the shortest of equally common ones); ``codes`` number the rows' symbols."""
    if len(codes) and codes.min() != codes.max():
        order = np.argsort(codes, kind="stable")
        ts, codes = ts[order], codes[order]
    step = np.abs(np.diff(ts.astype("datetime64[ns]").astype(np.int64)))
    step = step[(codes[1:] == codes[:-1]) & (step > 0)]
    if not len(step):
        return None
    values, counts = np.unique(step, return_counts=True)
    return float(values[np.argmax(counts)] / 60e9)


def resolve_interval(
    given: str | None, path: Path, daily_looking: bool, spacing: float | None
) -> str:
    """The file's interval: given, hinted by its name, or inferred; a contradiction raises."""
    hint, source = (given, "the interval option") if given else (interval_from_name(path), "")
    source = source or "file name"
    if hint is not None:
        minutes = INTERVAL_MINUTES[hint]
        finer = spacing is not None and spacing < (minutes or DAY_MINUTES)
        coarser = bool(minutes) and daily_looking and spacing is not None
        if finer or coarser:
            says = f"{source} says" if given else f"{path.name}: file name says"
            raise ValueError(f"{says} {hint} but its stamps are {_span(spacing)} apart")
        return hint
    if daily_looking:
        return "1d"
    if spacing is None:
        raise ValueError("cannot infer the interval (fewer than two bars); pass interval=")
    by_minutes = {m: name for name, m in INTERVAL_MINUTES.items() if m}
    if spacing not in by_minutes:
        raise ValueError(f"bars {_span(spacing)} apart are not a known interval; pass interval=")
    return by_minutes[int(spacing)]


def _span(minutes: float) -> str:
    """A gap in words: "1 minute", "15 minutes", "1 day", "30 seconds"."""
    for unit, size in (("day", DAY_MINUTES), ("hour", 60), ("minute", 1)):
        if minutes >= size and minutes % size == 0:
            count = int(minutes // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes * 60:g} seconds"


def interval_from_name(path: Path) -> str | None:
    """An interval hinted by the file name (``AAPL_1min.csv``), if any."""
    stem = FILE_SUFFIXES.sub("", path.name).lower()
    for part in reversed(re.split(r"[_\-.\s]", stem)):
        if part in NAME_HINTS:
            return NAME_HINTS[part]
    return None
