"""BarStore: partitions, merge on re-write, queries by symbols, interval and time range."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.bars import FIELDS, Bars
from scanner_core.store import BarStore, StoreError, concat, local_ns, partition

NY = ZoneInfo("America/New_York")


def minute_bars(symbols: tuple[str, ...], day: str, minutes: int, seed: int = 0) -> Bars:
    """Regular-session minute bars for every symbol, UTC starts, sorted by (ts, code)."""
    rng = np.random.default_rng(seed)
    open_utc = pd.Timestamp(f"{day} 09:30", tz=NY).tz_convert(None).to_datetime64()
    ts = open_utc + np.arange(minutes).astype("timedelta64[m]")
    n = minutes * len(symbols)
    close = rng.uniform(10, 20, n)
    return Bars(
        "1m",
        symbols,
        np.tile(np.arange(len(symbols), dtype=np.int32), minutes),
        np.repeat(ts, len(symbols)).astype("datetime64[ns]"),
        close,
        close + 1,
        close - 1,
        close,
        rng.integers(0, 1000, n).astype(float),
    )


def rows(bars: Bars) -> set[tuple]:
    """Bars as a set of (symbol, ts, o, h, l, c, v) for order-free comparison."""
    cols = [getattr(bars, f) for f in FIELDS]
    return {
        (bars.symbols[c], t, *(float(col[i]) for col in cols))
        for i, (c, t) in enumerate(zip(bars.code, bars.ts.astype("int64"), strict=True))
    }


def test_write_then_load_round_trips_sorted_with_a_sorted_dictionary(tmp_path):
    store = BarStore(tmp_path)
    bars = minute_bars(("ZZ", "AA", "MM"), "2019-02-11", 30)
    stats = store.write(bars)
    loaded = store.load("1m")
    assert stats.added == len(bars)
    assert loaded.symbols == ("AA", "MM", "ZZ")
    assert rows(loaded) == rows(bars)
    order = np.lexsort((loaded.code, loaded.ts))
    np.testing.assert_array_equal(order, np.arange(len(loaded)))
    assert (tmp_path / "1m" / "2019-02-11.parquet").is_file()


def test_rewriting_adds_nothing_and_changed_rows_replace(tmp_path):
    store = BarStore(tmp_path)
    bars = minute_bars(("A", "B"), "2019-02-11", 10)
    store.write(bars)
    again = store.write(bars)
    assert (again.added, again.replaced, again.unchanged) == (0, 0, len(bars))
    changed = Bars(
        "1m", bars.symbols, bars.code[:1], bars.ts[:1], *(getattr(bars, f)[:1] + 1 for f in FIELDS)
    )
    stats = store.write(changed)
    assert (stats.added, stats.replaced) == (0, 1)
    loaded = store.load("1m")
    assert len(loaded) == len(bars)
    assert loaded.close[0] == bars.close[0] + 1


def test_sessions_partition_by_new_york_date(tmp_path):
    store = BarStore(tmp_path)
    store.write(minute_bars(("A",), "2019-02-11", 5))
    # 19:30 New York is already the next day in UTC but belongs to the 11th's partition.
    late = pd.Timestamp("2019-02-12 19:30", tz=NY).tz_convert(None).to_datetime64()
    store.write(Bars("1m", ("A",), np.zeros(1, np.int32), np.array([late], "datetime64[ns]"),
                     *(np.ones(1) for _ in FIELDS)))  # fmt: skip
    assert store.sessions("1m") == [dt.date(2019, 2, 11), dt.date(2019, 2, 12)]
    assert store.intervals() == ["1m"]


def test_load_filters_symbols_and_half_open_time_range(tmp_path):
    store = BarStore(tmp_path)
    store.write(minute_bars(("A", "B", "C"), "2019-02-11", 60))
    store.write(minute_bars(("A", "B", "C"), "2019-02-12", 60))
    start = dt.datetime(2019, 2, 11, 10, 0, tzinfo=NY)
    end = dt.datetime(2019, 2, 12, 9, 35, tzinfo=NY)
    got = store.load("1m", symbols=["C", "A", "X"], start=start, end=end)
    assert got.symbols == ("A", "C")
    first = pd.Timestamp(start).tz_convert(None).to_datetime64()
    last = pd.Timestamp(end).tz_convert(None).to_datetime64()
    assert got.ts.min() == first and got.ts.max() < last
    assert len(got) == 2 * (30 + 5)
    same = store.load("1m", ["A", "C"], pd.Timestamp(start), np.datetime64(last, "ns"))
    assert rows(same) == rows(got)
    by_date = store.load("1m", ["B"], start=dt.date(2019, 2, 12))
    assert len(by_date) == 60 and by_date.symbols == ("B",)
    assert len(store.load("1m", ["nope"])) == 0


def test_daily_bars_partition_by_year_and_query_by_date(tmp_path):
    store = BarStore(tmp_path)
    days = np.array(["2018-12-28", "2018-12-31", "2019-01-02"], "datetime64[ns]")
    store.write(Bars("1d", ("A",), np.zeros(3, np.int32), days, *(np.arange(3.0) for _ in FIELDS)))
    assert sorted(p.stem for p in (tmp_path / "1d").iterdir()) == ["2018", "2019"]
    assert store.sessions("1d") == [
        dt.date(2018, 12, 28),
        dt.date(2018, 12, 31),
        dt.date(2019, 1, 2),
    ]
    got = store.load("1d", start=dt.date(2018, 12, 31), end=dt.date(2019, 1, 2))
    np.testing.assert_array_equal(got.ts, days[1:2])
    assert store.symbols() == ["A"] and store.symbols("1d") == ["A"]


def test_daily_query_by_a_moment_goes_by_its_exchange_date(tmp_path):
    store = BarStore(tmp_path)
    days = np.array(["2019-02-11", "2019-02-12", "2019-02-13"], "datetime64[ns]")
    store.write(Bars("1d", ("A",), np.zeros(3, np.int32), days, *(np.arange(3.0) for _ in FIELDS)))
    # 10:00 New York on the 12th (15:00 UTC): the 12th's daily bar is not over yet
    moment = pd.Timestamp("2019-02-12 10:00", tz=NY)
    np.testing.assert_array_equal(store.load("1d", end=moment).ts, days[:1])
    np.testing.assert_array_equal(store.load("1d", start=moment).ts, days[1:])
    late = pd.Timestamp("2019-02-12 23:30", tz=NY)  # already the 13th in UTC
    np.testing.assert_array_equal(store.load("1d", end=late.tz_convert("UTC")).ts, days[:1])


def test_local_ns_follows_daylight_saving():
    winter = np.array(["2019-02-11T14:30"], "datetime64[ns]")
    summer = np.array(["2019-07-11T13:30"], "datetime64[ns]")
    for ts in (winter, summer):
        assert str(local_ns(ts, "America/New_York")[0])[11:16] == "09:30"


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 119), min_size=1, max_size=40),
    st.integers(0, 130),
    st.integers(0, 130),
)
def test_writes_in_pieces_equal_one_write_and_ranges_match_masks(tmp_path_factory, cut, a, b):
    bars = minute_bars(("A", "B"), "2019-02-11", 60, seed=len(cut))
    whole = BarStore(tmp_path_factory.mktemp("whole"))
    whole.write(bars)
    pieces = BarStore(tmp_path_factory.mktemp("pieces"))
    picked = np.zeros(len(bars), bool)
    picked[cut] = True
    pieces.write(bars.take(picked))
    pieces.write(bars.take(~picked))
    pieces.write(bars.take(picked))
    assert rows(pieces.load("1m")) == rows(whole.load("1m"))
    lo, hi = bars.ts.min() + np.timedelta64(a, "m"), bars.ts.min() + np.timedelta64(b, "m")
    got = whole.load("1m", start=lo, end=hi)
    assert rows(got) == rows(bars.take((bars.ts >= lo) & (bars.ts < hi)))


def test_a_later_row_for_the_same_key_in_one_write_wins(tmp_path):
    store = BarStore(tmp_path)
    first = minute_bars(("A",), "2019-02-11", 3)
    later = Bars("1m", ("A",), first.code, first.ts, *(getattr(first, f) * 2 for f in FIELDS))
    stats = store.write(concat([first, later]))
    assert (stats.added, stats.superseded) == (3, 3)
    np.testing.assert_array_equal(store.load("1m").close, later.close)


def test_loads_span_row_groups_and_read_only_the_ones_in_range(tmp_path, monkeypatch):
    monkeypatch.setattr(partition, "GROUP_ROWS", 7)
    store = BarStore(tmp_path)
    bars = minute_bars(("A", "B", "C"), "2019-02-11", 60)
    store.write(bars)
    path = tmp_path / "1m" / "2019-02-11.parquet"
    assert pq.ParquetFile(path).num_row_groups == -(-len(bars) // 7)
    whole = store.load("1m")
    assert rows(whole) == rows(bars)
    assert not any(getattr(whole, f).flags.writeable for f in ("code", "ts", *FIELDS))
    lo, hi = bars.ts[20], bars.ts[100]
    read = []
    original = pq.ParquetFile.read_row_group
    monkeypatch.setattr(
        pq.ParquetFile,
        "read_row_group",
        lambda self, g, **kw: read.append(g) or original(self, g, **kw),
    )
    got = store.load("1m", ["B"], start=lo, end=hi)
    assert rows(got) == rows(bars.take((bars.ts >= lo) & (bars.ts < hi) & (bars.code == 1)))
    assert read == list(range(18 // 7, 101 // 7 + 1))


def test_files_without_the_symbol_footer_or_with_a_dictionary_per_group_load(tmp_path):
    # Files written before the footer listed symbols have no key; a group may also carry
    # a dictionary of its own.
    (tmp_path / "1m").mkdir()
    ts = pd.Timestamp("2019-02-11 14:30").to_datetime64().astype("datetime64[ns]")
    batches = [
        pa.record_batch(
            [
                pa.array([ts + np.timedelta64(i, "m")] * len(names), pa.timestamp("ns")),
                pa.DictionaryArray.from_arrays(
                    pa.array(range(len(names)), pa.int32()), pa.array(names)
                ),
                *(pa.array([float(i)] * len(names)) for _ in FIELDS),
            ],
            names=["ts", "symbol", *FIELDS],
        )
        for i, names in enumerate([["B", "C"], ["A", "C"]])
    ]
    pq.write_table(
        pa.Table.from_batches(batches), tmp_path / "1m" / "2019-02-11.parquet", row_group_size=2
    )
    store = BarStore(tmp_path)
    assert store.symbols("1m") == ["A", "B", "C"]
    got = store.load("1m")
    assert got.symbols == ("A", "B", "C")
    assert [got.symbols[c] for c in got.code] == ["B", "C", "A", "C"]
    np.testing.assert_array_equal(got.close, [0, 0, 1, 1])


def test_stale_temporary_files_are_ignored_by_reads(tmp_path):
    store = BarStore(tmp_path)
    bars = minute_bars(("A", "B"), "2019-02-11", 5)
    store.write(bars)
    (tmp_path / "1m" / "2019-02-12.parquet.tmp").write_bytes(b"half a file")
    (tmp_path / "1m" / "2019-02-11.parquet.x1y2.tmp").write_bytes(b"")
    assert rows(store.load("1m")) == rows(bars)
    assert store.sessions("1m") == [dt.date(2019, 2, 11)]
    assert store.symbols() == ["A", "B"]


def test_a_damaged_partition_is_one_store_error_or_skipped_with_one_warning(tmp_path, caplog):
    store = BarStore(tmp_path)
    good = minute_bars(("A", "B"), "2019-02-11", 5)
    store.write(good)
    store.write(minute_bars(("A", "B"), "2019-02-12", 5))
    damaged = tmp_path / "1m" / "2019-02-12.parquet"
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(StoreError, match=r"2019-02-12\.parquet: cannot be read") as info:
        store.load("1m")
    assert str(info.value).startswith(f"{damaged}: ")
    assert "\n" not in str(info.value)
    skipping = BarStore(tmp_path, skip_damaged=True)
    with caplog.at_level(logging.WARNING, "scanner.store"):
        assert rows(skipping.load("1m")) == rows(good)
        assert rows(skipping.load("1m", ["A"])) == rows(good.for_symbol("A"))
        assert skipping.symbols("1m") == ["A", "B"]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert str(damaged) in warnings[0]


def test_missing_sessions_are_the_given_days_without_rows_inside_the_stored_range(tmp_path):
    store = BarStore(tmp_path)
    for day in ("2019-02-11", "2019-02-13", "2019-02-15"):
        store.write(minute_bars(("A",), day, 3))
    week = [dt.date(2019, 2, d) for d in (8, 11, 12, 13, 14, 15, 19)]
    assert store.missing_sessions("1m", week) == [dt.date(2019, 2, 12), dt.date(2019, 2, 14)]
    (tmp_path / "1m" / "2019-02-13.parquet").write_bytes(b"not parquet")
    (tmp_path / "1m" / "notes.parquet").write_bytes(b"")
    assert dt.date(2019, 2, 13) in store.missing_sessions("1m", week)
    with pytest.raises(StoreError, match=r"notes\.parquet: not a partition name"):
        store.sessions("1m")
    assert store.missing_sessions("5m", week) == []


def test_missing_daily_sessions_compare_the_dates_stored_in_each_year_file(tmp_path):
    store = BarStore(tmp_path)
    days = pd.to_datetime(["2018-12-28", "2018-12-31", "2019-01-03"]).to_numpy()
    n = len(days)
    store.write(Bars("1d", ("A",), np.zeros(n, np.int32), days, *([np.ones(n)] * 5)))
    sessions = [dt.date(2018, 12, 27), dt.date(2018, 12, 28), dt.date(2018, 12, 31)]
    sessions += [dt.date(2019, 1, 2), dt.date(2019, 1, 3), dt.date(2019, 1, 4)]
    assert store.missing_sessions("1d", sessions) == [dt.date(2019, 1, 2)]


def test_a_new_store_names_its_days_as_the_calendar_of_its_first_import(tmp_path):
    csv = tmp_path / "7203_1min.csv"
    # 09:00 Tokyo is 00:00 UTC, the evening before in New York: one Tokyo day, one file
    csv.write_text(
        "datetime,open,high,low,close,volume\n"
        "2024-03-04 09:00:00,1,1,1,1,10\n2024-03-04 14:59:00,1,1,1,1,10\n"
    )
    store = BarStore(tmp_path / "store")
    store.import_files([csv], calendar="XTKS")
    assert [p.name for p in (tmp_path / "store" / "1m").iterdir()] == ["2024-03-04.parquet"]
    reopened = BarStore(tmp_path / "store")
    assert reopened.tz == "Asia/Tokyo"
    assert reopened.day_symbols("1m", dt.date(2024, 3, 4)) == {"7203"}


def test_held_partitions_are_decoded_once_and_loads_from_them_equal_fresh_ones(
    tmp_path, monkeypatch
):
    store = BarStore(tmp_path)
    days = [minute_bars(("A", "B", "C"), d, 30, seed=i) for i, d in enumerate(DAYS)]
    for day in days:
        store.write(day)
    lo, hi = days[1].ts[0], days[2].ts[45]  # day 3 is read in part (not held), then whole
    queries = [(["A", "C"], lo, hi), (["C"], None, hi), (None, None, None), (["B"], lo, None)]
    fresh = [BarStore(tmp_path).load("1m", *q) for q in queries]
    decoded = []
    original = partition.read_partition
    monkeypatch.setattr(
        "scanner_core.store.barstore.read_partition",
        lambda path, interval, lo, hi: (
            decoded.append((path.stem, lo is None and hi is None))
            or original(path, interval, lo, hi)
        ),
    )
    store.hold()
    for query, want in zip(queries, fresh, strict=True):
        got = store.load("1m", *query)
        assert got.symbols == want.symbols
        for f in ("code", "ts", *FIELDS):
            np.testing.assert_array_equal(getattr(got, f), getattr(want, f))
    # each day decoded whole once (day 3 first read in part, twice, as it was cut)
    assert sorted(day for day, whole in decoded if whole) == sorted(DAYS)
    assert decoded.count((DAYS[2], False)) == 2
    store.write(minute_bars(("D",), DAYS[0], 5))  # a changed partition is read again
    assert "D" in store.load("1m").symbols
    store.release()
    decoded.clear()
    store.load("1m", ["A"])
    assert sorted(decoded) == [(day, True) for day in DAYS]


DAYS = ("2019-02-11", "2019-02-12", "2019-02-13")
