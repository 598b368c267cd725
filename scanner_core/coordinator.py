"""SessionCoordinator: the backtest, the session loop over the `store` feed."""

from __future__ import annotations

from pathlib import Path

from scanner_core.config import SessionConfig
from scanner_core.feeds.store import StoreFeed
from scanner_core.loop import RunSummary, SessionLoop
from scanner_core.plugins import ScannerPluginManager

__all__ = ["RunSummary", "SessionCoordinator"]


class SessionCoordinator(SessionLoop):
    """Replays stored bars day by day and runs the scanners at their times.

    Scans are blocking in backtest, so results are deterministic: a scan at time t
    sees exactly the bars that closed at or before t, and a symbol it adds is
    streamed from the next bar on, its indicators warmed up from the store.
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        base_dir: Path | None = None,
        config_file: str = "<config>",
        plugin_manager: ScannerPluginManager | None = None,
        skip_damaged: bool = False,
    ) -> None:
        if config.mode != "backtest":
            raise ValueError(f"mode {config.mode!r} is not supported by the backtest coordinator")
        if config.start_date is None or config.end_date is None:
            raise ValueError("a backtest needs start_date and end_date")
        super().__init__(
            config,
            StoreFeed(),
            base_dir=base_dir,
            config_file=config_file,
            plugin_manager=plugin_manager,
            skip_damaged=skip_damaged,
        )
