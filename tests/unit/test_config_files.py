"""Reading config files within limits: nesting depth, YAML aliases, parser failures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scanner_core.config_errors import ConfigError
from scanner_core.config_files import MAX_ALIASES, MAX_DEPTH, MAX_VALUES, read_config_file


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    (line,) = str(caught.value).splitlines()
    return line


def json_levels(levels: int) -> str:
    """A JSON document of `levels` nested objects, the top-level one included."""
    return '{"a": ' * (levels - 1) + "{}" + "}" * (levels - 1)


def yaml_levels(levels: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(levels - 1)) + "  " * (levels - 1) + "b: 1\n"


def toml_levels(levels: int) -> str:
    return "a = " + "[" * (levels - 1) + "]" * (levels - 1) + "\n"


@pytest.mark.parametrize(
    ("suffix", "document"),
    [(".json", json_levels), (".yaml", yaml_levels), (".toml", toml_levels)],
)
def test_the_depth_limit_counts_the_top_level_table(tmp_path, suffix, document) -> None:
    assert read_config_file(write(tmp_path, "ok" + suffix, document(MAX_DEPTH)))
    line = refusal(write(tmp_path, "deep" + suffix, document(MAX_DEPTH + 1)))
    assert "nested too deeply, expected at most 32 levels of nested tables and lists" in line


def test_the_depth_error_names_the_path_below_the_last_level_allowed(tmp_path) -> None:
    data = {"scanners": [{"module": "gap", "config": json.loads(json_levels(MAX_DEPTH - 2))}]}
    path = write(tmp_path, "deep.json", json.dumps(data))
    line = refusal(path)
    # config is the fourth level (top, scanners, scanners[0], config): 29 more are too many
    assert line.startswith(f"{path}: scanners[0].config." + ".".join(["a"] * 29) + ": nested")


def test_past_the_parsers_own_limit_the_line_and_column_are_named(tmp_path) -> None:
    toml = write(tmp_path, "deep.toml", 'x = "[[[{{{"  # [[[\n' + toml_levels(50_000))
    assert refusal(toml).startswith(f"{toml}: line 2, column 36: nested too deeply")
    text = '{"k": "[[[[ \\" [[[", "a": ' + "[" * 50_000 + "]" * 50_000 + "}"
    js = write(tmp_path, "deep.json", text)
    # the top-level object is the first level, so the 32nd bracket opens the 33rd
    assert refusal(js).startswith(f"{js}: line 1, column {text.index('[[[[[') + 32}: nested")


def test_yaml_aliases_within_the_limits_read_as_shared_values(tmp_path) -> None:
    text = "base: &base {interval: 15m}\nscanners:\n" + "".join(
        f"  - {{module: m{i}, schedule: *base}}\n" for i in range(50)
    )
    data = read_config_file(write(tmp_path, "ok.yaml", text))
    assert {s["schedule"]["interval"] for s in data["scanners"]} == {"15m"}


def test_yaml_alias_count_is_limited(tmp_path) -> None:
    def aliases(count: int) -> str:
        return "s: &s 1\nl: [" + ", ".join(["*s"] * count) + "]\n"

    assert len(read_config_file(write(tmp_path, "ok.yaml", aliases(MAX_ALIASES)))["l"]) == 1000
    path = write(tmp_path, "many.yaml", aliases(MAX_ALIASES + 1))
    assert refusal(path).startswith(f"{path}: line 2, column ")
    assert "too many YAML aliases, expected at most 1000 aliases" in refusal(path)


def test_yaml_expanded_size_is_limited(tmp_path) -> None:
    # 10 anchors of 10 aliases each expand to far more values than the file holds.
    lines = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 10)]
    path = write(tmp_path, "bomb.yaml", "\n".join(lines))
    line = refusal(path)
    assert f"too large once YAML aliases are expanded, expected at most {MAX_VALUES} values" in line
    assert len(line) < len(str(path)) + 200


def test_yaml_alias_inside_its_own_anchor_is_refused(tmp_path) -> None:
    path = write(tmp_path, "loop.yaml", "scanners: &s\n  - module: gap\n  - *s\n")
    assert refusal(path) == (
        f"{path}: scanners[1]: a YAML alias inside its own anchor, "
        "expected aliases of finished anchors only"
    )


def test_yaml_keeps_clock_times_as_strings_and_refuses_unsafe_tags(tmp_path) -> None:
    assert read_config_file(write(tmp_path, "t.yaml", "t: 15:55\nn: 0x10\n")) == {
        "t": "15:55",
        "n": 16,
    }
    path = write(tmp_path, "tag.yaml", "x: !!python/object/apply:os.system ['true']\n")
    assert "cannot parse, expected valid YAML" in refusal(path)


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("big.toml", "n = " + "9" * 5000 + "\n", "a number of more digits than Python reads"),
        ("big.json", '{"n": ' + "9" * 5000 + "}", "a number of more digits than Python reads"),
        ("date.yaml", "d: 2019-02-30\n", "day is out of range for month"),
    ],
)
def test_values_a_parser_cannot_convert_are_one_line(tmp_path, name, text, reason) -> None:
    path = write(tmp_path, name, text)
    assert refusal(path).startswith(f"{path}: cannot parse, expected valid ")
    assert reason in refusal(path)


def test_documented_limit_lines_are_what_check_and_stats_print(tmp_path, monkeypatch) -> None:
    from scanner_core.config import load_config
    from scanner_core.outputs import OutputPathError, check_output_paths
    from scanner_core.stats_file import StatsFileError, read_records

    text = (Path(__file__).resolve().parents[2] / "docs/configuration.md").read_text()
    limits, outputs, stats = (
        block.splitlines() for block in re.findall(r"```text\n(.*?)```", text, re.S)[1:4]
    )
    monkeypatch.chdir(tmp_path)
    laughs = ["a0: &a0 lol"] + [
        f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 100) + "]" for n in (1, 2, 3)
    ]
    files = [
        ("bomb.yaml", "\n".join(laughs)),
        ("deep.json", "[" * 5000 + "]" * 5000),
        ("session.toml", '[[scanners]]\nmodule = "gap"\nschedule = { cron = "0 0 30 2 *" }\n'),
        ("session.toml", 'streams = ["1m", "7m"]\n'),
        ("session.toml", 'symbols = ["AA\\nPL"]\n'),
    ]
    printed = []
    for name, contents in files:
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, name, contents).name)
        printed.append(str(caught.value))
    assert printed == limits
    with pytest.raises(OutputPathError) as caught:
        check_output_paths({"--stats-json": "out/stats.json"})
    assert [str(caught.value)] == outputs
    good = {"scanner": "gap", "time": "2024-03-01T14:30:00+00:00", "symbols_found": 1}
    good |= {"symbols_added": 0, "execution_time_ms": 1.0, "error": None, "skipped": False}
    records = [good, good, {**good, "symbols_found": "many"}]
    write(tmp_path, "stats.json", json.dumps({"version": 1, "records": records}))
    with pytest.raises(StatsFileError) as caught:
        read_records("stats.json")
    assert [f"Error: {caught.value}"] == stats
