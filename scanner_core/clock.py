"""The session clock: the one source of "now" for a session, and the wall clock beside it.

A session has exactly one `SessionClock`. The session loop moves it forward (to each
cross-section's close, to each scan time); the calendar (`TimeManager.now`), the session
(`SessionData.current_time`, the no-look-ahead horizon), the manager's scan times and
every `ScanContext` read it, so they can never disagree. In a backtest nothing else
moves it; in a live session the loop moves it as the feed's bars are processed.

A `WallClock` is real time, optionally sped up and anchored at a market moment (a
replay at 600x starting at 09:30). Live feeds pace themselves by it and the loop
measures its lag against it; it never decides what a scan may see.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

UTC = dt.UTC


def as_utc64(moment: object) -> np.datetime64:
    """A moment as naive UTC datetime64[ns]; naive inputs are taken as UTC."""
    stamp = pd.Timestamp(moment)
    if stamp.tz is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_datetime64().astype("datetime64[ns]")


def from_utc64(stamp: np.datetime64) -> dt.datetime:
    """A naive UTC datetime64 as a tz-aware UTC datetime."""
    return pd.Timestamp(stamp).tz_localize("UTC").to_pydatetime()


class SessionClock:
    """The session's "now": unset until the loop first sets it, then only moving forward."""

    def __init__(self) -> None:
        self._now: dt.datetime | None = None
        #: The same moment as naive UTC datetime64[ns], what the session's arrays compare to.
        self.now64: np.datetime64 | None = None

    @property
    def is_set(self) -> bool:
        """Whether the clock was set yet."""
        return self._now is not None

    def now(self) -> dt.datetime | None:
        """The session's current moment, tz-aware UTC; None before it was first set."""
        return self._now

    def advance(self, moment: object) -> bool:
        """Move to `moment` if it is later than now (naive means UTC); whether it moved."""
        now64 = as_utc64(moment)
        if self.now64 is not None and now64 <= self.now64:
            return False
        self.now64 = now64
        self._now = from_utc64(now64)
        return True


class WallClock:
    """Real time in exchange terms, optionally `speed` times faster from an `origin`.

    With no origin it is the wall clock itself. With an origin, market time starts there
    when the clock is made (or `restart`) and runs `speed` times faster than real time:
    a replay's pacing.
    """

    def __init__(
        self,
        speed: float = 1.0,
        origin: dt.datetime | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = float(speed)
        self._monotonic = monotonic
        self._origin = origin
        self._started = monotonic()

    def restart(self, origin: dt.datetime) -> None:
        """Let market time run from `origin` as of this instant (a replay's next day)."""
        self._origin = origin
        self._started = self._monotonic()

    def now(self) -> dt.datetime:
        """The current market moment by this clock, tz-aware UTC."""
        if self._origin is None:
            return dt.datetime.now(UTC)
        elapsed = (self._monotonic() - self._started) * self.speed
        return self._origin.astimezone(UTC) + dt.timedelta(seconds=elapsed)

    def seconds_until(self, moment: dt.datetime) -> float:
        """Real seconds until this clock reads `moment` (0 when it is past)."""
        ahead = (moment - self.now()).total_seconds()
        return max(0.0, ahead / self.speed)
