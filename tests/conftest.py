"""Shared fixtures: where the real market data lives, skipping cleanly without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_DATA = Path(
    os.environ.get("SCANNER_REAL_DATA", Path(__file__).resolve().parents[1] / "../shared/data/real")
).resolve()


def pytest_collection_modifyitems(config, items) -> None:
    """Soak tests run on demand only: with SCANNER_SOAK=1."""
    if os.environ.get("SCANNER_SOAK") == "1":
        return
    skip = pytest.mark.skip(reason="a soak test: set SCANNER_SOAK=1 to run it")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared real-data folder; tests using it skip when it is absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real market data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def sample_week_store(tmp_path_factory) -> Path:
    """The bundled eqker week (bar-end labelled minutes, daily bars) in a fresh store."""
    from scanner_core.store import BarStore

    sample = Path(__file__).resolve().parents[1] / "examples/data/eqker_2019"
    root = tmp_path_factory.mktemp("sample-week")
    store = BarStore(root)
    store.import_files(sorted(sample.glob("*_1min.csv.gz")), timestamps="end")
    store.import_files(sorted(sample.glob("*_daily.csv.gz")))
    return root
