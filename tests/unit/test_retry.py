"""Retry policy, backoff schedule and disabling after consecutive failures."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner_core.execution import ScanOutcome, run_scan
from scanner_core.retry import (
    MAX_BACKOFF_SECONDS,
    MAX_RETRIES,
    FailureTracker,
    RetryPolicy,
    TransientScanError,
    run_with_retries,
)
from scanner_core.scanner import ScanContext, ScanResult


def make_context(name: str) -> ScanContext:
    return ScanContext(None, None, "backtest", datetime(2024, 3, 1, 9, 35), scanner_name=name)


class Flaky:
    """Raises the given exceptions in turn, then finds AAPL."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, context: ScanContext) -> ScanResult:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return ScanResult(symbols=["AAPL"])


def retried(fn, policy: RetryPolicy, timeout: float | None = None):
    """Run fn under the policy; returns the outcome and the waits it asked for."""
    waits: list[float] = []
    outcome = run_with_retries(
        lambda: run_scan(fn, make_context("flaky"), timeout),
        policy,
        scanner="flaky",
        sleep=waits.append,
    )
    return outcome, waits


def test_backoff_schedule_is_geometric():
    policy = RetryPolicy(max_retries=3, backoff_seconds=0.5, backoff_factor=2.0)
    assert [policy.delay(k) for k in (1, 2, 3)] == [0.5, 1.0, 2.0]


@given(
    base=st.floats(0, 10),
    factor=st.floats(1, 4),
    retry=st.integers(1, 10),
)
def test_backoff_never_shrinks(base, factor, retry):
    policy = RetryPolicy(backoff_seconds=base, backoff_factor=factor)
    assert policy.delay(retry + 1) >= policy.delay(retry) >= 0


def test_transient_error_is_retried_until_it_passes():
    scan = Flaky(ConnectionResetError("reset"), TransientScanError("busy"))
    outcome, waits = retried(scan, RetryPolicy(max_retries=3, backoff_seconds=0.5))
    assert outcome.error is None and outcome.value.symbols == ["AAPL"]
    assert scan.calls == 3
    assert waits == [0.5, 1.0]


def test_retries_run_out_and_the_last_error_is_kept():
    scan = Flaky(*(TimeoutError(f"slow {i}") for i in range(5)))
    outcome, waits = retried(scan, RetryPolicy(max_retries=2, backoff_seconds=1.0))
    assert outcome.error == "TimeoutError: slow 2"
    assert scan.calls == 3 and waits == [1.0, 2.0]


@pytest.mark.parametrize("error", [ValueError("bad"), TypeError("bug"), FileNotFoundError("x")])
def test_errors_that_will_not_pass_are_not_retried(error):
    scan = Flaky(error)
    outcome, waits = retried(scan, RetryPolicy(max_retries=3))
    assert outcome.error.startswith(type(error).__name__)
    assert scan.calls == 1 and waits == []


def test_a_scan_stopped_at_its_timeout_is_not_retried():
    outcome, waits = retried(lambda context: time.sleep(60), RetryPolicy(max_retries=3), 0.2)
    assert outcome.timed_out and waits == []


def test_retries_work_across_forked_attempts():
    scan = Flaky(ConnectionError("down"))
    outcome, waits = retried(scan, RetryPolicy(max_retries=1), timeout=10)
    # The counter lives in each child, so every forked attempt raises the same first error.
    assert outcome.error == "ConnectionError: down" and outcome.isolated
    assert waits == [0.5]


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(max_consecutive_failures=0)


def test_failure_tracker_resets_on_success_and_disables_once():
    tracker = FailureTracker()
    assert not tracker.record("gap", failed=True)
    assert not tracker.record("gap", failed=False)
    assert [tracker.record("gap", failed=True) for _ in range(4)] == [False, False, True, False]
    assert tracker.is_disabled("gap") and not tracker.is_disabled("volume")


def test_raising_scanner_is_retried_then_disabled_while_others_go_on(caplog):
    """Three scanners over five scan turns; one always raises a transient error."""
    policy = RetryPolicy(max_retries=2, backoff_seconds=0.1, max_consecutive_failures=3)
    tracker = FailureTracker()
    boom = Flaky(*(ConnectionError("feed down") for _ in range(100)))
    scanners = {
        "gap": lambda context: ScanResult(symbols=["AAPL", "TSLA"]),
        "boom": boom,
        "volume": lambda context: ScanResult(symbols=["SPY"]),
    }
    found: dict[str, list[list[str]]] = {name: [] for name in scanners}
    waits: list[float] = []
    with caplog.at_level(logging.INFO, logger="scanner"):
        for _turn in range(5):
            for name, fn in scanners.items():
                if tracker.is_disabled(name):
                    continue
                outcome = run_with_retries(
                    lambda fn=fn, name=name: run_scan(fn, make_context(name)),
                    policy,
                    scanner=name,
                    sleep=waits.append,
                )
                failed = outcome.error is not None
                tracker.record(
                    name, failed=failed, max_consecutive_failures=policy.max_consecutive_failures
                )
                if not failed:
                    found[name].append(outcome.value.symbols)

    assert boom.calls == 3 * 3  # three turns, each one try plus two retries
    assert waits == [0.1, 0.2] * 3
    assert tracker.disabled == {"boom"}
    assert found["gap"] == [["AAPL", "TSLA"]] * 5
    assert found["volume"] == [["SPY"]] * 5
    assert found["boom"] == []
    disabling = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert disabling == ["Disabling boom after 3 consecutive failures"]
    assert sum("Retrying boom" in r.getMessage() for r in caplog.records) == 6


def test_outcome_without_error_is_never_retryable():
    assert not RetryPolicy(max_retries=3).is_retryable(ScanOutcome(value=ScanResult()))


def test_retries_are_capped_at_ten():
    assert RetryPolicy(max_retries=MAX_RETRIES).max_retries == 10
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=MAX_RETRIES + 1)


@pytest.mark.parametrize("retry", [64, 1025, 100_000, 10**9])
def test_a_huge_retry_number_waits_the_cap_instead_of_overflowing(retry):
    assert RetryPolicy(backoff_factor=2.0).delay(retry) == MAX_BACKOFF_SECONDS


@given(
    retries=st.integers(0, MAX_RETRIES),
    backoff=st.floats(0, 1e6),
    factor=st.floats(1, 1e6),
)
def test_the_waits_of_a_turn_stay_within_the_cap(retries, backoff, factor):
    policy = RetryPolicy(max_retries=retries, backoff_seconds=backoff, backoff_factor=factor)
    waits = policy.waits()
    assert len(waits) == retries
    assert all(w >= 0 for w in waits) and sum(waits) <= MAX_BACKOFF_SECONDS + 1e-9


def test_the_wait_that_would_pass_the_cap_is_cut_and_later_retries_do_not_wait():
    policy = RetryPolicy(max_retries=8, backoff_seconds=1.0, backoff_factor=2.0)
    assert policy.waits() == [1.0, 2.0, 4.0, 8.0, 15.0, 0.0, 0.0, 0.0]
    outcome, waits = retried(Flaky(*[ConnectionError("down")] * 9), policy)
    assert outcome.error == "ConnectionError: down"
    assert waits == policy.waits()
