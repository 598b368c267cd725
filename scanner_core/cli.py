"""The `scanner` command: a thin click layer over library functions."""

from __future__ import annotations

from typing import Any

import click


class _ScannerGroup(click.Group):
    """The `scanner` group: installed extension plugins add their commands at startup."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        """Add the plugins' commands, each plugin isolated, then run the command line."""
        import sys

        if sys.argv[1:2] == ["live"]:
            # A live session forks: no native library may start threads in it.
            from scanner_core.threads import single_threaded_or_exec

            single_threaded_or_exec(sys.argv[1:])
        from scanner_core.plugin_commands import add_plugin_commands

        for problem in add_plugin_commands(self):
            click.echo(f"warning: {problem}", err=True)
        return super().main(*args, **kwargs)


@click.group(cls=_ScannerGroup)
@click.version_option(package_name="scanner-core")
def main() -> None:
    """Stock-market scanners that add symbols to a running session."""


# Commands are defined below, one small function each, calling library code.

#: Exit code of a `scanner run` that did nothing (no scanner, no bar, every scan failed).
from scanner_core.session_run import EMPTY_RUN  # noqa: E402  (one definition, kept light)


@main.command("stats")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the stats as JSON instead.")
def stats_command(file: str, as_json: bool) -> None:
    """Show per-scanner stats from a FILE written by `scanner run --stats-json`."""
    # Imported here so a broken optional module never takes the other commands down.
    import json

    from rich.console import Console

    from scanner_core.evaluate.quality import quality, quality_table, summary_beside
    from scanner_core.stats import ScanHistory, StatsFileError, stats_table

    try:
        history = ScanHistory.load(file)
    except StatsFileError as exc:
        raise click.ClickException(str(exc)) from exc
    stats = history.get_scanner_stats()
    # A backtest's folder holds its summary beside stats.json: show how the picks did too.
    summary = summary_beside(file)
    if as_json:
        if summary is not None:
            stats = {**stats, "pick_quality": quality(summary)}
        click.echo(json.dumps(stats, indent=2))
    else:
        Console().print(stats_table(stats, title=f"Scanner stats: {file}"))
        if summary is not None:
            Console().print(quality_table(summary, title="Pick quality (scanner backtest)"))


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON instead.")
def plugins_command(as_json: bool) -> None:
    """List installed scanner and extension plugins: version, distribution, status, hooks."""
    import json

    from scanner_core.plugin_commands import plugin_lines, plugin_rows
    from scanner_core.plugins import PluginError

    try:
        rows = plugin_rows()
    except PluginError as exc:  # only under SCANNER_STRICT_PLUGINS=1
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for line in plugin_lines(rows):
        click.echo(line)


@main.command("check")
@click.argument("config", type=click.Path(dir_okay=False))
def check_command(config: str) -> None:
    """Validate a session CONFIG and the scanner plugins it names; exit 1 on any problem."""
    from pathlib import Path

    from scanner_core.config import ConfigError, load_config
    from scanner_core.extensions import check_extensions
    from scanner_core.plugins import check_scanners

    try:
        session = load_config(config)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    built: list = []
    problems = check_scanners(
        session.scanners,
        session.required_plugins,
        base_dir=Path(config).resolve().parent,
        file=config,
        built=built,
    )
    problems += [f"{config}: {p}" for p in check_extensions()]
    problems += _store_problems(session, config, built)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    enabled = sum(1 for s in session.scanners if s.enabled)
    click.echo(f"{config}: ok ({enabled} scanners enabled)")


def _store_problems(session, config: str, built: list) -> list[str]:
    """What the session's store lacks for its range, universe and scanners, one line each;
    gaps that leave the run something to do are printed as warnings."""
    from scanner_core.calendar import TimeManager
    from scanner_core.coverage import Coverage, base_interval
    from scanner_core.store import BarStore

    if session.mode != "backtest" or session.start_date is None or session.end_date is None:
        return []
    if not session.data.store.is_dir():
        return [
            f"{config}: data.store: no bar store at {session.data.store}"
            " (import bars with `scanner data import PATH --store DIR`)"
        ]
    store = BarStore(session.data.store)
    try:
        base = base_interval(session, store)
    except ValueError as exc:
        return [f"{config}: {exc}"]
    tm = TimeManager(session.calendar)
    coverage = Coverage(session, store, tm, base)
    reads = [
        (f"scanners[{index}] ({cfg.name})", indicator.interval)
        for index, cfg, scanner in built
        for indicator in getattr(scanner, "indicators", ())
    ]
    universe = session.universe.resolve(store.symbols(base))
    problems = [f"{config}: {p}" for p in coverage.problems(reads, universe)]
    if not problems:
        for warning in coverage.warnings(universe, coverage.days()):
            click.echo(f"{config}: warning: {warning}", err=True)
    return problems


