"""check_result: bad return values, symbol rules, max_symbols and the session cap."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner_core.execution import ScanOutcome, run_scan
from scanner_core.limits import SessionSymbolCap, check_result
from scanner_core.scanner import ScanContext, ScanResult

UNIVERSE = frozenset({"AAPL", "MSFT", "SPY", "TSLA", "NVDA"})


def returned(value: object, elapsed_ms: float = 7.0) -> ScanOutcome:
    return ScanOutcome(value=value, execution_time_ms=elapsed_ms)


def make_context(name: str) -> ScanContext:
    return ScanContext(None, None, "backtest", datetime(2024, 3, 1, 9, 35), scanner_name=name)


@pytest.mark.parametrize(
    ("garbage", "type_name"),
    [(None, "NoneType"), ({"AAPL": 1}, "dict"), ("AAPL", "str"), (42, "int")],
)
def test_wrong_type_is_a_bad_result_with_no_symbols(garbage, type_name, caplog):
    with caplog.at_level(logging.ERROR, logger="scanner"):
        checked = check_result(returned(garbage), scanner="junk")
    assert checked.result.error == f"bad result: expected ScanResult or Screen, got {type_name}"
    assert checked.result.symbols == [] and checked.symbols_found == 0
    assert checked.result.execution_time_ms == 7.0
    assert f"junk: bad result: expected ScanResult or Screen, got {type_name}" in caplog.text


def test_a_plain_list_is_taken_as_ranked_symbols_with_a_warning():
    checked = check_result(returned(("TSLA", "AAPL")), scanner="lazy")
    assert checked.result.error is None
    assert checked.result.symbols == ["TSLA", "AAPL"]
    assert checked.warnings == ["returned a tuple, not a ScanResult; taken as the ranked symbols"]


def test_bad_unknown_and_duplicate_symbols_are_dropped_keeping_rank(caplog):
    raw = ["NVDA", 3, "AAPL", "", "NVDA", "ZZZZ", None, "AAPL", "SPY"]
    with caplog.at_level(logging.WARNING, logger="scanner"):
        checked = check_result(
            returned(ScanResult(symbols=raw)), scanner="messy", known_symbols=list(UNIVERSE)
        )
    assert checked.result.symbols == ["NVDA", "AAPL", "SPY"]
    assert checked.symbols_found == len(raw)
    assert checked.warnings == [
        "dropped 3 symbols that are not non-empty strings: 3, '', None",
        "dropped 2 duplicate symbols: 'NVDA', 'AAPL'",
        "dropped 1 symbols not in the universe: 'ZZZZ'",
    ]
    assert all(f"messy: {w}" in caplog.text for w in checked.warnings)


def test_ten_thousand_symbols_with_max_symbols_ten_keeps_the_top_ten():
    ranked = [f"S{i:05d}" for i in range(10_000)]
    checked = check_result(returned(ScanResult(symbols=ranked)), scanner="wide", max_symbols=10)
    assert checked.result.symbols == ranked[:10]
    assert checked.symbols_found == 10_000
    (warning,) = checked.warnings
    assert warning.startswith(
        "returned 10000 symbols, over max_symbols=10; kept the top 10, dropped 9990: "
        "'S00010', 'S00011'"
    )


def test_failed_outcome_becomes_an_empty_result_with_its_error():
    checked = check_result(
        ScanOutcome(error="timeout", execution_time_ms=1002.0), scanner="slow", max_symbols=3
    )
    assert checked.result == ScanResult(error="timeout", execution_time_ms=1002.0)
    assert checked.warnings == []


def test_metadata_is_kept_and_the_measured_time_replaces_the_claimed_one():
    claimed = ScanResult(symbols=["AAPL"], metadata={"gap": 0.03}, execution_time_ms=1.0)
    checked = check_result(returned(claimed, elapsed_ms=55.0), scanner="gap")
    assert checked.result.metadata == {"gap": 0.03}
    assert checked.result.execution_time_ms == 55.0


def test_session_cap_admits_known_symbols_freely_and_new_ones_while_room_is_left():
    cap = SessionSymbolCap(max_symbols=3)
    first = check_result(returned(ScanResult(symbols=["AAPL", "MSFT"])), scanner="a", cap=cap)
    second = check_result(
        returned(ScanResult(symbols=["MSFT", "SPY", "TSLA", "NVDA"])), scanner="b", cap=cap
    )
    assert first.result.symbols == ["AAPL", "MSFT"]
    assert second.result.symbols == ["MSFT", "SPY"]
    assert second.warnings == ["session cap of 3 symbols reached; dropped 2: 'TSLA', 'NVDA'"]
    assert cap.added == {"AAPL", "MSFT", "SPY"}


def test_bad_scanners_leave_the_others_results_intact():
    """A run of scanners through run_scan and check_result, with garbage and a flood mixed in."""
    scanners = {
        "gap": lambda context: ScanResult(symbols=["AAPL", "TSLA"]),
        "garbage": lambda context: None,
        "flood": lambda context: ScanResult(symbols=[f"X{i}" for i in range(10_000)] + ["SPY"]),
        "volume": lambda context: ScanResult(symbols=["SPY", "NVDA"]),
    }
    cap = SessionSymbolCap(max_symbols=100)
    results = {}
    for name, fn in scanners.items():
        outcome = run_scan(fn, make_context(name), timeout_seconds=10)
        results[name] = check_result(
            outcome, scanner=name, max_symbols=10, known_symbols=UNIVERSE, cap=cap
        ).result
    assert results["gap"].symbols == ["AAPL", "TSLA"] and results["gap"].error is None
    assert results["garbage"].error == "bad result: expected ScanResult or Screen, got NoneType"
    assert results["flood"].symbols == ["SPY"]
    assert results["volume"].symbols == ["SPY", "NVDA"] and results["volume"].error is None
    assert cap.added == {"AAPL", "TSLA", "SPY", "NVDA"}


@given(
    raw=st.lists(st.one_of(st.sampled_from([*sorted(UNIVERSE), "ZZ", ""]), st.integers())),
    max_symbols=st.integers(0, 6),
)
def test_clean_symbols_are_known_unique_capped_and_in_rank_order(raw, max_symbols):
    checked = check_result(
        returned(ScanResult(symbols=raw)),
        scanner="any",
        max_symbols=max_symbols,
        known_symbols=UNIVERSE,
    )
    symbols = checked.result.symbols
    first_seen = [s for i, s in enumerate(raw) if s in UNIVERSE and s not in raw[:i]]
    assert symbols == first_seen[:max_symbols]
