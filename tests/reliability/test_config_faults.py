"""Fault corpus, config group: bad session configs, output paths and stats files.

Every case is one clear line on stderr and exit 1, naming the file (or option) and the
field path or line, never a traceback and never a huge value; nothing stored is lost.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_core.cli import main

# An error line may be long by its file path; everything else it says is bounded.
MOST_CHARS = 400

GOOD_RECORD = {
    "scanner": "gap",
    "time": "2024-03-01T14:30:00+00:00",
    "symbols_found": 3,
    "symbols_added": 1,
    "execution_time_ms": 12.5,
    "error": None,
    "skipped": False,
}


def nested_json(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def nested_yaml(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "x: 1\n"


def laughs(levels: int, width: int) -> str:
    """The billion-laughs document: each anchor a list of `width` aliases of the one before."""
    lines = ["a0: &a0 lol"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def chained_anchors(links: int, depth: int) -> str:
    """Anchors each nesting the one before `depth` levels down: small, but deep once expanded."""
    lines = ["x0: &x0 1"]
    for link in range(1, links + 1):
        lines.append(f"x{link}: &x{link} " + "[" * depth + f"*x{link - 1}" + "]" * depth)
    return "\n".join(lines) + "\n"


def cron_toml(cron: str, extra: str = "") -> str:
    return (
        'start_date = 2024-01-02\nend_date = 2024-01-31\n[[scanners]]\nmodule = "gap"\n'
        f"schedule = {{ cron = {json.dumps(cron)}{extra} }}\n"
    )


def record(**fields) -> str:
    return json.dumps({"version": 1, "records": [{**GOOD_RECORD, **fields}]})


# (id, file name, contents, field path or line named, what the line says)
CHECK_CASES = [
    # Nesting: parsed and walked, or past what the parsers recurse through.
    ("json-depth-33", "deep.json", nested_json(33), "a.a.a", "nested too deeply"),
    (
        "json-depth-100",
        "deep.json",
        nested_json(100),
        ".".join(["a"] * 32) + ":",
        "nested too deeply",
    ),
    ("json-depth-5000", "deep.json", nested_json(5000), "line 1, column 193", "nested too deeply"),
    (
        "json-arrays-100000",
        "deep.json",
        "[" * 100_000 + "]" * 100_000,
        "line 1, column 33",
        "nested too deeply",
    ),
    ("toml-arrays-40", "deep.toml", "a = " + "[" * 40 + "]" * 40, "a[0][0]", "nested too deeply"),
    (
        "toml-arrays-3000",
        "deep.toml",
        "a = " + "[" * 3000 + "]" * 3000,
        "line 1, column 36",
        "nested too deeply",
    ),
    (
        "toml-inline-tables-60",
        "deep.toml",
        "a = " + "{b = " * 60 + "1" + "}" * 60,
        "a.b.b",
        "nested too deeply",
    ),
    (
        "toml-dotted-header-40",
        "deep.toml",
        "[" + ".".join(["k"] * 40) + "]\n",
        "k.k.k",
        "nested too deeply",
    ),
    (
        "toml-string-brackets-then-deep",
        "deep.toml",
        'x = "[[[[" # {{{{\na = ' + "[" * 2000 + "]" * 2000,
        "line 2, column 36",
        "nested too deeply",
    ),
    ("yaml-block-40", "deep.yaml", nested_yaml(40), "k0.k1.k2", "nested too deeply"),
    (
        "yaml-flow-5000",
        "deep.yaml",
        "a: " + "[" * 5000 + "]" * 5000,
        "a[0][0]",
        "nested too deeply",
    ),
    # YAML aliases: a small file that expands to a huge or endless one.
    ("yaml-billion-laughs", "bomb.yaml", laughs(9, 9), "a", "too large once YAML aliases"),
    ("yaml-wide-laughs", "bomb.yaml", laughs(3, 100), "a3", "too large once YAML aliases"),
    (
        "yaml-many-aliases",
        "bomb.yaml",
        "s: &s 1\nl: [" + ", ".join(["*s"] * 1001) + "]\n",
        "line 2",
        "too many YAML aliases",
    ),
    ("yaml-recursive-list", "loop.yaml", "a: &a [1, *a]\n", "a[1]", "alias inside its own anchor"),
    ("yaml-recursive-map", "loop.yaml", "a: &a {b: *a}\n", "a.b", "alias inside its own anchor"),
    ("yaml-deep-through-aliases", "chain.yaml", chained_anchors(5, 10), "x4", "nested too deeply"),
    # Crons: valid syntax, but never a run on a session, so `scanner run` could not use them.
    (
        "cron-feb-30",
        "cron.toml",
        cron_toml("0 0 30 2 *"),
        "scanners[0].schedule.cron",
        "a cron expression that matches a date that exists",
    ),
    (
        "cron-apr-31",
        "cron.toml",
        cron_toml("0 10 31 4 *"),
        "scanners[0].schedule.cron",
        "matches a date that exists",
    ),
    (
        "cron-3am",
        "cron.toml",
        cron_toml("0 3 * * *"),
        "scanners[0].schedule.cron",
        "a cron that fires on a XNYS session within a year of 2024-01-02",
    ),
    (
        "cron-after-close",
        "cron.toml",
        cron_toml("30 18 * * 1-5"),
        "scanners[0].schedule.cron",
        "fires on a XNYS session",
    ),
    (
        "cron-weekends",
        "cron.toml",
        cron_toml("0 11 * * 0,6"),
        "scanners[0].schedule.cron",
        "fires on a XNYS session",
    ),
    (
        "cron-outside-window",
        "cron.toml",
        cron_toml("0 10 * * *", ', start_time = "12:00", end_time = "13:00"'),
        "scanners[0].schedule.cron",
        "fires on a XNYS session",
    ),
    (
        "cron-only-on-unlisted-days",
        "cron.toml",
        cron_toml("0 11 * * 1", ', days_of_week = ["Tue"]'),
        "scanners[0].schedule.cron",
        "fires on a XNYS session",
    ),
    (
        "cron-yaml-second-scanner",
        "cron.yaml",
        "start_date: 2024-01-02\nscanners:\n  - module: gap\n  - module: volume\n"
        "    schedule: {cron: '0 0 30 2 *'}\n",
        "scanners[1].schedule.cron",
        "a date that exists",
    ),
    (
        "cron-json-syntax",
        "cron.json",
        '{"scanners": [{"module": "gap", "schedule": {"cron": "61 * * * *"}}]}',
        "scanners[0].schedule.cron",
        "expected a cron expression",
    ),
    # Streams the session cannot build.
    (
        "stream-7m",
        "s.toml",
        'streams = ["1m", "7m"]\n',
        "streams[1]",
        "a bar interval the session supports",
    ),
    (
        "stream-2h",
        "s.yaml",
        "streams: [2h]\n",
        "streams[0]",
        "one of '1m', '5m', '15m', '1h', '1d'",
    ),
    ("stream-30s", "s.json", '{"streams": ["30s"]}', "streams[0]", "the session supports"),
    ("stream-1w", "s.json", '{"streams": ["1d", "1w"]}', "streams[1]", "the session supports"),
    ("stream-empty", "s.toml", 'streams = [""]\n', "streams[0]", "the session supports"),
    ("stream-number", "s.json", '{"streams": [5]}', "streams[0]", "expected a string"),
    ("stream-not-a-list", "s.toml", 'streams = "1m"\n', "streams", "expected a list"),
    # Symbols: shown escaped, so a newline or an escape cannot forge output.
    ("symbol-newline", "s.json", '{"symbols": ["AAPL", "MS\\nFT"]}', "symbols[1]", "'MS\\nFT'"),
    ("symbol-ansi", "s.json", '{"symbols": ["\\u001b[31mRED"]}', "symbols[0]", "'\\x1b[31mRED'"),
    ("symbol-slash", "s.toml", 'symbols = ["../etc"]\n', "symbols[0]", "expected a symbol"),
    ("symbol-backslash", "s.toml", "symbols = ['A\\B']\n", "symbols[0]", "expected a symbol"),
    ("symbol-empty", "s.yaml", "symbols: ['']\n", "symbols[0]", "1-32 characters"),
    ("symbol-too-long", "s.yaml", f"symbols: [{'A' * 33}]\n", "symbols[0]", "1-32 characters"),
    ("symbol-space", "s.toml", 'symbols = ["BRK B"]\n', "symbols[0]", "expected a symbol"),
    ("symbol-lower-case", "s.toml", 'symbols = ["aapl"]\n', "symbols[0]", "A-Z 0-9"),
    ("symbol-nul", "s.json", '{"symbols": ["A\\u0000"]}', "symbols[0]", "'A\\x00'"),
    (
        "universe-symbol-slash",
        "s.toml",
        '[universe]\nsymbols = ["AAPL", "A/B"]\n',
        "universe.symbols[1]",
        "'A/B'",
    ),
    (
        "universe-symbol-number",
        "s.yaml",
        "universe: {symbols: [AAPL, 7.5]}\n",
        "universe.symbols[1]",
        "expected a string",
    ),
    # Unknown fields and wrong types.
    ("unknown-top-key", "s.toml", 'mdoe = "backtest"\n', "mdoe", "unknown key"),
    (
        "unknown-schedule-key",
        "s.yaml",
        "scanners:\n  - module: gap\n    schedule: {every: 5m}\n",
        "scanners[0].schedule.every",
        "unknown key",
    ),
    ("unknown-odd-key", "s.json", '{"bad\\nkey\\u001b": 1}', "['bad\\nkey\\x1b']", "unknown key"),
    (
        "wrong-type-timeout",
        "s.json",
        '{"scanners": [{"module": "gap", "timeout_seconds": "5"}]}',
        "scanners[0].timeout_seconds",
        "got '5', expected a number",
    ),
    (
        "wrong-type-enabled",
        "s.yaml",
        "scanners:\n  - {module: gap, enabled: 'yes'}\n",
        "scanners[0].enabled",
        "expected true or false",
    ),
    (
        "wrong-type-date",
        "s.toml",
        'start_date = "2024-13-01"\n',
        "start_date",
        "expected a date 'YYYY-MM-DD'",
    ),
    (
        "wrong-type-scanners",
        "s.json",
        '{"scanners": {"module": "gap"}}',
        "scanners",
        "expected a list",
    ),
    (
        "huge-value-shown-short",
        "s.json",
        json.dumps({"mode": "x" * 1_000_000}),
        "mode",
        "expected 'backtest' or 'live'",
    ),
    (
        "huge-module-name",
        "s.json",
        json.dumps({"scanners": [{"module": "m" * 100_000}]}),
        "scanners[0].module",
        "expected a scanner name",
    ),
    (
        "scanner-name-with-newline",
        "s.yaml",
        'scanners:\n  - {module: gap, name: "a\\nb"}\n',
        "scanners[0].name",
        "printable characters",
    ),
    (
        "huge-integer",
        "s.json",
        '{"max_session_symbols": ' + "9" * 5000 + "}",
        "",
        "more digits than Python reads",
    ),
    ("date-that-does-not-exist", "s.yaml", "start_date: 2019-02-30\n", "", "cannot parse"),
]

# (id, universe file contents, the line named, what the line shows)
UNIVERSE_FILE_CASES = [
    ("slash", "AAPL\nA/B\n", "line 2", "'A/B'"),
    ("ansi", "AAPL\n\x1b[0mMSFT\n", "line 2", "'\\x1b[0mMSFT'"),
    ("tab-inside", "AA\tPL\n", "line 1", "'AA\\tPL'"),
    ("too-long", "# a comment\n\n" + "X" * 40 + "\n", "line 3", "1-32 characters"),
    ("not-ascii", "AAPL\nÄPFEL\n", "line 2", "'ÄPFEL'"),
    ("binary", b"\xff\xfe\x00A", "universe.file", "cannot read"),
]

# (id, file contents, field path or line named, what the line says)
STATS_CASES = [
    ("empty", "", "", "not an empty file"),
    ("blank", "  \n\n", "", "not an empty file"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", "", "UTF-8 JSON text (byte 0 is not)"),
    ("not-json", "{not json", "line 1, column 2", "cannot parse, expected JSON"),
    ("truncated", record()[:-10], "line 1", "cannot parse, expected JSON"),
    ("a-list", "[1, 2]", "", "expected a JSON object with 'version' and 'records'"),
    ("a-string", '"stats"', "", "expected a JSON object"),
    ("null", "null", "", "expected a JSON object"),
    ("no-records", '{"version": 1}', "records", "missing, expected a list of scan records"),
    ("records-a-map", '{"version": 1, "records": {"a": 1}}', "records", "a list of scan records"),
    ("no-version", '{"records": []}', "version", "missing, expected 1"),
    ("newer-version", '{"version": 2, "records": []}', "version", "got 2, expected 1"),
    ("unknown-top-key", '{"version": 1, "records": [], "extra": 1}', "extra", "unknown key"),
    ("record-a-number", '{"version": 1, "records": [5]}', "records[0]", "a scan record"),
    (
        "record-nested-lists",
        '{"version": 1, "records": ' + "[" * 200 + "]" * 200 + "}",
        "records[0]",
        "got [[[...]]], expected a scan record",
    ),
    ("deep-past-parser", "[" * 100_000 + "]" * 100_000, "", "nested too deeply"),
    (
        "deep-in-a-field",
        record(scanner=json.loads("[" * 300 + "]" * 300)),
        "records[0].scanner",
        "expected a scanner name",
    ),
    (
        "missing-scanner",
        json.dumps({"version": 1, "records": [{"time": "x"}]}),
        "records[0].scanner",
        "missing",
    ),
    (
        "missing-skipped",
        json.dumps(
            {"version": 1, "records": [{k: v for k, v in GOOD_RECORD.items() if k != "skipped"}]}
        ),
        "records[0].skipped",
        "missing, expected true or false",
    ),
    ("scanner-a-number", record(scanner=7), "records[0].scanner", "got 7"),
    ("time-not-iso", record(time="yesterday"), "records[0].time", "a date and time"),
    ("time-without-offset", record(time="2024-03-01T14:30:00"), "records[0].time", "offset"),
    ("time-a-number", record(time=1709303400), "records[0].time", "got 1709303400"),
    ("count-a-string", record(symbols_found="many"), "records[0].symbols_found", "got 'many'"),
    ("count-negative", record(symbols_added=-1), "records[0].symbols_added", "from 0 to"),
    ("count-a-bool", record(symbols_found=True), "records[0].symbols_found", "got True"),
    ("count-a-float", record(symbols_found=2.5), "records[0].symbols_found", "a whole number"),
    ("count-huge", record(symbols_found=10**30), "records[0].symbols_found", "from 0 to"),
    (
        "count-past-parser",
        '{"version": 1, "records": [{"symbols_found": ' + "9" * 5000 + "}]}",
        "",
        "at most 4300 digits",
    ),
    ("millis-infinite", record(execution_time_ms=1e999), "records[0].execution_time_ms", "got inf"),
    (
        "millis-nan",
        record(execution_time_ms=float("nan")),
        "records[0].execution_time_ms",
        "got nan",
    ),
    ("millis-huge", record(execution_time_ms=1e300), "records[0].execution_time_ms", "from 0 to"),
    ("error-a-number", record(error=5), "records[0].error", "a string or null"),
    ("skipped-a-string", record(skipped="no"), "records[0].skipped", "true or false"),
    ("unknown-record-key", record(colour="red"), "records[0].colour", "unknown key"),
    (
        "huge-string-shown-short",
        record(symbols_found="9" * 1_000_000),
        "records[0].symbols_found",
        "'999",
    ),
    (
        "second-record-bad",
        json.dumps({"version": 1, "records": [GOOD_RECORD, {**GOOD_RECORD, "skipped": None}]}),
        "records[1].skipped",
        "got None",
    ),
]

# (id, run options with {tmp} for the test's folder, option named, what the line says)
OUTPUT_CASES = [
    (
        "stats-folder-missing",
        ["--stats-json", "{tmp}/nope/stats.json"],
        "--stats-json",
        "folder {tmp}/nope does not exist",
    ),
    (
        "history-folder-missing",
        ["--history", "{tmp}/nope/deeper/h.jsonl"],
        "--history",
        "does not exist",
    ),
    ("stats-is-a-folder", ["--stats-json", "{tmp}/a_folder"], "--stats-json", "is a folder"),
    (
        "history-under-a-file",
        ["--history", "{tmp}/keep.json/h.jsonl"],
        "--history",
        "is not a folder",
    ),
    (
        "both-one-file",
        ["--history", "{tmp}/out.json", "--stats-json", "{tmp}/out.json"],
        "--stats-json",
        "the same file as --history",
    ),
]


def invoke(*args: str):
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        for handler in list(logging.getLogger("scanner").handlers):
            logging.getLogger("scanner").removeHandler(handler)


def one_clear_line(exit_code: int, stdout: str, stderr: str, *named: str) -> str:
    """The single stderr line of a failed command, checked for what every fault must show."""
    assert exit_code == 1, (stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    for fragment in named:
        assert fragment in line, line
    longest_name = max(map(len, named), default=0)
    assert len(line) <= MOST_CHARS + longest_name, len(line)
    return line


def write(path: Path, contents: str | bytes) -> Path:
    if isinstance(contents, bytes):
        path.write_bytes(contents)
    else:
        path.write_text(contents, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "contents", "where", "says"),
    [c[1:] for c in CHECK_CASES],
    ids=[c[0] for c in CHECK_CASES],
)
def test_check_refuses_a_bad_config(tmp_path, name, contents, where, says):
    config = write(tmp_path / name, contents)
    result = invoke("check", str(config))
    line = one_clear_line(result.exit_code, result.stdout, result.stderr, str(config), says)
    assert line.startswith(f"{config}: {where}"), line


@pytest.mark.parametrize(
    ("contents", "where", "says"),
    [c[1:] for c in UNIVERSE_FILE_CASES],
    ids=[c[0] for c in UNIVERSE_FILE_CASES],
)
def test_check_refuses_a_bad_universe_file_line(tmp_path, contents, where, says):
    symbols = write(tmp_path / "universe.txt", contents)
    config = write(tmp_path / "s.toml", '[universe]\nfile = "universe.txt"\n')
    result = invoke("check", str(config))
    line = one_clear_line(result.exit_code, result.stdout, result.stderr, str(config), says)
    assert line.startswith(f"{config}: universe.file"), line
    assert where in line
    assert symbols.read_bytes() == (contents.encode() if isinstance(contents, str) else contents)


@pytest.mark.parametrize(
    ("contents", "where", "says"), [c[1:] for c in STATS_CASES], ids=[c[0] for c in STATS_CASES]
)
def test_stats_refuses_a_malformed_file(tmp_path, contents, where, says):
    stats = write(tmp_path / "stats.json", contents)
    before = stats.read_bytes()
    result = invoke("stats", str(stats))
    line = one_clear_line(result.exit_code, result.stdout, result.stderr, str(stats), says)
    assert line.startswith(f"Error: {stats}: {where}"), line
    assert stats.read_bytes() == before


@pytest.mark.parametrize(
    ("options", "option", "says"), [c[1:] for c in OUTPUT_CASES], ids=[c[0] for c in OUTPUT_CASES]
)
def test_run_refuses_an_output_path_before_it_starts(tmp_path, options, option, says):
    (tmp_path / "a_folder").mkdir()
    keep = write(tmp_path / "keep.json", '{"version": 1, "records": []}\n')
    config = write(tmp_path / "s.toml", "start_date = 2024-01-02\nend_date = 2024-01-03\n")
    filled = [o.replace("{tmp}", str(tmp_path)) for o in options]
    # A good second output that exists already: the failed run must leave it as it was.
    other = "--history" if "--stats-json" in filled else "--stats-json"
    if other not in filled:
        filled += [other, str(keep)]
    result = invoke("run", str(config), *filled)
    line = one_clear_line(
        result.exit_code, result.stdout, result.stderr, option, says.replace("{tmp}", str(tmp_path))
    )
    assert line.startswith(f"{option} "), line
    assert keep.read_text() == '{"version": 1, "records": []}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_folder", "keep.json", "s.toml"]


def scanner(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real `scanner` command in a child process."""
    cmd = [sys.executable, "-c", "from scanner_core.cli import main; main()", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


SUBPROCESS_CASES = [
    ("check", "bomb.yaml", laughs(9, 9), "too large once YAML aliases are expanded"),
    ("check", "deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("check", "cron.toml", cron_toml("0 0 30 2 *"), "scanners[0].schedule.cron"),
    ("stats", "stats.json", b"\x00\xff" * 1000, "UTF-8 JSON text"),
]


@pytest.mark.parametrize(
    ("command", "name", "contents", "says"),
    SUBPROCESS_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in SUBPROCESS_CASES],
)
def test_the_real_command_fails_in_one_line(tmp_path, command, name, contents, says):
    write(tmp_path / name, contents)
    done = scanner(command, name, cwd=tmp_path)
    one_clear_line(done.returncode, done.stdout, done.stderr, name, says)


def test_the_real_run_fails_before_it_starts_on_a_missing_folder(tmp_path):
    write(tmp_path / "s.toml", "start_date = 2024-01-02\nend_date = 2024-01-03\n")
    done = scanner("run", "s.toml", "--stats-json", "gone/stats.json", cwd=tmp_path)
    one_clear_line(done.returncode, done.stdout, done.stderr, "--stats-json gone/stats.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
