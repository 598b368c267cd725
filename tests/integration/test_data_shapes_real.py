"""Real stores of one coarse shape each: a backtest's scans do not depend on its start date.

Each store holds one interval of real bars: stockbot's 1-minute bars with no daily bars,
eqker's 15-minute bars alone, or S&P 500 daily bars alone. A session started 25 (or 5)
sessions earlier must find, on every day both runs cover, the same symbols with the
same values: warm-up from the store and streaming go through one rule for coarse bars.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from backtests import command as cli

from scanner_core.calendar import TimeManager
from scanner_core.config import load_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.hookspecs import hookimpl
from scanner_core.store import BarStore

TM = TimeManager("XNYS")
STOCKBOT = ["AAPL", "AMD", "BAC", "F", "GE", "INTC", "MU", "NVDA", "T", "TSLA"]
EQKER = ["AAPL", "AMZN", "BAC", "JPM", "MSFT", "MU", "QQQ", "SPY", "TSLA", "V"]
SP500 = ["AAPL", "AMZN", "BAC", "CAT", "F", "GE", "INTC", "JPM", "MSFT", "MU", "T", "XOM"]
#: Loose enough that real bars give hits on the days compared.
SCANNERS = """
[[scanners]]
module = "momentum"
schedule = {{ interval = "1h", start_time = "10:30", end_time = "15:30" }}
config = {{ rsi_min = 60.0, volume_ratio_min = 1.2, sma_days = 5, interval = "{interval}" }}

[[scanners]]
module = "breakout"
schedule = {{ interval = "1h", start_time = "10:30", end_time = "15:30" }}
config.interval = "{interval}"
config.high_days = 1
config.volume_ratio_min = 0.8
config.candle_top_fraction = 0.5
"""


class ValuesSeen:
    """An observer keeping each scan's per-symbol values, keyed by (time, scanner)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict] = {}

    @hookimpl
    def after_scan(self, context, result) -> None:
        """Remember what made each found symbol pass."""
        key = (context.current_time.isoformat(), context.scanner_name)
        self.values[key] = result.metadata.get("values", {})


def imported(folder: Path, files: list[Path], **options) -> Path:
    """A store holding these files, each imported whole."""
    report = BarStore(folder).import_files(files, **options)
    assert report.totals()["failed_files"] == 0
    return folder


@pytest.fixture(scope="module")
def stockbot(real_data, tmp_path_factory) -> Path:
    """Ten stockbot symbols' 1-minute bars, and no daily bars."""
    folder = real_data / "intraday/stockbot_2018_1min"
    files = [folder / f"{s}.csv.gz" for s in STOCKBOT]
    return imported(tmp_path_factory.mktemp("stockbot"), files)


@pytest.fixture(scope="module")
def eqker15(real_data, tmp_path_factory) -> Path:
    """Ten eqker symbols' 15-minute bars alone (bar-end stamps)."""
    folder = real_data / "intraday/eqker_2019"
    files = [folder / f"{s}_15min.csv" for s in EQKER]
    return imported(tmp_path_factory.mktemp("eqker15"), files, timestamps="end")


@pytest.fixture(scope="module")
def sp500(real_data, tmp_path_factory) -> Path:
    """Twelve S&P 500 symbols' daily bars alone (IEX, 2013-2018)."""
    folder = real_data / "daily/sp500_iex_2013-2018"
    files = [folder / f"{s}_data.csv" for s in SP500]
    return imported(tmp_path_factory.mktemp("sp500"), files)


def session_file(folder: Path, store: Path, start: dt.date, end: dt.date, scanners: str) -> Path:
    """A session config over ``store`` from start to end, every symbol tracked."""
    config = folder / f"session-{start}.toml"
    config.write_text(
        f'start_date = {start}\nend_date = {end}\n[data]\nstore = "{store.as_posix()}"\n'
        f"[universe]\nall = true\n{scanners}"
    )
    return config


def backtest(config: Path) -> tuple[list[dict], dict]:
    """Run a session as `scanner run --history` does; its history lines and scan values."""
    coordinator = SessionCoordinator(
        load_config(config), base_dir=config.parent, config_file=str(config)
    )
    seen = ValuesSeen()
    coordinator.manager.pm.register(seen, name="values-seen")
    summary = coordinator.run()
    assert not summary.empty and not summary.problems, (summary.empty, summary.problems)
    history = config.with_suffix(".jsonl")
    coordinator.recorder.write(history)
    return [json.loads(line) for line in history.read_text().splitlines()], seen.values


def without_why(lines: list[dict]) -> list[dict]:
    """History lines without their why records."""
    return [{key: value for key, value in line.items() if key != "why"} for line in lines]


