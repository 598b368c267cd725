"""Reading OHLCV files into Bars: column mapping, timestamp conventions, row validation.

Rules (each rejected row is counted by kind, with its file and row number):

- Files: CSV (optionally gzip) or Parquet.  Column names are matched case-insensitively.
  Time comes from one column (``datetime``, ``timestamp``, ``date``, or an unnamed first
  column) or from a date column plus a time-of-day column (``time``, ``ToD``).
  Symbols come from a column (``symbol``, ``ticker``, ``name``) or, failing that, from
  the file name (``AAPL_1min.csv``, ``AAPL.csv.gz``, ``AAPL_data.csv``); ``symbol=``
  overrides both.
- Unknown columns (``Adj Close``, ``OpenInt``...) do not reject the file: they are
  ignored and listed as a warning on the file's report.  A file missing a required
  column (a time, open, high, low, close, volume) is rejected whole, with the reason.
- Times are exchange-local wall-clock times (``tz``, New York by default); intraday
  bars are stored as UTC bar starts.  ``timestamps="start"`` (the default, the most
  common convention) takes a stamp as the bar's start; ``timestamps="end"`` takes it as
  the bar's end (Alpha Vantage: 09:31 is the 09:30-09:31 bar) and shifts it back one
  interval.  Daily bars are session dates either way.
- The interval is ``interval=`` when given, else a file-name hint (``_1min``,
  ``_15min``, ``_daily``...), else the most common step between a symbol's stamps.
- Row kinds rejected: ``bad_timestamp``, ``missing_value`` (empty or NaN field),
  ``bad_number``, ``negative_volume``, ``high_below_low``, ``open_outside_range`` /
  ``close_outside_range``, ``conflicting_duplicate`` (same symbol and time, different
  values: every such row is rejected since none can be trusted), ``out_of_order``.
  A row is counted under the first kind it fails, in that order.
- Exact duplicate rows are collapsed to one and counted as ``exact_duplicate``.
- Newest-first files (per symbol, more steps down than up) are read in reverse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from attrs import define, field

from scanner_core.bars import FIELDS, INTERVAL_MINUTES, Bars

if TYPE_CHECKING:
    from scanner_core.store import WriteStats

#: Row kinds that reject a row, in the order they are checked.
REJECT_KINDS = (
    "bad_timestamp",
    "missing_value",
    "bad_number",
    "negative_volume",
    "high_below_low",
    "open_outside_range",
    "close_outside_range",
    "conflicting_duplicate",
    "out_of_order",
)
#: Rows collapsed into an identical row, counted but not errors.
COLLAPSED_KIND = "exact_duplicate"
#: Example rows listed per kind in a report.
EXAMPLES = 5

_TIME_COLUMNS = ("datetime", "timestamp", "date", "unnamed: 0", "")
_TOD_COLUMNS = ("tod", "time")
_SYMBOL_COLUMNS = ("symbol", "ticker", "name")
_NAME_HINTS = {
    "1min": "1m", "1m": "1m", "5min": "5m", "5m": "5m", "15min": "15m", "15m": "15m",
    "60min": "1h", "1h": "1h", "daily": "1d", "1d": "1d", "day": "1d",
}  # fmt: skip
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M", "%d-%b-%y", "%d-%b-%Y", "%Y%m%d", "ISO8601",
)  # fmt: skip
_DATA_FILE = re.compile(r"\.(csv|parquet|pq)(\.gz)?$", re.IGNORECASE)
_SUFFIXES = re.compile(r"(\.csv|\.parquet|\.pq|\.txt)?(\.gz)?$", re.IGNORECASE)


@define
class FileReport:
    """What importing one file did: rows read, stored, rejected by kind, warnings."""

    path: str
    interval: str | None = None
    symbols: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rejected: dict[str, int] = field(factory=dict)
    examples: dict[str, list[str]] = field(factory=dict)
    collapsed: int = 0
    warnings: list[str] = field(factory=list)
    error: str | None = None

    def add(self, kind: str, rows: np.ndarray, details: list[str] | None = None) -> None:
        """Count rows (file row numbers) under a kind, keeping the first few as examples."""
        if not len(rows):
            return
        self.rejected[kind] = self.rejected.get(kind, 0) + len(rows)
        shown = self.examples.setdefault(kind, [])
        for i, row in enumerate(rows[: EXAMPLES - len(shown)]):
            extra = f" ({details[i]})" if details else ""
            shown.append(f"row {int(row)}{extra}")

    def lines(self) -> list[str]:
        """Readable summary lines."""
        if self.error:
            return [f"{self.path}: REJECTED: {self.error}"]
        head = (
            f"{self.path}: {self.interval}, {self.symbols} symbol(s), read {self.rows_read}, "
            f"accepted {self.rows_accepted}, rejected {sum(self.rejected.values())}"
        )
        if self.collapsed:
            head += f", exact duplicates collapsed {self.collapsed}"
        out = [head]
        for kind, n in self.rejected.items():
            out.append(f"  {kind}: {n}  e.g. {', '.join(self.examples.get(kind, []))}")
        out += [f"  warning: {w}" for w in self.warnings]
        return out


@define
class ImportReport:
    """The reports of every file in one import."""

    files: list[FileReport] = field(factory=list)
    stored: dict[str, WriteStats] = field(factory=dict)

    def totals(self) -> dict[str, int]:
        """Rows read, accepted, rejected and collapsed over all files, plus rejected per kind."""
        out = {"files": len(self.files), "failed_files": sum(bool(f.error) for f in self.files)}
        for key in ("rows_read", "rows_accepted", "collapsed"):
            out[key] = sum(getattr(f, key) for f in self.files)
        out["rejected"] = sum(sum(f.rejected.values()) for f in self.files)
        for f in self.files:
            for kind, n in f.rejected.items():
                out[kind] = out.get(kind, 0) + n
        return out

    def format(self) -> str:
        """The whole report as text, one block per file and a total line."""
        t = self.totals()
        lines = [line for f in self.files for line in f.lines()]
        lines.append(
            f"total: {t['files']} file(s) ({t['failed_files']} rejected), read {t['rows_read']}, "
            f"accepted {t['rows_accepted']}, rejected {t['rejected']}, collapsed {t['collapsed']}"
        )
        for interval, s in self.stored.items():
            lines.append(
                f"store {interval}: +{s.added} new, {s.replaced} replaced, {s.unchanged} unchanged"
                + (f", {s.superseded} superseded by a later file" if s.superseded else "")
            )
        return "\n".join(lines)


@define
class ParsedFile:
    """A file's accepted rows (None when the file was rejected) and its report."""

    bars: Bars | None
    report: FileReport


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
    tz: str = "America/New_York",
) -> ParsedFile:
    """Read and validate one file; never raises for bad content, the report says why."""
    path = Path(path)
    report = FileReport(str(path))
    if timestamps not in ("start", "end"):
        raise ValueError(f"timestamps must be 'start' or 'end', not {timestamps!r}")
    if interval is not None and interval not in INTERVAL_MINUTES:
        raise ValueError(f"unknown interval {interval!r}; known: {', '.join(INTERVAL_MINUTES)}")
    try:
        frame, first_row = _read_table(path)
        bars = _to_bars(frame, first_row, path, report, timestamps, interval, symbol, tz)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        report.error = str(exc)
        return ParsedFile(None, report)
    return ParsedFile(bars, report)


