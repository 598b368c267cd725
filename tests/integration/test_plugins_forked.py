"""Each plugin finds the same symbols forked (as a session with a timeout runs it) and inline."""

from __future__ import annotations

from scanner_core.testing import BarBook, run_both

DAYS = ("2019-02-06", "2019-02-07", "2019-02-08")
TODAY = "2019-02-12"


def momentum_bars(book: BarBook) -> None:
    """A: SMA(3 days) 13, then closes 10 -> 17 -> 14 (RSI(2) 70) on 2x volume today."""
    for day in DAYS:
        book.add("A", day, 13.0, 1e6, interval="1d")
        book.add("B", day, 13.0, 1e6, interval="1d")
    for i, (close, volume) in enumerate(((10.0, 100.0), (17.0, 100.0), (14.0, 200.0))):
        book.add("A", f"{TODAY} 09:3{i}", close, volume)
        book.add("B", f"{TODAY} 09:3{i}", 12.0, volume)


def breakout_bars(book: BarBook) -> None:
    """A closes at 12 on a bullish bar over a prior daily high of 10, on rising volume."""
    for day in DAYS:
        book.add("A", day, 10.0, 1e6, interval="1d")
        book.add("B", day, 10.0, 1e6, interval="1d")
    for i, (open_, close, volume) in enumerate(
        ((9.0, 9.5, 100.0), (9.5, 10.0, 100.0), (10.0, 12.0, 300.0))
    ):
        book.add("A", f"{TODAY} 09:3{i}", close, volume, open=open_)
        book.add("B", f"{TODAY} 09:3{i}", 9.0, volume, open=9.5)


def test_momentum_forked_and_in_process_agree(bar_book):
    momentum_bars(bar_book)
    config = {"rsi_period": 2, "volume_ratio_period": 2, "sma_days": 3}
    (scan,) = run_both("momentum", bar_book, [f"{TODAY} 09:40"], config=config)
    assert scan.symbols == ["A"] and scan.added == ["A"]


def test_breakout_forked_and_in_process_agree(bar_book):
    breakout_bars(bar_book)
    config = {"high_days": 2, "volume_ratio_period": 2}
    (scan,) = run_both("breakout", bar_book, [f"{TODAY} 09:40"], config=config)
    assert scan.symbols == ["A"] and scan.added == ["A"]


def test_gap_forked_and_in_process_agree_on_every_scan_of_the_day(bar_book):
    for symbol, prev, price in (("A", 10.0, 10.5), ("B", 20.0, 20.1)):
        bar_book.add(symbol, "2024-01-03 15:59", prev)
        bar_book.minutes(symbol, "2024-01-04 09:30", [price] * 15, volume=1e6)
    scans = run_both("gap", bar_book, ["2024-01-04 09:35", "2024-01-04 09:40"])
    assert [s.symbols for s in scans] == [["A"], ["A"]]


def test_volume_forked_and_in_process_agree_with_the_profile_from_session_start(bar_book):
    for day in ("2024-01-02", "2024-01-03"):
        for symbol in ("A", "B"):
            bar_book.minutes(symbol, f"{day} 09:30", [100.0] * 5, volume=100)
    bar_book.minutes("A", "2024-01-04 09:30", [101.0] * 5, volume=400)
    bar_book.minutes("B", "2024-01-04 09:30", [101.0] * 5, volume=100)
    (scan,) = run_both("volume", bar_book, ["2024-01-04 09:35"], config={"lookback_days": 2})
    assert scan.symbols == ["A"]
    assert scan.metadata["values"]["A"]["volume_multiple"] == 4.0
