"""The scanner algebra on screens: set semantics, ranking as documented, then(), top(), forks."""

from __future__ import annotations

import datetime as dt
import operator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scanners.table import TableScanner

from scanner_core import Composite, ScanContext, Screen, top
from scanner_core.calendar import TimeManager
from scanner_core.compose import settle
from scanner_core.execution import run_scan
from scanner_core.session import SessionData
from scanner_core.store import BarStore

TM = TimeManager("XNYS")
NOW = dt.datetime(2024, 1, 2, 15, 0, tzinfo=dt.UTC)
LETTERS = list("ABCDEFGH")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> BarStore:
    """An empty real bar store: these scans read their scores from their settings."""
    return BarStore(tmp_path_factory.mktemp("store"))


def context(store: BarStore, universe: list[str], now: dt.datetime = NOW) -> ScanContext:
    """A scan context over a session tracking exactly ``universe``."""
    session = SessionData(store, calendar=TM)
    session.track(universe)
    return ScanContext(session, TM, "backtest", now)


def table(name: str, scores: dict[str, float], min_score: float = 0.0, **more) -> TableScanner:
    scanner = TableScanner({"scores": scores, "min_score": min_score, **more})
    scanner.name = name
    return scanner


def found(scanner, ctx: ScanContext) -> list[str]:
    """The ranked symbols a scan gives, as the framework records them."""
    value = scanner.scan(ctx)
    return value.result().symbols if isinstance(value, Screen) else list(value)


scores = st.dictionaries(
    st.sampled_from(LETTERS), st.integers(-3, 3).map(float), max_size=len(LETTERS)
)
universes = st.lists(st.sampled_from(LETTERS), min_size=1, unique=True)
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


#: What each set operator finds, from a's and b's ranked symbols, in the documented order:
#: & and - keep a's order; | puts a's symbols first, then the ones only b found, in b's.
REFERENCE = {
    "&": (operator.and_, lambda a, b: [s for s in a if s in set(b)]),
    "|": (operator.or_, lambda a, b: a + [s for s in b if s not in set(a)]),
    "-": (operator.sub, lambda a, b: [s for s in a if s not in set(b)]),
}


@pytest.mark.parametrize("op", sorted(REFERENCE))
@PROPERTY
@given(universe=universes, a_scores=scores, b_scores=scores)
def test_set_operators_find_and_rank_as_documented(store, op, universe, a_scores, b_scores):
    ctx = context(store, universe)
    a, b = table("a", a_scores), table("b", b_scores)
    combine, expected = REFERENCE[op]
    assert found(combine(a, b), ctx) == expected(found(a, ctx), found(b, ctx))


@PROPERTY
@given(universe=universes, a_scores=scores, b_scores=scores)
def test_pipe_is_b_run_on_the_symbols_a_found(store, universe, a_scores, b_scores):
    ctx = context(store, universe)
    a, b = table("a", a_scores), table("b", b_scores)
    on_a = found(a, ctx)
    expected = found(b, context(store, on_a)) if on_a else []
    assert found(a >> b, ctx) == expected


@PROPERTY
@given(universe=universes, a_scores=scores, b_scores=scores, n=st.integers(1, 4))
def test_top_keeps_the_n_best(store, universe, a_scores, b_scores, n):
    ctx = context(store, universe)
    a, b = table("a", a_scores), table("b", b_scores)
    assert found(top(a, n), ctx) == found(a, ctx)[:n]
    # by a value: the union's symbols ranked by b's score alone, those without one last
    union = found(a | b, ctx)
    by_b = sorted(union, key=lambda s: (s not in b_scores, -b_scores.get(s, 0.0), s))
    assert found(top(a | b, n, by="b.score"), ctx) == by_b[:n]


@PROPERTY
@given(universe=universes, a_scores=scores, b_scores=scores, c_scores=scores)
def test_composition_is_deterministic_and_the_text_equals_the_operators(
    store, universe, a_scores, b_scores, c_scores
):
    ctx = context(store, universe)
    a, b, c = table("a", a_scores), table("b", b_scores), table("c", c_scores)
    by_operators = (a | b) - c >> top(a & c, 3)
    text = "(a | b) - c >> top(a & c, 3)"
    by_text = Composite.from_expression(text, {"a": a, "b": b, "c": c})
    first = by_text.scan(ctx).result()
    again = by_text.scan(ctx).result()
    assert first.symbols == again.symbols == found(by_operators, ctx)
    assert repr(first.metadata) == repr(again.metadata)


