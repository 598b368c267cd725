"""A daily-only store through the CLI: the bundled S&P 500 sample and examples/daily.toml.

The commands docs/data.md gives for the daily example are run here as written, from a
folder holding a copy of the example, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from backtests import command as cli

from scanner_core.calendar import TimeManager
from scanner_core.cli import EMPTY_RUN

ROOT = Path(__file__).resolve().parents[2]
DATA_DOC = ROOT / "docs/data.md"
SAMPLE = ROOT / "examples/data/sp500_2017"
#: The range of examples/daily.toml.
START, END = dt.date(2017, 10, 2), dt.date(2017, 12, 29)
#: The range of the sessions these tests write.
MONTHS = dt.date(2017, 10, 2), dt.date(2017, 11, 30)


def documented_commands() -> list[list[str]]:
    """The `scanner` commands of the daily example's block in docs/data.md."""
    text = DATA_DOC.read_text()
    section = text[text.index("## Sessions at the store's resolution") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "docs/data.md: no bash block under 'Sessions at the store's resolution'"
    lines = [line for line in block.group(1).splitlines() if line.startswith("scanner ")]
    return [shlex.split(line)[1:] for line in lines]


def found(history: Path) -> list[str]:
    """Every symbol the scans in a --history file found, in order."""
    return [s for line in history.read_text().splitlines() for s in json.loads(line)["symbols"]]


@pytest.fixture(scope="module")
def daily_store(tmp_path_factory) -> Path:
    """The bundled daily sample imported through `scanner data import`."""
    store = tmp_path_factory.mktemp("daily") / "store"
    result = cli("data", "import", str(SAMPLE), "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "rejected 0" in result.output
    assert sorted(p.name for p in store.iterdir() if p.is_dir()) == ["1d"]
    return store


def write_config(folder: Path, store: Path, scanners: str) -> Path:
    """A two-month session over ``store``; ``scanners`` is its [[scanners]] tables."""
    config = folder / "session.toml"
    config.write_text(
        f"start_date = {MONTHS[0]}\nend_date = {MONTHS[1]}\n"
        f'[data]\nstore = "{store.as_posix()}"\n{scanners}'
    )
    return config


def test_the_documented_daily_example_runs_and_finds_breakouts(tmp_path, monkeypatch):
    (tmp_path / "examples").mkdir()
    # a copy, not a link: the config's store path is relative to where the file really is
    shutil.copy(ROOT / "examples/daily.toml", tmp_path / "examples/daily.toml")
    (tmp_path / "examples/data").symlink_to(ROOT / "examples/data")
    monkeypatch.chdir(tmp_path)
    commands = documented_commands()
    assert [c[:2] for c in commands] == [
        ["data", "import"],
        ["check", "examples/daily.toml"],
        ["run", "examples/daily.toml"],
    ]
    for args in commands:
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    history = commands[-1][commands[-1].index("--history") + 1]
    lines = [json.loads(line) for line in Path(history).read_text().splitlines()]
    # one step a day, at the close, when that day's daily bars are in
    tm = TimeManager("XNYS")
    closes = [tm.open_close(day)[1].isoformat() for day in tm.sessions(START, END)]
    assert [line["time"] for line in lines] == closes
    assert {line["scanner"] for line in lines} == {"breakout"}
    assert all(line["error"] is None for line in lines)
    assert found(Path(history)), "the example should find breakouts"


def test_a_daily_only_store_runs_momentum_and_breakout_without_naming_streams(
    daily_store, tmp_path
):
    # no `streams` key: the session streams its base interval, here 1d
    config = write_config(
        tmp_path,
        daily_store,
        '[[scanners]]\nmodule = "momentum"\n'
        'config = { interval = "1d", rsi_min = 60.0, volume_ratio_min = 1.0, sma_days = 10 }\n'
        '[[scanners]]\nmodule = "breakout"\nconfig = { interval = "1d", high_days = 10 }\n',
    )
    history = tmp_path / "history.jsonl"
    result = cli("run", str(config), "--history", str(history), "-q")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    for name in ("momentum", "breakout"):
        assert any(line["symbols"] for line in lines if line["scanner"] == name), name
    # a scan a day each, both at the day's close
    days = {line["time"][:10] for line in lines}
    assert len(lines) == 2 * len(days) == 2 * len(TimeManager("XNYS").sessions(*MONTHS))


@pytest.mark.parametrize("module", ["gap", "volume"])
def test_one_minute_scanners_on_a_daily_store_are_config_errors(daily_store, tmp_path, module):
    config = write_config(tmp_path, daily_store, f'[[scanners]]\nmodule = "{module}"\n')
    check = cli("check", str(config))
    assert check.exit_code == 1
    assert check.stderr.splitlines() == [
        f"{config}: scanners[0] ({module}): reads 1m bars, finer than the session's base"
        " interval 1d (the store's finest)"
    ]
    run = cli("run", str(config), "-q")
    assert run.exit_code == EMPTY_RUN
    assert f"{module} left out: " in run.stderr
    assert "reads 1m bars, finer than the session's base interval 1d" in run.stderr
    assert f"{config}: the run did nothing: no scanner was loaded" in run.stderr


def test_a_run_leaves_the_one_minute_scanners_out_and_runs_the_rest(daily_store, tmp_path):
    config = write_config(
        tmp_path,
        daily_store,
        '[[scanners]]\nmodule = "gap"\npre_session = true\n'
        '[[scanners]]\nmodule = "breakout"\nconfig = { interval = "1d", high_days = 10 }\n'
        '[[scanners]]\nmodule = "volume"\n',
    )
    history = tmp_path / "history.jsonl"
    result = cli("run", str(config), "--history", str(history), "-q")
    assert result.exit_code == 0, result.output
    for module in ("gap", "volume"):
        assert re.search(rf"{module} left out: .*reads 1m bars, finer than .* 1d", result.stderr)
    assert {json.loads(line)["scanner"] for line in history.read_text().splitlines()} == {
        "breakout"
    }
    assert found(history)
