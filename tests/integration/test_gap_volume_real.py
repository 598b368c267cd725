"""Gap and volume scanners on the real eqker 1-minute bars equal a pandas recompute from the CSVs.

The eqker set has no extended-hours bars, so the gap scanner runs in opening mode.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scanner_gap import GapScanner
from scanner_volume import VolumeScanner

from scanner_core import ScanContext
from scanner_core.calendar import TimeManager
from scanner_core.session import SessionData
from scanner_core.store import BarStore

TM = TimeManager("XNYS")
DAYS = [dt.date(2019, 2, d) for d in (11, 12, 13, 14, 15)]
OPEN = pd.Timedelta(hours=9, minutes=30)


@pytest.fixture(scope="module")
def eqker(real_data, tmp_path_factory) -> tuple[BarStore, pd.DataFrame]:
    """Every eqker 1-minute file in a store, and the same bars as one start-labelled frame."""
    files = sorted((real_data / "intraday/eqker_2019").glob("*_1min.csv"))
    store = BarStore(tmp_path_factory.mktemp("eqker"))
    report = store.import_files(files, timestamps="end")
    assert report.totals()["failed_files"] == 0
    frames = [pd.read_csv(f).assign(symbol=f.name.split("_")[0]) for f in files]
    bars = pd.concat(frames, ignore_index=True)
    bars["start"] = pd.to_datetime(bars["datetime"]) - pd.Timedelta(minutes=1)
    bars["day"] = bars["start"].dt.normalize()
    return store, bars.sort_values(["symbol", "start"]).reset_index(drop=True)


def run_scan(store: BarStore, scanner, symbols: list[str], at: pd.Timestamp):
    """A fresh session over ``symbols`` that streams the day's bars up to ``at``, then scans."""
    session = SessionData(store, calendar=TM)
    session.track(symbols)
    at_utc = at.tz_localize(TM.tz).tz_convert("UTC")
    session.set_time(at.normalize().tz_localize(TM.tz) + pd.Timedelta(hours=4))
    context = ScanContext(session, TM, "backtest", at_utc.to_pydatetime())
    assert scanner.setup(context)
    day = store.load("1m", symbols, at.date(), at_utc)
    session.replay(day.take(day.ts + np.timedelta64(1, "m") <= at_utc.tz_localize(None)))
    session.set_time(at_utc)
    return scanner.scan(context).result()


