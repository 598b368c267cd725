"""What `scanner install` hands pip, and how it shows what changed in `scanner plugins`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scanner_core.install import diff_lines, distribution_spec

SCANNER = Path(sys.executable).parent / "scanner"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("gap", "scanner-gap"),
        ("gap>=0.2", "scanner-gap>=0.2"),
        ("gap==0.1.0", "scanner-gap==0.1.0"),
        ("above_vwap", "scanner-above_vwap"),
        ("gap[extra]", "scanner-gap[extra]"),
        ("scanner-gap", "scanner-gap"),
        ("scanner_gap", "scanner_gap"),
        ("Scanner-Gap", "Scanner-Gap"),
        ("acme-scanners", "acme-scanners"),
        ("acme.scanners", "acme.scanners"),
        ("./scanner-rising", "./scanner-rising"),
        (
            "dist/scanner_rising-0.1.0-py3-none-any.whl",
            "dist/scanner_rising-0.1.0-py3-none-any.whl",
        ),
        ("scanner_rising-0.1.0.tar.gz", "scanner_rising-0.1.0.tar.gz"),
        ("git+https://example.org/x.git", "git+https://example.org/x.git"),
        ("not a requirement!", "not a requirement!"),
    ],
)
def test_a_bare_name_means_its_scanner_distribution(spec: str, expected: str) -> None:
    assert distribution_spec(spec) == expected


GAP = ("scanner-gap", "0.1.0", "ok")


@pytest.mark.parametrize(
    ("before", "after", "lines"),
    [
        ({}, {"gap": GAP}, ["+ gap              scanner-gap 0.1.0 ok"]),
        ({"gap": GAP}, {}, ["- gap              scanner-gap 0.1.0 ok"]),
        (
            {"gap": GAP},
            {"gap": ("scanner-gap", "0.2.0", "ok")},
            ["~ gap              scanner-gap 0.1.0 ok -> scanner-gap 0.2.0 ok"],
        ),
        ({"gap": GAP}, {"gap": GAP}, ["scanner plugins: no change"]),
        (
            {"zz": GAP},
            {"aa": ("-", "", "failed"), "zz": GAP},
            ["+ aa               - failed"],
        ),
    ],
    ids=["added", "removed", "upgraded", "unchanged", "failed-one-added"],
)
def test_the_change_is_one_line_per_plugin(before, after, lines) -> None:
    assert diff_lines(before, after) == lines


def test_uninstalling_what_is_not_installed_says_so() -> None:
    done = subprocess.run(
        [SCANNER, "uninstall", "no_such_scanner"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "scanner-no_such_scanner: not installed",
        "scanner plugins: no change",
    ]


def test_a_pip_failure_is_one_line_naming_the_spec(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [SCANNER, "install", str(missing)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"pip install {missing}: ")
