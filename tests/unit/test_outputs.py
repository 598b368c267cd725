"""Output paths checked before a run starts: one line naming the option and the path."""

from __future__ import annotations

import os

import pytest

from scanner_core.outputs import OutputPathError, check_output_paths


def refusal(paths: dict) -> str:
    with pytest.raises(OutputPathError) as caught:
        check_output_paths(paths)
    return str(caught.value)


def test_writable_paths_and_absent_options_pass(tmp_path, monkeypatch) -> None:
    (tmp_path / "old.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    check_output_paths(
        {"--history": tmp_path / "new.jsonl", "--stats-json": "old.json", "--other": None}
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]


def test_each_unwritable_path_names_the_option_and_the_path(tmp_path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    assert refusal({"--stats-json": tmp_path / "gone/s.json"}) == (
        f"--stats-json {tmp_path}/gone/s.json: folder {tmp_path}/gone does not exist"
    )
    assert refusal({"--history": tmp_path / "folder"}) == (
        f"--history {tmp_path}/folder: is a folder, expected a file path"
    )
    assert refusal({"--history": tmp_path / "file/h.jsonl"}) == (
        f"--history {tmp_path}/file/h.jsonl: {tmp_path}/file is not a folder"
    )


def test_two_options_may_not_name_one_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = refusal({"--history": "out.json", "--stats-json": tmp_path / "out.json"})
    assert line == f"--stats-json {tmp_path}/out.json: the same file as --history"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_or_file_is_refused(tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (tmp_path / "ro.json").write_text("{}")
    (tmp_path / "ro.json").chmod(0o444)
    locked.chmod(0o555)
    try:
        assert refusal({"--history": locked / "h.jsonl"}).endswith(f"{locked} is not writable")
        assert refusal({"--history": tmp_path / "ro.json"}).endswith("ro.json: is not writable")
    finally:
        locked.chmod(0o755)
