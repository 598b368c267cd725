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


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON instead.")
def plugins_command(as_json: bool) -> None:
    """List installed scanner plugins with version, distribution and status."""
    import json

    from scanner_core.plugins import PluginError, list_plugins

    try:
        infos = list_plugins()
    except PluginError as exc:  # only under SCANNER_STRICT_PLUGINS=1
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in infos], indent=2))
        return
    for info in infos:
        owner = f"{info.distribution or '-'} {info.version or ''}".strip()
        line = f"{info.name:<16} {owner:<28} {info.status}"
        click.echo(f"{line}: {info.reason}" if info.reason else line)


@main.command("check")
@click.argument("config", type=click.Path(dir_okay=False))
def check_command(config: str) -> None:
    """Validate a session CONFIG and the scanner plugins it names; exit 1 on any problem."""
    from pathlib import Path

    from scanner_core.config import ConfigError, load_config
    from scanner_core.plugins import check_scanners

    try:
        session = load_config(config)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    problems = check_scanners(
        session.scanners,
        session.required_plugins,
        base_dir=Path(config).resolve().parent,
        file=config,
    )
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    enabled = sum(1 for s in session.scanners if s.enabled)
    click.echo(f"{config}: ok ({enabled} scanners enabled)")


@main.group("data")
def data_group() -> None:
    """Manage the local bar store."""


@data_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--store",
    "root",
    envvar="SCANNER_STORE",
    type=click.Path(file_okay=False),
    default=None,
    help="Store folder (default: $SCANNER_STORE or .scanner/store).",
)
@click.option(
    "--timestamps",
    type=click.Choice(["start", "end"]),
    default="start",
    show_default=True,
    help="What a bar's stamp marks: its start, or its end (Alpha Vantage).",
)
@click.option(
    "--interval", default=None, help="Bar interval (1m, 5m, 15m, 1h, 1d); inferred if omitted."
)
@click.option(
    "--symbol", default=None, help="Symbol for every row, overriding columns and file names."
)
@click.option(
    "--tz", default=None, help="Time zone of stamps without a UTC offset (default: the calendar's)."
)
@click.option(
    "--calendar", default="XNYS", show_default=True, help="Exchange calendar the bars trade on."
)
def data_import_command(
    paths: tuple[str, ...],
    root: str | None,
    timestamps: str,
    interval: str | None,
    symbol: str | None,
    tz: str | None,
    calendar: str,
) -> None:
    """Validate OHLCV files (CSV, CSV.gz, Parquet, or folders of them) and add them to the store."""
    from scanner_core.store import DEFAULT_ROOT, BarStore

    store = BarStore(root or DEFAULT_ROOT)
    try:
        report = store.import_files(
            paths,
            timestamps=timestamps,
            interval=interval,
            symbol=symbol,
            tz=tz,
            calendar=calendar,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.format())
    click.echo(f"store: {store.root}")
    if report.totals()["failed_files"]:
        raise SystemExit(1)


@main.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every scan's symbols as JSON lines (byte-identical across runs).",
)
@click.option(
    "--stats-json",
    "stats_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write scan records and timings for `scanner stats`.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or as JSON objects.",
)
@click.option("-q", "--quiet", is_flag=True, help="Only warnings, errors and the summary.")
def run_command(
    config: str, history_path: str | None, stats_path: str | None, log_format: str, quiet: bool
) -> None:
    """Run the backtest session described by CONFIG."""
    import logging
    from pathlib import Path

    from scanner_core.config import ConfigError, load_config
    from scanner_core.coordinator import SessionCoordinator
    from scanner_core.logs import configure_logging

    configure_logging(log_format, logging.WARNING if quiet else logging.INFO)
    try:
        session = load_config(config)
        coordinator = SessionCoordinator(
            session, base_dir=Path(config).resolve().parent, config_file=config
        )
    except (ConfigError, ValueError) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    summary = coordinator.run()
    if quiet:
        for line in summary.lines():
            click.echo(line)
    if history_path:
        coordinator.recorder.write(history_path)
    if stats_path:
        coordinator.manager.history.to_json(stats_path)
