"""Running a session from the command line: config, loop, signals, outputs, exit codes.

`scanner run` and `scanner live` differ only in the loop they build; everything around
it (checking the output paths first, one clear error for a bad config or store, stop
signals, the summary, the history and stats files, the exit code) is here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from scanner_core.config import SessionConfig

#: Exit code of a run that did nothing (no scanner, no bar, every scan failed).
EMPTY_RUN = 3

#: Builds the loop for a loaded config and the folder its relative paths start from.
LoopFactory = Callable[["SessionConfig", Path], Any]


class SessionRun:
    """One command-line session: what to write, how to log, whether empty is an error."""

    def __init__(
        self,
        config: str,
        history_path: str | None,
        stats_path: str | None,
        log_format: str,
        quiet: bool,
        allow_empty: bool,
    ) -> None:
        self.config = config
        self.history_path = history_path
        self.stats_path = stats_path
        self.log_format = log_format
        self.quiet = quiet
        self.allow_empty = allow_empty
        #: Serve Prometheus metrics on this port while the session runs (live only).
        self.metrics_port: int | None = None

    def run(self, build: LoopFactory) -> None:
        """Build the loop, run it under the stop signals, write the outputs, exit."""
        import logging  # here: the CLI imports this module for --help too

        from scanner_core.outputs import OutputPathError, check_output_paths

        try:  # before the run, which could take hours, not after it
            check_output_paths({"--history": self.history_path, "--stats-json": self.stats_path})
        except OutputPathError as exc:
            click.echo(str(exc), err=True)
            raise SystemExit(1) from None
        from scanner_core import reaper
        from scanner_core.config import ConfigError, load_config
        from scanner_core.live_summary import live_stats
        from scanner_core.logs import configure_logging
        from scanner_core.shutdown import handling_signals
        from scanner_core.store import StoreError

        configure_logging(self.log_format, logging.WARNING if self.quiet else logging.INFO)
        config = self.config
        try:
            loop = build(load_config(config), Path(config).resolve().parent)
        except ConfigError as exc:
            click.echo(str(exc), err=True)
            raise SystemExit(1) from None
        except ValueError as exc:  # the store or range: named after the config, as check does
            click.echo(f"{config}: {exc}", err=True)
            raise SystemExit(1) from None
        # Orphans a scan leaves re-parent to this process, which ends them: nothing the
        # session started outlives it.
        with (
            handling_signals() as stop,
            reaper.owning_descendants(grace=0.3),
            self._progress(loop),
        ):
            metrics = self._serve_metrics(loop)
            try:
                summary = loop.run()
            except StoreError as exc:
                click.echo(str(exc), err=True)
                raise SystemExit(1) from None
            finally:
                if metrics is not None:
                    metrics.stop()
            if self.quiet:  # the log shows warnings only: the summary goes to stdout
                for line in summary.lines():
                    click.echo(line)
            if self.history_path:
                loop.recorder.write(self.history_path)
            if self.stats_path:
                loop.manager.history.to_json(self.stats_path, session=live_stats(loop))
        if stop.requested:
            raise SystemExit(stop.exit_code)
        if summary.empty and not self.allow_empty:
            for reason in summary.empty:
                click.echo(f"{config}: the run did nothing: {reason}", err=True)
            raise SystemExit(EMPTY_RUN)

    def _progress(self, loop: Any) -> Any:
        """A bar over a backtest's days with the symbols found so far, for a person
        watching: text logs on a terminal, not --quiet; a live session shows none."""
        from scanner_core.progress import Progress, wanted

        shown = not loop.live and not self.quiet and wanted(self.log_format)
        bar = Progress(
            len(loop.coverage.days()) if shown else 0, "run", unit="found", enabled=shown
        )
        if shown:
            loop.manager.pm.register(bar, name="progress")
        return bar

    def _serve_metrics(self, loop: Any) -> Any:
        if self.metrics_port is None:
            return None
        from scanner_core.metrics import MetricsServer

        server = MetricsServer(loop, self.metrics_port)
        server.start()
        return server
