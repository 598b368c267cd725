"""SessionData: columnar advance, reads, warm-up, lazy universe, no look-ahead, leave/rejoin."""

from __future__ import annotations

import shutil
import tempfile
import weakref

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanner_core.aggregate import aggregate
from scanner_core.bars import FIELDS, Bars
from scanner_core.indicators import Bar, IndicatorConfig, kernel_for, session_ids
from scanner_core.session import SessionData, _LocalDays
from scanner_core.store import BarStore

T0 = np.datetime64("2019-02-12T14:30", "ns")  # 09:30 New York
MINUTE = np.timedelta64(1, "m")
RSI = IndicatorConfig("rsi", 5, "1m")
EMA = IndicatorConfig("ema", 4, "1m")
CONFIGS = (RSI, EMA, IndicatorConfig("vwap", 1, "1m"), IndicatorConfig("volume_ratio", 3, "1m"))


class RecordingStore(BarStore):
    """A real BarStore in a fresh folder holding ``bars``, recording every load."""

    def __init__(self, bars: Bars) -> None:
        root = tempfile.mkdtemp(prefix="session-store-")
        weakref.finalize(self, shutil.rmtree, root, True)
        super().__init__(root)
        self.write(bars)
        self.queries: list[tuple] = []

    def load(self, interval, symbols=None, start=None, end=None) -> Bars:
        self.queries.append((interval, tuple(symbols or ()), start, end))
        return super().load(interval, symbols, start, end)


def make_bars(symbols, n_times, seed=0, gap=0.0, start=T0) -> Bars:
    """Random-walk 1m bars, sorted by (ts, code), with a share of bars missing."""
    rng = np.random.default_rng(seed)
    times = start + np.arange(n_times) * MINUTE
    t, c = np.meshgrid(np.arange(n_times), np.arange(len(symbols)), indexing="ij")
    keep = rng.uniform(size=t.shape) >= gap
    t, c = t[keep], c[keep]
    close = 50 + rng.normal(0, 0.5, len(t)).cumsum()
    spread = rng.uniform(0.01, 0.3, len(t))
    vol = rng.integers(1, 1000, len(t)).astype(float)
    return Bars(
        "1m",
        tuple(symbols),
        c.astype(np.int32),
        times[t],
        close + rng.uniform(-0.1, 0.1, len(t)),
        close + spread,
        close - spread,
        close,
        vol,
    )


def full_history_value(bars: Bars, symbol: str, config: IndicatorConfig, until) -> float:
    """The indicator over every bar of the symbol that starts before ``until``."""
    one = bars.for_symbol(symbol)
    one = one.take(one.ts < until)
    kernel = kernel_for(config, 1)
    sessions = session_ids(one.ts, "1m")
    for i in range(len(one)):
        fields = (np.array([getattr(one, f)[i]]) for f in FIELDS)
        kernel.update(np.array([0]), Bar(*fields, int(sessions[i])))
    return float(kernel.read().values[0])


def replay_until(session: SessionData, bars: Bars, until) -> None:
    session.replay(bars.take(bars.ts < until))


def test_advance_writes_a_cross_section_and_latest_reads_it():
    s = SessionData()
    s.add_symbols(["A", "B", "C"])
    s.advance("1m", T0, np.array([2, 0]), *(np.array([1.0, 2.0]),) * 4, np.array([10.0, 20.0]))
    s.advance("1m", T0 + MINUTE, np.array([0]), *(np.array([3.0]),) * 4, np.array([30.0]))
    close = s.latest("close")
    assert close[0] == 3.0 and np.isnan(close[1]) and close[2] == 1.0
    assert s.current_time == pd.Timestamp(T0 + 2 * MINUTE).tz_localize("UTC")
    assert s.history("A", "1m").close.tolist() == [2.0, 3.0]
    np.testing.assert_array_equal(s.history("A", "1m", bars=1).ts, [T0 + MINUTE])
    assert s.index(["C", "Z", "A"]).tolist() == [2, -1, 0]
    with pytest.raises(ValueError, match="out of order"):
        s.advance("1m", T0, np.array([0]), *(np.array([1.0]),) * 5)
    with pytest.raises(ValueError, match="column index"):
        s.advance("1m", T0 + 5 * MINUTE, np.array([-1]), *(np.array([1.0]),) * 5)
    with pytest.raises(ValueError, match="'vwap'"):
        s.latest("vwap")


