"""Session config loading: typed results, and one clear line per problem in a bad file."""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from pathlib import Path
from typing import Literal

import attrs
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from scanner_core.config import (
    WEEKDAYS,
    ConfigError,
    ScannerConfig,
    ScannerSchedule,
    SessionConfig,
    UniverseConfig,
    converter,
    dump_config,
    load_config,
    parse_config,
    structure,
)

GOOD_TOML = """
symbols = ["AAPL"]
streams = ["1m", "5m", "1d"]
mode = "backtest"
start_date = 2019-02-11
end_date = 2019-02-15
required_plugins = ["scanner-gap>=0.1"]

[data]
store = "store"

[universe]
file = "universe.txt"

[[scanners]]
module = "gap"
pre_session = true
timeout_seconds = 5
max_symbols = 10
config = { min_gap_pct = 2.5 }
schedule = { interval = "15m", start_time = "09:35", end_time = "15:55" }

[[scanners]]
name = "vol"
module = "volume"
schedule = { cron = "*/30 10-15 * * 1-5", days_of_week = ["Mon", "Wed"] }
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).splitlines()


def test_good_toml_is_typed_and_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    write(tmp_path, "universe.txt", "aapl\n# a comment\nMSFT  # trailing\n\nAAPL\n")
    config = load_config(write(tmp_path, "session.toml", GOOD_TOML))

    gap, vol = config.scanners
    assert gap.name == "gap" and gap.pre_session and gap.max_symbols == 10
    assert gap.timeout_seconds == 5.0 and gap.config == {"min_gap_pct": 2.5}
    assert gap.schedule.interval_seconds == 900
    assert (gap.schedule.start_time, gap.schedule.end_time) == (dt.time(9, 35), dt.time(15, 55))
    assert vol.name == "vol" and vol.schedule.interval is None
    assert vol.schedule.interval_seconds is None and vol.schedule.days_of_week == ("Mon", "Wed")
    assert config.data.store == tmp_path / "store"
    assert config.universe.file == tmp_path / "universe.txt"
    assert config.universe.resolve() == ["AAPL", "MSFT"]
    assert (config.start_date, config.end_date) == (dt.date(2019, 2, 11), dt.date(2019, 2, 15))


@pytest.mark.parametrize("dump", [json.dumps, yaml.safe_dump], ids=["json", "yaml"])
def test_a_good_config_round_trips(tmp_path: Path, dump) -> None:
    write(tmp_path, "universe.txt", "AAPL\n")
    original = load_config(write(tmp_path, "session.toml", GOOD_TOML))
    suffix = ".json" if dump is json.dumps else ".yaml"

    assert load_config(write(tmp_path, "again" + suffix, dump(dump_config(original)))) == original


schedules = st.builds(
    ScannerSchedule,
    interval=st.sampled_from(["30s", "1m", "5m", "15m", "1h"]),
    start_time=st.none()
    | st.times(max_value=dt.time(11, 59)).map(lambda t: t.replace(second=0, microsecond=0)),
    end_time=st.none()
    | st.times(min_value=dt.time(12)).map(lambda t: t.replace(second=0, microsecond=0)),
    days_of_week=st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True).map(tuple),
)


@given(schedules)
def test_any_valid_schedule_round_trips_through_plain_data(schedule: ScannerSchedule) -> None:
    data = {"scanners": [{"module": "gap", "schedule": converter.unstructure(schedule)}]}
    assert parse_config(json.loads(json.dumps(data))).scanners[0].schedule == schedule


def test_defaults_fill_a_minimal_config() -> None:
    config = parse_config({"scanners": [{"module": "gap"}]})

    assert config.mode == "backtest" and config.calendar == "XNYS" and config.streams == []
    assert config.universe == UniverseConfig(all=True)
    assert config.scanners[0] == ScannerConfig(module="gap", name="gap")
    assert config.scanners[0].schedule == ScannerSchedule(interval="5m")
    assert config.scanners[0].schedule.days_of_week == ("Mon", "Tue", "Wed", "Thu", "Fri")


def test_unquoted_yaml_times_are_read_as_clock_times(tmp_path: Path) -> None:
    text = "scanners:\n  - module: gap\n    schedule: {start_time: 9:35, end_time: 15:55}\n"
    config = load_config(write(tmp_path, "s.yml", text))

    assert config.scanners[0].schedule.start_time == dt.time(9, 35)
    assert config.scanners[0].schedule.end_time == dt.time(15, 55)


BAD = [
    (
        ".toml",
        '[[scanners]]\nmodule = "gap"\n[[scanners]]\nmodule = "m"\n'
        'schedule = { interval = "5x" }\n',
        "scanners[1].schedule.interval",
        "got '5x', expected a duration like '30s', '5m' or '1h'",
    ),
    (
        ".toml",
        '[[scanners]]\nmodule = "gap"\n[scanners.schedule]\nshedule = "5m"\n',
        "scanners[0].schedule.shedule",
        "unknown key, expected one of",
    ),
    (
        ".toml",
        '[[scanners]]\nname = "gap"\n',
        "scanners[0].module",
        "expected a value: a scanner module, or a compose expression",
    ),
    (
        ".toml",
        '[[scanners]]\nmodule = "gap"\nenabled = "yes"\n',
        "scanners[0].enabled",
        "got 'yes', expected true or false",
    ),
    (
        ".toml",
        "start_date = 2019-02-15\nend_date = 2019-02-11\n",
        "end_date",
        "got '2019-02-11', expected a date on or after start_date 2019-02-15",
    ),
    (
        ".toml",
        '[[scanners]]\nmodule = "gap"\n[[scanners]]\nmodule = "gap"\n',
        "scanners[1].name",
        "got 'gap', expected a name no other scanner uses",
    ),
    (
        ".yaml",
        "scanners:\n  - module: gap\n    schedule: {start_time: '25:00'}\n",
        "scanners[0].schedule.start_time",
        "got '25:00', expected a time 'HH:MM' in exchange time",
    ),
    (
        ".yaml",
        "scanners:\n  - module: gap\n    schedule: {days_of_week: [Mon, Funday]}\n",
        "scanners[0].schedule.days_of_week[1]",
        "got 'Funday', expected a weekday: one of Mon",
    ),
    (
        ".yaml",
        "scanners:\n  - module: gap\n    schedule: {interval: 5m, cron: '*/5 * * * *'}\n",
        "scanners[0].schedule.cron",
        "expected either interval or cron, not both",
    ),
    (
        ".yaml",
        "scanners:\n  - module: gap\n    schedule: {interval: null, cron: '61 * * * *'}\n",
        "scanners[0].schedule.cron",
        "got '61 * * * *', expected a cron expression",
    ),
    (
        ".yaml",
        "scanners:\n  - module: gap\n    schedule: {start_time: '15:00', end_time: '10:00'}\n",
        "scanners[0].schedule.end_time",
        "got '10:00', expected a time at or after start_time 15:00",
    ),
    (
        ".json",
        '{"mode": "paper"}',
        "mode",
        "got 'paper', expected 'backtest' or 'live'",
    ),
    (
        ".json",
        '{"streams": ["1m", "7m"]}',
        "streams[1]",
        "got '7m', expected a bar interval the session supports: one of '1m', '5m', '15m', '1h'",
    ),
    (
        ".json",
        '{"scanners": [{"module": "gap", "timeout_seconds": -1}]}',
        "scanners[0].timeout_seconds",
        "got -1, expected a number >= 0 (0: no timeout)",
    ),
    (
        ".json",
        '{"required_plugins": ["scanner-gap>=0.1", "bad req !!"]}',
        "required_plugins[1]",
        "got 'bad req !!', expected a requirement such as 'scanner-gap>=0.1'",
    ),
    (
        ".json",
        '{"universe": {"symbols": ["AAPL"], "all": true}}',
        "universe.all",
        "expected exactly one of symbols, file or all = true",
    ),
    (
        ".json",
        '{"universe": {"file": "missing.txt"}}',
        "universe.file",
        "missing.txt', expected an existing file of symbols",
    ),
    (
        ".json",
        '{"calendar": "NOPE", "scanners": [{"module": "gap", "schedule": "5m"}]}',
        "scanners[0].schedule",
        "got '5m', expected a table of settings",
    ),
    (
        ".json",
        '{"scanners": [{"module": "gap", "max_symbols": 2.5}]}',
        "scanners[0].max_symbols",
        "got 2.5, expected a whole number",
    ),
    # A string or a table where a list belongs is an error, never split into its items.
    (".toml", 'symbols = "AAPL"\n', "symbols", "got 'AAPL', expected a list"),
    (".toml", '[universe]\nsymbols = "MSFT"\n', "universe.symbols", "got 'MSFT', expected a list"),
    (
        ".json",
        '{"scanners": {"module": "gap"}}',
        "scanners",
        "got {'module': 'gap'}, expected a list",
    ),
    (
        ".yaml",
        "scanners:\n  - module: gap\n    schedule: {days_of_week: Mon}\n",
        "scanners[0].schedule.days_of_week",
        "got 'Mon', expected a list",
    ),
]


@pytest.mark.parametrize(("suffix", "text", "path", "reason"), BAD)
def test_bad_config_names_file_field_path_and_reason(
    tmp_path: Path, suffix: str, text: str, path: str, reason: str
) -> None:
    config_file = write(tmp_path, "bad" + suffix, text)
    lines = problems_of(config_file)

    prefix = f"{config_file}: {path}: "
    matching = [line for line in lines if line.startswith(prefix)]
    assert matching, lines
    assert reason in matching[0]


def test_every_bad_field_is_reported_in_one_pass(tmp_path: Path) -> None:
    text = '{"mode": "paper", "calendar": "NOPE", "scanners": [{"module": "g", "enabled": 1}]}'
    lines = problems_of(write(tmp_path, "bad.json", text))

    paths = [line.split(": ")[1] for line in lines]
    assert paths == ["scanners[0].enabled", "mode", "calendar"]


JSON_COMMA_AT = "line 2, column 17" if sys.version_info >= (3, 13) else "line 3, column 1"


@pytest.mark.parametrize(
    ("suffix", "text", "where", "reason"),
    [
        (".toml", 'mode = "backtest"\nstreams = = 1\n', "line 2, column 11", "valid TOML"),
        (".yaml", "scanners:\n  - module: gap\n   bad: [\n", "line 3", "valid YAML"),
        # Python 3.13 points at the trailing comma, earlier versions at the brace after it.
        (".json", '{\n  "mode": "live",\n}', JSON_COMMA_AT, "valid JSON"),
    ],
)
def test_unparsable_file_names_the_line(
    tmp_path: Path, suffix: str, text: str, where: str, reason: str
) -> None:
    config_file = write(tmp_path, "broken" + suffix, text)
    (line,) = problems_of(config_file)

    assert line.startswith(f"{config_file}: {where}")
    assert f"cannot parse, expected {reason}" in line


def test_missing_file_and_unknown_suffix_are_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert problems_of(missing) == [
        f"{missing}: cannot read, expected a readable TOML file (No such file or directory)"
    ]
    ini = write(tmp_path, "session.ini", "[x]\n")
    assert problems_of(ini) == [f"{ini}: got '.ini', expected a .toml, .yaml, .yml or .json file"]


def test_top_level_must_be_a_table(tmp_path: Path) -> None:
    config_file = write(tmp_path, "list.json", "[1, 2]")
    assert problems_of(config_file) == [
        f"{config_file}: got [1, 2], expected a table of settings at the top level"
    ]


def test_classes_validate_when_built_in_python_too() -> None:
    with pytest.raises(ValueError, match="interval: expected a duration"):
        ScannerSchedule(interval="90x")
    with pytest.raises(ValueError, match="exactly one of symbols, file or all"):
        UniverseConfig()
    with pytest.raises(ValueError, match="a name no other scanner uses"):
        SessionConfig(scanners=[ScannerConfig(module="a"), ScannerConfig(module="a")])


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"


@attrs.frozen
class Settings:
    """A scanner-style settings class using attrs' own validators, a Literal and an enum."""

    min_pct: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    minutes: int = attrs.field(
        default=5, validator=attrs.validators.and_(attrs.validators.gt(0), attrs.validators.le(390))
    )
    tags: tuple[str, ...] = attrs.field(default=(), validator=attrs.validators.max_len(2))
    venue: str = attrs.field(default="a", validator=attrs.validators.in_(("a", "b")))
    direction: Literal["up", "down", "both"] = "both"
    side: Side = Side.BUY


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ({"min_pct": -1}, "min_pct: got -1, expected a number >= 0"),
        ({"minutes": 0}, "minutes: got 0, expected a number > 0"),
        ({"minutes": 391}, "minutes: got 391, expected a number <= 390"),
        ({"tags": ["x", "y", "z"]}, "tags: got ['x', 'y', 'z'], expected a length <= 2"),
        ({"venue": "c"}, "venue: got 'c', expected one of 'a', 'b'"),
        (
            {"direction": "sideways"},
            "direction: got 'sideways', expected one of 'up', 'down', 'both'",
        ),
        ({"direction": 1}, "direction: got 1, expected one of 'up', 'down', 'both'"),
        ({"side": "hold"}, "side: got 'hold', expected one of 'buy', 'sell'"),
    ],
)
def test_attrs_validators_literals_and_enums_read_as_expected_values(config, line) -> None:
    with pytest.raises(ConfigError) as info:
        structure(config, Settings, "session.toml", "scanners[0].config")
    assert str(info.value) == f"session.toml: scanners[0].config.{line}"


