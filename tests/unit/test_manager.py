"""ScannerManager: lifecycle, enable/disable by name, failures left out, hooks around scans."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from attrs import define, field

from scanner_core import BaseScanner, ScanContext, ScanResult, hookimpl
from scanner_core.calendar import TimeManager
from scanner_core.config import ScannerConfig, ScannerSchedule
from scanner_core.logs import PREFIX, configure_logging
from scanner_core.manager import ScannerManager
from scanner_core.plugins import PluginError, ScannerPluginManager

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"
NOW = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def cfg(name: str, module: str, **kwargs: Any) -> ScannerConfig:
    """A real scanner config, pre-session by default so one call runs every scanner."""
    kwargs.setdefault("pre_session", True)
    return ScannerConfig(name=name, module=module, **kwargs)


@define
class Session:
    """Collects what the manager hands to the session."""

    calls: list[tuple[str, list[str]]] = field(factory=list)

    def add(self, name: str, symbols: list[str], context: ScanContext) -> None:
        self.calls.append((name, symbols))


@pytest.fixture
def fake_dists(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Fake installed distributions (real dist-info folders on sys.path)."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    from fakedist import FakeDistributions

    return FakeDistributions(tmp_path, monkeypatch)


def manager(configs: list[ScannerConfig], session: Session, **kwargs: Any) -> ScannerManager:
    return ScannerManager(configs, session.add, base_dir=FIXTURES, clock=lambda: NOW, **kwargs)


def local(name: str, symbols: list[str], **kwargs: Any) -> ScannerConfig:
    return cfg(name, "local_scanner.py", config={"symbols": symbols}, **kwargs)


@pytest.fixture
def log_output():
    """A stream for configure_logging(); the "scanner" logger is restored afterwards."""
    logger = logging.getLogger("scanner")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield io.StringIO()
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


def test_lifecycle_logs_in_the_plan_shape(log_output: io.StringIO) -> None:
    configure_logging("text", level="DEBUG", stream=log_output)
    session = Session()
    mgr = manager([local("loc", ["XYZ", "ABC"])], session)
    mgr.load_scanners()
    mgr.setup_all()
    results = mgr.execute_pre_session_scans()
    mgr.teardown_all()
    lines = [line[line.index(PREFIX) :] for line in log_output.getvalue().splitlines()]
    assert lines[:4] == [
        "[SCANNER] Loaded: loc",
        "[SCANNER] Setting up: loc",
        "[SCANNER] Setup complete: loc",
        "[SCANNER] Pre-session scan: loc",
    ]
    assert lines[4].startswith("[SCANNER] loc: Found 2 symbols (") and lines[4].endswith("ms)")
    assert lines[5:] == ["[SCANNER] loc: Adding symbol XYZ", "[SCANNER] loc: Adding symbol ABC"]
    assert session.calls == [("loc", ["XYZ", "ABC"])]
    assert results["loc"].symbols == ["XYZ", "ABC"]
    assert mgr.scanner_names == []


def test_enable_and_disable_by_name(fake_dists) -> None:
    fake_dists.add("scanner-fixtures", "1.0", {"fx-good": "fixture_good:GoodScanner"})
    session = Session()
    configs = [
        cfg("on", "fx-good", config={"symbols": ["AAA"]}),
        cfg("off", "fx-good", enabled=False, config={"symbols": ["ZZZ"]}),
    ]
    mgr = manager(configs, session)
    assert mgr.load_scanners() == ["on"]
    mgr.setup_all()
    mgr.execute_pre_session_scans()
    assert session.calls == [("on", ["AAA"])]


def test_disabled_scanner_is_never_imported(fake_dists) -> None:
    fake_dists.add("scanner-fixtures", "1.0", {"fx-import": "fixture_broken_import:X"})
    mgr = manager([cfg("broken", "fx-import", enabled=False)], Session())
    assert mgr.load_scanners() == []
    assert mgr.problems == []


def test_broken_plugins_are_reported_and_others_run(fake_dists) -> None:
    fake_dists.add(
        "scanner-fixtures",
        "1.0",
        {
            "fx-good": "fixture_good:GoodScanner",
            "fx-import": "fixture_broken_import:Whatever",
            "fx-signature": "fixture_bad_signature:BadSignatureScanner",
            "fx-notscanner": "fixture_not_scanner:NotAScanner",
            "fx-setup": "fixture_setup_raises:SetupRaisesScanner",
        },
    )
    session = Session()
    names = ["fx-import", "fx-signature", "fx-notscanner", "fx-setup", "fx-good"]
    configs = [cfg(n, n, config={"symbols": ["OK"]}) for n in names]
    mgr = manager(configs, session)
    assert mgr.load_scanners() == ["fx-setup", "fx-good"]
    assert mgr.setup_all() == ["fx-good"]
    mgr.execute_pre_session_scans()
    assert session.calls == [("fx-good", ["OK"])]
    problems = dict(p.split(": ", 1) for p in mgr.problems)
    assert set(problems) == {"fx-import", "fx-signature", "fx-notscanner", "fx-setup"}
    assert "scanner-fixtures 1.0" in problems["fx-import"]
    assert "ModuleNotFoundError" in problems["fx-import"]
    assert "bad hook implementation" in problems["fx-signature"]
    assert "not a BaseScanner subclass" in problems["fx-notscanner"]
    assert problems["fx-setup"] == "setup raised RuntimeError: cannot reach the data vendor"


def test_strict_mode_raises_on_setup_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCANNER_STRICT_PLUGINS", "1")
    mgr = manager([cfg("boom", str(FIXTURES / "fixture_setup_raises.py"))], Session())
    mgr.load_scanners()
    with pytest.raises(PluginError, match="boom: setup raised RuntimeError"):
        mgr.setup_all()


def test_module_class_and_file_class_specs_run() -> None:
    session = Session()
    configs = [
        cfg("by-module", "scanner_gap.scanner:GapScanner", pre_session=False),
        cfg("by-file", "two_scanners.py:SecondScanner"),
    ]
    mgr = manager(configs, session)
    assert mgr.load_scanners() == ["by-module", "by-file"]
    assert type(mgr.scanner("by-module")).__name__ == "GapScanner"
    assert mgr.scanner("by-module").name == "by-module"
    mgr.setup_all()
    mgr.execute_pre_session_scans()
    assert session.calls == [("by-file", ["SECOND"])]


def test_scheduled_scans_run_only_the_due_ones() -> None:
    session = Session()
    configs = [local("a", ["A"]), local("b", ["B"]), local("c", ["C"])]
    mgr = manager(configs, session)
    mgr.load_scanners()
    mgr.setup_all()
    assert list(mgr.execute_scheduled_scans(NOW, ["b"])) == ["b"]
    assert list(mgr.execute_scheduled_scans(NOW, lambda name: name != "b")) == ["a", "c"]
    assert session.calls == [("b", ["B"]), ("a", ["A"]), ("c", ["C"])]


def test_each_scan_calls_only_its_own_scanner() -> None:
    session = Session()
    mgr = manager([local("a", ["A"]), local("b", ["B"])], session)
    mgr.load_scanners()
    mgr.setup_all()
    results = mgr.execute_pre_session_scans()
    assert {n: r.symbols for n, r in results.items()} == {"a": ["A"], "b": ["B"]}


class ScanTimer:
    """An observer plugin: sees every finished scan, its scanner and how long it took."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, datetime, int]] = []
        self.timed: list[float] = []
        self.added: list[tuple[str, list[str]]] = []
        self.days: list[tuple[str, datetime]] = []

    @hookimpl
    def after_scan(self, context: ScanContext, result: ScanResult) -> None:
        self.seen.append((context.scanner_name, context.current_time, len(result.symbols)))
        self.timed.append(result.execution_time_ms)
        # What an observer is given is its own copy: this changes nothing for the session.
        result.symbols.append("INJECTED")
        result.symbols.remove(result.symbols[0])

    @hookimpl
    def symbols_added(self, context: ScanContext, symbols: list[str]) -> None:
        self.added.append((context.scanner_name, list(symbols)))
        symbols.clear()

    @hookimpl
    def session_started(self, context: ScanContext) -> None:
        self.days.append(("start", context.current_time))

    @hookimpl
    def session_ended(self, context: ScanContext) -> None:
        self.days.append(("end", context.current_time))


