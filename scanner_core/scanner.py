"""The scanner contract: BaseScanner, the context a scan sees, and the result it returns."""

from __future__ import annotations

import abc
import functools
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from attrs import define, field, frozen

from scanner_core.view import SessionView, TradingDay, declare, trading_day

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager
    from scanner_core.indicators import IndicatorConfig

__all__ = ["BaseScanner", "ScanContext", "ScanResult", "SessionView", "TradingDay"]

S = TypeVar("S")


@define
class ScanContext:
    """What one scanner sees during setup, a scan or teardown.

    ``session_data`` is a read-only SessionView of the session (a SessionData given
    here is wrapped in one for ``scanner_name``).
    """

    session_data: SessionView | None
    time_manager: TimeManager | None
    mode: str
    current_time: datetime
    config: Mapping[str, Any] = field(factory=dict)
    scanner_name: str = ""

    def __attrs_post_init__(self) -> None:
        if self.session_data is None or isinstance(self.session_data, SessionView):
            return
        # Imported here: a plugin module importing this one must not pull in pandas.
        from scanner_core.session import SessionData

        if isinstance(self.session_data, SessionData):
            self.session_data = SessionView(self.session_data, self.scanner_name)

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

        now = None if self.session_data is None else self.session_data.current_time
        return pd.Timestamp(self.calendar.localize(self.current_time if now is None else now))

    def trading_day(self) -> TradingDay | None:
        """The exchange session this scan falls on, or None when the exchange is closed that day."""
        return trading_day(self.calendar, self.exchange_time())

    def closed_result(self) -> ScanResult:
        """The empty result of a scan on a day the exchange does not trade, saying so."""
        return ScanResult(
            metadata={"reason": f"{self.exchange_time():%Y-%m-%d} is not a trading session"}
        )


@frozen
class ScanResult:
    """The symbols one scan found, ranked best first, and what it measured."""

    symbols: list[str] = field(factory=list)
    metadata: dict[str, Any] = field(factory=dict)
    execution_time_ms: float = 0.0
    skipped: bool = False
    error: str | None = None


def _settings_argument(cls: type) -> type | None:
    """The settings class a subclass names as BaseScanner[Settings], if any."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = get_origin(base)
        if isinstance(origin, type) and issubclass(origin, BaseScanner):
            args = [a for a in get_args(base) if isinstance(a, type)]
            if args:
                return args[0]
    return None


def _declaring(setup):
    """setup() preceded by registering the declared indicators, whatever the override does."""

    @functools.wraps(setup)
    def wrapper(self: BaseScanner, context: ScanContext) -> bool:
        self._declare(context)
        return setup(self, context)

    return wrapper


class BaseScanner(abc.ABC, Generic[S]):
    """Base class for scanners: override scan(), and setup()/session_start()/teardown() as needed.

    Name the settings class as the type argument, ``class Gap(BaseScanner[GapSettings])``:
    the scanner's ``config`` table is structured (and validated) by cattrs into
    ``self.settings``, typed ``GapSettings``, with errors naming each bad field's path.
    Indicators are declared one way only, by ``declare_indicators(settings)``.
    """

    #: Set by the manager to the entry-point (or config) name of this scanner.
    name: str = ""
    #: The attrs settings class, taken from ``BaseScanner[Settings]``.
    settings_class: ClassVar[type | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "indicators" in cls.__dict__:
            raise TypeError(
                f"{cls.__qualname__}: declare indicators with a declare_indicators(settings)"
                " classmethod, not an 'indicators' attribute"
            )
        if "settings_class" not in cls.__dict__:
            inferred = _settings_argument(cls)
            if inferred is not None:
                cls.settings_class = inferred
        if "setup" in cls.__dict__:
            cls.setup = _declaring(cls.__dict__["setup"])

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        file: str = "<config>",
        path: str = "config",
    ) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.settings: S = None  # type: ignore[assignment]
        if self.settings_class is not None:
            from scanner_core.config import structure

            self.settings = structure(self.config, self.settings_class, file, path)
        self._indicators = tuple(type(self).declare_indicators(self.settings))

    @classmethod
    def declare_indicators(cls, settings: S) -> tuple[IndicatorConfig, ...]:
        """The indicators this scanner reads, chosen from its settings (none by default).

        They are registered and warmed up for the whole universe before the first scan;
        a scan reading any other indicator fails naming it.
        """
        return ()

    @property
    def indicators(self) -> tuple[IndicatorConfig, ...]:
        """The indicators declare_indicators() chose for these settings."""
        return self._indicators

    @indicators.setter
    def indicators(self, _value: object) -> None:
        raise TypeError(
            f"{type(self).__qualname__}: declare indicators with a"
            " declare_indicators(settings) classmethod, not by setting self.indicators"
        )

    def _declare(self, context: ScanContext) -> None:
        if isinstance(context.session_data, SessionView):
            declare(context.session_data, self._indicators)

    def setup(self, context: ScanContext) -> bool:
        """Prepare for a session (declared indicators are registered first); False opts out."""
        self._declare(context)
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

    # The algebra (scanner_core.compose): each operator gives a Composite scanner.

    def __and__(self, other: BaseScanner) -> BaseScanner:
        """Both passed at the same scan; ranked by this scanner."""
        from scanner_core.compose import combine

        return combine("&", self, other)

    def __or__(self, other: BaseScanner) -> BaseScanner:
        """Either passed; this scanner's symbols first, then the other's alone."""
        from scanner_core.compose import combine

        return combine("|", self, other)

    def __sub__(self, other: BaseScanner) -> BaseScanner:
        """This scanner passed and the other did not."""
        from scanner_core.compose import combine

        return combine("-", self, other)

    def __rshift__(self, other: BaseScanner) -> BaseScanner:
        """The other scanner screens what this one found; ranked by the other."""
        from scanner_core.compose import combine

        return combine(">>", self, other)

    def then(self, other: BaseScanner, within: str | int = "30m") -> BaseScanner:
        """The other finds a symbol within ``within`` (``"30m"``) after this one found it."""
        from scanner_core.compose import then

        return then(self, other, within)
