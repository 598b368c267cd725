"""Forward returns from the store: for every symbol at a scan time, each horizon's
return, maximum favourable and adverse excursion, and whether the data reaches it.

Only bars ended after the scan are read here, and only once the session has run: no
scan ever sees them. Prices are base-interval closes as of a moment (the last bar ended
by then); excursions take every streamed bar between the scan and the horizon's end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from attrs import define, field

from scanner_core.bars import Bars
from scanner_core.calendar import TimeManager
from scanner_core.evaluate.dayindex import LAST, DayIndex, minutes
from scanner_core.evaluate.horizons import Horizon
from scanner_core.sources import BarSource


@define
class DaySummary:
    """Per symbol over one whole session: the price at its close and at its end, and the
    extremes up to its close and over the whole streamed day."""

    at_close: np.ndarray
    at_end: np.ndarray
    high_to_close: np.ndarray
    low_to_close: np.ndarray
    high_all: np.ndarray
    low_all: np.ndarray


@define
class Measured:
    """Forward measures of every symbol at one scan time, arrays over symbol codes."""

    price: np.ndarray
    returns: dict[str, np.ndarray] = field(factory=dict)
    mfe: dict[str, np.ndarray] = field(factory=dict)
    mae: dict[str, np.ndarray] = field(factory=dict)
    complete: dict[str, bool] = field(factory=dict)


class ForwardReader:
    """Reads sessions of base bars for a fixed symbol list and measures horizons from them.

    Each session is read once and summarised; a session's full bars are kept only while
    its scan times are measured.
    """

    def __init__(
        self,
        source: BarSource,
        calendar: TimeManager,
        base: str,
        symbols: Sequence[str],
        horizons: Sequence[Horizon],
    ) -> None:
        self.source = source
        self.calendar = calendar
        self.base = base
        self.symbols = list(symbols)
        self.codes_of = {s: i for i, s in enumerate(self.symbols)}
        self.codes = np.arange(len(self.symbols), dtype=np.int64)
        self.horizons = tuple(horizons)
        self.most_sessions = max((h.sessions for h in self.horizons), default=0)
        sessions = source.store.sessions(base)
        #: The data's end: the regular close of the store's last session of the base bars.
        self.data_end = minutes(_utc(calendar.open_close(sessions[-1])[1])) if sessions else 0
        self._summaries: dict[dt.date, DaySummary | None] = {}
        self._years: dict[int, Bars] = {}

    def index(self, day: dt.date) -> DayIndex:
        """The day's streamed base bars, indexed."""
        if self.base == "1d":
            return self._daily_index(day)
        start = self.calendar.pre_market(day)[0]
        end = self.calendar.after_hours(day)[1]
        bars = self.source.load(self.base, self.symbols, start, end)
        return DayIndex.build(bars, self.codes_of, len(self.symbols))

    def _daily_index(self, day: dt.date) -> DayIndex:
        """The day's daily bars, known at its regular close as the session hands them on.

        Daily bars are read a year at a time (as they are stored), not once per day.
        """
        year = self._years.get(day.year)
        if year is None:
            first = dt.date(day.year, 1, 1)
            year = self.source.load("1d", self.symbols, first, dt.date(day.year + 1, 1, 1))
            self._years = {day.year: year}
        rows = np.flatnonzero(year.ts.astype("datetime64[D]") == np.datetime64(day, "D"))
        close = int(minutes(_utc(self.calendar.open_close(day)[1])))
        return DayIndex.build(year.take(rows), self.codes_of, len(self.symbols), known_at=close)

    def summary(self, day: dt.date | None) -> DaySummary | None:
        """A session's per-symbol summary (None past the calendar or the data)."""
        if day is None:
            return None
        if day not in self._summaries:
            close = minutes(_utc(self.calendar.open_close(day)[1]))
            if close > self.data_end:
                self._summaries[day] = None
            else:
                index = self.index(day)
                c = self.codes
                high_to_close, low_to_close = index.extremes(c, np.int64(0), close)
                high_all, low_all = index.extremes(c, np.int64(0), LAST)
                self._summaries[day] = DaySummary(
                    index.price(c, close),
                    index.price(c, LAST),
                    high_to_close,
                    low_to_close,
                    high_all,
                    low_all,
                )
        return self._summaries[day]

    def forget_before(self, day: dt.date) -> None:
        """Drop the summaries of sessions before ``day``: no later scan reads them."""
        for old in [d for d in self._summaries if d < day]:
            del self._summaries[old]

    def measure(self, day: dt.date, index: DayIndex, moment: np.datetime64) -> Measured:
        """Every symbol's price at ``moment`` on ``day`` and its forward measures."""
        c = self.codes
        now = minutes(moment)
        close = minutes(_utc(self.calendar.open_close(day)[1]))
        price = index.price(c, now)
        if self.base == "1d":
            # Before the close no daily bar of the day is known: the price is the last close.
            price = np.where(np.isnan(price), self._previous_close(day), price)
        out = Measured(price)
        later = self._later_sessions(day)
        for h in self.horizons:
            if h.sessions:
                target, high, low, complete = self._over_sessions(index, c, now, later, h)
            else:
                until = now + h.minutes if h.minutes else close
                complete = bool(until <= close and until <= self.data_end)
                target = index.price(c, until)
                high, low = index.extremes(c, now, until)
            with np.errstate(invalid="ignore", divide="ignore"):
                ret = target / price - 1
                mfe = np.fmax(high, target) / price - 1
                mae = np.fmin(low, target) / price - 1
            if not complete:
                ret = mfe = mae = np.full(len(c), np.nan)
            out.returns[h.name], out.mfe[h.name], out.mae[h.name] = ret, mfe, mae
            out.complete[h.name] = complete
        return out

    def _previous_close(self, day: dt.date) -> np.ndarray:
        """Each symbol's close on the session before ``day`` (NaN without one)."""
        before = self.calendar.sessions(day - dt.timedelta(days=10), day - dt.timedelta(days=1))
        summary = self.summary(before[-1]) if before else None
        return summary.at_end if summary is not None else np.full(len(self.codes), np.nan)

    def _later_sessions(self, day: dt.date) -> list[dt.date | None]:
        days: list[dt.date | None] = []
        current: dt.date | None = day
        for _ in range(self.most_sessions):
            current = None if current is None else self.calendar.next_session(current)
            days.append(current)
        return days

    def _over_sessions(
        self,
        index: DayIndex,
        codes: np.ndarray,
        now: np.int64,
        later: list[dt.date | None],
        horizon: Horizon,
    ):
        """Price and extremes from ``now`` to the close ``horizon.sessions`` sessions on:
        the rest of today, the whole sessions between, and the last one up to its close."""
        high, low = index.extremes(codes, now, LAST)
        price = index.price(codes, LAST)
        for k, day in enumerate(later[: horizon.sessions], start=1):
            summary = self.summary(day)
            if summary is None:
                return price, high, low, False
            last = k == horizon.sessions
            high = np.fmax(high, summary.high_to_close if last else summary.high_all)
            low = np.fmin(low, summary.low_to_close if last else summary.low_all)
            latest = summary.at_close if last else summary.at_end
            price = np.where(np.isnan(latest), price, latest)
        return price, high, low, True


def _utc(moment: dt.datetime) -> np.datetime64:
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).to_datetime64()
