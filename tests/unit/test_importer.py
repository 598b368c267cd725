"""Importer: column mapping, timestamp conventions and each rejection kind on small files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
    text = HEADER + "\n".join(
        [
            "2019-02-11 09:30:00,10,11,9,10,100",  # line 2: good
            "not a time,10,11,9,10,100",  # 3 bad_timestamp
            "2019-02-11 09:31:00,,11,9,10,100",  # 4 missing_value
            "2019-02-11 09:32:00,ten,11,9,10,100",  # 5 bad_number
            "2019-02-11 09:33:00,10,11,9,10,-1",  # 6 negative_volume
            "2019-02-11 09:34:00,10,9,11,10,100",  # 7 high_below_low
            "2019-02-11 09:35:00,12,11,9,10,100",  # 8 open_outside_range
            "2019-02-11 09:36:00,10,11,9,8,100",  # 9 close_outside_range
            "2019-02-11 09:37:00,10,11,9,10,100",  # 10 conflicting_duplicate (with 11)
            "2019-02-11 09:37:00,10,11,9,10.5,100",  # 11 conflicting_duplicate
            "2019-02-11 09:38:00,10,11,9,10,100",  # 12 good
            "2019-02-11 09:33:30,10,11,9,10,100",  # 13 out_of_order
            "2019-02-11 09:38:00,10,11,9,10,100",  # 14 exact duplicate of 12: collapsed
            "2019-02-11 09:39:00,nan,11,9,10,100",  # 15 missing_value
        ]
    )
    report = parse_file(write(tmp_path, "Q_1min.csv", text)).report
    assert report.rejected == {
        "bad_timestamp": 1,
        "missing_value": 2,
        "bad_number": 1,
        "negative_volume": 1,
        "high_below_low": 1,
        "open_outside_range": 1,
        "close_outside_range": 1,
        "conflicting_duplicate": 2,
        "out_of_order": 1,
    }
    assert set(report.rejected) == set(REJECT_KINDS)
    assert report.examples["high_below_low"] == ["row 7 (Q 2019-02-11 09:34:00)"]
    assert report.examples["conflicting_duplicate"][0].startswith("row 10")
    assert report.examples["out_of_order"][0].startswith("row 13")
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
