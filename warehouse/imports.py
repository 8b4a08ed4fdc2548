"""SKU import from CSV and XLSX files: check every row first, then write all rows or none.

What a seller can rely on (the page, the API and ``manage.py import_skus`` share this service):

Files
    Read by ``erp.tabular`` (shared with the order imports): ``.csv`` / ``.tsv`` / ``.txt``
    encoded as UTF-8, UTF-8 with BOM, UTF-16 with BOM (Excel's "Unicode text") or GB18030
    (what Chinese Excel and WPS save as "CSV"); the delimiter is a comma, or a tab when the
    header line has more tabs than commas. ``.xlsx``: the first worksheet. The first non-blank
    row is the header; row numbers in errors are the row numbers the spreadsheet shows (the
    first data row is row 2; a quoted cell that spans lines is still one row: ``erp.tabular``'s
    "record" numbering). Blank rows are skipped.

Headers
    The field names of ``SKU_FILE_COLUMNS`` (what the export writes) or their Chinese names in
    ``HEADER_ALIASES`` (``SKU编码``, ``名称``, ``重量(g)``, ...). Matching ignores case, spaces and
    full-width punctuation (NFKC), so ``重量（g）`` and ``Weight_G`` both work. Only the code
    column is required; a new SKU also needs a name.

Unknown columns are an error (row 1, naming the column), not silently dropped: a misspelt
    header (``wieght_g``) that was ignored would import a file the user believes changed
    weights. ``avg_cost`` in particular is refused: cost only comes from receipts.

Empty cells mean "no value given": an existing SKU keeps its value, a new SKU gets the model
    default. So an import can set a field but never clear it (clear a barcode on the SKU page).

Limits
    ``settings.IMPORT_MAX_UPLOAD_BYTES`` for the file and ``settings.SKU_IMPORT_MAX_ROWS``
    (default 200,000) data rows; above either the whole file is refused.

Values
    Booleans: 1/0, true/false, yes/no, y/n, 是/否 (any case). Integers: whole and not negative.
    Decimals: finite, not negative, at most the model's decimal places and digits. Text: trimmed,
    within the model's max length, no control characters. A code appears once per file; a
    barcode is unique among the SKUs as they will be after the import (so two SKUs may swap
    barcodes in one file).

Spreadsheet formulas
    The export prefixes ``'`` to text that starts with ``= + - @``, tab or CR (optionally after
    other quotes) so that Excel shows it as text instead of running it. The import removes exactly
    one leading ``'`` from such text, so an export re-imports unchanged: ``'=SUM(A1)`` becomes
    ``=SUM(A1)``, ``''=x`` becomes ``'=x``, and ``'abc`` stays ``'abc``.

Speed (``bench/bench_sku_import.py``)
    No query per row and no ``full_clean``: cells are checked column by column in plain Python
    (a whole column is tested with one regex or builtin and only odd cells take the slow path),
    then the checks against stored SKUs and the writes happen in one transaction. The values
    stay in columns from reading to writing (no tuple per row until one is needed).
    PostgreSQL: the rows are COPYed into a temporary table and SQL does the rest (missing
    names, barcode clashes, ``UPDATE ... WHERE <changed>``, ``INSERT ... ON CONFLICT DO
    NOTHING``), so unchanged rows are neither sent back to Python nor locked; the barcode
    clash query only runs when some row gives a barcode its SKU does not have yet. Elsewhere
    (SQLite, the embedded mode) the stored SKUs are read by code in chunks, compared in
    Python, and written with one ``executemany`` INSERT and one UPDATE (see ``_write_rows``
    for why not ``bulk_update``).

    Where the time goes when a file changes all 50,000 stored SKUs on PostgreSQL (the bench
    prints it): about half in PostgreSQL's UPDATE itself, mostly adding the new row versions to
    the three unique indexes (id, code, barcode), because the pages of ``warehouse_sku`` are
    full and no update can be HOT; about a fifth checking the cells, a tenth each reading the
    file and the COPY.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import User
from erp.tabular import (
    CONTROL_RE,
    TabularError,
    check_upload,
    column_letter,
    formula_unescape,
    header_key,
    read_table,
)
from warehouse.models import SKU_EDITABLE_FIELDS, Sku

# The file's columns, in the order the export writes them; ``code`` first.
# (is_bundle is left out: a bundle needs its parts, which one row of cells cannot hold.)
SKU_FILE_COLUMNS: tuple[str, ...] = tuple(f for f in SKU_EDITABLE_FIELDS if f != "is_bundle")
TEXT_FIELDS = frozenset(
    {"code", "name", "name_zh", "barcode", "declared_name_en", "declared_name_zh", "hs_code"}
)
INT_FIELDS = frozenset({"weight_g", "length_mm", "width_mm", "height_mm", "low_stock_threshold"})
DECIMAL_FIELDS = frozenset({"declared_value_usd"})
BOOL_FIELDS = frozenset({"has_battery", "is_liquid", "is_magnetic", "is_active"})

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("SKU编码", "SKU", "SKU code", "商品编码", "编码"),
    "name": ("名称", "英文名称", "English name"),
    "name_zh": ("中文名称", "Chinese name"),
    "barcode": ("条码", "条形码"),
    "weight_g": ("重量(g)", "重量", "重量(克)", "weight (g)"),
    "length_mm": ("长(mm)", "长", "length (mm)"),
    "width_mm": ("宽(mm)", "宽", "width (mm)"),
    "height_mm": ("高(mm)", "高", "height (mm)"),
    "declared_name_en": ("英文报关名", "customs name (EN)"),
    "declared_name_zh": ("中文报关名", "customs name (ZH)"),
    "hs_code": ("海关编码", "HS编码", "HS code"),
    "declared_value_usd": ("申报价值(USD)", "申报价值", "declared value (USD)"),
    "has_battery": ("带电", "contains battery"),
    "is_liquid": ("液体", "liquid"),
    "is_magnetic": ("磁性", "magnetic"),
    "low_stock_threshold": ("库存预警", "low-stock threshold"),
    "is_active": ("启用", "active"),
}
# Sku fields a file may name but an import must not set (a clearer error than "unknown").
NOT_IMPORTABLE = frozenset({"id", "avg_cost", "is_bundle", "created_at", "updated_at"})

DEFAULT_MAX_ROWS = 200_000  # overridable with settings.SKU_IMPORT_MAX_ROWS
MAX_INT = 2_147_483_647  # PositiveIntegerField is a 4-byte integer on PostgreSQL

_BOOLEANS = {
    **dict.fromkeys(("1", "true", "yes", "y", "是", "t"), True),
    **dict.fromkeys(("0", "false", "no", "n", "否", "f"), False),
}
_BAD: Any = object()  # a cell that failed to parse (its error is already recorded)
_FIELD_INDEX = {name: i for i, name in enumerate(SKU_FILE_COLUMNS)}
_NAME = _FIELD_INDEX["name"]
_BARCODE = _FIELD_INDEX["barcode"]
_DEFAULTS = tuple(Sku._meta.get_field(f).get_default() for f in SKU_FILE_COLUMNS)


class SkuImportError(ServiceError):
    """The file as a whole cannot be read (no row-by-row answer is possible)."""

    code = "sku_import_error"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str  # the header as written in the file
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many rows have at least one error (the header counts as row 1)."""
        return len({e.row for e in self.errors})