def previous_close(bars: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Each symbol's last close in the session before ``day`` (absent if it had no bars)."""
    before = bars[bars["day"] == max(d for d in bars["day"].unique() if d < day)]
    return before.groupby("symbol")["close"].last()


def best_first(table: pd.DataFrame, score: pd.Series) -> pd.DataFrame:
    """Rows by score, highest first, ties by symbol."""
    return table.iloc[np.lexsort((table.index.to_numpy(), -score.to_numpy()))]


def expected_gaps(bars: pd.DataFrame, day: pd.Timestamp, cfg: dict) -> pd.DataFrame:
    window = bars[
        (bars["start"] >= day + OPEN)
        & (bars["start"] < day + OPEN + pd.Timedelta(minutes=cfg["opening_minutes"]))
    ]
    table = window.groupby("symbol").agg(price=("open", "first"), volume=("volume", "sum"))
    table["prev_close"] = previous_close(bars, day)
    table["gap_pct"] = (table["price"] / table["prev_close"] - 1) * 100
    hits = table[
        (table["gap_pct"].abs() >= cfg["min_gap_pct"])
        & (table["volume"] >= cfg["opening_min_volume"])
        & (table["price"] <= cfg["max_price"])
    ]
    return best_first(hits, hits["gap_pct"].abs())


@pytest.mark.parametrize(
    "cfg",
    [
        {"min_gap_pct": 0.5, "opening_minutes": 5, "opening_min_volume": 50_000, "max_price": 500},
        {
            "min_gap_pct": 1.0,
            "opening_minutes": 15,
            "opening_min_volume": 200_000,
            "max_price": 200,
        },
        {"min_gap_pct": 2.0, "opening_minutes": 5, "opening_min_volume": 1e6, "max_price": 500},
    ],
)
def test_gap_opening_mode_matches_pandas_on_every_day(eqker, cfg):
    store, bars = eqker
    symbols = sorted(bars["symbol"].unique())
    total = 0
    for day in DAYS[1:]:
        at = pd.Timestamp(day) + OPEN + pd.Timedelta(minutes=cfg["opening_minutes"] + 10)
        result = run_scan(store, GapScanner(cfg), symbols, at)
        expected = expected_gaps(bars, pd.Timestamp(day), cfg)
        assert result.metadata["mode"] == "opening"
        assert result.symbols == expected.index.tolist(), day
        for symbol, row in expected.iterrows():
            got = result.metadata["values"][symbol]
            assert got["gap_pct"] == pytest.approx(row["gap_pct"], rel=1e-12)
            assert got["volume"] == row["volume"]
        total += len(expected)
    assert total > 0


def same_time_volume(bars: pd.DataFrame, day: pd.Timestamp, minute: int) -> pd.Series:
    """Each symbol's volume of ``day``'s bars starting before open + ``minute``."""
    cut = bars[(bars["day"] == day) & (bars["start"] < day + OPEN + pd.Timedelta(minutes=minute))]
    return cut.groupby("symbol")["volume"].sum()


def expected_volume(bars: pd.DataFrame, day: pd.Timestamp, minute: int, cfg: dict) -> pd.DataFrame:
    past = sorted(d for d in bars["day"].unique() if d < day)[-cfg["lookback_days"] :]
    curves = pd.concat([same_time_volume(bars, d, minute) for d in past], axis=1)
    traded = pd.concat([bars[bars["day"] == d].groupby("symbol").size() for d in past], axis=1)
    complete = traded.notna().all(axis=1)
    table = pd.DataFrame({"average": curves.fillna(0).sum(axis=1) / len(past)})
    table = table[complete.reindex(table.index, fill_value=False)]
    table["cumulative"] = same_time_volume(bars, day, minute).reindex(table.index, fill_value=0)
    visible = bars[bars["start"] < day + OPEN + pd.Timedelta(minutes=minute)]
    table["price"] = visible.groupby("symbol")["close"].last()
    table["prev_close"] = previous_close(bars, day)
    table["multiple"] = table["cumulative"] / table["average"]
    table["change"] = (table["price"] / table["prev_close"] - 1) * 100
    moved = table["change"] if cfg["change"] == "up" else table["change"].abs()
    hits = table[
        (table["average"] > 0)
        & (table["multiple"] >= cfg["min_multiple"])
        & (moved >= cfg["min_change_pct"])
    ]
    return best_first(hits, hits["multiple"])


@pytest.mark.parametrize(
    "cfg",
    [
        {"lookback_days": 2, "min_multiple": 1.2, "min_change_pct": 0.5, "change": "absolute"},
        {"lookback_days": 3, "min_multiple": 1.0, "min_change_pct": 0.2, "change": "up"},
        {"lookback_days": 2, "min_multiple": 3.0, "min_change_pct": 1.0, "change": "absolute"},
    ],
)
def test_volume_matches_pandas_at_several_times_of_every_day(eqker, cfg):
    store, bars = eqker
    symbols = sorted(bars["symbol"].unique())
    total = 0
    for day in DAYS[cfg["lookback_days"] :]:
        for minute in (15, 95, 300):
            at = pd.Timestamp(day) + OPEN + pd.Timedelta(minutes=minute)
            result = run_scan(store, VolumeScanner(cfg), symbols, at)
            expected = expected_volume(bars, pd.Timestamp(day), minute, cfg)
            assert result.metadata["minute"] == minute
            assert result.symbols == expected.index.tolist(), (day, minute)
            for symbol, row in expected.iterrows():
                got = result.metadata["values"][symbol]
                assert got["volume_multiple"] == pytest.approx(row["multiple"], rel=1e-9)
                assert got["change_pct"] == pytest.approx(row["change"], rel=1e-9)
            total += len(expected)
    if cfg["min_multiple"] < 3:
        assert total > 0
