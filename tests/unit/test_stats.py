"""Scan history: stats per scanner, JSON round trip, bad files, and the `scanner stats` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner

from scanner_core.cli import main
from scanner_core.stats import ScanHistory, StatsFileError

OPEN = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


@pytest.fixture
def history() -> ScanHistory:
    """Gap: four scans (one timeout); volume: two scans (one error, one skipped)."""
    history = ScanHistory()
    for minute, ms in enumerate([10.0, 20.0, 30.0]):
        history.record(
            "gap",
            OPEN + timedelta(minutes=minute),
            symbols_found=3,
            symbols_added=1,
            execution_time_ms=ms,
        )
    history.record("gap", OPEN + timedelta(minutes=5), execution_time_ms=1004.0, error="timeout")
    history.record("volume", OPEN, execution_time_ms=5.0, error="ValueError: no bars")
    history.record("volume", OPEN + timedelta(minutes=5), skipped=True)
    return history


def test_stats_totals_and_per_scanner(history):
    stats = history.get_scanner_stats()
    assert stats["total_scans"] == 6
    assert stats["total_symbols_found"] == 9 and stats["total_symbols_added"] == 3
    assert stats["errors"] == 2 and stats["timeouts"] == 1 and stats["skipped"] == 1
    # The skipped scan did not run, so it has no execution time to average.
    assert stats["avg_execution_time"] == pytest.approx((10 + 20 + 30 + 1004 + 5) / 5)
    gap = stats["by_scanner"]["gap"]
    assert gap["scans"] == 4 and gap["timeouts"] == 1 and gap["last_error"] == "timeout"
    assert gap["p95_execution_time"] == pytest.approx(np.percentile([10, 20, 30, 1004], 95))
    assert gap["max_execution_time"] == 1004.0
    volume = stats["by_scanner"]["volume"]
    assert volume["scans"] == 2 and volume["skipped"] == 1 and volume["errors"] == 1
    assert volume["avg_execution_time"] == 5.0


def test_empty_history_has_zero_stats():
    stats = ScanHistory().get_scanner_stats()
    assert stats["total_scans"] == 0 and stats["avg_execution_time"] == 0.0
    assert stats["by_scanner"] == {}


def test_json_round_trip_keeps_every_record(history, tmp_path):
    path = tmp_path / "stats.json"
    history.to_json(path)
    loaded = ScanHistory.load(path)
    assert loaded == history
    assert loaded.records[0].time.tzinfo is not None
    assert json.loads(path.read_text())["stats"] == history.get_scanner_stats()


def test_bad_file_names_the_file_record_and_field(history, tmp_path):
    path = tmp_path / "stats.json"
    history.to_json(path)
    document = json.loads(path.read_text())
    document["records"][2]["symbols_found"] = "many"
    path.write_text(json.dumps(document))
    with pytest.raises(StatsFileError, match=r"stats\.json: records\[2\]\.symbols_found: got"):
        ScanHistory.load(path)
    path.write_text("{not json")
    with pytest.raises(StatsFileError, match="cannot parse, expected JSON"):
        ScanHistory.load(path)


def test_stats_command_prints_a_table(history, tmp_path):
    path = tmp_path / "stats.json"
    history.to_json(path)
    result = CliRunner().invoke(main, ["stats", str(path)], terminal_width=100)
    assert result.exit_code == 0, result.output
    # Table rows: scanner, scans, avg ms, p95 ms, found, added, errors, timeouts, skipped.
    lines = map(str.split, result.output.splitlines())
    rows = {cells[0]: cells[1:] for cells in lines if len(cells) == 9}
    assert rows["gap"][:1] + rows["gap"][3:] == ["4", "9", "3", "1", "1", "0"]
    assert rows["volume"][:1] + rows["volume"][3:] == ["2", "0", "0", "1", "0", "1"]
    assert rows["all"][0] == "6"
    assert "gap last error: timeout" in result.output


def test_stats_command_json_and_bad_file(history, tmp_path):
    path = tmp_path / "stats.json"
    history.to_json(path)
    result = CliRunner().invoke(main, ["stats", "--json", str(path)])
    assert json.loads(result.output)["by_scanner"]["gap"]["scans"] == 4
    missing = CliRunner().invoke(main, ["stats", str(tmp_path / "none.json")])
    assert missing.exit_code == 1
    assert "none.json: cannot read, expected a readable stats file" in missing.output


def test_stats_command_prints_brackets_in_names_and_errors_as_written(tmp_path):
    history = ScanHistory()
    history.record("mom[/v2]", OPEN, error="ValueError: no bars in [/data/store]")
    history.record("[bold]gap", OPEN)
    path = tmp_path / "stats[red].json"
    history.to_json(path)
    result = CliRunner().invoke(main, ["stats", str(path)], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "mom[/v2] last error: ValueError: no bars in [/data/store]" in result.output
    assert "[bold]gap" in result.output
    assert "stats[red].json" in result.output
