"""Fault corpus, data-shape group: sessions that would do nothing, or less than asked.

Each scenario runs through both `scanner check` and `scanner run`: a misspelled scanner,
settings that fail, dates outside the store, a weekend, an end_date years past the data,
an empty or missing store, a universe without bars, every scan failing, an interval the
store cannot feed. Each case checks the exit code (check: 1 when the run would do
nothing, 0 with a warning when it still has work; run: 1 for a bad config or store, 3
when it did nothing, 0 when it ran), the one-line message naming the config, and that
every stored partition is byte for byte what it was.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from synthetic import synthetic_minutes

from scanner_core.aggregate import aggregate
from scanner_core.calendar import TimeManager
from scanner_core.cli import EMPTY_RUN, main
from scanner_core.store import BarStore, concat

FAULTY = Path(__file__).resolve().parents[1] / "fixtures/scanners/faulty.py"
DAYS = ("2019-02-11", "2019-02-12", "2019-02-13")
SYMBOLS = ["AA", "BB"]

# A scanner that reads no indicator and finds nothing, and one whose every scan raises.
QUIET = f'module = "{FAULTY}:Faulty"\nconfig = {{ at = "nowhere", kind = "SystemExit" }}'
RAISES = f'module = "{FAULTY}:Faulty"\nconfig = {{ at = "scan", kind = "PluginAbort" }}'


def minutes(days=DAYS):
    return concat([synthetic_minutes(d, SYMBOLS, n, minutes=30) for n, d in enumerate(days)])


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """One store per data shape, written once: 1m, 15m-only, daily-only, a 1m store with a
    day missing, an empty folder, and a path with nothing there."""
    root = tmp_path_factory.mktemp("stores")
    BarStore(root / "1m").write(minutes())
    BarStore(root / "15m").write(aggregate(minutes(), "15m"))
    BarStore(root / "1d").write(aggregate(minutes(), "1d", TimeManager("XNYS")))
    BarStore(root / "gappy").write(minutes((DAYS[0], DAYS[2])))
    (root / "empty").mkdir()
    return {name: root / name for name in ("1m", "15m", "1d", "gappy", "empty", "missing")}


def digest(store: Path) -> dict[str, str]:
    """Every file under the store and a hash of its bytes."""
    return {
        str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.rglob("*"))
        if p.is_file()
    }


def session_toml(store: Path, scanner: str, start: str, end: str, extra: str, universe: str):
    return (
        f'mode = "backtest"\nstart_date = {start}\nend_date = {end}\n{extra}\n'
        f'[data]\nstore = "{store}"\n[universe]\n{universe}\n'
        f'[[scanners]]\n{scanner}\nschedule = {{ interval = "30m" }}\n'
    )


# (id, store, config changes, check: (exit, fragment), run: (exit, fragment)).
# Fragments name {store} and {config}; a config error's line starts with the config path.
NO_SCANNER = "the run did nothing: no scanner was loaded (see the problems above)"
NO_DAYS = (
    "the store holds no 1m bars from {start} to {end} (its 1m bars cover 2019-02-11 to 2019-02-13)"
)
SCENARIOS = [
    (
        "misspelled-plugin",
        "1m",
        {"scanner": 'module = "gapp"'},
        (1, "{config}: scanners[0] (gapp): gapp: no installed scanner plugin named 'gapp'"),
        (EMPTY_RUN, "gapp left out: gapp: no installed scanner plugin named 'gapp'"),
    ),
    (
        "misspelled-plugin-case",
        "1m",
        {"scanner": 'module = "Momentum"'},
        (1, "no installed scanner plugin named 'Momentum'"),
        (EMPTY_RUN, NO_SCANNER),
    ),
    (
        "misspelled-file",
        "1m",
        {"scanner": f'module = "{FAULTY.with_name("faulti.py")}:Faulty"'},
        (1, f"no such scanner file: {FAULTY.with_name('faulti.py')}"),
        (EMPTY_RUN, f"no such scanner file: {FAULTY.with_name('faulti.py')}"),
    ),
    (
        "misspelled-class",
        "1m",
        {"scanner": f'module = "{FAULTY}:Faulti"'},
        (1, f"{FAULTY} has no class 'Faulti'"),
        (EMPTY_RUN, f"{FAULTY} has no class 'Faulti'"),
    ),
    (
        "settings-wrong-type",
        "1m",
        {"scanner": 'module = "momentum"\nconfig = { rsi_min = "high" }'},
        (1, "{config}: scanners[0].config.rsi_min: got 'high', expected a number"),
        (EMPTY_RUN, "{config}: scanners[0].config.rsi_min: got 'high', expected a number"),
    ),
    (
        "settings-unknown-key",
        "1m",
        {"scanner": 'module = "momentum"\nconfig = { rsi_mim = 70.0 }'},
        (1, "{config}: scanners[0].config.rsi_mim: unknown key, expected one of rsi_min"),
        (EMPTY_RUN, "scanners[0].config.rsi_mim: unknown key"),
    ),
    (
        "dates-after-the-store",
        "1m",
        {"start": "2020-03-02", "end": "2020-03-04"},
        (1, "{config}: " + NO_DAYS),
        (EMPTY_RUN, "{config}: the run did nothing: " + NO_DAYS),
    ),
    (
        "dates-before-the-store",
        "1m",
        {"start": "2018-03-05", "end": "2018-03-09"},
        (1, "{config}: " + NO_DAYS),
        (EMPTY_RUN, "{config}: the run did nothing: " + NO_DAYS),
    ),
    (
        "end-date-years-past-and-start-too",
        "1m",
        {"start": "2020-03-02", "end": "2030-03-04"},
        (1, "{config}: " + NO_DAYS),
        (EMPTY_RUN, "{config}: the run did nothing: " + NO_DAYS),
    ),
    (
        "weekend-only",
        "1m",
        {"start": "2019-02-16", "end": "2019-02-17"},
        (1, "{config}: no XNYS trading session from 2019-02-16 to 2019-02-17"),
        (EMPTY_RUN, "the run did nothing: no XNYS trading session from 2019-02-16 to 2019-02-17"),
    ),
    (
        "holiday-only",
        "1m",
        {"start": "2019-02-18", "end": "2019-02-18"},
        (1, "{config}: no XNYS trading session from 2019-02-18 to 2019-02-18"),
        (EMPTY_RUN, "the run did nothing: no XNYS trading session from 2019-02-18 to 2019-02-18"),
    ),
    (
        "end-date-years-past",
        "1m",
        {"end": "2025-02-13"},
        (0, "warning: end_date 2025-02-13 is past the store's last 1m bar; clipped to 2019-02-13"),
        (0, "end_date 2025-02-13 is past the store's last 1m bar; clipped to 2019-02-13"),
    ),
    (
        "end-date-on-a-weekend-past",
        "1m",
        {"end": "2019-02-16"},
        (0, "warning: end_date 2019-02-16 is past the store's last 1m bar; clipped to 2019-02-13"),
        (0, "[SESSION] Summary: 3 days, 180 bars"),
    ),
    (
        "a-day-missing",
        "gappy",
        {},
        (0, "warning: no 1m bars in {store}/1m for 1 of 3 sessions: 2019-02-12"),
        (0, "no 1m bars in {store}/1m for 1 of 3 sessions: 2019-02-12"),
    ),
    (
        "some-symbols-missing",
        "1m",
        {"universe": 'symbols = ["AA", "ZZ"]'},
        (0, "warning: 1 of 2 symbols have no 1m bars from 2019-02-11 to 2019-02-13: ZZ"),
        (0, "1 of 2 symbols have no 1m bars from 2019-02-11 to 2019-02-13: ZZ"),
    ),
    (
        "session-symbol-missing",
        "1m",
        {"extra": 'symbols = ["QQ"]'},
        (0, "warning: 1 of 3 symbols have no 1m bars from 2019-02-11 to 2019-02-13: QQ"),
        (0, "1 of 3 symbols have no 1m bars from 2019-02-11 to 2019-02-13: QQ"),
    ),
    (
        "no-symbol-has-bars",
        "1m",
        {"universe": 'symbols = ["YY", "ZZ"]'},
        (1, "{config}: none of the 2 symbols has 1m bars from 2019-02-11 to 2019-02-13: YY, ZZ"),
        (EMPTY_RUN, "{config}: the run did nothing: no bar was replayed from {store}"),
    ),
    (
        "store-with-no-bars",
        "empty",
        {},
        (1, "{config}: data.store: the bar store at {store} holds no bars"),
        (1, "{config}: data.store: the bar store at {store} holds no bars"),
    ),
    (
        "store-missing",
        "missing",
        {},
        (1, "{config}: data.store: no bar store at {store}"),
        (1, "{config}: data.store: no bar store at {store}"),
    ),
    (
        "every-scan-fails",
        "1m",
        {"scanner": RAISES},
        (0, "{config}: ok (1 scanners enabled)"),
        (EMPTY_RUN, "{config}: the run did nothing: every one of the 3 scans failed"),
    ),
    (
        "stream-finer-than-the-store",
        "15m",
        {"extra": 'streams = ["1m"]'},
        (1, "{config}: streams[0]: 1m is finer than the session's base interval 15m"),
        (1, "{config}: streams[0]: 1m is finer than the session's base interval 15m"),
    ),
    (
        "base-interval-the-store-cannot-make",
        "15m",
        {"extra": 'base_interval = "5m"'},
        (1, "{config}: base_interval: the store holds no bars that make 5m bars (it holds 15m)"),
        (1, "{config}: base_interval: the store holds no bars that make 5m bars (it holds 15m)"),
    ),
    (
        "gap-on-a-15m-store",
        "15m",
        {"scanner": 'module = "gap"'},
        (
            1,
            "{config}: scanners[0] (gap): reads 1m bars, finer than the session's"
            " base interval 15m",
        ),
        (EMPTY_RUN, "gap left out: setup raised ValueError: indicator prev_close(1) reads 1m bars"),
    ),
    (
        "volume-on-a-15m-store",
        "15m",
        {"scanner": 'module = "volume"'},
        (1, "{config}: scanners[0] (volume): reads 1m bars, finer than the session's base"),
        (EMPTY_RUN, "finer than the session's base interval 15m (the store holds no finer bars)"),
    ),
    (
        "gap-on-a-daily-store",
        "1d",
        {"scanner": 'module = "gap"'},
        (
            1,
            "{config}: scanners[0] (gap): reads 1m bars, finer than the session's base interval 1d",
        ),
        (EMPTY_RUN, NO_SCANNER),
    ),
    (
        "momentum-1m-on-a-15m-store",
        "15m",
        {"scanner": 'module = "momentum"\nconfig = { interval = "1m" }'},
        (1, "{config}: scanners[0] (momentum): reads 1m bars, finer than the session's base"),
        (EMPTY_RUN, NO_SCANNER),
    ),
    (
        "a-15m-store-runs",
        "15m",
        {},
        (0, "{config}: ok (1 scanners enabled)"),
        (0, "[SESSION] Summary: 3 days, 12 bars, 39 scans"),
    ),
    (
        "momentum-daily-on-a-daily-store-runs",
        "1d",
        {"scanner": 'module = "momentum"\nconfig = { interval = "1d" }'},
        (0, "{config}: ok (1 scanners enabled)"),
        (0, "[SESSION] Summary: 3 days, 6 bars, 3 scans"),
    ),
]
EMPTY = [s for s in SCENARIOS if s[4][0] == EMPTY_RUN]


def invoke(*args: str):
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        for handler in list(logging.getLogger("scanner").handlers):
            logging.getLogger("scanner").removeHandler(handler)


def write_config(tmp_path: Path, store: Path, changes: dict) -> Path:
    fields = {"scanner": QUIET, "start": DAYS[0], "end": DAYS[-1], "extra": ""}
    fields |= {"universe": "all = true", **changes}
    config = tmp_path / "session.toml"
    config.write_text(session_toml(store, **fields))
    return config


def assert_reported(result, code: int, fragment: str) -> None:
    """The exit code, the fragment on one line of output, and no traceback anywhere."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert any(fragment in line for line in result.output.splitlines()), result.output


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize(
    ("store", "changes", "on_check", "on_run"),
    [pytest.param(*row[1:], id=row[0]) for row in SCENARIOS],
)
def test_data_shape_fault(stores, tmp_path, command, store, changes, on_check, on_run):
    folder = stores[store]
    before = digest(folder) if folder.is_dir() else None
    config = write_config(tmp_path, folder, changes)
    code, fragment = on_check if command == "check" else on_run
    start, end = changes.get("start", DAYS[0]), changes.get("end", DAYS[-1])
    fragment = fragment.format(config=config, store=folder, start=start, end=end)
    args = ["check", str(config)] if command == "check" else ["run", str(config), "-q"]
    result = invoke(*args)
    assert_reported(result, code, fragment)
    if code == 1:
        # An error is the last word: nothing after it claims success or runs a session.
        assert "ok (" not in result.output and "Summary" not in result.output
    if command == "run" and code == EMPTY_RUN:
        reasons = [x for x in result.stderr.splitlines() if "the run did nothing" in x]
        assert reasons and all(x.startswith(f"{config}: the run did nothing: ") for x in reasons)
    assert (digest(folder) if folder.is_dir() else None) == before


@pytest.mark.parametrize(
    ("store", "changes"), [pytest.param(row[1], row[2], id=row[0]) for row in EMPTY]
)
def test_allow_empty_turns_exit_3_into_0(stores, tmp_path, store, changes):
    config = write_config(tmp_path, stores[store], changes)
    result = invoke("run", str(config), "-q", "--allow-empty")
    assert result.exit_code == 0, result.output
    # The summary still says why; only the exit code and the stderr line are dropped.
    assert "[SESSION]   did nothing: " in result.stdout
    assert "the run did nothing" not in result.stderr
