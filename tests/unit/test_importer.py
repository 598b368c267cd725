"""Importer: column mapping, timestamp conventions and each rejection kind on small files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.importer import REJECT_KINDS, parse_file

HEADER = "datetime,open,high,low,close,volume\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A fixture file with the given content."""
    path = tmp_path / name
    path.write_text(text)
    return path


def utc(*stamps: str) -> np.ndarray:
    """New York wall-clock stamps as the naive UTC datetime64 Bars use."""
    idx = pd.DatetimeIndex(list(stamps)).tz_localize("America/New_York").tz_convert(None)
    return idx.to_numpy()


def test_minute_file_with_symbol_from_name_is_start_labelled_by_default(tmp_path):
    path = write(
        tmp_path,
        "msft_1min.csv",
        HEADER + "2019-02-11 09:30:00,1,2,0.5,1.5,10\n2019-02-11 09:31:00,1.5,2,1,1.8,20\n",
    )
    parsed = parse_file(path)
    bars = parsed.bars
    assert bars.symbols == ("MSFT",)
    assert bars.interval == "1m"
    np.testing.assert_array_equal(bars.ts, utc("2019-02-11 09:30", "2019-02-11 09:31"))
    np.testing.assert_array_equal(bars.volume, [10.0, 20.0])
    assert parsed.report.rows_accepted == 2 and not parsed.report.rejected


def test_end_labelled_newest_first_file_is_shifted_and_sorted(tmp_path):
    path = write(
        tmp_path,
        "AAPL_1min.csv",
        HEADER + "2019-02-11 09:32:00,3,3,3,3,3\n2019-02-11 09:31:00,2,2,2,2,2\n",
    )
    bars = parse_file(path, timestamps="end").bars
    np.testing.assert_array_equal(bars.ts, utc("2019-02-11 09:30", "2019-02-11 09:31"))
    np.testing.assert_array_equal(bars.open, [2.0, 3.0])


def test_start_labelled_file_that_looks_end_labelled_gets_a_warning(tmp_path):
    rows = "".join(
        f"2019-02-11 {t},1,1,1,1,1\n" for t in ("09:31:00", "09:32:00", "15:59:00", "16:00:00")
    )
    report = parse_file(write(tmp_path, "X_1min.csv", HEADER + rows)).report
    assert any("timestamps='end'" in w for w in report.warnings)


def test_symbol_column_date_and_time_columns_case_insensitive(tmp_path):
    text = (
        "Date,ToD,OPEN,High,low,Close,VOLUME,Ticker\n"
        "2018-02-16,09:30:00,1,2,1,2,100.0,B\n"
        "2018-02-16,09:30:00,5,6,5,6,7.0,A\n"
        "2018-02-16,09:31:00,2,2,1,1,50.0,B\n"
    )
    bars = parse_file(write(tmp_path, "many.csv", text)).bars
    assert set(bars.symbols) == {"A", "B"}
    names = [bars.symbols[c] for c in bars.code]
    assert sorted(names) == ["A", "B", "B"]
    assert bars.interval == "1m"


def test_symbol_option_overrides_file_name(tmp_path):
    path = write(
        tmp_path, "whatever_data.csv", "date,open,high,low,close,volume\n2018-01-02,1,1,1,1,1\n"
    )
    parsed = parse_file(path, symbol="ZZZ")
    assert parsed.bars.symbols == ("ZZZ",)
    assert parsed.bars.interval == "1d"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [("1/4/1999", "1999-01-04"), ("19-Sep-03", "2003-09-19"), ("2003-09-19", "2003-09-19")],
)
def test_daily_date_formats(tmp_path, stamp, expected):
    path = write(tmp_path, "X.csv", f"Date,Open,High,Low,Close,Volume\n{stamp},1,2,1,2,5\n")
    bars = parse_file(path).bars
    assert bars.ts[0] == np.datetime64(expected, "ns")
    assert bars.interval == "1d"


def test_gzip_file_and_symbol_from_name(tmp_path):
    path = tmp_path / "ibm.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("date,open,high,low,close,volume\n2018-01-02,1,2,1,2,5\n2018-01-03,2,3,2,3,6\n")
    bars = parse_file(path).bars
    assert bars.symbols == ("IBM",) and len(bars) == 2


def test_parquet_file(tmp_path):
    frame = pd.DataFrame(
        {
            "symbol": ["A", "A"],
            "datetime": ["2019-02-11 10:00:00", "2019-02-11 10:05:00"],
            "open": [1.0, 2.0],
            "high": [2.0, 3.0],
            "low": [1.0, 2.0],
            "close": [2.0, 3.0],
            "volume": [5.0, 6.0],
        }
    )
    frame.to_parquet(tmp_path / "bars.parquet")
    bars = parse_file(tmp_path / "bars.parquet").bars
    assert bars.interval == "5m"
    np.testing.assert_array_equal(bars.close, [2.0, 3.0])


