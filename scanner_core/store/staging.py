"""An import's rows held back per partition in run files, merged into the store once at the end.

Files of one symbol each span every day of the import, so writing each batch straight
into the store would read, merge and rewrite every partition once per batch.  Staged,
each batch is sorted once and cut into per-partition runs (plain ``.npy`` arrays in a
private folder under the store root, which reads never look at); at the end each
partition's runs are gathered, in import order, and written with one merge.  Memory
stays one batch, or one partition at the end.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scanner_core.bars import FIELDS, Bars
from scanner_core.store.rows import WriteStats, concat, normalize

_COLUMNS = ("code", "ts", *FIELDS)


class Staging:
    """Runs of rows per (interval, partition key); ``commit`` writes them with ``write``."""

    def __init__(self, root: Path, keys: Callable[[str, np.ndarray], np.ndarray]) -> None:
        self.root = root
        self.keys = keys
        self.folder: Path | None = None
        self.runs: dict[tuple[str, str], list[tuple[Path, tuple[str, ...]]]] = {}
        self.count = itertools.count()

    def add(self, bars: Bars) -> None:
        """Stage rows, later rows of the same symbol and time winning over earlier ones."""
        if not len(bars):
            return
        if self.folder is None:
            self.root.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix=".import-", dir=self.root))
        bars = normalize(bars)
        keys = self.keys(bars.interval, bars.ts)
        bounds = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1, len(bars)]
        for lo, hi in itertools.pairwise(bounds.tolist()):
            path = self.folder / f"{next(self.count)}.npz"
            np.savez(path, **{c: getattr(bars, c)[lo:hi] for c in _COLUMNS})
            self.runs.setdefault((bars.interval, str(keys[lo])), []).append((path, bars.symbols))

    def commit(self, write: Callable[[Bars], WriteStats]) -> dict[str, WriteStats]:
        """Write every staged partition (its runs in the order staged); stats per interval."""
        stats: dict[str, WriteStats] = {}
        try:
            for (interval, _), runs in sorted(self.runs.items()):
                parts = []
                for path, symbols in runs:
                    with np.load(path) as arrays:
                        parts.append(Bars(interval, symbols, *(arrays[c] for c in _COLUMNS)))
                    path.unlink()
                stats[interval] = stats.get(interval, WriteStats()) + write(concat(parts))
        finally:
            self.discard()
        return stats

    def discard(self) -> None:
        """Remove the staged runs."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        self.runs = {}
