"""A live session's ingestion and lag figures: the stats file's `session` object, the
summary's `Live:` line."""

from __future__ import annotations

from typing import Any


def live_stats(loop: Any) -> dict[str, Any] | None:
    """A live session's ingestion and lag figures, for the stats file; None in a backtest."""
    if not loop.live:
        return None
    stats = loop.feed.stats
    return {
        "bars_received": stats.bars_received,
        "bars_processed": loop.bars_processed,
        "scans_skipped": sum(1 for r in loop.manager.history.records if r.skipped),
        "rejected": dict(stats.rejected),
        "reconnects": stats.reconnects,
        **loop.lag.as_dict(),
    }


def live_lines(loop: Any) -> list[str]:
    """The live summary lines: bars received against processed, skips, lag."""
    stats = live_stats(loop)
    if stats is None:
        return []
    same = "==" if stats["bars_received"] == stats["bars_processed"] else "!="
    held = sum(stats["scans_held"].values())
    rejected = sum(stats["rejected"].values())
    return [
        f"[SESSION] Live: bars received {stats['bars_received']} {same}"
        f" bars processed {stats['bars_processed']}; rejected {rejected};"
        f" scans skipped {stats['scans_skipped']}, held for lag {held};"
        f" max lag {stats['max_lag_seconds']:.1f}s, {stats['pauses']} pauses"
    ]