#: The bar store a `scanner data` command works on.
store_option = click.option(
    "--store",
    "root",
    envvar="SCANNER_STORE",
    type=click.Path(file_okay=False),
    default=None,
    help="Store folder (default: $SCANNER_STORE or .scanner/store).",
)


@main.group("data")
def data_group() -> None:
    """Manage the local bar store."""


@data_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@store_option
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
    from scanner_core.progress import Progress, wanted
    from scanner_core.store import DEFAULT_ROOT, BarStore

    store = BarStore(root or DEFAULT_ROOT)
    try:
        with Progress(0, "import", unit="", enabled=wanted("text")) as bar:
            report = store.import_files(
                paths,
                timestamps=timestamps,
                interval=interval,
                symbol=symbol,
                tz=tz,
                calendar=calendar,
                on_file=bar.update,
            )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.format())
    click.echo(f"store: {store.root}")
    if report.totals()["failed_files"]:
        raise SystemExit(1)


@data_group.command("verify")
@store_option
@click.option(
    "--repair",
    is_flag=True,
    help="Rewrite fixable partitions and move unreadable ones to <store>/damaged/.",
)
def data_verify_command(root: str | None, repair: bool) -> None:
    """Check every partition of the store; exit 1 when any is damaged (and not repaired)."""
    from pathlib import Path

    from scanner_core.store import DEFAULT_ROOT
    from scanner_core.store.verify import verify_store

    folder = Path(root or DEFAULT_ROOT)
    if not folder.is_dir():
        click.echo(f"{folder}: no bar store there", err=True)
        raise SystemExit(1)
    report = verify_store(folder, repair=repair)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


