"""The manager runs compositions and removal rules: why records, hooks, stable lists, stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scanner_core import ScanContext, ScanResult, hookimpl
from scanner_core.compose import running_configs
from scanner_core.config import ScannerConfig, SymbolRequirements
from scanner_core.manager import ScannerManager
from scanner_core.plugins import ScannerPluginManager, check_scanners
from scanner_core.session import SessionData
from scanner_core.store import BarStore

TABLE = str(Path(__file__).resolve().parents[1] / "fixtures/scanners/table.py")
NOW = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
UNIVERSE = ["A", "B", "C", "D"]


def table(name: str, scores: dict[str, float], **kwargs: Any) -> ScannerConfig:
    return ScannerConfig(name=name, module=TABLE, config={"scores": scores}, **kwargs)


class Seen:
    """An observer of the why records the hooks carry."""

    def __init__(self) -> None:
        self.results: list[ScanResult] = []
        self.added: list[tuple[str, list[str], dict]] = []

    @hookimpl
    def after_scan(self, context: ScanContext, result: ScanResult) -> None:
        self.results.append(result)

    @hookimpl
    def symbols_added(self, context: ScanContext, symbols: list[str], why: dict) -> None:
        self.added.append((context.scanner_name, list(symbols), why))


class Session:
    """The session side: what was added and what a removal rule took out."""

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.left: list[tuple[str, list[str]]] = []

    def add(self, name: str, symbols: list[str], context: ScanContext) -> list[str]:
        new = [s for s in symbols if s not in self.members]
        self.members.update(new)
        return new

    def leave(self, name: str, symbols: list[str], context: ScanContext) -> None:
        self.members.difference_update(symbols)
        self.left.append((name, symbols))


@pytest.fixture
def run(tmp_path):
    """A manager over a real session tracking UNIVERSE, with an observer and a session."""

    def make(configs: list[ScannerConfig]) -> tuple[ScannerManager, Seen, Session]:
        data = SessionData(BarStore(tmp_path / "store"), calendar=None)
        data.track(UNIVERSE)
        pm = ScannerPluginManager()
        seen, session = Seen(), Session()
        pm.register(seen, name="seen")
        mgr = ScannerManager(
            configs,
            session.add,
            on_leave=session.leave,
            session_data=data,
            plugin_manager=pm,
            clock=lambda: NOW,
        )
        assert mgr.load_scanners() and not mgr.problems, mgr.problems
        mgr.setup_all(NOW)
        return mgr, seen, session

    return make


@pytest.mark.parametrize("timeout", [0, 10])
def test_a_composition_adds_its_symbols_with_why_and_is_named_in_stats(run, timeout):
    configs = [
        table("a", {"A": 3.0, "B": 2.0, "C": 1.0}, enabled=False),
        table("b", {"B": 1.0, "C": 5.0, "D": 1.0}, enabled=False),
        ScannerConfig(name="both", compose="a & b", timeout_seconds=timeout),
    ]
    mgr, seen, session = run(configs)
    assert mgr.scanner_names == ["both"]
    result = mgr.execute_scheduled_scans(NOW, ["both"])["both"]
    assert result.symbols == ["B", "C"]
    assert session.members == {"B", "C"}
    ((name, added, why),) = seen.added
    assert (name, added) == ("both", ["B", "C"])
    assert why["C"]["passed"] == ["a", "b"]
    assert why["C"]["values"] == {"a": {"score": 1.0}, "b": {"score": 5.0}}
    assert why["C"]["expression"] == "a & b" and why["C"]["scanner"] == "both"
    assert seen.results[0].metadata["why"] == why
    assert list(mgr.get_scanner_stats()["by_scanner"]) == ["both"]


def test_a_removal_rule_waits_its_least_stay_and_a_cooldown_keeps_it_out(run):
    configs = [
        table(
            "a",
            {"A": 1.0, "B": 1.0},
            remove_when="not b",
            min_minutes_in_session=10,
            cooldown_minutes=30,
        ),
        table("b", {"A": 1.0, "B": 1.0}, enabled=False),
    ]
    mgr, seen, session = run(configs)
    children = mgr.scanner("a").children

    def scan(minutes: int, b_scores: dict[str, float]) -> list[str]:
        children["b"].config["scores"] = b_scores
        when = NOW + timedelta(minutes=minutes)
        return mgr.execute_scheduled_scans(when, ["a"])["a"].symbols

    assert scan(0, {"A": 1.0, "B": 1.0}) == ["A", "B"]
    assert session.members == {"A", "B"}
    scan(5, {"B": 1.0})  # A no longer passes b, but has been in only 5 minutes
    assert session.members == {"A", "B"}
    scan(10, {"B": 1.0})
    assert session.members == {"B"} and session.left == [("a", ["A"])]
    scan(20, {"A": 1.0, "B": 1.0})  # A found again, cooling down until minute 40
    assert session.members == {"B"}
    scan(40, {"A": 1.0, "B": 1.0})
    assert session.members == {"A", "B"}
    # a plain scanner with a rule keeps its own values, not namespaced ones
    assert seen.added[0][2]["A"]["values"] == {"a": {"score": 1.0}}


def test_a_composition_naming_a_missing_scanner_is_left_out_naming_it(tmp_path):
    mgr = ScannerManager([ScannerConfig(name="x", compose="nosuchscanner & gap")], lambda *a: [])
    assert mgr.load_scanners() == []
    assert len(mgr.problems) == 1
    assert "no installed scanner plugin named 'nosuchscanner'" in mgr.problems[0]


def test_compositions_nest_and_the_nested_one_is_named_in_why(run):
    configs = [
        table("a", {"A": 3.0, "B": 2.0}, enabled=False),
        table("b", {"C": 1.0}, enabled=False),
        ScannerConfig(name="pair", compose="a | b", enabled=False),
        ScannerConfig(name="best", compose="pair - a.then(b, within='30m')", timeout_seconds=0),
    ]
    mgr, _, _ = run(configs)
    result = mgr.execute_scheduled_scans(NOW, ["best"])["best"]
    assert result.symbols == ["A", "B", "C"]
    why = result.metadata["why"]
    assert why["A"]["passed"] == ["a", "pair"]
    assert why["C"]["passed"] == ["b", "pair"]
    assert why["A"]["expression"] == "pair - a.then(b, within='30m')"


def test_the_entries_a_composition_names_run_even_when_disabled_on_their_own():
    configs = [
        table("a", {}, enabled=False, symbol_requirements=SymbolRequirements(history={"1d": 30})),
        table("b", {}, enabled=False),
        table("c", {}, enabled=False),
        ScannerConfig(name="pair", compose="a | b", enabled=False),
        ScannerConfig(name="best", compose="pair & gap"),
    ]
    running = running_configs(configs)
    assert [c.name for c in running] == ["best", "a", "b", "gap"]
    assert running[1].symbol_requirements.history == {"1d": 30}


def test_scanner_check_names_a_missing_child_and_a_child_setting_by_its_path():
    configs = [
        ScannerConfig(module="gap", enabled=False, config={"min_gap_pct": -1.0}),
        ScannerConfig(name="x", compose="nosuchscanner & momentum"),
        ScannerConfig(name="y", compose="gap | momentum"),
        ScannerConfig(name="z", compose="gap & momentum"),
    ]
    problems = check_scanners(configs, file="s.toml")
    assert problems[0].startswith("s.toml: scanners[1] (x): scanner nosuchscanner")
    assert "no installed scanner plugin named 'nosuchscanner'" in problems[0]
    assert problems[1].startswith("s.toml: scanners[0].config.min_gap_pct: got -1.0")
    assert len(problems) == 2  # the bad setting once, though two compositions use it
