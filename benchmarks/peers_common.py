"""What every peer of benchmarks/peers.py shares: the momentum day's definition, its
inputs in the store and its output. Standard library only: each peer imports it in its
own environment.

The momentum scanner (scanner_plugins/momentum) at examples/demo.toml's settings, scanned
every 15 minutes from 10:00 to 15:30 New York time. A symbol is a hit at a scan time t
when, on 5-minute bars closed by t (buckets from the 09:30 open):

- RSI(14), Wilder's: changes of closes (the first bar's change is 0); the gain and loss
  averages are seeded at the 15th bar with the sum of its 14 changes / 14, then follow
  avg += (x - avg) / 14; RSI = 100 * gain / (gain + loss), 50 when both are 0; valid
  from the 15th bar, counted from the symbol's first bar in the store;
- volume ratio(20): the newest bar's volume over the mean volume of the 20 bars before
  it, valid from the 21st bar when that mean is > 0;
- SMA(20) of the 20 newest daily closes before the day;
- close (the newest 5-minute bar's) > SMA, RSI >= 70, volume ratio >= 2, and some volume
  traded in the day so far.

The workload holds every minute of every session, so the newest bar at t is always the
one ending at t.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

RSI_PERIOD = 14
RSI_MIN = 70.0
RATIO_PERIOD = 20
RATIO_MIN = 2.0
SMA_DAYS = 20
BAR_MINUTES = 5
#: Scan times, New York wall clock.
FIRST_SCAN, LAST_SCAN, EVERY = dt.time(10, 0), dt.time(15, 30), 15


def scan_times_utc(day: dt.date) -> list[dt.datetime]:
    """The day's scan times as naive UTC (the store's convention)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    at = dt.datetime.combine(day, FIRST_SCAN, zone)
    end = dt.datetime.combine(day, LAST_SCAN, zone)
    out = []
    while at <= end:
        out.append(at.astimezone(dt.UTC).replace(tzinfo=None))
        at += dt.timedelta(minutes=EVERY)
    return out


def inputs(store: Path, day: dt.date) -> tuple[list[Path], list[Path]]:
    """The store's 1-minute partitions up to the day and its daily partitions."""
    minutes = sorted(p for p in (store / "1m").glob("*.parquet") if p.stem <= day.isoformat())
    daily = sorted((store / "1d").glob("*.parquet"))
    return minutes, daily


def key(t: dt.datetime) -> str:
    """A scan time as the hits' key: naive UTC, ISO."""
    return t.replace(tzinfo=None).isoformat(timespec="minutes")


def write_hits(out: Path, hits: dict[str, list[str]], started: float) -> None:
    """The hits per scan time (symbols sorted) and the compute time since ``started``."""
    seconds = time.perf_counter() - started
    body = {"compute_s": seconds, "hits": {k: sorted(v) for k, v in sorted(hits.items())}}
    out.write_text(json.dumps(body))


def read_pandas(paths: list[Path]):
    """Partitions as one long pandas frame with plain string symbols (pandas peers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pa.concat_tables([pq.read_table(p) for p in paths]).to_pandas()
    frame["symbol"] = frame["symbol"].astype(str)
    return frame


def wide_bars(paths: list[Path]):
    """5-minute closes and volumes as wide pandas frames, time x symbol (pandas peers)."""
    bars = read_pandas(paths)
    bars["bucket"] = bars["ts"].dt.floor(f"{BAR_MINUTES}min")
    grouped = bars.groupby(["bucket", "symbol"], sort=True)
    return grouped["close"].last().unstack(), grouped["volume"].sum().unstack()


def arguments() -> tuple[Path, dt.date, Path]:
    """A peer's command line: STORE DAY OUT."""
    import sys

    store, day, out = sys.argv[1:4]
    return Path(store), dt.date.fromisoformat(day), Path(out)
