"""Order imports from report files: Amazon's All Orders report, Shopify's orders export, eBay's
orders report and Caravan's own template, as CSV/TSV or XLSX.

The page, the API and ``manage.py import_orders`` share ``order_import``. It reads the file
with ``erp.tabular`` (encodings, delimiters, size and row limits), finds the header row (eBay
puts a title line before it), detects the format from the header unless told, parses the rows
into ``NormalizedOrder`` objects with one parser per format, and hands the good orders to
``orders.services.orders_upsert``, the one idempotent upsert every source uses, so a file
re-imported changes nothing and an order imported from a file and later synced from the API
is one order.

What a seller can rely on:

- **Whole orders only.** An order with any bad cell is rejected whole (half an order would be
  allocated and shipped as if it were all of it) and every bad cell of it is listed; every
  other order is imported. ``failed`` counts rejected orders (a row without an order id is
  one on its own), in the same unit as ``created``/``updated``/``unchanged``; ``errors`` lists
  each bad cell: its row number, its column's header as written in the file, and why.
- **Row numbers** are the file's: for CSV/TSV the line on which the row starts (a buyer note
  with a line break makes the next row one line further down, as a text editor shows it;
  the same as the spreadsheet's row number until a cell spans lines), for XLSX the sheet's
  row number.
- **Times without a zone** (eBay's report, the template) are in the company's time zone,
  ``settings.TIME_ZONE``; Amazon's and Shopify's carry their offsets.
- **A file is refused whole**, with nothing written and an ``OrderImportError`` naming the
  problem, when it is too large (``IMPORT_MAX_UPLOAD_BYTES``) or has too many rows
  (``ORDER_IMPORT_MAX_ROWS``, default 300,000), cannot be read, matches no known format,
  lacks a required column (named), or is a platform's report for a store of another
  platform (an Amazon report into a Shopify store). The template fits any store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erp.models import User
from erp.tabular import TabularError, check_upload, read_table
from orders.imports import amazon, ebay, shopify, template
from orders.imports.common import OrderImportError, ParseResult, RowError, Sheet
from orders.models import OrderSource, Platform, Store
from orders.services import orders_upsert

__all__ = [
    "FORMATS",
    "FORMAT_CHOICES",
    "IMPORT_PERMISSION",
    "OrderImportError",
    "OrderImportResult",
    "RowError",
    "detect_format",
    "order_import",
    "parse_order_file",
]

FORMATS = ("amazon", "shopify", "ebay", "template")
# What the page and the API require (a file creates orders, as the order form does).
IMPORT_PERMISSION = "orders.import_order"
FORMAT_CHOICES = [
    ("amazon", gettext_lazy("Amazon All Orders report (TSV)")),
    ("shopify", gettext_lazy("Shopify orders export (CSV)")),
    ("ebay", gettext_lazy("eBay orders report (CSV)")),
    ("template", gettext_lazy("Caravan order template (CSV or XLSX)")),
]
# The platform whose stores a format's files belong to; the template belongs to any store.
FORMAT_PLATFORMS = {
    "amazon": Platform.AMAZON,
    "shopify": Platform.SHOPIFY,
    "ebay": Platform.EBAY,
}
_MATCHERS: dict[str, Callable[[list[str]], bool]] = {
    "amazon": amazon.matches,
    "shopify": shopify.matches,
    "ebay": ebay.matches,
    "template": template.matches,
}
_PARSERS: dict[str, Callable[..., ParseResult]] = {
    "amazon": amazon.parse,
    "shopify": shopify.parse,
    "ebay": ebay.parse,
    "template": template.parse,
}
DEFAULT_MAX_ROWS = 300_000  # overridable with settings.ORDER_IMPORT_MAX_ROWS (~150,000 orders)
# Rows looked at for the header: eBay's report has a blank or title line before it.
HEADER_SEARCH_ROWS = 10
# Orders per upsert call: large enough to be fast, small enough to keep one call's memory low.
UPSERT_CHUNK = 5000


@dataclass
class OrderImportResult:
    """What an import did: orders created, updated, unchanged (identical or stale resends) and
    failed (rejected whole), every bad cell, and the ids of the imported orders."""

    format: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """The counts as the command's last line and scripts read them."""
        return (
            f"created={self.created} updated={self.updated} "
            f"unchanged={self.unchanged} failed={self.failed}"
        )


