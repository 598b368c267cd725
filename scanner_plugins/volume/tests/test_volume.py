"""VolumeScanner and its same-time volume profile on hand-built minute bars.

Scans run through a real backtest (scanner_core.testing), forked and in process; the
profile is built from a real BarStore through the session view.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scanner_volume import VolumeScanner
from scanner_volume.profile import SLOTS, ProfileMemo, build_profile

from scanner_core import SessionView
from scanner_core.calendar import TimeManager
from scanner_core.config import ConfigError
from scanner_core.session import SessionData
from scanner_core.testing import BarBook, run_both, utc

TM = TimeManager("XNYS")
PAST = ("2024-01-02", "2024-01-03")
TODAY = "2024-01-04"


def ny(day: str, clock: str) -> str:
    """A New York wall time, as the testing kit reads it."""
    return f"{day} {clock}"


def store_rows(book: BarBook, rows: list[tuple[str, str, float, float]]) -> BarBook:
    """(symbol, local start, close, volume) rows as 1m bars with open = high = low = close."""
    for symbol, when, close, volume in rows:
        book.add(symbol, when, close, volume)
    return book


def profile_of(book: BarBook, symbols: list[str], day: dt.date, days: int):
    """build_profile through a session view over the book's real store, at ``day``'s open."""
    data = SessionData(book.store, calendar=TM)
    data.track(symbols)
    data.set_time(utc(f"{day} 09:30"))
    return build_profile(SessionView(data), day, days)


def history(symbol: str, days=PAST) -> list[tuple]:
    """Past sessions: 100 shares a minute from 09:30 to 09:34, then 1M at 15:00; close 100."""
    rows = [(symbol, ny(d, f"09:3{m}"), 100.0, 100.0) for d in days for m in range(5)]
    return rows + [(symbol, ny(d, "15:00"), 100.0, 1e6) for d in days]


def today(symbol: str, price: float, volume: float) -> list[tuple]:
    """Today from 09:30 to 09:34: ``volume`` spread evenly, the last close at ``price``."""
    return [(symbol, ny(TODAY, f"09:3{m}"), price, volume / 5) for m in range(5)]


ROWS = [
    *history("SPIKE"),
    *today("SPIKE", 101.0, 1500.0),  # 3.0x, +1%: both just met
    *history("SHY"),
    *today("SHY", 101.0, 1499.0),  # 2.998x: missed
    *history("CALM"),
    *today("CALM", 100.99, 3000.0),  # +0.99%: missed
    *history("DROP"),
    *today("DROP", 99.0, 4000.0),  # -1%: an absolute move
    *history("YOUNG", PAST[1:]),
    *today("YOUNG", 110.0, 9000.0),  # one past session only
    *history("HELD"),
    *today("HELD", 110.0, 9000.0),  # already in the session
    *history("HALT"),  # no bars today
]
UNIVERSE = ["SPIKE", "SHY", "CALM", "DROP", "YOUNG", "HELD", "HALT"]


def scan_at(book: BarBook, clock: str, **config) -> tuple[list[str], dict]:
    """Store ROWS, hold HELD in the session, and scan at ``clock`` today, both ways."""
    store_rows(book, ROWS)
    (scan,) = run_both(
        "volume",
        book,
        [ny(TODAY, clock)],
        universe=UNIVERSE,
        symbols=["HELD"],
        config={"lookback_days": 2, **config},
    )
    return scan.symbols, scan.metadata


def test_multiple_of_the_same_time_average_and_change_just_met(bar_book):
    found, meta = scan_at(bar_book, "09:35")
    assert found == ["DROP", "SPIKE"]
    assert meta["minute"] == 5
    assert meta["values"]["SPIKE"] == pytest.approx(
        {
            "volume_multiple": 3.0,
            "cumulative_volume": 1500.0,
            "average_cumulative_volume": 500.0,
            "change_pct": 1.0,
            "price": 101.0,
            "prev_close": 100.0,
        }
    )
    assert meta["skipped_history"] == 1  # YOUNG
    assert meta["already_in_session"] == 1  # HELD
    assert meta["evaluated"] == len(UNIVERSE) - 1


def test_up_only_change_drops_falling_symbols(bar_book):
    assert scan_at(bar_book, "09:35", change="up")[0] == ["SPIKE"]


def test_earlier_minute_compares_with_the_earlier_average(bar_book):
    # at 09:33 three of today's bars have closed: 900 shares against 300 on average
    found, meta = scan_at(bar_book, "09:33")
    assert meta["minute"] == 3 and found == ["DROP", "SPIKE"]
    assert meta["values"]["SPIKE"]["average_cumulative_volume"] == 300.0


def test_thresholds_are_configurable(bar_book):
    assert scan_at(bar_book, "09:35", min_multiple=2.9, min_change_pct=0.99)[0] == [
        "DROP",
        "CALM",
        "SPIKE",
        "SHY",
    ]


def test_profile_counts_pre_market_from_the_open_and_never_after_hours(bar_book):
    rows = [
        ("A", ny(PAST[0], "08:00"), 1.0, 40.0),
        ("A", ny(PAST[0], "09:30"), 1.0, 10.0),
        ("A", ny(PAST[0], "16:30"), 1.0, 1e9),
        ("A", ny(PAST[1], "15:59"), 1.0, 20.0),
        ("B", ny(PAST[1], "09:30"), 1.0, 5.0),
    ]
    profile = profile_of(store_rows(bar_book, rows), ["A", "B", "C"], dt.date(2024, 1, 4), 2)
    assert profile.at(0).tolist() == [20.0, 0.0, 0.0]
    assert profile.at(1).tolist() == [25.0, 2.5, 0.0]
    assert profile.at(390).tolist() == [35.0, 2.5, 0.0]
    assert profile.at(10_000).tolist() == profile.average[:, SLOTS - 1].tolist()
    assert profile.complete.tolist() == [True, False, False]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"min_multiple": 0}, "min_multiple"),
        ({"lookback_days": 0}, "lookback_days"),
        ({"change": "down"}, "change"),
        ({"min_change_pct": -1}, "min_change_pct"),
    ],
)
def test_bad_settings_name_their_field(config, field):
    with pytest.raises(ConfigError, match=rf"scanners\[1\]\.config\.{field}"):
        VolumeScanner(config, path="scanners[1].config")


def test_the_profile_leaves_out_bars_after_an_early_close(tmp_path):
    # 2019-07-03 closed at 13:00; a vendor's 13:01-13:08 prints must not count
    days = ("2019-07-01", "2019-07-02", "2019-07-03")
    regular = [
        ("AAA", ny(d, f"{h:02d}:{m:02d}"), 10.0, 100.0)
        for d in days
        for h, m in ((9, 30), (10, 0), (12, 59))
    ]
    late = [("AAA", ny("2019-07-03", f"13:0{m}"), 10.0, 1e9) for m in range(1, 9)]
    clean = store_rows(BarBook(tmp_path / "clean"), regular)
    dirty = store_rows(BarBook(tmp_path / "dirty"), regular + late)
    today = dt.date(2019, 7, 5)
    want, got = (profile_of(b, ["AAA"], today, 3) for b in (clean, dirty))
    assert got.complete.all()
    np.testing.assert_array_equal(got.average, want.average)
    assert got.at(SLOTS - 1)[0] == 300.0


SESSIONS = TM.sessions(dt.date(2024, 1, 8), dt.date(2024, 1, 19))  # MLK day 2024-01-15 shut


def view_at(book: BarBook, symbols: list[str], day: dt.date) -> SessionView:
    """A view of a session tracking ``symbols``, at ``day``'s open."""
    data = SessionData(book.store, calendar=TM)
    data.track(symbols)
    data.set_time(utc(f"{day} 09:30"))
    return SessionView(data)


