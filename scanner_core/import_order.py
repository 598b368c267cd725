"""A file's accepted rows put in order: exact duplicates collapsed, conflicting ones and
stragglers rejected, newest-first symbols reversed, rows sorted by (symbol, time).

Most files hold each symbol's bars strictly ascending (or strictly descending): that is
checked over the whole file with numpy and costs a sort.  Any other file goes through the
general rules, written once with pandas.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from attrs import frozen

from scanner_core.bars import FIELDS
from scanner_core.import_report import EXAMPLES, FileReport, shown


@frozen(eq=False)
class Rows:
    """Rows of one file: symbol codes into ``names``, times, OHLCV, and each row's
    position among the file's rows (``index``) and file row number (``row``)."""

    names: tuple[str, ...]
    code: np.ndarray
    ts: np.ndarray
    values: dict[str, np.ndarray]
    index: np.ndarray
    row: np.ndarray

    def take(self, rows: np.ndarray) -> Rows:
        """The rows selected by a mask or an index array."""
        values = {f: v[rows] for f, v in self.values.items()}
        return Rows(
            self.names, self.code[rows], self.ts[rows], values, self.index[rows], self.row[rows]
        )


def put_in_order(rows: Rows, report: FileReport, stamp: Callable[[int], str]) -> Rows:
    """The rows deduplicated and ordered by symbol name then time; ``stamp(index)`` is a
    row's time as written, for the report's examples."""
    order = _monotonic_order(rows)
    if order is not None:
        return rows.take(order)
    return _general_order(rows, report, stamp)


def _monotonic_order(rows: Rows) -> np.ndarray | None:
    """The sorting order when every symbol's times strictly rise, or strictly fall, down
    the file (so nothing repeats or straggles); None otherwise."""
    rank = np.argsort(np.argsort(np.asarray(rows.names, dtype=str), kind="stable"))
    key = rank[rows.code]
    by_symbol = np.argsort(key, kind="stable")
    k, t = key[by_symbol], rows.ts[by_symbol].astype(np.int64)
    same = k[1:] == k[:-1]
    sign = np.sign(np.diff(t))
    if (sign[same] == 0).any() or (same[1:] & same[:-1] & (sign[1:] != sign[:-1])).any():
        return None
    falls = same & (sign < 0)
    if not falls.any():
        return by_symbol
    group = np.r_[0, np.cumsum(~same)]
    group_falls = np.zeros(group[-1] + 1, bool)
    group_falls[group[1:][falls]] = True
    falling = np.empty(len(key), bool)
    falling[by_symbol] = group_falls[group]
    position = np.arange(len(key))
    return np.lexsort((np.where(falling, -position, position), key))


def _general_order(rows: Rows, report: FileReport, stamp: Callable[[int], str]) -> Rows:
    """The ordering rules for any file, by pandas groupby."""
    import pandas as pd

    names = np.asarray(rows.names, dtype=object)
    frame = pd.DataFrame(
        {"symbol": names[rows.code], "t": rows.ts, **rows.values, "at": np.arange(len(rows.ts))}
    )
    frame["stamp"] = [stamp(i) for i in rows.index]
    frame["row"] = rows.row
    frame = _drop_duplicates(frame, report)
    frame = _order(frame, report)
    return rows.take(frame["at"].to_numpy())


def _drop_duplicates(rows, report: FileReport):
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
    report.add("conflicting_duplicate", rows["row"].to_numpy()[conflict], _examples(rows[conflict]))
    return rows[~exact & ~conflict]


def _order(rows, report: FileReport):
    """Rows in ascending time per symbol; newest-first symbols reversed; stragglers rejected."""
    import pandas as pd

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
    report.add("out_of_order", rows["row"].to_numpy()[late], _examples(rows[late]))
    return rows[~late].drop(columns="_pos")


def _examples(rows) -> list[str]:
    """Symbol and time text of the first few rows."""
    return [
        f"{shown(s)} {shown(t)}"
        for s, t in rows[["symbol", "stamp"]].head(EXAMPLES).itertuples(index=False)
    ]
