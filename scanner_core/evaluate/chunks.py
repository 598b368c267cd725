"""A backtest's range split into chunks of trading days, run on an executor and merged.

Each chunk is a whole session of its own (its own warm-up from the store), so chunks
run anywhere a ``concurrent.futures`` executor runs them: in this process, in local
processes, or on a Dask cluster through its executor interface.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager

import attrs

from scanner_core.evaluate.replay import ChunkResult, RunSpec, run_range
from scanner_core.progress import Progress


def split_days(days: Sequence[dt.date], chunks: int) -> list[tuple[dt.date, dt.date]]:
    """Contiguous (first, last) ranges over ``days``, as even as whole days allow."""
    chunks = max(1, min(chunks, len(days)))
    size, extra = divmod(len(days), chunks)
    out, at = [], 0
    for k in range(chunks):
        n = size + (1 if k < extra else 0)
        out.append((days[at], days[at + n - 1]))
        at += n
    return out


def merge(results: Sequence[ChunkResult]) -> ChunkResult:
    """Chunk results in range order as one: what a serial run over their union records."""
    ordered = sorted(results, key=lambda r: r.start)
    if not ordered:
        raise ValueError("no chunk to merge")
    merged = ChunkResult(ordered[0].start, ordered[-1].end)
    for r in ordered:
        merged.picks += r.picks
        merged.days += r.days
        merged.bars += r.bars
        merged.scans += r.scans
        merged.problems += [p for p in r.problems if p not in merged.problems]
        merged.scan_records += r.scan_records
    # Did-nothing reasons hold for the whole range only when every chunk gave them.
    if all(r.empty for r in ordered):
        merged.empty = list(dict.fromkeys(e for r in ordered for e in r.empty))
    return merged


@contextmanager
def executor_for(workers: int, scheduler: str | None) -> Iterator[tuple[Executor | None, int]]:
    """The executor chunks run on and the chunks it should get by default: none (this
    process, one chunk) for one worker and no scheduler, ``workers`` local processes, or a
    Dask cluster's executor (two chunks per cluster worker, so a slow one holds no others
    up) when a scheduler is named."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError as exc:
            raise RuntimeError(
                "--scheduler needs dask.distributed: pip install 'scanner-core[dask]'"
            ) from exc
        with Client(scheduler, set_as_default=False) as client:
            cluster = len(client.scheduler_info().get("workers", {})) or 1
            yield client.get_executor(), 2 * cluster
        return
    if workers <= 1:
        yield None, 1
        return
    # A fresh interpreter per worker: forking a session process that has threads is unsafe.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool, workers


def run_chunks(
    spec: RunSpec,
    days: Sequence[dt.date],
    chunks: int,
    executor: Executor | None,
    progress: Progress | None = None,
) -> ChunkResult:
    """Run ``spec``'s days in ``chunks`` pieces on ``executor`` (None: here, in order).

    ``progress`` advances per day here, and per finished chunk on an executor."""
    ranges = split_days(days, chunks)
    specs = [attrs.evolve(spec, start=first, end=last) for first, last in ranges]
    results: list[ChunkResult] = []
    if executor is None:
        watching = [progress] if progress is not None else []
        results = [run_range(one, watching) for one in specs]
    else:
        futures = [executor.submit(run_range, one) for one in specs]
        for future in as_completed(futures):
            done = future.result()
            results.append(done)
            if progress is not None:
                progress.advance(done.days, len(done.picks))
    return merge(results)
