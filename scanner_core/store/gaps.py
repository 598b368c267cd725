"""Sessions a store lacks inside the range it holds, as warning lines for runs and checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from scanner_core.store.barstore import BarStore

#: Missing dates named in a warning before the rest are only counted.
_SHOWN = 5


def missing_session_lines(store: BarStore, sessions: Sequence[dt.date]) -> list[str]:
    """One line per stored interval that has no bars for some of ``sessions`` (trading days
    from the calendar) between its first and last stored session."""
    lines = []
    for interval in store.intervals():
        missing = store.missing_sessions(interval, sessions)
        if not missing:
            continue
        shown = ", ".join(d.isoformat() for d in missing[:_SHOWN])
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        lines.append(
            f"{store.root / interval}: no bars for {len(missing)} trading"
            f" {'day' if len(missing) == 1 else 'days'} inside the stored range: {shown}{more}"
        )
    return lines