def sku_import(*, data: bytes, filename: str, user: User | None = None) -> ImportResult:
    """Create or update SKUs from a CSV or XLSX file, all rows or none.

    Every row is checked before anything is written, because a half-imported catalog is worse
    than none: the user fixes the listed cells and imports the same file again. Returns the
    counts (all zero when there are errors) and every error found. Raises ``SkuImportError``
    when the file itself is unusable. ``user`` is who imports; Sku has no audit columns yet,
    so it is accepted for callers' sake and not stored.
    """
    with _gc_paused():
        try:
            check_upload(data=data, filename=filename)
            table = read_table(data, filename, max_rows=_max_rows(), numbering="record")
        except TabularError as exc:
            raise SkuImportError(str(exc)) from exc
        (_number, header), rows = table.rows[0], table.rows[1:]
        parsed = _parse(header, rows, check_controls=table.may_have_controls)
        plan = _check_file(parsed)
        apply = _apply_postgresql if connection.vendor == "postgresql" else _apply_generic
        try:
            with transaction.atomic():
                return apply(parsed, plan)
        except IntegrityError as exc:
            raise SkuImportError(
                _("The SKUs changed while importing; nothing was written. Import the file again.")
            ) from exc


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a file is imported.

    The import builds about two lists or tuples per row that all live until it ends, and none
    can form a cycle; the collector would walk them again and again as they pile up (measured
    on 50,000 rows: a third of the time spent reading and checking cells). Reference counting
    still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- reading ------------------------------------------------------------------------------


