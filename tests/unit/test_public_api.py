"""The four plugins are written against the public surface only, as a third party's are."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import scanner_core

PLUGINS = sorted((Path(__file__).resolve().parents[2] / "scanner_plugins").glob("*/scanner_*"))


def core_imports(path: Path) -> list[str]:
    """Every scanner_core module a file imports, as written."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "scanner_core"]
        elif (
            isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "scanner_core"
        ):
            found.append(node.module)
    return found


def test_the_four_plugins_are_found():
    assert [p.name for p in PLUGINS] == [
        "scanner_breakout",
        "scanner_gap",
        "scanner_momentum",
        "scanner_volume",
    ]


@pytest.mark.parametrize("package", PLUGINS, ids=lambda p: p.name)
def test_a_plugin_imports_scanner_core_and_no_other_core_module(package):
    wrong = {
        f"{path.name}: {module}"
        for path in package.rglob("*.py")
        for module in core_imports(path)
        if module != "scanner_core"
    }
    assert not wrong, f"{package.name} imports internal modules: {sorted(wrong)}"


def test_the_public_surface_holds_what_an_author_needs():
    for name in (
        "BaseScanner",
        "ScanContext",
        "ScanResult",
        "TradingDay",
        "IndicatorConfig",
        "IndicatorValues",
        "rank",
        "ranked_result",
        "between",
        "at_least",
        "one_of",
        "bar_interval",
        "intraday_interval",
        "TransientScanError",
        "hookimpl",
        "SessionView",
    ):
        assert name in scanner_core.__all__ and hasattr(scanner_core, name), name
