"""Aggregation of 1-minute bars: open-aligned buckets, checked against pandas resample."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from venue_bars import venue_minutes

from scanner_core.aggregate import aggregate
from scanner_core.bars import FIELDS, INTERVAL_MINUTES, Bars
from scanner_core.calendar import TimeManager
from scanner_core.importer import parse_file
from scanner_core.store import normalize

NY = "America/New_York"
RULES = {"5m": ("5min", "0min"), "15m": ("15min", "0min"), "1h": ("60min", "30min")}


def reference(bars: Bars, interval: str) -> pd.DataFrame:
    """The same aggregation by pandas: resample New York times per symbol."""
    frame = pd.DataFrame({f: getattr(bars, f) for f in FIELDS})
    frame["symbol"] = np.asarray(bars.symbols)[bars.code]
    local = pd.DatetimeIndex(bars.ts).tz_localize("UTC").tz_convert(NY)
    frame.index = local
    how = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    if interval == "1d":
        out = frame.groupby(["symbol", local.date]).agg(how)
        out.index = out.index.set_levels(pd.to_datetime(out.index.levels[1]), level=1)
        return out
    rule, offset = RULES[interval]
    out = (
        frame.groupby("symbol")
        .resample(rule, offset=offset, label="left", closed="left")
        .agg(how)
        .dropna(subset=["open"])
    )
    return out.set_index(
        out.index.set_levels(out.index.levels[1].tz_convert(None).as_unit("ns"), level=1)
    )


def as_frame(bars: Bars) -> pd.DataFrame:
    """Aggregated Bars indexed like the reference."""
    symbol = np.asarray(bars.symbols)[bars.code]
    index = pd.MultiIndex.from_arrays([symbol, pd.DatetimeIndex(bars.ts)])
    return pd.DataFrame({f: getattr(bars, f) for f in FIELDS}, index=index).sort_index()


@pytest.fixture(scope="module")
def eqker(real_data) -> Bars:
    """Real 1-minute bars of three symbols, one with gaps (PPLT)."""
    folder = real_data / "intraday" / "eqker_2019"
    parts = [
        parse_file(folder / f"{s}_1min.csv", timestamps="end").bars for s in ("AAPL", "PPLT", "SPY")
    ]
    symbols = tuple(b.symbols[0] for b in parts)
    code = np.concatenate([np.full(len(b), i, np.int32) for i, b in enumerate(parts)])
    cols = {f: np.concatenate([getattr(b, f) for b in parts]) for f in ("ts", *FIELDS)}
    return normalize(Bars("1m", symbols, code, **cols))


@pytest.mark.parametrize("interval", ["5m", "15m", "1h", "1d"])
def test_matches_pandas_on_real_bars(eqker, interval):
    got = aggregate(eqker, interval)
    want = reference(eqker, interval)
    assert len(got) == len(want)
    pd.testing.assert_frame_equal(as_frame(got), want, check_names=False, check_index_type=False)
    order = np.lexsort((got.code, got.ts))
    np.testing.assert_array_equal(order, np.arange(len(got)))


def test_hourly_buckets_start_at_the_open():
    start = np.datetime64("2019-02-11T14:30", "ns")  # 09:30 New York
    ts = start + np.arange(120).astype("timedelta64[m]")
    one = np.ones(120)
    bars = Bars(
        "1m", ("A",), np.zeros(120, np.int32), ts, np.arange(120.0), one * 200, one, one * 3, one
    )
    hourly = aggregate(bars, "1h")
    np.testing.assert_array_equal(hourly.ts, [start, start + np.timedelta64(60, "m")])
    np.testing.assert_array_equal(hourly.open, [0.0, 60.0])
    np.testing.assert_array_equal(hourly.volume, [60.0, 60.0])
    daily = aggregate(bars, "1d")
    np.testing.assert_array_equal(daily.ts, np.array(["2019-02-11"], "datetime64[ns]"))


def test_rejects_wrong_inputs():
    def empty(interval: str) -> Bars:
        return Bars(interval, (), *(np.empty(0) for _ in range(7)))

    with pytest.raises(ValueError, match="intraday bars"):
        aggregate(empty("1d"), "1d")
    for source, target in (("1m", "3m"), ("5m", "1m"), ("5m", "5m"), ("15m", "5m")):
        with pytest.raises(ValueError, match="cannot aggregate"):
            aggregate(empty(source), target)
    assert len(aggregate(empty("5m"), "1h")) == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 400)), min_size=1, max_size=80, unique=True
    ),
    st.sampled_from(["5m", "15m", "1h", "1d"]),
)
def test_volume_and_extremes_are_conserved(keys, interval):
    code = np.array([k[0] for k in keys], np.int32)
    ts = np.datetime64("2019-07-01T13:00", "ns") + np.array([k[1] for k in keys]).astype(
        "timedelta64[m]"
    )
    rng = np.random.default_rng(len(keys))
    price = rng.uniform(1, 2, len(keys))
    bars = normalize(
        Bars("1m", ("A", "B", "C"), code, ts, price, price + 1, price - 1, price, price)
    )
    out = aggregate(bars, interval)
    for c in np.unique(bars.code):
        mine, theirs = bars.code == c, out.code == c
        assert out.volume[theirs].sum() == pytest.approx(bars.volume[mine].sum())
        assert out.high[theirs].max() == bars.high[mine].max()
        assert out.open[theirs][0] == bars.open[mine][0]
        assert out.close[theirs][-1] == bars.close[mine][-1]


def local_walls(tz: str, ts: np.ndarray) -> list[str]:
    return pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert(tz).strftime("%H:%M").tolist()


def segment_reference(bars: Bars, interval: str, tm: TimeManager, day: dt.date) -> pd.DataFrame:
    """pandas resample of each trading segment (the morning, the afternoon) on its own."""
    frames = []
    bounds = [tm.open_close(day)[0], tm.open_close(day)[1]]
    pause = tm.lunch_break(day)
    segments = [(bounds[0], pause[0]), (pause[1], bounds[1])] if pause else [tuple(bounds)]
    ts = pd.DatetimeIndex(bars.ts).tz_localize("UTC")
    for lo, hi in segments:
        inside = np.asarray((ts >= lo) & (ts < hi))
        part = bars.take(inside)
        rule = RULES[interval][0]
        frame = pd.DataFrame({f: getattr(part, f) for f in FIELDS})
        frame["symbol"] = np.asarray(part.symbols)[part.code]
        frame.index = pd.DatetimeIndex(part.ts)
        origin = pd.Timestamp(lo).tz_convert(None)
        how = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
        out = frame.groupby("symbol").resample(rule, origin=origin).agg(how).dropna(subset=["open"])
        frames.append(out)
    out = pd.concat(frames).sort_index()
    return out.set_index(out.index.set_levels(out.index.levels[1].as_unit("ns"), level=1))


@pytest.mark.parametrize("interval", ["5m", "15m", "1h"])
@pytest.mark.parametrize(
    ("calendar", "day"),
    [
        ("XTKS", "2024-11-01"),
        ("XTKS", "2024-11-05"),
        ("XLON", "2019-12-24"),
        ("XLON", "2019-12-23"),
    ],
)
def test_buckets_follow_each_venues_segments(calendar, day, interval):
    tm = TimeManager(calendar)
    bars = normalize(venue_minutes(calendar, day, ["A", "B"], seed=3))
    got = aggregate(bars, interval, tm)
    pd.testing.assert_frame_equal(
        as_frame(got),
        segment_reference(bars, interval, tm, dt.date.fromisoformat(day)),
        check_names=False,
        check_index_type=False,
    )
    closes = tm.bar_closes(got.ts, INTERVAL_MINUTES[interval])
    assert (
        closes
        <= np.datetime64(
            tm.open_close(dt.date.fromisoformat(day))[1].astimezone(dt.UTC).replace(tzinfo=None),
            "ns",
        )
    ).all()


def test_tokyo_hourly_buckets_restart_after_lunch_and_end_short_at_the_close():
    tm = TimeManager("XTKS")
    bars = normalize(venue_minutes("XTKS", "2024-11-05", ["A"], seed=4))
    hourly = aggregate(bars, "1h", tm)
    assert local_walls("Asia/Tokyo", hourly.ts) == [
        "09:00",
        "10:00",
        "11:00",
        "12:30",
        "13:30",
        "14:30",
    ]
    # 11:00 holds 30 minutes (the break cuts it) and 14:30 a full hour to the 15:30 close
    minutes = [
        int(((bars.ts >= t) & (bars.ts < t + np.timedelta64(60, "m"))).sum()) for t in hourly.ts
    ]
    assert minutes == [60, 60, 30, 60, 60, 60]
    assert hourly.volume.sum() == bars.volume.sum()
    closes = tm.bar_closes(hourly.ts, 60)
    assert local_walls("Asia/Tokyo", closes) == [
        "10:00",
        "11:00",
        "11:30",
        "13:30",
        "14:30",
        "15:30",
    ]
    before = aggregate(normalize(venue_minutes("XTKS", "2024-11-01", ["A"], seed=4)), "1h", tm)
    assert local_walls("Asia/Tokyo", tm.bar_closes(before.ts, 60))[-1] == "15:00"


def test_a_tokyo_day_is_one_daily_bar_though_it_spans_two_utc_dates():
    tm = TimeManager("XTKS")
    bars = normalize(venue_minutes("XTKS", "2024-11-05", ["A"], seed=5))
    assert len(np.unique(bars.ts.astype("datetime64[D]"))) == 1  # 00:00-06:30 UTC
    ny_days = np.unique(pd.DatetimeIndex(bars.ts).tz_localize("UTC").tz_convert(NY).date)
    assert len(ny_days) == 2  # 19:00 the evening before to 01:30 New York
    daily = aggregate(bars, "1d", tm)
    np.testing.assert_array_equal(daily.ts, np.array(["2024-11-05"], "datetime64[ns]"))
    assert (daily.open[0], daily.close[0]) == (bars.open[0], bars.close[-1])
    assert daily.volume[0] == bars.volume.sum()