def test_each_rejection_kind_is_counted_with_its_row(tmp_path):
    text = (
        "symbol,"
        + HEADER
        + "\n".join(
            [
                "Q,2019-02-11 09:30:00,10,11,9,10,100",  # line 2: good
                ",2019-02-11 09:30:00,10,11,9,10,100",  # 3 missing_symbol
                "Q/R,2019-02-11 09:30:00,10,11,9,10,100",  # 4 bad_symbol
                "Q,not a time,10,11,9,10,100",  # 5 bad_timestamp
                "Q,2019-02-11 09:31:00,,11,9,10,100",  # 6 missing_value
                "Q,2019-02-11 09:32:00,ten,11,9,10,100",  # 7 bad_number
                "Q,2019-02-11 09:32:00,0,11,0,10,100",  # 8 non_positive_price
                "Q,2019-02-11 09:33:00,10,11,9,10,-1",  # 9 negative_volume
                "Q,2019-02-11 09:34:00,10,9,11,10,100",  # 10 high_below_low
                "Q,2019-02-11 09:35:00,12,11,9,10,100",  # 11 open_outside_range
                "Q,2019-02-11 09:36:00,10,11,9,8,100",  # 12 close_outside_range
                "Q,2019-02-09 09:36:00,10,11,9,10,100",  # 13 non_session_day (a Saturday)
                "Q,2019-02-11 21:00:00,10,11,9,10,100",  # 14 outside_session_hours
                "Q,2019-02-11 09:36:30,10,11,9,10,100",  # 15 off_grid
                "Q,2019-02-11 09:37:00,10,11,9,10,100",  # 16 conflicting_duplicate (with 17)
                "Q,2019-02-11 09:37:00,10,11,9,10.5,100",  # 17 conflicting_duplicate
                "Q,2019-02-11 09:38:00,10,11,9,10,100",  # 18 good
                "Q,2019-02-11 09:33:00,10,11,9,10,100",  # 19 out_of_order
                "Q,2019-02-11 09:38:00,10,11,9,10,100",  # 20 exact duplicate of 18: collapsed
                "Q,2019-02-11 09:39:00,nan,11,9,10,100",  # 21 missing_value
            ]
        )
    )
    report = parse_file(write(tmp_path, "Q_1min.csv", text)).report
    assert report.rejected == {kind: 1 for kind in REJECT_KINDS} | {
        "missing_value": 2,
        "conflicting_duplicate": 2,
    }
    assert list(report.rejected) == list(REJECT_KINDS)
    assert report.examples["high_below_low"] == ["row 10 (Q 2019-02-11 09:34:00)"]
    assert report.examples["bad_symbol"] == ["row 4 ('Q/R' 2019-02-11 09:30:00)"]
    assert report.examples["conflicting_duplicate"][0].startswith("row 16")
    assert report.examples["out_of_order"] == ["row 19 (Q 2019-02-11 09:33:00)"]
    assert report.collapsed == 1
    assert report.rows_accepted == 2
    assert report.rows_read == report.rows_accepted + report.collapsed + sum(
        report.rejected.values()
    )


def test_unknown_columns_are_ignored_with_a_warning(tmp_path):
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2018-01-02,1,2,1,2,1.9,5\n"
    parsed = parse_file(write(tmp_path, "X.csv", text))
    assert parsed.report.rows_accepted == 1
    assert parsed.report.warnings == ["ignored unknown column(s): Adj Close"]


def test_missing_required_column_rejects_the_file_with_the_reason(tmp_path):
    parsed = parse_file(write(tmp_path, "X.csv", "date,open,high,low,close\n2018-01-02,1,2,1,2\n"))
    assert parsed.bars is None
    assert "volume" in parsed.report.error
    assert "REJECTED" in parsed.report.lines()[0]


def test_unreadable_file_is_reported_not_raised(tmp_path):
    parsed = parse_file(tmp_path / "absent.csv")
    assert parsed.bars is None and parsed.report.error


def test_bad_option_values_raise(tmp_path):
    path = write(tmp_path, "X.csv", "date,open,high,low,close,volume\n2018-01-02,1,2,1,2,5\n")
    with pytest.raises(ValueError, match="timestamps"):
        parse_file(path, timestamps="middle")
    with pytest.raises(ValueError, match="interval"):
        parse_file(path, interval="7m")


