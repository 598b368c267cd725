"""The `scanner` command: a thin click layer over library functions."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="scanner-core")
def main() -> None:
    """Stock-market scanners that add symbols to a running session."""


# Commands are defined below, one small function each, calling library code.


@main.command("stats")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the stats as JSON instead.")
def stats_command(file: str, as_json: bool) -> None:
    """Show per-scanner stats from a FILE written by `scanner run --stats-json`."""
    # Imported here so a broken optional module never takes the other commands down.
    import json

    from rich.console import Console

    from scanner_core.stats import ScanHistory, StatsFileError, stats_table

    try:
        history = ScanHistory.load(file)
    except StatsFileError as exc:
        raise click.ClickException(str(exc)) from exc
    stats = history.get_scanner_stats()
    if as_json:
        click.echo(json.dumps(stats, indent=2))
    else:
        Console().print(stats_table(stats, title=f"Scanner stats: {file}"))
