"""What the `plugins` command lists, and the subcommands plugins add at startup."""

from __future__ import annotations

from typing import Any

import click

from scanner_core.extensions import (
    EXTENSION_GROUP,
    LOAD_ENV,
    load_extensions,
    load_filter,
    register_commands,
)
from scanner_core.plugins import ENTRY_POINT_GROUP, PluginError, list_plugins, strict_mode


def plugin_rows() -> list[dict[str, Any]]:
    """Every installed scanner, then every extension plugin, as JSON-friendly rows."""
    from scanner_core.plugins import ScannerPluginManager

    scanners = [{**info.as_dict(), "kind": "scanner"} for info in list_plugins()]
    extensions = load_extensions(ScannerPluginManager())
    failed = [info for info in extensions if not info.ok]
    if failed and strict_mode():
        raise PluginError(failed[0].describe())
    return scanners + [info.as_dict() for info in extensions]


def plugin_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The text listing: per group a title, a column header and one line per plugin, or a
    note where none is installed."""
    lines = []
    if load_filter() is not None:
        lines.append(f"only the plugins {LOAD_ENV} names are loaded")
    for kind, group in (("scanner", ENTRY_POINT_GROUP), ("extension", EXTENSION_GROUP)):
        chosen = [row for row in rows if row["kind"] == kind]
        lines.append(f"{kind} plugins ({group}):")
        if not chosen:
            lines.append(f"  no {kind} plugin is installed")
            continue
        lines.append(f"  {'NAME':<16} {'DISTRIBUTION':<28} STATUS")
        for row in chosen:
            owner = f"{row['distribution'] or '-'} {row['version'] or ''}".strip()
            line = f"  {row['name']:<16} {owner:<28} {row['status']}"
            if row["reason"]:
                line += f": {row['reason']}"
            elif row.get("hooks"):
                line += f"  hooks: {', '.join(row['hooks'])}"
            lines.append(line)
    return lines


def add_plugin_commands(cli: click.Group) -> list[str]:
    """Load the extension plugins and let each add its subcommands; one line per failure."""
    from scanner_core.plugins import ScannerPluginManager

    pm = ScannerPluginManager()
    problems = [f"plugin {info.describe()}" for info in load_extensions(pm) if not info.ok]

    def failed(plugin: str, hook: str, exc: BaseException) -> None:
        problems.append(f"plugin {plugin}: {hook} hook raised {type(exc).__name__}: {exc}")

    register_commands(pm, cli, failed)
    return problems