@pytest.mark.parametrize("timeout", [None, 5])
def test_an_observer_sees_every_scan_in_the_session_process_and_changes_nothing(timeout) -> None:
    pm = ScannerPluginManager()
    timer = ScanTimer()
    pm.register(timer, name="timer")
    # With a timeout every scan is forked; the observer still runs here, in this process.
    configs = [
        local("a", ["A", "AA"], timeout_seconds=timeout),
        local("b", ["B"], timeout_seconds=timeout),
    ]
    session = Session()
    mgr = manager(configs, session, plugin_manager=pm)
    mgr.load_scanners()
    mgr.setup_all()
    mgr.start_session(NOW)
    results = mgr.execute_pre_session_scans()
    later = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    mgr.execute_scheduled_scans(later, ["a", "b"])
    mgr.end_session(later)
    assert timer.seen == [("a", NOW, 2), ("b", NOW, 1), ("a", later, 2), ("b", later, 1)]
    assert all(ms > 0 for ms in timer.timed)
    assert {n: r.symbols for n, r in results.items()} == {"a": ["A", "AA"], "b": ["B"]}
    assert session.calls[:2] == [("a", ["A", "AA"]), ("b", ["B"])]
    assert timer.added[:2] == [("a", ["A", "AA"]), ("b", ["B"])]
    assert timer.days == [("start", NOW), ("end", later)]


