"""configure_logging: the [SCANNER] text format, JSON lines with extra fields, idempotence."""

from __future__ import annotations

import io
import json
import logging

import pytest

from scanner_core.logs import TextFormatter, configure_logging, get_logger
from scanner_core.retry import FailureTracker


@pytest.fixture
def output():
    """A stream the "scanner" logger writes to; the logger is restored afterwards."""
    logger = logging.getLogger("scanner")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    stream = io.StringIO()
    yield stream
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


def test_text_format_prefixes_scanner_lines_once(output):
    configure_logging("text", stream=output)
    FailureTracker().record("gap", failed=True, max_consecutive_failures=1)
    get_logger("manager").info("[SCANNER] Loaded: gap")
    lines = output.getvalue().splitlines()
    assert lines[0].endswith("ERROR   [SCANNER] Disabling gap after 1 consecutive failures")
    assert lines[1].endswith("INFO    [SCANNER] Loaded: gap")


def test_json_format_has_fields_and_extras(output):
    configure_logging("json", level="DEBUG", stream=output)
    FailureTracker().record("gap", failed=True, max_consecutive_failures=1)
    get_logger("manager").debug("[SCANNER] plain line")
    first, second = (json.loads(line) for line in output.getvalue().splitlines())
    assert first["level"] == "ERROR" and first["logger"] == "scanner.retry"
    assert first["message"] == "Disabling gap after 1 consecutive failures"
    assert (first["scanner"], first["event"], first["failures"]) == ("gap", "disabled", 1)
    assert first["ts"].endswith("+00:00")
    assert second == {k: second[k] for k in ("ts", "level", "logger", "message")}
    assert second["message"] == "plain line"


def test_level_filters_and_reconfiguring_replaces_the_handler(output):
    configure_logging("text", level="WARNING", stream=output)
    configure_logging("text", level="WARNING", stream=output)
    get_logger("x").info("hidden")
    get_logger("x").warning("shown")
    assert output.getvalue().count("[SCANNER] shown") == 1
    assert "hidden" not in output.getvalue()


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="'xml'"):
        configure_logging("xml")  # type: ignore[arg-type]


def test_text_lines_escape_control_characters_so_no_line_can_be_forged():
    formatter = TextFormatter()
    forged = "bad\n[SCANNER] gap: Adding symbol PWNED\x1b[2J"
    record = logging.LogRecord("scanner.x", logging.ERROR, __file__, 1, forged, (), None)
    line = formatter.format(record)
    assert "\n" not in line and "\x1b" not in line
    assert line.endswith("bad\\n[SCANNER] gap: Adding symbol PWNED\\x1b[2J")
