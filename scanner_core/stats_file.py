"""Reading a stats file written by `scanner run --stats-json`, every field checked.

Whatever the file holds (not JSON, the wrong shape, a bad record, binary, nothing), the
result is the records' fields or one StatsFileError naming the file and the first bad field.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner_core.config_errors import Marker, Problem, render_path

FORMAT_VERSION = 1
_DOCUMENT_KEYS = ("version", "stats", "records", "session")
# Counts beyond 2**53 are no real scan's, and would lose digits as floats in the stats.
_MOST = 2**53


class StatsFileError(ValueError):
    """A stats file that cannot be read, naming the file and what was wrong."""


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= _MOST


def _is_millis(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and 0 <= value <= _MOST


def _is_time(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


# Each record field: (check, what was expected); every field is written, so each is required.
_FIELDS = {
    "scanner": (lambda v: isinstance(v, str) and v != "", "a scanner name"),
    "time": (_is_time, "a date and time with its offset, like '2024-03-01T14:30:00+00:00'"),
    "symbols_found": (_is_count, f"a whole number from 0 to {_MOST}"),
    "symbols_added": (_is_count, f"a whole number from 0 to {_MOST}"),
    "execution_time_ms": (_is_millis, f"a number of milliseconds from 0 to {_MOST}"),
    "error": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "skipped": (lambda v: type(v) is bool, "true or false"),
}


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a stats file as checked fields (``time`` a datetime), in file order."""
    document = _document(str(path))
    _check_document(str(path), document)
    records = []
    for index, record in enumerate(document["records"]):
        _check_record(str(path), index, record)
        records.append({**record, "time": datetime.fromisoformat(record["time"])})
    return records


def _fail(file: str, path: list[str | int], value: Any, expected: str) -> StatsFileError:
    return StatsFileError(str(Problem(file, render_path(path), value, expected)))


def _document(file: str) -> Any:
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _fail(file, [], Marker.UNREADABLE, f"a readable stats file ({reason})") from None
    if not data.strip():
        raise _fail(file, [], Marker.MISSING, "a JSON stats document, not an empty file") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        expected = f"UTF-8 JSON text (byte {exc.start} is not)"
        raise _fail(file, [], Marker.UNPARSABLE, expected) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise StatsFileError(f"{file}: {where}: cannot parse, expected JSON ({exc.msg})") from None
    except RecursionError:
        raise _fail(file, [], Marker.TOO_DEEP, "a stats document (3 levels deep)") from None
    except ValueError:  # an integer of more digits than Python converts
        raise _fail(file, [], Marker.UNPARSABLE, "JSON numbers of at most 4300 digits") from None


def _check_document(file: str, document: Any) -> None:
    if not isinstance(document, dict):
        raise _fail(file, [], document, "a JSON object with 'version' and 'records'")
    for key in document:
        if key not in _DOCUMENT_KEYS:
            raise _fail(file, [key], Marker.UNKNOWN_KEY, "one of " + ", ".join(_DOCUMENT_KEYS))
    version = document.get("version", Marker.MISSING)
    if type(version) is not int or version != FORMAT_VERSION:
        raise _fail(file, ["version"], version, f"{FORMAT_VERSION}, the stats format this reads")
    records = document.get("records", Marker.MISSING)
    if not isinstance(records, list):
        raise _fail(file, ["records"], records, "a list of scan records")


def _check_record(file: str, index: int, record: Any) -> None:
    at: list[str | int] = ["records", index]
    if not isinstance(record, dict):
        raise _fail(file, at, record, "a scan record (a JSON object)")
    for key in record:
        if key not in _FIELDS:
            raise _fail(file, [*at, key], Marker.UNKNOWN_KEY, "one of " + ", ".join(_FIELDS))
    for name, (check, expected) in _FIELDS.items():
        if name not in record:
            raise _fail(file, [*at, name], Marker.MISSING, expected)
        if not check(record[name]):
            raise _fail(file, [*at, name], record[name], expected)
