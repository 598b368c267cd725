"""A real install: wheels of scanner-core and the four plugins into a fresh virtual environment."""

from __future__ import annotations

import json
import os
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
