"""The shared table reader: encodings, delimiters, row numbers, limits, formula escapes."""

import codecs
import io
from datetime import datetime

import openpyxl
import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from erp.tabular import (
    CONTROL_RE,
    FORMULA_TRIGGERS,
    TabularError,
    TooManyRows,
    cell_text,
    check_upload,
    column_letter,
    decode,
    formula_escape,
    formula_unescape,
    has_control_bytes,
    header_key,
    read_csv,
    read_table,
)

TEXT = "订单号,名称\r\nA-1,杯子\r\n"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever language an earlier page test left active
    (the locale middleware activates it for the thread and nothing resets it)."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "gb18030"],
)
def test_every_encoding_reads_the_same_rows(data):
    table = read_csv(data, max_rows=10)

    assert table.rows == [(1, ["订单号", "名称"]), (2, ["A-1", "杯子"])]


def test_text_that_is_neither_utf8_nor_gb18030_is_refused():
    with pytest.raises(TabularError, match="neither UTF-8 nor GB18030"):
        decode(b"\x80\x80\xff")


def test_a_tab_separated_header_makes_tabs_the_delimiter():
    data = b"amazon-order-id\tproduct-name\n111-1\tMug, large\n"

    assert read_csv(data, max_rows=10).rows == [
        (1, ["amazon-order-id", "product-name"]),
        (2, ["111-1", "Mug, large"]),
    ]


def test_line_numbers_count_quoted_newlines_and_blank_lines():
    data = b'\r\nName,Notes\r\n#1,"two\r\nlines"\r\n\r\n#2,x\r\n'

    line = read_csv(data, max_rows=10)
    record = read_csv(data, max_rows=10, numbering="record")

    assert line.rows == [(2, ["Name", "Notes"]), (3, ["#1", "two\r\nlines"]), (6, ["#2", "x"])]
    assert [n for n, _cells in record.rows] == [2, 3, 5]


def test_the_row_limit_counts_data_rows_after_the_header():
    data = b"h\n1\n2\n3\n"

    assert len(read_csv(data, max_rows=3).rows) == 4
    with pytest.raises(TooManyRows, match="^The file has more than 2 rows; split it"):
        read_csv(data, max_rows=2)


def test_a_broken_csv_names_the_row():
    data = b'a,b\n1,2\n3,"' + b"y" * 140000 + b'"\n'

    with pytest.raises(TabularError, match="cannot be read at row 3: field larger than field"):
        read_csv(data, max_rows=10)


def test_xlsx_rows_keep_the_sheet_numbers_and_typed_cells_become_text():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "qty", "price", "when", "flag"])
    sheet.append([])
    sheet.append([1001, 2.0, 4.1, datetime(2025, 3, 1, 9, 30), True])
    buffer = io.BytesIO()
    workbook.save(buffer)

    table = read_table(buffer.getvalue(), "Orders.XLSX", max_rows=10)

    assert table.rows == [
        (1, ["id", "qty", "price", "when", "flag"]),
        (3, ["1001", "2", "4.1", "2025-03-01T09:30:00", "true"]),
    ]
    assert table.may_have_controls is True


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "The file is empty."),
        (b" \r\n", "a.csv", "The file is empty."),
        (b"a", "a.xls", "Files of type “.xls” cannot be imported"),
        (b"PK\x03\x04 not a zip", "a.xlsx", None),
    ],
)
def test_unusable_uploads_are_refused(data, filename, message):
    if message is None:
        check_upload(data=data, filename=filename)
        with pytest.raises(TabularError, match="not a readable XLSX workbook"):
            read_table(data, filename, max_rows=10)
        return
    with pytest.raises(TabularError, match=f"^{message}"):
        check_upload(data=data, filename=filename)


def test_the_upload_limit_is_the_shared_setting(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1048576

    with pytest.raises(TabularError, match=r"^The file is 1\.0 MB; the limit is 1\.0 MB\.$"):
        check_upload(data=b"x" * 1048577, filename="a.csv")
    assert check_upload(data=b"x" * 1048576, filename="A.CSV") == ".csv"


def test_control_bytes_are_found_cheaply_and_then_per_cell():
    assert has_control_bytes(b"a\tb\r\n") is False
    assert has_control_bytes(b"a\x0bb") is True
    assert decode(b"a,b\n")[1] is False
    assert decode(codecs.BOM_UTF16_LE + "a".encode("utf-16-le"))[1] is True
    assert CONTROL_RE.search("ok\x07") is not None


def test_helpers():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert header_key(" Lineitem  Quantity ") == header_key("lineitemquantity")
    assert header_key("重量（ g ）") == header_key("重量(g)")
    assert [cell_text(v) for v in (None, 3.0, 0.1 + 0.2, False)] == ["", "3", "0.3", "false"]


@given(st.text())
def test_formula_unescape_undoes_formula_escape(value):
    escaped = formula_escape(value)

    assert formula_unescape(escaped) == value
    if value.lstrip("'")[:1] in FORMULA_TRIGGERS:  # a spreadsheet would run it: quoted
        assert escaped == "'" + value
