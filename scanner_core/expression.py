"""Scanner expressions: the algebra of `gap & momentum`, parsed and evaluated on screens.

A restricted Python expression, read with ``ast`` and nothing evaluated:

=========================  ==================================================================
``a & b``, ``a and b``     both passed at this scan; ranked by a
``a | b``, ``a or b``      either passed; a's symbols first (by a's score), then b's alone
``a - b``                  a passed and b did not; ranked by a
``a >> b``                 b screens what a found: b's verdict on a's symbols, ranked by b
``not a``, ``~a``          a did not pass (for removal rules: ``remove_when = "not momentum"``)
``a.then(b, within="30m")``  b passes now and a passed at this or an earlier scan at most
                           ``within`` before (``30m``, ``1h``, ``90s`` or whole minutes)
``top(a, n, by="x")``      the n best of a, by its value ``x`` (default: a's own ranking)
=========================  ==================================================================

A name is a scanner (a plain name, or a quoted string for names that are not
identifiers). Nodes evaluate on the screens of their leaves, all over one universe.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import numpy as np
from attrs import define, field

from scanner_core.screen import Screen

GRAMMAR = (
    "an expression of scanner names with &, |, -, >>, not, a.then(b, within='30m')"
    " and top(a, n, by='value')"
)
_WITHIN = re.compile(r"^([1-9][0-9]*)([smh])$")
_UNIT_MINUTES = {"s": 1 / 60, "m": 1, "h": 60}


class ExpressionError(ValueError):
    """An expression that breaks the grammar; the message says what and where."""


class Node:
    """One operation of an expression."""

    def leaves(self) -> Iterator[str]:
        """The scanner names this node reads, in the order written (repeats included)."""
        raise NotImplementedError

    def evaluate(self, screens: Mapping[str, Screen], now: dt.datetime) -> Screen:
        """This node's screen, given each leaf's screen at scan time ``now``."""
        raise NotImplementedError

    def text(self) -> str:
        """The node written back as an expression."""
        raise NotImplementedError


def _merged(universe: tuple[str, ...], *parts: Screen, **changes: Any) -> Screen:
    """A screen keeping every part's values and children, with the given arrays."""
    values: dict[str, np.ndarray] = {}
    children: dict[str, np.ndarray] = {}
    for part in parts:
        values.update(part.values)
        children.update(part.children)
    return Screen(universe, values=values, children=children, **changes)


def _named(screen: Screen, name: str, values: dict[str, np.ndarray]) -> Screen:
    """The screen as one child of a composition: its values, and its verdict under ``name``."""
    children = {**screen.children, name: screen.passed}
    return Screen(screen.universe, screen.passed, screen.score, values, {}, screen.tier, children)


def _tier(screen: Screen) -> np.ndarray:
    return np.zeros(len(screen.universe), np.int64) if screen.tier is None else screen.tier


@define(eq=False)
class Leaf(Node):
    """A scanner's own screen, its values namespaced ``name.value``."""

    name: str

    def leaves(self) -> Iterator[str]:
        yield self.name

    def evaluate(self, screens: Mapping[str, Screen], now: dt.datetime) -> Screen:
        own = screens[self.name]
        values = {f"{self.name}.{key}": array for key, array in own.values.items()}
        return _named(own, self.name, values)

    def text(self) -> str:
        return self.name if self.name.isidentifier() else repr(self.name)


@define(eq=False)
class Named(Node):
    """A composition configured under its own name, nested in another: named in provenance."""

    name: str
    node: Node

    def leaves(self) -> Iterator[str]:
        yield from self.node.leaves()

    def evaluate(self, screens: Mapping[str, Screen], now: dt.datetime) -> Screen:
        inner = self.node.evaluate(screens, now)
        return _named(inner, self.name, inner.values)

    def text(self) -> str:
        return self.name if self.name.isidentifier() else repr(self.name)


