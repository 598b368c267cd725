"""Indicator kernels against plain-pandas references on real bars, and incremental == batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.indicators import (
    KERNELS,
    Bar,
    IndicatorConfig,
    kernel_for,
    session_ids,
)

FIELDS = ("open", "high", "low", "close", "volume")
EQKER = ("AAPL", "PPLT", "UGA", "VIX", "MU")
SP500 = ("AAPL", "APTV", "O", "DHR", "AOS", "NI")
TOL = {"rtol": 1e-9, "atol": 1e-9}


# -- plain pandas references, one symbol at a time -----------------------------------------


def _seeded_ewm(x: pd.Series, seed_end: int, n_seed: int, alpha: float) -> pd.Series:
    """Mean of x[seed_end-n_seed:seed_end] at position seed_end-1, then an adjust=False ewm."""
    tail = x.iloc[seed_end - 1 :].copy()
    if tail.empty:
        return pd.Series(np.nan, index=x.index)
    tail.iloc[0] = x.iloc[seed_end - n_seed : seed_end].mean()
    return tail.ewm(alpha=alpha, adjust=False).mean().reindex(x.index)


def reference(name: str, p: int, df: pd.DataFrame) -> pd.Series:
    """The indicator over one symbol's bars (df indexed by time, with a 'day' column)."""
    c, h, lo, v = df["close"], df["high"], df["low"], df["volume"]
    if name == "sma":
        return c.rolling(p).mean()
    if name == "avg_volume":
        return v.rolling(p).mean()
    if name == "rolling_high":
        return h.rolling(p).max()
    if name == "prior_high":
        return h.shift(1).rolling(p).max()
    if name == "rolling_low":
        return lo.rolling(p).min()
    if name == "volume_ratio":
        mean = v.shift(1).rolling(p).mean()
        return (v / mean).where(mean > 0)
    if name == "ema":
        return _seeded_ewm(c, p, p, 2.0 / (p + 1))
    if name == "rsi":
        d = c.diff()
        gain = _seeded_ewm(d.clip(lower=0), p + 1, p, 1.0 / p)
        loss = _seeded_ewm((-d).clip(lower=0), p + 1, p, 1.0 / p)
        return (100 * gain / (gain + loss)).where(gain + loss > 0, 50.0).where(gain.notna())
    if name == "atr":
        prev = c.shift(1)
        tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
        return _seeded_ewm(tr, p, p, 1.0 / p)
    if name == "vwap":
        cum_v = v.groupby(df["day"]).cumsum()
        cum_pv = ((h + lo + c) / 3 * v).groupby(df["day"]).cumsum()
        return (cum_pv / cum_v).where(cum_v > 0)
    if name == "day_volume":
        return v.groupby(df["day"]).cumsum()
    if name == "prev_close":
        last = c.groupby(df["day"]).last().shift(1)
        return df["day"].map(last)
    raise AssertionError(name)


# -- real bars as (time x symbols) matrices -----------------------------------------------


