"""The `scanner` command: a thin click layer over library functions."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="scanner-core")
def main() -> None:
    """Stock-market scanners that add symbols to a running session."""


# Commands are defined below, one small function each, calling library code.