@define(eq=False)
class Binary(Node):
    """``a OP b`` for the four set operators."""

    op: str
    left: Node
    right: Node

    def leaves(self) -> Iterator[str]:
        yield from self.left.leaves()
        yield from self.right.leaves()

    def evaluate(self, screens: Mapping[str, Screen], now: dt.datetime) -> Screen:
        a = self.left.evaluate(screens, now)
        b = self.right.evaluate(screens, now)
        u = a.universe
        if self.op == "&":
            return _merged(u, a, b, passed=a.passed & b.passed, score=a.score, tier=a.tier)
        if self.op == "-":
            return _merged(u, a, b, passed=a.passed & ~b.passed, score=a.score, tier=a.tier)
        if self.op == ">>":
            return _merged(u, a, b, passed=a.passed & b.passed, score=b.score, tier=b.tier)
        # "|": a's symbols first in a's order, then the ones only b found, in b's
        ta, tb = _tier(a), _tier(b)
        after = (int(ta[a.passed].max()) + 1) if a.passed.any() else 0
        return _merged(
            u,
            a,
            b,
            passed=a.passed | b.passed,
            score=np.where(a.passed, a.score, b.score),
            tier=np.where(a.passed, ta, after + tb),
        )

    def text(self) -> str:
        return f"({self.left.text()} {self.op} {self.right.text()})"


@define(eq=False)
class Not(Node):
    """The symbols a node did not pass, unranked."""

    node: Node

    def leaves(self) -> Iterator[str]:
        yield from self.node.leaves()

    def evaluate(self, screens: Mapping[str, Screen], now: dt.datetime) -> Screen:
        inner = self.node.evaluate(screens, now)
        n = len(inner.universe)
        return _merged(inner.universe, inner, passed=~inner.passed, score=np.zeros(n))

    def text(self) -> str:
        return f"(not {self.node.text()})"


@define(eq=False)
class Then(Node):
    """b passes now, and a passed within ``within_minutes`` before (or at) this scan.

    Remembers the last scan time each symbol passed a; that memory lives in the
    session's process, where compositions are combined, so forked scans keep it too.
    """

    first: Node
    second: Node
    within_minutes: float
    _seen: dict[str, dt.datetime] = field(factory=dict, init=False, repr=False)

    def leaves(self) -> Iterator[str]:
        yield from self.first.leaves()
        yield from self.second.leaves()

    def evaluate(self, screens: Mapping[str, Screen], now: dt.datetime) -> Screen:
        a = self.first.evaluate(screens, now)
        b = self.second.evaluate(screens, now)
        for column in np.flatnonzero(a.passed).tolist():
            self._seen[a.universe[column]] = now
        window = dt.timedelta(minutes=self.within_minutes)
        minutes = np.full(len(a.universe), np.nan)
        for column, symbol in enumerate(a.universe):
            seen = self._seen.get(symbol)
            if seen is not None and now - seen <= window:
                minutes[column] = (now - seen) / dt.timedelta(minutes=1)
        recent = np.isfinite(minutes)
        merged = _merged(a.universe, a, b, passed=b.passed & recent, score=b.score, tier=b.tier)
        merged.values[f"{self.first.text()}.minutes_before"] = minutes
        return merged

    def text(self) -> str:
        within = f"{self.within_minutes:g}m"
        return f"{self.first.text()}.then({self.second.text()}, within={within!r})"


@define(eq=False)
class Top(Node):
    """The ``n`` best symbols of a node, by one of its values or by its own ranking."""

    node: Node
    n: int
    by: str | None = None

    def leaves(self) -> Iterator[str]:
        yield from self.node.leaves()

    def evaluate(self, screens: Mapping[str, Screen], now: dt.datetime) -> Screen:
        inner = self.node.evaluate(screens, now)
        if self.by is None:
            keep, score, tier = inner.ranked(self.n), inner.score, inner.tier
        else:
            score = inner.values[self.value_name(inner)]
            ranked = Screen(inner.universe, inner.passed, score)
            keep, tier = ranked.ranked(self.n), None
        passed = np.zeros(len(inner.universe), dtype=bool)
        passed[keep] = True
        return _merged(inner.universe, inner, passed=passed, score=score, tier=tier)

    def value_name(self, screen: Screen) -> str:
        """The value ``by`` names: exactly, or the one value ``<scanner>.<by>``."""
        if self.by in screen.values:
            return self.by
        matches = [key for key in screen.values if key.endswith(f".{self.by}")]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(sorted(screen.values)) or "none"
        raise KeyError(f"top(..., by={self.by!r}): no single value of that name (values: {known})")

    def text(self) -> str:
        by = "" if self.by is None else f", by={self.by!r}"
        return f"top({self.node.text()}, {self.n}{by})"


_BINARY = {ast.BitAnd: "&", ast.BitOr: "|", ast.Sub: "-", ast.RShift: ">>"}


