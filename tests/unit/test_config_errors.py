"""Config problems read as one short line, whatever value or key they show."""

from __future__ import annotations

from scanner_core.config_errors import (
    SHOWN_CHARS,
    ConfigError,
    Invalid,
    Marker,
    Problem,
    clip,
    render_path,
    shown,
)


def test_short_values_are_shown_as_their_repr() -> None:
    assert shown("5x") == "'5x'"
    assert shown([1, "a"]) == "[1, 'a']"
    assert shown({"a": 1}) == "{'a': 1}"
    assert shown("a\nb\x1b[0m") == "'a\\nb\\x1b[0m'"


def test_huge_values_are_cut_to_the_shown_width() -> None:
    for value in ("x" * 1_000_000, list(range(100_000)), {str(i): i for i in range(10_000)}):
        text = shown(value)
        assert len(text) <= SHOWN_CHARS
    assert shown("x" * 1000).startswith("'xxx") and "..." in shown("x" * 1000)
    assert shown(list(range(100))) == "[0, 1, 2, 3, ...]"
    assert shown([[[[[1]]]]]) == "[[[...]]]"


def test_a_number_too_long_to_print_is_named_not_printed() -> None:
    assert shown(10**5000) == "<a number too long to show>"


def test_clip_marks_the_cut() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcdef", 5) == "ab..."


def test_paths_escape_odd_keys_and_keep_both_ends_when_long() -> None:
    assert render_path(["scanners", 0, "schedule", "cron"]) == "scanners[0].schedule.cron"
    assert render_path([0, "a"]) == "[0].a"
    assert render_path(["history", "1d"]) == "history.1d"
    assert render_path(["config", "bad key\n"]) == "config['bad key\\n']"
    assert render_path([None, "a", None, 1]) == "a[1]"
    long = render_path([f"level{i}" for i in range(100)])
    assert len(long) <= 160 and long.startswith("level0.level1") and long.endswith("level99")
    assert "..." in long


def test_problem_lines_show_markers_values_and_what_was_expected() -> None:
    assert str(Problem("s.toml", "mode", "paper", "'backtest' or 'live'")) == (
        "s.toml: mode: got 'paper', expected 'backtest' or 'live'"
    )
    assert str(Problem("s.toml", "a.b", Marker.TOO_DEEP, "fewer levels")) == (
        "s.toml: a.b: nested too deeply, expected fewer levels"
    )
    assert str(Problem("s.toml", "", Marker.NONE, "a table")) == "s.toml: expected a table"
    line = str(Problem("s.json", "mode", "x" * 10**6, "y" * 10**4))
    assert len(line) < 400


def test_config_error_has_one_line_per_problem_and_invalid_shows_values_short() -> None:
    error = ConfigError([Problem("f", "a", 1, "b"), Problem("f", "c", 2, "d")])
    assert str(error) == "f: a: got 1, expected b\nf: c: got 2, expected d"
    assert len(str(Invalid("a name", "n" * 10**6, "name"))) < 120
