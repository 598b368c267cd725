"""A backtest split into chunks, run in local processes or on a Dask cluster, gives the
serial run's picks, outcomes and summary exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from backtests import backtest, demo_config


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """examples/demo.toml over the bundled week."""
    return demo_config(tmp_path_factory.mktemp("parallel"))


def outputs(config: Path, out: Path, *options: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    result = backtest(str(config), "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    return (
        pd.read_parquet(out / "picks.parquet"),
        pd.read_parquet(out / "random_picks.parquet"),
        summary,
    )


@pytest.fixture(scope="module")
def serial(demo):
    return outputs(demo, demo.parent / "serial")


def same(got, want) -> None:
    """Equal outputs. The scanners' own values may differ in the last bits: a SMA summed
    along the way and one warmed up from the store round differently (the session's
    warm-up tests allow the same 1e-9); the picks and their outcomes are exact."""
    picks, random, summary = got
    rest = [c for c in picks.columns if c not in ("values", "why")]
    pd.testing.assert_frame_equal(picks[rest], want[0][rest], check_exact=True)
    for mine, theirs in zip(picks["values"], want[0]["values"], strict=True):
        assert json.loads(mine) == pytest.approx(json.loads(theirs), rel=1e-9)
    for mine, theirs in zip(picks["why"], want[0]["why"], strict=True):
        assert close(json.loads(mine), json.loads(theirs)), (mine, theirs)
    pd.testing.assert_frame_equal(random, want[1], check_exact=True)
    assert summary == want[2]


def close(mine, theirs) -> bool:
    """Equal why records, their numbers to 1e-9 (they hold the scanners' values)."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return mine.keys() == theirs.keys() and all(close(mine[k], theirs[k]) for k in mine)
    if isinstance(mine, list) and isinstance(theirs, list):
        return len(mine) == len(theirs) and all(map(close, mine, theirs))
    if isinstance(mine, float) and isinstance(theirs, float):
        return mine == pytest.approx(theirs, rel=1e-9, nan_ok=True)
    return mine == theirs


def test_serial_run_picks_every_scanner(serial):
    assert set(serial[0]["scanner"]) == {"gap", "momentum", "volume", "breakout"}


def test_local_processes_equal_the_serial_run(demo, serial):
    # three chunks over five days: chunks of 2, 2 and 1 days, each with its own warm-up
    same(outputs(demo, demo.parent / "workers", "--workers", "2", "--chunks", "3"), serial)


def test_one_process_in_five_chunks_equals_the_serial_run(demo, serial):
    same(outputs(demo, demo.parent / "chunks", "--chunks", "5"), serial)


def test_dask_cluster_equals_the_serial_run(demo, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        got = outputs(demo, demo.parent / "dask", "--scheduler", cluster.scheduler_address)
    same(got, serial)


def test_unreachable_scheduler_is_one_line(demo, tmp_path):
    result = backtest(
        str(demo), "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9", "--chunks", "2"
    )
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "tcp://127.0.0.1:9" in result.output
