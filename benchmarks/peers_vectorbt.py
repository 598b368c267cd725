"""The momentum day with vectorbt's numba kernels over wide time x symbol arrays (see
peers_common for the rules); bars are read and bucketed with pandas, as vectorbt does.

Run by benchmarks/peers.py in its own environment: ``python peers_vectorbt.py STORE DAY OUT``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import peers_common as rules
import vectorbt  # noqa: F401  (the package whose kernels these are)
from vectorbt.generic import nb

#: ewm_mean_nb's span for Wilder's alpha 1 / RSI_PERIOD.
SPAN = 2 * rules.RSI_PERIOD - 1


def wilder(side: np.ndarray) -> np.ndarray:
    """Wilder's average of one side of the changes, seeded at the 15th bar."""
    seeded = side.copy()
    seeded[: rules.RSI_PERIOD] = np.nan
    seeded[rules.RSI_PERIOD] = side[1 : rules.RSI_PERIOD + 1].sum(axis=0) / rules.RSI_PERIOD
    return nb.ewm_mean_nb(seeded, SPAN, 0, False)


def main() -> None:
    store, day, out = rules.arguments()
    started = time.perf_counter()
    minutes, daily = rules.inputs(store, day)
    close_frame, volume_frame = rules.wide_bars(minutes)
    symbols, times = close_frame.columns, close_frame.index
    close, volume = close_frame.to_numpy(), volume_frame.to_numpy()
    change = np.vstack([np.zeros((1, close.shape[1])), np.diff(close, axis=0)])
    gain, loss = wilder(np.maximum(change, 0.0)), wilder(np.maximum(-change, 0.0))
    both = gain + loss
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = np.where(both > 0, 100.0 * gain / both, np.where(np.isnan(both), np.nan, 50.0))
        before = np.vstack(
            [
                np.full((1, volume.shape[1]), np.nan),
                nb.rolling_mean_nb(volume, rules.RATIO_PERIOD)[:-1],
            ]
        )
        ratio = np.where(before > 0, volume / before, np.nan)
    today = times.date == day
    traded = np.where(today[:, None], np.cumsum(np.where(today[:, None], volume, 0.0), axis=0), 0.0)
    days = rules.read_pandas(daily)
    days = days[days["ts"].dt.date < day].pivot(index="ts", columns="symbol", values="close")
    days = days.reindex(columns=symbols)
    sma = nb.rolling_mean_nb(days.to_numpy(), rules.SMA_DAYS)[-1]
    hits = {}
    for t in rules.scan_times_utc(day):
        row = times.get_loc(pd.Timestamp(t) - pd.Timedelta(minutes=rules.BAR_MINUTES))
        with np.errstate(invalid="ignore"):
            passed = (
                (rsi[row] >= rules.RSI_MIN)
                & (ratio[row] >= rules.RATIO_MIN)
                & (close[row] > sma)
                & (traded[row] > 0)
            )
        hits[rules.key(t)] = list(symbols[passed])
    rules.write_hits(out, hits, started)


if __name__ == "__main__":
    main()
