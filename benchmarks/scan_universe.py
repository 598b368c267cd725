"""One scan of the four example scanners over a warm universe, against a pandas recompute.

Run: ``python benchmarks/scan_universe.py [--symbols 8000] [--scans 100] [--minutes 120]``.

Writes a seeded random walk into a temporary bar store: ``--days`` completed sessions of
daily bars, the last ``--intraday-days`` of them also as 1-minute bars, and today's first
``--minutes`` + ``--scans`` minutes, as a backtest's store holds the day it replays. The
session is warmed from the store at the open (every scanner's setup registers its
indicators) and today's first ``--minutes`` minutes are replayed through SessionData.
Then, ``--scans`` times, one more minute is replayed (untimed) and gap, momentum, volume
and breakout scan the universe once each, so every timed scan is the first at its bar,
as in a session, and reuses nothing computed for an earlier bar: p50 and p95
milliseconds per scan, for the four together and for each. The same criteria are then
recomputed with pandas from the stored history (groupby + rolling) ``--pandas-runs``
times at the last scan's time, the ratio printed and the symbols found compared.
A scanner that fails its first scan is reported and left out of the timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scanner_breakout import BreakoutScanner
from scanner_gap import GapScanner
from scanner_momentum import MomentumScanner
from scanner_volume import VolumeScanner

from scanner_core import BaseScanner, ScanContext
from scanner_core.bars import Bars
from scanner_core.calendar import TimeManager
from scanner_core.session import SessionData
from scanner_core.store import BarStore

TODAY = dt.date(2019, 2, 12)
SCANNERS: dict[str, type[BaseScanner]] = {
    "gap": GapScanner,
    "momentum": MomentumScanner,
    "volume": VolumeScanner,
    "breakout": BreakoutScanner,
}


def walk(rng: np.random.Generator, times: np.ndarray, n: int, start: np.ndarray, step: float):
    """Random-walk OHLCV (time x symbol) from ``start`` prices: open, high, low, close, volume."""
    close = start * np.exp(np.cumsum(rng.normal(0.0003, step, (len(times), n)), axis=0))
    open_ = np.vstack([start[None, :], close[:-1]]) * np.exp(rng.normal(0, step / 4, close.shape))
    spread = np.abs(rng.normal(0, step / 2, close.shape)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.lognormal(9, 1.2, close.shape).round()
    return open_, high, low, close, volume


def to_bars(interval: str, symbols: tuple[str, ...], times: np.ndarray, ohlcv) -> Bars:
    """A (time x symbol) block of OHLCV as Bars sorted by (ts, code)."""
    n = len(symbols)
    return Bars(
        interval,
        symbols,
        np.tile(np.arange(n, dtype=np.int32), len(times)),
        np.repeat(times.astype("datetime64[ns]"), n),
        *(a.reshape(-1) for a in ohlcv),
    )


def minute_times(tm: TimeManager, day: dt.date, minutes: int) -> np.ndarray:
    """UTC starts of the first ``minutes`` regular 1-minute bars of a session."""
    open_, _ = tm.open_close(day)
    start = np.datetime64(pd.Timestamp(open_).tz_convert("UTC").tz_localize(None), "ns")
    return start + np.arange(minutes) * np.timedelta64(1, "m")


def build_store(
    root: str, n: int, days: int, intraday_days: int, minutes: int, seed: int
) -> tuple[BarStore, Bars]:
    """Write the history and today's first ``minutes`` into a store at root; today's bars."""
    tm = TimeManager()
    rng = np.random.default_rng(seed)
    symbols = tuple(f"S{i:05d}" for i in range(n))
    history_days = tm.sessions(TODAY - dt.timedelta(days=3 * days), TODAY - dt.timedelta(days=1))
    history_days = history_days[-days:]
    start = rng.uniform(5, 400, n)
    daily = walk(rng, np.array(history_days, "datetime64[D]"), n, start, 0.02)
    store = BarStore(root)
    store.write(to_bars("1d", symbols, np.array(history_days, "datetime64[D]"), daily))
    last_close = daily[3][-1]
    for day in [*history_days[-intraday_days:], TODAY]:
        times = minute_times(tm, day, 390 if day != TODAY else minutes)
        # each day opens with a gap around the last daily close so some symbols gap
        opening = last_close * np.exp(rng.normal(0, 0.02, n))
        bars = to_bars("1m", symbols, times, walk(rng, times, n, opening, 0.002))
        store.write(bars)
    return store, bars


def warm_session(store: BarStore, today: Bars) -> tuple[SessionData, ScanContext, dict]:
    """A session warmed from the store at the open, ``today`` replayed; the context and the
    scanners that run."""
    tm = TimeManager()
    session = SessionData(store, calendar=tm, symbol_capacity=len(today.symbols))
    open_, _ = tm.open_close(TODAY)
    session.set_time(pd.Timestamp(open_).tz_convert("UTC").tz_localize(None))
    session.add_symbols(today.symbols)
    context = ScanContext(session, tm, "backtest", open_)
    scanners = {}
    for name, kind in SCANNERS.items():
        scanner = kind()
        scanner.name = name
        scanner.setup(context)
        scanners[name] = scanner
    session.replay(today)
    follow_clock(context)
    runnable = {}
    for name, scanner in scanners.items():
        try:
            result = scanner.scan(context)
        except Exception as exc:  # a scanner still being written must not stop the benchmark
            print(f"{name}: left out, its scan raised {type(exc).__name__}: {exc}")
            continue
        print(f"{name}: {len(result.symbols)} symbols found")
        runnable[name] = scanner
    return session, context, runnable


def follow_clock(context: ScanContext) -> None:
    """Move the context and its calendar to the session clock (the newest bar's close)."""
    context.current_time = context.session_data.current_time.to_pydatetime()
    context.time_manager.set_time(context.current_time)


def minutes_of(bars: Bars) -> list[Bars]:
    """Bars split into one Bars per timestamp, in order."""
    bounds = (np.flatnonzero(bars.ts[1:] != bars.ts[:-1]) + 1).tolist()
    starts, ends = [0, *bounds], [*bounds, len(bars)]
    return [bars.take(slice(lo, hi)) for lo, hi in zip(starts, ends, strict=True)]


def time_scans(context: ScanContext, scanners: dict, later: list[Bars]) -> dict[str, np.ndarray]:
    """Milliseconds per scan, one round per bar of ``later`` replayed first (untimed):
    each scanner, and the four together."""
    times = {name: np.empty(len(later)) for name in [*scanners, "together"]}
    clock = time.perf_counter
    for i, minute in enumerate(later):
        context.session_data.replay(minute)
        follow_clock(context)
        t_round = clock()
        for name, scanner in scanners.items():
            t0 = clock()
            scanner.scan(context)
            times[name][i] = clock() - t0
        times["together"][i] = clock() - t_round
    return {name: t * 1e3 for name, t in times.items()}


def wilder_rsi(close: pd.Series, keys: pd.Series, period: int) -> pd.Series:
    """RSI per symbol with Wilder smoothing (pandas' ewm with alpha = 1/period)."""
    change = close.groupby(keys).diff()

    def smooth(x: pd.Series) -> pd.Series:
        return x.groupby(keys).ewm(alpha=1 / period, adjust=False).mean().droplevel(0)

    gain, loss = smooth(change.clip(lower=0)), smooth(-change.clip(upper=0))
    return 100 * gain / (gain + loss)


def pandas_scan(daily: pd.DataFrame, minutes: pd.DataFrame, now: np.datetime64) -> dict:
    """The four scanners' criteria from the stored history, recomputed with pandas."""
    minutes = minutes[minutes.ts < now]
    day = minutes.ts.dt.tz_localize("UTC").dt.tz_convert("America/New_York").dt.date
    today = minutes[day == TODAY]
    keys = minutes.symbol
    d = daily.groupby("symbol")
    sma20 = d.close.rolling(20).mean().groupby(level=0).last()
    high20 = d.high.rolling(20).max().groupby(level=0).last()
    vol = minutes.groupby("symbol").volume
    ratio = minutes.volume / vol.rolling(20).mean().droplevel(0).groupby(keys).shift(1)
    rsi = wilder_rsi(minutes.close, keys, 14)
    last = minutes.assign(rsi=rsi, ratio=ratio).groupby("symbol").last()
    momentum = (last.rsi >= 70) & (last.ratio >= 2) & (last.close > sma20)
    span = last.high - last.low
    bullish = (last.close > last.open) & (span > 0) & (last.high - last.close <= span / 3)
    breakout = (last.close > high20) & (last.ratio >= 1) & bullish
    # gap: first bar's open today against the last close before today, opening volume
    prev_close = minutes[day != TODAY].groupby("symbol").close.last()
    first = today.groupby("symbol").first()
    gap = (first.open / prev_close - 1) * 100
    opening = today[today.ts < today.ts.min() + pd.Timedelta(minutes=5)]
    opening_volume = opening.groupby("symbol").volume.sum()
    gapped = (gap.abs() >= 2) & (opening_volume >= 1e6) & (first.open <= 500)
    # volume: today's cumulative volume against the average at the same minute on past days
    minute_of_day = minutes.ts.dt.hour * 60 + minutes.ts.dt.minute
    cumulative = minutes.assign(day=day, m=minute_of_day)
    cumulative["cum"] = cumulative.groupby(["symbol", "day"]).volume.cumsum()
    now_minute = minute_of_day[day == TODAY].max()
    at_minute = cumulative[cumulative.m == now_minute]
    past = at_minute[at_minute.day != TODAY].groupby("symbol").cum.mean()
    current = at_minute[at_minute.day == TODAY].set_index("symbol").cum
    change = (last.close / prev_close - 1) * 100
    unusual = (current >= 3 * past) & (change.abs() >= 1)
    return {
        name: set(mask[mask].index)
        for name, mask in (
            ("gap", gapped),
            ("momentum", momentum),
            ("volume", unusual),
            ("breakout", breakout),
        )
    }


def frame(bars: Bars) -> pd.DataFrame:
    """Bars as a long DataFrame with a symbol column."""
    symbols = np.asarray(bars.symbols, dtype=object)[bars.code]
    columns = {f: getattr(bars, f) for f in ("ts", "open", "high", "low", "close", "volume")}
    return pd.DataFrame({"symbol": symbols, **columns})


def percentiles(label: str, ms: np.ndarray) -> str:
    return f"{label:>9}: p50 {np.percentile(ms, 50):8.3f} ms   p95 {np.percentile(ms, 95):8.3f} ms"


def timed(fn: Callable[[], object], runs: int) -> tuple[np.ndarray, object]:
    out, times = None, np.empty(runs)
    for i in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times[i] = (time.perf_counter() - t0) * 1e3
    return times, out


def main() -> None:
    """Build the store, warm the session, time the scans and the pandas recompute."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--days", type=int, default=25, help="completed sessions of history")
    parser.add_argument("--intraday-days", type=int, default=10, help="of them with 1m bars")
    parser.add_argument("--minutes", type=int, default=120, help="minutes of today replayed")
    parser.add_argument("--pandas-runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.minutes + args.scans > 390:
        parser.error("--minutes + --scans must fit in one 390-minute session")
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        store, today = build_store(
            root, args.symbols, args.days, args.intraday_days, args.minutes + args.scans, args.seed
        )
        replayed = today.take(today.ts < np.unique(today.ts)[args.minutes])
        session, context, scanners = warm_session(store, replayed)
        print(f"store + warm-up + replay: {time.perf_counter() - t0:.1f} s")
        ms = time_scans(context, scanners, minutes_of(today.take(today.ts >= replayed.ts[-1] + 1)))
        names = " + ".join(scanners)
        print(
            f"{args.symbols:,} symbols, {args.scans} scans, each at a new bar, "
            f"the last at {session.current_time}"
        )
        for name in scanners:
            print(percentiles(name, ms[name]))
        print(percentiles("together", ms["together"]) + f"   ({names})")
        daily = frame(store.load("1d"))
        minutes = frame(store.load("1m"))
        now = session.current_time.tz_convert(None).to_datetime64()
        pandas_ms, found = timed(lambda: pandas_scan(daily, minutes, now), args.pandas_runs)
    print(percentiles("pandas", pandas_ms) + f"   ({args.pandas_runs} runs, all four criteria)")
    ratio = np.percentile(pandas_ms, 50) / np.percentile(ms["together"], 50)
    print(f"pandas p50 / scanners p50: {ratio:,.0f}x")
    for name, scanner in scanners.items():
        ours = set(scanner.scan(context).symbols)
        theirs = found[name]
        print(f"{name:>9}: scanner {len(ours)}, pandas {len(theirs)}, in both {len(ours & theirs)}")


if __name__ == "__main__":
    main()
