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

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from attrs import define, frozen

from scanner_core.bars import FIELDS, INTERVAL_MINUTES, PRICE_FIELDS, Bars
from scanner_core.import_calendar import (
    ExchangeDays,
    calendar_faults,
    exchange_days,
    looks_end_labelled,
)
from scanner_core.import_order import Rows, put_in_order
from scanner_core.import_read import read_text_table
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
    parse_plain_times,
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
_EMPTY_SET = pa.array(_EMPTY)


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
        table, first_row = read_text_table(path)
        bars = _to_bars(table, first_row, path, report, options)
    except (OSError, ValueError) as exc:
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


def _to_bars(
    table: pa.Table, first_row: int, path: Path, report: FileReport, opt: _Options
) -> Bars:
    """Map columns, parse, validate and order one file's rows."""
    columns = {c.strip().lower(): c for c in table.column_names}
    time_col = next((columns[c] for c in _TIME_COLUMNS if c in columns), None)
    tod_col = next(
        (columns[c] for c in _TOD_COLUMNS if c in columns and columns[c] != time_col), None
    )
    sym_col = next((columns[c] for c in _SYMBOL_COLUMNS if c in columns), None)
    missing = [f for f in FIELDS if f not in columns]
    if time_col is None:
        missing.insert(0, "a time column (datetime, timestamp or date)")
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}; found {table.column_names}")
    used = {time_col, tod_col, sym_col, *(columns[f] for f in FIELDS)}
    unknown = [c for c in table.column_names if c not in used]
    if unknown:
        report.warnings.append(f"ignored unknown column(s): {', '.join(map(shown, unknown))}")

    n = table.num_rows
    report.rows_read = n
    rownum = np.arange(first_row, first_row + n)
    stamp_text = pc.utf8_trim_whitespace(table[time_col])
    if tod_col is not None:
        stamp_text = pc.binary_join_element_wise(
            stamp_text, pc.utf8_trim_whitespace(table[tod_col]), " "
        )
    times = None if tod_col is not None else parse_plain_times(stamp_text, opt.tz, opt.calendar)
    written, instant = times or parse_times(stamp_text.to_pandas(), opt.tz, opt.calendar)
    symbols = _symbols(table, n, sym_col, path, opt)
    values, value_faults = _values(table, columns)
    stamped = ~np.isnat(written) & ~symbols.faults[0][1] & ~symbols.faults[1][1]
    daily_looking = tod_col is None and bool(
        (written[stamped] == written[stamped].astype("datetime64[D]")).all()
    )
    spacing = spacing_minutes(
        np.where(np.isnat(instant), written, instant)[stamped], symbols.code[stamped]
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
        *symbols.faults,
        ("bad_timestamp", ~valid_ts),
        *value_faults,
        *calendar_faults(opt.calendar, safe, interval),
    ]

    def stamp(i: int) -> str:
        return stamp_text[int(i)].as_py()

    ok = np.ones(n, bool)
    for kind, bad in checks:
        hit = bad & ok
        if hit.any():
            report.add(kind, rownum[hit], _details(kind, stamp, symbols, hit))
            ok &= ~hit

    index = np.flatnonzero(ok)
    rows = Rows(
        symbols.names,
        symbols.code[index],
        ts[index],
        {f: v[index] for f, v in values.items()},
        index,
        rownum[index],
    )
    rows = put_in_order(rows, report, stamp)
    if end_labelled:
        report.warnings.append(
            "no bar at the session open but bars at the close: the file may label bars "
            "by their end; re-import with --timestamps end (timestamps='end') if so"
        )
    present = np.unique(rows.code)
    names = np.asarray(symbols.names, dtype=object)[present]
    by_name = np.argsort(names.astype(str), kind="stable")
    recode = np.zeros(len(symbols.names), np.int32)
    recode[present[by_name]] = np.arange(len(present), dtype=np.int32)
    report.interval = interval
    report.symbols = len(present)
    report.rows_accepted = len(rows.code)
    return Bars(
        interval,
        tuple(names[by_name]),
        recode[rows.code],
        rows.ts.astype("datetime64[ns]"),
        **{f: rows.values[f] for f in FIELDS},
    )


