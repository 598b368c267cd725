"""The scanner contract: BaseScanner, the context a scan sees, and the result it returns."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from attrs import define, field, frozen

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager
    from scanner_core.indicators import IndicatorConfig
    from scanner_core.session import SessionData


@define
class ScanContext:
    """What one scanner sees during setup, a scan or teardown."""

    session_data: SessionData
    time_manager: TimeManager | None
    mode: str
    current_time: datetime
    config: Mapping[str, Any] = field(factory=dict)
    scanner_name: str = ""

    @property
    def calendar(self) -> TimeManager:
        """The session's exchange calendar, or the XNYS calendar when the session has none."""
        from scanner_core.requirements import default_sessions

        return self.time_manager or default_sessions()

    def exchange_time(self) -> datetime:
        """When this scan runs, tz-aware in exchange time.

        The session clock (the close of the newest bar) when it is set, else
        ``current_time``; a naive ``current_time`` is taken as exchange time.
        """
        import pandas as pd

        now = self.session_data.current_time
        return pd.Timestamp(self.calendar.localize(self.current_time if now is None else now))

    def trading_day(self) -> TradingDay | None:
        """The exchange session this scan falls on, or None when the exchange is closed that day."""
        calendar = self.calendar
        now = self.exchange_time()
        day = now.date()
        if not calendar.is_session(day):
            return None
        open_, close = calendar.open_close(day)
        return TradingDay(day, open_, close, now)

    def closed_result(self) -> ScanResult:
        """The empty result of a scan on a day the exchange does not trade, saying so."""
        return ScanResult(
            metadata={"reason": f"{self.exchange_time():%Y-%m-%d} is not a trading session"}
        )


@frozen
class TradingDay:
    """A scan's trading date, its regular open and close, and the scan time, in exchange time.

    ``now`` may fall before ``open`` (pre-market) or after ``close`` (after hours).
    """

    day: date
    open: datetime
    close: datetime
    now: datetime

    @property
    def minutes_since_open(self) -> int:
        """Whole minutes from the open to ``now`` (negative before the open)."""
        return (self.now - self.open) // timedelta(minutes=1)


@frozen
class ScanResult:
    """The symbols one scan found, ranked best first, and what it measured."""

    symbols: list[str] = field(factory=list)
    metadata: dict[str, Any] = field(factory=dict)
    execution_time_ms: float = 0.0
    skipped: bool = False
    error: str | None = None


class BaseScanner(abc.ABC):
    """Base class for scanners: override scan(), and setup()/teardown() when needed.

    The manager registers each configured instance with pluggy; these three
    methods are its hook implementations (no decorator needed on overrides).
    """

    #: Set by the manager to the entry-point (or config) name of this scanner.
    name: str = ""
    #: An attrs class for the scanner's ``config`` table; structured (and validated) by
    #: cattrs into ``self.settings``, with errors naming each bad field's path.
    settings_class: ClassVar[type | None] = None
    #: Indicators the default setup() registers for the whole universe; set it on the
    #: class, or on the instance in __init__ when the settings choose periods.
    indicators: tuple[IndicatorConfig, ...] = ()

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        file: str = "<config>",
        path: str = "config",
    ) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.settings: Any = None
        if self.settings_class is not None:
            from scanner_core.config import structure

            self.settings = structure(self.config, self.settings_class, file, path)

    def setup(self, context: ScanContext) -> bool:
        """Prepare for a session: register ``indicators``; return False to opt out."""
        for config in self.indicators:
            context.session_data.add_indicator(None, config)
        return True

    def session_start(self, context: ScanContext) -> None:
        """Build what every scan of the day reuses (runs in the session's process)."""
        return None

    @abc.abstractmethod
    def scan(self, context: ScanContext) -> ScanResult:
        """Search the universe and return the symbols found."""

    def teardown(self, context: ScanContext) -> None:
        """Release whatever setup() acquired."""
        return None
