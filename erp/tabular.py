"""Reading the tables people upload: CSV / TSV / text and XLSX files, as rows of text cells.

The generic half of every file import (SKUs, orders, ...), so each import only decides what
its columns mean. What every import can rely on:

Encodings
    UTF-8, UTF-8 with BOM, UTF-16 with BOM (Excel's "Unicode text") or GB18030 (what Chinese
    Excel and WPS save as "CSV"). A BOM decides; else strict UTF-8 is tried, then GB18030.

Delimiter
    A comma, or a tab when the first non-blank line has more tabs than commas (Amazon's
    reports are tab separated; a header of Chinese names saved by Excel as "Unicode text" too).
    A caller that knows may say which.

Rows
    Blank rows (every cell empty or spaces) are skipped. Quoted cells may span lines (a buyer's
    note with a line break). Each row carries its number in the file: for XLSX the sheet's row
    number; for text files the line on which the record starts (``numbering="line"``, what a
    text editor shows: a record after a two-line note is two lines further on), or the
    record's position (``numbering="record"``, what a spreadsheet shows: the header is row 1
    and a multi-line cell is still one row). The two agree until a cell spans lines.

Limits
    ``settings.IMPORT_MAX_UPLOAD_BYTES`` for the upload (``check_upload``) and a caller's row
    limit: reading stops with an error as soon as there are more rows, so a huge file never
    sits in memory as cells.

Control characters
    ``decode`` says whether the text may hold control characters (a byte test over the whole
    file, fast), so importers only look at cells one by one when there can be something to
    find (``CONTROL_RE``).

Spreadsheet formulas
    Exports prefix ``'`` to text that a spreadsheet would run as a formula
    (``formula_escape``); imports remove exactly that prefix again (``formula_unescape``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from django.conf import settings
from django.utils.translation import gettext as _

from erp.errors import ServiceError

TEXT_EXTENSIONS = frozenset({".csv", ".tsv", ".txt"})
XLSX_EXTENSION = ".xlsx"

# Text starting with one of these is run as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
# Control characters other than tab, LF and CR: never part of a name, an address or a note.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes(range(32)).translate(None, b"\t\n\r")

Numbering = Literal["line", "record"]


class TabularError(ServiceError):
    """The file as a whole cannot be read as a table; the message says why, for the user."""

    code = "file_unreadable"


class TooManyRows(TabularError):
    code = "too_many_rows"


@dataclass(frozen=True, slots=True)
class Table:
    """The non-blank rows of a file, each with its row number in the file (see the module
    docstring); ``rows[0]`` is usually the header. ``may_have_controls``: some cell may hold
    a control character (``CONTROL_RE``)."""

    rows: list[tuple[int, list[str]]]
    may_have_controls: bool


def formula_escape(value: str) -> str:
    """Prefix ``'`` when a spreadsheet would run ``value`` as a formula (export side)."""
    return "'" + value if value.lstrip("'")[:1] in FORMULA_TRIGGERS else value


def formula_unescape(value: str) -> str:
    """Undo ``formula_escape`` exactly: drop one ``'`` only where the export would add one."""
    if value[:1] == "'" and value.lstrip("'")[:1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def header_key(header: str) -> str:
    """A header as compared: NFKC (full-width ``（`` is ``(``), no spaces, case folded."""
    return "".join(unicodedata.normalize("NFKC", header).split()).casefold()


def file_extension(filename: str) -> str:
    return PurePath(filename).suffix.lower()


def check_upload(*, data: bytes, filename: str) -> str:
    """Refuse an upload above ``settings.IMPORT_MAX_UPLOAD_BYTES``, an empty one, or one that
    is neither text nor XLSX; return its extension (lower case, with the dot)."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise TabularError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{len(data) / 1048576:.1f}", "limit": f"{limit / 1048576:.1f}"}
        )
    if not data.strip():
        raise TabularError(_("The file is empty."))
    extension = file_extension(filename)
    if extension not in TEXT_EXTENSIONS and extension != XLSX_EXTENSION:
        raise TabularError(
            _("Files of type “%(ext)s” cannot be imported; save the sheet as .xlsx or .csv.")
            % {"ext": extension or filename}
        )
    return extension


def read_table(
    data: bytes,
    filename: str,
    *,
    max_rows: int,
    delimiter: str | None = None,
    numbering: Numbering = "line",
) -> Table:
    """The non-blank rows of a CSV/TSV/text or XLSX file (by its extension).

    ``max_rows`` counts data rows after one header row. Call ``check_upload`` first.
    """
    if file_extension(filename) == XLSX_EXTENSION:
        return read_xlsx(data, max_rows=max_rows)
    return read_csv(data, max_rows=max_rows, delimiter=delimiter, numbering=numbering)


def too_many_rows(max_rows: int) -> TooManyRows:
    return TooManyRows(
        _("The file has more than %(max)d rows; split it into smaller files.") % {"max": max_rows}
    )


def decode(data: bytes) -> tuple[str, bool]:
    """The text, and whether it may hold control characters (checked cell by cell later)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise TabularError(
                    _("The file starts like %(enc)s but is not valid %(enc)s text.")
                    % {"enc": encoding.upper()}
                ) from exc
            return text, encoding.startswith("utf-16") or has_control_bytes(data)
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), has_control_bytes(data)
        except UnicodeDecodeError:
            continue
    raise TabularError(_("The file is neither UTF-8 nor GB18030 text; save it as CSV UTF-8."))


