"""One partition file: the Parquet layout we write, and reading it back or saying why not.

Each file is sorted by (ts, symbol), keeps ``symbol`` dictionary encoded and lists its
symbols in the footer, so a load is a few column reads with no per-row Python.  Row
groups of ``GROUP_ROWS`` let a time-range load skip (by their ts statistics) the groups
it does not need and decode the rest one group at a time into the result.  Pages carry
CRC checksums, checked on every read, so flipped bits are an error, not wrong prices.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scanner_core.bars import DTYPES as _DTYPES
from scanner_core.bars import FIELDS, Bars, in_time_order
from scanner_core.store.errors import StoreError, read_error, write_error

#: Rows per Parquet row group: the unit a load skips or decodes at a time (~3 MiB).
GROUP_ROWS = 2**16
#: Footer key holding a partition's sorted symbol list (JSON).
SYMBOLS_KEY = b"scanner.symbols"
#: How a temporary file being written ends; reads never look at such files.
TMP_SUFFIX = ".tmp"
SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns")),
        ("symbol", pa.dictionary(pa.int32(), pa.string())),
        *((f, pa.float64()) for f in FIELDS),
    ]
)
_MAGIC = b"PAR1"
_DISORDER = (
    "rows are not sorted by (ts, symbol) or repeat a key"
    " (`scanner data verify --repair` rewrites it)"
)


class Damaged(ValueError):
    """A partition that opens but is not as we write it; the message says what is wrong."""


def write_partition(path: Path, bars: Bars) -> None:
    """Write one partition atomically: a temporary file of its own, fsynced, then renamed.

    The temporary name is unique to this write, so concurrent writers never share one,
    and it is removed when the write fails: the old partition stays as it was.
    """
    symbol = pa.DictionaryArray.from_arrays(
        pa.array(bars.code, pa.int32()), pa.array(bars.symbols, pa.string())
    )
    arrays: list[Any] = [pa.array(bars.ts, pa.timestamp("ns")), symbol]
    arrays += [pa.array(getattr(bars, f), pa.float64()) for f in FIELDS]
    schema = SCHEMA.with_metadata({SYMBOLS_KEY: json.dumps(bars.symbols)})
    table = pa.Table.from_arrays(arrays, schema=schema)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        os.close(fd)
        # Price columns barely compress (lz4 saves ~25%) while decompression doubles load
        # time; uncompressed, plain-encoded floats decode at near memcpy speed.
        pq.write_table(
            table,
            tmp,
            row_group_size=GROUP_ROWS,
            compression="none",
            use_dictionary=["symbol"],
            write_page_checksum=True,
        )
        # Flushed to disk before the rename, so a crash cannot leave a renamed empty file.
        _fsync(tmp, os.O_RDONLY)
        os.replace(tmp, path)
        tmp = None
        _fsync(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def read_partition(
    path: Path, interval: str, lo: np.datetime64 | None, hi: np.datetime64 | None
) -> Bars:
    """The partition's rows with ts in [lo, hi), under the file's own sorted dictionary.

    Only row groups whose ts statistics meet [lo, hi) are read, one at a time, straight
    into the result arrays, so a load holds the result plus one group, not a decoded
    table beside a copy of it.  Raises StoreError naming the file when it cannot be read.
    """
    with _reading(path), _open(path) as file:
        symbols = _symbols(file)
        groups = [g for g in range(file.num_row_groups) if _meets(file, g, lo, hi)]
        sizes = [file.metadata.row_group(g).num_rows for g in groups]
        lookup = pa.array(symbols, pa.string())
        cols = {f: np.empty(sum(sizes), t) for f, t in _DTYPES.items()}
        for g, at in zip(groups, np.cumsum([0, *sizes])[:-1].tolist(), strict=True):
            table = file.read_row_group(g, use_threads=False)
            cols["code"][at : at + table.num_rows] = _codes(table.column("symbol"), lookup)
            for f in ("ts", *FIELDS):
                cols[f][at : at + table.num_rows] = table.column(f).to_numpy()
            del table
        if not in_time_order(cols["ts"], cols["code"]):
            raise Damaged(_DISORDER)
    # Group reads are small and alike; handing their freed blocks back keeps them from
    # adding to the peak of whatever the caller allocates next.
    pa.default_memory_pool().release_unused()
    a = 0 if lo is None else int(np.searchsorted(cols["ts"], lo, "left"))
    b = len(cols["ts"]) if hi is None else int(np.searchsorted(cols["ts"], hi, "left"))
    if (a, b) != (0, len(cols["ts"])):
        cols = {f: v[a : max(a, b)].copy() for f, v in cols.items()}
    for array in cols.values():
        array.flags.writeable = False
    return Bars(interval, symbols, **cols)


def read_rows(path: Path, interval: str) -> tuple[Bars, tuple[str, ...] | None]:
    """Every row of a partition in file order, coded by the symbols the rows hold (sorted),
    and the footer's symbol list (None when the file has none)."""
    with _reading(path), _open(path) as file:
        listed = (file.schema_arrow.metadata or {}).get(SYMBOLS_KEY)
        footer = None if listed is None else tuple(json.loads(listed))
        table = file.read(use_threads=False)
        column = table.column("symbol")
        names = tuple(sorted(set().union(*(c.dictionary.to_pylist() for c in column.chunks))))
        code = _codes(column, pa.array(names, pa.string())) if table.num_rows else []
        cols = {f: table.column(f).to_numpy().astype(_DTYPES[f]) for f in ("ts", *FIELDS)}
    return Bars(interval, names, np.asarray(code, np.int32), **cols), footer


