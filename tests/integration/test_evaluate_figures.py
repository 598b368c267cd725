"""The backtest's figures equal an independent pandas computation from the raw CSVs:
every pick's price, return, MFE and MAE at every horizon, whether it is complete, the
per-scanner means and hit rates, and the universe baseline at each scan time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtests import ROOT, backtest
from forward_pandas import data_end, outcome, read_minutes

from scanner_core.store import BarStore

EQKER = ROOT / "examples" / "data" / "eqker_2019"
HORIZONS = ("5m", "15m", "30m", "1h", "close", "1d", "5d")
STOCKBOT_SCANNERS = """
[[scanners]]
module = "momentum"
timeout_seconds = 0
schedule = { interval = "1h", start_time = "10:30", end_time = "15:30" }
config = { rsi_min = 60.0, volume_ratio_min = 1.2, sma_days = 5, interval = "5m" }

[[scanners]]
module = "breakout"
timeout_seconds = 0
schedule = { interval = "1h", start_time = "10:30", end_time = "15:30" }
config = { interval = "5m", high_days = 1, volume_ratio_min = 0.8, candle_top_fraction = 0.5 }
"""


def run(config: Path, out: Path) -> tuple[pd.DataFrame, dict]:
    result = backtest(str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out / "picks.parquet"), json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def eqker(tmp_path_factory):
    """The bundled week imported as the demo does, its demo backtest, and its raw bars."""
    folder = tmp_path_factory.mktemp("eqker")
    BarStore(folder / "store").import_files([EQKER], timestamps="end")
    demo = (ROOT / "examples" / "demo.toml").read_text()
    config = folder / "demo.toml"
    config.write_text(demo.replace('"../var/store"', '"store"'))
    picks, summary = run(config, folder / "out")
    files = {p.name.split("_")[0]: p for p in EQKER.glob("*_1min.csv.gz")}
    return picks, summary, read_minutes(files, stamps="end")


@pytest.fixture(scope="module")
def stockbot(real_data, tmp_path_factory):
    """The stockbot set (40 symbols x 44 sessions), two scanners, and its raw bars."""
    source = real_data / "intraday" / "stockbot_2018_1min"
    folder = tmp_path_factory.mktemp("stockbot")
    BarStore(folder / "store").import_files([source])
    config = folder / "stockbot.toml"
    config.write_text(
        'start_date = 2018-02-16\nend_date = 2018-04-20\n[data]\nstore = "store"\n'
        f"[universe]\nall = true\n{STOCKBOT_SCANNERS}"
    )
    picks, summary = run(config, folder / "out")
    files = {p.name.split(".")[0]: p for p in source.glob("*.csv.gz")}
    return picks, summary, read_minutes(files, stamps="start")


def expected(picks: pd.DataFrame, bars: pd.DataFrame) -> pd.DataFrame:
    """The pandas recomputation of every pick's measures."""
    by_symbol = dict(tuple(bars.groupby("symbol")))
    end = data_end(bars)
    rows = []
    for pick in picks.itertuples():
        row = {}
        for h in HORIZONS:
            day = pd.Timestamp(pick.day).date()
            price, ret, mfe, mae, done = outcome(by_symbol[pick.symbol], day, pick.time, h, end)
            row |= {"price": price, f"return_{h}": ret, f"mfe_{h}": mfe, f"mae_{h}": mae}
            row[f"complete_{h}"] = done
        rows.append(row)
    return pd.DataFrame(rows, index=picks.index)


def check_picks(picks: pd.DataFrame, bars: pd.DataFrame) -> pd.DataFrame:
    assert len(picks), "the backtest picked nothing to compare"
    want = expected(picks, bars)
    np.testing.assert_allclose(picks["price"], want["price"], rtol=1e-12)
    for h in HORIZONS:
        assert (picks[f"complete_{h}"] == want[f"complete_{h}"]).all(), h
        for measure in ("return", "mfe", "mae"):
            name = f"{measure}_{h}"
            np.testing.assert_allclose(picks[name], want[name], rtol=1e-9, atol=1e-12, err_msg=name)
    return want


def check_summary(summary: dict, picks: pd.DataFrame, want: pd.DataFrame) -> None:
    for name, group in want.groupby(picks["scanner"]):
        for h in HORIZONS:
            returns = group.loc[group[f"complete_{h}"], f"return_{h}"].dropna()
            row = summary["scanners"][name]["by_horizon"][h]
            assert row["picks"] == len(group)
            assert row["complete"] == len(returns)
            if len(returns):
                assert row["mean"] == pytest.approx(returns.mean(), rel=1e-9, abs=1e-12)
                assert row["median"] == pytest.approx(returns.median(), rel=1e-9, abs=1e-12)
                assert row["hit_rate"] == pytest.approx((returns > 0).mean())
            else:
                assert row["mean"] is None and row["hit_rate"] is None


def check_universe(picks: pd.DataFrame, bars: pd.DataFrame, times: int) -> None:
    """The universe baseline at the first ``times`` scan times: the mean over every
    symbol with a price by then that session."""
    by_symbol = dict(tuple(bars.groupby("symbol")))
    end = data_end(bars)
    for (moment, day), group in list(picks.groupby(["time", "day"], sort=True))[:times]:
        day = pd.Timestamp(day).date()
        for h in ("5m", "1h", "close", "1d"):
            outcomes = [outcome(rows, day, moment, h, end) for rows in by_symbol.values()]
            returns = [o[1] for o in outcomes if np.isfinite(o[0]) and np.isfinite(o[1])]
            got = group[f"universe_return_{h}"].iloc[0]
            if returns:
                assert got == pytest.approx(np.mean(returns), rel=1e-9, abs=1e-12), (moment, h)
            else:
                assert np.isnan(got)


def test_eqker_week_picks_equal_pandas(eqker):
    picks, summary, bars = eqker
    want = check_picks(picks, bars)
    check_summary(summary, picks, want)
    # the week's last day leaves every 1d and 5d horizon incomplete, and they stay as rows
    assert not picks["complete_5d"].any() and picks["return_5d"].isna().all()
    assert picks["complete_1d"].any() and not picks["complete_1d"].all()


def test_eqker_week_universe_baseline_equals_pandas(eqker):
    picks, _, bars = eqker
    check_universe(picks, bars, times=1000)


def test_stockbot_picks_equal_pandas(stockbot):
    picks, summary, bars = stockbot
    want = check_picks(picks, bars)
    check_summary(summary, picks, want)
    assert picks["complete_5d"].any()


def test_stockbot_universe_baseline_equals_pandas(stockbot):
    picks, _, bars = stockbot
    check_universe(picks, bars, times=12)
