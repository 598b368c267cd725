"""The progress bar: shown only for text logs on a terminal; over a real run it counts
the days and what the scans found."""

from __future__ import annotations

import io
import sys

from backtests import two_day_config
from rich.console import Console

from scanner_core.config import load_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.progress import Progress, wanted


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wanted_only_for_text_logs_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not wanted("text")
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert wanted("text")
    assert not wanted("json")


def test_disabled_progress_does_nothing():
    with Progress(3, "run", enabled=False) as bar:
        bar.advance(1, 5)
        bar.update(2, 3)
    assert bar.count == 5


def test_progress_over_a_run_counts_days_and_found_symbols(tmp_path):
    config = two_day_config(tmp_path)
    coordinator = SessionCoordinator(load_config(config), base_dir=tmp_path)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with Progress(2, "run", unit="found", enabled=True, console=console) as bar:
        coordinator.manager.pm.register(bar, name="progress")
        summary = coordinator.run()
    events = coordinator.recorder.events
    found = sum(len(e["symbols"]) for e in events if not e["error"] and not e["skipped"])
    assert summary.days == 2 and found > 0
    assert bar.count == found
    assert "2/2" in screen.getvalue() and f"{found} found" in screen.getvalue()
