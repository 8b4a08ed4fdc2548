"""What the order-file parsers share: columns found by header name, cells read into values
with one translated reason per bad cell, rows grouped into orders, times and line ids.

A parser reads every cell of every row, so that an order with several bad cells names them
all at once; an order with any bad cell is rejected whole (``build_orders``), because half an
order (one line of two) would be allocated, shipped and invoiced as if it were the order.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.tabular import CONTROL_RE, header_key
from orders.imports.countries import country_code
from orders.models import Order, OrderLine
from orders.normalized import (
    CENT,
    UNIT_PLACES,
    NormalizedOrder,
    NormalizeError,
    parse_timestamp,
    to_decimal,
    to_quantity,
)

Row = tuple[int, list[str]]  # (row number in the file, cells)

# Amounts at or above this are refused: no order is worth it, and the columns hold 12 digits.
MAX_AMOUNT = Decimal(10) ** 10
# What the upsert keeps of a buyer's note (longer notes are cut there, so here too).
NOTE_LIMIT = 5000
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class OrderImportError(ServiceError):
    """The file as a whole cannot be imported (nothing was written); the message says why."""

    code = "order_import_error"


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell: ``row`` as numbered in the file, ``field`` the column's header as written
    in the file, ``reason`` for the user (translated)."""

    row: int
    field: str
    reason: str


@dataclass
class Sheet:
    """A file's rows once its header is found: the header, its row number and the data rows
    after it (blank rows already dropped). ``strip_controls``: cells may hold control
    characters, which text values drop."""

    header: list[str]
    header_row: int
    rows: list[Row]
    strip_controls: bool = True


@dataclass
class ParseResult:
    """The orders a file holds, every error found, and how many orders were rejected."""

    orders: list[NormalizedOrder] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    failed: int = 0


@cache
def text_limit(name: str) -> int:
    return Order._meta.get_field(name).max_length


@cache
def line_text_limit(name: str) -> int:
    return OrderLine._meta.get_field(name).max_length


class Column:
    """One column of the file (``index`` None when the file lacks it: every cell is '')."""

    __slots__ = ("header", "index")

    def __init__(self, index: int | None, header: str):
        self.index, self.header = index, header

    def get(self, cells: Sequence[str]) -> str:
        if self.index is None or self.index >= len(cells):
            return ""
        return cells[self.index].strip()


class Columns:
    """A header row, looked up by name whatever the case, spacing or full-width punctuation
    (``erp.tabular.header_key``); ``aliases`` maps a canonical name to other accepted names
    (the template's Chinese headers). The first of repeated columns wins."""

    def __init__(self, header: Sequence[str], aliases: dict[str, Iterable[str]] | None = None):
        canonical: dict[str, str] = {}
        for name, others in (aliases or {}).items():
            for alias in (name, *others):
                canonical[header_key(alias)] = header_key(name)
        self._index: dict[str, int] = {}
        self._written: dict[str, str] = {}
        self._columns: dict[str, Column] = {}
        for index, raw in enumerate(header):
            key = header_key(raw)
            key = canonical.get(key, key)
            if key and key not in self._index:
                self._index[key] = index
                self._written[key] = raw.strip()

    def __getitem__(self, name: str) -> Column:
        # looked up for every cell of every row: built once per name
        column = self._columns.get(name)
        if column is None:
            key = header_key(name)
            column = self._columns[name] = Column(
                self._index.get(key), self._written.get(key, name)
            )
        return column

    def has(self, name: str) -> bool:
        return header_key(name) in self._index

    def require(self, names: Iterable[str], *, label: str) -> None:
        """Refuse the file unless it has every column of ``names``, naming the missing ones."""
        missing = [name for name in names if not self.has(name)]
        if missing:
            raise OrderImportError(
                _("The %(format)s file has no column %(columns)s; nothing was imported.")
                % {"format": label, "columns": ", ".join(f"“{name}”" for name in missing)}
            )


def keys_of(header: Sequence[str]) -> set[str]:
    return {header_key(cell) for cell in header if cell.strip()}


# --------------------------------------------------------------------------- reading cells


