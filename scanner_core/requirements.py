"""Requirement analyzer: the history each symbol needs per interval, and where it starts."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, Protocol

import numpy as np
import pandas as pd
from attrs import frozen

from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.indicators import KERNELS, IndicatorConfig

#: Minutes in a regular session, for turning an intraday bar count into sessions.
REGULAR_MINUTES = 390
EXCHANGE_TZ = "America/New_York"


@frozen
class Need:
    """History one interval needs: a bar count and a number of whole sessions."""

    bars: int = 0
    sessions: int = 0

    def __or__(self, other: Need) -> Need:
        return Need(max(self.bars, other.bars), max(self.sessions, other.sessions))


class Sessions(Protocol):
    """Anything that lists trading dates, e.g. ``scanner_core.calendar.TimeManager``."""

    def sessions(self, start: dt.date, end: dt.date) -> Sequence[dt.date]:
        """Trading dates from start to end, both included."""


@cache
def default_sessions() -> Sessions:
    """The XNYS calendar of ``scanner_core.calendar``, built once."""
    from scanner_core.calendar import TimeManager

    return TimeManager("XNYS")


def parse_requirements(requirements: Mapping[str, Any], where: str = "symbol_requirements"):
    """A scanner's ``{"history": {"1d": 30, "1m": 390}}`` as {interval: Need}.

    Raises ValueError naming the field path of the first bad entry.
    """
    history = requirements.get("history", {})
    if not isinstance(history, Mapping):
        raise ValueError(f"{where}.history: expected a table of interval = bars, got {history!r}")
    needs: dict[str, Need] = {}
    for interval, bars in history.items():
        if interval not in INTERVAL_MINUTES:
            known = ", ".join(INTERVAL_MINUTES)
            raise ValueError(f"{where}.history.{interval}: unknown interval (known: {known})")
        if isinstance(bars, bool) or not isinstance(bars, int) or bars < 0:
            raise ValueError(f"{where}.history.{interval}: expected a bar count >= 0, got {bars!r}")
        needs[interval] = Need(bars=bars)
    return needs


def indicator_need(config: IndicatorConfig) -> Need:
    """History one indicator needs to be valid (and, if recursive, to match full history)."""
    if config.name not in KERNELS:
        raise ValueError(f"unknown indicator {config.name!r}")
    bars, sessions = KERNELS[config.name].warmup(config.period)
    return Need(bars, sessions)


class RequirementAnalyzer:
    """Collects registered indicators and scanner requirements; answers what history to load."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, Need, frozenset[str] | None]] = []

    def add_indicator(self, config: IndicatorConfig, symbols: Iterable[str] | None = None) -> None:
        """Register an indicator for some symbols (all when None)."""
        self._add(config.interval, indicator_need(config), symbols)

    def add_requirements(
        self, requirements: Mapping[str, Any], symbols: Iterable[str] | None = None
    ) -> None:
        """Register a scanner's ``symbol_requirements`` for some symbols (all when None)."""
        for interval, need in parse_requirements(requirements).items():
            self._add(interval, need, symbols)

    def _add(self, interval: str, need: Need, symbols: Iterable[str] | None) -> None:
        self._entries.append((interval, need, None if symbols is None else frozenset(symbols)))

    def needs(self, symbol: str | None = None) -> dict[str, Need]:
        """History per interval for one symbol, or the most any symbol needs when None."""
        out: dict[str, Need] = {}
        for interval, need, symbols in self._entries:
            if symbol is None or symbols is None or symbol in symbols:
                out[interval] = out.get(interval, Need()) | need
        return out

    def starts(
        self,
        now: pd.Timestamp,
        calendar: Sessions | None = None,
        symbol: str | None = None,
        tz: str = EXCHANGE_TZ,
    ) -> dict[str, np.datetime64]:
        """Where to start loading each interval at ``now``, in the Bars ts convention."""
        calendar = calendar or default_sessions()
        return {
            interval: history_start(now, interval, need, calendar, tz)
            for interval, need in self.needs(symbol).items()
        }


def sessions_back(calendar: Sessions, today: dt.date, count: int) -> list[dt.date]:
    """The last ``count`` trading dates on or before ``today`` (fewer if the calendar ends)."""
    if count <= 0:
        return []
    span = count * 7 // 5 + 10
    while True:
        found = list(calendar.sessions(today - dt.timedelta(days=span), today))
        if len(found) >= count or span > 366 * 60:
            return found[-count:]
        span *= 2


def history_start(
    now: pd.Timestamp, interval: str, need: Need, calendar: Sessions, tz: str = EXCHANGE_TZ
) -> np.datetime64:
    """First bar time to load so that ``need`` is met at ``now`` (daily: bars before today).

    Intraday bar counts are turned into sessions of a regular day's length plus the
    current session, so a symbol with missing minutes gets somewhat less than asked.
    """
    now = pd.Timestamp(now)
    local = (now.tz_localize("UTC") if now.tz is None else now).tz_convert(tz)
    today = local.date()
    if interval == "1d":
        before = [d for d in sessions_back(calendar, today, need.bars + 1) if d < today]
        first = before[-min(need.bars, len(before))] if need.bars and before else today
        return np.datetime64(first, "D").astype("datetime64[ns]")
    regular = getattr(calendar, "regular_minutes", None)
    minutes = regular() if regular is not None else REGULAR_MINUTES
    per_session = max(minutes // INTERVAL_MINUTES[interval], 1)
    count = max(need.sessions, math.ceil(need.bars / per_session) + 1 if need.bars else 0, 1)
    days = sessions_back(calendar, today, count) or [today]
    midnight = pd.Timestamp(days[0]).tz_localize(tz).tz_convert("UTC").tz_localize(None)
    return midnight.to_datetime64().astype("datetime64[ns]")
