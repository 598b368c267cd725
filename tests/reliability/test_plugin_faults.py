"""Corpus: a BaseException from any plugin entry point fails that plugin, never the session.

Each case runs a real one-day backtest over a store imported from CSV, with a well-behaved
scanner (`good`) and one that raises a BaseException kind at one entry point (`faulty`).
The session must complete, its summary must name `faulty`, and `good` must have every
scan record, in the stats history and in the written --history file, that it has when it
runs alone. The stop handlers are installed, as under `scanner run`, so a KeyboardInterrupt
raised by plugin code is a plugin failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from csv_store import import_synthetic

from scanner_core.config import load_config
from scanner_core.coordinator import SessionCoordinator
from scanner_core.shutdown import handling_signals

SCANNERS = Path(__file__).resolve().parents[1] / "fixtures" / "scanners"
DAY = "2019-03-12"
KINDS = ["SystemExit", "KeyboardInterrupt", "GeneratorExit", "PluginAbort"]

GOOD = f"""
[[scanners]]
name = "good"
module = "{SCANNERS / "probe.py"}:AddAt"
timeout_seconds = 0
schedule = {{ interval = "30m", start_time = "10:00", end_time = "15:30" }}
config = {{ at = ["10:00", "11:00"], symbols = ["BBB", "CCC"] }}
"""

FAULTY = """
[[scanners]]
name = "faulty"
module = "{path}:Faulty"
timeout_seconds = {timeout}
schedule = {{ interval = "30m", start_time = "10:00", end_time = "15:30" }}
config = {{ at = "{at}", kind = "{kind}" }}
"""

#: (entry point, timeout_seconds, what the summary says about faulty)
ENTRY_POINTS = [
    ("constructor", 0, "faulty: "),
    ("setup", 0, "faulty: setup raised {kind}: faulty setup"),
    ("session_start", 0, "faulty: session_start raised {kind}: faulty session_start"),
    ("scan", 0, "faulty: disabled after 3 consecutive failures (last: {kind}: faulty scan)"),
    ("scan", 30, "faulty: disabled after 3 consecutive failures (last: {kind}: faulty scan)"),
    ("teardown", 0, "faulty: teardown raised {kind}: faulty teardown"),
    ("after_scan", 0, "faulty: after_scan hook raised {kind}: faulty after_scan"),
    ("symbols_added", 0, "faulty: symbols_added hook raised {kind}: faulty symbols_added"),
]

CASES = [
    pytest.param(at, timeout, kind, line.format(kind=kind), id=f"{kind}-{at}-{where}")
    for at, timeout, line in ENTRY_POINTS
    for where in ["forked" if timeout else "in-process"]
    for kind in KINDS
]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults") / "store"
    import_synthetic(root, [DAY], ["AAA", "BBB", "CCC"])
    return root


def run(folder: Path, store: Path, scanners: str):
    """One backtest day from a written TOML config; the coordinator and its history lines."""
    config = folder / "session.toml"
    config.write_text(
        f'mode = "backtest"\nstart_date = {DAY}\nend_date = {DAY}\nsymbols = ["AAA"]\n'
        f'[data]\nstore = "{store}"\n[universe]\nall = true\n{scanners}'
    )
    session = load_config(config)
    coordinator = SessionCoordinator(session, base_dir=folder, config_file=str(config))
    with handling_signals():
        coordinator.run()
    coordinator.recorder.write(folder / "history.jsonl")
    lines = (folder / "history.jsonl").read_text().splitlines()
    return coordinator, [json.loads(line) for line in lines]


def good_records(coordinator, history):
    records = [
        (r.time, r.symbols_found, r.symbols_added, r.error)
        for r in coordinator.manager.history.records
        if r.scanner == "good"
    ]
    return records, [e for e in history if e["scanner"] == "good"]


@pytest.fixture(scope="module")
def alone(store, tmp_path_factory):
    """What `good` records when it runs by itself."""
    coordinator, history = run(tmp_path_factory.mktemp("alone"), store, GOOD)
    records, events = good_records(coordinator, history)
    assert len(records) == 12 and events[0]["added"] == ["BBB", "CCC"]
    return records, events


@pytest.mark.parametrize(("at", "timeout", "kind", "line"), CASES)
def test_a_plugin_raising_a_base_exception_fails_only_itself(
    at, timeout, kind, line, store, alone, tmp_path
):
    faulty = FAULTY.format(path=SCANNERS / "faulty.py", timeout=timeout, at=at, kind=kind)
    coordinator, history = run(tmp_path, store, GOOD + faulty)

    summary = coordinator.summary.lines()
    assert summary[0].startswith("[SESSION] Summary: 1 days, ")
    problems = [s.removeprefix("[SESSION]   problem: ") for s in summary if "problem:" in s]
    assert any(p.startswith(line) and kind in p for p in problems), problems
    assert not any(p.startswith("good") for p in problems), problems
    assert good_records(coordinator, history) == alone
    if at == "scan":
        errors = [r.error for r in coordinator.manager.history.records if r.scanner == "faulty"]
        assert errors == [f"{kind}: faulty scan"] * 3