def test_utc_offsets_are_honoured_row_by_row(tmp_path):
    # The same three New York bars written with three different offsets, in one file.
    rows = (
        "2019-02-11 14:30:00+00:00,1,1,1,1,1\n"
        "2019-02-11T14:31:00Z,1,1,1,1,1\n"
        "2019-02-11 09:32:00-05:00,1,1,1,1,1\n"
        "2019-02-11 09:33:00,1,1,1,1,1\n"
    )
    parsed = parse_file(write(tmp_path, "X_1min.csv", HEADER + rows))
    assert not parsed.report.rejected and parsed.report.error is None
    np.testing.assert_array_equal(
        parsed.bars.ts,
        utc("2019-02-11 09:30", "2019-02-11 09:31", "2019-02-11 09:32", "2019-02-11 09:33"),
    )


def test_tz_aware_parquet_column_lands_at_exchange_time(tmp_path):
    stamps = pd.DatetimeIndex(["2019-02-11 14:30", "2019-02-11 14:35"], tz="UTC")
    frame = pd.DataFrame(
        {"datetime": stamps, "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}
    )
    frame.to_parquet(tmp_path / "A_5min.parquet")
    bars = parse_file(tmp_path / "A_5min.parquet").bars
    np.testing.assert_array_equal(bars.ts, utc("2019-02-11 09:30", "2019-02-11 09:35"))


@pytest.mark.parametrize(
    ("calendar", "holiday", "open_", "utc_open"),
    [("XNYS", "2019-12-25", "09:30", "14:30"), ("XLON", "2019-12-26", "08:00", "08:00")],
)
def test_calendar_days_and_extended_hours(tmp_path, calendar, holiday, open_, utc_open):
    daily = write(
        tmp_path,
        "D_daily.csv",
        "date,open,high,low,close,volume\n"
        f"2019-12-20,1,1,1,1,1\n2019-12-21,1,1,1,1,1\n{holiday},1,1,1,1,1\n",
    )
    report = parse_file(daily, calendar=calendar).report
    assert report.rejected == {"non_session_day": 2}
    assert report.examples["non_session_day"] == ["row 3 (D 2019-12-21)", f"row 4 (D {holiday})"]
    minute = write(
        tmp_path,
        "M_1min.csv",
        HEADER + f"2019-12-20 03:00:00,1,1,1,1,1\n2019-12-20 {open_}:00,1,1,1,1,1\n"
        "2019-12-20 21:00:00,1,1,1,1,1\n",
    )
    parsed = parse_file(minute, calendar=calendar)
    assert parsed.report.rejected == {"outside_session_hours": 2}
    assert parsed.bars.ts[0] == np.datetime64(f"2019-12-20T{utc_open}", "ns")


def test_end_label_warning_uses_the_calendar_hours(tmp_path):
    rows = "".join(f"2019-02-11 {t},1,1,1,1,1\n" for t in ("08:01:00", "08:02:00", "16:30:00"))
    report = parse_file(write(tmp_path, "X_1min.csv", HEADER + rows), calendar="XLON").report
    assert any("timestamps='end'" in w for w in report.warnings)
    rows = "".join(f"2019-02-11 {t},1,1,1,1,1\n" for t in ("08:00:00", "16:30:00"))
    report = parse_file(write(tmp_path, "Y_1min.csv", HEADER + rows), calendar="XLON").report
    assert not report.warnings


@pytest.mark.parametrize(
    ("name", "interval", "rows", "message"),
    [
        ("AAPL_daily.csv", None, ("09:30", "09:31", "09:32"), "AAPL_daily.csv: file name says 1d "),
        ("A.csv", "5m", ("09:30", "09:31", "09:32"), "the interval option says 5m but its stamps"),
        ("A_15min.csv", None, ("09:30", "09:35", "09:40"), "says 15m but its stamps are 5 minutes"),
    ],
)
def test_an_interval_the_stamps_contradict_rejects_the_file(
    tmp_path, name, interval, rows, message
):
    text = HEADER + "".join(f"2019-02-11 {t}:00,1,1,1,1,1\n" for t in rows)
    parsed = parse_file(write(tmp_path, name, text), interval=interval)
    assert parsed.bars is None and message in parsed.report.error
    assert parsed.report.error.endswith("apart")


def test_minute_file_of_dates_is_a_contradiction(tmp_path):
    text = "date,open,high,low,close,volume\n2019-02-11,1,1,1,1,1\n2019-02-12,1,1,1,1,1\n"
    error = parse_file(write(tmp_path, "A_1min.csv", text)).report.error
    assert error == "A_1min.csv: file name says 1m but its stamps are 1 day apart"


@pytest.mark.parametrize(
    ("interval", "stamp", "kind"),
    [
        ("1m", "09:31:17", "off_grid"),
        ("5m", "09:33:00", "off_grid"),
        ("5m", "09:25:00", None),  # pre-market bars count back from the open
        ("1h", "10:00:00", "off_grid"),
        ("1h", "10:30:00", None),
    ],
)
def test_intraday_stamps_sit_on_the_grid_from_the_open(tmp_path, interval, stamp, kind):
    # Three bars on the grid set the file's spacing; the next day's bar is the one tested.
    grid = pd.date_range("2019-02-11 09:30", periods=3, freq=f"{INTERVAL_MINUTES[interval]}min")
    rows = [f"{t},1,1,1,1,1\n" for t in grid] + [f"2019-02-12 {stamp},1,1,1,1,1\n"]
    report = parse_file(write(tmp_path, "A.csv", HEADER + "".join(rows)), interval=interval).report
    assert report.rejected == ({kind: 1} if kind else {})


@pytest.mark.parametrize("stamp", ["9999-01-04", "1980-01-02", "2200-01-02"])
def test_dates_outside_the_calendar_are_bad_timestamps(tmp_path, stamp):
    text = f"date,open,high,low,close,volume\n2019-02-11,1,1,1,1,1\n{stamp},1,1,1,1,1\n"
    report = parse_file(write(tmp_path, "A.csv", text)).report
    assert report.rejected == {"bad_timestamp": 1}
    assert report.examples["bad_timestamp"] == [f"row 3 (A {stamp})"]


def test_bad_tz_and_calendar_are_one_line_errors(tmp_path):
    path = write(tmp_path, "X.csv", "date,open,high,low,close,volume\n2018-01-02,1,2,1,2,5\n")
    with pytest.raises(ValueError, match=r"^unknown time zone 'Mars/Olympus'"):
        parse_file(path, tz="Mars/Olympus")
    with pytest.raises(ValueError, match=r"^unknown exchange calendar 'XMARS'"):
        parse_file(path, calendar="XMARS")
    with pytest.raises(ValueError, match=r"^symbol option: bad symbol 'A/B'"):
        parse_file(path, symbol="A/B")


def test_tz_defaults_to_the_calendar_zone(tmp_path):
    text = HEADER + "2019-07-01 08:00:00,1,1,1,1,1\n2019-07-01 08:01:00,1,1,1,1,1\n"
    bars = parse_file(write(tmp_path, "V_1min.csv", text), calendar="XLON").bars
    assert bars.ts[0] == np.datetime64("2019-07-01T07:00", "ns")  # London summer time
    bars = parse_file(write(tmp_path, "V_1min.csv", text), calendar="XLON", tz="UTC").bars
    assert bars.ts[0] == np.datetime64("2019-07-01T08:00", "ns")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (gzip.compress(b"date,open,high,low,close,volume\n" * 500)[:40], "truncated gzip file"),
        (b"this is not gzip", "not a valid gzip file"),
    ],
)
def test_broken_gzip_is_rejected_with_the_reason(tmp_path, content, error):
    (tmp_path / "A.csv.gz").write_bytes(content)
    parsed = parse_file(tmp_path / "A.csv.gz")
    assert parsed.bars is None and parsed.report.error.startswith(error)


