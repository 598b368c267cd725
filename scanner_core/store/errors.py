"""StoreError: a partition that cannot be read or written, named with what is wrong."""

from __future__ import annotations

import errno
from pathlib import Path


class StoreError(ValueError):
    """A store file that cannot be read or written; the message names the file and why."""


def read_error(path: Path, exc: BaseException) -> StoreError:
    """The one-line error for a partition whose bytes pyarrow (or our footer) rejects."""
    if isinstance(exc, FileNotFoundError):
        return StoreError(f"{path}: cannot be read: the file disappeared while reading")
    return StoreError(
        f"{path}: cannot be read (truncated or not a Parquet file): {short_reason(exc)}"
    )


def write_error(path: Path, exc: OSError) -> StoreError:
    """The one-line error for a partition that could not be written; the old one is intact."""
    why = "the disk is full" if exc.errno == errno.ENOSPC else short_reason(exc)
    return StoreError(f"{path}: cannot be written ({why}); the stored partition is unchanged")


def short_reason(exc: BaseException) -> str:
    """An exception's message as one short line (pyarrow's can span several)."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror if exc.filename is None else f"{exc.strerror}: {exc.filename}"
    else:
        text = str(exc) or type(exc).__name__
    line = " ".join(text.split())
    return line if len(line) <= 160 else line[:157] + "..."