def test_literal_and_enum_values_structure_to_themselves() -> None:
    settings = structure({"direction": "up", "side": "sell"}, Settings)
    assert (settings.direction, settings.side) == ("up", Side.SELL)


def test_timeout_zero_means_no_timeout_and_negative_is_an_error():
    base = {"scanners": [{"module": "gap", "timeout_seconds": 0}]}
    assert parse_config(base).scanners[0].timeout_seconds is None
    assert parse_config({"scanners": [{"module": "gap"}]}).scanners[0].timeout_seconds == 30.0
    with pytest.raises(ConfigError) as info:
        parse_config({"scanners": [{"module": "gap", "timeout_seconds": -1}]}, "s.toml")
    assert str(info.value) == (
        "s.toml: scanners[0].timeout_seconds: got -1, expected a number >= 0 (0: no timeout)"
    )


@pytest.mark.parametrize("retries", [-1, 11, 100_000])
def test_max_retries_outside_0_to_10_is_an_error(retries):
    with pytest.raises(ConfigError) as info:
        parse_config({"scanners": [{"module": "gap", "max_retries": retries}]}, "s.toml")
    assert str(info.value) == (
        f"s.toml: scanners[0].max_retries: got {retries}, expected a count from 0 to 10"
    )


@pytest.mark.parametrize(
    ("history", "line"),
    [
        ({"1d": "lots"}, "symbol_requirements.history.1d: got 'lots', expected a whole number"),
        ({"2d": 3}, "symbol_requirements.history.2d: got '2d', expected a bar interval"),
        ({"1d": -1}, "symbol_requirements.history.1d: got -1, expected a bar count >= 0"),
    ],
)
def test_symbol_requirements_are_typed(history, line):
    good = {"scanners": [{"module": "gap", "symbol_requirements": {"history": {"1d": 30}}}]}
    assert parse_config(good).scanners[0].symbol_requirements.history == {"1d": 30}
    bad = {"scanners": [{"module": "gap", "symbol_requirements": {"history": history}}]}
    with pytest.raises(ConfigError) as info:
        parse_config(bad, "s.toml")
    assert str(info.value).startswith(f"s.toml: scanners[0].{line}")


