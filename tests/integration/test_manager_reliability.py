"""The manager under misbehaving scanners: each test runs well-behaved scanners alongside and
checks their results are intact. Timeout bounds here are wall-clock, hence integration tests."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from attrs import define, field

from scanner_core import ScanContext
from scanner_core.config import ScannerConfig
from scanner_core.manager import ScannerManager

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"
T0 = datetime(2024, 3, 4, 14, 35, tzinfo=UTC)
STEP = timedelta(minutes=5)
#: A stopped scan must be back within this much of its limit (fork and reaping included).
BOUND_SECONDS = 1.0


@define
class Session:
    """What the manager handed to the session, and on which thread."""

    calls: list[tuple[str, list[str]]] = field(factory=list)
    threads: set[int] = field(factory=set)

    def add(self, name: str, symbols: list[str], context: ScanContext) -> None:
        self.calls.append((name, symbols))
        self.threads.add(threading.get_ident())


def odd(name: str, kind: str, config: dict[str, Any] | None = None, **kwargs: Any) -> ScannerConfig:
    """A misbehaving scanner from the reliability fixtures (forked: 30 s timeout by default)."""
    spec = f"reliability_scanners.py:{kind}"
    return ScannerConfig(name=name, module=spec, config=config or {}, **kwargs)


def steady(name: str, *symbols: str, **kwargs: Any) -> ScannerConfig:
    """A well-behaved scanner that finds `symbols` every time."""
    spec = "fixture_good.py:GoodScanner"
    return ScannerConfig(name=name, module=spec, config={"symbols": list(symbols)}, **kwargs)


def started(configs: list[ScannerConfig], session: Session, **kwargs: Any) -> ScannerManager:
    mgr = ScannerManager(configs, session.add, base_dir=FIXTURES, **kwargs)
    assert mgr.load_scanners() == [c.name for c in configs]
    mgr.setup_all(T0)
    return mgr


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("scanner")]


def records(mgr: ScannerManager, name: str) -> list[Any]:
    return [r for r in mgr.history.records if r.scanner == name]


def drain_until(mgr: ScannerManager, count: int, timeout: float = 60.0) -> list[tuple[str, Any]]:
    """Drain live results until `count` have arrived (or give up after `timeout`)."""
    results: list[tuple[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(results) < count and time.monotonic() < deadline:
        results += mgr.drain()
        time.sleep(0.01)
    return results


@pytest.mark.parametrize("kind", ["BusyScanner", "SleepScanner"])
def test_stuck_scan_is_stopped_within_a_second_of_its_timeout(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    session = Session()
    configs = [
        steady("before", "AAA"),
        odd("stuck", kind, timeout_seconds=1.0),
        steady("after", "BBB"),
    ]
    mgr = started(configs, session)

    with caplog.at_level(logging.INFO, logger="scanner"):
        start = time.perf_counter()
        results = mgr.execute_scheduled_scans(T0, mgr.scanner_names)
        elapsed = time.perf_counter() - start

    (record,) = records(mgr, "stuck")
    assert results["stuck"].error == "timeout" and record.error == "timeout"
    assert 1.0 <= record.execution_time_ms / 1000 < 1.0 + BOUND_SECONDS, record
    assert elapsed < 1.0 + BOUND_SECONDS + 1.0  # the two quick scans fit in the last second
    assert "stuck: Scan timed out after 1.0s" in messages(caplog)
    assert session.calls == [("before", ["AAA"]), ("after", ["BBB"])]
    # One timeout is one failure: the scanner keeps its turn.
    assert mgr.scanner_names == ["before", "stuck", "after"]


def test_raising_scanner_is_retried_then_disabled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flaky_log, buggy_log = tmp_path / "flaky", tmp_path / "buggy"
    limits = {"max_retries": 2, "max_consecutive_failures": 3}
    configs = [
        steady("ok", "OK"),
        odd(
            "flaky", "RaisingScanner", {"error": "connection", "attempts": str(flaky_log)}, **limits
        ),
        odd("buggy", "RaisingScanner", {"error": "value", "attempts": str(buggy_log)}, **limits),
    ]
    session, waits = Session(), []
    mgr = started(configs, session, sleep=waits.append)

    with caplog.at_level(logging.INFO, logger="scanner"):
        for turn in range(4):
            mgr.execute_scheduled_scans(T0 + turn * STEP, mgr.scanner_names)

    # A connection error may pass: 1 + 2 retries per turn; a ValueError is not retried.
    assert len(flaky_log.read_text().splitlines()) == 3 * 3
    assert len(buggy_log.read_text().splitlines()) == 3
    assert waits == [0.5, 1.0] * 3
    lines = messages(caplog)
    assert sum(line.startswith("Retrying flaky (attempt ") for line in lines) == 6
    assert not any(line.startswith("Retrying buggy") for line in lines)
    assert "Disabling flaky after 3 consecutive failures" in lines
    assert "Disabling buggy after 3 consecutive failures" in lines
    assert [r.error for r in records(mgr, "flaky")] == [
        "ConnectionError: data source unavailable"
    ] * 3
    assert mgr.scanner_names == ["ok"]
    assert session.calls == [("ok", ["OK"])] * 4
    assert (
        "flaky: disabled after 3 consecutive failures (last: ConnectionError: data source"
        " unavailable)" in mgr.problems
    )


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["in-process", "forked"])
def test_garbage_results_follow_the_documented_rule(
    timeout: float | None, caplog: pytest.LogCaptureFixture
) -> None:
    kinds = ["none", "dict", "list", "mixed"]
    configs = [odd(k, "GarbageScanner", {"kind": k}, timeout_seconds=timeout) for k in kinds]
    session = Session()
    mgr = started([*configs, steady("ok", "OK", timeout_seconds=timeout)], session)

    with caplog.at_level(logging.INFO, logger="scanner"):
        results = mgr.execute_scheduled_scans(T0, mgr.scanner_names)

    assert results["none"].error == "bad result: expected ScanResult or Screen, got NoneType"
    assert results["dict"].error == "bad result: expected ScanResult or Screen, got dict"
    assert results["list"].error is None and results["list"].symbols == ["LST", "LST2"]
    assert results["mixed"].error is None and results["mixed"].symbols == ["GOOD", "ALSO"]
    lines = messages(caplog)
    assert "none: Scan failed: bad result: expected ScanResult or Screen, got NoneType" in lines
    assert "list: returned a list, not a ScanResult; taken as the ranked symbols" in lines
    assert "mixed: dropped 3 symbols that are not non-empty strings: 5, None, ''" in lines
    assert "mixed: dropped 1 duplicate symbols: 'GOOD'" in lines
    assert [r.symbols_found for r in records(mgr, "mixed")] == [6]
    assert session.calls == [("list", ["LST", "LST2"]), ("mixed", ["GOOD", "ALSO"]), ("ok", ["OK"])]


def test_ten_thousand_symbols_are_cut_to_the_top_ten(caplog: pytest.LogCaptureFixture) -> None:
    session = Session()
    configs = [odd("many", "ManyScanner", {"count": 10_000}, max_symbols=10), steady("ok", "OK")]
    mgr = started(configs, session)

    with caplog.at_level(logging.INFO, logger="scanner"):
        results = mgr.execute_scheduled_scans(T0, mgr.scanner_names)

    top = [f"S{i:05d}" for i in range(10)]
    assert results["many"].symbols == top
    assert session.calls == [("many", top), ("ok", ["OK"])]
    (warning,) = [r for r in caplog.records if "over max_symbols" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith(
        "many: returned 10000 symbols, over max_symbols=10; kept the top 10, dropped 9990: "
        "'S00010', 'S00011'"
    )
    (record,) = records(mgr, "many")
    assert (record.symbols_found, record.symbols_added) == (10_000, 10)


def test_session_cap_admits_new_symbols_until_full(caplog: pytest.LogCaptureFixture) -> None:
    session = Session()
    configs = [steady("a", "A1", "A2", "A3", "A4"), steady("b", "A1", "B1", "B2", "B3")]
    mgr = started(configs, session, max_session_symbols=5)

    with caplog.at_level(logging.INFO, logger="scanner"):
        mgr.execute_scheduled_scans(T0, mgr.scanner_names)
        mgr.execute_scheduled_scans(T0 + STEP, mgr.scanner_names)

    # Symbols already in the session pass freely; only new ones count against the cap.
    assert session.calls == [
        ("a", ["A1", "A2", "A3", "A4"]),
        ("b", ["A1", "B1"]),
        ("a", ["A1", "A2", "A3", "A4"]),
        ("b", ["A1", "B1"]),
    ]
    assert "b: session cap of 5 symbols reached; dropped 2: 'B2', 'B3'" in messages(caplog)
    assert mgr.session_cap.added == {"A1", "A2", "A3", "A4", "B1"}


def test_live_scan_still_running_is_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    release = tmp_path / "release"
    session = Session()
    configs = [odd("gate", "GateScanner", {"release": str(release)}), steady("ok", "OK")]
    mgr = started(configs, session, mode="live")

    with caplog.at_level(logging.INFO, logger="scanner"):
        assert mgr.submit_scheduled_scans(T0, mgr.scanner_names) == ["gate", "ok"]
        assert [name for name, _ in drain_until(mgr, 1)] == ["ok"]
        assert mgr.submit_scheduled_scans(T0 + STEP, mgr.scanner_names) == ["ok"]
        release.touch()
        assert mgr.wait_idle(timeout=60)
        drained = sorted(name for name, _ in mgr.drain())

    assert drained == ["gate", "ok"]
    assert [(r.time, r.skipped) for r in records(mgr, "gate")] == [(T0 + STEP, True), (T0, False)]
    assert mgr.get_scanner_stats()["by_scanner"]["gate"]["skipped"] == 1
    skip_line = (
        f"gate: Skipped scan at {(T0 + STEP).isoformat()}: the previous scan is still running"
    )
    assert skip_line in messages(caplog)
    assert sorted(session.calls) == [("gate", ["GATE"]), ("ok", ["OK"]), ("ok", ["OK"])]
    assert session.threads == {threading.get_ident()}
    mgr.teardown_all()


def test_stats_after_a_mixed_live_run(tmp_path: Path) -> None:
    release = tmp_path / "release"
    configs = [
        steady("ok", "OK"),
        odd("gate", "GateScanner", {"release": str(release)}),
        odd("busy", "BusyScanner", timeout_seconds=0.5),
        odd("buggy", "RaisingScanner", {"error": "value"}),
    ]
    session = Session()
    mgr = started(configs, session, mode="live")

    mgr.submit_scheduled_scans(T0, mgr.scanner_names)
    assert sorted(name for name, _ in drain_until(mgr, 3)) == ["buggy", "busy", "ok"]
    mgr.submit_scheduled_scans(T0 + STEP, mgr.scanner_names)
    release.touch()
    assert mgr.wait_idle(timeout=60)
    mgr.drain()
    mgr.teardown_all()

    stats = mgr.get_scanner_stats()
    by = stats["by_scanner"]
    assert (stats["total_scans"], stats["errors"], stats["timeouts"], stats["skipped"]) == (
        8,
        4,
        2,
        1,
    )
    assert {name: row["scans"] for name, row in by.items()} == {
        "buggy": 2,
        "busy": 2,
        "gate": 2,
        "ok": 2,
    }
    assert (stats["total_symbols_found"], stats["total_symbols_added"]) == (3, 3)
    assert by["buggy"]["last_error"] == "ValueError: data source unavailable"
    assert by["busy"]["timeouts"] == 2 and by["busy"]["p95_execution_time"] >= 500
    ran = [r.execution_time_ms for r in mgr.history.records if not r.skipped]
    assert stats["p95_execution_time"] == pytest.approx(np.percentile(ran, 95))
    assert stats["max_execution_time"] == max(ran)
    assert sorted(session.calls) == [("gate", ["GATE"]), ("ok", ["OK"]), ("ok", ["OK"])]