def test_frame_grows_past_its_capacity_and_symbols_past_theirs():
    bars = make_bars([f"S{i}" for i in range(9)], 40, seed=1)
    s = SessionData(capacity=4, symbol_capacity=2)
    s.add_symbols(bars.symbols)
    s.add_indicator(None, EMA)
    assert s.replay(bars) == 40
    hist = s.history("S8", "1m")
    np.testing.assert_array_equal(hist.close, bars.for_symbol("S8").close)
    expected = full_history_value(bars, "S3", EMA, T0 + 40 * MINUTE)
    assert s.indicator(EMA).values[3] == expected


def test_symbol_added_mid_session_is_valid_at_once_and_equals_full_history():
    bars = make_bars(["A", "B", "C"], 60, seed=2, gap=0.2)
    store = RecordingStore(bars)
    s = SessionData(store)
    s.add_symbols(["A", "B"])
    for config in CONFIGS:
        s.add_indicator(None, config)
    at = T0 + 41 * MINUTE
    replay_until(s, bars, at)
    assert s.add_symbol("C") is True
    assert s.add_symbol("C") is False
    c = s.index("C")[0]
    for config in CONFIGS:
        read = s.indicator(config)
        assert read.valid[c], config
        assert read.values[c] == pytest.approx(full_history_value(bars, "C", config, at), abs=1e-9)
    replay_until(s, bars.take(bars.ts >= at), T0 + 60 * MINUTE)
    for config in CONFIGS:
        expected = full_history_value(bars, "C", config, T0 + 60 * MINUTE)
        assert s.indicator(config).values[c] == pytest.approx(expected, abs=1e-9)


def test_warm_up_never_reads_bars_that_have_not_closed():
    bars = make_bars(["A", "B"], 30, seed=3)
    store = RecordingStore(bars)
    s = SessionData(store)
    s.add_symbols(["A"])
    s.add_indicator(None, RSI)
    replay_until(s, bars, T0 + 10 * MINUTE)
    s.add_symbol("B")
    now = s.current_time.tz_convert(None).to_datetime64()
    for _, _, _, end in store.queries:
        visible = bars.ts[bars.ts < np.datetime64(end, "ns")]
        assert (visible + MINUTE <= now).all()
    assert s.history("B", "1m").ts.max() == T0 + 9 * MINUTE


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(5, 25), extra=st.integers(1, 20), seed=st.integers(0, 1000))
def test_appending_later_bars_to_the_store_changes_nothing_at_t(cut, extra, seed):
    base = make_bars(["A", "B"], cut + extra, seed=seed, gap=0.1)
    early = base.take(base.ts < T0 + cut * MINUTE)
    results = []
    for store_bars in (early, base):
        s = SessionData(RecordingStore(store_bars))
        s.add_symbols(["A"])
        s.add_indicator(None, RSI)
        replay_until(s, base, T0 + cut * MINUTE)
        s.add_symbol("B")
        results.append((s.indicator(RSI).values, s.history("B", "1m").ts, s.latest("close")))
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_universe_loads_lazily_on_first_read():
    bars = make_bars(["A", "B", "C"], 20, seed=4)
    store = RecordingStore(bars)
    s = SessionData(store)
    s.add_indicator(None, EMA)
    s.track(["A", "B", "C"])
    s.set_time(T0 + 10 * MINUTE)
    assert store.queries == []
    assert not s.in_session().any()
    values = s.indicator(EMA)
    loads = len(store.queries)
    assert loads >= 1 and sorted(store.queries[0][1]) == ["A", "B", "C"]
    assert values.valid.all()
    assert values.values[1] == full_history_value(bars, "B", EMA, T0 + 10 * MINUTE)
    s.latest("close")
    assert len(store.queries) == loads