def test_every_stream_the_session_builds_is_accepted_and_no_other() -> None:
    assert parse_config({"streams": ["1m", "5m", "15m", "1h", "1d"]}).streams[-1] == "1d"
    with pytest.raises(ValueError, match=r"streams\[0\]: expected a bar interval the session"):
        SessionConfig(streams=["7m"])


def test_symbols_of_every_kind_the_store_keeps_are_accepted(tmp_path: Path) -> None:
    symbols = ["BRK.B", "^GSPC", "ES=F", "BF-B", "A_1", "X" * 32]
    config = parse_config({"symbols": symbols, "universe": {"symbols": symbols}})
    assert config.symbols == symbols and config.universe.symbols == tuple(symbols)
    write(tmp_path, "u.txt", "brk.b  # lower case is read as upper case\n^gspc\n")
    config = load_config(write(tmp_path, "s.toml", '[universe]\nfile = "u.txt"\n'))
    assert config.universe.resolve() == ["BRK.B", "^GSPC"]


def test_symbols_and_names_are_checked_when_built_in_python_too() -> None:
    with pytest.raises(ValueError, match=r"symbols\[1\]: expected a symbol"):
        SessionConfig(symbols=["AAPL", "a/b"])
    with pytest.raises(ValueError, match=r"symbols\[0\]: expected a symbol"):
        UniverseConfig(symbols=["\x1b[2J"])
    with pytest.raises(ValueError, match="name: expected a scanner name of 1-256 printable"):
        ScannerConfig(module="gap", name="gap\n[SCANNER] forged")


