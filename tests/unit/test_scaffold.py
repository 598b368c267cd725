"""The names a new plugin goes by, and the scanner-core range it depends on."""

from __future__ import annotations

import pytest

from scanner_core.scaffold import PluginNames, ScaffoldError, core_requirement, render


@pytest.mark.parametrize(
    ("name", "distribution", "package", "class_name"),
    [
        ("rising", "scanner-rising", "scanner_rising", "RisingScanner"),
        ("above_vwap", "scanner-above-vwap", "scanner_above_vwap", "AboveVwapScanner"),
        ("gap2", "scanner-gap2", "scanner_gap2", "Gap2Scanner"),
        ("vwap_2_day", "scanner-vwap-2-day", "scanner_vwap_2_day", "Vwap2DayScanner"),
    ],
)
def test_the_names_follow_from_the_scanner_name(name, distribution, package, class_name):
    assert PluginNames.of(name) == PluginNames(name, distribution, package, class_name)


def test_a_bad_name_says_what_a_name_must_be():
    with pytest.raises(ScaffoldError, match=r"^scanner name 'Gap': expected lowercase"):
        PluginNames.of("Gap")


def test_the_dependency_is_this_minor_series(monkeypatch):
    from importlib import metadata

    for version, expected in [
        ("0.1.0", "scanner-core>=0.1,<0.2"),
        ("0.9.3", "scanner-core>=0.9,<0.10"),
        ("1.2.0", "scanner-core>=1.2,<2"),
    ]:
        monkeypatch.setattr(metadata, "version", lambda _name, v=version: v)
        assert core_requirement() == expected


def test_render_fills_every_placeholder_and_leaves_github_expressions():
    text = "{{name}} uses ${{ matrix.python }} and {{name}}"
    assert render(text, {"name": "gap"}) == "gap uses ${{ matrix.python }} and gap"