class Lifecycle(BaseScanner):
    """Counts the lifecycle calls it gets, each one directly, once per scanner."""

    calls: ClassVar[list[tuple[str, str]]] = []

    def setup(self, context: ScanContext) -> bool:
        self.calls.append(("setup", self.name))
        return True

    def session_start(self, context: ScanContext) -> None:
        self.calls.append(("session_start", self.name))

    def scan(self, context: ScanContext) -> ScanResult:
        self.calls.append(("scan", self.name))
        return ScanResult(symbols=[self.name.upper()])

    def teardown(self, context: ScanContext) -> None:
        self.calls.append(("teardown", self.name))


def test_lifecycle_methods_are_called_directly_once_per_scanner() -> None:
    Lifecycle.calls.clear()
    spec = f"{__name__}:Lifecycle"
    # In process: a forked scan would note its call in the child.
    mgr = manager(
        [cfg("a", spec, timeout_seconds=None), cfg("b", spec, timeout_seconds=None)], Session()
    )
    assert mgr.load_scanners() == ["a", "b"]
    mgr.setup_all()
    mgr.start_session(NOW)
    mgr.execute_pre_session_scans()
    mgr.teardown_all()
    assert Lifecycle.calls == [
        (call, name)
        for call in ("setup", "session_start", "scan", "teardown")
        for name in ("a", "b")
    ]
    # No lifecycle hook exists for another plugin to answer in a scanner's place.
    assert not hasattr(mgr.pm.hook, "scan") or not mgr.pm.hook.scan.has_spec()


def test_an_observer_with_a_scan_hookimpl_is_an_unknown_hook_not_a_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Replacer:
        @hookimpl
        def scan(self, context: ScanContext) -> ScanResult:
            """Would replace every scan's symbols, were scans hooks."""
            return ScanResult(symbols=["HIJACKED"])

    pm = ScannerPluginManager()
    pm.register(Replacer(), name="replacer")
    session = Session()
    mgr = manager([local("a", ["A"])], session, plugin_manager=pm)
    mgr.load_scanners()
    assert mgr.problems == [
        "replacer: hook implementation 'scan' matches no hook (scan is a scanner method:"
        " subclass BaseScanner and enable it under [[scanners]]; an extension only observes)"
    ]
    assert mgr.execute_pre_session_scans()["a"].symbols == ["A"]
    assert session.calls == [("a", ["A"])]
    monkeypatch.setenv("SCANNER_STRICT_PLUGINS", "1")
    strict = ScannerPluginManager()
    strict.register(Replacer(), name="replacer")
    with pytest.raises(PluginError, match="replacer: hook implementation 'scan'"):
        manager([local("a", ["A"])], session, plugin_manager=strict).load_scanners()


