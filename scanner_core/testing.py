"""Testing a scanner as a session runs it: bars in a real BarStore, scans through the manager.

Shipped as a pytest plugin (the ``pytest11`` entry point ``scanner``), so a plugin's
tests get the ``bar_book`` fixture without importing anything::

    from scanner_core.testing import run_scanner

    def test_finds_the_gapper(bar_book):
        bar_book.add("AAA", "2024-01-03 15:59", close=10.0)
        bar_book.add("AAA", "2024-01-04 09:30", close=11.0, volume=2e6)
        (scan,) = run_scanner("gap", bar_book, at=["2024-01-04 09:35"])
        assert scan.symbols == ["AAA"]

Scans run in a real backtest (SessionCoordinator, ScannerManager, SessionData over the
BarStore): forked into a child process as a session with a timeout runs them, or in
process with ``forked=False``. ``run_both`` runs both ways and fails unless they agree,
which catches a scanner whose scans depend on state a fork throws away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from attrs import define, field, frozen

from scanner_core.bars import FIELDS, Bars
from scanner_core.hookspecs import hookimpl
from scanner_core.scanner import BaseScanner, ScanContext, ScanResult
from scanner_core.store import BarStore

#: The exchange the kit's times are written in.
CALENDAR = "XNYS"
TZ = "America/New_York"


def utc(moment: object) -> np.datetime64:
    """An exchange wall time (naive, e.g. "2024-01-04 09:30") or a tz-aware one, as naive UTC."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize(TZ) if stamp.tz is None else stamp
    return stamp.tz_convert("UTC").tz_localize(None).to_datetime64().astype("datetime64[ns]")


class BarBook:
    """Bars for a few symbols, written into a real BarStore under ``root`` when read."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._rows: dict[str, list[tuple[str, np.datetime64, float, float, float, float, float]]]
        self._rows = {}

    def add(
        self,
        symbol: str,
        when: str,
        close: float,
        volume: float = 1e5,
        *,
        open: float | None = None,
        high: float | None = None,
        low: float | None = None,
        interval: str = "1m",
    ) -> BarBook:
        """One bar starting at ``when`` (exchange time; a date for "1d"); high/low span the body."""
        first = close if open is None else open
        top = max(first, close) if high is None else high
        bottom = min(first, close) if low is None else low
        ts = (
            np.datetime64(pd.Timestamp(when).date(), "D").astype("datetime64[ns]")
            if interval == "1d"
            else utc(when)
        )
        self._rows.setdefault(interval, []).append((symbol, ts, first, top, bottom, close, volume))
        return self

    def minutes(
        self, symbol: str, start: str, closes: Iterable[float], volume: float = 1e5
    ) -> BarBook:
        """Consecutive 1-minute bars from ``start``, one per close, opening at the last close."""
        at = pd.Timestamp(start)
        previous = None
        for i, close in enumerate(closes):
            when = (at + pd.Timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M")
            self.add(symbol, when, close, volume, open=previous)
            previous = close
        return self

    @property
    def store(self) -> BarStore:
        """The real store, holding every bar added so far."""
        store = BarStore(self.root)
        for interval, rows in self._rows.items():
            store.write(_bars(interval, rows))
        self._rows = {}
        return store


def _bars(interval: str, rows: list[tuple]) -> Bars:
    """Bars from (symbol, ts, open, high, low, close, volume) rows, sorted by (ts, symbol)."""
    symbols = tuple(sorted({r[0] for r in rows}))
    rows = sorted(rows, key=lambda r: (r[1], r[0]))
    code = np.array([symbols.index(r[0]) for r in rows], np.int32)
    ts = np.array([r[1] for r in rows], "datetime64[ns]")
    values = (np.array([r[i] for r in rows], float) for i in range(2, 2 + len(FIELDS)))
    return Bars(interval, symbols, code, ts, *values)


@frozen
class Scan:
    """What one scan found, at its exchange time ("YYYY-MM-DD HH:MM")."""

    time: str
    symbols: list[str]
    metadata: dict[str, Any]
    error: str | None
    skipped: bool
    added: list[str] = field(factory=list)

    def outcome(self) -> tuple:
        """Everything a scan decided (not its timing), for comparing two runs."""
        return (self.time, self.symbols, self.metadata, self.error, self.skipped, self.added)


@define(eq=False)
class _Collector:
    """An observer keeping each scan's whole result, in the session's process."""

    scanner: str
    scans: list[Scan] = field(factory=list)

    @hookimpl
    def after_scan(self, context: ScanContext, result: ScanResult) -> None:
        """Keep this scanner's result."""
        if context.scanner_name == self.scanner:
            when = pd.Timestamp(context.current_time)
            when = when.tz_localize(TZ) if when.tz is None else when.tz_convert(TZ)
            self.scans.append(
                Scan(
                    f"{when:%Y-%m-%d %H:%M}",
                    list(result.symbols),
                    result.metadata,
                    result.error,
                    result.skipped,
                )
            )

    @hookimpl
    def symbols_added(self, context: ScanContext, symbols: list[str]) -> None:
        """Attach the symbols that joined the session to the scan that found them."""
        if context.scanner_name == self.scanner and self.scans:
            self.scans[-1].added.extend(symbols)