def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    """All columns as strings, and the file row number of the first data row."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        frame = pd.read_parquet(path)
        return frame.astype(str).where(frame.notna(), ""), 1
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    return frame, 2  # line 1 is the header


def _to_bars(
    frame: pd.DataFrame,
    first_row: int,
    path: Path,
    report: FileReport,
    timestamps: str,
    interval: str | None,
    symbol: str | None,
    tz: str,
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
        report.warnings.append(f"ignored unknown column(s): {', '.join(unknown)}")

    n = len(frame)
    report.rows_read = n
    rownum = np.arange(first_row, first_row + n)
    stamp_text = frame[time_col].str.strip()
    if tod_col is not None:
        stamp_text = stamp_text + " " + frame[tod_col].str.strip()
    local = _parse_times(stamp_text)
    daily_looking = tod_col is None and bool(
        (local.dropna() == local.dropna().dt.normalize()).all()
    )
    interval = interval or _interval_from_name(path) or ("1d" if daily_looking else None)

    names = (
        pd.Series(symbol, index=frame.index)
        if symbol
        else frame[sym_col].str.strip()
        if sym_col is not None
        else pd.Series(_symbol_from_name(path), index=frame.index)
    )
    values = {}
    missing_v = np.zeros(n, bool)
    bad_v = np.zeros(n, bool)
    for f in FIELDS:
        text = frame[columns[f]].str.strip()
        empty = (text == "") | text.str.lower().isin(("nan", "null", "na", "n/a", "none"))
        num = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(np.float64)
        missing_v |= empty.to_numpy()
        bad_v |= (np.isnan(num) & ~empty.to_numpy()) | np.isinf(num)
        values[f] = num
    o, h, lo, c, v = (values[f] for f in FIELDS)
    checks = [
        ("bad_timestamp", local.isna().to_numpy() | (names == "").to_numpy()),
        ("missing_value", missing_v),
        ("bad_number", bad_v),
        ("negative_volume", v < 0),
        ("high_below_low", h < lo),
        ("open_outside_range", (o < lo) | (o > h)),
        ("close_outside_range", (c < lo) | (c > h)),
    ]
    ok = np.ones(n, bool)
    for kind, bad in checks:
        hit = bad & ok
        report.add(kind, rownum[hit], _stamp_details(stamp_text, names, hit))
        ok &= ~hit

    rows = pd.DataFrame(
        {"symbol": names.to_numpy(), "local": local.to_numpy(), **values, "row": rownum}
    )[ok]
    rows = _drop_duplicates(rows, report)
    rows = _order(rows, report)
    if interval is None:
        interval = _interval_from_steps(rows)
    ts = rows["local"].to_numpy()
    if interval != "1d":
        ts = _to_utc(rows, tz, report)
        if timestamps == "end":
            ts = ts - np.timedelta64(INTERVAL_MINUTES[interval], "m")
        elif _looks_end_labelled(rows["local"], interval):
            report.warnings.append(
                "no bar at the session open but bars at the close: the file may label bars "
                "by their end; re-import with timestamps='end' if so"
            )
    else:
        ts = ts.astype("datetime64[D]").astype("datetime64[ns]")
    keep = ~np.isnat(ts)
    rows, ts = rows[keep], ts[keep]
    codes, uniques = pd.factorize(rows["symbol"])
    report.interval = interval
    report.symbols = len(uniques)
    report.rows_accepted = len(rows)
    cols = {f: rows[f].to_numpy(np.float64) for f in FIELDS}
    return Bars(
        interval, tuple(uniques), codes.astype(np.int32), ts.astype("datetime64[ns]"), **cols
    )


def _stamp_details(stamp: pd.Series, names: pd.Series, hit: np.ndarray) -> list[str]:
    """Symbol and time text of the first few rows hit, for report examples."""
    idx = np.flatnonzero(hit)[:EXAMPLES]
    return [f"{names.iloc[i]} {stamp.iloc[i]}" for i in idx]


def _parse_times(text: pd.Series) -> pd.Series:
    """Naive local timestamps; the first format that parses a sample best wins."""
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
    return parsed


def _drop_duplicates(rows: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    """Collapse identical rows; reject every row of a (symbol, time) with differing values."""
    key = ["symbol", "local"]
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
        [f"{s} {t}" for s, t in rows[conflict][key].head(EXAMPLES).itertuples(index=False)],
    )
    return rows[~exact & ~conflict]


def _order(rows: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    """Rows in ascending time per symbol; newest-first symbols reversed; stragglers rejected."""
    if rows.empty:
        return rows
    step = rows.groupby("symbol", sort=False)["local"].diff()
    down = (step < pd.Timedelta(0)).groupby(rows["symbol"], sort=False).transform("sum")
    up = (step > pd.Timedelta(0)).groupby(rows["symbol"], sort=False).transform("sum")
    descending = (down > up).to_numpy()
    position = np.arange(len(rows))
    rows = rows.assign(_pos=np.where(descending, -position, position))
    rows = rows.sort_values(["symbol", "_pos"], kind="stable")
    prev_max = rows.groupby("symbol", sort=False)["local"].cummax()
    prev_max = prev_max.groupby(rows["symbol"], sort=False).shift(1)
    late = (rows["local"] < prev_max).to_numpy()
    report.add(
        "out_of_order",
        rows["row"].to_numpy()[late],
        [
            f"{s} {t}"
            for s, t in rows[late][["symbol", "local"]].head(EXAMPLES).itertuples(index=False)
        ],
    )
    return rows[~late].drop(columns="_pos")


def _to_utc(rows: pd.DataFrame, tz: str, report: FileReport) -> np.ndarray:
    """Local wall-clock times as naive UTC; times that do not exist locally become NaT."""
    utc = pd.DatetimeIndex(rows["local"]).tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    utc = utc.tz_convert(None).to_numpy()
    report.add("bad_timestamp", rows["row"].to_numpy()[np.isnat(utc)], None)
    return utc


def _interval_from_name(path: Path) -> str | None:
    """An interval hinted by the file name (``AAPL_1min.csv``), if any."""
    stem = _SUFFIXES.sub("", path.name).lower()
    for part in reversed(re.split(r"[_\-.\s]", stem)):
        if part in _NAME_HINTS:
            return _NAME_HINTS[part]
    return None


def _symbol_from_name(path: Path) -> str:
    """The symbol a file name stands for: ``AAPL_1min.csv.gz`` and ``AAPL_data.csv`` give AAPL."""
    stem = _SUFFIXES.sub("", path.name)
    parts = stem.split("_")
    while len(parts) > 1 and (parts[-1].lower() in _NAME_HINTS or parts[-1].lower() == "data"):
        parts.pop()
    return "_".join(parts).upper()


def _interval_from_steps(rows: pd.DataFrame) -> str:
    """The interval whose length is the most common step between a symbol's bars."""
    step = rows.groupby("symbol", sort=False)["local"].diff().dropna()
    step = step[step > pd.Timedelta(0)]
    if step.empty:
        raise ValueError("cannot infer the interval (fewer than two bars); pass interval=")
    minutes = int(step.mode().iloc[0] / pd.Timedelta(minutes=1))
    by_minutes = {m: name for name, m in INTERVAL_MINUTES.items() if m}
    if minutes not in by_minutes:
        raise ValueError(f"bars {minutes} minutes apart are not a known interval; pass interval=")
    return by_minutes[minutes]


def _looks_end_labelled(local: pd.Series, interval: str) -> bool:
    """True when no bar starts at 09:30 yet bars stamped 16:00 exist."""
    minutes = local.dt.hour * 60 + local.dt.minute
    return INTERVAL_MINUTES[interval] > 0 and not (minutes == 570).any() and (minutes == 960).any()
