"""Reading import files: pyarrow's reading and pandas' give the same cells (up to the
whitespace around them, which validation trims), and files pyarrow would read otherwise
are left to pandas."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_core.import_read import _read_csv_arrow, _read_csv_pandas, read_text_table

HEADER = "symbol,datetime,open,high,low,close,volume\n"
ROW = "X,2019-02-11 09:30:00,10,11,9,10,100\n"

SAME = [
    ("plain", HEADER + ROW * 3),
    ("crlf", (HEADER + ROW * 2).replace("\n", "\r\n")),
    ("blank_lines", HEADER + ROW + "\n\n" + ROW),
    ("quoted_header", '"symbol","datetime","open","high","low","close","volume"\n' + ROW),
    ("empty_cells", HEADER + ",,,,,,\n"),
    ("spaces", HEADER + " X , 2019-02-11 09:30:00 ,10, 11,9,10,100\n"),
    ("words", HEADER + "X,not a time,NaN,NULL,n/a,none,-5\n"),
    ("header_only", HEADER),
]
TO_PANDAS = [
    ("ragged_short", HEADER + "X,2019-02-11 09:30:00,10,11,9,10\n"),
    ("ragged_long", HEADER + ROW.replace("\n", ",7\n")),
    ("bom", "\ufeff" + HEADER + ROW),
    ("repeated_header", HEADER.replace("volume", "close") + ROW),
    ("spaced_quote", HEADER + 'X, "2019-02-11 09:30:00",10,11,9,10,100\n'),
    ("quoted_newline", HEADER + '"A\nB",2019-02-11 09:30:00,1,1,1,1,1\n'),
    ("open_quote", HEADER + 'X,2019-02-11 09:30:00,10,11,9,10,"100\n'),
    ("trailing_comma_header", HEADER.replace("\n", ",\n") + ROW.replace("\n", ",\n")),
]


@pytest.mark.parametrize("text", [c[1] for c in SAME], ids=[c[0] for c in SAME])
def test_pyarrow_reads_what_pandas_reads(tmp_path: Path, text: str):
    path = tmp_path / "X.csv"
    path.write_text(text, newline="")
    table = _read_csv_arrow(path)
    assert table is not None
    assert cells_of(table) == cells_of(_read_csv_pandas(path))


def cells_of(table) -> dict[str, list[str | None]]:
    """A table's cells with surrounding whitespace trimmed."""
    return {k: [v if v is None else v.strip() for v in col] for k, col in table.to_pydict().items()}


@pytest.mark.parametrize("text", [c[1] for c in TO_PANDAS], ids=[c[0] for c in TO_PANDAS])
def test_files_pyarrow_would_read_differently_are_left_to_pandas(tmp_path: Path, text: str):
    path = tmp_path / "X.csv"
    path.write_text(text)
    assert _read_csv_arrow(path) is None


def test_gzip_is_read_by_pyarrow_and_a_plain_file_named_gz_is_not(tmp_path: Path):
    good = tmp_path / "X.csv.gz"
    good.write_bytes(gzip.compress((HEADER + ROW).encode()))
    assert cells_of(_read_csv_arrow(good)) == cells_of(_read_csv_pandas(good))
    plain = tmp_path / "Y.csv.gz"
    plain.write_text(HEADER + ROW)
    assert _read_csv_arrow(plain) is None
    with pytest.raises(ValueError, match="not a valid gzip file"):
        read_text_table(plain)


cells = st.text(st.sampled_from("aZ09 .-:\t\"'"), max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=5))
def test_any_cells_read_the_same_or_go_to_pandas(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("cells") / "X.csv"
    lines = ["a,b,c"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    try:
        expected = cells_of(_read_csv_pandas(path))
    except ValueError:
        expected = None
    table = _read_csv_arrow(path)
    if table is not None:
        assert cells_of(table) == expected
