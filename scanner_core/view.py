"""SessionView: what a scan may read of the running session, and nothing it could change.

A scanner gets the session through this view only: its symbols, each symbol's newest
bar, the indicators the scanner declared, windows of closed bars and the trading day.
Writes (advancing bars, adding symbols or indicators, moving the clock) stay with the
session that owns the data, so a scan cannot change what another scanner sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen

if TYPE_CHECKING:
    import pandas as pd

    from scanner_core.bars import Bars
    from scanner_core.calendar import TimeManager
    from scanner_core.indicators import IndicatorConfig, IndicatorValues
    from scanner_core.session import SessionData

#: SessionData methods a scan must not reach, and what to do instead.
_WRITES = {
    "add_indicator": "declare indicators with declare_indicators(settings)",
    "add_requirements": "set symbol_requirements in the scanner's config",
    "add_symbol": "return the symbols in the ScanResult",
    "add_symbols": "return the symbols in the ScanResult",
    "track": "configure the universe in the session config",
    "leave_session": "the session ends each day's symbols itself",
    "advance": "the session streams the bars",
    "replay": "the session streams the bars",
    "set_time": "the session moves the clock",
    "load_pending": "the session warms up the universe before each scan",
    "store": "read closed bars with bars(interval, lookback)",
}


class UndeclaredIndicator(ValueError):
    """A scan read an indicator its scanner did not declare."""


@frozen
class TradingDay:
    """A scan's trading date, its regular open and close, and the scan time, in exchange time.

    ``now`` may fall before ``open`` (pre-market) or after ``close`` (after hours).
    """

    day: date
    open: datetime
    close: datetime
    now: datetime

    @property
    def minutes_since_open(self) -> int:
        """Whole minutes from the open to ``now`` (negative before the open)."""
        return (self.now - self.open) // timedelta(minutes=1)


class SessionView:
    """A read-only view of one session for one scanner."""

    __slots__ = ("_data", "_scanner")

    def __init__(self, data: SessionData, scanner: str = "") -> None:
        self._data = data
        self._scanner = scanner

    def __getattr__(self, name: str):
        """A session write asked of the view fails naming it and what to do instead."""
        if name in _WRITES:
            raise AttributeError(
                f"scanner {self._scanner!r}: the session view is read-only, it has no"
                f" {name} ({_WRITES[name]})"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def scanner(self) -> str:
        """The name of the scanner this view is for."""
        return self._scanner

    @property
    def declared(self) -> frozenset[IndicatorConfig]:
        """The indicators this scanner declared: the only ones it may read."""
        return self._data.declared.get(self._scanner, frozenset())

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every tracked symbol, in column order (the order of every array read)."""
        return self._data.symbols

    def index(self, symbols: str | Iterable[str]) -> np.ndarray:
        """Column of each symbol (-1 for one not tracked)."""
        return self._data.index(symbols)

    def in_session(self) -> np.ndarray:
        """True for tracked symbols already in the session."""
        return self._data.in_session()

    @property
    def current_time(self) -> pd.Timestamp | None:
        """The session clock (UTC): the close of the newest bar."""
        return self._data.current_time

    @property
    def calendar(self) -> TimeManager:
        """The session's exchange calendar."""
        return self._data.calendar

    def latest(self, field: str, interval: str = "1m") -> np.ndarray:
        """Each symbol's newest closed bar's field (NaN when it has none); read-only."""
        return self._data.latest(field, interval)

    def indicator(self, config: IndicatorConfig) -> IndicatorValues:
        """A declared indicator over all symbols; reading an undeclared one is an error."""
        if config not in self.declared:
            declared = ", ".join(sorted(map(describe, self.declared))) or "none"
            raise UndeclaredIndicator(
                f"scanner {self._scanner!r} reads indicator {describe(config)}, which it did"
                f" not declare (declared: {declared})"
            )
        return self._data.indicator(config)

    def bars(
        self, interval: str, lookback: int | None = None, *, sessions: int | None = None
    ) -> Bars:
        """Closed bars of every symbol: the last ``lookback`` of each, or ``sessions`` sessions.

        ``sessions=1`` is the current session so far, ``sessions=2`` adds the one before.
        Returns Bars sorted by (ts, symbol) whose ``symbols`` are this view's symbols, so
        ``code`` is each row's column. Never a bar that closes after the clock.
        """
        return self._data.window(interval, lookback, sessions)

    def day_bars(self, interval: str, day: date) -> Bars:
        """Closed bars of every symbol on one trading date, as ``bars(interval, sessions=n)``
        holds them for that date (intraday intervals).

        An earlier date's bars come from the store alone, without reading every day
        between it and now: what a scanner that builds statistics day by day reads.
        """
        return self._data.day_window(interval, day)

    def history(self, symbol: str, interval: str, bars: int) -> Bars:
        """One symbol's last ``bars`` closed bars, oldest first."""
        return self._data.history(symbol, interval, bars)

    def sessions_before(self, day: date, count: int) -> list[date]:
        """The ``count`` trading dates before ``day``, oldest first."""
        from scanner_core.requirements import sessions_back

        return list(sessions_back(self.calendar, day - timedelta(days=1), count))

    def session_dates(self, ts: np.ndarray, interval: str = "1m") -> np.ndarray:
        """The exchange-local trading date of each bar start in ``ts``, as datetime64[D]."""
        from scanner_core.indicators import session_ids

        return session_ids(ts, interval, str(self.calendar.tz)).astype("datetime64[D]")

    def trading_day(self, fallback: datetime | None = None) -> TradingDay | None:
        """The exchange session the clock falls on (None when the exchange is closed).

        ``fallback`` stands in for the clock before any bar has set it; a naive time is
        taken as exchange time.
        """
        return trading_day(self.calendar, self.current_time or fallback)


def describe(config: IndicatorConfig) -> str:
    """An indicator as written in messages: ``rsi(14, 1m)``."""
    return f"{config.name}({config.period}, {config.interval})"


def declare(view: SessionView, configs: Iterable[IndicatorConfig]) -> None:
    """Register a scanner's declared indicators with the session behind its view.

    Called in the session's process at setup, so the warm-up happens once, not in
    every forked scan.
    """
    configs = tuple(configs)
    for config in configs:
        view._data.add_indicator(None, config)
    declared = view._data.declared
    declared[view.scanner] = declared.get(view.scanner, frozenset()).union(configs)


def view_for(view: SessionView | None, scanner: str) -> SessionView | None:
    """The same session as seen by another scanner (a composition's child), or None."""
    return None if view is None else SessionView(view._data, scanner)


def trading_day(calendar: TimeManager, when: datetime | None) -> TradingDay | None:
    """The exchange session ``when`` falls on, in exchange time, or None when it is closed."""
    if when is None:
        return None
    import pandas as pd  # here, not at the top: plugin modules import this one

    now = pd.Timestamp(calendar.localize(when))
    day = now.date()
    if not calendar.is_session(day):
        return None
    open_, close = calendar.open_close(day)
    return TradingDay(day, open_, close, now)