@PROPERTY
@given(
    universe=universes,
    a_scores=scores,
    b_scores=scores,
    plain=st.sampled_from(["a", "b", ""]),
)
def test_a_plain_list_child_composes_like_a_screen(store, universe, a_scores, b_scores, plain):
    ctx = context(store, universe)
    a = table("a", a_scores, plain=plain == "a")
    b = table("b", b_scores, plain=plain == "b")
    in_b = set(found(b, ctx))
    assert found(a & b, ctx) == [s for s in found(a, ctx) if s in in_b]


@settings(max_examples=40, deadline=None)
@given(
    hits=st.lists(
        st.tuples(st.sets(st.sampled_from("AB")), st.sets(st.sampled_from("AB"))),
        min_size=1,
        max_size=8,
    ),
    within=st.sampled_from([5, 10, 30]),
)
def test_then_finds_b_within_the_window_after_a(tmp_path_factory, hits, within):
    store = BarStore(tmp_path_factory.mktemp("then"))
    a_seen: dict[str, dt.datetime] = {}
    a, b = table("a", {}), table("b", {})
    sequence = a.then(b, within=f"{within}m")
    for step, (a_hits, b_hits) in enumerate(hits):
        now = NOW + dt.timedelta(minutes=5 * step)
        a.config["scores"] = dict.fromkeys(a_hits, 1.0)
        b.config["scores"] = dict.fromkeys(b_hits, 1.0)
        a_seen.update(dict.fromkeys(a_hits, now))
        expected = sorted(
            s for s in b_hits if s in a_seen and now - a_seen[s] <= dt.timedelta(minutes=within)
        )
        assert found(sequence, context(store, ["A", "B"], now)) == expected, step


def test_children_and_values_are_namespaced_in_the_result(store):
    ctx = context(store, ["A", "B", "C"])
    a = table("a", {"A": 2.0, "B": 1.0})
    b = table("b", {"B": 5.0, "C": 1.0})
    result = (a | b).scan(ctx).result()
    assert result.symbols == ["A", "B", "C"]
    assert result.metadata["children"] == {"A": ["a"], "B": ["a", "b"], "C": ["b"]}
    assert result.metadata["values"]["B"] == {"a.score": 1.0, "b.score": 5.0}


def test_two_scanners_of_one_name_are_kept_apart(store):
    ctx = context(store, ["A", "B"])
    first, second = table("t", {"A": 1.0}), table("t", {"B": 1.0})
    both = first | second
    assert sorted(both.children) == ["t", "t#2"]
    assert found(both, ctx) == ["A", "B"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    universe=universes,
    a_scores=scores,
    b_scores=scores,
    text=st.sampled_from(["a & b", "a | b", "top(a >> b, 1)", "a.then(b, within='15m')"]),
)
def test_a_forked_composite_finds_what_one_in_process_finds(
    store, universe, a_scores, b_scores, text
):
    ctx = context(store, universe)
    children = {"a": table("a", a_scores), "b": table("b", b_scores)}
    results = []
    for timeout in (None, 10.0):
        composite = Composite.from_expression(text, children)
        outcome = run_scan(composite.screens, ctx, timeout)
        assert outcome.isolated is (timeout is not None) and outcome.error is None
        settled, _ = settle(composite, outcome, ctx)
        results.append(settled.value.result())
    inline, forked = results
    assert forked.symbols == inline.symbols
    assert repr(forked.metadata) == repr(inline.metadata)


def test_a_screen_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"Screen.score has shape \(1,\), expected \(2,\)"):
        Screen(("A", "B"), [True, False], [1.0])


def test_top_by_an_unknown_value_fails_that_scan_naming_the_values(store):
    ctx = context(store, ["A"])
    composite = top(table("a", {"A": 1.0}) & table("b", {"A": 1.0}), 1, by="nope")
    outcome = run_scan(composite.screens, ctx)
    settled, _ = settle(composite, outcome, ctx)
    assert settled.value is None
    assert "by='nope'" in settled.error and "a.score, b.score" in settled.error
