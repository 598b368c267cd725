"""Stable lists: a least stay before a removal rule applies, and a cooldown after it."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from scanner_core.membership import Membership, Policy

T0 = dt.datetime(2024, 1, 2, 15, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_a_symbol_stays_its_least_minutes_then_leaves_and_cools_down():
    members = Membership({"gap": Policy(min_minutes=30, cooldown_minutes=60)})
    members.join("gap", ["AAPL", "MSFT"], at(0))
    assert members.leaving("gap", ["AAPL"], at(15)) == []
    assert members.leaving("gap", ["AAPL"], at(30)) == ["AAPL"]
    assert members.admit("gap", ["AAPL", "MSFT", "TSLA"], at(60)) == (["MSFT", "TSLA"], ["AAPL"])
    assert members.admit("gap", ["AAPL"], at(90)) == (["AAPL"], [])


def test_only_the_scanner_that_added_a_symbol_lets_it_go():
    members = Membership()
    members.join("gap", ["AAPL"], at(0))
    assert members.leaving("momentum", ["AAPL"], at(5)) == []
    assert members.leaving("gap", ["AAPL", "NVDA"], at(5)) == ["AAPL"]
    # a cooldown is per scanner: another one may add it again
    assert members.admit("momentum", ["AAPL"], at(6)) == (["AAPL"], [])


def test_the_end_of_a_day_ends_memberships_but_not_cooldowns():
    members = Membership({"gap": Policy(cooldown_minutes=24 * 60)})
    members.join("gap", ["AAPL", "MSFT"], at(0))
    members.leaving("gap", ["AAPL"], at(10))
    members.new_session()
    assert members.leaving("gap", ["MSFT"], at(20)) == []
    assert members.admit("gap", ["AAPL"], at(60)) == ([], ["AAPL"])


@given(
    stay=st.integers(0, 60),
    cooldown=st.integers(0, 60),
    steps=st.lists(st.tuples(st.booleans(), st.booleans()), max_size=30),
)
def test_no_symbol_leaves_early_or_returns_while_cooling(stay, cooldown, steps):
    """Scans every 5 minutes finding (or not) one symbol and naming it to leave (or not)."""
    members = Membership({"s": Policy(min_minutes=stay, cooldown_minutes=cooldown)})
    joined = left = None
    for step, (found, remove) in enumerate(steps):
        now = at(5 * step)
        if found:
            admitted, _ = members.admit("s", ["X"], now)
            if admitted and joined is None:
                assert left is None or now - left >= dt.timedelta(minutes=cooldown)
                members.join("s", admitted, now)
                joined = now
        if remove and members.leaving("s", ["X"], now):
            assert joined is not None and now - joined >= dt.timedelta(minutes=stay)
            joined, left = None, now