def test_symbol_that_leaves_and_rejoins_never_replays_missed_bars():
    bars = make_bars(["A", "B"], 40, seed=5)
    s = SessionData(RecordingStore(bars))
    twin = SessionData(RecordingStore(bars))
    for session in (s, twin):
        session.add_symbols(["A", "B"])
        session.add_indicator(None, RSI)
    replay_until(s, bars, T0 + 10 * MINUTE)
    assert s.leave_session("B") is True
    assert not s.in_session()[1]
    assert np.isnan(s.indicator(RSI).values[1])
    replay_until(s, bars.take(bars.ts >= T0 + 10 * MINUTE), T0 + 25 * MINUTE)
    assert np.isnan(s.latest("close")[1])
    assert s.add_symbol("B") is True
    replay_until(s, bars.take(bars.ts >= T0 + 25 * MINUTE), T0 + 26 * MINUTE)
    replay_until(twin, bars, T0 + 26 * MINUTE)
    # the missed minutes were neither skipped nor fed twice: B is exactly where it would be
    kernel, twin_kernel = s._kernels[RSI], twin._kernels[RSI]
    assert kernel.count[1] == twin_kernel.count[1] == 26
    assert kernel.gain[1] == twin_kernel.gain[1]
    hist = s.history("B", "1m")
    np.testing.assert_array_equal(hist.ts, T0 + np.arange(26) * MINUTE)
    assert s.latest("close")[1] == bars.for_symbol("B").close[25]


def test_new_session_clears_the_frame_and_history_reaches_back_through_the_store():
    day1 = make_bars(["A"], 5, seed=6)
    day2 = make_bars(["A"], 5, seed=7, start=T0 + np.timedelta64(1, "D"))
    both = Bars(
        "1m",
        ("A",),
        *(np.concatenate([getattr(day1, f), getattr(day2, f)]) for f in ("code", "ts", *FIELDS)),
    )
    s = SessionData(RecordingStore(both))
    s.add_symbols(["A"])
    dv = IndicatorConfig("day_volume", 1, "1m")
    s.add_indicator(None, dv)
    s.replay(day1)
    assert s.indicator(dv).values[0] == day1.volume.sum()
    s.replay(day2.take(np.arange(2)))
    assert s._frames["1m"].length == 2
    assert s.indicator(dv).values[0] == day2.volume[:2].sum()
    hist = s.history("A", "1m", bars=4)
    np.testing.assert_array_equal(hist.ts, np.r_[day1.ts[-2:], day2.ts[:2]])


def test_indicator_added_mid_session_is_warm_for_live_symbols():
    bars = make_bars(["A", "B"], 30, seed=8)
    s = SessionData(RecordingStore(bars))
    s.add_symbols(["A", "B"])
    replay_until(s, bars, T0 + 20 * MINUTE)
    read = s.indicator(RSI)
    assert read.valid.all()
    assert read.values[0] == full_history_value(bars, "A", RSI, T0 + 20 * MINUTE)


def test_indicators_registered_together_read_the_store_once_and_warm_as_one_by_one():
    bars = make_bars(["A", "B"], 40, seed=9)
    store = RecordingStore(bars)
    s = SessionData(store)
    s.set_time(T0 + 30 * MINUTE)
    s.add_symbols(["A", "B"])
    before = len(store.queries)
    for config in CONFIGS:
        s.add_indicator(None, config)
    assert len(store.queries) == before  # nothing read until something needs them
    for config in CONFIGS:
        values = s.indicator(config)
        one = SessionData(RecordingStore(bars))
        one.set_time(T0 + 30 * MINUTE)
        one.add_symbols(["A", "B"])
        one.add_indicator(None, config)
        np.testing.assert_array_equal(values.values, one.indicator(config).values)
    # one warm-up pass (a load, and its extension for symbols short of history), where
    # one pass per indicator would make at least one load each
    assert 1 <= len(store.queries) - before < len(CONFIGS)


