"""Reading config files: TOML, YAML or JSON by suffix, within limits on nesting and YAML aliases.

Every failure is a ConfigError naming the file and, where known, the field path or line.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from scanner_core.config_errors import ConfigError, Marker, Problem, clip, render_path

#: The most levels of tables and lists a config may nest, the top-level table included.
MAX_DEPTH = 32
#: The most alias uses a YAML config may hold.
MAX_ALIASES = 1000
#: The most values a YAML config may hold once its aliases are expanded.
MAX_VALUES = 100_000

SUFFIXES = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}
_TOO_DEEP = f"at most {MAX_DEPTH} levels of nested tables and lists"
_REASON_CHARS = 120


class _Refused(Exception):
    """A limit hit while reading: where (a field path or 'line N, column M'), and which."""

    def __init__(self, where: str, marker: Marker, expected: str) -> None:
        super().__init__(where)
        self.where, self.marker, self.expected = where, marker, expected


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML without YAML 1.1 base-60 ints, refusing deep nesting and alias bombs."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int | None] = []
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, counting aliases and refusing nesting past MAX_DEPTH."""
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                where = _mark(self.peek_event().start_mark)
                raise _Refused(where, Marker.TOO_MANY_ALIASES, f"at most {MAX_ALIASES} aliases")
            return super().compose_node(parent, index)
        nests = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        self._path.append(_key(index) if parent is not None else None)
        self._depth += nests
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(render_path(self._path), Marker.TOO_DEEP, _TOO_DEEP)
            return super().compose_node(parent, index)
        finally:
            self._depth -= nests
            self._path.pop()

    def get_single_node(self) -> Any:
        """The document's node, once its aliases are known to expand to a bounded tree."""
        node = super().get_single_node()
        if node is not None:
            _measure(node, 1, [], {}, set())
        return node


def _key(index: Any) -> str | int | None:
    if isinstance(index, int):
        return index
    return index.value if isinstance(index, yaml.ScalarNode) else None


def _measure(
    node: yaml.Node,
    depth: int,
    path: list[str | int | None],
    memo: dict[int, tuple[int, int]],
    active: set[int],
) -> tuple[int, int]:
    """(values, levels) of a node with aliases expanded; refuse cycles, depth and size."""
    if not isinstance(node, yaml.SequenceNode | yaml.MappingNode):
        return 1, 0
    if depth > MAX_DEPTH:
        raise _Refused(render_path(path), Marker.TOO_DEEP, _TOO_DEEP)
    if id(node) in memo:
        values, levels = memo[id(node)]
        if depth - 1 + levels > MAX_DEPTH:
            raise _Refused(render_path(path), Marker.TOO_DEEP, _TOO_DEEP)
        return values, levels
    if id(node) in active:
        raise _Refused(render_path(path), Marker.RECURSIVE, "aliases of finished anchors only")
    active.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        children = list(enumerate(node.value))
    else:
        children = [(None, key) for key, _ in node.value]
        children += [(_key(key), value) for key, value in node.value]
    values, levels = 1, 1
    for part, child in children:
        path.append(part)
        sub_values, sub_levels = _measure(child, depth + 1, path, memo, active)
        path.pop()
        values, levels = values + sub_values, max(levels, sub_levels + 1)
        if values > MAX_VALUES:
            where = render_path(path) or _mark(node.start_mark)
            raise _Refused(where, Marker.TOO_LARGE, f"at most {MAX_VALUES} values")
    active.discard(id(node))
    memo[id(node)] = values, levels
    return values, levels


_INT_TAG = "tag:yaml.org,2002:int"
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _INT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    _INT_TAG,
    re.compile(r"^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*)$"),
    list("-+0123456789"),
)


def _mark(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def read_config_file(path: Path) -> Any:
    """Parse a config file by its suffix, turning every failure into a ConfigError."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        suffix = path.suffix or "no suffix"
        raise ConfigError([Problem(str(path), "", suffix, "a .toml, .yaml, .yml or .json file")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            [Problem(str(path), "", Marker.UNREADABLE, f"a readable {kind} file ({reason})")]
        ) from None
    try:
        return _parse(text, kind)
    except _Refused as refused:
        raise ConfigError(
            [Problem(str(path), refused.where, refused.marker, refused.expected)]
        ) from None
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError, ValueError) as exc:
        # ValueError: an integer of more digits than Python converts, a date like 2019-02-30.
        where, reason = _parse_error(exc)
        expected = f"valid {kind} ({clip(reason, _REASON_CHARS)})"
        raise ConfigError([Problem(str(path), where, Marker.UNPARSABLE, expected)]) from None


def _parse(text: str, kind: str) -> Any:
    if kind == "YAML":
        return yaml.load(text, Loader=_YamlLoader)
    # The parsers recurse per level, and where they give up (if at all) differs between
    # Python versions, so text nested far past the limit is refused from its brackets.
    where = _deep_position(text, kind, _PARSER_DEPTH)
    if where:
        raise _Refused(where, Marker.TOO_DEEP, _TOO_DEEP)
    try:
        data = tomllib.loads(text) if kind == "TOML" else json.loads(text)
    except RecursionError:
        raise _Refused(_deep_position(text, kind, MAX_DEPTH), Marker.TOO_DEEP, _TOO_DEEP) from None
    _check_depth(data)
    return data


def _check_depth(data: Any) -> None:
    """Refuse parsed data nesting more than MAX_DEPTH tables and lists, naming the path."""
    stack: list[tuple[Any, int, list[str | int]]] = [(data, 1, [])]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, Mapping):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if depth > MAX_DEPTH:
            raise _Refused(render_path(path), Marker.TOO_DEEP, _TOO_DEEP)
        stack.extend((child, depth + 1, [*path, key]) for key, child in items)


# Strings and comments hold brackets that do not nest; everything else that matters is one.
_TOKENS = {
    "TOML": re.compile(
        r'"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}]',
        re.S,
    ),
    "JSON": re.compile(r'"(?:\\.|[^"\\])*"|[\[\]{}]', re.S),
}


# Brackets nested this deep are refused unparsed; shallower excess is named by its path.
_PARSER_DEPTH = 200


def _deep_position(text: str, kind: str, past: int) -> str:
    """'line N, column M' of the bracket opening level MAX_DEPTH + 1, if any reaches `past`."""
    depth = 1 if kind == "TOML" else 0  # a TOML document is itself the top-level table
    first = -1
    for token in _TOKENS[kind].finditer(text):
        bracket = token[0]
        if bracket in "[{":
            depth += 1
            if depth == MAX_DEPTH + 1 and first < 0:
                first = token.start()
            if depth > past:
                line = text.count("\n", 0, first) + 1
                return f"line {line}, column {first - text.rfind(chr(10), 0, first)}"
        elif bracket in "]}":
            depth -= 1
    return ""


def _parse_error(exc: Exception) -> tuple[str, str]:
    """The 'line N, column M' and the reason of a parser error."""
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}", exc.msg
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return _mark(mark), getattr(exc, "problem", "") or ""
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", str(exc))
    if match:
        return f"line {match[2]}, column {match[3]}", match[1]
    if "integer string conversion" in str(exc):
        return "", "a number of more digits than Python reads"
    return "", str(exc)
