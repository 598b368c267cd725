"""GapScanner: symbols gapping at least 2% from the previous close, on volume, under a price cap.

Two ways to measure the gap, chosen per scan (``mode``):

- ``pre_market``: the scan runs at (or before) the regular open and the store has
  extended-hours bars. Price is the latest pre-market close, volume the pre-market
  cumulative volume (the session's ``day_volume`` before the open).
- ``opening``: the store has no pre-market bars (or the scan runs after the open).
  Price is the open of the symbol's first regular-session bar, volume the cumulative
  volume of the bars starting in the first ``opening_minutes`` of the session. Those
  bars are the session's closed bars of today (``bars("1m", sessions=1)``), read once
  the window has closed, so never a bar that closes after the scan time.

``auto`` (the default) picks ``pre_market`` when the scan runs at or before the open
and some symbol traded before it today, ``opening`` otherwise.

The previous close is the ``prev_close`` indicator on 1-minute bars: the close of
the symbol's last bar in an earlier session.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
from attrs import field, frozen
from attrs.validators import and_, ge, gt, le

from scanner_core import (
    BaseScanner,
    IndicatorConfig,
    ScanContext,
    ScanResult,
    Screen,
    SessionView,
)

PREV_CLOSE = IndicatorConfig("prev_close", 1, "1m")
DAY_VOLUME = IndicatorConfig("day_volume", 1, "1m")
#: Longest opening window: a whole regular session.
MAX_WINDOW_MINUTES = 390


@frozen
class GapSettings:
    """The gap scanner's ``config`` table."""

    #: Smallest gap, in percent of the previous close.
    min_gap_pct: float = field(default=2.0, validator=ge(0))
    #: Which gaps count: "up", "down" or "both".
    direction: Literal["up", "down", "both"] = "both"
    #: Least pre-market volume (shares), in pre_market mode.
    min_volume: float = field(default=1_000_000.0, validator=ge(0))
    #: Highest price (the price the gap is measured at).
    max_price: float = field(default=500.0, validator=gt(0))
    #: "auto", "pre_market" or "opening" (see the module docstring).
    mode: Literal["auto", "pre_market", "opening"] = "auto"
    #: Length of the opening window, in minutes from the open, in opening mode.
    opening_minutes: int = field(default=5, validator=and_(ge(1), le(MAX_WINDOW_MINUTES)))
    #: Least volume in the opening window (shares), in opening mode.
    opening_min_volume: float = field(default=1_000_000.0, validator=ge(0))


class GapScanner(BaseScanner[GapSettings]):
    """Ranks gapping symbols by the size of their gap, |gap %|, largest first."""

    @classmethod
    def declare_indicators(cls, settings: GapSettings) -> tuple[IndicatorConfig, ...]:
        """The previous close and today's cumulative volume, for the whole universe."""
        return (PREV_CLOSE, DAY_VOLUME)

    def scan(self, context: ScanContext) -> Screen | ScanResult:
        """Evaluate every tracked symbol's gap, volume and price at once."""
        s = self.settings
        data = context.session_data
        session = context.trading_day()
        if session is None:
            return context.closed_result()
        open_, now = session.open, session.now
        prev = data.indicator(PREV_CLOSE)
        today = data.indicator(DAY_VOLUME)
        mode = s.mode
        if mode == "auto":
            before_open = now <= open_
            mode = "pre_market" if before_open and np.nansum(today.values) > 0 else "opening"
        if mode == "pre_market":
            if now > open_:
                return ScanResult(
                    metadata={"mode": mode, "reason": f"pre-market mode scans by the open {open_}"}
                )
            price, volume, min_volume = data.latest("close"), today.values, s.min_volume
        else:
            window_end = open_ + dt.timedelta(minutes=s.opening_minutes)
            if now < window_end:
                reason = f"opening window {open_:%H:%M}-{window_end:%H:%M} has not closed at {now}"
                return ScanResult(metadata={"mode": mode, "reason": reason})
            price, volume = opening_window(data, open_, window_end)
            min_volume = s.opening_min_volume
        return self._rank(data.symbols, prev.values, price, volume, min_volume, mode)

    def _rank(
        self,
        symbols: tuple[str, ...],
        prev_close: np.ndarray,
        price: np.ndarray,
        volume: np.ndarray,
        min_volume: float,
        mode: str,
    ) -> Screen:
        s = self.settings
        valid = np.isfinite(prev_close) & (prev_close > 0)
        priced = valid & np.isfinite(price)
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = (price / prev_close - 1.0) * 100.0
        signed = {"up": gap, "down": -gap}.get(s.direction, np.abs(gap))
        passed = (
            priced & (signed >= s.min_gap_pct) & (volume >= min_volume) & (price <= s.max_price)
        )
        values = {"gap_pct": gap, "prev_close": prev_close, "price": price, "volume": volume}
        metadata = {
            "mode": mode,
            "evaluated": int(priced.sum()),
            "skipped_invalid": int((~valid).sum()),
            "skipped_no_price": int((valid & ~priced).sum()),
        }
        return Screen(symbols, passed, np.abs(gap), values, metadata)


def _utc(moment: dt.datetime) -> np.datetime64:
    """A tz-aware moment as naive UTC datetime64[ns], the clock bars are stamped in."""
    return np.datetime64(moment.astimezone(dt.UTC).replace(tzinfo=None), "ns")


def opening_window(
    data: SessionView, open_: dt.datetime, end: dt.datetime
) -> tuple[np.ndarray, np.ndarray]:
    """First regular-session open and window volume per column (NaN open: no bar)."""
    n = len(data.symbols)
    bars = data.bars("1m", sessions=1)
    inside = (bars.ts >= _utc(open_)) & (bars.ts < _utc(end))
    cols, first_open, volume = bars.code[inside], bars.open[inside], bars.volume[inside]
    opens = np.full(n, np.nan)
    # rows are sorted by time, so a column's first row is its first bar
    _, first = np.unique(cols, return_index=True)
    opens[cols[first]] = first_open[first]
    return opens, np.bincount(cols, weights=volume, minlength=n)
