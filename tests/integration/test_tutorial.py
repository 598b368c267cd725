"""docs/tutorial.md works as written: its files are extracted, checked, run and tested."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_core.cli import main
from scanner_core.plugins import load_plugin
from scanner_core.store import BarStore

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs/tutorial.md"


def tutorial_files() -> dict[str, str]:
    blocks = re.findall(r"```\w+\n# file: (\S+)\n(.*?)```", TUTORIAL.read_text(), re.S)
    return {name: body for name, body in blocks}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tutorial")
    for name, body in tutorial_files().items():
        (folder / name).write_text(body)
    store = BarStore(folder / "var/store")
    sample = ROOT / "examples/data/eqker_2019"
    store.import_files(sorted(sample.glob("*_1min.csv.gz")), timestamps="end")
    store.import_files(sorted(sample.glob("*_daily.csv.gz")))
    return folder


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_tutorial_has_every_file_it_talks_about():
    assert set(tutorial_files()) == {
        "above_vwap.py",
        "tutorial.toml",
        "pyproject.toml",
        "test_above_vwap.py",
    }


def test_check_run_and_stats_work_as_shown(workdir):
    config = str(workdir / "tutorial.toml")
    assert cli("check", config).exit_code == 0
    stats = workdir / "stats.json"
    result = cli("run", config, "--stats-json", str(stats), "--quiet")
    assert result.exit_code == 0, result.output
    assert "[SESSION] Summary: 5 days" in result.output
    by_scanner = json.loads(cli("stats", str(stats), "--json").output)["by_scanner"]
    assert by_scanner["above_vwap"]["scans"] == 5 * 12
    assert by_scanner["above_vwap"]["total_symbols_added"] > 0


def test_the_documented_settings_error(workdir):
    bad = workdir / "bad.toml"
    bad.write_text((workdir / "tutorial.toml").read_text().replace("0.8", "-1"))
    result = cli("check", str(bad))
    assert result.exit_code == 1
    documented = "tutorial.toml: scanners[0].config.min_pct: got -1, expected a number >= 0"
    assert documented in TUTORIAL.read_text().replace("\n", " ")
    assert result.stderr.strip() == documented.replace("tutorial.toml", str(bad))


def test_the_entry_point_names_the_class(workdir):
    project = tomllib.loads((workdir / "pyproject.toml").read_text())
    value = project["project"]["entry-points"]["scanner_core.scanners"]["above_vwap"]
    module, _, cls = value.partition(":")
    info = load_plugin(f"{module}.py:{cls}", base_dir=workdir)
    assert info.ok and info.scanner_class.__name__ == "AboveVwap"


def test_the_tutorial_test_passes(workdir, monkeypatch):
    monkeypatch.syspath_prepend(str(workdir))
    spec = importlib.util.spec_from_file_location("tutorial_test", workdir / "test_above_vwap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.test_finds_the_symbol_above_its_vwap()


@pytest.mark.slow
def test_the_sdist_holds_only_the_scanner_and_its_test(tmp_path):
    for name, body in tutorial_files().items():
        (tmp_path / name).write_text(body)
    (tmp_path / "stats.json").write_text("{}")  # what step 2 leaves behind
    (tmp_path / "history.jsonl").write_text("{}\n")
    build = [sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", "dist", "."]
    subprocess.run(build, cwd=tmp_path, check=True, capture_output=True)
    with tarfile.open(tmp_path / "dist/scanner_above_vwap-0.1.0.tar.gz") as sdist:
        names = {n.partition("/")[2] for n in sdist.getnames()}
    assert names == {"above_vwap.py", "test_above_vwap.py", "pyproject.toml", "PKG-INFO"}
