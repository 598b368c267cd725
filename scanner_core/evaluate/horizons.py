"""Forward-return horizons: a clock offset, the session close, or N sessions on."""

from __future__ import annotations

import re

from attrs import frozen

#: The horizons a backtest measures unless told otherwise.
DEFAULT_HORIZONS = "5m,15m,30m,1h,close,1d,5d"
#: The defaults over a store of daily bars only, where a pick is made at a close.
DAILY_HORIZONS = "1d,2d,5d"

_PATTERN = re.compile(r"^(?:(\d+)(m|h)|close|(\d+)d)$")


class HorizonError(ValueError):
    """A horizon that cannot be parsed."""


@frozen
class Horizon:
    """One horizon: ``minutes`` after the pick, the pick day's close, or ``sessions``
    closes later."""

    name: str
    minutes: int = 0
    sessions: int = 0

    @property
    def intraday(self) -> bool:
        """Whether the horizon ends on the pick's own session."""
        return self.sessions == 0


def parse_horizons(text: str) -> tuple[Horizon, ...]:
    """Horizons from a comma list such as ``5m,1h,close,1d``, in the order given."""
    out: list[Horizon] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        match = _PATTERN.match(name)
        if not match or name in {"0m", "0h", "0d"}:
            raise HorizonError(
                f"horizon {raw.strip()!r}: expected minutes (5m), hours (1h), 'close' or"
                " sessions (1d)"
            )
        if match.group(1):
            minutes = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
            out.append(Horizon(name, minutes=minutes))
        elif match.group(3):
            out.append(Horizon(name, sessions=int(match.group(3))))
        else:
            out.append(Horizon("close"))
    if len({h.name for h in out}) != len(out):
        raise HorizonError(f"horizons {text!r}: a horizon is named twice")
    return tuple(out)