@st.composite
def minute_books(draw: st.DrawFn) -> list[tuple[str, str, float, float]]:
    """Bars of three symbols over SESSIONS: some minutes, pre-market and after-hours
    ones too, fractional volumes (their sums depend on the order they are added in),
    and days a symbol has no bar at all."""
    rows = []
    for day in SESSIONS:
        for symbol in ("A", "B", "C"):
            if draw(st.integers(0, 4)) == 0:
                continue
            minutes = draw(st.sets(st.integers(-60, 420), min_size=1, max_size=6))
            for m in sorted(minutes):
                at = dt.datetime.combine(day, dt.time(9, 30)) + dt.timedelta(minutes=m)
                volume = draw(st.floats(0.1, 1e6, allow_nan=False))
                rows.append((symbol, ny(str(day), at.strftime("%H:%M")), 10.0, volume))
    return rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=minute_books(), grows_on=st.sampled_from(SESSIONS[3:]), lookback=st.integers(1, 3))
def test_a_profile_kept_from_day_to_day_is_the_one_built_afresh(
    tmp_path_factory, rows, grows_on: dt.date, lookback: int
) -> None:
    book = store_rows(BarBook(tmp_path_factory.mktemp("book")), rows)
    memo = ProfileMemo()
    for day in SESSIONS[3:]:
        # a symbol joins the universe one day: the memo starts over for the new columns
        symbols = ["A", "B", "C", "D"] if day >= grows_on else ["A", "B", "C"]
        kept = memo.profile(view_at(book, symbols, day), day, lookback)
        fresh = build_profile(view_at(book, symbols, day), day, lookback)
        assert kept.symbols == fresh.symbols
        assert np.array_equal(kept.average, fresh.average), day
        assert np.array_equal(kept.complete, fresh.complete), day


