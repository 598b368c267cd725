"""Compositions: scanners combined by an expression (``gap & momentum``) into one scanner.

A Composite holds its children (the scanners its expression names) and runs their
lifecycle. A scan turn runs in two steps:

1. ``screens(context)``: every child scans, one after another, inside the composite's
   one execution (one forked child when it has a timeout, see scanner_core.execution);
   each result becomes a Screen over the same universe.
2. ``combine(screens, context)``: the expression is evaluated on those screens in the
   session's process, where ``then`` keeps its memory of earlier scans; so a forked
   composite finds exactly what one run in process finds.

The manager runs step 1 as the scan and step 2 when the outcome is back (``settle``).
Called directly, ``Composite.scan`` does both. The same machinery carries a plain
scanner with a removal rule (``remove_when``): its expression is its own name.

In Python, scanners combine with the operators: ``GapScanner() & MomentumScanner()``,
``a | b``, ``a - b``, ``a >> b``, ``a.then(b, within="30m")`` and ``top(a, 3, by="rsi")``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from attrs import frozen

from scanner_core.expression import (
    Binary,
    Leaf,
    Named,
    Node,
    Not,
    Then,
    Top,
    parse,
    substitute,
    within_minutes,
)
from scanner_core.scanner import BaseScanner, ScanContext
from scanner_core.screen import Screen, as_screen
from scanner_core.view import view_for

if TYPE_CHECKING:
    from scanner_core.config import ScannerConfig
    from scanner_core.execution import ScanOutcome
    from scanner_core.plugins import PluginInfo


@frozen
class ChildScreens:
    """What the children of a composite found in one execution, by child name."""

    screens: dict[str, Screen]


class Composite(BaseScanner):
    """Scanners combined by an expression; its score and values keep each child's, namespaced."""

    def __init__(
        self,
        node: Node,
        children: Mapping[str, BaseScanner],
        *,
        remove: Node | None = None,
        name: str = "",
    ) -> None:
        super().__init__({})
        self.node = node
        self.remove = remove
        self.children = dict(children)
        self.name = name or self.expression
        wanted = [*node.leaves(), *(remove.leaves() if remove is not None else ())]
        missing = sorted(set(wanted) - set(self.children))
        if missing:
            raise ValueError(f"{self.name}: no scanner given for {', '.join(missing)}")
        #: The children's names in the order their scans run.
        self.leaf_names = list(dict.fromkeys(wanted))
        self._indicators = tuple(
            dict.fromkeys(i for name in self.leaf_names for i in self.children[name].indicators)
        )

    @classmethod
    def from_expression(
        cls, text: str, scanners: Mapping[str, BaseScanner], *, name: str = ""
    ) -> Composite:
        """The composition ``text`` (``"gap & momentum"``) of scanners given by name."""
        return cls(parse(text), scanners, name=name)

    @property
    def expression(self) -> str:
        """The composition written as an expression."""
        text = self.node.text()
        # Binary and Not bracket themselves for nesting; the whole needs no brackets.
        return text[1:-1] if isinstance(self.node, Binary | Not) else text

    def child_context(self, context: ScanContext, name: str) -> ScanContext:
        """The context a child sees: its own name, settings and view of the session."""
        child = self.children[name]
        return attrs.evolve(
            context,
            scanner_name=name,
            config=dict(child.config),
            session_data=view_for(context.session_data, name),
        )

    def setup(self, context: ScanContext) -> bool:
        """Set up every child; a child that opts out fails the setup, naming it."""
        for name in self.leaf_names:
            if self.children[name].setup(self.child_context(context, name)) is False:
                raise RuntimeError(f"child {name}: setup returned False")
        return True

    def session_start(self, context: ScanContext) -> None:
        """Each child's session_start, in the session's process."""
        for name in self.leaf_names:
            self.children[name].session_start(self.child_context(context, name))

    def teardown(self, context: ScanContext) -> None:
        """Each child's teardown, every one even when one raises (the first is re-raised)."""
        failed: BaseException | None = None
        for name in self.leaf_names:
            try:
                self.children[name].teardown(self.child_context(context, name))
            except BaseException as exc:
                failed = failed or exc
        if failed is not None:
            raise failed

    def screens(self, context: ScanContext) -> ChildScreens:
        """Every child's scan as a Screen over the session's universe (step 1)."""
        view = context.session_data
        universe = tuple(view.symbols) if view is not None else ()
        found = {}
        for name in self.leaf_names:
            value = self.children[name].scan(self.child_context(context, name))
            try:
                found[name] = as_screen(value, universe)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"child {name}: {exc}") from None
        return ChildScreens(found)

    def combine(self, value: Any, context: ScanContext) -> tuple[Screen, frozenset[str]]:
        """The composite's screen from its children's, and the symbols its removal rule drops."""
        if not isinstance(value, ChildScreens):
            raise TypeError(f"bad result: expected the children's screens, got {type(value)}")
        screens, now = value.screens, context.current_time
        if isinstance(self.node, Leaf):
            own = screens[self.node.name]
            children = {self.node.name: own.passed}
            screen = attrs.evolve(own, metadata=dict(own.metadata), children=children)
        else:
            combined = self.node.evaluate(screens, now)
            metadata = {
                "expression": self.expression,
                "leaves": list(self.leaf_names),
                "by_scanner": {name: dict(screens[name].metadata) for name in self.leaf_names},
            }
            screen = attrs.evolve(combined, metadata=metadata)
        leaving: frozenset[str] = frozenset()
        if self.remove is not None:
            gone = self.remove.evaluate(screens, now)
            leaving = frozenset(gone.universe[c] for c in np.flatnonzero(gone.passed).tolist())
        return screen, leaving

    def scan(self, context: ScanContext) -> Screen:
        """Both steps in this process: the children's scans, then the expression."""
        return self.combine(self.screens(context), context)[0]