def _session_options(command):
    """The options `scanner run` and `scanner live` share: outputs and logging."""
    written = {
        "--history": "Write every scan's symbols as JSON lines (byte-identical across runs).",
        "--stats-json": "Write scan records and timings for `scanner stats`.",
    }
    options = [
        *(
            click.option(flag, f"{flag[2:].split('-')[0]}_path", type=click.Path(), help=text)
            for flag, text in written.items()
        ),
        click.option(
            "--log-format",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="Log lines as text or as JSON objects.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Only warnings, errors and the summary."),
        click.option(
            "--allow-empty",
            is_flag=True,
            help=f"Exit 0 even when the run did nothing (otherwise exit {EMPTY_RUN}).",
        ),
        click.option(
            "--skip-damaged",
            is_flag=True,
            help="Leave out store partitions that cannot be read (a warning each)"
            " instead of stopping.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@_session_options
def run_command(config: str, skip_damaged: bool, **outputs: Any) -> None:
    """Run the backtest session described by CONFIG.

    Exits 1 on a bad config or store, and 3 when the run did nothing: no scanner
    loaded, no bar replayed, or every scan failed (unless --allow-empty). The first
    SIGINT, SIGTERM or SIGHUP stops the session after its current step, still writing
    the summary and files; the exit code is then 128 + the signal's number (130, 143,
    129). A second signal exits at once.
    """
    from scanner_core.session_run import SessionRun

    SessionRun(config, **outputs).run(
        lambda session, base_dir: _backtest(session, base_dir, config, skip_damaged)
    )


def _backtest(session, base_dir, config: str, skip_damaged: bool):
    from scanner_core.coordinator import SessionCoordinator

    return SessionCoordinator(
        session, base_dir=base_dir, config_file=config, skip_damaged=skip_damaged
    )


@main.command("live")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option(
    "--feed",
    "feed_name",
    default="replay",
    show_default=True,
    help="The feed bars come from: replay, websocket, or an installed feed plugin's name.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="replay: how many times faster than real time the stored days play"
    " (0: unpaced, each scan time reached once the scans before it are done).",
)
@click.option("--url", default=None, help="websocket: the server to connect to (ws://...).")
@click.option(
    "--max-lag",
    "max_lag",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Pause scheduled scans while the session is this many seconds behind its feed.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve Prometheus metrics over HTTP on this port (off by default).",
)
@_session_options
def live_command(
    config: str,
    feed_name: str,
    speed: float,
    url: str | None,
    max_lag: float,
    metrics_port: int | None,
    skip_damaged: bool,
    **outputs: Any,
) -> None:
    """Run CONFIG as a live session over a feed: scans forked beside ingestion.

    The same outputs and exit codes as `scanner run`: 1 on a bad config, store or feed,
    3 when the session did nothing, 128 + the signal's number after a stop signal.
    """
    from scanner_core.feeds import FeedError, load_feed
    from scanner_core.session_run import SessionRun

    options: dict[str, object] = {}
    if feed_name == "replay":
        options["speed"] = speed
    elif feed_name == "websocket":
        if not url:
            click.echo("--feed websocket needs --url ws://HOST:PORT/...", err=True)
            raise SystemExit(1)
        options["url"] = url
    try:
        feed = load_feed(feed_name, **options)
    except FeedError as exc:
        click.echo(f"--feed: {exc}", err=True)
        raise SystemExit(1) from None
    run = SessionRun(config, **outputs)
    run.metrics_port = metrics_port
    run.run(lambda session, base_dir: _live(session, base_dir, config, feed, max_lag, skip_damaged))


def _live(session, base_dir, config: str, feed, max_lag: float, skip_damaged: bool):
    from scanner_core.loop import SessionLoop

    return SessionLoop(
        session,
        feed,
        base_dir=base_dir,
        config_file=config,
        skip_damaged=skip_damaged,
        max_lag_seconds=max_lag,
    )


@main.command("backtest")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First day (default: the config's start_date).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day (default: the config's end_date).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for picks.parquet, summary.json, stats.json and report.html"
    " (default: var/backtest/<config name>).",
)
@click.option(
    "--horizons",
    default=None,
    help="Forward-return horizons, comma-separated (default: 5m,15m,30m,1h,close,1d,5d;"
    " 1d,2d,5d over daily bars only).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the random-pick baseline."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local processes to run chunks of the range in.",
)
@click.option(
    "--scheduler", default=None, help="Run the chunks on a Dask cluster (tcp://host:port) instead."
)
@click.option(
    "--chunks",
    type=click.IntRange(min=1),
    default=None,
    help="Chunks to split the range into (default: one per worker).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or as JSON objects.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log every scan and added symbol, as `scanner run` does."
)
@click.option(
    "--skip-damaged",
    is_flag=True,
    help="Leave out store partitions that cannot be read (a warning each).",
)
def backtest_command(
    config: str,
    start,
    end,
    out,
    horizons,
    seed,
    workers,
    scheduler,
    chunks,
    log_format: str,
    verbose: bool,
    skip_damaged: bool,
) -> None:
    """Backtest CONFIG: every pick of every scan, its forward returns against baselines.

    Writes picks.parquet, random_picks.parquet, summary.json, stats.json and report.html
    to --out. Exits 1 on a bad config, store or option, and 3 when the run did nothing.
    """
    import logging
    from pathlib import Path

    from scanner_core.config import ConfigError, load_config
    from scanner_core.evaluate import BacktestOptions, HorizonError, parse_horizons, run_backtest
    from scanner_core.logs import configure_logging
    from scanner_core.progress import wanted
    from scanner_core.store import StoreError

    configure_logging(log_format, logging.INFO if verbose else logging.WARNING)
    try:
        options = BacktestOptions(
            start=start.date() if start else None,
            end=end.date() if end else None,
            out=Path(out) if out else None,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            chunks=chunks,
            skip_damaged=skip_damaged,
            progress=wanted(log_format),
            log_format=log_format,
            log_level=logging.INFO if verbose else logging.WARNING,
        )
        if horizons:
            options.horizons = parse_horizons(horizons)
        result = run_backtest(load_config(config), config, options)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    except HorizonError as exc:
        click.echo(f"--horizons: {exc}", err=True)
        raise SystemExit(1) from None
    except (ValueError, RuntimeError, StoreError, OSError) as exc:
        click.echo(f"{config}: {exc}", err=True)
        raise SystemExit(1) from None
    for line in _backtest_lines(result):
        click.echo(line)
    if result.run.empty:
        for reason in result.run.empty:
            click.echo(f"{config}: the run did nothing: {reason}", err=True)
        raise SystemExit(EMPTY_RUN)


def _backtest_lines(result) -> list[str]:
    """What a backtest prints: the run, the picks per scanner at each horizon, the files."""
    run = result.summary["run"]
    lines = [
        f"[BACKTEST] {run['from']} to {run['to']}: {run['days']} days, {run['scans']} scans,"
        f" {result.summary['picks']} picks"
    ]
    for name, row in result.summary["scanners"].items():
        cells = []
        for horizon, stats in row["by_horizon"].items():
            mean = "-" if stats["mean"] is None else f"{stats['mean']:+.2%}"
            hit = "-" if stats["hit_rate"] is None else f"{stats['hit_rate']:.0%}"
            cells.append(f"{horizon} {mean} ({hit})")
        lines.append(f"[BACKTEST]   {name}: {row['picks']} picks; " + ", ".join(cells))
    lines += [f"[BACKTEST]   problem: {p}" for p in run["problems"]]
    took = result.seconds
    lines.append(
        f"[BACKTEST] wrote {result.out}/report.html, summary.json, picks.parquet"
        f" (sessions {took.get('session', 0):.1f} s, evaluation {took.get('evaluate', 0):.1f} s)"
    )
    return lines


@main.command("scan")
@click.argument("target")
@click.option(
    "--at",
    "at",
    required=True,
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="The moment, in exchange time: 2019-02-13T10:30.",
)
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the picks as JSON instead.")
def scan_command(target: str, at, root: str | None, as_json: bool) -> None:
    """Show what scanner TARGET (a name, or every scanner of a CONFIG file) would have
    found at --at, ranked, with its values; point in time, from the store."""
    import json
    import logging
    from pathlib import Path

    from scanner_core.calendar import TimeManager
    from scanner_core.config import ConfigError
    from scanner_core.evaluate.oneshot import pick_lines, scan_at, session_for
    from scanner_core.logs import configure_logging
    from scanner_core.store import DEFAULT_ROOT, StoreError

    configure_logging("text", logging.WARNING)
    try:
        config, name, base_dir = session_for(target, Path(root or DEFAULT_ROOT))
        result = scan_at(config, name, base_dir, at)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    except (ValueError, StoreError) as exc:
        click.echo(f"{target}: {exc}", err=True)
        raise SystemExit(1) from None
    if result.empty:
        for reason in result.empty:
            click.echo(f"{target}: nothing scanned: {reason}", err=True)
        raise SystemExit(EMPTY_RUN)
    if as_json:
        rows = [
            dict(r, time=r["time"].isoformat(), values=json.loads(r["values"]))
            for r in result.picks
        ]
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for line in pick_lines(result, str(TimeManager(config.calendar).tz)):
        click.echo(line)


@main.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    default=".",
    show_default=True,
    help="Folder to create the plugin's folder scanner-NAME in.",
)
def new_command(name: str, parent: str) -> None:
    """Make scanner-NAME: a plugin distribution with a scanner, tests, README and CI."""
    from scanner_core.scaffold import ScaffoldError, create_plugin

    try:
        folder = create_plugin(name, parent)
    except ScaffoldError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    shown = folder if folder.is_absolute() else f"./{folder}"
    click.echo(f"created {folder}")
    click.echo(f'next: pip install -e "{shown}[test]" && pytest {shown}')


@main.command("install")
@click.argument("specs", nargs=-1, required=True)
@click.option("--index-url", default=None, help="Package index to install from (pip's option).")
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade plugins already installed.")
def install_command(specs: tuple[str, ...], index_url: str | None, upgrade: bool) -> None:
    """pip-install plugin SPECS here (`gap` means scanner-gap) and show what `plugins` gained."""
    from scanner_core.install import InstallError, install

    try:
        lines = install(specs, index_url=index_url, upgrade=upgrade)
    except InstallError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    for line in lines:
        click.echo(line)


@main.command("uninstall")
@click.argument("names", nargs=-1, required=True)
def uninstall_command(names: tuple[str, ...]) -> None:
    """pip-uninstall plugin NAMES (`gap` means scanner-gap) and show what `plugins` lost."""
    from scanner_core.install import InstallError, uninstall

    try:
        lines = uninstall(names)
    except InstallError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    for line in lines:
        click.echo(line)


if __name__ == "__main__":
    main(prog_name="scanner")
