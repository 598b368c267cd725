"""Files written whole: the new text or the old file, never a part, and no temp file left."""

from __future__ import annotations

import pytest

from scanner_core import atomic


def test_writes_then_replaces(tmp_path):
    path = tmp_path / "stats.json"
    atomic.write_text(path, "first\n")
    atomic.write_text(path, "second\n")
    assert path.read_text() == "second\n"
    assert [p.name for p in tmp_path.iterdir()] == ["stats.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text("kept\n")
    with pytest.raises(TypeError):
        atomic.write_text(path, b"not text")  # type: ignore[arg-type]
    assert path.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["history.jsonl"]
