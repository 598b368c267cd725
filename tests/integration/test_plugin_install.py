"""A real install: wheels of scanner-core and the four plugins into a fresh virtual environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("gap", "momentum", "volume", "breakout")


def sh(*cmd: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_wheels_install_and_plugins_are_discovered(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    for project in (ROOT, *(ROOT / "scanner_plugins" / p for p in PLUGINS)):
        # An sdist, then a wheel built from that sdist: a file missing from the sdist fails.
        # The dev environment already has the build backend; isolation would only re-fetch it.
        sh(
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "-o",
            wheels,
            project,
            cwd=tmp_path,
        )
    names = sorted(["scanner_core", *(f"scanner_{p}" for p in PLUGINS)])
    assert sorted(w.name.split("-")[0] for w in wheels.glob("*.whl")) == names
    assert sorted(s.name.split("-")[0] for s in wheels.glob("*.tar.gz")) == names

    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    sh(python, "-m", "pip", "install", "-q", *sorted(wheels.glob("*.whl")), cwd=tmp_path)

    where = sh(
        python, "-c", "import scanner_core, scanner_gap; print(scanner_core.__file__)", cwd=tmp_path
    )
    assert Path(where.stdout.strip()).is_relative_to(venv)

    listed = json.loads(sh(venv / "bin" / "scanner", "plugins", "--json", cwd=tmp_path).stdout)
    rows = {row["name"]: row for row in listed}
    assert {name: rows[name]["status"] for name in PLUGINS} == dict.fromkeys(PLUGINS, "ok")
    assert {name: rows[name]["distribution"] for name in PLUGINS} == {
        name: f"scanner-{name}" for name in PLUGINS
    }
    assert all(rows[name]["version"] == "0.1.0" for name in PLUGINS)

    config = tmp_path / "session.toml"
    config.write_text(
        'required_plugins = ["scanner-gap>=0.1", "scanner-breakout>=0.1"]\n'
        + "".join(f'\n[[scanners]]\nmodule = "{name}"\n' for name in PLUGINS)
    )
    checked = sh(venv / "bin" / "scanner", "check", config, cwd=tmp_path)
    assert checked.stdout.strip() == f"{config}: ok (4 scanners enabled)"


OBSERVER_DIST = ROOT / "tests" / "fixtures" / "plugins" / "observer_dist"


@pytest.fixture(scope="module")
def observer_site(tmp_path_factory) -> Path:
    """The observer distribution, pip-installed (built by its backend) into its own folder."""
    folder = tmp_path_factory.mktemp("observer")
    source = folder / "src"
    shutil.copytree(OBSERVER_DIST, source)
    site = folder / "site"
    sh(
        sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
        "--target", site, source, cwd=folder,
    )  # fmt: skip
    return site


def scanner(site: Path, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`scanner ARGS` in a subprocess that sees the installed observer distribution."""
    full = {**os.environ, "PYTHONPATH": str(site), **env}
    cmd = [sys.executable, "-c", "from scanner_core.cli import main; main()", *map(str, args)]
    return subprocess.run(cmd, env=full, capture_output=True, text=True, check=False)


def test_installed_extensions_are_listed_with_their_hooks(observer_site: Path) -> None:
    done = scanner(observer_site, "plugins")
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    title = lines.index("extension plugins (scanner_core.plugins):")
    assert lines[title + 1].split() == ["NAME", "DISTRIBUTION", "STATUS"]
    seen = next(line for line in lines if line.startswith("seen "))
    assert seen.split()[1:4] == ["scanner-observer-fixture", "0.1.0", "ok"]
    assert seen.endswith(
        "hooks: after_scan, register_commands, register_indicators, session_ended, session_started"
    )
    assert next(line for line in lines if line.startswith("hijack ")).endswith("hooks: scan")
    rows = json.loads(scanner(observer_site, "plugins", "--json").stdout)
    assert {r["name"]: r["kind"] for r in rows if r["kind"] == "extension"} == {
        "hijack": "extension",
        "seen": "extension",
    }


def test_a_plugin_adds_a_command_and_load_plugins_is_the_escape_hatch(observer_site) -> None:
    assert scanner(observer_site, "hello", "ann").stdout == "hello ann from a plugin\n"
    none = scanner(observer_site, "plugins", SCANNER_LOAD_PLUGINS="")
    assert "  no scanner plugin is installed" in none.stdout
    assert "  no extension plugin is installed" in none.stdout
    assert scanner(observer_site, "hello", "ann", SCANNER_LOAD_PLUGINS="").returncode == 2
    only = scanner(observer_site, "plugins", SCANNER_LOAD_PLUGINS="seen,gap")
    listed = [line.split()[0] for line in only.stdout.splitlines() if "plugins (" not in line]
    assert listed == ["only", "NAME", "gap", "NAME", "seen"]


def test_an_installed_observer_sees_every_scan_of_a_run_and_changes_nothing(
    observer_site: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    sample = ROOT / "examples" / "data" / "eqker_2019"
    imported = scanner(
        observer_site, "data", "import", sample, "--timestamps", "end", "--store", store
    )
    assert imported.returncode == 0, imported.stderr
    config = tmp_path / "session.toml"
    text = (ROOT / "examples" / "demo.toml").read_text()
    text = text.replace("end_date = 2019-02-15", "end_date = 2019-02-12")
    config.write_text(text.replace('store = "../var/store"', f'store = "{store}"'))

    seen_file = tmp_path / "seen.jsonl"
    with_plugin, without = tmp_path / "with.jsonl", tmp_path / "without.jsonl"
    run = scanner(
        observer_site, "run", config, "--history", with_plugin, "-q", SEEN_FILE=str(seen_file)
    )
    assert run.returncode == 0, run.stderr
    assert "hijack: hook implementation 'scan' matches no hook" in run.stderr
    bare = scanner(
        observer_site,
        "run",
        config,
        "--history",
        without,
        "-q",
        SCANNER_LOAD_PLUGINS="gap,momentum,volume,breakout",
    )
    assert bare.returncode == 0, bare.stderr
    # Neither the tampering observer nor the hijacker changed what any scan found.
    assert with_plugin.read_bytes() == without.read_bytes()

    events = [json.loads(line) for line in seen_file.read_text().splitlines()]
    scans = [e for e in events if e["hook"] == "after_scan"]
    history = [json.loads(line) for line in with_plugin.read_text().splitlines()]
    assert [(e["time"], e["scanner"], e["symbols"]) for e in scans] == [
        (h["time"], h["scanner"], h["symbols"]) for h in history
    ]
    assert len({e["pid"] for e in scans}) == 1  # the session's process, though scans fork
    days = [(e["hook"], e["time"][:10]) for e in events if e["hook"] != "after_scan"]
    assert days == [
        ("session_started", "2019-02-11"),
        ("session_ended", "2019-02-11"),
        ("session_started", "2019-02-12"),
        ("session_ended", "2019-02-12"),
    ]

    checked = scanner(observer_site, "check", config)
    assert checked.returncode == 1
    assert "plugin hijack: hook implementation 'scan' matches no hook" in checked.stderr
