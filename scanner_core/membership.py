"""Stable symbol lists per scanner: a least time in the session, and a cooldown after removal.

A scanner's removal rule (``remove_when``) names the symbols that should leave at each
of its scans; of those, only the ones this scanner added leave, and only once they
have been in the session ``min_minutes_in_session``. A symbol a rule took out may not
be added again by the same scanner for ``cooldown_minutes``. The end of a trading day
ends every membership (symbols found in a day belong to it); cooldowns run on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from attrs import define, field, frozen


@frozen
class Policy:
    """One scanner's rules: minutes a symbol stays at least, minutes before it may return."""

    min_minutes: float = 0.0
    cooldown_minutes: float = 0.0


@define
class Membership:
    """Which symbols each scanner added and when, and which are cooling down after removal."""

    policies: dict[str, Policy] = field(factory=dict)
    joined: dict[str, dict[str, dt.datetime]] = field(factory=dict)
    removed: dict[str, dict[str, dt.datetime]] = field(factory=dict)

    def admit(
        self, scanner: str, symbols: Iterable[str], now: dt.datetime
    ) -> tuple[list[str], list[str]]:
        """Split found symbols into (may be added, cooling down), rank order kept."""
        wait = dt.timedelta(minutes=self._policy(scanner).cooldown_minutes)
        removed = self.removed.get(scanner, {})
        admitted, cooling = [], []
        for symbol in symbols:
            left = removed.get(symbol)
            (cooling if left is not None and now - left < wait else admitted).append(symbol)
        return admitted, cooling

    def join(self, scanner: str, symbols: Iterable[str], now: dt.datetime) -> None:
        """Remember that this scanner added these symbols at ``now``."""
        held = self.joined.setdefault(scanner, {})
        for symbol in symbols:
            held.setdefault(symbol, now)

    def leaving(self, scanner: str, candidates: Iterable[str], now: dt.datetime) -> list[str]:
        """Of the symbols a removal rule names, those this scanner added that may leave now.

        They are forgotten as members and start their cooldown.
        """
        held = self.joined.get(scanner, {})
        stay = dt.timedelta(minutes=self._policy(scanner).min_minutes)
        gone = sorted(s for s in set(candidates) if s in held and now - held[s] >= stay)
        for symbol in gone:
            del held[symbol]
            self.removed.setdefault(scanner, {})[symbol] = now
        return gone

    def new_session(self) -> None:
        """A trading day ended: every symbol left the session, so no one is a member."""
        self.joined.clear()

    def _policy(self, scanner: str) -> Policy:
        return self.policies.get(scanner, Policy())
