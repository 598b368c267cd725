"""Lag detection: when a live session falls behind its feed, scheduled scans pause.

The loop reports after each step how far (in real seconds) the feed is ahead of what
the session has processed. Beyond `max_lag_seconds` scheduled scans pause, so the
session spends its time on ingestion; once the lag is back under half the threshold
they resume. Pauses, resumes, the scan turns held back and the largest lag are counted
for the session's stats, and each pause and resume is logged.
"""

from __future__ import annotations

import datetime as dt
import logging

from attrs import define, field

log = logging.getLogger("scanner.session")


@define
class LagWatch:
    """The lag of a live session behind its feed, and whether scans are paused for it."""

    max_lag_seconds: float
    paused: bool = False
    pauses: int = 0
    resumes: int = 0
    #: Scheduled scan turns not run because scans were paused, per scanner.
    held_scans: dict[str, int] = field(factory=dict)
    max_seen: float = 0.0
    lag: float = 0.0

    def observe(self, lag: float, now: dt.datetime) -> None:
        """Record the current lag; pause or resume scans when it crosses the thresholds."""
        self.lag = max(0.0, lag)
        self.max_seen = max(self.max_seen, self.lag)
        if not self.paused and self.lag > self.max_lag_seconds:
            self.paused = True
            self.pauses += 1
            log.warning(
                "[SESSION] %s: %.1fs behind the feed (over %.1fs): scheduled scans paused",
                now.isoformat(),
                self.lag,
                self.max_lag_seconds,
                extra={"event": "lag_paused", "lag_seconds": round(self.lag, 3)},
            )
        elif self.paused and self.lag <= self.max_lag_seconds / 2:
            self.paused = False
            self.resumes += 1
            log.warning(
                "[SESSION] %s: caught up (%.1fs behind the feed): scheduled scans resumed",
                now.isoformat(),
                self.lag,
                extra={"event": "lag_resumed", "lag_seconds": round(self.lag, 3)},
            )

    def held(self, when: dt.datetime, names: list[str]) -> None:
        """Count and log scan turns not run at `when` because scans are paused."""
        for name in names:
            self.held_scans[name] = self.held_scans.get(name, 0) + 1
            log.warning(
                "%s: scan at %s held back: the session is catching up with its feed",
                name,
                when.isoformat(),
                extra={"scanner": name, "event": "lag_held"},
            )

    def as_dict(self) -> dict[str, object]:
        """The counts as plain data, for the stats file."""
        return {
            "max_lag_seconds": round(self.max_seen, 3),
            "lag_threshold_seconds": self.max_lag_seconds,
            "pauses": self.pauses,
            "resumes": self.resumes,
            "scans_held": dict(self.held_scans),
        }