def test_warm_up_looks_no_further_back_than_the_store_reaches():
    bars = make_bars(["A", "B"], 10, seed=10)
    store = RecordingStore(bars)
    s = SessionData(store)
    s.set_time(T0 + 10 * MINUTE)
    s.add_indicator(None, IndicatorConfig("sma", 200, "1m"))  # far more than is stored
    s.add_symbols(["A", "B"])
    assert len(store.queries) == 1  # no longer windows: the store has no older day
    older = make_bars(["A"], 5, seed=11, start=T0 - np.timedelta64(1, "D"))
    store.write(older)
    s.add_symbols(["C"])
    s.add_symbol("A")
    fresh = SessionData(store)
    fresh.set_time(T0 + 10 * MINUTE)
    fresh.add_indicator(None, IndicatorConfig("sma", 200, "1m"))
    fresh.add_symbols(["A", "B"])
    assert len(fresh.history("A", "1m")) == 15  # the older day is found by a longer window


def test_scanner_history_requirement_is_loaded():
    bars = make_bars(["A"], 30, seed=9)
    store = RecordingStore(bars)
    s = SessionData(store)
    s.add_requirements({"history": {"1m": 12}})
    s.set_time(T0 + 20 * MINUTE)
    s.add_symbol("A")
    assert s.latest("close")[0] == bars.close[19]
    assert len(s.history("A", "1m", 12)) == 12
    with pytest.raises(ValueError, match=r"history\.1m"):
        s.add_requirements({"history": {"1m": "lots"}})


def test_symbol_without_any_stored_history_joins_with_indicators_not_yet_valid():
    s = SessionData(RecordingStore(make_bars(["A"], 5, seed=10)))
    s.add_indicator(None, RSI)
    s.set_time(T0)
    assert s.add_symbol("NEW") is True
    assert not s.indicator(RSI).valid[0]
    assert np.isnan(s.latest("close")[0])


@settings(max_examples=30, deadline=None)
@given(
    leave=st.integers(1, 30),
    away=st.integers(0, 15),
    seed=st.integers(0, 1000),
    gap=st.floats(0, 0.5),
)
def test_leave_and_rejoin_at_any_time_matches_never_leaving(leave, away, seed, gap):
    bars = make_bars(["A", "B"], 50, seed=seed, gap=gap)
    configs = (RSI, EMA, IndicatorConfig("sma", 3, "1m"), IndicatorConfig("vwap", 1, "1m"))
    stayed, left = SessionData(RecordingStore(bars)), SessionData(RecordingStore(bars))
    for s in (stayed, left):
        for config in configs:
            s.add_indicator(None, config)
        s.add_symbols(["A", "B"])
    back = leave + away
    replay_until(left, bars, T0 + leave * MINUTE)
    left.leave_session("B")
    replay_until(left, bars.take(bars.ts >= T0 + leave * MINUTE), T0 + back * MINUTE)
    left.add_symbol("B")
    replay_until(left, bars.take(bars.ts >= T0 + back * MINUTE), T0 + 50 * MINUTE)
    replay_until(stayed, bars, T0 + 50 * MINUTE)
    for config in configs:
        a, b = stayed._kernels[config].state(), left._kernels[config].state()
        for key in a:
            np.testing.assert_array_equal(a[key][1], b[key][1], err_msg=f"{config} {key}")
    np.testing.assert_array_equal(stayed.history("B", "1m").ts, left.history("B", "1m").ts)
    np.testing.assert_array_equal(stayed.latest("close"), left.latest("close"))


def test_reads_at_one_tick_are_shared_and_a_new_bar_recomputes_them():
    bars = make_bars(["A", "B"], 30, seed=12)
    s = SessionData(RecordingStore(bars))
    s.add_symbols(["A", "B"])
    s.add_indicator(None, RSI)
    replay_until(s, bars, T0 + 20 * MINUTE)
    first, close = s.indicator(RSI), s.latest("close")
    assert s.indicator(RSI) is first and s.latest("close") is close
    kept = first.values.copy()
    replay_until(s, bars.take(bars.ts >= T0 + 20 * MINUTE), T0 + 21 * MINUTE)
    after = s.indicator(RSI)
    assert after is not first
    np.testing.assert_array_equal(first.values, kept)
    assert after.values[0] == full_history_value(bars, "A", RSI, T0 + 21 * MINUTE)
    assert s.latest("close")[1] == bars.for_symbol("B").close[20]


