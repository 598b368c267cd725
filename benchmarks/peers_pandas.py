"""The momentum day in pandas over wide frames, time x symbol (see peers_common for the
rules). Every symbol of the workload has every bar, so the frames have no gaps.

Run by benchmarks/peers.py in its own environment: ``python peers_pandas.py STORE DAY OUT``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import peers_common as rules


def wilder(side: pd.DataFrame) -> pd.DataFrame:
    """Wilder's average of one side of the changes, seeded at the 15th bar."""
    seeded = side.copy()
    seeded.iloc[: rules.RSI_PERIOD] = np.nan
    seeded.iloc[rules.RSI_PERIOD] = side.iloc[1 : rules.RSI_PERIOD + 1].sum() / rules.RSI_PERIOD
    return seeded.ewm(alpha=1 / rules.RSI_PERIOD, adjust=False).mean()


def main() -> None:
    store, day, out = rules.arguments()
    started = time.perf_counter()
    minutes, daily = rules.inputs(store, day)
    close, volume = rules.wide_bars(minutes)
    change = close.diff()
    change.iloc[0] = 0.0
    gain, loss = wilder(change.clip(lower=0.0)), wilder((-change).clip(lower=0.0))
    both = gain + loss
    rsi = (100.0 * gain / both).where(both > 0, 50.0).where(both.notna())
    before = volume.rolling(rules.RATIO_PERIOD).mean().shift(1)
    ratio = (volume / before).where(before > 0)
    is_today = close.index.date == day
    traded = volume[is_today].cumsum()
    days = rules.read_pandas(daily)
    days = days[days["ts"].dt.date < day].pivot(index="ts", columns="symbol", values="close")
    sma = (
        days.tail(rules.SMA_DAYS).mean().where(days.tail(rules.SMA_DAYS).count() >= rules.SMA_DAYS)
    )
    scans = rules.scan_times_utc(day)
    hits = {}
    for t in scans:
        at = pd.Timestamp(t) - pd.Timedelta(minutes=rules.BAR_MINUTES)
        passed = (
            (rsi.loc[at] >= rules.RSI_MIN)
            & (ratio.loc[at] >= rules.RATIO_MIN)
            & (close.loc[at] > sma.reindex(close.columns))
            & (traded.loc[at] > 0)
        )
        hits[rules.key(t)] = list(passed.index[passed.to_numpy()])
    rules.write_hits(out, hits, started)


if __name__ == "__main__":
    main()