def _eqker_1m(root: Path, symbols: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    out = {}
    for sym in symbols:
        df = pd.read_csv(root / f"intraday/eqker_2019/{sym}_1min.csv", parse_dates=["datetime"])
        # bar-end labelled, US/Eastern: shift to the bar start in UTC
        start = (df["datetime"] - pd.Timedelta(minutes=1)).dt.tz_localize("America/New_York")
        df.index = start.dt.tz_convert("UTC").dt.tz_localize(None).values
        out[sym] = df.drop(columns="datetime").sort_index()
    return out


def _daily(root: Path, pattern: str, symbols: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    out = {}
    for sym in symbols:
        df = pd.read_csv(root / pattern.format(sym=sym)).dropna(subset=list(FIELDS))
        date_col = "date" if "date" in df else "datetime"
        df.index = pd.to_datetime(df[date_col]).values
        out[sym] = df[list(FIELDS)].sort_index()
    return out


def _matrices(frames: dict[str, pd.DataFrame], interval: str):
    """Union time axis, per-field matrices (time x symbols, NaN = no bar), session ids."""
    index = sorted(set().union(*(f.index for f in frames.values())))
    idx = pd.DatetimeIndex(index)
    wide = {
        f: np.column_stack([frames[s][f].reindex(idx).to_numpy(float) for s in frames])
        for f in FIELDS
    }
    return idx, wide, session_ids(idx.values, interval)


@pytest.fixture(scope="module", params=["eqker_1m", "eqker_1d", "sp500_1d"])
def real_bars(request, real_data):
    """One real data set: (interval, per-symbol frames)."""
    if request.param == "eqker_1m":
        return "1m", _eqker_1m(real_data, EQKER)
    if request.param == "eqker_1d":
        return "1d", _daily(real_data, "intraday/eqker_2019/{sym}_daily.csv", EQKER)
    return "1d", _daily(real_data, "daily/sp500_iex_2013-2018/{sym}_data.csv", SP500)


def _run_incremental(kernel, wide, sessions):
    """Update bar by bar; values and valid of each symbol at each of its own bars."""
    n_t, n_s = wide["close"].shape
    values = np.full((n_t, n_s), np.nan)
    valid = np.zeros((n_t, n_s), bool)
    for t in range(n_t):
        rows = np.flatnonzero(~np.isnan(wide["close"][t]))
        kernel.update(rows, Bar(*(wide[f][t, rows] for f in FIELDS), int(sessions[t])))
        read = kernel.read()
        values[t, rows], valid[t, rows] = read.values[rows], read.valid[rows]
    return values, valid


@pytest.mark.parametrize(
    ("name", "period"),
    [(name, p) for name in sorted(KERNELS) for p in (3, 14)],
)
def test_kernel_matches_pandas_reference(real_bars, name, period):
    interval, frames = real_bars
    idx, wide, sessions = _matrices(frames, interval)
    kernel = kernel_for(IndicatorConfig(name, period, interval), len(frames))
    values, valid = _run_incremental(kernel, wide, sessions)
    for j, (sym, df) in enumerate(frames.items()):
        df = df.assign(day=session_ids(df.index.values, interval))
        ref = reference(name, period, df).to_numpy(float)
        rows = idx.get_indexer(df.index)
        got = values[rows, j]
        np.testing.assert_array_equal(valid[rows, j], ~np.isnan(ref), err_msg=f"{name} {sym}")
        np.testing.assert_allclose(got, ref, **TOL, err_msg=f"{name} {sym}")

    batch = kernel_for(IndicatorConfig(name, period, interval), len(frames))
    batch.warm(np.arange(len(frames)), sessions, *(wide[f] for f in FIELDS))
    batch.session = kernel.session
    _assert_same_state(batch, kernel)
    np.testing.assert_array_equal(batch.read().values, kernel.read().values)


def _assert_same_state(a, b):
    sa, sb = a.state(), b.state()
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


def test_symbol_without_a_bar_keeps_its_state():
    k = kernel_for(IndicatorConfig("ema", 2, "1d"), 2)
    bar = Bar(*(np.array([1.0, 2.0]),) * 5, session=1)
    k.update(np.array([0, 1]), bar)
    k.update(np.array([0, 1]), bar._replace(session=2))
    before = k.state()
    k.update(np.array([0]), Bar(*(np.array([5.0]),) * 5, session=3))
    after = k.state()
    assert after["count"].tolist() == [3, 2]
    assert after["ema"][1] == before["ema"][1]
    assert after["ema"][0] != before["ema"][0]


def test_session_indicators_read_fresh_day_before_first_bar():
    k = kernel_for(IndicatorConfig("day_volume", 1, "1m"), 1)
    k.update(np.array([0]), Bar(*(np.array([10.0]),) * 5, session=1))
    assert k.read().values[0] == 10.0
    k.session = 2  # a new session started, the symbol has not traded yet
    assert k.read().values[0] == 0.0
    pc = kernel_for(IndicatorConfig("prev_close", 1, "1m"), 1)
    pc.update(np.array([0]), Bar(*(np.array([7.0]),) * 5, session=1))
    assert not pc.read().valid[0]
    pc.session = 2
    assert pc.read().values[0] == 7.0


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_version_changes_with_the_state_and_only_with_it(name):
    k = kernel_for(IndicatorConfig(name, 2, "1m"), 2)
    bar = Bar(*(np.array([1.0, 2.0]),) * 5, session=1)
    seen = {k.version}
    for change in (
        lambda: k.update(np.array([0, 1]), bar),
        lambda: k.warm(np.array([1]), np.array([1]), *(np.array([[3.0]]),) * 5),
        lambda: k.reset(np.array([0])),
        lambda: k.resize(3),
    ):
        change()
        assert k.version not in seen, change
        seen.add(k.version)
    k.read()
    k.state()
    assert k.version == max(seen)


def test_unknown_indicator_names_the_kind():
    with pytest.raises(ValueError, match="'macd'"):
        kernel_for(IndicatorConfig("macd", 3))


def test_warmup_of_recursive_kernels_covers_seed_decay():
    bars, sessions = KERNELS["rsi"].warmup(14)
    assert sessions == 0
    assert (1 - 1 / 14) ** (bars - 15) < 1e-12


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(KERNELS)),
    period=st.integers(1, 6),
    data=st.data(),
)
def test_incremental_equals_batch_with_random_gaps(name, period, data):
    n_s = data.draw(st.integers(1, 4))
    n_t = data.draw(st.integers(1, 30))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    close = 100 + rng.normal(0, 1, (n_t, n_s)).cumsum(axis=0)
    spread = rng.uniform(0, 1, (n_t, n_s))
    wide = {
        "open": close + rng.uniform(-0.5, 0.5, (n_t, n_s)),
        "high": close + spread,
        "low": close - spread,
        "close": close,
        "volume": rng.integers(0, 1000, (n_t, n_s)).astype(float),
    }
    gaps = rng.uniform(size=(n_t, n_s)) < data.draw(st.floats(0, 0.6))
    for f in FIELDS:
        wide[f][gaps] = np.nan
    sessions = np.cumsum(rng.uniform(size=n_t) < 0.2)
    config = IndicatorConfig(name, period, "1m")
    inc = kernel_for(config, n_s)
    _run_incremental(inc, wide, sessions)
    # batch-warm only a subset of symbols into a kernel that already holds others
    subset = np.flatnonzero(rng.uniform(size=n_s) < 0.5)
    batch = kernel_for(config, n_s)
    _run_incremental(batch, wide, sessions)
    batch.warm(subset, sessions, *(wide[f][:, subset] for f in FIELDS))
    _assert_same_state(batch, inc)
