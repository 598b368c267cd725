"""What an import did: per-file reports (rows read, accepted, rejected by kind) and totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from attrs import define, field

if TYPE_CHECKING:
    from scanner_core.store import WriteStats

#: Row kinds that reject a row, in the order they are checked.
REJECT_KINDS = (
    "missing_symbol",
    "bad_symbol",
    "bad_timestamp",
    "missing_value",
    "bad_number",
    "non_positive_price",
    "negative_volume",
    "high_below_low",
    "open_outside_range",
    "close_outside_range",
    "non_session_day",
    "outside_session_hours",
    "off_grid",
    "conflicting_duplicate",
    "out_of_order",
)
#: Rows collapsed into an identical row, counted but not errors.
COLLAPSED_KIND = "exact_duplicate"
#: Example rows listed per kind in a report.
EXAMPLES = 5


def shown(text: str) -> str:
    """Text from a file as it may be printed: escaped (repr) unless plainly printable."""
    return text if text.isprintable() else repr(text)


@define
class FileReport:
    """What importing one file did: rows read, stored, rejected by kind, warnings."""

    path: str
    interval: str | None = None
    symbols: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rejected: dict[str, int] = field(factory=dict)
    examples: dict[str, list[str]] = field(factory=dict)
    collapsed: int = 0
    warnings: list[str] = field(factory=list)
    error: str | None = None

    def add(self, kind: str, rows: np.ndarray, details: list[str] | None = None) -> None:
        """Count rows (file row numbers) under a kind, keeping the first few as examples."""
        if not len(rows):
            return
        self.rejected[kind] = self.rejected.get(kind, 0) + len(rows)
        shown = self.examples.setdefault(kind, [])
        for i, row in enumerate(rows[: EXAMPLES - len(shown)]):
            extra = f" ({details[i]})" if details else ""
            shown.append(f"row {int(row)}{extra}")

    def lines(self) -> list[str]:
        """Readable summary lines."""
        if self.error:
            return [f"{self.path}: REJECTED: {self.error}"]
        head = (
            f"{self.path}: {self.interval}, {self.symbols} symbol(s), read {self.rows_read}, "
            f"accepted {self.rows_accepted}, rejected {sum(self.rejected.values())}"
        )
        if self.collapsed:
            head += f", exact duplicates collapsed {self.collapsed}"
        out = [head]
        for kind, n in self.rejected.items():
            out.append(f"  {kind}: {n}  e.g. {', '.join(self.examples.get(kind, []))}")
        out += [f"  warning: {w}" for w in self.warnings]
        return out


@define
class ImportReport:
    """The reports of every file in one import."""

    files: list[FileReport] = field(factory=list)
    stored: dict[str, WriteStats] = field(factory=dict)

    def totals(self) -> dict[str, int]:
        """Rows read, accepted, rejected and collapsed over all files, plus rejected per kind."""
        out = {"files": len(self.files), "failed_files": sum(bool(f.error) for f in self.files)}
        for key in ("rows_read", "rows_accepted", "collapsed"):
            out[key] = sum(getattr(f, key) for f in self.files)
        out["rejected"] = sum(sum(f.rejected.values()) for f in self.files)
        for f in self.files:
            for kind, n in f.rejected.items():
                out[kind] = out.get(kind, 0) + n
        return out

    def format(self) -> str:
        """The whole report as text, one block per file and a total line."""
        t = self.totals()
        lines = [line for f in self.files for line in f.lines()]
        lines.append(
            f"total: {t['files']} file(s) ({t['failed_files']} rejected), read {t['rows_read']}, "
            f"accepted {t['rows_accepted']}, rejected {t['rejected']}, collapsed {t['collapsed']}"
        )
        for interval, s in self.stored.items():
            lines.append(
                f"store {interval}: +{s.added} new, {s.replaced} replaced, {s.unchanged} unchanged"
                + (f", {s.superseded} superseded by a later file" if s.superseded else "")
            )
        return "\n".join(lines)
