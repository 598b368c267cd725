"""Mid-session warm-up through the real bar store on real bars equals full-history indicators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scanner_core.aggregate import aggregate
from scanner_core.bars import FIELDS
from scanner_core.indicators import IndicatorConfig, kernel_for, session_ids
from scanner_core.session import SessionData
from scanner_core.store import BarStore

EQKER = ("AAPL", "SPY", "MSFT", "PPLT", "UGA", "MU")
SP500 = ("AAPL", "NI", "O", "DHR", "MSFT")
INTRADAY = (
    IndicatorConfig("rsi", 14, "1m"),
    IndicatorConfig("ema", 20, "1m"),
    IndicatorConfig("atr", 14, "1m"),
    IndicatorConfig("sma", 20, "1m"),
    IndicatorConfig("vwap", 1, "1m"),
    IndicatorConfig("volume_ratio", 20, "1m"),
    IndicatorConfig("prev_close", 1, "1m"),
    IndicatorConfig("day_volume", 1, "1m"),
    IndicatorConfig("rolling_high", 30, "1m"),
    IndicatorConfig("rsi", 14, "1d"),
    IndicatorConfig("ema", 10, "1d"),
    IndicatorConfig("sma", 20, "1d"),
)
DAILY = (
    IndicatorConfig("rsi", 14, "1d"),
    IndicatorConfig("ema", 20, "1d"),
    IndicatorConfig("atr", 14, "1d"),
    IndicatorConfig("sma", 50, "1d"),
    IndicatorConfig("avg_volume", 20, "1d"),
    IndicatorConfig("prev_close", 1, "1d"),
)


@pytest.fixture(scope="module")
def eqker_store(real_data, tmp_path_factory) -> BarStore:
    """The eqker 1-minute (bar-end labelled) and daily bars of a few symbols."""
    store = BarStore(tmp_path_factory.mktemp("eqker"))
    folder = real_data / "intraday/eqker_2019"
    report = store.import_files([folder / f"{s}_1min.csv" for s in EQKER], timestamps="end")
    report_daily = store.import_files([folder / f"{s}_daily.csv" for s in EQKER])
    for r in (report, report_daily):
        assert r.totals()["failed_files"] == 0 and r.totals()["rejected"] == 0
    return store


@pytest.fixture(scope="module")
def sp500_store(real_data, tmp_path_factory) -> BarStore:
    """Five years of daily bars of a few S&P 500 names (spin-offs and gaps included)."""
    store = BarStore(tmp_path_factory.mktemp("sp500"))
    folder = real_data / "daily/sp500_iex_2013-2018"
    store.import_files([folder / f"{s}_data.csv" for s in SP500])
    return store


def full_history(store: BarStore, session: SessionData, config: IndicatorConfig, symbol: str):
    """The indicator over every stored bar of the symbol closed by the session's clock."""
    now = session.current_time.tz_convert(None).to_datetime64()
    bars = store.load(config.interval, [symbol], None, session._horizon(config.interval))
    assert len(bars) and (bars.ts < now).all()
    kernel = kernel_for(config, 1)
    history = [getattr(bars, f)[:, None] for f in FIELDS]
    kernel.warm(np.array([0]), session_ids(bars.ts, config.interval), *history)
    # session-scoped values read "today": the session of the clock, and a clock at a
    # bar's close (a daily bar's midnight included) still belongs to that bar's session
    at = now - np.timedelta64(1, "ns")
    kernel.session = int(session_ids(np.array([at]), "1m")[0])
    read = kernel.read()
    return read.values[0], read.valid[0]


def assert_matches_full_history(store, session, configs, symbol):
    col = session.index(symbol)[0]
    for config in configs:
        read = session.indicator(config)
        expected, valid = full_history(store, session, config, symbol)
        assert valid, (config, symbol)
        assert read.valid[col], (config, symbol)
        assert read.values[col] == pytest.approx(expected, rel=1e-9, abs=1e-9), (config, symbol)


def replay_between(session: SessionData, store: BarStore, interval: str, symbols, start, end):
    session.replay(store.load(interval, list(symbols), start, end))


@pytest.mark.parametrize("added", ["MSFT", "PPLT"])
def test_intraday_symbol_added_mid_session_equals_full_history(eqker_store, added):
    session = SessionData(eqker_store)
    session.set_time(pd.Timestamp("2019-02-13 09:00", tz="America/New_York"))
    for config in INTRADAY:
        session.add_indicator(None, config)
    session.add_symbols(["AAPL", "SPY"])
    open_, noon = (
        pd.Timestamp(f"2019-02-13 {t}", tz="America/New_York") for t in ("09:30", "12:00")
    )
    replay_between(session, eqker_store, "1m", ["AAPL", "SPY", added], open_, noon)
    assert session.add_symbol(added)
    # valid at once, before any bar of the session reached it
    assert_matches_full_history(eqker_store, session, INTRADAY, added)
    close = pd.Timestamp("2019-02-13 16:00", tz="America/New_York")
    replay_between(session, eqker_store, "1m", ["AAPL", "SPY", added], noon, close)
    assert_matches_full_history(eqker_store, session, INTRADAY, added)
    assert_matches_full_history(eqker_store, session, INTRADAY, "AAPL")


