"""BarSource: each symbol-day's bars come from its finest stored interval, whatever the mix."""

from __future__ import annotations

import datetime as dt
import os

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from synthetic import NY, rows, synthetic_minutes
from venue_bars import venue_minutes

from scanner_core.aggregate import aggregate
from scanner_core.bars import FIELDS, Bars
from scanner_core.calendar import TimeManager
from scanner_core.feed import DayFeed
from scanner_core.indicators import IndicatorConfig
from scanner_core.session import SessionData
from scanner_core.sources import BarSource
from scanner_core.store import BarStore

TM = TimeManager("XNYS")
DAYS = [dt.date(2019, 3, 11), dt.date(2019, 3, 12), dt.date(2019, 3, 13)]


def vendor(bars: Bars, interval: str, factor: float) -> Bars:
    """Coarse bars as a vendor would ship them: built from the minutes, volume scaled,
    so a test can tell a vendor's bar from one built from 1-minute bars."""
    coarse = aggregate(bars, interval, TM)
    return attrs.evolve(coarse, volume=coarse.volume * factor)


def one(bars: Bars, symbol: str) -> Bars:
    return bars.for_symbol(symbol)


def test_a_symbol_day_with_minutes_ignores_the_vendors_coarse_bars(tmp_path):
    store = BarStore(tmp_path)
    minutes = synthetic_minutes("2019-03-11", ["AAA", "BBB"], seed=1)
    store.write(minutes.take(minutes.code == 0))  # AAA has minutes, BBB only 5m bars
    store.write(vendor(minutes, "5m", 2.4))
    got = BarSource(store, TM).load("5m", ["AAA", "BBB"], DAYS[0], DAYS[1])
    built = aggregate(minutes, "5m", TM)
    np.testing.assert_array_equal(one(got, "AAA").volume, one(built, "AAA").volume)
    np.testing.assert_array_equal(one(got, "BBB").volume, one(built, "BBB").volume * 2.4)


def test_stored_coarse_bars_of_earlier_days_do_not_hide_todays_minutes(tmp_path):
    store = BarStore(tmp_path)
    day1 = synthetic_minutes("2019-03-11", ["AAA"], seed=2)
    day2 = synthetic_minutes("2019-03-12", ["AAA"], seed=3)
    store.write(vendor(day1, "5m", 1.0))
    store.write(day2)
    got = BarSource(store, TM).load("5m", ["AAA"], DAYS[0], DAYS[2])
    assert len(got) == 2 * 78
    np.testing.assert_array_equal(got.close[78:], aggregate(day2, "5m", TM).close)


def test_daily_bars_are_stored_where_a_day_has_one_and_built_elsewhere(tmp_path):
    store = BarStore(tmp_path)
    minutes = [synthetic_minutes(d.isoformat(), ["AAA"], seed=i) for i, d in enumerate(DAYS)]
    for bars in minutes:
        store.write(bars)
    stored = attrs.evolve(aggregate(minutes[1], "1d", TM), close=np.array([123.0]))
    store.write(stored)
    got = BarSource(store, TM).load("1d", ["AAA"], DAYS[0], DAYS[2] + dt.timedelta(days=1))
    expected = [aggregate(minutes[0], "1d", TM).close[0], 123.0, minutes[2].close[-1]]
    assert got.close.tolist() == expected


def test_built_daily_bars_take_the_regular_session_only(tmp_path):
    store = BarStore(tmp_path)
    regular = synthetic_minutes("2019-03-11", ["AAA"], seed=4)
    early = attrs.evolve(
        synthetic_minutes("2019-03-11", ["AAA"], seed=5, minutes=30),
        ts=regular.ts[:30] - np.timedelta64(120, "m"),
    )
    store.write(regular)
    store.write(early)
    got = BarSource(store, TM).load("1d", ["AAA"], DAYS[0], DAYS[1])
    assert got.volume[0] == regular.volume.sum()
    assert got.open[0] == regular.open[0]


def test_a_daily_only_store_feeds_daily_bars_and_no_intraday_ones(tmp_path):
    store = BarStore(tmp_path)
    store.write(aggregate(synthetic_minutes("2019-03-11", ["AAA"], seed=6), "1d", TM))
    source = BarSource(store, TM)
    assert source.finest() == "1d"
    assert source.can_feed("1d") and not source.can_feed("5m")
    assert len(source.load("5m", ["AAA"], DAYS[0], DAYS[1])) == 0


# -- the property: a joining symbol equals one streamed all along, whatever the store ----

#: Window indicators only: they depend on no history beyond their window, so the
#: start-date comparison can be exact.
INDICATORS = (
    IndicatorConfig("sma", 3, "5m"),
    IndicatorConfig("volume_ratio", 3, "15m"),
    IndicatorConfig("rolling_high", 4, "1m"),
    IndicatorConfig("sma", 2, "1d"),
    IndicatorConfig("rolling_high", 2, "1d"),
    IndicatorConfig("day_volume", 1, "5m"),
    IndicatorConfig("prev_close", 1, "15m"),
)
SHAPES = ["1m", "5m", "15m", "1d"]
SYMBOLS = ["AAA", "BBB"]