# The manager's two calls


def scan_function(scanner: BaseScanner) -> Callable[[ScanContext], Any]:
    """What a scan turn runs: a composite's children's screens, else the scanner's scan."""
    return scanner.screens if isinstance(scanner, Composite) else scanner.scan


def settle(
    scanner: BaseScanner, outcome: ScanOutcome, context: ScanContext
) -> tuple[ScanOutcome, frozenset[str]]:
    """A finished turn's outcome with a composite's children combined, and who leaves."""
    if not isinstance(scanner, Composite) or outcome.error is not None:
        return outcome, frozenset()
    try:
        screen, leaving = scanner.combine(outcome.value, context)
    except Exception as exc:  # e.g. top(by=) naming no value: that turn fails, named
        return attrs.evolve(outcome, value=None, error=f"{type(exc).__name__}: {exc}"), frozenset()
    return attrs.evolve(outcome, value=screen), leaving


# Building from a session config


def composes(cfg: ScannerConfig) -> bool:
    """Whether a config entry runs through a Composite: a compose or a removal rule."""
    return cfg.compose is not None or cfg.remove_when is not None


def composite_info(cfg: ScannerConfig) -> PluginInfo:
    """The PluginInfo standing for a composite in the manager's bookkeeping."""
    from scanner_core.plugins import PluginInfo

    return PluginInfo(cfg.name, None, None, "ok", value=cfg.compose or cfg.module)


def leaf_configs(
    cfg: ScannerConfig, configs: Sequence[ScannerConfig]
) -> list[tuple[int | None, ScannerConfig]]:
    """The (index, entry) of each scanner a composite entry runs, nested ones walked through.

    A name configured in the same file is that entry (index in ``configs``); any other
    name is an installed scanner with its defaults (index None).
    """
    from scanner_core.config import ScannerConfig

    by_name = {c.name: (i, c) for i, c in enumerate(configs)}
    found: dict[str, tuple[int | None, ScannerConfig]] = {}

    def walk(entry: ScannerConfig, texts: Iterable[str | None]) -> None:
        for text in filter(None, texts):
            for name in parse(text).leaves():
                index, named = by_name.get(name, (None, None))
                if name == entry.name and entry.compose is None:
                    found[name] = (by_name[name][0], entry)
                elif named is not None and named.compose is not None:
                    if name not in found:
                        found[name] = (index, named)
                        walk(named, [named.compose])
                elif name not in found:
                    found[name] = (index, named or ScannerConfig(module=name))

    walk(cfg, [cfg.compose or cfg.name, cfg.remove_when])
    return [(index, entry) for index, entry in found.values() if entry.compose is None]