class CountingView(SessionView):
    """A real session view that records the reads a scanner makes: a date read on its
    own, or how many sessions a window asked for."""

    def __init__(self, data: SessionData, asked: list) -> None:
        super().__init__(data)
        self._asked = asked

    def bars(self, interval, lookback=None, *, sessions=None):
        self._asked.append(sessions)
        return super().bars(interval, lookback, sessions=sessions)

    def day_bars(self, interval, day):
        self._asked.append(day)
        return super().day_bars(interval, day)


def test_each_later_day_reads_only_the_session_before_it(bar_book):
    rows = [("A", ny(str(d), "10:00"), 10.0, 100.0 + k) for k, d in enumerate(SESSIONS)]
    store_rows(bar_book, rows)
    memo, asked = ProfileMemo(), []
    for day in SESSIONS[3:6]:
        data = SessionData(bar_book.store, calendar=TM)
        data.track(["A"])
        data.set_time(utc(f"{day} 09:30"))
        profile = memo.profile(CountingView(data, asked), day, 3)
        assert profile.complete.all()
    # the first day reads its 3 sessions, each on its own; the next ones the one before
    assert asked == [*SESSIONS[:3], SESSIONS[3], SESSIONS[4]]
    assert profile.at(60)[0] == np.mean([100.0 + k for k in (2, 3, 4)])


def test_a_symbols_profile_does_not_depend_on_its_column_or_on_symbols_without_bars(bar_book):
    # the store names symbols sorted; a session's columns follow the order symbols
    # came in, and a new listing has no stored bar at all
    store_rows(bar_book, ROWS)
    day = dt.date.fromisoformat(TODAY)
    alone = {s: profile_of(bar_book, [s], day, 2) for s in UNIVERSE}
    mixed = ["NEW", *reversed(UNIVERSE)]
    together = profile_of(bar_book, mixed, day, 2)
    for k, symbol in enumerate(mixed[1:], start=1):
        np.testing.assert_array_equal(together.average[k], alone[symbol].average[0])
        assert together.complete[k] == alone[symbol].complete[0]
    assert not together.complete[0] and not together.average[0].any()