def mixed_store(root, shapes: dict[tuple[str, int], set[str]]) -> BarStore:
    """A store whose every (symbol, day) holds the given intervals; vendor coarse bars
    carry their own volumes, so using one where 1-minute bars exist shows."""
    store = BarStore(root)
    for (symbol, d), kinds in shapes.items():
        minutes = synthetic_minutes(
            DAYS[d].isoformat(), [symbol], seed=10 * d + SYMBOLS.index(symbol)
        )
        minutes = attrs.evolve(minutes, symbols=(symbol,))
        for kind in kinds:
            factor = {"1m": 1.0, "5m": 1.7, "15m": 2.3, "1d": 3.1}[kind]
            store.write(minutes if kind == "1m" else vendor(minutes, kind, factor))
    return store


def run(store: BarStore, first_day: int, joins: pd.Timestamp | None) -> list[np.ndarray]:
    """Stream DAYS[first_day:] up to 11:00 of the last day; BBB streamed all along, or
    added at ``joins``. Each indicator's values, then the latest 5m bar of every field."""
    session = SessionData(store, calendar=TM)
    session.set_time(pd.Timestamp(f"{DAYS[first_day]} 04:00", tz=NY))
    for config in INDICATORS:
        session.add_indicator(None, config)
    session.add_symbols(SYMBOLS if joins is None else ["AAA"])
    stop = pd.Timestamp(f"{DAYS[-1]} 11:00", tz=NY)
    for day in DAYS[first_day:]:
        feed = DayFeed(session.store, TM, day, ["1m", "5m", "15m"])
        feed.add(session.streamed_symbols)
        close = TM.open_close(day)[1]
        steps = [close] if day != DAYS[-1] else [t for t in (joins, stop) if t is not None]
        for step in steps:
            for bars in feed.until(step):
                session.replay(bars, session_end=feed.end)
            session.set_time(step)
            if joins is not None and step == joins:
                session.add_symbols(["BBB"])
                feed.add(["BBB"], after=joins)
        if day != DAYS[-1]:
            daily = session.store.load("1d", session.streamed_symbols, day, day + dt.timedelta(1))
            session.replay(daily)
    col = session.index("BBB")[0]
    out = [session.indicator(c).values[col] for c in INDICATORS]
    return out + [session.latest(f, "5m")[col] for f in FIELDS]


