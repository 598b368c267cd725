"""`scanner new NAME`: the distribution it writes installs, is discovered, tests and checks."""

from __future__ import annotations

import ast
import json
import re
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from venvs import BIN, overlay_venv, sh

import scanner_core
from scanner_core.cli import main
from scanner_core.plugins import load_plugin
from scanner_core.scaffold import core_requirement

FILES = [
    ".github/workflows/ci.yml",
    ".gitignore",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "scanner_rising/__init__.py",
    "scanner_rising/scanner.py",
    "tests/test_scanner.py",
]


def new(*args: str):
    return CliRunner().invoke(main, ["new", *args])


@pytest.fixture
def rising(tmp_path: Path) -> Path:
    result = new("rising", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    return tmp_path / "scanner-rising"


def test_new_writes_every_file_with_no_placeholder_left(rising: Path) -> None:
    files = sorted(p.relative_to(rising).as_posix() for p in rising.rglob("*") if p.is_file())
    assert files == FILES
    for name in files:
        assert not re.search(r"\{\{\w+\}\}", (rising / name).read_text()), name


def test_the_pyproject_announces_the_scanner_by_name(tmp_path: Path) -> None:
    assert new("above_vwap", "--dir", str(tmp_path)).exit_code == 0
    text = (tmp_path / "scanner-above-vwap" / "pyproject.toml").read_text()
    project = tomllib.loads(text)
    assert project["project"]["name"] == "scanner-above-vwap"
    assert project["project"]["dependencies"] == [core_requirement()]
    assert project["project"]["entry-points"] == {
        "scanner_core.scanners": {"above_vwap": "scanner_above_vwap.scanner:AboveVwapScanner"}
    }
    sdist = project["tool"]["hatch"]["build"]["targets"]["sdist"]
    assert sdist == {"only-include": ["scanner_above_vwap", "tests", "README.md", "LICENSE"]}


def test_the_example_imports_only_the_public_surface(rising: Path) -> None:
    for path in (rising / "scanner_rising").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("scanner_core"):
                assert node.module == "scanner_core", f"{path.name} imports {node.module}"
                assert {a.name for a in node.names} <= set(scanner_core.__all__)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("scanner_core") for a in node.names)


def test_the_example_loads_as_a_scanner_with_its_settings(rising: Path) -> None:
    info = load_plugin("scanner_rising/scanner.py:RisingScanner", base_dir=rising)
    assert info.ok, info.reason
    assert info.scanner_class({"min_pct": 2.0}).settings.min_pct == 2.0


@pytest.mark.parametrize(
    "name",
    ["Rising", "1st", "my-scan", "", "a b", "rising!", "_hidden", "late_", "a__b", "émoji"],
    ids=[
        "upper",
        "digit-first",
        "dash",
        "empty",
        "space",
        "punctuation",
        "leading-underscore",
        "trailing-underscore",
        "double-underscore",
        "accent",
    ],
)
def test_a_bad_name_is_one_error_and_writes_nothing(tmp_path: Path, name: str) -> None:
    result = new(name, "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"scanner name {name!r}: expected lowercase letters and digits, words joined "
        "by single underscores, starting with a letter (such as 'rising' or 'above_vwap')"
    ]
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_one_error_and_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "scanner-rising").mkdir()
    (tmp_path / "scanner-rising" / "mine.txt").write_text("kept")
    result = new("rising", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'scanner-rising'}: already exists; choose another name or --dir"
    ]
    assert [p.name for p in (tmp_path / "scanner-rising").iterdir()] == ["mine.txt"]


def test_a_dir_that_is_a_file_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    result = new("rising", "--dir", str(tmp_path / "plain"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'plain'}: not a folder"]
    assert (tmp_path / "plain").read_text() == ""


@pytest.mark.slow
def test_installed_as_made_it_is_discovered_tested_and_checked(tmp_path: Path) -> None:
    made = sh(BIN / "scanner", "new", "rising", cwd=tmp_path)
    assert made.stdout.splitlines()[0] == "created scanner-rising"
    folder = tmp_path / "scanner-rising"
    # Outputs of a run left in the folder must not ship.
    (folder / "history.jsonl").write_text("{}\n")
    (folder / "stats.json").write_text("{}\n")
    sh(
        sys.executable,
        "-m",
        "build",
        "--no-isolation",
        "--sdist",
        "-o",
        "dist",
        folder,
        cwd=tmp_path,
    )
    with tarfile.open(tmp_path / "dist" / "scanner_rising-0.1.0.tar.gz") as sdist:
        members = sorted(m.removeprefix("scanner_rising-0.1.0/") for m in sdist.getnames())
    assert members == sorted([*FILES[1:], "PKG-INFO"])

    python = overlay_venv(tmp_path / "venv")
    sh(python, "-m", "pip", "install", "-q", "./scanner-rising", cwd=tmp_path)
    tested = sh(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=folder)
    assert "2 passed" in tested.stdout
    scanner = tmp_path / "venv" / "bin" / "scanner"
    rows = {
        row["name"]: row
        for row in json.loads(sh(scanner, "plugins", "--json", cwd=tmp_path).stdout)
    }
    assert rows["rising"]["status"] == "ok"
    assert rows["rising"]["distribution"] == "scanner-rising"
    config = tmp_path / "session.toml"
    config.write_text('[[scanners]]\nmodule = "rising"\nconfig = { min_pct = 1.5 }\n')
    checked = sh(scanner, "check", config, cwd=tmp_path)
    assert checked.stdout.strip() == f"{config}: ok (1 scanners enabled)"


@pytest.mark.slow
def test_built_without_its_entry_point_the_plugin_fails_its_own_test(tmp_path: Path) -> None:
    sh(BIN / "scanner", "new", "rising", cwd=tmp_path)
    folder = tmp_path / "scanner-rising"
    pyproject = folder / "pyproject.toml"
    text = pyproject.read_text()
    table = (
        '[project.entry-points."scanner_core.scanners"]\n'
        'rising = "scanner_rising.scanner:RisingScanner"\n'
    )
    assert table in text
    pyproject.write_text(text.replace(table, ""))

    python = overlay_venv(tmp_path / "venv")
    sh(
        python,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-build-isolation",
        "./scanner-rising",
        cwd=tmp_path,
    )
    tested = sh(
        python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=folder, ok=False
    )
    assert tested.returncode == 1
    assert "no scanner_core.scanners entry point named rising" in tested.stdout
    # its scan test names the scanner by entry point too, so it fails as well
    assert "2 failed" in tested.stdout
