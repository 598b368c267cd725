"""`scanner plugins` and `scanner check` end to end, with fake and real installed plugins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_core.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"
REAL = {"gap", "momentum", "volume", "breakout"}


@pytest.fixture
def fake_dists(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Fake installed distributions (real dist-info folders on sys.path)."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    from fakedist import FakeDistributions

    return FakeDistributions(tmp_path, monkeypatch)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_plugins_json_lists_each_failure_by_name(fake_dists) -> None:
    fake_dists.add("scanner-fixtures", "0.3", fake_dists.FIXTURE_PLUGINS)
    code, out, _ = run("plugins", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert {n: rows[n]["status"] for n in REAL} == dict.fromkeys(REAL, "ok")
    assert rows["gap"]["distribution"] == "scanner-gap"
    assert rows["gap"]["version"] == "0.1.0"
    assert rows["fx-good"]["status"] == "ok"
    for name in ("fx-import", "fx-signature", "fx-notscanner"):
        assert rows[name]["status"] == "failed"
        assert rows[name]["distribution"] == "scanner-fixtures"
        assert rows[name]["reason"]


def test_plugins_text_table(fake_dists) -> None:
    fake_dists.add(
        "scanner-fixtures", "0.3", {"fx-import": fake_dists.FIXTURE_PLUGINS["fx-import"]}
    )
    code, out, _ = run("plugins")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["gap"].split()[1:] == ["scanner-gap", "0.1.0", "ok"]
    assert "failed: ModuleNotFoundError" in lines["fx-import"]


def test_plugins_in_a_subprocess_with_strict_mode(fake_dists) -> None:
    fake_dists.add("scanner-fixtures", "0.3", fake_dists.FIXTURE_PLUGINS)
    env = {**os.environ, "PYTHONPATH": fake_dists.pythonpath()}
    cmd = [sys.executable, "-c", "from scanner_core.cli import main; main()", "plugins", "--json"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert {r["name"] for r in json.loads(ok.stdout) if r["status"] == "failed"} == {
        "fx-import",
        "fx-signature",
        "fx-notscanner",
    }
    strict = subprocess.run(
        cmd, env={**env, "SCANNER_STRICT_PLUGINS": "1"}, capture_output=True, text=True, check=False
    )
    assert strict.returncode == 1
    assert "Error: fx-" in strict.stderr
    assert "Traceback" not in strict.stderr


def write_config(tmp_path: Path, scanners: str, extra: str = "") -> Path:
    path = tmp_path / "session.toml"
    path.write_text(f"{extra}\n{scanners}")
    return path


def test_check_passes_for_installed_and_local_scanners(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "local_scanner.py", tmp_path / "mine.py")
    path = write_config(
        tmp_path,
        '[[scanners]]\nmodule = "gap"\n\n'
        '[[scanners]]\nmodule = "scanner_volume.scanner:VolumeScanner"\nname = "vol"\n\n'
        '[[scanners]]\nmodule = "mine.py"\nname = "mine"\n',
        'required_plugins = ["scanner-gap>=0.1"]',
    )
    code, out, err = run("check", str(path))
    assert (code, err) == (0, "")
    assert out.strip() == f"{path}: ok (3 scanners enabled)"


def test_check_reports_missing_plugins_and_versions(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[[scanners]]\nmodule = "gap"\n\n'
        '[[scanners]]\nmodule = "fx-not-installed"\n\n'
        '[[scanners]]\nmodule = "fx-off"\nenabled = false\n',
        'required_plugins = ["scanner-gap>=2"]',
    )
    code, _, err = run("check", str(path))
    assert code == 1
    assert err.splitlines() == [
        f"{path}: scanners[1] (fx-not-installed): fx-not-installed: "
        "no installed scanner plugin named 'fx-not-installed'",
        f"{path}: required plugin scanner-gap 0.1.0 is installed, but 'scanner-gap>=2' is required",
    ]


def test_check_reports_a_broken_plugin(fake_dists, tmp_path: Path) -> None:
    fake_dists.add("scanner-fixtures", "0.3", fake_dists.FIXTURE_PLUGINS)
    path = write_config(tmp_path, '[[scanners]]\nmodule = "fx-signature"\n')
    code, _, err = run("check", str(path))
    assert code == 1
    assert "scanners[0] (fx-signature): fx-signature (scanner-fixtures 0.3): bad hook" in err


def test_check_bad_config_prints_problems_without_traceback(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[[scanners]]\nmodule = "gap"\ntimeout_seconds = -1\n')
    code, out, err = run("check", str(path))
    assert code == 1
    assert "scanners[0].timeout_seconds" in err
    assert "Traceback" not in out + err


def test_check_missing_file(tmp_path: Path) -> None:
    code, _, err = run("check", str(tmp_path / "absent.toml"))
    assert code == 1
    assert "absent.toml" in err


def test_check_validates_each_scanners_own_settings(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[[scanners]]\nmodule = "gap"\n\n'
        '[[scanners]]\nmodule = "momentum"\nconfig = { rsi_min = 101 }\n\n'
        '[[scanners]]\nmodule = "breakout"\nconfig = { high_dayz = 9 }\n',
    )
    code, _, err = run("check", str(path))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == (
        f"{path}: scanners[1].config.rsi_min: got 101, expected a number from 0 to 100"
    )
    assert lines[1].startswith(f"{path}: scanners[2].config.high_dayz: unknown key, expected")
    assert len(lines) == 2


def test_a_session_leaves_out_a_scanner_with_bad_settings_naming_the_field(tmp_path) -> None:
    from scanner_core.config import parse_config
    from scanner_core.manager import ScannerManager

    config = parse_config(
        {
            "scanners": [
                {"module": "momentum", "config": {"rsi_min": 101}},
                {"module": "breakout"},
            ]
        },
        "session.toml",
    )
    manager = ScannerManager(config.scanners, lambda *a: None, config_file="session.toml")
    assert manager.load_scanners() == ["breakout"]
    assert manager.problems == [
        "momentum: momentum (scanner-momentum 0.1.0): ConfigError: session.toml: "
        "scanners[0].config.rsi_min: got 101, expected a number from 0 to 100"
    ]