def test_callback_decides_which_symbols_were_added() -> None:
    pm = ScannerPluginManager()
    timer = ScanTimer()
    pm.register(timer, name="timer")
    already = {"A"}
    mgr = ScannerManager(
        [local("a", ["A", "AA"])],
        lambda name, symbols, ctx: [s for s in symbols if s not in already],
        plugin_manager=pm,
        base_dir=FIXTURES,
    )
    mgr.load_scanners()
    mgr.setup_all()
    mgr.execute_pre_session_scans()
    assert timer.added == [("a", ["AA"])]


def test_failing_observer_is_logged_and_every_scan_still_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class BrokenAlerts:
        @hookimpl
        def after_scan(self, context: ScanContext, result: ScanResult) -> None:
            """Raises like an alert service that is down."""
            raise ConnectionError("alert service down")

        @hookimpl
        def symbols_added(self, context: ScanContext, symbols: list[str]) -> None:
            """Raises too."""
            raise KeyError(symbols[0])

    pm = ScannerPluginManager()
    pm.register(BrokenAlerts(), name="alerts")
    session = Session()
    mgr = manager([local("a", ["A"]), local("b", ["B"])], session, plugin_manager=pm)
    mgr.load_scanners()
    mgr.setup_all()
    with caplog.at_level(logging.ERROR, logger="scanner"):
        results = mgr.execute_pre_session_scans()
    assert [r.symbols for r in results.values()] == [["A"], ["B"]]
    assert session.calls == [("a", ["A"]), ("b", ["B"])]
    assert [(r.scanner, r.symbols_added) for r in mgr.history.records] == [("a", 1), ("b", 1)]
    assert (
        "alerts: after_scan hook raised ConnectionError: alert service down (after a scan of a)"
        in caplog.text
    )
    assert "alerts: symbols_added hook raised KeyError: 'B' (after a scan of b)" in caplog.text
    # Listed once each for the summary, however often they raised.
    assert mgr.problems == [
        "alerts: after_scan hook raised ConnectionError: alert service down",
        "alerts: symbols_added hook raised KeyError: 'A'",
        "alerts: symbols_added hook raised KeyError: 'B'",
    ]


def test_an_observer_that_raises_keeps_no_other_observer_from_a_scan() -> None:
    class Exits:
        @hookimpl
        def after_scan(self, context: ScanContext, result: ScanResult) -> None:
            """Ends the process, were it let."""
            raise SystemExit("alerts off")

    class Seen:
        def __init__(self) -> None:
            self.scans: list[str] = []

        @hookimpl
        def after_scan(self, context: ScanContext, result: ScanResult) -> None:
            """Notes the scan."""
            self.scans.append(context.scanner_name)

    pm = ScannerPluginManager()
    seen = Seen()
    # Registered first, so called after the one that raises.
    pm.register(seen, name="seen")
    pm.register(Exits(), name="exits")
    mgr = manager([local("a", ["A"]), local("b", ["B"])], Session(), plugin_manager=pm)
    mgr.load_scanners()
    mgr.setup_all()
    mgr.execute_pre_session_scans()
    assert seen.scans == ["a", "b"]
    assert mgr.problems == ["exits: after_scan hook raised SystemExit: alerts off"]


def test_setup_calling_sys_exit_leaves_that_scanner_out(tmp_path: Path) -> None:
    path = tmp_path / "exits.py"
    path.write_text(
        "import sys\n"
        "from scanner_core import BaseScanner\n"
        "class Exits(BaseScanner):\n"
        "    def setup(self, context):\n"
        "        sys.exit('no licence')\n"
        "    def scan(self, context):\n"
        "        raise AssertionError('never scanned')\n"
    )
    session = Session()
    mgr = manager([cfg("exits", str(path)), local("ok", ["OK"])], session)
    mgr.load_scanners()
    assert mgr.setup_all() == ["ok"]
    assert mgr.problems == ["exits: setup raised SystemExit: no licence"]
    mgr.execute_pre_session_scans()
    assert session.calls == [("ok", ["OK"])]


