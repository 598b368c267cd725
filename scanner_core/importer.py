"""Reading OHLCV files into Bars: column mapping, timestamp conventions, row validation.

Each rejected row is counted by kind (`REJECT_KINDS`, in checking order) with its file and
row number; docs/data.md states every rule.  In short:

- Files: CSV (optionally gzip) or Parquet; a file that cannot be read (corrupt or truncated
  gzip, text that is not UTF-8, a missing column) is rejected whole with the reason.
  Columns are matched case-insensitively: a time column (``datetime``, ``timestamp``,
  ``date``, or an unnamed first column) or a date plus a time-of-day column (``time``,
  ``ToD``); a symbol column (``symbol``, ``ticker``, ``name``), else the file name
  (``AAPL_1min.csv``); ``symbol=`` overrides both.  Unknown columns are ignored with a warning.
- Symbols are upper-cased and must match `scanner_core.symbols.SYMBOL_PATTERN`.
- Times: a stamp with a UTC offset (``Z``, ``+00:00``, ``-05:00``) is converted by its own
  offset; a naive stamp is wall-clock time in ``tz`` (the calendar's zone by default).
  Intraday bars are stored as UTC bar starts; ``timestamps="end"`` shifts end-labelled
  stamps back one interval.  Daily rows are session dates as written.
- The interval is ``interval=``, else a file-name hint (``_1min``, ``_daily``...), else
  the most common step between a symbol's stamps; a given or hinted interval that the
  stamps contradict rejects the file, naming both.
- Calendar (``calendar=``, XNYS by default): dates outside the calendar's range are
  ``bad_timestamp``; rows on days it does not trade are ``non_session_day``; intraday bars
  outside its extended hours are ``outside_session_hours``; intraday bar starts must be
  whole multiples of the interval counted from the day's open (``off_grid``).
- Exact duplicate rows are collapsed (``exact_duplicate``); newest-first files are reversed.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
from attrs import define, frozen

from scanner_core.bars import FIELDS, INTERVAL_MINUTES, PRICE_FIELDS, Bars
from scanner_core.import_calendar import (
    ExchangeDays,
    calendar_faults,
    exchange_days,
    looks_end_labelled,
)
from scanner_core.import_report import (
    COLLAPSED_KIND,
    EXAMPLES,
    REJECT_KINDS,
    FileReport,
    ImportReport,
    shown,
)
from scanner_core.import_times import (
    FILE_SUFFIXES,
    NAME_HINTS,
    parse_times,
    resolve_interval,
    spacing_minutes,
)
from scanner_core.symbols import SYMBOL_RULE, check_symbol, valid_symbol

__all__ = [
    "COLLAPSED_KIND",
    "REJECT_KINDS",
    "FileReport",
    "ImportReport",
    "ParsedFile",
    "expand_paths",
    "parse_file",
]

_TIME_COLUMNS = ("datetime", "timestamp", "date", "unnamed: 0", "")
_TOD_COLUMNS = ("tod", "time")
_SYMBOL_COLUMNS = ("symbol", "ticker", "name")
_DATA_FILE = re.compile(r"\.(csv|parquet|pq)(\.gz)?$", re.IGNORECASE)
_EMPTY = ("nan", "null", "na", "n/a", "none")


@define
class ParsedFile:
    """A file's accepted rows (None when the file was rejected) and its report."""

    bars: Bars | None
    report: FileReport


@frozen
class _Options:
    """One import's settings, checked once."""

    timestamps: str
    interval: str | None
    symbol: str | None
    tz: str
    calendar: ExchangeDays


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files named, plus the CSV/Parquet files under folders named (sorted)."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and _DATA_FILE.search(p.name))
        else:
            out.append(path)
    return out


def parse_file(
    path: Path | str,
    *,
    timestamps: Literal["start", "end"] = "start",
    interval: str | None = None,
    symbol: str | None = None,
    tz: str | None = None,
    calendar: str = "XNYS",
) -> ParsedFile:
    """Read and validate one file; bad content never raises (the report says why), bad
    options raise one-line ValueErrors."""
    options = _options(timestamps, interval, symbol, tz, calendar)
    path = Path(path)
    report = FileReport(str(path))
    try:
        frame, first_row = _read_table(path)
        bars = _to_bars(frame, first_row, path, report, options)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        report.error = str(exc)
        return ParsedFile(None, report)
    return ParsedFile(bars, report)


def _options(
    timestamps: str, interval: str | None, symbol: str | None, tz: str | None, calendar: str
) -> _Options:
    """The settings checked, each bad one a ValueError naming the value."""
    if timestamps not in ("start", "end"):
        raise ValueError(f"timestamps must be 'start' or 'end', not {timestamps!r}")
    if interval is not None and interval not in INTERVAL_MINUTES:
        raise ValueError(f"unknown interval {interval!r}; known: {', '.join(INTERVAL_MINUTES)}")
    if symbol is not None:
        try:
            symbol = check_symbol(symbol)
        except ValueError as exc:
            raise ValueError(f"symbol option: {exc}") from None
    days = exchange_days(calendar)
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                f"unknown time zone {tz!r}; expected an IANA name such as America/New_York"
            ) from None
    return _Options(timestamps, interval, symbol, tz or days.tz, days)