def test_shared_reads_are_read_only():
    bars = make_bars(["A"], 10, seed=13)
    s = SessionData(RecordingStore(bars))
    s.add_symbols(["A"])
    s.replay(bars)
    for array in (s.indicator(EMA).values, s.indicator(EMA).valid, s.latest("close")):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_cached_reads_follow_leaving_joining_and_the_clock():
    bars = make_bars(["A", "B"], 30, seed=14)
    s = SessionData(RecordingStore(bars))
    s.add_symbols(["A", "B"])
    dv = IndicatorConfig("day_volume", 1, "1m")
    s.add_indicator(None, dv)
    replay_until(s, bars, T0 + 10 * MINUTE)
    assert s.indicator(dv).values[1] > 0 and not np.isnan(s.latest("close")[1])
    s.leave_session("B")
    assert np.isnan(s.indicator(dv).values[1]) and np.isnan(s.latest("close")[1])
    s.add_symbols(["C"])
    assert len(s.indicator(dv).values) == len(s.latest("close")) == 3
    # the next day's pre-market: nothing traded yet in the session the clock is in
    s.set_time(T0 + np.timedelta64(1, "D") - np.timedelta64(1, "h"))
    assert s.indicator(dv).values[0] == 0
    assert s.latest("close")[0] == bars.for_symbol("A").close[9]


def _minutes_after(start: np.datetime64, *instants: str) -> list[int]:
    return [int((np.datetime64(t, "ns") - start) // MINUTE) for t in instants]


_YEAR_START = np.datetime64("2018-01-01T00:00", "ns")
#: UTC instants around New York's midnights and clock changes in 2018
_DST_EDGES = _minutes_after(
    _YEAR_START,
    "2018-03-11T04:59",
    "2018-03-11T05:00",
    "2018-03-11T06:59",
    "2018-03-11T07:00",
    "2018-03-12T03:59",
    "2018-03-12T04:00",
    "2018-11-04T03:59",
    "2018-11-04T04:00",
    "2018-11-04T05:59",
    "2018-11-04T06:00",
    "2018-11-05T04:59",
    "2018-11-05T05:00",
    "2018-03-11T05:01",
    "2018-11-04T04:01",
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3 * 366 * 24 * 60), min_size=1, max_size=40))
@example(_DST_EDGES)
@example(list(reversed(_DST_EDGES)))
def test_local_day_of_an_instant_equals_a_fresh_time_zone_conversion(minutes):
    days = _LocalDays("America/New_York")
    # any order, so the remembered day is left both forwards and backwards
    for m in minutes:
        at = _YEAR_START + m * MINUTE
        assert days.session(at) == session_ids(np.array([at]), "1m")[0], at


def test_symbol_added_at_the_session_end_sees_the_short_last_bucket():
    # hourly buckets 09:30 and 10:30 of a session ending at 11:00: the second closes at 11:00
    end = T0 + 90 * MINUTE
    hourly = aggregate(make_bars(["A", "B"], 90, seed=4), "1h")
    s = SessionData(RecordingStore(hourly))
    sma = IndicatorConfig("sma", 2, "1h")
    s.add_symbols(["A"])
    s.add_indicator(None, sma)
    s.replay(hourly.take(hourly.code == 0), session_end=end)
    assert s.current_time.tz_convert(None).to_datetime64() == end
    s.add_symbol("B")
    b = hourly.for_symbol("B")
    assert list(s.history("B", "1h").ts) == list(b.ts)
    assert s.latest("close", "1h")[s.index("B")[0]] == b.close[-1]
    assert s.indicator(sma).values[s.index("B")[0]] == pytest.approx(b.close.mean())


def test_streamed_symbols_leave_out_those_that_left_the_session():
    session = SessionData()
    session.track(["AAA", "BBB"])
    session.add_symbols(["CCC", "DDD"])
    assert session.streamed_symbols == ["AAA", "BBB", "CCC", "DDD"]  # AAA, BBB still pending
    session.leave_session("CCC")
    session.leave_session("DDD", keep_tracking=True)
    assert session.streamed_symbols == ["AAA", "BBB", "DDD"]