def test_misspelled_observer_hook_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    class Typo:
        @hookimpl
        def symbols_aded(self, context: ScanContext, symbols: list[str]) -> None:
            """Misspelled on purpose."""

    pm = ScannerPluginManager()
    pm.register(Typo(), name="typo")
    mgr = manager([local("a", ["A"])], Session(), plugin_manager=pm)
    with caplog.at_level(logging.ERROR, logger="scanner"):
        assert mgr.load_scanners() == ["a"]
    assert any("symbols_aded" in p for p in mgr.problems)
    assert "symbols_aded" in caplog.text


def test_failing_scan_is_recorded_and_session_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "flaky.py"
    path.write_text(
        "from scanner_core import BaseScanner\n"
        "class Flaky(BaseScanner):\n"
        "    def scan(self, context):\n"
        "        raise ValueError('no data yet')\n"
    )
    session = Session()
    mgr = manager([cfg("flaky", str(path)), local("ok", ["OK"])], session)
    mgr.load_scanners()
    mgr.setup_all()
    results = mgr.execute_pre_session_scans()
    assert results["flaky"].error == "ValueError: no data yet"
    assert results["flaky"].symbols == []
    assert session.calls == [("ok", ["OK"])]


def test_context_factory_builds_each_scanners_context() -> None:
    made: list[str] = []

    def factory(name: str, config: ScannerConfig) -> ScanContext:
        made.append(name)
        return ScanContext({"bars": name}, None, "live", NOW, config.config, name)

    seen: list[tuple[Any, str]] = []
    mgr = ScannerManager(
        [local("a", ["A"])],
        lambda name, symbols, ctx: seen.append((ctx.session_data, ctx.mode)),
        context_factory=factory,
        base_dir=FIXTURES,
    )
    mgr.load_scanners()
    mgr.setup_all()
    mgr.execute_pre_session_scans()
    assert made == ["a"]
    assert seen == [({"bars": "a"}, "live")]


def scheduled(name: str, symbols: list[str], **schedule: Any) -> ScannerConfig:
    return local(name, symbols, pre_session=False, schedule=ScannerSchedule(**schedule))


def test_schedules_through_the_time_manager() -> None:
    tm = TimeManager("XNYS")
    configs = [scheduled("a", ["A"], interval="15m"), scheduled("b", ["B"], interval="10m")]
    mgr = manager(configs, Session(), time_manager=tm)
    mgr.load_scanners()
    open_ = datetime(2024, 3, 4, 9, 30, tzinfo=NY)

    due = mgr.due_scans(open_, open_ + timedelta(minutes=30))

    def at(minute: int) -> datetime:
        return open_ + timedelta(minutes=minute)

    assert [(when - open_, name) for when, name in due] == [
        (timedelta(minutes=10), "b"),
        (timedelta(minutes=15), "a"),
        (timedelta(minutes=20), "b"),
        (timedelta(minutes=30), "a"),
        (timedelta(minutes=30), "b"),
    ]
    assert mgr.should_run_scan("a", at(15)) and not mgr.should_run_scan("a", at(10))
    assert mgr.next_run_time("a", at(15)) == at(30)
    assert mgr.next_run_time("b", open_ + timedelta(hours=6, minutes=30)) == datetime(
        2024, 3, 5, 9, 30, tzinfo=NY
    )
    mgr.teardown_all()
    assert mgr.due_scans(open_, at(30)) == []
    assert not mgr.should_run_scan("a", at(15)) and mgr.next_run_time("a", at(15)) is None


def transient(name: str, **kwargs: Any) -> ScannerConfig:
    spec = str(FIXTURES / "reliability_scanners.py:RaisingScanner")
    return cfg(name, spec, config={"error": "transient"}, **kwargs)