def test_encoding_error_names_the_line(tmp_path):
    path = tmp_path / "A.csv"
    path.write_bytes(
        b"date,open,high,low,close,volume\n2018-01-02,1,2,1,2,5\n2018-01-03,\xe9,2,1,2,5\n"
    )
    error = parse_file(path).report.error
    assert error.startswith("not UTF-8 text: line 3, byte 0xe9")


def test_symbols_are_upper_cased_and_bad_ones_escaped(tmp_path):
    text = (
        "symbol,date,open,high,low,close,volume\n"
        "brk.b,2019-02-11,1,1,1,1,1\n"
        '"EVIL\nLINE",2019-02-11,1,1,1,1,1\n'
        "\x1b[31mRED,2019-02-11,1,1,1,1,1\n"
        "A B,2019-02-11,1,1,1,1,1\n"
        ",2019-02-11,1,1,1,1,1\n"
    )
    parsed = parse_file(write(tmp_path, "many.csv", text))
    assert parsed.bars.symbols == ("BRK.B",)
    assert parsed.report.rejected == {"missing_symbol": 1, "bad_symbol": 3}
    assert parsed.report.examples["bad_symbol"] == [
        "row 3 ('EVIL\\nLINE' 2019-02-11)",
        "row 4 ('\\x1b[31mRED' 2019-02-11)",
        "row 5 ('A B' 2019-02-11)",
    ]
    assert all("\n" not in line and "\x1b" not in line for line in parsed.report.lines())


def test_a_file_name_giving_a_bad_symbol_rejects_the_file(tmp_path):
    path = write(
        tmp_path, "my stock.csv", "date,open,high,low,close,volume\n2019-02-11,1,1,1,1,1\n"
    )
    assert "symbol 'MY STOCK'" in parse_file(path).report.error