@settings(
    max_examples=int(os.environ.get("SCANNER_PROPERTY_EXAMPLES", 12)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@example(shapes=[{"1m"}, {"1m"}, {"15m", "5m", "1m"}, {"15m"}, {"1m"}, {"1d"}], joins="09:45")
@given(
    shapes=st.lists(st.sets(st.sampled_from(SHAPES), min_size=1), min_size=6, max_size=6).filter(
        lambda kinds: any("1m" in k for k in kinds)
    ),
    joins=st.sampled_from(["09:45", "10:00", "10:20", "10:35"]),
)
def test_a_joining_symbol_equals_one_streamed_all_along_in_any_mixed_store(
    tmp_path_factory, shapes, joins
):
    layout = {(s, d): shapes[2 * d + i] for d in range(3) for i, s in enumerate(SYMBOLS)}
    store = mixed_store(tmp_path_factory.mktemp("mixed"), layout)
    along = run(store, 0, None)
    joined = run(store, 0, pd.Timestamp(f"{DAYS[-1]} {joins}", tz=NY))
    later = run(store, 1, None)
    for a, b, c in zip(along, joined, later, strict=True):
        assert a == pytest.approx(b, abs=1e-12, nan_ok=True)
        assert a == pytest.approx(c, abs=1e-12, nan_ok=True)


# -- the rule never depends on which rows a query read --------------------------------


def minutes_between(day: dt.date, symbol: str, seed: int, start: str, end: str) -> Bars:
    """1-minute bars of one symbol from ``start`` to ``end`` New York time."""
    lo, hi = (pd.Timestamp(f"{day} {t}", tz=NY) for t in (start, end))
    n = int((hi - lo) / pd.Timedelta(minutes=1))
    bars = synthetic_minutes(day.isoformat(), [symbol], seed=seed, minutes=n)
    first = lo.tz_convert(None).to_datetime64()
    return attrs.evolve(bars, ts=first + np.arange(n).astype("timedelta64[m]"))


def test_a_chunk_without_minutes_still_knows_the_day_has_them(tmp_path):
    # 1-minute bars in regular hours only, a vendor's 5m bars all day long: the pre-market
    # chunk read no minute, yet the day has minutes, so its vendor bars stay out
    day = DAYS[1]
    store = BarStore(tmp_path)
    store.write(minutes_between(day, "AAA", 1, "09:30", "16:00"))
    store.write(vendor(minutes_between(day, "AAA", 2, "04:00", "20:00"), "5m", 1.0))
    source = BarSource(store, TM)
    feed = DayFeed(source, TM, day, ["1m", "5m"])
    feed.add(["AAA"])
    streamed = [b for b in feed.until(TM.open_close(day)[1]) if b.interval == "5m"]
    whole = source.load("5m", ["AAA"], day, day + dt.timedelta(days=1))
    assert sum(map(len, streamed)) == len(whole) == 78


def test_a_daily_bar_does_not_depend_on_the_other_symbols_loaded(tmp_path):
    day = DAYS[1]
    store = BarStore(tmp_path)
    store.write(minutes_between(day, "AAA", 1, "09:30", "16:00"))
    store.write(minutes_between(day, "BBB", 2, "08:00", "09:00"))  # pre-market minutes only
    store.write(vendor(minutes_between(day, "BBB", 3, "09:30", "16:00"), "5m", 1.0))
    source = BarSource(store, TM)
    both = source.load("1d", ["AAA", "BBB"], day, day + dt.timedelta(days=1))
    alone = source.load("1d", ["BBB"], day, day + dt.timedelta(days=1))
    assert len(one(alone, "BBB")) == 0  # the day has minutes, none in the regular session
    assert len(one(both, "BBB")) == 0


def test_the_first_pre_market_hour_is_warmed_up_as_it_streams(tmp_path):
    store = BarStore(tmp_path)
    for i, day in enumerate(DAYS[:2]):
        store.write(minutes_between(day, "AAA", i, "04:00", "16:00"))
    session = SessionData(store, calendar=TM)
    feed = DayFeed(session.store, TM, DAYS[0], ["1h"])
    feed.add(["AAA"])
    streamed = [b for b in feed.until(TM.open_close(DAYS[0])[1])]
    session.set_time(pd.Timestamp(f"{DAYS[1]} 04:00", tz=NY))
    session.add_requirements({"history": {"1h": 13}})
    session.add_symbols(["AAA"])
    warm = session.history("AAA", "1h")
    first = pd.Timestamp(f"{DAYS[0]} 03:30", tz=NY).tz_convert(None).to_datetime64()
    assert streamed[0].ts[0] == warm.ts[0] == first
    assert sum(map(len, streamed)) == len(warm) == 13


# -- bars built from one finer stored interval, a partition at a time ------------------


def _joined_then_built(store: BarStore, tm: TimeManager, interval, symbols, start, end) -> Bars:
    """The reference: every finer row in range joined first, then built (as one batch)."""
    minutes = store.load("1m", symbols, start, end)
    built = aggregate(minutes.take(tm.streamed(minutes.ts)), interval, tm)
    return built.take(built.ts < store.bound(end, interval))


@settings(max_examples=20, deadline=None)
@given(
    interval=st.sampled_from(["5m", "15m", "1h"]),
    symbols=st.sampled_from([None, ("AAA",), ("BBB", "CCC"), ("AAA", "ZZZ")]),
    first=st.integers(0, 2),
    last=st.integers(0, 2),
    cut=st.sampled_from(["10:02", "12:30", "16:00", "20:00"]),
)
def test_bars_built_day_by_day_equal_bars_built_from_the_joined_days(
    tmp_path_factory, interval, symbols, first, last, cut
):
    store = BarStore(tmp_path_factory.mktemp("days"))
    for k, day in enumerate(DAYS):
        # a symbol missing on the middle day, the pre-market hour stored on the last
        names = ["AAA", "CCC"] if k == 1 else ["AAA", "BBB", "CCC"]
        spans = [(dt.time(8), dt.time(16))] if k == 2 else None
        store.write(venue_minutes("XNYS", day.isoformat(), names, seed=k, spans=spans))
    start = pd.Timestamp(f"{DAYS[min(first, last)]} 04:00", tz=NY)
    end = pd.Timestamp(f"{DAYS[max(first, last)]} {cut}", tz=NY)
    got = BarSource(store, TM).load(interval, symbols, start, end)
    assert rows(got) == rows(_joined_then_built(store, TM, interval, symbols, start, end))


def test_a_bucket_across_the_stores_midnight_is_built_from_both_days(tmp_path):
    # a New York store of Tokyo bars: 13:30-14:30 in Tokyo is 23:30-00:30 in New York,
    # so that hour's minutes lie in two partitions and must make one bar
    tm = TimeManager("XTKS")
    store = BarStore(tmp_path)
    store.write(venue_minutes("XTKS", "2024-11-05", ["AAA", "BBB"], seed=3))
    assert len(list((tmp_path / "1m").glob("*.parquet"))) == 2
    open_, close = tm.open_close(dt.date(2024, 11, 5))
    got = BarSource(store, tm).load("1h", None, open_, close)
    assert rows(got) == rows(_joined_then_built(store, tm, "1h", None, open_, close))
    walls = pd.DatetimeIndex(np.unique(got.ts)).tz_localize("UTC").tz_convert(tm.tz)
    assert "13:30" in walls.strftime("%H:%M")
    assert len(got) == 6 * 2
