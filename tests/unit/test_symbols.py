"""Symbols: the one pattern, and the check that names a bad symbol escaped."""

from __future__ import annotations

import pytest

from scanner_core.symbols import check_symbol, valid_symbol


@pytest.mark.parametrize("text", ["AAPL", "brk.b", "BF-B", "^GSPC", "ES=F", "X_1", "A" * 32])
def test_valid_symbols(text):
    assert valid_symbol(text)
    assert check_symbol(text) == text.upper()


@pytest.mark.parametrize(
    "text", ["", "A" * 33, "A/B", "A B", "A\nB", "\x1b[31mA", "A\tB", "ÄPPLE", "\ufb01X", "A\x00"]
)
def test_invalid_symbols_are_named_escaped(text):
    assert not valid_symbol(text)
    with pytest.raises(ValueError) as info:
        check_symbol(text)
    message = str(info.value)
    assert message.startswith(f"bad symbol {text!r}: expected 1-32 characters")
    assert "\n" not in message and "\x1b" not in message
