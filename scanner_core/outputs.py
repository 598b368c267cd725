"""Output files a run writes at its end, checked before it starts so no result is lost."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class OutputPathError(ValueError):
    """An output path a run could not write; the message names the option and the path."""


def check_output_paths(paths: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """Raise OutputPathError unless every given path (by option name) can be written.

    A path must not be a folder, its folder must exist and be writable, and no two
    options may name the same file, since the second write would replace the first.
    """
    seen: dict[Path, str] = {}
    for option, value in paths.items():
        if value is None:
            continue
        path = Path(value)
        problem = _problem(path)
        if problem:
            raise OutputPathError(f"{option} {path}: {problem}")
        resolved = path.resolve()
        if resolved in seen:
            raise OutputPathError(f"{option} {path}: the same file as {seen[resolved]}")
        seen[resolved] = option


def _problem(path: Path) -> str | None:
    """What stops a file being written at `path`, or None."""
    if path.is_dir():
        return "is a folder, expected a file path"
    folder = path.parent
    if not folder.exists():
        return f"folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return "is not writable"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"folder {folder} is not writable"
    return None
