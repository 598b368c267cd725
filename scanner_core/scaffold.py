"""`scanner new NAME`: a plugin distribution, ready to test, install and publish."""

from __future__ import annotations

import datetime as dt
import re
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from attrs import frozen

#: A scanner name: lowercase words of letters and digits joined by single underscores,
#: starting with a letter, so that `scanner-NAME` is a valid distribution name.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

#: Each template under scanner_core/templates/plugin and where it goes in the new folder.
TEMPLATES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "LICENSE.tmpl": "LICENSE",
    "gitignore.tmpl": ".gitignore",
    "package/__init__.py.tmpl": "{package}/__init__.py",
    "package/scanner.py.tmpl": "{package}/scanner.py",
    "tests/test_scanner.py.tmpl": "tests/test_scanner.py",
    "github/ci.yml.tmpl": ".github/workflows/ci.yml",
}

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class ScaffoldError(Exception):
    """A plugin that cannot be made here: a bad name, or a folder already in the way."""


@frozen
class PluginNames:
    """The names one scanner goes by: entry point, distribution, package and class."""

    name: str
    distribution: str
    package: str
    class_name: str

    @classmethod
    def of(cls, name: str) -> PluginNames:
        """The names for scanner ``name``, or a ScaffoldError saying what a name must be."""
        if not NAME_PATTERN.fullmatch(name):
            raise ScaffoldError(
                f"scanner name {name!r}: expected lowercase letters and digits, words joined "
                "by single underscores, starting with a letter (such as 'rising' or 'above_vwap')"
            )
        title = "".join(part.capitalize() for part in name.split("_") if part)
        return cls(
            name=name,
            distribution=f"scanner-{name.replace('_', '-')}",
            package=f"scanner_{name}",
            class_name=f"{title}Scanner",
        )


def core_requirement() -> str:
    """The scanner-core range a new plugin depends on: this minor series (any major past 0)."""
    try:
        version = metadata.version("scanner-core")
    except metadata.PackageNotFoundError:
        from scanner_core import __version__ as version
    major, minor = (int(part) for part in version.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else str(major + 1)
    return f"scanner-core>={major}.{minor},<{upper}"


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{{key}}`` replaced; an unknown key is a bug in the template."""

    def value(match: re.Match[str]) -> str:
        return values[match[1]]

    return _PLACEHOLDER.sub(value, template)


def create_plugin(name: str, parent: Path | str = ".") -> Path:
    """Write the distribution ``scanner-NAME`` into ``parent`` and return its folder."""
    names = PluginNames.of(name)
    parent = Path(parent)
    folder = parent / names.distribution
    if parent.exists() and not parent.is_dir():
        raise ScaffoldError(f"{parent}: not a folder")
    if folder.exists():
        raise ScaffoldError(f"{folder}: already exists; choose another name or --dir")
    values = {
        "name": names.name,
        "distribution": names.distribution,
        "package": names.package,
        "class_name": names.class_name,
        "core_requirement": core_requirement(),
        "year": str(dt.date.today().year),
    }
    source = files("scanner_core") / "templates" / "plugin"
    for template, target in TEMPLATES.items():
        path = folder / target.format(package=names.package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(source.joinpath(*template.split("/")).read_text(), values))
    return folder
