"""Structured `[SCANNER]` logging for the "scanner" logger hierarchy, as text or JSON lines.

Modules log through `get_logger("manager")` (the logger "scanner.manager") and write
messages without the prefix; the text format adds `[SCANNER]`. Structured fields go in
`extra`, e.g. `log.error("Disabling gap ...", extra={"scanner": "gap", "event": "disabled"})`:
the JSON format emits them as keys, the text format ignores them.

While a session runs, every line also carries its clock's exchange time beside the wall
time (`market_clock`): in text after the wall time (`[market 2019-02-12T10:00:00-05:00]`),
in JSON as `market_ts`. A backtest's log so reads against the market.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Literal

ROOT = "scanner"
PREFIX = "[SCANNER]"

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def get_logger(name: str) -> logging.Logger:
    """The logger `scanner.<name>` inside the hierarchy configure_logging() sets up."""
    return logging.getLogger(f"{ROOT}.{name}")


#: The running session's clock in exchange time, None outside a session.
_market_now: Callable[[], datetime | None] | None = None


@contextmanager
def market_clock(now: Callable[[], datetime | None]) -> Iterator[None]:
    """Stamp every log line with `now()` (the session clock) for the body of the block."""
    global _market_now
    previous, _market_now = _market_now, now
    try:
        yield
    finally:
        _market_now = previous


def market_time() -> str | None:
    """The session clock as ISO text, or None outside a session or before it is set."""
    if _market_now is None:
        return None
    try:
        now = _market_now()
    except RuntimeError:  # the clock is not set yet
        return None
    return None if now is None else now.isoformat()


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """Text with each control character (newline, escape...) written as its escape."""
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text)


class TextFormatter(logging.Formatter):
    """`2024-03-01 09:35:00,123 INFO    [SCANNER] gap: Found 3 symbols (12ms)`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        # A plugin's text (an error message, a symbol) may hold a newline or a terminal
        # escape: shown escaped, it can never forge a log line of its own.
        record.message = escape_controls(record.message)
        # Messages that carry a prefix already ([SCANNER], [SESSION]) keep their own.
        if not record.message.startswith("["):
            record.message = f"{PREFIX} {record.message}"
        line = super().formatMessage(record)
        market = market_time()
        if market is not None:
            wall, _, rest = line.partition(" " + record.levelname)
            line = f"{wall} [market {market}] {record.levelname}{rest}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, then every `extra` field."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a single JSON line."""
        message = record.getMessage().removeprefix(PREFIX).lstrip()
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        market = market_time()
        if market is not None:
            line["market_ts"] = market
        line.update(
            (key, value) for key, value in record.__dict__.items() if key not in _STANDARD_ATTRS
        )
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(
    format: Literal["text", "json"] = "text",
    level: int | str = logging.INFO,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send the "scanner" hierarchy to `stream` (stderr) in the given format; idempotent."""
    if format not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', got {format!r}")
    logger = logging.getLogger(ROOT)
    for old in [h for h in logger.handlers if getattr(h, "_scanner_handler", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    handler._scanner_handler = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    # Our handler is the output; passing records on to root would print them twice.
    logger.propagate = False
    return handler
