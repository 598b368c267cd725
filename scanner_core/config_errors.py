"""Config problems: what was wrong where, shown in one short line whatever the value."""

from __future__ import annotations

import enum
import re
import reprlib
from collections.abc import Iterable, Sequence
from typing import Any

from attrs import frozen

#: The most characters of a value (or of a key in a field path) an error line shows.
SHOWN_CHARS = 80
_PATH_CHARS = 160
_EXPECTED_CHARS = 240
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


class Marker(enum.Enum):
    """Stands in for a value a problem cannot show."""

    NONE = ""
    MISSING = "missing"
    UNKNOWN_KEY = "unknown key"
    UNPARSABLE = "cannot parse"
    UNREADABLE = "cannot read"
    TOO_DEEP = "nested too deeply"
    TOO_MANY_ALIASES = "too many YAML aliases"
    TOO_LARGE = "too large once YAML aliases are expanded"
    RECURSIVE = "a YAML alias inside its own anchor"


def _make_repr() -> reprlib.Repr:
    # Bounded at every level, so showing a huge or deeply nested value costs nothing.
    shown = reprlib.Repr()
    shown.maxlevel = 2
    shown.maxdict = shown.maxlist = shown.maxtuple = shown.maxset = 4
    shown.maxstring = shown.maxother = SHOWN_CHARS
    shown.maxlong = 40
    return shown


_REPR = _make_repr()


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` cut to at most `limit` characters, ending in '...' when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value: Any) -> str:
    """A value as an error line shows it: repr-escaped, at most SHOWN_CHARS characters."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int too long to turn into digits
        text = "<a number too long to show>"
    return clip(text)


def expected_one_of(choices: Iterable[Any]) -> str:
    """The "expected ..." wording for a value that must be one of `choices`."""
    return "one of " + ", ".join(map(repr, choices))


def render_path(parts: Iterable[str | int | None]) -> str:
    """A field path like ``scanners[0].schedule.cron``; odd keys are shown escaped."""
    text = ""
    for part in parts:
        if part is None:
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part) and len(part) <= SHOWN_CHARS:
            text = f"{text}.{part}" if text else part
        else:
            text += f"[{shown(part)}]"
    if len(text) <= _PATH_CHARS:
        return text
    # Keep both ends: the head says where in the file, the tail which field failed.
    head = _PATH_CHARS // 3
    return f"{text[:head]}...{text[len(text) - (_PATH_CHARS - head - 3) :]}"


@frozen
class Problem:
    """One thing wrong in a config: file, field path, the value found and what was expected."""

    file: str
    path: str
    value: Any
    expected: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}: " if self.path else f"{self.file}: "
        got = self.value.value if isinstance(self.value, Marker) else f"got {shown(self.value)}"
        expected = clip(self.expected, _EXPECTED_CHARS)
        return f"{where}{got}, expected {expected}" if got else f"{where}expected {expected}"


class ConfigError(Exception):
    """A config that cannot be used; its message has one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(map(str, self.problems)))


class Invalid(ValueError):
    """A value that breaks a rule; `at` names the field below the failing object, if any."""

    def __init__(self, expected: str, value: Any = Marker.NONE, at: str = "") -> None:
        self.expected, self.value, self.at = expected, value, at
        super().__init__(f"{at + ': ' if at else ''}expected {expected}, got {shown(value)}")