@frozen(eq=False)
class _Symbols:
    """Each row's symbol: a code into the upper-cased ``names``, the text as written
    (``raw``, by raw code), and the rows whose symbol is empty or not valid."""

    names: tuple[str, ...]
    code: np.ndarray
    raw: list[str]
    raw_code: np.ndarray
    faults: list[tuple[str, np.ndarray]]


def _symbols(table: pa.Table, n: int, sym_col: str | None, path: Path, opt: _Options) -> _Symbols:
    """Symbols as written and upper-cased, and the rows whose symbol is empty or not valid."""
    if opt.symbol is not None:
        return _one_symbol(opt.symbol, n)
    if sym_col is None:
        name = _symbol_from_name(path)
        if not valid_symbol(name):
            raise ValueError(
                f"the file name gives the symbol {name!r}, which is not valid (expected "
                f"{SYMBOL_RULE}); add a symbol column or pass symbol="
            )
        return _one_symbol(name, n)
    text = pc.utf8_trim_whitespace(table[sym_col]).combine_chunks()
    encoded = pc.dictionary_encode(text.fill_null("\x00"))
    raw = encoded.dictionary.to_pylist()
    raw_code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    upper = [r.upper() for r in raw]
    names = tuple(dict.fromkeys(upper))
    to_name = np.array([names.index(u) for u in upper] + [0], np.int32)
    valid = np.array([valid_symbol(r) for r in raw] + [False], bool)[raw_code]
    empty = np.array([r == "" for r in raw] + [False], bool)[raw_code]
    return _Symbols(
        names,
        to_name[raw_code],
        raw,
        raw_code,
        [("missing_symbol", empty), ("bad_symbol", ~empty & ~valid)],
    )


def _one_symbol(name: str, n: int) -> _Symbols:
    """Every row of a file holding the one valid symbol ``name``."""
    none = np.zeros(n, bool)
    code = np.zeros(n, np.int32)
    return _Symbols(
        (name.upper(),), code, [name], code, [("missing_symbol", none), ("bad_symbol", none)]
    )


def _values(
    table: pa.Table, columns: dict[str, str]
) -> tuple[dict[str, np.ndarray], list[tuple[str, np.ndarray]]]:
    """The OHLCV columns as floats, and the rows failing each value rule, in checking order."""
    values = {}
    n = table.num_rows
    missing = np.zeros(n, bool)
    bad = np.zeros(n, bool)
    for f in FIELDS:
        text = pc.utf8_trim_whitespace(table[columns[f]])
        try:
            # every cell a number (NaN and inf spelt out included): the common case
            num = np.array(pc.cast(text, pa.float64()).to_numpy())
            nan = np.isnan(num)
            empty = np.zeros(n, bool)
            if nan.any():
                empty = pc.is_in(pc.utf8_lower(text), value_set=_EMPTY_SET).to_numpy(
                    zero_copy_only=False
                )
                empty &= nan
        except pa.ArrowInvalid:
            num, empty = _numbers(text.to_pandas())
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


def _numbers(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Cells as floats (NaN where not a number) and which are empty, for any text."""
    empty = ((text == "") | text.str.lower().isin(_EMPTY)).to_numpy(dtype=bool, na_value=False)
    num = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(np.float64, na_value=np.nan)
    return num, empty


def _details(
    kind: str, stamp: Callable[[int], str], symbols: _Symbols, hit: np.ndarray
) -> list[str]:
    """Symbol and time text of the first few rows hit, escaped so they print as one line."""
    idx = np.flatnonzero(hit)[:EXAMPLES]
    if kind == "bad_symbol":
        return [f"{symbols.raw[symbols.raw_code[i]]!r} {shown(stamp(i) or '')}" for i in idx]
    return [f"{shown(symbols.names[symbols.code[i]])} {shown(stamp(i) or '')}".strip() for i in idx]


def _symbol_from_name(path: Path) -> str:
    """The symbol a file name stands for: ``AAPL_1min.csv.gz`` and ``AAPL_data.csv`` give AAPL."""
    stem = FILE_SUFFIXES.sub("", path.name)
    parts = stem.split("_")
    while len(parts) > 1 and (parts[-1].lower() in NAME_HINTS or parts[-1].lower() == "data"):
        parts.pop()
    return "_".join(parts).upper()