@pytest.mark.parametrize(
    ("shape", "interval", "first", "last", "earlier"),
    [
        ("stockbot", "5m", dt.date(2018, 4, 19), dt.date(2018, 4, 20), 25),
        ("eqker15", "15m", dt.date(2019, 2, 13), dt.date(2019, 2, 15), 5),
    ],
)
def test_an_earlier_start_finds_the_same_symbols_with_the_same_values(
    request, tmp_path, shape, interval, first, last, earlier
):
    store = request.getfixturevalue(shape)
    scanners = SCANNERS.format(interval=interval)
    before = TM.sessions(first - dt.timedelta(days=60), first)
    start = before[-1 - earlier]
    late, late_values = backtest(session_file(tmp_path, store, first, last, scanners))
    early, early_values = backtest(session_file(tmp_path, store, start, last, scanners))

    assert {line["time"][:10] for line in early} >= {start.isoformat(), first.isoformat()}
    overlap = [line for line in early if line["time"][:10] >= first.isoformat()]
    # The why records hold the values, compared to 1e-9 below with every scan's values.
    assert without_why(overlap) == without_why(late)
    for name in ("momentum", "breakout"):
        assert any(line["symbols"] for line in late if line["scanner"] == name), name
    keys = [(line["time"], line["scanner"]) for line in late]
    for key in keys:
        assert set(early_values[key]) == set(late_values[key]), key
        for symbol, values in late_values[key].items():
            assert early_values[key][symbol] == pytest.approx(values, rel=1e-9), (key, symbol)


def test_a_daily_store_runs_momentum_and_breakout_and_leaves_the_minute_scanners_out(
    sp500, tmp_path
):
    scanners = (
        SCANNERS.format(interval="1d")
        + '[[scanners]]\nmodule = "gap"\npre_session = true\n[[scanners]]\nmodule = "volume"\n'
    )
    config = session_file(tmp_path, sp500, dt.date(2017, 11, 1), dt.date(2017, 12, 29), scanners)
    history = tmp_path / "history.jsonl"
    result = cli("run", str(config), "--history", str(history), "-q")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    for name in ("momentum", "breakout"):
        assert any(line["symbols"] for line in lines if line["scanner"] == name), name
    assert {line["scanner"] for line in lines} == {"momentum", "breakout"}
    for name in ("gap", "volume"):
        assert f"{name} left out: " in result.stderr
    assert result.stderr.count("reads 1m bars, finer than the session's base interval 1d") == 2


@pytest.mark.parametrize("module", ["gap", "volume"])
@pytest.mark.parametrize(("shape", "base"), [("eqker15", "15m"), ("sp500", "1d")])
def test_one_minute_scanners_on_a_coarse_real_store_are_config_errors(
    request, tmp_path, shape, base, module
):
    store = request.getfixturevalue(shape)
    day = dt.date(2019, 2, 15) if base == "15m" else dt.date(2017, 12, 29)
    config = session_file(tmp_path, store, day, day, f'[[scanners]]\nmodule = "{module}"\n')
    check = cli("check", str(config))
    assert check.exit_code == 1
    assert check.stderr.splitlines() == [
        f"{config}: scanners[0] ({module}): reads 1m bars, finer than the session's base"
        f" interval {base} (the store's finest)"
    ]


def test_vendor_coarse_bars_on_days_with_minutes_change_nothing(real_data, tmp_path):
    """eqker ships 15-minute bars for days it also has minutes for: by the rule those
    days' 15m bars are built from the minutes, so dropping the vendor's changes no scan,
    while its 15m bars of earlier days (no minutes there) still give the history."""
    folder = real_data / "intraday/eqker_2019"
    trimmed = tmp_path / "trimmed"
    trimmed.mkdir()
    for symbol in EQKER:
        source = folder / f"{symbol}_15min.csv"
        kept = [
            line for line in source.read_text().splitlines() if not line.startswith("2019-02-1")
        ]
        (trimmed / source.name).write_text("\n".join(kept) + "\n")
    minutes = [folder / f"{s}_{kind}.csv" for s in EQKER for kind in ("1min", "daily")]
    stores = {
        "vendor": imported(
            tmp_path / "vendor",
            [*minutes, *(folder / f"{s}_15min.csv" for s in EQKER)],
            timestamps="end",
        ),
        "trimmed": imported(
            tmp_path / "trimmed-store", [*minutes, *sorted(trimmed.iterdir())], timestamps="end"
        ),
    }
    runs = {}
    for name, store in stores.items():
        (tmp_path / name).mkdir(exist_ok=True)
        scanners = SCANNERS.format(interval="15m")
        config = session_file(
            tmp_path / name, store, dt.date(2019, 2, 11), dt.date(2019, 2, 15), scanners
        )
        runs[name] = backtest(config)
    assert runs["vendor"][0] == runs["trimmed"][0]
    assert any(line["symbols"] for line in runs["vendor"][0])
