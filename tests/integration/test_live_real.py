"""Live replays of real bars (../shared/data/real) with the four scanners of the demo.

The parity test runs in CI; the soak test is marked ``soak`` and runs on demand only:
``SCANNER_SOAK=1 pytest -m soak -s tests/integration/test_live_real.py``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from scanner_core.config import parse_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.feeds.replay import ReplayFeed
from scanner_core.loop import SessionLoop
from scanner_core.store import BarStore

ROOT = Path(__file__).resolve().parents[2]
DEMO = tomllib.loads((ROOT / "examples/demo.toml").read_text())


@pytest.fixture(scope="module")
def real_store(real_data, tmp_path_factory) -> Path:
    """Every 1-minute bar of the real intraday sets, and eqker's daily bars."""
    root = tmp_path_factory.mktemp("real")
    store = BarStore(root)
    eqker = real_data / "intraday/eqker_2019"
    store.import_files(sorted(eqker.glob("*_1min.csv")), timestamps="end")
    store.import_files(sorted(eqker.glob("*_daily.csv")))
    store.import_files(sorted((real_data / "intraday/stockbot_2018_1min").glob("*.csv.gz")))
    return root


def demo(store: Path, start: str, end: str) -> dict:
    """The demo's session (all four scanners) over these days of this store."""
    return dict(DEMO, start_date=start, end_date=end, data={"store": str(store)})


def found(loop) -> list[tuple[str, str, list[str]]]:
    return [(e["scanner"], e["time"], e["symbols"]) for e in loop.recorder._in_order()]


def test_replay_finds_the_same_symbols_at_the_same_bar_times_as_the_backtest(real_store):
    config = demo(real_store, "2019-02-12", "2019-02-13")
    backtest = SessionCoordinator(parse_config(config, "demo.toml"))
    backtest.run()
    # Unpaced: every scan time is reached once the scans before it are done, so no turn
    # is skipped on a loaded machine and the live history must be the backtest's.
    live = SessionLoop(parse_config(config, "demo.toml"), ReplayFeed(speed=0))
    live.run()

    assert {e[0] for e in found(backtest)} == {"gap", "momentum", "volume", "breakout"}
    assert live.feed.stats.bars_received == live.bars_processed == backtest.bars_processed
    assert found(live) == found(backtest)
    assert any(symbols for _, _, symbols in found(live))
    assert dict(live.recorder.added) == dict(backtest.recorder.added)
    assert not any(r.skipped for r in live.manager.history.records)


@pytest.mark.soak
@pytest.mark.parametrize(
    ("start", "end"), [("2019-02-11", "2019-02-15"), ("2018-02-26", "2018-03-02")]
)
def test_soak_a_week_of_every_symbol_through_live_mode(real_store, start, end):
    config = demo(real_store, start, end)
    loop = SessionLoop(parse_config(config, "demo.toml"), ReplayFeed(speed=3000))
    loop.run()
    stats = loop.feed.stats
    skipped = sum(r.skipped for r in loop.manager.history.records)
    print(
        f"\nsoak {start}..{end}: bars ingested {loop.bars_processed},"
        f" bars lost {stats.bars_received - loop.bars_processed},"
        f" scans {len(loop.manager.history.records)}, skipped {skipped},"
        f" held for lag {sum(loop.lag.held_scans.values())},"
        f" max lag {loop.lag.max_seen:.2f}s, pauses {loop.lag.pauses}"
    )
    assert loop.bars_processed > 0
    assert stats.bars_received == loop.bars_processed
