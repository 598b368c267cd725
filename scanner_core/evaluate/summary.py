"""The summary of a backtest's picks: per scanner, by horizon and by time of day,
against the two baselines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scanner_core.evaluate.horizons import Horizon
from scanner_core.evaluate.outcomes import column

#: Minutes per time-of-day bucket.
BUCKET_MINUTES = 30


def time_buckets(times: pd.Series, tz: str) -> pd.Series:
    """Each time's bucket in exchange time, named by its start ("10:30")."""
    local = times.dt.tz_convert(tz)
    minute = (local.dt.hour * 60 + local.dt.minute) // BUCKET_MINUTES * BUCKET_MINUTES
    return (minute // 60).map("{:02d}".format) + ":" + (minute % 60).map("{:02d}".format)


def stats(frame: pd.DataFrame, horizon: str) -> dict[str, Any]:
    """Picks, complete picks, hit rate, mean and median return, mean MFE and MAE over the
    complete ones (None when there is none)."""
    done = frame[frame[column("complete", horizon)].astype(bool)]
    returns = done[column("return", horizon)].dropna()
    return {
        "picks": len(frame),
        "complete": len(returns),
        "hit_rate": _number((returns > 0).mean()) if len(returns) else None,
        "mean": _number(returns.mean()),
        "median": _number(returns.median()),
        "mfe_mean": _number(done[column("mfe", horizon)].mean()),
        "mae_mean": _number(done[column("mae", horizon)].mean()),
    }


def summarize(
    picks: pd.DataFrame,
    random: pd.DataFrame,
    horizons: Sequence[Horizon],
    tz: str,
    scanners: Sequence[str],
) -> dict[str, Any]:
    """Per scanner: picks per day, and per horizon its stats, the universe's mean and hit
    rate at the same times, the random picks' stats, and the stats per time-of-day bucket."""
    buckets = time_buckets(picks["time"], tz) if len(picks) else pd.Series(dtype=str)
    out: dict[str, Any] = {}
    for name in scanners:
        mine = picks[picks["scanner"] == name]
        theirs = random[random["scanner"] == name]
        by_horizon, by_time = {}, {}
        for h in horizons:
            row = stats(mine, h.name)
            done = mine[mine[column("complete", h.name)].astype(bool)]
            row["universe"] = {
                "mean": _number(done[column("universe_return", h.name)].mean()),
                "hit_rate": _number(done[column("universe_hit_rate", h.name)].mean()),
            }
            drawn = stats(theirs, h.name)
            row["random"] = {k: drawn[k] for k in ("complete", "hit_rate", "mean", "median")}
            by_horizon[h.name] = row
            by_time[h.name] = {
                bucket: {
                    k: v
                    for k, v in stats(group, h.name).items()
                    if k in ("picks", "complete", "hit_rate", "mean", "median")
                }
                for bucket, group in mine.groupby(buckets[mine.index], sort=True)
            }
        out[name] = {
            "picks": len(mine),
            "symbols": int(mine["symbol"].nunique()),
            "picks_per_day": {str(d): int(n) for d, n in mine.groupby("day").size().items()},
            "by_horizon": by_horizon,
            "by_time_of_day": by_time,
        }
    return out


def _number(value: Any) -> float | None:
    """A plain float for JSON, None for NaN or a missing value."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def attribution(picks: pd.DataFrame, horizons: Sequence[Horizon], tz: str) -> pd.DataFrame:
    """One row per (symbol, scanner): picks, first and last time found, best rank, and the
    mean return per horizon over its complete picks."""
    if not len(picks):
        return pd.DataFrame(columns=["symbol", "scanner", "picks", "first", "last", "best_rank"])
    frame = picks.copy()
    for h in horizons:
        done = frame[column("complete", h.name)].astype(bool)
        frame[h.name] = np.where(done, frame[column("return", h.name)], np.nan)
    local = frame["time"].dt.tz_convert(tz)
    frame["local"] = local.dt.strftime("%Y-%m-%d %H:%M")
    grouped = frame.groupby(["symbol", "scanner"], sort=True)
    table = grouped.agg(
        picks=("rank", "size"),
        first=("local", "min"),
        last=("local", "max"),
        best_rank=("rank", "min"),
        **{h.name: (h.name, "mean") for h in horizons},
    )
    return table.reset_index()