def test_a_universe_file_line_that_is_no_symbol_names_the_file_and_line(tmp_path: Path) -> None:
    symbols = write(tmp_path, "u.txt", "AAPL\n\n# note\nMS FT\n")
    config_file = write(tmp_path, "s.toml", '[universe]\nfile = "u.txt"\n')
    assert problems_of(config_file) == [
        f"{config_file}: universe.file: {symbols} line 4: got 'MS FT', "
        "expected a symbol: 1-32 characters of A-Z 0-9 . - _ ^ ="
    ]


def test_a_cron_that_fires_on_sessions_passes_and_one_that_never_does_is_named() -> None:
    good = {"start_date": "2024-01-02", "scanners": [{"module": "g", "schedule": {}}]}
    good["scanners"][0]["schedule"] = {"cron": "*/30 10-15 * * 1-5"}
    assert parse_config(good).scanners[0].schedule.cron == "*/30 10-15 * * 1-5"
    # A cron that fires only outside every session (here: on Saturdays) never runs.
    bad = {
        **good,
        "scanners": [{"module": "g"}, {"module": "h", "schedule": {"cron": "0 11 * * 6"}}],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(bad, "s.toml")
    assert str(info.value) == (
        "s.toml: scanners[1].schedule.cron: got '0 11 * * 6', "
        "expected a cron that fires on a XNYS session within a year of 2024-01-02"
    )
    with pytest.raises(ValueError, match="cron: expected a cron expression that matches a date"):
        ScannerSchedule(cron="0 0 30 2 *", interval=None)


def test_the_schedule_check_answers_none_where_the_calendar_has_no_sessions() -> None:
    from scanner_core.schedule import runs_within_a_year

    schedule = ScannerSchedule(cron="0 11 * * 1-5", interval=None)
    assert runs_within_a_year(schedule, "XNYS", dt.date(2024, 1, 2)) is True
    assert runs_within_a_year(schedule, "XNYS", dt.date(2200, 1, 1)) is None
    leap_day = ScannerSchedule(cron="0 11 29 2 *", interval=None)
    assert runs_within_a_year(leap_day, "XNYS", dt.date(2023, 6, 1)) is True
    assert runs_within_a_year(leap_day, "XNYS", dt.date(2024, 6, 1)) is False


@pytest.mark.parametrize(
    ("scanners", "path", "reason"),
    [
        ([{"compose": "gap +"}], "scanners[0].compose", "(invalid syntax)"),
        ([{"compose": "gap + momentum"}], "scanners[0].compose", "(no operator Add at column 1)"),
        ([{"compose": "top(gap, 0)"}], "scanners[0].compose", "n is a whole number >= 1"),
        ([{"module": "gap", "compose": "gap & x"}], "scanners[0].compose", "not both"),
        ([{"module": "gap", "remove_when": "gap &&"}], "scanners[0].remove_when", "invalid"),
        ([{"compose": "a | b", "config": {"x": 1}}], "scanners[0].config", "no settings"),
        (
            [{"name": "a", "compose": "b & gap"}, {"name": "b", "compose": "a | gap"}],
            "scanners[0].compose",
            "does not name 'a' itself",
        ),
        ([{"module": "gap", "cooldown_minutes": -5}], "scanners[0].cooldown_minutes", ">= 0"),
    ],
)
def test_a_bad_composition_names_its_field(scanners, path, reason):
    with pytest.raises(ConfigError) as error:
        parse_config({"scanners": scanners}, "s.toml")
    line = str(error.value).splitlines()[0]
    assert line.startswith(f"s.toml: {path}: ") and reason in line, line


def test_a_composition_is_named_by_its_expression_unless_named():
    config = parse_config({"scanners": [{"compose": "gap & momentum"}]})
    assert config.scanners[0].name == "gap & momentum"
    assert config.scanners[0].module == ""
