"""Entry-point discovery, one-at-a-time loading, module specs and required plugins."""

from __future__ import annotations

import sys
from pathlib import Path

import pluggy
import pytest

from scanner_core import BaseScanner, ScanContext, ScanResult, hookimpl
from scanner_core.extensions import unknown_hooks
from scanner_core.plugins import (
    ENTRY_POINT_GROUP,
    EntryPointRecord,
    PluginError,
    ScannerPluginManager,
    check_requirements,
    discover,
    lifecycle_typos,
    list_plugins,
    load_plugin,
    validate_scanner_class,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"


@pytest.fixture
def fake_dists(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Fake installed distributions (real dist-info folders on sys.path)."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    from fakedist import FakeDistributions

    return FakeDistributions(tmp_path, monkeypatch)


def test_discover_lists_without_importing(fake_dists) -> None:
    fake_dists.add("scanner-fixtures", "1.2.3", fake_dists.FIXTURE_PLUGINS)
    sys.modules.pop("fixture_good", None)
    records = {r.name: r for r in discover()}
    assert records["fx-good"].value == "fixture_good:GoodScanner"
    assert records["fx-good"].distribution == "scanner-fixtures"
    assert records["fx-good"].version == "1.2.3"
    assert "fixture_good" not in sys.modules


def test_each_failure_reported_by_name_and_others_load(fake_dists) -> None:
    fake_dists.add("scanner-fixtures", "1.2.3", fake_dists.FIXTURE_PLUGINS)
    infos = {i.name: i for i in list_plugins()}
    assert infos["fx-good"].ok
    assert infos["fx-good"].scanner_class.__name__ == "GoodScanner"
    failed = {n: infos[n] for n in ("fx-import", "fx-signature", "fx-notscanner")}
    assert all(
        i.status == "failed" and i.distribution == "scanner-fixtures" for i in failed.values()
    )
    assert "ModuleNotFoundError" in failed["fx-import"].reason
    assert "scanner_fixture_module_that_does_not_exist" in failed["fx-import"].reason
    assert failed["fx-signature"].reason.startswith("bad hook implementation")
    assert "extra" in failed["fx-signature"].reason
    assert "is not a BaseScanner subclass" in failed["fx-notscanner"].reason
    assert failed["fx-import"].describe().startswith("fx-import (scanner-fixtures 1.2.3): ")


def test_strict_mode_raises(fake_dists, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dists.add("scanner-fixtures", "1.2.3", fake_dists.FIXTURE_PLUGINS)
    monkeypatch.setenv("SCANNER_STRICT_PLUGINS", "1")
    assert load_plugin("fx-good").ok
    with pytest.raises(PluginError, match=r"fx-signature \(scanner-fixtures 1.2.3\)"):
        load_plugin("fx-signature")


def test_duplicate_name_names_both_distributions(fake_dists) -> None:
    fake_dists.add("scanner-alpha", "1.0", {"fx-dup": "fixture_good:GoodScanner"})
    fake_dists.add("scanner-beta", "2.0", {"fx-dup": "fixture_good:GoodScanner"})
    info = load_plugin("fx-dup")
    assert info.status == "failed"
    assert "scanner-alpha 1.0" in info.reason
    assert "scanner-beta 2.0" in info.reason


def test_unknown_entry_name() -> None:
    info = load_plugin("fx-no-such-scanner", records=[])
    assert info.status == "failed"
    assert info.reason == "no installed scanner plugin named 'fx-no-such-scanner'"


def test_local_file_with_single_scanner_loads() -> None:
    info = load_plugin("local_scanner.py", base_dir=FIXTURES)
    assert info.ok, info.reason
    assert info.scanner_class.__name__ == "LocalScanner"
    assert info.distribution is None


def test_local_file_with_two_scanners_needs_a_class_name() -> None:
    info = load_plugin(str(FIXTURES / "two_scanners.py"))
    assert info.status == "failed"
    assert "exactly one BaseScanner subclass (found: FirstScanner, SecondScanner)" in info.reason
    named = load_plugin(str(FIXTURES / "two_scanners.py") + ":SecondScanner")
    assert named.ok and named.scanner_class.__name__ == "SecondScanner"


def test_missing_local_file_is_reported(tmp_path: Path) -> None:
    info = load_plugin("nowhere/missing.py", base_dir=tmp_path)
    assert info.status == "failed"
    assert str(tmp_path / "nowhere/missing.py") in info.reason


def test_module_class_spec_loads_with_its_distribution() -> None:
    info = load_plugin("scanner_gap.scanner:GapScanner")
    assert info.ok, info.reason
    assert info.scanner_class.__name__ == "GapScanner"
    assert info.distribution == "scanner-gap"


def test_installed_plugins_load_by_name() -> None:
    names = {r.name for r in discover()}
    assert {"gap", "momentum", "volume", "breakout"} <= names
    assert all(load_plugin(n).ok for n in ("gap", "momentum", "volume", "breakout"))
    assert ENTRY_POINT_GROUP == "scanner_core.scanners"


class PlainScanner(BaseScanner):
    def setup(self, context: ScanContext) -> bool:
        return True

    def scan(self, context: ScanContext) -> ScanResult:
        return ScanResult(symbols=["A"])


def test_scanner_lifecycle_methods_are_not_hookimpls() -> None:
    pm = ScannerPluginManager()
    scanner = PlainScanner()
    pm.register(scanner, name="plain")
    assert pm.get_hookcallers(scanner) == []
    pm.check_pending()


def test_unknown_hooks_lists_each_misspelled_observer_hook_with_a_guess() -> None:
    class Observer:
        @hookimpl
        def after_scna(self, context: ScanContext, result: ScanResult) -> None:
            """Misspelled: would never be called."""

    pm = ScannerPluginManager()
    pm.register(PlainScanner(), name="plain")
    pm.register(Observer(), name="observer")
    assert unknown_hooks(pm) == [
        "observer: hook implementation 'after_scna' matches no hook; did you mean 'after_scan'?"
    ]
    with pytest.raises(pluggy.PluginValidationError, match="after_scna"):
        pm.check_pending()


class Misspelled(BaseScanner):
    """Three near-misses of lifecycle names, and helpers that are not."""

    def session_strat(self, context: ScanContext) -> None:
        """Meant as session_start."""

    def setpu(self, context: ScanContext) -> bool:
        """Meant as setup."""
        return True

    def sacn(self, context: ScanContext) -> ScanResult:
        """Meant as scan."""
        return ScanResult()

    def scan(self, context: ScanContext) -> ScanResult:
        return ScanResult()

    def rescan_window(self) -> None:
        """Named after scan on purpose: not a misspelling."""

    def score(self) -> float:
        """An ordinary helper."""
        return 0.0


def test_misspelled_lifecycle_methods_are_warned_and_strict_refuses(monkeypatch) -> None:
    assert lifecycle_typos(Misspelled) == [
        "Misspelled.sacn looks like a misspelled scan(); it is never called",
        "Misspelled.session_strat looks like a misspelled session_start(); it is never called",
        "Misspelled.setpu looks like a misspelled setup(); it is never called",
    ]
    validate_scanner_class(Misspelled)  # a warning only
    monkeypatch.setenv("SCANNER_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="session_strat looks like a misspelled"):
        validate_scanner_class(Misspelled)


def test_unknown_name_suggests_the_closest_installed_names() -> None:
    records = [
        EntryPointRecord(
            "momentum", "scanner_momentum:MomentumScanner", "scanner-momentum", "0.1.0"
        ),
        EntryPointRecord("gap", "scanner_gap:GapScanner", "scanner-gap", "0.1.0"),
    ]
    info = load_plugin("momentun", records=records)
    assert info.reason == "no installed scanner plugin named 'momentun'; did you mean 'momentum'?"
    assert load_plugin("zzz", records=records).reason == "no installed scanner plugin named 'zzz'"


def test_a_distribution_name_is_understood_as_its_scanner() -> None:
    info = load_plugin("scanner-momentum")
    assert info.ok, info.reason
    assert info.scanner_class.__name__ == "MomentumScanner"
    assert load_plugin("scanner_momentum").ok


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("scanner-gap>=0.1", []),
        ("scanner-gap", []),
        (
            "scanner-gap>=9.0",
            ["required plugin scanner-gap 0.1.0 is installed, but 'scanner-gap>=9.0' is required"],
        ),
        (
            "scanner-nonexistent-fx>=1",
            [
                "required plugin scanner-nonexistent-fx is not installed"
                " (need 'scanner-nonexistent-fx>=1')"
            ],
        ),
    ],
)
def test_required_plugins(requirement: str, expected: list[str]) -> None:
    assert check_requirements([requirement]) == expected


def test_invalid_requirement_is_a_problem_not_a_crash() -> None:
    (problem,) = check_requirements(["scanner-gap>>1"])
    assert problem.startswith("invalid plugin requirement 'scanner-gap>>1'")


def test_plugin_exiting_at_import_is_reported_and_does_not_end_the_process(tmp_path: Path) -> None:
    (tmp_path / "exits.py").write_text('raise SystemExit("needs a newer numpy")\n')
    info = load_plugin("exits.py", base_dir=tmp_path)
    assert info.status == "failed"
    assert info.reason == "SystemExit: needs a newer numpy"


def test_register_indicators_adds_a_kernel_usable_by_name() -> None:
    from scanner_core.extensions import register_indicators
    from scanner_core.indicators import KERNELS, IndicatorConfig, Sma, kernel_for

    class Twice(Sma):
        name = "twice_sma"

    class Adds:
        @hookimpl
        def register_indicators(self, register) -> None:
            """Adds one kernel."""
            register(Twice)

    class Clashes:
        @hookimpl
        def register_indicators(self, register) -> None:
            """Takes a built-in's name: an error for this plugin only."""
            register(Twice, name="sma")

    pm = ScannerPluginManager()
    pm.register(Adds(), name="adds")
    pm.register(Clashes(), name="clashes")
    errors: list[str] = []
    try:
        register_indicators(pm, lambda plugin, hook, exc: errors.append(f"{plugin}: {exc}"))
        assert isinstance(kernel_for(IndicatorConfig("twice_sma", 3, "1m"), 2), Twice)
        assert KERNELS["sma"] is Sma
        assert errors == [
            "clashes: indicator 'sma' is already registered by scanner_core.indicators.Sma"
        ]
    finally:
        KERNELS.pop("twice_sma", None)