def test_daily_symbol_added_mid_backtest_equals_full_history(sp500_store):
    session = SessionData(sp500_store)
    session.set_time(pd.Timestamp("2017-01-03 09:00", tz="America/New_York"))
    for config in DAILY:
        session.add_indicator(None, config)
    session.add_symbols(["AAPL"])
    replay_between(session, sp500_store, "1d", ["AAPL", "NI"], "2017-01-03", "2017-07-01")
    # NI's 2015 spin-off gap lies before the warm-up window: truncation must not show
    assert session.add_symbol("NI")
    assert_matches_full_history(sp500_store, session, DAILY, "NI")
    replay_between(session, sp500_store, "1d", ["AAPL", "NI"], "2017-07-01", "2017-09-01")
    assert_matches_full_history(sp500_store, session, DAILY, "NI")
    assert_matches_full_history(sp500_store, session, DAILY, "AAPL")


def test_leave_and_rejoin_on_real_bars_resumes_at_the_current_minute(eqker_store):
    session = SessionData(eqker_store)
    session.set_time(pd.Timestamp("2019-02-14 09:00", tz="America/New_York"))
    config = IndicatorConfig("rsi", 14, "1m")
    session.add_indicator(None, config)
    session.add_symbols(["AAPL", "MU"])
    t = [
        pd.Timestamp(f"2019-02-14 {h}", tz="America/New_York")
        for h in ("09:30", "10:30", "11:30", "11:31")
    ]
    replay_between(session, eqker_store, "1m", ["AAPL", "MU"], t[0], t[1])
    session.leave_session("MU")
    replay_between(session, eqker_store, "1m", ["AAPL", "MU"], t[1], t[2])
    session.add_symbol("MU")
    replay_between(session, eqker_store, "1m", ["AAPL", "MU"], t[2], t[3])
    history = session.history("MU", "1m", bars=120)
    assert (np.diff(history.ts) > np.timedelta64(0, "ns")).all()
    assert history.ts[-1] == np.datetime64(t[2].tz_convert(None).to_datetime64(), "ns")
    stored = eqker_store.load("1m", ["MU"], t[2], t[3])
    assert session.latest("close")[session.index("MU")[0]] == stored.close[-1]
    assert_matches_full_history(eqker_store, session, [config], "MU")


FIVE_MINUTE = (
    IndicatorConfig("rsi", 14, "5m"),
    IndicatorConfig("ema", 12, "5m"),
    IndicatorConfig("sma", 20, "5m"),
    IndicatorConfig("volume_ratio", 10, "5m"),
)


def test_five_minute_indicators_of_a_symbol_added_mid_session_come_from_minute_bars(
    eqker_store,
):
    """The store holds no 5m bars: warm-up aggregates 1m bars, as the session feed does."""
    session = SessionData(eqker_store)
    session.set_time(pd.Timestamp("2019-02-14 09:00", tz="America/New_York"))
    for config in FIVE_MINUTE:
        session.add_indicator(None, config)
    session.add_symbols(["AAPL"])
    open_, now = (
        pd.Timestamp(f"2019-02-14 {t}", tz="America/New_York") for t in ("09:30", "11:03")
    )
    minutes = eqker_store.load("1m", ["AAPL"], open_, now - pd.Timedelta(minutes=1))
    fed = aggregate(minutes, "5m")
    session.replay(fed.take(fed.ts + np.timedelta64(5, "m") <= now.tz_convert(None)))
    session.set_time(now)
    assert session.add_symbol("MSFT")

    stored = eqker_store.load("1m", ["MSFT"], None, session._horizon("1m"))
    bars = aggregate(stored, "5m")
    bars = bars.take(bars.ts < session._horizon("5m"))
    assert bars.ts[-1] == np.datetime64("2019-02-14T15:55")  # 10:55 New York, closed by 11:03
    col = session.index("MSFT")[0]
    for config in FIVE_MINUTE:
        kernel = kernel_for(config, 1)
        kernel.warm(
            np.array([0]),
            session_ids(bars.ts, "5m"),
            *(getattr(bars, f)[:, None] for f in FIELDS),
        )
        expected = kernel.read()
        read = session.indicator(config)
        assert expected.valid[0] and read.valid[col], config
        assert read.values[col] == pytest.approx(expected.values[0], rel=1e-9, abs=1e-9), config