def read_symbols(path: Path) -> tuple[str, ...]:
    """A partition's sorted symbols (from its footer when listed)."""
    with _reading(path), _open(path) as file:
        return _symbols(file)


def read_ts(path: Path) -> np.ndarray:
    """A partition's ts column."""
    with _reading(path), _open(path) as file:
        return file.read(columns=["ts"], use_threads=False).column("ts").to_numpy()


def read_span(path: Path) -> tuple[np.datetime64, np.datetime64] | None:
    """A partition's first and last ts, from its row groups' statistics (None when a
    group has none, or the file no rows)."""
    with _reading(path), _open(path) as file:
        spans = []
        for g in range(file.num_row_groups):
            stats = file.metadata.row_group(g).column(0).statistics
            if stats is None or not stats.has_min_max:
                return None
            spans.append((_stamp(stats.min), _stamp(stats.max)))
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


def _stamp(value: object) -> np.datetime64:
    """A ts statistic as datetime64[ns]."""
    return np.datetime64(pd.Timestamp(value).to_datetime64(), "ns")


def read_row_count(path: Path) -> int:
    """How many rows a partition holds, from its footer."""
    with _reading(path), _open(path) as file:
        return file.metadata.num_rows


def schema_problem(schema: pa.Schema) -> str | None:
    """What differs from the schema we write (column names, order and types), or None."""
    names, expected = schema.names, SCHEMA.names
    if names != expected:
        return f"columns are {', '.join(names) or 'none'}; expected {', '.join(expected)}"
    for field in SCHEMA:
        got = schema.field(field.name).type
        if got != field.type:
            return f"column {field.name!r} is {got}; expected {field.type}"
    return None


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn whatever reading ``path`` raises into one StoreError naming it."""
    try:
        yield
    except StoreError:
        raise
    except Damaged as exc:
        raise StoreError(f"{path}: {exc}") from None
    except (OSError, pa.ArrowException, ValueError, KeyError, IndexError, TypeError) as exc:
        raise read_error(path, exc) from None


#: Read each partition whole into memory before parsing it; a live session sets it so no
#: store read starts a thread its forked scans would inherit (see scanner_core.threads).
READ_INTO_MEMORY = False


def _open(path: Path) -> pq.ParquetFile:
    """A partition opened with page checksums checked, after its magic bytes and schema."""
    with open(path, "rb") as raw:
        head = raw.read(len(_MAGIC))
    if not head:
        raise Damaged("cannot be read: the file is empty")
    if head != _MAGIC:
        raise Damaged("cannot be read (not a Parquet file): it does not start with PAR1")
    # From memory, a read starts no thread of Arrow's I/O pool: a live session forks.
    source = pa.BufferReader(path.read_bytes()) if READ_INTO_MEMORY else path
    file = pq.ParquetFile(source, page_checksum_verification=True)
    problem = schema_problem(file.schema_arrow)
    if problem is not None:
        file.close()
        raise Damaged(f"wrong schema: {problem}")
    return file


def _fsync(path: Path | str, flags: int) -> None:
    """Flush a file's (or a folder's) data to disk."""
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _symbols(file: pq.ParquetFile) -> tuple[str, ...]:
    """A partition's sorted symbols: from the footer, or from the symbol column when a
    file written before the footer listed them lacks the key."""
    listed = (file.schema_arrow.metadata or {}).get(SYMBOLS_KEY)
    if listed is not None:
        symbols = json.loads(listed)
        if not isinstance(symbols, list) or not set(map(type, symbols)) <= {str}:
            raise Damaged("cannot be read: the footer's symbol list is not a list of names")
        names = np.asarray(symbols, str)
        if np.any(names[1:] <= names[:-1]):
            raise Damaged("stale footer: its symbol list is not sorted")
        return tuple(symbols)
    column = file.read(columns=["symbol"]).column(0)
    return tuple(sorted(set().union(*(c.dictionary.to_pylist() for c in column.chunks))))


def _codes(column: pa.ChunkedArray, symbols: pa.Array) -> np.ndarray:
    """A dictionary column's codes into ``symbols`` (sorted, holding every value).

    Each chunk may carry its own dictionary; one equal to ``symbols`` (as written) is
    taken as is, any other is mapped by name.
    """
    parts = [
        c.indices.to_numpy()
        if c.dictionary.equals(symbols)
        else _remap(c.dictionary, symbols)[c.indices.to_numpy()]
        for c in column.chunks
    ]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _remap(names: pa.Array, symbols: pa.Array) -> np.ndarray:
    """Each of ``names``' position in ``symbols`` (sorted); a name missing there means the
    footer's list is stale, which would silently file rows under another symbol."""
    lookup = np.asarray(symbols.to_pylist(), str)
    wanted = np.asarray(names.to_pylist(), str)
    pos = np.searchsorted(lookup, wanted).clip(0, max(len(lookup) - 1, 0))
    lost = wanted[(lookup[pos] != wanted) if len(lookup) else slice(None)]
    if len(lost):
        raise Damaged(f"stale footer: its symbol list lacks {str(lost[0])!r}, which rows hold")
    return pos.astype(np.int32)


def _meets(
    file: pq.ParquetFile, group: int, lo: np.datetime64 | None, hi: np.datetime64 | None
) -> bool:
    """Whether a row group may hold ts in [lo, hi) (True when it has no statistics)."""
    stats = file.metadata.row_group(group).column(0).statistics
    if stats is None or not stats.has_min_max:
        return True
    first, last = _stamp(stats.min), _stamp(stats.max)
    return (lo is None or last >= lo) and (hi is None or first < hi)