def parse(text: str) -> Node:
    """The expression tree of ``text``; ExpressionError says what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an empty expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        detail = "" if exc.msg == "invalid syntax" else f": {exc.msg}"
        raise ExpressionError(f"invalid syntax{where}{detail}") from None
    return _node(tree.body)


def _fail(node: ast.AST, what: str) -> ExpressionError:
    return ExpressionError(f"{what} at column {getattr(node, 'col_offset', 0) + 1}")


def _node(node: ast.expr) -> Node:
    if isinstance(node, ast.Name):
        return Leaf(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return Leaf(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return Binary(_BINARY[type(node.op)], _node(node.left), _node(node.right))
    if isinstance(node, ast.BoolOp):
        op = "&" if isinstance(node.op, ast.And) else "|"
        result = _node(node.values[0])
        for value in node.values[1:]:
            result = Binary(op, result, _node(value))
        return result
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
        return Not(_node(node.operand))
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, ast.BinOp):
        return _raise(_fail(node, f"no operator {type(node.op).__name__}"))
    return _raise(_fail(node, f"a {type(node).__name__} is not a scanner name or operation"))


def _raise(error: ExpressionError) -> Node:
    raise error


def _call(node: ast.Call) -> Node:
    func = node.func
    keywords = {k.arg: k.value for k in node.keywords}
    if None in keywords:
        raise _fail(node, "no **keywords")
    if isinstance(func, ast.Attribute) and func.attr == "then":
        return _then(node, [func.value, *node.args], keywords)
    if isinstance(func, ast.Name) and func.id == "then":
        return _then(node, node.args, keywords)
    if isinstance(func, ast.Name) and func.id == "top":
        return _top(node, keywords)
    raise _fail(node, "only top(...) and .then(...) can be called")


def _then(node: ast.Call, args: list[ast.expr], keywords: dict[str | None, ast.expr]) -> Node:
    if set(keywords) - {"within"}:
        raise _fail(node, f"then() takes within=, not {sorted(set(keywords) - {'within'})}")
    if "within" in keywords:
        args = [*args, keywords["within"]]
    if len(args) != 3:
        raise _fail(node, "a.then(b, within='30m') needs two scanners and a within")
    return Then(_node(args[0]), _node(args[1]), _minutes(args[2]))


def _minutes(node: ast.expr) -> float:
    try:
        return within_minutes(node.value if isinstance(node, ast.Constant) else None)
    except ExpressionError as exc:
        raise _fail(node, str(exc)) from None


def within_minutes(value: Any) -> float:
    """Minutes in a ``within``: a duration like '30m', '1h', '90s', or whole minutes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _WITHIN.match(value) if isinstance(value, str) else None
    if not match:
        raise ExpressionError("within= is a duration like '30m', '1h' or whole minutes")
    return int(match[1]) * _UNIT_MINUTES[match[2]]


def _top(node: ast.Call, keywords: dict[str | None, ast.expr]) -> Node:
    if set(keywords) - {"n", "by"}:
        raise _fail(node, f"top() takes n= and by=, not {sorted(set(keywords) - {'n', 'by'})}")
    args = list(node.args)
    if "n" in keywords:
        args.append(keywords["n"])
    if len(args) != 2:
        raise _fail(node, "top(a, n, by='value') needs a scanner and a count")
    count = args[1].value if isinstance(args[1], ast.Constant) else None
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise _fail(args[1], "top()'s n is a whole number >= 1")
    by = keywords.get("by")
    if by is not None and not (isinstance(by, ast.Constant) and isinstance(by.value, str)):
        raise _fail(by, "top()'s by= is a value name in quotes")
    return Top(_node(args[0]), count, None if by is None else by.value)


def names(text: str) -> list[str]:
    """The scanner names an expression reads, each once, in the order written."""
    return list(dict.fromkeys(parse(text).leaves()))


def substitute(node: Node, replace: Callable[[str], Node | None]) -> Node:
    """``node`` with each leaf for which ``replace(name)`` gives a node replaced by it."""
    if isinstance(node, Leaf):
        return replace(node.name) or node
    changes = {
        a.name: substitute(getattr(node, a.name), replace)
        for a in attrs.fields(type(node))
        if a.init and isinstance(getattr(node, a.name), Node)
    }
    return attrs.evolve(node, **changes) if changes else node