def running_configs(configs: Sequence[ScannerConfig]) -> list[ScannerConfig]:
    """The entries whose scanners run: the enabled ones, and those their compositions name."""
    running: dict[str, ScannerConfig] = {}
    for cfg in configs:
        if cfg.enabled:
            running.setdefault(cfg.name, cfg)
            if composes(cfg):
                for _, leaf in leaf_configs(cfg, configs):
                    running.setdefault(leaf.name, leaf)
    return list(running.values())


def build_composite(
    cfg: ScannerConfig,
    configs: Sequence[ScannerConfig],
    build: Callable[[int | None, ScannerConfig], BaseScanner],
) -> Composite:
    """The Composite of a config entry; ``build(index, entry)`` makes each leaf scanner."""
    by_name = {c.name: c for c in configs}
    children = {entry.name: build(index, entry) for index, entry in leaf_configs(cfg, configs)}

    def expand(name: str) -> Node | None:
        entry = by_name.get(name)
        if entry is None or entry.compose is None or entry is cfg:
            return None
        return Named(name, substitute(parse(entry.compose), expand))

    node = substitute(parse(cfg.compose), expand) if cfg.compose else Leaf(cfg.name)
    remove = substitute(parse(cfg.remove_when), expand) if cfg.remove_when else None
    composite = Composite(node, children, remove=remove, name=cfg.name)
    return composite


# Python operators


def _operand(scanner: BaseScanner) -> tuple[Node, dict[str, BaseScanner]]:
    if isinstance(scanner, Composite):
        node = scanner.node
        if scanner.name != scanner.expression:
            node = Named(scanner.name, node)
        return node, dict(scanner.children)
    if not isinstance(scanner, BaseScanner):
        raise TypeError(f"cannot compose a scanner with {type(scanner).__name__}")
    name = scanner.name or _class_name(type(scanner))
    return Leaf(name), {name: scanner}


def _class_name(cls: type) -> str:
    """A scanner's name from its class: ``GapScanner`` is ``gap``."""
    name = cls.__name__.lower()
    return name.removesuffix("scanner") or name


def _joined(
    left: dict[str, BaseScanner], right: dict[str, BaseScanner], node: Node
) -> tuple[dict[str, BaseScanner], Node]:
    """Both children tables; a right-hand child whose name is taken by another gets #2, #3..."""
    renamed: dict[str, str] = {}
    for name, scanner in right.items():
        if name in left and left[name] is not scanner:
            number = 2
            while f"{name}#{number}" in left or f"{name}#{number}" in right:
                number += 1
            renamed[name] = f"{name}#{number}"
    children = {**left, **{renamed.get(n, n): s for n, s in right.items()}}
    if renamed:
        node = substitute(node, lambda n: Leaf(renamed[n]) if n in renamed else None)
    return children, node


def combine(op: str, left: BaseScanner, right: BaseScanner) -> Composite:
    """``left OP right`` for the operators &, |, - and >>."""
    a, a_children = _operand(left)
    b, b_children = _operand(right)
    children, b = _joined(a_children, b_children, b)
    return Composite(Binary(op, a, b), children)


def then(first: BaseScanner, second: BaseScanner, within: str | int = "30m") -> Composite:
    """``first.then(second, within=...)``: second finds it within N minutes after first did."""
    a, a_children = _operand(first)
    b, b_children = _operand(second)
    children, b = _joined(a_children, b_children, b)
    minutes = within_minutes(within)
    return Composite(Then(a, b, minutes), children)


def top(scanner: BaseScanner, n: int, by: str | None = None) -> Composite:
    """The ``n`` best symbols of a scanner, by one of its values or by its own ranking."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"top(): n is a whole number >= 1, got {n!r}")
    node, children = _operand(scanner)
    return Composite(Top(node, n, by), children)
