"""SKU export to CSV and XLSX in the exact shape the import reads, so an export re-imports
unchanged (``warehouse.imports`` documents the format).

- Columns: ``SKU_FILE_COLUMNS`` with their English field names as headers.
- CSV: UTF-8 with a BOM and CRLF line ends, because Excel only reads Chinese text from a CSV
  correctly when the BOM is there. Booleans are ``true`` / ``false``.
- XLSX: one sheet; codes, barcodes and HS codes are text cells (Excel would turn
  ``6901234567890`` into ``6.90123E+12`` and drop leading zeros), numbers are numbers, booleans
  are booleans. Edit barcodes in the XLSX rather than in the CSV, for the same reason.
- Formula injection: text that starts with ``= + - @``, tab or CR gets a leading ``'`` so that a
  spreadsheet shows it instead of running it (``formula_escape``); the import removes it again.
- Memory: rows are read with ``.iterator(chunk_size=...)`` as plain tuples, never as a list
  of model instances; the XLSX is built by openpyxl's write-only workbook.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import Literal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.tabular import formula_escape
from warehouse.imports import BOOL_FIELDS, SKU_FILE_COLUMNS, TEXT_FIELDS
from warehouse.models import Sku

CHUNK_SIZE = 2000
_TEXT_INDEXES = frozenset(i for i, name in enumerate(SKU_FILE_COLUMNS) if name in TEXT_FIELDS)
_BOOL_INDEXES = frozenset(i for i, name in enumerate(SKU_FILE_COLUMNS) if name in BOOL_FIELDS)


class SkuExportError(ServiceError):
    code = "sku_export_error"


def sku_export(*, queryset: QuerySet[Sku], fmt: Literal["csv", "xlsx"]) -> bytes:
    """The SKUs of ``queryset`` (already filtered and scoped by the caller) as a file.

    The caller decides which SKUs (filters, permissions); this function only decides the file
    format, so the page, the API and ``manage.py export_skus`` give the same bytes.
    """
    if fmt == "csv":
        return _csv(_rows(queryset))
    if fmt == "xlsx":
        return _xlsx(_rows(queryset))
    raise SkuExportError(_("Unknown export format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt})


def _rows(queryset: QuerySet[Sku]) -> Iterator[tuple]:
    return queryset.order_by("code").values_list(*SKU_FILE_COLUMNS).iterator(chunk_size=CHUNK_SIZE)


def _csv(rows: Iterator[tuple]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SKU_FILE_COLUMNS)
    text, booleans = sorted(_TEXT_INDEXES), sorted(_BOOL_INDEXES)
    for row in rows:
        cells = list(row)
        for i in text:
            cells[i] = formula_escape(cells[i])
        for i in booleans:
            cells[i] = "true" if cells[i] else "false"
        writer.writerow(cells)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def _xlsx(rows: Iterator[tuple]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("SKUs")
    sheet.append(SKU_FILE_COLUMNS)
    text = sorted(_TEXT_INDEXES)
    for row in rows:
        cells = list(row)
        for i in text:
            # openpyxl refuses control characters; the import refuses them too
            cells[i] = formula_escape(ILLEGAL_CHARACTERS_RE.sub("", cells[i]))
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
