"""Fault corpus, store group: every kind of damage to a stored partition, crossed with
what a user does next (load, import, verify, verify --repair, `scanner run` with and
without --skip-damaged).  Each case checks the one-line message naming the file, the
documented outcome, and that every row of the undamaged partitions is still there."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from synthetic import synthetic_minutes

from scanner_core.bars import Bars
from scanner_core.store import BarStore, StoreError, concat
from scanner_core.store.partition import SYMBOLS_KEY, read_partition, write_partition
from scanner_core.store.verify import DAMAGED_DIR, verify_store

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests/fixtures/scanners/probe.py"
_SCRIPT = Path(sys.executable).with_name("scanner")
SCANNER = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from scanner_core.cli import main; main()"]
)
DAYS = ("2019-02-11", "2019-02-12", "2019-02-13")
TARGET = DAYS[1]
SYMBOLS = ["AA", "BB"]

# -- the store every case starts from -----------------------------------------------------


def day_bars(day: str, symbols=SYMBOLS, seed: int = 0) -> Bars:
    return synthetic_minutes(day, list(symbols), seed=seed + DAYS.index(day), minutes=20)


def daily_bars() -> Bars:
    ts = np.array([f"{d}T00:00" for d in DAYS], "datetime64[ns]")
    n = len(DAYS)
    return Bars("1d", ("AA",), np.zeros(n, np.int32), ts, *([np.full(n, 10.0)] * 5))


def build(root: Path) -> dict[Path, set]:
    """Three days of minutes and a year of daily bars; every partition's rows."""
    store = BarStore(root)
    store.write(concat([day_bars(d) for d in DAYS]))
    store.write(daily_bars())
    return {p: keyed(root, p) for p in sorted(root.glob("*/*.parquet"))}


def keyed(root: Path, path: Path) -> set[tuple]:
    """A partition's rows as (symbol, ts, close, volume), read straight from its file."""
    bars = read_partition(path, path.parent.name, None, None)
    return {
        (bars.symbols[c], int(t), float(x), float(v))
        for c, t, x, v in zip(
            bars.code, bars.ts.view("int64"), bars.close, bars.volume, strict=True
        )
    }


def assert_others_intact(before: dict[Path, set], damaged: Path) -> None:
    """Every row of every partition but the damaged one is still stored."""
    for path, rows in before.items():
        if path != damaged:
            assert keyed(path.parents[1], path) == rows, path


def one_line(exc: pytest.ExceptionInfo, path: Path, fragment: str) -> None:
    message = str(exc.value)
    assert message.startswith(f"{path}: "), message
    assert fragment in message and "\n" not in message, message


# -- kinds of damage ----------------------------------------------------------------------


def truncate(n: int) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[:n])

    return damage


