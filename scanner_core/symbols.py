"""Ticker symbols: the one pattern a symbol must match, wherever it comes from."""

from __future__ import annotations

import re

#: 1-32 characters of A-Z, 0-9 and . - _ ^ = (no "/", whitespace or control characters,
#: so a symbol can always be a file name and can never break a log line).
SYMBOL_PATTERN = r"[A-Z0-9.\-_^=]{1,32}"
#: What a bad symbol is told it should have been.
SYMBOL_RULE = "1-32 characters of A-Z, 0-9, '.', '-', '_', '^', '='"

_SYMBOL = re.compile(SYMBOL_PATTERN)


def valid_symbol(text: str) -> bool:
    """True when the text is ASCII and, upper-cased, matches `SYMBOL_PATTERN`."""
    return isinstance(text, str) and text.isascii() and _SYMBOL.fullmatch(text.upper()) is not None


def check_symbol(text: str) -> str:
    """The symbol upper-cased; a ValueError naming it (escaped) when it is not valid."""
    if not valid_symbol(text):
        raise ValueError(f"bad symbol {text!r}: expected {SYMBOL_RULE}")
    return text.upper()
