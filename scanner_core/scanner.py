"""The scanner contract: BaseScanner, the context a scan sees, and the result it returns."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from attrs import define, field, frozen

if TYPE_CHECKING:
    from scanner_core.calendar import TimeManager
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
        """Prepare for a session (register indicators); return False to opt out."""
        return True

    @abc.abstractmethod
    def scan(self, context: ScanContext) -> ScanResult:
        """Search the universe and return the symbols found."""

    def teardown(self, context: ScanContext) -> None:
        """Release whatever setup() acquired."""
        return None