def flip(where: Callable[[bytes, pq.FileMetaData], int]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        at = where(bytes(data), pq.ParquetFile(path).metadata)
        data[at] ^= 0x55
        path.write_bytes(bytes(data))

    return damage


def column_page(name: str) -> Callable[[bytes, pq.FileMetaData], int]:
    """The middle of a column's first chunk: inside its values, past the page header."""

    def where(data: bytes, meta: pq.FileMetaData) -> int:
        group = meta.row_group(0)
        column = next(
            group.column(i)
            for i in range(group.num_columns)
            if group.column(i).path_in_schema == name
        )
        return column.data_page_offset + column.total_compressed_size // 2

    return where


def rewrite(change: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        pq.write_table(change(pq.read_table(path)), path)

    return damage


def rewrite_rows(change: Callable[[Bars], Bars]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        write_partition(path, change(read_partition(path, "1m", None, None)))

    return damage


def leftover_tmp(path: Path) -> None:
    (path.parent / f"{path.name}.a1b2c3.tmp").write_bytes(path.read_bytes()[:50])


def delete(path: Path) -> None:
    path.unlink()


def remove_daily(path: Path) -> None:
    path.unlink()
    path.parent.rmdir()


def garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(5).bytes(3000))


UNREADABLE, DISORDER, FOOTER, TMP, GONE, HARMLESS = (
    "unreadable",
    "disorder",
    "footer",
    "tmp",
    "gone",
    "harmless",
)
NOT_PARQUET = "cannot be read (truncated or not a Parquet file)"
DISORDERED = "rows are not sorted by (ts, symbol) or repeat a key"

#: (id, interval of the damaged partition, damage, outcome, fragment of the message)
DAMAGES = [
    ("truncated-to-4", "1m", truncate(4), UNREADABLE, NOT_PARQUET),
    ("truncated-to-100", "1m", truncate(100), UNREADABLE, NOT_PARQUET),
    ("truncated-to-1000", "1m", truncate(1000), UNREADABLE, NOT_PARQUET),
    ("truncated-by-8", "1m", truncate(-8), UNREADABLE, NOT_PARQUET),
    ("truncated-by-1", "1m", truncate(-1), UNREADABLE, NOT_PARQUET),
    ("emptied", "1m", truncate(0), UNREADABLE, "cannot be read: the file is empty"),
    ("flip-leading-magic", "1m", flip(lambda d, m: 1), UNREADABLE, "does not start with PAR1"),
    ("flip-first-page-header", "1m", flip(lambda d, m: 6), UNREADABLE, NOT_PARQUET),
    ("flip-ts-data", "1m", flip(column_page("ts")), UNREADABLE, "CRC checksum"),
    ("flip-close-data", "1m", flip(column_page("close")), UNREADABLE, "CRC checksum"),
    ("flip-footer-length", "1m", flip(lambda d, m: len(d) - 6), UNREADABLE, NOT_PARQUET),
    ("flip-trailing-magic", "1m", flip(lambda d, m: len(d) - 2), UNREADABLE, NOT_PARQUET),
    ("flip-writer-name", "1m", flip(lambda d, m: d.rindex(b"parquet-cpp") + 2), HARMLESS, ""),
    ("random-bytes", "1m", garbage, UNREADABLE, "does not start with PAR1"),
    ("csv-text", "1m", lambda p: p.write_text("ts,open\n1,2\n"), UNREADABLE, "not a Parquet file"),
    (
        "float32-column",
        "1m",
        rewrite(lambda t: t.set_column(5, "close", t.column("close").cast(pa.float32()))),
        UNREADABLE,
        "wrong schema: column 'close' is float; expected double",
    ),
    (
        "missing-column",
        "1m",
        rewrite(lambda t: t.drop_columns(["volume"])),
        UNREADABLE,
        "wrong schema: columns are ts, symbol, open, high, low, close; expected",
    ),
    (
        "unsorted",
        "1m",
        rewrite_rows(lambda b: b.take(np.arange(len(b))[::-1])),
        DISORDER,
        DISORDERED,
    ),
    (
        "duplicate-keys",
        "1m",
        rewrite_rows(lambda b: concat([b, b.take(np.arange(3))])),
        DISORDER,
        DISORDERED,
    ),
    (
        "stale-footer",
        "1m",
        rewrite(lambda t: t.replace_schema_metadata({SYMBOLS_KEY: b'["BB"]'})),
        FOOTER,
        "stale footer: its symbol list lacks 'AA'",
    ),
    ("leftover-tmp", "1m", leftover_tmp, TMP, "leftover temporary file"),
    ("deleted-partition", "1m", delete, GONE, ""),
    ("missing-1d-folder", "1d", remove_daily, GONE, ""),
    ("daily-truncated", "1d", truncate(300), UNREADABLE, NOT_PARQUET),
    ("daily-emptied", "1d", truncate(0), UNREADABLE, "the file is empty"),
]
LOAD_FAILS = {UNREADABLE, DISORDER, FOOTER}
DAMAGE = {name: damage for name, _, damage, *_ in DAMAGES}
#: What verify says where its words differ from a load's.
VERIFY_SAYS = {DISORDER: "rows are not sorted by (ts, symbol)"}


@pytest.fixture(params=DAMAGES, ids=[d[0] for d in DAMAGES])
def damaged(request, tmp_path):
    """A built store with one partition damaged, what it held, and what to expect."""
    _, interval, damage, outcome, fragment = request.param
    before = build(tmp_path)
    path = tmp_path / interval / (f"{TARGET}.parquet" if interval == "1m" else "2019.parquet")
    original = before[path]
    damage(path)
    return tmp_path, before, path, interval, outcome, fragment, original


def test_load(damaged):
    root, before, path, interval, outcome, fragment, original = damaged
    store = BarStore(root)
    if outcome in LOAD_FAILS:
        with pytest.raises(StoreError) as info:
            store.load(interval)
        one_line(info, path, fragment)
    else:
        expected = set() if outcome == GONE else original
        others = set().union(
            *(r for p, r in before.items() if p.parent.name == interval and p != path)
        )
        assert rows_of(store.load(interval)) == others | expected
    if outcome == GONE and interval == "1m":
        days = [np.datetime64(d).astype(object) for d in DAYS]
        assert store.missing_sessions("1m", days) == [np.datetime64(TARGET).astype(object)]
    assert_others_intact(before, path)


def test_load_skipping_damaged(damaged, caplog):
    root, before, path, interval, outcome, fragment, original = damaged
    loaded = rows_of(BarStore(root, skip_damaged=True).load(interval))
    kept = original if outcome in (TMP, HARMLESS) else set()
    others = set().union(*(r for p, r in before.items() if p.parent.name == interval and p != path))
    assert loaded == others | kept
    warnings = [r.getMessage() for r in caplog.records if r.name == "scanner.store"]
    assert len(warnings) == (1 if outcome in LOAD_FAILS else 0)
    assert all(str(path) in w and fragment in w for w in warnings)


def test_import_into_the_damaged_store(damaged):
    root, before, path, interval, outcome, fragment, original = damaged
    store = BarStore(root)
    new = daily_bars() if interval == "1d" else concat([day_bars(d, ["NEW"], 9) for d in DAYS[1:]])
    damaged_bytes = path.read_bytes() if path.exists() else None
    if outcome in LOAD_FAILS:
        with pytest.raises(StoreError) as info:
            store.write(new)
        one_line(info, path, fragment)
        assert path.read_bytes() == damaged_bytes  # never overwritten
    else:
        store.write(new)
        stored = keyed(root, path)
        assert rows_of(new.take(store._partition_keys(interval, new.ts) == path.stem)) <= stored
        assert (original if outcome != GONE else set()) <= stored | rows_of(new)
    assert_others_intact({p: r for p, r in before.items() if p.stem != DAYS[2]}, path)
    assert (
        keyed(root, root / "1m" / f"{DAYS[0]}.parquet")
        == before[root / "1m" / f"{DAYS[0]}.parquet"]
    )


def test_verify(damaged):
    root, before, path, _, outcome, fragment, _ = damaged
    report = verify_store(root)
    if outcome in (GONE, HARMLESS):
        assert report.ok and report.problems == []
    else:
        assert not report.ok
        named = [line for line in report.lines() if line.startswith(str(path))]
        assert named and any(VERIFY_SAYS.get(outcome, fragment) in line for line in named)
        assert report.lines()[-1].endswith("1 file with problems")
    assert_others_intact(before, path)


def test_verify_repair(damaged):
    root, before, path, interval, outcome, _, original = damaged
    damaged_bytes = path.read_bytes() if path.exists() else None
    report = verify_store(root, repair=True)
    assert report.ok
    assert verify_store(root).problems == []
    if outcome == UNREADABLE:
        aside = root / DAMAGED_DIR / interval / path.name
        assert f"{path}: moved aside to {aside}" in report.actions
        assert aside.read_bytes() == damaged_bytes and not path.exists()
    elif outcome in (DISORDER, FOOTER, HARMLESS):
        assert keyed(root, path) == original
    if outcome == TMP:
        assert not list(path.parent.glob("*.tmp"))
    assert_others_intact(before, path)


def rows_of(bars: Bars) -> set[tuple]:
    return {
        (bars.symbols[c], int(t), float(x), float(v))
        for c, t, x, v in zip(
            bars.code,
            bars.ts.astype("datetime64[ns]").view("int64"),
            bars.close,
            bars.volume,
            strict=True,
        )
    }


# -- write faults: the disk or the folder refuses -----------------------------------------


def full_disk(monkeypatch, root: Path) -> None:
    def half_then_full(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", half_then_full)


def rename_refused(monkeypatch, root: Path) -> None:
    def refuse(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dst))

    monkeypatch.setattr(os, "replace", refuse)


def read_only_folder(monkeypatch, root: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("chmod does not stop root from writing; parent-is-a-file covers this")
    (root / "1m").chmod(0o555)


WRITE_FAULTS = [
    ("disk-full", full_disk, "cannot be written (the disk is full)"),
    ("rename-refused", rename_refused, "cannot be written (Permission denied"),
    ("read-only-folder", read_only_folder, "cannot be written (Permission denied"),
]


@pytest.mark.parametrize(
    ("fault", "fragment"), [(f, m) for _, f, m in WRITE_FAULTS], ids=[i for i, *_ in WRITE_FAULTS]
)
def test_a_refused_write_names_the_partition_and_keeps_what_was_stored(
    tmp_path, monkeypatch, fault, fragment
):
    before = build(tmp_path)
    path = tmp_path / "1m" / f"{TARGET}.parquet"
    fault(monkeypatch, tmp_path)
    try:
        with pytest.raises(StoreError) as info:
            BarStore(tmp_path).write(day_bars(TARGET, ["NEW"], 9))
        one_line(info, path, fragment)
        assert str(info.value).endswith("the stored partition is unchanged")
        monkeypatch.undo()
        assert_others_intact(before, None)
        assert not list((tmp_path / "1m").glob("*.tmp"))
    finally:
        (tmp_path / "1m").chmod(0o755)


def test_a_store_under_a_file_is_one_error_naming_the_partition(tmp_path):
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(StoreError) as info:
        BarStore(tmp_path / "file" / "store").write(day_bars(TARGET))
    one_line(
        info, tmp_path / "file/store/1m" / f"{TARGET}.parquet", "cannot be written (Not a directory"
    )


# -- the CLI on a damaged store: real `scanner` processes -----------------------------------


def scanner(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SCANNER, *map(str, args)], capture_output=True, text=True)


def run_config(tmp_path: Path, store: Path) -> Path:
    config = tmp_path / "session.toml"
    config.write_text(
        f"""mode = "backtest"
start_date = {DAYS[0]}
end_date = {DAYS[-1]}
streams = ["1m"]

[data]
store = "{store}"

[universe]
symbols = {SYMBOLS}

[[scanners]]
name = "movers"
module = "{PROBE}:TopMovers"
schedule = {{ interval = "5m", start_time = "09:40", end_time = "09:45" }}
"""
    )
    return config


CLI_CASES = [
    # (id, damage, command, exit code, the line expected on stderr (or stdout for verify))
    ("verify-truncated", truncate(500), "verify", 1, NOT_PARQUET),
    ("repair-unsorted", DAMAGE["unsorted"], "repair", 0, "rewritten sorted with its footer"),
    ("import-into-emptied", truncate(0), "import", 1, "cannot be read: the file is empty"),
    ("run-truncated", truncate(500), "run", 1, NOT_PARQUET),
    ("run-skip-damaged-flipped", DAMAGE["flip-ts-data"], "run --skip-damaged", 0, "CRC checksum"),
    (
        "run-deleted-partition",
        delete,
        "run",
        0,
        "for 1 of 3 sessions: 2019-02-12",
    ),
]


@pytest.mark.parametrize(
    ("damage", "command", "code", "fragment"),
    [c[1:] for c in CLI_CASES],
    ids=[c[0] for c in CLI_CASES],
)
def test_the_cli_on_a_damaged_store(tmp_path, damage, command, code, fragment):
    store = tmp_path / "store"
    before = build(store)
    path = store / "1m" / f"{TARGET}.parquet"
    damage(path)
    if command in ("verify", "repair"):
        done = scanner(
            "data", "verify", "--store", store, *(["--repair"] if command == "repair" else [])
        )
        lines = done.stdout.splitlines()
    elif command == "import":
        csv = tmp_path / "NEW.csv"
        csv.write_text(f"datetime,open,high,low,close,volume\n{TARGET} 10:00,1,2,1,2,100\n")
        done = scanner("data", "import", csv, "--store", store, "--interval", "1m")
        lines = done.stderr.splitlines()
        assert lines == [f"Error: {path}: cannot be read: the file is empty"]
    else:
        done = scanner(*command.split(), run_config(tmp_path, store), "-q")
        lines = done.stderr.splitlines()
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    named = [line for line in lines if str(path if path.exists() else path.parent) in line]
    assert any(fragment in line for line in named), lines
    if command == "run" and code == 1:
        assert lines[-1].startswith(f"{path}: ")
    assert_others_intact(before, path)
