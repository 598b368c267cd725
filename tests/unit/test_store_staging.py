"""Staged imports: many batches land exactly as one, the later file winning, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scanner_core.bars import FIELDS
from scanner_core.store import BarStore, barstore

HEADER = "datetime,open,high,low,close,volume\n"


def files(folder: Path) -> list[Path]:
    """Three minute files over two days; the third rewrites some bars of the first."""
    folder.mkdir()
    out = []
    for name, price, minutes in (("A", 10, range(6)), ("B", 20, range(6)), ("A", 11, range(3))):
        rows = [
            f"2019-02-{day} 09:3{m}:00,{price},{price + 1},{price - 1},{price},100\n"
            for day in (11, 12)
            for m in minutes
        ]
        path = folder / f"{len(out)}" / f"{name}_1min.csv"
        path.parent.mkdir()
        path.write_text(HEADER + "".join(rows))
        out.append(path)
    return out


def stored(store: BarStore) -> dict[str, np.ndarray]:
    bars = store.load("1m")
    return {"symbols": np.array(bars.symbols), "code": bars.code, "ts": bars.ts} | {
        f: getattr(bars, f) for f in FIELDS
    }


@pytest.mark.parametrize("batch_rows", [1, 7, 10**9])
def test_any_batch_size_stores_the_same_rows(tmp_path, monkeypatch, batch_rows):
    paths = files(tmp_path / "in")
    one = BarStore(tmp_path / "one")
    one.import_files(paths)
    monkeypatch.setattr(barstore, "_BATCH_ROWS", batch_rows)
    many = BarStore(tmp_path / "many")
    report = many.import_files(paths)
    for name, values in stored(one).items():
        np.testing.assert_array_equal(stored(many)[name], values, err_msg=name)
    # A's first three minutes of each day came twice; the later file's close (11) won
    assert report.stored["1m"].added == 24 and report.stored["1m"].superseded == 6
    assert stored(many)["close"][stored(many)["code"] == 0].tolist().count(11.0) == 6
    assert not list((tmp_path / "many").glob(".import-*"))


def test_a_failed_import_leaves_no_staged_runs(tmp_path, monkeypatch):
    paths = files(tmp_path / "in")
    monkeypatch.setattr(barstore, "_BATCH_ROWS", 1)
    store = BarStore(tmp_path / "store")

    def broken(bars):
        raise OSError("disk full")

    monkeypatch.setattr(store, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        store.import_files(paths)
    assert not list((tmp_path / "store").glob(".import-*"))
