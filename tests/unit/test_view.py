"""SessionView: a scan reads the session through it and can change nothing."""

from __future__ import annotations

import numpy as np
import pytest

from scanner_core import IndicatorConfig, ScanContext, SessionView, UndeclaredIndicator
from scanner_core.calendar import TimeManager
from scanner_core.session import SessionData
from scanner_core.testing import BarBook, utc
from scanner_core.view import declare

TM = TimeManager("XNYS")
WRITES = [
    "advance",
    "replay",
    "set_time",
    "add_symbols",
    "add_symbol",
    "leave_session",
    "track",
    "add_indicator",
    "add_requirements",
    "store",
]


def session_over(tmp_path, clock: str = "2024-01-04 09:40") -> SessionData:
    """Two days of minute bars for A and B in a real store, the clock at ``clock``."""
    book = BarBook(tmp_path / "store")
    for day in ("2024-01-03", "2024-01-04"):
        book.minutes("A", f"{day} 09:30", [10.0 + i for i in range(20)], volume=100)
        book.minutes("B", f"{day} 09:30", [50.0 - i for i in range(20)], volume=300)
    data = SessionData(book.store, calendar=TM)
    data.track(["A", "B"])
    data.set_time(utc(clock))
    return data


def test_a_scan_context_wraps_the_session_in_a_view():
    context = ScanContext(SessionData(), TM, "backtest", utc("2024-01-04 09:40"), scanner_name="x")
    assert isinstance(context.session_data, SessionView)
    assert context.session_data.scanner == "x"


@pytest.mark.parametrize("name", WRITES)
def test_no_session_write_is_reachable_from_the_view(name):
    view = SessionView(SessionData(), "probe")
    assert not hasattr(view, name)
    with pytest.raises(
        AttributeError, match=rf"scanner 'probe': the session view is read-only.*{name}"
    ):
        getattr(view, name)


def test_reading_an_undeclared_indicator_names_the_scanner_and_the_indicator(tmp_path):
    view = SessionView(session_over(tmp_path), "momentum")
    declare(view, [IndicatorConfig("sma", 3, "1m")])
    assert view.indicator(IndicatorConfig("sma", 3, "1m")).valid.all()
    with pytest.raises(UndeclaredIndicator) as info:
        view.indicator(IndicatorConfig("rsi", 14, "1m"))
    assert str(info.value) == (
        "scanner 'momentum' reads indicator rsi(14, 1m), which it did not declare"
        " (declared: sma(3, 1m))"
    )


@pytest.mark.parametrize("lookback", [1, 5, 10, 25, 40])
def test_bars_is_history_of_every_symbol_at_once(tmp_path, lookback):
    data = session_over(tmp_path)
    window = SessionView(data).bars("1m", lookback)
    assert window.symbols == ("A", "B")
    for column, symbol in enumerate(window.symbols):
        mine = window.code == column
        one = data.history(symbol, "1m", lookback)
        np.testing.assert_array_equal(window.ts[mine], one.ts)
        np.testing.assert_array_equal(window.close[mine], one.close)
        np.testing.assert_array_equal(window.volume[mine], one.volume)
    assert (np.diff(window.ts.astype(np.int64)) >= 0).all()


def test_bars_never_reach_past_the_clock(tmp_path):
    window = SessionView(session_over(tmp_path, "2024-01-04 09:35")).bars("1m", sessions=1)
    # bars start at 09:30..09:34 and close by 09:35; the 09:35 bar is still open
    assert window.ts.max() == utc("2024-01-04 09:34")
    assert len(window) == 10


def test_sessions_counts_the_current_session_and_those_before(tmp_path):
    view = SessionView(session_over(tmp_path))
    days = view.session_dates(view.bars("1m", sessions=2).ts)
    assert sorted(set(days.astype(str))) == ["2024-01-03", "2024-01-04"]
    assert set(view.session_dates(view.bars("1m", sessions=1).ts).astype(str)) == {"2024-01-04"}


@pytest.mark.parametrize(("bars", "sessions"), [(None, None), (5, 1), (0, None)])
def test_bars_takes_one_positive_lookback(tmp_path, bars, sessions):
    with pytest.raises(ValueError, match=r"window\(\)"):
        SessionView(session_over(tmp_path)).bars("1m", bars, sessions=sessions)


def test_the_authors_guide_lists_every_indicator_kind_and_view_member():
    from pathlib import Path

    from scanner_core.indicators import KERNELS

    guide = (Path(__file__).resolve().parents[2] / "docs" / "scanner-authors.md").read_text()
    for kind in KERNELS:
        assert f"| `{kind}` |" in guide, kind
    public = [n for n in dir(SessionView) if not n.startswith("_")]
    for name in public:
        assert f"| `{name}" in guide, name