def _module(scanner: str | type[BaseScanner]) -> tuple[str, str]:
    """(config name, module) for an entry-point name, a "module:Class" or a class."""
    if isinstance(scanner, str):
        return scanner.rpartition(":")[2].lower(), scanner
    return scanner.__name__.lower(), f"{scanner.__module__}:{scanner.__qualname__}"


def _cron(times: Sequence[pd.Timestamp]) -> str:
    """A cron expression firing at least at each of these times of day."""
    minutes = ",".join(str(m) for m in sorted({t.minute for t in times}))
    hours = ",".join(str(h) for h in sorted({t.hour for t in times}))
    return f"{minutes} {hours} * * *"


def run_scanner(
    scanner: str | type[BaseScanner],
    bars: BarBook | Path | str,
    at: Sequence[str],
    *,
    config: Mapping[str, Any] | None = None,
    universe: Sequence[str] | None = None,
    symbols: Sequence[str] = (),
    forked: bool = True,
    streams: Sequence[str] = (),
) -> list[Scan]:
    """Run one scanner in a backtest over ``bars`` and return its scans at the times ``at``.

    ``scanner`` is an entry-point name ("gap"), a "package.module:Class" or a class.
    ``at`` holds exchange times ("2024-01-04 09:35"); a scan at the open is the
    pre-session scan. The schedule is a cron over the hours and minutes of ``at``, so
    with several times the scanner may also run at their other combinations (those
    scans are left out of the result, but the symbols they add stay in the session).
    ``universe`` limits the symbols scanned (default: every stored symbol); ``symbols``
    are in the session from the start. ``forked`` runs each scan in a child process, as
    a scanner with a timeout runs.
    """
    from scanner_core.config import parse_config
    from scanner_core.coordinator import SessionCoordinator

    root = bars.root if isinstance(bars, BarBook) else Path(bars)
    if isinstance(bars, BarBook):
        bars.store  # noqa: B018 - writes the rows added so far
    times = sorted(pd.Timestamp(t) for t in at)
    if not times:
        raise ValueError("run_scanner needs at least one scan time in 'at'")
    name, module = _module(scanner)
    calendar = _calendar()
    opens = {t: calendar.open_close(t.date())[0].strftime("%H:%M") for t in times}
    at_open = any(t.strftime("%H:%M") == opens[t] for t in times)
    entry = {
        "name": name,
        "module": module,
        "pre_session": at_open,
        "timeout_seconds": 30 if forked else 0,
        "schedule": {"cron": _cron(times)},
        "config": dict(config or {}),
    }
    session = {
        "mode": "backtest",
        "start_date": times[0].date(),
        "end_date": times[-1].date(),
        "data": {"store": str(root)},
        "scanners": [entry],
        "universe": {"symbols": list(universe)} if universe is not None else {"all": True},
        "streams": list(streams),
        "symbols": list(symbols),
    }
    coordinator = SessionCoordinator(parse_config(session, "<scanner_core.testing>"))
    collector = _Collector(name)
    coordinator.manager.pm.register(collector, name="scanner-testing")
    coordinator.run()
    if coordinator.manager.problems:
        raise AssertionError(f"{name}: {'; '.join(coordinator.manager.problems)}")
    wanted = {t.strftime("%Y-%m-%d %H:%M") for t in times}
    return [scan for scan in collector.scans if scan.time in wanted]


def run_both(
    scanner: str | type[BaseScanner], bars: BarBook | Path | str, at: Sequence[str], **kwargs: Any
) -> list[Scan]:
    """run_scanner forked and in process; fails unless both found the same, else the scans."""
    forked = run_scanner(scanner, bars, at, forked=True, **kwargs)
    inline = run_scanner(scanner, bars, at, forked=False, **kwargs)
    # repr: NaN values compare equal to themselves only as text
    assert [repr(s.outcome()) for s in forked] == [repr(s.outcome()) for s in inline], (
        f"{scanner}: a forked scan found {[s.symbols for s in forked]},"
        f" in process {[s.symbols for s in inline]}"
    )
    return forked


def _calendar():
    from scanner_core.calendar import TimeManager

    return TimeManager(CALENDAR)


@pytest.fixture
def bar_book(tmp_path: Path) -> BarBook:
    """An empty BarBook over a real BarStore in this test's tmp_path."""
    return BarBook(tmp_path / "store")


__all__ = ["BarBook", "Scan", "bar_book", "run_both", "run_scanner", "utc"]
