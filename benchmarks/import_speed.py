"""`scanner data import` against the pyarrow floor on the same 1-minute CSV files.

Run: ``python benchmarks/import_speed.py [--symbols 8000] [--days 5] [--repeat 1]``.

The files (seeded, ``--seed``; written once under var/bench/ and reused): one file per
symbol, ``S00000_1min.csv`` ..., as vendors ship them (the bundled
examples/data/eqker_2019 layout): a ``datetime,open,high,low,close,volume`` header, then
every regular-session minute of ``--days`` XNYS sessions from 2019-02-12 on, stamped in
New York wall-clock time, prices with two decimals, whole volumes. 8,000 x 5 days is
15.6M rows.

Two fresh processes, each timed whole (wall, CPU, peak RSS) ``--repeat`` times:

- the floor: pyarrow reads every file (typed columns, its own timestamp parser), adds the
  symbol from the file name, converts New York time to UTC, sorts by (ts, symbol) and
  writes one Parquet file per session day. No validation at all;
- ``scanner data import DIR --store STORE`` (the installed console script) into a new
  store: every validation rule of docs/data.md, then the store's partitions.

Both are checked to hold the same rows (count per day and the sum of closes), and the
ratio of their wall times is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIRST_DAY = dt.date(2019, 2, 12)
ZONE = "America/New_York"


def session_minutes(days: int) -> np.ndarray:
    """New York wall-clock starts of every regular 1-minute bar of ``days`` sessions."""
    from scanner_core.calendar import TimeManager

    tm = TimeManager()
    sessions = tm.sessions(FIRST_DAY, FIRST_DAY + dt.timedelta(days=3 * days + 7))[:days]
    out = []
    for day in sessions:
        open_, close = tm.open_close(day)
        start = np.datetime64(open_.replace(tzinfo=None), "m")
        out.append(start + np.arange(int((close - open_).total_seconds() // 60)))
    return np.concatenate(out)


def build_files(folder: Path, n: int, days: int, seed: int) -> None:
    """Write the workload's CSV files (see the module docstring) into folder."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    times = session_minutes(days)
    stamps = pa.array(np.datetime_as_string(times, unit="s")).cast(pa.string())
    stamps = pa.compute.replace_substring(stamps, "T", " ")
    unquoted = pacsv.WriteOptions(quoting_style="none")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        start = rng.uniform(5, 400)
        close = start * np.exp(np.cumsum(rng.normal(0.0, 0.002, len(times))))
        open_ = np.r_[start, close[:-1]]
        spread = np.abs(rng.normal(0, 0.001, len(times))) * close
        high = np.maximum(open_, close) + spread
        low = np.minimum(open_, close) - spread
        # Rounded to cents without leaving the range the unrounded bar had.
        high, low = np.ceil(high * 100) / 100, np.floor(low * 100) / 100
        table = pa.table(
            {
                "datetime": stamps,
                "open": np.round(open_, 2),
                "high": high,
                "low": low,
                "close": np.round(close, 2),
                "volume": rng.lognormal(7, 1.2, len(times)).round().astype(np.int64),
            }
        )
        pacsv.write_csv(table, folder / f"S{i:05d}_1min.csv", write_options=unquoted)


def floor(csv_dir: str, out_dir: str) -> None:
    """The floor, run in a child process: read, convert to UTC, sort, write per day."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    types = {"datetime": pa.timestamp("s"), "volume": pa.float64()}
    types |= {f: pa.float64() for f in ("open", "high", "low", "close")}
    options = pacsv.ConvertOptions(column_types=types)
    tables = []
    for path in sorted(Path(csv_dir).glob("*.csv")):
        table = pacsv.read_csv(path, convert_options=options)
        symbol = path.name.split("_")[0]
        tables.append(table.append_column("symbol", pa.array([symbol] * len(table))))
    table = pa.concat_tables(tables)
    utc = pc.cast(pc.assume_timezone(table["datetime"], ZONE), pa.timestamp("ns", "UTC"))
    table = table.append_column("ts", pc.cast(utc, pa.timestamp("ns")))
    table = table.sort_by([("ts", "ascending"), ("symbol", "ascending")])
    table = table.set_column(
        table.schema.get_field_index("symbol"), "symbol", pc.dictionary_encode(table["symbol"])
    )
    # partitions are named by the New York date, as the store names them
    day = pc.cast(table["datetime"], pa.date32()).to_numpy()
    table = table.drop_columns(["datetime"])
    bounds = np.r_[0, np.flatnonzero(day[1:] != day[:-1]) + 1, len(day)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for lo, hi in itertools.pairwise(bounds):
        part = table.slice(lo, hi - lo)
        pq.write_table(part, out / f"{day[lo]}.parquet", compression="none")


def check_same(floor_dir: Path, store_dir: Path) -> str:
    """Rows per day and the sum of closes, the same in both outputs; what they are."""
    import pyarrow.parquet as pq

    mine = {p.stem: pq.read_table(p, columns=["close"]) for p in floor_dir.glob("*.parquet")}
    theirs = {
        p.stem: pq.read_table(p, columns=["close"]) for p in (store_dir / "1m").glob("*.parquet")
    }
    if sorted(mine) != sorted(theirs):
        sys.exit(f"different days: floor {sorted(mine)}, import {sorted(theirs)}")
    rows = 0
    for day in mine:
        a, b = mine[day]["close"].to_numpy(), theirs[day]["close"].to_numpy()
        if len(a) != len(b) or not np.isclose(a.sum(), b.sum(), rtol=1e-12):
            sys.exit(f"{day}: floor holds {len(a)} rows, import {len(b)}")
        rows += len(a)
    return f"{rows:,} rows in {len(mine)} day partitions, the same in both"


def main() -> None:
    """Build or reuse the files, time both processes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=8000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--floor-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        floor(*args.floor_child)
        return
    # the floor's child imports pyarrow alone; backtest_day brings the scanner core
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from backtest_day import measured, span

    folder = ROOT / "var" / "bench" / f"import-{args.symbols}x{args.days}-seed{args.seed}"
    csv_dir, done = folder / "csv", folder / "built"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        build_files(csv_dir, args.symbols, args.days, args.seed)
        done.write_text(f"{time.perf_counter() - started:.1f} s\n")
        print(f"files written in {done.read_text().strip()}: {csv_dir}")
    floor_dir, store_dir = folder / "floor", folder / "store"
    scanner = str(Path(sys.executable).with_name("scanner"))
    floors, imports = [], []
    for _ in range(args.repeat):
        shutil.rmtree(floor_dir, ignore_errors=True)
        shutil.rmtree(store_dir, ignore_errors=True)
        floors.append(
            measured([sys.executable, __file__, "--floor-child", str(csv_dir), str(floor_dir)])
        )
        imports.append(
            measured([scanner, "data", "import", str(csv_dir), "--store", str(store_dir)])
        )
    print(
        f"workload: {args.symbols:,} files x {args.days} day(s) of 1-minute CSV, seed {args.seed}"
    )
    print(check_same(floor_dir, store_dir))
    for name, runs in (("pyarrow floor", floors), ("`scanner data import`", imports)):
        print(
            f"{name:22s} wall {span([r['wall_s'] for r in runs])},"
            f" CPU {span([r['cpu_s'] for r in runs])},"
            f" peak RSS {span([r['peak_mb'] for r in runs], 'MB')}"
        )
    ratios = [i["wall_s"] / f["wall_s"] for f, i in zip(floors, imports, strict=True)]
    print(f"import / floor (wall): {span(ratios, 'x')}")


if __name__ == "__main__":
    main()
