"""A real package index on loopback: publish with twine, install with pip and `scanner install`.

docs/publishing.md is run as written: its private-index command starts the server, its
`bash` blocks up to section 7 run where the plugin is made, and section 7's run in a fresh
virtual environment that holds scanner-core's dependencies but not scanner-core.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from venvs import BIN, clean_env, overlay_venv, sh

ROOT = Path(__file__).resolve().parents[2]
PUBLISHING = ROOT / "docs/publishing.md"
PLUGINS = ("gap", "momentum", "volume", "breakout")
DOC_INDEX = "127.0.0.1:8080"

pytestmark = pytest.mark.slow


def loopback_only_env(venv: Path) -> dict[str, str]:
    """pip with no configured index or wheel folder: what it installs comes from loopback."""
    env = {k: v for k, v in clean_env().items() if not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PATH": f"{venv / 'bin'}:{env['PATH']}"}


def doc_sections() -> dict[str, str]:
    text = PUBLISHING.read_text()
    parts = re.split(r"^## (\d+)\. .*$", text, flags=re.M)
    return {number: body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


def bash_blocks(section: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """The documented pypiserver command, on a free port and a temporary folder."""
    folder = tmp_path_factory.mktemp("packages")
    (line,) = re.findall(r"^pypi-server run .*$", PUBLISHING.read_text(), re.M)
    port = free_port()
    args = shlex.split(line.replace("8080", str(port)).replace("packages/", str(folder)))
    server = subprocess.Popen(
        [str(BIN / args[0]), *args[1:]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server)
        yield url
    finally:
        server.terminate()
        server.wait()


def wait_until_serving(url: str, server: subprocess.Popen) -> None:
    while server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/simple/"):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"pypiserver exited {server.returncode}: {server.stderr.read()}")


def upload(url: str, files: list[Path], cwd: Path) -> None:
    sh(
        sys.executable,
        *("-m", "twine", "upload", "--non-interactive", "--repository-url", f"{url}/"),
        *("-u", "me", "-p", "secret", *files),
        cwd=cwd,
    )


def run_doc_blocks(blocks: list[str], url: str, cwd: Path, env: dict[str, str]) -> str:
    script = "set -euo pipefail\n" + "\n".join(blocks).replace(DOC_INDEX, url.split("//")[1])
    done = sh("bash", "-c", script, cwd=cwd, env=env)
    return done.stdout


def test_publish_and_install_through_a_real_index(index, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    for project in (ROOT, *(ROOT / "scanner_plugins" / p for p in PLUGINS)):
        sh(sys.executable, "-m", "build", "--no-isolation", "-o", dist, project, cwd=tmp_path)
    upload(index, sorted(dist.iterdir()), tmp_path)

    # Sections 1 to 6: made, tested, built and uploaded where the plugin is written.
    author = tmp_path / "author"
    author.mkdir()
    python = overlay_venv(tmp_path / "author-venv")
    env = clean_env(PATH=f"{python.parent}:{BIN}:{os.environ['PATH']}")
    sections = doc_sections()
    written = [block for n in ("1", "2", "3", "4", "5", "6") for block in bash_blocks(sections[n])]
    listing = run_doc_blocks(written, index, author, env)
    assert "scanner_rising-0.1.0/scanner_rising/scanner.py" in listing
    served = urllib.request.urlopen(f"{index}/simple/scanner-rising/").read().decode()
    assert "scanner_rising-0.1.0-py3-none-any.whl" in served

    # Section 7 on a machine with scanner-core's dependencies and no scanner-core; pip
    # reaches only the loopback index from here on.
    venv = tmp_path / "sessions-venv"
    sh(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    needs = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    sh(venv / "bin" / "python", "-m", "pip", "install", "-q", *needs, cwd=tmp_path)
    sessions = loopback_only_env(venv)
    output = run_doc_blocks(bash_blocks(sections["7"]), index, tmp_path, sessions)
    (documented,) = re.findall(r"```text\n(\+ gap .*)\n```", sections["7"])
    assert documented in output.splitlines()
    rows = {row["name"]: row for row in json.loads(scanner(venv, "plugins", "--json").stdout)}
    assert {n: rows[n]["status"] for n in ("rising", "gap")} == {"rising": "ok", "gap": "ok"}
    where = sh(
        venv / "bin" / "python",
        "-c",
        "import scanner_core; print(scanner_core.__file__)",
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv)

    # Enabled by name, it finds symbols in a backtest of the sample week.
    store = tmp_path / "store"
    sample = ROOT / "examples/data/eqker_2019"
    minutes = sorted(sample.glob("*_1min.csv.gz"))
    scanner(venv, "data", "import", *minutes, "--timestamps", "end", "--store", store)
    config = tmp_path / "session.toml"
    config.write_text(
        f'mode = "backtest"\nstart_date = 2019-02-11\nend_date = 2019-02-15\nstreams = ["1m"]\n'
        f'[data]\nstore = "{store}"\n[universe]\nall = true\n'
        '[[scanners]]\nmodule = "rising"\nmax_symbols = 3\n'
        'schedule = { interval = "30m", start_time = "10:00", end_time = "15:30" }\n'
    )
    history = tmp_path / "history.jsonl"
    scanner(venv, "run", config, "--history", history, "--quiet")
    events = [json.loads(line) for line in history.read_text().splitlines()]
    assert {e["scanner"] for e in events} == {"rising"}
    assert any(e["added"] for e in events)

    removed = scanner(venv, "uninstall", "gap").stdout.splitlines()
    assert [line.split()[:2] for line in removed] == [["-", "gap"]]
    missing = scanner(
        venv, "install", "no_such_scanner", "--index-url", f"{index}/simple/", ok=False
    )
    assert missing.returncode == 1
    (line,) = missing.stderr.splitlines()
    assert line.startswith("pip install scanner-no_such_scanner: ")


def scanner(venv: Path, *args: str | Path, ok: bool = True):
    return sh(venv / "bin" / "scanner", *args, cwd=venv, env=loopback_only_env(venv), ok=ok)