class RowReader:
    """One row's cells, read column by column: a bad cell adds one ``RowError`` to ``errors``
    and reads as ``None`` (or '' for text), so the parser goes on and finds the next one."""

    def __init__(self, number: int, cells: list[str], errors: list[RowError], *, strip: bool):
        self.number, self.cells, self.errors, self.strip = number, cells, errors, strip

    def error(self, column: Column, reason: str) -> None:
        self.errors.append(RowError(self.number, column.header, reason))

    def raw(self, column: Column) -> str:
        return column.get(self.cells)

    def text(self, column: Column, limit: int) -> str:
        """Free text, cut to the column's length: a long street is kept, not refused."""
        value = column.get(self.cells)
        if self.strip and value and CONTROL_RE.search(value):
            value = CONTROL_RE.sub("", value).strip()
        return value[:limit]

    def identifier(self, column: Column, limit: int, *, required: bool = True) -> str:
        """An id or SKU: required unless said otherwise, and never cut (a cut id is another
        id)."""
        value = self.text(column, 10 * limit)
        if not value:
            if required:
                self.error(column, _("This cell is required."))
            return ""
        if len(value) > limit:
            self.error(
                column,
                _("“%(value)s” is longer than %(limit)d characters.")
                % {"value": value[:40] + "…", "limit": limit},
            )
            return ""
        return value

    def amount(
        self, column: Column, *, required: bool = False, signed: bool = False, text: str = ""
    ) -> Decimal | None:
        """A decimal amount ('' is zero unless required); ``text`` overrides the cell (for
        amounts a parser has already taken a currency symbol off)."""
        value = text or column.get(self.cells)
        if not value:
            if required:
                self.error(column, _("This cell is required."))
                return None
            return Decimal("0")
        try:
            amount = to_decimal(value, column.header)
        except NormalizeError:
            self.error(column, _("“%(value)s” is not an amount.") % {"value": value})
            return None
        if amount < 0 and not signed:
            self.error(column, _("“%(value)s” must not be negative.") % {"value": value})
            return None
        if abs(amount) >= MAX_AMOUNT:
            self.error(column, _("“%(value)s” is implausibly large.") % {"value": value})
            return None
        return amount

    def quantity(self, column: Column) -> int | None:
        value = column.get(self.cells)
        if not value:
            self.error(column, _("This cell is required."))
            return None
        try:
            return to_quantity(value, column.header)
        except NormalizeError:
            self.error(
                column,
                _("“%(value)s” is not a whole number from 1 to 1,000,000.") % {"value": value},
            )
            return None

    def moment(
        self, column: Column, *, required: bool = True, local: tzinfo | None = None
    ) -> datetime | None:
        """A date and time as aware UTC; ``local`` is the zone of times written without one
        (None: such a time is an error)."""
        value = column.get(self.cells)
        if not value:
            if required:
                self.error(column, _("This cell is required."))
            return None
        try:
            return parse_moment(value, local=local)
        except ValueError as exc:
            self.error(column, str(exc))
            return None

    def country(self, column: Column) -> str:
        value = self.text(column, 100)
        if not value:
            return ""
        code = country_code(value)
        if code is None:
            self.error(
                column,
                _("“%(value)s” is not a country we know; use its two-letter ISO code (US, GB).")
                % {"value": value},
            )
            return ""
        return code

    def currency(self, column: Column, default: str) -> str:
        value = column.get(self.cells).upper()
        if not value:
            return default
        if not _CURRENCY_RE.match(value):
            self.error(
                column, _("“%(value)s” is not a currency code such as USD.") % {"value": value}
            )
            return default
        return value


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def unit_places(amount: Decimal) -> Decimal:
    return amount.quantize(UNIT_PLACES, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------ times

# Zone abbreviations eBay and spreadsheets write after a time. Ambiguous ones (CST is both
# China and US Central) are left out: such a time is read in the local zone instead.
ZONE_ABBREVIATIONS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "PST": -8,
    "PDT": -7,
    "MST": -7,
    "MDT": -6,
    "EST": -5,
    "EDT": -4,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "AEST": 10,
    "AEDT": 11,
    "JST": 9,
    "HKT": 8,
    "SGT": 8,
}
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME = (
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"
)
_DATE_FORMS = (
    # eBay: Mar-01-25, Mar-01-25 10:15:00, Mar 01, 2025, March 1, 2025 3:04 PM
    re.compile(
        rf"(?P<month>[A-Za-z]{{3,9}})[-. ](?P<day>\d{{1,2}}),?[-. ](?P<year>\d{{2,4}}){_TIME}"
    ),
    # 01-Mar-25, 1 Mar 2025 (eBay UK style)
    re.compile(
        rf"(?P<day>\d{{1,2}})[-. ](?P<month>[A-Za-z]{{3,9}})[-. ](?P<year>\d{{2,4}}){_TIME}"
    ),
    # 2025/3/1 10:00 (Chinese spreadsheets)
    re.compile(rf"(?P<year>\d{{4}})[/.](?P<month>\d{{1,2}})[/.](?P<day>\d{{1,2}}){_TIME}"),
)


