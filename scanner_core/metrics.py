"""Prometheus metrics of a running session, served without a thread.

`scanner live --metrics-port PORT` serves the Prometheus text format at `/metrics`
(any path answers). The server is a non-blocking socket the session loop looks after
between its steps and while it waits, never a thread: a live session forks its scans,
and forking while another thread runs may deadlock the child. Figures are computed
from the session's own records at each scrape, so they always agree with its stats.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scanner_core.execution import TIMEOUT

#: How long one scrape may take to send its request before it is dropped.
REQUEST_SECONDS = 1.0


class SessionCollector:
    """Reads a SessionLoop's records and counters at each scrape."""

    def __init__(self, loop: Any) -> None:
        self.loop = loop

    def collect(self) -> Iterator[Any]:
        """The session's metrics families, computed now."""
        loop = self.loop
        records = loop.manager.history.records
        families = {
            "scans": CounterMetricFamily(
                "scanner_scans", "Scan turns run, per scanner", labels=["scanner"]
            ),
            "skips": CounterMetricFamily(
                "scanner_scans_skipped",
                "Scan turns skipped because the previous one still ran",
                labels=["scanner"],
            ),
            "errors": CounterMetricFamily(
                "scanner_scan_errors", "Scan turns that failed", labels=["scanner"]
            ),
            "timeouts": CounterMetricFamily(
                "scanner_scan_timeouts", "Scan turns stopped at their limit", labels=["scanner"]
            ),
        }
        durations = SummaryMetricFamily(
            "scanner_scan_duration_seconds", "Wall time of scan turns", labels=["scanner"]
        )
        for name in dict.fromkeys(r.scanner for r in records):
            mine = [r for r in records if r.scanner == name]
            ran = [r for r in mine if not r.skipped]
            families["scans"].add_metric([name], len(ran))
            families["skips"].add_metric([name], len(mine) - len(ran))
            families["errors"].add_metric([name], sum(r.error is not None for r in ran))
            families["timeouts"].add_metric([name], sum(r.error == TIMEOUT for r in ran))
            durations.add_metric([name], len(ran), sum(r.execution_time_ms for r in ran) / 1000.0)
        yield from families.values()
        yield durations
        yield GaugeMetricFamily(
            "scanner_lag_seconds", "How far the session is behind its feed", value=loop.lag.lag
        )
        yield GaugeMetricFamily(
            "scanner_scans_paused", "1 while scans are paused for lag", value=int(loop.lag.paused)
        )
        yield CounterMetricFamily(
            "scanner_bars_ingested", "Bars the session took in", value=loop.bars_processed
        )
        yield GaugeMetricFamily(
            "scanner_session_symbols",
            "Symbols in the session",
            value=int(loop.session.in_session().sum()),
        )


class MetricsServer:
    """An HTTP endpoint for Prometheus on `port`, served from the loop's own thread."""

    def __init__(self, loop: Any, port: int, host: str = "0.0.0.0") -> None:
        self.loop = loop
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(SessionCollector(loop))
        self.host, self.port = host, port
        self._socket: socket.socket | None = None

    def start(self) -> None:
        """Listen, and have the loop answer scrapes between its steps."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(16)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.loop.tickers.append(self.poll)

    def fileno(self) -> int | None:
        """The listening socket, for a loop that waits on it; None when stopped."""
        return None if self._socket is None else self._socket.fileno()

    def poll(self) -> None:
        """Answer every scrape waiting to be accepted; never blocks on a quiet socket."""
        if self._socket is None:
            return
        while True:
            try:
                conn, _ = self._socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            with contextlib.suppress(OSError), conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(REQUEST_SECONDS)
        request = b""
        deadline = time.monotonic() + REQUEST_SECONDS
        while b"\r\n\r\n" not in request and time.monotonic() < deadline:
            chunk = conn.recv(4096)
            if not chunk:
                break
            request += chunk
        body = generate_latest(self.registry)
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {CONTENT_TYPE_LATEST}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)

    def stop(self) -> None:
        """Stop listening."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.poll in self.loop.tickers:
            self.loop.tickers.remove(self.poll)