def _max_rows() -> int:
    return getattr(settings, "SKU_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


# -- checking cells -----------------------------------------------------------------------


_HEADER_FIELDS: dict[str, str] = {header_key(name): name for name in SKU_FILE_COLUMNS}
for _field, _aliases in HEADER_ALIASES.items():
    _HEADER_FIELDS.update({header_key(alias): _field for alias in _aliases})


@dataclass
class _Parsed:
    rownums: list[int]
    values: dict[str, list]  # field -> its cells, one per data row (None = empty); file's columns
    errors: list[RowError]
    headers: dict[str, str]  # field -> header as written
    bad_rows: set[int]  # rows with a cell error: only checked for a repeated code
    with_empty: set[str]  # fields with an empty cell (else None only where a cell has an error)

    @property
    def codes(self) -> list[str | None]:
        return self.values["code"]

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


def _map_header(header: Sequence[str], errors: list[RowError]) -> dict[int, str]:
    """Column index -> field, reporting unknown and repeated columns as row-1 errors."""
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        title = raw.strip()
        if not title:
            continue
        key = header_key(title)
        name = _HEADER_FIELDS.get(key)
        if name is None:
            if key == "avg_cost":
                message = _("The average cost cannot be imported; it comes from receipts.")
            elif key in NOT_IMPORTABLE:
                message = _("This column cannot be imported.")
            else:
                message = _("Unknown column; the columns are: %(names)s.") % {
                    "names": ", ".join(SKU_FILE_COLUMNS)
                }
            errors.append(RowError(1, title, message))
        elif name in seen:
            errors.append(
                RowError(1, title, _("This column repeats column %(c)s.") % {"c": seen[name]})
            )
        else:
            seen[name] = title
            columns[index] = name
    if "code" not in seen:
        raise SkuImportError(
            _("The file has no SKU code column (a header “code” or “SKU编码” in row 1).")
        )
    return columns


def _parse(
    header: list[str], rows: list[tuple[int, list[str]]], *, check_controls: bool
) -> _Parsed:
    """Check the cells column by column; the values stay in columns (``_Parsed.values``),
    which is the shape both the checks within the file and the PostgreSQL COPY want."""
    errors: list[RowError] = []
    columns = _map_header(header, errors)
    if not rows:
        raise SkuImportError(_("The file has a header but no data rows."))
    width = len(header)
    rownums = [number for number, _cells in rows]
    lines = [cells for _number, cells in rows]
    lengths = set(map(len, lines))
    found: list[tuple[int, int, RowError]] = []  # (row, column index, error), sorted below
    # Values in columns without a header would be lost: report them instead.
    unheaded = [i for i, h in enumerate(header) if not h.strip()]
    if unheaded or max(lengths) > width:
        for number, cells in rows:
            for index in [*unheaded, *range(width, len(cells))]:
                if index < len(cells) and cells[index].strip():
                    message = _("This cell has a value but its column has no header.")
                    letter = column_letter(index)
                    found.append((number, index, RowError(number, letter, message)))
    if lengths != {width}:
        lines = [
            cells if len(cells) == width else (cells + [""] * width)[:width] for cells in lines
        ]
    transposed = list(zip(*lines, strict=True))
    values: dict[str, list] = {}
    with_empty: set[str] = set()
    headers = {name: header[i].strip() for i, name in columns.items()}
    for index, name in columns.items():
        column = _Column(rownums, index, headers[name], found, transposed[index])
        model_field = Sku._meta.get_field(name)
        if name in TEXT_FIELDS:
            values[name] = column.text(model_field.max_length, check_controls)
        elif name in INT_FIELDS:
            values[name] = column.integer()
        elif name in DECIMAL_FIELDS:
            values[name] = column.decimal(model_field.max_digits, model_field.decimal_places)
        else:
            values[name] = column.boolean()
        if column.empty:
            with_empty.add(name)
        if name == "code" and column.empty:
            for i, cell in enumerate(column.cells):
                if not cell:
                    column.error(i, _("The SKU code is required."))
    found.sort(key=lambda item: (item[0], item[1]))
    errors.extend(error for _row, _index, error in found)
    bad_rows = {e.row for e in errors}
    return _Parsed(rownums, values, errors, headers, bad_rows, with_empty)


class _Column:
    """One column's cells, checked at once: a regex or builtin over the whole column finds
    whether any cell is odd, and only then are the cells looked at one by one."""

    def __init__(self, rownums, index: int, header: str, found: list, raw: Sequence[str]):
        self.rownums, self.index, self.header, self.found = rownums, index, header, found
        # str.strip returns the cell itself when there is nothing to strip: no copies.
        self.cells = list(map(str.strip, raw))
        self.joined = "\x00".join(self.cells)  # the cells joined by NUL, for whole-column tests
        # Whether the NULs in ``joined`` are all separators (a CSV cell may hold a NUL).
        self.separable = self.joined.count("\x00") == len(self.cells) - 1
        self.empty = self.cells.count("")

    def error(self, i: int, message: str) -> None:
        row = self.rownums[i]
        self.found.append((row, self.index, RowError(row, self.header, message)))

    def text(self, max_length: int, check_controls: bool) -> list:
        if "'" in self.joined:
            values = [(formula_unescape(v) if v[:1] == "'" else v) or None for v in self.cells]
        elif self.empty:
            values = [v or None for v in self.cells]
        else:
            values = list(self.cells)
        # The cells are at least as long as the values (a quote may be removed): a bound.
        if max(map(len, self.cells), default=0) > max_length:
            for i, v in enumerate(values):
                if v is not None and len(v) > max_length:
                    self.error(
                        i,
                        _("The text is %(length)d characters long; the limit is %(max)d.")
                        % {"length": len(v), "max": max_length},
                    )
                    values[i] = None
        if check_controls:
            for i, v in enumerate(values):
                if v is not None and CONTROL_RE.search(v):
                    self.error(i, _("The text contains a control character."))
                    values[i] = None
        return values

    def integer(self) -> list:
        # Plain: every cell empty or ASCII digits, at most 9 (so below MAX_INT). String
        # methods over the whole column: several times faster than a regex over it.
        digits = self.joined.replace("\x00", "")
        if (
            self.separable
            and digits.isascii()
            and (digits.isdigit() or not digits)
            and max(map(len, self.cells)) <= 9
        ):
            if not self.empty:
                return list(map(int, self.cells))
            return [int(v) if v else None for v in self.cells]
        values = [int(v) if v.isdecimal() else (_BAD if v else None) for v in self.cells]
        if values.count(_BAD) or max(filter(None, values), default=0) > MAX_INT:
            for i, v in enumerate(values):
                if v is _BAD or (v is not None and v > MAX_INT):
                    values[i] = self._slow_integer(i, self.cells[i])
        return values

    def _slow_integer(self, i: int, cell: str) -> int | None:
        try:
            number = Decimal(cell)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.error(i, _("“%(value)s” is not a whole number.") % {"value": cell})
        elif number < 0:
            self.error(i, _("The number must not be negative."))
        elif number != number.to_integral_value():
            self.error(i, _("“%(value)s” is not a whole number.") % {"value": cell})
        elif number > MAX_INT:
            self.error(i, _("The number is larger than %(max)d.") % {"max": MAX_INT})
        else:
            return int(number)  # "12.0", as some spreadsheets write integers
        return None

    def decimal(self, max_digits: int, places: int) -> list:
        whole = max_digits - places
        plain = rf"(?:\d{{1,{whole}}}(?:\.\d{{1,{places}}})?)?"
        if self.separable and re.fullmatch(rf"{plain}(?:\x00{plain})*", self.joined):
            if not self.empty:
                return list(map(Decimal, self.cells))
            return [Decimal(v) if v else None for v in self.cells]
        return [
            self._slow_decimal(i, v, whole, places) if v else None for i, v in enumerate(self.cells)
        ]

    def _slow_decimal(self, i: int, cell: str, whole: int, places: int) -> Decimal | None:
        quantum = Decimal(1).scaleb(-places)
        try:
            number = Decimal(cell)
            exact = number.is_finite() and number.quantize(quantum) == number
        except InvalidOperation:
            number, exact = None, False
        if number is None or not number.is_finite():
            self.error(i, _("“%(value)s” is not a number.") % {"value": cell})
        elif number < 0:
            self.error(i, _("The number must not be negative."))
        elif not exact:
            self.error(i, _("Use at most %(places)d decimal places.") % {"places": places})
        elif number >= 10**whole:
            self.error(i, _("The number must be less than %(max)d.") % {"max": 10**whole})
        else:
            return number
        return None

    def boolean(self) -> list:
        values = list(map(_BOOLEANS.get, self.cells))  # None for an empty cell, or an odd one
        if values.count(None) != self.empty:
            for i, v in enumerate(values):
                if v is None and self.cells[i]:
                    values[i] = _BOOLEANS.get(self.cells[i].casefold())
                    if values[i] is None:
                        self.error(
                            i,
                            _("“%(value)s” is not yes or no; use %(choices)s.")
                            % {
                                "value": self.cells[i],
                                "choices": "1/0, true/false, yes/no, y/n, 是/否",
                            },
                        )
        return values


# -- checks within the file ---------------------------------------------------------------


@dataclass
class _Plan:
    """The rows that passed every cell check and every check within the file."""

    keep: list[int] | None  # their indices among the parsed rows; None: every row
    size: int  # how many

    def pick(self, column: list) -> list:
        """``column``'s values of the rows in the plan."""
        return _pick(column, self.keep)


def _pick(column: list, keep: list[int] | None) -> list:
    return column if keep is None else [column[i] for i in keep]


def _check_file(parsed: _Parsed) -> _Plan:
    """Repeated codes and barcodes, reported on the later row. Sets find whether there is any
    repeat at all; only then are the rows walked one by one."""
    errors, dropped = parsed.errors, set(parsed.bad_rows)
    rownums, codes = parsed.rownums, parsed.codes
    blank = codes.count(None)
    if len(set(codes)) - (1 if blank else 0) != len(codes) - blank:
        first: dict[str, int] = {}
        for number, code in zip(rownums, codes, strict=True):
            if code is not None and (seen := first.setdefault(code, number)) != number:
                message = _("SKU %(code)s already appears in row %(row)d.")
                errors.append(
                    RowError(number, parsed.header("code"), message % {"code": code, "row": seen})
                )
                dropped.add(number)
    keep = None
    if blank or dropped:
        keep = [
            i
            for i, (number, code) in enumerate(zip(rownums, codes, strict=True))
            if code is not None and number not in dropped
        ]
    barcodes = parsed.values.get("barcode")
    if barcodes is not None:
        given = _pick(barcodes, keep)
        missing = given.count(None)
        if len(set(given)) - (1 if missing else 0) != len(given) - missing:
            indices = range(len(codes)) if keep is None else keep
            first_barcode: dict[str, int] = {}
            repeated = set()
            for i in indices:
                number, barcode = rownums[i], barcodes[i]
                if barcode is None:
                    continue
                if (seen := first_barcode.setdefault(barcode, number)) != number:
                    message = _("Barcode %(barcode)s is also given in row %(row)d.")
                    errors.append(
                        RowError(
                            number,
                            parsed.header("barcode"),
                            message % {"barcode": barcode, "row": seen},
                        )
                    )
                    repeated.add(i)
            keep = [i for i in indices if i not in repeated]
    return _Plan(keep, len(codes) if keep is None else len(keep))


def _name_missing(parsed: _Parsed, number: int) -> RowError:
    return RowError(number, parsed.header("name"), _("A new SKU needs a name."))


def _barcode_taken(parsed: _Parsed, number: int, barcode: str, owner: str) -> RowError:
    message = _("Barcode %(barcode)s already belongs to SKU %(sku)s.")
    return RowError(number, parsed.header("barcode"), message % {"barcode": barcode, "sku": owner})


def _finish(parsed: _Parsed) -> ImportResult:
    parsed.errors.sort(key=lambda e: e.row)  # stable: the cells of one row stay in order
    return ImportResult(errors=parsed.errors)


# -- checks against the stored SKUs, and writing ----------------------------------------------
#
# Barcodes are unique among the SKUs as they will be after the import: a barcode stored on
# another SKU conflicts unless that SKU gets a different barcode in the same file. Before
# writing, a barcode that moves to another SKU is taken off its old SKU, because the unique
# index is checked row by row and a swap would otherwise fail halfway through a statement.


def _apply_generic(parsed: _Parsed, plan: _Plan) -> ImportResult:
    """SQLite and others: read the stored SKUs, compare in Python, write with executemany."""
    rows = _plan_rows(parsed, plan)
    barcodes = {row[0]: row[_BARCODE] for _n, row in rows if row[_BARCODE] is not None}
    codes = [row[0] for _n, row in rows]
    existing = {
        row[1]: (row[0], row[1:]) for row in _stored(("id", *SKU_FILE_COLUMNS), "code", codes)
    }
    creates: list[tuple] = []
    updates: list[tuple[int, tuple]] = []
    unchanged = 0
    for number, row in rows:
        current = existing.get(row[0])
        if current is None:
            if row[_NAME] is None:
                parsed.errors.append(_name_missing(parsed, number))
                continue
            if None in row:
                row = tuple(d if v is None else v for v, d in zip(row, _DEFAULTS, strict=True))
            creates.append(row)
        else:
            pk, stored = current
            if None in row:
                row = tuple(s if v is None else v for v, s in zip(row, stored, strict=True))
            if row == stored:
                unchanged += 1
            else:
                updates.append((pk, row))
    owners = dict(_stored(("barcode", "code"), "barcode", list(barcodes.values())))
    row_of = {row[0]: number for number, row in rows} if owners else {}
    for code, barcode in barcodes.items():
        owner = owners.get(barcode)
        if owner is not None and owner != code and owner not in barcodes:
            parsed.errors.append(_barcode_taken(parsed, row_of[code], barcode, owner))
    if parsed.errors:
        return _finish(parsed)

    moving = set(barcodes.values())
    vacated = [
        code
        for code, barcode in barcodes.items()
        if code in existing
        and (old := existing[code][1][_BARCODE])
        and old != barcode
        and old in moving
    ]
    for chunk in _chunks(vacated, _chunk_size()):
        Sku.objects.filter(code__in=chunk).update(barcode="")
    _write_rows(creates, updates, timezone.now())
    return ImportResult(created=len(creates), updated=len(updates), unchanged=unchanged)


def _plan_rows(parsed: _Parsed, plan: _Plan) -> list[tuple[int, tuple]]:
    """(row number, values in ``SKU_FILE_COLUMNS`` order, None for an empty cell) of the rows
    in the plan."""
    columns = [
        plan.pick(parsed.values[name]) if name in parsed.values else repeat(None)
        for name in SKU_FILE_COLUMNS
    ]
    # ``code`` is always a column, so zip stops; repeat(None) for an absent column is endless.
    return list(zip(plan.pick(parsed.rownums), zip(*columns, strict=False), strict=True))


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _chunk_size() -> int:
    return min(connection.features.max_query_params or 5000, 5000) - 1


def _stored(columns: tuple[str, ...], key: str, keys: list[str]) -> list[tuple]:
    """``columns`` of the SKUs whose ``key`` (code or barcode) is in ``keys``, chunked under
    the backend's parameter limit; through the ORM for its type converters."""
    names = ["pk" if c == "id" else c for c in columns]
    return [
        row
        for chunk in _chunks(keys, _chunk_size())
        for row in Sku.objects.filter(**{f"{key}__in": chunk}).values_list(*names)
    ]


def _write_rows(creates: list[tuple], updates: list[tuple[int, tuple]], now) -> None:
    """One ``executemany`` INSERT and one UPDATE statement.

    Not ``bulk_create`` / ``bulk_update``: importing 50,000 rows into SQLite took 5.8 s to
    create (``bulk_create`` fits 49 rows per statement under the parameter limit) and 152 s to
    update (``bulk_update``'s ``CASE WHEN`` statements); with these two statements the whole
    import takes about 2 s either way. The read that split the rows into creates and updates ran in
    this same transaction, which SQLite's IMMEDIATE mode makes the only writer.
    """
    quote = connection.ops.quote_name
    table = quote(Sku._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    columns = [*SKU_FILE_COLUMNS, "is_bundle", "avg_cost", "created_at", "updated_at"]
    placeholders = ", ".join(["%s"] * len(columns))
    assignments = ", ".join(f"{quote(c)} = %s" for c in (*SKU_FILE_COLUMNS[1:], "updated_at"))
    # Identifiers come from the model, never from the file; values are parameters.
    insert = f"INSERT INTO {table} ({', '.join(map(quote, columns))}) VALUES ({placeholders})"
    update = f"UPDATE {table} SET {assignments} WHERE {quote('id')} = %s"
    zero = Sku._meta.get_field("avg_cost").get_default()
    with connection.cursor() as cursor:
        if creates:
            cursor.executemany(insert, [(*row, False, zero, stamp, stamp) for row in creates])
        if updates:
            cursor.executemany(update, [(*row[1:], stamp, pk) for pk, row in updates])


def _apply_postgresql(parsed: _Parsed, plan: _Plan) -> ImportResult:
    """COPY the rows into a temporary table; SQL finds the errors and writes the changes.

    Not one ``INSERT ... ON CONFLICT DO UPDATE``: it cannot keep a stored value for an empty
    cell without joining the stored row first, and it locks every conflicting row even when
    its ``WHERE`` skips the update, so re-importing 50,000 unchanged rows would rewrite them.
    ``UPDATE ... WHERE <changed>`` touches only changed rows. The INSERT skips stored codes
    with ``ON CONFLICT DO NOTHING`` (an index probe each) rather than ``WHERE NOT EXISTS``:
    with stale statistics PostgreSQL plans that as a nested loop that re-reads the table the
    INSERT is growing (measured: 26 s instead of 0.6 s for 50,000 new SKUs). When fewer rows
    are inserted than were new at the check, someone created one meanwhile: the import is
    rolled back and the user asked to import again.

    Only the file's columns are copied and set, and ``COALESCE`` (keep the stored value, or
    take the default, for an empty cell) only where a column has an empty cell.
    """
    columns = {name: plan.pick(values) for name, values in parsed.values.items()}
    present = [name for name in SKU_FILE_COLUMNS if name in columns]
    sql = _postgresql_statements(present, parsed.with_empty)
    with connection.cursor() as cursor:
        # Enough memory for the joins below to hash 200,000 rows instead of sorting on disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql["create"])
        rows = zip(plan.pick(parsed.rownums), *(columns[name] for name in present), strict=True)
        with cursor.cursor.copy(sql["copy"]) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(sql["check"])
        stored, nameless, barcode_changes = cursor.fetchone()
        parsed.errors.extend(_name_missing(parsed, number) for number in nameless)
        vacated = []
        # Without a barcode that some SKU does not hold already, no other SKU can hold one
        # (stored barcodes are unique): the join below would find nothing.
        if barcode_changes:
            cursor.execute(sql["barcode_owners"])
            for number, barcode, owner, owner_moves in cursor.fetchall():
                if owner_moves:
                    vacated.append(owner)
                else:
                    parsed.errors.append(_barcode_taken(parsed, number, barcode, owner))
        if parsed.errors:
            cursor.execute(sql["drop"])
            return _finish(parsed)
        if vacated:
            cursor.execute(sql["vacate_barcodes"], [vacated])
        params = {"now": timezone.now(), **dict(zip(_DEFAULT_PARAMS, _DEFAULTS, strict=True))}
        updated = created = 0
        # Each statement joins every row: skip the one that has nothing to do (the UPDATE also
        # when the file has no column but the code).
        if stored and sql["update"]:
            cursor.execute(sql["lock"])
            cursor.execute(sql["update"], params)
            updated = cursor.rowcount
        if stored < plan.size:
            cursor.execute(sql["insert"], params)
            created = cursor.rowcount
            if created != plan.size - stored:
                # someone else created one of these SKUs since the check: start again
                raise IntegrityError("SKU created concurrently")
        cursor.execute(sql["drop"])
    return ImportResult(created=created, updated=updated, unchanged=plan.size - created - updated)


_DEFAULT_PARAMS = tuple(f"default_{name}" for name in SKU_FILE_COLUMNS)


def _postgresql_statements(present: list[str], with_empty: set[str]) -> dict[str, str]:
    """The statements for a file with the ``present`` columns, ``with_empty`` those of them
    with an empty cell. The temporary table has every column; absent ones stay NULL."""
    # Identifiers come from the model, never from the file; values travel as COPY data or
    # parameters (S608 is switched off for this file in pyproject.toml for that reason).
    q = connection.ops.quote_name
    sku = q(Sku._meta.db_table)
    fields = [q(c) for c in SKU_FILE_COLUMNS]
    code, name, barcode = q("code"), q("name"), q("barcode")
    given = [c for c in present if c != "code"]
    merged = [f"COALESCE(t.{q(c)}, s.{q(c)})" if c in with_empty else f"t.{q(c)}" for c in given]
    defaults = ", ".join(
        f"t.{q(c)}" if c in present and c not in with_empty else f"COALESCE(t.{q(c)}, %({p})s)"
        for c, p in zip(SKU_FILE_COLUMNS[1:], _DEFAULT_PARAMS[1:], strict=True)
    )
    if "barcode" in present:
        barcode_changes = (
            f"COALESCE(bool_or(t.{barcode} IS NOT NULL "
            f"AND t.{barcode} IS DISTINCT FROM s.{barcode}), false)"
        )
    else:
        barcode_changes = "false"
    update = lock = ""
    if given:
        where = (
            f"WHERE s.{code} = t.{code} "
            f"AND ({', '.join(f's.{q(c)}' for c in given)}) IS DISTINCT FROM ({', '.join(merged)})"
        )
        update = (
            f"UPDATE {sku} s SET "
            + ", ".join(f"{q(c)} = {m}" for c, m in zip(given, merged, strict=True))
            + f", {q('updated_at')} = %(now)s FROM sku_import t {where}"
        )
        # The UPDATE locks its rows in the join's order, the stock services lock SKUs by pk:
        # the two could deadlock. So the rows to change are locked first, by pk.
        lock = f"SELECT s.id FROM {sku} s, sku_import t {where} ORDER BY s.id FOR UPDATE OF s"
    return {
        "create": (
            f"CREATE TEMP TABLE sku_import ON COMMIT DROP AS "
            f"SELECT 0 AS row_number, {', '.join(fields)} FROM {sku} WITH NO DATA"
        ),
        "copy": f"COPY sku_import (row_number, {', '.join(map(q, present))}) FROM STDIN",
        # How many rows are stored SKUs, the rows of new SKUs without a name, and whether any
        # row gives a barcode its SKU does not have yet (new SKUs included).
        "check": (
            f"SELECT count(s.{code}), COALESCE(array_agg(t.row_number ORDER BY t.row_number) "
            f"FILTER (WHERE s.{code} IS NULL AND t.{name} IS NULL), '{{}}'), "
            f"{barcode_changes} "
            f"FROM sku_import t LEFT JOIN {sku} s ON s.{code} = t.{code}"
        ),
        # Other SKUs holding a barcode the file gives; owner_moves: the file gives the owner
        # another barcode (else it is a conflict).
        "barcode_owners": (
            f"SELECT t.row_number, t.{barcode}, s.{code}, o.{code} IS NOT NULL "
            f"FROM sku_import t JOIN {sku} s ON s.{barcode} = t.{barcode} AND s.{code} <> t.{code} "
            f"LEFT JOIN sku_import o ON o.{code} = s.{code} AND o.{barcode} IS NOT NULL "
            f"ORDER BY 1"
        ),
        "vacate_barcodes": f"UPDATE {sku} SET {barcode} = '' WHERE {code} = ANY(%s)",
        "lock": lock,
        "update": update,
        "insert": (
            f"INSERT INTO {sku} ({', '.join(fields)}, {q('is_bundle')}, {q('avg_cost')}, "
            f"{q('created_at')}, {q('updated_at')}) SELECT t.{code}, {defaults}, "
            f"false, 0, %(now)s, %(now)s FROM sku_import t ON CONFLICT ({code}) DO NOTHING"
        ),
        "drop": "DROP TABLE sku_import",
    }