def parse_moment(value: str, *, local: tzinfo | None) -> datetime:
    """A date and time from a report or a spreadsheet, as an aware UTC datetime.

    ISO 8601 with or without an offset (``2025-03-01T10:00:00+08:00``, ``2025-03-01 10:00``,
    a date alone), Shopify's ``2024-05-01 10:00:00 +0000``, eBay's ``Mar-01-25`` /
    ``Mar 01, 2025`` (optionally with a time and a zone abbreviation such as PDT) and
    ``2025/03/01 10:00``. A time without a zone is in ``local``; without ``local`` it is an
    error, as is a day-first or month-first numeric date (03/01/2025 is two different days).
    Raises ``ValueError`` with a translated message.
    """
    text = value.strip()
    offset = None
    head, _sep, last = text.rpartition(" ")
    if head and last.upper() in ZONE_ABBREVIATIONS:
        text, offset = head.strip(), timezone(timedelta(hours=ZONE_ABBREVIATIONS[last.upper()]))
    moment = _iso(text) or _worded(text)
    if moment is None:
        raise ValueError(
            _("“%(value)s” is not a date and time we can read; write it as 2025-03-01 10:00.")
            % {"value": value}
        )
    if moment.tzinfo is None:
        zone = offset or local
        if zone is None:
            raise ValueError(_("“%(value)s” has no time zone.") % {"value": value})
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _iso(text: str) -> datetime | None:
    if text.isdigit():  # a Unix time or 20250301: neither is what a person types in a sheet
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text)
    try:
        return parse_timestamp(text, "")  # "2024-05-01 10:00:00 +0000" and friends
    except NormalizeError:
        return None


def _worded(text: str) -> datetime | None:
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        month = parts["month"]
        month_number = int(month) if month.isdigit() else MONTHS.get(month.casefold())
        year = int(parts["year"])
        if year < 100:
            year += 2000
        hour = int(parts["hour"] or 0)
        if parts["ampm"]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if parts["ampm"].lower() == "pm" else 0)
        if month_number is None:
            return None
        try:
            return datetime(
                year,
                month_number,
                int(parts["day"]),
                hour,
                int(parts["minute"] or 0),
                int(parts["second"] or 0),
            )
        except ValueError:
            return None
    return None


# ------------------------------------------------------------------------ grouping rows


class LineIds:
    """Line ids for files that have none: the SKU, then ``SKU#2``, ``SKU#3`` for repeats in
    the same order. Stable as long as the platform lists an order's items in the same order,
    which the reports do; a sync from the API uses the platform's own line ids instead."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def next(self, key: str) -> str:
        self._seen[key] += 1
        count = self._seen[key]
        line_id = key if count == 1 else f"{key}#{count}"
        limit = line_text_limit("external_line_id")
        if len(line_id) > limit:  # a very long SKU: a digest of it, still stable
            line_id = hashlib.sha256(line_id.encode()).hexdigest()[:limit]
        return line_id


def group_rows(rows: Iterable[Row], key_of: Callable[[list[str]], str]) -> dict[str, list[Row]]:
    """Rows by order key, in the order each key first appears ('' collects rows without)."""
    groups: dict[str, list[Row]] = {}
    for number, cells in rows:
        groups.setdefault(key_of(cells), []).append((number, cells))
    return groups


def build_orders(
    groups: dict[str, list[Row]],
    build: Callable[[str, list[Row], list[RowError]], NormalizedOrder | None],
    *,
    key_column: Column,
) -> ParseResult:
    """Call ``build`` for each order's rows; keep the orders it built without an error.

    An order with any error is rejected whole and counted once in ``failed``; every row of
    it that has an error is named. Rows without an order id belong to no order: each is one
    failure of its own.
    """
    result = ParseResult()
    for key, rows in groups.items():
        if not key:
            for number, _cells in rows:
                result.errors.append(
                    RowError(number, key_column.header, _("This cell is required."))
                )
                result.failed += 1
            continue
        errors: list[RowError] = []
        order = build(key, rows, errors)
        if errors or order is None:
            result.failed += 1
            result.errors.extend(errors)
        else:
            result.orders.append(order)
    result.errors.sort(key=lambda error: error.row)  # stable: one row's cells stay in order
    return result
