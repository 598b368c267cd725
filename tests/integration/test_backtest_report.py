"""`scanner backtest` on the demo: its files, its report drawn by headless Chromium with
no network, and its exits on bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from backtests import backtest, command, demo_config, scan

from scanner_core.evaluate.report import PLOTS


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """examples/demo.toml over the bundled week, imported as the demo imports it."""
    return demo_config(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def written(demo) -> Path:
    out = demo.parent / "out"
    result = backtest(str(demo), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "[BACKTEST] 2019-02-11 to 2019-02-15: 5 days" in result.output
    return out


def test_backtest_writes_picks_summary_stats_and_report(written):
    picks = pd.read_parquet(written / "picks.parquet")
    summary = json.loads((written / "summary.json").read_text())
    assert set(picks["scanner"]) == {"gap", "momentum", "volume", "breakout"}
    assert summary["picks"] == len(picks)
    assert list(summary["scanners"]) == ["gap", "momentum", "volume", "breakout"]
    assert summary["time_zone"] == "America/New_York"
    # every pick has its rank among its scan's symbols and the values the scanner gave
    first = picks.groupby(["scanner", "time"])["rank"].agg(["min", "max", "size"])
    assert (first["min"] == 1).all() and (first["max"] == first["size"]).all()
    values = json.loads(picks.loc[picks["scanner"] == "momentum", "values"].iloc[0])
    assert {"rsi", "volume_ratio", "sma", "close"} <= set(values)
    assert (picks["price"] > 0).all()
    # each pick carries its why record: the scanner that found it, as of the scan's bars
    for row in picks.itertuples():
        why = json.loads(row.why)
        assert why["scanner"] == why["passed"][0] == row.scanner
        assert pd.Timestamp(why["bar_time"]) == row.time
        assert why["values"][row.scanner] == json.loads(row.values)
    stats = json.loads((written / "stats.json").read_text())
    assert len(stats["records"]) == summary["run"]["scans"] == 300


def test_report_is_self_contained(written):
    page = (written / "report.html").read_text()
    # no script or stylesheet comes from anywhere: every <script> is inline
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    for plot in PLOTS:
        assert f'id="{plot}"' in page
    assert 'id="attribution"' in page and 'id="summary"' in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_plots_draw_in_headless_chromium(written, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (CI installs Debian's chromium package)")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            # no network at all: the report must draw from what it embeds
            "--proxy-server=127.0.0.1:9",
            "--virtual-time-budget=20000",
            "--dump-dom",
            (written / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    for plot in PLOTS:
        start = dom.index(f'id="{plot}"')
        following = [dom.find(f'id="{p}"', start + 1) for p in PLOTS]
        end = min([i for i in following if i > start] + [len(dom)])
        drawn = dom[start:end]
        assert 'class="main-svg"' in drawn, f"{plot} did not draw"
        assert re.search(r'class="[^"]*\btrace\b', drawn), f"{plot} drew no trace"


def test_bad_horizon_is_one_line(demo):
    result = backtest(str(demo), "--horizons", "5m,7x")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "--horizons: horizon '7x': expected minutes (5m), hours (1h), 'close' or sessions (1d)"
    ]


def test_range_outside_the_store_did_nothing(demo, tmp_path):
    result = backtest(
        str(demo), "--from", "2019-03-04", "--to", "2019-03-08", "--out", str(tmp_path)
    )
    assert result.exit_code == 3, result.output
    assert "the run did nothing" in result.output
    assert json.loads((tmp_path / "summary.json").read_text())["picks"] == 0


def test_from_after_to_is_one_line(demo):
    result = backtest(str(demo), "--from", "2019-02-15", "--to", "2019-02-11")
    assert result.exit_code == 1
    assert result.output.strip() == f"{demo}: --from 2019-02-15 is after --to 2019-02-11"


def test_scan_at_a_moment_finds_what_the_backtest_found_then(demo, written):
    picks = pd.read_parquet(written / "picks.parquet")
    momentum = picks[picks["scanner"] == "momentum"]
    moment = momentum["time"].iloc[0].tz_convert("America/New_York")
    result = scan(str(demo), "--at", f"{moment:%Y-%m-%dT%H:%M}", "--json")
    assert result.exit_code == 0, result.output
    # momentum and breakout both scan every 15 minutes in the demo: --at runs all four
    both = ("momentum", "breakout")
    found = [(r["scanner"], r["rank"], r["symbol"]) for r in json.loads(result.output)]
    then = picks[(picks["time"] == momentum["time"].iloc[0]) & picks["scanner"].isin(both)]
    want = list(then[["scanner", "rank", "symbol"]].itertuples(index=False, name=None))
    assert [f for f in found if f[0] in both] == want
    text = scan(str(demo), "--at", f"{moment:%Y-%m-%d %H:%M}")
    assert (
        f"momentum at {moment:%Y-%m-%d %H:%M}: {len(then[then.scanner == 'momentum'])} symbols"
        in text.output
    )


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2019-02-16T10:30", "--at: 2019-02-16 is not a trading day on XNYS"),
        ("2019-02-13T09:00", "--at: 2019-02-13 09:00:00 is not a whole minute after the open"),
    ],
)
def test_scan_at_a_bad_moment_is_one_line(demo, at, message):
    result = scan(str(demo), "--at", at)
    assert result.exit_code == 1
    assert result.output.startswith(f"{demo}: {message}")
    assert len(result.output.strip().splitlines()) == 1


def test_stats_of_a_backtest_show_pick_quality(written):
    summary = json.loads((written / "summary.json").read_text())
    result = command("stats", str(written / "stats.json"), "--json")
    assert result.exit_code == 0, result.output
    quality = json.loads(result.output)["pick_quality"]
    for name, row in summary["scanners"].items():
        for horizon, stats in row["by_horizon"].items():
            assert quality[name][horizon]["mean"] == stats["mean"]
            assert quality[name][horizon]["universe_mean"] == stats["universe"]["mean"]
    text = command("stats", str(written / "stats.json"))
    assert "Pick quality" in text.output and "momentum" in text.output