def test_at_the_open_a_symbol_with_the_last_session_needs_no_longer_window():
    # three sessions of bars, B missing the middle one; prev_close needs today and the
    # one before: at the open today has no bar yet, which is no reason to look further
    # back for A, while B is short of the earlier session and is found further back
    days = [T0 + np.timedelta64(d, "D") for d in (-1, 0, 1)]  # Mon 11th to Wed 13th
    parts = [make_bars(["A", "B"], 30, seed=20, start=days[0])]
    parts += [make_bars(["A"], 30, seed=21, start=days[1])]
    store = RecordingStore(parts[0])
    store.write(parts[1])
    prev_close = IndicatorConfig("prev_close", 1, "1m")
    s = SessionData(store)
    s.add_indicator(None, prev_close)
    s.set_time(days[2])
    s.add_symbols(["A"])
    assert len(store.queries) == 1
    s.add_symbols(["B"])
    assert len(store.queries) == 3  # B's window, then a longer one
    np.testing.assert_array_equal(
        s.indicator(prev_close).values, [parts[1].close[-1], parts[0].close[-1]]
    )


@pytest.mark.parametrize("ask", [{"sessions": 1}, {"bars": 4}])
def test_a_window_puts_stored_bars_in_their_symbols_columns_whatever_the_column_order(ask):
    # columns C, B, A: not the sorted order the store names symbols in, and B has no
    # stored bar, so a load's codes are neither the columns nor the positions asked for
    bars = make_bars(["A", "C"], 20, seed=1)
    s = SessionData(RecordingStore(bars))
    s.set_time(T0 + 10 * MINUTE)
    s.add_symbols(["C", "B", "A"])
    window = s.window("1m", **ask)
    assert window.symbols == ("C", "B", "A")
    for name in ("A", "B", "C"):
        np.testing.assert_array_equal(
            window.close[window.code == s.index(name)[0]],
            s.history(name, "1m", ask.get("bars")).close,
        )
    assert len(window) == (20 if "sessions" in ask else 8)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 1000),
    gap=st.sampled_from([0.0, 0.3]),
    order=st.permutations(["A", "B", "C"]),
    minutes=st.integers(0, 40),
    interval=st.sampled_from(["1m", "5m"]),
)
def test_a_day_window_is_the_windows_rows_of_that_date(seed, gap, order, minutes, interval):
    # three stored sessions (C none on the middle one), the clock some minutes into the
    # third, the session's columns in any order
    days = [T0 + np.timedelta64(d, "D") for d in (-1, 0, 1)]
    parts = [make_bars(["A", "B", "C"], 40, seed=seed, gap=gap, start=days[0])]
    parts.append(make_bars(["A", "B"], 40, seed=seed + 1, gap=gap, start=days[1]))
    parts.append(make_bars(["A", "B", "C"], 40, seed=seed + 2, gap=gap, start=days[2]))
    store = RecordingStore(parts[0])
    for part in parts[1:]:
        store.write(part)
    s = SessionData(store)
    s.set_time(days[2])
    s.add_symbols(order)
    replay_until(s, parts[2], days[2] + minutes * MINUTE)
    whole = s.window(interval, sessions=3)
    dates = session_ids(whole.ts, interval)
    for k, start in enumerate(days):
        day = start.astype("datetime64[D]")
        one = s.day_window(interval, day.astype(object))
        expected = whole.take(dates == day.astype(np.int64))
        assert one.symbols == s.symbols
        for f in ("code", "ts", *FIELDS):
            np.testing.assert_array_equal(getattr(one, f), getattr(expected, f), err_msg=f"{f} {k}")
    later = (days[2] + np.timedelta64(1, "D")).astype("datetime64[D]").astype(object)
    assert len(s.day_window(interval, later)) == 0
    with pytest.raises(ValueError, match="intraday"):
        s.day_window("1d", later)
