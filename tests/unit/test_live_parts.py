"""The pieces of a live session: lag watch, websocket messages, market-time logs, metrics."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
import time

import pytest

from scanner_core.feeds import Feed, FeedError, feed_names, load_feed
from scanner_core.feeds.wire import BarsMessage, Heartbeat, Rejected, ServerError, parse
from scanner_core.lag import LagWatch
from scanner_core.logs import configure_logging, get_logger, market_clock

T = dt.datetime(2019, 2, 12, 15, 0, tzinfo=dt.UTC)
BAR = {"symbol": "AAPL", "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10}


def test_lag_pauses_over_the_threshold_and_resumes_under_half(caplog):
    watch = LagWatch(10.0)
    with caplog.at_level(logging.WARNING, logger="scanner"):
        watch.observe(4.0, T)
        assert not watch.paused
        watch.observe(12.0, T)
        assert watch.paused and watch.pauses == 1
        watch.held(T, ["gap", "gap"])
        watch.observe(6.0, T)  # under the threshold, not yet under half of it
        assert watch.paused
        watch.observe(5.0, T)
    assert not watch.paused and watch.resumes == 1
    assert watch.as_dict()["scans_held"] == {"gap": 2}
    assert watch.max_seen == 12.0
    lines = [r.getMessage() for r in caplog.records]
    assert sum("scheduled scans paused" in line for line in lines) == 1
    assert sum("scheduled scans resumed" in line for line in lines) == 1


def test_websocket_messages_parse_or_are_rejected_with_a_reason():
    bars = parse(
        json.dumps(
            {
                "type": "bars",
                "interval": "1m",
                "ts": "2019-02-12T14:30:00Z",
                "bars": [BAR, dict(BAR, symbol="MSFT")],
            }
        )
    )
    assert isinstance(bars, BarsMessage) and bars.bars.symbols == ("AAPL", "MSFT")
    assert str(bars.ts) == "2019-02-12T14:30:00.000000000"
    assert parse('{"type": "heartbeat", "time": "2019-02-12T14:31:00+00:00"}') == Heartbeat(
        dt.datetime(2019, 2, 12, 14, 31, tzinfo=dt.UTC)
    )
    assert parse('{"type": "error", "message": "late"}') == ServerError("late")
    bad = {
        "{oops": "not JSON",
        "[1]": "expected a JSON object",
        '{"type": "quote"}': "type:",
        '{"type": "heartbeat", "time": "2019-02-12T14:31:00"}': "no UTC offset",
        json.dumps(
            {
                "type": "bars",
                "interval": "1m",
                "ts": "2019-02-12T14:30:00Z",
                "bars": [dict(BAR, high=0.1)],
            }
        ): "low <= open",
        json.dumps(
            {
                "type": "bars",
                "interval": "1m",
                "ts": "2019-02-12T14:30:00Z",
                "bars": [dict(BAR, volume="many")],
            }
        ): "volume",
        json.dumps(
            {"type": "bars", "interval": "1m", "ts": "2019-02-12T14:30:00Z", "bars": [BAR, BAR]}
        ): "twice",
    }
    for text, why in bad.items():
        message = parse(text)
        assert isinstance(message, Rejected) and message.reason == "malformed", text
        assert why in message.detail, (text, message.detail)


def test_feeds_load_by_entry_point_name():
    assert {"store", "replay", "websocket"} <= set(feed_names())
    assert isinstance(load_feed("replay", speed=100), Feed)
    with pytest.raises(FeedError, match="no feed named 'nope'"):
        load_feed("nope")
    with pytest.raises(FeedError, match="url"):
        load_feed("websocket", url="http://example.com")


def test_log_lines_carry_the_session_clock_beside_the_wall_clock():
    out = io.StringIO()
    configure_logging("text", stream=out)
    log = get_logger("test")
    log.info("before")
    with market_clock(lambda: T.astimezone(dt.timezone(dt.timedelta(hours=-5)))):
        log.info("during")
    configure_logging("json", stream=out)
    with market_clock(lambda: T):
        log.info("as json")
    before, during, as_json = out.getvalue().splitlines()
    assert "market" not in before
    assert "[market 2019-02-12T10:00:00-05:00] INFO    [SCANNER] during" in during
    assert json.loads(as_json)["market_ts"] == "2019-02-12T15:00:00+00:00"


def test_the_metrics_endpoint_is_scraped_over_http(sample_week_store, tmp_path):
    from scanner_core.config import parse_config
    from scanner_core.feeds.replay import ReplayFeed
    from scanner_core.loop import SessionLoop
    from scanner_core.metrics import MetricsServer

    config = {
        "start_date": "2019-02-12",
        "end_date": "2019-02-12",
        "data": {"store": str(sample_week_store)},
        "universe": {"symbols": ["AAPL", "MSFT"]},
        "scanners": [
            {
                "name": "movers",
                "module": "tests/fixtures/scanners/probe.py:TopMovers",
                "timeout_seconds": 10,
                "schedule": {"interval": "30m", "start_time": "10:00", "end_time": "15:30"},
            }
        ],
    }
    loop = SessionLoop(parse_config(config, "m.toml"), ReplayFeed(speed=500))
    server = MetricsServer(loop, 0, host="127.0.0.1")
    server.start()
    out = tmp_path / "scraped.txt"
    client: list[subprocess.Popen] = []
    fetch = (
        "import sys, urllib.request;"
        f"r = urllib.request.urlopen('http://127.0.0.1:{server.port}/metrics', timeout=30);"
        "sys.stdout.write(str(r.status) + '\\n' + r.read().decode())"
    )

    def scrape() -> None:
        # An HTTP client in its own process, started once the first scan is recorded;
        # the loop answers it between its steps.
        if not client and loop.manager.history.records:
            client.append(subprocess.Popen([sys.executable, "-c", fetch], stdout=out.open("w")))

    loop.tickers.append(scrape)
    loop.run()
    # The session is over; the client may still wait for its answer.
    while client and client[0].poll() is None:
        server.poll()
        time.sleep(0.01)
    server.stop()
    assert client and client[0].returncode == 0
    status, text = out.read_text().split("\n", 1)
    assert status == "200"
    for name in (
        "scanner_scans_total",
        "scanner_scan_duration_seconds_count",
        "scanner_scans_skipped_total",
        "scanner_scan_errors_total",
        "scanner_scan_timeouts_total",
        "scanner_lag_seconds",
        "scanner_bars_ingested_total",
        "scanner_session_symbols",
    ):
        assert name in text, name
    assert 'scanner_scans_total{scanner="movers"}' in text


def test_an_inbox_sends_the_earlier_scans_changes_once_the_last_was_handed_on():
    from scanner_core.earlier import Inbox, receive

    inbox = Inbox({("a", T), ("b", T)})
    read_fd = inbox.read_fd
    inbox.handed_on(("a", T), [("join", ["TSLA"])])
    inbox.handed_on(("z", T), [("join", ["NOT-WAITED-FOR"])])
    assert inbox.write_fd >= 0  # still waiting for b
    inbox.handed_on(("b", T), [("leave", ["TSLA"]), ("join", ["MU"])])
    assert inbox.write_fd == -1
    assert receive(read_fd) == [("join", ["TSLA"]), ("leave", ["TSLA"]), ("join", ["MU"])]


def test_a_child_whose_inbox_closed_unsent_scans_the_session_as_forked():
    from scanner_core.earlier import Inbox

    inbox = Inbox({("a", T)})
    seen = []
    turn = inbox.turn(lambda context: ("scanned", context), seen.extend)
    write_fd = inbox.write_fd
    inbox.write_fd = os.dup(write_fd)  # the turn closes the child's copy, as in a child
    inbox.close()
    assert turn("ctx") == ("scanned", "ctx")
    assert seen == []


def test_the_replay_speed_is_zero_for_unpaced_or_positive():
    from scanner_core.feeds.replay import ReplayFeed

    assert not ReplayFeed(speed=0).paced and ReplayFeed(speed=2).paced
    with pytest.raises(ValueError, match="speed must be 0"):
        ReplayFeed(speed=-1)
