"""Momentum and breakout scanners on the real eqker 2019 bars equal a pandas implementation.

For every session of the 1-minute set and every quarter hour of it, the scanners run on
a SessionData warmed from the store and advanced bar by bar; the expected symbols are
computed here from the CSV files with pandas alone, over each symbol's full history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scanner_breakout import BreakoutScanner
from scanner_momentum import MomentumScanner

from scanner_core import ScanContext
from scanner_core.calendar import TimeManager
from scanner_core.session import SessionData
from scanner_core.store import BarStore

FOLDER = "intraday/eqker_2019"
DAYS = pd.date_range("2019-02-11", "2019-02-15", freq="B").date
#: Looser than the defaults so that real bars give hits to compare, and the defaults.
CONFIGS = {
    "momentum": [{}, {"rsi_min": 60.0, "volume_ratio_min": 1.5}],
    "breakout": [{}, {"high_days": 5, "candle_top_fraction": 0.5}],
}


@pytest.fixture(scope="module")
def eqker(real_data, tmp_path_factory) -> tuple[BarStore, dict[str, pd.DataFrame]]:
    """The store of every eqker symbol's 1-minute and daily bars, and the CSVs as frames."""
    folder = real_data / FOLDER
    symbols = sorted(p.name.split("_")[0] for p in folder.glob("*_1min.csv"))
    store = BarStore(tmp_path_factory.mktemp("eqker"))
    store.import_files([folder / f"{s}_1min.csv" for s in symbols], timestamps="end")
    store.import_files([folder / f"{s}_daily.csv" for s in symbols])
    frames = {}
    for kind in ("1min", "daily"):
        parts = []
        for s in symbols:
            df = pd.read_csv(folder / f"{s}_{kind}.csv", parse_dates=["datetime"])
            parts.append(df.assign(symbol=s))
        frame = pd.concat(parts).sort_values(["symbol", "datetime"], ignore_index=True)
        if kind == "1min":  # bar-end labels: the bar starts a minute earlier
            frame["start"] = frame.datetime - pd.Timedelta(minutes=1)
        frames[kind] = frame
    return store, frames


def wilder_rsi(close: np.ndarray, period: int) -> float:
    """Wilder RSI of the last close: simple mean of the first p changes, then smoothing."""
    if len(close) < period + 1:
        return np.nan
    change = np.diff(close)
    gain, loss = np.maximum(change, 0), np.maximum(-change, 0)
    avg_gain, avg_loss = gain[:period].mean(), loss[:period].mean()
    for g, lo in zip(gain[period:], loss[period:], strict=True):
        avg_gain += (g - avg_gain) / period
        avg_loss += (lo - avg_loss) / period
    both = avg_gain + avg_loss
    return 50.0 if both == 0 else 100.0 * avg_gain / both


def expected(kind: str, config: dict, frames: dict, day, now: pd.Timestamp) -> list[str]:
    """The symbols a scanner should find at ``now`` (naive New York time), by pandas."""
    minutes = frames["1min"]
    seen = minutes[minutes.datetime <= now]  # bars closed by now
    daily = frames["daily"][frames["daily"].datetime.dt.date < day]
    found = []
    for symbol, bars in seen.groupby("symbol"):
        past = daily[daily.symbol == symbol]
        today = bars[bars.datetime.dt.date == day]
        last = bars.iloc[-1]
        volumes = bars.volume.to_numpy(float)
        window = config.get("volume_ratio_period", 20)
        mean = volumes[-window - 1 : -1].mean() if len(volumes) > window else np.nan
        ratio = volumes[-1] / mean if mean > 0 else np.nan
        traded = today.volume.sum() > 0
        if kind == "momentum":
            days = config.get("sma_days", 20)
            sma = past.close.tail(days).mean() if len(past) >= days else np.nan
            rsi = wilder_rsi(bars.close.to_numpy(float), config.get("rsi_period", 14))
            score = rsi
            ok = (
                rsi >= config.get("rsi_min", 70.0)
                and ratio >= config.get("volume_ratio_min", 2.0)
                and last.close > sma
            )
        else:
            days = config.get("high_days", 20)
            high = past.high.tail(days).max() if len(past) >= days else np.nan
            score = (last.close / high - 1) * 100
            span = last.high - last.low
            fraction = config.get("candle_top_fraction", 1 / 3)
            ok = (
                last.close > high
                and score > config.get("min_breakout_pct", 0.0)
                and ratio >= config.get("volume_ratio_min", 1.0)
                and last.close > last.open
                and span > 0
                and last.high - last.close <= fraction * span
            )
        if ok and traded:
            found.append((-score, symbol))
    return [symbol for _, symbol in sorted(found)]


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_scanner_symbols_equal_pandas_every_quarter_hour(eqker, kind):
    store, frames = eqker
    tm = TimeManager()
    checks = hits = 0
    for day in DAYS:
        open_, close = tm.open_close(day)
        session = SessionData(store, calendar=tm)
        session.set_time(pd.Timestamp(open_).tz_convert("UTC").tz_localize(None))
        session.add_symbols(store.symbols("1m"))
        scanners = []
        for config in CONFIGS[kind]:
            scanner = (MomentumScanner if kind == "momentum" else BreakoutScanner)(config)
            scanner.setup(ScanContext(session, tm, "backtest", open_))
            scanners.append((config, scanner))
        today = store.load("1m", None, open_, close)
        closes = today.ts + np.timedelta64(1, "m")
        previous = np.datetime64(pd.Timestamp(open_).tz_convert("UTC").tz_localize(None), "ns")
        for moment in pd.date_range(open_, close, freq="15min")[1:]:
            end = np.datetime64(moment.tz_convert("UTC").tz_localize(None), "ns")
            session.replay(today.take((closes > previous) & (closes <= end)))
            session.set_time(end)
            previous = end
            now = moment.tz_convert("America/New_York").tz_localize(None)
            context = ScanContext(session, tm, "backtest", moment.to_pydatetime())
            for config, scanner in scanners:
                result = scanner.scan(context).result()
                assert result.symbols == expected(kind, config, frames, day, now), (
                    day,
                    now,
                    config,
                )
                checks += 1
                hits += len(result.symbols)
    assert checks == len(DAYS) * 26 * len(CONFIGS[kind])
    assert hits > 0, "the real bars should give some hits to compare"
