"""Reading a stats file: checked fields back, or one line naming the first bad field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from scanner_core.stats import ScanHistory
from scanner_core.stats_file import StatsFileError, read_records

RECORD = {
    "scanner": "gap",
    "time": "2024-03-01T09:30:00-05:00",
    "symbols_found": 0,
    "symbols_added": 0,
    "execution_time_ms": 7,
    "error": "timeout",
    "skipped": False,
}


def stats_file(tmp_path, *records: dict, version: int = 1):
    path = tmp_path / "stats.json"
    path.write_text(json.dumps({"version": version, "stats": {}, "records": list(records)}))
    return path


def test_records_come_back_with_their_times_as_datetimes(tmp_path) -> None:
    (fields,) = read_records(stats_file(tmp_path, RECORD))
    assert fields["time"] == datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
    assert {k: v for k, v in fields.items() if k != "time"} == {
        k: v for k, v in RECORD.items() if k != "time"
    }


def test_what_to_json_writes_is_read_back(tmp_path) -> None:
    history = ScanHistory()
    history.record("a", datetime(2024, 3, 1, 14, 30, tzinfo=UTC), symbols_found=2**53)
    history.record("b", datetime(2024, 3, 1, 14, 35, tzinfo=UTC), skipped=True, error="x")
    history.to_json(tmp_path / "s.json")
    assert ScanHistory.load(tmp_path / "s.json") == history


@pytest.mark.parametrize(
    ("field", "value", "line"),
    [
        ("symbols_found", 2**53 + 1, "got 9007199254740993, expected a whole number from 0"),
        ("execution_time_ms", -0.5, "got -0.5, expected a number of milliseconds from 0"),
        ("execution_time_ms", False, "got False, expected a number of milliseconds"),
        ("scanner", "", "got '', expected a scanner name"),
    ],
)
def test_the_first_bad_field_is_named_with_its_record(tmp_path, field, value, line) -> None:
    path = stats_file(tmp_path, RECORD, RECORD, {**RECORD, field: value}, {**RECORD, "x": 1})
    with pytest.raises(StatsFileError) as caught:
        read_records(path)
    assert str(caught.value).startswith(f"{path}: records[2].{field}: {line}")


def test_a_file_of_another_version_is_refused(tmp_path) -> None:
    path = stats_file(tmp_path, RECORD, version=2)
    with pytest.raises(StatsFileError, match=r"version: got 2, expected 1, the stats format"):
        read_records(path)
