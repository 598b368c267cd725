"""Checking every partition of a store, and repairing what can be repaired without loss.

A partition is fine when it reads (checksums included), has the schema we write, is
sorted by (ts, symbol) without repeated keys, lists in its footer exactly the symbols
its rows hold, and holds only rows of its own session (daily: its own year).  Repair
rewrites a fixable partition atomically (the last of repeated rows wins; rows of other
sessions are merged into theirs first), moves an unreadable one to
``<root>/damaged/<interval>/<name>`` and removes temporary files left by a crash.
Nothing is deleted but those temporary files, which never held stored rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from attrs import define, field, frozen

from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.store.barstore import EXCHANGE_TZ, BarStore
from scanner_core.store.errors import StoreError, short_reason
from scanner_core.store.lock import store_lock
from scanner_core.store.partition import TMP_SUFFIX, read_rows, write_partition
from scanner_core.store.rows import keep_last, normalize, partition_keys, repeated_keys

#: Where repair moves partitions it cannot read, by interval.
DAMAGED_DIR = "damaged"


@frozen
class Problem:
    """One thing wrong with one file; ``fixable`` ones are repaired in place."""

    path: Path
    what: str
    fixable: bool


@define
class VerifyReport:
    """What a verify found and, with repair, what it did."""

    checked: int = 0
    problems: list[Problem] = field(factory=list)
    actions: list[str] = field(factory=list)
    repaired: bool = False
    #: Files a repair was asked for but failed on (each has an action line saying why).
    unrepaired: int = 0

    @property
    def ok(self) -> bool:
        """Whether the store is now sound: no problems, or all of them dealt with."""
        return not self.problems or (self.repaired and not self.unrepaired)

    def lines(self) -> list[str]:
        """One line per problem and per action, then the summary."""
        out = [f"{p.path}: {p.what}" for p in self.problems] + self.actions
        damaged = len({p.path for p in self.problems})
        summary = f"{_count(self.checked, 'partition')} checked, {_count(damaged, 'file')}"
        summary += " with problems"
        if self.repaired:
            summary += f", {_count(len(self.actions), 'repair action')}"
        return [*out, summary]


def _count(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless n is 1."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def verify_store(root: Path | str, *, repair: bool = False, tz: str | None = None) -> VerifyReport:
    """Check every partition under ``root``; with ``repair``, fix or move aside each bad one."""
    store = BarStore(root, tz)
    report = VerifyReport(repaired=repair)
    for interval in INTERVAL_MINUTES:
        folder = store.root / interval
        for tmp in sorted(folder.glob(f"*{TMP_SUFFIX}")):
            report.problems.append(
                Problem(tmp, "leftover temporary file of an interrupted write", True)
            )
            if repair:
                _attempt(report, tmp, lambda t=tmp: [_remove_tmp(store, t)])
        for path in sorted(folder.glob("*.parquet")):
            report.checked += 1
            found = check_partition(path, interval, store.tz)
            report.problems += found
            if repair and found:
                _attempt(report, path, lambda p=path, i=interval, f=found: _repair(store, p, i, f))
    return report


def _attempt(report: VerifyReport, path: Path, action) -> None:
    """Run one repair, recording its actions, or the one line saying why it failed."""
    try:
        report.actions += action()
    except StoreError as exc:
        report.actions.append(f"repair failed: {exc}")
        report.unrepaired += 1
    except OSError as exc:
        report.actions.append(f"{path}: repair failed: {short_reason(exc)}")
        report.unrepaired += 1


def check_partition(path: Path, interval: str, tz: str = EXCHANGE_TZ) -> list[Problem]:
    """What is wrong with one partition (empty when it is fine)."""
    try:
        bars, footer = read_rows(path, interval)
    except StoreError as exc:
        return [Problem(path, str(exc).removeprefix(f"{path}: "), False)]
    found: list[str] = []
    order = np.lexsort((bars.code, bars.ts))
    moved = np.flatnonzero(order != np.arange(len(order)))
    if len(moved):
        first = int(moved[0])
        found.append(f"rows are not sorted by (ts, symbol) (first out of place: row {first})")
    repeated = repeated_keys(bars.take(order))
    if repeated.any():
        at = order[int(np.flatnonzero(repeated)[0])]
        found.append(
            f"{int(repeated.sum())} repeated (ts, symbol) keys"
            f" (first: {bars.symbols[bars.code[at]]} at {bars.ts[at]})"
        )
    held = set(np.asarray(bars.symbols, object)[np.unique(bars.code)])
    if footer is not None:
        lacking = sorted(held - set(footer))
        if lacking:
            found.append(f"stale footer: its symbol list lacks {lacking[0]!r}, which rows hold")
        elif list(footer) != sorted(set(footer)):
            found.append("stale footer: its symbol list is not sorted")
    keys = partition_keys(interval, bars.ts, tz)
    elsewhere = keys != path.stem
    if elsewhere.any():
        found.append(
            f"{int(elsewhere.sum())} rows belong to other partitions"
            f" (first: {keys[elsewhere][0]}.parquet)"
        )
    return [Problem(path, what, True) for what in found]


def _repair(store: BarStore, path: Path, interval: str, found: list[Problem]) -> list[str]:
    """Fix one partition: rewrite it, or move it aside when it cannot be read."""
    if not all(p.fixable for p in found):
        return [_move_aside(store, path, interval)]
    actions = []
    bars, _ = read_rows(path, interval)
    elsewhere = partition_keys(interval, bars.ts, store.tz) != path.stem
    if elsewhere.any():
        # Written to their own partitions before they leave this one: a crash in between
        # leaves them twice, never nowhere.
        store.write(bars.take(elsewhere))
        actions.append(f"{path}: moved {int(elsewhere.sum())} rows to their own partitions")
    with store_lock(store.root, path):
        # Read again under the lock: a writer may have merged rows in since the check.
        bars, _ = read_rows(path, interval)
        own = bars.take(partition_keys(interval, bars.ts, store.tz) == path.stem)
        if not len(own):
            actions.append(_move_aside(store, path, interval, locked=True))
            return actions
        fixed, dropped = keep_last(normalize(own))
        write_partition(path, fixed)
    kept = f", {dropped} repeated rows dropped (the last of each kept)" if dropped else ""
    actions.append(f"{path}: rewritten sorted with its footer{kept}")
    return actions


def _move_aside(store: BarStore, path: Path, interval: str, *, locked: bool = False) -> str:
    """Move a partition to the damaged folder under a name not taken yet; say so."""
    folder = store.root / DAMAGED_DIR / interval
    folder.mkdir(parents=True, exist_ok=True)
    target, n = folder / path.name, 1
    while target.exists():
        target, n = folder / f"{path.name}.{n}", n + 1
    if locked:
        os.replace(path, target)
    else:
        with store_lock(store.root, path):
            os.replace(path, target)
    return f"{path}: moved aside to {target}"


def _remove_tmp(store: BarStore, tmp: Path) -> str:
    """Remove a temporary file no writer holds (writers keep theirs under the lock)."""
    with store_lock(store.root, tmp):
        tmp.unlink(missing_ok=True)
    return f"{tmp}: removed"
