"""attrs validators for scanner settings, failing with the config's "got ..., expected ..." wording.

Use them on a scanner's ``settings_class`` fields::

    rsi_min: float = field(default=70.0, validator=between(0, 100))
    interval: str = field(default="1m", validator=intraday_interval)

A bad value then reads, e.g.,
``session.toml: scanners[0].config.rsi_min: got 101, expected a number from 0 to 100``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from scanner_core.bars import INTERVAL_MINUTES

# Not scanner_core.config: a plugin module importing these must not pull in cattrs.
from scanner_core.config_errors import Invalid, expected_one_of

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

#: Bar intervals shorter than a session, in the order of INTERVAL_MINUTES.
INTRADAY_INTERVALS: tuple[str, ...] = tuple(n for n, minutes in INTERVAL_MINUTES.items() if minutes)


def _number(bound: float) -> str:
    """A bound as written in a message: 1 rather than 1.0."""
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def between(low: float, high: float = math.inf, *, open_low: bool = False) -> Validator:
    """A number in [low, high], or in (low, high] with ``open_low``; NaN never passes."""
    if high == math.inf:
        expected = f"a number {'>' if open_low else '>='} {_number(low)}"
    elif open_low:
        expected = f"a number above {_number(low)} and at most {_number(high)}"
    else:
        expected = f"a number from {_number(low)} to {_number(high)}"

    def validate(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        try:
            ok = (low < value <= high) if open_low else (low <= value <= high)
        except TypeError:
            ok = False
        if not ok:
            raise Invalid(expected, value, attribute.name)

    return validate


def at_least(low: float) -> Validator:
    """A number >= low."""
    return between(low)


def one_of(*choices: Any) -> Validator:
    """A value equal to one of ``choices`` (and of the same type, so True is not 1)."""
    expected = expected_one_of(choices)

    def validate(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if not any(type(value) is type(c) and value == c for c in choices):
            raise Invalid(expected, value, attribute.name)

    return validate


def bar_interval(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """A bar interval, daily included: one of INTERVAL_MINUTES."""
    if value not in INTERVAL_MINUTES:
        raise Invalid(f"a bar interval ({', '.join(INTERVAL_MINUTES)})", value, attribute.name)


def intraday_interval(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """A bar interval shorter than a session: one of INTRADAY_INTERVALS (so not '1d')."""
    if value not in INTRADAY_INTERVALS:
        raise Invalid(
            f"an intraday bar interval ({', '.join(INTRADAY_INTERVALS)})", value, attribute.name
        )
