"""VolumeScanner: symbols trading a multiple of their usual volume for this time of day.

Criteria, all configurable:

- cumulative volume today >= ``min_multiple`` x the average cumulative volume at the
  same minute of the session over the previous ``lookback_days`` sessions (see
  ``scanner_volume.profile``);
- price change >= ``min_change_pct`` from the previous close (``change``: "absolute"
  counts moves both ways, "up" only rises);
- not already in the session.

Today's cumulative volume is the session's ``day_volume`` indicator, the previous
close the ``prev_close`` indicator (1-minute bars), the price the latest 1-minute
close. The same-time average is built from the session's closed bars of earlier days
once per day, in session_start (so forked scans reuse it), and indexed by the minutes
elapsed since the open; each day reads only the session before it, the others' bars
being kept from earlier days.
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
from scanner_volume.profile import ProfileMemo, VolumeProfile

PREV_CLOSE = IndicatorConfig("prev_close", 1, "1m")
DAY_VOLUME = IndicatorConfig("day_volume", 1, "1m")
#: Most sessions the average may span (about a year).
MAX_LOOKBACK = 252


@frozen
class VolumeSettings:
    """The volume scanner's ``config`` table."""

    #: Least multiple of the same-time average cumulative volume.
    min_multiple: float = field(default=3.0, validator=gt(0))
    #: Sessions averaged (symbols without bars in each of them are skipped).
    lookback_days: int = field(default=10, validator=and_(ge(1), le(MAX_LOOKBACK)))
    #: Least price change from the previous close, in percent.
    min_change_pct: float = field(default=1.0, validator=ge(0))
    #: "absolute": |change| counts; "up": only rises count.
    change: Literal["absolute", "up"] = "absolute"


class VolumeScanner(BaseScanner[VolumeSettings]):
    """Ranks symbols not yet in the session by their volume multiple, highest first."""

    #: The day's profile, built in session_start: (day, profile).
    _profile: tuple[dt.date, VolumeProfile] | None = None
    #: The bars earlier profiles counted, so each day reads one more session, not N.
    _memo: ProfileMemo | None = None

    @classmethod
    def declare_indicators(cls, settings: VolumeSettings) -> tuple[IndicatorConfig, ...]:
        """The previous close and today's cumulative volume, for the whole universe."""
        return (PREV_CLOSE, DAY_VOLUME)

    def session_start(self, context: ScanContext) -> None:
        """Build the day's same-time profile once, in the session's process."""
        session = context.trading_day()
        if session is not None:
            self._profile_for(context.session_data, session.day)

    def scan(self, context: ScanContext) -> Screen | ScanResult:
        """Evaluate every tracked symbol's volume multiple and price change at once."""
        s = self.settings
        data = context.session_data
        session = context.trading_day()
        if session is None:
            return context.closed_result()
        minute = session.minutes_since_open
        profile = self._profile_for(data, session.day)
        average = profile.at(minute)
        today = data.indicator(DAY_VOLUME)
        prev = data.indicator(PREV_CLOSE)
        price = data.latest("close")
        valid = today.valid & prev.valid & (prev.values > 0) & np.isfinite(price)
        known = valid & profile.complete
        usable = known & (average > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            multiple = today.values / average
            change = (price / prev.values - 1.0) * 100.0
        moved = change if s.change == "up" else np.abs(change)
        fresh = ~data.in_session()
        passed = usable & fresh & (multiple >= s.min_multiple) & (moved >= s.min_change_pct)
        values = {
            "volume_multiple": multiple,
            "cumulative_volume": today.values,
            "average_cumulative_volume": average,
            "change_pct": change,
            "price": price,
            "prev_close": prev.values,
        }
        metadata = {
            "minute": minute,
            "lookback_days": s.lookback_days,
            "evaluated": int(usable.sum()),
            "skipped_invalid": int((~valid).sum()),
            "skipped_history": int((valid & ~profile.complete).sum()),
            "skipped_zero_average": int((known & ~(average > 0)).sum()),
            "already_in_session": int((usable & ~fresh).sum()),
        }
        return Screen(data.symbols, passed, multiple, values, metadata)

    def _profile_for(self, data: SessionView, day: dt.date) -> VolumeProfile:
        """Today's same-time volume profile, built once per day and universe."""
        if (
            self._profile is None
            or self._profile[0] != day
            or (self._profile[1].symbols != data.symbols)
        ):
            if self._memo is None:
                self._memo = ProfileMemo()
            self._profile = (day, self._memo.profile(data, day, self.settings.lookback_days))
        return self._profile[1]