def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    """All columns as strings, and the file row number of the first data row."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        try:
            frame = pd.read_parquet(path)
        except pa.ArrowException as exc:
            raise ValueError(f"not a valid Parquet file: {exc}") from None
        return frame.astype(str).where(frame.notna(), ""), 1
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise ValueError(_encoding_error(path, exc)) from None
    except EOFError as exc:
        raise ValueError(f"truncated gzip file: {exc}") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"not a valid gzip file: {exc}") from None
    return frame, 2  # line 1 is the header


def _encoding_error(path: Path, exc: UnicodeDecodeError) -> str:
    """Which line of a file is not UTF-8, found by reading it again line by line."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as bad:
                return f"not UTF-8 text: line {number}, byte {line[bad.start]:#04x} ({bad.reason})"
    return f"not UTF-8 text: {exc.reason}"


def _to_bars(
    frame: pd.DataFrame, first_row: int, path: Path, report: FileReport, opt: _Options
) -> Bars:
    """Map columns, parse, validate and order one file's rows."""
    columns = {str(c).strip().lower(): c for c in frame.columns}
    time_col = next((columns[c] for c in _TIME_COLUMNS if c in columns), None)
    tod_col = next(
        (columns[c] for c in _TOD_COLUMNS if c in columns and columns[c] != time_col), None
    )
    sym_col = next((columns[c] for c in _SYMBOL_COLUMNS if c in columns), None)
    missing = [f for f in FIELDS if f not in columns]
    if time_col is None:
        missing.insert(0, "a time column (datetime, timestamp or date)")
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}; found {list(frame.columns)}")
    used = {time_col, tod_col, sym_col, *(columns[f] for f in FIELDS)}
    unknown = [str(c) for c in frame.columns if c not in used]
    if unknown:
        report.warnings.append(f"ignored unknown column(s): {', '.join(map(shown, unknown))}")

    n = len(frame)
    report.rows_read = n
    rownum = np.arange(first_row, first_row + n)
    stamp_text = frame[time_col].str.strip()
    if tod_col is not None:
        stamp_text = stamp_text + " " + frame[tod_col].str.strip()
    written, instant = parse_times(stamp_text, opt.tz, opt.calendar)
    raw_names, names, symbol_faults = _symbols(frame, sym_col, path, opt)
    values, value_faults = _values(frame, columns)
    stamped = ~np.isnat(written) & ~symbol_faults[0][1] & ~symbol_faults[1][1]
    daily_looking = tod_col is None and bool(
        (written[stamped] == written[stamped].astype("datetime64[D]")).all()
    )
    spacing = spacing_minutes(
        np.where(np.isnat(instant), written, instant)[stamped], names[stamped]
    )
    interval = resolve_interval(opt.interval, path, daily_looking, spacing)
    minutes = INTERVAL_MINUTES[interval]
    if not minutes:
        ts = written.astype("datetime64[D]").astype("datetime64[ns]")
    elif opt.timestamps == "end":
        ts = instant - np.timedelta64(minutes, "m")
    else:
        ts = instant
    valid_ts = ~np.isnat(ts)
    # Rows without a time are rejected as bad_timestamp first; a stand-in keeps NaT out of
    # the calendar checks.
    safe = np.where(valid_ts, ts, ts[valid_ts][0] if valid_ts.any() else np.datetime64(0, "ns"))
    # Judged on every stamp, before the hours check rejects the close bars it looks for.
    end_labelled = (
        bool(minutes)
        and opt.timestamps == "start"
        and looks_end_labelled(opt.calendar, ts[valid_ts])
    )
    checks = [
        *symbol_faults,
        ("bad_timestamp", ~valid_ts),
        *value_faults,
        *calendar_faults(opt.calendar, safe, interval),
    ]
    ok = np.ones(n, bool)
    for kind, bad in checks:
        hit = bad & ok
        report.add(kind, rownum[hit], _details(kind, stamp_text, raw_names, names, hit))
        ok &= ~hit

    rows = pd.DataFrame(
        {"symbol": names, "t": ts, "stamp": stamp_text.to_numpy(), **values, "row": rownum}
    )[ok]
    rows = _drop_duplicates(rows, report)
    rows = _order(rows, report)
    ts = rows["t"].to_numpy()
    if end_labelled:
        report.warnings.append(
            "no bar at the session open but bars at the close: the file may label bars "
            "by their end; re-import with --timestamps end (timestamps='end') if so"
        )
    codes, uniques = pd.factorize(rows["symbol"])
    report.interval = interval
    report.symbols = len(uniques)
    report.rows_accepted = len(rows)
    cols = {f: rows[f].to_numpy(np.float64) for f in FIELDS}
    return Bars(
        interval, tuple(uniques), codes.astype(np.int32), ts.astype("datetime64[ns]"), **cols
    )


