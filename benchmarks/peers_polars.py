"""The momentum day in polars over the long frame (see peers_common for the rules).

Run by benchmarks/peers.py in its own environment: ``python peers_polars.py STORE DAY OUT``.
"""

from __future__ import annotations

import time

import peers_common as rules
import polars as pl


def wilder(side: pl.Expr, index: pl.Expr) -> pl.Expr:
    """Wilder's average of one side of the changes, seeded at the 15th bar."""
    seed = side.rolling_sum(rules.RSI_PERIOD) / rules.RSI_PERIOD
    seeded = pl.when(index < rules.RSI_PERIOD).then(None).when(index == rules.RSI_PERIOD).then(seed)
    return seeded.otherwise(side).ewm_mean(alpha=1 / rules.RSI_PERIOD, adjust=False)


def main() -> None:
    store, day, out = rules.arguments()
    started = time.perf_counter()
    minutes, daily = rules.inputs(store, day)
    scans = [t for t in rules.scan_times_utc(day)]
    # symbols stay categorical (as stored) while grouping, text for the few rows kept
    bars = pl.concat([pl.read_parquet(p) for p in minutes])
    five = (
        bars.group_by("symbol", pl.col("ts").dt.truncate(f"{rules.BAR_MINUTES}m").alias("bucket"))
        .agg(pl.col("close").last(), pl.col("volume").sum())
        .sort("symbol", "bucket")
    )
    index = pl.int_range(pl.len())
    change = pl.col("close").diff().fill_null(0.0)
    gain = wilder(change.clip(lower_bound=0.0), index).over("symbol")
    loss = wilder((-change).clip(lower_bound=0.0), index).over("symbol")
    before = pl.col("volume").rolling_mean(rules.RATIO_PERIOD).shift(1).over("symbol")
    end = pl.col("bucket") + pl.duration(minutes=rules.BAR_MINUTES)
    today = pl.col("bucket").dt.date() == day
    five = five.with_columns(
        rsi=pl.when(gain + loss > 0).then(100.0 * gain / (gain + loss)).otherwise(50.0),
        ratio=pl.when(before > 0).then(pl.col("volume") / before),
        traded=pl.col("volume").cum_sum().over("symbol", pl.col("bucket").dt.date()),
        end=end,
    ).filter(today & pl.col("end").is_in(scans))
    five = five.with_columns(pl.col("symbol").cast(pl.String))
    days = pl.concat([pl.read_parquet(p) for p in daily]).with_columns(
        pl.col("symbol").cast(pl.String)
    )
    sma = (
        days.filter(pl.col("ts").dt.date() < day)
        .sort("ts")
        .group_by("symbol")
        .agg(pl.col("close").tail(rules.SMA_DAYS).mean().alias("sma"), pl.len().alias("days"))
        .filter(pl.col("days") >= rules.SMA_DAYS)
    )
    hit = five.join(sma, on="symbol").filter(
        (pl.col("rsi") >= rules.RSI_MIN)
        & (pl.col("ratio") >= rules.RATIO_MIN)
        & (pl.col("close") > pl.col("sma"))
        & (pl.col("traded") > 0)
    )
    hits = {rules.key(t): [] for t in scans}
    for end_at, symbol in hit.select("end", "symbol").iter_rows():
        hits[rules.key(end_at)].append(symbol)
    rules.write_hits(out, hits, started)


if __name__ == "__main__":
    main()