@pytest.mark.parametrize(("mode", "expected"), [("backtest", []), ("live", [0.5, 1.0])])
def test_backoff_sleeps_only_in_live_mode(
    monkeypatch: pytest.MonkeyPatch, mode: str, expected: list[float]
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    mgr = manager([transient("t", timeout_seconds=None, max_retries=2)], Session(), mode=mode)
    mgr.load_scanners()
    results = mgr.execute_pre_session_scans()
    assert results["t"].error == "TransientScanError: data source unavailable"
    assert waits == expected


def test_history_counts_found_and_added_against_a_growing_universe() -> None:
    universe = {"A"}
    mgr = ScannerManager(
        [local("a", ["A", "B", "C"])],
        lambda name, symbols, ctx: [s for s in symbols if s != "A"],
        base_dir=FIXTURES,
        known_symbols=lambda: universe,
    )
    mgr.load_scanners()
    first = mgr.execute_pre_session_scans(NOW)
    universe.update({"B", "C"})
    later = NOW + timedelta(minutes=5)
    second = mgr.execute_scheduled_scans(later, ["a"])

    assert (first["a"].symbols, second["a"].symbols) == (["A"], ["A", "B", "C"])
    records = [(r.time, r.symbols_found, r.symbols_added) for r in mgr.history.records]
    assert records == [(NOW, 3, 0), (later, 3, 2)]
    stats = mgr.get_scanner_stats()
    assert stats["total_scans"] == 2 and stats["by_scanner"]["a"]["total_symbols_added"] == 2


def test_live_results_reach_the_session_only_through_drain_on_the_calling_thread() -> None:
    threads: list[int] = []

    def on_symbols(name: str, symbols: list[str], ctx: ScanContext) -> None:
        threads.append(threading.get_ident())

    configs = [local("a", ["A"], timeout_seconds=None), local("b", ["B"])]
    mgr = ScannerManager(configs, on_symbols, base_dir=FIXTURES, mode="live")
    mgr.load_scanners()

    assert mgr.submit_scheduled_scans(NOW, ["a", "b"]) == ["a", "b"]
    assert mgr.wait_idle(timeout=60)
    assert threads == [] and mgr.history.records == []

    drained = sorted((name, result.symbols) for name, result in mgr.drain())
    assert drained == [("a", ["A"]), ("b", ["B"])]
    assert threads == [threading.get_ident()] * 2
    assert len(mgr.history.records) == 2
    mgr.teardown_all()
    assert mgr.scanner_names == []


def test_json_log_lines_carry_the_scanner_and_event(log_output: io.StringIO) -> None:
    configure_logging("json", stream=log_output)
    mgr = manager([local("a", ["A"]), transient("t", max_consecutive_failures=1)], Session())
    mgr.load_scanners()
    mgr.execute_pre_session_scans()
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    found = next(line for line in lines if line.get("event") == "scan")
    assert (found["scanner"], found["symbols"], found["logger"]) == ("a", 1, "scanner.manager")
    assert found["message"].startswith("a: Found 1 symbols (")
    failed = next(line for line in lines if line.get("event") == "error")
    assert failed["message"] == "t: Scan failed: TransientScanError: data source unavailable"
    disabled = next(line for line in lines if line.get("event") == "disabled")
    assert disabled["message"] == "Disabling t after 1 consecutive failures"


def test_disabled_scanner_is_torn_down_and_gets_no_more_turns(tmp_path: Path) -> None:
    torn = tmp_path / "torn"
    path = tmp_path / "flaky.py"
    path.write_text(
        "from pathlib import Path\n"
        "from scanner_core import BaseScanner\n"
        "from scanner_core.retry import TransientScanError\n"
        "class Flaky(BaseScanner):\n"
        "    def scan(self, context):\n"
        "        raise TransientScanError('data source unavailable')\n"
        "    def teardown(self, context):\n"
        f"        Path({str(torn)!r}).write_text(self.name)\n"
    )
    configs = [
        cfg("t", str(path), timeout_seconds=None, max_consecutive_failures=2),
        local("a", ["A"]),
    ]
    mgr = manager(configs, Session())
    mgr.load_scanners()
    mgr.execute_pre_session_scans()
    assert not torn.exists() and mgr.scanner_names == ["t", "a"]
    mgr.execute_scheduled_scans(NOW, ["t", "a"])
    assert torn.read_text() == "t" and mgr.scanner_names == ["a"]
    assert list(mgr.execute_scheduled_scans(NOW, ["t", "a"])) == ["a"]
    assert [r.scanner for r in mgr.history.records] == ["t", "a", "t", "a", "a"]
