"""A forked scan's answer comes back with the session's symbols by reference, the rest by value."""

from __future__ import annotations

import pickle
from datetime import datetime

import numpy as np
import pytest

from scanner_core import handoff
from scanner_core.execution import run_scan
from scanner_core.scanner import ScanContext
from scanner_core.screen import Screen
from scanner_core.session import SessionData

SYMBOLS = [f"S{i:05d}" for i in range(5_000)]


def session_context() -> ScanContext:
    data = SessionData()
    data.add_symbols(SYMBOLS)
    return ScanContext(
        session_data=data,
        time_manager=None,
        mode="backtest",
        current_time=datetime(2024, 3, 1, 9, 35),
        scanner_name="screen",
    )


def screens(context: ScanContext) -> Screen:
    names = context.session_data.symbols
    score = np.arange(len(names), dtype=float)
    return Screen(names, score % 7 == 0, score, values={"score": score})


def test_a_forked_screen_names_the_sessions_own_symbols_and_equals_the_in_process_one():
    context = session_context()
    forked = run_scan(screens, context, timeout_seconds=10)
    inline = run_scan(screens, context)
    assert forked.error is None and forked.isolated
    assert forked.value.universe is context.session_data.symbols
    assert forked.value.found == inline.value.found
    np.testing.assert_array_equal(forked.value.values["score"], inline.value.values["score"])


def test_the_shared_symbols_travel_as_a_reference_and_an_equal_copy_by_value():
    context = session_context()
    shared = handoff.shared_objects(context)
    screen = screens(context)
    by_reference = handoff.dumps(("ok", screen), shared)
    assert len(by_reference) < len(pickle.dumps(("ok", screen))) - 40_000
    assert handoff.loads(by_reference, shared)[1].universe is shared[0]
    # an equal tuple that is not the session's own goes by value, and comes back equal
    copy = ("ok", tuple(list(shared[0])))
    assert handoff.loads(handoff.dumps(copy, shared), ())[1] == shared[0]


def test_a_reference_the_parent_does_not_hold_is_an_unpickling_error():
    context = session_context()
    payload = handoff.dumps(("ok", screens(context)), handoff.shared_objects(context))
    with pytest.raises(pickle.UnpicklingError, match="unknown shared object 0"):
        handoff.loads(payload, ())
