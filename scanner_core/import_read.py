"""Reading one import file into columns of text: pyarrow's CSV reader, pandas where it refuses.

Every column comes back as a pyarrow string column, cells as written (null only where a
short row has no cell at all), with the file row number of the first data row.  pyarrow
reads plain, well-formed CSV several times faster than pandas; any file it would read
otherwise or not at all (ragged rows, quoted cells, a byte-order mark, bad bytes, broken
gzip) goes to pandas, whose errors give the reasons a report prints, so the rules and
messages do not depend on the reader.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path

import pyarrow as pa

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


def read_text_table(path: Path) -> tuple[pa.Table, int]:
    """All columns as text, and the file row number of the first data row."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return _read_parquet(path), 1
    table = _read_csv_arrow(path)
    if table is None:
        table = _read_csv_pandas(path)
    return table, 2  # line 1 is the header


def _read_csv_arrow(path: Path) -> pa.Table | None:
    """The file read by pyarrow, or None when pyarrow cannot read it exactly as pandas would."""
    import pyarrow.csv as pacsv

    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if path.name.lower().endswith(".gz"):
        if raw[:2] != _GZIP_MAGIC:
            return None
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            return None
    if raw.startswith(_BOM):
        return None
    head, _, body = raw.partition(b"\n")
    # Quoting rules differ in the corners (a quote after spaces, one left open): a file
    # quoting any cell is left to pandas.
    if b'"' in body:
        return None
    header = _header(head)
    # A header pandas would rename (repeats, blanks) or a quoted one is left to pandas.
    if header is None or len(set(header)) != len(header) or "" in header:
        return None
    options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in header}, strings_can_be_null=False
    )
    try:
        return pacsv.read_csv(
            pa.py_buffer(raw),
            read_options=pacsv.ReadOptions(use_threads=False),
            convert_options=options,
        )
    except (pa.ArrowException, UnicodeDecodeError):
        return None


def _header(line: bytes) -> list[str] | None:
    """The header line's names, or None when it is not UTF-8 on one line."""
    line = line.rstrip(b"\r")
    if not line or line.count(b'"') % 2:
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    names = next(csv.reader([text]))
    if any(n != n.strip() for n in names):
        return None
    return names


def _read_csv_pandas(path: Path) -> pa.Table:
    """The file read by pandas; ValueError with the reason when it cannot be read."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise ValueError(_encoding_error(path, exc)) from None
    except EOFError as exc:
        raise ValueError(f"truncated gzip file: {exc}") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"not a valid gzip file: {exc}") from None
    except pd.errors.ParserError as exc:
        raise ValueError(str(exc)) from None
    return _text_table(frame)


def _read_parquet(path: Path) -> pa.Table:
    """A Parquet file's columns as text; ValueError when it is not valid Parquet."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except pa.ArrowException as exc:
        raise ValueError(f"not a valid Parquet file: {exc}") from None
    return _text_table(frame.astype(str).where(frame.notna(), ""))


def _text_table(frame) -> pa.Table:
    """A frame of text cells (NaN where a row has no cell) as string columns."""
    names = [str(c) for c in frame.columns]
    arrays = [
        pa.array(frame[c].to_numpy(dtype=object), pa.string(), from_pandas=True) for c in frame
    ]
    return pa.Table.from_arrays(arrays, names=names) if names else pa.table({})


def _encoding_error(path: Path, exc: UnicodeDecodeError) -> str:
    """Which line of a file is not UTF-8, found by reading it again line by line."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as bad:
                return f"not UTF-8 text: line {number}, byte {line[bad.start]:#04x} ({bad.reason})"
    return f"not UTF-8 text: {exc.reason}"
