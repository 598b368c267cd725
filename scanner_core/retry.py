"""Retry a failed scan when its error may pass, and disable a scanner that keeps failing.

Which errors are retried: only exceptions that say "try again later", matched by class
name anywhere in the raised exception's MRO (so subclasses count): ConnectionError (and
ConnectionResetError, BrokenPipeError, ...), TimeoutError raised by the scan itself (a
socket or HTTP timeout), InterruptedError, and `TransientScanError`, which a scanner
raises (or raises `from` another error) to mark any failure as passing. Other OSErrors
(file not found, permission denied) and ValueError, TypeError, KeyError, ... are bugs or
bad data that the same inputs reproduce, so they are not retried.

Never retried: a scan stopped at its `timeout_seconds` (a retry would block the session
for another full limit and most likely time out again), a crashed scan process, and a
bad return value. All of these still count as failures.

Backoff: retry k (1-based) waits `backoff_seconds * backoff_factor ** (k - 1)`, but the
waits of one scan turn add up to at most `MAX_BACKOFF_SECONDS` (30 s): the wait that would
pass it is cut short and later retries follow without waiting. `max_retries` is at most
`MAX_RETRIES` (10). The wait goes through an injectable `sleep`, so a backtest passes a
no-op and never really waits.

Disabling: `FailureTracker` counts consecutive failed scan *turns* per scanner (a turn
that failed after all its retries counts once; any success resets the count) and says
when a scanner reaches `max_consecutive_failures`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from attrs import define, field, frozen, validators

from scanner_core.execution import ScanOutcome
from scanner_core.logs import get_logger

log = get_logger("retry")

#: The most retries a scan turn may have; config above it is an error.
MAX_RETRIES = 10
#: The most one scan turn waits between its retries, all waits together.
MAX_BACKOFF_SECONDS = 30.0

#: Exception class names (matched along the MRO) whose failures may pass.
RETRYABLE_ERRORS = frozenset(
    {"ConnectionError", "TimeoutError", "InterruptedError", "TransientScanError"}
)


class TransientScanError(Exception):
    """Raised by a scanner for a failure that may pass (a flaky data source, a busy service)."""


@frozen
class RetryPolicy:
    """How often a failed scan is retried, how long to wait between tries, when to give up."""

    max_retries: int = field(default=0, validator=[validators.ge(0), validators.le(MAX_RETRIES)])
    backoff_seconds: float = field(default=0.5, validator=validators.ge(0))
    backoff_factor: float = field(default=2.0, validator=validators.ge(1))
    max_consecutive_failures: int = field(default=3, validator=validators.ge(1))
    retry_on: frozenset[str] = field(default=RETRYABLE_ERRORS, converter=frozenset)

    def is_retryable(self, outcome: ScanOutcome) -> bool:
        """Whether this failed outcome may succeed if tried again."""
        return outcome.error is not None and any(t in self.retry_on for t in outcome.error_types)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based), alone, at most the cap."""
        try:
            wait = self.backoff_seconds * self.backoff_factor ** (retry - 1)
        except OverflowError:  # a huge exponent: far past the cap anyway
            wait = math.inf
        return min(wait, MAX_BACKOFF_SECONDS)

    def waits(self) -> list[float]:
        """The wait before each retry of one turn, cut so that together they stay in the cap."""
        out, left = [], MAX_BACKOFF_SECONDS
        for retry in range(1, self.max_retries + 1):
            wait = min(self.delay(retry), left)
            out.append(wait)
            left -= wait
        return out


def run_with_retries(
    attempt: Callable[[], ScanOutcome],
    policy: RetryPolicy,
    *,
    scanner: str,
    sleep: Callable[[float], None] = time.sleep,
) -> ScanOutcome:
    """Call `attempt` until it succeeds, fails for good, or retries run out; the last outcome."""
    outcome = attempt()
    for retry, wait in enumerate(policy.waits(), start=1):
        if not policy.is_retryable(outcome):
            break
        log.info(
            "Retrying %s (attempt %d/%d) in %.3gs after %s",
            scanner,
            retry + 1,
            policy.max_retries + 1,
            wait,
            outcome.error,
            extra={"scanner": scanner, "event": "retry", "attempt": retry + 1},
        )
        sleep(wait)
        outcome = attempt()
    return outcome


@define
class FailureTracker:
    """Consecutive failed scan turns per scanner, and which scanners have been disabled."""

    consecutive: dict[str, int] = field(factory=dict)
    disabled: set[str] = field(factory=set)

    def record(self, scanner: str, *, failed: bool, max_consecutive_failures: int = 3) -> bool:
        """Count one scan turn; True exactly when this turn makes the scanner disabled."""
        if not failed:
            self.consecutive[scanner] = 0
            return False
        count = self.consecutive.get(scanner, 0) + 1
        self.consecutive[scanner] = count
        if count < max_consecutive_failures or scanner in self.disabled:
            return False
        self.disabled.add(scanner)
        log.error(
            "Disabling %s after %d consecutive failures",
            scanner,
            count,
            extra={"scanner": scanner, "event": "disabled", "failures": count},
        )
        return True

    def is_disabled(self, scanner: str) -> bool:
        """Whether the scanner has been disabled for the rest of the session."""
        return scanner in self.disabled