def _symbols(
    frame: pd.DataFrame, sym_col: str | None, path: Path, opt: _Options
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
    """Symbols as written and upper-cased, and the rows whose symbol is empty or not valid."""
    if opt.symbol is not None:
        raw = pd.Series(opt.symbol, index=frame.index, dtype=object)
    elif sym_col is not None:
        raw = frame[sym_col].str.strip()
    else:
        name = _symbol_from_name(path)
        if not valid_symbol(name):
            raise ValueError(
                f"the file name gives the symbol {name!r}, which is not valid (expected "
                f"{SYMBOL_RULE}); add a symbol column or pass symbol="
            )
        raw = pd.Series(name, index=frame.index, dtype=object)
    raw = raw.to_numpy(dtype=object)
    codes, uniques = pd.factorize(raw)
    valid = np.array([valid_symbol(u) for u in uniques] + [False], bool)[codes]
    empty = raw == ""
    names = np.array([str(u).upper() for u in uniques] + [""], dtype=object)[codes]
    return raw, names, [("missing_symbol", empty), ("bad_symbol", ~empty & ~valid)]


def _values(
    frame: pd.DataFrame, columns: dict[str, str]
) -> tuple[dict[str, np.ndarray], list[tuple[str, np.ndarray]]]:
    """The OHLCV columns as floats, and the rows failing each value rule, in checking order."""
    values = {}
    n = len(frame)
    missing = np.zeros(n, bool)
    bad = np.zeros(n, bool)
    for f in FIELDS:
        text = frame[columns[f]].str.strip()
        empty = ((text == "") | text.str.lower().isin(_EMPTY)).to_numpy()
        num = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(np.float64)
        missing |= empty
        bad |= (np.isnan(num) & ~empty) | np.isinf(num)
        values[f] = num
    o, h, lo, c, v = (values[f] for f in FIELDS)
    return values, [
        ("missing_value", missing),
        ("bad_number", bad),
        ("non_positive_price", np.logical_or.reduce([values[f] <= 0 for f in PRICE_FIELDS])),
        ("negative_volume", v < 0),
        ("high_below_low", h < lo),
        ("open_outside_range", (o < lo) | (o > h)),
        ("close_outside_range", (c < lo) | (c > h)),
    ]


def _details(
    kind: str,
    stamp: pd.Series,
    raw: np.ndarray,
    names: np.ndarray,
    hit: np.ndarray,
) -> list[str]:
    """Symbol and time text of the first few rows hit, escaped so they print as one line."""
    idx = np.flatnonzero(hit)[:EXAMPLES]
    if kind == "bad_symbol":
        return [f"{raw[i]!r} {shown(stamp.iloc[i])}" for i in idx]
    return [f"{shown(names[i])} {shown(stamp.iloc[i])}".strip() for i in idx]


def _drop_duplicates(rows: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    """Collapse identical rows; reject every row of a (symbol, time) with differing values."""
    key = ["symbol", "t"]
    exact = rows.duplicated([*key, *FIELDS], keep="first").to_numpy()
    distinct = rows[~exact]
    conflict_keys = distinct.duplicated(key, keep=False)
    conflict = (
        rows.set_index(key).index.isin(distinct[conflict_keys].set_index(key).index)
        if conflict_keys.any()
        else np.zeros(len(rows), bool)
    )
    collapsed = exact & ~conflict
    report.collapsed += int(collapsed.sum())
    report.add(
        "conflicting_duplicate",
        rows["row"].to_numpy()[conflict],
        [
            f"{shown(s)} {shown(t)}"
            for s, t in rows[conflict][["symbol", "stamp"]].head(EXAMPLES).itertuples(index=False)
        ],
    )
    return rows[~exact & ~conflict]


def _order(rows: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    """Rows in ascending time per symbol; newest-first symbols reversed; stragglers rejected."""
    if rows.empty:
        return rows
    step = rows.groupby("symbol", sort=False)["t"].diff()
    down = (step < pd.Timedelta(0)).groupby(rows["symbol"], sort=False).transform("sum")
    up = (step > pd.Timedelta(0)).groupby(rows["symbol"], sort=False).transform("sum")
    descending = (down > up).to_numpy()
    position = np.arange(len(rows))
    rows = rows.assign(_pos=np.where(descending, -position, position))
    rows = rows.sort_values(["symbol", "_pos"], kind="stable")
    prev_max = rows.groupby("symbol", sort=False)["t"].cummax()
    prev_max = prev_max.groupby(rows["symbol"], sort=False).shift(1)
    late = (rows["t"] < prev_max).to_numpy()
    report.add(
        "out_of_order",
        rows["row"].to_numpy()[late],
        [
            f"{shown(s)} {shown(t)}"
            for s, t in rows[late][["symbol", "stamp"]].head(EXAMPLES).itertuples(index=False)
        ],
    )
    return rows[~late].drop(columns="_pos")


def _symbol_from_name(path: Path) -> str:
    """The symbol a file name stands for: ``AAPL_1min.csv.gz`` and ``AAPL_data.csv`` give AAPL."""
    stem = FILE_SUFFIXES.sub("", path.name)
    parts = stem.split("_")
    while len(parts) > 1 and (parts[-1].lower() in NAME_HINTS or parts[-1].lower() == "data"):
        parts.pop()
    return "_".join(parts).upper()