def has_control_bytes(data: bytes) -> bool:
    """Whether ``data`` has a byte below 0x20 other than tab, LF and CR.

    UTF-8 and GB18030 never use such bytes inside a multi-byte character, so a file without
    any needs no cell-by-cell check.
    """
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def sniff_delimiter(text: str) -> str:
    """A tab when the first non-blank line has more tabs than commas, else a comma."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if line.strip():
            return "\t" if line.count("\t") > line.count(",") else ","
        if end < 0:
            break
        start = end + 1
    return ","


def read_csv(
    data: bytes,
    *,
    max_rows: int,
    delimiter: str | None = None,
    numbering: Numbering = "line",
) -> Table:
    """The non-blank records of a delimited text file, with their row numbers."""
    text, may_have_controls = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or sniff_delimiter(text))
    rows: list[tuple[int, list[str]]] = []
    limit = max_rows + 1  # the header
    reading = 1  # the row being read, for the csv module's error message
    try:
        if numbering == "record":
            for number, cells in enumerate(reader, start=1):
                reading = number + 1
                # A blank row has a blank first cell: test that cheap condition first.
                if not cells or (not cells[0].strip() and not "".join(cells).strip()):
                    continue
                rows.append((number, cells))
                if len(rows) > limit:
                    raise too_many_rows(max_rows)
        else:
            for cells in reader:
                number = reading
                reading = reader.line_num + 1
                if not cells or (not cells[0].strip() and not "".join(cells).strip()):
                    continue
                rows.append((number, cells))
                if len(rows) > limit:
                    raise too_many_rows(max_rows)
    except csv.Error as exc:
        raise TabularError(
            _("The CSV file cannot be read at row %(row)d: %(error)s")
            % {"row": reading, "error": exc}
        ) from exc
    if not rows:
        raise TabularError(_("The file is empty."))
    return Table(rows, may_have_controls)


def cell_text(value: object) -> str:
    """A spreadsheet cell's value as the text a person typed (numbers without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # 15 significant digits: what the float surely holds, so 4.1 is not 4.1000000000000005
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def read_xlsx(data: bytes, *, max_rows: int) -> Table:
    """The non-blank rows of the first worksheet, numbered as the sheet shows them."""
    from openpyxl import load_workbook  # only XLSX imports pay for it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise TabularError(_("The file is not a readable XLSX workbook.")) from exc
    rows: list[tuple[int, list[str]]] = []
    limit = max_rows + 1
    try:
        sheet_rows = workbook.worksheets[0].iter_rows(min_row=1, min_col=1, values_only=True)
        for number, values in enumerate(sheet_rows, start=1):
            cells = [cell_text(v) for v in values]
            if "".join(cells).strip():
                rows.append((number, cells))
                if len(rows) > limit:
                    raise too_many_rows(max_rows)
    except TabularError:
        raise
    except Exception as exc:
        raise TabularError(_("The file is not a readable XLSX workbook.")) from exc
    finally:
        workbook.close()
    if not rows:
        raise TabularError(_("The file is empty."))
    return Table(rows, True)
