"""`scanner backtest` over a store of daily bars only (the bundled S&P 500 sample): picks
at the close, or before the open, priced and measured N sessions on, checked against
pandas over the vendor's CSV files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtests import ROOT, backtest

from scanner_core.calendar import TimeManager
from scanner_core.evaluate.horizons import DAILY_HORIZONS, parse_horizons
from scanner_core.evaluate.outcomes import evaluate
from scanner_core.evaluate.picks import picks_frame
from scanner_core.sources import BarSource
from scanner_core.store import BarStore

DATA = ROOT / "examples/data/sp500_2017"
CONFIG = """mode = "backtest"
start_date = 2017-11-01
end_date = 2018-02-07
[data]
store = "store"
[universe]
all = true
[[scanners]]
module = "breakout"
max_symbols = 5
config = { interval = "1d", high_days = 20, volume_ratio_min = 1.0 }
"""


@pytest.fixture(scope="module")
def daily(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("daily")
    BarStore(folder / "store").import_files([DATA])
    (folder / "daily.toml").write_text(CONFIG)
    return folder / "daily.toml"


@pytest.fixture(scope="module")
def written(daily) -> tuple[pd.DataFrame, dict]:
    out = daily.parent / "out"
    result = backtest(str(daily), "--out", str(out))
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out / "picks.parquet"), json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def vendor() -> dict[str, pd.DataFrame]:
    """The CSVs as date x symbol frames of close, high and low."""
    raw = pd.concat(pd.read_csv(path) for path in sorted(DATA.glob("*.csv.gz")))
    raw["date"] = pd.to_datetime(raw["date"]).dt.date
    return {f: raw.pivot(index="date", columns="Name", values=f) for f in ("close", "high", "low")}


def test_daily_store_uses_session_horizons(written):
    picks, summary = written
    assert summary["base_interval"] == "1d"
    assert summary["horizons"] == ["1d", "2d", "5d"]
    assert set(picks["scanner"]) == {"breakout"}
    # a daily session scans at the close, once the day's bars are in
    assert set(picks["time"].dt.tz_convert("America/New_York").dt.hour) == {16}


def expected(pick, vendor, start: int, at: int) -> int:
    """Check one pick priced at the close of session ``start`` and picked on session ``at``
    against the vendor's closes, highs and lows; the number of horizons compared."""
    close, high, low = vendor["close"], vendor["high"], vendor["low"]
    assert pick.price == close[pick.symbol].iloc[start], pick
    checked = 0
    for n in (1, 2, 5):
        end = at + n  # N sessions after the pick's day, whenever in it the pick was
        if end >= len(close):
            assert not getattr(pick, f"complete_{n}d"), pick
            assert np.isnan(getattr(pick, f"return_{n}d"))
            continue
        target = close[pick.symbol].iloc[end]
        span = slice(start + 1, end + 1)
        assert getattr(pick, f"complete_{n}d")
        assert getattr(pick, f"return_{n}d") == pytest.approx(target / pick.price - 1)
        best = max(high[pick.symbol].iloc[span].max(), target)
        worst = min(low[pick.symbol].iloc[span].min(), target)
        assert getattr(pick, f"mfe_{n}d") == pytest.approx(best / pick.price - 1)
        assert getattr(pick, f"mae_{n}d") == pytest.approx(worst / pick.price - 1)
        checked += 1
    return checked


def test_close_picks_are_priced_at_that_close_and_measured_sessions_on(written, vendor):
    picks, _ = written
    days = list(vendor["close"].index)
    checked = 0
    for pick in picks.itertuples():
        at = days.index(pd.Timestamp(pick.day).date())
        checked += expected(pick, vendor, at, at)
    assert checked > 100
    # the last sessions' 5-day horizons run past the data: kept, marked incomplete
    assert (~picks["complete_5d"]).any() and picks["complete_1d"].any()


def test_a_pick_before_the_open_is_priced_at_the_last_close(daily, vendor):
    """A pre-session scan sees the bars up to the day before: its price is that close."""
    store = BarStore(daily.parent / "store")
    calendar = TimeManager()
    symbols = ["ADP", "AMZN", "BAC"]
    picks = picks_frame(
        [
            {
                "scanner": "early",
                "time": pd.Timestamp("2017-11-01 13:30", tz="UTC"),
                "day": "2017-11-01",
                "rank": k,
                "symbol": s,
                "score": 1.0,
                "values": "{}",
                "why": "{}",
            }
            for k, s in enumerate(symbols, start=1)
        ]
    )
    measured, _ = evaluate(
        picks,
        BarSource(store, calendar),
        calendar,
        "1d",
        store.symbols("1d"),
        parse_horizons(DAILY_HORIZONS),
    )
    at = list(vendor["close"].index).index(dt.date(2017, 11, 1))
    assert sum(expected(pick, vendor, at - 1, at) for pick in measured.itertuples()) == 9


def test_universe_baseline_is_the_mean_over_symbols_priced_then(written, vendor):
    picks, _ = written
    close = vendor["close"]
    days = list(close.index)
    row = picks[picks["scanner"] == "breakout"].iloc[0]
    at = days.index(pd.Timestamp(row["day"]).date())
    returns = (close.iloc[at + 1] / close.iloc[at] - 1).dropna()
    assert row["universe_return_1d"] == pytest.approx(returns.mean())
    assert row["eligible"] == close.iloc[at].notna().sum()


def test_clock_horizons_on_a_daily_store_are_one_line(daily, tmp_path):
    result = backtest(str(daily), "--out", str(tmp_path), "--horizons", "30m,1d")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "--horizons: 30m: the store's finest bars are daily, so a horizon is 'close' or"
        " sessions (1d, 5d)"
    )
