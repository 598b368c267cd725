"""DayFeed reads the day an hour at a time and hands on exactly what a whole-day read would."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from synthetic import NY, rows, synthetic_minutes
from venue_bars import venue_minutes

from scanner_core.aggregate import aggregate
from scanner_core.bars import INTERVAL_MINUTES, Bars
from scanner_core.calendar import TimeManager
from scanner_core.feed import DayFeed, chunk_edges, utc64
from scanner_core.sources import BarSource
from scanner_core.store import BarStore, concat

DAY = "2019-03-12"
SYMBOLS = ["AAA", "BBB", "CCC"]


def at(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{DAY} {hhmm}", tz=NY)


def utc(moment: pd.Timestamp) -> np.datetime64:
    return moment.tz_convert(None).to_datetime64()


@pytest.fixture
def store(tmp_path) -> BarStore:
    store = BarStore(tmp_path)
    store.write(synthetic_minutes(DAY, [*SYMBOLS, "DDD"], seed=7))
    return store


def feed_for(store: BarStore, intervals=("1m", "5m", "1h")) -> DayFeed:
    tm = TimeManager("XNYS")
    feed = DayFeed(BarSource(store, tm), tm, dt.date.fromisoformat(DAY), intervals)
    feed.add(SYMBOLS)
    return feed


@pytest.mark.parametrize("steps", [["16:00"], ["09:31", "10:17", "10:30", "12:05", "16:00"]])
def test_chunks_hand_on_what_a_whole_day_read_would(store, steps):
    feed = feed_for(store)
    handed: dict[str, list[Bars]] = {"1m": [], "5m": [], "1h": []}
    for step in steps:
        for bars in feed.until(at(step)):
            span = np.timedelta64({"1m": 1, "5m": 5, "1h": 60}[bars.interval], "m")
            closes = np.minimum(bars.ts + span, utc(at("16:00")))  # 15:30-16:00 ends at 16:00
            assert (closes <= utc(at(step))).all()
            handed[bars.interval].append(bars)
    whole = store.load("1m", SYMBOLS, at("04:00"), at("16:00"))
    assert rows(concat(handed["1m"])) == rows(whole)
    for interval in ("5m", "1h"):
        assert rows(concat(handed[interval])) == rows(aggregate(whole, interval))


def test_a_symbol_added_mid_chunk_streams_only_bars_closing_after_it_joined(store):
    feed = feed_for(store, intervals=("1m", "5m"))
    list(feed.until(at("10:17")))
    feed.add(["DDD"], after=at("10:17"))
    handed = list(feed.until(at("10:40")))
    later = {i: concat([b for b in handed if b.interval == i]) for i in ("1m", "5m")}
    ddd = {i: b.take(b.code == b.symbols.index("DDD")) for i, b in later.items()}
    assert ddd["1m"].ts[0] == utc(at("10:17"))
    assert len(ddd["1m"]) == 23
    # 10:15-10:20 began before DDD joined but closes after: it is DDD's first 5m bar
    expected = [utc(at(f"10:{m}")) for m in ("15", "20", "25", "30", "35")]
    assert list(ddd["5m"].ts) == expected
    # and the bars of the others go on unchanged
    assert len(later["1m"]) == 23 * 4


def test_a_symbol_added_at_the_close_gets_no_bar_the_close_already_ended(store):
    # 15:30-16:00 of the hourly grid closed at 16:00: handed on to the others already,
    # it must not reach a symbol that joins at 16:00 as a new bar (it would be out of order)
    feed = feed_for(store, intervals=("1m", "1h"))
    list(feed.until(at("16:00")))
    feed.add(["DDD"], after=at("16:00"))
    assert list(feed.until(at("16:00"))) == []


TOKYO = "2024-11-05"
OUTSIDE = [  # stored, but no session streams them: before the open, the break, after the close
    (dt.time(8, 0), dt.time(9, 0)),
    (dt.time(11, 30), dt.time(12, 30)),
    (dt.time(15, 30), dt.time(16, 0)),
]


@pytest.fixture
def tokyo_store(tmp_path) -> BarStore:
    store = BarStore(tmp_path)
    store.write(venue_minutes("XTKS", TOKYO, SYMBOLS, seed=11))
    store.write(venue_minutes("XTKS", TOKYO, SYMBOLS, seed=12, spans=OUTSIDE))
    return store


def test_tokyo_bars_are_handed_on_exactly_when_they_close(tokyo_store):
    tm = TimeManager("XTKS")
    day = dt.date.fromisoformat(TOKYO)
    intervals = ("1m", "5m", "15m", "1h")
    feed = DayFeed(BarSource(tokyo_store, tm), tm, day, intervals)
    feed.add(SYMBOLS)
    open_, close = tm.open_close(day)
    assert utc64(tm.pre_market(day)[0]) == feed.start == utc64(open_)
    handed: dict[str, list[Bars]] = {i: [] for i in intervals}
    step = pd.Timestamp(open_)
    previous = utc64(open_)
    while step <= pd.Timestamp(close):
        now = utc64(step.to_pydatetime())
        for bars in feed.until(step.to_pydatetime()):
            closes = tm.bar_closes(bars.ts, INTERVAL_MINUTES[bars.interval])
            assert ((closes > previous) & (closes <= now)).all(), (bars.interval, step)
            handed[bars.interval].append(bars)
        previous = now
        step += pd.Timedelta(minutes=1)
    regular = tokyo_store.load("1m", SYMBOLS, open_, close)
    regular = regular.take(tm.regular_hours(regular.ts))
    assert len(regular) == 330 * len(SYMBOLS)
    assert rows(concat(handed["1m"])) == rows(regular)
    for interval in intervals[1:]:
        assert rows(concat(handed[interval])) == rows(aggregate(regular, interval, tm))
    hourly = concat(handed["1h"])
    walls = pd.DatetimeIndex(np.unique(hourly.ts)).tz_localize("UTC").tz_convert(tm.tz)
    assert walls.strftime("%H:%M").tolist() == [
        "09:00",
        "10:00",
        "11:00",
        "12:30",
        "13:30",
        "14:30",
    ]


def test_tokyo_chunks_restart_at_the_end_of_the_break():
    tm = TimeManager("XTKS")
    edges = chunk_edges(tm, dt.date.fromisoformat(TOKYO))
    walls = pd.DatetimeIndex(edges).tz_localize("UTC").tz_convert(tm.tz).strftime("%H:%M")
    assert walls.tolist() == ["09:00", "10:00", "11:00", "12:30", "13:30", "14:30", "15:30"]


def test_a_london_early_close_ends_the_feed_at_1230(tmp_path):
    tm = TimeManager("XLON")
    store = BarStore(tmp_path)
    store.write(
        venue_minutes("XLON", "2019-12-24", SYMBOLS, seed=5, spans=[(dt.time(7), dt.time(16, 30))])
    )
    day = dt.date(2019, 12, 24)
    feed = DayFeed(BarSource(store, tm), tm, day, ("1m", "1h"))
    feed.add(SYMBOLS)
    handed = list(feed.until(tm.open_close(day)[1] + dt.timedelta(hours=6)))
    minutes = concat([b for b in handed if b.interval == "1m"])
    walls = pd.DatetimeIndex(minutes.ts).tz_localize("UTC").tz_convert(tm.tz).strftime("%H:%M")
    assert (walls[0], walls[-1]) == ("08:00", "12:29")
    assert len(minutes) == 270 * len(SYMBOLS)
    hourly = concat([b for b in handed if b.interval == "1h"])
    assert len(hourly) == 5 * len(SYMBOLS)  # 08:00 .. 12:00, the last half an hour
    assert utc64(tm.open_close(day)[1]) == feed.end