def detect_format(header: Sequence[str]) -> str:
    """The format ('amazon', 'shopify', 'ebay' or 'template') whose columns a header row has.

    Raises ``OrderImportError`` when it matches none: a guess would read the wrong columns.
    """
    found = _format_of(list(header))
    if found is None:
        raise OrderImportError(
            _(
                "The file's columns are not those of an Amazon All Orders report, a Shopify "
                "orders export, an eBay orders report or the Caravan order template; nothing "
                "was imported."
            )
        )
    return found


def parse_order_file(
    *, store: Store, data: bytes, filename: str, format: str | None = None
) -> tuple[str, ParseResult]:
    """Read a report file into normalised orders without writing anything: the format read,
    the orders, every bad cell and how many orders are rejected. Raises ``OrderImportError``
    when the file is refused as a whole (see the module docstring)."""
    if format is not None and format not in FORMATS:
        raise OrderImportError(
            _("Unknown format “%(format)s”; use one of %(formats)s.")
            % {"format": format, "formats": ", ".join(FORMATS)}
        )
    try:
        check_upload(data=data, filename=filename)
        table = read_table(data, filename, max_rows=_max_rows())
    except TabularError as exc:
        raise OrderImportError(str(exc)) from exc
    found, index = _find_header(table.rows, format)
    _check_platform(store, found)
    header_row, header = table.rows[index]
    sheet = Sheet(header, header_row, table.rows[index + 1 :], table.may_have_controls)
    if not sheet.rows:
        raise OrderImportError(_("The file has a header but no data rows."))
    parsed = _PARSERS[found](sheet, store=store)
    if not parsed.orders and not parsed.failed:
        raise OrderImportError(_("The file has no orders; nothing was imported."))
    return found, parsed


def order_import(
    *,
    store: Store,
    data: bytes,
    filename: str,
    format: str | None = None,
    user: User | None = None,
) -> OrderImportResult:
    """Import the orders of a report file into ``store``; see the module docstring.

    ``format`` None detects it from the header. Raises ``OrderImportError`` (nothing written)
    when the file is refused as a whole; otherwise returns the counts and every bad cell.
    """
    found, parsed = parse_order_file(store=store, data=data, filename=filename, format=format)
    result = OrderImportResult(format=found, failed=parsed.failed, errors=parsed.errors)
    # One transaction for every chunk: an unexpected failure leaves nothing half-written.
    with transaction.atomic():
        for start in range(0, len(parsed.orders), UPSERT_CHUNK):
            upserted = orders_upsert(
                store=store,
                orders=parsed.orders[start : start + UPSERT_CHUNK],
                source=OrderSource.FILE,
                user=user,
            )
            result.created += upserted.created
            result.updated += upserted.updated
            result.unchanged += upserted.unchanged
            result.order_ids.extend(upserted.order_ids)
    return result


def _max_rows() -> int:
    return getattr(settings, "ORDER_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def _format_of(header: list[str]) -> str | None:
    return next((name for name, matches in _MATCHERS.items() if matches(header)), None)


def _find_header(rows: list[tuple[int, list[str]]], wanted: str | None) -> tuple[str, int]:
    """The format and the index of the header row among the first rows.

    With ``wanted`` given and no row matching it, the first row is taken as the header, so
    that the parser names the columns it lacks.
    """
    for index, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if wanted is not None:
            if _MATCHERS[wanted](cells):
                return wanted, index
        elif (found := _format_of(cells)) is not None:
            return found, index
    if wanted is not None:
        return wanted, 0
    return detect_format(rows[0][1]), 0  # no row matched: this raises, naming the formats


def _check_platform(store: Store, found: str) -> None:
    platform = FORMAT_PLATFORMS.get(found)
    if platform is not None and store.platform != platform:
        raise OrderImportError(
            _(
                "The file is from %(platform)s, but store %(store)s is on %(store_platform)s; "
                "choose the store the file came from, or use the Caravan order template."
            )
            % {
                "platform": Platform(platform).label,
                "store": store.code,
                "store_platform": store.get_platform_display(),
            }
        )
