"""The store's manifest: the time zone whose local dates name its intraday partitions.

A store made for Tokyo bars names a day's partition by its Tokyo date, so a session
never spans two files; the zone is recorded by the first write and read back by every
later BarStore on that folder, whoever opens it.
"""

from __future__ import annotations

import json
from pathlib import Path

from scanner_core.store.errors import StoreError

MANIFEST = "store.json"


def recorded_zone(root: Path) -> str | None:
    """The zone the store's partitions are named in, or None for a store without one."""
    path = root / MANIFEST
    try:
        text = path.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None  # no store here yet; writing will say why if it cannot be made
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        zone = json.loads(text)["tz"]
    except (ValueError, KeyError, TypeError):
        raise StoreError(f'{path}: not a store manifest (expected {{"tz": ZONE}})') from None
    if not isinstance(zone, str):
        raise StoreError(f"{path}: tz must be a time zone name, got {zone!r}")
    return zone


def record_zone(root: Path, zone: str) -> None:
    """Write the manifest (the caller holds the store's lock)."""
    from scanner_core.atomic import write_text

    root.mkdir(parents=True, exist_ok=True)
    write_text(root / MANIFEST, json.dumps({"tz": zone}) + "\n")
