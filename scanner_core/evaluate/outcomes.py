"""Picks joined with their outcomes, and the two baselines measured the same way.

For each scan time, every symbol of the eligible universe (universe symbols with a
price by then, that session) is measured once. A pick reads its own row; the universe
baseline is the eligible universe's mean at that time; the random baseline draws, with
a seeded generator, as many symbols from the same eligible universe as the scan picked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from scanner_core.calendar import TimeManager
from scanner_core.evaluate.forward import ForwardReader, Measured
from scanner_core.evaluate.horizons import Horizon
from scanner_core.sources import BarSource

#: Per-horizon columns of a measured pick, in order.
MEASURES = ("return", "mfe", "mae", "hit", "complete")


def column(measure: str, horizon: str) -> str:
    """The name of one measure's column for one horizon, e.g. ``return_5m``."""
    return f"{measure}_{horizon}"


def evaluate(
    picks: pd.DataFrame,
    source: BarSource,
    calendar: TimeManager,
    base: str,
    universe: Sequence[str],
    horizons: Sequence[Horizon],
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The picks with price and measures per horizon, plus universe-baseline columns;
    and the random picks, with the same measure columns."""
    symbols = sorted(set(universe) | set(picks["symbol"]))
    reader = ForwardReader(source, calendar, base, symbols, horizons)
    in_universe = np.zeros(len(symbols), dtype=bool)
    in_universe[[reader.codes_of[s] for s in set(universe)]] = True
    rng = np.random.default_rng(seed)
    measured = picks.copy()
    columns = _empty_columns(len(picks), horizons)
    random_rows: list[dict] = []
    times = measured["time"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    codes = np.array([reader.codes_of[s] for s in measured["symbol"]], dtype=np.int64)
    for day, rows in _by_day(measured):
        reader.forget_before(day)
        index = reader.index(day)
        for moment in np.unique(times[rows]):
            at = rows[times[rows] == moment]
            m = reader.measure(day, index, moment)
            eligible = np.flatnonzero(in_universe & np.isfinite(m.price))
            _fill(columns, at, codes[at], m, horizons, eligible)
            random_rows += _random_picks(measured.iloc[at], m, eligible, horizons, rng, symbols)
    for name, values in columns.items():
        measured[name] = values
    return measured, _random_frame(random_rows, horizons)


def _by_day(picks: pd.DataFrame) -> list[tuple[dt.date, np.ndarray]]:
    days = pd.to_datetime(picks["day"]).dt.date.to_numpy()
    return [(d, np.flatnonzero(days == d)) for d in sorted(set(days))]


def _empty_columns(n: int, horizons: Sequence[Horizon]) -> dict[str, np.ndarray]:
    out = {"price": np.full(n, np.nan), "eligible": np.zeros(n, dtype=np.int64)}
    for h in horizons:
        for measure in ("return", "mfe", "mae"):
            out[column(measure, h.name)] = np.full(n, np.nan)
        out[column("hit", h.name)] = np.zeros(n, dtype=bool)
        out[column("complete", h.name)] = np.zeros(n, dtype=bool)
        out[column("universe_return", h.name)] = np.full(n, np.nan)
        out[column("universe_hit_rate", h.name)] = np.full(n, np.nan)
    return out


def _fill(columns, at, codes, m: Measured, horizons, eligible: np.ndarray) -> None:
    columns["price"][at] = m.price[codes]
    columns["eligible"][at] = len(eligible)
    for h in horizons:
        ret = m.returns[h.name]
        columns[column("return", h.name)][at] = ret[codes]
        columns[column("mfe", h.name)][at] = m.mfe[h.name][codes]
        columns[column("mae", h.name)][at] = m.mae[h.name][codes]
        with np.errstate(invalid="ignore"):
            columns[column("hit", h.name)][at] = ret[codes] > 0
        columns[column("complete", h.name)][at] = m.complete[h.name]
        known = eligible[np.isfinite(ret[eligible])]
        if len(known):
            columns[column("universe_return", h.name)][at] = ret[known].mean()
            columns[column("universe_hit_rate", h.name)][at] = (ret[known] > 0).mean()


def _random_picks(picks, m: Measured, eligible, horizons, rng, symbols) -> list[dict]:
    """As many symbols per scanner as it picked at this time, drawn from the eligible."""
    rows = []
    for scanner, count in picks.groupby("scanner", sort=False).size().items():
        drawn = rng.choice(eligible, size=min(count, len(eligible)), replace=False)
        for code in drawn.tolist():
            row = {"scanner": scanner, "time": picks["time"].iloc[0], "symbol": symbols[code]}
            for h in horizons:
                ret = float(m.returns[h.name][code])
                row[column("return", h.name)] = ret
                row[column("mfe", h.name)] = float(m.mfe[h.name][code])
                row[column("mae", h.name)] = float(m.mae[h.name][code])
                row[column("hit", h.name)] = bool(ret > 0)
                row[column("complete", h.name)] = m.complete[h.name]
            rows.append(row)
    return rows


def _random_frame(rows: list[dict], horizons: Sequence[Horizon]) -> pd.DataFrame:
    names = ["scanner", "time", "symbol"] + [
        column(measure, h.name) for h in horizons for measure in MEASURES
    ]
    return pd.DataFrame(rows, columns=names)
