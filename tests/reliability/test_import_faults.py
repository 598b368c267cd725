"""Fault corpus, import group: every bad file, row or option gets its kind (or one clear
line) with file and row, the good rows of the same import still land, and nothing already
in the store is lost."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scanner_core.bars import Bars
from scanner_core.store import BarStore

HEADER = "symbol,datetime,open,high,low,close,volume\n"
# Three good 1-minute bars of X: they set the file's spacing and must always be accepted.
GOOD_MINUTES = "".join(f"X,2019-02-11 09:3{m}:00,10,11,9,10,100\n" for m in range(3))
GOOD_DAYS = "".join(f"X,2019-02-{d},10,11,9,10,100\n" for d in (11, 12, 13))
KEEP_VALUES = {"open": 10.0, "high": 11.0, "low": 9.0, "close": 10.0, "volume": 100.0}
SCANNER = Path(sys.executable).with_name("scanner")


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    """A real store already holding daily and minute bars of KEEP."""
    store = BarStore(tmp_path / "store")
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "KEEP_daily.csv").write_text(HEADER + GOOD_DAYS.replace("X,", "KEEP,"))
    (seed / "KEEP_1min.csv").write_text(HEADER + GOOD_MINUTES.replace("X,", "KEEP,"))
    report = store.import_files([seed])
    assert report.totals()["rows_accepted"] == 6
    return store


def kept(store: BarStore) -> dict[str, Bars]:
    """What the store holds for KEEP, per interval."""
    return {interval: store.load(interval, ["KEEP"]) for interval in ("1d", "1m")}


def assert_still_there(store: BarStore) -> None:
    """The rows stored before the faulty import are all there, unchanged."""
    for interval, bars in kept(store).items():
        assert len(bars) == 3, interval
        for f, value in KEEP_VALUES.items():
            np.testing.assert_array_equal(getattr(bars, f), [value] * 3)


# -- rows: (id, bad row, kind, example fragment) -----------------------------------------

MINUTE_ROWS = [
    ("empty_symbol", ",2019-02-11 09:40:00,10,11,9,10,100", "missing_symbol", "row 5 ("),
    ("blank_symbol", "   ,2019-02-11 09:40:00,10,11,9,10,100", "missing_symbol", "row 5"),
    ("slash_symbol", "A/B,2019-02-11 09:40:00,10,11,9,10,100", "bad_symbol", "'A/B'"),
    ("space_symbol", "A B,2019-02-11 09:40:00,10,11,9,10,100", "bad_symbol", "'A B'"),
    ("newline_symbol", '"A\nB",2019-02-11 09:40:00,10,11,9,10,100', "bad_symbol", "'A\\nB'"),
    ("ansi_symbol", "\x1b[31mA,2019-02-11 09:40:00,10,11,9,10,100", "bad_symbol", "'\\x1b[31mA'"),
    ("bell_symbol", "A\x07B,2019-02-11 09:40:00,10,11,9,10,100", "bad_symbol", "'A\\x07B'"),
    ("long_symbol", "A" * 33 + ",2019-02-11 09:40:00,10,11,9,10,100", "bad_symbol", "'AAAA"),
    ("unicode_symbol", "ÄB,2019-02-11 09:40:00,10,11,9,10,100", "bad_symbol", "'ÄB'"),
    ("garbage_time", "X,not a time,10,11,9,10,100", "bad_timestamp", "X not a time"),
    ("empty_time", "X,,10,11,9,10,100", "bad_timestamp", "row 5 (X)"),
    ("month_13", "X,2019-13-11 09:40:00,10,11,9,10,100", "bad_timestamp", "2019-13-11"),
    ("year_9999", "X,9999-02-11 09:40:00,10,11,9,10,100", "bad_timestamp", "9999-02-11"),
    ("year_1980", "X,1980-02-11 09:40:00,10,11,9,10,100", "bad_timestamp", "1980-02-11"),
    ("dst_gap", "X,2019-03-10 02:30:00,10,11,9,10,100", "bad_timestamp", "2019-03-10 02:30"),
    ("empty_open", "X,2019-02-11 09:40:00,,11,9,10,100", "missing_value", "row 5 (X 2019"),
    ("nan_close", "X,2019-02-11 09:40:00,10,11,9,NaN,100", "missing_value", "row 5"),
    ("null_volume", "X,2019-02-11 09:40:00,10,11,9,10,NULL", "missing_value", "row 5"),
    ("word_price", "X,2019-02-11 09:40:00,ten,11,9,10,100", "bad_number", "row 5"),
    ("inf_price", "X,2019-02-11 09:40:00,10,inf,9,10,100", "bad_number", "row 5"),
    ("two_dots", "X,2019-02-11 09:40:00,10,11,9.1.2,10,100", "bad_number", "row 5"),
    ("zero_low", "X,2019-02-11 09:40:00,10,11,0,10,100", "non_positive_price", "row 5"),
    ("negative_prices", "X,2019-02-11 09:40:00,-1,-1,-1,-1,100", "non_positive_price", "row 5"),
    ("negative_volume", "X,2019-02-11 09:40:00,10,11,9,10,-5", "negative_volume", "row 5"),
    ("high_below_low", "X,2019-02-11 09:40:00,10,9,11,10,100", "high_below_low", "row 5"),
    ("open_above_high", "X,2019-02-11 09:40:00,12,11,9,10,100", "open_outside_range", "row 5"),
    ("close_below_low", "X,2019-02-11 09:40:00,10,11,9,8,100", "close_outside_range", "row 5"),
    ("saturday_bar", "X,2019-02-16 10:00:00,10,11,9,10,100", "non_session_day", "2019-02-16"),
    ("holiday_bar", "X,2019-02-18 10:00:00,10,11,9,10,100", "non_session_day", "2019-02-18"),
    ("at_0300", "X,2019-02-11 03:00:00,10,11,9,10,100", "outside_session_hours", "03:00"),
    ("at_2000", "X,2019-02-11 20:00:00,10,11,9,10,100", "outside_session_hours", "20:00"),
    ("at_2359", "X,2019-02-11 23:59:00,10,11,9,10,100", "outside_session_hours", "23:59"),
    ("utc_2100_ny", "X,2019-02-12 02:00:00Z,10,11,9,10,100", "outside_session_hours", "02:00"),
    ("seconds", "X,2019-02-11 09:40:17,10,11,9,10,100", "off_grid", "09:40:17"),
    ("offset_seconds", "X,2019-02-11 14:40:30+00:00,10,11,9,10,100", "off_grid", "14:40:30"),
    ("earlier", "X,2019-02-11 09:29:00,10,11,9,10,100", "out_of_order", "row 5 (X 2019"),
]


@pytest.mark.parametrize(
    ("row", "kind", "fragment"), [case[1:] for case in MINUTE_ROWS], ids=[c[0] for c in MINUTE_ROWS]
)
def test_bad_minute_row(store, tmp_path, row, kind, fragment):
    path = tmp_path / "X_1min.csv"
    path.write_text(HEADER + GOOD_MINUTES + row + "\n")
    report = store.import_files([path])
    (file,) = report.files
    assert file.rejected == {kind: 1}
    assert fragment in file.examples[kind][0]
    assert file.rows_accepted == 3 and file.path == str(path)
    assert all("\n" not in line and "\x1b" not in line for line in file.lines())
    assert len(store.load("1m", ["X"])) == 3
    assert_still_there(store)


DAILY_ROWS = [
    ("XNYS", "saturday", "X,2019-02-16,10,11,9,10,100", "non_session_day"),
    ("XNYS", "christmas", "X,2018-12-25,10,11,9,10,100", "non_session_day"),
    ("XNYS", "good_friday", "X,2019-04-19,10,11,9,10,100", "non_session_day"),
    ("XNYS", "feb_30", "X,2019-02-30,10,11,9,10,100", "bad_timestamp"),
    ("XNYS", "year_9999", "X,9999-01-04,10,11,9,10,100", "bad_timestamp"),
    ("XNYS", "year_1900", "X,1900-01-02,10,11,9,10,100", "bad_timestamp"),
    ("XLON", "boxing_day", "X,2019-12-26,10,11,9,10,100", "non_session_day"),
    ("XLON", "sunday", "X,2019-02-17,10,11,9,10,100", "non_session_day"),
]


@pytest.mark.parametrize(
    ("calendar", "row", "kind"),
    [(c[0], c[2], c[3]) for c in DAILY_ROWS],
    ids=[f"{c[0]}-{c[1]}" for c in DAILY_ROWS],
)
def test_bad_daily_row(store, tmp_path, calendar, row, kind):
    path = tmp_path / "X_daily.csv"
    path.write_text(HEADER.replace("datetime", "date") + GOOD_DAYS + row + "\n")
    (file,) = store.import_files([path], calendar=calendar).files
    assert file.rejected == {kind: 1}
    assert file.examples[kind] == [f"row 5 ({row.split(',')[0]} {row.split(',')[1]})"]
    assert len(store.load("1d", ["X"])) == 3
    assert_still_there(store)


XLON_MINUTES = [
    ("at_0300", "2019-12-20 03:00:00", "outside_session_hours"),
    ("at_2100", "2019-12-20 21:00:00", "outside_session_hours"),
    ("christmas", "2019-12-25 10:00:00", "non_session_day"),
    ("off_grid", "2019-12-20 08:00:30", "off_grid"),
]


@pytest.mark.parametrize(
    ("stamp", "kind"), [c[1:] for c in XLON_MINUTES], ids=[c[0] for c in XLON_MINUTES]
)
def test_bad_london_minute(store, tmp_path, stamp, kind):
    good = "".join(f"X,2019-12-20 08:0{m}:00,10,11,9,10,100\n" for m in range(3))
    path = tmp_path / "X_1min.csv"
    path.write_text(HEADER + good + f"X,{stamp},10,11,9,10,100\n")
    (file,) = store.import_files([path], calendar="XLON").files
    assert file.rejected == {kind: 1}
    # London in winter is UTC: the open is stored as 08:00.
    assert store.load("1m", ["X"]).ts[0] == np.datetime64("2019-12-20T08:00", "ns")
    assert_still_there(store)


def test_conflicting_duplicates_reject_both_rows(store, tmp_path):
    path = tmp_path / "X_1min.csv"
    path.write_text(
        HEADER + GOOD_MINUTES + "X,2019-02-11 09:40:00,10,11,9,10,100\n"
        "X,2019-02-11 09:40:00,10,11,9,10.5,100\n"
    )
    (file,) = store.import_files([path]).files
    assert file.rejected == {"conflicting_duplicate": 2}
    assert file.examples["conflicting_duplicate"][0].startswith("row 5 (X 2019-02-11 09:40")
    assert_still_there(store)


# -- whole files: (id, name, content, error fragment) --------------------------------------

_CSV = (HEADER + GOOD_MINUTES).encode()
_GZ = gzip.compress(_CSV * 50)
_FLIPPED = bytearray(_GZ)
_FLIPPED[len(_GZ) // 2] ^= 0xFF
FILES = [
    ("truncated_gz", "A.csv.gz", _GZ[: len(_GZ) // 2], "truncated gzip file"),
    ("not_gz", "A.csv.gz", b"plain text, not gzip\n", "not a valid gzip file"),
    ("flipped_gz", "A.csv.gz", bytes(_FLIPPED), "not a valid gzip file"),
    ("latin1", "A_1min.csv", _CSV + "X,2019-02-11 09:3é:00,1,1,1,1,1\n".encode("latin-1"),
     "not UTF-8 text: line 5, byte 0xe9"),
    ("no_volume", "A.csv", b"date,open,high,low,close\n2019-02-11,1,1,1,1\n", "volume"),
    ("no_time", "A.csv", b"open,high,low,close,volume\n1,1,1,1,1\n", "a time column"),
    ("empty", "A.csv", b"", "No columns"),
    ("daily_name_minutes", "AAPL_daily.csv", _CSV,
     "AAPL_daily.csv: file name says 1d but its stamps are 1 minute apart"),
    ("minute_name_dates", "A_1min.csv", (HEADER + GOOD_DAYS).encode(),
     "file name says 1m but its stamps are 1 day apart"),
    ("5min_name_1min", "A_5min.csv", _CSV, "file name says 5m but its stamps are 1 minute apart"),
    ("bad_name_symbol", "my stock.csv", b"date,open,high,low,close,volume\n2019-02-11,1,1,1,1,1\n",
     "symbol 'MY STOCK'"),
    ("bad_parquet", "A.parquet", b"PAR1 garbage", "not a valid Parquet file"),
    ("one_bar", "A.csv", (HEADER + GOOD_MINUTES.splitlines()[0] + "\n").encode(),
     "cannot infer the interval"),
    ("seven_minutes", "A.csv",
     (HEADER + "X,2019-02-11 09:30:00,1,1,1,1,1\nX,2019-02-11 09:37:00,1,1,1,1,1\n").encode(),
     "bars 7 minutes apart are not a known interval"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "fragment"), [c[1:] for c in FILES], ids=[c[0] for c in FILES]
)
def test_bad_file_is_rejected_and_the_rest_imports(store, tmp_path, name, content, fragment):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name).write_bytes(content)
    (folder / "Z_1min.csv").write_text(HEADER + GOOD_MINUTES.replace("X,", "Z,"))
    report = store.import_files([folder])
    bad = next(f for f in report.files if Path(f.path).name == name)
    assert bad.error is not None and fragment in bad.error
    assert "\n" not in bad.error and bad.lines() == [f"{bad.path}: REJECTED: {bad.error}"]
    assert report.totals()["failed_files"] == 1
    assert len(store.load("1m", ["Z"])) == 3
    assert_still_there(store)


# -- options: a ValueError naming the value, before anything is written --------------------

OPTIONS = [
    ("tz", {"tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ("tz_empty", {"tz": ""}, "unknown time zone ''"),
    ("calendar", {"calendar": "XMARS"}, "unknown exchange calendar 'XMARS'"),
    ("interval", {"interval": "7m"}, "unknown interval '7m'"),
    ("timestamps", {"timestamps": "middle"}, "timestamps must be 'start' or 'end'"),
    ("symbol_slash", {"symbol": "A/B"}, "symbol option: bad symbol 'A/B'"),
    ("symbol_newline", {"symbol": "A\nB"}, "symbol option: bad symbol 'A\\nB'"),
]


@pytest.mark.parametrize(
    ("options", "message"), [c[1:] for c in OPTIONS], ids=[c[0] for c in OPTIONS]
)
def test_bad_option_is_one_clear_error(store, tmp_path, options, message):
    path = tmp_path / "X_1min.csv"
    path.write_text(HEADER + GOOD_MINUTES)
    with pytest.raises(ValueError) as info:
        store.import_files([path], **options)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    assert store.symbols() == ["KEEP"]
    assert_still_there(store)


# -- documented behaviour: what is accepted, and where it lands ----------------------------

OFFSETS = [
    ("utc_plus", "2019-02-11 14:40:00+00:00"),
    ("zulu", "2019-02-11T14:40:00Z"),
    ("new_york", "2019-02-11 09:40:00-05:00"),
    ("compact", "2019-02-11 09:40:00-0500"),
    ("naive", "2019-02-11 09:40:00"),
    ("paris", "2019-02-11 15:40:00+01:00"),
]


@pytest.mark.parametrize("stamp", [c[1] for c in OFFSETS], ids=[c[0] for c in OFFSETS])
def test_offsets_land_at_the_exchange_time(store, tmp_path, stamp):
    path = tmp_path / "X_1min.csv"
    path.write_text(HEADER + GOOD_MINUTES + f"X,{stamp},10,11,9,10,100\n")
    (file,) = store.import_files([path]).files
    assert not file.rejected
    assert store.load("1m", ["X"]).ts[-1] == np.datetime64("2019-02-11T14:40", "ns")
    assert_still_there(store)


def test_tz_aware_parquet_column_lands_at_the_exchange_time(store, tmp_path):
    stamps = pd.DatetimeIndex(["2019-02-11 14:30", "2019-02-11 14:31"], tz="UTC")
    frame = pd.DataFrame({"datetime": stamps.tz_convert("America/New_York"), "open": 1.0,
                          "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0})  # fmt: skip
    frame.to_parquet(tmp_path / "P_1min.parquet")
    store.import_files([tmp_path / "P_1min.parquet"])
    np.testing.assert_array_equal(store.load("1m", ["P"]).ts, stamps.tz_convert(None).to_numpy())
    assert_still_there(store)


def test_lower_case_symbols_exact_duplicates_and_newest_first(store, tmp_path):
    path = tmp_path / "many.csv"
    rows = [f"x,2019-02-11 09:3{m}:00,10,11,9,10,100" for m in (2, 1, 0)]
    path.write_text(HEADER + "\n".join([*rows, rows[0]]) + "\n")
    (file,) = store.import_files([path]).files
    assert (file.collapsed, file.rejected, file.rows_accepted) == (1, {}, 3)
    assert store.load("1m", ["X"]).ts[0] == np.datetime64("2019-02-11T14:30", "ns")
    assert_still_there(store)


# -- the CLI: a few real subprocesses ------------------------------------------------------


def scanner(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `scanner` command, run for real."""
    command = [str(SCANNER)] if SCANNER.exists() else [sys.executable, "-m", "scanner_core.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=False)


CLI = [
    ("tz", ["--tz", "Mars/Olympus"], 1, "unknown time zone 'Mars/Olympus'"),
    ("calendar", ["--calendar", "XMARS"], 1, "unknown exchange calendar 'XMARS'"),
    ("truncated_gz", [], 1, "A.csv.gz: REJECTED: truncated gzip file"),
    ("ansi_symbol", [], 0, "bad_symbol: 1  e.g. row 5 ('\\x1b[2J' 2019-02-11 09:40:00)"),
]


@pytest.mark.parametrize(
    ("extra", "code", "fragment"), [c[1:] for c in CLI], ids=[c[0] for c in CLI]
)
def test_cli_import(store, tmp_path, extra, code, fragment):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "X_1min.csv").write_text(
        HEADER + GOOD_MINUTES + "\x1b[2J,2019-02-11 09:40:00,1,1,1,1,1\n"
    )
    if "truncated" in fragment:
        (folder / "A.csv.gz").write_bytes(_GZ[:40])
    done = scanner("data", "import", str(folder), "--store", str(store.root), *extra)
    out = done.stdout + done.stderr
    assert done.returncode == code, out
    assert fragment in out and "Traceback" not in out and "\x1b" not in out
    if code == 0 or "REJECTED" in fragment:
        assert len(store.load("1m", ["X"])) == 3
    assert_still_there(store)
