"""`scanner install` and `scanner uninstall`: pip in this environment, then what it changed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement

#: The distribution prefix a bare scanner name stands for: `gap` is `scanner-gap`.
PREFIX = "scanner-"

#: Files pip installs from, named without a folder.
ARCHIVES = (".whl", ".tar.gz", ".zip")

#: What `scanner plugins --json` says about one plugin, by its name.
Snapshot = Mapping[str, tuple[str, str, str]]


class InstallError(Exception):
    """pip, or the plugin listing after it, failed; the message is one line."""


def distribution_spec(spec: str) -> str:
    """The pip requirement for ``spec``: a bare name such as ``gap`` or ``gap>=0.2`` gains
    the ``scanner-`` prefix; paths, URLs and names with a dash or dot are left as written."""
    if _is_location(spec):
        return spec
    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return spec  # pip says what is wrong with it
    name = requirement.name.lower()
    if requirement.url or "-" in name or "." in name or name.startswith(("scanner-", "scanner_")):
        return spec
    return PREFIX + spec


def _is_location(spec: str) -> bool:
    # pip too takes a bare word for a project name even when a folder of that name is here.
    return "/" in spec or "\\" in spec or spec.startswith(".") or spec.endswith(ARCHIVES)


def install(
    specs: Sequence[str], *, index_url: str | None = None, upgrade: bool = False
) -> list[str]:
    """pip-install ``specs`` into this environment; the lines of what `scanner plugins` gained."""
    wanted = [distribution_spec(spec) for spec in specs]
    options = [*(["--index-url", index_url] if index_url else []), *(["-U"] if upgrade else [])]
    before = plugin_snapshot()
    _pip("install", [*options, *wanted], wanted)
    return diff_lines(before, plugin_snapshot())


def uninstall(names: Sequence[str]) -> list[str]:
    """pip-uninstall the ``names`` (bare scanner names allowed); the lines of what went away."""
    wanted = [distribution_spec(name) for name in names]
    before = plugin_snapshot()
    output = _pip("uninstall", ["-y", *wanted], wanted)
    # pip only warns, and exits 0, for a name that is not installed.
    skipped = [
        f"{line.split()[2]}: not installed"
        for line in output.splitlines()
        if line.startswith("WARNING: Skipping ")
    ]
    return skipped + diff_lines(before, plugin_snapshot())


def _pip(action: str, args: list[str], wanted: Iterable[str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", action, "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise InstallError(f"pip {action} {' '.join(wanted)}: {_reason(done)}")
    return done.stdout + done.stderr


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR: ")]
    # pip's first ERROR line names what it could not do; the later ones repeat it.
    if errors:
        return errors[0]
    return lines[-1] if lines else f"exit status {done.returncode}"


def plugin_snapshot() -> Snapshot:
    """Each plugin's (distribution, version, status), as a new process lists it.

    A new process, because this one may hold an older copy of a module pip just replaced.
    """
    done = subprocess.run(
        [sys.executable, "-c", "from scanner_core.cli import main; main()", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise InstallError(f"scanner plugins: {_reason(done)}")
    rows = json.loads(done.stdout)
    return {
        row["name"]: (row.get("distribution") or "-", row.get("version") or "", row["status"])
        for row in rows
    }


def diff_lines(before: Snapshot, after: Snapshot) -> list[str]:
    """`+` for each plugin added, `-` for each removed, `~` for each whose row changed."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            lines.append(f"+ {name:<16} {_row(new)}")
        elif new is None:
            lines.append(f"- {name:<16} {_row(old)}")
        else:
            lines.append(f"~ {name:<16} {_row(old)} -> {_row(new)}")
    return lines or ["scanner plugins: no change"]


def _row(row: tuple[str, str, str] | None) -> str:
    return " ".join(part for part in row or () if part)
